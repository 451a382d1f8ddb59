// SPDX-License-Identifier: MIT
#include "hearth/bounce.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce_private.h"
#include "hearth/xalloc.h"

/* X.2.2: mailbox full. */
static bool status_full(const char *status)
{
	return status[0] != '\0' && strcmp(status + 1, ".2.2") == 0;
}

/* The notification text, and where the quoted original starts in it. */
static void text_build(struct parse *ps)
{
	size_t ov[4];

	if (ps->text_built)
		return;
	ps->text_built = true;
	bounce_text_assemble(ps);
	ps->cut = ps->text_len;
	if (ps->pats == NULL)
		return;
	for (size_t i = 0; i < ps->pats->n; i++) {
		const struct pattern *pt = &ps->pats->pat[i];
		size_t s;

		if (pt->kind != PAT_ORIGINAL ||
		    !bounce_pat_find(ps, pt, ps->text, ps->text_len, ov))
			continue;
		for (s = ov[0]; s > 0 && ps->text[s - 1] != '\n'; s--)
			;
		if (s < ps->cut)
			ps->cut = s;
	}
}

/*
 * "NAME: value" on a line of text[a..b), after blanks and '>' quote marks;
 * the value on the next line when the field is folded right after the
 * colon. Calls ok(value) on each such line until it accepts one.
 */
static bool
text_field(const struct parse *ps, size_t a, size_t b, const char *name,
	   bool (*ok)(const char *v, size_t n, char *out, size_t size),
	   char *out, size_t size)
{
	const char *t = ps->text;
	size_t nl = strlen(name), pos = a;

	while (pos < b) {
		size_t next, len = bounce_line_at(t, b, pos, &next), k = 0, j;
		const char *l = t + pos;

		pos = next;
		while (k < len && (is_wsp(l[k]) || l[k] == '>'))
			k++;
		if (len - k <= nl || strncasecmp(l + k, name, nl) != 0)
			continue;
		for (j = k + nl; j < len && is_wsp(l[j]); j++)
			;
		if (j == len || l[j] != ':')
			continue;
		for (j++; j < len && is_wsp(l[j]); j++)
			;
		if (j == len && next < b && is_wsp(t[next])) {
			size_t n2, len2 = bounce_line_at(t, b, next, &n2);

			if (ok(t + next, len2, out, size))
				return true;
			continue;
		}
		if (ok(l + j, len - j, out, size))
			return true;
	}
	return false;
}

/* ---- Values ----------------------------------------------------------- */

/* The first "<...>" in v[0..n) if it is a message id of the shape we keep. */
static bool msgid_ok(const char *v, size_t n, char *out, size_t size)
{
	const char *lt = memchr(v, '<', n), *gt;
	size_t len;

	if (lt == NULL)
		return false;
	gt = memchr(lt, '>', n - (size_t)(lt - v));
	if (gt == NULL)
		return false;
	len = (size_t)(gt - lt) + 1;
	if (len < 3 || len > MESSAGE_MAX_ID_BYTES || len >= size)
		return false;
	for (size_t i = 1; i + 1 < len; i++)
		if (lt[i] <= ' ' || lt[i] >= 0x7f || lt[i] == '<')
			return false;
	memcpy(out, lt, len);
	out[len] = '\0';
	return true;
}

/* The last "<...>" of a References list that is a message id. */
static bool msgid_last(const char *v, char *out, size_t size)
{
	const char *end = v + strlen(v), *gt = NULL;
	bool found = false;

	/* the '>' after each '<' only moves forward: linear */
	for (const char *p = v; (p = memchr(p, '<', (size_t)(end - p))) != NULL;
	     p++) {
		if (gt == NULL || gt < p)
			gt = memchr(p, '>', (size_t)(end - p));
		if (gt == NULL)
			break;
		if (msgid_ok(p, (size_t)(gt - p) + 1, out, size))
			found = true;
	}
	return found;
}

/* A token header's value: its first word, printable ASCII. */
static bool token_ok(const char *v, size_t n, char *out, size_t size)
{
	size_t len = 0;

	while (len < n && v[len] > ' ' && v[len] < 0x7f)
		len++;
	/* the word must end at a blank or the end of the value */
	if (len == 0 || len > MESSAGE_MAX_TOKEN_BYTES || len >= size ||
	    (len < n && !is_space(v[len])))
		return false;
	memcpy(out, v, len);
	out[len] = '\0';
	return true;
}

static bool addr_char(unsigned char c)
{
	return c > ' ' && c != 0x7f && strchr("<>()[],;:\"\\", c) == NULL;
}

/* An address from v[0..n): angle brackets, "mailto:", punctuation removed. */
static bool addr_ok(const char *v, size_t n, char *out, size_t size)
{
	const char *at;

	while (n > 0 && (is_space(*v) || *v == '<')) {
		v++;
		n--;
	}
	if (n >= 7 && strncasecmp(v, "mailto:", 7) == 0) {
		v += 7;
		n -= 7;
	}
	while (n > 0 && (is_space(v[n - 1]) || strchr(">.,;:", v[n - 1])))
		n--;
	at = memchr(v, '@', n);
	if (n < 3 || n >= size || at == NULL || at == v || at == v + n - 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!addr_char((unsigned char)v[i]))
			return false;
	memcpy(out, v, n);
	out[n] = '\0';
	return true;
}

/* A DSN address field: "type; addr" (RFC 3464), or a bare address. */
static bool typed_addr(const char *v, char *out, size_t size)
{
	const char *semi = strchr(v, ';');

	if (semi != NULL)
		v = semi + 1;
	return addr_ok(v, strlen(v), out, size);
}

static bool atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       is_digit((char)c) ||
	       (c != 0 && strchr("!#$%&'*+/=?^_`{|}~.-", c));
}

static bool domain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       is_digit((char)c) || c == '.' || c == '-';
}

/*
 * The next thing shaped like an address in s[*pos..n): local@domain.tld.
 * Moves *pos past it. Linear: each '@' looks left and right over
 * characters that cannot hold another '@'.
 */
static bool next_addr(const char *s, size_t n, size_t *pos, struct span *a)
{
	const char *at;

	while (*pos < n && (at = memchr(s + *pos, '@', n - *pos)) != NULL) {
		size_t i = (size_t)(at - s), l = i, r = i + 1;

		*pos = i + 1;
		while (l > 0 && i - l < 64 && atext((unsigned char)s[l - 1]))
			l--;
		while (l < i && s[l] == '.')
			l++;
		while (r < n && r - i < 254 && domain_char((unsigned char)s[r]))
			r++;
		while (r > i + 1 && (s[r - 1] == '.' || s[r - 1] == '-'))
			r--;
		if (l == i || r == i + 1 ||
		    memchr(s + i + 1, '.', r - i - 1) == NULL)
			continue;
		a->p = s + l;
		a->n = r - l;
		*pos = r;
		return true;
	}
	*pos = n;
	return false;
}

static bool daemon_addr(const char *s, size_t n)
{
	return bounce_has_word(s, n, "mailer-daemon@") ||
	       bounce_has_word(s, n, "postmaster@") ||
	       bounce_has_word(s, n, "mailer_daemon@");
}

/* ---- The returned original --------------------------------------------- */

static bool original_type(const struct part *pt)
{
	return type_is(pt, "message/rfc822") || type_is(pt, "message/global") ||
	       type_is(pt, "text/rfc822-headers") ||
	       type_is(pt, "message/global-headers");
}

/*
 * Message-ID (unless want_id is false) and token from the first returned
 * original part, then from the notification text: below where the quoted
 * original starts first, then all of it.
 */
static void find_original(struct parse *ps, struct bounce_info *info,
			  bool want_id)
{
	bool token = ps->token_header != NULL && ps->token_header[0] != '\0';
	char v[HDR_BYTES];

	for (size_t i = 0; i < ps->n_parts; i++) {
		const struct part *pt = &ps->parts[ps->order[i]];
		struct span c, head, body;

		if (ps->order[i] == 0 || !original_type(pt))
			continue;
		c = bounce_part_content(ps, pt);
		bounce_split_head(c, &head, &body);
		bounce_headers_parse(head, &ps->hs);
		if (want_id &&
		    bounce_header_get(&ps->hs, "Message-ID", v, sizeof(v)))
			msgid_ok(v, strlen(v), info->message_id,
				 sizeof(info->message_id));
		if (token &&
		    bounce_header_get(&ps->hs, ps->token_header, v, sizeof(v)))
			token_ok(v, strlen(v), info->token,
				 sizeof(info->token));
		break;
	}
	if ((!want_id || info->message_id[0] != '\0') &&
	    (!token || info->token[0] != '\0'))
		return;
	text_build(ps);
	if (want_id && info->message_id[0] == '\0' &&
	    !text_field(ps, ps->cut, ps->text_len, "Message-ID", msgid_ok,
			info->message_id, sizeof(info->message_id)))
		text_field(ps, 0, ps->text_len, "Message-ID", msgid_ok,
			   info->message_id, sizeof(info->message_id));
	if (token && info->token[0] == '\0' &&
	    !text_field(ps, ps->cut, ps->text_len, ps->token_header, token_ok,
			info->token, sizeof(info->token)))
		text_field(ps, 0, ps->text_len, ps->token_header, token_ok,
			   info->token, sizeof(info->token));
}

/* ---- Reasons ---------------------------------------------------------- */

/*
 * The first reason pattern (in file order) that matches the notification
 * text above the quoted original: class, status and the matched lines.
 */
static const struct pattern *find_reason(struct parse *ps,
					 struct bounce_info *info)
{
	size_t ov[4];

	if (ps->pats == NULL)
		return NULL;
	text_build(ps);
	for (size_t i = 0; i < ps->pats->n; i++) {
		const struct pattern *pt = &ps->pats->pat[i];
		const char *t = ps->text;
		size_t s, e;

		if (pt->kind != PAT_REASON ||
		    !bounce_pat_find(ps, pt, ps->text, ps->cut, ov))
			continue;
		for (s = ov[0]; s > 0 && t[s - 1] != '\n'; s--)
			;
		e = ov[1];
		if (e > ov[0] && t[e - 1] == '\n')
			e--;
		while (e < ps->cut && t[e] != '\n')
			e++;
		bounce_clean_line(info->reason, sizeof(info->reason), t + s,
				  e - s);
		if (pt->status[0] != '\0')
			memcpy(info->status, pt->status, sizeof(info->status));
		else
			bounce_find_status(t + s, e - s, info->status);
		return pt;
	}
	return NULL;
}

/* ---- DSN -------------------------------------------------------------- */

struct dsn_rcpt {
	bool set;
	char status[16];
	char recipient[256];
	char reason[256];
};

/* Read one per-recipient group into r; returns its action. */
static enum {
	ACT_OTHER,
	ACT_FAILED,
	ACT_DELAYED
} dsn_group(struct parse *ps, struct dsn_rcpt *r)
{
	char v[HDR_BYTES], action[16];
	const char *semi;
	size_t k = 0;

	memset(r, 0, sizeof(*r));
	bounce_header_get(&ps->hs, "Action", v, sizeof(v));
	while (v[k] != '\0' && !is_space(v[k]) && v[k] != '(' &&
	       k + 1 < sizeof(action)) {
		action[k] = lower(v[k]);
		k++;
	}
	action[k] = '\0';
	if (bounce_header_get(&ps->hs, "Status", v, sizeof(v)))
		bounce_find_status(v, strnlen(v, 32), r->status);
	if (bounce_header_get(&ps->hs, "Diagnostic-Code", v, sizeof(v))) {
		semi = strchr(v, ';');
		semi = semi != NULL ? semi + 1 : v;
		bounce_clean_line(r->reason, sizeof(r->reason), semi,
				  strlen(semi));
		if (r->status[0] == '\0')
			bounce_find_status(semi, strlen(semi), r->status);
	}
	if (!bounce_header_get(&ps->hs, "Final-Recipient", v, sizeof(v)) ||
	    !typed_addr(v, r->recipient, sizeof(r->recipient)))
		if (bounce_header_get(&ps->hs, "Original-Recipient", v,
				      sizeof(v)))
			typed_addr(v, r->recipient, sizeof(r->recipient));
	r->set = true;
	/* no Action: what the status class says */
	if (action[0] == '\0')
		return r->status[0] == '5'   ? ACT_FAILED
		       : r->status[0] == '4' ? ACT_DELAYED
					     : ACT_OTHER;
	return strcmp(action, "failed") == 0	? ACT_FAILED
	       : strcmp(action, "delayed") == 0 ? ACT_DELAYED
						: ACT_OTHER;
}

static enum bounce_kind parse_dsn(struct parse *ps, struct bounce_info *info)
{
	const char *rt = ps->parts[0].ct.report_type;
	const struct part *st = NULL;
	struct dsn_rcpt failed = {0}, delayed = {0}, *use;
	struct span c;
	size_t pos = 0, groups = 0;

	if (strcmp(rt, "delivery-status") != 0 &&
	    strcmp(rt, "global-delivery-status") != 0 && rt[0] != '\0')
		return BOUNCE_NONE;
	for (size_t i = 1; i < ps->n_parts && st == NULL; i++) {
		const struct part *pt = &ps->parts[ps->order[i]];

		if ((type_is(pt, "message/delivery-status") ||
		     type_is(pt, "message/global-delivery-status")) &&
		    type_is(&ps->parts[pt->parent], "multipart/report"))
			st = pt;
	}
	if (st == NULL)
		return BOUNCE_NONE;
	c = bounce_part_content(ps, st);
	/* blocks of fields between empty lines: per message, per recipient */
	while (pos < c.n && groups <= BOUNCE_MAX_DSN_RECIPIENTS &&
	       !failed.set) {
		size_t next, start, end;
		struct dsn_rcpt r;
		struct span block;

		while (pos < c.n && bounce_line_at(c.p, c.n, pos, &next) == 0)
			pos = next;
		start = end = pos;
		while (pos < c.n && bounce_line_at(c.p, c.n, pos, &next) > 0) {
			pos = next;
			end = next;
		}
		if (end == start)
			break;
		block.p = c.p + start;
		block.n = end - start;
		groups++;
		bounce_headers_parse(block, &ps->hs);
		switch (dsn_group(ps, &r)) {
		case ACT_FAILED:
			failed = r;
			break;
		case ACT_DELAYED:
			if (!delayed.set)
				delayed = r;
			break;
		case ACT_OTHER:
			break;
		}
	}
	use = failed.set ? &failed : delayed.set ? &delayed : NULL;
	if (use == NULL)
		return BOUNCE_NONE;
	info->kind = BOUNCE_DSN;
	info->undelivered = failed.set;
	info->permanent =
	    failed.set && use->status[0] == '5' && !status_full(use->status);
	memcpy(info->status, use->status, sizeof(info->status));
	memcpy(info->recipient, use->recipient, sizeof(info->recipient));
	memcpy(info->reason, use->reason, sizeof(info->reason));
	if (info->reason[0] == '\0') {
		char status[16];

		memcpy(status, info->status, sizeof(status));
		find_reason(ps, info);
		/* the report's status stands over a pattern's */
		if (status[0] != '\0')
			memcpy(info->status, status, sizeof(status));
	}
	find_original(ps, info, true);
	return BOUNCE_DSN;
}

/* ---- Text bounces and auto-replies ------------------------------------ */

/*
 * The recipient of a text bounce: X-Failed-Recipients, else what a recipient
 * pattern captures, else the first address in the notification text that is
 * nobody else's.
 */
static void text_recipient(struct parse *ps, struct bounce_info *info)
{
	size_t ov[4], pos = 0, fpos = 0, tpos = 0;
	struct span a, from = {"", 0}, to = {"", 0};

	if (next_addr(ps->failed_rcpts, strlen(ps->failed_rcpts), &pos, &a) &&
	    addr_ok(a.p, a.n, info->recipient, sizeof(info->recipient)))
		return;
	pos = 0;
	for (size_t i = 0; ps->pats != NULL && i < ps->pats->n; i++) {
		const struct pattern *pt = &ps->pats->pat[i];

		if (pt->kind == PAT_RECIPIENT &&
		    bounce_pat_find(ps, pt, ps->text, ps->cut, ov) &&
		    ov[2] != PCRE2_UNSET &&
		    addr_ok(ps->text + ov[2], ov[3] - ov[2], info->recipient,
			    sizeof(info->recipient)))
			return;
	}
	next_addr(ps->from, strlen(ps->from), &fpos, &from);
	next_addr(ps->to, strlen(ps->to), &tpos, &to);
	while (next_addr(ps->text, ps->cut, &pos, &a)) {
		if ((a.n == from.n && strncasecmp(a.p, from.p, a.n) == 0) ||
		    (a.n == to.n && strncasecmp(a.p, to.p, a.n) == 0) ||
		    daemon_addr(a.p, a.n))
			continue;
		if (addr_ok(a.p, a.n, info->recipient, sizeof(info->recipient)))
			return;
	}
}

static enum bounce_kind parse_text(struct parse *ps, struct bounce_info *info)
{
	const struct pattern *pt;

	info->kind = BOUNCE_TEXT;
	pt = find_reason(ps, info);
	if (pt == NULL) {
		/* a bounce, but of what we cannot tell: not held against it */
		info->undelivered = true;
		bounce_clean_line(info->reason, sizeof(info->reason),
				  ps->subject, strlen(ps->subject));
	} else {
		info->undelivered = pt->class != CLASS_DELAY;
		info->permanent = pt->class == CLASS_HARD;
	}
	text_recipient(ps, info);
	find_original(ps, info, true);
	return BOUNCE_TEXT;
}

static bool autoreply_sign(struct parse *ps)
{
	/* bounces that say Auto-Submitted: auto-replied too, and are not
	 * told apart without patterns */
	if (daemon_addr(ps->from, strlen(ps->from)) || ps->bounce_header)
		return false;
	if (strcmp(ps->auto_submitted, "auto-replied") == 0)
		return true;
	if (ps->x_autoreply || ps->x_autorespond)
		return true;
	if (strcmp(ps->precedence, "auto_reply") == 0)
		return true;
	return bounce_pat_any(ps, PAT_AUTOREPLY_SUBJECT, ps->subject);
}

static enum bounce_kind parse_autoreply(struct parse *ps,
					struct bounce_info *info)
{
	info->kind = BOUNCE_AUTOREPLY;
	bounce_clean_line(info->reason, sizeof(info->reason), ps->subject,
			  strlen(ps->subject));
	if (!msgid_ok(ps->in_reply_to, strlen(ps->in_reply_to),
		      info->message_id, sizeof(info->message_id)))
		msgid_last(ps->references, info->message_id,
			   sizeof(info->message_id));
	find_original(ps, info, false);
	return BOUNCE_AUTOREPLY;
}

/* First word of a header value, lower case, into out. */
static void header_word(const struct headers *hs, const char *name, char *out,
			size_t size)
{
	char v[HDR_BYTES];
	size_t k = 0;

	bounce_header_get(hs, name, v, sizeof(v));
	while (v[k] != '\0' && !is_space(v[k]) && v[k] != ';' && v[k] != '(' &&
	       k + 1 < size) {
		out[k] = lower(v[k]);
		k++;
	}
	out[k] = '\0';
}

/* The top-level fields every classification needs, read once. */
static void top_fields(struct parse *ps)
{
	struct headers *hs = &ps->hs;
	char v[HDR_BYTES];

	bounce_headers_parse(ps->parts[0].head, hs);
	bounce_header_get(hs, "Subject", v, sizeof(v));
	bounce_decode_words(v, ps->subject, sizeof(ps->subject));
	bounce_header_get(hs, "From", v, sizeof(v));
	bounce_decode_words(v, ps->from, sizeof(ps->from));
	bounce_header_get(hs, "To", ps->to, sizeof(ps->to));
	bounce_header_get(hs, "In-Reply-To", ps->in_reply_to,
			  sizeof(ps->in_reply_to));
	bounce_header_get(hs, "References", ps->references,
			  sizeof(ps->references));
	ps->bounce_header =
	    bounce_header_get(hs, "X-Failed-Recipients", ps->failed_rcpts,
			      sizeof(ps->failed_rcpts)) ||
	    bounce_header_get(hs, "X-MS-Exchange-Message-Is-Ndr", v, sizeof(v));
	header_word(hs, "Auto-Submitted", ps->auto_submitted,
		    sizeof(ps->auto_submitted));
	header_word(hs, "Precedence", ps->precedence, sizeof(ps->precedence));
	if (bounce_header_get(hs, "X-Autoreply", v, sizeof(v)))
		ps->x_autoreply = strcasecmp(v, "no") != 0;
	ps->x_autorespond =
	    bounce_header_get(hs, "X-Autorespond", v, sizeof(v));
	/* the part's own fields last: bounce_part_fields() reuses hs */
	bounce_part_fields(ps, &ps->parts[0], "text/plain");
}

enum bounce_kind bounce_parse(const char *msg, size_t len,
			      const struct bounce_patterns *patterns,
			      const char *token_header,
			      struct bounce_info *info)
{
	struct parse *ps;
	struct span all = {msg, len};
	enum bounce_kind kind = BOUNCE_NONE;

	memset(info, 0, sizeof(*info));
	if (msg == NULL || len == 0)
		return BOUNCE_NONE;
	if (all.n > BOUNCE_MAX_MESSAGE_BYTES)
		all.n = BOUNCE_MAX_MESSAGE_BYTES;
	ps = xmalloc(sizeof(*ps));
	memset(ps, 0, offsetof(struct parse, hs));
	memset(&ps->parts[0], 0, sizeof(ps->parts[0]));
	ps->pats = patterns;
	ps->token_header = token_header;
	ps->md = pcre2_match_data_create(MATCH_PAIRS, NULL);
	if (ps->md == NULL)
		bounce_pcre_oom();
	ps->n_parts = 1;
	ps->parts[0].parent = -1;
	/* no end to the header section: cut short, nothing to go by */
	if (!bounce_split_head(all, &ps->parts[0].head, &ps->parts[0].body))
		goto out;
	top_fields(ps);
	bounce_mime_walk(ps);
	if (type_is(&ps->parts[0], "multipart/report"))
		kind = parse_dsn(ps, info);
	else if (bounce_pat_any(ps, PAT_FROM, ps->from) ||
		 bounce_pat_any(ps, PAT_SUBJECT, ps->subject))
		kind = parse_text(ps, info);
	else if (autoreply_sign(ps))
		kind = parse_autoreply(ps, info);
out:
	if (kind == BOUNCE_NONE)
		memset(info, 0, sizeof(*info));
	pcre2_match_data_free(ps->md);
	free(ps);
	return kind;
}

const char *bounce_kind_name(enum bounce_kind kind)
{
	switch (kind) {
	case BOUNCE_NONE:
		return "none";
	case BOUNCE_DSN:
		return "dsn";
	case BOUNCE_TEXT:
		return "text";
	case BOUNCE_AUTOREPLY:
		return "autoreply";
	}
	return "unknown";
}
