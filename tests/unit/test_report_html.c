// SPDX-License-Identifier: MIT
/*
 * The HTML report's renderer without the command: `test_report_html
 * FILE.json` renders FILE's report to stdout (exit 0; 65 when FILE is not
 * JSON; 1 when the renderer refuses it), for tests/report_html.sh to check.
 * Without an argument it runs its own checks of the renderer's contract:
 * what it refuses, and that a failed write is reported.
 */
#include <string.h>

#include <jansson.h>

#include "report_html.h"
#include "test.h"

/* Render report into a memory buffer; the caller frees *html_r. */
static int render(const json_t *report, char **html_r, struct hearth_err *err)
{
	size_t size = 0;
	FILE *f = open_memstream(html_r, &size);
	int rc;

	if (f == NULL)
		return -1;
	rc = report_html_write(f, report, err);
	fclose(f);
	return rc;
}

static void test_refusals(void)
{
	struct hearth_err err = {0};
	json_t *j;
	char *html = NULL;

	test_begin("a report that is not an object is refused");
	j = json_array();
	test_assert(render(j, &html, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strstr(err.msg, "not a JSON object") != NULL);
	json_decref(j);
	free(html);
	html = NULL;
	test_assert(render(NULL, &html, &err) == -1);
	free(html);
	html = NULL;
	test_end();

	test_begin("another schema is refused, naming it");
	j = json_pack("{s:s}", "schema", "hearth-report/2");
	test_assert(render(j, &html, &err) == -1);
	test_assert(strstr(err.msg, "hearth-report/2") != NULL);
	json_decref(j);
	free(html);
	html = NULL;
	test_end();

	test_begin("an empty object renders a whole page");
	j = json_object();
	test_assert(render(j, &html, NULL) == 0);
	test_assert(html != NULL && strncmp(html, "<!DOCTYPE html>", 15) == 0);
	test_assert(html != NULL && strstr(html, "</html>\n") != NULL);
	test_assert(html != NULL && strstr(html, "All clients") != NULL);
	json_decref(j);
	free(html);
	test_end();
}

static void test_write_failure(void)
{
	struct hearth_err err = {0};
	json_t *j = json_pack("{s:s}", "schema", "hearth-report/1");
	FILE *f = fopen("/dev/full", "w");

	test_begin("a failed write is an error");
	if (f == NULL) {
		printf("no /dev/full: skipped\n");
	} else {
		test_assert(report_html_write(f, j, &err) == -1);
		test_assert(strstr(err.msg, "writing the HTML failed") != NULL);
		fclose(f);
	}
	json_decref(j);
	test_end();
}

int main(int argc, char **argv)
{
	struct hearth_err err = {0};
	json_error_t jerr;
	json_t *report;
	int rc;

	if (argc == 1) {
		test_refusals();
		test_write_failure();
		return test_exit();
	}
	if (argc != 2) {
		fprintf(stderr, "usage: test_report_html [REPORT.json]\n");
		return 64;
	}
	report = json_load_file(argv[1], 0, &jerr);
	if (report == NULL) {
		fprintf(stderr, "%s:%d: %s\n", argv[1], jerr.line, jerr.text);
		return 65;
	}
	rc = report_html_write(stdout, report, &err);
	json_decref(report);
	if (rc != 0) {
		fprintf(stderr, "test_report_html: %s\n", err.msg);
		return 1;
	}
	return 0;
}
