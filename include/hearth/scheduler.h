/* SPDX-License-Identifier: MIT */
/*
 * scheduler: the warmup loop (DESIGN.md, Data flow and Processes). One
 * scheduler owns the store and is its only writer; it plans each pool-day,
 * hands SEND and ENGAGE jobs to the network through a function table
 * (struct scheduler_net: the worker pool in `hearth run` and `hearth
 * simulate`, a fake in tests), records every result, adapts the ramps and
 * plans replies. It never reads the clock: every call takes `now` (unix
 * seconds, real or virtual) and it never blocks on the network.
 *
 * Planning. Pool-day D (a UTC date) is planned once, at one hour before the
 * earliest sending window of the pool's inboxes opens on D (their local
 * windows on date D), and no later than one hour before the last window
 * closes. Each active inbox gets its ramp state from the newest ramp day
 * row before D (paused again only through the ramp; an inbox the operator
 * resumed is resumed in its ramp too) and its history from the rows of the
 * three days before D; ramp_next gives its volume, the planner pairs and
 * times the sends, and in one transaction every send becomes an exchange
 * ("planned", a random token, the sender's ramp day D) and every inbox's
 * ramp day row records the volume, the planned count and the ramp state.
 * A plan made after a window opened starts that inbox's sends five minutes
 * after `now`. An inbox the ramp pauses is paused in the store, with the
 * ramp's reason and an "inbox.paused" event.
 *
 * Sending. A SEND job is due at the exchange's planned time. When it
 * starts, the message is rendered (content_render; a reply quotes the
 * message it answers and keeps its thread's Message-IDs), and the exchange
 * is moved to "sending" with its Message-ID, subject, topic and body in a
 * committed transaction before the job goes to the network: an exchange is
 * sent at most once. A result of 2xx makes it "sent"; a failure of class
 * retry or backoff is retried (sched.h's backoff); any other failure, or
 * the last attempt, makes it "failed" with the reason. An auth or TLS
 * failure pauses the inbox with a reason the operator can read. A result
 * that says the connection was lost after the final dot (uncertain) and
 * every exchange found "sending" when the scheduler starts are resolved by
 * a look in the recipient's mailbox for the token: found, the exchange is
 * "sent"; not found after SCHEDULER_MAX_LOOKS looks, it is sent again with
 * the same Message-ID.
 *
 * Engaging. SCHEDULER_ENGAGE_MIN_SECS to SCHEDULER_ENGAGE_MAX_SECS after a
 * message is sent, the recipient's ENGAGE job (one per recipient inbox,
 * batching every exchange due there) locates it, records the placement,
 * rescues it from spam, marks it \Seen, \Flagged and important, and draws a
 * reply with the replier's reply rate, when the thread is shorter than
 * thread_depth messages: the reply is planned with planner_reply_at() and
 * sent from the recipient's SMTP. A message not found is looked for again
 * (SCHEDULER_LOOK_RETRY_SECS times the looks so far later) and recorded
 * "missing" after SCHEDULER_MAX_LOOKS looks. Retention: with
 * retention_days 0 the ENGAGE job files (archive) or deletes the message
 * at once; otherwise a later look in the same recipient's ENGAGE job does it
 * retention_days after the engagement; "keep" leaves it where it is.
 *
 * Ramp days. Every count is on the sender's ramp day row of the exchange's
 * day: planned, sent, failed (+ failed_permanent, auth_failures),
 * placements (inbox, spam, other, missing), rescued, read, flagged, and
 * replied (its message got a reply). A reply counts in its own sender's
 * planned and sent.
 *
 * Shutdown: scheduler_drain() starts nothing new; once
 * scheduler_running() is 0 the caller frees it. Stopping at once: stop the
 * network first, then scheduler_hand_back(): exchanges left "sending" are
 * resolved at the next start. Nothing committed is lost either way.
 */
#ifndef HEARTH_SCHEDULER_H
#define HEARTH_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hearth/content.h"
#include "hearth/err.h"
#include "hearth/job.h"
#include "hearth/store.h"
#include "hearth/vault.h"

/* A message is first looked for this long after it was sent (uniform). */
#define SCHEDULER_ENGAGE_MIN_SECS (5 * 60)
#define SCHEDULER_ENGAGE_MAX_SECS (60 * 60)
/* Looks for a message before it is "missing" (or, "sending", resent). */
#define SCHEDULER_MAX_LOOKS 3
/* The next look comes this long times the looks so far later. */
#define SCHEDULER_LOOK_RETRY_SECS (30 * 60)
/* An uncertain send is first looked for this long after it was tried. */
#define SCHEDULER_RESOLVE_SECS (10 * 60)
/* A planned exchange this late when the scheduler gets to it fails as
 * missed (the engine was not running) instead of going out in a burst. */
#define SCHEDULER_LATE_MAX_SECS (6 * 60 * 60)
/* Notices (bounces, auto-replies) are looked for among this many days'
 * unseen mail (real days: the server's arrival dates). */
#define SCHEDULER_NOTICE_DAYS 3
/* Replies are not planned to messages older than this at engagement. */
#define SCHEDULER_REPLY_MAX_AGE_DAYS 3
/* The inbox list is read again, when another process changed the
 * database (pause, resume, enrollment), at most this often. */
#define SCHEDULER_RELOAD_SECS 60

/*
 * The network as the scheduler sees it. send and engage start run `run` of
 * job_id with the job (borrowed for the call: copy or encode it), to be
 * over within timeout_secs; 0 started (the result comes back through
 * scheduler_send_done / scheduler_engage_done with the same job_id and
 * run), -1 cannot start now (no idle worker: retried later). abandon (may
 * be NULL): the run's lease expired; stop whatever still runs it.
 */
struct scheduler_net {
	int (*send)(void *ctx, uint64_t job_id, uint32_t run,
		    const struct job_send *job, int timeout_secs);
	int (*engage)(void *ctx, uint64_t job_id, uint32_t run,
		      const struct job_engage *job, int timeout_secs);
	void (*abandon)(void *ctx, uint64_t job_id, uint32_t run);
	/* CHECK jobs (NULL: no domain checks) */
	int (*check)(void *ctx, uint64_t job_id, uint32_t run,
		     const struct job_check *job, int timeout_secs);
	void *ctx;
};

struct scheduler_options {
	unsigned workers;      /* jobs at once, 1..64 */
	unsigned per_host;     /* connections per host at once, >= 1 */
	int op_timeout_msecs;  /* each network operation */
	int job_deadline_secs; /* each job */
	/* a run's lease (sched.h), > job_deadline_secs; 0: twice the
	 * deadline plus a minute. A virtual clock that moves on while jobs
	 * run needs a long one: the worker pool's real deadline still holds */
	int64_t lease_secs;
	/* ENGAGE: look again for mail still being delivered, in all (job.h) */
	int locate_wait_msecs;
	unsigned thread_depth; /* messages in a thread at most, >= 1 */
	const char *retention; /* "keep", "archive", "delete" */
	int retention_days;
	const char *token_header; /* the install's token header name */
	const char *ehlo_name;	  /* NULL: the sender's domain */
	const char *ca_file;	  /* NULL: the system trust store */
	const char *lang;	  /* content language, "en" */
	const char *default_profile; /* ramp profile when the inbox names
					none it knows */
	/*
	 * 0: each pool draws from its own seed (chosen at `hearth pool add`);
	 * else every pool draws from one derived from this and its id, so two
	 * databases enrolled alike plan alike (hearth simulate --seed)
	 */
	uint64_t seed;
	/* the planner's same-client share (0..1) */
	double same_client_share;
	/*
	 * Notices: an ENGAGE job also looks for bounces and auto-replies
	 * in its mailbox when the last look there is this long ago (0:
	 * never); bounce_patterns: the pattern file (NULL: DSNs and
	 * auto-replies only)
	 */
	int64_t notice_every_secs;
	const char *bounce_patterns;
	/*
	 * Domain checks (check.h): each domain with an inbox that is not
	 * removed is checked this often (0: never), and at start when its
	 * last check is older; the lists beyond job.h's JOB_CHECK_MAX_*
	 * are left out. dns_servers and bounce_patterns are copied; the list
	 * arrays must outlive the scheduler.
	 */
	int64_t check_every_secs;
	const char *dns_servers;
	const char *const *dkim_selectors;
	size_t n_dkim_selectors;
	const char *const *domain_lists;
	size_t n_domain_lists;
	const char *const *ip_lists;
	size_t n_ip_lists;
};

/* What the loop did since scheduler_new. */
struct scheduler_stats {
	uint64_t days_planned, planned, sent, failed, uncertain, resolved,
	    resent, engaged, inbox, spam, other, missing, rescued, replies,
	    swept, paused, bounced, auto_replies, checks;
};

struct scheduler;

/* Defaults: 4 workers, 2 per host, 30 s, 120 s, no locate wait, thread
 * depth 3, archive after 7 days, language "en", profile "standard",
 * same-client share 0.2. */
void scheduler_options_default(struct scheduler_options *opts);

/*
 * A scheduler at `now` over store (borrowed, opened by the caller after
 * the network's worker processes were created), vault (secrets, borrowed),
 * corpus (borrowed) and net (copied; its ctx borrowed). It reads what is
 * pending: planned exchanges are queued (those more than
 * SCHEDULER_LATE_MAX_SECS late fail as missed), "sending" ones are queued
 * for a resolving look, engagement due is queued per recipient. NULL with
 * *err when an option is out of range or the store cannot be read.
 */
struct scheduler *scheduler_new(struct store *store, struct vault *vault,
				const struct content_corpus *corpus,
				const struct scheduler_options *opts,
				const struct scheduler_net *net, int64_t now,
				struct hearth_err *err);
void scheduler_free(struct scheduler **sc);

/*
 * One turn at now: read the inboxes again when due, plan the pool-days
 * due, start the jobs due (as many as fit). Returns the time of the next
 * thing to do (INT64_MAX: nothing until a result comes); the caller sleeps
 * until then or until a result, or jumps its virtual clock there. -1 with
 * *err when the store failed (the caller may retry later).
 */
int64_t scheduler_step(struct scheduler *sc, int64_t now,
		       struct hearth_err *err);

/*
 * The result of run `run` of job_id at now: exactly one of res and fail is
 * non-NULL (fail: the job did not complete, its class says how to go on).
 * Results for runs that are over are ignored.
 */
void scheduler_send_done(struct scheduler *sc, uint64_t job_id, uint32_t run,
			 int64_t now, const struct job_send_result *res,
			 const struct hearth_err *fail);
void scheduler_engage_done(struct scheduler *sc, uint64_t job_id, uint32_t run,
			   int64_t now, const struct job_engage_result *res,
			   const struct hearth_err *fail);

void scheduler_check_done(struct scheduler *sc, uint64_t job_id, uint32_t run,
			  int64_t now, const struct job_check_result *res,
			  const struct hearth_err *fail);

/* Is job_id an ENGAGE job, a CHECK job (else SEND)? For the network
 * side's decoding. */
bool scheduler_job_is_engage(uint64_t job_id);
bool scheduler_job_is_check(uint64_t job_id);

/* Shutdown (see above). */
void scheduler_drain(struct scheduler *sc);
bool scheduler_draining(const struct scheduler *sc);
size_t scheduler_running(const struct scheduler *sc);
size_t scheduler_queued(const struct scheduler *sc);
void scheduler_hand_back(struct scheduler *sc, int64_t now);

void scheduler_stats(const struct scheduler *sc,
		     struct scheduler_stats *stats_r);

#endif
