// SPDX-License-Identifier: MIT
/*
 * hearth status: per pool and per inbox, the day's plan and progress, what
 * is due, what failed and why, paused inboxes and their reasons; per
 * sending domain its newest deliverability check. Read from the store
 * alone, so it works while the engine runs.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "hearth/clock.h"
#include "hearth/xalloc.h"

static int status_usage(FILE *out)
{
	fprintf(out,
		"usage: hearth status [--json] [--pool NAME] [--day "
		"YYYY-MM-DD]\n"
		"\n"
		"The day's plan and progress per pool and inbox (default: "
		"today, UTC; after a\n"
		"simulation, the simulated day), what is due, the failures "
		"and their reasons,\n"
		"the paused inboxes with why, and each sending domain's "
		"newest check (SPF,\n"
		"DKIM, DMARC, MX, block lists) up to the end of that day.\n");
	return out == stdout ? EX_OK : EX_USAGE;
}

struct status_inbox {
	const struct store_inbox *in;
	struct store_ramp_day day;
};

static json_t *counts_json(const struct store_exchange_counts *c)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "planned",
			 (json_int_t)c->planned, "sending",
			 (json_int_t)c->sending, "sent", (json_int_t)c->sent,
			 "failed", (json_int_t)c->failed, "due",
			 (json_int_t)c->due, "engaged", (json_int_t)c->engaged,
			 "replies", (json_int_t)c->replies);
}

static json_t *day_json(const struct status_inbox *si)
{
	const struct store_inbox *in = si->in;
	const struct store_ramp_day *d = &si->day;

	return json_pack(
	    "{s:s, s:s, s:o, s:o, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, "
	    "s:i, s:i, s:i, s:i, s:i, s:i}",
	    "address", in->address, "state", in->state, "reason",
	    cli_json_str(in->state_reason), "ramp_state",
	    cli_json_str(d->ramp_state), "volume", d->volume, "planned",
	    d->planned, "sent", d->sent, "inbox", d->inbox, "spam", d->spam,
	    "other", d->other, "missing", d->missing, "rescued", d->rescued,
	    "read", d->read, "flagged", d->flagged, "replied", d->replied,
	    "failed", d->failed, "bounced", d->bounced, "auto_replies",
	    d->auto_replies);
}

/* ---- the domains block ---- */

/* A sending domain of the inboxes shown, with its newest check. */
struct status_domain {
	int64_t id;
	char *name;				/* lower case */
	const struct store_domain_check *check; /* NULL: never checked */
};

struct status_domains {
	struct status_domain *v;
	size_t n;
	struct store_domain_check *checks;
	size_t n_checks;
};

static int domain_name_cmp(const void *a, const void *b)
{
	const struct status_domain *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int domain_id_cmp(const void *a, const void *b)
{
	const struct status_domain *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static int check_id_cmp(const void *a, const void *b)
{
	const struct store_domain_check *x = a, *y = b;

	return (x->domain_id > y->domain_id) - (x->domain_id < y->domain_id);
}

/*
 * The domains of the active and paused inboxes of pool_id (0: every pool),
 * ordered by name, each with its newest check up to `now`.
 */
static int domains_load(struct store *store, int64_t pool_id, int64_t now,
			struct status_domains *ds, struct hearth_err *err)
{
	struct store_inbox *inboxes = NULL;
	size_t n = 0;

	if (store_domain_check_latest(store, 0, now, &ds->checks, &ds->n_checks,
				      err) < 0 ||
	    store_inbox_list(store, 0, pool_id, false, &inboxes, &n, err) < 0)
		return -1;
	if (ds->n_checks > 1)
		qsort(ds->checks, ds->n_checks, sizeof(*ds->checks),
		      check_id_cmp);
	/* one entry per inbox, by domain id; then one per domain */
	ds->v = xcalloc(n + 1, sizeof(*ds->v));
	for (size_t i = 0; i < n; i++) {
		ds->v[i].id = inboxes[i].domain_id;
		ds->v[i].name = inboxes[i].address; /* borrowed */
	}
	if (n > 1)
		qsort(ds->v, n, sizeof(*ds->v), domain_id_cmp);
	for (size_t i = 0; i < n; i++) {
		struct store_domain_check key = {.domain_id = ds->v[i].id};
		struct status_domain *d;
		const char *at;

		if (ds->n > 0 && ds->v[ds->n - 1].id == ds->v[i].id)
			continue;
		d = &ds->v[ds->n++];
		at = strrchr(ds->v[i].name, '@');
		d->id = ds->v[i].id;
		d->check = ds->n_checks == 0
			       ? NULL
			       : bsearch(&key, ds->checks, ds->n_checks,
					 sizeof(*ds->checks), check_id_cmp);
		/* the domain's stored name; the address's part if unchecked */
		d->name = xstrdup(d->check != NULL ? d->check->domain
				  : at != NULL	   ? at + 1
						   : ds->v[i].name);
		for (char *p = d->name; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	store_inbox_list_free(&inboxes, n);
	if (ds->n > 1)
		qsort(ds->v, ds->n, sizeof(*ds->v), domain_name_cmp);
	return 0;
}

static void domains_free(struct status_domains *ds)
{
	for (size_t i = 0; i < ds->n; i++)
		free(ds->v[i].name);
	free(ds->v);
	store_domain_check_list_free(&ds->checks, ds->n_checks);
	memset(ds, 0, sizeof(*ds));
}

/* "2026-03-20 08:15 UTC" */
static void format_stamp(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(buf, size, "%" PRId64, t);
}

/* Text from DNS records goes to a terminal: no control characters. */
static void print_clean(const char *s)
{
	for (; *s != '\0'; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static void print_domains_text(const struct status_domains *ds)
{
	printf("domains\n");
	for (size_t i = 0; i < ds->n; i++) {
		const struct status_domain *d = &ds->v[i];
		char when[40];

		if (d->check == NULL) {
			printf("  %-34s not checked yet\n", d->name);
			continue;
		}
		format_stamp(d->check->checked_at, when, sizeof(when));
		printf("  %-34s %-7s checked %s\n", d->name, d->check->worst,
		       when);
		if (d->check->failure != NULL) {
			printf("    ");
			print_clean(d->check->failure);
			putchar('\n');
		}
	}
}

static json_t *domains_json(const struct status_domains *ds)
{
	json_t *a = json_array();

	for (size_t i = 0; i < ds->n; i++) {
		const struct status_domain *d = &ds->v[i];
		const struct store_domain_check *c = d->check;

		/* never checked: checked_at, worst and failure are null */
		json_array_append_new(
		    a,
		    json_pack(
			"{s:s, s:o, s:o, s:o}", "name", d->name, "checked_at",
			c != NULL ? json_integer(c->checked_at) : json_null(),
			"worst", cli_json_str(c != NULL ? c->worst : NULL),
			"failure",
			cli_json_str(c != NULL ? c->failure : NULL)));
	}
	return a;
}

static void print_pool_text(const struct store_pool *pool, const char *date,
			    const struct store_exchange_counts *c,
			    const struct store_failure *fails, size_t n_fails,
			    const struct status_inbox *v, size_t n)
{
	printf("pool %s  day %s\n", pool->name, date);
	printf("  exchanges: planned %" PRId64 ", sending %" PRId64
	       ", sent %" PRId64 ", failed %" PRId64 ", due now %" PRId64
	       ", engaged %" PRId64 ", replies %" PRId64 "\n",
	       c->planned, c->sending, c->sent, c->failed, c->due, c->engaged,
	       c->replies);
	for (size_t i = 0; i < n_fails; i++)
		printf("  failed %" PRId64 "x: %s\n", fails[i].count,
		       fails[i].error);
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].in->state, "active") != 0)
			printf("  %s %s: %s\n", v[i].in->state,
			       v[i].in->address,
			       v[i].in->state_reason != NULL
				   ? v[i].in->state_reason
				   : "(no reason recorded)");
	printf("  %-34s %-7s %6s %7s %5s %5s %5s %5s %7s %6s %7s %7s  %s\n",
	       "inbox", "state", "volume", "planned", "sent", "inbox", "spam",
	       "miss", "replied", "failed", "bounced", "autorep", "ramp");
	for (size_t i = 0; i < n; i++) {
		const struct store_ramp_day *d = &v[i].day;

		printf("  %-34s %-7s %6d %7d %5d %5d %5d %5d %7d %6d %7d %7d  "
		       "%s\n",
		       v[i].in->address, v[i].in->state, d->volume, d->planned,
		       d->sent, d->inbox, d->spam, d->missing, d->replied,
		       d->failed, d->bounced, d->auto_replies,
		       d->ramp_state != NULL ? d->ramp_state : "-");
	}
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"pool", required_argument, NULL, 'p'},
	    {"day", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct cli cli = {0};
	struct hearth_err err = {0};
	struct store_pool *pools = NULL;
	struct status_domains domains = {0};
	size_t n_pools = 0;
	const char *pool_name = NULL;
	bool json = false, simulated = false;
	int64_t now = cli_now(), day = -1;
	char date[CLOCK_DATE_SIZE];
	char *sim = NULL;
	json_t *out = NULL, *jpools = NULL;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'p':
			pool_name = optarg;
			break;
		case 'd':
			if (clock_day_parse(optarg, &day) < 0)
				return cli_usage_error("status",
						       "--day must be a date "
						       "YYYY-MM-DD");
			break;
		default:
			return status_usage(c == 'h' ? stdout : stderr);
		}
	}
	if (optind != argc)
		return status_usage(stderr);
	ret = cli_open(&cli, CLI_STORE);
	if (ret != EX_OK)
		return ret;
	/* after a simulation, its clock is the one that means something */
	if (store_setting_get(cli.store, "simulate.clock", &sim, &err) == 1 &&
	    strtoll(sim, NULL, 10) > now) {
		now = strtoll(sim, NULL, 10);
		simulated = true;
	}
	free(sim);
	if (day < 0)
		day = clock_day_index(now);
	else
		now = day * CLOCK_DAY_SECS + CLOCK_DAY_SECS - 1;
	clock_day_format(day, date);
	if (store_pool_list(cli.store, &pools, &n_pools, &err) < 0) {
		ret = cli_fail("status", &err);
		goto out;
	}
	/* the domains of the pool shown (none for an unknown pool), else of
	 * every pool */
	{
		int64_t pool_id = 0;

		for (size_t p = 0; p < n_pools && pool_name != NULL; p++)
			if (strcmp(pools[p].name, pool_name) == 0)
				pool_id = pools[p].id;
		if ((pool_name == NULL || pool_id != 0) &&
		    domains_load(cli.store, pool_id, now, &domains, &err) < 0) {
			ret = cli_fail("status", &err);
			goto out;
		}
	}
	if (json) {
		out = json_pack("{s:s, s:b, s:I}", "day", date, "simulated",
				simulated, "now", (json_int_t)now);
		json_object_set_new(out, "domains", domains_json(&domains));
		jpools = json_array();
		json_object_set_new(out, "pools", jpools);
	} else {
		if (simulated)
			printf("(the simulated clock of this database: %s)\n",
			       date);
		if (domains.n > 0)
			print_domains_text(&domains);
	}
	for (size_t p = 0; p < n_pools; p++) {
		struct store_exchange_counts counts;
		struct store_failure *fails = NULL;
		struct store_inbox *inboxes = NULL;
		struct status_inbox *v = NULL;
		size_t n_fails = 0, n = 0;

		if (pool_name != NULL && strcmp(pools[p].name, pool_name) != 0)
			continue;
		if (store_exchange_count(cli.store, pools[p].id, 0, date, now,
					 &counts, &err) < 0 ||
		    store_exchange_failures(cli.store, pools[p].id, date, 10,
					    &fails, &n_fails, &err) < 0 ||
		    store_inbox_list(cli.store, 0, pools[p].id, false, &inboxes,
				     &n, &err) < 0) {
			store_failure_list_free(&fails, n_fails);
			ret = cli_fail("status", &err);
			goto out;
		}
		v = calloc(n + 1, sizeof(*v));
		for (size_t i = 0; i < n && v != NULL; i++) {
			v[i].in = &inboxes[i];
			if (store_ramp_day_get(cli.store, inboxes[i].id, date,
					       &v[i].day, &err) < 0)
				break;
		}
		if (json) {
			json_t *jp = json_pack(
			    "{s:s, s:s, s:o}", "name", pools[p].name, "day",
			    date, "exchanges", counts_json(&counts));
			json_t *jf = json_array(), *ji = json_array(),
			       *jpaused = json_array();

			for (size_t i = 0; i < n_fails; i++)
				json_array_append_new(
				    jf, json_pack("{s:s, s:I}", "error",
						  fails[i].error, "count",
						  (json_int_t)fails[i].count));
			for (size_t i = 0; i < n && v != NULL; i++) {
				json_array_append_new(ji, day_json(&v[i]));
				if (strcmp(inboxes[i].state, "active") != 0)
					json_array_append_new(
					    jpaused,
					    json_pack(
						"{s:s, s:s, s:o}", "address",
						inboxes[i].address, "state",
						inboxes[i].state, "reason",
						cli_json_str(
						    inboxes[i].state_reason)));
			}
			json_object_set_new(jp, "failures", jf);
			json_object_set_new(jp, "paused", jpaused);
			json_object_set_new(jp, "inboxes", ji);
			json_array_append_new(jpools, jp);
		} else if (v != NULL && n > 0) {
			/* a pool without inboxes has nothing to show */
			print_pool_text(&pools[p], date, &counts, fails,
					n_fails, v, n);
		}
		for (size_t i = 0; i < n && v != NULL; i++)
			store_ramp_day_clear(&v[i].day);
		free(v);
		store_failure_list_free(&fails, n_fails);
		store_inbox_list_free(&inboxes, n);
	}
	if (json) {
		cli_json_print(out);
		out = NULL;
	}
	ret = EX_OK;
out:
	json_decref(out);
	domains_free(&domains);
	store_pool_list_free(&pools, n_pools);
	cli_close(&cli);
	return ret;
}
