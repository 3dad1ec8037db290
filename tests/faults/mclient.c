/*
 * mclient.c: a small milter-protocol client for tests/faults: load that
 * miltertest cannot make (thousands of sessions, a thousand held open at
 * once) and peers that break the protocol on purpose.  run.sh compiles it
 * with cc; it needs nothing but libc.
 *
 *   mclient session SOCK ADDR [HOST]
 *       One session as an MTA opens it: OPTNEG, CONNECT from ADDR (a literal
 *       IPv4 or IPv6 address, or "unspec").  Prints the reply to CONNECT:
 *       "a" (accept), "c" (continue), "y 421 4.3.2 text" (reply code), ...
 *   flood SOCK COUNT FIRST HEAVY EVERY
 *       COUNT sessions from COUNT distinct IPv4 addresses (the FIRST-th to
 *       the FIRST+COUNT-1-th of 10.0.0.0/8), and after every EVERY of them
 *       one from HEAVY.  Prints "sessions=N accepted=N refused=N other=N
 *       heavy_accepted=N heavy_refused=N heavy_continued=N heavy_other=N"
 *       (refused: a reply code; continued: CONTINUE, as for a client
 *       refused in the helo stage).
 *   repeat SOCK KEYS FIRST TIMES [v6]
 *       KEYS distinct addresses (the FIRST-th to the FIRST+KEYS-1-th of
 *       10.0.0.0/8, or with v6 of 2001:db8::/32 at one address per /64), each
 *       TIMES times, round by round (every key once, then every key again).
 *       Prints "sessions=N accepted=N refused=N other=N".
 *   hold SOCK N READY RELEASE MAXSECS [negotiate|connect|silent|partial|burst]
 *       Opens N sessions at once (connect(2) on every one first), then
 *       (negotiate, the default) sends OPTNEG on each and waits up to 5 s
 *       in all for the answers; with connect also a CONNECT from a distinct
 *       address (198.18.x.y) on each negotiated one; silent sends nothing;
 *       partial sends the first 5 bytes of an OPTNEG packet and stops;
 *       burst negotiates, and once RELEASE exists sends CONNECT on every
 *       session again and again for up to 3 s, printing "sent=N
 *       answered=N gone=N".
 *       Writes "opened=N negotiated=N connected=N failed=N" to the file
 *       READY, then holds every session until the file RELEASE exists or
 *       MAXSECS pass, closes them all and exits.
 *   hostile SOCK CASE [ARG]
 *       One session that breaks the protocol (see hostile() for the
 *       cases).  Prints "outcome=answered|dropped|timeout replies=LETTERS",
 *       where LETTERS are the reply commands received (O for OPTNEG) and
 *       outcome is how the session ended: the daemon closed it (dropped),
 *       it answered everything that needed an answer and then closed or
 *       went quiet (answered), or it said nothing for 5 s (timeout).
 *
 * Every wait is bounded.  Exit status 0 when the run could be made (the
 * caller judges the output), 2 when the socket cannot be reached or on a
 * usage error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define READ_MS 5000		/* bound on every wait for the daemon */

static const char *sockpath;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
die(const char *what)
{
	fprintf(stderr, "mclient: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int
open_sock(void)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(sockpath) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, sockpath);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Write all of buf; false when the daemon hung up. */
static bool
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* A packet: 4-byte length (command included), command, data. */
static bool
send_pkt(int fd, char cmd, const void *data, size_t len)
{
	uint32_t n = htonl((uint32_t)len + 1);
	char *buf = malloc(len + 5);
	bool ok;

	if (buf == NULL)
		die("malloc");
	memcpy(buf, &n, 4);
	buf[4] = cmd;
	if (len)
		memcpy(buf + 5, data, len);
	ok = write_all(fd, buf, len + 5);
	free(buf);
	return ok;
}

/* Read exactly len bytes within the deadline: 1 done, 0 EOF (or reset),
 * -1 timeout. */
static int
read_full(int fd, void *buf, size_t len, uint64_t deadline)
{
	char *p = buf;

	while (len > 0) {
		uint64_t now = now_ms();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (now >= deadline)
			return -1;
		if (poll(&pfd, 1, (int)(deadline - now)) == 0)
			return -1;
		n = recv(fd, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		p += n;
		len -= (size_t)n;
	}
	return 1;
}

/* One reply packet: 1 with *cmd and up to buflen-1 bytes of data (NUL
 * terminated) in buf, 0 EOF, -1 timeout. */
static int
read_pkt(int fd, char *cmd, char *buf, size_t buflen, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	uint32_t n;
	char junk[512];
	int r;

	if ((r = read_full(fd, &n, 4, deadline)) != 1)
		return r;
	n = ntohl(n);
	if (n == 0 || n > 1u << 20)
		return 0;	/* nonsense from the daemon: treat as a hang-up */
	if ((r = read_full(fd, cmd, 1, deadline)) != 1)
		return r;
	n--;
	if (buf && buflen)
		buf[0] = '\0';
	while (n > 0) {
		size_t take = n;
		char *dst = junk;
		if (buf && buflen > 1) {
			take = n < buflen - 1 ? n : buflen - 1;
			dst = buf;
			buflen = 0;	/* the rest goes to junk */
		} else if (take > sizeof junk) {
			take = sizeof junk;
		}
		if ((r = read_full(fd, dst, take, deadline)) != 1)
			return r;
		if (dst == buf)
			buf[take] = '\0';
		n -= (uint32_t)take;
	}
	return 1;
}

/* OPTNEG as sendmail sends it: version 6, every action, every protocol bit. */
static bool
send_optneg(int fd)
{
	uint32_t v[3] = { htonl(6), htonl(0x1ff), htonl(0x1fffff) };

	return send_pkt(fd, 'O', v, sizeof v);
}

/* CONNECT data: host NUL family [port(2) addr NUL]. */
static size_t
connect_data(char *buf, size_t cap, const char *host, const char *addr)
{
	size_t hl = strlen(host), al, n = 0;
	char fam;

	if (strcmp(addr, "unspec") == 0) {
		if (hl + 2 > cap)
			return 0;
		memcpy(buf, host, hl + 1);
		buf[hl + 1] = 'U';
		return hl + 2;
	}
	fam = strchr(addr, ':') ? '6' : '4';
	al = strlen(addr);
	if (hl + al + 5 > cap)
		return 0;
	memcpy(buf, host, hl + 1);
	n = hl + 1;
	buf[n++] = fam;
	buf[n++] = 0x10;	/* port 4321 */
	buf[n++] = (char)0xe1;
	memcpy(buf + n, addr, al + 1);
	return n + al + 1;
}

static bool
send_connect(int fd, const char *host, const char *addr)
{
	char buf[1024];
	size_t n = connect_data(buf, sizeof buf, host, addr);

	return n > 0 && send_pkt(fd, 'C', buf, n);
}

/* Negotiate and CONNECT from addr; the reply letter in *cmd (and text). */
static int
one_session(const char *addr, const char *host, char *cmd, char *text, size_t tl)
{
	int fd = open_sock(), r;

	if (fd < 0)
		die("connect");
	*cmd = '?';
	if (!send_optneg(fd) || (r = read_pkt(fd, cmd, NULL, 0, READ_MS)) != 1 ||
	    *cmd != 'O') {
		close(fd);
		*cmd = '!';
		return -1;
	}
	if (!send_connect(fd, host, addr) ||
	    (r = read_pkt(fd, cmd, text, tl, READ_MS)) != 1) {
		close(fd);
		*cmd = r == -1 ? 'T' : 'E';	/* timeout, EOF */
		return -1;
	}
	send_pkt(fd, 'Q', NULL, 0);
	close(fd);
	return 0;
}

static int
cmd_session(int argc, char **argv)
{
	char cmd, text[1024] = "";

	if (argc < 1)
		return 2;
	one_session(argv[0], argc > 1 ? argv[1] : "client.example", &cmd, text,
	    sizeof text);
	if (cmd == 'y')
		printf("y %s\n", text);
	else
		printf("%c\n", cmd);
	return 0;
}

static int
cmd_flood(int argc, char **argv)
{
	unsigned long count, first, every, i;
	unsigned long acc = 0, ref = 0, oth = 0, hacc = 0, href = 0, hcon = 0, hoth = 0;
	const char *heavy;
	char addr[64], cmd;

	if (argc < 4)
		return 2;
	count = strtoul(argv[0], NULL, 10);
	first = strtoul(argv[1], NULL, 10);
	heavy = argv[2];
	every = strtoul(argv[3], NULL, 10);
	for (i = 0; i < count; i++) {
		unsigned long k = first + i;
		snprintf(addr, sizeof addr, "10.%lu.%lu.%lu", (k >> 16) & 255,
		    (k >> 8) & 255, k & 255);
		one_session(addr, "flood.example", &cmd, NULL, 0);
		if (cmd == 'a')
			acc++;
		else if (cmd == 'y')
			ref++;
		else
			oth++;
		if (every && (i + 1) % every == 0) {
			one_session(heavy, "heavy.example", &cmd, NULL, 0);
			if (cmd == 'a')
				hacc++;
			else if (cmd == 'y')
				href++;
			else if (cmd == 'c')
				hcon++;	/* refused in the helo stage */
			else
				hoth++;
		}
	}
	printf("sessions=%lu accepted=%lu refused=%lu other=%lu heavy_accepted=%lu "
	    "heavy_refused=%lu heavy_continued=%lu heavy_other=%lu\n", count, acc, ref,
	    oth, hacc, href, hcon, hoth);
	return 0;
}

static bool
exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

static int
cmd_hold(int argc, char **argv)
{
	long n, i, opened = 0, negotiated = 0, connected = 0, failed = 0, maxsecs;
	const char *ready, *release, *how;
	struct pollfd *pfd;
	int *fds, *state;	/* 0 closed, 1 waiting for O, 2 negotiated, 3 waiting for C, 4 connected */
	struct rlimit rl;
	uint64_t deadline;
	FILE *f;

	if (argc < 4)
		return 2;
	n = strtol(argv[0], NULL, 10);
	ready = argv[1];
	release = argv[2];
	maxsecs = strtol(argv[3], NULL, 10);
	how = argc > 4 ? argv[4] : "negotiate";
	/* Room for n descriptors of our own. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = (rlim_t)n + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			die("setrlimit RLIMIT_NOFILE");
	}
	fds = calloc((size_t)n, sizeof *fds);
	state = calloc((size_t)n, sizeof *state);
	pfd = calloc((size_t)n, sizeof *pfd);
	if (fds == NULL || state == NULL || pfd == NULL)
		die("calloc");
	for (i = 0; i < n; i++) {
		if ((fds[i] = open_sock()) < 0) {
			failed++;
			continue;
		}
		opened++;
		state[i] = 1;
	}
	if (strcmp(how, "partial") == 0) {
		/* The first 5 bytes of an OPTNEG packet, then nothing. */
		for (i = 0; i < n; i++)
			if (state[i] == 1 && !write_all(fds[i], "\0\0\0\x0dO", 5))
				state[i] = 0, failed++;
	} else if (strcmp(how, "silent") != 0) {
		for (i = 0; i < n; i++)
			if (state[i] == 1 && !send_optneg(fds[i]))
				state[i] = 0, failed++;
		/* Collect the answers, all sessions at once, 5 s in all. */
		deadline = now_ms() + READ_MS;
		for (;;) {
			long m = 0, w = 0;
			uint64_t now = now_ms();
			for (i = 0; i < n; i++) {
				pfd[i].fd = state[i] == 1 || state[i] == 3 ? fds[i] : -1;
				pfd[i].events = POLLIN;
				pfd[i].revents = 0;
				if (pfd[i].fd >= 0)
					w++;
			}
			if (w == 0 || now >= deadline)
				break;
			if (poll(pfd, (nfds_t)n, (int)(deadline - now)) <= 0)
				break;
			for (i = 0; i < n; i++) {
				char cmd;
				int r;
				if (pfd[i].fd < 0 || pfd[i].revents == 0)
					continue;
				m++;
				r = read_pkt(fds[i], &cmd, NULL, 0, 1000);
				if (r != 1) {
					state[i] = 0;
					failed++;
					continue;
				}
				if (state[i] == 1 && cmd == 'O') {
					negotiated++;
					state[i] = 2;
					if (strcmp(how, "connect") == 0) {
						char addr[32];
						snprintf(addr, sizeof addr, "198.18.%ld.%ld",
						    (i >> 8) & 255, i & 255);
						if (send_connect(fds[i], "held.example", addr))
							state[i] = 3;
						else
							state[i] = 0, failed++;
					}
				} else if (state[i] == 3) {
					connected++;
					state[i] = 4;
				} else {
					state[i] = 0;
					failed++;
				}
			}
			(void)m;
		}
	}
	if ((f = fopen(ready, "w")) == NULL)
		die(ready);
	fprintf(f, "opened=%ld negotiated=%ld connected=%ld failed=%ld\n",
	    opened, negotiated, connected, failed);
	fclose(f);
	deadline = now_ms() + (uint64_t)maxsecs * 1000;
	while (!exists(release) && now_ms() < deadline)
		usleep(20000);
	if (strcmp(how, "burst") == 0) {
		/* On release: CONNECT on every negotiated session, as fast as
		 * they are answered, for up to 3 s (the daemon may be going
		 * away meanwhile).  Prints what came back. */
		long sent = 0, answered = 0, gone = 0;
		uint64_t end = now_ms() + 3000;
		for (int round = 0; round < 20 && now_ms() < end; round++) {
			for (i = 0; i < n; i++) {
				char addr[32];
				if (state[i] != 2)
					continue;
				snprintf(addr, sizeof addr, "198.18.%ld.%ld", (i >> 8) & 255, i & 255);
				if (send_connect(fds[i], "burst.example", addr))
					sent++;
				else
					state[i] = 0, gone++;
			}
			for (i = 0; i < n; i++) {
				char cmd;
				if (state[i] != 2)
					continue;
				if (read_pkt(fds[i], &cmd, NULL, 0, 200) == 1)
					answered++;
				else
					state[i] = 0, gone++;
			}
		}
		printf("sent=%ld answered=%ld gone=%ld\n", sent, answered, gone);
	}
	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return 0;
}

/* --- hostile peers ------------------------------------------------------- */

static uint64_t rng = 88172645463325252ull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static char letters[256];
static size_t nletters;

/* Read replies until EOF or READ_MS of silence; note their letters. */
static const char *
collect(int fd)
{
	char cmd;
	int r;

	while ((r = read_pkt(fd, &cmd, NULL, 0, READ_MS)) == 1)
		if (nletters < sizeof letters - 1)
			letters[nletters++] = cmd;
	letters[nletters] = '\0';
	return r == 0 ? "dropped" : "timeout";
}

/* Expect one reply now (a well-formed command needing one). */
static bool
expect_reply(int fd)
{
	char cmd;

	if (read_pkt(fd, &cmd, NULL, 0, READ_MS) != 1)
		return false;
	if (nletters < sizeof letters - 1)
		letters[nletters++] = cmd;
	letters[nletters] = '\0';
	return true;
}

static bool
negotiate(int fd)
{
	return send_optneg(fd) && expect_reply(fd) && letters[nletters - 1] == 'O';
}

/* CONNECT with an address of the given family letter and text. */
static bool
send_raw_connect(int fd, const char *host, size_t hostlen, char fam,
    const char *addr, bool nul)
{
	size_t al = addr ? strlen(addr) : 0, n = 0;
	char *buf = malloc(hostlen + al + 8);
	bool ok;

	if (buf == NULL)
		die("malloc");
	memcpy(buf, host, hostlen);
	n = hostlen;
	buf[n++] = '\0';
	buf[n++] = fam;
	if (addr) {
		buf[n++] = 0x10;
		buf[n++] = (char)0xe1;
		memcpy(buf + n, addr, al);
		n += al;
		if (nul)
			buf[n++] = '\0';
	}
	ok = send_pkt(fd, 'C', buf, n);
	free(buf);
	return ok;
}

static const char valid_cmds[] = "ABCDEHKLMNOQRTU";

static int
hostile(const char *c, const char *arg)
{
	const char *outcome;
	int fd = open_sock();
	bool sent_all = true;

	if (fd < 0)
		die("connect");
	nletters = 0;
	letters[0] = '\0';
	if (arg)
		rng = strtoull(arg, NULL, 10) * 2654435761u + 1;

	if (strcmp(c, "random") == 0) {
		/* Raw random bytes from the first byte on. */
		size_t len = 16 + rnd() % 4080;
		char *b = malloc(len);
		for (size_t i = 0; i < len; i++)
			b[i] = (char)rnd();
		sent_all = write_all(fd, b, len);
		free(b);
		shutdown(fd, SHUT_WR);
	} else if (strcmp(c, "fuzz") == 0) {
		/* A good OPTNEG, then packets of sane length with random
		 * commands and random data. */
		int k = 1 + (int)(rnd() % 20);
		if (negotiate(fd)) {
			for (int j = 0; j < k && sent_all; j++) {
				size_t len = rnd() % 200;
				char b[200];
				for (size_t i = 0; i < len; i++)
					b[i] = (char)(rnd() % 4 == 0 ? 0 : rnd());
				sent_all = send_pkt(fd, valid_cmds[rnd() % (sizeof valid_cmds - 1)], b, len);
			}
		}
		shutdown(fd, SHUT_WR);
	} else if (strcmp(c, "truncated-length") == 0) {
		/* Two bytes of a four-byte length, then EOF. */
		sent_all = write_all(fd, "\0\0", 2);
		shutdown(fd, SHUT_WR);
	} else if (strcmp(c, "truncated-optneg") == 0) {
		/* OPTNEG's length says 13, five bytes come, then EOF. */
		sent_all = write_all(fd, "\0\0\0\x0dO\0\0\0\x06", 9);
		shutdown(fd, SHUT_WR);
	} else if (strcmp(c, "claim-exceeds-data") == 0) {
		/* After OPTNEG, a CONNECT whose length says 1000, 20 bytes
		 * sent, then EOF. */
		if (negotiate(fd)) {
			char b[25] = "\0\0\x03\xe8" "Cclient\0" "4\x10\xe1" "192.0.2";
			sent_all = write_all(fd, b, 24);
		}
		shutdown(fd, SHUT_WR);
	} else if (strcmp(c, "zero-length") == 0) {
		sent_all = write_all(fd, "\0\0\0\0", 4);
		shutdown(fd, SHUT_WR);
	} else if (strcmp(c, "huge-length") == 0 || strcmp(c, "max-length") == 0) {
		/* 128 MiB (or 4 GiB - 1) claimed, a little sent, the socket
		 * kept open: the daemon must not wait for the rest. */
		const char *b = c[0] == 'h' ? "\x08\0\0\0O\0\0\0\x06" : "\xff\xff\xff\xffO\0\0\0\x06";
		sent_all = write_all(fd, b, 9);
	} else if (strcmp(c, "huge-length-after-optneg") == 0) {
		if (negotiate(fd))
			sent_all = write_all(fd, "\x08\0\0\0Cclient\0", 12);
	} else if (strcmp(c, "long-host") == 0) {
		/* CONNECT with a host name of ARG bytes (default 64 KiB),
		 * printable junk and control characters, from 192.0.2.200. */
		size_t hl = arg ? strtoul(arg, NULL, 10) : 65536;
		char *h = malloc(hl + 1);
		for (size_t i = 0; i < hl; i++)
			h[i] = (char)(i % 97 == 0 ? '\n' : i % 89 == 0 ? '%' : 'a' + i % 26);
		if (negotiate(fd) && (sent_all = send_raw_connect(fd, h, hl, '4', "192.0.2.200", true)))
			expect_reply(fd);
		free(h);
		send_pkt(fd, 'Q', NULL, 0);
		shutdown(fd, SHUT_WR);
	} else if (strcmp(c, "family") == 0 || strcmp(c, "family-noaddr") == 0) {
		/* CONNECT with the family letter ARG[0] and the address
		 * ARG+1 (or none at all). */
		const char *a = arg ? arg : "X1.2.3.4";
		if (negotiate(fd) && (sent_all = send_raw_connect(fd, "client", 6, a[0],
		    c[6] == '-' ? NULL : a + 1, true)))
			expect_reply(fd);
		send_pkt(fd, 'Q', NULL, 0);
		shutdown(fd, SHUT_WR);
	} else if (strcmp(c, "no-nul") == 0) {
		/* CONNECT whose address has no terminating NUL. */
		if (negotiate(fd) && (sent_all = send_raw_connect(fd, "client", 6, '4', "192.0.2.201", false)))
			expect_reply(fd);
		send_pkt(fd, 'Q', NULL, 0);
		shutdown(fd, SHUT_WR);
	} else if (strcmp(c, "host-no-nul") == 0) {
		/* CONNECT data that is a host name and nothing else, no NUL. */
		if (negotiate(fd) && (sent_all = send_pkt(fd, 'C', "client", 6)))
			expect_reply(fd);
		send_pkt(fd, 'Q', NULL, 0);
		shutdown(fd, SHUT_WR);
	} else if (strcmp(c, "connect-first") == 0) {
		/* CONNECT before any OPTNEG. */
		char b[256];
		size_t n = connect_data(b, sizeof b, "client", "192.0.2.202");
		sent_all = send_pkt(fd, 'C', b, n);
		shutdown(fd, SHUT_WR);
	} else if (strcmp(c, "helo-first") == 0) {
		if (negotiate(fd))
			sent_all = send_pkt(fd, 'H', "client\0", 7);
		shutdown(fd, SHUT_WR);
	} else if (strcmp(c, "optneg-twice") == 0) {
		if (negotiate(fd))
			sent_all = send_optneg(fd);
		shutdown(fd, SHUT_WR);
	} else if (strcmp(c, "optneg-short") == 0) {
		/* OPTNEG with 4 of its 12 bytes. */
		sent_all = send_pkt(fd, 'O', "\0\0\0\x06", 4);
		shutdown(fd, SHUT_WR);
	} else if (strcmp(c, "optneg-version") == 0) {
		/* OPTNEG claiming protocol version ARG (default 1). */
		uint32_t v[3] = { htonl(arg ? (uint32_t)strtoul(arg, NULL, 0) : 1), htonl(0x1ff), htonl(0x1fffff) };
		sent_all = send_pkt(fd, 'O', v, sizeof v);
		shutdown(fd, SHUT_WR);
	} else if (strcmp(c, "macros") == 0) {
		/* Many macros, odd ones: unpaired, no NUL, 60 KiB value. */
		if (negotiate(fd)) {
			size_t vl = 60000;
			char *b = malloc(vl + 16);
			memcpy(b, "C{big}", 7);
			memset(b + 7, 'x', vl);
			b[7 + vl] = '\0';
			sent_all = send_pkt(fd, 'D', b, vl + 8) &&
			    send_pkt(fd, 'D', "C{odd}", 6) &&
			    send_pkt(fd, 'D', "", 0) &&
			    send_pkt(fd, 'D', "Cj\0host\0{x}", 11);
			free(b);
			if (sent_all && send_connect(fd, "client", "192.0.2.203"))
				expect_reply(fd);
		}
		send_pkt(fd, 'Q', NULL, 0);
		shutdown(fd, SHUT_WR);
	} else if (strcmp(c, "close-midway") == 0) {
		/* CONNECT sent, gone before the answer. */
		if (negotiate(fd))
			sent_all = send_connect(fd, "client", "192.0.2.204");
		close(fd);
		printf("outcome=dropped replies=%s\n", letters);
		return 0;
	} else if (strcmp(c, "storm") == 0) {
		/* ARG connections (default 500) opened and closed at once. */
		long k = arg ? strtol(arg, NULL, 10) : 500;
		close(fd);
		for (long i = 0; i < k; i++) {
			int f = open_sock();
			if (f < 0)
				die("connect");
			if (i % 2)
				write_all(f, "\0\0\0\x0dO", 5);
			close(f);
		}
		printf("outcome=dropped replies=\n");
		return 0;
	} else {
		fprintf(stderr, "mclient: unknown hostile case %s\n", c);
		return 2;
	}
	outcome = collect(fd);
	/* A daemon that answered and then closed, or answered and waits
	 * for the next command, "answered"; one that only closed,
	 * "dropped". */
	if (strcmp(outcome, "timeout") == 0 && nletters > 0)
		outcome = "answered";
	else if (strcmp(outcome, "dropped") == 0 && nletters > 0 &&
	    letters[nletters - 1] != 'O')
		outcome = "answered";
	printf("outcome=%s replies=%s%s\n", outcome, letters, sent_all ? "" : " (write failed)");
	close(fd);
	return 0;
}

static int
cmd_repeat(int argc, char **argv)
{
	unsigned long keys, first, times, acc = 0, ref = 0, oth = 0;
	bool v6;
	char addr[64], cmd;

	if (argc < 3)
		return 2;
	keys = strtoul(argv[0], NULL, 10);
	first = strtoul(argv[1], NULL, 10);
	times = strtoul(argv[2], NULL, 10);
	v6 = argc > 3 && strcmp(argv[3], "v6") == 0;
	for (unsigned long round = 0; round < times; round++) {
		for (unsigned long i = 0; i < keys; i++) {
			unsigned long k = first + i;
			if (v6)
				snprintf(addr, sizeof addr, "2001:db8:%lx:%lx::%lx",
				    (k >> 16) & 0xffff, k & 0xffff, round + 1);
			else
				snprintf(addr, sizeof addr, "10.%lu.%lu.%lu",
				    (k >> 16) & 255, (k >> 8) & 255, k & 255);
			one_session(addr, "repeat.example", &cmd, NULL, 0);
			if (cmd == 'a')
				acc++;
			else if (cmd == 'y')
				ref++;
			else
				oth++;
		}
	}
	printf("sessions=%lu accepted=%lu refused=%lu other=%lu\n",
	    keys * times, acc, ref, oth);
	return 0;
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc < 3) {
		fprintf(stderr, "usage: mclient session|flood|repeat|hold|hostile SOCK ...\n");
		return 2;
	}
	sockpath = strncmp(argv[2], "unix:", 5) == 0 ? argv[2] + 5 : argv[2];
	if (strcmp(argv[1], "session") == 0)
		return cmd_session(argc - 3, argv + 3);
	if (strcmp(argv[1], "flood") == 0)
		return cmd_flood(argc - 3, argv + 3);
	if (strcmp(argv[1], "repeat") == 0)
		return cmd_repeat(argc - 3, argv + 3);
	if (strcmp(argv[1], "hold") == 0)
		return cmd_hold(argc - 3, argv + 3);
	if (strcmp(argv[1], "hostile") == 0 && argc > 3)
		return hostile(argv[3], argc > 4 ? argv[4] : NULL);
	fprintf(stderr, "mclient: unknown mode %s\n", argv[1]);
	return 2;
}
