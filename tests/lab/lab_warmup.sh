#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The warmup loop end to end against a real lab: three clients' inboxes over
# five domains (standard, cold, Gmail, Outlook and Yahoo layouts) enrolled
# from a CSV file, then a week of `hearth simulate`. Checked from the server
# side (the lab's Maildirs) against the store: every sent message is in its
# recipient's mailbox exactly once and nowhere else; the cold domain's mail
# was rescued from spam, read and flagged; replies are threaded; the ramp
# day rows agree with the exchanges and the mailboxes and follow the
# profile; status --json parses; the same seed gives the same plan; no
# process is left behind.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 is not installed (run tools/setup)"
command -v python3 >/dev/null || skip "python3 is not installed"
hearth=${HEARTH:?the hearth binary (set by ctest)}
cold=acme-outreach.test
T0=$(date +%s%N)
phase() { echo "        [$((($(date +%s%N) - T0) / 1000000)) ms] $1"; }
lab_start 14000 \
	--domains acme-sales.test,$cold,brightpath.test,northwind.test,northwind-mail.test \
	--users 3 --layout brightpath.test=gmail --layout northwind.test=outlook \
	--layout northwind-mail.test=yahoo --cold $cold
work=$(mktemp -d /tmp/hearth-warmup.XXXXXX)
_lab_dirs+=("$work")
chmod 700 "$work"
days=7
start=2026-12-07 # a Monday: the week ends with a weekend

hc() { # CONF hearth arguments...
	local conf=$1
	shift
	"$hearth" --config "$conf" "$@"
}

# enroll DIR: a hearth install in DIR (config, data) with three clients and
# one pool (its own seed is random: simulate --seed replaces it), and the
# same inboxes in the same order (so the inbox ids of two installs match).
# The user3 mailboxes of the last three domains are not enrolled: nothing
# may ever reach them.
enroll() {
	local d=$1 conf=$1/hearth.conf dom c u n
	mkdir -m 700 "$d"
	cat >"$conf" <<-EOF
		[store]
		data_dir = $d/data
		[network]
		ca_file = $LAB_CA
		timeout = 10
		per_host = 8
		workers = 8
		dns = $LAB_DNS
		[checks]
		dkim_selectors = $LAB_DKIM_SELECTOR
		domain_lists = $LAB_DOMAIN_LIST
		ip_lists = $LAB_IP_LIST
	EOF
	hc "$conf" --quiet init &&
		hc "$conf" --quiet client add acme &&
		hc "$conf" --quiet client add brightpath &&
		hc "$conf" --quiet client add northwind &&
		hc "$conf" --quiet pool add agency || return 1
	{
		echo "address,client,pool,provider,smtp_host,smtp_port,smtp_security,imap_host,imap_port,imap_security,password,ramp_profile"
		for dom in acme-sales.test $cold brightpath.test northwind.test northwind-mail.test; do
			c=${dom%%.*}
			c=${c%%-*}
			n=2
			[ "$c" != acme ] || n=3
			p=standard
			case $dom in brightpath.test | northwind.test) p=safe ;; esac
			for u in $(seq $n); do
				echo "user$u@$dom,$c,agency,generic,127.0.0.1,$LAB_SUBMISSION_PORT,starttls,127.0.0.1,$LAB_IMAPS_PORT,tls,lab-secret,$p"
			done
		done
	} >"$d/inboxes.csv"
	chmod 600 "$d/inboxes.csv"
	hc "$conf" inbox import "$d/inboxes.csv" 2>&1
}

a=$work/a
conf=$a/hearth.conf
db=$a/data/hearth.db
q() { # SQL over the store, read-only; an error shows in the output
	sqlite3 -batch -cmd ".timeout 5000" "file:$db?mode=ro" "$1" 2>&1 ||
		echo "(sqlite3 failed)"
}
phase "lab started"
out=$(enroll "$a")
assert_match "$out" '12 enrolled, 0 unchanged, 0 failed' "12 inboxes enrolled from a CSV file"
phase "enrolled"

t0=$(date +%s%N)
out=$(hc "$conf" simulate --days $days --start $start --seed 7 \
	--log "$a/engine.log" 2>"$a/simulate.err")
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
elapsed=$((ms / 1000)).$(printf %03d $((ms % 1000)))
echo "$out"
echo "simulate took ${elapsed}s"
assert_eq 0 $rc "simulate --days $days exits 0"
assert_match "$out" "^simulated days=$days .* complete=1$" "the summary says complete=1"

# ---- the store: every exchange in a final state for what was due ----
until=$(q "SELECT value FROM settings WHERE key = 'simulate.until'")
assert_eq "$(date -u -d "$start +$days days" +%s)" "$until" "the simulation ran until the end of day $days"
hdr=$(q "SELECT value FROM settings WHERE key = 'token_header'")
assert_match "$hdr" '^[A-Za-z][A-Za-z0-9-]+$' "the install has a token header"
q "SELECT state, count(*) FROM exchanges GROUP BY 1" | sed 's/^/        exchanges /'
assert_eq 0 "$(q "SELECT count(*) FROM exchanges WHERE state = 'sending'")" \
	"no exchange is left sending"
assert_eq "" "$(q "SELECT id || ' planned at ' || planned_at || ' depth ' ||
	depth FROM exchanges WHERE state = 'planned' AND (planned_at < $until
	OR parent_exchange_id IS NULL) LIMIT 10")" \
	"planned: only replies planned after the end"
q "SELECT '        failed ' || count(*) || 'x: ' || coalesce(error, '(no reason)')
	FROM exchanges WHERE state = 'failed' GROUP BY error"
assert_eq 0 "$(q "SELECT count(*) FROM exchanges WHERE state = 'failed'")" \
	"no exchange failed (the lab is healthy)"
assert_eq "" "$(q "SELECT id || ': ' || coalesce(placement, 'no placement')
	FROM exchanges WHERE state = 'sent' AND (placement IS NULL OR
	placement NOT IN ('inbox', 'spam')) LIMIT 10")" \
	"every sent exchange was engaged and found in inbox or spam"
nsent=$(q "SELECT count(*) FROM exchanges WHERE state = 'sent'")
assert_match "$nsent" '^[1-9][0-9]{2,}$' "hundreds of exchanges were sent ($nsent)"

# ---- the server: what the mailboxes hold ----
ix=$work/mail.db
lab_mail_index "$ix" "$hdr"
s() { lab_sql "$ix" "$db" "$1"; }
lab_check_exactly_once "$ix" "$db"
assert_eq "$nsent" "$(s "SELECT count(DISTINCT m.token) FROM mail m
	JOIN h.inboxes i ON i.address = m.address
	WHERE m.folder IS NOT i.sent_folder")" \
	"the recipients hold as many tokens as exchanges were sent"
assert_eq 0 "$(s "SELECT count(*) FROM mail WHERE address IN
	('user3@brightpath.test', 'user3@northwind.test', 'user3@northwind-mail.test')")" \
	"mailboxes not enrolled received nothing"

# the placement as the store has it, by the sender's domain
sent_by="FROM h.exchanges e JOIN h.inboxes s ON s.id = e.sender_inbox_id
	JOIN h.domains d ON d.id = s.domain_id WHERE e.state = 'sent'"
ncold=$(s "SELECT count(*) $sent_by AND d.name = '$cold'")
assert_match "$ncold" '^[1-9][0-9]*$' "the cold domain sent ($ncold)"
assert_eq "" "$(s "SELECT 'exchange ' || e.id || ': ' || e.placement ||
	' rescued=' || e.rescued || ' read=' || e.read || ' flagged=' || e.flagged
	$sent_by AND d.name = '$cold' AND NOT (e.placement = 'spam' AND
	e.rescued = 1 AND e.read = 1 AND e.flagged = 1) LIMIT 10")" \
	"the cold domain's mail: placement spam, rescued, read and flagged"
assert_eq "" "$(s "SELECT 'exchange ' || e.id || ': ' || e.placement ||
	' rescued=' || e.rescued || ' read=' || e.read || ' flagged=' || e.flagged
	$sent_by AND d.name <> '$cold' AND NOT (e.placement = 'inbox' AND
	e.rescued = 0 AND e.read = 1 AND e.flagged = 1) LIMIT 10")" \
	"the warm domains' mail: placement inbox, read and flagged"
# and where the server has it now: out of spam, in INBOX (or archived), \Seen
# and \Flagged
at_recipient="FROM h.exchanges e JOIN h.inboxes s ON s.id = e.sender_inbox_id
	JOIN h.domains d ON d.id = s.domain_id
	JOIN h.inboxes r ON r.id = e.recipient_inbox_id
	JOIN mail m ON m.token = e.token AND m.address = r.address
	  AND m.folder IS NOT r.sent_folder WHERE e.state = 'sent'"
assert_eq "" "$(s "SELECT 'exchange ' || e.id || ' from ' || s.address ||
	': in ' || r.address || ' ' || m.folder || ' flags ' || m.flags
	$at_recipient AND d.name = '$cold' AND NOT (m.folder IN ('INBOX',
	coalesce(r.archive_folder, '')) AND m.flags LIKE '%S%'
	AND m.flags LIKE '%F%') LIMIT 10")" \
	"on the server the cold domain's mail is out of spam, in INBOX or the archive, seen and flagged"
assert_eq "" "$(s "SELECT 'exchange ' || e.id || ' from ' || s.address ||
	': in ' || r.address || ' ' || m.folder || ' flags ' || m.flags
	$at_recipient AND d.name <> '$cold' AND NOT (m.folder IN ('INBOX',
	coalesce(r.archive_folder, '')) AND m.flags LIKE '%S%'
	AND m.flags LIKE '%F%') LIMIT 10")" \
	"on the server the warm domains' mail is in INBOX or the archive, seen and flagged"
assert_eq "" "$(s "SELECT m.address || ' ' || m.folder || ': ' || count(*)
	FROM mail m JOIN h.inboxes i ON i.address = m.address
	WHERE m.folder = i.spam_folder GROUP BY m.address, m.folder")" \
	"no spam folder holds anything at the end"
s "SELECT '        on the server: ' || folder || ' ' || count(*) FROM mail
	GROUP BY folder"

# ---- replies are threaded ----
nreplies=$(q "SELECT count(*) FROM exchanges WHERE parent_exchange_id IS NOT NULL
	AND state = 'sent'")
assert_match "$nreplies" '^[1-9][0-9]*$' "replies were sent ($nreplies)"
assert_eq "" "$(q "SELECT 'reply ' || e.id || ' to ' || p.id FROM exchanges e
	JOIN exchanges p ON p.id = e.parent_exchange_id
	WHERE e.sender_inbox_id <> p.recipient_inbox_id
	  OR e.recipient_inbox_id <> p.sender_inbox_id OR e.depth <> p.depth + 1
	  OR e.depth >= 3 OR p.state <> 'sent' LIMIT 10")" \
	"a reply goes back from the parent's recipient to its sender, at most 3 deep"
assert_eq "" "$(s "SELECT 'reply ' || e.id || ': In-Reply-To [' ||
	m.in_reply_to || '] parent [' || p.message_id || '] subject [' ||
	m.subject || ']' FROM h.exchanges e
	JOIN h.exchanges p ON p.id = e.parent_exchange_id
	JOIN h.inboxes r ON r.id = e.recipient_inbox_id
	JOIN mail m ON m.token = e.token AND m.address = r.address
	  AND m.folder IS NOT r.sent_folder
	WHERE e.state = 'sent' AND NOT (m.in_reply_to = p.message_id AND
	  substr(m.subject, 1, 4) = 'Re: ') LIMIT 10" 2>&1)" \
	"on the server each reply has In-Reply-To: the parent's Message-ID and Subject: Re: ..."
assert_eq "$nreplies" "$(s "SELECT count(*) $at_recipient AND
	e.parent_exchange_id IS NOT NULL")" "every sent reply was checked on the server"

# ---- ramp days ----
counts="SELECT sender_inbox_id AS i, day AS d, count(*) AS planned,
	sum(state = 'sent') AS sent, coalesce(sum(placement = 'inbox'), 0) AS inbox,
	coalesce(sum(placement = 'spam'), 0) AS spam, sum(rescued) AS rescued,
	sum(read) AS read, sum(flagged) AS flagged, sum(replied) AS replied,
	sum(state = 'failed') AS failed FROM exchanges GROUP BY 1, 2"
assert_eq "" "$(q "SELECT 'inbox ' || r.inbox_id || ' ' || r.day || ': row ' ||
	r.planned || '/' || r.sent || '/' || r.inbox || '/' || r.spam || '/' ||
	r.rescued || '/' || r.read || '/' || r.flagged || '/' || r.replied ||
	'/' || r.failed || ' exchanges ' || c.planned || '/' || c.sent || '/' ||
	c.inbox || '/' || c.spam || '/' || c.rescued || '/' || c.read || '/' ||
	c.flagged || '/' || c.replied || '/' || c.failed
	FROM ramp_days r JOIN ($counts) c ON c.i = r.inbox_id AND c.d = r.day
	WHERE (r.planned, r.sent, r.inbox, r.spam, r.rescued, r.read, r.flagged,
	  r.replied, r.failed) IS NOT (c.planned, c.sent, c.inbox, c.spam,
	  c.rescued, c.read, c.flagged, c.replied, c.failed) LIMIT 10")" \
	"per sender and day the ramp day row counts what its exchanges say (planned/sent/inbox/spam/rescued/read/flagged/replied/failed)"
assert_eq "" "$(q "SELECT 'inbox ' || c.i || ' ' || c.d || ': no row' FROM ($counts) c
	WHERE NOT EXISTS (SELECT 1 FROM ramp_days r WHERE r.inbox_id = c.i
	AND r.day = c.d) UNION ALL SELECT 'inbox ' || inbox_id || ' ' || day ||
	': counts without exchanges' FROM ramp_days r WHERE r.planned + r.sent > 0
	AND NOT EXISTS (SELECT 1 FROM exchanges e WHERE e.sender_inbox_id =
	r.inbox_id AND e.day = r.day) LIMIT 10")" \
	"every sender-day with exchanges has a ramp day row, and no row counts phantoms"
assert_eq "$(s "SELECT count(DISTINCT m.token) FROM mail m JOIN h.inboxes i
	ON i.address = m.address WHERE m.folder IS NOT i.sent_folder")" \
	"$(q "SELECT sum(sent) FROM ramp_days")" \
	"the ramp days' sent add up to the messages the recipients hold"
q "SELECT '        ' || day || ' volume ' || sum(volume) || ' sent ' || sum(sent) ||
	' inbox ' || sum(inbox) || ' spam ' || sum(spam) || ' replied ' ||
	sum(replied) FROM ramp_days GROUP BY day"
step="CAST(substr(ramp_state, 6, instr(ramp_state, ' ') - 6) AS INTEGER)"
didx="CAST(julianday(r.day) - julianday('$start') AS INTEGER)"
warm="(SELECT i.id FROM inboxes i JOIN domains d ON d.id = i.domain_id
	WHERE d.name <> '$cold')"
assert_eq "12 $days" "$(q "SELECT count(DISTINCT inbox_id) || ' ' ||
	min(n) FROM (SELECT inbox_id, count(*) AS n FROM ramp_days
	WHERE day BETWEEN '$start' AND date('$start', '+$((days - 1)) days')
	AND ramp_state LIKE 'step=%' GROUP BY inbox_id)")" \
	"each inbox has a ramp day row with its ramp state for each of the $days days"
assert_eq "" "$(q "SELECT inbox_id || ': ' || ramp_state FROM ramp_days
	WHERE day = '$start' AND ramp_state NOT LIKE 'step=0 %'")" \
	"the ramps start at step 0"
assert_eq "" "$(q "SELECT r.inbox_id || ' ' || r.day || ': ' || r.ramp_state
	FROM ramp_days r WHERE r.inbox_id IN $warm AND r.day BETWEEN '$start'
	AND date('$start', '+$((days - 1)) days') AND $step <> $didx")" \
	"the warm inboxes' ramps advance a step a day"
assert_eq "" "$(q "SELECT r.inbox_id || ' ' || r.day || ': ' || r.ramp_state ||
	' after ' || y.ramp_state FROM ramp_days r JOIN ramp_days y
	ON y.inbox_id = r.inbox_id AND y.day = date(r.day, '-1 day')
	WHERE r.ramp_state IS NOT NULL AND y.ramp_state IS NOT NULL AND
	CAST(substr(r.ramp_state, 6, instr(r.ramp_state, ' ') - 6) AS INTEGER) <
	CAST(substr(y.ramp_state, 6, instr(y.ramp_state, ' ') - 6) AS INTEGER)")" \
	"no ramp goes back a step"
q "SELECT '        cold ' || i.address || ': ' || group_concat(r.volume || ' (' ||
	r.ramp_state || ')', ', ') FROM ramp_days r JOIN inboxes i ON i.id = r.inbox_id
	JOIN domains d ON d.id = i.domain_id WHERE d.name = '$cold' AND
	r.ramp_state IS NOT NULL GROUP BY i.id"
# The profiles (ramp.h): standard 5 -> 40 over 21 days, linear; safe 3 -> 30
# over 28 days, S-curve; both x0.4 on weekends and +-12% jitter.
assert_eq "safe:4 standard:8" "$(q "SELECT group_concat(p || ':' || n, ' ')
	FROM (SELECT ramp_profile AS p, count(*) AS n FROM inboxes GROUP BY 1
	ORDER BY 1)")" "the inboxes have the ramp profiles of the CSV file"
curve="CAST(CASE i.ramp_profile
	WHEN 'standard' THEN 5 + 35.0 * $step / 20
	WHEN 'safe' THEN 3 + 27.0 * ($step / 27.0) * ($step / 27.0) *
	  (3 - 2 * $step / 27.0) END + 0.5 AS INTEGER)"
assert_eq "" "$(q "SELECT r.inbox_id || ' ' || r.day || ' (' || ramp_profile ||
	'): volume ' || r.volume || ', the profile says ' || v FROM (SELECT r.*,
	i.ramp_profile, $curve * (CASE WHEN strftime('%w', r.day) IN ('0', '6')
	THEN 0.4 ELSE 1 END) AS v FROM ramp_days r JOIN inboxes i
	ON i.id = r.inbox_id) r WHERE r.inbox_id IN $warm
	AND r.ramp_state IS NOT NULL AND abs(r.volume - v) > v * 0.12 + 1 LIMIT 10")" \
	"the warm inboxes' volumes follow their profiles (weekends x0.4)"
assert_eq "" "$(q "SELECT r.inbox_id || ' ' || r.day || ': ' || r.volume ||
	' not below Friday''s ' || f.volume FROM ramp_days r JOIN ramp_days f
	ON f.inbox_id = r.inbox_id AND f.day = '2026-12-11'
	WHERE r.day IN ('2026-12-12', '2026-12-13') AND r.volume >= f.volume
	AND r.inbox_id IN $warm")" \
	"the weekend's volumes are lower than Friday's"
assert_eq "" "$(q "SELECT p.day || ': ' || p.sends || ' sends + ' || p.unplaced ||
	' unplaced, volumes ' || (SELECT sum(volume) FROM ramp_days r
	WHERE r.day = p.day) || ', first messages ' || (SELECT count(*) FROM
	exchanges e WHERE e.day = p.day AND e.depth = 0) FROM plan_days p
	WHERE p.sends + p.unplaced <> (SELECT sum(volume) FROM ramp_days r
	  WHERE r.day = p.day)
	OR p.sends <> (SELECT count(*) FROM exchanges e WHERE e.day = p.day
	  AND e.depth = 0)")" \
	"each day's plan holds its volume: sends + unplaced = volumes, sends = first messages"
assert_eq $days "$(q "SELECT count(*) FROM plan_days")" "one plan per day"

# ---- status ----
json=$(hc "$conf" status --json --day 2026-12-11)
assert_eq 0 $? "status --json --day exits 0"
got=$(printf '%s' "$json" | python3 -c 'import json, sys
d = json.load(sys.stdin)
p = [p for p in d["pools"] if p["name"] == "agency"][0]
print(d["day"], len(p["inboxes"]), p["exchanges"]["sent"],
      sum(i["sent"] for i in p["inboxes"]), len(p["paused"]))' 2>&1)
assert_eq "2026-12-11 12 $(q "SELECT count(*) FROM exchanges WHERE
	day = '2026-12-11' AND state = 'sent'") $(q "SELECT sum(sent) FROM
	ramp_days WHERE day = '2026-12-11'") 0" "$got" \
	"status --json parses and shows the pool: day, 12 inboxes, the day's sent, none paused"
hc "$conf" status --json | python3 -c 'import json, sys; json.load(sys.stdin)'
assert_eq 0 $? "status --json (the simulated day) parses"
assert_match "$(hc "$conf" status --day 2026-12-11)" 'pool agency +day 2026-12-11' \
	"status prints the pool"

# ---- the readiness report: as of the last simulated day (not the real
# clock's, which may be past it), the window being the whole week ----
last=$(date -u -d "$start +$((days - 1)) days" +%Y-%m-%d)
schema=$(cd "$(dirname "$0")/../.." && pwd)/docs/report.schema.json
hc "$conf" report --format json --as-of "$last" -o "$a/report.json"
assert_eq 0 $? "report --format json exits 0"
if python3 -c 'import jsonschema' 2>/dev/null; then
	assert_eq "" "$(python3 -c 'import json, sys, jsonschema
v = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))
for e in list(v.iter_errors(json.load(open(sys.argv[2]))))[:5]:
    print("/".join(map(str, e.path)) + ": " + e.message)' "$schema" "$a/report.json" 2>&1)" \
		"the report validates against docs/report.schema.json"
else
	echo "        note: python3-jsonschema is not installed (tools/setup): the report is not validated"
fi
win="r.day BETWEEN date('$last', '-$((days - 1)) days') AND '$last'"
assert_eq "$(q "SELECT group_concat(x, ' ') FROM (SELECT i.address || ':' ||
	sum(r.inbox) || '/' || sum(r.spam) || '/' || sum(r.inbox + r.spam +
	r.other + r.missing) || '/' || sum(r.sent) AS x FROM inboxes i
	JOIN ramp_days r ON r.inbox_id = i.id AND $win GROUP BY i.id
	ORDER BY i.address)")" "$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join("%s:%d/%d/%d/%d" % (i["address"], w["inbox"], w["spam"],
    w["measured"], w["sent"]) for i in sorted(d["inboxes"],
    key=lambda i: i["address"]) for w in [i["window"]]))' "$a/report.json" 2>&1)" \
	"the report's window figures are the ramp day rows' (inbox/spam/measured/sent)"
got=$(python3 -c 'import json, sys
d, cold = json.load(open(sys.argv[1])), sys.argv[2]
bad = []
for i in d["inboxes"]:
    w, r = i["window"], i["ramp"]
    if i["domain"] == cold:
        if i["verdict"] == "ready" or w["spam_share"] != 1 or w["measured"] == 0:
            bad.append("cold %s: %s, spam share %s" % (i["address"], i["verdict"], w["spam_share"]))
    elif not (i["verdict"] == "warming" and w["inbox_share"] == 1 and
              w["spam"] == 0 and w["measured"] > 0 and r["step"] == 6 and
              r["days"] in (21, 28) and not r["complete"] and
              0 < i["score"] <= 100 and i["reasons"]):
        bad.append("warm %s: %s %s %s" % (i["address"], i["verdict"], w, r))
s = d["summary"]
print(d["as_of"], s["inboxes"], s["ready"], len(d["clients"]), bad)' "$a/report.json" $cold 2>&1)
assert_eq "$last 12 0 4 []" "$got" \
	"report: as of $last, 12 inboxes, none ready; the cold domain's all in spam, the warm ones all inbox, warming at step 6"
hc "$conf" report --format json --as-of "$last" --client brightpath >"$a/report-bp.json"
assert_eq "brightpath 2" "$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(d["scope"]["client"], len(d["inboxes"]))' "$a/report-bp.json" 2>&1)" \
	"report --client brightpath: its two inboxes"
assert_eq "" "$(grep -ioE 'acme|northwind' "$a/report-bp.json" | sort -u | tr '\n' ' ')" \
	"and no other client's name, address or domain"

phase "checked"

# ---- the same seed, the same plan: a second install enrolled identically ----
b=$work/b
out=$(enroll "$b")
assert_match "$out" '12 enrolled' "a second install enrolled the same way"
ids="SELECT group_concat(id || ' ' || address) FROM (SELECT * FROM inboxes
	ORDER BY id)"
assert_eq "$(q "$ids")" "$(sqlite3 "file:$b/data/hearth.db?mode=ro" "$ids")" \
	"with the same inbox ids"
out=$(hc "$b/hearth.conf" simulate --days 1 --start $start --seed 7 \
	--log "$b/engine.log" 2>"$b/simulate.err")
assert_match "$out" 'complete=1' "the second install simulates day 1"
plan="SELECT sender_inbox_id, recipient_inbox_id, planned_at FROM exchanges
	WHERE depth = 0 AND day = '$start' ORDER BY 1, 2, 3"
p1=$(q "$plan")
p2=$(sqlite3 "file:$b/data/hearth.db?mode=ro" "$plan")
assert_match "$(echo "$p1" | wc -l)" '^[1-9][0-9]+$' "day 1 has a plan"
assert_eq "$p1" "$p2" "the same seed gives the same day-1 plan"
vols="SELECT group_concat(inbox_id || ':' || volume) FROM (SELECT * FROM
	ramp_days WHERE day = '$start' ORDER BY inbox_id)"
assert_eq "$(q "$vols")" "$(sqlite3 "file:$b/data/hearth.db?mode=ro" "$vols")" \
	"and the same day-1 volumes"

phase "second install simulated and compared"

# ---- nothing left running ----
assert_eq "" "$(pgrep -af -- "$work/" || true)" "no hearth process of this test is left"
[ "$_assert_fail" -eq 0 ] || {
	echo "engine log: $a/engine.log (LAB_KEEP=1 keeps it)"
	grep -E ' (warn|error) ' "$a/engine.log" | grep -v ' warn planner ' | head -20
}
assert_done
