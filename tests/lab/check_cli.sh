#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `hearth check` from the command line against a real DNS server: a dnsmasq
# on 127.0.0.1 (local data only, it never forwards) named by the
# configuration's [network] dns. A domain with no inbox enrolled, an address
# that is not enrolled, --json, exit statuses, usage errors, a DNS server
# that does not answer; then, on a mail lab (root), inboxes enrolled with
# `hearth inbox add`, whose SMTP host becomes the sending host SPF must
# authorise.
here=$(cd "$(dirname "$0")" && pwd)
hearth=${HEARTH:?the hearth binary (set by ctest)}
dnsmasq=/usr/sbin/dnsmasq
lab=0
if [ "$(id -u)" -eq 0 ] && command -v postfix >/dev/null &&
	command -v dovecot >/dev/null && command -v curl >/dev/null; then
	. "$here/lib.sh" # traps EXIT to stop the lab
	lab=1
else
	. "$here/assert.sh"
fi
[ -x "$dnsmasq" ] || skip "dnsmasq is not installed (run tools/setup)"
command -v openssl >/dev/null || skip "openssl is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"
work=$(mktemp -d /tmp/hearth-check.XXXXXX)
pid=
cleanup() {
	[ -z "$pid" ] || kill "$pid" 2>/dev/null
	rm -rf "$work"
	[ "$lab" = 0 ] || _lab_cleanup
}
trap cleanup EXIT

# A DKIM key: the SubjectPublicKeyInfo in base64, in TXT strings of 200.
key=$(openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null |
	openssl pkey -pubout -outform DER | base64 -w0)
[ ${#key} -gt 300 ] || { echo "no key from openssl"; exit 1; }
dkim="v=DKIM1; k=rsa; p=${key:0:200},${key:200}"

conf=$work/hearth.conf
h() { "$hearth" --config "$conf" "$@"; }
# A port of our own: try a few until dnsmasq binds one.
for try in 1 2 3 4 5; do
	port=$((20000 + (RANDOM % 20000)))
	"$dnsmasq" --keep-in-foreground --conf-file=/dev/null --no-resolv \
		--no-hosts --no-poll --listen-address=127.0.0.1 --bind-interfaces \
		--port="$port" --pid-file= --log-facility=/dev/null \
		--local=/test/ --local=/google.com/ --local-ttl=300 \
		--mx-host=ck.test,mx.ck.test,10 --host-record=mx.ck.test,127.0.0.1 \
		--txt-record=ck.test,"v=spf1 ip4:127.0.0.1 -all" \
		--txt-record=default._domainkey.ck.test,"$dkim" \
		--txt-record=_dmarc.ck.test,"v=DMARC1; p=reject; rua=mailto:d@ck.test" \
		--mx-host=bad.test,mx.bad.test,10 --host-record=mx.bad.test,127.0.0.1 \
		--txt-record=bad.test,"v=spf1 ip4:192.0.2.1 -all" \
		--txt-record=_dmarc.bad.test,"v=DMARC1; p=none; rua=mailto:d@bad.test" \
		--host-record=bad.test.dbl.test,127.0.1.2 \
		--txt-record=bad.test.dbl.test,"Listed: see https://dbl.test/bad.test" \
		--mx-host=gw.test,aspmx.l.google.com,1 \
		--txt-record=gw.test,"v=spf1 include:_spf.google.com -all" \
		--txt-record=_spf.google.com,"v=spf1 ip4:192.0.2.0/24 ~all" \
		--txt-record=google._domainkey.gw.test,"$dkim" \
		--txt-record=_dmarc.gw.test,"v=DMARC1; p=quarantine; rua=mailto:d@gw.test" &
	pid=$!
	cat >"$conf" <<EOF
[store]
data_dir = $work/data
[network]
dns = 127.0.0.1:$port
timeout = 10
[checks]
domain_lists = dbl.test
ip_lists = ipbl.test
EOF
	for _ in $(seq 30); do
		h check ck.test >/dev/null 2>&1
		[ $? = 75 ] || break 2
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
done
[ -n "$pid" ] || { echo "dnsmasq did not start"; exit 1; }

# --- DOMAIN and ADDRESS forms without a database -------------------------
out=$(h check ck.test)
assert_eq 0 $? "a domain where every check passes exits 0"
assert_match "$out" '^ck.test: provider not recognised' "the header names the domain"
assert_match "$out" 'authorisation of a sending host was not checked' \
	"and says no sending host was checked"
assert_match "$out" '^spf$' "findings are grouped by check"
assert_match "$out" '  pass     DKIM key at default._domainkey.ck.test: RSA 2048 bits' \
	"a status word and the summary"
assert_match "$out" 'result: pass' "and the result at the end"
json=$(h check ck.test --json)
assert_eq 0 $? "--json exits 0 too"
printf '%s' "$json" >"$work/ck.json"
assert_ok "--json prints one JSON document" python3 -c "
import json, sys
r = json.load(open('$work/ck.json'))
assert r['domain'] == 'ck.test' and r['worst'] == 'pass', r
assert r['failure'] is None
checks = [f['check'] for f in r['findings']]
for c in ('mx', 'spf', 'dkim', 'dmarc', 'blacklist'):
    assert c in checks, c
for f in r['findings']:
    assert set(f) == {'check', 'status', 'summary', 'fix', 'record'}, f
"
out=$(h check bad.test)
assert_eq 1 $? "a failing check exits 1"
assert_match "$out" 'fail     bad.test is listed on dbl.test \(127.0.1.2\)' "a listed domain fails"
assert_match "$out" 'fix: request delisting from the operator of dbl.test: https://dbl.test/bad.test' \
	"with the delisting page as the fix"
assert_match "$out" 'warn     DMARC of bad.test is p=none' "p=none warns"
out=$(h check bad.test --sending-host 127.0.0.1)
assert_eq 1 $? "--sending-host"
assert_match "$out" 'fail     SPF of bad.test does not authorise 127.0.0.1' \
	"an address SPF does not authorise fails"
assert_match "$out" 'fix: add ip4:127.0.0.1 to the SPF record of bad.test' "and says what to add"
out=$(h check nobody@ck.test)
assert_eq 0 $? "an address that is not enrolled: its domain is checked"
assert_match "$out" 'note: nobody@ck.test is not enrolled' "and says it is not enrolled"
out=$(h check sam@gw.test)
assert_eq 0 $? "a Google Workspace domain with Google's include passes"
assert_match "$out" '^gw.test: provider google' "the provider recognised from the MX"
assert_match "$out" "includes google's servers \\(include:_spf.google.com\\)" \
	"the provider's include is checked"
assert_match "$out" "SPF was checked for google's include only" "and says so"
out=$(h check ck.test --provider google)
assert_eq 1 $? "--provider: a domain without that provider's include fails"
assert_match "$out" 'fix: add include:_spf.google.com to the SPF record of ck.test' \
	"with the include to add"
out=$(h --quiet check bad.test)
assert_eq "1:" "$?:$out" "--quiet prints nothing, the status tells"

# --- usage, configuration, DNS ---------------------------------------------
out=$(h check 2>&1); assert_eq 64 $? "no argument is EX_USAGE"
assert_match "$out" "give one DOMAIN or ADDRESS" "and says what to give"
out=$(h check 'not a domain' 2>&1); assert_eq 64 $? "a malformed domain is EX_USAGE"
out=$(h check a@b@c.test 2>&1); assert_eq 64 $? "a malformed address is EX_USAGE"
out=$(h check ck.test bad.test 2>&1); assert_eq 64 $? "two arguments are EX_USAGE"
out=$(h check ck.test --provider lotus 2>&1); assert_eq 64 $? "an unknown provider is EX_USAGE"
out=$(h check ck.test --sending-host 'smtp host' 2>&1); assert_eq 64 $? "a malformed --sending-host is EX_USAGE"
out=$(h check --help); assert_eq 0 $? "check --help exits 0"
assert_match "$out" 'usage: hearth check DOMAIN\|ADDRESS' "and prints the usage"
out=$(h --help); assert_match "$out" '  check ' "hearth --help lists check"
sed "s/^dns = .*/dns = 127.0.0.1:9/" "$conf" >"$work/dead.conf"
out=$("$hearth" --config "$work/dead.conf" check ck.test 2>&1)
assert_eq 75 $? "a DNS server that does not answer is EX_TEMPFAIL"
assert_match "$out" 'DNS did not answer' "and says so"
printf '[checks]\nip_lists = bad zone\n' >"$work/bad.conf"
out=$("$hearth" --config "$work/bad.conf" check ck.test 2>&1)
assert_eq 78 $? "a bad [checks] list is EX_CONFIG"
assert_match "$out" 'bad.conf:2: \[checks\] ip_lists' "naming file:line"

# --- enrolled inboxes (the lab) ----------------------------------------------
if [ "$lab" = 0 ]; then
	echo "SKIP    enrolled inboxes: the mail lab needs root, Postfix and Dovecot"
	assert_done
fi
lab_start 11000 --domains ck.test,bad.test --users 1
# the lab's CA for the probes
cat >"$conf" <<EOF
[store]
data_dir = $work/data
[network]
dns = 127.0.0.1:$port
timeout = 10
ca_file = $LAB_CA
[checks]
domain_lists = dbl.test
ip_lists = ipbl.test
EOF
assert_ok "init" h init
assert_ok "client add" h client add acme
assert_ok "pool add" h pool add agency
for a in user1@ck.test user1@bad.test; do
	echo lab-secret | h inbox add "$a" --provider generic --smtp-host 127.0.0.1 \
		--smtp-port "$LAB_SUBMISSION_PORT" --smtp-security starttls \
		--imap-host 127.0.0.1 --imap-port "$LAB_IMAPS_PORT" \
		--imap-security tls --client acme --pool agency --password-stdin \
		>>"$work/enroll.log" 2>&1
	assert_eq 0 $? "inbox add $a"
done
json=$(h check user1@ck.test --json)
assert_eq 0 $? "an enrolled address whose SMTP host SPF authorises exits 0"
assert_match "$json" '"provider": "generic"' "its provider is the inbox's"
assert_match "$json" 'SPF of ck.test authorises 127.0.0.1 through .ip4:127.0.0.1.' \
	"its SMTP host is the sending host SPF is evaluated for"
out=$(h check user1@bad.test)
assert_eq 1 $? "an enrolled address whose SMTP host SPF does not authorise exits 1"
assert_match "$out" '^bad.test: provider generic, sending host 127.0.0.1' \
	"the header names the inbox's provider and SMTP host"
assert_match "$out" 'fix: add ip4:127.0.0.1 to the SPF record of bad.test' "and the fix"
out=$(h check bad.test)
assert_eq 1 $? "the DOMAIN form uses the enrolled inboxes of the domain"
assert_match "$out" 'sending host 127.0.0.1' "and their SMTP hosts"
assert_no_match "$out" 'not checked' "so the sending host was checked"
assert_done
