// SPDX-License-Identifier: MIT
/*
 * The presets. Host names and ports are the providers' documented client
 * settings; the hints say what the providers require of third-party mail
 * clients (app passwords, OAuth2).
 */
#include "hearth/provider.h"

#include <string.h>
#include <strings.h>

static const char *const google_domains[] = {"gmail.com", "googlemail.com",
					     NULL};
static const char *const google_mx[] = {".google.com", ".googlemail.com", NULL};
static const char *const microsoft_domains[] = {"outlook.com", "hotmail.com",
						"live.com", "msn.com", NULL};
static const char *const microsoft_mx[] = {
    ".protection.outlook.com", ".outlook.com", ".hotmail.com", NULL};
static const char *const yahoo_domains[] = {"yahoo.com", "ymail.com",
					    "rocketmail.com", NULL};
static const char *const yahoo_mx[] = {".yahoodns.net", NULL};
static const char *const zoho_domains[] = {"zoho.com", "zohomail.com", NULL};
static const char *const zoho_mx[] = {".zoho.com", ".zoho.eu", ".zoho.in",
				      NULL};
static const char *const fastmail_domains[] = {"fastmail.com", "fastmail.fm",
					       NULL};
static const char *const fastmail_mx[] = {".messagingengine.com", NULL};
static const char *const none[] = {NULL};

/* What the providers' setup guides tell their customers to publish. */
static const char *const google_spf[] = {"_spf.google.com", NULL};
static const char *const google_dkim[] = {"google", NULL};
static const char *const microsoft_spf[] = {"spf.protection.outlook.com", NULL};
static const char *const microsoft_dkim[] = {"selector1", "selector2", NULL};
static const char *const yahoo_spf[] = {"_spf.mail.yahoo.com", NULL};
static const char *const yahoo_dkim[] = {"s2048", "s1024", NULL};
/* one per data centre: US (zoho.com, newer zohomail.com), EU, India */
static const char *const zoho_spf[] = {"zoho.com",    "zohomail.com", "zoho.eu",
				       "zohomail.eu", "zoho.in",      NULL};
static const char *const zoho_dkim[] = {"zmail", NULL};
static const char *const fastmail_spf[] = {"spf.messagingengine.com", NULL};
static const char *const fastmail_dkim[] = {"fm1", "fm2", "fm3", NULL};

static const struct provider providers[] = {
    {
	.name = "google",
	.label = "Google Workspace / Gmail",
	.smtp_host = "smtp.gmail.com",
	.smtp_port = 465,
	.smtp_security = ENDPOINT_TLS,
	.imap_host = "imap.gmail.com",
	.imap_port = 993,
	.imap_security = ENDPOINT_TLS,
	.files_sent_itself = true,
	.auth_hint = "for Google Workspace and Gmail use an app "
		     "password (2-Step Verification must be on) or an "
		     "OAuth2 token command (--token-command)",
	.domains = google_domains,
	.mx_suffixes = google_mx,
	.spf_includes = google_spf,
	.dkim_selectors = google_dkim,
    },
    {
	.name = "microsoft",
	.label = "Microsoft 365 / Outlook",
	.smtp_host = "smtp.office365.com",
	.smtp_port = 587,
	.smtp_security = ENDPOINT_STARTTLS,
	.imap_host = "outlook.office365.com",
	.imap_port = 993,
	.imap_security = ENDPOINT_TLS,
	.files_sent_itself = true,
	.auth_hint = "Microsoft 365 takes OAuth2 for IMAP and SMTP: "
		     "use an OAuth2 token command (--token-command), "
		     "and enable SMTP AUTH for the mailbox",
	.domains = microsoft_domains,
	.mx_suffixes = microsoft_mx,
	.spf_includes = microsoft_spf,
	.dkim_selectors = microsoft_dkim,
    },
    {
	.name = "yahoo",
	.label = "Yahoo Mail",
	.smtp_host = "smtp.mail.yahoo.com",
	.smtp_port = 465,
	.smtp_security = ENDPOINT_TLS,
	.imap_host = "imap.mail.yahoo.com",
	.imap_port = 993,
	.imap_security = ENDPOINT_TLS,
	.files_sent_itself = true,
	.auth_hint = "Yahoo needs an app password from Account "
		     "Security",
	.domains = yahoo_domains,
	.mx_suffixes = yahoo_mx,
	.spf_includes = yahoo_spf,
	.dkim_selectors = yahoo_dkim,
    },
    {
	.name = "zoho",
	.label = "Zoho Mail",
	.smtp_host = "smtp.zoho.com",
	.smtp_port = 465,
	.smtp_security = ENDPOINT_TLS,
	.imap_host = "imap.zoho.com",
	.imap_port = 993,
	.imap_security = ENDPOINT_TLS,
	.files_sent_itself = false,
	.auth_hint = "enable IMAP access in Zoho Mail's settings and "
		     "use an application-specific password if "
		     "two-factor authentication is on",
	.domains = zoho_domains,
	.mx_suffixes = zoho_mx,
	.spf_includes = zoho_spf,
	.dkim_selectors = zoho_dkim,
    },
    {
	.name = "fastmail",
	.label = "Fastmail",
	.smtp_host = "smtp.fastmail.com",
	.smtp_port = 465,
	.smtp_security = ENDPOINT_TLS,
	.imap_host = "imap.fastmail.com",
	.imap_port = 993,
	.imap_security = ENDPOINT_TLS,
	.files_sent_itself = false,
	.auth_hint = "Fastmail needs an app password (Settings, "
		     "Privacy & Security)",
	.domains = fastmail_domains,
	.mx_suffixes = fastmail_mx,
	.spf_includes = fastmail_spf,
	.dkim_selectors = fastmail_dkim,
    },
    {
	.name = "generic",
	.label = "another provider (hosts given by hand)",
	.smtp_port = 587,
	.smtp_security = ENDPOINT_STARTTLS,
	.imap_port = 993,
	.imap_security = ENDPOINT_TLS,
	.files_sent_itself = false,
	.auth_hint = "check the user name and password with the "
		     "provider; some need an app password for IMAP "
		     "and SMTP",
	.domains = none,
	.mx_suffixes = none,
    },
};

#define N_PROVIDERS (sizeof(providers) / sizeof(*providers))

const struct provider *provider_all(size_t *n_r)
{
	*n_r = N_PROVIDERS;
	return providers;
}

const struct provider *provider_by_name(const char *name)
{
	for (size_t i = 0; i < N_PROVIDERS; i++)
		if (strcasecmp(providers[i].name, name) == 0)
			return &providers[i];
	return NULL;
}

const struct provider *provider_by_domain(const char *domain)
{
	for (size_t i = 0; i < N_PROVIDERS; i++)
		for (const char *const *d = providers[i].domains; *d != NULL;
		     d++)
			if (strcasecmp(*d, domain) == 0)
				return &providers[i];
	return NULL;
}

/* host ends with suffix (".google.com"), or is it without the dot. */
static bool provider_suffix(const char *host, const char *suffix)
{
	size_t hl = strlen(host), sl = strlen(suffix);

	if (hl > 0 && host[hl - 1] == '.')
		hl--;
	if (hl == sl - 1 && strncasecmp(host, suffix + 1, hl) == 0)
		return true;
	return hl >= sl && strncasecmp(host + hl - sl, suffix, sl) == 0;
}

const struct provider *provider_by_mx(const char *const *hosts, size_t n)
{
	/* The most preferred MX decides: hosts come sorted by preference. */
	for (size_t h = 0; h < n; h++)
		for (size_t i = 0; i < N_PROVIDERS; i++)
			for (const char *const *s = providers[i].mx_suffixes;
			     *s != NULL; s++)
				if (provider_suffix(hosts[h], *s))
					return &providers[i];
	return NULL;
}
