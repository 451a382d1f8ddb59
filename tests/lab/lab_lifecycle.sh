#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The lab's life: two labs side by side, a port in use, a second start, status
# codes, a stop that ends exactly its own processes and leaves none behind,
# a restart after a crash, a stale pid file that must hit nobody.
. "$(dirname "$0")/lib.sh"
pw=lab-secret
msg=$(mktemp)
# Live pids among the arguments; a zombie (dead, not yet reaped by init) is
# not alive.
pids_alive() {
	local p
	for p in "$@"; do
		[ "$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)" = Z ] && continue
		kill -0 "$p" 2>/dev/null && echo "$p"
	done
}

t0=$(date +%s%N)
lab_start 24000 --domains one.test --users 2
a=$LAB_DIR a_sub=$LAB_SUBMISSION_PORT
t1=$(date +%s%N)
lab_start 25000 --domains two.test --users 2
b=$LAB_DIR
echo "figure: lab start $(( (t1 - t0) / 1000000 )) ms"

assert_ok "lab A status: running" "$MAILLAB" status "$a"
assert_ok "lab B status: running" "$MAILLAB" status "$b"
assert_eq 25587 "$LAB_SUBMISSION_PORT" "lab B's submission port follows its port base"
lab_message "$msg" user1@two.test user2@two.test b1@two.test "in lab B"
assert_ok "lab B delivers" lab_submit user1@two.test $pw user2@two.test "$msg"
assert_ok "lab B's mail arrives" "$MAILLAB" wait "$b" user2@two.test INBOX b1@two.test
eval "$("$MAILLAB" env "$a")"
lab_message "$msg" user1@one.test user2@one.test a1@one.test "in lab A"
assert_ok "lab A delivers at the same time" lab_submit user1@one.test $pw user2@one.test "$msg"
assert_ok "lab A's mail arrives" "$MAILLAB" wait "$a" user2@one.test INBOX a1@one.test
assert_eq "" "$("$MAILLAB" list "$b" user2@two.test | grep a1@ || true)" "labs do not share mail"
assert_fails "lab A does not know lab B's users" \
	lab_submit user1@two.test $pw user2@two.test "$msg"

# A port in use is a clear error and starts nothing.
c=$(mktemp -d /tmp/hearth-lab.XXXXXX); chmod 755 "$c"; _lab_dirs+=("$c")
out=$("$MAILLAB" start "$c" --port-base 24000 2>&1)
assert_eq 1 $? "start on a used port base fails"
assert_match "$out" 'port 24025 on 127.0.0.1 is in use' "and names the port"
assert_eq "" "$("$MAILLAB" procs "$c")" "and starts no process"
out=$("$MAILLAB" start "$a" --port-base 24000 2>&1)
assert_match "$out" 'already running' "a second start of a running lab is refused"
assert_ok "lab A still running" "$MAILLAB" status "$a"
assert_fails "a bad port base is refused" "$MAILLAB" start "$c" --port-base 123
assert_fails "a bad domain is refused" "$MAILLAB" start "$c" --port-base 26000 --domains 'x y'

# Stop ends exactly lab A's processes: all of them, none of lab B's.
a_pids=$("$MAILLAB" procs "$a")
b_pids=$("$MAILLAB" procs "$b")
assert_match "$a_pids" '^[0-9]+' "lab A has processes"
t0=$(date +%s%N)
assert_ok "stop lab A" "$MAILLAB" stop "$a"
echo "figure: lab stop $(( ($(date +%s%N) - t0) / 1000000 )) ms"
assert_eq "" "$("$MAILLAB" procs "$a")" "no process of lab A is left"
assert_eq "" "$(pids_alive $a_pids)" "every pid lab A had is gone"
assert_eq "$(echo $b_pids)" "$(echo $(pids_alive $b_pids))" "lab B's processes are untouched"
"$MAILLAB" status "$a" >/dev/null
assert_eq 3 $? "status of a stopped lab exits 3"
assert_fails "nothing listens on lab A's port" bash -c "exec 3<>/dev/tcp/127.0.0.1/$a_sub"

# A stale pid file that names another live process: stop must not touch it.
sleep 300 &
victim=$!
mkdir -p "$a/queue/pid" "$a/run"
echo "$victim" >"$a/queue/pid/master.pid"
echo "$victim" >"$a/run/master.pid"
assert_ok "stop with stale pid files" "$MAILLAB" stop "$a"
assert_eq "$victim" "$(pids_alive $victim)" "the process named by a stale pid file lives"
kill "$victim"

# A crash: every process of lab B killed, pid files and sockets left behind.
kill -KILL $b_pids
sleep 0.2
"$MAILLAB" status "$b" >/dev/null
assert_eq 3 $? "a crashed lab reports stopped"
assert_ok "start after a crash" "$MAILLAB" start "$b" --port-base 25000 --domains two.test --users 2
assert_ok "restarted lab runs" "$MAILLAB" status "$b"
assert_match "$("$MAILLAB" list "$b" user2@two.test INBOX)" b1@two.test "mail survives the crash"
lab_message "$msg" user1@two.test user2@two.test b2@two.test "after the crash"
eval "$("$MAILLAB" env "$b")"
assert_ok "restarted lab delivers" lab_submit user1@two.test $pw user2@two.test "$msg"
assert_ok "and the mail arrives" "$MAILLAB" wait "$b" user2@two.test INBOX b2@two.test
b_pids=$("$MAILLAB" procs "$b")
assert_ok "stop lab B" "$MAILLAB" stop "$b"
assert_eq "" "$(pids_alive $b_pids)" "every pid lab B had is gone"

# No system mail daemon was started: nothing on the standard ports.
for port in 25 143 465 587 993; do
	assert_fails "nothing listens on system port $port" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
done
rm -f "$msg"
assert_done
