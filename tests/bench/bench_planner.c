// SPDX-License-Identifier: MIT
/*
 * How fast does the planner plan a big pool's day? Makes a synthetic pool of
 * INBOXES inboxes (default 100,000) over 30,000 domains, 500 clients and 6
 * providers, volumes 3 to 40, windows of 6 to 10 hours in 24 time zones,
 * and a week of recent pairs (one per inbox and day), then plans one day.
 * Prints the wall time of the plan, the peak resident memory of the
 * process, the sends planned, what was relaxed and what stayed unplaced.
 * Goals: under 1 s and 300 MB. Exits 1 only when the plan breaks the
 * same-domain rule or loses volume, never because of a timing.
 *
 * usage: bench_planner [INBOXES]
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "hearth/planner.h"
#include "hearth/rng.h"
#include "hearth/xalloc.h"

static double now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	struct planner_inbox *in;
	struct planner_recent_pair *recent;
	struct planner_options o;
	struct planner_plan plan;
	struct hearth_err err = {0};
	struct rng rng;
	struct rusage ru;
	size_t total = 0, n_recent, same_domain = 0;
	double t0, secs;
	int ret = 0;

	if (n < 2) {
		fprintf(stderr, "usage: bench_planner [INBOXES >= 2]\n");
		return 2;
	}
	in = xcalloc(n, sizeof(*in));
	rng_seed(&rng, 20240601);
	for (size_t i = 0; i < n; i++) {
		struct planner_inbox *b = &in[i];

		b->id = (int64_t)(i * 3 + 17);
		b->domain_id = (uint32_t)rng_uniform(&rng, 30000);
		b->client_id = (uint32_t)rng_uniform(&rng, 500);
		b->provider_id = (uint32_t)rng_uniform(&rng, 6);
		b->volume = (unsigned)(3 + rng_uniform(&rng, 38));
		b->window_start_mins = (int)(7 * 60 + rng_uniform(&rng, 180));
		b->window_end_mins =
		    b->window_start_mins + (int)(360 + rng_uniform(&rng, 241));
		b->utc_offset_mins = (int)rng_uniform(&rng, 24) * 60 - 660;
		b->receives = true;
		total += b->volume;
	}
	n_recent = n * 7;
	recent = xcalloc(n_recent, sizeof(*recent));
	for (size_t i = 0; i < n_recent; i++) {
		recent[i].sender_id = in[i % n].id;
		recent[i].recipient_id = in[rng_uniform(&rng, n)].id;
	}
	planner_options_init(&o, 0x900d5eed, 19800);

	t0 = now_secs();
	if (planner_plan_day(in, n, recent, n_recent, &o, &plan, &err) < 0) {
		fprintf(stderr, "bench_planner: %s\n", err.msg);
		return 1;
	}
	secs = now_secs() - t0;
	getrusage(RUSAGE_SELF, &ru);

	for (size_t i = 0; i < plan.n_sends; i++) {
		/* ids are i * 3 + 17 */
		size_t a = (size_t)(plan.sends[i].sender_id - 17) / 3;
		size_t b = (size_t)(plan.sends[i].recipient_id - 17) / 3;

		same_domain += in[a].domain_id == in[b].domain_id;
	}
	printf("inboxes                     %zu (30000 domains, 500 clients, "
	       "6 providers)\n",
	       n);
	printf("volume                      %zu\n", total);
	printf("recent pairs                %zu\n", n_recent);
	printf("sends planned               %zu\n", plan.n_sends);
	printf("unplaced                    %zu\n", plan.unplaced);
	printf("relaxed                     repeats=%zu provider=%zu "
	       "client=%zu inbound_cap=%zu spacing_shrunk=%zu\n",
	       plan.n_relaxed_repeats, plan.n_relaxed_provider,
	       plan.n_relaxed_client, plan.n_relaxed_inbound_cap,
	       plan.n_spacing_shrunk);
	printf("wall time                   %.3f s (goal < 1 s)\n", secs);
	printf("peak RSS                    %.1f MB (goal < 300 MB)\n",
	       (double)ru.ru_maxrss / 1024.0);
	if (same_domain > 0 || plan.n_sends + plan.unplaced != total) {
		printf("RULE BROKEN: same_domain=%zu\n", same_domain);
		ret = 1;
	}
	planner_plan_free(&plan);
	free(recent);
	free(in);
	return ret;
}
