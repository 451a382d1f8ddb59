// SPDX-License-Identifier: MIT
#include "hearth/message.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uuid/uuid.h>

#include "hearth/log.h"
#include "hearth/xalloc.h"

/* Header lines are folded past this many characters where a space allows. */
#define MESSAGE_FOLD_COLS 78
/* RFC 2047 section 2: an encoded word is at most 75 characters. */
#define MESSAGE_WORD_MAX 75
/* "=?UTF-8?B?" + "?=" */
#define MESSAGE_WORD_OVERHEAD 12
/* The longest encoding of one character: four bytes as Q "=XX" each. */
#define MESSAGE_CHAR_MAX_ENCODED 12
/* RFC 2045 section 6.7: encoded lines are at most 76 characters. */
#define MESSAGE_QP_COLS 76
/* RFC 5322 section 2.1.1: the hard limit of a line without its CRLF. */
#define MESSAGE_LINE_MAX	998
#define MESSAGE_BOUNDARY_DASHES "------------"
#define MESSAGE_BOUNDARY_RANDOM 24
#define MESSAGE_BOUNDARY_BYTES                                                 \
	(sizeof(MESSAGE_BOUNDARY_DASHES) + MESSAGE_BOUNDARY_RANDOM)
#define MESSAGE_BOUNDARY_TRIES	16

struct message_buf {
	char *data;
	size_t len;
	size_t cap;
};

/* One header field being written: the column decides where to fold. */
struct message_hdr {
	struct message_buf *buf;
	size_t col;
	/* a word follows the field name: folding is allowed from here on */
	bool has_word;
};

enum message_value_fault {
	MESSAGE_VALUE_OK,
	MESSAGE_VALUE_LONG,
	MESSAGE_VALUE_UTF8,
	MESSAGE_VALUE_CONTROL,
};

enum message_phrase {
	MESSAGE_PHRASE_ATOMS,
	MESSAGE_PHRASE_QUOTED,
	MESSAGE_PHRASE_ENCODED,
};

/* Headers a token header must not shadow, compared without case. */
static const char *const message_reserved_names[] = {
	"Accept-Language",
	"Archived-At",
	"Authentication-Results",
	"Auto-Submitted",
	"Autocrypt",
	"Bcc",
	"Cc",
	"Comments",
	"DKIM-Signature",
	"Date",
	"Delivered-To",
	"Disposition-Notification-To",
	"DomainKey-Signature",
	"Envelope-To",
	"Errors-To",
	"Feedback-ID",
	"From",
	"Importance",
	"In-Reply-To",
	"Keywords",
	"MIME-Version",
	"Message-ID",
	"OpenPGP",
	"Organization",
	"Precedence",
	"Priority",
	"Received",
	"Received-SPF",
	"References",
	"Reply-To",
	"Return-Path",
	"Return-Receipt-To",
	"Sender",
	"Sensitivity",
	"Subject",
	"Thread-Index",
	"Thread-Topic",
	"To",
	"User-Agent",
	"X-Mailer",
	"X-Originating-IP",
	"X-Original-To",
	"X-Priority",
};

/* Families of headers with a meaning, and vendors' own prefixes. */
static const char *const message_reserved_prefixes[] = {
	"ARC-", "Content-", "List-", "Resent-", "X-Google-",
	"X-Gm-", "X-MS-", "X-Spam-", "X-Virus-",
};

/* Words a token header name must not contain: it would name the sender. */
static const char *const message_reserved_words[] = {"hearth", "warmup"};

static const char *const message_days[7] = {"Sun", "Mon", "Tue", "Wed",
					    "Thu", "Fri", "Sat"};
static const char *const message_months[12] = {"Jan", "Feb", "Mar", "Apr",
					       "May", "Jun", "Jul", "Aug",
					       "Sep", "Oct", "Nov", "Dec"};

static void message_buf_add(struct message_buf *b, const char *s, size_t n)
{
	if (b->cap - b->len < n + 1) {
		size_t cap = b->cap == 0 ? 4096 : b->cap;

		while (cap - b->len < n + 1)
			cap *= 2;
		b->data = xreallocarray(b->data, cap, 1);
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void message_buf_str(struct message_buf *b, const char *s)
{
	message_buf_add(b, s, strlen(s));
}

/*
 * Length of the well-formed UTF-8 sequence at s (n bytes available) and its
 * code point in *cp_r; 0 when the bytes there are not one.
 */
static size_t message_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp_r)
{
	uint32_t cp, min;
	size_t len;

	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp_r = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cp_r = cp;
	return len;
}

/* Sequence length from the lead byte of text already known to be valid. */
static size_t message_utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c < 0xe0)
		return 2;
	if (c < 0xf0)
		return 3;
	return 4;
}

static enum message_value_fault message_value_check(const char *value,
						    size_t max_len)
{
	const unsigned char *s = (const unsigned char *)value;
	size_t len = strnlen(value, max_len + 1);

	if (len > max_len)
		return MESSAGE_VALUE_LONG;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = message_utf8_seq(s + i, len - i, &cp);

		if (n == 0)
			return MESSAGE_VALUE_UTF8;
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
			return MESSAGE_VALUE_CONTROL;
		i += n;
	}
	return MESSAGE_VALUE_OK;
}

bool message_header_value_ok(const char *value, size_t max_len)
{
	return value != NULL &&
	       message_value_check(value, max_len) == MESSAGE_VALUE_OK;
}

static bool message_utf8_ok(const char *s, size_t len)
{
	uint32_t cp;

	for (size_t i = 0; i < len;) {
		size_t n = message_utf8_seq((const unsigned char *)s + i,
					    len - i, &cp);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

static bool message_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* RFC 5322 dot-atom-text: atext runs joined by single dots. */
static bool message_dot_atom(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (s[i - 1] == '.')
				return false;
		} else if (!message_atext((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

static bool message_domain_ok_n(const char *s, size_t n)
{
	size_t label = 0;

	if (n == 0 || n > MESSAGE_MAX_DOMAIN_BYTES)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = i < n ? s[i] : '.';

		if (c == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-' ||
			    s[i - label] == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-') {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

bool message_domain_ok(const char *domain)
{
	return domain != NULL &&
	       message_domain_ok_n(
		   domain, strnlen(domain, MESSAGE_MAX_DOMAIN_BYTES + 1));
}

bool message_address_ok(const char *addr)
{
	const char *at;
	size_t len, local;

	if (addr == NULL)
		return false;
	len = strnlen(addr, MESSAGE_MAX_ADDR_BYTES + 1);
	if (len > MESSAGE_MAX_ADDR_BYTES)
		return false;
	at = memchr(addr, '@', len);
	if (at == NULL)
		return false;
	local = (size_t)(at - addr);
	return local <= MESSAGE_MAX_LOCAL_BYTES &&
	       message_dot_atom(addr, local) &&
	       message_domain_ok_n(at + 1, len - local - 1);
}

static bool message_id_ok_n(const char *id, size_t len)
{
	const char *left, *right, *at;
	size_t inner, llen, rlen;

	if (len < 5 || len > MESSAGE_MAX_ID_BYTES || id[0] != '<' ||
	    id[len - 1] != '>')
		return false;
	left = id + 1;
	inner = len - 2;
	at = memchr(left, '@', inner);
	if (at == NULL)
		return false;
	llen = (size_t)(at - left);
	right = at + 1;
	rlen = inner - llen - 1;
	if (!message_dot_atom(left, llen))
		return false;
	if (rlen > 2 && right[0] == '[' && right[rlen - 1] == ']') {
		for (size_t i = 1; i + 1 < rlen; i++) {
			unsigned char c = (unsigned char)right[i];

			if (c < 33 || c > 126 || c == '[' || c == ']' ||
			    c == '\\')
				return false;
		}
		return true;
	}
	return message_dot_atom(right, rlen);
}

bool message_id_ok(const char *id)
{
	return id != NULL &&
	       message_id_ok_n(id, strnlen(id, MESSAGE_MAX_ID_BYTES + 1));
}

bool message_token_name_ok(const char *name)
{
	size_t len;

	if (name == NULL)
		return false;
	len = strnlen(name, MESSAGE_MAX_TOKEN_NAME_BYTES + 1);
	if (len == 0 || len > MESSAGE_MAX_TOKEN_NAME_BYTES)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 33 || c > 126 || c == ':')
			return false;
	}
	for (size_t i = 0; i < sizeof(message_reserved_names) /
				   sizeof(*message_reserved_names);
	     i++) {
		if (strcasecmp(name, message_reserved_names[i]) == 0)
			return false;
	}
	for (size_t i = 0; i < sizeof(message_reserved_prefixes) /
				   sizeof(*message_reserved_prefixes);
	     i++) {
		const char *p = message_reserved_prefixes[i];

		if (strncasecmp(name, p, strlen(p)) == 0)
			return false;
	}
	for (size_t i = 0; i < sizeof(message_reserved_words) /
				   sizeof(*message_reserved_words);
	     i++) {
		if (strcasestr(name, message_reserved_words[i]) != NULL)
			return false;
	}
	return true;
}

static bool message_token_value_ok(const char *value)
{
	size_t len = strnlen(value, MESSAGE_MAX_TOKEN_BYTES + 1);

	if (len == 0 || len > MESSAGE_MAX_TOKEN_BYTES)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c < 33 || c > 126)
			return false;
	}
	return true;
}

/* Ids separated by runs of spaces; at least one. */
static bool message_references_ok(const char *refs)
{
	size_t len = strnlen(refs, MESSAGE_MAX_REFERENCES_BYTES + 1);
	size_t count = 0;

	if (len > MESSAGE_MAX_REFERENCES_BYTES)
		return false;
	for (size_t i = 0; i < len;) {
		size_t n = strcspn(refs + i, " ");

		if (n > 0) {
			if (!message_id_ok_n(refs + i, n))
				return false;
			count++;
		}
		i += n + strspn(refs + i + n, " ");
	}
	return count > 0;
}

char *message_id_new(const char *domain)
{
	char text[37];
	uuid_t uuid;

	if (!message_domain_ok(domain))
		return NULL;
	uuid_generate_random(uuid);
	uuid_unparse_lower(uuid, text);
	return xasprintf("<%s@%s>", text, domain);
}

static int message_check_addr(const char *field, const char *addr,
			      struct hearth_err *err)
{
	char quoted[96];

	if (addr == NULL) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "message: %s is missing", field);
		return -1;
	}
	if (!message_address_ok(addr)) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "message: %s %s is not a valid address", field,
			       log_quote(addr, quoted, sizeof(quoted)));
		return -1;
	}
	return 0;
}

/* A header value; NULL is fine unless required. The value is not echoed. */
static int message_check_value(const char *field, const char *value,
			       size_t max_len, bool required,
			       struct hearth_err *err)
{
	if (value == NULL) {
		if (!required)
			return 0;
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "message: %s is missing", field);
		return -1;
	}
	switch (message_value_check(value, max_len)) {
	case MESSAGE_VALUE_OK:
		return 0;
	case MESSAGE_VALUE_LONG:
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "message: %s is longer than %zu bytes", field,
			       max_len);
		break;
	case MESSAGE_VALUE_UTF8:
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "message: %s is not valid UTF-8", field);
		break;
	case MESSAGE_VALUE_CONTROL:
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "message: %s contains a control character "
			       "(CR, LF, tab or other)",
			       field);
		break;
	}
	return -1;
}

static int message_check_body(const char *field, const char *body,
			      bool required, struct hearth_err *err)
{
	size_t len;

	if (body == NULL) {
		if (!required)
			return 0;
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "message: %s is missing", field);
		return -1;
	}
	len = strnlen(body, (size_t)MESSAGE_MAX_BODY_BYTES + 1);
	if (len > MESSAGE_MAX_BODY_BYTES) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "message: %s is longer than %d bytes", field,
			       MESSAGE_MAX_BODY_BYTES);
		return -1;
	}
	if (!message_utf8_ok(body, len)) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "message: %s is not valid UTF-8", field);
		return -1;
	}
	return 0;
}

static int message_check_id(const char *field, const char *id,
			    struct hearth_err *err)
{
	if (id == NULL || message_id_ok(id))
		return 0;
	hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
		       "message: %s is not a message id of the form "
		       "<local@domain> (at most %d bytes)",
		       field, MESSAGE_MAX_ID_BYTES);
	return -1;
}

/* The sender's wall clock time; -1 when out of range. */
static int message_date_tm(time_t date, int offset_minutes, struct tm *tm_r)
{
	time_t local;

	if (date < 0 ||
	    __builtin_add_overflow(date, (time_t)offset_minutes * 60, &local) ||
	    gmtime_r(&local, tm_r) == NULL || tm_r->tm_year + 1900 > 9999)
		return -1;
	return 0;
}

static int message_check_spec(const struct message_spec *spec,
			      struct hearth_err *err)
{
	struct tm tm;

	if (message_check_addr("from_addr", spec->from_addr, err) < 0 ||
	    message_check_addr("to_addr", spec->to_addr, err) < 0 ||
	    message_check_value("from_name", spec->from_name,
				MESSAGE_MAX_NAME_BYTES, false, err) < 0 ||
	    message_check_value("to_name", spec->to_name,
				MESSAGE_MAX_NAME_BYTES, false, err) < 0 ||
	    message_check_value("subject", spec->subject,
				MESSAGE_MAX_SUBJECT_BYTES, true, err) < 0 ||
	    message_check_body("text_body", spec->text_body, true, err) < 0 ||
	    message_check_body("html_body", spec->html_body, false, err) < 0 ||
	    message_check_id("message_id", spec->message_id, err) < 0 ||
	    message_check_id("in_reply_to", spec->in_reply_to, err) < 0)
		return -1;
	if (spec->references != NULL &&
	    !message_references_ok(spec->references)) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "message: references is not a list of message "
			       "ids separated by spaces (at most %d bytes)",
			       MESSAGE_MAX_REFERENCES_BYTES);
		return -1;
	}
	if ((spec->token_header == NULL) != (spec->token_value == NULL)) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "message: token_header and token_value must be "
			       "set together");
		return -1;
	}
	if (spec->token_header != NULL &&
	    !message_token_name_ok(spec->token_header)) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "message: token_header is not a usable header "
			       "name (printable, no ':', not a standard "
			       "header, at most %d bytes)",
			       MESSAGE_MAX_TOKEN_NAME_BYTES);
		return -1;
	}
	if (spec->token_value != NULL &&
	    !message_token_value_ok(spec->token_value)) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "message: token_value must be 1 to %d printable "
			       "ASCII characters without spaces",
			       MESSAGE_MAX_TOKEN_BYTES);
		return -1;
	}
	if (spec->tz_offset_minutes < -MESSAGE_MAX_TZ_OFFSET_MINUTES ||
	    spec->tz_offset_minutes > MESSAGE_MAX_TZ_OFFSET_MINUTES) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "message: tz_offset_minutes %d is not within "
			       "+-%d",
			       spec->tz_offset_minutes,
			       MESSAGE_MAX_TZ_OFFSET_MINUTES);
		return -1;
	}
	if (message_date_tm(spec->date, spec->tz_offset_minutes, &tm) < 0) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "message: date is before 1970 or after 9999");
		return -1;
	}
	return 0;
}

static void message_hdr_begin(struct message_hdr *h, struct message_buf *buf,
			      const char *name)
{
	h->buf = buf;
	message_buf_str(buf, name);
	message_buf_add(buf, ":", 1);
	h->col = strlen(name) + 1;
	h->has_word = false;
}

static void message_hdr_fold(struct message_hdr *h)
{
	message_buf_add(h->buf, "\r\n", 2);
	h->col = 0;
}

/*
 * One word with the whitespace before it (which starts with a space); the
 * line is folded before the whitespace when the word would pass the fold
 * column, so a continuation line always starts with that whitespace.
 */
static void message_hdr_word(struct message_hdr *h, const char *ws,
			     size_t ws_len, const char *word, size_t word_len)
{
	if (h->has_word && h->col + ws_len + word_len > MESSAGE_FOLD_COLS)
		message_hdr_fold(h);
	message_buf_add(h->buf, ws, ws_len);
	message_buf_add(h->buf, word, word_len);
	h->col += ws_len + word_len;
	h->has_word = true;
}

/*
 * Text that neither starts nor ends with a space, folded before runs of
 * spaces. Folding only inserts CRLF, so unfolding gives the text back.
 */
static void message_hdr_text(struct message_hdr *h, const char *text,
			     size_t len)
{
	const char *ws = " ";
	size_t ws_len = 1;

	for (size_t i = 0; i < len;) {
		size_t n = strcspn(text + i, " ");
		size_t sp;

		if (n > len - i)
			n = len - i;
		message_hdr_word(h, ws, ws_len, text + i, n);
		i += n;
		sp = strspn(text + i, " ");
		ws = text + i;
		ws_len = sp;
		i += sp;
	}
}

static void message_hdr_end(struct message_hdr *h)
{
	message_buf_add(h->buf, "\r\n", 2);
}

static bool message_q_literal(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '!' || c == '*' || c == '+' ||
	       c == '-' || c == '/';
}

/* RFC 2047 "Q" in its phrase form, which is valid in every context. */
static size_t message_q_len(unsigned char c)
{
	return c == ' ' || message_q_literal(c) ? 1 : 3;
}

static size_t message_q_encode(const unsigned char *s, size_t n, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ') {
			out[o++] = '_';
		} else if (message_q_literal(s[i])) {
			out[o++] = (char)s[i];
		} else {
			out[o++] = '=';
			out[o++] = hex[s[i] >> 4];
			out[o++] = hex[s[i] & 15];
		}
	}
	return o;
}

static size_t message_b64_encode(const unsigned char *s, size_t n, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	return o;
}

/*
 * The whole text as RFC 2047 encoded words, each of whole characters and
 * sized to what is left of the line (at most 75), separated by a space or
 * a fold. Readers drop that whitespace between adjacent encoded words, so
 * the text decodes back exactly.
 */
static void message_hdr_encoded(struct message_hdr *h, const char *text,
				size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t q_total = 0;
	bool b64;

	for (size_t i = 0; i < len; i++)
		q_total += message_q_len(s[i]);
	b64 = 4 * ((len + 2) / 3) < q_total;
	for (size_t i = 0; i < len;) {
		char word[MESSAGE_WORD_MAX + 1];
		size_t avail = 0, data_max, n = 0, enc = 0, o;

		if (h->col + 1 < MESSAGE_FOLD_COLS)
			avail = MESSAGE_FOLD_COLS - h->col - 1;
		if (avail > MESSAGE_WORD_MAX)
			avail = MESSAGE_WORD_MAX;
		if (avail < MESSAGE_WORD_OVERHEAD + MESSAGE_CHAR_MAX_ENCODED) {
			if (h->has_word) {
				message_hdr_fold(h);
				avail = MESSAGE_WORD_MAX;
			} else {
				avail = MESSAGE_WORD_OVERHEAD +
					MESSAGE_CHAR_MAX_ENCODED;
			}
		}
		data_max = avail - MESSAGE_WORD_OVERHEAD;
		while (i + n < len) {
			size_t seq = message_utf8_len(s[i + n]);
			size_t next = enc;

			if (b64) {
				next = 4 * ((n + seq + 2) / 3);
			} else {
				for (size_t k = 0; k < seq; k++)
					next += message_q_len(s[i + n + k]);
			}
			if (next > data_max)
				break;
			n += seq;
			enc = next;
		}
		memcpy(word, b64 ? "=?UTF-8?B?" : "=?UTF-8?Q?", 10);
		o = 10;
		if (b64)
			o += message_b64_encode(s + i, n, word + o);
		else
			o += message_q_encode(s + i, n, word + o);
		memcpy(word + o, "?=", 2);
		o += 2;
		message_hdr_word(h, " ", 1, word, o);
		i += n;
	}
}

/* Printable ASCII that no reader would take for an encoded word. */
static bool message_plain_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e)
			return false;
	}
	return strstr(s, "=?") == NULL;
}

static enum message_phrase message_phrase_kind(const char *name, size_t len)
{
	if (!message_plain_ascii(name, len))
		return MESSAGE_PHRASE_ENCODED;
	/* atoms lose leading, trailing and repeated spaces: quote those */
	if (name[0] == ' ' || name[len - 1] == ' ' || strstr(name, "  "))
		return MESSAGE_PHRASE_QUOTED;
	for (size_t i = 0; i < len; i++) {
		if (name[i] != ' ' && !message_atext((unsigned char)name[i]))
			return MESSAGE_PHRASE_QUOTED;
	}
	return MESSAGE_PHRASE_ATOMS;
}

/* "Name <addr>" or the bare address: From and To. */
static void message_hdr_mailbox(struct message_buf *buf, const char *field,
				const char *name, const char *addr)
{
	struct message_hdr h;
	size_t len = name != NULL ? strlen(name) : 0;
	char *angle;

	message_hdr_begin(&h, buf, field);
	if (len == 0) {
		message_hdr_text(&h, addr, strlen(addr));
		message_hdr_end(&h);
		return;
	}
	switch (message_phrase_kind(name, len)) {
	case MESSAGE_PHRASE_ATOMS:
		message_hdr_text(&h, name, len);
		break;
	case MESSAGE_PHRASE_QUOTED: {
		/* at most every byte escaped, plus the quotes */
		char *quoted = xmalloc(2 * len + 3);
		size_t o = 0;

		quoted[o++] = '"';
		for (size_t i = 0; i < len; i++) {
			if (name[i] == '"' || name[i] == '\\')
				quoted[o++] = '\\';
			quoted[o++] = name[i];
		}
		quoted[o++] = '"';
		quoted[o] = '\0';
		message_hdr_text(&h, quoted, o);
		free(quoted);
		break;
	}
	case MESSAGE_PHRASE_ENCODED:
		message_hdr_encoded(&h, name, len);
		break;
	}
	angle = xasprintf("<%s>", addr);
	message_hdr_text(&h, angle, strlen(angle));
	free(angle);
	message_hdr_end(&h);
}

/*
 * Plain when it is printable ASCII without leading or trailing space (a
 * reader would drop those) and no run between spaces is too long for a
 * line; encoded words otherwise.
 */
static void message_hdr_subject(struct message_buf *buf, const char *subject)
{
	struct message_hdr h;
	size_t len = strlen(subject);
	bool plain = message_plain_ascii(subject, len);

	if (plain && len > 0 && (subject[0] == ' ' || subject[len - 1] == ' '))
		plain = false;
	for (size_t i = 0; plain && i < len;) {
		size_t n = strspn(subject + i, " ");

		n += strcspn(subject + i + n, " ");
		if (n + strlen("Subject: ") > MESSAGE_LINE_MAX)
			plain = false;
		i += n;
	}
	message_hdr_begin(&h, buf, "Subject");
	if (plain)
		message_hdr_text(&h, subject, len);
	else
		message_hdr_encoded(&h, subject, len);
	message_hdr_end(&h);
}

static void message_hdr_simple(struct message_buf *buf, const char *field,
			       const char *value)
{
	struct message_hdr h;

	message_hdr_begin(&h, buf, field);
	message_hdr_word(&h, " ", 1, value, strlen(value));
	message_hdr_end(&h);
}

static void message_hdr_references(struct message_buf *buf, const char *refs)
{
	struct message_hdr h;

	message_hdr_begin(&h, buf, "References");
	for (size_t i = 0; refs[i] != '\0';) {
		size_t n;

		i += strspn(refs + i, " ");
		n = strcspn(refs + i, " ");
		if (n > 0)
			message_hdr_word(&h, " ", 1, refs + i, n);
		i += n;
	}
	message_hdr_end(&h);
}

static void message_hdr_date(struct message_buf *buf, time_t date,
			     int offset_minutes)
{
	int abs_offset = offset_minutes < 0 ? -offset_minutes : offset_minutes;
	struct tm tm;
	char line[80];

	/* checked by message_check_spec */
	if (message_date_tm(date, offset_minutes, &tm) < 0)
		return;
	/* English names from tables: the Date header ignores the locale. */
	snprintf(line, sizeof(line),
		 "Date: %s, %d %s %04d %02d:%02d:%02d %c%02d%02d\r\n",
		 message_days[tm.tm_wday], tm.tm_mday,
		 message_months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, offset_minutes < 0 ? '-' : '+',
		 abs_offset / 60, abs_offset % 60);
	message_buf_str(buf, line);
}

/*
 * Quoted-printable with CRLF hard line breaks (CRLF, CR and LF all count as
 * one) and no line break after the last line. Soft breaks keep lines at 76
 * characters and never split a character, so every encoded line holds
 * whole UTF-8 sequences. Space and tab are encoded at the end of a line, a
 * '.' at the start of one.
 */
static void message_qp(struct message_buf *out, const char *body)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)body;
	size_t col = 0;

	while (*s != '\0') {
		char unit[MESSAGE_CHAR_MAX_ENCODED];
		size_t seq, unit_len = 0, limit;
		bool line_end;

		if (*s == '\r' || *s == '\n') {
			message_buf_add(out, "\r\n", 2);
			col = 0;
			s += s[0] == '\r' && s[1] == '\n' ? 2 : 1;
			continue;
		}
		seq = message_utf8_len(*s);
		line_end = s[seq] == '\0' || s[seq] == '\r' || s[seq] == '\n';
		if ((seq == 1 && *s >= 33 && *s <= 126 && *s != '=') ||
		    ((*s == ' ' || *s == '\t') && !line_end)) {
			unit[unit_len++] = (char)*s;
		} else {
			for (size_t k = 0; k < seq; k++) {
				unit[unit_len++] = '=';
				unit[unit_len++] = hex[s[k] >> 4];
				unit[unit_len++] = hex[s[k] & 15];
			}
		}
		/* room for the '=' of a soft break unless the line ends here */
		limit = line_end ? MESSAGE_QP_COLS : MESSAGE_QP_COLS - 1;
		if (col + unit_len > limit) {
			message_buf_add(out, "=\r\n", 3);
			col = 0;
		}
		if (col == 0 && *s == '.') {
			memcpy(unit, "=2E", 3);
			unit_len = 3;
		}
		message_buf_add(out, unit, unit_len);
		col += unit_len;
		s += seq;
	}
}

/* "------------" and 24 random letters and digits, as common clients do. */
static void message_boundary_new(char *out)
{
	static const char alnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz";
	size_t dashes = strlen(MESSAGE_BOUNDARY_DASHES);
	unsigned char bytes[2 * sizeof(uuid_t)];

	uuid_generate_random(bytes);
	uuid_generate_random(bytes + sizeof(uuid_t));
	memcpy(out, MESSAGE_BOUNDARY_DASHES, dashes);
	for (size_t i = 0; i < MESSAGE_BOUNDARY_RANDOM; i++)
		out[dashes + i] = alnum[bytes[i] % (sizeof(alnum) - 1)];
	out[dashes + MESSAGE_BOUNDARY_RANDOM] = '\0';
}

static void message_part(struct message_buf *out, const char *boundary,
			 const char *type, const struct message_buf *qp)
{
	message_buf_str(out, "--");
	message_buf_str(out, boundary);
	message_buf_str(out, "\r\nContent-Type: ");
	message_buf_str(out, type);
	message_buf_str(out, "; charset=UTF-8\r\n"
			     "Content-Transfer-Encoding: quoted-printable\r\n"
			     "\r\n");
	if (qp->len > 0)
		message_buf_add(out, qp->data, qp->len);
	/* this CRLF belongs to the delimiter that follows (RFC 2046 5.1.1) */
	message_buf_str(out, "\r\n");
}

int message_build(const struct message_spec *spec, char **data_r, size_t *len_r,
		  char **message_id_r, struct hearth_err *err)
{
	struct message_buf out = {0}, text = {0}, html = {0};
	char boundary[MESSAGE_BOUNDARY_BYTES];
	char *id = NULL;
	int ret = -1;

	if (message_check_spec(spec, err) < 0)
		return -1;
	message_qp(&text, spec->text_body);
	if (spec->html_body != NULL) {
		int tries;

		message_qp(&html, spec->html_body);
		for (tries = 0; tries < MESSAGE_BOUNDARY_TRIES; tries++) {
			message_boundary_new(boundary);
			if (strstr(spec->text_body, boundary) == NULL &&
			    strstr(spec->html_body, boundary) == NULL &&
			    (text.len == 0 || !strstr(text.data, boundary)) &&
			    (html.len == 0 || !strstr(html.data, boundary)))
				break;
		}
		if (tries == MESSAGE_BOUNDARY_TRIES) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
				       "message: no MIME boundary found that "
				       "the bodies do not contain");
			goto out;
		}
	}
	message_hdr_date(&out, spec->date, spec->tz_offset_minutes);
	message_hdr_mailbox(&out, "From", spec->from_name, spec->from_addr);
	message_hdr_mailbox(&out, "To", spec->to_name, spec->to_addr);
	message_hdr_subject(&out, spec->subject);
	if (spec->message_id != NULL)
		id = xstrdup(spec->message_id);
	else
		id = message_id_new(strrchr(spec->from_addr, '@') + 1);
	message_hdr_simple(&out, "Message-ID", id);
	if (spec->in_reply_to != NULL)
		message_hdr_simple(&out, "In-Reply-To", spec->in_reply_to);
	if (spec->references != NULL)
		message_hdr_references(&out, spec->references);
	else if (spec->in_reply_to != NULL)
		message_hdr_simple(&out, "References", spec->in_reply_to);
	if (spec->token_header != NULL)
		message_hdr_simple(&out, spec->token_header, spec->token_value);
	message_buf_str(&out, "MIME-Version: 1.0\r\n");
	if (spec->html_body != NULL) {
		message_buf_str(&out, "Content-Type: multipart/alternative;\r\n"
				      " boundary=\"");
		message_buf_str(&out, boundary);
		message_buf_str(&out, "\"\r\n\r\n");
		message_part(&out, boundary, "text/plain", &text);
		message_part(&out, boundary, "text/html", &html);
		message_buf_str(&out, "--");
		message_buf_str(&out, boundary);
		message_buf_str(&out, "--\r\n");
	} else {
		message_buf_str(&out,
				"Content-Type: text/plain; charset=UTF-8\r\n"
				"Content-Transfer-Encoding: "
				"quoted-printable\r\n"
				"\r\n");
		if (text.len > 0) {
			message_buf_add(&out, text.data, text.len);
			if (text.len < 2 ||
			    memcmp(text.data + text.len - 2, "\r\n", 2) != 0)
				message_buf_str(&out, "\r\n");
		}
	}
	*data_r = out.data;
	*len_r = out.len;
	out.data = NULL;
	if (message_id_r != NULL) {
		*message_id_r = id;
		id = NULL;
	}
	ret = 0;
out:
	free(id);
	free(out.data);
	free(text.data);
	free(html.data);
	return ret;
}
