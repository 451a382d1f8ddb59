// SPDX-License-Identifier: MIT
/*
 * smtp_send() against the real lab: STARTTLS and implicit TLS with each AUTH
 * mechanism the lab offers, mail landing in INBOX and (from a cold domain)
 * in Junk, and each failure class the lab can produce.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hearth/log.h"
#include "hearth/net.h"
#include "hearth/smtp.h"
#include "labenv.h"
#include "test.h"

/* A small message with a unique Message-ID; returns the id. */
static const char *make_message(char *buf, size_t size, const char *from,
				const char *to)
{
	static char id[128];
	static int seq;

	snprintf(id, sizeof(id), "smtp-lab-%ld-%d@%s", (long)time(NULL), seq++,
		 strchr(from, '@') + 1);
	snprintf(
	    buf, size,
	    "From: <%s>\r\nTo: <%s>\r\nSubject: lab check %d\r\n"
	    "Message-ID: <%s>\r\n\r\nHello.\r\n.leading dot\r\n.\r\nend\r\n",
	    from, to, seq, id);
	return id;
}

static int send_one(const struct endpoint *ep, const char *from,
		    const char *password, const char *mech, const char *to,
		    const char **id_r, struct smtp_result *res,
		    struct hearth_err *err)
{
	static char data[1024];
	struct credentials cred = {.username = from, .secret = password};
	const char *id = make_message(data, sizeof(data), from, to);
	struct smtp_request req = {
	    .ep = ep,
	    .cred = password != NULL ? &cred : NULL,
	    .auth_mech = mech,
	    .ehlo_name = "client.lab.test",
	    .mail_from = from,
	    .rcpt_to = to,
	    .data = data,
	    .data_len = strlen(data),
	    .op_timeout_msecs = 10000,
	    .deadline_msecs = net_now_msecs() + 30000,
	};

	if (id_r != NULL)
		*id_r = id;
	memset(err, 0, sizeof(*err));
	return smtp_send(&req, res, err);
}

static void test_submission(void)
{
	struct endpoint sub =
	    labenv_endpoint("LAB_SUBMISSION_PORT", ENDPOINT_STARTTLS);
	struct endpoint smtps = labenv_endpoint("LAB_SMTPS_PORT", ENDPOINT_TLS);
	static const char *const mechs[] = {"PLAIN", "LOGIN", NULL};
	struct smtp_result res;
	struct hearth_err err;
	const char *id;

	for (int i = 0; i < 3; i++) {
		char name[96];

		snprintf(name, sizeof(name), "STARTTLS + AUTH %s",
			 mechs[i] != NULL ? mechs[i] : "(auto)");
		test_begin(name);
		test_assert(send_one(&sub, "user1@std.test", LABENV_PASSWORD,
				     mechs[i], "user1@gm.test", &id, &res,
				     &err) == 0);
		test_assert(res.reply_code == 250);
		test_assert(strcmp(res.stage, "data") == 0);
		test_assert(res.tls.active && res.tls.verified);
		test_assert(strlen(res.tls.fingerprint) == 64);
		test_assert(strcmp(res.auth_mech,
				   mechs[i] != NULL ? mechs[i] : "PLAIN") == 0);
		test_assert(
		    labenv_maillab("wait %s user1@gm.test INBOX '%s' 10",
				   labenv_dir, id) == 0);
		test_end();

		snprintf(name, sizeof(name), "implicit TLS + AUTH %s",
			 mechs[i] != NULL ? mechs[i] : "(auto)");
		test_begin(name);
		test_assert(send_one(&smtps, "user2@std.test", LABENV_PASSWORD,
				     mechs[i], "user1@ms.test", &id, &res,
				     &err) == 0);
		test_assert(res.tls.active && res.tls.verified);
		test_assert(strncmp(res.tls.version, "TLSv1.", 6) == 0);
		test_assert(
		    labenv_maillab("wait %s user1@ms.test INBOX '%s' 10",
				   labenv_dir, id) == 0);
		test_end();
	}

	test_begin("the message arrives dot-unstuffed and whole");
	{
		char cmd[512];
		FILE *p;
		char line[256];
		bool dot = false;

		test_assert(send_one(&sub, "user3@std.test", LABENV_PASSWORD,
				     NULL, "user3@gm.test", &id, &res,
				     &err) == 0);
		test_assert(
		    labenv_maillab("wait %s user3@gm.test INBOX '%s' 10",
				   labenv_dir, id) == 0);
		snprintf(cmd, sizeof(cmd),
			 "doveadm -c %s/dovecot/dovecot.conf fetch -u "
			 "user3@gm.test text mailbox INBOX header Message-ID "
			 "'<%s>'",
			 labenv_dir, id);
		p = popen(cmd, "r");
		while (p != NULL && fgets(line, sizeof(line), p) != NULL)
			if (strncmp(line, ".leading dot", 12) == 0)
				dot = true;
		if (p != NULL)
			pclose(p);
		test_assert(dot);
	}
	test_end();

	test_begin("cold sender domain lands in the spam folder");
	test_assert(send_one(&sub, "user1@cold.test", LABENV_PASSWORD, NULL,
			     "user2@gm.test", &id, &res, &err) == 0);
	test_assert(labenv_maillab("wait %s user2@gm.test '[Gmail]/Spam' '%s' "
				   "10",
				   labenv_dir, id) == 0);
	test_end();
}

static void test_failures(void)
{
	struct endpoint sub =
	    labenv_endpoint("LAB_SUBMISSION_PORT", ENDPOINT_STARTTLS);
	struct endpoint smtp =
	    labenv_endpoint("LAB_SMTP_PORT", ENDPOINT_STARTTLS);
	struct smtp_result res;
	struct hearth_err err;

	test_begin("wrong password is an auth failure");
	test_assert(send_one(&sub, "user4@std.test", "wrong", NULL,
			     "user4@gm.test", NULL, &res, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_AUTH);
	test_assert(err.code == 535);
	test_assert(strcmp(res.stage, "auth") == 0);
	test_assert(strstr(err.msg, "wrong") == NULL);
	test_end();

	test_begin("system trust store does not know the lab CA: tls");
	sub.ca_file = NULL;
	test_assert(send_one(&sub, "user4@std.test", LABENV_PASSWORD, NULL,
			     "user4@gm.test", NULL, &res, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_TLS);
	test_assert(strcmp(res.stage, "starttls") == 0);
	test_assert(!res.tls.verified);
	test_assert(strstr(err.msg, "not verified") != NULL);
	sub.ca_file = labenv_ca_file();
	test_end();

	test_begin("a host name the certificate names verifies (SNI sent)");
	sub.host = "localhost";
	test_assert(send_one(&sub, "user4@std.test", LABENV_PASSWORD, NULL,
			     "user4@gm.test", NULL, &res, &err) == 0);
	test_assert(res.tls.verified);
	sub.host = "127.0.0.1";
	test_end();

	test_begin("outside recipient is permanent at rcpt");
	test_assert(send_one(&sub, "user4@std.test", LABENV_PASSWORD, NULL,
			     "someone@example.com", NULL, &res, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(res.reply_code / 100 == 5);
	test_assert(strcmp(res.stage, "rcpt") == 0);
	test_end();

	test_begin("unknown lab user is permanent");
	test_assert(send_one(&sub, "user4@std.test", LABENV_PASSWORD, NULL,
			     "nobody@gm.test", NULL, &res, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(res.reply_code == 550);
	test_end();

	test_begin("inbound port without AUTH, STARTTLS verified");
	test_assert(send_one(&smtp, "someone@elsewhere.test", NULL, NULL,
			     "user4@gm.test", NULL, &res, &err) == 0);
	test_assert(res.tls.verified);
	test_end();

	test_begin("tls_insecure_plaintext works and warns");
	{
		char *text = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&text, &len);

		smtp.security = ENDPOINT_INSECURE_PLAINTEXT;
		log_set_stream(mem);
		test_assert(send_one(&smtp, "someone@elsewhere.test", NULL,
				     NULL, "user4@gm.test", NULL, &res,
				     &err) == 0);
		log_set_stream(NULL);
		fclose(mem);
		test_assert(!res.tls.active);
		test_assert(strstr(text, "tls_insecure_plaintext=yes") != NULL);
		free(text);
		smtp.security = ENDPOINT_STARTTLS;
	}
	test_end();

	test_begin("no AUTH on the inbound port: permanent, not a downgrade");
	test_assert(send_one(&smtp, "user4@std.test", LABENV_PASSWORD, NULL,
			     "user4@gm.test", NULL, &res, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strstr(err.msg, "no AUTH") != NULL);
	test_end();

	test_begin("XOAUTH2 asked for but not offered: permanent");
	test_assert(send_one(&sub, "user4@std.test", LABENV_PASSWORD, "XOAUTH2",
			     "user4@gm.test", NULL, &res, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_end();

	test_begin("connection refused is retry");
	{
		struct endpoint closed = sub;

		closed.port = (uint16_t)(labenv_port("LAB_PORT_BASE") + 999);
		test_assert(send_one(&closed, "user4@std.test", LABENV_PASSWORD,
				     NULL, "user4@gm.test", NULL, &res,
				     &err) == -1);
		test_assert(err.fail == HEARTH_FAIL_RETRY);
		test_assert(strcmp(res.stage, "connect") == 0);
	}
	test_end();

	test_begin("CR/LF in addresses never reaches the wire");
	test_assert(send_one(&sub, "user4@std.test", LABENV_PASSWORD, NULL,
			     "user4@gm.test>\r\nRCPT TO:<user1@gm.test", NULL,
			     &res, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strcmp(res.stage, "connect") == 0);
	test_assert(send_one(&sub, "user4@std.test\r\nRSET", LABENV_PASSWORD,
			     NULL, "user4@gm.test", NULL, &res, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(send_one(&sub, "user4@std.test", "pass\r\nQUIT", NULL,
			     "user4@gm.test", NULL, &res, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strstr(err.msg, "pass") == NULL ||
		    strstr(err.msg, "QUIT") == NULL);
	test_end();
}

int main(int argc, char **argv)
{
	if (argc < 2 || labenv_load(argv[1]) < 0) {
		printf("SKIP: no lab (the lab fixture did not start one)\n");
		return TEST_SKIP;
	}
	test_submission();
	test_failures();
	return test_exit();
}
