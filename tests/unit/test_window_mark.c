/*
 * test_window_mark.c: window_mark_refusal(), the refusal line of a
 * refusal decided outside the table (the shared Redis store): the same
 * one line per key per window as the table's own refusals, the rest
 * handed out by the drain, nothing counted.
 */
#include "unit.h"

#include "window.h"

static struct window_key key4(uint8_t last)
{
	struct window_key k;

	memset(&k, 0, sizeof k);
	k.b[10] = k.b[11] = 0xff;
	k.b[12] = 192;
	k.b[15] = last;
	k.plen = 128;
	return k;
}

static uint64_t drained;
static void on_due(const struct window_due *d, void *arg)
{
	(void)arg;
	drained += d->suppressed;
}

static void test_one_line_per_window(void **state)
{
	struct window_table *t = window_create(1000, unit_seed());
	struct window_rule r = { 3, 60000, true, false, false };
	struct window_key k = key4(1);
	struct window_result res;
	int lines = 0;

	(void)state;
	assert_non_null(t);
	/* the key is known here (the table counted its connections) and
	 * under its limit: Redis refuses it all the same */
	window_check(t, &k, &r, 60000, 1000, &res);
	assert_int_equal(res.verdict, WINDOW_ALLOW);
	for (int i = 0; i < 5; i++) {
		window_mark_refusal(t, &k, &r, 2000 + (uint64_t)i, &res);
		lines += res.log;
	}
	assert_int_equal(lines, 1);
	/* nothing was counted: the table still allows two more */
	window_check(t, &k, &r, 60000, 3000, &res);
	assert_int_equal(res.verdict, WINDOW_ALLOW);
	assert_int_equal(res.count, 2);
	/* a window later: a new line, carrying the four not logged */
	window_mark_refusal(t, &k, &r, 2000 + 60000, &res);
	assert_true(res.log);
	assert_int_equal(res.suppressed, 4);
	/* the drain hands out what is left: none lost */
	window_mark_refusal(t, &k, &r, 2000 + 60001, &res);
	assert_false(res.log);
	drained = 0;
	window_drain(t, on_due, NULL);
	assert_int_equal(drained, 1);
	window_destroy(t);
}

static void test_unknown_key_logs(void **state)
{
	struct window_table *t = window_create(1000, unit_seed());
	struct window_rule r = { 3, 60000, true, false, false };
	struct window_key k = key4(2);
	struct window_result res;

	(void)state;
	/* no entry to keep a mark in: every such refusal gets its line */
	window_mark_refusal(t, &k, &r, 1000, &res);
	assert_true(res.log);
	window_mark_refusal(t, &k, &r, 1001, &res);
	assert_true(res.log);
	assert_int_equal(res.suppressed, 0);
	window_destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_line_per_window),
		cmocka_unit_test(test_unknown_key_logs),
	};

	return cmocka_run_group_tests_name("window_mark", tests, NULL, NULL);
}
