/* SPDX-License-Identifier: MIT */
/*
 * planner: one pool-day of warmup traffic. Pure logic: no store, no clock,
 * no I/O but one log line. The caller reads ramps, health and time zones,
 * hands over one struct planner_inbox per active inbox and the pairs used in
 * the last 7 days, and gets back who sends to whom and when.
 *
 * Pairing rules (DESIGN.md, Invariants, "Pairing"):
 *   - never two inboxes of one domain (never relaxed);
 *   - same-client pairs at most same_client_max_share of the day's sends;
 *   - inbound roughly equal to outbound: each inbox is first offered as many
 *     messages as it sends (an inbox that sends none: the mean volume of the
 *     inboxes that send), then up to inbound_cap_factor times that;
 *   - no pair (sender, recipient) twice in one day nor again within 7 days;
 *   - a sender's messages spread over the recipients' providers: to any one
 *     provider at most its share of the pool's inbound capacity, plus one.
 * When the pool cannot meet them all, the planner relaxes, in this order:
 * repeats, provider spread, same-client share, inbound cap; it then logs one
 * summary line (log_warn) saying what was relaxed for how many sends and how
 * much volume stayed unplaced.
 *
 * Send times: a sender's k messages fall inside its window (local time,
 * [window_start_mins, window_end_mins) on the planned date) at random,
 * human-looking gaps, never closer than min_spacing_mins; a window too short
 * for k at that spacing gets the largest spacing that fits (counted in the
 * summary line).
 *
 * Everything random draws from streams derived from (pool_seed, day_index):
 * the same inputs in the same order give the same plan, byte for byte.
 */
#ifndef HEARTH_PLANNER_H
#define HEARTH_PLANNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hearth/err.h"

struct planner_inbox {
	int64_t id;
	/* small ids the caller maps; only equality matters */
	uint32_t domain_id;
	uint32_t client_id;
	uint32_t provider_id;
	/* messages this inbox sends today (0: sends none, may receive) */
	unsigned volume;
	/* local time, minutes after midnight: 0 <= start < end <= 1440 */
	int window_start_mins, window_end_mins;
	/* the inbox's UTC offset on that date (the caller resolves the zone) */
	int utc_offset_mins;
	/* active: may be a recipient */
	bool receives;
};

/* A pair used in the last 7 days. Unknown ids are ignored. */
struct planner_recent_pair {
	int64_t sender_id, recipient_id;
};

struct planner_options {
	uint64_t pool_seed;
	/* days since the epoch (UTC) of the planned date */
	int64_t day_index;
	/* in [0, 1]; default 0.2 */
	double same_client_max_share;
	/* per sender; default 20 */
	unsigned min_spacing_mins;
	/*
	 * >= 1; default 2.0: nobody receives more than this times what it
	 * sends (or, for inboxes that send 0, than the mean volume of the
	 * inboxes that send), unless the cap itself is relaxed.
	 */
	double inbound_cap_factor;
};

struct planner_send {
	int64_t sender_id, recipient_id;
	/* UTC seconds */
	int64_t at;
};

/* What the planner had to relax (bits of planner_plan.relaxed). */
enum planner_relax {
	PLANNER_RELAXED_REPEATS = 1 << 0,
	PLANNER_RELAXED_PROVIDER = 1 << 1,
	PLANNER_RELAXED_CLIENT = 1 << 2,
	PLANNER_RELAXED_INBOUND_CAP = 1 << 3,
	/* some sender's window could not hold its sends at min spacing */
	PLANNER_RELAXED_SPACING = 1 << 4,
};

struct planner_plan {
	/*
	 * Grouped by sender, senders in input order, each sender's sends in
	 * time order.
	 */
	struct planner_send *sends;
	size_t n_sends;
	/* volume that could not be paired */
	size_t unplaced;
	/* enum planner_relax bits: rules that were relaxed for some sends */
	unsigned relaxed;
	/* sends placed only once each rule was relaxed, by rule */
	size_t n_relaxed_repeats, n_relaxed_provider, n_relaxed_client,
	    n_relaxed_inbound_cap;
	/* senders whose spacing was shrunk to fit their window */
	size_t n_spacing_shrunk;
};

/* Fill *opts_r with the defaults, for this pool seed and day. */
void planner_options_init(struct planner_options *opts_r, uint64_t pool_seed,
			  int64_t day_index);

/*
 * Plan one day. inboxes and recent are borrowed (recent may be NULL when
 * n_recent is 0); on success *plan_r is filled and owned by the caller, who
 * releases it with planner_plan_free(). Returns 0, or -1 with err
 * (HEARTH_FAIL_PERMANENT) for invalid input: a sending inbox whose window is
 * empty or outside the day, a volume above 5000, two inboxes with one id,
 * options out of range.
 */
int planner_plan_day(const struct planner_inbox *inboxes, size_t n,
		     const struct planner_recent_pair *recent, size_t n_recent,
		     const struct planner_options *opts,
		     struct planner_plan *plan_r, struct hearth_err *err);
/* Free the sends and zero *plan (NULL or an already freed plan is fine). */
void planner_plan_free(struct planner_plan *plan);

/*
 * A reply's send time for a message received at received_at (UTC seconds)
 * and seen now: a realistic delay after it (5 minutes to a day, most within
 * a few hours), moved inside the replier's window when that still falls
 * within the day; never before now. -1 when the message is older than
 * max_age_days at now (no reply). Deterministic for (seed, exchange_id).
 */
int64_t planner_reply_at(int64_t received_at, int64_t now,
			 const struct planner_inbox *replier, uint64_t seed,
			 int64_t exchange_id, int max_age_days);

#endif
