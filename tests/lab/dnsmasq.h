/* SPDX-License-Identifier: MIT */
/*
 * dnsmasq for the DNS tests (test_dns, test_check): a real dnsmasq started
 * on 127.0.0.1 at a port the test found free, with local data only (no
 * resolv.conf, no hosts file, no upstream: it never forwards), killed with
 * its test. Header-only: each test is one program.
 */
#ifndef HEARTH_TEST_DNSMASQ_H
#define HEARTH_TEST_DNSMASQ_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hearth/dns.h"
#include "hearth/net.h"
#include "hearth/xalloc.h"

#ifndef DNSMASQ
#define DNSMASQ "/usr/sbin/dnsmasq"
#endif

/* A UDP socket on 127.0.0.1 with a kernel-chosen port. */
static inline int udp_any(uint16_t *port_r)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port_r = ntohs(sin.sin_port);
	return fd;
}

/*
 * dnsmasq on 127.0.0.1:port with the data options data[0..n) (--local=,
 * --txt-record=, --mx-host=...): its pid, or -1.
 */
static inline pid_t dnsmasq_start(uint16_t port, const char *const *data,
				  size_t n)
{
	char port_arg[32];
	const char *fixed[] = {
	    DNSMASQ,
	    "--keep-in-foreground",
	    "--conf-file=/dev/null",
	    "--no-resolv",
	    "--no-hosts",
	    "--no-poll",
	    "--listen-address=127.0.0.1",
	    "--bind-interfaces",
	    port_arg,
	    "--pid-file=",
	    "--log-facility=/dev/null",
	};
	size_t nf = sizeof(fixed) / sizeof(*fixed);
	char **argv = xcalloc(nf + n + 1, sizeof(*argv));
	pid_t pid;

	snprintf(port_arg, sizeof(port_arg), "--port=%u", port);
	for (size_t i = 0; i < nf; i++)
		argv[i] = (char *)fixed[i];
	for (size_t i = 0; i < n; i++)
		argv[nf + i] = (char *)data[i];
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	free(argv);
	return pid;
}

/* Wait until dnsmasq answers an A lookup of name (1), or it died or 5 s
 * passed (0). */
static inline int dnsmasq_ready(pid_t pid, uint16_t port, const char *name)
{
	int64_t deadline = net_now_msecs() + 5000;
	char servers[32];
	struct dns_options opts = {.servers = servers,
				   .timeout_msecs = 200,
				   .cache_entries = -1};
	int ready = 0;

	snprintf(servers, sizeof(servers), "127.0.0.1:%u", port);
	while (!ready && net_now_msecs() < deadline) {
		struct hearth_err err = {0};
		struct dns *probe = NULL;
		char **v = NULL;
		size_t n = 0;

		if (dns_new(&opts, &probe, &err) < 0 ||
		    waitpid(pid, NULL, WNOHANG) == pid) {
			dns_free(&probe);
			break;
		}
		ready = dns_a(probe, name, &v, &n, NULL, &err) == 1;
		dns_a_free(&v, n);
		dns_free(&probe);
		if (!ready)
			usleep(20000);
	}
	return ready;
}

/* SIGTERM a child and reap it. */
static inline void child_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

#endif
