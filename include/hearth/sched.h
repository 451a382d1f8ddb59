/* SPDX-License-Identifier: MIT */
/*
 * sched: the job queue at the core of the scheduler (DESIGN.md, Processes
 * and Time). It decides which job runs when: earliest due first, at most
 * max_running at once and max_per_host per host, each start under a lease,
 * failures retried after a backoff. It never reads the clock (every call
 * takes `now`, unix seconds), never touches the store or a socket: jobs are
 * started through a function table (struct sched_runner) the caller
 * provides, the worker pool in the engine, a fake in tests.
 *
 * Single-threaded: one owner calls everything. The runner's functions must
 * not call back into the scheduler.
 *
 * A job is either queued (waiting for its due time, its host or a free
 * slot) or running (started, under a lease). Each start is one run, numbered
 * 1, 2, ... per job; a result names the run it belongs to, so a result from
 * a run that is over (its lease expired, it was handed back) is told apart
 * from the current run's and ignored: a job never runs twice at once, and
 * no run's result is taken for another's.
 *
 * Leases: a run holds its job for lease_secs. The runner must give up a run
 * by its deadline (job_deadline_secs after the start; the worker pool kills
 * a worker past it), and lease_secs > job_deadline_secs, so when a lease
 * expires the run is over: the job is due again at once (a lost worker),
 * the failure counted.
 *
 * Backoff, the one formula for every retry (a retry-class result or an
 * expired lease; `attempt` = failures of this job so far, 1 for the first):
 *   d     = min(backoff_max_secs, backoff_base_secs * 2^(attempt - 1))
 *   delay = d + j,  j uniform integer in [-(d / 4), d / 4]  (d / 4 floored)
 * i.e. d * (1 + 0.25 u), u uniform in [-1, 1], in whole seconds, drawn from
 * the seeded generator (rng.h) under RNG_DERIVE(seed, SCHED_RNG_BACKOFF,
 * job id, attempt): the same seed, job and attempt give the same delay on
 * every run. The cap applies before the jitter. With base 60 and max 3600:
 *   attempt  1     2     3     4     5      6      7+
 *   d        60    120   240   480   960    1920   3600
 *   min      45    90    180   360   720    1440   2700
 *   max      75    150   300   600   1200   2400   4500
 * An expired lease requeues at once (no delay): the run already took
 * lease_secs.
 *
 * Attempts: the max_attempts-th counted failure (a retry-class result or
 * an expired lease) fails the job for good, so it runs at most max_attempts
 * times, not counting handed-back runs. A permanent, auth or TLS failure
 * fails it at once.
 *
 * Memory: payloads are transferred at sched_add and freed with the free
 * function given there when the job leaves (done, failed, cancelled,
 * sched_free). Host names are copied.
 */
#ifndef HEARTH_SCHED_H
#define HEARTH_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hearth/err.h"

/* The purpose id of the backoff sub-seed (see above). */
#define SCHED_RNG_BACKOFF 0x7363686564ULL
/* After the runner refuses a start, queued jobs wait this long for the next
 * try (sched_next_wake), unless a result or a tick comes first. */
#define SCHED_REFUSED_RETRY_SECS 1
/* Longest host name (DNS allows 253). */
#define SCHED_HOST_MAX 255
/* The longest backoff_max_secs: 366 days. */
#define SCHED_BACKOFF_MAX_SECS 31622400
/* Jobs (queued and running) when sched_options.max_jobs is 0. */
#define SCHED_JOBS_DEFAULT_MAX 4000000u

/* What became of a job: after a result, an expired lease. */
enum sched_verdict {
	SCHED_DONE,    /* success: the job is gone, payload freed */
	SCHED_RETRY,   /* queued again, due at next_due */
	SCHED_FAILED,  /* failed for good: the job is gone, payload freed */
	SCHED_IGNORED, /* the result was not for a running run: nothing done */
};

struct sched_outcome {
	enum sched_verdict verdict;
	enum hearth_fail fail; /* the result's class; RETRY for a lost lease */
	unsigned failures;     /* counted failures of the job so far */
	int64_t next_due;      /* SCHED_RETRY: when it is due again */
};

/*
 * What runs the jobs (the worker pool in the engine, a fake in tests).
 *
 * start: begin run `run` of job_id (payload borrowed for the call: copy
 * what the run needs), to be over by deadline (unix seconds). Return 0
 * started: its result comes back through sched_result(..., run, ...); or -1
 * could not start now (no idle worker): the job stays queued as it was, and
 * the tick stops starting.
 *
 * expired (may be NULL): a run's lease expired without a result; outcome
 * says whether the job is queued again (SCHED_RETRY, due now) or failed
 * (SCHED_FAILED: the payload, borrowed for the call, is freed after it).
 * The caller records the failure and may kill whatever still runs it.
 */
struct sched_runner {
	int (*start)(void *ctx, uint64_t job_id, uint32_t run,
		     const void *payload, int64_t deadline);
	void (*expired)(void *ctx, uint64_t job_id, uint32_t run,
			const void *payload,
			const struct sched_outcome *outcome);
	void *ctx;
};

struct sched_options {
	unsigned max_running;	   /* bounded concurrency (= worker count) */
	unsigned max_per_host;	   /* per-host connection limit, e.g. 2 */
	int64_t lease_secs;	   /* > job_deadline_secs */
	int64_t job_deadline_secs; /* a run's deadline after its start */
	unsigned max_attempts;	   /* the failure that fails it for good */
	int64_t backoff_base_secs; /* the formula above; base >= 1 */
	int64_t backoff_max_secs;  /* >= base */
	uint64_t seed;		   /* of the backoff jitter */
	size_t max_jobs;	   /* queued + running; 0: the default max */
};

/* Counters since sched_new. */
struct sched_stats {
	uint64_t added, started, done, retried, failed, expired, ignored,
	    handed_back, refused, cancelled;
};

/* A job as it stands (sched_lookup). */
struct sched_info {
	bool running;
	int64_t due;	     /* queued: when it is due */
	int64_t lease_until; /* running: when its lease expires */
	uint32_t runs;	     /* starts so far (the current run, if running) */
	unsigned failures;
	const void *payload; /* borrowed until the job changes */
};

struct sched;

/*
 * Defaults: 8 running, 2 per host, deadline 120 s, lease 300 s, 5 attempts,
 * backoff 60 s to 3600 s, seed 0, max_jobs 0.
 */
void sched_options_default(struct sched_options *opts);

/*
 * A new empty queue, owned by the caller; opts copied, runner copied (its
 * ctx borrowed for the scheduler's life). NULL with *err
 * (HEARTH_FAIL_PERMANENT) when an option is out of range: a zero
 * max_running, max_per_host or max_attempts, a deadline < 1, a lease not
 * longer than the deadline, base < 1, max < base or max past
 * SCHED_BACKOFF_MAX_SECS, no start function.
 */
struct sched *sched_new(const struct sched_options *opts,
			const struct sched_runner *runner,
			struct hearth_err *err);
/* Free everything, payloads included; sets *s = NULL; NULL is fine. */
void sched_free(struct sched **s);

/*
 * Queue job_id, due at `due`, for host (the SMTP or IMAP host it connects
 * to, compared case-blind; borrowed, copied). payload is transferred
 * whatever the outcome and freed with free_fn (NULL: never freed). -1 with
 * *err: a duplicate id, a NULL, empty or too long host
 * (HEARTH_FAIL_PERMANENT); max_jobs reached (HEARTH_FAIL_BACKOFF).
 */
int sched_add(struct sched *s, uint64_t job_id, const char *host, int64_t due,
	      void *payload, void (*free_fn)(void *), struct hearth_err *err);

/*
 * Remove a queued job (payload freed). 1 removed, 0 not queued (unknown or
 * running: a running job ends through its result or its lease).
 */
int sched_cancel(struct sched *s, uint64_t job_id);

/*
 * One step at `now`: first expire the leases due by now (each job queued
 * again due now, its failure counted, or failed when its attempts are used
 * up; logged, reported through runner.expired); then, unless draining,
 * start every due job that fits, earliest due first and ties by id, a job
 * whose host is at max_per_host skipped without holding back the others,
 * until max_running run or the runner refuses. Returns the number started.
 */
size_t sched_tick(struct sched *s, int64_t now);

/*
 * The earliest moment sched_tick has something to do: a lease expiry, or a
 * queued job that could start (its host below its limit, a slot free, not
 * draining; no sooner than SCHED_REFUSED_RETRY_SECS after a refusal).
 * INT64_MAX when there is none; a past time means now. A job held back by a
 * full slot or host does not count: a result frees it, and a result wakes
 * the loop anyway. The loop sleeps until then or a result (the virtual
 * clock jumps there).
 */
int64_t sched_next_wake(const struct sched *s);

/*
 * The result of run `run` of job_id at now: fail HEARTH_FAIL_NONE is
 * success (the job is done); HEARTH_FAIL_RETRY or HEARTH_FAIL_BACKOFF
 * counts a failure and queues the job again at now + sched_backoff(), or
 * fails it when its attempts are used up; any other class fails it at once.
 * A result for a job that is not running or for another run of it (a late
 * result after its lease expired or it was handed back; an unknown id) is
 * ignored, counted and logged. Returns 0 handled, 1 ignored; *outcome_r
 * (may be NULL) says what became of the job.
 */
int sched_result(struct sched *s, uint64_t job_id, uint32_t run, int64_t now,
		 enum hearth_fail fail, struct sched_outcome *outcome_r);

/*
 * Shutdown, first stage: start nothing more (sched_tick still expires
 * leases; results are still taken). Wait for sched_running() to reach 0,
 * or go to the second stage: stop the runner, then sched_hand_back().
 */
void sched_drain(struct sched *s);
bool sched_draining(const struct sched *s);
/* Jobs running (started, no result yet), and queued. */
size_t sched_running(const struct sched *s);
size_t sched_queued(const struct sched *s);

/*
 * Return every running job to the queue, due now, without counting a
 * failure (a graceful stop's second stage, or recovery after the runner
 * was lost). Their runs are over: any result for them is ignored. Call it
 * once nothing runs them any more.
 */
void sched_hand_back(struct sched *s, int64_t now);

/* job_id as it stands: 1 found (*info_r filled; info_r may be NULL), 0 not
 * found. */
int sched_lookup(const struct sched *s, uint64_t job_id,
		 struct sched_info *info_r);
void sched_stats(const struct sched *s, struct sched_stats *stats_r);

/*
 * The delay before the retry that follows failure number `attempt` (0 is
 * taken as 1) of job_id: the formula above, in seconds, >= 1.
 */
int64_t sched_backoff(const struct sched_options *opts, uint64_t job_id,
		      unsigned attempt);

#endif
