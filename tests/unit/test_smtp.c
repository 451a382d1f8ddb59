// SPDX-License-Identifier: MIT
/*
 * smtp_send() against scripted fake servers on 127.0.0.1: every way a
 * server can fail ends within the deadline with the right failure class,
 * and no credential reaches a server whose certificate did not verify.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_server.h"
#include "hearth/log.h"
#include "hearth/net.h"
#include "hearth/smtp.h"
#include "hearth/xalloc.h"
#include "test.h"

#define CERTS	       HEARTH_TEST_CERTS_DIR
#define OP_MSECS       (1000 * test_time_scale())
#define DEADLINE_MSECS (2500 * test_time_scale())

static const char msg[] = "From: <a@x.test>\r\nTo: <b@y.test>\r\n"
			  "Subject: hi\r\n\r\n.starts with a dot\r\nbye\r\n";

/* The usual opening of a plaintext ESMTP server offering AUTH. */
#define EHLO_PLAIN                                                             \
	"send 220 fake.test ESMTP\n"                                           \
	"expect EHLO client.test\n"                                            \
	"send 250-fake.test\n"                                                 \
	"send 250-AUTH PLAIN LOGIN XOAUTH2\n"                                  \
	"send 250 SIZE 1000000\n"

struct run {
	int ret;
	struct smtp_result res;
	struct hearth_err err;
	int64_t msecs;
	int server; /* fake_server_finish(): 0 script completed */
	char *transcript;
};

/*
 * Run smtp_send of data against a fake server playing script. sec and the
 * TLS certificate name (NULL: plaintext) pick the endpoint; oauth2 sends a
 * token instead of a password.
 */
static void run_data(const char *script, enum endpoint_security sec,
		     const char *cert, bool oauth2, const char *data,
		     size_t data_len, struct run *r)
{
	char crt[256], key[256];
	struct fake_tls tls = {
	    .cert_file = crt, .key_file = key, .implicit = sec == ENDPOINT_TLS};
	struct fake_server *fs;
	struct endpoint ep = {
	    .host = "127.0.0.1", .security = sec, .ca_file = CERTS "/ca.crt"};
	struct credentials cred = {
	    .username = "a@x.test", .secret = "s3cret-pw", .oauth2 = oauth2};
	struct smtp_request req = {
	    .ep = &ep,
	    .cred = &cred,
	    .ehlo_name = "client.test",
	    .mail_from = "a@x.test",
	    .rcpt_to = "b@y.test",
	    .data = data,
	    .data_len = data_len,
	    .op_timeout_msecs = OP_MSECS,
	};
	int64_t start;

	snprintf(crt, sizeof(crt), "%s/%s.crt", CERTS, cert ? cert : "good");
	snprintf(key, sizeof(key), "%s/%s.key", CERTS, cert ? cert : "good");
	memset(r, 0, sizeof(*r));
	fs = fake_server_start(script, cert != NULL ? &tls : NULL);
	if (fs == NULL) {
		r->ret = -2;
		return;
	}
	ep.port = fake_server_port(fs);
	start = net_now_msecs();
	req.deadline_msecs = start + DEADLINE_MSECS;
	r->ret = smtp_send(&req, &r->res, &r->err);
	r->msecs = net_now_msecs() - start;
	r->server = fake_server_finish(&fs, 5000, &r->transcript);
}

/* run_data() of the usual short message. */
static void run(const char *script, enum endpoint_security sec,
		const char *cert, bool oauth2, struct run *r)
{
	run_data(script, sec, cert, oauth2, msg, sizeof(msg) - 1, r);
}

/*
 * A message far larger than what the sockets between client and server can
 * hold: a server that stops taking it in stops the client before the dot.
 * Owned by the caller.
 */
static char *big_message(size_t *len_r)
{
	const size_t line = 1000, n = 16 * 1024;
	char *data = xmalloc(line * n + 1);

	memset(data, 'x', line * n);
	for (size_t i = 0; i < n; i++) {
		data[i * line + line - 2] = '\r';
		data[i * line + line - 1] = '\n';
	}
	data[line * n] = '\0';
	*len_r = line * n;
	return data;
}

/* The run failed with this class, in time, without crashing anything. */
static void expect_fail(struct run *r, enum hearth_fail fail, int code,
			const char *stage)
{
	if (r->ret != -1 || r->err.fail != fail)
		fprintf(stderr, "  got ret=%d fail=%s code=%d stage=%s: %s\n",
			r->ret, hearth_fail_name(r->err.fail), r->err.code,
			r->res.stage, r->err.msg);
	test_assert(r->ret == -1);
	test_assert(r->err.fail == fail);
	if (code != 0)
		test_assert(r->err.code == code);
	if (stage != NULL)
		test_assert(strcmp(r->res.stage, stage) == 0);
	/* Within the deadline, plus scheduling slack. */
	test_assert(r->msecs < DEADLINE_MSECS + test_slack_msecs());
	test_assert(strstr(r->err.msg, "s3cret") == NULL);
}

static void test_timeouts(void)
{
	struct run r;

	test_begin("no greeting: retry at the operation timeout");
	run("hang\n", ENDPOINT_STARTTLS, NULL, false, &r);
	expect_fail(&r, HEARTH_FAIL_RETRY, 0, "greeting");
	test_assert(r.msecs >= OP_MSECS - 50 &&
		    r.msecs < OP_MSECS + test_slack_msecs());
	free(r.transcript);
	test_end();

	test_begin("greeting, then silence after EHLO: retry");
	run("send 220 fake.test ESMTP\nexpect EHLO\nhang\n", ENDPOINT_STARTTLS,
	    NULL, false, &r);
	expect_fail(&r, HEARTH_FAIL_RETRY, 0, "ehlo");
	free(r.transcript);
	test_end();

	test_begin("a byte every 300 ms cannot pass the deadline");
	run("trickle 300 220 fake.test ESMTP ready and willing, one "
	    "byte at a time, for as long as it takes\nhang\n",
	    ENDPOINT_STARTTLS, NULL, false, &r);
	expect_fail(&r, HEARTH_FAIL_RETRY, 0, "greeting");
	test_assert(r.msecs >= DEADLINE_MSECS - 50);
	test_assert(strstr(r.err.msg, "deadline") != NULL);
	free(r.transcript);
	test_end();

	test_begin("implicit TLS: a server that never handshakes");
	{
		char script[64];

		/* Asleep before the handshake for longer than the client
		 * waits for it. */
		snprintf(script, sizeof(script), "sleep %d\n", 4 * OP_MSECS);
		run(script, ENDPOINT_TLS, "good", false, &r);
	}
	expect_fail(&r, HEARTH_FAIL_RETRY, 0, "connect");
	free(r.transcript);
	test_end();
}

static void test_replies(void)
{
	struct run r;

	test_begin("421 greeting: retry");
	run("send 421 fake.test too busy\n", ENDPOINT_STARTTLS, NULL, false,
	    &r);
	expect_fail(&r, HEARTH_FAIL_RETRY, 421, "greeting");
	test_assert(strcmp(r.res.reply_text, "fake.test too busy") == 0);
	free(r.transcript);
	test_end();

	test_begin("451 at MAIL: retry, reply kept");
	run(EHLO_PLAIN "expect AUTH PLAIN \nsend 235 ok\n"
		       "expect MAIL FROM:<a@x.test>\n"
		       "send 451 4.3.0 try again later\nexpect QUIT\n",
	    ENDPOINT_INSECURE_PLAINTEXT, NULL, false, &r);
	expect_fail(&r, HEARTH_FAIL_RETRY, 451, "mail");
	test_assert(r.res.reply_code == 451);
	test_assert(strstr(r.res.reply_text, "try again later") != NULL);
	free(r.transcript);
	test_end();

	test_begin("550 at RCPT: permanent");
	run(EHLO_PLAIN "expect AUTH PLAIN \nsend 235 ok\n"
		       "expect MAIL FROM:<a@x.test>\nsend 250 ok\n"
		       "expect RCPT TO:<b@y.test>\n"
		       "send 550 5.1.1 no such user\n",
	    ENDPOINT_INSECURE_PLAINTEXT, NULL, false, &r);
	expect_fail(&r, HEARTH_FAIL_PERMANENT, 550, "rcpt");
	free(r.transcript);
	test_end();

	test_begin("535 at AUTH: auth failure");
	run(EHLO_PLAIN "expect AUTH PLAIN \n"
		       "send 535 5.7.8 authentication failed\n",
	    ENDPOINT_INSECURE_PLAINTEXT, NULL, false, &r);
	expect_fail(&r, HEARTH_FAIL_AUTH, 535, "auth");
	free(r.transcript);
	test_end();

	test_begin("534 and 530 at AUTH: auth failure");
	run(EHLO_PLAIN "expect AUTH PLAIN \n"
		       "send 534-5.7.9 please log in\nsend 534 5.7.9 web\n",
	    ENDPOINT_INSECURE_PLAINTEXT, NULL, false, &r);
	expect_fail(&r, HEARTH_FAIL_AUTH, 534, "auth");
	test_assert(strcmp(r.res.reply_text, "5.7.9 please log in 5.7.9 web") ==
		    0);
	free(r.transcript);
	run(EHLO_PLAIN "expect AUTH PLAIN \nsend 530 5.7.0 need it\n",
	    ENDPOINT_INSECURE_PLAINTEXT, NULL, false, &r);
	expect_fail(&r, HEARTH_FAIL_AUTH, 530, "auth");
	free(r.transcript);
	test_end();

	test_begin("disconnect in the middle of DATA: retry");
	{
		/* A short message would go out whole, dot and all, in one
		 * write before the server reads its first line: then the
		 * client cannot tell this from a close after the dot. */
		size_t len;
		char *big = big_message(&len);

		run_data(EHLO_PLAIN "expect AUTH PLAIN \nsend 235 ok\n"
				    "expect MAIL\nsend 250 ok\n"
				    "expect RCPT\nsend 250 ok\n"
				    "expect DATA\nsend 354 go\nread\nclose\n",
			 ENDPOINT_INSECURE_PLAINTEXT, NULL, false, big, len,
			 &r);
		free(big);
	}
	expect_fail(&r, HEARTH_FAIL_RETRY, 0, "data");
	free(r.transcript);
	test_end();

	test_begin("close after the final dot: retry, stage dot");
	run(EHLO_PLAIN "expect AUTH PLAIN \nsend 235 ok\n"
		       "expect MAIL\nsend 250 ok\nexpect RCPT\nsend 250 ok\n"
		       "expect DATA\nsend 354 go\nread_data\nclose\n",
	    ENDPOINT_INSECURE_PLAINTEXT, NULL, false, &r);
	expect_fail(&r, HEARTH_FAIL_RETRY, 0, "dot");
	test_assert(r.server == 0);
	test_assert(r.res.reply_code == 354);
	free(r.transcript);
	test_end();

	test_begin("silence after the final dot: retry, stage dot");
	run(EHLO_PLAIN "expect AUTH PLAIN \nsend 235 ok\n"
		       "expect MAIL\nsend 250 ok\nexpect RCPT\nsend 250 ok\n"
		       "expect DATA\nsend 354 go\nread_data\nhang\n",
	    ENDPOINT_INSECURE_PLAINTEXT, NULL, false, &r);
	expect_fail(&r, HEARTH_FAIL_RETRY, 0, "dot");
	test_assert(r.msecs >= OP_MSECS - 50);
	test_assert(strstr(r.err.msg, "dot") != NULL);
	free(r.transcript);
	test_end();

	test_begin("a reply after the dot: stage data, not dot");
	run(EHLO_PLAIN "expect AUTH PLAIN \nsend 235 ok\n"
		       "expect MAIL\nsend 250 ok\nexpect RCPT\nsend 250 ok\n"
		       "expect DATA\nsend 354 go\nread_data\n"
		       "send 451 4.3.0 queue trouble\nexpect QUIT\n",
	    ENDPOINT_INSECURE_PLAINTEXT, NULL, false, &r);
	expect_fail(&r, HEARTH_FAIL_RETRY, 451, "data");
	test_assert(r.server == 0);
	free(r.transcript);
	test_end();

	test_begin("552 after DATA: permanent");
	run(EHLO_PLAIN "expect AUTH PLAIN \nsend 235 ok\n"
		       "expect MAIL\nsend 250 ok\nexpect RCPT\nsend 250 ok\n"
		       "expect DATA\nsend 354 go\nread_data\n"
		       "send 552 5.3.4 too big\n",
	    ENDPOINT_INSECURE_PLAINTEXT, NULL, false, &r);
	expect_fail(&r, HEARTH_FAIL_PERMANENT, 552, "data");
	free(r.transcript);
	test_end();
}

static void test_garbage(void)
{
	struct run r;

	test_begin("garbage instead of a greeting: retry");
	run("garbage 3000\nhang\n", ENDPOINT_STARTTLS, NULL, false, &r);
	expect_fail(&r, HEARTH_FAIL_RETRY, 0, "greeting");
	free(r.transcript);
	test_end();

	test_begin("an over-long line: retry, bounded");
	run("longline 200000\nhang\n", ENDPOINT_STARTTLS, NULL, false, &r);
	expect_fail(&r, HEARTH_FAIL_RETRY, 0, "greeting");
	test_assert(strstr(r.err.msg, "too long") != NULL);
	free(r.transcript);
	test_end();

	test_begin("a NUL in a reply: retry");
	run("sendraw 220 fake\\x00 ESMTP\\r\\n\nhang\n", ENDPOINT_STARTTLS,
	    NULL, false, &r);
	expect_fail(&r, HEARTH_FAIL_RETRY, 0, "greeting");
	free(r.transcript);
	test_end();

	test_begin("multi-line reply whose codes disagree: retry");
	run("send 220-fake\nsend 250 mixed\nhang\n", ENDPOINT_STARTTLS, NULL,
	    false, &r);
	expect_fail(&r, HEARTH_FAIL_RETRY, 0, "greeting");
	free(r.transcript);
	test_end();
}

static void test_tls(void)
{
	static const char *const bad[] = {"wrongname", "expired", "selfsigned"};
	struct run r;

	test_begin("STARTTLS not offered: permanent, no credential sent");
	run("send 220 fake.test ESMTP\nexpect EHLO\n"
	    "send 250-fake.test\nsend 250 AUTH PLAIN\nexpect QUIT\n",
	    ENDPOINT_STARTTLS, "good", false, &r);
	expect_fail(&r, HEARTH_FAIL_PERMANENT, 0, "starttls");
	test_assert(strstr(r.err.msg, "STARTTLS") != NULL);
	test_assert(r.transcript != NULL &&
		    strstr(r.transcript, "AUTH") == NULL);
	free(r.transcript);
	test_end();

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char name[96];

		snprintf(name, sizeof(name),
			 "STARTTLS with a %s certificate: tls, no AUTH",
			 bad[i]);
		test_begin(name);
		run("send 220 fake.test ESMTP\nexpect EHLO\n"
		    "send 250-fake.test\nsend 250 STARTTLS\n"
		    "expect STARTTLS\nsend 220 go ahead\nexpect_tls_refused\n",
		    ENDPOINT_STARTTLS, bad[i], false, &r);
		expect_fail(&r, HEARTH_FAIL_TLS, 0, "starttls");
		test_assert(r.server == 0);
		test_assert(r.transcript != NULL &&
			    strstr(r.transcript, "AUTH") == NULL);
		free(r.transcript);
		test_end();

		snprintf(name, sizeof(name),
			 "implicit TLS with a %s certificate: tls", bad[i]);
		test_begin(name);
		run("expect_tls_refused\n", ENDPOINT_TLS, bad[i], false, &r);
		expect_fail(&r, HEARTH_FAIL_TLS, 0, "connect");
		test_assert(r.server == 0);
		free(r.transcript);
		test_end();
	}

	test_begin("expired certificate: the reason is named");
	run("expect_tls_refused\n", ENDPOINT_TLS, "expired", false, &r);
	test_assert(strstr(r.err.msg, "expired") != NULL);
	free(r.transcript);
	test_end();

	test_begin("STARTTLS injection: data before the handshake refused");
	run("send 220 fake.test ESMTP\nexpect EHLO\n"
	    "send 250-fake.test\nsend 250 STARTTLS\n"
	    "expect STARTTLS\nsendraw 220 go\\r\\n250 injected\\r\\n\n"
	    "expect_tls_refused\n",
	    ENDPOINT_STARTTLS, "good", false, &r);
	expect_fail(&r, HEARTH_FAIL_TLS, 0, "starttls");
	test_assert(strstr(r.err.msg, "before the TLS handshake") != NULL);
	free(r.transcript);
	test_end();

	test_begin("STARTTLS, second EHLO, AUTH LOGIN, whole message");
	run("send 220 fake.test ESMTP\nexpect EHLO client.test\n"
	    "send 250-fake.test\nsend 250-AUTH PLAIN\nsend 250 STARTTLS\n"
	    "expect STARTTLS\nsend 220 go ahead\nstarttls\n"
	    "expect EHLO client.test\nsend 250-fake.test\n"
	    "send 250 AUTH LOGIN\n"
	    "expect AUTH LOGIN\nsend 334 VXNlcm5hbWU6\n"
	    "expect YUB4LnRlc3Q=\nsend 334 UGFzc3dvcmQ6\n"
	    "expect czNjcmV0LXB3\nsend 235 ok\n"
	    "expect MAIL FROM:<a@x.test>\nsend 250 ok\n"
	    "expect RCPT TO:<b@y.test>\nsend 250 ok\n"
	    "expect DATA\nsend 354 go\n"
	    "expect From: <a@x.test>\nexpect To: <b@y.test>\n"
	    "expect Subject: hi\nexpect \nexpect ..starts with a dot\n"
	    "expect bye\nexpect .\nsend 250 2.0.0 queued as 1234\n"
	    "expect QUIT\nsend 221 bye\n",
	    ENDPOINT_STARTTLS, "good", false, &r);
	test_assert(r.ret == 0);
	test_assert(r.server == 0);
	test_assert(r.res.reply_code == 250);
	test_assert(strcmp(r.res.reply_text, "2.0.0 queued as 1234") == 0);
	test_assert(strcmp(r.res.auth_mech, "LOGIN") == 0);
	test_assert(r.res.tls.verified);
	free(r.transcript);
	test_end();
}

static void test_xoauth2(void)
{
	struct run r;

	/* base64("user=a@x.test\1auth=Bearer s3cret-pw\1\1") */
	test_begin("XOAUTH2 over implicit TLS");
	run("send 220 fake.test ESMTP\nexpect EHLO\n"
	    "send 250-fake.test\nsend 250 AUTH LOGIN XOAUTH2\n"
	    "expect AUTH XOAUTH2 dXNlcj1hQHgudGVzdAFhdXRoPUJlYXJlciBzM2NyZXQt"
	    "cHcBAQ==\n"
	    "send 235 ok\nexpect MAIL\nsend 250 ok\nexpect RCPT\nsend 250 ok\n"
	    "expect DATA\nsend 354 go\nread_data\nsend 250 ok\n"
	    "expect QUIT\nsend 221 bye\n",
	    ENDPOINT_TLS, "good", true, &r);
	test_assert(r.ret == 0 && r.server == 0);
	test_assert(strcmp(r.res.auth_mech, "XOAUTH2") == 0);
	free(r.transcript);
	test_end();

	test_begin("XOAUTH2 refused: the challenge, an empty line, 535");
	run("send 220 fake.test ESMTP\nexpect EHLO\n"
	    "send 250-fake.test\nsend 250 AUTH XOAUTH2\n"
	    "expect AUTH XOAUTH2 \nsend 334 eyJzdGF0dXMiOiI0MDEifQ==\n"
	    "expect \nsend 535 5.7.8 token expired\n",
	    ENDPOINT_TLS, "good", true, &r);
	expect_fail(&r, HEARTH_FAIL_AUTH, 535, "auth");
	test_assert(r.server == 0);
	free(r.transcript);
	test_end();
}

static void test_injection(void)
{
	static const char *const bad[] = {
	    "a@x.test>\r\nRCPT TO:<c@z.test",
	    "a@x.test\n",
	    "a\0@x.test",
	    "a@x.test\r",
	    "<a@x.test>",
	    "a b@x.test",
	};
	struct endpoint ep = {
	    .host = "127.0.0.1", .port = 9, .security = ENDPOINT_STARTTLS};
	struct smtp_request req = {
	    .ep = &ep,
	    .ehlo_name = "client.test",
	    .data = msg,
	    .data_len = sizeof(msg) - 1,
	    .op_timeout_msecs = OP_MSECS,
	};
	struct smtp_result res;
	struct hearth_err err;
	struct credentials cred = {.username = "a@x.test",
				   .secret = "pw\r\nQUIT"};

	test_begin("CR/LF/NUL in addresses, EHLO, secrets: refused");
	req.deadline_msecs = net_now_msecs() + DEADLINE_MSECS;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		req.mail_from = bad[i];
		req.rcpt_to = "b@y.test";
		test_assert(smtp_send(&req, &res, &err) == -1);
		test_assert(err.fail == HEARTH_FAIL_PERMANENT);
		req.mail_from = "a@x.test";
		req.rcpt_to = bad[i];
		test_assert(smtp_send(&req, &res, &err) == -1);
		test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	}
	req.rcpt_to = "b@y.test";
	req.ehlo_name = "client.test\r\nMAIL FROM:<x@y.z>";
	test_assert(smtp_send(&req, &res, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	req.ehlo_name = "client.test";
	req.cred = &cred;
	test_assert(smtp_send(&req, &res, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strstr(err.msg, "QUIT") == NULL);
	test_end();
}

int main(void)
{
	log_set_level(LOG_LEVEL_ERROR);
	test_timeouts();
	test_replies();
	test_garbage();
	test_tls();
	test_xoauth2();
	test_injection();
	return test_exit();
}
