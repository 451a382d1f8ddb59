#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench_loop: the warmup loop's throughput end to end (SEND + ENGAGE) against
# the real mail lab, at 1, 4 and 8 workers, beside the lab's own ceiling
# measured in the same run, with the CPU each side used. The goal is that the
# lab, not hearth, is the limit; the last line says which it was, from the
# figures.
#
# One lab (5 domains x 4 users, one cold; sink users for the ceilings). For
# each worker count: a fresh hearth data directory, the same 20 inboxes
# imported from a CSV (ramp profile fast) into a pool of seed 1 (so every run
# has the same plan), then
#   hearth simulate --days D --start 2026-12-07 --seed 1 --workers W
# and its summary line. The lab's mailboxes are emptied between runs, so every
# run starts from the same state.
#
# Ceilings (the lab alone, no hearth):
#   smtp   Postfix's smtp-source, plain SMTP on the lab's port 25 (no TLS, no
#          AUTH), S sessions in parallel, timed until every message is in its
#          Maildir: the most the lab's delivery path (smtpd, cleanup, qmgr,
#          LMTP, Dovecot, Sieve) can take.
#   submit curl, one message per session with STARTTLS + AUTH on the
#          submission port, as hearth's SEND does, S loops in parallel, timed
#          until delivered.
#   imap   curl, one IMAPS session a time (TLS, LOGIN, SELECT, SEARCH, LOGOUT),
#          as hearth's ENGAGE does at least, S loops in parallel.
# curl starts one process per session: those two ceilings include its cost,
# so they are lower bounds of what the lab can do with a lighter client.
# One exchange of hearth costs the lab three TLS logins: the SMTP submission,
# an IMAP APPEND of the Sent copy, and the recipient's ENGAGE session.
#
# CPU: hearth reports its own (engine process, workers); the lab's daemons
# are measured from /proc (their masters count every reaped child); the
# machine's from /proc/stat. Process CPU is in % of one core; the machine's
# in % of all its cores. "other" is whatever else ran on the machine: on a
# shared machine it can swamp the figures, and the verdict then says so.
# The verdict: the lab is the limit when the machine is saturated and the
# lab's daemons use more of it than hearth; hearth is when its engine fills
# a core, when hearth uses more than the lab, or when the machine has CPU to
# spare at the largest worker count. The ceiling of the lab for hearth's
# own workload is estimated from the same run: ops/s x cores / lab CPU.
#
# Usage: tests/bench/bench_loop.sh [options]   (root: the lab needs it)
#   --hearth PATH      the hearth binary (default build/default/tools/hearth/hearth)
#   --workers "1 4 8"  the worker counts to run
#   --days N           simulated days per run (default 2)
#   --port-base N      the lab's port base (default $BENCH_LOOP_PORT_BASE, else 16000)
#   --messages N       smtp-source ceiling: messages (default 2000)
#   --sessions N       ceilings: parallel sessions (default 8)
#   --tls-sessions N   curl ceilings: sessions per kind (default 200)
#   --max-failed N     failed sends tolerated per run (default 3)
#   --keep             keep the temporary directory (logs); the lab is
#                      stopped all the same
# Each run's engine log (key=value lines) is DIR/wN/engine.log.
# Exit: 0 all runs complete; 1 a run failed or was incomplete; 77 skipped.
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
hearth=$root/build/default/tools/hearth/hearth
maillab=$root/tools/maillab
workers_list="1 4 8"
days=2
port_base=${BENCH_LOOP_PORT_BASE:-16000}
ceil_msgs=2000
ceil_sessions=8
tls_sessions=200
max_failed=3
keep=
start_date=2026-12-07
password='lab-secret'
domains="alpha.test bravo.test charlie.test delta.test cold.test"
users_per_domain=4

usage() {
	sed -n '/^# Usage:/,/^# Exit:/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--hearth) hearth=${2:?}; shift 2 ;;
	--workers) workers_list=${2:?}; shift 2 ;;
	--days) days=${2:?}; shift 2 ;;
	--port-base) port_base=${2:?}; shift 2 ;;
	--messages) ceil_msgs=${2:?}; shift 2 ;;
	--sessions) ceil_sessions=${2:?}; shift 2 ;;
	--tls-sessions) tls_sessions=${2:?}; shift 2 ;;
	--max-failed) max_failed=${2:?}; shift 2 ;;
	--keep) keep=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 64 ;;
	esac
done
for v in "$days" "$port_base" "$ceil_msgs" "$ceil_sessions" "$tls_sessions" "$max_failed"; do
	[[ $v =~ ^[0-9]+$ ]] || { echo "bench_loop: '$v' is not a number" >&2; exit 64; }
done
for w in $workers_list; do
	[[ $w =~ ^[1-9][0-9]*$ ]] || { echo "bench_loop: bad worker count '$w'" >&2; exit 64; }
done
((ceil_sessions >= 1 && ceil_msgs >= ceil_sessions && tls_sessions >= ceil_sessions)) ||
	{ echo "bench_loop: need --messages and --tls-sessions >= --sessions >= 1" >&2; exit 64; }

skip() {
	echo "bench_loop: skipped: $*"
	exit 77
}
die() {
	echo "bench_loop: $*" >&2
	exit 1
}
[ "$(id -u)" -eq 0 ] || skip "the mail lab needs root to start Postfix and Dovecot"
command -v postfix >/dev/null && command -v dovecot >/dev/null ||
	skip "Postfix and Dovecot are not installed (run tools/setup)"
command -v smtp-source >/dev/null || skip "smtp-source (package postfix) is not installed"
command -v curl >/dev/null || skip "curl is not installed (run tools/setup)"
[ -x "$hearth" ] || die "$hearth: no hearth binary (cmake --build --preset default --target hearth)"

ncpu=$(getconf _NPROCESSORS_ONLN)
hz=$(getconf CLK_TCK)

# ---- clean-up, whatever happens ------------------------------------------
tmp=
lab=
sim_pid=
pids=() # the ceilings' clients (smtp-source, curl loops) while they run
cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	if [ -n "$sim_pid" ] && kill -0 "$sim_pid" 2>/dev/null; then
		# twice: the first drains, the second stops at once
		kill -TERM "$sim_pid" 2>/dev/null || true
		sleep 1
		kill -TERM "$sim_pid" 2>/dev/null || true
		wait "$sim_pid" 2>/dev/null || true
	fi
	if [ -n "$lab" ]; then
		"$maillab" stop "$lab" >/dev/null 2>&1 ||
			echo "bench_loop: could not stop the lab in $lab" >&2
	fi
	if [ -n "$tmp" ]; then
		if [ -n "$keep" ]; then
			echo "bench_loop: kept $tmp (the lab is stopped)"
		else
			rm -rf "$tmp"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The daemons must traverse the lab's directory: 0755, under /tmp.
tmp=$(mktemp -d /tmp/hearth-bench-loop.XXXXXX)
chmod 755 "$tmp"
# One copy of the binary for every run: a rebuild meanwhile changes nothing.
cp "$hearth" "$tmp/hearth"
hearth=$tmp/hearth

# ---- measuring -------------------------------------------------------------
now() { date +%s.%N; }

# "busy total" jiffies of the whole machine (iowait counts as idle)
machine_cpu() {
	awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i;
		print t - $5 - $6, t; exit }' /proc/stat
}

# CPU seconds of the lab's daemons so far: every live lab process, plus what
# the masters (Postfix's, Dovecot's) collected from the children they reaped.
lab_cpu() {
	local pid sum=0 t
	for pid in $("$maillab" procs "$lab"); do
		# after the ")" of the command name: state is field 1, utime 12
		t=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null |
			awk '{ print $12 + $13 + $14 + $15 }') || continue
		sum=$((sum + ${t:-0}))
	done
	awk -v s="$sum" -v hz="$hz" 'BEGIN { printf "%.2f", s / hz }'
}

# Messages in the Maildirs under DIR (every folder).
maildir_count() {
	find "$1" -type f \( -path '*/new/*' -o -path '*/cur/*' \) 2>/dev/null | wc -l
}

# Wait until DIR holds at least N messages; fails after SECONDS.
wait_count() { # dir n seconds
	local deadline=$((SECONDS + $3))
	while [ "$(maildir_count "$1")" -lt "$2" ]; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.05
	done
}

# Snapshots around a measured section: mark NAME, then measure NAME prints
# "elapsed machine_busy_pct lab_cpu_s machine_busy_core_s".
declare -A mark_t mark_busy mark_total mark_lab
mark() {
	local b t
	mark_lab[$1]=$(lab_cpu)
	read -r b t < <(machine_cpu)
	mark_busy[$1]=$b
	mark_total[$1]=$t
	mark_t[$1]=$(now)
}
measure() {
	local t1 b t l
	t1=$(now)
	read -r b t < <(machine_cpu)
	l=$(lab_cpu)
	awk -v t0="${mark_t[$1]}" -v t1="$t1" -v b0="${mark_busy[$1]}" -v b1="$b" \
		-v a0="${mark_total[$1]}" -v a1="$t" -v l0="${mark_lab[$1]}" -v l1="$l" \
		-v hz="$hz" 'BEGIN {
			busy = b1 - b0; all = a1 - a0
			pct = all > 0 ? 100 * busy / all : 0
			printf "%.3f %.1f %.2f %.2f\n", t1 - t0, pct, l1 - l0, busy / hz }'
}

# ---- the lab -----------------------------------------------------------------
lab=$tmp/lab
mkdir -m 755 "$lab"
lab_args=(--port-base "$port_base" --domains "$(tr ' ' , <<<"$domains")"
	--users "$users_per_domain" --password "$password"
	--layout bravo.test=gmail --layout charlie.test=outlook
	--layout delta.test=yahoo --cold cold.test)
for i in $(seq "$ceil_sessions"); do
	lab_args+=(--user "sink$i@sink.test=$password" --user "tls$i@sink.test=$password")
done
echo "bench_loop: starting the lab on port base $port_base ($ncpu CPU cores here)"
if ! "$maillab" start "$lab" "${lab_args[@]}" >"$tmp/maillab.log" 2>&1; then
	cat "$tmp/maillab.log" >&2
	die "the lab did not start (another lab on port base $port_base? try --port-base)"
fi
eval "$("$maillab" env "$lab")"
# The pool's mailboxes are emptied between runs (the sinks are not in it).
doveadm_() { doveadm -c "$lab/dovecot/dovecot.conf" "$@"; }
empty_pool_mailboxes() {
	local d u
	for d in $domains; do
		for u in $(seq "$users_per_domain"); do
			doveadm_ expunge -u "user$u@$d" mailbox '*' all ||
				die "could not empty user$u@$d"
		done
	done
}

# ---- the machine at rest ---------------------------------------------------
# Whatever else runs here competes with the lab and hearth: say how much.
idle_probe() {
	local b0 t0 b1 t1
	read -r b0 t0 < <(machine_cpu)
	sleep 3
	read -r b1 t1 < <(machine_cpu)
	awk -v b="$((b1 - b0))" -v t="$((t1 - t0))" 'BEGIN { p = t > 0 ? 100 * b / t : 0; printf "%.0f", p }'
}
idle_before=$(idle_probe)

# ---- ceiling 1: smtp-source, plain SMTP ----------------------------------
echo "bench_loop: lab ceiling: smtp-source, $ceil_msgs messages in $ceil_sessions sessions"
sink=$lab/mail/sink.test
base=$(maildir_count "$sink")
mark smtp
pids=()
for i in $(seq "$ceil_sessions"); do
	n=$((ceil_msgs / ceil_sessions + (i <= ceil_msgs % ceil_sessions ? 1 : 0)))
	smtp-source -4 -s 1 -m "$n" -l 2048 -f "bench@alpha.test" \
		-t "sink$i@sink.test" -S "lab ceiling" -M bench.test \
		"127.0.0.1:$LAB_SMTP_PORT" >"$tmp/smtp-source.$i.log" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || die "smtp-source failed: $(cat "$tmp"/smtp-source.*.log | head -5)"
done
pids=()
wait_count "$sink" $((base + ceil_msgs)) 300 ||
	die "the lab delivered $(($(maildir_count "$sink") - base)) of $ceil_msgs messages in 300 s"
read -r smtp_s smtp_mach smtp_lab _ < <(measure smtp)

# ---- ceiling 2: curl, STARTTLS + AUTH submission, one message a session --
msg=$tmp/ceiling.eml
printf 'From: <tls1@sink.test>\r\nTo: <tls1@sink.test>\r\nSubject: lab ceiling\r\n\r\n%s\r\n' \
	"$(head -c 1500 /dev/zero | tr '\0' x | fold -w 75)" >"$msg"
echo "bench_loop: lab ceiling: curl, $tls_sessions submissions (STARTTLS + AUTH) in $ceil_sessions loops"
base=$(maildir_count "$sink")
mark submit
pids=()
for i in $(seq "$ceil_sessions"); do
	n=$((tls_sessions / ceil_sessions + (i <= tls_sessions % ceil_sessions ? 1 : 0)))
	(
		for _ in $(seq "$n"); do
			curl -sS --max-time 20 --url "smtp://127.0.0.1:$LAB_SUBMISSION_PORT" \
				--ssl-reqd --cacert "$LAB_CA" --mail-from "tls$i@sink.test" \
				--mail-rcpt "tls$i@sink.test" --user "tls$i@sink.test:$password" \
				-T "$msg" || exit 1
		done
	) >"$tmp/submit.$i.log" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || die "curl submission failed: $(cat "$tmp"/submit.*.log | head -5)"
done
pids=()
wait_count "$sink" $((base + tls_sessions)) 300 ||
	die "the lab delivered $(($(maildir_count "$sink") - base)) of $tls_sessions submissions in 300 s"
read -r submit_s submit_mach submit_lab _ < <(measure submit)

# ---- ceiling 3: curl, IMAPS sessions --------------------------------------
echo "bench_loop: lab ceiling: curl, $tls_sessions IMAPS sessions in $ceil_sessions loops"
mark imap
pids=()
for i in $(seq "$ceil_sessions"); do
	n=$((tls_sessions / ceil_sessions + (i <= tls_sessions % ceil_sessions ? 1 : 0)))
	(
		for _ in $(seq "$n"); do
			curl -sS --max-time 20 \
				--url "imaps://127.0.0.1:$LAB_IMAPS_PORT/INBOX" \
				--cacert "$LAB_CA" --user "tls$i@sink.test:$password" \
				-X 'UID SEARCH SUBJECT "lab ceiling"' >/dev/null || exit 1
		done
	) >"$tmp/imap.$i.log" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || die "curl IMAPS failed: $(cat "$tmp"/imap.*.log | head -5)"
done
pids=()
read -r imap_s imap_mach imap_lab _ < <(measure imap)

# ---- hearth at each worker count ---------------------------------------
# field NAME LINE: the value of NAME=... in a summary line
field() {
	sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"
}

csv=$tmp/inboxes.csv
{
	echo "address,client,pool,provider,smtp_host,smtp_port,smtp_security,imap_host,imap_port,imap_security,password,ramp_profile"
	for d in $domains; do
		for u in $(seq "$users_per_domain"); do
			echo "user$u@$d,${d%%.*},bench,generic,127.0.0.1,$LAB_SUBMISSION_PORT,starttls,127.0.0.1,$LAB_IMAPS_PORT,tls,$password,fast"
		done
	done
} >"$csv"
chmod 600 "$csv"
n_inboxes=$(($(wc -l <"$csv") - 1))

declare -A r_sent r_engaged r_failed r_elapsed r_ops r_sends r_eng r_wrk r_mach r_lab r_busy r_complete
status=0
for w in $workers_list; do
	hd=$tmp/w$w
	mkdir -m 700 "$hd"
	conf=$hd/hearth.conf
	cat >"$conf" <<EOF
[store]
data_dir = $hd/data
[network]
ca_file = $LAB_CA
timeout = 10
per_host = 8
workers = $w
dns = $LAB_DNS
[checks]
dkim_selectors = $LAB_DKIM_SELECTOR
domain_lists = $LAB_DOMAIN_LIST
ip_lists = $LAB_IP_LIST
EOF
	H=("$hearth" --config "$conf")
	"${H[@]}" --quiet init || die "hearth init failed (workers=$w)"
	for d in $domains; do
		"${H[@]}" --quiet client add "${d%%.*}" || die "hearth client add failed"
	done
	"${H[@]}" --quiet pool add bench --seed 1 || die "hearth pool add failed"
	out=$("${H[@]}" inbox import "$csv" 2>&1) ||
		die "hearth inbox import failed (workers=$w): $out"
	grep -q ": $n_inboxes enrolled, 0 unchanged, 0 failed" <<<"$out" ||
		die "hearth inbox import (workers=$w): $out"
	empty_pool_mailboxes
	echo "bench_loop: hearth simulate --days $days --workers $w"
	mark "w$w"
	"${H[@]}" simulate --days "$days" --start "$start_date" --seed 1 --workers "$w" \
		--log "$hd/engine.log" >"$hd/summary" 2>"$hd/stderr" &
	sim_pid=$!
	rc=0
	wait "$sim_pid" || rc=$?
	sim_pid=
	read -r _ mach lab_s busy < <(measure "w$w")
	line=$(grep '^simulated ' "$hd/summary" || true)
	if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
		echo "bench_loop: workers=$w: hearth simulate exited $rc" >&2
		tail -5 "$hd/stderr" >&2
		status=1
		continue
	fi
	echo "  $line"
	r_sent[$w]=$(field sent "$line")
	r_engaged[$w]=$(field engaged "$line")
	r_failed[$w]=$(field failed "$line")
	r_elapsed[$w]=$(field elapsed_s "$line")
	r_ops[$w]=$(field ops_per_s "$line")
	r_sends[$w]=$(field sent_per_s "$line")
	r_eng[$w]=$(field cpu_engine_s "$line")
	r_wrk[$w]=$(field cpu_workers_s "$line")
	r_complete[$w]=$(field complete "$line")
	r_mach[$w]=$mach
	r_lab[$w]=$lab_s
	r_busy[$w]=$busy
	if [ "${r_complete[$w]}" != 1 ]; then
		echo "bench_loop: workers=$w: the simulation did not complete" >&2
		status=1
	fi
	if [ "${r_failed[$w]:-0}" -gt "$max_failed" ]; then
		echo "bench_loop: workers=$w: ${r_failed[$w]} sends failed (more than $max_failed)" >&2
		status=1
	fi
	if [ "${r_sent[$w]:-0}" -eq 0 ]; then
		echo "bench_loop: workers=$w: nothing was sent" >&2
		status=1
	fi
done

idle_after=$(idle_probe)

# ---- the figures -------------------------------------------------------------
echo
echo "machine at rest (3 s with nothing of this benchmark running): ${idle_before}% busy before, ${idle_after}% after"
echo "hearth end to end: $n_inboxes inboxes (ramp fast), $days simulated days from $start_date, pool seed 1"
echo "ops = sends + exchanges engaged. CPU: hearth (engine, workers), lab and other in % of one core;"
echo "machine in % of all $ncpu cores; other = machine - hearth - lab (whatever else ran here);"
echo "ms/op: CPU milliseconds per op, the lab's and hearth's (engine + workers)"
printf '%7s %6s %7s %9s %7s %7s %7s %8s %6s %8s %6s %9s %10s\n' workers sends engaged elapsed_s ops/s sends/s engine% workers% lab% machine% other% lab_ms/op hearth_ms/op
for w in $workers_list; do
	[ -n "${r_elapsed[$w]:-}" ] || { printf '%7s  (failed)\n' "$w"; continue; }
	awk -v w="$w" -v s="${r_sent[$w]}" -v g="${r_engaged[$w]}" -v e="${r_elapsed[$w]}" \
		-v o="${r_ops[$w]}" -v ss="${r_sends[$w]}" -v ce="${r_eng[$w]}" -v cw="${r_wrk[$w]}" \
		-v m="${r_mach[$w]}" -v l="${r_lab[$w]}" -v b="${r_busy[$w]}" 'BEGIN {
		other = 100 * (b - ce - cw - l) / e; if (other < 0) other = 0
		ops = s + g; if (ops < 1) ops = 1
		printf "%7d %6d %7d %9.2f %7.1f %7.1f %7.1f %8.1f %6.1f %8.1f %6.1f %9.1f %10.1f\n",
			w, s, g, e, o, ss, 100 * ce / e, 100 * cw / e, 100 * l / e, m, other,
			1000 * l / ops, 1000 * (ce + cw) / ops }'
done
echo
ceiling_line() { # name count unit seconds machine% lab_s what
	awk -v n="$1" -v c="$2" -v u="$3" -v s="$4" -v m="$5" -v l="$6" -v what="$7" 'BEGIN {
		printf "lab ceiling %-6s %6.1f %s/s (%d in %.2f s; lab %.0f%% of a core, machine %.0f%%): %s\n",
			n, c / s, u, c, s, 100 * l / s, m, what }'
}
ceiling_line smtp "$ceil_msgs" msgs "$smtp_s" "$smtp_mach" "$smtp_lab" \
	"smtp-source, plain SMTP, no TLS or AUTH, $ceil_sessions sessions, until delivered"
ceiling_line submit "$tls_sessions" msgs "$submit_s" "$submit_mach" "$submit_lab" \
	"curl, STARTTLS + AUTH + one message a session, $ceil_sessions loops, until delivered"
ceiling_line imap "$tls_sessions" sess "$imap_s" "$imap_mach" "$imap_lab" \
	"curl, IMAPS LOGIN + SELECT + SEARCH a session, $ceil_sessions loops"
echo "(the curl ceilings include curl's own CPU, a process a session: lower bounds of the lab's)"

# ---- the conclusion, from the figures ----------------------------------------
# Taken at the largest worker count that ran. The lab's ceiling for hearth's
# own workload comes from the same run: the lab's CPU per op, against every
# core of the machine (as if hearth and everything else cost nothing).
wmax=
w1=
for w in $workers_list; do
	[ -n "${r_elapsed[$w]:-}" ] || continue
	{ [ -z "$wmax" ] || [ "$w" -gt "$wmax" ]; } && wmax=$w
	{ [ -z "$w1" ] || [ "$w" -lt "$w1" ]; } && w1=$w
done
if [ -n "$wmax" ]; then
	awk -v w="$wmax" -v w1="$w1" -v o="${r_ops[$wmax]}" -v o1="${r_ops[$w1]}" \
		-v e="${r_elapsed[$wmax]}" -v ce="${r_eng[$wmax]}" -v cw="${r_wrk[$wmax]}" \
		-v l="${r_lab[$wmax]}" -v m="${r_mach[$wmax]}" -v b="${r_busy[$wmax]}" \
		-v ncpu="$ncpu" 'BEGIN {
		eng = 100 * ce / e; hearth = 100 * (ce + cw) / e; lab = 100 * l / e
		other = 100 * (b - ce - cw - l) / e; if (other < 0) other = 0
		lab_only = lab > 0 ? o * 100 * ncpu / lab : 0
		gain = o1 > 0 ? o / o1 : 0
		printf "conclusion: at %d workers hearth did %.1f ops/s (%.1fx its %d-worker rate); ", w, o, gain, w1
		printf "hearth used %.0f%% of a core (engine %.0f%%), the lab %.0f%%, other work %.0f%%; the machine was %.0f%% busy", hearth, eng, lab, other, m
		printf " (the lab alone, on all %d cores, would top out near %.0f ops/s): ", ncpu, lab_only
		if (eng >= 80)
			verdict = "the engine process (one core) is the limit"
		else if (m >= 85 && other >= lab && other >= hearth)
			verdict = "the machine is saturated mostly by other work: no fair verdict, rerun on a quiet machine"
		else if (m >= 85 && lab >= hearth)
			verdict = sprintf("the machine is saturated and the lab takes %.1fx hearth'"'"'s CPU per op: the lab is the limit", hearth > 0 ? lab / hearth : 0)
		else if (m >= 85)
			verdict = "the machine is saturated mostly by hearth: hearth is the limit"
		else
			verdict = sprintf("%.0f%% of the machine idle: hearth is the limit (it waits, it does not compute)", 100 - m)
		if (other >= 30 && verdict !~ /no fair verdict/)
			verdict = verdict sprintf(" (other work took %.0f%% of a core meanwhile: the rates are lower than a quiet machine'"'"'s)", other)
		print verdict
	}'
fi
exit "$status"
