/* SPDX-License-Identifier: MIT */
/*
 * config: the one configuration file, INI style, read with libinih.
 *
 *   [section]
 *   key = value   ; an inline comment needs white space before the ';'
 *   # a comment line starts with '#' or ';'
 *
 * Every key is optional and has a default (engine/config.md lists them),
 * so hearth works with no file at all. The file is checked strictly: an
 * unknown section or key, a key given twice, a value out of its range, a
 * line that is neither, a NUL byte, a control character, invalid UTF-8 or a
 * line longer than the parser's line buffer (198 bytes with the Debian
 * libinih) is an error "FILE:LINE: what is wrong (what is allowed)", fail
 * HEARTH_FAIL_PERMANENT. Only the first error is reported. Indented lines
 * are read as if they were not (no continuation lines). A value is the text
 * after '=' with white space around it removed; quotes are not special.
 * Paths in the file must be absolute.
 *
 * The token header rules checked here are the syntactic ones and the
 * forbidden words; whether a name is also one mail software gives a meaning
 * to (Subject, Content-*, ...) is message_token_name_ok()'s to say.
 */
#ifndef HEARTH_CONFIG_H
#define HEARTH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "hearth/err.h"

/* A larger file is refused (it is not a configuration file). */
#define CONFIG_MAX_FILE_BYTES (64 * 1024)
/* Entries of one comma-separated list at most. */
#define CONFIG_MAX_LIST_ITEMS 32
/* Same bound as MESSAGE_MAX_TOKEN_NAME_BYTES. */
#define CONFIG_MAX_TOKEN_HEADER_BYTES 76

/*
 * A comma-separated list: n strings, items NULL-ended (so it can be passed
 * as a const char *const * of n), both owned by the struct config. An empty
 * value in the file is an empty list (n == 0, items = {NULL}).
 */
struct config_list {
	char **items;
	size_t n;
};

/*
 * The configuration. Every string is owned by the struct and freed by
 * config_free(); after a successful load every field is set except those
 * documented as possibly NULL.
 */
struct config {
	char *path; /* the file read, or NULL when only defaults */
	/*
	 * [store] data_dir, default $XDG_DATA_HOME/hearth, else
	 * $HOME/.local/share/hearth, else /var/lib/hearth
	 */
	char *data_dir;
	char *database;	      /* [store] database, default DATA_DIR/hearth.db */
	char *key_file;	      /* [vault] key_file, default DATA_DIR/vault.key */
	unsigned workers;     /* [network] workers, default 4, 1..64 */
	/* [network] per_host: connections to one host at once, default 2,
	 * 1..64 */
	unsigned per_host;
	int op_timeout_msecs; /* [network] timeout, s in the file, 30 */
	int job_deadline_msecs; /* [network] job_deadline, s, default 120 */
	char *ca_file;		/* [network] ca_file, NULL = the system store */
	char *ehlo_name;   /* [network] ehlo_name, NULL = the sender's domain */
	char *dns_servers; /* [network] dns, NULL = the system resolver */
	/* [warmup] ramp_profile, default "standard"; safe, standard, fast */
	char *ramp_profile;
	/* [warmup] window = 09:00-17:30 (default), as "HH:MM" each */
	char *window_start;
	char *window_end;
	/* the same in minutes after midnight: start < end, both 0..1439 */
	int window_start_mins;
	int window_end_mins;
	/* [warmup] timezone, default "UTC", or a zone under $TZDIR or
	 * /usr/share/zoneinfo */
	char *timezone;
	/* [warmup] retention, default "archive"; keep, archive, delete */
	char *retention;
	int retention_days; /* [warmup] retention_days, default 7, 0..365 */
	/* [warmup] thread_depth: messages in a warmup thread at most (the
	 * first and its replies), default 3, 1..10 */
	unsigned thread_depth;
	/*
	 * [warmup] token_header, NULL = the install's own name chosen at
	 * init; else 1..CONFIG_MAX_TOKEN_HEADER_BYTES of ASCII 33..126 other
	 * than ':', not containing "hearth" or "warmup" in any case, and
	 * message_token_name_ok()
	 */
	char *token_header;
	/* [content] seeds, default HEARTH_SEEDS_DEFAULT (build-time) */
	char *seeds_dir;
	char *language; /* [content] language, default "en" */
	/*
	 * [readiness]: the rule of include/hearth/readiness.h, percents as
	 * whole numbers (90 = 0.90); the report copies them into struct
	 * readiness_rules.
	 */
	unsigned readiness_window_days;	    /* window_days, 7, 1..90 */
	unsigned readiness_min_inbox_pct;   /* min_inbox, 90, 50..100 */
	unsigned readiness_min_measured;    /* min_measured, 20, 1..10000 */
	unsigned readiness_max_spam_pct;    /* max_spam, 5, 0..100 */
	unsigned readiness_max_bounce_pct;  /* max_bounce, 3, 0..100 */
	unsigned readiness_auth_clear_days; /* auth_clear_days, 3, 0..30 */
	unsigned readiness_cold_min;	    /* cold_min, 30, 1..500 */
	/* cold_max, 50, cold_min..1000 */
	unsigned readiness_cold_max;
	/* [checks]: the deliverability checks (include/hearth/check.h) */
	bool checks_enabled; /* enabled, default yes; yes/no, true/false */
	/*
	 * dkim_selectors: each "selector" (tried for every domain) or
	 * "domain:selector" (for that domain only), lower case; default none
	 */
	struct config_list checks_dkim_selectors;
	/* domain_lists: DNSBL zones queried with the domain, default
	 * dbl.spamhaus.org */
	struct config_list checks_domain_lists;
	/* ip_lists: DNSBL zones queried with each sending IPv4 address,
	 * default zen.spamhaus.org, bl.spamcop.net, b.barracudacentral.org */
	struct config_list checks_ip_lists;
	/* bounce_patterns: a path, NULL = SEEDS_DIR/bounce-patterns.conf */
	char *checks_bounce_patterns;
	char
	    *log_level; /* [log] level, default "info"; debug info warn error */
};

/*
 * Load the configuration. path (borrowed) names the file; when NULL the
 * file is $HEARTH_CONFIG if set and not empty, else hearth/hearth.conf
 * under $XDG_CONFIG_HOME (or $HOME/.config) if that file exists, else
 * there is none and every value is its default. A file named by path or
 * HEARTH_CONFIG must exist. The file must be a regular file of at most
 * CONFIG_MAX_FILE_BYTES.
 *
 * Returns 0 with *cfg_r owned by the caller (config_free), or -1 with err
 * set, HEARTH_FAIL_PERMANENT: "FILE:LINE: what is wrong" for a bad file,
 * "FILE: why" when it cannot be read; *cfg_r is then left alone.
 */
int config_load(const char *path, struct config **cfg_r,
		struct hearth_err *err);

/*
 * The same from memory: data, len borrowed (need not be NUL-terminated);
 * name (borrowed, not NULL) stands for the file in messages and becomes
 * cfg->path. Defaults that depend on the environment (data_dir) are taken
 * from it as config_load does. For tests and the fuzz target.
 */
int config_parse(const char *name, const char *data, size_t len,
		 struct config **cfg_r, struct hearth_err *err);

/* Free *cfg and set it to NULL; NULL and *cfg == NULL are fine. */
void config_free(struct config **cfg);

#endif
