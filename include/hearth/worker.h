/* SPDX-License-Identifier: MIT */
/*
 * worker: the pool of worker processes that run network jobs apart from the
 * scheduler (DESIGN.md, Processes). The scheduler, single-threaded, owns the
 * pool; each worker is a forked child holding one job at a time, connected
 * by a socketpair over which the job and its result travel as wire messages.
 *
 * A worker that crashes, hangs past its job's deadline or sends anything but
 * a well-formed result for its job is killed (SIGKILL), reaped and replaced;
 * its job comes back as a HEARTH_FAIL_RETRY failure. The pool keeps N
 * workers alive (a failed fork is retried on the next poll).
 *
 * Children: PR_SET_PDEATHSIG SIGKILL, default signal dispositions, an empty
 * signal mask, SIGPIPE ignored; they close the other workers' sockets and
 * never exec, change argv or the environment. They leave with _exit(), so
 * no atexit handler or stdio buffer of the parent runs twice. Children are
 * forked from the caller's process: create the pool before opening files or
 * connections a worker must not inherit (the store).
 *
 * Secrets: the parent wipes and frees a job once sent; the child wipes the
 * job and its result once the result is sent. A handler that copies a
 * secret elsewhere wipes its copy itself. Failure messages never carry a
 * field value.
 *
 * Tags from WORKER_TAG_RESERVED up are the pool's own, on jobs and results:
 * a handler or a caller must not put them.
 */
#ifndef HEARTH_WORKER_H
#define HEARTH_WORKER_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hearth/err.h"
#include "hearth/wire.h"

#define WORKER_POOL_MAX 64
/* Tags at and above this one belong to the pool. */
#define WORKER_TAG_RESERVED 0xff00
/* u64 on jobs and results: the job id given to worker_pool_submit */
#define WORKER_TAG_JOB_ID 0xff00
/* i64 on jobs: the deadline, monotonic msecs (net_now_msecs()) */
#define WORKER_TAG_DEADLINE 0xff01
/* u64 on results: enum hearth_fail, HEARTH_FAIL_NONE for success */
#define WORKER_TAG_FAIL 0xff02
/* i64 on failed results: hearth_err.code */
#define WORKER_TAG_CODE 0xff03
/* str on failed results: hearth_err.msg */
#define WORKER_TAG_MSG 0xff04

struct worker_pool;

/*
 * Runs in a worker process, once per job. job is borrowed for the call; it
 * carries the caller's fields plus WORKER_TAG_JOB_ID and
 * WORKER_TAG_DEADLINE. On success return 0 and set *result_r to a new
 * message (ownership transferred; NULL for an empty result of type 0). On
 * failure return -1 and fill *err (fail class, code, message without
 * secrets); a *result_r set anyway is discarded, and a -1 with err->fail
 * left HEARTH_FAIL_NONE arrives as HEARTH_FAIL_RETRY. ctx is the pointer
 * given to worker_pool_new, as copied into the child by fork().
 */
typedef int (*worker_handler_fn)(const struct wire_msg *job,
				 struct wire_msg **result_r, void *ctx,
				 struct hearth_err *err);

/*
 * The failure message of a job whose worker was lost (it died, hung past
 * the job's deadline, or broke the protocol) starts with this; a handler's
 * own failure messages never do. How far such a job got is unknown.
 */
#define WORKER_LOST_PREFIX "worker "

/*
 * Called in the parent for each finished job: exactly one of result (the
 * worker's message, borrowed for the call, with WORKER_TAG_JOB_ID and
 * WORKER_TAG_FAIL among its fields) and fail (what went wrong: the handler's
 * error, or HEARTH_FAIL_RETRY when the worker died, timed out or broke the
 * protocol) is non-NULL. The callback may call worker_pool_submit(), not
 * worker_pool_free().
 */
typedef void (*worker_result_fn)(uint64_t job_id, const struct wire_msg *result,
				 const struct hearth_err *fail, void *ctx);

/*
 * Fork n workers (1 to WORKER_POOL_MAX) that run handler(job, .., ctx) for
 * each job. Returns the pool, owned by the caller; or NULL with *err (n out
 * of range: HEARTH_FAIL_PERMANENT; socketpair or fork failed:
 * HEARTH_FAIL_RETRY), no child left behind.
 */
struct worker_pool *worker_pool_new(unsigned n, worker_handler_fn handler,
				    void *ctx, struct hearth_err *err);

/*
 * Stop every worker: close the sockets (an idle worker exits on its own),
 * SIGTERM, SIGKILL after a short grace, and reap them all. Jobs in flight
 * are dropped without a callback. Sets *p = NULL; NULL is fine.
 */
void worker_pool_free(struct worker_pool **p);

/* Workers alive, and of those the ones without a job. */
unsigned worker_pool_live(const struct worker_pool *p);
unsigned worker_pool_idle(const struct worker_pool *p);

/*
 * Hand *job to an idle worker, to finish by deadline_msecs (monotonic, see
 * net_now_msecs()). The job is transferred: *job is wiped, freed and set to
 * NULL whatever the outcome. Returns 0, the result to come through
 * worker_pool_poll(); or -1 with *err, the job not run: no idle worker or
 * the deadline already passed (HEARTH_FAIL_RETRY), a reserved tag in the
 * job (HEARTH_FAIL_PERMANENT), the worker gone (HEARTH_FAIL_RETRY; it is
 * replaced on the next poll).
 */
int worker_pool_submit(struct worker_pool *p, uint64_t job_id,
		       struct wire_msg **job, int64_t deadline_msecs,
		       struct hearth_err *err);

/*
 * One step of the event loop: wait up to timeout_msecs (-1: no limit other
 * than the nearest job deadline) for the workers, then deliver finished
 * jobs through cb, kill workers past their deadline or misbehaving, and
 * replace dead ones. Returns the number of jobs delivered, or -1 if poll()
 * failed (errno; EINTR is not a failure and returns 0).
 */
int worker_pool_poll(struct worker_pool *p, int timeout_msecs,
		     worker_result_fn cb, void *ctx);

/*
 * The same step split for an outside poll(): worker_pool_pollfds() fills at
 * most max entries (one per live worker; WORKER_POOL_MAX always suffices)
 * and returns their number; worker_pool_timeout() gives the msecs until the
 * nearest deadline (-1: no job running); after poll(), give the same array
 * to worker_pool_dispatch(), which returns the number of jobs delivered.
 */
size_t worker_pool_pollfds(const struct worker_pool *p, struct pollfd *fds,
			   size_t max);
int worker_pool_timeout(const struct worker_pool *p);
int worker_pool_dispatch(struct worker_pool *p, const struct pollfd *fds,
			 size_t nfds, worker_result_fn cb, void *ctx);

/* The pid of the worker running job_id, or -1 (for tests and logs). */
pid_t worker_pool_job_pid(const struct worker_pool *p, uint64_t job_id);
/* The pids of the live workers: at most max into pids_r; returns the count. */
size_t worker_pool_pids(const struct worker_pool *p, pid_t *pids_r,
			size_t max);

#endif
