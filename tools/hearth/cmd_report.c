// SPDX-License-Identifier: MIT
/*
 * hearth report: readiness per inbox, domain and client, read from the store
 * alone, as JSON (docs/report.schema.json), CSV or one HTML page.
 *
 * The JSON document is the report: the CSV is written from it and the HTML
 * renderer (report_html.c) reads only it, so the three formats cannot
 * disagree, and what keeps a client's report to that client (scoping below)
 * is done once, while the document is built.
 *
 * Scoping: with --client or --inbox the document holds that client's
 * inboxes only. Ramp day rows hold no peer names, and no failure text of an
 * exchange is read; the free texts that go in, an inbox's pause reason
 * (which may quote a server's words) and its domain's checks (sentences
 * quoting DNS records, which may include another client's domain), have any
 * address or domain of another client replaced before they are used.
 *
 * Domain checks: the newest check of each domain at or before the end of
 * the as-of day is read once; a domain whose worst finding fails holds its
 * would-be-ready inboxes at warming (readiness.h), and the domain's entry
 * carries the findings.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "hearth/clock.h"
#include "hearth/ramp.h"
#include "hearth/readiness.h"
#include "hearth/xalloc.h"
#include "report_html.h"

#define REPORT_SCHEMA "hearth-report/1"
/* What stands in a text for another client's address or domain. */
#define REPORT_REDACTED "[redacted]"

enum report_format { REPORT_JSON, REPORT_CSV, REPORT_HTML };

struct report_opts {
	enum report_format format;
	const char *client; /* --client, or NULL */
	const char *inbox;  /* --inbox, or NULL */
	const char *output; /* -o, or NULL: stdout */
	int64_t since;	    /* day index, -1: none */
	int64_t as_of;	    /* day index, -1: the clock's */
	bool days;	    /* --days: CSV rows per inbox-day */
};

static int report_usage(FILE *out)
{
	fprintf(out,
		"usage: hearth report [--format json|csv|html] [--client "
		"NAME]\n"
		"                     [--inbox ADDRESS] [--since YYYY-MM-DD] "
		"[--as-of YYYY-MM-DD]\n"
		"                     [--days] [-o FILE]\n"
		"\n"
		"Readiness for cold outreach per inbox, domain and client: a "
		"verdict (ready,\n"
		"warming, at risk, paused), a score 0-100, the reasons, a "
		"recommended cold\n"
		"volume per day, the measured figures of the window and each "
		"day's history.\n"
		"\n"
		"--format F       json (default; docs/report.schema.json), csv "
		"(a row per\n"
		"                 inbox) or html (one self-contained page)\n"
		"--client NAME    only this client's inboxes; the report names "
		"no other client's\n"
		"                 addresses or domains\n"
		"--inbox ADDRESS  only this inbox (and its client)\n"
		"--since DATE     leave history before DATE out (the "
		"assessment still uses its\n"
		"                 window)\n"
		"--as-of DATE     assess as of DATE (default: today, UTC; "
		"after a simulation,\n"
		"                 the simulated day)\n"
		"--days           csv: a row per inbox and day instead of per "
		"inbox\n"
		"-o FILE          write FILE (replaced whole) instead of "
		"stdout ('-');\n"
		"                 also --output FILE\n");
	return out == stdout ? EX_OK : EX_USAGE;
}

/* ---- names of other clients, kept out of free text ---- */

struct names {
	char **v; /* lower case, sorted */
	size_t n, cap;
};

static void names_add(struct names *s, const char *name)
{
	char *copy;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
	}
	copy = xstrdup(name);
	for (char *p = copy; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	s->v[s->n++] = copy;
}

static int names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_sort(struct names *s)
{
	if (s->n > 0)
		qsort(s->v, s->n, sizeof(*s->v), names_cmp);
}

static bool names_has(const struct names *s, const char *name)
{
	return s->n > 0 &&
	       bsearch(&name, s->v, s->n, sizeof(*s->v), names_cmp) != NULL;
}

static void names_free(struct names *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Characters of an address or a host name, as they show in a server's
 * words. */
static bool name_char(unsigned char c)
{
	return isalnum(c) || c == '.' || c == '-' || c == '_' || c == '+' ||
	       c == '@' || c == '%' || c == '=';
}

/*
 * text with every word that is one of `out`, or ends in one after a
 * character other than a letter or digit ("@", ".", "-"...), replaced: a
 * new string. A word is a run of name_char() (a full stop that ends a
 * sentence is not part of it). Erring on the side of replacing: a domain
 * that merely ends like another client's is replaced too.
 */
static char *redact(const struct names *out, const char *text)
{
	size_t len = strlen(text), cap = len + 1, n = 0;
	char *r = xmalloc(cap), *word = xmalloc(len + 1);
	const char *p = text;

	while (*p != '\0') {
		size_t w = 0, wlen;
		bool hit = false;

		while (name_char((unsigned char)p[w]))
			w++;
		if (w == 0) {
			r[n++] = *p++;
			continue;
		}
		wlen = w;
		while (wlen > 0 && p[wlen - 1] == '.')
			wlen--;
		for (size_t i = 0; i < wlen; i++)
			word[i] = (char)tolower((unsigned char)p[i]);
		word[wlen] = '\0';
		for (size_t i = 0; i < wlen && !hit; i++)
			if (i == 0 || !isalnum((unsigned char)word[i - 1]))
				hit = names_has(out, word + i);
		if (hit) {
			size_t add = sizeof(REPORT_REDACTED) - 1;

			if (n + add + (w - wlen) + len + 1 > cap) {
				cap = n + add + (w - wlen) + len + 1;
				r = xreallocarray(r, cap, 1);
			}
			memcpy(r + n, REPORT_REDACTED, add);
			n += add;
			memcpy(r + n, p + wlen, w - wlen);
			n += w - wlen;
		} else {
			memcpy(r + n, p, w);
			n += w;
		}
		p += w;
	}
	r[n] = '\0';
	free(word);
	return r;
}

/* ---- the rules ---- */

/*
 * The rule of the configuration's [readiness] section (percents there, as
 * whole numbers); what it does not set (the at-risk thresholds) stays the
 * default's.
 */
static void report_rules(const struct config *cfg,
			 struct readiness_rules *rules)
{
	readiness_rules_default(rules);
	rules->window_days = cfg->readiness_window_days;
	rules->min_inbox_share = cfg->readiness_min_inbox_pct / 100.0;
	rules->min_measured = cfg->readiness_min_measured;
	rules->max_spam_share = cfg->readiness_max_spam_pct / 100.0;
	rules->max_bounce_share = cfg->readiness_max_bounce_pct / 100.0;
	rules->auth_clear_days = cfg->readiness_auth_clear_days;
	rules->cold_min = cfg->readiness_cold_min;
	rules->cold_max = cfg->readiness_cold_max;
}

/* ---- one inbox ---- */

/* What a roll-up needs of a result, kept while the report is built. */
struct report_mark {
	enum readiness_verdict verdict;
	int score;
	unsigned cold_per_day, measured, inbox, spam, other, missing, sent,
	    bounced;
	const char *domain; /* borrowed from the inbox's entry */
};

/* The newest domain checks as of the report's day, by domain id. */
struct report_checks {
	struct store_domain_check *v;
	size_t n;
};

static void rollup_add(struct readiness_rollup *r, const struct report_mark *m)
{
	struct readiness_result res;

	memset(&res, 0, sizeof(res));
	res.verdict = m->verdict;
	res.score = m->score;
	res.cold_per_day = m->cold_per_day;
	res.measured = m->measured;
	res.inbox = m->inbox;
	res.spam = m->spam;
	res.other = m->other;
	res.missing = m->missing;
	res.sent = m->sent;
	res.bounced = m->bounced;
	res.inbox_share = m->measured ? (double)m->inbox / m->measured : 0;
	res.spam_share = m->measured ? (double)m->spam / m->measured : 0;
	res.bounce_share = m->sent ? (double)m->bounced / m->sent : 0;
	readiness_rollup_add(r, &res);
}

static json_t *rollup_json(struct readiness_rollup *r)
{
	readiness_rollup_finish(r);
	return json_pack(
	    "{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:i, s:i}",
	    "inboxes", (int)r->inboxes, "ready",
	    (int)r->by_verdict[READINESS_READY], "warming",
	    (int)r->by_verdict[READINESS_WARMING], "at_risk",
	    (int)r->by_verdict[READINESS_AT_RISK], "paused",
	    (int)r->by_verdict[READINESS_PAUSED], "measured", (int)r->measured,
	    "inbox", (int)r->inbox, "spam", (int)r->spam, "inbox_share",
	    r->inbox_share, "score", r->score, "cold_per_day",
	    (int)r->cold_per_day);
}

static unsigned count(int v)
{
	return v > 0 ? (unsigned)v : 0;
}

/* A row's ramp step, or -1 when it has no (readable) ramp state. */
static int row_step(const struct store_ramp_day *d)
{
	struct ramp_state st;

	if (d->ramp_state == NULL ||
	    ramp_state_parse(d->ramp_state, &st, NULL) < 0)
		return -1;
	return (int)st.step;
}

/* The days of the inbox's ramp: its profile with its overrides. */
static unsigned ramp_days_of(const struct store_inbox *in)
{
	const struct ramp_profile *base =
	    ramp_profile_by_name(in->ramp_profile);
	struct ramp_profile p;
	struct hearth_err err = {0};

	if (base == NULL)
		base = ramp_profile_by_name("standard");
	p = *base;
	if (ramp_profile_override(&p, in->ramp_overrides, &err) < 0)
		fprintf(stderr,
			"hearth report: %s: ramp overrides ignored: %s\n",
			in->address, err.msg);
	return p.days;
}

struct report_ctx {
	struct cli *cli;
	const struct report_opts *opts;
	struct readiness_rules rules;
	int64_t as_of;
	const struct names *out; /* names to keep out of texts, or NULL */
	/* the output shows the history (CSV by inbox does not: the bulk of
	 * the document is left out then) */
	bool history;
	json_t *inboxes; /* the document's array */
	struct report_checks checks;
};

/* A text as it may go into the document: redacted when scoped. */
static char *scoped_text(const struct report_ctx *ctx, const char *text)
{
	return ctx->out != NULL ? redact(ctx->out, text) : xstrdup(text);
}

static int check_id_cmp(const void *a, const void *b)
{
	const struct store_domain_check *x = a, *y = b;

	return (x->domain_id > y->domain_id) - (x->domain_id < y->domain_id);
}

/* The newest check of every domain up to the end of day as_of, sorted by
 * domain id. */
static int checks_load(struct store *store, int64_t as_of,
		       struct report_checks *c, struct hearth_err *err)
{
	if (store_domain_check_latest(store, 0,
				      (as_of + 1) * CLOCK_DAY_SECS - 1, &c->v,
				      &c->n, err) < 0)
		return -1;
	if (c->n > 1)
		qsort(c->v, c->n, sizeof(*c->v), check_id_cmp);
	return 0;
}

/* The domain's newest check, or NULL when it was never checked. */
static const struct store_domain_check *
checks_find(const struct report_checks *c, int64_t domain_id)
{
	struct store_domain_check key = {.domain_id = domain_id};

	if (c->n == 0)
		return NULL;
	return bsearch(&key, c->v, c->n, sizeof(*c->v), check_id_cmp);
}

static json_t *stamp_json(int64_t t)
{
	char stamp[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		return json_null();
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(stamp);
}

static bool status_name_ok(const char *s)
{
	return s != NULL &&
	       (strcmp(s, "pass") == 0 || strcmp(s, "warn") == 0 ||
		strcmp(s, "unknown") == 0 || strcmp(s, "fail") == 0);
}

/* A string member that is there and not empty, else NULL. */
static const char *member_text(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;

	return s != NULL && *s != '\0' ? s : NULL;
}

/*
 * A domain entry's "checks": when, the worst status, the failure sentence
 * and the findings of the stored report (check.h's JSON), read
 * defensively: a finding without a check name, a known status or a summary
 * is left out, a fix that is not a string is null, the DNS record text is
 * not carried. Texts are scoped like every other.
 */
static json_t *checks_json(const struct report_ctx *ctx,
			   const struct store_domain_check *c)
{
	json_t *report = json_loads(c->report, 0, NULL), *findings, *f;
	json_t *jf = json_array(), *o;
	char *failure = c->failure != NULL && c->failure[0] != '\0'
			    ? scoped_text(ctx, c->failure)
			    : NULL;
	size_t i;

	findings = json_object_get(report, "findings");
	json_array_foreach(findings, i, f)
	{
		const char *check = member_text(f, "check");
		const char *status = member_text(f, "status");
		const char *summary = member_text(f, "summary");
		const char *fix = member_text(f, "fix");
		char *s, *x;

		if (!json_is_object(f) || check == NULL || summary == NULL ||
		    !status_name_ok(status))
			continue;
		s = scoped_text(ctx, summary);
		x = fix != NULL ? scoped_text(ctx, fix) : NULL;
		json_array_append_new(jf, json_pack("{s:s, s:s, s:s, s:o}",
						    "check", check, "status",
						    status, "summary", s, "fix",
						    cli_json_str(x)));
		free(s);
		free(x);
	}
	o = json_pack("{s:o, s:s, s:o, s:o}", "checked_at",
		      stamp_json(c->checked_at), "worst",
		      status_name_ok(c->worst) ? c->worst : "unknown",
		      "failure", cli_json_str(failure), "findings", jf);
	free(failure);
	json_decref(report);
	return o;
}

static json_t *history_row(const struct store_ramp_day *d, int step)
{
	return json_pack(
	    "{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, "
	    "s:i, s:i, s:i, s:i, s:o}",
	    "day", d->day, "volume", d->volume, "planned", d->planned, "sent",
	    d->sent, "inbox", d->inbox, "spam", d->spam, "other", d->other,
	    "missing", d->missing, "rescued", d->rescued, "read", d->read,
	    "flagged", d->flagged, "replied", d->replied, "failed", d->failed,
	    "bounced", d->bounced, "auto_replies", count(d->auto_replies),
	    "auth_failures", d->auth_failures, "step",
	    step >= 0 ? json_integer(step) : json_null());
}

/*
 * Assess one inbox, append its entry to the document and fill *mark. check
 * is its domain's newest check, or NULL. 0, or -1 with *err.
 */
static int report_inbox(struct report_ctx *ctx, const struct store_inbox *in,
			const char *client, const char *domain,
			const struct store_domain_check *check,
			struct report_mark *mark, struct hearth_err *err)
{
	struct store_ramp_day *rows = NULL;
	struct readiness_day *days = NULL;
	struct readiness_result *res = NULL;
	struct readiness_input input = {0};
	char before[CLOCK_DATE_SIZE];
	char *reason = NULL, *checks_reason = NULL;
	int *steps = NULL;
	size_t n = 0, n_days = 0;
	unsigned step = 0, ramp_days = ramp_days_of(in), auto_replies = 0;
	bool have_step = false;
	json_t *jreasons, *jhistory, *jwindow, *o;
	int ret = -1;

	clock_day_format(ctx->as_of + 1, before);
	if (store_ramp_day_list(ctx->cli->store, in->id, before, 0, &rows, &n,
				err) < 0)
		goto out;
	days = xcalloc(n + 1, sizeof(*days));
	steps = xcalloc(n + 1, sizeof(*steps));
	/* rows come newest first: the latest readable state is the step */
	for (size_t i = 0; i < n; i++) {
		steps[i] = row_step(&rows[i]);
		if (steps[i] >= 0 && !have_step) {
			step = (unsigned)steps[i];
			have_step = true;
		}
	}
	/* oldest first; a row without a state keeps the step before it */
	for (size_t k = n, carried = 0; k-- > 0;) {
		const struct store_ramp_day *d = &rows[k];
		struct readiness_day *rd = &days[n_days];

		if (clock_day_parse(d->day, &rd->day) < 0)
			continue;
		if (steps[k] >= 0)
			carried = (size_t)steps[k];
		rd->planned = count(d->planned);
		rd->sent = count(d->sent);
		rd->inbox = count(d->inbox);
		rd->spam = count(d->spam);
		rd->other = count(d->other);
		rd->missing = count(d->missing);
		rd->rescued = count(d->rescued);
		rd->read = count(d->read);
		rd->flagged = count(d->flagged);
		rd->replied = count(d->replied);
		rd->failed = count(d->failed);
		rd->bounced = count(d->bounced);
		rd->auth_failures = count(d->auth_failures);
		rd->volume = count(d->volume);
		rd->step = (unsigned)carried;
		/* the window as readiness sums it: the last window_days days
		 * up to as_of */
		if (rd->day <= ctx->as_of &&
		    rd->day > ctx->as_of - (int64_t)ctx->rules.window_days)
			auto_replies += count(d->auto_replies);
		n_days++;
	}
	if (in->state_reason != NULL)
		reason = scoped_text(ctx, in->state_reason);
	if (check != NULL && strcmp(check->worst, "fail") == 0) {
		input.checks_failed = true;
		if (check->failure != NULL)
			checks_reason = scoped_text(ctx, check->failure);
		input.checks_reason = checks_reason;
	}
	input.paused = strcmp(in->state, "active") != 0;
	input.reason = reason;
	input.ramp_days = ramp_days;
	input.step = step;
	input.today = ctx->as_of;
	input.days = days;
	input.n_days = n_days;
	res = xcalloc(1, sizeof(*res));
	if (readiness_assess(&ctx->rules, &input, res) < 0) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "%s: the readiness assessment failed",
			       in->address);
		goto out;
	}

	jreasons = json_array();
	for (size_t i = 0; i < res->n_reasons && i < READINESS_MAX_REASONS;
	     i++) {
		char *text = scoped_text(ctx, res->reasons[i]);

		json_array_append_new(jreasons, json_string(text));
		free(text);
	}
	jhistory = json_array();
	for (size_t k = ctx->history ? n : 0; k-- > 0;) {
		int64_t day;

		if (clock_day_parse(rows[k].day, &day) < 0 ||
		    (ctx->opts->since >= 0 && day < ctx->opts->since))
			continue;
		json_array_append_new(jhistory,
				      history_row(&rows[k], steps[k]));
	}
	jwindow = json_pack(
	    "{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:f, s:f}",
	    "days", (int)ctx->rules.window_days, "measured", (int)res->measured,
	    "inbox", (int)res->inbox, "spam", (int)res->spam, "other",
	    (int)res->other, "missing", (int)res->missing, "sent",
	    (int)res->sent, "bounced", (int)res->bounced, "auto_replies",
	    (int)auto_replies, "inbox_share", res->inbox_share, "spam_share",
	    res->spam_share, "bounce_share", res->bounce_share);
	o = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:{s:i, s:i, s:b}, s:s, "
	    "s:i, s:i, s:o, s:o, s:o}",
	    "address", in->address, "client", client, "domain", domain,
	    "provider", in->provider, "state", in->state, "state_reason",
	    cli_json_str(reason), "ramp_profile", in->ramp_profile, "ramp",
	    "step", (int)step, "days", (int)ramp_days, "complete",
	    (uint64_t)step + 1 >= ramp_days, "verdict",
	    readiness_verdict_name(res->verdict), "score", res->score,
	    "cold_per_day", (int)res->cold_per_day, "reasons", jreasons,
	    "window", jwindow, "history", jhistory);
	if (o == NULL) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "%s: cannot build the report entry",
			       in->address);
		goto out;
	}
	json_array_append_new(ctx->inboxes, o);
	*mark = (struct report_mark){
	    .verdict = res->verdict,
	    .score = res->score,
	    .cold_per_day = res->cold_per_day,
	    .measured = res->measured,
	    .inbox = res->inbox,
	    .spam = res->spam,
	    .other = res->other,
	    .missing = res->missing,
	    .sent = res->sent,
	    .bounced = res->bounced,
	    .domain = domain,
	};
	ret = 0;
out:
	free(res);
	free(reason);
	free(checks_reason);
	free(steps);
	free(days);
	store_ramp_day_list_free(&rows, n);
	return ret;
}

/* ---- one client ---- */

struct report_entry {
	struct report_mark mark;
	char *domain;
	const struct store_domain_check *check; /* borrowed from the ctx */
};

static int entry_domain_cmp(const void *a, const void *b)
{
	const struct report_entry *x = a, *y = b;

	return strcmp(x->domain, y->domain);
}

static char *domain_of(const char *address)
{
	const char *at = strrchr(address, '@');
	char *d = xstrdup(at != NULL ? at + 1 : address);

	for (char *p = d; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

/*
 * The client's section over its inboxes v[0..n) (ordered by address),
 * their entries appended to the document and added to *summary.
 */
static int report_client(struct report_ctx *ctx, const struct store_client *cl,
			 const struct store_inbox *v, size_t n,
			 struct readiness_rollup *summary, json_t *jclients,
			 struct hearth_err *err)
{
	struct report_entry *e = xcalloc(n + 1, sizeof(*e));
	struct readiness_rollup total = {0};
	json_t *jdomains = json_array(), *o;
	size_t done = 0;
	int ret = -1;

	for (; done < n; done++) {
		e[done].domain = domain_of(v[done].address);
		e[done].check = checks_find(&ctx->checks, v[done].domain_id);
		if (report_inbox(ctx, &v[done], cl->name, e[done].domain,
				 e[done].check, &e[done].mark, err) < 0) {
			free(e[done].domain);
			goto out;
		}
		rollup_add(&total, &e[done].mark);
		rollup_add(summary, &e[done].mark);
	}
	qsort(e, n, sizeof(*e), entry_domain_cmp);
	for (size_t i = 0; i < n;) {
		const struct store_domain_check *check = NULL;
		struct readiness_rollup r = {0};
		size_t j = i;
		json_t *jd;

		for (; j < n && strcmp(e[j].domain, e[i].domain) == 0; j++) {
			rollup_add(&r, &e[j].mark);
			if (check == NULL)
				check = e[j].check;
		}
		jd = json_pack("{s:s, s:o}", "name", e[i].domain, "rollup",
			       rollup_json(&r));
		/* never checked: no "checks" at all */
		if (check != NULL)
			json_object_set_new(jd, "checks",
					    checks_json(ctx, check));
		json_array_append_new(jdomains, jd);
		i = j;
	}
	o = json_pack("{s:s, s:o, s:o, s:O}", "name", cl->name, "display_name",
		      cli_json_str(cl->display_name), "rollup",
		      rollup_json(&total), "domains", jdomains);
	json_array_append_new(jclients, o);
	ret = 0;
out:
	for (size_t i = 0; i < done; i++)
		free(e[i].domain);
	free(e);
	json_decref(jdomains);
	return ret;
}

/* ---- the document ---- */

static json_t *rules_json(const struct readiness_rules *r)
{
	return json_pack(
	    "{s:i, s:f, s:i, s:f, s:f, s:i, s:f, s:i, s:i, s:i}", "window_days",
	    (int)r->window_days, "min_inbox_share", r->min_inbox_share,
	    "min_measured", (int)r->min_measured, "max_spam_share",
	    r->max_spam_share, "max_bounce_share", r->max_bounce_share,
	    "auth_clear_days", (int)r->auth_clear_days, "risk_inbox_share",
	    r->risk_inbox_share, "min_measured_risk", (int)r->min_measured_risk,
	    "cold_min", (int)r->cold_min, "cold_max", (int)r->cold_max);
}

static json_t *date_json(int64_t day)
{
	char date[CLOCK_DATE_SIZE];

	if (day < 0)
		return json_null();
	clock_day_format(day, date);
	return json_string(date);
}

/*
 * Every address and domain of an inbox of another client than client_id,
 * but for domains client_id's own inboxes use too.
 */
static int outside_names(struct store *store, int64_t client_id,
			 struct names *out, struct hearth_err *err)
{
	struct store_inbox *all = NULL;
	struct names mine = {0};
	size_t n = 0;

	if (store_inbox_list(store, 0, 0, true, &all, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (all[i].client_id == client_id) {
			char *d = domain_of(all[i].address);

			names_add(&mine, d);
			free(d);
		}
	names_sort(&mine);
	for (size_t i = 0; i < n; i++) {
		char *d;

		if (all[i].client_id == client_id)
			continue;
		names_add(out, all[i].address);
		d = domain_of(all[i].address);
		if (!names_has(&mine, d))
			names_add(out, d);
		free(d);
	}
	names_sort(out);
	names_free(&mine);
	store_inbox_list_free(&all, n);
	return 0;
}

/* The day the report is made for: --as-of, else the simulated clock's
 * day when a simulation ran ahead of the real clock, else today (UTC). */
static int64_t report_as_of(struct store *store, int64_t now, int64_t as_of)
{
	char *sim = NULL;

	if (as_of >= 0)
		return as_of;
	if (store_setting_get(store, "simulate.clock", &sim, NULL) == 1 &&
	    strtoll(sim, NULL, 10) > now)
		now = strtoll(sim, NULL, 10);
	free(sim);
	return clock_day_index(now);
}

/*
 * Build the document. On failure: an exit code, having said why on stderr.
 */
static int report_build(struct cli *cli, const struct report_opts *opts,
			json_t **doc_r)
{
	struct hearth_err err = {0};
	struct store_client *clients = NULL;
	const char *scope_name = NULL;
	struct store_inbox one = {0};
	struct names out = {0};
	struct readiness_rollup summary = {0};
	struct report_ctx ctx = {.cli = cli, .opts = opts};
	size_t n_clients = 0;
	int64_t now = cli_now(), scope_client = 0;
	char stamp[32];
	struct tm tm;
	time_t t = (time_t)now;
	json_t *doc = NULL, *jclients = json_array();
	int ret = EX_DATAERR, found;

	ctx.inboxes = json_array();
	ctx.history = opts->format != REPORT_CSV || opts->days;
	report_rules(cli->cfg, &ctx.rules);
	ctx.as_of = report_as_of(cli->store, now, opts->as_of);
	if (store_client_list(cli->store, &clients, &n_clients, &err) < 0 ||
	    checks_load(cli->store, ctx.as_of, &ctx.checks, &err) < 0)
		goto fail;
	if (opts->inbox != NULL) {
		found = store_inbox_get(cli->store, opts->inbox, &one, &err);
		if (found < 0)
			goto fail;
		if (found == 0) {
			fprintf(stderr, "hearth report: no inbox '%s'\n",
				opts->inbox);
			ret = EX_NOINPUT;
			goto out;
		}
		scope_client = one.client_id;
	}
	if (opts->client != NULL) {
		int64_t id = 0;

		for (size_t i = 0; i < n_clients; i++)
			if (strcmp(clients[i].name, opts->client) == 0)
				id = clients[i].id;
		if (id == 0 || (scope_client != 0 && id != scope_client)) {
			if (id == 0)
				fprintf(stderr,
					"hearth report: no client '%s' "
					"('hearth client list' lists them)\n",
					opts->client);
			else
				fprintf(stderr,
					"hearth report: no inbox '%s' of "
					"client '%s'\n",
					opts->inbox, opts->client);
			ret = EX_NOINPUT;
			goto out;
		}
		scope_client = id;
	}
	if (scope_client != 0) {
		if (outside_names(cli->store, scope_client, &out, &err) < 0)
			goto fail;
		ctx.out = &out;
	}

	for (size_t i = 0; i < n_clients; i++) {
		struct store_inbox *v = NULL;
		size_t n = 0;
		int rc;

		if (scope_client != 0 && clients[i].id != scope_client)
			continue;
		if (scope_client != 0)
			scope_name = clients[i].name;
		if (opts->inbox != NULL) {
			rc = report_client(&ctx, &clients[i], &one, 1, &summary,
					   jclients, &err);
		} else {
			if (store_inbox_list(cli->store, clients[i].id, 0,
					     false, &v, &n, &err) < 0)
				goto fail;
			rc = report_client(&ctx, &clients[i], v, n, &summary,
					   jclients, &err);
			store_inbox_list_free(&v, n);
		}
		if (rc < 0)
			goto fail;
	}

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	doc = json_pack("{s:s, s:s, s:o, s:o, s:{s:o, s:o}, s:o, s:o, s:O, "
			"s:O}",
			"schema", REPORT_SCHEMA, "generated_at", stamp, "as_of",
			date_json(ctx.as_of), "since", date_json(opts->since),
			"scope", "client", cli_json_str(scope_name), "inbox",
			cli_json_str(opts->inbox != NULL ? one.address : NULL),
			"rules", rules_json(&ctx.rules), "summary",
			rollup_json(&summary), "clients", jclients, "inboxes",
			ctx.inboxes);
	if (doc == NULL) {
		hearth_err_set(&err, HEARTH_FAIL_PERMANENT, 0,
			       "cannot build the report document");
		goto fail;
	}
	*doc_r = doc;
	ret = EX_OK;
	goto out;
fail:
	ret = cli_fail("report", &err);
out:
	json_decref(jclients);
	json_decref(ctx.inboxes);
	store_domain_check_list_free(&ctx.checks.v, ctx.checks.n);
	names_free(&out);
	store_inbox_clear(&one);
	store_client_list_free(&clients, n_clients);
	return ret;
}

/* ---- CSV (RFC 4180) ---- */

static void csv_field(FILE *f, const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
	} else {
		fputc('"', f);
		for (; *s != '\0'; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	}
	fputs(last ? "\r\n" : ",", f);
}

/* A member of o as CSV text: strings as they are, integers, reals as
 * "0.000", null as "". */
static void csv_value(FILE *f, const json_t *o, const char *key, bool last)
{
	const json_t *v = json_object_get(o, key);
	char buf[64];

	if (json_is_string(v)) {
		csv_field(f, json_string_value(v), last);
		return;
	}
	if (json_is_integer(v))
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, sizeof(buf), "%.3f", json_real_value(v));
	else
		buf[0] = '\0';
	csv_field(f, buf, last);
}

static void csv_header(FILE *f, const char *const *cols, size_t n)
{
	for (size_t i = 0; i < n; i++)
		csv_field(f, cols[i], i + 1 == n);
}

/*
 * The document's domain checks by client, then domain name: an object of
 * objects (borrowed references into doc; the caller decrefs the result).
 */
static json_t *csv_checks(const json_t *doc)
{
	const json_t *clients = json_object_get(doc, "clients"), *c;
	json_t *map = json_object();
	size_t i;

	json_array_foreach(clients, i, c)
	{
		const json_t *name = json_object_get(c, "name"), *d;
		json_t *by_domain = json_object();
		size_t k;

		json_array_foreach(json_object_get(c, "domains"), k, d)
		{
			const json_t *dn = json_object_get(d, "name");
			json_t *checks = json_object_get(d, "checks");

			if (json_is_string(dn) && json_is_object(checks))
				json_object_set(by_domain,
						json_string_value(dn), checks);
		}
		if (json_is_string(name))
			json_object_set_new(map, json_string_value(name),
					    by_domain);
		else
			json_decref(by_domain);
	}
	return map;
}

/*
 * The columns are appended at the end as they are added (checks,
 * checks_failure; auto_replies), so a reader that counts columns keeps
 * working; README.md lists them.
 */
static void write_csv(FILE *f, const json_t *doc, bool days)
{
	static const char *const inbox_cols[] = {
	    "address",	  "client",	    "domain",	   "provider",
	    "state",	  "verdict",	    "score",	   "cold_per_day",
	    "ramp_step",  "ramp_days",	    "measured",	   "inbox_share",
	    "spam_share", "bounce_share",   "sent_window", "reasons",
	    "checks",	  "checks_failure",
	};
	static const char *const day_cols[] = {
	    "address", "client", "day",		 "volume",  "planned",
	    "sent",    "inbox",	 "spam",	 "other",   "missing",
	    "rescued", "read",	 "flagged",	 "replied", "failed",
	    "bounced", "step",	 "auto_replies",
	};
	const json_t *inboxes = json_object_get(doc, "inboxes"), *in;
	json_t *checks;
	size_t i;

	if (days) {
		csv_header(f, day_cols, sizeof(day_cols) / sizeof(*day_cols));
		json_array_foreach(inboxes, i, in)
		{
			const json_t *h = json_object_get(in, "history"), *d;
			size_t k;

			json_array_foreach(h, k, d)
			{
				csv_value(f, in, "address", false);
				csv_value(f, in, "client", false);
				/* from "day" on, the row's own columns */
				for (size_t c = 2;
				     c < sizeof(day_cols) / sizeof(*day_cols);
				     c++)
					csv_value(f, d, day_cols[c],
						  c + 1 ==
						      sizeof(day_cols) /
							  sizeof(*day_cols));
			}
		}
		return;
	}
	checks = csv_checks(doc);
	csv_header(f, inbox_cols, sizeof(inbox_cols) / sizeof(*inbox_cols));
	json_array_foreach(inboxes, i, in)
	{
		const json_t *ramp = json_object_get(in, "ramp");
		const json_t *w = json_object_get(in, "window");
		const json_t *reasons = json_object_get(in, "reasons"), *r;
		const json_t *client = json_object_get(in, "client");
		const json_t *domain = json_object_get(in, "domain");
		const json_t *check = NULL;
		char *joined = xstrdup("");
		size_t k;

		if (json_is_string(client) && json_is_string(domain))
			check = json_object_get(
			    json_object_get(checks, json_string_value(client)),
			    json_string_value(domain));

		csv_value(f, in, "address", false);
		csv_value(f, in, "client", false);
		csv_value(f, in, "domain", false);
		csv_value(f, in, "provider", false);
		csv_value(f, in, "state", false);
		csv_value(f, in, "verdict", false);
		csv_value(f, in, "score", false);
		csv_value(f, in, "cold_per_day", false);
		csv_value(f, ramp, "step", false);
		csv_value(f, ramp, "days", false);
		csv_value(f, w, "measured", false);
		csv_value(f, w, "inbox_share", false);
		csv_value(f, w, "spam_share", false);
		csv_value(f, w, "bounce_share", false);
		csv_value(f, w, "sent", false);
		json_array_foreach(reasons, k, r)
		{
			char *next =
			    xasprintf("%s%s%s", joined, k > 0 ? "; " : "",
				      json_string_value(r));

			free(joined);
			joined = next;
		}
		csv_field(f, joined, false);
		free(joined);
		/* never checked: both empty */
		csv_value(f, check, "worst", false);
		csv_value(f, check, "failure", true);
	}
	json_decref(checks);
}

/* ---- output ---- */

/* Write the document in the chosen format. 0, or -1 having said why. */
static int write_report(FILE *f, const json_t *doc,
			const struct report_opts *opts)
{
	struct hearth_err err = {0};

	switch (opts->format) {
	case REPORT_JSON:
		/* shares with 6 significant digits: no float noise */
		if (json_dumpf(doc, f,
			       JSON_INDENT(2) | JSON_PRESERVE_ORDER |
				   JSON_REAL_PRECISION(6)) < 0) {
			fprintf(stderr, "hearth report: cannot write JSON\n");
			return -1;
		}
		fputc('\n', f);
		break;
	case REPORT_CSV:
		write_csv(f, doc, opts->days);
		break;
	case REPORT_HTML:
		if (report_html_write(f, doc, &err) < 0) {
			cli_fail("report", &err);
			return -1;
		}
		break;
	}
	return 0;
}

/*
 * To -o FILE: written beside it under a temporary name and renamed over it
 * once complete, so a failure leaves no half-written report (and the old
 * one, if any, as it was). The mode is 0666 less the umask, as a file
 * created by a shell redirection gets.
 */
static int report_output(const json_t *doc, const struct report_opts *opts)
{
	char *tmp;
	mode_t mask;
	FILE *f;
	int fd, ret = EX_OK;

	if (opts->output == NULL) {
		if (write_report(stdout, doc, opts) < 0)
			return EX_DATAERR;
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "hearth report: stdout: %s\n",
				strerror(errno));
			return EX_IOERR;
		}
		return EX_OK;
	}
	tmp = xasprintf("%s.XXXXXX", opts->output);
	fd = mkstemp(tmp);
	if (fd < 0) {
		fprintf(stderr, "hearth report: %s: %s\n", opts->output,
			strerror(errno));
		free(tmp);
		return EX_CANTCREAT;
	}
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) < 0 || (f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "hearth report: %s: %s\n", tmp,
			strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		return EX_CANTCREAT;
	}
	if (write_report(f, doc, opts) < 0) {
		ret = EX_DATAERR;
		fclose(f);
	} else if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) < 0 ||
		   fclose(f) != 0) {
		fprintf(stderr, "hearth report: %s: %s\n", opts->output,
			strerror(errno));
		ret = EX_IOERR;
	} else if (rename(tmp, opts->output) < 0) {
		fprintf(stderr, "hearth report: %s: %s\n", opts->output,
			strerror(errno));
		ret = EX_CANTCREAT;
	}
	if (ret != EX_OK)
		unlink(tmp);
	free(tmp);
	return ret;
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"client", required_argument, NULL, 'c'},
	    {"inbox", required_argument, NULL, 'i'},
	    {"since", required_argument, NULL, 's'},
	    {"as-of", required_argument, NULL, 'a'},
	    {"days", no_argument, NULL, 'd'},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct report_opts o = {
	    .format = REPORT_JSON, .since = -1, .as_of = -1};
	struct cli cli = {0};
	json_t *doc = NULL;
	int c, ret;

	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "json") == 0)
				o.format = REPORT_JSON;
			else if (strcmp(optarg, "csv") == 0)
				o.format = REPORT_CSV;
			else if (strcmp(optarg, "html") == 0)
				o.format = REPORT_HTML;
			else
				return cli_usage_error(
				    "report", "--format is json, csv or html");
			break;
		case 'c':
			o.client = optarg;
			break;
		case 'i':
			o.inbox = optarg;
			break;
		case 's':
			if (clock_day_parse(optarg, &o.since) < 0)
				return cli_usage_error("report",
						       "--since must be a date "
						       "YYYY-MM-DD");
			break;
		case 'a':
			if (clock_day_parse(optarg, &o.as_of) < 0)
				return cli_usage_error("report",
						       "--as-of must be a date "
						       "YYYY-MM-DD");
			break;
		case 'd':
			o.days = true;
			break;
		case 'o':
			if (optarg[0] == '\0')
				return cli_usage_error("report",
						       "-o needs a file name");
			/* "-": stdout, as without -o */
			o.output = strcmp(optarg, "-") == 0 ? NULL : optarg;
			break;
		default:
			return report_usage(c == 'h' ? stdout : stderr);
		}
	}
	if (optind != argc)
		return cli_usage_error("report", "unexpected argument '%s'",
				       argv[optind]);
	if (o.days && o.format != REPORT_CSV)
		return cli_usage_error("report",
				       "--days goes with --format csv");
	if (o.since >= 0 && o.as_of >= 0 && o.since > o.as_of)
		return cli_usage_error("report",
				       "--since must not be after --as-of");
	ret = cli_open(&cli, CLI_STORE);
	if (ret != EX_OK)
		return ret;
	ret = report_build(&cli, &o, &doc);
	if (ret == EX_OK)
		ret = report_output(doc, &o);
	json_decref(doc);
	cli_close(&cli);
	return ret;
}
