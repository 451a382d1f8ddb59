// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hearth/net.h"
#include "hearth/wire.h"
#include "hearth/xalloc.h"
#include "test.h"

static const char secret_value[] = "hunter2-s3cret";

static int pair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
}

/* A message with one field of every kind, and a few edge values. */
static struct wire_msg *sample_msg(void)
{
	static const unsigned char raw[] = {0, 1, 2, 0, 0xff};
	struct wire_msg *msg = wire_msg_new(7);

	wire_put_u64(msg, 1, UINT64_MAX);
	wire_put_i64(msg, 2, INT64_MIN);
	wire_put_str(msg, 3, "hello wire");
	wire_put_bytes(msg, 4, raw, sizeof(raw));
	wire_put_secret(msg, 5, secret_value, strlen(secret_value));
	wire_put_u64(msg, 6, 0);
	wire_put_i64(msg, 7, -1);
	wire_put_str(msg, 8, "");
	wire_put_bytes(msg, 9, NULL, 0);
	return msg;
}

static void check_sample(const struct wire_msg *msg)
{
	static const unsigned char raw[] = {0, 1, 2, 0, 0xff};
	uint64_t u = 1;
	int64_t i = 1;
	const char *s = NULL;
	const void *b = NULL;
	size_t len = 0;

	test_assert(wire_msg_type(msg) == 7);
	test_assert(wire_msg_field_count(msg) == 9);
	test_assert(wire_get_u64(msg, 1, &u) == 1 && u == UINT64_MAX);
	test_assert(wire_get_i64(msg, 2, &i) == 1 && i == INT64_MIN);
	test_assert(wire_get_str(msg, 3, &s) == 1 &&
		    strcmp(s, "hello wire") == 0);
	test_assert(wire_get_bytes(msg, 4, &b, &len) == 1 &&
		    len == sizeof(raw) && memcmp(b, raw, len) == 0);
	test_assert(wire_get_secret(msg, 5, &s, &len) == 1 &&
		    len == strlen(secret_value) &&
		    strcmp(s, secret_value) == 0);
	test_assert(wire_get_u64(msg, 6, &u) == 1 && u == 0);
	test_assert(wire_get_i64(msg, 7, &i) == 1 && i == -1);
	test_assert(wire_get_str(msg, 8, &s) == 1 && strcmp(s, "") == 0);
	test_assert(wire_get_bytes(msg, 9, &b, &len) == 1 && len == 0);
}

static void test_round_trip(void)
{
	struct hearth_err err = {0};
	struct wire_msg *msg = sample_msg();
	struct wire_msg *back = NULL;
	const void *data;
	const void *data2;
	size_t len;
	size_t len2;

	test_begin("wire round trip of every kind");
	check_sample(msg);
	data = wire_msg_data(msg, &len);
	test_assert(wire_msg_parse(data, len, &back, &err) == 0);
	test_assert(back != NULL);
	if (back != NULL) {
		check_sample(back);
		data2 = wire_msg_data(back, &len2);
		test_assert(len2 == len && memcmp(data, data2, len) == 0);
	}
	wire_msg_free(&msg);
	wire_msg_free(&back);
	test_assert(msg == NULL && back == NULL);
	wire_msg_free(&msg);
	test_end();
}

static void test_lookup(void)
{
	struct wire_msg *msg = sample_msg();
	uint64_t u = 42;
	int64_t i = 42;
	const char *s = "unset";
	const void *b = NULL;
	size_t len = 0;

	test_begin("wire lookups: absent 0, wrong kind -1");
	test_assert(wire_get_u64(msg, 100, &u) == 0 && u == 42);
	test_assert(wire_get_u64(msg, 2, &u) == -1 && u == 42);
	test_assert(wire_get_i64(msg, 1, &i) == -1 && i == 42);
	test_assert(wire_get_str(msg, 5, &s) == -1 && strcmp(s, "unset") == 0);
	test_assert(wire_get_str(msg, 4, &s) == -1);
	test_assert(wire_get_bytes(msg, 5, &b, &len) == -1);
	test_assert(wire_get_secret(msg, 3, &s, &len) == -1);
	test_assert(wire_put_u64(msg, 1, 3) == -1);
	test_assert(wire_put_str(msg, 5, "again") == -1);
	test_assert(wire_msg_field_count(msg) == 9);
	check_sample(msg);
	wire_msg_free(&msg);
	test_end();
}

static void test_put_limits(void)
{
	struct wire_msg *msg = wire_msg_new(1);
	unsigned char *big = xcalloc(1, WIRE_BODY_MAX);
	size_t len;
	int ok = 1;

	test_begin("wire put limits: fields and body size");
	for (unsigned i = 0; i < WIRE_FIELDS_MAX; i++)
		ok &= wire_put_u64(msg, (uint16_t)i, i) == 0;
	test_assert(ok);
	test_assert(wire_put_u64(msg, WIRE_FIELDS_MAX, 1) == -1);
	test_assert(wire_msg_field_count(msg) == WIRE_FIELDS_MAX);
	wire_msg_free(&msg);

	msg = wire_msg_new(1);
	test_assert(wire_put_bytes(msg, 1, big, WIRE_BODY_MAX) == -1);
	len = WIRE_BODY_MAX - WIRE_FIELD_HEADER_SIZE;
	test_assert(wire_put_bytes(msg, 1, big, len) == 0);
	wire_msg_data(msg, &len);
	test_assert(len == WIRE_HEADER_SIZE + WIRE_BODY_MAX);
	test_assert(wire_put_u64(msg, 2, 1) == -1);
	test_assert(wire_put_bytes(msg, 3, NULL, 0) == -1);
	wire_msg_free(&msg);
	free(big);
	test_end();
}

static void test_truncation(void)
{
	struct hearth_err err = {0};
	struct wire_msg *msg = sample_msg();
	const unsigned char *data;
	size_t len;
	int all_failed = 1;

	test_begin("wire truncated at every byte offset is an error");
	data = wire_msg_data(msg, &len);
	for (size_t cut = 0; cut < len; cut++) {
		struct wire_msg *back = NULL;
		/* a copy of exactly cut bytes, so ASan sees any overread */
		unsigned char *part = xmalloc(cut + 1);

		memcpy(part, data, cut);
		if (wire_msg_parse(part, cut, &back, &err) != -1 ||
		    back != NULL)
			all_failed = 0;
		wire_msg_free(&back);
		free(part);
	}
	test_assert(all_failed);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	wire_msg_free(&msg);
	test_end();
}

/* Parse bytes; 0 if accepted, -1 if refused, with the refusal in *err. */
static int parse_raw(const unsigned char *data, size_t len,
		     struct hearth_err *err)
{
	struct wire_msg *msg = NULL;
	int ret = wire_msg_parse(data, len, &msg, err);

	wire_msg_free(&msg);
	return ret;
}

static void be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* A header for a body of body_len bytes. */
static void header(unsigned char *p, uint32_t body_len)
{
	be32(p, WIRE_MAGIC);
	p[4] = 0;
	p[5] = WIRE_VERSION;
	p[6] = 0;
	p[7] = 9;
	be32(p + 8, body_len);
}

/* Table-driven: bodies (one field each, or two) and whether they parse. */
static void test_malformed(void)
{
	static const struct {
		const char *name;
		unsigned char body[32];
		size_t len;
		int ok;
	} cases[] = {
		{"empty body", {0}, 0, 1},
		{"u64", {0, 1, 1, 0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8}, 15, 1},
		{"u64 of 4 bytes", {0, 1, 1, 0, 0, 0, 4, 1, 2, 3, 4}, 11, 0},
		{"i64 of 9 bytes",
		 {0, 1, 2, 0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		 16,
		 0},
		{"str", {0, 1, 3, 0, 0, 0, 3, 'h', 'i', 0}, 10, 1},
		{"str without NUL", {0, 1, 3, 0, 0, 0, 2, 'h', 'i'}, 9, 0},
		{"str of length 0", {0, 1, 3, 0, 0, 0, 0}, 7, 0},
		{"str with embedded NUL", {0, 1, 3, 0, 0, 0, 3, 'h', 0, 0}, 10,
		 0},
		{"secret with NUL inside", {0, 1, 5, 0, 0, 0, 3, 'h', 0, 0}, 10,
		 1},
		{"secret without NUL", {0, 1, 5, 0, 0, 0, 2, 'h', 'i'}, 9, 0},
		{"bytes of length 0", {0, 1, 4, 0, 0, 0, 0}, 7, 1},
		{"unknown kind 0", {0, 1, 0, 0, 0, 0, 0}, 7, 0},
		{"unknown kind 6", {0, 1, 6, 0, 0, 0, 0}, 7, 0},
		{"field length past body", {0, 1, 4, 0, 0, 0, 9, 1, 2}, 9, 0},
		{"field length 4G", {0, 1, 4, 0xff, 0xff, 0xff, 0xff, 1}, 8, 0},
		{"truncated field header", {0, 1, 4, 0, 0}, 5, 0},
		{"duplicate tag",
		 {0, 1, 4, 0, 0, 0, 0, 0, 1, 4, 0, 0, 0, 0},
		 14,
		 0},
		{"two tags", {0, 1, 4, 0, 0, 0, 0, 0, 2, 4, 0, 0, 0, 0}, 14, 1},
	};
	unsigned char buf[64];
	struct hearth_err err = {0};

	test_begin("wire malformed bodies (table)");
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		int ret;

		header(buf, (uint32_t)cases[i].len);
		memcpy(buf + WIRE_HEADER_SIZE, cases[i].body, cases[i].len);
		ret = parse_raw(buf, WIRE_HEADER_SIZE + cases[i].len, &err);
		if ((ret == 0) != cases[i].ok) {
			fprintf(stderr, "case \"%s\": %s\n", cases[i].name,
				ret == 0 ? "accepted" : err.msg);
			test_assert(!"malformed case");
		}
	}
	test_end();
}

static void test_bad_header(void)
{
	struct hearth_err err = {0};
	struct wire_msg *msg = sample_msg();
	const void *data;
	unsigned char *copy;
	size_t len;

	test_begin("wire bad magic, version, lengths");
	copy = xmalloc(WIRE_HEADER_SIZE + 1024);
	data = wire_msg_data(msg, &len);
	memcpy(copy, data, len);
	test_assert(len + 1 <= WIRE_HEADER_SIZE + 1024);

	copy[0] ^= 0x20;
	test_assert(parse_raw(copy, len, &err) == -1);
	test_assert(strstr(err.msg, "magic") != NULL);
	copy[0] ^= 0x20;

	copy[5] = WIRE_VERSION + 1;
	test_assert(parse_raw(copy, len, &err) == -1);
	test_assert(strstr(err.msg, "version") != NULL);
	copy[5] = WIRE_VERSION;
	test_assert(parse_raw(copy, len, &err) == 0);

	/* a trailing byte the header does not count */
	copy[len] = 0;
	test_assert(parse_raw(copy, len + 1, &err) == -1);
	test_assert(strstr(err.msg, "overlong") != NULL);

	/* a header claiming a body past the limit */
	be32(copy + 8, WIRE_BODY_MAX + 1);
	test_assert(parse_raw(copy, len, &err) == -1);
	test_assert(err.code == EMSGSIZE);
	be32(copy + 8, UINT32_MAX);
	test_assert(parse_raw(copy, len, &err) == -1);
	test_assert(err.code == EMSGSIZE);

	/* too many fields */
	free(copy);
	copy = xmalloc(WIRE_HEADER_SIZE +
		       (WIRE_FIELDS_MAX + 1) * WIRE_FIELD_HEADER_SIZE);
	header(copy, (WIRE_FIELDS_MAX + 1) * WIRE_FIELD_HEADER_SIZE);
	for (unsigned i = 0; i <= WIRE_FIELDS_MAX; i++) {
		unsigned char *f =
			copy + WIRE_HEADER_SIZE + i * WIRE_FIELD_HEADER_SIZE;

		f[0] = (unsigned char)(i >> 8);
		f[1] = (unsigned char)i;
		f[2] = 4;
		be32(f + 3, 0);
	}
	test_assert(parse_raw(copy,
			      WIRE_HEADER_SIZE + (WIRE_FIELDS_MAX + 1) *
							 WIRE_FIELD_HEADER_SIZE,
			      &err) == -1);
	test_assert(err.code == EMSGSIZE);
	test_assert(parse_raw(copy, WIRE_HEADER_SIZE + 3, &err) == -1);
	free(copy);
	wire_msg_free(&msg);
	test_end();
}

static void test_describe(void)
{
	struct wire_msg *msg = sample_msg();
	char small[24];
	char buf[512];

	test_begin("wire describe never shows a secret");
	wire_msg_describe(msg, buf, sizeof(buf));
	test_assert(strstr(buf, "type=7 ") == buf);
	test_assert(strstr(buf, "5:secret:<secret>") != NULL);
	test_assert(strstr(buf, "3:str:11") != NULL);
	test_assert(strstr(buf, "1:u64:8") != NULL);
	test_assert(strstr(buf, secret_value) == NULL);
	test_assert(strstr(buf, "hunter") == NULL);
	test_assert(strstr(buf, "hello") == NULL);
	test_assert(strchr(buf, ' ') != NULL);
	wire_msg_describe(msg, small, sizeof(small));
	test_assert(strlen(small) < sizeof(small));
	test_assert(strstr(small, "...") != NULL);
	wire_msg_free(&msg);
	msg = wire_msg_new(2);
	test_assert(strcmp(wire_msg_describe(msg, buf, sizeof(buf)),
			   "type=2 bytes=12 fields=-") == 0);
	wire_msg_free(&msg);
	test_end();
}

static void test_reader_bytewise(void)
{
	struct hearth_err err = {0};
	struct wire_msg *a = sample_msg();
	struct wire_msg *b = wire_msg_new(3);
	struct wire_reader *r = wire_reader_new();
	unsigned char *stream;
	const void *data;
	size_t alen;
	size_t blen;
	size_t got_at[2] = {0, 0};
	int got = 0;
	int bad = 0;

	test_begin("wire reader fed one byte at a time");
	wire_put_str(b, 1, "second");
	data = wire_msg_data(a, &alen);
	stream = xmalloc(alen + 64);
	memcpy(stream, data, alen);
	data = wire_msg_data(b, &blen);
	memcpy(stream + alen, data, blen);
	for (size_t i = 0; i < alen + blen; i++) {
		struct wire_msg *msg = NULL;
		int ret;

		if (wire_reader_feed(r, stream + i, 1, &err) < 0)
			bad = 1;
		while ((ret = wire_reader_next(r, &msg, &err)) == 1) {
			if (got < 2)
				got_at[got] = i + 1;
			if (got == 0)
				check_sample(msg);
			got++;
			if (got == 2) {
				const char *s = NULL;

				test_assert(wire_get_str(msg, 1, &s) == 1 &&
					    strcmp(s, "second") == 0);
			}
			wire_msg_free(&msg);
		}
		if (ret < 0)
			bad = 1;
	}
	test_assert(!bad);
	test_assert(got == 2);
	test_assert(got_at[0] == alen && got_at[1] == alen + blen);
	test_assert(wire_reader_pending(r) == 0);
	wire_reader_free(&r);
	test_assert(r == NULL);

	/* both at once, then the same with a bad header behind them */
	r = wire_reader_new();
	test_assert(wire_reader_feed(r, stream, alen + blen, &err) == 0);
	got = 0;
	for (struct wire_msg *msg = NULL;
	     wire_reader_next(r, &msg, &err) == 1; wire_msg_free(&msg))
		got++;
	test_assert(got == 2);
	memcpy(stream + alen + blen, "GARBAGE-BYTES", 13);
	test_assert(wire_reader_feed(r, stream + alen + blen, 13, &err) == -1);
	test_assert(strstr(err.msg, "magic") != NULL);
	test_assert(wire_reader_feed(r, stream, alen, &err) == -1);
	wire_reader_free(&r);
	free(stream);
	wire_msg_free(&a);
	wire_msg_free(&b);
	test_end();
}

static void test_reader_overlong(void)
{
	struct hearth_err err = {0};
	struct wire_reader *r = wire_reader_new();
	struct wire_msg *msg = NULL;
	unsigned char head[WIRE_HEADER_SIZE];

	test_begin("wire reader refuses an overlong header at once");
	header(head, WIRE_BODY_MAX + 1);
	test_assert(wire_reader_feed(r, head, 11, &err) == 0);
	test_assert(wire_reader_next(r, &msg, &err) == 0);
	test_assert(wire_reader_feed(r, head + 11, 1, &err) == -1);
	test_assert(err.code == EMSGSIZE);
	test_assert(wire_reader_next(r, &msg, &err) == -1);
	test_assert(msg == NULL);
	wire_reader_free(&r);

	/* a header with a good length but a body that is not fields */
	r = wire_reader_new();
	header(head, 3);
	test_assert(wire_reader_feed(r, head, sizeof(head), &err) == 0);
	test_assert(wire_reader_feed(r, "abc", 3, &err) == 0);
	test_assert(wire_reader_next(r, &msg, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	wire_reader_free(&r);
	test_end();
}

/* A child that sends back every message it receives, until EOF. */
static pid_t echo_child(int fd, int other)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct hearth_err err = {0};
		struct wire_msg *msg = NULL;

		close(other);
		while (wire_recv(fd, &msg, INT64_MAX, &err) == 1) {
			if (wire_send(fd, msg, INT64_MAX, &err) < 0)
				_exit(1);
			wire_msg_free(&msg);
		}
		_exit(0);
	}
	return pid;
}

static void test_send_recv(void)
{
	struct hearth_err err = {0};
	struct wire_msg *msg;
	struct wire_msg *back = NULL;
	size_t big_len = 1024 * 1024;
	unsigned char *big;
	const void *b = NULL;
	size_t len = 0;
	int status = -1;
	int sv[2];
	pid_t pid;

	test_begin("wire send and recv a large message through a socketpair");
	/* fork first: the child inherits no buffer it would have to free */
	test_assert(pair(sv) == 0);
	pid = echo_child(sv[1], sv[0]);
	close(sv[1]);
	big = xmalloc(big_len);
	for (size_t i = 0; i < big_len; i++)
		big[i] = (unsigned char)(i * 7);
	msg = wire_msg_new(5);
	wire_put_bytes(msg, 1, big, big_len);
	wire_put_secret(msg, 2, secret_value, strlen(secret_value));
	/* non-blocking: partial writes and EAGAIN are the normal case */
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	test_assert(wire_send(sv[0], msg, net_now_msecs() + 3000, &err) == 0);
	test_assert(wire_recv(sv[0], &back, net_now_msecs() + 3000, &err) ==
		    1);
	test_assert(back != NULL);
	if (back != NULL) {
		const char *s = NULL;

		test_assert(wire_get_bytes(back, 1, &b, &len) == 1 &&
			    len == big_len && memcmp(b, big, big_len) == 0);
		test_assert(wire_get_secret(back, 2, &s, &len) == 1 &&
			    strcmp(s, secret_value) == 0);
	}
	close(sv[0]);
	test_assert(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0);
	free(big);
	wire_msg_free(&msg);
	wire_msg_free(&back);
	test_end();
}

static void test_recv_deadline_eof(void)
{
	struct hearth_err err = {0};
	struct wire_msg *msg = NULL;
	struct wire_msg *small = wire_msg_new(1);
	const unsigned char *data;
	int64_t start;
	size_t len;
	int sv[2];

	test_begin("wire recv: deadline, clean EOF, EOF mid-message");
	test_assert(pair(sv) == 0);
	start = net_now_msecs();
	test_assert(wire_recv(sv[0], &msg, start + 50, &err) == -1);
	test_assert(net_now_msecs() - start >= 50);
	test_assert(err.fail == HEARTH_FAIL_RETRY && err.code == ETIMEDOUT);
	test_assert(msg == NULL);

	/* half a message then the end of the stream */
	wire_put_str(small, 1, "abc");
	data = wire_msg_data(small, &len);
	test_assert(write(sv[1], data, len - 2) == (ssize_t)(len - 2));
	shutdown(sv[1], SHUT_WR);
	test_assert(wire_recv(sv[0], &msg, net_now_msecs() + 1000, &err) ==
		    -1);
	test_assert(err.fail == HEARTH_FAIL_RETRY);
	test_assert(strstr(err.msg, "closed") != NULL);
	close(sv[0]);
	close(sv[1]);

	test_assert(pair(sv) == 0);
	close(sv[1]);
	test_assert(wire_recv(sv[0], &msg, net_now_msecs() + 1000, &err) == 0);
	test_assert(msg == NULL);
	/* and sending to a closed peer is a retry, not a SIGPIPE */
	test_assert(wire_send(sv[0], small, net_now_msecs() + 1000, &err) ==
		    -1);
	test_assert(err.fail == HEARTH_FAIL_RETRY && err.code == EPIPE);
	close(sv[0]);
	wire_msg_free(&small);
	test_end();
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void test_recv_eintr(void)
{
	struct sigaction sa = {.sa_handler = on_alarm};
	struct itimerval every = {.it_interval = {.tv_usec = 5000},
				  .it_value = {.tv_usec = 5000}};
	struct itimerval off = {0};
	struct hearth_err err = {0};
	struct wire_msg *msg = wire_msg_new(4);
	struct wire_msg *back = NULL;
	int sv[2];
	pid_t pid;

	test_begin("wire recv rides out EINTR");
	wire_put_str(msg, 1, "late");
	test_assert(pair(sv) == 0);
	pid = fork();
	if (pid == 0) {
		const unsigned char *data;
		size_t len;

		data = wire_msg_data(msg, &len);
		usleep(60 * 1000);
		if (write(sv[1], data, 5) != 5)
			_exit(1);
		usleep(40 * 1000);
		if (write(sv[1], data + 5, len - 5) != (ssize_t)(len - 5))
			_exit(1);
		_exit(0);
	}
	/* no SA_RESTART: poll() and read() return EINTR every 5 ms */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &every, NULL);
	test_assert(wire_recv(sv[0], &back, net_now_msecs() + 3000, &err) ==
		    1);
	setitimer(ITIMER_REAL, &off, NULL);
	/* a tick may still be pending (valgrind delivers signals late): a
	 * default disposition would let it kill the test */
	signal(SIGALRM, SIG_IGN);
	if (back != NULL) {
		const char *s = NULL;

		test_assert(wire_get_str(back, 1, &s) == 1 &&
			    strcmp(s, "late") == 0);
	} else {
		fprintf(stderr, "recv: %s\n", err.msg);
	}
	waitpid(pid, NULL, 0);
	close(sv[0]);
	close(sv[1]);
	wire_msg_free(&msg);
	wire_msg_free(&back);
	test_end();
}

int main(void)
{
	test_round_trip();
	test_lookup();
	test_put_limits();
	test_truncation();
	test_malformed();
	test_bad_header();
	test_describe();
	test_reader_bytewise();
	test_reader_overlong();
	test_send_recv();
	test_recv_deadline_eof();
	test_recv_eintr();
	return test_exit();
}
