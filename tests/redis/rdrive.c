/*
 * rdrive.c: the milter-protocol driver of the Redis fault tests and of the
 * Redis benchmark.  It plays the MTA (OPTNEG, the connect macros, CONNECT,
 * QUIT) like bench/loadgen.c, but per client address, so that a test can
 * hold every client to its own verdicts, and it times every session.
 * Built with cc, it needs nothing but libc and libmilter's mfdef.h.
 *
 *   rdrive [-T MS] run SOCKS CLIENT...
 *       SOCKS is one or more milter socket paths joined by commas; CLIENT is
 *       ADDR:N (N sessions from the literal IPv4/IPv6 address ADDR).  Every
 *       client runs in a thread of its own, all at once; a client's
 *       sessions follow one another, the k-th on SOCKS[k % count] (round
 *       robin over the daemons); ADDR:N@K sends all of them to SOCKS[K].
 *       Prints one line per client
 *         "client ADDR accepted=A refused=R other=O"
 *       (refused: a reply code, a tempfail or a reject; other: anything
 *       else, or no answer), then
 *         "total sessions=S answered=A accepted=A refused=R other=O max_ms=M"
 *       where max_ms is the longest session (connect to QUIT), wall time.
 *   rdrive [-T MS] takeover SOCK PID SECONDS
 *       Sessions from distinct addresses (10.201.0.0/16), one after another,
 *       for 0.3 s; then SIGKILL to PID (the redis-server) and sessions for
 *       SECONDS more.  Prints
 *         "takeover first_ms=F fast_ms=Q max_ms=M after=N errors=E"
 *       first_ms: from the kill to the answer of the first session begun
 *       after it (Redis is dead by then: that answer is the fallback's);
 *       fast_ms: the same for the first such session that took under 1 ms
 *       (no timeout waited); max_ms: the longest session after the kill.
 *
 * -T bounds every read and write (default 5000 ms): a session that passes
 * it is counted "other".  Exit status 0 when the run could be made (the
 * caller judges the output), 2 on a usage error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfdef.h>

#define MAX_SOCKS 8
#define MAX_CLIENTS 64

enum verdict { V_ACCEPT, V_REFUSED, V_OTHER };

static const char *socks[MAX_SOCKS];
static int nsocks;
static int io_ms = 5000;

struct client {
	pthread_t tid;
	char addr[INET6_ADDRSTRLEN];
	long n;
	int sock;			/* -1: round robin */
	long count[3];
	uint64_t max_ns;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
put32(unsigned char *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static uint32_t
get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

/* One command in one write, as sendmail sends it.  0 or -1. */
static int
send_cmd(int fd, char cmd, const void *data, size_t len)
{
	unsigned char pkt[1024];

	if (len + 5 > sizeof pkt)
		return -1;
	put32(pkt, (uint32_t)len + 1);
	pkt[4] = (unsigned char)cmd;
	if (len)
		memcpy(pkt + 5, data, len);
	return send(fd, pkt, len + 5, MSG_NOSIGNAL) == (ssize_t)(len + 5) ? 0 : -1;
}

/* Read exactly len bytes (each read bounded by SO_RCVTIMEO).  0 or -1. */
static int
read_full(int fd, unsigned char *p, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t r = recv(fd, p + off, len - off, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

/* One packet: its command byte, or -1.  The data is read and dropped. */
static int
read_pkt(int fd)
{
	unsigned char hdr[5], skip[512];
	uint32_t len;

	if (read_full(fd, hdr, 5) != 0)
		return -1;
	len = get32(hdr);
	if (len == 0 || len > 65536)
		return -1;
	for (len -= 1; len > 0; ) {
		size_t k = len < sizeof skip ? len : sizeof skip;
		if (read_full(fd, skip, k) != 0)
			return -1;
		len -= (uint32_t)k;
	}
	return hdr[4];
}

static size_t
put_macro(unsigned char *p, size_t off, const char *name, const char *value)
{
	size_t a = strlen(name) + 1, b = strlen(value) + 1;

	memcpy(p + off, name, a);
	memcpy(p + off + a, value, b);
	return off + a + b;
}

/* One session from addr on the milter socket path.  Its verdict. */
static enum verdict
session(const char *path, const char *addr)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	unsigned char data[600];
	char host[80];
	struct timeval tv = { io_ms / 1000, (io_ms % 1000) * 1000 };
	int six = strchr(addr, ':') != NULL, fd, r;
	enum verdict v = V_OTHER;
	size_t off;
	uint16_t port = htons(40000);

	if (strlen(path) >= sizeof sun.sun_path)
		return V_OTHER;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return V_OTHER;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0)
		goto out;
	put32(data, SMFI_PROT_VERSION);
	put32(data + 4, SMFI_CURR_ACTS);
	put32(data + 8, SMFI_CURR_PROT);
	if (send_cmd(fd, SMFIC_OPTNEG, data, MILTER_OPTLEN) != 0 ||
	    read_pkt(fd) != SMFIC_OPTNEG)
		goto out;
	snprintf(host, sizeof host, six ? "[IPv6:%s]" : "[%s]", addr);
	data[0] = SMFIC_CONNECT;
	off = 1;
	off = put_macro(data, off, "j", "mx.rdrive.test");
	off = put_macro(data, off, "{daemon_name}", "MTA");
	off = put_macro(data, off, "{if_addr}", six ? "::1" : "127.0.0.1");
	if (send_cmd(fd, SMFIC_MACRO, data, off) != 0)
		goto out;
	off = strlen(host) + 1;
	memcpy(data, host, off);
	data[off++] = six ? SMFIA_INET6 : SMFIA_INET;
	memcpy(data + off, &port, 2);
	off += 2;
	memcpy(data + off, addr, strlen(addr) + 1);
	off += strlen(addr) + 1;
	if (send_cmd(fd, SMFIC_CONNECT, data, off) != 0)
		goto out;
	do
		r = read_pkt(fd);
	while (r == SMFIR_PROGRESS);
	if (r == SMFIR_ACCEPT)
		v = V_ACCEPT;
	else if (r == SMFIR_REPLYCODE || r == SMFIR_TEMPFAIL || r == SMFIR_REJECT)
		v = V_REFUSED;
	(void)send_cmd(fd, SMFIC_QUIT, NULL, 0);
out:
	close(fd);
	return v;
}

static void *
client_run(void *arg)
{
	struct client *c = arg;

	for (long k = 0; k < c->n; k++) {
		uint64_t t0 = now_ns(), dt;
		int i = c->sock >= 0 ? c->sock : (int)(k % nsocks);
		enum verdict v = session(socks[i], c->addr);

		dt = now_ns() - t0;
		if (dt > c->max_ns)
			c->max_ns = dt;
		c->count[v]++;
	}
	return NULL;
}

static void
usage(void)
{
	fprintf(stderr, "usage: rdrive [-T MS] run SOCK[,SOCK...] ADDR:N...\n"
	    "       rdrive [-T MS] takeover SOCK PID SECONDS\n");
	exit(2);
}

static void
split_socks(char *s)
{
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ","))
		if (nsocks < MAX_SOCKS)
			socks[nsocks++] = tok;
	if (nsocks == 0)
		usage();
}

static int
run(int argc, char **argv)
{
	static struct client cl[MAX_CLIENTS];
	long tot[3] = { 0 }, n = 0;
	uint64_t max = 0;
	int nc = argc;

	if (nc < 1 || nc > MAX_CLIENTS)
		usage();
	for (int i = 0; i < nc; i++) {
		char *colon = strrchr(argv[i], ':'), *end;
		unsigned char buf[16];

		if (colon == NULL || (size_t)(colon - argv[i]) >= sizeof cl[i].addr)
			usage();
		memcpy(cl[i].addr, argv[i], (size_t)(colon - argv[i]));
		cl[i].n = strtol(colon + 1, &end, 10);
		cl[i].sock = -1;
		if (*end == '@') {
			cl[i].sock = (int)strtol(end + 1, &end, 10);
			if (cl[i].sock < 0 || cl[i].sock >= nsocks)
				usage();
		}
		if (*end || cl[i].n < 0 || cl[i].n > 100000 ||
		    (inet_pton(AF_INET, cl[i].addr, buf) != 1 &&
		    inet_pton(AF_INET6, cl[i].addr, buf) != 1))
			usage();
	}
	for (int i = 0; i < nc; i++)
		if (pthread_create(&cl[i].tid, NULL, client_run, &cl[i]) != 0) {
			fprintf(stderr, "rdrive: pthread_create failed\n");
			return 2;
		}
	for (int i = 0; i < nc; i++) {
		pthread_join(cl[i].tid, NULL);
		printf("client %s accepted=%ld refused=%ld other=%ld\n", cl[i].addr,
		    cl[i].count[V_ACCEPT], cl[i].count[V_REFUSED], cl[i].count[V_OTHER]);
		for (int k = 0; k < 3; k++)
			tot[k] += cl[i].count[k];
		n += cl[i].n;
		if (cl[i].max_ns > max)
			max = cl[i].max_ns;
	}
	printf("total sessions=%ld answered=%ld accepted=%ld refused=%ld other=%ld max_ms=%.3f\n",
	    n, tot[V_ACCEPT] + tot[V_REFUSED], tot[V_ACCEPT], tot[V_REFUSED],
	    tot[V_OTHER], (double)max / 1e6);
	return 0;
}

static int
takeover(int argc, char **argv)
{
	char addr[32];
	long pid, errors = 0, after = 0;
	double secs;
	uint64_t t_kill = 0, end, first = 0, fast = 0, max = 0;
	unsigned i = 0;

	if (argc != 3 || (pid = strtol(argv[1], NULL, 10)) <= 1 ||
	    (secs = strtod(argv[2], NULL)) <= 0 || secs > 60)
		usage();
	end = now_ns() + 300000000u;
	for (int phase = 0; phase < 2; phase++) {
		while (now_ns() < end) {
			uint64_t t0 = now_ns(), dt;
			enum verdict v;

			i++;
			snprintf(addr, sizeof addr, "10.201.%u.%u", (i >> 8) & 255, i & 255);
			v = session(socks[0], addr);
			dt = now_ns() - t0;
			if (phase == 0)
				continue;
			after++;
			if (v == V_OTHER)
				errors++;
			if (dt > max)
				max = dt;
			if (first == 0)
				first = t0 + dt - t_kill;
			if (fast == 0 && dt < 1000000u)
				fast = t0 + dt - t_kill;
		}
		if (phase == 0) {
			t_kill = now_ns();
			if (kill((pid_t)pid, SIGKILL) != 0) {
				perror("rdrive: kill");
				return 2;
			}
			end = t_kill + (uint64_t)(secs * 1e9);
		}
	}
	printf("takeover first_ms=%.3f fast_ms=%.3f max_ms=%.3f after=%ld errors=%ld\n",
	    (double)first / 1e6, (double)fast / 1e6, (double)max / 1e6, after, errors);
	return 0;
}

int
main(int argc, char **argv)
{
	int ch;

	while ((ch = getopt(argc, argv, "T:")) != -1) {
		if (ch != 'T' || (io_ms = atoi(optarg)) < 1 || io_ms > 600000)
			usage();
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		usage();
	split_socks(argv[1]);
	if (strcmp(argv[0], "run") == 0)
		return run(argc - 2, argv + 2);
	if (strcmp(argv[0], "takeover") == 0)
		return takeover(argc - 1, argv + 1);
	usage();
	return 2;
}
