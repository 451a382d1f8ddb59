/* SPDX-License-Identifier: MIT */
/*
 * content: the corpus of warmup mail and the writer that renders one message
 * from it. The corpus is data loaded at run time (seeds/, format described in
 * seeds/README.md); the writer turns (sender, recipient, thread, turn, seed,
 * date) into a subject, a text body and an HTML body. Same corpus and same
 * request: the same bytes. Nothing here reads the clock or the environment.
 *
 * Rendered mail carries no link, image, script or marker: the corpus format
 * refuses "://", "www.", '<', '>' and '@', names come only from the request,
 * and the HTML is escaped <p> and <blockquote> text.
 */
#ifndef HEARTH_CONTENT_H
#define HEARTH_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "hearth/err.h"

/* Bounds of the corpus format; a file past one is rejected at load. */
#define CONTENT_MAX_FILE_BYTES	 (1024 * 1024)
#define CONTENT_MAX_FILES	 512
#define CONTENT_MAX_LINE_BYTES	 2048
#define CONTENT_MAX_ENTRY_BYTES	 8192
#define CONTENT_MAX_DEPTH	 8
#define CONTENT_MAX_ALTERNATIVES 256
#define CONTENT_MAX_TOPICS	 256
#define CONTENT_MAX_LISTS	 256
/* Bounds of a request: longer names are cut, a longer thread refused. */
#define CONTENT_MAX_NAME_BYTES	 128
#define CONTENT_MAX_THREAD_BYTES (64 * 1024)

struct content_corpus;

/*
 * Load a corpus from path: a single file, or a directory whose files named
 * *.txt are read in byte order of their names, descending into
 * subdirectories (seeds/en/...) up to two levels; other files are ignored.
 * On success *corpus_r is owned by the caller (content_corpus_free). On
 * failure returns -1 with err->msg "file:line: what is wrong" (or "path:
 * what is wrong" for a missing file or an incomplete language) and fail
 * HEARTH_FAIL_PERMANENT; nothing is allocated.
 */
int content_corpus_load(const char *path, struct content_corpus **corpus_r,
			struct hearth_err *err);

/*
 * The same from one file already in memory (data, len: borrowed, need not
 * be NUL-terminated). name is used in error messages only. The result must
 * be complete on its own, as a corpus loaded from a directory.
 */
int content_corpus_parse(const char *name, const char *data, size_t len,
			 struct content_corpus **corpus_r,
			 struct hearth_err *err);

void content_corpus_free(struct content_corpus **corpus);

/* A language tag as corpus files and the configuration take them (a BCP 47
 * look-alike: 2 or 3 lower-case letters, then "-" subtags of 1 to 8
 * letters and digits, "en", "pt-br"), short enough to store. */
bool content_lang_tag_ok(const char *tag);

/* Is language tag `lang` ("en") in the corpus? */
bool content_corpus_has_lang(const struct content_corpus *corpus,
			     const char *lang);
/* Number of topics of `lang` (0 when the language is not loaded). */
size_t content_corpus_topic_count(const struct content_corpus *corpus,
				  const char *lang);

/*
 * One side of an exchange. All strings borrowed for the call.
 * name: display name ("Anna Berg"), may be NULL or empty: the first name is
 *       then taken from the address's local part. Control characters become
 *       spaces and a name is cut at CONTENT_MAX_NAME_BYTES.
 * addr: the address, required.
 * org:  the organisation, may be NULL: then it is derived from the address's
 *       domain ("mail.acme-tools.co.uk" gives "Acme Tools").
 */
struct content_party {
	const char *name;
	const char *addr;
	const char *org;
};

/*
 * The message being replied to, as it was sent. Strings borrowed.
 * subject: its subject (any number of "Re:" in front).
 * text:    its text body, at most CONTENT_MAX_THREAD_BYTES, valid UTF-8.
 * topic:   the topic it was written on (content_message.topic of the
 *          original); NULL or unknown: the reply stays general.
 * from:    who sent it; NULL means the request's recipient.
 * date:    when it was sent (seconds since the epoch, UTC).
 * root_seed, root_date: the seed and date the first message of the thread
 *          was rendered with. The things a conversation is about (the
 *          project, the order, the day and hour it mentions) are drawn from
 *          them, so that a reply speaks of what the message it answers
 *          spoke of. root_date 0: use date.
 */
struct content_thread {
	const char *subject;
	const char *text;
	const char *topic;
	const struct content_party *from;
	time_t date;
	uint64_t root_seed;
	time_t root_date;
};

/*
 * What to write.
 * lang:   language tag; NULL means "en".
 * thread: NULL for a new conversation (turn must be 0), else the message
 *         being answered (turn 1 for the first reply, 2 and up after that).
 * seed:   every choice in the message is drawn from it (derive one per
 *         exchange with rng_derive); same request, same message.
 * date:   when the message will be sent, for weekday and date placeholders.
 * tz_offset_minutes: the sender's offset from UTC for every date shown.
 */
struct content_request {
	const char *lang;
	struct content_party sender;
	struct content_party recipient;
	const struct content_thread *thread;
	unsigned turn;
	uint64_t seed;
	time_t date;
	int tz_offset_minutes;
};

/*
 * A rendered message; every string is NUL-terminated UTF-8 owned by the
 * message. subject is one line. text is the text/plain body: paragraphs
 * separated by a blank line, lines not wrapped (a paragraph is one line,
 * usually longer than 78 octets: send it quoted-printable), a reply's quote
 * under an attribution line with every quoted line prefixed by "> ". html is
 * the text/html body: a complete document of <p>, <br> and <blockquote
 * type="cite"> with all text escaped. topic names the topic written on
 * (store it to pass back in content_thread.topic).
 */
struct content_message {
	char *subject;
	char *text;
	char *html;
	char *topic;
};

/*
 * Render one message. Returns 0 with *msg_r set (owned by the caller:
 * content_message_free), or -1 with err set, HEARTH_FAIL_PERMANENT: unknown
 * language, missing address, turn inconsistent with thread, thread text too
 * long or not UTF-8.
 */
int content_render(const struct content_corpus *corpus,
		   const struct content_request *req,
		   struct content_message **msg_r, struct hearth_err *err);

void content_message_free(struct content_message **msg);

/*
 * Check that data[0..len) is well-formed UTF-8: no overlong forms, no
 * surrogates, nothing above U+10FFFF. Returns true when it is; otherwise
 * false with *bad_offset_r (may be NULL) the offset of the first bad byte.
 */
bool content_utf8_valid(const char *data, size_t len, size_t *bad_offset_r);

#endif
