/* SPDX-License-Identifier: MIT */
/*
 * content_private: the compiled corpus, shared by the loader
 * (content_parse.c) and the writer (content.c).
 *
 * Every corpus entry compiles to a sequence of nodes: literal text, a
 * placeholder, or a group of alternatives, each alternative a sequence
 * again. Nodes, sequences and text live in three arrays of the corpus and
 * refer to each other by index, so a corpus is a handful of allocations
 * whatever its size.
 */
#ifndef HEARTH_CONTENT_PRIVATE_H
#define HEARTH_CONTENT_PRIVATE_H

#include <stdint.h>

#include "hearth/content.h"

enum content_node_kind {
	/* a = offset in corpus text, b = length */
	CONTENT_NODE_TEXT,
	/* a = placeholder id (enum content_var or CONTENT_VAR_LIST + i) */
	CONTENT_NODE_VAR,
	/* a = first sequence, b = number of alternatives (contiguous) */
	CONTENT_NODE_ALT,
	/* a placeholder not yet resolved: a, b = its name in corpus text */
	CONTENT_NODE_REF,
};

struct content_node {
	uint32_t kind;
	uint32_t a;
	uint32_t b;
};

/* nodes[first .. first + count) */
struct content_seq {
	uint32_t first;
	uint32_t count;
};

/* Built-in placeholders; the names are in content_var_names. */
enum content_var {
	CONTENT_VAR_FIRST_NAME,
	CONTENT_VAR_RECIPIENT_NAME,
	CONTENT_VAR_SENDER_FIRST,
	CONTENT_VAR_SENDER_NAME,
	CONTENT_VAR_COMPANY,
	CONTENT_VAR_SENDER_COMPANY,
	CONTENT_VAR_WEEKDAY,
	CONTENT_VAR_DATE,
	CONTENT_VAR_DAY,
	CONTENT_VAR_MONTH,
	CONTENT_VAR_THIS_MONTH,
	CONTENT_VAR_NEXT_MONTH,
	CONTENT_VAR_TIME,
	CONTENT_VAR_QUOTE_NAME,
	CONTENT_VAR_QUOTE_WEEKDAY,
	CONTENT_VAR_QUOTE_DATE,
	CONTENT_VAR_QUOTE_TIME,
	CONTENT_VAR_COUNT,
};
/* Placeholder id of the corpus list number i of a language. */
#define CONTENT_VAR_LIST 64

/* Where an entry stands decides which placeholders it may use. */
enum content_ctx {
	/* weekdays, months: plain words */
	CONTENT_CTX_NONE,
	/* the message: built-ins about people and dates, and lists */
	CONTENT_CTX_TEXT,
	/* a list entry: as text, but no list (lists do not nest) */
	CONTENT_CTX_LIST,
	/* the attribution line of a reply: the quote_* built-ins only */
	CONTENT_CTX_ATTR,
};

enum content_sec {
	CONTENT_SEC_WEEKDAYS,
	CONTENT_SEC_MONTHS,
	CONTENT_SEC_ATTRIBUTIONS,
	CONTENT_SEC_GREETINGS,
	CONTENT_SEC_OPENERS,
	CONTENT_SEC_CLOSINGS,
	CONTENT_SEC_SIGNOFFS,
	CONTENT_SEC_REPLY_OPENERS,
	CONTENT_SEC_REPLY_CLOSINGS,
	CONTENT_SEC_ACKS,
	CONTENT_SEC_REPLIES,
	CONTENT_SEC_SUBJECTS,
	CONTENT_SEC_LEADS,
	CONTENT_SEC_DETAILS,
	CONTENT_SEC_COUNT,
};

struct content_section {
	/* sequence index of each entry */
	uint32_t *entries;
	uint32_t count;
	uint32_t cap;
	/* where it was first declared (line 0: never) */
	uint32_t file;
	uint32_t line;
};

struct content_topic {
	char *name;
	/* only the topic sections (subjects, leads, details, replies) */
	struct content_section sec[CONTENT_SEC_COUNT];
	uint32_t file;
	uint32_t line;
};

struct content_list {
	char *name;
	struct content_section sec;
};

struct content_lang {
	char tag[16];
	struct content_section sec[CONTENT_SEC_COUNT];
	struct content_topic *topics;
	uint32_t n_topics;
	struct content_list *lists;
	uint32_t n_lists;
	/* where the language was first declared */
	uint32_t file;
	uint32_t line;
};

/* A placeholder waiting for every file to be read (lists come late). */
struct content_ref {
	uint32_t node;
	uint32_t lang;
	uint32_t file;
	uint32_t line;
	enum content_ctx ctx;
};

struct content_corpus {
	struct content_node *nodes;
	size_t n_nodes, cap_nodes;
	struct content_seq *seqs;
	size_t n_seqs, cap_seqs;
	char *text;
	size_t text_len, text_cap;
	char **files;
	size_t n_files;
	struct content_lang *langs;
	size_t n_langs;
	/* while loading only */
	struct content_ref *refs;
	size_t n_refs, cap_refs;
};

extern const char *const content_var_names[CONTENT_VAR_COUNT];
extern const char *const content_sec_names[CONTENT_SEC_COUNT];

/* The language with this tag, or NULL. */
const struct content_lang *content_lang_find(const struct content_corpus *c,
					     const char *tag);

#endif
