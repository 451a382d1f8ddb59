// SPDX-License-Identifier: MIT
#include "hearth/csv.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hearth/content.h"
#include "hearth/xalloc.h"

/*
 * How far past its start a bad record is followed, inside quotes, to find
 * where it ends. Further than that its quote is taken as never closed.
 */
#define CSV_MAX_SKIP_BYTES (4 * CSV_MAX_RECORD_BYTES)

/*
 * Error recovery and its cost. After a bad record the reader follows the
 * quotes to where the record ends. When a quote there never closes, the
 * record is taken to be one line long and reading goes on from the line
 * after its start; the stretch that was searched in vain is then read in
 * line mode, where a record cannot span lines (a line end inside quotes is
 * a quote never closed). So each byte is searched in vain at most once and
 * the work stays linear in the size of the file, whatever its quotes.
 */

struct csv_reader {
	char *name;
	const char *data;
	size_t len;
	size_t pos;
	/* the physical line at pos, from 1 */
	size_t line;
	/* one past the last '"' in the data, 0 when there is none */
	size_t quote_end;
	/* records that start before this offset are read in line mode */
	size_t line_mode_end;
	/* the fields of the last record, NUL-terminated, one after another */
	char *buf;
	char *fields[CSV_MAX_FIELDS];
};

/* Where a record's scan stands when something is wrong with it. */
struct csv_scan {
	size_t start;	   /* offset of the record */
	size_t start_line; /* its first line */
	size_t field;	   /* the field being read, from 1 */
	size_t qline;	   /* where the open quote opened */
	bool in_quotes;
	bool field_start; /* nothing of the field read yet */
	bool unclosed;	  /* the defect is a quote that cannot close */
	bool line_mode;	  /* the record must end on the line it starts */
	/* the defect: its line and what it is */
	size_t bad_line;
	char what[160];
};

struct csv_reader *csv_reader_new(const char *name, const char *data,
				  size_t len)
{
	struct csv_reader *r = xcalloc(1, sizeof(*r));
	const char *q;

	r->name = xstrdup(name);
	r->data = data;
	r->len = data != NULL ? len : 0;
	r->line = 1;
	if (r->len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		r->pos = 3;
	q = r->len > 0 ? memrchr(data, '"', r->len) : NULL;
	r->quote_end = q != NULL ? (size_t)(q - data) + 1 : 0;
	r->buf = xmalloc(CSV_MAX_RECORD_BYTES + CSV_MAX_FIELDS + 1);
	return r;
}

void csv_reader_free(struct csv_reader **r)
{
	if (r == NULL || *r == NULL)
		return;
	free((*r)->name);
	free((*r)->buf);
	free(*r);
	*r = NULL;
}

static int __attribute__((format(printf, 3, 4)))
csv_bad(struct csv_scan *s, size_t line, const char *fmt, ...)
{
	va_list ap;

	s->bad_line = line;
	va_start(ap, fmt);
	vsnprintf(s->what, sizeof(s->what), fmt, ap);
	va_end(ap);
	return -1;
}

/* A line end at data[pos]: LF, CRLF, or a CR that ends the data. */
static size_t csv_eol_len(const struct csv_reader *r, size_t pos)
{
	if (pos >= r->len)
		return 0;
	if (r->data[pos] == '\n')
		return 1;
	if (r->data[pos] == '\r') {
		if (pos + 1 == r->len)
			return 1;
		if (r->data[pos + 1] == '\n')
			return 2;
	}
	return 0;
}

static int csv_quoted(struct csv_reader *r, struct csv_scan *s, size_t *o)
{
	const char *d = r->data;
	size_t f = *o;

	s->qline = r->line;
	s->in_quotes = true;
	s->field_start = false;
	r->pos++;
	for (;;) {
		size_t step = 1;
		char c;

		/* no '"' from here on: the quote cannot close */
		if (r->quote_end <= r->pos) {
			s->unclosed = true;
			return csv_bad(s, s->qline,
				       "quote never closed in field %zu",
				       s->field);
		}
		if (r->pos - s->start >= CSV_MAX_RECORD_BYTES)
			return csv_bad(s, r->line,
				       "record longer than %d bytes",
				       CSV_MAX_RECORD_BYTES);
		c = d[r->pos];
		if (c == '"') {
			if (r->pos + 1 < r->len && d[r->pos + 1] == '"') {
				step = 2;
			} else {
				r->pos++;
				s->in_quotes = false;
				break;
			}
		}
		if (c == '\0')
			return csv_bad(s, r->line, "NUL byte in field %zu",
				       s->field);
		if (c == '\n' && s->line_mode) {
			s->unclosed = true;
			return csv_bad(s, s->qline,
				       "quote never closed in field %zu",
				       s->field);
		}
		if (*o - f >= CSV_MAX_FIELD_BYTES)
			return csv_bad(s, r->line,
				       "field %zu longer than %d bytes",
				       s->field, CSV_MAX_FIELD_BYTES);
		r->buf[(*o)++] = c;
		if (c == '\n')
			r->line++;
		r->pos += step;
	}
	if (r->pos < r->len && d[r->pos] != ',' && csv_eol_len(r, r->pos) == 0)
		return csv_bad(s, r->line,
			       "text after the closing quote of field %zu",
			       s->field);
	return 0;
}

static int csv_plain(struct csv_reader *r, struct csv_scan *s, size_t *o)
{
	const char *d = r->data;
	size_t f = *o;

	while (r->pos < r->len && d[r->pos] != ',' &&
	       csv_eol_len(r, r->pos) == 0) {
		char c = d[r->pos];

		s->field_start = false;
		if (r->pos - s->start >= CSV_MAX_RECORD_BYTES)
			return csv_bad(s, r->line,
				       "record longer than %d bytes",
				       CSV_MAX_RECORD_BYTES);
		if (c == '"')
			return csv_bad(
			    s, r->line,
			    "quote inside unquoted field %zu (enclose "
			    "the field in quotes and double the "
			    "quote)",
			    s->field);
		if (c == '\r')
			return csv_bad(s, r->line,
				       "carriage return without line feed in "
				       "field %zu",
				       s->field);
		if (c == '\0')
			return csv_bad(s, r->line, "NUL byte in field %zu",
				       s->field);
		if (*o - f >= CSV_MAX_FIELD_BYTES)
			return csv_bad(s, r->line,
				       "field %zu longer than %d bytes",
				       s->field, CSV_MAX_FIELD_BYTES);
		r->buf[(*o)++] = c;
		r->pos++;
	}
	return 0;
}

/* One record at r->pos into r->buf and r->fields. */
static int csv_record(struct csv_reader *r, struct csv_scan *s, size_t *n_r)
{
	size_t o = 0, n = 0, bad, eol;

	for (;;) {
		size_t f = o;
		int rc;

		s->field = n + 1;
		s->field_start = true;
		if (n == CSV_MAX_FIELDS)
			return csv_bad(s, r->line, "more than %d fields",
				       CSV_MAX_FIELDS);
		if (r->pos < r->len && r->data[r->pos] == '"')
			rc = csv_quoted(r, s, &o);
		else
			rc = csv_plain(r, s, &o);
		if (rc < 0)
			return -1;
		if (!content_utf8_valid(r->buf + f, o - f, &bad))
			return csv_bad(s, r->line,
				       "invalid UTF-8 in field %zu at byte %zu",
				       s->field, bad + 1);
		r->buf[o++] = '\0';
		r->fields[n++] = r->buf + f;
		if (r->pos < r->len && r->data[r->pos] == ',') {
			r->pos++;
			continue;
		}
		eol = csv_eol_len(r, r->pos);
		r->pos += eol;
		if (eol > 0)
			r->line++;
		*n_r = n;
		return 0;
	}
}

/* Back to the line after the one the bad record starts on. */
static void csv_resync_line(struct csv_reader *r, const struct csv_scan *s)
{
	const char *nl = memchr(r->data + s->start, '\n', r->len - s->start);

	r->pos = nl != NULL ? (size_t)(nl - r->data) + 1 : r->len;
	r->line = s->start_line + 1;
}

/*
 * Past the end of a bad record, following its quotes as leniently as
 * possible: a '"' opens a quoted field only at the start of a field. A
 * quote that cannot close (no '"' after it, or none within
 * CSV_MAX_SKIP_BYTES of the record's start) ends the skip: the record is
 * then taken to be one line long. When that quote is the one open at the
 * defect, the defect is that quote.
 */
static void csv_skip(struct csv_reader *r, struct csv_scan *s)
{
	const char *d = r->data;
	bool same_quote = s->in_quotes;

	while (r->pos < r->len) {
		char c = d[r->pos];

		if (s->in_quotes) {
			if (r->quote_end <= r->pos ||
			    r->pos - s->start >= CSV_MAX_SKIP_BYTES)
				break;
			if (c == '"') {
				if (r->pos + 1 < r->len && d[r->pos + 1] == '"')
					r->pos++;
				else
					s->in_quotes = false;
			} else if (c == '\n') {
				r->line++;
			}
			r->pos++;
			continue;
		}
		same_quote = false;
		r->pos++;
		if (c == '\n') {
			r->line++;
			return;
		}
		if (c == '"' && s->field_start) {
			s->in_quotes = true;
			s->qline = r->line;
		}
		s->field_start = c == ',';
	}
	if (!s->in_quotes)
		return;
	if (same_quote && !s->unclosed)
		csv_bad(s, s->qline, "quote never closed in field %zu",
			s->field);
	if (r->line_mode_end < r->pos)
		r->line_mode_end = r->pos;
	csv_resync_line(r, s);
}

int csv_next(struct csv_reader *r, char ***fields_r, size_t *n_r,
	     size_t *line_r, struct hearth_err *err)
{
	struct csv_scan s = {0};
	size_t eol, n = 0;

	/* blank lines */
	while ((eol = csv_eol_len(r, r->pos)) > 0) {
		r->pos += eol;
		r->line++;
	}
	if (r->pos >= r->len)
		return 0;
	s.start = r->pos;
	s.start_line = r->line;
	s.line_mode = r->pos < r->line_mode_end;
	*line_r = s.start_line;
	if (csv_record(r, &s, &n) == 0) {
		*fields_r = r->fields;
		*n_r = n;
		return 1;
	}
	if (s.line_mode)
		csv_resync_line(r, &s);
	else
		csv_skip(r, &s);
	if (s.bad_line == s.start_line)
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0, "%s:%zu: %s",
			       r->name, s.bad_line, s.what);
	else
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "%s:%zu: %s (in the record from line %zu)",
			       r->name, s.bad_line, s.what, s.start_line);
	return -1;
}
