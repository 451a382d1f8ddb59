/* SPDX-License-Identifier: MIT */
/*
 * What the files of the store share: the handle, its statement cache, and
 * the helpers that bind, read columns and turn SQLite errors into
 * struct hearth_err.
 */
#ifndef HEARTH_STORE_PRIVATE_H
#define HEARTH_STORE_PRIVATE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "hearth/err.h"
#include "hearth/store.h"

/* Every cached statement has a slot; one call site per slot. */
enum store_sql {
	STORE_SQL_BEGIN,
	STORE_SQL_COMMIT,
	STORE_SQL_ROLLBACK,
	STORE_SQL_SAVEPOINT,
	STORE_SQL_RELEASE,
	STORE_SQL_ROLLBACK_TO,
	STORE_SQL_USER_VERSION,
	STORE_SQL_DATA_VERSION,
	STORE_SQL_SETTING_GET,
	STORE_SQL_SETTING_SET,
	STORE_SQL_EVENT_ADD,
	STORE_SQL_EVENT_LIST_ALL,
	STORE_SQL_EVENT_LIST_INBOX,
	STORE_SQL_POOL_ADD,
	STORE_SQL_POOL_GET,
	STORE_SQL_POOL_GET_ID,
	STORE_SQL_POOL_LIST,
	STORE_SQL_CLIENT_ADD,
	STORE_SQL_CLIENT_GET,
	STORE_SQL_CLIENT_GET_ID,
	STORE_SQL_CLIENT_LIST,
	STORE_SQL_DOMAIN_INSERT,
	STORE_SQL_DOMAIN_GET,
	STORE_SQL_INBOX_ADD,
	STORE_SQL_INBOX_NEXT_ID,
	STORE_SQL_INBOX_UPDATE,
	STORE_SQL_INBOX_GET,
	STORE_SQL_INBOX_GET_ID,
	STORE_SQL_INBOX_LIST,
	STORE_SQL_INBOX_SET_STATE,
	STORE_SQL_PURGE_ATTEMPTS,
	STORE_SQL_PURGE_EXCHANGES,
	STORE_SQL_PURGE_RAMP_DAYS,
	STORE_SQL_PURGE_INBOX,
	STORE_SQL_RAMP_DAY_UPSERT,
	STORE_SQL_RAMP_DAY_ADD,
	STORE_SQL_RAMP_DAY_SET_PLAN,
	STORE_SQL_RAMP_DAY_LIST,
	STORE_SQL_RAMP_DAY_GET,
	STORE_SQL_EXCHANGE_ADD,
	STORE_SQL_EXCHANGE_GET,
	STORE_SQL_EXCHANGE_SET_STATE,
	STORE_SQL_EXCHANGE_SET_PLACEMENT,
	STORE_SQL_EXCHANGE_UPDATE,
	STORE_SQL_EXCHANGE_LIST_STATE,
	STORE_SQL_EXCHANGE_LIST_ENGAGE,
	STORE_SQL_EXCHANGE_DUE_ALL,
	STORE_SQL_EXCHANGE_DUE_ONE,
	STORE_SQL_EXCHANGE_PAIRS,
	STORE_SQL_EXCHANGE_COUNT_DAY,
	STORE_SQL_EXCHANGE_COUNT_SENDER,
	STORE_SQL_EXCHANGE_COUNT_POOL,
	STORE_SQL_EXCHANGE_COUNT_ALL,
	STORE_SQL_EXCHANGE_FAILURES_DAY,
	STORE_SQL_EXCHANGE_FAILURES_ALL,
	STORE_SQL_PLAN_DAY_ADD,
	STORE_SQL_PLAN_DAY_GET,
	STORE_SQL_PLAN_DAY_LAST,
	STORE_SQL_JOB_ATTEMPT_ADD,
	STORE_SQL_JOB_ATTEMPT_LIST,
	STORE_SQL_EXCHANGE_FIND_TOKEN,
	STORE_SQL_EXCHANGE_FIND_MESSAGE_ID,
	STORE_SQL_EXCHANGE_BOUNCE,
	STORE_SQL_EXCHANGE_AUTO_REPLY,
	STORE_SQL_DOMAIN_CHECK_ADD,
	STORE_SQL_DOMAIN_CHECK_LATEST_ALL,
	STORE_SQL_DOMAIN_CHECK_LATEST_ONE,
	STORE_SQL_COUNT
};

struct store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stmt[STORE_SQL_COUNT];
};

/*
 * The cached statement of slot id, prepared from sql on first use. Reset
 * it with store_stmt_done() before returning. NULL on failure (*err set).
 */
sqlite3_stmt *store_stmt(struct store *s, enum store_sql id, const char *sql,
			 struct hearth_err *err);
/* Reset and clear the bindings, so the next user starts clean. */
void store_stmt_done(sqlite3_stmt *st);

/*
 * Fill *err from SQLite result rc: "what: SQLite's message"; busy or locked
 * is HEARTH_FAIL_RETRY, anything else HEARTH_FAIL_PERMANENT. Returns -1.
 */
int store_fail(struct store *s, int rc, struct hearth_err *err, const char *fmt,
	       ...) __attribute__((format(printf, 4, 5)));

/*
 * Step a statement that returns no row; on failure fill *err with what.
 * The statement is reset either way. 0 or -1.
 */
int store_step_done(struct store *s, sqlite3_stmt *st, struct hearth_err *err,
		    const char *what);

/*
 * Binding with a sticky result: each does nothing once *rc is not
 * SQLITE_OK, so a run of binds is checked once at the end. A NULL string or
 * blob binds NULL; an id of 0 binds NULL (no reference).
 */
void store_bind_text(sqlite3_stmt *st, int i, const char *v, int *rc);
void store_bind_blob(sqlite3_stmt *st, int i, const void *v, size_t len,
		     int *rc);
void store_bind_int64(sqlite3_stmt *st, int i, int64_t v, int *rc);
void store_bind_id(sqlite3_stmt *st, int i, int64_t id, int *rc);

/* A column's text, copied (caller frees); NULL for SQL NULL. */
char *store_col_text(sqlite3_stmt *st, int col);
/* A column's blob, copied into *v_r / *len_r; NULL and 0 for SQL NULL. */
void store_col_blob(sqlite3_stmt *st, int col, unsigned char **v_r,
		    size_t *len_r);

/*
 * An atomic multi-statement operation: its own transaction outside one, a
 * savepoint inside the caller's. store_op_end commits (ok) or undoes it
 * (!ok); it returns 0, or -1 if the commit failed (then undone, *err set).
 */
int store_op_begin(struct store *s, bool *nested_r, struct hearth_err *err);
int store_op_end(struct store *s, bool nested, bool ok, struct hearth_err *err);

/*
 * Reading rows. A row function fills one element from the current row; a
 * clear function releases one element.
 */
typedef void store_row_fn(sqlite3_stmt *st, void *elem);
typedef void store_clear_fn(void *elem);

/*
 * Step st (whose binds returned rc) for at most one row: 1 and *out filled
 * by row, 0 when there is none, -1 (*err says what failed). st is reset.
 */
int store_get_row(struct store *s, sqlite3_stmt *st, int rc, store_row_fn *row,
		  void *out, struct hearth_err *err, const char *what);
/*
 * Step st (whose binds returned rc) through all its rows into a new array
 * of elements of size bytes: returns it (NULL when empty) with *n_r, and
 * *ret_r 0; on failure NULL, 0 and -1 (*err set). st is reset.
 */
void *store_get_rows(struct store *s, sqlite3_stmt *st, int rc,
		     store_row_fn *row, store_clear_fn *clear, size_t size,
		     size_t *n_r, int *ret_r, struct hearth_err *err,
		     const char *what);
/*
 * Step an INSERT (whose binds returned rc): 0 and *id_r (may be NULL) the
 * new rowid; a UNIQUE or PRIMARY KEY violation with dup non-NULL fails
 * with dup as the message (HEARTH_FAIL_PERMANENT); else -1 saying what. st
 * is reset.
 */
int store_step_insert(struct store *s, sqlite3_stmt *st, int rc, int64_t *id_r,
		      const char *dup, struct hearth_err *err,
		      const char *what);
/*
 * Step an UPDATE or DELETE (whose binds returned rc) that must touch a
 * row: 0, or -1 with not_found as the message when it touched none. st is
 * reset.
 */
int store_step_change(struct store *s, sqlite3_stmt *st, int rc,
		      const char *not_found, struct hearth_err *err,
		      const char *what);

/* Grow an array of n elements of size to hold one more. */
void *store_grow(void *array, size_t n, size_t *cap, size_t size);

/* Lower-case copy of s (ASCII letters only: SQLite's lower() agrees). */
char *store_lower(const char *s);

#endif
