/* SPDX-License-Identifier: MIT */
/*
 * The test harness: test_begin("name"), any number of test_assert(expr),
 * test_end(); main returns test_exit(). A failed assertion prints file:line
 * and the expression and marks the test failed; the program goes on to the
 * next test. Exit 77 (TEST_SKIP) means skipped, with the reason printed.
 */
#ifndef HEARTH_TEST_H
#define HEARTH_TEST_H

#include <stdio.h>
#include <stdlib.h>

#define TEST_SKIP 77

static const char *test_current;
static int test_current_failed;
static int test_count_failed;
static int test_count_run;

static inline void test_begin(const char *name)
{
	test_current = name;
	test_current_failed = 0;
	test_count_run++;
}

#define test_assert(expr)                                                      \
	do {                                                                   \
		if (!(expr)) {                                                 \
			fprintf(stderr, "%s:%d: %s: failed: %s\n", __FILE__,   \
				__LINE__, test_current, #expr);                \
			test_current_failed = 1;                               \
		}                                                              \
	} while (0)

static inline void test_end(void)
{
	printf("%-50s %s\n", test_current, test_current_failed ? "FAIL" : "ok");
	test_count_failed += test_current_failed;
}

/*
 * Scheduling slack for assertions that something ended "in time": 500 ms,
 * or TEST_SLACK_MSECS from the environment (the valgrind runs set more).
 */
static inline int test_slack_msecs(void)
{
	const char *v = getenv("TEST_SLACK_MSECS");

	return v != NULL && atoi(v) > 0 ? atoi(v) : 500;
}

/*
 * A factor for the timeouts and deadlines of tests that exercise them: 1,
 * or TEST_TIME_SCALE from the environment (valgrind runs everything some
 * twenty times slower and sets 4).
 */
static inline int test_time_scale(void)
{
	const char *v = getenv("TEST_TIME_SCALE");

	return v != NULL && atoi(v) > 0 ? atoi(v) : 1;
}

static inline int test_exit(void)
{
	printf("%d passed, %d failed\n", test_count_run - test_count_failed,
	       test_count_failed);
	return test_count_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
