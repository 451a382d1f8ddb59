// SPDX-License-Identifier: MIT
#include "hearth/config.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hearth/content.h"
#include "hearth/message.h"
#include "hearth/xalloc.h"

#ifndef HEARTH_SEEDS_DEFAULT
#define HEARTH_SEEDS_DEFAULT "seeds"
#endif

#define CONFIG_ZONEINFO	      "/usr/share/zoneinfo"
#define CONFIG_MAX_ZONE_BYTES 64
/* How much of a bad value an error message repeats. */
#define CONFIG_SHOW_BYTES 40

enum config_kind {
	CONFIG_PATH,	 /* char *: an absolute path */
	CONFIG_COUNT,	 /* unsigned */
	CONFIG_INT,	 /* int */
	CONFIG_SECS,	 /* int msecs: seconds in the file */
	CONFIG_PERCENT,	 /* unsigned: a whole percent */
	CONFIG_WORD,	 /* char *: one of words */
	CONFIG_WINDOW,	 /* window_start, window_end */
	CONFIG_ZONE,	 /* char *: UTC or a tz database name */
	CONFIG_HEADER,	 /* char *: a header field name */
	CONFIG_HOSTNAME, /* char *: a host name */
	CONFIG_LANG,	 /* char *: a language tag */
	CONFIG_SERVERS,	 /* char *: "addr[:port],..." DNS servers */
	CONFIG_BOOL,	 /* bool: yes/no, true/false, on/off */
	CONFIG_ZONES,	 /* struct config_list: host names (DNSBL zones) */
	CONFIG_SELS,	 /* struct config_list: [domain:]selector */
};

struct config_key {
	const char *section;
	const char *key;
	enum config_kind kind;
	size_t offset;
	long min, max;
	const char *const *words;
};

static const char *const config_profiles[] = {"safe", "standard", "fast", NULL};
static const char *const config_retentions[] = {"keep", "archive", "delete",
						NULL};
static const char *const config_levels[] = {"debug", "info", "warn", "error",
					    NULL};

static const char *const config_sections[] = {
    "store",	 "vault",  "network", "warmup", "content",
    "readiness", "checks", "log",     NULL,
};

#define CONFIG_SECTION_NAMES                                                   \
	"[store], [vault], [network], [warmup], [content], [readiness], "      \
	"[checks], [log]"
#define CONFIG_SECTION_WORDS                                                   \
	"[store], [vault], [network], [warmup], [content], [readiness], "      \
	"[checks] or [log]"

#define KEY(sec, name, kind, field, min, max, words)                           \
	{                                                                      \
		sec, name, kind, offsetof(struct config, field), min, max,     \
		    words                                                      \
	}

/* The order of the file's documentation (engine/config.md). */
static const struct config_key config_keys[] = {
    KEY("store", "data_dir", CONFIG_PATH, data_dir, 0, 0, NULL),
    KEY("store", "database", CONFIG_PATH, database, 0, 0, NULL),
    KEY("vault", "key_file", CONFIG_PATH, key_file, 0, 0, NULL),
    KEY("network", "workers", CONFIG_COUNT, workers, 1, 64, NULL),
    KEY("network", "timeout", CONFIG_SECS, op_timeout_msecs, 1, 600, NULL),
    KEY("network", "job_deadline", CONFIG_SECS, job_deadline_msecs, 1, 3600,
	NULL),
    KEY("network", "per_host", CONFIG_COUNT, per_host, 1, 64, NULL),
    KEY("network", "ca_file", CONFIG_PATH, ca_file, 0, 0, NULL),
    KEY("network", "ehlo_name", CONFIG_HOSTNAME, ehlo_name, 0, 0, NULL),
    KEY("network", "dns", CONFIG_SERVERS, dns_servers, 0, 0, NULL),
    KEY("warmup", "ramp_profile", CONFIG_WORD, ramp_profile, 0, 0,
	config_profiles),
    KEY("warmup", "window", CONFIG_WINDOW, window_start, 0, 0, NULL),
    KEY("warmup", "timezone", CONFIG_ZONE, timezone, 0, 0, NULL),
    KEY("warmup", "retention", CONFIG_WORD, retention, 0, 0, config_retentions),
    KEY("warmup", "retention_days", CONFIG_INT, retention_days, 0, 365, NULL),
    KEY("warmup", "thread_depth", CONFIG_COUNT, thread_depth, 1, 10, NULL),
    KEY("warmup", "token_header", CONFIG_HEADER, token_header, 0, 0, NULL),
    KEY("content", "seeds", CONFIG_PATH, seeds_dir, 0, 0, NULL),
    KEY("content", "language", CONFIG_LANG, language, 0, 0, NULL),
    KEY("readiness", "window_days", CONFIG_COUNT, readiness_window_days, 1, 90,
	NULL),
    KEY("readiness", "min_inbox", CONFIG_PERCENT, readiness_min_inbox_pct, 50,
	100, NULL),
    KEY("readiness", "min_measured", CONFIG_COUNT, readiness_min_measured, 1,
	10000, NULL),
    KEY("readiness", "max_spam", CONFIG_PERCENT, readiness_max_spam_pct, 0, 100,
	NULL),
    KEY("readiness", "max_bounce", CONFIG_PERCENT, readiness_max_bounce_pct, 0,
	100, NULL),
    KEY("readiness", "auth_clear_days", CONFIG_COUNT, readiness_auth_clear_days,
	0, 30, NULL),
    KEY("readiness", "cold_min", CONFIG_COUNT, readiness_cold_min, 1, 500,
	NULL),
    /* at least cold_min: checked once the file is read */
    KEY("readiness", "cold_max", CONFIG_COUNT, readiness_cold_max, 1, 1000,
	NULL),
    KEY("checks", "enabled", CONFIG_BOOL, checks_enabled, 0, 0, NULL),
    KEY("checks", "dkim_selectors", CONFIG_SELS, checks_dkim_selectors, 0, 0,
	NULL),
    KEY("checks", "domain_lists", CONFIG_ZONES, checks_domain_lists, 0, 0,
	NULL),
    KEY("checks", "ip_lists", CONFIG_ZONES, checks_ip_lists, 0, 0, NULL),
    KEY("checks", "bounce_patterns", CONFIG_PATH, checks_bounce_patterns, 0, 0,
	NULL),
    KEY("log", "level", CONFIG_WORD, log_level, 0, 0, config_levels),
};

#define CONFIG_N_KEYS (sizeof(config_keys) / sizeof(*config_keys))

struct config_parser {
	const char *name;
	const char *data;
	size_t len;
	size_t pos;
	/* lines handed to inih so far: the number of the current line */
	int lineno;
	/* line of the first error found here, 0 while none */
	int err_line;
	struct hearth_err *err;
	struct config *cfg;
	/* the line each key was set on, 0 when not set */
	int seen[CONFIG_N_KEYS];
};

static int __attribute__((format(printf, 2, 3)))
config_fail(struct config_parser *p, const char *fmt, ...)
{
	char what[sizeof(p->err->msg)];
	va_list ap;

	if (p->err_line != 0)
		return 0;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	p->err_line = p->lineno;
	hearth_err_set(p->err, HEARTH_FAIL_PERMANENT, 0, "%s:%d: %s", p->name,
		       p->lineno, what);
	return 0;
}

/*
 * A bad value as messages repeat it: at most CONFIG_SHOW_BYTES, cut on a
 * character boundary (values are valid UTF-8 by then).
 */
static const char *config_show(const char *value, char *buf, size_t size)
{
	size_t n = strlen(value);

	if (n <= CONFIG_SHOW_BYTES) {
		snprintf(buf, size, "%s", value);
		return buf;
	}
	n = CONFIG_SHOW_BYTES;
	while (n > 0 && ((unsigned char)value[n] & 0xc0) == 0x80)
		n--;
	snprintf(buf, size, "%.*s...", (int)n, value);
	return buf;
}

static bool config_section_known(const char *name, size_t len)
{
	for (size_t i = 0; config_sections[i] != NULL; i++) {
		if (strlen(config_sections[i]) == len &&
		    memcmp(config_sections[i], name, len) == 0)
			return true;
	}
	return false;
}

/*
 * Checks a section line "[name]" before inih sees it: inih does not report
 * sections, only the keys in them, and ignores text after the ']'.
 */
static bool config_check_section(struct config_parser *p, const char *s,
				 size_t len)
{
	const char *close = memchr(s, ']', len);
	size_t name_len, rest;

	if (close == NULL)
		return true; /* inih reports it */
	name_len = (size_t)(close - s) - 1;
	if (!config_section_known(s + 1, name_len)) {
		char buf[CONFIG_SHOW_BYTES + 8];
		char *name = xstrndup(s + 1, name_len);

		config_fail(p, "unknown section [%s] (sections: %s)",
			    config_show(name, buf, sizeof(buf)),
			    CONFIG_SECTION_NAMES);
		free(name);
		return false;
	}
	rest = len - (size_t)(close - s) - 1;
	for (size_t i = 0; i < rest; i++) {
		char c = close[1 + i];

		if (c == ';' || c == '#')
			break;
		if (c != ' ' && c != '\t') {
			config_fail(p, "text after the section name [%.*s]",
				    (int)name_len, s + 1);
			return false;
		}
	}
	return true;
}

/*
 * The ini_reader: one physical line per call, as fgets would give it, so
 * that inih's line numbers are ours. The line is checked first; leading
 * white space is dropped, which turns inih's continuation lines off.
 */
static char *config_reader(char *str, int num, void *stream)
{
	struct config_parser *p = stream;
	const char *line, *nl;
	size_t len, bad;

	if (p->err_line != 0 || p->pos >= p->len)
		return NULL;
	line = p->data + p->pos;
	nl = memchr(line, '\n', p->len - p->pos);
	len = nl != NULL ? (size_t)(nl - line) : p->len - p->pos;
	p->pos += len + (nl != NULL);
	p->lineno++;
	if (p->lineno == 1 && len >= 3 &&
	    memcmp(line, "\xef\xbb\xbf", 3) == 0) {
		line += 3;
		len -= 3;
	}
	if (len > 0 && line[len - 1] == '\r')
		len--;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == '\0') {
			config_fail(p, "NUL byte in the line");
			return NULL;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			config_fail(p, "control character 0x%02x in the line",
				    c);
			return NULL;
		}
	}
	if (!content_utf8_valid(line, len, &bad)) {
		config_fail(p, "invalid UTF-8 at byte %zu of the line",
			    bad + 1);
		return NULL;
	}
	while (len > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	if (num < 2 || len > (size_t)num - 2) {
		config_fail(p, "line longer than %d bytes",
			    num < 2 ? 0 : num - 2);
		return NULL;
	}
	if (len > 0 && line[0] == '[' && !config_check_section(p, line, len))
		return NULL;
	memcpy(str, line, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	return str;
}

static const struct config_key *config_key_find(const char *section,
						const char *key)
{
	for (size_t i = 0; i < CONFIG_N_KEYS; i++) {
		if (strcmp(config_keys[i].section, section) == 0 &&
		    strcmp(config_keys[i].key, key) == 0)
			return &config_keys[i];
	}
	return NULL;
}

static int config_unknown_key(struct config_parser *p, const char *section,
			      const char *key)
{
	char known[160] = "";
	char buf[CONFIG_SHOW_BYTES + 8];
	size_t n = 0;

	for (size_t i = 0; i < CONFIG_N_KEYS && n < sizeof(known); i++) {
		if (strcmp(config_keys[i].section, section) != 0)
			continue;
		n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s",
				      n > 0 ? ", " : "", config_keys[i].key);
	}
	return config_fail(p, "unknown key '%s' in [%s] (keys: %s)",
			   config_show(key, buf, sizeof(buf)), section, known);
}

static char **config_str_field(struct config *cfg, const struct config_key *k)
{
	return (char **)((char *)cfg + k->offset);
}

static void config_set_str(struct config *cfg, const struct config_key *k,
			   const char *value)
{
	char **field = config_str_field(cfg, k);

	free(*field);
	*field = xstrdup(value);
}

/*
 * A whole number in [min, max]. Digits only; a longer run of digits than
 * any range here needs is out of range, not an overflow.
 */
static int config_number(struct config_parser *p, const struct config_key *k,
			 const char *value, long *v_r)
{
	const char *unit = k->kind == CONFIG_SECS      ? "seconds, "
			   : k->kind == CONFIG_PERCENT ? "percent, "
						       : "";
	char buf[CONFIG_SHOW_BYTES + 8];
	const char *s = value;
	long v = 0;

	if (*s == '-' && s[1] >= '0' && s[1] <= '9')
		goto range;
	if (*s < '0' || *s > '9' || strspn(s, "0123456789") != strlen(s))
		return config_fail(p,
				   "[%s] %s: '%s' is not a whole number "
				   "(allowed: %s%ld to %ld)",
				   k->section, k->key,
				   config_show(value, buf, sizeof(buf)), unit,
				   k->min, k->max);
	for (; *s != '\0'; s++) {
		v = v * 10 + (*s - '0');
		if (v > k->max)
			goto range;
	}
	if (v < k->min)
		goto range;
	*v_r = v;
	return 1;
range:
	return config_fail(
	    p, "[%s] %s: %s is out of range (allowed: %s%ld to %ld)",
	    k->section, k->key, config_show(value, buf, sizeof(buf)), unit,
	    k->min, k->max);
}

/* "H:MM" or "HH:MM" at *s; minutes after midnight, or -1. */
static int config_hhmm(const char **s)
{
	const char *t = *s;
	int h = 0, m;

	if (*t < '0' || *t > '9')
		return -1;
	h = *t++ - '0';
	if (*t >= '0' && *t <= '9')
		h = h * 10 + (*t++ - '0');
	if (*t++ != ':')
		return -1;
	if (t[0] < '0' || t[0] > '9' || t[1] < '0' || t[1] > '9')
		return -1;
	m = (t[0] - '0') * 10 + (t[1] - '0');
	if (h > 23 || m > 59)
		return -1;
	*s = t + 2;
	return h * 60 + m;
}

static int config_window(struct config_parser *p, const char *value)
{
	struct config *cfg = p->cfg;
	char buf[CONFIG_SHOW_BYTES + 8];
	const char *s = value;
	int start, end;

	start = config_hhmm(&s);
	s += strspn(s, " \t");
	if (start < 0 || *s++ != '-')
		goto bad;
	s += strspn(s, " \t");
	end = config_hhmm(&s);
	if (end < 0 || *s != '\0')
		goto bad;
	if (end <= start)
		return config_fail(p,
				   "[warmup] window: the end %02d:%02d is not "
				   "after the start %02d:%02d (a window "
				   "cannot cross midnight)",
				   end / 60, end % 60, start / 60, start % 60);
	free(cfg->window_start);
	free(cfg->window_end);
	cfg->window_start = xasprintf("%02d:%02d", start / 60, start % 60);
	cfg->window_end = xasprintf("%02d:%02d", end / 60, end % 60);
	cfg->window_start_mins = start;
	cfg->window_end_mins = end;
	return 1;
bad:
	return config_fail(p,
			   "[warmup] window: '%s' is not a time range "
			   "(allowed: HH:MM-HH:MM, e.g. 09:00-17:30)",
			   config_show(value, buf, sizeof(buf)));
}

/*
 * A tz database name: components of [A-Za-z0-9_+-.] that are not "." or
 * "..", naming a TZif file under $TZDIR or /usr/share/zoneinfo.
 */
static bool config_zone_ok(const char *name)
{
	const char *dir = getenv("TZDIR");
	size_t len = strlen(name), comp = 0;
	char magic[4];
	struct stat st;
	char *path;
	bool ok;
	int fd;

	if (strcmp(name, "UTC") == 0)
		return true;
	if (len == 0 || len > CONFIG_MAX_ZONE_BYTES)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char c = name[i];

		if (c == '/' || c == '\0') {
			if (comp == 0 || (comp == 1 && name[i - 1] == '.') ||
			    (comp == 2 && name[i - 1] == '.' &&
			     name[i - 2] == '.'))
				return false;
			comp = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '_' || c == '+' ||
			   c == '-' || c == '.') {
			comp++;
		} else {
			return false;
		}
	}
	if (dir == NULL || dir[0] != '/')
		dir = CONFIG_ZONEINFO;
	path = xasprintf("%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return false;
	ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	     read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
	     memcmp(magic, "TZif", 4) == 0;
	close(fd);
	return ok;
}

static const char *config_header_why(const char *name)
{
	size_t len = strlen(name);

	if (len > CONFIG_MAX_TOKEN_HEADER_BYTES)
		return "is too long";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 33 || c > 126 || c == ':')
			return "is not a header field name";
	}
	if (strcasestr(name, "hearth") != NULL ||
	    strcasestr(name, "warmup") != NULL)
		return "must not contain 'hearth' or 'warmup'";
	return NULL;
}

static int config_word(struct config_parser *p, const struct config_key *k,
		       const char *value)
{
	char allowed[64] = "";
	char buf[CONFIG_SHOW_BYTES + 8];
	size_t n = 0;

	for (size_t i = 0; k->words[i] != NULL; i++) {
		if (strcmp(value, k->words[i]) == 0) {
			config_set_str(p->cfg, k, value);
			return 1;
		}
		n += (size_t)snprintf(allowed + n, sizeof(allowed) - n, "%s%s",
				      i > 0 ? ", " : "", k->words[i]);
	}
	return config_fail(p, "[%s] %s: unknown value '%s' (allowed: %s)",
			   k->section, k->key,
			   config_show(value, buf, sizeof(buf)), allowed);
}

static bool config_bool(const char *value, bool *v_r)
{
	static const char *const yes[] = {"yes", "true", "on", NULL};
	static const char *const no[] = {"no", "false", "off", NULL};

	for (size_t i = 0; yes[i] != NULL; i++) {
		if (strcmp(value, yes[i]) == 0) {
			*v_r = true;
			return true;
		}
		if (strcmp(value, no[i]) == 0) {
			*v_r = false;
			return true;
		}
	}
	return false;
}

static void config_list_clear(struct config_list *list)
{
	if (list->items != NULL) {
		for (size_t i = 0; i < list->n; i++)
			free(list->items[i]);
	}
	free(list->items);
	list->items = NULL;
	list->n = 0;
}

/* One list entry, lower case: "host.name", or "domain:selector". */
static bool config_list_entry_ok(enum config_kind kind, char *entry)
{
	char *colon;
	bool ok;

	for (char *c = entry; *c != '\0'; c++) {
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	}
	if (kind == CONFIG_ZONES || (colon = strchr(entry, ':')) == NULL)
		return message_domain_ok(entry);
	*colon = '\0';
	ok = message_domain_ok(entry) && message_domain_ok(colon + 1);
	*colon = ':';
	return ok;
}

/*
 * A comma-separated list; white space around each entry is dropped, an
 * empty value is an empty list.
 */
static int config_list(struct config_parser *p, const struct config_key *k,
		       const char *value)
{
	struct config_list *list =
	    (struct config_list *)((char *)p->cfg + k->offset);
	struct config_list got = {
	    .items = xcalloc(CONFIG_MAX_LIST_ITEMS + 1, sizeof(char *))};
	char buf[CONFIG_SHOW_BYTES + 8];
	const char *s = value;
	const char *allowed = k->kind == CONFIG_ZONES
				  ? "host names separated by commas, e.g. "
				    "zen.spamhaus.org,bl.spamcop.net"
				  : "selectors or domain:selector separated "
				    "by commas, e.g. s1,example.com:mail";

	for (; value[0] != '\0'; s++) {
		const char *comma = strchr(s, ',');
		size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);
		char *entry;

		while (len > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (got.n == CONFIG_MAX_LIST_ITEMS) {
			config_list_clear(&got);
			return config_fail(p, "[%s] %s: more than %d entries",
					   k->section, k->key,
					   CONFIG_MAX_LIST_ITEMS);
		}
		entry = xstrndup(s, len);
		if (!config_list_entry_ok(k->kind, entry)) {
			config_fail(p, "[%s] %s: '%s' is not allowed (%s)",
				    k->section, k->key,
				    config_show(entry, buf, sizeof(buf)),
				    allowed);
			free(entry);
			config_list_clear(&got);
			return 0;
		}
		got.items[got.n++] = entry;
		if (comma == NULL)
			break;
		s = comma;
	}
	config_list_clear(list);
	*list = got;
	return 1;
}

static int config_value(struct config_parser *p, const struct config_key *k,
			const char *value)
{
	struct config *cfg = p->cfg;
	char buf[CONFIG_SHOW_BYTES + 8];
	const char *why;
	long v = 0;

	switch (k->kind) {
	case CONFIG_PATH:
		if (value[0] != '/')
			return config_fail(
			    p,
			    "[%s] %s: '%s' is not an absolute "
			    "path (start it with /)",
			    k->section, k->key,
			    config_show(value, buf, sizeof(buf)));
		config_set_str(cfg, k, value);
		return 1;
	case CONFIG_COUNT:
	case CONFIG_PERCENT:
	case CONFIG_INT:
	case CONFIG_SECS:
		if (!config_number(p, k, value, &v))
			return 0;
		if (k->kind == CONFIG_COUNT || k->kind == CONFIG_PERCENT)
			*(unsigned *)((char *)cfg + k->offset) = (unsigned)v;
		else if (k->kind == CONFIG_INT)
			*(int *)((char *)cfg + k->offset) = (int)v;
		else
			*(int *)((char *)cfg + k->offset) = (int)v * 1000;
		return 1;
	case CONFIG_WORD:
		return config_word(p, k, value);
	case CONFIG_WINDOW:
		return config_window(p, value);
	case CONFIG_ZONE:
		if (!config_zone_ok(value))
			return config_fail(
			    p,
			    "[warmup] timezone: unknown time "
			    "zone '%s' (allowed: UTC or a name "
			    "like Europe/Berlin)",
			    config_show(value, buf, sizeof(buf)));
		config_set_str(cfg, k, value);
		return 1;
	case CONFIG_HEADER:
		why = config_header_why(value);
		if (why == NULL && !message_token_name_ok(value))
			why = "is a header mail software gives a meaning to";
		if (why != NULL)
			return config_fail(p,
					   "[warmup] token_header: '%s' %s "
					   "(allowed: up to %d printable ASCII "
					   "characters, no ':', e.g. "
					   "X-Request-Ref)",
					   config_show(value, buf, sizeof(buf)),
					   why, CONFIG_MAX_TOKEN_HEADER_BYTES);
		config_set_str(cfg, k, value);
		return 1;
	case CONFIG_HOSTNAME:
		if (!message_domain_ok(value))
			return config_fail(
			    p,
			    "[network] ehlo_name: '%s' is not a "
			    "host name (e.g. mail.example.com)",
			    config_show(value, buf, sizeof(buf)));
		config_set_str(cfg, k, value);
		return 1;
	case CONFIG_SERVERS:
		/* The shape only: the DNS module checks each address when it
		 * starts. */
		if (strspn(value, "0123456789abcdefABCDEF.:[],") !=
			strlen(value) ||
		    value[0] == ',' || value[strlen(value) - 1] == ',')
			return config_fail(
			    p,
			    "[network] dns: '%s' is not a list of "
			    "server addresses (e.g. 127.0.0.1:53, [::1])",
			    config_show(value, buf, sizeof(buf)));
		config_set_str(cfg, k, value);
		return 1;
	case CONFIG_BOOL:
		if (!config_bool(value, (bool *)((char *)cfg + k->offset)))
			return config_fail(
			    p,
			    "[%s] %s: '%s' is not yes or no "
			    "(allowed: yes, no, true, false, "
			    "on, off)",
			    k->section, k->key,
			    config_show(value, buf, sizeof(buf)));
		return 1;
	case CONFIG_ZONES:
	case CONFIG_SELS:
		return config_list(p, k, value);
	case CONFIG_LANG:
		if (!content_lang_tag_ok(value))
			return config_fail(
			    p,
			    "[content] language: '%s' is not a "
			    "language tag (e.g. en, de, pt-br)",
			    config_show(value, buf, sizeof(buf)));
		config_set_str(cfg, k, value);
		return 1;
	}
	return config_fail(p, "internal error");
}

static int config_handler(void *user, const char *section, const char *name,
			  const char *value)
{
	struct config_parser *p = user;
	const struct config_key *k;
	char buf[CONFIG_SHOW_BYTES + 8];
	size_t i;

	if (p->err_line != 0)
		return 0;
	if (section[0] == '\0')
		return config_fail(p,
				   "'%s' is outside any section (put it "
				   "under " CONFIG_SECTION_WORDS ")",
				   config_show(name, buf, sizeof(buf)));
	k = config_key_find(section, name);
	if (k == NULL)
		return config_unknown_key(p, section, name);
	i = (size_t)(k - config_keys);
	if (p->seen[i] != 0)
		return config_fail(p, "[%s] %s is set twice (first on line %d)",
				   section, name, p->seen[i]);
	p->seen[i] = p->lineno;
	if (value[0] == '\0' &&
	    (k->kind == CONFIG_ZONES || k->kind == CONFIG_SELS))
		return config_list(p, k, value);
	if (value[0] == '\0')
		return config_fail(p,
				   "[%s] %s has no value (remove the line "
				   "for the default)",
				   section, name);
	return config_value(p, k, value);
}

static int config_seen_line(const struct config_parser *p, const char *key)
{
	for (size_t i = 0; i < CONFIG_N_KEYS; i++) {
		if (strcmp(config_keys[i].key, key) == 0)
			return p->seen[i];
	}
	return 0;
}

/* A list not set in the file gets its default, entries separated by ','. */
static void config_list_default(struct config_list *list, const char *csv)
{
	const char *s = csv;

	if (list->items != NULL)
		return;
	list->items = xcalloc(CONFIG_MAX_LIST_ITEMS + 1, sizeof(char *));
	while (*s != '\0') {
		size_t len = strcspn(s, ",");

		list->items[list->n++] = xstrndup(s, len);
		s += len + (s[len] == ',');
	}
}

/* An environment variable that names an absolute directory, or NULL. */
static const char *config_env_dir(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] == '/' ? v : NULL;
}

static void config_defaults(struct config *cfg)
{
	const char *env;

	if (cfg->data_dir == NULL) {
		if ((env = config_env_dir("XDG_DATA_HOME")) != NULL)
			cfg->data_dir = xasprintf("%s/hearth", env);
		else if ((env = getenv("HOME")) != NULL && env[0] != '\0')
			cfg->data_dir =
			    xasprintf("%s/.local/share/hearth", env);
		else
			cfg->data_dir = xstrdup("/var/lib/hearth");
	}
	if (cfg->database == NULL)
		cfg->database = xasprintf("%s/hearth.db", cfg->data_dir);
	if (cfg->key_file == NULL)
		cfg->key_file = xasprintf("%s/vault.key", cfg->data_dir);
	if (cfg->ramp_profile == NULL)
		cfg->ramp_profile = xstrdup("standard");
	if (cfg->window_start == NULL) {
		cfg->window_start = xstrdup("09:00");
		cfg->window_end = xstrdup("17:30");
		cfg->window_start_mins = 9 * 60;
		cfg->window_end_mins = 17 * 60 + 30;
	}
	if (cfg->timezone == NULL)
		cfg->timezone = xstrdup("UTC");
	if (cfg->retention == NULL)
		cfg->retention = xstrdup("archive");
	if (cfg->seeds_dir == NULL)
		cfg->seeds_dir = xstrdup(HEARTH_SEEDS_DEFAULT);
	if (cfg->language == NULL)
		cfg->language = xstrdup("en");
	if (cfg->log_level == NULL)
		cfg->log_level = xstrdup("info");
	config_list_default(&cfg->checks_dkim_selectors, "");
	config_list_default(&cfg->checks_domain_lists, "dbl.spamhaus.org");
	config_list_default(&cfg->checks_ip_lists,
			    "zen.spamhaus.org,bl.spamcop.net,"
			    "b.barracudacentral.org");
}

static struct config *config_new(void)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));

	cfg->workers = 4;
	cfg->per_host = 2;
	cfg->thread_depth = 3;
	cfg->op_timeout_msecs = 30 * 1000;
	cfg->job_deadline_msecs = 120 * 1000;
	cfg->retention_days = 7;
	cfg->readiness_window_days = 7;
	cfg->readiness_min_inbox_pct = 90;
	cfg->readiness_min_measured = 20;
	cfg->readiness_max_spam_pct = 5;
	cfg->readiness_max_bounce_pct = 3;
	cfg->readiness_auth_clear_days = 3;
	cfg->readiness_cold_min = 30;
	cfg->readiness_cold_max = 50;
	cfg->checks_enabled = true;
	return cfg;
}

int config_parse(const char *name, const char *data, size_t len,
		 struct config **cfg_r, struct hearth_err *err)
{
	struct config_parser p = {
	    .name = name,
	    .data = data,
	    .len = len,
	    .err = err,
	};
	int rc, line;

	p.cfg = config_new();
	p.cfg->path = xstrdup(name);
	rc = ini_parse_stream(config_reader, &p, config_handler, &p);
	if (rc < 0) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "%s: out of memory", name);
		goto fail;
	}
	/* inih's own complaint, when it comes before ours */
	if (rc > 0 && (p.err_line == 0 || rc < p.err_line)) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "%s:%d: expected [section] or key = value", name,
			       rc);
		goto fail;
	}
	if (p.err_line != 0)
		goto fail;
	if (p.cfg->job_deadline_msecs < p.cfg->op_timeout_msecs) {
		line = config_seen_line(&p, "job_deadline");
		p.lineno = line != 0 ? line : config_seen_line(&p, "timeout");
		config_fail(&p,
			    "[network] job_deadline (%d s) is shorter than "
			    "timeout (%d s)",
			    p.cfg->job_deadline_msecs / 1000,
			    p.cfg->op_timeout_msecs / 1000);
		goto fail;
	}
	if (p.cfg->readiness_cold_max < p.cfg->readiness_cold_min) {
		line = config_seen_line(&p, "cold_max");
		p.lineno = line != 0 ? line : config_seen_line(&p, "cold_min");
		config_fail(&p,
			    "[readiness] cold_max (%u) is less than cold_min "
			    "(%u)",
			    p.cfg->readiness_cold_max,
			    p.cfg->readiness_cold_min);
		goto fail;
	}
	config_defaults(p.cfg);
	*cfg_r = p.cfg;
	return 0;
fail:
	config_free(&p.cfg);
	return -1;
}

/*
 * The file to read when none is named: 1 with *path_r (owned by the
 * caller), 0 when there is none.
 */
static int config_default_path(char **path_r)
{
	const char *env;
	char *path;

	if ((env = config_env_dir("XDG_CONFIG_HOME")) != NULL)
		path = xasprintf("%s/hearth/hearth.conf", env);
	else if ((env = getenv("HOME")) != NULL && env[0] != '\0')
		path = xasprintf("%s/.config/hearth/hearth.conf", env);
	else
		return 0;
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		free(path);
		return 0;
	}
	*path_r = path;
	return 1;
}

/* The whole of a regular file of at most CONFIG_MAX_FILE_BYTES. */
static int config_read_file(const char *path, char **data_r, size_t *len_r,
			    struct hearth_err *err)
{
	char *data = NULL;
	size_t len = 0;
	struct stat st;
	ssize_t n;
	int fd;

	/* O_NONBLOCK: a FIFO in its place must not hang the open */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, errno, "%s: %s",
			       path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, errno, "%s: %s",
			       path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "%s: not a regular file", path);
		goto fail;
	}
	data = xmalloc(CONFIG_MAX_FILE_BYTES + 1);
	while (len <= CONFIG_MAX_FILE_BYTES) {
		n = read(fd, data + len, CONFIG_MAX_FILE_BYTES + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, errno,
				       "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONFIG_MAX_FILE_BYTES) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "%s: larger than %d bytes", path,
			       CONFIG_MAX_FILE_BYTES);
		goto fail;
	}
	close(fd);
	*data_r = data;
	*len_r = len;
	return 0;
fail:
	free(data);
	close(fd);
	return -1;
}

int config_load(const char *path, struct config **cfg_r, struct hearth_err *err)
{
	const char *env = getenv("HEARTH_CONFIG");
	char *found = NULL, *data = NULL;
	size_t len = 0;
	int rc = -1;

	if (path == NULL && env != NULL && env[0] != '\0')
		path = env;
	if (path == NULL) {
		if (config_default_path(&found) == 0) {
			struct config *cfg = config_new();

			config_defaults(cfg);
			*cfg_r = cfg;
			return 0;
		}
		path = found;
	}
	if (config_read_file(path, &data, &len, err) < 0)
		goto out;
	rc = config_parse(path, data, len, cfg_r, err);
out:
	free(data);
	free(found);
	return rc;
}

void config_free(struct config **cfg)
{
	struct config *c;

	if (cfg == NULL || *cfg == NULL)
		return;
	c = *cfg;
	free(c->path);
	free(c->data_dir);
	free(c->database);
	free(c->key_file);
	free(c->ca_file);
	free(c->ehlo_name);
	free(c->dns_servers);
	free(c->ramp_profile);
	free(c->window_start);
	free(c->window_end);
	free(c->timezone);
	free(c->retention);
	free(c->token_header);
	free(c->seeds_dir);
	free(c->language);
	config_list_clear(&c->checks_dkim_selectors);
	config_list_clear(&c->checks_domain_lists);
	config_list_clear(&c->checks_ip_lists);
	free(c->checks_bounce_patterns);
	free(c->log_level);
	free(c);
	*cfg = NULL;
}
