// SPDX-License-Identifier: MIT
#include "fake_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "hearth/xalloc.h"

/* Argument tokens: a byte 0..255, or one of these. */
#define TOK_STAR (-1)
#define TOK_TAG  (-2)

#define FAKE_TAG_MAX      64
#define FAKE_NUM_MAX      (16L * 1024 * 1024)
#define FAKE_START_MSECS  10000
#define FAKE_CHUNK        4096

enum fake_op {
	OP_SEND,
	OP_SENDRAW,
	OP_TRICKLE,
	OP_GARBAGE,
	OP_LONGLINE,
	OP_EXPECT,
	OP_EXPECT_TAG,
	OP_READ,
	OP_READ_DATA,
	OP_EXPECT_EOF,
	OP_SLEEP,
	OP_HANG,
	OP_CLOSE,
	OP_ACCEPT,
	OP_TIMEOUT,
	OP_STARTTLS,
	OP_EXPECT_TLS_REFUSED,
};

enum fake_arg { ARG_NONE, ARG_TEXT, ARG_NUM, ARG_NUM_TEXT };

/* needs an open connection */
#define FLAG_CONN 1
/* reads or writes it: runs a pending implicit TLS handshake first */
#define FLAG_IO   2
/* needs a struct fake_tls */
#define FLAG_TLS  4

struct fake_op_def {
	const char *name;
	enum fake_op op;
	enum fake_arg arg;
	int flags;
};

static const struct fake_op_def fake_ops[] = {
	{"send", OP_SEND, ARG_TEXT, FLAG_CONN | FLAG_IO},
	{"sendraw", OP_SENDRAW, ARG_TEXT, FLAG_CONN | FLAG_IO},
	{"trickle", OP_TRICKLE, ARG_NUM_TEXT, FLAG_CONN | FLAG_IO},
	{"garbage", OP_GARBAGE, ARG_NUM, FLAG_CONN | FLAG_IO},
	{"longline", OP_LONGLINE, ARG_NUM, FLAG_CONN | FLAG_IO},
	{"expect", OP_EXPECT, ARG_TEXT, FLAG_CONN | FLAG_IO},
	{"expect_tag", OP_EXPECT_TAG, ARG_TEXT, FLAG_CONN | FLAG_IO},
	{"read", OP_READ, ARG_NONE, FLAG_CONN | FLAG_IO},
	{"read_data", OP_READ_DATA, ARG_NONE, FLAG_CONN | FLAG_IO},
	{"expect_eof", OP_EXPECT_EOF, ARG_NONE, FLAG_CONN | FLAG_IO},
	{"sleep", OP_SLEEP, ARG_NUM, 0},
	{"hang", OP_HANG, ARG_NONE, 0},
	{"close", OP_CLOSE, ARG_NONE, FLAG_CONN},
	{"accept", OP_ACCEPT, ARG_NONE, 0},
	{"timeout", OP_TIMEOUT, ARG_NUM, 0},
	{"starttls", OP_STARTTLS, ARG_NONE, FLAG_CONN | FLAG_TLS},
	{"expect_tls_refused", OP_EXPECT_TLS_REFUSED, ARG_NONE,
	 FLAG_CONN | FLAG_TLS},
};

struct fake_step {
	const struct fake_op_def *def;
	int line;
	long num;
	/* the argument as written, for messages */
	char *text;
	int *tok;
	size_t ntok;
};

struct fake_script {
	struct fake_step *steps;
	size_t nsteps;
	size_t naccepts;
};

/*
 * Shared between the parent and the child (MAP_SHARED): the child fills it,
 * the parent reads it. The pipe's first byte says the port is set; its end
 * says the child has exited and the result is final.
 */
struct fake_shared {
	uint16_t port;
	int line;
	int result;
	bool truncated;
	size_t transcript_len;
	char msg[512];
	char transcript[FAKE_TRANSCRIPT_MAX];
};

struct fake_server {
	pid_t pid;
	int status_fd;
	struct fake_shared *sh;
	struct fake_script script;
	char *snapshot;
};

struct fake_conn {
	int fd;
	SSL *ssl;
	bool tls_pending;
	bool rd_eof;
	bool wr_dead;
	char *buf;
	size_t len;
};

struct fake_child {
	struct fake_shared *sh;
	const struct fake_step *step;
	SSL_CTX *ctx;
	bool implicit;
	int listen_fd;
	size_t conns_left;
	int timeout_msecs;
	int64_t cap_deadline;
	struct fake_conn conn;
	char line[FAKE_LINE_MAX + 1];
	size_t line_len;
	char tag[FAKE_TAG_MAX + 1];
	bool have_tag;
};

static int64_t fake_now_msecs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 ready (or hung up), 0 deadline passed, -1 error. */
static int fake_wait(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};

	for (;;) {
		int64_t left = deadline - fake_now_msecs();
		int ret;

		if (left < 0)
			left = 0;
		ret = poll(&pfd, fd >= 0 ? 1 : 0, (int)left);
		if (ret > 0)
			return 1;
		if (ret == 0 && left == 0)
			return 0;
		if (ret < 0 && errno != EINTR)
			return -1;
	}
}

/* s[0..len) with unprintable bytes as \xHH, cut at about 80 bytes. */
static const char *fake_escape(const char *s, size_t len, char *buf,
			       size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 8 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == 80) {
			o += (size_t)snprintf(buf + o, size - o, "...");
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
	}
	buf[o] = '\0';
	return buf;
}

/* ---- the script ---- */

static void fake_script_free(struct fake_script *script)
{
	for (size_t i = 0; i < script->nsteps; i++) {
		free(script->steps[i].text);
		free(script->steps[i].tok);
	}
	free(script->steps);
	script->steps = NULL;
	script->nsteps = 0;
}

static int fake_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* s[0..len) into tokens; -1 with a message in err. */
static int fake_parse_text(const char *s, size_t len, struct fake_step *st,
			   char *err, size_t errlen)
{
	size_t n = 0;

	st->tok = xreallocarray(NULL, len + 1, sizeof(*st->tok));
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '*') {
			st->tok[n++] = TOK_STAR;
		} else if (s[i] == '$' && len - i >= 4 &&
			   memcmp(s + i, "$TAG", 4) == 0) {
			st->tok[n++] = TOK_TAG;
			i += 3;
		} else if (s[i] != '\\') {
			st->tok[n++] = (unsigned char)s[i];
		} else if (++i == len) {
			snprintf(err, errlen, "a lone \\ at the end");
			return -1;
		} else if (s[i] == 'x') {
			int hi = i + 1 < len ? fake_hex(s[i + 1]) : -1;
			int lo = i + 2 < len ? fake_hex(s[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				snprintf(err, errlen,
					 "\\x needs two hex digits");
				return -1;
			}
			st->tok[n++] = hi * 16 + lo;
			i += 2;
		} else {
			const char *from = "rnt\\*$", *to = "\r\n\t\\*$";
			const char *p = strchr(from, s[i]);

			if (s[i] == '\0' || p == NULL) {
				snprintf(err, errlen, "unknown escape \\%c",
					 s[i]);
				return -1;
			}
			st->tok[n++] = (unsigned char)to[p - from];
		}
	}
	st->ntok = n;
	return 0;
}

/* A decimal 0..max at the start of s; *end_r after it. */
static int fake_parse_num(const char *s, long max, long *num_r,
			  const char **end_r)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || v > max)
		return -1;
	*num_r = v;
	*end_r = end;
	return 0;
}

/* One directive line (without its LF) into *st; -1 with err set. */
static int fake_parse_line(const char *s, size_t len, struct fake_step *st,
			   const struct fake_tls *tls, char *err,
			   size_t errlen)
{
	const struct fake_op_def *def = NULL;
	const char *end = s + len, *arg;
	size_t nlen = 0;

	while (s + nlen < end && s[nlen] != ' ')
		nlen++;
	for (size_t i = 0; i < sizeof(fake_ops) / sizeof(*fake_ops); i++) {
		if (strlen(fake_ops[i].name) == nlen &&
		    memcmp(fake_ops[i].name, s, nlen) == 0)
			def = &fake_ops[i];
	}
	if (def == NULL) {
		snprintf(err, errlen, "unknown directive \"%.*s\"", (int)nlen,
			 s);
		return -1;
	}
	st->def = def;
	arg = s + nlen < end ? s + nlen + 1 : end;
	st->text = xstrndup(arg, (size_t)(end - arg));
	if ((def->flags & FLAG_TLS) && tls == NULL) {
		snprintf(err, errlen, "%s needs a TLS server", def->name);
		return -1;
	}
	if (def->op == OP_STARTTLS && tls->implicit) {
		snprintf(err, errlen, "starttls on an implicit TLS server");
		return -1;
	}
	switch (def->arg) {
	case ARG_NONE:
		if (strspn(s + nlen, " \t") != (size_t)(end - s - nlen)) {
			snprintf(err, errlen, "%s takes no argument",
				 def->name);
			return -1;
		}
		return 0;
	case ARG_TEXT:
		return fake_parse_text(arg, (size_t)(end - arg), st, err,
				       errlen);
	case ARG_NUM:
	case ARG_NUM_TEXT: {
		bool msecs = def->op == OP_SLEEP || def->op == OP_TRICKLE ||
			     def->op == OP_TIMEOUT;
		long max = msecs ? FAKE_SERVER_CAP_MSECS : FAKE_NUM_MAX;
		long min = def->op == OP_TIMEOUT ? 1 : 0;
		const char *p;

		if (fake_parse_num(arg, max, &st->num, &p) < 0 ||
		    st->num < min ||
		    (def->arg == ARG_NUM && p != end) ||
		    (def->arg == ARG_NUM_TEXT && p != end && *p != ' ')) {
			snprintf(err, errlen, "%s needs a number %ld..%ld%s",
				 def->name, min, max,
				 def->arg == ARG_NUM_TEXT ? " then text" : "");
			return -1;
		}
		if (def->arg == ARG_NUM)
			return 0;
		if (p < end)
			p++;
		return fake_parse_text(p, (size_t)(end - p), st, err, errlen);
	}
	}
	return -1;
}

static int fake_script_parse(const char *text, const struct fake_tls *tls,
			     struct fake_script *script)
{
	size_t cap = 0;
	int line = 0;

	memset(script, 0, sizeof(*script));
	for (const char *s = text; *s != '\0';) {
		const char *nl = strchr(s, '\n');
		size_t len = nl != NULL ? (size_t)(nl - s) : strlen(s);
		const char *next = nl != NULL ? nl + 1 : s + len;
		struct fake_step *st;
		char err[160];

		line++;
		while (len > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		if (len > 0 && s[len - 1] == '\r')
			len--;
		if (len == 0 || *s == '#') {
			s = next;
			continue;
		}
		if (script->nsteps == cap) {
			cap = cap ? cap * 2 : 16;
			script->steps = xreallocarray(script->steps, cap,
						      sizeof(*script->steps));
		}
		st = &script->steps[script->nsteps++];
		memset(st, 0, sizeof(*st));
		st->line = line;
		if (fake_parse_line(s, len, st, tls, err, sizeof(err)) < 0) {
			fprintf(stderr, "fake_server: script line %d: %s\n",
				line, err);
			fake_script_free(script);
			return -1;
		}
		if (st->def->op == OP_ACCEPT)
			script->naccepts++;
		s = next;
	}
	return 0;
}

/* ---- the child: connection I/O ---- */

static int __attribute__((format(printf, 2, 3)))
fake_fail(struct fake_child *ch, const char *fmt, ...)
{
	struct fake_shared *sh = ch->sh;
	va_list ap;
	int n = 0;

	if (sh->msg[0] != '\0')
		return -1;
	if (ch->step != NULL)
		n = snprintf(sh->msg, sizeof(sh->msg), "script line %d (%s): ",
			     ch->step->line, ch->step->def->name);
	va_start(ap, fmt);
	vsnprintf(sh->msg + n, sizeof(sh->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int64_t fake_deadline(const struct fake_child *ch, int64_t msecs)
{
	int64_t d = fake_now_msecs() + msecs;

	return d < ch->cap_deadline ? d : ch->cap_deadline;
}

static void fake_record(struct fake_child *ch, const char *data, size_t len)
{
	struct fake_shared *sh = ch->sh;
	size_t have = sh->transcript_len;

	if (len > FAKE_TRANSCRIPT_MAX - have) {
		len = FAKE_TRANSCRIPT_MAX - have;
		sh->truncated = true;
	}
	memcpy(sh->transcript + have, data, len);
	__atomic_store_n(&sh->transcript_len, have + len, __ATOMIC_RELEASE);
}

/*
 * Read what the client sent into the buffer: 1 some bytes, 0 end of stream
 * (a reset or a TLS error counts: the client is gone), -1 deadline. The
 * buffer must have room.
 */
static int fake_fill(struct fake_child *ch, int64_t deadline)
{
	struct fake_conn *c = &ch->conn;
	char *p = c->buf + c->len;
	size_t room = FAKE_LINE_MAX + 2 - c->len;

	if (c->rd_eof)
		return 0;
	if (room == 0)
		return -1;
	for (;;) {
		short events = POLLIN;
		size_t n = 0;
		int ret;

		if (c->ssl != NULL) {
			int r;

			ERR_clear_error();
			r = SSL_read_ex(c->ssl, p, room, &n);
			if (r != 1) {
				int e = SSL_get_error(c->ssl, r);

				if (e == SSL_ERROR_WANT_WRITE)
					events = POLLOUT;
				else if (e != SSL_ERROR_WANT_READ)
					break;
				n = 0;
			}
		} else {
			ssize_t r = recv(c->fd, p, room, 0);

			if (r == 0 || (r < 0 && errno != EAGAIN &&
				       errno != EWOULDBLOCK && errno != EINTR))
				break;
			n = r > 0 ? (size_t)r : 0;
		}
		if (n > 0) {
			fake_record(ch, p, n);
			c->len += n;
			return 1;
		}
		ret = fake_wait(c->fd, events, deadline);
		if (ret == 0)
			return -1;
		if (ret < 0)
			break;
	}
	ERR_clear_error();
	c->rd_eof = true;
	return 0;
}

/* Take in whatever the client sends until it closes or the deadline. */
static void fake_drain(struct fake_child *ch, int64_t deadline)
{
	while (fake_fill(ch, deadline) == 1) {
		if (ch->conn.len > FAKE_LINE_MAX)
			ch->conn.len = 0;
	}
}

/* Wait until the deadline, taking in input; returns early at end of input. */
static void fake_idle(struct fake_child *ch, int64_t deadline)
{
	while (fake_now_msecs() < deadline && !ch->conn.rd_eof) {
		if (ch->conn.len >= FAKE_LINE_MAX + 2) {
			fake_wait(-1, 0, deadline);
			return;
		}
		if (fake_fill(ch, deadline) < 0)
			return;
	}
}

/* 0 written, or dropped because the client is gone; -1 deadline. */
static int fake_write(struct fake_child *ch, const char *data, size_t len)
{
	struct fake_conn *c = &ch->conn;
	int64_t deadline = fake_deadline(ch, ch->timeout_msecs);

	while (len > 0 && !c->wr_dead) {
		short events = POLLOUT;
		size_t n = 0;
		int ret;

		if (c->ssl != NULL) {
			int r;

			ERR_clear_error();
			r = SSL_write_ex(c->ssl, data, len, &n);
			if (r != 1) {
				int e = SSL_get_error(c->ssl, r);

				if (e == SSL_ERROR_WANT_READ)
					events = POLLIN;
				else if (e != SSL_ERROR_WANT_WRITE)
					c->wr_dead = true;
				n = 0;
			}
		} else {
			ssize_t r = send(c->fd, data, len, MSG_NOSIGNAL);

			if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				c->wr_dead = true;
			n = r > 0 ? (size_t)r : 0;
		}
		data += n;
		len -= n;
		if (len == 0 || c->wr_dead)
			break;
		ret = fake_wait(c->fd, events, deadline);
		if (ret == 0)
			return fake_fail(ch, "the client took nothing in "
					     "%d ms (%zu bytes left to send)",
					 ch->timeout_msecs, len);
		if (ret < 0)
			c->wr_dead = true;
	}
	ERR_clear_error();
	return 0;
}

/*
 * The next line into ch->line (without CRLF, NUL-terminated; it may hold
 * NULs: ch->line_len counts them). 0 or -1 after fake_fail().
 */
static int fake_read_line(struct fake_child *ch)
{
	struct fake_conn *c = &ch->conn;
	int64_t deadline = fake_deadline(ch, ch->timeout_msecs);
	char esc[400];

	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		size_t n;

		if (nl != NULL) {
			n = (size_t)(nl - c->buf);
			if (n == 0 || nl[-1] != '\r')
				return fake_fail(ch, "line ends in a bare LF: "
						     "\"%s\"",
						 fake_escape(c->buf, n + 1, esc,
							     sizeof(esc)));
			memcpy(ch->line, c->buf, n - 1);
			ch->line[n - 1] = '\0';
			ch->line_len = n - 1;
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			return 0;
		}
		if (c->len >= FAKE_LINE_MAX + 2)
			return fake_fail(ch, "a line longer than %d bytes",
					 FAKE_LINE_MAX);
		switch (fake_fill(ch, deadline)) {
		case 0:
			if (c->len == 0)
				return fake_fail(ch, "the client closed the "
						     "connection");
			fake_escape(c->buf, c->len, esc, sizeof(esc));
			return fake_fail(ch, "the client closed the "
					     "connection mid-line: \"%s\"",
					 esc);
		case -1:
			return fake_fail(ch, "no line from the client in %d ms",
					 ch->timeout_msecs);
		}
	}
}

/* TLS handshake as server: 0, or -1 with why (the connection is unusable). */
static int fake_handshake(struct fake_child *ch, char *why, size_t whylen)
{
	struct fake_conn *c = &ch->conn;
	int64_t deadline = fake_deadline(ch, ch->timeout_msecs);

	c->tls_pending = false;
	c->ssl = SSL_new(ch->ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		snprintf(why, whylen, "SSL_new failed");
		goto fail;
	}
	for (;;) {
		unsigned long e;
		int r, ret, code;

		ERR_clear_error();
		r = SSL_accept(c->ssl);
		if (r == 1)
			return 0;
		code = SSL_get_error(c->ssl, r);
		if (code == SSL_ERROR_WANT_READ ||
		    code == SSL_ERROR_WANT_WRITE) {
			short events = code == SSL_ERROR_WANT_READ ? POLLIN
								   : POLLOUT;

			ret = fake_wait(c->fd, events, deadline);
			if (ret > 0)
				continue;
			snprintf(why, whylen, "no TLS handshake in %d ms",
				 ch->timeout_msecs);
			goto fail;
		}
		e = ERR_peek_last_error();
		if (e != 0)
			ERR_error_string_n(e, why, whylen);
		else
			snprintf(why, whylen, "the client closed the "
					      "connection in the handshake");
		goto fail;
	}
fail:
	ERR_clear_error();
	SSL_free(c->ssl);
	c->ssl = NULL;
	c->rd_eof = true;
	c->wr_dead = true;
	return -1;
}

/*
 * Close the connection. Clean: close_notify and FIN, then take in what the
 * client still sends until it closes (bounded). Otherwise just take in what
 * has already arrived, for the transcript.
 */
static void fake_close(struct fake_child *ch, bool clean)
{
	struct fake_conn *c = &ch->conn;

	if (c->fd < 0)
		return;
	if (clean) {
		if (c->ssl != NULL && !c->wr_dead) {
			ERR_clear_error();
			(void)SSL_shutdown(c->ssl);
		}
		shutdown(c->fd, SHUT_WR);
		fake_drain(ch, fake_deadline(ch, FAKE_LINGER_MSECS));
	} else {
		fake_drain(ch, fake_now_msecs());
	}
	ERR_clear_error();
	SSL_free(c->ssl);
	c->ssl = NULL;
	close(c->fd);
	c->fd = -1;
	c->len = 0;
	c->tls_pending = false;
}

static int fake_accept(struct fake_child *ch, int64_t deadline)
{
	struct fake_conn *c = &ch->conn;
	int64_t start = fake_now_msecs();
	int fd;

	for (;;) {
		int ret = fake_wait(ch->listen_fd, POLLIN, deadline);

		if (ret == 0)
			return fake_fail(ch, "no connection in %lld ms",
					 (long long)(deadline - start));
		if (ret < 0)
			return fake_fail(ch, "poll: %s", strerror(errno));
		fd = accept4(ch->listen_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			break;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNABORTED)
			return fake_fail(ch, "accept: %s", strerror(errno));
	}
	c->fd = fd;
	c->len = 0;
	c->rd_eof = false;
	c->wr_dead = false;
	c->tls_pending = ch->implicit;
	if (--ch->conns_left == 0) {
		close(ch->listen_fd);
		ch->listen_fd = -1;
	}
	return 0;
}

/* ---- the child: directives ---- */

/* The argument with $TAG replaced, as bytes or TOK_STAR; caller frees. */
static int *fake_expand(struct fake_child *ch, const struct fake_step *st,
			size_t *n_r)
{
	size_t taglen = strlen(ch->tag), n = 0;
	int *out = xreallocarray(NULL, st->ntok * (taglen + 1) + 1,
				 sizeof(*out));

	for (size_t i = 0; i < st->ntok; i++) {
		if (st->tok[i] != TOK_TAG) {
			out[n++] = st->tok[i];
			continue;
		}
		if (!ch->have_tag) {
			free(out);
			fake_fail(ch, "$TAG before any expect_tag");
			return NULL;
		}
		for (size_t j = 0; j < taglen; j++)
			out[n++] = (unsigned char)ch->tag[j];
	}
	*n_r = n;
	return out;
}

static int fake_do_send(struct fake_child *ch, const struct fake_step *st,
			bool crlf)
{
	size_t n;
	int *tok = fake_expand(ch, st, &n);
	char *buf;
	int ret;

	if (tok == NULL)
		return -1;
	buf = xmalloc(n + 2);
	for (size_t i = 0; i < n; i++)
		buf[i] = tok[i] == TOK_STAR ? '*' : (char)tok[i];
	if (crlf) {
		buf[n++] = '\r';
		buf[n++] = '\n';
	}
	free(tok);
	if (st->def->op != OP_TRICKLE) {
		ret = fake_write(ch, buf, n);
		free(buf);
		return ret;
	}
	ret = 0;
	for (size_t i = 0; i < n && ret == 0; i++) {
		if (ch->conn.wr_dead || ch->conn.rd_eof)
			break;
		if (i > 0)
			fake_idle(ch, fake_deadline(ch, st->num));
		if (!ch->conn.rd_eof)
			ret = fake_write(ch, buf + i, 1);
	}
	free(buf);
	return ret;
}

/* Does pat (bytes and TOK_STAR) match the start of s? */
static bool fake_glob_prefix(const int *pat, size_t np, const char *s,
			     size_t ns)
{
	size_t p = 0, i = 0, star_p = SIZE_MAX, star_i = 0;

	while (p < np) {
		if (pat[p] == TOK_STAR) {
			star_p = p++;
			star_i = i;
		} else if (i < ns && (unsigned char)s[i] == pat[p]) {
			p++;
			i++;
		} else if (star_p == SIZE_MAX || star_i >= ns) {
			return false;
		} else {
			p = star_p + 1;
			i = ++star_i;
		}
	}
	return true;
}

static int fake_do_expect(struct fake_child *ch, const struct fake_step *st)
{
	const char *rest;
	size_t restlen, n;
	char esc[400];
	int *pat;
	bool ok;

	if (fake_read_line(ch) < 0)
		return -1;
	rest = ch->line;
	restlen = ch->line_len;
	if (st->def->op == OP_EXPECT_TAG) {
		const char *sp = memchr(ch->line, ' ', ch->line_len);
		size_t taglen = sp != NULL ? (size_t)(sp - ch->line) : 0;

		if (taglen == 0 || taglen > FAKE_TAG_MAX)
			return fake_fail(ch, "no tag in \"%s\"",
					 fake_escape(ch->line, ch->line_len,
						     esc, sizeof(esc)));
		memcpy(ch->tag, ch->line, taglen);
		ch->tag[taglen] = '\0';
		ch->have_tag = true;
		rest = sp + 1;
		restlen = ch->line_len - taglen - 1;
	}
	pat = fake_expand(ch, st, &n);
	if (pat == NULL)
		return -1;
	ok = fake_glob_prefix(pat, n, rest, restlen);
	free(pat);
	if (!ok)
		return fake_fail(ch, "wanted \"%s\", got \"%s\"", st->text,
				 fake_escape(ch->line, ch->line_len, esc,
					     sizeof(esc)));
	return 0;
}

static int fake_do_bulk(struct fake_child *ch, const struct fake_step *st)
{
	/* splitmix64, seeded by the line: the same garbage on every run */
	uint64_t x = 0x9e3779b97f4a7c15ULL * (uint64_t)st->line;
	char buf[FAKE_CHUNK];
	size_t left = (size_t)st->num;

	while (left > 0 && !ch->conn.wr_dead) {
		size_t n = left < sizeof(buf) ? left : sizeof(buf);

		for (size_t i = 0; i < n; i++) {
			uint64_t z;

			if (st->def->op == OP_LONGLINE) {
				buf[i] = 'x';
				continue;
			}
			z = (x += 0x9e3779b97f4a7c15ULL);
			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
			z ^= z >> 31;
			/* one byte in eight a CR or LF */
			if ((z & 0x700) == 0)
				buf[i] = (z & 0x800) ? '\r' : '\n';
			else
				buf[i] = (char)(z & 0xff);
		}
		if (fake_write(ch, buf, n) < 0)
			return -1;
		left -= n;
	}
	if (st->def->op == OP_LONGLINE)
		return fake_write(ch, "\r\n", 2);
	return 0;
}

static int fake_do_expect_eof(struct fake_child *ch)
{
	struct fake_conn *c = &ch->conn;
	char esc[400];
	int ret = 0;

	if (c->len == 0)
		ret = fake_fill(ch, fake_deadline(ch, ch->timeout_msecs));
	if (ret < 0)
		return fake_fail(ch, "the client kept the connection open "
				     "for %d ms",
				 ch->timeout_msecs);
	if (c->len > 0)
		return fake_fail(ch, "the client sent \"%s\" instead of "
				     "closing",
				 fake_escape(c->buf, c->len, esc, sizeof(esc)));
	return 0;
}

static int fake_do_tls(struct fake_child *ch, const struct fake_step *st)
{
	struct fake_conn *c = &ch->conn;
	bool refuse = st->def->op == OP_EXPECT_TLS_REFUSED;
	char why[256], esc[400];
	int ret;

	if (c->ssl != NULL)
		return fake_fail(ch, "the connection is already TLS");
	if (c->len > 0)
		return fake_fail(ch, "the client sent \"%s\" before the "
				     "handshake",
				 fake_escape(c->buf, c->len, esc, sizeof(esc)));
	if (fake_handshake(ch, why, sizeof(why)) < 0) {
		if (!refuse)
			return fake_fail(ch, "TLS handshake failed: %s", why);
		fake_close(ch, false);
		return 0;
	}
	if (!refuse)
		return 0;
	/* verified after the handshake, then refused: fine, if silent */
	ret = fake_fill(ch, fake_deadline(ch, ch->timeout_msecs));
	if (ret > 0)
		return fake_fail(ch, "the client took the certificate and "
				     "sent \"%s\"",
				 fake_escape(c->buf, c->len, esc, sizeof(esc)));
	if (ret < 0)
		return fake_fail(ch, "the client took the certificate and "
				     "kept the connection open");
	fake_close(ch, false);
	return 0;
}

static int fake_step_run(struct fake_child *ch, const struct fake_step *st)
{
	struct fake_conn *c = &ch->conn;
	int flags = st->def->flags;
	char why[256];

	if (st->def->op == OP_HANG && c->fd >= 0)
		flags |= FLAG_CONN | FLAG_IO;
	if ((flags & FLAG_CONN) && c->fd < 0)
		return fake_fail(ch, "no connection (closed before; accept?)");
	if ((flags & FLAG_IO) && c->tls_pending &&
	    fake_handshake(ch, why, sizeof(why)) < 0)
		return fake_fail(ch, "TLS handshake failed: %s", why);

	switch (st->def->op) {
	case OP_SEND:
	case OP_TRICKLE:
		return fake_do_send(ch, st, true);
	case OP_SENDRAW:
		return fake_do_send(ch, st, false);
	case OP_GARBAGE:
	case OP_LONGLINE:
		return fake_do_bulk(ch, st);
	case OP_EXPECT:
	case OP_EXPECT_TAG:
		return fake_do_expect(ch, st);
	case OP_READ:
		return fake_read_line(ch);
	case OP_READ_DATA:
		do {
			if (fake_read_line(ch) < 0)
				return -1;
		} while (ch->line_len != 1 || ch->line[0] != '.');
		return 0;
	case OP_EXPECT_EOF:
		return fake_do_expect_eof(ch);
	case OP_SLEEP:
		if (fake_now_msecs() + st->num > ch->cap_deadline)
			return fake_fail(ch, "past the %d ms time cap",
					 FAKE_SERVER_CAP_MSECS);
		fake_wait(-1, 0, fake_now_msecs() + st->num);
		return 0;
	case OP_HANG:
		if (c->fd >= 0)
			fake_idle(ch, ch->cap_deadline);
		else
			fake_wait(-1, 0, ch->cap_deadline);
		if (fake_now_msecs() >= ch->cap_deadline)
			return fake_fail(ch, "still hanging at the %d ms time "
					     "cap",
					 FAKE_SERVER_CAP_MSECS);
		return 0;
	case OP_CLOSE:
		fake_close(ch, false);
		return 0;
	case OP_ACCEPT:
		fake_close(ch, true);
		return fake_accept(ch, fake_deadline(ch, ch->timeout_msecs));
	case OP_TIMEOUT:
		ch->timeout_msecs = (int)st->num;
		return 0;
	case OP_STARTTLS:
	case OP_EXPECT_TLS_REFUSED:
		return fake_do_tls(ch, st);
	}
	return fake_fail(ch, "unknown directive");
}

/* ---- the child process ---- */

static void fake_close_from(unsigned int lo, unsigned int hi)
{
	if (lo > hi)
		return;
	if (close_range(lo, hi, 0) == 0)
		return;
	for (unsigned int fd = lo; fd <= hi && fd < 4096; fd++)
		close((int)fd);
}

/* Listen, load the certificate: 0, or -1 after fake_fail(). */
static int fake_child_setup(struct fake_child *ch, const struct fake_tls *tls)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	unsigned long e;
	char why[256];

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ch->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ch->listen_fd < 0 ||
	    bind(ch->listen_fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(ch->listen_fd, 8) < 0 ||
	    getsockname(ch->listen_fd, (struct sockaddr *)&sin, &len) < 0)
		return fake_fail(ch, "listen on 127.0.0.1: %s",
				 strerror(errno));
	ch->sh->port = ntohs(sin.sin_port);
	if (tls == NULL)
		return 0;
	ch->implicit = tls->implicit;
	ch->ctx = SSL_CTX_new(TLS_server_method());
	if (ch->ctx == NULL ||
	    SSL_CTX_set_min_proto_version(ch->ctx, TLS1_2_VERSION) != 1)
		goto tls_fail;
	SSL_CTX_set_num_tickets(ch->ctx, 0);
	/* OpenSSL only says "system lib" for a missing file */
	errno = EINVAL;
	if (tls->cert_file == NULL || access(tls->cert_file, R_OK) != 0 ||
	    tls->key_file == NULL || access(tls->key_file, R_OK) != 0) {
		ERR_clear_error();
		return fake_fail(ch, "certificate %s, key %s: %s",
				 tls->cert_file ? tls->cert_file : "(none)",
				 tls->key_file ? tls->key_file : "(none)",
				 strerror(errno));
	}
	if (SSL_CTX_use_certificate_chain_file(ch->ctx, tls->cert_file) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ch->ctx, tls->key_file,
					SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ch->ctx) != 1)
		goto tls_fail;
	return 0;
tls_fail:
	e = ERR_peek_last_error();
	ERR_error_string_n(e, why, sizeof(why));
	ERR_clear_error();
	return fake_fail(ch, "certificate %s, key %s: %s",
			 tls->cert_file ? tls->cert_file : "(none)",
			 tls->key_file ? tls->key_file : "(none)", why);
}

static int fake_child_run(struct fake_child *ch, const struct fake_script *s)
{
	if (fake_accept(ch, ch->cap_deadline) < 0)
		return -1;
	for (size_t i = 0; i < s->nsteps; i++) {
		ch->step = &s->steps[i];
		ch->sh->line = ch->step->line;
		if (fake_step_run(ch, ch->step) < 0)
			return -1;
	}
	ch->step = NULL;
	return 0;
}

static void __attribute__((noreturn))
fake_child_main(struct fake_server *fs, int status_fd, pid_t parent,
		const struct fake_tls *tls)
{
	struct fake_child *ch = xcalloc(1, sizeof(*ch));
	int ret;

	/* die with the test, and never outlive the cap */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	alarm(FAKE_SERVER_CAP_MSECS / 1000 + 5);
	signal(SIGPIPE, SIG_IGN);
	/* the test's other sockets must close when the test closes them */
	fake_close_from(3, (unsigned int)status_fd - 1);
	fake_close_from((unsigned int)status_fd + 1, ~0U);

	ch->sh = fs->sh;
	ch->timeout_msecs = FAKE_TIMEOUT_MSECS;
	ch->cap_deadline = fake_now_msecs() + FAKE_SERVER_CAP_MSECS;
	ch->conns_left = fs->script.naccepts + 1;
	ch->conn.fd = -1;
	ch->conn.buf = xmalloc(FAKE_LINE_MAX + 2);
	ret = fake_child_setup(ch, tls);
	if (ret == 0) {
		if (write(status_fd, "R", 1) != 1)
			ret = -1;
		else
			ret = fake_child_run(ch, &fs->script);
	}
	fake_close(ch, ret == 0);
	ch->sh->result = ret;
	if (ch->listen_fd >= 0)
		close(ch->listen_fd);
	SSL_CTX_free(ch->ctx);
	free(ch->conn.buf);
	free(ch);
	/* the parent's copy, duplicated by fork */
	fake_script_free(&fs->script);
	free(fs->snapshot);
	free(fs);
	/* exit, not _exit: under ASan, LeakSanitizer checks the child too */
	exit(ret == 0 ? 0 : 1);
}

/* ---- the parent ---- */

/* Reap the child, killing it first if kill_it. */
static int fake_reap(struct fake_server *fs, bool kill_it)
{
	int status = 0;

	if (kill_it)
		kill(fs->pid, SIGKILL);
	while (waitpid(fs->pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

static void fake_server_free(struct fake_server *fs)
{
	if (fs->status_fd >= 0)
		close(fs->status_fd);
	if (fs->sh != NULL)
		munmap(fs->sh, sizeof(*fs->sh));
	fake_script_free(&fs->script);
	free(fs->snapshot);
	free(fs);
}

struct fake_server *fake_server_start(const char *script,
				      const struct fake_tls *tls)
{
	struct fake_server *fs = xcalloc(1, sizeof(*fs));
	pid_t parent = getpid();
	int pipefd[2];
	char c;
	int ret;

	fs->status_fd = -1;
	if (fake_script_parse(script, tls, &fs->script) < 0)
		goto fail;
	fs->sh = mmap(NULL, sizeof(*fs->sh), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (fs->sh == MAP_FAILED) {
		fs->sh = NULL;
		fprintf(stderr, "fake_server: mmap: %s\n", strerror(errno));
		goto fail;
	}
	fs->sh->result = -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		fprintf(stderr, "fake_server: pipe: %s\n", strerror(errno));
		goto fail;
	}
	/* or the child's exit() writes the parent's buffered output again */
	fflush(NULL);
	fs->pid = fork();
	if (fs->pid < 0) {
		fprintf(stderr, "fake_server: fork: %s\n", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		goto fail;
	}
	if (fs->pid == 0) {
		close(pipefd[0]);
		fake_child_main(fs, pipefd[1], parent, tls);
	}
	close(pipefd[1]);
	fs->status_fd = pipefd[0];

	ret = fake_wait(fs->status_fd, POLLIN,
			fake_now_msecs() + FAKE_START_MSECS);
	if (ret > 0 && read(fs->status_fd, &c, 1) == 1)
		return fs;
	fake_reap(fs, ret <= 0);
	fprintf(stderr, "fake_server: did not start: %s\n",
		fs->sh->msg[0] != '\0' ? fs->sh->msg : "no word from it");
fail:
	fake_server_free(fs);
	return NULL;
}

uint16_t fake_server_port(const struct fake_server *fs)
{
	return fs->sh->port;
}

const char *fake_server_transcript(struct fake_server *fs, size_t *len_r)
{
	size_t len = __atomic_load_n(&fs->sh->transcript_len, __ATOMIC_ACQUIRE);

	free(fs->snapshot);
	fs->snapshot = xmalloc(len + 1);
	memcpy(fs->snapshot, fs->sh->transcript, len);
	fs->snapshot[len] = '\0';
	if (len_r != NULL)
		*len_r = len;
	return fs->snapshot;
}

int fake_server_finish(struct fake_server **fsp, int timeout_msecs,
		       char **transcript_r)
{
	struct fake_server *fs = *fsp;
	int64_t deadline = fake_now_msecs() + timeout_msecs;
	bool ended = false;
	int status, ret = -1;
	uint16_t port;

	if (transcript_r != NULL)
		*transcript_r = NULL;
	if (fs == NULL)
		return -1;
	*fsp = NULL;
	port = fs->sh->port;
	/* the pipe ends when the child has exited, leak check included */
	while (!ended && fake_wait(fs->status_fd, POLLIN, deadline) > 0) {
		char buf[16];
		ssize_t n = read(fs->status_fd, buf, sizeof(buf));

		ended = n == 0 || (n < 0 && errno != EINTR);
	}
	status = fake_reap(fs, !ended);
	if (!ended)
		fprintf(stderr, "fake_server: port %u: still running after "
				"%d ms, at script line %d: killed\n",
			port, timeout_msecs, fs->sh->line);
	else if (fs->sh->result != 0)
		fprintf(stderr, "fake_server: port %u: %s\n", port,
			fs->sh->msg[0] != '\0' ? fs->sh->msg : "failed");
	else if (WIFSIGNALED(status))
		fprintf(stderr, "fake_server: port %u: died of signal %d\n",
			port, WTERMSIG(status));
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "fake_server: port %u: exit status %d (a leak "
				"report?)\n",
			port, WEXITSTATUS(status));
	else
		ret = 0;
	if (fs->sh->truncated)
		fprintf(stderr, "fake_server: port %u: transcript cut at %d "
				"bytes\n",
			port, FAKE_TRANSCRIPT_MAX);
	if (transcript_r != NULL) {
		fake_server_transcript(fs, NULL);
		*transcript_r = fs->snapshot;
		fs->snapshot = NULL;
	}
	fake_server_free(fs);
	return ret;
}
