// SPDX-License-Identifier: MIT
/*
 * The day planner. Matching is a randomised greedy pass: every sender's
 * volume becomes that many sender slots, every recipient's inbound allowance
 * that many recipient slots; sender slots go in a seeded shuffled order and
 * each tries a bounded number of random remaining recipient slots, keeping
 * the first that breaks no rule. Whatever stays unmatched goes through the
 * same pass again with one more rule relaxed. Every check is O(1) or
 * nearly: domains and clients compare ids, the pairs a sender may not repeat
 * sit in one short segment per sender, provider counts in a sender x
 * provider table. Senders take turns over a shuffled copy of the pool, so
 * the sender side is read in sequence; only the recipient side is random.
 */
#include <stdlib.h>
#include <string.h>

#include "hearth/log.h"
#include "hearth/planner.h"
#include "hearth/rng.h"
#include "hearth/xalloc.h"

#define DAY_SECS 86400
/* random recipient slots a sender slot tries before it waits for a tier */
#define TRIES 48
/* a day's volume no ramp reaches: refused as a caller's error */
#define PLANNER_VOLUME_MAX 5000
/* provider tables larger than this: provider spread is not enforced */
#define PROVIDER_TABLE_MAX (64u << 20)

/* stream tags, so that each use of the seed draws from its own stream */
enum {
	TAG_MATCH = 0x6d61746368,
	TAG_TIMES = 0x74696d6573,
	TAG_REPLY = 0x7265706c79,
};

/* the rules a tier enforces */
enum {
	RULE_REPEATS = 1 << 0,
	RULE_PROVIDER = 1 << 1,
	RULE_CLIENT = 1 << 2,
	RULE_INCAP = 1 << 3,
};

/*
 * Recipients each sender may not take again: its recent ones (sorted), then
 * today's, in one segment per sender. Senders take turns in position order,
 * so the segments are read in sequence.
 */
struct used {
	uint32_t *r;
	size_t *off;
	uint32_t *n_recent, *n_today;
};

struct id_map {
	int64_t *ids;
	uint32_t *idx;
	uint8_t *used;
	size_t mask;
};

/* what the pairing checks read, packed to stay in cache */
struct hot {
	uint32_t domain, client;
};

struct match {
	/* the inboxes in a shuffled order: indexes below are positions there */
	const struct planner_inbox *in;
	size_t n;
	/* position of each input inbox */
	uint32_t *pos_of;
	struct hot *hot;
	const struct planner_options *opts;
	struct rng rng;
	struct used used;
	/* dense provider index per inbox, provider count, per-provider limits
	 */
	uint32_t *prov;
	size_t n_prov;
	double *prov_share;
	uint16_t *prov_count; /* n x n_prov, NULL: not enforced */
	/* recipient slots still free */
	uint32_t *rslots;
	size_t n_rslots;
	/* receiving inboxes, for the tier without an inbound cap */
	uint32_t *receivers;
	size_t n_receivers;
	/* matched (sender, recipient) index pairs */
	uint32_t *ms, *mr;
	size_t n_matched;
	size_t same_client, same_client_max;
};

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t pow2_at_least(size_t n)
{
	size_t p = 16;

	while (p < n)
		p <<= 1;
	return p;
}

static bool used_has(const struct used *u, uint32_t s, uint32_t r)
{
	const uint32_t *v = u->r + u->off[s];
	size_t lo = 0, hi = u->n_recent[s];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] == r)
			return true;
		if (v[mid] < r)
			lo = mid + 1;
		else
			hi = mid;
	}
	v += u->n_recent[s];
	for (size_t i = 0; i < u->n_today[s]; i++)
		if (v[i] == r)
			return true;
	return false;
}

static void used_add(struct used *u, uint32_t s, uint32_t r)
{
	u->r[u->off[s] + u->n_recent[s] + u->n_today[s]++] = r;
}

/* 0 added, -1 the id was already there */
static int id_map_add(struct id_map *map, int64_t id, uint32_t idx)
{
	size_t i = mix64((uint64_t)id) & map->mask;

	for (; map->used[i]; i = (i + 1) & map->mask)
		if (map->ids[i] == id)
			return -1;
	map->used[i] = 1;
	map->ids[i] = id;
	map->idx[i] = idx;
	return 0;
}

/* 1 found, 0 not */
static int id_map_find(const struct id_map *map, int64_t id, uint32_t *idx_r)
{
	size_t i = mix64((uint64_t)id) & map->mask;

	for (; map->used[i]; i = (i + 1) & map->mask) {
		if (map->ids[i] == id) {
			*idx_r = map->idx[i];
			return 1;
		}
	}
	return 0;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void sort_u32(uint32_t *v, size_t n)
{
	if (n > 32) {
		qsort(v, n, sizeof(*v), u32_cmp);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		uint32_t x = v[i];
		size_t j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static void used_init(struct used *u, const struct id_map *ids,
		      const struct planner_inbox *in, size_t n,
		      const struct planner_recent_pair *recent, size_t n_recent)
{
	uint32_t *rs = xreallocarray(NULL, n_recent + 1, sizeof(*rs));
	uint32_t *rr = xreallocarray(NULL, n_recent + 1, sizeof(*rr));
	size_t k = 0;

	u->off = xcalloc(n + 1, sizeof(*u->off));
	u->n_recent = xcalloc(n + 1, sizeof(*u->n_recent));
	u->n_today = xcalloc(n + 1, sizeof(*u->n_today));
	for (size_t i = 0; i < n_recent; i++) {
		if (id_map_find(ids, recent[i].sender_id, &rs[k]) == 1 &&
		    id_map_find(ids, recent[i].recipient_id, &rr[k]) == 1 &&
		    rs[k] != rr[k])
			u->n_recent[rs[k++]]++;
	}
	for (size_t s = 0; s < n; s++)
		u->off[s + 1] = u->off[s] + u->n_recent[s] + in[s].volume;
	u->r = xreallocarray(NULL, u->off[n] + 1, sizeof(*u->r));
	for (size_t i = 0; i < k; i++)
		u->r[u->off[rs[i]] + u->n_today[rs[i]]++] = rr[i];
	for (size_t s = 0; s < n; s++) {
		sort_u32(u->r + u->off[s], u->n_recent[s]);
		u->n_today[s] = 0;
	}
	free(rs);
	free(rr);
}

/* Dense provider indexes and each provider's share of inbound capacity. */
static void providers_map(struct match *m, const unsigned *cap)
{
	uint32_t *ids = xreallocarray(NULL, m->n + 1, sizeof(*ids));
	size_t k = 0;
	double total = 0;

	for (size_t i = 0; i < m->n; i++)
		ids[i] = m->in[i].provider_id;
	qsort(ids, m->n, sizeof(*ids), u32_cmp);
	for (size_t i = 0; i < m->n; i++)
		if (k == 0 || ids[k - 1] != ids[i])
			ids[k++] = ids[i];
	m->n_prov = k;
	m->prov = xreallocarray(NULL, m->n + 1, sizeof(*m->prov));
	m->prov_share = xcalloc(k + 1, sizeof(*m->prov_share));
	for (size_t i = 0; i < m->n; i++) {
		uint32_t *p = bsearch(&m->in[i].provider_id, ids, k,
				      sizeof(*ids), u32_cmp);

		m->prov[i] = (uint32_t)(p - ids);
		m->prov_share[m->prov[i]] += cap[i];
		total += cap[i];
	}
	for (size_t p = 0; p < k; p++)
		m->prov_share[p] = total > 0 ? m->prov_share[p] / total : 0;
	if (k > 0 && m->n <= PROVIDER_TABLE_MAX / k)
		m->prov_count = xcalloc(m->n * k, sizeof(*m->prov_count));
	free(ids);
}

static bool pair_ok(struct match *m, uint32_t s, uint32_t r, unsigned rules)
{
	const struct hot *a = &m->hot[s], *b = &m->hot[r];

	if (s == r || a->domain == b->domain)
		return false;
	if ((rules & RULE_CLIENT) && a->client == b->client &&
	    m->same_client >= m->same_client_max)
		return false;
	if ((rules & RULE_PROVIDER) && m->prov_count != NULL) {
		uint32_t p = m->prov[r];
		double lim = (double)m->in[s].volume * m->prov_share[p] + 1.0;

		if ((double)m->prov_count[(size_t)s * m->n_prov + p] + 1 > lim)
			return false;
	}
	if ((rules & RULE_REPEATS) && used_has(&m->used, s, r))
		return false;
	return true;
}

static void pair_take(struct match *m, uint32_t s, uint32_t r)
{
	if (m->hot[s].client == m->hot[r].client)
		m->same_client++;
	if (m->prov_count != NULL) {
		uint16_t *c =
		    &m->prov_count[(size_t)s * m->n_prov + m->prov[r]];

		if (*c < UINT16_MAX)
			(*c)++;
	}
	used_add(&m->used, s, r);
	m->ms[m->n_matched] = s;
	m->mr[m->n_matched] = r;
	m->n_matched++;
}

/*
 * Candidate j of `count` for attempt t: every one in turn from a random
 * start when there are few, random draws when there are many.
 */
static size_t candidate(struct rng *rng, size_t count, size_t start, size_t t)
{
	if (count <= TRIES)
		return (start + t) % count;
	return rng_uniform(rng, count);
}

/*
 * One pass over the pending sender slots under `rules`; the slots still
 * unmatched are compacted at the front of pending. Returns how many matched.
 */
static size_t match_tier(struct match *m, uint32_t *pending, size_t *n_pending,
			 unsigned rules)
{
	size_t kept = 0, matched = m->n_matched;

	for (size_t i = 0; i < *n_pending; i++) {
		uint32_t s = pending[i];
		bool done = false;

		if (rules & RULE_INCAP) {
			size_t count = m->n_rslots;
			size_t tries = count < TRIES ? count : TRIES;
			size_t start = rng_uniform(&m->rng, count);

			for (size_t t = 0; t < tries && !done; t++) {
				size_t j = candidate(&m->rng, count, start, t);
				uint32_t r = m->rslots[j];

				if (!pair_ok(m, s, r, rules))
					continue;
				pair_take(m, s, r);
				m->rslots[j] = m->rslots[--m->n_rslots];
				done = true;
			}
		} else {
			size_t count = m->n_receivers;
			size_t tries = count < TRIES ? count : TRIES;
			size_t start = rng_uniform(&m->rng, count);

			for (size_t t = 0; t < tries && !done; t++) {
				size_t j = candidate(&m->rng, count, start, t);
				uint32_t r = m->receivers[j];

				if (!pair_ok(m, s, r, rules))
					continue;
				pair_take(m, s, r);
				done = true;
			}
		}
		if (!done)
			pending[kept++] = s;
	}
	*n_pending = kept;
	return m->n_matched - matched;
}

static void shuffle_u32(struct rng *rng, uint32_t *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = rng_uniform(rng, i);
		uint32_t t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

static void sort_i64(int64_t *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		int64_t x = v[i];
		size_t j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/*
 * k send times for one sender, in time order, into at[]: k sorted uniform
 * points over what the window leaves after the spacing, then the i-th moved
 * by i spacings, so that gaps vary and none is below the spacing.
 * Returns true when the spacing had to shrink.
 */
static bool send_times(const struct planner_inbox *in, size_t k,
		       unsigned spacing_mins, uint64_t seed, int64_t day_index,
		       int64_t *at)
{
	int64_t start = (int64_t)in->window_start_mins * 60;
	int64_t len =
	    (int64_t)(in->window_end_mins - in->window_start_mins) * 60;
	int64_t sp = (int64_t)spacing_mins * 60;
	int64_t base =
	    day_index * DAY_SECS + start - (int64_t)in->utc_offset_mins * 60;
	bool shrunk = false;
	struct rng rng;
	int64_t free_secs;

	if (k > 1 && (int64_t)(k - 1) * sp >= len) {
		sp = (len - 1) / (int64_t)(k - 1);
		shrunk = true;
	}
	free_secs = len - (k > 0 ? (int64_t)(k - 1) * sp : 0);
	rng_seed(&rng, RNG_DERIVE(seed, (uint64_t)day_index, TAG_TIMES,
				  (uint64_t)in->id));
	for (size_t i = 0; i < k; i++)
		at[i] = (int64_t)rng_uniform(&rng, (uint64_t)free_secs);
	sort_i64(at, k);
	for (size_t i = 0; i < k; i++)
		at[i] = base + at[i] + (int64_t)i * sp;
	return shrunk;
}

static int check_input(const struct planner_inbox *in, size_t n,
		       const struct planner_options *opts,
		       struct hearth_err *err)
{
	if (!(opts->same_client_max_share >= 0 &&
	      opts->same_client_max_share <= 1) ||
	    !(opts->inbound_cap_factor >= 1 &&
	      opts->inbound_cap_factor <= 1e6)) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "planner: same_client_max_share must be in "
			       "[0, 1] and inbound_cap_factor at least 1");
		return -1;
	}
	if (opts->min_spacing_mins > 24 * 60) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "planner: min_spacing_mins above a day");
		return -1;
	}
	if (n >= UINT32_MAX - 1) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "planner: too many inboxes (%zu)", n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (in[i].volume == 0)
			continue;
		if (in[i].window_start_mins < 0 ||
		    in[i].window_end_mins > 24 * 60 ||
		    in[i].window_start_mins >= in[i].window_end_mins) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
				       "planner: inbox %lld: sending window "
				       "%d..%d is empty or outside the day",
				       (long long)in[i].id,
				       in[i].window_start_mins,
				       in[i].window_end_mins);
			return -1;
		}
		if (in[i].volume > PLANNER_VOLUME_MAX) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
				       "planner: inbox %lld: volume %u is "
				       "beyond any ramp",
				       (long long)in[i].id, in[i].volume);
			return -1;
		}
	}
	return 0;
}

void planner_options_init(struct planner_options *opts_r, uint64_t pool_seed,
			  int64_t day_index)
{
	memset(opts_r, 0, sizeof(*opts_r));
	opts_r->pool_seed = pool_seed;
	opts_r->day_index = day_index;
	opts_r->same_client_max_share = 0.2;
	opts_r->min_spacing_mins = 20;
	opts_r->inbound_cap_factor = 2.0;
}

/* Turn the matched pairs into sends grouped by sender, with times. */
static void plan_times(const struct match *m, struct planner_plan *plan)
{
	size_t *first = xcalloc(m->n + 1, sizeof(*first));
	uint32_t *order = xreallocarray(NULL, m->n_matched + 1, sizeof(*order));
	int64_t *at = NULL;
	size_t at_cap = 0, o = 0;

	/* counting sort by sender, stable: match order within a sender */
	for (size_t i = 0; i < m->n_matched; i++)
		first[m->ms[i] + 1]++;
	for (size_t s = 0; s < m->n; s++)
		first[s + 1] += first[s];
	plan->sends =
	    xreallocarray(NULL, m->n_matched + 1, sizeof(*plan->sends));
	plan->n_sends = m->n_matched;
	{
		size_t *fill = xreallocarray(NULL, m->n + 1, sizeof(*fill));

		memcpy(fill, first, (m->n + 1) * sizeof(*fill));
		for (size_t i = 0; i < m->n_matched; i++)
			order[fill[m->ms[i]]++] = (uint32_t)i;
		free(fill);
	}
	for (size_t i = 0; i < m->n; i++) {
		size_t s = m->pos_of[i];
		size_t k = first[s + 1] - first[s];

		if (k == 0)
			continue;
		if (k > at_cap) {
			at_cap = k;
			at = xreallocarray(at, at_cap, sizeof(*at));
		}
		if (send_times(&m->in[s], k, m->opts->min_spacing_mins,
			       m->opts->pool_seed, m->opts->day_index, at))
			plan->n_spacing_shrunk++;
		for (size_t j = 0; j < k; j++) {
			struct planner_send *out = &plan->sends[o++];
			size_t x = order[first[s] + j];

			out->sender_id = m->in[s].id;
			out->recipient_id = m->in[m->mr[x]].id;
			out->at = at[j];
		}
	}
	free(at);
	free(order);
	free(first);
}

static void plan_log(const struct planner_plan *plan,
		     const struct planner_options *opts)
{
	if (plan->relaxed == 0 && plan->unplaced == 0)
		return;
	log_warn("planner day=%lld relaxed repeats=%zu provider_spread=%zu "
		 "same_client=%zu inbound_cap=%zu spacing_shrunk=%zu "
		 "planned=%zu unplaced=%zu",
		 (long long)opts->day_index, plan->n_relaxed_repeats,
		 plan->n_relaxed_provider, plan->n_relaxed_client,
		 plan->n_relaxed_inbound_cap, plan->n_spacing_shrunk,
		 plan->n_sends, plan->unplaced);
}

int planner_plan_day(const struct planner_inbox *inboxes, size_t n,
		     const struct planner_recent_pair *recent, size_t n_recent,
		     const struct planner_options *opts,
		     struct planner_plan *plan_r, struct hearth_err *err)
{
	struct match m = {.n = n, .opts = opts};
	struct planner_inbox *in = NULL;
	uint32_t *active = NULL;
	size_t n_active = 0;
	struct id_map ids = {0};
	unsigned *cap = NULL, *target = NULL;
	uint32_t *pending = NULL;
	size_t total = 0, n_senders = 0, n_pending = 0, n_slots = 0;
	double mean;
	int ret = -1;
	/* tiers: target, cap, then relax one rule after another */
	static const unsigned tiers[] = {
	    RULE_REPEATS | RULE_PROVIDER | RULE_CLIENT | RULE_INCAP,
	    RULE_REPEATS | RULE_PROVIDER | RULE_CLIENT | RULE_INCAP,
	    RULE_PROVIDER | RULE_CLIENT | RULE_INCAP,
	    RULE_CLIENT | RULE_INCAP,
	    RULE_INCAP,
	    0,
	};

	memset(plan_r, 0, sizeof(*plan_r));
	if (check_input(inboxes, n, opts, err) < 0)
		return -1;

	/*
	 * Senders take turns in a shuffled order: every sending inbox its
	 * first message, then its second... Working on a shuffled copy keeps
	 * each turn's memory accesses in sequence.
	 */
	rng_seed(&m.rng, RNG_DERIVE(opts->pool_seed, (uint64_t)opts->day_index,
				    TAG_MATCH));
	active = xreallocarray(NULL, n + 1, sizeof(*active));
	for (size_t i = 0; i < n; i++)
		active[i] = (uint32_t)i;
	shuffle_u32(&m.rng, active, n);
	in = xreallocarray(NULL, n + 1, sizeof(*in));
	m.pos_of = xreallocarray(NULL, n + 1, sizeof(*m.pos_of));
	m.hot = xreallocarray(NULL, n + 1, sizeof(*m.hot));
	for (size_t p = 0; p < n; p++) {
		in[p] = inboxes[active[p]];
		m.hot[p].domain = in[p].domain_id;
		m.hot[p].client = in[p].client_id;
		m.pos_of[active[p]] = (uint32_t)p;
	}
	m.in = in;

	ids.mask = pow2_at_least(n * 2 + 1) - 1;
	ids.ids = xreallocarray(NULL, ids.mask + 1, sizeof(*ids.ids));
	ids.idx = xreallocarray(NULL, ids.mask + 1, sizeof(*ids.idx));
	ids.used = xcalloc(ids.mask + 1, sizeof(*ids.used));
	for (size_t i = 0; i < n; i++) {
		if (id_map_add(&ids, in[i].id, (uint32_t)i) < 0) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
				       "planner: inbox %lld listed twice",
				       (long long)in[i].id);
			goto out;
		}
		total += in[i].volume;
		n_senders += in[i].volume > 0;
	}
	mean = n_senders > 0 ? (double)total / (double)n_senders : 0;

	/* inbound allowance: target (about what it sends) and cap */
	cap = xcalloc(n + 1, sizeof(*cap));
	target = xcalloc(n + 1, sizeof(*target));
	m.receivers = xreallocarray(NULL, n + 1, sizeof(*m.receivers));
	for (size_t i = 0; i < n; i++) {
		double base = in[i].volume > 0 ? in[i].volume : mean;

		if (!in[i].receives)
			continue;
		cap[i] = (unsigned)(opts->inbound_cap_factor * base + 1e-9);
		target[i] = (unsigned)(base + 0.5);
		if (target[i] > cap[i])
			target[i] = cap[i];
		n_slots += cap[i];
		m.receivers[m.n_receivers++] = (uint32_t)i;
	}
	providers_map(&m, cap);

	m.same_client_max =
	    (size_t)(opts->same_client_max_share * (double)total + 1e-9);
	used_init(&m.used, &ids, in, n, recent, n_recent);

	pending = xreallocarray(NULL, total + 1, sizeof(*pending));
	for (size_t p = 0; p < n; p++)
		if (in[p].volume > 0)
			active[n_active++] = (uint32_t)p;
	for (unsigned v = 0; n_active > 0; v++) {
		size_t kept = 0;

		for (size_t k = 0; k < n_active; k++) {
			pending[n_pending++] = active[k];
			if (in[active[k]].volume > v + 1)
				active[kept++] = active[k];
		}
		n_active = kept;
	}
	m.rslots = xreallocarray(NULL, n_slots + 1, sizeof(*m.rslots));
	for (size_t i = 0; i < n; i++)
		for (unsigned v = 0; v < target[i]; v++)
			m.rslots[m.n_rslots++] = (uint32_t)i;
	m.ms = xreallocarray(NULL, total + 1, sizeof(*m.ms));
	m.mr = xreallocarray(NULL, total + 1, sizeof(*m.mr));

	for (size_t t = 0; t < sizeof(tiers) / sizeof(tiers[0]); t++) {
		size_t got;

		if (n_pending == 0)
			break;
		if (t == 1) {
			/* open the rest of each inbox's inbound cap */
			for (size_t i = 0; i < n; i++)
				for (unsigned v = target[i]; v < cap[i]; v++)
					m.rslots[m.n_rslots++] = (uint32_t)i;
		}
		got = match_tier(&m, pending, &n_pending, tiers[t]);
		switch (t) {
		case 2:
			plan_r->n_relaxed_repeats = got;
			break;
		case 3:
			plan_r->n_relaxed_provider = got;
			break;
		case 4:
			plan_r->n_relaxed_client = got;
			break;
		case 5:
			plan_r->n_relaxed_inbound_cap = got;
			break;
		}
	}
	plan_r->unplaced = n_pending;
	/* a send placed in a tier went without every rule relaxed before */
	if (plan_r->n_relaxed_inbound_cap > 0)
		plan_r->relaxed |= PLANNER_RELAXED_INBOUND_CAP;
	if (plan_r->relaxed != 0 || plan_r->n_relaxed_client > 0)
		plan_r->relaxed |= PLANNER_RELAXED_CLIENT;
	if (plan_r->relaxed != 0 || plan_r->n_relaxed_provider > 0)
		plan_r->relaxed |= PLANNER_RELAXED_PROVIDER;
	if (plan_r->relaxed != 0 || plan_r->n_relaxed_repeats > 0)
		plan_r->relaxed |= PLANNER_RELAXED_REPEATS;

	plan_times(&m, plan_r);
	if (plan_r->n_spacing_shrunk > 0)
		plan_r->relaxed |= PLANNER_RELAXED_SPACING;
	plan_log(plan_r, opts);
	ret = 0;
out:
	free(in);
	free(active);
	free(m.pos_of);
	free(m.hot);
	free(ids.ids);
	free(ids.idx);
	free(ids.used);
	free(cap);
	free(target);
	free(pending);
	free(m.prov);
	free(m.prov_share);
	free(m.prov_count);
	free(m.rslots);
	free(m.receivers);
	free(m.ms);
	free(m.mr);
	free(m.used.r);
	free(m.used.off);
	free(m.used.n_recent);
	free(m.used.n_today);
	return ret;
}

void planner_plan_free(struct planner_plan *plan)
{
	if (plan == NULL)
		return;
	free(plan->sends);
	memset(plan, 0, sizeof(*plan));
}

/* Seconds after midnight local time of a UTC instant. */
static int64_t local_secs(int64_t t, int utc_offset_mins)
{
	int64_t l = (t + (int64_t)utc_offset_mins * 60) % DAY_SECS;

	return l < 0 ? l + DAY_SECS : l;
}

int64_t planner_reply_at(int64_t received_at, int64_t now,
			 const struct planner_inbox *replier, uint64_t seed,
			 int64_t exchange_id, int max_age_days)
{
	struct rng rng;
	int64_t delay, t, latest = received_at + DAY_SECS;
	uint64_t roll;

	if (max_age_days < 0 ||
	    now - received_at > (int64_t)max_age_days * DAY_SECS)
		return -1;
	rng_seed(&rng, RNG_DERIVE(seed, (uint64_t)exchange_id, TAG_REPLY));
	/* most within a few hours, some the same evening, a few next day */
	roll = rng_uniform(&rng, 100);
	if (roll < 55)
		delay = 5 * 60 + (int64_t)rng_uniform(&rng, 115 * 60);
	else if (roll < 85)
		delay = 2 * 3600 + (int64_t)rng_uniform(&rng, 4 * 3600);
	else
		delay = 6 * 3600 + (int64_t)rng_uniform(&rng, 18 * 3600) + 1;
	t = received_at + delay;
	if (t < now + 5 * 60) {
		/* seen late: answer some minutes after it was seen */
		t = now + 5 * 60 + (int64_t)rng_uniform(&rng, 55 * 60);
		latest = t;
	}
	if (replier != NULL && replier->window_start_mins >= 0 &&
	    replier->window_start_mins < replier->window_end_mins &&
	    replier->window_end_mins <= 24 * 60) {
		int64_t ws = (int64_t)replier->window_start_mins * 60;
		int64_t we = (int64_t)replier->window_end_mins * 60;
		int64_t l = local_secs(t, replier->utc_offset_mins);
		int64_t open, jitter = we - ws < 3600 ? we - ws : 3600;

		if (l < ws || l >= we) {
			open = t + (l < ws ? ws - l : DAY_SECS - l + ws);
			open += (int64_t)rng_uniform(&rng, (uint64_t)jitter);
			if (open <= latest && open >= now)
				t = open;
		}
	}
	return t;
}
