// SPDX-License-Identifier: MIT
/*
 * The scheduler on a virtual clock with a fake network: a real store in a
 * temporary directory, a real vault, the shipped corpus. The fake records
 * every job it is handed (and what the store said about it at that moment);
 * the test decides each result and when it comes, and checks the rows.
 *
 * run_to() is the loop of `hearth simulate` in small: step at each wake
 * time up to a limit, answer every call at once (250, placement inbox)
 * unless it is the call the test waits for, which it returns unanswered.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hearth/clock.h"
#include "hearth/content.h"
#include "hearth/log.h"
#include "hearth/ramp.h"
#include "hearth/sched.h"
#include "hearth/scheduler.h"
#include "hearth/store.h"
#include "hearth/vault.h"
#include "hearth/xalloc.h"
#include "test.h"

#define DAY0	     1717372800 /* Monday 2024-06-03 00:00 UTC */
#define HOUR	     3600
#define TOKEN_HEADER "X-Relay-Ref"
/* Overrides: exactly n sends a day from every inbox, no replies. */
#define FIXED(n) "start=" #n ",target=" #n ",jitter=0,reply=0,weekend=1"

static char tmpdir[] = "/tmp/hearth-test-scheduler-XXXXXX";
static int n_env;
static struct content_corpus *corpus;

/* ---- the fake network ---- */

struct call_item {
	int64_t exchange_id;
	char token[64];
	bool rescue, seen, flagged, important, delete_after;
	bool file_to;
};

struct call {
	bool engage;
	uint64_t job_id;
	uint32_t run;
	int64_t at;
	int timeout_secs;
	bool answered;
	/* SEND: the exchange whose token the data carries, as the store had
	 * it during the call */
	int64_t exchange_id;
	char state[16];
	char message_id[400];
	bool had_subject, had_body;
	char from[256], to[256];
	char *data;
	size_t data_len;
	/* ENGAGE: the recipient (by its IMAP user name) and the items */
	int64_t inbox_id;
	char user[256];
	size_t n_items;
	struct call_item *items;
	bool notices; /* asked to look for bounces and auto-replies */
	/* CHECK: the domain and what the job said about it */
	bool check;
	char domain[256], provider[32], host[256];
	size_t n_hosts;
};

/* The inboxes of a test pool: three domains, two clients. */
static const struct {
	const char *address, *client, *domain;
} pool_inboxes[] = {
    {"ann@alpha.example", "acme", "alpha.example"},
    {"bob@beta.example", "globex", "beta.example"},
    {"cat@gamma.example", "acme", "gamma.example"},
    {"dan@alpha.example", "globex", "alpha.example"},
    {"eve@beta.example", "acme", "beta.example"},
};
#define MAX_INBOXES (sizeof(pool_inboxes) / sizeof(*pool_inboxes))

struct env {
	char *db_path, *key_path;
	struct store *store;
	struct vault *vault;
	struct scheduler *sc;
	struct scheduler_options opts;
	int64_t now;
	int64_t pool_id;
	size_t n_inboxes;
	int64_t ids[MAX_INBOXES];
	/* the fake network */
	struct call *calls;
	size_t n_calls, cap_calls;
	size_t seen; /* calls run_to has looked at */
	bool refuse_send;
	unsigned refused;
	bool manual; /* run_to answers nothing */
	size_t n_abandoned;
	uint64_t abandoned_id[16];
	uint32_t abandoned_run[16];
};

static struct call *call_new(struct env *e)
{
	struct call *c;

	if (e->n_calls == e->cap_calls) {
		e->cap_calls = e->cap_calls ? e->cap_calls * 2 : 64;
		e->calls =
		    xreallocarray(e->calls, e->cap_calls, sizeof(*e->calls));
	}
	c = &e->calls[e->n_calls++];
	memset(c, 0, sizeof(*c));
	c->at = e->now;
	return c;
}

static int fake_send(void *ctx, uint64_t job_id, uint32_t run,
		     const struct job_send *job, int timeout_secs)
{
	struct env *e = ctx;
	struct call *c;
	struct store_exchange *xs = NULL;
	size_t n = 0;

	if (e->refuse_send) {
		e->refused++;
		return -1;
	}
	test_assert(!scheduler_job_is_engage(job_id));
	test_assert(!scheduler_job_is_check(job_id));
	c = call_new(e);
	c->job_id = job_id;
	c->run = run;
	c->timeout_secs = timeout_secs;
	snprintf(c->from, sizeof(c->from), "%s", job->mail_from);
	snprintf(c->to, sizeof(c->to), "%s", job->rcpt_to);
	c->data = xmalloc(job->data_len + 1);
	memcpy(c->data, job->data, job->data_len);
	c->data[job->data_len] = '\0';
	c->data_len = job->data_len;
	/* the scheduler is single-threaded: the store may be read here */
	test_assert(store_exchange_list_state(e->store, "sending", INT64_MAX, 0,
					      &xs, &n, NULL) == 0);
	for (size_t i = 0; i < n; i++) {
		char *needle =
		    xasprintf("\r\n" TOKEN_HEADER ": %s\r\n", xs[i].token);
		bool found = strstr(c->data, needle) != NULL;

		free(needle);
		if (!found)
			continue;
		c->exchange_id = xs[i].id;
		snprintf(c->state, sizeof(c->state), "%s", xs[i].state);
		snprintf(c->message_id, sizeof(c->message_id), "%s",
			 xs[i].message_id != NULL ? xs[i].message_id : "");
		c->had_subject = xs[i].subject != NULL;
		c->had_body = xs[i].body != NULL;
	}
	store_exchange_list_free(&xs, n);
	return 0;
}

static int fake_engage(void *ctx, uint64_t job_id, uint32_t run,
		       const struct job_engage *job, int timeout_secs)
{
	struct env *e = ctx;
	struct call *c;
	struct store_inbox in = {0};

	test_assert(scheduler_job_is_engage(job_id));
	c = call_new(e);
	c->engage = true;
	c->job_id = job_id;
	c->run = run;
	c->timeout_secs = timeout_secs;
	snprintf(c->user, sizeof(c->user), "%s", job->imap.cred.username);
	if (store_inbox_get(e->store, c->user, &in, NULL) == 1)
		c->inbox_id = in.id;
	store_inbox_clear(&in);
	c->n_items = job->n_items;
	c->notices = job->notice_token_header != NULL &&
		     strcmp(job->notice_token_header, TOKEN_HEADER) == 0 &&
		     job->notice_days > 0;
	c->items = xcalloc(job->n_items + 1, sizeof(*c->items));
	for (size_t i = 0; i < job->n_items; i++) {
		const struct job_engage_item *it = &job->items[i];
		struct call_item *ci = &c->items[i];

		ci->exchange_id = (int64_t)it->exchange_id;
		snprintf(ci->token, sizeof(ci->token), "%s",
			 it->query.token != NULL ? it->query.token : "");
		ci->rescue = it->rescue;
		ci->seen = it->mark_seen;
		ci->flagged = it->mark_flagged;
		ci->important = it->mark_important;
		ci->file_to = it->file_to != NULL;
		ci->delete_after = it->delete_after;
	}
	return 0;
}

static int fake_check(void *ctx, uint64_t job_id, uint32_t run,
		      const struct job_check *job, int timeout_secs)
{
	struct env *e = ctx;
	struct call *c;

	test_assert(scheduler_job_is_check(job_id) &&
		    !scheduler_job_is_engage(job_id));
	c = call_new(e);
	c->check = true;
	c->job_id = job_id;
	c->run = run;
	c->timeout_secs = timeout_secs;
	snprintf(c->domain, sizeof(c->domain), "%s", job->check.domain);
	snprintf(c->provider, sizeof(c->provider), "%s",
		 job->check.provider != NULL ? job->check.provider : "");
	c->n_hosts = job->check.n_sending_hosts;
	if (job->check.n_sending_hosts > 0)
		snprintf(c->host, sizeof(c->host), "%s",
			 job->check.sending_hosts[0]);
	return 0;
}

static void fake_abandon(void *ctx, uint64_t job_id, uint32_t run)
{
	struct env *e = ctx;

	if (e->n_abandoned < 16) {
		e->abandoned_id[e->n_abandoned] = job_id;
		e->abandoned_run[e->n_abandoned] = run;
	}
	e->n_abandoned++;
}

/* ---- the pool ---- */

static void env_defaults(struct env *e)
{
	memset(e, 0, sizeof(*e));
	scheduler_options_default(&e->opts);
	e->opts.token_header = TOKEN_HEADER;
	e->opts.workers = 32;
}

/*
 * A new store with one pool of the first n inboxes above, each with the
 * ramp overrides given (NULL: the profile as it is). The third inbox has a
 * password command, the others a sealed secret.
 */
static void env_create(struct env *e, size_t n, const char *overrides)
{
	struct hearth_err err = {0};
	int64_t acme = 0, globex = 0;

	n_env++;
	e->db_path = xasprintf("%s/db%d.sqlite", tmpdir, n_env);
	e->key_path = xasprintf("%s/key%d", tmpdir, n_env);
	e->now = DAY0;
	e->n_inboxes = n;
	test_assert(store_open(e->db_path, &e->store, &err) == 0);
	test_assert(vault_key_create(e->key_path, &err) == 0);
	test_assert(vault_open(e->key_path, &e->vault, &err) == 0);
	test_assert(store_pool_add(e->store, "main", 7, "en", DAY0 - 86400,
				   &e->pool_id, &err) == 0);
	test_assert(store_client_add(e->store, "acme", "Acme", DAY0 - 86400,
				     &acme, &err) == 0);
	test_assert(store_client_add(e->store, "globex", NULL, DAY0 - 86400,
				     &globex, &err) == 0);
	for (size_t i = 0; i < n; i++) {
		struct store_inbox in = {0};
		char *smtp = xasprintf("smtp.%s", pool_inboxes[i].domain);
		char *imap = xasprintf("imap.%s", pool_inboxes[i].domain);
		char *secret = xasprintf("pw-%zu", i);
		int64_t id = 0;

		in.address = (char *)pool_inboxes[i].address;
		in.display_name = "Pat Doe";
		in.pool_id = e->pool_id;
		in.client_id =
		    strcmp(pool_inboxes[i].client, "acme") == 0 ? acme : globex;
		in.provider = "generic";
		in.smtp_host = smtp;
		in.smtp_port = 465;
		in.smtp_security = "tls";
		in.imap_host = imap;
		in.imap_port = 993;
		in.imap_security = "tls";
		in.username = (char *)pool_inboxes[i].address;
		in.ramp_profile = "standard";
		in.ramp_overrides = (char *)overrides;
		in.window_start = "09:00";
		in.window_end = "17:30";
		in.timezone = "UTC";
		in.spam_folder = "Junk";
		in.archive_folder = "Archive";
		in.created_at = DAY0 - 86400;
		test_assert(store_begin(e->store, &err) == 0);
		test_assert(store_domain_ensure(
				e->store, pool_inboxes[i].domain, DAY0 - 86400,
				&in.domain_id, &err) == 0);
		if (i == 2) {
			in.secret_kind = "command";
			in.secret_command = "echo pw";
		} else {
			in.secret_kind = "vault";
			test_assert(store_inbox_next_id(e->store, &id, &err) ==
				    0);
			test_assert(
			    vault_seal(e->vault, id, secret, &in.secret_sealed,
				       &in.secret_sealed_len, &err) == 0);
		}
		test_assert(store_inbox_add(e->store, &in, &err) == 0);
		test_assert(i == 2 || in.id == id);
		test_assert(store_commit(e->store, &err) == 0);
		e->ids[i] = in.id;
		free(in.secret_sealed);
		free(secret);
		free(smtp);
		free(imap);
	}
	if (err.msg[0] != '\0')
		fprintf(stderr, "env_create: %s\n", err.msg);
}

static void env_start(struct env *e, int64_t now)
{
	struct scheduler_net net = {.send = fake_send,
				    .engage = fake_engage,
				    .abandon = fake_abandon,
				    .check = fake_check,
				    .ctx = e};
	struct hearth_err err = {0};

	e->now = now;
	e->sc = scheduler_new(e->store, e->vault, corpus, &e->opts, &net, now,
			      &err);
	test_assert(e->sc != NULL);
	if (e->sc == NULL)
		fprintf(stderr, "scheduler_new: %s\n", err.msg);
}

/* The engine stops (a crash: nothing is told) and starts again at now. */
static void env_restart(struct env *e, int64_t now)
{
	scheduler_free(&e->sc);
	env_start(e, now);
}

static void env_free(struct env *e)
{
	scheduler_free(&e->sc);
	for (size_t i = 0; i < e->n_calls; i++) {
		free(e->calls[i].data);
		free(e->calls[i].items);
	}
	free(e->calls);
	vault_close(&e->vault);
	store_close(&e->store);
	free(e->db_path);
	free(e->key_path);
}

/* ---- looking at the store ---- */

static void day_of(int64_t t, char *buf)
{
	clock_day_format(clock_day_index(t), buf);
}

static const char *addr_of(const struct env *e, int64_t id)
{
	for (size_t i = 0; i < e->n_inboxes; i++)
		if (e->ids[i] == id)
			return pool_inboxes[i].address;
	return "?";
}

static const char *domain_of(const struct env *e, int64_t id)
{
	for (size_t i = 0; i < e->n_inboxes; i++)
		if (e->ids[i] == id)
			return pool_inboxes[i].domain;
	return "?";
}

/* Exchange id: asserted found; store_exchange_clear() it. */
static void xget(struct env *e, int64_t id, struct store_exchange *x)
{
	test_assert(store_exchange_get(e->store, id, x, NULL) == 1);
}

/* Every exchange, ordered by id; store_exchange_list_free() it. */
static void xall(struct env *e, struct store_exchange **xs_r, size_t *n_r)
{
	static const char *const states[] = {"planned", "sending", "sent",
					     "failed"};
	struct store_exchange *all = NULL;
	size_t n_all = 0;

	for (size_t s = 0; s < 4; s++) {
		struct store_exchange *xs = NULL;
		size_t n = 0;

		test_assert(store_exchange_list_state(e->store, states[s],
						      INT64_MAX, 0, &xs, &n,
						      NULL) == 0);
		all = xreallocarray(all, n_all + n + 1, sizeof(*all));
		if (n > 0)
			memcpy(all + n_all, xs, n * sizeof(*xs));
		n_all += n;
		free(xs); /* the strings moved */
	}
	/* by id */
	for (size_t i = 1; i < n_all; i++)
		for (size_t j = i; j > 0 && all[j - 1].id > all[j].id; j--) {
			struct store_exchange t = all[j];

			all[j] = all[j - 1];
			all[j - 1] = t;
		}
	*xs_r = all;
	*n_r = n_all;
}

/* The planned exchanges in planned_at order. */
static void xplanned(struct env *e, struct store_exchange **xs_r, size_t *n_r)
{
	test_assert(store_exchange_list_state(e->store, "planned", INT64_MAX, 0,
					      xs_r, n_r, NULL) == 0);
}

static bool str_eq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static bool str_has(const char *s, const char *part)
{
	return s != NULL && part != NULL && strstr(s, part) != NULL;
}

static bool state_is(struct env *e, int64_t id, const char *state)
{
	struct store_exchange x = {0};
	bool ok;

	xget(e, id, &x);
	ok = str_eq(x.state, state);
	store_exchange_clear(&x);
	return ok;
}

/* A ramp day row (zeros when missing), its state copied. */
struct counts {
	bool found;
	int planned, sent, inbox, spam, other, missing, rescued, read, flagged,
	    replied, failed, failed_permanent, auth_failures, volume;
	char state[RAMP_STATE_TEXT_MAX];
};

static struct counts counts_of(struct env *e, int64_t inbox, const char *day)
{
	struct store_ramp_day d = {0};
	struct counts c = {0};
	int ret = store_ramp_day_get(e->store, inbox, day, &d, NULL);

	test_assert(ret >= 0);
	c.found = ret == 1;
	c.planned = d.planned;
	c.sent = d.sent;
	c.inbox = d.inbox;
	c.spam = d.spam;
	c.other = d.other;
	c.missing = d.missing;
	c.rescued = d.rescued;
	c.read = d.read;
	c.flagged = d.flagged;
	c.replied = d.replied;
	c.failed = d.failed;
	c.failed_permanent = d.failed_permanent;
	c.auth_failures = d.auth_failures;
	c.volume = d.volume;
	snprintf(c.state, sizeof(c.state), "%s",
		 d.ramp_state != NULL ? d.ramp_state : "");
	store_ramp_day_clear(&d);
	return c;
}

static bool inbox_state_is(struct env *e, int64_t id, const char *state)
{
	struct store_inbox in = {0};
	bool ok;

	test_assert(store_inbox_get_id(e->store, id, &in, NULL) == 1);
	ok = str_eq(in.state, state);
	store_inbox_clear(&in);
	return ok;
}

/*
 * What a command does (`hearth inbox resume`, an edit of the overrides):
 * through a connection of its own, as another process would; the
 * scheduler sees it at its next reload.
 */
static struct store *operator_open(struct env *e)
{
	struct store *op = NULL;

	test_assert(store_open(e->db_path, &op, NULL) == 0);
	return op;
}

static void inbox_set_overrides(struct env *e, int64_t id,
				const char *overrides)
{
	struct store *op = operator_open(e);
	struct store_inbox in = {0};

	test_assert(store_inbox_get_id(op, id, &in, NULL) == 1);
	free(in.ramp_overrides);
	in.ramp_overrides = xstrdup(overrides);
	test_assert(store_inbox_update(op, &in, NULL) == 0);
	store_inbox_clear(&in);
	store_close(&op);
}

static void inbox_resume(struct env *e, int64_t id, int64_t now)
{
	struct store *op = operator_open(e);

	test_assert(store_inbox_set_state(op, id, "active", NULL, NULL) == 0);
	test_assert(store_event_add(op, now, "inbox.resumed", id, NULL, NULL) ==
		    0);
	store_close(&op);
}

/* ---- driving ---- */

static int64_t step(struct env *e, int64_t now)
{
	struct hearth_err err = {0};
	int64_t next;

	e->now = now;
	next = scheduler_step(e->sc, now, &err);
	test_assert(next != -1);
	if (next == -1)
		fprintf(stderr, "scheduler_step: %s\n", err.msg);
	return next;
}

static void send_ok(struct env *e, struct call *c, int code)
{
	struct job_send_result res = {0};

	res.reply_code = code;
	snprintf(res.reply_text, sizeof(res.reply_text), "2.0.0 Ok: queued");
	snprintf(res.stage, sizeof(res.stage), "dot");
	c->answered = true;
	scheduler_send_done(e->sc, c->job_id, c->run, e->now, &res, NULL);
}

static void send_fail(struct env *e, struct call *c, enum hearth_fail fail,
		      int code, const char *msg)
{
	struct hearth_err f = {0};

	hearth_err_set(&f, fail, code, "%s", msg);
	c->answered = true;
	scheduler_send_done(e->sc, c->job_id, c->run, e->now, NULL, &f);
}

static void send_uncertain(struct env *e, struct call *c)
{
	struct job_send_result res = {0};

	res.uncertain = true;
	snprintf(res.stage, sizeof(res.stage), "dot");
	snprintf(res.error, sizeof(res.error),
		 "smtp: connection lost after the final dot");
	c->answered = true;
	scheduler_send_done(e->sc, c->job_id, c->run, e->now, &res, NULL);
}

/* A result for every item of c: found in INBOX, seen and flagged. */
static struct job_engage_result *engage_res(const struct call *c)
{
	struct job_engage_result *res = xcalloc(1, sizeof(*res));

	snprintf(res->spam_folder, sizeof(res->spam_folder), "Junk");
	res->n_items = c->n_items;
	for (size_t i = 0; i < c->n_items; i++) {
		struct job_engage_item_result *ir = &res->items[i];

		ir->exchange_id = (uint64_t)c->items[i].exchange_id;
		ir->placement = JOB_PLACEMENT_INBOX;
		snprintf(ir->folder, sizeof(ir->folder), "INBOX");
		ir->method = IMAP_LOCATE_TOKEN;
		ir->uid = (uint32_t)i + 1;
		ir->seen = c->items[i].seen;
		ir->flagged = c->items[i].flagged;
		ir->important = c->items[i].important;
	}
	return res;
}

static struct job_engage_item_result *res_item(struct job_engage_result *res,
					       int64_t exchange_id)
{
	for (size_t i = 0; i < res->n_items; i++)
		if (res->items[i].exchange_id == (uint64_t)exchange_id)
			return &res->items[i];
	test_assert(!"item in the result");
	return &res->items[0];
}

static void set_missing(struct job_engage_item_result *ir)
{
	ir->placement = JOB_PLACEMENT_MISSING;
	ir->folder[0] = '\0';
	ir->method = 0;
	ir->seen = ir->flagged = ir->important = false;
}

static void engage_answer(struct env *e, struct call *c,
			  struct job_engage_result *res)
{
	c->answered = true;
	scheduler_engage_done(e->sc, c->job_id, c->run, e->now, res, NULL);
	free(res);
}

/* A CHECK result: worst "pass", or "fail" with a reason. */
static void check_answer(struct env *e, struct call *c, const char *worst,
			 const char *failure)
{
	struct job_check_result res = {0};

	snprintf(res.worst, sizeof(res.worst), "%s", worst);
	snprintf(res.failure, sizeof(res.failure), "%s",
		 failure != NULL ? failure : "");
	res.report = xasprintf("{\"domain\":\"%s\",\"worst\":\"%s\"}",
			       c->domain, worst);
	c->answered = true;
	scheduler_check_done(e->sc, c->job_id, c->run, e->now, &res, NULL);
	job_check_result_clear(&res);
}

static void answer_auto(struct env *e, struct call *c)
{
	if (c->check)
		check_answer(e, c, "pass", NULL);
	else if (c->engage)
		engage_answer(e, c, engage_res(c));
	else
		send_ok(e, c, 250);
}

typedef bool (*match_fn)(const struct call *c, int64_t arg);

static bool call_has(const struct call *c, int64_t exchange_id)
{
	for (size_t i = 0; i < c->n_items; i++)
		if (c->items[i].exchange_id == exchange_id)
			return true;
	return false;
}

static bool m_send_of(const struct call *c, int64_t x)
{
	return !c->engage && !c->check && c->exchange_id == x;
}

static bool m_check(const struct call *c, int64_t arg)
{
	(void)arg;
	return c->check;
}

static bool m_engage_notices(const struct call *c, int64_t inbox)
{
	return c->engage && c->notices && c->inbox_id == inbox;
}

static bool m_engage_of(const struct call *c, int64_t x)
{
	return c->engage && call_has(c, x);
}

static bool m_any_of(const struct call *c, int64_t x)
{
	return m_send_of(c, x) || m_engage_of(c, x);
}

static bool m_engage_for(const struct call *c, int64_t inbox)
{
	return c->engage && c->inbox_id == inbox;
}

/*
 * Step at each wake time from e->now up to until (included), answering
 * every new call at once (unless e->manual), until a call matches m: its
 * index, unanswered, with e->now at its time; or -1 with e->now = until.
 */
static long run_to(struct env *e, int64_t until, match_fn m, int64_t arg)
{
	int64_t now = e->now;

	for (int guard = 0; guard < 100000; guard++) {
		int64_t next = step(e, now);
		long found = -1;
		bool answered = false;

		for (; e->seen < e->n_calls; e->seen++) {
			struct call *c = &e->calls[e->seen];

			if (found < 0 && m != NULL && m(c, arg)) {
				found = (long)e->seen;
				continue;
			}
			if (!e->manual) {
				answer_auto(e, c);
				answered = true;
			}
		}
		if (found >= 0)
			return found;
		if (answered)
			continue; /* results may have queued work due now */
		if (now >= until)
			return -1;
		now = next <= now ? now + 1 : next > until ? until : next;
	}
	test_assert(!"run_to makes progress");
	return -1;
}

static size_t count_calls(const struct env *e, match_fn m, int64_t arg)
{
	size_t n = 0;

	for (size_t i = 0; i < e->n_calls; i++)
		n += m(&e->calls[i], arg);
	return n;
}

/* Plan day 0 at 08:00 (the first step at midnight says when). */
static void plan_day0(struct env *e)
{
	env_start(e, DAY0);
	test_assert(step(e, DAY0) == DAY0 + 8 * HOUR);
	step(e, DAY0 + 8 * HOUR);
}

/* The first planned exchange (the earliest): its id. */
static int64_t first_planned(struct env *e)
{
	struct store_exchange *xs = NULL;
	size_t n = 0;
	int64_t id = 0;

	xplanned(e, &xs, &n);
	test_assert(n > 0);
	if (n > 0)
		id = xs[0].id;
	store_exchange_list_free(&xs, n);
	return id;
}

/* ---- 1. planning ---- */

static void test_plan(void)
{
	struct env e;
	struct store_exchange *xs = NULL;
	struct store_plan_day pd = {0};
	size_t n = 0, n2 = 0;
	char d0[CLOCK_DATE_SIZE], d1[CLOCK_DATE_SIZE];
	int64_t next;
	int planned_sum = 0;

	test_begin("scheduler: plans each pool-day once, an hour ahead");
	env_defaults(&e);
	env_create(&e, 5, NULL);
	day_of(DAY0, d0);
	day_of(DAY0 + 86400, d1);
	env_start(&e, DAY0);
	/* 09:00 UTC is the earliest window: planned at 08:00 */
	test_assert(step(&e, DAY0) == DAY0 + 8 * HOUR);
	test_assert(step(&e, DAY0 + 7 * HOUR) == DAY0 + 8 * HOUR);
	test_assert(store_plan_day_get(e.store, e.pool_id, d0, &pd, NULL) == 0);
	xplanned(&e, &xs, &n);
	test_assert(n == 0);
	store_exchange_list_free(&xs, n);

	next = step(&e, DAY0 + 8 * HOUR);
	xplanned(&e, &xs, &n);
	test_assert(n >= 15); /* 5 inboxes, standard day 0: 5 each +-12% */
	test_assert(n > 0 && next == xs[0].planned_at);
	for (size_t i = 0; i < n; i++) {
		const struct store_exchange *x = &xs[i];

		test_assert(str_eq(x->state, "planned"));
		test_assert(str_eq(x->day, d0));
		test_assert(x->planned_at >= DAY0 + 9 * HOUR);
		test_assert(x->planned_at < DAY0 + 17 * HOUR + 1800);
		test_assert(x->pool_id == e.pool_id);
		test_assert(x->sender_inbox_id != x->recipient_inbox_id);
		/* never two inboxes of one domain */
		test_assert(strcmp(domain_of(&e, x->sender_inbox_id),
				   domain_of(&e, x->recipient_inbox_id)) != 0);
		test_assert(x->depth == 0 && x->parent_exchange_id == 0);
		test_assert(x->token != NULL && strlen(x->token) >= 16);
		test_assert(x->message_id == NULL && x->subject == NULL);
		for (size_t j = 0; j < i; j++)
			test_assert(!str_eq(x->token, xs[j].token));
	}
	for (size_t i = 0; i < e.n_inboxes; i++) {
		struct counts c = counts_of(&e, e.ids[i], d0);
		int sends = 0;

		for (size_t j = 0; j < n; j++)
			sends += xs[j].sender_inbox_id == e.ids[i];
		test_assert(c.found);
		test_assert(c.volume >= 4 && c.volume <= 6);
		test_assert(c.planned == sends);
		test_assert(c.sent == 0 && c.failed == 0);
		test_assert(strncmp(c.state, "step=0 ", 7) == 0);
		test_assert(strstr(c.state, "paused=0") != NULL);
		planned_sum += c.planned;
	}
	test_assert(planned_sum == (int)n);
	test_assert(store_plan_day_get(e.store, e.pool_id, d0, &pd, NULL) == 1);
	test_assert(pd.sends == (int)n && str_eq(pd.day, d0));
	test_assert(pd.planned_at == DAY0 + 8 * HOUR);
	store_exchange_list_free(&xs, n);

	/* not twice: later steps, nor a restart */
	step(&e, DAY0 + 8 * HOUR + 1);
	step(&e, DAY0 + 8 * HOUR + 1800);
	env_restart(&e, DAY0 + 8 * HOUR + 1900);
	step(&e, DAY0 + 8 * HOUR + 1900);
	xplanned(&e, &xs, &n2);
	test_assert(n2 == n);
	store_exchange_list_free(&xs, n2);
	test_assert(e.n_calls == 0);

	/*
	 * Day 1, straight to 08:00: planned with step 1. Day 0's sends,
	 * more than SCHEDULER_LATE_MAX_SECS late now, fail as missed
	 * without reaching the network.
	 */
	step(&e, DAY0 + 86400 + 8 * HOUR);
	test_assert(e.n_calls == 0);
	test_assert(store_plan_day_get(e.store, e.pool_id, d1, &pd, NULL) == 1);
	xall(&e, &xs, &n2);
	{
		size_t n_d0 = 0, n_d1 = 0;

		for (size_t i = 0; i < n2; i++) {
			if (str_eq(xs[i].day, d0)) {
				n_d0++;
				test_assert(str_eq(xs[i].state, "failed"));
				test_assert(
				    strncmp(xs[i].error ? xs[i].error : "",
					    "missed", 6) == 0);
			} else {
				n_d1++;
				test_assert(str_eq(xs[i].day, d1));
				test_assert(str_eq(xs[i].state, "planned"));
				test_assert(xs[i].planned_at >=
					    DAY0 + 86400 + 9 * HOUR);
			}
		}
		test_assert(n_d0 == n);
		test_assert(n_d1 > 0 && (int)n_d1 == pd.sends);
	}
	store_exchange_list_free(&xs, n2);
	for (size_t i = 0; i < e.n_inboxes; i++) {
		struct counts c0 = counts_of(&e, e.ids[i], d0);
		struct counts c1 = counts_of(&e, e.ids[i], d1);

		test_assert(c0.failed == c0.planned);
		test_assert(c0.failed_permanent == 0);
		test_assert(strncmp(c1.state, "step=1 ", 7) == 0);
		test_assert(c1.volume > 0);
		test_assert(inbox_state_is(&e, e.ids[i], "active"));
	}
	env_free(&e);
	test_end();
}

static void test_plan_late(void)
{
	struct env e;
	struct store_exchange *xs = NULL;
	struct store_plan_day pd = {0};
	size_t n = 0;
	char d0[CLOCK_DATE_SIZE];
	const int64_t noon = DAY0 + 12 * HOUR;

	test_begin("scheduler: a late plan starts five minutes after now");
	env_defaults(&e);
	env_create(&e, 3, FIXED(3));
	day_of(DAY0, d0);
	env_start(&e, noon);
	step(&e, noon);
	test_assert(store_plan_day_get(e.store, e.pool_id, d0, &pd, NULL) == 1);
	xplanned(&e, &xs, &n);
	test_assert(n > 0);
	for (size_t i = 0; i < n; i++) {
		test_assert(xs[i].planned_at >= noon + 300);
		test_assert(xs[i].planned_at < DAY0 + 17 * HOUR + 1800);
	}
	store_exchange_list_free(&xs, n);
	env_free(&e);

	/* less than an hour before the windows close: not that day */
	env_defaults(&e);
	env_create(&e, 3, FIXED(3));
	env_start(&e, DAY0 + 16 * HOUR + 45 * 60);
	test_assert(step(&e, DAY0 + 16 * HOUR + 45 * 60) ==
		    DAY0 + 86400 + 8 * HOUR);
	test_assert(store_plan_day_get(e.store, e.pool_id, d0, &pd, NULL) == 0);
	xplanned(&e, &xs, &n);
	test_assert(n == 0);
	store_exchange_list_free(&xs, n);
	env_free(&e);
	test_end();
}

/* ---- 2. sending, 3. engaging ---- */

static void test_send(void)
{
	struct env e;
	struct store_exchange x = {0};
	struct counts before, after;
	char *needle;
	long ci;
	int64_t xid, t;

	test_begin("scheduler: send at the planned time, then engage");
	env_defaults(&e);
	env_create(&e, 5, FIXED(2));
	plan_day0(&e);
	xid = first_planned(&e);
	xget(&e, xid, &x);
	ci = run_to(&e, x.planned_at + 60, m_send_of, xid);
	test_assert(ci >= 0);
	if (ci < 0)
		goto out;
	{
		struct call *c = &e.calls[ci];

		test_assert(c->at == x.planned_at);
		test_assert(c->timeout_secs == e.opts.job_deadline_secs);
		/* committed "sending" before the network saw it */
		test_assert(str_eq(c->state, "sending"));
		test_assert(c->message_id[0] == '<');
		test_assert(c->had_subject && c->had_body);
		test_assert(str_eq(c->from, addr_of(&e, x.sender_inbox_id)));
		test_assert(str_eq(c->to, addr_of(&e, x.recipient_inbox_id)));
		needle = xasprintf("\r\n" TOKEN_HEADER ": %s\r\n", x.token);
		test_assert(strstr(c->data, needle) != NULL);
		free(needle);
		needle = xasprintf("\r\nMessage-ID: %s\r\n", c->message_id);
		test_assert(strstr(c->data, needle) != NULL);
		free(needle);
		test_assert(strstr(c->data, "\r\nIn-Reply-To:") == NULL);
	}
	store_exchange_clear(&x);
	xget(&e, xid, &x);
	test_assert(str_eq(x.state, "sending"));
	test_assert(x.attempted_at == e.calls[ci].at);
	test_assert(x.sent_at == 0 && x.engage_at == 0);
	before = counts_of(&e, x.sender_inbox_id, x.day);
	t = e.now + 4;
	e.now = t;
	send_ok(&e, &e.calls[ci], 250);
	store_exchange_clear(&x);
	xget(&e, xid, &x);
	test_assert(str_eq(x.state, "sent"));
	test_assert(x.sent_at == t && x.smtp_code == 250);
	test_assert(x.error == NULL);
	test_assert(x.engage_at >= t + SCHEDULER_ENGAGE_MIN_SECS);
	test_assert(x.engage_at <= t + SCHEDULER_ENGAGE_MAX_SECS);
	test_assert(x.looks == 0 && x.engaged_at == 0);
	after = counts_of(&e, x.sender_inbox_id, x.day);
	test_assert(after.sent == before.sent + 1);
	test_assert(after.planned == before.planned);

	/* the recipient's ENGAGE job at engage_at */
	ci = run_to(&e, x.engage_at + 60, m_engage_of, xid);
	test_assert(ci >= 0);
	if (ci >= 0) {
		struct call *c = &e.calls[ci];

		test_assert(c->at == x.engage_at);
		test_assert(c->inbox_id == x.recipient_inbox_id);
		for (size_t i = 0; i < c->n_items; i++) {
			if (c->items[i].exchange_id != xid)
				continue;
			test_assert(str_eq(c->items[i].token, x.token));
			test_assert(c->items[i].rescue && c->items[i].seen &&
				    c->items[i].flagged &&
				    c->items[i].important);
			/* archive after retention_days, not now */
			test_assert(!c->items[i].file_to &&
				    !c->items[i].delete_after);
		}
		answer_auto(&e, c);
	}
out:
	store_exchange_clear(&x);
	env_free(&e);
	test_end();
}

/*
 * An ENGAGE job with several items: plan day 0 (three sends from each of
 * five inboxes), hold the first ENGAGE run of the inbox that receives the
 * most while its other messages become due, answer it at 20:00; the next
 * run of that inbox is returned (its index, e->now at its time), *r_r the
 * inbox. Needs a long lease.
 */
static long batch_call(struct env *e, int64_t *r_r)
{
	struct store_exchange *xs = NULL;
	size_t n = 0, most = 0, k1;
	int64_t r = 0, t;
	long c1, c2;

	plan_day0(e);
	/* the recipient of the most messages */
	xplanned(e, &xs, &n);
	for (size_t i = 0; i < e->n_inboxes; i++) {
		size_t k = 0;

		for (size_t j = 0; j < n; j++)
			k += xs[j].recipient_inbox_id == e->ids[i];
		if (k > most) {
			most = k;
			r = e->ids[i];
		}
	}
	store_exchange_list_free(&xs, n);
	*r_r = r;
	test_assert(most >= 3);
	/* hold its first ENGAGE run while the others become due */
	c1 = run_to(e, DAY0 + 20 * HOUR, m_engage_for, r);
	test_assert(c1 >= 0);
	if (c1 < 0)
		return -1;
	k1 = e->calls[c1].n_items;
	test_assert(k1 >= 1);
	test_assert(run_to(e, DAY0 + 20 * HOUR, m_engage_for, r) == -1);
	t = e->now;
	test_assert(t == DAY0 + 20 * HOUR);
	engage_answer(e, &e->calls[c1], engage_res(&e->calls[c1]));
	/* everything left is due: one job, every item */
	c2 = run_to(e, t + HOUR, m_engage_for, r);
	test_assert(c2 >= 0);
	if (c2 < 0)
		return -1;
	test_assert(e->calls[c2].at == t);
	test_assert(e->calls[c2].n_items == most - k1);
	test_assert(e->calls[c2].n_items >= 2);
	test_assert(scheduler_job_is_engage(e->calls[c2].job_id));
	return e->calls[c2].n_items >= 2 ? c2 : -1;
}

static void test_engage(void)
{
	struct env e;
	struct store_exchange *xs = NULL;
	size_t n = 0;
	int64_t r = 0, t;
	long c2;
	struct counts before[MAX_INBOXES], after;
	struct job_engage_result *res;
	int64_t spam_x = 0, inbox_x = 0;
	int exp_inbox[MAX_INBOXES] = {0}, exp_spam[MAX_INBOXES] = {0};

	test_begin("scheduler: engage batches a recipient, records placement");
	env_defaults(&e);
	/* a run the test holds on to keeps its lease */
	e.opts.lease_secs = 2 * 86400;
	env_create(&e, 5, FIXED(3));
	c2 = batch_call(&e, &r);
	if (c2 < 0)
		goto out;
	t = e.now;
	for (size_t i = 0; i < e.n_inboxes; i++)
		before[i] = counts_of(&e, e.ids[i], "2024-06-03");
	res = engage_res(&e.calls[c2]);
	spam_x = (int64_t)res->items[0].exchange_id;
	inbox_x = (int64_t)res->items[1].exchange_id;
	res->items[0].placement = JOB_PLACEMENT_SPAM;
	snprintf(res->items[0].folder, sizeof(res->items[0].folder), "Junk");
	res->items[0].rescued = true;
	for (size_t j = 0; j < res->n_items; j++) {
		struct store_exchange x = {0};

		xget(&e, (int64_t)res->items[j].exchange_id, &x);
		for (size_t i = 0; i < e.n_inboxes; i++)
			if (e.ids[i] == x.sender_inbox_id) {
				exp_spam[i] += j == 0;
				exp_inbox[i] += j != 0;
			}
		store_exchange_clear(&x);
	}
	e.now = t + 30;
	engage_answer(&e, &e.calls[c2], res);
	{
		struct store_exchange x = {0};

		xget(&e, spam_x, &x);
		test_assert(str_eq(x.state, "sent"));
		test_assert(str_eq(x.placement, "spam"));
		test_assert(str_eq(x.folder, "Junk"));
		test_assert(str_eq(x.locate_method, "token"));
		test_assert(x.rescued && x.read && x.flagged);
		test_assert(x.engaged_at == t + 30 && x.engage_at == 0);
		test_assert(x.looks == 1);
		test_assert(x.sweep_at ==
			    t + 30 + (int64_t)e.opts.retention_days * 86400);
		store_exchange_clear(&x);
		xget(&e, inbox_x, &x);
		test_assert(str_eq(x.placement, "inbox"));
		test_assert(str_eq(x.folder, "INBOX"));
		test_assert(!x.rescued && x.read && x.flagged);
		test_assert(x.engaged_at == t + 30);
		store_exchange_clear(&x);
	}
	for (size_t i = 0; i < e.n_inboxes; i++) {
		after = counts_of(&e, e.ids[i], "2024-06-03");
		test_assert(after.spam == before[i].spam + exp_spam[i]);
		test_assert(after.rescued == before[i].rescued + exp_spam[i]);
		test_assert(after.inbox == before[i].inbox + exp_inbox[i]);
		test_assert(after.read ==
			    before[i].read + exp_spam[i] + exp_inbox[i]);
		test_assert(after.flagged ==
			    before[i].flagged + exp_spam[i] + exp_inbox[i]);
		test_assert(after.missing == before[i].missing);
		test_assert(after.sent == before[i].sent);
	}
	/* reply=0: no replies */
	xall(&e, &xs, &n);
	for (size_t i = 0; i < n; i++)
		test_assert(xs[i].parent_exchange_id == 0);
	store_exchange_list_free(&xs, n);
out:
	env_free(&e);
	test_end();
}

static void test_engage_partial(void)
{
	struct env e;
	struct job_engage_result *res;
	struct sched_options so;
	int64_t r = 0, first, t;
	size_t n_items;
	long c2, c3;

	test_begin("scheduler: a session lost midway keeps what it did");
	env_defaults(&e);
	e.opts.lease_secs = 2 * 86400;
	env_create(&e, 5, FIXED(3));
	c2 = batch_call(&e, &r);
	if (c2 < 0)
		goto out;
	t = e.now;
	n_items = e.calls[c2].n_items;
	first = e.calls[c2].items[0].exchange_id;
	res = engage_res(&e.calls[c2]);
	res->n_items = 1;
	res->session_fail = HEARTH_FAIL_RETRY;
	snprintf(res->session_error, sizeof(res->session_error),
		 "imap: connection reset");
	engage_answer(&e, &e.calls[c2], res);
	{
		struct store_exchange x = {0};

		xget(&e, first, &x);
		test_assert(str_eq(x.placement, "inbox"));
		test_assert(x.engaged_at == t);
		store_exchange_clear(&x);
		for (size_t i = 1; i < n_items; i++) {
			xget(&e, e.calls[c2].items[i].exchange_id, &x);
			test_assert(x.placement == NULL && x.engage_at > 0);
			test_assert(x.looks == 0);
			store_exchange_clear(&x);
		}
	}
	/* the rest, after the backoff */
	sched_options_default(&so);
	so.seed = e.opts.seed;
	c3 = run_to(&e, t + HOUR, m_engage_for, r);
	test_assert(c3 >= 0);
	if (c3 < 0)
		goto out;
	test_assert(e.calls[c3].at ==
		    t + sched_backoff(&so, e.calls[c2].job_id, 1));
	test_assert(e.calls[c3].n_items == n_items - 1);
	test_assert(!call_has(&e.calls[c3], first));
	answer_auto(&e, &e.calls[c3]);
	for (size_t i = 0; i < e.calls[c3].n_items; i++)
		test_assert(
		    !state_is(&e, e.calls[c3].items[i].exchange_id, "planned"));
out:
	env_free(&e);
	test_end();
}

static void test_engage_fail(void)
{
	struct env e;
	struct store_exchange x = {0};
	struct store_inbox in = {0};
	struct store_event *ev = NULL;
	struct store_exchange *xs = NULL;
	struct sched_options so;
	struct hearth_err f = {0};
	size_t n = 0, n_ev = 0;
	int64_t xid = 0, yid = 0, r = 0, t;
	long c1, c2;

	test_begin("scheduler: a failed ENGAGE is retried; auth pauses");
	env_defaults(&e);
	env_create(&e, 5, FIXED(2));
	plan_day0(&e);
	xplanned(&e, &xs, &n);
	test_assert(n >= 2);
	if (n >= 2) {
		xid = xs[0].id;
		/* another recipient for the auth failure */
		for (size_t i = 1; i < n && yid == 0; i++)
			if (xs[i].recipient_inbox_id !=
			    xs[0].recipient_inbox_id)
				yid = xs[i].id;
	}
	store_exchange_list_free(&xs, n);
	test_assert(yid != 0);
	if (yid == 0)
		goto out;
	c1 = run_to(&e, DAY0 + 20 * HOUR, m_engage_of, xid);
	test_assert(c1 >= 0);
	if (c1 < 0)
		goto out;
	t = e.now;
	hearth_err_set(&f, HEARTH_FAIL_RETRY, 0, "imap: connection refused");
	e.calls[c1].answered = true;
	scheduler_engage_done(e.sc, e.calls[c1].job_id, e.calls[c1].run, t,
			      NULL, &f);
	xget(&e, xid, &x);
	test_assert(str_eq(x.state, "sent") && x.placement == NULL);
	test_assert(x.engage_at > 0 && x.engage_at <= t && x.looks == 0);
	store_exchange_clear(&x);
	sched_options_default(&so);
	so.seed = e.opts.seed;
	c2 = run_to(&e, t + HOUR, m_engage_of, xid);
	test_assert(c2 >= 0);
	if (c2 < 0)
		goto out;
	test_assert(e.calls[c2].at ==
		    t + sched_backoff(&so, e.calls[c1].job_id, 1));
	test_assert(e.calls[c2].job_id == e.calls[c1].job_id);
	test_assert(e.calls[c2].run == e.calls[c1].run + 1);
	answer_auto(&e, &e.calls[c2]);
	xget(&e, xid, &x);
	test_assert(str_eq(x.placement, "inbox"));
	store_exchange_clear(&x);

	/* IMAP login refused: the recipient is paused, its work waits */
	c1 = run_to(&e, DAY0 + 20 * HOUR, m_engage_of, yid);
	test_assert(c1 >= 0);
	if (c1 < 0)
		goto out;
	t = e.now;
	r = e.calls[c1].inbox_id;
	hearth_err_set(&f, HEARTH_FAIL_AUTH, 0,
		       "imap: LOGIN refused: AUTHENTICATIONFAILED");
	e.calls[c1].answered = true;
	scheduler_engage_done(e.sc, e.calls[c1].job_id, e.calls[c1].run, t,
			      NULL, &f);
	test_assert(store_inbox_get_id(e.store, r, &in, NULL) == 1);
	test_assert(str_eq(in.state, "paused"));
	test_assert(str_has(in.state_reason, "IMAP"));
	test_assert(str_has(in.state_reason, "hearth inbox resume"));
	store_inbox_clear(&in);
	test_assert(store_event_list(e.store, r, 1, &ev, &n_ev, NULL) == 0);
	test_assert(n_ev == 1 && str_eq(ev[0].kind, "inbox.paused"));
	store_event_list_free(&ev, n_ev);
	xget(&e, yid, &x);
	test_assert(str_eq(x.state, "sent") && x.placement == NULL);
	test_assert(x.engage_at > 0);
	store_exchange_clear(&x);
	test_assert(run_to(&e, DAY0 + 20 * HOUR, m_engage_for, r) == -1);
	/* resumed by the operator: its ENGAGE job comes back */
	t = e.now + 120;
	inbox_resume(&e, r, t);
	e.now = t;
	c2 = run_to(&e, t + HOUR, m_engage_of, yid);
	test_assert(c2 >= 0);
	if (c2 < 0)
		goto out;
	test_assert(e.calls[c2].at == t);
	answer_auto(&e, &e.calls[c2]);
	xget(&e, yid, &x);
	test_assert(str_eq(x.placement, "inbox"));
out:
	store_exchange_clear(&x);
	env_free(&e);
	test_end();
}

/* Run to the first ENGAGE call holding the first exchange of the day. */
static long first_engage(struct env *e, int64_t *xid_r)
{
	*xid_r = first_planned(e);
	return run_to(e, DAY0 + 20 * HOUR, m_engage_of, *xid_r);
}

static bool item_of(const struct call *c, int64_t xid, struct call_item *it)
{
	for (size_t i = 0; i < c->n_items; i++)
		if (c->items[i].exchange_id == xid) {
			*it = c->items[i];
			return true;
		}
	return false;
}

static void test_retention(void)
{
	struct env e;
	struct store_exchange x = {0};
	struct job_engage_result *res;
	struct call_item it = {0};
	struct counts before, after;
	int64_t xid = 0, sweep;
	long ci;

	test_begin("scheduler: retention files or deletes, at once or later");
	/* archive at once */
	env_defaults(&e);
	e.opts.retention_days = 0;
	env_create(&e, 3, FIXED(1));
	plan_day0(&e);
	ci = first_engage(&e, &xid);
	test_assert(ci >= 0 && item_of(&e.calls[ci], xid, &it));
	test_assert(it.file_to && !it.delete_after && it.rescue && it.seen);
	if (ci >= 0) {
		res = engage_res(&e.calls[ci]);
		res_item(res, xid)->filed = true;
		engage_answer(&e, &e.calls[ci], res);
	}
	xget(&e, xid, &x);
	test_assert(str_eq(x.placement, "inbox") && x.sweep_at == 0);
	store_exchange_clear(&x);
	env_free(&e);

	/* delete at once */
	env_defaults(&e);
	e.opts.retention = "delete";
	e.opts.retention_days = 0;
	env_create(&e, 3, FIXED(1));
	plan_day0(&e);
	ci = first_engage(&e, &xid);
	test_assert(ci >= 0 && item_of(&e.calls[ci], xid, &it));
	test_assert(!it.file_to && it.delete_after);
	env_free(&e);

	/* keep: nothing to do later */
	env_defaults(&e);
	e.opts.retention = "keep";
	env_create(&e, 3, FIXED(1));
	plan_day0(&e);
	ci = first_engage(&e, &xid);
	test_assert(ci >= 0 && item_of(&e.calls[ci], xid, &it));
	test_assert(!it.file_to && !it.delete_after);
	if (ci >= 0)
		answer_auto(&e, &e.calls[ci]);
	xget(&e, xid, &x);
	test_assert(str_eq(x.placement, "inbox") && x.sweep_at == 0);
	store_exchange_clear(&x);
	env_free(&e);

	/* archive a day after the engagement, by a later look */
	env_defaults(&e);
	e.opts.retention_days = 1;
	env_create(&e, 3, FIXED(1));
	plan_day0(&e);
	ci = first_engage(&e, &xid);
	test_assert(ci >= 0 && item_of(&e.calls[ci], xid, &it));
	test_assert(!it.file_to && !it.delete_after);
	if (ci < 0)
		goto out;
	answer_auto(&e, &e.calls[ci]);
	xget(&e, xid, &x);
	sweep = x.sweep_at;
	test_assert(sweep == e.now + 86400);
	before = counts_of(&e, x.sender_inbox_id, x.day);
	ci = run_to(&e, sweep + HOUR, m_engage_of, xid);
	test_assert(ci >= 0);
	if (ci < 0)
		goto out;
	test_assert(e.calls[ci].at == sweep);
	test_assert(item_of(&e.calls[ci], xid, &it));
	test_assert(it.file_to && !it.rescue && !it.seen && !it.flagged);
	res = engage_res(&e.calls[ci]);
	res_item(res, xid)->filed = true;
	engage_answer(&e, &e.calls[ci], res);
	store_exchange_clear(&x);
	xget(&e, xid, &x);
	test_assert(x.sweep_at == 0 && str_eq(x.placement, "inbox"));
	test_assert(x.engaged_at < sweep);
	after = counts_of(&e, x.sender_inbox_id, x.day);
	test_assert(after.inbox == before.inbox && after.read == before.read);
	test_assert(run_to(&e, sweep + 2 * 86400, m_engage_of, xid) == -1);
out:
	store_exchange_clear(&x);
	env_free(&e);
	test_end();
}

/* The exchange whose parent is parent_id (0: none). */
static int64_t child_of(struct env *e, int64_t parent_id)
{
	struct store_exchange *xs = NULL;
	size_t n = 0;
	int64_t id = 0;

	xall(e, &xs, &n);
	for (size_t i = 0; i < n; i++)
		if (xs[i].parent_exchange_id == parent_id)
			id = xs[i].id;
	store_exchange_list_free(&xs, n);
	return id;
}

static void test_reply(void)
{
	struct env e;
	struct store_exchange x = {0}, y = {0};
	struct counts rb, ra, sb, sa;
	int64_t xid, yid, engaged;
	char *needle;
	long ci;

	test_begin("scheduler: a reply, in its thread, counted both sides");
	env_defaults(&e);
	env_create(&e, 3, FIXED(1));
	plan_day0(&e);
	xid = first_planned(&e);
	xget(&e, xid, &x);
	/* the recipient replies to everything: read at the next reload */
	inbox_set_overrides(&e, x.recipient_inbox_id,
			    "start=1,target=1,jitter=0,reply=1");
	ci = run_to(&e, DAY0 + 20 * HOUR, m_engage_of, xid);
	test_assert(ci >= 0);
	if (ci < 0)
		goto out;
	store_exchange_clear(&x);
	xget(&e, xid, &x);
	test_assert(str_eq(x.state, "sent") && x.message_id != NULL);
	engaged = e.now;
	engage_answer(&e, &e.calls[ci], engage_res(&e.calls[ci]));
	yid = child_of(&e, xid);
	test_assert(yid != 0);
	if (yid == 0)
		goto out;
	xget(&e, yid, &y);
	test_assert(str_eq(y.state, "planned"));
	test_assert(y.depth == 1 && y.parent_exchange_id == xid);
	test_assert(y.sender_inbox_id == x.recipient_inbox_id);
	test_assert(y.recipient_inbox_id == x.sender_inbox_id);
	test_assert(y.pool_id == x.pool_id);
	test_assert(!str_eq(y.token, x.token));
	test_assert(y.planned_at >= engaged);
	test_assert(y.planned_at <= engaged + CLOCK_DAY_SECS);
	{
		char d[CLOCK_DATE_SIZE];

		day_of(y.planned_at, d);
		test_assert(str_eq(y.day, d));
		/* the reply counts in its sender's planned */
		test_assert(counts_of(&e, y.sender_inbox_id, y.day).planned >=
			    1);
	}
	ci = run_to(&e, y.planned_at + 60, m_send_of, yid);
	test_assert(ci >= 0);
	if (ci < 0)
		goto out;
	test_assert(e.calls[ci].at == y.planned_at);
	needle = xasprintf("\r\nIn-Reply-To: %s\r\n", x.message_id);
	test_assert(strstr(e.calls[ci].data, needle) != NULL);
	free(needle);
	needle = xasprintf("\r\nReferences: %s\r\n", x.message_id);
	test_assert(strstr(e.calls[ci].data, needle) != NULL);
	free(needle);
	test_assert(strstr(e.calls[ci].data, "\r\nSubject: Re: ") != NULL);
	test_assert(
	    str_eq(e.calls[ci].from, addr_of(&e, x.recipient_inbox_id)));
	test_assert(str_eq(e.calls[ci].to, addr_of(&e, x.sender_inbox_id)));
	test_assert(!str_eq(e.calls[ci].message_id, x.message_id));
	store_exchange_clear(&y);
	xget(&e, yid, &y);
	test_assert(y.subject != NULL && strncmp(y.subject, "Re: ", 4) == 0);
	store_exchange_clear(&x);
	xget(&e, xid, &x);
	test_assert(!x.replied);
	rb = counts_of(&e, y.sender_inbox_id, y.day);
	sb = counts_of(&e, x.sender_inbox_id, x.day);
	send_ok(&e, &e.calls[ci], 250);
	store_exchange_clear(&x);
	xget(&e, xid, &x);
	test_assert(x.replied);
	ra = counts_of(&e, y.sender_inbox_id, y.day);
	sa = counts_of(&e, x.sender_inbox_id, x.day);
	test_assert(ra.sent == rb.sent + 1);
	test_assert(sa.replied == sb.replied + 1);
	/* the original sender does not reply (reply=0) */
	ci = run_to(&e, e.now + CLOCK_DAY_SECS, m_engage_of, yid);
	test_assert(ci >= 0);
	if (ci >= 0)
		answer_auto(&e, &e.calls[ci]);
	test_assert(child_of(&e, yid) == 0);
out:
	store_exchange_clear(&x);
	store_exchange_clear(&y);
	env_free(&e);
	test_end();
}

/* Everyone replies to everything: threads end at thread_depth messages. */
static void thread_depth_case(unsigned depth)
{
	struct env e;
	struct store_exchange *xs = NULL;
	size_t n = 0;
	int max_depth = 0;
	size_t n_engaged = 0;

	env_defaults(&e);
	e.opts.thread_depth = depth;
	env_create(&e, 3, "start=1,target=1,jitter=0,reply=1,weekend=1");
	plan_day0(&e);
	run_to(&e, DAY0 + 3 * 86400, NULL, 0);
	xall(&e, &xs, &n);
	for (size_t i = 0; i < n; i++) {
		const struct store_exchange *x = &xs[i];
		bool has_child = false;

		if (x->depth > max_depth)
			max_depth = x->depth;
		for (size_t j = 0; j < n; j++)
			has_child |= xs[j].parent_exchange_id == x->id;
		if (x->engaged_at == 0)
			continue;
		n_engaged++;
		/* every message found gets a reply while the thread is
		 * shorter than thread_depth; never one past it */
		if ((unsigned)x->depth + 1 < depth)
			test_assert(has_child);
		else
			test_assert(!has_child);
	}
	test_assert(n_engaged > 0);
	test_assert(max_depth == (int)depth - 1);
	store_exchange_list_free(&xs, n);
	env_free(&e);
}

static void test_thread_depth(void)
{
	test_begin("scheduler: thread_depth bounds the replies");
	thread_depth_case(2);
	thread_depth_case(3);
	test_end();
}

/* ---- 4. missing ---- */

static void test_missing(void)
{
	struct env e;
	struct store_exchange x = {0};
	struct job_engage_result *res;
	struct counts before, after;
	int64_t xid, t = 0;
	long ci;

	test_begin(
	    "scheduler: a message not found is looked for, then missing");
	env_defaults(&e);
	env_create(&e, 3, FIXED(1));
	plan_day0(&e);
	xid = first_planned(&e);
	for (int look = 1; look <= SCHEDULER_MAX_LOOKS; look++) {
		ci = run_to(&e, DAY0 + 2 * 86400, m_engage_of, xid);
		test_assert(ci >= 0);
		if (ci < 0)
			goto out;
		if (look > 1)
			test_assert(e.calls[ci].at ==
				    t + (look - 1) * SCHEDULER_LOOK_RETRY_SECS);
		t = e.now;
		xget(&e, xid, &x);
		before = counts_of(&e, x.sender_inbox_id, x.day);
		store_exchange_clear(&x);
		res = engage_res(&e.calls[ci]);
		set_missing(res_item(res, xid));
		engage_answer(&e, &e.calls[ci], res);
		xget(&e, xid, &x);
		after = counts_of(&e, x.sender_inbox_id, x.day);
		test_assert(str_eq(x.state, "sent"));
		test_assert(x.looks == look);
		if (look < SCHEDULER_MAX_LOOKS) {
			test_assert(x.placement == NULL);
			test_assert(x.engaged_at == 0);
			test_assert(x.engage_at ==
				    t + look * SCHEDULER_LOOK_RETRY_SECS);
			test_assert(after.missing == before.missing);
		} else {
			test_assert(str_eq(x.placement, "missing"));
			test_assert(x.folder == NULL);
			test_assert(x.engaged_at == t && x.engage_at == 0);
			test_assert(x.sweep_at == 0);
			test_assert(!x.read && !x.flagged && !x.rescued);
			test_assert(after.missing == before.missing + 1);
			test_assert(after.inbox == before.inbox);
			test_assert(after.read == before.read);
		}
		store_exchange_clear(&x);
	}
	/* and not looked for again */
	test_assert(run_to(&e, e.now + 2 * 86400, m_engage_of, xid) == -1);
out:
	store_exchange_clear(&x);
	env_free(&e);
	test_end();
}

/* A notice in a result: kind, undelivered, status, the token it names. */
static void add_notice(struct job_engage_result *res, enum bounce_kind kind,
		       bool undelivered, const char *status, const char *token,
		       const char *message_id)
{
	struct job_notice *no = &res->notices[res->n_notices++];

	memset(no, 0, sizeof(*no));
	no->info.kind = kind;
	no->info.undelivered = undelivered;
	no->info.permanent = undelivered && status[0] == '5';
	snprintf(no->info.status, sizeof(no->info.status), "%s", status);
	snprintf(no->info.recipient, sizeof(no->info.recipient),
		 "gone@beta.example");
	snprintf(no->info.reason, sizeof(no->info.reason),
		 "550 5.1.1 <gone@beta.example>: User unknown");
	snprintf(no->info.token, sizeof(no->info.token), "%s",
		 token != NULL ? token : "");
	snprintf(no->info.message_id, sizeof(no->info.message_id), "%s",
		 message_id != NULL ? message_id : "");
	snprintf(no->folder, sizeof(no->folder), "INBOX");
	no->uid = (uint32_t)res->n_notices;
}

static int64_t events_of(struct env *e, int64_t inbox, const char *kind)
{
	struct store_event *ev = NULL;
	size_t n = 0;
	int64_t k = 0;

	test_assert(store_event_list(e->store, inbox, 0, &ev, &n, NULL) == 0);
	for (size_t i = 0; i < n; i++)
		k += str_eq(ev[i].kind, kind);
	store_event_list_free(&ev, n);
	return k;
}

static void test_notices(void)
{
	struct env e;
	struct store_exchange x = {0}, y = {0};
	struct store_ramp_day d = {0};
	struct job_engage_result *res;
	int64_t xid, yid = 0, sender;
	struct store_exchange *xs = NULL;
	size_t n = 0;
	long ci;

	test_begin("scheduler: bounces and auto-replies count on the exchange "
		   "they report on, once");
	env_defaults(&e);
	e.opts.notice_every_secs = HOUR;
	env_create(&e, 3, FIXED(2));
	plan_day0(&e);
	xid = first_planned(&e);
	xget(&e, xid, &x);
	sender = x.sender_inbox_id;
	store_exchange_clear(&x);
	/* everything of the day sent and engaged */
	run_to(&e, DAY0 + 20 * HOUR, NULL, 0);
	xget(&e, xid, &x);
	test_assert(str_eq(x.state, "sent") && str_eq(x.placement, "inbox"));
	/* another exchange of the same sender, for a "missing" one */
	xall(&e, &xs, &n);
	for (size_t i = 0; i < n; i++)
		if (xs[i].sender_inbox_id == sender && xs[i].id != xid &&
		    xs[i].depth == 0)
			yid = xs[i].id;
	store_exchange_list_free(&xs, n);
	test_assert(yid > 0);
	{
		/* as if its recipient had not found it */
		struct store_ramp_day delta = {.inbox_id = sender, .missing = 1,
					       .inbox = -1};

		xget(&e, yid, &y);
		free(y.placement);
		y.placement = xstrdup("missing");
		test_assert(store_exchange_update(e.store, &y, NULL) == 0);
		snprintf(delta.day, sizeof(delta.day), "%s", y.day);
		test_assert(store_ramp_day_add(e.store, &delta, NULL) == 0);
	}
	/* the sender's next ENGAGE job (as a recipient) looks for notices */
	ci = run_to(&e, DAY0 + 3 * 86400, m_engage_notices, sender);
	test_assert(ci >= 0);
	if (ci < 0)
		goto out;
	test_assert(store_ramp_day_get(e.store, sender, x.day, &d, NULL) == 1);
	{
		int bounced0 = d.bounced, missing0 = d.missing,
		    auto0 = d.auto_replies, replied0 = d.replied;

		store_ramp_day_clear(&d);
		res = engage_res(&e.calls[ci]);
		/* a bounce of x (by token), twice; a bounce of y (by
		 * Message-ID); a delay warning; an auto-reply to x; a
		 * bounce of mail hearth did not send */
		add_notice(res, BOUNCE_DSN, true, "5.1.1", x.token, NULL);
		add_notice(res, BOUNCE_DSN, true, "5.1.1", x.token, NULL);
		add_notice(res, BOUNCE_TEXT, true, "5.2.2", NULL,
			   y.message_id);
		add_notice(res, BOUNCE_DSN, false, "4.4.1", x.token, NULL);
		add_notice(res, BOUNCE_AUTOREPLY, false, "", NULL,
			   x.message_id);
		add_notice(res, BOUNCE_DSN, true, "5.1.1", "not-ours",
			   "<nope@example>");
		engage_answer(&e, &e.calls[ci], res);
		test_assert(store_ramp_day_get(e.store, sender, x.day, &d,
					       NULL) == 1);
		test_assert(d.bounced == bounced0 + 2);
		test_assert(d.missing == missing0 - 1);
		test_assert(d.auto_replies == auto0 + 1);
		test_assert(d.replied == replied0);
		store_ramp_day_clear(&d);
	}
	store_exchange_clear(&x);
	xget(&e, xid, &x);
	test_assert(x.bounced_at == e.now && str_eq(x.bounce_status, "5.1.1") &&
		    str_has(x.bounce_reason, "User unknown"));
	test_assert(x.auto_replied_at == e.now && !x.replied);
	test_assert(str_eq(x.placement, "inbox")); /* it was found first */
	store_exchange_clear(&y);
	xget(&e, yid, &y);
	test_assert(y.bounced_at == e.now && str_eq(y.bounce_status, "5.2.2"));
	test_assert(y.placement == NULL && y.engaged_at > 0 && y.engage_at == 0);
	test_assert(events_of(&e, sender, "exchange.bounced") == 2);
	/* and the next ENGAGE job does not look again within the hour */
	e.manual = true;
	ci = run_to(&e, e.now + HOUR - 60, m_engage_notices, sender);
	test_assert(ci == -1);
out:
	store_exchange_clear(&x);
	store_exchange_clear(&y);
	env_free(&e);
	test_end();
}

/* A bounce for an exchange left "sending" (a crash, an uncertain send)
 * says the server took it: sent, and bounced. */
static void test_notice_uncertain(void)
{
	struct env e;
	struct store_exchange x = {0}, y = {0}, *xs = NULL;
	struct store *op;
	struct job_engage_result *res;
	struct counts before, after;
	int64_t xid = 0, sender = 0;
	size_t n = 0;
	long ci;

	test_begin("scheduler: a bounce resolves an uncertain send as sent");
	env_defaults(&e);
	e.opts.notice_every_secs = HOUR;
	env_create(&e, 3, FIXED(1));
	plan_day0(&e);
	xplanned(&e, &xs, &n);
	test_assert(n >= 2);
	if (n < 2)
		goto out;
	xid = xs[0].id;
	sender = xs[0].sender_inbox_id;
	/* what a crash leaves: x "sending"; and a message to the sender,
	 * sent, due to be engaged now (so its ENGAGE job runs) */
	op = operator_open(&e);
	test_assert(store_exchange_get(op, xid, &x, NULL) == 1);
	free(x.state);
	x.state = xstrdup("sending");
	x.attempted_at = e.now;
	free(x.message_id);
	x.message_id = xstrdup("<u1@alpha.example>");
	test_assert(store_exchange_update(op, &x, NULL) == 0);
	for (size_t i = 0; i < n; i++) {
		if (xs[i].recipient_inbox_id != sender)
			continue;
		test_assert(store_exchange_get(op, xs[i].id, &y, NULL) == 1);
		free(y.state);
		y.state = xstrdup("sending");
		test_assert(store_exchange_update(op, &y, NULL) == 0);
		free(y.state);
		y.state = xstrdup("sent");
		y.sent_at = e.now;
		y.engage_at = e.now;
		test_assert(store_exchange_update(op, &y, NULL) == 0);
		store_exchange_clear(&y);
		break;
	}
	store_close(&op);
	before = counts_of(&e, sender, x.day);
	env_restart(&e, e.now);
	e.manual = true;
	ci = run_to(&e, e.now + HOUR, m_engage_notices, sender);
	test_assert(ci >= 0);
	if (ci < 0)
		goto out;
	res = engage_res(&e.calls[ci]);
	add_notice(res, BOUNCE_DSN, true, "5.1.1", x.token, NULL);
	engage_answer(&e, &e.calls[ci], res);
	store_exchange_clear(&x);
	xget(&e, xid, &x);
	after = counts_of(&e, sender, x.day);
	test_assert(str_eq(x.state, "sent") && x.sent_at > 0);
	test_assert(x.bounced_at == e.now && x.engaged_at == e.now &&
		    x.engage_at == 0);
	test_assert(after.sent == before.sent + 1);
	{
		struct store_ramp_day d = {0};

		test_assert(store_ramp_day_get(e.store, sender, x.day, &d,
					       NULL) == 1 &&
			    d.bounced == 1);
		store_ramp_day_clear(&d);
	}
out:
	store_exchange_list_free(&xs, n);
	store_exchange_clear(&x);
	env_free(&e);
	test_end();
}

/* The sender's mailbox shows the bounce before the send's result came
 * back: the bounce waits for it, then counts once, and the message is
 * never looked for. */
static void test_notice_before_send_result(void)
{
	struct env e;
	struct store_exchange x = {0}, y = {0}, *xs = NULL;
	struct store_ramp_day d = {0};
	struct store *op;
	struct job_engage_result *res;
	struct counts before, mid, after;
	int64_t xid = 0, sender = 0, t;
	size_t n = 0;
	long cs, ce;

	test_begin("scheduler: a bounce before its send's result counts once");
	env_defaults(&e);
	e.opts.notice_every_secs = HOUR;
	env_create(&e, 3, FIXED(1));
	plan_day0(&e);
	xplanned(&e, &xs, &n);
	test_assert(n >= 2);
	if (n < 2)
		goto out;
	xid = xs[0].id;
	sender = xs[0].sender_inbox_id;
	t = xs[0].planned_at;
	/* a message to the sender, sent, due to be engaged just after x
	 * goes out (so the sender's ENGAGE job runs meanwhile) */
	op = operator_open(&e);
	for (size_t i = 0; i < n; i++) {
		if (xs[i].recipient_inbox_id != sender)
			continue;
		test_assert(store_exchange_get(op, xs[i].id, &y, NULL) == 1);
		free(y.state);
		y.state = xstrdup("sending");
		test_assert(store_exchange_update(op, &y, NULL) == 0);
		free(y.state);
		y.state = xstrdup("sent");
		y.sent_at = e.now;
		y.engage_at = t + 30;
		test_assert(store_exchange_update(op, &y, NULL) == 0);
		store_exchange_clear(&y);
		break;
	}
	store_close(&op);
	env_restart(&e, e.now);
	e.manual = true;
	cs = run_to(&e, t + 10, m_send_of, xid);
	test_assert(cs >= 0);
	ce = run_to(&e, t + 120, m_engage_notices, sender);
	test_assert(ce >= 0);
	if (cs < 0 || ce < 0)
		goto out;
	xget(&e, xid, &x);
	before = counts_of(&e, sender, x.day);
	res = engage_res(&e.calls[ce]);
	add_notice(res, BOUNCE_DSN, true, "5.1.1", x.token, NULL);
	engage_answer(&e, &e.calls[ce], res);
	store_exchange_clear(&x);
	xget(&e, xid, &x);
	mid = counts_of(&e, sender, x.day);
	test_assert(str_eq(x.state, "sending") && x.bounced_at == e.now);
	test_assert(mid.sent == before.sent);
	test_assert(events_of(&e, sender, "exchange.bounced") == 1);
	send_ok(&e, &e.calls[cs], 250);
	store_exchange_clear(&x);
	xget(&e, xid, &x);
	after = counts_of(&e, sender, x.day);
	test_assert(str_eq(x.state, "sent") && x.engaged_at == e.now &&
		    x.engage_at == 0 && x.placement == NULL);
	test_assert(after.sent == before.sent + 1);
	test_assert(store_ramp_day_get(e.store, sender, x.day, &d, NULL) ==
			1 &&
		    d.bounced == 1);
	store_ramp_day_clear(&d);
	/* never looked for */
	e.manual = false;
	test_assert(run_to(&e, e.now + 2 * 86400, m_engage_of, xid) == -1);
out:
	store_exchange_list_free(&xs, n);
	store_exchange_clear(&x);
	env_free(&e);
	test_end();
}

static void test_checks(void)
{
	struct env e;
	struct store_domain_check *cs = NULL;
	struct hearth_err f = {0};
	size_t n = 0, n_checks;
	long ci;
	int64_t t0;

	test_begin("scheduler: each domain is checked at start, then daily");
	env_defaults(&e);
	e.opts.check_every_secs = 86400;
	e.opts.per_host = 8;
	env_create(&e, 3, FIXED(1));
	env_start(&e, DAY0);
	e.manual = true;
	step(&e, DAY0);
	n_checks = count_calls(&e, m_check, 0);
	test_assert(n_checks == 3); /* alpha, beta, gamma */
	for (size_t i = 0; i < e.n_calls; i++) {
		struct call *c = &e.calls[i];

		if (!c->check)
			continue;
		test_assert(str_eq(c->provider, "generic") && c->n_hosts == 1);
		test_assert(str_has(c->host, c->domain));
		if (str_eq(c->domain, "beta.example")) {
			/* a failure: tried again later */
			hearth_err_set(&f, HEARTH_FAIL_RETRY, 0, "dns down");
			c->answered = true;
			scheduler_check_done(e.sc, c->job_id, c->run, e.now,
					     NULL, &f);
		} else {
			check_answer(&e, c,
				     str_eq(c->domain, "alpha.example") ? "fail"
									 : "pass",
				     str_eq(c->domain, "alpha.example")
					 ? "SPF is missing"
					 : NULL);
		}
	}
	e.seen = e.n_calls;
	test_assert(store_domain_check_latest(e.store, 0, 0, &cs, &n, NULL) ==
		    0);
	test_assert(n == 2 && str_eq(cs[0].domain, "alpha.example") &&
		    str_eq(cs[0].worst, "fail") &&
		    str_eq(cs[0].failure, "SPF is missing") &&
		    cs[0].checked_at == DAY0 && str_has(cs[0].report, "alpha"));
	store_domain_check_list_free(&cs, n);
	/* beta is tried again within the hour */
	e.manual = false;
	ci = run_to(&e, DAY0 + HOUR, m_check, 0);
	test_assert(ci >= 0);
	if (ci >= 0) {
		test_assert(str_eq(e.calls[ci].domain, "beta.example"));
		check_answer(&e, &e.calls[ci], "pass", NULL);
	}
	/* nothing more until a day later; a restart does not check early */
	t0 = e.now;
	env_restart(&e, e.now + 60);
	ci = run_to(&e, DAY0 + 86400 - 60, m_check, 0);
	test_assert(ci == -1);
	ci = run_to(&e, DAY0 + 86400 + 60, m_check, 0);
	test_assert(ci >= 0 && e.calls[ci].at == DAY0 + 86400);
	(void)t0;
	env_free(&e);
	test_end();
}

/* ---- 5. retry, permanent, auth ---- */

static void test_send_retry(void)
{
	struct env e;
	struct store_exchange x = {0};
	struct sched_options so;
	struct counts before, after;
	int64_t xid, t, backoff;
	long c1, c2;

	test_begin("scheduler: a retry-class failure is retried after backoff");
	env_defaults(&e);
	env_create(&e, 3, FIXED(1));
	plan_day0(&e);
	xid = first_planned(&e);
	c1 = run_to(&e, DAY0 + 20 * HOUR, m_send_of, xid);
	test_assert(c1 >= 0);
	if (c1 < 0)
		goto out;
	xget(&e, xid, &x);
	before = counts_of(&e, x.sender_inbox_id, x.day);
	store_exchange_clear(&x);
	t = e.now + 2;
	e.now = t;
	send_fail(&e, &e.calls[c1], HEARTH_FAIL_RETRY, 421,
		  "smtp: 421 4.7.0 try again later");
	xget(&e, xid, &x);
	test_assert(str_eq(x.state, "sending"));
	test_assert(str_eq(x.error, "smtp: 421 4.7.0 try again later"));
	test_assert(x.smtp_code == 421);
	store_exchange_clear(&x);
	/* sched.h's formula with the default options: 45 to 75 s */
	sched_options_default(&so);
	so.seed = e.opts.seed;
	backoff = sched_backoff(&so, e.calls[c1].job_id, 1);
	test_assert(backoff >= 45 && backoff <= 75);
	c2 = run_to(&e, t + HOUR, m_send_of, xid);
	test_assert(c2 >= 0);
	if (c2 < 0)
		goto out;
	test_assert(e.calls[c2].at - t >= 45);
	test_assert(e.calls[c2].at == t + backoff);
	test_assert(e.calls[c2].run == e.calls[c1].run + 1);
	test_assert(str_eq(e.calls[c2].state, "sending"));
	test_assert(str_eq(e.calls[c2].message_id, e.calls[c1].message_id));
	send_ok(&e, &e.calls[c2], 250);
	xget(&e, xid, &x);
	test_assert(str_eq(x.state, "sent") && x.smtp_code == 250);
	test_assert(x.error == NULL);
	after = counts_of(&e, x.sender_inbox_id, x.day);
	test_assert(after.sent == before.sent + 1);
	test_assert(after.failed == before.failed);
	test_assert(count_calls(&e, m_send_of, xid) == 2);
out:
	store_exchange_clear(&x);
	env_free(&e);
	test_end();
}

static void test_send_permanent(void)
{
	struct env e;
	struct store_exchange x = {0};
	struct counts before, after;
	struct store_exchange *xs = NULL;
	size_t n = 0;
	int64_t xid, yid;
	long ci;

	test_begin("scheduler: a permanent failure fails the exchange");
	env_defaults(&e);
	env_create(&e, 3, FIXED(1));
	plan_day0(&e);
	xplanned(&e, &xs, &n);
	test_assert(n >= 2);
	if (n < 2) {
		store_exchange_list_free(&xs, n);
		goto out;
	}
	xid = xs[0].id;
	yid = xs[1].id;
	store_exchange_list_free(&xs, n);
	ci = run_to(&e, DAY0 + 20 * HOUR, m_send_of, xid);
	test_assert(ci >= 0);
	if (ci < 0)
		goto out;
	xget(&e, xid, &x);
	before = counts_of(&e, x.sender_inbox_id, x.day);
	store_exchange_clear(&x);
	send_fail(&e, &e.calls[ci], HEARTH_FAIL_PERMANENT, 550,
		  "smtp: 550 5.1.1 mailbox unavailable");
	xget(&e, xid, &x);
	test_assert(str_eq(x.state, "failed"));
	test_assert(str_eq(x.error, "smtp: 550 5.1.1 mailbox unavailable"));
	test_assert(x.smtp_code == 550 && x.engage_at == 0);
	after = counts_of(&e, x.sender_inbox_id, x.day);
	test_assert(after.failed == before.failed + 1);
	test_assert(after.failed_permanent == before.failed_permanent + 1);
	test_assert(after.auth_failures == before.auth_failures);
	test_assert(after.sent == before.sent);
	test_assert(inbox_state_is(&e, x.sender_inbox_id, "active"));
	store_exchange_clear(&x);

	/* a result that is no 2xx is a refusal */
	ci = run_to(&e, DAY0 + 20 * HOUR, m_send_of, yid);
	test_assert(ci >= 0);
	if (ci < 0)
		goto out;
	send_ok(&e, &e.calls[ci], 554);
	xget(&e, yid, &x);
	test_assert(str_eq(x.state, "failed"));
	test_assert(str_has(x.error, "554"));
	store_exchange_clear(&x);
	/* neither is sent again */
	run_to(&e, DAY0 + 22 * HOUR, NULL, 0);
	test_assert(count_calls(&e, m_any_of, xid) == 1);
	test_assert(count_calls(&e, m_any_of, yid) == 1);
out:
	store_exchange_clear(&x);
	env_free(&e);
	test_end();
}

/*
 * Pause the sender of the first send by an auth failure on day 0; run the
 * day out. *s_r: the sender, *x_r: that exchange, *at_r: when.
 */
static bool auth_fail_first(struct env *e, int64_t *s_r, int64_t *x_r,
			    int64_t *at_r)
{
	struct store_exchange *xs = NULL;
	size_t n = 0;
	long ci;

	/* the first sender that has more to send and to receive later */
	xplanned(e, &xs, &n);
	*x_r = 0;
	for (size_t i = 0; i < n && *x_r == 0; i++) {
		bool sends = false, receives = false;

		for (size_t j = i + 1; j < n; j++) {
			sends |= xs[j].sender_inbox_id == xs[i].sender_inbox_id;
			receives |=
			    xs[j].recipient_inbox_id == xs[i].sender_inbox_id;
		}
		if (sends && receives) {
			*x_r = xs[i].id;
			*s_r = xs[i].sender_inbox_id;
		}
	}
	store_exchange_list_free(&xs, n);
	test_assert(*x_r != 0);
	if (*x_r == 0)
		return false;
	ci = run_to(e, DAY0 + 20 * HOUR, m_send_of, *x_r);
	test_assert(ci >= 0);
	if (ci < 0)
		return false;
	*at_r = e->now;
	send_fail(e, &e->calls[ci], HEARTH_FAIL_AUTH, 535,
		  "smtp: 535 5.7.8 authentication failed");
	return true;
}

static void test_send_auth(void)
{
	struct env e;
	struct store_exchange x = {0};
	struct store_exchange *xs = NULL;
	struct store_event *ev = NULL;
	struct store_inbox in = {0};
	struct counts c;
	size_t n = 0, n_ev = 0, n_later = 0, n_to = 0;
	int64_t s = 0, xid = 0, at = 0;

	test_begin("scheduler: an auth failure pauses the sender inbox");
	env_defaults(&e);
	env_create(&e, 5, FIXED(2));
	plan_day0(&e);
	if (!auth_fail_first(&e, &s, &xid, &at))
		goto out;
	xget(&e, xid, &x);
	test_assert(str_eq(x.state, "failed"));
	test_assert(str_has(x.error, "535"));
	c = counts_of(&e, s, x.day);
	test_assert(c.failed == 1 && c.auth_failures == 1);
	test_assert(c.failed_permanent == 0 && c.sent == 0);
	store_exchange_clear(&x);
	test_assert(store_inbox_get_id(e.store, s, &in, NULL) == 1);
	test_assert(str_eq(in.state, "paused"));
	test_assert(str_has(in.state_reason, "hearth inbox resume"));
	test_assert(str_has(in.state_reason, addr_of(&e, s)));
	test_assert(store_event_list(e.store, s, 0, &ev, &n_ev, NULL) == 0);
	test_assert(n_ev >= 1 && str_eq(ev[0].kind, "inbox.paused"));
	test_assert(n_ev >= 1 && str_eq(ev[0].detail, in.state_reason));
	test_assert(n_ev >= 1 && ev[0].at == at);
	store_event_list_free(&ev, n_ev);
	store_inbox_clear(&in);

	/* its later sends fail at their time without the network */
	run_to(&e, DAY0 + 20 * HOUR, NULL, 0);
	xall(&e, &xs, &n);
	for (size_t i = 0; i < n; i++) {
		const struct store_exchange *y = &xs[i];

		if (y->id == xid || y->planned_at < at)
			continue;
		if (y->sender_inbox_id == s) {
			n_later++;
			test_assert(str_eq(y->state, "failed"));
			test_assert(str_eq(y->error, "sender inbox is paused"));
			test_assert(count_calls(&e, m_send_of, y->id) == 0);
		} else if (y->recipient_inbox_id == s) {
			n_to++;
			test_assert(str_eq(y->state, "failed"));
			test_assert(
			    str_eq(y->error, "recipient inbox is paused"));
			test_assert(count_calls(&e, m_send_of, y->id) == 0);
		} else {
			test_assert(str_eq(y->state, "sent"));
		}
	}
	test_assert(n_later >= 1);
	test_assert(n_to >= 1);
	store_exchange_list_free(&xs, n);
	/* and nobody engages for it */
	for (size_t i = 0; i < e.n_calls; i++)
		if (e.calls[i].engage && e.calls[i].at > at)
			test_assert(e.calls[i].inbox_id != s);
out:
	env_free(&e);
	test_end();
}

/* ---- 6. uncertain ---- */

static void test_uncertain_found(void)
{
	struct env e;
	struct store_exchange x = {0};
	struct counts before, mid, after;
	int64_t xid, t, r;
	long ci;

	test_begin("scheduler: an uncertain send found by a look is sent");
	env_defaults(&e);
	env_create(&e, 3, FIXED(1));
	plan_day0(&e);
	xid = first_planned(&e);
	ci = run_to(&e, DAY0 + 20 * HOUR, m_send_of, xid);
	test_assert(ci >= 0);
	if (ci < 0)
		goto out;
	xget(&e, xid, &x);
	before = counts_of(&e, x.sender_inbox_id, x.day);
	r = x.recipient_inbox_id;
	store_exchange_clear(&x);
	t = e.now + 1;
	e.now = t;
	send_uncertain(&e, &e.calls[ci]);
	xget(&e, xid, &x);
	test_assert(str_eq(x.state, "sending"));
	test_assert(x.engage_at == t + SCHEDULER_RESOLVE_SECS);
	test_assert(x.looks == 0 && x.sent_at == 0);
	mid = counts_of(&e, x.sender_inbox_id, x.day);
	test_assert(mid.sent == before.sent);
	store_exchange_clear(&x);
	ci = run_to(&e, DAY0 + 22 * HOUR, m_any_of, xid);
	test_assert(ci >= 0);
	if (ci < 0)
		goto out;
	test_assert(e.calls[ci].engage);
	test_assert(e.calls[ci].at == t + SCHEDULER_RESOLVE_SECS);
	test_assert(e.calls[ci].inbox_id == r);
	answer_auto(&e, &e.calls[ci]);
	xget(&e, xid, &x);
	test_assert(str_eq(x.state, "sent"));
	test_assert(x.sent_at == x.attempted_at && x.sent_at == t - 1);
	/* engaged in the same step */
	test_assert(str_eq(x.placement, "inbox"));
	test_assert(x.engaged_at == e.now && x.engage_at == 0);
	after = counts_of(&e, x.sender_inbox_id, x.day);
	test_assert(after.sent == before.sent + 1);
	test_assert(after.inbox == before.inbox + 1);
	/* counted once, sent once */
	run_to(&e, DAY0 + 23 * HOUR, NULL, 0);
	after = counts_of(&e, x.sender_inbox_id, x.day);
	test_assert(after.sent == before.sent + 1);
	test_assert(count_calls(&e, m_send_of, xid) == 1);
out:
	store_exchange_clear(&x);
	env_free(&e);
	test_end();
}

static void test_uncertain_lost(void)
{
	struct env e;
	struct store_exchange x = {0};
	struct job_engage_result *res;
	struct counts before, after;
	char message_id[400];
	int64_t xid, t;
	long ci, c1;

	test_begin("scheduler: an uncertain send never found is sent again");
	env_defaults(&e);
	env_create(&e, 3, FIXED(1));
	plan_day0(&e);
	xid = first_planned(&e);
	c1 = run_to(&e, DAY0 + 20 * HOUR, m_send_of, xid);
	test_assert(c1 >= 0);
	if (c1 < 0)
		goto out;
	snprintf(message_id, sizeof(message_id), "%s", e.calls[c1].message_id);
	xget(&e, xid, &x);
	before = counts_of(&e, x.sender_inbox_id, x.day);
	store_exchange_clear(&x);
	send_uncertain(&e, &e.calls[c1]);
	t = e.now + SCHEDULER_RESOLVE_SECS;
	for (int look = 1; look <= SCHEDULER_MAX_LOOKS; look++) {
		ci = run_to(&e, DAY0 + 23 * HOUR, m_any_of, xid);
		test_assert(ci >= 0);
		if (ci < 0)
			goto out;
		test_assert(e.calls[ci].engage);
		test_assert(e.calls[ci].at == t);
		res = engage_res(&e.calls[ci]);
		set_missing(res_item(res, xid));
		engage_answer(&e, &e.calls[ci], res);
		xget(&e, xid, &x);
		test_assert(str_eq(x.state, "sending"));
		test_assert(x.placement == NULL);
		if (look < SCHEDULER_MAX_LOOKS) {
			test_assert(x.looks == look);
			test_assert(x.engage_at ==
				    t + look * SCHEDULER_LOOK_RETRY_SECS);
			t = x.engage_at;
		} else {
			test_assert(x.engage_at == 0);
		}
		store_exchange_clear(&x);
	}
	/* the resend: once, with the same Message-ID */
	ci = run_to(&e, DAY0 + 23 * HOUR, m_any_of, xid);
	test_assert(ci >= 0);
	if (ci < 0)
		goto out;
	test_assert(!e.calls[ci].engage);
	test_assert(e.calls[ci].at == t);
	test_assert(str_eq(e.calls[ci].message_id, message_id));
	send_ok(&e, &e.calls[ci], 250);
	xget(&e, xid, &x);
	test_assert(str_eq(x.state, "sent"));
	test_assert(str_eq(x.message_id, message_id));
	store_exchange_clear(&x);
	run_to(&e, DAY0 + 2 * 86400, NULL, 0);
	test_assert(count_calls(&e, m_send_of, xid) == 2);
	xget(&e, xid, &x);
	after = counts_of(&e, x.sender_inbox_id, x.day);
	test_assert(after.sent == before.sent + 1);
	test_assert(after.missing == before.missing);
	test_assert(str_eq(x.placement, "inbox"));
out:
	store_exchange_clear(&x);
	env_free(&e);
	test_end();
}

/* ---- 7. crash and resume ---- */

static void test_crash_sending(void)
{
	struct env e;
	struct store_exchange x = {0};
	struct counts before, after;
	int64_t xid, t;
	long c1, ci;

	test_begin("scheduler: sending at a crash: a look before any resend");
	env_defaults(&e);
	env_create(&e, 3, FIXED(1));
	plan_day0(&e);
	xid = first_planned(&e);
	c1 = run_to(&e, DAY0 + 20 * HOUR, m_send_of, xid);
	test_assert(c1 >= 0);
	if (c1 < 0)
		goto out;
	t = e.now;
	xget(&e, xid, &x);
	before = counts_of(&e, x.sender_inbox_id, x.day);
	store_exchange_clear(&x);
	env_restart(&e, t + 30);
	xget(&e, xid, &x);
	test_assert(str_eq(x.state, "sending"));
	test_assert(x.attempted_at == t);
	test_assert(x.engage_at == t + SCHEDULER_RESOLVE_SECS);
	store_exchange_clear(&x);
	/* the old engine's result means nothing to the new one */
	send_ok(&e, &e.calls[c1], 250);
	test_assert(state_is(&e, xid, "sending"));
	ci = run_to(&e, DAY0 + 22 * HOUR, m_any_of, xid);
	test_assert(ci >= 0);
	if (ci < 0)
		goto out;
	test_assert(e.calls[ci].engage);
	test_assert(e.calls[ci].at == t + SCHEDULER_RESOLVE_SECS);
	answer_auto(&e, &e.calls[ci]);
	xget(&e, xid, &x);
	test_assert(str_eq(x.state, "sent") && x.sent_at == t);
	after = counts_of(&e, x.sender_inbox_id, x.day);
	test_assert(after.sent == before.sent + 1);
	test_assert(count_calls(&e, m_send_of, xid) == 1);
out:
	store_exchange_clear(&x);
	env_free(&e);
	test_end();
}

static void test_crash_planned(void)
{
	struct env e;
	struct store_exchange *xs = NULL;
	size_t n = 0, n_all = 0;
	int64_t crash, back;

	test_begin("scheduler: planned work survives a restart");
	env_defaults(&e);
	env_create(&e, 5, FIXED(2));
	plan_day0(&e);
	xplanned(&e, &xs, &n_all);
	test_assert(n_all >= 4);
	crash = xs[1].planned_at;
	store_exchange_list_free(&xs, n_all);
	run_to(&e, crash, NULL, 0);
	/* an hour down: nothing is lost, what is due goes out */
	back = crash + HOUR;
	env_restart(&e, back);
	run_to(&e, DAY0 + 22 * HOUR, NULL, 0);
	xall(&e, &xs, &n);
	test_assert(n == n_all);
	for (size_t i = 0; i < n; i++) {
		test_assert(str_eq(xs[i].state, "sent"));
		test_assert(count_calls(&e, m_send_of, xs[i].id) == 1);
		if (xs[i].planned_at > crash && xs[i].planned_at < back)
			test_assert(xs[i].attempted_at == back);
		else if (xs[i].planned_at >= back)
			test_assert(xs[i].attempted_at == xs[i].planned_at);
	}
	store_exchange_list_free(&xs, n);
	env_free(&e);
	test_end();
}

static void test_crash_missed(void)
{
	struct env e;
	struct store_exchange *xs = NULL;
	size_t n = 0, n_missed = 0, n_late = 0;
	int64_t crash, back;
	int failed[MAX_INBOXES] = {0};

	test_begin("scheduler: sends more than 6 hours late fail as missed");
	env_defaults(&e);
	env_create(&e, 5, FIXED(2));
	plan_day0(&e);
	xplanned(&e, &xs, &n);
	test_assert(n >= 4);
	crash = xs[0].planned_at;
	back = xs[1].planned_at + SCHEDULER_LATE_MAX_SECS + 1;
	store_exchange_list_free(&xs, n);
	run_to(&e, crash, NULL, 0);
	env_restart(&e, back);
	run_to(&e, DAY0 + 30 * HOUR, NULL, 0);
	xall(&e, &xs, &n);
	for (size_t i = 0; i < n; i++) {
		const struct store_exchange *x = &xs[i];

		if (x->planned_at <= crash || x->depth > 0) {
			test_assert(str_eq(x->state, "sent"));
		} else if (back - x->planned_at > SCHEDULER_LATE_MAX_SECS) {
			n_missed++;
			test_assert(str_eq(x->state, "failed"));
			test_assert(x->error != NULL &&
				    strncmp(x->error, "missed", 6) == 0);
			test_assert(count_calls(&e, m_send_of, x->id) == 0);
			for (size_t k = 0; k < e.n_inboxes; k++)
				failed[k] += e.ids[k] == x->sender_inbox_id;
		} else {
			n_late++;
			test_assert(str_eq(x->state, "sent"));
		}
	}
	test_assert(n_missed >= 1);
	test_assert(n_late >= 1);
	store_exchange_list_free(&xs, n);
	for (size_t k = 0; k < e.n_inboxes; k++) {
		struct counts c = counts_of(&e, e.ids[k], "2024-06-03");

		test_assert(c.failed == failed[k]);
		test_assert(c.failed_permanent == 0);
	}
	env_free(&e);
	test_end();
}

/* ---- 8. leases ---- */

static void test_lease(void)
{
	struct env e;
	struct store_exchange x = {0};
	int64_t xid, t, yid = 0;
	long c1, ci;

	test_begin("scheduler: an expired lease abandons the run, then looks");
	env_defaults(&e);
	e.opts.job_deadline_secs = 60;
	e.opts.lease_secs = 200;
	env_create(&e, 3, FIXED(1));
	plan_day0(&e);
	xid = first_planned(&e);
	c1 = run_to(&e, DAY0 + 20 * HOUR, m_send_of, xid);
	test_assert(c1 >= 0);
	if (c1 < 0)
		goto out;
	t = e.now;
	test_assert(e.calls[c1].timeout_secs == 60);
	/* no result: at t + 200 the lease is over */
	test_assert(run_to(&e, t + 199, m_any_of, xid) == -1);
	test_assert(e.n_abandoned == 0);
	test_assert(run_to(&e, t + 200, m_any_of, xid) == -1);
	test_assert(e.n_abandoned == 1);
	test_assert(e.abandoned_id[0] == e.calls[c1].job_id);
	test_assert(e.abandoned_run[0] == e.calls[c1].run);
	xget(&e, xid, &x);
	test_assert(str_eq(x.state, "sending"));
	test_assert(x.engage_at == t + 200 + SCHEDULER_RESOLVE_SECS);
	store_exchange_clear(&x);
	/* the abandoned run's result is stale */
	send_ok(&e, &e.calls[c1], 250);
	test_assert(state_is(&e, xid, "sending"));
	ci = run_to(&e, DAY0 + 22 * HOUR, m_any_of, xid);
	test_assert(ci >= 0);
	if (ci < 0)
		goto out;
	test_assert(e.calls[ci].engage);
	test_assert(e.calls[ci].at == t + 200 + SCHEDULER_RESOLVE_SECS);
	answer_auto(&e, &e.calls[ci]);
	test_assert(state_is(&e, xid, "sent"));
	test_assert(count_calls(&e, m_send_of, xid) == 1);

	/* an ENGAGE run that expires is abandoned and run again at once */
	{
		struct store_exchange *xs = NULL;
		size_t n = 0;

		xplanned(&e, &xs, &n);
		test_assert(n >= 1);
		if (n >= 1)
			yid = xs[0].id;
		store_exchange_list_free(&xs, n);
	}
	if (yid == 0)
		goto out;
	c1 = run_to(&e, DAY0 + 22 * HOUR, m_engage_of, yid);
	test_assert(c1 >= 0);
	if (c1 < 0)
		goto out;
	t = e.now;
	ci = run_to(&e, t + 200, m_engage_of, yid);
	test_assert(ci >= 0);
	if (ci < 0)
		goto out;
	test_assert(e.n_abandoned == 2);
	test_assert(e.abandoned_id[1] == e.calls[c1].job_id);
	test_assert(e.calls[ci].at == t + 200);
	test_assert(e.calls[ci].job_id == e.calls[c1].job_id);
	test_assert(e.calls[ci].run == e.calls[c1].run + 1);
	answer_auto(&e, &e.calls[ci]);
	xget(&e, yid, &x);
	test_assert(str_eq(x.placement, "inbox"));
out:
	store_exchange_clear(&x);
	env_free(&e);
	test_end();
}

static void test_lease_restart(void)
{
	struct env e;
	struct store_exchange x = {0};
	int64_t xid, t;
	long c1, ci;

	test_begin("scheduler: an expired SEND is looked for after a restart");
	env_defaults(&e);
	e.opts.job_deadline_secs = 60;
	e.opts.lease_secs = 200;
	env_create(&e, 3, FIXED(1));
	plan_day0(&e);
	xid = first_planned(&e);
	c1 = run_to(&e, DAY0 + 20 * HOUR, m_send_of, xid);
	test_assert(c1 >= 0);
	if (c1 < 0)
		goto out;
	t = e.now;
	/* the lease expires, then the engine stops */
	step(&e, t + 200);
	test_assert(e.n_abandoned == 1);
	env_restart(&e, t + 300);
	xget(&e, xid, &x);
	test_assert(str_eq(x.state, "sending"));
	test_assert(x.engage_at > 0);
	store_exchange_clear(&x);
	ci = run_to(&e, DAY0 + 22 * HOUR, m_any_of, xid);
	test_assert(ci >= 0);
	if (ci < 0)
		goto out;
	test_assert(e.calls[ci].engage);
	answer_auto(&e, &e.calls[ci]);
	test_assert(state_is(&e, xid, "sent"));
	test_assert(count_calls(&e, m_send_of, xid) == 1);
out:
	env_free(&e);
	test_end();
}

/* ---- 9. shutdown ---- */

static void test_drain(void)
{
	struct env e;
	struct store_exchange *xs = NULL;
	size_t n = 0, calls;
	int64_t x1, x2;
	long c1, c2;

	test_begin("scheduler: drain starts nothing, takes running results");
	env_defaults(&e);
	e.opts.lease_secs = 86400; /* runs held from one send to the next */
	env_create(&e, 5, FIXED(2));
	plan_day0(&e);
	xplanned(&e, &xs, &n);
	test_assert(n >= 4);
	x1 = xs[0].id;
	x2 = xs[1].id;
	store_exchange_list_free(&xs, n);
	c1 = run_to(&e, DAY0 + 20 * HOUR, m_send_of, x1);
	c2 = run_to(&e, DAY0 + 20 * HOUR, m_send_of, x2);
	test_assert(c1 >= 0 && c2 >= 0);
	if (c1 < 0 || c2 < 0)
		goto out;
	test_assert(scheduler_running(e.sc) == 2);
	test_assert(!scheduler_draining(e.sc));
	scheduler_drain(e.sc);
	test_assert(scheduler_draining(e.sc));
	calls = e.n_calls;
	step(&e, e.now + 10);
	e.now += 5;
	send_ok(&e, &e.calls[c1], 250);
	test_assert(state_is(&e, x1, "sent"));
	test_assert(scheduler_running(e.sc) == 1);
	step(&e, e.now + 20);
	send_ok(&e, &e.calls[c2], 250);
	test_assert(state_is(&e, x2, "sent"));
	test_assert(scheduler_running(e.sc) == 0);
	/* the rest of the day: sends and engagements are due, none start */
	run_to(&e, DAY0 + 20 * HOUR, NULL, 0);
	test_assert(e.n_calls == calls);
	test_assert(scheduler_queued(e.sc) > 0);
	test_assert(scheduler_running(e.sc) == 0);
	xplanned(&e, &xs, &n);
	test_assert(n >= 2);
	store_exchange_list_free(&xs, n);
out:
	env_free(&e);
	test_end();
}

static void test_hand_back(void)
{
	struct env e;
	struct store_exchange x = {0};
	size_t queued, calls;
	int64_t xid, t;
	long c1, ci;

	test_begin("scheduler: hand_back returns running jobs");
	env_defaults(&e);
	env_create(&e, 3, FIXED(1));
	plan_day0(&e);
	xid = first_planned(&e);
	c1 = run_to(&e, DAY0 + 20 * HOUR, m_send_of, xid);
	test_assert(c1 >= 0);
	if (c1 < 0)
		goto out;
	t = e.now;
	test_assert(scheduler_running(e.sc) == 1);
	queued = scheduler_queued(e.sc);
	scheduler_drain(e.sc);
	scheduler_hand_back(e.sc, t + 5);
	test_assert(scheduler_running(e.sc) == 0);
	test_assert(scheduler_queued(e.sc) == queued + 1);
	/* its run is over: a result now is ignored */
	e.now = t + 6;
	send_ok(&e, &e.calls[c1], 250);
	test_assert(state_is(&e, xid, "sending"));
	calls = e.n_calls;
	step(&e, t + 7);
	test_assert(e.n_calls == calls);
	/* the next start looks before any resend */
	env_restart(&e, t + 60);
	xget(&e, xid, &x);
	test_assert(x.engage_at == t + SCHEDULER_RESOLVE_SECS);
	store_exchange_clear(&x);
	ci = run_to(&e, DAY0 + 22 * HOUR, m_any_of, xid);
	test_assert(ci >= 0 && e.calls[ci].engage);
	if (ci >= 0)
		answer_auto(&e, &e.calls[ci]);
	test_assert(state_is(&e, xid, "sent"));
	test_assert(count_calls(&e, m_send_of, xid) == 1);
out:
	env_free(&e);
	test_end();
}

/* ---- 10. stale results, refused starts ---- */

static void test_stale(void)
{
	struct env e;
	struct store_exchange x = {0};
	struct job_engage_result *res;
	struct counts before, after;
	int64_t xid;
	long ci;

	test_begin("scheduler: a result for another run changes nothing");
	env_defaults(&e);
	env_create(&e, 3, FIXED(1));
	plan_day0(&e);
	xid = first_planned(&e);
	ci = run_to(&e, DAY0 + 20 * HOUR, m_send_of, xid);
	test_assert(ci >= 0);
	if (ci < 0)
		goto out;
	xget(&e, xid, &x);
	before = counts_of(&e, x.sender_inbox_id, x.day);
	store_exchange_clear(&x);
	{
		struct call stale = e.calls[ci];
		struct hearth_err f = {0};

		stale.run = e.calls[ci].run + 1;
		send_ok(&e, &stale, 250);
		stale.run = e.calls[ci].run - 1;
		hearth_err_set(&f, HEARTH_FAIL_PERMANENT, 550, "smtp: 550");
		scheduler_send_done(e.sc, stale.job_id, stale.run, e.now, NULL,
				    &f);
		/* an unknown job, and the job taken for an ENGAGE */
		scheduler_send_done(e.sc, stale.job_id + 1000, 1, e.now, NULL,
				    &f);
		res = xcalloc(1, sizeof(*res));
		scheduler_engage_done(e.sc, stale.job_id, stale.run + 7, e.now,
				      res, NULL);
		free(res);
	}
	test_assert(state_is(&e, xid, "sending"));
	test_assert(scheduler_running(e.sc) == 1);
	send_ok(&e, &e.calls[ci], 250);
	test_assert(state_is(&e, xid, "sent"));
	/* the same result twice counts once */
	send_ok(&e, &e.calls[ci], 250);
	xget(&e, xid, &x);
	after = counts_of(&e, x.sender_inbox_id, x.day);
	test_assert(after.sent == before.sent + 1);
	store_exchange_clear(&x);

	ci = run_to(&e, DAY0 + 22 * HOUR, m_engage_of, xid);
	test_assert(ci >= 0);
	if (ci < 0)
		goto out;
	res = engage_res(&e.calls[ci]);
	res_item(res, xid)->placement = JOB_PLACEMENT_SPAM;
	scheduler_engage_done(e.sc, e.calls[ci].job_id, e.calls[ci].run + 1,
			      e.now, res, NULL);
	free(res);
	xget(&e, xid, &x);
	test_assert(x.placement == NULL && x.engaged_at == 0);
	store_exchange_clear(&x);
	answer_auto(&e, &e.calls[ci]);
	answer_auto(&e, &e.calls[ci]);
	xget(&e, xid, &x);
	test_assert(str_eq(x.placement, "inbox"));
	after = counts_of(&e, x.sender_inbox_id, x.day);
	test_assert(after.inbox == before.inbox + 1);
	test_assert(after.spam == before.spam);
out:
	store_exchange_clear(&x);
	env_free(&e);
	test_end();
}

static void test_refused(void)
{
	struct env e;
	int64_t xid, t, next;
	long ci;

	test_begin("scheduler: a start the network refuses is tried again");
	env_defaults(&e);
	env_create(&e, 3, FIXED(1));
	plan_day0(&e);
	xid = first_planned(&e);
	{
		struct store_exchange x = {0};

		xget(&e, xid, &x);
		t = x.planned_at;
		store_exchange_clear(&x);
	}
	run_to(&e, t - 1, NULL, 0);
	e.refuse_send = true;
	next = step(&e, t);
	test_assert(e.refused >= 1);
	test_assert(next > t && next <= t + SCHED_REFUSED_RETRY_SECS);
	test_assert(scheduler_running(e.sc) == 0);
	e.refuse_send = false;
	e.now = next;
	ci = run_to(&e, t + 60, m_send_of, xid);
	test_assert(ci >= 0);
	if (ci >= 0) {
		test_assert(e.calls[ci].at == next);
		send_ok(&e, &e.calls[ci], 250);
	}
	test_assert(state_is(&e, xid, "sent"));
	test_assert(count_calls(&e, m_send_of, xid) == 1);
	env_free(&e);
	test_end();
}

/* ---- regressions: bugs found here, each case says what it expects ---- */

/*
 * An exchange that is not sent because its recipient inbox
 * is paused counted as a permanent failure (failed_permanent) on its
 * sender's ramp day, a sender that did nothing wrong; with
 * permanent_failures_pause such "failures" in 3 days the ramp pauses the
 * sender too ("permanent failures: N SMTP sends refused"): one inbox's
 * auth failure spreads over the pool. Expected: failed, not
 * failed_permanent; the sender stays active.
 */
static void test_bug_recipient_paused_counts_permanent(void)
{
	struct env e;
	struct store_exchange *xs = NULL;
	size_t n = 0;
	int64_t s = 0, xid = 0, at = 0;
	int64_t victims[MAX_INBOXES];
	size_t n_victims = 0;

	test_begin("scheduler: a paused recipient is no failure of the sender");
	env_defaults(&e);
	env_create(&e, 5,
		   "start=2,target=2,jitter=0,reply=0,weekend=1,"
		   "permanent_pause=1");
	plan_day0(&e);
	if (!auth_fail_first(&e, &s, &xid, &at))
		goto out;
	run_to(&e, DAY0 + 20 * HOUR, NULL, 0);
	xall(&e, &xs, &n);
	for (size_t i = 0; i < n; i++) {
		const struct store_exchange *y = &xs[i];
		bool known = false;

		if (!str_eq(y->error, "recipient inbox is paused"))
			continue;
		for (size_t k = 0; k < n_victims; k++)
			known |= victims[k] == y->sender_inbox_id;
		if (!known)
			victims[n_victims++] = y->sender_inbox_id;
	}
	store_exchange_list_free(&xs, n);
	test_assert(n_victims >= 1);
	for (size_t k = 0; k < n_victims; k++) {
		struct counts c = counts_of(&e, victims[k], "2024-06-03");

		test_assert(c.failed >= 1);
		test_assert(c.failed_permanent == 0); /* fails: the bug */
	}
	/* the next day the ramp pauses the healthy senders */
	run_to(&e, DAY0 + 86400 + 8 * HOUR, NULL, 0);
	for (size_t k = 0; k < n_victims; k++)
		test_assert(inbox_state_is(&e, victims[k], "active"));
out:
	env_free(&e);
	test_end();
}

/*
 * an inbox paused by an SMTP auth failure and resumed by the
 * operator (`hearth inbox resume`: state "active") is paused again by the
 * ramp at the next plan, for the very failure the operator fixed: the
 * scheduler's pause never reaches the ramp state (ramp_resume() is only
 * applied to a paused ramp state), so the resumed inbox's ramp still
 * counts that day's auth_failures (scheduler.h: "an inbox the operator
 * resumed is resumed in its ramp too"; ramp.h: fresh_days, "so a resumed
 * inbox is not paused again by the very days that paused it").
 */
static void test_bug_resumed_inbox_paused_again(void)
{
	struct env e;
	int64_t s = 0, xid = 0, at = 0;
	struct counts c;

	test_begin("scheduler: a resumed inbox is not paused again");
	env_defaults(&e);
	env_create(&e, 5, FIXED(2));
	plan_day0(&e);
	if (!auth_fail_first(&e, &s, &xid, &at))
		goto out;
	test_assert(inbox_state_is(&e, s, "paused"));
	run_to(&e, DAY0 + 18 * HOUR, NULL, 0);
	/* the operator fixes the password and resumes it */
	inbox_resume(&e, s, DAY0 + 18 * HOUR);
	run_to(&e, DAY0 + 86400 + 8 * HOUR, NULL, 0);
	c = counts_of(&e, s, "2024-06-04");
	test_assert(inbox_state_is(&e, s, "active")); /* fails: the bug */
	test_assert(strstr(c.state, "paused=0") != NULL);
	test_assert(c.volume > 0);
out:
	env_free(&e);
	test_end();
}

/*
 * the attempt of a SEND run whose lease expired is recorded
 * with inbox_id 0 (runner_expired: `job->kind == SC_SEND ? 0 : job->id`),
 * which the job_attempts foreign key refuses: the attempt is lost and an
 * error is logged at every expiry ("record a send attempt of inbox 0: ...
 * FOREIGN KEY constraint failed"). Expected: an "expired" attempt on the
 * sender inbox.
 */
static void test_bug_expired_send_attempt_lost(void)
{
	struct env e;
	struct store_exchange x = {0};
	struct store_job_attempt *at = NULL;
	size_t n = 0, n_expired = 0;
	int64_t xid;
	long c1;

	test_begin("scheduler: an expired SEND run's attempt is recorded");
	env_defaults(&e);
	e.opts.job_deadline_secs = 60;
	e.opts.lease_secs = 200;
	env_create(&e, 3, FIXED(1));
	plan_day0(&e);
	xid = first_planned(&e);
	c1 = run_to(&e, DAY0 + 20 * HOUR, m_send_of, xid);
	test_assert(c1 >= 0);
	if (c1 < 0)
		goto out;
	run_to(&e, e.now + 200, m_any_of, xid);
	test_assert(e.n_abandoned == 1);
	xget(&e, xid, &x);
	test_assert(store_job_attempt_list(e.store, x.sender_inbox_id, 0, &at,
					   &n, NULL) == 0);
	for (size_t i = 0; i < n; i++)
		n_expired +=
		    str_eq(at[i].result, "expired") && at[i].exchange_id == xid;
	store_job_attempt_list_free(&at, n);
	test_assert(n_expired == 1); /* fails: the bug */
out:
	store_exchange_clear(&x);
	env_free(&e);
	test_end();
}

/*
 * runner_expired() calls back into the job queue from inside
 * sched_tick() (sched.h: "The runner's functions must not call back into
 * the scheduler"). When a SEND job's lease expires on its last attempt
 * (SCHED_FAILED), exchange_resolve_later() -> queue_engage() cancels and
 * re-adds the recipient's ENGAGE job; when that job was the only other
 * one on the same host (one server for SMTP and IMAP), sched_cancel()
 * frees the host that sched_expire() then updates: a use after free
 * (AddressSanitizer or valgrind report it; a plain build usually does
 * not notice). Run in a child process so a crash fails only this test.
 */
static void bug_uaf_scenario(void)
{
	struct env e;
	struct store_exchange x = {0}, p = {0};
	struct store_inbox in = {0};
	struct hearth_err err = {0};
	/* Saturday 2024-06-08: weekend=0 plans nothing */
	const int64_t sat = DAY0 + 5 * 86400;
	int64_t t = sat + 10 * HOUR;
	long ci;

	/* a plain build may loop for ever in the freed host's table */
	alarm((unsigned)(2 * test_time_scale()));
	env_defaults(&e);
	env_create(&e, 2, "start=1,target=1,jitter=0,reply=0,weekend=0");
	/* one server for everything */
	for (size_t i = 0; i < 2; i++) {
		test_assert(store_inbox_get_id(e.store, e.ids[i], &in, NULL) ==
			    1);
		free(in.smtp_host);
		free(in.imap_host);
		in.smtp_host = xstrdup("mail.shared.example");
		in.imap_host = xstrdup("mail.shared.example");
		test_assert(store_inbox_update(e.store, &in, NULL) == 0);
		store_inbox_clear(&in);
	}
	/* P: sent to bob, a look due in 3 hours (his ENGAGE job) */
	p.pool_id = e.pool_id;
	p.sender_inbox_id = e.ids[0];
	p.recipient_inbox_id = e.ids[1];
	p.token = "0123456789abcdef0123456789abcdef";
	p.planned_at = t - HOUR;
	snprintf(p.day, sizeof(p.day), "2024-06-08");
	test_assert(store_exchange_add(e.store, &p, &err) == 0);
	p.token = NULL;
	xget(&e, p.id, &p);
	free(p.state);
	p.state = xstrdup("sending");
	test_assert(store_exchange_update(e.store, &p, &err) == 0);
	free(p.state);
	p.state = xstrdup("sent");
	p.sent_at = t - HOUR;
	p.engage_at = t + 3 * HOUR;
	test_assert(store_exchange_update(e.store, &p, &err) == 0);
	/* X: to bob as well, due at t */
	x.pool_id = e.pool_id;
	x.sender_inbox_id = e.ids[0];
	x.recipient_inbox_id = e.ids[1];
	x.token = "fedcba9876543210fedcba9876543210";
	x.planned_at = t;
	snprintf(x.day, sizeof(x.day), "2024-06-08");
	test_assert(store_exchange_add(e.store, &x, &err) == 0);
	e.manual = true;
	env_start(&e, t - 60);
	/* four retry-class failures, then a run that never answers */
	for (int i = 0; i < 4; i++) {
		ci = run_to(&e, t + 2 * HOUR, m_send_of, x.id);
		test_assert(ci >= 0);
		if (ci < 0)
			goto out;
		send_fail(&e, &e.calls[ci], HEARTH_FAIL_RETRY, 421,
			  "smtp: 421 try later");
	}
	ci = run_to(&e, t + 2 * HOUR, m_send_of, x.id);
	test_assert(ci >= 0);
	if (ci < 0)
		goto out;
	/* its lease expires: the 5th counted failure */
	run_to(&e, e.now + 2 * e.opts.job_deadline_secs + 60, NULL, 0);
	test_assert(e.n_abandoned == 1);
out:
	store_exchange_clear(&p);
	env_free(&e);
	exit(test_current_failed ? 1 : 0);
}

static void test_bug_expired_callback_reenters_queue(void)
{
	pid_t pid;
	int status = 0;

	test_begin("scheduler: a lease expiry does not re-enter the queue");
	fflush(NULL);
	pid = fork();
	test_assert(pid >= 0);
	if (pid == 0)
		bug_uaf_scenario();
	test_assert(waitpid(pid, &status, 0) == pid);
	test_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	test_end();
}

/* ---- main ---- */

static void rm_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char *p;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		p = xasprintf("%s/%s", tmpdir, de->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(tmpdir);
}

#define RUN(f)                                                                 \
	do {                                                                   \
		if (only == NULL || strstr(#f, only) != NULL)                  \
			f();                                                   \
	} while (0)

int main(int argc, char **argv)
{
	struct hearth_err err = {0};
	/* argv[1]: run only the tests whose function name contains it */
	const char *only = argc > 1 ? argv[1] : NULL;

	log_set_level(getenv("TEST_LOG_DEBUG") ? LOG_LEVEL_DEBUG
					       : LOG_LEVEL_ERROR);
	unsetenv(VAULT_KEY_ENV);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	if (content_corpus_load(HEARTH_SEEDS_DIR, &corpus, &err) < 0) {
		fprintf(stderr, "corpus: %s\n", err.msg);
		rm_tmpdir();
		return EXIT_FAILURE;
	}
	RUN(test_plan);
	RUN(test_plan_late);
	RUN(test_send);
	RUN(test_engage);
	RUN(test_engage_partial);
	RUN(test_engage_fail);
	RUN(test_retention);
	RUN(test_reply);
	RUN(test_thread_depth);
	RUN(test_missing);
	RUN(test_notices);
	RUN(test_notice_uncertain);
	RUN(test_notice_before_send_result);
	RUN(test_checks);
	RUN(test_send_retry);
	RUN(test_send_permanent);
	RUN(test_send_auth);
	RUN(test_uncertain_found);
	RUN(test_uncertain_lost);
	RUN(test_crash_sending);
	RUN(test_crash_planned);
	RUN(test_crash_missed);
	RUN(test_lease);
	RUN(test_lease_restart);
	RUN(test_drain);
	RUN(test_hand_back);
	RUN(test_stale);
	RUN(test_refused);
	RUN(test_bug_recipient_paused_counts_permanent);
	RUN(test_bug_resumed_inbox_paused_again);
	RUN(test_bug_expired_send_attempt_lost);
	RUN(test_bug_expired_callback_reenters_queue);
	content_corpus_free(&corpus);
	rm_tmpdir();
	return test_exit();
}
