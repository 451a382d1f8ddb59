// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>

#include "hearth/clock.h"
#include "test.h"

static void test_days(void)
{
	char buf[CLOCK_DATE_SIZE];
	int64_t d;

	test_begin("clock: day index, dates and weekdays");
	test_assert(clock_day_index(0) == 0);
	test_assert(clock_day_index(86399) == 0);
	test_assert(clock_day_index(86400) == 1);
	test_assert(clock_day_index(-1) == -1);
	test_assert(clock_day_index(-86400) == -1);
	test_assert(clock_day_index(-86401) == -2);
	clock_day_format(0, buf);
	test_assert(strcmp(buf, "1970-01-01") == 0);
	/* 2026-12-07 00:00:00 UTC is 1796601600 */
	test_assert(clock_day_parse("2026-12-07", &d) == 0 &&
		    d * CLOCK_DAY_SECS == 1796601600);
	clock_day_format(d, buf);
	test_assert(strcmp(buf, "2026-12-07") == 0);
	test_assert(clock_weekday(d) == 1); /* a Monday */
	test_assert(clock_weekday(0) == 4); /* a Thursday */
	test_assert(clock_weekday(-1) == 3);
	/* every day of four centuries round-trips */
	for (int64_t i = -1000; i < 146097 + 1000; i++) {
		int64_t back = -1;

		clock_day_format(i, buf);
		if (clock_day_parse(buf, &back) != 0 || back != i) {
			test_assert(back == i);
			break;
		}
	}
	test_assert(clock_day_parse("2024-02-29", &d) == 0);
	test_assert(clock_day_parse("2026-02-29", &d) == -1);
	test_assert(clock_day_parse("2026-13-01", &d) == -1);
	test_assert(clock_day_parse("2026-1-01", &d) == -1);
	test_assert(clock_day_parse("2026-01-01x", &d) == -1);
	test_assert(clock_day_parse("", &d) == -1);
	test_assert(clock_day_parse(NULL, &d) == -1);
	test_end();
}

static void test_zones(void)
{
	int mins = 99;
	/* 2026-01-15 12:00 UTC, 2026-07-15 12:00 UTC */
	int64_t winter = 1768478400, summer = 1784116800;

	test_begin("clock: time zone offsets");
	test_assert(clock_tz_offset("UTC", winter, &mins) == 0 && mins == 0);
	test_assert(clock_tz_offset("Europe/Berlin", winter, &mins) == 0 &&
		    mins == 60);
	test_assert(clock_tz_offset("Europe/Berlin", summer, &mins) == 0 &&
		    mins == 120);
	test_assert(clock_tz_offset("America/New_York", winter, &mins) == 0 &&
		    mins == -300);
	test_assert(clock_tz_offset("Asia/Kolkata", summer, &mins) == 0 &&
		    mins == 330);
	test_assert(clock_tz_offset("Nowhere/Atlantis", winter, &mins) ==
			-1 &&
		    mins == 0);
	test_assert(clock_tz_offset("../etc/passwd", winter, &mins) == -1);
	test_assert(clock_tz_offset(NULL, winter, &mins) == -1);
	/* 23:30 UTC on 2026-01-15 is already the 16th in Berlin */
	test_assert(clock_local_day("Europe/Berlin", 1768519800) ==
		    clock_day_index(1768519800) + 1);
	test_assert(clock_local_day("UTC", 1768519800) ==
		    clock_day_index(1768519800));
	test_end();
}

static void test_hhmm(void)
{
	test_begin("clock: HH:MM");
	test_assert(clock_hhmm_parse("00:00") == 0);
	test_assert(clock_hhmm_parse("09:30") == 570);
	test_assert(clock_hhmm_parse("23:59") == 1439);
	test_assert(clock_hhmm_parse("24:00") == -1);
	test_assert(clock_hhmm_parse("9:30") == -1);
	test_assert(clock_hhmm_parse("09:60") == -1);
	test_assert(clock_hhmm_parse("09:30 ") == -1);
	test_assert(clock_hhmm_parse(NULL) == -1);
	test_end();
}

int main(void)
{
	setenv("TZ", "America/Los_Angeles", 1);
	test_days();
	test_zones();
	/* the zone switch restored the caller's TZ */
	test_assert(strcmp(getenv("TZ"), "America/Los_Angeles") == 0);
	test_hhmm();
	return test_exit();
}
