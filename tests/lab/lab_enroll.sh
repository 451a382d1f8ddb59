#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Enrolling inboxes with the hearth command line against a real lab: init,
# clients and pools, inbox add with each secret source, probes that fail
# with a reason, CSV import with good, bad and hostile rows (run twice: the
# second run changes nothing), pause/resume/remove, and no password in the
# database or the output, ever.
. "$(dirname "$0")/lib.sh"
hearth=${HEARTH:?the hearth binary (set by ctest)}
lab_start 26000 --domains a.test,b.test,c.test --users 6 --layout b.test=gmail
pw=lab-secret
work=$(mktemp -d /tmp/hearth-enroll.XXXXXX)
_lab_dirs+=("$work")
chmod 700 "$work"
conf=$work/hearth.conf
cat >"$conf" <<EOF
[store]
data_dir = $work/data
[network]
ca_file = $LAB_CA
timeout = 10
workers = 4
EOF
h() { "$hearth" --config "$conf" "$@"; }
log=$work/output.log
# Everything the commands print goes to $out too: it must never hold a secret.
run() { "$hearth" --config "$conf" "$@" >>"$log" 2>&1; }

assert_ok "init" run init
assert_eq 600 "$(stat -c %a "$work/data/vault.key")" "the vault key file is 0600"
assert_eq 700 "$(stat -c %a "$work/data")" "the data directory is 0700"
assert_ok "init again changes nothing" run init
assert_ok "client add" run client add acme --display-name "ACME Corp"
assert_ok "pool add" run pool add agency
assert_fails "a duplicate client is refused" run client add acme
assert_match "$(h client list --json)" '"name": "acme"' "client list --json"
assert_match "$(h pool list)" '^agency' "pool list"

add() { # address [more options] < password
	local a=$1
	shift
	h inbox add "$a" --provider generic --smtp-host 127.0.0.1 \
		--smtp-port "$LAB_SUBMISSION_PORT" --smtp-security starttls \
		--imap-host 127.0.0.1 --imap-port "$LAB_IMAPS_PORT" \
		--imap-security tls --client acme --pool agency "$@"
}
echo $pw | add user1@a.test --password-stdin >>"$log" 2>&1
assert_eq 0 $? "inbox add with the password on stdin"
show=$(h inbox show user1@a.test --json)
assert_match "$show" '"spam_folder": "Junk"' "the probe found the spam folder"
assert_match "$show" '"smtp_sha256": "[0-9a-f]{64}"' "the SMTP certificate fingerprint is kept"
assert_match "$show" '"MOVE"' "capabilities are kept"
assert_match "$show" '"secret": "vault"' "the password is sealed in the vault"
echo $pw | add user1@a.test --password-stdin >>"$log" 2>&1
assert_eq 65 $? "a duplicate inbox is refused"
printf '%s\n' $pw >"$work/pw.txt"
add user1@b.test --password-command "cat $work/pw.txt" >>"$log" 2>&1
assert_eq 0 $? "inbox add with a password command"
assert_match "$(h inbox show user1@b.test --json)" '"spam_folder": "\[Gmail\]/Spam"' \
	"the Gmail-shaped layout's spam folder"
err=$(echo wrong-password | add user2@a.test --password-stdin 2>&1)
assert_eq 69 $? "a wrong password fails the probe"
assert_match "$err" 'login refused|authentication failed|Login denied|535' "and says the login was refused"
assert_match "$err" 'user name and password|app password' "with what to do"
assert_fails "and the inbox is not stored" h inbox show user2@a.test
err=$(echo $pw | h inbox add user3@a.test --provider generic --smtp-host 127.0.0.1 \
	--smtp-port $((LAB_PORT_BASE + 999)) --imap-host 127.0.0.1 \
	--imap-port "$LAB_IMAPS_PORT" --imap-security tls --password-stdin 2>&1)
assert_eq 69 $? "a server that is down fails the probe"
assert_match "$err" 'refused' "and says the connection was refused"
err=$(add user3@a.test --password-command "false" 2>&1)
assert_match "$err" 'exited with status 1' "a failing password command is reported"

# CSV import: good rows, bad rows, hostile rows, one at a time reported.
csv=$work/inboxes.csv
{
	echo "address,display_name,client,pool,provider,smtp_host,smtp_port,smtp_security,imap_host,imap_port,imap_security,password"
	row() { echo "$1,$2,acme,agency,generic,127.0.0.1,$LAB_SUBMISSION_PORT,starttls,127.0.0.1,$LAB_IMAPS_PORT,tls,$3"; }
	row user4@a.test "Plain Name" $pw
	row user5@a.test "\"Quoted, with comma and \"\"quotes\"\"\"" $pw
	row user2@c.test "\"Line one
line two\"" $pw
	row "x'; DROP TABLE inboxes;--@a.test" "SQL" $pw
	row user6@a.test "Wrong Password" not-the-password
	row user4@a.test "Duplicate" $pw
	row user3@c.test "$(head -c 5000 /dev/zero | tr '\0' x)" $pw
	printf 'user4@c.test,Caf\xe9 Latin-1,acme,agency,generic,127.0.0.1,%s,starttls,127.0.0.1,%s,tls,%s\n' \
		"$LAB_SUBMISSION_PORT" "$LAB_IMAPS_PORT" $pw
	row user5@c.test "Unbalanced \"quote" $pw
	echo "user6@c.test,too,few,fields"
	row user2@b.test "Good Again" $pw
	row user3@b.test "Down Server" $pw | sed "s/,$LAB_SUBMISSION_PORT,/,$((LAB_PORT_BASE + 998)),/"
} >"$csv"
chmod 644 "$csv"
err=$(h inbox import "$csv" 2>&1)
assert_eq 77 $? "a CSV with passwords readable by others is refused"
assert_match "$err" 'chmod 600' "and says how to fix it"
chmod 600 "$csv"
err=$(h inbox import "$csv" 2>&1)
assert_eq 65 $? "import with bad rows exits 65"
echo "$err" >>"$log"
assert_match "$err" '3 enrolled, 0 unchanged, 9 failed' "the good rows are enrolled, the bad counted"
assert_match "$err" "inboxes.csv:4: user2@c.test: .*control characters" "a name with a line break is refused"
assert_match "$err" "inboxes.csv:6: .*not an email address" "the SQL row is refused with its line"
assert_match "$err" "inboxes.csv:7: user6@a.test: .*(refused|failed|denied)" "the wrong password row, with its line"
assert_match "$err" "inboxes.csv:8: user4@a.test: .*also on line 2" "the duplicate row, with both lines"
assert_match "$err" "inboxes.csv:9:.*(too long|long)" "the over-long field"
assert_match "$err" "inboxes.csv:10:.*UTF-8" "the non-UTF-8 row"
assert_match "$err" "inboxes.csv:11:.*quote" "the unbalanced quote"
assert_match "$err" "inboxes.csv:12:.*fields" "the short row"
assert_match "$err" "inboxes.csv:14: user3@b.test: .*refused" "the server that is down"
list=$(h inbox list --client acme)
for a in user4@a.test user5@a.test user2@b.test; do
	assert_match "$list" "^$a" "$a enrolled from the file"
done
assert_match "$(h inbox show user5@a.test --json)" '"display_name": "Quoted, with comma and \\"quotes\\""' \
	"a quoted field with commas and quotes kept verbatim"
assert_fails "the row with a line break in the name is not enrolled" h inbox show user2@c.test
err=$(h inbox import "$csv" 2>&1)
assert_match "$err" '0 enrolled, 3 unchanged' "importing again changes nothing"

# Lifecycle.
assert_ok "pause" h inbox pause user4@a.test --reason "client asked"
assert_match "$(h inbox show user4@a.test)" 'paused: client asked' "paused with the reason"
assert_ok "resume" h inbox resume user4@a.test
assert_match "$(h inbox show user4@a.test)" 'state     active' "active again"
assert_match "$(h inbox test user1@a.test)" 'spam   Junk' "test probes again and prints what it found"
assert_ok "remove keeps history" h inbox remove user5@a.test
assert_no_match "$(h inbox list)" 'user5@a.test' "a removed inbox is not listed"
assert_ok "remove --purge" h inbox remove user4@a.test --purge
assert_fails "a purged inbox is gone" h inbox show user4@a.test

# A loose key file is refused.
chmod 644 "$work/data/vault.key"
err=$(h inbox test user1@a.test 2>&1)
assert_match "$err" 'chmod 600' "a vault key readable by others is refused"
chmod 600 "$work/data/vault.key"

# No password anywhere: database, its WAL, the output of every command.
rm -f "$work/pw.txt"
for f in "$work"/data/hearth.db* "$log"; do
	assert_fails "no password in $(basename "$f")" grep -aq -- "$pw" "$f"
done
assert_done
