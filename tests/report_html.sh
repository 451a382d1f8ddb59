#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The HTML readiness report (tools/hearth/report_html.c), rendered without
# the command by test_report_html from the fixtures in tests/data/report/
# (make_fixtures.py writes them) and a "checks" fixture made here (full.json
# with domain checks, their texts hostile): per fixture, the page is
# well-formed, is
# self-contained (no script, no reference to anything outside the file),
# shows every string of the JSON as text and never as markup; then headless
# Chromium draws it (a screenshot that is not blank, in the colours of the
# badges and charts) and its DOM holds the addresses, verdicts and charts.
# Skipped (77) when Chromium is not installed, after the checks without it.
. "$(dirname "$0")/lab/assert.sh"
render=$1
data=$2
start=$SECONDS
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fixtures="full empty hostile missing checks"
# The JSON of fixture $1: tests/data/report/, or made here.
json_of() {
	if [ -f "$data/$1.json" ]; then echo "$data/$1.json"; else echo "$tmp/$1.json"; fi
}
# checks: full.json with the domain checks of schema v4: a failing one whose
# texts carry markup, entities and control characters (they come from DNS
# records), a passing one, one malformed, one never checked.
python3 - "$data/full.json" "$tmp/checks.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
doms = [x for c in d["clients"] for x in c["domains"]]
doms[0]["checks"] = {
    "checked_at": "2026-03-21T06:00:00Z", "worst": "fail",
    "failure": "SPF fails: <b>v=spf1 -all</b> & \"quoted\" (add ip4:127.0.0.1)",
    "findings": [
        {"check": "mx", "status": "pass", "summary": "MX records found.", "fix": None},
        {"check": "spf", "status": "fail",
         "summary": "SPF record says <script>alert(7)</script> &amp; \x01ends",
         "fix": "Replace \"<img src=x onerror=alert(8)>\" with 'v=spf1 ip4:127.0.0.1 -all'"},
        {"check": "blacklist", "status": "warn", "summary": "Listed on <i>zen</i>.example.", "fix": "Ask for delisting."},
        {"check": "dkim<svg onload=alert(9)>", "status": "bogus\"><i>",
         "summary": "A finding of a check nobody knows.", "fix": None},
        "not an object", 42]}
doms[1]["checks"] = {"checked_at": "2026-03-20T23:59:59Z", "worst": "pass", "failure": None,
    "findings": [{"check": "dmarc", "status": "pass", "summary": "DMARC p=reject.", "fix": None}]}
doms[2]["checks"] = {"checked_at": 12, "worst": ["fail"], "findings": {"check": "spf"}}
json.dump(d, open(sys.argv[2], "w"))
PY

# check.py PAGE REPORT.json: parses PAGE (the rendered file, or Chromium's
# DOM of it) and prints every problem: unbalanced or unknown elements, a
# script, an event handler, a reference outside the page, a duplicate or
# dangling id, a string of the report missing from the text, the wrong
# number of inbox sections, table rows or charts.
cat >"$tmp/check.py" <<'EOF'
import json, re, sys
from collections import Counter
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "source", "track", "wbr"}
ALLOWED = {"html", "head", "meta", "title", "style", "body", "header", "h1",
           "h2", "h3", "p", "span", "dl", "div", "dt", "dd", "time", "main",
           "section", "ul", "li", "strong", "b", "table", "caption", "thead",
           "tbody", "tfoot", "tr", "th", "td", "a", "figure", "figcaption",
           "footer", "svg", "desc", "g", "line", "text", "rect", "circle",
           "polyline", "defs", "pattern"}
URL_ATTRS = {"src", "srcset", "href", "xlink:href", "action", "formaction",
             "background", "poster", "data", "ping", "cite", "manifest"}
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")

class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.problems, self.text = [], [], []
        self.ids, self.refs, self.tags = Counter(), [], Counter()
        self.classes, self.style = Counter(), ""

    def problem(self, what):
        if len(self.problems) < 20:
            self.problems.append("line %d: %s" % (self.getpos()[0], what))

    def handle_starttag(self, tag, attrs):
        self.element(tag, attrs, tag not in VOID)

    def handle_startendtag(self, tag, attrs):
        self.element(tag, attrs, False)

    def element(self, tag, attrs, push):
        self.tags[tag] += 1
        if tag not in ALLOWED:
            self.problem("element <%s>" % tag)
        for k, v in attrs:
            v = v or ""
            if k.startswith("on"):
                self.problem("event handler %s=%r on <%s>" % (k, v, tag))
            if k == "style":
                self.problem("style attribute on <%s>" % tag)
            if k in URL_ATTRS:
                if k != "href" or not v.startswith("#"):
                    self.problem("reference %s=%r" % (k, v))
                else:
                    self.refs.append(v[1:])
            if "url(" in v and not re.fullmatch(r"url\(#[\w-]+\)", v):
                self.problem("url() in %s=%r" % (k, v))
            if k == "id":
                self.ids[v] += 1
            if k in ("aria-labelledby", "aria-describedby"):
                self.refs.extend(v.split())
            if k == "class":
                self.classes.update(v.split())
            self.text.append(v)
        if push:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problem("</%s> closes <%s>" % (tag, self.stack[-1] if self.stack else ""))
            if tag in self.stack:
                while self.stack.pop() != tag:
                    pass
        else:
            self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "style":
            self.style += data
        else:
            self.text.append(data)

    def handle_comment(self, data):
        self.problem("a comment")

    def handle_pi(self, data):
        self.problem("a processing instruction")

    def unknown_decl(self, data):
        self.problem("a declaration %r" % data)

page = Page()
page.feed(open(sys.argv[1], encoding="utf-8").read())
page.close()
report = json.load(open(sys.argv[2]))
if page.stack:
    page.problem("unclosed: %s" % " ".join(page.stack))
if page.tags["style"] != 1:
    page.problem("%d style elements" % page.tags["style"])
for bad in ("url(", "@import", "@font-face", "//"):
    if bad in page.style:
        page.problem("%r in the style sheet" % bad)
for i, n in page.ids.items():
    if n > 1:
        page.problem("id %r used %d times" % (i, n))
for r in page.refs:
    if r not in page.ids:
        page.problem("reference to a missing id %r" % r)

# Every string the page shows, exactly as in the JSON (less the control
# characters it drops): proves it was escaped once, not twice, not never.
text = "\x00".join(page.text)
def obj(v):
    return v if isinstance(v, dict) else {}
def arr(v):
    return v if isinstance(v, list) else []
def nonempty(v):
    return v if isinstance(v, str) and v else None
def shown(s, where):
    s = CONTROL.sub("", s)
    if s not in text:
        page.problem("%s %r is not in the page's text" % (where, s[:80]))
for c in arr(report.get("clients")):
    c = obj(c)
    label = nonempty(c.get("display_name")) or nonempty(c.get("name"))
    if label:
        shown(label, "client")
    for d in arr(c.get("domains")):
        if nonempty(obj(d).get("name")):
            shown(d["name"], "domain")
inboxes = [i for i in arr(report.get("inboxes")) if isinstance(i, dict)]
charts = 0
for i in inboxes:
    for key in ("address", "domain", "provider", "state_reason", "verdict"):
        if nonempty(i.get(key)):
            shown(i[key] if i[key] != "at_risk" else "at risk", key)
    for r in arr(i.get("reasons")):
        if isinstance(r, str):
            shown(r, "reason")
    if any(isinstance(d, dict) for d in arr(i.get("history"))):
        charts += 2
# a domain's checks: the failure, each finding's summary and fix
for c in arr(report.get("clients")):
    for dom in arr(obj(c).get("domains")):
        ch = obj(obj(dom).get("checks"))
        if nonempty(ch.get("failure")):
            shown(ch["failure"], "check failure")
        for f in arr(ch.get("findings")):
            for key in ("summary", "fix"):
                if nonempty(obj(f).get(key)):
                    shown(f[key], "finding " + key)
if page.classes["inbox"] != len(inboxes):
    page.problem("%d inbox sections for %d inboxes" % (page.classes["inbox"], len(inboxes)))
if page.tags["svg"] != charts:
    page.problem("%d charts, expected %d" % (page.tags["svg"], charts))
rows = page.tags["tr"]
if inboxes and page.classes["badge"] < len([i for i in inboxes if nonempty(i.get("verdict"))]):
    page.problem("%d badges" % page.classes["badge"])
for p in page.problems:
    print(p)
sys.exit(1 if page.problems else 0)
EOF

# png.py FILE MIN_COLOURS MIN_PERCENT_NOT_WHITE [RRGGBB...]: decodes a PNG
# (8-bit RGB or RGBA, the kind Chromium writes) and checks that it has that
# many distinct colours, that much of it not white, and each colour given.
cat >"$tmp/png.py" <<'EOF'
import struct, sys, zlib
from collections import Counter

def decode(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit("not a PNG")
    pos, idat, ihdr = 8, [], None
    while pos + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", data[pos + 8:pos + 21])
        elif kind == b"IDAT":
            idat.append(data[pos + 8:pos + 8 + n])
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise SystemExit("unsupported PNG: depth %d, colour type %d" % (depth, ctype))
    bpp = 3 if ctype == 2 else 4
    stride = w * bpp
    raw = zlib.decompress(b"".join(idat))
    m7 = int.from_bytes(b"\x7f" * stride, "big")
    m8 = int.from_bytes(b"\x80" * stride, "big")
    rows, prev = [], bytes(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)]
        if f == 0:
            cur = line
        elif f == 2:
            # bytewise (a + b) mod 256 in one big-integer sum
            a, b = int.from_bytes(line, "big"), int.from_bytes(prev, "big")
            cur = (((a & m7) + (b & m7)) ^ ((a ^ b) & m8)).to_bytes(stride, "big")
        else:
            cur = bytearray(line)
            for i in range(bpp):
                up = prev[i] >> 1 if f == 3 else prev[i] if f == 4 else 0
                cur[i] = (cur[i] + up) & 255
            if f == 1:
                for i in range(bpp, stride):
                    cur[i] = (cur[i] + cur[i - bpp]) & 255
            elif f == 3:
                for i in range(bpp, stride):
                    cur[i] = (cur[i] + ((cur[i - bpp] + prev[i]) >> 1)) & 255
            elif f == 4:
                for i in range(bpp, stride):
                    a, b, c = cur[i - bpp], prev[i], prev[i - bpp]
                    pa, pb = abs(b - c), abs(a - c)
                    pc = abs(a + b - 2 * c)
                    cur[i] = (cur[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            else:
                raise SystemExit("bad filter %d" % f)
            cur = bytes(cur)
        rows.append(cur)
        prev = cur
    return w, h, bpp, rows

w, h, bpp, rows = decode(sys.argv[1])
colours = Counter()
for r in rows:
    colours.update(zip(r[0::bpp], r[1::bpp], r[2::bpp]))
not_white = 100.0 * (w * h - colours[(255, 255, 255)]) / (w * h)
print("%dx%d, %d colours, %.1f%% not white" % (w, h, len(colours), not_white))
bad = []
if len(colours) < int(sys.argv[2]):
    bad.append("fewer than %s colours" % sys.argv[2])
if not_white < float(sys.argv[3]):
    bad.append("less than %s%% not white" % sys.argv[3])
for hexa in sys.argv[4:]:
    rgb = tuple(bytes.fromhex(hexa))
    if colours[rgb] < 20:
        bad.append("no #%s" % hexa)
print("; ".join(bad) if bad else "ok")
sys.exit(1 if bad else 0)
EOF

assert_ok "the renderer's own checks (refusals, a failed write)" "$render"

for f in $fixtures; do
	page=$tmp/$f.html
	"$render" "$(json_of "$f")" >"$page" 2>"$tmp/$f.err"
	assert_eq 0 $? "$f: renders"
	out=$(head -c 15 "$page")
	assert_eq "<!DOCTYPE html>" "$out" "$f: is an HTML5 document"
	assert_ok "$f: parses: balanced, self-contained, escaped, complete" \
		python3 "$tmp/check.py" "$page" "$(json_of "$f")"
	assert_no_match "$(grep -ci '<script' "$page")" '^[1-9]' "$f: no <script"
	assert_no_match "$(grep -Eci 'https?:' "$page")" '^[1-9]' \
		"$f: no http:// or https:// reference at all"
	if command -v xmllint >/dev/null; then
		assert_ok "$f: well-formed (xmllint, XML)" xmllint --noout "$page"
		# libxml2 before 2.14 knows HTML4 only: it names every HTML5
		# and SVG element; anything else is an error.
		out=$(xmllint --html --noout "$page" 2>&1 | grep 'error' |
			grep -Ev 'Tag [a-zA-Z0-9]+ invalid')
		assert_eq "" "$out" "$f: parses as HTML (xmllint --html)"
	fi
done

page=$tmp/hostile.html
assert_match "$(cat "$page")" \
	'&quot;&gt;&lt;script&gt;alert\(6\)&lt;/script&gt;@evil\.test' \
	"hostile: an address with markup is escaped"
assert_match "$(cat "$page")" '&lt;script&gt;alert\(&quot;x&quot;\)&lt;/script&gt; &amp; Sons&#39;' \
	"hostile: a client's name with markup, quotes and & is escaped"
assert_match "$(cat "$page")" 'gmail&amp;amp;&lt;i&gt;' \
	"hostile: an entity in the JSON is escaped once more, not decoded"
assert_no_match "$(cat "$page")" '<img|<svg onload|<b>(ready|03)|<i>|<!--|<!\[CDATA|<style>body' \
	"hostile: no markup from the JSON reaches the page"
assert_no_match "$(cat "$page")" $'[\x01\x7f]' \
	"hostile: control characters are dropped"
assert_match "$(cat "$tmp/full.html")" '2 of 6 inboxes are ready for cold outreach, up to 102 cold emails a day in all; 2 are still warming; 1 is at risk; 1 is paused\.' \
	"full: the summary in words"
assert_match "$(cat "$tmp/empty.html")" 'There are no inboxes in this report yet\.' \
	"empty: says there are no inboxes"
assert_match "$(cat "$tmp/missing.html")" 'odd-verdict@missing\.test' \
	"missing: renders the inboxes it can"
page=$(tr '\n' ' ' <"$tmp/checks.html")
assert_match "$page" '<section id="checks" class="domain-checks"> <h2>Domain authentication and blacklists</h2>' \
	"checks: the section renders"
assert_match "$page" 'acme-roofing\.test</span><span class="sub">Acme Roofing Ltd</span></h3> <p class="meta">Checked <time datetime="2026-03-21T06:00:00Z">2026-03-21 06:00 UTC</time> &#183; Worst finding: <span class="badge v-risk">' \
	"checks: the domain, its client, the check's date and its worst as a badge"
assert_match "$page" '<td>SPF</td><td><span class="badge v-risk"><span class="mark" aria-hidden="true">&#10007;</span> fail</span></td>' \
	"checks: a failing finding in the at-risk colours, its word beside"
assert_match "$page" '<td>MX</td><td><span class="badge v-ready">[^/]*</span> pass</span></td><td>MX records found\.</td><td>&#8211;</td>' \
	"checks: a passing finding in the ready colours; no fix: a dash"
assert_match "$page" '<td>Block lists</td><td><span class="badge v-warming">[^/]*</span> warn</span>' \
	"checks: a warning in the warming colours"
assert_match "$page" 'SPF record says &lt;script&gt;alert\(7\)&lt;/script&gt; &amp;amp; ends' \
	"checks: hostile text in a finding is escaped (an entity once more), control characters dropped"
assert_match "$page" 'Replace &quot;&lt;img src=x onerror=alert\(8\)&gt;&quot; with &#39;v=spf1' \
	"checks: a hostile fix is escaped"
assert_match "$page" '<strong>Fails:</strong> SPF fails: &lt;b&gt;v=spf1 -all&lt;/b&gt; &amp; &quot;quoted&quot;' \
	"checks: the failure sentence is escaped"
assert_match "$page" 'dkim&lt;svg onload=alert\(9\)&gt;</td><td><span class="badge v-unknown">[^/]*</span> bogus&quot;&gt;&lt;i&gt;</span>' \
	"checks: an unknown check and status are shown escaped, in the unknown colours"
assert_match "$page" 'nwtraders\.test</span><span class="sub">Northwind Traders</span></h3> <p class="nodata">Not checked yet\.</p>' \
	"checks: a domain never checked says so"
assert_match "$page" 'northwind\.test</span><span class="sub">Northwind Traders</span></h3> <p class="meta">Checked &#8211; &#183; Worst finding: &#8211;</p> <p class="nodata">No findings recorded\.</p>' \
	"checks: malformed checks show dashes and nothing else"
assert_eq 5 "$(sed -n '/<section id="checks"/,/<\/section>/p' "$tmp/checks.html" | grep -c '^<tr><td>')" \
	"checks: a row per finding that is an object (4 and 1)"
assert_no_match "$(cat "$tmp/checks.html")" '<script|<img|<svg onload|<i>|<b>v=' \
	"checks: no markup from the findings reaches the page"
assert_match "$(tr '\n' ' ' <"$tmp/full.html")" 'acmemail\.test</span><span class="sub">Acme Roofing Ltd</span></h3> <p class="nodata">Not checked yet\.</p>' \
	"full: a report made before domain checks says each domain is not checked yet"

chrome=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chrome" ]; then
	[ "$_assert_fail" -eq 0 ] || assert_done
	skip "chromium is not installed (tools/setup installs it): the page was not drawn"
fi

# Chromium, headless, with a profile of its own, no network name resolving,
# and killed (with what it started) past 60 s.
chrome_run() { # name args...
	local name=$1
	shift
	timeout -k 5 60 "$chrome" --headless=new --no-sandbox --disable-gpu \
		--user-data-dir="$tmp/profile-$name" --no-first-run \
		--disable-extensions --disable-sync --disable-default-apps \
		--disable-background-networking --disable-component-update \
		--host-resolver-rules='MAP * ~NOTFOUND' "$@" 2>>"$tmp/chrome.log"
}

for f in $fixtures; do
	png=$tmp/$f.png
	chrome_run "$f-shot" --screenshot="$png" --window-size=1280,2000 \
		"file://$tmp/$f.html" >/dev/null
	rc=$?
	assert_eq 0 $rc "$f: chromium takes a screenshot"
	[ -s "$png" ] || { tail -5 "$tmp/chrome.log"; continue; }
	case $f in
	# the four badges, the sent bars and the planned line of the first
	# inbox's ramp chart
	full) want="dafbe1 ddf4ff ffebe9 eaeef2 0969da bc4c00" min=200 ;;
	hostile) want="0969da 2da44e" min=100 ;;
	*) want="" min=20 ;;
	esac
	out=$(python3 "$tmp/png.py" "$png" $min 1 $want 2>&1)
	assert_match "$out" '^ok$' "$f: the screenshot is drawn: ${out%%$'\n'*}"

	dom=$tmp/$f.dom
	chrome_run "$f-dom" --dump-dom "file://$tmp/$f.html" >"$dom"
	assert_eq 0 $? "$f: chromium dumps the DOM"
	assert_ok "$f: the DOM as Chromium built it holds it all, and no script" \
		python3 "$tmp/check.py" "$dom" "$(json_of "$f")"
done
dom=$(cat "$tmp/full.dom")
for a in sam@acme-roofing.test quotes@acme-roofing.test jo@acmemail.test \
	anna@northwind.test sales@northwind.test info@nwtraders.test; do
	assert_match "$dom" ">$a</a>" "full: the DOM lists $a"
done
for v in ready warming "at risk" paused; do
	assert_match "$dom" "</span> $v</span>" "full: the DOM has a '$v' badge"
done
assert_eq 12 "$(grep -o '<svg ' "$tmp/full.dom" | wc -l)" "full: 12 charts in the DOM"
assert_no_match "$(cat "$tmp/hostile.dom")" '<script|<img' \
	"hostile: Chromium built no script or image from the strings"
echo "report_html: $((SECONDS - start)) s"
assert_done
