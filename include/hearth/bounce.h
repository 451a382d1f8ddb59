/* SPDX-License-Identifier: MIT */
/*
 * bounce: recognise, in one raw message found in a sender's mailbox, a bounce
 * (an RFC 3464 delivery-status report, or a non-standard bounce text that a
 * pattern recognises) or an auto-reply (RFC 3834 and the common non-standard
 * signs), and find what ties it to the warmup message it answers: the
 * original's Message-ID and token header.
 *
 * The message is untrusted mail and is read as such: the work is bounded
 * (only the first BOUNCE_MAX_MESSAGE_BYTES are looked at, MIME nesting,
 * parts, header fields and report fields are capped, every pattern match
 * runs under a match limit), nothing is read past the length given, nothing
 * recurses, and memory is a fixed amount per call (some 250 KB, freed
 * before it returns; running out aborts, as xmalloc() does). Anything
 * unrecognised, malformed or truncated is BOUNCE_NONE, never an error.
 *
 * How a message is classified, in this order:
 *  1. A top-level multipart/report is a delivery-status report or nothing:
 *     with report-type delivery-status or global-delivery-status (RFC 6533)
 *     and a readable message/delivery-status (or message/global-delivery-
 *     status) part naming a recipient whose Action is failed or delayed,
 *     BOUNCE_DSN; any other report (a read receipt, a feedback report, a
 *     report that only says delivered or relayed, one cut short) is
 *     BOUNCE_NONE. A DSN is never an auto-reply, although Postfix marks its
 *     DSNs Auto-Submitted: auto-replied.
 *  2. A message whose From or Subject matches a "from" or "subject" pattern
 *     is BOUNCE_TEXT; the "reason", "recipient" and "original" patterns then
 *     say why, for whom, and where the quoted original starts.
 *  3. A message with Auto-Submitted: auto-replied, an X-Autoreply (other than
 *     "no") or X-Autorespond header, Precedence: auto_reply, or a Subject
 *     that matches an "autoreply-subject" pattern is BOUNCE_AUTOREPLY, unless
 *     it comes from MAILER-DAEMON or postmaster or has a bounce's header
 *     (X-Failed-Recipients, X-MS-Exchange-Message-Is-Ndr). Auto-Submitted:
 *     auto-generated and X-Auto-Response-Suppress are not signs by
 *     themselves (Outlook puts the latter on ordinary mail).
 *  4. Anything else is BOUNCE_NONE, and so is a message whose header section
 *     never ends (no empty line: cut short).
 *
 * Without patterns (NULL) steps 2 and the subject test of step 3 are skipped.
 * The pattern file's format is described at the top of the shipped file,
 * seeds/bounce-patterns.conf (not .txt: the content corpus loader reads
 * every *.txt under seeds/).
 *
 * Mailbox full: a DSN with status X.2.2 and a pattern classed "soft" are
 * undelivered but not permanent. The message did fail, but a full mailbox is
 * the recipient's passing state, not a bad address, and the common practice
 * of mail senders is to count it as a soft bounce: it must not get the
 * recipient's inbox dropped from the pool by itself.
 */
#ifndef HEARTH_BOUNCE_H
#define HEARTH_BOUNCE_H

#include <stdbool.h>
#include <stddef.h>

#include "hearth/err.h"
#include "hearth/message.h"

/* Bytes of a message looked at; the rest is ignored as if cut off. */
#define BOUNCE_MAX_MESSAGE_BYTES (1024 * 1024)
/* MIME: nesting of multiparts below the top, parts in all. */
#define BOUNCE_MAX_DEPTH 10
#define BOUNCE_MAX_PARTS 100
/* Header fields read per header section; later ones are ignored. */
#define BOUNCE_MAX_HEADERS 256
/* Recipient groups read in one delivery-status part. */
#define BOUNCE_MAX_DSN_RECIPIENTS 100
/* Decoded notification text searched by the patterns. */
#define BOUNCE_MAX_TEXT_BYTES (64 * 1024)
/* The pattern file: its size, a line, the number of patterns. */
#define BOUNCE_MAX_FILE_BYTES (256 * 1024)
#define BOUNCE_MAX_LINE_BYTES 1024
#define BOUNCE_MAX_PATTERNS   512
/* pcre2's match limit for one pattern at one starting position. */
#define BOUNCE_MATCH_LIMIT 100000

enum bounce_kind {
	BOUNCE_NONE = 0,
	/* RFC 3464 delivery-status report */
	BOUNCE_DSN,
	/* non-standard bounce recognised by a pattern */
	BOUNCE_TEXT,
	/* out-of-office / auto-reply (RFC 3834 and common non-standard signs)
	 */
	BOUNCE_AUTOREPLY,
};

/*
 * What bounce_parse() found. Every string is NUL-terminated and "" when
 * nothing was found; all are "" and both flags false for BOUNCE_NONE.
 */
struct bounce_info {
	enum bounce_kind kind;
	/*
	 * The original was given up on: a DSN recipient with Action: failed,
	 * a text bounce whose reason pattern is classed hard or soft, or
	 * which no reason pattern explains. False for a delay warning
	 * (Action: delayed, a pattern classed delay) and an auto-reply.
	 */
	bool undelivered;
	/*
	 * Failed for good, and sending again would fail again: undelivered
	 * with a 5.x.x status other than X.2.2 (mailbox full, see above) for
	 * a DSN, or a reason pattern classed hard for a text bounce. False
	 * for delays, soft failures, unexplained text bounces, auto-replies.
	 */
	bool permanent;
	/*
	 * Enhanced status code, "5.1.1" (class 2, 4 or 5, then up to three
	 * digits twice): the DSN's Status (else the first one in its
	 * Diagnostic-Code), or the pattern's, or the first one in the
	 * matched text when the pattern gives none.
	 */
	char status[16];
	/*
	 * The recipient that failed, a bare address without angle brackets
	 * or address type: Final-Recipient, else Original-Recipient; for a
	 * text bounce the first address of X-Failed-Recipients, else what a
	 * "recipient" pattern captured, else the first address in the
	 * notification text that is not the bounce's own From or To nor a
	 * daemon's. No space or control character; "" when none or longer.
	 */
	char recipient[256];
	/*
	 * Why: the Diagnostic-Code without its type ("550 5.1.1 <a@b>: ..."),
	 * or the line(s) of the notification text a reason pattern matched,
	 * or, for an unexplained text bounce and an auto-reply, the Subject
	 * (encoded words decoded). One line of printable ASCII: runs of white
	 * space become one space, each control character and each non-ASCII
	 * character becomes '?', trimmed, cut at 255 bytes.
	 */
	char reason[256];
	/*
	 * The original's Message-ID with its angle brackets, exactly as it
	 * was sent: from the returned message/rfc822 (message/global) or
	 * text/rfc822-headers (message/global-headers) part, else from a
	 * "Message-ID:" line of the notification text (where bounces that
	 * quote the original put it); for an auto-reply, its In-Reply-To,
	 * else the last References entry. Printable ASCII without space, at
	 * most MESSAGE_MAX_ID_BYTES; "" when none or not of that shape.
	 */
	char message_id[MESSAGE_MAX_ID_BYTES + 1];
	/*
	 * The value of the token header (name given to bounce_parse) in the
	 * returned original's headers, else on a line of the notification
	 * text ("NAME: value", after any indent or '>' quote marks). 1 to
	 * MESSAGE_MAX_TOKEN_BYTES printable ASCII without space; "" when
	 * none, not of that shape, or no name was given.
	 */
	char token[MESSAGE_MAX_TOKEN_BYTES + 1];
};

struct bounce_patterns;

/*
 * Load the pattern file at path (at most BOUNCE_MAX_FILE_BYTES,
 * BOUNCE_MAX_LINE_BYTES a line, BOUNCE_MAX_PATTERNS patterns), compiling
 * every pattern once (JIT-compiled where pcre2 can). On success returns 0
 * and *patterns_r, owned by the caller (bounce_patterns_free()); it is
 * only read afterwards, so several bounce_parse() calls may share it. On
 * failure returns -1 with *err set, HEARTH_FAIL_PERMANENT, and
 * nothing allocated: "PATH: strerror" (err->code the errno) for a file that
 * cannot be read, "PATH: larger than N bytes", or "PATH:LINE: what is
 * wrong" for a bad line (unknown kind, bad class or status, no pattern, a
 * line too long, a NUL byte, too many patterns, a recipient pattern
 * without a group) or a pattern pcre2 refuses (its message and the offset
 * in the pattern).
 */
int bounce_patterns_load(const char *path, struct bounce_patterns **patterns_r,
			 struct hearth_err *err);
/*
 * The same from a file already in memory (data, len: borrowed, need not be
 * NUL-terminated). name (borrowed) stands for the file in messages.
 */
int bounce_patterns_parse(const char *name, const char *data, size_t len,
			  struct bounce_patterns **patterns_r,
			  struct hearth_err *err);
/* Free *patterns (NULL is fine) and set it to NULL. */
void bounce_patterns_free(struct bounce_patterns **patterns);
/* Number of patterns loaded, for logs and tests. */
size_t bounce_patterns_count(const struct bounce_patterns *patterns);

/*
 * Classify one raw RFC 5322 message msg[0..len) (borrowed; CRLF or LF line
 * ends; need not be NUL-terminated; may be NULL when len is 0). patterns
 * (borrowed) may be NULL: then only DSNs and auto-replies by their headers
 * are recognised. token_header (borrowed) is the token header's name, found
 * without regard to case; NULL or "" for none. Fills *info (which the caller
 * owns) completely and returns info->kind. Never fails.
 */
enum bounce_kind bounce_parse(const char *msg, size_t len,
			      const struct bounce_patterns *patterns,
			      const char *token_header,
			      struct bounce_info *info);

/* "none", "dsn", "text", "autoreply" (a static string; "unknown" else). */
const char *bounce_kind_name(enum bounce_kind kind);

#endif
