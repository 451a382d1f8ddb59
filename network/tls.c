// SPDX-License-Identifier: MIT
/*
 * The stream driver under every SMTP and IMAP session: libetpan's buffered
 * mailstream over a hearth-owned mailstream_low driver. The socket stays
 * non-blocking; every wait is a poll() bounded by the per-operation timeout
 * and the job's deadline, so a server that trickles bytes cannot hold a
 * worker past the deadline, and fd numbers above 1024 are fine.
 */
#include "hearth/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "hearth/log.h"
#include "hearth/net.h"
#include "hearth/xalloc.h"

struct tls_low {
	int fd;
	SSL *ssl;
	struct tls_limits limits;
	uint64_t bytes_read;
	bool timed_out;
	char error[160];
};

static mailstream_low_driver tls_low_driver;

static struct tls_low *tls_low_of(mailstream *s)
{
	mailstream_low *low = mailstream_get_low(s);

	if (low == NULL || low->driver != &tls_low_driver)
		return NULL;
	return low->data;
}

/* The wait's end: the nearer of the operation timeout and the deadline. */
static int64_t tls_low_wait_end(const struct tls_low *t)
{
	int64_t end = net_now_msecs() + t->limits.op_timeout_msecs;

	return end < t->limits.deadline_msecs ? end : t->limits.deadline_msecs;
}

/* 1 ready, -1 timed out or failed (t->error says which). */
static int tls_low_wait(struct tls_low *t, short events)
{
	int ret = net_wait(t->fd, events, tls_low_wait_end(t));

	if (ret > 0)
		return 1;
	if (ret == 0) {
		t->timed_out = true;
		if (net_now_msecs() >= t->limits.deadline_msecs)
			snprintf(t->error, sizeof(t->error), "deadline passed");
		else
			snprintf(t->error, sizeof(t->error),
				 "no answer within %d ms",
				 t->limits.op_timeout_msecs);
	} else {
		snprintf(t->error, sizeof(t->error), "poll: %s",
			 strerror(errno));
	}
	return -1;
}

static bool tls_low_expired(struct tls_low *t)
{
	if (net_now_msecs() < t->limits.deadline_msecs)
		return false;
	t->timed_out = true;
	snprintf(t->error, sizeof(t->error), "deadline passed");
	return true;
}

static void tls_low_ssl_error(struct tls_low *t, const char *what)
{
	unsigned long e = ERR_get_error();

	if (e != 0)
		snprintf(t->error, sizeof(t->error), "%s: %s", what,
			 ERR_reason_error_string(e));
	else if (errno != 0)
		snprintf(t->error, sizeof(t->error), "%s: %s", what,
			 strerror(errno));
	else
		snprintf(t->error, sizeof(t->error), "%s: connection closed",
			 what);
	ERR_clear_error();
}

/* One SSL or socket step that would block: wait for what it needs. */
static int tls_low_want(struct tls_low *t, int ssl_ret, const char *what)
{
	int e = SSL_get_error(t->ssl, ssl_ret);

	if (e == SSL_ERROR_WANT_READ)
		return tls_low_wait(t, POLLIN);
	if (e == SSL_ERROR_WANT_WRITE)
		return tls_low_wait(t, POLLOUT);
	if (e == SSL_ERROR_ZERO_RETURN) {
		snprintf(t->error, sizeof(t->error), "connection closed");
		return 0;
	}
	tls_low_ssl_error(t, what);
	return -1;
}

static ssize_t tls_low_read(mailstream_low *low, void *buf, size_t count)
{
	struct tls_low *t = low->data;
	uint64_t left = t->limits.max_read_bytes - t->bytes_read;

	if (t->bytes_read >= t->limits.max_read_bytes) {
		snprintf(t->error, sizeof(t->error),
			 "peer sent more than %llu bytes",
			 (unsigned long long)t->limits.max_read_bytes);
		return -1;
	}
	if (count > left)
		count = (size_t)left;
	if (count > INT32_MAX)
		count = INT32_MAX;
	for (;;) {
		ssize_t n;
		int ret;

		if (tls_low_expired(t))
			return -1;
		if (t->ssl != NULL) {
			ERR_clear_error();
			errno = 0;
			n = SSL_read(t->ssl, buf, (int)count);
			if (n > 0) {
				t->bytes_read += (uint64_t)n;
				return n;
			}
			ret = tls_low_want(t, (int)n, "TLS read");
			if (ret <= 0)
				return ret;
			continue;
		}
		n = recv(t->fd, buf, count, MSG_DONTWAIT);
		if (n > 0) {
			t->bytes_read += (uint64_t)n;
			return n;
		}
		if (n == 0) {
			snprintf(t->error, sizeof(t->error),
				 "connection closed");
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			snprintf(t->error, sizeof(t->error), "read: %s",
				 strerror(errno));
			return -1;
		}
		if (tls_low_wait(t, POLLIN) < 0)
			return -1;
	}
}

/* Writes everything or fails. */
static ssize_t tls_low_write(mailstream_low *low, const void *buf, size_t count)
{
	struct tls_low *t = low->data;
	const char *p = buf;
	size_t done = 0;

	while (done < count) {
		size_t chunk =
		    count - done > INT32_MAX ? INT32_MAX : count - done;
		ssize_t n;

		if (tls_low_expired(t))
			return -1;
		if (t->ssl != NULL) {
			ERR_clear_error();
			errno = 0;
			n = SSL_write(t->ssl, p + done, (int)chunk);
			if (n > 0) {
				done += (size_t)n;
				continue;
			}
			if (tls_low_want(t, (int)n, "TLS write") <= 0)
				return -1;
			continue;
		}
		n = send(t->fd, p + done, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			snprintf(t->error, sizeof(t->error), "write: %s",
				 strerror(errno));
			return -1;
		}
		if (tls_low_wait(t, POLLOUT) < 0)
			return -1;
	}
	return (ssize_t)count;
}

static int tls_low_close(mailstream_low *low)
{
	struct tls_low *t = low->data;

	if (t->ssl != NULL) {
		/* Best effort, never waits: the peer may be gone. */
		SSL_shutdown(t->ssl);
		ERR_clear_error();
	}
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	return 0;
}

static int tls_low_get_fd(mailstream_low *low)
{
	return ((struct tls_low *)low->data)->fd;
}

static void tls_low_free(mailstream_low *low)
{
	struct tls_low *t = low->data;

	if (t->fd >= 0)
		close(t->fd);
	SSL_free(t->ssl);
	free(t);
	free(low);
}

static mailstream_low_driver tls_low_driver = {
    .mailstream_read = tls_low_read,
    .mailstream_write = tls_low_write,
    .mailstream_close = tls_low_close,
    .mailstream_get_fd = tls_low_get_fd,
    .mailstream_free = tls_low_free,
};

mailstream *tls_stream_new(int fd, const struct tls_limits *limits)
{
	struct tls_low *t = xcalloc(1, sizeof(*t));
	mailstream_low *low;
	mailstream *s;
	int flags = fcntl(fd, F_GETFL);

	if (flags >= 0)
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	t->fd = fd;
	t->limits = *limits;
	low = mailstream_low_new(t, &tls_low_driver);
	if (low == NULL)
		abort();
	s = mailstream_new(low, 8192);
	if (s == NULL)
		abort();
	return s;
}

/*
 * One SSL_CTX per trust source, kept for the process's life: loading the
 * system store costs milliseconds and a worker makes many connections.
 */
#define TLS_CTX_CACHE 8
static struct {
	char *ca_file; /* NULL: the system store */
	SSL_CTX *ctx;
} tls_ctx_cache[TLS_CTX_CACHE];

static SSL_CTX *tls_ctx_get(const char *ca_file, struct hearth_err *err)
{
	SSL_CTX *ctx;
	size_t i;

	for (i = 0; i < TLS_CTX_CACHE && tls_ctx_cache[i].ctx != NULL; i++) {
		const char *c = tls_ctx_cache[i].ca_file;

		if ((c == NULL && ca_file == NULL) ||
		    (c != NULL && ca_file != NULL && strcmp(c, ca_file) == 0))
			return tls_ctx_cache[i].ctx;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		hearth_err_set(err, HEARTH_FAIL_RETRY, 0,
			       "cannot create a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (ca_file != NULL
		? SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1
		: SSL_CTX_set_default_verify_paths(ctx) != 1) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "cannot load trust anchors from %s: %s",
			       ca_file != NULL ? ca_file : "the system store",
			       ERR_reason_error_string(ERR_get_error()));
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (i == TLS_CTX_CACHE) {
		/* Full: replace the oldest. Streams hold their own ref. */
		SSL_CTX_free(tls_ctx_cache[0].ctx);
		free(tls_ctx_cache[0].ca_file);
		memmove(&tls_ctx_cache[0], &tls_ctx_cache[1],
			sizeof(tls_ctx_cache[0]) * (TLS_CTX_CACHE - 1));
		i = TLS_CTX_CACHE - 1;
	}
	tls_ctx_cache[i].ca_file = ca_file != NULL ? xstrdup(ca_file) : NULL;
	tls_ctx_cache[i].ctx = ctx;
	return ctx;
}

static bool tls_is_ip(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 ||
	       inet_pton(AF_INET6, host, buf) == 1;
}

static void tls_fill_info(SSL *ssl, X509 *peer, struct tls_info *info)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	memset(info, 0, sizeof(*info));
	info->active = true;
	info->verify_result = SSL_get_verify_result(ssl);
	info->verified = peer != NULL && info->verify_result == X509_V_OK;
	snprintf(info->verify_text, sizeof(info->verify_text), "%s",
		 X509_verify_cert_error_string(info->verify_result));
	snprintf(info->version, sizeof(info->version), "%s",
		 SSL_get_version(ssl));
	snprintf(info->cipher, sizeof(info->cipher), "%s",
		 SSL_get_cipher_name(ssl));
	if (peer != NULL && X509_digest(peer, EVP_sha256(), md, &md_len) == 1)
		for (unsigned int i = 0;
		     i < md_len && 2 * i + 2 < sizeof(info->fingerprint); i++)
			snprintf(info->fingerprint + 2 * i, 3, "%02x", md[i]);
}

int tls_stream_handshake(mailstream *s, const struct endpoint *ep,
			 struct tls_info *info_r, struct hearth_err *err)
{
	struct tls_low *t = tls_low_of(s);
	struct tls_info info;
	SSL_CTX *ctx;
	X509 *peer = NULL;
	SSL *ssl;
	int one = 1;

	if (t == NULL || t->ssl != NULL) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "TLS handshake on a stream that cannot take it");
		return -1;
	}
	if (s->read_buffer_len > 0) {
		/* Bytes that came before the handshake would be read as if
		 * they had come over TLS: the STARTTLS injection attack. */
		hearth_err_set(err, HEARTH_FAIL_TLS, 0,
			       "%s sent data before the TLS handshake; refused",
			       ep->host);
		return -1;
	}
	/* OpenSSL writes with write(2): a closed peer must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	ctx = tls_ctx_get(ep->ca_file, err);
	if (ctx == NULL)
		return -1;
	ssl = SSL_new(ctx);
	if (ssl == NULL || SSL_set_fd(ssl, t->fd) != 1) {
		SSL_free(ssl);
		hearth_err_set(err, HEARTH_FAIL_RETRY, 0,
			       "cannot set up TLS for %s", ep->host);
		return -1;
	}
	if (tls_is_ip(ep->host)) {
		/* No SNI for an address (RFC 6066); check the IP SAN. */
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ep->host);
	} else {
		SSL_set_tlsext_host_name(ssl, ep->host);
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		SSL_set1_host(ssl, ep->host);
	}
	if (ep->tls_insecure_skip_verify)
		SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	t->ssl = ssl;
	for (;;) {
		int ret;

		if (tls_low_expired(t))
			goto fail;
		ERR_clear_error();
		errno = 0;
		ret = SSL_connect(ssl);
		if (ret == 1)
			break;
		if (tls_low_want(t, ret, "TLS handshake") <= 0)
			goto fail;
	}
	peer = SSL_get1_peer_certificate(ssl);
	tls_fill_info(ssl, peer, &info);
	X509_free(peer);
	if (!info.verified) {
		if (!ep->tls_insecure_skip_verify) {
			hearth_err_set(err, HEARTH_FAIL_TLS, 0,
				       "certificate of %s not verified: %s",
				       ep->host, info.verify_text);
			goto fail_info;
		}
	}
	if (ep->tls_insecure_skip_verify)
		log_warn("host=%s port=%u tls_insecure_skip_verify=yes "
			 "verified=%s verify=\"%s\" sha256=%s",
			 ep->host, ep->port, info.verified ? "yes" : "no",
			 info.verify_text, info.fingerprint);
	/* The server's first reply after the handshake would otherwise
	 * wait for our delayed ACK (Nagle on its side): 40 ms a session. */
	setsockopt(t->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	if (info_r != NULL)
		*info_r = info;
	return 0;

fail:
	if (t->timed_out) {
		hearth_err_set(err, HEARTH_FAIL_RETRY, 0,
			       "TLS handshake with %s: %s", ep->host, t->error);
	} else {
		long vr = SSL_get_verify_result(ssl);

		if (vr != X509_V_OK)
			hearth_err_set(err, HEARTH_FAIL_TLS, (int)vr,
				       "certificate of %s not verified: %s",
				       ep->host,
				       X509_verify_cert_error_string(vr));
		else
			hearth_err_set(err, HEARTH_FAIL_TLS, 0,
				       "TLS handshake with %s failed: %s",
				       ep->host, t->error);
	}
	memset(&info, 0, sizeof(info));
	info.verify_result = SSL_get_verify_result(ssl);
	snprintf(info.verify_text, sizeof(info.verify_text), "%s",
		 X509_verify_cert_error_string(info.verify_result));
fail_info:
	if (info_r != NULL)
		*info_r = info;
	SSL_free(ssl);
	t->ssl = NULL;
	return -1;
}

mailstream *tls_connect(const struct endpoint *ep,
			const struct tls_limits *limits,
			struct tls_info *info_r, struct hearth_err *err)
{
	int64_t left = limits->deadline_msecs - net_now_msecs();
	int timeout = limits->op_timeout_msecs;
	mailstream *s;
	int fd;

	if (info_r != NULL)
		memset(info_r, 0, sizeof(*info_r));
	if (left <= 0) {
		hearth_err_set(err, HEARTH_FAIL_RETRY, 0,
			       "connect %s: deadline passed", ep->host);
		return NULL;
	}
	if (left < timeout)
		timeout = (int)left;
	if (ep->security == ENDPOINT_INSECURE_PLAINTEXT)
		log_warn("host=%s port=%u tls_insecure_plaintext=yes "
			 "note=\"no TLS: everything, credentials included, "
			 "crosses the network in clear\"",
			 ep->host, ep->port);
	fd = net_connect(ep->host, ep->port, timeout, err);
	if (fd < 0)
		return NULL;
	s = tls_stream_new(fd, limits);
	if (ep->security == ENDPOINT_TLS &&
	    tls_stream_handshake(s, ep, info_r, err) < 0) {
		mailstream_close(s);
		return NULL;
	}
	return s;
}

void tls_stream_set_deadline(mailstream *s, int64_t deadline_msecs)
{
	struct tls_low *t = tls_low_of(s);

	if (t != NULL)
		t->limits.deadline_msecs = deadline_msecs;
}

const char *tls_stream_error(mailstream *s)
{
	struct tls_low *t = tls_low_of(s);

	if (t == NULL || t->error[0] == '\0')
		return "stream error";
	return t->error;
}

bool tls_stream_timed_out(mailstream *s)
{
	struct tls_low *t = tls_low_of(s);

	return t != NULL && t->timed_out;
}

uint64_t tls_stream_bytes_read(mailstream *s)
{
	struct tls_low *t = tls_low_of(s);

	return t != NULL ? t->bytes_read : 0;
}
