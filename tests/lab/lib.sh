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

# lab_mail_index DB TOKEN-HEADER: index every message of the lab's mailboxes,
# as the server holds them, into a fresh SQLite database DB, table mail:
# address, folder (its IMAP name: INBOX, Junk, [Gmail]/Spam), flags (the
# Maildir flags after ":2,", S seen, F flagged), token (the value of the
# token header; ntokens counts such headers), message_id, in_reply_to,
# subject (headers unfolded) and path (under $LAB_DIR/mail). Only files in
# cur/ and new/ are messages: Dovecot's index and cache files also hold
# headers.
lab_mail_index() {
	local db=$1 hdr=$2
	rm -f "$db"
	{
		echo "BEGIN; CREATE TABLE mail (address TEXT, folder TEXT,"
		echo "  flags TEXT, token TEXT, ntokens INTEGER, message_id TEXT,"
		echo "  in_reply_to TEXT, subject TEXT, path TEXT);"
		(cd "$LAB_DIR/mail" && find . -type f \( -path '*/cur/*' -o \
			-path '*/new/*' \) -print0 | xargs -0 -r awk -v hdr="$hdr" '
function q(s) { gsub(/\047/, "\047\047", s); return "\047" s "\047" }
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
function field(line,   i, name, val) {
	i = index(line, ":")
	if (i == 0)
		return
	name = tolower(substr(line, 1, i - 1))
	val = trim(substr(line, i + 1))
	if (name == th) {
		tok = tok == "" ? val : tok " " val
		ntok++
	} else if (name == "message-id" && mid == "") mid = val
	else if (name == "in-reply-to" && irt == "") irt = val
	else if (name == "subject" && subj == "") subj = val
}
# ./DOMAIN/USER/Maildir/cur/NAME or ./DOMAIN/USER/Maildir/.FOLDER/cur/NAME
function flush(   n, p, folder, flags, i) {
	if (cur != "")
		field(cur)
	cur = ""
	if (file == "")
		return
	n = split(file, p, "/")
	folder = n == 7 ? substr(p[5], 2) : "INBOX"
	gsub(/\./, "/", folder)
	i = index(p[n], ":2,")
	flags = i > 0 ? substr(p[n], i + 3) : ""
	print "INSERT INTO mail VALUES(" q(p[3] "@" p[2]) "," q(folder) "," \
	    q(flags) "," q(tok) "," ntok "," q(mid) "," q(irt) "," q(subj) \
	    "," q(file) ");"
	file = ""
}
BEGIN { th = tolower(hdr) }
FNR == 1 {
	flush()
	file = FILENAME
	tok = mid = irt = subj = cur = ""
	ntok = 0
}
{ sub(/\r$/, "") }
/^$/ { flush(); nextfile }
/^[ \t]/ { cur = cur $0; next }
{ if (cur != "") field(cur); cur = $0 }
END { flush() }')
		echo "COMMIT;"
	} | sqlite3 -batch "$db"
}

# lab_sql INDEX_DB HEARTH_DB SQL: SQL over an index of lab_mail_index (table
# mail) and hearth's database, attached read-only as h. An error shows in
# the output, so an assertion on it fails.
lab_sql() {
	sqlite3 -batch -cmd "ATTACH 'file:$2?mode=ro' AS h" "$1" "$3" 2>&1 ||
		echo "(sqlite3 failed)"
}

# lab_check_exactly_once INDEX_DB HEARTH_DB: what hearth sent is on the
# server exactly once. Every sent exchange's token is in exactly one message
# of the recipient's mailbox (any folder but its Sent folder) and at most
# once in the sender's Sent folder, nowhere else; no message carries the
# token of an exchange that was not sent, or a token hearth does not know.
lab_check_exactly_once() {
	local ix=$1 db=$2 ex
	ex="WITH ex AS (SELECT e.id, e.token, e.state, s.address AS sa,
		s.sent_folder AS sf, r.address AS ra, r.sent_folder AS rf
		FROM h.exchanges e JOIN h.inboxes s ON s.id = e.sender_inbox_id
		JOIN h.inboxes r ON r.id = e.recipient_inbox_id)"
	assert_eq 0 "$(lab_sql "$ix" "$db" "SELECT count(*) FROM mail
		WHERE ntokens <> 1")" "every message on the server has one token header"
	assert_eq "" "$(lab_sql "$ix" "$db" "$ex SELECT 'exchange ' || id ||
		' token ' || token || ': ' || n || ' copies at the recipient'
		FROM (SELECT ex.*, (SELECT count(*) FROM mail m
		  WHERE m.token = ex.token AND m.address = ex.ra
		  AND m.folder IS NOT ex.rf) AS n FROM ex WHERE state = 'sent')
		WHERE n <> 1 LIMIT 10")" \
		"every sent exchange is in the recipient's mailbox exactly once"
	assert_eq "" "$(lab_sql "$ix" "$db" "$ex SELECT 'exchange ' || id ||
		': ' || n || ' copies in the Sent folder of ' || sa
		FROM (SELECT ex.*, (SELECT count(*) FROM mail m
		  WHERE m.token = ex.token AND m.address = ex.sa
		  AND m.folder = ex.sf) AS n FROM ex WHERE state = 'sent')
		WHERE n > 1 LIMIT 10")" \
		"and at most once in the sender's Sent folder"
	assert_eq "" "$(lab_sql "$ix" "$db" "$ex SELECT 'exchange ' || ex.id ||
		' (' || ex.sa || ' -> ' || ex.ra || ') found in ' || m.address ||
		' ' || m.folder FROM mail m JOIN ex ON ex.token = m.token
		WHERE NOT ((m.address = ex.ra AND m.folder IS NOT ex.rf)
		  OR (m.address = ex.sa AND m.folder = ex.sf)) LIMIT 10")" \
		"no token in any other mailbox or folder"
	assert_eq "" "$(lab_sql "$ix" "$db" "$ex SELECT 'exchange ' || ex.id ||
		' is ' || ex.state || ' but in ' || m.address || ' ' || m.folder
		FROM mail m JOIN ex ON ex.token = m.token
		WHERE ex.state <> 'sent' LIMIT 10")" \
		"no message of an exchange that was not sent"
	assert_eq "" "$(lab_sql "$ix" "$db" "SELECT address || ' ' || folder ||
		': unknown token [' || token || ']' FROM mail
		WHERE token NOT IN (SELECT token FROM h.exchanges) LIMIT 10")" \
		"no message with a token hearth does not know"
}
