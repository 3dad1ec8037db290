/*
 * test_window_ctl.c: the table's read-only peek, its top-N scan and its
 * forget (window.h, "Looking without counting"), as the control socket
 * uses them.  Time is an argument; nothing sleeps.
 */
#include "unit.h"

#include "window.h"

static struct window_key key_v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d,
    uint8_t plen)
{
	struct window_key k;

	memset(&k, 0, sizeof k);
	k.b[10] = k.b[11] = 0xff;
	k.b[12] = a, k.b[13] = b, k.b[14] = c, k.b[15] = d;
	k.plen = (uint8_t)(96 + plen);
	return k;
}

static struct window_rule rule(uint32_t limit, uint32_t window_ms)
{
	struct window_rule r;

	memset(&r, 0, sizeof r);
	r.limit = limit;
	r.window_ms = window_ms;
	r.count_refused = true;
	return r;
}

static struct window_table *table(size_t n)
{
	struct window_table *t = window_create(n, unit_seed());

	assert_non_null(t);
	return t;
}

static void hit(struct window_table *t, const struct window_key *k,
    const struct window_rule *r, uint64_t now, int times)
{
	struct window_result res;

	for (int i = 0; i < times; i++)
		window_check(t, k, r, 60000, now, &res);
}

/* A peek reports the count and the exact wait, and counts nothing. */
static void test_peek_counts_nothing(void **state)
{
	struct window_table *t = table(1000);
	struct window_key k = key_v4(192, 0, 2, 1, 32);
	struct window_rule r = rule(3, 60000);
	struct window_peek p;
	struct window_result res;

	(void)state;
	window_peek(t, &k, &r, 1000, &p);
	assert_false(p.present);
	assert_int_equal(p.count, 0);
	hit(t, &k, &r, 1000, 2);
	hit(t, &k, &r, 5000, 1);
	for (int i = 0; i < 5; i++) {
		window_peek(t, &k, &r, 10000, &p);
		assert_true(p.present);
		assert_int_equal(p.count, 3);
		/* The oldest leaves the window at 61000: 51 s from 10000. */
		assert_int_equal(p.retry_ms, 51000);
	}
	/* Peeks counted nothing: still 3 at 61000, the fourth passes. */
	window_peek(t, &k, &r, 61000, &p);
	assert_int_equal(p.count, 1);
	assert_int_equal(p.retry_ms, 0);
	window_check(t, &k, &r, 60000, 61000, &res);
	assert_int_equal(res.verdict, WINDOW_ALLOW);
	assert_int_equal(res.count, 2);
	window_destroy(t);
}

/* Under the limit: no wait. */
static void test_peek_under_limit(void **state)
{
	struct window_table *t = table(1000);
	struct window_key k = key_v4(192, 0, 2, 2, 32);
	struct window_rule r = rule(5, 60000);
	struct window_peek p;

	(void)state;
	hit(t, &k, &r, 0, 4);
	window_peek(t, &k, &r, 100, &p);
	assert_int_equal(p.count, 4);
	assert_int_equal(p.retry_ms, 0);
	window_destroy(t);
}

/* Top lists the heaviest keys in order, at most n, across shards. */
static void test_top_order(void **state)
{
	struct window_table *t = table(200000);	/* many shards */
	struct window_rule r = rule(100, 60000);
	struct window_top_entry top[5];
	size_t n;

	(void)state;
	for (int i = 1; i <= 50; i++) {
		struct window_key k = key_v4(10, 0, (uint8_t)i, 1, 32);
		hit(t, &k, &r, 1000, i % 25 + 1);
	}
	n = window_top(t, 60000, 2000, top, 5);
	assert_int_equal(n, 5);
	/* Counts 25 (i = 24, 49), 24 (i = 23, 48), 23 (i = 22, 47). */
	assert_int_equal(top[0].count, 25);
	assert_int_equal(top[1].count, 25);
	assert_int_equal(top[2].count, 24);
	assert_int_equal(top[3].count, 24);
	assert_int_equal(top[4].count, 23);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(top[i].key.plen, 128);
	/* Ties in a fixed order: two listings agree. */
	{
		struct window_top_entry again[5];
		assert_int_equal(window_top(t, 60000, 2000, again, 5), 5);
		assert_memory_equal(top, again, sizeof top);
	}
	/* Past the window nothing is listed. */
	assert_int_equal(window_top(t, 60000, 62000, top, 5), 0);
	window_destroy(t);
}

/* Fewer keys than asked for: all of them, heaviest first. */
static void test_top_few(void **state)
{
	struct window_table *t = table(1000);
	struct window_rule r = rule(100, 60000);
	struct window_key a = key_v4(10, 0, 0, 1, 32), b = key_v4(10, 0, 0, 2, 32);
	struct window_top_entry top[10];

	(void)state;
	hit(t, &a, &r, 0, 2);
	hit(t, &b, &r, 0, 7);
	assert_int_equal(window_top(t, 60000, 10, top, 10), 2);
	assert_int_equal(top[0].count, 7);
	assert_memory_equal(top[0].key.b, b.b, 16);
	assert_int_equal(top[1].count, 2);
	assert_int_equal(window_top(t, 60000, 10, top, 0), 0);
	window_destroy(t);
}

/* Forget one key: its next connection passes; others keep counting. */
static void test_forget_key(void **state)
{
	struct window_table *t = table(1000);
	struct window_rule r = rule(2, 60000);
	struct window_key a = key_v4(192, 0, 2, 1, 32), b = key_v4(192, 0, 2, 2, 32);
	struct window_result res;
	struct window_peek p;

	(void)state;
	hit(t, &a, &r, 0, 3);
	hit(t, &b, &r, 0, 3);
	window_check(t, &a, &r, 60000, 10, &res);
	assert_int_equal(res.verdict, WINDOW_REFUSE);
	assert_true(window_forget(t, &a, NULL, NULL));
	assert_false(window_forget(t, &a, NULL, NULL));
	window_peek(t, &a, &r, 20, &p);
	assert_false(p.present);
	window_check(t, &a, &r, 60000, 20, &res);
	assert_int_equal(res.verdict, WINDOW_ALLOW);
	window_check(t, &b, &r, 60000, 20, &res);
	assert_int_equal(res.verdict, WINDOW_REFUSE);
	window_destroy(t);
}

static unsigned long long due_total;
static void count_due(const struct window_due *d, void *arg)
{
	(void)arg;
	due_total += d->suppressed;
}

/* Forget a prefix: every key inside it, none outside; the unlogged
 * refusals of a forgotten key are handed out, not lost. */
static void test_forget_prefix(void **state)
{
	struct window_table *t = table(100000);
	struct window_rule r = rule(1, 60000);
	struct window_key in1 = key_v4(192, 0, 2, 1, 32), in2 = key_v4(192, 0, 2, 200, 32);
	struct window_key agg = key_v4(192, 0, 2, 0, 24), out = key_v4(192, 0, 3, 1, 32);
	struct window_key wide = key_v4(192, 0, 0, 0, 16);
	struct window_key pfx = key_v4(192, 0, 2, 0, 24);
	struct window_peek p;

	(void)state;
	hit(t, &in1, &r, 0, 4);	/* 1 allowed, 3 refused: 1 logged, 2 unlogged */
	hit(t, &in2, &r, 0, 1);
	hit(t, &agg, &r, 0, 1);
	hit(t, &out, &r, 0, 1);
	hit(t, &wide, &r, 0, 1);
	due_total = 0;
	assert_int_equal(window_forget_prefix(t, &pfx, count_due, NULL), 3);
	assert_int_equal(due_total, 2);
	window_peek(t, &in1, &r, 10, &p);
	assert_false(p.present);
	window_peek(t, &agg, &r, 10, &p);
	assert_false(p.present);
	window_peek(t, &out, &r, 10, &p);
	assert_true(p.present);
	window_peek(t, &wide, &r, 10, &p);
	assert_true(p.present);	/* wider than the prefix: not inside it */
	window_destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peek_counts_nothing),
		cmocka_unit_test(test_peek_under_limit),
		cmocka_unit_test(test_top_order),
		cmocka_unit_test(test_top_few),
		cmocka_unit_test(test_forget_key),
		cmocka_unit_test(test_forget_prefix),
	};
	return cmocka_run_group_tests_name("window_ctl", tests, NULL, NULL);
}
