// SPDX-License-Identifier: MIT
#include "hearth/err.h"

#include <stdarg.h>
#include <stdio.h>

void hearth_err_set(struct hearth_err *err, enum hearth_fail fail, int code,
		    const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	err->fail = fail;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

const char *hearth_fail_name(enum hearth_fail fail)
{
	switch (fail) {
	case HEARTH_FAIL_NONE:
		return "none";
	case HEARTH_FAIL_RETRY:
		return "retry";
	case HEARTH_FAIL_BACKOFF:
		return "backoff";
	case HEARTH_FAIL_PERMANENT:
		return "permanent";
	case HEARTH_FAIL_AUTH:
		return "auth";
	case HEARTH_FAIL_TLS:
		return "tls";
	}
	return "unknown";
}
