#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The command line's contract: --version, --help, exit codes from sysexits.h.
. "$(dirname "$0")/lab/assert.sh"
hearth=$1

out=$("$hearth" --version); assert_eq 0 $? "--version exits 0"
assert_match "$out" '^hearth [0-9]+\.[0-9]+\.[0-9]+$' "--version prints the version"
out=$("$hearth" version); assert_match "$out" '^hearth [0-9]' "version command"
out=$("$hearth" --help); assert_eq 0 $? "--help exits 0"
assert_match "$out" 'usage: hearth' "--help prints usage"
out=$("$hearth" version --help); assert_match "$out" 'usage: hearth version' "command --help"
"$hearth" >/dev/null 2>&1; assert_eq 64 $? "no command is EX_USAGE"
err=$("$hearth" frobnicate 2>&1); assert_eq 64 $? "unknown command is EX_USAGE"
assert_match "$err" "'frobnicate' is not a command" "unknown command is named"
"$hearth" --bogus >/dev/null 2>&1; assert_eq 64 $? "unknown option is EX_USAGE"
for c in init pool client inbox seeds run simulate status report; do
	out=$("$hearth" $c --help); assert_eq 0 $? "$c --help exits 0"
	assert_match "$out" "usage: hearth $c" "$c --help prints its usage"
done
"$hearth" inbox frob >/dev/null 2>&1; assert_eq 64 $? "an unknown subcommand is EX_USAGE"
# No database yet: commands that need one say so and how to make one.
tmp=$(mktemp -d)
err=$(HOME=$tmp XDG_DATA_HOME=$tmp/data XDG_CONFIG_HOME=$tmp/conf "$hearth" pool list 2>&1)
assert_eq 66 $? "no database is EX_NOINPUT"
assert_match "$err" "hearth init" "and names the command that makes one"
err=$(HOME=$tmp "$hearth" --config "$tmp/nope.conf" pool list 2>&1)
assert_eq 78 $? "a missing named config file is EX_CONFIG"
printf '[store]\nbogus = 1\n' >"$tmp/bad.conf"
err=$(HOME=$tmp "$hearth" --config "$tmp/bad.conf" pool list 2>&1)
assert_match "$err" "bad.conf:2:" "a config error names file:line"
printf '[network]\n\ndns = 127.0.0.1; rm -rf /\n' >"$tmp/bad.conf"
err=$(HOME=$tmp "$hearth" --config "$tmp/bad.conf" pool list 2>&1)
assert_match "$err" "bad.conf:3: \\[network\\] dns" "a bad DNS server list names file:line"
out=$(HOME=$tmp "$hearth" seeds check); assert_eq 0 $? "seeds check of the shipped corpus"
assert_match "$out" "topics in 'en'" "and counts its topics"
a=$(HOME=$tmp "$hearth" seeds sample --seed 7 --count 2 --reply)
b=$(HOME=$tmp "$hearth" seeds sample --seed 7 --count 2 --reply)
assert_eq "$a" "$b" "seeds sample is deterministic for a seed"
assert_match "$a" "^Subject: " "and renders messages"
assert_match "$a" "Subject: Re: " "and replies"
mkdir "$tmp/seeds"; printf '@lang en\n@topic x\n@section subjects\nHi {there\n' >"$tmp/seeds/bad.txt"
err=$(HOME=$tmp "$hearth" seeds check --seeds "$tmp/seeds" 2>&1)
assert_eq 65 $? "a bad corpus is EX_DATAERR"
assert_match "$err" "bad.txt:4:" "and its error names file:line"
# enrolling settings without a server: --dry-run; ramp overrides checked
dry() { HOME=$tmp "$hearth" inbox add sam@acme.test --provider generic \
	--smtp-host 127.0.0.1 --smtp-port 2525 --smtp-security starttls \
	--imap-host 127.0.0.1 --imap-port 9993 --imap-security tls --dry-run "$@" 2>&1; }
out=$(dry --ramp "target=35, reply=0.25"); assert_eq 0 $? "inbox add --ramp with good overrides"
assert_match "$out" "ramp +standard target=35, reply=0.25, 09:00-17:30 UTC" "and shows them"
out=$(dry --ramp "days=abc"); assert_eq 65 $? "a bad --ramp is EX_DATAERR"
assert_match "$out" "days must be a whole number from 1 to 365" "and says what is wrong"
out=$(dry --ramp "speed=9"); assert_eq 65 $? "an unknown --ramp key is refused"
out=$("$hearth" simulate 2>&1); assert_eq 64 $? "simulate without --days is EX_USAGE"
assert_match "$out" "--days N is required" "and says what is missing"
out=$("$hearth" simulate --days 0 2>&1); assert_eq 64 $? "simulate --days 0 is EX_USAGE"
out=$("$hearth" simulate --days 2 --start 2026-02-30 2>&1); assert_eq 64 $? "a bad --start date is EX_USAGE"
out=$("$hearth" run --workers 65 2>&1); assert_eq 64 $? "run --workers 65 is EX_USAGE"
# hearth status over a database written with sqlite3: the domains block
# (each domain's newest check up to the day shown) and today's bounced and
# auto-replies per inbox.
if command -v sqlite3 >/dev/null; then
	printf '[store]\ndata_dir = %s/sdata\n' "$tmp" >"$tmp/status.conf"
	hs() { HOME=$tmp "$hearth" --config "$tmp/status.conf" "$@"; }
	hs --quiet init && hs --quiet pool add agency
	sql() { sqlite3 -batch -bail "$tmp/sdata/hearth.db" "$1"; }
	for a in sam@good.test jo@bad.test al@new.test; do
		sql "INSERT OR IGNORE INTO domains (name, created_at) VALUES ('${a#*@}', 0);
		INSERT INTO inboxes (address, pool_id, client_id, domain_id, provider,
		  smtp_host, smtp_port, smtp_security, imap_host, imap_port,
		  imap_security, username, secret_kind, secret_command, ramp_profile,
		  window_start, window_end, timezone, state, created_at)
		SELECT '$a', p.id, c.id, d.id, 'generic', '127.0.0.1', 587, 'starttls',
		  '127.0.0.1', 993, 'tls', '$a', 'command', 'true', 'standard',
		  '09:00', '17:30', 'UTC', 'active', 0
		FROM pools p, clients c, domains d
		WHERE p.name = 'agency' AND c.name = 'default' AND d.name = '${a#*@}'"
	done
	sql "INSERT INTO ramp_days (inbox_id, day, volume, planned, sent, bounced,
	  auto_replies) SELECT id, '2026-03-20', 10, 10, 9, 2, 3 FROM inboxes
	  WHERE address = 'jo@bad.test'"
	# check DOMAIN 'YYYY-MM-DD HH:MM' WORST FAILURE|NULL
	check() {
		local f=NULL
		[ "$4" = NULL ] || f="'$4'"
		sql "INSERT INTO domain_checks (domain_id, checked_at, worst, failure,
		  report) SELECT id, $(date -u -d "$2" +%s), '$3', $f, '{\"findings\":[]}'
		  FROM domains WHERE name = '$1'"
	}
	check good.test '2026-03-19 06:00' pass NULL
	check bad.test '2026-03-18 06:00' pass NULL
	check bad.test '2026-03-20 07:30' fail 'SPF of bad.test does not authorise 127.0.0.1 (add ip4:127.0.0.1 to the SPF record of bad.test)'
	check bad.test '2026-03-21 07:30' pass NULL
	out=$(hs status --day 2026-03-20)
	assert_eq 0 $? "status with checked domains exits 0"
	block=$(printf '%s\n' "$out" | sed -n '/^domains$/,/^pool /p' | sed '$d')
	assert_eq "domains
  bad.test                           fail    checked 2026-03-20 07:30 UTC
    SPF of bad.test does not authorise 127.0.0.1 (add ip4:127.0.0.1 to the SPF record of bad.test)
  good.test                          pass    checked 2026-03-19 06:00 UTC
  new.test                           not checked yet" "$block" \
		"status: the domains block, each domain's newest check up to the day (a later one left out)"
	assert_match "$out" ' bounced autorep  ramp' "status: bounced and auto-replies columns"
	assert_match "$out" 'jo@bad\.test +active +10 +10 +9 +0 +0 +0 +0 +0 +2 +3  -' \
		"status: today's bounced and auto-replies of an inbox"
	out=$(hs status --json --day 2026-03-20 | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join("%s:%s:%s:%s" % (x["name"], x["worst"], x["checked_at"], bool(x["failure"])) for x in d["domains"]))
i = [x for p in d["pools"] for x in p["inboxes"] if x["address"] == "jo@bad.test"][0]
print(i["bounced"], i["auto_replies"])' 2>&1)
	assert_eq "bad.test:fail:$(date -u -d '2026-03-20 07:30' +%s):True good.test:pass:$(date -u -d '2026-03-19 06:00' +%s):False new.test:None:None:False
2 3" "$out" "status --json: domains with their newest check; bounced and auto_replies per inbox"
	out=$(hs status --day 2026-03-21)
	assert_match "$out" 'bad\.test +pass +checked 2026-03-21 07:30 UTC' "status: a later day shows the later check"
	out=$(hs status --pool nosuch)
	assert_no_match "$out" '^domains' "status --pool of no pool: no domains block"
else
	echo "        note: sqlite3 is not installed: status's domains block is not checked"
fi
rm -rf "$tmp"
assert_done
