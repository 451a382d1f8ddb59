// SPDX-License-Identifier: MIT
#include "hearth/wire.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hearth/net.h"
#include "hearth/xalloc.h"

/* What one wire_reader_read() asks read() for. */
#define WIRE_READ_CHUNK (64 * 1024)

struct wire_field {
	uint16_t tag;
	uint8_t kind;
	uint32_t len;
	/* offset of the value in wire_msg.buf */
	uint32_t off;
};

struct wire_msg {
	/* the encoded message, header kept current after every put */
	unsigned char *buf;
	size_t len;
	size_t cap;
	struct wire_field *fields;
	size_t nfields;
	size_t fields_cap;
};

struct wire_reader {
	unsigned char *buf;
	/* buffered bytes are buf[start, len) */
	size_t start;
	size_t len;
	size_t cap;
	bool broken;
	struct hearth_err broken_err;
};

static void wire_be16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void wire_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void wire_be64(unsigned char *p, uint64_t v)
{
	wire_be32(p, (uint32_t)(v >> 32));
	wire_be32(p + 4, (uint32_t)v);
}

static uint16_t wire_rd16(const unsigned char *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t wire_rd32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t wire_rd64(const unsigned char *p)
{
	return (uint64_t)wire_rd32(p) << 32 | wire_rd32(p + 4);
}

/*
 * realloc() would leave the old copy of a secret in freed memory: move the
 * bytes by hand and wipe the old buffer.
 */
static unsigned char *wire_grow(unsigned char *buf, size_t used,
				size_t old_cap, size_t new_cap)
{
	unsigned char *grown = xmalloc(new_cap);

	if (used > 0)
		memcpy(grown, buf, used);
	if (buf != NULL) {
		explicit_bzero(buf, old_cap);
		free(buf);
	}
	return grown;
}

static const char *wire_kind_name(uint8_t kind)
{
	switch (kind) {
	case WIRE_KIND_U64:
		return "u64";
	case WIRE_KIND_I64:
		return "i64";
	case WIRE_KIND_STR:
		return "str";
	case WIRE_KIND_BYTES:
		return "bytes";
	case WIRE_KIND_SECRET:
		return "secret";
	}
	return "unknown";
}

struct wire_msg *wire_msg_new(uint16_t type)
{
	struct wire_msg *msg = xcalloc(1, sizeof(*msg));

	msg->cap = 256;
	msg->buf = xmalloc(msg->cap);
	msg->len = WIRE_HEADER_SIZE;
	wire_be32(msg->buf, WIRE_MAGIC);
	wire_be16(msg->buf + 4, WIRE_VERSION);
	wire_be16(msg->buf + 6, type);
	wire_be32(msg->buf + 8, 0);
	return msg;
}

void wire_msg_free(struct wire_msg **msg)
{
	struct wire_msg *m = *msg;

	if (m == NULL)
		return;
	explicit_bzero(m->buf, m->cap);
	free(m->buf);
	free(m->fields);
	free(m);
	*msg = NULL;
}

uint16_t wire_msg_type(const struct wire_msg *msg)
{
	return wire_rd16(msg->buf + 6);
}

size_t wire_msg_field_count(const struct wire_msg *msg)
{
	return msg->nfields;
}

const void *wire_msg_data(const struct wire_msg *msg, size_t *len_r)
{
	*len_r = msg->len;
	return msg->buf;
}

static const struct wire_field *wire_find(const struct wire_msg *msg,
					  uint16_t tag)
{
	for (size_t i = 0; i < msg->nfields; i++) {
		if (msg->fields[i].tag == tag)
			return &msg->fields[i];
	}
	return NULL;
}

static void wire_index_add(struct wire_msg *msg, uint16_t tag, uint8_t kind,
			   uint32_t len, uint32_t off)
{
	if (msg->nfields == msg->fields_cap) {
		msg->fields_cap =
			msg->fields_cap == 0 ? 8 : msg->fields_cap * 2;
		msg->fields = xreallocarray(msg->fields, msg->fields_cap,
					    sizeof(*msg->fields));
	}
	msg->fields[msg->nfields++] = (struct wire_field){
		.tag = tag, .kind = kind, .len = len, .off = off};
}

/*
 * Append one field whose value is head (hlen bytes) then, for str and
 * secret, a terminating NUL.
 */
static int wire_put(struct wire_msg *msg, uint16_t tag, uint8_t kind,
		    const void *head, size_t hlen, bool nul)
{
	size_t vlen = hlen + (nul ? 1 : 0);
	size_t body = msg->len - WIRE_HEADER_SIZE;
	unsigned char *p;

	if (wire_find(msg, tag) != NULL || msg->nfields >= WIRE_FIELDS_MAX)
		return -1;
	if (hlen > WIRE_BODY_MAX ||
	    body + WIRE_FIELD_HEADER_SIZE + vlen > WIRE_BODY_MAX)
		return -1;
	if (msg->len + WIRE_FIELD_HEADER_SIZE + vlen > msg->cap) {
		size_t cap = msg->cap;

		while (msg->len + WIRE_FIELD_HEADER_SIZE + vlen > cap)
			cap *= 2;
		msg->buf = wire_grow(msg->buf, msg->len, msg->cap, cap);
		msg->cap = cap;
	}
	p = msg->buf + msg->len;
	wire_be16(p, tag);
	p[2] = kind;
	wire_be32(p + 3, (uint32_t)vlen);
	if (hlen > 0)
		memcpy(p + WIRE_FIELD_HEADER_SIZE, head, hlen);
	if (nul)
		p[WIRE_FIELD_HEADER_SIZE + hlen] = '\0';
	wire_index_add(msg, tag, kind, (uint32_t)vlen,
		       (uint32_t)(msg->len + WIRE_FIELD_HEADER_SIZE));
	msg->len += WIRE_FIELD_HEADER_SIZE + vlen;
	wire_be32(msg->buf + 8, (uint32_t)(msg->len - WIRE_HEADER_SIZE));
	return 0;
}

int wire_put_u64(struct wire_msg *msg, uint16_t tag, uint64_t value)
{
	unsigned char v[8];

	wire_be64(v, value);
	return wire_put(msg, tag, WIRE_KIND_U64, v, sizeof(v), false);
}

int wire_put_i64(struct wire_msg *msg, uint16_t tag, int64_t value)
{
	unsigned char v[8];

	wire_be64(v, (uint64_t)value);
	return wire_put(msg, tag, WIRE_KIND_I64, v, sizeof(v), false);
}

int wire_put_str(struct wire_msg *msg, uint16_t tag, const char *value)
{
	return wire_put(msg, tag, WIRE_KIND_STR, value, strlen(value), true);
}

int wire_put_bytes(struct wire_msg *msg, uint16_t tag, const void *data,
		   size_t len)
{
	return wire_put(msg, tag, WIRE_KIND_BYTES, data, len, false);
}

int wire_put_secret(struct wire_msg *msg, uint16_t tag, const void *data,
		    size_t len)
{
	return wire_put(msg, tag, WIRE_KIND_SECRET, data, len, true);
}

/* The field with tag: 1 of that kind, 0 absent, -1 another kind. */
static int wire_get(const struct wire_msg *msg, uint16_t tag, uint8_t kind,
		    const struct wire_field **field_r)
{
	const struct wire_field *f = wire_find(msg, tag);

	if (f == NULL)
		return 0;
	if (f->kind != kind)
		return -1;
	*field_r = f;
	return 1;
}

int wire_get_u64(const struct wire_msg *msg, uint16_t tag, uint64_t *value_r)
{
	const struct wire_field *f;
	int ret = wire_get(msg, tag, WIRE_KIND_U64, &f);

	if (ret == 1)
		*value_r = wire_rd64(msg->buf + f->off);
	return ret;
}

int wire_get_i64(const struct wire_msg *msg, uint16_t tag, int64_t *value_r)
{
	const struct wire_field *f;
	int ret = wire_get(msg, tag, WIRE_KIND_I64, &f);

	if (ret == 1)
		*value_r = (int64_t)wire_rd64(msg->buf + f->off);
	return ret;
}

int wire_get_str(const struct wire_msg *msg, uint16_t tag,
		 const char **value_r)
{
	const struct wire_field *f;
	int ret = wire_get(msg, tag, WIRE_KIND_STR, &f);

	if (ret == 1)
		*value_r = (const char *)msg->buf + f->off;
	return ret;
}

int wire_get_bytes(const struct wire_msg *msg, uint16_t tag,
		   const void **data_r, size_t *len_r)
{
	const struct wire_field *f;
	int ret = wire_get(msg, tag, WIRE_KIND_BYTES, &f);

	if (ret == 1) {
		*data_r = msg->buf + f->off;
		*len_r = f->len;
	}
	return ret;
}

int wire_get_secret(const struct wire_msg *msg, uint16_t tag,
		    const char **data_r, size_t *len_r)
{
	const struct wire_field *f;
	int ret = wire_get(msg, tag, WIRE_KIND_SECRET, &f);

	if (ret == 1) {
		*data_r = (const char *)msg->buf + f->off;
		*len_r = f->len - 1;
	}
	return ret;
}

/* Check a 12-byte header; its body length goes to *body_len_r. */
static int wire_check_header(const unsigned char *p, uint32_t *body_len_r,
			     struct hearth_err *err)
{
	uint32_t magic = wire_rd32(p);
	uint16_t version = wire_rd16(p + 4);
	uint32_t body_len = wire_rd32(p + 8);

	if (magic != WIRE_MAGIC) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, EBADMSG,
			       "wire: bad magic 0x%08x", magic);
		return -1;
	}
	if (version != WIRE_VERSION) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, EBADMSG,
			       "wire: version %u, expected %u", version,
			       WIRE_VERSION);
		return -1;
	}
	if (body_len > WIRE_BODY_MAX) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, EMSGSIZE,
			       "wire: body of %u bytes, limit %u", body_len,
			       WIRE_BODY_MAX);
		return -1;
	}
	*body_len_r = body_len;
	return 0;
}

static int wire_check_value(const unsigned char *v, uint8_t kind, uint32_t len,
			    uint16_t tag, struct hearth_err *err)
{
	switch (kind) {
	case WIRE_KIND_U64:
	case WIRE_KIND_I64:
		if (len == 8)
			return 0;
		break;
	case WIRE_KIND_STR:
		if (len >= 1 && v[len - 1] == '\0' &&
		    memchr(v, '\0', len - 1) == NULL)
			return 0;
		break;
	case WIRE_KIND_SECRET:
		if (len >= 1 && v[len - 1] == '\0')
			return 0;
		break;
	case WIRE_KIND_BYTES:
		return 0;
	default:
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, EBADMSG,
			       "wire: field tag=%u has unknown kind %u", tag,
			       kind);
		return -1;
	}
	hearth_err_set(err, HEARTH_FAIL_PERMANENT, EBADMSG,
		       "wire: field tag=%u kind=%s has a bad value (length %u)",
		       tag, wire_kind_name(kind), len);
	return -1;
}

/*
 * Parse the len bytes at buf (cap bytes allocated), taking ownership of buf:
 * it ends up in *msg_r, or wiped and freed on failure.
 */
static int wire_msg_adopt(unsigned char *buf, size_t len, size_t cap,
			  struct wire_msg **msg_r, struct hearth_err *err)
{
	struct wire_msg *msg = NULL;
	uint32_t body_len;
	size_t off;

	if (len < WIRE_HEADER_SIZE) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, EBADMSG,
			       "wire: truncated header (%zu of %d bytes)", len,
			       WIRE_HEADER_SIZE);
		goto fail;
	}
	if (wire_check_header(buf, &body_len, err) < 0)
		goto fail;
	if (len - WIRE_HEADER_SIZE != body_len) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, EBADMSG,
			       "wire: %s body (%zu bytes, header says %u)",
			       len - WIRE_HEADER_SIZE < body_len ? "truncated"
								 : "overlong",
			       len - WIRE_HEADER_SIZE, body_len);
		goto fail;
	}
	msg = xcalloc(1, sizeof(*msg));
	msg->buf = buf;
	msg->len = len;
	msg->cap = cap;
	buf = NULL;
	off = WIRE_HEADER_SIZE;
	while (off < msg->len) {
		const unsigned char *p = msg->buf + off;
		size_t left = msg->len - off;
		uint16_t tag;
		uint8_t kind;
		uint32_t vlen;

		if (left < WIRE_FIELD_HEADER_SIZE) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, EBADMSG,
				       "wire: truncated field header at "
				       "offset %zu",
				       off);
			goto fail;
		}
		tag = wire_rd16(p);
		kind = p[2];
		vlen = wire_rd32(p + 3);
		if (vlen > left - WIRE_FIELD_HEADER_SIZE) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, EBADMSG,
				       "wire: field tag=%u length %u runs past "
				       "the body",
				       tag, vlen);
			goto fail;
		}
		if (msg->nfields >= WIRE_FIELDS_MAX) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, EMSGSIZE,
				       "wire: more than %d fields",
				       WIRE_FIELDS_MAX);
			goto fail;
		}
		if (wire_find(msg, tag) != NULL) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, EBADMSG,
				       "wire: duplicate field tag=%u", tag);
			goto fail;
		}
		if (wire_check_value(p + WIRE_FIELD_HEADER_SIZE, kind, vlen,
				     tag, err) < 0)
			goto fail;
		wire_index_add(msg, tag, kind, vlen,
			       (uint32_t)(off + WIRE_FIELD_HEADER_SIZE));
		off += WIRE_FIELD_HEADER_SIZE + vlen;
	}
	*msg_r = msg;
	return 0;
fail:
	if (buf != NULL) {
		explicit_bzero(buf, cap);
		free(buf);
	}
	wire_msg_free(&msg);
	return -1;
}

int wire_msg_parse(const void *data, size_t len, struct wire_msg **msg_r,
		   struct hearth_err *err)
{
	unsigned char *buf;

	if (len > WIRE_HEADER_SIZE + (size_t)WIRE_BODY_MAX) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, EMSGSIZE,
			       "wire: message of %zu bytes, limit %u", len,
			       WIRE_HEADER_SIZE + WIRE_BODY_MAX);
		return -1;
	}
	buf = xmalloc(len > 0 ? len : 1);
	if (len > 0)
		memcpy(buf, data, len);
	return wire_msg_adopt(buf, len, len > 0 ? len : 1, msg_r, err);
}

/* Append to buf at *o, keeping room for "..." and the NUL; false if cut. */
static bool wire_describe_add(char *buf, size_t size, size_t *o,
			      const char *s)
{
	size_t len = strlen(s);

	if (*o + len + 4 > size)
		return false;
	memcpy(buf + *o, s, len + 1);
	*o += len;
	return true;
}

const char *wire_msg_describe(const struct wire_msg *msg, char *buf,
			      size_t size)
{
	char part[64];
	size_t o = 0;

	if (size < 8) {
		if (size > 0)
			buf[0] = '\0';
		return buf;
	}
	buf[0] = '\0';
	snprintf(part, sizeof(part), "type=%u bytes=%zu fields=",
		 wire_msg_type(msg), msg->len);
	if (!wire_describe_add(buf, size, &o, part))
		goto cut;
	for (size_t i = 0; i < msg->nfields; i++) {
		const struct wire_field *f = &msg->fields[i];

		if (f->kind == WIRE_KIND_SECRET)
			snprintf(part, sizeof(part), "%s%u:secret:<secret>",
				 i > 0 ? "," : "", f->tag);
		else
			snprintf(part, sizeof(part), "%s%u:%s:%u",
				 i > 0 ? "," : "", f->tag,
				 wire_kind_name(f->kind), f->len);
		if (!wire_describe_add(buf, size, &o, part))
			goto cut;
	}
	if (msg->nfields == 0)
		wire_describe_add(buf, size, &o, "-");
	return buf;
cut:
	memcpy(buf + o, "...", 4);
	return buf;
}

int wire_send(int fd, const struct wire_msg *msg, int64_t deadline_msecs,
	      struct hearth_err *err)
{
	size_t done = 0;

	while (done < msg->len) {
		ssize_t n;
		int ret = net_wait(fd, POLLOUT, deadline_msecs);

		if (ret == 0) {
			hearth_err_set(err, HEARTH_FAIL_RETRY, ETIMEDOUT,
				       "wire: send timed out after %zu of "
				       "%zu bytes",
				       done, msg->len);
			return -1;
		}
		if (ret < 0)
			goto io_fail;
		n = send(fd, msg->buf + done, msg->len - done,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, msg->buf + done, msg->len - done);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			goto io_fail;
		}
		done += (size_t)n;
	}
	return 0;
io_fail:
	hearth_err_set(err, HEARTH_FAIL_RETRY, errno, "wire: send: %s",
		       strerror(errno));
	return -1;
}

/*
 * Read exactly len bytes into buf. 1 done, 0 end of stream before the first
 * byte, -1 error (*err set, and for a stream closed part way too).
 */
static int wire_read_exact(int fd, unsigned char *buf, size_t len,
			   int64_t deadline_msecs, struct hearth_err *err)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n;
		int ret = net_wait(fd, POLLIN, deadline_msecs);

		if (ret == 0) {
			hearth_err_set(err, HEARTH_FAIL_RETRY, ETIMEDOUT,
				       "wire: receive timed out");
			return -1;
		}
		if (ret < 0)
			goto io_fail;
		n = read(fd, buf + done, len - done);
		if (n == 0) {
			if (done == 0)
				return 0;
			hearth_err_set(err, HEARTH_FAIL_RETRY, ECONNRESET,
				       "wire: stream closed mid-message");
			return -1;
		}
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			goto io_fail;
		}
		done += (size_t)n;
	}
	return 1;
io_fail:
	hearth_err_set(err, HEARTH_FAIL_RETRY, errno, "wire: receive: %s",
		       strerror(errno));
	return -1;
}

int wire_recv(int fd, struct wire_msg **msg_r, int64_t deadline_msecs,
	      struct hearth_err *err)
{
	unsigned char head[WIRE_HEADER_SIZE];
	unsigned char *buf;
	uint32_t body_len;
	size_t len;
	int ret;

	ret = wire_read_exact(fd, head, sizeof(head), deadline_msecs, err);
	if (ret <= 0)
		return ret;
	if (wire_check_header(head, &body_len, err) < 0)
		return -1;
	len = WIRE_HEADER_SIZE + (size_t)body_len;
	buf = xmalloc(len);
	memcpy(buf, head, sizeof(head));
	if (body_len > 0) {
		ret = wire_read_exact(fd, buf + WIRE_HEADER_SIZE, body_len,
				      deadline_msecs, err);
		if (ret <= 0) {
			if (ret == 0)
				hearth_err_set(err, HEARTH_FAIL_RETRY,
					       ECONNRESET,
					       "wire: stream closed "
					       "mid-message");
			explicit_bzero(buf, len);
			free(buf);
			return -1;
		}
	}
	if (wire_msg_adopt(buf, len, len, msg_r, err) < 0)
		return -1;
	return 1;
}

struct wire_reader *wire_reader_new(void)
{
	return xcalloc(1, sizeof(struct wire_reader));
}

void wire_reader_free(struct wire_reader **reader)
{
	struct wire_reader *r = *reader;

	if (r == NULL)
		return;
	if (r->buf != NULL) {
		explicit_bzero(r->buf, r->cap);
		free(r->buf);
	}
	free(r);
	*reader = NULL;
}

/* Make room for n more bytes after the buffered ones. */
static void wire_reader_reserve(struct wire_reader *r, size_t n)
{
	size_t used = r->len - r->start;
	size_t cap;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, used);
		explicit_bzero(r->buf + used, r->len - used);
		r->start = 0;
		r->len = used;
	}
	if (used + n <= r->cap)
		return;
	cap = r->cap == 0 ? 4096 : r->cap;
	while (used + n > cap)
		cap *= 2;
	r->buf = wire_grow(r->buf, used, r->cap, cap);
	r->cap = cap;
}

static int wire_reader_broken(struct wire_reader *r, struct hearth_err *err)
{
	if (err != NULL)
		*err = r->broken_err;
	return -1;
}

/* Fail early on a bad header at the front of the buffer. */
static int wire_reader_check(struct wire_reader *r, uint32_t *body_len_r,
			     struct hearth_err *err)
{
	uint32_t body_len;

	if (r->len - r->start < WIRE_HEADER_SIZE)
		return 0;
	if (wire_check_header(r->buf + r->start, &body_len, &r->broken_err) <
	    0) {
		r->broken = true;
		return wire_reader_broken(r, err);
	}
	if (body_len_r != NULL)
		*body_len_r = body_len;
	return 1;
}

int wire_reader_feed(struct wire_reader *reader, const void *data, size_t len,
		     struct hearth_err *err)
{
	if (reader->broken)
		return wire_reader_broken(reader, err);
	if (len == 0)
		return 0;
	wire_reader_reserve(reader, len);
	memcpy(reader->buf + reader->len, data, len);
	reader->len += len;
	return wire_reader_check(reader, NULL, err) < 0 ? -1 : 0;
}

int wire_reader_read(struct wire_reader *reader, int fd,
		     struct hearth_err *err)
{
	ssize_t n;

	if (reader->broken)
		return wire_reader_broken(reader, err);
	wire_reader_reserve(reader, WIRE_READ_CHUNK);
	n = read(fd, reader->buf + reader->len, WIRE_READ_CHUNK);
	if (n == 0)
		return 0;
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			return 1;
		hearth_err_set(err, HEARTH_FAIL_RETRY, errno,
			       "wire: receive: %s", strerror(errno));
		return -1;
	}
	reader->len += (size_t)n;
	return wire_reader_check(reader, NULL, err) < 0 ? -1 : 1;
}

int wire_reader_next(struct wire_reader *reader, struct wire_msg **msg_r,
		     struct hearth_err *err)
{
	uint32_t body_len = 0;
	size_t len;
	int ret;

	if (reader->broken)
		return wire_reader_broken(reader, err);
	ret = wire_reader_check(reader, &body_len, err);
	if (ret <= 0)
		return ret;
	len = WIRE_HEADER_SIZE + (size_t)body_len;
	if (reader->len - reader->start < len)
		return 0;
	if (wire_msg_parse(reader->buf + reader->start, len, msg_r,
			   &reader->broken_err) < 0) {
		reader->broken = true;
		return wire_reader_broken(reader, err);
	}
	explicit_bzero(reader->buf + reader->start, len);
	reader->start += len;
	if (reader->start == reader->len)
		reader->start = reader->len = 0;
	return 1;
}

size_t wire_reader_pending(const struct wire_reader *reader)
{
	return reader->len - reader->start;
}
