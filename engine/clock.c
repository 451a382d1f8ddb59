// SPDX-License-Identifier: MIT
/*
 * Calendar arithmetic (days from civil dates and back, Howard Hinnant's
 * algorithms) and zone offsets through localtime_r with TZ switched.
 */
#include "hearth/clock.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int64_t clock_day_index(int64_t t)
{
	return t >= 0 ? t / CLOCK_DAY_SECS
		      : -((-t + CLOCK_DAY_SECS - 1) / CLOCK_DAY_SECS);
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y_r, unsigned *m_r,
			    unsigned *d_r)
{
	int64_t era, y;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d_r = doy - (153 * mp + 2) / 5 + 1;
	*m_r = mp < 10 ? mp + 3 : mp - 9;
	*y_r = y + (*m_r <= 2);
}

void clock_day_format(int64_t day, char *buf)
{
	int64_t y;
	unsigned m, d;

	civil_from_days(day, &y, &m, &d);
	if (y < 0 || y > 9999)
		y = y < 0 ? 0 : 9999;
	snprintf(buf, CLOCK_DATE_SIZE, "%04d-%02u-%02u", (int)y, m % 100,
		 d % 100);
}

int clock_day_parse(const char *text, int64_t *day_r)
{
	static const unsigned mdays[] = {31, 29, 31, 30, 31, 30,
					 31, 31, 30, 31, 30, 31};
	unsigned y, m, d;
	char check[CLOCK_DATE_SIZE];
	int n = 0;

	if (text == NULL || strlen(text) != 10 ||
	    sscanf(text, "%4u-%2u-%2u%n", &y, &m, &d, &n) != 3 || n != 10 ||
	    m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return -1;
	*day_r = days_from_civil(y, m, d);
	clock_day_format(*day_r, check);
	return strcmp(check, text) == 0 ? 0 : -1; /* 29 Feb of other years */
}

int clock_weekday(int64_t day)
{
	/* 1970-01-01 was a Thursday (4) */
	int64_t w = (day + 4) % 7;

	return (int)(w < 0 ? w + 7 : w);
}

static bool zone_known(const char *zone)
{
	char path[512];
	const char *dir = getenv("TZDIR");

	if (strcmp(zone, "UTC") == 0)
		return true;
	if (zone[0] == '\0' || zone[0] == '/' || strstr(zone, "..") != NULL)
		return false;
	snprintf(path, sizeof(path), "%s/%s",
		 dir != NULL && *dir != '\0' ? dir : "/usr/share/zoneinfo",
		 zone);
	return access(path, R_OK) == 0;
}

/* The last zone and hour asked for: planning asks for one zone many times. */
static struct {
	char zone[128];
	int64_t hour;
	int mins;
	bool known;
} clock_cache = {.hour = INT64_MIN};

int clock_tz_offset(const char *zone, int64_t t, int *mins_r)
{
	int64_t hour = t >= 0 ? t / 3600 : (t - 3599) / 3600;
	char *saved = NULL;
	const char *old;
	time_t tt = (time_t)t;
	struct tm tm;

	*mins_r = 0;
	if (zone == NULL || strlen(zone) >= sizeof(clock_cache.zone))
		return -1;
	if (clock_cache.hour == hour && strcmp(clock_cache.zone, zone) == 0) {
		*mins_r = clock_cache.mins;
		return clock_cache.known ? 0 : -1;
	}
	snprintf(clock_cache.zone, sizeof(clock_cache.zone), "%s", zone);
	clock_cache.hour = hour;
	clock_cache.mins = 0;
	clock_cache.known = zone_known(zone);
	if (!clock_cache.known)
		return -1;
	if (strcmp(zone, "UTC") == 0)
		return 0;
	old = getenv("TZ");
	if (old != NULL)
		saved = strdup(old);
	setenv("TZ", zone, 1);
	tzset();
	if (localtime_r(&tt, &tm) != NULL)
		clock_cache.mins = (int)(tm.tm_gmtoff / 60);
	if (saved != NULL) {
		setenv("TZ", saved, 1);
		free(saved);
	} else {
		unsetenv("TZ");
	}
	tzset();
	*mins_r = clock_cache.mins;
	return 0;
}

int64_t clock_local_day(const char *zone, int64_t t)
{
	int mins;

	clock_tz_offset(zone, t, &mins);
	return clock_day_index(t + (int64_t)mins * 60);
}

int clock_hhmm_parse(const char *text)
{
	unsigned h, m;
	int n = 0;

	if (text == NULL || sscanf(text, "%2u:%2u%n", &h, &m, &n) != 2 ||
	    n != 5 || text[5] != '\0' || h > 23 || m > 59)
		return -1;
	return (int)(h * 60 + m);
}
