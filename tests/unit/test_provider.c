// SPDX-License-Identifier: MIT
#include <string.h>

#include "hearth/provider.h"
#include "test.h"

static void test_lookup(void)
{
	const char *google_mx[] = {"aspmx.l.google.com.",
				   "alt1.aspmx.l.google.com"};
	const char *ms_mx[] = {"acme-com.mail.protection.outlook.com"};
	const char *other_mx[] = {"mx1.example.net", "mx2.example.net"};
	const char *mixed[] = {"mx.example.net",
			       "in1-smtp.messagingengine.com"};
	const char *fake[] = {"google.com.evil.example", "notgoogle.com"};
	size_t n;
	const struct provider *all = provider_all(&n);

	test_begin("provider by name, domain and MX");
	test_assert(n == 6 && strcmp(all[n - 1].name, "generic") == 0);
	test_assert(provider_by_name("Google") == &all[0]);
	test_assert(provider_by_name("lotus") == NULL);
	test_assert(strcmp(provider_by_domain("GMAIL.com")->name, "google") ==
		    0);
	test_assert(
	    strcmp(provider_by_domain("hotmail.com")->name, "microsoft") == 0);
	test_assert(provider_by_domain("acme-sales.com") == NULL);
	test_assert(strcmp(provider_by_mx(google_mx, 2)->name, "google") == 0);
	test_assert(strcmp(provider_by_mx(ms_mx, 1)->name, "microsoft") == 0);
	test_assert(provider_by_mx(other_mx, 2) == NULL);
	test_assert(strcmp(provider_by_mx(mixed, 2)->name, "fastmail") == 0);
	test_assert(provider_by_mx(fake, 2) == NULL);
	test_assert(provider_by_mx(NULL, 0) == NULL);
	test_end();

	test_begin("every preset is complete");
	for (size_t i = 0; i < n; i++) {
		test_assert(all[i].auth_hint != NULL && all[i].label != NULL);
		test_assert(all[i].smtp_port > 0 && all[i].imap_port > 0);
		test_assert((all[i].smtp_host == NULL) ==
			    (strcmp(all[i].name, "generic") == 0));
	}
	test_end();
}

int main(void)
{
	test_lookup();
	return test_exit();
}
