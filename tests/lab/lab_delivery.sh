#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Mail through the lab: STARTTLS + AUTH submission lands in INBOX, mail from a
# cold domain lands in Junk, the cold list changes while the lab runs, and
# the IMAP side shows what the issue requires.
. "$(dirname "$0")/lib.sh"
lab_start 21000 --domains alpha.test,bravo.test,cold.test --users 2 \
	--cold cold.test
dir=$LAB_DIR
pw=lab-secret
msg=$(mktemp)

lab_message "$msg" user1@alpha.test user2@bravo.test d1@alpha.test "status update"
assert_ok "STARTTLS + AUTH submission accepted" lab_submit user1@alpha.test $pw user2@bravo.test "$msg"
assert_ok "warm mail arrives in INBOX" "$MAILLAB" wait "$dir" user2@bravo.test INBOX d1@alpha.test
assert_eq "" "$("$MAILLAB" list "$dir" user2@bravo.test Junk)" "nothing in Junk"

lab_message "$msg" user1@cold.test user1@alpha.test d2@cold.test "cold one"
assert_ok "SMTPS submission from a cold domain accepted" lab_submit_smtps user1@cold.test $pw user1@alpha.test "$msg"
assert_ok "cold mail arrives in Junk" "$MAILLAB" wait "$dir" user1@alpha.test Junk d2@cold.test
assert_no_match "$("$MAILLAB" list "$dir" user1@alpha.test INBOX)" d2@cold.test "cold mail not in INBOX"

# The list changes while the lab runs: new connections see it.
assert_ok "cold add" "$MAILLAB" cold "$dir" add alpha.test
lab_message "$msg" user2@alpha.test user1@bravo.test d3@alpha.test "now cold"
assert_ok "submission after cold add" lab_submit user2@alpha.test $pw user1@bravo.test "$msg"
assert_ok "newly cold domain lands in Junk" "$MAILLAB" wait "$dir" user1@bravo.test Junk d3@alpha.test
assert_ok "cold del" "$MAILLAB" cold "$dir" del alpha.test cold.test
assert_eq "" "$("$MAILLAB" cold "$dir" list)" "cold list empty after del"
lab_message "$msg" user1@cold.test user2@alpha.test d4@cold.test "warm again"
assert_ok "submission after cold del" lab_submit user1@cold.test $pw user2@alpha.test "$msg"
assert_ok "no longer cold: INBOX" "$MAILLAB" wait "$dir" user2@alpha.test INBOX d4@cold.test

# Inbound SMTP on the plain port, as another provider would deliver.
lab_message "$msg" someone@elsewhere.test user2@bravo.test d5@elsewhere.test inbound
assert_ok "plain inbound SMTP accepted for a lab user" curl -sS --max-time 20 \
	--url "smtp://127.0.0.1:$LAB_SMTP_PORT" --mail-from someone@elsewhere.test \
	--mail-rcpt user2@bravo.test -T "$msg"
assert_ok "inbound mail arrives" "$MAILLAB" wait "$dir" user2@bravo.test INBOX d5@elsewhere.test
assert_fails "outside recipient refused (nothing leaves the machine)" \
	lab_submit user1@alpha.test $pw someone@example.com "$msg"
assert_fails "unknown lab user refused" \
	lab_submit user1@alpha.test $pw nobody@bravo.test "$msg"
assert_fails "relay through the inbound port refused" curl -sS --max-time 20 \
	--url "smtp://127.0.0.1:$LAB_SMTP_PORT" --mail-from a@elsewhere.test \
	--mail-rcpt b@example.com -T "$msg"
assert_fails "sending as another user refused" \
	lab_submit user1@alpha.test $pw user2@bravo.test "$msg" --mail-from user2@alpha.test

# The IMAP side: capabilities, special-use folders, the message itself.
caps=$(lab_imap user2@bravo.test $pw "" CAPABILITY)
for c in MOVE UIDPLUS SPECIAL-USE IDLE; do
	assert_match "$caps" " $c( |\$)" "IMAP advertises $c"
done
list=$(lab_imap user2@bravo.test $pw "" 'LIST "" "*" RETURN (SPECIAL-USE)')
for f in Junk Sent Trash Archive; do
	assert_match "$list" "\\\\$f\\) \"/\" $f" "folder $f has \\$f"
done
uid=$(lab_imap user2@bravo.test $pw INBOX 'UID SEARCH HEADER Message-ID d1@alpha.test' | tr -dc '0-9')
assert_match "$uid" '^[0-9]+$' "IMAP SEARCH finds the message by Message-ID"
body=$(curl -sS --max-time 20 "imap://127.0.0.1:$LAB_IMAP_PORT/INBOX;UID=$uid" \
	--ssl-reqd --cacert "$LAB_CA" --user "user2@bravo.test:$pw")
assert_match "$body" '^Subject: status update' "IMAP FETCH returns the message"
assert_match "$body" 'Delivered-To: user2@bravo.test' "delivered over LMTP by Dovecot"
assert_no_match "$(cat "$dir/log/postfix.log")" 'warning: .*(DNS|dns)' "no DNS lookups attempted"
rm -f "$msg"
assert_done
