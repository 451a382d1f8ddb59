// SPDX-License-Identifier: MIT
/*
 * The store's directory of who warms whom: pools, clients, domains and
 * inboxes (schema v1; ramp_overrides from v3), and the purge that removes
 * an inbox with its history.
 */
#include "store_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hearth/xalloc.h"

/* ---- pools ---- */

#define POOL_COLUMNS "id, name, seed, lang, created_at"

static void store_pool_row(sqlite3_stmt *st, void *elem)
{
	struct store_pool *p = elem;

	p->id = sqlite3_column_int64(st, 0);
	p->name = store_col_text(st, 1);
	/* stored as the int64 of the same 64 bits */
	p->seed = (uint64_t)sqlite3_column_int64(st, 2);
	p->lang = store_col_text(st, 3);
	p->created_at = sqlite3_column_int64(st, 4);
}

static void store_pool_clear_elem(void *elem)
{
	store_pool_clear(elem);
}

int store_pool_add(struct store *s, const char *name, uint64_t seed,
		   const char *lang, int64_t now, int64_t *id_r,
		   struct hearth_err *err)
{
	sqlite3_stmt *st;
	int rc = SQLITE_OK;
	char what[192], dup[192];

	st = store_stmt(s, STORE_SQL_POOL_ADD,
			"INSERT INTO pools (name, seed, lang, created_at) "
			"VALUES (?1, ?2, ?3, ?4)",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "add pool %s", name);
	snprintf(dup, sizeof(dup), "pool %s already exists", name);
	store_bind_text(st, 1, name, &rc);
	store_bind_int64(st, 2, (int64_t)seed, &rc);
	store_bind_text(st, 3, lang, &rc);
	store_bind_int64(st, 4, now, &rc);
	return store_step_insert(s, st, rc, id_r, dup, err, what);
}

int store_pool_get(struct store *s, const char *name, struct store_pool *pool_r,
		   struct hearth_err *err)
{
	sqlite3_stmt *st;
	int rc = SQLITE_OK;
	char what[192];

	memset(pool_r, 0, sizeof(*pool_r));
	st = store_stmt(s, STORE_SQL_POOL_GET,
			"SELECT " POOL_COLUMNS " FROM pools WHERE name = ?1",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "read pool %s", name);
	store_bind_text(st, 1, name, &rc);
	return store_get_row(s, st, rc, store_pool_row, pool_r, err, what);
}

int store_pool_get_id(struct store *s, int64_t id, struct store_pool *pool_r,
		      struct hearth_err *err)
{
	sqlite3_stmt *st;
	int rc = SQLITE_OK;
	char what[64];

	memset(pool_r, 0, sizeof(*pool_r));
	st =
	    store_stmt(s, STORE_SQL_POOL_GET_ID,
		       "SELECT " POOL_COLUMNS " FROM pools WHERE id = ?1", err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "read pool %lld", (long long)id);
	store_bind_int64(st, 1, id, &rc);
	return store_get_row(s, st, rc, store_pool_row, pool_r, err, what);
}

int store_pool_list(struct store *s, struct store_pool **pools_r, size_t *n_r,
		    struct hearth_err *err)
{
	sqlite3_stmt *st;
	int ret;

	*pools_r = NULL;
	*n_r = 0;
	st =
	    store_stmt(s, STORE_SQL_POOL_LIST,
		       "SELECT " POOL_COLUMNS " FROM pools ORDER BY name", err);
	if (st == NULL)
		return -1;
	*pools_r = store_get_rows(s, st, SQLITE_OK, store_pool_row,
				  store_pool_clear_elem, sizeof(**pools_r), n_r,
				  &ret, err, "list pools");
	return ret;
}

void store_pool_clear(struct store_pool *pool)
{
	free(pool->name);
	free(pool->lang);
	memset(pool, 0, sizeof(*pool));
}

void store_pool_list_free(struct store_pool **pools, size_t n)
{
	if (*pools == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		store_pool_clear(&(*pools)[i]);
	free(*pools);
	*pools = NULL;
}

/* ---- clients ---- */

#define CLIENT_COLUMNS "id, name, display_name, created_at"

static void store_client_row(sqlite3_stmt *st, void *elem)
{
	struct store_client *c = elem;

	c->id = sqlite3_column_int64(st, 0);
	c->name = store_col_text(st, 1);
	c->display_name = store_col_text(st, 2);
	c->created_at = sqlite3_column_int64(st, 3);
}

static void store_client_clear_elem(void *elem)
{
	store_client_clear(elem);
}

int store_client_add(struct store *s, const char *name,
		     const char *display_name, int64_t now, int64_t *id_r,
		     struct hearth_err *err)
{
	sqlite3_stmt *st;
	int rc = SQLITE_OK;
	char what[192], dup[192];

	st = store_stmt(s, STORE_SQL_CLIENT_ADD,
			"INSERT INTO clients (name, display_name, created_at) "
			"VALUES (?1, ?2, ?3)",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "add client %s", name);
	snprintf(dup, sizeof(dup), "client %s already exists", name);
	store_bind_text(st, 1, name, &rc);
	store_bind_text(st, 2, display_name, &rc);
	store_bind_int64(st, 3, now, &rc);
	return store_step_insert(s, st, rc, id_r, dup, err, what);
}

int store_client_get(struct store *s, const char *name,
		     struct store_client *client_r, struct hearth_err *err)
{
	sqlite3_stmt *st;
	int rc = SQLITE_OK;
	char what[192];

	memset(client_r, 0, sizeof(*client_r));
	st = store_stmt(
	    s, STORE_SQL_CLIENT_GET,
	    "SELECT " CLIENT_COLUMNS " FROM clients WHERE name = ?1", err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "read client %s", name);
	store_bind_text(st, 1, name, &rc);
	return store_get_row(s, st, rc, store_client_row, client_r, err, what);
}

int store_client_get_id(struct store *s, int64_t id,
			struct store_client *client_r, struct hearth_err *err)
{
	sqlite3_stmt *st;
	int rc = SQLITE_OK;
	char what[64];

	memset(client_r, 0, sizeof(*client_r));
	st = store_stmt(s, STORE_SQL_CLIENT_GET_ID,
			"SELECT " CLIENT_COLUMNS " FROM clients WHERE id = ?1",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "read client %lld", (long long)id);
	store_bind_int64(st, 1, id, &rc);
	return store_get_row(s, st, rc, store_client_row, client_r, err, what);
}

int store_client_list(struct store *s, struct store_client **clients_r,
		      size_t *n_r, struct hearth_err *err)
{
	sqlite3_stmt *st;
	int ret;

	*clients_r = NULL;
	*n_r = 0;
	st = store_stmt(s, STORE_SQL_CLIENT_LIST,
			"SELECT " CLIENT_COLUMNS " FROM clients ORDER BY name",
			err);
	if (st == NULL)
		return -1;
	*clients_r = store_get_rows(
	    s, st, SQLITE_OK, store_client_row, store_client_clear_elem,
	    sizeof(**clients_r), n_r, &ret, err, "list clients");
	return ret;
}

void store_client_clear(struct store_client *client)
{
	free(client->name);
	free(client->display_name);
	memset(client, 0, sizeof(*client));
}

void store_client_list_free(struct store_client **clients, size_t n)
{
	if (*clients == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		store_client_clear(&(*clients)[i]);
	free(*clients);
	*clients = NULL;
}

/* ---- domains ---- */

static void store_id_row(sqlite3_stmt *st, void *out)
{
	*(int64_t *)out = sqlite3_column_int64(st, 0);
}

int store_domain_ensure(struct store *s, const char *domain, int64_t now,
			int64_t *id_r, struct hearth_err *err)
{
	sqlite3_stmt *st;
	char *name = store_lower(domain);
	char what[192];
	int rc = SQLITE_OK, ret = -1;
	int64_t id = 0;

	snprintf(what, sizeof(what), "add domain %s", name);
	/* insert-if-missing, then read: correct even if another writer
	 * added the row in between, as rows are never deleted */
	st =
	    store_stmt(s, STORE_SQL_DOMAIN_INSERT,
		       "INSERT INTO domains (name, created_at) VALUES (?1, ?2) "
		       "ON CONFLICT (name) DO NOTHING",
		       err);
	if (st == NULL)
		goto out;
	store_bind_text(st, 1, name, &rc);
	store_bind_int64(st, 2, now, &rc);
	if (store_step_insert(s, st, rc, NULL, NULL, err, what) < 0)
		goto out;
	st = store_stmt(s, STORE_SQL_DOMAIN_GET,
			"SELECT id FROM domains WHERE name = ?1", err);
	if (st == NULL)
		goto out;
	store_bind_text(st, 1, name, &rc);
	rc = store_get_row(s, st, rc, store_id_row, &id, err, what);
	if (rc == 0)
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "%s: the row vanished", what);
	if (rc != 1)
		goto out;
	if (id_r != NULL)
		*id_r = id;
	ret = 0;
out:
	free(name);
	return ret;
}

/* ---- inboxes ---- */

#define INBOX_COLUMNS                                                          \
	"id, address, display_name, pool_id, client_id, domain_id, "           \
	"provider, smtp_host, smtp_port, smtp_security, imap_host, "           \
	"imap_port, imap_security, username, secret_kind, secret_sealed, "     \
	"secret_command, ramp_profile, window_start, window_end, timezone, "   \
	"state, state_reason, probed_at, probe_error, spam_folder, "           \
	"sent_folder, trash_folder, archive_folder, spam_found_by, caps, "     \
	"smtp_fingerprint, imap_fingerprint, created_at, ramp_overrides"

static void store_inbox_row(sqlite3_stmt *st, void *elem)
{
	struct store_inbox *x = elem;

	x->id = sqlite3_column_int64(st, 0);
	x->address = store_col_text(st, 1);
	x->display_name = store_col_text(st, 2);
	x->pool_id = sqlite3_column_int64(st, 3);
	x->client_id = sqlite3_column_int64(st, 4);
	x->domain_id = sqlite3_column_int64(st, 5);
	x->provider = store_col_text(st, 6);
	x->smtp_host = store_col_text(st, 7);
	x->smtp_port = sqlite3_column_int(st, 8);
	x->smtp_security = store_col_text(st, 9);
	x->imap_host = store_col_text(st, 10);
	x->imap_port = sqlite3_column_int(st, 11);
	x->imap_security = store_col_text(st, 12);
	x->username = store_col_text(st, 13);
	x->secret_kind = store_col_text(st, 14);
	store_col_blob(st, 15, &x->secret_sealed, &x->secret_sealed_len);
	x->secret_command = store_col_text(st, 16);
	x->ramp_profile = store_col_text(st, 17);
	x->window_start = store_col_text(st, 18);
	x->window_end = store_col_text(st, 19);
	x->timezone = store_col_text(st, 20);
	x->state = store_col_text(st, 21);
	x->state_reason = store_col_text(st, 22);
	x->probed_at = sqlite3_column_int64(st, 23);
	x->probe_error = store_col_text(st, 24);
	x->spam_folder = store_col_text(st, 25);
	x->sent_folder = store_col_text(st, 26);
	x->trash_folder = store_col_text(st, 27);
	x->archive_folder = store_col_text(st, 28);
	x->spam_found_by = sqlite3_column_int(st, 29);
	x->caps = (unsigned)sqlite3_column_int64(st, 30);
	x->smtp_fingerprint = store_col_text(st, 31);
	x->imap_fingerprint = store_col_text(st, 32);
	x->created_at = sqlite3_column_int64(st, 33);
	x->ramp_overrides = store_col_text(st, 34);
}

static void store_inbox_clear_elem(void *elem)
{
	store_inbox_clear(elem);
}

/*
 * The columns add and update share, bound as ?1 to ?32 in the order of
 * INBOX_MUTABLE; add binds address and created_at as ?33 and ?34, update
 * binds the id as ?33.
 */
#define INBOX_MUTABLE                                                          \
	"display_name, pool_id, client_id, domain_id, provider, smtp_host, "   \
	"smtp_port, smtp_security, imap_host, imap_port, imap_security, "      \
	"username, secret_kind, secret_sealed, secret_command, "               \
	"ramp_profile, window_start, window_end, timezone, state, "            \
	"state_reason, probed_at, probe_error, spam_folder, sent_folder, "     \
	"trash_folder, archive_folder, spam_found_by, caps, "                  \
	"smtp_fingerprint, imap_fingerprint, ramp_overrides"

static void store_inbox_bind(sqlite3_stmt *st, const struct store_inbox *x,
			     int *rc)
{
	store_bind_text(st, 1, x->display_name, rc);
	store_bind_int64(st, 2, x->pool_id, rc);
	store_bind_int64(st, 3, x->client_id, rc);
	store_bind_int64(st, 4, x->domain_id, rc);
	store_bind_text(st, 5, x->provider, rc);
	store_bind_text(st, 6, x->smtp_host, rc);
	store_bind_int64(st, 7, x->smtp_port, rc);
	store_bind_text(st, 8, x->smtp_security, rc);
	store_bind_text(st, 9, x->imap_host, rc);
	store_bind_int64(st, 10, x->imap_port, rc);
	store_bind_text(st, 11, x->imap_security, rc);
	store_bind_text(st, 12, x->username, rc);
	store_bind_text(st, 13, x->secret_kind, rc);
	store_bind_blob(st, 14, x->secret_sealed, x->secret_sealed_len, rc);
	store_bind_text(st, 15, x->secret_command, rc);
	store_bind_text(st, 16, x->ramp_profile, rc);
	store_bind_text(st, 17, x->window_start, rc);
	store_bind_text(st, 18, x->window_end, rc);
	store_bind_text(st, 19, x->timezone, rc);
	store_bind_text(st, 20, x->state != NULL ? x->state : "active", rc);
	store_bind_text(st, 21, x->state_reason, rc);
	store_bind_int64(st, 22, x->probed_at, rc);
	store_bind_text(st, 23, x->probe_error, rc);
	store_bind_text(st, 24, x->spam_folder, rc);
	store_bind_text(st, 25, x->sent_folder, rc);
	store_bind_text(st, 26, x->trash_folder, rc);
	store_bind_text(st, 27, x->archive_folder, rc);
	store_bind_int64(st, 28, x->spam_found_by, rc);
	store_bind_int64(st, 29, x->caps, rc);
	store_bind_text(st, 30, x->smtp_fingerprint, rc);
	store_bind_text(st, 31, x->imap_fingerprint, rc);
	store_bind_text(st, 32, x->ramp_overrides, rc);
}

int store_inbox_add(struct store *s, struct store_inbox *inbox,
		    struct hearth_err *err)
{
	sqlite3_stmt *st;
	char *address;
	char what[192], dup[192];
	int rc = SQLITE_OK, ret;

	st = store_stmt(s, STORE_SQL_INBOX_ADD,
			"INSERT INTO inboxes (" INBOX_MUTABLE
			", address, created_at) VALUES (?1, ?2, ?3, ?4, ?5, "
			"?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
			"?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, "
			"?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34)",
			err);
	if (st == NULL)
		return -1;
	address = inbox->address != NULL ? store_lower(inbox->address) : NULL;
	snprintf(what, sizeof(what), "enroll inbox %s",
		 address != NULL ? address : "(no address)");
	snprintf(dup, sizeof(dup), "inbox %s is already enrolled",
		 address != NULL ? address : "");
	store_inbox_bind(st, inbox, &rc);
	store_bind_text(st, 33, address, &rc);
	store_bind_int64(st, 34, inbox->created_at, &rc);
	/* the address is the table's only UNIQUE column */
	ret = store_step_insert(s, st, rc, &inbox->id, dup, err, what);
	free(address);
	return ret;
}

int store_inbox_next_id(struct store *s, int64_t *id_r, struct hearth_err *err)
{
	sqlite3_stmt *st;
	int rc;

	st = store_stmt(s, STORE_SQL_INBOX_NEXT_ID,
			"SELECT coalesce(max(id), 0) + 1 FROM inboxes", err);
	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		store_fail(s, rc, err, "next inbox id");
		store_stmt_done(st);
		return -1;
	}
	*id_r = sqlite3_column_int64(st, 0);
	store_stmt_done(st);
	return 0;
}

int store_inbox_update(struct store *s, const struct store_inbox *inbox,
		       struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[64], not_found[64];
	int rc = SQLITE_OK;

	st = store_stmt(s, STORE_SQL_INBOX_UPDATE,
			"UPDATE inboxes SET display_name = ?1, pool_id = ?2, "
			"client_id = ?3, domain_id = ?4, provider = ?5, "
			"smtp_host = ?6, smtp_port = ?7, smtp_security = ?8, "
			"imap_host = ?9, imap_port = ?10, imap_security = ?11, "
			"username = ?12, secret_kind = ?13, "
			"secret_sealed = ?14, secret_command = ?15, "
			"ramp_profile = ?16, window_start = ?17, "
			"window_end = ?18, timezone = ?19, state = ?20, "
			"state_reason = ?21, probed_at = ?22, "
			"probe_error = ?23, spam_folder = ?24, "
			"sent_folder = ?25, trash_folder = ?26, "
			"archive_folder = ?27, spam_found_by = ?28, "
			"caps = ?29, smtp_fingerprint = ?30, "
			"imap_fingerprint = ?31, ramp_overrides = ?32 "
			"WHERE id = ?33",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "update inbox %lld", (long long)inbox->id);
	snprintf(not_found, sizeof(not_found), "inbox %lld not found",
		 (long long)inbox->id);
	store_inbox_bind(st, inbox, &rc);
	store_bind_int64(st, 33, inbox->id, &rc);
	return store_step_change(s, st, rc, not_found, err, what);
}

int store_inbox_get(struct store *s, const char *address,
		    struct store_inbox *inbox_r, struct hearth_err *err)
{
	sqlite3_stmt *st;
	char *key;
	char what[192];
	int rc = SQLITE_OK, ret;

	memset(inbox_r, 0, sizeof(*inbox_r));
	st = store_stmt(
	    s, STORE_SQL_INBOX_GET,
	    "SELECT " INBOX_COLUMNS " FROM inboxes WHERE address = ?1", err);
	if (st == NULL)
		return -1;
	key = store_lower(address);
	snprintf(what, sizeof(what), "read inbox %s", key);
	store_bind_text(st, 1, key, &rc);
	ret = store_get_row(s, st, rc, store_inbox_row, inbox_r, err, what);
	free(key);
	return ret;
}

int store_inbox_get_id(struct store *s, int64_t id, struct store_inbox *inbox_r,
		       struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[64];
	int rc = SQLITE_OK;

	memset(inbox_r, 0, sizeof(*inbox_r));
	st = store_stmt(s, STORE_SQL_INBOX_GET_ID,
			"SELECT " INBOX_COLUMNS " FROM inboxes WHERE id = ?1",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "read inbox %lld", (long long)id);
	store_bind_int64(st, 1, id, &rc);
	return store_get_row(s, st, rc, store_inbox_row, inbox_r, err, what);
}

int store_inbox_list(struct store *s, int64_t client_id, int64_t pool_id,
		     bool include_removed, struct store_inbox **inboxes_r,
		     size_t *n_r, struct hearth_err *err)
{
	sqlite3_stmt *st;
	int rc = SQLITE_OK, ret;

	*inboxes_r = NULL;
	*n_r = 0;
	st = store_stmt(s, STORE_SQL_INBOX_LIST,
			"SELECT " INBOX_COLUMNS " FROM inboxes "
			"WHERE (?1 = 0 OR client_id = ?1) "
			"AND (?2 = 0 OR pool_id = ?2) "
			"AND (?3 OR state <> 'removed') ORDER BY address",
			err);
	if (st == NULL)
		return -1;
	store_bind_int64(st, 1, client_id, &rc);
	store_bind_int64(st, 2, pool_id, &rc);
	store_bind_int64(st, 3, include_removed, &rc);
	*inboxes_r =
	    store_get_rows(s, st, rc, store_inbox_row, store_inbox_clear_elem,
			   sizeof(**inboxes_r), n_r, &ret, err, "list inboxes");
	return ret;
}

int store_inbox_set_state(struct store *s, int64_t id, const char *state,
			  const char *reason, struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[128], not_found[64];
	int rc = SQLITE_OK;

	/* a removed inbox keeps no secret (the schema checks it) */
	st = store_stmt(s, STORE_SQL_INBOX_SET_STATE,
			"UPDATE inboxes SET state = ?2, state_reason = ?3, "
			"secret_sealed = CASE WHEN ?2 = 'removed' THEN NULL "
			"ELSE secret_sealed END, "
			"secret_command = CASE WHEN ?2 = 'removed' THEN NULL "
			"ELSE secret_command END WHERE id = ?1",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "set inbox %lld to %s", (long long)id,
		 state != NULL ? state : "(no state)");
	snprintf(not_found, sizeof(not_found), "inbox %lld not found",
		 (long long)id);
	store_bind_int64(st, 1, id, &rc);
	store_bind_text(st, 2, state, &rc);
	store_bind_text(st, 3, reason, &rc);
	return store_step_change(s, st, rc, not_found, err, what);
}

/* Run one cached statement whose only parameter ?1 is an id. */
static int store_exec_id(struct store *s, enum store_sql slot, const char *sql,
			 int64_t id, struct hearth_err *err, const char *what)
{
	sqlite3_stmt *st = store_stmt(s, slot, sql, err);
	int rc = SQLITE_OK;

	if (st == NULL)
		return -1;
	store_bind_int64(st, 1, id, &rc);
	if (rc != SQLITE_OK) {
		store_fail(s, rc, err, "%s", what);
		store_stmt_done(st);
		return -1;
	}
	return store_step_done(s, st, err, what);
}

/*
 * Children before parents, as the foreign keys are not cascading (a stray
 * DELETE elsewhere must fail, not wipe history); the inbox's events go by
 * the one cascade, which the event log's trigger allows only once the inbox
 * row is gone. Plan days belong to the pool and stay.
 */
static int store_inbox_purge(struct store *s, int64_t id,
			     struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[64], not_found[64];
	int rc = SQLITE_OK;

	snprintf(what, sizeof(what), "purge inbox %lld", (long long)id);
	snprintf(not_found, sizeof(not_found), "inbox %lld not found",
		 (long long)id);
	if (store_exec_id(s, STORE_SQL_PURGE_ATTEMPTS,
			  "DELETE FROM job_attempts WHERE inbox_id = ?1 "
			  "OR exchange_id IN (SELECT id FROM exchanges "
			  "WHERE sender_inbox_id = ?1 "
			  "OR recipient_inbox_id = ?1)",
			  id, err, what) < 0)
		return -1;
	if (store_exec_id(s, STORE_SQL_PURGE_EXCHANGES,
			  "DELETE FROM exchanges WHERE sender_inbox_id = ?1 "
			  "OR recipient_inbox_id = ?1",
			  id, err, what) < 0)
		return -1;
	if (store_exec_id(s, STORE_SQL_PURGE_RAMP_DAYS,
			  "DELETE FROM ramp_days WHERE inbox_id = ?1", id, err,
			  what) < 0)
		return -1;
	st = store_stmt(s, STORE_SQL_PURGE_INBOX,
			"DELETE FROM inboxes WHERE id = ?1", err);
	if (st == NULL)
		return -1;
	store_bind_int64(st, 1, id, &rc);
	return store_step_change(s, st, rc, not_found, err, what);
}

int store_inbox_remove(struct store *s, int64_t id, bool purge,
		       struct hearth_err *err)
{
	bool nested;
	int ret;

	if (!purge)
		return store_inbox_set_state(s, id, "removed", NULL, err);
	if (store_op_begin(s, &nested, err) < 0)
		return -1;
	ret = store_inbox_purge(s, id, err);
	if (store_op_end(s, nested, ret == 0, err) < 0)
		return -1;
	return ret;
}

void store_inbox_clear(struct store_inbox *inbox)
{
	if (inbox->secret_sealed != NULL) {
		explicit_bzero(inbox->secret_sealed, inbox->secret_sealed_len);
		free(inbox->secret_sealed);
	}
	/* not a secret itself, but it may well name one */
	if (inbox->secret_command != NULL) {
		explicit_bzero(inbox->secret_command,
			       strlen(inbox->secret_command));
		free(inbox->secret_command);
	}
	free(inbox->address);
	free(inbox->display_name);
	free(inbox->provider);
	free(inbox->smtp_host);
	free(inbox->smtp_security);
	free(inbox->imap_host);
	free(inbox->imap_security);
	free(inbox->username);
	free(inbox->secret_kind);
	free(inbox->ramp_profile);
	free(inbox->ramp_overrides);
	free(inbox->window_start);
	free(inbox->window_end);
	free(inbox->timezone);
	free(inbox->state);
	free(inbox->state_reason);
	free(inbox->probe_error);
	free(inbox->spam_folder);
	free(inbox->sent_folder);
	free(inbox->trash_folder);
	free(inbox->archive_folder);
	free(inbox->smtp_fingerprint);
	free(inbox->imap_fingerprint);
	explicit_bzero(inbox, sizeof(*inbox));
}

void store_inbox_list_free(struct store_inbox **inboxes, size_t n)
{
	if (*inboxes == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		store_inbox_clear(&(*inboxes)[i]);
	free(*inboxes);
	*inboxes = NULL;
}
