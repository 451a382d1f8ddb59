#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The reputation model of `maillab start --reputation`: a cold domain's mail
# lands mostly in Junk; moving it out of Junk into INBOX over IMAP reaches
# the policy service through Dovecot's IMAPSieve, the domain's reputation
# rises in `maillab status`, a reply counts too, and later mail lands in
# INBOX more often. The draws are seeded, so the run is reproducible.
# `maillab stop` leaves no process, the policy service included.
. "$(dirname "$0")/lib.sh"
lab_start 17000 --domains alpha.test,cold.test --users 2 --cold cold.test \
	--reputation --seed 7
dir=$LAB_DIR
pw=lab-secret
msg=$(mktemp)
n=20

rep_line() { "$MAILLAB" status "$dir" | awk -v d="$1" '$1 == "reputation" && $2 == d'; }
rep_of() { rep_line "$1" | awk '{ print $3 }'; }
# wait_count ADDR TEXT COUNT: until COUNT messages whose line has TEXT exist
wait_count() {
	local i
	for ((i = 0; i < 150; i++)); do
		[ "$("$MAILLAB" list "$dir" "$1" | grep -cF -- "$2")" -ge "$3" ] && return 0
		sleep 0.1
	done
	return 1
}
send_batch() { # tag
	local i
	for ((i = 1; i <= n; i++)); do
		lab_message "$msg" user1@cold.test user1@alpha.test "$1-$i@cold.test" "$1 $i"
		lab_submit user1@cold.test $pw user1@alpha.test "$msg" || return 1
	done
}
junk_of() { "$MAILLAB" list "$dir" user1@alpha.test Junk | grep -c "<$1-"; }

assert_match "$("$MAILLAB" status "$dir")" 'policy +[0-9]+ \(seed 7' "status shows the policy service"
assert_ok "first batch from the cold domain accepted" send_batch a
assert_ok "first batch delivered" wait_count user1@alpha.test "<a-" $n
j1=$(junk_of a)
echo "# first batch: $j1 of $n in Junk"
assert_ok "most of the cold domain's mail is in Junk ($j1 of $n)" test "$j1" -gt $((n / 2))
assert_eq 0.2000 "$(rep_of cold.test)" "a cold domain starts at reputation 0.2"
assert_match "$(rep_line cold.test)" "messages $n junk $j1 ham 0 " "status counts its messages"

# The recipient rescues every one of them: IMAP UID MOVE out of Junk.
out=$(lab_imap user1@alpha.test $pw Junk 'UID MOVE 1:* INBOX')
assert_match "$out" 'Moved UIDs' "UID MOVE out of Junk"
want=$(awk -v j="$j1" 'BEGIN { printf "%.4f", 0.2 + 0.03 * j }')
for ((i = 0; i < 50; i++)); do
	[ "$(rep_of cold.test)" = "$want" ] && break
	sleep 0.1
done
assert_eq "$want" "$(rep_of cold.test)" "each rescued message raised the reputation by 0.03"
assert_match "$(rep_line cold.test)" "ham $j1 " "IMAPSieve reported $j1 moves"

# A reply to the cold domain counts for it.
lab_message "$msg" user1@alpha.test user1@cold.test r1@alpha.test "Re: a 1"
assert_ok "reply sent" lab_submit user1@alpha.test $pw user1@cold.test "$msg"
assert_ok "reply delivered" wait_count user1@cold.test r1@alpha.test 1
assert_match "$(rep_line cold.test)" " replies 1 " "the reply is counted"
want2=$(awk -v w="$want" 'BEGIN { printf "%.4f", w + 0.02 }')
assert_eq "$want2" "$(rep_of cold.test)" "and raised the reputation by 0.02"

assert_ok "second batch accepted" send_batch b
assert_ok "second batch delivered" wait_count user1@alpha.test "<b-" $n
j2=$(junk_of b)
echo "# second batch: $j2 of $n in Junk (first $j1)"
assert_ok "later mail lands in INBOX more often ($j2 < $j1 in Junk)" test "$j2" -lt "$j1"
assert_match "$(cat "$dir/policy/state")" "cold.test $want2 $((2 * n)) " "state file holds the domain"

# A bounce: mail to a user the lab's domain does not have is refused, and
# costs the sender's domain 0.1.
before=$(rep_of cold.test)
lab_message "$msg" user1@cold.test nobody@alpha.test bounce1@cold.test "to nobody"
assert_fails "mail to an unknown user is refused" lab_submit user1@cold.test $pw nobody@alpha.test "$msg"
want=$(awk -v r="$before" 'BEGIN { r -= 0.1; if (r < 0.05) r = 0.05; printf "%.4f", r }')
assert_eq "$want" "$(rep_of cold.test)" "a bounce lowered the reputation by 0.1 ($before to $want)"

pid=$(cat "$dir/run/policy.pid")
assert_ok "stop" "$MAILLAB" stop "$dir"
assert_eq "" "$("$MAILLAB" procs "$dir")" "no process of the lab is left"
# Gone or a zombie (dead, its reaper, pid 1 here, not yet done).
running() { [ -d "/proc/$1" ] && ! awk '{ exit $3 == "Z" ? 0 : 1 }' "/proc/$1/stat" 2>/dev/null; }
assert_fails "the policy service is gone" running "$pid"
assert_fails "and its socket" test -e "$dir/policy/sock"
assert_done
