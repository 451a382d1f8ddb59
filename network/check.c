// SPDX-License-Identifier: MIT
/*
 * The deliverability checks of a sending domain: the options, the report
 * and its JSON, and the MX, DMARC and block list checks. SPF and DKIM have
 * files of their own (check_spf.c, check_dkim.c).
 */
#include <ares.h>
#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check_private.h"
#include "hearth/content.h"
#include "hearth/message.h"
#include "hearth/xalloc.h"

/* Sending addresses at most, over all sending hosts. */
#define CHECK_MAX_ADDRS 64

bool check_name_ok(const char *name)
{
	size_t len = strlen(name), label = 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

/* 0 to go ahead, or -1 with *err when the server stopped answering. */
static int check_dns_gate(const struct check_run *run, const char *name,
			  struct hearth_err *err)
{
	if (run->dns_dead < CHECK_DNS_DEAD_AFTER)
		return 0;
	hearth_err_set(err, HEARTH_FAIL_RETRY, ARES_ETIMEOUT,
		       "dns %.80s: not asked: the server did not answer the "
		       "last %d lookups",
		       name, run->dns_dead);
	return -1;
}

/* Count a lookup the server did not answer; any answer resets it. */
static int check_dns_note(struct check_run *run, int r,
			  const struct hearth_err *err)
{
	if (r >= 0)
		run->dns_dead = 0;
	else if (err->fail == HEARTH_FAIL_RETRY &&
		 (err->code == ARES_ETIMEOUT || err->code == ARES_ECONNREFUSED))
		run->dns_dead++;
	return r;
}

int check_txt(struct check_run *run, const char *name, char ***txt_r,
	      size_t *n_r, bool *nxdomain_r, struct hearth_err *err)
{
	*txt_r = NULL;
	*n_r = 0;
	if (nxdomain_r != NULL)
		*nxdomain_r = false;
	if (check_dns_gate(run, name, err) < 0)
		return -1;
	return check_dns_note(
	    run, dns_txt(run->dns, name, txt_r, n_r, nxdomain_r, err), err);
}

int check_a(struct check_run *run, const char *name, char ***addrs_r,
	    size_t *n_r, bool *nxdomain_r, struct hearth_err *err)
{
	*addrs_r = NULL;
	*n_r = 0;
	if (nxdomain_r != NULL)
		*nxdomain_r = false;
	if (check_dns_gate(run, name, err) < 0)
		return -1;
	return check_dns_note(
	    run, dns_a(run->dns, name, addrs_r, n_r, nxdomain_r, err), err);
}

int check_mx_lookup(struct check_run *run, const char *name,
		    struct dns_mx **mx_r, size_t *n_r, bool *nxdomain_r,
		    struct hearth_err *err)
{
	*mx_r = NULL;
	*n_r = 0;
	if (nxdomain_r != NULL)
		*nxdomain_r = false;
	if (check_dns_gate(run, name, err) < 0)
		return -1;
	return check_dns_note(
	    run, dns_mx(run->dns, name, mx_r, n_r, nxdomain_r, err), err);
}

/*
 * Text from DNS goes into findings that are printed and put in JSON: no
 * control characters, and no bytes above 0x7f unless it is valid UTF-8.
 */
static char *check_clean(char *s)
{
	size_t bad;
	bool utf8 = content_utf8_valid(s, strlen(s), &bad);

	for (unsigned char *c = (unsigned char *)s; *c != '\0'; c++) {
		if (*c < 0x20 || *c == 0x7f || (*c >= 0x80 && !utf8))
			*c = '?';
	}
	return s;
}

struct check_finding *check_add(struct check_run *run, const char *check,
				enum check_status status, const char *record,
				const char *fmt, ...)
{
	struct check_report *rep = run->report;
	struct check_finding *f;
	va_list ap;

	if (rep->n_findings == run->cap) {
		run->cap = run->cap == 0 ? 16 : run->cap * 2;
		rep->findings = xreallocarray(rep->findings, run->cap,
					      sizeof(*rep->findings));
	}
	f = &rep->findings[rep->n_findings++];
	memset(f, 0, sizeof(*f));
	snprintf(f->check, sizeof(f->check), "%s", check);
	f->status = status;
	va_start(ap, fmt);
	if (vasprintf(&f->summary, fmt, ap) < 0)
		abort();
	va_end(ap);
	check_clean(f->summary);
	f->record = record != NULL ? check_clean(xstrdup(record)) : NULL;
	return f;
}

void check_fix(struct check_finding *f, const char *fmt, ...)
{
	va_list ap;

	free(f->fix);
	va_start(ap, fmt);
	if (vasprintf(&f->fix, fmt, ap) < 0)
		abort();
	va_end(ap);
	check_clean(f->fix);
}

const char *check_status_name(enum check_status status)
{
	switch (status) {
	case CHECK_PASS:
		return "pass";
	case CHECK_WARN:
		return "warn";
	case CHECK_UNKNOWN:
		return "unknown";
	case CHECK_FAIL:
		return "fail";
	}
	return "?";
}

int check_status_parse(const char *name, enum check_status *status_r)
{
	for (int s = CHECK_PASS; s <= CHECK_FAIL; s++) {
		if (strcmp(name, check_status_name((enum check_status)s)) ==
		    0) {
			*status_r = (enum check_status)s;
			return 0;
		}
	}
	return -1;
}

void check_report_free(struct check_report **report)
{
	struct check_report *r = *report;

	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_findings; i++) {
		free(r->findings[i].summary);
		free(r->findings[i].fix);
		free(r->findings[i].record);
	}
	free(r->findings);
	free(r->domain);
	free(r->provider);
	free(r->failure);
	free(r);
	*report = NULL;
}

const char *check_report_failure(const struct check_report *report)
{
	return report->failure;
}

/* worst and failure from the findings. */
static void check_report_finish(struct check_report *r)
{
	r->worst = CHECK_PASS;
	free(r->failure);
	r->failure = NULL;
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct check_finding *f = &r->findings[i];

		if (f->status > r->worst)
			r->worst = f->status;
		if (f->status == CHECK_FAIL && r->failure == NULL)
			r->failure =
			    f->fix != NULL
				? xasprintf("%s (%s)", f->summary, f->fix)
				: xstrdup(f->summary);
	}
}

/* --- options ------------------------------------------------------------- */

static int check_opts_fail(struct hearth_err *err, const char *what,
			   const char *value, const char *allowed)
{
	hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
		       "check: %s '%.80s' is not %s", what,
		       value != NULL ? value : "(null)", allowed);
	return -1;
}

static int check_opts_ok(const struct check_options *o, struct hearth_err *err)
{
	if (o->domain == NULL)
		return check_opts_fail(err, "domain", NULL, "a domain name");
	if (o->n_sending_hosts > CHECK_MAX_OPTION_ITEMS ||
	    o->n_dkim_selectors > CHECK_MAX_OPTION_ITEMS ||
	    o->n_domain_lists > CHECK_MAX_OPTION_ITEMS ||
	    o->n_ip_lists > CHECK_MAX_OPTION_ITEMS) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "check: more than %d sending hosts, selectors "
			       "or lists",
			       CHECK_MAX_OPTION_ITEMS);
		return -1;
	}
	if (o->provider != NULL && provider_by_name(o->provider) == NULL)
		return check_opts_fail(err, "provider", o->provider,
				       "a known provider (google, microsoft, "
				       "yahoo, zoho, fastmail, generic)");
	for (size_t i = 0; i < o->n_sending_hosts; i++) {
		struct in_addr a;
		const char *h = o->sending_hosts[i];

		if (h == NULL ||
		    (inet_pton(AF_INET, h, &a) != 1 && !message_domain_ok(h)))
			return check_opts_fail(err, "sending host", h,
					       "an IPv4 address or a host "
					       "name");
	}
	for (size_t i = 0; i < o->n_dkim_selectors; i++) {
		const char *s = o->dkim_selectors[i];
		const char *colon = s != NULL ? strchr(s, ':') : NULL;
		bool ok = s != NULL;

		if (ok && colon != NULL) {
			char *dom = xstrndup(s, (size_t)(colon - s));

			ok = message_domain_ok(dom) &&
			     message_domain_ok(colon + 1);
			free(dom);
		} else if (ok) {
			ok = message_domain_ok(s);
		}
		if (!ok)
			return check_opts_fail(err, "DKIM selector", s,
					       "'selector' or "
					       "'domain:selector'");
	}
	for (size_t i = 0; i < o->n_domain_lists + o->n_ip_lists; i++) {
		const char *z = i < o->n_domain_lists
				    ? o->domain_lists[i]
				    : o->ip_lists[i - o->n_domain_lists];

		if (z == NULL || !message_domain_ok(z))
			return check_opts_fail(err, "block list zone", z,
					       "a host name");
	}
	return 0;
}

static void check_addr_add(struct check_run *run, const char *ip,
			   const char *host)
{
	struct in_addr a;
	struct check_addr *ca;

	if (inet_pton(AF_INET, ip, &a) != 1 || run->n_addrs == CHECK_MAX_ADDRS)
		return;
	for (size_t i = 0; i < run->n_addrs; i++) {
		if (run->addrs[i].v4 == ntohl(a.s_addr))
			return;
	}
	run->addrs =
	    xreallocarray(run->addrs, run->n_addrs + 1, sizeof(*run->addrs));
	ca = &run->addrs[run->n_addrs++];
	inet_ntop(AF_INET, &a, ca->ip, sizeof(ca->ip));
	ca->v4 = ntohl(a.s_addr);
	ca->host = host;
}

/*
 * The sending addresses: literals as they are, host names resolved. A
 * provider's own submission host is left out (mail leaves from elsewhere:
 * its include covers that).
 */
static void check_resolve_hosts(struct check_run *run)
{
	const struct check_options *o = run->opts;
	const struct provider *p = run->provider;

	for (size_t i = 0; i < o->n_sending_hosts; i++) {
		const char *h = o->sending_hosts[i];
		struct hearth_err err = {0};
		struct in_addr a;
		char **addrs = NULL;
		size_t n = 0;
		int r;

		if (inet_pton(AF_INET, h, &a) == 1) {
			check_addr_add(run, h, h);
			continue;
		}
		if (p != NULL && p->spf_includes != NULL &&
		    p->smtp_host != NULL && strcasecmp(h, p->smtp_host) == 0)
			continue;
		r = check_a(run, h, &addrs, &n, NULL, &err);
		if (r < 0)
			check_add(run, "spf", CHECK_UNKNOWN, NULL,
				  "Sending host %s could not be resolved, so "
				  "its authorisation was not checked: %s",
				  h, err.msg);
		else if (r == 0)
			check_add(run, "spf", CHECK_UNKNOWN, NULL,
				  "Sending host %s has no IPv4 address, so its "
				  "authorisation was not checked",
				  h);
		for (size_t j = 0; j < n; j++)
			check_addr_add(run, addrs[j], h);
		dns_a_free(&addrs, n);
	}
}

/* --- MX ------------------------------------------------------------------ */

static void check_mx(struct check_run *run)
{
	struct hearth_err err = {0};
	const char *d = run->domain;
	struct dns_mx *mx = NULL;
	struct check_finding *f;
	const struct provider *p;
	const char **hosts = NULL;
	char record[512] = "";
	size_t n = 0, used = 0;
	bool nx = false, null_mx = false;
	int r;

	r = check_mx_lookup(run, d, &mx, &n, &nx, &err);
	if (r < 0) {
		check_add(run, "mx", CHECK_UNKNOWN, NULL,
			  "MX of %s could not be looked up: %s", d, err.msg);
		return;
	}
	if (r == 0) {
		f = check_add(run, "mx", CHECK_FAIL, NULL,
			      nx ? "%s does not exist in DNS (NXDOMAIN): no "
				   "mail can reach it, so replies and "
				   "bounces cannot arrive"
				 : "%s has no MX record: replies and bounces "
				   "may not arrive",
			      d);
		check_fix(f, "publish the MX records your mail provider gives "
			     "you");
		return;
	}
	hosts = xcalloc(n, sizeof(*hosts));
	for (size_t i = 0; i < n; i++) {
		hosts[i] = mx[i].host;
		null_mx = null_mx || mx[i].host[0] == '\0';
		if (used < sizeof(record))
			used += (size_t)snprintf(
			    record + used, sizeof(record) - used, "%s%u %s",
			    i > 0 ? ", " : "", mx[i].preference,
			    mx[i].host[0] != '\0' ? mx[i].host : ".");
	}
	p = provider_by_mx(hosts, n);
	if (run->opts->provider == NULL)
		run->provider = p;
	if (null_mx) {
		f = check_add(run, "mx", CHECK_FAIL, record,
			      "%s has a null MX (RFC 7505): it accepts no "
			      "mail, so replies cannot arrive",
			      d);
		check_fix(f, "replace the null MX with the MX records your "
			     "mail provider gives you");
	} else if (p != NULL) {
		check_add(run, "mx", CHECK_PASS, record,
			  "%s receives mail at %s (%s)", d, hosts[0], p->label);
	} else {
		check_add(run, "mx", CHECK_PASS, record,
			  "%s receives mail at %s (a provider hearth has no "
			  "preset for)",
			  d, hosts[0]);
	}
	free(hosts);
	dns_mx_free(&mx, n);
}

/* --- DMARC (RFC 7489) ---------------------------------------------------- */

#define DMARC_MAX_TAGS 24

struct dmarc_tag {
	char name[16];
	char *value;
};

static bool dmarc_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* "v" "=" "DMARC1" first, as 6.4 wants, white space allowed around '='. */
static bool dmarc_is_record(const char *s)
{
	while (dmarc_wsp(*s))
		s++;
	if (*s++ != 'v')
		return false;
	while (dmarc_wsp(*s))
		s++;
	if (*s++ != '=')
		return false;
	while (dmarc_wsp(*s))
		s++;
	if (strncmp(s, "DMARC1", 6) != 0)
		return false;
	s += 6;
	while (dmarc_wsp(*s))
		s++;
	return *s == ';' || *s == '\0';
}

/* The tags, names lower case, values trimmed; unknown ones kept too. */
static size_t dmarc_tags(const char *rec, struct dmarc_tag *tags)
{
	size_t n = 0;

	for (const char *s = rec; *s != '\0' && n < DMARC_MAX_TAGS;) {
		size_t len = strcspn(s, ";");
		const char *eq = memchr(s, '=', len);

		if (eq != NULL) {
			const char *a = s, *b = eq;
			const char *va = eq + 1, *vb = s + len;

			while (a < b && dmarc_wsp(*a))
				a++;
			while (b > a && dmarc_wsp(b[-1]))
				b--;
			while (va < vb && dmarc_wsp(*va))
				va++;
			while (vb > va && dmarc_wsp(vb[-1]))
				vb--;
			if (b > a && (size_t)(b - a) < sizeof(tags[n].name)) {
				for (size_t i = 0; i < (size_t)(b - a); i++)
					tags[n].name[i] =
					    (char)tolower((unsigned char)a[i]);
				tags[n].name[b - a] = '\0';
				tags[n].value = xstrndup(va, (size_t)(vb - va));
				n++;
			}
		}
		s += len + (s[len] == ';');
	}
	return n;
}

static const char *dmarc_get(const struct dmarc_tag *tags, size_t n,
			     const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(tags[i].name, name) == 0)
			return tags[i].value;
	}
	return NULL;
}

/*
 * The DMARC records at _dmarc.NAME: 1 found (*recs_r, *n_r the DMARC ones
 * only), 0 none, -1 lookup failed (*err).
 */
static int dmarc_lookup(struct check_run *run, const char *name, char ***recs_r,
			size_t *n_r, struct hearth_err *err)
{
	char *q = xasprintf("_dmarc.%s", name);
	char **txt = NULL;
	size_t n = 0, kept = 0;
	int r = check_txt(run, q, &txt, &n, NULL, err);

	free(q);
	*recs_r = NULL;
	*n_r = 0;
	if (r <= 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (dmarc_is_record(txt[i])) {
			char *keep = txt[i];

			txt[i] = txt[kept];
			txt[kept++] = keep;
		}
	}
	if (kept == 0) {
		dns_txt_free(&txt, n);
		return 0;
	}
	for (size_t i = kept; i < n; i++)
		free(txt[i]);
	*recs_r = txt;
	*n_r = kept;
	return 1;
}

static void check_dmarc(struct check_run *run)
{
	struct hearth_err err = {0};
	const char *d = run->domain;
	const char *org = NULL;
	struct dmarc_tag tags[DMARC_MAX_TAGS];
	struct check_finding *f;
	char **recs = NULL;
	size_t n = 0, n_tags = 0;
	const char *policy, *pct, *adkim, *aspf, *rua, *ptag = "p";
	char where[300];
	char *joined;
	int r;

	r = dmarc_lookup(run, d, &recs, &n, &err);
	if (r == 0) {
		/* the organisational domain: the last two labels */
		const char *last = strrchr(d, '.');

		if (last != NULL) {
			const char *p = last;

			while (p > d && p[-1] != '.')
				p--;
			if (p > d) {
				org = p;
				r = dmarc_lookup(run, org, &recs, &n, &err);
			}
		}
	}
	if (r < 0) {
		check_add(run, "dmarc", CHECK_UNKNOWN, NULL,
			  "DMARC record of %s could not be looked up: %s", d,
			  err.msg);
		return;
	}
	if (r == 0) {
		f = check_add(run, "dmarc", CHECK_FAIL, NULL,
			      "%s has no DMARC record (_dmarc.%s%s%s): large "
			      "receivers require one of bulk senders",
			      d, d, org != NULL ? " nor _dmarc." : "",
			      org != NULL ? org : "");
		check_fix(f,
			  "publish a TXT record at _dmarc.%s: v=DMARC1; "
			  "p=none; rua=mailto:dmarc-reports@%s, then move to "
			  "p=quarantine once the reports are clean",
			  d, d);
		return;
	}
	if (org != NULL)
		snprintf(where, sizeof(where),
			 "DMARC of %s (found at its organisational domain "
			 "_dmarc.%s)",
			 d, org);
	else
		snprintf(where, sizeof(where), "DMARC of %s", d);
	joined = xstrdup(recs[0]);
	for (size_t i = 1; i < n; i++) {
		char *more = xasprintf("%s | %s", joined, recs[i]);

		free(joined);
		joined = more;
	}
	if (n > 1) {
		f = check_add(run, "dmarc", CHECK_FAIL, joined,
			      "%s has %zu records: receivers ignore them all",
			      where, n);
		check_fix(f, "keep one DMARC record at _dmarc.%s",
			  org != NULL ? org : d);
		goto out;
	}
	n_tags = dmarc_tags(recs[0], tags);
	policy = dmarc_get(tags, n_tags, "p");
	/* a subdomain gets the organisational domain's sp= if it has one */
	if (org != NULL && dmarc_get(tags, n_tags, "sp") != NULL) {
		policy = dmarc_get(tags, n_tags, "sp");
		ptag = "sp";
	}
	pct = dmarc_get(tags, n_tags, "pct");
	adkim = dmarc_get(tags, n_tags, "adkim");
	aspf = dmarc_get(tags, n_tags, "aspf");
	rua = dmarc_get(tags, n_tags, "rua");
	if (policy == NULL ||
	    (strcmp(policy, "none") != 0 && strcmp(policy, "quarantine") != 0 &&
	     strcmp(policy, "reject") != 0)) {
		f = check_add(run, "dmarc", CHECK_FAIL, recs[0],
			      policy == NULL
				  ? "%s has no p= policy: receivers ignore the "
				    "record"
				  : "%s has a policy receivers do not know "
				    "(%s=%s): they ignore the record",
			      where, ptag, policy);
		check_fix(f, "set p=none, p=quarantine or p=reject in the "
			     "DMARC record");
		goto out;
	}
	{
		bool strict_dkim = adkim != NULL && strcmp(adkim, "s") == 0;
		bool strict_spf = aspf != NULL && strcmp(aspf, "s") == 0;
		char align[256];

		snprintf(align, sizeof(align), "alignment: DKIM %s, SPF %s%s",
			 strict_dkim ? "strict" : "relaxed",
			 strict_spf ? "strict" : "relaxed",
			 strict_dkim && run->provider != NULL
			     ? "; strict DKIM alignment needs the provider "
			       "to sign with the domain itself, not its own"
			     : "");
		if (strcmp(policy, "none") == 0) {
			f = check_add(run, "dmarc", CHECK_WARN, recs[0],
				      "%s is %s=none: monitoring only, "
				      "receivers act on nothing (%s)",
				      where, ptag, align);
			check_fix(f, "move to p=quarantine once the aggregate "
				     "reports are clean");
		} else {
			check_add(run, "dmarc", CHECK_PASS, recs[0],
				  "%s is %s=%s (%s)", where, ptag, policy,
				  align);
		}
	}
	if (pct != NULL && strcmp(policy, "none") != 0) {
		char *end = NULL;
		long v = strtol(pct, &end, 10);

		if (pct[0] < '0' || pct[0] > '9' || *end != '\0' || v > 100) {
			f = check_add(run, "dmarc", CHECK_WARN, recs[0],
				      "%s has pct=%s, not a number from 0 to "
				      "100",
				      where, pct);
			check_fix(f, "remove pct= (it means 100)");
		} else if (v < 100) {
			f = check_add(run, "dmarc", CHECK_WARN, recs[0],
				      "%s applies %s=%s to %ld%% of failing "
				      "mail only (pct=%ld)",
				      where, ptag, policy, v, v);
			check_fix(f, "raise pct to 100 (or remove it) once "
				     "the reports are clean");
		}
	}
	if (rua == NULL || rua[0] == '\0') {
		f = check_add(run, "dmarc", CHECK_WARN, recs[0],
			      "%s has no rua=: no aggregate reports reach you, "
			      "so failures go unseen",
			      where);
		check_fix(f, "add rua=mailto:dmarc-reports@%s to the record",
			  org != NULL ? org : d);
	}
out:
	for (size_t i = 0; i < n_tags; i++)
		free(tags[i].value);
	free(joined);
	dns_txt_free(&recs, n);
}

/* --- block lists --------------------------------------------------------- */

struct check_lists {
	size_t listed, clean_zones;
	char clean[512];
	size_t used;
};

/* The first http(s) URL in text, or NULL; malloc'd. */
static char *check_url(const char *text)
{
	const char *u = strstr(text, "https://");

	if (u == NULL)
		u = strstr(text, "http://");
	if (u == NULL)
		return NULL;
	return xstrndup(u, strcspn(u, " \t\"'<>;,"));
}

/*
 * One query of zone for what (the domain or an address) at name: 1 listed,
 * 0 not listed, -1 cannot tell (a finding says why).
 */
static int check_list_query(struct check_run *run, const char *zone,
			    const char *what, const char *name)
{
	struct hearth_err err = {0};
	struct check_finding *f;
	char **addrs = NULL, **txt = NULL;
	size_t n = 0, n_txt = 0;
	const char *code = NULL, *refused = NULL, *odd = NULL;
	char *reason, *url;
	int r;

	r = check_a(run, name, &addrs, &n, NULL, &err);
	if (r < 0) {
		check_add(run, "blacklist", CHECK_UNKNOWN, NULL,
			  "%s could not be looked up on %s: %s", what, zone,
			  err.msg);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (strncmp(addrs[i], "127.255.255.", 12) == 0)
			refused = refused != NULL ? refused : addrs[i];
		else if (strncmp(addrs[i], "127.", 4) == 0)
			code = code != NULL ? code : addrs[i];
		else
			odd = odd != NULL ? odd : addrs[i];
	}
	if (r == 0 || (code == NULL && refused == NULL && odd == NULL)) {
		dns_a_free(&addrs, n);
		return 0;
	}
	if (code == NULL && refused != NULL) {
		f = check_add(run, "blacklist", CHECK_UNKNOWN, refused,
			      "%s refused the query for %s (%s): it refuses "
			      "queries from public or open resolvers and "
			      "over its free limit",
			      zone, what, refused);
		check_fix(f, "query through a resolver of your own ([network] "
			     "dns), or use the list operator's data service");
		dns_a_free(&addrs, n);
		return -1;
	}
	if (code == NULL) {
		check_add(run, "blacklist", CHECK_UNKNOWN, odd,
			  "%s answered %s for %s, which is not a listing "
			  "code: the list may be out of service",
			  zone, odd, what);
		dns_a_free(&addrs, n);
		return -1;
	}
	if (check_txt(run, name, &txt, &n_txt, NULL, &err) == 1)
		reason = xstrdup(txt[0]);
	else
		reason = xstrdup("no reason given");
	url = check_url(reason);
	f = check_add(run, "blacklist", CHECK_FAIL, reason,
		      "%s is listed on %s (%s): %s", what, zone, code, reason);
	if (url != NULL)
		check_fix(f, "request delisting from the operator of %s: %s",
			  zone, url);
	else
		check_fix(f,
			  "request delisting from the operator of %s (its "
			  "web site says how)",
			  zone);
	free(url);
	free(reason);
	dns_txt_free(&txt, n_txt);
	dns_a_free(&addrs, n);
	return 1;
}

static void check_list_zone(struct check_run *run, struct check_lists *cl,
			    const char *zone, bool by_domain)
{
	bool clean = true;
	size_t n = by_domain ? 1 : run->n_addrs;
	int r;

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		char name[300];
		const char *what;

		if (by_domain) {
			what = run->domain;
			snprintf(name, sizeof(name), "%s.%s", run->domain,
				 zone);
		} else {
			uint32_t v = run->addrs[i].v4;

			what = run->addrs[i].ip;
			snprintf(name, sizeof(name), "%u.%u.%u.%u.%s", v & 0xff,
				 v >> 8 & 0xff, v >> 16 & 0xff, v >> 24, zone);
		}
		if (!check_name_ok(name)) {
			check_add(run, "blacklist", CHECK_UNKNOWN, NULL,
				  "%s cannot be looked up on %s: the name is "
				  "too long",
				  what, zone);
			clean = false;
			continue;
		}
		r = check_list_query(run, zone, what, name);
		if (r == 1)
			cl->listed++;
		if (r != 0)
			clean = false;
	}
	if (clean && cl->used < sizeof(cl->clean)) {
		cl->used += (size_t)snprintf(
		    cl->clean + cl->used, sizeof(cl->clean) - cl->used, "%s%s",
		    cl->clean_zones > 0 ? ", " : "", zone);
		cl->clean_zones++;
	}
}

static void check_lists(struct check_run *run)
{
	const struct check_options *o = run->opts;
	struct check_lists cl = {0};

	for (size_t i = 0; i < o->n_domain_lists; i++)
		check_list_zone(run, &cl, o->domain_lists[i], true);
	for (size_t i = 0; i < o->n_ip_lists; i++)
		check_list_zone(run, &cl, o->ip_lists[i], false);
	if (cl.listed == 0 && cl.clean_zones > 0)
		check_add(run, "blacklist", CHECK_PASS, NULL,
			  "%s%s not listed on %zu list%s (%s)%s", run->domain,
			  run->n_addrs > 0 && o->n_ip_lists > 0
			      ? " and its sending addresses are"
			      : " is",
			  cl.clean_zones, cl.clean_zones == 1 ? "" : "s",
			  cl.clean,
			  run->n_addrs == 0 && o->n_ip_lists > 0
			      ? "; no sending address to look up on the IP "
				"lists"
			      : "");
}

/* --- the checks ---------------------------------------------------------- */

int check_domain(struct dns *dns, const struct check_options *opts,
		 struct check_report **report_r, struct hearth_err *err)
{
	struct check_run run = {.dns = dns, .opts = opts};
	struct check_report *rep;
	char *domain;
	size_t len;

	*report_r = NULL;
	if (check_opts_ok(opts, err) < 0)
		return -1;
	domain = xstrdup(opts->domain);
	len = strlen(domain);
	if (len > 0 && domain[len - 1] == '.')
		domain[--len] = '\0';
	for (char *c = domain; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	if (!message_domain_ok(domain) || !check_name_ok(domain)) {
		check_opts_fail(err, "domain", opts->domain, "a domain name");
		free(domain);
		return -1;
	}
	rep = xcalloc(1, sizeof(*rep));
	rep->domain = domain;
	run.report = rep;
	run.domain = domain;
	if (opts->provider != NULL)
		run.provider = provider_by_name(opts->provider);
	check_mx(&run);
	if (run.provider != NULL)
		rep->provider = xstrdup(run.provider->name);
	check_resolve_hosts(&run);
	check_spf(&run);
	check_dkim(&run);
	check_dmarc(&run);
	check_lists(&run);
	free(run.addrs);
	check_report_finish(rep);
	*report_r = rep;
	return 0;
}

/* --- JSON ---------------------------------------------------------------- */

char *check_report_to_json(const struct check_report *report)
{
	json_t *findings = json_array();
	json_t *root;
	char *text;

	for (size_t i = 0; i < report->n_findings; i++) {
		const struct check_finding *f = &report->findings[i];

		json_array_append_new(
		    findings,
		    json_pack("{s:s, s:s, s:s, s:s?, s:s?}", "check", f->check,
			      "status", check_status_name(f->status), "summary",
			      f->summary, "fix", f->fix, "record", f->record));
	}
	root = json_pack("{s:s, s:s?, s:s, s:s?, s:o}", "domain",
			 report->domain, "provider", report->provider, "worst",
			 check_status_name(report->worst), "failure",
			 report->failure, "findings", findings);
	if (root == NULL)
		abort();
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (text == NULL)
		abort();
	return text;
}

/* A string member (NULL: absent or null when nullable), or -1. */
static int check_json_str(json_t *obj, const char *key, bool nullable,
			  char **out_r)
{
	json_t *v = json_object_get(obj, key);

	*out_r = NULL;
	if ((v == NULL || json_is_null(v)) && nullable)
		return 0;
	if (!json_is_string(v) ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return -1;
	*out_r = xstrdup(json_string_value(v));
	return 0;
}

int check_report_from_json(const char *text, struct check_report **report_r,
			   struct hearth_err *err)
{
	json_error_t jerr;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	struct check_report *rep = xcalloc(1, sizeof(*rep));
	enum check_status worst = CHECK_PASS;
	json_t *findings;
	const char *why = NULL;
	char *s = NULL;

	*report_r = NULL;
	if (root == NULL) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "check report: not JSON: %s (line %d)",
			       jerr.text, jerr.line);
		check_report_free(&rep);
		return -1;
	}
	if (!json_is_object(root)) {
		why = "not an object";
		goto fail;
	}
	if (check_json_str(root, "domain", false, &rep->domain) < 0 ||
	    check_json_str(root, "provider", true, &rep->provider) < 0) {
		why = "domain or provider is not a string";
		goto fail;
	}
	if (check_json_str(root, "worst", false, &s) < 0 ||
	    check_status_parse(s, &worst) < 0) {
		why = "worst is not a status";
		goto fail;
	}
	findings = json_object_get(root, "findings");
	if (!json_is_array(findings)) {
		why = "findings is not an array";
		goto fail;
	}
	rep->n_findings = json_array_size(findings);
	rep->findings = xcalloc(rep->n_findings + 1, sizeof(*rep->findings));
	for (size_t i = 0; i < rep->n_findings; i++) {
		json_t *o = json_array_get(findings, i);
		struct check_finding *f = &rep->findings[i];
		char *check = NULL, *status = NULL;
		int bad =
		    !json_is_object(o) ||
		    check_json_str(o, "check", false, &check) < 0 ||
		    check_json_str(o, "status", false, &status) < 0 ||
		    check_status_parse(status, &f->status) < 0 ||
		    strlen(check) >= sizeof(f->check) ||
		    check_json_str(o, "summary", false, &f->summary) < 0 ||
		    check_json_str(o, "fix", true, &f->fix) < 0 ||
		    check_json_str(o, "record", true, &f->record) < 0;

		if (!bad)
			memcpy(f->check, check, strlen(check) + 1);
		free(check);
		free(status);
		if (bad) {
			why = "a finding is not {check, status, summary, fix, "
			      "record}";
			goto fail;
		}
	}
	check_report_finish(rep);
	if (rep->worst != worst) {
		why = "worst does not match the findings";
		goto fail;
	}
	free(s);
	json_decref(root);
	*report_r = rep;
	return 0;
fail:
	hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0, "check report: %s", why);
	free(s);
	json_decref(root);
	check_report_free(&rep);
	return -1;
}
