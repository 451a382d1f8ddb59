/* SPDX-License-Identifier: MIT */
/*
 * cli: what the commands of tools/hearth share: the command table, option
 * helpers, opening the configuration, store and vault, mapping errors to
 * sysexits.h codes with one line on stderr, and JSON output (jansson).
 */
#ifndef HEARTH_CLI_H
#define HEARTH_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <sysexits.h>

#include <jansson.h>

#include "hearth/config.h"
#include "hearth/err.h"
#include "hearth/store.h"
#include "hearth/vault.h"

/* Global options, parsed before the command name. */
struct cli_globals {
	const char *config_path; /* --config, or NULL */
	bool quiet;		 /* --quiet: nothing on stdout on success */
	bool verbose;		 /* --verbose: say what was done */
};
extern struct cli_globals cli_globals;

/* What a command opened; cli_close() releases all of it. */
struct cli {
	struct config *cfg;
	struct store *store;
	struct vault *vault;
};

enum cli_open_flags {
	CLI_STORE = 1 << 0, /* the database must exist (hearth init made it) */
	CLI_VAULT = 1 << 1, /* the vault key */
};

/* Open what flags ask for, and the configuration, on a zeroed struct;
 * calling again opens what was not yet open. On failure print why and
 * return the exit code (non-zero), everything closed. */
int cli_open(struct cli *cli, unsigned flags);
void cli_close(struct cli *cli);

/* Print "hearth CMD: MSG" on stderr; the sysexits code for err's class. */
int cli_fail(const char *cmd, const struct hearth_err *err);
/* Print a usage error and return EX_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The sysexits code for a failure class. */
int cli_exit_code(enum hearth_fail fail);

/* Print a JSON value (stolen) on stdout, indented, and a newline. */
void cli_json_print(json_t *value);
/* A JSON string or null. */
json_t *cli_json_str(const char *s);

/* The seconds of the wall clock (the command line may read the clock). */
int64_t cli_now(void);

/* The subcommands. */
int cmd_seeds(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_pool(int argc, char **argv);
int cmd_client(int argc, char **argv);
int cmd_inbox(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_check(int argc, char **argv);

#endif
