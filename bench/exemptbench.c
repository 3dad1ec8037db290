/*
 * exemptbench.c: the exemption set at a million entries.
 *
 *   exemptbench -m PATH/TO/ratelimit-map -d WORKDIR [-n ENTRIES] [-l LOOKUPS]
 *
 * 1. Writes ENTRIES (default 1,000,000) distinct map lines to WORKDIR/map:
 *    mostly IPv4 addresses, some IPv4 /24 and /16 prefixes, some IPv6 /64
 *    and /48 prefixes and addresses; values OK or N/DURATION.
 * 2. Builds WORKDIR/map.db with `TOOL WORKDIR/map < WORKDIR/map`, TOOL being
 *    ratelimit-map or "makemap hash" (the same format, both ways)
 *    (timed, for information).
 * 3. In this process: VmRSS, then exempt_load_db() timed, then VmRSS again
 *    (RSS growth; exempt_memory() beside it).
 * 4. LOOKUPS (default 1,000,000) exempt_lookup() calls on random addresses,
 *    each timed: p50/p99/p99.9; half are addresses the map covers, half
 *    random IPv4/IPv6 addresses (mostly misses).  Every covered address
 *    must be found, and the entry found must cover it.
 * Prints human lines and "RESULT exempt key=value ..."; exits 1 when the
 * map does not load, holds the wrong count, or a lookup is wrong.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "bench.h"
#include "exempt.h"
#include "mapdb.h"

struct gen {
	struct addr a;		/* the prefix */
	int plen;		/* family terms */
	int v4;
};

static void
warn_entry(const char *path, const char *key, const char *reason)
{
	fprintf(stderr, "exemptbench: %s: %s: %s\n", path, key, reason);
}

static void
v4(struct addr *a, uint32_t x)
{
	memset(a->b, 0, 10);
	a->b[10] = a->b[11] = 0xff;
	a->b[12] = (uint8_t)(x >> 24);
	a->b[13] = (uint8_t)(x >> 16);
	a->b[14] = (uint8_t)(x >> 8);
	a->b[15] = (uint8_t)x;
}

int
main(int argc, char **argv)
{
	const char *tool = NULL, *dir = NULL;
	uint64_t n = 1000000, lookups = 1000000, rng = 42;
	char path[4096], db[4200], cmd[9000], err[512];
	struct gen *g;
	int ch, fail = 0;

	while ((ch = getopt(argc, argv, "m:d:n:l:")) != -1) {
		switch (ch) {
		case 'm': tool = optarg; break;
		case 'd': dir = optarg; break;
		case 'n': n = strtoull(optarg, NULL, 10); break;
		case 'l': lookups = strtoull(optarg, NULL, 10); break;
		default: tool = NULL; dir = NULL; optind = argc; break;
		}
	}
	if (tool == NULL || dir == NULL || n < 10 || n > 50000000 || lookups == 0) {
		fprintf(stderr, "usage: exemptbench -m RATELIMIT-MAP -d WORKDIR [-n ENTRIES] [-l LOOKUPS]\n");
		return 2;
	}
	snprintf(path, sizeof path, "%s/map", dir);
	snprintf(db, sizeof db, "%s.db", path);

	/* 1. the map source: distinct keys by construction */
	if ((g = calloc(n, sizeof *g)) == NULL) {
		perror("calloc");
		return 2;
	}
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		return 2;
	}
	uint64_t n24 = n / 100, n16 = n / 1000, n6 = n / 10;
	uint64_t nv4 = n - n24 - n16 - n6;
	for (uint64_t i = 0; i < n; i++) {
		char key[ADDR_STRLEN + 8];
		struct gen *x = &g[i];
		if (i < nv4) {			/* 11.0.0.0 up: single IPv4 addresses */
			x->v4 = 1;
			x->plen = 32;
			v4(&x->a, 0x0b000000u + (uint32_t)(i * 7));
		} else if (i < nv4 + n24) {	/* /24s in 100.0.0.0 up */
			x->v4 = 1;
			x->plen = 24;
			v4(&x->a, 0x64000000u + (uint32_t)((i - nv4) << 8));
		} else if (i < nv4 + n24 + n16) {	/* /16s in 160.0.0.0 up */
			x->v4 = 1;
			x->plen = 16;
			v4(&x->a, 0xa0000000u + (uint32_t)((i - nv4 - n24) << 16));
		} else {			/* IPv6: /64s, /48s, /128s in 2001:db8::/32 */
			uint64_t j = i - nv4 - n24 - n16;
			memset(&x->a, 0, sizeof x->a);
			x->a.b[0] = 0x20; x->a.b[1] = 0x01; x->a.b[2] = 0x0d; x->a.b[3] = 0xb8;
			x->a.b[4] = (uint8_t)(j >> 16);
			x->a.b[5] = (uint8_t)(j >> 8);
			x->a.b[6] = (uint8_t)j;
			x->plen = j % 3 == 0 ? 48 : j % 3 == 1 ? 64 : 128;
			if (x->plen == 48) {		/* in 2001:db9::/32, distinct by j/3 */
				x->a.b[3] = 0xb9;
				x->a.b[4] = (uint8_t)((j / 3) >> 8);
				x->a.b[5] = (uint8_t)(j / 3);
				x->a.b[6] = 0;
			} else if (x->plen == 128) {
				x->a.b[15] = 1;
			}
		}
		addr_format_prefix(key, sizeof key, &x->a, x->plen);
		if (i % 4 == 0)
			fprintf(f, "%s %u/1h\n", key, (unsigned)(100 + i % 900));
		else
			fprintf(f, "%s OK\n", key);
	}
	if (fclose(f) != 0) {
		perror(path);
		return 2;
	}

	/* 2. build the map with the real tool */
	snprintf(cmd, sizeof cmd, "%s '%s' < '%s'", tool, path, path);
	uint64_t t0 = now_ns();
	int st = system(cmd);
	double build_s = (double)(now_ns() - t0) / 1e9;
	if (st != 0) {
		printf("FAIL: %s exited with status %d\n", cmd, WEXITSTATUS(st));
		return 1;
	}

	/* 3. load */
	long rss0 = rss_kb();
	t0 = now_ns();
	struct exempt *e = exempt_load_db(db, warn_entry, err, sizeof err);
	double load_s = (double)(now_ns() - t0) / 1e9;
	long rss1 = rss_kb();
	if (e == NULL) {
		printf("FAIL: exempt_load_db: %s\n", err);
		return 1;
	}
	size_t count = exempt_count(e), mem = exempt_memory(e);
	printf("exempt map: %llu entries (%llu IPv4 /32, %llu /24, %llu /16, %llu IPv6)\n",
	    (unsigned long long)n, (unsigned long long)nv4, (unsigned long long)n24,
	    (unsigned long long)n16, (unsigned long long)n6);
	printf("  %s built %s in %.2f s\n", tool, db, build_s);
	printf("  exempt_load_db: %.3f s, %zu entries loaded; VmRSS %ld kB -> %ld kB "
	    "(+%ld kB, %.1f bytes per entry); exempt_memory() %zu bytes (%.1f per entry)\n",
	    load_s, count, rss0, rss1, rss1 - rss0,
	    (double)(rss1 - rss0) * 1024 / (double)n, mem, (double)mem / (double)n);
	/* Where the load time goes: the same two steps exempt_load_db takes,
	 * timed apart (after the measured load: the file is in the cache for
	 * both). */
	{
		struct map_entries me = { 0 };
		char e2[512];
		uint64_t a = now_ns();
		bool ok = mapdb_read(db, &me, NULL, warn_entry, e2, sizeof e2);
		uint64_t b = now_ns();
		struct exempt_builder *bl = exempt_builder_new();
		for (size_t i = 0; ok && bl && i < me.n; i++)
			exempt_builder_add(bl, &me.e[i].prefix, me.e[i].plen, &me.e[i].value);
		struct exempt *e3 = bl ? exempt_build(bl) : NULL;
		uint64_t c = now_ns();
		printf("  load breakdown: mapdb_read (Berkeley DB walk, parse, sort, dedup) %.3f s, "
		    "exempt build (add, sort, cut into ranges) %.3f s\n",
		    (double)(b - a) / 1e9, (double)(c - b) / 1e9);
		printf("RESULT exempt_breakdown read_s=%.3f build_s=%.3f\n",
		    (double)(b - a) / 1e9, (double)(c - b) / 1e9);
		exempt_free(e3);
		mapdb_clear(&me);
	}
	if (count != n) {
		printf("FAIL: %zu entries loaded, want %llu\n", count, (unsigned long long)n);
		fail = 1;
	}

	/* 4. lookups */
	struct hist h;
	uint64_t hits = 0, wrong = 0, sink = 0;
	memset(&h, 0, sizeof h);
	for (uint64_t i = 0; i < lookups; i++) {
		struct addr a;
		struct exempt_match m;
		bool want = false;
		uint64_t r = splitmix64(&rng);

		if (i % 2 == 0) {		/* inside a random entry */
			struct gen *x = &g[r % n];
			a = x->a;
			if ((x->v4 && x->plen < 32) || (!x->v4 && x->plen < 128))
				a.b[15] ^= (uint8_t)(r >> 40) | 1;	/* a host bit */
			want = true;
		} else if (i % 4 == 1) {	/* random IPv4 */
			v4(&a, (uint32_t)(r >> 32));
		} else {			/* random IPv6 */
			memcpy(a.b, &r, 8);
			uint64_t r2 = splitmix64(&rng);
			memcpy(a.b + 8, &r2, 8);
			a.b[0] = 0x20;
		}
		uint64_t s = now_ns();
		bool found = exempt_lookup(e, &a, &m);
		hist_add(&h, now_ns() - s);
		hits += found;
		if (found)
			sink += (uint64_t)m.plen;
		if (want && !found)
			wrong++;
		if (found) {
			/* the entry found must cover a */
			struct addr masked = a;
			addr_mask(&masked, m.plen);
			if (memcmp(masked.b, m.prefix.b, 16) != 0)
				wrong++;
		}
	}
	printf("  exempt_lookup: %llu lookups (%llu found), p50 %.3f us  p99 %.3f us  "
	    "p99.9 %.3f us  max %.1f us; %llu wrong\n", (unsigned long long)lookups,
	    (unsigned long long)hits, hist_quantile(&h, .5) / 1e3,
	    hist_quantile(&h, .99) / 1e3, hist_quantile(&h, .999) / 1e3,
	    (double)h.max / 1e3, (unsigned long long)wrong);
	printf("RESULT exempt entries=%llu loaded=%zu build_s=%.3f load_s=%.3f rss_growth_kb=%ld "
	    "memory_bytes=%zu lookups=%llu found=%llu wrong=%llu p50_us=%.3f p99_us=%.3f "
	    "p999_us=%.3f\n", (unsigned long long)n, count, build_s, load_s, rss1 - rss0, mem,
	    (unsigned long long)lookups, (unsigned long long)hits, (unsigned long long)wrong,
	    hist_quantile(&h, .5) / 1e3, hist_quantile(&h, .99) / 1e3,
	    hist_quantile(&h, .999) / 1e3);
	if (wrong)
		fail = 1;
	(void)sink;
	exempt_free(e);
	free(g);
	return fail;
}
