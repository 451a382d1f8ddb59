/* SPDX-License-Identifier: MIT */
/*
 * csv: an RFC 4180 reader for files an operator hands in (hearth inbox
 * import FILE.csv), read as hostile input.
 *
 * Fields are separated by ',' and records by CRLF or LF. A field is either
 * plain text without '"', CR or LF, or enclosed in '"', in which case it
 * may hold ',', CR, LF and '""' for one '"'; CR and LF inside quotes are
 * kept as they are. Fields are not trimmed. A UTF-8 byte order mark at the
 * very start is skipped; blank lines (nothing or only CR before the LF) are
 * skipped; the last record needs no line end. Every field must be valid
 * UTF-8 without NUL bytes. No header row is assumed: the caller reads the
 * first record like any other.
 */
#ifndef HEARTH_CSV_H
#define HEARTH_CSV_H

#include <stddef.h>

#include "hearth/err.h"

/* A field's bytes after unquoting. */
#define CSV_MAX_FIELD_BYTES 4096
#define CSV_MAX_FIELDS	    64
/* A record's bytes in the file, quotes and separators included. */
#define CSV_MAX_RECORD_BYTES 65536

struct csv_reader;

/*
 * A reader over data[0..len) (borrowed: must outlive the reader; need not be
 * NUL-terminated; may be NULL when len is 0). The whole file is in memory:
 * the caller caps its size. name (copied) stands for the file in messages.
 * Never NULL; free with csv_reader_free().
 */
struct csv_reader *csv_reader_new(const char *name, const char *data,
				  size_t len);

/*
 * The next record. Returns:
 *  1 with *fields_r an array of *n_r (1..CSV_MAX_FIELDS) NUL-terminated
 *    strings owned by the reader and valid until the next call or
 *    csv_reader_free(), and *line_r the physical line (from 1) the record
 *    starts on;
 *  0 at the end of the data (and on every call after);
 * -1 for a bad record, with *line_r the line it starts on and err
 *    (HEARTH_FAIL_PERMANENT) "NAME:LINE: what is wrong", LINE being the line
 *    of the defect: a quote that is never closed (LINE: where it opens),
 *    text after a closing quote, a quote inside an unquoted field, a CR not
 *    followed by LF outside quotes, a NUL byte, invalid UTF-8, a field over
 *    CSV_MAX_FIELD_BYTES, more than CSV_MAX_FIELDS fields, a record over
 *    CSV_MAX_RECORD_BYTES. The reader has then moved past the bad record,
 *    so the caller can go on: past its closing line end, quotes followed
 *    leniently; or, for a quote never closed, to the line after the one
 *    the record starts on, and the lines that were searched for the
 *    closing quote are then read one record per line. The work stays
 *    linear in len, whatever the data.
 * *fields_r and *n_r are left alone unless 1 is returned.
 */
int csv_next(struct csv_reader *r, char ***fields_r, size_t *n_r,
	     size_t *line_r, struct hearth_err *err);

/* Free *r and set it to NULL; NULL and *r == NULL are fine. */
void csv_reader_free(struct csv_reader **r);

#endif
