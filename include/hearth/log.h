/* SPDX-License-Identifier: MIT */
/*
 * log: one line per event, key=value after a level word, on stderr unless a
 * sink is set. Callers format the key=value pairs themselves:
 *   log_info("exchange=%lld inbox=%lld job=send result=ok smtp=%d", ...);
 * Values that may hold spaces or '=' are passed through log_quote(). A
 * secret is never passed to any function here.
 */
#ifndef HEARTH_LOG_H
#define HEARTH_LOG_H

#include <stdbool.h>
#include <stdio.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

/* Events below `level` are dropped. Default: info. */
void log_set_level(enum log_level level);
/* Lines go to `stream` (borrowed; stderr when NULL). */
void log_set_stream(FILE *stream);
/* Parse "debug", "info", "warn", "error"; 0, or -1 for anything else. */
int log_level_parse(const char *name, enum log_level *level_r);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Quote a value for a key=value line: returned as is when it has no space,
 * quote, '=' or control character, otherwise in double quotes with '"' and
 * '\' escaped and controls as \xHH. The result is written into buf (size
 * bytes, truncated with "..." when too long) and buf is returned.
 */
const char *log_quote(const char *value, char *buf, size_t size);

#endif
