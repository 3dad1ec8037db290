/*
 * test_window_log.c: one refusal line per key per window (window.h,
 * "Refusal lines"), decided by the counter table under its shard locks.
 *
 * For every key: at most one line (window_result.log) per window, the
 * refusals in between handed out exactly once, on the key's next line or
 * by the sweep or the drain, so that the counts add up.  Time is an
 * argument; nothing sleeps.
 */
#include "unit.h"

#include "window.h"

static struct window_key key_n(uint32_t n)
{
	struct window_key k;

	memset(&k, 0, sizeof k);
	k.b[10] = k.b[11] = 0xff;	/* an IPv4 /32 key */
	k.b[12] = (uint8_t)(n >> 24);
	k.b[13] = (uint8_t)(n >> 16);
	k.b[14] = (uint8_t)(n >> 8);
	k.b[15] = (uint8_t)n;
	k.plen = 128;
	return k;
}

static struct window_result check(const struct window_key *k, uint32_t limit,
    uint32_t window_ms, bool cr, uint64_t now)
{
	struct window_rule r = { limit, window_ms, cr, false, false };
	struct window_result res;

	window_check(unit_tab, k, &r, window_ms, now, &res);
	return res;
}

/* What the sweep and the drain hand out, per key number (key_n). */
#define MAXKEYS 20000
static uint64_t due_total[MAXKEYS];
static unsigned due_calls[MAXKEYS];
static uint64_t due_all;

static void on_due(const struct window_due *d, void *arg)
{
	uint32_t n = (uint32_t)d->key.b[12] << 24 | (uint32_t)d->key.b[13] << 16 |
	    (uint32_t)d->key.b[14] << 8 | d->key.b[15];

	(void)arg;
	assert_true(d->suppressed > 0);
	assert_true(n < MAXKEYS);
	due_total[n] += d->suppressed;
	due_calls[n]++;
	due_all += d->suppressed;
}

static void reset_due(void)
{
	memset(due_total, 0, sizeof due_total);
	memset(due_calls, 0, sizeof due_calls);
	due_all = 0;
}

/* One key knocking 20 times inside its window: one line, 19 counted; the
 * sweep hands out 19 once the window has passed, and the next refusal
 * starts a new window with a line of its own. */
static void test_one_line_per_window(void **state)
{
	struct window_key k = key_n(1);
	struct window_result r;
	uint64_t t = 1000000;
	unsigned lines = 0;

	(void)state;
	unit_mktable(100);
	reset_due();
	r = check(&k, 1, 60000, true, t);
	assert_int_equal(r.verdict, WINDOW_ALLOW);
	assert_false(r.log);
	for (int i = 1; i <= 20; i++) {
		r = check(&k, 1, 60000, true, t + (uint64_t)i * 1000);
		assert_int_equal(r.verdict, WINDOW_REFUSE);
		if (r.log) {
			lines++;
			assert_int_equal(r.suppressed, 0);
		}
	}
	assert_int_equal(lines, 1);
	/* Inside the window: nothing is due yet. */
	window_sweep(unit_tab, 60000, t + 60000, 1000, on_due, NULL);
	assert_int_equal(due_all, 0);
	/* The line was written at t + 1000: its window ends at t + 61000. */
	window_sweep(unit_tab, 60000, t + 61000, 1000, on_due, NULL);
	assert_int_equal(due_total[1], 19);
	assert_int_equal(due_calls[1], 1);
	/* Handed out once only. */
	window_sweep(unit_tab, 60000, t + 62000, 1000, on_due, NULL);
	assert_int_equal(due_calls[1], 1);
	/* Still hammering (count_refused keeps it refused): a new window,
	 * a new line, nothing left over to carry. */
	r = check(&k, 1, 60000, true, t + 62500);
	assert_int_equal(r.verdict, WINDOW_REFUSE);
	assert_true(r.log);
	assert_int_equal(r.suppressed, 0);
}

/* A refusal after the window but before any sweep carries the count. */
static void test_next_line_carries_count(void **state)
{
	struct window_key k = key_n(2);
	struct window_result r;
	uint64_t t = 2000000;

	(void)state;
	unit_mktable(100);
	reset_due();
	check(&k, 2, 10000, false, t);
	check(&k, 2, 10000, false, t + 1);
	r = check(&k, 2, 10000, false, t + 2);
	assert_true(r.log);
	for (int i = 0; i < 7; i++) {
		r = check(&k, 2, 10000, false, t + 3 + (uint64_t)i);
		assert_false(r.log);
	}
	/* count_refused off: the two accepted ones leave the window at
	 * t + 10000 and t + 10001, the line's window ends at t + 10002. */
	r = check(&k, 2, 10000, false, t + 9999);
	assert_int_equal(r.verdict, WINDOW_REFUSE);
	assert_false(r.log);
	r = check(&k, 2, 10000, false, t + 10002);
	assert_int_equal(r.verdict, WINDOW_ALLOW);
	r = check(&k, 2, 10000, false, t + 10003);
	assert_int_equal(r.verdict, WINDOW_ALLOW);
	r = check(&k, 2, 10000, false, t + 10004);
	assert_int_equal(r.verdict, WINDOW_REFUSE);
	assert_true(r.log);
	assert_int_equal(r.suppressed, 8);
	window_drain(unit_tab, on_due, NULL);
	assert_int_equal(due_all, 0);
}

/*
 * Many keys in one shard (the old direct-mapped throttle let colliding
 * keys log every refusal): 5,000 keys, 20 refusals each, interleaved.
 * Exactly one line per key, and line + suppressed + drained add up.
 */
static void test_many_keys_one_line_each(void **state)
{
	enum { KEYS = 5000, TIMES = 21 };
	static unsigned lines[KEYS];
	static uint64_t carried[KEYS];
	uint64_t t = 3000000;

	(void)state;
	unit_mktable(KEYS + 100);
	reset_due();
	memset(lines, 0, sizeof lines);
	memset(carried, 0, sizeof carried);
	for (int round = 0; round < TIMES; round++)
		for (uint32_t n = 0; n < KEYS; n++) {
			struct window_key k = key_n(n);
			struct window_result r = check(&k, 1, 3600000, true, t++);

			assert_int_equal(r.verdict, round == 0 ? WINDOW_ALLOW : WINDOW_REFUSE);
			if (r.log) {
				lines[n]++;
				carried[n] += r.suppressed;
			}
		}
	window_drain(unit_tab, on_due, NULL);
	for (uint32_t n = 0; n < KEYS; n++) {
		if (lines[n] != 1)
			fail_msg("key %u: %u lines", n, lines[n]);
		assert_int_equal(lines[n] + carried[n] + due_total[n], TIMES - 1);
		assert_true(due_calls[n] <= 1);
	}
	/* The drain emptied every count: a second one finds nothing. */
	reset_due();
	window_drain(unit_tab, on_due, NULL);
	assert_int_equal(due_all, 0);
}

/*
 * An entry with unlogged refusals is not evicted (it would lose the count
 * or force an early line): a one-entry table whose only key has fallen
 * under its limit but holds a count.  The newcomer goes untracked until
 * the sweep has handed the count out; then the entry may go.
 */
static void test_pending_not_evicted(void **state)
{
	struct window_key a = key_n(10), b = key_n(11);
	struct window_result r;
	struct window_stats st;

	(void)state;
	unit_mktable(1);
	reset_due();
	assert_int_equal(check(&a, 2, 1000, false, 0 + 10).verdict, WINDOW_ALLOW);
	assert_int_equal(check(&a, 2, 1000, false, 1 + 10).verdict, WINDOW_ALLOW);
	r = check(&a, 2, 1000, false, 500 + 10);
	assert_true(r.log);
	r = check(&a, 2, 1000, false, 600 + 10);
	assert_false(r.log);
	/* Both counted ones have left the window: under its limit again. */
	r = check(&a, 2, 1000, false, 1002 + 10);
	assert_int_equal(r.verdict, WINDOW_ALLOW);
	r = check(&b, 2, 1000, false, 1003 + 10);
	assert_int_equal(r.verdict, WINDOW_UNTRACKED);
	window_stats(unit_tab, &st);
	assert_int_equal(st.evictions, 0);
	/* The line's window ends at 1510. */
	window_sweep(unit_tab, 1000, 1510, 100, on_due, NULL);
	assert_int_equal(due_total[10], 1);
	r = check(&b, 2, 1000, false, 1511);
	assert_int_equal(r.verdict, WINDOW_ALLOW);
	window_stats(unit_tab, &st);
	assert_int_equal(st.evictions, 1);
}

/* An idle entry is released by the sweep only after its count is out. */
static void test_idle_release_hands_out(void **state)
{
	struct window_key a = key_n(20);
	struct window_stats st;

	(void)state;
	unit_mktable(100);
	reset_due();
	check(&a, 1, 5000, true, 100000);
	check(&a, 1, 5000, true, 100001);	/* line */
	check(&a, 1, 5000, true, 100002);	/* counted, unlogged */
	check(&a, 1, 5000, true, 100003);
	/* Inside the line's window the entry stays, count and all. */
	window_sweep(unit_tab, 5000, 105000, 1000, on_due, NULL);
	window_stats(unit_tab, &st);
	assert_int_equal(st.used, 1);
	assert_int_equal(due_all, 0);
	window_sweep(unit_tab, 5000, 200000, 1000, on_due, NULL);
	assert_int_equal(due_total[20], 2);
	window_stats(unit_tab, &st);
	assert_int_equal(st.used, 0);
}

/* What the orphan dues carry, by kind. */
static uint64_t orphan_keys, orphan_refusals;

static void on_orphan(const struct window_due *d, void *arg)
{
	(void)arg;
	assert_int_equal(d->key.plen, 0);
	orphan_keys += d->keys;
	orphan_refusals += d->suppressed;
}

/*
 * The control thread did not sweep for a day: the inline sweep (or a
 * sweep without a callback) reclaims idle entries with unlogged counts
 * rather than keep them forever, and parks the counts for the next
 * sweep, which hands them out without a key.  (Found in review: kept,
 * such entries filled the table and every new client went untracked.)
 */
static void test_stale_table_not_pinned(void **state)
{
	struct window_stats st;
	uint32_t cap, i;
	uint64_t t = 10000000, later = t + 3ull * 86400000;

	(void)state;
	unit_mktable(64);
	window_stats(unit_tab, &st);
	cap = (uint32_t)st.capacity;
	for (i = 0; i < cap; i++) {
		struct window_key k = key_n(1000 + i);
		check(&k, 1, 60000, true, t);
		check(&k, 1, 60000, true, t + 1);	/* line */
		check(&k, 1, 60000, true, t + 2);	/* unlogged */
	}
	/* Three days later, no sweep since: as many new keys find room. */
	for (i = 0; i < cap; i++) {
		struct window_key k = key_n(5000 + i);
		struct window_result r = check(&k, 1, 60000, true, later + i);
		assert_int_equal(r.verdict, WINDOW_ALLOW);
	}
	orphan_keys = orphan_refusals = 0;
	window_sweep(unit_tab, 60000, later + 1000, 1000, on_orphan, NULL);
	assert_int_equal(orphan_keys, cap);
	assert_int_equal(orphan_refusals, cap);
}

/* log_all (debug level): every refusal has its line, and the counts
 * still add up: nothing is kept back to be summed a second time. */
static void test_log_all_adds_up(void **state)
{
	struct window_key k = key_n(30);
	struct window_rule quiet = { 1, 60000, true, false, false };
	struct window_rule loud = { 1, 60000, true, true, false };
	struct window_result r;
	uint64_t lines = 0, carried = 0;

	(void)state;
	unit_mktable(100);
	reset_due();
	window_check(unit_tab, &k, &quiet, 60000, 1000, &r);
	for (int i = 0; i < 10; i++) {
		/* five at info, then five at debug */
		window_check(unit_tab, &k, i < 5 ? &quiet : &loud, 60000, 1001 + (uint64_t)i, &r);
		assert_int_equal(r.verdict, WINDOW_REFUSE);
		if (r.log) {
			lines++;
			carried += r.suppressed;
		}
	}
	assert_int_equal(lines, 6);
	window_drain(unit_tab, on_due, NULL);
	assert_int_equal(lines + carried + due_all, 10);
}

/* After the drain at exit, every refusal gets its line: workers that
 * libmilter never joined may still decide, and nothing may be kept back
 * once nobody will hand it out. */
static void test_after_drain_every_line(void **state)
{
	struct window_key k = key_n(40);
	struct window_result r;

	(void)state;
	unit_mktable(100);
	reset_due();
	check(&k, 1, 60000, true, 1000);
	r = check(&k, 1, 60000, true, 1001);
	assert_true(r.log);
	r = check(&k, 1, 60000, true, 1002);
	assert_false(r.log);
	window_drain(unit_tab, on_due, NULL);
	assert_int_equal(due_total[40], 1);
	for (int i = 0; i < 3; i++) {
		r = check(&k, 1, 60000, true, 1003 + (uint64_t)i);
		assert_true(r.log);
		assert_int_equal(r.suppressed, 0);
	}
}

/* mode log: the summaries say would-refuse. */
static bool last_would;
static void on_due_kind(const struct window_due *d, void *arg)
{
	(void)arg;
	last_would = d->would;
}

static void test_would_summary(void **state)
{
	struct window_key k = key_n(50);
	struct window_rule dry = { 1, 60000, true, false, true };
	struct window_result r;

	(void)state;
	unit_mktable(100);
	window_check(unit_tab, &k, &dry, 60000, 1000, &r);
	window_check(unit_tab, &k, &dry, 60000, 1001, &r);
	assert_true(r.log);
	window_check(unit_tab, &k, &dry, 60000, 1002, &r);
	last_would = false;
	window_drain(unit_tab, on_due_kind, NULL);
	assert_true(last_would);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_one_line_per_window, unit_table_cleanup),
		cmocka_unit_test_teardown(test_next_line_carries_count, unit_table_cleanup),
		cmocka_unit_test_teardown(test_many_keys_one_line_each, unit_table_cleanup),
		cmocka_unit_test_teardown(test_pending_not_evicted, unit_table_cleanup),
		cmocka_unit_test_teardown(test_idle_release_hands_out, unit_table_cleanup),
		cmocka_unit_test_teardown(test_stale_table_not_pinned, unit_table_cleanup),
		cmocka_unit_test_teardown(test_log_all_adds_up, unit_table_cleanup),
		cmocka_unit_test_teardown(test_after_drain_every_line, unit_table_cleanup),
		cmocka_unit_test_teardown(test_would_summary, unit_table_cleanup),
	};

	return cmocka_run_group_tests_name("window_log", tests, NULL, unit_table_cleanup);
}
