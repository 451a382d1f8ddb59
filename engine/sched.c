// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hearth/log.h"
#include "hearth/rng.h"
#include "hearth/sched.h"
#include "hearth/xalloc.h"

#define SCHED_NO_POS SIZE_MAX

/*
 * The layout: every job is in the id table. A queued job sits in its host's
 * heap, ordered by (due, id); a running one in the lease heap, ordered by
 * (lease_until, id). The ready heap holds the hosts that could start a job
 * (something queued, below max_per_host), ordered by their earliest job:
 * its top is the earliest job that may start, so a tick never looks at a
 * job held back by its host, and 100,000 queued jobs cost O(log n) a start.
 */
struct sched_host;

struct sched_job {
	uint64_t id;
	struct sched_host *host;
	int64_t due;
	int64_t lease_until;
	void *payload;
	void (*free_fn)(void *);
	uint32_t runs;
	unsigned failures;
	bool running;
	size_t pos; /* in the host heap (queued) or the lease heap (running) */
};

struct sched_heap {
	void **v;
	size_t n, cap;
	bool (*less)(const void *a, const void *b);
	void (*set_pos)(void *p, size_t pos);
};

struct sched_host {
	char *name;
	uint64_t hash;
	unsigned running;
	struct sched_heap queue;
	size_t ready_pos;
};

/* Open addressing, linear probing, backward-shift deletion; hash 0 = free. */
struct sched_slot {
	uint64_t hash;
	void *p;
};

struct sched_table {
	struct sched_slot *slots;
	size_t cap, n;
};

struct sched {
	struct sched_options opts;
	struct sched_runner runner;
	struct sched_table jobs;  /* by id */
	struct sched_table hosts; /* by name, case-blind */
	struct sched_heap ready;  /* hosts */
	struct sched_heap leases; /* running jobs */
	size_t running, queued;
	bool draining;
	int64_t refused_until;
	struct sched_stats stats;
};

static int64_t sched_add_secs(int64_t t, int64_t secs)
{
	if (secs > 0 && t > INT64_MAX - secs)
		return INT64_MAX;
	return t + secs;
}

/* splitmix64's finaliser; never 0, which marks a free slot. */
static uint64_t sched_mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return z != 0 ? z : 1;
}

static uint64_t sched_host_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
		unsigned char l = *c >= 'A' && *c <= 'Z' ? *c + 32 : *c;

		h = (h ^ l) * 0x100000001b3ULL;
	}
	return sched_mix(h);
}

/* --- the tables --- */

static void sched_table_put(struct sched_table *t, uint64_t hash, void *p);

static void sched_table_grow(struct sched_table *t)
{
	struct sched_slot *old = t->slots;
	size_t old_cap = t->cap;

	t->cap = old_cap == 0 ? 64 : old_cap * 2;
	t->slots = xcalloc(t->cap, sizeof(*t->slots));
	t->n = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].hash != 0)
			sched_table_put(t, old[i].hash, old[i].p);
	free(old);
}

static void sched_table_put(struct sched_table *t, uint64_t hash, void *p)
{
	size_t i;

	if ((t->n + 1) * 2 > t->cap)
		sched_table_grow(t);
	i = hash & (t->cap - 1);
	while (t->slots[i].hash != 0)
		i = (i + 1) & (t->cap - 1);
	t->slots[i].hash = hash;
	t->slots[i].p = p;
	t->n++;
}

static void sched_table_del(struct sched_table *t, uint64_t hash, void *p)
{
	size_t mask = t->cap - 1, i = hash & mask, j;

	while (t->slots[i].p != p)
		i = (i + 1) & mask;
	/*
	 * Backward shift: pull later entries of the probe run into the hole
	 * when their home slot is not after it, so lookups need no tombstone.
	 */
	for (j = (i + 1) & mask; t->slots[j].hash != 0; j = (j + 1) & mask) {
		size_t home = t->slots[j].hash & mask;

		if (((j - home) & mask) >= ((j - i) & mask)) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	t->slots[i].hash = 0;
	t->slots[i].p = NULL;
	t->n--;
}

static struct sched_job *sched_find_job(const struct sched *s, uint64_t id)
{
	const struct sched_table *t = &s->jobs;
	uint64_t hash = sched_mix(id);
	size_t i;

	if (t->cap == 0)
		return NULL;
	for (i = hash & (t->cap - 1); t->slots[i].hash != 0;
	     i = (i + 1) & (t->cap - 1)) {
		struct sched_job *j = t->slots[i].p;

		if (t->slots[i].hash == hash && j->id == id)
			return j;
	}
	return NULL;
}

static struct sched_host *sched_find_host(const struct sched *s,
					  const char *name, uint64_t hash)
{
	const struct sched_table *t = &s->hosts;
	size_t i;

	if (t->cap == 0)
		return NULL;
	for (i = hash & (t->cap - 1); t->slots[i].hash != 0;
	     i = (i + 1) & (t->cap - 1)) {
		struct sched_host *h = t->slots[i].p;

		if (t->slots[i].hash == hash && strcasecmp(h->name, name) == 0)
			return h;
	}
	return NULL;
}

/* --- the heaps --- */

static void sched_heap_place(struct sched_heap *h, size_t i, void *p)
{
	h->v[i] = p;
	h->set_pos(p, i);
}

static void sched_heap_up(struct sched_heap *h, size_t i)
{
	void *p = h->v[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!h->less(p, h->v[parent]))
			break;
		sched_heap_place(h, i, h->v[parent]);
		i = parent;
	}
	sched_heap_place(h, i, p);
}

static void sched_heap_down(struct sched_heap *h, size_t i)
{
	void *p = h->v[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->less(h->v[c + 1], h->v[c]))
			c++;
		if (!h->less(h->v[c], p))
			break;
		sched_heap_place(h, i, h->v[c]);
		i = c;
	}
	sched_heap_place(h, i, p);
}

static void sched_heap_push(struct sched_heap *h, void *p)
{
	if (h->n == h->cap) {
		h->cap = h->cap == 0 ? 8 : h->cap * 2;
		h->v = xreallocarray(h->v, h->cap, sizeof(*h->v));
	}
	h->v[h->n++] = p;
	sched_heap_up(h, h->n - 1);
}

/* After the key of v[i] changed: it moves up or down, never both. */
static void sched_heap_fix(struct sched_heap *h, size_t i)
{
	if (i > 0 && h->less(h->v[i], h->v[(i - 1) / 2]))
		sched_heap_up(h, i);
	else
		sched_heap_down(h, i);
}

static void sched_heap_remove(struct sched_heap *h, size_t i)
{
	void *gone = h->v[i];

	h->n--;
	if (i < h->n) {
		sched_heap_place(h, i, h->v[h->n]);
		sched_heap_fix(h, i);
	}
	h->set_pos(gone, SCHED_NO_POS);
}

static bool sched_job_due_less(const void *a, const void *b)
{
	const struct sched_job *x = a, *y = b;

	return x->due < y->due || (x->due == y->due && x->id < y->id);
}

static bool sched_job_lease_less(const void *a, const void *b)
{
	const struct sched_job *x = a, *y = b;

	return x->lease_until < y->lease_until ||
	       (x->lease_until == y->lease_until && x->id < y->id);
}

static void sched_job_set_pos(void *p, size_t pos)
{
	((struct sched_job *)p)->pos = pos;
}

static bool sched_host_less(const void *a, const void *b)
{
	const struct sched_host *x = a, *y = b;

	return sched_job_due_less(x->queue.v[0], y->queue.v[0]);
}

static void sched_host_set_pos(void *p, size_t pos)
{
	((struct sched_host *)p)->ready_pos = pos;
}

/* --- hosts and jobs --- */

/*
 * After a host's queue or running count changed: keep it in the ready heap
 * exactly while it could start a job, and drop it once it has no job.
 */
static void sched_host_update(struct sched *s, struct sched_host *h)
{
	bool ready = h->queue.n > 0 && h->running < s->opts.max_per_host;

	if (ready && h->ready_pos == SCHED_NO_POS)
		sched_heap_push(&s->ready, h);
	else if (ready)
		sched_heap_fix(&s->ready, h->ready_pos);
	else if (h->ready_pos != SCHED_NO_POS)
		sched_heap_remove(&s->ready, h->ready_pos);
	if (h->queue.n == 0 && h->running == 0) {
		sched_table_del(&s->hosts, h->hash, h);
		free(h->queue.v);
		free(h->name);
		free(h);
	}
}

static struct sched_host *sched_host_get(struct sched *s, const char *name)
{
	uint64_t hash = sched_host_hash(name);
	struct sched_host *h = sched_find_host(s, name, hash);

	if (h != NULL)
		return h;
	h = xcalloc(1, sizeof(*h));
	h->name = xstrdup(name);
	h->hash = hash;
	h->queue.less = sched_job_due_less;
	h->queue.set_pos = sched_job_set_pos;
	h->ready_pos = SCHED_NO_POS;
	sched_table_put(&s->hosts, hash, h);
	return h;
}

/* Queue j (not running, in no heap) due at `due`. */
static void sched_enqueue(struct sched *s, struct sched_job *j, int64_t due)
{
	j->due = due;
	sched_heap_push(&j->host->queue, j);
	s->queued++;
	sched_host_update(s, j->host);
}

/* Take running j off its lease; the caller updates its host. */
static void sched_unlease(struct sched *s, struct sched_job *j)
{
	sched_heap_remove(&s->leases, j->pos);
	j->running = false;
	j->host->running--;
	s->running--;
}

/* Forget j (in no heap) and free it; the caller updates its host. */
static void sched_job_free(struct sched *s, struct sched_job *j)
{
	sched_table_del(&s->jobs, sched_mix(j->id), j);
	if (j->free_fn != NULL)
		j->free_fn(j->payload);
	free(j);
}

static const char *sched_host_q(const struct sched_job *j, char *buf,
				size_t size)
{
	return log_quote(j->host->name, buf, size);
}

/* --- the contract --- */

void sched_options_default(struct sched_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->max_running = 8;
	opts->max_per_host = 2;
	opts->job_deadline_secs = 120;
	opts->lease_secs = 300;
	opts->max_attempts = 5;
	opts->backoff_base_secs = 60;
	opts->backoff_max_secs = 3600;
}

struct sched *sched_new(const struct sched_options *opts,
			const struct sched_runner *runner,
			struct hearth_err *err)
{
	struct sched *s;

	if (opts->max_running == 0 || opts->max_per_host == 0 ||
	    opts->max_attempts == 0) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "sched: max_running, max_per_host and "
			       "max_attempts must be at least 1");
		return NULL;
	}
	if (opts->job_deadline_secs < 1 ||
	    opts->lease_secs <= opts->job_deadline_secs) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "sched: job_deadline_secs must be at least 1 "
			       "and lease_secs longer than it");
		return NULL;
	}
	if (opts->backoff_base_secs < 1 ||
	    opts->backoff_max_secs < opts->backoff_base_secs ||
	    opts->backoff_max_secs > SCHED_BACKOFF_MAX_SECS) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "sched: backoff needs 1 <= base <= max <= %d "
			       "secs",
			       SCHED_BACKOFF_MAX_SECS);
		return NULL;
	}
	if (runner == NULL || runner->start == NULL) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "sched: no runner start function");
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->opts = *opts;
	if (s->opts.max_jobs == 0)
		s->opts.max_jobs = SCHED_JOBS_DEFAULT_MAX;
	s->runner = *runner;
	s->ready.less = sched_host_less;
	s->ready.set_pos = sched_host_set_pos;
	s->leases.less = sched_job_lease_less;
	s->leases.set_pos = sched_job_set_pos;
	s->refused_until = INT64_MIN;
	return s;
}

void sched_free(struct sched **sp)
{
	struct sched *s = *sp;

	if (s == NULL)
		return;
	for (size_t i = 0; i < s->jobs.cap; i++) {
		struct sched_job *j = s->jobs.slots[i].p;

		if (j == NULL)
			continue;
		if (j->free_fn != NULL)
			j->free_fn(j->payload);
		free(j);
	}
	for (size_t i = 0; i < s->hosts.cap; i++) {
		struct sched_host *h = s->hosts.slots[i].p;

		if (h == NULL)
			continue;
		free(h->queue.v);
		free(h->name);
		free(h);
	}
	free(s->jobs.slots);
	free(s->hosts.slots);
	free(s->ready.v);
	free(s->leases.v);
	free(s);
	*sp = NULL;
}

int sched_add(struct sched *s, uint64_t job_id, const char *host, int64_t due,
	      void *payload, void (*free_fn)(void *), struct hearth_err *err)
{
	struct sched_job *j;

	if (host == NULL || host[0] == '\0' ||
	    strnlen(host, SCHED_HOST_MAX + 1) > SCHED_HOST_MAX) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "sched: job %llu: host missing or longer than "
			       "%d bytes",
			       (unsigned long long)job_id, SCHED_HOST_MAX);
		goto fail;
	}
	if (sched_find_job(s, job_id) != NULL) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "sched: job %llu is already queued or running",
			       (unsigned long long)job_id);
		goto fail;
	}
	if (s->jobs.n >= s->opts.max_jobs) {
		hearth_err_set(err, HEARTH_FAIL_BACKOFF, 0,
			       "sched: %zu jobs queued or running, the most "
			       "allowed",
			       s->jobs.n);
		goto fail;
	}
	j = xcalloc(1, sizeof(*j));
	j->id = job_id;
	j->host = sched_host_get(s, host);
	j->payload = payload;
	j->free_fn = free_fn;
	j->pos = SCHED_NO_POS;
	sched_table_put(&s->jobs, sched_mix(job_id), j);
	sched_enqueue(s, j, due);
	s->stats.added++;
	return 0;
fail:
	if (free_fn != NULL)
		free_fn(payload);
	return -1;
}

int sched_cancel(struct sched *s, uint64_t job_id)
{
	struct sched_job *j = sched_find_job(s, job_id);
	struct sched_host *h;

	if (j == NULL || j->running)
		return 0;
	h = j->host;
	sched_heap_remove(&h->queue, j->pos);
	s->queued--;
	sched_job_free(s, j);
	sched_host_update(s, h);
	s->stats.cancelled++;
	return 1;
}

/* The lease of the earliest running job j is over at now. */
static void sched_expire(struct sched *s, struct sched_job *j, int64_t now)
{
	struct sched_host *h = j->host;
	struct sched_outcome o = {.fail = HEARTH_FAIL_RETRY};
	char buf[SCHED_HOST_MAX + 8];

	sched_unlease(s, j);
	j->failures++;
	s->stats.expired++;
	o.failures = j->failures;
	if (j->failures >= s->opts.max_attempts) {
		o.verdict = SCHED_FAILED;
		s->stats.failed++;
	} else {
		o.verdict = SCHED_RETRY;
		o.next_due = now;
		s->stats.retried++;
	}
	log_warn("job=%llu host=%s run=%u event=lease_expired lease_until=%lld "
		 "failures=%u next=%s",
		 (unsigned long long)j->id, sched_host_q(j, buf, sizeof(buf)),
		 j->runs, (long long)j->lease_until, j->failures,
		 o.verdict == SCHED_FAILED ? "failed" : "retry");
	if (s->runner.expired != NULL)
		s->runner.expired(s->runner.ctx, j->id, j->runs, j->payload,
				  &o);
	if (o.verdict == SCHED_FAILED) {
		sched_job_free(s, j);
		sched_host_update(s, h);
	} else {
		sched_enqueue(s, j, now);
	}
}

size_t sched_tick(struct sched *s, int64_t now)
{
	size_t started = 0;

	while (s->leases.n > 0) {
		struct sched_job *j = s->leases.v[0];

		if (j->lease_until > now)
			break;
		sched_expire(s, j, now);
	}
	if (s->draining)
		return 0;
	s->refused_until = INT64_MIN;
	while (s->running < s->opts.max_running && s->ready.n > 0) {
		struct sched_host *h = s->ready.v[0];
		struct sched_job *j = h->queue.v[0];
		int64_t deadline =
		    sched_add_secs(now, s->opts.job_deadline_secs);

		if (j->due > now)
			break;
		if (s->runner.start(s->runner.ctx, j->id, j->runs + 1,
				    j->payload, deadline) != 0) {
			/* the runner is full: the rest would be refused too */
			s->stats.refused++;
			s->refused_until =
			    sched_add_secs(now, SCHED_REFUSED_RETRY_SECS);
			log_debug("job=%llu event=start_refused",
				  (unsigned long long)j->id);
			break;
		}
		sched_heap_remove(&h->queue, 0);
		s->queued--;
		j->runs++;
		j->running = true;
		j->lease_until = sched_add_secs(now, s->opts.lease_secs);
		sched_heap_push(&s->leases, j);
		h->running++;
		s->running++;
		s->stats.started++;
		started++;
		sched_host_update(s, h);
	}
	return started;
}

int64_t sched_next_wake(const struct sched *s)
{
	int64_t wake = INT64_MAX;

	if (s->leases.n > 0)
		wake = ((const struct sched_job *)s->leases.v[0])->lease_until;
	if (!s->draining && s->running < s->opts.max_running &&
	    s->ready.n > 0) {
		const struct sched_host *h = s->ready.v[0];
		int64_t due = ((const struct sched_job *)h->queue.v[0])->due;

		if (due < s->refused_until)
			due = s->refused_until;
		if (due < wake)
			wake = due;
	}
	return wake;
}

int sched_result(struct sched *s, uint64_t job_id, uint32_t run, int64_t now,
		 enum hearth_fail fail, struct sched_outcome *outcome_r)
{
	struct sched_job *j = sched_find_job(s, job_id);
	struct sched_outcome o = {.fail = fail};
	struct sched_host *h;
	char buf[SCHED_HOST_MAX + 8];

	if (j == NULL || !j->running || j->runs != run) {
		s->stats.ignored++;
		log_info("job=%llu run=%u event=result_ignored reason=%s",
			 (unsigned long long)job_id, run,
			 j == NULL    ? "unknown"
			 : j->running ? "stale_run"
				      : "not_running");
		o.verdict = SCHED_IGNORED;
		if (j != NULL)
			o.failures = j->failures;
		if (outcome_r != NULL)
			*outcome_r = o;
		return 1;
	}
	h = j->host;
	sched_unlease(s, j);
	switch (fail) {
	case HEARTH_FAIL_NONE:
		o.verdict = SCHED_DONE;
		s->stats.done++;
		break;
	case HEARTH_FAIL_RETRY:
	case HEARTH_FAIL_BACKOFF:
		j->failures++;
		if (j->failures >= s->opts.max_attempts) {
			o.verdict = SCHED_FAILED;
			s->stats.failed++;
		} else {
			o.verdict = SCHED_RETRY;
			o.next_due = sched_add_secs(
			    now, sched_backoff(&s->opts, j->id, j->failures));
			s->stats.retried++;
		}
		break;
	default:
		o.verdict = SCHED_FAILED;
		s->stats.failed++;
		break;
	}
	o.failures = j->failures;
	log_debug("job=%llu host=%s run=%u result=%s fail=%s failures=%u "
		  "next_due=%lld",
		  (unsigned long long)j->id, sched_host_q(j, buf, sizeof(buf)),
		  run,
		  o.verdict == SCHED_DONE    ? "done"
		  : o.verdict == SCHED_RETRY ? "retry"
					     : "failed",
		  hearth_fail_name(fail), j->failures, (long long)o.next_due);
	if (o.verdict == SCHED_RETRY) {
		sched_enqueue(s, j, o.next_due);
	} else {
		sched_job_free(s, j);
		sched_host_update(s, h);
	}
	if (outcome_r != NULL)
		*outcome_r = o;
	return 0;
}

void sched_drain(struct sched *s)
{
	if (!s->draining)
		log_info("event=sched_drain running=%zu queued=%zu", s->running,
			 s->queued);
	s->draining = true;
}

bool sched_draining(const struct sched *s)
{
	return s->draining;
}

size_t sched_running(const struct sched *s)
{
	return s->running;
}

size_t sched_queued(const struct sched *s)
{
	return s->queued;
}

void sched_hand_back(struct sched *s, int64_t now)
{
	size_t n = 0;

	while (s->leases.n > 0) {
		struct sched_job *j = s->leases.v[0];

		sched_unlease(s, j);
		sched_enqueue(s, j, now);
		n++;
	}
	s->stats.handed_back += n;
	if (n > 0)
		log_info("event=sched_hand_back jobs=%zu", n);
}

int sched_lookup(const struct sched *s, uint64_t job_id,
		 struct sched_info *info_r)
{
	const struct sched_job *j = sched_find_job(s, job_id);

	if (j == NULL)
		return 0;
	if (info_r == NULL)
		return 1;
	memset(info_r, 0, sizeof(*info_r));
	info_r->running = j->running;
	if (j->running)
		info_r->lease_until = j->lease_until;
	else
		info_r->due = j->due;
	info_r->runs = j->runs;
	info_r->failures = j->failures;
	info_r->payload = j->payload;
	return 1;
}

void sched_stats(const struct sched *s, struct sched_stats *stats_r)
{
	*stats_r = s->stats;
}

int64_t sched_backoff(const struct sched_options *opts, uint64_t job_id,
		      unsigned attempt)
{
	int64_t d = opts->backoff_base_secs, max = opts->backoff_max_secs;
	int64_t span;
	struct rng rng;

	/* sched_new checks these; a direct caller may not have */
	if (attempt == 0)
		attempt = 1;
	if (d < 1)
		d = 1;
	if (d > SCHED_BACKOFF_MAX_SECS)
		d = SCHED_BACKOFF_MAX_SECS;
	if (max > SCHED_BACKOFF_MAX_SECS)
		max = SCHED_BACKOFF_MAX_SECS;
	if (max < d)
		max = d;
	for (unsigned i = 1; i < attempt && d < max; i++)
		d = d > max / 2 ? max : d * 2;
	span = d / 4;
	rng_seed(&rng, RNG_DERIVE(opts->seed, SCHED_RNG_BACKOFF, job_id,
				  (uint64_t)attempt));
	return d - span + (int64_t)rng_uniform(&rng, (uint64_t)span * 2 + 1);
}
