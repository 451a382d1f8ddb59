// SPDX-License-Identifier: MIT
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hearth/log.h"
#include "hearth/sched.h"
#include "hearth/xalloc.h"
#include "test.h"

#define FAKE_MAX_STARTS 256
#define FAKE_MAX_IDS	64

/*
 * The fake runner: records every start, refuses on demand, and checks that
 * a job never has two runs out at once. A run is out from its start until
 * the test delivers its result, it is handed back, or its deadline passes
 * (the real worker pool kills a worker at its job's deadline).
 */
struct fake_start {
	uint64_t id;
	uint32_t run;
	int64_t at, deadline;
};

struct fake_run {
	bool out;
	uint32_t run;
	int64_t deadline;
};

struct fake {
	const int64_t *clock;
	bool refuse;
	unsigned refused;
	size_t n;
	struct fake_start starts[FAKE_MAX_STARTS];
	struct fake_run runs[FAKE_MAX_IDS];
	unsigned twice; /* starts while another run of the job was out */
	size_t n_expired;
	struct sched_outcome expired[16];
	uint64_t expired_id[16];
};

static int fake_start(void *ctx, uint64_t job_id, uint32_t run,
		      const void *payload, int64_t deadline)
{
	struct fake *f = ctx;
	struct fake_run *r = &f->runs[job_id % FAKE_MAX_IDS];

	(void)payload;
	if (f->refuse) {
		f->refused++;
		return -1;
	}
	if (r->out && r->deadline > *f->clock)
		f->twice++;
	r->out = true;
	r->run = run;
	r->deadline = deadline;
	if (f->n < FAKE_MAX_STARTS)
		f->starts[f->n++] =
		    (struct fake_start){job_id, run, *f->clock, deadline};
	return 0;
}

static void fake_expired(void *ctx, uint64_t job_id, uint32_t run,
			 const void *payload, const struct sched_outcome *o)
{
	struct fake *f = ctx;

	(void)run;
	(void)payload;
	if (f->n_expired < 16) {
		f->expired_id[f->n_expired] = job_id;
		f->expired[f->n_expired++] = *o;
	}
}

/* Deliver the result of job_id's last run, as the runner would. */
static int fake_result(struct sched *s, struct fake *f, uint64_t job_id,
		       enum hearth_fail fail, struct sched_outcome *o)
{
	struct fake_run *r = &f->runs[job_id % FAKE_MAX_IDS];

	r->out = false;
	return sched_result(s, job_id, r->run, *f->clock, fail, o);
}

static unsigned payloads_freed;

static void payload_free(void *p)
{
	payloads_freed++;
	free(p);
}

static void *payload_new(uint64_t id)
{
	uint64_t *p = xmalloc(sizeof(*p));

	*p = id;
	return p;
}

static struct sched_options test_options(void)
{
	struct sched_options o;

	sched_options_default(&o);
	o.max_running = 100;
	o.max_per_host = 100;
	o.job_deadline_secs = 120;
	o.lease_secs = 300;
	o.max_attempts = 3;
	o.backoff_base_secs = 60;
	o.backoff_max_secs = 3600;
	o.seed = 42;
	return o;
}

static struct sched *test_sched(const struct sched_options *o, struct fake *f,
				const int64_t *clock)
{
	struct sched_runner r = {fake_start, fake_expired, f};
	struct hearth_err err = {0};
	struct sched *s;

	memset(f, 0, sizeof(*f));
	f->clock = clock;
	s = sched_new(o, &r, &err);
	if (s == NULL)
		fprintf(stderr, "sched_new: %s\n", err.msg);
	return s;
}

static void add(struct sched *s, uint64_t id, const char *host, int64_t due)
{
	struct hearth_err err = {0};

	test_assert(sched_add(s, id, host, due, payload_new(id), payload_free,
			      &err) == 0);
}

static void test_order(void)
{
	struct sched_options o = test_options();
	struct fake f;
	int64_t now = 1000;
	struct sched *s = test_sched(&o, &f, &now);
	/* (id, due): order by due, ties by id; 7 is not due yet */
	static const struct {
		uint64_t id;
		int64_t due;
	} jobs[] = {{5, 990},  {3, 1000}, {9, 980}, {1, 1000},
		    {7, 1001}, {2, 990},  {4, 500}};
	static const uint64_t want[] = {4, 9, 2, 5, 1, 3};
	char host[16];

	test_begin("sched due order, ties by id, not before due");
	for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
		snprintf(host, sizeof(host), "h%zu.example", i % 3);
		add(s, jobs[i].id, host, jobs[i].due);
	}
	test_assert(sched_queued(s) == 7);
	test_assert(sched_tick(s, now) == 6);
	test_assert(f.n == 6);
	for (size_t i = 0; i < 6 && i < f.n; i++) {
		test_assert(f.starts[i].id == want[i]);
		test_assert(f.starts[i].run == 1);
		test_assert(f.starts[i].deadline == now + 120);
	}
	test_assert(sched_running(s) == 6 && sched_queued(s) == 1);
	test_assert(sched_next_wake(s) == 1001);
	now = 1001;
	test_assert(sched_tick(s, now) == 1);
	test_assert(f.n == 7 && f.starts[6].id == 7);
	test_assert(sched_tick(s, now) == 0);
	sched_free(&s);
	test_assert(s == NULL);
	test_end();
}

static void test_concurrency(void)
{
	struct sched_options o = test_options();
	struct fake f;
	int64_t now = 0;
	struct sched *s;
	struct sched_outcome out;

	test_begin("sched bounded concurrency");
	o.max_running = 3;
	s = test_sched(&o, &f, &now);
	for (uint64_t id = 1; id <= 10; id++)
		add(s, id, id % 2 ? "a.example" : "b.example", 0);
	test_assert(sched_tick(s, now) == 3);
	test_assert(sched_running(s) == 3 && sched_queued(s) == 7);
	test_assert(sched_tick(s, now) == 0);
	test_assert(fake_result(s, &f, 2, HEARTH_FAIL_NONE, &out) == 0);
	test_assert(out.verdict == SCHED_DONE);
	test_assert(sched_running(s) == 2);
	test_assert(sched_tick(s, now) == 1);
	test_assert(f.n == 4 && f.starts[3].id == 4);
	test_assert(sched_running(s) == 3);
	sched_free(&s);
	test_end();
}

static void test_per_host(void)
{
	struct sched_options o = test_options();
	struct fake f;
	int64_t now = 100;
	struct sched *s;

	test_begin("sched per-host limit lets other hosts through");
	o.max_per_host = 2;
	s = test_sched(&o, &f, &now);
	for (uint64_t id = 1; id <= 5; id++)
		add(s, id, "smtp.busy.example", 10);
	add(s, 20, "smtp.other.example", 50);
	add(s, 21, "SMTP.Other.Example", 60); /* the same host, case-blind */
	add(s, 22, "smtp.other.example", 70);
	add(s, 30, "smtp.late.example", 200);
	test_assert(sched_tick(s, now) == 4);
	test_assert(f.n == 4);
	test_assert(f.starts[0].id == 1 && f.starts[1].id == 2);
	test_assert(f.starts[2].id == 20 && f.starts[3].id == 21);
	/* both due hosts full: only the late job and the leases wake */
	test_assert(sched_next_wake(s) == 200);
	test_assert(fake_result(s, &f, 1, HEARTH_FAIL_NONE, NULL) == 0);
	test_assert(sched_next_wake(s) == 10);
	test_assert(sched_tick(s, now) == 1);
	test_assert(f.n == 5 && f.starts[4].id == 3);
	test_assert(sched_tick(s, now) == 0);
	test_assert(fake_result(s, &f, 21, HEARTH_FAIL_NONE, NULL) == 0);
	test_assert(sched_tick(s, now) == 1);
	test_assert(f.n == 6 && f.starts[5].id == 22);
	sched_free(&s);
	test_end();
}

static void test_lease(void)
{
	struct sched_options o = test_options();
	struct fake f;
	int64_t now = 0;
	struct sched *s;
	struct sched_outcome out;
	struct sched_info info;
	struct sched_stats st;

	test_begin("sched lease expiry, late result ignored, never twice");
	s = test_sched(&o, &f, &now);
	add(s, 1, "imap.example", 0);
	add(s, 2, "imap.example", 0);
	test_assert(sched_tick(s, now) == 2);
	test_assert(sched_next_wake(s) == 300);
	test_assert(fake_result(s, &f, 2, HEARTH_FAIL_NONE, NULL) == 0);
	now = 299;
	test_assert(sched_tick(s, now) == 0);
	test_assert(f.n_expired == 0);
	/* job 1 stayed silent: its lease ends, it is due and runs again */
	now = 300;
	test_assert(sched_tick(s, now) == 1);
	test_assert(f.n_expired == 1 && f.expired_id[0] == 1);
	test_assert(f.expired[0].verdict == SCHED_RETRY);
	test_assert(f.expired[0].failures == 1);
	test_assert(f.expired[0].next_due == 300);
	test_assert(f.n == 3 && f.starts[2].id == 1 && f.starts[2].run == 2);
	test_assert(f.twice == 0);
	test_assert(sched_lookup(s, 1, &info) == 1);
	test_assert(info.running && info.runs == 2 && info.failures == 1);
	test_assert(info.lease_until == 600);
	/* run 1's result comes late: not taken for run 2's */
	now = 301;
	test_assert(sched_result(s, 1, 1, now, HEARTH_FAIL_NONE, &out) == 1);
	test_assert(out.verdict == SCHED_IGNORED);
	test_assert(sched_running(s) == 1);
	test_assert(sched_result(s, 999, 1, now, HEARTH_FAIL_NONE, &out) == 1);
	test_assert(out.verdict == SCHED_IGNORED);
	test_assert(sched_result(s, 2, 1, now, HEARTH_FAIL_NONE, &out) == 1);
	sched_stats(s, &st);
	test_assert(st.ignored == 3 && st.expired == 1);
	/* two more silent runs use up the 3 attempts */
	now = 600;
	test_assert(sched_tick(s, now) == 1);
	test_assert(f.twice == 0);
	now = 900;
	payloads_freed = 0;
	test_assert(sched_tick(s, now) == 0);
	test_assert(f.n_expired == 3);
	test_assert(f.expired[2].verdict == SCHED_FAILED);
	test_assert(f.expired[2].failures == 3);
	test_assert(payloads_freed == 1);
	test_assert(sched_lookup(s, 1, &info) == 0);
	test_assert(sched_running(s) == 0 && sched_queued(s) == 0);
	test_assert(sched_next_wake(s) == INT64_MAX);
	sched_free(&s);
	test_end();
}

static void test_backoff(void)
{
	struct sched_options o = test_options();
	/* attempt: min and max delay, base 60, max 3600, jitter 25% */
	static const struct {
		unsigned attempt;
		int64_t d, lo, hi;
	} table[] = {
	    {0, 60, 45, 75},
	    {1, 60, 45, 75},
	    {2, 120, 90, 150},
	    {3, 240, 180, 300},
	    {4, 480, 360, 600},
	    {5, 960, 720, 1200},
	    {6, 1920, 1440, 2400},
	    {7, 3600, 2700, 4500},
	    {8, 3600, 2700, 4500},
	    {64, 3600, 2700, 4500},
	    {4000000000u, 3600, 2700, 4500},
	};
	struct sched_options other = o;
	int64_t seen_lo[11], seen_hi[11];
	unsigned differ = 0;

	test_begin("sched backoff follows the formula, seeded jitter");
	other.seed = 43;
	for (size_t t = 0; t < sizeof(table) / sizeof(table[0]); t++) {
		seen_lo[t] = INT64_MAX;
		seen_hi[t] = INT64_MIN;
		for (uint64_t id = 1; id <= 5000; id++) {
			int64_t v = sched_backoff(&o, id, table[t].attempt);

			test_assert(v >= table[t].lo && v <= table[t].hi);
			test_assert(v ==
				    sched_backoff(&o, id, table[t].attempt));
			differ +=
			    v != sched_backoff(&other, id, table[t].attempt);
			if (v < seen_lo[t])
				seen_lo[t] = v;
			if (v > seen_hi[t])
				seen_hi[t] = v;
		}
		/* the jitter spans the whole +-25% */
		test_assert(seen_lo[t] <=
			    table[t].lo + (table[t].hi - table[t].lo) / 20);
		test_assert(seen_hi[t] >=
			    table[t].hi - (table[t].hi - table[t].lo) / 20);
		test_assert(table[t].lo == table[t].d - table[t].d / 4);
		test_assert(table[t].hi == table[t].d + table[t].d / 4);
	}
	/* a different seed gives other delays (almost always) */
	test_assert(differ > 11 * 5000 * 9 / 10);
	/* another attempt of the same job draws again */
	test_assert(sched_backoff(&o, 7, 8) != sched_backoff(&o, 7, 9) ||
		    sched_backoff(&o, 7, 9) != sched_backoff(&o, 7, 10));
	/* tiny delays: no jitter below 4 seconds, never below 1 */
	o.backoff_base_secs = 1;
	o.backoff_max_secs = 3;
	test_assert(sched_backoff(&o, 1, 1) == 1);
	test_assert(sched_backoff(&o, 1, 2) == 2);
	test_assert(sched_backoff(&o, 1, 3) == 3);
	o.backoff_base_secs = 0;
	test_assert(sched_backoff(&o, 1, 1) == 1);
	test_end();
}

static void test_retry(void)
{
	struct sched_options o = test_options();
	struct fake f;
	int64_t now = 1000;
	struct sched *s = test_sched(&o, &f, &now);
	struct sched_outcome out;
	struct sched_info info;

	test_begin("sched retry after backoff, max attempts then failed");
	add(s, 5, "smtp.example", now);
	test_assert(sched_tick(s, now) == 1);
	now = 1010;
	test_assert(fake_result(s, &f, 5, HEARTH_FAIL_RETRY, &out) == 0);
	test_assert(out.verdict == SCHED_RETRY && out.failures == 1);
	test_assert(out.next_due == 1010 + sched_backoff(&o, 5, 1));
	test_assert(out.next_due >= 1010 + 45 && out.next_due <= 1010 + 75);
	test_assert(sched_lookup(s, 5, &info) == 1);
	test_assert(!info.running && info.due == out.next_due);
	test_assert(sched_next_wake(s) == out.next_due);
	test_assert(sched_tick(s, out.next_due - 1) == 0);
	now = out.next_due;
	test_assert(sched_tick(s, now) == 1);
	test_assert(f.starts[1].run == 2);
	test_assert(fake_result(s, &f, 5, HEARTH_FAIL_BACKOFF, &out) == 0);
	test_assert(out.verdict == SCHED_RETRY && out.failures == 2);
	test_assert(out.next_due == now + sched_backoff(&o, 5, 2));
	now = out.next_due;
	test_assert(sched_tick(s, now) == 1);
	payloads_freed = 0;
	test_assert(fake_result(s, &f, 5, HEARTH_FAIL_RETRY, &out) == 0);
	test_assert(out.verdict == SCHED_FAILED && out.failures == 3);
	test_assert(out.fail == HEARTH_FAIL_RETRY);
	test_assert(payloads_freed == 1);
	test_assert(sched_lookup(s, 5, &info) == 0);
	test_assert(sched_next_wake(s) == INT64_MAX);
	/* same seed, same failure times: same schedule */
	sched_free(&s);
	test_end();
}

static void test_permanent(void)
{
	static const enum hearth_fail fails[] = {
	    HEARTH_FAIL_PERMANENT, HEARTH_FAIL_AUTH, HEARTH_FAIL_TLS};
	struct sched_options o = test_options();
	struct fake f;
	int64_t now = 0;
	struct sched *s = test_sched(&o, &f, &now);
	struct sched_outcome out;
	struct sched_stats st;

	test_begin("sched permanent, auth and TLS failures fail at once");
	for (uint64_t id = 1; id <= 3; id++)
		add(s, id, "smtp.example", 0);
	test_assert(sched_tick(s, now) == 3);
	payloads_freed = 0;
	for (uint64_t id = 1; id <= 3; id++) {
		test_assert(fake_result(s, &f, id, fails[id - 1], &out) == 0);
		test_assert(out.verdict == SCHED_FAILED);
		test_assert(out.fail == fails[id - 1]);
		test_assert(out.failures == 0);
	}
	test_assert(payloads_freed == 3);
	test_assert(sched_running(s) == 0 && sched_queued(s) == 0);
	sched_stats(s, &st);
	test_assert(st.failed == 3 && st.retried == 0 && st.done == 0);
	sched_free(&s);
	test_end();
}

static void test_drain(void)
{
	struct sched_options o = test_options();
	struct fake f;
	int64_t now = 0;
	struct sched *s;
	struct sched_outcome out;

	test_begin("sched drain stops new starts, running ones finish");
	o.max_running = 2;
	s = test_sched(&o, &f, &now);
	for (uint64_t id = 1; id <= 4; id++)
		add(s, id, "smtp.example", 0);
	test_assert(sched_tick(s, now) == 2);
	sched_drain(s);
	test_assert(sched_draining(s));
	now = 10;
	test_assert(fake_result(s, &f, 1, HEARTH_FAIL_NONE, &out) == 0);
	test_assert(out.verdict == SCHED_DONE);
	test_assert(sched_tick(s, now) == 0);
	/* queued jobs no longer wake the loop; the lease still does */
	test_assert(sched_next_wake(s) == 300);
	test_assert(fake_result(s, &f, 2, HEARTH_FAIL_RETRY, &out) == 0);
	test_assert(out.verdict == SCHED_RETRY);
	test_assert(sched_running(s) == 0 && sched_queued(s) == 3);
	test_assert(sched_next_wake(s) == INT64_MAX);
	test_assert(sched_tick(s, 100000) == 0);
	test_assert(f.n == 2);
	sched_free(&s);
	test_end();
}

static void test_hand_back(void)
{
	struct sched_options o = test_options();
	struct fake f;
	int64_t now = 0;
	struct sched *s = test_sched(&o, &f, &now);
	struct sched_outcome out;
	struct sched_info info;
	struct sched_stats st;

	test_begin("sched hand back requeues without counting an attempt");
	add(s, 1, "smtp.example", 0);
	add(s, 2, "smtp.example", 0);
	test_assert(sched_tick(s, now) == 2);
	now = 5;
	test_assert(fake_result(s, &f, 2, HEARTH_FAIL_RETRY, &out) == 0);
	now = out.next_due;
	test_assert(sched_tick(s, now) == 1); /* job 2, run 2 */
	sched_drain(s);
	now += 30;
	sched_hand_back(s, now);
	f.runs[1].out = f.runs[2].out = false; /* the runner was stopped */
	test_assert(sched_running(s) == 0 && sched_queued(s) == 2);
	test_assert(sched_lookup(s, 1, &info) == 1);
	test_assert(!info.running && info.due == now);
	test_assert(info.runs == 1 && info.failures == 0);
	test_assert(sched_lookup(s, 2, &info) == 1);
	test_assert(!info.running && info.due == now);
	test_assert(info.runs == 2 && info.failures == 1);
	/* a result of a handed-back run is ignored */
	test_assert(sched_result(s, 1, 1, now, HEARTH_FAIL_NONE, &out) == 1);
	test_assert(out.verdict == SCHED_IGNORED);
	sched_stats(s, &st);
	test_assert(st.handed_back == 2 && st.ignored == 1);
	test_assert(sched_next_wake(s) == INT64_MAX); /* still draining */
	sched_free(&s);

	/* a crash recovery: hand back, then start again */
	s = test_sched(&o, &f, &now);
	add(s, 1, "smtp.example", now);
	test_assert(sched_tick(s, now) == 1);
	sched_hand_back(s, now + 1);
	f.runs[1].out = false;
	test_assert(sched_next_wake(s) == now + 1);
	test_assert(sched_tick(s, now + 1) == 1);
	test_assert(f.n == 2 && f.starts[1].run == 2 && f.twice == 0);
	test_assert(sched_lookup(s, 1, &info) == 1 && info.failures == 0);
	sched_free(&s);
	test_end();
}

static void test_next_wake(void)
{
	struct sched_options o = test_options();
	struct fake f;
	int64_t now = 1000;
	struct sched *s;

	test_begin("sched next_wake in each state");
	o.max_running = 2;
	o.max_per_host = 1;
	s = test_sched(&o, &f, &now);
	test_assert(sched_next_wake(s) == INT64_MAX); /* empty */
	add(s, 1, "a.example", 2000);
	test_assert(sched_next_wake(s) == 2000); /* queued, future */
	add(s, 2, "a.example", 500);
	test_assert(sched_next_wake(s) == 500); /* overdue: now */
	/* refused: not before a second later */
	f.refuse = true;
	test_assert(sched_tick(s, now) == 0);
	test_assert(f.refused == 1);
	test_assert(sched_next_wake(s) == now + SCHED_REFUSED_RETRY_SECS);
	test_assert(sched_queued(s) == 2);
	f.refuse = false;
	now += 1;
	/* host a at its limit: job 1 does not count, the lease does */
	test_assert(sched_tick(s, now) == 1);
	test_assert(sched_next_wake(s) == now + 300);
	add(s, 3, "b.example", 1400);
	test_assert(sched_next_wake(s) == 1301); /* the lease comes first */
	sched_cancel(s, 3);
	add(s, 3, "b.example", 1200);
	test_assert(sched_next_wake(s) == 1200);
	now = 1200;
	test_assert(sched_tick(s, now) == 1);
	/* slots full: only the leases */
	add(s, 4, "c.example", 1600);
	test_assert(sched_next_wake(s) == 1001 + 300);
	sched_drain(s);
	test_assert(sched_next_wake(s) == 1001 + 300);
	sched_hand_back(s, now);
	test_assert(sched_next_wake(s) == INT64_MAX); /* draining, none out */
	sched_free(&s);
	test_end();
}

static void test_add_cancel(void)
{
	struct sched_options o = test_options();
	struct fake f;
	int64_t now = 0;
	struct sched *s;
	struct sched_runner r = {fake_start, NULL, &f};
	struct hearth_err err = {0};
	char long_host[SCHED_HOST_MAX + 2];

	test_begin("sched add refuses bad input, cancel, bad options");
	o.max_jobs = 3;
	s = test_sched(&o, &f, &now);
	payloads_freed = 0;
	add(s, 1, "a.example", 0);
	test_assert(sched_add(s, 1, "b.example", 0, payload_new(1),
			      payload_free, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(payloads_freed == 1);
	test_assert(
	    sched_add(s, 2, "", 0, payload_new(2), payload_free, &err) == -1);
	test_assert(sched_add(s, 2, NULL, 0, NULL, NULL, &err) == -1);
	memset(long_host, 'h', sizeof(long_host) - 1);
	long_host[sizeof(long_host) - 1] = '\0';
	test_assert(sched_add(s, 2, long_host, 0, NULL, NULL, &err) == -1);
	long_host[SCHED_HOST_MAX] = '\0';
	test_assert(sched_add(s, 2, long_host, 0, NULL, NULL, &err) == 0);
	add(s, 3, "a.example", 5);
	test_assert(sched_add(s, 4, "a.example", 0, payload_new(4),
			      payload_free, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_BACKOFF);
	test_assert(payloads_freed == 3);
	test_assert(sched_tick(s, 0) == 2);
	test_assert(sched_cancel(s, 1) == 0); /* running */
	test_assert(sched_cancel(s, 99) == 0);
	test_assert(sched_cancel(s, 3) == 1);
	test_assert(payloads_freed == 4);
	test_assert(sched_queued(s) == 0 && sched_next_wake(s) == 300);
	test_assert(sched_lookup(s, 3, &(struct sched_info){0}) == 0);
	sched_free(&s);
	test_assert(payloads_freed == 5);

	o = test_options();
	o.lease_secs = o.job_deadline_secs;
	test_assert(sched_new(&o, &r, &err) == NULL);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	o = test_options();
	o.max_per_host = 0;
	test_assert(sched_new(&o, &r, &err) == NULL);
	o = test_options();
	o.backoff_max_secs = 10;
	test_assert(sched_new(&o, &r, &err) == NULL);
	o = test_options();
	r.start = NULL;
	test_assert(sched_new(&o, &r, &err) == NULL);
	test_end();
}

/* The big run: 100,000 jobs over 1,000 hosts. */
#define BIG_JOBS  100000u
#define BIG_HOSTS 1000u

/* Scatter jobs over hosts independently of their due times. */
static unsigned big_host(uint64_t id)
{
	return (unsigned)(((id ^ (id >> 7)) * 2654435761u) % BIG_HOSTS);
}

struct big {
	uint64_t *pending; /* started this tick, finished on the next */
	size_t n_pending;
	uint8_t *starts; /* per job */
	unsigned *host_out;
	unsigned out, max_out, max_host_out;
	unsigned twice;
};

static int big_start(void *ctx, uint64_t job_id, uint32_t run,
		     const void *payload, int64_t deadline)
{
	struct big *b = ctx;

	(void)run;
	(void)payload;
	(void)deadline;
	if (b->starts[job_id]++ != 0)
		b->twice++;
	b->pending[b->n_pending++] = job_id;
	b->out++;
	if (b->out > b->max_out)
		b->max_out = b->out;
	if (++b->host_out[big_host(job_id)] > b->max_host_out)
		b->max_host_out = b->host_out[big_host(job_id)];
	return 0;
}

static void test_big(void)
{
	struct sched_options o = test_options();
	struct big b = {0};
	struct sched_runner r = {big_start, NULL, &b};
	struct hearth_err err = {0};
	struct sched *s;
	struct sched_stats st;
	struct timespec t0, t1;
	int64_t now = 0;
	uint64_t *done_now;
	size_t ticks = 0, bad = 0, done = 0;
	char host[32];

	test_begin("sched 100,000 jobs over 1,000 hosts run to completion");
	o.max_running = 64;
	o.max_per_host = 2;
	b.pending = xcalloc(o.max_running, sizeof(*b.pending));
	done_now = xcalloc(o.max_running, sizeof(*done_now));
	b.starts = xcalloc(BIG_JOBS, 1);
	b.host_out = xcalloc(BIG_HOSTS, sizeof(*b.host_out));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	s = sched_new(&o, &r, &err);
	test_assert(s != NULL);
	for (uint64_t id = 0; id < BIG_JOBS; id++) {
		snprintf(host, sizeof(host), "mx%u.example", big_host(id));
		/* due over ten minutes, not in id order */
		if (sched_add(s, id, host, (int64_t)((id * 7919) % 600), NULL,
			      NULL, &err) != 0)
			bad++;
	}
	test_assert(bad == 0);
	test_assert(sched_queued(s) == BIG_JOBS);
	while (sched_queued(s) + sched_running(s) > 0 && ticks < 10000000) {
		size_t n = b.n_pending;

		/* the jobs started on the last tick finish now */
		memcpy(done_now, b.pending, n * sizeof(*done_now));
		b.n_pending = 0;
		for (size_t i = 0; i < n; i++) {
			b.out--;
			b.host_out[big_host(done_now[i])]--;
			if (sched_result(s, done_now[i], 1, now,
					 HEARTH_FAIL_NONE, NULL) != 0)
				bad++;
			done++;
		}
		if (n == 0) {
			int64_t wake = sched_next_wake(s);

			test_assert(wake != INT64_MAX);
			if (wake > now)
				now = wake;
		}
		sched_tick(s, now);
		ticks++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sched_stats(s, &st);
	test_assert(bad == 0);
	test_assert(done == BIG_JOBS);
	test_assert(st.started == BIG_JOBS && st.done == BIG_JOBS);
	test_assert(st.expired == 0 && st.ignored == 0 && st.failed == 0);
	test_assert(b.twice == 0);
	for (uint64_t id = 0; id < BIG_JOBS; id++)
		if (b.starts[id] != 1)
			bad++;
	test_assert(bad == 0);
	test_assert(b.max_out <= o.max_running && b.max_out == o.max_running);
	test_assert(b.max_host_out <= o.max_per_host);
	printf("sched big run: %u jobs, %u hosts, %zu ticks, %.3f s wall\n",
	       BIG_JOBS, BIG_HOSTS, ticks,
	       (double)(t1.tv_sec - t0.tv_sec) +
		   (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	sched_free(&s);
	free(b.pending);
	free(done_now);
	free(b.starts);
	free(b.host_out);
	test_end();
}

int main(void)
{
	/* lease expiries and ignored results log warnings: keep them quiet */
	log_set_level(LOG_LEVEL_ERROR);
	test_order();
	test_concurrency();
	test_per_host();
	test_lease();
	test_backoff();
	test_retry();
	test_permanent();
	test_drain();
	test_hand_back();
	test_next_wake();
	test_add_cancel();
	test_big();
	return test_exit();
}
