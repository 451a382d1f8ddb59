// SPDX-License-Identifier: MIT
/*
 * Real jobs in real worker processes against the lab: PROBE on several
 * folder layouts and with a wrong password, SEND with a copy appended to
 * Sent, ENGAGE rescuing a message from spam, marking it and filing it,
 * with a missing one reported missing, ENGAGE with a locate wait
 * finding a message sent while it was already looking, and a rescue that
 * leaves $NotJunk on the message, so that a later ENGAGE (after an engine
 * that died before recording the rescue) still reports it as spam, rescued.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hearth/imap.h"
#include "hearth/job.h"
#include "hearth/log.h"
#include "hearth/message.h"
#include "hearth/net.h"
#include "hearth/smtp.h"
#include "hearth/worker.h"
#include "hearth/xalloc.h"
#include "jobrun.h"
#include "labenv.h"
#include "test.h"

#define TOKEN_HEADER "X-Ref"

static struct worker_pool *pool;

/* Run one job to its end in the pool. */
static void run_job(struct wire_msg *job, struct jobrun_outcome *o)
{
	static uint64_t id;

	jobrun(pool, ++id, job, net_now_msecs() + 60000, o, NULL);
}

static struct job_account account(const char *port_key,
				  enum endpoint_security sec, const char *user,
				  const char *password)
{
	struct job_account a = {
	    .ep = labenv_endpoint(port_key, sec),
	    .cred = {.username = user, .secret = password},
	};
	return a;
}

static void test_probe(void)
{
	static const struct {
		const char *user;
		const char *password;
		const char *spam;
		enum imap_discovery how;
	} cases[] = {
	    {"user3@std.test", LABENV_PASSWORD, "Junk",
	     IMAP_DISCOVERY_SPECIAL_USE},
	    {"user3@gm.test", LABENV_PASSWORD, "[Gmail]/Spam",
	     IMAP_DISCOVERY_SPECIAL_USE},
	    {"user3@old.test", LABENV_PASSWORD, "Spam", IMAP_DISCOVERY_NAME},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct job_probe job = {
		    .smtp = account("LAB_SUBMISSION_PORT", ENDPOINT_STARTTLS,
				    cases[i].user, cases[i].password),
		    .imap = account("LAB_IMAPS_PORT", ENDPOINT_TLS,
				    cases[i].user, cases[i].password),
		    .ehlo_name = "client.lab.test",
		    .op_timeout_msecs = 10000,
		};
		struct job_probe_result res;
		struct hearth_err err;
		struct jobrun_outcome o;
		char name[96];

		snprintf(name, sizeof(name), "PROBE %s in a worker",
			 cases[i].user);
		test_begin(name);
		run_job(job_probe_encode(&job, &err), &o);
		test_assert(!o.failed);
		test_assert(job_probe_result_decode(o.result, &res, &err) == 0);
		test_assert(res.smtp_fail == HEARTH_FAIL_NONE);
		test_assert(res.imap_fail == HEARTH_FAIL_NONE);
		test_assert(res.smtp_tls_verified && res.imap_tls_verified);
		test_assert(strcmp(res.smtp_auth_mech, "PLAIN") == 0);
		test_assert(strcmp(res.imap_auth_mech, "LOGIN") == 0);
		test_assert(res.cap_move && res.cap_uidplus &&
			    res.cap_special_use && res.cap_idle &&
			    !res.cap_gmail);
		test_assert(strcmp(res.spam_folder, cases[i].spam) == 0);
		test_assert(res.spam_found_by == cases[i].how);
		wire_msg_free(&o.result);
		test_end();
	}

	test_begin("PROBE with a wrong password: both sides say auth");
	{
		struct job_probe job = {
		    .smtp = account("LAB_SUBMISSION_PORT", ENDPOINT_STARTTLS,
				    "user3@std.test", "not-the-password"),
		    .imap = account("LAB_IMAP_PORT", ENDPOINT_STARTTLS,
				    "user3@std.test", "not-the-password"),
		    .ehlo_name = "client.lab.test",
		    .op_timeout_msecs = 10000,
		};
		struct job_probe_result res;
		struct hearth_err err;
		struct jobrun_outcome o;

		run_job(job_probe_encode(&job, &err), &o);
		test_assert(!o.failed);
		test_assert(job_probe_result_decode(o.result, &res, &err) == 0);
		test_assert(res.smtp_fail == HEARTH_FAIL_AUTH);
		test_assert(res.imap_fail == HEARTH_FAIL_AUTH);
		test_assert(strstr(res.smtp_error, "not-the-password") == NULL);
		test_assert(strstr(res.imap_error, "not-the-password") == NULL);
		wire_msg_free(&o.result);
	}
	test_end();
}

static void test_send_engage(void)
{
	char token[64], *data = NULL, *id = NULL;
	size_t len = 0;
	struct hearth_err err = {0};
	struct message_spec spec = {
	    .from_name = "Cold Sender",
	    .from_addr = "user3@cold.test",
	    .to_name = "Warm Recipient",
	    .to_addr = "user3@ms.test",
	    .subject = "Quarterly numbers",
	    .text_body = "Here are the numbers we talked about.\n",
	    .token_header = TOKEN_HEADER,
	    .token_value = token,
	    .date = time(NULL),
	};
	struct job_send send = {
	    .smtp = account("LAB_SMTPS_PORT", ENDPOINT_TLS, "user3@cold.test",
			    LABENV_PASSWORD),
	    .imap = account("LAB_IMAPS_PORT", ENDPOINT_TLS, "user3@cold.test",
			    LABENV_PASSWORD),
	    .append_sent_folder = "Sent",
	    .ehlo_name = "client.lab.test",
	    .mail_from = "user3@cold.test",
	    .rcpt_to = "user3@ms.test",
	    .op_timeout_msecs = 10000,
	};
	struct job_send_result sres;
	struct job_engage_result *eres = xcalloc(1, sizeof(*eres));
	struct jobrun_outcome o;

	snprintf(token, sizeof(token), "jt%ld%d", (long)time(NULL), rand());
	test_begin("SEND in a worker, copy appended to Sent");
	test_assert(message_build(&spec, &data, &len, &id, &err) == 0);
	send.data = data;
	send.data_len = len;
	run_job(job_send_encode(&send, &err), &o);
	test_assert(!o.failed);
	test_assert(job_send_result_decode(o.result, &sres, &err) == 0);
	test_assert(sres.reply_code == 250);
	test_assert(sres.tls_verified);
	test_assert(sres.appended == 1 && sres.appended_uid > 0);
	wire_msg_free(&o.result);
	test_assert(labenv_maillab("wait %s user3@ms.test 'Junk Email' '%s' 15",
				   labenv_dir, id) == 0);
	test_assert(labenv_maillab("wait %s user3@cold.test Sent '%s' 15",
				   labenv_dir, id) == 0);
	test_end();

	test_begin(
	    "ENGAGE in a worker: rescue, mark, file; missing is missing");
	{
		struct job_engage_item items[2] = {
		    {.exchange_id = 41,
		     .query = {.token_header = TOKEN_HEADER,
			       .token = token,
			       .message_id = id},
		     .rescue = true,
		     .mark_seen = true,
		     .mark_flagged = true,
		     .mark_important = true,
		     .file_to = "Archive"},
		    {.exchange_id = 42,
		     .query = {.token_header = TOKEN_HEADER,
			       .token = "no-such-token",
			       .message_id = "<nobody@cold.test>"},
		     .rescue = true,
		     .mark_seen = true},
		};
		struct job_engage job = {
		    .imap = account("LAB_IMAP_PORT", ENDPOINT_STARTTLS,
				    "user3@ms.test", LABENV_PASSWORD),
		    .items = items,
		    .n_items = 2,
		    .op_timeout_msecs = 10000,
		};

		run_job(job_engage_encode(&job, &err), &o);
		test_assert(!o.failed);
		test_assert(job_engage_result_decode(o.result, eres, &err) ==
			    0);
		test_assert(strcmp(eres->spam_folder, "Junk Email") == 0);
		test_assert(eres->spam_found_by == IMAP_DISCOVERY_SPECIAL_USE);
		test_assert(eres->n_items == 2);
		test_assert(eres->session_fail == HEARTH_FAIL_NONE);
		test_assert(eres->items[0].exchange_id == 41);
		test_assert(eres->items[0].placement == JOB_PLACEMENT_SPAM);
		test_assert(strcmp(eres->items[0].folder, "Junk Email") == 0);
		test_assert(eres->items[0].method == IMAP_LOCATE_TOKEN);
		test_assert(eres->items[0].rescued);
		test_assert(eres->items[0].seen && eres->items[0].flagged);
		test_assert(!eres->items[0].important); /* not Gmail */
		test_assert(eres->items[0].filed);
		test_assert(eres->items[0].fail == HEARTH_FAIL_NONE);
		test_assert(eres->items[1].exchange_id == 42);
		test_assert(eres->items[1].placement == JOB_PLACEMENT_MISSING);
		test_assert(!eres->items[1].rescued);
		wire_msg_free(&o.result);
		test_assert(labenv_maillab("list %s user3@ms.test Archive | "
					   "grep -F '%s' | grep -q "
					   "'Seen.*Flagged\\|Flagged.*Seen'",
					   labenv_dir, id) == 0);
		test_assert(labenv_maillab("list %s user3@ms.test 'Junk Email' "
					   "| grep -qF '%s'",
					   labenv_dir, id) != 0);
	}
	test_end();
	free(eres);
	free(data);
	free(id);
}

static void test_locate_wait(void)
{
	char token[64], *data = NULL, *id = NULL;
	size_t len = 0;
	struct hearth_err err = {0};
	struct message_spec spec = {
	    .from_name = "Warm Sender",
	    .from_addr = "user3@std.test",
	    .to_name = "Warm Recipient",
	    .to_addr = "user3@ya.test",
	    .subject = "Lunch on Thursday",
	    .text_body = "Does Thursday still work for you?\n",
	    .token_header = TOKEN_HEADER,
	    .token_value = token,
	    .date = time(NULL),
	};
	struct job_engage_item item = {
	    .exchange_id = 51,
	    .query = {.token_header = TOKEN_HEADER, .token = token},
	};
	struct job_engage job = {
	    .imap = account("LAB_IMAPS_PORT", ENDPOINT_TLS, "user3@ya.test",
			    LABENV_PASSWORD),
	    .items = &item,
	    .n_items = 1,
	    .op_timeout_msecs = 10000,
	    .locate_wait_msecs = 5000,
	};
	struct endpoint ep =
	    labenv_endpoint("LAB_SUBMISSION_PORT", ENDPOINT_STARTTLS);
	struct credentials cred = {.username = "user3@std.test",
				   .secret = LABENV_PASSWORD};
	struct smtp_request req = {
	    .ep = &ep,
	    .cred = &cred,
	    .ehlo_name = "client.lab.test",
	    .mail_from = "user3@std.test",
	    .rcpt_to = "user3@ya.test",
	    .op_timeout_msecs = 10000,
	};
	struct smtp_result sres;
	struct job_engage_result *eres = xcalloc(1, sizeof(*eres));
	struct wire_msg *m;
	struct jobrun_outcome o = {0};

	snprintf(token, sizeof(token), "lw%ld%d", (long)time(NULL), rand());
	test_begin("ENGAGE with a locate wait finds mail sent meanwhile");
	test_assert(message_build(&spec, &data, &len, &id, &err) == 0);
	/* The job starts looking before the message exists: it is sent
	 * while the job waits, and must be found all the same. */
	m = job_engage_encode(&job, &err);
	test_assert(m != NULL);
	if (m != NULL &&
	    worker_pool_submit(pool, 900, &m, net_now_msecs() + 60000, &err) <
		0) {
		wire_msg_free(&m);
		o.done = o.failed = true;
	}
	usleep(500 * 1000);
	req.data = data;
	req.data_len = len;
	req.deadline_msecs = net_now_msecs() + 30000;
	test_assert(smtp_send(&req, &sres, &err) == 0);
	while (!o.done)
		worker_pool_poll(pool, 500, jobrun_on_result, &o);
	test_assert(!o.failed);
	test_assert(job_engage_result_decode(o.result, eres, &err) == 0);
	test_assert(eres->n_items == 1);
	test_assert(eres->session_fail == HEARTH_FAIL_NONE);
	test_assert(eres->items[0].exchange_id == 51);
	test_assert(eres->items[0].placement == JOB_PLACEMENT_INBOX);
	test_assert(strcmp(eres->items[0].folder, "INBOX") == 0);
	test_assert(eres->items[0].method == IMAP_LOCATE_TOKEN);
	test_assert(eres->items[0].uid > 0);
	wire_msg_free(&o.result);
	test_end();
	free(eres);
	free(data);
	free(id);
}

/* Send data from user3@cold.test over the lab's submission port. */
static int send_cold(const char *data, size_t len, const char *rcpt)
{
	struct endpoint ep =
	    labenv_endpoint("LAB_SUBMISSION_PORT", ENDPOINT_STARTTLS);
	struct credentials cred = {.username = "user3@cold.test",
				   .secret = LABENV_PASSWORD};
	struct smtp_request req = {
	    .ep = &ep,
	    .cred = &cred,
	    .ehlo_name = "client.lab.test",
	    .mail_from = "user3@cold.test",
	    .rcpt_to = rcpt,
	    .data = data,
	    .data_len = len,
	    .op_timeout_msecs = 10000,
	    .deadline_msecs = net_now_msecs() + 30000,
	};
	struct smtp_result sres;
	struct hearth_err err = {0};

	if (smtp_send(&req, &sres, &err) < 0) {
		fprintf(stderr, "smtp_send: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static void test_rescue_not_junk(void)
{
	char token[64], *data = NULL, *id = NULL;
	size_t len = 0;
	struct hearth_err err = {0};
	struct message_spec spec = {
	    .from_name = "Cold Sender",
	    .from_addr = "user3@cold.test",
	    .to_name = "Warm Recipient",
	    .to_addr = "user3@std.test",
	    .subject = "Invoice for March",
	    .text_body = "The invoice is attached, as promised.\n",
	    .token_header = TOKEN_HEADER,
	    .token_value = token,
	    .date = time(NULL),
	};
	struct job_engage_item item = {
	    .exchange_id = 61,
	    .query = {.token_header = TOKEN_HEADER, .token = token},
	    .rescue = true,
	    .mark_seen = true,
	};
	struct job_engage job = {
	    .imap = account("LAB_IMAPS_PORT", ENDPOINT_TLS, "user3@std.test",
			    LABENV_PASSWORD),
	    .items = &item,
	    .n_items = 1,
	    .op_timeout_msecs = 10000,
	};
	struct imap_limits limits = {
	    .op_timeout_msecs = 10000,
	    .deadline_msecs = net_now_msecs() + 60000,
	};
	struct job_engage_result *eres = xcalloc(1, sizeof(*eres));
	struct imap_session *s = NULL;
	struct imap_found found = {0};
	struct jobrun_outcome o;
	uint32_t uid = 0;

	snprintf(token, sizeof(token), "nj%ld%d", (long)time(NULL), rand());
	test_begin("Dovecot keeps keywords in the spam folder (\\*)");
	test_assert(
	    imap_open(&job.imap.ep, &job.imap.cred, &limits, &s, &err) == 0);
	test_assert(
	    s != NULL &&
	    imap_keyword_allowed(s, "Junk", IMAP_KEYWORD_NOT_JUNK, &err) == 1);
	imap_close(&s);
	test_end();

	test_begin("ENGAGE rescue: in INBOX with $NotJunk afterwards");
	test_assert(message_build(&spec, &data, &len, &id, &err) == 0);
	test_assert(send_cold(data, len, "user3@std.test") == 0);
	test_assert(labenv_maillab("wait %s user3@std.test Junk '%s' 15",
				   labenv_dir, id) == 0);
	run_job(job_engage_encode(&job, &err), &o);
	test_assert(!o.failed);
	test_assert(job_engage_result_decode(o.result, eres, &err) == 0);
	test_assert(eres->n_items == 1);
	test_assert(eres->session_fail == HEARTH_FAIL_NONE);
	test_assert(eres->items[0].placement == JOB_PLACEMENT_SPAM);
	test_assert(strcmp(eres->items[0].folder, "Junk") == 0);
	test_assert(eres->items[0].rescued && eres->items[0].seen);
	test_assert(eres->items[0].uid > 0);
	test_assert(eres->items[0].fail == HEARTH_FAIL_NONE);
	uid = eres->items[0].uid;
	wire_msg_free(&o.result);
	/* What Dovecot stored, read by doveadm: in INBOX with the keyword,
	 * no longer in Junk. */
	test_assert(labenv_maillab("list %s user3@std.test INBOX | grep -F "
				   "'%s' | grep -q '\\$NotJunk'",
				   labenv_dir, id) == 0);
	test_assert(labenv_maillab("list %s user3@std.test Junk | grep -qF "
				   "'%s'",
				   labenv_dir, id) != 0);
	/* And what a FETCH of its FLAGS says. */
	limits.deadline_msecs = net_now_msecs() + 60000;
	test_assert(
	    imap_open(&job.imap.ep, &job.imap.cred, &limits, &s, &err) == 0);
	test_assert(s != NULL &&
		    imap_locate(s, "INBOX", &item.query, &found, &err) == 1);
	test_assert(found.uid == uid && found.not_junk && !found.junk);
	test_assert(found.seen);
	imap_close(&s);
	test_end();

	test_begin("ENGAGE again (the first never recorded): spam, rescued");
	run_job(job_engage_encode(&job, &err), &o);
	test_assert(!o.failed);
	test_assert(job_engage_result_decode(o.result, eres, &err) == 0);
	test_assert(eres->n_items == 1);
	test_assert(eres->session_fail == HEARTH_FAIL_NONE);
	test_assert(eres->items[0].placement == JOB_PLACEMENT_SPAM);
	test_assert(strcmp(eres->items[0].folder, "Junk") == 0);
	test_assert(eres->items[0].rescued);
	test_assert(eres->items[0].uid == uid);
	test_assert(eres->items[0].fail == HEARTH_FAIL_NONE);
	wire_msg_free(&o.result);
	/* Not moved again: still the one copy, in INBOX. */
	test_assert(labenv_maillab("list %s user3@std.test | grep -cF '%s' | "
				   "grep -qx 1",
				   labenv_dir, id) == 0);
	test_end();
	free(eres);
	free(data);
	free(id);
}

int main(int argc, char **argv)
{
	struct hearth_err err = {0};
	int ret;

	if (argc < 2 || labenv_load(argv[1]) < 0) {
		printf("SKIP: no lab (the lab fixture did not start one)\n");
		return TEST_SKIP;
	}
	srand((unsigned)time(NULL));
	pool = worker_pool_new(2, job_handler, NULL, &err);
	if (pool == NULL) {
		fprintf(stderr, "worker_pool_new: %s\n", err.msg);
		return 1;
	}
	test_probe();
	test_send_engage();
	test_locate_wait();
	test_rescue_not_junk();
	ret = test_exit();
	worker_pool_free(&pool);
	return ret;
}
