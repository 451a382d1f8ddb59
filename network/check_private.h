/* SPDX-License-Identifier: MIT */
/*
 * What the files of the check module share: one run of check_domain() and
 * the helpers that add findings to its report.
 */
#ifndef HEARTH_CHECK_PRIVATE_H
#define HEARTH_CHECK_PRIVATE_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>

#include "hearth/check.h"
#include "hearth/provider.h"

/* One sending address: the IPv4 address and the host it came from. */
struct check_addr {
	char ip[INET_ADDRSTRLEN];
	uint32_t v4;	  /* host byte order */
	const char *host; /* borrowed from the options */
};

struct check_run {
	struct dns *dns;
	const struct check_options *opts;
	struct check_report *report;
	size_t cap;
	const char *domain; /* lower case, no trailing dot (report->domain) */
	const struct provider *provider; /* NULL: none assumed */
	struct check_addr *addrs;
	size_t n_addrs;
	/* lookups in a row the server did not answer */
	int dns_dead;
};

/*
 * After this many lookups in a row that the server did not answer (timed
 * out, could not be contacted), the rest fail at once: a dead resolver costs
 * a few deadlines, not one per lookup.
 */
#define CHECK_DNS_DEAD_AFTER 3

/* dns_txt(), dns_a() and dns_mx() through run's resolver and its count of
 * unanswered lookups; the same results. */
int check_txt(struct check_run *run, const char *name, char ***txt_r,
	      size_t *n_r, bool *nxdomain_r, struct hearth_err *err);
int check_a(struct check_run *run, const char *name, char ***addrs_r,
	    size_t *n_r, bool *nxdomain_r, struct hearth_err *err);
int check_mx_lookup(struct check_run *run, const char *name,
		    struct dns_mx **mx_r, size_t *n_r, bool *nxdomain_r,
		    struct hearth_err *err);

/*
 * Append a finding with the summary fmt, a copy of record (may be NULL) and
 * no fix; the finding is valid until the next check_add().
 */
struct check_finding *check_add(struct check_run *run, const char *check,
				enum check_status status, const char *record,
				const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Set the finding's fix. */
void check_fix(struct check_finding *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The SPF findings (check_spf.c). */
void check_spf(struct check_run *run);
/* The DKIM findings (check_dkim.c). */
void check_dkim(struct check_run *run);

/* A DNS name: labels of 1 to 63 letters, digits, '-' or '_', at most 253
 * bytes, an optional trailing dot. */
bool check_name_ok(const char *name);

#endif
