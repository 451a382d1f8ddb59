// SPDX-License-Identifier: MIT
#include "hearth/smtp.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "hearth/log.h"
#include "hearth/message.h"
#include "hearth/net.h"
#include "hearth/tls.h"
#include "hearth/xalloc.h"

/* RFC 5321 allows 512 bytes a reply line; be generous, but bounded. */
#define SMTP_LINE_MAX	     2048
#define SMTP_REPLY_LINES_MAX 64
/* All a server may send in one session (replies only: small). */
#define SMTP_MAX_READ_BYTES (1024 * 1024)

struct smtp_session {
	mailstream *s;
	const struct smtp_request *req;
	struct smtp_result *res;
	bool starttls;
	bool auth_plain, auth_login, auth_xoauth2;
	bool any_auth;
	bool in_sync; /* a reply was read whole: QUIT is possible */
};

/* Remember where the session is, for the result and the error text. */
static void smtp_stage(struct smtp_session *ss, const char *stage)
{
	snprintf(ss->res->stage, sizeof(ss->res->stage), "%s", stage);
}

static int smtp_stream_fail(struct smtp_session *ss, struct hearth_err *err)
{
	ss->in_sync = false;
	hearth_err_set(err, HEARTH_FAIL_RETRY, 0, "smtp %s: %s: %s",
		       ss->req->ep->host, ss->res->stage,
		       tls_stream_error(ss->s));
	return -1;
}

/*
 * Read one reply line into buf without its CRLF. 0, or -1 on a stream
 * error, an over-long line or a NUL (a garbled server).
 */
static int smtp_read_line(struct smtp_session *ss, char *buf,
			  struct hearth_err *err)
{
	size_t len = 0;

	ss->in_sync = false;
	for (;;) {
		char c;
		ssize_t n = mailstream_read(ss->s, &c, 1);

		if (n <= 0)
			return smtp_stream_fail(ss, err);
		if (c == '\n')
			break;
		if (c == '\0' || len == SMTP_LINE_MAX - 1) {
			hearth_err_set(err, HEARTH_FAIL_RETRY, 0,
				       "smtp %s: %s: garbled reply "
				       "(%s)",
				       ss->req->ep->host, ss->res->stage,
				       c == '\0' ? "NUL byte"
						 : "line too long");
			return -1;
		}
		buf[len++] = c;
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	return 0;
}

/* A reply line's printable text into res->reply_text (appended). */
static void smtp_keep_text(struct smtp_result *res, const char *text)
{
	size_t o = strlen(res->reply_text);

	if (o > 0 && o + 1 < sizeof(res->reply_text))
		res->reply_text[o++] = ' ';
	for (; *text != '\0' && o + 1 < sizeof(res->reply_text); text++)
		res->reply_text[o++] =
		    isprint((unsigned char)*text) ? *text : '?';
	res->reply_text[o] = '\0';
}

/*
 * Read a whole (multi-line) reply. Returns its code (200-599), or -1 with
 * *err set. With `ehlo`, keyword lines are recorded as capabilities.
 */
static int smtp_read_reply(struct smtp_session *ss, bool ehlo,
			   struct hearth_err *err)
{
	char line[SMTP_LINE_MAX];
	int code = -1;

	ss->res->reply_text[0] = '\0';
	for (int i = 0; i < SMTP_REPLY_LINES_MAX; i++) {
		int c;

		if (smtp_read_line(ss, line, err) < 0)
			return -1;
		if (strlen(line) < 3 || !isdigit((unsigned char)line[0]) ||
		    !isdigit((unsigned char)line[1]) ||
		    !isdigit((unsigned char)line[2]) ||
		    (line[3] != '\0' && line[3] != ' ' && line[3] != '-') ||
		    line[0] < '2' || line[0] > '5') {
			hearth_err_set(err, HEARTH_FAIL_RETRY, 0,
				       "smtp %s: %s: garbled reply",
				       ss->req->ep->host, ss->res->stage);
			return -1;
		}
		c = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
		    (line[2] - '0');
		if (code != -1 && c != code) {
			hearth_err_set(err, HEARTH_FAIL_RETRY, 0,
				       "smtp %s: %s: reply codes disagree",
				       ss->req->ep->host, ss->res->stage);
			return -1;
		}
		code = c;
		smtp_keep_text(ss->res, line[3] != '\0' ? line + 4 : "");
		if (ehlo && i > 0 && line[3] != '\0') {
			const char *kw = line + 4;

			if (strcasecmp(kw, "STARTTLS") == 0)
				ss->starttls = true;
			if (strncasecmp(kw, "AUTH", 4) == 0 &&
			    (kw[4] == ' ' || kw[4] == '=')) {
				char mechs[SMTP_LINE_MAX];
				char *save = NULL;

				snprintf(mechs, sizeof(mechs), "%s", kw + 5);
				for (char *m = strtok_r(mechs, " ", &save);
				     m != NULL;
				     m = strtok_r(NULL, " ", &save)) {
					ss->any_auth = true;
					if (strcasecmp(m, "PLAIN") == 0)
						ss->auth_plain = true;
					else if (strcasecmp(m, "LOGIN") == 0)
						ss->auth_login = true;
					else if (strcasecmp(m, "XOAUTH2") == 0)
						ss->auth_xoauth2 = true;
				}
			}
		}
		if (line[3] != '-') {
			ss->res->reply_code = code;
			ss->in_sync = true;
			return code;
		}
	}
	hearth_err_set(err, HEARTH_FAIL_RETRY, 0,
		       "smtp %s: %s: reply of more than %d lines",
		       ss->req->ep->host, ss->res->stage, SMTP_REPLY_LINES_MAX);
	return -1;
}

static int smtp_write(struct smtp_session *ss, const char *buf, size_t len,
		      struct hearth_err *err)
{
	if (mailstream_write(ss->s, buf, len) != (ssize_t)len ||
	    mailstream_flush(ss->s) != 0)
		return smtp_stream_fail(ss, err);
	return 0;
}

/* Send one command line (CRLF added) and read its reply: code or -1. */
static int smtp_command(struct smtp_session *ss, const char *line,
			struct hearth_err *err)
{
	char buf[SMTP_LINE_MAX];
	int n = snprintf(buf, sizeof(buf), "%s\r\n", line);
	int code;

	if (n < 0 || (size_t)n >= sizeof(buf)) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "smtp %s: %s: command too long",
			       ss->req->ep->host, ss->res->stage);
		return -1;
	}
	code = smtp_write(ss, buf, (size_t)n, err) < 0
		   ? -1
		   : smtp_read_reply(ss, false, err);
	explicit_bzero(buf, sizeof(buf));
	return code;
}

/* A reply that is not what the stage wanted, as a classified error. */
static int smtp_refused(struct smtp_session *ss, int code,
			struct hearth_err *err)
{
	enum hearth_fail fail;

	if (strcmp(ss->res->stage, "auth") == 0 &&
	    (code == 530 || code == 534 || code == 535 || code == 538))
		fail = HEARTH_FAIL_AUTH;
	else if (code == 530 && strcmp(ss->res->stage, "mail") == 0)
		fail = HEARTH_FAIL_AUTH; /* "authentication required" */
	else if (code >= 500)
		fail = HEARTH_FAIL_PERMANENT;
	else
		fail = HEARTH_FAIL_RETRY;
	hearth_err_set(err, fail, code, "smtp %s: %s refused: %d %s",
		       ss->req->ep->host, ss->res->stage, code,
		       ss->res->reply_text);
	return -1;
}

static char *smtp_base64(const void *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/* base64 of the given parts concatenated; the plaintext is wiped. */
static char *smtp_base64_parts(const char *a, size_t alen, const char *b,
			       size_t blen, const char *c, size_t clen)
{
	size_t len = alen + blen + clen;
	char *plain = xmalloc(len + 1);
	char *out;

	memcpy(plain, a, alen);
	memcpy(plain + alen, b, blen);
	memcpy(plain + alen + blen, c, clen);
	out = smtp_base64(plain, len);
	explicit_bzero(plain, len);
	free(plain);
	return out;
}

static int smtp_auth(struct smtp_session *ss, struct hearth_err *err)
{
	const struct credentials *cred = ss->req->cred;
	const char *user = cred->username;
	const char *secret = cred->secret;
	char *b64 = NULL;
	char *line = NULL;
	int code;
	int ret = -1;

	smtp_stage(ss, "auth");
	/* A mechanism asked for by name is used only if offered. */
	if (ss->req->auth_mech != NULL) {
		const char *m = ss->req->auth_mech;

		ss->auth_plain &= strcasecmp(m, "PLAIN") == 0;
		ss->auth_login &= strcasecmp(m, "LOGIN") == 0;
		ss->auth_xoauth2 &= strcasecmp(m, "XOAUTH2") == 0;
		if (!ss->auth_plain && !ss->auth_login && !ss->auth_xoauth2) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
				       "smtp %s: AUTH %s is not offered",
				       ss->req->ep->host, m);
			return -1;
		}
	}
	if (!ss->any_auth) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "smtp %s: the server offers no AUTH",
			       ss->req->ep->host);
		return -1;
	}
	if (cred->oauth2) {
		static const char userp[] = "user=";
		char *part;

		if (!ss->auth_xoauth2) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
				       "smtp %s: the server does not offer "
				       "XOAUTH2 for the token",
				       ss->req->ep->host);
			return -1;
		}
		snprintf(ss->res->auth_mech, sizeof(ss->res->auth_mech),
			 "XOAUTH2");
		part = xasprintf("%s%s\001auth=Bearer ", userp, user);
		b64 = smtp_base64_parts(part, strlen(part), secret,
					strlen(secret), "\001\001", 2);
		explicit_bzero(part, strlen(part));
		free(part);
		line = xasprintf("AUTH XOAUTH2 %s", b64);
		code = smtp_command(ss, line, err);
		if (code == 334) {
			/* The error detail comes as a challenge; an empty
			 * line ends the exchange with the real reply. */
			code = smtp_command(ss, "", err);
		}
	} else if (ss->auth_plain) {
		snprintf(ss->res->auth_mech, sizeof(ss->res->auth_mech),
			 "PLAIN");
		b64 = smtp_base64_parts("", 1, user, strlen(user) + 1, secret,
					strlen(secret));
		line = xasprintf("AUTH PLAIN %s", b64);
		code = smtp_command(ss, line, err);
	} else if (ss->auth_login) {
		snprintf(ss->res->auth_mech, sizeof(ss->res->auth_mech),
			 "LOGIN");
		code = smtp_command(ss, "AUTH LOGIN", err);
		if (code == 334) {
			b64 = smtp_base64(user, strlen(user));
			code = smtp_command(ss, b64, err);
			explicit_bzero(b64, strlen(b64));
			free(b64);
			b64 = NULL;
		}
		if (code == 334) {
			b64 = smtp_base64(secret, strlen(secret));
			code = smtp_command(ss, b64, err);
		}
	} else {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "smtp %s: no AUTH mechanism hearth speaks "
			       "(PLAIN, LOGIN, XOAUTH2) is offered",
			       ss->req->ep->host);
		return -1;
	}
	if (code < 0)
		goto out;
	if (code != 235) {
		smtp_refused(ss, code, err);
		goto out;
	}
	ret = 0;
out:
	if (b64 != NULL) {
		explicit_bzero(b64, strlen(b64));
		free(b64);
	}
	if (line != NULL) {
		explicit_bzero(line, strlen(line));
		free(line);
	}
	return ret;
}

static int smtp_ehlo(struct smtp_session *ss, struct hearth_err *err)
{
	char line[SMTP_LINE_MAX];
	int code;

	smtp_stage(ss, "ehlo");
	ss->starttls = ss->any_auth = false;
	ss->auth_plain = ss->auth_login = ss->auth_xoauth2 = false;
	snprintf(line, sizeof(line), "EHLO %s\r\n", ss->req->ehlo_name);
	if (smtp_write(ss, line, strlen(line), err) < 0)
		return -1;
	code = smtp_read_reply(ss, true, err);
	if (code < 0)
		return -1;
	if (code != 250)
		return smtp_refused(ss, code, err);
	return 0;
}

/* DATA body: dot-stuffed, CRLF line ends, then the final dot. */
static int smtp_data(struct smtp_session *ss, struct hearth_err *err)
{
	const char *p = ss->req->data;
	const char *end = p + ss->req->data_len;
	int code;

	smtp_stage(ss, "data");
	code = smtp_command(ss, "DATA", err);
	if (code < 0)
		return -1;
	if (code != 354)
		return smtp_refused(ss, code, err);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		if (len > 0 && p[len - 1] == '\r')
			len--;
		if ((*p == '.' && mailstream_write(ss->s, ".", 1) != 1) ||
		    mailstream_write(ss->s, p, len) != (ssize_t)len ||
		    mailstream_write(ss->s, "\r\n", 2) != 2)
			return smtp_stream_fail(ss, err);
		p = nl != NULL ? nl + 1 : end;
	}
	if (smtp_write(ss, ".\r\n", 3, err) < 0)
		return -1;
	/* The whole message is out: until a reply comes back whole, the
	 * server may have taken it, and a failure must say so. */
	smtp_stage(ss, "dot");
	code = smtp_read_reply(ss, false, err);
	if (code < 0)
		return -1;
	/* Answered: the outcome is known, and the reply is DATA's. */
	smtp_stage(ss, "data");
	if (code / 100 != 2)
		return smtp_refused(ss, code, err);
	return 0;
}

static bool smtp_request_ok(const struct smtp_request *req, bool sending,
			    struct hearth_err *err)
{
	const char *bad = NULL;

	if (sending && !message_address_ok(req->mail_from))
		bad = "sender address";
	else if (sending && !message_address_ok(req->rcpt_to))
		bad = "recipient address";
	else if (req->ehlo_name == NULL || !message_domain_ok(req->ehlo_name) ||
		 strchr(req->ehlo_name, '.') == NULL)
		bad = "EHLO name (a fully qualified domain name)";
	else if (req->cred != NULL &&
		 (!message_header_value_ok(req->cred->username, 512) ||
		  req->cred->secret == NULL ||
		  !message_header_value_ok(req->cred->secret, 16384)))
		bad = "user name or secret (control characters or too long)";
	else if (sending && memchr(req->data, '\0', req->data_len) != NULL)
		bad = "message (a NUL byte)";
	if (bad == NULL)
		return true;
	hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
		       "smtp: refusing to send: bad %s", bad);
	return false;
}

/* The session: up to AUTH, then the message unless only checking. */
static int smtp_session(const struct smtp_request *req, bool sending,
			struct smtp_result *res, struct hearth_err *err)
{
	struct tls_limits limits = {
	    .op_timeout_msecs = req->op_timeout_msecs,
	    .deadline_msecs = req->deadline_msecs,
	    .max_read_bytes = SMTP_MAX_READ_BYTES,
	};
	struct smtp_session ss = {.req = req, .res = res};
	char line[SMTP_LINE_MAX];
	int code;
	int ret = -1;

	memset(res, 0, sizeof(*res));
	smtp_stage(&ss, "connect");
	if (!smtp_request_ok(req, sending, err))
		return -1;
	ss.s = tls_connect(req->ep, &limits, &res->tls, err);
	if (ss.s == NULL)
		return -1;

	smtp_stage(&ss, "greeting");
	code = smtp_read_reply(&ss, false, err);
	if (code < 0)
		goto out;
	if (code != 220) {
		smtp_refused(&ss, code, err);
		goto out;
	}
	if (smtp_ehlo(&ss, err) < 0)
		goto out;
	if (req->ep->security == ENDPOINT_STARTTLS) {
		smtp_stage(&ss, "starttls");
		if (!ss.starttls) {
			/* Never a downgrade. */
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
				       "smtp %s: STARTTLS is configured but "
				       "the server does not offer it",
				       req->ep->host);
			goto out;
		}
		code = smtp_command(&ss, "STARTTLS", err);
		if (code < 0)
			goto out;
		if (code != 220) {
			smtp_refused(&ss, code, err);
			goto out;
		}
		if (tls_stream_handshake(ss.s, req->ep, &res->tls, err) < 0) {
			ss.in_sync = false;
			goto out;
		}
		/* What the server said before TLS means nothing now. */
		if (smtp_ehlo(&ss, err) < 0)
			goto out;
	}
	if (req->cred != NULL && smtp_auth(&ss, err) < 0)
		goto out;
	if (!sending) {
		ret = 0;
		goto quit;
	}

	smtp_stage(&ss, "mail");
	snprintf(line, sizeof(line), "MAIL FROM:<%s>", req->mail_from);
	code = smtp_command(&ss, line, err);
	if (code < 0)
		goto out;
	if (code != 250) {
		smtp_refused(&ss, code, err);
		goto out;
	}
	smtp_stage(&ss, "rcpt");
	snprintf(line, sizeof(line), "RCPT TO:<%s>", req->rcpt_to);
	code = smtp_command(&ss, line, err);
	if (code < 0)
		goto out;
	if (code != 250 && code != 251) {
		smtp_refused(&ss, code, err);
		goto out;
	}
	if (smtp_data(&ss, err) < 0)
		goto out;
	ret = 0;
quit:
	/* Accepted: QUIT is a courtesy whose failure changes nothing, and
	 * the result keeps the reply to DATA. */
	{
		struct smtp_result keep = *res;
		struct hearth_err ignored;

		smtp_stage(&ss, "quit");
		smtp_command(&ss, "QUIT", &ignored);
		*res = keep;
	}
out:
	if (ret < 0 && ss.in_sync) {
		/* Refused but in step: say goodbye, briefly, keeping the
		 * refusal as the result. */
		struct smtp_result keep = *res;
		struct hearth_err ignored;
		int64_t soon = net_now_msecs() + 1000;

		if (soon < req->deadline_msecs)
			tls_stream_set_deadline(ss.s, soon);
		smtp_command(&ss, "QUIT", &ignored);
		*res = keep;
	}
	mailstream_close(ss.s);
	return ret;
}

int smtp_send(const struct smtp_request *req, struct smtp_result *res,
	      struct hearth_err *err)
{
	return smtp_session(req, true, res, err);
}

int smtp_login_check(const struct smtp_request *req, struct smtp_result *res,
		     struct hearth_err *err)
{
	return smtp_session(req, false, res, err);
}
