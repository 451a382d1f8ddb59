// SPDX-License-Identifier: MIT
#include "hearth/net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int64_t net_now_msecs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int net_wait(int fd, short events, int64_t deadline_msecs)
{
	struct pollfd pfd = {.fd = fd, .events = events};

	for (;;) {
		int64_t left = deadline_msecs - net_now_msecs();
		int ret;

		if (left < 0)
			left = 0;
		ret = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (ret > 0)
			return 1;
		if (ret == 0 && left == 0)
			return 0;
		if (ret < 0 && errno != EINTR)
			return -1;
	}
}

/* One address: 0 connected, -1 with errno (ETIMEDOUT for the deadline). */
static int net_connect_addr(int fd, const struct addrinfo *ai,
			    int64_t deadline_msecs)
{
	socklen_t len = sizeof(int);
	int soerr = 0;
	int ret;

	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -1;
	ret = net_wait(fd, POLLOUT, deadline_msecs);
	if (ret == 0)
		errno = ETIMEDOUT;
	if (ret <= 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -1;
	if (soerr != 0) {
		errno = soerr;
		return -1;
	}
	return 0;
}

int net_connect(const char *host, uint16_t port, int timeout_msecs,
		struct hearth_err *err)
{
	int64_t deadline = net_now_msecs() + timeout_msecs;
	struct addrinfo hints = {
	    .ai_family = AF_UNSPEC,
	    .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG,
	};
	struct addrinfo *res = NULL;
	char service[8];
	int last_errno = 0;
	int fd = -1;
	int ret;

	if (port == 0) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "connect %s: port 0 is not a port", host);
		return -1;
	}
	snprintf(service, sizeof(service), "%u", port);
	ret = getaddrinfo(host, service, &hints, &res);
	if (ret != 0) {
		hearth_err_set(err,
			       ret == EAI_AGAIN ? HEARTH_FAIL_RETRY
						: HEARTH_FAIL_PERMANENT,
			       0, "resolve %s: %s", host, gai_strerror(ret));
		return -1;
	}
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		int one = 1;

		fd = socket(ai->ai_family,
			    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		if (net_connect_addr(fd, ai, deadline) == 0 &&
		    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == 0) {
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
			break;
		}
		last_errno = errno;
		close(fd);
		fd = -1;
		if (net_now_msecs() >= deadline)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		hearth_err_set(err, HEARTH_FAIL_RETRY, last_errno,
			       "connect %s port %u: %s", host, port,
			       last_errno == ETIMEDOUT ? "timed out"
						       : strerror(last_errno));
	}
	return fd;
}
