// SPDX-License-Identifier: MIT
#include "hearth/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hearth/xalloc.h"

int file_read_all(const char *path, size_t max, char **data_r, size_t *len_r,
		  struct hearth_err *err)
{
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	int fd, ret = -1;

	*data_r = NULL;
	*len_r = 0;
	/* O_NONBLOCK: a FIFO must not block the open before the check */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, errno, "%s: %s",
			       path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "%s: not a regular file", path);
		goto out;
	}
	/* read up to one byte past the bound to notice a file that grew */
	data = xmalloc(max + 2);
	while (len <= max) {
		ssize_t n = read(fd, data + len, max + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, errno,
				       "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "%s: larger than %zu bytes", path, max);
		goto out;
	}
	data[len] = '\0';
	*data_r = data;
	*len_r = len;
	data = NULL;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(data);
	return ret;
}
