#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's first command, shortened: tools/demo over 5 simulated days in
# a lab of its own. The reports exist and parse (the JSON against its
# schema), every client is in the summary, the cold domains' mail was found
# in spam and rescued, and nothing is left running.
. "$(dirname "$0")/lib.sh"
hearth=${HEARTH:?}
root=$(cd "$here/../.." && pwd)
command -v python3 >/dev/null || skip "python3 is not installed (run tools/setup)"
python3 -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema is not installed (run tools/setup)"

dir=$(mktemp -d /tmp/hearth-demo-test.XXXXXX)
chmod 755 "$dir"
trap '"$MAILLAB" stop "$dir/lab" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
out=$(DEMO_HEARTH=$hearth DEMO_DIR=$dir/lab DEMO_PORT_BASE=18000 \
	"$root/tools/demo" --days 5 --seed 3 2>&1)
assert_eq 0 $? "the demo runs to the end" "$(echo "$out" | tail -20)"
for c in "ACME Sales" "Brightpath" "Northwind Traders"; do
	assert_match "$out" "$c " "the summary has a row for $c"
done
assert_match "$out" "lab stopped" "and says the lab stopped"
r=$dir/lab/reports
for f in report.html report.json inboxes.csv days.csv acme.html brightpath.html northwind.html; do
	assert_ok "report $f written" test -s "$r/$f"
done
assert_ok "report.json validates against docs/report.schema.json" python3 -c '
import json, sys, jsonschema
schema = json.load(open(sys.argv[1])); doc = json.load(open(sys.argv[2]))
jsonschema.Draft202012Validator(schema).validate(doc)' "$root/docs/report.schema.json" "$r/report.json"
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["inboxes"]))' "$r/report.json")
assert_eq 16 "$n" "the report has the 16 enrolled inboxes"
assert_eq 17 "$(wc -l <"$r/inboxes.csv")" "the CSV has a header and a row an inbox"
assert_eq $((16 * 5 + 1)) "$(wc -l <"$r/days.csv")" "the --days CSV a row an inbox-day"
assert_no_match "$(cat "$r/acme.html")" "northwind|brightpath" "acme's report names no other client"
db=$dir/lab/hearth/data/hearth.db
cold_spam=$(sqlite3 "$db" "select count(*) from exchanges x join inboxes i on i.id = x.sender_inbox_id
	where (i.address like '%@acme-outreach.test' or i.address like '%@northwind-team.test')
	and x.placement = 'spam' and x.rescued = 1")
[ "$cold_spam" -gt 0 ]; assert_eq 0 $? "the cold domains' mail was found in spam and rescued ($cold_spam)"
# the lab's reputation model: the cold domains' placement rose
share() { # first|last: the cold inboxes' inbox share on that simulated day
	sqlite3 "$db" "select coalesce(100 * sum(r.inbox) / max(1, sum(r.inbox + r.spam + r.other + r.missing)), 0)
		from ramp_days r join inboxes i on i.id = r.inbox_id
		where (i.address like '%@acme-outreach.test' or i.address like '%@northwind-team.test')
		and r.day = (select $1(day) from ramp_days where sent > 0)"
}
s1=$(share min) s2=$(share max)
[ "$s2" -gt "$s1" ]; assert_eq 0 $? "the cold domains' inbox placement rose ($s1% on day 1, $s2% on the last day)"
assert_match "$out" "reputation" "the demo shows the domains' reputation"
assert_eq "" "$(pgrep -af "$dir" || true)" "nothing of the demo is left running"
assert_done
