// SPDX-License-Identifier: MIT
#include "hearth/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hearth/log.h"
#include "hearth/net.h"
#include "hearth/xalloc.h"

/* How long worker_pool_free() lets workers end before SIGKILL. */
#define WORKER_GRACE_MSECS 500
/* The longest submit waits for an idle worker to take a job's bytes. */
#define WORKER_SEND_MSECS 1000
/* How often a failed fork is retried while a slot stays empty. */
#define WORKER_RESPAWN_MSECS 1000

struct worker_slot {
	/* -1: no process (dead, to be replaced) */
	pid_t pid;
	/* the parent's end of the socketpair, non-blocking; -1 when dead */
	int fd;
	struct wire_reader *reader;
	/* bumped whenever the slot gets a new process */
	unsigned gen;
	bool busy;
	uint64_t job_id;
	int64_t deadline_msecs;
	int64_t started_msecs;
};

struct worker_pool {
	unsigned n;
	worker_handler_fn handler;
	void *ctx;
	struct worker_slot slots[WORKER_POOL_MAX];
};

static void worker_child_setup(pid_t parent)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	/* some numbers are reserved (libc, valgrind): their EINVAL is fine */
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	}
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* the parent may have died before prctl(): then nobody would kill us */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(1);
}

/* The result that reports a failed job: the pool's fields only. */
static struct wire_msg *worker_fail_msg(uint64_t job_id,
					struct hearth_err *err)
{
	struct wire_msg *msg = wire_msg_new(0);
	enum hearth_fail fail = err->fail;

	if (fail == HEARTH_FAIL_NONE || fail > HEARTH_FAIL_TLS)
		fail = HEARTH_FAIL_RETRY;
	err->msg[sizeof(err->msg) - 1] = '\0';
	wire_put_u64(msg, WORKER_TAG_JOB_ID, job_id);
	wire_put_u64(msg, WORKER_TAG_FAIL, (uint64_t)fail);
	wire_put_i64(msg, WORKER_TAG_CODE, err->code);
	wire_put_str(msg, WORKER_TAG_MSG,
		     err->msg[0] != '\0' ? err->msg : "worker job failed");
	return msg;
}

/* The worker's life: one job at a time until the parent closes the socket. */
static void __attribute__((noreturn))
worker_child_run(const struct worker_pool *p, int fd)
{
	for (;;) {
		struct wire_msg *job = NULL;
		struct wire_msg *result = NULL;
		struct hearth_err err = {0};
		uint64_t job_id = 0;
		int ret;

		ret = wire_recv(fd, &job, INT64_MAX, &err);
		if (ret == 0)
			_exit(0);
		if (ret < 0)
			_exit(1);
		wire_get_u64(job, WORKER_TAG_JOB_ID, &job_id);
		ret = p->handler(job, &result, p->ctx, &err);
		wire_msg_free(&job);
		if (ret == 0 && result == NULL)
			result = wire_msg_new(0);
		if (ret == 0 &&
		    (wire_put_u64(result, WORKER_TAG_JOB_ID, job_id) < 0 ||
		     wire_put_u64(result, WORKER_TAG_FAIL, HEARTH_FAIL_NONE) <
			     0)) {
			hearth_err_set(&err, HEARTH_FAIL_PERMANENT, 0,
				       "worker: result uses a reserved tag or "
				       "is too large");
			ret = -1;
		}
		if (ret < 0) {
			wire_msg_free(&result);
			result = worker_fail_msg(job_id, &err);
		}
		ret = wire_send(fd, result, INT64_MAX, &err);
		wire_msg_free(&result);
		explicit_bzero(&err, sizeof(err));
		if (ret < 0)
			_exit(1);
	}
}

static int worker_spawn(struct worker_pool *p, struct worker_slot *s,
			struct hearth_err *err)
{
	pid_t parent = getpid();
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		hearth_err_set(err, HEARTH_FAIL_RETRY, errno,
			       "worker: socketpair: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		int saved = errno;

		close(sv[0]);
		close(sv[1]);
		hearth_err_set(err, HEARTH_FAIL_RETRY, saved,
			       "worker: fork: %s", strerror(saved));
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		/* this worker sees no other worker's socket or bytes */
		for (unsigned i = 0; i < p->n; i++) {
			struct worker_slot *o = &p->slots[i];

			if (o->fd >= 0)
				close(o->fd);
			o->fd = -1;
			wire_reader_free(&o->reader);
		}
		worker_child_setup(parent);
		worker_child_run(p, sv[1]);
	}
	close(sv[1]);
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	s->pid = pid;
	s->fd = sv[0];
	s->reader = wire_reader_new();
	s->gen++;
	s->busy = false;
	return 0;
}

static int worker_reap(pid_t pid, int *status_r)
{
	for (;;) {
		pid_t ret = waitpid(pid, status_r, 0);

		if (ret == pid)
			return 0;
		if (ret < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

/*
 * Kill and reap the worker in s and close its socket; how it ended goes to
 * how (e.g. "signal 9"). The slot is left empty, to be refilled.
 */
static void worker_bury(struct worker_slot *s, char *how, size_t how_size)
{
	int status = 0;

	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		if (worker_reap(s->pid, &status) < 0)
			snprintf(how, how_size, "status unknown");
		else if (WIFSIGNALED(status))
			snprintf(how, how_size, "signal %d", WTERMSIG(status));
		else if (WIFEXITED(status))
			snprintf(how, how_size, "exit status %d",
				 WEXITSTATUS(status));
		else
			snprintf(how, how_size, "status 0x%x", status);
	}
	if (s->fd >= 0)
		close(s->fd);
	wire_reader_free(&s->reader);
	s->fd = -1;
	s->pid = -1;
	s->busy = false;
}

/*
 * The worker in s is lost: kill it, and fail its job (if any) as a retry
 * with why, or with "worker died: <how it ended>" when why is NULL. Returns
 * the number of jobs delivered (0 or 1).
 */
static int worker_lose(struct worker_slot *s, const char *why, int code,
		       worker_result_fn cb, void *ctx)
{
	struct hearth_err fail = {.fail = HEARTH_FAIL_RETRY, .code = code};
	bool busy = s->busy;
	uint64_t job_id = s->job_id;
	pid_t pid = s->pid;
	char how[64] = "";
	char quoted[300];

	worker_bury(s, how, sizeof(how));
	if (why != NULL)
		snprintf(fail.msg, sizeof(fail.msg), "%s", why);
	else
		snprintf(fail.msg, sizeof(fail.msg), "worker died: %s", how);
	log_quote(fail.msg, quoted, sizeof(quoted));
	if (busy) {
		log_warn("worker pid=%d job=%llu result=%s reason=%s", (int)pid,
			 (unsigned long long)job_id,
			 hearth_fail_name(fail.fail), quoted);
		if (cb != NULL)
			cb(job_id, NULL, &fail, ctx);
		return 1;
	}
	log_warn("worker pid=%d job=none result=replaced reason=%s", (int)pid,
		 quoted);
	return 0;
}

static void worker_respawn(struct worker_pool *p)
{
	for (unsigned i = 0; i < p->n; i++) {
		struct worker_slot *s = &p->slots[i];
		struct hearth_err err = {0};

		if (s->pid > 0)
			continue;
		if (worker_spawn(p, s, &err) < 0) {
			char quoted[300];

			log_quote(err.msg, quoted, sizeof(quoted));
			log_error("worker slot=%u result=spawn-failed error=%s",
				  i, quoted);
		}
	}
}

struct worker_pool *worker_pool_new(unsigned n, worker_handler_fn handler,
				    void *ctx, struct hearth_err *err)
{
	struct worker_pool *p;

	if (n == 0 || n > WORKER_POOL_MAX) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, EINVAL,
			       "worker: pool of %u workers, expected 1 to %d",
			       n, WORKER_POOL_MAX);
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	p->n = n;
	p->handler = handler;
	p->ctx = ctx;
	for (unsigned i = 0; i < n; i++) {
		p->slots[i].pid = -1;
		p->slots[i].fd = -1;
	}
	for (unsigned i = 0; i < n; i++) {
		if (worker_spawn(p, &p->slots[i], err) < 0) {
			worker_pool_free(&p);
			return NULL;
		}
	}
	return p;
}

void worker_pool_free(struct worker_pool **pp)
{
	struct worker_pool *p = *pp;
	int64_t deadline;

	if (p == NULL)
		return;
	for (unsigned i = 0; i < p->n; i++) {
		struct worker_slot *s = &p->slots[i];

		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		wire_reader_free(&s->reader);
		if (s->pid > 0)
			kill(s->pid, SIGTERM);
	}
	deadline = net_now_msecs() + WORKER_GRACE_MSECS;
	for (;;) {
		unsigned left = 0;

		for (unsigned i = 0; i < p->n; i++) {
			struct worker_slot *s = &p->slots[i];
			pid_t ret;

			if (s->pid <= 0)
				continue;
			ret = waitpid(s->pid, NULL, WNOHANG);
			if (ret == s->pid || (ret < 0 && errno == ECHILD))
				s->pid = -1;
			else
				left++;
		}
		if (left == 0 || net_now_msecs() >= deadline)
			break;
		nanosleep(&(struct timespec){.tv_nsec = 2000000}, NULL);
	}
	for (unsigned i = 0; i < p->n; i++) {
		struct worker_slot *s = &p->slots[i];

		if (s->pid <= 0)
			continue;
		kill(s->pid, SIGKILL);
		worker_reap(s->pid, NULL);
		s->pid = -1;
	}
	free(p);
	*pp = NULL;
}

unsigned worker_pool_live(const struct worker_pool *p)
{
	unsigned live = 0;

	for (unsigned i = 0; i < p->n; i++)
		live += p->slots[i].pid > 0;
	return live;
}

unsigned worker_pool_idle(const struct worker_pool *p)
{
	unsigned idle = 0;

	for (unsigned i = 0; i < p->n; i++)
		idle += p->slots[i].pid > 0 && !p->slots[i].busy;
	return idle;
}

int worker_pool_submit(struct worker_pool *p, uint64_t job_id,
		       struct wire_msg **job, int64_t deadline_msecs,
		       struct hearth_err *err)
{
	struct worker_slot *s = NULL;
	struct hearth_err send_err = {0};
	int64_t now = net_now_msecs();
	int64_t send_deadline;
	int ret = -1;

	for (unsigned i = 0; i < p->n; i++) {
		struct worker_slot *o = &p->slots[i];

		if (o->pid > 0 && o->busy && o->job_id == job_id) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, EEXIST,
				       "worker: job %llu is already running",
				       (unsigned long long)job_id);
			goto out;
		}
		if (s == NULL && o->pid > 0 && !o->busy)
			s = o;
	}
	if (s == NULL) {
		hearth_err_set(err, HEARTH_FAIL_RETRY, EAGAIN,
			       "worker: no idle worker");
		goto out;
	}
	if (deadline_msecs <= now) {
		hearth_err_set(err, HEARTH_FAIL_RETRY, ETIMEDOUT,
			       "worker: job %llu deadline passed before it "
			       "started",
			       (unsigned long long)job_id);
		goto out;
	}
	if (wire_put_u64(*job, WORKER_TAG_JOB_ID, job_id) < 0 ||
	    wire_put_i64(*job, WORKER_TAG_DEADLINE, deadline_msecs) < 0) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, EINVAL,
			       "worker: job %llu uses a reserved tag or is "
			       "too large",
			       (unsigned long long)job_id);
		goto out;
	}
	send_deadline = now + WORKER_SEND_MSECS;
	if (send_deadline > deadline_msecs)
		send_deadline = deadline_msecs;
	if (wire_send(s->fd, *job, send_deadline, &send_err) < 0) {
		hearth_err_set(err, HEARTH_FAIL_RETRY, send_err.code,
			       "worker: handing job %llu over failed: %s",
			       (unsigned long long)job_id, send_err.msg);
		/* not busy yet: the job is not delivered, only refused */
		worker_lose(s, err->msg, send_err.code, NULL, NULL);
		goto out;
	}
	s->busy = true;
	s->job_id = job_id;
	s->deadline_msecs = deadline_msecs;
	s->started_msecs = now;
	ret = 0;
out:
	wire_msg_free(job);
	return ret;
}

/* A message from the worker in s: its job's result, or a reason to kill. */
static int worker_take_result(struct worker_slot *s, const struct wire_msg *msg,
			      worker_result_fn cb, void *ctx)
{
	struct hearth_err fail = {0};
	uint64_t job_id = 0;
	uint64_t fail_class = 0;
	int64_t code = 0;
	const char *text = NULL;
	char why[128];

	if (!s->busy)
		return worker_lose(s, "worker sent a message while idle", 0,
				   cb, ctx);
	if (wire_get_u64(msg, WORKER_TAG_JOB_ID, &job_id) != 1 ||
	    job_id != s->job_id) {
		snprintf(why, sizeof(why),
			 "worker sent a malformed result: not for job %llu",
			 (unsigned long long)s->job_id);
		return worker_lose(s, why, EBADMSG, cb, ctx);
	}
	if (wire_get_u64(msg, WORKER_TAG_FAIL, &fail_class) != 1 ||
	    fail_class > HEARTH_FAIL_TLS ||
	    wire_get_i64(msg, WORKER_TAG_CODE, &code) < 0 ||
	    wire_get_str(msg, WORKER_TAG_MSG, &text) < 0)
		return worker_lose(s,
				   "worker sent a malformed result: bad "
				   "status fields",
				   EBADMSG, cb, ctx);
	s->busy = false;
	if (fail_class == HEARTH_FAIL_NONE) {
		cb(job_id, msg, NULL, ctx);
		return 1;
	}
	fail.fail = (enum hearth_fail)fail_class;
	fail.code = code < INT_MIN || code > INT_MAX ? 0 : (int)code;
	snprintf(fail.msg, sizeof(fail.msg), "%s",
		 text != NULL ? text : "worker job failed");
	cb(job_id, NULL, &fail, ctx);
	return 1;
}

/* The worker in s has something to say (bytes, end of stream, an error). */
static int worker_service(struct worker_slot *s, worker_result_fn cb,
			  void *ctx)
{
	struct hearth_err err = {0};
	int delivered = 0;
	char why[300];
	int ret;

	ret = wire_reader_read(s->reader, s->fd, &err);
	if (ret < 0) {
		snprintf(why, sizeof(why), "worker sent a malformed result: %s",
			 err.msg);
		return worker_lose(s, why, err.code, cb, ctx);
	}
	for (;;) {
		struct wire_msg *msg = NULL;
		int next = wire_reader_next(s->reader, &msg, &err);

		if (next == 0)
			break;
		if (next < 0) {
			snprintf(why, sizeof(why),
				 "worker sent a malformed result: %s", err.msg);
			return delivered + worker_lose(s, why, err.code, cb,
						       ctx);
		}
		delivered += worker_take_result(s, msg, cb, ctx);
		wire_msg_free(&msg);
		if (s->pid < 0)
			return delivered;
	}
	if (ret == 0)
		delivered += worker_lose(s, NULL, 0, cb, ctx);
	return delivered;
}

size_t worker_pool_pollfds(const struct worker_pool *p, struct pollfd *fds,
			   size_t max)
{
	size_t n = 0;

	for (unsigned i = 0; i < p->n && n < max; i++) {
		if (p->slots[i].pid <= 0)
			continue;
		fds[n++] = (struct pollfd){.fd = p->slots[i].fd,
					   .events = POLLIN};
	}
	return n;
}

int worker_pool_timeout(const struct worker_pool *p)
{
	int64_t now = net_now_msecs();
	int64_t wait = -1;

	for (unsigned i = 0; i < p->n; i++) {
		const struct worker_slot *s = &p->slots[i];
		int64_t left;

		if (s->pid <= 0) {
			left = WORKER_RESPAWN_MSECS;
		} else if (s->busy) {
			left = s->deadline_msecs - now;
			if (left < 0)
				left = 0;
		} else {
			continue;
		}
		if (wait < 0 || left < wait)
			wait = left;
	}
	return wait > INT_MAX ? INT_MAX : (int)wait;
}

int worker_pool_dispatch(struct worker_pool *p, const struct pollfd *fds,
			 size_t nfds, worker_result_fn cb, void *ctx)
{
	short revents[WORKER_POOL_MAX] = {0};
	unsigned gen[WORKER_POOL_MAX];
	int delivered = 0;
	int64_t now;

	/*
	 * Take the events first: a callback may submit, and a worker lost
	 * meanwhile must not be served with its predecessor's events.
	 */
	for (unsigned i = 0; i < p->n; i++) {
		const struct worker_slot *s = &p->slots[i];

		gen[i] = s->gen;
		for (size_t k = 0; k < nfds && s->pid > 0; k++) {
			if (fds[k].fd == s->fd)
				revents[i] = fds[k].revents;
		}
	}
	for (unsigned i = 0; i < p->n; i++) {
		struct worker_slot *s = &p->slots[i];

		if (s->pid > 0 && s->gen == gen[i] && revents[i] != 0)
			delivered += worker_service(s, cb, ctx);
	}
	now = net_now_msecs();
	for (unsigned i = 0; i < p->n; i++) {
		struct worker_slot *s = &p->slots[i];
		char why[128];

		if (s->pid <= 0 || !s->busy || now < s->deadline_msecs)
			continue;
		snprintf(why, sizeof(why),
			 "worker killed: job timed out after %lld ms",
			 (long long)(now - s->started_msecs));
		delivered += worker_lose(s, why, ETIMEDOUT, cb, ctx);
	}
	worker_respawn(p);
	return delivered;
}

int worker_pool_poll(struct worker_pool *p, int timeout_msecs,
		     worker_result_fn cb, void *ctx)
{
	struct pollfd fds[WORKER_POOL_MAX];
	size_t nfds;
	int wait;

	worker_respawn(p);
	nfds = worker_pool_pollfds(p, fds, WORKER_POOL_MAX);
	wait = worker_pool_timeout(p);
	if (wait < 0 || (timeout_msecs >= 0 && timeout_msecs < wait))
		wait = timeout_msecs;
	if (poll(fds, nfds, wait) < 0)
		return errno == EINTR ? 0 : -1;
	return worker_pool_dispatch(p, fds, nfds, cb, ctx);
}

pid_t worker_pool_job_pid(const struct worker_pool *p, uint64_t job_id)
{
	for (unsigned i = 0; i < p->n; i++) {
		const struct worker_slot *s = &p->slots[i];

		if (s->pid > 0 && s->busy && s->job_id == job_id)
			return s->pid;
	}
	return -1;
}

size_t worker_pool_pids(const struct worker_pool *p, pid_t *pids_r,
			size_t max)
{
	size_t n = 0;

	for (unsigned i = 0; i < p->n && n < max; i++) {
		if (p->slots[i].pid > 0)
			pids_r[n++] = p->slots[i].pid;
	}
	return n;
}
