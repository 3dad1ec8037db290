/*
 * bench.h: small helpers shared by the benchmark programs (header only).
 *
 *   now_ns()         monotonic clock in nanoseconds
 *   struct hist      log-linear latency histogram: 64 sub-buckets per power
 *                    of two (relative error under 1.6%), fixed size, no
 *                    allocation, mergeable; values in nanoseconds
 *   rss_kb()         VmRSS of this process from /proc/self/status
 *   splitmix64()     a fast seeded generator for keys and traces
 *   scramble32()     a bijection on 32 bits (distinct in, distinct out)
 *   median()         the median of n rounds' figures (sorts them in place)
 */
#ifndef MRL_BENCH_H
#define MRL_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define HIST_SUB_BITS 6
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_EXP 40			/* 2^40 ns = 18 minutes */
#define HIST_BUCKETS (HIST_SUB * (HIST_MAX_EXP - HIST_SUB_BITS + 2))

struct hist {
	uint64_t n;
	uint64_t max;
	uint64_t sum;
	uint32_t b[HIST_BUCKETS];
};

static inline unsigned
hist_index(uint64_t v)
{
	unsigned e;

	if (v < HIST_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);	/* floor(log2 v) >= HIST_SUB_BITS */
	if (e > HIST_MAX_EXP)
		return HIST_BUCKETS - 1;
	/* top HIST_SUB_BITS+1 bits of v: HIST_SUB..2*HIST_SUB-1 */
	return (e - HIST_SUB_BITS + 1) * HIST_SUB +
	    (unsigned)((v >> (e - HIST_SUB_BITS)) - HIST_SUB);
}

/* The smallest value that lands in bucket i (its lower edge). */
static inline uint64_t
hist_low(unsigned i)
{
	unsigned e;

	if (i < HIST_SUB)
		return i;
	e = i / HIST_SUB + HIST_SUB_BITS - 1;
	return ((uint64_t)(HIST_SUB + i % HIST_SUB)) << (e - HIST_SUB_BITS);
}

static inline void
hist_add(struct hist *h, uint64_t v)
{
	h->n++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
	h->b[hist_index(v)]++;
}

static inline void
hist_merge(struct hist *dst, const struct hist *src)
{
	dst->n += src->n;
	dst->sum += src->sum;
	if (src->max > dst->max)
		dst->max = src->max;
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
}

/* The q-quantile (0..1), as the midpoint of its bucket, in ns. */
static inline double
hist_quantile(const struct hist *h, double q)
{
	uint64_t want, seen = 0;

	if (h->n == 0)
		return 0;
	want = (uint64_t)(q * (double)h->n);
	if (want >= h->n)
		want = h->n - 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > want) {
			double lo = (double)hist_low(i);
			double hi = i + 1 < HIST_BUCKETS ? (double)hist_low(i + 1) : lo;
			double mid = (lo + hi) / 2;
			return mid > (double)h->max ? (double)h->max : mid;
		}
	}
	return (double)h->max;
}

static inline long
rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

static inline uint64_t
splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static inline uint64_t
rand_below(uint64_t *s, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)splitmix64(s) * n) >> 64);
}

/* Uniform in (0, 1). */
static inline double
rand_unit(uint64_t *s)
{
	return ((double)(splitmix64(s) >> 11) + 0.5) / 9007199254740992.0;
}

/* A bijection on 32 bits: odd multipliers and xorshifts are invertible. */
static inline uint32_t
scramble32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

static inline int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of v[0..n-1], n > 0; v is sorted on return. */
static inline double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif
