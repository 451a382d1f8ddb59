/* SPDX-License-Identifier: MIT */
/*
 * provider: presets for the mail providers operators enroll inboxes at, so
 * that an operator usually types only the address and the secret source.
 * A provider is chosen by name (--provider), recognised from the address's
 * domain (gmail.com, outlook.com, ...), or from the domain's MX hosts
 * (a Google Workspace domain's MX is *.google.com).
 *
 * Everything returned is static and read-only.
 */
#ifndef HEARTH_PROVIDER_H
#define HEARTH_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hearth/endpoint.h"

struct provider {
	const char *name;      /* "google", "microsoft", ... "generic" */
	const char *label;     /* "Google Workspace / Gmail" */
	const char *smtp_host; /* NULL for generic: must be given */
	uint16_t smtp_port;
	enum endpoint_security smtp_security;
	const char *imap_host;
	uint16_t imap_port;
	enum endpoint_security imap_security;
	/* the provider files submitted mail in Sent by itself; otherwise
	 * hearth APPENDs a copy, as a mail client would */
	bool files_sent_itself;
	/* what to tell the operator when a login is refused */
	const char *auth_hint;
	const char *const *domains;	/* consumer domains, NULL-ended */
	const char *const *mx_suffixes; /* MX host suffixes, NULL-ended */
	/*
	 * The SPF includes that authorise the provider's outgoing servers
	 * (include:_spf.google.com), NULL-ended, the one to advise first;
	 * NULL when the provider has none (generic)
	 */
	const char *const *spf_includes;
	/*
	 * The DKIM selectors the provider publishes its customers' keys
	 * under, NULL-ended; NULL when none is known (generic)
	 */
	const char *const *dkim_selectors;
};

/* By name (case-blind); NULL if unknown. */
const struct provider *provider_by_name(const char *name);
/* From the address's domain alone (gmail.com ...); NULL if not known. */
const struct provider *provider_by_domain(const char *domain);
/* From the domain's MX hosts; NULL if none matches. */
const struct provider *provider_by_mx(const char *const *hosts, size_t n);
/* All presets, generic last; *n_r set. */
const struct provider *provider_all(size_t *n_r);

#endif
