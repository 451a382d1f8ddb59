/* SPDX-License-Identifier: MIT */
/*
 * xalloc: allocation that cannot fail. On exhaustion these print one line to
 * stderr and abort, so call sites never check for NULL. Everything returned
 * is owned by the caller and released with free().
 */
#ifndef HEARTH_XALLOC_H
#define HEARTH_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
/* Zeroed; nmemb * size is checked for overflow. */
void *xcalloc(size_t nmemb, size_t size);
/* nmemb * size is checked for overflow. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* A new string formatted like printf. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
