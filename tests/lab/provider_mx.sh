#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# An inbox's provider recognised from its domain's MX records, through a
# real DNS server: a dnsmasq on 127.0.0.1 (local data only, it never
# forwards) named by the configuration's [network] dns. `inbox add
# --dry-run` shows what enrolling would use, so no provider is contacted.
. "$(dirname "$0")/assert.sh"
hearth=${HEARTH:?the hearth binary (set by ctest)}
dnsmasq=/usr/sbin/dnsmasq
[ -x "$dnsmasq" ] || skip "dnsmasq is not installed (run tools/setup)"
work=$(mktemp -d /tmp/hearth-mx.XXXXXX)
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

h() { "$hearth" --config "$work/hearth.conf" "$@"; }
# A port of our own: try a few until dnsmasq binds one.
for try in 1 2 3 4 5; do
	port=$((20000 + (RANDOM % 20000)))
	"$dnsmasq" --keep-in-foreground --conf-file=/dev/null --no-resolv \
		--no-hosts --no-poll --listen-address=127.0.0.1 --bind-interfaces \
		--port="$port" --pid-file= --log-facility=/dev/null \
		--local=/test/ --local-ttl=300 \
		--mx-host=gw.test,alt1.aspmx.l.google.com,20 \
		--mx-host=gw.test,aspmx.l.google.com,10 \
		--mx-host=ms.test,ms-test.mail.protection.outlook.com,0 \
		--mx-host=fm.test,in1-smtp.messagingengine.com,10 \
		--mx-host=self.test,mx.self.test,10 \
		--host-record=nomx.test,192.0.2.1 &
	pid=$!
	printf '[store]\ndata_dir = %s/data\n[network]\ndns = 127.0.0.1:%s\n' \
		"$work" "$port" >"$work/hearth.conf"
	for _ in $(seq 30); do
		h inbox add a@gw.test --dry-run >/dev/null 2>&1 && break 2
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
done
[ -n "$pid" ] || { echo "dnsmasq did not start"; exit 1; }

out=$(h inbox add sam@gw.test --dry-run)
assert_eq 0 $? "a Google Workspace domain (MX at google.com) is recognised"
assert_match "$out" 'provider  google' "as google"
assert_match "$out" 'smtp      smtp.gmail.com:465 tls' "with Gmail's SMTP settings"
assert_match "$out" 'imap      imap.gmail.com:993 tls' "and IMAP settings"
out=$(h inbox add kim@ms.test --dry-run)
assert_match "$out" 'provider  microsoft' "Microsoft 365 from its MX"
assert_match "$out" 'smtp      smtp.office365.com:587 starttls' "with STARTTLS on 587"
out=$(h inbox add lee@fm.test --dry-run)
assert_match "$out" 'provider  fastmail' "Fastmail from its MX"
err=$(h inbox add ann@self.test --dry-run 2>&1)
assert_eq 65 $? "an MX of no known provider is refused"
assert_match "$err" 'give --provider, or --smtp-host and --imap-host' "and says what to give"
err=$(h inbox add bo@nomx.test --dry-run 2>&1)
assert_eq 65 $? "a domain without MX is refused"
err=$(h inbox add bo@missing.test --dry-run 2>&1)
assert_eq 65 $? "a domain that does not exist is refused"
out=$(h inbox add ceo@gw.test --provider microsoft --dry-run)
assert_match "$out" 'provider  microsoft' "--provider wins over the MX"
out=$(h inbox add x@gmail.com --dry-run)
assert_match "$out" 'provider  google' "a consumer domain needs no lookup"
assert_done
