#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What a sender hears back, for real, and the lab's DNS. The DNS (dnsmasq on
# 127.0.0.1 at the port base + 53) answers MX, A, SPF, DKIM and DMARC for
# every lab domain, MX and A only for a --dns-bare one, and the blocklist
# zones for what is --listed; it forwards nothing and stops with the lab.
# Mail to a user Dovecot no longer knows (maillab ghost) or whose mailbox is
# over quota (maillab full) is accepted, then bounced by Postfix with a DSN
# in the sender's mailbox; a user on vacation (Sieve) answers with an
# auto-reply; each is undone and mail flows again. With LAB_SAVE_SAMPLES=DIR
# one DSN of each kind and one vacation reply are copied there as
# lab-unknown-user.eml, lab-mailbox-full.eml and lab-vacation.eml (parser
# test data: tests/data/bounces).
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed (the DNS queries)"
[ -x /usr/sbin/dnsmasq ] || skip "dnsmasq is not installed (run tools/setup)"
lab_start 19000 --domains alpha.test,bravo.test --users 2 \
	--dns-bare bare.test --listed spam.test --listed 127.0.0.1
dir=$LAB_DIR
pw=lab-secret
msg=$(mktemp)
trap '_lab_cleanup; rm -f "$msg"' EXIT
samples=${LAB_SAVE_SAMPLES:-}

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# A message with a Message-ID and a token header, as hearth sends them:
# notice_message FROM TO ID SUBJECT
notice_message() {
	cat >"$msg" <<MSG
From: <$1>
To: <$2>
Subject: $4
Message-ID: <$3>
X-Hearth-Token: tok-$3
Date: $(date -R)
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

This is a lab message ($3).
MSG
}

# The header block of a message file, unfolded.
headers() {
	awk '{ sub(/\r$/, "") } /^$/ { exit } /^[ \t]/ { sub(/^[ \t]+/, " "); h = h $0; next }
		{ if (h != "") print h; h = $0 } END { if (h != "") print h }' "$1"
}

save_sample() { # file name
	[ -z "$samples" ] || install -m 644 "$1" "$samples/$2"
}

# --- (a) DNS --------------------------------------------------------------
assert_eq "127.0.0.1:19053 19053 lab dbl.lab.test bl.lab.test" \
	"$LAB_DNS $LAB_DNS_PORT $LAB_DKIM_SELECTOR $LAB_DOMAIN_LIST $LAB_IP_LIST" \
	"env: LAB_DNS, LAB_DNS_PORT, LAB_DKIM_SELECTOR, LAB_DOMAIN_LIST, LAB_IP_LIST"
assert_match "$("$MAILLAB" status "$dir")" 'dnsmasq +[0-9]+' "status shows dnsmasq's pid"
spki=$(openssl pkey -in "$LAB_DKIM_KEY" -pubout -outform DER 2>/dev/null | base64 -w0)
assert_match "$(openssl pkey -in "$LAB_DKIM_KEY" -noout -text 2>/dev/null | head -1)" \
	'2048 bit' "the lab's DKIM key is RSA 2048 ($LAB_DKIM_KEY)"
for d in alpha.test bravo.test; do
	assert_eq "NOERROR
MX 1 10 mail.lab.test" "$(lab_dns $d MX)" "$d: MX 10 mail.lab.test"
	assert_eq "NOERROR
TXT 1 \"v=spf1 ip4:127.0.0.1 -all\"" "$(lab_dns $d TXT)" "$d: SPF"
	assert_eq "NOERROR
TXT 1 \"v=DMARC1; p=quarantine; rua=mailto:dmarc@$d\"" \
		"$(lab_dns _dmarc.$d TXT)" "$d: DMARC at _dmarc.$d"
	dkim=$(lab_dns lab._domainkey.$d TXT)
	assert_eq 2 "$(grep -c . <<<"$dkim")" "$d: one DKIM record at lab._domainkey"
	longest=$(sed -n 2p <<<"$dkim" | cut -d' ' -f3- | grep -o '"[^"]*"' |
		awk '{ if (length($0) - 2 > m) m = length($0) - 2 } END { print m }')
	assert_match "$longest" '^(1[0-9]{2}|2[0-4][0-9]|25[0-5])$' \
		"$d: its strings are at most 255 bytes (longest $longest)"
	assert_eq "v=DKIM1; k=rsa; p=$spki" \
		"$(sed -n 2p <<<"$dkim" | cut -d' ' -f3- | sed -e 's/^"//' -e 's/"$//' -e 's/" "//g')" \
		"$d: DKIM p= is the lab key's SubjectPublicKeyInfo"
done
assert_eq "NOERROR
A 1 127.0.0.1" "$(lab_dns mail.lab.test A)" "the lab host's A record"
assert_eq "NOERROR
PTR 1 mail.lab.test" "$(lab_dns 1.0.0.127.in-addr.arpa PTR)" "and its PTR"
assert_eq "NOERROR
MX 1 10 mail.lab.test" "$(lab_dns alpha.test MX tcp)" "DNS over TCP too"
assert_eq "NOERROR
MX 1 10 mail.lab.test" "$(lab_dns bare.test MX)" "--dns-bare domain: MX"
assert_eq "NOERROR
A 1 127.0.0.1" "$(lab_dns bare.test A)" "--dns-bare domain: A"
assert_eq NOERROR "$(lab_dns bare.test TXT)" "--dns-bare domain: no SPF"
assert_eq NXDOMAIN "$(lab_dns _dmarc.bare.test TXT)" "--dns-bare domain: no DMARC"
assert_eq NXDOMAIN "$(lab_dns lab._domainkey.bare.test TXT)" "--dns-bare domain: no DKIM"
assert_eq "NOERROR
A 1 127.0.1.2" "$(lab_dns spam.test.dbl.lab.test A)" "a --listed domain is in dbl.lab.test"
assert_eq "NOERROR
TXT 1 \"listed by the lab: https://lab.test/lookup?spam.test\"" \
	"$(lab_dns spam.test.dbl.lab.test TXT)" "with a TXT reason"
assert_eq "NOERROR
A 1 127.0.0.2" "$(lab_dns 1.0.0.127.bl.lab.test A)" "a --listed address is in bl.lab.test"
assert_eq "NOERROR
TXT 1 \"listed by the lab: https://lab.test/lookup?127.0.0.1\"" \
	"$(lab_dns 1.0.0.127.bl.lab.test TXT)" "with a TXT reason"
assert_eq NXDOMAIN "$(lab_dns alpha.test.dbl.lab.test A)" "an unlisted domain: NXDOMAIN"
assert_eq NXDOMAIN "$(lab_dns 2.0.0.127.bl.lab.test A)" "an unlisted address: NXDOMAIN"
assert_eq NXDOMAIN "$(lab_dns nobody.alpha.test A)" "no record under a lab domain: NXDOMAIN"
assert_eq REFUSED "$(lab_dns example.com A)" "an outside name is refused, never forwarded"
assert_ok "listed add while running" "$MAILLAB" listed "$dir" add late.test 192.0.2.7
assert_eq "NOERROR
A 1 127.0.1.2" "$(lab_dns late.test.dbl.lab.test A)" "a domain listed later answers"
assert_eq "NOERROR
A 1 127.0.0.2" "$(lab_dns 7.2.0.192.bl.lab.test A)" "an address listed later answers"
assert_ok "listed del" "$MAILLAB" listed "$dir" del late.test 192.0.2.7
assert_eq NXDOMAIN "$(lab_dns late.test.dbl.lab.test A)" "and is gone after del"
assert_eq "spam.test
127.0.0.1" "$("$MAILLAB" listed "$dir" list)" "listed list"
assert_ok "dns-bare add a lab domain" "$MAILLAB" dns-bare "$dir" add alpha.test
assert_eq NOERROR "$(lab_dns alpha.test TXT)" "its SPF is gone"
assert_ok "dns-bare del" "$MAILLAB" dns-bare "$dir" del alpha.test
assert_eq "NOERROR
TXT 1 \"v=spf1 ip4:127.0.0.1 -all\"" "$(lab_dns alpha.test TXT)" "and back"
assert_fails "listed refuses what is neither domain nor address" \
	"$MAILLAB" listed "$dir" add 'not a name'

# --- (b) a mailbox deleted behind the relay: 5.1.1 after acceptance --------
assert_ok "ghost user1@bravo.test" "$MAILLAB" ghost "$dir" user1@bravo.test
assert_match "$("$MAILLAB" status "$dir")" 'ghosts +user1@bravo.test' "status lists the ghost"
notice_message user1@alpha.test user1@bravo.test ghost1@alpha.test "ghost test"
t0=$(date +%s%N)
assert_ok "mail to the ghost is accepted at submission" \
	lab_submit user1@alpha.test $pw user1@bravo.test "$msg"
dsn=$(lab_wait_mail user1@alpha.test tok-ghost1@alpha.test 20)
assert_ok "a DSN reaches the sender within 20 s" test -n "$dsn"
echo "figure: unknown-user DSN in the sender's mailbox after $(ms_since "$t0") ms"
if [ -n "$dsn" ]; then
	h=$(headers "$dsn")
	body=$(tr -d '\r' <"$dsn")
	assert_match "$h" '^Return-Path: <>' "DSN: null envelope sender"
	assert_match "$h" '^From: .*MAILER-DAEMON@mail\.lab\.test' "DSN: from MAILER-DAEMON"
	assert_match "$h" '^Content-Type: multipart/report; report-type=delivery-status' \
		"DSN: multipart/report; report-type=delivery-status"
	assert_match "$h" '^Auto-Submitted: auto-replied' "DSN: Auto-Submitted"
	assert_match "$body" '^Content-Type: message/delivery-status' "DSN: a message/delivery-status part"
	assert_match "$body" '^Status: 5\.1\.1' "DSN: Status 5.1.1"
	assert_match "$body" '^Action: failed' "DSN: Action failed"
	assert_match "$body" '^Final-Recipient: rfc822; ?user1@bravo\.test' "DSN: Final-Recipient user1@bravo.test"
	assert_match "$body" "User doesn't exist" "DSN: LMTP's reason"
	assert_match "$body" '^Message-ID: <ghost1@alpha\.test>' "DSN: returns the original Message-ID"
	assert_match "$body" '^X-Hearth-Token: tok-ghost1@alpha\.test' "DSN: returns the token header"
	save_sample "$dsn" lab-unknown-user.eml
fi
assert_eq "" "$(lab_mail_files user1@bravo.test tok-ghost1@alpha.test)" \
	"nothing was delivered to the ghost"

# --- (c) a mailbox over quota: 5.2.2 ----------------------------------------
assert_ok "unghost" "$MAILLAB" unghost "$dir" user1@bravo.test
assert_ok "full user1@bravo.test" "$MAILLAB" full "$dir" user1@bravo.test
notice_message user1@alpha.test user1@bravo.test full1@alpha.test "quota test"
t0=$(date +%s%N)
assert_ok "mail to the full mailbox is accepted at submission" \
	lab_submit user1@alpha.test $pw user1@bravo.test "$msg"
dsn=$(lab_wait_mail user1@alpha.test tok-full1@alpha.test 20)
assert_ok "a DSN reaches the sender within 20 s" test -n "$dsn"
echo "figure: mailbox-full DSN in the sender's mailbox after $(ms_since "$t0") ms"
if [ -n "$dsn" ]; then
	h=$(headers "$dsn")
	body=$(tr -d '\r' <"$dsn")
	assert_match "$h" '^Content-Type: multipart/report; report-type=delivery-status' \
		"DSN: multipart/report"
	assert_match "$body" '^Status: 5\.2\.2' "DSN: Status 5.2.2"
	assert_match "$body" '^Final-Recipient: rfc822; ?user1@bravo\.test' "DSN: Final-Recipient user1@bravo.test"
	assert_match "$body" 'Quota exceeded' "DSN: LMTP's reason"
	assert_match "$body" '^Message-ID: <full1@alpha\.test>' "DSN: returns the original Message-ID"
	assert_match "$body" '^X-Hearth-Token: tok-full1@alpha\.test' "DSN: returns the token header"
	save_sample "$dsn" lab-mailbox-full.eml
fi
assert_eq "" "$(lab_mail_files user1@bravo.test tok-full1@alpha.test)" \
	"nothing was stored in the full mailbox"
assert_eq "" "$(find "$dir/queue/deferred" "$dir/queue/active" -type f 2>/dev/null)" \
	"nothing waits in Postfix's queue (no tempfail)"

# --- (d) an auto-reply ------------------------------------------------------
assert_ok "vacation user2@bravo.test" "$MAILLAB" vacation "$dir" user2@bravo.test "Out of office"
assert_match "$("$MAILLAB" status "$dir")" 'vacation +user2@bravo.test' "status lists it"
notice_message user2@alpha.test user2@bravo.test vac1@alpha.test "vacation test"
t0=$(date +%s%N)
assert_ok "mail to the user on vacation accepted" \
	lab_submit user2@alpha.test $pw user2@bravo.test "$msg"
reply=$(lab_wait_mail user2@alpha.test 'In-Reply-To: <vac1@alpha.test>' 20)
assert_ok "an auto-reply reaches the sender within 20 s" test -n "$reply"
echo "figure: vacation reply in the sender's mailbox after $(ms_since "$t0") ms"
if [ -n "$reply" ]; then
	h=$(headers "$reply")
	assert_match "$h" '^Auto-Submitted: auto-replied' "reply: Auto-Submitted: auto-replied"
	assert_match "$h" '^In-Reply-To: <vac1@alpha\.test>' "reply: In-Reply-To the original"
	assert_match "$h" '^References: <vac1@alpha\.test>' "reply: References the original"
	assert_match "$h" '^Subject: Out of office' "reply: the vacation's subject"
	assert_match "$h" '^From: .*user2@bravo\.test' "reply: from the user on vacation"
	assert_match "$h" '^To: .*user2@alpha\.test' "reply: to the sender"
	assert_match "$h" '^Return-Path: <>' "reply: null envelope sender"
	save_sample "$reply" lab-vacation.eml
fi
assert_ok "the original is delivered too" "$MAILLAB" wait "$dir" user2@bravo.test INBOX vac1@alpha.test
# One reply per sender and period (a day by default).
notice_message user2@alpha.test user2@bravo.test vac2@alpha.test "vacation again"
lab_submit user2@alpha.test $pw user2@bravo.test "$msg"
assert_ok "a second message is delivered" "$MAILLAB" wait "$dir" user2@bravo.test INBOX vac2@alpha.test
sleep 2
assert_eq "" "$(lab_mail_files user2@alpha.test 'In-Reply-To: <vac2@alpha.test>')" \
	"no second reply to the same sender within the period"
assert_ok "vacation --period 0" "$MAILLAB" vacation "$dir" user2@bravo.test --period 0
for i in 3 4; do
	notice_message user2@alpha.test user2@bravo.test vac$i@alpha.test "vacation $i"
	lab_submit user2@alpha.test $pw user2@bravo.test "$msg"
	reply=$(lab_wait_mail user2@alpha.test "In-Reply-To: <vac$i@alpha.test>" 20)
	assert_ok "--period 0: a reply to message $i" test -n "$reply"
done
assert_match "$(headers "$reply")" '^Subject: Auto: vacation 4' \
	"without a SUBJECT the reply's subject is Auto: the original's"

# --- (e) back to normal -----------------------------------------------------
assert_ok "unfull" "$MAILLAB" unfull "$dir" user1@bravo.test
assert_ok "novacation" "$MAILLAB" novacation "$dir" user2@bravo.test
st=$("$MAILLAB" status "$dir")
for what in ghosts full vacation; do
	assert_match "$st" "^$what +\$" "status: no $what left"
done
notice_message user1@alpha.test user1@bravo.test back1@alpha.test "back to normal"
lab_submit user1@alpha.test $pw user1@bravo.test "$msg"
assert_ok "after unghost and unfull mail is delivered" \
	"$MAILLAB" wait "$dir" user1@bravo.test INBOX back1@alpha.test
notice_message user2@alpha.test user2@bravo.test back2@alpha.test "back from vacation"
lab_submit user2@alpha.test $pw user2@bravo.test "$msg"
assert_ok "after novacation mail is delivered" \
	"$MAILLAB" wait "$dir" user2@bravo.test INBOX back2@alpha.test
sleep 2
assert_eq "" "$(lab_mail_files user1@alpha.test tok-back1@alpha.test)" "and no DSN comes"
assert_eq "" "$(lab_mail_files user2@alpha.test 'In-Reply-To: <back2@alpha.test>')" \
	"and no auto-reply"
assert_fails "ghost refuses an address the lab does not have" \
	"$MAILLAB" ghost "$dir" nobody@bravo.test

# --- the DNS stops with the lab ---------------------------------------------
dns_pid=$(cat "$dir/run/dnsmasq.pid")
assert_ok "stop" "$MAILLAB" stop "$dir"
assert_eq "" "$("$MAILLAB" procs "$dir")" "no process of the lab is left"
assert_fails "dnsmasq is gone" test -e "/proc/$dns_pid/exe"
assert_fails "nothing answers on the DNS port" lab_dns alpha.test MX tcp
assert_done
