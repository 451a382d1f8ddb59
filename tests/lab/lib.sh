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

# lab_mail_files ADDR TEXT: the message files (any folder, new/ and cur/) of
# ADDR's Maildir that contain TEXT, one path a line.
lab_mail_files() {
	local addr=$1 text=$2
	find "$LAB_DIR/mail/${addr#*@}/${addr%@*}/Maildir" -type f \
		\( -path '*/new/*' -o -path '*/cur/*' \) -print0 2>/dev/null |
		xargs -0 -r grep -lF -- "$text" 2>/dev/null || true
}

# lab_wait_mail ADDR TEXT [SECONDS]: wait (default 20 s) until a message
# file of ADDR's Maildir contains TEXT and print its path; exit 1 on timeout.
lab_wait_mail() {
	local f i
	for ((i = 0; i < ${3:-20} * 10; i++)); do
		f=$(lab_mail_files "$1" "$2" | head -1)
		[ -z "$f" ] || { echo "$f"; return 0; }
		sleep 0.1
	done
	return 1
}

# lab_dns NAME TYPE [tcp]: one query to the lab's DNS (127.0.0.1,
# LAB_DNS_PORT) over UDP, or TCP. Prints the response code (NOERROR,
# NXDOMAIN, REFUSED ...), then one line per answer: type, TTL and value (A
# the address, MX "PREFERENCE HOST", PTR the host, TXT each string quoted,
# space-separated, as dig shows them). Exit 1 when no answer came in 3 s.
lab_dns() {
	python3 - "$LAB_DNS_PORT" "$@" <<'PY'
import random, socket, struct, sys

port, name, qtype = int(sys.argv[1]), sys.argv[2], sys.argv[3]
tcp = len(sys.argv) > 4 and sys.argv[4] == "tcp"
types = {"A": 1, "NS": 2, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28}
names = {v: k for k, v in types.items()}
q = struct.pack(">HHHHHH", random.randrange(65536), 0x0100, 1, 0, 0, 0)
for label in name.rstrip(".").split("."):
    q += bytes([len(label)]) + label.encode()
q += b"\0" + struct.pack(">HH", types[qtype], 1)
try:
    if tcp:
        s = socket.create_connection(("127.0.0.1", port), timeout=3)
        s.sendall(struct.pack(">H", len(q)) + q)
        d = b""
        while len(d) < 2 or len(d) < 2 + struct.unpack(">H", d[:2])[0]:
            chunk = s.recv(65535)
            if not chunk:
                break
            d += chunk
        d = d[2:]
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.sendto(q, ("127.0.0.1", port))
        d = s.recv(65535)
except OSError as e:
    print("no answer: %s" % e, file=sys.stderr)
    sys.exit(1)

def dname(off):
    labels, end = [], None
    while d[off]:
        if d[off] >= 192:
            end = end or off + 2
            off = (d[off] & 63) << 8 | d[off + 1]
            continue
        labels.append(d[off + 1:off + 1 + d[off]].decode())
        off += 1 + d[off]
    return ".".join(labels), end or off + 1

rcodes = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"]
rcode = d[3] & 15
print(rcodes[rcode] if rcode < len(rcodes) else "RCODE%d" % rcode)
off = dname(12)[1] + 4
for _ in range(struct.unpack(">H", d[6:8])[0]):
    off = dname(off)[1]
    typ, _cls, ttl, rdlen = struct.unpack(">HHIH", d[off:off + 10])
    off += 10
    rd = d[off:off + rdlen]
    if typ == 1:
        val = ".".join(str(b) for b in rd)
    elif typ == 15:
        val = "%d %s" % (struct.unpack(">H", rd[:2])[0], dname(off + 2)[0])
    elif typ in (2, 12):
        val = dname(off)[0]
    elif typ == 16:
        strings, i = [], 0
        while i < len(rd):
            strings.append('"%s"' % rd[i + 1:i + 1 + rd[i]].decode())
            i += 1 + rd[i]
        val = " ".join(strings)
    else:
        val = rd.hex()
    print("%s %d %s" % (names.get(typ, str(typ)), ttl, val))
    off += rdlen
PY
}
