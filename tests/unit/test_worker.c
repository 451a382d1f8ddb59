// SPDX-License-Identifier: MIT
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hearth/log.h"
#include "hearth/net.h"
#include "hearth/wire.h"
#include "hearth/worker.h"
#include "test.h"

/* Job types the test handler knows. */
enum {
	JOB_ECHO = 1,
	JOB_SLEEP,
	JOB_CRASH,
	JOB_GARBAGE,
	JOB_KILLSELF,
	JOB_FAIL,
	JOB_RESERVED,
	JOB_INSPECT,
};

#define TAG_TEXT 1
#define TAG_MSECS 2
#define TAG_PID 3
#define TAG_SECRET 4
#define TAG_SOCKETS 5
#define TAG_SIGPIPE 6
#define TAG_PDEATHSIG 7

static const char secret_value[] = "app-password-0xdeadbeef";

static void sleep_msecs(unsigned msecs)
{
	struct timespec ts = {.tv_sec = msecs / 1000,
			      .tv_nsec = (long)(msecs % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * The sockets whose peer is our parent: in a worker that is its own end of
 * the socketpair, and any other worker's socket it failed to close.
 */
static int parent_sockets(int *fd_r)
{
	int count = 0;

	for (int fd = 0; fd < 1024; fd++) {
		struct ucred cred;
		socklen_t len = sizeof(cred);

		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
			continue;
		if (cred.pid == getppid()) {
			*fd_r = fd;
			count++;
		}
	}
	return count;
}

static int test_handler(const struct wire_msg *job, struct wire_msg **result_r,
			void *ctx, struct hearth_err *err)
{
	struct wire_msg *result = wire_msg_new(wire_msg_type(job));
	const char *text = NULL;
	const char *secret = NULL;
	uint64_t msecs = 0;
	size_t len = 0;
	int fd = -1;

	(void)ctx;
	wire_put_u64(result, TAG_PID, (uint64_t)getpid());
	switch (wire_msg_type(job)) {
	case JOB_ECHO:
		if (wire_get_str(job, TAG_TEXT, &text) == 1)
			wire_put_str(result, TAG_TEXT, text);
		if (wire_get_secret(job, TAG_SECRET, &secret, &len) == 1)
			wire_put_secret(result, TAG_SECRET, secret, len);
		break;
	case JOB_SLEEP:
		wire_get_u64(job, TAG_MSECS, &msecs);
		sleep_msecs((unsigned)msecs);
		break;
	case JOB_CRASH:
		raise(SIGSEGV);
		break;
	case JOB_GARBAGE:
		if (parent_sockets(&fd) == 1 &&
		    write(fd, "this is not a wire message\n", 27) != 27)
			_exit(3);
		break;
	case JOB_KILLSELF:
		raise(SIGKILL);
		break;
	case JOB_FAIL:
		wire_msg_free(&result);
		hearth_err_set(err, HEARTH_FAIL_AUTH, 535, "login refused");
		return -1;
	case JOB_RESERVED:
		wire_put_u64(result, WORKER_TAG_FAIL, 0);
		break;
	case JOB_INSPECT: {
		struct sigaction sa;
		int sig = 0;

		sigaction(SIGPIPE, NULL, &sa);
		prctl(PR_GET_PDEATHSIG, &sig);
		wire_put_u64(result, TAG_SOCKETS,
			     (uint64_t)parent_sockets(&fd));
		wire_put_u64(result, TAG_SIGPIPE, sa.sa_handler == SIG_IGN);
		wire_put_u64(result, TAG_PDEATHSIG, (uint64_t)sig);
		break;
	}
	}
	*result_r = result;
	return 0;
}

struct outcome {
	uint64_t job_id;
	bool ok;
	struct hearth_err fail;
	pid_t pid;
	char text[64];
	bool secret_back;
	uint64_t sockets;
	uint64_t sigpipe_ignored;
	uint64_t pdeathsig;
};

struct collect {
	struct outcome out[16];
	int n;
};

static void on_result(uint64_t job_id, const struct wire_msg *result,
		      const struct hearth_err *fail, void *ctx)
{
	struct collect *c = ctx;
	struct outcome *o;
	const char *s = NULL;
	uint64_t pid = 0;
	size_t len = 0;

	test_assert((result == NULL) != (fail == NULL));
	if (c->n >= 16)
		return;
	o = &c->out[c->n++];
	memset(o, 0, sizeof(*o));
	o->job_id = job_id;
	if (fail != NULL) {
		o->fail = *fail;
		return;
	}
	o->ok = true;
	if (wire_get_u64(result, TAG_PID, &pid) == 1)
		o->pid = (pid_t)pid;
	if (wire_get_str(result, TAG_TEXT, &s) == 1)
		snprintf(o->text, sizeof(o->text), "%s", s);
	o->secret_back = wire_get_secret(result, TAG_SECRET, &s, &len) == 1 &&
			 len == strlen(secret_value) &&
			 strcmp(s, secret_value) == 0;
	wire_get_u64(result, TAG_SOCKETS, &o->sockets);
	wire_get_u64(result, TAG_SIGPIPE, &o->sigpipe_ignored);
	wire_get_u64(result, TAG_PDEATHSIG, &o->pdeathsig);
}

/* Poll until c holds want outcomes or timeout_msecs pass. */
static void run_until(struct worker_pool *p, struct collect *c, int want,
		      int timeout_msecs)
{
	int64_t deadline = net_now_msecs() + timeout_msecs;

	while (c->n < want && net_now_msecs() < deadline)
		test_assert(worker_pool_poll(p, 50, on_result, c) >= 0);
}

static const struct outcome *find(const struct collect *c, uint64_t job_id)
{
	for (int i = 0; i < c->n; i++) {
		if (c->out[i].job_id == job_id)
			return &c->out[i];
	}
	return NULL;
}

static int submit(struct worker_pool *p, uint64_t job_id, uint16_t type,
		  uint64_t msecs, int deadline_in_msecs)
{
	struct hearth_err err = {0};
	struct wire_msg *job = wire_msg_new(type);
	char text[32];
	int ret;

	snprintf(text, sizeof(text), "job %llu", (unsigned long long)job_id);
	wire_put_str(job, TAG_TEXT, text);
	wire_put_u64(job, TAG_MSECS, msecs);
	wire_put_secret(job, TAG_SECRET, secret_value, strlen(secret_value));
	ret = worker_pool_submit(p, job_id, &job,
				 net_now_msecs() + deadline_in_msecs, &err);
	test_assert(job == NULL);
	if (ret < 0)
		test_assert(strstr(err.msg, secret_value) == NULL);
	return ret;
}

static bool no_children(void)
{
	return waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD;
}

/* An echo job on a pool that just lost a worker: it comes back ok. */
static pid_t echo_ok(struct worker_pool *p, uint64_t job_id)
{
	struct collect c = {0};
	const struct outcome *o;

	test_assert(submit(p, job_id, JOB_ECHO, 0, 3000) == 0);
	run_until(p, &c, 1, 3000);
	o = find(&c, job_id);
	test_assert(o != NULL && o->ok);
	return o != NULL ? o->pid : -1;
}

static void test_pool_bounds(void)
{
	struct hearth_err err = {0};

	test_begin("worker pool size out of range");
	test_assert(worker_pool_new(0, test_handler, NULL, &err) == NULL);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(worker_pool_new(WORKER_POOL_MAX + 1, test_handler, NULL,
				    &err) == NULL);
	test_assert(no_children());
	test_end();
}

static void test_echo(void)
{
	struct hearth_err err = {0};
	struct worker_pool *p = worker_pool_new(3, test_handler, NULL, &err);
	struct collect c = {0};
	pid_t pids[3] = {0};

	test_begin("worker echo: results carry the right job ids");
	test_assert(p != NULL);
	if (p == NULL)
		goto out;
	test_assert(worker_pool_live(p) == 3 && worker_pool_idle(p) == 3);
	for (uint64_t id = 101; id <= 103; id++)
		test_assert(submit(p, id, JOB_ECHO, 0, 3000) == 0);
	test_assert(worker_pool_idle(p) == 0);
	test_assert(submit(p, 104, JOB_ECHO, 0, 3000) == -1);
	run_until(p, &c, 3, 3000);
	test_assert(c.n == 3);
	for (uint64_t id = 101; id <= 103; id++) {
		const struct outcome *o = find(&c, id);
		char want[32];

		snprintf(want, sizeof(want), "job %llu",
			 (unsigned long long)id);
		test_assert(o != NULL && o->ok);
		if (o == NULL)
			continue;
		test_assert(strcmp(o->text, want) == 0);
		test_assert(o->secret_back);
		pids[id - 101] = o->pid;
	}
	/* three jobs at once: three different workers */
	test_assert(pids[0] > 0 && pids[0] != pids[1] && pids[1] != pids[2] &&
		    pids[0] != pids[2]);
	test_assert(worker_pool_idle(p) == 3);
out:
	worker_pool_free(&p);
	test_assert(p == NULL);
	test_assert(no_children());
	test_end();
}

static void test_bounded(void)
{
	struct hearth_err err = {0};
	struct worker_pool *p = worker_pool_new(2, test_handler, NULL, &err);
	struct collect c = {0};
	unsigned max_busy = 0;
	uint64_t next = 1;
	int64_t start = net_now_msecs();

	test_begin("worker concurrency bounded by the pool size");
	test_assert(p != NULL);
	if (p == NULL)
		goto out;
	while (c.n < 4 && net_now_msecs() < start + 3000) {
		while (next <= 4 && worker_pool_idle(p) > 0)
			test_assert(submit(p, next++, JOB_SLEEP, 100, 3000) ==
				    0);
		if (2 - worker_pool_idle(p) > max_busy)
			max_busy = 2 - worker_pool_idle(p);
		if (next <= 4)
			test_assert(submit(p, 99, JOB_SLEEP, 100, 3000) == -1);
		test_assert(worker_pool_poll(p, 50, on_result, &c) >= 0);
	}
	test_assert(c.n == 4);
	test_assert(max_busy == 2);
	for (int i = 0; i < c.n; i++)
		test_assert(c.out[i].ok);
	/* four jobs of 100 ms on two workers: two rounds at least */
	test_assert(net_now_msecs() - start >= 200);
out:
	worker_pool_free(&p);
	test_assert(no_children());
	test_end();
}

static void test_handler_failure(void)
{
	struct hearth_err err = {0};
	struct worker_pool *p = worker_pool_new(1, test_handler, NULL, &err);
	struct collect c = {0};
	pid_t before = -1;
	pid_t after = -1;

	test_begin("worker handler failure crosses the wire");
	test_assert(p != NULL);
	if (p == NULL)
		goto out;
	worker_pool_pids(p, &before, 1);
	test_assert(submit(p, 1, JOB_FAIL, 0, 3000) == 0);
	test_assert(submit(p, 2, JOB_FAIL, 0, 3000) == -1);
	run_until(p, &c, 1, 3000);
	test_assert(c.n == 1 && !c.out[0].ok);
	test_assert(c.out[0].fail.fail == HEARTH_FAIL_AUTH);
	test_assert(c.out[0].fail.code == 535);
	test_assert(strcmp(c.out[0].fail.msg, "login refused") == 0);
	test_assert(submit(p, 3, JOB_RESERVED, 0, 3000) == 0);
	run_until(p, &c, 2, 3000);
	test_assert(c.n == 2 && !c.out[1].ok);
	test_assert(c.out[1].fail.fail == HEARTH_FAIL_PERMANENT);
	/* a failed job is not a lost worker */
	worker_pool_pids(p, &after, 1);
	test_assert(before > 0 && before == after);
out:
	worker_pool_free(&p);
	test_assert(no_children());
	test_end();
}

static void test_deadline(void)
{
	struct hearth_err err = {0};
	struct worker_pool *p = worker_pool_new(2, test_handler, NULL, &err);
	struct collect c = {0};
	pid_t pid;
	int64_t start;

	test_begin("worker past its deadline is killed, job retried");
	test_assert(p != NULL);
	if (p == NULL)
		goto out;
	start = net_now_msecs();
	test_assert(submit(p, 7, JOB_SLEEP, 3000, 100) == 0);
	pid = worker_pool_job_pid(p, 7);
	test_assert(pid > 0);
	run_until(p, &c, 1, 2500);
	test_assert(c.n == 1 && c.out[0].job_id == 7 && !c.out[0].ok);
	test_assert(c.out[0].fail.fail == HEARTH_FAIL_RETRY);
	test_assert(c.out[0].fail.code == ETIMEDOUT);
	test_assert(strstr(c.out[0].fail.msg, "timed out") != NULL);
	/* back well before the 3 s sleep would have ended */
	test_assert(net_now_msecs() - start < 2500);
	/* killed and reaped, and replaced */
	test_assert(kill(pid, 0) == -1 && errno == ESRCH);
	test_assert(worker_pool_live(p) == 2 && worker_pool_idle(p) == 2);
	test_assert(echo_ok(p, 8) != pid);
	test_assert(echo_ok(p, 9) != pid);
	/* a deadline already passed is refused, and costs no worker */
	test_assert(submit(p, 10, JOB_ECHO, 0, -1) == -1);
	test_assert(worker_pool_idle(p) == 2);
out:
	worker_pool_free(&p);
	test_assert(no_children());
	test_end();
}

static void test_sigkill_midjob(void)
{
	struct hearth_err err = {0};
	struct worker_pool *p = worker_pool_new(1, test_handler, NULL, &err);
	struct collect c = {0};
	pid_t pid;
	pid_t fresh;
	int64_t start;

	test_begin("worker killed with SIGKILL mid-job: retry, fresh worker");
	test_assert(p != NULL);
	if (p == NULL)
		goto out;
	start = net_now_msecs();
	test_assert(submit(p, 21, JOB_SLEEP, 3000, 4000) == 0);
	pid = worker_pool_job_pid(p, 21);
	test_assert(pid > 0);
	/* let the worker get into its job */
	test_assert(worker_pool_poll(p, 50, on_result, &c) == 0);
	test_assert(kill(pid, SIGKILL) == 0);
	run_until(p, &c, 1, 2500);
	test_assert(c.n == 1 && c.out[0].job_id == 21 && !c.out[0].ok);
	test_assert(c.out[0].fail.fail == HEARTH_FAIL_RETRY);
	test_assert(strcmp(c.out[0].fail.msg, "worker died: signal 9") == 0);
	test_assert(net_now_msecs() - start < 2500);
	test_assert(worker_pool_live(p) == 1 && worker_pool_idle(p) == 1);
	fresh = echo_ok(p, 22);
	test_assert(fresh > 0 && fresh != pid);
out:
	worker_pool_free(&p);
	test_assert(no_children());
	test_end();
}

static void test_crash(void)
{
	struct hearth_err err = {0};
	struct worker_pool *p = worker_pool_new(1, test_handler, NULL, &err);
	struct collect c = {0};

	test_begin("worker crash and self-kill: retry, replaced");
	test_assert(p != NULL);
	if (p == NULL)
		goto out;
	test_assert(submit(p, 31, JOB_CRASH, 0, 3000) == 0);
	run_until(p, &c, 1, 3000);
	test_assert(c.n == 1 && !c.out[0].ok);
	test_assert(c.out[0].fail.fail == HEARTH_FAIL_RETRY);
	test_assert(strcmp(c.out[0].fail.msg, "worker died: signal 11") == 0);
	echo_ok(p, 32);
	test_assert(submit(p, 33, JOB_KILLSELF, 0, 3000) == 0);
	run_until(p, &c, 2, 3000);
	test_assert(c.n == 2 && !c.out[1].ok);
	test_assert(c.out[1].fail.fail == HEARTH_FAIL_RETRY);
	test_assert(strcmp(c.out[1].fail.msg, "worker died: signal 9") == 0);
	echo_ok(p, 34);
out:
	worker_pool_free(&p);
	test_assert(no_children());
	test_end();
}

static void test_garbage(void)
{
	struct hearth_err err = {0};
	struct worker_pool *p = worker_pool_new(1, test_handler, NULL, &err);
	struct collect c = {0};
	pid_t before = -1;
	pid_t after = -1;

	test_begin("worker sending garbage: killed, retry, replaced");
	test_assert(p != NULL);
	if (p == NULL)
		goto out;
	worker_pool_pids(p, &before, 1);
	test_assert(submit(p, 41, JOB_GARBAGE, 0, 3000) == 0);
	run_until(p, &c, 1, 3000);
	test_assert(c.n == 1 && c.out[0].job_id == 41 && !c.out[0].ok);
	test_assert(c.out[0].fail.fail == HEARTH_FAIL_RETRY);
	test_assert(strstr(c.out[0].fail.msg, "malformed") != NULL);
	test_assert(kill(before, 0) == -1 && errno == ESRCH);
	worker_pool_pids(p, &after, 1);
	test_assert(after > 0 && after != before);
	echo_ok(p, 42);
out:
	worker_pool_free(&p);
	test_assert(no_children());
	test_end();
}

static void test_child_hygiene(void)
{
	struct hearth_err err = {0};
	struct worker_pool *p = worker_pool_new(3, test_handler, NULL, &err);
	struct collect c = {0};

	test_begin("worker children: one socket, SIGPIPE ignored, pdeathsig");
	test_assert(p != NULL);
	if (p == NULL)
		goto out;
	/* the third worker was forked after the other two: the last to leak */
	for (uint64_t id = 51; id <= 53; id++)
		test_assert(submit(p, id, JOB_INSPECT, 0, 3000) == 0);
	run_until(p, &c, 3, 3000);
	test_assert(c.n == 3);
	for (int i = 0; i < c.n; i++) {
		test_assert(c.out[i].ok);
		test_assert(c.out[i].sockets == 1);
		test_assert(c.out[i].sigpipe_ignored == 1);
		test_assert(c.out[i].pdeathsig == SIGKILL);
	}
out:
	worker_pool_free(&p);
	test_assert(no_children());
	test_end();
}

static void test_external_poll(void)
{
	struct hearth_err err = {0};
	struct worker_pool *p = worker_pool_new(2, test_handler, NULL, &err);
	struct collect c = {0};
	int64_t deadline = net_now_msecs() + 3000;

	test_begin("worker pool driven by an outside poll()");
	test_assert(p != NULL);
	if (p == NULL)
		goto out;
	test_assert(worker_pool_timeout(p) == -1);
	test_assert(submit(p, 61, JOB_ECHO, 0, 3000) == 0);
	test_assert(worker_pool_timeout(p) > 0);
	while (c.n < 1 && net_now_msecs() < deadline) {
		struct pollfd fds[WORKER_POOL_MAX];
		size_t n = worker_pool_pollfds(p, fds, WORKER_POOL_MAX);

		test_assert(n == 2);
		test_assert(poll(fds, n, worker_pool_timeout(p)) >= 0);
		test_assert(worker_pool_dispatch(p, fds, n, on_result, &c) >=
			    0);
	}
	test_assert(c.n == 1 && c.out[0].ok && c.out[0].job_id == 61);
	test_assert(worker_pool_timeout(p) == -1);
out:
	worker_pool_free(&p);
	test_assert(no_children());
	test_end();
}

static void test_free_reaps(void)
{
	struct hearth_err err = {0};
	struct worker_pool *p = worker_pool_new(3, test_handler, NULL, &err);
	struct collect c = {0};
	pid_t pids[3] = {0};
	size_t n = 0;
	int64_t start;

	test_begin("worker pool free leaves no child, busy or idle");
	test_assert(p != NULL);
	if (p == NULL)
		goto out;
	n = worker_pool_pids(p, pids, 3);
	test_assert(n == 3);
	test_assert(submit(p, 71, JOB_SLEEP, 3000, 4000) == 0);
	test_assert(worker_pool_poll(p, 20, on_result, &c) == 0);
	start = net_now_msecs();
	worker_pool_free(&p);
	test_assert(net_now_msecs() - start < 2000);
	for (size_t i = 0; i < n; i++)
		test_assert(kill(pids[i], 0) == -1 && errno == ESRCH);
out:
	worker_pool_free(&p);
	test_assert(no_children());
	test_end();
}

int main(void)
{
	/* the pool's warnings about killed workers are expected here */
	log_set_level(LOG_LEVEL_ERROR);
	test_pool_bounds();
	test_echo();
	test_bounded();
	test_handler_failure();
	test_deadline();
	test_sigkill_midjob();
	test_crash();
	test_garbage();
	test_child_hygiene();
	test_external_poll();
	test_free_reaps();
	return test_exit();
}
