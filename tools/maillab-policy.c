// SPDX-License-Identifier: MIT
/*
 * maillab-policy: the mail lab's sender reputation, a Postfix policy service
 * (SMTPD_POLICY_README) that `tools/maillab start --reputation` runs as a
 * daemon of the lab. Standalone: libc only.
 *
 *   maillab-policy serve DIR [--seed N] [--day-seconds N]
 *       listen on DIR/policy/sock (mode 0666), keep the state in
 *       DIR/policy/state, write the pid to DIR/run/policy.pid; SIGTERM
 *       saves the state and ends it.
 *   maillab-policy report SOCKET [DOMAIN]
 *       report one message of DOMAIN (default: the domain of the message's
 *       Return-Path, else From, read from stdin) as moved out of Junk by its
 *       recipient. Dovecot's IMAPSieve runs this through vnd.dovecot.pipe.
 *
 * The model, per sender domain (the envelope sender's domain):
 *  - a domain listed in DIR/cold-domains when first seen starts with
 *    reputation 0.2, any other domain with 1 (an established domain: its
 *    mail lands in the inbox unless it spikes);
 *  - each message is junk with probability 1 - reputation, drawn from a
 *    splitmix64 generator seeded with --seed (its state is saved, so a lab
 *    with the same seed and the same mail files the same messages);
 *    junk is answered `action=PREPEND X-Lab-Placement: junk` (the lab's
 *    Sieve rule files it in the spam folder), inbox `action=DUNNO`;
 *  - +0.03 for each of its messages a recipient moves out of the spam
 *    folder into INBOX (report mode);
 *  - +0.02 for each reply it gets: mail from domain R to domain S after S
 *    mailed R (the pairs seen are kept in memory only);
 *  - -0.05 once a day when it sends more than twice its previous day's
 *    count (a spike; not when the previous day had no mail). A day is the
 *    policy's own clock: UTC days of --day-seconds seconds (default 86400);
 *  - -0.1 for each bounce: mail to a user a lab domain does not have (asked
 *    at RCPT, before Postfix refuses it);
 *  - reputation is clamped to [0.05, 1].
 * Mail with the null sender is answered DUNNO and not counted.
 *
 * State file: a comment line, `rng STATE`, then one line per domain:
 *   domain reputation messages junk ham replies spikes day day_count prev_count
 * written to a temporary file and renamed after every change.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_DOMAINS 4096
#define MAX_PAIRS 8192
#define MAX_CLIENTS 64
#define BUF_SIZE 16384

struct domain {
	char name[256];
	double rep;
	long msgs, junk, ham, replies, spikes;
	long bounces; /* in memory only: the state file keeps the reputation */
	long day, day_count, prev_count;
};

struct client {
	int fd;
	size_t len;
	char buf[BUF_SIZE];
};

static struct domain domains[MAX_DOMAINS];
static int ndomains;
static struct {
	int s, r; /* s mailed r */
} pairs[MAX_PAIRS];
static int npairs;
static uint64_t rng;
static long day_seconds = 86400;
static char dir[4096], state_path[4200], cold_path[4200];
static volatile sig_atomic_t stopping;

static uint64_t splitmix64(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double draw(void)
{
	return (double)(splitmix64() >> 11) / 9007199254740992.0;
}

static double clamp(double r)
{
	return r < 0.05 ? 0.05 : r > 1.0 ? 1.0 : r;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Is word (lower case) the first field of a line of the file at path? */
static int file_has_word(const char *path, const char *word_wanted)
{
	FILE *f = fopen(path, "r");
	char line[512], word[300];
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof line, f))
		if (sscanf(line, "%299s", word) == 1) {
			lower(word);
			found = strcmp(word, word_wanted) == 0;
		}
	fclose(f);
	return found;
}

static int is_cold(const char *name)
{
	FILE *f = fopen(cold_path, "r");
	char line[512];
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof line, f)) {
		char *p = strchr(line, '#'), word[300];
		if (p)
			*p = '\0';
		if (sscanf(line, "%299s", word) == 1) {
			lower(word);
			found = strcmp(word, name) == 0;
		}
	}
	fclose(f);
	return found;
}

static int find_domain(const char *name, int create)
{
	int i;

	for (i = 0; i < ndomains; i++)
		if (strcmp(domains[i].name, name) == 0)
			return i;
	if (!create || ndomains == MAX_DOMAINS || strlen(name) >= 256)
		return -1;
	memset(&domains[ndomains], 0, sizeof domains[0]);
	strcpy(domains[ndomains].name, name);
	domains[ndomains].rep = is_cold(name) ? 0.2 : 1.0;
	return ndomains++;
}

static void save_state(void)
{
	char tmp[4300];
	FILE *f;
	int i;

	snprintf(tmp, sizeof tmp, "%s.tmp", state_path);
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "maillab-policy: %s: %s\n", tmp, strerror(errno));
		return;
	}
	fprintf(f, "# domain reputation messages junk ham replies spikes day day_count prev_count\n");
	fprintf(f, "rng %" PRIu64 "\n", rng);
	for (i = 0; i < ndomains; i++) {
		struct domain *d = &domains[i];
		fprintf(f, "%s %.4f %ld %ld %ld %ld %ld %ld %ld %ld\n", d->name,
			d->rep, d->msgs, d->junk, d->ham, d->replies, d->spikes,
			d->day, d->day_count, d->prev_count);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		fclose(f);
		unlink(tmp);
		return;
	}
	fclose(f);
	if (rename(tmp, state_path) != 0)
		fprintf(stderr, "maillab-policy: rename: %s\n", strerror(errno));
}

static void load_state(uint64_t seed)
{
	FILE *f = fopen(state_path, "r");
	char line[1024];

	rng = seed;
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		struct domain d;
		uint64_t r;

		if (line[0] == '#')
			continue;
		if (sscanf(line, "rng %" SCNu64, &r) == 1) {
			rng = r;
			continue;
		}
		memset(&d, 0, sizeof d);
		if (sscanf(line, "%255s %lf %ld %ld %ld %ld %ld %ld %ld %ld", d.name,
			   &d.rep, &d.msgs, &d.junk, &d.ham, &d.replies,
			   &d.spikes, &d.day, &d.day_count, &d.prev_count) == 10 &&
		    ndomains < MAX_DOMAINS)
			domains[ndomains++] = d;
	}
	fclose(f);
}

/* The domain of an address (lower case), or "" */
static void addr_domain(const char *addr, char *out, size_t size)
{
	const char *at = strrchr(addr, '@');
	size_t n;

	out[0] = '\0';
	if (!at)
		return;
	at++;
	n = strcspn(at, "> \t\r\n");
	if (n == 0 || n >= size)
		return;
	memcpy(out, at, n);
	out[n] = '\0';
	lower(out);
}

static int find_pair(int s, int r)
{
	int i;

	for (i = 0; i < npairs; i++)
		if (pairs[i].s == s && pairs[i].r == r)
			return 1;
	return 0;
}

/* One policy request: attrs is "name=value\n..." ending before the empty line. */
static const char *decide(char *attrs)
{
	char *line, *save = NULL;
	char sender[256] = "", recipient[256] = "", request[64] = "";
	char state[32] = "";
	char sdom[256], rdom[256];
	int i, j;
	long today;
	struct domain *d;
	const char *action;

	for (line = strtok_r(attrs, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "request=", 8) == 0)
			snprintf(request, sizeof request, "%s", line + 8);
		else if (strncmp(line, "sender=", 7) == 0)
			snprintf(sender, sizeof sender, "%s", line + 7);
		else if (strncmp(line, "recipient=", 10) == 0)
			snprintf(recipient, sizeof recipient, "%s", line + 10);
		else if (strncmp(line, "protocol_state=", 15) == 0)
			snprintf(state, sizeof state, "%s", line + 15);
		else if (strncmp(line, "domain=", 7) == 0)
			snprintf(sender, sizeof sender, "x@%s", line + 7);
	}
	addr_domain(sender, sdom, sizeof sdom);
	if (strcmp(request, "maillab_report") == 0) {
		if (!sdom[0] || (i = find_domain(sdom, 1)) < 0)
			return "action=DUNNO";
		d = &domains[i];
		d->ham++;
		d->rep = clamp(d->rep + 0.03);
		printf("report: %s moved out of spam; reputation %.4f\n", d->name, d->rep);
		save_state();
		return "action=OK";
	}
	if (strcmp(request, "smtpd_access_policy") != 0)
		return "action=DUNNO";
	if (!sdom[0] || (i = find_domain(sdom, 1)) < 0)
		return "action=DUNNO";
	addr_domain(recipient, rdom, sizeof rdom);
	if (strcmp(state, "RCPT") == 0) {
		/* A bounce: mail to a user the lab's domain does not have
		 * (Postfix refuses it right after this answer). */
		char path[4300], rcpt[256];

		snprintf(rcpt, sizeof rcpt, "%s", recipient);
		lower(rcpt);
		snprintf(path, sizeof path, "%s/domains", dir);
		if (rcpt[0] && file_has_word(path, rdom)) {
			snprintf(path, sizeof path, "%s/postfix/vmailbox", dir);
			if (!file_has_word(path, rcpt)) {
				d = &domains[i];
				d->bounces++;
				d->rep = clamp(d->rep - 0.1);
				printf("bounce: %s -> unknown %s; reputation "
				       "%.4f\n",
				       d->name, rcpt, d->rep);
				save_state();
			}
		}
		return "action=DUNNO";
	}
	j = rdom[0] ? find_domain(rdom, 1) : -1;
	if (j >= 0 && j != i) {
		/* A reply: the recipient's domain mailed the sender's before. */
		if (find_pair(j, i)) {
			domains[j].replies++;
			domains[j].rep = clamp(domains[j].rep + 0.02);
		}
		if (!find_pair(i, j) && npairs < MAX_PAIRS) {
			pairs[npairs].s = i;
			pairs[npairs].r = j;
			npairs++;
		}
	}
	d = &domains[i];
	today = (long)(time(NULL) / day_seconds);
	if (d->day != today) {
		d->prev_count = d->day == today - 1 ? d->day_count : 0;
		d->day = today;
		d->day_count = 0;
	}
	d->day_count++;
	if (d->prev_count > 0 && d->day_count == 2 * d->prev_count + 1) {
		d->spikes++;
		d->rep = clamp(d->rep - 0.05);
	}
	d->msgs++;
	if (draw() < 1.0 - d->rep) {
		d->junk++;
		action = "action=PREPEND X-Lab-Placement: junk";
	} else {
		action = "action=DUNNO";
	}
	printf("%s -> %s: reputation %.4f: %s\n", sdom, rdom, d->rep, action);
	save_state();
	return action;
}

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static int serve(int argc, char **argv)
{
	char sock_path[4200], pid_path[4200];
	uint64_t seed = 1;
	struct sockaddr_un sa;
	struct client *clients[MAX_CLIENTS] = {0};
	struct pollfd pfd[MAX_CLIENTS + 1];
	struct sigaction sig;
	int lfd, i;
	FILE *pf;

	if (argc < 3)
		return 64;
	snprintf(dir, sizeof dir, "%s", argv[2]);
	for (i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--seed") == 0)
			seed = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--day-seconds") == 0)
			day_seconds = strtol(argv[i + 1], NULL, 10);
		else
			return 64;
	}
	if (day_seconds <= 0)
		day_seconds = 86400;
	snprintf(state_path, sizeof state_path, "%s/policy/state", dir);
	snprintf(cold_path, sizeof cold_path, "%s/cold-domains", dir);
	snprintf(sock_path, sizeof sock_path, "%s/policy/sock", dir);
	snprintf(pid_path, sizeof pid_path, "%s/run/policy.pid", dir);
	load_state(seed);
	save_state();

	memset(&sig, 0, sizeof sig);
	sig.sa_handler = on_term;
	sigaction(SIGTERM, &sig, NULL);
	sigaction(SIGINT, &sig, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(sock_path) >= sizeof sa.sun_path) {
		fprintf(stderr, "maillab-policy: %s: path too long\n", sock_path);
		return 1;
	}
	strcpy(sa.sun_path, sock_path);
	unlink(sock_path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    chmod(sock_path, 0666) != 0 || listen(lfd, 64) != 0) {
		fprintf(stderr, "maillab-policy: %s: %s\n", sock_path, strerror(errno));
		return 1;
	}
	pf = fopen(pid_path, "w");
	if (pf) {
		fprintf(pf, "%ld\n", (long)getpid());
		fclose(pf);
	}
	printf("listening on %s, seed %" PRIu64 ", day %ld s\n", sock_path, seed, day_seconds);

	while (!stopping) {
		int n = 0, idx[MAX_CLIENTS + 1];

		pfd[n].fd = lfd;
		pfd[n].events = POLLIN;
		idx[n++] = -1;
		for (i = 0; i < MAX_CLIENTS; i++)
			if (clients[i]) {
				pfd[n].fd = clients[i]->fd;
				pfd[n].events = POLLIN;
				idx[n++] = i;
			}
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			for (i = 0; fd >= 0 && i < MAX_CLIENTS && clients[i]; i++)
				;
			if (fd >= 0 && i < MAX_CLIENTS &&
			    (clients[i] = calloc(1, sizeof *clients[i])) != NULL)
				clients[i]->fd = fd;
			else if (fd >= 0)
				close(fd);
		}
		for (int k = 1; k < n; k++) {
			struct client *c = clients[idx[k]];
			ssize_t got;
			char *end;
			int done = 0;

			if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			got = read(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
			if (got <= 0)
				done = 1;
			else
				c->len += (size_t)got;
			c->buf[c->len] = '\0';
			/* Every complete request: attribute lines, then an empty line. */
			while (!done && (end = strstr(c->buf, "\n\n")) != NULL) {
				char reply[256];
				size_t used = (size_t)(end - c->buf) + 2;

				*end = '\0';
				snprintf(reply, sizeof reply, "%s\n\n", decide(c->buf));
				if (write(c->fd, reply, strlen(reply)) < 0)
					done = 1;
				memmove(c->buf, c->buf + used, c->len - used + 1);
				c->len -= used;
			}
			if (c->len >= sizeof c->buf - 1)
				done = 1;
			if (done) {
				close(c->fd);
				free(c);
				clients[idx[k]] = NULL;
			}
		}
	}
	save_state();
	unlink(sock_path);
	unlink(pid_path);
	printf("stopped\n");
	return 0;
}

/* Report a message moved out of Junk to the daemon. */
static int report(int argc, char **argv)
{
	char dom[256] = "", line[2048], req[512];
	struct sockaddr_un sa;
	int fd, from_found = 0;
	ssize_t n;

	if (argc < 3)
		return 64;
	if (argc > 3) {
		snprintf(dom, sizeof dom, "%s", argv[3]);
		lower(dom);
	} else {
		/* Headers only: Return-Path wins, From is the fallback. */
		while (fgets(line, sizeof line, stdin)) {
			if (line[0] == '\n' || (line[0] == '\r' && line[1] == '\n'))
				break;
			if (strncasecmp(line, "Return-Path:", 12) == 0 && strchr(line, '@')) {
				addr_domain(line, dom, sizeof dom);
				break;
			}
			if (!from_found && strncasecmp(line, "From:", 5) == 0 && strchr(line, '@')) {
				addr_domain(line, dom, sizeof dom);
				from_found = 1;
			}
		}
		while (fread(line, 1, sizeof line, stdin) > 0)
			;
	}
	if (!dom[0]) {
		fprintf(stderr, "maillab-policy: report: no sender domain\n");
		return 0;
	}
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", argv[2]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		fprintf(stderr, "maillab-policy: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	snprintf(req, sizeof req, "request=maillab_report\ndomain=%s\n\n", dom);
	if (write(fd, req, strlen(req)) < 0)
		return 1;
	n = read(fd, line, sizeof line - 1);
	close(fd);
	if (n <= 0)
		return 1;
	line[n] = '\0';
	return strncmp(line, "action=OK", 9) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return serve(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "report") == 0)
		return report(argc, argv);
	fprintf(stderr, "usage: maillab-policy serve DIR [--seed N] [--day-seconds N]\n"
			"       maillab-policy report SOCKET [DOMAIN]\n");
	return 64;
}
