// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hearth/content.h"
#include "hearth/rng.h"
#include "hearth/xalloc.h"
#include "test.h"

/* Monday 2024-06-03 09:00 UTC */
#define MONDAY_9AM 1717405200

static struct content_corpus *shipped;
static char tmpdir[] = "/tmp/hearth-test-content-XXXXXX";

/* The smallest complete corpus; bad files below are this plus one defect. */
/* clang-format off */
static const char minimal[] =
	"@lang en\n"
	"@section weekdays\n"
	"Sunday\nMonday\nTuesday\nWednesday\nThursday\nFriday\nSaturday\n"
	"@section months\n"
	"January\nFebruary\nMarch\nApril\nMay\nJune\nJuly\nAugust\n"
	"September\nOctober\nNovember\nDecember\n"
	"@section attributions\n"
	"On [quote_date] at [quote_time], [quote_name] wrote:\n"
	"@section greetings\n"
	"Hi [first_name],\n"
	"@section closings\n"
	"Let me know.\n"
	"@section signoffs\n"
	"Best,\n"
	"@section reply_openers\n"
	"Thanks for the note.\n"
	"@section acks\n"
	"Great, that settles it.\n"
	"@section replies\n"
	"Sounds good to me.\n"
	"@topic things\n"
	"@section subjects\n"
	"About [thing]\n"
	"@section leads\n"
	"Could we talk about [thing] on [weekday]?\n"
	"@section replies\n"
	"Yes, [thing] on [weekday] works.\n"
	"@list thing\n"
	"{the red folder|the blue folder|the green folder|the grey box}\n";
/* clang-format on */

static struct content_party anna = {"Anna Berg", "anna.berg@acme.example",
				    NULL};
static struct content_party bo = {"Bo Lind", "bo@lind-works.example.co.uk",
				  NULL};

static struct content_message *render_first(const struct content_corpus *c,
					    uint64_t seed)
{
	struct content_request req = {
	    .sender = bo,
	    .recipient = anna,
	    .seed = seed,
	    .date = MONDAY_9AM,
	};
	struct content_message *msg = NULL;
	struct hearth_err err = {0};

	if (content_render(c, &req, &msg, &err) < 0) {
		fprintf(stderr, "render: %s\n", err.msg);
		return NULL;
	}
	return msg;
}

/* A reply from `from` to the sender of `orig` (turn `turn`). */
static struct content_message *
render_reply(const struct content_corpus *c, const struct content_message *orig,
	     const struct content_party *orig_from,
	     const struct content_party *from, unsigned turn, uint64_t seed,
	     uint64_t root_seed)
{
	struct content_thread th = {
	    .subject = orig->subject,
	    .text = orig->text,
	    .topic = orig->topic,
	    .from = orig_from,
	    .date = MONDAY_9AM + 3600 * (time_t)turn,
	    .root_seed = root_seed,
	    .root_date = MONDAY_9AM,
	};
	struct content_request req = {
	    .sender = *from,
	    .recipient = *orig_from,
	    .thread = &th,
	    .turn = turn,
	    .seed = seed,
	    .date = MONDAY_9AM + 3600 * (time_t)(turn + 1),
	};
	struct content_message *msg = NULL;
	struct hearth_err err = {0};

	if (content_render(c, &req, &msg, &err) < 0) {
		fprintf(stderr, "render reply: %s\n", err.msg);
		return NULL;
	}
	return msg;
}

static int count_substr(const char *s, const char *needle)
{
	int n = 0;

	for (const char *p = s; (p = strcasestr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void test_load_shipped(void)
{
	struct hearth_err err = {0};

	test_begin("shipped corpus loads");
	test_assert(content_corpus_load(HEARTH_SEEDS_DIR, &shipped, &err) == 0);
	if (shipped == NULL) {
		fprintf(stderr, "load: %s\n", err.msg);
		test_end();
		return;
	}
	test_assert(content_corpus_has_lang(shipped, "en"));
	test_assert(!content_corpus_has_lang(shipped, "xx"));
	test_assert(content_corpus_topic_count(shipped, "en") >= 10);
	test_end();
}

static void test_determinism(void)
{
	test_begin("same seed, same message; first and replies");
	for (uint64_t seed = 1; seed < 40; seed++) {
		struct content_message *a = render_first(shipped, seed);
		struct content_message *b = render_first(shipped, seed);
		struct content_message *ra, *rb;

		test_assert(a != NULL && b != NULL);
		if (a == NULL || b == NULL)
			break;
		test_assert(strcmp(a->subject, b->subject) == 0);
		test_assert(strcmp(a->text, b->text) == 0);
		test_assert(strcmp(a->html, b->html) == 0);
		test_assert(strcmp(a->topic, b->topic) == 0);
		ra = render_reply(shipped, a, &bo, &anna, 1, seed + 1000, seed);
		rb = render_reply(shipped, b, &bo, &anna, 1, seed + 1000, seed);
		test_assert(ra != NULL && rb != NULL);
		if (ra != NULL && rb != NULL) {
			test_assert(strcmp(ra->text, rb->text) == 0);
			test_assert(strcmp(ra->html, rb->html) == 0);
		}
		content_message_free(&ra);
		content_message_free(&rb);
		content_message_free(&a);
		content_message_free(&b);
		test_assert(a == NULL);
	}
	test_end();
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t count_distinct(char **v, size_t n)
{
	size_t d = n > 0;

	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 1; i < n; i++)
		d += strcmp(v[i - 1], v[i]) != 0;
	return d;
}

static void test_variety(void)
{
	enum { N = 300 };
	char *subjects[N], *texts[N], *topics[N];
	size_t n = 0;

	test_begin("different seeds, different messages");
	for (uint64_t i = 0; i < N; i++) {
		struct content_message *m =
		    render_first(shipped, RNG_DERIVE(7, i));

		if (m == NULL)
			break;
		subjects[n] = xstrdup(m->subject);
		texts[n] = xstrdup(m->text);
		topics[n] = xstrdup(m->topic);
		n++;
		content_message_free(&m);
	}
	test_assert(n == N);
	/* the same pair of people on the same day: only the seed differs */
	test_assert(count_distinct(texts, n) == n);
	test_assert(count_distinct(subjects, n) >= n * 95 / 100);
	test_assert(count_distinct(topics, n) >= 10);
	for (size_t i = 0; i < n; i++) {
		free(subjects[i]);
		free(texts[i]);
		free(topics[i]);
	}
	test_end();
}

/* Every line of `quote` is in `text` with "> " in front (">" if empty). */
static bool quoted_in(const char *text, const char *quote)
{
	const char *s = quote;

	while (*s != '\0') {
		size_t len = strcspn(s, "\n");
		char *line =
		    xasprintf("\n>%s%.*s\n", len > 0 ? " " : "", (int)len, s);
		bool found = strstr(text, line) != NULL;

		free(line);
		/* the last line is the end of the text */
		if (!found && s[len] == '\0')
			found = true;
		if (!found)
			return false;
		s += len + (s[len] == '\n');
	}
	return true;
}

static void test_reply(void)
{
	struct content_message *orig = render_first(shipped, 4242);
	struct content_message *r1 = NULL, *r2 = NULL;
	const char *at;
	char *want;

	test_begin("reply: Re:, attribution, > quoting, blockquote");
	test_assert(orig != NULL);
	if (orig == NULL)
		goto out;
	r1 = render_reply(shipped, orig, &bo, &anna, 1, 4243, 4242);
	test_assert(r1 != NULL);
	if (r1 == NULL)
		goto out;
	want = xasprintf("Re: %s", orig->subject);
	test_assert(strcmp(r1->subject, want) == 0);
	free(want);
	test_assert(strcmp(r1->topic, orig->topic) == 0);
	/* On Monday, June 3, 2024 at 10:00 am, Bo Lind <bo@...> wrote: */
	at = strstr(r1->text, "\n\nOn ");
	test_assert(at != NULL);
	test_assert(strstr(r1->text, "Bo Lind <bo@lind-works.example.co.uk> "
				     "wrote:\n> ") != NULL);
	test_assert(strstr(r1->text, "June 3, 2024") != NULL);
	test_assert(strstr(r1->text, "10:00 am") != NULL);
	test_assert(quoted_in(r1->text, orig->text));
	if (at != NULL) {
		/* every line after the attribution is quoted */
		const char *p = strchr(at + 2, '\n');

		while (p != NULL && p[1] != '\0') {
			test_assert(p[1] == '>');
			p = strchr(p + 1, '\n');
		}
	}
	test_assert(strstr(r1->html, "<blockquote type=\"cite\">") != NULL);
	test_assert(strstr(r1->html, "Bo Lind &lt;bo@lind-works.example.co.uk"
				     "&gt; wrote:") != NULL);
	test_assert(strstr(r1->html, "</blockquote>") != NULL);

	/* the answer to the answer: one Re:, the first message quoted twice */
	r2 = render_reply(shipped, r1, &anna, &bo, 2, 4244, 4242);
	test_assert(r2 != NULL);
	if (r2 == NULL)
		goto out;
	test_assert(strcmp(r2->subject, r1->subject) == 0);
	test_assert(count_substr(r2->subject, "re:") == 1);
	test_assert(strstr(r2->text, "\n> > ") != NULL);
	test_assert(strstr(r2->text, "Anna Berg <anna.berg@acme.example> "
				     "wrote:") != NULL);
	test_assert(count_substr(r2->html, "<blockquote") == 2);
	test_assert(count_substr(r2->html, "</blockquote>") == 2);
out:
	content_message_free(&orig);
	content_message_free(&r1);
	content_message_free(&r2);
	test_end();
}

static void test_reply_subjects(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"Budget review", "Re: Budget review"},
	    {"Re: Budget review", "Re: Budget review"},
	    {"RE: re: Re:Budget review", "Re: Budget review"},
	    {"AW: Re[2]: Budget review", "Re: Budget review"},
	    {"  Sv : Budget review", "Re: Budget review"},
	    {"Regarding the budget", "Re: Regarding the budget"},
	    {"Re[x]: odd", "Re: Re[x]: odd"},
	    {"Two\r\nlines", "Re: Two lines"},
	};
	struct content_thread th = {.text = "Hi\n", .date = MONDAY_9AM};
	struct content_request req = {
	    .sender = anna,
	    .recipient = bo,
	    .thread = &th,
	    .turn = 1,
	    .date = MONDAY_9AM,
	};

	test_begin("reply subjects keep one Re:");
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct content_message *m = NULL;
		struct hearth_err err = {0};

		th.subject = cases[i].in;
		test_assert(content_render(shipped, &req, &m, &err) == 0);
		if (m == NULL)
			continue;
		if (strcmp(m->subject, cases[i].out) != 0)
			fprintf(stderr, "case %zu: got [%s] want [%s]\n", i,
				m->subject, cases[i].out);
		test_assert(strcmp(m->subject, cases[i].out) == 0);
		/* an unknown topic still gets an answer, a general one */
		test_assert(strcmp(m->topic, "") == 0);
		content_message_free(&m);
	}
	test_end();
}

static void test_html_escaping(void)
{
	struct content_party evil = {"Bo <b>\"&amp;\" Lind", "bo@lind.example",
				     "<Acme & Co>"};
	struct content_party evil_to = {"<i>Anna</i>", "anna@x.example", NULL};
	struct content_thread th = {
	    .subject = "Hello <there> & \"you\"",
	    .text = "Hi <Anna> & co,\n\n> a \"quoted\" <tag>\n",
	    .from = &evil,
	    .date = MONDAY_9AM,
	};
	struct content_request req = {
	    .sender = evil_to,
	    .recipient = evil,
	    .thread = &th,
	    .turn = 1,
	    .seed = 99,
	    .date = MONDAY_9AM,
	};
	struct content_message *m = NULL;
	struct hearth_err err = {0};
	const char *body;

	test_begin("HTML escapes names, subjects and quoted text");
	test_assert(content_render(shipped, &req, &m, &err) == 0);
	if (m == NULL) {
		test_end();
		return;
	}
	body = strstr(m->html, "<body>");
	test_assert(body != NULL);
	test_assert(strstr(m->html, "Bo &lt;b&gt;&quot;&amp;amp;&quot; Lind "
				    "&lt;bo@lind.example&gt;") != NULL);
	test_assert(strstr(m->html, "Hi &lt;Anna&gt; &amp; co,") != NULL);
	test_assert(strstr(m->html, "a &quot;quoted&quot; &lt;tag&gt;") !=
		    NULL);
	test_assert(strstr(m->html, "<b>") == NULL);
	test_assert(strstr(m->html, "<i>") == NULL);
	test_assert(strstr(m->html, "<tag>") == NULL);
	/* the text body is text: names as they are */
	test_assert(strstr(m->text, "Bo <b>\"&amp;\" Lind <bo@lind.example>") !=
		    NULL);
	test_assert(strcmp(m->subject, "Re: Hello <there> & \"you\"") == 0);
	/* only the tags a mail client writes */
	for (const char *p = body; p != NULL && (p = strchr(p, '<')) != NULL;
	     p++) {
		static const char *const ok[] = {
		    "<body>",
		    "</body>",
		    "</html>",
		    "<p>",
		    "</p>",
		    "<br>",
		    "<blockquote type=\"cite\">",
		    "</blockquote>",
		};
		bool known = false;

		for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++)
			known |= strncmp(p, ok[i], strlen(ok[i])) == 0;
		test_assert(known);
	}
	content_message_free(&m);
	test_end();
}

static bool has_any(const char *s, const char *const *needles, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasestr(s, needles[i]) != NULL)
			return true;
	return false;
}

static void test_clean_output(void)
{
	static const char *const banned_html[] = {
	    "http",   "www.", "<img", "<a ", "<script", "href", "src=",
	    "<style", "url(", "{",    "}",   "|",	"[",	"]",
	};
	static const char *const banned_text[] = {
	    "http", "www.", "{",  "}",	"|",  "[",   "]",   "  ",
	    " ,",   " .",   ",,", "..", "\t", " \n", "\n ",
	};
	int bad = 0;

	test_begin("no links, images, tags or left-over markup, 2000 renders");
	for (uint64_t i = 0; i < 1000 && bad < 10; i++) {
		struct content_message *m = render_first(shipped, i * 7919);
		struct content_message *r = NULL;
		const char *cut;

		if (m == NULL)
			break;
		r = render_reply(shipped, m, &bo, &anna, 1 + i % 3, i + 1,
				 i * 7919);
		if (r == NULL)
			break;
		/* the original carries no address; the reply quotes one */
		cut = strstr(r->text, "\n\nOn ");
		if (has_any(m->subject, banned_text, 15) ||
		    has_any(m->text, banned_text, 15) ||
		    strchr(m->text, '@') != NULL ||
		    strchr(m->subject, '@') != NULL ||
		    has_any(m->html, banned_html, 14) ||
		    has_any(r->html, banned_html, 14) ||
		    has_any(r->subject, banned_text, 15) || cut == NULL ||
		    has_any(r->text, banned_text, 5)) {
			fprintf(stderr, "seed %llu:\n%s\n%s\n%s\n",
				(unsigned long long)i * 7919, m->subject,
				m->text, r->text);
			bad++;
		}
		if (cut != NULL) {
			char *above =
			    xstrndup(r->text, (size_t)(cut - r->text));

			if (has_any(above, banned_text, 15) ||
			    strchr(above, '@') != NULL) {
				fprintf(stderr, "reply %llu:\n%s\n",
					(unsigned long long)i, above);
				bad++;
			}
			free(above);
		}
		content_message_free(&m);
		content_message_free(&r);
	}
	test_assert(bad == 0);
	test_end();
}

static struct content_corpus *parse_string(const char *text,
					   struct hearth_err *err)
{
	struct content_corpus *c = NULL;
	size_t len = strlen(text);
	/* not NUL-terminated: the parser must respect len */
	char *copy = xmalloc(len > 0 ? len : 1);

	memcpy(copy, text, len);
	if (content_corpus_parse("mem.txt", copy, len, &c, err) < 0)
		c = NULL;
	free(copy);
	return c;
}

static void test_placeholders(void)
{
	static const char probe[] =
	    "@section leads\n"
	    "F=[first_name] R=[recipient_name] SF=[sender_first] "
	    "SN=[sender_name] C=[company] SC=[sender_company] "
	    "W=[weekday] D=[date] DAY=[day] M=[month] TM=[this_month] "
	    "NM=[next_month] T=[time].\n";
	char *text = xasprintf("%s%s", minimal, probe);
	struct hearth_err err = {0};
	struct content_corpus *c = parse_string(text, &err);
	struct content_party to = {"Berg, Anna", "anna@mail.acme-tools.co.uk",
				   NULL};
	struct content_party from = {NULL, "bo.lind+x@lind.example",
				     "Lind & Partners"};
	int probes = 0;

	test_begin("placeholders: names, companies, dates");
	test_assert(c != NULL);
	if (c == NULL) {
		fprintf(stderr, "parse: %s\n", err.msg);
		goto out;
	}
	for (uint64_t seed = 0; seed < 200; seed++) {
		struct content_request req = {
		    .sender = from,
		    .recipient = to,
		    .seed = seed,
		    /* Sunday 23:30 UTC is Monday 01:30 at UTC+2 */
		    .date = MONDAY_9AM - 9 * 3600 - 1800,
		    .tz_offset_minutes = 120,
		};
		struct content_message *m = NULL;
		const char *p;
		int day;

		test_assert(content_render(c, &req, &m, &err) == 0);
		if (m == NULL)
			break;
		p = strstr(m->text, "F=");
		if (p == NULL) {
			content_message_free(&m);
			continue;
		}
		probes++;
		test_assert(strstr(p, "F=Anna R=Berg, Anna SF=Bo SN=Bo ") == p);
		test_assert(strstr(p, "C=Acme Tools SC=Lind & Partners ") !=
			    NULL);
		test_assert(strstr(p, "W=Saturday") == NULL);
		test_assert(strstr(p, "W=Sunday") == NULL);
		test_assert(strstr(p, "M=June") != NULL);
		test_assert(strstr(p, "TM=June NM=July") != NULL);
		p = strstr(p, "DAY=");
		day = p != NULL ? atoi(p + 4) : 0;
		/* a working day in the coming week, Tuesday 4 to Monday 10 */
		test_assert(day >= 4 && day <= 10 && day != 8 && day != 9);
		test_assert(strstr(m->text, " am.") != NULL ||
			    strstr(m->text, " pm.") != NULL);
		content_message_free(&m);
	}
	test_assert(probes > 0);
	content_corpus_free(&c);
out:
	free(text);
	test_end();
}

static void test_lists_and_threads(void)
{
	struct hearth_err err = {0};
	struct content_corpus *c = parse_string(minimal, &err);
	int same_subject = 0, same_reply = 0;

	test_begin("a list keeps its value in subject, body and replies");
	test_assert(c != NULL);
	for (uint64_t seed = 0; c != NULL && seed < 100; seed++) {
		struct content_message *m = render_first(c, seed);
		struct content_message *r;
		const char *thing;

		if (m == NULL)
			break;
		/* "About the red folder" / "Could we talk about the red..." */
		thing = m->subject + strlen("About ");
		same_subject += strstr(m->text, thing) != NULL;
		r = render_reply(c, m, &bo, &anna, 1, seed + 500, seed);
		/* "the red folder on Tuesday" asked, "...on Tuesday works." */
		if (r != NULL && strstr(m->text, thing) != NULL) {
			const char *from = strstr(m->text, thing);
			char *want = xstrndup(from, strcspn(from, "?"));
			const char *at = strstr(r->text, want);

			same_reply +=
			    at != NULL && at < strstr(r->text, "\n\nOn ") &&
			    strstr(at, " works.") == at + strlen(want);
			free(want);
		}
		content_message_free(&r);
		content_message_free(&m);
	}
	test_assert(same_subject == 100);
	test_assert(same_reply == 100);
	content_corpus_free(&c);
	test_end();
}

static void test_other_language(void)
{
	static const char de[] =
	    "@lang de\n"
	    "@section weekdays\n"
	    "Sonntag\nMontag\nDienstag\nMittwoch\nDonnerstag\nFreitag\n"
	    "Samstag\n"
	    "@section months\n"
	    "Januar\nFebruar\nM\xc3\xa4rz\nApril\nMai\nJuni\nJuli\nAugust\n"
	    "September\nOktober\nNovember\nDezember\n"
	    "@section attributions\n"
	    "Am [quote_date] um [quote_time] schrieb [quote_name]:\n"
	    "@section greetings\nHallo [first_name],\n"
	    "@section closings\nSag Bescheid !\n"
	    "@section signoffs\nViele Gr\xc3\xbc\xc3\x9f"
	    "e\n"
	    "@section reply_openers\nDanke.\n"
	    "@section acks\nPrima.\n"
	    "@section replies\nPasst.\n"
	    "@topic termine\n"
	    "@section subjects\nTermin am [weekday]\n"
	    "@section leads\nPasst dir [date] um [time]?\n"
	    "@section replies\nJa.\n";
	struct hearth_err err = {0};
	struct content_corpus *c = parse_string(de, &err);
	struct content_request req = {
	    .lang = "de",
	    .sender = bo,
	    .recipient = anna,
	    .seed = 5,
	    .date = MONDAY_9AM,
	};
	struct content_message *m = NULL;

	test_begin("a language tag per pool; local date and time formats");
	test_assert(c != NULL);
	if (c == NULL)
		goto out;
	test_assert(content_render(c, &req, &m, &err) == 0);
	if (m != NULL) {
		test_assert(strstr(m->text, "Hallo Anna,") != NULL);
		test_assert(strstr(m->text, " Juni um ") != NULL);
		test_assert(strstr(m->text, " am") == NULL);
		/* no English punctuation rule: the space before '!' stays */
		test_assert(strstr(m->text, "Bescheid") == NULL ||
			    strstr(m->text, "Bescheid !") != NULL);
	}
	content_message_free(&m);
	req.lang = NULL;
	test_assert(content_render(c, &req, &m, &err) == -1);
	test_assert(strstr(err.msg, "'en'") != NULL);
	content_corpus_free(&c);
out:
	test_end();
}

static void test_bad_requests(void)
{
	struct content_thread th = {.subject = "x", .text = "y"};
	struct content_request req = {.sender = bo, .recipient = anna};
	struct content_message *m = NULL;
	struct hearth_err err = {0};
	char *huge;

	test_begin("requests that cannot be rendered are refused");
	req.turn = 1;
	test_assert(content_render(shipped, &req, &m, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	req.turn = 0;
	req.thread = &th;
	test_assert(content_render(shipped, &req, &m, &err) == -1);
	req.thread = NULL;
	req.lang = "xx";
	test_assert(content_render(shipped, &req, &m, &err) == -1);
	req.lang = NULL;
	req.recipient.addr = NULL;
	test_assert(content_render(shipped, &req, &m, &err) == -1);
	req.recipient.addr = anna.addr;
	req.thread = &th;
	req.turn = 1;
	th.text = "bad \xc0\xaf utf-8";
	test_assert(content_render(shipped, &req, &m, &err) == -1);
	huge = xmalloc(CONTENT_MAX_THREAD_BYTES + 2);
	memset(huge, 'a', CONTENT_MAX_THREAD_BYTES + 1);
	huge[CONTENT_MAX_THREAD_BYTES + 1] = '\0';
	th.text = huge;
	test_assert(content_render(shipped, &req, &m, &err) == -1);
	test_assert(m == NULL);
	free(huge);
	test_end();
}

static void test_utf8(void)
{
	static const struct {
		const char *s;
		size_t len;
		bool ok;
		size_t bad;
	} cases[] = {
	    {"plain", 5, true, 0},
	    {"caf\xc3\xa9", 5, true, 0},
	    {"\xe2\x82\xac", 3, true, 0},
	    {"\xf0\x9f\x98\x80", 4, true, 0},
	    {"\xf4\x8f\xbf\xbf", 4, true, 0},
	    {"a\0b", 3, true, 0},
	    {"ab\xc0\xaf", 4, false, 2},
	    {"\xc1\xbf", 2, false, 0},
	    {"\xe0\x80\xaf", 3, false, 0},
	    {"\xf0\x80\x80\xaf", 4, false, 0},
	    {"x\xed\xa0\x80", 4, false, 1},
	    {"\xed\xbf\xbf", 3, false, 0},
	    {"\xf4\x90\x80\x80", 4, false, 0},
	    {"\xf5\x80\x80\x80", 4, false, 0},
	    {"\xff", 1, false, 0},
	    {"\x80", 1, false, 0},
	    {"ok\xe2\x82", 4, false, 2},
	    {"\xc3", 1, false, 0},
	    {"\xe2\x28\xa1", 3, false, 0},
	};

	test_begin("content_utf8_valid");
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		size_t bad = 99;
		bool ok = content_utf8_valid(cases[i].s, cases[i].len, &bad);

		if (ok != cases[i].ok)
			fprintf(stderr, "case %zu\n", i);
		test_assert(ok == cases[i].ok);
		if (!cases[i].ok)
			test_assert(bad == cases[i].bad);
	}
	test_end();
}

static char *write_file(const char *name, const char *data, size_t len)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");

	if (f != NULL) {
		fwrite(data, 1, len, f);
		fclose(f);
	}
	return path;
}

/*
 * The minimal corpus with `line` put in front of line `at` (1-based; 0
 * appends), written to its own file: loading it must fail with
 * "path:want_line: ..." and the message must contain `what`.
 */
static void expect_bad(const char *name, const char *line, int at,
		       int want_line, const char *what)
{
	char *text = NULL, *path, *prefix;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	const char *s = minimal;
	struct content_corpus *c = NULL;
	struct hearth_err err = {0};
	int n = 1;

	while (*s != '\0') {
		size_t l = strcspn(s, "\n") + 1;

		if (n++ == at)
			fputs(line, mem);
		fwrite(s, 1, l, mem);
		s += l;
	}
	if (at == 0)
		fputs(line, mem);
	fclose(mem);
	path = write_file(name, text, len);
	prefix = xasprintf("%s:%d: ", path, want_line);
	test_assert(content_corpus_load(path, &c, &err) == -1);
	test_assert(c == NULL);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	if (strncmp(err.msg, prefix, strlen(prefix)) != 0 ||
	    strstr(err.msg, what) == NULL)
		fprintf(stderr, "%s: got [%s], want [%s...%s]\n", name, err.msg,
			prefix, what);
	test_assert(strncmp(err.msg, prefix, strlen(prefix)) == 0);
	test_assert(strstr(err.msg, what) != NULL);
	unlink(path);
	free(prefix);
	free(path);
	free(text);
}

/* The 1-based line of `line` in the minimal corpus (0: past the end). */
static int minimal_line(const char *line)
{
	const char *at = line != NULL ? strstr(minimal, line) : NULL;
	const char *end = at != NULL ? at : minimal + strlen(minimal);
	int n = 1;

	for (const char *s = minimal; s < end; s++)
		n += *s == '\n';
	return n;
}

static void test_bad_files(void)
{
	/* the first lead of the topic, the line after it, the end */
	int lead = minimal_line("@section leads\n") + 1;
	int topic = minimal_line("@topic things\n");
	int end = minimal_line(NULL);
	char *path;
	char *big;
	struct content_corpus *c = NULL;
	struct hearth_err err = {0};

	test_begin("bad corpus files are refused with file:line");
	expect_bad("open.txt", "We {could|should talk.\n", lead, lead,
		   "unbalanced '{'");
	expect_bad("close.txt", "We could} talk.\n", lead, lead,
		   "unbalanced '}'");
	expect_bad("bar.txt", "We could | talk.\n", lead, lead, "'|' outside");
	expect_bad("folded.txt", "We {could\n  |should\n  talk.\n", lead, lead,
		   "unbalanced '{'");
	expect_bad("folded2.txt", "We could\n  talk}.\n", lead, lead + 1,
		   "unbalanced '}'");
	expect_bad("one.txt", "We {could} talk.\n", lead, lead,
		   "two alternatives");
	expect_bad("deep.txt", "{a|{b|{c|{d|{e|{f|{g|{h|{i|j}}}}}}}}}\n", lead,
		   lead, "nested deeper");
	expect_bad("placeholder.txt", "Hello [frist_name].\n", lead, lead,
		   "unknown placeholder [frist_name]");
	expect_bad("bracket.txt", "Hello [first name].\n", lead, lead,
		   "placeholder");
	expect_bad("unclosed.txt", "Hello [first_name.\n", lead, lead,
		   "placeholder");
	expect_bad("quote.txt", "Hello [quote_name].\n", lead, lead,
		   "cannot be used");
	expect_bad("escape.txt", "Hello \\n.\n", lead, lead, "unknown escape");
	expect_bad("empty.txt", "@section details\n", lead + 1, lead + 1,
		   "section 'details' is empty");
	expect_bad("empty_end.txt", "@section details\n", 0, end,
		   "section 'details' is empty");
	expect_bad("empty_list.txt", "@list stuff\n", 0, end,
		   "list 'stuff' is empty");
	expect_bad("empty_topic.txt", "@topic nothing\n", topic, topic,
		   "topic 'nothing' is empty");
	expect_bad("section.txt", "@section gossip\n", lead, lead,
		   "unknown section 'gossip'");
	expect_bad("scope.txt", "@section greetings\n", lead, lead,
		   "before the first @topic");
	expect_bad("directive.txt", "@include other.txt\n", lead, lead,
		   "unknown directive");
	expect_bad("link.txt", "See http://example.com today.\n", lead, lead,
		   "://");
	expect_bad("www.txt", "See WWW.example.com today.\n", lead, lead,
		   "www.");
	expect_bad("tag.txt", "A <b>bold</b> move.\n", lead, lead, "'<'");
	expect_bad("at.txt", "Mail me at bo@example.com.\n", lead, lead, "'@'");
	expect_bad("ctrl.txt", "A bell \a here.\n", lead, lead, "control");
	expect_bad("overlong.txt", "Bad \xc0\xaf byte.\n", lead, lead,
		   "invalid UTF-8");
	expect_bad("surrogate.txt", "Bad \xed\xa0\x80 byte.\n", lead, lead,
		   "invalid UTF-8");
	expect_bad("toobig.txt", "Bad \xf4\x90\x80\x80 byte.\n", lead, lead,
		   "invalid UTF-8");
	expect_bad("cut.txt", "Bad \xe2\x82 byte.\n", lead, lead,
		   "invalid UTF-8");
	expect_bad("builtin.txt", "@list weekday\n", 0, end,
		   "built-in placeholder");
	expect_bad("nesting.txt", "@list other\n{a [thing]|b}\n", 0, end + 1,
		   "lists do not nest");
	expect_bad("weekdays.txt", "Caturday\n",
		   minimal_line("@section months\n"), 2, "exactly 7");
	expect_bad("indent.txt", "  stray continuation\n", 2, 2,
		   "continues no entry");
	expect_bad("lang2.txt", "@lang de\n", lead, lead, "second @lang");
	expect_bad("topicless.txt", "@section subjects\n", topic, topic,
		   "belongs to a topic");

	/* a missing language tag, and a tag that is not one */
	path =
	    write_file("nolang.txt", "# comment\n\n@section greetings\nHi,\n",
		       strlen("# comment\n\n@section greetings\nHi,\n"));
	test_assert(content_corpus_load(path, &c, &err) == -1);
	test_assert(strstr(err.msg, "nolang.txt:3: missing language tag") !=
		    NULL);
	unlink(path);
	free(path);
	path = write_file("badtag.txt", "@lang english\n", 14);
	test_assert(content_corpus_load(path, &c, &err) == -1);
	test_assert(strstr(err.msg, "badtag.txt:1: bad language tag") != NULL);
	unlink(path);
	free(path);
	path = write_file("comments.txt", "# only a comment\n", 17);
	test_assert(content_corpus_load(path, &c, &err) == -1);
	test_assert(strstr(err.msg, "comments.txt:1: missing language tag") !=
		    NULL);
	unlink(path);
	free(path);

	/* complete syntax, incomplete language: named at its @lang */
	path =
	    write_file("incomplete.txt", "@lang en\n@section greetings\nHi,\n",
		       strlen("@lang en\n@section greetings\nHi,\n"));
	test_assert(content_corpus_load(path, &c, &err) == -1);
	test_assert(strstr(err.msg, "incomplete.txt:1: language 'en' has no "
				    "section 'weekdays'") != NULL);
	unlink(path);
	free(path);

	/* a line and a file past their bounds */
	big = xmalloc(CONTENT_MAX_FILE_BYTES + 2);
	memset(big, 'a', CONTENT_MAX_FILE_BYTES + 1);
	memcpy(big, "@lang en\n", 9);
	path = write_file("longline.txt", big, CONTENT_MAX_LINE_BYTES + 20);
	test_assert(content_corpus_load(path, &c, &err) == -1);
	test_assert(strstr(err.msg, "longline.txt:2: line longer than") !=
		    NULL);
	unlink(path);
	free(path);
	path = write_file("huge.txt", big, CONTENT_MAX_FILE_BYTES + 1);
	test_assert(content_corpus_load(path, &c, &err) == -1);
	test_assert(strstr(err.msg, "huge.txt: larger than") != NULL);
	unlink(path);
	free(path);
	free(big);

	path = xasprintf("%s/missing.txt", tmpdir);
	test_assert(content_corpus_load(path, &c, &err) == -1);
	test_assert(strstr(err.msg, "missing.txt: No such file") != NULL);
	free(path);
	test_end();
}

/* A corpus in pieces: sections of one language spread over files. */
static void test_directory(void)
{
	const char *split = strstr(minimal, "@topic");
	char *head = xstrndup(minimal, (size_t)(split - minimal));
	char *tail = xasprintf("@lang en\n%s", split);
	char *sub = xasprintf("%s/en", tmpdir);
	char *p1, *p2, *p3, *p4;
	struct content_corpus *c = NULL;
	struct hearth_err err = {0};

	test_begin("a directory of files, subdirectories, other files skipped");
	mkdir(sub, 0700);
	p1 = write_file("en/a.txt", head, strlen(head));
	p2 = write_file("en/b.txt", tail, strlen(tail));
	p3 = write_file("README.md", "not a {corpus", 13);
	p4 = write_file("en/.hidden.txt", "broken {", 8);
	test_assert(content_corpus_load(tmpdir, &c, &err) == 0);
	if (c == NULL)
		fprintf(stderr, "load dir: %s\n", err.msg);
	test_assert(content_corpus_topic_count(c, "en") == 1);
	content_corpus_free(&c);
	test_assert(c == NULL);
	/* the same corpus loads the same: a message is reproducible */
	unlink(p1);
	unlink(p2);
	unlink(p3);
	unlink(p4);
	rmdir(sub);
	free(p1);
	free(p2);
	free(p3);
	free(p4);
	free(sub);
	free(head);
	free(tail);
	test_end();
}

int main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	test_load_shipped();
	if (shipped == NULL)
		return test_exit();
	test_determinism();
	test_variety();
	test_reply();
	test_reply_subjects();
	test_html_escaping();
	test_clean_output();
	test_placeholders();
	test_lists_and_threads();
	test_other_language();
	test_bad_requests();
	test_utf8();
	test_bad_files();
	test_directory();
	content_corpus_free(&shipped);
	rmdir(tmpdir);
	return test_exit();
}
