// SPDX-License-Identifier: MIT
#include "hearth/log.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static enum log_level log_min_level = LOG_LEVEL_INFO;
static FILE *log_stream;

static const char *const log_level_names[] = {
    [LOG_LEVEL_DEBUG] = "debug",
    [LOG_LEVEL_INFO] = "info",
    [LOG_LEVEL_WARN] = "warn",
    [LOG_LEVEL_ERROR] = "error",
};

void log_set_level(enum log_level level)
{
	log_min_level = level;
}

void log_set_stream(FILE *stream)
{
	log_stream = stream;
}

int log_level_parse(const char *name, enum log_level *level_r)
{
	for (size_t i = 0;
	     i < sizeof(log_level_names) / sizeof(*log_level_names); i++) {
		if (strcasecmp(name, log_level_names[i]) == 0) {
			*level_r = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

static void __attribute__((format(printf, 2, 0)))
log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	FILE *out = log_stream != NULL ? log_stream : stderr;
	char line[2048];
	struct timespec ts;
	struct tm tm;
	int n;

	if (level < log_min_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(
	    line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000000, log_level_names[level]);
	if (n > 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	/* One write per line so lines from several processes do not mix. */
	fprintf(out, "%s\n", line);
	fflush(out);
}

#define LOG_FUNC(name, level)                                                  \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_vwrite(level, fmt, ap);                                    \
		va_end(ap);                                                    \
	}

LOG_FUNC(log_debug, LOG_LEVEL_DEBUG)
LOG_FUNC(log_info, LOG_LEVEL_INFO)
LOG_FUNC(log_warn, LOG_LEVEL_WARN)
LOG_FUNC(log_error, LOG_LEVEL_ERROR)

const char *log_quote(const char *value, char *buf, size_t size)
{
	static const char ellipsis[] = "...";
	bool plain = *value != '\0';
	size_t o = 0;

	if (size < sizeof(ellipsis) + 3) {
		if (size > 0)
			buf[0] = '\0';
		return buf;
	}
	for (const char *p = value; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
			plain = false;
	}
	if (plain && strlen(value) < size) {
		memcpy(buf, value, strlen(value) + 1);
		return buf;
	}
	buf[o++] = '"';
	for (const char *p = value; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		char tmp[5];
		size_t len;

		if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			len = 2;
		} else if (c < ' ' || c == 0x7f) {
			snprintf(tmp, sizeof(tmp), "\\x%02x", c);
			len = 4;
		} else {
			tmp[0] = (char)c;
			len = 1;
		}
		/* keep room for the ellipsis, closing quote and NUL */
		if (o + len + sizeof(ellipsis) + 1 > size) {
			memcpy(buf + o, ellipsis, sizeof(ellipsis) - 1);
			o += sizeof(ellipsis) - 1;
			break;
		}
		memcpy(buf + o, tmp, len);
		o += len;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}
