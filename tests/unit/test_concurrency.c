/*
 * test_concurrency.c: the open-session table behind max_concurrent.
 *
 * Counts go up to the limit and no further, come down on release, never
 * below zero; the table is bounded; a key's slot is reused after it
 * empties (backward-shift deletion keeps the other keys findable); and
 * real threads on the real clock never see a key above its limit.
 * Refusal lines: one per key per window, the rest counted and handed out
 * on the next line, by the sweep once the window has passed, or by the
 * drain at exit; every one at log_all; `now` is passed in, nothing sleeps.
 */
#include "unit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "concurrency.h"

/* conc_acquire_at at time 0, every refusal logged: the counting alone. */
static enum conc_result conc_acquire(struct conc_table *t,
    const struct conc_key *k, uint32_t limit, bool force, uint32_t *open)
{
	struct conc_rule rule = { .limit = limit, .force = force, .log_all = true };
	struct conc_outcome o;
	enum conc_result r = conc_acquire_at(t, k, &rule, 0, &o);

	*open = o.open;
	return r;
}

static struct conc_table *tab;	/* freed by cleanup(), also after a failure */

static int cleanup(void **state)
{
	(void)state;
	conc_destroy(tab);
	tab = NULL;
	return 0;
}

static struct conc_table *mktable(size_t n)
{
	conc_destroy(tab);
	tab = conc_create(n, unit_seed());
	if (tab == NULL)
		fail_msg("conc_create(%zu): %s", n, strerror(errno));
	return tab;
}

static void key4(struct conc_key *k, const char *ip, int plen)
{
	struct addr a;
	char buf[64];

	snprintf(buf, sizeof buf, "::ffff:%s", ip);
	if (inet_pton(AF_INET6, buf, a.b) != 1)
		fail_msg("bad test address %s", ip);
	conc_key_make(k, &a, plen);
}

static void test_limit_and_release(void **state)
{
	struct conc_key k;
	uint32_t open;

	(void)state;
	mktable(100);
	key4(&k, "192.0.2.7", 32);
	for (uint32_t i = 1; i <= 3; i++) {
		assert_int_equal(conc_acquire(tab, &k, 3, false, &open), CONC_COUNTED);
		assert_int_equal(open, i);
	}
	assert_int_equal(conc_acquire(tab, &k, 3, false, &open), CONC_OVER);
	assert_int_equal(open, 3);
	assert_int_equal(conc_open(tab, &k), 3);
	assert_true(conc_release(tab, &k));
	assert_int_equal(conc_acquire(tab, &k, 3, false, &open), CONC_COUNTED);
	assert_int_equal(open, 3);
	/* A lower limit after a reload: the open sessions stay counted, a
	 * new one is refused until enough of them end. */
	assert_int_equal(conc_acquire(tab, &k, 2, false, &open), CONC_OVER);
	for (int i = 0; i < 3; i++)
		assert_true(conc_release(tab, &k));
	assert_int_equal(conc_open(tab, &k), 0);
	assert_int_equal(conc_keys(tab), 0);
}

static void test_never_negative(void **state)
{
	struct conc_key k, other;
	uint32_t open;

	(void)state;
	mktable(100);
	key4(&k, "192.0.2.7", 32);
	key4(&other, "192.0.2.8", 32);
	assert_false(conc_release(tab, &k));
	assert_int_equal(conc_acquire(tab, &k, 1, false, &open), CONC_COUNTED);
	assert_true(conc_release(tab, &k));
	assert_false(conc_release(tab, &k));
	assert_false(conc_release(tab, &other));
	assert_int_equal(conc_open(tab, &k), 0);
	/* Still a limit of one after the refused releases. */
	assert_int_equal(conc_acquire(tab, &k, 1, false, &open), CONC_COUNTED);
	assert_int_equal(conc_acquire(tab, &k, 1, false, &open), CONC_OVER);
}

static void test_prefix_key(void **state)
{
	struct conc_key a, b, c;
	uint32_t open;

	(void)state;
	mktable(100);
	key4(&a, "192.0.2.7", 24);
	key4(&b, "192.0.2.200", 24);
	key4(&c, "192.0.3.7", 24);
	assert_int_equal(conc_acquire(tab, &a, 2, false, &open), CONC_COUNTED);
	assert_int_equal(conc_acquire(tab, &b, 2, false, &open), CONC_COUNTED);
	assert_int_equal(open, 2);
	assert_int_equal(conc_acquire(tab, &c, 2, false, &open), CONC_COUNTED);
	assert_int_equal(open, 1);
	assert_int_equal(conc_acquire(tab, &a, 2, false, &open), CONC_OVER);
}

static void test_force_counts_over(void **state)
{
	struct conc_key k;
	uint32_t open;

	(void)state;
	mktable(100);
	key4(&k, "198.51.100.1", 32);
	assert_int_equal(conc_acquire(tab, &k, 1, true, &open), CONC_COUNTED);
	assert_int_equal(conc_acquire(tab, &k, 1, true, &open), CONC_OVER);
	assert_int_equal(open, 2);
	assert_true(conc_release(tab, &k));
	assert_true(conc_release(tab, &k));
	assert_false(conc_release(tab, &k));
}

/* Bounded: past max_keys distinct keys, a new key is not counted (FULL);
 * emptying keys frees their slots, and every other key stays findable
 * through the deletions. */
static void test_bounded_and_churn(void **state)
{
	enum { N = 64 };
	struct conc_key k[4 * N];
	uint32_t open;
	size_t counted = 0;
	char ip[32];

	(void)state;
	mktable(N);
	for (int i = 0; i < 4 * N; i++) {
		snprintf(ip, sizeof ip, "10.%d.%d.1", i / 256, i % 256);
		key4(&k[i], ip, 32);
		if (conc_acquire(tab, &k[i], 5, false, &open) == CONC_COUNTED)
			counted++;
	}
	assert_true(counted >= N);
	assert_true(counted < 4 * N);
	assert_int_equal(conc_keys(tab), counted);
	/* Free every other counted key; the rest must keep count 1. */
	for (int i = 0; i < 4 * N; i += 2)
		if (conc_open(tab, &k[i]) == 1)
			assert_true(conc_release(tab, &k[i]));
	for (int i = 1; i < 4 * N; i += 2) {
		uint32_t n = conc_open(tab, &k[i]);
		assert_true(n <= 1);
		if (n == 1)
			assert_true(conc_release(tab, &k[i]));
	}
	assert_int_equal(conc_keys(tab), 0);
	/* All the room is back: the same keys fit again (the bound is per
	 * shard, so it is the same set of keys). */
	size_t again = 0;
	for (int i = 0; i < 4 * N; i++)
		if (conc_acquire(tab, &k[i], 5, false, &open) == CONC_COUNTED)
			again++;
	assert_int_equal(again, counted);
}

/* Threads on the real clock: each of THREADS loops acquire / hold /
 * release over KEYS keys; a shadow counter per key, changed only while a
 * count is held, must never exceed LIMIT, and every count is back at 0. */
#define THREADS 8
#define KEYS 4
#define LIMIT 3
#define ROUNDS 20000
static atomic_int shadow[KEYS];
static atomic_int worst;
static struct conc_key tkeys[KEYS];

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;

	for (int r = 0; r < ROUNDS; r++) {
		int i = (int)(rand_r(&seed) % KEYS);
		uint32_t open;

		if (conc_acquire(tab, &tkeys[i], LIMIT, false, &open) != CONC_COUNTED)
			continue;
		int now = atomic_fetch_add(&shadow[i], 1) + 1;
		int w = atomic_load(&worst);
		while (now > w && !atomic_compare_exchange_weak(&worst, &w, now))
			;
		if (open > LIMIT)
			atomic_store(&worst, 1000);
		sched_yield();
		atomic_fetch_sub(&shadow[i], 1);
		if (!conc_release(tab, &tkeys[i]))
			atomic_store(&worst, 2000);
	}
	return NULL;
}

static void test_threads_never_over(void **state)
{
	pthread_t th[THREADS];
	char ip[32];

	(void)state;
	mktable(16);
	for (int i = 0; i < KEYS; i++) {
		snprintf(ip, sizeof ip, "203.0.113.%d", i + 1);
		key4(&tkeys[i], ip, 32);
	}
	for (uintptr_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker, (void *)(i + 1)), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	assert_true(atomic_load(&worst) >= 1);
	assert_true(atomic_load(&worst) <= LIMIT);
	for (int i = 0; i < KEYS; i++)
		assert_int_equal(conc_open(tab, &tkeys[i]), 0);
	assert_int_equal(conc_keys(tab), 0);
}

/* --- refusal lines -------------------------------------------------- */

#define W 60000u	/* the window, ms */

static struct conc_due dues[16];
static size_t ndues;

static void collect(const struct conc_due *d, void *arg)
{
	(void)arg;
	if (ndues == sizeof dues / sizeof dues[0])
		fail_msg("more dues than expected");
	dues[ndues++] = *d;
}

/* One acquire of k at now; returns the outcome, checks the result. */
static struct conc_outcome acq(const struct conc_key *k, uint32_t limit,
    bool force, bool log_all, uint64_t now, enum conc_result want)
{
	struct conc_rule rule = { .limit = limit, .force = force,
	    .log_all = log_all, .window_ms = W };
	struct conc_outcome o;
	enum conc_result r = conc_acquire_at(tab, k, &rule, now, &o);

	if (r != want)
		fail_msg("acquire at %llu: result %d, want %d",
		    (unsigned long long)now, (int)r, (int)want);
	return o;
}

#define expect_line(o_, supp_) do {					\
	struct conc_outcome o2_ = (o_);					\
	if (!o2_.log || o2_.suppressed != (supp_))			\
		fail_msg("line %d: log %d suppressed %u, want a line with " \
		    "suppressed %u", __LINE__, o2_.log, o2_.suppressed,	\
		    (unsigned)(supp_));					\
} while (0)
#define expect_quiet(o_) do {						\
	if ((o_).log)							\
		fail_msg("line %d: a line, want none", __LINE__);	\
} while (0)

static void test_one_line_per_window(void **state)
{
	struct conc_key a, b;

	(void)state;
	mktable(100);
	ndues = 0;
	key4(&a, "192.0.2.7", 32);
	key4(&b, "192.0.2.8", 32);
	acq(&a, 1, false, false, 1000, CONC_COUNTED);
	acq(&b, 1, false, false, 1000, CONC_COUNTED);
	expect_line(acq(&a, 1, false, false, 1000, CONC_OVER), 0);
	for (uint64_t t = 1001; t < 1000 + W; t += W / 4)
		expect_quiet(acq(&a, 1, false, false, t, CONC_OVER));
	expect_quiet(acq(&a, 1, false, false, 1000 + W - 1, CONC_OVER));
	/* another key has its own line */
	expect_line(acq(&b, 1, false, false, 2000, CONC_OVER), 0);
	/* the window passed: a line, carrying the 5 not logged */
	expect_line(acq(&a, 1, false, false, 1000 + W, CONC_OVER), 5);
	expect_quiet(acq(&a, 1, false, false, 1000 + W + 1, CONC_OVER));
	/* a session let in is no refusal: no line, no count */
	assert_true(conc_release(tab, &a));
	acq(&a, 1, false, false, 1000 + W + 2, CONC_COUNTED);
	conc_sweep(tab, 1000 + 2 * W, collect, NULL);
	assert_int_equal(ndues, 1);
	assert_int_equal(dues[0].suppressed, 1);
	assert_false(dues[0].would);
}

static void test_sweep_summary(void **state)
{
	struct conc_key a;

	(void)state;
	mktable(100);
	ndues = 0;
	key4(&a, "192.0.2.9", 32);
	acq(&a, 1, false, false, 5000, CONC_COUNTED);
	expect_line(acq(&a, 1, false, false, 5000, CONC_OVER), 0);
	expect_quiet(acq(&a, 1, false, false, 5100, CONC_OVER));
	expect_quiet(acq(&a, 1, false, false, 5200, CONC_OVER));
	/* the window runs: nothing handed out yet */
	conc_sweep(tab, 5000 + W - 1, collect, NULL);
	assert_int_equal(ndues, 0);
	/* passed: one summary with both, and once only */
	conc_sweep(tab, 5000 + W, collect, NULL);
	assert_int_equal(ndues, 1);
	assert_int_equal(dues[0].suppressed, 2);
	assert_memory_equal(&dues[0].key, &a, sizeof a);
	conc_sweep(tab, 5000 + 2 * W, collect, NULL);
	assert_int_equal(ndues, 1);
	/* the mark went with it: the next refusal has its line, no count */
	expect_line(acq(&a, 1, false, false, 5000 + 2 * W, CONC_OVER), 0);
}

/* A key whose sessions all end keeps its slot while its mark's window
 * runs or a count waits: closing does not buy a second line, and the
 * count is not lost; the sweep then frees the slot. */
static void test_release_keeps_mark(void **state)
{
	struct conc_key a;

	(void)state;
	mktable(100);
	ndues = 0;
	key4(&a, "192.0.2.10", 32);
	acq(&a, 1, false, false, 1000, CONC_COUNTED);
	expect_line(acq(&a, 1, false, false, 1000, CONC_OVER), 0);
	expect_quiet(acq(&a, 1, false, false, 1001, CONC_OVER));
	assert_true(conc_release(tab, &a));
	assert_int_equal(conc_open(tab, &a), 0);
	assert_int_equal(conc_keys(tab), 1);	/* kept: a count waits */
	assert_false(conc_release(tab, &a));	/* but holds no session */
	acq(&a, 1, false, false, 2000, CONC_COUNTED);
	expect_quiet(acq(&a, 1, false, false, 2001, CONC_OVER));
	assert_true(conc_release(tab, &a));
	conc_sweep(tab, 1000 + W, collect, NULL);
	assert_int_equal(ndues, 1);
	assert_int_equal(dues[0].suppressed, 2);
	assert_int_equal(conc_keys(tab), 0);	/* freed with its mark */
	/* a mark with no count left is freed too, with no summary */
	acq(&a, 1, false, false, 3 * W, CONC_COUNTED);
	expect_line(acq(&a, 1, false, false, 3 * W, CONC_OVER), 0);
	assert_true(conc_release(tab, &a));
	assert_int_equal(conc_keys(tab), 1);
	conc_sweep(tab, 4 * W, collect, NULL);
	assert_int_equal(ndues, 1);
	assert_int_equal(conc_keys(tab), 0);
}

/* At exit every count waiting goes out, window passed or not; after it,
 * every refusal has its line. */
static void test_drain(void **state)
{
	struct conc_key k[3];
	uint64_t total = 0;

	(void)state;
	mktable(100);
	ndues = 0;
	for (int i = 0; i < 3; i++) {
		char ip[32];

		snprintf(ip, sizeof ip, "192.0.2.%d", 20 + i);
		key4(&k[i], ip, 32);
		acq(&k[i], 1, false, false, 1000, CONC_COUNTED);
		expect_line(acq(&k[i], 1, false, false, 1000, CONC_OVER), 0);
		for (int j = 0; j <= i; j++)
			expect_quiet(acq(&k[i], 1, false, false, 1001, CONC_OVER));
	}
	conc_drain(tab, collect, NULL);
	assert_int_equal(ndues, 3);
	for (size_t i = 0; i < ndues; i++)
		total += dues[i].suppressed;
	assert_int_equal(total, 1 + 2 + 3);
	expect_line(acq(&k[0], 1, false, false, 1002, CONC_OVER), 0);
	expect_line(acq(&k[0], 1, false, false, 1003, CONC_OVER), 0);
	conc_drain(tab, collect, NULL);
	assert_int_equal(ndues, 3);
}

/* log_all (log level debug): every refusal its line, and one counted
 * before under a quieter level is carried on the first. */
static void test_log_all(void **state)
{
	struct conc_key a;

	(void)state;
	mktable(100);
	key4(&a, "192.0.2.30", 32);
	acq(&a, 1, false, false, 1000, CONC_COUNTED);
	expect_line(acq(&a, 1, false, false, 1000, CONC_OVER), 0);
	expect_quiet(acq(&a, 1, false, false, 1001, CONC_OVER));
	expect_line(acq(&a, 1, false, true, 1002, CONC_OVER), 1);
	expect_line(acq(&a, 1, false, true, 1003, CONC_OVER), 0);
	expect_line(acq(&a, 1, false, true, 1004, CONC_OVER), 0);
}

/* mode log: counted all the same, lines and summaries alike, and the
 * summary says "would". */
static void test_would(void **state)
{
	struct conc_key a;
	struct conc_outcome o;

	(void)state;
	mktable(100);
	ndues = 0;
	key4(&a, "192.0.2.40", 32);
	acq(&a, 1, true, false, 1000, CONC_COUNTED);
	o = acq(&a, 1, true, false, 1000, CONC_OVER);
	expect_line(o, 0);
	assert_int_equal(o.open, 2);
	expect_quiet(acq(&a, 1, true, false, 1001, CONC_OVER));
	assert_int_equal(conc_open(tab, &a), 3);
	for (int i = 0; i < 3; i++)
		assert_true(conc_release(tab, &a));
	conc_sweep(tab, 1000 + W, collect, NULL);
	assert_int_equal(ndues, 1);
	assert_true(dues[0].would);
	assert_int_equal(dues[0].suppressed, 1);
	assert_int_equal(conc_keys(tab), 0);
}

/* Many keys with counts waiting in one sweep: more than one batch, all
 * handed out, none twice, every slot freed (removal inside the scan). */
static size_t nbig;
static uint64_t bigsum;

static void count_big(const struct conc_due *d, void *arg)
{
	(void)arg;
	nbig++;
	bigsum += d->suppressed;
}

static void test_sweep_many(void **state)
{
	struct conc_key k[300];

	(void)state;
	mktable(1000);
	for (int i = 0; i < 300; i++) {
		char ip[32];

		snprintf(ip, sizeof ip, "10.0.%d.%d", i / 100, i % 100);
		key4(&k[i], ip, 32);
		acq(&k[i], 1, false, false, 1000, CONC_COUNTED);
		expect_line(acq(&k[i], 1, false, false, 1000, CONC_OVER), 0);
		expect_quiet(acq(&k[i], 1, false, false, 1001, CONC_OVER));
		expect_quiet(acq(&k[i], 1, false, false, 1002, CONC_OVER));
		assert_true(conc_release(tab, &k[i]));
	}
	assert_int_equal(conc_keys(tab), 300);
	nbig = 0;
	bigsum = 0;
	conc_sweep(tab, 1000 + W, count_big, NULL);
	assert_int_equal(nbig, 300);
	assert_int_equal(bigsum, 600);
	assert_int_equal(conc_keys(tab), 0);
}

/* Attack (review): a client that closes all its sessions leaves only a
 * mark; marks from clients with nothing open must not crowd out a new
 * client and let it past its limit.  Fills a small table with keys that
 * each hit limit 1 once, then closed everything. */
static void test_marks_do_not_fail_open(void **state)
{
	struct conc_key k, v;
	char ip[32];
	int i;

	(void)state;
	mktable(64);
	for (i = 0; i < 4000 && conc_keys(tab) < 64; i++) {
		snprintf(ip, sizeof ip, "198.51.%d.%d", i / 250, i % 250 + 1);
		key4(&k, ip, 32);
		if (conc_acquire(tab, &k, 1, false, &(uint32_t){0}) != CONC_COUNTED)
			continue;
		(void)acq(&k, 1, false, false, 1000, CONC_OVER);
		assert_true(conc_release(tab, &k));
	}
	/* no session is open anywhere; a victim key now */
	key4(&v, "203.0.113.7", 32);
	acq(&v, 1, false, false, 1001, CONC_COUNTED);
	acq(&v, 1, false, false, 1002, CONC_OVER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_limit_and_release, cleanup),
		cmocka_unit_test_teardown(test_never_negative, cleanup),
		cmocka_unit_test_teardown(test_prefix_key, cleanup),
		cmocka_unit_test_teardown(test_force_counts_over, cleanup),
		cmocka_unit_test_teardown(test_bounded_and_churn, cleanup),
		cmocka_unit_test_teardown(test_threads_never_over, cleanup),
		cmocka_unit_test_teardown(test_one_line_per_window, cleanup),
		cmocka_unit_test_teardown(test_sweep_summary, cleanup),
		cmocka_unit_test_teardown(test_release_keeps_mark, cleanup),
		cmocka_unit_test_teardown(test_drain, cleanup),
		cmocka_unit_test_teardown(test_log_all, cleanup),
		cmocka_unit_test_teardown(test_would, cleanup),
		cmocka_unit_test_teardown(test_sweep_many, cleanup),
		cmocka_unit_test_teardown(test_marks_do_not_fail_open, cleanup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
