/*
 * smtpload.c: many one-shot SMTP clients and one heavy client, from
 * distinct loopback addresses, against a real MTA.
 *
 *   smtpload -p PORT -n INNOCENT [-H HEAVY] [-c THREADS] [-s SERVER]
 *            [-T TIMEOUT_MS] [-t SECONDS]
 *
 * INNOCENT clients connect once each, from 127.A.B.C (A from 1, C never
 * 0 or 255); the heavy client, 127.254.254.254, connects HEAVY times
 * (default 15), its connections spread evenly through the others.  A
 * session binds its socket to the client's address, connects, reads the
 * greeting (a 220 or a 421, multi-line replies allowed), sends QUIT after
 * a 220 and reads the answer, and closes.  Every read and write has
 * TIMEOUT_MS (default 10 s); the whole run stops after SECONDS (default
 * 300) with what remains counted as not run.
 *
 * Prints counts and one line "RESULT heavy_ok=... heavy_refused=...
 * innocent_ok=... innocent_refused=... other=... errors=... seconds=...".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bench.h"

#define MAX_THREADS 256
#define HEAVY_ADDR 0x7ffefefeu		/* 127.254.254.254 */

enum outcome { O_OK, O_REFUSED, O_OTHER, O_ERROR, O_NOTRUN, O_N };
static const char *oname[O_N] = { "ok", "refused", "other", "error", "notrun" };

struct conn_plan {
	uint32_t addr;			/* host order */
	bool heavy;
	uint8_t outcome;
	char line[48];			/* the greeting's last line, for "other" */
};

static struct conn_plan *plan;
static uint64_t total;
static atomic_uint_fast64_t next_conn;
static struct sockaddr_in server;
static int timeout_ms = 10000;
static uint64_t deadline;

static uint32_t
innocent_addr(uint64_t i)
{
	uint32_t c = 1 + (uint32_t)(i % 254);
	uint32_t b = (uint32_t)((i / 254) % 256);
	uint32_t a = 1 + (uint32_t)(i / (254 * 256));

	return 127u << 24 | a << 16 | b << 8 | c;
}

/* Read one reply (possibly multi-line) into buf; returns its code, 0 on
 * EOF before a full line, -1 on error or timeout. */
static int
read_reply(int fd, char *last, size_t lastlen)
{
	char buf[4096];
	size_t have = 0;

	for (int tries = 0; tries < 64 && have < sizeof buf - 1; tries++) {
		ssize_t r = recv(fd, buf + have, sizeof buf - 1 - have, 0);
		if (r == 0)
			return 0;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		have += (size_t)r;
		buf[have] = 0;
		/* the final line: "NNN " (not "NNN-") followed by CRLF */
		char *line = buf, *nl;
		while ((nl = strstr(line, "\r\n")) != NULL) {
			if (nl - line >= 4 && line[3] == ' ') {
				size_t n = (size_t)(nl - line);
				if (n >= lastlen)
					n = lastlen - 1;
				memcpy(last, line, n);
				last[n] = 0;
				return atoi(line);
			}
			line = nl + 2;
		}
	}
	return -1;
}

static enum outcome
session(struct conn_plan *p)
{
	struct sockaddr_in me = { 0 };
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	int fd, one = 1, code;
	enum outcome o;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return O_ERROR;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	me.sin_family = AF_INET;
	me.sin_addr.s_addr = htonl(p->addr);
	if (bind(fd, (struct sockaddr *)&me, sizeof me) != 0 ||
	    connect(fd, (struct sockaddr *)&server, sizeof server) != 0) {
		snprintf(p->line, sizeof p->line, "connect: %s", strerror(errno));
		close(fd);
		return O_ERROR;
	}
	code = read_reply(fd, p->line, sizeof p->line);
	if (code == 220) {
		o = O_OK;
		if (send(fd, "QUIT\r\n", 6, MSG_NOSIGNAL) == 6) {
			char bye[48];
			(void)read_reply(fd, bye, sizeof bye);
		}
	} else if (code == 421) {
		o = O_REFUSED;
	} else if (code > 0) {
		o = O_OTHER;
	} else {
		snprintf(p->line, sizeof p->line, code == 0 ? "closed before a reply" :
		    "read: %s", strerror(errno));
		o = O_ERROR;
	}
	close(fd);
	return o;
}

static void *
worker(void *arg)
{
	(void)arg;
	for (;;) {
		uint64_t i = atomic_fetch_add(&next_conn, 1);
		if (i >= total)
			break;
		if (now_ns() >= deadline) {
			plan[i].outcome = O_NOTRUN;
			continue;
		}
		plan[i].outcome = (uint8_t)session(&plan[i]);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	uint64_t innocent = 0, heavy = 15;
	int port = 0, threads = 24, ch;
	double seconds = 300;
	const char *host = "127.0.0.1";
	pthread_t tid[MAX_THREADS];

	while ((ch = getopt(argc, argv, "p:n:H:c:s:T:t:")) != -1) {
		switch (ch) {
		case 'p': port = atoi(optarg); break;
		case 'n': innocent = strtoull(optarg, NULL, 10); break;
		case 'H': heavy = strtoull(optarg, NULL, 10); break;
		case 'c': threads = atoi(optarg); break;
		case 's': host = optarg; break;
		case 'T': timeout_ms = atoi(optarg); break;
		case 't': seconds = strtod(optarg, NULL); break;
		default: port = 0; optind = argc; break;
		}
	}
	if (port <= 0 || port > 65535 || threads < 1 || threads > MAX_THREADS ||
	    innocent > 254u * 256 * 253 || timeout_ms < 1 || seconds <= 0) {
		fprintf(stderr, "usage: smtpload -p PORT -n INNOCENT [-H HEAVY] [-c THREADS] "
		    "[-s SERVER] [-T TIMEOUT_MS] [-t SECONDS]\n");
		return 2;
	}
	server.sin_family = AF_INET;
	server.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &server.sin_addr) != 1) {
		fprintf(stderr, "smtpload: bad server address %s\n", host);
		return 2;
	}
	total = innocent + heavy;
	if ((plan = calloc(total ? total : 1, sizeof *plan)) == NULL) {
		perror("calloc");
		return 2;
	}
	/* Heavy connection j at position (j + 1/2) * total / heavy. */
	uint64_t k = 0, j = 0;
	for (uint64_t i = 0; i < total; i++) {
		bool h = j < heavy && i == (uint64_t)(((double)j + 0.5) * (double)total / (double)heavy);
		if (h) {
			plan[i].addr = HEAVY_ADDR;
			plan[i].heavy = true;
			j++;
		} else {
			plan[i].addr = innocent_addr(k++);
		}
	}
	if (j != heavy || k != innocent) {
		fprintf(stderr, "smtpload: bad plan (%llu heavy, %llu innocent)\n",
		    (unsigned long long)j, (unsigned long long)k);
		return 2;
	}

	uint64_t t0 = now_ns();
	deadline = t0 + (uint64_t)(seconds * 1e9);
	if ((uint64_t)threads > total)
		threads = total ? (int)total : 1;
	for (int i = 0; i < threads; i++)
		pthread_create(&tid[i], NULL, worker, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	double secs = (double)(now_ns() - t0) / 1e9;

	uint64_t hc[O_N] = { 0 }, ic[O_N] = { 0 };
	int shown = 0;
	for (uint64_t i = 0; i < total; i++) {
		(plan[i].heavy ? hc : ic)[plan[i].outcome]++;
		if ((plan[i].outcome == O_OTHER || plan[i].outcome == O_ERROR) && shown < 5) {
			struct in_addr a = { htonl(plan[i].addr) };
			printf("  %s %s: %s\n", oname[plan[i].outcome], inet_ntoa(a), plan[i].line);
			shown++;
		}
	}
	printf("smtpload: %llu innocent + %llu heavy connections to %s:%d, %d threads, "
	    "%.1f s (%.0f connections/s)\n", (unsigned long long)innocent,
	    (unsigned long long)heavy, host, port, threads, secs, (double)total / secs);
	printf("  heavy client 127.254.254.254: %llu greeted, %llu refused (421), %llu other, "
	    "%llu errors, %llu not run\n", (unsigned long long)hc[O_OK],
	    (unsigned long long)hc[O_REFUSED], (unsigned long long)hc[O_OTHER],
	    (unsigned long long)hc[O_ERROR], (unsigned long long)hc[O_NOTRUN]);
	printf("  innocent clients: %llu greeted, %llu refused (421), %llu other, "
	    "%llu errors, %llu not run\n", (unsigned long long)ic[O_OK],
	    (unsigned long long)ic[O_REFUSED], (unsigned long long)ic[O_OTHER],
	    (unsigned long long)ic[O_ERROR], (unsigned long long)ic[O_NOTRUN]);
	printf("RESULT innocent=%llu heavy=%llu heavy_ok=%llu heavy_refused=%llu "
	    "innocent_ok=%llu innocent_refused=%llu other=%llu errors=%llu notrun=%llu "
	    "seconds=%.2f rate=%.1f\n", (unsigned long long)innocent,
	    (unsigned long long)heavy, (unsigned long long)hc[O_OK],
	    (unsigned long long)hc[O_REFUSED], (unsigned long long)ic[O_OK],
	    (unsigned long long)ic[O_REFUSED],
	    (unsigned long long)(hc[O_OTHER] + ic[O_OTHER]),
	    (unsigned long long)(hc[O_ERROR] + ic[O_ERROR]),
	    (unsigned long long)(hc[O_NOTRUN] + ic[O_NOTRUN]), secs, (double)total / secs);
	free(plan);
	return hc[O_ERROR] + ic[O_ERROR] + hc[O_NOTRUN] + ic[O_NOTRUN] ? 1 : 0;
}
