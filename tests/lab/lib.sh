# SPDX-License-Identifier: MIT
# Helpers for tests against a real mail lab (tools/maillab). A test sources
# this file, calls lab_start with a port base of its own (so tests can run in
# parallel), and the lab is stopped when the test exits, however it exits.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/assert.sh"
MAILLAB=${MAILLAB:-$(cd "$here/../.." && pwd)/tools/maillab}
export LC_ALL=C
set -o pipefail

[ "$(id -u)" -eq 0 ] || skip "the mail lab needs root to start Postfix and Dovecot"
command -v postfix >/dev/null && command -v dovecot >/dev/null ||
	skip "Postfix and Dovecot are not installed (run tools/setup)"
command -v curl >/dev/null || skip "curl is not installed (run tools/setup)"

_lab_dirs=()
_lab_cleanup() {
	local d
	for d in "${_lab_dirs[@]}"; do
		"$MAILLAB" stop "$d" >/dev/null 2>&1 || true
		[ -n "${LAB_KEEP:-}" ] || rm -rf "$d"
	done
}
trap _lab_cleanup EXIT

# lab_start PORT_BASE [maillab start options]: a lab in a fresh directory
# (the daemons must traverse it: not mode 0700), stopped and removed when the
# test exits; then LAB_DIR and the other LAB_* variables describe it.
lab_start() {
	local base=$1 dir
	shift
	dir=$(mktemp -d /tmp/hearth-lab.XXXXXX)
	chmod 755 "$dir"
	_lab_dirs+=("$dir")
	"$MAILLAB" start "$dir" --port-base "$base" "$@" >/dev/null ||
		{ echo "maillab start failed" >&2; exit 1; }
	eval "$("$MAILLAB" env "$dir")"
}

# A message file: lab_message FILE FROM TO MESSAGE-ID SUBJECT
lab_message() {
	cat >"$1" <<MSG
From: <$2>
To: <$3>
Subject: $5
Message-ID: <$4>
Date: $(date -R)

This is a lab message.
MSG
}

# SMTP submission with STARTTLS + AUTH, verified against the lab CA.
# lab_submit FROM PASSWORD TO FILE [extra curl args]
lab_submit() {
	local from=$1 pass=$2 to=$3 file=$4
	shift 4
	curl -sS --max-time 20 --url "smtp://127.0.0.1:$LAB_SUBMISSION_PORT" \
		--ssl-reqd --cacert "$LAB_CA" --mail-from "$from" \
		--mail-rcpt "$to" --user "$from:$pass" -T "$file" "$@"
}

# Same over SMTPS (implicit TLS).
lab_submit_smtps() {
	local from=$1 pass=$2 to=$3 file=$4
	shift 4
	curl -sS --max-time 20 --url "smtps://127.0.0.1:$LAB_SMTPS_PORT" \
		--cacert "$LAB_CA" --mail-from "$from" \
		--mail-rcpt "$to" --user "$from:$pass" -T "$file" "$@"
}

# An IMAP command over STARTTLS: lab_imap USER PASSWORD PATH COMMAND
lab_imap() {
	curl -sS --max-time 20 --url "imap://127.0.0.1:$LAB_IMAP_PORT/$3" \
		--ssl-reqd --cacert "$LAB_CA" --user "$1:$2" -X "$4" | tr -d '\r'
}
