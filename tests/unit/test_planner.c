// SPDX-License-Identifier: MIT
/*
 * The planner: pairing invariants over many random pools, send times,
 * determinism, small and impossible pools, reply times.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hearth/log.h"
#include "hearth/planner.h"
#include "hearth/rng.h"
#include "test.h"

#define ID_BASE 1000
#define ID_STEP 7
#define DAY	19800 /* 2024-03-18 */
#define MAXP	8

static FILE *log_file;

static int64_t id_of(size_t i)
{
	return ID_BASE + (int64_t)i * ID_STEP;
}

static size_t idx_of(int64_t id)
{
	return (size_t)((id - ID_BASE) / ID_STEP);
}

static long log_size(void)
{
	fflush(log_file);
	return ftell(log_file);
}

static bool log_has(long from, const char *what)
{
	char buf[4096];
	size_t got;

	fflush(log_file);
	fseek(log_file, from, SEEK_SET);
	got = fread(buf, 1, sizeof(buf) - 1, log_file);
	buf[got] = '\0';
	fseek(log_file, 0, SEEK_END);
	return strstr(buf, what) != NULL;
}

struct pool {
	struct planner_inbox *in;
	size_t n;
	struct planner_recent_pair *recent;
	size_t n_recent;
};

static void pool_make(struct pool *p, struct rng *rng, size_t n)
{
	size_t n_dom = 2 + rng_uniform(rng, n / 2 + 1);
	size_t n_cli = 6 + rng_uniform(rng, 10);
	size_t n_prov = 1 + rng_uniform(rng, 6);

	p->n = n;
	p->in = calloc(n, sizeof(*p->in));
	for (size_t i = 0; i < n; i++) {
		struct planner_inbox *b = &p->in[i];

		b->id = id_of(i);
		b->domain_id = (uint32_t)rng_uniform(rng, n_dom);
		b->client_id = (uint32_t)(100 + rng_uniform(rng, n_cli));
		b->provider_id = (uint32_t)(7 * rng_uniform(rng, n_prov));
		b->volume = rng_chance(rng, 10)
				? 0
				: (unsigned)(1 + rng_uniform(rng, 30));
		b->window_start_mins = (int)(6 * 60 + rng_uniform(rng, 240));
		b->window_end_mins =
		    b->window_start_mins + (int)(360 + rng_uniform(rng, 480));
		if (b->window_end_mins > 24 * 60)
			b->window_end_mins = 24 * 60;
		b->utc_offset_mins = (int)rng_uniform(rng, 26 * 4) * 15 - 720;
		b->receives = !rng_chance(rng, 5);
	}
	p->n_recent = n * 3;
	p->recent = calloc(p->n_recent + 1, sizeof(*p->recent));
	for (size_t i = 0; i < p->n_recent; i++) {
		p->recent[i].sender_id = id_of(rng_uniform(rng, n));
		p->recent[i].recipient_id = id_of(rng_uniform(rng, n));
	}
}

static void pool_free(struct pool *p)
{
	free(p->in);
	free(p->recent);
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool in_sorted(const uint64_t *v, size_t n, uint64_t key)
{
	return bsearch(&key, v, n, sizeof(*v), u64_cmp) != NULL;
}

/* Check every invariant of a plan; returns the number of violations. */
/* count a violation and say which check saw it */
#define BAD() (fprintf(stderr, "  violation at line %d\n", __LINE__), bad++)

static int plan_check(const struct pool *p, const struct planner_options *o,
		      const struct planner_plan *plan)
{
	size_t n = p->n, total = 0, senders = 0, same_client = 0;
	unsigned *out = calloc(n, sizeof(*out)), *inb = calloc(n, sizeof(*inb));
	unsigned *byprov = calloc(n * MAXP, sizeof(*byprov));
	uint64_t *rec = calloc(p->n_recent + 1, sizeof(*rec));
	uint64_t *today = calloc(plan->n_sends + 1, sizeof(*today));
	double cap_prov[MAXP] = {0}, cap_total = 0, mean;
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		total += p->in[i].volume;
		senders += p->in[i].volume > 0;
	}
	mean = senders ? (double)total / (double)senders : 0;
	for (size_t i = 0; i < n; i++) {
		double base = p->in[i].volume ? p->in[i].volume : mean;
		unsigned c = (unsigned)(o->inbound_cap_factor * base + 1e-9);

		if (!p->in[i].receives)
			continue;
		cap_prov[p->in[i].provider_id / 7] += c;
		cap_total += c;
	}
	for (size_t i = 0; i < p->n_recent; i++)
		rec[i] = (uint64_t)idx_of(p->recent[i].sender_id) << 32 |
			 idx_of(p->recent[i].recipient_id);
	qsort(rec, p->n_recent, sizeof(*rec), u64_cmp);

	if (plan->n_sends + plan->unplaced != total)
		BAD();
	for (size_t k = 0; k < plan->n_sends; k++) {
		const struct planner_send *s = &plan->sends[k];
		size_t a = idx_of(s->sender_id), b = idx_of(s->recipient_id);
		const struct planner_inbox *x = &p->in[a], *y = &p->in[b];
		int64_t local = s->at + x->utc_offset_mins * 60 -
				(int64_t)o->day_index * 86400;

		out[a]++;
		inb[b]++;
		byprov[a * MAXP + y->provider_id / 7]++;
		today[k] = (uint64_t)a << 32 | b;
		if (x->domain_id == y->domain_id || !y->receives)
			BAD();
		same_client += x->client_id == y->client_id;
		if (local < x->window_start_mins * 60 ||
		    local >= x->window_end_mins * 60)
			BAD();
		if (!(plan->relaxed & PLANNER_RELAXED_REPEATS) &&
		    in_sorted(rec, p->n_recent, today[k]))
			BAD();
		/* grouped by sender, in time order, spaced */
		if (k > 0 && plan->sends[k - 1].sender_id == s->sender_id) {
			int64_t gap = s->at - plan->sends[k - 1].at;
			int64_t len =
			    (x->window_end_mins - x->window_start_mins) * 60;
			int64_t need = (int64_t)o->min_spacing_mins * 60;

			if ((int64_t)(x->volume - 1) * need < len ? gap < need
								  : gap < 0)
				BAD();
		}
	}
	if (!(plan->relaxed & PLANNER_RELAXED_REPEATS)) {
		qsort(today, plan->n_sends, sizeof(*today), u64_cmp);
		for (size_t k = 1; k < plan->n_sends; k++)
			if (today[k] == today[k - 1])
				BAD();
	}
	if (!(plan->relaxed & PLANNER_RELAXED_CLIENT) &&
	    (double)same_client > o->same_client_max_share * (double)total)
		BAD();
	for (size_t i = 0; i < n; i++) {
		double base = p->in[i].volume ? p->in[i].volume : mean;

		if (plan->unplaced == 0 && out[i] != p->in[i].volume)
			BAD();
		if (!(plan->relaxed & PLANNER_RELAXED_INBOUND_CAP) &&
		    (double)inb[i] > o->inbound_cap_factor * base + 1e-9)
			BAD();
		for (size_t q = 0; q < MAXP; q++)
			if (!(plan->relaxed & PLANNER_RELAXED_PROVIDER) &&
			    cap_total > 0 &&
			    (double)byprov[i * MAXP + q] >
				p->in[i].volume * cap_prov[q] / cap_total +
				    1.0 + 1e-9)
				BAD();
	}
	free(out);
	free(inb);
	free(byprov);
	free(rec);
	free(today);
	return bad;
}

static void test_random_pools(void)
{
	struct rng rng;
	int clean = 0, big = 0;

	test_begin("random pools keep every rule");
	rng_seed(&rng, 42);
	for (int round = 0; round < 200; round++) {
		struct pool p;
		struct planner_options o;
		struct planner_plan plan, again, other;
		struct hearth_err err = {0};
		size_t n = 2 + rng_uniform(&rng, 299);
		long mark;

		pool_make(&p, &rng, n);
		planner_options_init(&o, rng_next_u64(&rng),
				     DAY + (int64_t)round);
		mark = log_size();
		test_assert(planner_plan_day(p.in, p.n, p.recent, p.n_recent,
					     &o, &plan, &err) == 0);
		test_assert(plan_check(&p, &o, &plan) == 0);
		if ((plan.relaxed & ~PLANNER_RELAXED_SPACING) != 0 ||
		    plan.unplaced > 0)
			test_assert(log_has(mark, "planner day="));
		else
			test_assert(log_size() == mark ||
				    (plan.relaxed & PLANNER_RELAXED_SPACING));
		if (n >= 100) {
			big++;
			clean +=
			    (plan.relaxed & ~PLANNER_RELAXED_SPACING) == 0 &&
			    plan.unplaced == 0;
		}

		/* same inputs, same bytes; another day, another plan */
		test_assert(planner_plan_day(p.in, p.n, p.recent, p.n_recent,
					     &o, &again, &err) == 0);
		test_assert(again.n_sends == plan.n_sends);
		test_assert(plan.n_sends == 0 ||
			    memcmp(again.sends, plan.sends,
				   plan.n_sends * sizeof(*plan.sends)) == 0);
		o.day_index++;
		test_assert(planner_plan_day(p.in, p.n, p.recent, p.n_recent,
					     &o, &other, &err) == 0);
		test_assert(plan.n_sends < 4 || other.n_sends != plan.n_sends ||
			    memcmp(other.sends, plan.sends,
				   plan.n_sends * sizeof(*plan.sends)) != 0);
		planner_plan_free(&plan);
		planner_plan_free(&again);
		planner_plan_free(&other);
		pool_free(&p);
	}
	/* big enough pools meet every rule without relaxing */
	test_assert(big > 0 && clean * 100 >= big * 95);
	printf("  %d of %d pools of 100+ inboxes met every rule\n", clean, big);
	test_end();
}

static void test_two_inboxes(void)
{
	struct planner_inbox in[2] = {
	    {.id = 1,
	     .domain_id = 1,
	     .client_id = 1,
	     .provider_id = 1,
	     .volume = 4,
	     .window_start_mins = 540,
	     .window_end_mins = 1020,
	     .utc_offset_mins = 120,
	     .receives = true},
	    {.id = 2,
	     .domain_id = 2,
	     .client_id = 2,
	     .provider_id = 2,
	     .volume = 3,
	     .window_start_mins = 480,
	     .window_end_mins = 600,
	     .utc_offset_mins = -300,
	     .receives = true},
	};
	struct planner_options o;
	struct planner_plan plan;
	struct hearth_err err = {0};
	size_t ab = 0, ba = 0;

	test_begin("two inboxes on two domains warm each other");
	planner_options_init(&o, 7, DAY);
	test_assert(planner_plan_day(in, 2, NULL, 0, &o, &plan, &err) == 0);
	test_assert(plan.n_sends == 7 && plan.unplaced == 0);
	for (size_t i = 0; i < plan.n_sends; i++) {
		ab += plan.sends[i].sender_id == 1 &&
		      plan.sends[i].recipient_id == 2;
		ba += plan.sends[i].sender_id == 2 &&
		      plan.sends[i].recipient_id == 1;
	}
	test_assert(ab == 4 && ba == 3);
	/* pairs repeat within the day: said so */
	test_assert(plan.relaxed & PLANNER_RELAXED_REPEATS);
	planner_plan_free(&plan);
	test_end();
}

static void test_one_domain(void)
{
	struct planner_inbox in[5];
	struct planner_options o;
	struct planner_plan plan;
	struct hearth_err err = {0};
	long mark = log_size();

	test_begin("a pool on one domain plans nothing and says so");
	for (int i = 0; i < 5; i++)
		in[i] = (struct planner_inbox){.id = i + 1,
					       .domain_id = 9,
					       .client_id = (uint32_t)i,
					       .provider_id = 1,
					       .volume = 10,
					       .window_start_mins = 480,
					       .window_end_mins = 1080,
					       .receives = true};
	planner_options_init(&o, 7, DAY);
	test_assert(planner_plan_day(in, 5, NULL, 0, &o, &plan, &err) == 0);
	test_assert(plan.n_sends == 0 && plan.unplaced == 50);
	test_assert(log_has(mark, "unplaced=50"));
	planner_plan_free(&plan);
	planner_plan_free(&plan);
	test_end();
}

static void test_spacing_shrinks(void)
{
	struct planner_inbox in[2] = {
	    {.id = 1,
	     .domain_id = 1,
	     .volume = 30,
	     .window_start_mins = 600,
	     .window_end_mins = 660,
	     .receives = true},
	    {.id = 2,
	     .domain_id = 2,
	     .client_id = 1,
	     .volume = 30,
	     .window_start_mins = 0,
	     .window_end_mins = 1440,
	     .receives = true},
	};
	struct planner_options o;
	struct planner_plan plan;
	struct hearth_err err = {0};

	test_begin("a short window shrinks the spacing, within the window");
	planner_options_init(&o, 1, DAY);
	test_assert(planner_plan_day(in, 2, NULL, 0, &o, &plan, &err) == 0);
	test_assert(plan.relaxed & PLANNER_RELAXED_SPACING);
	test_assert(plan.n_spacing_shrunk == 1);
	for (size_t i = 0; i < plan.n_sends; i++) {
		int64_t l = plan.sends[i].at - (int64_t)DAY * 86400;

		if (plan.sends[i].sender_id == 1)
			test_assert(l >= 600 * 60 && l < 660 * 60);
		else
			test_assert(l >= 0 && l < 86400);
		if (i > 0 &&
		    plan.sends[i - 1].sender_id == plan.sends[i].sender_id)
			test_assert(plan.sends[i].at >= plan.sends[i - 1].at);
	}
	planner_plan_free(&plan);
	test_end();
}

static void test_invalid(void)
{
	struct planner_inbox in[2] = {
	    {.id = 1,
	     .domain_id = 1,
	     .volume = 3,
	     .window_start_mins = 600,
	     .window_end_mins = 600,
	     .receives = true},
	    {.id = 2,
	     .domain_id = 2,
	     .volume = 3,
	     .window_start_mins = 600,
	     .window_end_mins = 700,
	     .receives = true},
	};
	struct planner_options o;
	struct planner_plan plan;
	struct hearth_err err = {0};

	test_begin("empty windows and duplicate ids are refused");
	planner_options_init(&o, 1, DAY);
	test_assert(planner_plan_day(in, 2, NULL, 0, &o, &plan, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strstr(err.msg, "window") != NULL);
	test_assert(plan.sends == NULL);
	in[0].window_end_mins = 700;
	in[1].id = 1;
	test_assert(planner_plan_day(in, 2, NULL, 0, &o, &plan, &err) == -1);
	in[1].id = 2;
	o.inbound_cap_factor = 0.5;
	test_assert(planner_plan_day(in, 2, NULL, 0, &o, &plan, &err) == -1);
	o.inbound_cap_factor = 2;
	test_assert(planner_plan_day(in, 2, NULL, 0, &o, &plan, &err) == 0);
	planner_plan_free(&plan);
	/* nothing to plan is not an error */
	test_assert(planner_plan_day(NULL, 0, NULL, 0, &o, &plan, &err) == 0);
	test_assert(plan.n_sends == 0 && plan.unplaced == 0);
	planner_plan_free(&plan);
	test_end();
}

static void test_reply_at(void)
{
	struct planner_inbox r = {.id = 5,
				  .window_start_mins = 480,
				  .window_end_mins = 1080,
				  .utc_offset_mins = 60};
	int64_t t0 = (int64_t)DAY * 86400 + 10 * 3600;
	int within_4h = 0, in_window = 0;

	test_begin("replies come minutes to a day later, never on old mail");
	for (int64_t x = 0; x < 2000; x++) {
		int64_t at = planner_reply_at(t0, t0 + 60, &r, 9, x, 3);
		int64_t l = ((at + 3600) % 86400 + 86400) % 86400;

		test_assert(at >= t0 + 5 * 60 && at <= t0 + 86400);
		test_assert(at == planner_reply_at(t0, t0 + 60, &r, 9, x, 3));
		within_4h += at - t0 <= 4 * 3600;
		in_window += l >= 480 * 60 && l < 1080 * 60;
	}
	test_assert(within_4h > 1000);
	test_assert(in_window > 1800);
	/* seen two days late: answered after it was seen */
	test_assert(planner_reply_at(t0, t0 + 2 * 86400, &r, 9, 1, 3) >
		    t0 + 2 * 86400);
	test_assert(planner_reply_at(t0, t0 + 3 * 86400 + 1, &r, 9, 1, 3) ==
		    -1);
	test_assert(planner_reply_at(t0, t0 + 86400 + 1, NULL, 9, 1, 1) == -1);
	test_assert(planner_reply_at(t0, t0, NULL, 9, 1, 1) > t0);
	test_end();
}

int main(void)
{
	log_file = tmpfile();
	if (log_file == NULL)
		return EXIT_FAILURE;
	log_set_stream(log_file);
	test_random_pools();
	test_two_inboxes();
	test_one_domain();
	test_spacing_shrinks();
	test_invalid();
	test_reply_at();
	log_set_stream(NULL);
	fclose(log_file);
	return test_exit();
}
