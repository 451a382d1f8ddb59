/* SPDX-License-Identifier: MIT */
/*
 * job: the network jobs a worker process runs (DESIGN.md, Words and
 * Processes), their wire encoding, and the worker's handler.
 *
 *   SEND    one message over the sender's SMTP; optionally APPEND a copy to
 *           its Sent folder over IMAP where the provider does not file
 *           submitted mail itself.
 *   ENGAGE  one IMAP session on a recipient that handles every exchange due
 *           there: locate (INBOX, then the spam folder, then other folders),
 *           record the placement, rescue from spam ($NotJunk, then a move
 *           to INBOX), set \Seen, \Flagged and Gmail's \Important, then
 *           file or delete per retention.
 *   PROBE   log in over SMTP (no message) and IMAP, discover the folders and
 *           capabilities: what enrollment and health checks need.
 *   CHECK   the deliverability checks of one sending domain (check.h:
 *           MX, SPF, DKIM, DMARC, blacklists) over DNS.
 *
 * The scheduler side encodes a job with job_*_encode() (all strings are
 * copied into the message; secrets as wire secrets) and hands it to
 * worker_pool_submit(); job_handler() runs it in the worker; the result is
 * read back with job_*_result_decode(). A job whose connection or login
 * fails comes back as a failure (worker result callback `fail`); an ENGAGE
 * that lost its session after handling some items still returns a result,
 * with those items and the session failure recorded, so nothing done is
 * forgotten; and a SEND whose connection failed after the message's final
 * dot returns a result marked uncertain, since the server may have taken
 * the message.
 */
#ifndef HEARTH_JOB_H
#define HEARTH_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hearth/bounce.h"
#include "hearth/check.h"
#include "hearth/endpoint.h"
#include "hearth/err.h"
#include "hearth/imap.h"
#include "hearth/wire.h"

enum job_type {
	JOB_SEND = 1,
	JOB_ENGAGE = 2,
	JOB_PROBE = 3,
	JOB_CHECK = 4,
};

/* The most items one ENGAGE job carries. */
#define JOB_ENGAGE_MAX_ITEMS 200
/* The most notices (bounces, auto-replies) one ENGAGE job reports. */
#define JOB_MAX_NOTICES 32
/* A notice is read up to this many bytes (a bounce quotes the message). */
#define JOB_NOTICE_MAX_BYTES (256 * 1024)
/* The most folders searched after INBOX and the spam folder. */
#define JOB_MAX_OTHER_FOLDERS 8

/* One account: where and how to log in. Strings borrowed. */
struct job_account {
	struct endpoint ep;
	struct credentials cred;
};

struct job_send {
	struct job_account smtp;
	const char *auth_mech; /* NULL: the best offered */
	const char *ehlo_name;
	const char *mail_from;
	const char *rcpt_to;
	const char *data; /* RFC 5322 message, CRLF (message_build) */
	size_t data_len;
	int op_timeout_msecs;
	/* APPEND a \Seen copy to this folder over imap afterwards */
	const char *append_sent_folder; /* NULL: don't */
	struct job_account imap;
};

struct job_send_result {
	int reply_code;
	char reply_text[512];
	char stage[12];
	char auth_mech[12];
	bool tls_verified;
	char tls_fingerprint[72];
	/* the Sent copy: 1 appended (uid if the server said), 0 not asked,
	 * -1 failed (append_error says why; the send itself succeeded) */
	int appended;
	uint32_t appended_uid;
	char append_error[256];
	/* The connection failed after the message's final dot and before the
	 * server's reply: the server may have accepted it (the caller must
	 * check the recipient's mailbox before any resend). The job then
	 * comes back as a result (not as a worker failure) with uncertain
	 * set, stage "dot", reply_code 0, no Sent copy (appended 0) and
	 * error saying what happened (never a secret). */
	bool uncertain;
	char error[256];
};

enum job_placement {
	JOB_PLACEMENT_MISSING = 0,
	JOB_PLACEMENT_INBOX,
	JOB_PLACEMENT_SPAM,
	JOB_PLACEMENT_OTHER,
};

struct job_engage_item {
	uint64_t exchange_id;
	struct imap_query query; /* strings borrowed */
	bool rescue;		 /* move out of spam into INBOX */
	bool mark_seen;
	bool mark_flagged;
	bool mark_important; /* Gmail's \Important, where offered */
	const char *file_to; /* retention: move here afterwards, or NULL */
	bool delete_after;   /* retention: delete afterwards */
};

struct job_engage {
	struct job_account imap;
	const char *spam_folder; /* NULL: discover it */
	const char *other_folders[JOB_MAX_OTHER_FOLDERS];
	size_t n_other_folders;
	const struct job_engage_item *items;
	size_t n_items;
	int op_timeout_msecs;
	/* An item found in no folder is looked for again, for mail still
	 * being delivered: the session waits briefly (about 250 ms between
	 * looks, never past the job's deadline), issues NOOP (so the server
	 * reports new mail) and searches the same folders again, for at most
	 * locate_wait_msecs in all over the whole job (a budget shared by all
	 * items of the job, not per item). 0: one look only. */
	int locate_wait_msecs;
	/*
	 * Notices: when notice_token_header is set, the session then reads
	 * the unseen messages of the last notice_days days (real time) in
	 * INBOX and the spam folder that lack that header (hearth's own
	 * messages carry it), newest first, and classifies each with
	 * bounce_parse() and the pattern file bounce_patterns (NULL: DSNs
	 * and auto-replies only). Every bounce and auto-reply is reported;
	 * a bounce whose returned message carries the token header is
	 * hearth's own and is marked \Seen; nothing else is changed.
	 */
	const char *notice_token_header;
	const char *bounce_patterns;
	int notice_days;
};

/*
 * A rescue marks the message the way a user's "not junk" does before it
 * moves it to INBOX: the $NotJunk keyword set (and $Junk cleared) in the
 * spam folder, where the folder's PERMANENTFLAGS allow it (\* or $NotJunk).
 * The keyword travels with the message, so a rescue whose result was never
 * recorded (the engine died after the move) is still seen as one.
 *
 *   placement  where the message landed; a message found in INBOX with
 *              $NotJunk was rescued from spam by an earlier session: it is
 *              reported as spam, rescued, with folder the spam folder's
 *              name (where the job knows a spam folder). Where the server
 *              keeps no keyword, such a message is reported as inbox.
 *   folder     where it landed (as the server names it)
 *   uid        where it is now (after a rescue: in INBOX)
 *   rescued    moved from spam to INBOX, by this job or an earlier one
 *              ($NotJunk). A message found in the spam folder already
 *              carrying $NotJunk (the keyword set, the move not done) is
 *              simply rescued.
 */
struct job_engage_item_result {
	uint64_t exchange_id;
	enum job_placement placement;
	char folder[256];
	enum imap_locate_method method;
	uint32_t uid;
	bool rescued;
	bool seen, flagged, important;
	bool filed, deleted;
	/* an operation on this item failed (placement still recorded) */
	enum hearth_fail fail;
	char error[256];
};

/* A bounce or auto-reply found in the mailbox (bounce.h's fields). */
struct job_notice {
	struct bounce_info info;
	char folder[256];
	uint32_t uid;
};

struct job_engage_result {
	char spam_folder[256];
	enum imap_discovery spam_found_by;
	size_t n_items; /* items handled, in job order */
	struct job_engage_item_result items[JOB_ENGAGE_MAX_ITEMS];
	/* the session was lost after n_items: retry the rest */
	enum hearth_fail session_fail;
	char session_error[256];
	/* notices found (when asked); notice_error: the look failed */
	size_t n_notices;
	struct job_notice notices[JOB_MAX_NOTICES];
	char notice_error[256];
};

struct job_probe {
	struct job_account smtp;
	const char *ehlo_name;
	struct job_account imap;
	int op_timeout_msecs;
};

struct job_probe_result {
	/* each side: HEARTH_FAIL_NONE when it worked */
	enum hearth_fail smtp_fail;
	char smtp_error[256];
	char smtp_auth_mech[12];
	bool smtp_tls_verified;
	char smtp_tls_fingerprint[72];
	enum hearth_fail imap_fail;
	char imap_error[256];
	char imap_auth_mech[12];
	bool imap_tls_verified;
	char imap_tls_fingerprint[72];
	bool cap_move, cap_uidplus, cap_gmail, cap_special_use, cap_idle;
	char spam_folder[256];
	enum imap_discovery spam_found_by;
	char sent_folder[256];
	char trash_folder[256];
	char archive_folder[256];
};

/* Bounds of a CHECK job's lists. */
#define JOB_CHECK_MAX_HOSTS 8
#define JOB_CHECK_MAX_SELECTORS 32
#define JOB_CHECK_MAX_LISTS 32

/* One domain's checks, strings borrowed. */
struct job_check {
	/* the lists at most JOB_CHECK_MAX_* long */
	struct check_options check;
	const char *dns_servers; /* dns.h's list; NULL: the system's */
	int timeout_msecs;	 /* each lookup; 0: dns.h's default */
};

struct job_check_result {
	char worst[12];	   /* check_status_name() of the worst finding */
	char failure[512]; /* check_report_failure(), "" when none fails */
	char *report;	   /* check_report_to_json(); job_check_result_clear */
};
void job_check_result_clear(struct job_check_result *res);

/* Encode a job for worker_pool_submit(): a new message owned by the
 * caller, or NULL with *err when a value cannot be encoded. */
struct wire_msg *job_send_encode(const struct job_send *job,
				 struct hearth_err *err);
struct wire_msg *job_engage_encode(const struct job_engage *job,
				   struct hearth_err *err);
struct wire_msg *job_probe_encode(const struct job_probe *job,
				  struct hearth_err *err);
struct wire_msg *job_check_encode(const struct job_check *job,
				  struct hearth_err *err);

/* Decode a result: 0, or -1 with *err when it is not such a result. */
int job_send_result_decode(const struct wire_msg *msg,
			   struct job_send_result *res_r,
			   struct hearth_err *err);
int job_engage_result_decode(const struct wire_msg *msg,
			     struct job_engage_result *res_r,
			     struct hearth_err *err);
int job_probe_result_decode(const struct wire_msg *msg,
			    struct job_probe_result *res_r,
			    struct hearth_err *err);
int job_check_result_decode(const struct wire_msg *msg,
			    struct job_check_result *res_r,
			    struct hearth_err *err);

/* The worker handler (a worker_handler_fn): runs SEND, ENGAGE and PROBE
 * jobs until the job's deadline, CHECK jobs within their lookups' timeouts
 * (check.h bounds a silent resolver). ctx is unused. */
int job_handler(const struct wire_msg *job, struct wire_msg **result_r,
		void *ctx, struct hearth_err *err);

/* "missing", "inbox", "spam", "other". */
const char *job_placement_name(enum job_placement placement);

#endif
