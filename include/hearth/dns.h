/* SPDX-License-Identifier: MIT */
/*
 * dns: MX, TXT and A lookups through c-ares, each bounded by one overall
 * deadline and answered from a small in-process cache for the answer's TTL.
 * MX records recognise an inbox's mail provider; TXT and A records serve the
 * SPF, DKIM, DMARC and DNSBL checks.
 *
 * A struct dns has one owner and is used from one thread; a lookup blocks
 * (poll(), never select()) until the answer, the failure or the deadline,
 * whichever comes first. Do not use it in a forked child: make a new one.
 *
 * Lookups return 1 when records were found (*n_r > 0), 0 when the name has
 * no record of that type or does not exist (*nxdomain_r tells which: true
 * for NXDOMAIN, false for NODATA; nxdomain_r may be NULL), -1 on failure with
 * *err set:
 *   HEARTH_FAIL_PERMANENT  a malformed name (empty label, a label over 63
 *                          bytes, a name over 253 bytes, a byte other than
 *                          a letter, digit, '-' or '_'); no query is sent
 *   HEARTH_FAIL_RETRY      the deadline passed, the servers refused or did
 *                          not answer, SERVFAIL, an answer that could not
 *                          be parsed; err->code is the c-ares status
 * On 0 and -1, *xxx_r is NULL and *n_r is 0. Names are matched without
 * regard to case and may end in one dot; Internationalised names must be
 * given in their A-label (xn--) form.
 *
 * Cache: positive answers are kept for the smallest TTL in the answer
 * section (at most a day), negative answers (NXDOMAIN, NODATA) for the
 * smaller of the SOA record's TTL and its MINIMUM field (at most an hour);
 * a negative answer without an SOA record and a TTL of 0 are not cached
 * (RFC 2308). Failures are never cached. When the cache is full, expired
 * entries go first, then the least recently used one.
 */
#ifndef HEARTH_DNS_H
#define HEARTH_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hearth/err.h"

struct dns;

struct dns_options {
	/*
	 * "address:port,..." ("127.0.0.1:5353,[::1]:53"; without a port,
	 * 53), numeric addresses only, IPv6 in brackets, at most 8; NULL for
	 * the system's resolver configuration (/etc/resolv.conf). Borrowed.
	 */
	const char *servers;
	/*
	 * Overall deadline of one lookup, every try to every server
	 * included; 3000 when 0. c-ares's own per-try timeout and number of
	 * tries are derived from it so that they fit within it.
	 */
	int timeout_msecs;
	/* Cache capacity in entries: 256 when 0, no cache when negative. */
	int cache_entries;
	/*
	 * The clock the cache expires entries by, in milliseconds; NULL for
	 * net_now_msecs(). Tests pass a fake one to expire entries at will.
	 * The lookup deadline always runs on the real monotonic clock.
	 */
	int64_t (*cache_clock_msecs)(void);
};

/*
 * A resolver with its own cache. opts may be NULL (all defaults). On
 * success *dns_r is owned by the caller (dns_free()). Fails with
 * HEARTH_FAIL_PERMANENT on a malformed server list or a negative timeout,
 * HEARTH_FAIL_RETRY if c-ares cannot be set up (e.g. no memory).
 */
int dns_new(const struct dns_options *opts, struct dns **dns_r,
	    struct hearth_err *err);
/* Free *dns (NULL is fine) with its cache and set *dns to NULL. */
void dns_free(struct dns **dns);

struct dns_mx {
	/*
	 * The exchange, lower case, no trailing dot; "" is a null MX
	 * (RFC 7505: the domain accepts no mail).
	 */
	char *host;
	unsigned preference;
};

/*
 * MX records of domain, sorted by preference then host. *mx_r is an array of
 * *n_r records owned by the caller (dns_mx_free()).
 */
int dns_mx(struct dns *dns, const char *domain, struct dns_mx **mx_r,
	   size_t *n_r, bool *nxdomain_r, struct hearth_err *err);
/* Free the n records of *mx and their hosts (NULL is fine), set *mx NULL. */
void dns_mx_free(struct dns_mx **mx, size_t n);

/*
 * TXT records of name, in the order of the answer, each the concatenation of
 * its character-strings (an SPF record split into several strings comes back
 * whole). A record containing a NUL byte is left out: no SPF, DKIM or DMARC
 * record can contain one. *txt_r is an array of *n_r strings owned by the
 * caller (dns_txt_free()).
 */
int dns_txt(struct dns *dns, const char *name, char ***txt_r, size_t *n_r,
	    bool *nxdomain_r, struct hearth_err *err);
/* Free the n strings of *txt and the array (NULL is fine), set *txt NULL. */
void dns_txt_free(char ***txt, size_t n);

/*
 * IPv4 A records of name as dotted quads ("127.0.0.2"), in the order of the
 * answer. *addrs_r is an array of *n_r strings owned by the caller
 * (dns_a_free()).
 */
int dns_a(struct dns *dns, const char *name, char ***addrs_r, size_t *n_r,
	  bool *nxdomain_r, struct hearth_err *err);
/* Free the n strings of *addrs and the array (NULL is fine), set NULL. */
void dns_a_free(char ***addrs, size_t n);

struct dns_stats {
	/* dns_mx(), dns_txt() and dns_a() calls with a well-formed name */
	uint64_t lookups;
	/* of those, answered from the cache */
	uint64_t cache_hits;
	/* queries handed to c-ares (one per lookup that missed the cache) */
	uint64_t queries;
	/* entries in the cache now, expired ones included until evicted */
	size_t cache_entries;
};

/* Counters since dns_new(), for logs and tests. */
void dns_stats(const struct dns *dns, struct dns_stats *stats_r);

/* Drop every cached answer. */
void dns_cache_clear(struct dns *dns);

#endif
