// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hearth/config.h"
#include "hearth/message.h"
#include "hearth/xalloc.h"
#include "test.h"

_Static_assert(CONFIG_MAX_TOKEN_HEADER_BYTES == MESSAGE_MAX_TOKEN_NAME_BYTES,
	       "config and message disagree on the token header length");

static char tmpdir[] = "/tmp/hearth-test-config-XXXXXX";

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL) {
		perror(path);
		exit(EXIT_FAILURE);
	}
	fwrite(data, 1, len, f);
	fclose(f);
}

static void mkdir_p(const char *path)
{
	char *p = xstrdup(path);

	for (char *s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(p, 0700);
		*s = '/';
	}
	mkdir(p, 0700);
	free(p);
}

static char *tmp_path(const char *rel)
{
	return xasprintf("%s/%s", tmpdir, rel);
}

/* An environment with no configuration: HOME an empty directory. */
static void clean_env(void)
{
	char *home = tmp_path("home");

	mkdir_p(home);
	setenv("HOME", home, 1);
	unsetenv("XDG_DATA_HOME");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("HEARTH_CONFIG");
	unsetenv("TZDIR");
	free(home);
}

static int parse(const char *data, struct config **cfg_r,
		 struct hearth_err *err)
{
	return config_parse("t.conf", data, strlen(data), cfg_r, err);
}

static bool str_is(const char *s, const char *want)
{
	return s != NULL && strcmp(s, want) == 0;
}

static void test_defaults(void)
{
	struct config *cfg = NULL;
	struct hearth_err err = {0};
	char *dir;

	test_begin("config: defaults without a file");
	clean_env();
	test_assert(config_load(NULL, &cfg, &err) == 0);
	test_assert(cfg != NULL);
	if (cfg == NULL) {
		test_end();
		return;
	}
	dir = tmp_path("home/.local/share/hearth");
	test_assert(cfg->path == NULL);
	test_assert(str_is(cfg->data_dir, dir));
	free(dir);
	dir = tmp_path("home/.local/share/hearth/hearth.db");
	test_assert(str_is(cfg->database, dir));
	free(dir);
	dir = tmp_path("home/.local/share/hearth/vault.key");
	test_assert(str_is(cfg->key_file, dir));
	free(dir);
	test_assert(cfg->workers == 4);
	test_assert(cfg->per_host == 2);
	test_assert(cfg->thread_depth == 3);
	test_assert(cfg->op_timeout_msecs == 30000);
	test_assert(cfg->job_deadline_msecs == 120000);
	test_assert(cfg->ca_file == NULL);
	test_assert(cfg->ehlo_name == NULL);
	test_assert(str_is(cfg->ramp_profile, "standard"));
	test_assert(str_is(cfg->window_start, "09:00"));
	test_assert(str_is(cfg->window_end, "17:30"));
	test_assert(cfg->window_start_mins == 540);
	test_assert(cfg->window_end_mins == 1050);
	test_assert(str_is(cfg->timezone, "UTC"));
	test_assert(str_is(cfg->retention, "archive"));
	test_assert(cfg->retention_days == 7);
	test_assert(cfg->token_header == NULL);
	test_assert(cfg->seeds_dir != NULL && cfg->seeds_dir[0] != '\0');
	test_assert(str_is(cfg->language, "en"));
	test_assert(str_is(cfg->log_level, "info"));
	test_assert(cfg->readiness_window_days == 7);
	test_assert(cfg->readiness_min_inbox_pct == 90);
	test_assert(cfg->readiness_min_measured == 20);
	test_assert(cfg->readiness_max_spam_pct == 5);
	test_assert(cfg->readiness_max_bounce_pct == 3);
	test_assert(cfg->readiness_auth_clear_days == 3);
	test_assert(cfg->readiness_cold_min == 30);
	test_assert(cfg->readiness_cold_max == 50);
	config_free(&cfg);
	test_assert(cfg == NULL);
	config_free(&cfg);
	config_free(NULL);

	/* an empty file is all defaults too */
	test_assert(parse("", &cfg, &err) == 0);
	test_assert(cfg != NULL && str_is(cfg->path, "t.conf") &&
		    cfg->workers == 4);
	config_free(&cfg);
	test_end();
}

static void test_data_dir(void)
{
	struct config *cfg = NULL;
	struct hearth_err err = {0};
	char *xdg = tmp_path("xdg-data");
	char *want = tmp_path("xdg-data/hearth");

	test_begin("config: data_dir from XDG_DATA_HOME, HOME or /var/lib");
	clean_env();
	setenv("XDG_DATA_HOME", xdg, 1);
	test_assert(config_load(NULL, &cfg, &err) == 0);
	test_assert(cfg != NULL && str_is(cfg->data_dir, want));
	config_free(&cfg);

	/* a relative XDG_DATA_HOME is to be ignored (XDG base dir spec) */
	setenv("XDG_DATA_HOME", "relative/dir", 1);
	test_assert(config_load(NULL, &cfg, &err) == 0);
	test_assert(cfg != NULL && strstr(cfg->data_dir, "/home/.local/share/"
							 "hearth") != NULL);
	config_free(&cfg);

	unsetenv("XDG_DATA_HOME");
	unsetenv("HOME");
	test_assert(config_load(NULL, &cfg, &err) == 0);
	test_assert(cfg != NULL && str_is(cfg->data_dir, "/var/lib/hearth"));
	test_assert(cfg != NULL &&
		    str_is(cfg->database, "/var/lib/hearth/hearth.db"));
	config_free(&cfg);

	/* database and key_file follow a configured data_dir */
	test_assert(parse("[store]\ndata_dir = /srv/hearth\n", &cfg, &err) ==
		    0);
	test_assert(cfg != NULL && str_is(cfg->database, "/srv/hearth/"
							 "hearth.db"));
	test_assert(cfg != NULL && str_is(cfg->key_file, "/srv/hearth/"
							 "vault.key"));
	config_free(&cfg);
	free(xdg);
	free(want);
	test_end();
}

/* clang-format off */
static const char full[] =
	"# every key\n"
	"[store]\n"
	"data_dir = /srv/hearth\n"
	"database = /srv/db/h.db\n"
	"[vault]\n"
	"key_file = /etc/hearth/vault.key\n"
	"[network]\n"
	"workers = 16\n"
	"per_host = 6\n"
	"timeout = 45\n"
	"job_deadline = 300\n"
	"ca_file = /etc/ssl/certs/lab.pem\n"
	"ehlo_name = mx1.example.com\n"
	"dns = 127.0.0.1:5353,[::1]\n"
	"[warmup]\n"
	"ramp_profile = fast\n"
	"window = 08:15-18:45\n"
	"timezone = UTC\n"
	"retention = delete\n"
	"retention_days = 0\n"
	"thread_depth = 5\n"
	"token_header = X-Request-Ref\n"
	"[content]\n"
	"seeds = /usr/share/hearth/seeds\n"
	"language = de\n"
	"[readiness]\n"
	"window_days = 14\n"
	"min_inbox = 85\n"
	"min_measured = 40\n"
	"max_spam = 4\n"
	"max_bounce = 2\n"
	"auth_clear_days = 5\n"
	"cold_min = 20\n"
	"cold_max = 60\n"
	"[checks]\n"
	"enabled = no\n"
	"dkim_selectors = s1, Example.COM:mail ,k2\n"
	"domain_lists =\n"
	"ip_lists = bl.test\n"
	"bounce_patterns = /etc/hearth/bounces.txt\n"
	"[log]\n"
	"level = debug\n";
/* clang-format on */

static void test_every_key(void)
{
	struct config *cfg = NULL;
	struct hearth_err err = {0};

	test_begin("config: every key parsed");
	clean_env();
	test_assert(parse(full, &cfg, &err) == 0);
	if (cfg == NULL) {
		fprintf(stderr, "%s\n", err.msg);
		test_assert(cfg != NULL);
		test_end();
		return;
	}
	test_assert(str_is(cfg->path, "t.conf"));
	test_assert(str_is(cfg->data_dir, "/srv/hearth"));
	test_assert(str_is(cfg->database, "/srv/db/h.db"));
	test_assert(str_is(cfg->key_file, "/etc/hearth/vault.key"));
	test_assert(cfg->workers == 16);
	test_assert(cfg->per_host == 6);
	test_assert(cfg->thread_depth == 5);
	test_assert(cfg->op_timeout_msecs == 45000);
	test_assert(cfg->job_deadline_msecs == 300000);
	test_assert(str_is(cfg->ca_file, "/etc/ssl/certs/lab.pem"));
	test_assert(str_is(cfg->ehlo_name, "mx1.example.com"));
	test_assert(str_is(cfg->dns_servers, "127.0.0.1:5353,[::1]"));
	test_assert(str_is(cfg->ramp_profile, "fast"));
	test_assert(str_is(cfg->window_start, "08:15"));
	test_assert(str_is(cfg->window_end, "18:45"));
	test_assert(cfg->window_start_mins == 8 * 60 + 15);
	test_assert(cfg->window_end_mins == 18 * 60 + 45);
	test_assert(str_is(cfg->timezone, "UTC"));
	test_assert(str_is(cfg->retention, "delete"));
	test_assert(cfg->retention_days == 0);
	test_assert(str_is(cfg->token_header, "X-Request-Ref"));
	test_assert(str_is(cfg->seeds_dir, "/usr/share/hearth/seeds"));
	test_assert(str_is(cfg->language, "de"));
	test_assert(str_is(cfg->log_level, "debug"));
	test_assert(cfg->readiness_window_days == 14);
	test_assert(cfg->readiness_min_inbox_pct == 85);
	test_assert(cfg->readiness_min_measured == 40);
	test_assert(cfg->readiness_max_spam_pct == 4);
	test_assert(cfg->readiness_max_bounce_pct == 2);
	test_assert(cfg->readiness_auth_clear_days == 5);
	test_assert(cfg->readiness_cold_min == 20);
	test_assert(cfg->readiness_cold_max == 60);
	test_assert(!cfg->checks_enabled);
	test_assert(cfg->checks_dkim_selectors.n == 3);
	test_assert(str_is(cfg->checks_dkim_selectors.items[0], "s1"));
	test_assert(
	    str_is(cfg->checks_dkim_selectors.items[1], "example.com:mail"));
	test_assert(str_is(cfg->checks_dkim_selectors.items[2], "k2"));
	test_assert(cfg->checks_dkim_selectors.items[3] == NULL);
	test_assert(cfg->checks_domain_lists.n == 0);
	test_assert(cfg->checks_domain_lists.items != NULL &&
		    cfg->checks_domain_lists.items[0] == NULL);
	test_assert(cfg->checks_ip_lists.n == 1);
	test_assert(str_is(cfg->checks_ip_lists.items[0], "bl.test"));
	test_assert(
	    str_is(cfg->checks_bounce_patterns, "/etc/hearth/bounces.txt"));
	config_free(&cfg);
	test_end();
}

static void test_checks(void)
{
	static const char *const yes[] = {"yes", "true", "on"};
	static const char *const no[] = {"no", "false", "off"};
	struct config *cfg = NULL;
	struct hearth_err err = {0};
	char text[80];

	test_begin("config: [checks] defaults, booleans and lists");
	clean_env();
	test_assert(parse("", &cfg, &err) == 0);
	test_assert(cfg != NULL && cfg->checks_enabled);
	test_assert(cfg != NULL && cfg->checks_dkim_selectors.n == 0 &&
		    cfg->checks_dkim_selectors.items != NULL &&
		    cfg->checks_dkim_selectors.items[0] == NULL);
	test_assert(
	    cfg != NULL && cfg->checks_domain_lists.n == 1 &&
	    str_is(cfg->checks_domain_lists.items[0], "dbl.spamhaus.org") &&
	    cfg->checks_domain_lists.items[1] == NULL);
	test_assert(
	    cfg != NULL && cfg->checks_ip_lists.n == 3 &&
	    str_is(cfg->checks_ip_lists.items[0], "zen.spamhaus.org") &&
	    str_is(cfg->checks_ip_lists.items[1], "bl.spamcop.net") &&
	    str_is(cfg->checks_ip_lists.items[2], "b.barracudacentral.org") &&
	    cfg->checks_ip_lists.items[3] == NULL);
	test_assert(cfg != NULL && cfg->checks_bounce_patterns == NULL);
	config_free(&cfg);
	/* no file at all: the same defaults */
	test_assert(config_load(NULL, &cfg, &err) == 0);
	test_assert(cfg != NULL && cfg->checks_enabled &&
		    cfg->checks_ip_lists.n == 3 &&
		    cfg->checks_domain_lists.n == 1);
	config_free(&cfg);
	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
		snprintf(text, sizeof(text), "[checks]\nenabled = %s\n",
			 yes[i]);
		test_assert(parse(text, &cfg, &err) == 0);
		test_assert(cfg != NULL && cfg->checks_enabled);
		config_free(&cfg);
		snprintf(text, sizeof(text), "[checks]\nenabled = %s\n", no[i]);
		test_assert(parse(text, &cfg, &err) == 0);
		test_assert(cfg != NULL && !cfg->checks_enabled);
		config_free(&cfg);
	}
	/* an empty list is none; white space around entries is dropped */
	test_assert(parse("[checks]\nip_lists =\ndomain_lists = ; none\n"
			  "dkim_selectors =  A.test:S1 ,\tdefault\n",
			  &cfg, &err) == 0);
	test_assert(cfg != NULL && cfg->checks_ip_lists.n == 0 &&
		    cfg->checks_ip_lists.items[0] == NULL);
	test_assert(cfg != NULL && cfg->checks_domain_lists.n == 0);
	test_assert(cfg != NULL && cfg->checks_dkim_selectors.n == 2 &&
		    str_is(cfg->checks_dkim_selectors.items[0], "a.test:s1") &&
		    str_is(cfg->checks_dkim_selectors.items[1], "default"));
	config_free(&cfg);
	/* 32 entries are fine */
	test_assert(parse("[checks]\ndkim_selectors = a,b,c,d,e,f,g,h,i,j,k,l,"
			  "m,n,o,p,q,r,s,t,u,v,w,x,y,z,aa,bb,cc,dd,ee,ff\n",
			  &cfg, &err) == 0);
	test_assert(cfg != NULL && cfg->checks_dkim_selectors.n == 32 &&
		    str_is(cfg->checks_dkim_selectors.items[31], "ff") &&
		    cfg->checks_dkim_selectors.items[32] == NULL);
	config_free(&cfg);
	test_end();
}

static void test_readiness(void)
{
	struct config *cfg = NULL;
	struct hearth_err err = {0};

	test_begin("config: [readiness] bounds, cold_min up to cold_max");
	clean_env();
	/* the ends of every range */
	test_assert(parse("[readiness]\nwindow_days = 90\nmin_inbox = 50\n"
			  "min_measured = 10000\nmax_spam = 0\n"
			  "max_bounce = 100\nauth_clear_days = 0\n"
			  "cold_min = 500\ncold_max = 1000\n",
			  &cfg, &err) == 0);
	test_assert(cfg != NULL && cfg->readiness_window_days == 90 &&
		    cfg->readiness_min_inbox_pct == 50 &&
		    cfg->readiness_min_measured == 10000 &&
		    cfg->readiness_max_spam_pct == 0 &&
		    cfg->readiness_max_bounce_pct == 100 &&
		    cfg->readiness_auth_clear_days == 0 &&
		    cfg->readiness_cold_min == 500 &&
		    cfg->readiness_cold_max == 1000);
	config_free(&cfg);
	test_assert(parse("[readiness]\nwindow_days = 1\nmin_inbox = 100\n"
			  "min_measured = 1\ncold_min = 1\ncold_max = 1\n",
			  &cfg, &err) == 0);
	test_assert(cfg != NULL && cfg->readiness_window_days == 1 &&
		    cfg->readiness_min_inbox_pct == 100 &&
		    cfg->readiness_cold_min == 1 &&
		    cfg->readiness_cold_max == 1);
	config_free(&cfg);
	/* cold_min alone may rise to the default cold_max */
	test_assert(parse("[readiness]\ncold_min = 50\n", &cfg, &err) == 0);
	test_assert(cfg != NULL && cfg->readiness_cold_min == 50 &&
		    cfg->readiness_cold_max == 50);
	config_free(&cfg);
	test_end();
}

static void test_syntax_accepted(void)
{
	static const char *const ok[] = {
	    /* BOM, CRLF, comments, inline comment, indentation, ':' */
	    "\xef\xbb\xbf[network]\r\nworkers = 8\r\n",
	    "; comment\n# comment\n\n[network]\n  workers=8 ; eight\n",
	    "[network] ; the pool\n\tworkers : 8\n",
	    "[network]\nworkers = 8\n[warmup]\n[network]\ntimeout = 5\n",
	    "[network]\nworkers = 008",
	};
	struct config *cfg = NULL;
	struct hearth_err err = {0};

	test_begin("config: BOM, CRLF, comments, indentation");
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		err.msg[0] = '\0';
		test_assert(parse(ok[i], &cfg, &err) == 0);
		test_assert(cfg != NULL && cfg->workers == 8);
		if (cfg == NULL)
			fprintf(stderr, "case %zu: %s\n", i, err.msg);
		config_free(&cfg);
	}
	/* a window may use one-digit hours and spaces around the dash */
	test_assert(parse("[warmup]\nwindow = 7:05 - 9:00\n", &cfg, &err) == 0);
	test_assert(cfg != NULL && str_is(cfg->window_start, "07:05") &&
		    str_is(cfg->window_end, "09:00"));
	config_free(&cfg);
	test_end();
}

struct bad_case {
	const char *data;
	/* err.msg starts with this */
	const char *want;
};

static const struct bad_case bad_cases[] = {
    /* unknown section */
    {"[stor]\ndata_dir = /x\n", "t.conf:1: unknown section [stor] ("},
    {"[log]\nlevel = info\n\n[ log ]\n", "t.conf:4: unknown section [ log ]"},
    {"[log] junk\n", "t.conf:1: text after the section name [log]"},
    /* unknown key */
    {"[network]\nworker = 3\n",
     "t.conf:2: unknown key 'worker' in [network] (keys: workers, "
     "timeout, job_deadline, per_host, ca_file, ehlo_name, dns)"},
    {"[warmup]\nthread_depth = 11\n",
     "t.conf:2: [warmup] thread_depth: 11 is out of range (allowed: 1 to "
     "10)"},
    {"[store]\nkey_file = /x\n", "t.conf:2: unknown key 'key_file' in [store]"},
    {"[network]\ndns = 127.0.0.1 53\n",
     "t.conf:2: [network] dns: '127.0.0.1 53' is not a list of server "
     "addresses"},
    {"workers = 4\n", "t.conf:1: 'workers' is outside any section"},
    /* bad number */
    {"\n[network]\nworkers = four\n",
     "t.conf:3: [network] workers: 'four' is not a whole number "
     "(allowed: 1 to 64)"},
    {"[network]\nworkers = 4.5\n", "t.conf:2: [network] workers: '4.5' is not"},
    {"[network]\nworkers = +4\n", "t.conf:2: [network] workers: '+4' is not"},
    {"[network]\ntimeout = 30s\n",
     "t.conf:2: [network] timeout: '30s' is not a whole number (allowed: "
     "seconds, 1 to 600)"},
    /* out of range */
    {"[network]\nworkers = 65\n",
     "t.conf:2: [network] workers: 65 is out of range (allowed: 1 to 64)"},
    {"[network]\nworkers = 0\n", "t.conf:2: [network] workers: 0 is out of"},
    {"[network]\nworkers = -1\n", "t.conf:2: [network] workers: -1 is out of"},
    {"[network]\nworkers = 99999999999999999999999\n",
     "t.conf:2: [network] workers: 99999999999999999999999 is out of"},
    {"[network]\ntimeout = 0\n", "t.conf:2: [network] timeout: 0 is out of"},
    {"[network]\njob_deadline = 3601\n", "t.conf:2: [network] job_deadline: "},
    {"[readiness]\nmin_inbox = 49\n",
     "t.conf:2: [readiness] min_inbox: 49 is out of range (allowed: percent, "
     "50 to 100)"},
    {"[readiness]\nmax_spam = 101\n",
     "t.conf:2: [readiness] max_spam: 101 is out of range (allowed: percent, "
     "0 to 100)"},
    {"[readiness]\nmax_bounce = 3%\n",
     "t.conf:2: [readiness] max_bounce: '3%' is not a whole number (allowed: "
     "percent, 0 to 100)"},
    {"[readiness]\nwindow_days = 0\n",
     "t.conf:2: [readiness] window_days: 0 is out of range (allowed: 1 to "
     "90)"},
    {"[readiness]\nwindow_days = 91\n", "t.conf:2: [readiness] window_days: "},
    {"[readiness]\nmin_measured = 10001\n",
     "t.conf:2: [readiness] min_measured: 10001 is out of"},
    {"[readiness]\nauth_clear_days = 31\n",
     "t.conf:2: [readiness] auth_clear_days: 31 is out of"},
    {"[readiness]\ncold_min = 0\n", "t.conf:2: [readiness] cold_min: 0 is"},
    {"[readiness]\ncold_min = 501\n", "t.conf:2: [readiness] cold_min: 501"},
    {"[readiness]\ncold_max = 1001\n", "t.conf:2: [readiness] cold_max: 10"},
    {"[readiness]\ncold_min = 40\ncold_max = 35\n",
     "t.conf:3: [readiness] cold_max (35) is less than cold_min (40)"},
    {"[readiness]\n\ncold_min = 60\n",
     "t.conf:3: [readiness] cold_max (50) is less than cold_min (60)"},
    {"[readiness]\nmin_spam = 1\n",
     "t.conf:2: unknown key 'min_spam' in [readiness] (keys: window_days, "
     "min_inbox, min_measured, max_spam, max_bounce, auth_clear_days, "
     "cold_min, cold_max)"},
    {"[readyness]\n",
     "t.conf:1: unknown section [readyness] (sections: [store], [vault], "
     "[network], [warmup], [content], [readiness], [checks], [log])"},
    /* [checks] */
    {"[checks]\nenabled = maybe\n",
     "t.conf:2: [checks] enabled: 'maybe' is not yes or no (allowed: yes, "
     "no, true, false, on, off)"},
    {"[checks]\nenabled =\n",
     "t.conf:2: [checks] enabled has no value (remove the line"},
    {"[checks]\nip_lists = zen.spamhaus.org,,bl.spamcop.net\n",
     "t.conf:2: [checks] ip_lists: '' is not allowed (host names separated "
     "by commas"},
    {"[checks]\ndomain_lists = dbl.spamhaus.org,\n",
     "t.conf:2: [checks] domain_lists: '' is not allowed"},
    {"[checks]\nip_lists = 127.0.0.1:53\n",
     "t.conf:2: [checks] ip_lists: '127.0.0.1:53' is not allowed"},
    {"[checks]\ndkim_selectors = s1,example.com:\n",
     "t.conf:2: [checks] dkim_selectors: 'example.com:' is not allowed "
     "(selectors or domain:selector"},
    {"[checks]\ndkim_selectors = a:b:c\n",
     "t.conf:2: [checks] dkim_selectors: 'a:b:c' is not allowed"},
    {"[checks]\ndkim_selectors = sel ector\n",
     "t.conf:2: [checks] dkim_selectors: 'sel ector' is not allowed"},
    {"[checks]\ndkim_selectors = a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,"
     "v,w,x,y,z,aa,bb,cc,dd,ee,ff,gg\n",
     "t.conf:2: [checks] dkim_selectors: more than 32 entries"},
    {"[checks]\nbounce_patterns = bounces.txt\n",
     "t.conf:2: [checks] bounce_patterns: 'bounces.txt' is not an absolute "
     "path"},
    {"[checks]\nip_lists = a.test\nip_lists = b.test\n",
     "t.conf:3: [checks] ip_lists is set twice (first on line 2)"},
    {"[checks]\nlists = a.test\n",
     "t.conf:2: unknown key 'lists' in [checks] (keys: enabled, "
     "dkim_selectors, domain_lists, ip_lists, bounce_patterns)"},
    {"[warmup]\nretention_days = 366\n",
     "t.conf:2: [warmup] retention_days: 366 is out of range (allowed: 0 "
     "to 365)"},
    {"[network]\ntimeout = 60\njob_deadline = 30\n",
     "t.conf:3: [network] job_deadline (30 s) is shorter than timeout "
     "(60 s)"},
    {"[network]\ntimeout = 600\n",
     "t.conf:2: [network] job_deadline (120 s) is shorter than timeout"},
    /* bad words */
    {"[warmup]\nramp_profile = turbo\n",
     "t.conf:2: [warmup] ramp_profile: unknown value 'turbo' (allowed: "
     "safe, standard, fast)"},
    {"[warmup]\nramp_profile = Standard\n",
     "t.conf:2: [warmup] ramp_profile: "},
    {"[warmup]\nretention = forever\n",
     "t.conf:2: [warmup] retention: unknown value 'forever' (allowed: keep, "
     "archive, delete)"},
    {"[log]\nlevel = trace\n",
     "t.conf:2: [log] level: unknown value 'trace' (allowed: debug, info, "
     "warn, error)"},
    /* bad window */
    {"[warmup]\nwindow = 17:00-09:00\n",
     "t.conf:2: [warmup] window: the end 09:00 is not after the start "
     "17:00"},
    {"[warmup]\nwindow = 09:00-09:00\n", "t.conf:2: [warmup] window: the end"},
    {"[warmup]\nwindow = 9-5\n",
     "t.conf:2: [warmup] window: '9-5' is not a time range (allowed: "
     "HH:MM-HH:MM"},
    {"[warmup]\nwindow = 09:00\n", "t.conf:2: [warmup] window: '09:00' is not"},
    {"[warmup]\nwindow = 09:60-10:00\n", "t.conf:2: [warmup] window: '09:60"},
    {"[warmup]\nwindow = 23:00-24:00\n", "t.conf:2: [warmup] window: '23:00"},
    {"[warmup]\nwindow = 09:00-17:30x\n", "t.conf:2: [warmup] window: '09:0"},
    {"[warmup]\nwindow = 123:00-17:30\n", "t.conf:2: [warmup] window: '123"},
    /* unknown time zone */
    {"[warmup]\ntimezone = Mars/Olympus_Mons\n",
     "t.conf:2: [warmup] timezone: unknown time zone 'Mars/Olympus_Mons'"},
    {"[warmup]\ntimezone = ../../../etc/passwd\n",
     "t.conf:2: [warmup] timezone: unknown time zone"},
    {"[warmup]\ntimezone = /etc/localtime\n",
     "t.conf:2: [warmup] timezone: unknown time zone"},
    {"[warmup]\ntimezone = utc\n", "t.conf:2: [warmup] timezone: unknown"},
    /* bad token header */
    {"[warmup]\ntoken_header = X-Hearth-Id\n",
     "t.conf:2: [warmup] token_header: 'X-Hearth-Id' must not contain "
     "'hearth' or 'warmup'"},
    {"[warmup]\ntoken_header = X-WARMUP\n",
     "t.conf:2: [warmup] token_header: 'X-WARMUP' must not contain"},
    {"[warmup]\ntoken_header = X-Mailer\n",
     "t.conf:2: [warmup] token_header: 'X-Mailer' is a header mail software "
     "gives a meaning to"},
    {"[warmup]\ntoken_header = X Ref\n",
     "t.conf:2: [warmup] token_header: 'X Ref' is not a header field name"},
    {"[warmup]\ntoken_header = X-Ref:\n",
     "t.conf:2: [warmup] token_header: 'X-Ref:' is not a header field name"},
    {"[warmup]\ntoken_header = X-R\xc3\xa9\n",
     "t.conf:2: [warmup] token_header: 'X-R\xc3\xa9' is not a header"},
    /* duplicate key */
    {"[log]\nlevel = info\n[log]\nlevel = debug\n",
     "t.conf:4: [log] level is set twice (first on line 2)"},
    {"[network]\nworkers = 4\nworkers = 4\n",
     "t.conf:3: [network] workers is set twice (first on line 2)"},
    /* other values */
    {"[log]\nlevel =\n",
     "t.conf:2: [log] level has no value (remove the line for the default)"},
    {"[store]\ndata_dir = data\n",
     "t.conf:2: [store] data_dir: 'data' is not an absolute path"},
    {"[content]\nseeds = ~/seeds\n", "t.conf:2: [content] seeds: '~/seeds' is"},
    {"[network]\nehlo_name = mail_1.example.com\n",
     "t.conf:2: [network] ehlo_name: 'mail_1.example.com' is not a host"},
    {"[content]\nlanguage = EN\n",
     "t.conf:2: [content] language: 'EN' is not a language tag"},
    /* not INI */
    {"[network]\nworkers\n", "t.conf:2: expected [section] or key = value"},
    {"[network\nworkers = 4\n", "t.conf:1: expected [section] or key = value"},
    {"[log]\nlevel = info\n  debug\n",
     "t.conf:3: expected [section] or key = value"},
    {"[log]\n\xef\xbb\xbflevel = info\n",
     "t.conf:2: unknown key '\xef\xbb\xbflevel'"},
    {"[log]\nlevel = in\xff"
     "fo\n",
     "t.conf:2: invalid UTF-8 at byte 11"},
    {"[log]\nlevel = info\rdebug\n", "t.conf:2: control character 0x0d"},
    {"[log]\nlevel = info\x1b\n", "t.conf:2: control character 0x1b"},
    /* the first error wins */
    {"[x]\n[y]\n", "t.conf:1: unknown section [x]"},
    {"[log]\nnope\nlevel = loud\n", "t.conf:2: expected [section]"},
    {"[log]\nlevel = loud\nnope\n", "t.conf:2: [log] level: unknown value"},
};

static void check_bad(const char *what, const char *data, size_t len,
		      const char *want)
{
	struct config *cfg = NULL;
	struct hearth_err err = {0};
	int rc = config_parse("t.conf", data, len, &cfg, &err);

	test_assert(rc == -1);
	test_assert(cfg == NULL);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strncmp(err.msg, want, strlen(want)) == 0);
	if (rc != -1 || strncmp(err.msg, want, strlen(want)) != 0)
		fprintf(stderr, "%s: got '%s'\n  want '%s'\n", what, err.msg,
			want);
	config_free(&cfg);
}

static void check_bad_str(const char *data, const char *want)
{
	check_bad(data, data, strlen(data), want);
}

static void test_errors(void)
{
	struct config *cfg = NULL;
	struct hearth_err err = {0};
	char line[300];
	char *name, *want;

	test_begin("config: errors say file:line: what is wrong");
	clean_env();
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(*bad_cases); i++)
		check_bad_str(bad_cases[i].data, bad_cases[i].want);
	/* a token header over the length limit, cut short in the message */
	name = xasprintf("[warmup]\ntoken_header = X-%0*d\n",
			 CONFIG_MAX_TOKEN_HEADER_BYTES - 1, 0);
	want = xasprintf("t.conf:2: [warmup] token_header: 'X-%0*d...' is too "
			 "long",
			 38, 0);
	check_bad_str(name, want);
	free(name);
	free(want);
	/* exactly the limit is fine */
	name = xasprintf("[warmup]\ntoken_header = X-%0*d\n",
			 CONFIG_MAX_TOKEN_HEADER_BYTES - 2, 0);
	test_assert(parse(name, &cfg, &err) == 0);
	test_assert(cfg != NULL &&
		    strlen(cfg->token_header) == CONFIG_MAX_TOKEN_HEADER_BYTES);
	config_free(&cfg);
	free(name);
	check_bad("NUL", "[log]\nlevel = in\0fo\n", 20,
		  "t.conf:2: NUL byte in the line");
	/* longer than inih's line buffer */
	memset(line, 'a', sizeof(line));
	memcpy(line, "[store]\ndata_dir = /", 20);
	line[sizeof(line) - 1] = '\n';
	check_bad("long line", line, sizeof(line),
		  "t.conf:2: line longer than 198 bytes");
	/* a key name longer than inih keeps for sections */
	name = xasprintf("[network]\n%0200d = 1\n", 0);
	check_bad("long key", name, strlen(name), "t.conf:2: line longer");
	free(name);
	test_end();
}

static void test_timezone(void)
{
	char *zdir = tmp_path("zoneinfo");
	char *zone = tmp_path("zoneinfo/Test/Zone");
	char *fake = tmp_path("zoneinfo/Test/NotZone");
	struct config *cfg = NULL;
	struct hearth_err err = {0};

	test_begin("config: time zones from TZDIR or /usr/share/zoneinfo");
	clean_env();
	mkdir_p(zdir);
	free(zdir);
	zdir = tmp_path("zoneinfo/Test");
	mkdir_p(zdir);
	write_file(zone, "TZif2\0\0\0", 8);
	write_file(fake, "# zone.tab\n", 11);
	setenv("TZDIR", zdir, 1);
	free(zdir);
	zdir = tmp_path("zoneinfo");
	setenv("TZDIR", zdir, 1);
	test_assert(parse("[warmup]\ntimezone = Test/Zone\n", &cfg, &err) == 0);
	test_assert(cfg != NULL && str_is(cfg->timezone, "Test/Zone"));
	config_free(&cfg);
	test_assert(parse("[warmup]\ntimezone = UTC\n", &cfg, &err) == 0);
	config_free(&cfg);
	check_bad_str("[warmup]\ntimezone = Test/NotZone\n",
		      "t.conf:2: [warmup] timezone: unknown time zone");
	check_bad_str("[warmup]\ntimezone = Test\n",
		      "t.conf:2: [warmup] timezone: unknown time zone");
	check_bad_str("[warmup]\ntimezone = Test/../Test/Zone\n",
		      "t.conf:2: [warmup] timezone: unknown time zone");
	unsetenv("TZDIR");
	if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) == 0) {
		test_assert(parse("[warmup]\ntimezone = Europe/Berlin\n", &cfg,
				  &err) == 0);
		test_assert(cfg != NULL &&
			    str_is(cfg->timezone, "Europe/Berlin"));
		config_free(&cfg);
	} else {
		printf("  (no tzdata: Europe/Berlin not tried)\n");
	}
	free(zdir);
	free(zone);
	free(fake);
	test_end();
}

static void test_files(void)
{
	char *cfgdir = tmp_path("xdg-config/hearth");
	char *xdg = tmp_path("xdg-config");
	char *xdg_file = tmp_path("xdg-config/hearth/hearth.conf");
	char *homedir = tmp_path("home/.config/hearth");
	char *home_file = tmp_path("home/.config/hearth/hearth.conf");
	char *named = tmp_path("named.conf");
	char *bad = tmp_path("bad.conf");
	char *missing = tmp_path("missing.conf");
	char *big = tmp_path("big.conf");
	char *filler = xmalloc(CONFIG_MAX_FILE_BYTES + 2);
	struct config *cfg = NULL;
	struct hearth_err err = {0};
	char *want;

	test_begin("config: which file is read");
	clean_env();
	mkdir_p(cfgdir);
	mkdir_p(homedir);
	write_file(xdg_file, "[network]\nworkers = 2\n", 22);
	write_file(home_file, "[network]\nworkers = 3\n", 22);
	write_file(named, "[network]\nworkers = 5\n", 22);
	write_file(bad, "[network]\n\nworkers = 500\n", 25);

	/* $HOME/.config/hearth/hearth.conf */
	test_assert(config_load(NULL, &cfg, &err) == 0);
	test_assert(cfg != NULL && cfg->workers == 3 &&
		    str_is(cfg->path, home_file));
	config_free(&cfg);
	/* $XDG_CONFIG_HOME/hearth/hearth.conf comes first */
	setenv("XDG_CONFIG_HOME", xdg, 1);
	test_assert(config_load(NULL, &cfg, &err) == 0);
	test_assert(cfg != NULL && cfg->workers == 2 &&
		    str_is(cfg->path, xdg_file));
	config_free(&cfg);
	/* HEARTH_CONFIG before both */
	setenv("HEARTH_CONFIG", named, 1);
	test_assert(config_load(NULL, &cfg, &err) == 0);
	test_assert(cfg != NULL && cfg->workers == 5 &&
		    str_is(cfg->path, named));
	config_free(&cfg);
	/* the argument before HEARTH_CONFIG */
	test_assert(config_load(home_file, &cfg, &err) == 0);
	test_assert(cfg != NULL && cfg->workers == 3);
	config_free(&cfg);
	/* an empty HEARTH_CONFIG is no HEARTH_CONFIG */
	setenv("HEARTH_CONFIG", "", 1);
	test_assert(config_load(NULL, &cfg, &err) == 0);
	test_assert(cfg != NULL && cfg->workers == 2);
	config_free(&cfg);

	/* a named file that does not exist is an error */
	setenv("HEARTH_CONFIG", missing, 1);
	test_assert(config_load(NULL, &cfg, &err) == -1);
	test_assert(cfg == NULL);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT && err.code == ENOENT);
	want = xasprintf("%s: No such file or directory", missing);
	test_assert(strcmp(err.msg, want) == 0);
	free(want);
	unsetenv("HEARTH_CONFIG");
	test_assert(config_load(missing, &cfg, &err) == -1);
	test_assert(cfg == NULL && strstr(err.msg, missing) == err.msg);

	/* errors in a loaded file carry its path */
	test_assert(config_load(bad, &cfg, &err) == -1);
	want = xasprintf("%s:3: [network] workers: 500 is out of range", bad);
	test_assert(strncmp(err.msg, want, strlen(want)) == 0);
	free(want);

	/* not a regular file; too large */
	test_assert(config_load(tmpdir, &cfg, &err) == -1);
	test_assert(strstr(err.msg, "not a regular file") != NULL);
	memset(filler, '#', CONFIG_MAX_FILE_BYTES + 1);
	filler[CONFIG_MAX_FILE_BYTES] = '\n';
	write_file(big, filler, CONFIG_MAX_FILE_BYTES + 1);
	test_assert(config_load(big, &cfg, &err) == -1);
	test_assert(strstr(err.msg, "larger than") != NULL);
	/* exactly the limit is fine (a file of comment lines) */
	for (size_t i = 0; i < CONFIG_MAX_FILE_BYTES; i += 64)
		filler[i + 63 < CONFIG_MAX_FILE_BYTES ? i + 63 : i] = '\n';
	write_file(big, filler, CONFIG_MAX_FILE_BYTES);
	test_assert(config_load(big, &cfg, &err) == 0);
	config_free(&cfg);

	/* a directory where the default file would be is not "no file" */
	unlink(xdg_file);
	mkdir_p(xdg_file);
	test_assert(config_load(NULL, &cfg, &err) == -1);
	rmdir(xdg_file);
	/* no file there at all: defaults */
	test_assert(config_load(NULL, &cfg, &err) == 0);
	test_assert(cfg != NULL && cfg->path == NULL && cfg->workers == 4);
	config_free(&cfg);

	free(filler);
	free(cfgdir);
	free(xdg);
	free(xdg_file);
	free(homedir);
	free(home_file);
	free(named);
	free(bad);
	free(missing);
	free(big);
	test_end();
}

static void test_agrees_with_message(void)
{
	static const char *const hosts[] = {
	    "mx1.example.com",
	    "localhost",
	    "a-b.example",
	    "-a.example",
	    "a-.example",
	    "a..b",
	    "a.b.",
	    ".a",
	    "a_b.example",
	    "xn--bcher-kva.de",
	};
	static const char *const headers[] = {
	    "X-Request-Ref",
	    "X-Ref",
	    "Thread-Index-Ref",
	    "X-Correlation-ID",
	};
	char text[160];

	test_begin("config: ehlo_name and token_header as message.c has them");
	for (size_t i = 0; i < sizeof(hosts) / sizeof(*hosts); i++) {
		struct config *cfg = NULL;
		struct hearth_err err = {0};
		int rc;

		snprintf(text, sizeof(text), "[network]\nehlo_name = %s\n",
			 hosts[i]);
		rc = parse(text, &cfg, &err);
		test_assert((rc == 0) == message_domain_ok(hosts[i]));
		config_free(&cfg);
	}
	/* what message.c takes, config takes */
	for (size_t i = 0; i < sizeof(headers) / sizeof(*headers); i++) {
		struct config *cfg = NULL;
		struct hearth_err err = {0};

		snprintf(text, sizeof(text), "[warmup]\ntoken_header = %s\n",
			 headers[i]);
		test_assert(message_token_name_ok(headers[i]));
		test_assert(parse(text, &cfg, &err) == 0);
		config_free(&cfg);
	}
	test_end();
}

static void rm_rf(const char *dir)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
}

int main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	test_defaults();
	test_data_dir();
	test_every_key();
	test_checks();
	test_readiness();
	test_syntax_accepted();
	test_errors();
	test_timezone();
	test_files();
	test_agrees_with_message();
	rm_rf(tmpdir);
	return test_exit();
}
