// SPDX-License-Identifier: MIT
/*
 * The warmup loop. The job queue (sched.c) decides when; this file decides
 * what: it turns store rows into jobs and results into store rows. Every
 * change a result brings is one transaction.
 *
 * Job ids: (id << SC_KIND_BITS) | kind: a SEND job's id is its exchange's,
 * an ENGAGE job's its recipient inbox's, a CHECK job's its domain's. A
 * job's payload is a struct sc_job, owned by the queue.
 */
#include "hearth/scheduler.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "hearth/clock.h"
#include "hearth/log.h"
#include "hearth/message.h"
#include "hearth/planner.h"
#include "hearth/provider.h"
#include "hearth/ramp.h"
#include "hearth/rng.h"
#include "hearth/sched.h"
#include "hearth/xalloc.h"

/* Sub-seed purposes (rng.h). */
#define SC_RNG_MESSAGE 0x6d657373616765ULL
#define SC_RNG_REPLY   0x7265706c79ULL
#define SC_RNG_ENGAGE  0x656e67616765ULL
/* How long a password command may take. */
#define SC_SECRET_COMMAND_MSECS 10000
/* A failed ENGAGE job's recipient is tried again this much later. */
#define SC_ENGAGE_REFAIL_SECS 3600
/* The heuristic locate window around the send time. */
#define SC_LOCATE_WINDOW_SECS (2 * CLOCK_DAY_SECS)
/* Days back whose pairs the planner avoids repeating. */
#define SC_RECENT_DAYS 7

enum sc_kind { SC_SEND = 0, SC_ENGAGE = 1, SC_CHECK = 2 };
#define SC_KIND_BITS 2

struct sc_job {
	enum sc_kind kind;
	/* the exchange (SEND), the recipient inbox (ENGAGE), the domain
	 * (CHECK) */
	int64_t id;
	int64_t started_at;
	/* SEND: the outcome of the last run is unknown (lease expired): look
	 * before sending again */
	bool uncertain;
};

struct sc_inbox {
	struct store_inbox row;
	struct ramp_profile profile;
	const char *domain; /* inside row.address */
	uint32_t provider_id;
	int window_start, window_end; /* minutes */
	/* the zone's offset in the hour tz_hour (zones switch on the hour) */
	int64_t tz_hour;
	int tz_mins;
	int64_t notices_at; /* the last look for notices (0: none yet) */
};

/*
 * What the queue's callbacks decided and may not do themselves (the runner
 * must not call back into the queue): a result of a start that ended at
 * once (job_id != 0), or an ENGAGE job to queue (job_id 0).
 */
struct sc_pending {
	uint64_t job_id;
	uint32_t run;
	int64_t inbox_id, due;
	int64_t domain_id; /* job_id 0: a CHECK job to queue (else ENGAGE) */
};

struct scheduler {
	struct store *store;
	struct vault *vault;
	const struct content_corpus *corpus;
	struct scheduler_options opts;
	char *retention, *token_header, *ehlo_name, *ca_file, *lang,
	    *default_profile, *bounce_patterns, *dns_servers;
	struct scheduler_net net;
	struct sched *q;
	struct sc_inbox *inboxes; /* sorted by id */
	size_t n_inboxes;
	int64_t reload_at;
	int64_t data_version; /* the store's, when the inboxes were read */
	struct store_pool *pools;
	size_t n_pools;
	struct sc_pending *pending;
	size_t n_pending, cap_pending;
	bool in_tick; /* inside sched_tick: queue changes wait (pending) */
	/* SEND jobs running now: handed back, they are uncertain */
	uint64_t *sending;
	size_t n_sending, cap_sending;
	int64_t now; /* of the current step or result */
	struct scheduler_stats stats;
};

static uint64_t job_id_of(enum sc_kind kind, int64_t id)
{
	return ((uint64_t)id << SC_KIND_BITS) | (uint64_t)kind;
}

/* A domain is checked while it has an inbox that is not removed: a paused
 * one's operator wants to know what to fix most of all. */
static bool inbox_checked(const struct sc_inbox *in)
{
	return in != NULL && in->row.state != NULL &&
	       strcmp(in->row.state, "removed") != 0;
}

static int64_t job_id_target(uint64_t job_id)
{
	return (int64_t)(job_id >> SC_KIND_BITS);
}

bool scheduler_job_is_engage(uint64_t job_id)
{
	return (job_id & ((1u << SC_KIND_BITS) - 1)) == SC_ENGAGE;
}

bool scheduler_job_is_check(uint64_t job_id)
{
	return (job_id & ((1u << SC_KIND_BITS) - 1)) == SC_CHECK;
}

void scheduler_options_default(struct scheduler_options *o)
{
	memset(o, 0, sizeof(*o));
	o->workers = 4;
	o->per_host = 2;
	o->op_timeout_msecs = 30000;
	o->job_deadline_secs = 120;
	o->thread_depth = 3;
	o->retention = "archive";
	o->retention_days = 7;
	o->lang = "en";
	o->default_profile = "standard";
	o->same_client_share = 0.2;
}

/* ---- inboxes ---- */

static int inbox_cmp(const void *a, const void *b)
{
	const struct sc_inbox *x = a, *y = b;

	return (x->row.id > y->row.id) - (x->row.id < y->row.id);
}

static struct sc_inbox *inbox_find(struct scheduler *sc, int64_t id)
{
	struct sc_inbox key = {.row.id = id};

	if (sc->n_inboxes == 0)
		return NULL;
	return bsearch(&key, sc->inboxes, sc->n_inboxes, sizeof(key),
		       inbox_cmp);
}

static bool inbox_active(const struct sc_inbox *in)
{
	return in != NULL && in->row.state != NULL &&
	       strcmp(in->row.state, "active") == 0;
}

static void inboxes_free(struct scheduler *sc)
{
	for (size_t i = 0; i < sc->n_inboxes; i++)
		store_inbox_clear(&sc->inboxes[i].row);
	free(sc->inboxes);
	sc->inboxes = NULL;
	sc->n_inboxes = 0;
}

static uint32_t provider_id_of(const char *name)
{
	size_t n;
	const struct provider *all = provider_all(&n);

	for (size_t i = 0; i < n; i++)
		if (name != NULL && strcmp(all[i].name, name) == 0)
			return (uint32_t)i + 1;
	return 0;
}

/* The inbox's ramp profile: its own (with overrides) or the default. */
static void inbox_profile(const struct scheduler *sc, struct sc_inbox *in)
{
	const struct ramp_profile *p =
	    ramp_profile_by_name(in->row.ramp_profile);
	struct hearth_err err = {0};

	if (p == NULL)
		p = ramp_profile_by_name(sc->default_profile);
	if (p == NULL)
		p = ramp_profile_by_name("standard");
	in->profile = *p;
	if (in->row.ramp_overrides != NULL &&
	    ramp_profile_override(&in->profile, in->row.ramp_overrides, &err) <
		0)
		log_warn("inbox=%s ramp_overrides ignored: %s", in->row.address,
			 err.msg);
}

static int inboxes_load(struct scheduler *sc, struct hearth_err *err)
{
	struct store_inbox *rows = NULL;
	struct store_pool *pools = NULL;
	struct {
		int64_t id, at;
	} *keep;
	size_t n = 0, n_pools = 0, n_keep;

	if (store_inbox_list(sc->store, 0, 0, false, &rows, &n, err) < 0)
		return -1;
	if (store_pool_list(sc->store, &pools, &n_pools, err) < 0) {
		store_inbox_list_free(&rows, n);
		return -1;
	}
	/* what is remembered per inbox, across a reload */
	keep = xcalloc(sc->n_inboxes + 1, sizeof(*keep));
	for (size_t i = 0; i < sc->n_inboxes; i++) {
		keep[i].id = sc->inboxes[i].row.id;
		keep[i].at = sc->inboxes[i].notices_at;
	}
	n_keep = sc->n_inboxes;
	inboxes_free(sc);
	store_pool_list_free(&sc->pools, sc->n_pools);
	sc->pools = pools;
	sc->n_pools = n_pools;
	sc->inboxes = xcalloc(n + 1, sizeof(*sc->inboxes));
	for (size_t i = 0; i < n; i++) {
		struct sc_inbox *in = &sc->inboxes[i];
		const char *at;

		in->row = rows[i]; /* the strings move */
		at = strrchr(in->row.address, '@');
		in->domain = at != NULL ? at + 1 : in->row.address;
		in->provider_id = provider_id_of(in->row.provider);
		in->tz_hour = INT64_MIN;
		in->window_start = clock_hhmm_parse(in->row.window_start);
		in->window_end = clock_hhmm_parse(in->row.window_end);
		if (in->window_start < 0 ||
		    in->window_end <= in->window_start) {
			in->window_start = 9 * 60;
			in->window_end = 17 * 60 + 30;
		}
		inbox_profile(sc, in);
	}
	free(rows);
	sc->n_inboxes = n;
	qsort(sc->inboxes, n, sizeof(*sc->inboxes), inbox_cmp);
	for (size_t i = 0, k = 0; i < n && k < n_keep; i++) {
		while (k < n_keep && keep[k].id < sc->inboxes[i].row.id)
			k++;
		if (k < n_keep && keep[k].id == sc->inboxes[i].row.id)
			sc->inboxes[i].notices_at = keep[k].at;
	}
	free(keep);
	return 0;
}

static const struct store_pool *pool_find(const struct scheduler *sc,
					  int64_t id)
{
	for (size_t i = 0; i < sc->n_pools; i++)
		if (sc->pools[i].id == id)
			return &sc->pools[i];
	return NULL;
}

/* Every random draw of a pool starts here (scheduler_options.seed). */
static uint64_t pool_seed(const struct scheduler *sc, int64_t pool_id)
{
	const struct store_pool *p = pool_find(sc, pool_id);

	if (sc->opts.seed != 0)
		return RNG_DERIVE(sc->opts.seed, (uint64_t)pool_id);
	return p != NULL ? p->seed : 0;
}

/* ---- store helpers ---- */

static void fail_log(const char *what, const struct hearth_err *err)
{
	char quoted[300];

	log_error("scheduler store_error=%s what=%s",
		  log_quote(err->msg, quoted, sizeof(quoted)), what);
}

/* Add one count to the sender's ramp day row of exchange x. */
struct sc_counts {
	int planned, sent, inbox, spam, other, missing, rescued, read, flagged,
	    replied, failed, auth_failures, failed_permanent, bounced,
	    auto_replies;
};

static int counts_add(struct scheduler *sc, int64_t inbox_id, const char *day,
		      const struct sc_counts *c, struct hearth_err *err)
{
	struct store_ramp_day d = {
	    .inbox_id = inbox_id,
	    .planned = c->planned,
	    .sent = c->sent,
	    .inbox = c->inbox,
	    .spam = c->spam,
	    .other = c->other,
	    .missing = c->missing,
	    .rescued = c->rescued,
	    .read = c->read,
	    .flagged = c->flagged,
	    .replied = c->replied,
	    .failed = c->failed,
	    .auth_failures = c->auth_failures,
	    .failed_permanent = c->failed_permanent,
	    .bounced = c->bounced,
	    .auto_replies = c->auto_replies,
	};

	if (day == NULL || day[0] == '\0')
		return 0;
	snprintf(d.day, sizeof(d.day), "%s", day);
	return store_ramp_day_add(sc->store, &d, err);
}

static void set_str(char **field, const char *value)
{
	free(*field);
	*field = value != NULL ? xstrdup(value) : NULL;
}

static void attempt_record(struct scheduler *sc, int64_t exchange_id,
			   int64_t inbox_id, const char *type,
			   int64_t started_at, const char *result,
			   enum hearth_fail fail, int code, const char *msg)
{
	struct store_job_attempt a = {
	    .exchange_id = exchange_id,
	    .inbox_id = inbox_id,
	    .job_type = (char *)type,
	    .started_at =
		started_at > 0 && started_at <= sc->now ? started_at : sc->now,
	    .finished_at = sc->now,
	    .result = (char *)result,
	    .fail_class = fail != HEARTH_FAIL_NONE
			      ? (char *)hearth_fail_name(fail)
			      : NULL,
	    .code = code,
	    .message = (char *)msg,
	};
	struct hearth_err err = {0};

	if (store_job_attempt_add(sc->store, &a, &err) < 0)
		fail_log("record a job attempt", &err);
}

/*
 * Pause an inbox with a reason the operator can read (an auth or TLS
 * failure, the ramp), unless it is already paused.
 */
static void inbox_pause(struct scheduler *sc, struct sc_inbox *in,
			const char *reason)
{
	struct hearth_err err = {0};
	char quoted[400];

	if (!inbox_active(in))
		return;
	if (store_inbox_set_state(sc->store, in->row.id, "paused", reason,
				  &err) < 0 ||
	    store_event_add(sc->store, sc->now, "inbox.paused", in->row.id,
			    reason, &err) < 0) {
		fail_log("pause an inbox", &err);
		return;
	}
	set_str(&in->row.state, "paused");
	set_str(&in->row.state_reason, reason);
	sc->stats.paused++;
	log_warn("inbox=%s paused reason=%s", in->row.address,
		 log_quote(reason, quoted, sizeof(quoted)));
}

/*
 * Record an engine-decided pause in the inbox's ramp state of today too, so
 * that when the operator resumes it, its ramp resumes with the days before
 * left out (they hold the failure that paused it).
 */
static void ramp_row_pause(struct scheduler *sc, struct sc_inbox *in,
			   const char *reason)
{
	int64_t day = clock_local_day(in->row.timezone, sc->now);
	struct store_ramp_day *rows = NULL;
	struct ramp_state st;
	struct hearth_err err = {0};
	char date[CLOCK_DATE_SIZE], text[RAMP_STATE_TEXT_MAX];
	size_t n = 0, i;

	clock_day_format(day + 1, date);
	if (store_ramp_day_list(sc->store, in->row.id, date, 4, &rows, &n,
				&err) < 0) {
		fail_log("read ramp days", &err);
		return;
	}
	for (i = 0; i < n; i++)
		if (rows[i].ramp_state != NULL &&
		    ramp_state_parse(rows[i].ramp_state, &st, NULL) == 0)
			break;
	if (i < n) {
		int volume = 0, planned = 0;

		clock_day_format(day, date);
		if (strcmp(rows[0].day, date) == 0) {
			volume = rows[0].volume;
			planned = rows[0].planned;
		}
		st.paused = true;
		snprintf(st.reason, sizeof(st.reason), "%.*s",
			 (int)sizeof(st.reason) - 1, reason);
		ramp_state_format(&st, text, sizeof(text));
		if (store_ramp_day_set_plan(sc->store, in->row.id, date, volume,
					    planned, text, &err) < 0)
			fail_log("record a pause in the ramp", &err);
	}
	store_ramp_day_list_free(&rows, n);
}

static void pause_for(struct scheduler *sc, struct sc_inbox *in,
		      const char *side, const struct hearth_err *fail)
{
	char reason[512];

	if (in == NULL)
		return;
	if (fail->fail == HEARTH_FAIL_AUTH)
		snprintf(reason, sizeof(reason),
			 "%s login refused: %s; fix the password or token, "
			 "then run `hearth inbox resume %s`",
			 side, fail->msg, in->row.address);
	else
		snprintf(reason, sizeof(reason),
			 "%s TLS failed: %s; check the server's certificate, "
			 "then run `hearth inbox resume %s`",
			 side, fail->msg, in->row.address);
	if (inbox_active(in))
		ramp_row_pause(sc, in, reason);
	inbox_pause(sc, in, reason);
}

/* The inbox's secret: the vault's, or its command's output. */
static int inbox_secret(struct scheduler *sc, const struct sc_inbox *in,
			char **secret_r, struct hearth_err *err)
{
	const struct store_inbox *r = &in->row;

	if (strcmp(r->secret_kind, "vault") == 0) {
		if (sc->vault == NULL) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
				       "no vault key to open the secret of %s",
				       r->address);
			return -1;
		}
		return vault_unseal(sc->vault, r->id, r->secret_sealed,
				    r->secret_sealed_len, secret_r, err);
	}
	return vault_command_secret(r->secret_command, SC_SECRET_COMMAND_MSECS,
				    secret_r, err);
}

static void account_of(const struct scheduler *sc, const struct sc_inbox *in,
		       bool imap, const char *secret, struct job_account *a)
{
	const struct store_inbox *r = &in->row;
	enum endpoint_security sec = ENDPOINT_TLS;

	memset(a, 0, sizeof(*a));
	endpoint_security_parse(imap ? r->imap_security : r->smtp_security,
				&sec);
	a->ep.host = imap ? r->imap_host : r->smtp_host;
	a->ep.port = (uint16_t)(imap ? r->imap_port : r->smtp_port);
	a->ep.security = sec;
	a->ep.ca_file = sc->ca_file;
	a->cred.username = r->username;
	a->cred.secret = secret;
	a->cred.oauth2 = strcmp(r->secret_kind, "token_command") == 0;
}

static void new_token(char *buf, size_t size)
{
	uuid_t u;
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	uuid_generate_random(u);
	for (size_t i = 0; i < sizeof(u) && o + 2 < size; i++) {
		buf[o++] = hex[u[i] >> 4];
		buf[o++] = hex[u[i] & 15];
	}
	buf[o] = '\0';
}

static int tz_offset_at(struct sc_inbox *in, int64_t t)
{
	int64_t hour = t / 3600;

	if (in->tz_hour != hour) {
		clock_tz_offset(in->row.timezone, t, &in->tz_mins);
		in->tz_hour = hour;
	}
	return in->tz_mins;
}

static void pending_push(struct scheduler *sc, struct sc_pending p)
{
	if (sc->n_pending == sc->cap_pending) {
		sc->cap_pending = sc->cap_pending ? sc->cap_pending * 2 : 16;
		sc->pending = xreallocarray(sc->pending, sc->cap_pending,
					    sizeof(*sc->pending));
	}
	sc->pending[sc->n_pending++] = p;
}

static void pending_add(struct scheduler *sc, uint64_t job_id, uint32_t run)
{
	pending_push(sc, (struct sc_pending){.job_id = job_id, .run = run});
}

static void sending_add(struct scheduler *sc, uint64_t job_id)
{
	if (sc->n_sending == sc->cap_sending) {
		sc->cap_sending = sc->cap_sending ? sc->cap_sending * 2 : 16;
		sc->sending = xreallocarray(sc->sending, sc->cap_sending,
					    sizeof(*sc->sending));
	}
	sc->sending[sc->n_sending++] = job_id;
}

static void sending_del(struct scheduler *sc, uint64_t job_id)
{
	for (size_t i = 0; i < sc->n_sending; i++)
		if (sc->sending[i] == job_id) {
			sc->sending[i] = sc->sending[--sc->n_sending];
			return;
		}
}

/* Is job_id a SEND job running now (its result still to come)? */
static bool sending_has(const struct scheduler *sc, uint64_t job_id)
{
	for (size_t i = 0; i < sc->n_sending; i++)
		if (sc->sending[i] == job_id)
			return true;
	return false;
}

static void job_free(void *p)
{
	free(p);
}

static int queue_job(struct scheduler *sc, enum sc_kind kind, int64_t id,
		     const char *host, int64_t due)
{
	struct sc_job *job = xcalloc(1, sizeof(*job));
	struct hearth_err err = {0};

	job->kind = kind;
	job->id = id;
	if (sched_add(sc->q, job_id_of(kind, id), host, due, job, job_free,
		      &err) < 0) {
		log_error("scheduler job=%s id=%" PRId64 " not queued: %s",
			  kind == SC_SEND	? "send"
			  : kind == SC_ENGAGE ? "engage"
					      : "check",
			  id, err.msg);
		return -1;
	}
	return 0;
}

/* Queue the SEND job of exchange x unless it is queued already. */
static void queue_send(struct scheduler *sc, const struct store_exchange *x,
		       int64_t due)
{
	struct sc_inbox *s = inbox_find(sc, x->sender_inbox_id);

	if (sched_lookup(sc->q, job_id_of(SC_SEND, x->id), NULL) == 1)
		return;
	queue_job(sc, SC_SEND, x->id, s != NULL ? s->row.smtp_host : "unknown",
		  due);
}

/* Make sure recipient_id's ENGAGE job is due no later than due. */
static void queue_engage(struct scheduler *sc, int64_t recipient_id,
			 int64_t due)
{
	uint64_t id = job_id_of(SC_ENGAGE, recipient_id);
	struct sc_inbox *r = inbox_find(sc, recipient_id);
	struct sched_info info;

	if (!inbox_active(r))
		return; /* queued again when it is resumed (reload) */
	if (sc->in_tick) {
		pending_push(sc, (struct sc_pending){.inbox_id = recipient_id,
						     .due = due});
		return;
	}
	if (sched_lookup(sc->q, id, &info) == 1) {
		if (info.running || info.due <= due)
			return;
		sched_cancel(sc->q, id);
	}
	queue_job(sc, SC_ENGAGE, recipient_id, r->row.imap_host, due);
}

/* Queue the ENGAGE jobs of every recipient with work pending (or of one). */
static int queue_engage_due(struct scheduler *sc, int64_t recipient_id,
			    int64_t not_before, struct hearth_err *err)
{
	struct store_due *dues = NULL;
	size_t n = 0;

	if (store_exchange_engage_due(sc->store, recipient_id, &dues, &n, err) <
	    0)
		return -1;
	for (size_t i = 0; i < n; i++)
		queue_engage(sc, dues[i].inbox_id,
			     dues[i].due > not_before ? dues[i].due
						      : not_before);
	free(dues);
	return 0;
}

/* ---- SEND ---- */

static uint64_t message_seed(const struct scheduler *sc,
			     const struct store_exchange *x)
{
	return RNG_DERIVE(pool_seed(sc, x->pool_id), SC_RNG_MESSAGE,
			  (uint64_t)x->id);
}

/* The thread above x: parents[0] is x's parent, up to the root. */
struct sc_thread {
	struct store_exchange parents[16];
	size_t n;
};

static void thread_clear(struct sc_thread *t)
{
	for (size_t i = 0; i < t->n; i++)
		store_exchange_clear(&t->parents[i]);
	t->n = 0;
}

static int thread_load(struct scheduler *sc, const struct store_exchange *x,
		       struct sc_thread *t, struct hearth_err *err)
{
	int64_t parent = x->parent_exchange_id;

	t->n = 0;
	while (parent != 0 && t->n < sizeof(t->parents) / sizeof(*t->parents)) {
		int ret = store_exchange_get(sc->store, parent,
					     &t->parents[t->n], err);

		if (ret < 0)
			return -1;
		if (ret == 0)
			break;
		parent = t->parents[t->n++].parent_exchange_id;
	}
	return 0;
}

/*
 * Render x's message (its first send: subject, topic and body are stored
 * with it; a resend renders the same again) and build it. 0 with *data_r,
 * *len_r and the fields of x set; -1 with *err (permanent: it can never be
 * built).
 */
static int message_make(struct scheduler *sc, struct store_exchange *x,
			struct sc_inbox *s, const struct sc_inbox *r,
			char **data_r, size_t *len_r, struct hearth_err *err)
{
	struct sc_thread t = {0};
	struct content_party from = {.name = s->row.display_name,
				     .addr = s->row.address};
	struct content_party to = {.name = r->row.display_name,
				   .addr = r->row.address};
	struct content_thread thread = {0};
	struct content_request req = {0};
	struct content_message *msg = NULL;
	const struct store_pool *pool = pool_find(sc, x->pool_id);
	const struct store_exchange *parent = NULL;
	char refs[MESSAGE_MAX_REFERENCES_BYTES + 1] = "";
	struct message_spec spec = {0};
	char *message_id = NULL;
	int ret = -1;

	if (thread_load(sc, x, &t, err) < 0)
		return -1;
	if (t.n > 0 && t.parents[0].body != NULL &&
	    t.parents[0].subject != NULL) {
		const struct store_exchange *root = &t.parents[t.n - 1];

		parent = &t.parents[0];
		thread.subject = parent->subject;
		thread.text = parent->body;
		thread.topic = parent->topic;
		thread.from = NULL; /* the recipient wrote it */
		thread.date =
		    (time_t)(parent->sent_at > 0 ? parent->sent_at
						 : parent->planned_at);
		thread.root_seed = message_seed(sc, root);
		thread.root_date =
		    (time_t)(root->sent_at > 0 ? root->sent_at
					       : root->planned_at);
		/* References: the root first, the parent last */
		for (size_t i = t.n; i-- > 0;) {
			const char *id = t.parents[i].message_id;
			size_t used = strlen(refs);

			if (id == NULL || !message_id_ok(id) ||
			    used + strlen(id) + 2 > sizeof(refs))
				continue;
			snprintf(refs + used, sizeof(refs) - used, "%s%s",
				 used > 0 ? " " : "", id);
		}
	}
	req.lang = pool != NULL ? pool->lang : sc->lang;
	req.sender = from;
	req.recipient = to;
	req.thread = parent != NULL ? &thread : NULL;
	req.turn = parent != NULL ? (unsigned)x->depth : 0;
	if (parent != NULL && req.turn == 0)
		req.turn = 1;
	req.seed = message_seed(sc, x);
	req.date = (time_t)sc->now;
	req.tz_offset_minutes = tz_offset_at(s, sc->now);
	if (content_render(sc->corpus, &req, &msg, err) < 0)
		goto out;
	spec.from_name = s->row.display_name;
	spec.from_addr = s->row.address;
	spec.to_name = r->row.display_name;
	spec.to_addr = r->row.address;
	spec.subject = msg->subject;
	spec.text_body = msg->text;
	spec.html_body = msg->html;
	spec.message_id = x->message_id;
	spec.in_reply_to = parent != NULL && parent->message_id != NULL &&
				   message_id_ok(parent->message_id)
			       ? parent->message_id
			       : NULL;
	spec.references =
	    spec.in_reply_to != NULL && refs[0] != '\0' ? refs : NULL;
	spec.token_header = sc->token_header;
	spec.token_value = x->token;
	spec.date = (time_t)sc->now;
	spec.tz_offset_minutes = req.tz_offset_minutes;
	if (message_build(&spec, data_r, len_r, &message_id, err) < 0)
		goto out;
	set_str(&x->subject, msg->subject);
	set_str(&x->topic, msg->topic);
	set_str(&x->body, msg->text);
	free(x->message_id);
	x->message_id = message_id;
	ret = 0;
out:
	content_message_free(&msg);
	thread_clear(&t);
	return ret;
}

/* Fail exchange x for good with reason (in the caller's transaction). */
static int exchange_fail(struct scheduler *sc, struct store_exchange *x,
			 enum hearth_fail fail, int code, const char *reason,
			 struct hearth_err *err)
{
	struct sc_counts c = {.failed = 1};

	set_str(&x->state, "failed");
	x->smtp_code = code;
	set_str(&x->error, reason);
	x->engage_at = 0;
	if (fail == HEARTH_FAIL_AUTH)
		c.auth_failures = 1;
	if (fail == HEARTH_FAIL_PERMANENT)
		c.failed_permanent = 1;
	if (store_exchange_update(sc->store, x, err) < 0 ||
	    counts_add(sc, x->sender_inbox_id, x->day, &c, err) < 0)
		return -1;
	sc->stats.failed++;
	return 0;
}

/* exchange_fail in its own transaction, logged. */
static void exchange_fail_now(struct scheduler *sc, struct store_exchange *x,
			      enum hearth_fail fail, int code,
			      const char *reason)
{
	struct hearth_err err = {0};
	char quoted[400];

	if (store_begin(sc->store, &err) < 0 ||
	    exchange_fail(sc, x, fail, code, reason, &err) < 0 ||
	    store_commit(sc->store, &err) < 0) {
		store_rollback(sc->store);
		fail_log("fail an exchange", &err);
		return;
	}
	log_info("exchange=%" PRId64 " failed reason=%s", x->id,
		 log_quote(reason, quoted, sizeof(quoted)));
}

/* Look for x in its recipient's mailbox before sending it again. */
static int exchange_resolve_later(struct scheduler *sc,
				  struct store_exchange *x, int64_t at,
				  struct hearth_err *err)
{
	x->engage_at = at;
	x->looks = 0;
	if (store_exchange_update(sc->store, x, err) < 0)
		return -1;
	queue_engage(sc, x->recipient_inbox_id, at);
	return 0;
}

static int start_send(struct scheduler *sc, uint64_t job_id, uint32_t run,
		      struct sc_job *job)
{
	struct store_exchange x = {0};
	struct hearth_err err = {0};
	struct sc_inbox *s, *r;
	char *data = NULL, *secret = NULL;
	size_t len = 0;
	struct job_send js = {0};
	const struct provider *prov;
	int ret;

	ret = store_exchange_get(sc->store, job->id, &x, &err);
	if (ret < 0) {
		fail_log("read an exchange", &err);
		return -1;
	}
	if (ret == 0 ||
	    (strcmp(x.state, "planned") != 0 &&
	     strcmp(x.state, "sending") != 0) ||
	    x.engage_at > 0) {
		/* gone, done, or waiting for a look first */
		pending_add(sc, job_id, run);
		store_exchange_clear(&x);
		return 0;
	}
	if (job->uncertain) {
		if (exchange_resolve_later(
			sc, &x, sc->now + SCHEDULER_RESOLVE_SECS, &err) < 0)
			fail_log("queue a look", &err);
		pending_add(sc, job_id, run);
		store_exchange_clear(&x);
		return 0;
	}
	s = inbox_find(sc, x.sender_inbox_id);
	r = inbox_find(sc, x.recipient_inbox_id);
	if (!inbox_active(s) || !inbox_active(r)) {
		char reason[160];

		snprintf(reason, sizeof(reason), "%s inbox is %s",
			 !inbox_active(s) ? "sender" : "recipient",
			 !inbox_active(s)
			     ? (s != NULL ? s->row.state : "gone")
			     : (r != NULL ? r->row.state : "gone"));
		/* not the sender's doing: no permanent failure to count */
		exchange_fail_now(sc, &x, HEARTH_FAIL_NONE, 0, reason);
		pending_add(sc, job_id, run);
		store_exchange_clear(&x);
		return 0;
	}
	if (strcmp(x.state, "planned") == 0 &&
	    sc->now - x.planned_at > SCHEDULER_LATE_MAX_SECS) {
		exchange_fail_now(sc, &x, HEARTH_FAIL_NONE, 0,
				  "missed: the engine was not running at its "
				  "planned time");
		pending_add(sc, job_id, run);
		store_exchange_clear(&x);
		return 0;
	}
	if (message_make(sc, &x, s, r, &data, &len, &err) < 0) {
		exchange_fail_now(sc, &x, HEARTH_FAIL_PERMANENT, 0, err.msg);
		pending_add(sc, job_id, run);
		store_exchange_clear(&x);
		return 0;
	}
	if (inbox_secret(sc, s, &secret, &err) < 0) {
		if (err.fail == HEARTH_FAIL_RETRY) {
			free(data);
			store_exchange_clear(&x);
			return -1;
		}
		if (err.fail == HEARTH_FAIL_AUTH) {
			pause_for(sc, s, "SMTP", &err);
		} else {
			char reason[400];

			snprintf(reason, sizeof(reason),
				 "the secret cannot be read: %s; then run "
				 "`hearth inbox resume %s`",
				 err.msg, s->row.address);
			inbox_pause(sc, s, reason);
		}
		exchange_fail_now(sc, &x, err.fail, 0, err.msg);
		pending_add(sc, job_id, run);
		free(data);
		store_exchange_clear(&x);
		return 0;
	}
	/* committed before the network sees it: sent at most once */
	set_str(&x.state, "sending");
	x.attempted_at = sc->now;
	if (store_begin(sc->store, &err) < 0 ||
	    store_exchange_update(sc->store, &x, &err) < 0 ||
	    store_commit(sc->store, &err) < 0) {
		store_rollback(sc->store);
		fail_log("mark an exchange sending", &err);
		ret = -1;
		goto out;
	}
	account_of(sc, s, false, secret, &js.smtp);
	js.ehlo_name = sc->ehlo_name != NULL ? sc->ehlo_name : s->domain;
	js.mail_from = s->row.address;
	js.rcpt_to = r->row.address;
	js.data = data;
	js.data_len = len;
	js.op_timeout_msecs = sc->opts.op_timeout_msecs;
	prov = provider_by_name(s->row.provider);
	if (prov != NULL && !prov->files_sent_itself &&
	    s->row.sent_folder != NULL) {
		js.append_sent_folder = s->row.sent_folder;
		account_of(sc, s, true, secret, &js.imap);
	}
	ret = sc->net.send(sc->net.ctx, job_id, run, &js,
			   sc->opts.job_deadline_secs);
	if (ret == 0) {
		job->started_at = sc->now;
		sending_add(sc, job_id);
		log_debug("exchange=%" PRId64 " send from=%s to=%s", x.id,
			  s->row.address, r->row.address);
	}
out:
	vault_secret_free(&secret);
	if (data != NULL)
		explicit_bzero(data, len);
	free(data);
	store_exchange_clear(&x);
	return ret;
}

/* The delay before the first look for a message just sent. */
static int64_t engage_delay(const struct scheduler *sc,
			    const struct store_exchange *x)
{
	struct rng rng;

	rng_seed(&rng, RNG_DERIVE(pool_seed(sc, x->pool_id), SC_RNG_ENGAGE,
				  (uint64_t)x->id));
	return SCHEDULER_ENGAGE_MIN_SECS +
	       (int64_t)rng_uniform(&rng, SCHEDULER_ENGAGE_MAX_SECS -
					      SCHEDULER_ENGAGE_MIN_SECS + 1);
}

/*
 * The job of a result: its payload while run `run` of it runs; else NULL,
 * the result ignored (a run that is over: its lease expired, handed back).
 */
static const struct sc_job *running_job(struct scheduler *sc, uint64_t job_id,
					uint32_t run)
{
	struct sched_info info;

	if (sched_lookup(sc->q, job_id, &info) == 1 && info.running &&
	    info.runs == run)
		return info.payload;
	sched_result(sc->q, job_id, run, sc->now, HEARTH_FAIL_RETRY, NULL);
	return NULL;
}

/* x was delivered (sent_at set by the caller): count it, and its reply. */
static int exchange_delivered(struct scheduler *sc, struct store_exchange *x,
			      struct hearth_err *err)
{
	struct sc_counts c = {.sent = 1};

	if (counts_add(sc, x->sender_inbox_id, x->day, &c, err) < 0)
		return -1;
	sc->stats.sent++;
	if (x->parent_exchange_id != 0) {
		struct store_exchange p = {0};
		int ret = store_exchange_get(sc->store, x->parent_exchange_id,
					     &p, err);

		if (ret < 0)
			return -1;
		if (ret == 1 && !p.replied) {
			struct sc_counts pc = {.replied = 1};

			p.replied = true;
			ret = store_exchange_update(sc->store, &p, err) < 0 ||
				      counts_add(sc, p.sender_inbox_id, p.day,
						 &pc, err) < 0
				  ? -1
				  : 0;
		}
		store_exchange_clear(&p);
		if (ret < 0)
			return -1;
	}
	return 0;
}

void scheduler_send_done(struct scheduler *sc, uint64_t job_id, uint32_t run,
			 int64_t now, const struct job_send_result *res,
			 const struct hearth_err *fail)
{
	struct sched_info info;
	struct sched_outcome out;
	struct store_exchange x = {0};
	struct hearth_err err = {0};
	struct hearth_err f = {0};
	const struct sc_job *job;
	int64_t started_at;
	bool ok;
	char quoted[400];

	sc->now = now;
	job = running_job(sc, job_id, run);
	if (job == NULL)
		return;
	sending_del(sc, job_id);
	started_at = job->started_at;
	if (store_exchange_get(sc->store, job->id, &x, &err) != 1) {
		fail_log("read a sent exchange", &err);
		sched_result(sc->q, job_id, run, now, HEARTH_FAIL_NONE, NULL);
		return;
	}
	if (res != NULL && !res->uncertain && res->reply_code / 100 != 2) {
		/* a result that is no success: take it as refused */
		hearth_err_set(&f, HEARTH_FAIL_PERMANENT, res->reply_code,
			       "smtp: message refused: %d %s", res->reply_code,
			       res->reply_text);
		fail = &f;
		res = NULL;
	}
	if (store_begin(sc->store, &err) < 0)
		goto store_failed;
	if (res != NULL && res->uncertain) {
		/* the server may have it: look before any resend */
		set_str(&x.error, res->error);
		if (exchange_resolve_later(sc, &x, now + SCHEDULER_RESOLVE_SECS,
					   &err) < 0)
			goto store_failed;
		attempt_record(sc, x.id, x.sender_inbox_id, "send", started_at,
			       "uncertain", HEARTH_FAIL_RETRY, 0, res->error);
		sc->stats.uncertain++;
		log_warn("exchange=%" PRId64 " send uncertain reason=%s "
			 "look_at=%" PRId64,
			 x.id, log_quote(res->error, quoted, sizeof(quoted)),
			 x.engage_at);
		ok = true;
	} else if (res != NULL) {
		struct sc_counts bc = {.bounced = 1};

		set_str(&x.state, "sent");
		x.sent_at = now;
		x.smtp_code = res->reply_code;
		set_str(&x.error, res->appended < 0 ? res->append_error : NULL);
		x.engage_at = now + engage_delay(sc, &x);
		x.looks = 0;
		if (x.bounced_at > 0) {
			/* its bounce came first (notice_done): nothing to
			 * look for, the bounce counts now */
			x.engage_at = 0;
			x.engaged_at = now;
			sc->stats.bounced++;
		}
		if (store_exchange_update(sc->store, &x, &err) < 0 ||
		    exchange_delivered(sc, &x, &err) < 0 ||
		    (x.bounced_at > 0 &&
		     counts_add(sc, x.sender_inbox_id, x.day, &bc, &err) < 0))
			goto store_failed;
		attempt_record(sc, x.id, x.sender_inbox_id, "send", started_at,
			       "ok", HEARTH_FAIL_NONE, res->reply_code, NULL);
		if (x.engage_at > 0)
			queue_engage(sc, x.recipient_inbox_id, x.engage_at);
		ok = true;
	} else {
		ok = false;
	}
	if (ok) {
		if (store_commit(sc->store, &err) < 0)
			goto store_failed;
		sched_result(sc->q, job_id, run, now, HEARTH_FAIL_NONE, NULL);
		store_exchange_clear(&x);
		return;
	}
	/* a failure: the queue says whether it is tried again */
	sched_result(sc->q, job_id, run, now, fail->fail, &out);
	attempt_record(sc, x.id, x.sender_inbox_id, "send", started_at,
		       "failed", fail->fail, fail->code, fail->msg);
	if (out.verdict == SCHED_RETRY) {
		set_str(&x.error, fail->msg);
		x.smtp_code =
		    fail->code >= 200 && fail->code < 600 ? fail->code : 0;
		if (store_exchange_update(sc->store, &x, &err) < 0)
			goto store_failed;
		log_info("exchange=%" PRId64 " send retry=%u at=%" PRId64
			 " reason=%s",
			 x.id, out.failures, out.next_due,
			 log_quote(fail->msg, quoted, sizeof(quoted)));
	} else {
		if (exchange_fail(
			sc, &x, fail->fail,
			fail->code >= 200 && fail->code < 600 ? fail->code : 0,
			fail->msg, &err) < 0)
			goto store_failed;
		log_info("exchange=%" PRId64 " send failed class=%s reason=%s",
			 x.id, hearth_fail_name(fail->fail),
			 log_quote(fail->msg, quoted, sizeof(quoted)));
		if (fail->fail == HEARTH_FAIL_AUTH ||
		    fail->fail == HEARTH_FAIL_TLS)
			pause_for(sc, inbox_find(sc, x.sender_inbox_id), "SMTP",
				  fail);
	}
	if (store_commit(sc->store, &err) < 0)
		goto store_failed;
	store_exchange_clear(&x);
	return;
store_failed:
	store_rollback(sc->store);
	fail_log("record a send", &err);
	/* the job is over for the queue; a restart resolves "sending" */
	if (sched_lookup(sc->q, job_id, &info) == 1 && info.running)
		sched_result(sc->q, job_id, run, now, HEARTH_FAIL_NONE, NULL);
	store_exchange_clear(&x);
}

/* ---- ENGAGE ---- */

static int start_engage(struct scheduler *sc, uint64_t job_id, uint32_t run,
			struct sc_job *job)
{
	struct sc_inbox *r = inbox_find(sc, job->id);
	struct store_exchange *xs = NULL;
	struct job_engage_item *items = NULL;
	struct job_engage je = {0};
	struct hearth_err err = {0};
	char *secret = NULL;
	const char *archive;
	bool archive_ok, delete_ok;
	size_t n = 0;
	int ret;

	if (!inbox_active(r)) {
		pending_add(sc, job_id, run);
		return 0;
	}
	if (store_exchange_list_engage(sc->store, job->id, sc->now,
				       JOB_ENGAGE_MAX_ITEMS, &xs, &n,
				       &err) < 0) {
		fail_log("list the exchanges to engage", &err);
		return -1;
	}
	if (n == 0) {
		pending_add(sc, job_id, run);
		return 0;
	}
	if (inbox_secret(sc, r, &secret, &err) < 0) {
		store_exchange_list_free(&xs, n);
		if (err.fail == HEARTH_FAIL_RETRY)
			return -1;
		pause_for(sc, r, "IMAP", &err);
		pending_add(sc, job_id, run);
		return 0;
	}
	archive = r->row.archive_folder;
	archive_ok = strcmp(sc->retention, "archive") == 0 && archive != NULL;
	delete_ok = strcmp(sc->retention, "delete") == 0;
	items = xcalloc(n, sizeof(*items));
	for (size_t i = 0; i < n; i++) {
		const struct store_exchange *x = &xs[i];
		struct sc_inbox *s = inbox_find(sc, x->sender_inbox_id);
		struct job_engage_item *it = &items[i];
		bool look = x->engaged_at == 0;

		it->exchange_id = (uint64_t)x->id;
		it->query.token_header = sc->token_header;
		it->query.token = x->token;
		it->query.message_id = x->message_id;
		it->query.from_addr = s != NULL ? s->row.address : NULL;
		it->query.subject = x->subject;
		it->query.sent_at =
		    (time_t)(x->sent_at > 0 ? x->sent_at : x->attempted_at);
		it->query.window_secs = SC_LOCATE_WINDOW_SECS;
		it->rescue = look;
		it->mark_seen = look;
		it->mark_flagged = look;
		it->mark_important = look;
		if (!look || sc->opts.retention_days == 0) {
			it->file_to = archive_ok ? archive : NULL;
			it->delete_after = delete_ok;
		}
	}
	account_of(sc, r, true, secret, &je.imap);
	je.spam_folder = r->row.spam_folder;
	if (archive != NULL)
		je.other_folders[je.n_other_folders++] = archive;
	je.items = items;
	je.n_items = n;
	je.op_timeout_msecs = sc->opts.op_timeout_msecs;
	je.locate_wait_msecs = sc->opts.locate_wait_msecs;
	if (sc->opts.notice_every_secs > 0 &&
	    (r->notices_at == 0 ||
	     sc->now - r->notices_at >= sc->opts.notice_every_secs)) {
		je.notice_token_header = sc->token_header;
		je.bounce_patterns = sc->opts.bounce_patterns;
		je.notice_days = SCHEDULER_NOTICE_DAYS;
	}
	ret = sc->net.engage(sc->net.ctx, job_id, run, &je,
			     sc->opts.job_deadline_secs);
	if (ret == 0)
		job->started_at = sc->now;
	if (ret == 0 && je.notice_token_header != NULL)
		r->notices_at = sc->now;
	vault_secret_free(&secret);
	free(items);
	store_exchange_list_free(&xs, n);
	return ret;
}

/* The replier's side of a reply, for planner_reply_at. */
static void planner_inbox_of(struct sc_inbox *in, int64_t t,
			     struct planner_inbox *pi)
{
	memset(pi, 0, sizeof(*pi));
	pi->id = in->row.id;
	pi->window_start_mins = in->window_start;
	pi->window_end_mins = in->window_end;
	pi->utc_offset_mins = tz_offset_at(in, t);
	pi->receives = true;
}

/* Maybe plan a reply to x, which its recipient just engaged with. */
static int reply_plan(struct scheduler *sc, const struct store_exchange *x,
		      struct hearth_err *err)
{
	struct sc_inbox *replier = inbox_find(sc, x->recipient_inbox_id);
	struct sc_inbox *to = inbox_find(sc, x->sender_inbox_id);
	struct store_exchange y = {0};
	struct planner_inbox pi;
	struct sc_counts c = {.planned = 1};
	struct rng rng;
	uint64_t seed = pool_seed(sc, x->pool_id);
	char token[40];
	int64_t at;

	if ((unsigned)x->depth + 1 >= sc->opts.thread_depth ||
	    !inbox_active(replier) || !inbox_active(to) || x->sent_at <= 0)
		return 0;
	rng_seed(&rng, RNG_DERIVE(seed, SC_RNG_REPLY, (uint64_t)x->id));
	if ((double)rng_uniform(&rng, 1000000) >=
	    replier->profile.reply_rate * 1000000.0)
		return 0;
	planner_inbox_of(replier, sc->now, &pi);
	at = planner_reply_at(x->sent_at, sc->now, &pi, seed, x->id,
			      SCHEDULER_REPLY_MAX_AGE_DAYS);
	if (at < 0)
		return 0;
	new_token(token, sizeof(token));
	y.pool_id = x->pool_id;
	y.sender_inbox_id = replier->row.id;
	y.recipient_inbox_id = to->row.id;
	y.parent_exchange_id = x->id;
	y.token = token;
	y.planned_at = at;
	y.depth = x->depth + 1;
	clock_day_format(clock_local_day(replier->row.timezone, at), y.day);
	if (store_exchange_add(sc->store, &y, err) < 0 ||
	    counts_add(sc, y.sender_inbox_id, y.day, &c, err) < 0)
		return -1;
	queue_send(sc, &y, at);
	sc->stats.replies++;
	sc->stats.planned++;
	log_debug("exchange=%" PRId64 " reply=%" PRId64 " at=%" PRId64, x->id,
		  y.id, at);
	return 0;
}

static const char *method_name(enum imap_locate_method m)
{
	switch (m) {
	case IMAP_LOCATE_TOKEN:
		return "token";
	case IMAP_LOCATE_MESSAGE_ID:
		return "message_id";
	case IMAP_LOCATE_HEURISTIC:
		return "heuristic";
	default:
		return NULL;
	}
}

/* Record what the session found for one exchange. */
static int engage_item_done(struct scheduler *sc,
			    const struct job_engage_item_result *ir,
			    struct hearth_err *err)
{
	struct store_exchange x = {0};
	struct sc_counts c = {0};
	bool found = ir->placement != JOB_PLACEMENT_MISSING;
	int ret =
	    store_exchange_get(sc->store, (int64_t)ir->exchange_id, &x, err);

	if (ret <= 0)
		return ret;
	if (strcmp(x.state, "sending") == 0) {
		/* a look to resolve an uncertain send */
		if (!found) {
			x.looks++;
			if (x.looks < SCHEDULER_MAX_LOOKS) {
				x.engage_at =
				    sc->now + (int64_t)x.looks *
						  SCHEDULER_LOOK_RETRY_SECS;
			} else {
				/* never arrived: send it again */
				x.engage_at = 0;
				x.looks = 0;
				queue_send(sc, &x, sc->now);
				sc->stats.resent++;
				log_info("exchange=%" PRId64
					 " not delivered: sending again",
					 x.id);
			}
			ret = store_exchange_update(sc->store, &x, err);
			goto out;
		}
		set_str(&x.state, "sent");
		x.sent_at = x.attempted_at > 0 ? x.attempted_at : sc->now;
		sc->stats.resolved++;
		log_info("exchange=%" PRId64 " resolved: delivered folder=%s",
			 x.id, ir->folder);
		if (exchange_delivered(sc, &x, err) < 0) {
			ret = -1;
			goto out;
		}
		x.looks = 0;
	}
	if (strcmp(x.state, "sent") != 0) {
		x.engage_at = 0; /* failed meanwhile: nothing to look for */
		ret = store_exchange_update(sc->store, &x, err);
		goto out;
	}
	if (x.engaged_at > 0) {
		/* retention done (or the message is gone); an engaged
		 * exchange is never looked for again */
		x.sweep_at = 0;
		x.engage_at = 0;
		if (ir->filed || ir->deleted)
			sc->stats.swept++;
		ret = store_exchange_update(sc->store, &x, err);
		goto out;
	}
	x.looks++;
	if (!found && x.looks < SCHEDULER_MAX_LOOKS) {
		x.engage_at =
		    sc->now + (int64_t)x.looks * SCHEDULER_LOOK_RETRY_SECS;
		ret = store_exchange_update(sc->store, &x, err);
		goto out;
	}
	x.engage_at = 0;
	x.engaged_at = sc->now;
	set_str(&x.placement, job_placement_name(ir->placement));
	set_str(&x.folder, found ? ir->folder : NULL);
	set_str(&x.locate_method, found ? method_name(ir->method) : NULL);
	x.rescued = ir->rescued;
	x.read = ir->seen;
	x.flagged = ir->flagged;
	if (ir->fail != HEARTH_FAIL_NONE)
		set_str(&x.error, ir->error);
	switch (ir->placement) {
	case JOB_PLACEMENT_INBOX:
		c.inbox = 1;
		sc->stats.inbox++;
		break;
	case JOB_PLACEMENT_SPAM:
		c.spam = 1;
		sc->stats.spam++;
		break;
	case JOB_PLACEMENT_OTHER:
		c.other = 1;
		sc->stats.other++;
		break;
	default:
		c.missing = 1;
		sc->stats.missing++;
		break;
	}
	c.rescued = x.rescued;
	c.read = x.read;
	c.flagged = x.flagged;
	sc->stats.rescued += x.rescued;
	sc->stats.engaged++;
	if (found && strcmp(sc->retention, "keep") != 0 &&
	    sc->opts.retention_days > 0 && !ir->filed && !ir->deleted)
		x.sweep_at =
		    sc->now + (int64_t)sc->opts.retention_days * CLOCK_DAY_SECS;
	if (store_exchange_update(sc->store, &x, err) < 0 ||
	    counts_add(sc, x.sender_inbox_id, x.day, &c, err) < 0 ||
	    (found && reply_plan(sc, &x, err) < 0))
		ret = -1;
	else
		ret = 0;
	log_debug("exchange=%" PRId64 " placement=%s folder=%s rescued=%d",
		  x.id, x.placement, x.folder != NULL ? x.folder : "-",
		  x.rescued);
out:
	store_exchange_clear(&x);
	return ret < 0 ? -1 : 0;
}

/* The event log's line for a bounce of x. */
static int bounce_event(struct scheduler *sc, const struct store_exchange *x,
			const struct bounce_info *b, struct hearth_err *err)
{
	char detail[600];

	snprintf(detail, sizeof(detail), "exchange %" PRId64 " to %s: %s%s%s",
		 x->id, b->recipient[0] != '\0' ? b->recipient : "?",
		 b->status, b->status[0] != '\0' ? " " : "", b->reason);
	return store_event_add(sc->store, sc->now, "exchange.bounced",
			       x->sender_inbox_id, detail, err);
}

/*
 * A bounce or auto-reply found in inbox_id's mailbox: tied to the exchange
 * it reports on (sent by that inbox), recorded once. A bounce (the
 * message was given up on, for good or for now: a full mailbox) ends the exchange's engagement (there is nothing to find: a "missing"
 * placement recorded before the bounce came is taken back) and counts on
 * the sender's ramp day; a delayed one is only logged. An auto-reply is
 * counted as one, never as a reply.
 */
static int notice_done(struct scheduler *sc, int64_t inbox_id,
		       const struct job_notice *no, struct hearth_err *err)
{
	const struct bounce_info *b = &no->info;
	struct store_exchange x = {0};
	struct sc_counts c = {0};
	char quoted[400];
	int ret = store_exchange_find(sc->store, inbox_id, b->token,
				      b->message_id, &x, err);

	if (ret <= 0)
		goto out; /* not about hearth's mail */
	if (b->kind == BOUNCE_AUTOREPLY) {
		ret = store_exchange_auto_reply(sc->store, x.id, sc->now, err);
		if (ret == 1) {
			c.auto_replies = 1;
			sc->stats.auto_replies++;
			log_info("exchange=%" PRId64 " auto-reply reason=%s",
				 x.id, log_quote(b->reason, quoted,
						 sizeof(quoted)));
			ret = counts_add(sc, x.sender_inbox_id, x.day, &c, err);
		}
		goto out;
	}
	if (b->undelivered && strcmp(x.state, "sending") == 0 &&
	    sending_has(sc, job_id_of(SC_SEND, x.id))) {
		/* the bounce came before its send's result: kept here, and
		 * counted when the result makes the exchange "sent" */
		ret = store_exchange_bounce(
		    sc->store, x.id, sc->now,
		    b->status[0] != '\0' ? b->status : NULL,
		    b->reason[0] != '\0' ? b->reason : NULL, err);
		if (ret != 1)
			goto out;
		log_info("exchange=%" PRId64 " bounced before its send result "
			 "status=%s",
			 x.id, b->status[0] != '\0' ? b->status : "-");
		if (bounce_event(sc, &x, b, err) < 0)
			ret = -1;
		goto out;
	}
	if (b->undelivered && strcmp(x.state, "sending") == 0) {
		/* an uncertain send: the bounce says the server took it */
		set_str(&x.state, "sent");
		x.sent_at = x.attempted_at > 0 ? x.attempted_at : sc->now;
		x.looks = 0;
		sc->stats.resolved++;
		log_info("exchange=%" PRId64 " resolved: a bounce came back",
			 x.id);
		if (exchange_delivered(sc, &x, err) < 0) {
			ret = -1;
			goto out;
		}
	}
	if (!b->undelivered || strcmp(x.state, "sent") != 0) {
		log_info("exchange=%" PRId64 " bounce=%s status=%s reason=%s",
			 x.id, b->undelivered ? "ignored" : "delayed",
			 b->status[0] != '\0' ? b->status : "-",
			 log_quote(b->reason, quoted, sizeof(quoted)));
		ret = 0;
		goto out;
	}
	ret = store_exchange_bounce(sc->store, x.id, sc->now,
				    b->status[0] != '\0' ? b->status : NULL,
				    b->reason[0] != '\0' ? b->reason : NULL,
				    err);
	if (ret != 1)
		goto out;
	c.bounced = 1;
	sc->stats.bounced++;
	if (x.placement != NULL && strcmp(x.placement, "missing") == 0) {
		c.missing = -1;
		set_str(&x.placement, NULL);
		if (sc->stats.missing > 0)
			sc->stats.missing--;
	}
	if (x.engaged_at == 0) {
		x.engage_at = 0;
		x.engaged_at = sc->now;
	}
	log_info("exchange=%" PRId64 " bounced status=%s recipient=%s "
		 "reason=%s",
		 x.id, b->status[0] != '\0' ? b->status : "-",
		 b->recipient[0] != '\0' ? b->recipient : "-",
		 log_quote(b->reason, quoted, sizeof(quoted)));
	if (store_exchange_update(sc->store, &x, err) < 0 ||
	    counts_add(sc, x.sender_inbox_id, x.day, &c, err) < 0 ||
	    bounce_event(sc, &x, b, err) < 0)
		ret = -1;
out:
	store_exchange_clear(&x);
	return ret < 0 ? -1 : 0;
}

void scheduler_engage_done(struct scheduler *sc, uint64_t job_id, uint32_t run,
			   int64_t now, const struct job_engage_result *res,
			   const struct hearth_err *fail)
{
	struct sched_outcome out;
	struct hearth_err err = {0};
	const struct sc_job *job;
	int64_t recipient, started_at;
	enum hearth_fail session_fail;
	char quoted[400];

	sc->now = now;
	job = running_job(sc, job_id, run);
	if (job == NULL)
		return;
	recipient = job->id;
	started_at = job->started_at;
	if (res == NULL) {
		sched_result(sc->q, job_id, run, now, fail->fail, &out);
		attempt_record(sc, 0, recipient, "engage", started_at, "failed",
			       fail->fail, fail->code, fail->msg);
		log_info("inbox=%" PRId64 " engage failed class=%s reason=%s",
			 recipient, hearth_fail_name(fail->fail),
			 log_quote(fail->msg, quoted, sizeof(quoted)));
		if (fail->fail == HEARTH_FAIL_AUTH ||
		    fail->fail == HEARTH_FAIL_TLS)
			pause_for(sc, inbox_find(sc, recipient), "IMAP", fail);
		else if (out.verdict == SCHED_FAILED &&
			 queue_engage_due(sc, recipient,
					  now + SC_ENGAGE_REFAIL_SECS,
					  &err) < 0)
			fail_log("queue an engage job", &err);
		return;
	}
	if (store_begin(sc->store, &err) < 0)
		goto store_failed;
	for (size_t i = 0; i < res->n_items; i++)
		if (engage_item_done(sc, &res->items[i], &err) < 0)
			goto store_failed;
	for (size_t i = 0; i < res->n_notices; i++)
		if (notice_done(sc, recipient, &res->notices[i], &err) < 0)
			goto store_failed;
	if (res->notice_error[0] != '\0')
		log_warn("inbox=%" PRId64 " notices=failed reason=%s",
			 recipient,
			 log_quote(res->notice_error, quoted, sizeof(quoted)));
	attempt_record(
	    sc, 0, recipient, "engage", started_at,
	    res->session_fail == HEARTH_FAIL_NONE ? "ok" : "partial",
	    res->session_fail, 0,
	    res->session_fail == HEARTH_FAIL_NONE ? NULL : res->session_error);
	if (store_commit(sc->store, &err) < 0)
		goto store_failed;
	session_fail = res->session_fail;
	sched_result(sc->q, job_id, run, now, session_fail, &out);
	if (out.verdict == SCHED_DONE || out.verdict == SCHED_FAILED) {
		if (queue_engage_due(sc, recipient,
				     out.verdict == SCHED_DONE
					 ? now
					 : now + SC_ENGAGE_REFAIL_SECS,
				     &err) < 0)
			fail_log("queue an engage job", &err);
	}
	return;
store_failed:
	store_rollback(sc->store);
	fail_log("record an engage result", &err);
	sched_result(sc->q, job_id, run, now, HEARTH_FAIL_RETRY, NULL);
}

/* ---- domain checks ---- */

/*
 * Queue domain_id's CHECK job at due unless it is queued. The job stands
 * for the domain's inboxes: it checks nothing when all are removed.
 */
static void queue_check(struct scheduler *sc, int64_t domain_id, int64_t due)
{
	if (sc->opts.check_every_secs <= 0 || sc->net.check == NULL ||
	    sched_lookup(sc->q, job_id_of(SC_CHECK, domain_id), NULL) == 1)
		return;
	queue_job(sc, SC_CHECK, domain_id, "dns", due);
}

/* Queue the checks of every domain with an inbox: each is due a check
 * interval after its last one (now when never checked). */
static int queue_checks(struct scheduler *sc, struct hearth_err *err)
{
	struct store_domain_check *cs = NULL;
	size_t n = 0;

	if (sc->opts.check_every_secs <= 0 || sc->net.check == NULL)
		return 0;
	if (store_domain_check_latest(sc->store, 0, 0, &cs, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < sc->n_inboxes; i++) {
		const struct sc_inbox *in = &sc->inboxes[i];
		int64_t due = sc->now;

		if (!inbox_checked(in))
			continue;
		for (size_t k = 0; k < n; k++)
			if (cs[k].domain_id == in->row.domain_id &&
			    cs[k].checked_at + sc->opts.check_every_secs >
				due)
				due = cs[k].checked_at +
				      sc->opts.check_every_secs;
		queue_check(sc, in->row.domain_id, due);
	}
	store_domain_check_list_free(&cs, n);
	return 0;
}

static int start_check(struct scheduler *sc, uint64_t job_id, uint32_t run,
		       struct sc_job *job)
{
	const char *hosts[JOB_CHECK_MAX_HOSTS];
	struct job_check jc = {0};
	struct check_options *o = &jc.check;
	int ret;

	for (size_t i = 0; i < sc->n_inboxes; i++) {
		const struct sc_inbox *in = &sc->inboxes[i];
		size_t k;

		if (in->row.domain_id != job->id || !inbox_checked(in))
			continue;
		if (o->domain == NULL) {
			o->domain = in->domain;
			o->provider = in->row.provider;
		}
		for (k = 0; k < o->n_sending_hosts; k++)
			if (strcmp(hosts[k], in->row.smtp_host) == 0)
				break;
		if (k == o->n_sending_hosts &&
		    o->n_sending_hosts < JOB_CHECK_MAX_HOSTS)
			hosts[o->n_sending_hosts++] = in->row.smtp_host;
	}
	if (o->domain == NULL) {
		/* every inbox removed: checked again if one comes back */
		pending_add(sc, job_id, run);
		return 0;
	}
	o->sending_hosts = hosts;
	/* the configuration's lists are bounded alike (config.h) */
	o->dkim_selectors = sc->opts.dkim_selectors;
	o->n_dkim_selectors = sc->opts.n_dkim_selectors < JOB_CHECK_MAX_SELECTORS
				  ? sc->opts.n_dkim_selectors
				  : JOB_CHECK_MAX_SELECTORS;
	o->domain_lists = sc->opts.domain_lists;
	o->n_domain_lists = sc->opts.n_domain_lists < JOB_CHECK_MAX_LISTS
				? sc->opts.n_domain_lists
				: JOB_CHECK_MAX_LISTS;
	o->ip_lists = sc->opts.ip_lists;
	o->n_ip_lists = sc->opts.n_ip_lists < JOB_CHECK_MAX_LISTS
			    ? sc->opts.n_ip_lists
			    : JOB_CHECK_MAX_LISTS;
	jc.dns_servers = sc->opts.dns_servers;
	jc.timeout_msecs = sc->opts.op_timeout_msecs < 10000
			       ? sc->opts.op_timeout_msecs
			       : 10000;
	ret = sc->net.check(sc->net.ctx, job_id, run, &jc,
			    sc->opts.job_deadline_secs);
	if (ret == 0)
		job->started_at = sc->now;
	return ret;
}

void scheduler_check_done(struct scheduler *sc, uint64_t job_id, uint32_t run,
			  int64_t now, const struct job_check_result *res,
			  const struct hearth_err *fail)
{
	struct store_domain_check c = {0};
	struct sched_outcome out;
	struct hearth_err err = {0};
	const struct sc_job *job;
	int64_t domain_id;
	char quoted[600];

	sc->now = now;
	job = running_job(sc, job_id, run);
	if (job == NULL)
		return;
	domain_id = job->id;
	if (res == NULL) {
		sched_result(sc->q, job_id, run, now, fail->fail, &out);
		log_warn("domain=%" PRId64 " check failed class=%s reason=%s",
			 domain_id, hearth_fail_name(fail->fail),
			 log_quote(fail->msg, quoted, sizeof(quoted)));
		if (out.verdict == SCHED_FAILED)
			queue_check(sc, domain_id,
				    now + sc->opts.check_every_secs);
		return;
	}
	c.domain_id = domain_id;
	c.checked_at = now;
	c.worst = (char *)res->worst;
	c.failure = res->failure[0] != '\0' ? (char *)res->failure : NULL;
	c.report = res->report;
	if (store_domain_check_add(sc->store, &c, &err) < 0) {
		fail_log("record a domain check", &err);
		sched_result(sc->q, job_id, run, now, HEARTH_FAIL_RETRY, &out);
		if (out.verdict == SCHED_FAILED)
			queue_check(sc, domain_id,
				    now + sc->opts.check_every_secs);
		return;
	}
	sc->stats.checks++;
	log_info("domain=%" PRId64 " checked worst=%s%s%s", domain_id,
		 res->worst, res->failure[0] != '\0' ? " failure=" : "",
		 res->failure[0] != '\0'
		     ? log_quote(res->failure, quoted, sizeof(quoted))
		     : "");
	sched_result(sc->q, job_id, run, now, HEARTH_FAIL_NONE, &out);
	queue_check(sc, domain_id, now + sc->opts.check_every_secs);
}

/* ---- planning ---- */

/* The pool's earliest window opening and latest closing on day (UTC). */
static bool pool_day_bounds(struct scheduler *sc, int64_t pool_id, int64_t day,
			    int64_t *open_r, int64_t *close_r)
{
	int64_t midnight = day * CLOCK_DAY_SECS;
	bool any = false;

	for (size_t i = 0; i < sc->n_inboxes; i++) {
		struct sc_inbox *in = &sc->inboxes[i];
		int64_t off, open, close;

		if (in->row.pool_id != pool_id || !inbox_active(in))
			continue;
		off = (int64_t)tz_offset_at(in, midnight + 12 * 3600) * 60;
		open = midnight + (int64_t)in->window_start * 60 - off;
		close = midnight + (int64_t)in->window_end * 60 - off;
		if (!any || open < *open_r)
			*open_r = open;
		if (!any || close > *close_r)
			*close_r = close;
		any = true;
	}
	return any;
}

/* The ramp outcome recorded in a ramp day row. */
static void outcome_of(const struct store_ramp_day *d,
		       struct ramp_day_outcome *o)
{
	o->planned = (unsigned)d->planned;
	o->sent = (unsigned)d->sent;
	o->inbox = (unsigned)d->inbox;
	o->spam = (unsigned)d->spam;
	o->other = (unsigned)d->other;
	o->missing = (unsigned)d->missing;
	o->bounced = (unsigned)d->bounced;
	o->failed_permanent = (unsigned)d->failed_permanent;
	o->auth_failures = (unsigned)d->auth_failures;
}

struct sc_plan_inbox {
	struct sc_inbox *in;
	struct ramp_state state;
	unsigned volume;
	int planned_before; /* the row's planned count before this plan */
	int sends;
};

/* The ramp's step for one inbox on day: state, volume. */
static int ramp_for(struct scheduler *sc, struct sc_plan_inbox *p, int64_t day,
		    uint64_t seed, struct hearth_err *err)
{
	struct store_ramp_day *rows = NULL;
	struct ramp_day_outcome hist[3];
	struct ramp_state y, *yp = NULL;
	char date[CLOCK_DATE_SIZE];
	size_t n = 0, nh = 0;

	clock_day_format(day, date);
	if (store_ramp_day_list(sc->store, p->in->row.id, date, 4, &rows, &n,
				err) < 0)
		return -1;
	for (size_t i = 0; i < n && yp == NULL; i++)
		if (rows[i].ramp_state != NULL &&
		    ramp_state_parse(rows[i].ramp_state, &y, NULL) == 0)
			yp = &y;
	for (size_t i = 0; i < n && nh < 3; i++) {
		int64_t d;

		if (clock_day_parse(rows[i].day, &d) == 0 && d >= day - 3)
			outcome_of(&rows[i], &hist[nh++]);
	}
	store_ramp_day_list_free(&rows, n);
	if (yp != NULL && yp->paused) {
		/* the operator resumed it: what led to the pause is over */
		ramp_resume(yp);
		nh = 0;
	}
	if (ramp_next(&p->in->profile, yp, hist, nh, seed, p->in->row.id, day,
		      clock_weekday(day), &p->state, &p->volume) < 0) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "ramp of inbox %s cannot be computed",
			       p->in->row.address);
		return -1;
	}
	return 0;
}

/* A pause the ramp decided: its reason names the inbox's address. */
static void inbox_pause_ramp(struct scheduler *sc, struct sc_inbox *in,
			     const char *reason)
{
	static const char literal[] = "ADDRESS";
	const char *at = strstr(reason, literal);
	char *text;

	if (at == NULL) {
		inbox_pause(sc, in, reason);
		return;
	}
	text = xasprintf("%.*s%s%s", (int)(at - reason), reason,
			 in->row.address, at + sizeof(literal) - 1);
	inbox_pause(sc, in, text);
	free(text);
}

static int plan_pool_day(struct scheduler *sc, const struct store_pool *pool,
			 int64_t day, struct hearth_err *err)
{
	uint64_t seed = pool_seed(sc, pool->id);
	int64_t midnight = day * CLOCK_DAY_SECS;
	struct sc_plan_inbox *pv = NULL;
	struct planner_inbox *pi = NULL;
	struct store_pair *pairs = NULL;
	struct planner_recent_pair *recent = NULL;
	struct planner_options po;
	struct planner_plan plan = {0};
	struct store_plan_day pd = {0};
	int64_t *ids = NULL;
	size_t n = 0, n_pairs = 0;
	char date[CLOCK_DATE_SIZE];
	int ret = -1;

	clock_day_format(day, date);
	pv = xcalloc(sc->n_inboxes + 1, sizeof(*pv));
	pi = xcalloc(sc->n_inboxes + 1, sizeof(*pi));
	for (size_t i = 0; i < sc->n_inboxes; i++) {
		struct sc_inbox *in = &sc->inboxes[i];
		struct sc_plan_inbox *p = &pv[n];
		struct planner_inbox *q = &pi[n];
		struct store_ramp_day row = {0};
		int64_t local_now;

		if (in->row.pool_id != pool->id || !inbox_active(in))
			continue;
		p->in = in;
		if (ramp_for(sc, p, day, seed, err) < 0)
			goto out;
		if (store_ramp_day_get(sc->store, in->row.id, date, &row, err) <
		    0)
			goto out;
		p->planned_before = row.planned;
		store_ramp_day_clear(&row);
		q->id = in->row.id;
		q->domain_id = (uint32_t)in->row.domain_id;
		q->client_id = (uint32_t)in->row.client_id;
		q->provider_id = in->provider_id;
		q->utc_offset_mins = tz_offset_at(in, midnight + 12 * 3600);
		q->window_start_mins = in->window_start;
		q->window_end_mins = in->window_end;
		q->receives = !p->state.paused;
		q->volume = p->state.paused ? 0 : p->volume;
		/* planned late: start five minutes from now */
		local_now = (sc->now - midnight) / 60 + q->utc_offset_mins + 5;
		if (local_now > q->window_start_mins) {
			if (local_now + 30 > q->window_end_mins)
				q->volume = 0;
			else
				q->window_start_mins = (int)local_now;
		}
		n++;
	}
	if (n == 0) {
		ret = 0;
		goto out;
	}
	if (store_exchange_pairs(sc->store, pool->id,
				 midnight - SC_RECENT_DAYS * CLOCK_DAY_SECS,
				 midnight, &pairs, &n_pairs, err) < 0)
		goto out;
	recent = xcalloc(n_pairs + 1, sizeof(*recent));
	for (size_t i = 0; i < n_pairs; i++) {
		recent[i].sender_id = pairs[i].sender_id;
		recent[i].recipient_id = pairs[i].recipient_id;
	}
	planner_options_init(&po, seed, day);
	po.same_client_max_share = sc->opts.same_client_share;
	if (planner_plan_day(pi, n, recent, n_pairs, &po, &plan, err) < 0)
		goto out;
	ids = xcalloc(plan.n_sends + 1, sizeof(*ids));
	if (store_begin(sc->store, err) < 0)
		goto out;
	for (size_t i = 0; i < plan.n_sends; i++) {
		const struct planner_send *ps = &plan.sends[i];
		struct store_exchange x = {0};
		char token[40];

		new_token(token, sizeof(token));
		x.pool_id = pool->id;
		x.sender_inbox_id = ps->sender_id;
		x.recipient_inbox_id = ps->recipient_id;
		x.token = token;
		x.planned_at = ps->at;
		snprintf(x.day, sizeof(x.day), "%s", date);
		if (store_exchange_add(sc->store, &x, err) < 0)
			goto rollback;
		ids[i] = x.id;
		for (size_t k = 0; k < n; k++)
			if (pv[k].in->row.id == ps->sender_id) {
				pv[k].sends++;
				break;
			}
	}
	for (size_t k = 0; k < n; k++) {
		struct sc_plan_inbox *p = &pv[k];
		char text[RAMP_STATE_TEXT_MAX];

		ramp_state_format(&p->state, text, sizeof(text));
		if (store_ramp_day_set_plan(
			sc->store, p->in->row.id, date, (int)p->volume,
			p->planned_before + p->sends, text, err) < 0)
			goto rollback;
	}
	pd.pool_id = pool->id;
	snprintf(pd.day, sizeof(pd.day), "%s", date);
	pd.planned_at = sc->now;
	pd.sends = (int)plan.n_sends;
	pd.unplaced = (int)plan.unplaced;
	pd.relaxed = plan.relaxed;
	if (store_plan_day_add(sc->store, &pd, err) < 0 ||
	    store_commit(sc->store, err) < 0)
		goto rollback;
	/* after the commit: what the ramp paused, and the jobs */
	for (size_t k = 0; k < n; k++)
		if (pv[k].state.paused)
			inbox_pause_ramp(sc, pv[k].in, pv[k].state.reason);
	for (size_t i = 0; i < plan.n_sends; i++) {
		struct sc_inbox *s = inbox_find(sc, plan.sends[i].sender_id);

		queue_job(sc, SC_SEND, ids[i], s->row.smtp_host,
			  plan.sends[i].at);
	}
	sc->stats.days_planned++;
	sc->stats.planned += plan.n_sends;
	log_info("pool=%s day=%s planned=%zu inboxes=%zu unplaced=%zu "
		 "relaxed=%u",
		 pool->name, date, plan.n_sends, n, plan.unplaced,
		 plan.relaxed);
	ret = 0;
	goto out;
rollback:
	store_rollback(sc->store);
out:
	planner_plan_free(&plan);
	free(ids);
	free(recent);
	free(pairs);
	free(pi);
	free(pv);
	return ret;
}

/* Plan every pool-day that is due; *next_r: the next planning time. */
static int plan_due(struct scheduler *sc, int64_t *next_r,
		    struct hearth_err *err)
{
	int64_t today = clock_day_index(sc->now);

	for (size_t i = 0; i < sc->n_pools; i++) {
		const struct store_pool *pool = &sc->pools[i];

		for (int64_t day = today - 1; day <= today + 1; day++) {
			struct store_plan_day pd;
			char date[CLOCK_DATE_SIZE];
			int64_t open = 0, close = 0;
			int ret;

			if (!pool_day_bounds(sc, pool->id, day, &open, &close))
				break;
			if (sc->now < open - 3600) {
				if (open - 3600 < *next_r)
					*next_r = open - 3600;
				continue;
			}
			if (sc->now > close - 3600)
				continue;
			clock_day_format(day, date);
			ret = store_plan_day_get(sc->store, pool->id, date, &pd,
						 err);
			if (ret < 0)
				return -1;
			if (ret == 0 && plan_pool_day(sc, pool, day, err) < 0)
				return -1;
		}
	}
	return 0;
}

/* ---- the queue's runner ---- */

static int runner_start(void *ctx, uint64_t job_id, uint32_t run,
			const void *payload, int64_t deadline)
{
	struct scheduler *sc = ctx;
	/* the payload is ours: the queue lends it back */
	struct sc_job *job = (struct sc_job *)payload;

	(void)deadline;
	switch (job->kind) {
	case SC_SEND:
		return start_send(sc, job_id, run, job);
	case SC_ENGAGE:
		return start_engage(sc, job_id, run, job);
	default:
		return start_check(sc, job_id, run, job);
	}
}

static void runner_expired(void *ctx, uint64_t job_id, uint32_t run,
			   const void *payload,
			   const struct sched_outcome *outcome)
{
	struct scheduler *sc = ctx;
	struct sc_job *job = (struct sc_job *)payload;
	struct store_exchange x = {0};
	struct hearth_err err = {0};

	if (sc->net.abandon != NULL)
		sc->net.abandon(sc->net.ctx, job_id, run);
	if (job->kind == SC_CHECK) {
		log_warn("domain=%" PRId64 " check expired", job->id);
		/* given up: checked again a check interval later (queued
		 * after the tick: the queue is not to be changed in it) */
		if (outcome->verdict == SCHED_FAILED)
			pending_push(sc, (struct sc_pending){
					     .domain_id = job->id,
					     .due = sc->now +
						    sc->opts.check_every_secs});
		return;
	}
	if (job->kind != SC_SEND) {
		attempt_record(sc, 0, job->id, "engage", job->started_at,
			       "expired", HEARTH_FAIL_RETRY, 0,
			       "no result before the lease expired");
		return;
	}
	sending_del(sc, job_id);
	if (store_exchange_get(sc->store, job->id, &x, &err) != 1) {
		store_exchange_clear(&x);
		return;
	}
	attempt_record(sc, x.id, x.sender_inbox_id, "send", job->started_at,
		       "expired", HEARTH_FAIL_RETRY, 0,
		       "no result before the lease expired");
	/* the message may have gone: never send again without a look */
	if (outcome->verdict == SCHED_RETRY)
		job->uncertain = true;
	else if (exchange_resolve_later(
		     sc, &x, sc->now + SCHEDULER_RESOLVE_SECS, &err) < 0)
		fail_log("queue a look", &err);
	store_exchange_clear(&x);
}

/* The results starts decided at once. */
static void pending_flush(struct scheduler *sc)
{
	while (sc->n_pending > 0) {
		struct sc_pending p = sc->pending[--sc->n_pending];
		struct hearth_err err = {0};
		struct sched_info info;
		bool engage = scheduler_job_is_engage(p.job_id);
		int64_t id = job_id_target(p.job_id);

		if (p.job_id == 0) {
			if (p.domain_id != 0)
				queue_check(sc, p.domain_id, p.due);
			else
				queue_engage(sc, p.inbox_id, p.due);
			continue;
		}
		if (sched_lookup(sc->q, p.job_id, &info) != 1 ||
		    !info.running || info.runs != p.run)
			continue;
		sched_result(sc->q, p.job_id, p.run, sc->now, HEARTH_FAIL_NONE,
			     NULL);
		/* an ENGAGE job with nothing due now: its next due time */
		if (engage && queue_engage_due(sc, id, sc->now + 1, &err) < 0)
			fail_log("queue an engage job", &err);
		if (scheduler_job_is_check(p.job_id))
			queue_check(sc, id, sc->now + sc->opts.check_every_secs);
	}
}

/* ---- life ---- */

/* Queue what the store holds pending (at start). */
static int load_pending(struct scheduler *sc, struct hearth_err *err)
{
	struct store_exchange *xs = NULL;
	size_t n = 0;

	/* sending: uncertain, look before anything else */
	if (store_exchange_list_state(sc->store, "sending", INT64_MAX, 0, &xs,
				      &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct store_exchange *x = &xs[i];

		if (x->engage_at > 0)
			continue; /* a look is pending already */
		if (store_begin(sc->store, err) < 0 ||
		    exchange_resolve_later(
			sc, x, x->attempted_at + SCHEDULER_RESOLVE_SECS, err) <
			0 ||
		    store_commit(sc->store, err) < 0) {
			store_rollback(sc->store);
			store_exchange_list_free(&xs, n);
			return -1;
		}
		log_info("exchange=%" PRId64 " was sending when the engine "
			 "stopped: looking for it before any resend",
			 x->id);
	}
	store_exchange_list_free(&xs, n);
	if (store_exchange_list_state(sc->store, "planned", INT64_MAX, 0, &xs,
				      &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		queue_send(sc, &xs[i], xs[i].planned_at);
	store_exchange_list_free(&xs, n);
	return queue_engage_due(sc, 0, sc->now, err);
}

struct scheduler *scheduler_new(struct store *store, struct vault *vault,
				const struct content_corpus *corpus,
				const struct scheduler_options *opts,
				const struct scheduler_net *net, int64_t now,
				struct hearth_err *err)
{
	struct scheduler *sc;
	struct sched_options so;
	struct sched_runner runner;

	if (opts->workers < 1 || opts->workers > 64 || opts->per_host < 1 ||
	    opts->thread_depth < 1 || opts->job_deadline_secs < 1 ||
	    opts->op_timeout_msecs < 1 || opts->locate_wait_msecs < 0 ||
	    opts->retention == NULL || opts->token_header == NULL ||
	    opts->retention_days < 0 || net == NULL || net->send == NULL ||
	    net->engage == NULL || store == NULL || corpus == NULL) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "scheduler: option out of range");
		return NULL;
	}
	sc = xcalloc(1, sizeof(*sc));
	sc->store = store;
	sc->vault = vault;
	sc->corpus = corpus;
	sc->opts = *opts;
	sc->retention = xstrdup(opts->retention);
	sc->token_header = xstrdup(opts->token_header);
	sc->ehlo_name = opts->ehlo_name ? xstrdup(opts->ehlo_name) : NULL;
	sc->ca_file = opts->ca_file ? xstrdup(opts->ca_file) : NULL;
	sc->lang = xstrdup(opts->lang ? opts->lang : "en");
	sc->default_profile =
	    xstrdup(opts->default_profile ? opts->default_profile : "standard");
	/* the strings the options point to are the caller's for the call */
	sc->bounce_patterns =
	    opts->bounce_patterns ? xstrdup(opts->bounce_patterns) : NULL;
	sc->opts.bounce_patterns = sc->bounce_patterns;
	sc->dns_servers = opts->dns_servers ? xstrdup(opts->dns_servers) : NULL;
	sc->opts.dns_servers = sc->dns_servers;
	sc->net = *net;
	sc->now = now;
	sched_options_default(&so);
	so.max_running = opts->workers;
	so.max_per_host = opts->per_host;
	so.job_deadline_secs = opts->job_deadline_secs;
	so.lease_secs = opts->lease_secs > opts->job_deadline_secs
			    ? opts->lease_secs
			    : (int64_t)opts->job_deadline_secs * 2 + 60;
	so.seed = opts->seed;
	runner.start = runner_start;
	runner.expired = runner_expired;
	runner.ctx = sc;
	sc->q = sched_new(&so, &runner, err);
	if (sc->q == NULL || inboxes_load(sc, err) < 0 ||
	    load_pending(sc, err) < 0 || queue_checks(sc, err) < 0) {
		scheduler_free(&sc);
		return NULL;
	}
	sc->reload_at = now + SCHEDULER_RELOAD_SECS;
	sc->data_version = store_data_version(store);
	return sc;
}

void scheduler_free(struct scheduler **scp)
{
	struct scheduler *sc = *scp;

	if (sc == NULL)
		return;
	sched_free(&sc->q);
	inboxes_free(sc);
	store_pool_list_free(&sc->pools, sc->n_pools);
	free(sc->pending);
	free(sc->sending);
	free(sc->retention);
	free(sc->token_header);
	free(sc->ehlo_name);
	free(sc->ca_file);
	free(sc->lang);
	free(sc->default_profile);
	free(sc->bounce_patterns);
	free(sc->dns_servers);
	free(sc);
	*scp = NULL;
}

int64_t scheduler_step(struct scheduler *sc, int64_t now,
		       struct hearth_err *err)
{
	int64_t next = INT64_MAX, wake;

	sc->now = now;
	/* a command changed the database (pause, resume, enrollment) */
	if (now >= sc->reload_at &&
	    store_data_version(sc->store) != sc->data_version) {
		sc->data_version = store_data_version(sc->store);
		if (inboxes_load(sc, err) < 0 ||
		    queue_engage_due(sc, 0, now, err) < 0 ||
		    queue_checks(sc, err) < 0)
			return -1;
	}
	if (now >= sc->reload_at)
		sc->reload_at = now + SCHEDULER_RELOAD_SECS;
	if (!sched_draining(sc->q) && plan_due(sc, &next, err) < 0)
		return -1;
	/* starts that ended at once free their slots for others */
	for (int round = 0; round < 8; round++) {
		sc->in_tick = true;
		sched_tick(sc->q, now);
		sc->in_tick = false;
		if (sc->n_pending == 0)
			break;
		pending_flush(sc);
	}
	wake = sched_next_wake(sc->q);
	if (wake < next)
		next = wake;
	return next;
}

void scheduler_drain(struct scheduler *sc)
{
	sched_drain(sc->q);
}

bool scheduler_draining(const struct scheduler *sc)
{
	return sched_draining(sc->q);
}

size_t scheduler_running(const struct scheduler *sc)
{
	return sched_running(sc->q);
}

size_t scheduler_queued(const struct scheduler *sc)
{
	return sched_queued(sc->q);
}

void scheduler_hand_back(struct scheduler *sc, int64_t now)
{
	struct sched_info info;

	/* a SEND handed back may have gone out: a look comes first */
	for (size_t i = 0; i < sc->n_sending; i++)
		if (sched_lookup(sc->q, sc->sending[i], &info) == 1 &&
		    info.running)
			((struct sc_job *)info.payload)->uncertain = true;
	sc->n_sending = 0;
	sc->now = now;
	sched_hand_back(sc->q, now);
}

void scheduler_stats(const struct scheduler *sc,
		     struct scheduler_stats *stats_r)
{
	*stats_r = sc->stats;
}
