// SPDX-License-Identifier: MIT
/*
 * The IMAP session against the real lab: login paths, folder discovery on
 * every folder layout, locating messages in INBOX and the spam folder by
 * each method, rescue from spam, flags confirmed from a fresh session, a
 * threaded reply, APPEND to Sent, retention moves and deletes, and values
 * that would inject a command refused before the wire.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hearth/imap.h"
#include "hearth/message.h"
#include "hearth/net.h"
#include "hearth/smtp.h"
#include "labenv.h"
#include "test.h"

#define TOKEN_HEADER "X-Ref"

static struct imap_limits limits(void)
{
	struct imap_limits l = {
	    .op_timeout_msecs = 10000,
	    .deadline_msecs = net_now_msecs() + 60000,
	};
	return l;
}

static struct imap_session *open_as(const char *user, const char *password,
				    enum endpoint_security sec)
{
	struct endpoint ep = labenv_endpoint(
	    sec == ENDPOINT_TLS ? "LAB_IMAPS_PORT" : "LAB_IMAP_PORT", sec);
	struct credentials cred = {.username = user, .secret = password};
	struct imap_limits l = limits();
	struct imap_session *s = NULL;
	struct hearth_err err = {0};

	if (imap_open(&ep, &cred, &l, &s, &err) < 0)
		fprintf(stderr, "imap_open %s: %s\n", user, err.msg);
	return s;
}

/*
 * Send one message through the lab's submission port; the Message-ID
 * (owned by the caller) comes back.
 */
static char *send_msg(const char *from, const char *to, const char *subject,
		      const char *token, const char *message_id,
		      const char *in_reply_to)
{
	struct message_spec spec = {
	    .from_name = "Sender Person",
	    .from_addr = from,
	    .to_name = "Recipient Person",
	    .to_addr = to,
	    .subject = subject,
	    .text_body = "Hello,\nthis is a check.\n",
	    .html_body = "<p>Hello,</p><p>this is a check.</p>",
	    .message_id = message_id,
	    .in_reply_to = in_reply_to,
	    .token_header = token != NULL ? TOKEN_HEADER : NULL,
	    .token_value = token,
	    .date = time(NULL),
	};
	struct endpoint ep =
	    labenv_endpoint("LAB_SUBMISSION_PORT", ENDPOINT_STARTTLS);
	struct credentials cred = {.username = from, .secret = LABENV_PASSWORD};
	struct smtp_request req = {
	    .ep = &ep,
	    .cred = &cred,
	    .ehlo_name = "client.lab.test",
	    .mail_from = from,
	    .rcpt_to = to,
	    .op_timeout_msecs = 10000,
	    .deadline_msecs = net_now_msecs() + 30000,
	};
	struct smtp_result res;
	struct hearth_err err = {0};
	char *data = NULL, *id = NULL;
	size_t len = 0;

	if (message_build(&spec, &data, &len, &id, &err) < 0) {
		fprintf(stderr, "message_build: %s\n", err.msg);
		return NULL;
	}
	req.data = data;
	req.data_len = len;
	if (smtp_send(&req, &res, &err) < 0) {
		fprintf(stderr, "smtp_send: %s\n", err.msg);
		free(id);
		id = NULL;
	}
	free(data);
	return id;
}

/* Wait (server side) until the message is in folder. */
static bool arrived(const char *user, const char *folder, const char *id)
{
	return labenv_maillab("wait %s %s '%s' '%s' 15", labenv_dir, user,
			      folder, id) == 0;
}

static void test_login(void)
{
	struct imap_session *s;
	struct hearth_err err = {0};
	struct endpoint ep =
	    labenv_endpoint("LAB_IMAP_PORT", ENDPOINT_STARTTLS);
	struct credentials cred = {.username = "user1@std.test",
				   .secret = "wrong"};
	struct imap_limits l = limits();

	test_begin("IMAP STARTTLS + LOGIN, capabilities refreshed");
	s = open_as("user1@std.test", LABENV_PASSWORD, ENDPOINT_STARTTLS);
	test_assert(s != NULL);
	if (s != NULL) {
		test_assert(imap_tls(s)->active && imap_tls(s)->verified);
		test_assert(strcmp(imap_auth_mech(s), "LOGIN") == 0);
		/* Dovecot shows MOVE only after login. */
		test_assert(imap_has_capability(s, "MOVE"));
		test_assert(imap_has_capability(s, "UIDPLUS"));
		test_assert(!imap_has_capability(s, "STARTTLS") ||
			    imap_has_capability(s, "IMAP4rev1"));
		imap_close(&s);
		test_assert(s == NULL);
	}
	test_end();

	test_begin("IMAPS (implicit TLS)");
	s = open_as("user1@std.test", LABENV_PASSWORD, ENDPOINT_TLS);
	test_assert(s != NULL && imap_tls(s)->verified);
	test_assert(s != NULL && strlen(imap_tls(s)->fingerprint) == 64);
	imap_close(&s);
	test_end();

	test_begin("a non-ASCII password logs in with AUTHENTICATE PLAIN");
	test_assert(labenv_maillab("add-user %s utf8@std.test "
				   "'p\xc3\xa4ss-w\xc3\xb6rd' >/dev/null",
				   labenv_dir) == 0);
	s = open_as("utf8@std.test", "p\xc3\xa4ss-w\xc3\xb6rd",
		    ENDPOINT_STARTTLS);
	test_assert(s != NULL);
	test_assert(s != NULL && strcmp(imap_auth_mech(s), "PLAIN") == 0);
	imap_close(&s);
	test_end();

	test_begin("wrong password: auth failure");
	test_assert(imap_open(&ep, &cred, &l, &s, &err) == -1);
	test_assert(s == NULL);
	test_assert(err.fail == HEARTH_FAIL_AUTH);
	test_assert(strstr(err.msg, "wrong") == NULL);
	test_end();

	test_begin("system trust store: tls failure before LOGIN");
	ep.ca_file = NULL;
	cred.secret = LABENV_PASSWORD;
	test_assert(imap_open(&ep, &cred, &l, &s, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_TLS);
	test_end();

	test_begin("CR/LF in a password never reaches the wire");
	ep.ca_file = labenv_ca_file();
	cred.secret = "x\r\nA1 LOGOUT";
	test_assert(imap_open(&ep, &cred, &l, &s, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_end();
}

static void test_discovery(void)
{
	static const struct {
		const char *user;
		const char *junk;
		enum imap_discovery how;
		const char *sent;
	} cases[] = {
	    {"user1@std.test", "Junk", IMAP_DISCOVERY_SPECIAL_USE, "Sent"},
	    {"user1@gm.test", "[Gmail]/Spam", IMAP_DISCOVERY_SPECIAL_USE,
	     "[Gmail]/Sent Mail"},
	    {"user1@ms.test", "Junk Email", IMAP_DISCOVERY_SPECIAL_USE,
	     "Sent Items"},
	    {"user1@ya.test", "Bulk", IMAP_DISCOVERY_SPECIAL_USE, "Sent"},
	    {"user1@old.test", "Spam", IMAP_DISCOVERY_NAME, NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct imap_session *s =
		    open_as(cases[i].user, LABENV_PASSWORD, ENDPOINT_STARTTLS);
		struct imap_folders f;
		struct hearth_err err = {0};
		char name[96];

		snprintf(name, sizeof(name), "discover folders of %s",
			 cases[i].user);
		test_begin(name);
		test_assert(s != NULL);
		if (s == NULL) {
			test_end();
			continue;
		}
		test_assert(imap_discover(s, &f, &err) == 0);
		test_assert(f.junk != NULL &&
			    strcmp(f.junk->name, cases[i].junk) == 0);
		test_assert(f.junk_found_by == cases[i].how);
		if (cases[i].sent != NULL)
			test_assert(f.sent != NULL &&
				    strcmp(f.sent->name, cases[i].sent) == 0);
		else
			test_assert(f.sent == NULL);
		imap_folders_clear(&f);
		imap_close(&s);
		test_end();
	}
}

static void test_locate_rescue(void)
{
	struct imap_session *s;
	struct imap_found found;
	struct hearth_err err = {0};
	struct imap_query q = {.token_header = TOKEN_HEADER};
	char token[64], subject[96];
	char *id, *id2;
	uint32_t new_uid = 0;
	bool seen = false, flagged = false;

	snprintf(token, sizeof(token), "t%ld-%d", (long)time(NULL), rand());
	snprintf(subject, sizeof(subject), "Planning for %s", token + 1);
	id = send_msg("user2@cold.test", "user2@std.test", subject, token, NULL,
		      NULL);
	test_begin("a cold message arrives in Junk");
	test_assert(id != NULL && arrived("user2@std.test", "Junk", id));
	test_end();
	if (id == NULL)
		return;
	s = open_as("user2@std.test", LABENV_PASSWORD, ENDPOINT_STARTTLS);
	if (s == NULL)
		return;

	test_begin("locate by token in Junk; absent from INBOX");
	q.token = token;
	test_assert(imap_locate(s, "INBOX", &q, &found, &err) == 0);
	test_assert(imap_locate(s, "Junk", &q, &found, &err) == 1);
	test_assert(found.method == IMAP_LOCATE_TOKEN);
	test_assert(found.uid > 0 && found.uidvalidity > 0);
	test_assert(!found.seen && !found.flagged);
	test_end();

	test_begin("locate by Message-ID (exact, not substring)");
	q.token = "no-such-token";
	q.message_id = id;
	test_assert(imap_locate(s, "Junk", &q, &found, &err) == 1);
	test_assert(found.method == IMAP_LOCATE_MESSAGE_ID);
	{
		/* An id that is a substring of the real one must not match. */
		char partial[256];

		snprintf(partial, sizeof(partial), "%.*s", (int)strlen(id) - 4,
			 id + 1);
		q.message_id = partial;
		test_assert(imap_locate(s, "Junk", &q, &found, &err) == 0);
	}
	test_end();

	test_begin("locate by sender, subject and date window");
	q.token = NULL;
	q.token_header = NULL;
	q.message_id = NULL;
	q.from_addr = "user2@cold.test";
	q.subject = subject;
	q.sent_at = time(NULL);
	q.window_secs = 600;
	test_assert(imap_locate(s, "Junk", &q, &found, &err) == 1);
	test_assert(found.method == IMAP_LOCATE_HEURISTIC);
	q.sent_at = time(NULL) - 7200;
	test_assert(imap_locate(s, "Junk", &q, &found, &err) == 0);
	test_end();

	test_begin("rescue from Junk with UID MOVE; new UID from COPYUID");
	q.token_header = TOKEN_HEADER;
	q.token = token;
	test_assert(imap_locate(s, "Junk", &q, &found, &err) == 1);
	test_assert(imap_move(s, "Junk", found.uid, "INBOX", &new_uid, &err) ==
		    0);
	test_assert(new_uid > 0);
	test_assert(arrived("user2@std.test", "INBOX", id));
	test_assert(imap_locate(s, "Junk", &q, &found, &err) == 0);
	test_end();

	test_begin("\\Seen and \\Flagged set, confirmed from a fresh session");
	test_assert(imap_mark(s, "INBOX", new_uid, true, true, true, &err) ==
		    0);
	imap_close(&s);
	s = open_as("user2@std.test", LABENV_PASSWORD, ENDPOINT_TLS);
	test_assert(s != NULL);
	if (s != NULL) {
		test_assert(imap_flags(s, "INBOX", new_uid, &seen, &flagged,
				       &err) == 1);
		test_assert(seen && flagged);
		test_assert(imap_locate(s, "INBOX", &q, &found, &err) == 1);
		test_assert(found.uid == new_uid && found.seen &&
			    found.flagged);
	}
	test_end();

	test_begin("a reply threads (In-Reply-To, References)");
	id2 = send_msg("user2@std.test", "user2@cold.test", "Re: planning",
		       NULL, NULL, id);
	test_assert(id2 != NULL && arrived("user2@cold.test", "INBOX", id2));
	if (id2 != NULL) {
		char cmd[1024], line[1024];
		bool irt = false, refs = false;
		FILE *p;

		snprintf(cmd, sizeof(cmd),
			 "doveadm -c %s/dovecot/dovecot.conf fetch -u "
			 "user2@cold.test hdr mailbox INBOX header Message-ID "
			 "'%s'",
			 labenv_dir, id2);
		p = popen(cmd, "r");
		while (p != NULL && fgets(line, sizeof(line), p) != NULL) {
			line[strcspn(line, "\r\n")] = '\0';
			if (strncmp(line, "In-Reply-To: ", 13) == 0 &&
			    strcmp(line + 13, id) == 0)
				irt = true;
			if (strncmp(line, "References: ", 12) == 0 &&
			    strstr(line, id) != NULL)
				refs = true;
		}
		if (p != NULL)
			pclose(p);
		test_assert(irt && refs);
	}
	test_end();

	if (s != NULL) {
		uint32_t uid = 0, moved = 0;
		struct imap_query qs = {.message_id = id2};

		test_begin("APPEND to Sent");
		test_assert(imap_append(s, "Sent",
					"From: <user2@std.test>\r\n"
					"Subject: copy\r\n"
					"Message-ID: <sent-1@std.test>"
					"\r\n\r\nbody\r\n",
					strlen("From: <user2@std.test>\r\n"
					       "Subject: copy\r\n"
					       "Message-ID: <sent-1@std.test>"
					       "\r\n\r\nbody\r\n"),
					&uid, &err) == 0);
		test_assert(uid > 0);
		qs.message_id = "<sent-1@std.test>";
		test_assert(imap_locate(s, "Sent", &qs, &found, &err) == 1);
		test_assert(found.uid == uid && found.seen);
		test_end();

		test_begin("retention: move to Archive, delete from Archive");
		test_assert(imap_move(s, "INBOX", new_uid, "Archive", &moved,
				      &err) == 0);
		test_assert(moved > 0);
		test_assert(arrived("user2@std.test", "Archive", id));
		test_assert(imap_delete(s, "Archive", moved, &err) == 0);
		test_assert(labenv_maillab("list %s user2@std.test Archive | "
					   "grep -qF '%s'",
					   labenv_dir, id) != 0);
		test_end();

		test_begin("injection in folder names and ids is refused");
		test_assert(imap_locate(s, "INBOX\r\nA1 LOGOUT", &q, &found,
					&err) == -1);
		test_assert(err.fail == HEARTH_FAIL_PERMANENT);
		qs.message_id = "<a@b>\r\nA2 LOGOUT";
		test_assert(imap_locate(s, "INBOX", &qs, &found, &err) == -1);
		test_assert(err.fail == HEARTH_FAIL_PERMANENT);
		test_assert(imap_move(s, "INBOX", 1, "Junk\nA3 LOGOUT", &moved,
				      &err) == -1);
		/* The session is still healthy after the refusals. */
		qs.message_id = "<sent-1@std.test>";
		test_assert(imap_locate(s, "Sent", &qs, &found, &err) == 1);
		test_end();

		test_begin("a NO to a command is permanent, session survives");
		test_assert(
		    imap_locate(s, "No Such Folder", &q, &found, &err) == -1);
		test_assert(err.fail == HEARTH_FAIL_PERMANENT);
		test_assert(imap_locate(s, "INBOX", &q, &found, &err) == 0);
		test_end();
		imap_close(&s);
	}
	free(id2);
	free(id);
}

int main(int argc, char **argv)
{
	if (argc < 2 || labenv_load(argv[1]) < 0) {
		printf("SKIP: no lab (the lab fixture did not start one)\n");
		return TEST_SKIP;
	}
	srand((unsigned)time(NULL));
	test_login();
	test_discovery();
	test_locate_rescue();
	return test_exit();
}
