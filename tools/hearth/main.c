// SPDX-License-Identifier: MIT
/*
 * hearth: the command line. Each command is one entry of the table below with
 * its own getopt_long parsing and --help; exit codes come from sysexits.h.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "hearth/version.h"

struct command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

static int cmd_version(int argc, char **argv);

static const struct command commands[] = {
    {"version", "print the version and exit", cmd_version},
};

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: hearth [--version] [--help] COMMAND [ARGS...]\n"
	    "\n"
	    "hearth is a self-hosted email warmup engine: the inboxes of a\n"
	    "private pool send each other natural mail, rescue it from spam,\n"
	    "engage with it and ramp their volume, and hearth reports which\n"
	    "inboxes are ready for cold outreach.\n"
	    "\n"
	    "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		fprintf(out, "  %-12s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out, "\n'hearth COMMAND --help' describes a command.\n");
}

static int cmd_version(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

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
	    {NULL, 0, NULL, 0},
	};
	int c;

	/* '+': stop at the command name; its options are its own. */
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return EX_OK;
		case 'V':
			printf("hearth %s\n", HEARTH_VERSION);
			return EX_OK;
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
