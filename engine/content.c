// SPDX-License-Identifier: MIT
/*
 * The writer: walks the compiled corpus with a generator seeded from the
 * request and lays the pieces out the way a mail client would. Every choice
 * comes from the request's seed, so a message can be rendered again.
 */
#include "content_private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hearth/rng.h"
#include "hearth/xalloc.h"

#define SECS_PER_DAY	  86400
#define MAX_QUOTE_DEPTH	  16
#define MAX_SUBJECT_BYTES 512

struct sbuf {
	char *s;
	size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xreallocarray(b->s, b->cap, 1);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_adds(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* The string, owned by the caller; the buffer is empty again. */
static char *sb_steal(struct sbuf *b)
{
	char *s = b->s != NULL ? b->s : xstrdup("");

	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

static void sb_add_html(struct sbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '&':
			sb_adds(b, "&amp;");
			break;
		case '<':
			sb_adds(b, "&lt;");
			break;
		case '>':
			sb_adds(b, "&gt;");
			break;
		case '"':
			sb_adds(b, "&quot;");
			break;
		default:
			sb_add(b, s + i, 1);
		}
	}
}

struct render {
	const struct content_corpus *c;
	const struct content_lang *lang;
	/* the message's shape and every alternative */
	struct rng rng;
	/*
	 * What the conversation is about (list values, the day and hour it
	 * mentions) comes from the seed and date of its first message, so a
	 * reply speaks of the same project and the same Thursday.
	 */
	uint64_t about_seed;
	time_t about_date;
	bool en;
	char *var[CONTENT_VAR_COUNT];
	char **list;
};

static void render_seq(struct render *r, struct rng *rng, uint32_t seq,
		       struct sbuf *out);

/* Each list has a stream of its own: the order of use does not matter. */
static const char *list_value(struct render *r, uint32_t i)
{
	if (r->list[i] == NULL) {
		const struct content_section *sec = &r->lang->lists[i].sec;
		struct sbuf b = {0};
		struct rng rng;

		rng_seed(&rng, RNG_DERIVE(r->about_seed, 3, i));
		render_seq(r, &rng, sec->entries[rng_uniform(&rng, sec->count)],
			   &b);
		r->list[i] = sb_steal(&b);
	}
	return r->list[i];
}

static void render_seq(struct render *r, struct rng *rng, uint32_t seq,
		       struct sbuf *out)
{
	const struct content_corpus *c = r->c;
	const struct content_seq *s = &c->seqs[seq];

	for (uint32_t i = 0; i < s->count; i++) {
		const struct content_node *node = &c->nodes[s->first + i];

		switch (node->kind) {
		case CONTENT_NODE_TEXT:
			sb_add(out, c->text + node->a, node->b);
			break;
		case CONTENT_NODE_VAR:
			if (node->a >= CONTENT_VAR_LIST)
				sb_adds(
				    out,
				    list_value(r, node->a - CONTENT_VAR_LIST));
			else if (r->var[node->a] != NULL)
				sb_adds(out, r->var[node->a]);
			break;
		case CONTENT_NODE_ALT:
			render_seq(
			    r, rng,
			    node->a + (uint32_t)rng_uniform(rng, node->b), out);
			break;
		}
	}
}

static void capitalize(char *s)
{
	if (s[0] >= 'a' && s[0] <= 'z')
		s[0] = (char)(s[0] - 'a' + 'A');
}

/*
 * Spaces collapsed and trimmed (an empty alternative leaves two), the
 * first letter of the text and of each sentence made a capital (an
 * alternative may start in lower case). In English a space before
 * punctuation goes too ("your take ." when an alternative was empty);
 * other languages keep it (French writes "Merci !").
 */
static char *tidy(char *s, bool en)
{
	size_t o = 0;

	for (size_t i = 0; s[i] != '\0'; i++) {
		if (s[i] == ' ' && (o == 0 || s[o - 1] == ' '))
			continue;
		if (en && o > 0 && s[o - 1] == ' ' &&
		    strchr(",.;:!?", s[i]) != NULL)
			o--;
		s[o++] = s[i];
	}
	while (o > 0 && s[o - 1] == ' ')
		o--;
	s[o] = '\0';
	capitalize(s);
	for (size_t i = 2; i < o; i++)
		if (s[i - 1] == ' ' && strchr(".?!", s[i - 2]) != NULL)
			capitalize(s + i);
	return s;
}

static char *render_index(struct render *r, const struct content_section *sec,
			  uint32_t i)
{
	struct sbuf b = {0};

	render_seq(r, &r->rng, sec->entries[i], &b);
	return tidy(sb_steal(&b), r->en);
}

static char *render_any(struct render *r, const struct content_section *sec)
{
	return render_index(r, sec, (uint32_t)rng_uniform(&r->rng, sec->count));
}

static bool same_first_word(const char *a, const char *b)
{
	size_t n = strcspn(a, " ,.!");

	return n > 0 && n == strcspn(b, " ,.!") && strncasecmp(a, b, n) == 0;
}

/*
 * An entry that does not start with the same word as `near` (NULL: any):
 * "Thanks for this. Thanks for the update." reads like a stutter. Gives up
 * after a few draws; a small section may have nothing else.
 */
static char *render_unlike(struct render *r, const struct content_section *sec,
			   const char *near)
{
	char *s = render_any(r, sec);

	for (int i = 0; i < 4 && near != NULL && same_first_word(s, near);
	     i++) {
		free(s);
		s = render_any(r, sec);
	}
	return s;
}

/* Control characters become spaces, runs of spaces one, cut at `max`. */
static char *clean_line(const char *s, size_t max)
{
	size_t n = strlen(s), o = 0;
	char *out;

	if (!content_utf8_valid(s, n, NULL))
		return xstrdup("");
	out = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f)
			ch = ' ';
		if (ch == ' ' && (o == 0 || out[o - 1] == ' '))
			continue;
		out[o++] = (char)ch;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	if (o > max) {
		o = max;
		/* do not cut a character in two */
		while (o > 0 && ((unsigned char)out[o] & 0xc0) == 0x80)
			o--;
	}
	out[o] = '\0';
	return out;
}

static char *party_display_name(const struct content_party *p)
{
	char *name =
	    clean_line(p->name != NULL ? p->name : "", CONTENT_MAX_NAME_BYTES);
	size_t n = strlen(name);

	/* "Anna Berg" as some address books store it, quotes and all */
	if (n >= 2 && name[0] == '"' && name[n - 1] == '"') {
		memmove(name, name + 1, n - 2);
		name[n - 2] = '\0';
		tidy(name, false);
	}
	return name;
}

/* "anna.berg@x" gives "Anna": the local part up to . - _ + or a digit. */
static char *name_from_addr(const char *addr)
{
	const char *at = strrchr(addr, '@');
	size_t len = at != NULL ? (size_t)(at - addr) : strlen(addr);
	size_t n = strcspn(addr, ".-_+0123456789");
	char *name, *clean;

	if (n > len)
		n = len;
	if (n == 0)
		n = len;
	name = xstrndup(addr, n);
	clean = clean_line(name, CONTENT_MAX_NAME_BYTES);
	free(name);
	capitalize(clean);
	return clean;
}

static char *party_first_name(const struct content_party *p)
{
	char *name = party_display_name(p);
	const char *start = name;
	const char *comma = strchr(name, ',');
	char *first;

	/* "Berg, Anna" */
	if (comma != NULL)
		start = comma + 1;
	start += strspn(start, " ");
	first = xstrndup(start, strcspn(start, " ,"));
	free(name);
	if (first[0] == '\0') {
		free(first);
		return name_from_addr(p->addr);
	}
	return first;
}

static char *party_full_name(const struct content_party *p)
{
	char *name = party_display_name(p);

	if (name[0] == '\0') {
		free(name);
		return name_from_addr(p->addr);
	}
	return name;
}

/* Registrable label of the domain, words capitalized: "Acme Tools". */
static char *party_company(const struct content_party *p)
{
	const char *at = strrchr(p->addr, '@');
	const char *labels[8];
	size_t n = 0;
	const char *domain, *pick;
	char *org, *clean;

	if (p->org != NULL && p->org[0] != '\0')
		return clean_line(p->org, CONTENT_MAX_NAME_BYTES);
	if (at == NULL || at[1] == '\0')
		return xstrdup("");
	domain = at + 1;
	for (const char *s = domain; *s != '\0';) {
		if (n == sizeof(labels) / sizeof(*labels)) {
			memmove(labels, labels + 1,
				sizeof(labels[0]) * (n - 1));
			n--;
		}
		labels[n++] = s;
		s += strcspn(s, ".");
		if (*s == '.')
			s++;
	}
	pick = labels[0];
	if (n >= 2) {
		size_t tld = strlen(labels[n - 1]);
		size_t sld = strcspn(labels[n - 2], ".");

		pick = labels[n - 2];
		/* acme.co.uk, acme.com.au: the name is one label further */
		if (n >= 3 && tld == 2 && sld <= 3)
			pick = labels[n - 3];
	}
	org = xstrndup(pick, strcspn(pick, "."));
	for (char *s = org; *s != '\0'; s++)
		if (*s == '-' || *s == '_')
			*s = ' ';
	clean = clean_line(org, CONTENT_MAX_NAME_BYTES);
	free(org);
	for (char *s = clean; *s != '\0'; s++)
		if (s == clean || s[-1] == ' ')
			capitalize(s);
	return clean;
}

static void tm_at(time_t t, int tz_offset_minutes, struct tm *tm)
{
	t += (time_t)tz_offset_minutes * 60;
	gmtime_r(&t, tm);
}

static char *name_entry(struct render *r, enum content_sec sec, int i)
{
	struct sbuf b = {0};

	render_seq(r, &r->rng, r->lang->sec[sec].entries[i], &b);
	return tidy(sb_steal(&b), r->en);
}

/* "2:30 pm", "10 am" ("10:00 am" when `exact`); 24-hour outside English */
static char *format_time(const struct render *r, int hour, int minute,
			 bool exact)
{
	int h12 = hour % 12 == 0 ? 12 : hour % 12;
	const char *ampm = hour < 12 ? "am" : "pm";

	if (!r->en)
		return xasprintf("%02d:%02d", hour, minute);
	if (minute == 0 && !exact)
		return xasprintf("%d %s", h12, ampm);
	return xasprintf("%d:%02d %s", h12, minute, ampm);
}

static char *format_date(struct render *r, const struct tm *tm, bool year)
{
	char *month = name_entry(r, CONTENT_SEC_MONTHS, tm->tm_mon);
	char *s;

	if (r->en && year)
		s = xasprintf("%s %d, %d", month, tm->tm_mday,
			      tm->tm_year + 1900);
	else if (r->en)
		s = xasprintf("%s %d", month, tm->tm_mday);
	else if (year)
		s = xasprintf("%d %s %d", tm->tm_mday, month,
			      tm->tm_year + 1900);
	else
		s = xasprintf("%d %s", tm->tm_mday, month);
	free(month);
	return s;
}

static void set_people(struct render *r, const struct content_request *req)
{
	r->var[CONTENT_VAR_FIRST_NAME] = party_first_name(&req->recipient);
	r->var[CONTENT_VAR_RECIPIENT_NAME] = party_full_name(&req->recipient);
	r->var[CONTENT_VAR_SENDER_FIRST] = party_first_name(&req->sender);
	r->var[CONTENT_VAR_SENDER_NAME] = party_full_name(&req->sender);
	r->var[CONTENT_VAR_COMPANY] = party_company(&req->recipient);
	r->var[CONTENT_VAR_SENDER_COMPANY] = party_company(&req->sender);
}

static void set_dates(struct render *r, const struct content_request *req)
{
	static const int hours[] = {9, 10, 10, 11, 11, 13, 14, 14, 15, 16};
	static const int minutes[] = {0, 0, 0, 30, 30, 15, 45};
	struct tm now, day;
	struct rng rng;
	time_t t;
	int ahead;

	rng_seed(&rng, RNG_DERIVE(r->about_seed, 2));
	tm_at(req->date, req->tz_offset_minutes, &now);
	/* the day the message talks about: a working day in the coming week */
	ahead = 1 + (int)rng_uniform(&rng, 6);
	t = r->about_date + (time_t)ahead * SECS_PER_DAY;
	tm_at(t, req->tz_offset_minutes, &day);
	if (day.tm_wday == 6 || day.tm_wday == 0) {
		t += (time_t)(day.tm_wday == 6 ? 2 : 1) * SECS_PER_DAY;
		tm_at(t, req->tz_offset_minutes, &day);
	}
	r->var[CONTENT_VAR_WEEKDAY] =
	    name_entry(r, CONTENT_SEC_WEEKDAYS, day.tm_wday);
	r->var[CONTENT_VAR_DATE] = format_date(r, &day, false);
	r->var[CONTENT_VAR_DAY] = xasprintf("%d", day.tm_mday);
	r->var[CONTENT_VAR_MONTH] =
	    name_entry(r, CONTENT_SEC_MONTHS, day.tm_mon);
	r->var[CONTENT_VAR_THIS_MONTH] =
	    name_entry(r, CONTENT_SEC_MONTHS, now.tm_mon);
	r->var[CONTENT_VAR_NEXT_MONTH] =
	    name_entry(r, CONTENT_SEC_MONTHS, (now.tm_mon + 1) % 12);
	r->var[CONTENT_VAR_TIME] = format_time(
	    r, hours[rng_uniform(&rng, sizeof(hours) / sizeof(*hours))],
	    minutes[rng_uniform(&rng, sizeof(minutes) / sizeof(*minutes))],
	    false);
}

static void set_quote(struct render *r, const struct content_request *req)
{
	const struct content_thread *th = req->thread;
	const struct content_party *from =
	    th->from != NULL ? th->from : &req->recipient;
	char *name = party_display_name(from);
	char *addr = clean_line(from->addr, CONTENT_MAX_NAME_BYTES);
	struct tm tm;

	tm_at(th->date, req->tz_offset_minutes, &tm);
	if (name[0] != '\0')
		r->var[CONTENT_VAR_QUOTE_NAME] =
		    xasprintf("%s <%s>", name, addr);
	else
		r->var[CONTENT_VAR_QUOTE_NAME] = xstrdup(addr);
	free(name);
	free(addr);
	r->var[CONTENT_VAR_QUOTE_WEEKDAY] =
	    name_entry(r, CONTENT_SEC_WEEKDAYS, tm.tm_wday);
	r->var[CONTENT_VAR_QUOTE_DATE] = format_date(r, &tm, true);
	r->var[CONTENT_VAR_QUOTE_TIME] =
	    format_time(r, tm.tm_hour, tm.tm_min, true);
}

/* The subject with every leading "Re:" (and its cousins) taken off. */
static const char *subject_base(const char *s)
{
	static const char *const prefixes[] = {"re", "aw", "sv", "antw", "vs"};

	for (;;) {
		const char *p = s + strspn(s, " \t");
		size_t i;

		for (i = 0; i < sizeof(prefixes) / sizeof(*prefixes); i++)
			if (strncasecmp(p, prefixes[i], strlen(prefixes[i])) ==
			    0)
				break;
		if (i == sizeof(prefixes) / sizeof(*prefixes))
			return p;
		p += strlen(prefixes[i]);
		/* "Re[2]:" as some clients count */
		if (*p == '[') {
			p++;
			p += strspn(p, "0123456789");
			if (*p != ']')
				return s + strspn(s, " \t");
			p++;
		}
		p += strspn(p, " \t");
		if (*p != ':')
			return s + strspn(s, " \t");
		s = p + 1;
	}
}

struct layout {
	struct sbuf text;
	struct sbuf html;
	/* the last paragraph added, owned */
	char *last;
};

static void add_para(struct layout *lo, const char *s)
{
	if (s[0] == '\0')
		return;
	free(lo->last);
	lo->last = xstrdup(s);
	if (lo->text.len > 0)
		sb_adds(&lo->text, "\n\n");
	sb_adds(&lo->text, s);
	sb_adds(&lo->html, "<p>");
	sb_add_html(&lo->html, s, strlen(s));
	sb_adds(&lo->html, "</p>\n");
}

/* Two pieces in one paragraph, or each in its own. */
static void add_joined(struct render *r, struct layout *lo, char *first,
		       const char *second, unsigned join_percent)
{
	if (first != NULL && first[0] != '\0' &&
	    rng_chance(&r->rng, join_percent)) {
		char *both = xasprintf("%s %s", first, second);

		add_para(lo, both);
		free(both);
		return;
	}
	if (first != NULL)
		add_para(lo, first);
	add_para(lo, second);
}

static void add_signoff(struct render *r, struct layout *lo)
{
	char *signoff =
	    render_unlike(r, &r->lang->sec[CONTENT_SEC_SIGNOFFS], lo->last);
	const char *name = rng_chance(&r->rng, 65)
			       ? r->var[CONTENT_VAR_SENDER_FIRST]
			       : r->var[CONTENT_VAR_SENDER_NAME];

	if (lo->text.len > 0)
		sb_adds(&lo->text, "\n\n");
	sb_adds(&lo->text, signoff);
	sb_adds(&lo->text, "\n");
	sb_adds(&lo->text, name);
	sb_adds(&lo->html, "<p>");
	sb_add_html(&lo->html, signoff, strlen(signoff));
	sb_adds(&lo->html, "<br>\n");
	sb_add_html(&lo->html, name, strlen(name));
	sb_adds(&lo->html, "</p>\n");
	free(signoff);
}

/* '>' marks at the start of a quoted line, each with its optional space. */
static int quote_depth(const char **line, size_t *len)
{
	int depth = 0;

	while (*len > 0 && **line == '>' && depth < MAX_QUOTE_DEPTH) {
		(*line)++;
		(*len)--;
		depth++;
		if (*len > 0 && **line == ' ') {
			(*line)++;
			(*len)--;
		}
	}
	return depth;
}

/*
 * The quoted message: "> " before each line in text; in HTML, paragraphs
 * in a blockquote, nested where the message quoted one already.
 */
static void add_quote(struct layout *lo, const char *text)
{
	const char *s = text;
	int depth = 0;
	bool para = false;
	size_t end = strlen(text);

	/* blank lines at the end are not quoted */
	while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r' ||
			   text[end - 1] == ' '))
		end--;
	sb_adds(&lo->html, "<blockquote type=\"cite\">\n");
	while (s < text + end) {
		const char *nl = memchr(s, '\n', (size_t)(text + end - s));
		size_t len =
		    nl != NULL ? (size_t)(nl - s) : (size_t)(text + end - s);
		const char *line = s;
		int d;

		s += len + (nl != NULL);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		sb_adds(&lo->text, "\n>");
		if (len > 0) {
			sb_adds(&lo->text, " ");
			sb_add(&lo->text, line, len);
		}
		d = quote_depth(&line, &len);
		if (d != depth || len == 0) {
			if (para)
				sb_adds(&lo->html, "</p>\n");
			para = false;
		}
		for (; depth < d; depth++)
			sb_adds(&lo->html, "<blockquote type=\"cite\">\n");
		for (; depth > d; depth--)
			sb_adds(&lo->html, "</blockquote>\n");
		if (len == 0)
			continue;
		sb_adds(&lo->html, para ? "<br>\n" : "<p>");
		sb_add_html(&lo->html, line, len);
		para = true;
	}
	if (para)
		sb_adds(&lo->html, "</p>\n");
	for (; depth > 0; depth--)
		sb_adds(&lo->html, "</blockquote>\n");
	sb_adds(&lo->html, "</blockquote>\n");
}

static const struct content_topic *topic_find(const struct content_lang *lang,
					      const char *name)
{
	if (name == NULL)
		return NULL;
	for (uint32_t i = 0; i < lang->n_topics; i++)
		if (strcmp(lang->topics[i].name, name) == 0)
			return &lang->topics[i];
	return NULL;
}

static char *write_first(struct render *r, const struct content_topic *topic,
			 struct layout *lo)
{
	const struct content_section *sec = r->lang->sec;
	const struct content_section *details =
	    &topic->sec[CONTENT_SEC_DETAILS];
	char *subject = render_any(r, &topic->sec[CONTENT_SEC_SUBJECTS]);
	char *greeting = render_any(r, &sec[CONTENT_SEC_GREETINGS]);
	char *opener = NULL;
	char *lead = render_any(r, &topic->sec[CONTENT_SEC_LEADS]);
	uint32_t n_details = 0, first = 0;
	uint64_t roll;

	if (sec[CONTENT_SEC_OPENERS].count > 0 && rng_chance(&r->rng, 60))
		opener = render_unlike(r, &sec[CONTENT_SEC_OPENERS], lead);
	add_para(lo, greeting);
	add_joined(r, lo, opener, lead, 50);
	/* mostly one or two paragraphs of detail under the lead */
	roll = rng_uniform(&r->rng, 100);
	n_details = roll < 15 ? 0 : roll < 65 ? 1 : 2;
	if (n_details > details->count)
		n_details = details->count;
	if (n_details > 0)
		first = (uint32_t)rng_uniform(&r->rng, details->count);
	for (uint32_t i = 0; i < n_details; i++) {
		uint32_t k = first;
		char *d;

		if (i == 1) {
			k = (uint32_t)rng_uniform(&r->rng, details->count - 1);
			k += k >= first;
		}
		d = render_index(r, details, k);
		add_para(lo, d);
		free(d);
	}
	if (rng_chance(&r->rng, 80)) {
		char *closing =
		    render_unlike(r, &sec[CONTENT_SEC_CLOSINGS], lo->last);

		add_para(lo, closing);
		free(closing);
	}
	add_signoff(r, lo);
	free(greeting);
	free(opener);
	free(lead);
	return subject;
}

static char *write_reply(struct render *r, const struct content_request *req,
			 const struct content_topic *topic, struct layout *lo)
{
	const struct content_section *sec = r->lang->sec;
	const struct content_section *body = &sec[CONTENT_SEC_REPLIES];
	char *subject, *clean, *opener = NULL, *answer, *attribution;

	clean = clean_line(req->thread->subject, MAX_SUBJECT_BYTES);
	subject = xasprintf("Re: %s", subject_base(clean));
	free(clean);
	tidy(subject, r->en);
	if (rng_chance(&r->rng, 65)) {
		char *greeting = render_any(r, &sec[CONTENT_SEC_GREETINGS]);

		add_para(lo, greeting);
		free(greeting);
	}
	/* the first reply answers the topic; later turns wind it down */
	if (req->turn == 1 && topic != NULL)
		body = &topic->sec[CONTENT_SEC_REPLIES];
	else if (req->turn > 1 && rng_chance(&r->rng, 70))
		body = &sec[CONTENT_SEC_ACKS];
	answer = render_any(r, body);
	if (rng_chance(&r->rng, req->turn == 1 ? 60 : 40))
		opener =
		    render_unlike(r, &sec[CONTENT_SEC_REPLY_OPENERS], answer);
	add_joined(r, lo, opener, answer, 60);
	if (sec[CONTENT_SEC_REPLY_CLOSINGS].count > 0 &&
	    rng_chance(&r->rng, 45)) {
		char *closing =
		    render_unlike(r, &sec[CONTENT_SEC_REPLY_CLOSINGS], answer);

		add_para(lo, closing);
		free(closing);
	}
	add_signoff(r, lo);
	attribution = render_any(r, &sec[CONTENT_SEC_ATTRIBUTIONS]);
	sb_adds(&lo->text, "\n\n");
	sb_adds(&lo->text, attribution);
	sb_adds(&lo->html, "<p>");
	sb_add_html(&lo->html, attribution, strlen(attribution));
	sb_adds(&lo->html, "</p>\n");
	add_quote(lo, req->thread->text);
	free(attribution);
	free(opener);
	free(answer);
	return subject;
}

static int check_request(const struct content_corpus *corpus,
			 const struct content_request *req,
			 const struct content_lang **lang_r,
			 struct hearth_err *err)
{
	const char *tag = req->lang != NULL ? req->lang : "en";
	const struct content_thread *th = req->thread;

	*lang_r = content_lang_find(corpus, tag);
	if (*lang_r == NULL) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "content: no corpus for language '%s'", tag);
		return -1;
	}
	if (req->sender.addr == NULL || req->sender.addr[0] == '\0' ||
	    req->recipient.addr == NULL || req->recipient.addr[0] == '\0') {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "content: sender and recipient need an "
			       "address");
		return -1;
	}
	if ((th == NULL) != (req->turn == 0)) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "content: turn %u %s a thread", req->turn,
			       th == NULL ? "needs" : "cannot have");
		return -1;
	}
	if (th == NULL)
		return 0;
	if (th->subject == NULL || th->text == NULL ||
	    (th->from != NULL &&
	     (th->from->addr == NULL || th->from->addr[0] == '\0'))) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "content: thread needs a subject, a text and "
			       "a sender address");
		return -1;
	}
	if (strlen(th->text) > CONTENT_MAX_THREAD_BYTES ||
	    !content_utf8_valid(th->text, strlen(th->text), NULL) ||
	    !content_utf8_valid(th->subject, strlen(th->subject), NULL)) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "content: thread text longer than %d bytes or "
			       "not UTF-8",
			       CONTENT_MAX_THREAD_BYTES);
		return -1;
	}
	return 0;
}

int content_render(const struct content_corpus *corpus,
		   const struct content_request *req,
		   struct content_message **msg_r, struct hearth_err *err)
{
	struct render r = {.c = corpus};
	struct layout lo = {0};
	const struct content_topic *topic;
	struct content_message *msg;

	if (check_request(corpus, req, &r.lang, err) < 0)
		return -1;
	r.en = strcmp(r.lang->tag, "en") == 0 ||
	       strncmp(r.lang->tag, "en-", 3) == 0;
	rng_seed(&r.rng, req->seed);
	r.about_seed = req->seed;
	r.about_date = req->date;
	if (req->thread != NULL) {
		r.about_seed = req->thread->root_seed;
		r.about_date = req->thread->root_date != 0
				   ? req->thread->root_date
				   : req->thread->date;
	}
	r.list = xcalloc(r.lang->n_lists + 1, sizeof(*r.list));
	set_people(&r, req);
	set_dates(&r, req);
	msg = xcalloc(1, sizeof(*msg));
	sb_adds(&lo.html, "<html>\n<body>\n");
	if (req->thread == NULL) {
		topic = &r.lang->topics[rng_uniform(&r.rng, r.lang->n_topics)];
		msg->subject = write_first(&r, topic, &lo);
	} else {
		topic = topic_find(r.lang, req->thread->topic);
		set_quote(&r, req);
		msg->subject = write_reply(&r, req, topic, &lo);
	}
	sb_adds(&lo.text, "\n");
	sb_adds(&lo.html, "</body>\n</html>\n");
	msg->text = sb_steal(&lo.text);
	msg->html = sb_steal(&lo.html);
	msg->topic = xstrdup(topic != NULL ? topic->name : "");
	free(lo.last);
	for (int i = 0; i < CONTENT_VAR_COUNT; i++)
		free(r.var[i]);
	for (uint32_t i = 0; i < r.lang->n_lists; i++)
		free(r.list[i]);
	free(r.list);
	*msg_r = msg;
	return 0;
}

void content_message_free(struct content_message **msg)
{
	if (*msg == NULL)
		return;
	free((*msg)->subject);
	free((*msg)->text);
	free((*msg)->html);
	free((*msg)->topic);
	free(*msg);
	*msg = NULL;
}
