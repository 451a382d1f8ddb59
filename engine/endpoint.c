// SPDX-License-Identifier: MIT
#include "hearth/endpoint.h"

#include <string.h>

static const char *const endpoint_security_names[] = {
    [ENDPOINT_TLS] = "tls",
    [ENDPOINT_STARTTLS] = "starttls",
    [ENDPOINT_INSECURE_PLAINTEXT] = "tls_insecure_plaintext",
};

int endpoint_security_parse(const char *name, enum endpoint_security *sec_r)
{
	for (size_t i = 0; i < sizeof(endpoint_security_names) /
				   sizeof(*endpoint_security_names);
	     i++) {
		if (strcmp(name, endpoint_security_names[i]) == 0) {
			*sec_r = (enum endpoint_security)i;
			return 0;
		}
	}
	return -1;
}

const char *endpoint_security_name(enum endpoint_security sec)
{
	if ((unsigned)sec <
	    sizeof(endpoint_security_names) / sizeof(*endpoint_security_names))
		return endpoint_security_names[sec];
	return "unknown";
}
