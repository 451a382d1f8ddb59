/* SPDX-License-Identifier: MIT */
/*
 * message: the builder that turns one warmup message's parts into the exact
 * RFC 5322 / MIME bytes that SMTP DATA sends and IMAP APPEND stores, and the
 * validators that keep outside values (addresses, names, subjects, ids,
 * tokens) from ever injecting a header line or an SMTP/IMAP command.
 *
 * The output is 7-bit ASCII with CRLF line endings throughout and ends with
 * a line ending. Header lines are folded at whitespace to stay within 78
 * characters where the value allows it and never pass 998. Subjects and
 * display names that are not plain printable ASCII become RFC 2047 encoded
 * words (UTF-8, B or Q, whichever is shorter, each word at most 75
 * characters and holding whole characters only). Bodies are sent
 * quoted-printable: text/plain alone, or multipart/alternative text + HTML
 * under a random boundary that occurs in neither body.
 *
 * Dot-stuffing is NOT done here: SMTP DATA must still double a leading '.'
 * on every line (the smtp module does; IMAP APPEND sends the bytes as they
 * are). A body line that starts with '.' is encoded "=2E", so in practice
 * no line of a built message starts with '.', but the SMTP layer does not
 * rely on it.
 *
 * No header names hearth or any vendor: the only non-standard header is the
 * per-message token header, whose name comes from the configuration.
 */
#ifndef HEARTH_MESSAGE_H
#define HEARTH_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "hearth/err.h"

/* Bounds, in bytes; a longer value is refused, never cut. */
#define MESSAGE_MAX_ADDR_BYTES	  254
#define MESSAGE_MAX_LOCAL_BYTES	  64
#define MESSAGE_MAX_DOMAIN_BYTES  253
#define MESSAGE_MAX_NAME_BYTES	  256
#define MESSAGE_MAX_SUBJECT_BYTES 998
/* A message id with its angle brackets: a UUID on a 253-byte domain fits. */
#define MESSAGE_MAX_ID_BYTES	     320
#define MESSAGE_MAX_REFERENCES_BYTES 4096
#define MESSAGE_MAX_TOKEN_NAME_BYTES 76
#define MESSAGE_MAX_TOKEN_BYTES	     256
#define MESSAGE_MAX_BODY_BYTES	     (10 * 1024 * 1024)
/* The sender's offset from UTC is refused at a whole day or more. */
#define MESSAGE_MAX_TZ_OFFSET_MINUTES (24 * 60 - 1)

/*
 * One message. Every string is borrowed for the call, NUL-terminated UTF-8.
 *
 * from_name, to_name: display names, NULL or "" for none (the address then
 *        stands alone). At most MESSAGE_MAX_NAME_BYTES, header-safe (see
 *        message_header_value_ok).
 * from_addr, to_addr: required, message_address_ok.
 * subject: required ("" is an empty subject), at most
 *        MESSAGE_MAX_SUBJECT_BYTES, header-safe. A tab is refused like any
 *        other control character: subjects are single-line text.
 * text_body: required, the text/plain part. Any UTF-8 text up to
 *        MESSAGE_MAX_BODY_BYTES; CRLF, lone CR and lone LF all become CRLF;
 *        other control characters are allowed (they are encoded).
 * html_body: the text/html part, same rules; NULL for a text/plain message.
 * message_id: "<local@domain>" (message_id_ok); NULL to generate one on the
 *        sender's domain with message_id_new().
 * in_reply_to: the parent's Message-ID for a reply, or NULL.
 * references: the thread's ids, "<a@x> <b@y>" separated by spaces, each
 *        message_id_ok, at most MESSAGE_MAX_REFERENCES_BYTES; NULL with
 *        in_reply_to set gives "References: <in_reply_to>".
 * token_header, token_value: the neutral token header (name from the
 *        configuration, message_token_name_ok; value 1 to
 *        MESSAGE_MAX_TOKEN_BYTES printable ASCII characters without spaces
 *        so that IMAP SEARCH HEADER finds it verbatim). Both NULL for none;
 *        one without the other is refused.
 * date:  when the message is sent, seconds since the epoch (>= 0).
 * tz_offset_minutes: the sender's offset from UTC for the Date header
 *        (-330 gives "-0530"); |offset| <= MESSAGE_MAX_TZ_OFFSET_MINUTES.
 */
struct message_spec {
	const char *from_name;
	const char *from_addr;
	const char *to_name;
	const char *to_addr;
	const char *subject;
	const char *text_body;
	const char *html_body;
	const char *message_id;
	const char *in_reply_to;
	const char *references;
	const char *token_header;
	const char *token_value;
	time_t date;
	int tz_offset_minutes;
};

/*
 * Build the message. Headers, in this order: Date, From, To, Subject,
 * Message-ID, In-Reply-To, References, the token header, MIME-Version,
 * Content-Type (+ Content-Transfer-Encoding for a single part).
 *
 * Returns 0 with *data_r a NUL-terminated buffer of *len_r bytes (the NUL
 * not counted) owned by the caller (free()), and, when message_id_r is not
 * NULL, *message_id_r the Message-ID used (given or generated, with its
 * angle brackets) owned by the caller (free()). Returns -1 with err set,
 * HEARTH_FAIL_PERMANENT, naming the field and what is wrong with it, when
 * any field breaks the rules above; the message echoes an address (quoted,
 * controls escaped) but no other value. Nothing is allocated on failure and
 * the out-parameters are left alone.
 */
int message_build(const struct message_spec *spec, char **data_r, size_t *len_r,
		  char **message_id_r, struct hearth_err *err);

/*
 * The validators, for the SMTP and IMAP code to check a value before it
 * reaches the wire. NULL is never valid.
 *
 * message_address_ok: a plain addr-spec "local@domain" of at most
 * MESSAGE_MAX_ADDR_BYTES: ASCII only; the local part a dot-atom (RFC 5322
 * atext and single inner dots, no quoted form) of at most
 * MESSAGE_MAX_LOCAL_BYTES; the domain valid per message_domain_ok. So no
 * space, control character, '<', '>', '"', ',', ':' or second '@'.
 */
bool message_address_ok(const char *addr);
/*
 * A host name: dot-separated labels of 1 to 63 letters, digits and hyphens,
 * no label starting or ending with a hyphen, at most
 * MESSAGE_MAX_DOMAIN_BYTES, no trailing dot. A single label ("localhost")
 * is accepted; address literals ("[127.0.0.1]") are not.
 */
bool message_domain_ok(const char *domain);
/*
 * A header value (display name, subject): at most max_len bytes of valid
 * UTF-8 (no overlong forms, surrogates or code points past U+10FFFF) with
 * no C0 control (tab, CR and LF included), no DEL and no C1 control
 * (U+0080 to U+009F). "" is valid.
 */
bool message_header_value_ok(const char *value, size_t max_len);
/*
 * A message id as it appears in Message-ID, In-Reply-To and References:
 * "<" id-left "@" id-right ">", both sides dot-atom text (RFC 5322 atext
 * and single inner dots), id-right also a "[...]" literal of printable
 * ASCII without '[', ']' or '\', at most MESSAGE_MAX_ID_BYTES in all.
 */
bool message_id_ok(const char *id);
/*
 * A name for the token header: 1 to MESSAGE_MAX_TOKEN_NAME_BYTES printable
 * ASCII characters other than ':' and space, not a header that RFC 5322,
 * MIME, DKIM/ARC or common mail software gives a meaning to (Subject,
 * Content-*, Resent-*, List-*, X-Mailer, ...), and not containing "hearth"
 * or "warmup" in any case: the header must not name the software that
 * sends it or what the message is for.
 */
bool message_token_name_ok(const char *name);

/*
 * A new Message-ID "<uuid@domain>": a random (version 4) UUID in lower-case
 * hexadecimal, the form common mail clients use, on `domain` (borrowed; as
 * given). Owned by the caller (free()); NULL when the domain is not
 * message_domain_ok.
 */
char *message_id_new(const char *domain);

#endif
