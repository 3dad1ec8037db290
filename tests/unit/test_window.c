/*
 * test_window.c: the sliding-window table (window.h).
 *
 * The oracle is an exact sliding log written here: per key, the times of
 * the connections the table counted.  A connection at `now` sees those in
 * (now - window, now]; it is refused iff counting it would exceed the limit.
 * Time is always an argument; nothing sleeps.
 */
#include "unit.h"

#include <pthread.h>
#include <stdatomic.h>

#include "window.h"

#define HOUR_MS 3600000u

static struct window_key key_n(uint32_t n, uint8_t plen)
{
	struct window_key k;

	memset(&k, 0, sizeof(k));
	k.b[0] = 0x20;
	k.b[1] = 0x01;
	k.b[12] = (uint8_t)(n >> 24);
	k.b[13] = (uint8_t)(n >> 16);
	k.b[14] = (uint8_t)(n >> 8);
	k.b[15] = (uint8_t)n;
	k.plen = plen;
	return k;
}

static struct window_rule rule(uint32_t limit, uint32_t window_ms, bool cr)
{
	struct window_rule r;

	memset(&r, 0, sizeof r);
	r.limit = limit;
	r.window_ms = window_ms;
	r.count_refused = cr;
	return r;
}

static const char *vname(enum window_verdict v)
{
	switch (v) {
	case WINDOW_ALLOW: return "ALLOW";
	case WINDOW_REFUSE: return "REFUSE";
	case WINDOW_UNTRACKED: return "UNTRACKED";
	}
	return "?";
}

/*
 * Tables live in a registry so that a failing test (cmocka longjmps out of
 * it, and runs no teardown after a failure) leaks nothing for
 * LeakSanitizer to report: the next test's setup and the group teardown
 * free what is left.
 */
#define MAXLIVE 8
static struct window_table *live[MAXLIVE];
static void *live_mem[MAXLIVE];

static struct window_table *mktable(size_t n)
{
	struct window_table *t = window_create(n, unit_seed());
	int i;

	if (t == NULL)
		fail_msg("window_create(%zu) failed: %s", n, strerror(errno));
	for (i = 0; i < MAXLIVE; i++)
		if (live[i] == NULL) {
			live[i] = t;
			return t;
		}
	window_destroy(t);
	fail_msg("too many live tables");
	return NULL;
}

static void rmtable(struct window_table *t)
{
	int i;

	for (i = 0; i < MAXLIVE; i++)
		if (live[i] == t)
			live[i] = NULL;
	window_destroy(t);
}

/* Plain memory to free on failure too. */
static void *keep(void *p)
{
	int i;

	assert_non_null(p);
	for (i = 0; i < MAXLIVE; i++)
		if (live_mem[i] == NULL) {
			live_mem[i] = p;
			return p;
		}
	fail_msg("too many live buffers");
	return NULL;
}

static void unkeep(void *p)
{
	int i;

	for (i = 0; i < MAXLIVE; i++)
		if (live_mem[i] == p)
			live_mem[i] = NULL;
	free(p);
}

static void free_trace(void);

static int cleanup(void **state)
{
	int i;

	(void)state;
	free_trace();
	for (i = 0; i < MAXLIVE; i++) {
		if (live[i] != NULL)
			window_destroy(live[i]);
		live[i] = NULL;
		free(live_mem[i]);
		live_mem[i] = NULL;
	}
	return 0;
}

static struct window_result check(struct window_table *t, const struct window_key *k,
    const struct window_rule *r, uint32_t maxw, uint64_t now)
{
	struct window_result res;

	memset(&res, 0xee, sizeof(res));
	window_check(t, k, r, maxw, now, &res);
	return res;
}

#define expect(t_, k_, r_, mw_, now_, v_, c_) do {			\
	struct window_result res_ = check((t_), (k_), (r_), (mw_), (now_)); \
	if (res_.verdict != (v_) || res_.count != (uint32_t)(c_))	\
		fail_msg("line %d, at %llu: got %s count %u, want %s count %u", \
		    __LINE__, (unsigned long long)(now_), vname(res_.verdict), \
		    (unsigned)res_.count, vname(v_), (unsigned)(c_));	\
} while (0)

/* A verdict and a count within [lo, hi]. */
#define expect_range(t_, k_, r_, mw_, now_, v_, lo_, hi_) do {		\
	struct window_result res_ = check((t_), (k_), (r_), (mw_), (now_)); \
	if (res_.verdict != (v_) || res_.count < (uint32_t)(lo_) ||	\
	    res_.count > (uint32_t)(hi_))				\
		fail_msg("line %d, at %llu: got %s count %u, want %s count " \
		    "in [%u, %u]", __LINE__, (unsigned long long)(now_),	\
		    vname(res_.verdict), (unsigned)res_.count, vname(v_),	\
		    (unsigned)(lo_), (unsigned)(hi_));			\
} while (0)

/* -ln(1 - u) for u in [0, 1), without libm: the exponential gap. */
static double exp_variate(double u)
{
	double x = 1.0 - u, z, z2, sum = 0.0, term;
	int k = 0, i;

	if (x <= 0.0)
		return 40.0;
	while (x < 0.5) {
		x *= 2.0;
		k++;
	}
	/* ln x = 2 atanh((x - 1) / (x + 1)), |z| <= 1/3 */
	z = (x - 1.0) / (x + 1.0);
	z2 = z * z;
	term = z;
	for (i = 1; i < 40; i += 2) {
		sum += term / i;
		term *= z2;
	}
	return -(2.0 * sum - k * 0.69314718055994530942);
}

/*
 * The group size window.h documents for a limit above WINDOW_SLOTS: the
 * count may fall g - 1 short, so up to limit + g - 1 get in per window.
 */
static uint32_t group_size(uint32_t limit)
{
	if (limit <= WINDOW_SLOTS)
		return 1;
	return (limit - 1 + WINDOW_SLOTS - 2) / (WINDOW_SLOTS - 1);
}

/* ---- the oracle ---------------------------------------------------------- */

struct olog {
	uint64_t *ts;		/* ascending */
	size_t head, n, cap;
};

static void olog_push(struct olog *o, uint64_t now)
{
	if (o->n == o->cap) {
		if (o->head > 0) {
			memmove(o->ts, o->ts + o->head, (o->n - o->head) * sizeof(*o->ts));
			o->n -= o->head;
			o->head = 0;
		}
		if (o->n == o->cap) {
			o->cap = o->cap ? o->cap * 2 : 64;
			o->ts = realloc(o->ts, o->cap * sizeof(*o->ts));
			assert_non_null(o->ts);
		}
	}
	o->ts[o->n++] = now;
}

/* Entries in (now - w, now]; drops the older ones (time only goes forward). */
static uint32_t olog_count(struct olog *o, uint64_t now, uint32_t w)
{
	while (o->head < o->n && o->ts[o->head] + w <= now)
		o->head++;
	return (uint32_t)(o->n - o->head);
}

static void olog_free(struct olog *o)
{
	free(o->ts);
	memset(o, 0, sizeof(*o));
}

/* ---- (1) explicit boundaries ------------------------------------------- */

struct step {
	uint64_t t;
	enum window_verdict v;
	uint32_t count;
};

static void run_steps(struct window_table *t, const struct window_key *k,
    const struct window_rule *r, uint32_t maxw, const struct step *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct window_result res = check(t, k, r, maxw, s[i].t);

		if (res.verdict != s[i].v || res.count != s[i].count)
			fail_msg("limit %u window %u count_refused %d, step %zu at "
			    "%llu: got %s count %u, want %s count %u", r->limit,
			    r->window_ms, r->count_refused, i,
			    (unsigned long long)s[i].t, vname(res.verdict),
			    (unsigned)res.count, vname(s[i].v), (unsigned)s[i].count);
	}
}

#define A WINDOW_ALLOW
#define R WINDOW_REFUSE
#define RUN(t, k, r, maxw, steps) \
	run_steps((t), (k), (r), (maxw), (steps), sizeof(steps) / sizeof((steps)[0]))

/*
 * Each scenario gets a table of its own: a shard's clock never runs
 * backwards (window.c, "Time"), so a scenario that starts again at an
 * earlier time in the same table would be read at the later one.
 */
static void run_fresh(const struct window_key *k, const struct window_rule *r,
    uint32_t maxw, const struct step *s, size_t n)
{
	struct window_table *t = mktable(1000);

	run_steps(t, k, r, maxw, s, n);
	rmtable(t);
}
#define RUN_FRESH(k, r, maxw, steps) \
	run_fresh((k), (r), (maxw), (steps), sizeof(steps) / sizeof((steps)[0]))

static void test_boundary_window_edge(void **state)
{
	/* window is (now - window, now]: an earlier connection exactly
	 * window_ms before is out, one window_ms - 1 before is in */
	static const struct step not_counted[] = {
		{ 5000, A, 1 }, { 5999, R, 2 }, { 6000, A, 1 }, { 6000, R, 2 },
		{ 6999, R, 2 }, { 7000, A, 1 },
	};
	/* refused ones count: hammering keeps the client out */
	static const struct step counted[] = {
		{ 5000, A, 1 }, { 5999, R, 2 }, { 6000, R, 2 }, { 6999, R, 2 },
		{ 7000, R, 2 }, { 7999, R, 2 }, { 8999, A, 1 }, { 9998, R, 2 },
		{ 10997, R, 2 }, { 11997, A, 1 },
	};
	struct window_key k1 = key_n(1, 128), k2 = key_n(2, 128);
	struct window_rule r1 = rule(1, 1000, false), r2 = rule(1, 1000, true);

	(void)state;
	RUN_FRESH(&k1, &r1, 1000, not_counted);
	RUN_FRESH(&k2, &r2, 1000, counted);
}

static void test_boundary_same_ms_burst(void **state)
{
	static const struct step counted[] = {
		{ 1000, A, 1 }, { 1000, A, 2 }, { 1000, A, 3 }, { 1000, R, 4 },
		{ 1000, R, 5 }, { 60999, R, 6 }, { 61000, A, 2 }, { 61000, A, 3 },
		{ 61000, R, 4 }, { 121000, A, 1 },
	};
	static const struct step not_counted[] = {
		{ 1000, A, 1 }, { 1000, A, 2 }, { 1000, A, 3 }, { 1000, R, 4 },
		{ 1000, R, 4 }, { 60999, R, 4 }, { 61000, A, 1 }, { 61000, A, 2 },
		{ 61000, A, 3 }, { 61000, R, 4 },
	};
	struct window_key k1 = key_n(1, 128), k2 = key_n(2, 128);
	struct window_rule r1 = rule(3, 60000, true), r2 = rule(3, 60000, false);

	(void)state;
	RUN_FRESH(&k1, &r1, 60000, counted);
	RUN_FRESH(&k2, &r2, 60000, not_counted);
}

static void test_boundary_one_ms_window(void **state)
{
	static const struct step counted[] = {
		{ 100, A, 1 }, { 100, R, 2 }, { 101, A, 1 }, { 101, R, 2 },
		{ 101, R, 3 }, { 102, A, 1 }, { 200, A, 1 },
	};
	static const struct step not_counted[] = {
		{ 100, A, 1 }, { 100, R, 2 }, { 101, A, 1 }, { 101, R, 2 },
		{ 102, A, 1 },
	};
	struct window_key k1 = key_n(1, 128), k2 = key_n(2, 128);
	struct window_rule r1 = rule(1, 1, true), r2 = rule(1, 1, false);

	(void)state;
	RUN_FRESH(&k1, &r1, 1, counted);
	RUN_FRESH(&k2, &r2, 1, not_counted);
}

/* limit == WINDOW_SLOTS: the ring is exactly full */
static void test_boundary_limit_equals_slots(void **state)
{
	struct window_table *t = mktable(1000);
	struct window_key k = key_n(1, 128);
	struct window_rule r = rule(WINDOW_SLOTS, 1000, false);
	uint32_t i;

	(void)state;
	for (i = 0; i < WINDOW_SLOTS; i++)
		expect(t, &k, &r, 1000, 10000 + i, A, i + 1);
	expect(t, &k, &r, 1000, 10500, R, WINDOW_SLOTS + 1);
	/* 10000 leaves at 11000, 10001 at 11001, ... */
	for (i = 0; i < WINDOW_SLOTS; i++) {
		expect(t, &k, &r, 1000, 11000 + i, A, WINDOW_SLOTS);
		expect(t, &k, &r, 1000, 11000 + i, R, WINDOW_SLOTS + 1);
	}
	/* the ring went round once: everything is still exact */
	expect(t, &k, &r, 1000, 11999, R, WINDOW_SLOTS + 1);
	expect(t, &k, &r, 1000, 12000, A, WINDOW_SLOTS);
	expect(t, &k, &r, 1000, 12009, A, 1 + 1);	/* 11000..11009 out but 12000 */
	rmtable(t);
}

static void test_boundary_start_at_zero(void **state)
{
	/* now smaller than the window must not underflow into "all expired" */
	static const struct step s[] = {
		{ 0, A, 1 }, { 1, A, 2 }, { 59999, R, 3 }, { 60000, A, 2 },
		{ 60001, A, 2 }, { 60001, R, 3 },
	};
	struct window_table *t = mktable(1000);
	struct window_key k = key_n(1, 128);
	struct window_rule r = rule(2, 60000, false);

	(void)state;
	RUN(t, &k, &r, 60000, s);
	rmtable(t);
}

static void test_boundary_longest_window(void **state)
{
	const uint64_t base = 1000;
	struct step s[] = {
		{ base, A, 1 }, { base + WINDOW_MS_MAX - 1, A, 2 },
		{ base + WINDOW_MS_MAX - 1, R, 3 }, { base + WINDOW_MS_MAX, A, 2 },
		{ base + WINDOW_MS_MAX, R, 3 },
	};
	struct window_table *t = mktable(1000);
	struct window_key k = key_n(1, 128);
	struct window_rule r = rule(2, WINDOW_MS_MAX, false);

	(void)state;
	RUN(t, &k, &r, WINDOW_MS_MAX, s);
	rmtable(t);
}

/* Across 2^32 ms (49.7 days of uptime), where a 32-bit stamp wraps. */
static void test_boundary_across_2pow32(void **state)
{
	const uint64_t w = 1ULL << 32;
	struct step s[] = {
		{ w - 1000, A, 1 }, { w - 1, A, 2 }, { w, R, 3 }, { w + 58999, R, 3 },
		{ w + 59000, A, 2 }, { w + 59999, A, 2 }, { w + 60000, R, 3 },
		{ w + 119000, A, 2 }, { w + 119999, A, 2 }, { w + 119999, R, 3 },
	};
	struct window_table *t = mktable(1000);
	struct window_key k = key_n(1, 128);
	struct window_rule r = rule(2, 60000, false);

	(void)state;
	RUN(t, &k, &r, 60000, s);
	rmtable(t);
}

#undef A
#undef R

/* ---- (1)(2)(3) random traces against the oracle ------------------------- */

struct tkey {
	struct window_key k;
	struct window_rule r;
	double mean_gap;	/* ms between arrivals */
	uint64_t next;
	struct olog counted;	/* what the table should have counted */
	struct olog allowed;
};

struct trace_params {
	uint64_t seed;
	uint64_t start;
	int nkeys;
	int nevents;
	bool big;		/* limits above WINDOW_SLOTS */
	uint32_t limit_cap;	/* exact mode: limits 1..limit_cap */
	uint32_t base_window;
};

/* The trace in progress, for the teardown when a trace fails. */
static struct tkey *trace_keys;
static int trace_nkeys;

static void free_trace(void)
{
	int i;

	for (i = 0; i < trace_nkeys && trace_keys != NULL; i++) {
		olog_free(&trace_keys[i].counted);
		olog_free(&trace_keys[i].allowed);
	}
	free(trace_keys);
	trace_keys = NULL;
	trace_nkeys = 0;
}

static const uint32_t big_limits[] = {
	11, 12, 15, 18, 19, 20, 21, 29, 30, 31, 50, 91, 92, 99, 100, 101, 250,
	1000,
};

static uint64_t next_gap(uint64_t *rng, struct tkey *k)
{
	double u = unit_unit(rng);
	uint64_t g;

	if (u < 0.08)
		return 0;	/* same-millisecond burst */
	if (u < 0.12 && k->counted.n > k->counted.head) {
		/* land on, just before or just after the moment the oldest
		 * counted connection leaves the window */
		uint64_t edge = k->counted.ts[k->counted.head] + k->r.window_ms;
		uint64_t d = unit_below(rng, 3);

		edge = edge + d - 1;
		return edge > k->next ? edge - k->next : 0;
	}
	u = unit_unit(rng);
	g = (uint64_t)(exp_variate(u) * k->mean_gap);
	return g;
}

/* The loop every trace runs; returns the number of refusals seen. */
static uint64_t run_trace(const struct trace_params *p)
{
	uint64_t rng = p->seed * 0x1000193 + 17;
	struct tkey *keys = calloc((size_t)p->nkeys, sizeof(*keys));
	struct window_table *t = mktable(4096);
	uint32_t maxw = 0;
	uint64_t now = p->start, last_sweep = p->start, refused = 0, step;
	int i, e;

	assert_non_null(keys);
	trace_keys = keys;
	trace_nkeys = p->nkeys;
	for (i = 0; i < p->nkeys; i++) {
		struct tkey *k = &keys[i];
		static const double factors[] = { 0.25, 0.5, 0.9, 1.0, 1.1, 1.5, 3.0 };
		uint32_t limit;

		if (i > 0 && (i % 4) == 1) {
			/* same bytes as the previous key, other plen: its own client */
			k->k = keys[i - 1].k;
			k->k.plen = (uint8_t)(keys[i - 1].k.plen == 64 ? 48 : 64);
		} else {
			int j;

			for (j = 0; j < 16; j++)
				k->k.b[j] = (uint8_t)unit_rand(&rng);
			k->k.plen = 64;
		}
		limit = p->big ? big_limits[unit_below(&rng,
		    sizeof(big_limits) / sizeof(big_limits[0]))]
		    : (uint32_t)(1 + unit_below(&rng, p->limit_cap));
		k->r = rule(limit, p->base_window +
		    (uint32_t)unit_below(&rng, p->base_window + 1), (i & 1) != 0);
		if (k->r.window_ms > maxw)
			maxw = k->r.window_ms;
		k->mean_gap = (double)k->r.window_ms / limit /
		    factors[unit_below(&rng, sizeof(factors) / sizeof(factors[0]))];
		k->next = now + (uint64_t)unit_below(&rng, 1000);
	}
	step = maxw / 8 > 1000 ? maxw / 8 : 1000;

	for (e = 0; e < p->nevents; e++) {
		struct tkey *k = &keys[0];
		struct window_result res;
		uint32_t before, g;
		bool allowed;

		for (i = 1; i < p->nkeys; i++)
			if (keys[i].next < k->next)
				k = &keys[i];
		now = k->next;
		/* the maintenance thread's sweep, at most every `step` */
		while (last_sweep + step <= now) {
			last_sweep += step;
			window_sweep(t, maxw, last_sweep, 64, NULL, NULL);
		}

		before = olog_count(&k->counted, now, k->r.window_ms);
		memset(&res, 0xee, sizeof(res));
		window_check(t, &k->k, &k->r, maxw, now, &res);

		if (res.verdict != WINDOW_ALLOW && res.verdict != WINDOW_REFUSE)
			fail_msg("seed %llu event %d: verdict %d in a roomy table",
			    (unsigned long long)p->seed, e, (int)res.verdict);
		allowed = res.verdict == WINDOW_ALLOW;
		g = group_size(k->r.limit);

		if (!p->big) {
			bool want_allow = before < k->r.limit;

			if (allowed != want_allow)
				fail_msg("seed %llu start %llu event %d key %d (limit %u "
				    "window %u count_refused %d) at %llu: %s, want %s; "
				    "%u counted in (now-window, now]",
				    (unsigned long long)p->seed,
				    (unsigned long long)p->start, e, (int)(k - keys),
				    k->r.limit, k->r.window_ms, k->r.count_refused,
				    (unsigned long long)now, vname(res.verdict),
				    want_allow ? "ALLOW" : "REFUSE", before);
			/* (3) the count */
			if (allowed || before + 1 <= WINDOW_SLOTS) {
				if (res.count != before + 1)
					fail_msg("seed %llu event %d key %d at %llu (%s): "
					    "count %u, want %u", (unsigned long long)p->seed,
					    e, (int)(k - keys), (unsigned long long)now,
					    vname(res.verdict), res.count, before + 1);
			} else if (res.count <= k->r.limit || res.count > before + 1) {
				fail_msg("seed %llu event %d: refused with count %u, "
				    "want in [%u, %u]", (unsigned long long)p->seed, e,
				    res.count, k->r.limit + 1, before + 1);
			}
		} else {
			/* the documented bound: never refuse under the limit,
			 * never admit limit + g or more */
			if (before < k->r.limit && !allowed)
				fail_msg("seed %llu event %d key %d (limit %u g %u window "
				    "%u cr %d) at %llu: refused with only %u counted",
				    (unsigned long long)p->seed, e, (int)(k - keys),
				    k->r.limit, g, k->r.window_ms, k->r.count_refused,
				    (unsigned long long)now, before);
			if (before >= k->r.limit + g - 1 && allowed)
				fail_msg("seed %llu event %d key %d (limit %u g %u window "
				    "%u cr %d) at %llu: allowed with %u counted",
				    (unsigned long long)p->seed, e, (int)(k - keys),
				    k->r.limit, g, k->r.window_ms, k->r.count_refused,
				    (unsigned long long)now, before);
			/* the count falls short by at most g - 1, never over */
			if (allowed && (res.count > before + 1 ||
			    res.count + (g - 1) < before + 1))
				fail_msg("seed %llu event %d: allowed with count %u, "
				    "truth %u, g %u", (unsigned long long)p->seed, e,
				    res.count, before + 1, g);
			if (!allowed && (res.count <= k->r.limit ||
			    res.count > before + 1))
				fail_msg("seed %llu event %d: refused with count %u, "
				    "limit %u truth %u", (unsigned long long)p->seed, e,
				    res.count, k->r.limit, before + 1);
		}

		if (allowed || k->r.count_refused)
			olog_push(&k->counted, now);
		if (allowed) {
			uint32_t in_window;

			olog_push(&k->allowed, now);
			in_window = olog_count(&k->allowed, now, k->r.window_ms);
			if (in_window > k->r.limit + g - 1)
				fail_msg("seed %llu event %d: %u admitted within one "
				    "window, limit %u g %u", (unsigned long long)p->seed,
				    e, in_window, k->r.limit, g);
		} else {
			refused++;
		}
		k->next = now + next_gap(&rng, k);
	}

	free_trace();
	rmtable(t);
	return refused;
}

static const uint64_t starts[] = {
	0, 1, 123456789, (1ULL << 32) - 20000, 1ULL << 40,
};

static const uint32_t base_windows[] = { 1000, 7000, 60000, HOUR_MS };

static void test_trace_exact(void **state)
{
	uint64_t seed, refused = 0, total = 0;

	(void)state;
	for (seed = 1; seed <= 40; seed++) {
		struct trace_params p;

		p.seed = seed;
		p.start = starts[seed % 5];
		p.nkeys = 8;
		p.nevents = 4000;
		p.big = false;
		p.limit_cap = WINDOW_SLOTS;
		p.base_window = base_windows[seed % 4];
		refused += run_trace(&p);
		total += (uint64_t)p.nevents;
	}
	/* the traces are meant to sit around the limit: both verdicts */
	assert_true(refused > total / 20);
	assert_true(refused < total - total / 20);
}

/* Long traces: an hour window, few keys, weeks of simulated time, so the
 * table's 32-bit stamps go round (with the sweep as the daemon runs it). */
static void test_trace_exact_long(void **state)
{
	uint64_t seed;

	(void)state;
	for (seed = 100; seed < 104; seed++) {
		struct trace_params p;

		p.seed = seed;
		p.start = starts[seed % 5];
		p.nkeys = 2;
		p.nevents = 3000;
		p.big = false;
		p.limit_cap = 2;
		p.base_window = HOUR_MS;
		run_trace(&p);
	}
}

static void test_trace_big_limits(void **state)
{
	uint64_t seed, refused = 0;

	(void)state;
	for (seed = 1; seed <= 12; seed++) {
		struct trace_params p;

		p.seed = seed + 1000;
		p.start = starts[seed % 5];
		p.nkeys = 4;
		p.nevents = 15000;
		p.big = true;
		p.limit_cap = 0;
		p.base_window = base_windows[seed % 4];
		refused += run_trace(&p);
	}
	assert_true(refused > 0);
}

/* A burst in one millisecond: all of it inside one window. */
static void burst(uint32_t limit, bool cr, uint32_t n, uint32_t *allowed_out)
{
	struct window_table *t = mktable(100);
	struct window_key k = key_n(9, 32);
	struct window_rule r = rule(limit, 60000, cr);
	uint32_t g = group_size(limit), i, allowed = 0;

	for (i = 0; i < n; i++) {
		struct window_result res = check(t, &k, &r, 60000, 5000);
		/* i counted so far when cr, `allowed` when not */
		uint32_t before = cr ? i : allowed;

		if (before < limit && res.verdict != WINDOW_ALLOW)
			fail_msg("limit %u cr %d: call %u refused with %u before",
			    limit, cr, i, before);
		if (before >= limit + g - 1 && res.verdict != WINDOW_REFUSE)
			fail_msg("limit %u cr %d: call %u allowed with %u before",
			    limit, cr, i, before);
		if (res.verdict == WINDOW_ALLOW)
			allowed++;
	}
	*allowed_out = allowed;
	rmtable(t);
}

static void test_big_limit_bursts(void **state)
{
	static const uint32_t limits[] = {
		11, 19, 20, 25, 91, 92, 99, 100, 101, 1000, 4321,
	};
	size_t i;
	uint32_t allowed;

	(void)state;
	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		uint32_t g = group_size(limits[i]);

		burst(limits[i], false, limits[i] * 2 + 50, &allowed);
		assert_in_range(allowed, limits[i], limits[i] + g - 1);
		burst(limits[i], true, limits[i] * 2 + 50, &allowed);
		assert_in_range(allowed, limits[i], limits[i] + g - 1);
	}
	/* the largest limit the header allows */
	burst(WINDOW_LIMIT_MAX, false, WINDOW_LIMIT_MAX + 10000, &allowed);
	assert_in_range(allowed, WINDOW_LIMIT_MAX,
	    WINDOW_LIMIT_MAX + group_size(WINDOW_LIMIT_MAX) - 1);
	burst(WINDOW_LIMIT_MAX, true, WINDOW_LIMIT_MAX + 10000, &allowed);
	assert_in_range(allowed, WINDOW_LIMIT_MAX,
	    WINDOW_LIMIT_MAX + group_size(WINDOW_LIMIT_MAX) - 1);
}

/* ---- (3)(4) counts and key identity ------------------------------------- */

static void test_counts_and_independent_keys(void **state)
{
	struct window_table *t = mktable(1000);
	struct window_key k24 = key_n(0x0a000100, 24), k32 = k24, other = key_n(7, 24);
	struct window_rule r = rule(5, 60000, true);
	uint32_t i;

	(void)state;
	k32.plen = 32;
	for (i = 1; i <= 5; i++)
		expect(t, &k24, &r, 60000, 1000 + i, WINDOW_ALLOW, i);
	expect(t, &k24, &r, 60000, 2000, WINDOW_REFUSE, 6);
	/* same bytes, other plen: a different client */
	for (i = 1; i <= 5; i++)
		expect(t, &k32, &r, 60000, 2000 + i, WINDOW_ALLOW, i);
	expect(t, &k32, &r, 60000, 3000, WINDOW_REFUSE, 6);
	/* and neither touched a third key */
	expect(t, &other, &r, 60000, 3000, WINDOW_ALLOW, 1);
	expect(t, &k24, &r, 60000, 3001, WINDOW_REFUSE, 7);
	rmtable(t);
}

/* ---- (5) a full table ----------------------------------------------------- */

static struct window_stats stats(struct window_table *t)
{
	struct window_stats s;

	memset(&s, 0xee, sizeof(s));
	window_stats(t, &s);
	return s;
}

/* "A table for max_clients keys": that many fit without evicting anyone. */
static void test_holds_max_clients(void **state)
{
	static const size_t sizes[] = { 1, 100, 1000, 5000 };
	size_t z;

	(void)state;
	for (z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		size_t n = sizes[z], i;
		struct window_table *t = mktable(n);
		struct window_rule r = rule(5, HOUR_MS, true);
		struct window_stats s = stats(t);

		assert_true(s.capacity >= n);
		assert_int_equal(s.used, 0);
		assert_int_equal(s.evictions, 0);
		assert_int_equal(s.untracked, 0);
		assert_int_equal(s.expired, 0);
		for (i = 0; i < n; i++) {
			struct window_key k = key_n((uint32_t)i * 2654435761u, 64);
			struct window_result res = check(t, &k, &r, HOUR_MS, 1000 + i);

			if (res.verdict != WINDOW_ALLOW || res.count != 1)
				fail_msg("table for %zu: key %zu got %s count %u", n, i,
				    vname(res.verdict), res.count);
		}
		s = stats(t);
		if (s.used != n || s.evictions != 0 || s.untracked != 0)
			fail_msg("table for %zu holding %zu keys: used %llu evictions "
			    "%llu untracked %llu (capacity %llu)", n, n,
			    (unsigned long long)s.used, (unsigned long long)s.evictions,
			    (unsigned long long)s.untracked,
			    (unsigned long long)s.capacity);
		/* every one is still there: its second connection counts 2 */
		for (i = 0; i < n; i++) {
			struct window_key k = key_n((uint32_t)i * 2654435761u, 64);

			expect(t, &k, &r, HOUR_MS, 100000 + i, WINDOW_ALLOW, 2);
		}
		rmtable(t);
	}
}

static void at_limit_never_evicted(bool cr)
{
	struct window_table *t = mktable(100);
	struct window_key a = key_n(0xabcdef, 64);
	struct window_rule ra = rule(3, HOUR_MS, cr), rb = rule(1000, HOUR_MS, true);
	struct window_stats s = stats(t);
	uint64_t cap = s.capacity, i, nalloc = 0, nuntr = 0, now = 10000;
	uint32_t a_count = 4;

	expect(t, &a, &ra, HOUR_MS, now, WINDOW_ALLOW, 1);
	expect(t, &a, &ra, HOUR_MS, now, WINDOW_ALLOW, 2);
	expect(t, &a, &ra, HOUR_MS, now, WINDOW_ALLOW, 3);
	for (i = 0; i < 5 * cap; i++) {
		struct window_key k = key_n((uint32_t)(i + 1) * 40503u, 64);
		struct window_result res = check(t, &k, &rb, HOUR_MS, ++now);

		if (res.verdict == WINDOW_ALLOW && res.count == 1)
			nalloc++;
		else if (res.verdict == WINDOW_UNTRACKED)
			nuntr++;
		else
			fail_msg("new key %llu: %s count %u", (unsigned long long)i,
			    vname(res.verdict), res.count);
		if (i % 10 == 0) {
			/* a is at its limit: it must stay tracked and refused
			 * (its count is exact while the ring can hold it) */
			if (a_count <= WINDOW_SLOTS)
				expect(t, &a, &ra, HOUR_MS, now, WINDOW_REFUSE, a_count);
			else
				expect_range(t, &a, &ra, HOUR_MS, now, WINDOW_REFUSE,
				    4, a_count);
			if (cr)
				a_count++;
		}
	}
	s = stats(t);
	assert_int_equal(s.capacity, cap);
	assert_true(s.used <= cap);
	assert_int_equal(s.untracked, nuntr);
	/* nothing was idle: every entry given up was an eviction */
	assert_int_equal(s.expired, 0);
	assert_int_equal(s.used + s.evictions, nalloc + 1);
	assert_true(s.evictions >= nalloc + 1 - cap);
	/* with a the only entry at its limit there is room: at most an unlucky
	 * sample may let a client through untracked, not most of them */
	assert_true(nuntr * 4 < 5 * cap);
	rmtable(t);
}

static void test_at_limit_never_evicted(void **state)
{
	(void)state;
	at_limit_never_evicted(true);
	at_limit_never_evicted(false);
}

static void test_untracked_when_all_at_limit(void **state)
{
	struct window_table *t = mktable(100);
	struct window_rule r = rule(1, HOUR_MS, false);
	struct window_stats s = stats(t);
	uint64_t cap = s.capacity, n = 3 * cap, i, nallow = 0, nuntr = 0;
	uint64_t now = 50000, later;
	bool *tracked = keep(calloc(n, sizeof(bool)));
	uint64_t ev0;

	(void)state;
	assert_non_null(tracked);
	for (i = 0; i < n; i++) {
		struct window_key k = key_n((uint32_t)i * 7919u + 1, 64);
		struct window_result res = check(t, &k, &r, HOUR_MS, now + i);

		if (res.verdict == WINDOW_ALLOW && res.count == 1) {
			nallow++;
			tracked[i] = true;
		} else if (res.verdict == WINDOW_UNTRACKED) {
			nuntr++;
		} else {
			fail_msg("key %llu: %s count %u", (unsigned long long)i,
			    vname(res.verdict), res.count);
		}
	}
	s = stats(t);
	assert_true(nuntr >= n - cap);
	assert_true(nallow >= 100);		/* a table for 100 keys */
	assert_int_equal(s.used, nallow);
	assert_int_equal(s.evictions, 0);	/* everyone is at the limit */
	assert_int_equal(s.expired, 0);
	assert_int_equal(s.untracked, nuntr);

	/* again: tracked ones are refused, the rest still find no room */
	for (i = 0; i < n; i++) {
		struct window_key k = key_n((uint32_t)i * 7919u + 1, 64);
		struct window_result res = check(t, &k, &r, HOUR_MS, now + n + i);

		if (tracked[i] && (res.verdict != WINDOW_REFUSE || res.count != 2))
			fail_msg("tracked key %llu: %s count %u, want REFUSE 2",
			    (unsigned long long)i, vname(res.verdict), res.count);
		if (!tracked[i] && res.verdict != WINDOW_UNTRACKED)
			fail_msg("untracked key %llu: %s, want UNTRACKED",
			    (unsigned long long)i, vname(res.verdict));
	}
	s = stats(t);
	assert_int_equal(s.untracked, 2 * nuntr);
	assert_int_equal(s.used, nallow);
	assert_int_equal(s.evictions, 0);

	/* an hour after the last connection of any kind everything is idle:
	 * a newcomer takes an idle entry */
	later = now + 2 * n + HOUR_MS;
	ev0 = s.evictions + s.expired;
	{
		struct window_key k = key_n(0xfeedf00d, 64);

		expect(t, &k, &r, HOUR_MS, later, WINDOW_ALLOW, 1);
	}
	s = stats(t);
	assert_int_equal(s.used, nallow);
	assert_int_equal(s.evictions + s.expired, ev0 + 1);
	assert_int_equal(s.untracked, 2 * nuntr);
	/* the old clients come back: nothing of theirs is in the window, so
	 * each starts afresh (one of them may have lost its entry to the
	 * newcomer and find none left) */
	{
		uint64_t fresh = 0, other = 0;

		for (i = 0; i < n; i++) {
			struct window_key k = key_n((uint32_t)i * 7919u + 1, 64);
			struct window_result res;

			if (!tracked[i])
				continue;
			res = check(t, &k, &r, HOUR_MS, later + 1);
			if (res.verdict == WINDOW_ALLOW && res.count == 1)
				fresh++;
			else if (res.verdict == WINDOW_UNTRACKED)
				other++;
			else
				fail_msg("returning key %llu: %s count %u",
				    (unsigned long long)i, vname(res.verdict),
				    res.count);
		}
		assert_true(other <= 1);
		assert_int_equal(fresh + other, nallow);
	}
	unkeep(tracked);
	rmtable(t);
}

static void test_memory(void **state)
{
	struct window_table *small = mktable(100), *big = mktable(100000);
	struct window_stats s1 = stats(small), s2 = stats(big);

	(void)state;
	/* at least WINDOW_SLOTS 32-bit stamps per entry */
	assert_true(window_memory(small) >= s1.capacity * WINDOW_SLOTS * 4);
	assert_true(window_memory(big) >= s2.capacity * WINDOW_SLOTS * 4);
	assert_true(window_memory(big) > window_memory(small));
	rmtable(small);
	rmtable(big);
}

/* ---- (6) sweep ------------------------------------------------------------ */

static void test_sweep_idle_not_live(void **state)
{
	struct window_table *t = mktable(1000);
	struct window_rule ri = rule(5, 60000, true), rl = rule(1, 60000, true);
	struct window_stats s;
	uint32_t i;
	uint64_t now;

	(void)state;
	for (i = 0; i < 50; i++) {
		struct window_key k = key_n(1000 + i, 64);

		expect(t, &k, &ri, 60000, 1000 + i, WINDOW_ALLOW, 1);
	}
	for (i = 0; i < 50; i++) {
		struct window_key k = key_n(2000 + i, 64);

		expect(t, &k, &rl, 60000, 41000 + i, WINDOW_ALLOW, 1);
	}
	/* 1 ms before the first idle key's connection leaves its window */
	assert_int_equal(window_sweep(t, 60000, 60999, 1000, NULL, NULL), 0);
	s = stats(t);
	assert_int_equal(s.used, 100);
	assert_int_equal(s.expired, 0);

	/* all 50 first ones idle, the others live */
	now = 1049 + 60000 + 1;
	assert_int_equal(window_sweep(t, 60000, now, 1000, NULL, NULL), 50);
	s = stats(t);
	assert_int_equal(s.used, 50);
	assert_int_equal(s.expired, 50);
	assert_int_equal(window_sweep(t, 60000, now, 1000, NULL, NULL), 0);
	s = stats(t);
	assert_int_equal(s.expired, 50);

	/* the live ones kept their state */
	for (i = 0; i < 50; i++) {
		struct window_key k = key_n(2000 + i, 64);

		expect(t, &k, &rl, 60000, now, WINDOW_REFUSE, 2);
	}
	rmtable(t);
}

static void test_sweep_budget(void **state)
{
	struct window_table *t = mktable(1000);
	struct window_rule r = rule(5, 60000, true);
	size_t got = 0, calls;
	uint32_t i;

	(void)state;
	for (i = 0; i < 50; i++) {
		struct window_key k = key_n(3000 + i, 64);

		expect(t, &k, &r, 60000, 1000, WINDOW_ALLOW, 1);
	}
	assert_int_equal(window_sweep(t, 60000, 500000, 0, NULL, NULL), 0);
	assert_int_equal(stats(t).used, 50);
	for (calls = 0; calls < 100000 && got < 50; calls++) {
		size_t n = window_sweep(t, 60000, 500000, 1, NULL, NULL);

		got += n;
	}
	assert_int_equal(got, 50);
	for (calls = 0; calls < 1000; calls++)
		assert_int_equal(window_sweep(t, 60000, 500000, 1, NULL, NULL), 0);
	assert_int_equal(stats(t).used, 0);
	assert_int_equal(stats(t).expired, 50);
	rmtable(t);
}

/* ---- (7) threads ------------------------------------------------------------ */

#define NTHREADS 4
#define NDEDICATED 8

struct exact_shared {
	struct window_table *t;
	_Atomic uint64_t clock;
};

struct exact_thread {
	struct exact_shared *sh;
	uint64_t seed;
	int iters;
	/* results, read by the main thread after join */
	uint32_t ded_allow[NDEDICATED];
	uint32_t ded_seen[NDEDICATED][WINDOW_SLOTS + 2];
	uint32_t hot_allow, hot_calls;
	uint32_t bad;		/* invalid verdicts or counts */
};

static const struct window_rule ded_rule_cr = { 10, HOUR_MS, true, false, false };
static const struct window_rule ded_rule_nc = { 10, HOUR_MS, false, false, false };
static const struct window_rule hot_rule = { 1000, HOUR_MS, false, false, false };
static const struct window_rule pool_rule = { 50, HOUR_MS, true, false, false };

static void *exact_worker(void *arg)
{
	struct exact_thread *me = arg;
	uint64_t rng = me->seed;
	int i;

	for (i = 0; i < me->iters; i++) {
		uint64_t now = atomic_fetch_add(&me->sh->clock, 1);
		uint64_t pick = unit_below(&rng, 4);
		struct window_result res;
		struct window_key k;

		if (pick == 0) {
			uint32_t d = (uint32_t)unit_below(&rng, NDEDICATED);

			k = key_n(0xd0000000u + d, 128);
			window_check(me->sh->t, &k, (d & 1) ? &ded_rule_cr : &ded_rule_nc,
			    HOUR_MS, now, &res);
			if (res.verdict == WINDOW_ALLOW) {
				me->ded_allow[d]++;
				if (res.count >= 1 && res.count <= WINDOW_SLOTS)
					me->ded_seen[d][res.count]++;
				else
					me->bad++;
			} else if (res.verdict != WINDOW_REFUSE || res.count <= 10) {
				me->bad++;
			}
		} else if (pick == 1) {
			k = key_n(0x40000000u, 128);
			window_check(me->sh->t, &k, &hot_rule, HOUR_MS, now, &res);
			me->hot_calls++;
			if (res.verdict == WINDOW_ALLOW)
				me->hot_allow++;
			else if (res.verdict != WINDOW_REFUSE)
				me->bad++;
		} else {
			k = key_n((uint32_t)unit_below(&rng, 512), 64);
			window_check(me->sh->t, &k, &pool_rule, HOUR_MS, now, &res);
			if (res.verdict == WINDOW_ALLOW) {
				if (res.count < 1 || res.count > 50)
					me->bad++;
			} else if (res.verdict != WINDOW_REFUSE || res.count <= 50) {
				me->bad++;
			}
		}
	}
	return NULL;
}

static void test_threads_exact_totals(void **state)
{
	struct exact_shared sh;
	struct exact_thread th[NTHREADS];
	pthread_t tid[NTHREADS];
	uint32_t d, c, hot_allow = 0, hot_calls = 0;
	struct window_stats s;
	int i;

	(void)state;
	sh.t = mktable(4096);
	atomic_init(&sh.clock, 1000000);
	memset(th, 0, sizeof(th));
	for (i = 0; i < NTHREADS; i++) {
		th[i].sh = &sh;
		th[i].seed = 77 + (uint64_t)i;
		th[i].iters = 20000;
		assert_int_equal(pthread_create(&tid[i], NULL, exact_worker, &th[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_join(tid[i], NULL), 0);

	for (i = 0; i < NTHREADS; i++) {
		assert_int_equal(th[i].bad, 0);
		hot_allow += th[i].hot_allow;
		hot_calls += th[i].hot_calls;
	}
	for (d = 0; d < NDEDICATED; d++) {
		uint32_t allow = 0;

		for (i = 0; i < NTHREADS; i++)
			allow += th[i].ded_allow[d];
		if (allow != 10)
			fail_msg("dedicated key %u: %u allowed, want 10", d, allow);
		/* counts 1..10 each handed out exactly once */
		for (c = 1; c <= WINDOW_SLOTS; c++) {
			uint32_t seen = 0;

			for (i = 0; i < NTHREADS; i++)
				seen += th[i].ded_seen[d][c];
			if (seen != 1)
				fail_msg("dedicated key %u: count %u seen %u times", d, c, seen);
		}
	}
	assert_true(hot_calls > 1100);
	assert_in_range(hot_allow, 1000, 1000 + group_size(1000) - 1);
	s = stats(sh.t);
	assert_int_equal(s.evictions, 0);
	assert_int_equal(s.untracked, 0);
	assert_int_equal(s.used, NDEDICATED + 1 + 512);
	rmtable(sh.t);
}

struct hammer_thread {
	struct window_table *t;
	_Atomic uint64_t *clock;
	uint64_t seed;
	int iters;
	bool sweeper;
	uint64_t untracked, bad;
};

static void *hammer_worker(void *arg)
{
	struct hammer_thread *me = arg;
	uint64_t rng = me->seed;
	int i;

	for (i = 0; i < me->iters; i++) {
		uint64_t now = atomic_fetch_add(me->clock, unit_below(&rng, 4));
		uint32_t n = (uint32_t)unit_below(&rng, 5000);
		struct window_key k = key_n(n, (uint8_t)(n % 3 == 0 ? 32 : 64));
		struct window_rule r = rule(1 + n % 20, 1000 * (1 + n % 10), (n & 1) != 0);
		struct window_result res;

		window_check(me->t, &k, &r, 10000, now, &res);
		switch (res.verdict) {
		case WINDOW_ALLOW:
			if (res.count < 1 || res.count > r.limit)
				me->bad++;
			break;
		case WINDOW_REFUSE:
			if (res.count <= r.limit)
				me->bad++;
			break;
		case WINDOW_UNTRACKED:
			me->untracked++;
			break;
		default:
			me->bad++;
		}
		if (me->sweeper && i % 500 == 0) {
			struct window_stats s;

			window_sweep(me->t, 10000, now, 16, NULL, NULL);
			window_stats(me->t, &s);
			if (s.used > s.capacity)
				me->bad++;
		}
	}
	return NULL;
}

static void test_threads_hammer_small_table(void **state)
{
	_Atomic uint64_t clock;
	struct hammer_thread th[NTHREADS];
	pthread_t tid[NTHREADS];
	struct window_table *t = mktable(100);
	struct window_stats s;
	uint64_t untracked = 0;
	int i;

	(void)state;
	atomic_init(&clock, 5000);
	memset(th, 0, sizeof(th));
	for (i = 0; i < NTHREADS; i++) {
		th[i].t = t;
		th[i].clock = &clock;
		th[i].seed = 1234 + (uint64_t)i;
		th[i].iters = 25000;
		th[i].sweeper = i == 0;
		assert_int_equal(pthread_create(&tid[i], NULL, hammer_worker, &th[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_join(tid[i], NULL), 0);
	for (i = 0; i < NTHREADS; i++) {
		assert_int_equal(th[i].bad, 0);
		untracked += th[i].untracked;
	}
	s = stats(t);
	assert_true(s.used <= s.capacity);
	assert_int_equal(s.untracked, untracked);
	/* 5000 keys into ~100 entries: entries changed hands */
	assert_true(s.evictions + s.expired > 0);
	rmtable(t);
}

/* ---- (8) time going slightly backwards ------------------------------------ */

static void test_time_backwards(void **state)
{
	struct window_table *t = mktable(1000);
	struct window_key k = key_n(1, 128), k2 = key_n(2, 128);
	struct window_rule r = rule(3, 1000, false), r1 = rule(1, 60000, true);

	(void)state;
	expect(t, &k, &r, 1000, 10000, WINDOW_ALLOW, 1);
	expect(t, &k, &r, 1000, 9995, WINDOW_ALLOW, 2);
	expect(t, &k, &r, 1000, 9990, WINDOW_ALLOW, 3);
	expect(t, &k, &r, 1000, 10000, WINDOW_REFUSE, 4);
	/* a late-locking thread with an older clock reading: three recent
	 * connections are still recent, not "in the future, so expired" */
	expect(t, &k, &r, 1000, 9990, WINDOW_REFUSE, 4);
	expect(t, &k, &r, 1000, 9900, WINDOW_REFUSE, 4);
	/* once the window has passed everything, a fresh start */
	expect(t, &k, &r, 1000, 11000, WINDOW_ALLOW, 1);

	rmtable(t);

	/* backwards across zero must not wrap either (a table of its own:
	 * the first one's shard clock is at 11000 by now) */
	t = mktable(1000);
	expect(t, &k2, &r1, 60000, 100, WINDOW_ALLOW, 1);
	expect(t, &k2, &r1, 60000, 0, WINDOW_REFUSE, 2);
	expect_range(t, &k2, &r1, 60000, 50, WINDOW_REFUSE, 2, 3);
	expect(t, &k2, &r1, 60000, 60100, WINDOW_ALLOW, 1);
	rmtable(t);
}

/* Jittered clocks inside one window: exactly `limit` get in, counts in order. */
static void test_time_jitter_within_window(void **state)
{
	int cr;

	(void)state;
	for (cr = 0; cr <= 1; cr++) {
		struct window_table *t = mktable(1000);
		struct window_key k = key_n(5, 64);
		struct window_rule r = rule(5, 10000, cr != 0);
		uint64_t rng = 99 + (uint64_t)cr;
		uint32_t i, allowed = 0, last_count = 0;

		for (i = 0; i < 200; i++) {
			uint64_t now = 50000 + (uint64_t)i * 10 - unit_below(&rng, 51);
			struct window_result res = check(t, &k, &r, 10000, now);

			if (res.verdict == WINDOW_ALLOW) {
				allowed++;
				assert_int_equal(res.count, allowed);
			} else {
				assert_int_equal(res.verdict, WINDOW_REFUSE);
				assert_true(res.count > 5);
				/* monotone while nothing leaves the window */
				if (cr)
					assert_true(res.count >= last_count);
			}
			last_count = res.count;
		}
		assert_int_equal(allowed, 5);
		rmtable(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_boundary_window_edge, cleanup),
		cmocka_unit_test_setup(test_boundary_same_ms_burst, cleanup),
		cmocka_unit_test_setup(test_boundary_one_ms_window, cleanup),
		cmocka_unit_test_setup(test_boundary_limit_equals_slots, cleanup),
		cmocka_unit_test_setup(test_boundary_start_at_zero, cleanup),
		cmocka_unit_test_setup(test_boundary_longest_window, cleanup),
		cmocka_unit_test_setup(test_boundary_across_2pow32, cleanup),
		cmocka_unit_test_setup(test_trace_exact, cleanup),
		cmocka_unit_test_setup(test_trace_exact_long, cleanup),
		cmocka_unit_test_setup(test_trace_big_limits, cleanup),
		cmocka_unit_test_setup(test_big_limit_bursts, cleanup),
		cmocka_unit_test_setup(test_counts_and_independent_keys, cleanup),
		cmocka_unit_test_setup(test_holds_max_clients, cleanup),
		cmocka_unit_test_setup(test_at_limit_never_evicted, cleanup),
		cmocka_unit_test_setup(test_untracked_when_all_at_limit, cleanup),
		cmocka_unit_test_setup(test_memory, cleanup),
		cmocka_unit_test_setup(test_sweep_idle_not_live, cleanup),
		cmocka_unit_test_setup(test_sweep_budget, cleanup),
		cmocka_unit_test_setup(test_threads_exact_totals, cleanup),
		cmocka_unit_test_setup(test_threads_hammer_small_table, cleanup),
		cmocka_unit_test_setup(test_time_backwards, cleanup),
		cmocka_unit_test_setup(test_time_jitter_within_window, cleanup),
	};

	return cmocka_run_group_tests_name("window", tests, NULL, cleanup);
}
