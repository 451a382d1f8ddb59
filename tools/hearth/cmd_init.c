// SPDX-License-Identifier: MIT
/*
 * hearth init: the data directory (0700), the vault key file (0600), the
 * database, the install's own token header name, and a pool and a client
 * both named "default". Running it again checks what is there and changes
 * nothing.
 */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "cli.h"
#include "hearth/message.h"
#include "hearth/xalloc.h"

/* mkdir -p with mode for the directories created. */
static int mkdirs(const char *path, mode_t mode)
{
	char *copy = xstrdup(path);
	int ret = 0;

	for (char *p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST)
			ret = -1;
		*p = '/';
	}
	if (ret == 0 && mkdir(copy, mode) < 0 && errno != EEXIST)
		ret = -1;
	free(copy);
	return ret;
}

static int mkparent(const char *file)
{
	char *copy = xstrdup(file);
	int ret = mkdirs(dirname(copy), 0700);

	free(copy);
	return ret;
}

/*
 * A header name of the install's own, so that hearth installs share no
 * header a filter could learn: two plausible words, chosen at random.
 */
static char *token_header_new(void)
{
	static const char *const first[] = {
	    "Entity", "Ref",  "Thread", "Msg",	  "Doc",   "Item",
	    "Trace",  "Note", "Record", "Origin", "Batch", "Case",
	};
	static const char *const second[] = {"Id",  "Key",  "Ref",
					     "Tag", "Code", "Ident"};
	unsigned char r[2];

	if (RAND_bytes(r, sizeof(r)) != 1)
		r[0] = r[1] = 0;
	return xasprintf("X-%s-%s", first[r[0] % 12], second[r[1] % 6]);
}

int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct hearth_err err = {0};
	struct cli cli = {0};
	struct store_pool pool = {0};
	struct store_client client = {0};
	char *header = NULL;
	bool fresh_key = false;
	int64_t id;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: hearth init\n\n"
			       "Create the data directory, the vault key file "
			       "(unless $HEARTH_VAULT_KEY\n"
			       "is set) and the database named by the "
			       "configuration, with a pool and a\n"
			       "client named \"default\". Run again, it "
			       "checks what exists and changes nothing.\n");
			return EX_OK;
		}
		return cli_usage_error("init", "unknown option");
	}
	if (optind != argc)
		return cli_usage_error("init", "takes no arguments");
	ret = cli_open(&cli, 0);
	if (ret != EX_OK)
		return ret;
	if (mkdirs(cli.cfg->data_dir, 0700) < 0 ||
	    mkparent(cli.cfg->database) < 0 ||
	    mkparent(cli.cfg->key_file) < 0) {
		fprintf(stderr, "hearth init: cannot create %s: %s\n",
			cli.cfg->data_dir, strerror(errno));
		cli_close(&cli);
		return EX_CANTCREAT;
	}
	if (getenv(VAULT_KEY_ENV) == NULL &&
	    access(cli.cfg->key_file, F_OK) < 0) {
		if (vault_key_create(cli.cfg->key_file, &err) < 0) {
			cli_close(&cli);
			fprintf(stderr, "hearth init: %s\n", err.msg);
			return EX_CANTCREAT;
		}
		fresh_key = true;
	}
	ret = cli_open(&cli, CLI_VAULT);
	if (ret != EX_OK)
		return ret;
	if (store_open(cli.cfg->database, &cli.store, &err) < 0)
		goto fail;
	if (store_setting_get(cli.store, "token_header", &header, &err) < 0)
		goto fail;
	if (header == NULL) {
		header = token_header_new();
		if (!message_token_name_ok(header) ||
		    store_setting_set(cli.store, "token_header", header, &err) <
			0)
			goto fail;
	}
	ret = store_pool_get(cli.store, "default", &pool, &err);
	store_pool_clear(&pool);
	if (ret < 0)
		goto fail;
	if (ret == 0) {
		uint64_t seed;

		if (RAND_bytes((unsigned char *)&seed, sizeof(seed)) != 1)
			seed = (uint64_t)cli_now();
		if (store_pool_add(cli.store, "default", seed,
				   cli.cfg->language, cli_now(), &id, &err) < 0)
			goto fail;
	}
	ret = store_client_get(cli.store, "default", &client, &err);
	store_client_clear(&client);
	if (ret < 0)
		goto fail;
	if (ret == 0 && store_client_add(cli.store, "default", NULL, cli_now(),
					 &id, &err) < 0)
		goto fail;
	store_event_add(cli.store, cli_now(), "init", 0,
			fresh_key ? "new vault key" : "checked", NULL);
	if (!cli_globals.quiet)
		printf("database  %s\nvault key %s%s\ntoken header %s\n",
		       cli.cfg->database,
		       getenv(VAULT_KEY_ENV) != NULL ? "from $" VAULT_KEY_ENV
						     : cli.cfg->key_file,
		       fresh_key ? " (new: back it up; without it no stored "
				   "secret can be read)"
				 : "",
		       header);
	free(header);
	cli_close(&cli);
	return EX_OK;
fail:
	free(header);
	cli_close(&cli);
	return cli_fail("init", &err);
}
