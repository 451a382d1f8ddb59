/* SPDX-License-Identifier: MIT */
/*
 * endpoint: where and how to reach one SMTP or IMAP server. Plain data
 * shared by the engine (configuration, the store) and network/ (which
 * connects). All strings are borrowed from the owner of the struct.
 */
#ifndef HEARTH_ENDPOINT_H
#define HEARTH_ENDPOINT_H

#include <stdbool.h>
#include <stdint.h>

enum endpoint_security {
	/* TLS from the first byte (SMTPS 465, IMAPS 993) */
	ENDPOINT_TLS,
	/* plaintext greeting, then STARTTLS, which must be offered */
	ENDPOINT_STARTTLS,
	/* no TLS at all, credentials in clear: only where the endpoint says
	 * so; named tls_insecure_plaintext and warned about on every use */
	ENDPOINT_INSECURE_PLAINTEXT,
};

struct endpoint {
	const char *host; /* name or address; verified against the cert */
	uint16_t port;
	enum endpoint_security security;
	const char *ca_file; /* trust anchors; NULL: the system store */
	/* record but do not enforce the verification result; warned about
	 * on every use (config: tls_insecure_skip_verify) */
	bool tls_insecure_skip_verify;
};

/* A login: a password, or an OAuth2 access token for XOAUTH2. */
struct credentials {
	const char *username;
	const char *secret; /* wiped by its owner after use */
	bool oauth2;	    /* secret is an access token */
};

/* What a TLS handshake found, recorded for the session. */
struct tls_info {
	bool active;	    /* TLS is on */
	bool verified;	    /* chain and host name verified */
	long verify_result; /* X509_V_OK or the X509_V_ERR_* code */
	char verify_text[96];
	char fingerprint[72]; /* SHA-256 of the leaf, lower-case hex */
	char version[16];     /* "TLSv1.3" */
	char cipher[64];
};

/* "tls", "starttls", "tls_insecure_plaintext"; 0, or -1 if unknown. */
int endpoint_security_parse(const char *name, enum endpoint_security *sec_r);
const char *endpoint_security_name(enum endpoint_security sec);

#endif
