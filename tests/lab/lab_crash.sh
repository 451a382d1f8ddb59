#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The warmup loop survives being killed: `hearth simulate --days 3` against a
# real lab, killed with SIGKILL at random moments and started again with the
# same command, over and over, then run to completion. Then, from the server
# side and the store: nothing was delivered twice, nothing was lost (no
# exchange left sending, every planned one sent or failed with a reason),
# every sent exchange has its placement, the counts agree. Also: SIGTERM
# drains and exits in seconds, a later start completes; a second engine on
# the same database is refused while one runs, naming it; no process is
# left behind. The 8 inboxes ramp on the "fast" profile: enough work for
# three days to outlast ten kills.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 is not installed (run tools/setup)"
hearth=${HEARTH:?the hearth binary (set by ctest)}
cold=south.test
lab_start 15000 --domains north.test,$cold,east.test,west.test --users 2 \
	--layout east.test=gmail --layout west.test=outlook --cold $cold
work=$(mktemp -d /tmp/hearth-crash.XXXXXX)
_lab_dirs+=("$work")
chmod 700 "$work"
conf=$work/hearth.conf
db=$work/data/hearth.db
log=$work/engine.log
days=3
start=2026-12-07
kills_wanted=${CRASH_KILLS:-10}
cat >"$conf" <<EOF
[store]
data_dir = $work/data
[network]
ca_file = $LAB_CA
timeout = 10
per_host = 8
workers = 4
dns = $LAB_DNS
[checks]
dkim_selectors = $LAB_DKIM_SELECTOR
domain_lists = $LAB_DOMAIN_LIST
ip_lists = $LAB_IP_LIST
EOF
h() { "$hearth" --config "$conf" "$@"; }
q() { # SQL over the store, read-only; an error shows in the output
	sqlite3 -batch -cmd ".timeout 5000" "file:$db?mode=ro" "$1" 2>&1 ||
		echo "(sqlite3 failed)"
}
h --quiet init && h --quiet client add north && h --quiet client add east &&
	h --quiet pool add crash --seed 99
{
	echo "address,client,pool,provider,smtp_host,smtp_port,smtp_security,imap_host,imap_port,imap_security,password,ramp_profile"
	for dom in north.test $cold east.test west.test; do
		c=north
		case $dom in east.test | west.test) c=east ;; esac
		for u in 1 2; do
			echo "user$u@$dom,$c,crash,generic,127.0.0.1,$LAB_SUBMISSION_PORT,starttls,127.0.0.1,$LAB_IMAPS_PORT,tls,lab-secret,fast"
		done
	done
} >"$work/inboxes.csv"
chmod 600 "$work/inboxes.csv"
assert_match "$(h inbox import "$work/inboxes.csv" 2>&1)" '8 enrolled, 0 unchanged, 0 failed' \
	"8 inboxes enrolled"

# The same command every time.
sim=("$hearth" --config "$conf" simulate --days "$days" --start "$start" --log "$log")
runs=0
pid=
start_engine() { # in the background; its output in $work/run.N.{out,err}
	runs=$((runs + 1))
	"${sim[@]}" >"$work/run.$runs.out" 2>"$work/run.$runs.err" &
	pid=$!
}
engine_procs() { pgrep -f -- "--config $conf" || true; }
# Wait until no process of this test's engine is left (the workers die with
# their engine: PDEATHSIG); 0 when none is left within 5 s.
procs_gone() {
	for _ in $(seq 50); do
		[ -z "$(engine_procs)" ] && return 0
		sleep 0.1
	done
	return 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
clock() { q "SELECT value FROM settings WHERE key = 'simulate.clock'"; }

# Kill, restart, kill... Run N is killed with SIGKILL a random 0.3-2.5 s
# after it started, once its saved clock has reached N x 4.5 hours into the
# simulation (waiting at most 6 s for that), and then only after another
# random 0-0.5 s; but at once, from 0.3 s on, when its clock has passed
# N x 5.5 hours. Without the first mark the kills would all fall on the
# first hours: a restart that finds exchanges "sending" looks for each in
# its recipient's mailbox first, in a simulation a look for a message that
# was never delivered waits 5 s of real time (three looks before a resend),
# and the saved clock moves only when no job runs, so an engine killed every
# 0.3-2.5 s hardly moves. Without the second the kills would run out of
# simulation: a fast machine simulates a day in 2 s. The 10th kill falls
# near 55 hours in (or after the night that follows), and the three days
# are not over before it.
t0=$(now_ms)
sim_start=$(date -u -d "$start" +%s)
kills=0 leftovers=0 completed_early=0 sending_at_kill=0 slow=0
while [ $kills -lt "$kills_wanted" ]; do
	start_engine
	run_t0=$(now_ms)
	if [ $runs -eq 1 ]; then
		# A second engine on the same database is refused while one runs.
		for _ in $(seq 100); do
			[ "$(cat "$db.lock" 2>/dev/null)" = "$pid" ] && break
			sleep 0.05
		done
		assert_eq "$pid" "$(cat "$db.lock" 2>/dev/null)" "the engine holds the lock with its pid"
		err=$(timeout 30 "${sim[@]}" 2>&1)
		rc=$?
		assert_eq 75 $rc "a second engine on the same database is refused (exit 75)"
		assert_match "$err" "another engine \(pid $pid\) runs on $db" \
			"and names the engine that runs"
		assert_ok "the first engine still runs" kill -0 $pid
	fi
	rand_ms=$((300 + RANDOM % 2201))
	lo=$((sim_start + runs * 9 * 1800))
	hi=$((sim_start + runs * 11 * 1800))
	el=0 late=0
	while kill -0 $pid 2>/dev/null; do
		el=$(($(now_ms) - run_t0))
		c=$(clock)
		[[ $c =~ ^[0-9]+$ ]] || c=0
		if [ $el -ge 300 ] && [ "$c" -ge $hi ]; then
			late=1
			break
		fi
		if [ $el -ge $rand_ms ]; then
			[ "$c" -lt $lo ] || break
			[ $el -lt 6000 ] || { slow=$((slow + 1)); break; }
		fi
		sleep 0.05
	done
	[ $late -eq 1 ] || [ $el -le $((rand_ms + 100)) ] ||
		sleep "0.$(printf %03d $((RANDOM % 500)))"
	if [ $runs -eq 5 ]; then
		# SIGTERM: drain, exit within seconds, 0 or 75.
		kill -TERM $pid 2>/dev/null
		t=$(now_ms)
		for _ in $(seq 300); do
			kill -0 $pid 2>/dev/null || break
			sleep 0.05
		done
		if kill -0 $pid 2>/dev/null; then
			kill -KILL $pid
			wait $pid
			assert_eq "exited" "still running after 15 s" "SIGTERM: the engine exits within seconds"
		else
			wait $pid
			rc=$?
			ms=$(($(now_ms) - t))
			echo "        SIGTERM (run $runs): exit $rc after $ms ms, clock $(date -u \
				-d "@$(clock)" '+%F %T')"
			assert_match "$rc" '^(0|75)$' "SIGTERM: the engine drains and exits 0 or 75 (got $rc)"
			assert_match "$ms" '^[0-9]{1,4}$' "SIGTERM: within 10 s ($ms ms)"
			assert_match "$(cat "$work/run.$runs.out")" 'complete=[01]$' \
				"SIGTERM: it prints its summary"
			[ $rc -ne 0 ] || completed_early=1
		fi
		procs_gone || leftovers=$((leftovers + 1))
		[ $completed_early -eq 0 ] || break
		continue
	fi
	if ! kill -0 $pid 2>/dev/null; then
		# it finished before the kill: the simulation is over too early
		wait $pid
		echo "        run $runs ended by itself (exit $?): $(cat "$work/run.$runs.out")"
		completed_early=1
		break
	fi
	kill -KILL $pid
	wait $pid 2>/dev/null
	kills=$((kills + 1))
	procs_gone || leftovers=$((leftovers + 1))
	n=$(q "SELECT count(*) FROM exchanges WHERE state = 'sending'")
	[ "$n" = 0 ] || sending_at_kill=$((sending_at_kill + 1))
	echo "        kill $kills (run $runs) after $(($(now_ms) - run_t0)) ms: clock" \
		"$(date -u -d "@$(clock)" '+%F %T'), sent $(q "SELECT count(*)
		FROM exchanges WHERE state = 'sent'"), sending $n"
done
assert_eq 0 $completed_early "the simulation was still running at each of $kills_wanted kills"
assert_eq "$kills_wanted" $kills "killed with SIGKILL $kills_wanted times"
assert_eq 0 $leftovers "no worker outlived its engine"
echo "        $sending_at_kill of $kills kills left exchanges sending;" \
	"$slow runs were killed before their clock reached its mark (6 s)"

# Then to completion, with the same command (unless it completed already:
# the same command would then simulate three more days).
if [ $completed_early -eq 0 ]; then
	out=$(timeout 600 "${sim[@]}" 2>"$work/final.err")
	rc=$?
else
	out=$(cat "$work/run.$runs.out")
	rc=0
fi
echo "$out"
echo "        $runs runs in $(($(now_ms) - t0)) ms"
assert_eq 0 $rc "the last run completes (exit 0)"
assert_match "$out" "^simulated days=[0-9]+ .* complete=1$" "and says complete=1"
assert_eq "" "$(engine_procs)" "no engine process is left"

# ---- nothing lost ----
until=$(q "SELECT value FROM settings WHERE key = 'simulate.until'")
assert_eq "$(date -u -d "$start +$days days" +%s)" "$until" \
	"the simulation ran until the end of day $days, as planned at the first start"
q "SELECT state, count(*) FROM exchanges GROUP BY 1" | sed 's/^/        exchanges /'
assert_eq 0 "$(q "SELECT count(*) FROM exchanges WHERE state = 'sending'")" \
	"no exchange is left sending"
assert_eq "" "$(q "SELECT id || ' planned at ' || planned_at || ' depth ' ||
	depth FROM exchanges WHERE state = 'planned' AND (planned_at < $until
	OR parent_exchange_id IS NULL) LIMIT 10")" \
	"every exchange due was sent or failed (planned: only replies after the end)"
nfailed=$(q "SELECT count(*) FROM exchanges WHERE state = 'failed'")
echo "        $nfailed failed"
q "SELECT '        failed ' || count(*) || 'x: ' || coalesce(error, '(no reason)')
	FROM exchanges WHERE state = 'failed' GROUP BY error"
assert_eq 0 "$(q "SELECT count(*) FROM exchanges WHERE state = 'failed'
	AND coalesce(error, '') = ''")" "every failure has a reason"
assert_eq 0 "$nfailed" "no exchange failed (virtual time: none is ever late)"
assert_eq "" "$(q "SELECT id || ': ' || coalesce(placement, 'no placement')
	FROM exchanges WHERE state = 'sent' AND (placement IS NULL OR
	placement NOT IN ('inbox', 'spam')) LIMIT 10")" \
	"every sent exchange has its placement, inbox or spam"
# The lab files the cold domain's mail in spam, every other in INBOX: a
# placement is what the server did, whenever the engine was killed.
wrong="FROM exchanges e JOIN inboxes s ON s.id = e.sender_inbox_id
	JOIN inboxes r ON r.id = e.recipient_inbox_id
	JOIN domains d ON d.id = s.domain_id WHERE e.state = 'sent' AND
	e.placement <> CASE d.name WHEN '$cold' THEN 'spam' ELSE 'inbox' END"
assert_eq "" "$(q "SELECT 'exchange ' || e.id || ' ' || s.address || ' -> ' ||
	r.address || ': placement ' || e.placement || ' folder ' || e.folder ||
	' rescued ' || e.rescued || ' located by ' || coalesce(e.locate_method, '-')
	|| ', sent at ' || datetime(e.sent_at, 'unixepoch') || ', engaged at ' ||
	datetime(e.engaged_at, 'unixepoch') $wrong LIMIT 10")" \
	"the cold domain's placements are spam, the others' inbox"
# Evidence when not: where the lab delivered those messages, and the
# recipients' IMAP sessions that a kill cut short.
for x in $(q "SELECT e.id || '/' || trim(e.message_id, '<>') || '/' ||
	r.address $wrong LIMIT 3"); do
	echo "        exchange ${x%%/*}: the lab's log:"
	mid=${x#*/}
	mid=${mid%/*}
	grep -F -- "$mid" "$LAB_DIR/log/dovecot.log" | sed 's/^/          /'
	grep -F -- "imap(${x##*/})" "$LAB_DIR/log/dovecot.log" |
		grep -F 'Connection closed (UID' | sed 's/^/          /'
	grep -E "exchange=${x%%/*} " "$log" | sed 's/^/          /'
done
assert_eq $days "$(q "SELECT count(*) FROM plan_days")" "each day planned once"
assert_eq "" "$(q "SELECT p.day || ': plan_days says ' || p.sends || ', first messages '
	|| (SELECT count(*) FROM exchanges e WHERE e.day = p.day AND e.depth = 0)
	FROM plan_days p WHERE p.sends <> (SELECT count(*) FROM exchanges e
	WHERE e.day = p.day AND e.depth = 0)")" \
	"no day was planned twice: its first messages are what its plan says"

# ---- no duplicates: the server side ----
hdr=$(q "SELECT value FROM settings WHERE key = 'token_header'")
ix=$work/mail.db
lab_mail_index "$ix" "$hdr"
lab_check_exactly_once "$ix" "$db"
nsent=$(q "SELECT count(*) FROM exchanges WHERE state = 'sent'")
assert_eq "$nsent" "$(lab_sql "$ix" "$db" "SELECT count(DISTINCT m.token)
	FROM mail m JOIN h.inboxes i ON i.address = m.address
	WHERE m.folder IS NOT i.sent_folder")" \
	"the recipients hold as many messages as exchanges were sent ($nsent)"
assert_eq "" "$(lab_sql "$ix" "$db" "SELECT 'exchange ' || e.id || ': in ' ||
	r.address || ' ' || m.folder || ' flags ' || m.flags FROM h.exchanges e
	JOIN h.inboxes r ON r.id = e.recipient_inbox_id JOIN mail m
	ON m.token = e.token AND m.address = r.address
	AND m.folder IS NOT r.sent_folder WHERE e.state = 'sent' AND NOT
	(m.folder IN ('INBOX', coalesce(r.archive_folder, '')) AND
	m.flags LIKE '%S%' AND m.flags LIKE '%F%') LIMIT 10")" \
	"on the server every message is out of spam, in INBOX (or archived), seen and flagged"

# ---- the counts agree ----
counts="SELECT sender_inbox_id AS i, day AS d, count(*) AS planned,
	sum(state = 'sent') AS sent, coalesce(sum(placement = 'inbox'), 0) AS inbox,
	coalesce(sum(placement = 'spam'), 0) AS spam, sum(rescued) AS rescued,
	sum(state = 'failed') AS failed FROM exchanges GROUP BY 1, 2"
assert_eq "" "$(q "SELECT 'inbox ' || r.inbox_id || ' ' || r.day || ': row ' ||
	r.planned || '/' || r.sent || '/' || r.inbox || '/' || r.spam || '/' ||
	r.rescued || '/' || r.failed || ' exchanges ' || c.planned || '/' ||
	c.sent || '/' || c.inbox || '/' || c.spam || '/' || c.rescued || '/' ||
	c.failed FROM ramp_days r JOIN ($counts) c ON c.i = r.inbox_id
	AND c.d = r.day WHERE (r.planned, r.sent, r.inbox, r.spam, r.rescued,
	r.failed) IS NOT (c.planned, c.sent, c.inbox, c.spam, c.rescued,
	c.failed) LIMIT 10")" \
	"per sender and day the ramp day row counts what its exchanges say (planned/sent/inbox/spam/rescued/failed)"
assert_eq "$nsent" "$(q "SELECT sum(sent) FROM ramp_days")" \
	"the ramp days' sent add up to the sent exchanges"

[ "$_assert_fail" -eq 0 ] || {
	echo "engine log: $log (LAB_KEEP=1 keeps it)"
	grep -E ' (warn|error) ' "$log" | grep -v ' warn planner ' | head -20
}
assert_done
