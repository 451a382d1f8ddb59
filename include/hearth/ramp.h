/* SPDX-License-Identifier: MIT */
/*
 * ramp: an inbox's daily volume from enrollment to target, and how it adapts
 * to what happened on the days before. Pure logic: no clock, no store, no
 * I/O. The caller (the planner) reads yesterday's ramp state and the recorded
 * outcomes of the last days from the store, calls ramp_next, and records the
 * new state with the day's row (ramp_state_format), so the curve an inbox
 * followed is history, not only a formula.
 *
 * Randomness (the daily jitter, the rounding of replies) is drawn from the
 * seeded generator (rng.h) under a sub-seed derived from (seed, inbox id,
 * day index, purpose): the same inputs give the same numbers every time.
 *
 * The curve, for a profile with start S, target T and D ramp days, at step
 * s (ramp days advanced so far, day 0 is step 0):
 *   t = s / (D - 1)                  (t = 1 when D == 1)
 *   linear:  f(t) = t
 *   S-curve: f(t) = 3t^2 - 2t^3      (smoothstep: slow start, slow finish)
 *   volume = round(S + (T - S) * f(t))  for s < D: S on day 0, T on day D-1
 *   volume = maintenance_per_day        for s >= D (the ramp is done)
 * The step is stored capped at D ("done"). Steps count calendar days, the
 * weekend included (a weekday-only ramp sends nothing on weekends but still
 * advances); so do the hold and cut counters.
 *
 * Memory: everything passed in is borrowed for the call; nothing allocates.
 */
#ifndef HEARTH_RAMP_H
#define HEARTH_RAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hearth/err.h"

enum ramp_shape { RAMP_LINEAR, RAMP_S_CURVE };

/* Bounds ramp_profile_override enforces. */
#define RAMP_TARGET_MAX 10000u
#define RAMP_DAYS_MAX	365u
#define RAMP_JITTER_MAX 0.5

struct ramp_profile {
	const char *name; /* static string; "custom" is never set here */
	unsigned start_per_day, target_per_day, days;
	enum ramp_shape shape;
	/* the volume multiplier on Saturday and Sunday: 0 = weekdays only,
	 * 1 = no difference */
	double weekend_factor;
	double jitter;	   /* 0.12 = the day's volume varies by +-12% */
	double reply_rate; /* share of received messages replied to, 0.30 */
	unsigned maintenance_per_day; /* after the ramp; 60% of target */
	/* spam share (spam / placements) over the last 3 days above which the
	 * ramp holds its step */
	double spam_hold_threshold;
	/* bounced / sent over the last 3 days above which the inbox pauses */
	double bounce_pause_threshold;
	/* permanent SMTP failures over the last 3 days that pause the inbox
	 * (this many or more); 0 disables the check */
	unsigned permanent_failures_pause;
};

/*
 * The built-in profiles, read-only, valid for the life of the program:
 *   safe      3 -> 30 over 28 days, S-curve, maintenance 18
 *   standard  5 -> 40 over 21 days, linear,  maintenance 24
 *   fast      8 -> 40 over 14 days, linear,  maintenance 24
 * all with weekend factor 0.4, jitter 0.12, reply rate 0.30, spam hold 0.2,
 * bounce pause 0.03, 5 permanent failures pause. NULL for another name.
 */
const struct ramp_profile *ramp_profile_by_name(const char *name);

/*
 * Apply per-inbox overrides onto *p (the caller's copy of a profile), e.g.
 * "start=4,target=35,days=25,shape=linear,weekend=0.5,jitter=0.1,reply=0.25,
 * maintenance=20". Keys: start (1..target), target (1..RAMP_TARGET_MAX),
 * days (1..RAMP_DAYS_MAX), shape (linear, s-curve), weekend (0..1), jitter
 * (0..RAMP_JITTER_MAX), reply (0..1), maintenance (0..RAMP_TARGET_MAX),
 * spam_hold (0..1), bounce_pause (0..1), permanent_pause (0..1000). Spaces
 * around items are ignored; NULL or "" changes nothing. When target changes
 * and maintenance is not given, maintenance becomes 60% of the new target.
 * On failure *p is unchanged and err (HEARTH_FAIL_PERMANENT) says what is
 * wrong without a file name, e.g. "ramp override days=abc: days must be a
 * whole number from 1 to 365" (the caller adds where it came from).
 */
int ramp_profile_override(struct ramp_profile *p, const char *overrides,
			  struct hearth_err *err);

/* The un-jittered curve volume at a step (the formula above). */
unsigned ramp_curve(const struct ramp_profile *p, unsigned step);

/* The ramp's state carried from day to day. */
struct ramp_state {
	/* ramp days advanced so far, capped at days */
	unsigned step;
	/* the step is held for this many days, this one included */
	unsigned hold_days;
	/* volume cut by a quarter for this many days, this one included */
	unsigned cut_days;
	/* volume 0 until ramp_resume */
	bool paused;
	/*
	 * Recorded days since enrollment or the last resume, up to 3: only
	 * those count in the 3-day checks, so a resumed inbox is not paused
	 * again by the very days that paused it.
	 */
	unsigned fresh_days;
	char reason[160]; /* why paused, for the operator; "" otherwise */
};

/* Enough for any state ramp_state_format writes, NUL included. */
#define RAMP_STATE_TEXT_MAX 256

/*
 * The state as a short text for the ramp day row:
 * "step=7 hold=2 cut=1 paused=0 fresh=3", and when there is a reason
 * " reason=..." last (the rest of the line). Control characters in the
 * reason are written as spaces. 0, or -1 when size is too small.
 */
int ramp_state_format(const struct ramp_state *s, char *buf, size_t size);
/*
 * Parse that text into *s_r. step, hold, cut and paused are required; fresh
 * defaults to 3 and reason to "". Unknown keys, repeated keys, numbers out of
 * range (step and counters above RAMP_DAYS_MAX, paused other than 0 or 1), a
 * reason longer than fits: -1 with HEARTH_FAIL_PERMANENT and *s_r zeroed.
 */
int ramp_state_parse(const char *text, struct ramp_state *s_r,
		     struct hearth_err *err);

/* What happened on a recorded day (from its ramp day row). */
struct ramp_day_outcome {
	unsigned planned, sent;
	unsigned inbox, spam, other, missing; /* placements */
	unsigned bounced, failed_permanent, auth_failures;
};

/*
 * The next day's state and planned volume.
 *
 * yesterday: the state of the day before, or NULL for an inbox's first day
 * (step 0, no history counts). history[0] is yesterday's outcome,
 * history[1] the day before, up to 3 (more are ignored, and so are days
 * before enrollment or the last resume, see fresh_days). weekday: 0 = Sunday
 * .. 6 = Saturday, the inbox's local day.
 *
 * In order:
 *  - paused yesterday: stays paused, volume 0, nothing else changes.
 *  - pauses (volume 0, step kept, reason set): auth_failures yesterday;
 *    bounced / sent over the counted days above bounce_pause_threshold (the
 *    figure in the reason); permanent failures over the counted days at or
 *    above permanent_failures_pause. Each reason ends with "run `hearth
 *    inbox resume ADDRESS`" (ADDRESS is literal: the caller knows it).
 *  - counters carry over minus one day; a spam placement yesterday sets
 *    cut_days = 2 and hold_days = 3 (today counts); a spam share of
 *    placements (inbox + spam + other + missing) over the counted days
 *    above spam_hold_threshold holds today (hold_days at least 1).
 *  - step = yesterday's step + 1 (capped at days) unless hold_days > 0.
 *  - volume = ramp_curve(step), x weekend_factor on Saturday and Sunday,
 *    x 0.75 while cut_days > 0, x (1 + jitter * u) with u uniform in [-1, 1]
 *    from (seed, inbox_id, day_index); rounded, never above
 *    target_per_day * 1.2.
 * 0, or -1 on invalid arguments (NULL profile or out-parameter, history
 * NULL with n_history > 0, weekday out of 0..6, days 0).
 */
int ramp_next(const struct ramp_profile *p, const struct ramp_state *yesterday,
	      const struct ramp_day_outcome *history, size_t n_history,
	      uint64_t seed, int64_t inbox_id, int64_t day_index, int weekday,
	      struct ramp_state *today_r, unsigned *volume_r);

/* `hearth inbox resume`: clear paused and reason, keep the step; the 3-day
 * checks start afresh from the next recorded day. */
void ramp_resume(struct ramp_state *s);

/*
 * The reply count for `received` messages: received * reply_rate, the
 * fraction rounded up with that probability, drawn from
 * (seed, inbox_id, day_index). Never more than received.
 */
unsigned ramp_replies(const struct ramp_profile *p, unsigned received,
		      uint64_t seed, int64_t inbox_id, int64_t day_index);

#endif
