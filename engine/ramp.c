// SPDX-License-Identifier: MIT
#include "hearth/ramp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hearth/rng.h"

/* Purpose tags for the sub-seeds, so jitter and replies never correlate. */
#define RAMP_TAG_JITTER 0x72616d706a697431ULL /* "rampjit1" */
#define RAMP_TAG_REPLY	0x72616d7072706c31ULL /* "ramprpl1" */

/* The days the adaptive checks look back over. */
#define RAMP_WINDOW_DAYS   3
#define RAMP_CUT_DAYS	   2
#define RAMP_HOLD_DAYS	   3
#define RAMP_CUT_FACTOR	   0.75
#define RAMP_OVERRIDES_MAX 512

#define RESUME_HINT "run `hearth inbox resume ADDRESS`"

static const struct ramp_profile ramp_profiles[] = {
    {
	.name = "safe",
	.start_per_day = 3,
	.target_per_day = 30,
	.days = 28,
	.shape = RAMP_S_CURVE,
	.weekend_factor = 0.4,
	.jitter = 0.12,
	.reply_rate = 0.30,
	.maintenance_per_day = 18,
	.spam_hold_threshold = 0.2,
	.bounce_pause_threshold = 0.03,
	.permanent_failures_pause = 5,
    },
    {
	.name = "standard",
	.start_per_day = 5,
	.target_per_day = 40,
	.days = 21,
	.shape = RAMP_LINEAR,
	.weekend_factor = 0.4,
	.jitter = 0.12,
	.reply_rate = 0.30,
	.maintenance_per_day = 24,
	.spam_hold_threshold = 0.2,
	.bounce_pause_threshold = 0.03,
	.permanent_failures_pause = 5,
    },
    {
	.name = "fast",
	.start_per_day = 8,
	.target_per_day = 40,
	.days = 14,
	.shape = RAMP_LINEAR,
	.weekend_factor = 0.4,
	.jitter = 0.12,
	.reply_rate = 0.30,
	.maintenance_per_day = 24,
	.spam_hold_threshold = 0.2,
	.bounce_pause_threshold = 0.03,
	.permanent_failures_pause = 5,
    },
};

const struct ramp_profile *ramp_profile_by_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < sizeof(ramp_profiles) / sizeof(ramp_profiles[0]); i++)
		if (strcmp(ramp_profiles[i].name, name) == 0)
			return &ramp_profiles[i];
	return NULL;
}

static int parse_unsigned(const char *s, unsigned lo, unsigned hi,
			  unsigned *v_r)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*v_r = (unsigned)v;
	return 0;
}

static int parse_double(const char *s, double lo, double hi, double *v_r)
{
	double v;
	char *end;

	/* Plain decimals only: no sign, no hex, no inf or nan. */
	if ((*s < '0' || *s > '9') && *s != '.')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !(v >= lo && v <= hi))
		return -1;
	*v_r = v;
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

int ramp_profile_override(struct ramp_profile *p, const char *overrides,
			  struct hearth_err *err)
{
	char buf[RAMP_OVERRIDES_MAX];
	struct ramp_profile q;
	bool target_set = false, maintenance_set = false;
	char *item, *next;

	if (overrides == NULL || *overrides == '\0')
		return 0;
	if (strlen(overrides) >= sizeof(buf)) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "ramp overrides: longer than %zu characters",
			       sizeof(buf) - 1);
		return -1;
	}
	memcpy(buf, overrides, strlen(overrides) + 1);
	q = *p;
	for (item = buf; item != NULL; item = next) {
		char *key, *value, *eq;
		int rc = 0;
		const char *want = NULL;

		next = strchr(item, ',');
		if (next != NULL)
			*next++ = '\0';
		key = trim(item);
		if (*key == '\0')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
				       "ramp override %.60s: expected "
				       "key=value, e.g. days=25",
				       key);
			return -1;
		}
		*eq = '\0';
		key = trim(key);
		value = trim(eq + 1);
		if (strcmp(key, "start") == 0) {
			rc = parse_unsigned(value, 1, RAMP_TARGET_MAX,
					    &q.start_per_day);
			want = "a whole number from 1 to the target";
		} else if (strcmp(key, "target") == 0) {
			rc = parse_unsigned(value, 1, RAMP_TARGET_MAX,
					    &q.target_per_day);
			want = "a whole number from 1 to 10000";
			target_set = true;
		} else if (strcmp(key, "days") == 0) {
			rc = parse_unsigned(value, 1, RAMP_DAYS_MAX, &q.days);
			want = "a whole number from 1 to 365";
		} else if (strcmp(key, "shape") == 0) {
			if (strcmp(value, "linear") == 0)
				q.shape = RAMP_LINEAR;
			else if (strcmp(value, "s-curve") == 0 ||
				 strcmp(value, "scurve") == 0)
				q.shape = RAMP_S_CURVE;
			else
				rc = -1;
			want = "linear or s-curve";
		} else if (strcmp(key, "weekend") == 0) {
			rc = parse_double(value, 0, 1, &q.weekend_factor);
			want = "a factor from 0 (weekdays only) to 1";
		} else if (strcmp(key, "jitter") == 0) {
			rc = parse_double(value, 0, RAMP_JITTER_MAX, &q.jitter);
			want = "a share from 0 to 0.5";
		} else if (strcmp(key, "reply") == 0) {
			rc = parse_double(value, 0, 1, &q.reply_rate);
			want = "a share from 0 to 1";
		} else if (strcmp(key, "maintenance") == 0) {
			rc = parse_unsigned(value, 0, RAMP_TARGET_MAX,
					    &q.maintenance_per_day);
			want = "a whole number from 0 to 10000";
			maintenance_set = true;
		} else if (strcmp(key, "spam_hold") == 0) {
			rc = parse_double(value, 0, 1, &q.spam_hold_threshold);
			want = "a share from 0 to 1";
		} else if (strcmp(key, "bounce_pause") == 0) {
			rc = parse_double(value, 0, 1,
					  &q.bounce_pause_threshold);
			want = "a share from 0 to 1";
		} else if (strcmp(key, "permanent_pause") == 0) {
			rc = parse_unsigned(value, 0, 1000,
					    &q.permanent_failures_pause);
			want = "a whole number from 0 (never) to 1000";
		} else {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
				       "ramp override %.60s: unknown key "
				       "(known: start, target, days, shape, "
				       "weekend, jitter, reply, maintenance, "
				       "spam_hold, bounce_pause, "
				       "permanent_pause)",
				       key);
			return -1;
		}
		if (rc != 0) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
				       "ramp override %.30s=%.40s: %s must be "
				       "%s",
				       key, value, key, want);
			return -1;
		}
	}
	if (q.start_per_day > q.target_per_day) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "ramp overrides: start=%u is above target=%u",
			       q.start_per_day, q.target_per_day);
		return -1;
	}
	if (target_set && !maintenance_set)
		q.maintenance_per_day = (q.target_per_day * 60 + 50) / 100;
	*p = q;
	return 0;
}

static unsigned volume_max(const struct ramp_profile *p)
{
	return p->target_per_day * 6 / 5;
}

unsigned ramp_curve(const struct ramp_profile *p, unsigned step)
{
	double t, f, v;

	if (p->days == 0 || step >= p->days)
		return p->maintenance_per_day < volume_max(p)
			   ? p->maintenance_per_day
			   : volume_max(p);
	t = p->days == 1 ? 1.0 : (double)step / (double)(p->days - 1);
	f = p->shape == RAMP_S_CURVE ? t * t * (3.0 - 2.0 * t) : t;
	v = (double)p->start_per_day +
	    ((double)p->target_per_day - (double)p->start_per_day) * f;
	return (unsigned)(v + 0.5);
}

int ramp_state_format(const struct ramp_state *s, char *buf, size_t size)
{
	char reason[sizeof(s->reason)];
	size_t i;
	int n;

	for (i = 0; i < sizeof(reason) - 1 && s->reason[i] != '\0'; i++)
		reason[i] =
		    (unsigned char)s->reason[i] < 0x20 || s->reason[i] == 0x7f
			? ' '
			: s->reason[i];
	reason[i] = '\0';
	n = snprintf(buf, size, "step=%u hold=%u cut=%u paused=%d fresh=%u%s%s",
		     s->step, s->hold_days, s->cut_days, s->paused ? 1 : 0,
		     s->fresh_days, reason[0] != '\0' ? " reason=" : "",
		     reason);
	if (n < 0 || (size_t)n >= size)
		return -1;
	return 0;
}

int ramp_state_parse(const char *text, struct ramp_state *s_r,
		     struct hearth_err *err)
{
	enum { K_STEP, K_HOLD, K_CUT, K_PAUSED, K_FRESH, K_N };
	static const char *const keys[K_N] = {"step", "hold", "cut", "paused",
					      "fresh"};
	static const unsigned max[K_N] = {RAMP_DAYS_MAX, RAMP_DAYS_MAX,
					  RAMP_DAYS_MAX, 1, RAMP_WINDOW_DAYS};
	unsigned vals[K_N] = {0, 0, 0, 0, RAMP_WINDOW_DAYS};
	bool seen[K_N] = {false};
	const char *p = text;
	size_t k;

	memset(s_r, 0, sizeof(*s_r));
	if (text == NULL) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "ramp state: missing");
		return -1;
	}
	for (;;) {
		char tok[32], *eq;
		size_t len;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (strncmp(p, "reason=", 7) == 0) {
			len = strlen(p + 7);
			if (len >= sizeof(s_r->reason)) {
				hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
					       "ramp state: reason longer "
					       "than %zu characters",
					       sizeof(s_r->reason) - 1);
				goto fail;
			}
			memcpy(s_r->reason, p + 7, len + 1);
			break;
		}
		len = strcspn(p, " ");
		if (len >= sizeof(tok)) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
				       "ramp state: unexpected %.40s", p);
			goto fail;
		}
		memcpy(tok, p, len);
		tok[len] = '\0';
		p += len;
		eq = strchr(tok, '=');
		if (eq == NULL) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
				       "ramp state: expected key=value, not "
				       "%s",
				       tok);
			goto fail;
		}
		*eq = '\0';
		for (k = 0; k < K_N; k++)
			if (strcmp(tok, keys[k]) == 0)
				break;
		if (k == K_N || seen[k]) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
				       "ramp state: %s key %s",
				       k == K_N ? "unknown" : "repeated", tok);
			goto fail;
		}
		if (parse_unsigned(eq + 1, 0, max[k], &vals[k]) != 0) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
				       "ramp state: %s=%s is not a number "
				       "from 0 to %u",
				       tok, eq + 1, max[k]);
			goto fail;
		}
		seen[k] = true;
	}
	for (k = 0; k < K_FRESH; k++) {
		if (!seen[k]) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
				       "ramp state: %s missing", keys[k]);
			goto fail;
		}
	}
	s_r->step = vals[K_STEP];
	s_r->hold_days = vals[K_HOLD];
	s_r->cut_days = vals[K_CUT];
	s_r->paused = vals[K_PAUSED] != 0;
	s_r->fresh_days = vals[K_FRESH];
	return 0;
fail:
	memset(s_r, 0, sizeof(*s_r));
	return -1;
}

/* Sums over the days that count (see fresh_days in ramp.h). */
struct ramp_sums {
	unsigned long sent, placements, spam, bounced, failed_permanent;
};

static void ramp_sum(const struct ramp_day_outcome *h, size_t n,
		     struct ramp_sums *sum_r)
{
	size_t i;

	memset(sum_r, 0, sizeof(*sum_r));
	for (i = 0; i < n; i++) {
		sum_r->sent += h[i].sent;
		sum_r->placements += (unsigned long)h[i].inbox + h[i].spam +
				     h[i].other + h[i].missing;
		sum_r->spam += h[i].spam;
		sum_r->bounced += h[i].bounced;
		sum_r->failed_permanent += h[i].failed_permanent;
	}
}

/* Whether the counted days pause the inbox; if so the reason is in *s. */
static bool ramp_check_pause(const struct ramp_profile *p,
			     const struct ramp_day_outcome *h, size_t n,
			     struct ramp_state *s)
{
	struct ramp_sums sum;

	ramp_sum(h, n, &sum);
	if (n > 0 && h[0].auth_failures > 0) {
		snprintf(s->reason, sizeof(s->reason),
			 "auth failure: the provider refused the login; "
			 "check the secret and " RESUME_HINT);
		return true;
	}
	if (sum.sent > 0 && sum.bounced > 0 &&
	    (double)sum.bounced / (double)sum.sent >
		p->bounce_pause_threshold) {
		snprintf(s->reason, sizeof(s->reason),
			 "bounces: %lu of %lu sent in %zu days (%.1f%%, limit "
			 "%.1f%%); check the addresses and " RESUME_HINT,
			 sum.bounced % 100000, sum.sent % 100000, n,
			 100.0 * (double)sum.bounced / (double)sum.sent,
			 100.0 * p->bounce_pause_threshold);
		return true;
	}
	if (p->permanent_failures_pause > 0 &&
	    sum.failed_permanent >= p->permanent_failures_pause) {
		snprintf(s->reason, sizeof(s->reason),
			 "permanent failures: %lu SMTP sends refused in %zu "
			 "days (limit %u); check the account and " RESUME_HINT,
			 sum.failed_permanent % 100000, n,
			 p->permanent_failures_pause % 10000);
		return true;
	}
	return false;
}

static unsigned ramp_volume(const struct ramp_profile *p,
			    const struct ramp_state *s, uint64_t seed,
			    int64_t inbox_id, int64_t day_index, int weekday)
{
	struct rng rng;
	double v, u;

	v = (double)ramp_curve(p, s->step);
	if (weekday == 0 || weekday == 6)
		v *= p->weekend_factor;
	if (s->cut_days > 0)
		v *= RAMP_CUT_FACTOR;
	rng_seed(&rng, RNG_DERIVE(seed, (uint64_t)inbox_id, (uint64_t)day_index,
				  RAMP_TAG_JITTER));
	/* u in [-1, 1] in steps of 1/1000 */
	u = ((double)rng_uniform(&rng, 2001) - 1000.0) / 1000.0;
	v *= 1.0 + p->jitter * u;
	if (v < 0)
		v = 0;
	v += 0.5;
	if (v > (double)volume_max(p))
		return volume_max(p);
	return (unsigned)v;
}

int ramp_next(const struct ramp_profile *p, const struct ramp_state *yesterday,
	      const struct ramp_day_outcome *history, size_t n_history,
	      uint64_t seed, int64_t inbox_id, int64_t day_index, int weekday,
	      struct ramp_state *today_r, unsigned *volume_r)
{
	struct ramp_state s;
	size_t counted;
	bool first = yesterday == NULL;

	if (p == NULL || today_r == NULL || volume_r == NULL ||
	    (history == NULL && n_history > 0) || weekday < 0 || weekday > 6 ||
	    p->days == 0)
		return -1;
	*volume_r = 0;
	if (first) {
		memset(&s, 0, sizeof(s));
		*today_r = s;
		*volume_r =
		    ramp_volume(p, &s, seed, inbox_id, day_index, weekday);
		return 0;
	}
	s = *yesterday;
	s.reason[sizeof(s.reason) - 1] = '\0';
	if (s.step > p->days)
		s.step = p->days;
	if (s.paused) {
		*today_r = s;
		return 0;
	}
	counted = n_history;
	if (counted > RAMP_WINDOW_DAYS)
		counted = RAMP_WINDOW_DAYS;
	if (counted > (size_t)s.fresh_days + 1)
		counted = (size_t)s.fresh_days + 1;
	if (s.fresh_days < RAMP_WINDOW_DAYS)
		s.fresh_days++;
	s.reason[0] = '\0';
	if (ramp_check_pause(p, history, counted, &s)) {
		s.paused = true;
		*today_r = s;
		return 0;
	}
	s.hold_days = s.hold_days > 0 ? s.hold_days - 1 : 0;
	s.cut_days = s.cut_days > 0 ? s.cut_days - 1 : 0;
	if (counted > 0 && history[0].spam > 0) {
		s.hold_days = RAMP_HOLD_DAYS;
		s.cut_days = RAMP_CUT_DAYS;
	} else if (counted > 0) {
		struct ramp_sums sum;

		ramp_sum(history, counted, &sum);
		if (sum.placements > 0 &&
		    (double)sum.spam / (double)sum.placements >
			p->spam_hold_threshold &&
		    s.hold_days == 0)
			s.hold_days = 1;
	}
	if (s.hold_days == 0 && s.step < p->days)
		s.step++;
	*today_r = s;
	*volume_r = ramp_volume(p, &s, seed, inbox_id, day_index, weekday);
	return 0;
}

void ramp_resume(struct ramp_state *s)
{
	s->paused = false;
	s->reason[0] = '\0';
	s->fresh_days = 0;
}

unsigned ramp_replies(const struct ramp_profile *p, unsigned received,
		      uint64_t seed, int64_t inbox_id, int64_t day_index)
{
	struct rng rng;
	double x, frac;
	unsigned n;

	if (p->reply_rate <= 0)
		return 0;
	if (p->reply_rate >= 1)
		return received;
	x = (double)received * p->reply_rate;
	n = (unsigned)x;
	frac = x - (double)n;
	rng_seed(&rng, RNG_DERIVE(seed, (uint64_t)inbox_id, (uint64_t)day_index,
				  RAMP_TAG_REPLY));
	if ((double)rng_uniform(&rng, 1000000) < frac * 1000000.0)
		n++;
	return n < received ? n : received;
}
