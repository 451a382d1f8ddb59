// SPDX-License-Identifier: MIT
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hearth/csv.h"
#include "hearth/xalloc.h"
#include "test.h"

#define MAX_WANT_FIELDS 8
#define MAX_WANT	8

/* One result of csv_next: a record, or a bad record (msg set). */
struct want {
	size_t line;
	const char *fields[MAX_WANT_FIELDS + 1];
	/* for a bad record: the exact message */
	const char *msg;
};

struct csv_case {
	const char *name;
	const char *data;
	/* 0: strlen(data) */
	size_t len;
	/* in order; the end after the last */
	struct want want[MAX_WANT];
	size_t n_want;
};

#define REC(l, ...)                                                            \
	{                                                                      \
		.line = (l), .fields = { __VA_ARGS__, NULL }                   \
	}
#define BAD(l, m)                                                              \
	{                                                                      \
		.line = (l), .msg = (m)                                        \
	}

/* clang-format off */
static const struct csv_case cases[] = {
	{"simple", "a,b,c\nd,e,f\n", 0,
	 {REC(1, "a", "b", "c"), REC(2, "d", "e", "f")}, 2},
	{"quoted comma", "\"a,b\",c\n", 0, {REC(1, "a,b", "c")}, 1},
	{"doubled quotes", "\"say \"\"hi\"\"\",\"\"\"\"\n", 0,
	 {REC(1, "say \"hi\"", "\"")}, 1},
	{"embedded LF", "a,\"x\ny\",b\nc,d\n", 0,
	 {REC(1, "a", "x\ny", "b"), REC(3, "c", "d")}, 2},
	{"embedded CRLF", "a,\"x\r\ny\r\n\r\nz\"\r\nc,d\r\n", 0,
	 {REC(1, "a", "x\r\ny\r\n\r\nz"), REC(5, "c", "d")}, 2},
	{"quoted line ends only", "\"\n\",\"\r\n\"\n", 0,
	 {REC(1, "\n", "\r\n")}, 1},
	{"CRLF line ends", "a,b\r\nc,d\r\n", 0,
	 {REC(1, "a", "b"), REC(2, "c", "d")}, 2},
	{"mixed line ends", "a\r\nb\nc\r\n", 0,
	 {REC(1, "a"), REC(2, "b"), REC(3, "c")}, 3},
	{"BOM", "\xef\xbb\xbfname,email\nx,y\n", 0,
	 {REC(1, "name", "email"), REC(2, "x", "y")}, 2},
	{"BOM quoted", "\xef\xbb\xbf\"name\"\n", 0, {REC(1, "name")}, 1},
	{"BOM only at the start", "a\n\xef\xbb\xbf" "b\n", 0,
	 {REC(1, "a"), REC(2, "\xef\xbb\xbf" "b")}, 2},
	{"blank lines", "\n\r\na,b\n\n\r\n\nc\n\n", 0,
	 {REC(3, "a", "b"), REC(7, "c")}, 2},
	{"no trailing newline", "a,b\nc,d", 0,
	 {REC(1, "a", "b"), REC(2, "c", "d")}, 2},
	{"CR at the very end", "a,b\r", 0, {REC(1, "a", "b")}, 1},
	{"quoted at the very end", "a,\"b\"", 0, {REC(1, "a", "b")}, 1},
	{"empty fields", ",,\n\"\",x,\n,\"\"\n", 0,
	 {REC(1, "", "", ""), REC(2, "", "x", ""), REC(3, "", "")}, 3},
	{"not trimmed", " a , b \n", 0, {REC(1, " a ", " b ")}, 1},
	{"SQL metacharacters",
	 "'; DROP TABLE inbox; --,\"a\"\"b\",x' OR '1'='1,\\\\,%_\n", 0,
	 {REC(1, "'; DROP TABLE inbox; --", "a\"b", "x' OR '1'='1", "\\\\",
	      "%_")}, 1},
	{"UTF-8", "J\xc3\xb6rg,\xe2\x82\xac,\xf0\x9f\x98\x80\n", 0,
	 {REC(1, "J\xc3\xb6rg", "\xe2\x82\xac", "\xf0\x9f\x98\x80")}, 1},
	{"empty", "", 0, {{0}}, 0},
	{"BOM and blank lines only", "\xef\xbb\xbf\r\n\n", 0, {{0}}, 0},

	/* bad records: the reader goes on with the next good one */
	{"unbalanced quote", "a,b\nc,\"d\ne,f\n", 0,
	 {REC(1, "a", "b"), BAD(2, "t.csv:2: quote never closed in field 2"),
	  REC(3, "e", "f")}, 3},
	{"unbalanced quote, last line", "a\n\"b", 0,
	 {REC(1, "a"), BAD(2, "t.csv:2: quote never closed in field 1")}, 2},
	{"unbalanced quote in a multi-line record",
	 "a,\"x\ny\",\"z\nb,c\n", 0,
	 {BAD(1, "t.csv:2: quote never closed in field 3 (in the record from "
	      "line 1)"),
	  BAD(2, "t.csv:2: quote inside unquoted field 1 (enclose the field "
	      "in quotes and double the quote)"),
	  REC(3, "b", "c")}, 3},
	{"quote inside unquoted field", "ab\"c,d\nx,y\n", 0,
	 {BAD(1, "t.csv:1: quote inside unquoted field 1 (enclose the field in "
	      "quotes and double the quote)"),
	  REC(2, "x", "y")}, 2},
	{"text after closing quote", "\"ab\"c,d\nx\n", 0,
	 {BAD(1, "t.csv:1: text after the closing quote of field 1"),
	  REC(2, "x")}, 2},
	{"text after closing quote, quotes after", "a,\"b\"c,\"d\ne\"\nx\n", 0,
	 {BAD(1, "t.csv:1: text after the closing quote of field 2"),
	  REC(3, "x")}, 2},
	{"bare CR", "a\rb,c\nd\n", 0,
	 {BAD(1, "t.csv:1: carriage return without line feed in field 1"),
	  REC(2, "d")}, 2},
	{"NUL", "a,b\0c\nd\n", 8,
	 {BAD(1, "t.csv:1: NUL byte in field 2"), REC(2, "d")}, 2},
	{"NUL quoted over lines", "a,\"x\ny\0\",b\nc\n", 13,
	 {BAD(1, "t.csv:2: NUL byte in field 2 (in the record from line 1)"),
	  REC(3, "c")}, 2},
	{"invalid UTF-8", "ok\na,\xff\nd\n", 0,
	 {REC(1, "ok"), BAD(2, "t.csv:2: invalid UTF-8 in field 2 at byte 1"),
	  REC(3, "d")}, 3},
	{"overlong UTF-8", "\"x\xc0\xaf\"\nd\n", 0,
	 {BAD(1, "t.csv:1: invalid UTF-8 in field 1 at byte 2"), REC(2, "d")},
	 2},
	{"surrogate", "\xed\xa0\x80\nd\n", 0,
	 {BAD(1, "t.csv:1: invalid UTF-8 in field 1 at byte 1"), REC(2, "d")},
	 2},
	{"truncated UTF-8 before a quote", "\"\xc3\",x\nd\n", 0,
	 {BAD(1, "t.csv:1: invalid UTF-8 in field 1 at byte 1"), REC(2, "d")},
	 2},
};
/* clang-format on */

static bool same_fields(char **got, size_t n, const char *const *want)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (want[i] == NULL || strcmp(got[i], want[i]) != 0)
			return false;
	}
	return want[i] == NULL;
}

static void run_case(const struct csv_case *c)
{
	size_t len = c->len != 0 ? c->len : strlen(c->data);
	struct csv_reader *r = csv_reader_new("t.csv", c->data, len);
	size_t n_want = c->n_want;
	for (size_t i = 0; i <= n_want; i++) {
		struct hearth_err err = {0};
		char **fields = NULL;
		size_t n = 0, line = 0;
		int rc = csv_next(r, &fields, &n, &line, &err);
		bool ok;

		if (i == n_want) {
			ok = rc == 0;
		} else if (c->want[i].msg != NULL) {
			ok = rc == -1 && line == c->want[i].line &&
			     err.fail == HEARTH_FAIL_PERMANENT &&
			     strcmp(err.msg, c->want[i].msg) == 0;
		} else {
			ok = rc == 1 && line == c->want[i].line &&
			     same_fields(fields, n, c->want[i].fields);
		}
		test_assert(ok);
		if (!ok) {
			fprintf(stderr, "  %s: result %zu: rc %d line %zu",
				c->name, i, rc, line);
			if (rc < 0)
				fprintf(stderr, " msg '%s'", err.msg);
			for (size_t f = 0; rc == 1 && f < n; f++)
				fprintf(stderr, " [%s]", fields[f]);
			fprintf(stderr, "\n");
			break;
		}
	}
	/* the end stays the end */
	{
		char **fields = NULL;
		size_t n = 0, line = 0;

		test_assert(csv_next(r, &fields, &n, &line, NULL) == 0);
	}
	csv_reader_free(&r);
	test_assert(r == NULL);
}

static void test_table(void)
{
	test_begin("csv: table of records and bad records");
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		run_case(&cases[i]);
	csv_reader_free(NULL);
	test_end();
}

/* A file built from parts; the caller frees it. */
static char *build(size_t *len_r, const char *head, char fill, size_t fill_len,
		   const char *tail)
{
	size_t h = strlen(head), t = strlen(tail);
	char *s = xmalloc(h + fill_len + t + 1);

	memcpy(s, head, h);
	memset(s + h, fill, fill_len);
	memcpy(s + h + fill_len, tail, t + 1);
	*len_r = h + fill_len + t;
	return s;
}

static int next(struct csv_reader *r, char ***fields_r, size_t *n_r,
		size_t *line_r, struct hearth_err *err)
{
	return csv_next(r, fields_r, n_r, line_r, err);
}

static void test_limits(void)
{
	struct hearth_err err = {0};
	struct csv_reader *r;
	char **fields;
	size_t len, n, line;
	char *data;

	test_begin("csv: field, field count and record limits");
	/* a field of exactly the limit, then one over it */
	data = build(&len, "x,", 'a', CSV_MAX_FIELD_BYTES, "\nok\n");
	r = csv_reader_new("t.csv", data, len);
	test_assert(next(r, &fields, &n, &line, &err) == 1 && n == 2 &&
		    strlen(fields[1]) == CSV_MAX_FIELD_BYTES);
	test_assert(next(r, &fields, &n, &line, &err) == 1 && line == 2);
	csv_reader_free(&r);
	free(data);
	data = build(&len, "x,\"", 'a', CSV_MAX_FIELD_BYTES + 1, "\",y\nok\n");
	r = csv_reader_new("t.csv", data, len);
	test_assert(next(r, &fields, &n, &line, &err) == -1 && line == 1);
	test_assert(strcmp(err.msg, "t.csv:1: field 2 longer than 4096 "
				    "bytes") == 0);
	test_assert(next(r, &fields, &n, &line, &err) == 1 && line == 2 &&
		    strcmp(fields[0], "ok") == 0);
	csv_reader_free(&r);
	free(data);

	/* exactly CSV_MAX_FIELDS fields, then one more */
	data = build(&len, "", ',', CSV_MAX_FIELDS - 1, "\n");
	r = csv_reader_new("t.csv", data, len);
	test_assert(next(r, &fields, &n, &line, &err) == 1 &&
		    n == CSV_MAX_FIELDS);
	csv_reader_free(&r);
	free(data);
	data = build(&len, "a\n", ',', CSV_MAX_FIELDS, "\"x\ny\"\nok\n");
	r = csv_reader_new("t.csv", data, len);
	test_assert(next(r, &fields, &n, &line, &err) == 1 && line == 1);
	test_assert(next(r, &fields, &n, &line, &err) == -1 && line == 2);
	test_assert(strcmp(err.msg, "t.csv:2: more than 64 fields") == 0);
	/* the quoted field past the limit was followed to its end */
	test_assert(next(r, &fields, &n, &line, &err) == 1 && line == 4 &&
		    strcmp(fields[0], "ok") == 0);
	csv_reader_free(&r);
	free(data);

	/* a record over CSV_MAX_RECORD_BYTES made of fields within theirs */
	{
		size_t per = 4000, count = 20;
		char *p;

		len = count * (per + 1) + 3;
		data = xmalloc(len + 1);
		p = data;
		for (size_t i = 0; i < count; i++) {
			memset(p, 'b', per);
			p[per] = i + 1 < count ? ',' : '\n';
			p += per + 1;
		}
		memcpy(p, "ok\n", 4);
		r = csv_reader_new("t.csv", data, len);
		test_assert(next(r, &fields, &n, &line, &err) == -1 &&
			    line == 1);
		test_assert(strcmp(err.msg, "t.csv:1: record longer than "
					    "65536 bytes") == 0);
		test_assert(next(r, &fields, &n, &line, &err) == 1 &&
			    line == 2 && strcmp(fields[0], "ok") == 0);
		test_assert(next(r, &fields, &n, &line, &err) == 0);
		csv_reader_free(&r);
		free(data);
	}

	/* a quote that never closes, with a long tail behind it */
	data = build(&len, "a,\"", 'z', 3 * CSV_MAX_RECORD_BYTES, "\nb,c\n");
	r = csv_reader_new("t.csv", data, len);
	test_assert(next(r, &fields, &n, &line, &err) == -1 && line == 1);
	test_assert(strcmp(err.msg, "t.csv:1: quote never closed in field 2") ==
		    0);
	test_assert(next(r, &fields, &n, &line, &err) == 1 && line == 2);
	test_assert(next(r, &fields, &n, &line, &err) == 0);
	csv_reader_free(&r);
	free(data);
	test_end();
}

/*
 * Seconds to read `unit` repeated to `total` bytes, plus one '"' at the end
 * (a quote that closes nothing useful), to the end.
 */
static double read_secs(const char *unit, size_t total)
{
	size_t ul = strlen(unit), len = 0, calls = 0, n, line;
	char *data = xmalloc(total + 8);
	struct timespec t0, t1;
	struct csv_reader *r;
	struct hearth_err err;
	char **fields;

	while (len + ul <= total) {
		memcpy(data + len, unit, ul);
		len += ul;
	}
	data[len++] = '"';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = csv_reader_new("t.csv", data, len);
	while (next(r, &fields, &n, &line, &err) != 0 && calls <= len)
		calls++;
	csv_reader_free(&r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	test_assert(calls <= len);
	free(data);
	return (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/*
 * Hostile shapes must cost time in proportion to the file. A MiB of each
 * takes milliseconds; a quadratic reader takes minutes ("\na\",\"" once
 * cost a search of 256 KiB per line: 134 s). The bound is loose so that a
 * busy machine, the sanitizers or valgrind do not fail the test.
 */
static void test_hostile_time(void)
{
	static const char *const units[] = {
	    "\"\n",	      "a,\"\n",	      "\"a\"b\n",  "\"\"\"\n",
	    ",\"\n\"x",	      "\"\"\"\"\n",   "\",\n",	   "\xff\n",
	    "a\"\n\"",	      "\"\"\"\"\"\n", "\"a\"\"\n", "\na\",\"",
	    "\r\"\"\"\"\"\n", "\n\r\"",
	};
	double limit = 5.0 * test_slack_msecs() / 500;

	test_begin("csv: hostile input is read in linear time");
	for (size_t u = 0; u < sizeof(units) / sizeof(*units); u++) {
		double secs = read_secs(units[u], 1024 * 1024);

		test_assert(secs < limit);
		if (secs >= limit)
			fprintf(stderr, "  unit %zu: %.3f s\n", u, secs);
	}
	test_end();
}

int main(void)
{
	test_table();
	test_limits();
	test_hostile_time();
	return test_exit();
}
