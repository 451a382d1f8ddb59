// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "fake_server.h"
#include "hearth/net.h"
#include "test.h"

#define CERTS HEARTH_TEST_CERTS_DIR

/* The client side of a test: a socket, and TLS on it once ssl is set. */
struct client {
	int fd;
	SSL *ssl;
};

static bool client_connect(struct client *c, const struct fake_server *fs)
{
	struct hearth_err err = {0};
	struct timeval tv = {.tv_sec = 5};

	c->ssl = NULL;
	c->fd = net_connect("127.0.0.1", fake_server_port(fs), 2000, &err);
	if (c->fd < 0) {
		fprintf(stderr, "connect: %s\n", err.msg);
		return false;
	}
	/* a broken server must not hang the test */
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return true;
}

static void client_close(struct client *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		ERR_clear_error();
	}
	if (c->fd >= 0)
		close(c->fd);
	c->ssl = NULL;
	c->fd = -1;
}

static bool client_send(struct client *c, const char *s)
{
	size_t len = strlen(s), n;

	if (c->ssl != NULL)
		return SSL_write_ex(c->ssl, s, len, &n) == 1;
	return send(c->fd, s, len, MSG_NOSIGNAL) == (ssize_t)len;
}

/* One byte: 1, 0 at the end of the stream, -1 error or timeout. */
static int client_byte(struct client *c, char *b)
{
	ssize_t n;

	if (c->ssl != NULL) {
		size_t got;
		int r = SSL_read_ex(c->ssl, b, 1, &got), e;

		if (r == 1)
			return 1;
		e = SSL_get_error(c->ssl, r);
		ERR_clear_error();
		return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
	}
	n = recv(c->fd, b, 1, 0);
	return n > 0 ? 1 : n == 0 ? 0 : -1;
}

/* Read a line, CRLF included, and compare it with want. */
static bool client_expect(struct client *c, const char *want)
{
	char buf[512];
	size_t n = 0;

	while (n + 1 < sizeof(buf) && client_byte(c, &buf[n]) == 1) {
		if (buf[n++] == '\n')
			break;
	}
	buf[n] = '\0';
	if (strcmp(buf, want) == 0)
		return true;
	fprintf(stderr, "client: wanted [%s], got [%s]\n", want, buf);
	return false;
}

static bool client_eof(struct client *c)
{
	char b;

	return client_byte(c, &b) == 0;
}

static SSL_CTX *client_ctx(bool verify)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	SSL_CTX_load_verify_locations(ctx, CERTS "/ca.crt", NULL);
	SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
			   NULL);
	/* the `close` directive sends no close_notify */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	return ctx;
}

/*
 * TLS handshake checking host (a name, or an address if ip). Returns the
 * verification result: X509_V_OK with c->ssl set, or the error (-1 for a
 * handshake that failed for another reason).
 */
static long client_tls(struct client *c, SSL_CTX *ctx, const char *host,
		       bool ip)
{
	SSL *ssl = SSL_new(ctx);
	long v;

	SSL_set_fd(ssl, c->fd);
	if (ip) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
	} else {
		SSL_set1_host(ssl, host);
		SSL_set_tlsext_host_name(ssl, host);
	}
	if (SSL_connect(ssl) == 1) {
		c->ssl = ssl;
		return SSL_get_verify_result(ssl);
	}
	v = SSL_get_verify_result(ssl);
	ERR_clear_error();
	SSL_free(ssl);
	return v == X509_V_OK ? -1 : v;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_dialogue(void)
{
	static const char script[] = "# a short SMTP session\n"
				     "send 220 fake.test ESMTP\n"
				     "  expect EHLO \n"
				     "\n"
				     "send 250-fake.test\n"
				     "send 250 PIPELINING\n"
				     "expect QUIT\n"
				     "send 221 bye\n";
	struct fake_server *fs = fake_server_start(script, NULL);
	struct client c = {.fd = -1};
	char *t = NULL;
	size_t len = 0;

	test_begin("fake: greeting, expect, send, transcript");
	test_assert(fs != NULL && fake_server_port(fs) > 0);
	test_assert(client_connect(&c, fs));
	test_assert(client_expect(&c, "220 fake.test ESMTP\r\n"));
	test_assert(client_send(&c, "EHLO client.test\r\n"));
	test_assert(client_expect(&c, "250-fake.test\r\n"));
	test_assert(client_expect(&c, "250 PIPELINING\r\n"));
	test_assert(strcmp(fake_server_transcript(fs, &len),
			   "EHLO client.test\r\n") == 0);
	test_assert(len == 18);
	test_assert(client_send(&c, "QUIT\r\n"));
	test_assert(client_expect(&c, "221 bye\r\n"));
	test_assert(client_eof(&c));
	client_close(&c);
	test_assert(fake_server_finish(&fs, 5000, &t) == 0);
	test_assert(fs == NULL);
	test_assert(t != NULL &&
		    strcmp(t, "EHLO client.test\r\nQUIT\r\n") == 0);
	free(t);
	test_end();
}

static void test_mismatch(void)
{
	struct fake_server *fs = fake_server_start("send 220 hi\n"
						   "expect EHLO \n"
						   "send 250 ok\n",
						   NULL);
	struct client c = {.fd = -1};
	char *t = NULL;

	test_begin("fake: expect mismatch fails finish");
	test_assert(fs != NULL);
	test_assert(client_connect(&c, fs));
	test_assert(client_expect(&c, "220 hi\r\n"));
	test_assert(client_send(&c, "HELO client.test\r\n"));
	test_assert(client_eof(&c));
	client_close(&c);
	test_assert(fake_server_finish(&fs, 5000, &t) == -1);
	test_assert(t != NULL && strcmp(t, "HELO client.test\r\n") == 0);
	free(t);
	test_end();
}

/* One server per case: "expect PATTERN", the client sends LINE. */
static void test_patterns(void)
{
	static const struct {
		const char *pattern;
		const char *line;
		bool match;
	} cases[] = {
		{"EHLO ", "EHLO x", true},
		{"EHLO ", "ehlo x", false},
		{"QUIT", "QUI", false},
		{"", "anything", true},
		{"MAIL FROM:<*@x.org>", "MAIL FROM:<a@x.org> SIZE=3", true},
		{"MAIL FROM:<*@x.org>", "MAIL FROM:<a@x.net>", false},
		{"*x", "abcx", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXcYb", false},
		{"a\\*b", "a*b", true},
		{"a\\*b", "axb", false},
		{"\\x41\\t\\\\", "A\t\\", true},
		{"pay \\$5", "pay $5", true},
	};

	test_begin("fake: expect patterns");
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char script[128], line[128];
		struct fake_server *fs;
		struct client c = {.fd = -1};
		int ret;

		snprintf(script, sizeof(script), "expect %s\nsend ok\n",
			 cases[i].pattern);
		snprintf(line, sizeof(line), "%s\r\n", cases[i].line);
		fs = fake_server_start(script, NULL);
		test_assert(fs != NULL);
		test_assert(client_connect(&c, fs));
		test_assert(client_send(&c, line));
		test_assert(client_expect(&c, cases[i].match ? "ok\r\n" : ""));
		client_close(&c);
		ret = fake_server_finish(&fs, 5000, NULL);
		if (ret != (cases[i].match ? 0 : -1))
			fprintf(stderr, "case %zu: [%s] [%s]: %d\n", i,
				cases[i].pattern, cases[i].line, ret);
		test_assert(ret == (cases[i].match ? 0 : -1));
	}
	test_end();
}

static void test_imap_tags(void)
{
	static const char script[] = "send * OK ready\n"
				     "expect_tag LOGIN \"*\" *\n"
				     "send $TAG OK logged in\n"
				     "expect_tag SELECT INBOX\n"
				     "send \\* 3 EXISTS\n"
				     "sendraw $TAG OK done\\r\\n\\$TAG\\r\\n\n";
	struct fake_server *fs = fake_server_start(script, NULL);
	struct client c = {.fd = -1};

	test_begin("fake: expect_tag and $TAG");
	test_assert(fs != NULL);
	test_assert(client_connect(&c, fs));
	test_assert(client_expect(&c, "* OK ready\r\n"));
	test_assert(client_send(&c, "a1 LOGIN \"me\" secret\r\n"));
	test_assert(client_expect(&c, "a1 OK logged in\r\n"));
	test_assert(client_send(&c, "xyz.2 SELECT INBOX\r\n"));
	test_assert(client_expect(&c, "* 3 EXISTS\r\n"));
	test_assert(client_expect(&c, "xyz.2 OK done\r\n"));
	test_assert(client_expect(&c, "$TAG\r\n"));
	test_assert(client_eof(&c));
	client_close(&c);
	test_assert(fake_server_finish(&fs, 5000, NULL) == 0);

	/* $TAG before any expect_tag is a failure at run time */
	fs = fake_server_start("send $TAG OK\n", NULL);
	test_assert(fs != NULL);
	test_assert(client_connect(&c, fs));
	test_assert(client_eof(&c));
	client_close(&c);
	test_assert(fake_server_finish(&fs, 5000, NULL) == -1);
	test_end();
}

static void test_data(void)
{
	static const char script[] = "send 220 hi\n"
				     "expect DATA\n"
				     "send 354 go ahead\n"
				     "read_data\n"
				     "send 250 queued\n"
				     "expect DATA\n"
				     "send 354 go ahead\n"
				     "read\n"
				     "close\n";
	struct fake_server *fs = fake_server_start(script, NULL);
	struct client c = {.fd = -1};
	char *t = NULL;

	test_begin("fake: read_data, close mid-DATA");
	test_assert(fs != NULL);
	test_assert(client_connect(&c, fs));
	test_assert(client_expect(&c, "220 hi\r\n"));
	test_assert(client_send(&c, "DATA\r\n"));
	test_assert(client_expect(&c, "354 go ahead\r\n"));
	test_assert(client_send(&c, "Subject: x\r\n\r\n..dots\r\n.\r\n"));
	test_assert(client_expect(&c, "250 queued\r\n"));
	test_assert(client_send(&c, "DATA\r\n"));
	test_assert(client_expect(&c, "354 go ahead\r\n"));
	test_assert(client_send(&c, "Subject: y\r\n"));
	test_assert(client_eof(&c));
	client_close(&c);
	test_assert(fake_server_finish(&fs, 5000, &t) == 0);
	test_assert(t != NULL &&
		    strcmp(t, "DATA\r\nSubject: x\r\n\r\n..dots\r\n.\r\n"
			      "DATA\r\nSubject: y\r\n") == 0);
	free(t);
	test_end();
}

static void test_trickle(void)
{
	struct fake_server *fs = fake_server_start("trickle 50 abc\n", NULL);
	struct client c = {.fd = -1};
	int64_t start, msecs;
	char *t = NULL, b;

	test_begin("fake: trickle sends a byte every MSECS");
	test_assert(fs != NULL);
	test_assert(client_connect(&c, fs));
	start = net_now_msecs();
	test_assert(client_expect(&c, "abc\r\n"));
	msecs = net_now_msecs() - start;
	/* five bytes, four gaps */
	test_assert(msecs >= 190 && msecs < 3000);
	test_assert(client_eof(&c));
	client_close(&c);
	test_assert(fake_server_finish(&fs, 5000, NULL) == 0);

	/* a client that gives up ends the trickle early */
	fs = fake_server_start("trickle 100 220 a slow greeting\n", NULL);
	test_assert(fs != NULL);
	test_assert(client_connect(&c, fs));
	test_assert(client_byte(&c, &b) == 1 && b == '2');
	test_assert(client_byte(&c, &b) == 1 && b == '2');
	client_close(&c);
	start = net_now_msecs();
	test_assert(fake_server_finish(&fs, 5000, &t) == 0);
	test_assert(net_now_msecs() - start < 1000);
	test_assert(t != NULL && t[0] == '\0');
	free(t);
	test_end();
}

static void test_hang(void)
{
	struct fake_server *fs = fake_server_start("send 220 hi\nhang\n", NULL);
	struct client c = {.fd = -1};
	char *t = NULL;
	int64_t start, msecs;

	test_begin("fake: hang, killed by finish's timeout");
	test_assert(fs != NULL);
	test_assert(client_connect(&c, fs));
	test_assert(client_expect(&c, "220 hi\r\n"));
	start = net_now_msecs();
	test_assert(fake_server_finish(&fs, 200, NULL) == -1);
	msecs = net_now_msecs() - start;
	test_assert(msecs >= 200 && msecs < 2000);
	test_assert(fs == NULL);
	test_assert(client_eof(&c));
	client_close(&c);

	/* or ended by the client closing, recording what it sent */
	fs = fake_server_start("hang\n", NULL);
	test_assert(fs != NULL);
	test_assert(client_connect(&c, fs));
	test_assert(client_send(&c, "NOOP\r\n"));
	client_close(&c);
	test_assert(fake_server_finish(&fs, 5000, &t) == 0);
	test_assert(t != NULL && strcmp(t, "NOOP\r\n") == 0);
	free(t);
	test_end();
}

static void test_garbage(void)
{
	struct fake_server *fs =
		fake_server_start("garbage 1000\nlongline 3000\n", NULL);
	struct client c = {.fd = -1};
	static char buf[8192];
	size_t n = 0, crlf = 0, x = 0;
	ssize_t r;

	test_begin("fake: garbage and longline");
	test_assert(fs != NULL);
	test_assert(client_connect(&c, fs));
	while (n < sizeof(buf) &&
	       (r = recv(c.fd, buf + n, sizeof(buf) - n, 0)) > 0)
		n += (size_t)r;
	test_assert(n == 1000 + 3002);
	for (size_t i = 0; i < 1000; i++)
		crlf += buf[i] == '\r' || buf[i] == '\n';
	for (size_t i = 1000; i < 4000; i++)
		x += buf[i] == 'x';
	test_assert(crlf > 20 && crlf < 1000);
	test_assert(x == 3000);
	test_assert(memcmp(buf + 4000, "\r\n", 2) == 0);
	client_close(&c);
	test_assert(fake_server_finish(&fs, 5000, NULL) == 0);
	test_end();
}

static void test_accept(void)
{
	static const char script[] = "send 421 try later\n"
				     "close\n"
				     "accept\n"
				     "send 220 ok\n"
				     "expect QUIT\n"
				     "send 221 bye\n";
	struct fake_server *fs = fake_server_start(script, NULL);
	struct client c = {.fd = -1}, c2 = {.fd = -1};
	struct hearth_err err = {0};

	test_begin("fake: accept a second connection, refuse a third");
	test_assert(fs != NULL);
	test_assert(client_connect(&c, fs));
	test_assert(client_expect(&c, "421 try later\r\n"));
	test_assert(client_eof(&c));
	client_close(&c);
	test_assert(client_connect(&c2, fs));
	test_assert(client_expect(&c2, "220 ok\r\n"));
	test_assert(net_connect("127.0.0.1", fake_server_port(fs), 2000,
				&err) == -1);
	test_assert(err.fail == HEARTH_FAIL_RETRY);
	test_assert(client_send(&c2, "QUIT\r\n"));
	test_assert(client_expect(&c2, "221 bye\r\n"));
	test_assert(client_eof(&c2));
	client_close(&c2);
	test_assert(fake_server_finish(&fs, 5000, NULL) == 0);
	test_end();
}

static void test_client_faults(void)
{
	static char big[70000];
	struct fake_server *fs;
	struct client c = {.fd = -1};

	test_begin("fake: expect_eof, bare LF, over-long line");
	fs = fake_server_start("send 221 bye\nexpect_eof\n", NULL);
	test_assert(fs != NULL);
	test_assert(client_connect(&c, fs));
	test_assert(client_expect(&c, "221 bye\r\n"));
	client_close(&c);
	test_assert(fake_server_finish(&fs, 5000, NULL) == 0);

	fs = fake_server_start("send 221 bye\nexpect_eof\n", NULL);
	test_assert(fs != NULL);
	test_assert(client_connect(&c, fs));
	test_assert(client_expect(&c, "221 bye\r\n"));
	test_assert(client_send(&c, "QUIT\r\n"));
	test_assert(client_eof(&c));
	client_close(&c);
	test_assert(fake_server_finish(&fs, 5000, NULL) == -1);

	fs = fake_server_start("expect A\n", NULL);
	test_assert(fs != NULL);
	test_assert(client_connect(&c, fs));
	test_assert(client_send(&c, "A\n"));
	test_assert(client_eof(&c));
	client_close(&c);
	test_assert(fake_server_finish(&fs, 5000, NULL) == -1);

	memset(big, 'y', sizeof(big) - 1);
	fs = fake_server_start("read\n", NULL);
	test_assert(fs != NULL);
	test_assert(client_connect(&c, fs));
	(void)client_send(&c, big);
	client_close(&c);
	test_assert(fake_server_finish(&fs, 5000, NULL) == -1);
	test_end();
}

static void test_script_errors(void)
{
	static const char *const bad[] = {
		"bogus\n",	  "send \\q\n",	       "send \\x4\n",
		"send a\\",	  "sleep\n",	       "sleep 1x\n",
		"sleep -1\n",	  "hang now\n",	       "starttls\n",
		"timeout 0\n",	  "garbage 99999999999\n",
		"expect_tls_refused\n", "trickle x abc\n",
	};
	struct fake_tls implicit = {CERTS "/good.crt", CERTS "/good.key",
				    true};
	struct fake_tls missing = {CERTS "/none.crt", CERTS "/none.key",
				   false};
	struct fake_server *fs;
	struct client c = {.fd = -1};

	test_begin("fake: script errors refused at start");
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		fs = fake_server_start(bad[i], NULL);
		if (fs != NULL)
			fprintf(stderr, "case %zu started: %s\n", i, bad[i]);
		test_assert(fs == NULL);
	}
	test_assert(fake_server_start("starttls\n", &implicit) == NULL);
	test_assert(fake_server_start("send x\n", &missing) == NULL);
	/* comments, blanks, CRLF line ends, trailing blanks: all fine */
	fs = fake_server_start("# c\n\n  \t# c\r\nhang \r\n  send a  ", NULL);
	test_assert(fs != NULL);
	test_assert(client_connect(&c, fs));
	client_close(&c);
	test_assert(fake_server_finish(&fs, 5000, NULL) == 0);
	test_assert(fake_server_finish(&fs, 5000, NULL) == -1);
	test_end();
}

static void test_tls_implicit(void)
{
	struct fake_tls tls = {CERTS "/good.crt", CERTS "/good.key", true};
	struct fake_server *fs = fake_server_start("send * OK IMAPS\n"
						   "expect_tag LOGIN \n"
						   "send $TAG OK done\n",
						   &tls);
	SSL_CTX *ctx = client_ctx(true);
	struct client c = {.fd = -1};
	char *t = NULL;

	test_begin("fake: implicit TLS, certificate verified");
	test_assert(fs != NULL);
	test_assert(client_connect(&c, fs));
	test_assert(client_tls(&c, ctx, "localhost", false) == X509_V_OK);
	test_assert(c.ssl != NULL);
	test_assert(client_expect(&c, "* OK IMAPS\r\n"));
	test_assert(client_send(&c, "a1 LOGIN me secret\r\n"));
	test_assert(client_expect(&c, "a1 OK done\r\n"));
	test_assert(client_eof(&c));
	client_close(&c);
	test_assert(fake_server_finish(&fs, 5000, &t) == 0);
	test_assert(t != NULL && strcmp(t, "a1 LOGIN me secret\r\n") == 0);
	free(t);
	SSL_CTX_free(ctx);
	test_end();
}

static void test_starttls(void)
{
	static const char script[] = "send 220 hi\n"
				     "expect EHLO \n"
				     "send 250 STARTTLS\n"
				     "expect STARTTLS\n"
				     "send 220 go ahead\n"
				     "starttls\n"
				     "expect EHLO \n"
				     "send 250 ok\n";
	struct fake_tls tls = {CERTS "/good.crt", CERTS "/good.key", false};
	struct fake_server *fs = fake_server_start(script, &tls);
	SSL_CTX *ctx = client_ctx(true);
	struct client c = {.fd = -1};
	char *t = NULL;

	test_begin("fake: STARTTLS, certificate verified by address");
	test_assert(fs != NULL);
	test_assert(client_connect(&c, fs));
	test_assert(client_expect(&c, "220 hi\r\n"));
	test_assert(client_send(&c, "EHLO c\r\n"));
	test_assert(client_expect(&c, "250 STARTTLS\r\n"));
	test_assert(client_send(&c, "STARTTLS\r\n"));
	test_assert(client_expect(&c, "220 go ahead\r\n"));
	test_assert(client_tls(&c, ctx, "127.0.0.1", true) == X509_V_OK);
	test_assert(client_send(&c, "EHLO again\r\n"));
	test_assert(client_expect(&c, "250 ok\r\n"));
	test_assert(client_eof(&c));
	client_close(&c);
	test_assert(fake_server_finish(&fs, 5000, &t) == 0);
	test_assert(t != NULL &&
		    strcmp(t, "EHLO c\r\nSTARTTLS\r\nEHLO again\r\n") == 0);
	free(t);
	SSL_CTX_free(ctx);
	test_end();
}

static void test_bad_certs(void)
{
	static const struct {
		const char *name;
		bool implicit;
		long verify;
	} cases[] = {
		{"wrongname", true, X509_V_ERR_HOSTNAME_MISMATCH},
		{"expired", true, X509_V_ERR_CERT_HAS_EXPIRED},
		{"selfsigned", true, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT},
		{"wrongname", false, X509_V_ERR_HOSTNAME_MISMATCH},
	};
	SSL_CTX *ctx = client_ctx(true);

	test_begin("fake: wrong name, expired, self-signed refused");
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char crt[256], key[256];
		struct fake_tls tls = {crt, key, cases[i].implicit};
		struct fake_server *fs;
		struct client c = {.fd = -1};
		long v;

		snprintf(crt, sizeof(crt), "%s/%s.crt", CERTS, cases[i].name);
		snprintf(key, sizeof(key), "%s/%s.key", CERTS, cases[i].name);
		fs = fake_server_start(cases[i].implicit
					       ? "expect_tls_refused\n"
					       : "send 220 hi\n"
						 "expect STARTTLS\n"
						 "send 220 go ahead\n"
						 "expect_tls_refused\n",
				       &tls);
		test_assert(fs != NULL);
		test_assert(client_connect(&c, fs));
		if (!cases[i].implicit) {
			test_assert(client_expect(&c, "220 hi\r\n"));
			test_assert(client_send(&c, "STARTTLS\r\n"));
			test_assert(client_expect(&c, "220 go ahead\r\n"));
		}
		v = client_tls(&c, ctx, "localhost", false);
		if (v != cases[i].verify)
			fprintf(stderr, "case %zu: %s: verify %ld (%s)\n", i,
				cases[i].name, v,
				X509_verify_cert_error_string(v));
		test_assert(v == cases[i].verify);
		test_assert(c.ssl == NULL);
		client_close(&c);
		test_assert(fake_server_finish(&fs, 5000, NULL) == 0);
	}
	SSL_CTX_free(ctx);
	test_end();
}

static void test_tls_not_refused(void)
{
	struct fake_tls tls = {CERTS "/expired.crt", CERTS "/expired.key",
			       true};
	struct fake_server *fs = fake_server_start("expect_tls_refused\n",
						   &tls);
	SSL_CTX *ctx = client_ctx(false);
	struct client c = {.fd = -1};
	char *t = NULL;

	test_begin("fake: expect_tls_refused fails if the client goes on");
	test_assert(fs != NULL);
	test_assert(client_connect(&c, fs));
	test_assert(client_tls(&c, ctx, "localhost", false) ==
		    X509_V_ERR_CERT_HAS_EXPIRED);
	test_assert(c.ssl != NULL);
	test_assert(client_send(&c, "a1 LOGIN me secret\r\n"));
	test_assert(client_eof(&c));
	client_close(&c);
	test_assert(fake_server_finish(&fs, 5000, &t) == -1);
	test_assert(t != NULL && strstr(t, "secret") != NULL);
	free(t);
	SSL_CTX_free(ctx);
	test_end();
}

int main(void)
{
	int fds = count_fds();

	if (access(CERTS "/ca.crt", R_OK) != 0)
		fprintf(stderr, "no test certificates in %s: the TLS tests "
				"will fail (build target hearth_test_certs)\n",
			CERTS);
	test_dialogue();
	test_mismatch();
	test_patterns();
	test_imap_tags();
	test_data();
	test_trickle();
	test_hang();
	test_garbage();
	test_accept();
	test_client_faults();
	test_script_errors();
	test_tls_implicit();
	test_starttls();
	test_bad_certs();
	test_tls_not_refused();

	test_begin("fake: no descriptors or children left over");
	test_assert(count_fds() == fds);
	test_assert(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);
	test_end();
	return test_exit();
}
