/* SPDX-License-Identifier: MIT */
/*
 * wire: the typed, length-checked messages the scheduler and its worker
 * processes exchange over a socketpair (DESIGN.md, Processes).
 *
 * A message is a 12-byte header followed by a body, all integers big-endian:
 *   magic u32 (WIRE_MAGIC), version u16 (WIRE_VERSION), type u16,
 *   body length u32 (at most WIRE_BODY_MAX)
 * The body is a sequence of at most WIRE_FIELDS_MAX fields, each
 *   tag u16, kind u8 (enum wire_kind), length u32, value (length bytes)
 * u64 and i64 values are 8 bytes. A str value is its bytes plus one
 * terminating NUL, with no other NUL; a secret value is its bytes plus one
 * terminating NUL (the bytes themselves may hold NULs); bytes are as is.
 * A tag appears at most once in a message.
 *
 * Anything else is malformed: a bad magic or version, a body length past
 * WIRE_BODY_MAX, a field running past the body or the body past its fields,
 * an unknown kind, a bad value length, a duplicate tag, too many fields. A
 * malformed message is an error (HEARTH_FAIL_PERMANENT, code EBADMSG or
 * EMSGSIZE), never a crash and never a partial message.
 *
 * Secrets: a message's buffers are wiped with explicit_bzero when it is
 * freed and whenever they move, whether or not they held a secret field.
 * Error messages and wire_msg_describe() name tags, kinds and lengths only,
 * never a value; a secret's length is not shown either.
 */
#ifndef HEARTH_WIRE_H
#define HEARTH_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "hearth/err.h"

#define WIRE_MAGIC 0x48574952u /* "HWIR" */
#define WIRE_VERSION 1
#define WIRE_HEADER_SIZE 12
#define WIRE_FIELD_HEADER_SIZE 7
/* The largest body (fields and their headers) a message may carry. */
#define WIRE_BODY_MAX (16u * 1024 * 1024)
/* The most fields one message may carry. */
#define WIRE_FIELDS_MAX 256

enum wire_kind {
	WIRE_KIND_U64 = 1,
	WIRE_KIND_I64 = 2,
	WIRE_KIND_STR = 3,
	WIRE_KIND_BYTES = 4,
	WIRE_KIND_SECRET = 5,
};

struct wire_msg;
struct wire_reader;

/* A new empty message of the given type, owned by the caller. */
struct wire_msg *wire_msg_new(uint16_t type);
/* Wipe and free *msg (NULL is fine) and set *msg = NULL. */
void wire_msg_free(struct wire_msg **msg);

uint16_t wire_msg_type(const struct wire_msg *msg);
size_t wire_msg_field_count(const struct wire_msg *msg);

/*
 * The encoded message (header and body), borrowed: valid until the message
 * is changed or freed. It holds secret values in clear: never log it.
 */
const void *wire_msg_data(const struct wire_msg *msg, size_t *len_r);

/*
 * Add a field. The value is copied (str: up to its NUL; bytes and secret:
 * len bytes from data, which may be NULL when len is 0). Returns 0, or -1
 * with the message unchanged when the tag is already present, the message
 * has WIRE_FIELDS_MAX fields, or the body would pass WIRE_BODY_MAX.
 */
int wire_put_u64(struct wire_msg *msg, uint16_t tag, uint64_t value);
int wire_put_i64(struct wire_msg *msg, uint16_t tag, int64_t value);
int wire_put_str(struct wire_msg *msg, uint16_t tag, const char *value);
int wire_put_bytes(struct wire_msg *msg, uint16_t tag, const void *data,
		   size_t len);
int wire_put_secret(struct wire_msg *msg, uint16_t tag, const void *data,
		    size_t len);

/*
 * Look a field up by tag: 1 found (*_r set), 0 absent, -1 present with
 * another kind (*_r untouched). Pointers returned are borrowed from the
 * message: valid until it is changed or freed. A str is NUL-terminated; a
 * secret is NUL-terminated too, *len_r not counting the NUL.
 */
int wire_get_u64(const struct wire_msg *msg, uint16_t tag, uint64_t *value_r);
int wire_get_i64(const struct wire_msg *msg, uint16_t tag, int64_t *value_r);
int wire_get_str(const struct wire_msg *msg, uint16_t tag,
		 const char **value_r);
int wire_get_bytes(const struct wire_msg *msg, uint16_t tag,
		   const void **data_r, size_t *len_r);
int wire_get_secret(const struct wire_msg *msg, uint16_t tag,
		    const char **data_r, size_t *len_r);

/*
 * Parse exactly one complete message of len bytes (data borrowed, copied).
 * On success *msg_r is owned by the caller; on -1 *err says what is wrong
 * and nothing is allocated.
 */
int wire_msg_parse(const void *data, size_t len, struct wire_msg **msg_r,
		   struct hearth_err *err);

/*
 * A one-line summary for logs, e.g.
 *   type=3 bytes=45 fields=1:u64:8,2:str:6,3:secret:<secret>
 * (tag:kind:value length). Written into buf (size bytes, cut with "..."
 * when too long); returns buf. Never shows a value.
 */
const char *wire_msg_describe(const struct wire_msg *msg, char *buf,
			      size_t size);

/*
 * Send one message on fd (a socket, blocking or not; a pipe works too but
 * then SIGPIPE must be ignored) before the monotonic deadline_msecs
 * (net_now_msecs(); INT64_MAX for none), riding out partial writes and
 * EINTR. Returns 0, or -1 with *err: a timeout or a closed peer is
 * HEARTH_FAIL_RETRY (code ETIMEDOUT or the errno). The peer may have
 * received part of the message after a failure: the stream is then unusable.
 */
int wire_send(int fd, const struct wire_msg *msg, int64_t deadline_msecs,
	      struct hearth_err *err);

/*
 * Receive one message from fd before deadline_msecs, reading exactly its
 * bytes and no more. Returns 1 with *msg_r owned by the caller; 0 when the
 * peer closed the stream before the first byte of a message; -1 with *err:
 * timeout, I/O error or a stream closed mid-message is HEARTH_FAIL_RETRY, a
 * malformed message HEARTH_FAIL_PERMANENT. After -1 the stream is unusable.
 */
int wire_recv(int fd, struct wire_msg **msg_r, int64_t deadline_msecs,
	      struct hearth_err *err);

/*
 * The incremental reader, for an event loop: feed it bytes as they arrive,
 * take complete messages out. A header is checked as soon as its 12 bytes
 * are in, so an overlong or foreign stream fails before its body arrives.
 * Call wire_reader_next() until it returns 0 after each feed or read: the
 * buffer then holds at most one message plus what was fed last. Once a call
 * has returned -1 (malformed stream), every later call returns -1.
 * The buffer is wiped as messages leave it and when it moves or is freed.
 */
struct wire_reader *wire_reader_new(void);
void wire_reader_free(struct wire_reader **reader);

/* Append len bytes (copied). 0, or -1 with *err if the stream is broken. */
int wire_reader_feed(struct wire_reader *reader, const void *data, size_t len,
		     struct hearth_err *err);

/*
 * One read() of at most 64 KiB from fd (normally non-blocking, or known to
 * be readable). Returns 1 when bytes were read or none were available yet
 * (EAGAIN, EINTR), 0 at end of stream, -1 with *err (HEARTH_FAIL_RETRY and
 * the errno) on a read error or if the stream is broken.
 */
int wire_reader_read(struct wire_reader *reader, int fd,
		     struct hearth_err *err);

/*
 * Take the next complete message: 1 with *msg_r owned by the caller, 0 when
 * more bytes are needed, -1 with *err when the stream is malformed.
 */
int wire_reader_next(struct wire_reader *reader, struct wire_msg **msg_r,
		     struct hearth_err *err);

/* Bytes buffered and not yet taken as a message. */
size_t wire_reader_pending(const struct wire_reader *reader);

#endif
