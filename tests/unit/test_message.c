// SPDX-License-Identifier: MIT
#include <locale.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hearth/err.h"
#include "hearth/message.h"
#include "hearth/xalloc.h"
#include "test.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof(*(a)))

/* 2023-11-14T22:13:20Z, a Tuesday */
#define T0 ((time_t)1700000000)

static const struct message_spec base_spec = {
	.from_name = "Anna Berg",
	.from_addr = "anna@alpha.test",
	.to_name = "Bob Stone",
	.to_addr = "bob@bravo.test",
	.subject = "Quick question about Thursday",
	.text_body = "Hi Bob,\n\nAre we still on for Thursday?\n\nAnna\n",
	.html_body = NULL,
	.message_id = "<1234@alpha.test>",
	.token_header = "X-Ref",
	.token_value = "k7Qz2",
	.date = T0,
	.tz_offset_minutes = 60,
};

/* A small growable string for the decoders below. */
struct sbuf {
	char *data;
	size_t len;
};

static void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	b->data = xreallocarray(b->data, b->len + n + 1, 1);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* For printing a string that may be NULL. */
static const char *str(const char *s)
{
	return s != NULL ? s : "(null)";
}

/* Build and expect success; "" when it fails, so later checks fail too. */
static char *build_ok(const struct message_spec *spec, size_t *len_r,
		      char **id_r)
{
	struct hearth_err err = {0};
	char *data = NULL;
	size_t len = 0;
	int ret = message_build(spec, &data, &len, id_r, &err);

	if (ret != 0)
		fprintf(stderr, "%s: build failed: %s\n", test_current,
			err.msg);
	test_assert(ret == 0 && data != NULL);
	if (ret != 0 || data == NULL) {
		*len_r = 0;
		return xstrdup("");
	}
	test_assert(strlen(data) == len);
	*len_r = len;
	return data;
}

/*
 * The rules every built message keeps: 7-bit, CRLF only, no line past 998,
 * header lines within header_max, a final CRLF. NULL when kept, else what
 * is wrong.
 */
static const char *lines_problem(const char *data, size_t len,
				 size_t header_max)
{
	bool in_header = true;
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];
		size_t n = i - start;

		if (c == '\n')
			return "bare LF";
		if (c != '\r') {
			if (c > 126 || (c < 32 && c != '\t'))
				return "byte outside printable ASCII";
			continue;
		}
		if (i + 1 >= len || data[i + 1] != '\n')
			return "bare CR";
		if (n > 998)
			return "line longer than 998";
		if (in_header && n > header_max)
			return "header line too long";
		if (n == 0)
			in_header = false;
		i++;
		start = i + 1;
	}
	return start == len ? NULL : "no final CRLF";
}

static bool lines_ok(const char *data, size_t len, size_t header_max)
{
	const char *problem = lines_problem(data, len, header_max);

	if (problem != NULL)
		fprintf(stderr, "%s: %s\n", test_current, problem);
	return problem == NULL;
}

/*
 * Count the top-level headers named `name` (case-insensitive); the first
 * one's value, unfolded (CRLF removed, the space after the colon dropped),
 * in *value_r when not NULL (owned by the caller; NULL when absent).
 */
static int header_get(const char *data, const char *name, char **value_r)
{
	const char *end = strstr(data, "\r\n\r\n");
	size_t nlen = strlen(name);
	int count = 0;

	if (value_r != NULL)
		*value_r = NULL;
	if (end == NULL)
		return 0;
	for (const char *p = data; p < end + 2;) {
		const char *eol = strstr(p, "\r\n");

		if (*p != ' ' && strncasecmp(p, name, nlen) == 0 &&
		    p[nlen] == ':' && count++ == 0 && value_r != NULL) {
			struct sbuf v = {0};
			const char *q = p + nlen + 1;

			sbuf_add(&v, "", 0);
			if (*q == ' ')
				q++;
			sbuf_add(&v, q, (size_t)(eol - q));
			for (q = eol + 2; *q == ' ' || *q == '\t';) {
				const char *e = strstr(q, "\r\n");

				sbuf_add(&v, q, (size_t)(e - q));
				q = e + 2;
			}
			*value_r = v.data;
		}
		p = eol + 2;
	}
	return count;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Whole UTF-8 sequences only (structure, not every rule). */
static bool utf8_whole(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t len = s[i] < 0x80   ? 1
			     : s[i] < 0xe0 ? 2
			     : s[i] < 0xf0 ? 3
					   : 4;

		if (s[i] >= 0x80 && s[i] < 0xc0)
			return false;
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		}
		i += len;
	}
	return true;
}

static size_t b64_decode(const char *s, size_t n, unsigned char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < n && s[i] != '='; i++) {
		const char *p = strchr(tab, s[i]);

		if (p == NULL || s[i] == '\0')
			return (size_t)-1;
		acc = acc << 6 | (uint32_t)(p - tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return o;
}

/*
 * Decode RFC 2047 encoded words in an unfolded unstructured value;
 * whitespace between adjacent encoded words is dropped. *ok_r turns false
 * on a malformed word, a word over 75 characters or one holding a part of
 * a character. The result is owned by the caller.
 */
static char *rfc2047_decode(const char *v, bool *ok_r)
{
	struct sbuf out = {0};
	const char *pending = NULL;
	size_t pending_len = 0;
	bool last_encoded = false;

	sbuf_add(&out, "", 0);
	*ok_r = true;
	for (const char *p = v; *p != '\0';) {
		size_t ws = strspn(p, " \t");
		const char *q, *data, *close;
		unsigned char dec[128];
		size_t n = 0;

		if (ws > 0) {
			pending = p;
			pending_len = ws;
			p += ws;
			continue;
		}
		if (strncmp(p, "=?UTF-8?", 8) != 0 ||
		    (p[8] != 'B' && p[8] != 'Q') || p[9] != '?') {
			size_t w = strcspn(p, " \t");

			if (pending != NULL)
				sbuf_add(&out, pending, pending_len);
			sbuf_add(&out, p, w);
			pending = NULL;
			last_encoded = false;
			p += w;
			continue;
		}
		data = p + 10;
		close = strstr(data, "?=");
		if (close == NULL) {
			*ok_r = false;
			break;
		}
		if (close + 2 - p > 75)
			*ok_r = false;
		if (p[8] == 'B') {
			n = b64_decode(data, (size_t)(close - data), dec);
			if (n == (size_t)-1) {
				*ok_r = false;
				n = 0;
			}
		} else {
			for (q = data; q < close && n < sizeof(dec); q++) {
				if (*q == '_') {
					dec[n++] = ' ';
				} else if (*q == '=' && q + 2 < close &&
					   hexval(q[1]) >= 0 &&
					   hexval(q[2]) >= 0) {
					dec[n++] =
					    (unsigned char)(hexval(q[1]) * 16 +
							    hexval(q[2]));
					q += 2;
				} else {
					dec[n++] = (unsigned char)*q;
				}
			}
		}
		if (!utf8_whole(dec, n))
			*ok_r = false;
		if (pending != NULL && !last_encoded)
			sbuf_add(&out, pending, pending_len);
		sbuf_add(&out, (const char *)dec, n);
		pending = NULL;
		last_encoded = true;
		p = close + 2;
	}
	if (pending != NULL)
		sbuf_add(&out, pending, pending_len);
	return out.data;
}

/* CRLF, CR and LF all become CRLF. */
static char *normalize(const char *body)
{
	struct sbuf out = {0};

	sbuf_add(&out, "", 0);
	for (const char *p = body; *p != '\0'; p++) {
		if (*p == '\r' || *p == '\n') {
			sbuf_add(&out, "\r\n", 2);
			if (p[0] == '\r' && p[1] == '\n')
				p++;
		} else {
			sbuf_add(&out, p, 1);
		}
	}
	return out.data;
}

/*
 * Decode quoted-printable text[0..n) with CRLF line breaks, checking the
 * encoder's rules on the way: lines within 76, no trailing whitespace,
 * well-formed =XX, every line of whole UTF-8 characters. *ok_r turns false
 * on a broken rule.
 */
static char *qp_decode(const char *text, size_t n, bool *ok_r)
{
	struct sbuf out = {0};
	size_t start = 0;

	sbuf_add(&out, "", 0);
	*ok_r = true;
	while (start <= n) {
		const char *eol = NULL;
		size_t line_len, content_len, seg_start = out.len;
		bool soft;

		for (size_t i = start; i + 1 < n; i++) {
			if (text[i] == '\r' && text[i + 1] == '\n') {
				eol = text + i;
				break;
			}
		}
		line_len =
		    eol != NULL ? (size_t)(eol - text) - start : n - start;
		if (line_len > 76) {
			fprintf(stderr, "qp line of %zu\n", line_len);
			*ok_r = false;
		}
		soft = line_len > 0 && text[start + line_len - 1] == '=';
		content_len = soft ? line_len - 1 : line_len;
		if (line_len > 0 && (text[start + line_len - 1] == ' ' ||
				     text[start + line_len - 1] == '\t'))
			*ok_r = false;
		if (content_len > 0 && text[start] == '.')
			*ok_r = false;
		for (size_t i = start; i < start + content_len; i++) {
			if (text[i] == '=') {
				bool room = i + 2 < start + content_len;
				int hi = room ? hexval(text[i + 1]) : -1;
				int lo = room ? hexval(text[i + 2]) : -1;
				unsigned char c;

				if (hi < 0 || lo < 0) {
					*ok_r = false;
					break;
				}
				c = (unsigned char)(hi * 16 + lo);
				sbuf_add(&out, (const char *)&c, 1);
				i += 2;
			} else {
				sbuf_add(&out, text + i, 1);
			}
		}
		if (!utf8_whole((const unsigned char *)out.data + seg_start,
				out.len - seg_start))
			*ok_r = false;
		if (eol == NULL)
			break;
		if (!soft)
			sbuf_add(&out, "\r\n", 2);
		start = (size_t)(eol - text) + 2;
	}
	return out.data;
}

/* The boundary from the top-level Content-Type; owned by the caller. */
static char *boundary_of(const char *data)
{
	char *ct = NULL, *b = NULL;
	const char *p;

	header_get(data, "Content-Type", &ct);
	if (ct != NULL && (p = strstr(ct, "boundary=\"")) != NULL) {
		p += strlen("boundary=\"");
		b = xstrndup(p, strcspn(p, "\""));
	}
	free(ct);
	return b;
}

/*
 * The two parts of a multipart/alternative message, encoded, as pointer +
 * length into data. False when the structure is not the expected one.
 */
static bool split_parts(const char *data, size_t len, const char **text_r,
			size_t *text_len_r, const char **html_r,
			size_t *html_len_r)
{
	char *b = boundary_of(data);
	const char *body = strstr(data, "\r\n\r\n");
	char *open, *mid, *close;
	const char *p, *q;
	bool ok = false;

	if (b == NULL || body == NULL)
		goto out;
	body += 4;
	open = xasprintf("--%s\r\nContent-Type: text/plain; charset=UTF-8\r\n"
			 "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
			 b);
	mid = xasprintf("\r\n--%s\r\nContent-Type: text/html; charset=UTF-8"
			"\r\nContent-Transfer-Encoding: quoted-printable\r\n"
			"\r\n",
			b);
	close = xasprintf("\r\n--%s--\r\n", b);
	if (strncmp(body, open, strlen(open)) == 0) {
		p = body + strlen(open);
		q = strstr(p, mid);
		if (q != NULL) {
			*text_r = p;
			*text_len_r = (size_t)(q - p);
			p = q + strlen(mid);
			q = strstr(p, close);
			if (q != NULL && q + strlen(close) == data + len) {
				*html_r = p;
				*html_len_r = (size_t)(q - p);
				ok = true;
			}
		}
	}
	free(open);
	free(mid);
	free(close);
out:
	free(b);
	return ok;
}

static void test_exact(void)
{
	static const char want[] =
	    "Date: Tue, 14 Nov 2023 23:13:20 +0100\r\n"
	    "From: Anna Berg <anna@alpha.test>\r\n"
	    "To: Bob Stone <bob@bravo.test>\r\n"
	    "Subject: Quick question about Thursday\r\n"
	    "Message-ID: <1234@alpha.test>\r\n"
	    "X-Ref: k7Qz2\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n"
	    "\r\n"
	    "Hi Bob,\r\n"
	    "\r\n"
	    "Are we still on for Thursday?\r\n"
	    "\r\n"
	    "Anna\r\n";
	struct message_spec spec = base_spec;
	char *data, *id = NULL;
	size_t len;

	test_begin("message_build single part, exact bytes");
	data = build_ok(&spec, &len, &id);
	if (strcmp(data, want) != 0)
		fprintf(stderr, "got:\n%s\n", str(data));
	test_assert(strcmp(data, want) == 0);
	test_assert(id != NULL && strcmp(id, "<1234@alpha.test>") == 0);
	free(data);
	free(id);

	/* no name, no token, no final newline in the body, NULL id out */
	spec.from_name = NULL;
	spec.to_name = "";
	spec.token_header = NULL;
	spec.token_value = NULL;
	spec.text_body = "one line";
	data = build_ok(&spec, &len, NULL);
	test_assert(strstr(data, "\r\nFrom: anna@alpha.test\r\n") != NULL);
	test_assert(strstr(data, "\r\nTo: bob@bravo.test\r\n") != NULL);
	test_assert(header_get(data, "X-Ref", NULL) == 0);
	test_assert(len > 12 &&
		    strcmp(data + len - 14, "\r\n\r\none line\r\n") == 0);
	test_assert(lines_ok(data, len, 78));
	free(data);

	spec.text_body = "";
	data = build_ok(&spec, &len, NULL);
	test_assert(len > 4 && strcmp(data + len - 4, "\r\n\r\n") == 0);
	test_assert(lines_ok(data, len, 78));
	free(data);
	test_end();
}

static void test_structure(void)
{
	static const char *const once[] = {
		"Date",	    "From",	    "To",	  "Subject",
		"Message-ID",   "In-Reply-To",  "References", "X-Ref",
		"MIME-Version", "Content-Type",
	};
	struct message_spec spec = base_spec;
	const char *text, *html;
	size_t len, text_len, html_len;
	char *data, *value;
	bool ok;

	test_begin("message_build multipart reply structure");
	spec.html_body = "<p>Hi Bob,</p>\n<p>Are we still on?</p>\n";
	spec.in_reply_to = "<p1@bravo.test>";
	spec.references = "<p0@alpha.test> <p1@bravo.test>";
	data = build_ok(&spec, &len, NULL);
	test_assert(lines_ok(data, len, 78));
	for (size_t i = 0; i < ARRAY_LEN(once); i++) {
		int n = header_get(data, once[i], NULL);

		if (n != 1)
			fprintf(stderr, "%s: %d times\n", once[i], n);
		test_assert(n == 1);
	}
	test_assert(header_get(data, "Content-Transfer-Encoding", NULL) == 0);
	test_assert(strcasestr(data, "hearth") == NULL);
	test_assert(header_get(data, "X-Mailer", NULL) == 0);
	test_assert(header_get(data, "User-Agent", NULL) == 0);
	header_get(data, "MIME-Version", &value);
	test_assert(value != NULL && strcmp(value, "1.0") == 0);
	free(value);
	header_get(data, "Content-Type", &value);
	test_assert(value != NULL &&
		    strncmp(value, "multipart/alternative; boundary=\"", 33) ==
			0);
	free(value);
	ok = split_parts(data, len, &text, &text_len, &html, &html_len);
	test_assert(ok);
	if (ok) {
		char *t = qp_decode(text, text_len, &ok);

		test_assert(ok);
		test_assert(strcmp(t, "Hi Bob,\r\n\r\nAre we still on for "
				      "Thursday?\r\n\r\nAnna\r\n") == 0);
		free(t);
		t = qp_decode(html, html_len, &ok);
		test_assert(ok);
		test_assert(strcmp(t, "<p>Hi Bob,</p>\r\n<p>Are we still "
				      "on?</p>\r\n") == 0);
		free(t);
	}
	free(data);
	test_end();
}

static void test_date(void)
{
	static const struct {
		time_t date;
		int offset;
		const char *want;
	} cases[] = {
		{0, 0, "Thu, 1 Jan 1970 00:00:00 +0000"},
		{T0, 0, "Tue, 14 Nov 2023 22:13:20 +0000"},
		{T0, 60, "Tue, 14 Nov 2023 23:13:20 +0100"},
		{T0, 120, "Wed, 15 Nov 2023 00:13:20 +0200"},
		{T0, 345, "Wed, 15 Nov 2023 03:58:20 +0545"},
		{T0, -330, "Tue, 14 Nov 2023 16:43:20 -0530"},
		{T0, -600, "Tue, 14 Nov 2023 12:13:20 -1000"},
		{T0, 840, "Wed, 15 Nov 2023 12:13:20 +1400"},
		{T0, -1439, "Mon, 13 Nov 2023 22:14:20 -2359"},
		{0, -60, "Wed, 31 Dec 1969 23:00:00 -0100"},
		/* 2024-02-29T12:00:00Z: leap day, a Thursday */
		{1709208000, -45, "Thu, 29 Feb 2024 11:15:00 -0045"},
		{1709208000, 0, "Thu, 29 Feb 2024 12:00:00 +0000"},
	};
	static const struct {
		time_t date;
		int offset;
	} bad[] = {
		{T0, 1440},
		{T0, -1440},
		{T0, 100000},
		{-1, 0},
	};
	const char *locales[] = {"de_DE.UTF-8", "fr_FR.UTF-8", "C.UTF-8"};
	struct message_spec spec = base_spec;

	test_begin("message_build Date header");
	for (size_t l = 0; l < ARRAY_LEN(locales); l++) {
		/* names must not follow the locale */
		if (setlocale(LC_ALL, locales[l]) != NULL)
			break;
	}
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char *data, *value;
		size_t len;

		spec.date = cases[i].date;
		spec.tz_offset_minutes = cases[i].offset;
		data = build_ok(&spec, &len, NULL);
		test_assert(header_get(data, "Date", &value) == 1);
		if (value == NULL || strcmp(value, cases[i].want) != 0)
			fprintf(stderr, "case %zu: got [%s] want [%s]\n", i,
				str(value), cases[i].want);
		test_assert(value != NULL && strcmp(value, cases[i].want) == 0);
		test_assert(strncmp(data, "Date: ", 6) == 0);
		free(value);
		free(data);
	}
	setlocale(LC_ALL, "C");
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct hearth_err err = {0};
		char *data = NULL;
		size_t len;

		spec.date = bad[i].date;
		spec.tz_offset_minutes = bad[i].offset;
		test_assert(message_build(&spec, &data, &len, NULL, &err) ==
			    -1);
		test_assert(data == NULL);
		test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	}
	test_end();
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool uuid_id_on(const char *id, const char *domain)
{
	static const char shape[] = "xxxxxxxx-xxxx-4xxx-xxxx-xxxxxxxxxxxx";

	if (strlen(id) != 1 + 36 + 1 + strlen(domain) + 1 || id[0] != '<' ||
	    id[37] != '@' || strncmp(id + 38, domain, strlen(domain)) != 0 ||
	    id[strlen(id) - 1] != '>')
		return false;
	for (size_t i = 0; i < 36; i++) {
		char c = id[1 + i];

		if (shape[i] == 'x'
			? !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))
			: c != shape[i])
			return false;
	}
	return message_id_ok(id);
}

static void test_message_id(void)
{
	enum { N = 10000 };
	struct message_spec spec = base_spec;
	char **ids = xcalloc(N, sizeof(*ids));
	char *data, *id = NULL, *value;
	size_t len, dup = 0, bad = 0;

	test_begin("message_id_new and generated Message-ID");
	for (size_t i = 0; i < N; i++) {
		ids[i] = message_id_new("alpha.test");
		if (!uuid_id_on(ids[i], "alpha.test"))
			bad++;
	}
	qsort(ids, N, sizeof(*ids), cmp_str);
	for (size_t i = 1; i < N; i++) {
		if (strcmp(ids[i - 1], ids[i]) == 0)
			dup++;
	}
	test_assert(bad == 0);
	test_assert(dup == 0);
	for (size_t i = 0; i < N; i++)
		free(ids[i]);
	free(ids);

	test_assert(message_id_new("bad domain") == NULL);
	test_assert(message_id_new("-x.test") == NULL);
	test_assert(message_id_new(NULL) == NULL);

	spec.message_id = NULL;
	spec.from_addr = "carol@mail.charlie.test";
	data = build_ok(&spec, &len, &id);
	test_assert(id != NULL && uuid_id_on(id, "mail.charlie.test"));
	test_assert(header_get(data, "Message-ID", &value) == 1);
	test_assert(value != NULL && id != NULL && strcmp(value, id) == 0);
	free(value);
	free(data);
	free(id);
	test_end();
}

/* The display name in a From/To value "phrase <addr>"; caller frees. */
static char *display_name(const char *value, const char *addr, bool *ok_r)
{
	char *tail = xasprintf(" <%s>", addr);
	size_t vlen = strlen(value), tlen = strlen(tail);
	char *phrase, *name;

	*ok_r = vlen > tlen && strcmp(value + vlen - tlen, tail) == 0;
	free(tail);
	if (!*ok_r)
		return xstrdup("");
	phrase = xstrndup(value, vlen - tlen);
	if (phrase[0] == '"') {
		struct sbuf out = {0};
		size_t plen = strlen(phrase);

		sbuf_add(&out, "", 0);
		*ok_r = plen >= 2 && phrase[plen - 1] == '"';
		for (size_t i = 1; i + 1 < plen; i++) {
			if (phrase[i] == '\\')
				i++;
			else if (phrase[i] == '"')
				*ok_r = false;
			sbuf_add(&out, phrase + i, 1);
		}
		name = out.data;
	} else {
		name = rfc2047_decode(phrase, ok_r);
	}
	free(phrase);
	return name;
}

static void test_encoded_words(void)
{
	static const char *const subjects[] = {
		"Caf\xc3\xa9 tomorrow?",
		"\xc3\x9cn\xc3\xaf"
		"c\xc3\xb6"
		"d\xc3\xa9 everywhere \xe2\x80\x93 "
		"\xe2\x80\x9cquotes\xe2\x80\x9d and emoji "
		"\xf0\x9f\x98\x80\xf0\x9f\x8e\x89",
		"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe4\xbb\xb6"
		"\xe5\x90\x8d\xe3\x81\xa7\xe3\x81\x99\xe3\x80\x81\xe3\x82\x88"
		"\xe3\x82\x8d\xe3\x81\x97\xe3\x81\x8f\xe3\x81\x8a\xe9\xa1\x98"
		"\xe3\x81\x84\xe3\x81\x97\xe3\x81\xbe\xe3\x81\x99\xe3\x80\x82"
		"\xe9\x95\xb7\xe3\x81\x84\xe4\xbb\xb6\xe5\x90\x8d\xe3\x82\x92",
		"price =?UTF-8?Q?not_a_word?= here",
		" leading space",
		"trailing space ",
		"double  space  inside",
		"",
		"Re: Re: Fwd: a_b=c?d \"quoted\" (comment) <angle> \\ end",
		"\xf0\x9f\x98\x80",
		"Stra\xc3\x9f"
		"e und Gr\xc3\xbc\xc3\x9f"
		"e an alle im B\xc3\xbcro, "
		"wir sehen uns n\xc3\xa4"
		"chste Woche wieder zum Fr\xc3\xbchst"
		"\xc3\xbc"
		"ck \xe2\x80\x94 bitte best\xc3\xa4tigen, ob das so "
		"passt und ob ihr noch W\xc3\xbcnsche habt.",
	};
	static const char *const names[] = {
		"Anna Berg",
		"Berg, Anna",
		"Anna \"AB\" Berg",
		"back\\slash",
		"J. R. Smith",
		" padded  name ",
		"evil <x@evil.test>",
		"Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m",
		"\xe5\xb1\xb1\xe7\x94\xb0\xe5\xa4\xaa\xe9\x83\x8e",
		"=?UTF-8?Q?fake?=",
		"O'Brien-Smith!",
	};
	struct message_spec spec = base_spec;

	test_begin("message_build encoded words round-trip");
	for (size_t i = 0; i < ARRAY_LEN(subjects); i++) {
		char *data, *value, *dec;
		size_t len;
		bool ok;

		spec.subject = subjects[i];
		data = build_ok(&spec, &len, NULL);
		test_assert(lines_ok(data, len, 78));
		test_assert(header_get(data, "Subject", &value) == 1);
		dec = rfc2047_decode(value != NULL ? value : "", &ok);
		if (!ok || strcmp(dec, subjects[i]) != 0)
			fprintf(stderr, "subject %zu: [%s] -> [%s]\n", i, str(value),
				dec);
		test_assert(ok && strcmp(dec, subjects[i]) == 0);
		free(dec);
		free(value);
		free(data);
	}
	spec.subject = base_spec.subject;
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		char *data, *value, *dec;
		size_t len;
		bool ok;

		spec.from_name = names[i];
		spec.to_name = names[ARRAY_LEN(names) - 1 - i];
		data = build_ok(&spec, &len, NULL);
		test_assert(lines_ok(data, len, 78));
		test_assert(header_get(data, "From", &value) == 1);
		dec = display_name(value != NULL ? value : "", spec.from_addr,
				   &ok);
		if (!ok || strcmp(dec, names[i]) != 0)
			fprintf(stderr, "name %zu: [%s] -> [%s]\n", i, str(value),
				dec);
		test_assert(ok && strcmp(dec, names[i]) == 0);
		free(dec);
		free(value);
		header_get(data, "To", &value);
		dec =
		    display_name(value != NULL ? value : "", spec.to_addr, &ok);
		test_assert(ok && strcmp(dec, spec.to_name) == 0);
		free(dec);
		free(value);
		free(data);
	}
	/* plain names go as atoms, specials quoted */
	{
		char *data;
		size_t len;

		spec.from_name = "Berg, Anna";
		spec.to_name = "Bob \"B\" Stone";
		data = build_ok(&spec, &len, NULL);
		test_assert(strstr(data, "\r\nFrom: \"Berg, Anna\" "
					 "<anna@alpha.test>\r\n") != NULL);
		test_assert(strstr(data, "\r\nTo: \"Bob \\\"B\\\" Stone\" "
					 "<bob@bravo.test>\r\n") != NULL);
		free(data);
	}
	test_end();
}

static void test_folding(void)
{
	struct message_spec spec = base_spec;
	struct sbuf words = {0}, nonascii = {0};
	char *data, *value, *dec, *one_word;
	size_t len;
	bool ok;

	test_begin("message_build folds long headers");
	for (int i = 0; i < 60; i++)
		sbuf_add(&words, i == 0 ? "word0" : " wordy", i == 0 ? 5 : 6);
	spec.subject = words.data;
	data = build_ok(&spec, &len, NULL);
	test_assert(lines_ok(data, len, 78));
	header_get(data, "Subject", &value);
	test_assert(value != NULL && strcmp(value, words.data) == 0);
	test_assert(strstr(data, "=?") == NULL);
	free(value);
	free(data);

	/* a 256-byte display name of words */
	spec.subject = base_spec.subject;
	spec.from_name = xstrndup(words.data, 256);
	data = build_ok(&spec, &len, NULL);
	test_assert(lines_ok(data, len, 78));
	header_get(data, "From", &value);
	dec = display_name(value != NULL ? value : "", spec.from_addr, &ok);
	test_assert(ok && strcmp(dec, spec.from_name) == 0);
	free((char *)spec.from_name);
	spec.from_name = base_spec.from_name;
	free(dec);
	free(value);
	free(data);

	/* 998 bytes of non-ASCII: many encoded words, every line <= 78 */
	while (nonascii.len + 2 <= 998)
		sbuf_add(&nonascii, "\xc3\xa9", 2);
	spec.subject = nonascii.data;
	data = build_ok(&spec, &len, NULL);
	test_assert(lines_ok(data, len, 78));
	header_get(data, "Subject", &value);
	dec = rfc2047_decode(value != NULL ? value : "", &ok);
	test_assert(ok && strcmp(dec, nonascii.data) == 0);
	free(dec);
	free(value);
	free(data);

	/* one unbreakable ASCII word of 998: no line past 998 */
	one_word = xmalloc(999);
	memset(one_word, 'w', 998);
	one_word[998] = '\0';
	spec.subject = one_word;
	data = build_ok(&spec, &len, NULL);
	test_assert(lines_ok(data, len, 998));
	header_get(data, "Subject", &value);
	dec = rfc2047_decode(value != NULL ? value : "", &ok);
	test_assert(ok && strcmp(dec, one_word) == 0);
	free(dec);
	free(value);
	free(data);
	/* one of 200: stays plain, over 78 but within 998 */
	one_word[200] = '\0';
	data = build_ok(&spec, &len, NULL);
	test_assert(lines_ok(data, len, 998));
	header_get(data, "Subject", &value);
	test_assert(value != NULL && strcmp(value, one_word) == 0);
	free(value);
	free(data);
	free(one_word);
	free(words.data);
	free(nonascii.data);
	test_end();
}

static void test_reply(void)
{
	struct message_spec spec = base_spec;
	struct sbuf refs = {0};
	char *data, *value, *ids[30];
	size_t len;

	test_begin("message_build reply headers");
	spec.in_reply_to = "<p1@bravo.test>";
	data = build_ok(&spec, &len, NULL);
	header_get(data, "In-Reply-To", &value);
	test_assert(value != NULL && strcmp(value, "<p1@bravo.test>") == 0);
	free(value);
	header_get(data, "References", &value);
	test_assert(value != NULL && strcmp(value, "<p1@bravo.test>") == 0);
	free(value);
	free(data);

	sbuf_add(&refs, "  ", 2);
	for (size_t i = 0; i < ARRAY_LEN(ids); i++) {
		ids[i] = xasprintf("<%zu.reply.%zu@host%zu.bravo.test>", i,
				   i * 7919, i);
		sbuf_add(&refs, ids[i], strlen(ids[i]));
		sbuf_add(&refs, "   ", i % 3 + 1);
	}
	spec.references = refs.data;
	spec.in_reply_to = ids[ARRAY_LEN(ids) - 1];
	data = build_ok(&spec, &len, NULL);
	test_assert(lines_ok(data, len, 78));
	test_assert(header_get(data, "References", &value) == 1);
	if (value != NULL) {
		char *save = NULL, *tok = strtok_r(value, " ", &save);
		size_t n = 0;

		for (; tok != NULL; tok = strtok_r(NULL, " ", &save), n++)
			test_assert(n < ARRAY_LEN(ids) &&
				    strcmp(tok, ids[n]) == 0);
		test_assert(n == ARRAY_LEN(ids));
	}
	test_assert(value != NULL);
	free(value);
	free(data);
	for (size_t i = 0; i < ARRAY_LEN(ids); i++)
		free(ids[i]);
	free(refs.data);
	test_end();
}

static void qp_check(const char *body, const char *what)
{
	struct message_spec spec = base_spec;
	const char *text, *html;
	size_t len, text_len, html_len;
	char *data, *want = normalize(body), *got;
	bool ok;

	spec.text_body = body;
	spec.html_body = body;
	data = build_ok(&spec, &len, NULL);
	test_assert(lines_ok(data, len, 78));
	ok = split_parts(data, len, &text, &text_len, &html, &html_len);
	test_assert(ok);
	if (ok) {
		got = qp_decode(text, text_len, &ok);
		if (!ok || strcmp(got, want) != 0)
			fprintf(stderr, "qp %s: got [%s]\n", what, got);
		test_assert(ok && strcmp(got, want) == 0);
		free(got);
		got = qp_decode(html, html_len, &ok);
		test_assert(ok && strcmp(got, want) == 0);
		free(got);
	}
	free(data);

	/* single part: the same, plus the final line ending */
	spec.html_body = NULL;
	data = build_ok(&spec, &len, NULL);
	test_assert(lines_ok(data, len, 78));
	text = strstr(data, "\r\n\r\n");
	if (text != NULL) {
		size_t wlen = strlen(want);

		text += 4;
		got = qp_decode(text, len - (size_t)(text - data), &ok);
		if (wlen > 0 &&
		    (wlen < 2 || strcmp(want + wlen - 2, "\r\n") != 0)) {
			test_assert(strlen(got) == wlen + 2 &&
				    strcmp(got + wlen, "\r\n") == 0);
			got[wlen] = '\0';
		}
		test_assert(ok && strcmp(got, want) == 0);
		free(got);
	}
	test_assert(text != NULL);
	free(data);
	free(want);
}

static void test_qp(void)
{
	static const char *const bodies[] = {
		"",
		"plain line",
		"line\n",
		"\n\n\n",
		"trailing   \nspaces\t\nend ",
		"a=b==c=\n=\n= \n=3D",
		".\n..\n.start\n\n.\n.",
		"a\r\nb\rc\nd\r\r\ne\n\r",
		"\x01\x1b[0m\x0c\x7f tabs\tin\tthe\tmiddle",
		"From the start\nFrom here\n>From there",
		"--\n-- \n--------------------------------------------------"
		"------------------------------------------------",
		"<p>caf\xc3\xa9 &amp; cr\xc3\xa8me br\xc3\xbbl\xc3\xa9"
		"e</p>",
	};
	struct sbuf b = {0};
	char tmp[2048];

	test_begin("message_build quoted-printable round-trip");
	for (size_t i = 0; i < ARRAY_LEN(bodies); i++) {
		snprintf(tmp, sizeof(tmp), "table %zu", i);
		qp_check(bodies[i], tmp);
	}
	/* long lines of letters, spaces, '=' and dots */
	memset(tmp, 'a', 200);
	tmp[200] = '\0';
	qp_check(tmp, "200 a");
	memset(tmp, ' ', 200);
	qp_check(tmp, "200 spaces");
	memset(tmp, '=', 200);
	qp_check(tmp, "200 =");
	memset(tmp, '.', 200);
	qp_check(tmp, "200 dots");
	/* a multi-byte character at every position around the 76 boundary */
	for (size_t off = 60; off <= 80; off++) {
		static const char *const chars[] = {
			"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
			" ", "=",
		};

		for (size_t c = 0; c < ARRAY_LEN(chars); c++) {
			size_t l;

			memset(tmp, 'x', off);
			tmp[off] = '\0';
			strcat(tmp, chars[c]);
			strcat(tmp, "yz\n");
			l = strlen(tmp);
			memset(tmp + l, 'q', off);
			tmp[l + off] = '\0';
			strcat(tmp, chars[c]);
			qp_check(tmp, "boundary");
		}
	}
	/* all multi-byte */
	for (int i = 0; i < 500; i++)
		sbuf_add(&b, i % 2 ? "\xe2\x82\xac" : "\xf0\x9f\x98\x80",
			 i % 2 ? 3 : 4);
	qp_check(b.data, "euros and emoji");
	free(b.data);
	test_end();
}

static void test_boundary(void)
{
	struct message_spec spec = base_spec;
	char *data, *b1, *b2, *delim;
	size_t len, count = 0;

	test_begin("message_build boundary");
	spec.text_body = "------------\n--------------------------------\n"
			 "--\n";
	spec.html_body = "<hr>------------------------------------</hr>\n";
	data = build_ok(&spec, &len, NULL);
	b1 = boundary_of(data);
	test_assert(b1 != NULL && strlen(b1) >= 30);
	if (b1 != NULL) {
		test_assert(strstr(spec.text_body, b1) == NULL);
		test_assert(strstr(spec.html_body, b1) == NULL);
		delim = xasprintf("\r\n--%s", b1);
		for (const char *p = data; (p = strstr(p, delim)) != NULL; p++)
			count++;
		/* the first delimiter follows the header block's CRLF */
		test_assert(count == 3);
		free(delim);
	}
	free(data);
	data = build_ok(&spec, &len, NULL);
	b2 = boundary_of(data);
	test_assert(b1 != NULL && b2 != NULL && strcmp(b1, b2) != 0);
	free(b1);
	free(b2);
	free(data);
	test_end();
}

enum field {
	F_FROM_NAME,
	F_FROM_ADDR,
	F_TO_NAME,
	F_TO_ADDR,
	F_SUBJECT,
	F_MESSAGE_ID,
	F_IN_REPLY_TO,
	F_REFERENCES,
	F_TOKEN_HEADER,
	F_TOKEN_VALUE,
	F_TEXT_BODY,
	F_HTML_BODY,
};

static const struct {
	const char *name;
	const char *valid;
} fields[] = {
	[F_FROM_NAME] = {"from_name", "Anna"},
	[F_FROM_ADDR] = {"from_addr", "anna@alpha.test"},
	[F_TO_NAME] = {"to_name", "Bob"},
	[F_TO_ADDR] = {"to_addr", "bob@bravo.test"},
	[F_SUBJECT] = {"subject", "Hello"},
	[F_MESSAGE_ID] = {"message_id", "<m1@alpha.test>"},
	[F_IN_REPLY_TO] = {"in_reply_to", "<p1@bravo.test>"},
	[F_REFERENCES] = {"references", "<p0@alpha.test> <p1@bravo.test>"},
	[F_TOKEN_HEADER] = {"token_header", "X-Ref"},
	[F_TOKEN_VALUE] = {"token_value", "k7Qz2"},
	[F_TEXT_BODY] = {"text_body", "hi"},
	[F_HTML_BODY] = {"html_body", "<p>hi</p>"},
};

static void spec_set(struct message_spec *spec, enum field f, const char *v)
{
	switch (f) {
	case F_FROM_NAME:
		spec->from_name = v;
		break;
	case F_FROM_ADDR:
		spec->from_addr = v;
		break;
	case F_TO_NAME:
		spec->to_name = v;
		break;
	case F_TO_ADDR:
		spec->to_addr = v;
		break;
	case F_SUBJECT:
		spec->subject = v;
		break;
	case F_MESSAGE_ID:
		spec->message_id = v;
		break;
	case F_IN_REPLY_TO:
		spec->in_reply_to = v;
		break;
	case F_REFERENCES:
		spec->references = v;
		break;
	case F_TOKEN_HEADER:
		spec->token_header = v;
		break;
	case F_TOKEN_VALUE:
		spec->token_value = v;
		break;
	case F_TEXT_BODY:
		spec->text_body = v;
		break;
	case F_HTML_BODY:
		spec->html_body = v;
		break;
	}
}

/* Expect message_build to refuse spec, naming the field. */
static bool refused(const struct message_spec *spec, const char *field)
{
	struct hearth_err err = {0};
	char *data = NULL, *id = NULL;
	size_t len = 0;
	int ret = message_build(spec, &data, &len, &id, &err);
	bool ok = ret == -1 && data == NULL && id == NULL &&
		  err.fail == HEARTH_FAIL_PERMANENT &&
		  strstr(err.msg, field) != NULL && !strpbrk(err.msg, "\r\n");

	if (!ok)
		fprintf(stderr, "%s: %s not refused as expected: [%s]\n",
			test_current, field, ret == 0 ? str(data) : err.msg);
	free(data);
	free(id);
	return ok;
}

static void test_injection(void)
{
	/* each goes after a valid value of the field */
	static const char *const evil[] = {
		"\r",
		"\n",
		"\r\n",
		"\r\nRCPT TO:<evil@evil.test>",
		"\r\n.\r\nMAIL FROM:<evil@evil.test>\r\n",
		"\nBcc: evil@evil.test",
		"\r\nA1 LOGOUT\r\n",
		"\t",
		"\x7f",
		"\x1b[0m",
		"\xc2\x85",         /* NEL, a C1 control */
		"\xff",             /* not UTF-8 */
		"\xc0\x8a",         /* overlong LF */
		"\xed\xa0\x80",     /* a surrogate */
		"\xf4\x90\x80\x80", /* past U+10FFFF */
		"\xe2\x82",         /* cut short */
	};
	struct message_spec full = base_spec;

	test_begin("message_build refuses injection in every field");
	full.html_body = "<p>hi</p>";
	full.in_reply_to = fields[F_IN_REPLY_TO].valid;
	full.references = fields[F_REFERENCES].valid;
	for (enum field f = F_FROM_NAME; f <= F_TOKEN_VALUE; f++) {
		for (size_t e = 0; e < ARRAY_LEN(evil); e++) {
			struct message_spec spec = full;
			char *v = xasprintf("%s%s", fields[f].valid, evil[e]);

			spec_set(&spec, f, v);
			test_assert(refused(&spec, fields[f].name));
			free(v);
			/* in front and in the middle, too */
			v = xasprintf("%s%s", evil[e], fields[f].valid);
			spec_set(&spec, f, v);
			test_assert(refused(&spec, fields[f].name));
			free(v);
		}
	}
	/* bodies take any text but not broken UTF-8 */
	for (enum field f = F_TEXT_BODY; f <= F_HTML_BODY; f++) {
		for (size_t e = 11; e < ARRAY_LEN(evil); e++) {
			struct message_spec spec = full;
			char *v = xasprintf("ok %s ok", evil[e]);

			spec_set(&spec, f, v);
			test_assert(refused(&spec, fields[f].name));
			free(v);
		}
	}
	/* a NUL ends a C string: what follows never reaches the output */
	{
		static const char to[] =
		    "bob@bravo.test\0\r\nRCPT TO:<e@e.test>";
		static const char subj[] = "Hi\0\r\nBcc: e@e.test";
		struct message_spec spec = full;
		char *data;
		size_t len;

		spec.to_addr = to;
		spec.subject = subj;
		data = build_ok(&spec, &len, NULL);
		test_assert(strstr(data, "RCPT") == NULL);
		test_assert(strstr(data, "Bcc") == NULL);
		test_assert(lines_ok(data, len, 78));
		free(data);
	}
	test_end();
}

static void test_validators(void)
{
	static const struct {
		const char *addr;
		bool ok;
	} addrs[] = {
		{"a@b", true},
		{"user1@alpha.test", true},
		{"first.last+tag@sub.example.co.uk", true},
		{"o'brien@x.test", true},
		{"x@localhost", true},
		{"x!#$%&'*+-/=?^_`{|}~@x-1.test", true},
		{"", false},
		{"@x.test", false},
		{"bob@", false},
		{"bob", false},
		{"bob@bravo.test>", false},
		{"<bob@bravo.test>", false},
		{"bob@bravo.test RCPT", false},
		{"bob @bravo.test", false},
		{"bob@@bravo.test", false},
		{"bob@bravo@test", false},
		{"bob@bravo.test,eve@x.test", false},
		{"\"bob\"@bravo.test", false},
		{"bob@-bravo.test", false},
		{"bob@bravo-.test", false},
		{"bob@bravo..test", false},
		{"bob@bravo.test.", false},
		{"bob@.bravo.test", false},
		{".bob@x.test", false},
		{"bob.@x.test", false},
		{"b..ob@x.test", false},
		{"bob@[127.0.0.1]", false},
		{"b\xc3\xb8"
	     "b@x.test",
	     false},
		{"bob@br_avo.test", false},
		{"bob:x@bravo.test", false},
		{"bob(c)@bravo.test", false},
	};
	static const struct {
		const char *id;
		bool ok;
	} ids[] = {
		{"<a@b>", true},
		{"<1234.5678@alpha.test>", true},
		{"<uuid@[127.0.0.1]>", true},
		{"<x!#$%&'*+-/=?^_`{|}~@y>", true},
		{"a@b", false},
		{"<a@b", false},
		{"a@b>", false},
		{"<>", false},
		{"<@b>", false},
		{"<a@>", false},
		{"<a>", false},
		{"<a b@c>", false},
		{"<a@b c>", false},
		{" <a@b>", false},
		{"<a@b> ", false},
		{"<a@b><c@d>", false},
		{"<a@@b>", false},
		{"<a@b@c>", false},
		{"<a\x01@b>", false},
		{"<a@[1\\2]>", false},
		{"<a@[]>", false},
		{"<.a@b>", false},
		{"<a..b@c>", false},
		{"<a\"b@c>", false},
		{"<a@b>\r\nBcc: x@y", false},
		{"<caf\xc3\xa9@b>", false},
	};
	static const struct {
		const char *name;
		bool ok;
	} tokens[] = {
		{"X-Ref", true},
		{"X-Thread-Key", true},
		{"Ref-Tag", true},
		{"", false},
		{"X Ref", false},
		{"X-Ref:", false},
		{"Subject", false},
		{"content-type", false},
		{"CONTENT-ID", false},
		{"Resent-From", false},
		{"List-Id", false},
		{"Message-Id", false},
		{"X-Mailer", false},
		{"DKIM-Signature", false},
		{"X-Hearth-Token", false},
		{"X-WarmUp-Id", false},
		{"X-R\xc3\xa9"
	     "f",
	     false},
		{"X-Ref\r\nBcc", false},
		{"X-Ref\t", false},
	};
	static const struct {
		const char *value;
		bool ok;
	} values[] = {
		{"", true},
		{"Caf\xc3\xa9 \xf0\x9f\x98\x80 \"quotes\" <angles>", true},
		{"a\tb", false},
		{"a\rb", false},
		{"a\nb", false},
		{"a\x7f", false},
		{"a\xc2\x80", false},
		{"a\xc2\x9f", false},
		{"a\xc2\xa0", true},
		{"\xef\xbb\xbf", true},
		{"\xc3", false},
	};

	test_begin("message validators");
	for (size_t i = 0; i < ARRAY_LEN(addrs); i++) {
		if (message_address_ok(addrs[i].addr) != addrs[i].ok)
			fprintf(stderr, "address [%s]\n", addrs[i].addr);
		test_assert(message_address_ok(addrs[i].addr) == addrs[i].ok);
	}
	for (size_t i = 0; i < ARRAY_LEN(ids); i++) {
		if (message_id_ok(ids[i].id) != ids[i].ok)
			fprintf(stderr, "id [%s]\n", ids[i].id);
		test_assert(message_id_ok(ids[i].id) == ids[i].ok);
	}
	for (size_t i = 0; i < ARRAY_LEN(tokens); i++) {
		if (message_token_name_ok(tokens[i].name) != tokens[i].ok)
			fprintf(stderr, "token name [%s]\n", tokens[i].name);
		test_assert(message_token_name_ok(tokens[i].name) ==
			    tokens[i].ok);
	}
	for (size_t i = 0; i < ARRAY_LEN(values); i++)
		test_assert(message_header_value_ok(values[i].value, 64) ==
			    values[i].ok);
	test_assert(!message_address_ok(NULL));
	test_assert(!message_id_ok(NULL));
	test_assert(!message_token_name_ok(NULL));
	test_assert(!message_header_value_ok(NULL, 10));
	test_assert(!message_domain_ok(NULL));
	test_assert(message_domain_ok("alpha.test"));
	test_assert(!message_domain_ok("alpha.test."));
	test_end();
}

/* A string of n copies of c; the caller frees. */
static char *repeat(char c, size_t n)
{
	char *s = xmalloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* A valid value of exactly n bytes for field f (n large enough). */
static char *sized(enum field f, size_t n)
{
	char *s, *t;

	switch (f) {
	case F_FROM_ADDR:
	case F_TO_ADDR: {
		/* local part of up to 64, then 63-byte labels */
		size_t local = n - 2 < 64 ? n - 2 : 64;
		size_t left = n - local - 1, o;

		s = xmalloc(n + 1);
		memset(s, 'l', local);
		s[local] = '@';
		o = local + 1;
		while (left > 0) {
			size_t label = left > 63 ? 63 : left;

			/* never end on a lone dot */
			if (left > 63 && left - 63 < 2)
				label = 61;
			memset(s + o, 'd', label);
			o += label;
			left -= label;
			if (left > 0) {
				s[o++] = '.';
				left--;
			}
		}
		s[o] = '\0';
		return s;
	}
	case F_MESSAGE_ID:
	case F_IN_REPLY_TO:
		t = repeat('i', n - 6);
		s = xasprintf("<%s@x.y>", t);
		free(t);
		return s;
	case F_REFERENCES: {
		struct sbuf b = {0};

		while (b.len + 20 < n)
			sbuf_add(&b, "<abcd1234@x.test> ", 18);
		t = repeat('r', n - b.len - 6);
		s = xasprintf("%s<%s@x.y>", b.data, t);
		free(t);
		free(b.data);
		return s;
	}
	case F_TOKEN_HEADER:
		t = repeat('N', n - 2);
		s = xasprintf("X-%s", t);
		free(t);
		return s;
	default:
		return repeat('v', n);
	}
}

static void test_limits(void)
{
	static const struct {
		enum field f;
		size_t max;
	} limits[] = {
		{F_FROM_NAME, MESSAGE_MAX_NAME_BYTES},
		{F_TO_NAME, MESSAGE_MAX_NAME_BYTES},
		{F_FROM_ADDR, MESSAGE_MAX_ADDR_BYTES},
		{F_TO_ADDR, MESSAGE_MAX_ADDR_BYTES},
		{F_SUBJECT, MESSAGE_MAX_SUBJECT_BYTES},
		{F_MESSAGE_ID, MESSAGE_MAX_ID_BYTES},
		{F_IN_REPLY_TO, MESSAGE_MAX_ID_BYTES},
		{F_REFERENCES, MESSAGE_MAX_REFERENCES_BYTES},
		{F_TOKEN_HEADER, MESSAGE_MAX_TOKEN_NAME_BYTES},
		{F_TOKEN_VALUE, MESSAGE_MAX_TOKEN_BYTES},
		{F_TEXT_BODY, MESSAGE_MAX_BODY_BYTES},
		{F_HTML_BODY, MESSAGE_MAX_BODY_BYTES},
	};
	struct message_spec spec;

	test_begin("message_build bounds every length");
	for (size_t i = 0; i < ARRAY_LEN(limits); i++) {
		char *at = sized(limits[i].f, limits[i].max);
		char *over = sized(limits[i].f, limits[i].max + 1);
		char *data;
		size_t len;

		test_assert(strlen(at) == limits[i].max);
		test_assert(strlen(over) == limits[i].max + 1);
		spec = base_spec;
		spec_set(&spec, limits[i].f, at);
		data = build_ok(&spec, &len, NULL);
		test_assert(lines_ok(data, len, 998));
		free(data);
		spec_set(&spec, limits[i].f, over);
		test_assert(refused(&spec, fields[limits[i].f].name));
		free(at);
		free(over);
	}
	/* a 65-byte local part and a 64-byte label, each within 254 */
	spec = base_spec;
	for (size_t n = 63; n <= 65; n++) {
		char *part = repeat('p', n);
		char *local = xasprintf("%s@x.test", part);
		char *label = xasprintf("a@%s.test", part);

		spec.to_addr = local;
		test_assert(message_address_ok(local) == (n <= 64));
		test_assert(n <= 64 || refused(&spec, "to_addr"));
		spec.to_addr = label;
		test_assert(message_address_ok(label) == (n <= 63));
		test_assert(n <= 63 || refused(&spec, "to_addr"));
		free(part);
		free(local);
		free(label);
	}

	/* required fields and pairs */
	spec = base_spec;
	spec.subject = NULL;
	test_assert(refused(&spec, "subject"));
	spec = base_spec;
	spec.text_body = NULL;
	test_assert(refused(&spec, "text_body"));
	spec = base_spec;
	spec.to_addr = NULL;
	test_assert(refused(&spec, "to_addr"));
	spec = base_spec;
	spec.token_value = NULL;
	test_assert(refused(&spec, "token_"));
	spec = base_spec;
	spec.token_header = NULL;
	test_assert(refused(&spec, "token_"));
	spec = base_spec;
	spec.token_value = "two words";
	test_assert(refused(&spec, "token_value"));
	spec.token_value = "";
	test_assert(refused(&spec, "token_value"));
	spec.token_value = "r\xc3\xa9"
			   "f";
	test_assert(refused(&spec, "token_value"));
	spec = base_spec;
	spec.references = "   ";
	test_assert(refused(&spec, "references"));
	spec.references = "<a@b>,<c@d>";
	test_assert(refused(&spec, "references"));
	test_end();
}

int main(void)
{
	test_exact();
	test_structure();
	test_date();
	test_message_id();
	test_encoded_words();
	test_folding();
	test_reply();
	test_qp();
	test_boundary();
	test_injection();
	test_validators();
	test_limits();
	return test_exit();
}
