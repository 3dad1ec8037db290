/*
 * test_window_keys.c: several keys decided as one step (window.h,
 * "Several keys"), with `now` passed in; then real threads on the real
 * clock racing over the /32s of one /24 whose /24 key must hold.
 */
#include "unit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "window.h"

#define MIN_MS 60000u
#define HOUR_MS 3600000u

/* A client under its /32 (limit l32) and /24 (limit l24), one minute each. */
static struct window_multi check2(uint32_t ip, uint32_t l32, uint32_t l24,
    bool cr, uint64_t now)
{
	struct window_key k[2] = { unit_v4key(ip, 32), unit_v4key(ip, 24) };
	struct window_rule r[2] = { unit_rule(l32, MIN_MS, cr),
	    unit_rule(l24, MIN_MS, cr) };
	struct window_multi m;

	window_check_keys(unit_tab, 2, k, r, MIN_MS, now, &m);
	return m;
}

/* The count a key has now, read through a one-key check with a limit it
 * does not reach here (and the same group size, 1, as the limits the
 * tests count with): allowed, so it is counted; the caller subtracts
 * that one. */
static uint32_t peek(uint32_t ip, int plen, uint64_t now)
{
	struct window_key k = unit_v4key(ip, plen);
	struct window_rule r = unit_rule(WINDOW_SLOTS, MIN_MS, false);
	struct window_result res;

	window_check(unit_tab, &k, &r, MIN_MS, now, &res);
	return res.count - 1;
}

/* Every key counts a connection they all let through; a key over its
 * limit refuses the client, and the other key is left as it was. */
static void test_refused_leaves_other_keys(void **state)
{
	struct window_multi m;
	uint32_t a = UNIT_IP(10, 1, 2, 3), b = UNIT_IP(10, 1, 2, 4);

	(void)state;
	unit_mktable(1000);
	/* a: 3 allowed under /32 limit 3, /24 limit 5 */
	for (int i = 0; i < 3; i++) {
		m = check2(a, 3, 5, true, 1000 + i);
		assert_int_equal(m.refused_by, -1);
		assert_int_equal(m.r[0].count, i + 1);
		assert_int_equal(m.r[1].count, i + 1);
	}
	/* a's 4th: refused by its /32; the /24 (3 of 5) must not count it */
	m = check2(a, 3, 5, true, 1010);
	assert_int_equal(m.refused_by, 0);
	assert_int_equal(m.r[0].verdict, WINDOW_REFUSE);
	assert_int_equal(m.r[1].verdict, WINDOW_ALLOW);
	assert_true(m.r[0].log);
	/* b: two more fill the /24 ... */
	for (int i = 0; i < 2; i++) {
		m = check2(b, 3, 5, true, 1020 + i);
		assert_int_equal(m.refused_by, -1);
		assert_int_equal(m.r[1].count, 4 + i);
	}
	/* ... and the third is refused by the /24, not counted in b's /32 */
	m = check2(b, 3, 5, true, 1030);
	assert_int_equal(m.refused_by, 1);
	assert_int_equal(m.r[0].verdict, WINDOW_ALLOW);
	assert_int_equal(m.r[1].verdict, WINDOW_REFUSE);
	assert_true(m.r[1].log);
	assert_false(m.r[0].log);
	assert_int_equal(peek(b, 32, 1031), 2);
	/* count_refused: the refusing /24 counted it: 5 allowed + 1 refused
	 * + the peek's own is not there (another key) */
	assert_int_equal(peek(b, 24, 1032), 6);
}

/* count_refused false: a refused connection counts in no key. */
static void test_refused_counts_nowhere_without_count_refused(void **state)
{
	struct window_multi m;
	uint32_t a = UNIT_IP(10, 9, 9, 1);

	(void)state;
	unit_mktable(1000);
	for (int i = 0; i < 2; i++)
		assert_int_equal(check2(a, 2, 10, false, 5000 + i).refused_by, -1);
	for (int i = 0; i < 5; i++) {
		m = check2(a, 2, 10, false, 5010 + i);
		assert_int_equal(m.refused_by, 0);
		assert_int_equal(m.r[0].count, 3);
	}
	assert_int_equal(peek(a, 24, 5020), 2);
	assert_int_equal(peek(a, 32, 5021), 2);
}

/* A key met for the first time in a refused connection is not counted,
 * so its entry must not stay in the table (nothing would reclaim it). */
static void test_uncounted_new_key_released(void **state)
{
	struct window_stats s0, s1;
	struct window_multi m;

	(void)state;
	unit_mktable(1000);
	/* fill 10.5.5.0/24 (limit 2) from two /32s */
	check2(UNIT_IP(10, 5, 5, 1), 5, 2, true, 100);
	check2(UNIT_IP(10, 5, 5, 2), 5, 2, true, 101);
	window_stats(unit_tab, &s0);
	assert_int_equal(s0.used, 3);
	for (int i = 3; i < 50; i++) {
		m = check2(UNIT_IP(10, 5, 5, i), 5, 2, true, 100 + i);
		assert_int_equal(m.refused_by, 1);
		assert_int_equal(m.r[0].verdict, WINDOW_ALLOW);
	}
	window_stats(unit_tab, &s1);
	assert_int_equal(s1.used, s0.used);
}

/* retry_ms: until every refusing key lets one more through; the refusal
 * is put down to the key that holds longest. */
static void test_retry_and_attribution(void **state)
{
	struct window_multi m;
	uint32_t a = UNIT_IP(10, 7, 0, 1), b = UNIT_IP(10, 7, 0, 2);
	uint64_t t = 1000000;

	(void)state;
	unit_mktable(1000);
	/* /24 limit 3: a at t, t+1000, b at t+2000 */
	check2(a, 2, 3, false, t);
	check2(a, 2, 3, false, t + 1000);
	check2(b, 2, 3, false, t + 2000);
	/* a at t+10000: /32 (2 of 2, oldest t) and /24 (3 of 3, oldest t)
	 * both refuse; both free up at t+60000 */
	m = check2(a, 2, 3, false, t + 10000);
	assert_int_equal(m.r[0].verdict, WINDOW_REFUSE);
	assert_int_equal(m.r[1].verdict, WINDOW_REFUSE);
	assert_int_equal(m.retry_ms, 50000);
	assert_int_equal(m.refused_by, 0);	/* a tie: the first key */
	/* b at t+30000: its /32 has 1 of 2 (allows), the /24 refuses until
	 * its oldest (t) leaves: 30000 ms */
	m = check2(b, 2, 3, false, t + 30000);
	assert_int_equal(m.refused_by, 1);
	assert_int_equal(m.retry_ms, 30000);
	/* just before t+60000 still refused, 1 ms to go; at t+60000 allowed */
	m = check2(b, 2, 3, false, t + 59999);
	assert_int_equal(m.refused_by, 1);
	assert_int_equal(m.retry_ms, 1);
	m = check2(b, 2, 3, false, t + 60000);
	assert_int_equal(m.refused_by, -1);
	/* a: /32 now holds t+1000 only (t left): allowed by /32, but the
	 * /24 holds t+1000, t+2000, t+60000: refused until t+61000 */
	m = check2(a, 2, 3, false, t + 60500);
	assert_int_equal(m.refused_by, 1);
	assert_int_equal(m.retry_ms, 500);

	/* The longer wait wins: c's /32 (limit 1) holds until t2+60000, its
	 * /24 (limit 2) only until t2+20000+60000 ... make the /32 longer. */
	uint32_t c = UNIT_IP(10, 8, 0, 1), d = UNIT_IP(10, 8, 0, 2);
	uint64_t t2 = 5000000;

	check2(d, 1, 2, false, t2);		/* /24: t2 */
	check2(c, 1, 2, false, t2 + 20000);	/* /32 c: t2+20000; /24 full */
	m = check2(c, 1, 2, false, t2 + 30000);
	/* /32 waits 50000 (t2+20000 leaves at t2+80000), /24 waits 30000 */
	assert_int_equal(m.r[0].verdict, WINDOW_REFUSE);
	assert_int_equal(m.r[1].verdict, WINDOW_REFUSE);
	assert_int_equal(m.refused_by, 0);
	assert_int_equal(m.retry_ms, 50000);
	assert_true(m.r[0].log);
	assert_false(m.r[1].log);
}

/* With count_refused, a refusing key's own refusals push its wait out:
 * the newest counted connection must leave too. */
static void test_retry_with_count_refused(void **state)
{
	struct window_key k = unit_v4key(UNIT_IP(10, 6, 0, 1), 32);
	struct window_rule r = unit_rule(2, MIN_MS, true);
	struct window_multi m;

	(void)state;
	unit_mktable(1000);
	window_check_keys(unit_tab, 1, &k, &r, MIN_MS, 0 + 100000, &m);
	window_check_keys(unit_tab, 1, &k, &r, MIN_MS, 1000 + 100000, &m);
	/* 3rd at +10000 refused and counted: {10000, 1000, 0}; under 2 once
	 * 0 and 1000 have left: at 61000 */
	window_check_keys(unit_tab, 1, &k, &r, MIN_MS, 10000 + 100000, &m);
	assert_int_equal(m.refused_by, 0);
	assert_int_equal(m.retry_ms, 51000);
}

/* Big limits count groups of g connections per slot: the wait is when
 * enough groups have left; never 0 for a refusal, never past the window. */
static void test_retry_grouped(void **state)
{
	struct window_key k = unit_v4key(UNIT_IP(10, 6, 0, 2), 32);
	struct window_rule r = unit_rule(100, MIN_MS, false);	/* g = 11 */
	struct window_multi m;
	uint64_t t = 200000;
	int i;

	(void)state;
	unit_mktable(1000);
	for (i = 0; i < 100; i++) {
		window_check_keys(unit_tab, 1, &k, &r, MIN_MS, t + (uint64_t)i * 100, &m);
		if (m.refused_by >= 0)
			break;
	}
	assert_int_equal(m.refused_by, -1);
	window_check_keys(unit_tab, 1, &k, &r, MIN_MS, t + 20000, &m);
	assert_int_equal(m.refused_by, 0);
	/* the first group began at t: it leaves at t+60000 */
	assert_int_equal(m.retry_ms, 40000);
	assert_true(m.retry_ms >= 1 && m.retry_ms <= MIN_MS);
}

/* A full one-shard table: making room for one key of a check must never
 * take the entry another key of the same check already holds. */
static void test_eviction_spares_own_keys(void **state)
{
	struct window_stats s;
	struct window_multi m;
	uint32_t held = UNIT_IP(10, 200, 0, 1);
	uint64_t t = 3000000;
	uint32_t cap;

	(void)state;
	unit_mktable(64);
	window_stats(unit_tab, &s);
	cap = (uint32_t)s.capacity;
	/* the held key first, then others to fill the table, none full */
	for (uint32_t i = 0; i < cap; i++) {
		struct window_key k = unit_v4key(i == 0 ? held :
		    UNIT_IP(10, 100, i >> 8, i & 255), 32);
		struct window_rule r = unit_rule(WINDOW_LIMIT_MAX, HOUR_MS, true);
		struct window_result res;

		window_check(unit_tab, &k, &r, HOUR_MS, t + i, &res);
		assert_int_equal(res.verdict, WINDOW_ALLOW);
	}
	/* Each check: the held key (found) then a new key (needs room). */
	for (uint32_t i = 1; i <= 300; i++) {
		struct window_key k[2] = { unit_v4key(held, 32),
		    unit_v4key(UNIT_IP(10, 150, i >> 8, i & 255), 32) };
		struct window_rule r[2] = { unit_rule(WINDOW_LIMIT_MAX, HOUR_MS, true),
		    unit_rule(WINDOW_LIMIT_MAX, HOUR_MS, true) };

		window_check_keys(unit_tab, 2, k, r, HOUR_MS, t + 1000 + i, &m);
		assert_int_equal(m.refused_by, -1);
		if (m.r[0].count != 1 + i)
			fail_msg("check %u: the held key counts %u, want %u (evicted by "
			    "its own check)", i, m.r[0].count, 1 + i);
	}
	window_stats(unit_tab, &s);
	assert_true(s.evictions > 0);
}

static struct window_due dues[8];
static int ndues;

static void keep_due(const struct window_due *d, void *arg)
{
	(void)arg;
	if (ndues < 8)
		dues[ndues] = *d;
	ndues++;
}

/* The refusal lines per key: one line per window for the key a refusal is
 * put down to, the rest summed; the summary the sweep hands out names that
 * key (the /24), with mode log's mark. */
static void test_marks_per_key(void **state)
{
	struct window_key k[2];
	struct window_rule r[2];
	struct window_multi m;
	struct window_key want24 = unit_v4key(UNIT_IP(10, 4, 4, 0), 24);
	uint64_t t = 9000000;

	(void)state;
	unit_mktable(1000);
	for (int i = 0; i < 4; i++) {
		k[0] = unit_v4key(UNIT_IP(10, 4, 4, i + 1), 32);
		k[1] = unit_v4key(UNIT_IP(10, 4, 4, i + 1), 24);
		r[0] = unit_rule(5, MIN_MS, true);
		r[1] = unit_rule(1, MIN_MS, true);
		r[0].would = r[1].would = true;
		window_check_keys(unit_tab, 2, k, r, MIN_MS, t + (uint64_t)i, &m);
		if (i == 0) {
			assert_int_equal(m.refused_by, -1);
			continue;
		}
		assert_int_equal(m.refused_by, 1);
		/* the first refusal gets the line, the next two are counted */
		assert_int_equal(m.r[1].log, i == 1);
		assert_false(m.r[0].log);
	}
	ndues = 0;
	window_sweep(unit_tab, MIN_MS, t + 10, 100000, keep_due, NULL);
	assert_int_equal(ndues, 0);	/* the /24's line's window still runs */
	window_sweep(unit_tab, MIN_MS, t + 1 + MIN_MS, 100000, keep_due, NULL);
	assert_int_equal(ndues, 1);
	assert_int_equal(dues[0].key.plen, want24.plen);
	assert_memory_equal(dues[0].key.b, want24.b, 16);
	assert_int_equal(dues[0].suppressed, 2);
	assert_true(dues[0].would);
}

/* --- real threads, the real clock ------------------------------------------ */

#define NET_LIMIT 40		/* the /24's limit */
#define HOST_LIMIT 1000		/* each /32's: never the one that refuses */
#define ROUNDS 1000		/* a fresh /24 each */
#define HOSTS 64		/* /32s per racer and round */
#define RACERS 2
#define HELD_MS 1500		/* the held phase: each thread stops after this long ... */
#define HELD_OPS 20000000	/* ... or this many checks */

static atomic_uint round_no, ready, net_accepts[ROUNDS];
static atomic_bool stop;
static atomic_ulong held_ops, flood_ops, sweeps, held_accepts;

/* /32 j of round r's /24: 10.(r>>8).(r&255).j */
static uint32_t host_of(unsigned r, unsigned j)
{
	return UNIT_IP(10, r >> 8, r & 255, j & 255);
}

static bool check_net(uint32_t ip)
{
	struct window_key k[2] = { unit_v4key(ip, 32), unit_v4key(ip, 24) };
	struct window_rule r[2] = { unit_rule(HOST_LIMIT, HOUR_MS, true),
	    unit_rule(NET_LIMIT, HOUR_MS, true) };
	struct window_multi m;

	window_check_keys(unit_tab, 2, k, r, HOUR_MS, unit_mono_ms(), &m);
	return m.refused_by < 0;
}

/* Race phase: both threads knock from the /32s of one /24 at once, each
 * round a fresh /24, until it refuses them. */
static void *racer(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;

	for (unsigned r = 0; r < ROUNDS; r++) {
		/* a barrier per round, bounded */
		atomic_fetch_add(&ready, 1);
		for (unsigned long spin = 0; atomic_load(&round_no) < r && spin < 100000000ul; spin++)
			;
		for (unsigned j = 0; j < 4 * NET_LIMIT; j++)
			if (check_net(host_of(r, 2 * (j % HOSTS) + id)))
				atomic_fetch_add(&net_accepts[r], 1);
	}
	return NULL;
}

/* Held phase: the /24s are at their limit; knockers spread over their
 * /32s, a flood of fresh /24s through a full table, and a sweeper. */
static void *knock(void *arg)
{
	(void)arg;
	for (unsigned long i = 0; i < HELD_OPS && !atomic_load(&stop); i++) {
		if (check_net(host_of((unsigned)(i % ROUNDS), (unsigned)(i / ROUNDS))))
			atomic_fetch_add(&held_accepts, 1);
		atomic_fetch_add(&held_ops, 1);
	}
	return NULL;
}

static void *flood(void *arg)
{
	(void)arg;
	for (unsigned long i = 0; i < HELD_OPS && !atomic_load(&stop); i++) {
		check_net(UNIT_IP(11, (i >> 16) & 255, (i >> 8) & 255, i & 255));
		atomic_fetch_add(&flood_ops, 1);
	}
	return NULL;
}

static void count_due(const struct window_due *d, void *arg)
{
	(void)d;
	(void)arg;
}

static void *sweeper(void *arg)
{
	(void)arg;
	for (unsigned long i = 0; i < HELD_OPS && !atomic_load(&stop); i++) {
		window_sweep(unit_tab, HOUR_MS, unit_mono_ms(), 256, count_due, NULL);
		atomic_fetch_add(&sweeps, 1);
	}
	return NULL;
}

static void test_threads_net_key_holds(void **state)
{
	pthread_t th[RACERS], h[3];
	unsigned over = 0, worst = 0;
	uint64_t end;

	(void)state;
	/* Room for every racing key: no eviction in the race phase, so the
	 * /24's count can only be wrong through a race. */
	unit_mktable(ROUNDS * (HOSTS * RACERS + 1) * 2);
	atomic_store(&round_no, 0);
	atomic_store(&ready, 0);
	for (unsigned r = 0; r < ROUNDS; r++)
		atomic_store(&net_accepts[r], 0);
	for (int i = 0; i < RACERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, racer, (void *)(uintptr_t)i), 0);
	for (unsigned r = 0; r < ROUNDS; r++) {
		end = unit_mono_ms() + 10000;
		while (atomic_load(&ready) < (r + 1) * RACERS && unit_mono_ms() < end)
			sched_yield();
		atomic_store(&round_no, r + 1);
	}
	for (int i = 0; i < RACERS; i++)
		pthread_join(th[i], NULL);
	for (unsigned r = 0; r < ROUNDS; r++) {
		unsigned a = atomic_load(&net_accepts[r]);
		if (a != NET_LIMIT)
			over++;
		if (a > worst)
			worst = a;
	}
	if (over)
		fail_msg("%u of %d /24s let a number other than their limit %d through "
		    "(most %u)", over, ROUNDS, NET_LIMIT, worst);

	/* Held: not one more accept from any of those /24s, while a flood
	 * forces evictions and the sweep runs. */
	unit_mktable(100000);
	for (unsigned r = 0; r < ROUNDS; r++)
		for (unsigned j = 0; j < NET_LIMIT; j++)
			if (!check_net(host_of(r, j)))
				fail_msg("round %u: connection %u refused before the limit", r, j);
	atomic_store(&stop, false);
	assert_int_equal(pthread_create(&h[0], NULL, knock, NULL), 0);
	assert_int_equal(pthread_create(&h[1], NULL, flood, NULL), 0);
	assert_int_equal(pthread_create(&h[2], NULL, sweeper, NULL), 0);
	end = unit_mono_ms() + HELD_MS;
	while (unit_mono_ms() < end) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < 3; i++)
		pthread_join(h[i], NULL);
	fprintf(stderr, "# net key stress: %d rounds of %d racers; held: %lu knocks, "
	    "%lu flood checks, %lu sweeps, %lu accepted\n", ROUNDS, RACERS,
	    atomic_load(&held_ops), atomic_load(&flood_ops), atomic_load(&sweeps),
	    atomic_load(&held_accepts));
	assert_true(atomic_load(&held_ops) > 1000);
	assert_true(atomic_load(&flood_ops) > 1000);
	assert_true(atomic_load(&sweeps) > 10);
	assert_int_equal(atomic_load(&held_accepts), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_refused_leaves_other_keys, unit_table_cleanup),
		cmocka_unit_test_teardown(test_refused_counts_nowhere_without_count_refused,
		    unit_table_cleanup),
		cmocka_unit_test_teardown(test_uncounted_new_key_released, unit_table_cleanup),
		cmocka_unit_test_teardown(test_retry_and_attribution, unit_table_cleanup),
		cmocka_unit_test_teardown(test_retry_with_count_refused, unit_table_cleanup),
		cmocka_unit_test_teardown(test_retry_grouped, unit_table_cleanup),
		cmocka_unit_test_teardown(test_eviction_spares_own_keys, unit_table_cleanup),
		cmocka_unit_test_teardown(test_marks_per_key, unit_table_cleanup),
		cmocka_unit_test_teardown(test_threads_net_key_holds, unit_table_cleanup),
	};

	return cmocka_run_group_tests_name("window_keys", tests, NULL, unit_table_cleanup);
}
