// SPDX-License-Identifier: MIT
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "hearth/clock.h"
#include "hearth/readiness.h"
#include "test.h"

#define MAX_DAYS 64

/* One inbox's history being built, and its assessment. */
struct hist {
	struct readiness_rules rules;
	struct readiness_input in;
	struct readiness_day days[MAX_DAYS];
	struct readiness_result res;
};

static int64_t day_of(const char *text)
{
	int64_t d = 0;

	if (clock_day_parse(text, &d) < 0)
		abort();
	return d;
}

static void hist_init(struct hist *h, unsigned step, unsigned ramp_days)
{
	memset(h, 0, sizeof(*h));
	readiness_rules_default(&h->rules);
	h->in.ramp_days = ramp_days;
	h->in.step = step;
	h->in.today = day_of("2026-12-11");
	h->in.days = h->days;
}

static struct readiness_day *hist_day(struct hist *h, int64_t day)
{
	struct readiness_day *d;

	if (h->in.n_days >= MAX_DAYS)
		abort();
	d = &h->days[h->in.n_days++];
	memset(d, 0, sizeof(*d));
	d->day = day;
	return d;
}

/*
 * The last n days up to today, oldest first, with the totals spread over
 * them (the remainders on the last day).
 */
static void hist_spread(struct hist *h, unsigned n, unsigned inbox,
			unsigned spam, unsigned other, unsigned missing,
			unsigned sent, unsigned bounced)
{
	for (unsigned i = 0; i < n; i++) {
		struct readiness_day *d =
		    hist_day(h, h->in.today - (int64_t)(n - 1 - i));
		bool last = i == n - 1;

		d->inbox = inbox / n + (last ? inbox % n : 0);
		d->spam = spam / n + (last ? spam % n : 0);
		d->other = other / n + (last ? other % n : 0);
		d->missing = missing / n + (last ? missing % n : 0);
		d->sent = sent / n + (last ? sent % n : 0);
		d->bounced = bounced / n + (last ? bounced % n : 0);
		d->planned = d->sent;
		d->volume = d->sent;
		d->step = h->in.step;
	}
}

/* The healthy inbox: a complete ramp, 50 measured at 96%, no problems. */
static void hist_healthy(struct hist *h)
{
	hist_init(h, 21, 21);
	hist_spread(h, 7, 48, 0, 2, 0, 50, 0);
}

static int assess(struct hist *h)
{
	return readiness_assess(&h->rules, &h->in, &h->res);
}

static bool has_reason(const struct readiness_result *r, const char *want)
{
	for (size_t i = 0; i < r->n_reasons; i++) {
		if (strcmp(r->reasons[i], want) == 0)
			return true;
	}
	fprintf(stderr, "  no reason \"%s\" among:\n", want);
	for (size_t i = 0; i < r->n_reasons; i++)
		fprintf(stderr, "    %s\n", r->reasons[i]);
	return false;
}

static bool first_reason(const struct readiness_result *r, const char *want)
{
	if (r->n_reasons > 0 && strcmp(r->reasons[0], want) == 0)
		return true;
	fprintf(stderr, "  first reason \"%s\", wanted \"%s\"\n",
		r->n_reasons > 0 ? r->reasons[0] : "(none)", want);
	return false;
}

static void test_defaults_and_names(void)
{
	struct readiness_rules r;

	test_begin("readiness: default rule and verdict names");
	readiness_rules_default(&r);
	test_assert(r.window_days == 7);
	test_assert(r.min_inbox_share == 0.90);
	test_assert(r.min_measured == 20);
	test_assert(r.max_spam_share == 0.05);
	test_assert(r.max_bounce_share == 0.03);
	test_assert(r.auth_clear_days == 3);
	test_assert(r.risk_inbox_share == 0.70);
	test_assert(r.min_measured_risk == 10);
	test_assert(r.cold_min == 30 && r.cold_max == 50);
	readiness_rules_default(NULL);
	test_assert(strcmp(readiness_verdict_name(READINESS_READY), "ready") ==
		    0);
	test_assert(
	    strcmp(readiness_verdict_name(READINESS_WARMING), "warming") == 0);
	test_assert(
	    strcmp(readiness_verdict_name(READINESS_AT_RISK), "at risk") == 0);
	test_assert(
	    strcmp(readiness_verdict_name(READINESS_PAUSED), "paused") == 0);
	test_assert(strcmp(readiness_verdict_name((enum readiness_verdict)9),
			   "unknown") == 0);
	test_end();
}

static void test_null(void)
{
	struct hist h;

	test_begin("readiness: NULL arguments");
	hist_healthy(&h);
	test_assert(readiness_assess(NULL, &h.in, &h.res) == -1);
	test_assert(readiness_assess(&h.rules, NULL, &h.res) == -1);
	test_assert(readiness_assess(&h.rules, &h.in, NULL) == -1);
	h.in.days = NULL;
	test_assert(assess(&h) == -1);
	h.in.n_days = 0;
	test_assert(assess(&h) == 0);
	readiness_rollup_add(NULL, &h.res);
	readiness_rollup_finish(NULL);
	test_end();
}

static void test_ready(void)
{
	struct hist h;

	test_begin("readiness: a complete ramp at 96% is ready");
	hist_healthy(&h);
	test_assert(assess(&h) == 0);
	test_assert(h.res.verdict == READINESS_READY);
	/* 40 * 0.92 + 20 + 15 + 10 + 10 + 5 = 96.8 */
	test_assert(h.res.score == 97);
	test_assert(h.res.score >= 90);
	/* 30 + 20 * (0.96 - 0.90) / 0.10 = 42 */
	test_assert(h.res.cold_per_day == 42);
	test_assert(h.res.measured == 50 && h.res.inbox == 48 &&
		    h.res.other == 2 && h.res.spam == 0 && h.res.missing == 0 &&
		    h.res.sent == 50 && h.res.bounced == 0);
	test_assert(h.res.inbox_share == 0.96);
	test_assert(h.res.spam_share == 0 && h.res.bounce_share == 0);
	test_assert(first_reason(&h.res, "Ready for up to 42 cold emails a "
					 "day."));
	test_assert(has_reason(&h.res, "Inbox placement 96% over the last 7 "
				       "days (48 of 50 measured)."));
	test_assert(has_reason(&h.res, "The ramp is complete (21 days)."));

	/* the cold volume runs from cold_min at 90% to cold_max at 100% */
	hist_init(&h, 21, 21);
	hist_spread(&h, 7, 45, 0, 5, 0, 50, 0);
	test_assert(assess(&h) == 0 && h.res.verdict == READINESS_READY);
	test_assert(h.res.cold_per_day == 30);
	hist_init(&h, 21, 21);
	hist_spread(&h, 7, 50, 0, 0, 0, 50, 0);
	test_assert(assess(&h) == 0 && h.res.verdict == READINESS_READY);
	test_assert(h.res.cold_per_day == 50 && h.res.score == 100);
	/* and follows the rules it is given */
	h.rules.cold_min = 10;
	h.rules.cold_max = 12;
	test_assert(assess(&h) == 0 && h.res.cold_per_day == 12);
	h.rules.min_inbox_share = 1.0;
	test_assert(assess(&h) == 0 && h.res.verdict == READINESS_READY &&
		    h.res.cold_per_day == 12);
	test_end();
}

static void test_ramp(void)
{
	struct hist h;

	test_begin("readiness: a ramp still running is warming");
	hist_healthy(&h);
	h.in.step = 12;
	test_assert(assess(&h) == 0);
	test_assert(h.res.verdict == READINESS_WARMING);
	test_assert(first_reason(&h.res, "The ramp is at day 13 of 21."));
	/* past half the ramp: a trickle */
	test_assert(h.res.cold_per_day == 5);
	test_assert(has_reason(&h.res, "Up to 5 cold emails a day for now."));
	/* 40 * 0.92 + 20 * 13 / 21 + 15 + 10 + 10 + 5 = 89.2 */
	test_assert(h.res.score == 89);
	/* under half: none */
	h.in.step = 10;
	test_assert(assess(&h) == 0 && h.res.verdict == READINESS_WARMING);
	test_assert(h.res.cold_per_day == 0);
	h.in.step = 19;
	test_assert(assess(&h) == 0 && h.res.verdict == READINESS_WARMING);
	h.in.step = 20; /* its last day reached: complete */
	test_assert(assess(&h) == 0 && h.res.verdict == READINESS_READY);
	h.in.step = 22; /* past the end is complete */
	test_assert(assess(&h) == 0 && h.res.verdict == READINESS_READY);
	test_end();
}

static void test_measured(void)
{
	struct hist h;

	test_begin("readiness: 19 measured is too few, 20 is enough");
	hist_init(&h, 21, 21);
	hist_spread(&h, 7, 19, 0, 0, 0, 19, 0);
	test_assert(assess(&h) == 0);
	test_assert(h.res.verdict == READINESS_WARMING);
	test_assert(first_reason(&h.res, "Only 19 messages measured in the "
					 "last 7 days; 20 are needed to "
					 "judge."));
	test_assert(h.res.cold_per_day == 5);
	/* 40 + 20 + 15 * 19 / 20 + 10 + 10 + 5 = 99.25 */
	test_assert(h.res.score == 99);
	hist_init(&h, 21, 21);
	hist_spread(&h, 7, 20, 0, 0, 0, 20, 0);
	test_assert(assess(&h) == 0);
	test_assert(h.res.verdict == READINESS_READY);
	test_assert(h.res.score == 100);

	/* the example sentence */
	hist_init(&h, 21, 21);
	hist_spread(&h, 2, 8, 0, 0, 0, 8, 0);
	test_assert(assess(&h) == 0 && h.res.verdict == READINESS_WARMING);
	test_assert(first_reason(&h.res, "Only 8 messages measured in the "
					 "last 7 days; 20 are needed to "
					 "judge."));
	hist_init(&h, 21, 21);
	hist_spread(&h, 1, 1, 0, 0, 0, 1, 0);
	test_assert(assess(&h) == 0);
	test_assert(first_reason(&h.res, "Only 1 message measured in the last "
					 "7 days; 20 are needed to judge."));
	test_end();
}

static void test_spam(void)
{
	struct hist h;

	test_begin("readiness: spam 6% is at risk, 5% is not");
	hist_init(&h, 21, 21);
	hist_spread(&h, 7, 94, 6, 0, 0, 100, 0);
	test_assert(assess(&h) == 0);
	test_assert(h.res.verdict == READINESS_AT_RISK);
	test_assert(h.res.cold_per_day == 0);
	test_assert(h.res.spam_share == 0.06);
	test_assert(first_reason(&h.res, "6 of 100 messages (6%) landed in "
					 "spam in the last 7 days; at most 5% "
					 "is allowed."));
	hist_init(&h, 21, 21);
	hist_spread(&h, 7, 95, 5, 0, 0, 100, 0);
	test_assert(assess(&h) == 0);
	test_assert(h.res.verdict == READINESS_READY);
	test_assert(has_reason(&h.res, "5 of 100 messages (5%) landed in spam "
				       "in the last 7 days."));
	/* spam in the last 3 days costs the score 10 points */
	test_assert(h.res.score == 86);

	/* the example sentence */
	hist_init(&h, 21, 21);
	hist_spread(&h, 7, 37, 3, 0, 0, 40, 0);
	test_assert(assess(&h) == 0 && h.res.verdict == READINESS_AT_RISK);
	test_assert(first_reason(&h.res, "3 of 40 messages (7.5%) landed in "
					 "spam in the last 7 days; at most 5% "
					 "is allowed."));
	/* spam only before the last 3 days keeps those 10 points */
	hist_init(&h, 21, 21);
	hist_day(&h, h.in.today - 5)->inbox = 25;
	hist_day(&h, h.in.today - 4)->spam = 1;
	hist_day(&h, h.in.today - 2)->inbox = 24;
	h.days[0].sent = 50;
	test_assert(assess(&h) == 0 && h.res.verdict == READINESS_READY);
	/* 40 * 0.96 + 20 + 15 + 10 + 10 + 5 = 98.4 */
	test_assert(h.res.score == 98);
	/* too few to call it a risk: a ready blocker only */
	hist_init(&h, 21, 21);
	hist_spread(&h, 7, 8, 1, 0, 0, 9, 0);
	test_assert(assess(&h) == 0 && h.res.verdict == READINESS_WARMING);
	test_assert(has_reason(&h.res, "1 of 9 messages (11.1%) landed in "
				       "spam in the last 7 days; at most 5% is "
				       "allowed."));
	test_end();
}

static void test_bounces(void)
{
	struct hist h;

	test_begin("readiness: bounces 3% are at risk, 2.9% are not");
	hist_init(&h, 21, 21);
	hist_spread(&h, 7, 48, 0, 2, 0, 100, 3);
	test_assert(assess(&h) == 0);
	test_assert(h.res.verdict == READINESS_AT_RISK);
	test_assert(h.res.bounce_share == 0.03);
	test_assert(first_reason(&h.res, "Bounces 3.0% of sent in the last 7 "
					 "days (3 of 100); under 3% is "
					 "required."));
	test_assert(h.res.cold_per_day == 0);
	/* 40 * 0.92 + 20 + 15 + 10 + 0 + 5 = 86.8 */
	test_assert(h.res.score == 87);
	hist_init(&h, 21, 21);
	hist_spread(&h, 7, 48, 0, 2, 0, 1000, 29);
	test_assert(assess(&h) == 0);
	test_assert(h.res.verdict == READINESS_READY);
	test_assert(has_reason(&h.res, "Bounces 2.9% of sent in the last 7 "
				       "days (29 of 1000)."));
	test_assert(h.res.score == 97);
	/* the example */
	hist_init(&h, 21, 21);
	hist_spread(&h, 7, 48, 0, 2, 0, 50, 2);
	test_assert(assess(&h) == 0 && h.res.verdict == READINESS_AT_RISK);
	test_assert(first_reason(&h.res, "Bounces 4.0% of sent in the last 7 "
					 "days (2 of 50); under 3% is "
					 "required."));
	/* a bar of 0%: one bounce is too many, none is not */
	h.rules.max_bounce_share = 0;
	test_assert(assess(&h) == 0 && h.res.verdict == READINESS_AT_RISK);
	test_assert(first_reason(&h.res, "Bounces 4.0% of sent in the last 7 "
					 "days (2 of 50); none is "
					 "allowed."));
	hist_healthy(&h);
	h.rules.max_bounce_share = 0;
	test_assert(assess(&h) == 0 && h.res.verdict == READINESS_READY);
	test_assert(h.res.score == 97);
	test_end();
}

static void test_auth(void)
{
	struct hist h;

	test_begin("readiness: a refused login 2 days ago is a risk, 3 not");
	hist_healthy(&h);
	h.days[4].auth_failures = 1; /* today - 2 */
	test_assert(assess(&h) == 0);
	test_assert(h.res.verdict == READINESS_AT_RISK);
	test_assert(first_reason(&h.res, "The provider refused the login on "
					 "2026-12-09."));
	test_assert(h.res.cold_per_day == 0);
	test_assert(h.res.score == 92);
	/* the latest of several */
	h.days[6].auth_failures = 2;
	test_assert(assess(&h) == 0);
	test_assert(first_reason(&h.res, "The provider refused the login on "
					 "2026-12-11."));
	hist_healthy(&h);
	h.days[3].auth_failures = 1; /* today - 3 */
	test_assert(assess(&h) == 0);
	test_assert(h.res.verdict == READINESS_READY);
	test_assert(h.res.score == 97);
	/* auth_clear_days = 0 looks at no day */
	hist_healthy(&h);
	h.days[6].auth_failures = 1;
	h.rules.auth_clear_days = 0;
	test_assert(assess(&h) == 0 && h.res.verdict == READINESS_READY);
	test_end();
}

static void test_paused(void)
{
	struct hist h;
	char longer[400];

	test_begin("readiness: a paused inbox is paused, its reason first");
	hist_healthy(&h);
	h.in.paused = true;
	h.in.reason = "the provider refused the login; run `hearth inbox "
		      "resume ADDRESS`";
	test_assert(assess(&h) == 0);
	test_assert(h.res.verdict == READINESS_PAUSED);
	test_assert(first_reason(&h.res, "Paused: the provider refused the "
					 "login; run `hearth inbox resume "
					 "ADDRESS`."));
	test_assert(h.res.score <= 20);
	test_assert(h.res.cold_per_day == 0);
	test_assert(has_reason(&h.res, "Inbox placement 96% over the last 7 "
				       "days (48 of 50 measured)."));
	/* whatever its numbers */
	hist_init(&h, 3, 21);
	hist_spread(&h, 7, 10, 30, 0, 10, 50, 10);
	h.days[6].auth_failures = 1;
	h.in.paused = true;
	h.in.reason = "bounces above 3%.";
	test_assert(assess(&h) == 0);
	test_assert(h.res.verdict == READINESS_PAUSED);
	test_assert(first_reason(&h.res, "Paused: bounces above 3%."));
	test_assert(h.res.score <= 20 && h.res.cold_per_day == 0);
	/* no reason recorded */
	h.in.reason = NULL;
	test_assert(assess(&h) == 0 && first_reason(&h.res, "Paused."));
	/* a long reason is cut, and so are the reasons */
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	memcpy(longer + READINESS_REASON_MAX - 12, "\xc3\xa9\xc3\xa9", 4);
	h.in.reason = longer;
	test_assert(assess(&h) == 0);
	test_assert(strlen(h.res.reasons[0]) == READINESS_REASON_MAX - 2);
	/* not ending in half a character */
	test_assert((unsigned char)h.res.reasons[0][READINESS_REASON_MAX - 3] ==
		    0xa9);
	test_assert(h.res.n_reasons <= READINESS_MAX_REASONS);
	test_end();
}

static void test_missing(void)
{
	struct hist h;

	test_begin("readiness: missing messages never count as inbox");
	hist_init(&h, 21, 21);
	hist_spread(&h, 7, 40, 0, 0, 10, 50, 0);
	test_assert(assess(&h) == 0);
	test_assert(h.res.measured == 50 && h.res.missing == 10);
	test_assert(h.res.inbox_share == 0.80);
	test_assert(h.res.verdict == READINESS_WARMING);
	test_assert(first_reason(&h.res, "Inbox placement 80% over the last 7 "
					 "days (40 of 50 measured); at least "
					 "90% is needed."));
	test_assert(h.res.n_reasons >= 2 &&
		    strcmp(h.res.reasons[1], "10 messages were not found in "
					     "the mailbox.") == 0);
	/* a share is never shown rounded up to the bar it misses */
	hist_init(&h, 21, 21);
	hist_spread(&h, 7, 899, 0, 0, 101, 1000, 0);
	test_assert(assess(&h) == 0 && h.res.verdict == READINESS_WARMING);
	test_assert(first_reason(&h.res, "Inbox placement 89.9% over the last "
					 "7 days (899 of 1000 measured); at "
					 "least 90% is needed."));
	/* ready with a few missing, which are still said */
	hist_init(&h, 21, 21);
	hist_spread(&h, 7, 46, 0, 2, 2, 50, 0);
	test_assert(assess(&h) == 0 && h.res.verdict == READINESS_READY);
	test_assert(has_reason(&h.res, "2 messages were not found in the "
				       "mailbox."));
	hist_init(&h, 21, 21);
	hist_spread(&h, 7, 46, 0, 3, 1, 50, 0);
	test_assert(assess(&h) == 0);
	test_assert(has_reason(&h.res, "1 message was not found in the "
				       "mailbox."));
	/* far below: at risk */
	hist_init(&h, 21, 21);
	hist_spread(&h, 7, 30, 0, 0, 20, 50, 0);
	test_assert(assess(&h) == 0 && h.res.verdict == READINESS_AT_RISK);
	test_assert(first_reason(&h.res, "Inbox placement 60% over the last 7 "
					 "days (30 of 50 measured); under 70% "
					 "is at risk."));
	test_end();
}

static void test_window(void)
{
	struct hist h;

	test_begin("readiness: days outside the window do not count");
	hist_init(&h, 21, 21);
	/* terrible days before the window... */
	{
		struct readiness_day *d = hist_day(&h, h.in.today - 30);

		d->spam = 40;
		d->sent = 40;
		d->bounced = 20;
		d->auth_failures = 3;
		d = hist_day(&h, h.in.today - 7);
		d->spam = 10;
		d->missing = 10;
		d->sent = 20;
		d->bounced = 5;
		d->auth_failures = 1;
	}
	/* ...a gap, a good window... */
	hist_spread(&h, 5, 48, 0, 2, 0, 50, 0);
	/* ...and a day after today */
	hist_day(&h, h.in.today + 1)->spam = 50;
	test_assert(assess(&h) == 0);
	test_assert(h.res.verdict == READINESS_READY);
	test_assert(h.res.measured == 50 && h.res.spam == 0 &&
		    h.res.sent == 50 && h.res.bounced == 0);
	test_assert(h.res.score == 97);
	/* a wider window takes the day 7 back in */
	h.rules.window_days = 8;
	test_assert(assess(&h) == 0);
	test_assert(h.res.measured == 70 && h.res.spam == 10);
	test_assert(h.res.verdict == READINESS_AT_RISK);
	test_assert(has_reason(&h.res, "Inbox placement 68.6% over the last 8 "
				       "days (48 of 70 measured); under 70% is "
				       "at risk."));
	/* a narrow one: fewer measured */
	h.rules.window_days = 1;
	test_assert(assess(&h) == 0);
	test_assert(h.res.measured == 14);
	test_assert(first_reason(&h.res, "Only 14 messages measured in the "
					 "last day; 20 are needed to "
					 "judge."));
	test_end();
}

static void test_no_days(void)
{
	struct hist h;

	test_begin("readiness: no days at all is warming, scored on the ramp");
	hist_init(&h, 12, 21);
	test_assert(assess(&h) == 0);
	test_assert(h.res.verdict == READINESS_WARMING);
	test_assert(h.res.score == 12); /* 20 * 13 / 21 */
	test_assert(h.res.measured == 0 && h.res.inbox_share == 0 &&
		    h.res.spam_share == 0 && h.res.bounce_share == 0);
	test_assert(first_reason(&h.res, "The ramp is at day 13 of 21."));
	test_assert(has_reason(&h.res, "No messages measured in the last 7 "
				       "days; 20 are needed to judge."));
	hist_init(&h, 0, 21);
	test_assert(assess(&h) == 0 && h.res.score == 1 &&
		    h.res.cold_per_day == 0); /* 20 * 1 / 21 */
	hist_init(&h, 21, 21);
	test_assert(assess(&h) == 0);
	test_assert(h.res.verdict == READINESS_WARMING && h.res.score == 20);
	test_assert(first_reason(&h.res, "No messages measured in the last 7 "
					 "days; 20 are needed to judge."));
	test_end();
}

static void test_checks(void)
{
	struct hist h;

	test_begin("readiness: a failing check holds ready at warming");
	hist_healthy(&h);
	h.in.checks_failed = true;
	h.in.checks_reason = "SPF does not list the sending server";
	test_assert(assess(&h) == 0);
	test_assert(h.res.verdict == READINESS_WARMING);
	test_assert(first_reason(&h.res, "A deliverability check fails: SPF "
					 "does not list the sending server."));
	test_assert(h.res.cold_per_day == 0);
	test_assert(h.res.score == 97);
	h.in.checks_reason = NULL;
	test_assert(assess(&h) == 0);
	test_assert(first_reason(&h.res, "A deliverability check fails."));
	/* a risk still outranks it; the check is still told */
	h.days[6].auth_failures = 1;
	test_assert(assess(&h) == 0);
	test_assert(h.res.verdict == READINESS_AT_RISK);
	test_assert(has_reason(&h.res, "A deliverability check fails."));
	test_end();
}

static void test_rollup(void)
{
	struct readiness_rollup r = {0};
	struct hist h;
	unsigned measured = 0, inbox = 0, spam = 0, cold = 0;
	int score_sum = 0;

	test_begin("readiness: roll-ups add up");
	readiness_rollup_finish(&r);
	test_assert(r.inboxes == 0 && r.score == 0 && r.inbox_share == 0);

	hist_healthy(&h); /* ready, 97, 42 cold, 48 of 50 */
	test_assert(assess(&h) == 0 && h.res.verdict == READINESS_READY);
	readiness_rollup_add(&r, &h.res);
	measured += h.res.measured;
	inbox += h.res.inbox;
	cold += h.res.cold_per_day;
	score_sum += h.res.score;

	hist_init(&h, 12, 21); /* warming, 12, 5 cold, nothing measured */
	test_assert(assess(&h) == 0 && h.res.verdict == READINESS_WARMING);
	readiness_rollup_add(&r, &h.res);
	score_sum += h.res.score;
	cold += h.res.cold_per_day;

	hist_init(&h, 21, 21); /* at risk: 6 of 100 in spam */
	hist_spread(&h, 7, 94, 6, 0, 0, 100, 0);
	test_assert(assess(&h) == 0 && h.res.verdict == READINESS_AT_RISK);
	readiness_rollup_add(&r, &h.res);
	measured += h.res.measured;
	inbox += h.res.inbox;
	spam += h.res.spam;
	score_sum += h.res.score;

	hist_healthy(&h); /* paused */
	h.in.paused = true;
	test_assert(assess(&h) == 0 && h.res.verdict == READINESS_PAUSED);
	readiness_rollup_add(&r, &h.res);
	measured += h.res.measured;
	inbox += h.res.inbox;
	score_sum += h.res.score;

	hist_healthy(&h); /* a second ready one */
	test_assert(assess(&h) == 0 && h.res.verdict == READINESS_READY);
	readiness_rollup_add(&r, &h.res);
	measured += h.res.measured;
	inbox += h.res.inbox;
	cold += h.res.cold_per_day;
	score_sum += h.res.score;

	readiness_rollup_finish(&r);
	test_assert(r.inboxes == 5);
	test_assert(r.by_verdict[READINESS_READY] == 2);
	test_assert(r.by_verdict[READINESS_WARMING] == 1);
	test_assert(r.by_verdict[READINESS_AT_RISK] == 1);
	test_assert(r.by_verdict[READINESS_PAUSED] == 1);
	test_assert(r.measured == measured && measured == 250);
	test_assert(r.inbox == inbox && inbox == 238);
	test_assert(r.spam == spam && spam == 6);
	/* measured-weighted, not the mean of the shares */
	test_assert(r.inbox_share == 238.0 / 250.0);
	test_assert(r.cold_per_day == cold && cold == 89);
	test_assert(r.score_sum == score_sum);
	/* 97 + 11 + 85 + 20 + 97 = 310: 62 */
	test_assert(score_sum == 311 && r.score == 62);
	/* rounded half up: (97 + 12) / 2 = 54.5 -> 55 */
	memset(&r, 0, sizeof(r));
	h.res.score = 97;
	readiness_rollup_add(&r, &h.res);
	h.res.score = 12;
	readiness_rollup_add(&r, &h.res);
	readiness_rollup_finish(&r);
	test_assert(r.score == 55);
	test_end();
}

int main(void)
{
	test_defaults_and_names();
	test_null();
	test_ready();
	test_ramp();
	test_measured();
	test_spam();
	test_bounces();
	test_auth();
	test_paused();
	test_missing();
	test_window();
	test_no_days();
	test_checks();
	test_rollup();
	return test_exit();
}
