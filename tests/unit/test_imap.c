// SPDX-License-Identifier: MIT
/*
 * The IMAP session against scripted fake servers on 127.0.0.1: broken and
 * hostile servers end within the deadline with the right failure class, no
 * credential reaches a server whose certificate did not verify, and the
 * paths the lab's Dovecot never takes (XLIST, plain LIST attributes,
 * AUTHENTICATE PLAIN by continuation, Gmail labels, COPY fallbacks) send
 * exactly the commands they should, NOOP lets a search of the folder
 * still selected see mail that arrived since, and keywords ($NotJunk) are
 * read, set only where PERMANENTFLAGS allow them, and never injected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_server.h"
#include "hearth/imap.h"
#include "hearth/log.h"
#include "hearth/net.h"
#include "test.h"

#define CERTS	       HEARTH_TEST_CERTS_DIR
#define OP_MSECS       (1000 * test_time_scale())
#define DEADLINE_MSECS (2500 * test_time_scale())

/* Greeting, STARTTLS and LOGIN, then post-login capabilities CAPS. */
#define STARTTLS_LOGIN(caps)                                                   \
	"send * OK fake ready\n"                                               \
	"expect_tag CAPABILITY\n"                                              \
	"send * CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\n"                 \
	"send $TAG OK done\n"                                                  \
	"expect_tag STARTTLS\n"                                                \
	"send $TAG OK begin TLS\n"                                             \
	"starttls\n"                                                           \
	"expect_tag CAPABILITY\n"                                              \
	"send * CAPABILITY IMAP4rev1 AUTH=PLAIN\n"                             \
	"send $TAG OK done\n"                                                  \
	"expect_tag LOGIN *\n"                                                 \
	"send $TAG OK logged in\n"                                             \
	"expect_tag CAPABILITY\n"                                              \
	"send * CAPABILITY IMAP4rev1 " caps "\n"                               \
	"send $TAG OK done\n"

/* Implicit TLS and LOGIN, then capabilities CAPS. */
#define TLS_LOGIN(caps)                                                        \
	"send * OK fake ready\n"                                               \
	"expect_tag CAPABILITY\n"                                              \
	"send * CAPABILITY IMAP4rev1 AUTH=PLAIN\n"                             \
	"send $TAG OK done\n"                                                  \
	"expect_tag LOGIN *\n"                                                 \
	"send $TAG OK logged in\n"                                             \
	"expect_tag CAPABILITY\n"                                              \
	"send * CAPABILITY IMAP4rev1 " caps "\n"                               \
	"send $TAG OK done\n"

#define SELECT_INBOX                                                           \
	"expect_tag SELECT INBOX\n"                                            \
	"send * 3 EXISTS\n"                                                    \
	"send * OK [UIDVALIDITY 7] ok\n"                                       \
	"send $TAG OK [READ-WRITE] done\n"

#define LOGOUT                                                                 \
	"expect_tag LOGOUT\n"                                                  \
	"send * BYE bye\n"                                                     \
	"send $TAG OK done\n"

struct fake {
	struct fake_server *fs;
	struct endpoint ep;
	struct credentials cred;
	struct imap_limits limits;
	int64_t start;
};

static bool fake_start(struct fake *f, const char *script,
		       enum endpoint_security sec, const char *cert,
		       const char *secret)
{
	char crt[256], key[256];
	struct fake_tls tls = {
	    .cert_file = crt, .key_file = key, .implicit = sec == ENDPOINT_TLS};

	snprintf(crt, sizeof(crt), "%s/%s.crt", CERTS, cert ? cert : "good");
	snprintf(key, sizeof(key), "%s/%s.key", CERTS, cert ? cert : "good");
	memset(f, 0, sizeof(*f));
	f->fs = fake_server_start(script, cert != NULL ? &tls : NULL);
	if (f->fs == NULL)
		return false;
	f->ep.host = "127.0.0.1";
	f->ep.port = fake_server_port(f->fs);
	f->ep.security = sec;
	f->ep.ca_file = CERTS "/ca.crt";
	f->cred.username = "a@x.test";
	f->cred.secret = secret != NULL ? secret : "s3cret-pw";
	f->start = net_now_msecs();
	f->limits.op_timeout_msecs = OP_MSECS;
	f->limits.deadline_msecs = f->start + DEADLINE_MSECS;
	return true;
}

/* Finish the server: 0 when its script ran whole. */
static int fake_end(struct fake *f, char **transcript_r)
{
	return fake_server_finish(&f->fs, 5000, transcript_r);
}

static void expect_open_fails(const char *script, enum endpoint_security sec,
			      const char *cert, enum hearth_fail fail)
{
	struct imap_session *s = NULL;
	struct hearth_err err = {0};
	char *transcript = NULL;
	struct fake f;

	test_assert(fake_start(&f, script, sec, cert, NULL));
	test_assert(imap_open(&f.ep, &f.cred, &f.limits, &s, &err) == -1);
	test_assert(s == NULL);
	if (err.fail != fail)
		fprintf(stderr, "  got %s: %s\n", hearth_fail_name(err.fail),
			err.msg);
	test_assert(err.fail == fail);
	test_assert(net_now_msecs() - f.start <
		    DEADLINE_MSECS + test_slack_msecs());
	fake_end(&f, &transcript);
	/* No credential crossed: no LOGIN, no AUTHENTICATE. */
	test_assert(transcript == NULL ||
		    (strstr(transcript, "LOGIN") == NULL &&
		     strstr(transcript, "s3cret") == NULL) ||
		    fail == HEARTH_FAIL_AUTH);
	free(transcript);
}

static void test_open_failures(void)
{
	static const char *const bad[] = {"wrongname", "expired", "selfsigned"};

	test_begin("no greeting: retry");
	expect_open_fails("hang\n", ENDPOINT_STARTTLS, NULL, HEARTH_FAIL_RETRY);
	test_end();

	test_begin("garbage greeting: retry");
	expect_open_fails("garbage 2000\nhang\n", ENDPOINT_STARTTLS, NULL,
			  HEARTH_FAIL_RETRY);
	test_end();

	test_begin("BYE greeting: retry");
	expect_open_fails("send * BYE too many connections\n",
			  ENDPOINT_STARTTLS, NULL, HEARTH_FAIL_RETRY);
	test_end();

	test_begin("a greeting trickled past the deadline: retry");
	expect_open_fails(
	    "trickle 300 * OK a slow, slow, slow server that takes its time "
	    "over every single byte of its greeting\nhang\n",
	    ENDPOINT_STARTTLS, NULL, HEARTH_FAIL_RETRY);
	test_end();

	test_begin("STARTTLS not offered: permanent, no LOGIN sent");
	expect_open_fails("send * OK fake ready\n"
			  "expect_tag CAPABILITY\n"
			  "send * CAPABILITY IMAP4rev1 AUTH=PLAIN\n"
			  "send $TAG OK done\n"
			  "expect_eof\n",
			  ENDPOINT_STARTTLS, "good", HEARTH_FAIL_PERMANENT);
	test_end();

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char name[96];

		snprintf(name, sizeof(name), "IMAPS, %s certificate: tls",
			 bad[i]);
		test_begin(name);
		expect_open_fails("expect_tls_refused\n", ENDPOINT_TLS, bad[i],
				  HEARTH_FAIL_TLS);
		test_end();

		snprintf(name, sizeof(name), "STARTTLS, %s certificate: tls",
			 bad[i]);
		test_begin(name);
		expect_open_fails("send * OK fake ready\n"
				  "expect_tag CAPABILITY\n"
				  "send * CAPABILITY IMAP4rev1 STARTTLS\n"
				  "send $TAG OK done\n"
				  "expect_tag STARTTLS\n"
				  "send $TAG OK begin TLS\n"
				  "expect_tls_refused\n",
				  ENDPOINT_STARTTLS, bad[i], HEARTH_FAIL_TLS);
		test_end();
	}

	test_begin("LOGIN refused: auth");
	expect_open_fails("send * OK fake ready\n"
			  "expect_tag CAPABILITY\n"
			  "send * CAPABILITY IMAP4rev1 AUTH=PLAIN\n"
			  "send $TAG OK done\n"
			  "expect_tag LOGIN *\n"
			  "send $TAG NO [AUTHENTICATIONFAILED] Authentication "
			  "failed.\n",
			  ENDPOINT_TLS, "good", HEARTH_FAIL_AUTH);
	test_end();
}

static void test_sessions(void)
{
	struct imap_session *s = NULL;
	struct imap_found found;
	struct hearth_err err = {0};
	struct imap_query q = {.message_id = "<m1@x.test>"};
	char *transcript = NULL;
	struct fake f;

	test_begin("AUTHENTICATE PLAIN by continuation (no SASL-IR)");
	/* base64("\0a@x.test\0p\xc3\xa4ss") */
	test_assert(fake_start(&f,
			       "send * OK fake ready\n"
			       "expect_tag CAPABILITY\n"
			       "send * CAPABILITY IMAP4rev1 AUTH=PLAIN\n"
			       "send $TAG OK done\n"
			       "expect_tag AUTHENTICATE PLAIN\n"
			       "send + \n"
			       "expect AGFAeC50ZXN0AHDDpHNz\n"
			       "send $TAG OK authenticated\n"
			       "expect_tag CAPABILITY\n"
			       "send * CAPABILITY IMAP4rev1\n"
			       "send $TAG OK done\n" LOGOUT,
			       ENDPOINT_TLS, "good", "p\xc3\xa4ss"));
	test_assert(imap_open(&f.ep, &f.cred, &f.limits, &s, &err) == 0);
	test_assert(s != NULL && strcmp(imap_auth_mech(s), "PLAIN") == 0);
	imap_close(&s);
	test_assert(fake_end(&f, NULL) == 0);
	test_end();

	test_begin("untagged data where none belongs: session ends, retry");
	test_assert(fake_start(
	    &f,
	    STARTTLS_LOGIN("UIDPLUS") "expect_tag SELECT INBOX\n"
				      "send * 3 EXISTS\n"
				      "send * FROB (((( \\x01\\x02 ]]\n"
				      "send $TAG OK done\n"
				      "hang\n",
	    ENDPOINT_STARTTLS, "good", NULL));
	test_assert(imap_open(&f.ep, &f.cred, &f.limits, &s, &err) == 0);
	if (s != NULL) {
		test_assert(imap_locate(s, "INBOX", &q, &found, &err) == -1);
		test_assert(err.fail == HEARTH_FAIL_RETRY);
		/* Out of sync: later calls fail at once. */
		test_assert(imap_locate(s, "INBOX", &q, &found, &err) == -1);
		test_assert(err.fail == HEARTH_FAIL_RETRY);
		test_assert(strstr(err.msg, "lost earlier") != NULL);
		imap_close(&s);
	}
	test_assert(net_now_msecs() - f.start <
		    DEADLINE_MSECS + test_slack_msecs());
	fake_end(&f, NULL);
	test_end();

	test_begin("a SELECT reply trickled past the deadline: retry");
	test_assert(fake_start(
	    &f,
	    TLS_LOGIN(
		"UIDPLUS") "expect_tag SELECT INBOX\n"
			   "trickle 200 * 3 EXISTS and a great deal more that "
			   "keeps coming, one byte after another\n"
			   "hang\n",
	    ENDPOINT_TLS, "good", NULL));
	test_assert(imap_open(&f.ep, &f.cred, &f.limits, &s, &err) == 0);
	if (s != NULL) {
		test_assert(imap_locate(s, "INBOX", &q, &found, &err) == -1);
		test_assert(err.fail == HEARTH_FAIL_RETRY);
		test_assert(strstr(err.msg, "deadline") != NULL);
		imap_close(&s);
	}
	test_assert(net_now_msecs() - f.start <
		    DEADLINE_MSECS + test_slack_msecs());
	fake_end(&f, NULL);
	test_end();

	test_begin("the server closes mid-session: retry");
	test_assert(fake_start(&f,
			       TLS_LOGIN("UIDPLUS") "expect_tag SELECT\n"
						    "close\n",
			       ENDPOINT_TLS, "good", NULL));
	test_assert(imap_open(&f.ep, &f.cred, &f.limits, &s, &err) == 0);
	if (s != NULL) {
		test_assert(imap_locate(s, "INBOX", &q, &found, &err) == -1);
		test_assert(err.fail == HEARTH_FAIL_RETRY);
		imap_close(&s);
	}
	fake_end(&f, NULL);
	test_end();
	(void)transcript;
}

static void discover(const char *script, const char *junk,
		     enum imap_discovery how)
{
	struct imap_session *s = NULL;
	struct imap_folders folders;
	struct hearth_err err = {0};
	struct fake f;

	test_assert(fake_start(&f, script, ENDPOINT_TLS, "good", NULL));
	test_assert(imap_open(&f.ep, &f.cred, &f.limits, &s, &err) == 0);
	if (s == NULL) {
		fake_end(&f, NULL);
		return;
	}
	test_assert(imap_discover(s, &folders, &err) == 0);
	test_assert(folders.junk != NULL &&
		    strcmp(folders.junk->name, junk) == 0);
	test_assert(folders.junk_found_by == how);
	imap_folders_clear(&folders);
	imap_close(&s);
	test_assert(fake_end(&f, NULL) == 0);
}

static void test_discovery(void)
{
	test_begin("discovery by plain LIST attributes");
	discover(
	    TLS_LOGIN("UIDPLUS") "expect_tag LIST \"\" *\n"
				 "send * LIST (\\\\HasNoChildren) \"/\" INBOX\n"
				 "send * LIST (\\\\HasNoChildren \\\\Junk) "
				 "\"/\" Courrier\n"
				 "send $TAG OK done\n" LOGOUT,
	    "Courrier", IMAP_DISCOVERY_LIST);
	test_end();

	test_begin("discovery by XLIST (\\Spam), name kept as sent");
	discover(
	    TLS_LOGIN("XLIST") "expect_tag LIST \"\" *\n"
			       "send * LIST (\\\\HasNoChildren) \"/\" INBOX\n"
			       "send * LIST (\\\\HasNoChildren) \"/\" "
			       "\"[Gmail]/Spam\"\n"
			       "send * LIST (\\\\HasNoChildren) \"/\" "
			       "\"&AMk-l&AOk-ments\"\n"
			       "send $TAG OK done\n"
			       "expect_tag XLIST \"\" *\n"
			       "send * XLIST (\\\\HasNoChildren \\\\Inbox) "
			       "\"/\" INBOX\n"
			       "send * XLIST (\\\\HasNoChildren \\\\Spam) "
			       "\"/\" \"[Gmail]/Spam\"\n"
			       "send $TAG OK done\n" LOGOUT,
	    "[Gmail]/Spam", IMAP_DISCOVERY_XLIST);
	test_end();

	test_begin("discovery by name, case-blind, \\Noselect skipped");
	discover(TLS_LOGIN("UIDPLUS") "expect_tag LIST \"\" *\n"
				      "send * LIST (\\\\Noselect) \"/\" Junk\n"
				      "send * LIST () \"/\" INBOX\n"
				      "send * LIST () \"/\" \"JUNK E-MAIL\"\n"
				      "send $TAG OK done\n" LOGOUT,
		 "JUNK E-MAIL", IMAP_DISCOVERY_NAME);
	test_end();

	test_begin("SPECIAL-USE: LIST ... RETURN (SPECIAL-USE)");
	discover(
	    TLS_LOGIN(
		"SPECIAL-USE") "expect_tag LIST \"\" \"*\" RETURN "
			       "(SPECIAL-USE)\n"
			       "send * LIST () \"/\" INBOX\n"
			       "send * LIST (\\\\Junk) \"/\" \"Junk Email\"\n"
			       "send $TAG OK done\n" LOGOUT,
	    "Junk Email", IMAP_DISCOVERY_SPECIAL_USE);
	test_end();
}

static void test_commands(void)
{
	struct imap_session *s = NULL;
	struct hearth_err err = {0};
	uint32_t new_uid = 1;
	char *transcript = NULL;
	struct fake f;

	test_begin("Gmail: \\Seen \\Flagged, then X-GM-LABELS \\Important");
	test_assert(fake_start(&f,
			       TLS_LOGIN("UIDPLUS MOVE X-GM-EXT-1") SELECT_INBOX
			       "expect_tag UID STORE 5 +FLAGS.SILENT "
			       "(\\\\Seen \\\\Flagged)\n"
			       "send $TAG OK done\n"
			       "expect_tag UID STORE 5 +X-GM-LABELS.SILENT "
			       "(*Important*)\n"
			       "send $TAG OK done\n" LOGOUT,
			       ENDPOINT_TLS, "good", NULL));
	test_assert(imap_open(&f.ep, &f.cred, &f.limits, &s, &err) == 0);
	test_assert(s != NULL &&
		    imap_mark(s, "INBOX", 5, true, true, true, &err) == 0);
	imap_close(&s);
	test_assert(fake_end(&f, NULL) == 0);
	test_end();

	test_begin("no MOVE, UIDPLUS: COPY, \\Deleted, UID EXPUNGE of one");
	test_assert(fake_start(&f,
			       TLS_LOGIN("UIDPLUS") SELECT_INBOX
			       "expect_tag UID COPY 5 Junk\n"
			       "send $TAG OK [COPYUID 7 5 9] done\n"
			       "expect_tag UID STORE 5 +FLAGS.SILENT "
			       "(\\\\Deleted)\n"
			       "send $TAG OK done\n"
			       "expect_tag UID EXPUNGE 5\n"
			       "send * 2 EXPUNGE\n"
			       "send $TAG OK done\n" LOGOUT,
			       ENDPOINT_TLS, "good", NULL));
	test_assert(imap_open(&f.ep, &f.cred, &f.limits, &s, &err) == 0);
	test_assert(s != NULL &&
		    imap_move(s, "INBOX", 5, "Junk", &new_uid, &err) == 0);
	test_assert(new_uid == 9);
	imap_close(&s);
	test_assert(fake_end(&f, NULL) == 0);
	test_end();

	test_begin("neither MOVE nor UIDPLUS: never a plain EXPUNGE");
	test_assert(fake_start(&f,
			       TLS_LOGIN("IDLE") SELECT_INBOX
			       "expect_tag UID COPY 5 Junk\n"
			       "send $TAG OK done\n"
			       "expect_tag UID STORE 5 +FLAGS.SILENT "
			       "(\\\\Deleted)\n"
			       "send $TAG OK done\n" LOGOUT,
			       ENDPOINT_TLS, "good", NULL));
	test_assert(imap_open(&f.ep, &f.cred, &f.limits, &s, &err) == 0);
	test_assert(s != NULL &&
		    imap_move(s, "INBOX", 5, "Junk", &new_uid, &err) == 0);
	test_assert(new_uid == 0);
	imap_close(&s);
	test_assert(fake_end(&f, &transcript) == 0);
	test_assert(transcript != NULL &&
		    strstr(transcript, "EXPUNGE") == NULL);
	free(transcript);
	test_end();

	test_begin("a NO to a command: permanent, the session goes on");
	test_assert(fake_start(
	    &f,
	    TLS_LOGIN("UIDPLUS MOVE") "expect_tag SELECT Nope\n"
				      "send $TAG NO [NONEXISTENT] no such "
				      "mailbox\n" SELECT_INBOX
				      "expect_tag UID STORE 5 +FLAGS.SILENT "
				      "(\\\\Seen)\n"
				      "send $TAG OK done\n" LOGOUT,
	    ENDPOINT_TLS, "good", NULL));
	test_assert(imap_open(&f.ep, &f.cred, &f.limits, &s, &err) == 0);
	if (s != NULL) {
		test_assert(imap_mark(s, "Nope", 5, true, false, false, &err) ==
			    -1);
		test_assert(err.fail == HEARTH_FAIL_PERMANENT);
		test_assert(strstr(err.msg, "no such mailbox") != NULL);
		test_assert(
		    imap_mark(s, "INBOX", 5, true, false, false, &err) == 0);
		imap_close(&s);
	}
	test_assert(fake_end(&f, NULL) == 0);
	test_end();
}

static void test_noop(void)
{
	struct imap_session *s = NULL;
	struct hearth_err err = {0};
	struct imap_query q = {.token_header = "X-Ref", .token = "t1"};
	struct imap_found found;
	struct fake f;

	test_begin("NOOP, then the selected folder's search sees new mail");
	test_assert(fake_start(
	    &f,
	    TLS_LOGIN("UIDPLUS") SELECT_INBOX
	    "expect_tag UID SEARCH HEADER X-Ref t1\n"
	    "send * SEARCH\n"
	    "send $TAG OK done\n"
	    "expect_tag NOOP\n"
	    "send * 4 EXISTS\n"
	    "send $TAG OK done\n"
	    "expect_tag UID SEARCH HEADER X-Ref t1\n"
	    "send * SEARCH 9\n"
	    "send $TAG OK done\n"
	    "expect_tag UID FETCH 9 *\n"
	    "send * 4 FETCH (UID 9 FLAGS (\\\\Seen) BODY[HEADER.FIELDS "
	    "(X-Ref)] {11}\n"
	    "sendraw X-Ref: t1\\r\\n)\\r\\n\n"
	    "send $TAG OK done\n" LOGOUT,
	    ENDPOINT_TLS, "good", NULL));
	test_assert(imap_open(&f.ep, &f.cred, &f.limits, &s, &err) == 0);
	if (s != NULL) {
		test_assert(imap_locate(s, "INBOX", &q, &found, &err) == 0);
		test_assert(imap_noop(s, &err) == 0);
		test_assert(imap_locate(s, "INBOX", &q, &found, &err) == 1);
		test_assert(found.uid == 9 && found.seen);
		test_assert(found.uidvalidity == 7);
		imap_close(&s);
	}
	test_assert(fake_end(&f, NULL) == 0);
	test_end();

	test_begin("NOOP: a BAD is permanent, a closed connection retry");
	test_assert(fake_start(&f,
			       TLS_LOGIN("UIDPLUS") "expect_tag NOOP\n"
						    "send $TAG BAD not now\n"
						    "expect_tag NOOP\n"
						    "close\n",
			       ENDPOINT_TLS, "good", NULL));
	test_assert(imap_open(&f.ep, &f.cred, &f.limits, &s, &err) == 0);
	if (s != NULL) {
		test_assert(imap_noop(s, &err) == -1);
		test_assert(err.fail == HEARTH_FAIL_PERMANENT);
		test_assert(imap_noop(s, &err) == -1);
		test_assert(err.fail == HEARTH_FAIL_RETRY);
		test_assert(imap_noop(s, &err) == -1);
		test_assert(strstr(err.msg, "lost earlier") != NULL);
		imap_close(&s);
	}
	test_assert(net_now_msecs() - f.start <
		    DEADLINE_MSECS + test_slack_msecs());
	fake_end(&f, NULL);
	test_end();
}

/* Junk selected; any keyword may be set there. */
#define SELECT_JUNK_ANY_KEYWORD                                                \
	"expect_tag SELECT Junk\n"                                             \
	"send * OK [PERMANENTFLAGS (\\\\Seen \\\\*)] ok\n"                     \
	"send * 2 EXISTS\n"                                                    \
	"send * OK [UIDVALIDITY 8] ok\n"                                       \
	"send $TAG OK [READ-WRITE] done\n"

/* imap_keyword_allowed() for $NotJunk after a SELECT sending lines. */
static void keyword_allowed(const char *lines, int want)
{
	struct imap_session *s = NULL;
	struct hearth_err err = {0};
	char script[2048];
	struct fake f;

	snprintf(script, sizeof(script),
		 "%sexpect_tag SELECT Junk\n%ssend * 2 EXISTS\n"
		 "send $TAG OK [READ-WRITE] done\n" LOGOUT,
		 TLS_LOGIN("UIDPLUS MOVE"), lines);
	test_assert(fake_start(&f, script, ENDPOINT_TLS, "good", NULL));
	test_assert(imap_open(&f.ep, &f.cred, &f.limits, &s, &err) == 0);
	if (s != NULL) {
		int got = imap_keyword_allowed(s, "Junk", IMAP_KEYWORD_NOT_JUNK,
					       &err);

		if (got != want)
			fprintf(stderr, "  got %d, want %d\n", got, want);
		test_assert(got == want);
		imap_close(&s);
	}
	test_assert(fake_end(&f, NULL) == 0);
}

static void test_keywords(void)
{
	struct imap_session *s = NULL;
	struct hearth_err err = {0};
	struct imap_query q = {.token_header = "X-Ref", .token = "t1"};
	struct imap_found found;
	char *transcript = NULL;
	struct fake f;

	test_begin("keywords allowed: PERMANENTFLAGS with \\* (Dovecot's)");
	keyword_allowed("send * FLAGS (\\\\Answered \\\\Flagged \\\\Deleted "
			"\\\\Seen \\\\Draft)\n"
			"send * OK [PERMANENTFLAGS (\\\\Answered \\\\Flagged "
			"\\\\Deleted \\\\Seen \\\\Draft \\\\\\*)] ok\n",
			1);
	test_end();

	test_begin("keywords allowed: PERMANENTFLAGS naming $NotJunk");
	keyword_allowed("send * OK [PERMANENTFLAGS (\\\\Seen \\$notjunk)] "
			"ok\n",
			1);
	test_end();

	test_begin("keywords refused: PERMANENTFLAGS without \\* or it");
	keyword_allowed("send * FLAGS (\\\\Seen \\$NotJunk)\n"
			"send * OK [PERMANENTFLAGS (\\\\Seen \\\\Flagged "
			"\\$Junk)] ok\n",
			0);
	test_end();

	test_begin("keywords refused: PERMANENTFLAGS ()");
	keyword_allowed("send * OK [PERMANENTFLAGS ()] ok\n", 0);
	test_end();

	test_begin("keywords: no PERMANENTFLAGS, FLAGS decides");
	keyword_allowed("send * FLAGS (\\\\Seen \\$NotJunk)\n", 1);
	keyword_allowed("send * FLAGS (\\\\Seen \\\\Flagged)\n", 0);
	keyword_allowed("", 0);
	test_end();

	test_begin("locate reports $NotJunk and $Junk; keywords set, cleared");
	test_assert(
	    fake_start(&f,
		       TLS_LOGIN("UIDPLUS MOVE") SELECT_JUNK_ANY_KEYWORD
		       "expect_tag UID SEARCH HEADER X-Ref t1\n"
		       "send * SEARCH 5\n"
		       "send $TAG OK done\n"
		       "expect_tag UID FETCH 5 *\n"
		       "send * 2 FETCH (UID 5 FLAGS (\\\\Seen "
		       "\\$NOTJUNK \\$Junk) BODY[HEADER.FIELDS (X-Ref)] "
		       "{11}\n"
		       "sendraw X-Ref: t1\\r\\n)\\r\\n\n"
		       "send $TAG OK done\n"
		       "expect_tag UID STORE 5 +FLAGS.SILENT "
		       "(\\$NotJunk)\n"
		       "send $TAG OK done\n"
		       "expect_tag UID STORE 5 -FLAGS.SILENT (\\$Junk)\n"
		       "send $TAG OK done\n" LOGOUT,
		       ENDPOINT_TLS, "good", NULL));
	test_assert(imap_open(&f.ep, &f.cred, &f.limits, &s, &err) == 0);
	if (s != NULL) {
		test_assert(imap_locate(s, "Junk", &q, &found, &err) == 1);
		test_assert(found.uid == 5 && found.seen && !found.flagged);
		test_assert(found.not_junk && found.junk);
		test_assert(imap_keyword_allowed(
				s, "Junk", IMAP_KEYWORD_NOT_JUNK, &err) == 1);
		test_assert(imap_keyword(s, "Junk", 5, IMAP_KEYWORD_NOT_JUNK,
					 true, &err) == 0);
		test_assert(imap_keyword(s, "Junk", 5, IMAP_KEYWORD_JUNK, false,
					 &err) == 0);
		/* Not atoms: refused before the wire. */
		test_assert(imap_keyword(s, "Junk", 5, "a b", true, &err) ==
			    -1);
		test_assert(err.fail == HEARTH_FAIL_PERMANENT);
		test_assert(imap_keyword(s, "Junk", 5, "\\Seen", true, &err) ==
			    -1);
		test_assert(imap_keyword(s, "Junk", 5, "x)\r\nA1 LOGOUT", true,
					 &err) == -1);
		test_assert(imap_keyword(s, "Junk", 5, "", true, &err) == -1);
		imap_close(&s);
	}
	test_assert(fake_end(&f, &transcript) == 0);
	test_assert(transcript != NULL && strstr(transcript, "a b") == NULL &&
		    strstr(transcript, "Seen)") == NULL);
	free(transcript);
	test_end();

	test_begin("locate: no keyword, neither reported");
	test_assert(fake_start(&f,
			       TLS_LOGIN("UIDPLUS") SELECT_INBOX
			       "expect_tag UID SEARCH HEADER X-Ref t1\n"
			       "send * SEARCH 9\n"
			       "send $TAG OK done\n"
			       "expect_tag UID FETCH 9 *\n"
			       "send * 3 FETCH (UID 9 FLAGS (\\$NotJunkish "
			       "\\$Forwarded) BODY[HEADER.FIELDS "
			       "(X-Ref)] {11}\n"
			       "sendraw X-Ref: t1\\r\\n)\\r\\n\n"
			       "send $TAG OK done\n" LOGOUT,
			       ENDPOINT_TLS, "good", NULL));
	test_assert(imap_open(&f.ep, &f.cred, &f.limits, &s, &err) == 0);
	if (s != NULL) {
		test_assert(imap_locate(s, "INBOX", &q, &found, &err) == 1);
		test_assert(found.uid == 9 && !found.seen);
		test_assert(!found.not_junk && !found.junk);
		imap_close(&s);
	}
	test_assert(fake_end(&f, NULL) == 0);
	test_end();
}

int main(void)
{
	log_set_level(LOG_LEVEL_ERROR);
	test_open_failures();
	test_sessions();
	test_discovery();
	test_commands();
	test_noop();
	test_keywords();
	return test_exit();
}
