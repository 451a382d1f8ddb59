/* SPDX-License-Identifier: MIT */
/*
 * For tests that run jobs in a real worker pool: jobrun() submits one job
 * (ownership taken) and polls the pool until its result or failure comes
 * back. The outcome owns a copy of the result: wire_msg_free(&o.result).
 */
#ifndef HEARTH_JOBRUN_H
#define HEARTH_JOBRUN_H

#include <string.h>

#include "hearth/worker.h"

struct jobrun_outcome {
	bool done;
	bool failed;
	struct hearth_err fail;
	struct wire_msg *result;
};

static inline void jobrun_on_result(uint64_t job_id,
				    const struct wire_msg *result,
				    const struct hearth_err *fail, void *ctx)
{
	struct jobrun_outcome *o = ctx;
	struct hearth_err err;
	const void *data;
	size_t len;

	(void)job_id;
	o->done = true;
	if (fail != NULL) {
		o->failed = true;
		o->fail = *fail;
		return;
	}
	data = wire_msg_data(result, &len);
	if (wire_msg_parse(data, len, &o->result, &err) < 0)
		o->failed = true;
}

/*
 * Run job (NULL counts as a failed encode) as job_id until deadline.
 * started, if not NULL, is called once the job is in a worker (the SIGKILL
 * test kills that worker from there).
 */
static inline void jobrun(struct worker_pool *pool, uint64_t job_id,
			  struct wire_msg *job, int64_t deadline_msecs,
			  struct jobrun_outcome *o,
			  void (*started)(struct worker_pool *, uint64_t))
{
	struct hearth_err err = {0};

	memset(o, 0, sizeof(*o));
	if (job == NULL ||
	    worker_pool_submit(pool, job_id, &job, deadline_msecs, &err) < 0) {
		wire_msg_free(&job);
		o->done = o->failed = true;
		o->fail = err;
		return;
	}
	if (started != NULL)
		started(pool, job_id);
	while (!o->done)
		worker_pool_poll(pool, 500, jobrun_on_result, o);
}

#endif
