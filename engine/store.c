// SPDX-License-Identifier: MIT
/*
 * The store's core: opening and migrating the database, transactions, the
 * statement cache and error mapping shared by store_*.c, the settings and
 * the event log. The tables are STRICT so a value of the wrong type is
 * refused instead of silently stored.
 */
#include "store_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hearth/xalloc.h"

#define STORE_BUSY_TIMEOUT_MSECS 5000
/* STRICT tables came with 3.37.0 */
#define STORE_MIN_SQLITE_VERSION 3037000
/* PRAGMA application_id of a hearth database: "HRTH" */
#define STORE_APPLICATION_ID 0x48525448

/*
 * Migration N takes a database from schema version N - 1 to N and ends by
 * setting user_version to N. Released migrations are never edited: a change
 * is a new migration.
 */
/* clang-format off */
static const char migration_1[] =
	"PRAGMA application_id = 1213355080;\n"
	"CREATE TABLE pools (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  name TEXT NOT NULL UNIQUE CHECK (name <> ''),\n"
	"  seed INTEGER NOT NULL,\n"
	"  lang TEXT NOT NULL CHECK (lang <> ''),\n"
	"  created_at INTEGER NOT NULL\n"
	") STRICT;\n"
	"CREATE TABLE clients (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  name TEXT NOT NULL UNIQUE CHECK (name <> ''),\n"
	"  display_name TEXT,\n"
	"  created_at INTEGER NOT NULL\n"
	") STRICT;\n"
	"CREATE TABLE domains (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  name TEXT NOT NULL UNIQUE\n"
	"    CHECK (name <> '' AND name = lower(name)),\n"
	"  created_at INTEGER NOT NULL\n"
	") STRICT;\n"
	"CREATE TABLE inboxes (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  address TEXT NOT NULL UNIQUE\n"
	"    CHECK (address LIKE '_%@_%' AND address = lower(address)),\n"
	"  display_name TEXT,\n"
	"  pool_id INTEGER NOT NULL REFERENCES pools (id),\n"
	"  client_id INTEGER NOT NULL REFERENCES clients (id),\n"
	"  domain_id INTEGER NOT NULL REFERENCES domains (id),\n"
	"  provider TEXT NOT NULL CHECK (provider IN ('google', 'microsoft',\n"
	"    'yahoo', 'zoho', 'fastmail', 'generic')),\n"
	"  smtp_host TEXT NOT NULL CHECK (smtp_host <> ''),\n"
	"  smtp_port INTEGER NOT NULL CHECK (smtp_port BETWEEN 1 AND 65535),\n"
	"  smtp_security TEXT NOT NULL\n"
	"    CHECK (smtp_security IN ('tls', 'starttls',\n"
	"      'tls_insecure_plaintext')),\n"
	"  imap_host TEXT NOT NULL CHECK (imap_host <> ''),\n"
	"  imap_port INTEGER NOT NULL CHECK (imap_port BETWEEN 1 AND 65535),\n"
	"  imap_security TEXT NOT NULL\n"
	"    CHECK (imap_security IN ('tls', 'starttls',\n"
	"      'tls_insecure_plaintext')),\n"
	"  username TEXT NOT NULL CHECK (username <> ''),\n"
	"  secret_kind TEXT NOT NULL\n"
	"    CHECK (secret_kind IN ('vault', 'command', 'token_command')),\n"
	"  secret_sealed BLOB,\n"
	"  secret_command TEXT,\n"
	"  ramp_profile TEXT NOT NULL\n"
	"    CHECK (ramp_profile IN ('safe', 'standard', 'fast')),\n"
	"  window_start TEXT NOT NULL\n"
	"    CHECK (window_start GLOB '[01][0-9]:[0-5][0-9]'\n"
	"      OR window_start GLOB '2[0-3]:[0-5][0-9]'),\n"
	"  window_end TEXT NOT NULL\n"
	"    CHECK (window_end GLOB '[01][0-9]:[0-5][0-9]'\n"
	"      OR window_end GLOB '2[0-3]:[0-5][0-9]'),\n"
	"  timezone TEXT NOT NULL CHECK (timezone <> ''),\n"
	"  state TEXT NOT NULL DEFAULT 'active'\n"
	"    CHECK (state IN ('active', 'paused', 'removed')),\n"
	"  state_reason TEXT,\n"
	"  probed_at INTEGER NOT NULL DEFAULT 0,\n"
	"  probe_error TEXT,\n"
	"  spam_folder TEXT,\n"
	"  sent_folder TEXT,\n"
	"  trash_folder TEXT,\n"
	"  archive_folder TEXT,\n"
	"  spam_found_by INTEGER NOT NULL DEFAULT 0,\n"
	"  caps INTEGER NOT NULL DEFAULT 0,\n"
	"  smtp_fingerprint TEXT,\n"
	"  imap_fingerprint TEXT,\n"
	"  created_at INTEGER NOT NULL,\n"
	"  CONSTRAINT secret_matches_kind CHECK (\n"
	"    (state = 'removed' AND secret_sealed IS NULL\n"
	"      AND secret_command IS NULL)\n"
	"    OR (state <> 'removed' AND secret_kind = 'vault'\n"
	"      AND secret_sealed IS NOT NULL AND secret_command IS NULL)\n"
	"    OR (state <> 'removed' AND secret_kind <> 'vault'\n"
	"      AND secret_command IS NOT NULL AND secret_sealed IS NULL))\n"
	") STRICT;\n"
	"CREATE INDEX inboxes_pool ON inboxes (pool_id, state);\n"
	"CREATE INDEX inboxes_client ON inboxes (client_id);\n"
	"CREATE INDEX inboxes_domain ON inboxes (domain_id);\n"
	"CREATE TABLE settings (\n"
	"  key TEXT NOT NULL PRIMARY KEY CHECK (key <> ''),\n"
	"  value TEXT NOT NULL\n"
	") STRICT, WITHOUT ROWID;\n"
	"CREATE TABLE events (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  at INTEGER NOT NULL,\n"
	"  kind TEXT NOT NULL CHECK (kind <> ''),\n"
	"  inbox_id INTEGER REFERENCES inboxes (id) ON DELETE CASCADE,\n"
	"  detail TEXT\n"
	") STRICT;\n"
	"CREATE INDEX events_inbox ON events (inbox_id);\n"
	/* the log is append-only; the one exception is the cascade from
	 * purging an inbox, when its row is already gone */
	"CREATE TRIGGER events_no_update BEFORE UPDATE ON events\n"
	"BEGIN\n"
	"  SELECT RAISE(ABORT, 'the event log is append-only');\n"
	"END;\n"
	"CREATE TRIGGER events_no_delete BEFORE DELETE ON events\n"
	"WHEN OLD.inbox_id IS NULL\n"
	"  OR EXISTS (SELECT 1 FROM inboxes WHERE id = OLD.inbox_id)\n"
	"BEGIN\n"
	"  SELECT RAISE(ABORT, 'the event log is append-only');\n"
	"END;\n"
	"PRAGMA user_version = 1;\n";

static const char migration_2[] =
	"CREATE TABLE ramp_days (\n"
	"  inbox_id INTEGER NOT NULL REFERENCES inboxes (id),\n"
	"  day TEXT NOT NULL\n"
	"    CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),\n"
	"  planned INTEGER NOT NULL DEFAULT 0 CHECK (planned >= 0),\n"
	"  sent INTEGER NOT NULL DEFAULT 0 CHECK (sent >= 0),\n"
	"  inbox INTEGER NOT NULL DEFAULT 0 CHECK (inbox >= 0),\n"
	"  spam INTEGER NOT NULL DEFAULT 0 CHECK (spam >= 0),\n"
	"  other INTEGER NOT NULL DEFAULT 0 CHECK (other >= 0),\n"
	"  missing INTEGER NOT NULL DEFAULT 0 CHECK (missing >= 0),\n"
	"  rescued INTEGER NOT NULL DEFAULT 0 CHECK (rescued >= 0),\n"
	"  read INTEGER NOT NULL DEFAULT 0 CHECK (read >= 0),\n"
	"  flagged INTEGER NOT NULL DEFAULT 0 CHECK (flagged >= 0),\n"
	"  replied INTEGER NOT NULL DEFAULT 0 CHECK (replied >= 0),\n"
	"  failed INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0),\n"
	"  bounced INTEGER NOT NULL DEFAULT 0 CHECK (bounced >= 0),\n"
	"  ramp_state TEXT,\n"
	"  PRIMARY KEY (inbox_id, day)\n"
	") STRICT, WITHOUT ROWID;\n"
	"CREATE INDEX ramp_days_day ON ramp_days (day);\n"
	"CREATE TABLE exchanges (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  pool_id INTEGER NOT NULL REFERENCES pools (id),\n"
	"  sender_inbox_id INTEGER NOT NULL REFERENCES inboxes (id),\n"
	"  recipient_inbox_id INTEGER NOT NULL REFERENCES inboxes (id),\n"
	"  parent_exchange_id INTEGER\n"
	"    REFERENCES exchanges (id) ON DELETE SET NULL,\n"
	"  token TEXT NOT NULL UNIQUE CHECK (token <> ''),\n"
	"  message_id TEXT,\n"
	"  subject TEXT,\n"
	"  planned_at INTEGER NOT NULL,\n"
	"  sent_at INTEGER NOT NULL DEFAULT 0,\n"
	"  state TEXT NOT NULL DEFAULT 'planned'\n"
	"    CHECK (state IN ('planned', 'sending', 'sent', 'failed')),\n"
	"  placement TEXT\n"
	"    CHECK (placement IN ('inbox', 'spam', 'other', 'missing')),\n"
	"  folder TEXT,\n"
	"  locate_method TEXT\n"
	"    CHECK (locate_method IN ('token', 'message_id', 'heuristic')),\n"
	"  rescued INTEGER NOT NULL DEFAULT 0 CHECK (rescued IN (0, 1)),\n"
	"  read INTEGER NOT NULL DEFAULT 0 CHECK (read IN (0, 1)),\n"
	"  flagged INTEGER NOT NULL DEFAULT 0 CHECK (flagged IN (0, 1)),\n"
	"  replied INTEGER NOT NULL DEFAULT 0 CHECK (replied IN (0, 1)),\n"
	"  smtp_code INTEGER NOT NULL DEFAULT 0,\n"
	"  error TEXT,\n"
	"  CONSTRAINT sender_is_not_recipient\n"
	"    CHECK (sender_inbox_id <> recipient_inbox_id),\n"
	"  CONSTRAINT sent_has_sent_at\n"
	"    CHECK (state <> 'sent' OR sent_at > 0),\n"
	"  CONSTRAINT placement_only_when_sent\n"
	"    CHECK (placement IS NULL OR state = 'sent')\n"
	") STRICT;\n"
	"CREATE INDEX exchanges_due ON exchanges (state, planned_at);\n"
	"CREATE INDEX exchanges_recipient\n"
	"  ON exchanges (recipient_inbox_id, state);\n"
	"CREATE INDEX exchanges_sender\n"
	"  ON exchanges (sender_inbox_id, planned_at);\n"
	"CREATE INDEX exchanges_parent ON exchanges (parent_exchange_id);\n"
	/* a CHECK sees only the new row: the transitions need a trigger;
	 * an unknown state is left to the CHECK, which names it */
	"CREATE TRIGGER exchanges_state_machine\n"
	"BEFORE UPDATE OF state ON exchanges\n"
	"WHEN NEW.state IN ('planned', 'sending', 'sent', 'failed')\n"
	"  AND NOT (NEW.state = OLD.state\n"
	"  OR (OLD.state = 'planned' AND NEW.state IN ('sending', 'failed'))\n"
	"  OR (OLD.state = 'sending' AND NEW.state IN ('sent', 'failed')))\n"
	"BEGIN\n"
	"  SELECT RAISE(ABORT, 'exchange state change not allowed: planned ->"
	" sending -> sent | failed');\n"
	"END;\n"
	"CREATE TABLE job_attempts (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  exchange_id INTEGER REFERENCES exchanges (id),\n"
	"  inbox_id INTEGER NOT NULL REFERENCES inboxes (id),\n"
	"  job_type TEXT NOT NULL\n"
	"    CHECK (job_type IN ('send', 'engage', 'probe', 'sweep')),\n"
	"  started_at INTEGER NOT NULL,\n"
	"  finished_at INTEGER NOT NULL CHECK (finished_at >= started_at),\n"
	"  result TEXT NOT NULL CHECK (result <> ''),\n"
	"  fail_class TEXT CHECK (fail_class IN ('retry', 'backoff',\n"
	"    'permanent', 'auth', 'tls')),\n"
	"  code INTEGER NOT NULL DEFAULT 0,\n"
	"  message TEXT\n"
	") STRICT;\n"
	"CREATE INDEX job_attempts_inbox\n"
	"  ON job_attempts (inbox_id, started_at);\n"
	"CREATE INDEX job_attempts_exchange ON job_attempts (exchange_id);\n"
	"PRAGMA user_version = 2;\n";

/*
 * The warmup loop. Pending work is marked by a non-zero engage_at or
 * sweep_at, reset to 0 once done: the partial indexes hold only pending
 * rows, so the scheduler's look for due work stays small however long the
 * history grows.
 */
static const char migration_3[] =
	"ALTER TABLE exchanges ADD COLUMN day TEXT CHECK (day IS NULL\n"
	"  OR day GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]');\n"
	"ALTER TABLE exchanges ADD COLUMN depth INTEGER NOT NULL DEFAULT 0\n"
	"  CHECK (depth >= 0);\n"
	"ALTER TABLE exchanges ADD COLUMN topic TEXT;\n"
	"ALTER TABLE exchanges ADD COLUMN body TEXT;\n"
	"ALTER TABLE exchanges ADD COLUMN attempted_at INTEGER NOT NULL\n"
	"  DEFAULT 0;\n"
	"ALTER TABLE exchanges ADD COLUMN engage_at INTEGER NOT NULL\n"
	"  DEFAULT 0;\n"
	"ALTER TABLE exchanges ADD COLUMN looks INTEGER NOT NULL DEFAULT 0\n"
	"  CHECK (looks >= 0);\n"
	"ALTER TABLE exchanges ADD COLUMN engaged_at INTEGER NOT NULL\n"
	"  DEFAULT 0;\n"
	"ALTER TABLE exchanges ADD COLUMN sweep_at INTEGER NOT NULL\n"
	"  DEFAULT 0;\n"
	"CREATE INDEX exchanges_engage\n"
	"  ON exchanges (recipient_inbox_id, engage_at) WHERE engage_at > 0;\n"
	"CREATE INDEX exchanges_sweep\n"
	"  ON exchanges (recipient_inbox_id, sweep_at) WHERE sweep_at > 0;\n"
	"CREATE INDEX exchanges_day ON exchanges (day, sender_inbox_id);\n"
	"CREATE INDEX exchanges_pool ON exchanges (pool_id, planned_at);\n"
	"ALTER TABLE ramp_days ADD COLUMN volume INTEGER NOT NULL DEFAULT 0\n"
	"  CHECK (volume >= 0);\n"
	"ALTER TABLE ramp_days ADD COLUMN auth_failures INTEGER NOT NULL\n"
	"  DEFAULT 0 CHECK (auth_failures >= 0);\n"
	"ALTER TABLE ramp_days ADD COLUMN failed_permanent INTEGER NOT NULL\n"
	"  DEFAULT 0 CHECK (failed_permanent >= 0);\n"
	"ALTER TABLE inboxes ADD COLUMN ramp_overrides TEXT;\n"
	"CREATE TABLE plan_days (\n"
	"  pool_id INTEGER NOT NULL REFERENCES pools (id),\n"
	"  day TEXT NOT NULL\n"
	"    CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),\n"
	"  planned_at INTEGER NOT NULL,\n"
	"  sends INTEGER NOT NULL CHECK (sends >= 0),\n"
	"  unplaced INTEGER NOT NULL CHECK (unplaced >= 0),\n"
	"  relaxed INTEGER NOT NULL DEFAULT 0,\n"
	"  PRIMARY KEY (pool_id, day)\n"
	") STRICT, WITHOUT ROWID;\n"
	"PRAGMA user_version = 3;\n";

/*
 * Deliverability: bounces and auto-replies tied to the exchange they
 * report on, and each domain's check results (the newest row per domain is
 * the domain's state; older ones are history).
 */
static const char migration_4[] =
	"ALTER TABLE exchanges ADD COLUMN bounced_at INTEGER NOT NULL\n"
	"  DEFAULT 0;\n"
	"ALTER TABLE exchanges ADD COLUMN bounce_status TEXT;\n"
	"ALTER TABLE exchanges ADD COLUMN bounce_reason TEXT;\n"
	"ALTER TABLE exchanges ADD COLUMN auto_replied_at INTEGER NOT NULL\n"
	"  DEFAULT 0;\n"
	"CREATE INDEX exchanges_message_id ON exchanges (message_id)\n"
	"  WHERE message_id IS NOT NULL;\n"
	"ALTER TABLE ramp_days ADD COLUMN auto_replies INTEGER NOT NULL\n"
	"  DEFAULT 0 CHECK (auto_replies >= 0);\n"
	"CREATE TABLE domain_checks (\n"
	"  domain_id INTEGER NOT NULL REFERENCES domains (id),\n"
	"  checked_at INTEGER NOT NULL,\n"
	"  worst TEXT NOT NULL\n"
	"    CHECK (worst IN ('pass', 'warn', 'unknown', 'fail')),\n"
	"  failure TEXT,\n"
	"  report TEXT NOT NULL CHECK (json_valid(report)),\n"
	"  PRIMARY KEY (domain_id, checked_at)\n"
	") STRICT, WITHOUT ROWID;\n"
	"PRAGMA user_version = 4;\n";
/* clang-format on */

static const char *const migrations[STORE_SCHEMA_VERSION] = {
    migration_1,
    migration_2,
    migration_3,
    migration_4,
};

/* ---- helpers shared by store_*.c ---- */

sqlite3_stmt *store_stmt(struct store *s, enum store_sql id, const char *sql,
			 struct hearth_err *err)
{
	int rc;

	if (s->stmt[id] != NULL)
		return s->stmt[id];
	rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				&s->stmt[id], NULL);
	if (rc != SQLITE_OK) {
		store_fail(s, rc, err, "prepare statement");
		sqlite3_finalize(s->stmt[id]);
		s->stmt[id] = NULL;
	}
	return s->stmt[id];
}

void store_stmt_done(sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

int store_fail(struct store *s, int rc, struct hearth_err *err, const char *fmt,
	       ...)
{
	char what[160];
	const char *why;
	enum hearth_fail fail = HEARTH_FAIL_PERMANENT;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* sqlite3_errmsg() describes the last call on the handle, which is
	 * not the failing one when rc came from a bind */
	if (s != NULL && s->db != NULL && sqlite3_extended_errcode(s->db) == rc)
		why = sqlite3_errmsg(s->db);
	else
		why = sqlite3_errstr(rc);
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		fail = HEARTH_FAIL_RETRY;
	/* SQLite does not say which key: say what it means here, where rows
	 * are only deleted after everything that refers to them */
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		hearth_err_set(err, fail, rc,
			       "%s: it refers to a row that does not exist "
			       "(%s)",
			       what, why);
	else
		hearth_err_set(err, fail, rc, "%s: %s", what, why);
	return -1;
}

int store_step_done(struct store *s, sqlite3_stmt *st, struct hearth_err *err,
		    const char *what)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		store_stmt_done(st);
		return 0;
	}
	store_fail(s, rc, err, "%s", what);
	store_stmt_done(st);
	return -1;
}

int store_get_row(struct store *s, sqlite3_stmt *st, int rc, store_row_fn *row,
		  void *out, struct hearth_err *err, const char *what)
{
	int ret = -1;

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row(st, out);
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		store_fail(s, rc, err, "%s", what);
	}
	store_stmt_done(st);
	return ret;
}

void *store_get_rows(struct store *s, sqlite3_stmt *st, int rc,
		     store_row_fn *row, store_clear_fn *clear, size_t size,
		     size_t *n_r, int *ret_r, struct hearth_err *err,
		     const char *what)
{
	unsigned char *array = NULL;
	size_t n = 0, cap = 0;

	*n_r = 0;
	*ret_r = -1;
	if (rc == SQLITE_OK) {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			array = store_grow(array, n, &cap, size);
			memset(array + n * size, 0, size);
			row(st, array + n * size);
			n++;
		}
	}
	if (rc != SQLITE_DONE) {
		store_fail(s, rc, err, "%s", what);
		store_stmt_done(st);
		for (size_t i = 0; i < n; i++)
			clear(array + i * size);
		free(array);
		return NULL;
	}
	store_stmt_done(st);
	*n_r = n;
	*ret_r = 0;
	return array;
}

int store_step_insert(struct store *s, sqlite3_stmt *st, int rc, int64_t *id_r,
		      const char *dup, struct hearth_err *err, const char *what)
{
	int ret = -1;

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		if (id_r != NULL)
			*id_r = sqlite3_last_insert_rowid(s->db);
		ret = 0;
	} else if ((rc == SQLITE_CONSTRAINT_UNIQUE ||
		    rc == SQLITE_CONSTRAINT_PRIMARYKEY) &&
		   dup != NULL) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, rc, "%s", dup);
	} else {
		store_fail(s, rc, err, "%s", what);
	}
	store_stmt_done(st);
	return ret;
}

int store_step_change(struct store *s, sqlite3_stmt *st, int rc,
		      const char *not_found, struct hearth_err *err,
		      const char *what)
{
	int ret = -1;

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		store_fail(s, rc, err, "%s", what);
	else if (sqlite3_changes(s->db) == 0)
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0, "%s", not_found);
	else
		ret = 0;
	store_stmt_done(st);
	return ret;
}

void store_bind_text(sqlite3_stmt *st, int i, const char *v, int *rc)
{
	if (*rc == SQLITE_OK)
		*rc = sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

void store_bind_blob(sqlite3_stmt *st, int i, const void *v, size_t len,
		     int *rc)
{
	if (*rc != SQLITE_OK)
		return;
	if (v == NULL)
		*rc = sqlite3_bind_null(st, i);
	else
		*rc = sqlite3_bind_blob64(st, i, v, len, SQLITE_STATIC);
}

void store_bind_int64(sqlite3_stmt *st, int i, int64_t v, int *rc)
{
	if (*rc == SQLITE_OK)
		*rc = sqlite3_bind_int64(st, i, v);
}

void store_bind_id(sqlite3_stmt *st, int i, int64_t id, int *rc)
{
	if (*rc != SQLITE_OK)
		return;
	if (id == 0)
		*rc = sqlite3_bind_null(st, i);
	else
		*rc = sqlite3_bind_int64(st, i, id);
}

/* SQLite returns NULL for a non-NULL value only when out of memory: treat
 * it like xmalloc does */
static void store_oom(void)
{
	fputs("hearth: out of memory reading the database\n", stderr);
	abort();
}

char *store_col_text(sqlite3_stmt *st, int col)
{
	const unsigned char *v;

	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return NULL;
	v = sqlite3_column_text(st, col);
	if (v == NULL)
		store_oom();
	return xstrdup((const char *)v);
}

void store_col_blob(sqlite3_stmt *st, int col, unsigned char **v_r,
		    size_t *len_r)
{
	const void *v;
	int len;

	*v_r = NULL;
	*len_r = 0;
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return;
	v = sqlite3_column_blob(st, col);
	len = sqlite3_column_bytes(st, col);
	if (v == NULL && len > 0)
		store_oom();
	*v_r = xmalloc(len > 0 ? (size_t)len : 1);
	if (len > 0)
		memcpy(*v_r, v, (size_t)len);
	*len_r = (size_t)len;
}

void *store_grow(void *array, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return array;
	*cap = *cap == 0 ? 16 : *cap * 2;
	return xreallocarray(array, *cap, size);
}

char *store_lower(const char *s)
{
	char *l = xstrdup(s);

	for (char *p = l; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return l;
}

/* Run one cached statement that returns nothing (transaction control). */
static int store_run(struct store *s, enum store_sql id, const char *sql,
		     struct hearth_err *err, const char *what)
{
	sqlite3_stmt *st = store_stmt(s, id, sql, err);

	if (st == NULL)
		return -1;
	return store_step_done(s, st, err, what);
}

int store_op_begin(struct store *s, bool *nested_r, struct hearth_err *err)
{
	*nested_r = !sqlite3_get_autocommit(s->db);
	if (*nested_r)
		return store_run(s, STORE_SQL_SAVEPOINT, "SAVEPOINT store_op",
				 err, "start savepoint");
	return store_begin(s, err);
}

int store_op_end(struct store *s, bool nested, bool ok, struct hearth_err *err)
{
	if (nested) {
		if (!ok)
			store_run(s, STORE_SQL_ROLLBACK_TO,
				  "ROLLBACK TO store_op", NULL, "");
		/* after ROLLBACK TO the savepoint is still open */
		if (store_run(s, STORE_SQL_RELEASE, "RELEASE store_op",
			      ok ? err : NULL, "release savepoint") < 0)
			return -1;
		return 0;
	}
	if (!ok) {
		store_rollback(s);
		return 0;
	}
	if (store_commit(s, err) < 0) {
		store_rollback(s);
		return -1;
	}
	return 0;
}

/* ---- open, migrate, close ---- */

/*
 * Run a constant script (DDL, pragmas) statement by statement, stepping
 * each to the end. Scripts carry no values, so nothing here is bound.
 */
static int store_exec_script(struct store *s, const char *sql,
			     struct hearth_err *err, const char *what)
{
	const char *tail = sql;

	while (*tail != '\0') {
		sqlite3_stmt *st = NULL;
		const char *next = NULL;
		int rc = sqlite3_prepare_v3(s->db, tail, -1, 0, &st, &next);

		if (rc != SQLITE_OK)
			return store_fail(s, rc, err, "%s", what);
		if (st == NULL) /* only blanks or comments were left */
			break;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
		if (rc != SQLITE_DONE) {
			store_fail(s, rc, err, "%s", what);
			sqlite3_finalize(st);
			return -1;
		}
		sqlite3_finalize(st);
		tail = next;
	}
	return 0;
}

/* The integer (or with text_r: the text) of a one-row query. */
static int store_query_one(struct store *s, const char *sql, int64_t *v_r,
			   char **text_r, struct hearth_err *err,
			   const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v3(s->db, sql, -1, 0, &st, NULL);

	if (rc != SQLITE_OK)
		return store_fail(s, rc, err, "%s", what);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
				       "%s: no answer (is the SQLite library "
				       "built without it?)",
				       what);
		else
			store_fail(s, rc, err, "%s", what);
		sqlite3_finalize(st);
		return -1;
	}
	if (v_r != NULL)
		*v_r = sqlite3_column_int64(st, 0);
	if (text_r != NULL)
		*text_r = store_col_text(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/*
 * Create the file ourselves so it is 0600 from the first byte: SQLite
 * would create it 0644 minus the umask, and gives its -wal and -shm files
 * the database file's mode.
 */
static int store_create_file(const char *path, struct hearth_err *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		      0600);

	if (fd < 0) {
		if (errno == EEXIST)
			return 0;
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, errno,
			       "create database %s: %s", path, strerror(errno));
		return -1;
	}
	/* the umask may have taken bits away, never add any: make it exact */
	if (fchmod(fd, 0600) < 0) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, errno,
			       "create database %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Is this some other application's database? */
static int store_check_identity(struct store *s, int64_t version,
				struct hearth_err *err)
{
	int64_t app_id, n_objects;

	if (store_query_one(s, "PRAGMA application_id", &app_id, NULL, err,
			    "read the application id") < 0)
		return -1;
	if (app_id != 0 && app_id != STORE_APPLICATION_ID) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "%s is not a hearth database (application id "
			       "%#llx)",
			       s->path, (unsigned long long)app_id);
		return -1;
	}
	if (version > STORE_SCHEMA_VERSION) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "database schema version %lld is newer than "
			       "this hearth understands (%d): upgrade hearth",
			       (long long)version, STORE_SCHEMA_VERSION);
		return -1;
	}
	if (version > 0)
		return 0;
	if (store_query_one(s, "SELECT count(*) FROM sqlite_schema", &n_objects,
			    NULL, err, "read the schema") < 0)
		return -1;
	if (n_objects > 0) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "%s is not a hearth database (it has tables "
			       "but no hearth schema version)",
			       s->path);
		return -1;
	}
	return 0;
}

/*
 * Apply migrations up to target, each in its own transaction. The version
 * is read again inside the transaction: another process may have migrated
 * the file since we looked.
 */
static int store_migrate(struct store *s, int64_t version, int target,
			 struct hearth_err *err)
{
	char what[64];

	for (int v = (int)version + 1; v <= target; v++) {
		int64_t now_version;

		if (store_begin(s, err) < 0)
			return -1;
		if (store_query_one(s, "PRAGMA user_version", &now_version,
				    NULL, err, "read the schema version") < 0 ||
		    store_check_identity(s, now_version, err) < 0)
			goto fail;
		if (now_version >= v) {
			if (store_commit(s, err) < 0)
				goto fail;
			continue;
		}
		snprintf(what, sizeof(what),
			 "migrate the database to schema version %d", v);
		if (store_exec_script(s, migrations[v - 1], err, what) < 0)
			goto fail;
		if (store_commit(s, err) < 0)
			goto fail;
	}
	return 0;
fail:
	store_rollback(s);
	return -1;
}

static int store_configure(struct store *s, struct hearth_err *err)
{
	int64_t fk;

	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MSECS);
	/* no writes to sqlite_schema by SQL, no "string" as a literal */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_DQS_DDL, 0, (int *)NULL);
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_DQS_DML, 0, (int *)NULL);
	if (store_exec_script(s,
			      "PRAGMA foreign_keys = ON;\n"
			      "PRAGMA synchronous = FULL;\n"
			      "PRAGMA secure_delete = FAST;\n",
			      err, "configure the database") < 0)
		return -1;
	if (store_query_one(s, "PRAGMA foreign_keys", &fk, NULL, err,
			    "enable foreign keys") < 0)
		return -1;
	if (fk != 1) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "enable foreign keys: not supported by this "
			       "SQLite library");
		return -1;
	}
	return 0;
}

/* Persistent in the file: only once it is known to be ours. */
static int store_use_wal(struct store *s, struct hearth_err *err)
{
	char *mode = NULL;
	int ret = -1;

	if (store_query_one(s, "PRAGMA journal_mode = WAL", NULL, &mode, err,
			    "switch to WAL mode") < 0)
		goto out;
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "switch %s to WAL mode: the journal mode stayed "
			       "%s",
			       s->path, mode != NULL ? mode : "unknown");
		goto out;
	}
	ret = 0;
out:
	free(mode);
	return ret;
}

static int store_open_to(const char *path, int version, struct store **store_r,
			 struct hearth_err *err)
{
	struct store *s;
	int64_t current;
	int rc;

	*store_r = NULL;
	if (sqlite3_libversion_number() < STORE_MIN_SQLITE_VERSION) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "SQLite %s is too old: hearth needs 3.37 or "
			       "later (STRICT tables)",
			       sqlite3_libversion());
		return -1;
	}
	if (store_create_file(path, err) < 0)
		return -1;
	s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				 SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (s->db == NULL)
		store_oom();
	if (rc != SQLITE_OK) {
		store_fail(s, rc, err, "open database %s", path);
		goto fail;
	}
	if (store_configure(s, err) < 0)
		goto fail;
	if (store_query_one(s, "PRAGMA user_version", &current, NULL, err,
			    "read the schema version") < 0 ||
	    store_check_identity(s, current, err) < 0)
		goto fail;
	if (store_use_wal(s, err) < 0 ||
	    store_migrate(s, current, version, err) < 0)
		goto fail;
	*store_r = s;
	return 0;
fail:
	store_close(&s);
	return -1;
}

int store_open(const char *path, struct store **store_r, struct hearth_err *err)
{
	return store_open_to(path, STORE_SCHEMA_VERSION, store_r, err);
}

int store_open_at_version(const char *path, int version, struct store **store_r,
			  struct hearth_err *err)
{
	if (version < 1 || version > STORE_SCHEMA_VERSION) {
		*store_r = NULL;
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "schema version %d is not one of 1 to %d",
			       version, STORE_SCHEMA_VERSION);
		return -1;
	}
	return store_open_to(path, version, store_r, err);
}

void store_close(struct store **store)
{
	struct store *s = *store;

	if (s == NULL)
		return;
	for (size_t i = 0; i < STORE_SQL_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	/* every statement is finalized: this cannot fail with SQLITE_BUSY */
	sqlite3_close(s->db);
	free(s->path);
	free(s);
	*store = NULL;
}

int store_schema_version(struct store *s)
{
	sqlite3_stmt *st;
	int version = -1;

	st = store_stmt(s, STORE_SQL_USER_VERSION, "PRAGMA user_version", NULL);
	if (st == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	store_stmt_done(st);
	return version;
}

int64_t store_data_version(struct store *s)
{
	sqlite3_stmt *st;
	int64_t version = -1;

	st = store_stmt(s, STORE_SQL_DATA_VERSION, "PRAGMA data_version",
			NULL);
	if (st == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int64(st, 0);
	store_stmt_done(st);
	return version;
}

/* ---- transactions ---- */

int store_begin(struct store *s, struct hearth_err *err)
{
	return store_run(s, STORE_SQL_BEGIN, "BEGIN IMMEDIATE", err,
			 "begin a transaction");
}

int store_commit(struct store *s, struct hearth_err *err)
{
	return store_run(s, STORE_SQL_COMMIT, "COMMIT", err,
			 "commit the transaction");
}

void store_rollback(struct store *s)
{
	if (sqlite3_get_autocommit(s->db))
		return;
	store_run(s, STORE_SQL_ROLLBACK, "ROLLBACK", NULL,
		  "roll back the transaction");
}

/* ---- settings ---- */

static void store_setting_row(sqlite3_stmt *st, void *out)
{
	*(char **)out = store_col_text(st, 0);
}

int store_setting_get(struct store *s, const char *key, char **value_r,
		      struct hearth_err *err)
{
	sqlite3_stmt *st;
	int rc = SQLITE_OK;
	char what[128];

	*value_r = NULL;
	st = store_stmt(s, STORE_SQL_SETTING_GET,
			"SELECT value FROM settings WHERE key = ?1", err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "read setting %s", key);
	store_bind_text(st, 1, key, &rc);
	return store_get_row(s, st, rc, store_setting_row, value_r, err, what);
}

int store_setting_set(struct store *s, const char *key, const char *value,
		      struct hearth_err *err)
{
	sqlite3_stmt *st;
	int rc = SQLITE_OK;
	char what[128];

	st =
	    store_stmt(s, STORE_SQL_SETTING_SET,
		       "INSERT INTO settings (key, value) VALUES (?1, ?2) "
		       "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
		       err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "write setting %s", key);
	store_bind_text(st, 1, key, &rc);
	store_bind_text(st, 2, value, &rc);
	return store_step_insert(s, st, rc, NULL, NULL, err, what);
}

/* ---- the event log ---- */

int store_event_add(struct store *s, int64_t now, const char *kind,
		    int64_t inbox_id, const char *detail,
		    struct hearth_err *err)
{
	sqlite3_stmt *st;
	int rc = SQLITE_OK;
	char what[128];

	st = store_stmt(s, STORE_SQL_EVENT_ADD,
			"INSERT INTO events (at, kind, inbox_id, detail) "
			"VALUES (?1, ?2, ?3, ?4)",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "add event %s", kind != NULL ? kind : "");
	store_bind_int64(st, 1, now, &rc);
	store_bind_text(st, 2, kind, &rc);
	store_bind_id(st, 3, inbox_id, &rc);
	store_bind_text(st, 4, detail, &rc);
	return store_step_insert(s, st, rc, NULL, NULL, err, what);
}

static void store_event_row(sqlite3_stmt *st, void *elem)
{
	struct store_event *e = elem;

	e->id = sqlite3_column_int64(st, 0);
	e->at = sqlite3_column_int64(st, 1);
	e->kind = store_col_text(st, 2);
	e->inbox_id = sqlite3_column_int64(st, 3);
	e->detail = store_col_text(st, 4);
}

static void store_event_clear(void *elem)
{
	struct store_event *e = elem;

	free(e->kind);
	free(e->detail);
}

int store_event_list(struct store *s, int64_t inbox_id, size_t limit,
		     struct store_event **events_r, size_t *n_r,
		     struct hearth_err *err)
{
	sqlite3_stmt *st;
	int rc = SQLITE_OK, ret;

	*events_r = NULL;
	*n_r = 0;
	/* two statements, so each has its index: the rowid for all, the
	 * inbox_id index (rowid order comes with it) for one inbox */
	if (inbox_id == 0)
		st = store_stmt(s, STORE_SQL_EVENT_LIST_ALL,
				"SELECT id, at, kind, inbox_id, detail "
				"FROM events ORDER BY id DESC LIMIT ?1",
				err);
	else
		st = store_stmt(s, STORE_SQL_EVENT_LIST_INBOX,
				"SELECT id, at, kind, inbox_id, detail "
				"FROM events WHERE inbox_id = ?2 "
				"ORDER BY id DESC LIMIT ?1",
				err);
	if (st == NULL)
		return -1;
	store_bind_int64(
	    st, 1,
	    limit == 0 || limit > (uint64_t)INT64_MAX ? -1 : (int64_t)limit,
	    &rc);
	if (inbox_id != 0)
		store_bind_int64(st, 2, inbox_id, &rc);
	*events_r =
	    store_get_rows(s, st, rc, store_event_row, store_event_clear,
			   sizeof(**events_r), n_r, &ret, err, "list events");
	return ret;
}

void store_event_list_free(struct store_event **events, size_t n)
{
	if (*events == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		store_event_clear(&(*events)[i]);
	free(*events);
	*events = NULL;
}
