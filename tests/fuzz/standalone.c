// SPDX-License-Identifier: MIT
/*
 * A main() for fuzz targets in builds without libFuzzer: feeds each file
 * named on the command line, or every file in a directory named there, to
 * LLVMFuzzerTestOneInput once. A crash or a sanitizer report fails the run;
 * that makes the saved inputs of every target a regression test.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Inputs larger than this are not what a fuzzer would make: refuse them. */
#define FUZZ_MAX_INPUT (4 * 1024 * 1024)

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	size_t len;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	buf = malloc(FUZZ_MAX_INPUT + 1);
	if (buf == NULL) {
		fclose(f);
		return -1;
	}
	len = fread(buf, 1, FUZZ_MAX_INPUT + 1, f);
	fclose(f);
	if (len > FUZZ_MAX_INPUT) {
		fprintf(stderr, "%s: larger than %d bytes\n", path,
			FUZZ_MAX_INPUT);
		free(buf);
		return -1;
	}
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *path, int *count)
{
	DIR *dir = opendir(path);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int ret = 0;

	if (dir == NULL) {
		perror(path);
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		char **grown;

		if (de->d_name[0] == '.')
			continue;
		grown = realloc(names, (n + 1) * sizeof(*names));
		if (grown == NULL) {
			ret = -1;
			break;
		}
		names = grown;
		names[n] = strdup(de->d_name);
		if (names[n] == NULL) {
			ret = -1;
			break;
		}
		n++;
	}
	closedir(dir);
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		char child[4096];
		struct stat st;

		snprintf(child, sizeof(child), "%s/%s", path, names[i]);
		if (ret == 0 && stat(child, &st) == 0 && S_ISREG(st.st_mode)) {
			if (run_file(child) < 0)
				ret = -1;
			else
				(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return ret;
}

int main(int argc, char **argv)
{
	int count = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			perror(argv[i]);
			return 1;
		}
		if (S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) < 0
					: run_file(argv[i]) < 0)
			return 1;
		if (!S_ISDIR(st.st_mode))
			count++;
	}
	printf("%d inputs ran\n", count);
	return 0;
}
