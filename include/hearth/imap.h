/* SPDX-License-Identifier: MIT */
/*
 * imap: one IMAP session that carries many operations: log in, discover the
 * folders, locate warmup messages, rescue them from spam, flag them, set
 * keywords ($NotJunk) where the folder keeps them, append to Sent, file or
 * delete them. libetpan's mailimap parses the protocol over hearth's TLS
 * stream (tls.h), so certificates are verified before any credential is
 * sent, and every wait has a timeout and the session a deadline.
 *
 * Errors: every function returns -1 with *err set. HEARTH_FAIL_RETRY for a
 * timeout, a dropped connection or a server out of sync (a STREAM, PARSE
 * or FATAL error ends the session: later calls fail at once and the job
 * reconnects); HEARTH_FAIL_AUTH for refused credentials; HEARTH_FAIL_TLS
 * for a certificate that does not verify; HEARTH_FAIL_PERMANENT for a NO
 * to a command, STARTTLS configured but not offered, or a value that could
 * inject a command (CR, LF, NUL, controls) refused before the wire.
 *
 * Folder names are kept exactly as the server sent them (modified UTF-7)
 * and passed back unchanged.
 */
#ifndef HEARTH_IMAP_H
#define HEARTH_IMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "hearth/endpoint.h"
#include "hearth/err.h"

struct imap_session;

/* Folder roles, from SPECIAL-USE, LIST attributes, XLIST or the name. */
enum imap_role {
	IMAP_ROLE_NONE = 0,
	IMAP_ROLE_JUNK,
	IMAP_ROLE_SENT,
	IMAP_ROLE_TRASH,
	IMAP_ROLE_ARCHIVE,
	IMAP_ROLE_DRAFTS,
	IMAP_ROLE_ALL,
	IMAP_ROLE_IMPORTANT,
};

/* How the spam folder was found. */
enum imap_discovery {
	IMAP_DISCOVERY_NONE = 0,
	IMAP_DISCOVERY_SPECIAL_USE, /* LIST ... RETURN (SPECIAL-USE) */
	IMAP_DISCOVERY_LIST,	    /* attributes on a plain LIST */
	IMAP_DISCOVERY_XLIST,	    /* Gmail's old XLIST */
	IMAP_DISCOVERY_NAME,	    /* a name users meet at providers */
};

struct imap_folder {
	char *name; /* as the server sent it (modified UTF-7) */
	char delimiter;
	enum imap_role role;
	bool noselect;
};

struct imap_folders {
	struct imap_folder *v;
	size_t n;
	const struct imap_folder *junk; /* NULL: none found */
	const struct imap_folder *sent;
	const struct imap_folder *trash;
	const struct imap_folder *archive;
	enum imap_discovery junk_found_by;
};

/* How a message was located. */
enum imap_locate_method {
	IMAP_LOCATE_NONE = 0,
	IMAP_LOCATE_TOKEN,	/* the per-message token header */
	IMAP_LOCATE_MESSAGE_ID, /* Message-ID, confirmed exactly */
	IMAP_LOCATE_HEURISTIC,	/* sender + subject + date window */
};

/* What to look for; any field may be NULL/0 to skip that method. */
struct imap_query {
	const char *token_header; /* e.g. "X-Ref" */
	const char *token;
	const char *message_id; /* with or without <> */
	const char *from_addr;
	const char *subject;
	time_t sent_at;
	int window_secs; /* heuristic: accept dates sent_at +- this */
};

/* The keywords a user's "not junk" / "junk" sets (Thunderbird, Apple Mail;
 * what spam-learning setups watch). */
#define IMAP_KEYWORD_NOT_JUNK "$NotJunk"
#define IMAP_KEYWORD_JUNK     "$Junk"

struct imap_found {
	uint32_t uid;
	uint32_t uidvalidity;
	enum imap_locate_method method;
	bool seen;
	bool flagged;
	bool not_junk; /* carries the $NotJunk keyword */
	bool junk;     /* carries the $Junk keyword */
};

struct imap_limits {
	int op_timeout_msecs;
	int64_t deadline_msecs; /* the whole session, CLOCK_MONOTONIC */
};

/*
 * Connect, STARTTLS or implicit TLS (verified), CAPABILITY again after
 * STARTTLS, then log in: XOAUTH2 for a token, LOGIN, or AUTHENTICATE PLAIN
 * when the secret or user name is not ASCII or LOGIN is disabled. The
 * session is owned by the caller: imap_close().
 */
int imap_open(const struct endpoint *ep, const struct credentials *cred,
	      const struct imap_limits *limits, struct imap_session **s_r,
	      struct hearth_err *err);

/* LOGOUT when the session is healthy, then close; sets *s to NULL. */
void imap_close(struct imap_session **s);

/* What the TLS handshake found (inactive for tls_insecure_plaintext). */
const struct tls_info *imap_tls(const struct imap_session *s);
/* The server advertises this capability (case-blind). */
bool imap_has_capability(struct imap_session *s, const char *name);
/* How the session logged in: "LOGIN", "PLAIN", "XOAUTH2". */
const char *imap_auth_mech(const struct imap_session *s);
/* Change the deadline of the session's remaining operations. */
void imap_set_deadline(struct imap_session *s, int64_t deadline_msecs);

/*
 * Discover the folders: LIST "" "*" RETURN (SPECIAL-USE) where SPECIAL-USE
 * is advertised, else plain LIST attributes, XLIST, then known names
 * ([Gmail]/Spam, Junk Email, Junk E-mail, Junk, Spam, Bulk, Bulk Mail),
 * case-blind. Free with imap_folders_clear().
 */
int imap_discover(struct imap_session *s, struct imap_folders *folders_r,
		  struct hearth_err *err);
void imap_folders_clear(struct imap_folders *folders);

/*
 * Locate one message in folder: by token header, then Message-ID (both
 * confirmed by fetching the header: HEADER search matches substrings),
 * then sender + subject + date window. 1 found (*found_r filled), 0 not
 * there, -1 error.
 */
int imap_locate(struct imap_session *s, const char *folder,
		const struct imap_query *q, struct imap_found *found_r,
		struct hearth_err *err);

/*
 * Move a message: UID MOVE where offered, else UID COPY + \Deleted + UID
 * EXPUNGE of that UID alone with UIDPLUS, else COPY + \Deleted only (never
 * a plain EXPUNGE, which would remove other messages). *new_uid_r is the
 * UID in the destination (from COPYUID), or 0 when the server did not say;
 * never STORE against the old UID afterwards.
 */
int imap_move(struct imap_session *s, const char *folder, uint32_t uid,
	      const char *dest, uint32_t *new_uid_r, struct hearth_err *err);

/*
 * Set \Seen and/or \Flagged (silently); with important, also Gmail's
 * \Important label where X-GM-EXT-1 is advertised.
 */
int imap_mark(struct imap_session *s, const char *folder, uint32_t uid,
	      bool seen, bool flagged, bool important, struct hearth_err *err);

/*
 * Keywords: keyword can be set on messages of folder (selected here): its
 * PERMANENTFLAGS list the keyword or \* (new keywords may be created);
 * with no PERMANENTFLAGS at all (RFC 3501: every flag is permanent), when
 * FLAGS lists it. 1 allowed, 0 not (a STORE would not be kept, or be
 * refused), -1 error.
 */
int imap_keyword_allowed(struct imap_session *s, const char *folder,
			 const char *keyword, struct hearth_err *err);

/*
 * Set (set) or clear (!set) one keyword, an IMAP atom such as "$NotJunk",
 * on a message: UID STORE +FLAGS.SILENT / -FLAGS.SILENT (keyword). A
 * keyword that is not an atom is refused before the wire (permanent).
 */
int imap_keyword(struct imap_session *s, const char *folder, uint32_t uid,
		 const char *keyword, bool set, struct hearth_err *err);

/* Flags of a message: 1 found, 0 no such UID, -1 error. */
int imap_flags(struct imap_session *s, const char *folder, uint32_t uid,
	       bool *seen_r, bool *flagged_r, struct hearth_err *err);

/* APPEND a message (\Seen) to folder; *uid_r from APPENDUID or 0. */
int imap_append(struct imap_session *s, const char *folder, const char *data,
		size_t len, uint32_t *uid_r, struct hearth_err *err);

/* Delete one message: \Deleted, and UID EXPUNGE of it with UIDPLUS. */
int imap_delete(struct imap_session *s, const char *folder, uint32_t uid,
		struct hearth_err *err);

/*
 * NOOP: the server reports what changed in the selected folder, so a later
 * search there sees mail delivered since (a folder selected afresh sees it
 * anyway). Also shows the session is still alive.
 */
int imap_noop(struct imap_session *s, struct hearth_err *err);

/*
 * Notices (bounces, auto-replies): the UIDs of the messages in folder that
 * arrived since `since` (SINCE: a day's grain), are not \Seen and do not
 * carry the header without_header (hearth's own messages carry the token
 * header), newest first, at most max of them into uids. 0 and *n_r, or -1.
 */
int imap_notice_candidates(struct imap_session *s, const char *folder,
			   time_t since, const char *without_header,
			   uint32_t *uids, size_t max, size_t *n_r,
			   struct hearth_err *err);
/*
 * The first max bytes (at most 16 MiB) of message uid of folder, as the
 * server keeps it (BODY.PEEK[]<0.max>: \Seen is not set): 1 and *data_r
 * (NUL-terminated, the caller frees) with *len_r; 0 when there is no such
 * message; -1.
 */
int imap_fetch_raw(struct imap_session *s, const char *folder, uint32_t uid,
		   size_t max, char **data_r, size_t *len_r,
		   struct hearth_err *err);

/* A folder name or header value is safe to put on the wire. */
bool imap_value_ok(const char *value);

#endif
