/* SPDX-License-Identifier: MIT */
/*
 * For C tests against the shared ctest lab (tests/lab/fixture.sh): the lab's
 * directory comes as argv[1]; labenv_load() reads DIR/lab.env, and
 * labenv_get("LAB_IMAP_PORT") returns a value. labenv_maillab() runs a
 * tools/maillab command on the lab and returns its exit status.
 */
#ifndef HEARTH_LABENV_H
#define HEARTH_LABENV_H

#include <stdarg.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABENV_PASSWORD "lab-secret"

#include "hearth/endpoint.h"

static char labenv_dir[256];
static char labenv_ca[256];
static char labenv_lines[32][256];
static int labenv_count;

static inline int labenv_load(const char *dir)
{
	char path[512];
	FILE *f;

	snprintf(labenv_dir, sizeof(labenv_dir), "%s", dir);
	snprintf(path, sizeof(path), "%s/lab.env", dir);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (labenv_count < 32 &&
	       fgets(labenv_lines[labenv_count], 256, f) != NULL) {
		char *l = labenv_lines[labenv_count];

		l[strcspn(l, "\n")] = '\0';
		if (strncmp(l, "LAB_", 4) == 0)
			labenv_count++;
	}
	fclose(f);
	return 0;
}

static inline const char *labenv_get(const char *key);

/* The lab's CA file (after labenv_load). */
static inline const char *labenv_ca_file(void)
{
	if (labenv_ca[0] == '\0' && labenv_get("LAB_CA") != NULL)
		snprintf(labenv_ca, sizeof(labenv_ca), "%s",
			 labenv_get("LAB_CA"));
	return labenv_ca;
}

/* The value of KEY (quotes removed), or NULL. */
static inline const char *labenv_get(const char *key)
{
	static char value[256];
	size_t klen = strlen(key);

	for (int i = 0; i < labenv_count; i++) {
		const char *l = labenv_lines[i];

		if (strncmp(l, key, klen) == 0 && l[klen] == '=') {
			snprintf(value, sizeof(value), "%s", l + klen + 1);
			if (value[0] == '\'') {
				memmove(value, value + 1, strlen(value));
				value[strcspn(value, "'")] = '\0';
			}
			return value;
		}
	}
	return NULL;
}

static inline unsigned short labenv_port(const char *key)
{
	const char *v = labenv_get(key);

	return v != NULL ? (unsigned short)atoi(v) : 0;
}

static inline unsigned short labenv_port(const char *key);

/* The lab endpoint behind port KEY, verified against the lab CA. */
static inline struct endpoint labenv_endpoint(const char *port_key,
					      enum endpoint_security sec)
{
	struct endpoint ep = {
	    .host = "127.0.0.1",
	    .port = labenv_port(port_key),
	    .security = sec,
	    .ca_file = labenv_ca_file(),
	};
	return ep;
}

/* Run `maillab ARGS...` on the lab (ARGS formatted); its exit status. */
static inline int labenv_maillab(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static inline int labenv_maillab(const char *fmt, ...)
{
	char args[1024], cmd[2048];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s %s", HEARTH_MAILLAB, args);
	ret = system(cmd);
	return ret == -1 ? -1 : WEXITSTATUS(ret);
}

#endif
