/* SPDX-License-Identifier: MIT */
/*
 * report_html: the readiness report as one self-contained HTML file (no
 * network fetch, no JavaScript needed; inline CSS and SVG charts), rendered
 * from the report's JSON document (docs/report.schema.json), which holds
 * everything the HTML shows.
 */
#ifndef HEARTH_REPORT_HTML_H
#define HEARTH_REPORT_HTML_H

#include <stdio.h>

#include <jansson.h>

#include "hearth/err.h"

/* Write the page for report (borrowed) to out. 0, or -1 with *err. */
int report_html_write(FILE *out, const json_t *report, struct hearth_err *err);

#endif
