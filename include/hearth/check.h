/* SPDX-License-Identifier: MIT */
/*
 * check: the deliverability checks of one sending domain, through DNS: MX,
 * SPF (RFC 7208 check_host() for every sending address, the 10-lookup and
 * 2-void-lookup limits, macros), DKIM (keys at the selectors configured,
 * the provider's and common ones; RSA size, ed25519, revoked, testing),
 * DMARC (RFC 7489 record at _dmarc.DOMAIN or the organisational domain),
 * and DNS block lists (the domain and each sending IPv4 address).
 *
 * The result is a list of findings in plain words, each with what to fix.
 * CHECK_FAIL means "this hurts deliverability: fix it"; a lookup that failed
 * (timeout, SERVFAIL, a list refusing the query) is CHECK_UNKNOWN, never a
 * failure, so transient DNS trouble does not hold an inbox back.
 *
 * Findings come in this order: mx, spf, dkim, dmarc, blacklist. Within spf:
 * the record (none, several, in error), the lookup count, void lookups, ptr,
 * the `all` qualifier, the provider's include, then one per sending address.
 */
#ifndef HEARTH_CHECK_H
#define HEARTH_CHECK_H

#include <stddef.h>

#include "hearth/dns.h"
#include "hearth/err.h"

/* Ordered by severity: the worst of a report is the largest. */
enum check_status {
	CHECK_PASS = 0,
	CHECK_WARN,
	CHECK_UNKNOWN, /* a lookup failed: cannot tell */
	CHECK_FAIL,
};

struct check_finding {
	char check[12]; /* "mx", "spf", "dkim", "dmarc", "blacklist" */
	enum check_status status;
	char *summary; /* one line, plain words: what was found */
	char *fix;     /* what to do, plain words; NULL when nothing to do */
	char *record;  /* the DNS record text the finding is about, or NULL */
};

/* Every string and the findings array are owned by the report. */
struct check_report {
	char *domain;
	/* provider name the checks assumed (given, or recognised from MX),
	 * or NULL */
	char *provider;
	struct check_finding *findings;
	size_t n_findings;
	/* the largest status of the findings; CHECK_PASS when none */
	enum check_status worst;
	/* check_report_failure()'s sentence, or NULL when nothing fails */
	char *failure;
};

/* SPF lookups allowed (RFC 7208 4.6.4) and void lookups allowed. */
#define CHECK_SPF_MAX_LOOKUPS 10
#define CHECK_SPF_MAX_VOID    2
/* Options arrays hold at most this many entries each. */
#define CHECK_MAX_OPTION_ITEMS 64

/* Everything is borrowed for the call. */
struct check_options {
	const char *domain; /* the sending domain (a host name) */
	/*
	 * provider_by_name() name the inboxes send through; NULL: recognised
	 * from the domain's MX records (none recognised: no provider).
	 */
	const char *provider;
	/*
	 * IPv4 literals or host names (resolved with dns_a) of the SMTP hosts
	 * the inboxes submit to. SPF is evaluated for each address and the
	 * addresses are looked up on the IP lists. The submission host of a
	 * provider with SPF includes (smtp.gmail.com for google) is not where
	 * its mail leaves from: it is skipped, and the include stands for it.
	 */
	const char *const *sending_hosts;
	size_t n_sending_hosts;
	/* from the configuration, tried first: "sel" or "domain:sel" */
	const char *const *dkim_selectors;
	size_t n_dkim_selectors;
	/* DNSBL zones queried with the domain (dbl.spamhaus.org) */
	const char *const *domain_lists;
	size_t n_domain_lists;
	/* DNSBL zones queried with each sending address (zen.spamhaus.org) */
	const char *const *ip_lists;
	size_t n_ip_lists;
};

/*
 * Run every check of opts->domain through dns (borrowed; its cache is used
 * and filled). Returns 0 with *report_r owned by the caller
 * (check_report_free); a DNS failure becomes a CHECK_UNKNOWN finding, not
 * an error. Returns -1 with *err, HEARTH_FAIL_PERMANENT, for a malformed
 * domain, an unknown provider, a malformed sending host, selector or zone,
 * or more than CHECK_MAX_OPTION_ITEMS entries in an array; *report_r is
 * then NULL.
 *
 * Time: each lookup is bounded by the dns deadline, and after 3 lookups in
 * a row that the server did not answer (timed out, could not be contacted)
 * the rest fail at once as unknown, so a dead resolver costs about three
 * deadlines. A live one answers some 20 to 40 queries for a domain (SPF's
 * includes, nine or more DKIM selectors, one per list and address); the
 * per-address SPF evaluations mostly hit the cache.
 *
 * SPF is evaluated as check_host(address, domain, "postmaster@domain")
 * with the domain as the HELO name; %{p} expands to "unknown" (no PTR
 * lookup is made).
 */
int check_domain(struct dns *dns, const struct check_options *opts,
		 struct check_report **report_r, struct hearth_err *err);

/* Free *report (NULL is fine) and set it to NULL. */
void check_report_free(struct check_report **report);

/* "pass", "warn", "unknown", "fail"; "?" for anything else. */
const char *check_status_name(enum check_status status);
/* The status of such a name: 0 and *status_r, or -1. */
int check_status_parse(const char *name, enum check_status *status_r);

/*
 * The report as a compact JSON object, malloc'd (the caller frees):
 * {"domain":..., "provider":...|null, "worst":"fail", "failure":...|null,
 *  "findings":[{"check":..., "status":..., "summary":..., "fix":...|null,
 *  "record":...|null}, ...]}
 */
char *check_report_to_json(const struct check_report *report);
/*
 * And back: 0 with *report_r (the caller's, check_report_free), or -1 with
 * *err (HEARTH_FAIL_PERMANENT) when text is not such an object. The text of
 * the result is the text given, byte for byte, when that came from
 * check_report_to_json().
 */
int check_report_from_json(const char *text, struct check_report **report_r,
			   struct hearth_err *err);

/*
 * The first failing finding as one sentence for a readiness reason, its
 * summary and its fix in brackets: "SPF of acme.test does not authorise
 * 127.0.0.1 (add ip4:127.0.0.1 to the SPF record of acme.test)"; NULL if
 * none fails. Points into report (report->failure).
 */
const char *check_report_failure(const struct check_report *report);

#endif
