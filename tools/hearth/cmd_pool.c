// SPDX-License-Identifier: MIT
/*
 * hearth pool add|list and hearth client add|list|show: the accounts an
 * agency's inboxes are grouped by.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "cli.h"
#include "hearth/content.h"

static bool name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 64)
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		      *p == '.'))
			return false;
	return true;
}

static int pool_usage(FILE *out)
{
	fprintf(out, "usage: hearth pool add NAME [--seed N] [--lang LANG]\n"
		     "       hearth pool list [--json]\n"
		     "\n"
		     "A pool is a set of inboxes that warm each other. Its "
		     "seed makes the\n"
		     "plans reproducible; its language picks the corpus "
		     "(default: the configured one).\n");
	return out == stdout ? EX_OK : EX_USAGE;
}

int cmd_pool(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"seed", required_argument, NULL, 's'},
	    {"lang", required_argument, NULL, 'l'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct hearth_err err = {0};
	struct cli cli = {0};
	const char *lang = NULL;
	bool json = false, have_seed = false;
	uint64_t seed = 0;
	char *end;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			seed = strtoull(optarg, &end, 10);
			if (*end != '\0')
				return cli_usage_error("pool",
						       "--seed takes a number");
			have_seed = true;
			break;
		case 'l':
			lang = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			return pool_usage(stdout);
		default:
			return pool_usage(stderr);
		}
	}
	if (optind >= argc)
		return pool_usage(stderr);
	ret = cli_open(&cli, CLI_STORE);
	if (ret != EX_OK)
		return ret;
	if (strcmp(argv[optind], "add") == 0 && optind + 2 == argc) {
		const char *name = argv[optind + 1];
		int64_t id;

		if (!name_ok(name)) {
			cli_close(&cli);
			return cli_usage_error(
			    "pool", "a pool name is 1 to 64 letters, "
				    "digits, '-', '_' or '.'");
		}
		if (!have_seed &&
		    RAND_bytes((unsigned char *)&seed, sizeof(seed)) != 1)
			seed = (uint64_t)cli_now();
		if (store_pool_add(cli.store, name, seed,
				   lang != NULL ? lang : cli.cfg->language,
				   cli_now(), &id, &err) < 0) {
			cli_close(&cli);
			return cli_fail("pool", &err);
		}
		store_event_add(cli.store, cli_now(), "pool.added", 0, name,
				NULL);
		if (cli_globals.verbose)
			printf("pool %s added\n", name);
	} else if (strcmp(argv[optind], "list") == 0 && optind + 1 == argc) {
		struct store_pool *pools = NULL;
		size_t n = 0;

		if (store_pool_list(cli.store, &pools, &n, &err) < 0) {
			cli_close(&cli);
			return cli_fail("pool", &err);
		}
		if (json) {
			json_t *a = json_array();

			for (size_t i = 0; i < n; i++)
				json_array_append_new(
				    a,
				    json_pack("{s:s, s:s, s:I}", "name",
					      pools[i].name, "lang",
					      pools[i].lang, "created",
					      (json_int_t)pools[i].created_at));
			cli_json_print(a);
		} else {
			for (size_t i = 0; i < n; i++)
				printf("%s\t%s\n", pools[i].name,
				       pools[i].lang);
		}
		store_pool_list_free(&pools, n);
	} else {
		cli_close(&cli);
		return pool_usage(stderr);
	}
	cli_close(&cli);
	return EX_OK;
}

static int client_usage(FILE *out)
{
	fprintf(out,
		"usage: hearth client add NAME [--display-name TEXT]\n"
		"       hearth client list [--json]\n"
		"       hearth client show NAME [--json]\n"
		"\n"
		"A client is the account inboxes belong to (an agency's "
		"customer); reports\n"
		"are per client and never name another client's inboxes.\n");
	return out == stdout ? EX_OK : EX_USAGE;
}

static json_t *client_json(const struct store_client *c)
{
	return json_pack("{s:s, s:o, s:I}", "name", c->name, "display_name",
			 cli_json_str(c->display_name), "created",
			 (json_int_t)c->created_at);
}

int cmd_client(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"display-name", required_argument, NULL, 'd'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct hearth_err err = {0};
	struct cli cli = {0};
	const char *display = NULL, *sub;
	bool json = false;
	int c, ret = EX_OK;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			display = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			return client_usage(stdout);
		default:
			return client_usage(stderr);
		}
	}
	if (optind >= argc)
		return client_usage(stderr);
	sub = argv[optind];
	ret = cli_open(&cli, CLI_STORE);
	if (ret != EX_OK)
		return ret;
	if (strcmp(sub, "add") == 0 && optind + 2 == argc) {
		int64_t id;

		if (!name_ok(argv[optind + 1])) {
			cli_close(&cli);
			return cli_usage_error(
			    "client", "a client name is 1 to 64 letters, "
				      "digits, '-', '_' or '.'");
		}
		if (store_client_add(cli.store, argv[optind + 1], display,
				     cli_now(), &id, &err) < 0)
			goto fail;
		store_event_add(cli.store, cli_now(), "client.added", 0,
				argv[optind + 1], NULL);
	} else if (strcmp(sub, "list") == 0 && optind + 1 == argc) {
		struct store_client *clients = NULL;
		size_t n = 0;

		if (store_client_list(cli.store, &clients, &n, &err) < 0)
			goto fail;
		if (json) {
			json_t *a = json_array();

			for (size_t i = 0; i < n; i++)
				json_array_append_new(a,
						      client_json(&clients[i]));
			cli_json_print(a);
		} else {
			for (size_t i = 0; i < n; i++)
				printf("%s\t%s\n", clients[i].name,
				       clients[i].display_name != NULL
					   ? clients[i].display_name
					   : "");
		}
		store_client_list_free(&clients, n);
	} else if (strcmp(sub, "show") == 0 && optind + 2 == argc) {
		struct store_client cl = {0};
		struct store_inbox *inboxes = NULL;
		size_t n = 0;

		ret = store_client_get(cli.store, argv[optind + 1], &cl, &err);
		if (ret < 0)
			goto fail;
		if (ret == 0) {
			fprintf(stderr, "hearth client: no client '%s'\n",
				argv[optind + 1]);
			cli_close(&cli);
			return EX_NOINPUT;
		}
		if (store_inbox_list(cli.store, cl.id, 0, false, &inboxes, &n,
				     &err) < 0) {
			store_client_clear(&cl);
			goto fail;
		}
		if (json) {
			json_t *o = client_json(&cl);
			json_t *a = json_array();

			for (size_t i = 0; i < n; i++)
				json_array_append_new(
				    a, json_pack("{s:s, s:s}", "address",
						 inboxes[i].address, "state",
						 inboxes[i].state));
			json_object_set_new(o, "inboxes", a);
			cli_json_print(o);
		} else {
			printf("client  %s%s%s\ninboxes %zu\n", cl.name,
			       cl.display_name != NULL ? " - " : "",
			       cl.display_name != NULL ? cl.display_name : "",
			       n);
			for (size_t i = 0; i < n; i++)
				printf("  %s\t%s\n", inboxes[i].address,
				       inboxes[i].state);
		}
		store_inbox_list_free(&inboxes, n);
		store_client_clear(&cl);
		ret = EX_OK;
	} else {
		cli_close(&cli);
		return client_usage(stderr);
	}
	cli_close(&cli);
	return ret;
fail:
	cli_close(&cli);
	return cli_fail("client", &err);
}
