// SPDX-License-Identifier: MIT
/*
 * Fuzz target for the configuration parser: any bytes as one file. A
 * refusal must say where; what parses must be complete and in range.
 */
#include <string.h>

#include "fuzz.h"
#include "hearth/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	struct hearth_err err = {0};

	if (config_parse("fuzz.conf", (const char *)data, size, &cfg, &err) <
	    0) {
		if (strncmp(err.msg, "fuzz.conf:", 10) != 0 ||
		    err.fail != HEARTH_FAIL_PERMANENT)
			__builtin_trap();
		return 0;
	}
	if (cfg->data_dir == NULL || cfg->database == NULL ||
	    cfg->key_file == NULL || cfg->ramp_profile == NULL ||
	    cfg->timezone == NULL || cfg->retention == NULL ||
	    cfg->seeds_dir == NULL || cfg->language == NULL ||
	    cfg->log_level == NULL || cfg->window_start == NULL ||
	    cfg->window_end == NULL)
		__builtin_trap();
	if (cfg->workers < 1 || cfg->workers > 64 ||
	    cfg->op_timeout_msecs < 1000 ||
	    cfg->job_deadline_msecs < cfg->op_timeout_msecs ||
	    cfg->retention_days < 0 || cfg->retention_days > 365 ||
	    cfg->window_start_mins >= cfg->window_end_mins ||
	    strlen(cfg->window_start) != 5 || strlen(cfg->window_end) != 5)
		__builtin_trap();
	if (cfg->token_header != NULL &&
	    (strchr(cfg->token_header, ':') != NULL ||
	     strcasestr(cfg->token_header, "hearth") != NULL))
		__builtin_trap();
	config_free(&cfg);
	if (cfg != NULL)
		__builtin_trap();
	return 0;
}
