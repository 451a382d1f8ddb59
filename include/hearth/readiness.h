/* SPDX-License-Identifier: MIT */
/*
 * readiness: per inbox, is it ready for cold outreach, and why (or why
 * not)? Pure logic over recorded history (ramp day rows and the inbox's
 * state): no store, no clock, no I/O. The report module reads the store,
 * fills one struct readiness_input per inbox and renders the results; the
 * numbers here are only ever measured ones: a message whose placement was
 * never measured counts as missing, never as inbox.
 *
 * The default rule (readiness_rules_default; the README documents it):
 *   ready     the ramp is complete (its last day reached: step + 1 >= the
 *             profile's days; step 0 is its first day), and over
 *             the last window_days days: at least min_measured placements
 *             measured, inbox share (inbox / (inbox + spam + other +
 *             missing)) >= min_inbox_share, spam share <= max_spam_share,
 *             bounces / sent < max_bounce_share, and no auth failure in the
 *             last auth_clear_days days;
 *   paused    the inbox is paused (or removed): its reason is the first
 *             reason;
 *   at risk   not paused, and over the window: spam share above
 *             max_spam_share with at least min_measured_risk placements, or
 *             bounces at or above max_bounce_share, or an auth failure in
 *             the last auth_clear_days days, or inbox share below
 *             risk_inbox_share with at least min_measured_risk placements;
 *   warming   anything else (the ramp still running, or too few messages
 *             measured to say).
 * A failing deliverability check (SPF, DKIM, DMARC, blacklists: a later
 * issue) holds a would-be-ready inbox at warming through `checks_failed`,
 * with no cold volume recommended: cold mail from a domain that fails them
 * would hurt it.
 *
 * Score 0-100: 40 points for inbox share over the window (scaled from 0.5
 * to 1.0: below 0.5 gives 0), 20 for the ramp's progress ((step + 1) /
 * days),
 * 15 for having min_measured measured placements (scaled), 10 for no spam
 * in the window's last 3 days, 10 for bounces under max_bounce_share, 5
 * for no auth failure in auth_clear_days; a paused inbox scores at most 20.
 * Rounded to a whole number.
 *
 * Recommended cold volume per day: ready: cold_min + (cold_max - cold_min)
 * * (inbox share - min_inbox_share) / (1 - min_inbox_share), rounded, within
 * [cold_min, cold_max]; warming: 0 while under half the ramp, else 5 (a
 * trickle while the ramp finishes), at risk and paused: 0.
 *
 * Reasons: plain sentences for the client ("Inbox placement 96% over the
 * last 7 days (48 of 50 measured).", "The ramp is at day 12 of 21.",
 * "2 messages landed in spam in the last 7 days."), the ones behind the
 * verdict first, at most READINESS_MAX_REASONS.
 */
#ifndef HEARTH_READINESS_H
#define HEARTH_READINESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define READINESS_MAX_REASONS 8
#define READINESS_REASON_MAX  240

enum readiness_verdict {
	READINESS_READY,
	READINESS_WARMING,
	READINESS_AT_RISK,
	READINESS_PAUSED,
};

struct readiness_rules {
	unsigned window_days;	   /* 7 */
	double min_inbox_share;	   /* 0.90 */
	unsigned min_measured;	   /* 20 */
	double max_spam_share;	   /* 0.05 */
	double max_bounce_share;   /* 0.03 */
	unsigned auth_clear_days;  /* 3 */
	double risk_inbox_share;   /* 0.70 */
	unsigned min_measured_risk; /* 10 */
	unsigned cold_min, cold_max; /* 30, 50 */
};

/* One recorded day (a ramp day row), oldest first in the input. */
struct readiness_day {
	int64_t day; /* day index (clock.h) */
	unsigned planned, sent;
	unsigned inbox, spam, other, missing;
	unsigned rescued, read, flagged, replied;
	unsigned failed, bounced, auth_failures;
	unsigned volume;
	unsigned step; /* the ramp's step that day (its state text) */
};

struct readiness_input {
	bool paused;	    /* the inbox is paused or removed */
	const char *reason; /* why, when paused; may be NULL */
	unsigned ramp_days; /* the profile's days (the ramp is complete at
			       step + 1 >= ramp_days) */
	unsigned step;	    /* the ramp's latest step */
	int64_t today;	    /* day index the assessment is made for; the
			       window is the window_days days up to it */
	const struct readiness_day *days;
	size_t n_days;
	bool checks_failed; /* a deliverability check fails (later issue) */
	const char *checks_reason;
};

struct readiness_result {
	enum readiness_verdict verdict;
	int score;		/* 0-100 */
	unsigned cold_per_day;	/* recommended cold volume */
	/* the window's measured figures */
	unsigned measured, inbox, spam, other, missing, sent, bounced;
	double inbox_share, spam_share, bounce_share; /* 0 when nothing */
	char reasons[READINESS_MAX_REASONS][READINESS_REASON_MAX];
	size_t n_reasons;
};

void readiness_rules_default(struct readiness_rules *rules);

/* Has the ramp reached its last day (step + 1 >= ramp_days)? */
bool readiness_ramp_complete(const struct readiness_input *in);

/* Assess one inbox. 0, or -1 when an argument is NULL. */
int readiness_assess(const struct readiness_rules *rules,
		     const struct readiness_input *in,
		     struct readiness_result *out);

/* "ready", "warming", "at risk", "paused". */
const char *readiness_verdict_name(enum readiness_verdict v);

/* A roll-up over inboxes (a domain, a client, a pool). */
struct readiness_rollup {
	unsigned inboxes;
	unsigned by_verdict[4]; /* indexed by enum readiness_verdict */
	unsigned measured, inbox, spam;
	double inbox_share; /* inbox / measured over the window, 0 if none */
	int score;	    /* the mean score, rounded */
	unsigned cold_per_day; /* the sum of the recommendations */
	int64_t score_sum;     /* for the mean */
};

void readiness_rollup_add(struct readiness_rollup *r,
			  const struct readiness_result *res);
/* Compute the derived fields (shares, mean) once everything was added. */
void readiness_rollup_finish(struct readiness_rollup *r);

#endif
