// SPDX-License-Identifier: MIT
/*
 * The jobs a worker runs, and their wire encoding. Field tags are this
 * file's business: both sides of the socketpair are this code.
 */
#include "hearth/job.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hearth/check.h"
#include "hearth/dns.h"
#include "hearth/log.h"
#include "hearth/net.h"
#include "hearth/smtp.h"
#include "hearth/worker.h"
#include "hearth/xalloc.h"

/* An account's fields, from a base tag: base + these. */
enum {
	TAG_ACC_HOST = 0,
	TAG_ACC_PORT = 1,
	TAG_ACC_SECURITY = 2,
	TAG_ACC_CA_FILE = 3,
	TAG_ACC_SKIP_VERIFY = 4,
	TAG_ACC_USER = 5,
	TAG_ACC_SECRET = 6,
	TAG_ACC_OAUTH2 = 7,
};

/* Job fields. */
enum {
	TAG_SMTP = 10, /* account, 10..17 */
	TAG_IMAP = 20, /* account, 20..27 */
	TAG_AUTH_MECH = 30,
	TAG_EHLO = 31,
	TAG_MAIL_FROM = 32,
	TAG_RCPT_TO = 33,
	TAG_DATA = 34,
	TAG_OP_TIMEOUT = 35,
	TAG_APPEND_SENT = 36,
	TAG_SPAM_FOLDER = 40,
	TAG_OTHER_FOLDER = 41, /* 41..48 */
	TAG_N_ITEMS = 50,
	TAG_LOCATE_WAIT = 51,
	TAG_NOTICE_HEADER = 52,
	TAG_NOTICE_PATTERNS = 53,
	TAG_NOTICE_DAYS = 54,
	TAG_CHECK_DOMAIN = 60,
	TAG_CHECK_PROVIDER = 61,
	TAG_CHECK_DNS = 62,
	TAG_CHECK_HOST = 500,	  /* 500 + i */
	TAG_CHECK_SELECTOR = 520, /* 520 + i */
	TAG_CHECK_DOMAIN_LIST = 560, /* 560 + i */
	TAG_CHECK_IP_LIST = 600,  /* 600 + i */
	TAG_ITEM = 100, /* 100 + i: a nested message */
};

/* Item fields (nested messages, in jobs and in results). */
enum {
	TAG_I_EXCHANGE = 1,
	TAG_I_TOKEN_HEADER = 2,
	TAG_I_TOKEN = 3,
	TAG_I_MESSAGE_ID = 4,
	TAG_I_FROM = 5,
	TAG_I_SUBJECT = 6,
	TAG_I_SENT_AT = 7,
	TAG_I_WINDOW = 8,
	TAG_I_BITS = 9,
	TAG_I_FILE_TO = 10,
	TAG_I_PLACEMENT = 11,
	TAG_I_FOLDER = 12,
	TAG_I_METHOD = 13,
	TAG_I_UID = 14,
	TAG_I_FAIL = 15,
	TAG_I_ERROR = 16,
};

/* Result fields. */
enum {
	TAG_R_REPLY_CODE = 1,
	TAG_R_REPLY_TEXT = 2,
	TAG_R_STAGE = 3,
	TAG_R_AUTH_MECH = 4,
	TAG_R_TLS_VERIFIED = 5,
	TAG_R_FINGERPRINT = 6,
	TAG_R_APPENDED = 7,
	TAG_R_APPENDED_UID = 8,
	TAG_R_APPEND_ERROR = 9,
	TAG_R_SPAM_FOLDER = 10,
	TAG_R_SPAM_FOUND_BY = 11,
	TAG_R_N_ITEMS = 12,
	TAG_R_SESSION_FAIL = 13,
	TAG_R_SESSION_ERROR = 14,
	TAG_R_UNCERTAIN = 15,
	TAG_R_N_NOTICES = 16,
	TAG_R_WORST = 40,
	TAG_R_FAILURE = 41,
	TAG_R_REPORT = 42,
	TAG_R_NOTICE_ERROR = 17,
	TAG_R_NOTICE = 400, /* 400 + i: a nested message */
	TAG_R_IMAP = 30, /* the probe's IMAP side: 30 + the same offsets */
	TAG_R_FAIL = 20,
	TAG_R_ERROR = 21, /* also a SEND's error when uncertain */
	TAG_R_CAPS = 22,
	TAG_R_SENT_FOLDER = 23,
	TAG_R_TRASH_FOLDER = 24,
	TAG_R_ARCHIVE_FOLDER = 25,
};

/* Notice fields (nested messages in ENGAGE results). */
enum {
	TAG_N_KIND = 1,
	TAG_N_PERMANENT = 2,
	TAG_N_STATUS = 3,
	TAG_N_RECIPIENT = 4,
	TAG_N_REASON = 5,
	TAG_N_MESSAGE_ID = 6,
	TAG_N_TOKEN = 7,
	TAG_N_FOLDER = 8,
	TAG_N_UID = 9,
};

/* Item bits, in jobs and results. */
enum {
	BIT_RESCUE = 1 << 0,
	BIT_SEEN = 1 << 1,
	BIT_FLAGGED = 1 << 2,
	BIT_IMPORTANT = 1 << 3,
	BIT_DELETE = 1 << 4,
	BIT_RESCUED = 1 << 5,
	BIT_FILED = 1 << 6,
	BIT_DELETED = 1 << 7,
};

/* Capability bits of a probe. */
enum {
	CAP_MOVE = 1 << 0,
	CAP_UIDPLUS = 1 << 1,
	CAP_GMAIL = 1 << 2,
	CAP_SPECIAL_USE = 1 << 3,
	CAP_IDLE = 1 << 4,
};

const char *job_placement_name(enum job_placement placement)
{
	switch (placement) {
	case JOB_PLACEMENT_INBOX:
		return "inbox";
	case JOB_PLACEMENT_SPAM:
		return "spam";
	case JOB_PLACEMENT_OTHER:
		return "other";
	case JOB_PLACEMENT_MISSING:
		break;
	}
	return "missing";
}

/* --- encoding helpers ---------------------------------------------------- */

/* wire_put_* of an optional string: nothing for NULL. */
static int put_opt_str(struct wire_msg *m, uint16_t tag, const char *v)
{
	return v == NULL ? 0 : wire_put_str(m, tag, v);
}

static int put_account(struct wire_msg *m, uint16_t base,
		       const struct job_account *a)
{
	const char *secret = a->cred.secret;

	if (a->ep.host == NULL || a->cred.username == NULL || secret == NULL)
		return -1;
	if (wire_put_str(m, base + TAG_ACC_HOST, a->ep.host) < 0 ||
	    wire_put_u64(m, base + TAG_ACC_PORT, a->ep.port) < 0 ||
	    wire_put_u64(m, base + TAG_ACC_SECURITY, a->ep.security) < 0 ||
	    put_opt_str(m, base + TAG_ACC_CA_FILE, a->ep.ca_file) < 0 ||
	    wire_put_u64(m, base + TAG_ACC_SKIP_VERIFY,
			 a->ep.tls_insecure_skip_verify) < 0 ||
	    wire_put_str(m, base + TAG_ACC_USER, a->cred.username) < 0 ||
	    wire_put_secret(m, base + TAG_ACC_SECRET, secret, strlen(secret)) <
		0 ||
	    wire_put_u64(m, base + TAG_ACC_OAUTH2, a->cred.oauth2) < 0)
		return -1;
	return 0;
}

/* Strings read back point into the message: valid while it lives. */
static const char *get_str(const struct wire_msg *m, uint16_t tag)
{
	const char *v = NULL;

	return wire_get_str(m, tag, &v) == 1 ? v : NULL;
}

static uint64_t get_u64(const struct wire_msg *m, uint16_t tag)
{
	uint64_t v = 0;

	return wire_get_u64(m, tag, &v) == 1 ? v : 0;
}

static int64_t get_i64(const struct wire_msg *m, uint16_t tag)
{
	int64_t v = 0;

	return wire_get_i64(m, tag, &v) == 1 ? v : 0;
}

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

static int get_account(const struct wire_msg *m, uint16_t base,
		       struct job_account *a)
{
	const char *secret = NULL;
	size_t len = 0;

	memset(a, 0, sizeof(*a));
	a->ep.host = get_str(m, base + TAG_ACC_HOST);
	a->ep.port = (uint16_t)get_u64(m, base + TAG_ACC_PORT);
	a->ep.security =
	    (enum endpoint_security)get_u64(m, base + TAG_ACC_SECURITY);
	a->ep.ca_file = get_str(m, base + TAG_ACC_CA_FILE);
	a->ep.tls_insecure_skip_verify =
	    get_u64(m, base + TAG_ACC_SKIP_VERIFY) != 0;
	a->cred.username = get_str(m, base + TAG_ACC_USER);
	a->cred.oauth2 = get_u64(m, base + TAG_ACC_OAUTH2) != 0;
	if (wire_get_secret(m, base + TAG_ACC_SECRET, &secret, &len) == 1 &&
	    strlen(secret) == len)
		a->cred.secret = secret;
	return a->ep.host != NULL && a->cred.username != NULL &&
		       a->cred.secret != NULL
		   ? 0
		   : -1;
}

static struct wire_msg *encode_fail(struct wire_msg **m, const char *what,
				    struct hearth_err *err)
{
	wire_msg_free(m);
	hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
		       "job: cannot encode %s (missing or too large)", what);
	return NULL;
}

/* --- SEND ---------------------------------------------------------------- */

struct wire_msg *job_send_encode(const struct job_send *job,
				 struct hearth_err *err)
{
	struct wire_msg *m = wire_msg_new(JOB_SEND);

	if (put_account(m, TAG_SMTP, &job->smtp) < 0)
		return encode_fail(&m, "the SMTP account", err);
	if (job->append_sent_folder != NULL &&
	    (put_account(m, TAG_IMAP, &job->imap) < 0 ||
	     wire_put_str(m, TAG_APPEND_SENT, job->append_sent_folder) < 0))
		return encode_fail(&m, "the IMAP account", err);
	if (put_opt_str(m, TAG_AUTH_MECH, job->auth_mech) < 0 ||
	    put_opt_str(m, TAG_EHLO, job->ehlo_name) < 0 ||
	    put_opt_str(m, TAG_MAIL_FROM, job->mail_from) < 0 ||
	    put_opt_str(m, TAG_RCPT_TO, job->rcpt_to) < 0 ||
	    job->data == NULL ||
	    wire_put_bytes(m, TAG_DATA, job->data, job->data_len) < 0 ||
	    wire_put_u64(m, TAG_OP_TIMEOUT, (uint64_t)job->op_timeout_msecs) <
		0)
		return encode_fail(&m, "the message", err);
	return m;
}

static int run_send(const struct wire_msg *job, int64_t deadline,
		    struct wire_msg **result_r, struct hearth_err *err)
{
	struct job_account smtp, imap;
	struct smtp_request req = {0};
	struct smtp_result res;
	struct hearth_err serr = {0};
	const char *sent_folder = get_str(job, TAG_APPEND_SENT);
	struct wire_msg *r;
	const void *data = NULL;
	size_t len = 0;
	int appended = 0;
	uint32_t uid = 0;
	char append_error[256] = "";
	bool uncertain = false;

	if (get_account(job, TAG_SMTP, &smtp) < 0 ||
	    wire_get_bytes(job, TAG_DATA, &data, &len) != 1) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "job: malformed SEND job");
		return -1;
	}
	req.ep = &smtp.ep;
	req.cred = &smtp.cred;
	req.auth_mech = get_str(job, TAG_AUTH_MECH);
	req.ehlo_name = get_str(job, TAG_EHLO);
	req.mail_from = get_str(job, TAG_MAIL_FROM);
	req.rcpt_to = get_str(job, TAG_RCPT_TO);
	req.data = data;
	req.data_len = len;
	req.op_timeout_msecs = (int)get_u64(job, TAG_OP_TIMEOUT);
	req.deadline_msecs = deadline;
	if (smtp_send(&req, &res, &serr) < 0) {
		if (strcmp(res.stage, "dot") != 0) {
			if (err != NULL)
				*err = serr;
			return -1;
		}
		/* The message went out whole and no answer came back: it may
		 * have been taken. A failure would be retried, and a retry
		 * could deliver it twice; the caller looks first. No Sent
		 * copy either, for a message that may not exist. */
		uncertain = true;
		res.reply_code = 0;
		res.reply_text[0] = '\0';
	}
	if (sent_folder != NULL && !uncertain) {
		struct imap_limits limits = {req.op_timeout_msecs, deadline};
		struct imap_session *s = NULL;
		struct hearth_err aerr = {0};

		appended = -1;
		if (get_account(job, TAG_IMAP, &imap) < 0)
			hearth_err_set(&aerr, HEARTH_FAIL_PERMANENT, 0,
				       "job: malformed IMAP account");
		else if (imap_open(&imap.ep, &imap.cred, &limits, &s, &aerr) ==
			     0 &&
			 imap_append(s, sent_folder, data, len, &uid, &aerr) ==
			     0)
			appended = 1;
		imap_close(&s);
		if (appended < 0)
			copy_str(append_error, sizeof(append_error), aerr.msg);
	}
	r = wire_msg_new(JOB_SEND);
	wire_put_i64(r, TAG_R_REPLY_CODE, res.reply_code);
	wire_put_str(r, TAG_R_REPLY_TEXT, res.reply_text);
	wire_put_str(r, TAG_R_STAGE, res.stage);
	wire_put_str(r, TAG_R_AUTH_MECH, res.auth_mech);
	wire_put_u64(r, TAG_R_TLS_VERIFIED, res.tls.verified);
	wire_put_str(r, TAG_R_FINGERPRINT, res.tls.fingerprint);
	wire_put_i64(r, TAG_R_APPENDED, appended);
	wire_put_u64(r, TAG_R_APPENDED_UID, uid);
	wire_put_str(r, TAG_R_APPEND_ERROR, append_error);
	wire_put_u64(r, TAG_R_UNCERTAIN, uncertain);
	wire_put_str(r, TAG_R_ERROR, uncertain ? serr.msg : "");
	*result_r = r;
	return 0;
}

int job_send_result_decode(const struct wire_msg *m,
			   struct job_send_result *res, struct hearth_err *err)
{
	memset(res, 0, sizeof(*res));
	if (m == NULL || wire_msg_type(m) != JOB_SEND) {
		hearth_err_set(err, HEARTH_FAIL_RETRY, 0,
			       "job: not a SEND result");
		return -1;
	}
	res->reply_code = (int)get_i64(m, TAG_R_REPLY_CODE);
	copy_str(res->reply_text, sizeof(res->reply_text),
		 get_str(m, TAG_R_REPLY_TEXT));
	copy_str(res->stage, sizeof(res->stage), get_str(m, TAG_R_STAGE));
	copy_str(res->auth_mech, sizeof(res->auth_mech),
		 get_str(m, TAG_R_AUTH_MECH));
	res->tls_verified = get_u64(m, TAG_R_TLS_VERIFIED) != 0;
	copy_str(res->tls_fingerprint, sizeof(res->tls_fingerprint),
		 get_str(m, TAG_R_FINGERPRINT));
	res->appended = (int)get_i64(m, TAG_R_APPENDED);
	res->appended_uid = (uint32_t)get_u64(m, TAG_R_APPENDED_UID);
	copy_str(res->append_error, sizeof(res->append_error),
		 get_str(m, TAG_R_APPEND_ERROR));
	res->uncertain = get_u64(m, TAG_R_UNCERTAIN) != 0;
	copy_str(res->error, sizeof(res->error), get_str(m, TAG_R_ERROR));
	return 0;
}

/* --- ENGAGE -------------------------------------------------------------- */

struct wire_msg *job_engage_encode(const struct job_engage *job,
				   struct hearth_err *err)
{
	struct wire_msg *m = wire_msg_new(JOB_ENGAGE);

	if (job->n_items > JOB_ENGAGE_MAX_ITEMS ||
	    job->n_other_folders > JOB_MAX_OTHER_FOLDERS)
		return encode_fail(&m, "an ENGAGE job this large", err);
	if (put_account(m, TAG_IMAP, &job->imap) < 0)
		return encode_fail(&m, "the IMAP account", err);
	if (job->locate_wait_msecs < 0)
		return encode_fail(&m, "a negative locate wait", err);
	if (put_opt_str(m, TAG_SPAM_FOLDER, job->spam_folder) < 0 ||
	    wire_put_u64(m, TAG_OP_TIMEOUT, (uint64_t)job->op_timeout_msecs) <
		0 ||
	    wire_put_u64(m, TAG_N_ITEMS, job->n_items) < 0 ||
	    wire_put_u64(m, TAG_LOCATE_WAIT, (uint64_t)job->locate_wait_msecs) <
		0 ||
	    put_opt_str(m, TAG_NOTICE_HEADER, job->notice_token_header) < 0 ||
	    put_opt_str(m, TAG_NOTICE_PATTERNS, job->bounce_patterns) < 0 ||
	    wire_put_u64(m, TAG_NOTICE_DAYS,
			 job->notice_days > 0 ? (uint64_t)job->notice_days
					      : 0) < 0)
		return encode_fail(&m, "the job", err);
	for (size_t i = 0; i < job->n_other_folders; i++)
		if (put_opt_str(m, (uint16_t)(TAG_OTHER_FOLDER + i),
				job->other_folders[i]) < 0)
			return encode_fail(&m, "a folder name", err);
	for (size_t i = 0; i < job->n_items; i++) {
		const struct job_engage_item *it = &job->items[i];
		struct wire_msg *im = wire_msg_new(0);
		uint64_t bits = (it->rescue ? BIT_RESCUE : 0) |
				(it->mark_seen ? BIT_SEEN : 0) |
				(it->mark_flagged ? BIT_FLAGGED : 0) |
				(it->mark_important ? BIT_IMPORTANT : 0) |
				(it->delete_after ? BIT_DELETE : 0);
		const void *data;
		size_t len;
		int bad;

		bad =
		    wire_put_u64(im, TAG_I_EXCHANGE, it->exchange_id) < 0 ||
		    put_opt_str(im, TAG_I_TOKEN_HEADER,
				it->query.token_header) < 0 ||
		    put_opt_str(im, TAG_I_TOKEN, it->query.token) < 0 ||
		    put_opt_str(im, TAG_I_MESSAGE_ID, it->query.message_id) <
			0 ||
		    put_opt_str(im, TAG_I_FROM, it->query.from_addr) < 0 ||
		    put_opt_str(im, TAG_I_SUBJECT, it->query.subject) < 0 ||
		    wire_put_i64(im, TAG_I_SENT_AT, it->query.sent_at) < 0 ||
		    wire_put_i64(im, TAG_I_WINDOW, it->query.window_secs) < 0 ||
		    wire_put_u64(im, TAG_I_BITS, bits) < 0 ||
		    put_opt_str(im, TAG_I_FILE_TO, it->file_to) < 0;
		data = wire_msg_data(im, &len);
		bad = bad || wire_put_bytes(m, (uint16_t)(TAG_ITEM + i), data,
					    len) < 0;
		wire_msg_free(&im);
		if (bad)
			return encode_fail(&m, "an item", err);
	}
	return m;
}

/* Between two looks for an item still on its way. */
#define ENGAGE_LOOK_INTERVAL_MSECS 250

/* The job's locate wait: one budget for all its items. */
struct engage_wait {
	int64_t left_msecs;
	int64_t deadline_msecs; /* the job's */
	int64_t reserve_msecs;	/* kept for the look after a pause */
};

/* The next pause before another look, in msecs; 0: no more looks. */
static int64_t engage_pause_msecs(const struct engage_wait *w)
{
	int64_t room = w->deadline_msecs - w->reserve_msecs - net_now_msecs();
	int64_t pause = ENGAGE_LOOK_INTERVAL_MSECS;

	if (pause > w->left_msecs)
		pause = w->left_msecs;
	if (pause > room)
		pause = room;
	return pause > 0 ? pause : 0;
}

static void engage_sleep(int64_t msecs)
{
	struct timespec ts = {.tv_sec = msecs / 1000,
			      .tv_nsec = (msecs % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One look in every folder, in order; *found_r: what was found. 1, 0, -1. */
static int engage_look(struct imap_session *s, const char *const *folders,
		       const enum job_placement *placements, size_t n,
		       const struct job_engage_item *it,
		       struct job_engage_item_result *r,
		       struct imap_found *found_r, struct hearth_err *err)
{
	for (size_t i = 0; i < n; i++) {
		int ret = imap_locate(s, folders[i], &it->query, found_r, err);

		if (ret < 0)
			return -1;
		if (ret == 1) {
			r->placement = placements[i];
			copy_str(r->folder, sizeof(r->folder), folders[i]);
			r->method = found_r->method;
			r->uid = found_r->uid;
			r->seen = found_r->seen;
			r->flagged = found_r->flagged;
			return 1;
		}
	}
	return 0;
}

/*
 * Locate an item: INBOX, the spam folder, then the others; while it is in
 * none and the job's wait budget lasts, pause, NOOP and look again. Every
 * look after the first is charged to the budget, pause and commands alike,
 * so the whole job waits at most about the budget. 1, 0, -1.
 */
static int engage_locate(struct imap_session *s, const struct job_engage *job,
			 const struct job_engage_item *it,
			 struct job_engage_item_result *r,
			 struct imap_found *found_r, struct engage_wait *w,
			 struct hearth_err *err)
{
	const char *folders[2 + JOB_MAX_OTHER_FOLDERS];
	enum job_placement placements[2 + JOB_MAX_OTHER_FOLDERS];
	size_t n = 0;
	int64_t pause;
	int ret;

	folders[n] = "INBOX";
	placements[n++] = JOB_PLACEMENT_INBOX;
	if (job->spam_folder != NULL) {
		folders[n] = job->spam_folder;
		placements[n++] = JOB_PLACEMENT_SPAM;
	}
	for (size_t i = 0; i < job->n_other_folders; i++) {
		folders[n] = job->other_folders[i];
		placements[n++] = JOB_PLACEMENT_OTHER;
	}
	ret = engage_look(s, folders, placements, n, it, r, found_r, err);
	while (ret == 0 && (pause = engage_pause_msecs(w)) > 0) {
		int64_t start = net_now_msecs();

		engage_sleep(pause);
		/* NOOP after the pause, not before: the folder still selected
		 * is searched without a new SELECT, and only a command after
		 * the delivery makes the server show that mail there. */
		if (imap_noop(s, err) < 0)
			return -1;
		ret =
		    engage_look(s, folders, placements, n, it, r, found_r, err);
		w->left_msecs -= net_now_msecs() - start;
	}
	return ret;
}

/*
 * Before a rescue, mark the message in the spam folder the way a user's
 * "not junk" does: $NotJunk set, $Junk cleared. Once moved, the keyword
 * travels with it, so a later look that finds it in INBOX still knows it
 * came from spam, even if this process dies before the result is recorded.
 * Only where the folder keeps the keyword (PERMANENTFLAGS); elsewhere the
 * rescue goes on without it. A STORE the server refuses does not stop the
 * rescue either: the keyword only records it. 0, or -1 when the session is
 * lost.
 */
static int engage_not_junk(struct imap_session *s,
			   const struct job_engage_item *it,
			   const struct job_engage_item_result *r,
			   const struct imap_found *found,
			   struct hearth_err *err)
{
	struct hearth_err e = {0};
	char quoted[300];
	int ret;

	if (found->not_junk && !found->junk)
		return 0; /* set by an earlier session that died */
	ret = imap_keyword_allowed(s, r->folder, IMAP_KEYWORD_NOT_JUNK, &e);
	if (ret == 0)
		return 0; /* not kept here: rescue without it */
	if (ret > 0 && !found->not_junk)
		ret = imap_keyword(s, r->folder, r->uid, IMAP_KEYWORD_NOT_JUNK,
				   true, &e);
	if (ret >= 0 && found->junk)
		ret = imap_keyword(s, r->folder, r->uid, IMAP_KEYWORD_JUNK,
				   false, &e);
	if (ret >= 0)
		return 0;
	if (e.fail == HEARTH_FAIL_RETRY) {
		*err = e;
		return -1;
	}
	log_warn("exchange=%llu job=engage keyword=%s result=failed "
		 "fail=%s error=%s",
		 (unsigned long long)it->exchange_id, IMAP_KEYWORD_NOT_JUNK,
		 hearth_fail_name(e.fail),
		 log_quote(e.msg, quoted, sizeof(quoted)));
	return 0;
}

/*
 * Handle one item. Returns 0 when done (an operation that the server
 * refused is recorded in the item), -1 when the session is lost.
 */
static int engage_item(struct imap_session *s, const struct job_engage *job,
		       const struct job_engage_item *it,
		       struct job_engage_item_result *r, struct engage_wait *w,
		       struct hearth_err *err)
{
	struct hearth_err e = {0};
	struct imap_found found;
	const char *where;
	int ret;

	memset(r, 0, sizeof(*r));
	r->exchange_id = it->exchange_id;
	ret = engage_locate(s, job, it, r, &found, w, &e);
	if (ret == 0)
		return 0;
	if (ret < 0)
		goto failed;
	if (r->placement == JOB_PLACEMENT_INBOX && found.not_junk &&
	    job->spam_folder != NULL) {
		/* Rescued from spam by an earlier session that did not live
		 * to record it: report where it landed. */
		r->placement = JOB_PLACEMENT_SPAM;
		r->rescued = true;
		copy_str(r->folder, sizeof(r->folder), job->spam_folder);
	}
	if (r->placement == JOB_PLACEMENT_SPAM && it->rescue && !r->rescued) {
		uint32_t new_uid = 0;

		/* The keyword first, on the UID in the spam folder. */
		if (engage_not_junk(s, it, r, &found, &e) < 0)
			goto failed;
		if (imap_move(s, r->folder, r->uid, "INBOX", &new_uid, &e) < 0)
			goto failed;
		r->rescued = true;
		r->uid = new_uid;
		if (new_uid == 0) {
			/* No COPYUID: find it again, never STORE against
			 * the old UID. */
			struct imap_found moved;

			ret = imap_locate(s, "INBOX", &it->query, &moved, &e);
			if (ret < 0)
				goto failed;
			r->uid = ret == 1 ? moved.uid : 0;
		}
	}
	where = r->rescued ? "INBOX" : r->folder;
	if (r->uid != 0 &&
	    (it->mark_seen || it->mark_flagged || it->mark_important)) {
		if (imap_mark(s, where, r->uid, it->mark_seen, it->mark_flagged,
			      it->mark_important, &e) < 0)
			goto failed;
		r->seen |= it->mark_seen;
		r->flagged |= it->mark_flagged;
		r->important =
		    it->mark_important && imap_has_capability(s, "X-GM-EXT-1");
	}
	if (r->uid != 0 && it->delete_after) {
		if (imap_delete(s, where, r->uid, &e) < 0)
			goto failed;
		r->deleted = true;
	} else if (r->uid != 0 && it->file_to != NULL &&
		   strcmp(it->file_to, where) != 0) {
		uint32_t filed_uid = 0;

		if (imap_move(s, where, r->uid, it->file_to, &filed_uid, &e) <
		    0)
			goto failed;
		r->filed = true;
	}
	return 0;
failed:
	r->fail = e.fail;
	copy_str(r->error, sizeof(r->error), e.msg);
	if (e.fail == HEARTH_FAIL_RETRY) {
		/* RETRY from imap_* means the session is gone. */
		*err = e;
		return -1;
	}
	return 0;
}

/*
 * The worker's pattern file, loaded once per path: a worker runs many jobs,
 * all with the install's one file. A file that fails to load is said once
 * in the log; DSNs and auto-replies are still recognised without it.
 */
static const struct bounce_patterns *notice_patterns(const char *path)
{
	static struct bounce_patterns *loaded;
	static char *loaded_path;
	struct hearth_err err = {0};

	if (path == NULL)
		return NULL;
	if (loaded_path != NULL && strcmp(loaded_path, path) == 0)
		return loaded;
	bounce_patterns_free(&loaded);
	free(loaded_path);
	loaded_path = xstrdup(path);
	if (bounce_patterns_load(path, &loaded, &err) < 0)
		log_warn("job=engage bounce_patterns=failed reason=\"%s\"",
			 err.msg);
	return loaded;
}

/* One folder's notices into res; -1 when the session failed. */
static int engage_notices_in(struct imap_session *s, const struct job_engage *job,
			     const char *folder, time_t since,
			     const struct bounce_patterns *patterns,
			     struct job_engage_result *res,
			     struct hearth_err *err)
{
	uint32_t uids[JOB_MAX_NOTICES];
	size_t n = 0;

	if (imap_notice_candidates(s, folder, since, job->notice_token_header,
				   uids, JOB_MAX_NOTICES, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && res->n_notices < JOB_MAX_NOTICES; i++) {
		struct job_notice *no = &res->notices[res->n_notices];
		char *data = NULL;
		size_t len = 0;
		int ret;

		ret = imap_fetch_raw(s, folder, uids[i], JOB_NOTICE_MAX_BYTES,
				     &data, &len, err);
		if (ret < 0)
			return -1;
		if (ret == 0)
			continue;
		memset(no, 0, sizeof(*no));
		if (bounce_parse(data, len, patterns, job->notice_token_header,
				 &no->info) != BOUNCE_NONE) {
			copy_str(no->folder, sizeof(no->folder), folder);
			no->uid = uids[i];
			res->n_notices++;
			/* Hearth's own bounce: read, so it is not read again
			 * (a bounce of other mail is the operator's). */
			if (no->info.kind != BOUNCE_AUTOREPLY &&
			    no->info.token[0] != '\0' &&
			    imap_mark(s, folder, uids[i], true, false, false,
				      err) <
				0) {
				free(data);
				return -1;
			}
		}
		free(data);
	}
	return 0;
}

/* Bounces and auto-replies (job.h), after the items. */
static void engage_notices(struct imap_session *s, const struct job_engage *job,
			   struct job_engage_result *res)
{
	const struct bounce_patterns *patterns =
	    notice_patterns(job->bounce_patterns);
	time_t since = time(NULL) - (time_t)job->notice_days * 86400;
	struct hearth_err err = {0};

	if (engage_notices_in(s, job, "INBOX", since, patterns, res, &err) <
		0 ||
	    (job->spam_folder != NULL &&
	     engage_notices_in(s, job, job->spam_folder, since, patterns, res,
			       &err) < 0))
		copy_str(res->notice_error, sizeof(res->notice_error), err.msg);
}

static int run_engage(const struct wire_msg *m, int64_t deadline,
		      struct wire_msg **result_r, struct hearth_err *err)
{
	struct job_engage job = {0};
	struct job_engage_item *items = NULL;
	struct wire_msg **item_msgs = NULL;
	struct job_engage_item_result *results = NULL;
	struct imap_session *s = NULL;
	struct imap_folders folders = {0};
	struct hearth_err serr = {0};
	struct imap_limits limits;
	struct engage_wait wait;
	struct job_engage_result *notices = NULL;
	struct wire_msg *r;
	size_t done = 0;
	int ret = -1;

	if (get_account(m, TAG_IMAP, &job.imap) < 0) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "job: malformed ENGAGE job");
		return -1;
	}
	job.spam_folder = get_str(m, TAG_SPAM_FOLDER);
	job.op_timeout_msecs = (int)get_u64(m, TAG_OP_TIMEOUT);
	job.n_items = get_u64(m, TAG_N_ITEMS);
	job.locate_wait_msecs = get_u64(m, TAG_LOCATE_WAIT) > INT_MAX
				    ? INT_MAX
				    : (int)get_u64(m, TAG_LOCATE_WAIT);
	job.notice_token_header = get_str(m, TAG_NOTICE_HEADER);
	job.bounce_patterns = get_str(m, TAG_NOTICE_PATTERNS);
	job.notice_days = get_u64(m, TAG_NOTICE_DAYS) > 365
			      ? 365
			      : (int)get_u64(m, TAG_NOTICE_DAYS);
	if (job.n_items > JOB_ENGAGE_MAX_ITEMS) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "job: ENGAGE job with too many items");
		return -1;
	}
	for (size_t i = 0; i < JOB_MAX_OTHER_FOLDERS; i++) {
		const char *f = get_str(m, (uint16_t)(TAG_OTHER_FOLDER + i));

		if (f != NULL)
			job.other_folders[job.n_other_folders++] = f;
	}
	items = xcalloc(job.n_items + 1, sizeof(*items));
	item_msgs = xcalloc(job.n_items + 1, sizeof(*item_msgs));
	results = xcalloc(job.n_items + 1, sizeof(*results));
	for (size_t i = 0; i < job.n_items; i++) {
		const void *data = NULL;
		size_t len = 0;
		struct job_engage_item *it = &items[i];
		struct wire_msg *im;
		uint64_t bits;

		if (wire_get_bytes(m, (uint16_t)(TAG_ITEM + i), &data, &len) !=
			1 ||
		    wire_msg_parse(data, len, &item_msgs[i], err) < 0) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
				       "job: malformed ENGAGE item %zu", i);
			goto out;
		}
		im = item_msgs[i];
		bits = get_u64(im, TAG_I_BITS);
		it->exchange_id = get_u64(im, TAG_I_EXCHANGE);
		it->query.token_header = get_str(im, TAG_I_TOKEN_HEADER);
		it->query.token = get_str(im, TAG_I_TOKEN);
		it->query.message_id = get_str(im, TAG_I_MESSAGE_ID);
		it->query.from_addr = get_str(im, TAG_I_FROM);
		it->query.subject = get_str(im, TAG_I_SUBJECT);
		it->query.sent_at = (time_t)get_i64(im, TAG_I_SENT_AT);
		it->query.window_secs = (int)get_i64(im, TAG_I_WINDOW);
		it->rescue = (bits & BIT_RESCUE) != 0;
		it->mark_seen = (bits & BIT_SEEN) != 0;
		it->mark_flagged = (bits & BIT_FLAGGED) != 0;
		it->mark_important = (bits & BIT_IMPORTANT) != 0;
		it->delete_after = (bits & BIT_DELETE) != 0;
		it->file_to = get_str(im, TAG_I_FILE_TO);
	}
	job.items = items;

	limits.op_timeout_msecs = job.op_timeout_msecs;
	limits.deadline_msecs = deadline;
	if (imap_open(&job.imap.ep, &job.imap.cred, &limits, &s, err) < 0)
		goto out;
	if (job.spam_folder == NULL) {
		if (imap_discover(s, &folders, err) < 0)
			goto out;
		if (folders.junk != NULL)
			job.spam_folder = folders.junk->name;
	}
	/* A pause never eats into the time the look after it may need: one
	 * operation timeout (at least a second) before the deadline. */
	wait.left_msecs = job.locate_wait_msecs > 0 ? job.locate_wait_msecs : 0;
	wait.deadline_msecs = deadline;
	wait.reserve_msecs =
	    job.op_timeout_msecs > 1000 ? job.op_timeout_msecs : 1000;
	for (done = 0; done < job.n_items; done++)
		if (engage_item(s, &job, &items[done], &results[done], &wait,
				&serr) < 0)
			break;
	if (done == 0 && serr.fail != HEARTH_FAIL_NONE) {
		/* Nothing was done: the whole job is retried. */
		*err = serr;
		goto out;
	}
	notices = xcalloc(1, sizeof(*notices));
	if (serr.fail == HEARTH_FAIL_NONE && job.notice_token_header != NULL)
		engage_notices(s, &job, notices);
	r = wire_msg_new(JOB_ENGAGE);
	wire_put_u64(r, TAG_R_N_NOTICES, notices->n_notices);
	wire_put_str(r, TAG_R_NOTICE_ERROR, notices->notice_error);
	for (size_t i = 0; i < notices->n_notices; i++) {
		const struct job_notice *no = &notices->notices[i];
		struct wire_msg *nm = wire_msg_new(0);
		const void *data;
		size_t len;

		wire_put_u64(nm, TAG_N_KIND, no->info.kind);
		wire_put_u64(nm, TAG_N_PERMANENT,
			     (no->info.permanent ? 1u : 0u) |
				 (no->info.undelivered ? 2u : 0u));
		wire_put_str(nm, TAG_N_STATUS, no->info.status);
		wire_put_str(nm, TAG_N_RECIPIENT, no->info.recipient);
		wire_put_str(nm, TAG_N_REASON, no->info.reason);
		wire_put_str(nm, TAG_N_MESSAGE_ID, no->info.message_id);
		wire_put_str(nm, TAG_N_TOKEN, no->info.token);
		wire_put_str(nm, TAG_N_FOLDER, no->folder);
		wire_put_u64(nm, TAG_N_UID, no->uid);
		data = wire_msg_data(nm, &len);
		wire_put_bytes(r, (uint16_t)(TAG_R_NOTICE + i), data, len);
		wire_msg_free(&nm);
	}
	put_opt_str(r, TAG_R_SPAM_FOLDER, job.spam_folder);
	wire_put_u64(r, TAG_R_SPAM_FOUND_BY, folders.junk_found_by);
	wire_put_u64(r, TAG_R_N_ITEMS, done);
	wire_put_u64(r, TAG_R_SESSION_FAIL, serr.fail);
	wire_put_str(r, TAG_R_SESSION_ERROR, serr.msg);
	for (size_t i = 0; i < done; i++) {
		const struct job_engage_item_result *ir = &results[i];
		struct wire_msg *im = wire_msg_new(0);
		uint64_t bits = (ir->seen ? BIT_SEEN : 0) |
				(ir->flagged ? BIT_FLAGGED : 0) |
				(ir->important ? BIT_IMPORTANT : 0) |
				(ir->rescued ? BIT_RESCUED : 0) |
				(ir->filed ? BIT_FILED : 0) |
				(ir->deleted ? BIT_DELETED : 0);
		const void *data;
		size_t len;

		wire_put_u64(im, TAG_I_EXCHANGE, ir->exchange_id);
		wire_put_u64(im, TAG_I_PLACEMENT, ir->placement);
		wire_put_str(im, TAG_I_FOLDER, ir->folder);
		wire_put_u64(im, TAG_I_METHOD, ir->method);
		wire_put_u64(im, TAG_I_UID, ir->uid);
		wire_put_u64(im, TAG_I_BITS, bits);
		wire_put_u64(im, TAG_I_FAIL, ir->fail);
		wire_put_str(im, TAG_I_ERROR, ir->error);
		data = wire_msg_data(im, &len);
		wire_put_bytes(r, (uint16_t)(TAG_ITEM + i), data, len);
		wire_msg_free(&im);
	}
	*result_r = r;
	ret = 0;
out:
	imap_folders_clear(&folders);
	imap_close(&s);
	for (size_t i = 0; i < job.n_items; i++)
		wire_msg_free(&item_msgs[i]);
	free(item_msgs);
	free(items);
	free(results);
	free(notices);
	return ret;
}

int job_engage_result_decode(const struct wire_msg *m,
			     struct job_engage_result *res,
			     struct hearth_err *err)
{
	memset(res, 0, sizeof(*res));
	if (m == NULL || wire_msg_type(m) != JOB_ENGAGE ||
	    get_u64(m, TAG_R_N_ITEMS) > JOB_ENGAGE_MAX_ITEMS) {
		hearth_err_set(err, HEARTH_FAIL_RETRY, 0,
			       "job: not an ENGAGE result");
		return -1;
	}
	copy_str(res->spam_folder, sizeof(res->spam_folder),
		 get_str(m, TAG_R_SPAM_FOLDER));
	res->spam_found_by =
	    (enum imap_discovery)get_u64(m, TAG_R_SPAM_FOUND_BY);
	res->n_items = get_u64(m, TAG_R_N_ITEMS);
	res->session_fail = (enum hearth_fail)get_u64(m, TAG_R_SESSION_FAIL);
	copy_str(res->session_error, sizeof(res->session_error),
		 get_str(m, TAG_R_SESSION_ERROR));
	res->n_notices = get_u64(m, TAG_R_N_NOTICES) > JOB_MAX_NOTICES
			     ? JOB_MAX_NOTICES
			     : get_u64(m, TAG_R_N_NOTICES);
	copy_str(res->notice_error, sizeof(res->notice_error),
		 get_str(m, TAG_R_NOTICE_ERROR));
	for (size_t i = 0; i < res->n_notices; i++) {
		struct job_notice *no = &res->notices[i];
		const void *data = NULL;
		struct wire_msg *nm = NULL;
		size_t len = 0;

		if (wire_get_bytes(m, (uint16_t)(TAG_R_NOTICE + i), &data,
				   &len) != 1 ||
		    wire_msg_parse(data, len, &nm, err) < 0) {
			hearth_err_set(err, HEARTH_FAIL_RETRY, 0,
				       "job: malformed ENGAGE result notice");
			return -1;
		}
		no->info.kind = (enum bounce_kind)get_u64(nm, TAG_N_KIND);
		no->info.permanent = (get_u64(nm, TAG_N_PERMANENT) & 1) != 0;
		no->info.undelivered = (get_u64(nm, TAG_N_PERMANENT) & 2) != 0;
		copy_str(no->info.status, sizeof(no->info.status),
			 get_str(nm, TAG_N_STATUS));
		copy_str(no->info.recipient, sizeof(no->info.recipient),
			 get_str(nm, TAG_N_RECIPIENT));
		copy_str(no->info.reason, sizeof(no->info.reason),
			 get_str(nm, TAG_N_REASON));
		copy_str(no->info.message_id, sizeof(no->info.message_id),
			 get_str(nm, TAG_N_MESSAGE_ID));
		copy_str(no->info.token, sizeof(no->info.token),
			 get_str(nm, TAG_N_TOKEN));
		copy_str(no->folder, sizeof(no->folder),
			 get_str(nm, TAG_N_FOLDER));
		no->uid = (uint32_t)get_u64(nm, TAG_N_UID);
		wire_msg_free(&nm);
	}
	for (size_t i = 0; i < res->n_items; i++) {
		struct job_engage_item_result *ir = &res->items[i];
		const void *data = NULL;
		struct wire_msg *im = NULL;
		size_t len = 0;
		uint64_t bits;

		if (wire_get_bytes(m, (uint16_t)(TAG_ITEM + i), &data, &len) !=
			1 ||
		    wire_msg_parse(data, len, &im, err) < 0) {
			hearth_err_set(err, HEARTH_FAIL_RETRY, 0,
				       "job: malformed ENGAGE result item");
			return -1;
		}
		bits = get_u64(im, TAG_I_BITS);
		ir->exchange_id = get_u64(im, TAG_I_EXCHANGE);
		ir->placement =
		    (enum job_placement)get_u64(im, TAG_I_PLACEMENT);
		copy_str(ir->folder, sizeof(ir->folder),
			 get_str(im, TAG_I_FOLDER));
		ir->method = (enum imap_locate_method)get_u64(im, TAG_I_METHOD);
		ir->uid = (uint32_t)get_u64(im, TAG_I_UID);
		ir->seen = (bits & BIT_SEEN) != 0;
		ir->flagged = (bits & BIT_FLAGGED) != 0;
		ir->important = (bits & BIT_IMPORTANT) != 0;
		ir->rescued = (bits & BIT_RESCUED) != 0;
		ir->filed = (bits & BIT_FILED) != 0;
		ir->deleted = (bits & BIT_DELETED) != 0;
		ir->fail = (enum hearth_fail)get_u64(im, TAG_I_FAIL);
		copy_str(ir->error, sizeof(ir->error),
			 get_str(im, TAG_I_ERROR));
		wire_msg_free(&im);
	}
	return 0;
}

/* --- PROBE --------------------------------------------------------------- */

struct wire_msg *job_probe_encode(const struct job_probe *job,
				  struct hearth_err *err)
{
	struct wire_msg *m = wire_msg_new(JOB_PROBE);

	if (put_account(m, TAG_SMTP, &job->smtp) < 0 ||
	    put_account(m, TAG_IMAP, &job->imap) < 0)
		return encode_fail(&m, "an account", err);
	if (put_opt_str(m, TAG_EHLO, job->ehlo_name) < 0 ||
	    wire_put_u64(m, TAG_OP_TIMEOUT, (uint64_t)job->op_timeout_msecs) <
		0)
		return encode_fail(&m, "the job", err);
	return m;
}

static int run_probe(const struct wire_msg *m, int64_t deadline,
		     struct wire_msg **result_r, struct hearth_err *err)
{
	struct job_account smtp, imap;
	struct smtp_request req = {0};
	struct smtp_result sres;
	struct hearth_err serr = {0}, ierr = {0};
	struct imap_session *s = NULL;
	struct imap_folders f = {0};
	struct imap_limits limits;
	struct wire_msg *r;
	uint64_t caps = 0;

	if (get_account(m, TAG_SMTP, &smtp) < 0 ||
	    get_account(m, TAG_IMAP, &imap) < 0) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "job: malformed PROBE job");
		return -1;
	}
	req.ep = &smtp.ep;
	req.cred = &smtp.cred;
	req.ehlo_name = get_str(m, TAG_EHLO);
	req.op_timeout_msecs = (int)get_u64(m, TAG_OP_TIMEOUT);
	req.deadline_msecs = deadline;
	smtp_login_check(&req, &sres, &serr);

	limits.op_timeout_msecs = req.op_timeout_msecs;
	limits.deadline_msecs = deadline;
	if (imap_open(&imap.ep, &imap.cred, &limits, &s, &ierr) == 0) {
		caps = (imap_has_capability(s, "MOVE") ? CAP_MOVE : 0) |
		       (imap_has_capability(s, "UIDPLUS") ? CAP_UIDPLUS : 0) |
		       (imap_has_capability(s, "X-GM-EXT-1") ? CAP_GMAIL : 0) |
		       (imap_has_capability(s, "SPECIAL-USE") ? CAP_SPECIAL_USE
							      : 0) |
		       (imap_has_capability(s, "IDLE") ? CAP_IDLE : 0);
		imap_discover(s, &f, &ierr);
	}

	r = wire_msg_new(JOB_PROBE);
	wire_put_u64(r, TAG_R_FAIL, serr.fail);
	wire_put_str(r, TAG_R_ERROR, serr.msg);
	wire_put_str(r, TAG_R_AUTH_MECH, sres.auth_mech);
	wire_put_u64(r, TAG_R_TLS_VERIFIED, sres.tls.verified);
	wire_put_str(r, TAG_R_FINGERPRINT, sres.tls.fingerprint);
	wire_put_u64(r, TAG_R_IMAP + TAG_R_FAIL, ierr.fail);
	wire_put_str(r, TAG_R_IMAP + TAG_R_ERROR, ierr.msg);
	if (s != NULL) {
		const struct tls_info *tls = imap_tls(s);

		wire_put_str(r, TAG_R_IMAP + TAG_R_AUTH_MECH,
			     imap_auth_mech(s));
		wire_put_u64(r, TAG_R_IMAP + TAG_R_TLS_VERIFIED, tls->verified);
		wire_put_str(r, TAG_R_IMAP + TAG_R_FINGERPRINT,
			     tls->fingerprint);
	}
	wire_put_u64(r, TAG_R_CAPS, caps);
	if (f.junk != NULL)
		wire_put_str(r, TAG_R_SPAM_FOLDER, f.junk->name);
	wire_put_u64(r, TAG_R_SPAM_FOUND_BY, f.junk_found_by);
	if (f.sent != NULL)
		wire_put_str(r, TAG_R_SENT_FOLDER, f.sent->name);
	if (f.trash != NULL)
		wire_put_str(r, TAG_R_TRASH_FOLDER, f.trash->name);
	if (f.archive != NULL)
		wire_put_str(r, TAG_R_ARCHIVE_FOLDER, f.archive->name);
	imap_folders_clear(&f);
	imap_close(&s);
	*result_r = r;
	return 0;
}

int job_probe_result_decode(const struct wire_msg *m,
			    struct job_probe_result *res,
			    struct hearth_err *err)
{
	uint64_t caps;

	memset(res, 0, sizeof(*res));
	if (m == NULL || wire_msg_type(m) != JOB_PROBE) {
		hearth_err_set(err, HEARTH_FAIL_RETRY, 0,
			       "job: not a PROBE result");
		return -1;
	}
	res->smtp_fail = (enum hearth_fail)get_u64(m, TAG_R_FAIL);
	copy_str(res->smtp_error, sizeof(res->smtp_error),
		 get_str(m, TAG_R_ERROR));
	copy_str(res->smtp_auth_mech, sizeof(res->smtp_auth_mech),
		 get_str(m, TAG_R_AUTH_MECH));
	res->smtp_tls_verified = get_u64(m, TAG_R_TLS_VERIFIED) != 0;
	copy_str(res->smtp_tls_fingerprint, sizeof(res->smtp_tls_fingerprint),
		 get_str(m, TAG_R_FINGERPRINT));
	res->imap_fail = (enum hearth_fail)get_u64(m, TAG_R_IMAP + TAG_R_FAIL);
	copy_str(res->imap_error, sizeof(res->imap_error),
		 get_str(m, TAG_R_IMAP + TAG_R_ERROR));
	copy_str(res->imap_auth_mech, sizeof(res->imap_auth_mech),
		 get_str(m, TAG_R_IMAP + TAG_R_AUTH_MECH));
	res->imap_tls_verified =
	    get_u64(m, TAG_R_IMAP + TAG_R_TLS_VERIFIED) != 0;
	copy_str(res->imap_tls_fingerprint, sizeof(res->imap_tls_fingerprint),
		 get_str(m, TAG_R_IMAP + TAG_R_FINGERPRINT));
	caps = get_u64(m, TAG_R_CAPS);
	res->cap_move = (caps & CAP_MOVE) != 0;
	res->cap_uidplus = (caps & CAP_UIDPLUS) != 0;
	res->cap_gmail = (caps & CAP_GMAIL) != 0;
	res->cap_special_use = (caps & CAP_SPECIAL_USE) != 0;
	res->cap_idle = (caps & CAP_IDLE) != 0;
	copy_str(res->spam_folder, sizeof(res->spam_folder),
		 get_str(m, TAG_R_SPAM_FOLDER));
	res->spam_found_by =
	    (enum imap_discovery)get_u64(m, TAG_R_SPAM_FOUND_BY);
	copy_str(res->sent_folder, sizeof(res->sent_folder),
		 get_str(m, TAG_R_SENT_FOLDER));
	copy_str(res->trash_folder, sizeof(res->trash_folder),
		 get_str(m, TAG_R_TRASH_FOLDER));
	copy_str(res->archive_folder, sizeof(res->archive_folder),
		 get_str(m, TAG_R_ARCHIVE_FOLDER));
	return 0;
}

/* --- the handler --------------------------------------------------------- */

/* --- CHECK --------------------------------------------------------------- */

static int put_list(struct wire_msg *m, uint16_t base, const char *const *v,
		    size_t n, size_t max)
{
	if (n > max)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (put_opt_str(m, (uint16_t)(base + i), v[i]) < 0)
			return -1;
	return 0;
}

/* The strings at base, base + 1, ... (until the first absent) into v. */
static size_t get_list(const struct wire_msg *m, uint16_t base,
		       const char **v, size_t max)
{
	size_t n = 0;

	while (n < max && (v[n] = get_str(m, (uint16_t)(base + n))) != NULL)
		n++;
	return n;
}

struct wire_msg *job_check_encode(const struct job_check *job,
				  struct hearth_err *err)
{
	const struct check_options *o = &job->check;
	struct wire_msg *m = wire_msg_new(JOB_CHECK);

	if (o->domain == NULL || job->timeout_msecs < 0 ||
	    put_opt_str(m, TAG_CHECK_DOMAIN, o->domain) < 0 ||
	    put_opt_str(m, TAG_CHECK_PROVIDER, o->provider) < 0 ||
	    put_opt_str(m, TAG_CHECK_DNS, job->dns_servers) < 0 ||
	    wire_put_u64(m, TAG_OP_TIMEOUT, (uint64_t)job->timeout_msecs) < 0 ||
	    put_list(m, TAG_CHECK_HOST, o->sending_hosts, o->n_sending_hosts,
		     JOB_CHECK_MAX_HOSTS) < 0 ||
	    put_list(m, TAG_CHECK_SELECTOR, o->dkim_selectors,
		     o->n_dkim_selectors, JOB_CHECK_MAX_SELECTORS) < 0 ||
	    put_list(m, TAG_CHECK_DOMAIN_LIST, o->domain_lists,
		     o->n_domain_lists, JOB_CHECK_MAX_LISTS) < 0 ||
	    put_list(m, TAG_CHECK_IP_LIST, o->ip_lists, o->n_ip_lists,
		     JOB_CHECK_MAX_LISTS) < 0)
		return encode_fail(&m, "a CHECK job", err);
	return m;
}

static int run_check(const struct wire_msg *m, struct wire_msg **result_r,
		     struct hearth_err *err)
{
	const char *hosts[JOB_CHECK_MAX_HOSTS], *sels[JOB_CHECK_MAX_SELECTORS];
	const char *dlists[JOB_CHECK_MAX_LISTS], *ilists[JOB_CHECK_MAX_LISTS];
	struct check_options o = {0};
	struct dns_options dopts = {0};
	struct check_report *report = NULL;
	struct dns *dns = NULL;
	struct wire_msg *r;
	const char *failure;
	char *json;
	uint64_t timeout = get_u64(m, TAG_OP_TIMEOUT);

	o.domain = get_str(m, TAG_CHECK_DOMAIN);
	if (o.domain == NULL) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "job: malformed CHECK job");
		return -1;
	}
	o.provider = get_str(m, TAG_CHECK_PROVIDER);
	o.sending_hosts = hosts;
	o.n_sending_hosts =
	    get_list(m, TAG_CHECK_HOST, hosts, JOB_CHECK_MAX_HOSTS);
	o.dkim_selectors = sels;
	o.n_dkim_selectors =
	    get_list(m, TAG_CHECK_SELECTOR, sels, JOB_CHECK_MAX_SELECTORS);
	o.domain_lists = dlists;
	o.n_domain_lists =
	    get_list(m, TAG_CHECK_DOMAIN_LIST, dlists, JOB_CHECK_MAX_LISTS);
	o.ip_lists = ilists;
	o.n_ip_lists = get_list(m, TAG_CHECK_IP_LIST, ilists,
				JOB_CHECK_MAX_LISTS);
	dopts.servers = get_str(m, TAG_CHECK_DNS);
	dopts.timeout_msecs = timeout > 60000 ? 60000 : (int)timeout;
	if (dns_new(&dopts, &dns, err) < 0)
		return -1;
	if (check_domain(dns, &o, &report, err) < 0) {
		dns_free(&dns);
		return -1;
	}
	dns_free(&dns);
	json = check_report_to_json(report);
	failure = check_report_failure(report);
	r = wire_msg_new(JOB_CHECK);
	wire_put_str(r, TAG_R_WORST, check_status_name(report->worst));
	wire_put_str(r, TAG_R_FAILURE, failure != NULL ? failure : "");
	wire_put_str(r, TAG_R_REPORT, json != NULL ? json : "{}");
	free(json);
	check_report_free(&report);
	*result_r = r;
	return 0;
}

int job_check_result_decode(const struct wire_msg *m,
			    struct job_check_result *res,
			    struct hearth_err *err)
{
	const char *report;

	memset(res, 0, sizeof(*res));
	if (m == NULL || wire_msg_type(m) != JOB_CHECK ||
	    (report = get_str(m, TAG_R_REPORT)) == NULL) {
		hearth_err_set(err, HEARTH_FAIL_RETRY, 0,
			       "job: not a CHECK result");
		return -1;
	}
	copy_str(res->worst, sizeof(res->worst), get_str(m, TAG_R_WORST));
	copy_str(res->failure, sizeof(res->failure),
		 get_str(m, TAG_R_FAILURE));
	res->report = xstrdup(report);
	return 0;
}

void job_check_result_clear(struct job_check_result *res)
{
	free(res->report);
	memset(res, 0, sizeof(*res));
}

int job_handler(const struct wire_msg *job, struct wire_msg **result_r,
		void *ctx, struct hearth_err *err)
{
	int64_t deadline = 0;

	(void)ctx;
	*result_r = NULL;
	if (wire_get_i64(job, WORKER_TAG_DEADLINE, &deadline) != 1)
		deadline = net_now_msecs() + 60000;
	switch (wire_msg_type(job)) {
	case JOB_SEND:
		return run_send(job, deadline, result_r, err);
	case JOB_ENGAGE:
		return run_engage(job, deadline, result_r, err);
	case JOB_PROBE:
		return run_probe(job, deadline, result_r, err);
	case JOB_CHECK:
		return run_check(job, result_r, err);
	}
	hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0, "job: unknown type %u",
		       (unsigned)wire_msg_type(job));
	return -1;
}
