// SPDX-License-Identifier: MIT
/*
 * hearth seeds check|sample: load a content corpus (the shipped one, or an
 * operator's own with --seeds DIR) and check it, or render sample messages
 * from it, so that an operator extending the corpus sees what comes out.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "hearth/content.h"
#include "hearth/rng.h"

static int seeds_usage(FILE *out)
{
	fprintf(out,
		"usage: hearth seeds check [--seeds DIR]\n"
		"       hearth seeds sample [--seeds DIR] [--lang LANG] "
		"[--count N] [--seed N] [--reply]\n"
		"\n"
		"check   load the corpus (default: the configured seeds "
		"directory) and report\n"
		"        the first problem as FILE:LINE, or how many topics "
		"each language has\n"
		"sample  render N messages (default 3) from it; the same "
		"--seed gives the same\n"
		"        messages; --reply also renders a reply to each\n");
	return out == stdout ? EX_OK : EX_USAGE;
}

int cmd_seeds(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"seeds", required_argument, NULL, 's'},
	    {"lang", required_argument, NULL, 'l'},
	    {"count", required_argument, NULL, 'n'},
	    {"seed", required_argument, NULL, 'S'},
	    {"reply", no_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *lang = NULL, *sub;
	unsigned long count = 3;
	uint64_t seed = 1;
	bool reply = false;
	struct content_corpus *corpus = NULL;
	struct hearth_err err = {0};
	struct cli cli = {0};
	char *end;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			dir = optarg;
			break;
		case 'l':
			lang = optarg;
			break;
		case 'n':
			count = strtoul(optarg, &end, 10);
			if (*end != '\0' || count == 0 || count > 1000)
				return cli_usage_error(
				    "seeds", "--count takes 1 to 1000");
			break;
		case 'S':
			seed = strtoull(optarg, &end, 10);
			if (*end != '\0')
				return cli_usage_error("seeds",
						       "--seed takes a number");
			break;
		case 'r':
			reply = true;
			break;
		case 'h':
			return seeds_usage(stdout);
		default:
			return seeds_usage(stderr);
		}
	}
	if (optind + 1 != argc)
		return seeds_usage(stderr);
	sub = argv[optind];
	if (strcmp(sub, "check") != 0 && strcmp(sub, "sample") != 0)
		return cli_usage_error("seeds", "'%s' is not check or sample",
				       sub);
	ret = cli_open(&cli, 0);
	if (ret != EX_OK)
		return ret;
	if (dir == NULL)
		dir = cli.cfg->seeds_dir;
	if (lang == NULL)
		lang = cli.cfg->language;
	if (content_corpus_load(dir, &corpus, &err) < 0) {
		cli_close(&cli);
		fprintf(stderr, "hearth seeds: %s\n", err.msg);
		return EX_DATAERR;
	}
	if (!content_corpus_has_lang(corpus, lang)) {
		fprintf(stderr, "hearth seeds: %s has no language '%s'\n", dir,
			lang);
		ret = EX_DATAERR;
		goto out;
	}
	if (strcmp(sub, "check") == 0) {
		if (!cli_globals.quiet)
			printf("%s: %zu topics in '%s'\n", dir,
			       content_corpus_topic_count(corpus, lang), lang);
		goto out;
	}
	for (unsigned long i = 0; i < count; i++) {
		struct content_party a = {"Avery Chen", "avery@alpha.test",
					  "Alpha Consulting"};
		struct content_party b = {"Jordan Patel", "jordan@bravo.test",
					  "Bravo Logistics"};
		uint64_t s = RNG_DERIVE(seed, i, 0);
		time_t date = 1795000000 + (time_t)i * 86400;
		struct content_request req = {.lang = lang,
					      .sender = a,
					      .recipient = b,
					      .seed = s,
					      .date = date};
		struct content_message *msg = NULL, *re = NULL;

		if (content_render(corpus, &req, &msg, &err) < 0) {
			ret = cli_fail("seeds", &err);
			goto out;
		}
		printf("Subject: %s\n\n%s\n", msg->subject, msg->text);
		if (reply) {
			struct content_thread thread = {
			    .subject = msg->subject,
			    .text = msg->text,
			    .topic = msg->topic,
			    .from = &a,
			    .date = date,
			    .root_seed = s,
			    .root_date = date,
			};
			struct content_request rreq = {
			    .lang = lang,
			    .sender = b,
			    .recipient = a,
			    .thread = &thread,
			    .turn = 1,
			    .seed = RNG_DERIVE(seed, i, 1),
			    .date = date + 5400};

			if (content_render(corpus, &rreq, &re, &err) < 0) {
				content_message_free(&msg);
				ret = cli_fail("seeds", &err);
				goto out;
			}
			printf("---- reply ----\nSubject: %s\n\n%s\n",
			       re->subject, re->text);
			content_message_free(&re);
		}
		printf("========\n");
		content_message_free(&msg);
	}
out:
	content_corpus_free(&corpus);
	cli_close(&cli);
	return ret;
}
