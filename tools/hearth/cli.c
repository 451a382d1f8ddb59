// SPDX-License-Identifier: MIT
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "hearth/log.h"

struct cli_globals cli_globals;

int cli_exit_code(enum hearth_fail fail)
{
	switch (fail) {
	case HEARTH_FAIL_NONE:
		return EX_OK;
	case HEARTH_FAIL_RETRY:
	case HEARTH_FAIL_BACKOFF:
		return EX_TEMPFAIL;
	case HEARTH_FAIL_AUTH:
		return EX_NOPERM;
	case HEARTH_FAIL_TLS:
		return EX_PROTOCOL;
	case HEARTH_FAIL_PERMANENT:
		break;
	}
	return EX_DATAERR;
}

int cli_fail(const char *cmd, const struct hearth_err *err)
{
	fprintf(stderr, "hearth %s: %s\n", cmd, err->msg);
	return cli_exit_code(err->fail);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hearth %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; see 'hearth %s --help'\n", cmd);
	return EX_USAGE;
}

int cli_open(struct cli *cli, unsigned flags)
{
	struct hearth_err err = {0};
	enum log_level level;
	struct stat st;

	if (cli->cfg == NULL) {
		if (config_load(cli_globals.config_path, &cli->cfg, &err) < 0) {
			fprintf(stderr, "hearth: %s\n", err.msg);
			return EX_CONFIG;
		}
		if (log_level_parse(cli->cfg->log_level, &level) == 0)
			log_set_level(level);
	}
	if ((flags & CLI_STORE) && cli->store == NULL) {
		if (stat(cli->cfg->database, &st) < 0) {
			fprintf(stderr,
				"hearth: no database at %s: run 'hearth init' "
				"first (or name another with --config)\n",
				cli->cfg->database);
			cli_close(cli);
			return EX_NOINPUT;
		}
		if (store_open(cli->cfg->database, &cli->store, &err) < 0) {
			fprintf(stderr, "hearth: %s\n", err.msg);
			cli_close(cli);
			return cli_exit_code(err.fail);
		}
	}
	if ((flags & CLI_VAULT) && cli->vault == NULL &&
	    vault_open(cli->cfg->key_file, &cli->vault, &err) < 0) {
		fprintf(stderr, "hearth: %s\n", err.msg);
		cli_close(cli);
		return EX_NOPERM;
	}
	return EX_OK;
}

void cli_close(struct cli *cli)
{
	vault_close(&cli->vault);
	store_close(&cli->store);
	config_free(&cli->cfg);
}

void cli_json_print(json_t *value)
{
	char *text = json_dumps(value, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (text != NULL) {
		puts(text);
		free(text);
	}
	json_decref(value);
}

json_t *cli_json_str(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

int64_t cli_now(void)
{
	return (int64_t)time(NULL);
}
