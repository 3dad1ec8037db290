/*
 * test_window_clock.c: threads whose clock readings cross (window.h, "Time").
 *
 * Every caller reads the clock before it takes a shard lock, so a thread
 * can arrive with a `now` older than a slot another thread stored a moment
 * ago.  Such a caller must see the entry as recent, never as idle: the
 * sweep must not release it and eviction must not take an entry at its
 * limit.  The first tests replay the two orders found by review with
 * fixed times; the last one runs real threads on the real clock and
 * asserts the promise itself: no offender at its limit gets in again.
 */
#include "unit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "window.h"

#define HOUR_MS 3600000u

static struct window_key key_n(uint32_t n)
{
	struct window_key k;

	memset(&k, 0, sizeof k);
	k.b[0] = 0x20;
	k.b[1] = 0x01;
	k.b[12] = (uint8_t)(n >> 24);
	k.b[13] = (uint8_t)(n >> 16);
	k.b[14] = (uint8_t)(n >> 8);
	k.b[15] = (uint8_t)n;
	k.plen = 64;
	return k;
}

/* count_refused on, the default: every refusal stores a fresh slot, so an
 * offender's newest slot is as recent as its last attempt. */
static struct window_result check(const struct window_key *k, uint32_t limit,
    uint64_t now)
{
	struct window_rule r = { .limit = limit, .window_ms = HOUR_MS, .count_refused = true };
	struct window_result res;

	window_check(unit_tab, k, &r, HOUR_MS, now, &res);
	return res;
}

/* A client over its limit, then a sweep whose clock was read 1 ms before
 * the client's last connection: the client must still be refused, its
 * count intact. */
static void test_sweep_with_older_clock(void **state)
{
	struct window_key k = key_n(7);
	struct window_result r;
	uint64_t t0 = 5000000;

	(void)state;
	unit_mktable(1000);
	for (unsigned i = 1; i <= 3; i++) {
		r = check(&k, 3, t0 + i);
		assert_int_equal(r.verdict, WINDOW_ALLOW);
	}
	r = check(&k, 3, t0 + 4);
	assert_int_equal(r.verdict, WINDOW_REFUSE);
	assert_int_equal(r.count, 4);

	/* The control thread read the clock at t0 + 3, then swept. */
	assert_int_equal(window_sweep(unit_tab, HOUR_MS, t0 + 3, 100000, NULL, NULL), 0);

	r = check(&k, 3, t0 + 5);
	assert_int_equal(r.verdict, WINDOW_REFUSE);
	assert_int_equal(r.count, 5);
}

/* A full one-shard table whose every entry but one is at its limit; the
 * newcomer's clock is 1 ms older than the newest slot.  Eviction may only
 * take the one entry under its limit, never one at it. */
static void test_evict_with_older_clock(void **state)
{
	struct window_stats s;
	struct window_result r;
	uint64_t now = 9000000;
	uint32_t cap, i;

	(void)state;
	unit_mktable(64);
	window_stats(unit_tab, &s);
	cap = (uint32_t)s.capacity;
	/* Every entry at limit 1, the last one stored at `now`. */
	for (i = 0; i < cap; i++) {
		struct window_key k = key_n(100 + i);
		r = check(&k, 1, now);
		assert_int_equal(r.verdict, WINDOW_ALLOW);
	}
	/* A newcomer with an older clock finds no room: untracked, and
	 * nobody at the limit was dropped for it. */
	struct window_key n = key_n(99999);
	for (i = 0; i < 200; i++) {
		r = check(&n, 1, now - 1);
		assert_int_equal(r.verdict, WINDOW_UNTRACKED);
	}
	window_stats(unit_tab, &s);
	assert_int_equal(s.expired, 0);
	assert_int_equal(s.evictions, 0);
	assert_int_equal(s.used, cap);
	/* ... and every one of them is still refused. */
	for (i = 0; i < cap; i++) {
		struct window_key k = key_n(100 + i);
		r = check(&k, 1, now + 1);
		assert_int_equal(r.verdict, WINDOW_REFUSE);
	}
}

/* The sweep never moves a shard's clock backwards for a later caller
 * either: after a sweep at a newer time, a check with an older reading is
 * counted as of the newer time (entries never look "in the future"). */
static void test_sweep_then_older_check(void **state)
{
	struct window_key k = key_n(8);
	struct window_result r;

	(void)state;
	unit_mktable(1000);
	r = check(&k, 2, 1000000);
	assert_int_equal(r.verdict, WINDOW_ALLOW);
	window_sweep(unit_tab, HOUR_MS, 1000010, 100000, NULL, NULL);
	r = check(&k, 2, 999990);
	assert_int_equal(r.verdict, WINDOW_ALLOW);
	assert_int_equal(r.count, 2);
	r = check(&k, 2, 999995);
	assert_int_equal(r.verdict, WINDOW_REFUSE);
}

/* --- real threads, the real clock ------------------------------------------ */

#define OFFENDERS 50
#define OFF_LIMIT 3
#define STRESS_MS 2000		/* each thread stops after this long ... */
#define STRESS_OPS 20000000	/* ... or this many checks */

static atomic_bool stop;
static atomic_uint accepts[OFFENDERS];
static atomic_ulong flood_ops, off_ops, sweeps;

/* Fresh addresses, one after another: every check in a full shard makes
 * room, with the clock read before the lock as the milter does. */
static void *flood(void *arg)
{
	uint32_t n = 1000000;

	(void)arg;
	for (unsigned long i = 0; i < STRESS_OPS && !atomic_load(&stop); i++) {
		struct window_key k = key_n(n++);
		struct window_rule r = { 1000, HOUR_MS, true, false, false };
		struct window_result res;

		window_check(unit_tab, &k, &r, HOUR_MS, unit_mono_ms(), &res);
		atomic_fetch_add(&flood_ops, 1);
	}
	return NULL;
}

static void *offend(void *arg)
{
	(void)arg;
	for (unsigned long i = 0; i < STRESS_OPS && !atomic_load(&stop); i++) {
		unsigned o = (unsigned)(i % OFFENDERS);
		struct window_key k = key_n(o + 1);
		struct window_rule r = { OFF_LIMIT, HOUR_MS, true, false, false };
		struct window_result res;

		window_check(unit_tab, &k, &r, HOUR_MS, unit_mono_ms(), &res);
		if (res.verdict != WINDOW_REFUSE)
			atomic_fetch_add(&accepts[o], 1);
		atomic_fetch_add(&off_ops, 1);
	}
	return NULL;
}

static atomic_ulong dues;

/* As the daemon's report_due, minus the line. */
static void count_due(const struct window_due *d, void *arg)
{
	(void)d;
	(void)arg;
	atomic_fetch_add(&dues, 1);
}

/* The control thread's sweep, far more often than once a second, handing
 * out refusal counts as the daemon's does (so entries with counts are not
 * kept for that reason alone). */
static void *sweeper(void *arg)
{
	(void)arg;
	for (unsigned long i = 0; i < STRESS_OPS && !atomic_load(&stop); i++) {
		window_sweep(unit_tab, HOUR_MS, unit_mono_ms(), 256, count_due, NULL);
		atomic_fetch_add(&sweeps, 1);
	}
	return NULL;
}

static void test_threads_offenders_held(void **state)
{
	pthread_t th[3];
	unsigned over = 0, worst = 0;
	uint64_t end;

	(void)state;
	unit_mktable(1000);
	atomic_store(&stop, false);
	/* The offenders reach their limit first, alone: from then on the
	 * promise is exact.  An entry at its limit is never evicted nor swept
	 * within its window, so not one more accept may follow.  (Before
	 * their limit, clients may be evicted from a full table by design.) */
	for (unsigned o = 0; o < OFFENDERS; o++) {
		struct window_key k = key_n(o + 1);
		struct window_rule r = { OFF_LIMIT, HOUR_MS, true, false, false };
		struct window_result res;

		for (unsigned i = 0; i < OFF_LIMIT; i++) {
			window_check(unit_tab, &k, &r, HOUR_MS, unit_mono_ms(), &res);
			assert_int_equal(res.verdict, WINDOW_ALLOW);
		}
		atomic_store(&accepts[o], 0);
	}
	assert_int_equal(pthread_create(&th[0], NULL, flood, NULL), 0);
	assert_int_equal(pthread_create(&th[1], NULL, offend, NULL), 0);
	assert_int_equal(pthread_create(&th[2], NULL, sweeper, NULL), 0);
	end = unit_mono_ms() + STRESS_MS;
	while (unit_mono_ms() < end) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);

	for (unsigned o = 0; o < OFFENDERS; o++) {
		unsigned a = atomic_load(&accepts[o]);
		if (a > 0)
			over++;
		if (a > worst)
			worst = a;
	}
	fprintf(stderr, "# clock stress: %lu flood checks, %lu offender checks, %lu sweeps; "
	    "%u of %d offenders at limit %d accepted again, most %u more\n",
	    atomic_load(&flood_ops), atomic_load(&off_ops), atomic_load(&sweeps),
	    over, OFFENDERS, OFF_LIMIT, worst);
	/* The run must have raced for real, or it proves nothing. */
	assert_true(atomic_load(&flood_ops) > 1000);
	assert_true(atomic_load(&off_ops) > 1000);
	assert_true(atomic_load(&sweeps) > 100);
	if (over)
		fail_msg("%u of %d offenders at their limit were accepted again (worst %u more)",
		    over, OFFENDERS, worst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_sweep_with_older_clock, unit_table_cleanup),
		cmocka_unit_test_teardown(test_evict_with_older_clock, unit_table_cleanup),
		cmocka_unit_test_teardown(test_sweep_then_older_check, unit_table_cleanup),
		cmocka_unit_test_teardown(test_threads_offenders_held, unit_table_cleanup),
	};

	return cmocka_run_group_tests_name("window_clock", tests, NULL, unit_table_cleanup);
}
