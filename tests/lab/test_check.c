// SPDX-License-Identifier: MIT
/*
 * check: the deliverability checks against a real DNS server, a dnsmasq
 * started here on 127.0.0.1 at a free port with local data only (it never
 * forwards): SPF, DKIM, DMARC, MX and block list zones for many small test
 * domains, DKIM keys generated here with OpenSSL. Then the report's JSON,
 * the options refused, and a server that never answers. Nothing leaves
 * 127.0.0.1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dnsmasq.h"
#include "hearth/check.h"
#include "hearth/dns.h"
#include "hearth/net.h"
#include "hearth/xalloc.h"
#include "test.h"

/* check_private.h: lookups unanswered in a row before the rest are not
 * asked */
#define CHECK_DNS_DEAD_AFTER_TEST 3

/* --- dnsmasq ------------------------------------------------------------- */

static char **args;
static size_t n_args;

static void __attribute__((format(printf, 1, 2))) arg(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	args = xreallocarray(args, n_args + 2, sizeof(*args));
	args[n_args++] = s;
	args[n_args] = NULL;
}

/*
 * A TXT record: dnsmasq takes its character-strings separated by commas, so
 * a long text goes in pieces of 200 bytes (a string holds at most 255);
 * dns.c joins them again.
 */
static void txt(const char *name, const char *text)
{
	size_t len = strlen(text);
	char *opt = xasprintf("--txt-record=%s", name);

	if (strchr(text, ',') != NULL) {
		fprintf(stderr, "a TXT text with a comma: %s\n", text);
		abort();
	}
	for (size_t off = 0; off < len || off == 0; off += 200) {
		char *more = xasprintf("%s,%.200s", opt, text + off);

		free(opt);
		opt = more;
		if (len == 0)
			break;
	}
	args = xreallocarray(args, n_args + 2, sizeof(*args));
	args[n_args++] = opt;
	args[n_args] = NULL;
}

static struct dns *dns_at(uint16_t port, int timeout_msecs)
{
	char servers[32];
	struct dns_options opts = {.servers = servers,
				   .timeout_msecs = timeout_msecs};
	struct hearth_err err = {0};
	struct dns *dns = NULL;

	snprintf(servers, sizeof(servers), "127.0.0.1:%u", port);
	if (dns_new(&opts, &dns, &err) < 0)
		fprintf(stderr, "dns_new: %s\n", err.msg);
	return dns;
}

/* --- keys ---------------------------------------------------------------- */

static char *b64(const unsigned char *der, int len)
{
	char *out = xmalloc(4 * (((size_t)len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, der, len);
	return out;
}

/* The base64 SubjectPublicKeyInfo of a new RSA key of bits. */
static char *rsa_spki(unsigned bits)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	unsigned char *der = NULL;
	int len;
	char *s;

	if (key == NULL)
		abort();
	len = i2d_PUBKEY(key, &der);
	if (len <= 0)
		abort();
	s = b64(der, len);
	OPENSSL_free(der);
	EVP_PKEY_free(key);
	return s;
}

static char *ed25519_raw(void)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	unsigned char raw[32];
	size_t len = sizeof(raw);

	if (key == NULL || EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 ||
	    len != 32)
		abort();
	EVP_PKEY_free(key);
	return b64(raw, 32);
}

/* --- the zones ----------------------------------------------------------- */

static void zones(void)
{
	char *k2048 = rsa_spki(2048);
	char *k1024 = rsa_spki(1024);
	char *k512 = rsa_spki(512);
	char *ked = ed25519_raw();
	char *rec;

	/* local data only: every other name under these is NXDOMAIN */
	arg("--local=/test/");
	arg("--local=/google.com/");
	arg("--local-ttl=300");

	/* good.test: ip4, an include chain, -all; DMARC reject with rua */
	arg("--mx-host=good.test,mx.good.test,10");
	arg("--host-record=mx.good.test,192.0.2.25");
	arg("--host-record=smtp.good.test,192.0.2.9");
	txt("good.test", "v=spf1 ip4:192.0.2.0/24 include:_spf.inc1.test -all");
	txt("good.test", "google-site-verification=abc");
	txt("_spf.inc1.test",
	    "v=spf1 ip4:198.51.100.0/24 include:_spf.inc2.test ~all");
	txt("_spf.inc2.test", "v=spf1 a:relay.inc2.test -all");
	arg("--host-record=relay.inc2.test,203.0.113.5");
	txt("_dmarc.good.test",
	    "v=DMARC1; p=reject; rua=mailto:dmarc@good.test; adkim=s");
	/* nospf.test: exists, nothing else */
	arg("--host-record=nospf.test,192.0.2.80");
	/* dup.test: two SPF records */
	txt("dup.test", "v=spf1 ip4:192.0.2.1 -all");
	txt("dup.test", "v=spf1 mx -all");
	/* broken.test and broken2.test: a syntax error each */
	txt("broken.test", "v=spf1 ip4:192.0.2.0/24 foo:bar -all");
	txt("broken2.test", "v=spf1 ip4:192.0.2.300 -all");
	txt("broken3.test", "v=spf1 include:_spf.badinc.test -all");
	txt("_spf.badinc.test", "v=spf1 a:%{x}.badinc.test -all");
	/* many.test: 11 includes in a chain; nine.test: 9 lookups */
	txt("many.test", "v=spf1 include:c1.many.test -all");
	for (int i = 1; i <= 10; i++) {
		char *name = xasprintf("c%d.many.test", i);
		char *text =
		    xasprintf("v=spf1 include:c%d.many.test -all", i + 1);

		txt(name, text);
		free(name);
		free(text);
	}
	txt("c11.many.test", "v=spf1 ip4:192.0.2.1 -all");
	txt("nine.test", "v=spf1 include:c3.many.test ip4:192.0.2.1 -all");
	/* voids.test: three names that do not exist */
	txt("voids.test", "v=spf1 a:no1.voids.test a:no2.voids.test "
			  "mx:no3.voids.test ip4:192.0.2.1 -all");
	/* the all qualifiers */
	txt("plusall.test", "v=spf1 ip4:192.0.2.1 +all");
	txt("bareall.test", "v=spf1 all");
	txt("qall.test", "v=spf1 ip4:192.0.2.1 ?all");
	txt("noall.test", "v=spf1 ip4:192.0.2.1");
	txt("ptr.test", "v=spf1 ptr ip4:192.0.2.1 ip6:2001:db8::/32 -all");
	/* a Google Workspace domain with and without Google's include */
	arg("--mx-host=gw.test,aspmx.l.google.com,1");
	arg("--mx-host=gwbad.test,aspmx.l.google.com,1");
	txt("gw.test", "v=spf1 include:_spf.google.com ~all");
	txt("gwbad.test", "v=spf1 ip4:192.0.2.1 -all");
	txt("_spf.google.com", "v=spf1 ip4:192.0.2.0/24 ~all");
	txt("google._domainkey.gw.test", "v=DKIM1; k=rsa; p=");
	/* macros: exists:%{i}._spf.%{d}, and r, v, l, digits */
	txt("macro.test", "v=spf1 exists:%{i}._spf.%{d} -all");
	arg("--host-record=192.0.2.44._spf.macro.test,127.0.0.2");
	txt("macro2.test", "v=spf1 exists:%{ir}.%{v}.%{l1r-}._spf.%{d2} "
			   "-all");
	arg("--host-record=44.2.0.192.in-addr.postmaster._spf.macro2.test,"
	    "127.0.0.2");
	/* redirect= */
	txt("redirect.test", "v=spf1 redirect=_spf.target.test");
	txt("_spf.target.test", "v=spf1 ip4:192.0.2.0/24 -all");
	txt("loop.test", "v=spf1 include:loop.test -all");

	/* DMARC */
	txt("_dmarc.dmnone.test", "v=DMARC1; p=none; rua=mailto:x@dmnone.test");
	txt("_dmarc.dmq.test",
	    "v=DMARC1; p=quarantine; pct=50; rua=mailto:x@dmq.test");
	txt("_dmarc.dmdup.test", "v=DMARC1; p=reject");
	txt("_dmarc.dmdup.test", "v=DMARC1; p=none");
	txt("_dmarc.dmnorua.test", "v=DMARC1; p=reject");
	txt("_dmarc.dmbadp.test", "v=DMARC1; p=block; rua=mailto:x@x.test");
	txt("_dmarc.dmnop.test", "v=DMARC1; rua=mailto:x@x.test");
	txt("_dmarc.dmother.test", "v=spf1 -all");
	txt("_dmarc.org.test",
	    "v=DMARC1; p=reject; sp=none; rua=mailto:d@org.test");
	/* a TXT record that is not UTF-8, with a control character */
	txt("_dmarc.bytes.test", "v=DMARC1; p=\xff\x7fx");

	/* DKIM */
	rec = xasprintf("v=DKIM1; k=rsa; p=%s", k2048);
	txt("default._domainkey.dkgood.test", rec);
	txt("custom._domainkey.dkconf.test", rec);
	txt("key1.provider.test", rec);
	arg("--cname=selector1._domainkey.dkcname.test,key1.provider.test");
	txt("s2._domainkey.dkrot.test", rec);
	txt("s1._domainkey.dkrot.test", "v=DKIM1; p=");
	free(rec);
	rec = xasprintf("v=DKIM1; t=y; p=%s", k2048);
	txt("s2._domainkey.dktest.test", rec);
	free(rec);
	rec = xasprintf("v=DKIM1; k=rsa; p=%s", k1024);
	txt("s1._domainkey.dk1024.test", rec);
	free(rec);
	rec = xasprintf("p=%s", k512);
	txt("mail._domainkey.dk512.test", rec);
	free(rec);
	txt("k1._domainkey.dkrevoked.test", "v=DKIM1; k=rsa; p=");
	txt("mail._domainkey.dkbad.test", "v=DKIM1; p=!!not*base64");
	/* base64 of "hello world, not a key" (no comma: "hello world") */
	txt("mail._domainkey.dkbad2.test", "v=DKIM1; p=aGVsbG8gd29ybGQ=");
	rec = xasprintf("v=DKIM1; k=ed25519; p=%s", ked);
	txt("dkim._domainkey.dked.test", rec);
	free(rec);
	/* a wildcard-looking TXT at a common selector is not a key */
	txt("default._domainkey.dkjunk.test", "v=spf1 -all");

	/* MX */
	arg("--mx-host=nullmx.test,.,0");

	/* block lists: dbl.test (domains), ipbl.test (addresses), refuse.test
	 * answering everything "refused", clean.test listing nothing */
	arg("--host-record=listed.test.dbl.test,127.0.1.2");
	txt("listed.test.dbl.test",
	    "Listed: see https://dbl.test/lookup?d=listed.test");
	arg("--host-record=2.0.0.127.ipbl.test,127.0.0.2");
	txt("2.0.0.127.ipbl.test",
	    "Blocked - see https://ipbl.test/q/127.0.0.2");
	arg("--host-record=3.0.0.127.ipbl.test,127.0.0.3");
	arg("--address=/refuse.test/127.255.255.254");
	arg("--host-record=odd.test.odd.test,192.0.2.1");
	arg("--host-record=clean.test,192.0.2.53");

	free(k2048);
	free(k1024);
	free(k512);
	free(ked);
}

/* --- assertions ---------------------------------------------------------- */

static struct dns *dns;

struct opts {
	const char *provider;
	const char *hosts[4];
	const char *selectors[4];
	const char *domain_lists[4];
	const char *ip_lists[4];
};

static size_t count(const char *const *v)
{
	size_t n = 0;

	while (n < 4 && v[n] != NULL)
		n++;
	return n;
}

static void print_report(const struct check_report *r)
{
	fprintf(stderr, "  report of %s (provider %s), worst %s:\n", r->domain,
		r->provider != NULL ? r->provider : "-",
		check_status_name(r->worst));
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct check_finding *f = &r->findings[i];

		fprintf(stderr, "    %-9s %-7s %s\n", f->check,
			check_status_name(f->status), f->summary);
		if (f->fix != NULL)
			fprintf(stderr, "                      fix: %s\n",
				f->fix);
		if (f->record != NULL)
			fprintf(stderr,
				"                      record: %.100s\n",
				f->record);
	}
}

static struct check_report *check(const char *domain, const struct opts *o)
{
	static const struct opts none;
	struct check_options co;
	struct check_report *r = NULL;
	struct hearth_err err = {0};

	if (o == NULL)
		o = &none;
	co = (struct check_options){
	    .domain = domain,
	    .provider = o->provider,
	    .sending_hosts = o->hosts,
	    .n_sending_hosts = count(o->hosts),
	    .dkim_selectors = o->selectors,
	    .n_dkim_selectors = count(o->selectors),
	    .domain_lists = o->domain_lists,
	    .n_domain_lists = count(o->domain_lists),
	    .ip_lists = o->ip_lists,
	    .n_ip_lists = count(o->ip_lists),
	};
	if (check_domain(dns, &co, &r, &err) < 0) {
		fprintf(stderr, "check_domain %s: %s\n", domain, err.msg);
		return NULL;
	}
	/* TEST_CHECK_SHOW=1 prints every report */
	if (getenv("TEST_CHECK_SHOW") != NULL)
		print_report(r);
	return r;
}

/*
 * A finding of check with status whose summary contains every '|'-separated
 * word of summary and whose fix contains fix (NULL: has no fix; "*": any).
 */
static bool words_in(const char *text, const char *words)
{
	char *copy = xstrdup(words), *save = NULL;
	bool ok = text != NULL;

	for (char *w = strtok_r(copy, "|", &save); ok && w != NULL;
	     w = strtok_r(NULL, "|", &save))
		ok = strstr(text, w) != NULL;
	free(copy);
	return ok;
}

static const struct check_finding *find(const struct check_report *r,
					const char *check, enum check_status st,
					const char *summary, const char *fix)
{
	for (size_t i = 0; r != NULL && i < r->n_findings; i++) {
		const struct check_finding *f = &r->findings[i];

		if (strcmp(f->check, check) != 0 || f->status != st ||
		    !words_in(f->summary, summary))
			continue;
		if (fix == NULL
			? f->fix != NULL
			: strcmp(fix, "*") != 0 && !words_in(f->fix, fix))
			continue;
		return f;
	}
	return NULL;
}

static int has_line;

#define has(r, check, st, summary, fix)                                        \
	do {                                                                   \
		has_line = __LINE__;                                           \
		if (find(r, check, st, summary, fix) == NULL) {                \
			fprintf(stderr,                                        \
				"line %d: no %s %s finding with \"%s\" / "     \
				"\"%s\"\n",                                    \
				has_line, check, check_status_name(st),        \
				summary, fix != NULL ? fix : "(no fix)");      \
			if (r != NULL)                                         \
				print_report(r);                               \
			test_assert(!"finding");                               \
		}                                                              \
	} while (0)

/* No finding of check has this status. */
static bool none_of(const struct check_report *r, const char *check,
		    enum check_status st)
{
	for (size_t i = 0; r != NULL && i < r->n_findings; i++) {
		if (strcmp(r->findings[i].check, check) == 0 &&
		    r->findings[i].status == st) {
			print_report(r);
			return false;
		}
	}
	return r != NULL;
}

/* --- SPF ----------------------------------------------------------------- */

static void test_spf_good(void)
{
	struct opts o = {.hosts = {"192.0.2.7", "203.0.113.5", "10.9.9.9",
				   "smtp.good.test"}};
	struct check_report *r;
	const struct check_finding *f;

	test_begin("spf: ip4, an include chain, a, -all; who is authorised");
	r = check("good.test", &o);
	test_assert(r != NULL);
	has(r, "spf", CHECK_PASS, "needs 3 of 10 DNS lookups", NULL);
	has(r, "spf", CHECK_PASS, "ends in -all", NULL);
	has(r, "spf", CHECK_PASS, "authorises 192.0.2.7|ip4:192.0.2.0/24",
	    NULL);
	has(r, "spf", CHECK_PASS,
	    "authorises 203.0.113.5|include:_spf.inc1.test", NULL);
	has(r, "spf", CHECK_PASS, "authorises 192.0.2.9 (smtp.good.test)",
	    NULL);
	has(r, "spf", CHECK_FAIL,
	    "SPF of good.test does not authorise 10.9.9.9|fail",
	    "add ip4:10.9.9.9 to the SPF record of good.test");
	f = find(r, "spf", CHECK_PASS, "needs 3", NULL);
	test_assert(f != NULL && f->record != NULL &&
		    strncmp(f->record, "v=spf1 ip4:192.0.2.0/24", 23) == 0);
	test_assert(r != NULL && r->worst == CHECK_FAIL);
	test_assert(r != NULL && check_report_failure(r) != NULL &&
		    strcmp(check_report_failure(r),
			   "SPF of good.test does not authorise 10.9.9.9: the "
			   "result is fail by -all (add ip4:10.9.9.9 to the "
			   "SPF record of good.test)") == 0);
	if (r != NULL && check_report_failure(r) != NULL)
		printf("# failure: %s\n", check_report_failure(r));
	/* the MX of good.test belongs to no known provider */
	test_assert(r != NULL && r->provider == NULL);
	check_report_free(&r);
	test_assert(r == NULL);
	test_end();
}

static void test_spf_records(void)
{
	struct check_report *r;

	test_begin("spf: none, two records, syntax errors");
	r = check("nospf.test", NULL);
	has(r, "spf", CHECK_FAIL, "nospf.test has no SPF record",
	    "publish one TXT record at nospf.test naming the servers that "
	    "send its mail, e.g. v=spf1 mx -all");
	check_report_free(&r);
	r = check("nospf.test",
		  &(struct opts){.provider = "google", .hosts = {"192.0.2.7"}});
	has(r, "spf", CHECK_FAIL, "nospf.test has no SPF record",
	    "publish one TXT record at nospf.test: v=spf1 "
	    "include:_spf.google.com ip4:192.0.2.7 -all");
	/* no record: no finding per address */
	test_assert(find(r, "spf", CHECK_FAIL, "192.0.2.7", "*") == NULL);
	check_report_free(&r);
	r = check("dup.test", NULL);
	has(r, "spf", CHECK_FAIL, "dup.test has 2 SPF records|permerror",
	    "merge them into one");
	test_assert(r != NULL &&
		    find(r, "spf", CHECK_FAIL, "2 SPF", "*")->record != NULL);
	check_report_free(&r);
	r = check("broken.test", NULL);
	has(r, "spf", CHECK_FAIL,
	    "in error (permerror)|'foo:bar'|unknown mechanism",
	    "correct the SPF record of broken.test");
	check_report_free(&r);
	r = check("broken2.test", NULL);
	has(r, "spf", CHECK_FAIL, "'ip4:192.0.2.300'|malformed IPv4 address",
	    "*");
	check_report_free(&r);
	r = check("broken3.test", NULL);
	has(r, "spf", CHECK_FAIL,
	    "permerror|'a:%{x}.badinc.test' at _spf.badinc.test|unknown macro",
	    "correct the SPF record at _spf.badinc.test (included from "
	    "broken3.test)");
	check_report_free(&r);
	r = check("loop.test", NULL);
	has(r, "spf", CHECK_FAIL, "permerror|loop", "*");
	check_report_free(&r);
	test_end();
}

static void test_spf_limits(void)
{
	struct opts o = {.hosts = {"192.0.2.1"}};
	struct opts o2 = {.hosts = {"192.0.2.2"}};
	struct check_report *r;

	test_begin("spf: the 10-lookup and 2-void-lookup limits");
	r = check("many.test", &o);
	has(r, "spf", CHECK_FAIL, "needs 11 DNS lookups|over the limit of 10",
	    "10 lookups or fewer");
	/* a receiver stops at the 11th lookup, before reaching ip4 */
	has(r, "spf", CHECK_FAIL, "cannot authorise 192.0.2.1|more than 10",
	    "*");
	check_report_free(&r);
	r = check("nine.test", &o);
	has(r, "spf", CHECK_WARN, "needs 9 of 10 DNS lookups", "keep room");
	has(r, "spf", CHECK_PASS, "authorises 192.0.2.1", NULL);
	check_report_free(&r);
	r = check("voids.test", &o);
	has(r, "spf", CHECK_FAIL,
	    "3 lookups that find nothing|no1.voids.test|no3.voids.test",
	    "remove the terms naming");
	has(r, "spf", CHECK_FAIL, "cannot authorise 192.0.2.1|found nothing",
	    "*");
	check_report_free(&r);
	r = check("voids.test", &o2);
	has(r, "spf", CHECK_FAIL, "cannot authorise 192.0.2.2", "*");
	check_report_free(&r);
	test_end();
}

static void test_spf_all(void)
{
	struct check_report *r;

	test_begin("spf: +all, ?all, ~all, no all, ptr");
	r = check("plusall.test", NULL);
	has(r, "spf", CHECK_FAIL,
	    "ends in +all|authorises every server on the internet",
	    "replace +all with -all");
	check_report_free(&r);
	r = check("bareall.test", NULL);
	has(r, "spf", CHECK_FAIL, "ends in +all", "*");
	check_report_free(&r);
	r = check("qall.test", NULL);
	has(r, "spf", CHECK_WARN, "ends in ?all|neutral", "-all or ~all");
	check_report_free(&r);
	r = check("gw.test", NULL);
	has(r, "spf", CHECK_PASS, "ends in ~all|soft-fails", NULL);
	check_report_free(&r);
	r = check("noall.test", NULL);
	has(r, "spf", CHECK_WARN, "does not end in an 'all' term",
	    "end the SPF record of noall.test with -all");
	check_report_free(&r);
	r = check("ptr.test", NULL);
	has(r, "spf", CHECK_WARN, "uses ptr|deprecated", "replace ptr");
	has(r, "spf", CHECK_PASS, "needs 1 of 10", NULL);
	check_report_free(&r);
	test_end();
}

static void test_spf_provider(void)
{
	struct opts smtp = {.hosts = {"smtp.gmail.com"}};
	struct opts given = {.provider = "google"};
	struct check_report *r;

	test_begin("spf: a provider's include present and absent");
	r = check("gw.test", &smtp);
	test_assert(r != NULL && r->provider != NULL &&
		    strcmp(r->provider, "google") == 0);
	has(r, "mx", CHECK_PASS,
	    "gw.test receives mail at aspmx.l.google.com|"
	    "Google Workspace",
	    NULL);
	has(r, "spf", CHECK_PASS,
	    "includes google's servers (include:_spf.google.com)", NULL);
	/* smtp.gmail.com is Google's submission host: not evaluated */
	test_assert(find(r, "spf", CHECK_PASS, "authorises", NULL) == NULL);
	test_assert(none_of(r, "spf", CHECK_UNKNOWN));
	test_assert(none_of(r, "spf", CHECK_FAIL));
	check_report_free(&r);
	r = check("gwbad.test", NULL);
	has(r, "spf", CHECK_FAIL, "gwbad.test does not include google's",
	    "add include:_spf.google.com to the SPF record of gwbad.test");
	check_report_free(&r);
	/* given, not recognised: good.test's MX is no provider's */
	r = check("good.test", &given);
	test_assert(r != NULL && r->provider != NULL &&
		    strcmp(r->provider, "google") == 0);
	has(r, "spf", CHECK_FAIL, "does not include google's servers",
	    "add include:_spf.google.com");
	check_report_free(&r);
	test_end();
}

static void test_spf_macros(void)
{
	struct opts in = {.hosts = {"192.0.2.44"}};
	struct opts out = {.hosts = {"192.0.2.45"}};
	struct opts redirect = {.hosts = {"192.0.2.5", "198.51.100.5"}};
	struct check_report *r;

	test_begin("spf: exists with macros, redirect=");
	r = check("macro.test", &in);
	has(r, "spf", CHECK_PASS,
	    "authorises 192.0.2.44|'exists:%{i}._spf.%{d}'", NULL);
	check_report_free(&r);
	r = check("macro.test", &out);
	has(r, "spf", CHECK_FAIL, "does not authorise 192.0.2.45",
	    "add ip4:192.0.2.45");
	check_report_free(&r);
	r = check("macro2.test", &in);
	has(r, "spf", CHECK_PASS, "authorises 192.0.2.44|exists:%{ir}", NULL);
	check_report_free(&r);
	r = check("redirect.test", &redirect);
	has(r, "spf", CHECK_PASS, "authorises 192.0.2.5|ip4:192.0.2.0/24",
	    NULL);
	has(r, "spf", CHECK_FAIL, "does not authorise 198.51.100.5",
	    "add ip4:198.51.100.5");
	has(r, "spf", CHECK_PASS, "ends in -all", NULL);
	has(r, "spf", CHECK_PASS, "needs 1 of 10", NULL);
	check_report_free(&r);
	test_end();
}

/* --- DMARC --------------------------------------------------------------- */

static void test_dmarc(void)
{
	struct check_report *r;

	test_begin("dmarc: reject, none, quarantine pct=50, missing, two, "
		   "organisational domain");
	r = check("good.test", NULL);
	has(r, "dmarc", CHECK_PASS,
	    "DMARC of good.test is p=reject|DKIM strict, SPF relaxed", NULL);
	test_assert(none_of(r, "dmarc", CHECK_WARN));
	check_report_free(&r);
	r = check("dmnone.test", NULL);
	has(r, "dmarc", CHECK_WARN, "is p=none|monitoring only",
	    "move to p=quarantine once the aggregate reports are clean");
	check_report_free(&r);
	r = check("dmq.test", NULL);
	has(r, "dmarc", CHECK_PASS, "is p=quarantine", NULL);
	has(r, "dmarc", CHECK_WARN, "to 50% of failing mail only", "pct");
	check_report_free(&r);
	r = check("nospf.test", NULL);
	has(r, "dmarc", CHECK_FAIL, "nospf.test has no DMARC record",
	    "publish a TXT record at _dmarc.nospf.test: v=DMARC1");
	check_report_free(&r);
	r = check("dmdup.test", NULL);
	has(r, "dmarc", CHECK_FAIL, "has 2 records|ignore them all",
	    "keep one");
	check_report_free(&r);
	r = check("dmnorua.test", NULL);
	has(r, "dmarc", CHECK_PASS, "p=reject", NULL);
	has(r, "dmarc", CHECK_WARN, "no rua=|aggregate reports",
	    "add rua=mailto:");
	check_report_free(&r);
	r = check("dmbadp.test", NULL);
	has(r, "dmarc", CHECK_FAIL, "(p=block)", "set p=none");
	check_report_free(&r);
	r = check("dmnop.test", NULL);
	has(r, "dmarc", CHECK_FAIL, "has no p= policy", "*");
	check_report_free(&r);
	r = check("dmother.test", NULL);
	has(r, "dmarc", CHECK_FAIL, "has no DMARC record", "*");
	check_report_free(&r);
	r = check("sub.org.test", NULL);
	has(r, "dmarc", CHECK_WARN,
	    "sub.org.test (found at its organisational domain _dmarc.org.test) "
	    "is sp=none",
	    "*");
	check_report_free(&r);
	r = check("bytes.test", NULL);
	has(r, "dmarc", CHECK_FAIL, "do not know (p=??x)", "*");
	{
		char *json = r != NULL ? check_report_to_json(r) : NULL;

		test_assert(json != NULL && strstr(json, "(p=??x)") != NULL);
		free(json);
	}
	check_report_free(&r);
	r = check("mail.good.test", NULL);
	has(r, "dmarc", CHECK_PASS,
	    "DMARC of mail.good.test (found at its organisational domain "
	    "_dmarc.good.test) is p=reject",
	    NULL);
	check_report_free(&r);
	test_end();
}

/* --- DKIM ---------------------------------------------------------------- */

static void test_dkim(void)
{
	struct opts conf = {.selectors = {"dkconf.test:custom"}};
	struct opts global = {.selectors = {"other.test:nope", "custom"}};
	struct opts other = {.selectors = {"other.test:custom"}};
	struct check_report *r;
	const struct check_finding *f;

	test_begin("dkim: RSA 2048, 1024, 512, revoked, malformed, ed25519, "
		   "CNAME, t=y, none");
	r = check("dkgood.test", NULL);
	has(r, "dkim", CHECK_PASS,
	    "DKIM key at default._domainkey.dkgood.test: RSA 2048 bits", NULL);
	f = find(r, "dkim", CHECK_PASS, "RSA 2048", NULL);
	test_assert(f != NULL && f->record != NULL &&
		    strncmp(f->record, "v=DKIM1; k=rsa; p=MIIB", 22) == 0 &&
		    strlen(f->record) > 255);
	check_report_free(&r);
	r = check("dk1024.test", NULL);
	has(r, "dkim", CHECK_WARN, "s1._domainkey.dk1024.test is RSA 1024 bits",
	    "rotate to a 2048-bit");
	check_report_free(&r);
	r = check("dk512.test", NULL);
	has(r, "dkim", CHECK_FAIL, "RSA 512 bits, too short", "2048-bit");
	check_report_free(&r);
	r = check("dkrevoked.test", NULL);
	has(r, "dkim", CHECK_FAIL, "k1._domainkey.dkrevoked.test is revoked",
	    "*");
	check_report_free(&r);
	r = check("dkbad.test", NULL);
	has(r, "dkim", CHECK_FAIL, "is malformed|not base64",
	    "publish the key again");
	check_report_free(&r);
	r = check("dkbad2.test", NULL);
	has(r, "dkim", CHECK_FAIL, "is malformed|not an RSA public key", "*");
	check_report_free(&r);
	r = check("dked.test", NULL);
	has(r, "dkim", CHECK_PASS, "dkim._domainkey.dked.test: ed25519", NULL);
	check_report_free(&r);
	r = check("dkcname.test", NULL);
	has(r, "dkim", CHECK_PASS,
	    "selector1._domainkey.dkcname.test: RSA 2048 bits", NULL);
	check_report_free(&r);
	r = check("dktest.test", NULL);
	has(r, "dkim", CHECK_PASS, "RSA 2048", NULL);
	has(r, "dkim", CHECK_WARN, "testing mode (t=y)", "remove t=y");
	check_report_free(&r);
	/* a revoked old key beside a working one harms nothing */
	r = check("dkrot.test", NULL);
	has(r, "dkim", CHECK_WARN,
	    "s1._domainkey.dkrot.test is revoked|another selector", "*");
	has(r, "dkim", CHECK_PASS, "s2._domainkey.dkrot.test: RSA 2048", NULL);
	test_assert(none_of(r, "dkim", CHECK_FAIL));
	check_report_free(&r);
	r = check("dkjunk.test", NULL);
	has(r, "dkim", CHECK_FAIL, "No DKIM key found for dkjunk.test", "*");
	check_report_free(&r);
	r = check("nospf.test", NULL);
	has(r, "dkim", CHECK_FAIL,
	    "No DKIM key found for nospf.test at the selectors tried: "
	    "default, s1, s2, k1, mail, dkim, selector1, selector2, google",
	    "publish the DKIM key your provider gives you, or set [checks] "
	    "dkim_selectors = nospf.test:selector");
	check_report_free(&r);
	/* the provider's selectors come before the common ones */
	r = check("gw.test", NULL);
	has(r, "dkim", CHECK_FAIL, "google._domainkey.gw.test is revoked", "*");
	check_report_free(&r);
	r = check("nospf.test", &(struct opts){.provider = "microsoft"});
	has(r, "dkim", CHECK_FAIL, "tried: selector1, selector2, default, s1",
	    "*");
	check_report_free(&r);
	/* configured selectors: for this domain, for every domain */
	r = check("dkconf.test", &conf);
	has(r, "dkim", CHECK_PASS, "custom._domainkey.dkconf.test: RSA 2048",
	    NULL);
	check_report_free(&r);
	r = check("dkconf.test", &global);
	has(r, "dkim", CHECK_PASS, "custom._domainkey.dkconf.test", NULL);
	check_report_free(&r);
	r = check("dkconf.test", &other);
	has(r, "dkim", CHECK_FAIL, "No DKIM key found for dkconf.test", "*");
	check_report_free(&r);
	test_end();
}

/* --- MX and block lists -------------------------------------------------- */

static void test_mx(void)
{
	struct check_report *r;

	test_begin("mx: good, null, none, no such domain");
	r = check("good.test", NULL);
	has(r, "mx", CHECK_PASS, "good.test receives mail at mx.good.test",
	    NULL);
	test_assert(r != NULL &&
		    find(r, "mx", CHECK_PASS, "mx", NULL)->record != NULL);
	check_report_free(&r);
	r = check("nullmx.test", NULL);
	has(r, "mx", CHECK_FAIL, "null MX|accepts no mail|replies cannot",
	    "replace the null MX");
	check_report_free(&r);
	r = check("nospf.test", NULL);
	has(r, "mx", CHECK_FAIL, "nospf.test has no MX record",
	    "publish the MX records");
	check_report_free(&r);
	r = check("nowhere.test", NULL);
	has(r, "mx", CHECK_FAIL, "does not exist in DNS (NXDOMAIN)", "*");
	check_report_free(&r);
	test_end();
}

static void test_lists(void)
{
	struct opts listed = {.hosts = {"127.0.0.2"},
			      .domain_lists = {"dbl.test"},
			      .ip_lists = {"ipbl.test", "clean.test"}};
	struct opts clean = {.hosts = {"192.0.2.7"},
			     .domain_lists = {"dbl.test"},
			     .ip_lists = {"ipbl.test", "clean.test"}};
	struct opts refused = {.hosts = {"192.0.2.7"},
			       .domain_lists = {"dbl.test"},
			       .ip_lists = {"refuse.test"}};
	struct opts odd = {.domain_lists = {"odd.test"}};
	struct check_report *r;

	test_begin("blacklist: listed with reasons, refused, clean");
	r = check("listed.test", &listed);
	has(r, "blacklist", CHECK_FAIL,
	    "listed.test is listed on dbl.test (127.0.1.2)|Listed: see",
	    "request delisting from the operator of dbl.test: "
	    "https://dbl.test/lookup?d=listed.test");
	has(r, "blacklist", CHECK_FAIL,
	    "127.0.0.2 is listed on ipbl.test (127.0.0.2)|Blocked",
	    "https://ipbl.test/q/127.0.0.2");
	test_assert(find(r, "blacklist", CHECK_PASS, "not listed", NULL) ==
		    NULL);
	check_report_free(&r);
	r = check("good.test", &clean);
	has(r, "blacklist", CHECK_PASS,
	    "good.test and its sending addresses are not listed on 3 lists "
	    "(dbl.test, ipbl.test, clean.test)",
	    NULL);
	check_report_free(&r);
	r = check("good.test", &refused);
	has(r, "blacklist", CHECK_UNKNOWN,
	    "refuse.test refused the query for 192.0.2.7 (127.255.255.254)",
	    "resolver of your own");
	has(r, "blacklist", CHECK_PASS, "not listed on 1 list (dbl.test)",
	    NULL);
	test_assert(none_of(r, "blacklist", CHECK_FAIL));
	check_report_free(&r);
	r = check("odd.test", &odd);
	has(r, "blacklist", CHECK_UNKNOWN, "not a listing code", NULL);
	check_report_free(&r);
	test_end();
}

/* --- the report ---------------------------------------------------------- */

static void test_json(void)
{
	static const char *const bad[] = {
	    "",
	    "[]",
	    "{\"domain\":\"a.test\"}",
	    "{\"domain\":\"a.test\",\"provider\":null,\"worst\":\"pass\"}",
	    "{\"domain\":\"a.test\",\"provider\":null,\"worst\":\"bad\","
	    "\"findings\":[]}",
	    "{\"domain\":\"a.test\",\"provider\":1,\"worst\":\"pass\","
	    "\"findings\":[]}",
	    "{\"domain\":\"a.test\",\"provider\":null,\"worst\":\"fail\","
	    "\"findings\":[]}",
	    "{\"domain\":\"a.test\",\"provider\":null,\"worst\":\"warn\","
	    "\"findings\":[{\"check\":\"spf\",\"status\":\"warn\"}]}",
	    "{\"domain\":\"a.test\",\"provider\":null,\"worst\":\"warn\","
	    "\"findings\":[{\"check\":\"averylongcheckname\",\"status\":"
	    "\"warn\",\"summary\":\"s\",\"fix\":null,\"record\":null}]}",
	    "{\"domain\":\"a.test\",\"provider\":null,\"worst\":\"warn\","
	    "\"findings\":[{\"check\":\"spf\",\"status\":\"meh\","
	    "\"summary\":\"s\",\"fix\":null,\"record\":null}]}",
	    "{\"domain\":\"a\\u0000.test\",\"provider\":null,\"worst\":"
	    "\"pass\",\"findings\":[]}",
	    "{\"domain\":\"a.test\",\"domain\":\"b.test\",\"provider\":null,"
	    "\"worst\":\"pass\",\"findings\":[]}",
	};
	struct opts o = {.hosts = {"10.9.9.9", "192.0.2.7"},
			 .domain_lists = {"dbl.test"},
			 .ip_lists = {"clean.test"}};
	struct check_report *r = check("good.test", &o);
	struct check_report *back = NULL;
	struct hearth_err err = {0};
	char *text, *again;

	test_begin("report: JSON round trip, bad JSON refused");
	test_assert(r != NULL);
	if (r == NULL) {
		test_end();
		return;
	}
	text = check_report_to_json(r);
	test_assert(text != NULL && strchr(text, '\n') == NULL);
	test_assert(strncmp(text,
			    "{\"domain\":\"good.test\",\"provider\":null,"
			    "\"worst\":\"fail\",\"failure\":\"SPF of good.test",
			    70) == 0);
	test_assert(check_report_from_json(text, &back, &err) == 0);
	test_assert(back != NULL && back->n_findings == r->n_findings &&
		    back->worst == r->worst);
	again = back != NULL ? check_report_to_json(back) : NULL;
	test_assert(again != NULL && strcmp(text, again) == 0);
	test_assert(
	    back != NULL && check_report_failure(back) != NULL &&
	    strcmp(check_report_failure(back), check_report_failure(r)) == 0);
	for (size_t i = 0; back != NULL && i < r->n_findings; i++) {
		const struct check_finding *a = &r->findings[i];
		const struct check_finding *b = &back->findings[i];

		test_assert(strcmp(a->check, b->check) == 0 &&
			    a->status == b->status &&
			    strcmp(a->summary, b->summary) == 0);
		test_assert((a->fix == NULL) == (b->fix == NULL));
		test_assert((a->record == NULL) == (b->record == NULL));
	}
	printf("# report of good.test: %zu findings, %zu bytes of JSON\n",
	       r->n_findings, strlen(text));
	free(text);
	free(again);
	check_report_free(&back);
	check_report_free(&r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		err = (struct hearth_err){0};
		if (check_report_from_json(bad[i], &back, &err) != -1 ||
		    back != NULL || err.fail != HEARTH_FAIL_PERMANENT) {
			fprintf(stderr, "accepted %s\n", bad[i]);
			test_assert(0);
		}
		check_report_free(&back);
	}
	/* a clean report: nothing fails, no failure sentence */
	test_assert(check_report_from_json(
			"{\"domain\":\"a.test\",\"provider\":\"google\","
			"\"worst\":\"warn\",\"findings\":[{\"check\":\"spf\","
			"\"status\":\"warn\",\"summary\":\"s\",\"fix\":\"f\","
			"\"record\":null}]}",
			&back, &err) == 0);
	test_assert(back != NULL && check_report_failure(back) == NULL &&
		    back->worst == CHECK_WARN &&
		    strcmp(back->provider, "google") == 0);
	check_report_free(&back);
	test_assert(strcmp(check_status_name(CHECK_UNKNOWN), "unknown") == 0);
	test_end();
}

static void test_options(void)
{
	static const char *const bad_hosts[] = {"smtp server", "[127.0.0.1]",
						"-x.test"};
	struct check_options o = {.domain = "good.test"};
	struct check_report *r = NULL;
	struct hearth_err err = {0};
	const char *sel[] = {"a:b:c"};
	const char *zone[] = {"bad zone"};
	const char *host[1];

	test_begin("options: malformed ones refused before any lookup");
	o.domain = "not a domain";
	test_assert(check_domain(dns, &o, &r, &err) == -1 && r == NULL);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	o.domain = NULL;
	test_assert(check_domain(dns, &o, &r, &err) == -1);
	o.domain = "good.test";
	o.provider = "lotus";
	test_assert(check_domain(dns, &o, &r, &err) == -1);
	test_assert(strstr(err.msg, "provider 'lotus'") != NULL);
	o.provider = NULL;
	for (size_t i = 0; i < sizeof(bad_hosts) / sizeof(*bad_hosts); i++) {
		host[0] = bad_hosts[i];
		o.sending_hosts = host;
		o.n_sending_hosts = 1;
		test_assert(check_domain(dns, &o, &r, &err) == -1);
	}
	o.n_sending_hosts = 0;
	o.dkim_selectors = sel;
	o.n_dkim_selectors = 1;
	test_assert(check_domain(dns, &o, &r, &err) == -1);
	test_assert(strstr(err.msg, "DKIM selector 'a:b:c'") != NULL);
	o.n_dkim_selectors = 0;
	o.ip_lists = zone;
	o.n_ip_lists = 1;
	test_assert(check_domain(dns, &o, &r, &err) == -1);
	o.n_ip_lists = 0;
	/* a trailing dot and capitals are fine */
	o.domain = "Good.Test.";
	test_assert(check_domain(dns, &o, &r, &err) == 0);
	test_assert(r != NULL && strcmp(r->domain, "good.test") == 0);
	check_report_free(&r);
	check_report_free(&r);
	test_end();
}

/* A server that never answers: every finding unknown, nothing fails. */
static void test_silent(void)
{
	struct opts o = {.hosts = {"192.0.2.7", "smtp.silent.test"},
			 .selectors = {"s1"},
			 .domain_lists = {"dbl.test"},
			 .ip_lists = {"zen.test"}};
	uint16_t port = 0;
	int fd = udp_any(&port);
	struct dns *saved = dns;
	struct check_report *r;
	int64_t start = net_now_msecs();

	test_begin("silent server: unknown, never fail");
	dns = dns_at(port, 100);
	r = check("silent.test", &o);
	test_assert(r != NULL && r->worst == CHECK_UNKNOWN);
	test_assert(r != NULL && check_report_failure(r) == NULL);
	has(r, "mx", CHECK_UNKNOWN, "could not be looked up", NULL);
	has(r, "spf", CHECK_UNKNOWN, "smtp.silent.test could not be resolved",
	    NULL);
	has(r, "spf", CHECK_UNKNOWN, "could not be looked up", NULL);
	has(r, "dkim", CHECK_UNKNOWN, "s1._domainkey.silent.test", NULL);
	has(r, "dkim", CHECK_UNKNOWN, "9 of 9 selector lookups", NULL);
	has(r, "dmarc", CHECK_UNKNOWN, "could not be looked up", NULL);
	has(r, "blacklist", CHECK_UNKNOWN, "could not be looked up on dbl.test",
	    NULL);
	/* after 3 unanswered lookups the rest are not even asked */
	has(r, "dmarc", CHECK_UNKNOWN, "not asked|did not answer the last 3",
	    NULL);
	test_assert(net_now_msecs() - start <=
		    CHECK_DNS_DEAD_AFTER_TEST * 100 + test_slack_msecs());
	printf("# silent server: %zu findings in %lld ms\n",
	       r != NULL ? r->n_findings : 0,
	       (long long)(net_now_msecs() - start));
	check_report_free(&r);
	dns_free(&dns);
	dns = saved;
	close(fd);
	test_end();
}

int main(void)
{
	uint16_t port = 0;
	pid_t pid = -1;

	signal(SIGPIPE, SIG_IGN);
	if (access(DNSMASQ, X_OK) != 0) {
		printf("skip: no %s (apt install dnsmasq-base)\n", DNSMASQ);
		return TEST_SKIP;
	}
	zones();
	/* A free port now may be taken by the time dnsmasq binds it. */
	for (int attempt = 0; attempt < 5 && pid < 0; attempt++) {
		int fd = udp_any(&port);

		if (fd < 0)
			break;
		close(fd);
		pid = dnsmasq_start(port, (const char *const *)args, n_args);
		if (pid > 0 && !dnsmasq_ready(pid, port, "relay.inc2.test")) {
			child_stop(pid);
			pid = -1;
		}
	}
	test_begin("dnsmasq starts on 127.0.0.1");
	test_assert(pid > 0);
	test_end();
	if (pid > 0) {
		printf("# dnsmasq pid %d on 127.0.0.1 port %u\n", (int)pid,
		       port);
		dns = dns_at(port, 2000 * test_time_scale());
		test_spf_good();
		test_spf_records();
		test_spf_limits();
		test_spf_all();
		test_spf_provider();
		test_spf_macros();
		test_dmarc();
		test_dkim();
		test_mx();
		test_lists();
		test_json();
		test_options();
		test_silent();
		dns_free(&dns);
		child_stop(pid);
	}
	for (size_t i = 0; i < n_args; i++)
		free(args[i]);
	free(args);
	return test_exit();
}
