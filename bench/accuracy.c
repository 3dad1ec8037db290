/*
 * accuracy.c: how often the table decides differently from an exact
 * sliding log, and by how much at worst.
 *
 *   accuracy [-l LIMITS] [-r RATES] [-e EVENTS] [-a TRIALS] [-S SEED]
 *
 * The oracle keeps, per client, the time of every connection counted (all
 * of them when refused ones count, count_refused = true, the default;
 * else the ones admitted), and refuses a connection at t when at least
 * `limit` of those lie in (t - window, t], as window.h defines it.  The
 * oracle is fed the same history as the table, so each decision is
 * compared on its own.  Times are whole milliseconds, as the table keeps.
 *
 * Random traces: per limit L (default 5,10,50,100,1000) and rate factor r
 * (default 0.5,0.9,1,1.1,1.5,2), clients connect as Poisson processes at
 * r * L per 60 s window for 10 windows, all merged in time order, about
 * EVENTS decisions per cell (default 1000000).  Reported: the fraction of
 * decisions that differ, split into over-admissions (the table admits, the
 * oracle refuses) and early refusals (the table refuses, the oracle
 * admits), and the connections admitted beside those an exact limiter
 * admits from the same arrivals (each on its own history): the excess.
 *
 * Adversarial traces: per limit, one constructed trace (1 connection at
 * T, limit-1 at T+window-1 ms, then a burst at T+window: it lets through
 * all g-1 extra the group bound allows) and TRIALS random traces of
 * bursts placed at and around window edges.  Reported: the most
 * connections admitted inside any window minus the limit (over-admission)
 * and the largest shortfall below the limit at a refusal (early refusal),
 * next to the man page's bound: exact for limit <= 10; at most g-1 extra
 * with g = ceil((limit-1)/9); never an early refusal.
 *
 * Prints human lines and "RESULT ..." lines; exits 1 when a bound is
 * broken (any early refusal; an over-admission above g-1; any difference
 * at limit <= 10).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <math.h>

#include "bench.h"
#include "window.h"

#define WINDOW_MS 60000u
#define WINDOWS 10
#define T_BASE 1000u

static const uint8_t seed[16] = "accuracy--seed!!";

static void
key_of(uint32_t i, struct window_key *k)
{
	memset(k, 0, sizeof *k);
	k->b[0] = 0x20;
	k->b[1] = 0x01;
	k->b[2] = 0x0d;
	k->b[3] = 0xb8;
	k->b[4] = (uint8_t)(i >> 24);
	k->b[5] = (uint8_t)(i >> 16);
	k->b[6] = (uint8_t)(i >> 8);
	k->b[7] = (uint8_t)i;
	k->plen = 64;
}

static uint32_t
bound_extra(uint32_t limit)
{
	if (limit <= 10)
		return 0;
	return (limit - 1 + 8) / 9 - 1;		/* g - 1, g = ceil((limit-1)/9) */
}

/* --- the oracle: a per-client log of counted times ------------------------- */

struct log {
	uint32_t *t;
	size_t head, n, cap;
};

static void
log_push(struct log *l, uint32_t t)
{
	if (l->head + l->n == l->cap) {
		if (l->head > 0) {
			memmove(l->t, l->t + l->head, l->n * sizeof *l->t);
			l->head = 0;
		}
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 16;
			l->t = realloc(l->t, l->cap * sizeof *l->t);
			if (l->t == NULL) {
				perror("realloc");
				exit(2);
			}
		}
	}
	l->t[l->head + l->n++] = t;
}

/* Counted connections in (t - window, t]. */
static uint32_t
log_count(struct log *l, uint32_t t, uint32_t window)
{
	while (l->n > 0 && t - l->t[l->head] >= window) {
		l->head++;
		l->n--;
	}
	return (uint32_t)l->n;
}

/* --- random traces ----------------------------------------------------------- */

struct event {
	uint32_t t;
	uint32_t client;
};

static int
ev_cmp(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->client < y->client ? -1 : x->client > y->client;
}

struct cell {
	uint64_t decisions, differ, over, under, untracked, admitted;
	uint64_t exact_admitted;	/* an exact limiter on the same arrivals */
};

static void
poisson_cell(uint32_t limit, double rate, bool cr, uint64_t target,
    uint64_t *rng, struct cell *c)
{
	double per_client = rate * limit * WINDOWS;
	uint32_t clients = (uint32_t)(target / per_client);
	double mean_gap = (double)WINDOW_MS / (rate * limit);
	struct event *ev = NULL;
	size_t nev = 0, cap = 0;
	struct window_rule rule = { limit, WINDOW_MS, cr, false, false };
	struct window_table *t;
	struct log *logs, *exact;

	if (clients < 20)
		clients = 20;
	memset(c, 0, sizeof *c);
	for (uint32_t i = 0; i < clients; i++) {
		double x = -log(rand_unit(rng)) * mean_gap * rand_unit(rng);	/* random phase */
		while (x < (double)WINDOW_MS * WINDOWS) {
			if (nev == cap) {
				cap = cap ? cap * 2 : 1 << 16;
				if ((ev = realloc(ev, cap * sizeof *ev)) == NULL) {
					perror("realloc");
					exit(2);
				}
			}
			ev[nev].t = T_BASE + (uint32_t)x;
			ev[nev].client = i;
			nev++;
			x += -log(rand_unit(rng)) * mean_gap;
		}
	}
	qsort(ev, nev, sizeof *ev, ev_cmp);
	if ((t = window_create(clients * 2u, seed)) == NULL ||
	    (logs = calloc(clients, sizeof *logs)) == NULL ||
	    (exact = calloc(clients, sizeof *exact)) == NULL) {
		perror("alloc");
		exit(2);
	}
	for (size_t i = 0; i < nev; i++) {
		struct window_key k;
		struct window_result r;
		struct log *l = &logs[ev[i].client];
		bool oracle_refuse, table_refuse;

		key_of(ev[i].client, &k);
		window_check(t, &k, &rule, WINDOW_MS, ev[i].t, &r);
		oracle_refuse = log_count(l, ev[i].t, WINDOW_MS) >= limit;
		table_refuse = r.verdict == WINDOW_REFUSE;
		c->untracked += r.verdict == WINDOW_UNTRACKED;
		c->decisions++;
		if (table_refuse != oracle_refuse) {
			c->differ++;
			if (table_refuse)
				c->under++;
			else
				c->over++;
		}
		if (!table_refuse) {
			c->admitted++;
			log_push(l, ev[i].t);
		} else if (cr) {
			log_push(l, ev[i].t);
		}
		/* the exact limiter, on its own history */
		struct log *e = &exact[ev[i].client];
		bool exact_refuse = log_count(e, ev[i].t, WINDOW_MS) >= limit;
		if (!exact_refuse)
			c->exact_admitted++;
		if (!exact_refuse || cr)
			log_push(e, ev[i].t);
	}
	for (uint32_t i = 0; i < clients; i++) {
		free(logs[i].t);
		free(exact[i].t);
	}
	free(logs);
	free(exact);
	free(ev);
	window_destroy(t);
}

/* --- adversarial traces ------------------------------------------------------ */

struct burst {
	uint32_t t;
	uint32_t n;
};

struct extremes {
	int64_t over;		/* most admitted in a window, minus the limit */
	int64_t early;		/* largest (limit - counted) at a refusal */
};

/*
 * Feed one client's bursts (time order) to the table under key `id`;
 * measure the extremes against the exact count.
 */
static void
run_trace(struct window_table *t, uint32_t id, const struct burst *b, size_t nb,
    uint32_t limit, bool cr, struct extremes *x)
{
	struct window_rule rule = { limit, WINDOW_MS, cr, false, false };
	struct log counted = { 0 }, admitted = { 0 };
	struct window_key k;

	key_of(id, &k);
	x->over = INT64_MIN;
	x->early = INT64_MIN;
	for (size_t i = 0; i < nb; i++)
		for (uint32_t j = 0; j < b[i].n; j++) {
			struct window_result r;
			uint32_t now = b[i].t;

			window_check(t, &k, &rule, WINDOW_MS, now, &r);
			uint32_t have = log_count(&counted, now, WINDOW_MS);
			if (r.verdict == WINDOW_REFUSE) {
				if ((int64_t)limit - have > x->early)
					x->early = (int64_t)limit - have;
				if (cr)
					log_push(&counted, now);
			} else {
				log_push(&counted, now);
				log_push(&admitted, now);
				uint32_t in = log_count(&admitted, now, WINDOW_MS);
				if ((int64_t)in - limit > x->over)
					x->over = (int64_t)in - limit;
			}
		}
	free(counted.t);
	free(admitted.t);
}

static void
adversarial(uint32_t limit, bool cr, uint32_t trials, uint64_t *rng,
    struct extremes *worst, struct extremes *constructed)
{
	struct window_table *t = window_create((size_t)trials + 16, seed);
	struct burst b[16];
	struct extremes x;

	if (t == NULL) {
		perror("window_create");
		exit(2);
	}
	/* The constructed case: a group begun by a lone connection just
	 * before the window slides past it. */
	b[0].t = T_BASE;
	b[0].n = 1;
	b[1].t = T_BASE + WINDOW_MS - 1;
	b[1].n = limit - 1;
	b[2].t = T_BASE + WINDOW_MS;
	b[2].n = limit;
	b[3].t = T_BASE + 2 * WINDOW_MS - 1;
	b[3].n = limit;
	run_trace(t, 0, b, 4, limit, cr, constructed);
	*worst = *constructed;

	/* A random trace makes up to about 11 * limit checks: bound the work
	 * for the large limits (at least 50 traces each). */
	uint64_t cap = 40000000ull / (12ull * limit);
	if (cap < 50)
		cap = 50;
	if (trials > cap)
		trials = (uint32_t)cap;
	/* Traces follow each other in 32-bit milliseconds: 4,000 of 12
	 * windows fit. */
	if (trials > 4000)
		trials = 4000;
	for (uint32_t i = 1; i <= trials; i++) {
		size_t nb = 2 + rand_below(rng, 10);
		/* Each trace after the last one (at most 11 windows long): the
		 * table's shards keep time moving forward (window.h). */
		uint32_t start = T_BASE + i * 12u * WINDOW_MS, now = start;

		for (size_t j = 0; j < nb; j++) {
			/* next edge: a random whole number of half windows on,
			 * a few ms either side */
			uint32_t step = (uint32_t)rand_below(rng, 3) * (WINDOW_MS / 2);
			int32_t jitter = (int32_t)rand_below(rng, 7) - 3;
			uint32_t next = now + step + (uint32_t)jitter;
			if (j == 0)
				next = start;
			else if ((int32_t)(next - now) < 0)
				next = now;
			now = next;
			b[j].t = now;
			/* a lone connection (to start a group), or a burst */
			b[j].n = rand_below(rng, 3) == 0 ? 1 :
			    1 + (uint32_t)rand_below(rng, 2 * limit);
		}
		run_trace(t, i, b, nb, limit, cr, &x);
		if (x.over > worst->over)
			worst->over = x.over;
		if (x.early > worst->early)
			worst->early = x.early;
	}
	window_destroy(t);
}

static size_t
parse_list(const char *s, double *out, size_t max)
{
	size_t n = 0;
	char *end;

	while (*s && n < max) {
		out[n++] = strtod(s, &end);
		if (end == s)
			break;
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

int
main(int argc, char **argv)
{
	double limits[32], rates[32];
	size_t nl, nr;
	const char *ls = "5,10,50,100,1000", *rs = "0.5,0.9,1,1.1,1.5,2";
	const char *als = "1,5,10,11,19,20,50,100,1000,9000";
	uint64_t events = 1000000, seedv = 1;
	uint32_t trials = 2000;
	int ch, fail = 0;

	while ((ch = getopt(argc, argv, "l:r:e:a:A:S:")) != -1) {
		switch (ch) {
		case 'l': ls = optarg; break;
		case 'r': rs = optarg; break;
		case 'e': events = strtoull(optarg, NULL, 10); break;
		case 'a': trials = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'A': als = optarg; break;
		case 'S': seedv = strtoull(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: accuracy [-l LIMITS] [-r RATES] [-e EVENTS] "
			    "[-a TRIALS] [-A ADV_LIMITS] [-S SEED]\n");
			return 2;
		}
	}
	nl = parse_list(ls, limits, 32);
	nr = parse_list(rs, rates, 32);
	uint64_t rng = seedv;

	printf("accuracy: window %u ms, %d windows, ~%llu decisions per cell; "
	    "oracle: exact sliding log\n", WINDOW_MS, WINDOWS, (unsigned long long)events);
	for (int cri = 1; cri >= 0; cri--) {
		bool cr = cri;
		printf("== random (Poisson) traces, count_refused = %s\n", cr ? "true" : "false");
		printf("  %6s %5s %10s %10s %9s %8s %8s %9s %9s %s\n", "limit", "rate", "decisions",
		    "differ", "fraction", "over", "early", "admitted", "exact", "excess");
		for (size_t i = 0; i < nl; i++) {
			uint32_t limit = (uint32_t)limits[i];
			uint64_t tot = 0, dif = 0;
			if (limit < 1 || limit > WINDOW_LIMIT_MAX)
				continue;
			for (size_t j = 0; j < nr; j++) {
				struct cell c;
				poisson_cell(limit, rates[j], cr, events, &rng, &c);
				tot += c.decisions;
				dif += c.differ;
				double excess = 100.0 * ((double)c.admitted /
				    (double)c.exact_admitted - 1);
				printf("  %6u %5.2f %10llu %10llu %8.4f%% %8llu %8llu %9llu %9llu %+.3f%%\n",
				    limit, rates[j], (unsigned long long)c.decisions,
				    (unsigned long long)c.differ,
				    100.0 * (double)c.differ / (double)c.decisions,
				    (unsigned long long)c.over, (unsigned long long)c.under,
				    (unsigned long long)c.admitted,
				    (unsigned long long)c.exact_admitted, excess);
				printf("RESULT poisson limit=%u rate=%.2f count_refused=%d decisions=%llu "
				    "differ=%llu fraction=%.6f over=%llu early=%llu untracked=%llu "
				    "admitted=%llu exact_admitted=%llu\n",
				    limit, rates[j], cri, (unsigned long long)c.decisions,
				    (unsigned long long)c.differ,
				    (double)c.differ / (double)c.decisions,
				    (unsigned long long)c.over, (unsigned long long)c.under,
				    (unsigned long long)c.untracked,
				    (unsigned long long)c.admitted,
				    (unsigned long long)c.exact_admitted);
				if (c.under > 0 || c.untracked > 0 || (limit <= 10 && c.differ > 0))
					fail = 1;
			}
			printf("  %6u  all %10llu %10llu %8.4f%%   (goal: at most 0.1%%%s)\n", limit,
			    (unsigned long long)tot, (unsigned long long)dif,
			    100.0 * (double)dif / (double)tot,
			    limit <= 10 ? "; exact: 0" : "");
			printf("RESULT poisson_total limit=%u count_refused=%d decisions=%llu differ=%llu "
			    "fraction=%.6f\n", limit, cri, (unsigned long long)tot,
			    (unsigned long long)dif, (double)dif / (double)tot);
		}
	}

	nl = parse_list(als, limits, 32);
	for (int cri = 1; cri >= 0; cri--) {
		bool cr = cri;
		printf("== adversarial traces (bursts at window edges), count_refused = %s, "
		    "%u random traces per limit (fewer above limit 300: at most 40M checks)\n",
		    cr ? "true" : "false", trials);
		printf("  %6s %4s %18s %18s %14s %14s\n", "limit", "g", "bound: extra <=",
		    "worst extra found", "constructed", "early refusal");
		for (size_t i = 0; i < nl; i++) {
			uint32_t limit = (uint32_t)limits[i];
			struct extremes w, c;
			if (limit < 1 || limit > WINDOW_LIMIT_MAX)
				continue;
			adversarial(limit, cr, trials, &rng, &w, &c);
			uint32_t g = limit <= 10 ? 1 : (limit - 1 + 8) / 9;
			int64_t early = w.early > 0 ? w.early : 0;
			printf("  %6u %4u %18u %18lld %14lld %14lld\n", limit, g, bound_extra(limit),
			    (long long)w.over, (long long)c.over, (long long)early);
			printf("RESULT adversarial limit=%u count_refused=%d g=%u bound=%u worst_over=%lld "
			    "constructed_over=%lld worst_early=%lld\n", limit, cri, g,
			    bound_extra(limit), (long long)w.over, (long long)c.over,
			    (long long)early);
			if (w.over > (int64_t)bound_extra(limit) || early > 0)
				fail = 1;
		}
	}
	printf("%s\n", fail ? "accuracy: a documented bound was broken" :
	    "accuracy: every documented bound held");
	return fail;
}
