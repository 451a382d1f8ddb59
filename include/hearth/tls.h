/* SPDX-License-Identifier: MIT */
/*
 * tls: hearth's libetpan stream driver. Every SMTP and IMAP connection runs
 * over it: a close-on-exec socket from net_connect(), non-blocking I/O with
 * poll() waits (no select(), so any fd number works), a timeout on every
 * wait, an absolute deadline for the whole job, a cap on the bytes a peer
 * may send, and TLS through OpenSSL with the certificate chain and the host
 * name verified inside the handshake, SNI sent.
 *
 * Network-internal: only network/ includes this header (it names libetpan
 * types); the engine sees endpoints through include/hearth/endpoint.h.
 *
 * libetpan's own TLS (GnuTLS on Debian) verifies nothing and is never used.
 */
#ifndef HEARTH_TLS_H
#define HEARTH_TLS_H

#include <stdbool.h>
#include <stdint.h>

#include <libetpan/libetpan.h>

#include "hearth/endpoint.h"
#include "hearth/err.h"

/*
 * Limits of one stream. op_timeout_msecs bounds each wait for the peer;
 * deadline_msecs (CLOCK_MONOTONIC, see net_now_msecs) bounds everything:
 * once it passes every read and write fails. max_read_bytes caps what the
 * peer may send over the stream's life (a flood is cut off, not buffered).
 */
struct tls_limits {
	int op_timeout_msecs;
	int64_t deadline_msecs;
	uint64_t max_read_bytes;
};

/*
 * A stream over a connected socket; takes ownership of fd (closed when the
 * stream is closed). Plaintext until tls_stream_handshake().
 */
mailstream *tls_stream_new(int fd, const struct tls_limits *limits);

/*
 * Connect to the endpoint and, for implicit TLS, shake hands and verify.
 * For STARTTLS the caller speaks the protocol's STARTTLS and then calls
 * tls_stream_handshake(). Returns a stream owned by the caller (close with
 * mailstream_close) or NULL with *err set (connect: retry; verification:
 * HEARTH_FAIL_TLS). info_r may be NULL.
 */
mailstream *tls_connect(const struct endpoint *ep,
			const struct tls_limits *limits,
			struct tls_info *info_r, struct hearth_err *err);

/*
 * TLS client handshake on the stream's socket, verifying the peer for
 * ep->host against ep->ca_file (or the system store). Refused when the
 * stream holds buffered bytes the peer sent before the handshake (a
 * STARTTLS injection). A verification failure is HEARTH_FAIL_TLS and its
 * message says why; with ep->tls_insecure_skip_verify the result is only
 * recorded, and a warning is logged.
 */
int tls_stream_handshake(mailstream *s, const struct endpoint *ep,
			 struct tls_info *info_r, struct hearth_err *err);

/* Change the stream's deadline (e.g. a job that reuses a session). */
void tls_stream_set_deadline(mailstream *s, int64_t deadline_msecs);

/*
 * Why the last read or write failed ("timed out", "deadline passed",
 * "connection closed", an OpenSSL or errno text), for error messages; and
 * whether it was a timeout or deadline.
 */
const char *tls_stream_error(mailstream *s);
bool tls_stream_timed_out(mailstream *s);

/* Total bytes read from the peer so far. */
uint64_t tls_stream_bytes_read(mailstream *s);

#endif
