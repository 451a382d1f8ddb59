// SPDX-License-Identifier: MIT
#include "hearth/dns.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hearth/net.h"
#include "hearth/xalloc.h"

#define DNS_TIMEOUT_MSECS_DEFAULT 3000
#define DNS_CACHE_ENTRIES_DEFAULT 256
#define DNS_SERVERS_MAX		  8
#define DNS_NAME_MAX		  253
#define DNS_LABEL_MAX		  63
#define DNS_TTL_MAX_SECS	  86400
#define DNS_NEG_TTL_MAX_SECS	  3600
/* A shorter try rarely gets an answer from a distant server in time. */
#define DNS_TRY_MSECS_MIN 100
#define DNS_TRIES_MAX	  3

/* One record: an MX exchange and its preference, a TXT string, an address. */
struct dns_rr {
	char *text;
	unsigned preference;
};

struct dns_answer {
	bool nxdomain;
	struct dns_rr *rrs;
	size_t n;
};

struct dns_entry {
	int type;
	char *name;
	int64_t expires_msecs;
	/* dns->tick when last used, for eviction */
	uint64_t used_tick;
	struct dns_answer answer;
};

struct dns {
	ares_channel channel;
	int timeout_msecs;
	int64_t (*clock_msecs)(void);
	struct dns_entry *cache;
	size_t cache_n;
	size_t cache_max;
	uint64_t tick;
	/* The last answer that was not cached: valid until the next lookup. */
	struct dns_answer uncached;
	struct dns_stats stats;
};

struct dns_query {
	bool done;
	bool timed_out;
	int status;
	unsigned char *abuf;
	int alen;
};

static void dns_answer_clear(struct dns_answer *answer)
{
	for (size_t i = 0; i < answer->n; i++)
		free(answer->rrs[i].text);
	free(answer->rrs);
	*answer = (struct dns_answer){0};
}

static const char *dns_type_name(int type)
{
	switch (type) {
	case ns_t_a:
		return "A";
	case ns_t_mx:
		return "MX";
	case ns_t_txt:
		return "TXT";
	default:
		return "?";
	}
}

/* Up to 64 bytes of a name that may be malformed, safe to put in a log. */
static void dns_name_for_log(const char *name, char *buf, size_t size)
{
	size_t i;

	for (i = 0; name[i] != '\0' && i + 4 < size && i < 64; i++) {
		unsigned char c = (unsigned char)name[i];

		buf[i] = c >= 0x21 && c < 0x7f ? (char)c : '?';
	}
	if (name[i] != '\0' && i + 4 <= size) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
}

static bool dns_name_byte_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * Check a name and write it to key lower case without a trailing dot:
 * 0, or -1 with *err (nothing has been sent).
 */
static int dns_name_key(int type, const char *name, char key[DNS_NAME_MAX + 1],
			struct hearth_err *err)
{
	size_t len = strnlen(name, DNS_NAME_MAX + 2);
	const char *why = NULL;
	size_t label = 0;
	char shown[72];

	if (len > 0 && len <= DNS_NAME_MAX + 1 && name[len - 1] == '.')
		len--;
	if (len == 0)
		why = "empty name";
	else if (len > DNS_NAME_MAX)
		why = "name longer than 253 bytes";
	for (size_t i = 0; why == NULL && i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.') {
			if (label == 0)
				why = "empty label";
			label = 0;
		} else if (!dns_name_byte_ok(c)) {
			why = "a byte other than a letter, digit, '-' or '_'";
		} else if (++label > DNS_LABEL_MAX) {
			why = "label longer than 63 bytes";
		}
		key[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : (char)c;
	}
	if (why == NULL && label == 0)
		why = "empty label";
	if (why != NULL) {
		dns_name_for_log(name, shown, sizeof(shown));
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, ARES_EBADNAME,
			       "dns %s \"%s\": malformed name: %s",
			       dns_type_name(type), shown, why);
		return -1;
	}
	key[len] = '\0';
	return 0;
}

/* Room for DNS_SERVERS_MAX entries "[ipv6]:port," */
#define DNS_SERVERS_CSV_MAX (DNS_SERVERS_MAX * (INET6_ADDRSTRLEN + 9))

/*
 * Check "address[:port],..." (IPv6 addresses in brackets) and rewrite it
 * for c-ares with every port spelt out: the number of servers, or -1 with
 * *err.
 */
static int dns_servers_parse(const char *servers, char csv[DNS_SERVERS_CSV_MAX],
			     struct hearth_err *err)
{
	const char *p = servers;
	size_t used = 0;
	int n = 0;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		char entry[64];
		char *addr = entry;
		char *port = NULL;
		int family = AF_INET;
		unsigned char bin[sizeof(struct in6_addr)];
		char shown[INET6_ADDRSTRLEN];
		long port_v = 53;

		if (len == 0 || len >= sizeof(entry) || ++n > DNS_SERVERS_MAX)
			goto bad;
		memcpy(entry, p, len);
		entry[len] = '\0';
		if (entry[0] == '[') {
			char *close = strchr(entry, ']');

			if (close == NULL ||
			    (close[1] != '\0' && close[1] != ':'))
				goto bad;
			addr = entry + 1;
			port = close[1] == ':' ? close + 2 : NULL;
			*close = '\0';
			family = AF_INET6;
		} else if ((port = strchr(entry, ':')) != NULL) {
			*port++ = '\0';
		}
		if (inet_pton(family, addr, bin) != 1 ||
		    inet_ntop(family, bin, shown, sizeof(shown)) == NULL)
			goto bad;
		if (port != NULL) {
			char *end;

			errno = 0;
			port_v = strtol(port, &end, 10);
			if (port[0] < '0' || port[0] > '9' || *end != '\0' ||
			    errno != 0 || port_v < 1 || port_v > 65535)
				goto bad;
		}
		used += (size_t)snprintf(csv + used, DNS_SERVERS_CSV_MAX - used,
					 family == AF_INET6 ? "%s[%s]:%ld"
							    : "%s%s:%ld",
					 n > 1 ? "," : "", shown, port_v);
		if (comma == NULL)
			return n;
		p = comma + 1;
	}
bad:
	hearth_err_set(err, HEARTH_FAIL_PERMANENT, ARES_EBADSTR,
		       "dns servers \"%.64s\": entry %d is not address:port "
		       "or [ipv6]:port (at most %d entries)",
		       servers, n, DNS_SERVERS_MAX);
	return -1;
}

/* Sockets c-ares opens must not leak into the programs workers exec. */
static int dns_socket_cb(ares_socket_t fd, int type, void *data)
{
	int flags = fcntl(fd, F_GETFD);

	if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
		return -1;
	return 0;
}

/*
 * c-ares 1.18 sends try i (counted over all servers) with a timeout of
 * try_msecs << (i / nservers) and gives up after nservers * tries tries, so
 * the whole schedule takes nservers * try_msecs * (2^tries - 1). Take as many
 * tries as fit with tries of at least DNS_TRY_MSECS_MIN.
 */
static void dns_schedule(int timeout_msecs, int nservers, int *try_msecs_r,
			 int *tries_r)
{
	int tries = DNS_TRIES_MAX;

	while (tries > 1 && timeout_msecs / (nservers * ((1 << tries) - 1)) <
				DNS_TRY_MSECS_MIN)
		tries--;
	*tries_r = tries;
	*try_msecs_r = timeout_msecs / (nservers * ((1 << tries) - 1));
	if (*try_msecs_r < 1)
		*try_msecs_r = 1;
}

static int dns_channel_new(struct dns *dns, const char *servers, int nservers,
			   struct hearth_err *err)
{
	struct ares_options opts = {0};
	int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
	int ret;

	dns_schedule(dns->timeout_msecs, nservers, &opts.timeout, &opts.tries);
	/* Names are always absolute; HOSTALIASES is for interactive use. */
	opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	ret = ares_init_options(&dns->channel, &opts, mask);
	if (ret != ARES_SUCCESS) {
		dns->channel = NULL;
		hearth_err_set(err, HEARTH_FAIL_RETRY, ret, "dns: c-ares: %s",
			       ares_strerror(ret));
		return -1;
	}
	ares_set_socket_callback(dns->channel, dns_socket_cb, NULL);
	if (servers != NULL) {
		ret = ares_set_servers_ports_csv(dns->channel, servers);
		if (ret != ARES_SUCCESS) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, ret,
				       "dns servers \"%.64s\": %s", servers,
				       ares_strerror(ret));
			return -1;
		}
	}
	return 0;
}

static int dns_channel_servers(ares_channel channel)
{
	struct ares_addr_port_node *list = NULL;
	int n = 0;

	if (ares_get_servers_ports(channel, &list) != ARES_SUCCESS)
		return 1;
	for (struct ares_addr_port_node *p = list; p != NULL; p = p->next)
		n++;
	ares_free_data(list);
	return n > 0 ? n : 1;
}

int dns_new(const struct dns_options *opts, struct dns **dns_r,
	    struct hearth_err *err)
{
	static const struct dns_options defaults;
	char csv[DNS_SERVERS_CSV_MAX];
	struct dns *dns = NULL;
	int nservers = 1;
	int ret;

	*dns_r = NULL;
	if (opts == NULL)
		opts = &defaults;
	if (opts->timeout_msecs < 0) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "dns: timeout of %d ms", opts->timeout_msecs);
		return -1;
	}
	if (opts->servers != NULL &&
	    (nservers = dns_servers_parse(opts->servers, csv, err)) < 0)
		return -1;
	ret = ares_library_init(ARES_LIB_INIT_ALL);
	if (ret != ARES_SUCCESS) {
		hearth_err_set(err, HEARTH_FAIL_RETRY, ret, "dns: c-ares: %s",
			       ares_strerror(ret));
		return -1;
	}
	dns = xcalloc(1, sizeof(*dns));
	dns->timeout_msecs = opts->timeout_msecs > 0
				 ? opts->timeout_msecs
				 : DNS_TIMEOUT_MSECS_DEFAULT;
	dns->clock_msecs = opts->cache_clock_msecs != NULL
			       ? opts->cache_clock_msecs
			       : net_now_msecs;
	if (opts->cache_entries > 0)
		dns->cache_max = (size_t)opts->cache_entries;
	else if (opts->cache_entries == 0)
		dns->cache_max = DNS_CACHE_ENTRIES_DEFAULT;
	if (dns->cache_max > 0)
		dns->cache = xcalloc(dns->cache_max, sizeof(*dns->cache));
	if (dns_channel_new(dns, opts->servers != NULL ? csv : NULL, nservers,
			    err) < 0)
		goto fail;
	/* The system's list is known once read: fit the schedule to it. */
	if (opts->servers == NULL &&
	    (nservers = dns_channel_servers(dns->channel)) > 1) {
		ares_destroy(dns->channel);
		if (dns_channel_new(dns, NULL, nservers, err) < 0)
			goto fail;
	}
	*dns_r = dns;
	return 0;
fail:
	dns_free(&dns);
	return -1;
}

void dns_cache_clear(struct dns *dns)
{
	for (size_t i = 0; i < dns->cache_n; i++) {
		free(dns->cache[i].name);
		dns_answer_clear(&dns->cache[i].answer);
	}
	dns->cache_n = 0;
}

void dns_free(struct dns **p)
{
	struct dns *dns = *p;

	if (dns == NULL)
		return;
	if (dns->channel != NULL)
		ares_destroy(dns->channel);
	dns_cache_clear(dns);
	free(dns->cache);
	dns_answer_clear(&dns->uncached);
	free(dns);
	ares_library_cleanup();
	*p = NULL;
}

void dns_stats(const struct dns *dns, struct dns_stats *stats_r)
{
	*stats_r = dns->stats;
	stats_r->cache_entries = dns->cache_n;
}

static void dns_cache_remove(struct dns *dns, size_t i)
{
	free(dns->cache[i].name);
	dns_answer_clear(&dns->cache[i].answer);
	dns->cache[i] = dns->cache[--dns->cache_n];
}

static struct dns_entry *dns_cache_find(struct dns *dns, int type,
					const char *key, int64_t now)
{
	for (size_t i = 0; i < dns->cache_n; i++) {
		struct dns_entry *e = &dns->cache[i];

		if (e->type != type || strcmp(e->name, key) != 0)
			continue;
		if (e->expires_msecs <= now) {
			dns_cache_remove(dns, i);
			return NULL;
		}
		e->used_tick = ++dns->tick;
		return e;
	}
	return NULL;
}

/* Move *answer into a new entry; NULL (answer untouched) if no cache. */
static struct dns_entry *dns_cache_put(struct dns *dns, int type,
				       const char *key, int64_t expires_msecs,
				       int64_t now, struct dns_answer *answer)
{
	struct dns_entry *e;

	if (dns->cache_max == 0)
		return NULL;
	if (dns->cache_n == dns->cache_max) {
		/* Full: purge every expired entry first; the array is small. */
		for (size_t i = dns->cache_n; i > 0; i--) {
			if (dns->cache[i - 1].expires_msecs <= now)
				dns_cache_remove(dns, i - 1);
		}
	}
	if (dns->cache_n == dns->cache_max) {
		size_t lru = 0;

		for (size_t i = 1; i < dns->cache_n; i++) {
			if (dns->cache[i].used_tick < dns->cache[lru].used_tick)
				lru = i;
		}
		dns_cache_remove(dns, lru);
	}
	e = &dns->cache[dns->cache_n++];
	e->type = type;
	e->name = xstrdup(key);
	e->expires_msecs = expires_msecs;
	e->used_tick = ++dns->tick;
	e->answer = *answer;
	*answer = (struct dns_answer){0};
	return e;
}

/* Skip a possibly compressed name at *off: 0, or -1 past the end. */
static int dns_skip_name(const unsigned char *buf, size_t len, size_t *off)
{
	for (int labels = 0; labels < 128; labels++) {
		unsigned c;

		if (*off >= len)
			return -1;
		c = buf[*off];
		if (c == 0) {
			*off += 1;
			return 0;
		}
		if ((c & 0xc0) == 0xc0) {
			*off += 2;
			return *off <= len ? 0 : -1;
		}
		if ((c & 0xc0) != 0)
			return -1;
		*off += 1 + c;
	}
	return -1;
}

static uint32_t dns_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/*
 * How long to cache a response, in seconds: the smallest TTL of the answer
 * section; for a negative one, min(TTL, MINIMUM) of the first SOA record of
 * the authority section, or 0 without one. c-ares has checked the header and
 * the question; everything else is bounds-checked here.
 */
static uint32_t dns_ttl(const unsigned char *buf, int alen, bool negative)
{
	size_t len = alen > 0 ? (size_t)alen : 0;
	size_t off = 12;
	unsigned qd, an, ns;
	uint32_t ttl = UINT32_MAX;

	if (buf == NULL || len < 12)
		return 0;
	qd = (unsigned)buf[4] << 8 | buf[5];
	an = (unsigned)buf[6] << 8 | buf[7];
	ns = (unsigned)buf[8] << 8 | buf[9];
	for (unsigned i = 0; i < qd; i++) {
		if (dns_skip_name(buf, len, &off) < 0 || (off += 4) > len)
			return 0;
	}
	for (unsigned i = 0; i < an + (negative ? ns : 0); i++) {
		unsigned type, rdlen;
		uint32_t rr_ttl;

		if (dns_skip_name(buf, len, &off) < 0 || off + 10 > len)
			return 0;
		type = (unsigned)buf[off] << 8 | buf[off + 1];
		rr_ttl = dns_get32(buf + off + 4);
		rdlen = (unsigned)buf[off + 8] << 8 | buf[off + 9];
		off += 10;
		if (off + rdlen > len)
			return 0;
		/* RFC 2181 8: a TTL with the top bit set means 0. */
		if (rr_ttl > INT32_MAX)
			rr_ttl = 0;
		if (!negative && rr_ttl < ttl)
			ttl = rr_ttl;
		if (negative && i >= an && type == ns_t_soa && rdlen >= 22) {
			uint32_t minimum = dns_get32(buf + off + rdlen - 4);

			ttl = rr_ttl < minimum ? rr_ttl : minimum;
			break;
		}
		off += rdlen;
	}
	if (ttl == UINT32_MAX)
		return 0;
	if (negative)
		return ttl < DNS_NEG_TTL_MAX_SECS ? ttl : DNS_NEG_TTL_MAX_SECS;
	return ttl < DNS_TTL_MAX_SECS ? ttl : DNS_TTL_MAX_SECS;
}

static int dns_rr_cmp_mx(const void *a, const void *b)
{
	const struct dns_rr *x = a;
	const struct dns_rr *y = b;

	if (x->preference != y->preference)
		return x->preference < y->preference ? -1 : 1;
	return strcmp(x->text, y->text);
}

static int dns_parse_mx(const unsigned char *abuf, int alen,
			struct dns_answer *answer)
{
	struct ares_mx_reply *mx = NULL;
	size_t n = 0;
	int ret;

	ret = ares_parse_mx_reply(abuf, alen, &mx);
	if (ret != ARES_SUCCESS)
		return ret;
	for (struct ares_mx_reply *p = mx; p != NULL; p = p->next)
		n++;
	answer->rrs = xcalloc(n, sizeof(*answer->rrs));
	for (struct ares_mx_reply *p = mx; p != NULL; p = p->next) {
		struct dns_rr *rr = &answer->rrs[answer->n++];
		size_t len = strlen(p->host);

		if (len > 0 && p->host[len - 1] == '.')
			len--;
		rr->text = xstrndup(p->host, len);
		for (char *c = rr->text; *c != '\0'; c++) {
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		}
		rr->preference = p->priority;
	}
	ares_free_data(mx);
	qsort(answer->rrs, answer->n, sizeof(*answer->rrs), dns_rr_cmp_mx);
	return ARES_SUCCESS;
}

static int dns_parse_txt(const unsigned char *abuf, int alen,
			 struct dns_answer *answer)
{
	struct ares_txt_ext *txt = NULL;
	size_t cap = 0;
	int ret;

	ret = ares_parse_txt_reply_ext(abuf, alen, &txt);
	if (ret != ARES_SUCCESS)
		return ret;
	for (struct ares_txt_ext *start = txt, *next; start != NULL;
	     start = next) {
		size_t len = 0;
		bool nul = false;
		char *text;

		/* A record is its first string and those up to the next. */
		for (next = start; next != NULL; next = next->next) {
			if (next != start && next->record_start)
				break;
			len += next->length;
			nul = nul || memchr(next->txt, '\0', next->length);
		}
		if (nul)
			continue;
		text = xmalloc(len + 1);
		len = 0;
		for (struct ares_txt_ext *p = start; p != next; p = p->next) {
			memcpy(text + len, p->txt, p->length);
			len += p->length;
		}
		text[len] = '\0';
		if (answer->n == cap) {
			cap = cap == 0 ? 4 : cap * 2;
			answer->rrs = xreallocarray(answer->rrs, cap,
						    sizeof(*answer->rrs));
		}
		answer->rrs[answer->n++] = (struct dns_rr){.text = text};
	}
	ares_free_data(txt);
	return ARES_SUCCESS;
}

static int dns_parse_a(const unsigned char *abuf, int alen,
		       struct dns_answer *answer)
{
	struct hostent *host = NULL;
	size_t n = 0;
	int ret;

	ret = ares_parse_a_reply(abuf, alen, &host, NULL, NULL);
	if (ret != ARES_SUCCESS)
		return ret;
	while (host->h_addr_list[n] != NULL)
		n++;
	answer->rrs = xcalloc(n, sizeof(*answer->rrs));
	for (size_t i = 0; i < n; i++) {
		char buf[INET_ADDRSTRLEN];

		if (host->h_addrtype != AF_INET ||
		    inet_ntop(AF_INET, host->h_addr_list[i], buf,
			      sizeof(buf)) == NULL)
			continue;
		answer->rrs[answer->n++].text = xstrdup(buf);
	}
	ares_free_hostent(host);
	return ARES_SUCCESS;
}

static void dns_query_cb(void *arg, int status, int timeouts,
			 unsigned char *abuf, int alen)
{
	struct dns_query *q = arg;

	q->done = true;
	q->status = status;
	if (abuf != NULL && alen > 0) {
		q->abuf = xmalloc((size_t)alen);
		memcpy(q->abuf, abuf, (size_t)alen);
		q->alen = alen;
	}
}

/*
 * Drive c-ares until the query's callback has run: poll its sockets for as
 * long as its next timeout or the deadline allows. At the deadline cancel
 * the query, which runs the callback too. 0, or -1 with errno if poll fails
 * (the query is cancelled then too).
 */
static int dns_wait(struct dns *dns, struct dns_query *q, int64_t deadline)
{
	while (!q->done) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		struct timeval tv;
		int64_t left = deadline - net_now_msecs();
		unsigned bits;
		int nfds = 0;
		int wait_msecs;
		int ret;

		if (left <= 0) {
			q->timed_out = true;
			ares_cancel(dns->channel);
			break;
		}
		/*
		 * Not ARES_GETSOCK_WRITABLE(): it shifts a signed 1 into the
		 * sign bit for the last socket.
		 */
		bits = (unsigned)ares_getsock(dns->channel, socks,
					      ARES_GETSOCK_MAXNUM);
		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			short events = 0;

			if (bits & 1u << i)
				events |= POLLIN;
			if (bits & 1u << (i + ARES_GETSOCK_MAXNUM))
				events |= POLLOUT;
			if (events != 0)
				pfd[nfds++] = (struct pollfd){.fd = socks[i],
							      .events = events};
		}
		wait_msecs = left > 60000 ? 60000 : (int)left;
		if (ares_timeout(dns->channel, NULL, &tv) != NULL) {
			int64_t t = (int64_t)tv.tv_sec * 1000 +
				    (tv.tv_usec + 999) / 1000;

			if (t < wait_msecs)
				wait_msecs = (int)t;
		}
		ret = poll(pfd, (nfds_t)nfds, wait_msecs);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0) {
			int saved = errno;

			ares_cancel(dns->channel);
			errno = saved;
			return -1;
		}
		if (ret == 0) {
			/* Only timeouts to process. */
			ares_process_fd(dns->channel, ARES_SOCKET_BAD,
					ARES_SOCKET_BAD);
			continue;
		}
		for (int i = 0; i < nfds && !q->done; i++) {
			short re = pfd[i].revents;

			if (re == 0)
				continue;
			ares_process_fd(
			    dns->channel,
			    re & (POLLIN | POLLERR | POLLHUP) ? pfd[i].fd
							      : ARES_SOCKET_BAD,
			    re & POLLOUT ? pfd[i].fd : ARES_SOCKET_BAD);
		}
	}
	return 0;
}

static int dns_parse(int type, const unsigned char *abuf, int alen,
		     struct dns_answer *answer)
{
	switch (type) {
	case ns_t_mx:
		return dns_parse_mx(abuf, alen, answer);
	case ns_t_txt:
		return dns_parse_txt(abuf, alen, answer);
	default:
		return dns_parse_a(abuf, alen, answer);
	}
}

/*
 * One lookup: *answer_r points at the cached entry or at dns->uncached,
 * both valid until the next lookup. 0, or -1 with *err.
 */
static int dns_lookup(struct dns *dns, int type, const char *name,
		      const struct dns_answer **answer_r,
		      struct hearth_err *err)
{
	char key[DNS_NAME_MAX + 1];
	struct dns_query q = {0};
	struct dns_answer answer = {0};
	struct dns_entry *e;
	int64_t now, start;
	uint32_t ttl;
	int ret = -1;

	if (dns_name_key(type, name, key, err) < 0)
		return -1;
	dns->stats.lookups++;
	now = dns->clock_msecs();
	e = dns_cache_find(dns, type, key, now);
	if (e != NULL) {
		dns->stats.cache_hits++;
		*answer_r = &e->answer;
		return 0;
	}
	dns_answer_clear(&dns->uncached);
	dns->stats.queries++;
	start = net_now_msecs();
	ares_query(dns->channel, key, ns_c_in, type, dns_query_cb, &q);
	if (dns_wait(dns, &q, start + dns->timeout_msecs) < 0) {
		hearth_err_set(err, HEARTH_FAIL_RETRY, ARES_ECONNREFUSED,
			       "dns %s %s: poll: %s", dns_type_name(type), key,
			       strerror(errno));
		goto out;
	}
	if (q.timed_out) {
		hearth_err_set(err, HEARTH_FAIL_RETRY, ARES_ETIMEOUT,
			       "dns %s %s: no answer within %d ms",
			       dns_type_name(type), key, dns->timeout_msecs);
		goto out;
	}
	if (q.status == ARES_SUCCESS)
		q.status = dns_parse(type, q.abuf, q.alen, &answer);
	switch (q.status) {
	case ARES_SUCCESS:
	case ARES_ENODATA:
		break;
	case ARES_ENOTFOUND:
		answer.nxdomain = true;
		break;
	default:
		hearth_err_set(err,
			       q.status == ARES_EBADNAME ? HEARTH_FAIL_PERMANENT
							 : HEARTH_FAIL_RETRY,
			       q.status, "dns %s %s: %s after %lld ms",
			       dns_type_name(type), key,
			       ares_strerror(q.status),
			       (long long)(net_now_msecs() - start));
		goto out;
	}
	ttl = dns_ttl(q.abuf, q.alen, answer.n == 0);
	e = NULL;
	if (ttl > 0)
		e = dns_cache_put(dns, type, key, now + (int64_t)ttl * 1000,
				  now, &answer);
	if (e != NULL) {
		*answer_r = &e->answer;
	} else {
		dns->uncached = answer;
		answer = (struct dns_answer){0};
		*answer_r = &dns->uncached;
	}
	ret = 0;
out:
	dns_answer_clear(&answer);
	free(q.abuf);
	return ret;
}

/* The public lookups' shared part: 1 found, 0 none, -1 error. */
static int dns_get(struct dns *dns, int type, const char *name,
		   const struct dns_answer **answer_r, bool *nxdomain_r,
		   struct hearth_err *err)
{
	if (nxdomain_r != NULL)
		*nxdomain_r = false;
	if (dns_lookup(dns, type, name, answer_r, err) < 0)
		return -1;
	if ((*answer_r)->n > 0)
		return 1;
	if (nxdomain_r != NULL)
		*nxdomain_r = (*answer_r)->nxdomain;
	return 0;
}

static char **dns_strings(const struct dns_answer *answer)
{
	char **v = xcalloc(answer->n, sizeof(*v));

	for (size_t i = 0; i < answer->n; i++)
		v[i] = xstrdup(answer->rrs[i].text);
	return v;
}

int dns_mx(struct dns *dns, const char *domain, struct dns_mx **mx_r,
	   size_t *n_r, bool *nxdomain_r, struct hearth_err *err)
{
	const struct dns_answer *answer;
	int ret;

	*mx_r = NULL;
	*n_r = 0;
	ret = dns_get(dns, ns_t_mx, domain, &answer, nxdomain_r, err);
	if (ret <= 0)
		return ret;
	*mx_r = xcalloc(answer->n, sizeof(**mx_r));
	for (size_t i = 0; i < answer->n; i++) {
		(*mx_r)[i].host = xstrdup(answer->rrs[i].text);
		(*mx_r)[i].preference = answer->rrs[i].preference;
	}
	*n_r = answer->n;
	return 1;
}

void dns_mx_free(struct dns_mx **mx, size_t n)
{
	if (*mx == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free((*mx)[i].host);
	free(*mx);
	*mx = NULL;
}

int dns_txt(struct dns *dns, const char *name, char ***txt_r, size_t *n_r,
	    bool *nxdomain_r, struct hearth_err *err)
{
	const struct dns_answer *answer;
	int ret;

	*txt_r = NULL;
	*n_r = 0;
	ret = dns_get(dns, ns_t_txt, name, &answer, nxdomain_r, err);
	if (ret <= 0)
		return ret;
	*txt_r = dns_strings(answer);
	*n_r = answer->n;
	return 1;
}

static void dns_strings_free(char ***v, size_t n)
{
	if (*v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
}

void dns_txt_free(char ***txt, size_t n)
{
	dns_strings_free(txt, n);
}

int dns_a(struct dns *dns, const char *name, char ***addrs_r, size_t *n_r,
	  bool *nxdomain_r, struct hearth_err *err)
{
	const struct dns_answer *answer;
	int ret;

	*addrs_r = NULL;
	*n_r = 0;
	ret = dns_get(dns, ns_t_a, name, &answer, nxdomain_r, err);
	if (ret <= 0)
		return ret;
	*addrs_r = dns_strings(answer);
	*n_r = answer->n;
	return 1;
}

void dns_a_free(char ***addrs, size_t n)
{
	dns_strings_free(addrs, n);
}
