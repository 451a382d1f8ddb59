#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Deliverability end to end against a real lab and its DNS server: `hearth
# check` on a domain with SPF, DKIM and DMARC, on one without (the lab's
# --dns-bare) and on one listed in the lab's blocklist; then a simulated day
# of warmup in which mail to one user bounces after acceptance (Dovecot no
# longer knows the user: Postfix sends a DSN), to another bounces for a full
# mailbox (quota: 552 5.2.2), and a third answers with a Sieve vacation
# reply, and a second day without them. Checked against the store: the engine checked every domain and kept
# the findings; each bounce was recognised in its sender's mailbox and tied
# to the exchange it reports on, with its status, counted once on the
# sender's ramp day, and only exchanges to those two users bounced; the
# vacation replies were recorded as auto-replies, never as replies; status
# and the report show the checks.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 is not installed (run tools/setup)"
command -v python3 >/dev/null || skip "python3 is not installed"
[ -x /usr/sbin/dnsmasq ] || skip "dnsmasq is not installed (run tools/setup)"
hearth=${HEARTH:?the hearth binary (set by ctest)}
good=good.test bare=bare.test black=black.test fine=fine.test
lab_start 20000 --domains $good,$bare,$black,$fine --users 2 \
	--dns-bare $bare --listed $black
[ -n "${LAB_DNS:-}" ] || { echo "the lab has no DNS server (LAB_DNS)"; exit 1; }
work=$(mktemp -d /tmp/hearth-deliv.XXXXXX)
_lab_dirs+=("$work")
chmod 700 "$work"
conf=$work/hearth.conf
db=$work/data/hearth.db
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
h --quiet init && h --quiet client add one && h --quiet pool add deliv --seed 5
{
	echo "address,client,pool,provider,smtp_host,smtp_port,smtp_security,imap_host,imap_port,imap_security,password,ramp_profile"
	for dom in $good $bare $black $fine; do
		for u in 1 2; do
			echo "user$u@$dom,one,deliv,generic,127.0.0.1,$LAB_SUBMISSION_PORT,starttls,127.0.0.1,$LAB_IMAPS_PORT,tls,lab-secret,standard"
		done
	done
} >"$work/inboxes.csv"
chmod 600 "$work/inboxes.csv"
assert_match "$(h inbox import "$work/inboxes.csv" 2>&1)" '8 enrolled, 0 unchanged, 0 failed' \
	"8 inboxes enrolled"

# ---- hearth check ----
out=$(h check $good 2>&1)
rc=$?
echo "$out" | sed 's/^/        | /'
assert_eq 0 $rc "check $good: nothing fails (exit 0)"
assert_match "$out" 'SPF' "and it names SPF"
assert_match "$out" 'DKIM' "and DKIM"
assert_match "$out" 'DMARC' "and DMARC"
out=$(h check user1@$bare 2>&1)
rc=$?
echo "$out" | sed 's/^/        | /'
assert_eq 1 $rc "check user1@$bare: a domain without authentication fails (exit 1)"
json=$(h check $black --json 2>/dev/null)
assert_eq 1 $? "check $black --json: listed, it fails (exit 1)"
assert_ok "and the JSON names the listing on $LAB_DOMAIN_LIST" python3 -c '
import json, sys
r = json.loads(sys.argv[1])
f = [x for x in r["findings"] if x["check"] == "blacklist" and x["status"] == "fail"]
assert f and sys.argv[2] in json.dumps(f), f
' "$json" "$LAB_DOMAIN_LIST"

# ---- bounces and auto-replies, for real ----
"$MAILLAB" ghost "$LAB_DIR" user2@$fine >/dev/null
"$MAILLAB" full "$LAB_DIR" user2@$good >/dev/null
"$MAILLAB" vacation "$LAB_DIR" user1@$fine "Out of office" --period 1 >/dev/null
# Day one with them; day two without (every look for a message that never
# arrives costs seconds of real time): the ramp then pauses the senders
# whose bounces passed 3%, and each domain is checked again.
sim=("$hearth" --config "$conf" simulate --days 1 --log "$work/engine.log")
out=$(timeout 900 "${sim[@]}" --start 2026-12-07 2>&1)
rc=$?
echo "$out" | tail -1
assert_eq 0 $rc "day one simulated (exit 0)"
"$MAILLAB" unghost "$LAB_DIR" user2@$fine >/dev/null
"$MAILLAB" unfull "$LAB_DIR" user2@$good >/dev/null
"$MAILLAB" novacation "$LAB_DIR" user1@$fine >/dev/null
out=$(timeout 900 "${sim[@]}" 2>&1)
rc=$?
echo "$out" | tail -1
assert_eq 0 $rc "day two simulated (exit 0)"

q "SELECT d.name || ' ' || c.worst || ' ' || coalesce(c.failure, '-')
	FROM domain_checks c JOIN domains d ON d.id = c.domain_id
	ORDER BY d.name, c.checked_at" | sed 's/^/        check /'
assert_eq 4 "$(q "SELECT count(DISTINCT domain_id) FROM domain_checks")" \
	"the engine checked every domain"
assert_match "$(q "SELECT count(*) FROM domain_checks c JOIN domains d ON
	d.id = c.domain_id WHERE d.name = '$good'")" '^[23]$' \
	"daily: at the start of each of the two days"
assert_eq fail "$(q "SELECT worst FROM domain_checks c JOIN domains d ON
	d.id = c.domain_id WHERE d.name = '$bare' ORDER BY checked_at DESC LIMIT 1")" \
	"$bare fails"
assert_match "$(q "SELECT failure FROM domain_checks c JOIN domains d ON
	d.id = c.domain_id WHERE d.name = '$bare' LIMIT 1")" 'SPF|DKIM|DMARC' \
	"and says which record is missing"
assert_eq fail "$(q "SELECT worst FROM domain_checks c JOIN domains d ON
	d.id = c.domain_id WHERE d.name = '$black' LIMIT 1")" "$black fails (listed)"
assert_match "$(q "SELECT worst FROM domain_checks c JOIN domains d ON
	d.id = c.domain_id WHERE d.name = '$good' LIMIT 1")" '^(pass|warn)$' \
	"$good does not fail"

rcpt="(SELECT address FROM inboxes WHERE id = e.recipient_inbox_id)"
q "SELECT $rcpt || ' ' || e.bounce_status || ' ' || e.bounce_reason FROM
	exchanges e WHERE bounced_at > 0 LIMIT 4" | sed 's/^/        bounce /'
nb=$(q "SELECT count(*) FROM exchanges WHERE bounced_at > 0")
echo "        $nb exchanges bounced"
assert_match "$nb" '^[1-9][0-9]*$' "bounces were recognised"
assert_eq "" "$(q "SELECT e.id || ' to ' || $rcpt FROM exchanges e
	WHERE bounced_at > 0 AND $rcpt NOT IN ('user2@$fine', 'user2@$good')")" \
	"only mail to the ghost and the full mailbox bounced"
assert_match "$(q "SELECT group_concat(DISTINCT e.bounce_status) FROM exchanges e
	WHERE bounced_at > 0 AND $rcpt = 'user2@$fine'")" '^5\.1\.1$' \
	"the unknown user's bounces say 5.1.1"
assert_match "$(q "SELECT group_concat(DISTINCT e.bounce_status) FROM exchanges e
	WHERE bounced_at > 0 AND $rcpt = 'user2@$good'")" '^5\.2\.2$' \
	"the full mailbox's bounces say 5.2.2"
assert_eq "" "$(q "SELECT e.id FROM exchanges e WHERE bounced_at > 0
	AND (state <> 'sent' OR placement IN ('inbox', 'spam', 'other'))")" \
	"a bounced exchange was sent and has no placement"
assert_eq "$nb" "$(q "SELECT coalesce(sum(bounced), 0) FROM ramp_days")" \
	"the ramp days count each bounce once"
assert_eq "" "$(q "SELECT r.inbox_id || ' ' || r.day || ': ' || r.bounced ||
	' vs ' || (SELECT count(*) FROM exchanges e WHERE e.sender_inbox_id =
	r.inbox_id AND e.day = r.day AND e.bounced_at > 0) FROM ramp_days r
	WHERE r.bounced <> (SELECT count(*) FROM exchanges e WHERE
	e.sender_inbox_id = r.inbox_id AND e.day = r.day AND e.bounced_at > 0)")" \
	"on the sender's day of the exchange"
assert_eq "" "$(q "SELECT r.inbox_id || ' ' || r.day FROM ramp_days r
	WHERE r.missing <> (SELECT count(*) FROM exchanges e WHERE
	e.sender_inbox_id = r.inbox_id AND e.day = r.day AND
	e.placement = 'missing')")" \
	"a bounced message is not also missing"
assert_match "$(q "SELECT count(*) FROM events WHERE kind = 'exchange.bounced'")" \
	"^$nb$" "each bounce is in the event log"

q "SELECT address || ': ' || state_reason FROM inboxes WHERE state = 'paused'" |
	sed 's/^/        paused /'
assert_eq "" "$(q "SELECT r.inbox_id || ' bounced ' || r.bounced || ' of ' ||
	r.sent FROM ramp_days r JOIN inboxes i ON i.id = r.inbox_id WHERE
	r.day = '2026-12-07' AND r.bounced * 100 > r.sent * 3 AND NOT
	(i.state = 'paused' AND i.state_reason LIKE 'bounces: %')")" \
	"each sender whose bounces passed 3% on day one is paused, saying so"
na=$(q "SELECT count(*) FROM exchanges WHERE auto_replied_at > 0")
echo "        $na exchanges got an auto-reply"
assert_match "$na" '^[1-9][0-9]*$' "vacation replies were recognised"
assert_eq "" "$(q "SELECT e.id FROM exchanges e WHERE auto_replied_at > 0
	AND $rcpt <> 'user1@$fine'")" "only user1@$fine answered automatically"
assert_eq "$na" "$(q "SELECT coalesce(sum(auto_replies), 0) FROM ramp_days")" \
	"the ramp days count each auto-reply once"
assert_eq "" "$(q "SELECT e.id FROM exchanges e WHERE replied = 1 AND NOT
	EXISTS (SELECT 1 FROM exchanges r WHERE r.parent_exchange_id = e.id)")" \
	"an auto-reply is never counted as a reply"

st=$(h status 2>&1)
assert_match "$st" "$bare" "status names the domains' checks"
h report --format json -o "$work/report.json" >/dev/null 2>&1
assert_ok "the report has the checks of $bare" python3 -c '
import json, sys
doc = json.load(open(sys.argv[1]))
doms = [d for c in doc["clients"] for d in c["domains"] if d["name"] == sys.argv[2]]
assert doms and doms[0].get("checks", {}).get("worst") == "fail", doms
' "$work/report.json" $bare
assert_eq "" "$(pgrep -f -- "--config $conf" || true)" "no engine process is left"
[ "$_assert_fail" -eq 0 ] || {
	echo "engine log: $work/engine.log (LAB_KEEP=1 keeps it)"
	grep -E ' (warn|error) ' "$work/engine.log" | grep -v ' warn planner ' | head -20
}
assert_done
