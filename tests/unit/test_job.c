// SPDX-License-Identifier: MIT
/*
 * Jobs and their wire encoding, run in real worker processes against
 * scripted fake servers: round trips of every job and result, a worker
 * killed with SIGKILL mid-job (the job comes back as retry and a fresh
 * worker takes the next one), a session lost half-way through an ENGAGE
 * (the items done are kept), a SEND whose connection fails after the final
 * dot (a result marked uncertain, not a failure), the ENGAGE locate wait
 * (mail that arrives while the job looks is found; the budget is shared by
 * the job's items and bounded by the deadline), the rescue's $NotJunk
 * (set in the spam folder before the move where PERMANENTFLAGS allow it;
 * a message found in INBOX with it was rescued earlier), and secrets that
 * never show in a description.
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
#define SCALE test_time_scale()

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

/* --- SEND: uncertain after the final dot ------------------------------- */

#define SMTP_TO_MAIL                                                           \
	"send 220 fake.test ESMTP\n"                                           \
	"expect EHLO client.test\n"                                            \
	"send 250-fake.test\n"                                                 \
	"send 250 AUTH PLAIN\n"                                                \
	"expect AUTH PLAIN \n"                                                 \
	"send 235 ok\n"                                                        \
	"expect MAIL FROM:<a@x.test>\n"

#define SMTP_TO_DOT                                                            \
	SMTP_TO_MAIL "send 250 ok\n"                                           \
		     "expect RCPT TO:<b@y.test>\n"                             \
		     "send 250 ok\n"                                           \
		     "expect DATA\n"                                           \
		     "send 354 go\n"                                           \
		     "read_data\n"

static const char send_msg[] = "From: <a@x.test>\r\nTo: <b@y.test>\r\n"
			       "Subject: hi\r\n\r\nhello\r\n";

/*
 * Run a SEND against a fake SMTP server playing script; the Sent copy is
 * asked for on a port where nothing listens (appended: -1 if tried).
 */
static void run_send(const char *script, uint64_t job_id,
		     struct jobrun_outcome *o)
{
	struct fake_server *fs = fake(script);
	struct job_send job = {
	    .ehlo_name = "client.test",
	    .mail_from = "a@x.test",
	    .rcpt_to = "b@y.test",
	    .data = send_msg,
	    .data_len = sizeof(send_msg) - 1,
	    .op_timeout_msecs = 1000 * SCALE,
	    .append_sent_folder = "Sent",
	    .imap = fake_account(1),
	};
	struct hearth_err err = {0};

	test_assert(fs != NULL);
	if (fs == NULL) {
		memset(o, 0, sizeof(*o));
		o->failed = true;
		return;
	}
	job.smtp = fake_account(fake_server_port(fs));
	jobrun(pool, job_id, job_send_encode(&job, &err),
	       net_now_msecs() + 20000 * SCALE, o, NULL);
	fake_server_finish(&fs, 5000, NULL);
}

static void test_send_uncertain(void)
{
	struct job_send_result res;
	struct hearth_err err = {0};
	struct jobrun_outcome o;

	test_begin("SEND accepted: a result, not uncertain");
	run_send(SMTP_TO_DOT "send 250 2.0.0 queued\n"
			     "expect QUIT\nsend 221 bye\n",
		 20, &o);
	test_assert(!o.failed);
	test_assert(job_send_result_decode(o.result, &res, &err) == 0);
	test_assert(res.reply_code == 250 && !res.uncertain);
	test_assert(strcmp(res.stage, "data") == 0);
	test_assert(res.error[0] == '\0');
	test_assert(res.appended == -1); /* nothing listens there */
	wire_msg_free(&o.result);
	test_end();

	test_begin("SEND closed after the final dot: uncertain result");
	run_send(SMTP_TO_DOT "close\n", 21, &o);
	test_assert(!o.failed);
	test_assert(job_send_result_decode(o.result, &res, &err) == 0);
	test_assert(res.uncertain);
	test_assert(res.reply_code == 0 && res.reply_text[0] == '\0');
	test_assert(strcmp(res.stage, "dot") == 0);
	test_assert(res.error[0] != '\0');
	test_assert(strstr(res.error, "s3cret") == NULL);
	test_assert(res.appended == 0); /* no Sent copy of it */
	test_assert(res.tls_verified);
	wire_msg_free(&o.result);
	test_end();

	test_begin("SEND silent after the final dot: uncertain result");
	run_send(SMTP_TO_DOT "hang\n", 22, &o);
	test_assert(!o.failed);
	test_assert(job_send_result_decode(o.result, &res, &err) == 0);
	test_assert(res.uncertain && res.reply_code == 0);
	test_assert(strstr(res.error, "dot: no answer") != NULL);
	wire_msg_free(&o.result);
	test_end();

	test_begin("SEND closed during MAIL: a failure, not uncertain");
	run_send(SMTP_TO_MAIL "close\n", 23, &o);
	test_assert(o.failed && o.result == NULL);
	test_assert(o.fail.fail == HEARTH_FAIL_RETRY);
	test_assert(strstr(o.fail.msg, "mail") != NULL);
	wire_msg_free(&o.result);
	test_end();

	test_begin("SEND refused after the dot: a failure, not uncertain");
	run_send(SMTP_TO_DOT "send 554 5.7.1 rejected\nexpect QUIT\n", 24, &o);
	test_assert(o.failed && o.result == NULL);
	test_assert(o.fail.fail == HEARTH_FAIL_PERMANENT);
	test_assert(o.fail.code == 554);
	wire_msg_free(&o.result);
	test_end();
}

/* --- ENGAGE: the locate wait -------------------------------------------- */

#define SELECT(folder)                                                         \
	"expect_tag SELECT " folder "\n"                                       \
	"send * 0 EXISTS\n"                                                    \
	"send * OK [UIDVALIDITY 3] ok\n"                                       \
	"send $TAG OK [READ-WRITE] done\n"

#define SEARCH_NONE(token)                                                     \
	"expect_tag UID SEARCH HEADER X-Ref " token "\n"                       \
	"send * SEARCH\n"                                                      \
	"send $TAG OK done\n"

/* t1 is UID 4 */
#define SEARCH_T1                                                              \
	"expect_tag UID SEARCH HEADER X-Ref t1\n"                              \
	"send * SEARCH 4\n"                                                    \
	"send $TAG OK done\n"                                                  \
	"expect_tag UID FETCH 4 *\n"                                           \
	"send * 1 FETCH (UID 4 FLAGS () BODY[HEADER.FIELDS (X-Ref)] {11}\n"    \
	"sendraw X-Ref: t1\\r\\n)\\r\\n\n"                                     \
	"send $TAG OK done\n"

#define NOOP_NEW_MAIL                                                          \
	"expect_tag NOOP\n"                                                    \
	"send * 1 EXISTS\n"                                                    \
	"send * 1 RECENT\n"                                                    \
	"send $TAG OK done\n"

#define IMAP_LOGOUT                                                            \
	"expect_tag LOGOUT\n"                                                  \
	"send * BYE\n"                                                         \
	"send $TAG OK bye\n"

/* Both looks in INBOX, then Junk. */
#define LOOK_NONE(token)                                                       \
	SELECT("INBOX") SEARCH_NONE(token) SELECT("Junk") SEARCH_NONE(token)

#define NOOP_OK "expect_tag NOOP\nsend $TAG OK done\n"
/* A NOOP answered after %d msecs */
#define NOOP_LATE "expect_tag NOOP\nsleep %d\nsend $TAG OK done\n"

/* Discovery finds no spam folder; t1 arrives while the job looks. */
#define INBOX_ALONE                                                            \
	IMAP_LOGIN                                                             \
	"expect_tag LIST \"\" *\n"                                             \
	"send * LIST () \"/\" INBOX\n"                                         \
	"send $TAG OK done\n" SELECT("INBOX") SEARCH_NONE("t1")                \
	    NOOP_NEW_MAIL SEARCH_T1 IMAP_LOGOUT

/* Two items never there: two pauses for the first, then one look each. */
#define NEVER_THERE                                                            \
	IMAP_LOGIN                                                             \
	LOOK_NONE("t1")                                                        \
	NOOP_OK                                                                \
	LOOK_NONE("t1")                                                        \
	NOOP_LATE                                                              \
	LOOK_NONE("t1")                                                        \
	LOOK_NONE("t2")                                                        \
	IMAP_LOGOUT

struct engage_run {
	struct jobrun_outcome o;
	struct job_engage_result *res;
	int server;
	int64_t msecs;
};

/*
 * Run an ENGAGE of items against a fake IMAP server playing script;
 * spam_folder NULL has the job discover folders. With transcript_r, what
 * the job sent (free()).
 */
static void run_engage_items(const char *script, const char *spam_folder,
			     const struct job_engage_item *items, size_t n,
			     int locate_wait_msecs, int op_timeout_msecs,
			     int64_t deadline_in_msecs, struct engage_run *er,
			     char **transcript_r)
{
	static uint64_t job_id = 30;
	struct fake_server *fs = fake(script);
	struct job_engage job = {
	    .spam_folder = spam_folder,
	    .items = items,
	    .n_items = n,
	    .op_timeout_msecs = op_timeout_msecs,
	    .locate_wait_msecs = locate_wait_msecs,
	};
	struct hearth_err err = {0};
	int64_t start;

	memset(er, 0, sizeof(*er));
	er->server = -1;
	er->res = xcalloc(1, sizeof(*er->res));
	test_assert(fs != NULL);
	if (fs == NULL) {
		er->o.failed = true;
		return;
	}
	job.imap = fake_account(fake_server_port(fs));
	start = net_now_msecs();
	jobrun(pool, ++job_id, job_engage_encode(&job, &err),
	       start + deadline_in_msecs, &er->o, NULL);
	er->msecs = net_now_msecs() - start;
	if (!er->o.failed &&
	    job_engage_result_decode(er->o.result, er->res, &err) < 0)
		er->o.failed = true;
	er->server = fake_server_finish(&fs, 5000, transcript_r);
}

/* An ENGAGE of items that only look for X-Ref tokens. */
static void run_engage(const char *script, const char *spam_folder,
		       const char *const *tokens, size_t n_tokens,
		       int locate_wait_msecs, int op_timeout_msecs,
		       int64_t deadline_in_msecs, struct engage_run *er)
{
	struct job_engage_item items[4] = {0};

	test_assert(n_tokens <= 4);
	if (n_tokens > 4)
		n_tokens = 4;
	for (size_t i = 0; i < n_tokens; i++) {
		items[i].exchange_id = 100 + i;
		items[i].query.token_header = "X-Ref";
		items[i].query.token = tokens[i];
	}
	run_engage_items(script, spam_folder, items, n_tokens,
			 locate_wait_msecs, op_timeout_msecs, deadline_in_msecs,
			 er, NULL);
}

static void engage_run_free(struct engage_run *er)
{
	wire_msg_free(&er->o.result);
	free(er->res);
	er->res = NULL;
}

static void test_locate_wait(void)
{
	static const char *const t1[] = {"t1"};
	static const char *const t1t2[] = {"t1", "t2"};
	struct engage_run er;

	test_begin("locate wait: found after NOOP, folders selected afresh");
	run_engage(IMAP_LOGIN LOOK_NONE("t1") NOOP_NEW_MAIL SELECT("INBOX")
		       SEARCH_T1 IMAP_LOGOUT,
		   "Junk", t1, 1, 2000 * SCALE, 5000 * SCALE, 30000 * SCALE,
		   &er);
	test_assert(!er.o.failed);
	test_assert(er.server == 0);
	test_assert(er.res->n_items == 1);
	test_assert(er.res->items[0].placement == JOB_PLACEMENT_INBOX);
	test_assert(strcmp(er.res->items[0].folder, "INBOX") == 0);
	test_assert(er.res->items[0].uid == 4);
	test_assert(er.res->items[0].method == IMAP_LOCATE_TOKEN);
	engage_run_free(&er);
	test_end();

	test_begin("locate wait: INBOX alone stays selected, NOOP shows mail");
	/* No spam folder: the one folder is never selected again, so only
	 * the NOOP after the pause lets the search see new mail. */
	run_engage(INBOX_ALONE, NULL, t1, 1, 2000 * SCALE, 5000 * SCALE,
		   30000 * SCALE, &er);
	test_assert(!er.o.failed);
	test_assert(er.server == 0);
	test_assert(er.res->n_items == 1);
	test_assert(er.res->items[0].placement == JOB_PLACEMENT_INBOX);
	test_assert(er.res->items[0].uid == 4);
	engage_run_free(&er);
	test_end();

	test_begin("locate wait 0: one look only, missing");
	run_engage(IMAP_LOGIN LOOK_NONE("t1") IMAP_LOGOUT, "Junk", t1, 1, 0,
		   5000 * SCALE, 30000 * SCALE, &er);
	test_assert(!er.o.failed);
	test_assert(er.server == 0);
	test_assert(er.res->n_items == 1);
	test_assert(er.res->items[0].placement == JOB_PLACEMENT_MISSING);
	test_assert(er.res->session_fail == HEARTH_FAIL_NONE);
	engage_run_free(&er);
	test_end();

	test_begin("locate wait: never there, missing after the budget");
	{
		/* The server answers the second NOOP only after the whole
		 * budget: the first item spends it, and the second item,
		 * sharing it, gets one look. */
		int budget = 1000 * SCALE;
		char script[4096];

		snprintf(script, sizeof(script), NEVER_THERE, budget);
		run_engage(script, "Junk", t1t2, 2, budget, 5000 * SCALE,
			   30000 * SCALE, &er);
		test_assert(!er.o.failed);
		test_assert(er.server == 0);
		test_assert(er.res->n_items == 2);
		test_assert(er.res->items[0].placement ==
			    JOB_PLACEMENT_MISSING);
		test_assert(er.res->items[1].placement ==
			    JOB_PLACEMENT_MISSING);
		test_assert(er.res->session_fail == HEARTH_FAIL_NONE);
		test_assert(er.msecs >= budget);
		test_assert(er.msecs < 3 * budget + test_slack_msecs());
		engage_run_free(&er);
	}
	test_end();

	test_begin("locate wait: no pause that would run into the deadline");
	/* An operation timeout longer than what is left before the
	 * deadline: no room for a pause and the look after it. */
	run_engage(IMAP_LOGIN LOOK_NONE("t1") IMAP_LOGOUT, "Junk", t1, 1, 60000,
		   10000 * SCALE, 5000 * SCALE, &er);
	test_assert(!er.o.failed);
	test_assert(er.server == 0);
	test_assert(er.res->n_items == 1);
	test_assert(er.res->items[0].placement == JOB_PLACEMENT_MISSING);
	engage_run_free(&er);
	test_end();
}

/* --- ENGAGE: rescue with $NotJunk -------------------------------------- */

/* Junk selected; its PERMANENTFLAGS are perm (script escapes). */
#define SELECT_JUNK(perm)                                                      \
	"expect_tag SELECT Junk\n"                                             \
	"send * FLAGS (\\\\Seen \\\\Flagged \\\\Deleted \\$Junk)\n"            \
	"send * OK [PERMANENTFLAGS (" perm ")] ok\n"                           \
	"send * 1 EXISTS\n"                                                    \
	"send * OK [UIDVALIDITY 3] ok\n"                                       \
	"send $TAG OK [READ-WRITE] done\n"

/* Dovecot's default: the system flags and \* (any keyword). */
#define PERM_ALL                                                               \
	"\\\\Answered \\\\Flagged \\\\Deleted \\\\Seen \\\\Draft \\\\\\*"
#define PERM_SYSTEM "\\\\Answered \\\\Flagged \\\\Deleted \\\\Seen \\\\Draft"

/* t1 is UID 4 with FLAGS (flags) */
#define SEARCH_T1_FLAGS(flags)                                                 \
	"expect_tag UID SEARCH HEADER X-Ref t1\n"                              \
	"send * SEARCH 4\n"                                                    \
	"send $TAG OK done\n"                                                  \
	"expect_tag UID FETCH 4 *\n"                                           \
	"send * 1 FETCH (UID 4 FLAGS (" flags ") BODY[HEADER.FIELDS "          \
	"(X-Ref)] {11}\n"                                                      \
	"sendraw X-Ref: t1\\r\\n)\\r\\n\n"                                     \
	"send $TAG OK done\n"

/* UID STORE +FLAGS / -FLAGS (op "+" or "-") (flag) on UID 4; reply */
#define STORE_4_REPLY(op, flag, reply)                                         \
	"expect_tag UID STORE 4 " op "FLAGS.SILENT (" flag ")\n" reply
#define STORE_4(op, flag) STORE_4_REPLY(op, flag, "send $TAG OK done\n")

/* Discovery finds INBOX alone: no spam folder. */
#define LIST_INBOX_ALONE                                                       \
	"expect_tag LIST \"\" *\n"                                             \
	"send * LIST () \"/\" INBOX\n"                                         \
	"send $TAG OK done\n"

/* UID MOVE 4 to INBOX, where it becomes UID 9 (COPYUID). */
#define MOVE_4_TO_9                                                            \
	"expect_tag UID MOVE 4 INBOX\n"                                        \
	"send * OK [COPYUID 3 4 9] moved\n"                                    \
	"send * 1 EXPUNGE\n"                                                   \
	"send $TAG OK done\n"

/* In INBOX, \Seen on UID uid. */
#define MARK_SEEN(uid)                                                         \
	"expect_tag UID STORE " uid " +FLAGS.SILENT (\\\\Seen)\n"              \
	"send $TAG OK done\n"

static struct job_engage_item rescue_item(void)
{
	struct job_engage_item it = {
	    .exchange_id = 61,
	    .query = {.token_header = "X-Ref", .token = "t1"},
	    .rescue = true,
	    .mark_seen = true,
	};
	return it;
}

static void test_rescue_keyword(void)
{
	struct job_engage_item it = rescue_item();
	struct engage_run er;
	char *transcript = NULL;
	const char *store, *move;

	test_begin("rescue: $NotJunk set, $Junk cleared in Junk, then MOVE");
	run_engage_items(
	    IMAP_LOGIN SELECT("INBOX") SEARCH_NONE("t1") SELECT_JUNK(PERM_ALL)
		SEARCH_T1_FLAGS("\\$Junk") STORE_4("+", "\\$NotJunk")
		    STORE_4("-", "\\$Junk") MOVE_4_TO_9 SELECT("INBOX")
			MARK_SEEN("9") IMAP_LOGOUT,
	    "Junk", &it, 1, 0, 5000 * SCALE, 30000 * SCALE, &er, &transcript);
	test_assert(!er.o.failed);
	test_assert(er.server == 0);
	test_assert(er.res->n_items == 1);
	test_assert(er.res->items[0].placement == JOB_PLACEMENT_SPAM);
	test_assert(strcmp(er.res->items[0].folder, "Junk") == 0);
	test_assert(er.res->items[0].rescued);
	test_assert(er.res->items[0].uid == 9 && er.res->items[0].seen);
	test_assert(er.res->items[0].fail == HEARTH_FAIL_NONE);
	/* The keyword went to the UID in Junk, before the move. */
	store = transcript != NULL ? strstr(transcript, "$NotJunk") : NULL;
	move = transcript != NULL ? strstr(transcript, "UID MOVE") : NULL;
	test_assert(store != NULL && move != NULL && store < move);
	free(transcript);
	engage_run_free(&er);
	test_end();

	test_begin("rescue: PERMANENTFLAGS without \\*: MOVE, no keyword");
	run_engage_items(
	    IMAP_LOGIN SELECT("INBOX") SEARCH_NONE("t1")
		SELECT_JUNK(PERM_SYSTEM) SEARCH_T1_FLAGS("")
		    MOVE_4_TO_9 SELECT("INBOX") MARK_SEEN("9") IMAP_LOGOUT,
	    "Junk", &it, 1, 0, 5000 * SCALE, 30000 * SCALE, &er, &transcript);
	test_assert(!er.o.failed);
	test_assert(er.server == 0);
	test_assert(er.res->n_items == 1);
	test_assert(er.res->items[0].placement == JOB_PLACEMENT_SPAM);
	test_assert(er.res->items[0].rescued && er.res->items[0].uid == 9);
	test_assert(transcript != NULL &&
		    strstr(transcript, "-FLAGS") == NULL &&
		    strstr(transcript, "$NotJunk") == NULL);
	free(transcript);
	engage_run_free(&er);
	test_end();

	test_begin("rescue: no PERMANENTFLAGS, no FLAGS: MOVE, no keyword");
	run_engage_items(
	    IMAP_LOGIN SELECT("INBOX") SEARCH_NONE("t1") SELECT("Junk")
		SEARCH_T1_FLAGS("") MOVE_4_TO_9 SELECT("INBOX") MARK_SEEN("9")
		    IMAP_LOGOUT,
	    "Junk", &it, 1, 0, 5000 * SCALE, 30000 * SCALE, &er, &transcript);
	test_assert(!er.o.failed);
	test_assert(er.server == 0);
	test_assert(er.res->items[0].rescued && er.res->items[0].uid == 9);
	test_assert(transcript != NULL &&
		    strstr(transcript, "$NotJunk") == NULL);
	free(transcript);
	engage_run_free(&er);
	test_end();

	test_begin("rescue: $NotJunk already on it in Junk: just the MOVE");
	run_engage_items(
	    IMAP_LOGIN SELECT("INBOX") SEARCH_NONE("t1") SELECT_JUNK(PERM_ALL)
		SEARCH_T1_FLAGS("\\$NotJunk") MOVE_4_TO_9 SELECT("INBOX")
		    MARK_SEEN("9") IMAP_LOGOUT,
	    "Junk", &it, 1, 0, 5000 * SCALE, 30000 * SCALE, &er, NULL);
	test_assert(!er.o.failed);
	test_assert(er.server == 0);
	test_assert(er.res->items[0].placement == JOB_PLACEMENT_SPAM);
	test_assert(er.res->items[0].rescued && er.res->items[0].uid == 9);
	engage_run_free(&er);
	test_end();

	test_begin("rescue: a STORE of $NotJunk refused: MOVE all the same");
	run_engage_items(
	    IMAP_LOGIN SELECT("INBOX") SEARCH_NONE("t1") SELECT_JUNK(PERM_ALL)
		SEARCH_T1_FLAGS("")
		    STORE_4_REPLY("+", "\\$NotJunk", "send $TAG NO not today\n")
			MOVE_4_TO_9 SELECT("INBOX") MARK_SEEN("9") IMAP_LOGOUT,
	    "Junk", &it, 1, 0, 5000 * SCALE, 30000 * SCALE, &er, NULL);
	test_assert(!er.o.failed);
	test_assert(er.server == 0);
	test_assert(er.res->items[0].rescued && er.res->items[0].uid == 9);
	test_assert(er.res->items[0].fail == HEARTH_FAIL_NONE);
	engage_run_free(&er);
	test_end();

	test_begin("rescue: session lost at the $NotJunk STORE: no MOVE");
	run_engage_items(
	    IMAP_LOGIN SELECT("INBOX") SEARCH_NONE("t1") SELECT_JUNK(PERM_ALL)
		SEARCH_T1_FLAGS("") STORE_4_REPLY("+", "\\$NotJunk", "close\n"),
	    "Junk", &it, 1, 0, 5000 * SCALE, 30000 * SCALE, &er, &transcript);
	/* Nothing done: the whole job comes back to be retried. */
	test_assert(er.o.failed && er.o.fail.fail == HEARTH_FAIL_RETRY);
	test_assert(transcript != NULL && strstr(transcript, "MOVE") == NULL);
	free(transcript);
	engage_run_free(&er);
	test_end();

	test_begin("a look: in INBOX with $NotJunk is spam, rescued earlier");
	it.mark_seen = false;
	it.mark_flagged = true;
	run_engage_items(
	    IMAP_LOGIN SELECT("INBOX") SEARCH_T1_FLAGS("\\\\Seen \\$NotJunk")
		STORE_4("+", "\\\\Flagged") IMAP_LOGOUT,
	    "Junk", &it, 1, 0, 5000 * SCALE, 30000 * SCALE, &er, &transcript);
	test_assert(!er.o.failed);
	test_assert(er.server == 0);
	test_assert(er.res->n_items == 1);
	test_assert(er.res->items[0].placement == JOB_PLACEMENT_SPAM);
	test_assert(strcmp(er.res->items[0].folder, "Junk") == 0);
	test_assert(er.res->items[0].rescued);
	test_assert(er.res->items[0].uid == 4);
	test_assert(er.res->items[0].seen && er.res->items[0].flagged);
	test_assert(transcript != NULL && strstr(transcript, "MOVE") == NULL);
	free(transcript);
	engage_run_free(&er);
	test_end();

	test_begin("a look: in INBOX without $NotJunk is inbox");
	run_engage_items(
	    IMAP_LOGIN SELECT("INBOX") SEARCH_T1_FLAGS("\\\\Seen \\$Forwarded")
		STORE_4("+", "\\\\Flagged") IMAP_LOGOUT,
	    "Junk", &it, 1, 0, 5000 * SCALE, 30000 * SCALE, &er, NULL);
	test_assert(!er.o.failed);
	test_assert(er.server == 0);
	test_assert(er.res->items[0].placement == JOB_PLACEMENT_INBOX);
	test_assert(strcmp(er.res->items[0].folder, "INBOX") == 0);
	test_assert(!er.res->items[0].rescued);
	test_assert(er.res->items[0].uid == 4);
	engage_run_free(&er);
	test_end();

	test_begin("a look: $NotJunk in INBOX, no spam folder known: inbox");
	run_engage_items(IMAP_LOGIN LIST_INBOX_ALONE SELECT("INBOX")
			     SEARCH_T1_FLAGS("\\$NotJunk")
				 STORE_4("+", "\\\\Flagged") IMAP_LOGOUT,
			 NULL, &it, 1, 0, 5000 * SCALE, 30000 * SCALE, &er,
			 NULL);
	test_assert(!er.o.failed);
	test_assert(er.server == 0);
	test_assert(er.res->items[0].placement == JOB_PLACEMENT_INBOX);
	test_assert(!er.res->items[0].rescued);
	engage_run_free(&er);
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

/* A message as a fake server's sendraw argument (escapes for CR, LF, \,
 * * and $). */
static char *raw_arg(const char *msg)
{
	size_t len = strlen(msg), o = 0;
	char *out = xmalloc(len * 4 + 1);

	for (size_t i = 0; i < len; i++) {
		switch (msg[i]) {
		case '\r':
			o += (size_t)sprintf(out + o, "\\r");
			break;
		case '\n':
			o += (size_t)sprintf(out + o, "\\n");
			break;
		case '\\':
		case '*':
		case '$':
			out[o++] = '\\';
			out[o++] = msg[i];
			break;
		default:
			out[o++] = msg[i];
		}
	}
	out[o] = '\0';
	return out;
}

#define DSN_CRLF(s) s "\r\n"
static const char dsn_msg[] =
    DSN_CRLF("From: MAILER-DAEMON@lab.test (Mail Delivery System)")
    DSN_CRLF("To: a@x.test")
    DSN_CRLF("Subject: Undelivered Mail Returned to Sender")
    DSN_CRLF("Auto-Submitted: auto-replied")
    DSN_CRLF("MIME-Version: 1.0")
    DSN_CRLF("Content-Type: multipart/report; report-type=delivery-status;")
    DSN_CRLF("\tboundary=\"B1\"")
    DSN_CRLF("")
    DSN_CRLF("--B1")
    DSN_CRLF("Content-Type: text/plain")
    DSN_CRLF("")
    DSN_CRLF("Your message could not be delivered.")
    DSN_CRLF("--B1")
    DSN_CRLF("Content-Type: message/delivery-status")
    DSN_CRLF("")
    DSN_CRLF("Reporting-MTA: dns; lab.test")
    DSN_CRLF("")
    DSN_CRLF("Final-Recipient: rfc822; gone@y.test")
    DSN_CRLF("Action: failed")
    DSN_CRLF("Status: 5.1.1")
    DSN_CRLF("Diagnostic-Code: smtp; 550 5.1.1 <gone@y.test>: User unknown")
    DSN_CRLF("")
    DSN_CRLF("--B1")
    DSN_CRLF("Content-Type: text/rfc822-headers")
    DSN_CRLF("")
    DSN_CRLF("Message-ID: <m1@x.test>")
    DSN_CRLF("X-Ref: tok-1")
    DSN_CRLF("Subject: hi")
    DSN_CRLF("")
    DSN_CRLF("--B1--");
static const char plain_msg[] = DSN_CRLF("From: bob@y.test")
    DSN_CRLF("Subject: lunch?") DSN_CRLF("") DSN_CRLF("Are you free?");

static void test_notices(void)
{
	char *dsn = raw_arg(dsn_msg), *plain = raw_arg(plain_msg);
	char *script = xasprintf(
	    IMAP_LOGIN "expect_tag SELECT INBOX\n"
		       "send * 2 EXISTS\n"
		       "send * OK [UIDVALIDITY 3] ok\n"
		       "send $TAG OK [READ-WRITE] done\n"
		       "expect_tag UID SEARCH SINCE * UNSEEN NOT HEADER X-Ref "
		       "\"\"\n"
		       "send * SEARCH 5 9\n"
		       "send $TAG OK done\n"
		       "expect_tag UID FETCH 9 (UID BODY.PEEK[]<0.262144>)\n"
		       "send * 2 FETCH (UID 9 BODY[]<0> {%zu}\n"
		       "sendraw %s)\\r\\n\n"
		       "send $TAG OK done\n"
		       "expect_tag UID STORE 9 +FLAGS.SILENT (\\\\Seen)\n"
		       "send $TAG OK done\n"
		       "expect_tag UID FETCH 5 (UID BODY.PEEK[]<0.262144>)\n"
		       "send * 1 FETCH (UID 5 BODY[]<0> {%zu}\n"
		       "sendraw %s)\\r\\n\n"
		       "send $TAG OK done\n"
		       "expect_tag SELECT Junk\n"
		       "send * 0 EXISTS\n"
		       "send $TAG OK [READ-WRITE] done\n"
		       "expect_tag UID SEARCH SINCE * UNSEEN NOT HEADER X-Ref "
		       "\"\"\n"
		       "send * SEARCH\n"
		       "send $TAG OK done\n"
		       "expect_tag LOGOUT\n"
		       "send * BYE\n"
		       "send $TAG OK bye\n",
	    strlen(dsn_msg), dsn, strlen(plain_msg), plain);
	struct fake_server *fs = fake(script);
	struct job_engage job = {.spam_folder = "Junk",
				 .op_timeout_msecs = 5000,
				 .notice_token_header = "X-Ref",
				 .notice_days = 3};
	struct job_engage_result *res = xcalloc(1, sizeof(*res));
	struct hearth_err err = {0};
	struct jobrun_outcome o;

	test_begin("ENGAGE reports the bounces in the mailbox, marks its own");
	test_assert(fs != NULL);
	job.imap = fake_account(fake_server_port(fs));
	jobrun(pool, 5, job_engage_encode(&job, &err), net_now_msecs() + 20000,
	       &o, NULL);
	test_assert(!o.failed);
	test_assert(job_engage_result_decode(o.result, res, &err) == 0);
	test_assert(res->n_items == 0 && res->notice_error[0] == '\0');
	test_assert(res->n_notices == 1);
	test_assert(res->notices[0].info.kind == BOUNCE_DSN);
	test_assert(res->notices[0].info.undelivered &&
		    res->notices[0].info.permanent);
	test_assert(strcmp(res->notices[0].info.status, "5.1.1") == 0);
	test_assert(strcmp(res->notices[0].info.token, "tok-1") == 0);
	test_assert(strcmp(res->notices[0].info.recipient, "gone@y.test") ==
		    0);
	test_assert(strstr(res->notices[0].info.message_id, "m1@x.test") !=
		    NULL);
	test_assert(res->notices[0].uid == 9 &&
		    strcmp(res->notices[0].folder, "INBOX") == 0);
	wire_msg_free(&o.result);
	test_assert(fake_server_finish(&fs, 2000, NULL) == 0);
	test_end();
	free(res);
	free(script);
	free(dsn);
	free(plain);
}

/* A CHECK job in a worker, against a DNS server that is not there: every
 * finding unknown, the report whole. */
static void test_check_job(void)
{
	const char *hosts[] = {"127.0.0.1"};
	const char *lists[] = {"dbl.example"};
	struct job_check job = {
	    .check = {.domain = "x.test",
		      .provider = "generic",
		      .sending_hosts = hosts,
		      .n_sending_hosts = 1,
		      .domain_lists = lists,
		      .n_domain_lists = 1},
	    .dns_servers = "127.0.0.1:1",
	    .timeout_msecs = 300,
	};
	struct job_check_result res = {0};
	struct hearth_err err = {0};
	struct jobrun_outcome o;
	const char *many[JOB_CHECK_MAX_LISTS + 1];

	test_begin("CHECK: a silent resolver gives unknowns, never a failure");
	jobrun(pool, 6, job_check_encode(&job, &err), net_now_msecs() + 20000,
	       &o, NULL);
	test_assert(!o.failed);
	test_assert(job_check_result_decode(o.result, &res, &err) == 0);
	test_assert(strcmp(res.worst, "unknown") == 0);
	test_assert(res.failure[0] == '\0');
	test_assert(res.report != NULL &&
		    strstr(res.report, "\"domain\":\"x.test\"") != NULL);
	job_check_result_clear(&res);
	wire_msg_free(&o.result);
	/* lists past the bound are refused when encoding */
	for (size_t i = 0; i <= JOB_CHECK_MAX_LISTS; i++)
		many[i] = "dbl.example";
	job.check.domain_lists = many;
	job.check.n_domain_lists = JOB_CHECK_MAX_LISTS + 1;
	test_assert(job_check_encode(&job, &err) == NULL);
	test_end();
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
	test_send_uncertain();
	test_locate_wait();
	test_rescue_keyword();
	test_notices();
	test_check_job();
	ret = test_exit();
	worker_pool_free(&pool);
	return ret;
}
