/* SPDX-License-Identifier: MIT */
/*
 * file: reading a whole data file (the content corpus, the bounce
 * patterns) with a bound on its size, so a file that is too large, or grows
 * while it is read, is refused instead of filling memory.
 */
#ifndef HEARTH_FILE_H
#define HEARTH_FILE_H

#include <stddef.h>

#include "hearth/err.h"

/*
 * The regular file at path, at most max bytes: 0 and *data_r (the caller
 * frees it; NUL-terminated after its *len_r bytes, which may hold NULs), or
 * -1 with *err, HEARTH_FAIL_PERMANENT: "PATH: <strerror>" when it cannot be
 * opened or read, "PATH: not a regular file", "PATH: larger than MAX
 * bytes".
 */
int file_read_all(const char *path, size_t max, char **data_r, size_t *len_r,
		  struct hearth_err *err);

#endif
