#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench_report: fill a store with 10,000 inboxes (500 clients, 3,000
# domains) and 28 days of ramp history each (280,000 rows), then time
# `hearth report` in each format, whole and for one client. Prints figures;
# the goal (a few seconds a format) is for the reader to judge, not asserted.
#
# Usage: tests/bench/bench_report.sh [--hearth PATH] [--inboxes N] [--days N]
set -euo pipefail
cd "$(dirname "$0")/../.."
hearth=build/default/tools/hearth/hearth
inboxes=10000
days=28
while [ $# -gt 0 ]; do
	case $1 in
	--hearth) hearth=$2; shift 2 ;;
	--inboxes) inboxes=$2; shift 2 ;;
	--days) days=$2; shift 2 ;;
	-h | --help) sed -n '3,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench_report: unknown option $1" >&2; exit 64 ;;
	esac
done
command -v sqlite3 >/dev/null || { echo "bench_report: sqlite3 is not installed (tools/setup)" >&2; exit 77; }
[ -x "$hearth" ] || { echo "bench_report: no hearth at $hearth (build it first)" >&2; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '[store]\ndata_dir = %s/data\n' "$tmp" >"$tmp/hearth.conf"
h() { "$hearth" --config "$tmp/hearth.conf" "$@"; }
h --quiet init
h --quiet pool add bench
db=$tmp/data/hearth.db
clients=500
domains=3000

t0=$(date +%s.%N)
sqlite3 "$db" >/dev/null <<-EOF
	PRAGMA journal_mode = WAL;
	BEGIN;
	WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $clients)
	INSERT INTO clients (name, display_name, created_at)
	SELECT printf('client%04d', i), printf('Client %d Ltd', i), 0 FROM n;
	WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $domains)
	INSERT INTO domains (name, created_at) SELECT printf('d%05d.test', i), 0 FROM n;
	WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $inboxes)
	INSERT INTO inboxes (address, pool_id, client_id, domain_id, provider,
		smtp_host, smtp_port, smtp_security, imap_host, imap_port,
		imap_security, username, secret_kind, secret_command,
		ramp_profile, window_start, window_end, timezone, state, created_at)
	SELECT printf('user%05d@d%05d.test', i, (i - 1) % $domains + 1),
		(SELECT id FROM pools WHERE name = 'bench'),
		(SELECT id FROM clients WHERE name = printf('client%04d', (i - 1) % $clients + 1)),
		(SELECT id FROM domains WHERE name = printf('d%05d.test', (i - 1) % $domains + 1)),
		'generic', 'smtp.test', 587, 'starttls', 'imap.test', 993, 'tls',
		printf('user%05d', i), 'command', 'true', 'standard', '09:00',
		'17:30', 'UTC', CASE WHEN i % 50 = 0 THEN 'paused' ELSE 'active' END, 0
	FROM n;
	WITH RECURSIVE d(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM d WHERE k < $days - 1)
	INSERT INTO ramp_days (inbox_id, day, volume, planned, sent, inbox, spam,
		other, missing, rescued, read, flagged, replied, failed, bounced,
		ramp_state)
	SELECT i.id, date('2026-12-01', printf('+%d days', d.k)),
		5 + d.k, 6 + d.k, 6 + d.k,
		6 + d.k - (i.id + d.k) % 3 * (i.id % 7 = 0), (i.id + d.k) % 3 * (i.id % 7 = 0),
		0, 0, (i.id + d.k) % 3 * (i.id % 7 = 0), 6 + d.k, 6 + d.k, (6 + d.k) / 3, 0, 0,
		printf('step=%d hold=0 cut=0 paused=0 fresh=3', min(d.k, 21))
	FROM inboxes i, d;
	COMMIT;
EOF
t1=$(date +%s.%N)
rows=$(sqlite3 "$db" "select count(*) from ramp_days")
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
printf 'store: %d inboxes, %d clients, %d domains, %s ramp day rows, filled in %s s, %s MB\n' \
	"$inboxes" "$clients" "$domains" "$rows" "$(secs "$t0" "$t1")" \
	"$(du -m "$db" | cut -f1)"

# GNU time gives the peak memory where it is installed
timer=()
[ ! -x /usr/bin/time ] || timer=(/usr/bin/time -f %M -o "$tmp/rss")
run() { # label, hearth report arguments...
	local label=$1 s e peak=-
	shift
	rm -f "$tmp/rss"
	s=$(date +%s.%N)
	"${timer[@]}" "$hearth" --config "$tmp/hearth.conf" report --as-of 2026-12-28 "$@" -o "$tmp/out" ||
		{ echo "bench_report: hearth report $* failed" >&2; exit 1; }
	e=$(date +%s.%N)
	[ ! -s "$tmp/rss" ] || peak=$(($(cat "$tmp/rss") / 1024))
	printf '%-26s %7s s %8s MB out %6s MB peak\n' "$label" "$(secs "$s" "$e")" \
		"$(awk -v n="$(stat -c %s "$tmp/out")" 'BEGIN { printf "%.1f", n / 1048576 }')" "$peak"
}
run "json, all clients" --format json
run "csv, all clients" --format csv
run "csv --days, all clients" --format csv --days
run "html, all clients" --format html
run "json, one client" --format json --client client0007
run "html, one client" --format html --client client0007
