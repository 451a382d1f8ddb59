// SPDX-License-Identifier: MIT
/*
 * Fuzz target for the bounce and auto-reply recogniser: any bytes as one
 * raw message, classified with the shipped patterns and without. It never
 * fails, reads nothing past the input, and every result keeps the promises
 * of include/hearth/bounce.h (one printable line of reason, ids and tokens
 * of their shape, flags that agree with the kind). The first input byte
 * also picks whether the patterns are used, so both paths are explored.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "hearth/bounce.h"

static struct bounce_patterns *patterns;

static void load_patterns(void)
{
	struct hearth_err err = {0};

	if (patterns != NULL)
		return;
	if (bounce_patterns_load(HEARTH_SOURCE_DIR
				 "/seeds/bounce-patterns.conf",
				 &patterns, &err) < 0) {
		fprintf(stderr, "fuzz_bounce: %s\n", err.msg);
		abort();
	}
}

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/* Printable ASCII; with spaces: single ones, not at either end. */
static bool line_ok(const char *s, bool spaces)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		if (s[i] < (spaces ? ' ' : '!') || s[i] > '~')
			return false;
		if (s[i] == ' ' && (i == 0 || i + 1 == n || s[i + 1] == ' '))
			return false;
	}
	return true;
}

static void check(const struct bounce_info *in, enum bounce_kind k)
{
	size_t ml;

	if (k != in->kind || k > BOUNCE_AUTOREPLY)
		__builtin_trap();
	if (!terminated(in->status, sizeof(in->status)) ||
	    !terminated(in->recipient, sizeof(in->recipient)) ||
	    !terminated(in->reason, sizeof(in->reason)) ||
	    !terminated(in->message_id, sizeof(in->message_id)) ||
	    !terminated(in->token, sizeof(in->token)))
		__builtin_trap();
	if (k == BOUNCE_NONE) {
		if (in->undelivered || in->permanent || in->status[0] ||
		    in->recipient[0] || in->reason[0] || in->message_id[0] ||
		    in->token[0])
			__builtin_trap();
		return;
	}
	if (in->permanent && !in->undelivered)
		__builtin_trap();
	if (k == BOUNCE_AUTOREPLY && (in->undelivered || in->status[0]))
		__builtin_trap();
	if (!line_ok(in->reason, true) || !line_ok(in->token, false) ||
	    !line_ok(in->status, false) || !line_ok(in->message_id, false))
		__builtin_trap();
	if (in->status[0] != '\0' &&
	    (strchr("245", in->status[0]) == NULL || in->status[1] != '.'))
		__builtin_trap();
	ml = strlen(in->message_id);
	if (ml > 0 && (ml < 3 || in->message_id[0] != '<' ||
		       in->message_id[ml - 1] != '>'))
		__builtin_trap();
	for (const char *r = in->recipient; *r != '\0'; r++)
		if ((unsigned char)*r <= ' ' || *r == 0x7f)
			__builtin_trap();
	if (in->recipient[0] != '\0' && strchr(in->recipient, '@') == NULL)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bounce_info in;
	bool with = size == 0 || (data[0] & 1) == 0;
	enum bounce_kind k;

	load_patterns();
	k = bounce_parse((const char *)data, size, with ? patterns : NULL,
			 "X-Ref-Token", &in);
	check(&in, k);
	/* without patterns: never a text bounce, a DSN stays one */
	if (with) {
		struct bounce_info bare;
		enum bounce_kind k2 =
		    bounce_parse((const char *)data, size, NULL, NULL, &bare);

		check(&bare, k2);
		if (k2 == BOUNCE_TEXT ||
		    (k == BOUNCE_DSN) != (k2 == BOUNCE_DSN))
			__builtin_trap();
		if (bare.token[0] != '\0')
			__builtin_trap();
	}
	return 0;
}
