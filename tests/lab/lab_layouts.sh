#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Folder layouts vary per domain, as they do between providers: the spam
# folder under another name, nested under a prefix, with or without the
# SPECIAL-USE attribute; cold mail is filed into whichever one a mailbox has.
. "$(dirname "$0")/lib.sh"
lab_start 23000 --domains std.test,gm.test,ms.test,ya.test,old.test,cold.test \
	--users 1 --layout gm.test=gmail --layout ms.test=outlook \
	--layout ya.test=yahoo --layout old.test=nouse --cold cold.test
dir=$LAB_DIR
pw=lab-secret
msg=$(mktemp)

# domain, spam folder, the LIST line expected for it, the list of folders.
check_layout() {
	local domain=$1 spam=$2 line=$3 folders=$4 list n=0
	list=$(lab_imap "user1@$domain" $pw "" 'LIST "" "*" RETURN (SPECIAL-USE)')
	assert_match "$list" "^\\* LIST $line\$" "$domain: spam folder listed as: $line"
	assert_eq "$folders" "$("$MAILLAB" folders "$dir" "user1@$domain" | sort | paste -sd,)" \
		"$domain: folders"
	lab_message "$msg" user1@cold.test "user1@$domain" "c-$domain@cold.test" "cold to $domain"
	assert_ok "$domain: cold mail accepted" lab_submit user1@cold.test $pw "user1@$domain" "$msg"
	assert_ok "$domain: cold mail filed in $spam" "$MAILLAB" wait "$dir" "user1@$domain" "$spam" "c-$domain@cold.test"
	assert_no_match "$("$MAILLAB" list "$dir" "user1@$domain" INBOX)" "c-$domain@" "$domain: not in INBOX"
}

check_layout std.test Junk '\(\\Junk\) "/" Junk' Archive,Drafts,INBOX,Junk,Sent,Trash
check_layout gm.test '[Gmail]/Spam' '\(\\Junk\) "/" "?\[Gmail\]/Spam"?' \
	'INBOX,[Gmail],[Gmail]/All Mail,[Gmail]/Sent Mail,[Gmail]/Spam,[Gmail]/Trash'
check_layout ms.test 'Junk Email' '\(\\Junk\) "/" "Junk Email"' \
	'Archive,Deleted Items,INBOX,Junk Email,Sent Items'
check_layout ya.test Bulk '\(\\Junk\) "/" Bulk' Archive,Bulk,INBOX,Sent,Trash
check_layout old.test Spam '\(\) "/" Spam' 'Deleted Messages,INBOX,Sent Messages,Spam'
list=$(lab_imap user1@old.test $pw "" 'LIST "" "*" RETURN (SPECIAL-USE)')
assert_no_match "$list" '\\(Junk|Sent|Trash)' "nouse layout shows no SPECIAL-USE attribute"

# A user added while the lab runs gets its domain's layout and can log in.
assert_ok "add-user while running" "$MAILLAB" add-user "$dir" new@gm.test n3w-pass
assert_match "$("$MAILLAB" folders "$dir" new@gm.test)" '\[Gmail\]/Spam' "new user has the gmail layout"
lab_message "$msg" user1@std.test new@gm.test n1@std.test "welcome"
assert_ok "mail to the new user accepted" lab_submit user1@std.test $pw new@gm.test "$msg"
assert_ok "new user receives mail" "$MAILLAB" wait "$dir" new@gm.test INBOX n1@std.test
assert_ok "new user logs in over IMAP" lab_imap new@gm.test n3w-pass "" CAPABILITY
assert_ok "add-user with a new domain and layout" "$MAILLAB" add-user "$dir" a@fresh.test pw2 outlook
assert_match "$("$MAILLAB" folders "$dir" a@fresh.test)" 'Junk Email' "new domain has its layout"
assert_fails "add-user refuses a bad address" "$MAILLAB" add-user "$dir" 'bad address' x
assert_fails "add-user refuses an unknown layout" "$MAILLAB" add-user "$dir" b@fresh2.test x lotus
rm -f "$msg"
assert_done
