/* SPDX-License-Identifier: MIT */
/*
 * store: everything hearth remembers, in one SQLite database, and the only
 * module that speaks SQL. The database runs in WAL mode with foreign keys on
 * and a 5 s busy timeout; every statement is prepared once (cached for the
 * life of the handle) and takes its values as bound parameters only.
 *
 * Schema versions (PRAGMA user_version), applied at open, each migration in
 * its own transaction:
 *   1  pools, clients, domains, inboxes, settings, events
 *   2  ramp_days, exchanges, job_attempts, and their indexes
 *   3  the warmup loop: plan_days; exchanges gain day, depth, topic, body,
 *      attempted_at, engage_at, looks, engaged_at, sweep_at; ramp_days gain
 *      volume, auth_failures, failed_permanent; inboxes gain ramp_overrides
 *   4  deliverability: exchanges gain bounced_at, bounce_status,
 *      bounce_reason, auto_replied_at; ramp_days gain auto_replies;
 *      domain_checks
 * A database from an older version is migrated; one from a newer version is
 * refused. The event log is append-only (the database refuses UPDATE and
 * DELETE on it, except for the events of an inbox being purged), and an
 * exchange's state can only move planned -> sending -> sent | failed (or
 * planned -> failed): both are enforced by triggers, so a bug elsewhere
 * cannot rewrite history.
 *
 * One handle, one thread: the scheduler owns it and is the only writer.
 * Timestamps are int64 seconds since the epoch, always passed in by the
 * caller; nothing here reads the clock.
 *
 * Errors: functions return 0 / -1 (lookups 1 found / 0 not found / -1) and
 * fill *err (which may be NULL) on failure, with err->code the extended
 * SQLite result code and err->msg "what failed: SQLite's message". A busy or
 * locked database is HEARTH_FAIL_RETRY; a constraint violation (duplicate,
 * unknown reference, a value the schema refuses, a forbidden state change)
 * and everything else is HEARTH_FAIL_PERMANENT. No message ever contains a
 * secret (SQLite never echoes bound values).
 *
 * Memory: strings passed in are borrowed for the call. Structs filled by the
 * store own their strings (release with the matching *_clear or
 * *_list_free); a *_r struct is zeroed before it is filled, so clearing it
 * is safe whatever the lookup returned.
 */
#ifndef HEARTH_STORE_H
#define HEARTH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hearth/err.h"

/*
 * v1: pools, clients, domains, inboxes, settings, events;
 * v2: ramp_days, exchanges, job_attempts (+ indexes);
 * v3: plan_days and the warmup loop's columns;
 * v4: bounces, auto-replies, domain_checks
 */
#define STORE_SCHEMA_VERSION 4

struct store;

/*
 * Open (create if missing; the parent directory must exist) the database at
 * path: WAL, foreign_keys=ON, busy_timeout 5000 ms, file mode 0600 when this
 * call creates it; migrate it to STORE_SCHEMA_VERSION, each migration in its
 * own transaction. A database whose user_version is newer is refused
 * (HEARTH_FAIL_PERMANENT, "database schema version 7 is newer than this
 * hearth understands (2): upgrade hearth"), and so is a file that holds some
 * other application's tables. On success *store_r is owned by the caller
 * (store_close); on failure nothing is left open.
 */
int store_open(const char *path, struct store **store_r,
	       struct hearth_err *err);
/*
 * The same, but migrate only up to schema version `version` (1 to
 * STORE_SCHEMA_VERSION). For tests of migrations: with an older version
 * only functions whose columns exist in that version may be used (pools,
 * clients, settings, events; not inboxes, ramp days or exchanges).
 */
int store_open_at_version(const char *path, int version, struct store **store_r,
			  struct hearth_err *err);
/* Close (an open transaction is rolled back) and set *store to NULL. */
void store_close(struct store **store);
/* PRAGMA user_version, or -1 if it cannot be read. */
int store_schema_version(struct store *s);
/*
 * PRAGMA data_version: it changes when another connection (another
 * process: a command) committed a change, not with this handle's own; -1
 * if it cannot be read. The scheduler reads the inboxes again then.
 */
int64_t store_data_version(struct store *s);

/*
 * Explicit transactions: BEGIN IMMEDIATE (takes the write lock now, waiting
 * up to the busy timeout), COMMIT, ROLLBACK. If store_commit fails the
 * transaction may still be open: call store_rollback. store_rollback does
 * nothing outside a transaction. Functions below that write several rows do
 * so atomically, inside the caller's transaction when there is one.
 */
int store_begin(struct store *s, struct hearth_err *err);
int store_commit(struct store *s, struct hearth_err *err);
void store_rollback(struct store *s);

/*
 * Settings: key/value strings (e.g. the install's token header name).
 * get: 1 and *value_r (caller frees), 0 when the key is not set, -1.
 * set: inserts or replaces.
 */
int store_setting_get(struct store *s, const char *key, char **value_r,
		      struct hearth_err *err);
int store_setting_set(struct store *s, const char *key, const char *value,
		      struct hearth_err *err);

/* ---- pools: inboxes that warm each other ---- */

struct store_pool {
	int64_t id;
	char *name; /* unique */
	uint64_t seed;
	char *lang; /* content language tag, "en" */
	int64_t created_at;
};

/* A duplicate name: HEARTH_FAIL_PERMANENT "pool NAME already exists". */
int store_pool_add(struct store *s, const char *name, uint64_t seed,
		   const char *lang, int64_t now, int64_t *id_r,
		   struct hearth_err *err);
/* By name / by id: 1 found (*pool_r filled), 0 not found, -1. */
int store_pool_get(struct store *s, const char *name, struct store_pool *pool_r,
		   struct hearth_err *err);
int store_pool_get_id(struct store *s, int64_t id, struct store_pool *pool_r,
		      struct hearth_err *err);
/* All pools ordered by name; *pools_r (may be NULL when *n_r is 0) is the
 * caller's (store_pool_list_free). */
int store_pool_list(struct store *s, struct store_pool **pools_r, size_t *n_r,
		    struct hearth_err *err);
/* Frees the strings and zeroes the struct. */
void store_pool_clear(struct store_pool *pool);
/* Clears n pools, frees the array, sets *pools to NULL. */
void store_pool_list_free(struct store_pool **pools, size_t n);

/* ---- clients: whose inboxes they are ---- */

struct store_client {
	int64_t id;
	char *name;	    /* unique */
	char *display_name; /* NULL: none */
	int64_t created_at;
};

/* display_name may be NULL. A duplicate name: HEARTH_FAIL_PERMANENT
 * "client NAME already exists". */
int store_client_add(struct store *s, const char *name,
		     const char *display_name, int64_t now, int64_t *id_r,
		     struct hearth_err *err);
/* 1 found, 0 not found, -1. */
int store_client_get(struct store *s, const char *name,
		     struct store_client *client_r, struct hearth_err *err);
int store_client_get_id(struct store *s, int64_t id,
			struct store_client *client_r, struct hearth_err *err);
/* All clients ordered by name. */
int store_client_list(struct store *s, struct store_client **clients_r,
		      size_t *n_r, struct hearth_err *err);
void store_client_clear(struct store_client *client);
void store_client_list_free(struct store_client **clients, size_t n);

/* ---- domains ---- */

/*
 * A domain row per sending domain, created on first use. The name is
 * stored in lower case (ASCII letters folded); *id_r is the row's id,
 * whether it was created now or earlier (created_at is then left alone).
 */
int store_domain_ensure(struct store *s, const char *domain, int64_t now,
			int64_t *id_r, struct hearth_err *err);

/* ---- inboxes ---- */

/*
 * One mailbox. The schema checks the enumerated strings, ports 1-65535,
 * "HH:MM" windows, and that the secret matches its kind (vault: sealed
 * bytes and no command; command kinds: a command and no sealed bytes; a
 * removed inbox holds neither).
 */
struct store_inbox {
	int64_t id;
	char *address; /* unique, lower case (ASCII folded on the way in) */
	char *display_name; /* NULL: none */
	int64_t pool_id, client_id, domain_id;
	/* "google", "microsoft", "yahoo", "zoho", "fastmail", "generic" */
	char *provider;
	/* security: "tls", "starttls", "tls_insecure_plaintext" */
	char *smtp_host;
	int smtp_port;
	char *smtp_security;
	char *imap_host;
	int imap_port;
	char *imap_security;
	char *username;
	/* "vault" (sealed secret stored), "command" (password command),
	 * "token_command" (OAuth2 access-token command) */
	char *secret_kind;
	unsigned char *secret_sealed; /* vault only */
	size_t secret_sealed_len;
	char *secret_command;		 /* command kinds only */
	char *ramp_profile;		 /* "safe", "standard", "fast" */
	/* per-inbox ramp overrides (ramp_profile_override syntax), or NULL:
	 * schema v3 */
	char *ramp_overrides;
	char *window_start, *window_end; /* "HH:MM" */
	char *timezone;			 /* IANA name */
	char *state; /* "active", "paused", "removed"; add: NULL = active */
	char *state_reason; /* why paused/removed, or NULL */
	/* the last probe */
	int64_t probed_at; /* 0: never */
	char *probe_error; /* NULL: the probe succeeded */
	char *spam_folder, *sent_folder, *trash_folder, *archive_folder;
	int spam_found_by; /* enum imap_discovery value */
	unsigned caps;	   /* bit set chosen by the caller */
	char *smtp_fingerprint, *imap_fingerprint;
	int64_t created_at;
};

/*
 * Insert every column but id (inbox->id is set on success). The address is
 * stored in lower case. A duplicate address: HEARTH_FAIL_PERMANENT "inbox
 * ADDRESS is already enrolled"; an unknown pool, client or domain, or a
 * value the schema refuses: HEARTH_FAIL_PERMANENT saying which.
 */
int store_inbox_add(struct store *s, struct store_inbox *inbox,
		    struct hearth_err *err);
/*
 * The id the next store_inbox_add() will get (inboxes have no
 * AUTOINCREMENT: the largest id plus one). Inside a transaction begun with
 * store_begin() nothing can take it first: the caller seals the inbox's
 * secret with it (the vault binds a secret to its inbox id) before the
 * insert, and checks the id it got.
 */
int store_inbox_next_id(struct store *s, int64_t *id_r, struct hearth_err *err);
/* Update every column but id/address/created_at of row inbox->id. An
 * unknown id: HEARTH_FAIL_PERMANENT "inbox ID not found". */
int store_inbox_update(struct store *s, const struct store_inbox *inbox,
		       struct hearth_err *err);
/* By address (case-insensitive for ASCII) / by id: 1 found, 0 not, -1. */
int store_inbox_get(struct store *s, const char *address,
		    struct store_inbox *inbox_r, struct hearth_err *err);
int store_inbox_get_id(struct store *s, int64_t id, struct store_inbox *inbox_r,
		       struct hearth_err *err);
/*
 * All inboxes, or those of client_id / pool_id when non-zero, removed ones
 * only with include_removed; ordered by address. *inboxes_r is the caller's
 * (store_inbox_list_free).
 */
int store_inbox_list(struct store *s, int64_t client_id, int64_t pool_id,
		     bool include_removed, struct store_inbox **inboxes_r,
		     size_t *n_r, struct hearth_err *err);
/*
 * Set state ("active", "paused", "removed") and reason (NULL: none).
 * "removed" also wipes the secret, as store_inbox_remove does. An unknown
 * id: HEARTH_FAIL_PERMANENT "inbox ID not found".
 */
int store_inbox_set_state(struct store *s, int64_t id, const char *state,
			  const char *reason, struct hearth_err *err);
/*
 * purge: delete the inbox and all its history (its ramp days, the exchanges
 * it sent or received, their job attempts and its own, its events), in one
 * transaction; replies of other inboxes' exchanges lose their parent link.
 * Else: state "removed", secret wiped (sealed bytes and command set to
 * NULL), history kept. An unknown id: HEARTH_FAIL_PERMANENT "inbox ID not
 * found".
 */
int store_inbox_remove(struct store *s, int64_t id, bool purge,
		       struct hearth_err *err);
/* Frees the strings (secret_sealed and secret_command wiped with
 * explicit_bzero first) and zeroes the struct. */
void store_inbox_clear(struct store_inbox *inbox);
void store_inbox_list_free(struct store_inbox **inboxes, size_t n);

/* ---- the event log ---- */

/*
 * Append-only: never updated or deleted (except by an inbox purge). kind
 * like "inbox.enrolled", "inbox.probe", "inbox.paused" (not empty); detail
 * is free text, may be NULL, never a secret. inbox_id 0: about no inbox.
 */
int store_event_add(struct store *s, int64_t now, const char *kind,
		    int64_t inbox_id, const char *detail,
		    struct hearth_err *err);

struct store_event {
	int64_t id;
	int64_t at;
	char *kind;
	int64_t inbox_id; /* 0: none */
	char *detail;	  /* NULL: none */
};

/*
 * The events of inbox_id (0: all), newest first (the reverse of the order
 * they were added), at most limit of them (0: no limit).
 */
int store_event_list(struct store *s, int64_t inbox_id, size_t limit,
		     struct store_event **events_r, size_t *n_r,
		     struct hearth_err *err);
void store_event_list_free(struct store_event **events, size_t n);

/* ---- ramp days (schema v2): one row per inbox per day ---- */

struct store_ramp_day {
	int64_t inbox_id;
	char day[11]; /* "YYYY-MM-DD", the inbox's local date */
	/* counts, each >= 0 */
	int planned, sent;
	int inbox, spam, other, missing; /* placements */
	int rescued, read, flagged, replied;
	int failed, bounced;
	char *ramp_state; /* the ramp's state that day, or NULL */
	/* schema v3: the ramp's volume for the day (planned may differ:
	 * unplaced volume, replies); failures of those classes */
	int volume;
	int auth_failures, failed_permanent;
	/* schema v4: auto-replies (out of office) to its messages, never
	 * counted as replies */
	int auto_replies;
};

/* Insert the row of (inbox_id, day), or replace its counts and state. */
int store_ramp_day_upsert(struct store *s, const struct store_ramp_day *day,
			  struct hearth_err *err);
/*
 * Add delta's counts (planned .. bounced, auth_failures, failed_permanent;
 * each may be negative, but no count may go below 0) into the row of
 * (delta->inbox_id, delta->day), creating the row (state NULL, volume 0)
 * when missing. delta->ramp_state and delta->volume are ignored.
 */
int store_ramp_day_add(struct store *s, const struct store_ramp_day *delta,
		       struct hearth_err *err);
/*
 * Set the day's plan: volume, planned and ramp_state (NULL clears it) of
 * the row of (inbox_id, day), creating it; the other counts are kept.
 */
int store_ramp_day_set_plan(struct store *s, int64_t inbox_id,
			    const char *day, int volume, int planned,
			    const char *ramp_state, struct hearth_err *err);
/*
 * The rows of inbox_id with day < before (NULL: every row), newest first,
 * at most limit (0: no limit). *days_r is the caller's
 * (store_ramp_day_list_free).
 */
int store_ramp_day_list(struct store *s, int64_t inbox_id, const char *before,
			size_t limit, struct store_ramp_day **days_r,
			size_t *n_r, struct hearth_err *err);
void store_ramp_day_list_free(struct store_ramp_day **days, size_t n);
/* 1 found (*day_r filled), 0 not found, -1. */
int store_ramp_day_get(struct store *s, int64_t inbox_id, const char *day,
		       struct store_ramp_day *day_r, struct hearth_err *err);
void store_ramp_day_clear(struct store_ramp_day *day);

/* ---- exchanges (schema v2): one per warmup message ---- */

struct store_exchange {
	int64_t id;
	int64_t pool_id, sender_inbox_id, recipient_inbox_id;
	int64_t parent_exchange_id; /* 0: none (not a reply) */
	char *token;		    /* unique per exchange */
	char *message_id;	    /* NULL: not assigned yet */
	char *subject;		    /* NULL: not rendered yet */
	int64_t planned_at;
	int64_t sent_at; /* 0: not sent */
	/* "planned" -> "sending" -> "sent" | "failed"; "planned" -> "failed" */
	char *state;
	/* where the recipient found it: "inbox", "spam", "other",
	 * "missing"; NULL: not looked for yet (only a sent one has one) */
	char *placement;
	char *folder;	     /* the folder it was found in, or NULL */
	char *locate_method; /* "token", "message_id", "heuristic", or NULL */
	bool rescued, read, flagged, replied;
	int smtp_code; /* the last SMTP reply code, 0: none */
	char *error;   /* the last failure, or NULL */
	/* schema v3 */
	char day[11];	  /* "YYYY-MM-DD": the sender's ramp day it counts
			     on; "" none */
	int depth;	  /* 0: opens a thread; a reply: its parent's + 1 */
	char *topic;	  /* content topic written on, or NULL */
	char *body;	  /* the text body as sent, or NULL */
	int64_t attempted_at; /* last move to "sending", 0: never */
	/* the next look in the recipient's mailbox is due (0: none) */
	int64_t engage_at;
	int looks;	    /* looks so far */
	int64_t engaged_at; /* placement final, marks done; 0: not yet */
	int64_t sweep_at;   /* retention due (0: none pending) */
	/* schema v4, read only here (store_exchange_bounce and
	 * store_exchange_auto_reply write them) */
	int64_t bounced_at;	 /* a bounce reported it, 0: none */
	char *bounce_status;	 /* "5.1.1", or NULL */
	char *bounce_reason;	 /* the bounce's words, or NULL */
	int64_t auto_replied_at; /* an auto-reply answered it, 0: none */
};

/* A (sender, recipient) pair. */
struct store_pair {
	int64_t sender_id, recipient_id;
};

/* An inbox with work due at `due`. */
struct store_due {
	int64_t inbox_id;
	int64_t due;
};

/* Counts of exchanges (store_exchange_count). */
struct store_exchange_counts {
	int64_t planned, sending, sent, failed;
	int64_t due;	 /* planned with planned_at <= now */
	int64_t engaged; /* sent with engaged_at > 0 */
	int64_t replies; /* depth > 0 */
};

/* A failure reason and how often it occurred (store_exchange_failures). */
struct store_failure {
	char *error;
	int64_t count;
	int64_t last_at; /* the largest attempted_at (or planned_at) */
};

/*
 * Insert a new exchange in state "planned": pool, sender, recipient
 * (different inboxes), parent, token, message_id, subject, planned_at, day
 * ("" stored as NULL), depth and topic are taken from *x, the other fields
 * are ignored; x->id is set on success. A token in use:
 * HEARTH_FAIL_PERMANENT "exchange token already in use".
 */
int store_exchange_add(struct store *s, struct store_exchange *x,
		       struct hearth_err *err);
/* 1 found (*x_r filled), 0 not found, -1. */
int store_exchange_get(struct store *s, int64_t id, struct store_exchange *x_r,
		       struct hearth_err *err);
/*
 * Move exchange id to state, recording smtp_code and error (0 / NULL clear
 * them); "sent" also sets sent_at to now. A change the state machine does
 * not allow, or an unknown state: HEARTH_FAIL_PERMANENT; an unknown id:
 * HEARTH_FAIL_PERMANENT "exchange ID not found".
 */
int store_exchange_set_state(struct store *s, int64_t id, const char *state,
			     int64_t now, int smtp_code, const char *error,
			     struct hearth_err *err);
/*
 * Record what the recipient's session found for exchange x->id: placement,
 * folder, locate_method, rescued, read, flagged, replied. Only a sent
 * exchange can have a placement.
 */
int store_exchange_set_placement(struct store *s,
				 const struct store_exchange *x,
				 struct hearth_err *err);
/*
 * Write every field of x->id but id, pool, sender, recipient, parent,
 * token and planned_at: state (through the state machine), message_id,
 * subject, topic, body, sent_at, attempted_at, placement, folder,
 * locate_method, rescued, read, flagged, replied, smtp_code, error, day,
 * depth, engage_at, looks, engaged_at, sweep_at. An unknown id:
 * HEARTH_FAIL_PERMANENT "exchange ID not found".
 */
int store_exchange_update(struct store *s, const struct store_exchange *x,
			  struct hearth_err *err);
/*
 * Exchanges in `state` with planned_at <= until, ordered by planned_at then
 * id, at most limit (0: no limit). *xs_r is the caller's
 * (store_exchange_list_free).
 */
int store_exchange_list_state(struct store *s, const char *state,
			      int64_t until, size_t limit,
			      struct store_exchange **xs_r, size_t *n_r,
			      struct hearth_err *err);
/*
 * The exchanges recipient_id has work due on at now: engage_at or sweep_at
 * in (0, now], ordered by the earlier of the two (the non-zero ones) then
 * id, at most limit (0: no limit).
 */
int store_exchange_list_engage(struct store *s, int64_t recipient_id,
			       int64_t now, size_t limit,
			       struct store_exchange **xs_r, size_t *n_r,
			       struct hearth_err *err);
/*
 * Per recipient inbox with engage or sweep work pending (engage_at > 0 or
 * sweep_at > 0), the earliest such time; recipient_id 0: every recipient,
 * ordered by inbox id; else at most that one.
 */
int store_exchange_engage_due(struct store *s, int64_t recipient_id,
			      struct store_due **dues_r, size_t *n_r,
			      struct hearth_err *err);
/*
 * The distinct (sender, recipient) pairs of pool_id's exchanges of depth 0
 * planned in [from, to).
 */
int store_exchange_pairs(struct store *s, int64_t pool_id, int64_t from,
			 int64_t to, struct store_pair **pairs_r, size_t *n_r,
			 struct hearth_err *err);
/*
 * Counts over the exchanges whose day is `day` (NULL: every day) and sender
 * is sender_id (0: any), of pool_id (0: any pool); `due` counts planned
 * ones with planned_at <= now.
 */
int store_exchange_count(struct store *s, int64_t pool_id, int64_t sender_id,
			 const char *day, int64_t now,
			 struct store_exchange_counts *counts_r,
			 struct hearth_err *err);
/*
 * The failed exchanges of pool_id (0: any) with day `day` (NULL: any)
 * grouped by error (NULL errors as "unknown"), most frequent first, at
 * most limit (0: no limit).
 */
int store_exchange_failures(struct store *s, int64_t pool_id, const char *day,
			    size_t limit, struct store_failure **failures_r,
			    size_t *n_r, struct hearth_err *err);
void store_failure_list_free(struct store_failure **failures, size_t n);
/*
 * The exchange a bounce or an auto-reply reports on: by token (when not
 * NULL or ""), else (or when no exchange has that token) by Message-ID
 * (with or without <>). Only exchanges sent
 * by sender_id count: a notice in an inbox is about that inbox's own mail.
 * 1 found (*x_r), 0 none, -1.
 */
int store_exchange_find(struct store *s, int64_t sender_id, const char *token,
			const char *message_id, struct store_exchange *x_r,
			struct hearth_err *err);
/*
 * Record a bounce of exchange id at `at` (status and reason may be NULL):
 * 1 recorded, 0 when one was already recorded (nothing changes), -1.
 */
int store_exchange_bounce(struct store *s, int64_t id, int64_t at,
			  const char *status, const char *reason,
			  struct hearth_err *err);
/* Record an auto-reply to exchange id: 1 recorded, 0 already, -1. */
int store_exchange_auto_reply(struct store *s, int64_t id, int64_t at,
			      struct hearth_err *err);
void store_exchange_clear(struct store_exchange *x);
void store_exchange_list_free(struct store_exchange **xs, size_t n);

/* ---- plan days (schema v3): one row per pool per planned day ---- */

struct store_plan_day {
	int64_t pool_id;
	char day[11]; /* "YYYY-MM-DD" */
	int64_t planned_at;
	int sends, unplaced;
	unsigned relaxed; /* enum planner_relax bits */
};

/* Record that (pool_id, day) is planned. Already recorded:
 * HEARTH_FAIL_PERMANENT "pool ID day DAY is already planned". */
int store_plan_day_add(struct store *s, const struct store_plan_day *p,
		       struct hearth_err *err);
/* 1 found (*p_r filled), 0 not planned, -1. */
int store_plan_day_get(struct store *s, int64_t pool_id, const char *day,
		       struct store_plan_day *p_r, struct hearth_err *err);
/* The most recent planned day of pool_id: 1 (*p_r), 0 none, -1. */
int store_plan_day_last(struct store *s, int64_t pool_id,
			struct store_plan_day *p_r, struct hearth_err *err);

/* ---- domain checks (schema v4): SPF, DKIM, DMARC, MX, blacklists ---- */

struct store_domain_check {
	int64_t domain_id;
	char *domain; /* the domain's name (read only) */
	int64_t checked_at;
	char *worst;   /* "pass", "warn", "unknown", "fail" */
	char *failure; /* the first failing finding in a sentence, or NULL */
	char *report;  /* the findings (check.h's JSON) */
};

/* Record a check of domain_id at checked_at (domain is ignored). */
int store_domain_check_add(struct store *s, const struct store_domain_check *c,
			   struct hearth_err *err);
/*
 * The newest check of each domain (domain_id 0: every domain checked, by
 * name; else at most that one), none newer than as_of (0: any).
 */
int store_domain_check_latest(struct store *s, int64_t domain_id,
			      int64_t as_of,
			      struct store_domain_check **checks_r, size_t *n_r,
			      struct hearth_err *err);
void store_domain_check_clear(struct store_domain_check *c);
void store_domain_check_list_free(struct store_domain_check **checks, size_t n);

/* ---- job attempts (schema v2): one per network job run ---- */

struct store_job_attempt {
	int64_t id;
	int64_t exchange_id; /* 0: not about one exchange */
	int64_t inbox_id;
	char *job_type; /* "send", "engage", "probe", "sweep" */
	int64_t started_at, finished_at;
	char *result;	  /* "ok", "failed", ...: not empty */
	char *fail_class; /* hearth_fail_name() of the failure, or NULL */
	int code;	  /* SMTP reply code, errno...; 0: none */
	char *message;	  /* what failed, never a secret; or NULL */
};

/* Insert every field but id (a->id is set on success). */
int store_job_attempt_add(struct store *s, struct store_job_attempt *a,
			  struct hearth_err *err);
/* The attempts of inbox_id, newest first, at most limit (0: no limit). */
int store_job_attempt_list(struct store *s, int64_t inbox_id, size_t limit,
			   struct store_job_attempt **attempts_r, size_t *n_r,
			   struct hearth_err *err);
void store_job_attempt_list_free(struct store_job_attempt **attempts, size_t n);

#endif
