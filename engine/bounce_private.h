/* SPDX-License-Identifier: MIT */
/*
 * bounce_private: what the files of the bounce module share. bounce.c
 * classifies a message; bounce_mime.c takes it apart (header sections,
 * MIME parts, transfer encodings, encoded words, the notification text);
 * bounce_patterns.c loads the pattern file and matches its patterns.
 */
#ifndef HEARTH_BOUNCE_PRIVATE_H
#define HEARTH_BOUNCE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "hearth/bounce.h"

/*
 * Bounds that are not part of the contract. A header value is read into a
 * buffer of HDR_BYTES (a Subject is at most 998 bytes; longer values are
 * cut, which only ever loses their end). Lines of the notification text are
 * broken at TEXT_LINE_BYTES so that a pattern's '[^\n]*' stays short.
 */
#define HDR_BYTES	2048
#define TEXT_LINE_BYTES 998
#define BOUNDARY_BYTES	128
/* pcre2 limits besides the match limit: backtracking depth, heap (KiB). */
#define MATCH_DEPTH_LIMIT 2000
#define MATCH_HEAP_KIB	  4096
#define MATCH_PAIRS	  16
/* Zero bytes after the text, for pcre2's JIT to read ahead into. */
#define MATCH_PAD 64

enum pat_kind {
	PAT_FROM,
	PAT_SUBJECT,
	PAT_REASON,
	PAT_RECIPIENT,
	PAT_ORIGINAL,
	PAT_AUTOREPLY_SUBJECT,
	PAT_KINDS
};

enum pat_class { CLASS_HARD, CLASS_SOFT, CLASS_DELAY };

struct pattern {
	enum pat_kind kind;
	enum pat_class class;
	/* "" for "-": take it from the matched text */
	char status[16];
	pcre2_code *code;
};

struct bounce_patterns {
	struct pattern *pat;
	size_t n;
	pcre2_match_context *mctx;
};

struct span {
	const char *p;
	size_t n;
};

struct header {
	const char *name;
	size_t name_len;
	/* after the colon, folded lines included, not trimmed */
	const char *value;
	size_t value_len;
};

struct headers {
	size_t n;
	struct header h[BOUNCE_MAX_HEADERS];
};

enum cte { CTE_IDENTITY, CTE_BASE64, CTE_QP };

struct ctype {
	/* "type/subtype" in lower case */
	char type[64];
	char boundary[BOUNDARY_BYTES];
	/* report-type in lower case */
	char report_type[48];
};

struct part {
	struct span head, body;
	unsigned depth;
	int parent;
	struct ctype ct;
	enum cte cte;
};

/* Everything one bounce_parse() call works with: a fixed size. */
struct parse {
	const struct bounce_patterns *pats;
	const char *token_header;
	pcre2_match_data *md;
	size_t n_parts;
	/* the notification text, built on first use */
	bool text_built;
	size_t text_len;
	size_t text_line;
	/* where the quoted original starts in text (text_len: nowhere) */
	size_t cut;
	bool x_autoreply, x_autorespond;
	/* X-Failed-Recipients or X-MS-Exchange-Message-Is-Ndr is there */
	bool bounce_header;
	char subject[HDR_BYTES];
	char from[HDR_BYTES];
	char to[HDR_BYTES];
	/* the top-level fields an auto-reply is judged and tied by */
	char auto_submitted[64];
	char precedence[64];
	char in_reply_to[HDR_BYTES];
	/* X-Failed-Recipients (Exim, Gmail) */
	char failed_rcpts[HDR_BYTES];
	char references[HDR_BYTES * 2];
	/*
	 * From here on nothing is zeroed at the start: every field is
	 * written before it is read (add_part() clears each part, the text
	 * gets MATCH_PAD zero bytes after its end). Above, the strings that
	 * patterns match are zeroed: pcre2's JIT reads a little past the end
	 * of a subject (the bytes are ignored, but must be defined).
	 */
	struct headers hs;
	struct part parts[BOUNCE_MAX_PARTS];
	/* indexes into parts, in the order the parts appear */
	size_t order[BOUNCE_MAX_PARTS];
	char text[BOUNCE_MAX_TEXT_BYTES + MATCH_PAD];
	/* decoding scratch, one part at a time */
	char buf[BOUNCE_MAX_TEXT_BYTES + 1];
};

/* Out of memory inside pcre2: like xmalloc(), print and abort. */
void bounce_pcre_oom(void) __attribute__((noreturn));

static inline bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static inline bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static inline bool type_is(const struct part *pt, const char *type)
{
	return strcmp(pt->ct.type, type) == 0;
}

/* ---- bounce_mime.c ---------------------------------------------------- */

/*
 * The line at p[pos..n): its length without CR LF or LF; *next_r is where
 * the next line starts (n at the end). Always moves on when pos < n.
 */
size_t bounce_line_at(const char *p, size_t n, size_t pos, size_t *next_r);
/* s[0..n) contains needle (NUL-terminated), without regard to case. */
bool bounce_has_word(const char *s, size_t n, const char *needle);
/*
 * One line of printable ASCII from s[0..n) into out[size]: white space runs
 * become one space, every other control character and every non-ASCII
 * character (a UTF-8 sequence counts as one) become '?'; trimmed, cut.
 */
void bounce_clean_line(char *out, size_t size, const char *s, size_t n);
/*
 * The first enhanced status code in s[0..n): [245].d{1,3}.d{1,3}, not part
 * of a longer dotted number (an IP address), into out[16].
 */
bool bounce_find_status(const char *s, size_t n, char out[16]);
/*
 * Split s at its first empty line: true with head and body; false when the
 * header section never ends (head is all of s, the body empty).
 */
bool bounce_split_head(struct span s, struct span *head, struct span *body);
/* Index the fields of a header section (at most BOUNCE_MAX_HEADERS). */
void bounce_headers_parse(struct span head, struct headers *hs);
/*
 * The value of the first field called name (any case) into buf[size]:
 * unfolded, NUL bytes as spaces, trimmed, cut. False ("") when none.
 */
bool bounce_header_get(const struct headers *hs, const char *name, char *buf,
		       size_t size);
/* Read a part's Content-Type (dflt when missing or broken) and encoding. */
void bounce_part_fields(struct parse *ps, struct part *pt, const char *dflt);
/*
 * A part's content, decoded into ps->buf when it has a transfer encoding
 * (cut at BOUNCE_MAX_TEXT_BYTES), else its body as it is.
 */
struct span bounce_part_content(struct parse *ps, const struct part *pt);
/* A header value with its RFC 2047 encoded words decoded, into out[size]. */
void bounce_decode_words(const char *s, char *out, size_t size);
/* Split parts[0] into its parts, ps->order their order in the message. */
void bounce_mime_walk(struct parse *ps);
/* Put the notification text together in ps->text (see bounce_mime.c). */
void bounce_text_assemble(struct parse *ps);

/* ---- bounce_patterns.c ------------------------------------------------ */

/*
 * The first match of pt in s[0..n): true with ov[0..1] the match and
 * ov[2..3] group 1 (PCRE2_UNSET when it did not take part). No match, the
 * match limit and any other pcre2 error all give false.
 */
bool bounce_pat_find(const struct parse *ps, const struct pattern *pt,
		     const char *s, size_t n, size_t ov[4]);
/* Does any pattern of kind match the string s? false without patterns. */
bool bounce_pat_any(const struct parse *ps, enum pat_kind kind, const char *s);

#endif
