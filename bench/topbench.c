/*
 * topbench.c: what ratelimit-ctl top costs the decisions (window.h,
 * window_top) on a full table.
 *
 *   topbench [-k KEYS] [-s SECONDS] [-n TOPN]
 *
 * A table for KEYS clients (default 1,000,000) is filled with KEYS
 * distinct keys.  Then two threads decide (window_check on random live
 * keys, a clock read around each call) for SECONDS (default 3) twice:
 * alone, and with a third thread running window_top(TOPN, default 100)
 * back to back the whole time.  Prints per-call p50/p99/p99.9/max of the
 * decisions in both runs, the duration of each top scan, and the longest
 * a shard lock was held by a scan (one shard's scan: the table's entries
 * over its shards).  Time inside the table is simulated (`now` is an
 * argument); the latencies are real.
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
#include "window.h"

static const uint8_t seed[16] = "topbench-seed!!!";
static struct window_table *table;
static size_t nkeys = 1000000, topn = 100;
static double seconds = 3;
static atomic_bool stop, top_on;
static struct hist lat[2];
static struct hist scans;
static uint64_t nscans;

static struct window_key
key_of(uint64_t i)
{
	struct window_key k;

	memset(&k, 0, sizeof k);
	k.b[10] = k.b[11] = 0xff;
	k.b[12] = 10;
	k.b[13] = (uint8_t)(i >> 16);
	k.b[14] = (uint8_t)(i >> 8);
	k.b[15] = (uint8_t)i;
	k.b[9] = (uint8_t)(i >> 24);	/* beyond 2^24 keys: still distinct */
	k.plen = 128;
	return k;
}

static const struct window_rule rule = { .limit = 10, .window_ms = 60000,
    .count_refused = true };

static void *
decider(void *arg)
{
	int id = (int)(intptr_t)arg;
	uint64_t rng = 0x1234 + (uint64_t)id, n = 0;
	struct window_result r;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		struct window_key k = key_of(rand_below(&rng, nkeys));
		uint64_t t0 = now_ns();

		/* 30 s into the window: every key is live, few are full. */
		window_check(table, &k, &rule, 60000, 30000 + n++ / 100000, &r);
		hist_add(&lat[id], now_ns() - t0);
	}
	return NULL;
}

static void *
topper(void *arg)
{
	struct window_top_entry *out = calloc(topn, sizeof *out);

	(void)arg;
	while (!atomic_load(&stop)) {
		uint64_t t0 = now_ns();

		if (!atomic_load(&top_on)) {
			usleep(1000);
			continue;
		}
		window_top(table, 60000, 30000, out, topn);
		hist_add(&scans, now_ns() - t0);
		nscans++;
	}
	free(out);
	return NULL;
}

static void
run(bool with_top, double *q)
{
	pthread_t th[2];
	struct hist all;

	memset(lat, 0, sizeof lat);
	atomic_store(&stop, false);
	atomic_store(&top_on, with_top);
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, decider, (void *)(intptr_t)i);
	usleep((useconds_t)(seconds * 1e6));
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	memset(&all, 0, sizeof all);
	hist_merge(&all, &lat[0]);
	hist_merge(&all, &lat[1]);
	q[0] = hist_quantile(&all, 0.5);
	q[1] = hist_quantile(&all, 0.99);
	q[2] = hist_quantile(&all, 0.999);
	q[3] = hist_quantile(&all, 1.0);
	q[4] = (double)all.n;
}

int
main(int argc, char **argv)
{
	struct window_result r;
	double a[5], b[5];
	pthread_t tt;
	int ch;

	while ((ch = getopt(argc, argv, "k:n:s:")) != -1) {
		switch (ch) {
		case 'k': nkeys = strtoull(optarg, NULL, 10); break;
		case 'n': topn = strtoull(optarg, NULL, 10); break;
		case 's': seconds = atof(optarg); break;
		default:
			fprintf(stderr, "usage: topbench [-k KEYS] [-s SECONDS] [-n TOPN]\n");
			return 64;
		}
	}
	if ((table = window_create(nkeys, seed)) == NULL) {
		perror("window_create");
		return 1;
	}
	for (uint64_t i = 0; i < nkeys; i++) {
		struct window_key k = key_of(i);
		window_check(table, &k, &rule, 60000, (i * 30000) / nkeys, &r);
	}
	{
		struct window_stats ws;
		window_stats(table, &ws);
		printf("table: %llu keys in %llu entries\n",
		    (unsigned long long)ws.used, (unsigned long long)ws.capacity);
	}
	atomic_store(&stop, false);
	pthread_create(&tt, NULL, topper, NULL);
	run(false, a);
	run(true, b);
	atomic_store(&stop, true);
	pthread_join(tt, NULL);

	printf("decisions alone:    p50 %.2f us  p99 %.2f us  p99.9 %.2f us  max %.0f us  (%.0f calls)\n",
	    a[0] / 1e3, a[1] / 1e3, a[2] / 1e3, a[3] / 1e3, a[4]);
	printf("decisions with top: p50 %.2f us  p99 %.2f us  p99.9 %.2f us  max %.0f us  (%.0f calls)\n",
	    b[0] / 1e3, b[1] / 1e3, b[2] / 1e3, b[3] / 1e3, b[4]);
	printf("top %zu scans: %llu, each p50 %.1f ms  max %.1f ms\n", topn,
	    (unsigned long long)nscans, hist_quantile(&scans, 0.5) / 1e6,
	    hist_quantile(&scans, 1.0) / 1e6);
	printf("RESULT topbench keys=%zu topn=%zu alone_p50_us=%.2f alone_p99_us=%.2f "
	    "alone_p999_us=%.2f alone_max_us=%.0f top_p50_us=%.2f top_p99_us=%.2f "
	    "top_p999_us=%.2f top_max_us=%.0f scans=%llu scan_p50_ms=%.1f scan_max_ms=%.1f\n",
	    nkeys, topn, a[0] / 1e3, a[1] / 1e3, a[2] / 1e3, a[3] / 1e3,
	    b[0] / 1e3, b[1] / 1e3, b[2] / 1e3, b[3] / 1e3,
	    (unsigned long long)nscans, hist_quantile(&scans, 0.5) / 1e6,
	    hist_quantile(&scans, 1.0) / 1e6);
	window_destroy(table);
	return 0;
}
