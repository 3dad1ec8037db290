/*
 * tablebench.c: the counter table on its own (window.h), no sockets.
 *
 *   tablebench [-k KEYS[,KEYS...]] [-m CHECKS] [-r ROUNDS] [-s STREAM]
 *
 * For each table size K (default 1000000,10000000):
 *   memory   VmRSS before window_create(K) and after K distinct keys were
 *            counted: bytes per tracked client, beside window_memory()/K
 *   speed    window_check() calls per second on 1 and 2 threads over the K
 *            live keys (uniform), against two baselines run in the same
 *            rounds, interleaved (table, hash, global, table, ...):
 *              hash    the same loop computing only the key's SipHash
 *              probe   SipHash, then one read of a random 64-byte line of an
 *                      array as big as the table: the floor for any table
 *                      whose entries live in DRAM (one cache miss a check)
 *              global  window_check() under one global mutex, i.e. the
 *                      table without its shards
 *   latency  per-call p50/p99/p99.9 (clock read around each call) on 1
 *            and 2 threads, for the table and the global-mutex variant
 * Then the flood: a table for 1,000,000 clients, STREAM (default 20M)
 * distinct addresses through it, VmRSS sampled every million; a client
 * at its limit is checked throughout and must stay refused (an entry at
 * its limit is never evicted), and slower clients show what the eviction
 * lets through.
 *
 * Time is simulated (window_check takes `now`): keys are filled over the
 * first 30 s of a 60 s window, checks then advance the clock so that each
 * key is seen about 5 times a window (limit 10): mostly allowed.
 * Prints human lines and "RESULT name key=value..." lines.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "siphash.h"
#include "window.h"

#define LIMIT 10
#define WINDOW_MS 60000u
#define MAX_THREADS 2

static const uint8_t seed[16] = "tablebench-seed!";

enum variant { V_TABLE, V_HASH, V_PROBE, V_GLOBAL, V_N };

/* V_PROBE's array: one 64-byte line per key, as big as the table. */
static uint64_t *probe;
static size_t probe_lines;

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static struct window_rule rule = { LIMIT, WINDOW_MS, true, false, false };

/* Client number i as a key: an IPv4 /32 (::ffff:a.b.c.d, plen 128),
 * a.b.c.d a bijection of i, so distinct i give distinct keys. */
static inline void
key_of(uint32_t i, struct window_key *k)
{
	uint32_t a = scramble32(i);

	memset(k->b, 0, 10);
	k->b[10] = 0xff;
	k->b[11] = 0xff;
	k->b[12] = (uint8_t)(a >> 24);
	k->b[13] = (uint8_t)(a >> 16);
	k->b[14] = (uint8_t)(a >> 8);
	k->b[15] = (uint8_t)a;
	k->plen = 128;
}

struct job {
	pthread_t tid;
	struct window_table *t;
	enum variant v;
	uint32_t nkeys;
	uint64_t checks;
	uint64_t rng;
	double t0_ms, step_ms;		/* simulated clock */
	bool timed;
	uint64_t allowed, refused, untracked;
	uint64_t sink;
	struct hist h;
	pthread_barrier_t *go;
	uint64_t ns;
};

static void *
worker(void *arg)
{
	struct job *j = arg;
	struct window_result r;
	struct window_key k;
	uint64_t start;

	pthread_barrier_wait(j->go);
	start = now_ns();
	for (uint64_t n = 0; n < j->checks; n++) {
		uint32_t i = (uint32_t)rand_below(&j->rng, j->nkeys);
		uint64_t now = (uint64_t)(j->t0_ms + (double)n * j->step_ms);
		uint64_t a = 0;

		key_of(i, &k);
		if (j->timed)
			a = now_ns();
		switch (j->v) {
		case V_HASH: {
			uint8_t buf[17];
			memcpy(buf, k.b, 16);
			buf[16] = k.plen;
			j->sink += siphash13(seed, buf, sizeof buf);
			r.verdict = WINDOW_ALLOW;
			break;
		}
		case V_PROBE: {
			uint8_t buf[17];
			memcpy(buf, k.b, 16);
			buf[16] = k.plen;
			uint64_t h = siphash13(seed, buf, sizeof buf);
			j->sink += probe[(size_t)(((unsigned __int128)h * probe_lines) >> 64) * 8];
			r.verdict = WINDOW_ALLOW;
			break;
		}
		case V_TABLE:
			window_check(j->t, &k, &rule, WINDOW_MS, now, &r);
			break;
		case V_GLOBAL:
			pthread_mutex_lock(&global_lock);
			window_check(j->t, &k, &rule, WINDOW_MS, now, &r);
			pthread_mutex_unlock(&global_lock);
			break;
		default:
			r.verdict = WINDOW_ALLOW;
		}
		if (j->timed)
			hist_add(&j->h, now_ns() - a);
		j->allowed += r.verdict == WINDOW_ALLOW;
		j->refused += r.verdict == WINDOW_REFUSE;
		j->untracked += r.verdict == WINDOW_UNTRACKED;
	}
	j->ns = now_ns() - start;
	return NULL;
}

/* The simulated clock, shared by every pass so that it only moves on. */
static double sim_ms;

struct pass {
	double rate;			/* checks per second, all threads */
	uint64_t allowed, refused, untracked;
	struct hist h;
};

static void
run_pass(struct window_table *t, enum variant v, int threads, uint32_t nkeys,
    uint64_t checks, bool timed, uint64_t seedv, struct pass *out)
{
	static struct job j[MAX_THREADS];
	pthread_barrier_t go;
	uint64_t maxns = 0;
	/* each key ~5 times a window: all threads together make 5*nkeys
	 * checks per WINDOW_MS */
	double step = (double)WINDOW_MS * threads / (5.0 * nkeys);

	memset(out, 0, sizeof *out);
	pthread_barrier_init(&go, NULL, (unsigned)threads);
	for (int i = 0; i < threads; i++) {
		memset(&j[i], 0, sizeof j[i]);
		j[i].t = t;
		j[i].v = v;
		j[i].nkeys = nkeys;
		j[i].checks = checks / (uint64_t)threads;
		j[i].rng = seedv * 7919 + (uint64_t)i;
		j[i].t0_ms = sim_ms;
		j[i].step_ms = step;
		j[i].timed = timed;
		j[i].go = &go;
		pthread_create(&j[i].tid, NULL, worker, &j[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(j[i].tid, NULL);
		if (j[i].ns > maxns)
			maxns = j[i].ns;
		out->allowed += j[i].allowed;
		out->refused += j[i].refused;
		out->untracked += j[i].untracked;
		hist_merge(&out->h, &j[i].h);
	}
	pthread_barrier_destroy(&go);
	out->rate = (double)(checks / (uint64_t)threads * (uint64_t)threads) /
	    ((double)maxns / 1e9);
	if (v == V_TABLE || v == V_GLOBAL)
		sim_ms += (double)(checks / (uint64_t)threads) * step;
}

static int
bench_size(uint32_t nkeys, uint64_t checks, int rounds)
{
	struct window_table *t;
	struct window_stats st;
	struct window_result r;
	struct window_key k;
	long rss0, rss1, rss2;
	uint64_t t0;
	int bad = 0;

	printf("== table for %u clients\n", nkeys);
	rss0 = rss_kb();
	if ((t = window_create(nkeys, seed)) == NULL) {
		printf("FAIL window_create(%u)\n", nkeys);
		return 1;
	}
	rss1 = rss_kb();
	sim_ms = 1000;
	t0 = now_ns();
	for (uint32_t i = 0; i < nkeys; i++) {
		key_of(i, &k);
		window_check(t, &k, &rule, WINDOW_MS,
		    (uint64_t)(1000 + (double)i * 30000.0 / nkeys), &r);
		if (r.verdict != WINDOW_ALLOW)
			bad++;
	}
	double fill_s = (double)(now_ns() - t0) / 1e9;
	rss2 = rss_kb();
	sim_ms = 31000;
	window_stats(t, &st);
	probe_lines = nkeys;
	if ((probe = malloc(probe_lines * 64)) == NULL) {
		printf("FAIL out of memory for the probe array\n");
		return 1;
	}
	memset(probe, 1, probe_lines * 64);
	double per_rss = (double)(rss2 - rss0) * 1024.0 / nkeys;
	double per_mem = (double)window_memory(t) / nkeys;
	printf("  memory: VmRSS %ld kB before create, %ld kB after create, %ld kB after %u keys\n",
	    rss0, rss1, rss2, nkeys);
	printf("  memory: %.2f bytes per tracked client from VmRSS, window_memory() %.2f bytes "
	    "per client (%llu entries of 64 bytes for %u clients)\n", per_rss, per_mem,
	    (unsigned long long)st.capacity, nkeys);
	printf("  fill: %u keys in %.2f s, %llu tracked, %llu untracked, %llu evicted, %d not allowed\n",
	    nkeys, fill_s, (unsigned long long)st.used, (unsigned long long)st.untracked,
	    (unsigned long long)st.evictions, bad);
	printf("RESULT memory keys=%u rss_bytes_per_client=%.2f mem_bytes_per_client=%.2f "
	    "capacity=%llu used=%llu untracked=%llu evictions=%llu fill_s=%.2f\n",
	    nkeys, per_rss, per_mem, (unsigned long long)st.capacity,
	    (unsigned long long)st.used, (unsigned long long)st.untracked,
	    (unsigned long long)st.evictions, fill_s);

	for (int threads = 1; threads <= MAX_THREADS; threads++) {
		double rates[V_N][64];
		struct pass p;
		uint64_t allowed = 0, refused = 0, untracked = 0;

		/* throughput: interleaved rounds, no clock reads in the loop */
		for (int rd = 0; rd < rounds; rd++)
			for (int v = 0; v < V_N; v++) {
				run_pass(t, (enum variant)v, threads, nkeys, checks, false,
				    (uint64_t)(rd * 10 + v), &p);
				rates[v][rd] = p.rate;
				if (v == V_TABLE) {
					allowed += p.allowed;
					refused += p.refused;
					untracked += p.untracked;
				}
			}
		double med[V_N];
		for (int v = 0; v < V_N; v++)
			med[v] = median(rates[v], rounds);
		printf("  %d thread(s): table %.2f M checks/s; hash-only %.2f M/s, "
		    "hash+1 miss %.2f M/s, global-mutex %.2f M/s (medians of %d interleaved rounds)\n",
		    threads, med[V_TABLE] / 1e6, med[V_HASH] / 1e6, med[V_PROBE] / 1e6,
		    med[V_GLOBAL] / 1e6, rounds);
		printf("    ratios: table/hash-only %.3f, table/hash+1 miss %.3f, table/global-mutex %.3f; "
		    "decisions allowed %llu refused %llu untracked %llu\n",
		    med[V_TABLE] / med[V_HASH], med[V_TABLE] / med[V_PROBE],
		    med[V_TABLE] / med[V_GLOBAL],
		    (unsigned long long)allowed, (unsigned long long)refused,
		    (unsigned long long)untracked);
		printf("RESULT speed keys=%u threads=%d table_mps=%.3f hash_mps=%.3f probe_mps=%.3f "
		    "global_mps=%.3f ratio_hash=%.3f ratio_probe=%.3f ratio_global=%.3f untracked=%llu\n",
		    nkeys, threads, med[V_TABLE] / 1e6, med[V_HASH] / 1e6, med[V_PROBE] / 1e6,
		    med[V_GLOBAL] / 1e6, med[V_TABLE] / med[V_HASH], med[V_TABLE] / med[V_PROBE],
		    med[V_TABLE] / med[V_GLOBAL], (unsigned long long)untracked);

		/* latency: a clock read around every call */
		struct pass lt, lg;
		run_pass(t, V_TABLE, threads, nkeys, checks, true, 99, &lt);
		run_pass(t, V_GLOBAL, threads, nkeys, checks, true, 98, &lg);
		printf("    latency table:        p50 %.3f us  p99 %.3f us  p99.9 %.3f us  max %.1f us\n",
		    hist_quantile(&lt.h, .5) / 1e3, hist_quantile(&lt.h, .99) / 1e3,
		    hist_quantile(&lt.h, .999) / 1e3, (double)lt.h.max / 1e3);
		printf("    latency global-mutex: p50 %.3f us  p99 %.3f us  p99.9 %.3f us  max %.1f us\n",
		    hist_quantile(&lg.h, .5) / 1e3, hist_quantile(&lg.h, .99) / 1e3,
		    hist_quantile(&lg.h, .999) / 1e3, (double)lg.h.max / 1e3);
		printf("RESULT latency keys=%u threads=%d p50_us=%.3f p99_us=%.3f p999_us=%.3f "
		    "global_p50_us=%.3f global_p99_us=%.3f global_p999_us=%.3f\n", nkeys, threads,
		    hist_quantile(&lt.h, .5) / 1e3, hist_quantile(&lt.h, .99) / 1e3,
		    hist_quantile(&lt.h, .999) / 1e3, hist_quantile(&lg.h, .5) / 1e3,
		    hist_quantile(&lg.h, .99) / 1e3, hist_quantile(&lg.h, .999) / 1e3);
	}
	free(probe);
	probe = NULL;
	window_destroy(t);
	return bad != 0;
}

/*
 * The flood: STREAM distinct clients, once each, at 100,000 a simulated
 * second (6M per window: the table is always full of live entries), and
 * probe clients that keep connecting at fixed intervals: the first, every
 * 50 ms, is far over its limit and must stay refused once it has had its
 * LIMIT (an entry at its limit is never evicted); the slower ones show how
 * much a client that spaces its connections gets through while the flood
 * evicts it between them (exact counting: at most LIMIT in any window).
 */
#define PROBES 5
static const uint32_t probe_ms[PROBES] = { 50, 1000, 3000, 6000, 10000 };

static int
flood(uint32_t cap, uint64_t stream)
{
	struct window_table *t;
	struct window_stats st;
	struct window_result r;
	struct window_key k, pk[PROBES];
	long rss0, rss1, lo = 0, hi = 0, first = 0;
	uint64_t checks[PROBES] = { 0 }, allowed[PROBES] = { 0 }, untracked[PROBES] = { 0 };
	uint64_t maxwin[PROBES] = { 0 }, t0;
	uint64_t *adm[PROBES];		/* admitted times, for the most in a window */
	size_t nadm[PROBES] = { 0 }, head[PROBES] = { 0 };
	int fail = 0;

	printf("== flood: %llu distinct clients through a table for %u, 100,000 a second\n",
	    (unsigned long long)stream, cap);
	rss0 = rss_kb();
	if ((t = window_create(cap, seed)) == NULL) {
		printf("FAIL window_create(%u)\n", cap);
		return 1;
	}
	for (int p = 0; p < PROBES; p++) {
		key_of(0xfffffff0u + (uint32_t)p, &pk[p]);
		adm[p] = malloc((stream / 100 / probe_ms[p] + 2) * sizeof **adm);
		if (adm[p] == NULL) {
			printf("FAIL out of memory\n");
			return 1;
		}
	}
	t0 = now_ns();
	printf("  VmRSS (kB) every 4 million:");
	for (uint64_t i = 0; i < stream; i++) {
		uint64_t now = 1000 + i / 100;		/* 100,000 per second */

		key_of((uint32_t)(i + 1), &k);
		window_check(t, &k, &rule, WINDOW_MS, now, &r);
		if (i % 100 == 0)			/* once per simulated ms */
			for (int p = 0; p < PROBES; p++) {
				if ((i / 100) % probe_ms[p] != 0)
					continue;
				window_check(t, &pk[p], &rule, WINDOW_MS, now, &r);
				checks[p]++;
				untracked[p] += r.verdict == WINDOW_UNTRACKED;
				if (r.verdict == WINDOW_REFUSE)
					continue;
				allowed[p]++;
				adm[p][nadm[p]++] = now;
				while (now - adm[p][head[p]] >= WINDOW_MS)
					head[p]++;
				if (nadm[p] - head[p] > maxwin[p])
					maxwin[p] = nadm[p] - head[p];
			}
		if ((i + 1) % 1000000 == 0) {
			long v = rss_kb();
			if (first == 0)
				first = lo = hi = v;
			if (v < lo) lo = v;
			if (v > hi) hi = v;
			if ((i + 1) % 4000000 == 0 || i + 1 == stream)
				printf(" %ld", v);
		}
	}
	printf("\n");
	double secs = (double)(now_ns() - t0) / 1e9;
	rss1 = rss_kb();
	window_stats(t, &st);
	printf("  VmRSS %ld kB before create, %ld kB after the first million, min %ld max %ld, "
	    "%ld kB at the end: growth after the first million %ld kB\n",
	    rss0, first, lo, hi, rss1, hi - first);
	printf("  %.2f s (%.2f M checks/s); evictions %llu, expired %llu, untracked %llu, used %llu of %llu\n",
	    secs, (double)stream / secs / 1e6, (unsigned long long)st.evictions,
	    (unsigned long long)st.expired, (unsigned long long)st.untracked,
	    (unsigned long long)st.used, (unsigned long long)st.capacity);
	for (int p = 0; p < PROBES; p++) {
		uint64_t per_win = WINDOW_MS / probe_ms[p];
		uint64_t exact = per_win < LIMIT ? per_win : LIMIT;
		if (exact > checks[p])		/* a flood shorter than a window */
			exact = checks[p];
		printf("  probe every %5u ms (%3llu a window): %llu connections, %llu admitted, "
		    "at most %llu in a window (exact: %llu), %llu untracked\n", probe_ms[p],
		    (unsigned long long)per_win, (unsigned long long)checks[p],
		    (unsigned long long)allowed[p], (unsigned long long)maxwin[p],
		    (unsigned long long)exact, (unsigned long long)untracked[p]);
		printf("RESULT flood_probe interval_ms=%u checks=%llu allowed=%llu max_in_window=%llu "
		    "exact_max=%llu untracked=%llu\n", probe_ms[p], (unsigned long long)checks[p],
		    (unsigned long long)allowed[p], (unsigned long long)maxwin[p],
		    (unsigned long long)exact, (unsigned long long)untracked[p]);
	}
	/* The 50 ms probe makes 20 a second and refused connections count:
	 * once it has had LIMIT it stays over its limit, so exactly LIMIT pass
	 * unless its entry is lost along the way. */
	if (allowed[0] != LIMIT || untracked[0] > 0)
		fail = 1;
	printf("RESULT flood stream=%llu cap=%u rss_first_kb=%ld rss_min_kb=%ld rss_max_kb=%ld "
	    "rss_end_kb=%ld growth_kb=%ld evictions=%llu expired=%llu untracked=%llu "
	    "hot_checks=%llu hot_allowed=%llu hot_untracked=%llu\n",
	    (unsigned long long)stream, cap, first, lo, hi, rss1, hi - first,
	    (unsigned long long)st.evictions, (unsigned long long)st.expired,
	    (unsigned long long)st.untracked, (unsigned long long)checks[0],
	    (unsigned long long)allowed[0], (unsigned long long)untracked[0]);
	for (int p = 0; p < PROBES; p++)
		free(adm[p]);
	window_destroy(t);
	return fail;
}

int
main(int argc, char **argv)
{
	char *sizes = "1000000,10000000";
	uint64_t checks = 10000000, stream = 20000000;
	uint32_t flood_cap = 1000000;
	int rounds = 3, ch, fail = 0;

	while ((ch = getopt(argc, argv, "k:m:r:s:f:")) != -1) {
		switch (ch) {
		case 'k': sizes = optarg; break;
		case 'm': checks = strtoull(optarg, NULL, 10); break;
		case 'r': rounds = atoi(optarg); break;
		case 's': stream = strtoull(optarg, NULL, 10); break;
		case 'f': flood_cap = (uint32_t)strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: tablebench [-k KEYS,...] [-m CHECKS] [-r ROUNDS] "
			    "[-s STREAM] [-f FLOOD_TABLE]\n");
			return 2;
		}
	}
	if (rounds < 1 || rounds > 64 || checks < MAX_THREADS) {
		fprintf(stderr, "tablebench: rounds 1..64, checks >= %d\n", MAX_THREADS);
		return 2;
	}
	printf("tablebench: limit %d per %u ms, %llu checks per pass, %d rounds\n",
	    LIMIT, WINDOW_MS, (unsigned long long)checks, rounds);
	for (char *s = strtok(sizes, ","); s; s = strtok(NULL, ",")) {
		unsigned long n = strtoul(s, NULL, 10);
		if (n == 0 || n > 100000000) {
			fprintf(stderr, "tablebench: bad size %s\n", s);
			return 2;
		}
		fail |= bench_size((uint32_t)n, checks, rounds);
	}
	if (stream)
		fail |= flood(flood_cap, stream);
	return fail;
}
