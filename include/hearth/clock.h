/* SPDX-License-Identifier: MIT */
/*
 * clock: calendar arithmetic and time zones for the engine, which never
 * reads the clock itself (DESIGN.md, Time): every function takes the time it
 * works on. A day index counts days since 1970-01-01 (UTC); a date text is
 * "YYYY-MM-DD".
 *
 * Time zones are IANA names resolved through the C library (TZ and
 * localtime_r), so the tz database of the system applies. Not thread-safe:
 * the scheduler is single-threaded. Offsets are cached per zone and hour.
 */
#ifndef HEARTH_CLOCK_H
#define HEARTH_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define CLOCK_DAY_SECS 86400
/* "YYYY-MM-DD" and its NUL */
#define CLOCK_DATE_SIZE 11

/* The day index of unix time t (floor division: before 1970 works too). */
int64_t clock_day_index(int64_t t);
/* Write day index `day` as "YYYY-MM-DD" into buf (CLOCK_DATE_SIZE bytes). */
void clock_day_format(int64_t day, char *buf);
/* Parse "YYYY-MM-DD" (a real date): 0 and *day_r, or -1. */
int clock_day_parse(const char *text, int64_t *day_r);
/* 0 = Sunday .. 6 = Saturday. */
int clock_weekday(int64_t day);

/*
 * The UTC offset of zone (IANA name, "UTC") at unix time t, in minutes east
 * of UTC (+60 for Paris in winter): 0 and *mins_r, or -1 when the zone is
 * unknown (no such file under the zoneinfo directory; *mins_r = 0).
 */
int clock_tz_offset(const char *zone, int64_t t, int *mins_r);
/*
 * The local date in zone of unix time t as a day index (the zone unknown:
 * UTC's).
 */
int64_t clock_local_day(const char *zone, int64_t t);

/* "HH:MM" (00:00 to 23:59) to minutes after midnight, or -1. */
int clock_hhmm_parse(const char *text);

#endif
