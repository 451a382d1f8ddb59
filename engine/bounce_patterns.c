// SPDX-License-Identifier: MIT
/*
 * The pattern file: loaded and compiled once (JIT where pcre2 can), matched
 * under a match, depth and heap limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounce_private.h"
#include "hearth/file.h"
#include "hearth/xalloc.h"

static const char *const pat_kind_names[PAT_KINDS] = {
    "from", "subject", "reason", "recipient", "original", "autoreply-subject",
};

void bounce_pcre_oom(void)
{
	fprintf(stderr, "hearth: out of memory in pcre2\n");
	abort();
}

/* ---- Patterns at match time ------------------------------------------- */

/*
 * The first match of pattern pt in s[0..n): true with ov[0..1] the match and
 * ov[2..3] group 1 (PCRE2_UNSET when it did not take part). No match, the
 * match limit and any other pcre2 error all give false.
 */
bool bounce_pat_find(const struct parse *ps, const struct pattern *pt,
		     const char *s, size_t n, size_t ov[4])
{
	PCRE2_SIZE *v;
	int rc = pcre2_match(pt->code, (PCRE2_SPTR)s, n, 0, 0, ps->md,
			     ps->pats->mctx);

	if (rc < 0)
		return false;
	v = pcre2_get_ovector_pointer(ps->md);
	ov[0] = v[0];
	/* \K in a lookahead can put the start after the end */
	ov[1] = v[1] < v[0] ? v[0] : v[1];
	ov[2] = ov[3] = PCRE2_UNSET;
	if ((rc == 0 || rc >= 2) && v[2] != PCRE2_UNSET && v[3] >= v[2]) {
		ov[2] = v[2];
		ov[3] = v[3];
	}
	return true;
}

/* Does any pattern of kind match s? */
bool bounce_pat_any(const struct parse *ps, enum pat_kind kind, const char *s)
{
	size_t ov[4];

	if (ps->pats == NULL)
		return false;
	for (size_t i = 0; i < ps->pats->n; i++)
		if (ps->pats->pat[i].kind == kind &&
		    bounce_pat_find(ps, &ps->pats->pat[i], s, strlen(s), ov))
			return true;
	return false;
}

/* ---- The pattern file -------------------------------------------------- */

static int __attribute__((format(printf, 4, 5)))
file_bad(struct hearth_err *err, const char *name, size_t line, const char *fmt,
	 ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0, "%s:%zu: %s", name, line,
		       what);
	return -1;
}

/* The next blank-separated word of l[*k..n), made printable for messages. */
static struct span next_word(const char *l, size_t n, size_t *k)
{
	struct span w;

	while (*k < n && is_wsp(l[*k]))
		(*k)++;
	w.p = l + *k;
	while (*k < n && !is_wsp(l[*k]))
		(*k)++;
	w.n = (size_t)(l + *k - w.p);
	return w;
}

static bool word_is(struct span w, const char *s)
{
	return w.n == strlen(s) && memcmp(w.p, s, w.n) == 0;
}

static void word_print(struct span w, char out[48])
{
	bounce_clean_line(out, 48, w.p, w.n);
}

static bool status_ok(struct span w, char out[16])
{
	char s[16];

	if (w.n == 0 || w.n >= sizeof(s))
		return false;
	memcpy(s, w.p, w.n);
	s[w.n] = '\0';
	return bounce_find_status(s, w.n, out) && strcmp(out, s) == 0;
}

static void patterns_add(struct bounce_patterns *ps, const struct pattern *p)
{
	if (ps->n % 16 == 0)
		ps->pat = xreallocarray(ps->pat, ps->n + 16, sizeof(*ps->pat));
	ps->pat[ps->n++] = *p;
}

static int parse_line(struct bounce_patterns *ps, pcre2_compile_context *cc,
		      const char *name, size_t line, const char *l, size_t n,
		      struct hearth_err *err)
{
	struct pattern p = {0};
	struct span w;
	size_t k = 0;
	char shown[48];
	int errcode;
	PCRE2_SIZE erroff;
	uint32_t groups = 0;

	if (memchr(l, '\0', n) != NULL)
		return file_bad(err, name, line, "NUL byte");
	if (n > BOUNCE_MAX_LINE_BYTES)
		return file_bad(err, name, line, "line longer than %d bytes",
				BOUNCE_MAX_LINE_BYTES);
	w = next_word(l, n, &k);
	if (w.n == 0 || w.p[0] == '#')
		return 0;
	for (p.kind = 0; p.kind < PAT_KINDS; p.kind++)
		if (word_is(w, pat_kind_names[p.kind]))
			break;
	if (p.kind == PAT_KINDS) {
		word_print(w, shown);
		return file_bad(err, name, line,
				"unknown kind '%s' (from, subject, reason, "
				"recipient, original or autoreply-subject)",
				shown);
	}
	if (p.kind == PAT_REASON) {
		w = next_word(l, n, &k);
		if (word_is(w, "hard")) {
			p.class = CLASS_HARD;
		} else if (word_is(w, "soft")) {
			p.class = CLASS_SOFT;
		} else if (word_is(w, "delay")) {
			p.class = CLASS_DELAY;
		} else {
			word_print(w, shown);
			return file_bad(err, name, line,
					"bad class '%s' (hard, soft or delay)",
					shown);
		}
		w = next_word(l, n, &k);
		if (!word_is(w, "-") && !status_ok(w, p.status)) {
			word_print(w, shown);
			return file_bad(err, name, line,
					"bad status '%s' (like 5.1.1, or -)",
					shown);
		}
	}
	while (k < n && is_wsp(l[k]))
		k++;
	while (n > k && is_wsp(l[n - 1]))
		n--;
	if (k == n)
		return file_bad(err, name, line, "no pattern after '%s'",
				pat_kind_names[p.kind]);
	p.code =
	    pcre2_compile((PCRE2_SPTR)(l + k), n - k,
			  PCRE2_CASELESS | PCRE2_MULTILINE | PCRE2_UTF |
			      PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C,
			  &errcode, &erroff, cc);
	if (p.code == NULL) {
		PCRE2_UCHAR msg[120];

		if (pcre2_get_error_message(errcode, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", errcode);
		return file_bad(err, name, line,
				"bad pattern: %s at offset %zu", (char *)msg,
				(size_t)erroff);
	}
	if (p.kind == PAT_RECIPIENT &&
	    (pcre2_pattern_info(p.code, PCRE2_INFO_CAPTURECOUNT, &groups) !=
		 0 ||
	     groups < 1)) {
		pcre2_code_free(p.code);
		return file_bad(err, name, line,
				"a recipient pattern needs a group (...) "
				"around the address");
	}
	if (ps->n == BOUNCE_MAX_PATTERNS) {
		pcre2_code_free(p.code);
		return file_bad(err, name, line, "more than %d patterns",
				BOUNCE_MAX_PATTERNS);
	}
	/* the interpreter is the fallback where pcre2 has no JIT */
	(void)pcre2_jit_compile(p.code, PCRE2_JIT_COMPLETE);
	patterns_add(ps, &p);
	return 0;
}

int bounce_patterns_parse(const char *name, const char *data, size_t len,
			  struct bounce_patterns **patterns_r,
			  struct hearth_err *err)
{
	struct bounce_patterns *ps = xcalloc(1, sizeof(*ps));
	pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
	size_t pos = 0, line = 0;

	if (cc == NULL)
		bounce_pcre_oom();
	pcre2_set_newline(cc, PCRE2_NEWLINE_ANYCRLF);
	if (len > BOUNCE_MAX_FILE_BYTES) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "%s: larger than %d bytes", name,
			       BOUNCE_MAX_FILE_BYTES);
		goto fail;
	}
	/* a UTF-8 byte order mark */
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len) {
		size_t next, n = bounce_line_at(data, len, pos, &next);

		line++;
		if (parse_line(ps, cc, name, line, data + pos, n, err) < 0)
			goto fail;
		pos = next;
	}
	ps->mctx = pcre2_match_context_create(NULL);
	if (ps->mctx == NULL)
		bounce_pcre_oom();
	pcre2_set_match_limit(ps->mctx, BOUNCE_MATCH_LIMIT);
	pcre2_set_depth_limit(ps->mctx, MATCH_DEPTH_LIMIT);
	pcre2_set_heap_limit(ps->mctx, MATCH_HEAP_KIB);
	pcre2_compile_context_free(cc);
	*patterns_r = ps;
	return 0;
fail:
	pcre2_compile_context_free(cc);
	bounce_patterns_free(&ps);
	return -1;
}

int bounce_patterns_load(const char *path, struct bounce_patterns **patterns_r,
			 struct hearth_err *err)
{
	char *data = NULL;
	size_t len = 0;
	int ret;

	*patterns_r = NULL;
	if (file_read_all(path, BOUNCE_MAX_FILE_BYTES, &data, &len, err) < 0)
		return -1;
	ret = bounce_patterns_parse(path, data, len, patterns_r, err);
	free(data);
	return ret;
}

void bounce_patterns_free(struct bounce_patterns **patterns)
{
	struct bounce_patterns *ps;

	if (patterns == NULL || *patterns == NULL)
		return;
	ps = *patterns;
	for (size_t i = 0; i < ps->n; i++)
		pcre2_code_free(ps->pat[i].code);
	free(ps->pat);
	pcre2_match_context_free(ps->mctx);
	free(ps);
	*patterns = NULL;
}

size_t bounce_patterns_count(const struct bounce_patterns *patterns)
{
	return patterns != NULL ? patterns->n : 0;
}
