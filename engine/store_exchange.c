// SPDX-License-Identifier: MIT
/*
 * The store's record of the warmup itself: ramp days, exchanges and job
 * attempts (schema v2), plan days (v3). The exchange state machine lives
 * in the schema (a trigger), so this file only names the change it wants.
 */
#include "store_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hearth/xalloc.h"

/* A LIMIT: 0 (no limit) and anything past int64 bind as -1, SQLite's none. */
static int64_t store_limit(size_t limit)
{
	return limit == 0 || limit > (uint64_t)INT64_MAX ? -1 : (int64_t)limit;
}

/* "YYYY-MM-DD" from a column, "" for NULL (an SQL day is never longer). */
static void store_col_day(sqlite3_stmt *st, int col, char day[11])
{
	const unsigned char *v = sqlite3_column_text(st, col);

	snprintf(day, 11, "%s", v != NULL ? (const char *)v : "");
}

/* ---- ramp days ---- */

#define RAMP_DAY_COLUMNS                                                       \
	"inbox_id, day, planned, sent, inbox, spam, other, missing, "          \
	"rescued, read, flagged, replied, failed, bounced, ramp_state, "       \
	"volume, auth_failures, failed_permanent, auto_replies"

static void store_ramp_day_row(sqlite3_stmt *st, void *elem)
{
	struct store_ramp_day *d = elem;

	d->inbox_id = sqlite3_column_int64(st, 0);
	store_col_day(st, 1, d->day);
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
	d->volume = sqlite3_column_int(st, 15);
	d->auth_failures = sqlite3_column_int(st, 16);
	d->failed_permanent = sqlite3_column_int(st, 17);
	d->auto_replies = sqlite3_column_int(st, 18);
}

static void store_ramp_day_clear_elem(void *elem)
{
	store_ramp_day_clear(elem);
}

int store_ramp_day_upsert(struct store *s, const struct store_ramp_day *day,
			  struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[96];
	int rc = SQLITE_OK;

	st = store_stmt(
	    s, STORE_SQL_RAMP_DAY_UPSERT,
	    "INSERT INTO ramp_days (" RAMP_DAY_COLUMNS ") VALUES (?1, ?2, ?3, "
	    "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
	    "?18, ?19) ON CONFLICT (inbox_id, day) DO UPDATE SET "
	    "planned = excluded.planned, sent = excluded.sent, "
	    "inbox = excluded.inbox, spam = excluded.spam, "
	    "other = excluded.other, missing = excluded.missing, "
	    "rescued = excluded.rescued, read = excluded.read, "
	    "flagged = excluded.flagged, replied = excluded.replied, "
	    "failed = excluded.failed, bounced = excluded.bounced, "
	    "ramp_state = excluded.ramp_state, volume = excluded.volume, "
	    "auth_failures = excluded.auth_failures, "
	    "failed_permanent = excluded.failed_permanent, "
	    "auto_replies = excluded.auto_replies",
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
	store_bind_int64(st, 16, day->volume, &rc);
	store_bind_int64(st, 17, day->auth_failures, &rc);
	store_bind_int64(st, 18, day->failed_permanent, &rc);
	store_bind_int64(st, 19, day->auto_replies, &rc);
	return store_step_insert(s, st, rc, NULL, NULL, err, what);
}

int store_ramp_day_add(struct store *s, const struct store_ramp_day *delta,
		       struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[96];
	int rc = SQLITE_OK;

	/*
	 * SQLite checks the row to insert against the CHECKs before it finds
	 * the conflict, so a negative delta cannot be inserted as is: when
	 * the row exists, the row offered carries zeros and the update adds
	 * the delta (its CHECKs refuse a sum below 0); when it does not, the
	 * delta itself is inserted and a negative count is refused there.
	 * (The WHERE is SQLite's: INSERT ... SELECT needs one before an
	 * ON CONFLICT clause.)
	 */
	st = store_stmt(
	    s, STORE_SQL_RAMP_DAY_ADD,
	    "INSERT INTO ramp_days (inbox_id, day, planned, sent, inbox, "
	    "spam, other, missing, rescued, read, flagged, replied, failed, "
	    "bounced, auth_failures, failed_permanent, auto_replies) "
	    "SELECT ?1, ?2, iif(e, 0, ?3), iif(e, 0, ?4), iif(e, 0, ?5), "
	    "iif(e, 0, ?6), iif(e, 0, ?7), iif(e, 0, ?8), iif(e, 0, ?9), "
	    "iif(e, 0, ?10), iif(e, 0, ?11), iif(e, 0, ?12), "
	    "iif(e, 0, ?13), iif(e, 0, ?14), iif(e, 0, ?15), "
	    "iif(e, 0, ?16), iif(e, 0, ?17) FROM (SELECT EXISTS (SELECT 1 FROM ramp_days "
	    "WHERE inbox_id = ?1 AND day = ?2) AS e) WHERE true "
	    "ON CONFLICT (inbox_id, day) DO UPDATE SET "
	    "planned = planned + ?3, sent = sent + ?4, inbox = inbox + ?5, "
	    "spam = spam + ?6, other = other + ?7, "
	    "missing = missing + ?8, rescued = rescued + ?9, "
	    "read = read + ?10, flagged = flagged + ?11, "
	    "replied = replied + ?12, failed = failed + ?13, "
	    "bounced = bounced + ?14, "
	    "auth_failures = auth_failures + ?15, "
	    "failed_permanent = failed_permanent + ?16, "
	    "auto_replies = auto_replies + ?17",
	    err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "add to ramp day %.16s of inbox %lld",
		 delta->day, (long long)delta->inbox_id);
	store_bind_int64(st, 1, delta->inbox_id, &rc);
	store_bind_text(st, 2, delta->day, &rc);
	store_bind_int64(st, 3, delta->planned, &rc);
	store_bind_int64(st, 4, delta->sent, &rc);
	store_bind_int64(st, 5, delta->inbox, &rc);
	store_bind_int64(st, 6, delta->spam, &rc);
	store_bind_int64(st, 7, delta->other, &rc);
	store_bind_int64(st, 8, delta->missing, &rc);
	store_bind_int64(st, 9, delta->rescued, &rc);
	store_bind_int64(st, 10, delta->read, &rc);
	store_bind_int64(st, 11, delta->flagged, &rc);
	store_bind_int64(st, 12, delta->replied, &rc);
	store_bind_int64(st, 13, delta->failed, &rc);
	store_bind_int64(st, 14, delta->bounced, &rc);
	store_bind_int64(st, 15, delta->auth_failures, &rc);
	store_bind_int64(st, 16, delta->failed_permanent, &rc);
	store_bind_int64(st, 17, delta->auto_replies, &rc);
	return store_step_insert(s, st, rc, NULL, NULL, err, what);
}

int store_ramp_day_set_plan(struct store *s, int64_t inbox_id, const char *day,
			    int volume, int planned, const char *ramp_state,
			    struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[96];
	int rc = SQLITE_OK;

	st = store_stmt(s, STORE_SQL_RAMP_DAY_SET_PLAN,
			"INSERT INTO ramp_days (inbox_id, day, volume, "
			"planned, ramp_state) VALUES (?1, ?2, ?3, ?4, ?5) "
			"ON CONFLICT (inbox_id, day) DO UPDATE SET "
			"volume = excluded.volume, "
			"planned = excluded.planned, "
			"ramp_state = excluded.ramp_state",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "plan ramp day %.16s of inbox %lld",
		 day != NULL ? day : "(no day)", (long long)inbox_id);
	store_bind_int64(st, 1, inbox_id, &rc);
	store_bind_text(st, 2, day, &rc);
	store_bind_int64(st, 3, volume, &rc);
	store_bind_int64(st, 4, planned, &rc);
	store_bind_text(st, 5, ramp_state, &rc);
	return store_step_insert(s, st, rc, NULL, NULL, err, what);
}

int store_ramp_day_list(struct store *s, int64_t inbox_id, const char *before,
			size_t limit, struct store_ramp_day **days_r,
			size_t *n_r, struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[64];
	int rc = SQLITE_OK, ret;

	*days_r = NULL;
	*n_r = 0;
	/* one inbox has a row a day: the primary key walked backwards */
	st = store_stmt(s, STORE_SQL_RAMP_DAY_LIST,
			"SELECT " RAMP_DAY_COLUMNS " FROM ramp_days "
			"WHERE inbox_id = ?1 AND (?2 IS NULL OR day < ?2) "
			"ORDER BY day DESC LIMIT ?3",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "list the ramp days of inbox %lld",
		 (long long)inbox_id);
	store_bind_int64(st, 1, inbox_id, &rc);
	store_bind_text(st, 2, before, &rc);
	store_bind_int64(st, 3, store_limit(limit), &rc);
	*days_r = store_get_rows(s, st, rc, store_ramp_day_row,
				 store_ramp_day_clear_elem, sizeof(**days_r),
				 n_r, &ret, err, what);
	return ret;
}

void store_ramp_day_list_free(struct store_ramp_day **days, size_t n)
{
	if (*days == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		store_ramp_day_clear(&(*days)[i]);
	free(*days);
	*days = NULL;
}

int store_ramp_day_get(struct store *s, int64_t inbox_id, const char *day,
		       struct store_ramp_day *day_r, struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[96];
	int rc = SQLITE_OK;

	memset(day_r, 0, sizeof(*day_r));
	st = store_stmt(s, STORE_SQL_RAMP_DAY_GET,
			"SELECT " RAMP_DAY_COLUMNS " FROM ramp_days "
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

#define EXCHANGE_COLUMNS                                                       \
	"id, pool_id, sender_inbox_id, recipient_inbox_id, "                   \
	"parent_exchange_id, token, message_id, subject, planned_at, "         \
	"sent_at, state, placement, folder, locate_method, rescued, read, "    \
	"flagged, replied, smtp_code, error, day, depth, topic, body, "        \
	"attempted_at, engage_at, looks, engaged_at, sweep_at, bounced_at, "   \
	"bounce_status, bounce_reason, auto_replied_at"

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
	store_col_day(st, 20, x->day);
	x->depth = sqlite3_column_int(st, 21);
	x->topic = store_col_text(st, 22);
	x->body = store_col_text(st, 23);
	x->attempted_at = sqlite3_column_int64(st, 24);
	x->engage_at = sqlite3_column_int64(st, 25);
	x->looks = sqlite3_column_int(st, 26);
	x->engaged_at = sqlite3_column_int64(st, 27);
	x->sweep_at = sqlite3_column_int64(st, 28);
	x->bounced_at = sqlite3_column_int64(st, 29);
	x->bounce_status = store_col_text(st, 30);
	x->bounce_reason = store_col_text(st, 31);
	x->auto_replied_at = sqlite3_column_int64(st, 32);
}

static void store_exchange_clear_elem(void *elem)
{
	store_exchange_clear(elem);
}

/* The day of an exchange as bound: "" is none (NULL). */
static const char *store_exchange_day(const struct store_exchange *x)
{
	return x->day[0] != '\0' ? x->day : NULL;
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
			"message_id, subject, planned_at, day, depth, topic) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
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
	store_bind_text(st, 9, store_exchange_day(x), &rc);
	store_bind_int64(st, 10, x->depth, &rc);
	store_bind_text(st, 11, x->topic, &rc);
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
	st = store_stmt(
	    s, STORE_SQL_EXCHANGE_GET,
	    "SELECT " EXCHANGE_COLUMNS " FROM exchanges WHERE id = ?1", err);
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

	/* attempted_at is the last move to sending, whoever makes it */
	st = store_stmt(s, STORE_SQL_EXCHANGE_SET_STATE,
			"UPDATE exchanges SET state = ?2, "
			"sent_at = CASE WHEN ?2 = 'sent' THEN ?3 "
			"ELSE sent_at END, "
			"attempted_at = CASE WHEN ?2 = 'sending' THEN ?3 "
			"ELSE attempted_at END, smtp_code = ?4, error = ?5 "
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

int store_exchange_update(struct store *s, const struct store_exchange *x,
			  struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[96], not_found[64];
	int rc = SQLITE_OK;

	/* state is in the SET list even when unchanged: the state machine's
	 * trigger sees every write (and lets a same-state write through) */
	st = store_stmt(s, STORE_SQL_EXCHANGE_UPDATE,
			"UPDATE exchanges SET state = ?2, message_id = ?3, "
			"subject = ?4, topic = ?5, body = ?6, sent_at = ?7, "
			"attempted_at = ?8, placement = ?9, folder = ?10, "
			"locate_method = ?11, rescued = ?12, read = ?13, "
			"flagged = ?14, replied = ?15, smtp_code = ?16, "
			"error = ?17, day = ?18, depth = ?19, "
			"engage_at = ?20, looks = ?21, engaged_at = ?22, "
			"sweep_at = ?23 WHERE id = ?1",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "update exchange %lld", (long long)x->id);
	snprintf(not_found, sizeof(not_found), "exchange %lld not found",
		 (long long)x->id);
	store_bind_int64(st, 1, x->id, &rc);
	store_bind_text(st, 2, x->state, &rc);
	store_bind_text(st, 3, x->message_id, &rc);
	store_bind_text(st, 4, x->subject, &rc);
	store_bind_text(st, 5, x->topic, &rc);
	store_bind_text(st, 6, x->body, &rc);
	store_bind_int64(st, 7, x->sent_at, &rc);
	store_bind_int64(st, 8, x->attempted_at, &rc);
	store_bind_text(st, 9, x->placement, &rc);
	store_bind_text(st, 10, x->folder, &rc);
	store_bind_text(st, 11, x->locate_method, &rc);
	store_bind_int64(st, 12, x->rescued, &rc);
	store_bind_int64(st, 13, x->read, &rc);
	store_bind_int64(st, 14, x->flagged, &rc);
	store_bind_int64(st, 15, x->replied, &rc);
	store_bind_int64(st, 16, x->smtp_code, &rc);
	store_bind_text(st, 17, x->error, &rc);
	store_bind_text(st, 18, store_exchange_day(x), &rc);
	store_bind_int64(st, 19, x->depth, &rc);
	store_bind_int64(st, 20, x->engage_at, &rc);
	store_bind_int64(st, 21, x->looks, &rc);
	store_bind_int64(st, 22, x->engaged_at, &rc);
	store_bind_int64(st, 23, x->sweep_at, &rc);
	return store_step_change(s, st, rc, not_found, err, what);
}

int store_exchange_list_state(struct store *s, const char *state, int64_t until,
			      size_t limit, struct store_exchange **xs_r,
			      size_t *n_r, struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[64];
	int rc = SQLITE_OK, ret;

	*xs_r = NULL;
	*n_r = 0;
	/* exchanges_due (state, planned_at) gives the order, rowid last */
	st = store_stmt(s, STORE_SQL_EXCHANGE_LIST_STATE,
			"SELECT " EXCHANGE_COLUMNS " FROM exchanges "
			"WHERE state = ?1 AND planned_at <= ?2 "
			"ORDER BY planned_at, id LIMIT ?3",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "list the %.16s exchanges",
		 state != NULL ? state : "(no state)");
	store_bind_text(st, 1, state, &rc);
	store_bind_int64(st, 2, until, &rc);
	store_bind_int64(st, 3, store_limit(limit), &rc);
	*xs_r = store_get_rows(s, st, rc, store_exchange_row,
			       store_exchange_clear_elem, sizeof(**xs_r), n_r,
			       &ret, err, what);
	return ret;
}

int store_exchange_list_engage(struct store *s, int64_t recipient_id,
			       int64_t now, size_t limit,
			       struct store_exchange **xs_r, size_t *n_r,
			       struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[96];
	int rc = SQLITE_OK, ret;

	*xs_r = NULL;
	*n_r = 0;
	/* each side of the OR is a range of its partial index; the key is
	 * the earlier of the non-zero times (one of them is) */
	st = store_stmt(s, STORE_SQL_EXCHANGE_LIST_ENGAGE,
			"SELECT " EXCHANGE_COLUMNS " FROM exchanges "
			"WHERE recipient_inbox_id = ?1 "
			"AND ((engage_at > 0 AND engage_at <= ?2) "
			"OR (sweep_at > 0 AND sweep_at <= ?2)) "
			"ORDER BY min(CASE WHEN engage_at > 0 THEN engage_at "
			"ELSE sweep_at END, CASE WHEN sweep_at > 0 "
			"THEN sweep_at ELSE engage_at END), id LIMIT ?3",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "list the due exchanges of inbox %lld",
		 (long long)recipient_id);
	store_bind_int64(st, 1, recipient_id, &rc);
	store_bind_int64(st, 2, now, &rc);
	store_bind_int64(st, 3, store_limit(limit), &rc);
	*xs_r = store_get_rows(s, st, rc, store_exchange_row,
			       store_exchange_clear_elem, sizeof(**xs_r), n_r,
			       &ret, err, what);
	return ret;
}

static void store_due_row(sqlite3_stmt *st, void *elem)
{
	struct store_due *d = elem;

	d->inbox_id = sqlite3_column_int64(st, 0);
	d->due = sqlite3_column_int64(st, 1);
}

static void store_nothing_to_clear(void *elem)
{
	(void)elem;
}

int store_exchange_engage_due(struct store *s, int64_t recipient_id,
			      struct store_due **dues_r, size_t *n_r,
			      struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[96];
	int rc = SQLITE_OK, ret;

	*dues_r = NULL;
	*n_r = 0;
	/* two statements, so each has its plan: every recipient walks both
	 * partial indexes (only pending rows are in them); one recipient
	 * reads the first entry of each */
	if (recipient_id == 0)
		st = store_stmt(
		    s, STORE_SQL_EXCHANGE_DUE_ALL,
		    "SELECT recipient_inbox_id, min(due) FROM ("
		    "SELECT recipient_inbox_id, min(engage_at) AS due "
		    "FROM exchanges WHERE engage_at > 0 "
		    "GROUP BY recipient_inbox_id UNION ALL "
		    "SELECT recipient_inbox_id, min(sweep_at) "
		    "FROM exchanges WHERE sweep_at > 0 "
		    "GROUP BY recipient_inbox_id) "
		    "GROUP BY recipient_inbox_id ORDER BY recipient_inbox_id",
		    err);
	else
		st = store_stmt(s, STORE_SQL_EXCHANGE_DUE_ONE,
				"SELECT ?1, min(due) FROM ("
				"SELECT min(engage_at) AS due FROM exchanges "
				"WHERE recipient_inbox_id = ?1 "
				"AND engage_at > 0 UNION ALL "
				"SELECT min(sweep_at) FROM exchanges "
				"WHERE recipient_inbox_id = ?1 "
				"AND sweep_at > 0) HAVING min(due) IS NOT NULL",
				err);
	if (st == NULL)
		return -1;
	if (recipient_id == 0) {
		snprintf(what, sizeof(what), "find the inboxes with work due");
	} else {
		snprintf(what, sizeof(what), "find the work due of inbox %lld",
			 (long long)recipient_id);
		store_bind_int64(st, 1, recipient_id, &rc);
	}
	*dues_r =
	    store_get_rows(s, st, rc, store_due_row, store_nothing_to_clear,
			   sizeof(**dues_r), n_r, &ret, err, what);
	return ret;
}

static void store_pair_row(sqlite3_stmt *st, void *elem)
{
	struct store_pair *p = elem;

	p->sender_id = sqlite3_column_int64(st, 0);
	p->recipient_id = sqlite3_column_int64(st, 1);
}

int store_exchange_pairs(struct store *s, int64_t pool_id, int64_t from,
			 int64_t to, struct store_pair **pairs_r, size_t *n_r,
			 struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[64];
	int rc = SQLITE_OK, ret;

	*pairs_r = NULL;
	*n_r = 0;
	st = store_stmt(s, STORE_SQL_EXCHANGE_PAIRS,
			"SELECT DISTINCT sender_inbox_id, recipient_inbox_id "
			"FROM exchanges WHERE pool_id = ?1 "
			"AND planned_at >= ?2 AND planned_at < ?3 "
			"AND depth = 0 ORDER BY 1, 2",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "list the pairs of pool %lld",
		 (long long)pool_id);
	store_bind_int64(st, 1, pool_id, &rc);
	store_bind_int64(st, 2, from, &rc);
	store_bind_int64(st, 3, to, &rc);
	*pairs_r =
	    store_get_rows(s, st, rc, store_pair_row, store_nothing_to_clear,
			   sizeof(**pairs_r), n_r, &ret, err, what);
	return ret;
}

static void store_counts_row(sqlite3_stmt *st, void *out)
{
	struct store_exchange_counts *c = out;

	c->planned = sqlite3_column_int64(st, 0);
	c->sending = sqlite3_column_int64(st, 1);
	c->sent = sqlite3_column_int64(st, 2);
	c->failed = sqlite3_column_int64(st, 3);
	c->due = sqlite3_column_int64(st, 4);
	c->engaged = sqlite3_column_int64(st, 5);
	c->replies = sqlite3_column_int64(st, 6);
}

/* ?1 pool_id (0: any), ?2 sender (0: any), ?3 day, ?4 now */
#define EXCHANGE_COUNTS                                                        \
	"SELECT count(*) FILTER (WHERE state = 'planned'), "                   \
	"count(*) FILTER (WHERE state = 'sending'), "                          \
	"count(*) FILTER (WHERE state = 'sent'), "                             \
	"count(*) FILTER (WHERE state = 'failed'), "                           \
	"count(*) FILTER (WHERE state = 'planned' AND planned_at <= ?4), "     \
	"count(*) FILTER (WHERE state = 'sent' AND engaged_at > 0), "          \
	"count(*) FILTER (WHERE depth > 0) FROM exchanges "

int store_exchange_count(struct store *s, int64_t pool_id, int64_t sender_id,
			 const char *day, int64_t now,
			 struct store_exchange_counts *counts_r,
			 struct hearth_err *err)
{
	sqlite3_stmt *st;
	int rc = SQLITE_OK, ret;

	memset(counts_r, 0, sizeof(*counts_r));
	/*
	 * One statement per index. A day: exchanges_day, with the sender as
	 * a range that is one id or all of them (ids are positive), so the
	 * same plan serves both. No day: the sender's index, else the pool's;
	 * nothing given counts the whole table.
	 */
	if (day != NULL)
		st = store_stmt(s, STORE_SQL_EXCHANGE_COUNT_DAY,
				EXCHANGE_COUNTS
				"WHERE day = ?3 AND sender_inbox_id BETWEEN ?2 "
				"AND CASE WHEN ?2 = 0 THEN 9223372036854775807 "
				"ELSE ?2 END AND (?1 = 0 OR pool_id = ?1)",
				err);
	else if (sender_id != 0)
		st = store_stmt(s, STORE_SQL_EXCHANGE_COUNT_SENDER,
				EXCHANGE_COUNTS "WHERE sender_inbox_id = ?2 "
						"AND (?1 = 0 OR pool_id = ?1)",
				err);
	else if (pool_id != 0)
		st = store_stmt(s, STORE_SQL_EXCHANGE_COUNT_POOL,
				EXCHANGE_COUNTS "WHERE pool_id = ?1", err);
	else
		st = store_stmt(s, STORE_SQL_EXCHANGE_COUNT_ALL,
				EXCHANGE_COUNTS, err);
	if (st == NULL)
		return -1;
	/* every variant uses ?4, so ?1 to ?3 are in range even if unused */
	store_bind_int64(st, 1, pool_id, &rc);
	store_bind_int64(st, 2, sender_id, &rc);
	store_bind_text(st, 3, day, &rc);
	store_bind_int64(st, 4, now, &rc);
	ret = store_get_row(s, st, rc, store_counts_row, counts_r, err,
			    "count exchanges");
	return ret < 0 ? -1 : 0;
}

static void store_failure_row(sqlite3_stmt *st, void *elem)
{
	struct store_failure *f = elem;

	f->error = store_col_text(st, 0);
	f->count = sqlite3_column_int64(st, 1);
	f->last_at = sqlite3_column_int64(st, 2);
}

static void store_failure_clear(void *elem)
{
	struct store_failure *f = elem;

	free(f->error);
	memset(f, 0, sizeof(*f));
}

/* ?1 pool_id (0: any), ?2 day, ?3 limit */
#define EXCHANGE_FAILURES(where)                                               \
	"SELECT coalesce(error, 'unknown') AS why, count(*) AS n, "            \
	"max(CASE WHEN attempted_at > 0 THEN attempted_at "                    \
	"ELSE planned_at END) AS last FROM exchanges "                         \
	"WHERE state = 'failed' AND (?1 = 0 OR pool_id = ?1) " where           \
	" GROUP BY why ORDER BY n DESC, last DESC, why LIMIT ?3"

int store_exchange_failures(struct store *s, int64_t pool_id, const char *day,
			    size_t limit, struct store_failure **failures_r,
			    size_t *n_r, struct hearth_err *err)
{
	sqlite3_stmt *st;
	int rc = SQLITE_OK, ret;

	*failures_r = NULL;
	*n_r = 0;
	/* a day: that day's rows (exchanges_day); else every failed one
	 * (exchanges_due) */
	if (day != NULL)
		st = store_stmt(s, STORE_SQL_EXCHANGE_FAILURES_DAY,
				EXCHANGE_FAILURES("AND day = ?2"), err);
	else
		st = store_stmt(s, STORE_SQL_EXCHANGE_FAILURES_ALL,
				EXCHANGE_FAILURES(""), err);
	if (st == NULL)
		return -1;
	store_bind_int64(st, 1, pool_id, &rc);
	store_bind_text(st, 2, day, &rc);
	store_bind_int64(st, 3, store_limit(limit), &rc);
	*failures_r = store_get_rows(s, st, rc, store_failure_row,
				     store_failure_clear, sizeof(**failures_r),
				     n_r, &ret, err, "list exchange failures");
	return ret;
}

void store_failure_list_free(struct store_failure **failures, size_t n)
{
	if (*failures == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		store_failure_clear(&(*failures)[i]);
	free(*failures);
	*failures = NULL;
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
	free(x->topic);
	free(x->body);
	free(x->bounce_status);
	free(x->bounce_reason);
	memset(x, 0, sizeof(*x));
}

void store_exchange_list_free(struct store_exchange **xs, size_t n)
{
	if (*xs == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		store_exchange_clear(&(*xs)[i]);
	free(*xs);
	*xs = NULL;
}

/* ---- plan days ---- */

#define PLAN_DAY_COLUMNS "pool_id, day, planned_at, sends, unplaced, relaxed"

static void store_plan_day_row(sqlite3_stmt *st, void *elem)
{
	struct store_plan_day *p = elem;

	p->pool_id = sqlite3_column_int64(st, 0);
	store_col_day(st, 1, p->day);
	p->planned_at = sqlite3_column_int64(st, 2);
	p->sends = sqlite3_column_int(st, 3);
	p->unplaced = sqlite3_column_int(st, 4);
	p->relaxed = (unsigned)sqlite3_column_int64(st, 5);
}

int store_plan_day_add(struct store *s, const struct store_plan_day *p,
		       struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[96], dup[96];
	int rc = SQLITE_OK;

	st = store_stmt(s, STORE_SQL_PLAN_DAY_ADD,
			"INSERT INTO plan_days (" PLAN_DAY_COLUMNS
			") VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "record plan day %.16s of pool %lld",
		 p->day, (long long)p->pool_id);
	snprintf(dup, sizeof(dup), "pool %lld day %.16s is already planned",
		 (long long)p->pool_id, p->day);
	store_bind_int64(st, 1, p->pool_id, &rc);
	store_bind_text(st, 2, p->day, &rc);
	store_bind_int64(st, 3, p->planned_at, &rc);
	store_bind_int64(st, 4, p->sends, &rc);
	store_bind_int64(st, 5, p->unplaced, &rc);
	store_bind_int64(st, 6, p->relaxed, &rc);
	/* (pool_id, day) is the table's only key */
	return store_step_insert(s, st, rc, NULL, dup, err, what);
}

int store_plan_day_get(struct store *s, int64_t pool_id, const char *day,
		       struct store_plan_day *p_r, struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[96];
	int rc = SQLITE_OK;

	memset(p_r, 0, sizeof(*p_r));
	st = store_stmt(s, STORE_SQL_PLAN_DAY_GET,
			"SELECT " PLAN_DAY_COLUMNS " FROM plan_days "
			"WHERE pool_id = ?1 AND day = ?2",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "read plan day %.16s of pool %lld",
		 day != NULL ? day : "(no day)", (long long)pool_id);
	store_bind_int64(st, 1, pool_id, &rc);
	store_bind_text(st, 2, day, &rc);
	return store_get_row(s, st, rc, store_plan_day_row, p_r, err, what);
}

int store_plan_day_last(struct store *s, int64_t pool_id,
			struct store_plan_day *p_r, struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[64];
	int rc = SQLITE_OK;

	memset(p_r, 0, sizeof(*p_r));
	st = store_stmt(s, STORE_SQL_PLAN_DAY_LAST,
			"SELECT " PLAN_DAY_COLUMNS " FROM plan_days "
			"WHERE pool_id = ?1 ORDER BY day DESC LIMIT 1",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "read the last plan day of pool %lld",
		 (long long)pool_id);
	store_bind_int64(st, 1, pool_id, &rc);
	return store_get_row(s, st, rc, store_plan_day_row, p_r, err, what);
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
	store_bind_int64(st, 2, store_limit(limit), &rc);
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

/* ---- notices: bounces and auto-replies (schema v4) ---- */

int store_exchange_find(struct store *s, int64_t sender_id, const char *token,
			const char *message_id, struct store_exchange *x_r,
			struct hearth_err *err)
{
	sqlite3_stmt *st;
	char id[512];
	int rc = SQLITE_OK, ret;

	memset(x_r, 0, sizeof(*x_r));
	if (token != NULL && token[0] != '\0') {
		st = store_stmt(s, STORE_SQL_EXCHANGE_FIND_TOKEN,
				"SELECT " EXCHANGE_COLUMNS " FROM exchanges "
				"WHERE token = ?1 AND sender_inbox_id = ?2",
				err);
		if (st == NULL)
			return -1;
		store_bind_text(st, 1, token, &rc);
		store_bind_int64(st, 2, sender_id, &rc);
		ret = store_get_row(s, st, rc, store_exchange_row, x_r, err,
				    "find an exchange by token");
		if (ret != 0)
			return ret;
	}
	if (message_id == NULL || message_id[0] == '\0')
		return 0;
	/* Stored as sent: with its angle brackets. */
	if (message_id[0] == '<')
		snprintf(id, sizeof(id), "%s", message_id);
	else
		snprintf(id, sizeof(id), "<%s>", message_id);
	rc = SQLITE_OK;
	st = store_stmt(s, STORE_SQL_EXCHANGE_FIND_MESSAGE_ID,
			"SELECT " EXCHANGE_COLUMNS " FROM exchanges "
			"WHERE message_id = ?1 AND sender_inbox_id = ?2 "
			"ORDER BY id LIMIT 1",
			err);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, id, &rc);
	store_bind_int64(st, 2, sender_id, &rc);
	return store_get_row(s, st, rc, store_exchange_row, x_r, err,
			     "find an exchange by Message-ID");
}

int store_exchange_bounce(struct store *s, int64_t id, int64_t at,
			  const char *status, const char *reason,
			  struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[64];
	int rc = SQLITE_OK;

	st = store_stmt(s, STORE_SQL_EXCHANGE_BOUNCE,
			"UPDATE exchanges SET bounced_at = ?2, "
			"bounce_status = ?3, bounce_reason = ?4 "
			"WHERE id = ?1 AND bounced_at = 0",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "record a bounce of exchange %lld",
		 (long long)id);
	store_bind_int64(st, 1, id, &rc);
	store_bind_int64(st, 2, at > 0 ? at : 1, &rc);
	store_bind_text(st, 3, status, &rc);
	store_bind_text(st, 4, reason, &rc);
	if (store_step_done(s, st, err, what) < 0)
		return -1;
	return sqlite3_changes(s->db) > 0 ? 1 : 0;
}

int store_exchange_auto_reply(struct store *s, int64_t id, int64_t at,
			      struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[64];
	int rc = SQLITE_OK;

	st = store_stmt(s, STORE_SQL_EXCHANGE_AUTO_REPLY,
			"UPDATE exchanges SET auto_replied_at = ?2 "
			"WHERE id = ?1 AND auto_replied_at = 0",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "record an auto-reply to exchange %lld",
		 (long long)id);
	store_bind_int64(st, 1, id, &rc);
	store_bind_int64(st, 2, at > 0 ? at : 1, &rc);
	if (store_step_done(s, st, err, what) < 0)
		return -1;
	return sqlite3_changes(s->db) > 0 ? 1 : 0;
}

/* ---- domain checks (schema v4) ---- */

#define DOMAIN_CHECK_COLUMNS                                                   \
	"c.domain_id, d.name, c.checked_at, c.worst, c.failure, c.report"

static void store_domain_check_row(sqlite3_stmt *st, void *elem)
{
	struct store_domain_check *c = elem;

	c->domain_id = sqlite3_column_int64(st, 0);
	c->domain = store_col_text(st, 1);
	c->checked_at = sqlite3_column_int64(st, 2);
	c->worst = store_col_text(st, 3);
	c->failure = store_col_text(st, 4);
	c->report = store_col_text(st, 5);
}

static void store_domain_check_clear_elem(void *elem)
{
	store_domain_check_clear(elem);
}

int store_domain_check_add(struct store *s, const struct store_domain_check *c,
			   struct hearth_err *err)
{
	sqlite3_stmt *st;
	char what[96];
	int rc = SQLITE_OK;

	st = store_stmt(s, STORE_SQL_DOMAIN_CHECK_ADD,
			"INSERT OR REPLACE INTO domain_checks (domain_id, "
			"checked_at, worst, failure, report) "
			"VALUES (?1, ?2, ?3, ?4, ?5)",
			err);
	if (st == NULL)
		return -1;
	snprintf(what, sizeof(what), "record the checks of domain %lld",
		 (long long)c->domain_id);
	store_bind_int64(st, 1, c->domain_id, &rc);
	store_bind_int64(st, 2, c->checked_at, &rc);
	store_bind_text(st, 3, c->worst, &rc);
	store_bind_text(st, 4, c->failure, &rc);
	store_bind_text(st, 5, c->report, &rc);
	return store_step_insert(s, st, rc, NULL, NULL, err, what);
}

int store_domain_check_latest(struct store *s, int64_t domain_id,
			      int64_t as_of,
			      struct store_domain_check **checks_r, size_t *n_r,
			      struct hearth_err *err)
{
	sqlite3_stmt *st;
	int rc = SQLITE_OK, ret;

	*checks_r = NULL;
	*n_r = 0;
	if (domain_id == 0)
		st = store_stmt(
		    s, STORE_SQL_DOMAIN_CHECK_LATEST_ALL,
		    "SELECT " DOMAIN_CHECK_COLUMNS " FROM domain_checks c "
		    "JOIN domains d ON d.id = c.domain_id "
		    "WHERE c.checked_at = (SELECT max(checked_at) FROM "
		    "domain_checks WHERE domain_id = c.domain_id AND "
		    "(?1 = 0 OR checked_at <= ?1)) ORDER BY d.name",
		    err);
	else
		st = store_stmt(
		    s, STORE_SQL_DOMAIN_CHECK_LATEST_ONE,
		    "SELECT " DOMAIN_CHECK_COLUMNS " FROM domain_checks c "
		    "JOIN domains d ON d.id = c.domain_id "
		    "WHERE c.domain_id = ?2 AND (?1 = 0 OR c.checked_at <= ?1) "
		    "ORDER BY c.checked_at DESC LIMIT 1",
		    err);
	if (st == NULL)
		return -1;
	store_bind_int64(st, 1, as_of, &rc);
	if (domain_id != 0)
		store_bind_int64(st, 2, domain_id, &rc);
	*checks_r = store_get_rows(s, st, rc, store_domain_check_row,
				   store_domain_check_clear_elem,
				   sizeof(**checks_r), n_r, &ret, err,
				   "read the domain checks");
	return ret;
}

void store_domain_check_clear(struct store_domain_check *c)
{
	free(c->domain);
	free(c->worst);
	free(c->failure);
	free(c->report);
	memset(c, 0, sizeof(*c));
}

void store_domain_check_list_free(struct store_domain_check **checks, size_t n)
{
	if (*checks == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		store_domain_check_clear(&(*checks)[i]);
	free(*checks);
	*checks = NULL;
}
