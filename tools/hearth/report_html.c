// SPDX-License-Identifier: MIT
/*
 * report_html: the readiness report's JSON document (hearth-report/1) as one
 * self-contained HTML page: inline CSS (with a print stylesheet), inline SVG
 * charts drawn here, no script and no reference to anything outside the
 * file, so it can be mailed to a client, archived or printed as it is.
 *
 * The JSON is read defensively: it is made by another command, may be a
 * newer or an older version of it, or may have been edited by hand. A
 * missing or wrongly typed field shows as a dash or is left out; nothing in
 * it can make the renderer fail, read out of bounds or inject markup.
 *
 * The markup is also well-formed XML (every element closed, attributes
 * quoted, numeric character references only), which lets the tests check
 * it with an XML parser. Every string from the JSON goes through
 * html_escape(); numbers are formatted here, never through the locale (a
 * decimal comma would break SVG coordinates).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "hearth/xalloc.h"
#include "report_html.h"

#define REPORT_SCHEMA "hearth-report/1"
#define DASH	      "&#8211;"
#define DOT	      " &#183; "

/* Bounds: the bytes shown of one string, the days drawn per chart (the
 * latest), the day labels on a chart's axis, the largest count believed. */
#define STR_MAX	    1000
#define HISTORY_MAX 400
#define LABELS_MAX  12
#define COUNT_MAX   1000000000.0
/* The findings shown of one domain's check. */
#define FINDINGS_MAX 100

/* The charts' viewBox width and plot area: left and right; the heights
 * are per chart. The placement chart draws the inbox share in a band of its
 * own above the bars (SB_TOP to SB_BOTTOM) rather than on a second axis. */
#define CW	  720
#define PL	  56
#define PR	  664
#define SB_TOP	  40
#define SB_BOTTOM 100

/* Chart colours: also print, as SVG fills are content, not backgrounds. */
#define C_PLANNED "#bc4c00"
#define C_SENT	  "#0969da"
#define C_INBOX	  "#2da44e"
#define C_SPAM	  "#cf222e"
#define C_OTHER	  "#d4a72c"
#define C_MISSING "#afb8c1"
#define C_SHARE	  "#1f2328"
#define C_READY	  "#116329"
#define C_GRID	  "#d8dee4"
#define C_TEXT	  "#57606a"

struct page {
	FILE *out;
	const json_t *rules;   /* object or NULL */
	const json_t *clients; /* array or NULL */
	long window_days;      /* -1 if unknown */
	unsigned n_charts;     /* for unique ids */
};

static void putf(struct page *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(struct page *p, const char *s)
{
	fputs(s, p->out);
}

static void putf(struct page *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(p->out, fmt, ap);
	va_end(ap);
}

/*
 * The one escape for every string from the JSON, in element text and in
 * attribute values, HTML and inline SVG alike: the five markup characters
 * become references; control characters, C1 controls and U+FFFE/U+FFFF
 * (not allowed in HTML or XML text) are dropped; a string longer than
 * STR_MAX bytes is cut on a character boundary and ends in an ellipsis.
 * NULL shows as a dash.
 */
static void html_escape(struct page *p, const char *s)
{
	const unsigned char *c = (const unsigned char *)s;
	size_t n = 0;

	if (s == NULL) {
		put(p, DASH);
		return;
	}
	for (; *c != '\0'; c++, n++) {
		if (n >= STR_MAX && (*c & 0xc0) != 0x80) {
			put(p, "&#8230;");
			return;
		}
		switch (*c) {
		case '&':
			put(p, "&amp;");
			break;
		case '<':
			put(p, "&lt;");
			break;
		case '>':
			put(p, "&gt;");
			break;
		case '"':
			put(p, "&quot;");
			break;
		case '\'':
			put(p, "&#39;");
			break;
		default:
			if ((*c < 0x20 && *c != '\t' && *c != '\n') ||
			    *c == 0x7f)
				break;
			if (c[0] == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f) {
				c++;
				break;
			}
			if (c[0] == 0xef && c[1] == 0xbf &&
			    (c[2] == 0xbe || c[2] == 0xbf)) {
				c += 2;
				break;
			}
			fputc(*c, p->out);
		}
	}
}

/* Field access: NULL or -1 when the field is missing or of another type. */

static const json_t *jget(const json_t *o, const char *key)
{
	return json_is_object(o) ? json_object_get(o, key) : NULL;
}

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = jget(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A string that is there and not empty, else NULL. */
static const char *jtext(const json_t *o, const char *key)
{
	const char *s = jstr(o, key);

	return s != NULL && *s != '\0' ? s : NULL;
}

static bool jnum(const json_t *o, const char *key, double *v_r)
{
	const json_t *v = jget(o, key);

	if (!json_is_number(v) || !isfinite(json_number_value(v)))
		return false;
	*v_r = json_number_value(v);
	return true;
}

/* A count: a number from 0 to COUNT_MAX, rounded; -1 if none. */
static long jcount(const json_t *o, const char *key)
{
	double v;

	if (!jnum(o, key, &v) || v < 0 || v > COUNT_MAX)
		return -1;
	return (long)(v + 0.5);
}

/* A share from 0 to 1; -1 if none. */
static double jshare(const json_t *o, const char *key)
{
	double v;

	if (!jnum(o, key, &v) || v < 0 || v > 1)
		return -1;
	return v;
}

/* A score from 0 to 100; -1 if none. */
static long jscore(const json_t *o, const char *key)
{
	long v = jcount(o, key);

	return v <= 100 ? v : -1;
}

/* A share of a count that may be 0: none when nothing was counted. */
static double jshare_of(const json_t *o, const char *key, long count)
{
	return count == 0 ? -1 : jshare(o, key);
}

/* Number formatting, locale-free. */

/* 1,234,567 */
static const char *fmt_count(char *buf, size_t size, long v)
{
	char digits[24];
	int n = snprintf(digits, sizeof(digits), "%ld", v < 0 ? 0 : v);
	size_t j = 0;

	for (int i = 0; i < n && j + 2 < size; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[j++] = ',';
		buf[j++] = digits[i];
	}
	buf[j] = '\0';
	return buf;
}

/* 96%; with one decimal where rounding would say 0% or 100% wrongly. */
static const char *fmt_pct(char *buf, size_t size, double share)
{
	long whole = (long)(share * 100 + 0.5);
	long tenths = (long)(share * 1000 + 0.5);

	if ((whole == 100 && share < 1) || (whole == 0 && share > 0)) {
		if (tenths > 999)
			tenths = 999;
		if (tenths < 1)
			tenths = 1;
		snprintf(buf, size, "%ld.%ld%%", tenths / 10, tenths % 10);
	} else {
		snprintf(buf, size, "%ld%%", whole);
	}
	return buf;
}

static void put_count(struct page *p, long v)
{
	char buf[32];

	put(p, v < 0 ? DASH : fmt_count(buf, sizeof(buf), v));
}

static void put_pct(struct page *p, double share)
{
	char buf[32];

	put(p, share < 0 ? DASH : fmt_pct(buf, sizeof(buf), share));
}

/* An SVG coordinate: one decimal at most. */
static void put_num(struct page *p, double v)
{
	long t = v < 0 ? -(long)(-v * 10 + 0.5) : (long)(v * 10 + 0.5);

	if (t < 0) {
		put(p, "-");
		t = -t;
	}
	if (t % 10 == 0)
		putf(p, "%ld", t / 10);
	else
		putf(p, "%ld.%ld", t / 10, t % 10);
}

static void attr(struct page *p, const char *name, double v)
{
	putf(p, " %s=\"", name);
	put_num(p, v);
	put(p, "\"");
}

/* Words. */

static const char *plural(long n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* A client's name as the client knows it: its display name if any. */
static const char *client_label(const struct page *p, const char *name)
{
	size_t n = json_is_array(p->clients) ? json_array_size(p->clients) : 0;

	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const json_t *c = json_array_get(p->clients, i);
		const char *cn = jstr(c, "name");

		if (cn != NULL && strcmp(cn, name) == 0) {
			const char *dn = jtext(c, "display_name");

			return dn != NULL ? dn : name;
		}
	}
	return name;
}

static const char *client_entry_label(const json_t *c)
{
	const char *dn = jtext(c, "display_name");

	return dn != NULL ? dn : jstr(c, "name");
}

/* A word's badge: its colour class and mark (the words' own, never colour
 * alone). */
struct badge_style {
	const char *word, *cls, *mark;
};

static const struct badge_style verdict_styles[] = {
    {"ready", "ready", "&#10003;"},   {"warming", "warming", "&#8599;"},
    {"at risk", "risk", "!"},	      {"at_risk", "risk", "!"},
    {"paused", "paused", "&#8214;"},
};

/* A check's status in the verdicts' colours: pass as ready, warn as
 * warming, fail as at risk; unknown (a lookup failed: cannot tell) and
 * anything else as unknown. */
static const struct badge_style status_styles[] = {
    {"pass", "ready", "&#10003;"},
    {"warn", "warming", "!"},
    {"fail", "risk", "&#10007;"},
};

/* The badge of word (NULL: a dash) from styles, showing `shown`. */
static void put_styled(struct page *p, const struct badge_style *styles,
		       size_t n, const char *word, const char *shown)
{
	const char *cls = "unknown", *mark = "?";

	if (word == NULL) {
		put(p, DASH);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(word, styles[i].word) == 0) {
			cls = styles[i].cls;
			mark = styles[i].mark;
			break;
		}
	putf(p,
	     "<span class=\"badge v-%s\"><span class=\"mark\" "
	     "aria-hidden=\"true\">%s</span> ",
	     cls, mark);
	html_escape(p, shown);
	put(p, "</span>");
}

/* The badge: colour, a mark and the verdict's words. */
static void put_badge(struct page *p, const char *verdict)
{
	put_styled(p, verdict_styles,
		   sizeof(verdict_styles) / sizeof(*verdict_styles), verdict,
		   verdict != NULL && strcmp(verdict, "at_risk") == 0
		       ? "at risk"
		       : verdict);
}

/* "7 of 12 inboxes are ready for cold outreach, up to 310 cold emails a day
 * in all; 3 are still warming; 2 are at risk." and the window's placement. */
static void put_rollup_words(struct page *p, const json_t *r)
{
	long n = jcount(r, "inboxes"), ready = jcount(r, "ready");
	long warming = jcount(r, "warming"), risk = jcount(r, "at_risk");
	long paused = jcount(r, "paused"), cold = jcount(r, "cold_per_day");
	long measured = jcount(r, "measured"), inbox = jcount(r, "inbox");
	long spam = jcount(r, "spam");
	double share = jshare(r, "inbox_share");
	char a[32], b[32];

	if (n < 0 || ready < 0 || ready > n) {
		put(p, "The figures for these inboxes are missing from the "
		       "report.");
		return;
	}
	if (n == 0) {
		put(p, "There are no inboxes in this report yet.");
		return;
	}
	if (n == 1)
		put(p, ready == 1 ? "The one inbox is ready for cold outreach"
				  : "The one inbox is not ready for cold "
				    "outreach yet");
	else if (ready == n)
		putf(p, "All %s inboxes are ready for cold outreach",
		     fmt_count(a, sizeof(a), n));
	else if (ready == 0)
		putf(p, "None of the %s inboxes is ready for cold outreach yet",
		     fmt_count(a, sizeof(a), n));
	else
		putf(p, "%s of %s inboxes %s ready for cold outreach",
		     fmt_count(a, sizeof(a), ready), fmt_count(b, sizeof(b), n),
		     plural(ready, "is", "are"));
	if (cold > 0 && ready > 0)
		putf(p, ", up to %s cold %s a day in all",
		     fmt_count(a, sizeof(a), cold),
		     plural(cold, "email", "emails"));
	else if (cold > 0)
		putf(p, " (up to %s cold %s a day in all while warming)",
		     fmt_count(a, sizeof(a), cold),
		     plural(cold, "email", "emails"));
	if (n == 1) {
		if (warming == 1)
			put(p, "; it is still warming");
		else if (risk == 1)
			put(p, "; it is at risk");
		else if (paused == 1)
			put(p, "; it is paused");
	} else {
		if (warming > 0)
			putf(p, "; %s %s still warming",
			     fmt_count(a, sizeof(a), warming),
			     plural(warming, "is", "are"));
		if (risk > 0)
			putf(p, "; %s %s at risk",
			     fmt_count(a, sizeof(a), risk),
			     plural(risk, "is", "are"));
		if (paused > 0)
			putf(p, "; %s %s paused",
			     fmt_count(a, sizeof(a), paused),
			     plural(paused, "is", "are"));
	}
	put(p, ".");
	if (measured > 0 && inbox >= 0 && inbox <= measured) {
		if (p->window_days > 0)
			putf(p, " Over the last %ld %s, ", p->window_days,
			     plural(p->window_days, "day", "days"));
		else
			put(p, " Over the report's window, ");
		putf(p, "%s of %s measured %s (",
		     fmt_count(a, sizeof(a), inbox),
		     fmt_count(b, sizeof(b), measured),
		     plural(measured, "message", "messages"));
		put_pct(p, share >= 0 ? share : (double)inbox / measured);
		put(p, ") landed in the inbox");
		if (spam >= 0)
			putf(p, " and %s in spam",
			     fmt_count(a, sizeof(a), spam));
		put(p, ".");
	} else if (measured == 0) {
		put(p, " No placement was measured over the window yet.");
	}
}

/* The document's head and style. */

static const char page_style[] =
    ":root{color-scheme:light}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0 auto;max-width:980px;padding:24px 20px 48px;"
    "font:15px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,"
    "\"Helvetica Neue\",Arial,sans-serif;color:#1f2328;background:#fff}\n"
    "h1{font-size:1.75em;line-height:1.2;margin:0 0 .25em}\n"
    "h2{font-size:1.3em;margin:1.8em 0 .6em;padding-bottom:.2em;"
    "border-bottom:1px solid #d0d7de}\n"
    "h3{font-size:1em;margin:1.1em 0 .3em}\n"
    ".inbox h2{margin-top:0;overflow-wrap:anywhere}\n"
    "header{border-bottom:3px solid #1f2328;padding-bottom:.8em}\n"
    "header .scope{font-size:1.25em;margin:0;overflow-wrap:anywhere}\n"
    "header dl{display:flex;flex-wrap:wrap;gap:.2em 1.8em;"
    "margin:.6em 0 0;color:" C_TEXT "}\n"
    "header dl div{display:flex;gap:.4em}\n"
    "header dt{font-weight:600}\n"
    "header dd{margin:0}\n"
    ".lead{font-size:1.12em}\n"
    ".scroll{overflow-x:auto}\n"
    "table{border-collapse:collapse;width:100%;font-size:.92em}\n"
    "th,td{padding:.35em .5em;border-bottom:1px solid #d8dee4;"
    "text-align:left;vertical-align:top}\n"
    "thead th{font-weight:600;background:#f6f8fa;"
    "border-bottom:2px solid #d0d7de}\n"
    ".n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "td.n{white-space:nowrap}\n"
    "tr.client td{font-weight:600;border-top:1px solid #afb8c1}\n"
    "tr.domain td:first-child{padding-left:1.8em}\n"
    "tfoot td{font-weight:600;border-top:2px solid #d0d7de}\n"
    ".addr{overflow-wrap:anywhere}\n"
    ".verdicts td.addr{min-width:14em}\n"
    ".rollup td:first-child{min-width:11em}\n"
    "caption{caption-side:bottom;text-align:left;color:" C_TEXT ";"
    "font-size:.85em;padding-top:.4em}\n"
    ".sub{display:block;color:" C_TEXT ";font-size:.88em;"
    "font-weight:400}\n"
    "a{color:#0550ae}\n"
    ".badge{display:inline-block;padding:.05em .6em;border:1px solid;"
    "border-radius:1em;font-size:.85em;font-weight:600;"
    "white-space:nowrap}\n"
    ".v-ready{color:#116329;background:#dafbe1;border-color:#4ac26b}\n"
    ".v-warming{color:#0550ae;background:#ddf4ff;border-color:#54aeff}\n"
    ".v-risk{color:#a40e26;background:#ffebe9;border-color:#ff8182}\n"
    ".v-paused{color:#424a53;background:#eaeef2;border-color:#8c959f}\n"
    ".v-unknown{color:#1f2328;background:#fff;border-color:#8c959f}\n"
    ".rules dt{font-weight:600}\n"
    ".rules dd{margin:0 0 .5em 1.2em}\n"
    ".inbox{margin-top:2.2em;padding-top:1em;"
    "border-top:2px solid #d0d7de}\n"
    ".meta{color:" C_TEXT ";margin:0 0 .6em}\n"
    ".facts{display:flex;flex-wrap:wrap;gap:.4em 2em;margin:.4em 0}\n"
    ".facts b{font-size:1.25em}\n"
    ".reasons{margin:.2em 0;padding-left:1.4em}\n"
    "figure{margin:1.2em 0 0}\n"
    "figcaption{font-size:.9em;color:" C_TEXT "}\n"
    "svg{display:block;width:100%;height:auto;max-width:880px}\n"
    "svg text{font-size:12px}\n"
    ".nodata{color:" C_TEXT ";font-style:italic}\n"
    ".domain-checks h3{overflow-wrap:anywhere}\n"
    ".findings{table-layout:fixed}\n"
    ".findings th:nth-child(1){width:15%}\n"
    ".findings th:nth-child(2){width:14%}\n"
    ".findings th:nth-child(3){width:38%}\n"
    ".findings td{overflow-wrap:anywhere}\n"
    ".findings .badge{white-space:normal}\n"
    ".fails{margin:.3em 0}\n"
    "footer{margin-top:3em;padding-top:.6em;border-top:1px solid "
    "#d0d7de;color:" C_TEXT ";font-size:.88em}\n"
    "@media print{\n"
    "@page{margin:16mm 14mm}\n"
    "body{max-width:none;padding:0;font-size:10.5pt;color:#000;"
    "background:none}\n"
    "header dl,.sub,.meta,figcaption,footer{color:#333}\n"
    "a{color:inherit;text-decoration:none}\n"
    "thead th{background:none}\n"
    ".badge{background:none;color:#000;border-color:#000}\n"
    ".scroll{overflow:visible}\n"
    ".inbox,#checks,#rules{break-before:page;page-break-before:always;"
    "border-top:0;"
    "margin-top:0;padding-top:0}\n"
    "h2,h3{break-after:avoid;page-break-after:avoid}\n"
    "tr,figure,svg,.reasons li{break-inside:avoid;"
    "page-break-inside:avoid}\n"
    "svg{max-width:560px}\n"
    "figure{margin-top:.6em}\n"
    "}\n";

static void put_head(struct page *p, const char *scope, const char *as_of)
{
	put(p, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	       "<meta charset=\"utf-8\"/>\n"
	       "<meta name=\"viewport\" content=\"width=device-width, "
	       "initial-scale=1\"/>\n"
	       "<meta name=\"generator\" content=\"hearth\"/>\n"
	       "<title>Inbox readiness " DASH " ");
	html_escape(p, scope);
	if (as_of != NULL) {
		put(p, " " DASH " ");
		html_escape(p, as_of);
	}
	put(p, "</title>\n<style>\n");
	put(p, page_style);
	put(p, "</style>\n</head>\n<body>\n");
}

/* "2026-03-21T08:15:00Z" as "2026-03-21 08:15 UTC"; anything else as is. */
static void put_time(struct page *p, const char *iso)
{
	char buf[32];
	size_t len = iso != NULL ? strlen(iso) : 0;

	if (iso == NULL) {
		put(p, DASH);
		return;
	}
	put(p, "<time datetime=\"");
	html_escape(p, iso);
	put(p, "\">");
	if (len >= 16 && len < 40 && iso[4] == '-' && iso[10] == 'T' &&
	    iso[13] == ':') {
		memcpy(buf, iso, 16);
		buf[10] = ' ';
		buf[16] = '\0';
		html_escape(p, buf);
		if (iso[len - 1] == 'Z' || strstr(iso + 16, "+00:00") != NULL)
			put(p, " UTC");
	} else {
		html_escape(p, iso);
	}
	put(p, "</time>");
}

static void put_header(struct page *p, const json_t *report, const char *scope)
{
	const json_t *sc = jget(report, "scope");
	const char *inbox = jtext(sc, "inbox");
	const char *since = jtext(report, "since");

	put(p, "<header>\n<h1>Inbox readiness report</h1>\n<p "
	       "class=\"scope\">");
	html_escape(p, scope);
	if (inbox != NULL) {
		put(p, DOT "inbox <span class=\"addr\">");
		html_escape(p, inbox);
		put(p, "</span>");
	}
	put(p, "</p>\n<dl>\n<div><dt>As of</dt><dd>");
	html_escape(p, jtext(report, "as_of"));
	put(p, "</dd></div>\n");
	if (since != NULL) {
		put(p, "<div><dt>Since</dt><dd>");
		html_escape(p, since);
		put(p, "</dd></div>\n");
	}
	put(p, "<div><dt>Generated</dt><dd>");
	put_time(p, jtext(report, "generated_at"));
	put(p, "</dd></div>\n</dl>\n</header>\n");
}

/* The roll-up table: per client, then its domains; a total row when the
 * report covers more than one client. */
static void put_rollup_cells(struct page *p, const json_t *r)
{
	static const char *const counts[] = {"inboxes", "ready",  "warming",
					     "at_risk", "paused", "measured"};

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		put(p, "<td class=\"n\">");
		put_count(p, jcount(r, counts[i]));
		put(p, "</td>");
	}
	put(p, "<td class=\"n\">");
	put_pct(p, jshare_of(r, "inbox_share", jcount(r, "measured")));
	put(p, "</td><td class=\"n\">");
	put_count(p, jcount(r, "spam"));
	put(p, "</td><td class=\"n\">");
	put_count(p, jscore(r, "score"));
	put(p, "</td><td class=\"n\">");
	put_count(p, jcount(r, "cold_per_day"));
	put(p, "</td>");
}

static void put_rollup_table(struct page *p, const json_t *summary)
{
	size_t n = json_is_array(p->clients) ? json_array_size(p->clients) : 0;

	if (n == 0)
		return;
	put(p, "<div class=\"scroll\"><table class=\"rollup\">\n<caption>"
	       "Per client and domain; inbox placement, "
	       "measured and spam over the window; score is the mean; cold "
	       "per day the sum of the recommendations.</caption>\n"
	       "<thead><tr><th scope=\"col\">Client / domain</th>"
	       "<th scope=\"col\" class=\"n\">Inboxes</th>"
	       "<th scope=\"col\" class=\"n\">Ready</th>"
	       "<th scope=\"col\" class=\"n\">Warming</th>"
	       "<th scope=\"col\" class=\"n\">At risk</th>"
	       "<th scope=\"col\" class=\"n\">Paused</th>"
	       "<th scope=\"col\" class=\"n\">Measured</th>"
	       "<th scope=\"col\" class=\"n\">Inbox placement</th>"
	       "<th scope=\"col\" class=\"n\">Spam</th>"
	       "<th scope=\"col\" class=\"n\">Score</th>"
	       "<th scope=\"col\" class=\"n\">Cold / day</th></tr></thead>\n");
	if (n > 1 && json_is_object(summary)) {
		put(p, "<tfoot><tr><td>All clients</td>");
		put_rollup_cells(p, summary);
		put(p, "</tr></tfoot>\n");
	}
	put(p, "<tbody>\n");
	for (size_t i = 0; i < n; i++) {
		const json_t *c = json_array_get(p->clients, i);
		const json_t *domains = jget(c, "domains");
		size_t nd =
		    json_is_array(domains) ? json_array_size(domains) : 0;

		if (!json_is_object(c))
			continue;
		put(p, "<tr class=\"client\"><td>");
		html_escape(p, client_entry_label(c));
		put(p, "</td>");
		put_rollup_cells(p, jget(c, "rollup"));
		put(p, "</tr>\n");
		for (size_t j = 0; j < nd; j++) {
			const json_t *d = json_array_get(domains, j);

			if (!json_is_object(d))
				continue;
			put(p, "<tr class=\"domain\"><td class=\"addr\">");
			html_escape(p, jstr(d, "name"));
			put(p, "</td>");
			put_rollup_cells(p, jget(d, "rollup"));
			put(p, "</tr>\n");
		}
	}
	put(p, "</tbody>\n</table></div>\n");
}

static void put_summary(struct page *p, const json_t *report)
{
	size_t n = json_is_array(p->clients) ? json_array_size(p->clients) : 0;

	put(p,
	    "<section id=\"summary\">\n<h2>Summary</h2>\n<p class=\"lead\">");
	put_rollup_words(p, jget(report, "summary"));
	put(p, "</p>\n");
	if (n > 1) {
		put(p, "<ul class=\"clients\">\n");
		for (size_t i = 0; i < n; i++) {
			const json_t *c = json_array_get(p->clients, i);

			if (!json_is_object(c))
				continue;
			put(p, "<li><strong>");
			html_escape(p, client_entry_label(c));
			put(p, "</strong>: ");
			put_rollup_words(p, jget(c, "rollup"));
			put(p, "</li>\n");
		}
		put(p, "</ul>\n");
	}
	put_rollup_table(p, jget(report, "summary"));
	put(p, "</section>\n");
}

/* The messages a window's placement shares are of; -1 if unknown. */
static long window_total(const json_t *w)
{
	long m = jcount(w, "measured"), x = jcount(w, "missing");

	return m < 0 ? -1 : m + (x > 0 ? x : 0);
}

/* The window's placement for one inbox: "96%" and "48 of 50 measured". */
static void put_window_placement(struct page *p, const json_t *w)
{
	long measured = jcount(w, "measured"), inbox = jcount(w, "inbox");
	long missing = jcount(w, "missing");
	char a[32], b[32];

	put_pct(p, jshare_of(w, "inbox_share", window_total(w)));
	if (measured < 0 || inbox < 0)
		return;
	putf(p, "<span class=\"sub\">%s of %s measured",
	     fmt_count(a, sizeof(a), inbox), fmt_count(b, sizeof(b), measured));
	if (missing > 0)
		putf(p, ", %s missing", fmt_count(a, sizeof(a), missing));
	put(p, "</span>");
}

static void put_verdict_table(struct page *p, const json_t *inboxes)
{
	size_t n = json_is_array(inboxes) ? json_array_size(inboxes) : 0;

	put(p, "<section id=\"verdicts\">\n<h2>Verdicts</h2>\n");
	if (n == 0) {
		put(p, "<p class=\"nodata\">No inboxes in this report.</p>\n"
		       "</section>\n");
		return;
	}
	put(p, "<div class=\"scroll\"><table class=\"verdicts\">\n"
	       "<thead><tr><th scope=\"col\">Inbox</th>"
	       "<th scope=\"col\">Verdict</th>"
	       "<th scope=\"col\" class=\"n\">Score</th>"
	       "<th scope=\"col\" class=\"n\">Cold / day</th>"
	       "<th scope=\"col\" class=\"n\">Inbox placement</th>"
	       "<th scope=\"col\">Why</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < n; i++) {
		const json_t *in = json_array_get(inboxes, i);
		const json_t *reasons = jget(in, "reasons");
		const json_t *first =
		    json_is_array(reasons) ? json_array_get(reasons, 0) : NULL;
		const char *client = client_label(p, jtext(in, "client"));
		const char *domain = jtext(in, "domain");

		if (!json_is_object(in))
			continue;
		putf(p, "<tr><td class=\"addr\"><a href=\"#inbox-%zu\">",
		     i + 1);
		html_escape(p, jstr(in, "address"));
		put(p, "</a>");
		if (client != NULL || domain != NULL) {
			put(p, "<span class=\"sub\">");
			if (client != NULL)
				html_escape(p, client);
			if (client != NULL && domain != NULL)
				put(p, DOT);
			if (domain != NULL)
				html_escape(p, domain);
			put(p, "</span>");
		}
		put(p, "</td><td>");
		put_badge(p, jtext(in, "verdict"));
		put(p, "</td><td class=\"n\">");
		put_count(p, jscore(in, "score"));
		put(p, "</td><td class=\"n\">");
		put_count(p, jcount(in, "cold_per_day"));
		put(p, "</td><td class=\"n\">");
		put_window_placement(p, jget(in, "window"));
		put(p, "</td><td>");
		html_escape(p, json_is_string(first) ? json_string_value(first)
						     : NULL);
		put(p, "</td></tr>\n");
	}
	put(p, "</tbody>\n</table></div>\n</section>\n");
}

/* A check's status with its mark and word (status_styles). */
static void put_status(struct page *p, const char *status)
{
	put_styled(p, status_styles,
		   sizeof(status_styles) / sizeof(*status_styles), status,
		   status);
}

/* "spf" as "SPF"; a name this renderer does not know as it is. */
static void put_check_name(struct page *p, const char *check)
{
	static const char *const names[][2] = {
	    {"mx", "MX"},
	    {"spf", "SPF"},
	    {"dkim", "DKIM"},
	    {"dmarc", "DMARC"},
	    {"blacklist", "Block lists"},
	};

	for (size_t i = 0; check != NULL && i < sizeof(names) / sizeof(*names);
	     i++)
		if (strcmp(check, names[i][0]) == 0) {
			put(p, names[i][1]);
			return;
		}
	html_escape(p, check);
}

/* One domain's newest check: when, the worst, the failure and a row per
 * finding; or that it was never checked. */
static void put_domain_checks(struct page *p, const json_t *d,
			      const char *client)
{
	const json_t *c = jget(d, "checks");
	const json_t *findings = jget(c, "findings");
	size_t n = json_is_array(findings) ? json_array_size(findings) : 0;
	const char *failure = jtext(c, "failure");
	size_t shown = 0;

	put(p, "<h3><span class=\"addr\">");
	html_escape(p, jstr(d, "name"));
	put(p, "</span>");
	if (client != NULL) {
		put(p, "<span class=\"sub\">");
		html_escape(p, client);
		put(p, "</span>");
	}
	put(p, "</h3>\n");
	if (!json_is_object(c)) {
		put(p, "<p class=\"nodata\">Not checked yet.</p>\n");
		return;
	}
	put(p, "<p class=\"meta\">Checked ");
	put_time(p, jtext(c, "checked_at"));
	put(p, DOT "Worst finding: ");
	put_status(p, jtext(c, "worst"));
	put(p, "</p>\n");
	if (failure != NULL) {
		put(p, "<p class=\"fails\"><strong>Fails:</strong> ");
		html_escape(p, failure);
		put(p, "</p>\n");
	}
	for (size_t i = 0; i < n && shown < FINDINGS_MAX; i++) {
		const json_t *f = json_array_get(findings, i);

		if (!json_is_object(f))
			continue;
		if (shown++ == 0)
			put(p,
			    "<div class=\"scroll\"><table class=\"findings\">"
			    "\n<thead><tr><th scope=\"col\">Check</th>"
			    "<th scope=\"col\">Status</th>"
			    "<th scope=\"col\">Found</th>"
			    "<th scope=\"col\">What to do</th></tr></thead>"
			    "\n<tbody>\n");
		put(p, "<tr><td>");
		put_check_name(p, jtext(f, "check"));
		put(p, "</td><td>");
		put_status(p, jtext(f, "status"));
		put(p, "</td><td>");
		html_escape(p, jtext(f, "summary"));
		put(p, "</td><td>");
		/* nothing to do: a dash */
		html_escape(p, jtext(f, "fix"));
		put(p, "</td></tr>\n");
	}
	if (shown > 0)
		put(p, "</tbody>\n</table></div>\n");
	else
		put(p, "<p class=\"nodata\">No findings recorded.</p>\n");
}

/*
 * Domain authentication and blacklists: per client and domain, the newest
 * check's findings. Left out when the report has no domain.
 */
static void put_checks(struct page *p)
{
	size_t n = json_is_array(p->clients) ? json_array_size(p->clients) : 0;
	size_t with_domains = 0;

	for (size_t i = 0; i < n; i++) {
		const json_t *ds =
		    jget(json_array_get(p->clients, i), "domains");

		if (json_is_array(ds) && json_array_size(ds) > 0)
			with_domains++;
	}
	if (with_domains == 0)
		return;
	put(p, "<section id=\"checks\" class=\"domain-checks\">\n"
	       "<h2>Domain authentication and blacklists</h2>\n<p>What "
	       "receivers check before they trust mail from a domain: its "
	       "mail servers (MX), who may send for it (SPF), the signature "
	       "on its mail (DKIM), its policy (DMARC) and the block lists. "
	       "A failing check holds the domain's inboxes at warming until "
	       "it is fixed.</p>\n");
	for (size_t i = 0; i < n; i++) {
		const json_t *c = json_array_get(p->clients, i);
		const json_t *ds = jget(c, "domains");
		size_t nd = json_is_array(ds) ? json_array_size(ds) : 0;

		if (!json_is_object(c))
			continue;
		for (size_t j = 0; j < nd; j++)
			if (json_is_object(json_array_get(ds, j)))
				put_domain_checks(p, json_array_get(ds, j),
						  with_domains > 1
						      ? client_entry_label(c)
						      : NULL);
	}
	put(p, "</section>\n");
}

/* The rules behind the verdicts, in words, with the report's figures. */
static void put_rules(struct page *p)
{
	const json_t *r = p->rules;
	long measured = jcount(r, "min_measured");
	long auth = jcount(r, "auth_clear_days");
	long cold_min = jcount(r, "cold_min"), cold_max = jcount(r, "cold_max");

	if (!json_is_object(r))
		return;
	put(p, "<section id=\"rules\">\n<h2>How to read this report</h2>\n"
	       "<dl class=\"rules\">\n<dt>Ready</dt><dd>The warm-up ramp is "
	       "complete and, over the last ");
	put_count(p, p->window_days);
	put(p, " days, at least ");
	put_pct(p, jshare(r, "min_inbox_share"));
	put(p, " of at least ");
	put_count(p, measured);
	put(p, " measured messages landed in the inbox, at most ");
	put_pct(p, jshare(r, "max_spam_share"));
	put(p, " in spam, fewer than ");
	put_pct(p, jshare(r, "max_bounce_share"));
	put(p, " bounced, and sign-in worked for the last ");
	put_count(p, auth);
	put(p, " days.</dd>\n<dt>Warming</dt><dd>The ramp is still running, "
	       "too few messages were measured to say, or a check of the "
	       "domain fails (see Domain authentication and "
	       "blacklists).</dd>\n"
	       "<dt>At risk</dt><dd>Spam, bounces, failed sign-ins or low "
	       "inbox placement over the window: no cold outreach until it "
	       "is fixed.</dd>\n"
	       "<dt>Paused</dt><dd>Sending is stopped; the first reason says "
	       "why.</dd>\n"
	       "<dt>Score</dt><dd>0 to 100: inbox placement, the ramp's "
	       "progress, enough measurements, no recent spam, few bounces, "
	       "no failed sign-ins.</dd>\n"
	       "<dt>Cold / day</dt><dd>The recommended number of cold emails "
	       "a day: ");
	put_count(p, cold_min);
	put(p, " to ");
	put_count(p, cold_max);
	put(p, " for a ready inbox, more with better placement; none or a "
	       "trickle otherwise.</dd>\n<dt>Inbox placement</dt><dd>Only "
	       "measured placements count: a message whose placement was "
	       "never measured counts as missing, never as inbox.</dd>\n"
	       "</dl>\n</section>\n");
}

/* Charts. */

struct chart_day {
	char label[16];	 /* the axis label: MM-DD */
	const char *day; /* as in the JSON; may be NULL */
	long planned, sent, inbox, spam, other, missing; /* -1: none */
};

struct chart {
	struct page *p;
	unsigned id;
	const struct chart_day *d;
	size_t n;
	double height;	  /* of the viewBox */
	double y0, y1;	  /* the bars' plot area: top and bottom */
	double top, step; /* the left axis */
	double slot;	  /* the width of one day */
};

/* The history's latest HISTORY_MAX days that are objects, oldest first as
 * the JSON has them. The caller frees *days_r. */
static size_t history_load(const json_t *inbox, struct chart_day **days_r)
{
	const json_t *h = jget(inbox, "history");
	size_t n = json_is_array(h) ? json_array_size(h) : 0;
	size_t first = n > HISTORY_MAX ? n - HISTORY_MAX : 0, k = 0;
	struct chart_day *d = xcalloc(n - first + 1, sizeof(*d));

	for (size_t i = first; i < n; i++) {
		const json_t *e = json_array_get(h, i);
		const char *day = jtext(e, "day");
		struct chart_day *c = &d[k];
		size_t len;

		if (!json_is_object(e))
			continue;
		c->day = day;
		if (day == NULL)
			day = "?";
		else if (strlen(day) == 10 && day[4] == '-' && day[7] == '-')
			day += 5;
		len = strlen(day);
		if (len >= sizeof(c->label)) {
			len = sizeof(c->label) - 1;
			while (len > 0 && (day[len] & 0xc0) == 0x80)
				len--;
		}
		memcpy(c->label, day, len);
		c->label[len] = '\0';
		c->planned = jcount(e, "planned");
		c->sent = jcount(e, "sent");
		c->inbox = jcount(e, "inbox");
		c->spam = jcount(e, "spam");
		c->other = jcount(e, "other");
		c->missing = jcount(e, "missing");
		k++;
	}
	*days_r = d;
	return k;
}

static long pos(long v)
{
	return v > 0 ? v : 0;
}

/* The axis: a step of 1, 2 or 5 times a power of ten, at most 5 steps. */
static void chart_scale(struct chart *c, double max)
{
	double step = 1;
	long steps;

	if (max < 1)
		max = 1;
	while (max / step > 5) {
		if (max / (step * 2) <= 5) {
			step *= 2;
			break;
		}
		if (max / (step * 5) <= 5) {
			step *= 5;
			break;
		}
		step *= 10;
	}
	steps = (long)(max / step);
	if (steps * step < max)
		steps++;
	c->step = step;
	c->top = steps * step;
}

static double chart_x(const struct chart *c, size_t i)
{
	return PL + c->slot * ((double)i + 0.5);
}

static double chart_y(const struct chart *c, double v)
{
	return c->y1 - (c->y1 - c->y0) * v / c->top;
}

/* <svg> with its <title>, then the caller writes <desc> ... */
static void chart_begin(struct chart *c, const char *what, const char *addr)
{
	struct page *p = c->p;

	c->id = ++p->n_charts;
	c->slot = (double)(PR - PL) / (double)c->n;
	putf(p,
	     "<svg viewBox=\"0 0 %d %ld\" role=\"img\" "
	     "aria-labelledby=\"c%u-t c%u-d\">\n<title id=\"c%u-t\">",
	     CW, (long)c->height, c->id, c->id, c->id);
	put(p, what);
	put(p, " for ");
	html_escape(p, addr);
	putf(p, "</title>\n<desc id=\"c%u-d\">", c->id);
}

static void chart_range(struct chart *c)
{
	html_escape(c->p, c->d[0].day);
	if (c->n > 1) {
		put(c->p, " to ");
		html_escape(c->p, c->d[c->n - 1].day);
	}
}

/* ... then the grid, the left axis, the day labels and the axis titles. */
static void chart_axes(struct chart *c, const char *y_title)
{
	struct page *p = c->p;
	size_t every = (c->n + LABELS_MAX - 1) / LABELS_MAX;

	put(p, "</desc>\n<g fill=\"" C_TEXT "\">\n");
	for (double v = 0; v <= c->top + c->step / 2; v += c->step) {
		char buf[32];

		put(p, "<line");
		attr(p, "x1", PL);
		attr(p, "x2", PR);
		attr(p, "y1", chart_y(c, v));
		attr(p, "y2", chart_y(c, v));
		put(p, " stroke=\"" C_GRID "\"/>\n<text");
		attr(p, "x", PL - 6);
		attr(p, "y", chart_y(c, v) + 4);
		putf(p, " text-anchor=\"end\">%s</text>\n",
		     fmt_count(buf, sizeof(buf), (long)v));
	}
	for (size_t i = 0; i < c->n; i++) {
		if ((c->n - 1 - i) % every != 0)
			continue;
		put(p, "<text");
		attr(p, "x", chart_x(c, i));
		attr(p, "y", c->y1 + 16);
		put(p, " text-anchor=\"middle\">");
		html_escape(p, c->d[i].label);
		put(p, "</text>\n");
	}
	put(p, "<line");
	attr(p, "x1", PL);
	attr(p, "x2", PR);
	attr(p, "y1", c->y1);
	attr(p, "y2", c->y1);
	put(p, " stroke=\"" C_TEXT "\"/>\n<text");
	attr(p, "x", (PL + PR) / 2.0);
	attr(p, "y", c->height - 10);
	put(p, " text-anchor=\"middle\">Day (");
	chart_range(c);
	put(p, ")</text>\n<text");
	attr(p, "x", -(c->y0 + c->y1) / 2);
	attr(p, "y", 16);
	put(p, " transform=\"rotate(-90)\" text-anchor=\"middle\">");
	put(p, y_title);
	put(p, "</text>\n</g>\n");
}

/* One legend entry at *x_r on the legend's row; kind: 'b'ar, 'l'ine. */
static void chart_legend(struct chart *c, double *x_r, char kind,
			 const char *fill, const char *label)
{
	struct page *p = c->p;

	if (kind == 'l') {
		put(p, "<line");
		attr(p, "x1", *x_r);
		attr(p, "x2", *x_r + 16);
		attr(p, "y1", 16);
		attr(p, "y2", 16);
		putf(p, " stroke=\"%s\" stroke-width=\"2.5\"/>\n<circle", fill);
		attr(p, "cx", *x_r + 8);
		attr(p, "cy", 16);
		putf(p, " r=\"3\" fill=\"%s\"/>\n", fill);
	} else {
		put(p, "<rect");
		attr(p, "x", *x_r + 2);
		attr(p, "y", 10);
		putf(p,
		     " width=\"12\" height=\"12\" fill=\"%s\" "
		     "stroke=\"#8c959f\" stroke-width=\"0.5\"/>\n",
		     fill);
	}
	put(p, "<text");
	attr(p, "x", *x_r + 21);
	attr(p, "y", 20);
	putf(p, " fill=\"#1f2328\">%s</text>\n", label);
	*x_r += 21 + 7.2 * (double)strlen(label) + 18;
}

/* A polyline through the days that have a value; gaps break it. */
static void chart_line(struct chart *c, const double *ys, const char *stroke)
{
	struct page *p = c->p;
	bool open = false;
	double r =
	    c->slot / 3 < 3 ? (c->slot / 3 < 1.5 ? 1.5 : c->slot / 3) : 3;

	for (size_t i = 0; i <= c->n; i++) {
		bool has = i < c->n && ys[i] >= 0;

		if (has && !open)
			put(p, "<polyline fill=\"none\" stroke-width=\"2.5\" "
			       "stroke-linejoin=\"round\" points=\"");
		if (has) {
			put_num(p, chart_x(c, i));
			put(p, ",");
			put_num(p, ys[i]);
			put(p, " ");
		}
		if (!has && open)
			putf(p, "\" stroke=\"%s\"/>\n", stroke);
		open = has;
	}
	for (size_t i = 0; i < c->n; i++) {
		bool alone = (i == 0 || ys[i - 1] < 0) &&
			     (i + 1 == c->n || ys[i + 1] < 0);

		if (ys[i] < 0 || (c->slot < 8 && !alone))
			continue;
		put(p, "<circle");
		attr(p, "cx", chart_x(c, i));
		attr(p, "cy", ys[i]);
		attr(p, "r", r);
		putf(p, " fill=\"%s\"/>\n", stroke);
	}
}

static void chart_bar(struct chart *c, size_t i, double from, double to,
		      const char *fill)
{
	double w = c->slot * 0.72 > 36 ? 36 : c->slot * 0.72;

	if (to <= from)
		return;
	put(c->p, "<rect");
	attr(c->p, "x", chart_x(c, i) - w / 2);
	attr(c->p, "y", chart_y(c, to));
	attr(c->p, "width", w);
	attr(c->p, "height", chart_y(c, from) - chart_y(c, to));
	putf(c->p, " fill=\"%s\"/>\n", fill);
}

/* (1) the ramp: planned (a line) against sent (bars) per day. */
static void chart_ramp(struct page *p, const char *addr,
		       const struct chart_day *d, size_t n)
{
	struct chart c = {
	    .p = p, .d = d, .n = n, .height = 262, .y0 = 40, .y1 = 210};
	double max = 0, x = PL, *ys = xcalloc(n, sizeof(*ys));
	long planned = 0, sent = 0;
	char a[32], b[32];

	for (size_t i = 0; i < n; i++) {
		planned += pos(d[i].planned);
		sent += pos(d[i].sent);
		if (d[i].planned > max)
			max = (double)d[i].planned;
		if (d[i].sent > max)
			max = (double)d[i].sent;
	}
	chart_scale(&c, max);
	put(p, "<figure>\n");
	chart_begin(&c, "The ramp: planned and sent emails per day", addr);
	putf(p, "%zu %s, ", n, plural((long)n, "day", "days"));
	chart_range(&c);
	putf(p, ": %s planned and %s sent in all.",
	     fmt_count(a, sizeof(a), planned), fmt_count(b, sizeof(b), sent));
	chart_axes(&c, "Emails per day");
	for (size_t i = 0; i < n; i++) {
		put(p, "<g><title>");
		html_escape(p, d[i].day);
		put(p, ": planned ");
		put_count(p, d[i].planned);
		put(p, ", sent ");
		put_count(p, d[i].sent);
		put(p, "</title>");
		chart_bar(&c, i, 0, (double)pos(d[i].sent), C_SENT);
		put(p, "</g>\n");
		ys[i] =
		    d[i].planned >= 0 ? chart_y(&c, (double)d[i].planned) : -1;
	}
	chart_line(&c, ys, C_PLANNED);
	chart_legend(&c, &x, 'b', C_SENT, "Sent");
	chart_legend(&c, &x, 'l', C_PLANNED, "Planned");
	put(p, "</svg>\n<figcaption>The ramp: emails planned (line) and sent "
	       "(bars) per day.</figcaption>\n</figure>\n");
	free(ys);
}

/* (2) placement: inbox, spam, other and missing stacked per day, and the
 * inbox share as a line on the right-hand axis. */
static void chart_placement(struct page *p, const char *addr,
			    const struct chart_day *d, size_t n)
{
	struct chart c = {
	    .p = p, .d = d, .n = n, .height = 330, .y0 = 128, .y1 = 278};
	double max = 0, x = PL, *ys = xcalloc(n, sizeof(*ys));
	double ready = jshare(p->rules, "min_inbox_share");
	long inbox = 0, spam = 0, other = 0, missing = 0;
	char a[32], b[32], e[32], f[32];

	for (size_t i = 0; i < n; i++) {
		long t = pos(d[i].inbox) + pos(d[i].spam) + pos(d[i].other) +
			 pos(d[i].missing);

		inbox += pos(d[i].inbox);
		spam += pos(d[i].spam);
		other += pos(d[i].other);
		missing += pos(d[i].missing);
		if (t > max)
			max = (double)t;
	}
	chart_scale(&c, max);
	put(p, "<figure>\n");
	chart_begin(&c, "Placement per day", addr);
	putf(p, "%zu %s, ", n, plural((long)n, "day", "days"));
	chart_range(&c);
	putf(p, ": %s in the inbox, %s in spam, %s elsewhere, %s missing",
	     fmt_count(a, sizeof(a), inbox), fmt_count(b, sizeof(b), spam),
	     fmt_count(e, sizeof(e), other), fmt_count(f, sizeof(f), missing));
	if (inbox + spam + other + missing > 0) {
		put(p, "; inbox share ");
		put_pct(p, (double)inbox /
			       (double)(inbox + spam + other + missing));
	}
	put(p, ".");
	chart_axes(&c, "Messages per day");
	putf(p,
	     "<defs><pattern id=\"hatch%u\" width=\"6\" height=\"6\" "
	     "patternUnits=\"userSpaceOnUse\" "
	     "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" "
	     "fill=\"" C_SPAM "\"/><rect width=\"2\" height=\"6\" "
	     "fill=\"#ffffff\" fill-opacity=\"0.55\"/></pattern></defs>\n",
	     c.id);
	for (size_t i = 0; i < n; i++) {
		double base = 0, v[4];
		long t = pos(d[i].inbox) + pos(d[i].spam) + pos(d[i].other) +
			 pos(d[i].missing);
		char hatch[32];
		const char *fills[4] = {C_INBOX, hatch, C_OTHER, C_MISSING};

		snprintf(hatch, sizeof(hatch), "url(#hatch%u)", c.id);
		v[0] = (double)pos(d[i].inbox);
		v[1] = (double)pos(d[i].spam);
		v[2] = (double)pos(d[i].other);
		v[3] = (double)pos(d[i].missing);
		put(p, "<g><title>");
		html_escape(p, d[i].day);
		put(p, ": inbox ");
		put_count(p, d[i].inbox);
		put(p, ", spam ");
		put_count(p, d[i].spam);
		put(p, ", other ");
		put_count(p, d[i].other);
		put(p, ", missing ");
		put_count(p, d[i].missing);
		if (t > 0) {
			put(p, " (inbox share ");
			put_pct(p, v[0] / (double)t);
			put(p, ")");
		}
		put(p, "</title>");
		for (int k = 0; k < 4; k++) {
			chart_bar(&c, i, base, base + v[k], fills[k]);
			base += v[k];
		}
		put(p, "</g>\n");
		ys[i] =
		    t > 0 && d[i].inbox >= 0
			? SB_BOTTOM - (SB_BOTTOM - SB_TOP) * v[0] / (double)t
			: -1;
	}
	/* The share's band: 0, 50 and 100%, and the line for ready. */
	put(p, "<g fill=\"" C_TEXT "\">\n");
	for (int k = 0; k <= 2; k++) {
		double y = SB_BOTTOM - (SB_BOTTOM - SB_TOP) * k / 2.0;

		put(p, "<line");
		attr(p, "x1", PL);
		attr(p, "x2", PR);
		attr(p, "y1", y);
		attr(p, "y2", y);
		put(p, " stroke=\"" C_GRID "\"/>\n<text");
		attr(p, "x", PL - 6);
		attr(p, "y", y + 4);
		putf(p, " text-anchor=\"end\">%d%%</text>\n", k * 50);
	}
	put(p, "</g>\n");
	if (ready > 0) {
		double y = SB_BOTTOM - (SB_BOTTOM - SB_TOP) * ready;

		put(p, "<line");
		attr(p, "x1", PL);
		attr(p, "x2", PR);
		attr(p, "y1", y);
		attr(p, "y2", y);
		put(p, " stroke=\"" C_READY "\" stroke-width=\"1.5\" "
		       "stroke-dasharray=\"6 4\"/>\n<text");
		attr(p, "x", PR + 6);
		attr(p, "y", y + 4);
		put(p, " fill=\"" C_READY "\">ready</text>\n");
	}
	chart_line(&c, ys, C_SHARE);
	chart_legend(&c, &x, 'b', C_INBOX, "Inbox");
	{
		char hatch[32];

		snprintf(hatch, sizeof(hatch), "url(#hatch%u)", c.id);
		chart_legend(&c, &x, 'b', hatch, "Spam");
	}
	chart_legend(&c, &x, 'b', C_OTHER, "Other folder");
	chart_legend(&c, &x, 'b', C_MISSING, "Missing");
	chart_legend(&c, &x, 'l', C_SHARE, "Inbox share (top)");
	put(p, "</svg>\n<figcaption>Placement per day: inbox, spam (hatched), "
	       "another folder and missing (not measured), stacked; above "
	       "them the day's inbox share, with the dashed line where ready "
	       "begins.</figcaption>\n"
	       "</figure>\n");
	free(ys);
}

/* One inbox's section: its facts, all its reasons, the window and the two
 * charts. */
static void put_inbox(struct page *p, const json_t *in, size_t index)
{
	const char *addr = jstr(in, "address");
	const char *client = client_label(p, jtext(in, "client"));
	const char *state_reason = jtext(in, "state_reason");
	const json_t *ramp = jget(in, "ramp"), *w = jget(in, "window");
	const json_t *reasons = jget(in, "reasons");
	const json_t *complete = jget(ramp, "complete");
	size_t nr = json_is_array(reasons) ? json_array_size(reasons) : 0;
	long step = jcount(ramp, "step"), days = jcount(ramp, "days");
	struct chart_day *d;
	size_t n = history_load(in, &d);

	putf(p,
	     "<section class=\"inbox\" id=\"inbox-%zu\" "
	     "aria-labelledby=\"inbox-%zu-h\">\n<h2 id=\"inbox-%zu-h\"><span "
	     "class=\"addr\">",
	     index, index, index);
	html_escape(p, addr);
	put(p, "</span> ");
	put_badge(p, jtext(in, "verdict"));
	put(p, "</h2>\n<p class=\"meta\">Client: ");
	html_escape(p, client);
	put(p, DOT "Domain: ");
	html_escape(p, jtext(in, "domain"));
	put(p, DOT "Provider: ");
	html_escape(p, jtext(in, "provider"));
	put(p, DOT "State: ");
	html_escape(p, jtext(in, "state"));
	if (state_reason != NULL) {
		put(p, " (");
		html_escape(p, state_reason);
		put(p, ")");
	}
	put(p, DOT "Ramp: ");
	html_escape(p, jtext(in, "ramp_profile"));
	if (json_is_true(complete)) {
		put(p, ", complete");
		if (days >= 0)
			putf(p, " (%ld days)", days);
	} else if (step >= 0 && days > 0) {
		putf(p, ", day %ld of %ld", step, days);
	}
	put(p, "</p>\n<div class=\"facts\"><span>Score <b>");
	put_count(p, jscore(in, "score"));
	put(p, "</b> / 100</span><span>Cold emails a day <b>");
	put_count(p, jcount(in, "cold_per_day"));
	put(p, "</b></span><span>Inbox placement <b>");
	put_pct(p, jshare_of(w, "inbox_share", window_total(w)));
	put(p, "</b></span></div>\n<h3>Why</h3>\n");
	if (nr == 0) {
		put(p, "<p class=\"nodata\">No reasons given.</p>\n");
	} else {
		put(p, "<ul class=\"reasons\">\n");
		for (size_t i = 0; i < nr; i++) {
			const json_t *r = json_array_get(reasons, i);

			if (!json_is_string(r))
				continue;
			put(p, "<li>");
			html_escape(p, json_string_value(r));
			put(p, "</li>\n");
		}
		put(p, "</ul>\n");
	}
	put(p, "<h3>The window");
	if (jcount(w, "days") >= 0)
		putf(p, ": the last %ld days", jcount(w, "days"));
	put(p, "</h3>\n<div class=\"scroll\"><table class=\"window\">\n"
	       "<thead><tr><th class=\"n\" scope=\"col\">Measured</th>"
	       "<th class=\"n\" scope=\"col\">Inbox</th>"
	       "<th class=\"n\" scope=\"col\">Spam</th>"
	       "<th class=\"n\" scope=\"col\">Other</th>"
	       "<th class=\"n\" scope=\"col\">Missing</th>"
	       "<th class=\"n\" scope=\"col\">Sent</th>"
	       "<th class=\"n\" scope=\"col\">Bounced</th>"
	       "<th class=\"n\" scope=\"col\">Inbox share</th>"
	       "<th class=\"n\" scope=\"col\">Spam share</th>"
	       "<th class=\"n\" scope=\"col\">Bounce share</th></tr></thead>\n"
	       "<tbody><tr>");
	{
		static const char *const counts[] = {
		    "measured", "inbox", "spam",    "other",
		    "missing",	"sent",	 "bounced",
		};
		static const char *const shares[] = {
		    "inbox_share",
		    "spam_share",
		    "bounce_share",
		};

		for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]);
		     i++) {
			put(p, "<td class=\"n\">");
			put_count(p, jcount(w, counts[i]));
			put(p, "</td>");
		}
		for (size_t i = 0; i < sizeof(shares) / sizeof(shares[0]);
		     i++) {
			put(p, "<td class=\"n\">");
			put_pct(p, jshare_of(w, shares[i],
					     i < 2 ? window_total(w)
						   : jcount(w, "sent")));
			put(p, "</td>");
		}
	}
	put(p, "</tr></tbody>\n</table></div>\n");
	if (n == 0) {
		put(p, "<p class=\"nodata\">No days recorded yet: the charts "
		       "appear once the ramp has run.</p>\n");
	} else {
		chart_ramp(p, addr, d, n);
		chart_placement(p, addr, d, n);
	}
	put(p, "</section>\n");
	free(d);
}

int report_html_write(FILE *out, const json_t *report, struct hearth_err *err)
{
	struct page page = {.out = out, .window_days = -1};
	struct page *p = &page;
	const char *schema = jstr(report, "schema");
	const json_t *inboxes = jget(report, "inboxes");
	const char *scope_client = jtext(jget(report, "scope"), "client");
	const char *scope;
	size_t n;

	if (out == NULL || !json_is_object(report)) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "report: the report is not a JSON object");
		return -1;
	}
	/* A missing schema is rendered (defensively); another one is not:
	 * its fields may mean something else. */
	if (schema != NULL && strcmp(schema, REPORT_SCHEMA) != 0) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "report: schema '%.64s' is not " REPORT_SCHEMA,
			       schema);
		return -1;
	}
	p->rules = json_is_object(jget(report, "rules")) ? jget(report, "rules")
							 : NULL;
	p->clients = json_is_array(jget(report, "clients"))
			 ? jget(report, "clients")
			 : NULL;
	p->window_days = jcount(p->rules, "window_days");
	scope = scope_client != NULL ? client_label(p, scope_client)
				     : "All clients";

	put_head(p, scope, jtext(report, "as_of"));
	put_header(p, report, scope);
	put(p, "<main>\n");
	put_summary(p, report);
	put_verdict_table(p, inboxes);
	n = json_is_array(inboxes) ? json_array_size(inboxes) : 0;
	for (size_t i = 0; i < n; i++)
		if (json_is_object(json_array_get(inboxes, i)))
			put_inbox(p, json_array_get(inboxes, i), i + 1);
	put_checks(p);
	put_rules(p);
	put(p, "</main>\n<footer><p>Made by hearth from the readiness "
	       "report's data (" REPORT_SCHEMA "). Every figure counts "
	       "measured placements only; a message whose placement was "
	       "never measured counts as missing, never as inbox.</p>"
	       "</footer>\n</body>\n</html>\n");
	if (fflush(out) != 0 || ferror(out)) {
		int e = errno;

		hearth_err_set(err, HEARTH_FAIL_RETRY, e,
			       "report: writing the HTML failed: %s",
			       e != 0 ? strerror(e) : "write error");
		return -1;
	}
	return 0;
}
