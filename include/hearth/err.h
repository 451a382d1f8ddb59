/* SPDX-License-Identifier: MIT */
/*
 * err: the one error a failed operation hands across modules. The caller owns
 * the struct (usually on its stack); the callee fills it on failure only.
 * `fail` tells the caller what to do next, `code` carries the protocol or
 * system code (an SMTP reply code, an errno), `msg` says what failed in words
 * an operator can act on. A message never contains a secret.
 */
#ifndef HEARTH_ERR_H
#define HEARTH_ERR_H

enum hearth_fail {
	HEARTH_FAIL_NONE = 0,
	/* transient: try again soon (connection refused, timeout, 421) */
	HEARTH_FAIL_RETRY,
	/* transient but the peer asked us to slow down (45x): back off */
	HEARTH_FAIL_BACKOFF,
	/* will not succeed if repeated (55x, bad address, bad input) */
	HEARTH_FAIL_PERMANENT,
	/* credentials refused: pause the inbox until the operator acts */
	HEARTH_FAIL_AUTH,
	/* the peer's certificate or TLS policy check failed */
	HEARTH_FAIL_TLS,
};

struct hearth_err {
	enum hearth_fail fail;
	int code;
	char msg[256];
};

/* Fill *err (which may be NULL: then nothing happens). */
void hearth_err_set(struct hearth_err *err, enum hearth_fail fail, int code,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Stable lower-case name of a failure class, as used in logs ("retry"). */
const char *hearth_fail_name(enum hearth_fail fail);

#endif
