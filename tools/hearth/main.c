// SPDX-License-Identifier: MIT
/*
 * hearth: the command line. Each command is one entry of the table below with
 * its own getopt_long parsing and --help; exit codes come from sysexits.h.
 * Global options (--config, --quiet, --verbose) come before the command.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "hearth/version.h"

struct command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

static int cmd_version(int argc, char **argv);

static const struct command commands[] = {
    {"init", "create the data directory, vault key and database", cmd_init},
    {"pool", "add or list pools (inboxes that warm each other)", cmd_pool},
    {"client", "add, list or show clients (whose inboxes they are)",
     cmd_client},
    {"inbox", "enroll, import, list, show, test, pause, resume, remove",
     cmd_inbox},
    {"run", "run the warmup engine (the daemon) on the real clock", cmd_run},
    {"simulate", "run the engine on a virtual clock against the mail lab",
     cmd_simulate},
    {"status", "today's plan and progress, failures, paused inboxes",
     cmd_status},
    {"report", "readiness for cold outreach per inbox, domain and client",
     cmd_report},
    {"check", "deliverability checks of a domain: SPF, DKIM, DMARC, MX, lists",
     cmd_check},
    {"seeds", "check the content corpus or render sample messages", cmd_seeds},
    {"version", "print the version and exit", cmd_version},
};

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: hearth [--config FILE] [--quiet] [--verbose] "
	    "COMMAND [ARGS...]\n"
	    "       hearth --version | --help\n"
	    "\n"
	    "hearth is a self-hosted email warmup engine: the inboxes of a\n"
	    "private pool send each other natural mail, rescue it from spam,\n"
	    "engage with it and ramp their volume, and hearth reports which\n"
	    "inboxes are ready for cold outreach.\n"
	    "\n"
	    "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		fprintf(out, "  %-9s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out,
		"\n"
		"--config FILE  the configuration (default: $HEARTH_CONFIG, "
		"then\n"
		"               ~/.config/hearth/hearth.conf if it exists, "
		"else defaults)\n"
		"'hearth COMMAND --help' describes a command.\n");
}

static int cmd_version(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	(void)argv;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: hearth version\n\n"
			       "Print hearth's version and exit.\n");
			return EX_OK;
		}
		fprintf(stderr, "usage: hearth version\n");
		return EX_USAGE;
	}
	if (optind != argc) {
		fprintf(stderr, "hearth version: takes no arguments\n");
		return EX_USAGE;
	}
	printf("hearth %s\n", HEARTH_VERSION);
	return EX_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"config", required_argument, NULL, 'c'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"verbose", no_argument, NULL, 'v'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	/* Writes to a closed socket are errors, not deaths. */
	signal(SIGPIPE, SIG_IGN);
	/* '+': stop at the command name; its options are its own. */
	while ((c = getopt_long(argc, argv, "+hVc:qv", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return EX_OK;
		case 'V':
			printf("hearth %s\n", HEARTH_VERSION);
			return EX_OK;
		case 'c':
			cli_globals.config_path = optarg;
			break;
		case 'q':
			cli_globals.quiet = true;
			break;
		case 'v':
			cli_globals.verbose = true;
			break;
		default:
			fprintf(stderr, "try 'hearth --help'\n");
			return EX_USAGE;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return EX_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			/* The command parses its own argv from its name on. */
			argc -= optind;
			argv += optind;
			optind = 0;
			return commands[i].run(argc, argv);
		}
	}
	fprintf(stderr,
		"hearth: '%s' is not a command; 'hearth --help' lists them\n",
		argv[optind]);
	return EX_USAGE;
}
