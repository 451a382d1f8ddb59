// SPDX-License-Identifier: MIT
/*
 * hearth check DOMAIN|ADDRESS: the deliverability checks of a sending
 * domain (include/hearth/check.h) through the configured DNS servers, with
 * the provider and SMTP hosts of the domain's enrolled inboxes when there
 * are any. Exit 0 when nothing fails, 1 when a check fails.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "hearth/check.h"
#include "hearth/dns.h"
#include "hearth/message.h"
#include "hearth/provider.h"
#include "hearth/xalloc.h"

/* The exit status of a report with a failing check. */
#define CHECK_EXIT_FAIL		1
#define CHECK_DNS_TIMEOUT_MSECS 3000

static int check_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: hearth check DOMAIN|ADDRESS [--json] [--provider NAME]\n"
	    "                    [--sending-host HOST]...\n"
	    "\n"
	    "Check what decides whether a sending domain's mail is "
	    "trusted, through DNS\n"
	    "([network] dns): MX, SPF (the record, its lookups, its "
	    "'all', whether it\n"
	    "authorises the provider and each sending host), DKIM keys, "
	    "the DMARC policy,\n"
	    "and the block lists of [checks] domain_lists and ip_lists. "
	    "Each finding says\n"
	    "pass, warn, unknown (a lookup failed) or fail, and what to "
	    "fix.\n"
	    "\n"
	    "For an ADDRESS, or a DOMAIN with enrolled inboxes, their "
	    "provider and SMTP\n"
	    "hosts are used; otherwise the provider is recognised from "
	    "the MX records.\n"
	    "\n"
	    "  --json               the report as JSON\n"
	    "  --provider NAME      the provider the domain sends "
	    "through (google, microsoft,\n"
	    "                       yahoo, zoho, fastmail, generic)\n"
	    "  --sending-host HOST  an SMTP host or IPv4 address mail "
	    "leaves from (repeatable)\n"
	    "\n"
	    "Exit status: 0 nothing fails, 1 a check fails, 64 usage, 75 "
	    "DNS did not answer,\n"
	    "78 configuration.\n");
	return out == stdout ? EX_OK : EX_USAGE;
}

/* Add s to v (of *n, at most CHECK_MAX_OPTION_ITEMS) unless there. */
static void add_unique(const char **v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcasecmp(v[i], s) == 0)
			return;
	}
	if (*n < CHECK_MAX_OPTION_ITEMS)
		v[(*n)++] = s;
}

struct check_enrolled {
	struct store_inbox *inboxes;
	size_t n;
	const char *provider; /* the inboxes' provider when they agree */
	bool mixed;	      /* they do not agree */
	size_t matched;	      /* inboxes of the domain */
};

/*
 * The enrolled inboxes of domain (or the one address): their provider and
 * SMTP hosts. 0, or an exit code.
 */
static int check_from_store(struct cli *cli, const char *domain,
			    const char *address, struct check_enrolled *en,
			    const char **hosts, size_t *n_hosts)
{
	struct hearth_err err = {0};
	struct stat st;
	int ret;

	if (stat(cli->cfg->database, &st) < 0)
		return 0;
	ret = cli_open(cli, CLI_STORE);
	if (ret != EX_OK)
		return ret;
	if (store_inbox_list(cli->store, 0, 0, false, &en->inboxes, &en->n,
			     &err) < 0)
		return cli_fail("check", &err);
	for (size_t i = 0; i < en->n; i++) {
		const struct store_inbox *in = &en->inboxes[i];
		const char *at = strrchr(in->address, '@');

		if (at == NULL || strcasecmp(at + 1, domain) != 0 ||
		    (address != NULL && strcasecmp(in->address, address) != 0))
			continue;
		en->matched++;
		if (in->smtp_host != NULL)
			add_unique(hosts, n_hosts, in->smtp_host);
		if (in->provider == NULL)
			continue;
		if (en->provider == NULL)
			en->provider = in->provider;
		else if (strcmp(en->provider, in->provider) != 0)
			en->mixed = true;
	}
	if (en->mixed)
		en->provider = NULL;
	return 0;
}

static void print_report(const struct check_report *r,
			 const struct check_enrolled *en, const char *address,
			 const char *const *hosts, size_t n_hosts)
{
	const char *group = "";
	size_t fails = 0, warns = 0, unknowns = 0;
	const struct provider *p =
	    r->provider != NULL ? provider_by_name(r->provider) : NULL;

	printf("%s: provider %s", r->domain,
	       r->provider != NULL ? r->provider : "not recognised");
	if (n_hosts > 0) {
		printf(", sending host%s", n_hosts > 1 ? "s" : "");
		for (size_t i = 0; i < n_hosts; i++)
			printf("%s %s", i > 0 ? "," : "", hosts[i]);
	}
	printf("\n");
	if (address != NULL && en->matched == 0)
		printf("note: %s is not enrolled\n", address);
	if (en->mixed)
		printf("note: the inboxes of %s use different providers; the "
		       "one of its MX is assumed\n",
		       r->domain);
	if (n_hosts == 0 && p != NULL && p->spf_includes != NULL)
		printf("note: no sending host known: SPF was checked for %s's "
		       "include only (enroll an inbox or give "
		       "--sending-host)\n",
		       p->name);
	else if (n_hosts == 0)
		printf("note: no sending host known: SPF authorisation of a "
		       "sending host was not checked (enroll an inbox or "
		       "give --sending-host)\n");
	for (size_t i = 0; p != NULL && p->spf_includes != NULL && i < n_hosts;
	     i++) {
		if (p->smtp_host != NULL &&
		    strcasecmp(hosts[i], p->smtp_host) == 0)
			printf("note: %s is %s's submission server, not where "
			       "its mail leaves from: the include stands for "
			       "it\n",
			       hosts[i], p->name);
	}
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct check_finding *f = &r->findings[i];

		if (strcmp(f->check, group) != 0) {
			group = f->check;
			printf("\n%s\n", group);
		}
		printf("  %-8s %s\n", check_status_name(f->status), f->summary);
		if (f->fix != NULL)
			printf("           fix: %s\n", f->fix);
		if (f->record != NULL && cli_globals.verbose)
			printf("           record: %s\n", f->record);
		fails += f->status == CHECK_FAIL;
		warns += f->status == CHECK_WARN;
		unknowns += f->status == CHECK_UNKNOWN;
	}
	printf("\nresult: %s (%zu fail, %zu warn, %zu unknown, %zu "
	       "findings)\n",
	       check_status_name(r->worst), fails, warns, unknowns,
	       r->n_findings);
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"provider", required_argument, NULL, 'p'},
	    {"sending-host", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct cli cli = {0};
	struct check_enrolled en = {0};
	struct hearth_err err = {0};
	struct dns *dns = NULL;
	struct check_report *report = NULL;
	struct dns_mx *mx = NULL;
	const char *hosts[CHECK_MAX_OPTION_ITEMS];
	size_t n_hosts = 0, n_given = 0, n_mx = 0;
	const char *provider = NULL;
	char *target = NULL, *address = NULL, *domain;
	bool json = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'p':
			if (provider_by_name(optarg) == NULL)
				return cli_usage_error(
				    "check",
				    "unknown provider '%s' (google, "
				    "microsoft, yahoo, zoho, fastmail, "
				    "generic)",
				    optarg);
			provider = provider_by_name(optarg)->name;
			break;
		case 's':
			if (n_given == CHECK_MAX_OPTION_ITEMS)
				return cli_usage_error(
				    "check", "at most %d --sending-host",
				    CHECK_MAX_OPTION_ITEMS);
			if (!message_domain_ok(optarg) &&
			    inet_pton(AF_INET, optarg, &(struct in_addr){0}) !=
				1)
				return cli_usage_error(
				    "check",
				    "--sending-host '%s' is not a host name or "
				    "an IPv4 address",
				    optarg);
			hosts[n_given++] = optarg;
			break;
		default:
			return check_usage(c == 'h' ? stdout : stderr);
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("check", "give one DOMAIN or ADDRESS");
	target = xstrdup(argv[optind]);
	for (char *p = target; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (strchr(target, '@') != NULL) {
		if (!message_address_ok(target)) {
			ret = cli_usage_error("check",
					      "'%s' is not an email address",
					      argv[optind]);
			goto out;
		}
		address = target;
		domain = strrchr(target, '@') + 1;
	} else {
		size_t len = strlen(target);

		if (len > 0 && target[len - 1] == '.')
			target[len - 1] = '\0';
		if (!message_domain_ok(target)) {
			ret = cli_usage_error("check",
					      "'%s' is not a domain (e.g. "
					      "example.com) or an address",
					      argv[optind]);
			goto out;
		}
		domain = target;
	}
	n_hosts = n_given;
	ret = cli_open(&cli, 0);
	if (ret != EX_OK)
		goto out;
	ret = check_from_store(&cli, domain, address, &en, hosts, &n_hosts);
	if (ret != 0)
		goto out;
	/* given on the command line: those hosts only */
	if (n_given > 0)
		n_hosts = n_given;
	if (provider == NULL)
		provider = en.provider;
	if (dns_new(
		&(struct dns_options){.servers = cli.cfg->dns_servers,
				      .timeout_msecs = CHECK_DNS_TIMEOUT_MSECS},
		&dns, &err) < 0) {
		ret = err.fail == HEARTH_FAIL_PERMANENT
			  ? EX_CONFIG
			  : cli_fail("check", &err);
		if (ret == EX_CONFIG)
			fprintf(stderr, "hearth check: [network] dns: %s\n",
				err.msg);
		goto out;
	}
	/* A resolver that does not answer would make every check wait. */
	if (dns_mx(dns, domain, &mx, &n_mx, NULL, &err) < 0) {
		fprintf(
		    stderr,
		    "hearth check: DNS did not answer (%s); check [network] "
		    "dns, then try again\n",
		    err.msg);
		ret = EX_TEMPFAIL;
		goto out;
	}
	{
		const struct config_list *dl = &cli.cfg->checks_domain_lists;
		const struct config_list *il = &cli.cfg->checks_ip_lists;
		const struct config_list *sl = &cli.cfg->checks_dkim_selectors;
		struct check_options co = {
		    .domain = domain,
		    .provider = provider,
		    .sending_hosts = hosts,
		    .n_sending_hosts = n_hosts,
		    .dkim_selectors = (const char *const *)sl->items,
		    .n_dkim_selectors = sl->n,
		    .domain_lists = (const char *const *)dl->items,
		    .n_domain_lists = dl->n,
		    .ip_lists = (const char *const *)il->items,
		    .n_ip_lists = il->n,
		};

		if (check_domain(dns, &co, &report, &err) < 0) {
			ret = cli_fail("check", &err);
			goto out;
		}
	}
	if (json) {
		char *text = check_report_to_json(report);
		json_t *v = json_loads(text, 0, NULL);

		free(text);
		cli_json_print(v);
	} else if (!cli_globals.quiet) {
		print_report(report, &en, address, hosts, n_hosts);
	}
	ret = report->worst == CHECK_FAIL ? CHECK_EXIT_FAIL : EX_OK;
out:
	check_report_free(&report);
	dns_mx_free(&mx, n_mx);
	dns_free(&dns);
	store_inbox_list_free(&en.inboxes, en.n);
	cli_close(&cli);
	free(target);
	return ret;
}
