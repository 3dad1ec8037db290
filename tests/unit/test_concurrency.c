/*
 * test_concurrency.c: the open-session table behind max_concurrent.
 *
 * Counts go up to the limit and no further, come down on release, never
 * below zero; the table is bounded; a key's slot is reused after it
 * empties (backward-shift deletion keeps the other keys findable); and
 * real threads on the real clock never see a key above its limit.
 */
#include "unit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "concurrency.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_limit_and_release, cleanup),
		cmocka_unit_test_teardown(test_never_negative, cleanup),
		cmocka_unit_test_teardown(test_prefix_key, cleanup),
		cmocka_unit_test_teardown(test_force_counts_over, cleanup),
		cmocka_unit_test_teardown(test_bounded_and_churn, cleanup),
		cmocka_unit_test_teardown(test_threads_never_over, cleanup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
