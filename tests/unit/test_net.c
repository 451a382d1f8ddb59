// SPDX-License-Identifier: MIT
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hearth/net.h"
#include "test.h"

/* A listening socket on 127.0.0.1 with a kernel-chosen port. */
static int listen_any(uint16_t *port_r)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		return -1;
	*port_r = ntohs(sin.sin_port);
	return fd;
}

static void test_connect_ok(void)
{
	struct hearth_err err = {0};
	uint16_t port;
	int lfd = listen_any(&port);
	int fd;

	test_begin("net_connect to a listener");
	test_assert(lfd >= 0);
	fd = net_connect("127.0.0.1", port, 2000, &err);
	test_assert(fd >= 0);
	test_assert((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	test_assert((fcntl(fd, F_GETFL) & O_NONBLOCK) == 0);
	close(fd);
	close(lfd);
	test_end();
}

static void test_connect_refused(void)
{
	struct hearth_err err = {0};
	uint16_t port;
	int lfd = listen_any(&port);

	test_begin("net_connect refused is retry");
	close(lfd);
	test_assert(net_connect("127.0.0.1", port, 2000, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_RETRY);
	test_assert(err.code == ECONNREFUSED);
	test_assert(strstr(err.msg, "refused") != NULL);
	test_assert(net_connect("127.0.0.1", 0, 2000, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_end();
}

static void test_wait_deadline(void)
{
	int sv[2];
	int64_t start;
	int ret;

	test_begin("net_wait honours its deadline");
	test_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	start = net_now_msecs();
	ret = net_wait(sv[0], POLLIN, start + 50);
	test_assert(ret == 0);
	test_assert(net_now_msecs() - start >= 50);
	test_assert(write(sv[1], "x", 1) == 1);
	test_assert(net_wait(sv[0], POLLIN, net_now_msecs() + 1000) == 1);
	close(sv[0]);
	close(sv[1]);
	test_end();
}

int main(void)
{
	test_connect_ok();
	test_connect_refused();
	test_wait_deadline();
	return test_exit();
}
