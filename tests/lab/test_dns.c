// SPDX-License-Identifier: MIT
/*
 * dns: name checks and options without a server; then a scripted fake server
 * (SERVFAIL, negative answers with and without SOA, a broken answer, TTLs),
 * a server that never answers, and a real dnsmasq started here on 127.0.0.1
 * at a free port, serving local data only. Nothing leaves 127.0.0.1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dnsmasq.h"
#include "hearth/dns.h"
#include "hearth/net.h"
#include "test.h"

/* The cache clock of the tests that expire entries. */
static int64_t fake_now_msecs = 1000000;

static int64_t fake_clock(void)
{
	return fake_now_msecs;
}

static int64_t now_usecs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct dns *dns_at(uint16_t port, int timeout_msecs, int cache_entries,
			  bool fake)
{
	char servers[32];
	struct dns_options opts = {
	    .servers = servers,
	    .timeout_msecs = timeout_msecs,
	    .cache_entries = cache_entries,
	    .cache_clock_msecs = fake ? fake_clock : NULL,
	};
	struct hearth_err err = {0};
	struct dns *dns = NULL;

	snprintf(servers, sizeof(servers), "127.0.0.1:%u", port);
	if (dns_new(&opts, &dns, &err) < 0)
		fprintf(stderr, "dns_new: %s\n", err.msg);
	return dns;
}

static uint64_t queries(const struct dns *dns)
{
	struct dns_stats st;

	dns_stats(dns, &st);
	return st.queries;
}

static uint64_t cache_hits(const struct dns *dns)
{
	struct dns_stats st;

	dns_stats(dns, &st);
	return st.cache_hits;
}

/* --- without a server ---------------------------------------------------- */

static void test_options(void)
{
	static const char *const bad[] = {
	    "",
	    ",",
	    "nonsense",
	    "127.0.0.1:0",
	    "127.0.0.1:65536",
	    "127.0.0.1:53x",
	    "127.0.0.1:",
	    "127.0.0.1:-1",
	    "127.0.0.1:53,",
	    "[::1",
	    "[::1]53",
	    "::1",
	    "dns.example:53",
	    ("1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,"
	     "1.1.1.8,1.1.1.9"),
	};
	static const char *const good[] = {
	    "127.0.0.1:5353",
	    "127.0.0.1",
	    "[::1]:53,127.0.0.1:53531",
	    "[::1]",
	};
	struct hearth_err err = {0};
	struct dns *dns = NULL;

	test_begin("dns_new checks the server list and timeout");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dns_options opts = {.servers = bad[i]};

		err = (struct hearth_err){0};
		if (dns_new(&opts, &dns, &err) != -1 ||
		    err.fail != HEARTH_FAIL_PERMANENT) {
			fprintf(stderr, "accepted servers \"%s\"\n", bad[i]);
			test_assert(0);
		}
		test_assert(dns == NULL);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct dns_options opts = {.servers = good[i]};

		if (dns_new(&opts, &dns, &err) != 0) {
			fprintf(stderr, "refused servers \"%s\": %s\n", good[i],
				err.msg);
			test_assert(0);
		}
		dns_free(&dns);
		test_assert(dns == NULL);
	}
	/* The system's configuration: read, never queried here. */
	test_assert(dns_new(NULL, &dns, &err) == 0);
	dns_free(&dns);
	test_assert(dns_new(&(struct dns_options){.cache_entries = -1}, &dns,
			    &err) == 0);
	dns_free(&dns);
	test_assert(dns_new(&(struct dns_options){.timeout_msecs = -1}, &dns,
			    &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	dns_free(&dns);
	dns_mx_free(&(struct dns_mx *){NULL}, 3);
	dns_txt_free(&(char **){NULL}, 3);
	dns_a_free(&(char **){NULL}, 3);
	test_end();
}

static void test_malformed_names(void)
{
	char long_name[301];
	char long_label[80];
	const char *const bad[] = {
	    "a..b",
	    ".a",
	    "a.b..",
	    "",
	    ".",
	    "..",
	    long_name,
	    long_label,
	    "a b.test",
	    "exa\x01mple.test",
	    "\xc3\xbcmlaut.test",
	    "a/b.test",
	    "a.test\n",
	    "*.test",
	};
	struct hearth_err err = {0};
	uint16_t port;
	int silent = udp_any(&port);
	/* A server that would never answer: a query would take 2 s. */
	struct dns *dns = dns_at(port, 2000, 0, false);

	test_begin("malformed names are permanent, before any query");
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	for (size_t i = 63; i < sizeof(long_name) - 1; i += 64)
		long_name[i] = '.';
	snprintf(long_label, sizeof(long_label), "%064d.test", 0);
	test_assert(silent >= 0 && dns != NULL);
	for (size_t i = 0; dns != NULL && i < sizeof(bad) / sizeof(bad[0]);
	     i++) {
		int64_t start = net_now_msecs();
		struct dns_mx *mx = (struct dns_mx *)&err;
		char **v = (char **)&err;
		size_t n = 99;
		bool nx = true;

		err = (struct hearth_err){0};
		test_assert(dns_mx(dns, bad[i], &mx, &n, &nx, &err) == -1);
		test_assert(err.fail == HEARTH_FAIL_PERMANENT);
		test_assert(strstr(err.msg, "malformed name") != NULL);
		test_assert(mx == NULL && n == 0 && !nx);
		err = (struct hearth_err){0};
		test_assert(dns_txt(dns, bad[i], &v, &n, NULL, &err) == -1);
		test_assert(err.fail == HEARTH_FAIL_PERMANENT);
		test_assert(v == NULL && n == 0);
		v = (char **)&err;
		err = (struct hearth_err){0};
		test_assert(dns_a(dns, bad[i], &v, &n, NULL, &err) == -1);
		test_assert(err.fail == HEARTH_FAIL_PERMANENT);
		test_assert(v == NULL && n == 0);
		test_assert(net_now_msecs() - start < 100);
	}
	if (dns != NULL)
		test_assert(queries(dns) == 0);
	dns_free(&dns);
	if (silent >= 0)
		close(silent);
	test_end();
}

/* --- a scripted fake server ---------------------------------------------- */

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* Append a resource record named by a pointer to the question's name. */
static void fake_rr(unsigned char *r, size_t *len, unsigned type, uint32_t ttl,
		    const void *rdata, size_t rdlen)
{
	unsigned char *p = r + *len;

	put16(p, 0xc00c);
	put16(p + 2, type);
	put16(p + 4, 1);
	put32(p + 6, ttl);
	put16(p + 10, (unsigned)rdlen);
	memcpy(p + 12, rdata, rdlen);
	*len += 12 + rdlen;
}

static void fake_soa(unsigned char *r, size_t *len, uint32_t ttl,
		     uint32_t minimum)
{
	/* MNAME and RNAME the root, then serial refresh retry expire min. */
	unsigned char soa[22] = {0};

	put32(soa + 2, 1);
	put32(soa + 6, 3600);
	put32(soa + 10, 600);
	put32(soa + 14, 86400);
	put32(soa + 18, minimum);
	fake_rr(r, len, 6, ttl, soa, sizeof(soa));
}

/* Answer one query according to its name; 0 bytes: no answer at all. */
static size_t fake_answer(const unsigned char *q, size_t qlen, unsigned char *r)
{
	size_t off = 12, len;
	char name[256];
	size_t nl = 0;
	unsigned char *counts = r + 6; /* an, ns, ar */

	if (qlen < 12)
		return 0;
	while (off < qlen && q[off] != 0) {
		size_t l = q[off];

		if (l > 63 || off + 1 + l > qlen || nl + l + 1 >= sizeof(name))
			return 0;
		if (nl > 0)
			name[nl++] = '.';
		memcpy(name + nl, q + off + 1, l);
		nl += l;
		off += 1 + l;
	}
	name[nl] = '\0';
	off += 5;
	if (off > qlen)
		return 0;
	memcpy(r, q, off);
	r[2] = (unsigned char)(0x84 | (q[2] & 0x01)); /* QR AA, RD echoed */
	r[3] = 0x80;				      /* RA, NOERROR */
	memset(counts, 0, 6);
	len = off;
	if (strcmp(name, "servfail.fake") == 0) {
		r[3] |= 2;
	} else if (strcmp(name, "neg.fake") == 0) {
		r[3] |= 3;
		fake_soa(r, &len, 600, 120);
		put16(counts + 2, 1);
	} else if (strcmp(name, "nodata.fake") == 0) {
		fake_soa(r, &len, 30, 300);
		put16(counts + 2, 1);
	} else if (strcmp(name, "garbage.fake") == 0) {
		/* One answer announced, half of one sent. */
		put16(counts, 1);
		memcpy(r + len, "\xc0\x0c\x00\x0f\x00", 5);
		len += 5;
	} else if (strcmp(name, "ttl0.fake") == 0) {
		fake_rr(r, &len, 15, 0,
			"\x00\x05\x02mx\x04"
			"fake\x00",
			11);
		put16(counts, 1);
	} else if (strcmp(name, "short.fake") == 0) {
		fake_rr(r, &len, 1, 5, "\x7f\x00\x00\x02", 4);
		fake_rr(r, &len, 1, 9, "\x7f\x00\x00\x04", 4);
		put16(counts, 2);
	} else if (strcmp(name, "mxnull.fake") == 0) {
		fake_rr(r, &len, 15, 300, "\x00\x00\x00", 3);
		put16(counts, 1);
	} else if (strcmp(name, "nul.fake") == 0) {
		fake_rr(r, &len, 16, 300,
			"\x03"
			"a\x00"
			"b\x01x",
			6);
		fake_rr(r, &len, 16, 300, "\x02ok\x01!", 5);
		put16(counts, 2);
	} else if (strcmp(name, "silent.fake") == 0) {
		return 0;
	} else {
		/* NXDOMAIN without an SOA: not to be cached. */
		r[3] |= 3;
	}
	return len;
}

static void fake_serve(int fd)
{
	for (;;) {
		unsigned char q[512], r[1024];
		struct sockaddr_in from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(fd, q, sizeof(q), 0,
				     (struct sockaddr *)&from, &fromlen);
		size_t len;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			_exit(1);
		len = fake_answer(q, (size_t)n, r);
		if (len > 0)
			sendto(fd, r, len, 0, (struct sockaddr *)&from,
			       fromlen);
	}
}

static pid_t fake_start(uint16_t *port_r)
{
	int fd = udp_any(port_r);
	pid_t pid;

	if (fd < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		/* Do not outlive a test that crashed. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fake_serve(fd);
	}
	close(fd);
	return pid;
}

static void test_fake_failures(uint16_t port)
{
	struct hearth_err err = {0};
	struct dns *dns = dns_at(port, 2000, 0, true);
	struct dns_mx *mx = NULL;
	char **v = NULL;
	size_t n = 0;
	int64_t start;

	test_begin("SERVFAIL and a broken answer are retry");
	test_assert(dns != NULL);
	start = net_now_msecs();
	test_assert(dns_mx(dns, "servfail.fake", &mx, &n, NULL, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_RETRY);
	test_assert(strstr(err.msg, "servfail.fake") != NULL);
	test_assert(mx == NULL && n == 0);
	test_assert(net_now_msecs() - start < 1000);
	err = (struct hearth_err){0};
	test_assert(dns_txt(dns, "garbage.fake", &v, &n, NULL, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_RETRY);
	test_assert(v == NULL && n == 0);
	/* Failures are not cached. */
	test_assert(dns_mx(dns, "servfail.fake", &mx, &n, NULL, &err) == -1);
	test_assert(cache_hits(dns) == 0);
	dns_free(&dns);
	test_end();
}

static void test_fake_negative(uint16_t port)
{
	struct hearth_err err = {0};
	struct dns *dns = dns_at(port, 2000, 0, true);
	char **v = NULL;
	size_t n = 0;
	bool nx = false;

	test_begin("negative answers are cached for their SOA's TTL");
	test_assert(dns != NULL);
	test_assert(dns_a(dns, "neg.fake", &v, &n, &nx, &err) == 0);
	test_assert(nx && v == NULL && n == 0);
	nx = false;
	fake_now_msecs += 119000;
	test_assert(dns_a(dns, "NEG.fake.", &v, &n, &nx, &err) == 0);
	test_assert(nx);
	test_assert(queries(dns) == 1 && cache_hits(dns) == 1);
	/* min(TTL 600, MINIMUM 120) */
	fake_now_msecs += 1000;
	test_assert(dns_a(dns, "neg.fake", &v, &n, &nx, &err) == 0);
	test_assert(queries(dns) == 2);

	test_assert(dns_txt(dns, "nodata.fake", &v, &n, &nx, &err) == 0);
	test_assert(!nx && v == NULL && n == 0);
	fake_now_msecs += 29000;
	nx = true;
	test_assert(dns_txt(dns, "nodata.fake", &v, &n, &nx, &err) == 0);
	test_assert(!nx && queries(dns) == 3);
	fake_now_msecs += 1000;
	test_assert(dns_txt(dns, "nodata.fake", &v, &n, &nx, &err) == 0);
	test_assert(queries(dns) == 4);

	/* Without an SOA: not cached (RFC 2308 5). */
	test_assert(dns_txt(dns, "bare-nx.fake", &v, &n, &nx, &err) == 0);
	test_assert(nx);
	test_assert(dns_txt(dns, "bare-nx.fake", &v, &n, &nx, &err) == 0);
	test_assert(nx && queries(dns) == 6);
	/* The type is part of the key. */
	test_assert(dns_mx(dns, "neg.fake", &(struct dns_mx *){NULL}, &n, &nx,
			   &err) == 0);
	test_assert(nx && queries(dns) == 7);
	dns_free(&dns);
	test_end();
}

static void test_fake_positive(uint16_t port)
{
	struct hearth_err err = {0};
	struct dns *dns = dns_at(port, 2000, 0, true);
	struct dns_mx *mx = NULL;
	char **v = NULL;
	size_t n = 0;
	char name[260];

	test_begin("positive answers: smallest TTL, TTL 0, null MX, NUL");
	test_assert(dns != NULL);
	test_assert(dns_a(dns, "short.fake", &v, &n, NULL, &err) == 1);
	test_assert(n == 2 && strcmp(v[0], "127.0.0.2") == 0 &&
		    strcmp(v[1], "127.0.0.4") == 0);
	dns_a_free(&v, n);
	test_assert(v == NULL);
	fake_now_msecs += 4999;
	test_assert(dns_a(dns, "short.fake", &v, &n, NULL, &err) == 1);
	dns_a_free(&v, n);
	test_assert(queries(dns) == 1);
	fake_now_msecs += 1;
	test_assert(dns_a(dns, "short.fake", &v, &n, NULL, &err) == 1);
	dns_a_free(&v, n);
	test_assert(queries(dns) == 2);

	test_assert(dns_mx(dns, "ttl0.fake", &mx, &n, NULL, &err) == 1);
	test_assert(n == 1 && strcmp(mx[0].host, "mx.fake") == 0 &&
		    mx[0].preference == 5);
	dns_mx_free(&mx, n);
	test_assert(mx == NULL);
	test_assert(dns_mx(dns, "ttl0.fake", &mx, &n, NULL, &err) == 1);
	dns_mx_free(&mx, n);
	test_assert(queries(dns) == 4);

	test_assert(dns_mx(dns, "mxnull.fake", &mx, &n, NULL, &err) == 1);
	test_assert(n == 1 && strcmp(mx[0].host, "") == 0 &&
		    mx[0].preference == 0);
	dns_mx_free(&mx, n);

	test_assert(dns_txt(dns, "nul.fake", &v, &n, NULL, &err) == 1);
	test_assert(n == 1 && strcmp(v[0], "ok!") == 0);
	dns_txt_free(&v, n);

	/* 253 bytes is a name, 254 is not. */
	memset(name, 'b', 253);
	for (size_t i = 63; i < 253; i += 64)
		name[i] = '.';
	name[253] = '\0';
	test_assert(dns_a(dns, name, &v, &n, NULL, &err) == 0);
	name[253] = '.';
	name[254] = '\0';
	test_assert(dns_a(dns, name, &v, &n, NULL, &err) == 0);
	name[253] = 'b';
	test_assert(dns_a(dns, name, &v, &n, NULL, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	dns_free(&dns);
	test_end();
}

static void test_fake_cache_cap(uint16_t port)
{
	struct hearth_err err = {0};
	struct dns *dns = dns_at(port, 2000, 2, true);
	struct dns_stats st;
	char **v = NULL;
	size_t n = 0;

	test_begin("the cache is capped and drops the least recently used");
	test_assert(dns != NULL);
	test_assert(dns_a(dns, "neg.fake", &v, &n, NULL, &err) == 0);
	test_assert(dns_a(dns, "short.fake", &v, &n, NULL, &err) == 1);
	dns_a_free(&v, n);
	test_assert(dns_a(dns, "neg.fake", &v, &n, NULL, &err) == 0);
	test_assert(queries(dns) == 2);
	/* short.fake is the least recently used now. */
	test_assert(dns_txt(dns, "nodata.fake", &v, &n, NULL, &err) == 0);
	dns_stats(dns, &st);
	test_assert(st.cache_entries == 2);
	test_assert(dns_a(dns, "neg.fake", &v, &n, NULL, &err) == 0);
	test_assert(queries(dns) == 3);
	test_assert(dns_a(dns, "short.fake", &v, &n, NULL, &err) == 1);
	dns_a_free(&v, n);
	test_assert(queries(dns) == 4);
	dns_cache_clear(dns);
	dns_stats(dns, &st);
	test_assert(st.cache_entries == 0 && st.lookups == 6);
	dns_free(&dns);

	dns = dns_at(port, 2000, -1, true);
	test_assert(dns_a(dns, "neg.fake", &v, &n, NULL, &err) == 0);
	test_assert(dns_a(dns, "neg.fake", &v, &n, NULL, &err) == 0);
	test_assert(queries(dns) == 2);
	dns_free(&dns);
	test_end();
}

static void test_silent_server(void)
{
	struct hearth_err err = {0};
	uint16_t port;
	int fd = udp_any(&port);
	struct dns *dns = dns_at(port, 600, 0, false);
	struct dns_mx *mx = NULL;
	size_t n = 0;
	int64_t start, took;

	test_begin("a server that never answers is retry in time");
	test_assert(fd >= 0 && dns != NULL);
	start = net_now_msecs();
	test_assert(dns_mx(dns, "example.test", &mx, &n, NULL, &err) == -1);
	took = net_now_msecs() - start;
	test_assert(err.fail == HEARTH_FAIL_RETRY);
	test_assert(took >= 500);
	test_assert(took <= 600 + test_slack_msecs());
	printf("# silent server: retry after %lld ms (timeout 600): %s\n",
	       (long long)took, err.msg);
	/* And again: the channel is usable after a cancelled query. */
	start = net_now_msecs();
	test_assert(dns_mx(dns, "example.test", &mx, &n, NULL, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_RETRY);
	test_assert(net_now_msecs() - start <= 600 + test_slack_msecs());
	dns_free(&dns);
	if (fd >= 0)
		close(fd);
	test_end();
}

/* --- a real dnsmasq ------------------------------------------------------ */

#define SPF_PART1                                                              \
	"v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 ip4:203.0.113.0/24 "      \
	"ip6:2001:db8::/32 ip6:2001:db8:1::/48 ip6:2001:db8:2::/48 "           \
	"ip6:2001:db8:3::/48 include:_spf.one.test include:_spf.two.test "     \
	"include:_spf.three.test "
#define SPF_PART2                                                              \
	"include:_spf.four.test include:_spf.five.test "                       \
	"include:_spf.six.test include:_spf.seven.test a:relay1.two.test "     \
	"a:relay2.two.test a:relay3.two.test a:relay4.two.test "               \
	"a:relay5.two.test mx:two.test exists:%{i}._spf.two.test "
#define SPF_PART3                                                              \
	"ip4:192.0.2.128/25 ip4:198.51.100.128/25 ip4:203.0.113.128/25 "       \
	"ip4:192.0.2.64/26 ip4:198.51.100.64/26 ip4:203.0.113.64/26 "          \
	"ip4:192.0.2.32/27 ip4:198.51.100.32/27 ip4:203.0.113.32/27 "          \
	"redirect=_spf.two.test ~all"

/* The zones: local data only, everything else under .test is NXDOMAIN. */
static const char *const dnsmasq_data[] = {
	    "--local=/test/",
	    "--local-ttl=300",
	    "--mx-host=two.test,mx2.two.test,20",
	    "--mx-host=two.test,MX1.Two.test,10",
	    "--mx-host=two.test,b.two.test,10",
	    "--host-record=nomx.test,192.0.2.1",
	    "--host-record=a.test,192.0.2.10",
	    "--host-record=a.test,192.0.2.11",
	    "--host-record=2.0.0.127.bl.test,127.0.0.2",
	    "--txt-record=spf.test," SPF_PART1 "," SPF_PART2 "," SPF_PART3,
	    "--txt-record=multi.test,first",
	    "--txt-record=multi.test,second",
	    "--txt-record=_dmarc.two.test,v=DMARC1; p=none",
};

static bool has(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i], s) == 0)
			return true;
	}
	return false;
}

static void test_dnsmasq_answers(struct dns *dns)
{
	struct hearth_err err = {0};
	struct dns_mx *mx = NULL;
	char **v = NULL;
	size_t n = 0;
	bool nx = true;
	int64_t t0, t1, t2;
	const int hits = 1000;

	test_begin("dnsmasq: MX sorted, none, unknown domain");
	t0 = now_usecs();
	test_assert(dns_mx(dns, "two.test", &mx, &n, &nx, &err) == 1);
	t1 = now_usecs();
	test_assert(n == 3 && !nx);
	if (n == 3) {
		test_assert(strcmp(mx[0].host, "b.two.test") == 0);
		test_assert(mx[0].preference == 10);
		test_assert(strcmp(mx[1].host, "mx1.two.test") == 0);
		test_assert(mx[1].preference == 10);
		test_assert(strcmp(mx[2].host, "mx2.two.test") == 0);
		test_assert(mx[2].preference == 20);
	}
	dns_mx_free(&mx, n);
	for (int i = 0; i < hits; i++) {
		test_assert(dns_mx(dns, "Two.Test.", &mx, &n, &nx, &err) == 1);
		dns_mx_free(&mx, n);
	}
	t2 = now_usecs();
	test_assert(cache_hits(dns) == (uint64_t)hits);
	printf("# figures: MX lookup from dnsmasq %lld us, cache hit %.2f us\n",
	       (long long)(t1 - t0), (double)(t2 - t1) / hits);
	nx = true;
	test_assert(dns_mx(dns, "nomx.test", &mx, &n, &nx, &err) == 0);
	test_assert(!nx && mx == NULL && n == 0);
	test_assert(dns_mx(dns, "unknown.test", &mx, &n, &nx, &err) == 0);
	test_assert(nx && mx == NULL && n == 0);
	test_assert(dns_mx(dns, "unknown.test", &mx, &n, NULL, &err) == 0);
	test_end();

	test_begin("dnsmasq: TXT of several strings, several records");
	test_assert(dns_txt(dns, "spf.test", &v, &n, &nx, &err) == 1);
	test_assert(n == 1 && !nx);
	if (n == 1) {
		test_assert(strcmp(v[0], SPF_PART1 SPF_PART2 SPF_PART3) == 0);
		test_assert(strlen(v[0]) > 512);
	}
	dns_txt_free(&v, n);
	test_assert(dns_txt(dns, "multi.test", &v, &n, &nx, &err) == 1);
	test_assert(n == 2 && has(v, n, "first") && has(v, n, "second"));
	dns_txt_free(&v, n);
	test_assert(dns_txt(dns, "_dmarc.two.test", &v, &n, &nx, &err) == 1);
	test_assert(n == 1 && strcmp(v[0], "v=DMARC1; p=none") == 0);
	dns_txt_free(&v, n);
	test_assert(dns_txt(dns, "nomx.test", &v, &n, &nx, &err) == 0);
	test_assert(!nx);
	test_assert(dns_txt(dns, "_dmarc.unknown.test", &v, &n, &nx, &err) ==
		    0);
	test_assert(nx);
	test_end();

	test_begin("dnsmasq: A records");
	test_assert(dns_a(dns, "a.test", &v, &n, &nx, &err) == 1);
	test_assert(n == 2 && has(v, n, "192.0.2.10") &&
		    has(v, n, "192.0.2.11"));
	dns_a_free(&v, n);
	test_assert(dns_a(dns, "2.0.0.127.bl.test", &v, &n, &nx, &err) == 1);
	test_assert(n == 1 && strcmp(v[0], "127.0.0.2") == 0);
	dns_a_free(&v, n);
	test_assert(dns_a(dns, "3.0.0.127.bl.test", &v, &n, &nx, &err) == 0);
	test_assert(nx);
	test_end();
}

static void test_dnsmasq_stopped(struct dns *dns, int timeout_msecs)
{
	struct hearth_err err = {0};
	struct dns_mx *mx = NULL;
	char **v = NULL;
	size_t n = 0;
	int64_t start, took;

	test_begin("dnsmasq stopped: cached answers stay, others retry");
	test_assert(dns_mx(dns, "two.test", &mx, &n, NULL, &err) == 1);
	test_assert(n == 3);
	dns_mx_free(&mx, n);
	test_assert(dns_txt(dns, "spf.test", &v, &n, NULL, &err) == 1);
	dns_txt_free(&v, n);
	test_assert(dns_a(dns, "a.test", &v, &n, NULL, &err) == 1);
	test_assert(n == 2);
	dns_a_free(&v, n);
	start = net_now_msecs();
	test_assert(dns_a(dns, "late.test", &v, &n, NULL, &err) == -1);
	took = net_now_msecs() - start;
	test_assert(err.fail == HEARTH_FAIL_RETRY);
	test_assert(took <= timeout_msecs + test_slack_msecs());
	printf("# stopped server: retry after %lld ms: %s\n", (long long)took,
	       err.msg);
	test_end();
}

static void test_dnsmasq(void)
{
	const int timeout_msecs = 1000;
	struct dns *dns = NULL;
	uint16_t port = 0;
	pid_t pid = -1;

	/* A free port now may be taken by the time dnsmasq binds it. */
	for (int attempt = 0; attempt < 5 && pid < 0; attempt++) {
		int fd = udp_any(&port);

		if (fd < 0)
			break;
		close(fd);
		pid = dnsmasq_start(port, dnsmasq_data,
				    sizeof(dnsmasq_data) / sizeof(*dnsmasq_data));
		if (pid > 0 && !dnsmasq_ready(pid, port, "a.test")) {
			child_stop(pid);
			pid = -1;
		}
	}
	test_begin("dnsmasq starts on 127.0.0.1");
	test_assert(pid > 0);
	test_end();
	if (pid <= 0)
		return;
	printf("# dnsmasq pid %d on 127.0.0.1 port %u\n", (int)pid, port);
	dns = dns_at(port, timeout_msecs, 0, false);
	test_assert(dns != NULL);
	if (dns != NULL)
		test_dnsmasq_answers(dns);
	child_stop(pid);
	if (dns != NULL)
		test_dnsmasq_stopped(dns, timeout_msecs);
	dns_free(&dns);
}

int main(void)
{
	uint16_t port = 0;
	pid_t fake;

	signal(SIGPIPE, SIG_IGN);
	test_options();
	test_malformed_names();
	fake = fake_start(&port);
	if (fake > 0) {
		test_fake_failures(port);
		test_fake_negative(port);
		test_fake_positive(port);
		test_fake_cache_cap(port);
	} else {
		test_begin("the fake DNS server starts");
		test_assert(fake > 0);
		test_end();
	}
	child_stop(fake);
	test_silent_server();
	if (access(DNSMASQ, X_OK) != 0) {
		printf(
		    "skip: dnsmasq tests: no %s (apt install dnsmasq-base)\n",
		    DNSMASQ);
		return test_exit() == EXIT_SUCCESS ? TEST_SKIP : EXIT_FAILURE;
	}
	test_dnsmasq();
	return test_exit();
}
