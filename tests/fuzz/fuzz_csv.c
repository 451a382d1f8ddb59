// SPDX-License-Identifier: MIT
/*
 * Fuzz target for the CSV reader: any bytes as one file, read to the end.
 * Every record must be in bounds and valid UTF-8, every refusal must say
 * where, line numbers never go back, and the reader always ends.
 */
#include <string.h>

#include "fuzz.h"
#include "hearth/content.h"
#include "hearth/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_reader *r =
	    csv_reader_new("fuzz.csv", (const char *)data, size);
	size_t last_line = 0, calls = 0, end_n = 0, end_line = 0;
	char **end_fields = NULL;
	int rc;

	for (;;) {
		struct hearth_err err = {0};
		char **fields = NULL;
		size_t n = 0, line = 0;

		rc = csv_next(r, &fields, &n, &line, &err);
		if (rc == 0)
			break;
		/* each call moves on by one record at least */
		if (++calls > size + 1)
			__builtin_trap();
		if (line <= last_line)
			__builtin_trap();
		last_line = line;
		if (rc < 0) {
			if (strncmp(err.msg, "fuzz.csv:", 9) != 0 ||
			    err.fail != HEARTH_FAIL_PERMANENT)
				__builtin_trap();
			continue;
		}
		if (n < 1 || n > CSV_MAX_FIELDS)
			__builtin_trap();
		for (size_t i = 0; i < n; i++) {
			size_t len = strlen(fields[i]);

			if (len > CSV_MAX_FIELD_BYTES ||
			    !content_utf8_valid(fields[i], len, NULL))
				__builtin_trap();
		}
	}
	/* the end stays the end */
	if (csv_next(r, &end_fields, &end_n, &end_line, NULL) != 0)
		__builtin_trap();
	csv_reader_free(&r);
	return 0;
}
