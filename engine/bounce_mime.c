// SPDX-License-Identifier: MIT
/*
 * The message taken apart, as hostile input: lines, header sections,
 * Content-Type, transfer encodings, encoded words, MIME parts, and the
 * notification text. Nothing here recurses or reads past a span.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bounce_private.h"

/*
 * The line at p[pos..n): its length without CR LF or LF; *next_r is where
 * the next line starts (n at the end). Always moves on when pos < n.
 */
size_t bounce_line_at(const char *p, size_t n, size_t pos, size_t *next_r)
{
	const char *lf = memchr(p + pos, '\n', n - pos);
	size_t end = lf != NULL ? (size_t)(lf - p) : n;

	*next_r = lf != NULL ? end + 1 : n;
	if (end > pos && p[end - 1] == '\r')
		end--;
	return end - pos;
}

/* s[0..n) contains needle (NUL-terminated), without regard to case. */
bool bounce_has_word(const char *s, size_t n, const char *needle)
{
	size_t m = strlen(needle);

	for (size_t i = 0; i + m <= n; i++)
		if (strncasecmp(s + i, needle, m) == 0)
			return true;
	return false;
}

/*
 * One line of printable ASCII from s[0..n) into out: white space runs become
 * one space, every other control character and every non-ASCII character
 * (a UTF-8 sequence counts as one) become '?'; trimmed, cut to fit.
 */
void bounce_clean_line(char *out, size_t size, const char *s, size_t n)
{
	size_t o = 0;
	bool space = false;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_space((char)c)) {
			space = true;
			continue;
		}
		if (space && o > 0) {
			if (o + 2 >= size)
				break;
			out[o++] = ' ';
		}
		space = false;
		if (o + 1 >= size)
			break;
		if (c >= 0x21 && c <= 0x7e) {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '?';
		if (c >= 0xc0 && c < 0xf8)
			for (int k = 0;
			     k < 3 && i + 1 < n &&
			     ((unsigned char)s[i + 1] & 0xc0) == 0x80;
			     k++)
				i++;
	}
	out[o] = '\0';
}

/*
 * The first enhanced status code in s[0..n): [245].d{1,3}.d{1,3}, not part
 * of a longer dotted number (an IP address). Copied into out[16].
 */
bool bounce_find_status(const char *s, size_t n, char out[16])
{
	for (size_t i = 0; i < n; i++) {
		size_t j = i + 1, d1 = 0, d2 = 0, k;

		if (s[i] != '2' && s[i] != '4' && s[i] != '5')
			continue;
		if (i > 0 && (is_digit(s[i - 1]) || s[i - 1] == '.'))
			continue;
		if (j >= n || s[j] != '.')
			continue;
		for (j++; j < n && is_digit(s[j]) && d1 < 4; j++)
			d1++;
		if (d1 < 1 || d1 > 3 || j >= n || s[j] != '.')
			continue;
		for (j++; j < n && is_digit(s[j]) && d2 < 4; j++)
			d2++;
		if (d2 < 1 || d2 > 3)
			continue;
		if (j < n && s[j] == '.' && j + 1 < n && is_digit(s[j + 1]))
			continue;
		k = j - i;
		memcpy(out, s + i, k);
		out[k] = '\0';
		return true;
	}
	return false;
}

/* ---- Header sections -------------------------------------------------- */

/*
 * Split at the first empty line. Returns true when there is one (then the
 * body is what follows it); false when the header section never ends (then
 * it is all of s and the body is empty).
 */
bool bounce_split_head(struct span s, struct span *head, struct span *body)
{
	size_t pos = 0;

	while (pos < s.n) {
		size_t next, len = bounce_line_at(s.p, s.n, pos, &next);

		if (len == 0 && s.p[next - 1] == '\n') {
			head->p = s.p;
			head->n = pos;
			body->p = s.p + next;
			body->n = s.n - next;
			return true;
		}
		pos = next;
	}
	*head = s;
	body->p = s.p + s.n;
	body->n = 0;
	return false;
}

static bool name_char(char c)
{
	return c > ' ' && c < 0x7f && c != ':';
}

/* Index the fields of a header section (at most BOUNCE_MAX_HEADERS). */
void bounce_headers_parse(struct span head, struct headers *hs)
{
	struct header *cur = NULL;
	size_t pos = 0;

	hs->n = 0;
	while (pos < head.n) {
		size_t next, len = bounce_line_at(head.p, head.n, pos, &next);
		const char *l = head.p + pos, *colon;
		size_t nl;

		pos = next;
		if (len > 0 && is_wsp(l[0])) {
			if (cur != NULL)
				cur->value_len = (size_t)(l + len - cur->value);
			continue;
		}
		cur = NULL;
		colon = memchr(l, ':', len);
		if (colon == NULL || hs->n == BOUNCE_MAX_HEADERS)
			continue;
		nl = (size_t)(colon - l);
		while (nl > 0 && is_wsp(l[nl - 1]))
			nl--;
		if (nl == 0)
			continue;
		for (size_t i = 0; i < nl; i++)
			if (!name_char(l[i]))
				goto next_line;
		cur = &hs->h[hs->n++];
		cur->name = l;
		cur->name_len = nl;
		cur->value = colon + 1;
		cur->value_len = (size_t)(l + len - (colon + 1));
	next_line:;
	}
}

/*
 * The value of the first field called name, unfolded (line breaks dropped),
 * NUL bytes as spaces, trimmed, cut to size - 1. False when there is none.
 */
bool bounce_header_get(const struct headers *hs, const char *name, char *buf,
		       size_t size)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i < hs->n; i++) {
		const struct header *h = &hs->h[i];
		size_t o = 0, a = 0;

		if (h->name_len != nl || strncasecmp(h->name, name, nl) != 0)
			continue;
		for (size_t k = 0; k < h->value_len && o + 1 < size; k++) {
			char c = h->value[k];

			if (c == '\r' || c == '\n')
				continue;
			buf[o++] = c == '\0' ? ' ' : c;
		}
		while (o > 0 && is_space(buf[o - 1]))
			o--;
		while (a < o && is_space(buf[a]))
			a++;
		memmove(buf, buf + a, o - a);
		buf[o - a] = '\0';
		return true;
	}
	buf[0] = '\0';
	return false;
}

/* Skip blanks and (nested) comments. */
static const char *skip_cfws(const char *s)
{
	for (;;) {
		int depth = 0;

		while (is_space(*s))
			s++;
		if (*s != '(')
			return s;
		for (; *s != '\0'; s++) {
			if (*s == '\\' && s[1] != '\0') {
				s++;
			} else if (*s == '(') {
				depth++;
			} else if (*s == ')' && --depth == 0) {
				s++;
				break;
			}
		}
	}
}

static bool token_char(char c)
{
	return c > ' ' && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* Content-Type: type/subtype, boundary and report-type, both forms. */
static void ctype_parse(const char *v, struct ctype *ct)
{
	const char *s = skip_cfws(v);
	size_t o = 0;

	memset(ct, 0, sizeof(*ct));
	while (*s != '\0' && *s != ';' && !is_space(*s) && *s != '(') {
		if (o + 1 < sizeof(ct->type))
			ct->type[o++] = lower(*s);
		s++;
	}
	ct->type[o] = '\0';
	while (*s != '\0') {
		char name[32], val[BOUNDARY_BYTES];
		size_t nl = 0, vl = 0;
		bool long_value = false;

		s = skip_cfws(s);
		if (*s != ';') {
			if (*s != '\0')
				s++;
			continue;
		}
		s = skip_cfws(s + 1);
		while (token_char(*s)) {
			if (nl + 1 < sizeof(name))
				name[nl++] = lower(*s);
			s++;
		}
		name[nl] = '\0';
		s = skip_cfws(s);
		if (*s != '=')
			continue;
		s = skip_cfws(s + 1);
		if (*s == '"') {
			for (s++; *s != '\0' && *s != '"'; s++) {
				if (*s == '\\' && s[1] != '\0')
					s++;
				if (vl + 1 < sizeof(val))
					val[vl++] = *s;
				else
					long_value = true;
			}
			if (*s == '"')
				s++;
		} else {
			while (token_char(*s) || *s == '/' || *s == '?' ||
			       *s == '=' || *s == ':' || *s == '@' ||
			       *s == '[' || *s == ']') {
				if (vl + 1 < sizeof(val))
					val[vl++] = *s;
				else
					long_value = true;
				s++;
			}
		}
		val[vl] = '\0';
		if (strcmp(name, "boundary") == 0 && !long_value && vl > 0)
			memcpy(ct->boundary, val, vl + 1);
		if (strcmp(name, "report-type") == 0) {
			for (size_t i = 0;
			     i < vl && i + 1 < sizeof(ct->report_type); i++) {
				ct->report_type[i] = lower(val[i]);
				ct->report_type[i + 1] = '\0';
			}
		}
	}
}

/* Read a part's Content-Type and Content-Transfer-Encoding. */
void bounce_part_fields(struct parse *ps, struct part *pt, const char *dflt)
{
	char v[HDR_BYTES];

	bounce_headers_parse(pt->head, &ps->hs);
	bounce_header_get(&ps->hs, "Content-Type", v, sizeof(v));
	ctype_parse(v, &pt->ct);
	/* RFC 2045: a missing or broken type is the default */
	if (strchr(pt->ct.type, '/') == NULL)
		snprintf(pt->ct.type, sizeof(pt->ct.type), "%s", dflt);
	bounce_header_get(&ps->hs, "Content-Transfer-Encoding", v, sizeof(v));
	if (strcasecmp(v, "base64") == 0)
		pt->cte = CTE_BASE64;
	else if (strcasecmp(v, "quoted-printable") == 0)
		pt->cte = CTE_QP;
	else
		pt->cte = CTE_IDENTITY;
}

/* ---- Decoding --------------------------------------------------------- */

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Base64, skipping what is not of its alphabet, up to the first '='. */
static size_t b64_decode(const char *s, size_t n, char *out, size_t cap)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < n && s[i] != '='; i++) {
		int v = b64_value(s[i]);

		if (v < 0)
			continue;
		acc = ((acc << 6) | (uint32_t)v) & 0xffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				break;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	return o;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Quoted-printable; a '=' that starts nothing valid stays itself. */
static size_t qp_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0, i = 0;

	while (i < n && o < cap) {
		size_t k;

		if (s[i] != '=') {
			out[o++] = s[i++];
			continue;
		}
		if (i + 2 < n && hex_value(s[i + 1]) >= 0 &&
		    hex_value(s[i + 2]) >= 0) {
			out[o++] = (char)(hex_value(s[i + 1]) * 16 +
					  hex_value(s[i + 2]));
			i += 3;
			continue;
		}
		/* a soft line break: '=', blanks, then the line end */
		for (k = i + 1; k < n && is_wsp(s[k]); k++)
			;
		if (k < n && s[k] == '\r')
			k++;
		if (k == n || s[k] == '\n') {
			i = k < n ? k + 1 : n;
			continue;
		}
		out[o++] = s[i++];
	}
	return o;
}

/*
 * A part's content, decoded into ps->buf when it has a transfer encoding
 * (cut at BOUNCE_MAX_TEXT_BYTES), else its body as it is.
 */
struct span bounce_part_content(struct parse *ps, const struct part *pt)
{
	struct span r = pt->body;

	if (pt->cte == CTE_BASE64) {
		r.n = b64_decode(pt->body.p, pt->body.n, ps->buf,
				 BOUNCE_MAX_TEXT_BYTES);
		r.p = ps->buf;
	} else if (pt->cte == CTE_QP) {
		r.n = qp_decode(pt->body.p, pt->body.n, ps->buf,
				BOUNCE_MAX_TEXT_BYTES);
		r.p = ps->buf;
	}
	return r;
}

static void put_byte(char *out, size_t size, size_t *o, char c)
{
	if (*o + 1 < size)
		out[(*o)++] = c == '\0' ? ' ' : c;
}

/* A byte of a charset into UTF-8: Latin-1 gets two bytes past ASCII. */
static void put_charset(char *out, size_t size, size_t *o, unsigned char c,
			bool latin1)
{
	if (!latin1 || c < 0x80) {
		put_byte(out, size, o, (char)c);
	} else if (*o + 2 < size) {
		out[(*o)++] = (char)(0xc0 | (c >> 6));
		out[(*o)++] = (char)(0x80 | (c & 0x3f));
	}
}

/*
 * One RFC 2047 encoded word at s: "=?charset[*lang]?B|Q?text?=". Returns its
 * length and decodes it into out, or returns 0 when s does not start one.
 */
static size_t encoded_word(const char *s, char *out, size_t size, size_t *o)
{
	const char *cs = s + 2, *q, *text, *end;
	char charset[41], enc;
	size_t csl;
	bool latin1;

	if (s[0] != '=' || s[1] != '?')
		return 0;
	q = strchr(cs, '?');
	if (q == NULL || q == cs || (size_t)(q - cs) >= sizeof(charset))
		return 0;
	csl = (size_t)(q - cs);
	for (size_t i = 0; i < csl; i++) {
		if (!token_char(cs[i]) && cs[i] != '*')
			return 0;
		charset[i] = lower(cs[i]);
	}
	charset[csl] = '\0';
	if (strchr(charset, '*') != NULL)
		*strchr(charset, '*') = '\0';
	enc = lower(q[1]);
	if ((enc != 'b' && enc != 'q') || q[2] != '?')
		return 0;
	text = q + 3;
	for (end = text; *end != '\0' && !(end[0] == '?' && end[1] == '=');
	     end++)
		if ((unsigned char)*end <= ' ' || (unsigned char)*end >= 0x7f)
			return 0;
	if (*end == '\0')
		return 0;
	latin1 = strcmp(charset, "iso-8859-1") == 0 ||
		 strcmp(charset, "iso-8859-15") == 0 ||
		 strcmp(charset, "windows-1252") == 0 ||
		 strcmp(charset, "latin1") == 0;
	if (enc == 'b') {
		char tmp[HDR_BYTES];
		size_t n =
		    b64_decode(text, (size_t)(end - text), tmp, sizeof(tmp));

		for (size_t i = 0; i < n; i++)
			put_charset(out, size, o, (unsigned char)tmp[i],
				    latin1);
	} else {
		for (const char *p = text; p < end; p++) {
			if (*p == '_') {
				put_byte(out, size, o, ' ');
			} else if (*p == '=' && p + 2 < end &&
				   hex_value(p[1]) >= 0 &&
				   hex_value(p[2]) >= 0) {
				put_charset(
				    out, size, o,
				    (unsigned char)(hex_value(p[1]) * 16 +
						    hex_value(p[2])),
				    latin1);
				p += 2;
			} else {
				put_charset(out, size, o, (unsigned char)*p,
					    latin1);
			}
		}
	}
	return (size_t)(end + 2 - s);
}

/*
 * A header value with its encoded words decoded (UTF-8, Latin-1 and ASCII
 * understood; other charsets pass as bytes); blanks between two encoded
 * words are dropped, as RFC 2047 says.
 */
void bounce_decode_words(const char *s, char *out, size_t size)
{
	size_t o = 0, word_end = 0;
	bool after_word = false;

	while (*s != '\0') {
		size_t before = o;
		size_t n = encoded_word(s, out, size, &o);

		if (n > 0) {
			if (after_word) {
				/* drop the blanks between the two words */
				memmove(out + word_end, out + before,
					o - before);
				o = word_end + (o - before);
			}
			s += n;
			word_end = o;
			after_word = true;
			continue;
		}
		if (!is_space(*s))
			after_word = false;
		put_byte(out, size, &o, *s++);
	}
	out[o] = '\0';
}

/* ---- MIME ------------------------------------------------------------- */

static void add_part(struct parse *ps, size_t parent, const char *p, size_t n)
{
	struct part *pt;
	struct span s = {p, n};

	if (ps->n_parts == BOUNCE_MAX_PARTS)
		return;
	pt = &ps->parts[ps->n_parts++];
	memset(pt, 0, sizeof(*pt));
	pt->depth = ps->parts[parent].depth + 1;
	pt->parent = (int)parent;
	bounce_split_head(s, &pt->head, &pt->body);
	bounce_part_fields(ps, pt,
			   type_is(&ps->parts[parent], "multipart/digest")
			       ? "message/rfc822"
			       : "text/plain");
}

/*
 * Split a multipart's body at its delimiter lines ("--boundary" and blanks
 * alone on a line; "--boundary--" closes). The line end before a delimiter
 * belongs to it. A part that is never closed runs to the end (cut short).
 */
static void mime_split(struct parse *ps, size_t idx)
{
	const char *b = ps->parts[idx].ct.boundary;
	const char *p = ps->parts[idx].body.p;
	size_t n = ps->parts[idx].body.n, bl = strlen(b), pos = 0, start = 0;
	bool open = false;

	while (pos < n) {
		size_t next, len = bounce_line_at(p, n, pos, &next), k, end;
		bool close = false;

		if (len < 2 + bl || p[pos] != '-' || p[pos + 1] != '-' ||
		    memcmp(p + pos + 2, b, bl) != 0) {
			pos = next;
			continue;
		}
		k = pos + 2 + bl;
		if (k + 2 <= pos + len && p[k] == '-' && p[k + 1] == '-') {
			close = true;
			k += 2;
		}
		while (k < pos + len && is_wsp(p[k]))
			k++;
		if (k != pos + len) {
			pos = next;
			continue;
		}
		if (open) {
			end = pos;
			if (end > start && p[end - 1] == '\n')
				end--;
			if (end > start && p[end - 1] == '\r')
				end--;
			add_part(ps, idx, p + start, end - start);
		}
		if (close)
			return;
		open = true;
		start = next;
		pos = next;
	}
	if (open)
		add_part(ps, idx, p + start, n - start);
}

/*
 * All parts, breadth first, then put in the order they appear (a parent's
 * header comes before its children's). message/rfc822 parts are not
 * entered: only their header section is ever read.
 */
void bounce_mime_walk(struct parse *ps)
{
	for (size_t i = 0; i < ps->n_parts; i++) {
		const struct part *pt = &ps->parts[i];

		if (strncmp(pt->ct.type, "multipart/", 10) == 0 &&
		    pt->ct.boundary[0] != '\0' && pt->depth < BOUNCE_MAX_DEPTH)
			mime_split(ps, i);
	}
	for (size_t i = 0; i < ps->n_parts; i++) {
		size_t j = i;

		ps->order[i] = i;
		while (j > 0 && ps->parts[ps->order[j - 1]].head.p >
				    ps->parts[i].head.p) {
			ps->order[j] = ps->order[j - 1];
			j--;
		}
		ps->order[j] = i;
	}
}

/* ---- The notification text -------------------------------------------- */

static void text_put(struct parse *ps, char c)
{
	if (c == '\r')
		return;
	if (ps->text_len >= BOUNCE_MAX_TEXT_BYTES)
		return;
	if (c == '\n') {
		ps->text_line = 0;
	} else {
		if (ps->text_line == TEXT_LINE_BYTES) {
			ps->text[ps->text_len++] = '\n';
			ps->text_line = 0;
			if (ps->text_len >= BOUNCE_MAX_TEXT_BYTES)
				return;
		}
		ps->text_line++;
	}
	ps->text[ps->text_len++] = c == '\0' ? ' ' : c;
}

/* The tag name after '<' (and '/'), lower case, cut at 11 letters. */
static void html_tag(const char *s, size_t n, size_t i, char name[12])
{
	size_t k = 0;

	for (; i < n && k < 11 &&
	       ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		(s[i] >= '0' && s[i] <= '9'));
	     i++)
		name[k++] = lower(s[i]);
	name[k] = '\0';
}

/* Where "</name" starts at or after i, or n. */
static size_t html_find_close(const char *s, size_t n, size_t i,
			      const char *name)
{
	size_t m = strlen(name);

	for (; i + 2 + m <= n; i++)
		if (s[i] == '<' && s[i + 1] == '/' &&
		    strncasecmp(s + i + 2, name, m) == 0)
			return i;
	return n;
}

static const struct {
	const char *name;
	char c;
} html_entities[] = {
    {"nbsp;", ' '}, {"lt;", '<'},   {"gt;", '>'},    {"amp;", '&'},
    {"quot;", '"'}, {"#39;", '\''}, {"apos;", '\''}, {"#160;", ' '},
};

/* HTML as text: tags dropped (block tags as line ends), a few entities. */
static void text_put_html(struct parse *ps, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		char c = s[i], name[12];
		const char *gt;
		size_t k;

		if (c == '<') {
			bool closing = i + 1 < n && s[i + 1] == '/';

			k = closing ? i + 2 : i + 1;
			html_tag(s, n, k, name);
			gt = memchr(s + i, '>', n - i);
			if (gt == NULL)
				return;
			i = (size_t)(gt - s) + 1;
			/* what these hold is not text: skip to their end */
			if (!closing && (strcmp(name, "style") == 0 ||
					 strcmp(name, "script") == 0 ||
					 strcmp(name, "head") == 0 ||
					 strcmp(name, "title") == 0)) {
				i = html_find_close(s, n, i, name);
				continue;
			}
			if (strcmp(name, "br") == 0 || strcmp(name, "p") == 0 ||
			    strcmp(name, "div") == 0 ||
			    strcmp(name, "tr") == 0 ||
			    strcmp(name, "li") == 0 ||
			    strcmp(name, "table") == 0 ||
			    strcmp(name, "blockquote") == 0 ||
			    (name[0] == 'h' && name[1] >= '1' &&
			     name[1] <= '6' && name[2] == '\0'))
				text_put(ps, '\n');
			else if (strcmp(name, "td") == 0 ||
				 strcmp(name, "th") == 0)
				text_put(ps, ' ');
			continue;
		}
		if (c == '&') {
			bool done = false;

			for (size_t e = 0; e < sizeof(html_entities) /
						   sizeof(html_entities[0]);
			     e++) {
				size_t m = strlen(html_entities[e].name);

				if (i + 1 + m <= n &&
				    strncasecmp(s + i + 1,
						html_entities[e].name,
						m) == 0) {
					text_put(ps, html_entities[e].c);
					i += 1 + m;
					done = true;
					break;
				}
			}
			if (done)
				continue;
		}
		text_put(ps, is_space(c) ? ' ' : c);
		i++;
	}
}

/*
 * The notification text: the text/plain parts in order (the text/html ones,
 * stripped, when there is no plain one), CR LF as LF, lines broken at
 * TEXT_LINE_BYTES, at most BOUNCE_MAX_TEXT_BYTES; and where the quoted
 * original starts in it.
 */
/*
 * The notification text: the text/plain parts in order (the text/html ones,
 * stripped, when there is no plain one), CR LF as LF, lines broken at
 * TEXT_LINE_BYTES, at most BOUNCE_MAX_TEXT_BYTES, MATCH_PAD zero bytes after.
 */
void bounce_text_assemble(struct parse *ps)
{
	bool plain = false;

	for (size_t i = 0; i < ps->n_parts; i++)
		if (type_is(&ps->parts[i], "text/plain"))
			plain = true;
	for (size_t i = 0; i < ps->n_parts; i++) {
		const struct part *pt = &ps->parts[ps->order[i]];
		struct span c;

		if (!type_is(pt, plain ? "text/plain" : "text/html"))
			continue;
		c = bounce_part_content(ps, pt);
		if (plain)
			for (size_t k = 0; k < c.n; k++)
				text_put(ps, c.p[k]);
		else
			text_put_html(ps, c.p, c.n);
		text_put(ps, '\n');
	}
	memset(ps->text + ps->text_len, 0, MATCH_PAD);
}
