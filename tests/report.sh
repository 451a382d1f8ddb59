#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# hearth report without a mail server: a database made by `hearth init`,
# `client add` and `pool add`, its inboxes and ramp day rows written with
# sqlite3 (a password command stands in for the vault). Two clients: a ready
# inbox, a warming one, an at-risk one, a paused one and another ready one.
# Checked: the JSON validates against docs/report.schema.json, the
# verdicts, --client scoping (no byte of any format names the other
# client's addresses or domains), --inbox, --since, --as-of and the
# simulated clock, the configuration's [readiness] rule, CSV rows and
# quoting, --days, -o FILE, and the exit codes of bad arguments. Domain
# checks (schema v4): the newest as of the report's day is carried per
# domain, a failing one holds a would-be-ready inbox at warming with its
# sentence among the reasons, and a scoped report redacts their texts too;
# auto-replies are counted in the window and the history.
. "$(dirname "$0")/lab/assert.sh"
hearth=${1:?usage: report.sh HEARTH}
schema=$(cd "$(dirname "$0")/.." && pwd)/docs/report.schema.json
command -v sqlite3 >/dev/null || skip "sqlite3 is not installed (run tools/setup)"
command -v python3 >/dev/null || skip "python3 is not installed"
python3 -c 'import jsonschema' 2>/dev/null ||
	skip "python3-jsonschema is not installed (run tools/setup)"

tmp=$(mktemp -d)
trap '[ -n "${REPORT_KEEP:-}" ] || rm -rf "$tmp"' EXIT
conf=$tmp/hearth.conf
printf '[store]\ndata_dir = %s/data\n' "$tmp" >"$conf"
db=$tmp/data/hearth.db
h() { "$hearth" --config "$conf" "$@"; }
sql() { sqlite3 -batch -bail "$db" "$1"; }

assert_ok "hearth init" h --quiet init
assert_ok "client add acme" h --quiet client add acme --display-name "ACME Corp"
assert_ok "client add brightpath" h --quiet client add brightpath
assert_ok "pool add agency" h --quiet pool add agency

# inbox ADDRESS CLIENT PROFILE [STATE [REASON [OVERRIDES]]]
inbox() {
	local addr=$1 client=$2 profile=$3 state=${4:-active} dom=${1#*@}
	local reason=NULL overrides=NULL cmd="'true'"
	[ -z "${5:-}" ] || reason="'${5//\'/\'\'}'"
	[ -z "${6:-}" ] || overrides="'$6'"
	[ "$state" != removed ] || cmd=NULL
	sql "INSERT OR IGNORE INTO domains (name, created_at) VALUES ('$dom', 0);
	INSERT INTO inboxes (address, pool_id, client_id, domain_id, provider,
	  smtp_host, smtp_port, smtp_security, imap_host, imap_port,
	  imap_security, username, secret_kind, secret_command, ramp_profile,
	  ramp_overrides, window_start, window_end, timezone, state,
	  state_reason, created_at)
	SELECT '$addr', p.id, c.id, d.id, 'generic', '127.0.0.1', 587,
	  'starttls', '127.0.0.1', 993, 'tls', '$addr', 'command', $cmd,
	  '$profile', $overrides, '09:00', '17:30', 'UTC', '$state', $reason, 0
	FROM pools p, clients c, domains d
	WHERE p.name = 'agency' AND c.name = '$client' AND d.name = '$dom'"
}
# days ADDRESS FIRST N SENT INBOX SPAM STEP_CAP [BOUNCED]: N rows from
# FIRST, the step counting from 0 up to STEP_CAP
days() {
	sql "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k
	  WHERE i + 1 < $3)
	INSERT INTO ramp_days (inbox_id, day, volume, planned, sent, inbox,
	  spam, read, flagged, replied, bounced, ramp_state)
	SELECT (SELECT id FROM inboxes WHERE address = '$1'),
	  date('$2', '+' || i || ' days'), $4, $4, $4, $5, $6, $5 + $6, $5 + $6,
	  $5 / 3, ${8:-0},
	  'step=' || min(i, $7) || ' hold=0 cut=0 paused=0 fresh=3' FROM k"
}

# acme: ready (fast, 14 days, done), warming (day 5 of 21), at risk (40% spam)
inbox ready@acme-sales.test acme fast
days ready@acme-sales.test 2026-03-01 20 10 10 0 14
inbox warming@acme-sales.test acme standard
days warming@acme-sales.test 2026-03-15 6 5 5 0 21
inbox risky@acme-mail.test acme standard
days risky@acme-mail.test 2026-02-24 25 10 6 4 21
# brightpath: paused (its reason quotes a server that names an acme
# address), ready with a shorter ramp (days=10), and a removed one
inbox paused@brightpath.test brightpath safe paused \
	'SMTP refused: 550 5.7.1 <ready@acme-sales.test>, relay of acme-mail.test denied; run `hearth inbox resume paused@brightpath.test`'
days paused@brightpath.test 2026-03-10 8 6 6 0 28 1
inbox ready2@brightpath.test brightpath fast active "" "days=10"
days ready2@brightpath.test 2026-03-09 12 8 8 0 10
inbox gone@brightpath.test brightpath standard removed 'removed by the operator'
days gone@brightpath.test 2026-03-01 3 5 5 0 21
# a row without a ramp state
sql "INSERT INTO ramp_days (inbox_id, day, planned, sent, inbox)
	SELECT id, '2026-03-21', 2, 2, 2 FROM inboxes
	WHERE address = 'warming@acme-sales.test'"
# auto-replies: one day inside the window of 2026-03-20, one before it
sql "UPDATE ramp_days SET auto_replies = 2 WHERE day = '2026-03-18' AND
	inbox_id = (SELECT id FROM inboxes WHERE address = 'ready@acme-sales.test');
	UPDATE ramp_days SET auto_replies = 1 WHERE day = '2026-03-10' AND
	inbox_id = (SELECT id FROM inboxes WHERE address = 'ready@acme-sales.test')"
# check DOMAIN 'YYYY-MM-DD HH:MM' WORST FAILURE|NULL FINDINGS-JSON: a
# domain_checks row as the engine writes it (check_report_to_json's shape)
check() {
	local at failure=NULL
	at=$(date -u -d "$2" +%s)
	[ "$4" = NULL ] || failure="'${4//\'/\'\'}'"
	sql "INSERT INTO domain_checks (domain_id, checked_at, worst, failure,
	  report) SELECT id, $at, '$3', $failure,
	  json_object('domain', '$1', 'provider', NULL, 'worst', '$3',
	    'failure', $failure, 'findings', json('${5//\'/\'\'}'))
	FROM domains WHERE name = '$1'"
}
pass_findings='[{"check":"mx","status":"pass","summary":"MX records found.","fix":null,"record":null},
	{"check":"spf","status":"pass","summary":"SPF authorises 127.0.0.1.","fix":null,"record":"v=spf1 ip4:127.0.0.1 -all"}]'
spf_fail='SPF of acme-sales.test does not authorise 127.0.0.1 (add ip4:127.0.0.1 to the SPF record of acme-sales.test)'
# acme-sales.test passes on 2026-03-19 and fails SPF on 2026-03-21 (after
# the as-of day of most reports below); acme-mail.test is never checked;
# brightpath.test passes, a finding naming acme-mail.test, one malformed
check acme-sales.test '2026-03-19 06:00' pass NULL "$pass_findings"
check acme-sales.test '2026-03-21 06:00' fail "$spf_fail" \
	'[{"check":"mx","status":"pass","summary":"MX records found.","fix":null,"record":null},
	{"check":"spf","status":"fail","summary":"SPF of acme-sales.test does not authorise 127.0.0.1","fix":"add ip4:127.0.0.1 to the SPF record of acme-sales.test","record":"v=spf1 -all"}]'
check brightpath.test '2026-03-18 06:30' pass NULL \
	'[{"check":"spf","status":"pass","summary":"SPF of brightpath.test includes _spf.acme-mail.test, which authorises 127.0.0.1.","fix":null,"record":"v=spf1 include:_spf.acme-mail.test -all"},
	{"check":"dkim","status":"bogus","summary":"a finding of a status nobody knows"},
	{"check":"dmarc","status":"pass","summary":"DMARC policy p=reject; reports to dmarc@brightpath.test.","fix":"Nothing: keep it; acme-mail.test reports are not needed."}]'
nrows=$(sql "SELECT count(*) FROM ramp_days r JOIN inboxes i ON i.id = r.inbox_id
	WHERE i.state <> 'removed' AND r.day <= '2026-03-20'")
assert_eq 71 "$nrows" "the database holds the test's rows"

asof=(--as-of 2026-03-20)
# validate FILE: against the schema; prints nothing when valid
validate() {
	python3 - "$schema" "$1" <<-'EOF' 2>&1
		import json, sys, jsonschema
		schema = json.load(open(sys.argv[1]))
		jsonschema.Draft202012Validator.check_schema(schema)
		doc = json.load(open(sys.argv[2]))
		errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc),
		                key=lambda e: list(e.path))
		for e in errors[:5]:
		    print("/".join(str(p) for p in e.path) + ": " + e.message)
	EOF
}
# pick FILE EXPR: evaluate a Python expression over the document d
# (statements may come first: "i = ...; i[...]")
run_py='import ast
def run(src, g):
    tree = ast.parse(src)
    last = tree.body.pop()
    exec(compile(tree, "<expr>", "exec"), g)
    print(eval(compile(ast.Expression(last.value), "<expr>", "eval"), g))
'
pick() {
	python3 -c "$run_py"'
import json, sys
d = json.load(open(sys.argv[1]))
run(sys.argv[2], {"d": d, "by": {i["address"]: i for i in d["inboxes"]}})' "$1" "$2" 2>&1
}

# ---- JSON, every client ----
h report "${asof[@]}" >"$tmp/all.json"
assert_eq 0 $? "report (json) exits 0"
assert_eq "" "$(validate "$tmp/all.json")" "the JSON validates against docs/report.schema.json"
assert_eq "hearth-report/1 2026-03-20 None None None" \
	"$(pick "$tmp/all.json" '" ".join(str(x) for x in (d["schema"], d["as_of"], d["since"], d["scope"]["client"], d["scope"]["inbox"]))')" \
	"schema, as_of, since and scope"
assert_match "$(pick "$tmp/all.json" 'd["generated_at"]')" \
	"^$(date -u +%Y-%m-%d)T[0-9:]{8}Z$" "generated_at is the real clock's, UTC"
assert_eq "paused@brightpath.test:paused ready2@brightpath.test:ready ready@acme-sales.test:ready risky@acme-mail.test:at risk warming@acme-sales.test:warming" \
	"$(pick "$tmp/all.json" '" ".join(sorted(a + ":" + i["verdict"] for a, i in by.items()))')" \
	"the verdicts: ready, warming, at risk, paused, ready (the removed inbox left out)"
assert_eq "ready@acme-sales.test risky@acme-mail.test warming@acme-sales.test paused@brightpath.test ready2@brightpath.test" \
	"$(pick "$tmp/all.json" '" ".join(i["address"] for i in d["inboxes"])')" \
	"inboxes ordered by client, then address"
assert_eq "5 2 1 1 1 50" \
	"$(pick "$tmp/all.json" '" ".join(str(d["summary"][k]) for k in ("inboxes", "ready", "warming", "at_risk", "paused", "cold_per_day")[:5]) + " " + str(by["ready@acme-sales.test"]["cold_per_day"])')" \
	"the summary counts the verdicts; a fully inboxed ready inbox gets cold_max"
assert_eq "acme:ACME Corp:3:acme-mail.test/1,acme-sales.test/2 brightpath:None:2:brightpath.test/2 default:None:0:" \
	"$(pick "$tmp/all.json" '" ".join("%s:%s:%d:%s" % (c["name"], c["display_name"], c["rollup"]["inboxes"], ",".join("%s/%d" % (x["name"], x["rollup"]["inboxes"]) for x in c["domains"])) for c in d["clients"])')" \
	"clients with their display names, roll-ups and domains (init's default client, empty)"
assert_eq "14 14 True 70 70 1.0" \
	"$(pick "$tmp/all.json" 'i = by["ready@acme-sales.test"]; w = i["window"]; " ".join(str(x) for x in (i["ramp"]["step"], i["ramp"]["days"], i["ramp"]["complete"], w["measured"], w["sent"], w["inbox_share"]))')" \
	"the ready inbox: ramp 14 of 14, 70 of 70 in the inbox over the window"
assert_eq "10 10 True" \
	"$(pick "$tmp/all.json" 'i = by["ready2@brightpath.test"]["ramp"]; " ".join(str(x) for x in (i["step"], i["days"], i["complete"]))')" \
	"the inbox's ramp overrides shorten its ramp (days=10)"
assert_eq "5 21 False 6 2026-03-20" \
	"$(pick "$tmp/all.json" 'i = by["warming@acme-sales.test"]; " ".join(str(x) for x in (i["ramp"]["step"], i["ramp"]["days"], i["ramp"]["complete"], len(i["history"]), i["history"][-1]["day"]))')" \
	"the warming inbox: day 5 of 21; the row after as_of left out"
assert_eq "0.4 28 70" \
	"$(pick "$tmp/all.json" 'i = by["risky@acme-mail.test"]["window"]; " ".join(str(x) for x in (i["spam_share"], i["spam"], i["measured"]))')" \
	"the at-risk inbox: 40% spam"
assert_match "$(pick "$tmp/all.json" '" | ".join(by["risky@acme-mail.test"]["reasons"])')" \
	'landed in spam' "the at-risk inbox's reasons say why"
assert_eq "2026-02-24 2026-03-20 25 0 21" \
	"$(pick "$tmp/all.json" 'h = by["risky@acme-mail.test"]["history"]; " ".join(str(x) for x in (h[0]["day"], h[-1]["day"], len(h), h[0]["step"], h[-1]["step"]))')" \
	"history oldest first, with each day's step"
assert_match "$(pick "$tmp/all.json" 'by["paused@brightpath.test"]["reasons"][0]')" \
	'^Paused: SMTP refused: .*ready@acme-sales.test' \
	"the paused inbox's first reason is its reason (unscoped: as recorded)"
assert_eq "paused 20" "$(pick "$tmp/all.json" 'i = by["paused@brightpath.test"]; i["state"] + " " + str(min(i["score"], 20))')" \
	"the paused inbox scores at most 20"

# ---- domain checks and auto-replies ----
# dom FILE CLIENT DOMAIN: that domain entry's checks, or None
domcheck='lambda c, n: [x.get("checks") for k in d["clients"] if k["name"] == c for x in k["domains"] if x["name"] == n][0]'
assert_eq "2026-03-19T06:00:00Z pass None 2 None" \
	"$(pick "$tmp/all.json" "dom = $domcheck"'; c = dom("acme", "acme-sales.test"); " ".join(str(x) for x in (c["checked_at"], c["worst"], c["failure"], len(c["findings"]), dom("acme", "acme-mail.test")))')" \
	"as of 2026-03-20: acme-sales.test's check of 03-19 (the failing one of 03-21 is later); acme-mail.test never checked: no checks"
assert_eq "spf:pass:None dmarc:pass:Nothing: keep it; acme-mail.test reports are not needed." \
	"$(pick "$tmp/all.json" "dom = $domcheck"'; " ".join("%s:%s:%s" % (f["check"], f["status"], f["fix"]) for f in dom("brightpath", "brightpath.test")["findings"])')" \
	"brightpath.test: the findings with a known status, fix null or as recorded (unscoped)"
assert_eq "[]" "$(pick "$tmp/all.json" '[r for r in by["ready@acme-sales.test"]["reasons"] if "check" in r]')" \
	"a passing check adds no reason"
assert_eq "2 2 0" \
	"$(pick "$tmp/all.json" 'i = by["ready@acme-sales.test"]; h = {x["day"]: x for x in i["history"]}; " ".join(str(x) for x in (i["window"]["auto_replies"], h["2026-03-18"]["auto_replies"], h["2026-03-17"]["auto_replies"]))')" \
	"auto-replies: the window's (the one before it left out) and each history row's"
h report --as-of 2026-03-21 >"$tmp/fail.json"
assert_eq "" "$(validate "$tmp/fail.json")" "as of 2026-03-21: the JSON validates"
assert_eq "warming 0 fail 2026-03-21T06:00:00Z" \
	"$(pick "$tmp/fail.json" "dom = $domcheck"'; i = by["ready@acme-sales.test"]; c = dom("acme", "acme-sales.test"); " ".join(str(x) for x in (i["verdict"], i["cold_per_day"], c["worst"], c["checked_at"]))')" \
	"a failing SPF check holds the otherwise ready inbox at warming, no cold volume"
assert_eq "True" \
	"$(pick "$tmp/fail.json" '"A deliverability check fails: '"$spf_fail"'." in by["ready@acme-sales.test"]["reasons"]')" \
	"the failure sentence is among its reasons"
assert_eq "$spf_fail" "$(pick "$tmp/fail.json" "dom = $domcheck"'; dom("acme", "acme-sales.test")["failure"]')" \
	"the domain entry carries the failure sentence"
assert_eq "ready" "$(pick "$tmp/fail.json" 'by["ready2@brightpath.test"]["verdict"]')" \
	"a passing domain's ready inbox stays ready"
h report --as-of 2026-03-21 --client brightpath >"$tmp/bright-fail.json"
assert_eq "" "$(validate "$tmp/bright-fail.json")" "the scoped JSON with checks validates"
assert_eq "SPF of brightpath.test includes [redacted], which authorises 127.0.0.1. | Nothing: keep it; [redacted] reports are not needed." \
	"$(pick "$tmp/bright-fail.json" "dom = $domcheck"'; f = dom("brightpath", "brightpath.test")["findings"]; f[0]["summary"] + " | " + f[1]["fix"]')" \
	"a scoped report redacts another client's domain in the findings"
h report --as-of 2026-03-21 --client acme >"$tmp/acme-fail.json"
assert_eq "True" \
	"$(pick "$tmp/acme-fail.json" '"A deliverability check fails: '"$spf_fail"'." in by["ready@acme-sales.test"]["reasons"]')" \
	"a client's own domain stays named in its failure sentence"

# ---- --client: nothing of the other client, in any format ----
leak() { # FILE WORDS...: the words found in FILE
	local f=$1 w
	shift
	for w; do grep -qiF -- "$w" "$f" && printf '%s ' "$w"; done
}
acme_names="acme ready@acme-sales.test warming@acme-sales.test risky@acme-mail.test acme-sales.test acme-mail.test"
bright_names="brightpath paused@brightpath.test ready2@brightpath.test gone@brightpath.test brightpath.test"
h report "${asof[@]}" --client acme >"$tmp/acme.json"
assert_eq 0 $? "report --client acme exits 0"
assert_eq "" "$(validate "$tmp/acme.json")" "the client's JSON validates"
assert_eq "acme ready@acme-sales.test,risky@acme-mail.test,warming@acme-sales.test acme 3" \
	"$(pick "$tmp/acme.json" 'd["scope"]["client"] + " " + ",".join(sorted(by)) + " " + ",".join(c["name"] for c in d["clients"]) + " " + str(d["summary"]["inboxes"])')" \
	"--client acme: its three inboxes, its section only"
h report "${asof[@]}" --client brightpath >"$tmp/bright.json"
assert_eq "" "$(validate "$tmp/bright.json")" "the other client's JSON validates"
h report "${asof[@]}" --client acme --format csv >"$tmp/acme.csv"
assert_eq 0 $? "report --client acme --format csv exits 0"
h report "${asof[@]}" --client acme --format csv --days >"$tmp/acme-days.csv"
h report "${asof[@]}" --client brightpath --format csv >"$tmp/bright.csv"
h report "${asof[@]}" --client brightpath --format csv --days >"$tmp/bright-days.csv"
h report --as-of 2026-03-21 --client acme --format csv >"$tmp/acme-fail.csv"
h report --as-of 2026-03-21 --client brightpath --format csv >"$tmp/bright-fail.csv"
for f in acme.json acme.csv acme-days.csv acme-fail.json acme-fail.csv; do
	assert_eq "" "$(leak "$tmp/$f" $bright_names)" "--client acme ($f) names nothing of brightpath"
done
for f in bright.json bright.csv bright-days.csv bright-fail.json bright-fail.csv; do
	assert_eq "" "$(leak "$tmp/$f" $acme_names)" "--client brightpath ($f) names nothing of acme"
done
assert_eq "Paused: SMTP refused: 550 5.7.1 <[redacted]>, relay of [redacted] denied; run \`hearth inbox resume paused@brightpath.test\`." \
	"$(pick "$tmp/bright.json" 'by["paused@brightpath.test"]["reasons"][0]')" \
	"a reason quoting another client's address and domain has them redacted, its own kept"
html_ok=0
if h report "${asof[@]}" --client acme --format html >"$tmp/acme.html" 2>"$tmp/html.err"; then
	html_ok=1
	h report "${asof[@]}" --client brightpath --format html >"$tmp/bright.html"
	assert_eq "" "$(leak "$tmp/acme.html" $bright_names)" "--client acme (html) names nothing of brightpath"
	assert_eq "" "$(leak "$tmp/bright.html" $acme_names)" "--client brightpath (html) names nothing of acme"
	assert_match "$(head -c 200 "$tmp/acme.html")" '<!DOCTYPE html>|<html' "the HTML is a page"
	h report --as-of 2026-03-21 --client acme --format html >"$tmp/acme-fail.html"
	page=$(tr '\n' ' ' <"$tmp/acme-fail.html")
	assert_match "$page" '<h2>Domain authentication and blacklists</h2>' "the HTML has the checks section"
	assert_match "$page" 'acme-mail\.test</span></h3> <p class="nodata">Not checked yet\.</p>' \
		"a domain never checked says so"
	assert_eq 1 "$(grep -cF "<strong>Fails:</strong> $spf_fail</p>" "$tmp/acme-fail.html")" \
		"the failing domain's sentence is shown"
	assert_eq "" "$(leak "$tmp/acme-fail.html" $bright_names)" "--client acme (html, checks) names nothing of brightpath"
else
	echo "        note: the HTML renderer is not built yet ($(cat "$tmp/html.err")): its scoping is not checked"
fi

# ---- --inbox ----
h report "${asof[@]}" --inbox Warming@ACME-sales.test >"$tmp/one.json"
assert_eq 0 $? "report --inbox exits 0 (the address in any case)"
assert_eq "" "$(validate "$tmp/one.json")" "the inbox's JSON validates"
assert_eq "acme warming@acme-sales.test warming@acme-sales.test acme acme-sales.test 1" \
	"$(pick "$tmp/one.json" '" ".join(str(x) for x in (d["scope"]["client"], d["scope"]["inbox"], ",".join(by), ",".join(c["name"] for c in d["clients"]), ",".join(x["name"] for c in d["clients"] for x in c["domains"]), d["summary"]["inboxes"]))')" \
	"--inbox: that inbox, its client's section and domain only"
assert_eq "" "$(leak "$tmp/one.json" $bright_names risky@ acme-mail.test)" \
	"--inbox names no other inbox or domain"
h report "${asof[@]}" --inbox gone@brightpath.test >"$tmp/gone.json"
assert_eq "removed paused" "$(pick "$tmp/gone.json" 'i = d["inboxes"][0]; i["state"] + " " + i["verdict"]')" \
	"--inbox of a removed inbox reports it, paused"
h report "${asof[@]}" --inbox ready@acme-sales.test --client acme >/dev/null
assert_eq 0 $? "--inbox with its own --client"
out=$(h report "${asof[@]}" --inbox ready@acme-sales.test --client brightpath 2>&1)
assert_eq 66 $? "--inbox of another --client is EX_NOINPUT"
out=$(h report --inbox nobody@acme-sales.test 2>&1)
assert_eq 66 $? "an unknown inbox is EX_NOINPUT"
assert_match "$out" "no inbox 'nobody@acme-sales.test'" "and is named"

# ---- --since and --as-of ----
h report "${asof[@]}" --since 2026-03-18 >"$tmp/since.json"
assert_eq "" "$(validate "$tmp/since.json")" "--since: the JSON validates"
assert_eq "2026-03-18 2026-03-18 3 ready 70" \
	"$(pick "$tmp/since.json" 'i = by["ready@acme-sales.test"]; " ".join(str(x) for x in (d["since"], i["history"][0]["day"], len(i["history"]), i["verdict"], i["window"]["measured"]))')" \
	"--since: history from that day, the assessment over the whole window"
h report --as-of 2026-03-10 >"$tmp/early.json"
assert_eq "2026-03-10 10 9 warming" \
	"$(pick "$tmp/early.json" 'i = by["ready@acme-sales.test"]; " ".join(str(x) for x in (d["as_of"], len(i["history"]), i["ramp"]["step"], i["verdict"]))')" \
	"--as-of an earlier day: the rows up to it, the ramp not yet complete"
today=$(date -u +%Y-%m-%d)
assert_eq "$today" "$(h report | python3 -c 'import json, sys; print(json.load(sys.stdin)["as_of"])')" \
	"as_of is today (UTC) by default"
sql "INSERT INTO settings (key, value) VALUES ('simulate.clock', '$(date -u -d '2099-01-10 12:00' +%s)')"
assert_eq "2099-01-10" "$(h report | python3 -c 'import json, sys; print(json.load(sys.stdin)["as_of"])')" \
	"after a simulation ahead of the real clock, as_of is the simulated day"
sql "UPDATE settings SET value = '$(date -u -d '2026-03-20 12:00' +%s)' WHERE key = 'simulate.clock'"
assert_eq "$today" "$(h report | python3 -c 'import json, sys; print(json.load(sys.stdin)["as_of"])')" \
	"a simulated clock behind the real one is not used"

# ---- the configuration's [readiness] rule ----
printf '[store]\ndata_dir = %s/data\n[readiness]\nmin_measured = 100\ncold_max = 40\n' "$tmp" >"$tmp/strict.conf"
"$hearth" --config "$tmp/strict.conf" report "${asof[@]}" >"$tmp/strict.json"
assert_eq "100 40 warming" \
	"$(pick "$tmp/strict.json" '" ".join(str(x) for x in (d["rules"]["min_measured"], d["rules"]["cold_max"], by["ready@acme-sales.test"]["verdict"]))')" \
	"[readiness] in the configuration sets the rule (70 measured < 100: warming)"

# ---- CSV ----
h report "${asof[@]}" --format csv >"$tmp/all.csv"
assert_eq 0 $? "report --format csv exits 0"
assert_eq "address,client,domain,provider,state,verdict,score,cold_per_day,ramp_step,ramp_days,measured,inbox_share,spam_share,bounce_share,sent_window,reasons,checks,checks_failure" \
	"$(head -1 "$tmp/all.csv" | tr -d '\r')" "the CSV header"
assert_eq "6 6" "$(wc -l <"$tmp/all.csv") $(grep -c $'\r$' "$tmp/all.csv")" \
	"a header and a row per inbox, each ending in CRLF"
csvpick() { # FILE EXPR over rows r (a list of dicts)
	python3 -c "$run_py"'
import csv, sys
with open(sys.argv[1], newline="") as f:
    r = list(csv.DictReader(f))
run(sys.argv[2], {"r": r, "by": {x["address"]: x for x in r}})' "$1" "$2" 2>&1
}
assert_eq "at risk 0.600 0.400 0.000 70 18" \
	"$(csvpick "$tmp/all.csv" 'x = by["risky@acme-mail.test"]; " ".join((x["verdict"], x["inbox_share"], x["spam_share"], x["bounce_share"], x["sent_window"], str(len(x))))')" \
	"a CSV row: the verdict, shares as 0.000, sent over the window"
assert_match "$(csvpick "$tmp/all.csv" 'by["paused@brightpath.test"]["reasons"]')" \
	'^Paused: SMTP refused: 550 5.7.1 <ready@acme-sales.test>, relay of .*; ' \
	"reasons joined with '; ', a field with a comma quoted and read back whole"
assert_match "$(grep '^"\?paused@' "$tmp/all.csv")" ',"Paused: [^"]*, relay' "the comma field is quoted"
assert_eq "pass||||pass|" \
	"$(csvpick "$tmp/all.csv" '"|".join(by[a]["checks"] + "|" + by[a]["checks_failure"] for a in ("ready@acme-sales.test", "risky@acme-mail.test", "ready2@brightpath.test"))')" \
	"checks: the domain's worst as of the day, empty when never checked"
h report --as-of 2026-03-21 --format csv >"$tmp/fail.csv"
assert_eq "fail|$spf_fail|warming" \
	"$(csvpick "$tmp/fail.csv" 'x = by["ready@acme-sales.test"]; "|".join((x["checks"], x["checks_failure"], x["verdict"]))')" \
	"checks and checks_failure of a failing domain"
h report "${asof[@]}" --format csv --days >"$tmp/days.csv"
assert_eq "address,client,day,volume,planned,sent,inbox,spam,other,missing,rescued,read,flagged,replied,failed,bounced,step,auto_replies" \
	"$(head -1 "$tmp/days.csv" | tr -d '\r')" "the --days header"
assert_eq "$((nrows + 1))" "$(wc -l <"$tmp/days.csv" | tr -d ' ')" "--days: a row per inbox-day up to as_of"
assert_eq "acme 2026-03-20 10 6 4 21" \
	"$(csvpick "$tmp/days.csv" 'x = [x for x in r if x["address"] == "risky@acme-mail.test"][-1]; " ".join((x["client"], x["day"], x["sent"], x["inbox"], x["spam"], x["step"]))')" \
	"a --days row"
assert_eq "2 0" \
	"$(csvpick "$tmp/days.csv" 'x = {y["day"]: y["auto_replies"] for y in r if y["address"] == "ready@acme-sales.test"}; x["2026-03-18"] + " " + x["2026-03-17"]')" \
	"--days: auto_replies per day"
h report --as-of 2026-03-21 --format csv --days --inbox warming@acme-sales.test >"$tmp/nostate.csv"
assert_eq "2026-03-21 2 " "$(csvpick "$tmp/nostate.csv" 'x = r[-1]; x["day"] + " " + x["sent"] + " " + x["step"]')" \
	"a row without a ramp state has an empty step"
h report "${asof[@]}" --format csv --days --since 2026-03-20 >"$tmp/since.csv"
assert_eq 5 "$(wc -l <"$tmp/since.csv" | tr -d ' ')" \
	"--days --since: that day's rows (4 inboxes have one)"

# ---- -o FILE ----
h report "${asof[@]}" --format csv -o "$tmp/out.csv"
assert_eq 0 $? "-o FILE exits 0"
assert_eq "" "$(cmp "$tmp/out.csv" "$tmp/all.csv" 2>&1)" "-o FILE writes what stdout gets"
out=$(h report "${asof[@]}" --output "$tmp/out.json")
assert_eq "" "$out" "-o FILE: nothing on stdout"
assert_eq "" "$(validate "$tmp/out.json")" "--output FILE: the JSON validates"
assert_eq "" "$(ls "$tmp" | grep -E '^out\..*\.[A-Za-z0-9]{6}$')" "no temporary file is left"
assert_eq "" "$(h report "${asof[@]}" --format csv -o - | cmp - "$tmp/all.csv" 2>&1)" "-o - is stdout"
h report -o "$tmp/nodir/out.json" 2>/dev/null
assert_eq 73 $? "-o into a missing directory is EX_CANTCREAT"
if [ $html_ok = 1 ]; then
	h report "${asof[@]}" --format html -o "$tmp/out.html"
	assert_eq 0 $? "--format html -o FILE exits 0"
	assert_match "$(head -c 200 "$tmp/out.html")" '<!DOCTYPE html>|<html' \
		"the HTML file is written"
	assert_match "$(cat "$tmp/out.html")" 'ready2@brightpath\.test' "and shows the inboxes"
else
	h report "${asof[@]}" --format html -o "$tmp/out.html" 2>/dev/null
	assert_eq 65 $? "--format html fails while the renderer is not built"
	assert_eq "" "$(ls "$tmp" | grep -E '^out\.html')" "and leaves no file behind"
fi

# ---- bad arguments ----
for args in "--format xml" "--since 2026-13-01" "--as-of yesterday" "--days" \
	"--format json --days" "stray" "--bogus" "-o" "--since 2026-03-21 --as-of 2026-03-20"; do
	h report $args >/dev/null 2>&1
	assert_eq 64 $? "report $args is EX_USAGE"
done
out=$(h report --format xml 2>&1)
assert_match "$out" "--format is json, csv or html" "and says what to type"
out=$(h report --client nobody 2>&1)
assert_eq 66 $? "an unknown client is EX_NOINPUT"
assert_match "$out" "no client 'nobody'" "and is named"
out=$(h report --help)
assert_eq 0 $? "report --help exits 0"
assert_match "$out" "usage: hearth report" "and prints the usage"
out=$(HOME=$tmp XDG_DATA_HOME=$tmp/none XDG_CONFIG_HOME=$tmp/none "$hearth" report 2>&1)
assert_eq 66 $? "no database is EX_NOINPUT"
assert_done
