// SPDX-License-Identifier: MIT
/*
 * Jobs and their wire encoding, run in real worker processes against
 * scripted fake servers: round trips of every job and result, a worker
 * killed with SIGKILL mid-job (the job comes back as retry and a fresh
 * worker takes the next one), a session lost half-way through an ENGAGE
 * (the items done are kept), and secrets that never show in a description.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_server.h"
#include "jobrun.h"
#include "hearth/job.h"
#include "hearth/log.h"
#include "hearth/net.h"
#include "hearth/worker.h"
#include "hearth/xalloc.h"
#include "test.h"

#define CERTS HEARTH_TEST_CERTS_DIR

static struct worker_pool *pool;
static pid_t last_killed;

static struct job_account fake_account(uint16_t port)
{
	struct job_account a = {
	    .ep = {.host = "127.0.0.1",
		   .port = port,
		   .security = ENDPOINT_TLS,
		   .ca_file = CERTS "/ca.crt"},
	    .cred = {.username = "a@x.test", .secret = "s3cret-pw"},
	};
	return a;
}

static struct fake_server *fake(const char *script)
{
	struct fake_tls tls = {.cert_file = CERTS "/good.crt",
			       .key_file = CERTS "/good.key",
			       .implicit = true};

	return fake_server_start(script, &tls);
}

#define IMAP_LOGIN                                                             \
	"send * OK fake ready\n"                                               \
	"expect_tag CAPABILITY\n"                                              \
	"send * CAPABILITY IMAP4rev1 AUTH=PLAIN\n"                             \
	"send $TAG OK done\n"                                                  \
	"expect_tag LOGIN *\n"                                                 \
	"send $TAG OK logged in\n"                                             \
	"expect_tag CAPABILITY\n"                                              \
	"send * CAPABILITY IMAP4rev1 UIDPLUS MOVE\n"                           \
	"send $TAG OK done\n"

static void test_roundtrip(void)
{
	struct job_engage_item items[2] = {
	    {.exchange_id = 7,
	     .query = {.token_header = "X-Ref",
		       .token = "tok",
		       .message_id = "<m@x.test>",
		       .from_addr = "a@x.test",
		       .subject = "S",
		       .sent_at = 1700000000,
		       .window_secs = 60},
	     .rescue = true,
	     .mark_seen = true,
	     .file_to = "Archive"},
	    {.exchange_id = 8, .delete_after = true},
	};
	struct job_engage job = {
	    .imap = fake_account(993),
	    .spam_folder = "Junk",
	    .other_folders = {"Updates"},
	    .n_other_folders = 1,
	    .items = items,
	    .n_items = 2,
	    .op_timeout_msecs = 5000,
	};
	struct hearth_err err = {0};
	struct wire_msg *m;
	char buf[4096];

	test_begin("an encoded job never shows its secret");
	m = job_engage_encode(&job, &err);
	test_assert(m != NULL);
	test_assert(strstr(wire_msg_describe(m, buf, sizeof(buf)), "s3cret") ==
		    NULL);
	wire_msg_free(&m);
	job.n_items = JOB_ENGAGE_MAX_ITEMS + 1;
	test_assert(job_engage_encode(&job, &err) == NULL);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_end();

	test_begin("a result of the wrong type is refused");
	{
		struct job_send_result sres;
		struct job_probe_result pres;

		m = wire_msg_new(JOB_ENGAGE);
		test_assert(job_send_result_decode(m, &sres, &err) == -1);
		test_assert(job_probe_result_decode(m, &pres, &err) == -1);
		test_assert(job_send_result_decode(NULL, &sres, &err) == -1);
		wire_msg_free(&m);
	}
	test_end();
}

/* Let the worker get into the job, then kill it. */
static void kill_worker(struct worker_pool *p, uint64_t job_id)
{
	usleep(300 * 1000);
	last_killed = worker_pool_job_pid(p, job_id);
	kill(last_killed, SIGKILL);
}

static void test_sigkill(void)
{
	struct fake_server *hang = fake(IMAP_LOGIN "hang\n");
	struct fake_server *ok;
	struct job_engage job = {.op_timeout_msecs = 5000};
	struct job_engage_result *res = xcalloc(1, sizeof(*res));
	struct hearth_err err = {0};
	struct jobrun_outcome o;
	pid_t killed;

	test_begin("a worker killed with SIGKILL mid-job: retry");
	test_assert(hang != NULL);
	job.imap = fake_account(fake_server_port(hang));
	job.spam_folder = "Junk";
	jobrun(pool, 1, job_engage_encode(&job, &err), net_now_msecs() + 20000,
	       &o, kill_worker);
	test_assert(o.failed);
	test_assert(o.fail.fail == HEARTH_FAIL_RETRY);
	test_assert(strstr(o.fail.msg, "signal 9") != NULL);
	fake_server_finish(&hang, 2000, NULL);
	test_end();

	test_begin("a fresh worker takes the next job");
	test_assert(worker_pool_live(pool) == 2);
	killed = 0;
	{
		pid_t pids[4];
		size_t n = worker_pool_pids(pool, pids, 4);

		test_assert(n == 2);
		for (size_t i = 0; i < n; i++)
			if (pids[i] == last_killed)
				killed = pids[i];
	}
	ok = fake(IMAP_LOGIN "expect_tag LOGOUT\nsend * BYE\n"
			     "send $TAG OK bye\n");
	test_assert(ok != NULL);
	job.imap = fake_account(fake_server_port(ok));
	jobrun(pool, 2, job_engage_encode(&job, &err), net_now_msecs() + 20000,
	       &o, NULL);
	test_assert(!o.failed);
	test_assert(job_engage_result_decode(o.result, res, &err) == 0);
	test_assert(res->n_items == 0);
	test_assert(strcmp(res->spam_folder, "Junk") == 0);
	test_assert(killed == 0);
	wire_msg_free(&o.result);
	test_assert(fake_server_finish(&ok, 2000, NULL) == 0);
	test_end();
	free(res);
}

static void test_deadline(void)
{
	struct fake_server *hang = fake("hang\n");
	struct job_engage job = {.op_timeout_msecs = 60000};
	struct hearth_err err = {0};
	struct jobrun_outcome o;
	int64_t start = net_now_msecs();

	test_begin("a job that outlives its deadline: retry, in time");
	job.imap = fake_account(fake_server_port(hang));
	jobrun(pool, 3, job_engage_encode(&job, &err), start + 1500, &o, NULL);
	test_assert(o.failed && o.fail.fail == HEARTH_FAIL_RETRY);
	test_assert(net_now_msecs() - start < 1500 + test_slack_msecs());
	fake_server_finish(&hang, 2000, NULL);
	test_end();
}

static void test_partial(void)
{
	/* The first item is found in INBOX and marked; then the server
	 * drops the connection during the second. */
	struct fake_server *fs =
	    fake(IMAP_LOGIN "expect_tag SELECT INBOX\n"
			    "send * 1 EXISTS\n"
			    "send * OK [UIDVALIDITY 3] ok\n"
			    "send $TAG OK [READ-WRITE] done\n"
			    "expect_tag UID SEARCH HEADER X-Ref t1\n"
			    "send * SEARCH 4\n"
			    "send $TAG OK done\n"
			    "expect_tag UID FETCH 4 *\n"
			    "send * 1 FETCH (UID 4 FLAGS () BODY[HEADER.FIELDS "
			    "(X-Ref)] {11}\n"
			    "sendraw X-Ref: t1\\r\\n)\\r\\n\n"
			    "send $TAG OK done\n"
			    "expect_tag UID STORE 4 +FLAGS.SILENT (\\\\Seen)\n"
			    "send $TAG OK done\n"
			    "expect_tag UID SEARCH HEADER X-Ref t2\n"
			    "close\n");
	struct job_engage_item items[2] = {
	    {.exchange_id = 1,
	     .query = {.token_header = "X-Ref", .token = "t1"},
	     .mark_seen = true},
	    {.exchange_id = 2,
	     .query = {.token_header = "X-Ref", .token = "t2"},
	     .mark_seen = true},
	};
	struct job_engage job = {.spam_folder = "Junk",
				 .items = items,
				 .n_items = 2,
				 .op_timeout_msecs = 5000};
	struct job_engage_result *res = xcalloc(1, sizeof(*res));
	struct hearth_err err = {0};
	struct jobrun_outcome o;

	test_begin("ENGAGE losing its session half-way keeps what was done");
	test_assert(fs != NULL);
	job.imap = fake_account(fake_server_port(fs));
	jobrun(pool, 4, job_engage_encode(&job, &err), net_now_msecs() + 20000,
	       &o, NULL);
	test_assert(!o.failed);
	test_assert(job_engage_result_decode(o.result, res, &err) == 0);
	test_assert(res->n_items == 1);
	test_assert(res->items[0].exchange_id == 1);
	test_assert(res->items[0].placement == JOB_PLACEMENT_INBOX);
	test_assert(res->items[0].method == IMAP_LOCATE_TOKEN);
	test_assert(res->items[0].uid == 4 && res->items[0].seen);
	test_assert(res->session_fail == HEARTH_FAIL_RETRY);
	wire_msg_free(&o.result);
	fake_server_finish(&fs, 2000, NULL);
	test_end();
	free(res);
}

int main(void)
{
	struct hearth_err err = {0};
	int ret;

	log_set_level(LOG_LEVEL_ERROR);
	pool = worker_pool_new(2, job_handler, NULL, &err);
	if (pool == NULL) {
		fprintf(stderr, "worker_pool_new: %s\n", err.msg);
		return 1;
	}
	test_roundtrip();
	test_sigkill();
	test_deadline();
	test_partial();
	ret = test_exit();
	worker_pool_free(&pool);
	return ret;
}
