/* SPDX-License-Identifier: MIT */
/*
 * smtp: send one message over one SMTP session. EHLO with the configured
 * name, STARTTLS or implicit TLS (verified, see tls.h), AUTH PLAIN, LOGIN or
 * XOAUTH2 chosen from what the server offers, MAIL, RCPT, DATA, QUIT.
 *
 * Written over libetpan's buffered mailstream and hearth's TLS driver rather
 * than libetpan's mailsmtp: that one sends gethostname() in EHLO, routes
 * AUTH PLAIN/LOGIN through Cyrus SASL, and formats MAIL/RCPT into a fixed
 * buffer unchecked.
 *
 * Failure classes: HEARTH_FAIL_RETRY (refused, timeout, deadline, 421 and
 * other 4xx, a garbled reply), HEARTH_FAIL_PERMANENT (5xx, STARTTLS not
 * offered, no usable AUTH, a value that would inject a command),
 * HEARTH_FAIL_AUTH (530, 534, 535, 538 during or right after AUTH),
 * HEARTH_FAIL_TLS (verification failed).
 */
#ifndef HEARTH_SMTP_H
#define HEARTH_SMTP_H

#include <stddef.h>
#include <stdint.h>

#include "hearth/endpoint.h"
#include "hearth/err.h"

struct smtp_request {
	const struct endpoint *ep;
	const struct credentials *cred; /* NULL: no AUTH (inbound port) */
	const char *auth_mech;		/* NULL: the best offered; or
					   "PLAIN", "LOGIN", "XOAUTH2" */
	const char *ehlo_name;		/* a fully qualified domain name */
	const char *mail_from;		/* envelope sender */
	const char *rcpt_to;		/* one recipient */
	const char *data;		/* the message, CRLF line ends, */
	size_t data_len;		/* not dot-stuffed (done here) */
	int op_timeout_msecs;		/* each wait for the server */
	int64_t deadline_msecs;		/* the whole session, monotonic */
};

struct smtp_result {
	int reply_code;	      /* the last reply: 250 after DATA on success */
	char reply_text[512]; /* its text, lines joined by a space */
	/* where it ended: connect, greeting, ehlo, starttls, auth, mail,
	 * rcpt, data (also on success: the reply is DATA's), or dot: the
	 * final dot was sent and no full reply came back, so the server may
	 * have accepted the message */
	char stage[12];
	char auth_mech[12];   /* PLAIN, LOGIN, XOAUTH2 or empty */
	struct tls_info tls;
};

/*
 * Send req->data from req->mail_from to req->rcpt_to. Returns 0 when the
 * server accepted the message (its final reply to DATA was 2xx; a failing
 * QUIT after that does not matter), else -1 with *err set. *res is filled
 * either way. No secret ever reaches res, err or a log line.
 */
int smtp_send(const struct smtp_request *req, struct smtp_result *res,
	      struct hearth_err *err);

/*
 * The same session up to AUTH, then QUIT: checks that the endpoint, TLS and
 * credentials work without sending anything (enrollment, health checks).
 * req->mail_from, rcpt_to and data are not used.
 */
int smtp_login_check(const struct smtp_request *req, struct smtp_result *res,
		     struct hearth_err *err);

#endif
