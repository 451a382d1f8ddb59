// SPDX-License-Identifier: MIT
/*
 * The store against real SQLite files in a temporary directory. White-box
 * where a property belongs to the store's own connection (foreign_keys,
 * busy_timeout): the private header gives the handle.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../engine/store_private.h"
#include "hearth/err.h"
#include "hearth/store.h"
#include "hearth/xalloc.h"
#include "test.h"

#define T0 1717405200 /* 2024-06-03 09:00 UTC */

static char tmpdir[] = "/tmp/hearth-test-store-XXXXXX";
static int n_db;

/* A fresh database path in the temporary directory. */
static char *db_path(void)
{
	return xasprintf("%s/db%d.sqlite", tmpdir, ++n_db);
}

static void rm_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *p;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p = xasprintf("%s/%s", tmpdir, e->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(tmpdir);
}

/* One integer from a query on the store's own connection. */
static int64_t query_int(struct store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -12345;

	if (sqlite3_prepare_v3(s->db, sql, -1, 0, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Run raw SQL on the store's connection: the primary result code. */
static int exec_raw(struct store *s, const char *sql)
{
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL) & 0xff;
}

static bool has_table(struct store *s, const char *name)
{
	sqlite3_stmt *st = NULL;
	bool found = false;

	if (sqlite3_prepare_v3(s->db,
			       "SELECT 1 FROM sqlite_schema WHERE type = "
			       "'table' AND name = ?1",
			       -1, 0, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK)
		found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

/*
 * An inbox row inserted the way an older schema holds it (the store's own
 * functions name the current columns): its id, or -1.
 */
static int64_t raw_inbox(struct store *s, const char *address, int64_t pool_id,
			 int64_t client_id, int64_t domain_id)
{
	char *sql = xasprintf(
	    "INSERT INTO inboxes (address, display_name, pool_id, client_id, "
	    "domain_id, provider, smtp_host, smtp_port, smtp_security, "
	    "imap_host, imap_port, imap_security, username, secret_kind, "
	    "secret_sealed, ramp_profile, window_start, window_end, "
	    "timezone, created_at) VALUES ('%s', 'Anna Berg', %lld, %lld, "
	    "%lld, 'generic', 'smtp.acme.example', 465, 'tls', "
	    "'imap.acme.example', 993, 'tls', '%s', 'vault', "
	    "x'0100fe273b00', 'standard', '08:30', '17:45', "
	    "'Europe/Stockholm', %d)",
	    address, (long long)pool_id, (long long)client_id,
	    (long long)domain_id, address, T0);
	int rc = exec_raw(s, sql);

	free(sql);
	return rc == SQLITE_OK ? sqlite3_last_insert_rowid(s->db) : -1;
}

/* Strings borrowed from literals: never store_inbox_clear() this one. */
static void sample_inbox(struct store_inbox *x, const char *address,
			 int64_t pool_id, int64_t client_id, int64_t domain_id)
{
	static unsigned char sealed[] = {0x01, 0x00, 0xfe, 0x27, 0x3b, 0x00};

	memset(x, 0, sizeof(*x));
	x->address = (char *)address;
	x->display_name = "Anna Berg";
	x->pool_id = pool_id;
	x->client_id = client_id;
	x->domain_id = domain_id;
	x->provider = "generic";
	x->smtp_host = "smtp.acme.example";
	x->smtp_port = 465;
	x->smtp_security = "tls";
	x->imap_host = "imap.acme.example";
	x->imap_port = 993;
	x->imap_security = "tls";
	x->username = (char *)address;
	x->secret_kind = "vault";
	x->secret_sealed = sealed;
	x->secret_sealed_len = sizeof(sealed);
	x->ramp_profile = "standard";
	x->window_start = "08:30";
	x->window_end = "17:45";
	x->timezone = "Europe/Stockholm";
	x->created_at = T0;
}

static bool str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* A store with one pool, one client and one domain, ids 1. */
static struct store *open_with_directory(void)
{
	struct store *s = NULL;
	struct hearth_err err = {0};
	char *path = db_path();
	int64_t id;

	if (store_open(path, &s, &err) < 0) {
		fprintf(stderr, "store_open: %s\n", err.msg);
		free(path);
		return NULL;
	}
	free(path);
	if (store_pool_add(s, "main", 42, "en", T0, &id, &err) < 0 ||
	    store_client_add(s, "acme", "Acme Tools", T0, &id, &err) < 0 ||
	    store_domain_ensure(s, "acme.example", T0, &id, &err) < 0) {
		fprintf(stderr, "setup: %s\n", err.msg);
		store_close(&s);
	}
	return s;
}

static void test_open_empty(void)
{
	struct store *s = NULL;
	struct hearth_err err = {0};
	char *path = db_path();
	struct stat sb;
	char *wal;
	mode_t old_umask;

	test_begin("open from empty: v3, WAL, foreign keys, 0600");
	/* with no umask at all, the mode is still 0600 */
	old_umask = umask(0);
	test_assert(store_open(path, &s, &err) == 0);
	umask(old_umask);
	test_assert(s != NULL);
	if (s == NULL)
		goto out;
	test_assert(store_schema_version(s) == STORE_SCHEMA_VERSION);
	test_assert(query_int(s, "PRAGMA user_version") == 4);
	test_assert(query_int(s, "PRAGMA foreign_keys") == 1);
	test_assert(query_int(s, "PRAGMA busy_timeout") == 5000);
	test_assert(query_int(s, "PRAGMA application_id") == 0x48525448);
	test_assert(query_int(s, "SELECT journal_mode = 'wal' FROM "
				 "pragma_journal_mode") == 1);
	test_assert(has_table(s, "pools") && has_table(s, "clients") &&
		    has_table(s, "domains") && has_table(s, "inboxes") &&
		    has_table(s, "settings") && has_table(s, "events") &&
		    has_table(s, "ramp_days") && has_table(s, "exchanges") &&
		    has_table(s, "job_attempts") && has_table(s, "plan_days"));
	test_assert(query_int(s, "SELECT count(*) FROM sqlite_schema WHERE "
				 "type = 'index' AND name IN "
				 "('exchanges_due', 'exchanges_recipient', "
				 "'job_attempts_inbox', 'events_inbox', "
				 "'exchanges_engage', 'exchanges_sweep', "
				 "'exchanges_day', 'exchanges_pool')") == 8);
	test_assert(store_setting_set(s, "k", "v", &err) == 0);
	test_assert(stat(path, &sb) == 0 && (sb.st_mode & 07777) == 0600);
	wal = xasprintf("%s-wal", path);
	test_assert(stat(wal, &sb) == 0 && (sb.st_mode & 07777) == 0600);
	free(wal);
	store_close(&s);
	test_assert(s == NULL);
	store_close(&s);

	/* opening again is a no-op migration */
	test_assert(store_open(path, &s, &err) == 0);
	test_assert(s != NULL && store_schema_version(s) == STORE_SCHEMA_VERSION);
	store_close(&s);
out:
	free(path);
	test_end();
}

static void test_open_refused(void)
{
	/* not NULL, so the test sees store_open set it to NULL */
	struct store *s = (struct store *)&s;
	struct hearth_err err = {0};
	sqlite3 *db = NULL;
	char *path = db_path();
	char *nodir = xasprintf("%s/no/such/dir/db", tmpdir);
	char *junk = db_path();
	FILE *f;

	test_begin("a newer, foreign or broken database is refused");
	test_assert(sqlite3_open(path, &db) == SQLITE_OK);
	test_assert(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL,
				 NULL) == SQLITE_OK);
	sqlite3_close(db);
	test_assert(store_open(path, &s, &err) == -1);
	test_assert(s == NULL);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strcmp(err.msg, "database schema version 99 is newer "
				    "than this hearth understands (4): "
				    "upgrade hearth") == 0);
	/* and it was left alone */
	test_assert(sqlite3_open(path, &db) == SQLITE_OK);
	test_assert(sqlite3_exec(db,
				 "CREATE TABLE t (x); PRAGMA user_version = 0",
				 NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);

	/* someone else's tables */
	memset(&err, 0, sizeof(err));
	test_assert(store_open(path, &s, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strstr(err.msg, "is not a hearth database") != NULL);
	/* and left as it was: not even switched to WAL */
	test_assert(sqlite3_open(path, &db) == SQLITE_OK);
	{
		sqlite3_stmt *st = NULL;

		test_assert(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1,
					       &st, NULL) == SQLITE_OK &&
			    sqlite3_step(st) == SQLITE_ROW &&
			    strcmp((const char *)sqlite3_column_text(st, 0),
				   "delete") == 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);

	memset(&err, 0, sizeof(err));
	test_assert(store_open(nodir, &s, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strstr(err.msg, nodir) != NULL);

	f = fopen(junk, "w");
	test_assert(f != NULL);
	if (f != NULL) {
		for (int i = 0; i < 200; i++)
			fputs("this is not a database file at all. ", f);
		fclose(f);
	}
	memset(&err, 0, sizeof(err));
	test_assert(store_open(junk, &s, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strstr(err.msg, "not a database") != NULL);

	test_assert(store_open_at_version(path, STORE_SCHEMA_VERSION + 1, &s,
					  &err) == -1);
	test_assert(store_open_at_version(path, 0, &s, &err) == -1);
	free(path);
	free(nodir);
	free(junk);
	test_end();
}

static void test_migrate_from_v1(void)
{
	struct store *s = NULL;
	struct hearth_err err = {0};
	char *path = db_path();
	struct store_inbox got = {0};
	struct store_pool pool = {0};
	struct store_event *events = NULL;
	struct store_ramp_day day = {.day = "2024-06-03", .planned = 4};
	char *v = NULL;
	size_t n = 0;
	int64_t pool_id = 0, client_id = 0, domain_id = 0, inbox_id;

	test_begin("a v1 database migrates to v3 with its rows kept");
	test_assert(store_open_at_version(path, 1, &s, &err) == 0);
	if (s == NULL)
		goto out;
	test_assert(store_schema_version(s) == 1);
	test_assert(has_table(s, "inboxes") && has_table(s, "events"));
	test_assert(!has_table(s, "ramp_days") && !has_table(s, "exchanges") &&
		    !has_table(s, "job_attempts"));
	test_assert(store_pool_add(s, "p1", 7, "en", T0, &pool_id, &err) == 0);
	test_assert(store_client_add(s, "c1", NULL, T0, &client_id, &err) == 0);
	test_assert(
	    store_domain_ensure(s, "old.example", T0, &domain_id, &err) == 0);
	inbox_id =
	    raw_inbox(s, "anna@old.example", pool_id, client_id, domain_id);
	test_assert(inbox_id > 0);
	test_assert(store_event_add(s, T0, "inbox.enrolled", inbox_id, "v1",
				    &err) == 0);
	test_assert(store_setting_set(s, "token_header", "X-Ref", &err) == 0);
	store_close(&s);

	/* an older binary's database, opened by this one */
	test_assert(store_open(path, &s, &err) == 0);
	if (s == NULL)
		goto out;
	test_assert(store_schema_version(s) == STORE_SCHEMA_VERSION);
	test_assert(has_table(s, "ramp_days") && has_table(s, "exchanges") &&
		    has_table(s, "job_attempts") && has_table(s, "plan_days"));
	test_assert(store_pool_get(s, "p1", &pool, &err) == 1);
	test_assert(pool.id == pool_id && pool.seed == 7);
	test_assert(store_inbox_get(s, "anna@old.example", &got, &err) == 1);
	test_assert(got.id == inbox_id && got.secret_sealed_len == 6 &&
		    got.ramp_overrides == NULL);
	test_assert(store_event_list(s, inbox_id, 0, &events, &n, &err) == 0);
	test_assert(n == 1 && str_eq(events[0].detail, "v1"));
	test_assert(store_setting_get(s, "token_header", &v, &err) == 1);
	test_assert(str_eq(v, "X-Ref"));
	/* and the new tables work against the old rows */
	day.inbox_id = inbox_id;
	test_assert(store_ramp_day_upsert(s, &day, &err) == 0);
	free(v);
	store_event_list_free(&events, n);
	store_inbox_clear(&got);
	store_pool_clear(&pool);
	store_close(&s);
out:
	free(path);
	test_end();
}

static void test_migrate_from_v2(void)
{
	struct store *s = NULL;
	struct hearth_err err = {0};
	char *path = db_path();
	struct store_inbox inbox = {0};
	struct store_ramp_day day = {0}, delta = {.day = "2024-06-03"};
	struct store_exchange x = {0};
	struct store_exchange_counts counts = {0};
	struct store_job_attempt *attempts = NULL;
	struct store_event *events = NULL;
	struct store_plan_day plan = {.pool_id = 1, .day = "2024-06-04"};
	struct store_due *dues = NULL;
	size_t n = 0;
	int64_t id, a = 0, b = 0, x_id = 0, reply_id = 0;

	test_begin("a v2 database migrates to v3 with its rows kept");
	test_assert(store_open_at_version(path, 2, &s, &err) == 0);
	if (s == NULL)
		goto out;
	test_assert(store_schema_version(s) == 2);
	test_assert(has_table(s, "exchanges") && !has_table(s, "plan_days"));
	test_assert(store_pool_add(s, "main", 42, "en", T0, &id, &err) == 0);
	test_assert(store_client_add(s, "acme", NULL, T0, &id, &err) == 0);
	test_assert(store_domain_ensure(s, "acme.example", T0, &id, &err) == 0);
	a = raw_inbox(s, "a@acme.example", 1, 1, 1);
	b = raw_inbox(s, "b@acme.example", 1, 1, 1);
	test_assert(a > 0 && b > 0);
	/* the v2 rows, as a v2 binary wrote them */
	test_assert(exec_raw(s, "INSERT INTO ramp_days (inbox_id, day, "
				"planned, sent, inbox, spam, failed, "
				"ramp_state) VALUES (1, '2024-06-03', 5, 4, "
				"3, 1, 1, 'ramping')") == SQLITE_OK);
	test_assert(exec_raw(s, "INSERT INTO exchanges (pool_id, "
				"sender_inbox_id, recipient_inbox_id, token, "
				"message_id, subject, planned_at, sent_at, "
				"state, placement, folder, locate_method, "
				"read, smtp_code) VALUES (1, 1, 2, 'tok-v2', "
				"'<v2@acme.example>', 'Old times', 1717405200, "
				"1717405205, 'sent', 'inbox', 'INBOX', "
				"'token', 1, 250)") == SQLITE_OK);
	x_id = sqlite3_last_insert_rowid(s->db);
	test_assert(exec_raw(s, "INSERT INTO exchanges (pool_id, "
				"sender_inbox_id, recipient_inbox_id, "
				"parent_exchange_id, token, planned_at, state, "
				"error) VALUES (1, 2, 1, 1, 'tok-v2r', "
				"1717408800, 'failed', 'sender paused')") ==
		    SQLITE_OK);
	reply_id = sqlite3_last_insert_rowid(s->db);
	test_assert(exec_raw(s, "INSERT INTO job_attempts (exchange_id, "
				"inbox_id, job_type, started_at, finished_at, "
				"result) VALUES (1, 1, 'send', 1717405200, "
				"1717405205, 'ok')") == SQLITE_OK);
	test_assert(store_event_add(s, T0, "inbox.enrolled", a, "v2", &err) ==
		    0);
	store_close(&s);

	test_assert(store_open(path, &s, &err) == 0);
	if (s == NULL)
		goto out;
	test_assert(store_schema_version(s) == STORE_SCHEMA_VERSION);
	test_assert(has_table(s, "plan_days"));
	test_assert(query_int(s, "SELECT count(*) FROM sqlite_schema WHERE "
				 "type = 'index' AND name IN "
				 "('exchanges_engage', 'exchanges_sweep', "
				 "'exchanges_day', 'exchanges_pool')") == 4);
	test_assert(query_int(s, "SELECT count(*) FROM pragma_integrity_check "
				 "WHERE integrity_check <> 'ok'") == 0);
	test_assert(query_int(s, "SELECT count(*) FROM "
				 "pragma_foreign_key_check") == 0);
	/* old rows read with the new columns at their defaults */
	test_assert(store_inbox_get_id(s, a, &inbox, &err) == 1);
	test_assert(str_eq(inbox.address, "a@acme.example") &&
		    inbox.secret_sealed_len == 6 &&
		    str_eq(inbox.timezone, "Europe/Stockholm") &&
		    inbox.ramp_overrides == NULL);
	store_inbox_clear(&inbox);
	test_assert(store_ramp_day_get(s, a, "2024-06-03", &day, &err) == 1);
	test_assert(day.planned == 5 && day.sent == 4 && day.inbox == 3 &&
		    day.spam == 1 && day.failed == 1 &&
		    str_eq(day.ramp_state, "ramping") && day.volume == 0 &&
		    day.auth_failures == 0 && day.failed_permanent == 0);
	store_ramp_day_clear(&day);
	test_assert(store_exchange_get(s, x_id, &x, &err) == 1);
	test_assert(str_eq(x.token, "tok-v2") &&
		    str_eq(x.message_id, "<v2@acme.example>") &&
		    str_eq(x.subject, "Old times") && x.planned_at == T0 &&
		    x.sent_at == T0 + 5 && str_eq(x.state, "sent") &&
		    str_eq(x.placement, "inbox") && str_eq(x.folder, "INBOX") &&
		    x.read && x.smtp_code == 250);
	test_assert(x.day[0] == '\0' && x.depth == 0 && x.topic == NULL &&
		    x.body == NULL && x.attempted_at == 0 && x.engage_at == 0 &&
		    x.looks == 0 && x.engaged_at == 0 && x.sweep_at == 0);
	/* and the new functions work on them */
	x.engage_at = T0 + 60;
	snprintf(x.day, sizeof(x.day), "2024-06-03");
	test_assert(store_exchange_update(s, &x, &err) == 0);
	store_exchange_clear(&x);
	test_assert(store_exchange_get(s, reply_id, &x, &err) == 1);
	test_assert(x.parent_exchange_id == x_id && str_eq(x.state, "failed") &&
		    str_eq(x.error, "sender paused"));
	store_exchange_clear(&x);
	test_assert(store_exchange_count(s, 1, 0, NULL, T0, &counts, &err) ==
		    0);
	test_assert(counts.sent == 1 && counts.failed == 1 &&
		    counts.planned == 0 && counts.replies == 0);
	test_assert(store_exchange_count(s, 0, a, "2024-06-03", T0, &counts,
					 &err) == 0);
	test_assert(counts.sent == 1 && counts.failed == 0);
	delta.inbox_id = a;
	delta.failed = 1;
	delta.failed_permanent = 1;
	test_assert(store_ramp_day_add(s, &delta, &err) == 0);
	test_assert(store_ramp_day_get(s, a, "2024-06-03", &day, &err) == 1);
	test_assert(day.failed == 2 && day.failed_permanent == 1 &&
		    day.planned == 5 && str_eq(day.ramp_state, "ramping"));
	store_ramp_day_clear(&day);
	test_assert(store_plan_day_add(s, &plan, &err) == 0);
	test_assert(store_job_attempt_list(s, a, 0, &attempts, &n, &err) == 0);
	test_assert(n == 1 && attempts[0].exchange_id == x_id);
	store_job_attempt_list_free(&attempts, n);
	test_assert(store_event_list(s, a, 0, &events, &n, &err) == 0);
	test_assert(n == 1 && str_eq(events[0].detail, "v2"));
	store_event_list_free(&events, n);
	store_close(&s);

	/* opening again migrates nothing */
	test_assert(store_open(path, &s, &err) == 0);
	test_assert(s != NULL && store_schema_version(s) == STORE_SCHEMA_VERSION);
	if (s == NULL)
		goto out;
	test_assert(store_exchange_engage_due(s, b, &dues, &n, &err) == 0);
	test_assert(n == 1 && dues[0].inbox_id == b && dues[0].due == T0 + 60);
	free(dues);
	store_close(&s);
out:
	store_close(&s);
	free(path);
	test_end();
}

static void test_pools_clients_domains(void)
{
	struct store *s = NULL;
	struct hearth_err err = {0};
	char *path = db_path();
	struct store_pool pool = {0}, *pools = NULL;
	struct store_client client = {0}, *clients = NULL;
	size_t n = 0;
	int64_t id1 = 0, id2 = 0, cid = 0, d1 = 0, d2 = 0, d3 = 0;

	test_begin("pools, clients, domains: round trips and duplicates");
	test_assert(store_open(path, &s, &err) == 0);
	if (s == NULL)
		goto out;
	test_assert(store_pool_list(s, &pools, &n, &err) == 0 && n == 0 &&
		    pools == NULL);
	test_assert(
	    store_pool_add(s, "zeta", UINT64_MAX, "en", T0, &id1, &err) == 0);
	test_assert(store_pool_add(s, "alpha", 1, "sv", T0 + 1, &id2, &err) ==
		    0);
	test_assert(id1 > 0 && id2 > 0 && id1 != id2);
	test_assert(store_pool_get(s, "zeta", &pool, &err) == 1);
	test_assert(pool.id == id1 && pool.seed == UINT64_MAX &&
		    str_eq(pool.name, "zeta") && str_eq(pool.lang, "en") &&
		    pool.created_at == T0);
	store_pool_clear(&pool);
	test_assert(pool.name == NULL && pool.lang == NULL);
	test_assert(store_pool_get_id(s, id2, &pool, &err) == 1);
	test_assert(str_eq(pool.name, "alpha") && pool.seed == 1);
	store_pool_clear(&pool);
	test_assert(store_pool_get(s, "nope", &pool, &err) == 0);
	test_assert(store_pool_get_id(s, 999, &pool, &err) == 0);
	store_pool_clear(&pool);
	test_assert(store_pool_list(s, &pools, &n, &err) == 0 && n == 2);
	test_assert(n == 2 && str_eq(pools[0].name, "alpha") &&
		    str_eq(pools[1].name, "zeta"));
	store_pool_list_free(&pools, n);
	test_assert(pools == NULL);

	memset(&err, 0, sizeof(err));
	test_assert(store_pool_add(s, "zeta", 5, "en", T0, &id1, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strcmp(err.msg, "pool zeta already exists") == 0);

	test_assert(store_client_add(s, "acme", "Acme Tools", T0, &cid, &err) ==
		    0);
	test_assert(store_client_add(s, "bolt", NULL, T0, NULL, &err) == 0);
	test_assert(store_client_get(s, "acme", &client, &err) == 1);
	test_assert(client.id == cid && str_eq(client.name, "acme") &&
		    str_eq(client.display_name, "Acme Tools") &&
		    client.created_at == T0);
	store_client_clear(&client);
	test_assert(store_client_get(s, "bolt", &client, &err) == 1);
	test_assert(client.display_name == NULL);
	id1 = client.id;
	store_client_clear(&client);
	test_assert(store_client_get_id(s, id1, &client, &err) == 1);
	test_assert(str_eq(client.name, "bolt") && client.id == id1);
	store_client_clear(&client);
	test_assert(store_client_get_id(s, 4242, &client, &err) == 0);
	test_assert(store_client_get(s, "nope", &client, &err) == 0);
	test_assert(store_client_list(s, &clients, &n, &err) == 0 && n == 2);
	test_assert(n == 2 && str_eq(clients[0].name, "acme") &&
		    str_eq(clients[1].name, "bolt"));
	store_client_list_free(&clients, n);
	memset(&err, 0, sizeof(err));
	test_assert(store_client_add(s, "acme", NULL, T0, NULL, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strcmp(err.msg, "client acme already exists") == 0);

	test_assert(store_domain_ensure(s, "Acme.Example", T0, &d1, &err) == 0);
	test_assert(store_domain_ensure(s, "acme.example", T0 + 9, &d2, &err) ==
		    0);
	test_assert(store_domain_ensure(s, "other.example", T0, &d3, &err) ==
		    0);
	test_assert(d1 > 0 && d1 == d2 && d3 != d1);
	test_assert(
	    query_int(s, "SELECT count(*) FROM domains WHERE name = "
			 "'acme.example' AND created_at = 1717405200") == 1);
	store_close(&s);
out:
	free(path);
	test_end();
}

static void test_inboxes(void)
{
	struct store *s = open_with_directory();
	struct hearth_err err = {0};
	struct store_inbox x, y, got = {0}, *list = NULL;
	size_t n = 0;
	int64_t pool2 = 0, client2 = 0;

	test_begin("inboxes: add, get, update, list, state");
	if (s == NULL)
		goto out;
	sample_inbox(&x, "Anna.Berg@ACME.example", 1, 1, 1);
	test_assert(store_inbox_add(s, &x, &err) == 0);
	test_assert(x.id > 0);
	test_assert(store_inbox_get(s, "anna.berg@acme.example", &got, &err) ==
		    1);
	test_assert(got.id == x.id);
	test_assert(str_eq(got.address, "anna.berg@acme.example"));
	test_assert(str_eq(got.display_name, "Anna Berg"));
	test_assert(got.pool_id == 1 && got.client_id == 1 &&
		    got.domain_id == 1);
	test_assert(str_eq(got.provider, "generic") &&
		    str_eq(got.smtp_host, "smtp.acme.example") &&
		    got.smtp_port == 465 && str_eq(got.smtp_security, "tls") &&
		    str_eq(got.imap_host, "imap.acme.example") &&
		    got.imap_port == 993 && str_eq(got.imap_security, "tls"));
	test_assert(str_eq(got.username, "Anna.Berg@ACME.example"));
	test_assert(str_eq(got.secret_kind, "vault"));
	test_assert(got.secret_sealed_len == x.secret_sealed_len &&
		    memcmp(got.secret_sealed, x.secret_sealed,
			   x.secret_sealed_len) == 0);
	test_assert(got.secret_command == NULL);
	test_assert(str_eq(got.ramp_profile, "standard") &&
		    str_eq(got.window_start, "08:30") &&
		    str_eq(got.window_end, "17:45") &&
		    str_eq(got.timezone, "Europe/Stockholm"));
	test_assert(str_eq(got.state, "active") && got.state_reason == NULL);
	test_assert(got.probed_at == 0 && got.probe_error == NULL);
	test_assert(got.spam_folder == NULL && got.caps == 0 &&
		    got.spam_found_by == 0);
	test_assert(got.ramp_overrides == NULL);
	test_assert(got.created_at == T0);
	store_inbox_clear(&got);

	/* every column but id/address/created_at is updated */
	test_assert(store_inbox_get(s, "ANNA.BERG@acme.EXAMPLE", &got, &err) ==
		    1);
	test_assert(store_pool_add(s, "second", 2, "en", T0, &pool2, &err) ==
		    0);
	test_assert(store_client_add(s, "bolt", NULL, T0, &client2, &err) == 0);
	free(got.display_name);
	got.display_name = NULL;
	got.pool_id = pool2;
	got.client_id = client2;
	free(got.provider);
	got.provider = xstrdup("google");
	got.smtp_port = 587;
	free(got.smtp_security);
	got.smtp_security = xstrdup("starttls");
	free(got.secret_kind);
	got.secret_kind = xstrdup("token_command");
	explicit_bzero(got.secret_sealed, got.secret_sealed_len);
	free(got.secret_sealed);
	got.secret_sealed = NULL;
	got.secret_sealed_len = 0;
	got.secret_command = xstrdup("oauth2-token anna");
	free(got.state);
	got.state = xstrdup("paused");
	got.state_reason = xstrdup("auth failed");
	got.probed_at = T0 + 60;
	got.probe_error = xstrdup("imap: login refused");
	got.spam_folder = xstrdup("[Gmail]/Spam");
	got.sent_folder = xstrdup("[Gmail]/Sent Mail");
	got.trash_folder = xstrdup("[Gmail]/Trash");
	got.archive_folder = xstrdup("[Gmail]/All Mail");
	got.spam_found_by = 1;
	got.caps = 0x80000005u;
	got.smtp_fingerprint = xstrdup("ab:cd");
	got.imap_fingerprint = xstrdup("ef:01");
	got.ramp_overrides = xstrdup("daily_max=25 hold_days=2");
	free(got.address);
	got.address = xstrdup("changed@acme.example");
	got.created_at = 1;
	test_assert(store_inbox_update(s, &got, &err) == 0);
	store_inbox_clear(&got);
	test_assert(store_inbox_get_id(s, x.id, &got, &err) == 1);
	test_assert(str_eq(got.address, "anna.berg@acme.example") &&
		    got.created_at == T0);
	test_assert(got.display_name == NULL && got.pool_id == pool2 &&
		    got.client_id == client2);
	test_assert(str_eq(got.provider, "google") && got.smtp_port == 587 &&
		    str_eq(got.smtp_security, "starttls"));
	test_assert(str_eq(got.secret_kind, "token_command") &&
		    got.secret_sealed == NULL &&
		    str_eq(got.secret_command, "oauth2-token anna"));
	test_assert(str_eq(got.state, "paused") &&
		    str_eq(got.state_reason, "auth failed"));
	test_assert(got.probed_at == T0 + 60 &&
		    str_eq(got.probe_error, "imap: login refused"));
	test_assert(str_eq(got.spam_folder, "[Gmail]/Spam") &&
		    str_eq(got.sent_folder, "[Gmail]/Sent Mail") &&
		    str_eq(got.trash_folder, "[Gmail]/Trash") &&
		    str_eq(got.archive_folder, "[Gmail]/All Mail"));
	test_assert(got.spam_found_by == 1 && got.caps == 0x80000005u);
	test_assert(str_eq(got.smtp_fingerprint, "ab:cd") &&
		    str_eq(got.imap_fingerprint, "ef:01"));
	test_assert(str_eq(got.ramp_overrides, "daily_max=25 hold_days=2"));
	got.id = 999;
	memset(&err, 0, sizeof(err));
	test_assert(store_inbox_update(s, &got, &err) == -1);
	test_assert(strcmp(err.msg, "inbox 999 not found") == 0);
	store_inbox_clear(&got);

	/* duplicates, whatever the case */
	sample_inbox(&y, "ANNA.berg@acme.example", 1, 1, 1);
	memset(&err, 0, sizeof(err));
	test_assert(store_inbox_add(s, &y, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strcmp(err.msg, "inbox anna.berg@acme.example is already "
				    "enrolled") == 0);

	/* lists: ordered by address, filtered, removed ones on request */
	sample_inbox(&y, "bo@acme.example", 1, 1, 1);
	test_assert(store_inbox_add(s, &y, &err) == 0);
	sample_inbox(&y, "al@acme.example", 1, client2, 1);
	y.ramp_overrides = "start=5";
	test_assert(store_inbox_add(s, &y, &err) == 0);
	test_assert(store_inbox_list(s, 0, 0, false, &list, &n, &err) == 0);
	test_assert(n == 3 && str_eq(list[0].address, "al@acme.example") &&
		    str_eq(list[1].address, "anna.berg@acme.example") &&
		    str_eq(list[2].address, "bo@acme.example"));
	test_assert(
	    n == 3 && str_eq(list[0].ramp_overrides, "start=5") &&
	    str_eq(list[1].ramp_overrides, "daily_max=25 hold_days=2") &&
	    list[2].ramp_overrides == NULL);
	store_inbox_list_free(&list, n);
	test_assert(list == NULL);
	test_assert(store_inbox_list(s, client2, 0, false, &list, &n, &err) ==
		    0);
	test_assert(n == 2 && str_eq(list[0].address, "al@acme.example"));
	store_inbox_list_free(&list, n);
	test_assert(store_inbox_list(s, client2, 1, false, &list, &n, &err) ==
		    0);
	test_assert(n == 1 && str_eq(list[0].address, "al@acme.example"));
	store_inbox_list_free(&list, n);
	test_assert(store_inbox_list(s, 0, pool2, false, &list, &n, &err) == 0);
	test_assert(n == 1 &&
		    str_eq(list[0].address, "anna.berg@acme.example"));
	store_inbox_list_free(&list, n);

	test_assert(store_inbox_set_state(s, y.id, "paused", "bounces", &err) ==
		    0);
	test_assert(store_inbox_get_id(s, y.id, &got, &err) == 1);
	test_assert(str_eq(got.state, "paused") &&
		    str_eq(got.state_reason, "bounces") &&
		    got.secret_sealed != NULL);
	store_inbox_clear(&got);
	test_assert(store_inbox_set_state(s, y.id, "active", NULL, &err) == 0);
	test_assert(store_inbox_get_id(s, y.id, &got, &err) == 1);
	test_assert(str_eq(got.state, "active") && got.state_reason == NULL);
	store_inbox_clear(&got);
	memset(&err, 0, sizeof(err));
	test_assert(store_inbox_set_state(s, y.id, "asleep", NULL, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strstr(err.msg, "CHECK constraint failed") != NULL);
	test_assert(store_inbox_set_state(s, 4242, "paused", NULL, &err) == -1);
	test_assert(strcmp(err.msg, "inbox 4242 not found") == 0);
	test_assert(store_inbox_set_state(s, y.id, "removed", "gone", &err) ==
		    0);
	test_assert(store_inbox_list(s, 0, 0, false, &list, &n, &err) == 0);
	test_assert(n == 2);
	store_inbox_list_free(&list, n);
	test_assert(store_inbox_list(s, 0, 0, true, &list, &n, &err) == 0);
	test_assert(n == 3 && str_eq(list[0].state, "removed") &&
		    list[0].secret_sealed == NULL);
	store_inbox_list_free(&list, n);
	test_assert(store_inbox_get(s, "nobody@acme.example", &got, &err) == 0);
	test_assert(store_inbox_get_id(s, 4242, &got, &err) == 0);
	store_inbox_clear(&got);
	store_close(&s);
out:
	test_end();
}

static void test_inbox_refusals(void)
{
	struct store *s = open_with_directory();
	struct hearth_err err = {0};
	struct store_inbox x;

	test_begin("inboxes: the schema refuses bad rows, plainly");
	if (s == NULL)
		goto out;
	sample_inbox(&x, "a@acme.example", 1, 1, 1);
	x.provider = "aol";
	x.secret_kind = "command";
	x.secret_sealed = NULL;
	x.secret_command = "pass show SECRET-PASSWORD-HINT";
	test_assert(store_inbox_add(s, &x, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strstr(err.msg, "enroll inbox a@acme.example") != NULL);
	test_assert(strstr(err.msg, "CHECK constraint failed") != NULL);
	test_assert(strstr(err.msg, "provider") != NULL);
	test_assert(strstr(err.msg, "SECRET") == NULL);

	sample_inbox(&x, "a@acme.example", 1, 1, 1);
	x.pool_id = 77;
	memset(&err, 0, sizeof(err));
	test_assert(store_inbox_add(s, &x, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strstr(err.msg, "FOREIGN KEY constraint failed") != NULL);

	/* a vault inbox without its sealed secret */
	sample_inbox(&x, "a@acme.example", 1, 1, 1);
	x.secret_sealed = NULL;
	memset(&err, 0, sizeof(err));
	test_assert(store_inbox_add(s, &x, &err) == -1);
	test_assert(strstr(err.msg, "secret_matches_kind") != NULL);

	sample_inbox(&x, "a@acme.example", 1, 1, 1);
	x.window_end = "25:00";
	test_assert(store_inbox_add(s, &x, &err) == -1);
	sample_inbox(&x, "a@acme.example", 1, 1, 1);
	x.smtp_port = 0;
	test_assert(store_inbox_add(s, &x, &err) == -1);
	sample_inbox(&x, "a@acme.example", 1, 1, 1);
	x.timezone = NULL;
	memset(&err, 0, sizeof(err));
	test_assert(store_inbox_add(s, &x, &err) == -1);
	test_assert(strstr(err.msg, "NOT NULL constraint failed") != NULL);
	sample_inbox(&x, "no-at-sign", 1, 1, 1);
	test_assert(store_inbox_add(s, &x, &err) == -1);
	test_assert(query_int(s, "SELECT count(*) FROM inboxes") == 0);
	store_close(&s);
out:
	test_end();
}

static void test_inbox_clear_wipes(void)
{
	struct store_inbox x = {0};

	test_begin("store_inbox_clear frees and wipes");
	x.address = xstrdup("a@b.example");
	x.secret_kind = xstrdup("vault");
	x.secret_sealed = xmalloc(32);
	memset(x.secret_sealed, 0xaa, 32);
	x.secret_sealed_len = 32;
	x.secret_command = xstrdup("pass show a");
	x.smtp_port = 465;
	x.caps = 3;
	store_inbox_clear(&x);
	/* every byte of the struct, the length included */
	{
		static const struct store_inbox zero;

		test_assert(memcmp(&x, &zero, sizeof(x)) == 0);
	}
	store_inbox_clear(&x); /* clearing twice is harmless */
	test_end();
}

static void test_settings(void)
{
	struct store *s = open_with_directory();
	struct hearth_err err = {0};
	char *v = (char *)"unchanged";

	test_begin("settings: get, set, replace");
	if (s == NULL)
		goto out;
	test_assert(store_setting_get(s, "token_header", &v, &err) == 0);
	test_assert(v == NULL);
	test_assert(store_setting_set(s, "token_header", "X-A", &err) == 0);
	test_assert(store_setting_set(s, "token_header", "X-B", &err) == 0);
	test_assert(store_setting_get(s, "token_header", &v, &err) == 1);
	test_assert(str_eq(v, "X-B"));
	free(v);
	test_assert(store_setting_set(s, "empty", "", &err) == 0);
	test_assert(store_setting_get(s, "empty", &v, &err) == 1);
	test_assert(str_eq(v, ""));
	free(v);
	test_assert(query_int(s, "SELECT count(*) FROM settings") == 2);
	store_close(&s);
out:
	test_end();
}

static void test_events(void)
{
	struct store *s = open_with_directory();
	struct hearth_err err = {0};
	struct store_event *ev = NULL;
	struct store_inbox x;
	size_t n = 0;

	test_begin("event log: append-only, newest first");
	if (s == NULL)
		goto out;
	sample_inbox(&x, "a@acme.example", 1, 1, 1);
	test_assert(store_inbox_add(s, &x, &err) == 0);
	test_assert(store_event_add(s, T0, "init", 0, NULL, &err) == 0);
	test_assert(store_event_add(s, T0 + 1, "inbox.enrolled", x.id,
				    "by the operator", &err) == 0);
	test_assert(
	    store_event_add(s, T0 + 2, "inbox.probe", x.id, "ok", &err) == 0);
	test_assert(
	    store_event_add(s, T0 + 3, "pool.added", 0, "second", &err) == 0);
	test_assert(store_event_list(s, 0, 0, &ev, &n, &err) == 0);
	test_assert(n == 4 && str_eq(ev[0].kind, "pool.added") &&
		    ev[0].inbox_id == 0 && ev[0].at == T0 + 3 &&
		    str_eq(ev[3].kind, "init") && ev[3].detail == NULL);
	test_assert(n == 4 && ev[0].id > ev[1].id && ev[1].id > ev[2].id &&
		    ev[2].id > ev[3].id);
	store_event_list_free(&ev, n);
	test_assert(ev == NULL);
	test_assert(store_event_list(s, x.id, 0, &ev, &n, &err) == 0);
	test_assert(n == 2 && str_eq(ev[0].kind, "inbox.probe") &&
		    ev[0].inbox_id == x.id &&
		    str_eq(ev[1].detail, "by the operator"));
	store_event_list_free(&ev, n);
	test_assert(store_event_list(s, 0, 3, &ev, &n, &err) == 0);
	test_assert(n == 3 && str_eq(ev[2].kind, "inbox.enrolled"));
	store_event_list_free(&ev, n);
	test_assert(store_event_list(s, 4242, 0, &ev, &n, &err) == 0);
	test_assert(n == 0 && ev == NULL);

	memset(&err, 0, sizeof(err));
	test_assert(store_event_add(s, T0, "", 0, NULL, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(store_event_add(s, T0, "x", 4242, NULL, &err) == -1);

	/* the database itself refuses to rewrite history */
	test_assert(exec_raw(s, "UPDATE events SET detail = 'forged'") ==
		    SQLITE_CONSTRAINT);
	test_assert(strstr(sqlite3_errmsg(s->db), "append-only") != NULL);
	test_assert(exec_raw(s, "DELETE FROM events WHERE inbox_id IS NULL") ==
		    SQLITE_CONSTRAINT);
	test_assert(exec_raw(s, "DELETE FROM events") == SQLITE_CONSTRAINT);
	test_assert(query_int(s, "SELECT count(*) FROM events") == 4);
	store_close(&s);
out:
	test_end();
}

static void test_metacharacters(void)
{
	static const char *const names[] = {
	    "o'brien",
	    "\"quoted\"",
	    "x'; DROP TABLE pools; --",
	    "\"); DELETE FROM clients; --",
	    "100% _under_ %s %n \\ back",
	    "Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\xa5",
	    "tab\there\nnewline",
	};
	struct store *s = NULL;
	struct hearth_err err = {0};
	char *path = db_path();
	struct store_event *ev = NULL;
	size_t n = 0;

	test_begin("SQL metacharacters and Unicode round-trip verbatim");
	test_assert(store_open(path, &s, &err) == 0);
	if (s == NULL)
		goto out;
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		struct store_pool p = {0};
		struct store_client c = {0};
		char *v = NULL;

		test_assert(store_pool_add(s, names[i], i, names[i], T0, NULL,
					   &err) == 0);
		test_assert(store_client_add(s, names[i], names[i], T0, NULL,
					     &err) == 0);
		test_assert(store_setting_set(s, names[i], names[i], &err) ==
			    0);
		test_assert(
		    store_event_add(s, T0, names[i], 0, names[i], &err) == 0);
		test_assert(store_pool_get(s, names[i], &p, &err) == 1);
		test_assert(str_eq(p.name, names[i]) &&
			    str_eq(p.lang, names[i]) && p.seed == i);
		test_assert(store_client_get(s, names[i], &c, &err) == 1);
		test_assert(str_eq(c.name, names[i]) &&
			    str_eq(c.display_name, names[i]));
		test_assert(store_setting_get(s, names[i], &v, &err) == 1);
		test_assert(str_eq(v, names[i]));
		free(v);
		store_pool_clear(&p);
		store_client_clear(&c);
	}
	test_assert(store_event_list(s, 0, 0, &ev, &n, &err) == 0);
	test_assert(n == sizeof(names) / sizeof(*names));
	for (size_t i = 0; i < n; i++)
		test_assert(str_eq(ev[i].kind, names[n - 1 - i]) &&
			    str_eq(ev[i].detail, names[n - 1 - i]));
	store_event_list_free(&ev, n);
	/* a LIKE or GLOB character is not a wildcard in a lookup */
	{
		struct store_pool p = {0};

		test_assert(store_pool_get(s, "o_brien", &p, &err) == 0);
		test_assert(store_pool_get(s, "%", &p, &err) == 0);
	}
	test_assert(has_table(s, "pools") && has_table(s, "clients"));
	test_assert(query_int(s, "SELECT count(*) FROM pools") ==
		    (int64_t)(sizeof(names) / sizeof(*names)));
	store_close(&s);
out:
	free(path);
	test_end();
}

/* Two inboxes (ids in ids[0], ids[1]) with one exchange between them. */
static int add_two_inboxes(struct store *s, int64_t ids[2])
{
	struct store_inbox x;
	struct hearth_err err = {0};

	sample_inbox(&x, "a@acme.example", 1, 1, 1);
	if (store_inbox_add(s, &x, &err) < 0)
		return -1;
	ids[0] = x.id;
	sample_inbox(&x, "b@acme.example", 1, 1, 1);
	x.secret_kind = "command";
	x.secret_sealed = NULL;
	x.secret_command = "pass show b";
	if (store_inbox_add(s, &x, &err) < 0)
		return -1;
	ids[1] = x.id;
	return 0;
}

/* Three inboxes a, b, c of pool 1 (ids ascending). */
static int add_three_inboxes(struct store *s, int64_t ids[3])
{
	struct store_inbox c;
	struct hearth_err err = {0};

	if (add_two_inboxes(s, ids) < 0)
		return -1;
	sample_inbox(&c, "c@acme.example", 1, 1, 1);
	if (store_inbox_add(s, &c, &err) < 0)
		return -1;
	ids[2] = c.id;
	return 0;
}

/*
 * Plan an exchange (each with a token of its own) of pool from sender to
 * recipient: its id, or 0 after saying why.
 */
static int64_t plan_x(struct store *s, int64_t pool_id, int64_t sender,
		      int64_t recipient, int64_t planned_at, const char *day,
		      int depth)
{
	static int n_token;
	struct store_exchange x = {0};
	struct hearth_err err = {0};
	char token[32];

	snprintf(token, sizeof(token), "px-%d", ++n_token);
	x.pool_id = pool_id;
	x.sender_inbox_id = sender;
	x.recipient_inbox_id = recipient;
	x.token = token;
	x.planned_at = planned_at;
	if (day != NULL)
		snprintf(x.day, sizeof(x.day), "%s", day);
	x.depth = depth;
	if (store_exchange_add(s, &x, &err) < 0) {
		fprintf(stderr, "plan_x: %s\n", err.msg);
		return 0;
	}
	return x.id;
}

/* Set engage_at and sweep_at of exchange id through the update. */
static int set_due(struct store *s, int64_t id, int64_t engage_at,
		   int64_t sweep_at)
{
	struct store_exchange x = {0};
	struct hearth_err err = {0};
	int ret = -1;

	if (store_exchange_get(s, id, &x, &err) != 1)
		goto out;
	x.engage_at = engage_at;
	x.sweep_at = sweep_at;
	ret = store_exchange_update(s, &x, &err);
out:
	if (ret < 0)
		fprintf(stderr, "set_due: %s\n", err.msg);
	store_exchange_clear(&x);
	return ret;
}

static void test_ramp_days(void)
{
	struct store *s = open_with_directory();
	struct hearth_err err = {0};
	struct store_ramp_day d = {0}, got = {0};
	int64_t ids[2] = {0};

	test_begin("ramp days: upsert and get");
	if (s == NULL || add_two_inboxes(s, ids) < 0)
		goto out;
	d.inbox_id = ids[0];
	snprintf(d.day, sizeof(d.day), "2024-06-03");
	d.planned = 5;
	d.sent = 4;
	d.inbox = 3;
	d.spam = 1;
	d.ramp_state = "ramping";
	test_assert(store_ramp_day_upsert(s, &d, &err) == 0);
	test_assert(store_ramp_day_get(s, ids[0], "2024-06-03", &got, &err) ==
		    1);
	test_assert(got.inbox_id == ids[0] &&
		    strcmp(got.day, "2024-06-03") == 0 && got.planned == 5 &&
		    got.sent == 4 && got.inbox == 3 && got.spam == 1 &&
		    got.other == 0 && str_eq(got.ramp_state, "ramping"));
	store_ramp_day_clear(&got);
	d.other = 1;
	d.missing = 2;
	d.rescued = 3;
	d.read = 4;
	d.flagged = 5;
	d.replied = 6;
	d.failed = 7;
	d.bounced = 8;
	d.ramp_state = NULL;
	test_assert(store_ramp_day_upsert(s, &d, &err) == 0);
	test_assert(query_int(s, "SELECT count(*) FROM ramp_days") == 1);
	test_assert(store_ramp_day_get(s, ids[0], "2024-06-03", &got, &err) ==
		    1);
	test_assert(got.other == 1 && got.missing == 2 && got.rescued == 3 &&
		    got.read == 4 && got.flagged == 5 && got.replied == 6 &&
		    got.failed == 7 && got.bounced == 8 &&
		    got.ramp_state == NULL);
	store_ramp_day_clear(&got);
	test_assert(store_ramp_day_get(s, ids[0], "2024-06-04", &got, &err) ==
		    0);
	test_assert(store_ramp_day_get(s, ids[1], "2024-06-03", &got, &err) ==
		    0);
	d.planned = -1;
	memset(&err, 0, sizeof(err));
	test_assert(store_ramp_day_upsert(s, &d, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	d.planned = 1;
	snprintf(d.day, sizeof(d.day), "June 3rd");
	test_assert(store_ramp_day_upsert(s, &d, &err) == -1);
	snprintf(d.day, sizeof(d.day), "2024-06-03");
	d.inbox_id = 4242;
	test_assert(store_ramp_day_upsert(s, &d, &err) == -1);
	test_assert(strstr(err.msg, "FOREIGN KEY") != NULL);
	store_close(&s);
out:
	store_close(&s);
	test_end();
}

static void test_exchanges(void)
{
	struct store *s = open_with_directory();
	struct hearth_err err = {0};
	struct store_exchange x = {0}, reply = {0}, got = {0};
	int64_t ids[2] = {0};

	test_begin("exchanges: the state machine and placements");
	if (s == NULL || add_two_inboxes(s, ids) < 0)
		goto out;
	x.pool_id = 1;
	x.sender_inbox_id = ids[0];
	x.recipient_inbox_id = ids[1];
	x.token = "tok-1";
	x.message_id = "<1@acme.example>";
	x.subject = "About the red folder";
	x.planned_at = T0 + 600;
	x.state = "sent"; /* ignored: new exchanges are planned */
	test_assert(store_exchange_add(s, &x, &err) == 0);
	test_assert(x.id > 0);
	test_assert(store_exchange_get(s, x.id, &got, &err) == 1);
	test_assert(got.id == x.id && got.pool_id == 1 &&
		    got.sender_inbox_id == ids[0] &&
		    got.recipient_inbox_id == ids[1] &&
		    got.parent_exchange_id == 0 && str_eq(got.token, "tok-1") &&
		    str_eq(got.message_id, "<1@acme.example>") &&
		    str_eq(got.subject, "About the red folder") &&
		    got.planned_at == T0 + 600 && got.sent_at == 0 &&
		    str_eq(got.state, "planned") && got.placement == NULL &&
		    !got.rescued && !got.read && got.smtp_code == 0 &&
		    got.error == NULL);
	store_exchange_clear(&got);
	test_assert(store_exchange_get(s, 4242, &got, &err) == 0);

	/* the CHECK: no such state */
	memset(&err, 0, sizeof(err));
	test_assert(store_exchange_set_state(s, x.id, "delivered", T0, 0, NULL,
					     &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strstr(err.msg, "CHECK constraint failed") != NULL);
	test_assert(exec_raw(s, "UPDATE exchanges SET state = 'bogus'") ==
		    SQLITE_CONSTRAINT);
	/* the trigger: no skipping sending */
	memset(&err, 0, sizeof(err));
	test_assert(store_exchange_set_state(s, x.id, "sent", T0, 250, NULL,
					     &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strstr(err.msg, "state change not allowed") != NULL);
	/* no placement before it is sent */
	x.placement = "inbox";
	test_assert(store_exchange_set_placement(s, &x, &err) == -1);
	test_assert(strstr(err.msg, "placement_only_when_sent") != NULL);

	test_assert(store_exchange_set_state(s, x.id, "sending", T0 + 600, 0,
					     NULL, &err) == 0);
	test_assert(store_exchange_set_state(s, x.id, "sent", T0 + 601, 250,
					     NULL, &err) == 0);
	test_assert(store_exchange_get(s, x.id, &got, &err) == 1);
	test_assert(str_eq(got.state, "sent") && got.sent_at == T0 + 601 &&
		    got.smtp_code == 250);
	store_exchange_clear(&got);
	/* sent is final */
	test_assert(store_exchange_set_state(s, x.id, "sending", T0, 0, NULL,
					     &err) == -1);
	test_assert(store_exchange_set_state(s, x.id, "failed", T0, 0, NULL,
					     &err) == -1);
	test_assert(store_exchange_set_state(s, x.id, "planned", T0, 0, NULL,
					     &err) == -1);
	test_assert(store_exchange_set_state(s, 4242, "sending", T0, 0, NULL,
					     &err) == -1);
	test_assert(strcmp(err.msg, "exchange 4242 not found") == 0);

	x.placement = "spam";
	x.folder = "Junk";
	x.locate_method = "token";
	x.rescued = true;
	x.read = true;
	x.flagged = true;
	test_assert(store_exchange_set_placement(s, &x, &err) == 0);
	test_assert(store_exchange_get(s, x.id, &got, &err) == 1);
	test_assert(str_eq(got.placement, "spam") &&
		    str_eq(got.folder, "Junk") &&
		    str_eq(got.locate_method, "token") && got.rescued &&
		    got.read && got.flagged && !got.replied);
	store_exchange_clear(&got);
	x.placement = "roof";
	test_assert(store_exchange_set_placement(s, &x, &err) == -1);

	/* a reply, then one that fails before it is sent */
	reply.pool_id = 1;
	reply.sender_inbox_id = ids[1];
	reply.recipient_inbox_id = ids[0];
	reply.parent_exchange_id = x.id;
	reply.token = "tok-2";
	reply.planned_at = T0 + 3600;
	test_assert(store_exchange_add(s, &reply, &err) == 0);
	test_assert(store_exchange_set_state(s, reply.id, "failed", T0 + 3600,
					     0, "sender paused", &err) == 0);
	test_assert(store_exchange_get(s, reply.id, &got, &err) == 1);
	test_assert(got.parent_exchange_id == x.id &&
		    str_eq(got.state, "failed") && got.sent_at == 0 &&
		    str_eq(got.error, "sender paused"));
	store_exchange_clear(&got);

	memset(&err, 0, sizeof(err));
	reply.token = "tok-1";
	test_assert(store_exchange_add(s, &reply, &err) == -1);
	test_assert(strcmp(err.msg, "exchange token already in use") == 0);
	reply.token = "tok-3";
	reply.recipient_inbox_id = ids[1];
	test_assert(store_exchange_add(s, &reply, &err) == -1);
	test_assert(strstr(err.msg, "sender_is_not_recipient") != NULL);
	store_close(&s);
out:
	store_close(&s);
	test_end();
}

static void test_job_attempts(void)
{
	struct store *s = open_with_directory();
	struct hearth_err err = {0};
	struct store_exchange x = {0};
	struct store_job_attempt a = {0}, *list = NULL;
	size_t n = 0;
	int64_t ids[2] = {0};

	test_begin("job attempts: add and list");
	if (s == NULL || add_two_inboxes(s, ids) < 0)
		goto out;
	x.pool_id = 1;
	x.sender_inbox_id = ids[0];
	x.recipient_inbox_id = ids[1];
	x.token = "tok-1";
	x.planned_at = T0;
	test_assert(store_exchange_add(s, &x, &err) == 0);
	a.exchange_id = x.id;
	a.inbox_id = ids[0];
	a.job_type = "send";
	a.started_at = T0;
	a.finished_at = T0 + 2;
	a.result = "failed";
	a.fail_class = "backoff";
	a.code = 451;
	a.message = "smtp: 451 try later";
	test_assert(store_job_attempt_add(s, &a, &err) == 0);
	test_assert(a.id > 0);
	a.exchange_id = 0;
	a.job_type = "probe";
	a.started_at = T0 + 10;
	a.finished_at = T0 + 10;
	a.result = "ok";
	a.fail_class = NULL;
	a.code = 0;
	a.message = NULL;
	test_assert(store_job_attempt_add(s, &a, &err) == 0);
	test_assert(store_job_attempt_list(s, ids[0], 0, &list, &n, &err) == 0);
	test_assert(
	    n == 2 && str_eq(list[0].job_type, "probe") &&
	    list[0].exchange_id == 0 && list[0].fail_class == NULL &&
	    str_eq(list[1].job_type, "send") && list[1].exchange_id == x.id &&
	    str_eq(list[1].fail_class, "backoff") && list[1].code == 451 &&
	    str_eq(list[1].message, "smtp: 451 try later") &&
	    list[1].started_at == T0 && list[1].finished_at == T0 + 2);
	store_job_attempt_list_free(&list, n);
	test_assert(store_job_attempt_list(s, ids[0], 1, &list, &n, &err) == 0);
	test_assert(n == 1);
	store_job_attempt_list_free(&list, n);
	a.job_type = "dance";
	memset(&err, 0, sizeof(err));
	test_assert(store_job_attempt_add(s, &a, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	a.job_type = "engage";
	a.finished_at = T0 - 1;
	test_assert(store_job_attempt_add(s, &a, &err) == -1);
	store_close(&s);
out:
	store_close(&s);
	test_end();
}

/* Inbox a with history, and inbox b that exchanged mail with it. */
static int add_history(struct store *s, int64_t ids[2], int64_t *x_id,
		       int64_t *reply_id, int64_t *third_id)
{
	struct hearth_err err = {0};
	struct store_exchange x = {0};
	struct store_ramp_day d = {.day = "2024-06-03", .planned = 3};
	struct store_job_attempt a = {.job_type = "send", .result = "ok"};
	struct store_inbox c;

	if (add_two_inboxes(s, ids) < 0)
		return -1;
	sample_inbox(&c, "c@acme.example", 1, 1, 1);
	if (store_inbox_add(s, &c, &err) < 0)
		return -1;
	x.pool_id = 1;
	x.sender_inbox_id = ids[0];
	x.recipient_inbox_id = ids[1];
	x.token = "t1";
	x.planned_at = T0;
	if (store_exchange_add(s, &x, &err) < 0)
		return -1;
	*x_id = x.id;
	/* b replies to a, and c's exchange to b replies to a's */
	x.sender_inbox_id = ids[1];
	x.recipient_inbox_id = ids[0];
	x.parent_exchange_id = *x_id;
	x.token = "t2";
	if (store_exchange_add(s, &x, &err) < 0)
		return -1;
	*reply_id = x.id;
	x.sender_inbox_id = c.id;
	x.recipient_inbox_id = ids[1];
	x.token = "t3";
	if (store_exchange_add(s, &x, &err) < 0)
		return -1;
	*third_id = x.id;
	d.inbox_id = ids[0];
	a.exchange_id = *x_id;
	a.inbox_id = ids[1]; /* the recipient's ENGAGE about a's message */
	a.job_type = "engage";
	if (store_ramp_day_upsert(s, &d, &err) < 0 ||
	    store_job_attempt_add(s, &a, &err) < 0)
		return -1;
	a.exchange_id = 0;
	a.inbox_id = ids[0];
	a.job_type = "probe";
	if (store_job_attempt_add(s, &a, &err) < 0 ||
	    store_event_add(s, T0, "inbox.enrolled", ids[0], NULL, &err) < 0 ||
	    store_event_add(s, T0, "inbox.enrolled", ids[1], NULL, &err) < 0 ||
	    store_event_add(s, T0, "pool.added", 0, NULL, &err) < 0)
		return -1;
	return 0;
}

static void test_inbox_remove(void)
{
	struct store *s = open_with_directory();
	struct hearth_err err = {0};
	struct store_inbox got = {0};
	struct store_ramp_day day = {0};
	struct store_exchange x = {0};
	struct store_event *ev = NULL;
	struct store_plan_day plan = {.pool_id = 1, .day = "2024-06-03"};
	struct store_due *dues = NULL;
	size_t n = 0;
	int64_t ids[2] = {0}, x_id = 0, reply_id = 0, third_id = 0;

	test_begin("inbox remove: keep history, or purge it");
	if (s == NULL || add_history(s, ids, &x_id, &reply_id, &third_id) < 0)
		goto out;
	/* the v3 columns and table too */
	test_assert(store_plan_day_add(s, &plan, &err) == 0);
	test_assert(set_due(s, x_id, T0 + 60, T0 + 90) == 0);
	test_assert(set_due(s, third_id, 0, T0 + 120) == 0);
	test_assert(store_ramp_day_set_plan(s, ids[0], "2024-06-04", 3, 3,
					    "ramping", &err) == 0);

	/* keep: removed, secret gone, history kept */
	test_assert(store_inbox_remove(s, ids[1], false, &err) == 0);
	test_assert(store_inbox_get_id(s, ids[1], &got, &err) == 1);
	test_assert(str_eq(got.state, "removed") && got.secret_sealed == NULL &&
		    got.secret_sealed_len == 0 && got.secret_command == NULL &&
		    str_eq(got.secret_kind, "command"));
	store_inbox_clear(&got);
	test_assert(query_int(s, "SELECT count(*) FROM exchanges") == 3);
	test_assert(store_event_list(s, ids[1], 0, &ev, &n, &err) == 0 &&
		    n == 1);
	store_event_list_free(&ev, n);
	/* a removed inbox cannot be given its secret back by an update */
	test_assert(exec_raw(s,
			     "UPDATE inboxes SET secret_command = 'x' "
			     "WHERE state = 'removed'") == SQLITE_CONSTRAINT);

	/* purge inside the caller's transaction, rolled back: all back */
	test_assert(store_begin(s, &err) == 0);
	test_assert(store_inbox_remove(s, ids[0], true, &err) == 0);
	test_assert(store_inbox_get_id(s, ids[0], &got, &err) == 0);
	store_rollback(s);
	test_assert(store_inbox_get_id(s, ids[0], &got, &err) == 1);
	store_inbox_clear(&got);
	test_assert(query_int(s, "SELECT count(*) FROM events") == 3);

	/* purge: the inbox and all its history gone, others' kept */
	test_assert(store_inbox_remove(s, ids[0], true, &err) == 0);
	test_assert(store_inbox_get_id(s, ids[0], &got, &err) == 0);
	test_assert(store_ramp_day_get(s, ids[0], "2024-06-03", &day, &err) ==
		    0);
	test_assert(store_exchange_get(s, x_id, &x, &err) == 0);
	test_assert(store_exchange_get(s, reply_id, &x, &err) == 0);
	test_assert(store_exchange_get(s, third_id, &x, &err) == 1);
	test_assert(x.parent_exchange_id == 0 && x.sweep_at == T0 + 120);
	store_exchange_clear(&x);
	test_assert(query_int(s, "SELECT count(*) FROM ramp_days") == 0);
	test_assert(store_exchange_engage_due(s, 0, &dues, &n, &err) == 0);
	test_assert(n == 1 && dues[0].inbox_id == ids[1] &&
		    dues[0].due == T0 + 120);
	free(dues);
	/* plan days are the pool's: kept */
	test_assert(store_plan_day_get(s, 1, "2024-06-03", &plan, &err) == 1);
	test_assert(query_int(s, "SELECT count(*) FROM job_attempts") == 0);
	test_assert(store_event_list(s, ids[0], 0, &ev, &n, &err) == 0 &&
		    n == 0);
	test_assert(store_event_list(s, 0, 0, &ev, &n, &err) == 0 && n == 2);
	store_event_list_free(&ev, n);
	test_assert(store_inbox_get_id(s, ids[1], &got, &err) == 1);
	store_inbox_clear(&got);

	memset(&err, 0, sizeof(err));
	test_assert(store_inbox_remove(s, ids[0], true, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strcmp(err.msg, "inbox 1 not found") == 0);
	test_assert(store_inbox_remove(s, 4242, false, &err) == -1);
	test_assert(sqlite3_get_autocommit(s->db));
	store_close(&s);
out:
	store_close(&s);
	test_end();
}

static void test_transactions_and_busy(void)
{
	struct store *a = NULL, *b = NULL;
	struct hearth_err err = {0};
	struct store_pool p = {0};
	char *path = db_path();

	test_begin("transactions; a locked database is a retry");
	test_assert(store_open(path, &a, &err) == 0);
	test_assert(store_open(path, &b, &err) == 0);
	if (a == NULL || b == NULL)
		goto out;
	test_assert(store_begin(a, &err) == 0);
	test_assert(store_pool_add(a, "undone", 1, "en", T0, NULL, &err) == 0);
	store_rollback(a);
	store_rollback(a); /* outside a transaction: nothing */
	test_assert(store_pool_get(a, "undone", &p, &err) == 0);

	test_assert(store_begin(a, &err) == 0);
	test_assert(store_pool_add(a, "kept", 1, "en", T0, NULL, &err) == 0);
	/* the other handle waits for the lock, then gives up: retry */
	sqlite3_busy_timeout(b->db, 50);
	memset(&err, 0, sizeof(err));
	test_assert(store_pool_add(b, "blocked", 1, "en", T0, NULL, &err) ==
		    -1);
	test_assert(err.fail == HEARTH_FAIL_RETRY);
	test_assert(strstr(err.msg, "locked") != NULL);
	memset(&err, 0, sizeof(err));
	test_assert(store_begin(b, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_RETRY);
	/* readers are not blocked by the writer in WAL mode */
	test_assert(store_pool_get(b, "kept", &p, &err) == 0);
	test_assert(store_commit(a, &err) == 0);
	test_assert(store_pool_get(b, "kept", &p, &err) == 1);
	store_pool_clear(&p);
	test_assert(store_pool_add(b, "unblocked", 1, "en", T0, NULL, &err) ==
		    0);
	memset(&err, 0, sizeof(err));
	test_assert(store_commit(a, &err) == -1);
	test_assert(err.msg[0] != '\0');
out:
	store_close(&a);
	store_close(&b);
	free(path);
	test_end();
}

static void test_ramp_day_add(void)
{
	struct store *s = open_with_directory();
	struct hearth_err err = {0};
	struct store_ramp_day d = {0}, got = {0};
	int64_t ids[2] = {0};

	test_begin("ramp days: add counts, set the plan");
	if (s == NULL || add_two_inboxes(s, ids) < 0)
		goto out;
	/* the new columns round-trip through upsert and get */
	d.inbox_id = ids[1];
	snprintf(d.day, sizeof(d.day), "2024-06-02");
	d.volume = 12;
	d.auth_failures = 2;
	d.failed_permanent = 3;
	test_assert(store_ramp_day_upsert(s, &d, &err) == 0);
	test_assert(store_ramp_day_get(s, ids[1], "2024-06-02", &got, &err) ==
		    1);
	test_assert(got.volume == 12 && got.auth_failures == 2 &&
		    got.failed_permanent == 3);
	store_ramp_day_clear(&got);

	/* a missing row is created from the delta; state, volume ignored */
	memset(&d, 0, sizeof(d));
	d.inbox_id = ids[0];
	snprintf(d.day, sizeof(d.day), "2024-06-03");
	d.planned = 2;
	d.sent = 1;
	d.auth_failures = 1;
	d.volume = 9;
	d.ramp_state = "ignored";
	test_assert(store_ramp_day_add(s, &d, &err) == 0);
	test_assert(store_ramp_day_get(s, ids[0], "2024-06-03", &got, &err) ==
		    1);
	test_assert(got.planned == 2 && got.sent == 1 &&
		    got.auth_failures == 1 && got.volume == 0 &&
		    got.ramp_state == NULL && got.inbox == 0);
	store_ramp_day_clear(&got);

	/* the plan: volume, planned, state set; the rest kept */
	test_assert(store_ramp_day_set_plan(s, ids[0], "2024-06-03", 10, 8,
					    "ramping", &err) == 0);
	test_assert(store_ramp_day_get(s, ids[0], "2024-06-03", &got, &err) ==
		    1);
	test_assert(got.volume == 10 && got.planned == 8 && got.sent == 1 &&
		    got.auth_failures == 1 &&
		    str_eq(got.ramp_state, "ramping"));
	store_ramp_day_clear(&got);

	/* every count adds up; volume and state stay */
	d.planned = d.sent = d.inbox = d.spam = d.other = d.missing = 1;
	d.rescued = d.read = d.flagged = d.replied = d.failed = d.bounced = 1;
	d.auth_failures = d.failed_permanent = 1;
	test_assert(store_ramp_day_add(s, &d, &err) == 0);
	test_assert(store_ramp_day_get(s, ids[0], "2024-06-03", &got, &err) ==
		    1);
	test_assert(got.planned == 9 && got.sent == 2 && got.inbox == 1 &&
		    got.spam == 1 && got.other == 1 && got.missing == 1 &&
		    got.rescued == 1 && got.read == 1 && got.flagged == 1 &&
		    got.replied == 1 && got.failed == 1 && got.bounced == 1 &&
		    got.auth_failures == 2 && got.failed_permanent == 1 &&
		    got.volume == 10 && str_eq(got.ramp_state, "ramping"));
	store_ramp_day_clear(&got);

	/* down to 0 is fine */
	memset(&d, 0, sizeof(d));
	d.inbox_id = ids[0];
	snprintf(d.day, sizeof(d.day), "2024-06-03");
	d.sent = -2;
	test_assert(store_ramp_day_add(s, &d, &err) == 0);
	test_assert(store_ramp_day_get(s, ids[0], "2024-06-03", &got, &err) ==
		    1);
	test_assert(got.sent == 0 && got.planned == 9);
	store_ramp_day_clear(&got);
	/* below 0 is refused, and nothing of that delta is applied */
	d.sent = 0;
	d.planned = 5;
	d.spam = -2;
	memset(&err, 0, sizeof(err));
	test_assert(store_ramp_day_add(s, &d, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strstr(err.msg, "add to ramp day 2024-06-03 of inbox 1: "
				    "CHECK constraint failed") != NULL);
	test_assert(store_ramp_day_get(s, ids[0], "2024-06-03", &got, &err) ==
		    1);
	test_assert(got.spam == 1 && got.planned == 9);
	store_ramp_day_clear(&got);
	/* a missing row cannot start negative: none is created */
	memset(&d, 0, sizeof(d));
	d.inbox_id = ids[0];
	snprintf(d.day, sizeof(d.day), "2024-06-04");
	d.failed_permanent = -1;
	memset(&err, 0, sizeof(err));
	test_assert(store_ramp_day_add(s, &d, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(store_ramp_day_get(s, ids[0], "2024-06-04", &got, &err) ==
		    0);
	/* unknown inbox, bad day */
	d.failed_permanent = 1;
	d.inbox_id = 4242;
	memset(&err, 0, sizeof(err));
	test_assert(store_ramp_day_add(s, &d, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strstr(err.msg, "FOREIGN KEY") != NULL);
	d.inbox_id = ids[0];
	snprintf(d.day, sizeof(d.day), "tomorrow");
	test_assert(store_ramp_day_add(s, &d, &err) == -1);

	/* the plan of a new day creates it, NULL clears the state */
	test_assert(store_ramp_day_set_plan(s, ids[1], "2024-06-05", 4, 3, NULL,
					    &err) == 0);
	test_assert(store_ramp_day_get(s, ids[1], "2024-06-05", &got, &err) ==
		    1);
	test_assert(got.volume == 4 && got.planned == 3 && got.sent == 0 &&
		    got.ramp_state == NULL);
	store_ramp_day_clear(&got);
	test_assert(store_ramp_day_set_plan(s, ids[0], "2024-06-03", 10, 8,
					    NULL, &err) == 0);
	test_assert(store_ramp_day_get(s, ids[0], "2024-06-03", &got, &err) ==
		    1);
	test_assert(got.ramp_state == NULL && got.spam == 1);
	store_ramp_day_clear(&got);
	memset(&err, 0, sizeof(err));
	test_assert(store_ramp_day_set_plan(s, ids[0], "2024-06-03", -1, 8,
					    NULL, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(store_ramp_day_set_plan(s, 4242, "2024-06-03", 1, 1, NULL,
					    &err) == -1);
	test_assert(strstr(err.msg, "FOREIGN KEY") != NULL);
	test_assert(
	    store_ramp_day_set_plan(s, ids[0], NULL, 1, 1, NULL, &err) == -1);
	store_close(&s);
out:
	store_close(&s);
	test_end();
}

static void test_ramp_day_list(void)
{
	struct store *s = open_with_directory();
	struct hearth_err err = {0};
	struct store_ramp_day *days = NULL;
	size_t n = 0;
	int64_t ids[2] = {0};
	char day[11];

	test_begin("ramp days: list newest first, before, limit");
	if (s == NULL || add_two_inboxes(s, ids) < 0)
		goto out;
	/* added out of order */
	for (int i = 5; i >= 1; i -= 2) {
		snprintf(day, sizeof(day), "2024-06-0%d", i);
		test_assert(store_ramp_day_set_plan(s, ids[0], day, i, i,
						    "ramping", &err) == 0);
	}
	for (int i = 2; i <= 4; i += 2) {
		snprintf(day, sizeof(day), "2024-06-0%d", i);
		test_assert(store_ramp_day_set_plan(s, ids[0], day, i, i, NULL,
						    &err) == 0);
	}
	test_assert(store_ramp_day_set_plan(s, ids[1], "2024-06-09", 1, 1, NULL,
					    &err) == 0);
	test_assert(store_ramp_day_list(s, ids[0], NULL, 0, &days, &n, &err) ==
		    0);
	test_assert(n == 5);
	for (size_t i = 0; i < n && n == 5; i++) {
		snprintf(day, sizeof(day), "2024-06-0%d", (int)(5 - i));
		test_assert(days[i].inbox_id == ids[0] &&
			    strcmp(days[i].day, day) == 0 &&
			    days[i].volume == (int)(5 - i));
	}
	test_assert(n == 5 && str_eq(days[0].ramp_state, "ramping") &&
		    days[1].ramp_state == NULL);
	store_ramp_day_list_free(&days, n);
	test_assert(days == NULL);
	test_assert(store_ramp_day_list(s, ids[0], "2024-06-04", 0, &days, &n,
					&err) == 0);
	test_assert(n == 3 && strcmp(days[0].day, "2024-06-03") == 0 &&
		    strcmp(days[2].day, "2024-06-01") == 0);
	store_ramp_day_list_free(&days, n);
	test_assert(store_ramp_day_list(s, ids[0], "2024-06-04", 2, &days, &n,
					&err) == 0);
	test_assert(n == 2 && strcmp(days[0].day, "2024-06-03") == 0 &&
		    strcmp(days[1].day, "2024-06-02") == 0);
	store_ramp_day_list_free(&days, n);
	test_assert(store_ramp_day_list(s, ids[0], NULL, 1, &days, &n, &err) ==
		    0);
	test_assert(n == 1 && strcmp(days[0].day, "2024-06-05") == 0);
	store_ramp_day_list_free(&days, n);
	test_assert(store_ramp_day_list(s, ids[0], "2024-06-01", 0, &days, &n,
					&err) == 0);
	test_assert(n == 0 && days == NULL);
	store_ramp_day_list_free(&days, n);
	test_assert(store_ramp_day_list(s, 4242, NULL, 0, &days, &n, &err) ==
		    0);
	test_assert(n == 0 && days == NULL);
	test_assert(store_ramp_day_list(s, ids[1], NULL, 0, &days, &n, &err) ==
		    0);
	test_assert(n == 1 && strcmp(days[0].day, "2024-06-09") == 0);
	store_ramp_day_list_free(&days, n);
	store_close(&s);
out:
	store_close(&s);
	test_end();
}

static void test_exchange_update(void)
{
	struct store *s = open_with_directory();
	struct hearth_err err = {0};
	struct store_exchange x = {0}, got = {0};
	int64_t ids[2] = {0}, y_id;

	test_begin("exchanges: v3 fields, update through the state machine");
	if (s == NULL || add_two_inboxes(s, ids) < 0)
		goto out;
	/* add takes day, depth, topic; not the rest */
	x.pool_id = 1;
	x.sender_inbox_id = ids[0];
	x.recipient_inbox_id = ids[1];
	x.token = "tok-1";
	x.planned_at = T0;
	snprintf(x.day, sizeof(x.day), "2024-06-03");
	x.depth = 2;
	x.topic = "garden";
	x.body = "not stored by add";
	x.attempted_at = x.engage_at = x.engaged_at = x.sweep_at = T0;
	x.looks = 3;
	test_assert(store_exchange_add(s, &x, &err) == 0);
	test_assert(store_exchange_get(s, x.id, &got, &err) == 1);
	test_assert(strcmp(got.day, "2024-06-03") == 0 && got.depth == 2 &&
		    str_eq(got.topic, "garden") && got.body == NULL &&
		    got.attempted_at == 0 && got.engage_at == 0 &&
		    got.looks == 0 && got.engaged_at == 0 && got.sweep_at == 0);
	store_exchange_clear(&got);
	/* no day is NULL in the table, "" again on the way out */
	y_id = plan_x(s, 1, ids[1], ids[0], T0, NULL, 0);
	test_assert(y_id > 0);
	test_assert(query_int(s, "SELECT count(*) FROM exchanges "
				 "WHERE day IS NULL") == 1);
	test_assert(store_exchange_get(s, y_id, &got, &err) == 1);
	test_assert(got.day[0] == '\0' && got.topic == NULL);
	store_exchange_clear(&got);
	/* the schema checks the day and the depth */
	x.token = "tok-bad";
	snprintf(x.day, sizeof(x.day), "06/03/2024");
	memset(&err, 0, sizeof(err));
	test_assert(store_exchange_add(s, &x, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strstr(err.msg, "CHECK constraint failed") != NULL);
	snprintf(x.day, sizeof(x.day), "2024-06-03");
	x.depth = -1;
	test_assert(store_exchange_add(s, &x, &err) == -1);

	/* the move to sending records the attempt */
	test_assert(store_exchange_set_state(s, x.id, "sending", T0 + 10, 0,
					     NULL, &err) == 0);
	test_assert(store_exchange_get(s, x.id, &got, &err) == 1);
	test_assert(got.attempted_at == T0 + 10 && got.sent_at == 0);

	/* every writable field is written, the others are not */
	free(got.state);
	got.state = xstrdup("sent");
	free(got.message_id);
	got.message_id = xstrdup("<1@acme.example>");
	got.subject = xstrdup("About the red folder");
	free(got.topic);
	got.topic = xstrdup("folders");
	got.body = xstrdup("Hello Bo,\r\nthe red one.\r\n");
	got.sent_at = T0 + 20;
	got.attempted_at = T0 + 11;
	got.placement = xstrdup("spam");
	got.folder = xstrdup("Junk");
	got.locate_method = xstrdup("message_id");
	got.rescued = got.read = got.flagged = got.replied = true;
	got.smtp_code = 250;
	got.error = NULL;
	snprintf(got.day, sizeof(got.day), "2024-06-04");
	got.depth = 1;
	got.engage_at = T0 + 100;
	got.looks = 2;
	got.engaged_at = T0 + 90;
	got.sweep_at = T0 + 200;
	free(got.token);
	got.token = xstrdup("tok-changed");
	got.pool_id = 2;
	got.sender_inbox_id = ids[1];
	got.recipient_inbox_id = ids[0];
	got.parent_exchange_id = y_id;
	got.planned_at = 1;
	test_assert(store_exchange_update(s, &got, &err) == 0);
	store_exchange_clear(&got);
	test_assert(store_exchange_get(s, x.id, &got, &err) == 1);
	test_assert(
	    str_eq(got.state, "sent") &&
	    str_eq(got.message_id, "<1@acme.example>") &&
	    str_eq(got.subject, "About the red folder") &&
	    str_eq(got.topic, "folders") &&
	    str_eq(got.body, "Hello Bo,\r\nthe red one.\r\n") &&
	    got.sent_at == T0 + 20 && got.attempted_at == T0 + 11 &&
	    str_eq(got.placement, "spam") && str_eq(got.folder, "Junk") &&
	    str_eq(got.locate_method, "message_id") && got.rescued &&
	    got.read && got.flagged && got.replied && got.smtp_code == 250 &&
	    got.error == NULL && strcmp(got.day, "2024-06-04") == 0 &&
	    got.depth == 1 && got.engage_at == T0 + 100 && got.looks == 2 &&
	    got.engaged_at == T0 + 90 && got.sweep_at == T0 + 200);
	test_assert(str_eq(got.token, "tok-1") && got.pool_id == 1 &&
		    got.sender_inbox_id == ids[0] &&
		    got.recipient_inbox_id == ids[1] &&
		    got.parent_exchange_id == 0 && got.planned_at == T0);

	/* the same state again is allowed; "" clears the day */
	got.day[0] = '\0';
	got.looks = 3;
	test_assert(store_exchange_update(s, &got, &err) == 0);
	test_assert(query_int(s, "SELECT count(*) FROM exchanges "
				 "WHERE day IS NULL") == 2);
	/* the state machine refuses, and nothing of the update is kept */
	free(got.state);
	got.state = xstrdup("planned");
	got.looks = 9;
	memset(&err, 0, sizeof(err));
	test_assert(store_exchange_update(s, &got, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strstr(err.msg, "update exchange ") == err.msg &&
		    strstr(err.msg, "state change not allowed") != NULL);
	free(got.state);
	got.state = xstrdup("delivered");
	test_assert(store_exchange_update(s, &got, &err) == -1);
	test_assert(strstr(err.msg, "CHECK constraint failed") != NULL);
	store_exchange_clear(&got);
	test_assert(store_exchange_get(s, x.id, &got, &err) == 1);
	test_assert(str_eq(got.state, "sent") && got.looks == 3);
	/* looks cannot go negative */
	got.looks = -1;
	test_assert(store_exchange_update(s, &got, &err) == -1);
	/* unknown id */
	got.looks = 0;
	got.id = 4242;
	memset(&err, 0, sizeof(err));
	test_assert(store_exchange_update(s, &got, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strcmp(err.msg, "exchange 4242 not found") == 0);
	store_exchange_clear(&got);

	/* sent needs a sent_at; placement needs sent */
	test_assert(store_exchange_get(s, y_id, &got, &err) == 1);
	got.placement = xstrdup("inbox");
	test_assert(store_exchange_update(s, &got, &err) == -1);
	test_assert(strstr(err.msg, "placement_only_when_sent") != NULL);
	free(got.placement);
	got.placement = NULL;
	free(got.state);
	got.state = xstrdup("sending");
	test_assert(store_exchange_update(s, &got, &err) == 0);
	free(got.state);
	got.state = xstrdup("sent");
	test_assert(store_exchange_update(s, &got, &err) == -1);
	test_assert(strstr(err.msg, "sent_has_sent_at") != NULL);
	free(got.state);
	got.state = NULL;
	test_assert(store_exchange_update(s, &got, &err) == -1);
	test_assert(strstr(err.msg, "NOT NULL") != NULL);
	store_exchange_clear(&got);
	store_close(&s);
out:
	store_close(&s);
	test_end();
}

static void test_exchange_list_state(void)
{
	struct store *s = open_with_directory();
	struct hearth_err err = {0};
	struct store_exchange *xs = NULL;
	size_t n = 0;
	int64_t ids[2] = {0}, x[5];

	test_begin("exchanges: list by state, planned_at then id, limit");
	if (s == NULL || add_two_inboxes(s, ids) < 0)
		goto out;
	x[0] = plan_x(s, 1, ids[0], ids[1], T0 + 300, "2024-06-03", 0);
	x[1] = plan_x(s, 1, ids[0], ids[1], T0 + 100, "2024-06-03", 0);
	x[2] = plan_x(s, 1, ids[1], ids[0], T0 + 100, NULL, 1);
	x[3] = plan_x(s, 1, ids[0], ids[1], T0 + 200, "2024-06-03", 0);
	x[4] = plan_x(s, 1, ids[0], ids[1], T0 + 900, "2024-06-03", 0);
	test_assert(x[0] > 0 && x[1] > 0 && x[2] > 0 && x[3] > 0 && x[4] > 0);
	test_assert(store_exchange_set_state(s, x[3], "sending", T0, 0, NULL,
					     &err) == 0);
	test_assert(store_exchange_list_state(s, "planned", T0 + 300, 0, &xs,
					      &n, &err) == 0);
	test_assert(n == 3 && xs[0].id == x[1] && xs[1].id == x[2] &&
		    xs[2].id == x[0]);
	test_assert(n == 3 && str_eq(xs[1].state, "planned") &&
		    xs[1].depth == 1 && xs[1].day[0] == '\0' &&
		    strcmp(xs[2].day, "2024-06-03") == 0 &&
		    xs[2].token != NULL);
	store_exchange_list_free(&xs, n);
	test_assert(xs == NULL);
	test_assert(store_exchange_list_state(s, "planned", T0 + 300, 2, &xs,
					      &n, &err) == 0);
	test_assert(n == 2 && xs[0].id == x[1] && xs[1].id == x[2]);
	store_exchange_list_free(&xs, n);
	test_assert(store_exchange_list_state(s, "planned", T0 + 99, 0, &xs, &n,
					      &err) == 0);
	test_assert(n == 0 && xs == NULL);
	test_assert(store_exchange_list_state(s, "planned", INT64_MAX, 0, &xs,
					      &n, &err) == 0);
	test_assert(n == 4 && xs[3].id == x[4]);
	store_exchange_list_free(&xs, n);
	test_assert(store_exchange_list_state(s, "sending", INT64_MAX, 0, &xs,
					      &n, &err) == 0);
	test_assert(n == 1 && xs[0].id == x[3] && xs[0].attempted_at == T0);
	store_exchange_list_free(&xs, n);
	test_assert(store_exchange_list_state(s, "sent", INT64_MAX, 0, &xs, &n,
					      &err) == 0);
	test_assert(n == 0);
	store_close(&s);
out:
	store_close(&s);
	test_end();
}

static void test_exchange_engage(void)
{
	struct store *s = open_with_directory();
	struct hearth_err err = {0};
	struct store_exchange *xs = NULL;
	struct store_due *dues = NULL;
	size_t n = 0;
	int64_t ids[3] = {0}, e[9], a, b, c;

	test_begin("exchanges: engage and sweep due, per recipient");
	if (s == NULL || add_three_inboxes(s, ids) < 0)
		goto out;
	a = ids[0];
	b = ids[1];
	c = ids[2];
	for (int i = 0; i < 9; i++)
		e[i] =
		    plan_x(s, 1, i == 6 ? b : a, i == 6 ? a : b, T0, NULL, 0);
	/* to b: engage only; sweep only; both; sweep due, engage later;
	 * engage later only; neither; the same time as e[0]; (e[6] is to
	 * a); e[8] both, engage earlier */
	test_assert(set_due(s, e[0], T0 + 50, 0) == 0);
	test_assert(set_due(s, e[1], 0, T0 + 30) == 0);
	test_assert(set_due(s, e[2], T0 + 80, T0 + 20) == 0);
	test_assert(set_due(s, e[3], T0 + 500, T0 + 60) == 0);
	test_assert(set_due(s, e[4], T0 + 500, 0) == 0);
	test_assert(set_due(s, e[6], T0 + 40, 0) == 0);
	test_assert(set_due(s, e[7], T0 + 50, 0) == 0);
	test_assert(set_due(s, e[8], T0 + 55, T0 + 700) == 0);

	test_assert(
	    store_exchange_list_engage(s, b, T0 + 100, 0, &xs, &n, &err) == 0);
	test_assert(n == 6 && xs[0].id == e[2] && xs[1].id == e[1] &&
		    xs[2].id == e[0] && xs[3].id == e[7] && xs[4].id == e[8] &&
		    xs[5].id == e[3]);
	test_assert(n == 6 && xs[0].engage_at == T0 + 80 &&
		    xs[0].sweep_at == T0 + 20);
	store_exchange_list_free(&xs, n);
	test_assert(
	    store_exchange_list_engage(s, b, T0 + 100, 2, &xs, &n, &err) == 0);
	test_assert(n == 2 && xs[0].id == e[2] && xs[1].id == e[1]);
	store_exchange_list_free(&xs, n);
	/* the bounds: (0, now] */
	test_assert(
	    store_exchange_list_engage(s, b, T0 + 19, 0, &xs, &n, &err) == 0);
	test_assert(n == 0 && xs == NULL);
	test_assert(
	    store_exchange_list_engage(s, b, T0 + 20, 0, &xs, &n, &err) == 0);
	test_assert(n == 1 && xs[0].id == e[2]);
	store_exchange_list_free(&xs, n);
	test_assert(
	    store_exchange_list_engage(s, b, T0 + 1000, 0, &xs, &n, &err) == 0);
	test_assert(n == 7 && xs[6].id == e[4]);
	store_exchange_list_free(&xs, n);
	test_assert(
	    store_exchange_list_engage(s, a, T0 + 1000, 0, &xs, &n, &err) == 0);
	test_assert(n == 1 && xs[0].id == e[6]);
	store_exchange_list_free(&xs, n);
	test_assert(
	    store_exchange_list_engage(s, c, T0 + 1000, 0, &xs, &n, &err) == 0);
	test_assert(n == 0);

	/* the earliest of either, per recipient, by inbox id */
	test_assert(store_exchange_engage_due(s, 0, &dues, &n, &err) == 0);
	test_assert(n == 2 && dues[0].inbox_id == a && dues[0].due == T0 + 40 &&
		    dues[1].inbox_id == b && dues[1].due == T0 + 20);
	free(dues);
	test_assert(store_exchange_engage_due(s, b, &dues, &n, &err) == 0);
	test_assert(n == 1 && dues[0].inbox_id == b && dues[0].due == T0 + 20);
	free(dues);
	test_assert(store_exchange_engage_due(s, c, &dues, &n, &err) == 0);
	test_assert(n == 0 && dues == NULL);
	/* done with e[2]: the next is e[1]'s sweep */
	test_assert(set_due(s, e[2], 0, 0) == 0);
	test_assert(store_exchange_engage_due(s, b, &dues, &n, &err) == 0);
	test_assert(n == 1 && dues[0].due == T0 + 30);
	free(dues);
	/* an engage earlier than any sweep */
	test_assert(set_due(s, e[4], T0 + 5, 0) == 0);
	test_assert(store_exchange_engage_due(s, 0, &dues, &n, &err) == 0);
	test_assert(n == 2 && dues[1].inbox_id == b && dues[1].due == T0 + 5);
	free(dues);
	/* nothing pending anywhere */
	for (int i = 0; i < 9; i++)
		test_assert(set_due(s, e[i], 0, 0) == 0);
	test_assert(store_exchange_engage_due(s, 0, &dues, &n, &err) == 0);
	test_assert(n == 0 && dues == NULL);
	test_assert(store_exchange_engage_due(s, b, &dues, &n, &err) == 0);
	test_assert(n == 0 && dues == NULL);
	store_close(&s);
out:
	store_close(&s);
	test_end();
}

static void test_exchange_pairs(void)
{
	struct store *s = open_with_directory();
	struct hearth_err err = {0};
	struct store_pair *pairs = NULL;
	size_t n = 0;
	int64_t ids[3] = {0}, pool2 = 0, a, b, c;

	test_begin("exchanges: distinct pairs of a pool's threads");
	if (s == NULL || add_three_inboxes(s, ids) < 0)
		goto out;
	a = ids[0];
	b = ids[1];
	c = ids[2];
	test_assert(store_pool_add(s, "second", 2, "en", T0, &pool2, &err) ==
		    0);
	test_assert(plan_x(s, 1, b, c, T0 + 30, NULL, 0) > 0);
	test_assert(plan_x(s, 1, a, b, T0, NULL, 0) > 0);
	test_assert(plan_x(s, 1, a, b, T0 + 10, NULL, 0) > 0);
	test_assert(plan_x(s, 1, b, a, T0 + 20, NULL, 1) > 0); /* a reply */
	test_assert(plan_x(s, 1, c, a, T0 + 86400, NULL, 0) > 0);
	test_assert(plan_x(s, 1, a, c, T0 - 1, NULL, 0) > 0);
	test_assert(plan_x(s, pool2, c, b, T0, NULL, 0) > 0);
	test_assert(
	    store_exchange_pairs(s, 1, T0, T0 + 86400, &pairs, &n, &err) == 0);
	test_assert(n == 2 && pairs[0].sender_id == a &&
		    pairs[0].recipient_id == b && pairs[1].sender_id == b &&
		    pairs[1].recipient_id == c);
	free(pairs);
	test_assert(store_exchange_pairs(s, 1, T0 - 1, T0 + 86401, &pairs, &n,
					 &err) == 0);
	test_assert(n == 4 && pairs[0].sender_id == a &&
		    pairs[0].recipient_id == b && pairs[1].sender_id == a &&
		    pairs[1].recipient_id == c && pairs[3].sender_id == c &&
		    pairs[3].recipient_id == a);
	free(pairs);
	test_assert(
	    store_exchange_pairs(s, pool2, T0, T0 + 1, &pairs, &n, &err) == 0);
	test_assert(n == 1 && pairs[0].sender_id == c &&
		    pairs[0].recipient_id == b);
	free(pairs);
	test_assert(store_exchange_pairs(s, 1, T0 + 31, T0 + 86400, &pairs, &n,
					 &err) == 0);
	test_assert(n == 0 && pairs == NULL);
	test_assert(
	    store_exchange_pairs(s, 4242, 0, INT64_MAX, &pairs, &n, &err) == 0);
	test_assert(n == 0 && pairs == NULL);
	store_close(&s);
out:
	store_close(&s);
	test_end();
}

/* Move exchange id along the state machine to state at time at. */
static int move_x(struct store *s, int64_t id, const char *state, int64_t at)
{
	struct hearth_err err = {0};

	if (strcmp(state, "sent") == 0 &&
	    store_exchange_set_state(s, id, "sending", at, 0, NULL, &err) < 0)
		return -1;
	return store_exchange_set_state(s, id, state, at, 0, NULL, &err);
}

static bool counts_are(const struct store_exchange_counts *c, int64_t planned,
		       int64_t sending, int64_t sent, int64_t failed,
		       int64_t due, int64_t engaged, int64_t replies)
{
	return c->planned == planned && c->sending == sending &&
	       c->sent == sent && c->failed == failed && c->due == due &&
	       c->engaged == engaged && c->replies == replies;
}

static void test_exchange_count(void)
{
	struct store *s = open_with_directory();
	struct hearth_err err = {0};
	struct store_exchange_counts c;
	struct store_exchange x = {0};
	int64_t ids[3] = {0}, pool2 = 0, a, b, cc, id;
	const char *d1 = "2024-06-03", *d2 = "2024-06-04";

	test_begin("exchanges: counts by pool, sender and day");
	if (s == NULL || add_three_inboxes(s, ids) < 0)
		goto out;
	a = ids[0];
	b = ids[1];
	cc = ids[2];
	test_assert(store_pool_add(s, "second", 2, "en", T0, &pool2, &err) ==
		    0);
	/* d1: a planned due, a planned later, a sending, a sent and
	 * engaged, b's reply failed, b sent not engaged */
	test_assert(plan_x(s, 1, a, b, T0, d1, 0) > 0);
	test_assert(plan_x(s, 1, a, b, T0 + 500, d1, 0) > 0);
	id = plan_x(s, 1, a, cc, T0, d1, 0);
	test_assert(move_x(s, id, "sending", T0) == 0);
	id = plan_x(s, 1, a, cc, T0, d1, 0);
	test_assert(move_x(s, id, "sent", T0 + 1) == 0);
	test_assert(store_exchange_get(s, id, &x, &err) == 1);
	x.engaged_at = T0 + 60;
	test_assert(store_exchange_update(s, &x, &err) == 0);
	store_exchange_clear(&x);
	id = plan_x(s, 1, b, a, T0, d1, 1);
	test_assert(move_x(s, id, "failed", T0) == 0);
	id = plan_x(s, 1, b, cc, T0, d1, 0);
	test_assert(move_x(s, id, "sent", T0 + 2) == 0);
	/* d2: one of a's; no day: one in pool 2 */
	test_assert(plan_x(s, 1, a, b, T0 + 86400, d2, 0) > 0);
	test_assert(plan_x(s, pool2, cc, a, T0, NULL, 0) > 0);

	test_assert(store_exchange_count(s, 0, 0, d1, T0 + 100, &c, &err) == 0);
	test_assert(counts_are(&c, 2, 1, 2, 1, 1, 1, 1));
	test_assert(store_exchange_count(s, 0, 0, d1, T0 + 500, &c, &err) == 0);
	test_assert(counts_are(&c, 2, 1, 2, 1, 2, 1, 1));
	test_assert(store_exchange_count(s, 0, 0, d1, T0 - 1, &c, &err) == 0);
	test_assert(c.due == 0);
	test_assert(store_exchange_count(s, 0, a, d1, T0 + 100, &c, &err) == 0);
	test_assert(counts_are(&c, 2, 1, 1, 0, 1, 1, 0));
	test_assert(store_exchange_count(s, 0, b, d1, T0 + 100, &c, &err) == 0);
	test_assert(counts_are(&c, 0, 0, 1, 1, 0, 0, 1));
	test_assert(store_exchange_count(s, 1, 0, d1, T0 + 100, &c, &err) == 0);
	test_assert(counts_are(&c, 2, 1, 2, 1, 1, 1, 1));
	test_assert(store_exchange_count(s, 1, a, d1, T0 + 100, &c, &err) == 0);
	test_assert(counts_are(&c, 2, 1, 1, 0, 1, 1, 0));
	test_assert(store_exchange_count(s, pool2, 0, d1, T0 + 100, &c, &err) ==
		    0);
	test_assert(counts_are(&c, 0, 0, 0, 0, 0, 0, 0));
	test_assert(store_exchange_count(s, 0, a, d2, INT64_MAX, &c, &err) ==
		    0);
	test_assert(counts_are(&c, 1, 0, 0, 0, 1, 0, 0));
	/* every day */
	test_assert(store_exchange_count(s, 0, a, NULL, T0 + 100, &c, &err) ==
		    0);
	test_assert(counts_are(&c, 3, 1, 1, 0, 1, 1, 0));
	test_assert(store_exchange_count(s, pool2, a, NULL, T0, &c, &err) == 0);
	test_assert(counts_are(&c, 0, 0, 0, 0, 0, 0, 0));
	test_assert(store_exchange_count(s, pool2, cc, NULL, T0, &c, &err) ==
		    0);
	test_assert(counts_are(&c, 1, 0, 0, 0, 1, 0, 0));
	test_assert(store_exchange_count(s, 1, 0, NULL, T0 + 100, &c, &err) ==
		    0);
	test_assert(counts_are(&c, 3, 1, 2, 1, 1, 1, 1));
	test_assert(store_exchange_count(s, pool2, 0, NULL, T0, &c, &err) == 0);
	test_assert(counts_are(&c, 1, 0, 0, 0, 1, 0, 0));
	test_assert(store_exchange_count(s, 0, 0, NULL, T0 + 100, &c, &err) ==
		    0);
	test_assert(counts_are(&c, 4, 1, 2, 1, 2, 1, 1));
	/* nothing there */
	test_assert(store_exchange_count(s, 0, 0, "2024-01-01", T0, &c, &err) ==
		    0);
	test_assert(counts_are(&c, 0, 0, 0, 0, 0, 0, 0));
	test_assert(store_exchange_count(s, 4242, 0, NULL, T0, &c, &err) == 0);
	test_assert(counts_are(&c, 0, 0, 0, 0, 0, 0, 0));
	store_close(&s);
out:
	store_close(&s);
	test_end();
}

static void test_exchange_failures(void)
{
	struct store *s = open_with_directory();
	struct hearth_err err = {0};
	struct store_failure *f = NULL;
	size_t n = 0;
	int64_t ids[2] = {0}, pool2 = 0, id, a, b;
	const char *d1 = "2024-06-03", *d2 = "2024-06-04";
	const char *nouser = "smtp: 550 no such user";

	test_begin("exchanges: failures grouped by reason");
	if (s == NULL || add_two_inboxes(s, ids) < 0)
		goto out;
	a = ids[0];
	b = ids[1];
	test_assert(store_pool_add(s, "second", 2, "en", T0, &pool2, &err) ==
		    0);
	/* attempted at T0 + 10 */
	id = plan_x(s, 1, a, b, T0, d1, 0);
	test_assert(store_exchange_set_state(s, id, "sending", T0 + 10, 0, NULL,
					     &err) == 0);
	test_assert(store_exchange_set_state(s, id, "failed", T0 + 12, 550,
					     nouser, &err) == 0);
	/* never attempted: its planned_at counts */
	id = plan_x(s, 1, a, b, T0 + 20, d1, 0);
	test_assert(store_exchange_set_state(s, id, "failed", T0 + 21, 0,
					     nouser, &err) == 0);
	id = plan_x(s, 1, a, b, T0 + 30, d1, 0);
	test_assert(store_exchange_set_state(s, id, "failed", T0 + 30, 0, NULL,
					     &err) == 0);
	id = plan_x(s, 1, b, a, T0 + 40, d2, 0);
	test_assert(store_exchange_set_state(s, id, "failed", T0 + 40, 0,
					     "tls: handshake failed",
					     &err) == 0);
	id = plan_x(s, pool2, a, b, T0 + 5, d1, 0);
	test_assert(store_exchange_set_state(s, id, "failed", T0 + 5, 0, nouser,
					     &err) == 0);
	/* not failed: not counted, whatever its error says */
	id = plan_x(s, 1, a, b, T0 + 50, d1, 0);
	test_assert(store_exchange_set_state(s, id, "sending", T0 + 50, 451,
					     "smtp: 451 try later", &err) == 0);

	test_assert(store_exchange_failures(s, 0, NULL, 0, &f, &n, &err) == 0);
	test_assert(n == 3 && str_eq(f[0].error, nouser) && f[0].count == 3 &&
		    f[0].last_at == T0 + 20 &&
		    str_eq(f[1].error, "tls: handshake failed") &&
		    f[1].count == 1 && f[1].last_at == T0 + 40 &&
		    str_eq(f[2].error, "unknown") && f[2].count == 1 &&
		    f[2].last_at == T0 + 30);
	store_failure_list_free(&f, n);
	test_assert(f == NULL);
	test_assert(store_exchange_failures(s, 1, NULL, 0, &f, &n, &err) == 0);
	test_assert(n == 3 && f[0].count == 2);
	store_failure_list_free(&f, n);
	test_assert(store_exchange_failures(s, 0, d1, 0, &f, &n, &err) == 0);
	test_assert(n == 2 && str_eq(f[0].error, nouser) && f[0].count == 3 &&
		    str_eq(f[1].error, "unknown"));
	store_failure_list_free(&f, n);
	test_assert(store_exchange_failures(s, 1, d1, 1, &f, &n, &err) == 0);
	test_assert(n == 1 && str_eq(f[0].error, nouser) && f[0].count == 2);
	store_failure_list_free(&f, n);
	test_assert(store_exchange_failures(s, 0, NULL, 2, &f, &n, &err) == 0);
	test_assert(n == 2);
	store_failure_list_free(&f, n);
	test_assert(store_exchange_failures(s, pool2, d2, 0, &f, &n, &err) ==
		    0);
	test_assert(n == 0 && f == NULL);
	store_failure_list_free(&f, n);
	store_close(&s);
out:
	store_close(&s);
	test_end();
}

static void test_plan_days(void)
{
	struct store *s = open_with_directory();
	struct hearth_err err = {0};
	struct store_plan_day p = {0}, got = {0};
	int64_t pool2 = 0;

	test_begin("plan days: add, get, last, duplicates");
	if (s == NULL)
		goto out;
	test_assert(store_pool_add(s, "second", 2, "en", T0, &pool2, &err) ==
		    0);
	test_assert(store_plan_day_last(s, 1, &got, &err) == 0);
	test_assert(got.pool_id == 0 && got.day[0] == '\0');
	p.pool_id = 1;
	snprintf(p.day, sizeof(p.day), "2024-06-03");
	p.planned_at = T0;
	p.sends = 40;
	p.unplaced = 2;
	p.relaxed = 0x80000005u;
	test_assert(store_plan_day_add(s, &p, &err) == 0);
	test_assert(store_plan_day_get(s, 1, "2024-06-03", &got, &err) == 1);
	test_assert(got.pool_id == 1 && strcmp(got.day, "2024-06-03") == 0 &&
		    got.planned_at == T0 && got.sends == 40 &&
		    got.unplaced == 2 && got.relaxed == 0x80000005u);
	test_assert(store_plan_day_get(s, 1, "2024-06-04", &got, &err) == 0);
	test_assert(store_plan_day_get(s, pool2, "2024-06-03", &got, &err) ==
		    0);
	test_assert(got.pool_id == 0);
	/* the last by day, not by when it was added */
	snprintf(p.day, sizeof(p.day), "2024-06-05");
	p.relaxed = 0;
	test_assert(store_plan_day_add(s, &p, &err) == 0);
	snprintf(p.day, sizeof(p.day), "2024-06-04");
	p.sends = 0;
	test_assert(store_plan_day_add(s, &p, &err) == 0);
	test_assert(store_plan_day_last(s, 1, &got, &err) == 1);
	test_assert(strcmp(got.day, "2024-06-05") == 0 && got.sends == 40);
	test_assert(store_plan_day_last(s, pool2, &got, &err) == 0);
	snprintf(p.day, sizeof(p.day), "2024-06-01");
	p.pool_id = pool2;
	test_assert(store_plan_day_add(s, &p, &err) == 0);
	test_assert(store_plan_day_last(s, pool2, &got, &err) == 1);
	test_assert(got.pool_id == pool2 && strcmp(got.day, "2024-06-01") == 0);

	/* refusals */
	p.pool_id = 1;
	snprintf(p.day, sizeof(p.day), "2024-06-03");
	memset(&err, 0, sizeof(err));
	test_assert(store_plan_day_add(s, &p, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strcmp(err.msg, "pool 1 day 2024-06-03 is already "
				    "planned") == 0);
	p.pool_id = 4242;
	memset(&err, 0, sizeof(err));
	test_assert(store_plan_day_add(s, &p, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strstr(err.msg, "refers to a row that does not exist") !=
		    NULL);
	p.pool_id = 1;
	snprintf(p.day, sizeof(p.day), "June 9th");
	test_assert(store_plan_day_add(s, &p, &err) == -1);
	test_assert(strstr(err.msg, "CHECK constraint failed") != NULL);
	snprintf(p.day, sizeof(p.day), "2024-06-09");
	p.sends = -1;
	test_assert(store_plan_day_add(s, &p, &err) == -1);
	p.sends = 1;
	p.unplaced = -1;
	test_assert(store_plan_day_add(s, &p, &err) == -1);
	test_assert(query_int(s, "SELECT count(*) FROM plan_days") == 4);
	store_close(&s);
out:
	store_close(&s);
	test_end();
}

/*
 * The scheduler's queries at scale: each reads exchanges through an index
 * (a SCAN without USING is the whole table). The plan is fixed when the
 * statement is prepared (no ANALYZE runs), so a small table shows it.
 */
static bool uses_index(struct store *s, enum store_sql slot, const char *want)
{
	sqlite3_stmt *st = NULL;
	const char *sql =
	    s->stmt[slot] != NULL ? sqlite3_sql(s->stmt[slot]) : NULL;
	char *explain;
	bool ok = sql != NULL, found = want == NULL;

	if (sql == NULL) {
		fprintf(stderr, "statement %d was not prepared\n", (int)slot);
		return false;
	}
	explain = xasprintf("EXPLAIN QUERY PLAN %s", sql);
	if (sqlite3_prepare_v3(s->db, explain, -1, 0, &st, NULL) != SQLITE_OK)
		ok = false;
	while (ok && sqlite3_step(st) == SQLITE_ROW) {
		const char *detail = (const char *)sqlite3_column_text(st, 3);

		if (detail == NULL)
			continue;
		if (strstr(detail, "SCAN exchanges") != NULL &&
		    strstr(detail, " USING ") == NULL) {
			fprintf(stderr, "statement %d: %s\n", (int)slot,
				detail);
			ok = false;
		}
		if (want != NULL && strstr(detail, want) != NULL)
			found = true;
	}
	sqlite3_finalize(st);
	free(explain);
	if (ok && !found)
		fprintf(stderr, "statement %d: no %s\n", (int)slot, want);
	return ok && found;
}

static void test_query_plans(void)
{
	struct store *s = open_with_directory();
	struct hearth_err err = {0};
	struct store_exchange *xs = NULL;
	struct store_due *dues = NULL;
	struct store_pair *pairs = NULL;
	struct store_failure *f = NULL;
	struct store_ramp_day *days = NULL;
	struct store_plan_day p;
	struct store_exchange_counts c;
	size_t n = 0;

	test_begin("the scheduler's queries use indexes");
	if (s == NULL)
		goto out;
	/* prepare each statement */
	test_assert(
	    store_exchange_list_state(s, "planned", T0, 1, &xs, &n, &err) == 0);
	test_assert(store_exchange_list_engage(s, 1, T0, 1, &xs, &n, &err) ==
		    0);
	test_assert(store_exchange_engage_due(s, 0, &dues, &n, &err) == 0);
	test_assert(store_exchange_engage_due(s, 1, &dues, &n, &err) == 0);
	test_assert(store_exchange_pairs(s, 1, T0, T0 + 1, &pairs, &n, &err) ==
		    0);
	test_assert(store_exchange_count(s, 1, 1, "2024-06-03", T0, &c, &err) ==
		    0);
	test_assert(store_exchange_count(s, 1, 1, NULL, T0, &c, &err) == 0);
	test_assert(store_exchange_count(s, 1, 0, NULL, T0, &c, &err) == 0);
	test_assert(store_exchange_count(s, 0, 0, NULL, T0, &c, &err) == 0);
	test_assert(
	    store_exchange_failures(s, 1, "2024-06-03", 0, &f, &n, &err) == 0);
	test_assert(store_exchange_failures(s, 1, NULL, 0, &f, &n, &err) == 0);
	test_assert(store_ramp_day_list(s, 1, NULL, 0, &days, &n, &err) == 0);
	test_assert(store_plan_day_last(s, 1, &p, &err) == 0);

	test_assert(uses_index(s, STORE_SQL_EXCHANGE_LIST_STATE,
			       "INDEX exchanges_due (state=? AND "
			       "planned_at<?)"));
	test_assert(uses_index(s, STORE_SQL_EXCHANGE_LIST_ENGAGE,
			       "INDEX exchanges_engage (recipient_inbox_id=?"));
	test_assert(uses_index(s, STORE_SQL_EXCHANGE_LIST_ENGAGE,
			       "INDEX exchanges_sweep (recipient_inbox_id=?"));
	test_assert(
	    uses_index(s, STORE_SQL_EXCHANGE_DUE_ALL, "exchanges_engage"));
	test_assert(
	    uses_index(s, STORE_SQL_EXCHANGE_DUE_ALL, "exchanges_sweep"));
	test_assert(uses_index(s, STORE_SQL_EXCHANGE_DUE_ONE,
			       "INDEX exchanges_engage (recipient_inbox_id=?"));
	test_assert(uses_index(s, STORE_SQL_EXCHANGE_DUE_ONE,
			       "INDEX exchanges_sweep (recipient_inbox_id=?"));
	test_assert(uses_index(s, STORE_SQL_EXCHANGE_PAIRS,
			       "INDEX exchanges_pool (pool_id=? AND "
			       "planned_at>? AND planned_at<?)"));
	test_assert(uses_index(s, STORE_SQL_EXCHANGE_COUNT_DAY,
			       "INDEX exchanges_day (day=? AND "
			       "sender_inbox_id>? AND sender_inbox_id<?)"));
	test_assert(uses_index(s, STORE_SQL_EXCHANGE_COUNT_SENDER,
			       "INDEX exchanges_sender (sender_inbox_id=?)"));
	test_assert(uses_index(s, STORE_SQL_EXCHANGE_COUNT_POOL,
			       "INDEX exchanges_pool (pool_id=?)"));
	test_assert(uses_index(s, STORE_SQL_EXCHANGE_FAILURES_DAY,
			       "INDEX exchanges_day (day=?)"));
	test_assert(uses_index(s, STORE_SQL_EXCHANGE_FAILURES_ALL,
			       "INDEX exchanges_due (state=?)"));
	test_assert(
	    uses_index(s, STORE_SQL_RAMP_DAY_LIST, "PRIMARY KEY (inbox_id=?)"));
	test_assert(
	    uses_index(s, STORE_SQL_PLAN_DAY_LAST, "PRIMARY KEY (pool_id=?)"));
	store_close(&s);
out:
	store_close(&s);
	test_end();
}

/* Bounces, auto-replies (tied to the exchange) and domain checks (v4). */
static void test_notices_and_checks(void)
{
	struct store *s = open_with_directory();
	struct hearth_err err = {0};
	struct store_exchange x = {0};
	struct store_domain_check c = {0}, *cs = NULL;
	struct store_ramp_day d = {0};
	int64_t ids[2], a, b, dom = 0;
	size_t n = 0;
	char token[32];

	test_begin("notices find their exchange; checks keep the newest");
	if (s == NULL || add_two_inboxes(s, ids) < 0)
		goto out;
	a = plan_x(s, 1, ids[0], ids[1], T0, "2024-06-03", 0);
	b = plan_x(s, 1, ids[1], ids[0], T0, "2024-06-03", 0);
	test_assert(a > 0 && b > 0);
	test_assert(store_exchange_get(s, a, &x, &err) == 1);
	snprintf(token, sizeof(token), "%s", x.token != NULL ? x.token : "");
	store_exchange_clear(&x);
	test_assert(exec_raw(s, "UPDATE exchanges SET message_id = "
				"'<m1@acme.example>' WHERE id = (SELECT "
				"min(id) FROM exchanges)") == SQLITE_OK);
	/* by token, by Message-ID with or without <>, only the sender's */
	test_assert(store_exchange_find(s, ids[0], token, NULL, &x, &err) ==
			1 &&
		    x.id == a);
	store_exchange_clear(&x);
	test_assert(store_exchange_find(s, ids[0], "", "m1@acme.example", &x,
					&err) == 1 &&
		    x.id == a);
	store_exchange_clear(&x);
	test_assert(store_exchange_find(s, ids[0], "nope", "<m1@acme.example>",
					&x, &err) == 1 &&
		    x.id == a);
	store_exchange_clear(&x);
	test_assert(store_exchange_find(s, ids[1], token, "<m1@acme.example>",
					&x, &err) == 0);
	test_assert(store_exchange_find(s, ids[0], NULL, NULL, &x, &err) == 0);
	/* recorded once */
	test_assert(store_exchange_bounce(s, a, T0 + 60, "5.1.1",
					  "550 5.1.1 no such user", &err) == 1);
	test_assert(store_exchange_bounce(s, a, T0 + 90, "5.2.2", "full",
					  &err) == 0);
	test_assert(store_exchange_get(s, a, &x, &err) == 1);
	test_assert(x.bounced_at == T0 + 60 &&
		    str_eq(x.bounce_status, "5.1.1") &&
		    str_eq(x.bounce_reason, "550 5.1.1 no such user") &&
		    x.auto_replied_at == 0);
	store_exchange_clear(&x);
	test_assert(store_exchange_auto_reply(s, b, T0 + 5, &err) == 1);
	test_assert(store_exchange_auto_reply(s, b, T0 + 9, &err) == 0);
	test_assert(store_exchange_get(s, b, &x, &err) == 1 &&
		    x.auto_replied_at == T0 + 5 && x.bounced_at == 0);
	store_exchange_clear(&x);
	/* the ramp day's auto-replies add up like the other counts */
	d.inbox_id = ids[1];
	snprintf(d.day, sizeof(d.day), "2024-06-03");
	d.auto_replies = 2;
	d.bounced = 1;
	test_assert(store_ramp_day_add(s, &d, &err) == 0);
	test_assert(store_ramp_day_add(s, &d, &err) == 0);
	test_assert(store_ramp_day_get(s, ids[1], "2024-06-03", &d, &err) ==
			1 &&
		    d.auto_replies == 4 && d.bounced == 2);
	store_ramp_day_clear(&d);

	/* checks: the newest per domain, or the newest as of a time */
	dom = query_int(s, "SELECT id FROM domains WHERE name = 'acme.example'");
	test_assert(dom > 0);
	c.domain_id = dom;
	c.checked_at = T0;
	c.worst = "fail";
	c.failure = "SPF is missing";
	c.report = "{\"domain\":\"acme.example\"}";
	test_assert(store_domain_check_add(s, &c, &err) == 0);
	c.checked_at = T0 + 86400;
	c.worst = "pass";
	c.failure = NULL;
	test_assert(store_domain_check_add(s, &c, &err) == 0);
	c.report = "not json";
	test_assert(store_domain_check_add(s, &c, &err) == -1);
	test_assert(store_domain_check_latest(s, 0, 0, &cs, &n, &err) == 0);
	test_assert(n == 1 && cs != NULL && str_eq(cs[0].domain, "acme.example") &&
		    str_eq(cs[0].worst, "pass") && cs[0].failure == NULL &&
		    cs[0].checked_at == T0 + 86400);
	store_domain_check_list_free(&cs, n);
	test_assert(store_domain_check_latest(s, dom, T0 + 3600, &cs, &n,
					      &err) == 0);
	test_assert(n == 1 && cs != NULL && str_eq(cs[0].worst, "fail") &&
		    str_eq(cs[0].failure, "SPF is missing"));
	store_domain_check_list_free(&cs, n);
	test_assert(store_domain_check_latest(s, dom, T0 - 1, &cs, &n, &err) ==
			0 &&
		    n == 0 && cs == NULL);
out:
	store_close(&s);
	test_end();
}

int main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	test_open_empty();
	test_open_refused();
	test_migrate_from_v1();
	test_migrate_from_v2();
	test_pools_clients_domains();
	test_inboxes();
	test_inbox_refusals();
	test_inbox_clear_wipes();
	test_settings();
	test_events();
	test_metacharacters();
	test_ramp_days();
	test_exchanges();
	test_job_attempts();
	test_ramp_day_add();
	test_ramp_day_list();
	test_exchange_update();
	test_exchange_list_state();
	test_exchange_engage();
	test_exchange_pairs();
	test_exchange_count();
	test_exchange_failures();
	test_plan_days();
	test_notices_and_checks();
	test_query_plans();
	test_inbox_remove();
	test_transactions_and_busy();
	rm_tmpdir();
	return test_exit();
}
