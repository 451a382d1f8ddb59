// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>

#include "hearth/err.h"
#include "hearth/log.h"
#include "hearth/xalloc.h"
#include "test.h"

static void test_quote(void)
{
	static const struct {
		const char *in;
		size_t size;
		const char *out;
	} cases[] = {
	    {"plain", 64, "plain"},
	    {"", 64, "\"\""},
	    {"two words", 64, "\"two words\""},
	    {"a=b", 64, "\"a=b\""},
	    {"say \"hi\"", 64, "\"say \\\"hi\\\"\""},
	    {"back\\slash", 64, "\"back\\\\slash\""},
	    {"line\r\nbreak", 64, "\"line\\x0d\\x0abreak\""},
	    {"caf\xc3\xa9", 64, "caf\xc3\xa9"},
	    {"a long value with spaces", 16, "\"a long val...\""},
	    {"abcdefghijklmnop", 8, "\"ab...\""},
	};

	test_begin("log_quote");
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char buf[64];
		const char *got = log_quote(cases[i].in, buf, cases[i].size);

		if (strcmp(got, cases[i].out) != 0)
			fprintf(stderr, "case %zu: got [%s] want [%s]\n", i,
				got, cases[i].out);
		test_assert(strcmp(got, cases[i].out) == 0);
		test_assert(strlen(got) < cases[i].size);
	}
	test_end();
}

static void test_lines(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	enum log_level level;

	test_begin("log levels and lines");
	log_set_stream(mem);
	log_set_level(LOG_LEVEL_WARN);
	log_info("inbox=%d result=%s", 1, "dropped");
	log_warn("inbox=%d result=%s", 2, "kept");
	log_error("job=send fail=%s", hearth_fail_name(HEARTH_FAIL_AUTH));
	fclose(mem);
	log_set_stream(NULL);
	log_set_level(LOG_LEVEL_INFO);
	test_assert(strstr(text, "dropped") == NULL);
	test_assert(strstr(text, " warn inbox=2 result=kept\n") != NULL);
	test_assert(strstr(text, " error job=send fail=auth\n") != NULL);
	test_assert(log_level_parse("DEBUG", &level) == 0 &&
		    level == LOG_LEVEL_DEBUG);
	test_assert(log_level_parse("loud", &level) == -1);
	free(text);
	test_end();
}

static void test_err(void)
{
	struct hearth_err err = {0};
	char *s;

	test_begin("hearth_err_set and xasprintf");
	hearth_err_set(&err, HEARTH_FAIL_BACKOFF, 451, "smtp %s", "busy");
	test_assert(err.fail == HEARTH_FAIL_BACKOFF && err.code == 451);
	test_assert(strcmp(err.msg, "smtp busy") == 0);
	hearth_err_set(NULL, HEARTH_FAIL_RETRY, 0, "ignored");
	test_assert(strcmp(hearth_fail_name(HEARTH_FAIL_TLS), "tls") == 0);
	s = xasprintf("%s-%d", "x", 42);
	test_assert(strcmp(s, "x-42") == 0);
	free(s);
	s = xstrndup("abcdef", 3);
	test_assert(strcmp(s, "abc") == 0);
	free(s);
	test_end();
}

int main(void)
{
	test_quote();
	test_lines();
	test_err();
	return test_exit();
}
