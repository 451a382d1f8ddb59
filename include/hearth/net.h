/* SPDX-License-Identifier: MIT */
/*
 * net: TCP connections with hard time limits. Every socket hearth opens comes
 * from here: close-on-exec, non-blocking while connecting, and bounded by a
 * deadline on the CLOCK_MONOTONIC clock.
 */
#ifndef HEARTH_NET_H
#define HEARTH_NET_H

#include <stdint.h>

#include "hearth/err.h"

/* Milliseconds on CLOCK_MONOTONIC; deadlines are compared against this. */
int64_t net_now_msecs(void);

/*
 * Connect to host:port (a numeric address or a name; every address the name
 * resolves to is tried in turn) within timeout_msecs. Name resolution goes
 * through getaddrinfo() and is not covered by the timeout; pass numeric
 * addresses where that matters.
 *
 * Returns the connected socket, blocking mode, close-on-exec, owned by the
 * caller; or -1 with *err set: connection refused and timeouts are
 * HEARTH_FAIL_RETRY, an unknown host or a bad port HEARTH_FAIL_PERMANENT.
 */
int net_connect(const char *host, uint16_t port, int timeout_msecs,
		struct hearth_err *err);

/*
 * Wait until fd is readable (events POLLIN) or writable (POLLOUT) or the
 * monotonic deadline passes. Returns 1 ready, 0 timed out, -1 error (errno).
 */
int net_wait(int fd, short events, int64_t deadline_msecs);

#endif
