// SPDX-License-Identifier: MIT
/*
 * SPF (RFC 7208): the record at the domain, parsed whole before anything is
 * evaluated (a syntax error anywhere is a permerror), then check_host() run
 * twice over: once as a "walk" in which nothing matches, so every term of
 * every include is visited the way a receiver does for a server the record
 * does not name (the lookup count, void lookups, ptr, the final `all`, the
 * includes reached), and once per sending address with the limits enforced,
 * as a receiver evaluates it.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check_private.h"
#include "hearth/xalloc.h"

/* Nested includes deeper than this are a loop (the walk has no limit). */
#define SPF_MAX_DEPTH 20
/* The walk counts past the limit, up to this. */
#define SPF_WALK_MAX_LOOKUPS 100
/* MX hosts one mx mechanism may look up (RFC 7208 4.6.4). */
#define SPF_MAX_MX 10
/* An expanded domain-spec, before it is cut to 253 bytes. */
#define SPF_EXPAND_MAX 1024
#define SPF_WHY_SIZE   320

enum spf_result {
	SPF_NONE,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR,
};

enum spf_mech {
	MECH_ALL,
	MECH_INCLUDE,
	MECH_A,
	MECH_MX,
	MECH_PTR,
	MECH_IP4,
	MECH_IP6,
	MECH_EXISTS,
};

static const char *const spf_mech_names[] = {
    "all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists",
};

struct spf_term {
	enum spf_mech mech;
	char qualifier;	  /* '+', '-', '~' or '?' */
	char *text;	  /* the term as written */
	char *spec;	  /* its domain-spec, or NULL */
	int cidr4;	  /* 0..32, -1 when not given */
	uint32_t network; /* ip4 */
};

struct spf_record {
	char *text;
	struct spf_term *terms;
	size_t n;
	char *redirect; /* the domain-spec of redirect=, or NULL */
	bool has_all;
};

struct spf_eval {
	struct check_run *run;
	bool walk;
	uint32_t ip;
	const char *ip_text;
	int lookups;
	int voids;
	int depth;
	const char *stack[SPF_MAX_DEPTH + 1];
	/* what the walk saw */
	bool ptr_seen;
	char all_qualifier; /* of the record reached through redirects */
	bool all_seen;
	char **reached; /* include and redirect targets */
	size_t n_reached;
	char **voided; /* names that found nothing */
	size_t n_voided;
	/* the result the evaluation stopped with, why, and the record */
	enum spf_result stop;
	char why[SPF_WHY_SIZE];
	char *why_record;
	char *why_name;
	/* the term of the domain's own record that matched */
	char *matched;
};

static void spf_strings_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void spf_strings_add(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*v)[i], s) == 0)
			return;
	}
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
}

static void spf_eval_clear(struct spf_eval *ev)
{
	spf_strings_free(ev->reached, ev->n_reached);
	spf_strings_free(ev->voided, ev->n_voided);
	free(ev->why_record);
	free(ev->why_name);
	free(ev->matched);
}

static void spf_record_clear(struct spf_record *rec)
{
	for (size_t i = 0; i < rec->n; i++) {
		free(rec->terms[i].text);
		free(rec->terms[i].spec);
	}
	free(rec->terms);
	free(rec->text);
	free(rec->redirect);
	memset(rec, 0, sizeof(*rec));
}

/* Record why the evaluation stopped (the first reason wins) and return r. */
static enum spf_result __attribute__((format(printf, 5, 6)))
spf_stop(struct spf_eval *ev, enum spf_result r, const char *name,
	 const char *record, const char *fmt, ...)
{
	va_list ap;

	if (ev->why[0] != '\0')
		return ev->stop;
	ev->stop = r;
	va_start(ap, fmt);
	vsnprintf(ev->why, sizeof(ev->why), fmt, ap);
	va_end(ap);
	ev->why_name = name != NULL ? xstrdup(name) : NULL;
	ev->why_record = record != NULL ? xstrdup(record) : NULL;
	return r;
}

/* "v=spf1" followed by a space or the end, in any case. */
static bool spf_is_record(const char *txt)
{
	return strncasecmp(txt, "v=spf1", 6) == 0 &&
	       (txt[6] == ' ' || txt[6] == '\0');
}

static bool spf_is_macro_letter(char c)
{
	return strchr("slodiphvSLODIPHV", c) != NULL && c != '\0';
}

/*
 * A macro-string (RFC 7208 7.1): visible characters, '%' only in "%%",
 * "%_", "%-" and "%{" letter digits ["r"] delimiters "}". The letters c, r
 * and t belong to explanation strings only, so they are refused here.
 * NULL, or what is wrong.
 */
static const char *spf_macro_string_why(const char *s, size_t len,
					bool *ends_in_macro)
{
	*ends_in_macro = false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		*ends_in_macro = false;
		if (c < 0x21 || c > 0x7e)
			return "a character that is not visible ASCII";
		if (c != '%')
			continue;
		if (++i == len)
			return "'%' at the end";
		if (s[i] == '%' || s[i] == '_' || s[i] == '-')
			continue;
		if (s[i] != '{')
			return "'%' not followed by '{', '%', '_' or '-'";
		if (++i == len)
			return "an unclosed macro";
		if (strchr("crtCRT", s[i]) != NULL)
			return "a macro only explanations may use (c, r, t)";
		if (!spf_is_macro_letter(s[i]))
			return "an unknown macro letter";
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i < len && (s[i] == 'r' || s[i] == 'R'))
			i++;
		while (i < len && strchr(".-+,/_=", s[i]) != NULL)
			i++;
		if (i == len || s[i] != '}')
			return "a malformed macro";
		*ends_in_macro = true;
	}
	return NULL;
}

/*
 * A domain-spec: a macro-string ending in a macro or in "." and a top
 * label that is not all digits, with an optional final dot.
 */
static const char *spf_domain_spec_why(const char *s)
{
	size_t len = strlen(s), end, start;
	bool macro_end;
	bool alpha = false;
	const char *why = spf_macro_string_why(s, len, &macro_end);

	if (why != NULL)
		return why;
	if (len == 0)
		return "an empty domain";
	if (macro_end)
		return NULL;
	end = len;
	if (s[end - 1] == '.')
		end--;
	start = end;
	while (start > 0 && s[start - 1] != '.')
		start--;
	if (start == 0 || start == end)
		return "a domain without a top-level label";
	for (size_t i = start; i < end; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalpha(c))
			alpha = true;
		else if (!isdigit(c) && c != '-')
			return "a malformed top-level label";
	}
	if (!alpha || s[start] == '-' || s[end - 1] == '-')
		return "a malformed top-level label";
	return NULL;
}

/* "/n" at the end of s[0..*len) with n in 0..max and no leading zero. */
static int spf_cidr_suffix(const char *s, size_t *len, int max,
			   bool double_slash)
{
	size_t digits = 0, at;
	int v = 0;

	while (digits < *len && isdigit((unsigned char)s[*len - 1 - digits]))
		digits++;
	if (digits == 0 || digits > 3 || digits == *len)
		return -1;
	at = *len - digits - 1;
	if (s[at] != '/')
		return -1;
	if (double_slash && (at == 0 || s[at - 1] != '/'))
		return -1;
	if (!double_slash && at > 0 && s[at - 1] == '/')
		return -1;
	if (digits > 1 && s[at + 1] == '0')
		return -2;
	for (size_t i = at + 1; i < *len; i++)
		v = v * 10 + (s[i] - '0');
	if (v > max)
		return -2;
	*len = double_slash ? at - 1 : at;
	return v;
}

/*
 * One mechanism, without its qualifier: "a:%{d}/24". 0, or -1 with the
 * reason in why.
 */
static int spf_parse_mechanism(const char *t, struct spf_term *term,
			       const char **why)
{
	size_t name_len = strcspn(t, ":/");
	const char *arg = t + name_len;
	size_t len;
	int cidr6 = -1;
	char *spec;
	size_t m;

	for (m = 0; m < sizeof(spf_mech_names) / sizeof(*spf_mech_names); m++) {
		if (strlen(spf_mech_names[m]) == name_len &&
		    strncasecmp(t, spf_mech_names[m], name_len) == 0)
			break;
	}
	if (m == sizeof(spf_mech_names) / sizeof(*spf_mech_names)) {
		*why = "an unknown mechanism";
		return -1;
	}
	term->mech = (enum spf_mech)m;
	term->cidr4 = -1;
	switch (term->mech) {
	case MECH_ALL:
		if (*arg != '\0') {
			*why = "'all' takes no argument";
			return -1;
		}
		return 0;
	case MECH_INCLUDE:
	case MECH_EXISTS:
	case MECH_PTR:
		if (*arg == '\0' && term->mech == MECH_PTR)
			return 0;
		if (*arg != ':') {
			*why = term->mech == MECH_PTR
				   ? "a malformed ptr mechanism"
				   : "a mechanism without its domain";
			return -1;
		}
		*why = spf_domain_spec_why(arg + 1);
		if (*why != NULL)
			return -1;
		term->spec = xstrdup(arg + 1);
		return 0;
	case MECH_A:
	case MECH_MX:
		len = strlen(arg);
		cidr6 = spf_cidr_suffix(arg, &len, 128, true);
		if (cidr6 == -2 || (term->cidr4 = spf_cidr_suffix(
					arg, &len, 32, false)) == -2) {
			*why = "a prefix length out of range";
			return -1;
		}
		if (len == 0)
			return 0;
		if (arg[0] != ':' || len == 1) {
			*why = "a malformed a or mx mechanism";
			return -1;
		}
		spec = xstrndup(arg + 1, len - 1);
		*why = spf_domain_spec_why(spec);
		if (*why != NULL) {
			free(spec);
			return -1;
		}
		term->spec = spec;
		return 0;
	case MECH_IP4:
	case MECH_IP6:
		break;
	}
	if (*arg != ':') {
		*why = "an ip4 or ip6 mechanism without its address";
		return -1;
	}
	arg++;
	len = strlen(arg);
	{
		int max = term->mech == MECH_IP4 ? 32 : 128;
		int cidr = spf_cidr_suffix(arg, &len, max, false);
		char addr[64];
		unsigned char bin[16];

		if (cidr == -2 || len >= sizeof(addr)) {
			*why = "a prefix length out of range";
			return -1;
		}
		memcpy(addr, arg, len);
		addr[len] = '\0';
		if (inet_pton(term->mech == MECH_IP4 ? AF_INET : AF_INET6, addr,
			      bin) != 1) {
			*why = term->mech == MECH_IP4
				   ? "a malformed IPv4 address"
				   : "a malformed IPv6 address";
			return -1;
		}
		if (term->mech == MECH_IP4) {
			term->cidr4 = cidr >= 0 ? cidr : 32;
			term->network = (uint32_t)bin[0] << 24 |
					(uint32_t)bin[1] << 16 |
					(uint32_t)bin[2] << 8 | bin[3];
		}
	}
	return 0;
}

/*
 * Parse a record whole: 0, or -1 with *bad_r the term at fault (malloc'd)
 * and *why_r the reason.
 */
static int spf_parse(const char *text, struct spf_record *rec, char **bad_r,
		     const char **why_r)
{
	const char *p = text + 6;
	bool exp_seen = false;

	memset(rec, 0, sizeof(*rec));
	rec->text = xstrdup(text);
	*bad_r = NULL;
	for (;;) {
		size_t len, name_len = 0;
		char *t;
		const char *why = NULL;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			return 0;
		len = strcspn(p, " ");
		t = xstrndup(p, len);
		p += len;
		if (isalpha((unsigned char)t[0])) {
			name_len = strspn(t, "abcdefghijklmnopqrstuvwxyz"
					     "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					     "0123456789-_.");
		}
		if (name_len > 0 && t[name_len] == '=') {
			const char *value = t + name_len + 1;
			bool macro_end;

			if (name_len == 8 &&
			    strncasecmp(t, "redirect", 8) == 0) {
				if (rec->redirect != NULL)
					why = "redirect= given twice";
				else if ((why = spf_domain_spec_why(value)) ==
					 NULL)
					rec->redirect = xstrdup(value);
			} else if (name_len == 3 &&
				   strncasecmp(t, "exp", 3) == 0) {
				why = exp_seen ? "exp= given twice"
					       : spf_domain_spec_why(value);
				exp_seen = true;
			} else {
				/* unknown modifiers are ignored (6) */
				why = spf_macro_string_why(value, strlen(value),
							   &macro_end);
			}
			if (why != NULL)
				goto bad;
			free(t);
			continue;
		}
		rec->terms =
		    xreallocarray(rec->terms, rec->n + 1, sizeof(*rec->terms));
		{
			struct spf_term *term = &rec->terms[rec->n];
			const char *m = t;

			memset(term, 0, sizeof(*term));
			term->qualifier = '+';
			if (strchr("+-~?", *m) != NULL && *m != '\0')
				term->qualifier = *m++;
			if (spf_parse_mechanism(m, term, &why) < 0) {
				free(term->spec);
				goto bad;
			}
			term->text = t;
			if (term->mech == MECH_ALL)
				rec->has_all = true;
			rec->n++;
		}
		continue;
	bad:
		*bad_r = t;
		*why_r = why;
		return -1;
	}
}

/* --- macros (RFC 7208 7) ------------------------------------------------- */

struct spf_buf {
	char *s;
	size_t len, size;
	bool overflow;
};

static void spf_buf_add(struct spf_buf *b, const char *s, size_t len)
{
	if (b->len + len >= b->size) {
		b->overflow = true;
		return;
	}
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
}

/* The value of a macro letter (lower case). */
static const char *spf_macro_value(const struct spf_eval *ev, char letter,
				   const char *domain, char *tmp,
				   size_t tmp_size)
{
	const char *sender_domain = ev->run->domain;

	switch (letter) {
	case 's':
		snprintf(tmp, tmp_size, "postmaster@%s", sender_domain);
		return tmp;
	case 'l':
		return "postmaster";
	case 'o':
	case 'h':
		return sender_domain;
	case 'd':
		return domain;
	case 'i':
		return ev->ip_text;
	case 'v':
		return "in-addr";
	default: /* 'p': the validated name of the address; none is. */
		return "unknown";
	}
}

static bool spf_unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/*
 * Expand one "%{...}" at s (after "%{"): the parts of the value split at
 * the delimiters, reversed with 'r', the rightmost N kept, joined by dots;
 * URL-escaped for an upper-case letter. Returns the characters read up to
 * and including '}', or 0 with *why for a macro the parse would have
 * refused.
 */
static size_t spf_expand_macro(const struct spf_eval *ev, const char *s,
			       const char *domain, struct spf_buf *out,
			       const char **why)
{
	char tmp[300];
	char letter = s[0];
	bool upper = isupper((unsigned char)letter);
	const char *value;
	const char *parts[256];
	size_t part_len[256];
	size_t n_parts = 0, i = 1, keep = 0;
	bool reverse = false;
	char delims[8] = "";
	size_t n_delims = 0;
	char joined[SPF_EXPAND_MAX];
	size_t jlen = 0;

	value = spf_macro_value(ev, (char)tolower((unsigned char)letter),
				domain, tmp, sizeof(tmp));
	while (isdigit((unsigned char)s[i])) {
		if (keep < 1000)
			keep = keep * 10 + (size_t)(s[i] - '0');
		i++;
	}
	if (i > 1 && keep == 0) {
		*why = "a macro that keeps 0 parts";
		return 0;
	}
	if (s[i] == 'r' || s[i] == 'R') {
		reverse = true;
		i++;
	}
	while (strchr(".-+,/_=", s[i]) != NULL && s[i] != '\0') {
		if (n_delims < sizeof(delims) - 1 &&
		    strchr(delims, s[i]) == NULL)
			delims[n_delims++] = s[i];
		i++;
	}
	if (n_delims == 0)
		delims[0] = '.';
	for (const char *p = value;;) {
		size_t len = strcspn(p, delims);

		if (n_parts < sizeof(parts) / sizeof(*parts)) {
			parts[n_parts] = p;
			part_len[n_parts++] = len;
		}
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	if (reverse) {
		for (size_t a = 0, b = n_parts - 1; a < b; a++, b--) {
			const char *tp = parts[a];
			size_t tl = part_len[a];

			parts[a] = parts[b];
			part_len[a] = part_len[b];
			parts[b] = tp;
			part_len[b] = tl;
		}
	}
	for (size_t k = (keep > 0 && keep < n_parts) ? n_parts - keep : 0;
	     k < n_parts; k++) {
		if (jlen + part_len[k] + 2 >= sizeof(joined))
			break;
		if (jlen > 0)
			joined[jlen++] = '.';
		memcpy(joined + jlen, parts[k], part_len[k]);
		jlen += part_len[k];
	}
	joined[jlen] = '\0';
	for (size_t k = 0; k < jlen; k++) {
		unsigned char c = (unsigned char)joined[k];
		char esc[4];

		if (!upper || spf_unreserved(c)) {
			spf_buf_add(out, (const char *)&joined[k], 1);
		} else {
			snprintf(esc, sizeof(esc), "%%%02X", c);
			spf_buf_add(out, esc, 3);
		}
	}
	return i + 1;
}

/*
 * Expand a domain-spec into out (a name to look up): macros replaced, cut
 * from the left to 253 bytes by whole labels, a trailing dot dropped. 0,
 * or -1 with *why.
 */
static int spf_expand(const struct spf_eval *ev, const char *spec,
		      const char *domain, char *out, size_t out_size,
		      const char **why)
{
	char buf[SPF_EXPAND_MAX];
	struct spf_buf b = {.s = buf, .size = sizeof(buf)};
	const char *start;
	size_t len;

	buf[0] = '\0';
	for (size_t i = 0; spec[i] != '\0';) {
		if (spec[i] != '%') {
			spf_buf_add(&b, &spec[i++], 1);
			continue;
		}
		i++;
		if (spec[i] == '%') {
			spf_buf_add(&b, "%", 1);
			i++;
		} else if (spec[i] == '_') {
			spf_buf_add(&b, " ", 1);
			i++;
		} else if (spec[i] == '-') {
			spf_buf_add(&b, "%20", 3);
			i++;
		} else {
			size_t used =
			    spf_expand_macro(ev, spec + i + 1, domain, &b, why);

			if (used == 0)
				return -1;
			i += 1 + used;
		}
	}
	if (b.overflow) {
		*why = "a domain that expands to more than 1024 bytes";
		return -1;
	}
	len = b.len;
	if (len > 0 && buf[len - 1] == '.')
		buf[--len] = '\0';
	start = buf;
	while (len > 253) {
		const char *dot = strchr(start, '.');

		if (dot == NULL)
			break;
		len -= (size_t)(dot + 1 - start);
		start = dot + 1;
	}
	if (len >= out_size || !check_name_ok(start)) {
		*why = "a domain that is not a valid name once expanded";
		return -1;
	}
	memcpy(out, start, len + 1);
	return 0;
}

/* --- check_host() (RFC 7208 4) ------------------------------------------- */

static enum spf_result spf_check_host(struct spf_eval *ev, const char *domain,
				      bool top);

/* Count a term that makes a DNS query: 0, or -1 past the limit. */
static int spf_count(struct spf_eval *ev, const char *domain,
		     const char *record)
{
	ev->lookups++;
	if (!ev->walk && ev->lookups > CHECK_SPF_MAX_LOOKUPS) {
		spf_stop(ev, SPF_PERMERROR, domain, record,
			 "more than %d DNS lookups", CHECK_SPF_MAX_LOOKUPS);
		return -1;
	}
	if (ev->walk && ev->lookups > SPF_WALK_MAX_LOOKUPS) {
		spf_stop(ev, SPF_PERMERROR, domain, record,
			 "more than %d DNS lookups (an include loop?)",
			 SPF_WALK_MAX_LOOKUPS);
		return -1;
	}
	return 0;
}

/* A lookup that found nothing: 0, or -1 past the limit. */
static int spf_void(struct spf_eval *ev, const char *name, const char *domain,
		    const char *record)
{
	ev->voids++;
	spf_strings_add(&ev->voided, &ev->n_voided, name);
	if (!ev->walk && ev->voids > CHECK_SPF_MAX_VOID) {
		spf_stop(ev, SPF_PERMERROR, domain, record,
			 "more than %d lookups found nothing (%s)",
			 CHECK_SPF_MAX_VOID, name);
		return -1;
	}
	return 0;
}

static bool spf_in_cidr(uint32_t ip, uint32_t net, int bits)
{
	uint32_t mask = bits <= 0    ? 0
			: bits >= 32 ? UINT32_MAX
				     : ~(UINT32_MAX >> bits);

	return (ip & mask) == (net & mask);
}

static bool spf_addr_match(const struct spf_eval *ev, char **addrs, size_t n,
			   int cidr4)
{
	for (size_t i = 0; i < n; i++) {
		struct in_addr a;

		if (inet_pton(AF_INET, addrs[i], &a) == 1 &&
		    spf_in_cidr(ev->ip, ntohl(a.s_addr),
				cidr4 >= 0 ? cidr4 : 32))
			return true;
	}
	return false;
}

/*
 * A lookups: 1 some, 0 none (a void lookup counted unless mx_host), -1 on
 * a failure (temperror or permerror recorded).
 */
static int spf_lookup_a(struct spf_eval *ev, const char *name,
			const char *domain, const char *record, bool mx_host,
			char ***addrs_r, size_t *n_r)
{
	struct hearth_err err = {0};
	int r = check_a(ev->run, name, addrs_r, n_r, NULL, &err);

	if (r < 0) {
		spf_stop(ev, SPF_TEMPERROR, domain, record, "%s", err.msg);
		return -1;
	}
	if (r == 0 && !mx_host && spf_void(ev, name, domain, record) < 0)
		return -1;
	return r;
}

/*
 * One mechanism: 1 it matches, 0 it does not, -1 the evaluation stops
 * (with ev->stop).
 */
static int spf_mechanism(struct spf_eval *ev, const struct spf_term *term,
			 const char *domain, const char *record, bool top)
{
	char name[256];
	const char *why = NULL;
	struct hearth_err err = {0};
	char **addrs = NULL;
	size_t n = 0;
	int r = 0;

	if (term->mech != MECH_ALL && term->mech != MECH_IP4 &&
	    term->mech != MECH_IP6) {
		if (spf_count(ev, domain, record) < 0)
			return -1;
		if (spf_expand(ev, term->spec != NULL ? term->spec : domain,
			       domain, name, sizeof(name), &why) < 0) {
			spf_stop(ev, SPF_PERMERROR, domain, record, "'%s': %s",
				 term->text, why);
			return -1;
		}
	}
	switch (term->mech) {
	case MECH_ALL:
		if (top && !ev->all_seen) {
			ev->all_seen = true;
			ev->all_qualifier = term->qualifier;
		}
		return !ev->walk;
	case MECH_IP4:
		return !ev->walk &&
		       spf_in_cidr(ev->ip, term->network, term->cidr4);
	case MECH_IP6:
		return 0;
	case MECH_PTR:
		ev->ptr_seen = true;
		return 0;
	case MECH_INCLUDE:
		spf_strings_add(&ev->reached, &ev->n_reached, name);
		switch (spf_check_host(ev, name, false)) {
		case SPF_PASS:
			return 1;
		case SPF_FAIL:
		case SPF_SOFTFAIL:
		case SPF_NEUTRAL:
			return 0;
		case SPF_TEMPERROR:
			return -1;
		case SPF_NONE:
			spf_stop(ev, SPF_PERMERROR, domain, record,
				 "'%s': %s has no SPF record", term->text,
				 name);
			return -1;
		case SPF_PERMERROR:
			return -1;
		}
		return -1;
	case MECH_EXISTS:
		r = spf_lookup_a(ev, name, domain, record, false, &addrs, &n);
		dns_a_free(&addrs, n);
		return r < 0 ? -1 : !ev->walk && r == 1;
	case MECH_A:
		r = spf_lookup_a(ev, name, domain, record, false, &addrs, &n);
		if (r > 0)
			r = !ev->walk &&
			    spf_addr_match(ev, addrs, n, term->cidr4);
		dns_a_free(&addrs, n);
		break;
	case MECH_MX: {
		struct dns_mx *mx = NULL;
		size_t n_mx = 0;

		r = check_mx_lookup(ev->run, name, &mx, &n_mx, NULL, &err);
		if (r < 0) {
			spf_stop(ev, SPF_TEMPERROR, domain, record, "%s",
				 err.msg);
		} else if (r == 0) {
			r = spf_void(ev, name, domain, record);
		} else if (n_mx > SPF_MAX_MX) {
			spf_stop(ev, SPF_PERMERROR, domain, record,
				 "'%s': %s has %zu MX hosts, more than %d",
				 term->text, name, n_mx, SPF_MAX_MX);
			r = -1;
		} else {
			r = 0;
			for (size_t i = 0; i < n_mx && r == 0; i++) {
				if (mx[i].host[0] == '\0')
					continue;
				r = spf_lookup_a(ev, mx[i].host, domain, record,
						 true, &addrs, &n);
				if (r > 0)
					r = !ev->walk &&
					    spf_addr_match(ev, addrs, n,
							   term->cidr4);
				dns_a_free(&addrs, n);
			}
		}
		dns_mx_free(&mx, n_mx);
		break;
	}
	}
	return r;
}

static enum spf_result spf_qualified(char qualifier)
{
	switch (qualifier) {
	case '-':
		return SPF_FAIL;
	case '~':
		return SPF_SOFTFAIL;
	case '?':
		return SPF_NEUTRAL;
	default:
		return SPF_PASS;
	}
}

/*
 * check_host(<ip>, <domain>, postmaster@<the checked domain>). top: the
 * domain is the checked one or reached from it through redirect= only.
 */
static enum spf_result spf_check_host(struct spf_eval *ev, const char *domain,
				      bool top)
{
	struct hearth_err err = {0};
	struct spf_record rec;
	enum spf_result result = SPF_NEUTRAL;
	char **txt = NULL;
	const char *found = NULL;
	size_t n = 0, n_spf = 0;
	char *bad = NULL;
	const char *why = NULL;
	int r;

	if (!check_name_ok(domain) || strchr(domain, '.') == NULL)
		return SPF_NONE;
	for (int i = 0; i < ev->depth; i++) {
		if (strcasecmp(ev->stack[i], domain) == 0)
			return spf_stop(ev, SPF_PERMERROR, domain, NULL,
					"%s includes itself (a loop)", domain);
	}
	if (ev->depth >= SPF_MAX_DEPTH)
		return spf_stop(ev, SPF_PERMERROR, domain, NULL,
				"includes nested more than %d deep",
				SPF_MAX_DEPTH);
	r = check_txt(ev->run, domain, &txt, &n, NULL, &err);
	if (r < 0 && err.fail == HEARTH_FAIL_PERMANENT)
		return SPF_NONE;
	if (r < 0)
		return spf_stop(ev, SPF_TEMPERROR, domain, NULL, "%s", err.msg);
	for (size_t i = 0; i < n; i++) {
		if (spf_is_record(txt[i])) {
			n_spf++;
			if (found == NULL)
				found = txt[i];
		}
	}
	if (n_spf == 0) {
		dns_txt_free(&txt, n);
		return SPF_NONE;
	}
	if (n_spf > 1) {
		dns_txt_free(&txt, n);
		return spf_stop(ev, SPF_PERMERROR, domain, NULL,
				"%s has %zu SPF records", domain, n_spf);
	}
	if (spf_parse(found, &rec, &bad, &why) < 0) {
		spf_stop(ev, SPF_PERMERROR, domain, found, "'%s' at %s: %s",
			 bad, domain, why);
		free(bad);
		spf_record_clear(&rec);
		dns_txt_free(&txt, n);
		return SPF_PERMERROR;
	}
	dns_txt_free(&txt, n);
	ev->stack[ev->depth++] = domain;
	for (size_t i = 0; i < rec.n; i++) {
		r = spf_mechanism(ev, &rec.terms[i], domain, rec.text, top);
		if (r < 0) {
			result = ev->stop;
			goto out;
		}
		if (r == 1) {
			result = spf_qualified(rec.terms[i].qualifier);
			if (top && ev->matched == NULL)
				ev->matched = xstrdup(rec.terms[i].text);
			goto out;
		}
	}
	/* RFC 7208 6.1: redirect= is ignored when the record has "all". */
	if (rec.redirect != NULL && !rec.has_all) {
		char name[256];

		if (spf_count(ev, domain, rec.text) < 0) {
			result = ev->stop;
			goto out;
		}
		if (spf_expand(ev, rec.redirect, domain, name, sizeof(name),
			       &why) < 0) {
			result =
			    spf_stop(ev, SPF_PERMERROR, domain, rec.text,
				     "'redirect=%s': %s", rec.redirect, why);
			goto out;
		}
		spf_strings_add(&ev->reached, &ev->n_reached, name);
		result = spf_check_host(ev, name, top);
		if (result == SPF_NONE)
			result = spf_stop(ev, SPF_PERMERROR, domain, rec.text,
					  "'redirect=%s': %s has no SPF record",
					  rec.redirect, name);
	}
out:
	ev->depth--;
	spf_record_clear(&rec);
	return result;
}

static const char *spf_result_name(enum spf_result r)
{
	switch (r) {
	case SPF_NONE:
		return "none";
	case SPF_NEUTRAL:
		return "neutral";
	case SPF_PASS:
		return "pass";
	case SPF_FAIL:
		return "fail";
	case SPF_SOFTFAIL:
		return "softfail";
	case SPF_TEMPERROR:
		return "temperror";
	case SPF_PERMERROR:
		break;
	}
	return "permerror";
}

/* --- findings ------------------------------------------------------------ */

/* "v=spf1 include:_spf.google.com ip4:192.0.2.1 -all" for this domain. */
static char *spf_suggestion(const struct check_run *run)
{
	struct spf_buf b;
	char buf[512];

	b = (struct spf_buf){.s = buf, .size = sizeof(buf)};
	buf[0] = '\0';
	spf_buf_add(&b, "v=spf1", 6);
	if (run->provider != NULL && run->provider->spf_includes != NULL) {
		spf_buf_add(&b, " include:", 9);
		spf_buf_add(&b, run->provider->spf_includes[0],
			    strlen(run->provider->spf_includes[0]));
	}
	for (size_t i = 0; i < run->n_addrs; i++) {
		spf_buf_add(&b, " ip4:", 5);
		spf_buf_add(&b, run->addrs[i].ip, strlen(run->addrs[i].ip));
	}
	if (b.len == 6)
		spf_buf_add(&b, " mx", 3);
	spf_buf_add(&b, " -all", 5);
	return xstrdup(buf);
}

static void spf_record_findings(struct check_run *run, const char *record,
				const struct spf_eval *walk)
{
	const char *d = run->domain;
	struct check_finding *f;

	if (walk->lookups > CHECK_SPF_MAX_LOOKUPS) {
		f = check_add(run, "spf", CHECK_FAIL, record,
			      "SPF of %s needs %d DNS lookups, over the limit "
			      "of %d: receivers treat it as an error "
			      "(permerror)",
			      d, walk->lookups, CHECK_SPF_MAX_LOOKUPS);
		check_fix(f,
			  "bring the record of %s to %d lookups or fewer: "
			  "remove includes you no longer use, or replace a, mx "
			  "and include terms with ip4: addresses",
			  d, CHECK_SPF_MAX_LOOKUPS);
	} else if (walk->lookups >= CHECK_SPF_MAX_LOOKUPS - 1) {
		f = check_add(run, "spf", CHECK_WARN, record,
			      "SPF of %s needs %d of %d DNS lookups: one more "
			      "include may break it",
			      d, walk->lookups, CHECK_SPF_MAX_LOOKUPS);
		check_fix(f,
			  "keep room under the limit: replace a and mx terms "
			  "with ip4: addresses, remove includes you no longer "
			  "use");
	} else {
		check_add(run, "spf", CHECK_PASS, record,
			  "SPF of %s needs %d of %d DNS lookups", d,
			  walk->lookups, CHECK_SPF_MAX_LOOKUPS);
	}
	if (walk->voids > CHECK_SPF_MAX_VOID) {
		char names[512] = "";
		size_t used = 0;

		for (size_t i = 0; i < walk->n_voided && used < sizeof(names);
		     i++)
			used += (size_t)snprintf(
			    names + used, sizeof(names) - used, "%s%s",
			    i > 0 ? ", " : "", walk->voided[i]);
		f = check_add(
		    run, "spf", CHECK_FAIL, record,
		    "SPF of %s has %d lookups that find nothing (%s), "
		    "over the limit of %d: receivers treat it as an "
		    "error (permerror)",
		    d, walk->voids, names, CHECK_SPF_MAX_VOID);
		check_fix(f,
			  "remove the terms naming %s from the SPF record, or "
			  "publish those names",
			  names);
	}
	if (walk->ptr_seen) {
		f = check_add(run, "spf", CHECK_WARN, record,
			      "SPF of %s uses ptr, which is slow, unreliable "
			      "and deprecated (RFC 7208 5.5); some receivers "
			      "ignore it",
			      d);
		check_fix(f, "replace ptr with ip4: or a terms");
	}
	if (!walk->all_seen) {
		f = check_add(run, "spf", CHECK_WARN, record,
			      "SPF of %s does not end in an 'all' term: it "
			      "says nothing about other servers (neutral)",
			      d);
		check_fix(f, "end the SPF record of %s with -all (or ~all)", d);
		return;
	}
	switch (walk->all_qualifier) {
	case '-':
		check_add(run, "spf", CHECK_PASS, record,
			  "SPF of %s ends in -all: mail from other servers "
			  "fails",
			  d);
		break;
	case '~':
		check_add(run, "spf", CHECK_PASS, record,
			  "SPF of %s ends in ~all: mail from other servers "
			  "soft-fails (marked suspicious, not refused)",
			  d);
		break;
	case '?':
		f = check_add(run, "spf", CHECK_WARN, record,
			      "SPF of %s ends in ?all: it says nothing about "
			      "other servers (neutral)",
			      d);
		check_fix(f, "end the SPF record of %s with -all or ~all", d);
		break;
	default:
		f = check_add(run, "spf", CHECK_FAIL, record,
			      "SPF of %s ends in +all: it authorises every "
			      "server on the internet to send as %s",
			      d, d);
		check_fix(f, "replace +all with -all (or ~all)");
		break;
	}
}

static void spf_provider_finding(struct check_run *run, const char *record,
				 const struct spf_eval *walk)
{
	const struct provider *p = run->provider;
	struct check_finding *f;

	if (p == NULL || p->spf_includes == NULL)
		return;
	for (const char *const *inc = p->spf_includes; *inc != NULL; inc++) {
		for (size_t i = 0; i < walk->n_reached; i++) {
			if (strcasecmp(walk->reached[i], *inc) == 0) {
				check_add(run, "spf", CHECK_PASS, record,
					  "SPF of %s includes %s's servers "
					  "(include:%s)",
					  run->domain, p->name, *inc);
				return;
			}
		}
	}
	f = check_add(run, "spf", CHECK_FAIL, record,
		      "SPF of %s does not include %s's servers, which send "
		      "its mail",
		      run->domain, p->name);
	check_fix(f, "add include:%s to the SPF record of %s",
		  p->spf_includes[0], run->domain);
}

static void spf_address_finding(struct check_run *run, const char *record,
				const struct check_addr *a)
{
	struct spf_eval ev = {.run = run, .ip = a->v4, .ip_text = a->ip};
	const char *d = run->domain;
	struct check_finding *f;
	enum spf_result r = spf_check_host(&ev, d, true);
	char who[320];

	/* "192.0.2.9 (smtp.example.com)", or the address alone */
	if (strcmp(a->host, a->ip) != 0)
		snprintf(who, sizeof(who), "%s (%s)", a->ip, a->host);
	else
		snprintf(who, sizeof(who), "%s", a->ip);
	switch (r) {
	case SPF_PASS:
		check_add(run, "spf", CHECK_PASS, record,
			  "SPF of %s authorises %s through '%s'", d, who,
			  ev.matched != NULL ? ev.matched : "?");
		break;
	case SPF_TEMPERROR:
		check_add(run, "spf", CHECK_UNKNOWN, record,
			  "SPF of %s could not be evaluated for %s: %s", d, who,
			  ev.why);
		break;
	case SPF_PERMERROR:
		f = check_add(run, "spf", CHECK_FAIL, record,
			      "SPF of %s cannot authorise %s: the record "
			      "is in error: %s",
			      d, who, ev.why);
		check_fix(f,
			  "correct the SPF record of %s, then make sure it "
			  "has ip4:%s",
			  d, a->ip);
		break;
	default:
		f = check_add(run, "spf", CHECK_FAIL, record,
			      "SPF of %s does not authorise %s: the "
			      "result is %s%s%s",
			      d, who, spf_result_name(r),
			      ev.matched != NULL ? " by " : "",
			      ev.matched != NULL ? ev.matched : "");
		check_fix(f, "add ip4:%s to the SPF record of %s", a->ip, d);
		break;
	}
	spf_eval_clear(&ev);
}

void check_spf(struct check_run *run)
{
	struct hearth_err err = {0};
	const char *d = run->domain;
	struct spf_eval walk = {.run = run, .walk = true};
	struct check_finding *f;
	char **txt = NULL;
	size_t n = 0, n_spf = 0;
	const char *record = NULL;
	char *joined = NULL;
	char *suggestion;
	int r;

	r = check_txt(run, d, &txt, &n, NULL, &err);
	if (r < 0) {
		check_add(run, "spf", CHECK_UNKNOWN, NULL,
			  "SPF of %s could not be looked up: %s", d, err.msg);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!spf_is_record(txt[i]))
			continue;
		if (n_spf++ == 0) {
			record = txt[i];
			joined = xstrdup(txt[i]);
		} else {
			char *more = xasprintf("%s | %s", joined, txt[i]);

			free(joined);
			joined = more;
		}
	}
	if (n_spf == 0) {
		suggestion = spf_suggestion(run);
		f = check_add(run, "spf", CHECK_FAIL, NULL,
			      "%s has no SPF record: receivers cannot tell "
			      "which servers may send its mail",
			      d);
		/* a guess without a provider or a sending host */
		if (strcmp(suggestion, "v=spf1 mx -all") == 0)
			check_fix(f,
				  "publish one TXT record at %s naming the "
				  "servers that send its mail, e.g. %s",
				  d, suggestion);
		else
			check_fix(f, "publish one TXT record at %s: %s", d,
				  suggestion);
		free(suggestion);
		goto out;
	}
	if (n_spf > 1) {
		f = check_add(run, "spf", CHECK_FAIL, joined,
			      "%s has %zu SPF records: receivers treat that "
			      "as an error (permerror)",
			      d, n_spf);
		check_fix(f, "merge them into one TXT record that starts "
			     "with v=spf1");
		goto out;
	}
	/* Any address will do for %{i} in the walk: nothing matches. */
	walk.ip_text = run->n_addrs > 0 ? run->addrs[0].ip : "192.0.2.1";
	walk.ip = run->n_addrs > 0 ? run->addrs[0].v4 : 0xc0000201;
	r = spf_check_host(&walk, d, true);
	if (r == SPF_TEMPERROR) {
		check_add(run, "spf", CHECK_UNKNOWN, record,
			  "SPF of %s could not be read whole: %s", d, walk.why);
		goto out;
	}
	if (r == SPF_PERMERROR || r == SPF_NONE) {
		f = check_add(
		    run, "spf", CHECK_FAIL,
		    walk.why_record != NULL ? walk.why_record : record,
		    "SPF of %s is in error (permerror): %s", d,
		    walk.why[0] != '\0' ? walk.why : "the record is missing");
		if (walk.why_name != NULL && strcasecmp(walk.why_name, d) != 0)
			check_fix(f,
				  "correct the SPF record at %s (included "
				  "from %s), or stop including it",
				  walk.why_name, d);
		else
			check_fix(f, "correct the SPF record of %s", d);
		goto out;
	}
	spf_record_findings(run, record, &walk);
	spf_provider_finding(run, record, &walk);
	for (size_t i = 0; i < run->n_addrs; i++)
		spf_address_finding(run, record, &run->addrs[i]);
out:
	spf_eval_clear(&walk);
	free(joined);
	dns_txt_free(&txt, n);
}
