// SPDX-License-Identifier: MIT
/*
 * DKIM: the public keys at SELECTOR._domainkey.DOMAIN (RFC 6376 3.6.1),
 * for the selectors configured, the provider's and common ones. A key is
 * decoded and parsed with OpenSSL, so a record that only looks right is
 * still caught.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check_private.h"
#include "hearth/xalloc.h"

/* Selectors many setups use, tried after the configured and provider's. */
static const char *const dkim_common[] = {
    "default", "s1",	    "s2",	 "k1",	   "mail",
    "dkim",    "selector1", "selector2", "google",
};

#define DKIM_MAX_SELECTORS (CHECK_MAX_OPTION_ITEMS + 32)
/* A key record's p= longer than this is not a key (RSA 16384 is ~2.8 KB). */
#define DKIM_MAX_KEY_B64 8192

struct dkim_selector {
	const char *name;
	bool configured;
};

/* A finding held back until every selector was looked at. */
struct dkim_pending {
	enum check_status status;
	bool configured;
	bool key; /* about the key itself (not testing mode) */
	char *summary;
	char *fix;
	char *record;
};

struct dkim_tags {
	char *v, *k, *p, *t;
};

static void dkim_tags_clear(struct dkim_tags *tags)
{
	free(tags->v);
	free(tags->k);
	free(tags->p);
	free(tags->t);
	memset(tags, 0, sizeof(*tags));
}

static bool dkim_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * The tag list (RFC 6376 3.2): "tag=value; ..." with white space around
 * names and values; a tag given twice makes the list invalid. Only v, k, p
 * and t are kept; p loses all its white space. 0, or -1 with *why.
 */
static int dkim_tags_parse(const char *rec, struct dkim_tags *tags,
			   const char **why)
{
	const char *s = rec;
	char seen[64] = "";
	size_t n_seen = 0;

	memset(tags, 0, sizeof(*tags));
	while (*s != '\0') {
		const char *end = strchr(s, ';');
		const char *name, *eq, *value;
		size_t name_len, value_len;
		char **slot = NULL;

		if (end == NULL)
			end = s + strlen(s);
		while (s < end && dkim_wsp(*s))
			s++;
		if (s == end) {
			s = *end == ';' ? end + 1 : end;
			continue;
		}
		eq = memchr(s, '=', (size_t)(end - s));
		if (eq == NULL) {
			*why = "a tag without '='";
			goto fail;
		}
		name = s;
		name_len = (size_t)(eq - s);
		while (name_len > 0 && dkim_wsp(name[name_len - 1]))
			name_len--;
		if (name_len == 0) {
			*why = "a tag without a name";
			goto fail;
		}
		value = eq + 1;
		while (value < end && dkim_wsp(*value))
			value++;
		value_len = (size_t)(end - value);
		while (value_len > 0 && dkim_wsp(value[value_len - 1]))
			value_len--;
		if (name_len == 1) {
			if (strchr(seen, name[0]) != NULL && name[0] != '\0') {
				*why = "a tag given twice";
				goto fail;
			}
			if (n_seen < sizeof(seen) - 1)
				seen[n_seen++] = name[0];
			switch (name[0]) {
			case 'v':
				slot = &tags->v;
				break;
			case 'k':
				slot = &tags->k;
				break;
			case 'p':
				slot = &tags->p;
				break;
			case 't':
				slot = &tags->t;
				break;
			default:
				break;
			}
		}
		if (slot != NULL) {
			char *v = xstrndup(value, value_len);

			if (slot == &tags->p) {
				size_t o = 0;

				for (size_t i = 0; v[i] != '\0'; i++) {
					if (!dkim_wsp(v[i]))
						v[o++] = v[i];
				}
				v[o] = '\0';
			}
			*slot = v;
		}
		s = *end == ';' ? end + 1 : end;
	}
	return 0;
fail:
	dkim_tags_clear(tags);
	return -1;
}

/* Strict base64 (padding optional): the length, or -1. */
static long dkim_base64(const char *s, unsigned char *out, size_t size)
{
	size_t len = strlen(s), o = 0;
	uint32_t acc = 0;
	int bits = 0;

	while (len > 0 && s[len - 1] == '=')
		len--;
	if (strlen(s) - len > 2 || len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		const char *set = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqr"
				  "stuvwxyz0123456789+/";
		const char *at = strchr(set, s[i]);

		if (at == NULL || s[i] == '\0')
			return -1;
		acc = acc << 6 | (uint32_t)(at - set);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == size)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return (long)o;
}

/*
 * Parse the key of k= (rsa or ed25519): the status, and what it is in
 * words ("RSA 2048 bits") or what is wrong ("not an RSA public key").
 */
static enum check_status dkim_key(const char *k, const char *p, char *what,
				  size_t size, int *bits_r)
{
	unsigned char *der = xmalloc(DKIM_MAX_KEY_B64);
	const unsigned char *q = der;
	EVP_PKEY *key = NULL;
	enum check_status st = CHECK_FAIL;
	long len = -1;
	int bits = 0;

	*bits_r = 0;
	if (strlen(p) <= DKIM_MAX_KEY_B64)
		len = dkim_base64(p, der, DKIM_MAX_KEY_B64);
	if (len <= 0) {
		snprintf(what, size, "p= is not base64");
		goto out;
	}
	if (strcasecmp(k, "ed25519") == 0) {
		if (len == 32)
			key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519,
							  NULL, der, 32);
		if (key == NULL) {
			snprintf(
			    what, size,
			    "not an ed25519 public key (%ld bytes, not 32)",
			    len);
			goto out;
		}
		snprintf(what, size, "ed25519");
		st = CHECK_PASS;
		goto out;
	}
	key = d2i_PUBKEY(NULL, &q, len);
	if (key == NULL) {
		/* PKCS#1 RSAPublicKey without the SubjectPublicKeyInfo */
		q = der;
		key = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, len);
	}
	if (key == NULL || q != der + len ||
	    EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		snprintf(what, size, "not an RSA public key");
		goto out;
	}
	bits = EVP_PKEY_get_bits(key);
	*bits_r = bits;
	snprintf(what, size, "RSA %d bits", bits);
	st = bits < 1024 ? CHECK_FAIL : bits < 2048 ? CHECK_WARN : CHECK_PASS;
out:
	/* a failed parse leaves errors behind that TLS must not see later */
	ERR_clear_error();
	EVP_PKEY_free(key);
	free(der);
	return st;
}

static void dkim_pend(struct dkim_pending **v, size_t *n,
		      enum check_status status, bool configured, bool key,
		      const char *record, char *summary, char *fix)
{
	struct dkim_pending *p;

	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	p = &(*v)[(*n)++];
	p->status = status;
	p->configured = configured;
	p->key = key;
	p->summary = summary;
	p->fix = fix;
	p->record = record != NULL ? xstrdup(record) : NULL;
}

/* A record that means to be a DKIM key: a p= tag or v=DKIM1. */
static bool dkim_looks_like_key(const char *rec)
{
	struct dkim_tags tags;
	const char *why;
	bool yes;

	if (dkim_tags_parse(rec, &tags, &why) < 0)
		return strncmp(rec, "v=DKIM1", 7) == 0;
	yes =
	    tags.p != NULL || (tags.v != NULL && strcmp(tags.v, "DKIM1") == 0);
	dkim_tags_clear(&tags);
	return yes;
}

/* The findings of one record found at name. */
static void dkim_record(const char *name, const char *rec, bool configured,
			struct dkim_pending **v, size_t *n)
{
	struct dkim_tags tags;
	const char *why = NULL;
	const char *k;
	char what[96];
	int bits;
	enum check_status st;

	if (dkim_tags_parse(rec, &tags, &why) < 0) {
		dkim_pend(
		    v, n, CHECK_FAIL, configured, true, rec,
		    xasprintf("DKIM record at %s is malformed: %s", name, why),
		    xasprintf("publish the record again exactly as your "
			      "provider gives it"));
		return;
	}
	if (tags.v != NULL && strcmp(tags.v, "DKIM1") != 0) {
		dkim_pend(v, n, CHECK_FAIL, configured, true, rec,
			  xasprintf("DKIM record at %s has v=%s, not DKIM1: "
				    "receivers ignore it",
				    name, tags.v),
			  xasprintf("start the record with v=DKIM1"));
		goto out;
	}
	if (tags.p == NULL) {
		dkim_pend(
		    v, n, CHECK_FAIL, configured, true, rec,
		    xasprintf("DKIM record at %s has no key (no p= tag)", name),
		    xasprintf("publish the DKIM key your provider gives "
			      "you at %s",
			      name));
		goto out;
	}
	if (tags.p[0] == '\0') {
		dkim_pend(v, n, CHECK_FAIL, configured, true, rec,
			  xasprintf("DKIM key at %s is revoked (empty p=): "
				    "mail signed with it fails DKIM",
				    name),
			  xasprintf("publish your provider's current key at "
				    "%s, or sign with another selector",
				    name));
		goto out;
	}
	k = tags.k != NULL ? tags.k : "rsa";
	if (strcasecmp(k, "rsa") != 0 && strcasecmp(k, "ed25519") != 0) {
		dkim_pend(v, n, CHECK_FAIL, configured, true, rec,
			  xasprintf("DKIM key at %s has an unknown key type "
				    "k=%s (rsa or ed25519)",
				    name, k),
			  xasprintf("publish the record again exactly as your "
				    "provider gives it"));
		goto out;
	}
	st = dkim_key(k, tags.p, what, sizeof(what), &bits);
	if (st == CHECK_FAIL && bits == 0) {
		dkim_pend(
		    v, n, CHECK_FAIL, configured, true, rec,
		    xasprintf("DKIM key at %s is malformed: %s", name, what),
		    xasprintf("publish the key again exactly as your "
			      "provider gives it (p= is one base64 "
			      "string)"));
	} else if (st == CHECK_FAIL) {
		dkim_pend(v, n, CHECK_FAIL, configured, true, rec,
			  xasprintf("DKIM key at %s is %s, too short: "
				    "receivers ignore its signatures",
				    name, what),
			  xasprintf("publish a 2048-bit RSA key at a new "
				    "selector and sign with it"));
	} else if (st == CHECK_WARN) {
		dkim_pend(v, n, CHECK_WARN, configured, true, rec,
			  xasprintf("DKIM key at %s is %s: weak, and some "
				    "receivers want 2048",
				    name, what),
			  xasprintf("rotate to a 2048-bit RSA key"));
	} else {
		dkim_pend(v, n, CHECK_PASS, configured, true, rec,
			  xasprintf("DKIM key at %s: %s%s", name, what,
				    strcasecmp(k, "ed25519") == 0
					? " (not every receiver verifies "
					  "ed25519: sign with an RSA key too)"
					: ""),
			  NULL);
	}
	if (tags.t != NULL) {
		for (const char *f = tags.t; *f != '\0';) {
			size_t len = strcspn(f, ":");
			size_t a = 0, b = len;

			while (a < b && dkim_wsp(f[a]))
				a++;
			while (b > a && dkim_wsp(f[b - 1]))
				b--;
			if (b - a == 1 && f[a] == 'y') {
				dkim_pend(v, n, CHECK_WARN, configured, false,
					  rec,
					  xasprintf("DKIM key at %s is in "
						    "testing mode (t=y): "
						    "receivers may treat "
						    "signed mail as unsigned",
						    name),
					  xasprintf("remove t=y from the "
						    "record once signing "
						    "works"));
				break;
			}
			f += len + (f[len] == ':');
		}
	}
out:
	dkim_tags_clear(&tags);
}

/* The selectors to try, in order, without repeats. */
static size_t dkim_selectors(const struct check_run *run,
			     struct dkim_selector *sel)
{
	const struct check_options *o = run->opts;
	size_t n = 0;

#define DKIM_ADD(s, conf)                                                      \
	do {                                                                   \
		bool dup = false;                                              \
		for (size_t j_ = 0; j_ < n; j_++)                              \
			dup = dup || strcasecmp(sel[j_].name, (s)) == 0;       \
		if (!dup && n < DKIM_MAX_SELECTORS)                            \
			sel[n++] = (struct dkim_selector){(s), (conf)};        \
	} while (0)

	/* "domain:selector" for this domain first, then plain ones */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < o->n_dkim_selectors; i++) {
			const char *e = o->dkim_selectors[i];
			const char *colon = strchr(e, ':');

			if (pass == 0 && colon != NULL &&
			    (size_t)(colon - e) == strlen(run->domain) &&
			    strncasecmp(e, run->domain, strlen(run->domain)) ==
				0)
				DKIM_ADD(colon + 1, true);
			else if (pass == 1 && colon == NULL)
				DKIM_ADD(e, true);
		}
	}
	if (run->provider != NULL && run->provider->dkim_selectors != NULL) {
		for (const char *const *s = run->provider->dkim_selectors;
		     *s != NULL; s++)
			DKIM_ADD(*s, false);
	}
	for (size_t i = 0; i < sizeof(dkim_common) / sizeof(*dkim_common); i++)
		DKIM_ADD(dkim_common[i], false);
#undef DKIM_ADD
	return n;
}

void check_dkim(struct check_run *run)
{
	struct dkim_selector sel[DKIM_MAX_SELECTORS];
	size_t n_sel = dkim_selectors(run, sel);
	struct dkim_pending *pend = NULL;
	size_t n_pend = 0;
	size_t n_failed = 0, n_found = 0;
	char first_err[256] = "";
	bool usable = false;
	char tried[1024] = "";
	size_t used = 0;

	for (size_t i = 0; i < n_sel; i++) {
		struct hearth_err err = {0};
		char *name =
		    xasprintf("%s._domainkey.%s", sel[i].name, run->domain);
		char **txt = NULL;
		size_t n = 0;
		int r = -1;
		const char *rec = NULL;

		if (used < sizeof(tried))
			used += (size_t)snprintf(
			    tried + used, sizeof(tried) - used, "%s%s",
			    i > 0 ? ", " : "", sel[i].name);
		if (check_name_ok(name))
			r = check_txt(run, name, &txt, &n, NULL, &err);
		else
			hearth_err_set(&err, HEARTH_FAIL_PERMANENT, 0,
				       "%s is not a valid name", name);
		if (r < 0 && n_failed++ == 0)
			snprintf(first_err, sizeof(first_err), "%s", err.msg);
		if (r < 0 && sel[i].configured)
			check_add(run, "dkim", CHECK_UNKNOWN, NULL,
				  "DKIM key at %s could not be looked up: %s",
				  name, err.msg);
		for (size_t j = 0; j < n && rec == NULL; j++) {
			if (dkim_looks_like_key(txt[j]))
				rec = txt[j];
		}
		/* a configured selector's record is judged whatever it is */
		if (rec == NULL && n > 0 && sel[i].configured)
			rec = txt[0];
		if (rec != NULL) {
			n_found++;
			dkim_record(name, rec, sel[i].configured, &pend,
				    &n_pend);
		}
		dns_txt_free(&txt, n);
		free(name);
	}
	for (size_t i = 0; i < n_pend; i++) {
		if (pend[i].key && pend[i].status != CHECK_FAIL)
			usable = true;
	}
	for (size_t i = 0; i < n_pend; i++) {
		struct dkim_pending *p = &pend[i];
		struct check_finding *f;
		enum check_status st = p->status;
		bool eased = st == CHECK_FAIL && !p->configured && usable;

		/* an old key left at a common selector harms nothing while
		 * another one works */
		if (eased)
			st = CHECK_WARN;
		f = check_add(run, "dkim", st, p->record, "%s%s", p->summary,
			      eased ? " (another selector has a usable key)"
				    : "");
		if (p->fix != NULL)
			check_fix(f, "%s", p->fix);
		free(p->summary);
		free(p->fix);
		free(p->record);
	}
	free(pend);
	if (n_found > 0)
		return;
	if (n_failed > 0) {
		check_add(run, "dkim", CHECK_UNKNOWN, NULL,
			  "DKIM: %zu of %zu selector lookups of %s failed, "
			  "so whether it has a key is unknown: %s",
			  n_failed, n_sel, run->domain, first_err);
		return;
	}
	{
		struct check_finding *f = check_add(
		    run, "dkim", CHECK_FAIL, NULL,
		    "No DKIM key found for %s at the selectors tried: %s",
		    run->domain, tried);

		check_fix(f,
			  "publish the DKIM key your provider gives you, or "
			  "set [checks] dkim_selectors = %s:selector",
			  run->domain);
	}
}
