// SPDX-License-Identifier: MIT
#include "hearth/readiness.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hearth/clock.h"

/* The score's "no spam lately" looks at the window's last days. */
#define READINESS_SPAM_RECENT_DAYS 3
/* The trickle a warming inbox past half its ramp may send cold. */
#define READINESS_TRICKLE 5
/* A paused inbox scores at most this. */
#define READINESS_PAUSED_SCORE_MAX 20
/*
 * Shares are quotients of small counts compared with thresholds that came
 * from whole percents: 3 of 100 must be exactly "3%", whatever the last bit
 * of either double says.
 */
#define READINESS_EPSILON 1e-9

/* The window's sums and the facts the rules look at. */
struct readiness_window {
	unsigned n_rows; /* day rows inside the window */
	unsigned recent_spam;
	bool auth_failed;
	int64_t auth_day; /* the latest day with an auth failure */
	char span[32];	  /* "the last 7 days" */
};

/* The reasons being written, and which facts were already told. */
struct readiness_text {
	struct readiness_result *out;
	bool said_inbox, said_ramp, said_spam, said_bounce, said_missing;
	bool said_auth, said_checks;
};

bool readiness_ramp_complete(const struct readiness_input *in)
{
	return (uint64_t)in->step + 1 >= in->ramp_days;
}

void readiness_rules_default(struct readiness_rules *rules)
{
	if (rules == NULL)
		return;
	*rules = (struct readiness_rules){
	    .window_days = 7,
	    .min_inbox_share = 0.90,
	    .min_measured = 20,
	    .max_spam_share = 0.05,
	    .max_bounce_share = 0.03,
	    .auth_clear_days = 3,
	    .risk_inbox_share = 0.70,
	    .min_measured_risk = 10,
	    .cold_min = 30,
	    .cold_max = 50,
	};
}

const char *readiness_verdict_name(enum readiness_verdict v)
{
	switch (v) {
	case READINESS_READY:
		return "ready";
	case READINESS_WARMING:
		return "warming";
	case READINESS_AT_RISK:
		return "at risk";
	case READINESS_PAUSED:
		return "paused";
	}
	return "unknown";
}

/* Rounding without libm: every value rounded here is >= 0. */
static long round_pos(double x)
{
	return x <= 0 ? 0 : (long)(x + 0.5);
}

static double clamp01(double x)
{
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

/* Is day in (today - days, today]? */
static bool in_last(int64_t day, int64_t today, unsigned days)
{
	return day <= today && day > today - (int64_t)days;
}

/*
 * A share in tenths of a percent, rounded to the nearest; but a share shown
 * beside a bar it fails (dir < 0: it is below, dir > 0: above) is rounded
 * away from the bar when the nearest would reach it, so 89.96% never reads
 * "90%" beside "at least 90% is needed".
 */
static long tenths(double share, double bar, int dir)
{
	double x = share * 1000;
	long t = round_pos(x), b = round_pos(bar * 1000);

	if (dir < 0 && t >= b)
		t = (long)(x + 1e-6);
	else if (dir > 0 && t <= b)
		t = (long)(x - 1e-6) + ((double)(long)(x - 1e-6) < x - 1e-6);
	return t < 0 ? 0 : t;
}

/* A percent with at most one decimal ("96", "7.5"). */
static const char *pct(long t, char *buf, size_t size)
{
	if (t % 10 == 0)
		snprintf(buf, size, "%ld", t / 10);
	else
		snprintf(buf, size, "%ld.%ld", t / 10, t % 10);
	return buf;
}

/*
 * What a bar asks: "<before>N%<after>"; a bar of 0% (max_spam or max_bounce
 * set to 0) allows none.
 */
static void bar_text(char *buf, size_t size, double bar, const char *before,
		     const char *after)
{
	char p[48];

	if (bar <= READINESS_EPSILON)
		snprintf(buf, size, "none is allowed");
	else
		snprintf(buf, size, "%s%s%%%s", before,
			 pct(tenths(bar, 0, 0), p, sizeof(p)), after);
}

/* Cut a truncated reason back to a whole UTF-8 character. */
static void utf8_trim(char *s)
{
	size_t n = strlen(s), lead = n, need;
	unsigned char c;

	while (lead > 0 && ((unsigned char)s[lead - 1] & 0xc0) == 0x80)
		lead--;
	if (lead == 0)
		return;
	c = (unsigned char)s[lead - 1];
	if (c < 0x80)
		return;
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	if (n - (lead - 1) < need)
		s[lead - 1] = '\0';
}

static void __attribute__((format(printf, 2, 3)))
say(struct readiness_text *t, const char *fmt, ...)
{
	struct readiness_result *out = t->out;
	char *r;
	va_list ap;
	int n;

	if (out->n_reasons >= READINESS_MAX_REASONS)
		return;
	r = out->reasons[out->n_reasons++];
	va_start(ap, fmt);
	n = vsnprintf(r, READINESS_REASON_MAX, fmt, ap);
	va_end(ap);
	if (n >= READINESS_REASON_MAX)
		utf8_trim(r);
}

static const char *plural(unsigned n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void say_paused(struct readiness_text *t, const char *reason)
{
	size_t len = reason != NULL ? strlen(reason) : 0;

	while (len > 0 && (reason[len - 1] == '.' || reason[len - 1] == ' '))
		len--;
	if (len == 0)
		say(t, "Paused.");
	else
		say(t, "Paused: %.*s.", (int)len, reason);
}

/* The inbox share; with need, the bar (a share) it fails and need says. */
static void say_inbox(struct readiness_text *t,
		      const struct readiness_window *w, double bar,
		      const char *need)
{
	const struct readiness_result *out = t->out;
	char p[48];

	/* nothing measured: the "too few" sentence says so where it counts */
	if (t->said_inbox || out->measured == 0)
		return;
	t->said_inbox = true;
	if (need != NULL)
		say(t, "Inbox placement %s%% over %s (%u of %u measured); %s.",
		    pct(tenths(out->inbox_share, bar, -1), p, sizeof(p)),
		    w->span, out->inbox, out->measured, need);
	else
		say(t, "Inbox placement %s%% over %s (%u of %u measured).",
		    pct(tenths(out->inbox_share, 0, 0), p, sizeof(p)), w->span,
		    out->inbox, out->measured);
	/* the missing explain a low share: right after it */
	if (out->missing > 0 && !t->said_missing) {
		t->said_missing = true;
		say(t, "%u %s not found in the mailbox.", out->missing,
		    plural(out->missing, "message was", "messages were"));
	}
}

static void say_ramp(struct readiness_text *t, const struct readiness_input *in)
{
	if (t->said_ramp)
		return;
	t->said_ramp = true;
	if (readiness_ramp_complete(in))
		say(t, "The ramp is complete (%u %s).", in->ramp_days,
		    plural(in->ramp_days, "day", "days"));
	else
		/* step 0 is the ramp's first day */
		say(t, "The ramp is at day %u of %u.", in->step + 1,
		    in->ramp_days);
}

static void say_spam(struct readiness_text *t, const struct readiness_window *w,
		     double bar, const char *allowed)
{
	const struct readiness_result *out = t->out;
	char p[48];

	if (t->said_spam || (out->spam == 0 && allowed == NULL))
		return;
	t->said_spam = true;
	if (allowed != NULL)
		say(t, "%u of %u %s (%s%%) landed in spam in %s; %s.",
		    out->spam, out->measured,
		    plural(out->measured, "message", "messages"),
		    pct(tenths(out->spam_share, bar, 1), p, sizeof(p)), w->span,
		    allowed);
	else
		say(t, "%u of %u %s (%s%%) landed in spam in %s.", out->spam,
		    out->measured, plural(out->measured, "message", "messages"),
		    pct(tenths(out->spam_share, 0, 0), p, sizeof(p)), w->span);
}

static void say_bounce(struct readiness_text *t,
		       const struct readiness_window *w, double bar,
		       const char *required)
{
	const struct readiness_result *out = t->out;
	long b;

	if (t->said_bounce || (out->bounced == 0 && required == NULL))
		return;
	t->said_bounce = true;
	/* always one decimal, "4.0%" */
	b = tenths(out->bounce_share, bar, required != NULL ? 1 : 0);
	if (required != NULL)
		say(t, "Bounces %ld.%ld%% of sent in %s (%u of %u); %s.",
		    b / 10, b % 10, w->span, out->bounced, out->sent, required);
	else
		say(t, "Bounces %ld.%ld%% of sent in %s (%u of %u).", b / 10,
		    b % 10, w->span, out->bounced, out->sent);
}

static void say_auth(struct readiness_text *t, const struct readiness_window *w)
{
	char date[CLOCK_DATE_SIZE];

	if (t->said_auth || !w->auth_failed)
		return;
	t->said_auth = true;
	clock_day_format(w->auth_day, date);
	say(t, "The provider refused the login on %s.", date);
}

static void say_checks(struct readiness_text *t,
		       const struct readiness_input *in)
{
	const char *r = in->checks_reason;
	size_t len = r != NULL ? strlen(r) : 0;

	if (t->said_checks || !in->checks_failed)
		return;
	t->said_checks = true;
	while (len > 0 && (r[len - 1] == '.' || r[len - 1] == ' '))
		len--;
	if (len == 0)
		say(t, "A deliverability check fails.");
	else
		say(t, "A deliverability check fails: %.*s.", (int)len, r);
}

/*
 * Bounces at or above the bar; none is never too many, even with a bar of
 * 0% (max_bounce = 0 would otherwise hold every inbox at risk).
 */
static bool bounces_high(const struct readiness_rules *rules,
			 const struct readiness_result *out)
{
	return out->bounced > 0 && out->sent > 0 &&
	       out->bounce_share >= rules->max_bounce_share - READINESS_EPSILON;
}

/* Sum the window into out and w. */
static void readiness_sum(const struct readiness_rules *rules,
			  const struct readiness_input *in,
			  struct readiness_result *out,
			  struct readiness_window *w)
{
	unsigned recent = rules->window_days < READINESS_SPAM_RECENT_DAYS
			      ? rules->window_days
			      : READINESS_SPAM_RECENT_DAYS;

	for (size_t i = 0; i < in->n_days; i++) {
		const struct readiness_day *d = &in->days[i];

		if (in_last(d->day, in->today, rules->auth_clear_days) &&
		    d->auth_failures > 0 &&
		    (!w->auth_failed || d->day > w->auth_day)) {
			w->auth_failed = true;
			w->auth_day = d->day;
		}
		if (!in_last(d->day, in->today, rules->window_days))
			continue;
		w->n_rows++;
		out->inbox += d->inbox;
		out->spam += d->spam;
		out->other += d->other;
		out->missing += d->missing;
		out->sent += d->sent;
		out->bounced += d->bounced;
		if (in_last(d->day, in->today, recent))
			w->recent_spam += d->spam;
	}
	out->measured = out->inbox + out->spam + out->other + out->missing;
	if (out->measured > 0) {
		out->inbox_share = (double)out->inbox / out->measured;
		out->spam_share = (double)out->spam / out->measured;
	}
	if (out->sent > 0)
		out->bounce_share = (double)out->bounced / out->sent;
	if (rules->window_days == 1)
		snprintf(w->span, sizeof(w->span), "the last day");
	else
		snprintf(w->span, sizeof(w->span), "the last %u days",
			 rules->window_days);
}

/*
 * The points for being clean (no spam lately, few bounces, no refused
 * login) need something to be clean over: nothing measured earns none, so
 * an inbox with no history scores its ramp only.
 */
static int readiness_score(const struct readiness_rules *rules,
			   const struct readiness_input *in,
			   const struct readiness_result *out,
			   const struct readiness_window *w)
{
	double s = 0;

	if (out->measured > 0)
		s += 40 * clamp01((out->inbox_share - 0.5) / 0.5);
	s += 20 * (in->ramp_days == 0
		       ? 1
		       : clamp01((double)(in->step + 1) / in->ramp_days));
	s += 15 * (rules->min_measured == 0
		       ? 1
		       : clamp01((double)out->measured / rules->min_measured));
	if (out->measured > 0 && w->recent_spam == 0)
		s += 10;
	if (out->sent > 0 && !bounces_high(rules, out))
		s += 10;
	if (w->n_rows > 0 && !w->auth_failed)
		s += 5;
	if (in->paused && s > READINESS_PAUSED_SCORE_MAX)
		s = READINESS_PAUSED_SCORE_MAX;
	return (int)round_pos(s);
}

static unsigned readiness_cold(const struct readiness_rules *rules,
			       const struct readiness_input *in,
			       const struct readiness_result *out)
{
	double span, x;
	long v;

	switch (out->verdict) {
	case READINESS_READY:
		span = 1 - rules->min_inbox_share;
		x = span <= READINESS_EPSILON
			? 1
			: clamp01((out->inbox_share - rules->min_inbox_share) /
				  span);
		v = (long)rules->cold_min +
		    round_pos(x * ((double)rules->cold_max - rules->cold_min));
		if (v > (long)rules->cold_max)
			v = rules->cold_max;
		if (v < (long)rules->cold_min)
			v = rules->cold_min;
		return (unsigned)v;
	case READINESS_WARMING:
		/* a failing check means cold mail would be junked: none */
		if (in->checks_failed || (uint64_t)in->step * 2 < in->ramp_days)
			return 0;
		return READINESS_TRICKLE;
	case READINESS_AT_RISK:
	case READINESS_PAUSED:
		break;
	}
	return 0;
}

int readiness_assess(const struct readiness_rules *rules,
		     const struct readiness_input *in,
		     struct readiness_result *out)
{
	struct readiness_window w = {0};
	struct readiness_text t = {.out = out};
	bool complete, enough, spam_high, spam_risk, bounce_high, inbox_low,
	    inbox_risk;
	char lim[96];

	if (rules == NULL || in == NULL || out == NULL ||
	    (in->days == NULL && in->n_days > 0))
		return -1;
	memset(out, 0, sizeof(*out));
	readiness_sum(rules, in, out, &w);

	complete = readiness_ramp_complete(in);
	enough = out->measured >= rules->min_measured;
	spam_high = out->measured > 0 &&
		    out->spam_share > rules->max_spam_share + READINESS_EPSILON;
	spam_risk = spam_high && out->measured >= rules->min_measured_risk;
	bounce_high = bounces_high(rules, out);
	inbox_low =
	    out->inbox_share < rules->min_inbox_share - READINESS_EPSILON;
	inbox_risk =
	    out->measured >= rules->min_measured_risk &&
	    out->inbox_share < rules->risk_inbox_share - READINESS_EPSILON;

	/* a risk sign outranks ready: cold mail would make it worse */
	if (in->paused)
		out->verdict = READINESS_PAUSED;
	else if (spam_risk || bounce_high || w.auth_failed || inbox_risk)
		out->verdict = READINESS_AT_RISK;
	else if (complete && enough && !inbox_low && !spam_high &&
		 !in->checks_failed)
		out->verdict = READINESS_READY;
	else
		out->verdict = READINESS_WARMING;
	out->score = readiness_score(rules, in, out, &w);
	out->cold_per_day = readiness_cold(rules, in, out);

	/* the reasons behind the verdict, then the rest of the picture */
	switch (out->verdict) {
	case READINESS_PAUSED:
		say_paused(&t, in->reason);
		break;
	case READINESS_AT_RISK:
		say_auth(&t, &w);
		if (bounce_high) {
			bar_text(lim, sizeof(lim), rules->max_bounce_share,
				 "under ", " is required");
			say_bounce(&t, &w, rules->max_bounce_share, lim);
		}
		if (spam_risk) {
			bar_text(lim, sizeof(lim), rules->max_spam_share,
				 "at most ", " is allowed");
			say_spam(&t, &w, rules->max_spam_share, lim);
		}
		if (inbox_risk) {
			bar_text(lim, sizeof(lim), rules->risk_inbox_share,
				 "under ", " is at risk");
			say_inbox(&t, &w, rules->risk_inbox_share, lim);
		}
		break;
	case READINESS_WARMING:
		if (!complete)
			say_ramp(&t, in);
		if (!enough && out->measured == 0)
			say(&t,
			    "No messages measured in %s; %u %s needed to "
			    "judge.",
			    w.span, rules->min_measured,
			    plural(rules->min_measured, "is", "are"));
		else if (!enough)
			say(&t,
			    "Only %u %s measured in %s; %u %s needed to judge.",
			    out->measured,
			    plural(out->measured, "message", "messages"),
			    w.span, rules->min_measured,
			    plural(rules->min_measured, "is", "are"));
		say_checks(&t, in);
		if (enough && inbox_low) {
			bar_text(lim, sizeof(lim), rules->min_inbox_share,
				 "at least ", " is needed");
			say_inbox(&t, &w, rules->min_inbox_share, lim);
		}
		if (spam_high) {
			bar_text(lim, sizeof(lim), rules->max_spam_share,
				 "at most ", " is allowed");
			say_spam(&t, &w, rules->max_spam_share, lim);
		}
		break;
	case READINESS_READY:
		say(&t, "Ready for up to %u cold %s a day.", out->cold_per_day,
		    plural(out->cold_per_day, "email", "emails"));
		break;
	}
	say_inbox(&t, &w, 0, NULL);
	say_ramp(&t, in);
	say_spam(&t, &w, 0, NULL);
	say_bounce(&t, &w, 0, NULL);
	say_auth(&t, &w);
	say_checks(&t, in);
	if (out->verdict == READINESS_WARMING && out->cold_per_day > 0)
		say(&t, "Up to %u cold %s a day for now.", out->cold_per_day,
		    plural(out->cold_per_day, "email", "emails"));
	return 0;
}

void readiness_rollup_add(struct readiness_rollup *r,
			  const struct readiness_result *res)
{
	if (r == NULL || res == NULL)
		return;
	r->inboxes++;
	if ((unsigned)res->verdict <
	    sizeof(r->by_verdict) / sizeof(*r->by_verdict))
		r->by_verdict[res->verdict]++;
	r->measured += res->measured;
	r->inbox += res->inbox;
	r->spam += res->spam;
	r->cold_per_day += res->cold_per_day;
	r->score_sum += res->score;
}

void readiness_rollup_finish(struct readiness_rollup *r)
{
	if (r == NULL)
		return;
	r->inbox_share = r->measured > 0 ? (double)r->inbox / r->measured : 0;
	r->score = 0;
	if (r->inboxes > 0) {
		/* half up; scores are 0-100, so the sum is never negative */
		int64_t n = r->inboxes;

		r->score = (int)((2 * r->score_sum + n) / (2 * n));
	}
}
