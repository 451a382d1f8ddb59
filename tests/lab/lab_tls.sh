#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# TLS and authentication in the lab: every TLS port verifies against the lab
# CA (host name and 127.0.0.1) and fails against the system trust store; no
# login in plaintext; a wrong password is refused on SMTP and IMAP.
. "$(dirname "$0")/lib.sh"
lab_start 22000 --domains tls.test --users 2 --hostname mx.tls.test
dir=$LAB_DIR
pw=lab-secret
msg=$(mktemp)
lab_message "$msg" user1@tls.test user2@tls.test t1@tls.test "tls check"

# One run per port: the lab CA verifies, the system store does not. curl's
# exit code 60 is "peer certificate cannot be authenticated".
check_port() { # name url [curl args]
	local name=$1 url=$2 rc
	shift 2
	curl -sS --max-time 20 --url "$url" --cacert "$LAB_CA" "$@" >/dev/null 2>&1
	assert_eq 0 $? "$name verifies against the lab CA"
	curl -sS --max-time 20 --url "$url" "$@" >/dev/null 2>&1
	rc=$?
	assert_eq 60 $rc "$name fails against the system trust store"
}
check_port submission "smtp://127.0.0.1:$LAB_SUBMISSION_PORT" --ssl-reqd \
	--user "user1@tls.test:$pw" --mail-from user1@tls.test \
	--mail-rcpt user2@tls.test -T "$msg"
check_port smtps "smtps://127.0.0.1:$LAB_SMTPS_PORT" \
	--user "user1@tls.test:$pw" --mail-from user1@tls.test \
	--mail-rcpt user2@tls.test -T "$msg"
check_port "inbound STARTTLS" "smtp://127.0.0.1:$LAB_SMTP_PORT" --ssl-reqd \
	--mail-from a@elsewhere.test --mail-rcpt user2@tls.test -T "$msg"
check_port "IMAP STARTTLS" "imap://127.0.0.1:$LAB_IMAP_PORT/" --ssl-reqd \
	--user "user2@tls.test:$pw"
check_port IMAPS "imaps://127.0.0.1:$LAB_IMAPS_PORT/" --user "user2@tls.test:$pw"

# The certificate names the lab host, localhost and 127.0.0.1, nothing else.
cert=$(openssl s_client -connect "127.0.0.1:$LAB_IMAPS_PORT" -CAfile "$LAB_CA" \
	-verify_return_error -verify_hostname mx.tls.test </dev/null 2>&1)
assert_match "$cert" 'Verify return code: 0 \(ok\)' "openssl verifies host name mx.tls.test"
cert=$(openssl s_client -connect "127.0.0.1:$LAB_IMAPS_PORT" -CAfile "$LAB_CA" \
	-verify_return_error -verify_hostname imap.gmail.com </dev/null 2>&1)
assert_no_match "$cert" 'Verify return code: 0 \(ok\)' "another host name does not verify"
cert=$(openssl s_client -starttls smtp -connect "127.0.0.1:$LAB_SUBMISSION_PORT" \
	-CAfile "$LAB_CA" -verify_return_error -verify_ip 127.0.0.1 </dev/null 2>&1)
assert_match "$cert" 'Verify return code: 0 \(ok\)' "SMTP STARTTLS verifies for IP 127.0.0.1"

# Authentication.
assert_fails "SMTP AUTH with a wrong password refused" curl -sS --max-time 20 \
	--url "smtp://127.0.0.1:$LAB_SUBMISSION_PORT" --ssl-reqd --cacert "$LAB_CA" \
	--user "user1@tls.test:wrong" --mail-from user1@tls.test \
	--mail-rcpt user2@tls.test -T "$msg"
out=$(curl -sS --max-time 20 --url "smtp://127.0.0.1:$LAB_SUBMISSION_PORT" \
	--ssl-reqd --cacert "$LAB_CA" --user "user1@tls.test:wrong" \
	--mail-from user1@tls.test --mail-rcpt user2@tls.test -T "$msg" 2>&1)
assert_match "$out" 'Login denied' "SMTP says the login was denied"
assert_fails "IMAP LOGIN with a wrong password refused" \
	lab_imap user2@tls.test wrong "" CAPABILITY
assert_fails "IMAP LOGIN before STARTTLS refused" curl -sS --max-time 20 \
	--url "imap://127.0.0.1:$LAB_IMAP_PORT/" --user "user2@tls.test:$pw"
out=$(curl -sS --max-time 20 --url "smtp://127.0.0.1:$LAB_SUBMISSION_PORT" \
	--mail-from user1@tls.test --mail-rcpt user2@tls.test -T "$msg" 2>&1)
assert_match "$out" 'MAIL failed: 530' "submission without STARTTLS refused (530)"
# A refused login costs no penalty for the next client from 127.0.0.1.
start=$(date +%s%N)
assert_ok "a good login right after a bad one" lab_imap user2@tls.test $pw "" CAPABILITY
assert_eq 1 $(( ($(date +%s%N) - start) < 2000000000 )) "and it is not delayed"
rm -f "$msg"
assert_done
