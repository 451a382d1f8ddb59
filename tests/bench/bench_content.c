// SPDX-License-Identifier: MIT
/*
 * How varied is the mail the shipped corpus makes? Renders COUNT first
 * messages (default 10,000) between the inboxes of a made-up pool of 240,
 * over four weeks, and prints:
 *   - the share of distinct subjects and of distinct text bodies (goal: above
 *     99% each),
 *   - the mean Jaccard similarity of the bodies' sets of word 3-grams over
 *     PAIRS random pairs (default 2,000; goal: below 0.1), and the same over
 *     pairs written on one topic, the hardest case,
 *   - the share of distinct first-reply bodies (above the quote),
 *   - renderings per second.
 * Exits 1 when a goal is missed, never because of a timing.
 *
 * usage: bench_content [SEEDS_DIR [COUNT [PAIRS]]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hearth/content.h"
#include "hearth/rng.h"
#include "hearth/xalloc.h"

/* A made-up pool: names and domains of 240 inboxes (40 x 30 x 24). */
/* clang-format off */
static const char firsts[] =
	"Anna Ben Carla David Elena Farid Grace Hugo Ines Jonas Keiko Liam "
	"Maria Nikhil Olga Pedro Quinn Rosa Sam Tanja Umar Vera Wendy Xavier "
	"Yusuf Zoe Aisha Bruno Chloe Dmitri Emma Felix Greta Hana Ivan Julia "
	"Kofi Lena Marco Nora";
/* clang-format on */
/* clang-format off */
static const char lasts[] =
	"Berg Okafor Lindqvist Moreau Tanaka Schmidt Novak Rossi Kowalski "
	"Haddad Jensen Silva Walsh Petrov Nguyen Fischer Duarte Khan Murphy "
	"Costa Weber Ali Hansen Lopez Brennan Sato Varga Quinn Ortiz Meyer";
/* clang-format on */
/* clang-format off */
static const char domains[] =
	"northwind-supply.com alderlane.co.uk brightpath.io "
	"kestrel-analytics.com mapleforge.net tidewater-logistics.com "
	"harborview.org copperleaf.de summitcrest.com bluepine-labs.com "
	"redfern.com.au oakridge-consulting.com silverline.fr greenmoor.com "
	"ironbridge-works.com lakeshore.io westbrook-group.com pinecone.co "
	"stonegate.com riverbend-health.org fairway-partners.com "
	"clearwater.nl highfield.co.uk ambertrail.com";
/* clang-format on */

#define POOL 240

struct inbox {
	char name[64];
	char addr[128];
};

struct grams {
	uint64_t *h;
	size_t n;
};

static double now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static size_t distinct(char **v, size_t n)
{
	size_t d = n > 0;

	qsort(v, n, sizeof(*v), str_cmp);
	for (size_t i = 1; i < n; i++)
		d += strcmp(v[i - 1], v[i]) != 0;
	return d;
}

/* The most repeated strings of a sorted array, for whoever tunes a corpus. */
static void print_repeats(char **v, size_t n, const char *what)
{
	enum { TOP = 5 };
	size_t best[TOP] = {0}, at[TOP] = {0};

	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		while (j < n && strcmp(v[i], v[j]) == 0)
			j++;
		for (int k = 0; k < TOP; k++) {
			if (j - i > best[k] && j - i > 1) {
				memmove(best + k + 1, best + k,
					(TOP - k - 1) * sizeof(*best));
				memmove(at + k + 1, at + k,
					(TOP - k - 1) * sizeof(*at));
				best[k] = j - i;
				at[k] = i;
				break;
			}
		}
		i = j;
	}
	for (int k = 0; k < TOP && best[k] > 0; k++)
		printf("  repeated %s %zux: %.60s\n", what, best[k], v[at[k]]);
}

static bool word_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '\'' || ch >= 0x80;
}

/* The set of word 3-grams of a text, as sorted distinct 64-bit hashes. */
static struct grams grams_of(const char *text)
{
	struct grams g = {0};
	uint64_t words[3] = {0};
	size_t nwords = 0, cap = 0;
	const unsigned char *s = (const unsigned char *)text;

	while (*s != '\0') {
		uint64_t h = 0xcbf29ce484222325ULL;

		if (!word_char(*s)) {
			s++;
			continue;
		}
		for (; word_char(*s); s++) {
			unsigned char ch = *s;

			if (ch >= 'A' && ch <= 'Z')
				ch = (unsigned char)(ch - 'A' + 'a');
			h = (h ^ ch) * 0x100000001b3ULL;
		}
		words[0] = words[1];
		words[1] = words[2];
		words[2] = h;
		if (++nwords < 3)
			continue;
		if (g.n == cap) {
			cap = cap ? cap * 2 : 64;
			g.h = xreallocarray(g.h, cap, sizeof(*g.h));
		}
		g.h[g.n++] = RNG_DERIVE(words[0], words[1], words[2]);
	}
	if (g.n > 0) {
		size_t o = 1;

		qsort(g.h, g.n, sizeof(*g.h), u64_cmp);
		for (size_t i = 1; i < g.n; i++)
			if (g.h[i] != g.h[o - 1])
				g.h[o++] = g.h[i];
		g.n = o;
	}
	return g;
}

static double jaccard(const struct grams *a, const struct grams *b)
{
	size_t i = 0, j = 0, both = 0;

	while (i < a->n && j < b->n) {
		if (a->h[i] == b->h[j]) {
			both++;
			i++;
			j++;
		} else if (a->h[i] < b->h[j]) {
			i++;
		} else {
			j++;
		}
	}
	if (a->n + b->n - both == 0)
		return 1.0;
	return (double)both / (double)(a->n + b->n - both);
}

/* Word number i of a space-separated list, lower-cased if `lower`. */
static void word(const char *list, int i, bool lower, char *out, size_t size)
{
	const char *s = list;
	size_t n, k;

	for (; i > 0; i--)
		s += strcspn(s, " ") + 1;
	n = strcspn(s, " ");
	for (k = 0; k < n && k + 1 < size; k++)
		out[k] = (char)(lower && s[k] >= 'A' && s[k] <= 'Z'
				    ? s[k] - 'A' + 'a'
				    : s[k]);
	out[k] = '\0';
}

static void make_pool(struct inbox *pool)
{
	for (int i = 0; i < POOL; i++) {
		char f[32], l[32], lf[32], ll[32], d[40];

		word(firsts, i % 40, false, f, sizeof(f));
		word(firsts, i % 40, true, lf, sizeof(lf));
		word(lasts, (i * 7 + i / 40) % 30, false, l, sizeof(l));
		word(lasts, (i * 7 + i / 40) % 30, true, ll, sizeof(ll));
		word(domains, (i * 5 + i / 24) % 24, false, d, sizeof(d));
		snprintf(pool[i].name, sizeof(pool[i].name), "%s %s", f, l);
		snprintf(pool[i].addr, sizeof(pool[i].addr), "%s.%s@%s", lf, ll,
			 d);
	}
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : HEARTH_SEEDS_DIR;
	size_t count = argc > 2 ? strtoul(argv[2], NULL, 10) : 10000;
	size_t pairs = argc > 3 ? strtoul(argv[3], NULL, 10) : 2000;
	struct content_corpus *corpus = NULL;
	struct hearth_err err = {0};
	static struct inbox pool[POOL];
	char **subjects, **bodies, **topics, **replies, **sorted;
	struct grams *grams;
	struct rng rng;
	double t0, secs, sum = 0, sum_same = 0, share_subj, share_body;
	double share_reply, mean, mean_same;
	size_t n_same = 0, reply_secs_count = 0;
	double reply_secs;
	int ret = 0;

	if (count < 2 || pairs < 1) {
		fprintf(stderr, "usage: bench_content [SEEDS_DIR [COUNT "
				"[PAIRS]]]\n");
		return 2;
	}
	if (content_corpus_load(dir, &corpus, &err) < 0) {
		fprintf(stderr, "bench_content: %s\n", err.msg);
		return 1;
	}
	make_pool(pool);
	subjects = xcalloc(count, sizeof(*subjects));
	bodies = xcalloc(count, sizeof(*bodies));
	topics = xcalloc(count, sizeof(*topics));
	replies = xcalloc(count, sizeof(*replies));
	sorted = xcalloc(count, sizeof(*sorted));
	rng_seed(&rng, 20240601);

	t0 = now_secs();
	for (size_t i = 0; i < count; i++) {
		size_t s = rng_uniform(&rng, POOL);
		size_t r = (s + 1 + rng_uniform(&rng, POOL - 1)) % POOL;
		struct content_request req = {
		    .sender = {pool[s].name, pool[s].addr, NULL},
		    .recipient = {pool[r].name, pool[r].addr, NULL},
		    .seed = RNG_DERIVE(0x5eed, i),
		    /* four weeks from Monday 2024-06-03, office hours */
		    .date = 1717405200 + (time_t)(i % 28) * 86400 +
			    (time_t)rng_uniform(&rng, 8 * 3600),
		};
		struct content_message *msg = NULL;

		if (content_render(corpus, &req, &msg, &err) < 0) {
			fprintf(stderr, "bench_content: %s\n", err.msg);
			return 1;
		}
		subjects[i] = msg->subject;
		bodies[i] = msg->text;
		topics[i] = msg->topic;
		free(msg->html);
		free(msg);
	}
	secs = now_secs() - t0;

	/* first replies to each of them, for reply variety */
	t0 = now_secs();
	for (size_t i = 0; i < count; i++) {
		struct content_party a = {"Anna Berg",
					  "anna.berg@alderlane.co.uk", NULL};
		struct content_party b = {"Ben Okafor",
					  "ben.okafor@brightpath.io", NULL};
		struct content_thread th = {
		    .subject = subjects[i],
		    .text = bodies[i],
		    .topic = topics[i],
		    .date = 1717405200,
		};
		struct content_request req = {
		    .sender = b,
		    .recipient = a,
		    .thread = &th,
		    .turn = 1,
		    .seed = RNG_DERIVE(0x5eed, i, 1),
		    .date = 1717405200 + 3600,
		};
		struct content_message *msg = NULL;
		char *cut;

		if (content_render(corpus, &req, &msg, &err) < 0) {
			fprintf(stderr, "bench_content: %s\n", err.msg);
			return 1;
		}
		/* only what the reply says, not what it quotes */
		cut = strstr(msg->text, "\n\nOn ");
		if (cut != NULL)
			*cut = '\0';
		replies[i] = msg->text;
		msg->text = NULL;
		content_message_free(&msg);
		reply_secs_count++;
	}
	reply_secs = now_secs() - t0;

	grams = xcalloc(count, sizeof(*grams));
	for (size_t i = 0; i < count; i++)
		grams[i] = grams_of(bodies[i]);
	for (size_t k = 0; k < pairs; k++) {
		size_t i = rng_uniform(&rng, count);
		size_t j = (i + 1 + rng_uniform(&rng, count - 1)) % count;

		sum += jaccard(&grams[i], &grams[j]);
	}
	/* pairs on one topic: draw until `pairs` of them are found */
	for (size_t tries = 0; n_same < pairs && tries < pairs * 1000;
	     tries++) {
		size_t i = rng_uniform(&rng, count);
		size_t j = (i + 1 + rng_uniform(&rng, count - 1)) % count;

		if (strcmp(topics[i], topics[j]) != 0)
			continue;
		sum_same += jaccard(&grams[i], &grams[j]);
		n_same++;
	}
	mean = sum / (double)pairs;
	mean_same = n_same > 0 ? sum_same / (double)n_same : 0;

	memcpy(sorted, bodies, count * sizeof(*sorted));
	share_body = 100.0 * (double)distinct(sorted, count) / (double)count;
	memcpy(sorted, replies, count * sizeof(*sorted));
	share_reply = 100.0 * (double)distinct(sorted, count) / (double)count;
	memcpy(sorted, subjects, count * sizeof(*sorted));
	share_subj = 100.0 * (double)distinct(sorted, count) / (double)count;

	printf("corpus                      %s (%zu topics)\n", dir,
	       content_corpus_topic_count(corpus, "en"));
	printf("renderings                  %zu\n", count);
	printf("distinct subjects           %.2f%% (goal > 99%%)\n",
	       share_subj);
	printf("distinct bodies             %.2f%% (goal > 99%%)\n",
	       share_body);
	printf("mean Jaccard, 3-grams       %.4f over %zu pairs "
	       "(goal < 0.1)\n",
	       mean, pairs);
	printf("  same-topic pairs only     %.4f over %zu pairs\n", mean_same,
	       n_same);
	printf("distinct first replies      %.2f%%\n", share_reply);
	printf("renderings per second       %.0f (first messages)\n",
	       (double)count / secs);
	printf("                            %.0f (replies with quote)\n",
	       (double)reply_secs_count / reply_secs);
	print_repeats(sorted, count, "subject");
	if (share_subj <= 99.0 || share_body <= 99.0 || mean >= 0.1) {
		printf("GOAL MISSED\n");
		ret = 1;
	}

	for (size_t i = 0; i < count; i++) {
		free(subjects[i]);
		free(bodies[i]);
		free(topics[i]);
		free(replies[i]);
		free(grams[i].h);
	}
	free(subjects);
	free(bodies);
	free(topics);
	free(replies);
	free(sorted);
	free(grams);
	content_corpus_free(&corpus);
	return ret;
}
