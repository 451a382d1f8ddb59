// SPDX-License-Identifier: MIT
#include <stdbool.h>
#include <string.h>

#include "hearth/ramp.h"
#include "test.h"

#define SEED  0x5eedULL
#define INBOX 42
#define WED   3

static struct ramp_profile profile(const char *name, const char *overrides)
{
	struct ramp_profile p = *ramp_profile_by_name(name);
	struct hearth_err err = {0};

	if (ramp_profile_override(&p, overrides, &err) != 0)
		fprintf(stderr, "override %s: %s\n", overrides, err.msg);
	return p;
}

static struct ramp_state state_at(unsigned step)
{
	struct ramp_state s;

	memset(&s, 0, sizeof(s));
	s.step = step;
	s.fresh_days = 3;
	return s;
}

static void test_profiles(void)
{
	const struct ramp_profile *safe = ramp_profile_by_name("safe");
	const struct ramp_profile *std = ramp_profile_by_name("standard");
	const struct ramp_profile *fast = ramp_profile_by_name("fast");

	test_begin("ramp profiles by name");
	test_assert(safe != NULL && safe->start_per_day == 3 &&
		    safe->target_per_day == 30 && safe->days == 28);
	test_assert(std != NULL && std->start_per_day == 5 &&
		    std->target_per_day == 40 && std->days == 21);
	test_assert(fast != NULL && fast->start_per_day == 8 &&
		    fast->target_per_day == 40 && fast->days == 14);
	test_assert(std->reply_rate == 0.30 && std->jitter == 0.12);
	test_assert(std->bounce_pause_threshold == 0.03);
	test_assert(ramp_profile_by_name("bogus") == NULL);
	test_assert(ramp_profile_by_name(NULL) == NULL);
	test_end();
}

static void test_curve_table(void)
{
	static const struct {
		const char *profile, *overrides;
		unsigned step, want;
	} cases[] = {
	    /* standard, linear 5 -> 40 over 21 days, maintenance 24 */
	    {"standard", NULL, 0, 5},
	    {"standard", NULL, 1, 7},
	    {"standard", NULL, 10, 23},
	    {"standard", NULL, 19, 38},
	    {"standard", NULL, 20, 40},
	    {"standard", NULL, 21, 24},
	    {"standard", NULL, 100, 24},
	    /* standard as an S-curve: slow start, same middle, same end */
	    {"standard", "shape=s-curve", 0, 5},
	    {"standard", "shape=s-curve", 1, 5},
	    {"standard", "shape=s-curve", 10, 23},
	    {"standard", "shape=s-curve", 19, 40},
	    {"standard", "shape=s-curve", 20, 40},
	    {"standard", "shape=s-curve", 21, 24},
	    /* safe, S-curve 3 -> 30 over 28 days, maintenance 18 */
	    {"safe", NULL, 0, 3},
	    {"safe", NULL, 1, 3},
	    {"safe", NULL, 13, 16},
	    {"safe", NULL, 27, 30},
	    {"safe", NULL, 28, 18},
	    /* safe as a line */
	    {"safe", "shape=linear", 1, 4},
	    {"safe", "shape=linear", 13, 16},
	    {"safe", "shape=linear", 27, 30},
	    /* fast, linear 8 -> 40 over 14 days, maintenance 24 */
	    {"fast", NULL, 0, 8},
	    {"fast", NULL, 1, 10},
	    {"fast", NULL, 7, 25},
	    {"fast", NULL, 13, 40},
	    {"fast", NULL, 14, 24},
	    {"fast", "shape=s-curve", 7, 26},
	    /* one-day ramp: target at once */
	    {"fast", "days=1", 0, 40},
	    /* maintenance never above target * 1.2 */
	    {"fast", "maintenance=100", 14, 48},
	};
	static const char *const names[] = {"safe", "standard", "fast"};
	static const char *const shapes[] = {"shape=linear", "shape=s-curve"};
	size_t i, j, k;

	test_begin("ramp curve table per profile and day");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ramp_profile p =
		    profile(cases[i].profile, cases[i].overrides);
		unsigned got = ramp_curve(&p, cases[i].step);

		if (got != cases[i].want)
			fprintf(stderr, "%s %s step %u: %u, want %u\n",
				cases[i].profile,
				cases[i].overrides ? cases[i].overrides : "",
				cases[i].step, got, cases[i].want);
		test_assert(got == cases[i].want);
	}
	for (i = 0; i < 3; i++) {
		for (j = 0; j < 2; j++) {
			struct ramp_profile p = profile(names[i], shapes[j]);

			test_assert(ramp_curve(&p, 0) == p.start_per_day);
			for (k = 1; k < p.days; k++)
				test_assert(ramp_curve(&p, (unsigned)k) >=
					    ramp_curve(&p, (unsigned)k - 1));
			test_assert(ramp_curve(&p, p.days / 2) >
				    p.start_per_day);
			test_assert(ramp_curve(&p, p.days / 2) <
				    p.target_per_day);
			test_assert(ramp_curve(&p, p.days - 1) ==
				    p.target_per_day);
			test_assert(ramp_curve(&p, p.days) ==
				    p.maintenance_per_day);
		}
	}
	test_end();
}

static void test_next_walk(void)
{
	struct ramp_profile p = profile("standard", "jitter=0");
	struct ramp_state s, t;
	unsigned v, d;

	test_begin("ramp next walks the curve and stops at maintenance");
	test_assert(ramp_next(&p, NULL, NULL, 0, SEED, INBOX, 0, WED, &s, &v) ==
		    0);
	test_assert(s.step == 0 && v == 5 && !s.paused);
	for (d = 1; d <= 25; d++) {
		struct ramp_day_outcome o = {
		    .planned = v, .sent = v, .inbox = v};

		test_assert(
		    ramp_next(&p, &s, &o, 1, SEED, INBOX, d, WED, &t, &v) == 0);
		test_assert(t.step == (d < 21 ? d : 21));
		test_assert(v == ramp_curve(&p, t.step));
		s = t;
	}
	test_assert(v == 24);
	/* invalid arguments */
	test_assert(ramp_next(&p, &s, NULL, 1, SEED, INBOX, 1, WED, &t, &v) ==
		    -1);
	test_assert(ramp_next(&p, &s, NULL, 0, SEED, INBOX, 1, 7, &t, &v) ==
		    -1);
	test_assert(ramp_next(NULL, &s, NULL, 0, SEED, INBOX, 1, 1, &t, &v) ==
		    -1);
	test_end();
}

static void test_jitter(void)
{
	struct ramp_profile p = profile("standard", "start=100,target=100");
	struct ramp_profile wild = profile("standard", "jitter=0.5");
	unsigned v, w, first = 0, distinct_inbox = 0;
	bool varies = false;
	struct ramp_state s, done = state_at(21);
	int64_t d;

	test_begin("ramp jitter bounded, deterministic, varying");
	for (d = 0; d < 200; d++) {
		test_assert(ramp_next(&p, NULL, NULL, 0, SEED, INBOX, d, WED,
				      &s, &v) == 0);
		test_assert(v >= 88 && v <= 112);
		test_assert(ramp_next(&p, NULL, NULL, 0, SEED, INBOX, d, WED,
				      &s, &w) == 0);
		test_assert(v == w);
		if (d == 0)
			first = v;
		else if (v != first)
			varies = true;
		test_assert(ramp_next(&p, NULL, NULL, 0, SEED, INBOX + 1, d,
				      WED, &s, &w) == 0);
		distinct_inbox += v != w;
		test_assert(ramp_next(&p, NULL, NULL, 0, SEED + 1, INBOX, d,
				      WED, &s, &w) == 0);
	}
	test_assert(varies);
	test_assert(distinct_inbox > 100);
	/* never above target * 1.2, even with +-50% on the target */
	done.step = 19;
	for (d = 0; d < 100; d++) {
		test_assert(ramp_next(&wild, &done, NULL, 0, SEED, INBOX, d,
				      WED, &s, &v) == 0);
		test_assert(v <= 48 && v >= 20);
	}
	test_end();
}

static void test_weekends(void)
{
	struct ramp_profile p = profile("standard", "jitter=0");
	struct ramp_profile weekdays =
	    profile("standard", "jitter=0,weekend=0");
	struct ramp_profile same = profile("standard", "jitter=0,weekend=1");
	struct ramp_state y = state_at(19), t;
	unsigned v;
	int wd;

	test_begin("ramp weekends: factor and weekdays only");
	for (wd = 0; wd < 7; wd++) {
		bool weekend = wd == 0 || wd == 6;

		test_assert(ramp_next(&p, &y, NULL, 0, SEED, INBOX, 20, wd, &t,
				      &v) == 0);
		test_assert(t.step == 20);
		test_assert(v == (weekend ? 16u : 40u));
		test_assert(ramp_next(&weekdays, &y, NULL, 0, SEED, INBOX, 20,
				      wd, &t, &v) == 0);
		test_assert(v == (weekend ? 0u : 40u));
		/* the step advances on weekends too */
		test_assert(t.step == 20);
		test_assert(ramp_next(&same, &y, NULL, 0, SEED, INBOX, 20, wd,
				      &t, &v) == 0);
		test_assert(v == 40);
	}
	test_end();
}

static void test_spam_placement(void)
{
	struct ramp_profile p = profile("standard", "jitter=0");
	struct ramp_day_outcome h[3] = {
	    {.planned = 23, .sent = 23, .inbox = 22, .spam = 1}};
	struct ramp_state s = state_at(10), t;
	static const struct {
		unsigned step, hold, cut, volume;
	} want[] = {
	    {10, 3, 2, 17}, /* 23 * 0.75 */
	    {10, 2, 1, 17}, {10, 1, 0, 23}, {11, 0, 0, 24}, {12, 0, 0, 26},
	};
	unsigned v, d;

	test_begin("ramp spam placement cuts two days and holds three");
	for (d = 0; d < sizeof(want) / sizeof(want[0]); d++) {
		test_assert(ramp_next(&p, &s, h, 3, SEED, INBOX, 11 + d, WED,
				      &t, &v) == 0);
		test_assert(!t.paused);
		test_assert(t.step == want[d].step);
		test_assert(t.hold_days == want[d].hold);
		test_assert(t.cut_days == want[d].cut);
		test_assert(v == want[d].volume);
		/* later days: clean */
		h[2] = h[1];
		h[1] = h[0];
		h[0] = (struct ramp_day_outcome){
		    .planned = v, .sent = v, .inbox = v};
		s = t;
	}
	test_end();
}

static void test_spam_share(void)
{
	struct ramp_profile p = profile("standard", "jitter=0");
	struct ramp_day_outcome h[3] = {
	    {.sent = 10, .inbox = 10},
	    {.sent = 10, .inbox = 5, .spam = 5},
	    {.sent = 10, .inbox = 10},
	};
	struct ramp_state y = state_at(10), t;
	unsigned v;

	test_begin("ramp spam share above the threshold holds");
	/* 5 of 30 placements: 16.7%, below 20% */
	test_assert(ramp_next(&p, &y, h, 3, SEED, INBOX, 11, WED, &t, &v) == 0);
	test_assert(t.step == 11 && t.hold_days == 0 && v == 24);
	/* 7 of 30: 23%, holds today only */
	h[1].inbox = 3;
	h[1].spam = 7;
	test_assert(ramp_next(&p, &y, h, 3, SEED, INBOX, 11, WED, &t, &v) == 0);
	test_assert(t.step == 10 && t.hold_days == 1 && t.cut_days == 0);
	test_assert(v == 23 && !t.paused);
	/* missing counts as a placement: 7 of 40 */
	h[2].missing = 10;
	test_assert(ramp_next(&p, &y, h, 3, SEED, INBOX, 11, WED, &t, &v) == 0);
	test_assert(t.step == 11);
	test_end();
}

static void test_bounces(void)
{
	struct ramp_profile p = profile("standard", "jitter=0");
	struct ramp_day_outcome h[4] = {
	    {.sent = 30, .inbox = 29, .bounced = 1},
	    {.sent = 30, .inbox = 29, .bounced = 1},
	    {.sent = 30, .inbox = 30},
	    /* a fourth day back does not count */
	    {.sent = 30, .inbox = 20, .bounced = 10},
	};
	struct ramp_state y = state_at(10), t;
	unsigned v;

	test_begin("ramp bounces above 3% pause with the figure");
	/* 2 of 90: 2.2% */
	test_assert(ramp_next(&p, &y, h, 4, SEED, INBOX, 11, WED, &t, &v) == 0);
	test_assert(!t.paused && t.step == 11 && v == 24);
	/* 3 of 90: 3.3% */
	h[2].bounced = 1;
	test_assert(ramp_next(&p, &y, h, 4, SEED, INBOX, 11, WED, &t, &v) == 0);
	test_assert(t.paused && t.step == 10 && v == 0);
	test_assert(strstr(t.reason, "bounces") != NULL);
	test_assert(strstr(t.reason, "3 of 90") != NULL);
	test_assert(strstr(t.reason, "3.3%") != NULL);
	test_assert(strstr(t.reason, "hearth inbox resume") != NULL);
	test_end();
}

static void test_auth_failure(void)
{
	struct ramp_profile p = profile("standard", "jitter=0");
	struct ramp_day_outcome h[1] = {{.planned = 20, .auth_failures = 1}};
	struct ramp_day_outcome quiet[1] = {{0}};
	struct ramp_state y = state_at(10), t, u;
	unsigned v;

	test_begin("ramp auth failure pauses until resumed");
	test_assert(ramp_next(&p, &y, h, 1, SEED, INBOX, 11, WED, &t, &v) == 0);
	test_assert(t.paused && t.step == 10 && v == 0);
	test_assert(strncmp(t.reason, "auth failure: ", 14) == 0);
	test_assert(strstr(t.reason, "`hearth inbox resume ADDRESS`") != NULL);
	/* stays paused on clean days, step kept */
	test_assert(ramp_next(&p, &t, quiet, 1, SEED, INBOX, 12, WED, &u, &v) ==
		    0);
	test_assert(u.paused && u.step == 10 && v == 0);
	test_assert(strcmp(u.reason, t.reason) == 0);
	test_end();
}

static void test_permanent_failures(void)
{
	struct ramp_profile p = profile("standard", "jitter=0");
	struct ramp_day_outcome h[3] = {
	    {.sent = 20, .failed_permanent = 2},
	    {.sent = 20, .failed_permanent = 1},
	    {.sent = 20, .failed_permanent = 1},
	};
	struct ramp_state y = state_at(10), t;
	unsigned v;

	test_begin("ramp permanent failures pause");
	test_assert(ramp_next(&p, &y, h, 3, SEED, INBOX, 11, WED, &t, &v) == 0);
	test_assert(!t.paused && v == 24);
	h[2].failed_permanent = 2;
	test_assert(ramp_next(&p, &y, h, 3, SEED, INBOX, 11, WED, &t, &v) == 0);
	test_assert(t.paused && v == 0);
	test_assert(strstr(t.reason, "permanent failures: 5") != NULL);
	p.permanent_failures_pause = 0;
	test_assert(ramp_next(&p, &y, h, 3, SEED, INBOX, 11, WED, &t, &v) == 0);
	test_assert(!t.paused);
	test_end();
}

static void test_resume(void)
{
	struct ramp_profile p = profile("standard", "jitter=0");
	struct ramp_day_outcome h[3] = {
	    {.sent = 20, .inbox = 15, .bounced = 5},
	    {.sent = 20, .inbox = 20},
	    {.sent = 20, .inbox = 20},
	};
	struct ramp_state y = state_at(10), paused, t;
	unsigned v;

	test_begin("ramp resume clears the pause and keeps the step");
	test_assert(
	    ramp_next(&p, &y, h, 3, SEED, INBOX, 11, WED, &paused, &v) == 0);
	test_assert(paused.paused && v == 0);
	ramp_resume(&paused);
	test_assert(!paused.paused && paused.reason[0] == '\0');
	test_assert(paused.step == 10);
	/* the paused day sent nothing; the bad days before it do not count */
	h[2] = h[1];
	h[1] = h[0];
	h[0] = (struct ramp_day_outcome){0};
	test_assert(
	    ramp_next(&p, &paused, h, 3, SEED, INBOX, 12, WED, &t, &v) == 0);
	test_assert(!t.paused && t.step == 11 && v == 24);
	test_end();
}

static void test_state_text(void)
{
	static const char *const bad[] = {
	    "",
	    "hello",
	    "step=1",
	    "step=1 hold=0 cut=0",
	    "step=x hold=0 cut=0 paused=0",
	    "step=-1 hold=0 cut=0 paused=0",
	    "step=1 hold=0 cut=0 paused=2",
	    "step=1 hold=0 cut=0 paused=0 fresh=9",
	    "step=1 hold=0 cut=0 paused=0 bogus=1",
	    "step=1 step=2 hold=0 cut=0 paused=0",
	    "step=99999 hold=0 cut=0 paused=0",
	    "step=1 hold=0 cut=0 paused=0=0",
	    "step=1 hold=0 cut= paused=0",
	};
	struct ramp_state s = state_at(7), r;
	struct hearth_err err = {0};
	char text[RAMP_STATE_TEXT_MAX], longer[400];
	size_t i;

	test_begin("ramp state format and parse");
	s.hold_days = 2;
	s.cut_days = 1;
	test_assert(ramp_state_format(&s, text, sizeof(text)) == 0);
	test_assert(strcmp(text, "step=7 hold=2 cut=1 paused=0 fresh=3") == 0);
	test_assert(ramp_state_parse(text, &r, &err) == 0);
	test_assert(memcmp(&r, &s, sizeof(r)) == 0);
	s.paused = true;
	snprintf(s.reason, sizeof(s.reason), "bounces: 3 of 90 (3.3%%)\nx");
	test_assert(ramp_state_format(&s, text, sizeof(text)) == 0);
	test_assert(strstr(text, "paused=1") != NULL);
	test_assert(strstr(text, " reason=bounces: 3 of 90 (3.3%) x") != NULL);
	test_assert(ramp_state_parse(text, &r, &err) == 0);
	test_assert(r.paused && r.step == 7 &&
		    strcmp(r.reason, "bounces: 3 of 90 (3.3%) x") == 0);
	test_assert(ramp_state_format(&s, text, 10) == -1);
	/* fresh is optional */
	test_assert(
	    ramp_state_parse("step=3 hold=0 cut=0 paused=0", &r, &err) == 0);
	test_assert(r.step == 3 && r.fresh_days == 3);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		test_assert(ramp_state_parse(bad[i], &r, &err) == -1);
		test_assert(err.fail == HEARTH_FAIL_PERMANENT &&
			    err.msg[0] != '\0');
		test_assert(r.step == 0 && !r.paused);
	}
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	memcpy(longer, "step=1 hold=0 cut=0 paused=1 reason=", 36);
	test_assert(ramp_state_parse(longer, &r, &err) == -1);
	test_assert(ramp_state_parse(NULL, &r, &err) == -1);
	test_end();
}

static void test_overrides(void)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
	    {"days=abc", "ramp override days=abc: days must be a whole number "
			 "from 1 to 365"},
	    {"days=0", "days must be a whole number from 1 to 365"},
	    {"days=3.5", "days must be"},
	    {"shape=round", "shape must be linear or s-curve"},
	    {"colour=blue", "colour: unknown key"},
	    {"start=50", "start=50 is above target=40"},
	    {"jitter=2", "jitter must be a share from 0 to 0.5"},
	    {"weekend=-1", "weekend must be"},
	    {"reply=nan", "reply must be"},
	    {"days", "expected key=value"},
	    {"target=", "target must be"},
	    {"days=25,,bogus=1", "bogus: unknown key"},
	};
	struct ramp_profile p = *ramp_profile_by_name("standard"), q;
	struct hearth_err err = {0};
	size_t i;

	test_begin("ramp profile overrides");
	test_assert(ramp_profile_override(
			&p,
			"start=4,target=35,days=25,shape=linear,weekend=0.5,"
			"jitter=0.1,reply=0.25,maintenance=20",
			&err) == 0);
	test_assert(p.start_per_day == 4 && p.target_per_day == 35 &&
		    p.days == 25 && p.shape == RAMP_LINEAR);
	test_assert(p.weekend_factor == 0.5 && p.jitter == 0.1 &&
		    p.reply_rate == 0.25 && p.maintenance_per_day == 20);
	test_assert(strcmp(p.name, "standard") == 0);
	/* spaces, an empty string, NULL */
	test_assert(ramp_profile_override(&p, " days = 20 , shape=s-curve ",
					  &err) == 0);
	test_assert(p.days == 20 && p.shape == RAMP_S_CURVE);
	q = p;
	test_assert(ramp_profile_override(&p, "", &err) == 0);
	test_assert(ramp_profile_override(&p, NULL, &err) == 0);
	test_assert(memcmp(&p, &q, sizeof(p)) == 0);
	/* a new target brings maintenance along unless it is given */
	p = *ramp_profile_by_name("standard");
	test_assert(ramp_profile_override(&p, "target=50", &err) == 0);
	test_assert(p.maintenance_per_day == 30);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = *ramp_profile_by_name("standard");
		q = p;
		memset(&err, 0, sizeof(err));
		test_assert(ramp_profile_override(&p, bad[i].text, &err) == -1);
		test_assert(err.fail == HEARTH_FAIL_PERMANENT);
		if (strstr(err.msg, bad[i].msg) == NULL)
			fprintf(stderr, "%s: got \"%s\"\n", bad[i].text,
				err.msg);
		test_assert(strstr(err.msg, bad[i].msg) != NULL);
		test_assert(memcmp(&p, &q, sizeof(p)) == 0);
	}
	test_end();
}

static void test_replies(void)
{
	struct ramp_profile p = *ramp_profile_by_name("standard");
	unsigned total = 0, r;
	int64_t d;

	test_begin("ramp replies: rate with seeded rounding");
	test_assert(ramp_replies(&p, 0, SEED, INBOX, 1) == 0);
	test_assert(ramp_replies(&p, 10, SEED, INBOX, 1) == 3);
	for (d = 0; d < 1000; d++) {
		r = ramp_replies(&p, 7, SEED, INBOX, d);
		test_assert(r == 2 || r == 3);
		test_assert(r == ramp_replies(&p, 7, SEED, INBOX, d));
		total += r;
	}
	/* 2.1 on average */
	test_assert(total > 2000 && total < 2200);
	p.reply_rate = 1;
	test_assert(ramp_replies(&p, 7, SEED, INBOX, 1) == 7);
	p.reply_rate = 0;
	test_assert(ramp_replies(&p, 7, SEED, INBOX, 1) == 0);
	test_end();
}

int main(void)
{
	test_profiles();
	test_curve_table();
	test_next_walk();
	test_jitter();
	test_weekends();
	test_spam_placement();
	test_spam_share();
	test_bounces();
	test_auth_failure();
	test_permanent_failures();
	test_resume();
	test_state_text();
	test_overrides();
	test_replies();
	return test_exit();
}
