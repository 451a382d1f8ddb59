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

	test_begin("open from empty: v2, WAL, foreign keys, 0600");
	/* with no umask at all, the mode is still 0600 */
	old_umask = umask(0);
	test_assert(store_open(path, &s, &err) == 0);
	umask(old_umask);
	test_assert(s != NULL);
	if (s == NULL)
		goto out;
	test_assert(store_schema_version(s) == STORE_SCHEMA_VERSION);
	test_assert(query_int(s, "PRAGMA user_version") == 2);
	test_assert(query_int(s, "PRAGMA foreign_keys") == 1);
	test_assert(query_int(s, "PRAGMA busy_timeout") == 5000);
	test_assert(query_int(s, "PRAGMA application_id") == 0x48525448);
	test_assert(query_int(s, "SELECT journal_mode = 'wal' FROM "
				 "pragma_journal_mode") == 1);
	test_assert(has_table(s, "pools") && has_table(s, "clients") &&
		    has_table(s, "domains") && has_table(s, "inboxes") &&
		    has_table(s, "settings") && has_table(s, "events") &&
		    has_table(s, "ramp_days") && has_table(s, "exchanges") &&
		    has_table(s, "job_attempts"));
	test_assert(query_int(s, "SELECT count(*) FROM sqlite_schema WHERE "
				 "type = 'index' AND name IN "
				 "('exchanges_due', 'exchanges_recipient', "
				 "'job_attempts_inbox', 'events_inbox')") == 4);
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
	test_assert(s != NULL && store_schema_version(s) == 2);
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
				    "than this hearth understands (2): "
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

	test_assert(store_open_at_version(path, 3, &s, &err) == -1);
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
	struct store_inbox x, got = {0};
	struct store_pool pool = {0};
	struct store_event *events = NULL;
	struct store_ramp_day day = {.day = "2024-06-03", .planned = 4};
	char *v = NULL;
	size_t n = 0;
	int64_t pool_id = 0, client_id = 0, domain_id = 0;

	test_begin("a v1 database migrates to v2 with its rows kept");
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
	sample_inbox(&x, "anna@old.example", pool_id, client_id, domain_id);
	test_assert(store_inbox_add(s, &x, &err) == 0);
	test_assert(
	    store_event_add(s, T0, "inbox.enrolled", x.id, "v1", &err) == 0);
	test_assert(store_setting_set(s, "token_header", "X-Ref", &err) == 0);
	store_close(&s);

	/* an older binary's database, opened by this one */
	test_assert(store_open(path, &s, &err) == 0);
	if (s == NULL)
		goto out;
	test_assert(store_schema_version(s) == 2);
	test_assert(has_table(s, "ramp_days") && has_table(s, "exchanges") &&
		    has_table(s, "job_attempts"));
	test_assert(store_pool_get(s, "p1", &pool, &err) == 1);
	test_assert(pool.id == pool_id && pool.seed == 7);
	test_assert(store_inbox_get(s, "anna@old.example", &got, &err) == 1);
	test_assert(got.id == x.id && got.secret_sealed_len == 6);
	test_assert(store_event_list(s, x.id, 0, &events, &n, &err) == 0);
	test_assert(n == 1 && str_eq(events[0].detail, "v1"));
	test_assert(store_setting_get(s, "token_header", &v, &err) == 1);
	test_assert(str_eq(v, "X-Ref"));
	/* and the new tables work against the old rows */
	day.inbox_id = x.id;
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
	test_assert(store_inbox_add(s, &y, &err) == 0);
	test_assert(store_inbox_list(s, 0, 0, false, &list, &n, &err) == 0);
	test_assert(n == 3 && str_eq(list[0].address, "al@acme.example") &&
		    str_eq(list[1].address, "anna.berg@acme.example") &&
		    str_eq(list[2].address, "bo@acme.example"));
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
	size_t n = 0;
	int64_t ids[2] = {0}, x_id = 0, reply_id = 0, third_id = 0;

	test_begin("inbox remove: keep history, or purge it");
	if (s == NULL || add_history(s, ids, &x_id, &reply_id, &third_id) < 0)
		goto out;

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
	test_assert(x.parent_exchange_id == 0);
	store_exchange_clear(&x);
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

int main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	test_open_empty();
	test_open_refused();
	test_migrate_from_v1();
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
	test_inbox_remove();
	test_transactions_and_busy();
	rm_tmpdir();
	return test_exit();
}
