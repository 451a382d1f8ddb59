// SPDX-License-Identifier: MIT
/*
 * The store's record of the warmup itself (schema v2): ramp days,
 * exchanges and job attempts. The exchange state machine lives in the
 * schema (a trigger), so this file only names the change it wants.
 */
#include "store_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hearth/xalloc.h"

/* ---- ramp days ---- */

static void store_ramp_day_row(sqlite3_stmt *st, void *elem)
{
	struct store_ramp_day *d = elem;
	const unsigned char *day;

	d->inbox_id = sqlite3_column_int64(st, 0);
	day = sqlite3_column_text(st, 1);
	snprintf(d->day, sizeof(d->day), "%s",
		 day != NULL ? (const char *)day : "");
	d->planned = sqlite3_column_int(st, 2);
	d->sent = sqlite3_column_int(st, 3);
	d->inbox = sqlite3_column_int(st, 4);
	d->spam = sqlite3_column_int(st, 5);
	d->other = sqlite3_column_int(st, 6);
	d->missing = sqlite3_column_int(st, 7);
	d->rescued = sqlite3_column_int(st, 8);
	d->read = sqlite3_column_int(st, 9);
	d->flagged = sqlite3_column_int(st, 10);
	d->replied = sqlite3_column_int(st, 11);
	d->failed = sqlite3_column_int(st, 12);
	d->bounced = sqlite3_column_int(st, 13);
	d->ramp_state = store_col_text(st, 14);
}

int store_ramp_day_upsert(struct store *s, const struct store_ramp_day *day,
			  struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[96];
	int rc = SQLITE_OK;

	st = store_stmt(
	    s, STORE_SQL_RAMP_DAY_UPSERT,
	    "INSERT INTO ramp_days (inbox_id, day, planned, sent, inbox, "
	    "spam, other, missing, rescued, read, flagged, replied, "
	    "failed, bounced, ramp_state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
	    "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) "
	    "ON CONFLICT (inbox_id, day) DO UPDATE SET "
	    "planned = excluded.planned, sent = excluded.sent, "
	    "inbox = excluded.inbox, spam = excluded.spam, "
	    "other = excluded.other, missing = excluded.missing, "
	    "rescued = excluded.rescued, read = excluded.read, "
	    "flagged = excluded.flagged, replied = excluded.replied, "
	    "failed = excluded.failed, bounced = excluded.bounced, "
	    "ramp_state = excluded.ramp_state",
	    err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "record ramp day %s of inbox %lld",
		 day->day, (long long)day->inbox_id);
	store_bind_int64(st, 1, day->inbox_id, &rc);
	store_bind_text(st, 2, day->day, &rc);
	store_bind_int64(st, 3, day->planned, &rc);
	store_bind_int64(st, 4, day->sent, &rc);
	store_bind_int64(st, 5, day->inbox, &rc);
	store_bind_int64(st, 6, day->spam, &rc);
	store_bind_int64(st, 7, day->other, &rc);
	store_bind_int64(st, 8, day->missing, &rc);
	store_bind_int64(st, 9, day->rescued, &rc);
	store_bind_int64(st, 10, day->read, &rc);
	store_bind_int64(st, 11, day->flagged, &rc);
	store_bind_int64(st, 12, day->replied, &rc);
	store_bind_int64(st, 13, day->failed, &rc);
	store_bind_int64(st, 14, day->bounced, &rc);
	store_bind_text(st, 15, day->ramp_state, &rc);
	return store_step_insert(s, st, rc, NULL, NULL, err, what);
}

int store_ramp_day_get(struct store *s, int64_t inbox_id, const char *day,
		       struct store_ramp_day *day_r, struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[96];
	int rc = SQLITE_OK;

	memset(day_r, 0, sizeof(*day_r));
	st = store_stmt(s, STORE_SQL_RAMP_DAY_GET,
			"SELECT inbox_id, day, planned, sent, inbox, spam, "
			"other, missing, rescued, read, flagged, replied, "
			"failed, bounced, ramp_state FROM ramp_days "
			"WHERE inbox_id = ?1 AND day = ?2",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "read ramp day %.16s of inbox %lld", day,
		 (long long)inbox_id);
	store_bind_int64(st, 1, inbox_id, &rc);
	store_bind_text(st, 2, day, &rc);
	return store_get_row(s, st, rc, store_ramp_day_row, day_r, err, what);
}

void store_ramp_day_clear(struct store_ramp_day *day)
{
	free(day->ramp_state);
	memset(day, 0, sizeof(*day));
}

/* ---- exchanges ---- */

static void store_exchange_row(sqlite3_stmt *st, void *elem)
{
	struct store_exchange *x = elem;

	x->id = sqlite3_column_int64(st, 0);
	x->pool_id = sqlite3_column_int64(st, 1);
	x->sender_inbox_id = sqlite3_column_int64(st, 2);
	x->recipient_inbox_id = sqlite3_column_int64(st, 3);
	x->parent_exchange_id = sqlite3_column_int64(st, 4);
	x->token = store_col_text(st, 5);
	x->message_id = store_col_text(st, 6);
	x->subject = store_col_text(st, 7);
	x->planned_at = sqlite3_column_int64(st, 8);
	x->sent_at = sqlite3_column_int64(st, 9);
	x->state = store_col_text(st, 10);
	x->placement = store_col_text(st, 11);
	x->folder = store_col_text(st, 12);
	x->locate_method = store_col_text(st, 13);
	x->rescued = sqlite3_column_int(st, 14) != 0;
	x->read = sqlite3_column_int(st, 15) != 0;
	x->flagged = sqlite3_column_int(st, 16) != 0;
	x->replied = sqlite3_column_int(st, 17) != 0;
	x->smtp_code = sqlite3_column_int(st, 18);
	x->error = store_col_text(st, 19);
}

int store_exchange_add(struct store *s, struct store_exchange *x,
		       struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[128];
	int rc = SQLITE_OK;

	st = store_stmt(s, STORE_SQL_EXCHANGE_ADD,
			"INSERT INTO exchanges (pool_id, sender_inbox_id, "
			"recipient_inbox_id, parent_exchange_id, token, "
			"message_id, subject, planned_at) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "plan exchange from inbox %lld to %lld",
		 (long long)x->sender_inbox_id,
		 (long long)x->recipient_inbox_id);
	store_bind_int64(st, 1, x->pool_id, &rc);
	store_bind_int64(st, 2, x->sender_inbox_id, &rc);
	store_bind_int64(st, 3, x->recipient_inbox_id, &rc);
	store_bind_id(st, 4, x->parent_exchange_id, &rc);
	store_bind_text(st, 5, x->token, &rc);
	store_bind_text(st, 6, x->message_id, &rc);
	store_bind_text(st, 7, x->subject, &rc);
	store_bind_int64(st, 8, x->planned_at, &rc);
	/* the token is the table's only UNIQUE column */
	return store_step_insert(s, st, rc, &x->id,
				 "exchange token already in use", err, what);
}

int store_exchange_get(struct store *s, int64_t id, struct store_exchange *x_r,
		       struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[64];
	int rc = SQLITE_OK;

	memset(x_r, 0, sizeof(*x_r));
	st = store_stmt(s, STORE_SQL_EXCHANGE_GET,
			"SELECT id, pool_id, sender_inbox_id, "
			"recipient_inbox_id, parent_exchange_id, token, "
			"message_id, subject, planned_at, sent_at, state, "
			"placement, folder, locate_method, rescued, read, "
			"flagged, replied, smtp_code, error "
			"FROM exchanges WHERE id = ?1",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "read exchange %lld", (long long)id);
	store_bind_int64(st, 1, id, &rc);
	return store_get_row(s, st, rc, store_exchange_row, x_r, err, what);
}

int store_exchange_set_state(struct store *s, int64_t id, const char *state,
			     int64_t now, int smtp_code, const char *error,
			     struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[96], not_found[64];
	int rc = SQLITE_OK;

	st = store_stmt(s, STORE_SQL_EXCHANGE_SET_STATE,
			"UPDATE exchanges SET state = ?2, "
			"sent_at = CASE WHEN ?2 = 'sent' THEN ?3 "
			"ELSE sent_at END, smtp_code = ?4, error = ?5 "
			"WHERE id = ?1",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "set exchange %lld to %.16s",
		 (long long)id, state != NULL ? state : "(no state)");
	snprintf(not_found, sizeof(not_found), "exchange %lld not found",
		 (long long)id);
	store_bind_int64(st, 1, id, &rc);
	store_bind_text(st, 2, state, &rc);
	store_bind_int64(st, 3, now, &rc);
	store_bind_int64(st, 4, smtp_code, &rc);
	store_bind_text(st, 5, error, &rc);
	return store_step_change(s, st, rc, not_found, err, what);
}

int store_exchange_set_placement(struct store *s,
				 const struct store_exchange *x,
				 struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[96], not_found[64];
	int rc = SQLITE_OK;

	st = store_stmt(s, STORE_SQL_EXCHANGE_SET_PLACEMENT,
			"UPDATE exchanges SET placement = ?2, folder = ?3, "
			"locate_method = ?4, rescued = ?5, read = ?6, "
			"flagged = ?7, replied = ?8 WHERE id = ?1",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "record the placement of exchange %lld",
		 (long long)x->id);
	snprintf(not_found, sizeof(not_found), "exchange %lld not found",
		 (long long)x->id);
	store_bind_int64(st, 1, x->id, &rc);
	store_bind_text(st, 2, x->placement, &rc);
	store_bind_text(st, 3, x->folder, &rc);
	store_bind_text(st, 4, x->locate_method, &rc);
	store_bind_int64(st, 5, x->rescued, &rc);
	store_bind_int64(st, 6, x->read, &rc);
	store_bind_int64(st, 7, x->flagged, &rc);
	store_bind_int64(st, 8, x->replied, &rc);
	return store_step_change(s, st, rc, not_found, err, what);
}

void store_exchange_clear(struct store_exchange *x)
{
	free(x->token);
	free(x->message_id);
	free(x->subject);
	free(x->state);
	free(x->placement);
	free(x->folder);
	free(x->locate_method);
	free(x->error);
	memset(x, 0, sizeof(*x));
}

/* ---- job attempts ---- */

static void store_job_attempt_row(sqlite3_stmt *st, void *elem)
{
	struct store_job_attempt *a = elem;

	a->id = sqlite3_column_int64(st, 0);
	a->exchange_id = sqlite3_column_int64(st, 1);
	a->inbox_id = sqlite3_column_int64(st, 2);
	a->job_type = store_col_text(st, 3);
	a->started_at = sqlite3_column_int64(st, 4);
	a->finished_at = sqlite3_column_int64(st, 5);
	a->result = store_col_text(st, 6);
	a->fail_class = store_col_text(st, 7);
	a->code = sqlite3_column_int(st, 8);
	a->message = store_col_text(st, 9);
}

static void store_job_attempt_clear(void *elem)
{
	struct store_job_attempt *a = elem;

	free(a->job_type);
	free(a->result);
	free(a->fail_class);
	free(a->message);
	memset(a, 0, sizeof(*a));
}

int store_job_attempt_add(struct store *s, struct store_job_attempt *a,
			  struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[96];
	int rc = SQLITE_OK;

	st = store_stmt(s, STORE_SQL_JOB_ATTEMPT_ADD,
			"INSERT INTO job_attempts (exchange_id, inbox_id, "
			"job_type, started_at, finished_at, result, "
			"fail_class, code, message) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "record a %.16s attempt of inbox %lld",
		 a->job_type != NULL ? a->job_type : "(no type)",
		 (long long)a->inbox_id);
	store_bind_id(st, 1, a->exchange_id, &rc);
	store_bind_int64(st, 2, a->inbox_id, &rc);
	store_bind_text(st, 3, a->job_type, &rc);
	store_bind_int64(st, 4, a->started_at, &rc);
	store_bind_int64(st, 5, a->finished_at, &rc);
	store_bind_text(st, 6, a->result, &rc);
	store_bind_text(st, 7, a->fail_class, &rc);
	store_bind_int64(st, 8, a->code, &rc);
	store_bind_text(st, 9, a->message, &rc);
	return store_step_insert(s, st, rc, &a->id, NULL, err, what);
}

int store_job_attempt_list(struct store *s, int64_t inbox_id, size_t limit,
			   struct store_job_attempt **attempts_r, size_t *n_r,
			   struct hearth_err *err)
{
	sqlite3_stmt *st;
	int rc = SQLITE_OK, ret;

	*attempts_r = NULL;
	*n_r = 0;
	st = store_stmt(s, STORE_SQL_JOB_ATTEMPT_LIST,
			"SELECT id, exchange_id, inbox_id, job_type, "
			"started_at, finished_at, result, fail_class, code, "
			"message FROM job_attempts WHERE inbox_id = ?1 "
			"ORDER BY started_at DESC, id DESC LIMIT ?2",
			err);
	if (st == NULL)
		return -1;
	store_bind_int64(st, 1, inbox_id, &rc);
	store_bind_int64(
	    st, 2,
	    limit == 0 || limit > (uint64_t)INT64_MAX ? -1 : (int64_t)limit,
	    &rc);
	*attempts_r = store_get_rows(
	    s, st, rc, store_job_attempt_row, store_job_attempt_clear,
	    sizeof(**attempts_r), n_r, &ret, err, "list job attempts");
	return ret;
}

void store_job_attempt_list_free(struct store_job_attempt **attempts, size_t n)
{
	if (*attempts == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		store_job_attempt_clear(&(*attempts)[i]);
	free(*attempts);
	*attempts = NULL;
}
