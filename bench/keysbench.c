/*
 * keysbench.c: the cost per connection of several keys per client
 * (prefix sections, window.h "Several keys"), no sockets.
 *
 *   keysbench [-n CLIENTS] [-m CHECKS] [-r ROUNDS]
 *
 * For each family, three configs that differ only in their keys:
 *   IPv4  /32 | /32 + /24 | /32 + /24 + /16
 *   IPv6  /64 | /64 + /48 | /64 + /48 + /128
 * each with a table of its own for CLIENTS (default 1,000,000) clients
 * times its keys.  The wider keys never refuse here (their limits are
 * high), so every config refuses the same connections and the figures
 * differ by the cost of the keys alone: one more table entry, hash and
 * shard lock per key, most of it a cache miss at a million clients.  A decision is policy_decide() from a socket address,
 * the daemon's whole per-connection path but libmilter: address, map
 * lookup (an empty map), keys, and window_check_keys().  Clients are
 * first counted once each; then CHECKS (default 2,000,000) decisions on
 * uniformly drawn clients, the simulated clock moving so that each client
 * is seen about 5 times per 60 s window.  The three configs run
 * interleaved in every round (1 2 3, 1 2 3, ...), one thread; the figures
 * are medians over ROUNDS (default 5), and the ratios of 2 and 3 keys to
 * the 1-key config are medians of the ratios measured within each round,
 * so a slower moment of the machine weighs on both sides.
 * Prints human lines and "RESULT keys ..." lines.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "config.h"
#include "exempt.h"
#include "log.h"
#include "policy.h"
#include "window.h"

#define WINDOW_MS 60000u
#define MAX_ROUNDS 99

static const uint8_t seed[16] = "keysbench-seed!!";

/* The wider keys' limits are high enough that, with these addresses,
 * they refuse nothing: every config refuses the same connections (the
 * first key's), so the figures differ by the keys' cost alone. */
static const char *const configs[2][3] = {
	{ "",
	  "prefix ipv4/24 { limit = 9000 }\n",
	  "prefix ipv4/24 { limit = 9000 }\nprefix ipv4/16 { limit = 9000 }\n" },
	{ "",
	  "prefix ipv6/48 { limit = 9000 }\n",
	  "prefix ipv6/48 { limit = 9000 }\nprefix ipv6/128 { limit = 10 }\n" },
};

static void
report(const char *line)
{
	fprintf(stderr, "keysbench: config: %s\n", line);
}

/* Client i of family fam as a socket address. */
static void
client(struct sockaddr_storage *ss, int fam, uint32_t i)
{
	uint32_t x = scramble32(i);

	memset(ss, 0, sizeof *ss);
	if (fam == 0) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		/* anywhere in the IPv4 space: a /16 holds about 15 of a
		 * million clients, a /24 rarely two */
		s->sin_family = AF_INET;
		s->sin_addr.s_addr = htonl(x);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

		/* one /64 per client, about 15 per /48; the /128 is the /64's
		 * ::1 */
		s->sin6_family = AF_INET6;
		s->sin6_addr.s6_addr[0] = 0x20;
		s->sin6_addr.s6_addr[1] = 0x01;
		s->sin6_addr.s6_addr[2] = 0x0d;
		s->sin6_addr.s6_addr[3] = 0xb8;
		s->sin6_addr.s6_addr[4] = (uint8_t)(x >> 24);
		s->sin6_addr.s6_addr[5] = (uint8_t)(x >> 16);
		s->sin6_addr.s6_addr[6] = (uint8_t)(x >> 8);
		s->sin6_addr.s6_addr[7] = (uint8_t)x;
		s->sin6_addr.s6_addr[15] = 1;
	}
}

struct setup {
	struct policy p;
	struct window_table *t;
	uint64_t now;		/* its simulated clock, ms */
};

static void
setup(struct setup *s, int fam, int keys, uint32_t n)
{
	char text[512];
	struct config *cfg;
	struct ruleset *r;

	snprintf(text, sizeof text, "limit = 10\nwindow = 60\nmax_clients = %u\n%s",
	    n * (keys + 1), configs[fam][keys]);
	if ((cfg = config_parse_text("keysbench.conf", text, strlen(text), report)) == NULL)
		exit(1);
	if ((s->t = window_create(cfg->max_clients, seed)) == NULL ||
	    (r = policy_ruleset(cfg, exempt_empty())) == NULL) {
		fprintf(stderr, "keysbench: out of memory\n");
		exit(1);
	}
	policy_init(&s->p, s->t, r);
	s->now = 1000000;
	/* each client once, over the first 30 s */
	for (uint32_t i = 0; i < n; i++) {
		struct sockaddr_storage ss;
		struct decision d;

		client(&ss, fam, i);
		policy_decide(&s->p, (struct sockaddr *)&ss, s->now + (uint64_t)i * 30000 / n, &d);
	}
	s->now += 30000;
}

/* m decisions; returns ns per decision. */
static double
run(struct setup *s, int fam, uint32_t n, uint64_t m, uint64_t *rng,
    uint64_t *refused)
{
	uint64_t t0, t1;
	struct sockaddr_storage ss;
	struct decision d;

	t0 = now_ns();
	for (uint64_t i = 0; i < m; i++) {
		client(&ss, fam, (uint32_t)rand_below(rng, n));
		/* about 5 checks per client per window */
		policy_decide(&s->p, (struct sockaddr *)&ss,
		    s->now + i * WINDOW_MS / (5u * n), &d);
		*refused += d.kind == DECIDE_REFUSE;
	}
	t1 = now_ns();
	s->now += m * WINDOW_MS / (5u * n) + 1;
	return (double)(t1 - t0) / (double)m;
}

int
main(int argc, char *argv[])
{
	uint32_t n = 1000000;
	uint64_t m = 2000000;
	int rounds = 5, ch;

	while ((ch = getopt(argc, argv, "n:m:r:")) != -1) {
		switch (ch) {
		case 'n': n = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'm': m = strtoull(optarg, NULL, 10); break;
		case 'r': rounds = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: keysbench [-n CLIENTS] [-m CHECKS] [-r ROUNDS]\n");
			return 2;
		}
	}
	if (n < 100 || m < 1 || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "keysbench: -n >= 100, -m >= 1, -r 1..%d\n", MAX_ROUNDS);
		return 2;
	}
	printf("keysbench: %u clients, %llu decisions per pass, %d rounds, one thread\n",
	    n, (unsigned long long)m, rounds);
	for (int fam = 0; fam < 2; fam++) {
		static const char *const names[2][3] = {
			{ "/32", "/32+/24", "/32+/24+/16" },
			{ "/64", "/64+/48", "/64+/48+/128" },
		};
		struct setup s[3];
		double ns[3][MAX_ROUNDS], ratio[3][MAX_ROUNDS], med[3], rmed[3];
		uint64_t rng = 42, refused[3] = { 0, 0, 0 };

		for (int k = 0; k < 3; k++)
			setup(&s[k], fam, k, n);
		for (int r = 0; r < rounds; r++) {
			for (int k = 0; k < 3; k++) {
				uint64_t rr = rng + (uint64_t)r;	/* the same clients for each */
				ns[k][r] = run(&s[k], fam, n, m, &rr, &refused[k]);
			}
			for (int k = 0; k < 3; k++)
				ratio[k][r] = ns[k][r] / ns[0][r];
		}
		for (int k = 0; k < 3; k++) {
			med[k] = median(ns[k], rounds);
			rmed[k] = median(ratio[k], rounds);
		}
		printf("== %s\n", fam ? "IPv6" : "IPv4");
		for (int k = 0; k < 3; k++) {
			printf("  %d key(s) %-14s %7.1f ns per connection (median of %d), "
			    "x%.2f the 1-key config; refused %.1f%%\n", k + 1, names[fam][k],
			    med[k], rounds, rmed[k],
			    100.0 * (double)refused[k] / ((double)m * rounds));
			printf("RESULT keys family=%s keys=%d prefixes=%s ns=%.1f ratio=%.3f "
			    "refused_pct=%.2f\n", fam ? "ipv6" : "ipv4", k + 1, names[fam][k],
			    med[k], rmed[k], 100.0 * (double)refused[k] / ((double)m * rounds));
		}
		for (int k = 0; k < 3; k++) {
			policy_destroy(&s[k].p);
			window_destroy(s[k].t);
		}
	}
	return 0;
}
