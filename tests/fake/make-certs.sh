#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# make-certs.sh DIR: create the certificates the fake servers present, in DIR:
#   ca.crt ca.key                 a test CA
#   good.crt good.key             from the CA, for DNS:localhost, IP:127.0.0.1
#   wrongname.crt wrongname.key   from the CA, for DNS:other.example only
#   expired.crt expired.key       from the CA, for localhost and 127.0.0.1,
#                                 valid 2020-01-01 to 2020-01-02 only
#   selfsigned.crt selfsigned.key self-signed, for localhost and 127.0.0.1
# Does nothing if DIR already has them all. Keys are P-256, unencrypted, and
# worthless outside tests. $OPENSSL names the openssl program (default:
# openssl from PATH).
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 64
fi
dir=$1
openssl=${OPENSSL:-openssl}
names="ca good wrongname expired selfsigned"

missing=no
for n in $names; do
	if [ ! -s "$dir/$n.crt" ] || [ ! -s "$dir/$n.key" ]; then
		missing=yes
	fi
done
if [ $missing = no ]; then
	exit 0
fi

umask 077
mkdir -p "$dir"
work=$(mktemp -d "$dir/.make-certs.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Our own configuration, so the system openssl.cnf adds nothing.
cat >"$work/openssl.cnf" <<EOF
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused

[ ca ]
default_ca = test_ca
[ test_ca ]
certificate = $work/ca.crt
private_key = $work/ca.key
database = $work/index.txt
new_certs_dir = $work/issued
serial = $work/serial
default_md = sha256
default_days = 3650
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
[ policy_any ]
commonName = supplied

[ ext_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ ext_good ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, IP:127.0.0.1
[ ext_wrongname ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:other.example
[ ext_selfsigned ]
subjectKeyIdentifier = hash
subjectAltName = DNS:localhost, IP:127.0.0.1
EOF
: >"$work/index.txt"
echo 1000 >"$work/serial"
mkdir "$work/issued"

key() {
	"$openssl" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$work/$1.key"
}

# issue NAME CN EXTENSIONS [openssl ca options...]
issue() {
	local name=$1 cn=$2 ext=$3

	shift 3
	key "$name"
	"$openssl" req -config "$work/openssl.cnf" -new -key "$work/$name.key" \
		-subj "/CN=$cn" -out "$work/$name.csr"
	"$openssl" ca -config "$work/openssl.cnf" -batch -notext \
		-extensions "$ext" -in "$work/$name.csr" \
		-out "$work/$name.crt" "$@" 2>"$work/ca.log" || {
		cat "$work/ca.log" >&2
		exit 1
	}
}

key ca
"$openssl" req -config "$work/openssl.cnf" -new -x509 -key "$work/ca.key" \
	-subj "/CN=hearth test CA" -extensions ext_ca -days 3650 \
	-out "$work/ca.crt"
issue good localhost ext_good
issue wrongname other.example ext_wrongname
issue expired localhost ext_good \
	-startdate 20200101000000Z -enddate 20200102000000Z
key selfsigned
"$openssl" req -config "$work/openssl.cnf" -new -x509 \
	-key "$work/selfsigned.key" -subj "/CN=localhost" \
	-extensions ext_selfsigned -days 3650 -out "$work/selfsigned.crt"

for n in $names; do
	mv -f "$work/$n.key" "$dir/$n.key"
	mv -f "$work/$n.crt" "$dir/$n.crt"
done
