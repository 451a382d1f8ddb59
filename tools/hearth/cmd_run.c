// SPDX-License-Identifier: MIT
/*
 * hearth run and hearth simulate: the engine's event loop around the
 * scheduler (engine/scheduler.c), the worker pool that runs its jobs, and a
 * clock: the real one, or a virtual one that jumps to the next thing due
 * (DESIGN.md, Time). Both take a lock next to the database, so two engines
 * never run on one store.
 *
 * Signals: the first SIGTERM or SIGINT drains (nothing new starts; running
 * jobs finish), the second stops at once (workers killed, their jobs handed
 * back; exchanges caught "sending" are looked for at the next start).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "hearth/clock.h"
#include "hearth/content.h"
#include "hearth/job.h"
#include "hearth/log.h"
#include "hearth/net.h"
#include "hearth/scheduler.h"
#include "hearth/worker.h"
#include "hearth/xalloc.h"

/* The settings a simulation keeps, so a restarted one resumes. */
#define SIM_CLOCK_KEY "simulate.clock"
#define SIM_UNTIL_KEY "simulate.until"
#define SIM_START_KEY "simulate.start"
/* The saved clock lags the virtual one by at most this much: a restarted
 * simulation resumes there, and what was due since runs at once. */
#define SIM_SAVE_SECS 600
/* Pool job ids carry the run in their low bits. */
#define RUN_BITS 16
/* A simulated ENGAGE waits this long in all for mail still in delivery. */
#define SIM_LOCATE_WAIT_MSECS 3000
/*
 * While jobs run, the virtual clock may move on to start more jobs, up to
 * this far past the oldest running job's start: results are then recorded
 * up to this late, far less than the few minutes between a send and its
 * first look. It lets a simulation use every worker.
 */
#define SIM_MAX_SKEW_SECS (10 * 60)
/* The longest sleep of the real loop (it reads the inboxes again). */
#define RUN_MAX_SLEEP_MSECS 60000

static volatile sig_atomic_t loop_signals;

static void on_signal(int sig)
{
	(void)sig;
	loop_signals++;
}

struct loop {
	struct cli cli;
	struct worker_pool *pool;
	struct scheduler *sc;
	struct content_corpus *corpus;
	int lock_fd;
	bool virtual_clock;
	int64_t vnow;
	struct job_engage_result *engage_res; /* big: one, reused */
	/* the virtual start of each running job (simulate) */
	struct {
		uint64_t pool_id;
		int64_t vstart;
	} running[WORKER_POOL_MAX];
	size_t n_running;
};

static void running_add(struct loop *l, uint64_t pool_id)
{
	if (l->n_running < WORKER_POOL_MAX) {
		l->running[l->n_running].pool_id = pool_id;
		l->running[l->n_running++].vstart = l->vnow;
	}
}

static void running_del(struct loop *l, uint64_t pool_id)
{
	for (size_t i = 0; i < l->n_running; i++)
		if (l->running[i].pool_id == pool_id) {
			l->running[i] = l->running[--l->n_running];
			return;
		}
}

/* The virtual start of the oldest running job, or INT64_MAX. */
static int64_t running_oldest(const struct loop *l)
{
	int64_t t = INT64_MAX;

	for (size_t i = 0; i < l->n_running; i++)
		if (l->running[i].vstart < t)
			t = l->running[i].vstart;
	return t;
}

static int64_t loop_now(const struct loop *l)
{
	return l->virtual_clock ? l->vnow : (int64_t)time(NULL);
}

/* ---- the network side of the scheduler ---- */

static uint64_t pool_job_id(uint64_t job_id, uint32_t run)
{
	return (job_id << RUN_BITS) | (run & ((1u << RUN_BITS) - 1));
}

/* Hand an encoded job (NULL: it could not be encoded) to a worker. */
static int net_submit(struct loop *l, uint64_t job_id, uint32_t run,
		      struct wire_msg *m, int timeout_secs,
		      struct hearth_err *err)
{
	if (m == NULL ||
	    worker_pool_submit(l->pool, pool_job_id(job_id, run), &m,
			       net_now_msecs() + (int64_t)timeout_secs * 1000,
			       err) < 0) {
		log_debug("job=%" PRIu64 " not started: %s", job_id, err->msg);
		return -1;
	}
	running_add(l, pool_job_id(job_id, run));
	return 0;
}

static int net_send(void *ctx, uint64_t job_id, uint32_t run,
		    const struct job_send *job, int timeout_secs)
{
	struct hearth_err err = {0};

	return net_submit(ctx, job_id, run, job_send_encode(job, &err),
			  timeout_secs, &err);
}

static int net_engage(void *ctx, uint64_t job_id, uint32_t run,
		      const struct job_engage *job, int timeout_secs)
{
	struct hearth_err err = {0};

	return net_submit(ctx, job_id, run, job_engage_encode(job, &err),
			  timeout_secs, &err);
}

static int net_check(void *ctx, uint64_t job_id, uint32_t run,
		     const struct job_check *job, int timeout_secs)
{
	struct hearth_err err = {0};

	return net_submit(ctx, job_id, run, job_check_encode(job, &err),
			  timeout_secs, &err);
}

static void net_abandon(void *ctx, uint64_t job_id, uint32_t run)
{
	struct loop *l = ctx;
	pid_t pid = worker_pool_job_pid(l->pool, pool_job_id(job_id, run));

	if (pid > 0)
		kill(pid, SIGKILL);
}

/* A worker's result, to the scheduler. */
static void net_result(uint64_t pool_id, const struct wire_msg *result,
		       const struct hearth_err *fail, void *ctx)
{
	struct loop *l = ctx;
	uint64_t job_id = pool_id >> RUN_BITS;
	uint32_t run = (uint32_t)(pool_id & ((1u << RUN_BITS) - 1));
	int64_t now = loop_now(l);
	struct hearth_err err = {0};

	running_del(l, pool_id);
	if (scheduler_job_is_check(job_id)) {
		struct job_check_result cr;
		bool ok = result != NULL &&
			  job_check_result_decode(result, &cr, &err) == 0;

		if (result != NULL && !ok)
			fail = &err;
		scheduler_check_done(l->sc, job_id, run, now, ok ? &cr : NULL,
				     ok ? NULL : fail);
		if (ok)
			job_check_result_clear(&cr);
		return;
	}
	if (scheduler_job_is_engage(job_id)) {
		if (result != NULL &&
		    job_engage_result_decode(result, l->engage_res, &err) < 0)
			fail = &err;
		scheduler_engage_done(
		    l->sc, job_id, run, now,
		    result != NULL && fail == NULL ? l->engage_res : NULL,
		    fail);
		return;
	}
	struct job_send_result res;
	bool have = false;

	if (result != NULL) {
		if (job_send_result_decode(result, &res, &err) < 0)
			fail = &err;
		else
			have = true;
	} else if (fail != NULL && strncmp(fail->msg, WORKER_LOST_PREFIX,
					   strlen(WORKER_LOST_PREFIX)) == 0) {
		/* the worker died or hung: the message may have gone */
		memset(&res, 0, sizeof(res));
		res.uncertain = true;
		snprintf(res.error, sizeof(res.error), "%s", fail->msg);
		have = true;
	}
	scheduler_send_done(l->sc, job_id, run, now, have ? &res : NULL,
			    have ? NULL : fail);
}

/* ---- setting up ---- */

/* The lock next to the database: one engine per store. */
static int loop_lock(struct loop *l)
{
	char *path = xasprintf("%s.lock", l->cli.cfg->database);
	char pid[32];
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		fprintf(stderr, "hearth: cannot open %s: %s\n", path,
			strerror(errno));
		free(path);
		return EX_CANTCREAT;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t n = read(fd, pid, sizeof(pid) - 1);

		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		fprintf(stderr,
			"hearth: another engine (pid %s) runs on %s; stop it "
			"first\n",
			pid[0] != '\0' ? pid : "unknown", l->cli.cfg->database);
		close(fd);
		free(path);
		return EX_TEMPFAIL;
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, strlen(pid), 0) < 0)
		log_warn("cannot write the pid into %s", path);
	free(path);
	l->lock_fd = fd;
	return EX_OK;
}

static void loop_close(struct loop *l)
{
	scheduler_free(&l->sc);
	worker_pool_free(&l->pool);
	content_corpus_free(&l->corpus);
	cli_close(&l->cli);
	if (l->lock_fd >= 0)
		close(l->lock_fd);
	l->lock_fd = -1;
	free(l->engage_res);
	l->engage_res = NULL;
}

/*
 * Open everything the loop needs: configuration, corpus, workers (forked
 * before the store is opened), lock, store, vault, scheduler.
 */
static int loop_open(struct loop *l, const char *cmd, unsigned workers,
		     int locate_wait_msecs, uint64_t seed)
{
	struct hearth_err err = {0};
	struct scheduler_options so;
	struct scheduler_net net = {.send = net_send,
				    .engage = net_engage,
				    .abandon = net_abandon,
				    .check = net_check,
				    .ctx = l};
	const struct config *cfg;
	char *patterns = NULL;
	char *token_header = NULL;
	struct sigaction sa;
	int ret;

	l->lock_fd = -1;
	l->engage_res = xcalloc(1, sizeof(*l->engage_res));
	ret = cli_open(&l->cli, 0);
	if (ret != EX_OK)
		return ret;
	if (workers == 0)
		workers = l->cli.cfg->workers;
	if (content_corpus_load(l->cli.cfg->seeds_dir, &l->corpus, &err) < 0)
		return cli_fail(cmd, &err);
	l->pool = worker_pool_new(workers, job_handler, NULL, &err);
	if (l->pool == NULL)
		return cli_fail(cmd, &err);
	ret = loop_lock(l);
	if (ret != EX_OK)
		return ret;
	ret = cli_open(&l->cli, CLI_STORE | CLI_VAULT);
	if (ret != EX_OK)
		return ret;
	scheduler_options_default(&so);
	so.workers = workers;
	so.per_host = l->cli.cfg->per_host;
	so.op_timeout_msecs = l->cli.cfg->op_timeout_msecs;
	so.job_deadline_secs = l->cli.cfg->job_deadline_msecs / 1000;
	if (so.job_deadline_secs < 1)
		so.job_deadline_secs = 1;
	so.locate_wait_msecs = locate_wait_msecs;
	if (l->virtual_clock)
		so.lease_secs = CLOCK_DAY_SECS; /* see SIM_MAX_SKEW_SECS */
	so.thread_depth = l->cli.cfg->thread_depth;
	so.retention = l->cli.cfg->retention;
	so.retention_days = l->cli.cfg->retention_days;
	so.ehlo_name = l->cli.cfg->ehlo_name;
	so.ca_file = l->cli.cfg->ca_file;
	so.lang = l->cli.cfg->language;
	so.default_profile = l->cli.cfg->ramp_profile;
	so.seed = seed;
	cfg = l->cli.cfg;
	/* bounces and auto-replies looked for hourly; domains checked daily */
	so.notice_every_secs = 3600;
	patterns = cfg->checks_bounce_patterns != NULL
		       ? xstrdup(cfg->checks_bounce_patterns)
		       : xasprintf("%s/bounce-patterns.conf", cfg->seeds_dir);
	so.bounce_patterns = patterns;
	so.check_every_secs = cfg->checks_enabled ? CLOCK_DAY_SECS : 0;
	so.dns_servers = cfg->dns_servers;
	so.dkim_selectors = (const char *const *)cfg->checks_dkim_selectors.items;
	so.n_dkim_selectors = cfg->checks_dkim_selectors.n;
	so.domain_lists = (const char *const *)cfg->checks_domain_lists.items;
	so.n_domain_lists = cfg->checks_domain_lists.n;
	so.ip_lists = (const char *const *)cfg->checks_ip_lists.items;
	so.n_ip_lists = cfg->checks_ip_lists.n;
	if (l->cli.cfg->token_header != NULL)
		token_header = xstrdup(l->cli.cfg->token_header);
	else if (store_setting_get(l->cli.store, "token_header", &token_header,
				   &err) <= 0) {
		fprintf(stderr,
			"hearth %s: the database has no token header: run "
			"'hearth init' again\n",
			cmd);
		free(patterns);
		return EX_CONFIG;
	}
	so.token_header = token_header;
	l->sc = scheduler_new(l->cli.store, l->cli.vault, l->corpus, &so, &net,
			      loop_now(l), &err);
	free(token_header);
	free(patterns);
	if (l->sc == NULL)
		return cli_fail(cmd, &err);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	loop_signals = 0;
	return EX_OK;
}

/*
 * React to signals: the first drains, the second stops at once. Returns
 * true when the loop must end now.
 */
static bool loop_signalled(struct loop *l)
{
	if (loop_signals == 0)
		return false;
	if (loop_signals == 1) {
		if (!scheduler_draining(l->sc))
			log_info("engine draining: running=%zu (a second "
				 "signal stops at once)",
				 scheduler_running(l->sc));
		scheduler_drain(l->sc);
		return false;
	}
	log_warn("engine stopping now: running=%zu handed back",
		 scheduler_running(l->sc));
	worker_pool_free(&l->pool);
	scheduler_hand_back(l->sc, loop_now(l));
	return true;
}

/* ---- hearth run ---- */

static int run_usage(FILE *out)
{
	fprintf(out,
		"usage: hearth run [--workers N] [--log FILE]\n"
		"\n"
		"Run the warmup engine on the real clock until SIGTERM or "
		"SIGINT (the first\n"
		"drains, a second stops at once). Logs are key=value lines on "
		"stderr or FILE.\n");
	return out == stdout ? EX_OK : EX_USAGE;
}

static int parse_count(const char *cmd, const char *opt, const char *text,
		       unsigned long max, unsigned long *v_r)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < 1 || v > max)
		return cli_usage_error(cmd,
				       "%s must be a whole number from 1 "
				       "to %lu",
				       opt, max);
	*v_r = v;
	return EX_OK;
}

static int open_log(const char *cmd, const char *path, FILE **f_r)
{
	if (path == NULL)
		return EX_OK;
	*f_r = fopen(path, "ae");
	if (*f_r == NULL) {
		fprintf(stderr, "hearth %s: cannot open %s: %s\n", cmd, path,
			strerror(errno));
		return EX_CANTCREAT;
	}
	log_set_stream(*f_r);
	return EX_OK;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"workers", required_argument, NULL, 'w'},
	    {"log", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct loop l = {0};
	unsigned long workers = 0;
	const char *log_path = NULL;
	FILE *log_file = NULL;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'w') {
			ret = parse_count("run", "--workers", optarg,
					  WORKER_POOL_MAX, &workers);
			if (ret != EX_OK)
				return ret;
		} else if (c == 'l') {
			log_path = optarg;
		} else {
			return run_usage(c == 'h' ? stdout : stderr);
		}
	}
	if (optind != argc)
		return run_usage(stderr);
	ret = open_log("run", log_path, &log_file);
	if (ret != EX_OK)
		return ret;
	ret = loop_open(&l, "run", (unsigned)workers, 0, 0);
	if (ret != EX_OK)
		goto out;
	log_info("engine started pid=%ld workers=%u", (long)getpid(),
		 worker_pool_live(l.pool));
	for (;;) {
		struct hearth_err err = {0};
		int64_t now = loop_now(&l);
		int64_t next = scheduler_step(l.sc, now, &err);
		int64_t wait;

		if (next < 0) {
			log_error("engine step failed: %s", err.msg);
			next = now + 5;
		}
		if (loop_signalled(&l))
			break;
		if (loop_signals > 0 && scheduler_running(l.sc) == 0)
			break;
		wait = next == INT64_MAX ? RUN_MAX_SLEEP_MSECS
					 : (next - now) * 1000;
		if (wait < 0)
			wait = 0;
		if (wait > RUN_MAX_SLEEP_MSECS)
			wait = RUN_MAX_SLEEP_MSECS;
		if (worker_pool_poll(l.pool, (int)wait, net_result, &l) < 0)
			log_warn("poll failed: %s", strerror(errno));
	}
	log_info("engine stopped");
out:
	loop_close(&l);
	if (log_file != NULL) {
		log_set_stream(NULL);
		fclose(log_file);
	}
	return ret;
}

/* ---- hearth simulate ---- */

static int simulate_usage(FILE *out)
{
	fprintf(out,
		"usage: hearth simulate --days N [--seed S] [--start "
		"YYYY-MM-DD] [--workers N]\n"
		"                       [--log FILE]\n"
		"\n"
		"Run the engine on a virtual clock against the real mail "
		"servers of the\n"
		"enrolled inboxes (use it with the mail lab, never with real "
		"providers): each\n"
		"simulated day is planned, sent, engaged and recorded as "
		"`hearth run` would,\n"
		"without the waiting. The clock starts at --start (default: "
		"today, UTC) or\n"
		"where the last simulation on this database stopped; a "
		"simulation that was\n"
		"interrupted resumes. --seed S replaces the pools' own seeds: "
		"the same seed\n"
		"and the same inboxes give the same plan (and, with one "
		"worker, the same run).\n"
		"Prints a summary: "
		"days, exchanges, placements, elapsed seconds, exchanges per "
		"second, CPU.\n");
	return out == stdout ? EX_OK : EX_USAGE;
}

static int64_t setting_i64(struct store *s, const char *key)
{
	char *v = NULL;
	int64_t n = 0;

	if (store_setting_get(s, key, &v, NULL) == 1)
		n = strtoll(v, NULL, 10);
	free(v);
	return n;
}

static void setting_put_i64(struct store *s, const char *key, int64_t v)
{
	char buf[32];
	struct hearth_err err = {0};

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	if (store_setting_set(s, key, buf, &err) < 0)
		log_warn("cannot save %s: %s", key, err.msg);
}

static void progress(const struct loop *l, int64_t start, int64_t until,
		     bool tty, int64_t *shown_day)
{
	struct scheduler_stats st;
	int64_t day = clock_day_index(l->vnow);
	int64_t total = (until - start) / CLOCK_DAY_SECS;
	int64_t done = (l->vnow - start) / CLOCK_DAY_SECS;
	char date[CLOCK_DATE_SIZE];
	char bar[31];

	if (!tty && day == *shown_day)
		return;
	*shown_day = day;
	scheduler_stats(l->sc, &st);
	clock_day_format(day, date);
	if (total < 1)
		total = 1;
	if (done > total)
		done = total;
	for (int i = 0; i < 30; i++)
		bar[i] = i < (int)(done * 30 / total) ? '#' : '.';
	bar[30] = '\0';
	fprintf(stderr,
		"%s[%s] day %" PRId64 "/%" PRId64 " %s sent=%" PRIu64
		" inbox=%" PRIu64 " spam=%" PRIu64 " replies=%" PRIu64 "%s",
		tty ? "\r" : "", bar, done < total ? done + 1 : total, total,
		date, st.sent, st.inbox, st.spam, st.replies, tty ? "" : "\n");
	fflush(stderr);
}

int cmd_simulate(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"days", required_argument, NULL, 'd'},
	    {"seed", required_argument, NULL, 'S'},
	    {"start", required_argument, NULL, 's'},
	    {"workers", required_argument, NULL, 'w'},
	    {"log", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct loop l = {.virtual_clock = true};
	unsigned long days = 0, workers = 0;
	uint64_t seed = 0;
	int64_t start_day = clock_day_index((int64_t)time(NULL));
	int64_t start, first, until, saved_at, shown_day = INT64_MIN;
	const char *log_path = NULL;
	FILE *log_file = NULL;
	struct scheduler_stats st;
	struct rusage self, children;
	int64_t t0;
	bool tty = isatty(STDERR_FILENO), resumed = false;
	char *end;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			ret = parse_count("simulate", "--days", optarg, 3660,
					  &days);
			if (ret != EX_OK)
				return ret;
			break;
		case 'S':
			errno = 0;
			seed = strtoull(optarg, &end, 0);
			if (errno != 0 || end == optarg || *end != '\0')
				return cli_usage_error("simulate",
						       "--seed must be a "
						       "number");
			break;
		case 's':
			if (clock_day_parse(optarg, &start_day) < 0)
				return cli_usage_error("simulate",
						       "--start must be a "
						       "date YYYY-MM-DD");
			break;
		case 'w':
			ret = parse_count("simulate", "--workers", optarg,
					  WORKER_POOL_MAX, &workers);
			if (ret != EX_OK)
				return ret;
			break;
		case 'l':
			log_path = optarg;
			break;
		default:
			return simulate_usage(c == 'h' ? stdout : stderr);
		}
	}
	if (optind != argc || days == 0)
		return days == 0 && optind == argc
			   ? cli_usage_error("simulate", "--days N is required")
			   : simulate_usage(stderr);
	ret = open_log("simulate", log_path, &log_file);
	if (ret != EX_OK)
		return ret;
	/* the clock first: the scheduler starts at it */
	ret = cli_open(&l.cli, CLI_STORE);
	if (ret != EX_OK)
		goto out;
	start = setting_i64(l.cli.store, SIM_CLOCK_KEY);
	until = setting_i64(l.cli.store, SIM_UNTIL_KEY);
	first = setting_i64(l.cli.store, SIM_START_KEY);
	if (start > 0 && start < until) {
		resumed = true;
		if (first <= 0 || first > start)
			first = start;
	} else {
		if (start < start_day * CLOCK_DAY_SECS)
			start = start_day * CLOCK_DAY_SECS;
		first = start;
		until = start + (int64_t)days * CLOCK_DAY_SECS;
		setting_put_i64(l.cli.store, SIM_START_KEY, first);
		setting_put_i64(l.cli.store, SIM_CLOCK_KEY, start);
		setting_put_i64(l.cli.store, SIM_UNTIL_KEY, until);
	}
	store_close(&l.cli.store); /* reopened after the workers fork */
	l.vnow = start;
	ret = loop_open(&l, "simulate", (unsigned)workers,
			SIM_LOCATE_WAIT_MSECS, seed);
	if (ret != EX_OK)
		goto out;
	if (resumed)
		log_info("simulation resumed at=%" PRId64 " until=%" PRId64,
			 start, until);
	t0 = net_now_msecs();
	saved_at = l.vnow;
	for (;;) {
		struct hearth_err err = {0};
		int64_t next = scheduler_step(l.sc, l.vnow, &err);

		if (next < 0) {
			log_error("engine step failed: %s", err.msg);
			next = l.vnow + 60;
		}
		if (loop_signalled(&l))
			break;
		if (scheduler_running(l.sc) > 0) {
			/* a free worker and something due soon: move on */
			if (worker_pool_idle(l.pool) > 0 && next > l.vnow &&
			    next <= until && !scheduler_draining(l.sc) &&
			    next <= running_oldest(&l) + SIM_MAX_SKEW_SECS) {
				l.vnow = next;
			} else {
				if (worker_pool_poll(l.pool, 1000, net_result,
						     &l) < 0)
					log_warn("poll failed: %s",
						 strerror(errno));
				continue;
			}
		} else {
			if (loop_signals > 0 || l.vnow >= until)
				break;
			if (next > until)
				next = until;
			/* nothing runs: the clock jumps to the next thing */
			l.vnow = next > l.vnow ? next : l.vnow + 1;
		}
		if (l.vnow - saved_at >= SIM_SAVE_SECS || l.vnow >= until) {
			setting_put_i64(l.cli.store, SIM_CLOCK_KEY, l.vnow);
			saved_at = l.vnow;
		}
		progress(&l, first, until, tty, &shown_day);
	}
	setting_put_i64(l.cli.store, SIM_CLOCK_KEY, l.vnow);
	if (tty)
		fputc('\n', stderr);
	scheduler_stats(l.sc, &st);
	worker_pool_free(&l.pool); /* reaps the workers: their CPU counts */
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &children);
	{
		double secs = (double)(net_now_msecs() - t0) / 1000.0;
		double exchanges = (double)(st.sent + st.engaged);

		if (!cli_globals.quiet)
			printf(
			    "simulated days=%lu until=%" PRId64
			    " planned=%" PRIu64 " sent=%" PRIu64
			    " failed=%" PRIu64 " engaged=%" PRIu64
			    " inbox=%" PRIu64 " spam=%" PRIu64 " other=%" PRIu64
			    " missing=%" PRIu64 " rescued=%" PRIu64
			    " replies=%" PRIu64 " resolved=%" PRIu64
			    " resent=%" PRIu64 " elapsed_s=%.2f sent_per_s=%.1f"
			    " ops_per_s=%.1f cpu_engine_s=%.2f"
			    " cpu_workers_s=%.2f complete=%d\n",
			    (unsigned long)((until - first) / CLOCK_DAY_SECS),
			    until, st.planned, st.sent, st.failed, st.engaged,
			    st.inbox, st.spam, st.other, st.missing, st.rescued,
			    st.replies, st.resolved, st.resent, secs,
			    secs > 0 ? (double)st.sent / secs : 0.0,
			    secs > 0 ? exchanges / secs : 0.0,
			    (double)self.ru_utime.tv_sec +
				(double)self.ru_stime.tv_sec +
				(double)(self.ru_utime.tv_usec +
					 self.ru_stime.tv_usec) /
				    1e6,
			    (double)children.ru_utime.tv_sec +
				(double)children.ru_stime.tv_sec +
				(double)(children.ru_utime.tv_usec +
					 children.ru_stime.tv_usec) /
				    1e6,
			    l.vnow >= until);
	}
	if (loop_signals > 0 && l.vnow < until)
		ret = EX_TEMPFAIL;
out:
	loop_close(&l);
	if (log_file != NULL) {
		log_set_stream(NULL);
		fclose(log_file);
	}
	return ret;
}
