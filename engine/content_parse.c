// SPDX-License-Identifier: MIT
/*
 * The corpus loader: reads seeds files, checks every rule of the format
 * (seeds/README.md) and compiles entries into the node arrays the writer
 * walks. Any error stops the load and names the file and line.
 */
#include "content_private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hearth/file.h"
#include "hearth/xalloc.h"

/* clang-format off */
const char *const content_var_names[CONTENT_VAR_COUNT] = {
	[CONTENT_VAR_FIRST_NAME] = "first_name",
	[CONTENT_VAR_RECIPIENT_NAME] = "recipient_name",
	[CONTENT_VAR_SENDER_FIRST] = "sender_first",
	[CONTENT_VAR_SENDER_NAME] = "sender_name",
	[CONTENT_VAR_COMPANY] = "company",
	[CONTENT_VAR_SENDER_COMPANY] = "sender_company",
	[CONTENT_VAR_WEEKDAY] = "weekday",
	[CONTENT_VAR_DATE] = "date",
	[CONTENT_VAR_DAY] = "day",
	[CONTENT_VAR_MONTH] = "month",
	[CONTENT_VAR_THIS_MONTH] = "this_month",
	[CONTENT_VAR_NEXT_MONTH] = "next_month",
	[CONTENT_VAR_TIME] = "time",
	[CONTENT_VAR_QUOTE_NAME] = "quote_name",
	[CONTENT_VAR_QUOTE_WEEKDAY] = "quote_weekday",
	[CONTENT_VAR_QUOTE_DATE] = "quote_date",
	[CONTENT_VAR_QUOTE_TIME] = "quote_time",
};
/* clang-format on */

/* clang-format off */
const char *const content_sec_names[CONTENT_SEC_COUNT] = {
	[CONTENT_SEC_WEEKDAYS] = "weekdays",
	[CONTENT_SEC_MONTHS] = "months",
	[CONTENT_SEC_ATTRIBUTIONS] = "attributions",
	[CONTENT_SEC_GREETINGS] = "greetings",
	[CONTENT_SEC_OPENERS] = "openers",
	[CONTENT_SEC_CLOSINGS] = "closings",
	[CONTENT_SEC_SIGNOFFS] = "signoffs",
	[CONTENT_SEC_REPLY_OPENERS] = "reply_openers",
	[CONTENT_SEC_REPLY_CLOSINGS] = "reply_closings",
	[CONTENT_SEC_ACKS] = "acks",
	[CONTENT_SEC_REPLIES] = "replies",
	[CONTENT_SEC_SUBJECTS] = "subjects",
	[CONTENT_SEC_LEADS] = "leads",
	[CONTENT_SEC_DETAILS] = "details",
};
/* clang-format on */

#define SCOPE_LANG  1u
#define SCOPE_TOPIC 2u

/* clang-format off */
static const struct {
	unsigned scope;
	/* must have entries in every language (SCOPE_LANG) or topic */
	bool required;
	/* exact number of entries, 0 for any */
	uint32_t exact;
	enum content_ctx ctx;
} sec_info[CONTENT_SEC_COUNT] = {
	[CONTENT_SEC_WEEKDAYS] = {SCOPE_LANG, true, 7, CONTENT_CTX_NONE},
	[CONTENT_SEC_MONTHS] = {SCOPE_LANG, true, 12, CONTENT_CTX_NONE},
	[CONTENT_SEC_ATTRIBUTIONS] = {SCOPE_LANG, true, 0, CONTENT_CTX_ATTR},
	[CONTENT_SEC_GREETINGS] = {SCOPE_LANG, true, 0, CONTENT_CTX_TEXT},
	[CONTENT_SEC_OPENERS] = {SCOPE_LANG, false, 0, CONTENT_CTX_TEXT},
	[CONTENT_SEC_CLOSINGS] = {SCOPE_LANG, true, 0, CONTENT_CTX_TEXT},
	[CONTENT_SEC_SIGNOFFS] = {SCOPE_LANG, true, 0, CONTENT_CTX_TEXT},
	[CONTENT_SEC_REPLY_OPENERS] = {SCOPE_LANG, true, 0, CONTENT_CTX_TEXT},
	[CONTENT_SEC_REPLY_CLOSINGS] = {SCOPE_LANG, false, 0, CONTENT_CTX_TEXT},
	[CONTENT_SEC_ACKS] = {SCOPE_LANG, true, 0, CONTENT_CTX_TEXT},
	[CONTENT_SEC_REPLIES] = {SCOPE_LANG | SCOPE_TOPIC, true, 0,
			     CONTENT_CTX_TEXT},
	[CONTENT_SEC_SUBJECTS] = {SCOPE_TOPIC, true, 0, CONTENT_CTX_TEXT},
	[CONTENT_SEC_LEADS] = {SCOPE_TOPIC, true, 0, CONTENT_CTX_TEXT},
	[CONTENT_SEC_DETAILS] = {SCOPE_TOPIC, false, 0, CONTENT_CTX_TEXT},
};
/* clang-format on */

#define NAME_MAX_BYTES 32
#define ESCAPABLE      "\\{}|[]#"

/* A stretch of a folded entry and the file line it came from. */
struct segment {
	uint32_t offset;
	uint32_t line;
};

struct parser {
	struct content_corpus *c;
	struct hearth_err *err;
	uint32_t file;
	uint32_t line;
	/* index into c->langs, or -1 before @lang */
	int lang;
	/* current topic (-1: none), and whether it has had a section yet */
	int topic;
	uint32_t topic_line;
	uint32_t topic_sections;
	/* where entries go: a section kind or a list (-1: nowhere yet) */
	int sec;
	int list;
	enum content_ctx ctx;
	uint32_t sec_line;
	uint32_t sec_entries;
	/* the entry being folded from its lines */
	char *entry;
	size_t entry_len;
	bool have_entry;
	struct segment *segs;
	size_t n_segs, cap_segs;
	/* the entry being compiled */
	size_t pos;
};

static int __attribute__((format(printf, 3, 4)))
perr(struct parser *p, uint32_t line, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	hearth_err_set(p->err, HEARTH_FAIL_PERMANENT, 0, "%s:%u: %s",
		       p->c->files[p->file], line, what);
	return -1;
}

bool content_utf8_valid(const char *data, size_t len, size_t *bad_offset_r)
{
	const unsigned char *s = (const unsigned char *)data;
	size_t i = 0;

	while (i < len) {
		unsigned char b = s[i];
		uint32_t cp, min;
		size_t more;

		if (b < 0x80) {
			i++;
			continue;
		}
		/* 0x80-0xbf continue, 0xc0-0xc1 only start overlongs */
		if (b >= 0xc2 && b <= 0xdf) {
			more = 1;
			cp = b & 0x1f;
			min = 0x80;
		} else if (b >= 0xe0 && b <= 0xef) {
			more = 2;
			cp = b & 0x0f;
			min = 0x800;
		} else if (b >= 0xf0 && b <= 0xf4) {
			more = 3;
			cp = b & 0x07;
			min = 0x10000;
		} else {
			goto bad;
		}
		if (len - i - 1 < more)
			goto bad;
		for (size_t k = 1; k <= more; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		i += more + 1;
	}
	return true;
bad:
	if (bad_offset_r != NULL)
		*bad_offset_r = i;
	return false;
}

static uint32_t text_add(struct content_corpus *c, const char *s, size_t n)
{
	uint32_t off = (uint32_t)c->text_len;

	if (c->text_len + n + 1 > c->text_cap) {
		c->text_cap = (c->text_len + n + 1) * 2;
		c->text = xreallocarray(c->text, c->text_cap, 1);
	}
	memcpy(c->text + c->text_len, s, n);
	c->text_len += n;
	c->text[c->text_len] = '\0';
	return off;
}

static uint32_t node_add(struct content_corpus *c, struct content_node node)
{
	if (c->n_nodes == c->cap_nodes) {
		c->cap_nodes = c->cap_nodes ? c->cap_nodes * 2 : 1024;
		c->nodes =
		    xreallocarray(c->nodes, c->cap_nodes, sizeof(*c->nodes));
	}
	c->nodes[c->n_nodes] = node;
	return (uint32_t)c->n_nodes++;
}

static uint32_t seq_add(struct content_corpus *c, uint32_t first,
			uint32_t count)
{
	if (c->n_seqs == c->cap_seqs) {
		c->cap_seqs = c->cap_seqs ? c->cap_seqs * 2 : 1024;
		c->seqs = xreallocarray(c->seqs, c->cap_seqs, sizeof(*c->seqs));
	}
	c->seqs[c->n_seqs].first = first;
	c->seqs[c->n_seqs].count = count;
	return (uint32_t)c->n_seqs++;
}

static void ref_add(struct content_corpus *c, struct content_ref ref)
{
	if (c->n_refs == c->cap_refs) {
		c->cap_refs = c->cap_refs ? c->cap_refs * 2 : 256;
		c->refs = xreallocarray(c->refs, c->cap_refs, sizeof(*c->refs));
	}
	c->refs[c->n_refs++] = ref;
}

static void section_add(struct content_section *sec, uint32_t seq)
{
	if (sec->count == sec->cap) {
		sec->cap = sec->cap ? sec->cap * 2 : 16;
		sec->entries = xreallocarray(sec->entries, sec->cap,
					     sizeof(*sec->entries));
	}
	sec->entries[sec->count++] = seq;
}

static struct content_section *parser_section(struct parser *p)
{
	struct content_lang *lang = &p->c->langs[p->lang];

	if (p->list >= 0)
		return &lang->lists[p->list].sec;
	if (p->topic >= 0)
		return &lang->topics[p->topic].sec[p->sec];
	return &lang->sec[p->sec];
}

/* The file line of byte `offset` of the folded entry (binary search). */
static uint32_t entry_line(const struct parser *p, size_t offset)
{
	size_t lo = 0, hi = p->n_segs;

	/* the last segment that starts at or before offset */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->segs[mid].offset <= offset)
			lo = mid;
		else
			hi = mid;
	}
	return p->segs[lo].line;
}

/*
 * Compiled nodes of one sequence wait in a local list: the groups nested in
 * it append their own nodes to the corpus first, and a sequence must be
 * contiguous.
 */
struct pending {
	struct content_node *nodes;
	uint32_t *lines;
	size_t n, cap;
};

static void pending_add(struct pending *pd, struct content_node node,
			uint32_t line)
{
	if (pd->n == pd->cap) {
		pd->cap = pd->cap ? pd->cap * 2 : 8;
		pd->nodes =
		    xreallocarray(pd->nodes, pd->cap, sizeof(*pd->nodes));
		pd->lines =
		    xreallocarray(pd->lines, pd->cap, sizeof(*pd->lines));
	}
	pd->nodes[pd->n] = node;
	pd->lines[pd->n] = line;
	pd->n++;
}

static int compile_seq(struct parser *p, unsigned depth, uint32_t *seq_r);

static int compile_alt(struct parser *p, unsigned depth,
		       struct content_node *node_r)
{
	struct content_corpus *c = p->c;
	size_t open = p->pos;
	uint32_t *alts = NULL;
	size_t n = 0;
	uint32_t first;
	int ret = -1;

	if (depth > CONTENT_MAX_DEPTH) {
		perr(p, entry_line(p, open),
		     "alternatives nested deeper than %d levels",
		     CONTENT_MAX_DEPTH);
		goto out;
	}
	p->pos++;
	for (;;) {
		uint32_t seq;

		if (compile_seq(p, depth, &seq) < 0)
			goto out;
		if (n == CONTENT_MAX_ALTERNATIVES) {
			perr(p, entry_line(p, open),
			     "more than %d alternatives in one group",
			     CONTENT_MAX_ALTERNATIVES);
			goto out;
		}
		alts = xreallocarray(alts, n + 1, sizeof(*alts));
		alts[n++] = seq;
		if (p->pos >= p->entry_len) {
			perr(p, entry_line(p, open),
			     "unbalanced '{': no '}' closes it");
			goto out;
		}
		if (p->entry[p->pos++] == '}')
			break;
	}
	if (n < 2) {
		perr(p, entry_line(p, open),
		     "'{...}' needs two alternatives or more, as in {a|b} "
		     "or {a|}");
		goto out;
	}
	first = (uint32_t)c->n_seqs;
	for (size_t i = 0; i < n; i++)
		seq_add(c, c->seqs[alts[i]].first, c->seqs[alts[i]].count);
	node_r->kind = CONTENT_NODE_ALT;
	node_r->a = first;
	node_r->b = (uint32_t)n;
	ret = 0;
out:
	free(alts);
	return ret;
}

static bool name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '_';
}

static int compile_ref(struct parser *p, struct content_node *node_r)
{
	size_t open = p->pos;
	size_t start = ++p->pos;

	while (p->pos < p->entry_len && p->entry[p->pos] != ']') {
		if (!name_char(p->entry[p->pos]) ||
		    p->pos - start >= NAME_MAX_BYTES)
			return perr(p, entry_line(p, open),
				    "'[' starts a placeholder: a name of up "
				    "to %d characters a-z, 0-9, '_' and ']' "
				    "(escape a bracket as \\[)",
				    NAME_MAX_BYTES);
		p->pos++;
	}
	if (p->pos >= p->entry_len)
		return perr(p, entry_line(p, open),
			    "unbalanced '[': no ']' closes it");
	if (p->pos == start)
		return perr(p, entry_line(p, open), "empty placeholder '[]'");
	node_r->kind = CONTENT_NODE_REF;
	node_r->a = text_add(p->c, p->entry + start, p->pos - start);
	node_r->b = (uint32_t)(p->pos - start);
	p->pos++;
	return 0;
}

static int compile_seq(struct parser *p, unsigned depth, uint32_t *seq_r)
{
	struct content_corpus *c = p->c;
	struct pending pd = {0};
	struct content_node run = {.kind = CONTENT_NODE_TEXT};
	uint32_t first;
	int ret = -1;

	while (p->pos < p->entry_len) {
		char ch = p->entry[p->pos];
		struct content_node node;
		uint32_t line = entry_line(p, p->pos);

		if (ch == '|' || ch == '}') {
			if (depth > 0)
				break;
			if (ch == '|')
				perr(p, line,
				     "'|' outside '{...}' (escape it "
				     "as \\|)");
			else
				perr(p, line,
				     "unbalanced '}': no '{' opens it");
			goto out;
		}
		if (ch == ']') {
			perr(p, line, "unbalanced ']': no '[' opens it");
			goto out;
		}
		if (ch == '{' || ch == '[') {
			if (run.b > 0)
				pending_add(&pd, run, 0);
			run.b = 0;
			if (ch == '{' && compile_alt(p, depth + 1, &node) < 0)
				goto out;
			if (ch == '[' && compile_ref(p, &node) < 0)
				goto out;
			pending_add(&pd, node, line);
			continue;
		}
		if (ch == '\\') {
			if (p->pos + 1 >= p->entry_len ||
			    strchr(ESCAPABLE, p->entry[p->pos + 1]) == NULL) {
				perr(p, line,
				     "unknown escape: '\\' goes before one of "
				     "%s",
				     ESCAPABLE);
				goto out;
			}
			ch = p->entry[++p->pos];
		}
		/* a run grows while nothing else was added to the text */
		if (run.b == 0 || run.a + run.b != c->text_len) {
			if (run.b > 0)
				pending_add(&pd, run, 0);
			run.a = (uint32_t)c->text_len;
			run.b = 0;
		}
		text_add(c, &ch, 1);
		run.b++;
		p->pos++;
	}
	if (run.b > 0)
		pending_add(&pd, run, 0);
	first = (uint32_t)c->n_nodes;
	for (size_t i = 0; i < pd.n; i++) {
		uint32_t at = node_add(c, pd.nodes[i]);

		if (pd.nodes[i].kind == CONTENT_NODE_REF)
			ref_add(c, (struct content_ref){
				       .node = at,
				       .lang = (uint32_t)p->lang,
				       .file = p->file,
				       .line = pd.lines[i],
				       .ctx = p->ctx,
				   });
	}
	*seq_r = seq_add(c, first, (uint32_t)pd.n);
	ret = 0;
out:
	free(pd.nodes);
	free(pd.lines);
	return ret;
}

/* Links, addresses and markup have no place in warmup mail. */
static int check_forbidden(struct parser *p)
{
	static const char *const words[] = {"://", "www."};

	for (size_t i = 0; i < p->entry_len; i++) {
		char ch = p->entry[i];

		if (ch == '<' || ch == '>' || ch == '@')
			return perr(p, entry_line(p, i),
				    "'%c' is not allowed: no markup or "
				    "addresses in mail text",
				    ch);
		for (size_t w = 0; w < sizeof(words) / sizeof(*words); w++)
			if (strncasecmp(p->entry + i, words[w],
					strlen(words[w])) == 0)
				return perr(p, entry_line(p, i),
					    "'%s' is not allowed: no links "
					    "in mail text",
					    words[w]);
	}
	return 0;
}

static int flush_entry(struct parser *p)
{
	uint32_t seq;

	if (!p->have_entry)
		return 0;
	p->have_entry = false;
	if (p->lang < 0)
		return perr(p, p->segs[0].line,
			    "missing language tag: a file starts with "
			    "'@lang TAG'");
	if (p->sec < 0 && p->list < 0)
		return perr(p, p->segs[0].line,
			    "entry outside a section: start one with "
			    "'@section NAME'");
	p->entry[p->entry_len] = '\0';
	if (check_forbidden(p) < 0)
		return -1;
	p->pos = 0;
	if (compile_seq(p, 0, &seq) < 0)
		return -1;
	section_add(parser_section(p), seq);
	p->sec_entries++;
	return 0;
}

static void segment_add(struct parser *p, uint32_t offset)
{
	if (p->n_segs == p->cap_segs) {
		p->cap_segs = p->cap_segs ? p->cap_segs * 2 : 8;
		p->segs = xreallocarray(p->segs, p->cap_segs, sizeof(*p->segs));
	}
	p->segs[p->n_segs].offset = offset;
	p->segs[p->n_segs].line = p->line;
	p->n_segs++;
}

/* Append line text to the entry, tabs made spaces. */
static int entry_append(struct parser *p, const char *s, size_t n)
{
	if (p->entry_len + n > CONTENT_MAX_ENTRY_BYTES)
		return perr(p, p->line, "entry longer than %d bytes",
			    CONTENT_MAX_ENTRY_BYTES);
	for (size_t i = 0; i < n; i++)
		p->entry[p->entry_len++] = s[i] == '\t' ? ' ' : s[i];
	return 0;
}

/*
 * The section before this point must not be empty, nor the topic when
 * `topic_too` (a new topic or the end of the file closes it).
 */
static int close_header(struct parser *p, bool topic_too)
{
	if (p->sec >= 0 || p->list >= 0) {
		if (p->sec_entries == 0)
			return perr(
			    p, p->sec_line, "%s '%s' is empty",
			    p->list >= 0 ? "list" : "section",
			    p->list >= 0
				? p->c->langs[p->lang].lists[p->list].name
				: content_sec_names[p->sec]);
	} else if (topic_too && p->topic >= 0 && p->topic_sections == 0) {
		return perr(p, p->topic_line, "topic '%s' is empty",
			    p->c->langs[p->lang].topics[p->topic].name);
	}
	p->sec = -1;
	p->list = -1;
	return 0;
}

static bool valid_name(const char *s, bool dash)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_BYTES || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char(s[i]) && !(dash && s[i] == '-'))
			return false;
	return true;
}

static bool ascii_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9');
}

/* A BCP 47 look-alike: 2 or 3 lower-case letters, then "-" subtags. */
bool content_lang_tag_ok(const char *s)
{
	size_t i = 0;

	if (strlen(s) >= sizeof(((struct content_lang *)0)->tag))
		return false;
	while (s[i] >= 'a' && s[i] <= 'z')
		i++;
	if (i < 2 || i > 3)
		return false;
	while (s[i] == '-') {
		size_t start = ++i;

		while (ascii_alnum(s[i]))
			i++;
		if (i == start || i - start > 8)
			return false;
	}
	return s[i] == '\0';
}

static int lang_get(struct parser *p, const char *tag)
{
	struct content_corpus *c = p->c;
	struct content_lang *lang;

	for (size_t i = 0; i < c->n_langs; i++)
		if (strcmp(c->langs[i].tag, tag) == 0)
			return (int)i;
	c->langs = xreallocarray(c->langs, c->n_langs + 1, sizeof(*c->langs));
	lang = &c->langs[c->n_langs];
	memset(lang, 0, sizeof(*lang));
	snprintf(lang->tag, sizeof(lang->tag), "%s", tag);
	lang->file = p->file;
	lang->line = p->line;
	return (int)c->n_langs++;
}

static int directive_topic(struct parser *p, const char *name)
{
	struct content_lang *lang = &p->c->langs[p->lang];
	uint32_t i;

	if (!valid_name(name, true))
		return perr(p, p->line,
			    "bad topic name '%s': up to %d characters a-z, "
			    "0-9, '_', '-'",
			    name, NAME_MAX_BYTES);
	if (close_header(p, true) < 0)
		return -1;
	for (i = 0; i < lang->n_topics; i++)
		if (strcmp(lang->topics[i].name, name) == 0)
			break;
	if (i == lang->n_topics) {
		if (i == CONTENT_MAX_TOPICS)
			return perr(p, p->line, "more than %d topics",
				    CONTENT_MAX_TOPICS);
		lang->topics =
		    xreallocarray(lang->topics, i + 1, sizeof(*lang->topics));
		memset(&lang->topics[i], 0, sizeof(lang->topics[i]));
		lang->topics[i].name = xstrdup(name);
		lang->topics[i].file = p->file;
		lang->topics[i].line = p->line;
		lang->n_topics++;
	}
	p->topic = (int)i;
	p->topic_line = p->line;
	p->topic_sections = 0;
	return 0;
}

static int directive_section(struct parser *p, const char *name)
{
	struct content_section *sec;
	int k;

	for (k = 0; k < CONTENT_SEC_COUNT; k++)
		if (strcmp(content_sec_names[k], name) == 0)
			break;
	if (k == CONTENT_SEC_COUNT)
		return perr(p, p->line, "unknown section '%s'", name);
	if (p->topic >= 0 && !(sec_info[k].scope & SCOPE_TOPIC))
		return perr(p, p->line,
			    "section '%s' belongs to the language: put it "
			    "before the first @topic",
			    name);
	if (p->topic < 0 && !(sec_info[k].scope & SCOPE_LANG))
		return perr(p, p->line,
			    "section '%s' belongs to a topic: put "
			    "'@topic NAME' before it",
			    name);
	if (close_header(p, false) < 0)
		return -1;
	p->sec = k;
	p->ctx = sec_info[k].ctx;
	p->sec_line = p->line;
	p->sec_entries = 0;
	p->topic_sections++;
	sec = parser_section(p);
	if (sec->line == 0) {
		sec->file = p->file;
		sec->line = p->line;
	}
	return 0;
}

static int directive_list(struct parser *p, const char *name)
{
	struct content_lang *lang = &p->c->langs[p->lang];
	uint32_t i;

	if (!valid_name(name, false))
		return perr(p, p->line,
			    "bad list name '%s': up to %d characters a-z, "
			    "0-9, '_'",
			    name, NAME_MAX_BYTES);
	for (int v = 0; v < CONTENT_VAR_COUNT; v++)
		if (strcmp(content_var_names[v], name) == 0)
			return perr(p, p->line,
				    "list '%s' has the name of a built-in "
				    "placeholder",
				    name);
	if (close_header(p, false) < 0)
		return -1;
	for (i = 0; i < lang->n_lists; i++)
		if (strcmp(lang->lists[i].name, name) == 0)
			break;
	if (i == lang->n_lists) {
		if (i == CONTENT_MAX_LISTS)
			return perr(p, p->line, "more than %d lists",
				    CONTENT_MAX_LISTS);
		lang->lists =
		    xreallocarray(lang->lists, i + 1, sizeof(*lang->lists));
		memset(&lang->lists[i], 0, sizeof(lang->lists[i]));
		lang->lists[i].name = xstrdup(name);
		lang->lists[i].sec.file = p->file;
		lang->lists[i].sec.line = p->line;
		lang->n_lists++;
	}
	p->list = (int)i;
	p->ctx = CONTENT_CTX_LIST;
	p->sec_line = p->line;
	p->sec_entries = 0;
	/* a list inside a topic still counts as content of the topic */
	p->topic_sections++;
	return 0;
}

static int directive(struct parser *p, const char *s, size_t n)
{
	char buf[CONTENT_MAX_LINE_BYTES + 1];
	char *words[3] = {NULL, NULL, NULL};
	size_t nwords = 0;
	char *save = NULL;

	memcpy(buf, s + 1, n - 1);
	buf[n - 1] = '\0';
	for (char *w = strtok_r(buf, " \t", &save); w != NULL;
	     w = strtok_r(NULL, " \t", &save)) {
		if (nwords == 3)
			return perr(p, p->line, "too many words after '@%s'",
				    words[0]);
		words[nwords++] = w;
	}
	if (nwords == 0)
		return perr(p, p->line, "'@' with no directive");
	if (strcmp(words[0], "lang") != 0 && strcmp(words[0], "topic") != 0 &&
	    strcmp(words[0], "section") != 0 && strcmp(words[0], "list") != 0)
		return perr(p, p->line,
			    "unknown directive '@%s' (@lang, @topic, @section "
			    "or @list)",
			    words[0]);
	if (nwords != 2)
		return perr(p, p->line, "'@%s' takes one word", words[0]);
	if (strcmp(words[0], "lang") == 0) {
		if (p->lang >= 0)
			return perr(p, p->line, "a second @lang in one file");
		if (!content_lang_tag_ok(words[1]))
			return perr(p, p->line,
				    "bad language tag '%s' (like en or "
				    "pt-BR)",
				    words[1]);
		p->lang = lang_get(p, words[1]);
		return 0;
	}
	if (p->lang < 0)
		return perr(p, p->line,
			    "missing language tag: a file starts with "
			    "'@lang TAG'");
	if (strcmp(words[0], "topic") == 0)
		return directive_topic(p, words[1]);
	if (strcmp(words[0], "section") == 0)
		return directive_section(p, words[1]);
	return directive_list(p, words[1]);
}

static int parse_line(struct parser *p, const char *s, size_t n)
{
	size_t lead = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return perr(p, p->line, "control character 0x%02x", ch);
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0)
		return flush_entry(p);
	if (s[0] == ' ' || s[0] == '\t') {
		if (!p->have_entry)
			return perr(p, p->line,
				    "indented line continues no entry");
		while (s[lead] == ' ' || s[lead] == '\t')
			lead++;
		if (entry_append(p, " ", 1) < 0)
			return -1;
		segment_add(p, (uint32_t)p->entry_len);
		return entry_append(p, s + lead, n - lead);
	}
	if (flush_entry(p) < 0)
		return -1;
	if (s[0] == '#')
		return 0;
	if (s[0] == '@')
		return directive(p, s, n);
	p->have_entry = true;
	p->entry_len = 0;
	p->n_segs = 0;
	segment_add(p, 0);
	return entry_append(p, s, n);
}

static int parse_file(struct content_corpus *c, const char *name,
		      const char *data, size_t len, struct hearth_err *err)
{
	struct parser p = {
	    .c = c,
	    .err = err,
	    .lang = -1,
	    .topic = -1,
	    .sec = -1,
	    .list = -1,
	};
	size_t off = 0, bad;
	int ret = -1;

	if (c->n_files == CONTENT_MAX_FILES) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "%s: more than %d corpus files", name,
			       CONTENT_MAX_FILES);
		return -1;
	}
	c->files = xreallocarray(c->files, c->n_files + 1, sizeof(*c->files));
	c->files[c->n_files] = xstrdup(name);
	p.file = (uint32_t)c->n_files++;
	if (len > CONTENT_MAX_FILE_BYTES) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "%s: larger than %d bytes", name,
			       CONTENT_MAX_FILE_BYTES);
		return -1;
	}
	if (!content_utf8_valid(data, len, &bad)) {
		uint32_t line = 1;

		for (size_t i = 0; i < bad; i++)
			line += data[i] == '\n';
		return perr(&p, line, "invalid UTF-8");
	}
	p.entry = xmalloc(CONTENT_MAX_ENTRY_BYTES + 1);
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		off = 3;
	while (off < len) {
		const char *nl = memchr(data + off, '\n', len - off);
		size_t end = nl != NULL ? (size_t)(nl - data) : len;
		size_t n = end - off;

		p.line++;
		if (n > 0 && data[off + n - 1] == '\r')
			n--;
		if (n > CONTENT_MAX_LINE_BYTES) {
			perr(&p, p.line, "line longer than %d bytes",
			     CONTENT_MAX_LINE_BYTES);
			goto out;
		}
		if (parse_line(&p, data + off, n) < 0)
			goto out;
		off = end + 1;
	}
	if (flush_entry(&p) < 0)
		goto out;
	if (p.lang < 0) {
		perr(&p, p.line > 0 ? p.line : 1,
		     "missing language tag: a file starts with '@lang TAG'");
		goto out;
	}
	if (close_header(&p, true) < 0)
		goto out;
	ret = 0;
out:
	free(p.entry);
	free(p.segs);
	return ret;
}

static int __attribute__((format(printf, 5, 6)))
cerr(struct content_corpus *c, struct hearth_err *err, uint32_t file,
     uint32_t line, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0, "%s:%u: %s",
		       c->files[file], line, what);
	return -1;
}

static int resolve_ref(struct content_corpus *c, const struct content_ref *r,
		       struct hearth_err *err)
{
	struct content_node *node = &c->nodes[r->node];
	const char *name = c->text + node->a;
	int len = (int)node->b;
	const struct content_lang *lang = &c->langs[r->lang];

	for (int v = 0; v < CONTENT_VAR_COUNT; v++) {
		bool quote = v >= CONTENT_VAR_QUOTE_NAME;
		bool ok;

		if (strlen(content_var_names[v]) != node->b ||
		    memcmp(content_var_names[v], name, node->b) != 0)
			continue;
		ok = r->ctx == CONTENT_CTX_ATTR	  ? quote
		     : r->ctx == CONTENT_CTX_NONE ? false
						  : !quote;
		if (!ok)
			return cerr(c, err, r->file, r->line,
				    "placeholder [%.*s] cannot be used in "
				    "this section",
				    len, name);
		node->kind = CONTENT_NODE_VAR;
		node->a = (uint32_t)v;
		node->b = 0;
		return 0;
	}
	for (uint32_t i = 0; i < lang->n_lists; i++) {
		if (strlen(lang->lists[i].name) != node->b ||
		    memcmp(lang->lists[i].name, name, node->b) != 0)
			continue;
		if (r->ctx != CONTENT_CTX_TEXT)
			return cerr(c, err, r->file, r->line,
				    "list [%.*s] cannot be used in this "
				    "section (lists do not nest)",
				    len, name);
		node->kind = CONTENT_NODE_VAR;
		node->a = CONTENT_VAR_LIST + i;
		node->b = 0;
		return 0;
	}
	return cerr(c, err, r->file, r->line, "unknown placeholder [%.*s]", len,
		    name);
}

/* Rules that need every file read: placeholders, required sections. */
static int corpus_finish(struct content_corpus *c, const char *name,
			 struct hearth_err *err)
{
	if (c->n_langs == 0) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "%s: no corpus file (*.txt) found", name);
		return -1;
	}
	for (size_t i = 0; i < c->n_refs; i++)
		if (resolve_ref(c, &c->refs[i], err) < 0)
			return -1;
	free(c->refs);
	c->refs = NULL;
	c->n_refs = c->cap_refs = 0;
	for (size_t l = 0; l < c->n_langs; l++) {
		const struct content_lang *lang = &c->langs[l];

		for (int k = 0; k < CONTENT_SEC_COUNT; k++) {
			const struct content_section *sec = &lang->sec[k];

			if (!(sec_info[k].scope & SCOPE_LANG))
				continue;
			if (sec_info[k].required && sec->count == 0)
				return cerr(c, err, lang->file, lang->line,
					    "language '%s' has no section "
					    "'%s'",
					    lang->tag, content_sec_names[k]);
			if (sec_info[k].exact != 0 &&
			    sec->count != sec_info[k].exact)
				return cerr(c, err, sec->file, sec->line,
					    "section '%s' needs exactly %u "
					    "entries, not %u",
					    content_sec_names[k],
					    sec_info[k].exact, sec->count);
		}
		if (lang->n_topics == 0)
			return cerr(c, err, lang->file, lang->line,
				    "language '%s' has no @topic", lang->tag);
		for (uint32_t t = 0; t < lang->n_topics; t++) {
			const struct content_topic *topic = &lang->topics[t];

			for (int k = 0; k < CONTENT_SEC_COUNT; k++)
				if ((sec_info[k].scope & SCOPE_TOPIC) &&
				    sec_info[k].required &&
				    topic->sec[k].count == 0)
					return cerr(
					    c, err, topic->file, topic->line,
					    "topic '%s' has no section "
					    "'%s'",
					    topic->name, content_sec_names[k]);
		}
	}
	return 0;
}

static int load_file(struct content_corpus *c, const char *path,
		     struct hearth_err *err)
{
	char *data = NULL;
	size_t len = 0;
	int ret;

	if (file_read_all(path, CONTENT_MAX_FILE_BYTES, &data, &len, err) < 0)
		return -1;
	ret = parse_file(c, path, data, len, err);
	free(data);
	return ret;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_dir(struct content_corpus *c, const char *path, unsigned depth,
		    struct hearth_err *err)
{
	DIR *dir = opendir(path);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int ret = -1;

	if (dir == NULL) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, errno, "%s: %s",
			       path, strerror(errno));
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == CONTENT_MAX_FILES * 4) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
				       "%s: too many entries", path);
			goto out;
		}
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	/* byte order of names: the same corpus loads the same everywhere */
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		char *child = xasprintf("%s/%s", path, names[i]);
		size_t len = strlen(names[i]);
		struct stat st;
		int r = 0;

		if (stat(child, &st) < 0) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, errno,
				       "%s: %s", child, strerror(errno));
			r = -1;
		} else if (S_ISDIR(st.st_mode) && depth < 2) {
			r = load_dir(c, child, depth + 1, err);
		} else if (S_ISREG(st.st_mode) && len > 4 &&
			   strcmp(names[i] + len - 4, ".txt") == 0) {
			r = load_file(c, child, err);
		}
		free(child);
		if (r < 0)
			goto out;
	}
	ret = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(dir);
	return ret;
}

int content_corpus_load(const char *path, struct content_corpus **corpus_r,
			struct hearth_err *err)
{
	struct content_corpus *c = xcalloc(1, sizeof(*c));
	struct stat st;
	int r;

	if (stat(path, &st) < 0) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, errno, "%s: %s",
			       path, strerror(errno));
		r = -1;
	} else if (S_ISDIR(st.st_mode)) {
		r = load_dir(c, path, 0, err);
	} else {
		r = load_file(c, path, err);
	}
	if (r == 0)
		r = corpus_finish(c, path, err);
	if (r < 0) {
		content_corpus_free(&c);
		return -1;
	}
	*corpus_r = c;
	return 0;
}

int content_corpus_parse(const char *name, const char *data, size_t len,
			 struct content_corpus **corpus_r,
			 struct hearth_err *err)
{
	struct content_corpus *c = xcalloc(1, sizeof(*c));

	if (parse_file(c, name, data, len, err) < 0 ||
	    corpus_finish(c, name, err) < 0) {
		content_corpus_free(&c);
		return -1;
	}
	*corpus_r = c;
	return 0;
}

void content_corpus_free(struct content_corpus **corpus)
{
	struct content_corpus *c = *corpus;

	if (c == NULL)
		return;
	for (size_t l = 0; l < c->n_langs; l++) {
		struct content_lang *lang = &c->langs[l];

		for (int k = 0; k < CONTENT_SEC_COUNT; k++)
			free(lang->sec[k].entries);
		for (uint32_t t = 0; t < lang->n_topics; t++) {
			for (int k = 0; k < CONTENT_SEC_COUNT; k++)
				free(lang->topics[t].sec[k].entries);
			free(lang->topics[t].name);
		}
		for (uint32_t i = 0; i < lang->n_lists; i++) {
			free(lang->lists[i].sec.entries);
			free(lang->lists[i].name);
		}
		free(lang->topics);
		free(lang->lists);
	}
	for (size_t i = 0; i < c->n_files; i++)
		free(c->files[i]);
	free(c->files);
	free(c->langs);
	free(c->nodes);
	free(c->seqs);
	free(c->text);
	free(c->refs);
	free(c);
	*corpus = NULL;
}

const struct content_lang *content_lang_find(const struct content_corpus *c,
					     const char *tag)
{
	for (size_t i = 0; i < c->n_langs; i++)
		if (strcmp(c->langs[i].tag, tag) == 0)
			return &c->langs[i];
	return NULL;
}

bool content_corpus_has_lang(const struct content_corpus *corpus,
			     const char *lang)
{
	return content_lang_find(corpus, lang) != NULL;
}

size_t content_corpus_topic_count(const struct content_corpus *corpus,
				  const char *lang)
{
	const struct content_lang *l = content_lang_find(corpus, lang);

	return l != NULL ? l->n_topics : 0;
}
