// SPDX-License-Identifier: MIT
/*
 * hearth inbox add|import|list|show|test|pause|resume|remove.
 *
 * Enrolling runs a PROBE job in a worker process (SMTP connect + AUTH, IMAP
 * login, folder discovery, capabilities, TLS fingerprints); only an inbox
 * whose probe succeeded is stored, with its secret sealed by the vault or
 * the command that fetches it. An import probes its rows in parallel, one
 * worker each, and reports a bad row with its line and the reason while the
 * good ones are enrolled; running the same file again changes nothing.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "hearth/csv.h"
#include "hearth/dns.h"
#include "hearth/job.h"
#include "hearth/message.h"
#include "hearth/net.h"
#include "hearth/provider.h"
#include "hearth/ramp.h"
#include "hearth/worker.h"
#include "hearth/xalloc.h"

/* Capability bits kept with an inbox. */
enum {
	CAP_MOVE = 1 << 0,
	CAP_UIDPLUS = 1 << 1,
	CAP_GMAIL = 1 << 2,
	CAP_SPECIAL_USE = 1 << 3,
	CAP_IDLE = 1 << 4,
};

/* A CSV file is read whole; more than this is not an inbox list. */
#define IMPORT_MAX_BYTES (16 * 1024 * 1024)

/* One inbox to enroll, from the command line or a CSV row. */
struct enroll {
	size_t line; /* CSV line, 0 on the command line */
	struct store_inbox in;
	char *pool_name, *client_name;
	char *password; /* a secret to seal (wiped), or NULL */
	char *command;	/* a password or token command, or NULL */
	bool oauth2;	/* the command prints an OAuth2 access token */
	const struct provider *provider;
	char *error;  /* why this one cannot be enrolled */
	bool done;    /* probed successfully */
	bool dry_run; /* only resolve the settings: no secret needed */
	struct job_probe_result probe;
};

static void enroll_clear(struct enroll *e)
{
	store_inbox_clear(&e->in);
	free(e->pool_name);
	free(e->client_name);
	vault_secret_free(&e->password);
	free(e->command);
	free(e->error);
	memset(e, 0, sizeof(*e));
}

static void enroll_fail(struct enroll *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void enroll_fail(struct enroll *e, const char *fmt, ...)
{
	va_list ap;

	if (e->error != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&e->error, fmt, ap) < 0)
		abort();
	va_end(ap);
}

static void set(char **field, const char *value)
{
	free(*field);
	*field = value != NULL && *value != '\0' ? xstrdup(value) : NULL;
}

static bool window_ok(const char *w, char **start_r, char **end_r)
{
	unsigned h1, m1, h2, m2;
	char tail;

	if (sscanf(w, "%2u:%2u-%2u:%2u%c", &h1, &m1, &h2, &m2, &tail) != 4 ||
	    h1 > 23 || h2 > 24 || m1 > 59 || m2 > 59 ||
	    h1 * 60 + m1 >= h2 * 60 + m2)
		return false;
	free(*start_r);
	free(*end_r);
	*start_r = xasprintf("%02u:%02u", h1, m1);
	*end_r = xasprintf("%02u:%02u", h2, m2);
	return true;
}

static bool timezone_ok(const char *tz)
{
	char path[512];

	if (strcmp(tz, "UTC") == 0)
		return true;
	if (strstr(tz, "..") != NULL || tz[0] == '/')
		return false;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
	return access(path, R_OK) == 0;
}

static bool profile_ok(const char *p)
{
	return strcmp(p, "safe") == 0 || strcmp(p, "standard") == 0 ||
	       strcmp(p, "fast") == 0;
}

/* The MX hosts of domain, sorted by preference; 0 when DNS cannot say. */
static const struct provider *provider_from_dns(const char *domain,
						const char *servers)
{
	struct dns_options opts = {.servers = servers, .timeout_msecs = 3000};
	const struct provider *p = NULL;
	struct hearth_err err = {0};
	struct dns_mx *mx = NULL;
	struct dns *dns = NULL;
	size_t n = 0;

	if (dns_new(&opts, &dns, &err) < 0)
		return NULL;
	if (dns_mx(dns, domain, &mx, &n, NULL, &err) == 1) {
		const char **hosts = xcalloc(n, sizeof(*hosts));

		for (size_t i = 0; i < n; i++)
			hosts[i] = mx[i].host;
		p = provider_by_mx(hosts, n);
		free(hosts);
	}
	dns_mx_free(&mx, n);
	dns_free(&dns);
	return p;
}

/*
 * Fill what was not given from the provider and the configuration, then
 * check every field. Sets e->error on the first problem.
 */
static void enroll_complete(struct enroll *e, const struct config *cfg,
			    const char *provider_name)
{
	struct store_inbox *in = &e->in;
	enum endpoint_security sec;
	const char *domain;

	if (in->address == NULL || !message_address_ok(in->address)) {
		enroll_fail(e, "'%s' is not an email address",
			    in->address != NULL ? in->address : "");
		return;
	}
	for (char *p = in->address; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	domain = strchr(in->address, '@') + 1;
	if (provider_name != NULL) {
		e->provider = provider_by_name(provider_name);
		if (e->provider == NULL) {
			enroll_fail(e,
				    "unknown provider '%s' (google, microsoft, "
				    "yahoo, zoho, fastmail, generic)",
				    provider_name);
			return;
		}
	} else if (in->smtp_host != NULL || in->imap_host != NULL) {
		e->provider = provider_by_name("generic");
	} else {
		e->provider = provider_by_domain(domain);
		if (e->provider == NULL)
			e->provider =
			    provider_from_dns(domain, cfg->dns_servers);
		if (e->provider == NULL) {
			enroll_fail(e,
				    "cannot tell the provider of %s (no known "
				    "MX): give --provider, or --smtp-host and "
				    "--imap-host",
				    domain);
			return;
		}
	}
	set(&in->provider, e->provider->name);
	if (in->smtp_host == NULL)
		set(&in->smtp_host, e->provider->smtp_host);
	if (in->imap_host == NULL)
		set(&in->imap_host, e->provider->imap_host);
	if (in->smtp_host == NULL || in->imap_host == NULL) {
		enroll_fail(e,
			    "the %s provider needs --smtp-host and "
			    "--imap-host",
			    e->provider->name);
		return;
	}
	if (in->smtp_security == NULL)
		set(&in->smtp_security,
		    endpoint_security_name(e->provider->smtp_security));
	if (in->imap_security == NULL)
		set(&in->imap_security,
		    endpoint_security_name(e->provider->imap_security));
	if (endpoint_security_parse(in->smtp_security, &sec) < 0 ||
	    endpoint_security_parse(in->imap_security, &sec) < 0) {
		enroll_fail(e, "security is tls, starttls or "
			       "tls_insecure_plaintext");
		return;
	}
	if (in->smtp_port == 0)
		in->smtp_port = e->provider->smtp_port;
	if (in->imap_port == 0)
		in->imap_port = e->provider->imap_port;
	if (in->smtp_port <= 0 || in->smtp_port > 65535 || in->imap_port <= 0 ||
	    in->imap_port > 65535) {
		enroll_fail(e, "a port is 1 to 65535");
		return;
	}
	if (!message_domain_ok(in->smtp_host) ||
	    !message_domain_ok(in->imap_host)) {
		enroll_fail(e, "'%s' or '%s' is not a host name", in->smtp_host,
			    in->imap_host);
		return;
	}
	if (in->username == NULL)
		set(&in->username, in->address);
	if (in->display_name != NULL &&
	    !message_header_value_ok(in->display_name, 256)) {
		enroll_fail(e, "the display name holds control characters or "
			       "is too long");
		return;
	}
	if (in->ramp_profile == NULL)
		set(&in->ramp_profile, cfg->ramp_profile);
	if (!profile_ok(in->ramp_profile)) {
		enroll_fail(e,
			    "ramp profile '%s' is not safe, standard or fast",
			    in->ramp_profile);
		return;
	}
	if (in->ramp_overrides != NULL) {
		struct ramp_profile p = *ramp_profile_by_name(in->ramp_profile);
		struct hearth_err rerr = {0};

		if (ramp_profile_override(&p, in->ramp_overrides, &rerr) < 0) {
			enroll_fail(e, "%s", rerr.msg);
			return;
		}
	}
	if (in->window_start == NULL) {
		set(&in->window_start, cfg->window_start);
		set(&in->window_end, cfg->window_end);
	}
	if (in->timezone == NULL)
		set(&in->timezone, cfg->timezone);
	if (!timezone_ok(in->timezone)) {
		enroll_fail(e, "unknown time zone '%s'", in->timezone);
		return;
	}
	if (e->pool_name == NULL)
		set(&e->pool_name, "default");
	if (e->client_name == NULL)
		set(&e->client_name, "default");
	if (e->password == NULL && e->command == NULL && !e->dry_run) {
		enroll_fail(e, "no secret: give a password, a password "
			       "command or a token command");
		return;
	}
	if (e->password != NULL &&
	    !message_header_value_ok(e->password, 4096)) {
		enroll_fail(e, "the password holds control characters");
		return;
	}
	set(&in->secret_kind, e->password != NULL  ? "vault"
			      : e->command == NULL ? "none"
			      : e->oauth2	   ? "token_command"
						   : "command");
	set(&in->secret_command, e->command);
	set(&in->state, "active");
}

/* --- probing ------------------------------------------------------------- */

struct probe_run {
	struct enroll *v;
	size_t n;
	size_t finished;
	bool progress;
};

static void probe_progress(struct probe_run *r)
{
	size_t width = 30, full;

	if (!r->progress)
		return;
	full = r->n == 0 ? width : r->finished * width / r->n;
	fprintf(stderr, "\r[");
	for (size_t i = 0; i < width; i++)
		fputc(i < full ? '#' : '.', stderr);
	fprintf(stderr, "] %zu/%zu probed", r->finished, r->n);
	if (r->finished == r->n)
		fputc('\n', stderr);
	fflush(stderr);
}

/* What to tell the operator about a failed probe. */
static void probe_judge(struct enroll *e)
{
	const struct job_probe_result *p = &e->probe;
	const char *hint = e->provider != NULL ? e->provider->auth_hint : NULL;

	if (p->smtp_fail == HEARTH_FAIL_NONE &&
	    p->imap_fail == HEARTH_FAIL_NONE) {
		if (p->spam_folder[0] == '\0')
			enroll_fail(e,
				    "no spam folder found on %s: placement "
				    "cannot be measured",
				    e->in.imap_host);
		else
			e->done = true;
		return;
	}
	if (p->imap_fail != HEARTH_FAIL_NONE)
		enroll_fail(e, "%s%s%s", p->imap_error,
			    p->imap_fail == HEARTH_FAIL_AUTH ? ": " : "",
			    p->imap_fail == HEARTH_FAIL_AUTH ? hint : "");
	else
		enroll_fail(e, "%s%s%s", p->smtp_error,
			    p->smtp_fail == HEARTH_FAIL_AUTH ? ": " : "",
			    p->smtp_fail == HEARTH_FAIL_AUTH ? hint : "");
}

static void probe_result(uint64_t job_id, const struct wire_msg *result,
			 const struct hearth_err *fail, void *ctx)
{
	struct probe_run *r = ctx;
	struct enroll *e = &r->v[job_id];
	struct hearth_err err = {0};

	r->finished++;
	if (fail != NULL)
		enroll_fail(e, "probe failed: %s", fail->msg);
	else if (job_probe_result_decode(result, &e->probe, &err) < 0)
		enroll_fail(e, "probe failed: %s", err.msg);
	else
		probe_judge(e);
	probe_progress(r);
}

static struct job_account account_of(const struct enroll *e, bool imap,
				     const struct config *cfg,
				     const char *secret)
{
	struct job_account a = {0};
	const struct store_inbox *in = &e->in;

	a.ep.host = imap ? in->imap_host : in->smtp_host;
	a.ep.port = (uint16_t)(imap ? in->imap_port : in->smtp_port);
	endpoint_security_parse(imap ? in->imap_security : in->smtp_security,
				&a.ep.security);
	a.ep.ca_file = cfg->ca_file;
	a.cred.username = in->username;
	a.cred.secret = secret;
	a.cred.oauth2 = e->oauth2;
	return a;
}

/*
 * Probe every entry without an error, workers at once. The secrets of
 * command kinds are fetched here, one at a time, and wiped once sent.
 */
static void probe_all(struct worker_pool *pool, struct enroll *v, size_t n,
		      const struct config *cfg)
{
	struct probe_run r = {.v = v, .progress = isatty(2) && n > 1};
	size_t next = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i].error == NULL)
			r.n++;
	probe_progress(&r);
	for (;;) {
		while (next < n && worker_pool_idle(pool) > 0) {
			struct enroll *e = &v[next];
			struct hearth_err err = {0};
			char *fetched = NULL;
			struct job_probe job;
			struct wire_msg *m;

			next++;
			if (e->error != NULL)
				continue;
			if (e->password == NULL &&
			    vault_command_secret(e->command,
						 cfg->op_timeout_msecs,
						 &fetched, &err) < 0) {
				enroll_fail(e, "%s", err.msg);
				r.finished++;
				probe_progress(&r);
				continue;
			}
			job = (struct job_probe){
			    .smtp = account_of(e, false, cfg,
					       fetched ? fetched : e->password),
			    .imap = account_of(e, true, cfg,
					       fetched ? fetched : e->password),
			    .ehlo_name = cfg->ehlo_name != NULL
					     ? cfg->ehlo_name
					     : strchr(e->in.address, '@') + 1,
			    .op_timeout_msecs = cfg->op_timeout_msecs,
			};
			m = job_probe_encode(&job, &err);
			vault_secret_free(&fetched);
			if (m == NULL ||
			    worker_pool_submit(pool, (uint64_t)(e - v), &m,
					       net_now_msecs() +
						   cfg->job_deadline_msecs,
					       &err) < 0) {
				wire_msg_free(&m);
				enroll_fail(e, "%s", err.msg);
				r.finished++;
				probe_progress(&r);
			}
		}
		if (r.finished >= r.n && next >= n)
			break;
		worker_pool_poll(pool, 1000, probe_result, &r);
	}
}

/* --- storing ------------------------------------------------------------- */

static void enroll_apply_probe(struct enroll *e, int64_t now)
{
	const struct job_probe_result *p = &e->probe;
	struct store_inbox *in = &e->in;

	in->probed_at = now;
	set(&in->probe_error, e->error);
	set(&in->spam_folder, p->spam_folder);
	set(&in->sent_folder, p->sent_folder);
	set(&in->trash_folder, p->trash_folder);
	set(&in->archive_folder, p->archive_folder);
	in->spam_found_by = (int)p->spam_found_by;
	in->caps = (p->cap_move ? CAP_MOVE : 0) |
		   (p->cap_uidplus ? CAP_UIDPLUS : 0) |
		   (p->cap_gmail ? CAP_GMAIL : 0) |
		   (p->cap_special_use ? CAP_SPECIAL_USE : 0) |
		   (p->cap_idle ? CAP_IDLE : 0);
	set(&in->smtp_fingerprint, p->smtp_tls_fingerprint);
	set(&in->imap_fingerprint, p->imap_tls_fingerprint);
}

/* Store one probed entry in a transaction; the secret sealed with its id. */
static int enroll_store(struct cli *cli, struct enroll *e,
			struct hearth_err *err)
{
	struct store_inbox *in = &e->in;
	struct store_pool pool = {0};
	struct store_client client = {0};
	int64_t now = cli_now();
	int64_t id = 0;
	int ret;

	enroll_apply_probe(e, now);
	if (store_begin(cli->store, err) < 0)
		return -1;
	ret = store_pool_get(cli->store, e->pool_name, &pool, err);
	if (ret == 0)
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "no pool '%s' (hearth pool add %s)",
			       e->pool_name, e->pool_name);
	if (ret <= 0)
		goto fail;
	ret = store_client_get(cli->store, e->client_name, &client, err);
	if (ret == 0)
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "no client '%s' (hearth client add %s)",
			       e->client_name, e->client_name);
	if (ret <= 0)
		goto fail;
	in->pool_id = pool.id;
	in->client_id = client.id;
	if (store_domain_ensure(cli->store, strchr(in->address, '@') + 1, now,
				&in->domain_id, err) < 0)
		goto fail;
	in->created_at = now;
	/* The sealed secret is bound to the inbox id: seal it with the id
	 * the insert is about to give, in the same transaction. */
	if (store_inbox_next_id(cli->store, &id, err) < 0)
		goto fail;
	if (e->password != NULL &&
	    vault_seal(cli->vault, id, e->password, &in->secret_sealed,
		       &in->secret_sealed_len, err) < 0)
		goto fail;
	if (store_inbox_add(cli->store, in, err) < 0)
		goto fail;
	if (in->id != id) {
		hearth_err_set(err, HEARTH_FAIL_RETRY, 0,
			       "inbox %s got id %lld, not %lld: not stored",
			       in->address, (long long)in->id, (long long)id);
		goto fail;
	}
	if (store_event_add(cli->store, now, "inbox.enrolled", in->id,
			    e->line > 0 ? "import" : "add", err) < 0 ||
	    store_commit(cli->store, err) < 0)
		goto fail;
	store_pool_clear(&pool);
	store_client_clear(&client);
	return 0;
fail:
	store_rollback(cli->store);
	store_pool_clear(&pool);
	store_client_clear(&client);
	return -1;
}

/* --- secrets from the operator ------------------------------------------- */

/* The first line of stdin, or a prompt without echo on the terminal. */
static char *read_secret(const char *address, bool from_stdin)
{
	char buf[4096];
	struct termios old, quiet;
	FILE *in = stdin;
	bool tty = !from_stdin && isatty(0);
	size_t len;
	char *ret = NULL;

	if (!from_stdin && !tty)
		return NULL;
	if (tty) {
		fprintf(stderr, "Password for %s: ", address);
		fflush(stderr);
		tcgetattr(0, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSAFLUSH, &quiet);
	}
	if (fgets(buf, sizeof(buf), in) != NULL) {
		len = strcspn(buf, "\r\n");
		buf[len] = '\0';
		if (len > 0)
			ret = xstrdup(buf);
	}
	if (tty) {
		tcsetattr(0, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	explicit_bzero(buf, sizeof(buf));
	return ret;
}

/* --- commands ------------------------------------------------------------ */

static int inbox_usage(FILE *out)
{
	fprintf(out,
		"usage: hearth inbox add ADDRESS [options]\n"
		"       hearth inbox import FILE.csv\n"
		"       hearth inbox list [--client C] [--pool P] [--json]\n"
		"       hearth inbox show ADDRESS [--json]\n"
		"       hearth inbox test ADDRESS\n"
		"       hearth inbox pause ADDRESS [--reason TEXT]\n"
		"       hearth inbox resume ADDRESS\n"
		"       hearth inbox remove ADDRESS [--purge]\n"
		"\n"
		"add options:\n"
		"  --provider NAME       google, microsoft, yahoo, zoho, "
		"fastmail, generic\n"
		"                        (default: from the domain, or its "
		"MX records)\n"
		"  --smtp-host H --smtp-port N --smtp-security S\n"
		"  --imap-host H --imap-port N --imap-security S\n"
		"                        S: tls, starttls, "
		"tls_insecure_plaintext\n"
		"  --username U          (default: the address)\n"
		"  --password-stdin      read the password from standard "
		"input\n"
		"  --password-command C  run C when the password is needed "
		"(first line)\n"
		"  --token-command C     run C for an OAuth2 access token "
		"(XOAUTH2)\n"
		"                        (none of these on a terminal: "
		"prompt without echo)\n"
		"  --client C --pool P   (default: both \"default\")\n"
		"  --display-name TEXT --ramp-profile safe|standard|fast\n"
		"  --ramp OVERRIDES      this inbox's changes to its profile, "
		"e.g.\n"
		"                        start=4,target=35,days=25,reply=0.25\n"
		"  --window HH:MM-HH:MM --timezone ZONE\n"
		"  --dry-run             print the settings enrolling would "
		"use; probe nothing,\n"
		"                        store nothing (no secret needed)\n"
		"\n"
		"import: a header row names the columns: address (required), "
		"display_name,\n"
		"client, pool, provider, smtp_host, smtp_port, smtp_security, "
		"imap_host,\n"
		"imap_port, imap_security, username, password, "
		"password_command,\n"
		"token_command, ramp_profile, ramp, window, timezone. A file "
		"with "
		"passwords must\n"
		"not be readable by others. Rows already enrolled are left "
		"as they are.\n");
	return out == stdout ? EX_OK : EX_USAGE;
}

static struct worker_pool *probe_pool(struct cli *cli, unsigned n)
{
	struct hearth_err err = {0};
	struct worker_pool *pool;

	if (n > cli->cfg->workers)
		n = cli->cfg->workers;
	if (n == 0)
		n = 1;
	pool = worker_pool_new(n, job_handler, NULL, &err);
	if (pool == NULL)
		fprintf(stderr, "hearth inbox: %s\n", err.msg);
	return pool;
}

static int inbox_add(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"provider", required_argument, NULL, 'P'},
	    {"smtp-host", required_argument, NULL, 1},
	    {"smtp-port", required_argument, NULL, 2},
	    {"smtp-security", required_argument, NULL, 3},
	    {"imap-host", required_argument, NULL, 4},
	    {"imap-port", required_argument, NULL, 5},
	    {"imap-security", required_argument, NULL, 6},
	    {"username", required_argument, NULL, 7},
	    {"password-stdin", no_argument, NULL, 8},
	    {"password-command", required_argument, NULL, 9},
	    {"token-command", required_argument, NULL, 10},
	    {"client", required_argument, NULL, 11},
	    {"pool", required_argument, NULL, 12},
	    {"display-name", required_argument, NULL, 13},
	    {"ramp-profile", required_argument, NULL, 14},
	    {"window", required_argument, NULL, 15},
	    {"timezone", required_argument, NULL, 16},
	    {"dry-run", no_argument, NULL, 17},
	    {"ramp", required_argument, NULL, 18},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct enroll e = {0};
	struct store_inbox old = {0};
	struct hearth_err err = {0};
	struct worker_pool *pool = NULL;
	struct cli cli = {0};
	const char *provider = NULL, *window = NULL;
	bool from_stdin = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'P':
			provider = optarg;
			break;
		case 1:
			set(&e.in.smtp_host, optarg);
			break;
		case 2:
			e.in.smtp_port = atoi(optarg);
			break;
		case 3:
			set(&e.in.smtp_security, optarg);
			break;
		case 4:
			set(&e.in.imap_host, optarg);
			break;
		case 5:
			e.in.imap_port = atoi(optarg);
			break;
		case 6:
			set(&e.in.imap_security, optarg);
			break;
		case 7:
			set(&e.in.username, optarg);
			break;
		case 8:
			from_stdin = true;
			break;
		case 9:
		case 10:
			set(&e.command, optarg);
			e.oauth2 = c == 10;
			break;
		case 11:
			set(&e.client_name, optarg);
			break;
		case 12:
			set(&e.pool_name, optarg);
			break;
		case 13:
			set(&e.in.display_name, optarg);
			break;
		case 14:
			set(&e.in.ramp_profile, optarg);
			break;
		case 15:
			window = optarg;
			break;
		case 16:
			set(&e.in.timezone, optarg);
			break;
		case 17:
			e.dry_run = true;
			break;
		case 18:
			set(&e.in.ramp_overrides, optarg);
			break;
		case 'h':
			enroll_clear(&e);
			return inbox_usage(stdout);
		default:
			enroll_clear(&e);
			return inbox_usage(stderr);
		}
	}
	if (optind + 1 != argc) {
		enroll_clear(&e);
		return cli_usage_error("inbox add", "give one ADDRESS");
	}
	set(&e.in.address, argv[optind]);
	if (window != NULL &&
	    !window_ok(window, &e.in.window_start, &e.in.window_end)) {
		enroll_clear(&e);
		return cli_usage_error("inbox add",
				       "--window is HH:MM-HH:MM, start before "
				       "end");
	}
	if (e.command == NULL && !e.dry_run) {
		e.password = read_secret(argv[optind], from_stdin);
		if (e.password == NULL) {
			enroll_clear(&e);
			return cli_usage_error(
			    "inbox add", "no secret: use --password-stdin, "
					 "--password-command or "
					 "--token-command");
		}
	}
	/* Workers fork before the store and the vault key are open. */
	ret = cli_open(&cli, 0);
	if (ret != EX_OK)
		goto out;
	enroll_complete(&e, cli.cfg, provider);
	if (e.error != NULL) {
		fprintf(stderr, "hearth inbox add: %s\n", e.error);
		ret = EX_DATAERR;
		goto out;
	}
	if (e.dry_run) {
		/* What enrolling would use; nothing is probed or stored. */
		printf("address   %s\nprovider  %s (%s)\nsmtp      %s:%d %s\n"
		       "imap      %s:%d %s\nusername  %s\nclient    %s\n"
		       "pool      %s\nramp      %s%s%s, %s-%s %s\n",
		       e.in.address, e.provider->name, e.provider->label,
		       e.in.smtp_host, e.in.smtp_port, e.in.smtp_security,
		       e.in.imap_host, e.in.imap_port, e.in.imap_security,
		       e.in.username, e.client_name, e.pool_name,
		       e.in.ramp_profile, e.in.ramp_overrides ? " " : "",
		       e.in.ramp_overrides ? e.in.ramp_overrides : "",
		       e.in.window_start, e.in.window_end, e.in.timezone);
		ret = EX_OK;
		goto out;
	}
	pool = probe_pool(&cli, 1);
	if (pool == NULL) {
		ret = EX_OSERR;
		goto out;
	}
	ret = cli_open(&cli, CLI_STORE | CLI_VAULT);
	if (ret != EX_OK)
		goto out;
	ret = store_inbox_get(cli.store, e.in.address, &old, &err);
	store_inbox_clear(&old);
	if (ret != 0) {
		if (ret > 0)
			fprintf(stderr,
				"hearth inbox add: %s is already enrolled\n",
				e.in.address);
		else
			fprintf(stderr, "hearth inbox add: %s\n", err.msg);
		ret = ret > 0 ? EX_DATAERR : cli_exit_code(err.fail);
		goto out;
	}
	probe_all(pool, &e, 1, cli.cfg);
	if (!e.done) {
		fprintf(stderr, "hearth inbox add: %s: %s\n", e.in.address,
			e.error);
		ret = EX_UNAVAILABLE;
		goto out;
	}
	if (enroll_store(&cli, &e, &err) < 0) {
		ret = cli_fail("inbox add", &err);
		goto out;
	}
	if (cli_globals.verbose)
		printf("%s enrolled (%s, spam folder %s)\n", e.in.address,
		       e.in.provider, e.in.spam_folder);
	ret = EX_OK;
out:
	worker_pool_free(&pool);
	enroll_clear(&e);
	cli_close(&cli);
	return ret;
}

/* The columns an import file may have. */
static const char *const import_columns[] = {
    "address",	 "display_name",     "client",	      "pool",
    "provider",	 "smtp_host",	     "smtp_port",     "smtp_security",
    "imap_host", "imap_port",	     "imap_security", "username",
    "password",	 "password_command", "token_command", "ramp_profile",
    "window",	 "timezone",	     "ramp",
};
#define N_COLUMNS (sizeof(import_columns) / sizeof(*import_columns))

static void import_row(struct enroll *e, char **fields, size_t n,
		       const int *col, const struct config *cfg)
{
	const char *v[N_COLUMNS] = {0};
	const char *provider = NULL;

	for (size_t i = 0; i < n; i++)
		if (col[i] >= 0 && fields[i][0] != '\0')
			v[col[i]] = fields[i];
	set(&e->in.address, v[0]);
	set(&e->in.display_name, v[1]);
	set(&e->client_name, v[2]);
	set(&e->pool_name, v[3]);
	provider = v[4];
	set(&e->in.smtp_host, v[5]);
	e->in.smtp_port = v[6] != NULL ? atoi(v[6]) : 0;
	set(&e->in.smtp_security, v[7]);
	set(&e->in.imap_host, v[8]);
	e->in.imap_port = v[9] != NULL ? atoi(v[9]) : 0;
	set(&e->in.imap_security, v[10]);
	set(&e->in.username, v[11]);
	if (v[12] != NULL)
		e->password = xstrdup(v[12]);
	if (v[13] != NULL)
		set(&e->command, v[13]);
	if (v[14] != NULL) {
		set(&e->command, v[14]);
		e->oauth2 = true;
	}
	if ((v[12] != NULL) + (v[13] != NULL) + (v[14] != NULL) > 1) {
		enroll_fail(e, "give one of password, password_command and "
			       "token_command");
		return;
	}
	set(&e->in.ramp_profile, v[15]);
	if (v[16] != NULL &&
	    !window_ok(v[16], &e->in.window_start, &e->in.window_end)) {
		enroll_fail(e, "window '%s' is not HH:MM-HH:MM", v[16]);
		return;
	}
	set(&e->in.timezone, v[17]);
	set(&e->in.ramp_overrides, v[18]);
	enroll_complete(e, cfg, provider);
}

static int inbox_import(int argc, char **argv)
{
	struct hearth_err err = {0};
	struct worker_pool *pool = NULL;
	struct csv_reader *csv = NULL;
	struct enroll *v = NULL;
	struct cli cli = {0};
	char **fields;
	char *data = NULL;
	size_t n = 0, cap = 0, nf, line, enrolled = 0, unchanged = 0, bad = 0,
	       todo = 0;
	int col[CSV_MAX_FIELDS];
	bool secrets = false;
	struct stat st;
	const char *path;
	int fd = -1, ret;

	if (argc != 2 || argv[1][0] == '-')
		return strcmp(argv[argc - 1], "--help") == 0
			   ? inbox_usage(stdout)
			   : cli_usage_error("inbox import",
					     "give one FILE.csv");
	path = argv[1];
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "hearth inbox import: %s: %s\n", path,
			fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return EX_NOINPUT;
	}
	if (st.st_size > IMPORT_MAX_BYTES) {
		close(fd);
		fprintf(stderr, "hearth inbox import: %s: larger than %d MiB\n",
			path, IMPORT_MAX_BYTES >> 20);
		return EX_DATAERR;
	}
	data = xmalloc((size_t)st.st_size + 1);
	if (read(fd, data, (size_t)st.st_size) != st.st_size) {
		close(fd);
		free(data);
		fprintf(stderr, "hearth inbox import: %s: short read\n", path);
		return EX_IOERR;
	}
	close(fd);
	csv = csv_reader_new(path, data, (size_t)st.st_size);
	ret = cli_open(&cli, 0);
	if (ret != EX_OK)
		goto out;
	/* The header row. */
	if (csv_next(csv, &fields, &nf, &line, &err) != 1) {
		fprintf(stderr, "hearth inbox import: %s\n",
			err.msg[0] != '\0' ? err.msg : "empty file");
		ret = EX_DATAERR;
		goto out;
	}
	for (size_t i = 0; i < nf; i++) {
		col[i] = -1;
		for (size_t k = 0; k < N_COLUMNS; k++)
			if (strcasecmp(fields[i], import_columns[k]) == 0)
				col[i] = (int)k;
		if (col[i] < 0) {
			fprintf(stderr,
				"hearth inbox import: %s:%zu: unknown column "
				"'%s'; see 'hearth inbox --help'\n",
				path, line, fields[i]);
			ret = EX_DATAERR;
			goto out;
		}
		if (col[i] == 12)
			secrets = true;
	}
	if (secrets && (st.st_mode & 077) != 0) {
		fprintf(stderr,
			"hearth inbox import: %s holds passwords and is "
			"readable by others (mode %04o): chmod 600 %s\n",
			path, (unsigned)(st.st_mode & 07777), path);
		ret = EX_NOPERM;
		goto out;
	}
	/* Every row: parse, check, drop duplicates. */
	for (;;) {
		struct enroll *e;
		int r;
		size_t ncols = nf;

		r = csv_next(csv, &fields, &ncols, &line, &err);
		if (r == 0)
			break;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		e = &v[n++];
		memset(e, 0, sizeof(*e));
		e->line = line;
		if (r < 0) {
			/* err names FILE:LINE already */
			enroll_fail(e, "%s", err.msg);
			e->line = 0;
			continue;
		}
		if (ncols != nf) {
			enroll_fail(e, "%zu fields, the header has %zu", ncols,
				    nf);
			continue;
		}
		import_row(e, fields, ncols, col, cli.cfg);
		for (size_t i = 0; e->error == NULL && i + 1 < n; i++)
			if (v[i].in.address != NULL &&
			    strcmp(v[i].in.address, e->in.address) == 0)
				enroll_fail(e, "%s is also on line %zu",
					    e->in.address, v[i].line);
	}
	for (size_t i = 0; i < n; i++)
		todo += v[i].error == NULL;
	pool = probe_pool(&cli, (unsigned)(todo > 0 ? todo : 1));
	if (pool == NULL) {
		ret = EX_OSERR;
		goto out;
	}
	ret = cli_open(&cli, CLI_STORE | CLI_VAULT);
	if (ret != EX_OK)
		goto out;
	/* Already enrolled: unchanged, not probed again. */
	for (size_t i = 0; i < n; i++) {
		struct store_inbox old = {0};

		if (v[i].error != NULL)
			continue;
		ret = store_inbox_get(cli.store, v[i].in.address, &old, &err);
		store_inbox_clear(&old);
		if (ret < 0) {
			ret = cli_fail("inbox import", &err);
			goto out;
		}
		if (ret > 0) {
			unchanged++;
			enroll_fail(&v[i], "unchanged");
		}
	}
	probe_all(pool, v, n, cli.cfg);
	for (size_t i = 0; i < n; i++) {
		struct enroll *e = &v[i];

		if (e->done && enroll_store(&cli, e, &err) < 0)
			enroll_fail(e, "%s", err.msg);
		else if (e->done && e->error == NULL)
			enrolled++;
		if (e->error == NULL || strcmp(e->error, "unchanged") == 0)
			continue;
		bad++;
		if (e->line > 0)
			fprintf(stderr, "%s:%zu: %s%s%s\n", path, e->line,
				e->in.address != NULL ? e->in.address : "",
				e->in.address != NULL ? ": " : "", e->error);
		else
			fprintf(stderr, "%s\n", e->error);
	}
	if (!cli_globals.quiet)
		fprintf(stderr, "%s: %zu enrolled, %zu unchanged, %zu failed\n",
			path, enrolled, unchanged, bad);
	ret = bad > 0 ? EX_DATAERR : EX_OK;
out:
	worker_pool_free(&pool);
	for (size_t i = 0; i < n; i++)
		enroll_clear(&v[i]);
	free(v);
	csv_reader_free(&csv);
	if (data != NULL) {
		explicit_bzero(data, (size_t)st.st_size);
		free(data);
	}
	cli_close(&cli);
	return ret;
}

static json_t *inbox_json(const struct store_inbox *in)
{
	return json_pack(
	    "{s:s, s:o, s:s, s:{s:s, s:i, s:s}, s:{s:s, s:i, s:s}, s:s, "
	    "s:s, s:s, s:o, s:s, s:s, s:s, s:o, s:{s:I, s:o, s:o, s:o, s:o, "
	    "s:o, s:o, s:o}}",
	    "address", in->address, "display_name",
	    cli_json_str(in->display_name), "provider", in->provider, "smtp",
	    "host", in->smtp_host, "port", in->smtp_port, "security",
	    in->smtp_security, "imap", "host", in->imap_host, "port",
	    in->imap_port, "security", in->imap_security, "username",
	    in->username, "secret", in->secret_kind, "ramp_profile",
	    in->ramp_profile, "ramp", cli_json_str(in->ramp_overrides),
	    "window_start", in->window_start, "window_end",
	    in->window_end, "state", in->state, "state_reason",
	    cli_json_str(in->state_reason), "probe", "at",
	    (json_int_t)in->probed_at, "error", cli_json_str(in->probe_error),
	    "spam_folder", cli_json_str(in->spam_folder), "sent_folder",
	    cli_json_str(in->sent_folder), "archive_folder",
	    cli_json_str(in->archive_folder), "smtp_sha256",
	    cli_json_str(in->smtp_fingerprint), "imap_sha256",
	    cli_json_str(in->imap_fingerprint), "capabilities",
	    json_pack("[s?s?s?s?s?]", in->caps & CAP_MOVE ? "MOVE" : NULL,
		      in->caps & CAP_UIDPLUS ? "UIDPLUS" : NULL,
		      in->caps & CAP_GMAIL ? "X-GM-EXT-1" : NULL,
		      in->caps & CAP_SPECIAL_USE ? "SPECIAL-USE" : NULL,
		      in->caps & CAP_IDLE ? "IDLE" : NULL));
}

/* Probe an enrolled inbox again and record what it found. */
static int inbox_test(struct cli *cli, struct worker_pool *pool,
		      struct store_inbox *in)
{
	struct hearth_err err = {0};
	struct enroll e = {0};
	int ret;

	e.in = *in;
	e.provider = provider_by_name(in->provider);
	e.oauth2 = strcmp(in->secret_kind, "token_command") == 0;
	if (strcmp(in->secret_kind, "vault") == 0) {
		if (vault_unseal(cli->vault, in->id, in->secret_sealed,
				 in->secret_sealed_len, &e.password,
				 &err) < 0) {
			memset(&e.in, 0, sizeof(e.in));
			return cli_fail("inbox test", &err);
		}
	} else {
		e.command = xstrdup(in->secret_command);
	}
	probe_all(pool, &e, 1, cli->cfg);
	enroll_apply_probe(&e, cli_now());
	*in = e.in;
	memset(&e.in, 0, sizeof(e.in));
	ret = store_inbox_update(cli->store, in, &err) == 0 &&
		      store_event_add(cli->store, cli_now(), "inbox.probe",
				      in->id, e.error != NULL ? e.error : "ok",
				      &err) == 0
		  ? EX_OK
		  : cli_fail("inbox test", &err);
	if (ret == EX_OK && !cli_globals.quiet) {
		const struct job_probe_result *p = &e.probe;

		printf("smtp   %s:%d %s: %s%s%s\n", in->smtp_host,
		       in->smtp_port, in->smtp_security,
		       p->smtp_fail == HEARTH_FAIL_NONE ? "ok, AUTH "
							: p->smtp_error,
		       p->smtp_fail == HEARTH_FAIL_NONE ? p->smtp_auth_mech
							: "",
		       p->smtp_tls_verified ? ", certificate verified" : "");
		printf(
		    "imap   %s:%d %s: %s%s%s\n", in->imap_host, in->imap_port,
		    in->imap_security,
		    p->imap_fail == HEARTH_FAIL_NONE ? "ok, " : p->imap_error,
		    p->imap_fail == HEARTH_FAIL_NONE ? p->imap_auth_mech : "",
		    p->imap_tls_verified ? ", certificate verified" : "");
		printf("spam   %s\nsent   %s\n",
		       p->spam_folder[0] ? p->spam_folder : "(none found)",
		       p->sent_folder[0] ? p->sent_folder : "(none found)");
	}
	if (ret == EX_OK && e.error != NULL) {
		fprintf(stderr, "hearth inbox test: %s: %s\n", in->address,
			e.error);
		ret = EX_UNAVAILABLE;
	}
	enroll_clear(&e);
	return ret;
}

int cmd_inbox(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"client", required_argument, NULL, 'c'},
	    {"pool", required_argument, NULL, 'p'},
	    {"json", no_argument, NULL, 'j'},
	    {"reason", required_argument, NULL, 'r'},
	    {"purge", no_argument, NULL, 'x'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *client = NULL, *pool_name = NULL, *reason = NULL, *sub;
	struct hearth_err err = {0};
	struct store_inbox in = {0};
	struct worker_pool *pool = NULL;
	struct cli cli = {0};
	bool json = false, purge = false;
	int c, ret;

	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return inbox_add(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "import") == 0)
		return inbox_import(argc - 1, argv + 1);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			client = optarg;
			break;
		case 'p':
			pool_name = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'r':
			reason = optarg;
			break;
		case 'x':
			purge = true;
			break;
		case 'h':
			return inbox_usage(stdout);
		default:
			return inbox_usage(stderr);
		}
	}
	if (optind >= argc)
		return inbox_usage(stderr);
	sub = argv[optind];
	if (strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0 &&
	    strcmp(sub, "test") != 0 && strcmp(sub, "pause") != 0 &&
	    strcmp(sub, "resume") != 0 && strcmp(sub, "remove") != 0)
		return cli_usage_error("inbox", "'%s' is not an inbox command",
				       sub);
	ret = cli_open(&cli, 0);
	if (ret != EX_OK)
		return ret;
	/* test probes in a worker, forked before the store and the vault
	 * key are open: it gets the one secret and nothing more. */
	if (strcmp(sub, "test") == 0) {
		pool = probe_pool(&cli, 1);
		if (pool == NULL) {
			cli_close(&cli);
			return EX_OSERR;
		}
	}
	ret = cli_open(&cli, CLI_STORE);
	if (ret != EX_OK) {
		worker_pool_free(&pool);
		return ret;
	}
	if (strcmp(sub, "list") == 0 && optind + 1 == argc) {
		struct store_inbox *v = NULL;
		struct store_client cl = {0};
		struct store_pool pl = {0};
		size_t n = 0;

		if (client != NULL &&
		    store_client_get(cli.store, client, &cl, &err) != 1) {
			fprintf(stderr, "hearth inbox list: no client '%s'\n",
				client);
			cli_close(&cli);
			return EX_NOINPUT;
		}
		if (pool_name != NULL &&
		    store_pool_get(cli.store, pool_name, &pl, &err) != 1) {
			store_client_clear(&cl);
			fprintf(stderr, "hearth inbox list: no pool '%s'\n",
				pool_name);
			cli_close(&cli);
			return EX_NOINPUT;
		}
		ret = store_inbox_list(cli.store, cl.id, pl.id, false, &v, &n,
				       &err);
		store_client_clear(&cl);
		store_pool_clear(&pl);
		if (ret < 0)
			goto fail;
		if (json) {
			json_t *a = json_array();

			for (size_t i = 0; i < n; i++)
				json_array_append_new(a, inbox_json(&v[i]));
			cli_json_print(a);
		} else {
			for (size_t i = 0; i < n; i++)
				printf("%s\t%s\t%s\t%s\n", v[i].address,
				       v[i].provider, v[i].state,
				       v[i].spam_folder != NULL
					   ? v[i].spam_folder
					   : "-");
		}
		store_inbox_list_free(&v, n);
		cli_close(&cli);
		return EX_OK;
	}
	if (optind + 2 != argc) {
		cli_close(&cli);
		return inbox_usage(stderr);
	}
	ret = store_inbox_get(cli.store, argv[optind + 1], &in, &err);
	if (ret < 0)
		goto fail;
	if (ret == 0) {
		fprintf(stderr, "hearth inbox %s: %s is not enrolled\n", sub,
			argv[optind + 1]);
		cli_close(&cli);
		return EX_NOINPUT;
	}
	ret = EX_OK;
	if (strcmp(sub, "show") == 0) {
		struct store_event *ev = NULL;
		size_t n = 0;

		if (store_event_list(cli.store, in.id, 10, &ev, &n, &err) < 0)
			goto fail;
		if (json) {
			json_t *o = inbox_json(&in), *a = json_array();

			for (size_t i = 0; i < n; i++)
				json_array_append_new(
				    a, json_pack("{s:I, s:s, s:o}", "at",
						 (json_int_t)ev[i].at, "kind",
						 ev[i].kind, "detail",
						 cli_json_str(ev[i].detail)));
			json_object_set_new(o, "events", a);
			cli_json_print(o);
		} else {
			printf("address   %s\nprovider  %s\nsmtp      %s:%d "
			       "%s\nimap      %s:%d %s\nusername  %s\n"
			       "secret    %s\nramp      %s%s%s, %s-%s %s\n"
			       "state     %s%s%s\nspam      "
			       "%s\nprobed    %s\n",
			       in.address, in.provider, in.smtp_host,
			       in.smtp_port, in.smtp_security, in.imap_host,
			       in.imap_port, in.imap_security, in.username,
			       in.secret_kind, in.ramp_profile,
			       in.ramp_overrides ? " " : "",
			       in.ramp_overrides ? in.ramp_overrides : "",
			       in.window_start, in.window_end, in.timezone,
			       in.state,
			       in.state_reason ? ": " : "",
			       in.state_reason ? in.state_reason : "",
			       in.spam_folder ? in.spam_folder : "-",
			       in.probe_error ? in.probe_error : "ok");
			for (size_t i = 0; i < n; i++)
				printf("event     %lld %s %s\n",
				       (long long)ev[i].at, ev[i].kind,
				       ev[i].detail ? ev[i].detail : "");
		}
		store_event_list_free(&ev, n);
	} else if (strcmp(sub, "pause") == 0 || strcmp(sub, "resume") == 0) {
		bool pause = strcmp(sub, "pause") == 0;

		if (strcmp(in.state, "removed") == 0) {
			fprintf(stderr, "hearth inbox %s: %s was removed\n",
				sub, in.address);
			ret = EX_DATAERR;
		} else if (store_inbox_set_state(
			       cli.store, in.id, pause ? "paused" : "active",
			       pause ? (reason ? reason
					       : "paused by the "
						 "operator")
				     : NULL,
			       &err) < 0 ||
			   store_event_add(cli.store, cli_now(),
					   pause ? "inbox.paused"
						 : "inbox.resumed",
					   in.id, reason, &err) < 0) {
			goto fail;
		}
	} else if (strcmp(sub, "remove") == 0) {
		if (store_event_add(cli.store, cli_now(), "inbox.removed",
				    in.id, purge ? "purge" : NULL, &err) < 0 ||
		    store_inbox_remove(cli.store, in.id, purge, &err) < 0)
			goto fail;
	} else if (strcmp(sub, "test") == 0) {
		ret = cli_open(&cli, CLI_VAULT);
		if (ret == EX_OK)
			ret = inbox_test(&cli, pool, &in);
	} else {
		store_inbox_clear(&in);
		cli_close(&cli);
		return inbox_usage(stderr);
	}
	store_inbox_clear(&in);
	worker_pool_free(&pool);
	cli_close(&cli);
	return ret;
fail:
	store_inbox_clear(&in);
	worker_pool_free(&pool);
	cli_close(&cli);
	return cli_fail(sub, &err);
}
