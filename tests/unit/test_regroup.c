/*
 * test_regroup.c: a client's limit changing between group sizes (window.h).
 *
 * For limit > WINDOW_SLOTS a slot stands for g = ceil((limit - 1) / 9)
 * connections; slots kept with one g cannot be read with another.  The
 * promise (window.h, milter-ratelimit(8)): a change that moves a client to
 * another group size restarts its count, "lenient for one window, never
 * stricter", and a client is never refused before it has had `limit`
 * connections, nor let through more than g - 1 beyond it.  A table that
 * kept the old slots would refuse early after a raise (limit 5 -> 100:
 * refused at connection 56) and at once after a cut.  Changes within one
 * group size keep the count.  Time is an argument; nothing sleeps.
 */
#include "unit.h"

#include "window.h"

#define WIN_MS 60000u
#define T0 1000000u

/* The table of the running test, freed by the next setup or at the end
 * (cmocka runs no teardown after a failed assertion). */
static struct window_table *tab;

static int fresh(void **state)
{
	(void)state;
	window_destroy(tab);
	tab = window_create(64, unit_seed());
	return tab == NULL ? -1 : 0;
}

static int done(void **state)
{
	(void)state;
	window_destroy(tab);
	tab = NULL;
	return 0;
}

static struct window_key client(void)
{
	struct window_key k;

	memset(&k, 0, sizeof k);
	k.b[10] = 0xff;
	k.b[11] = 0xff;
	k.b[12] = 192;
	k.b[14] = 2;
	k.b[15] = 7;
	k.plen = 128;
	return k;
}

/* The group size the model gives a limit, computed here, not taken from
 * window.c: g = 1 up to WINDOW_SLOTS, else ceil((limit - 1) / 9). */
static uint32_t model_g(uint32_t limit)
{
	if (limit <= WINDOW_SLOTS)
		return 1;
	return (limit - 1 + (WINDOW_SLOTS - 1) - 1) / (WINDOW_SLOTS - 1);
}

/* Connections at now_ms under limit until the first refusal (refusals not
 * counted), at most max.  Returns how many were allowed. */
static uint32_t allowed_until_refused(uint32_t limit, uint64_t now_ms, uint32_t max)
{
	struct window_key k = client();
	struct window_rule r = { .limit = limit, .window_ms = WIN_MS, .count_refused = false };
	struct window_result res;
	uint32_t n;

	for (n = 0; n < max; n++) {
		window_check(tab, &k, &r, WIN_MS, now_ms, &res);
		assert_int_not_equal(res.verdict, WINDOW_UNTRACKED);
		if (res.verdict == WINDOW_REFUSE)
			return n;
	}
	return n;
}

/* n connections under limit, all of which must be allowed. */
static void connect_n(uint32_t limit, uint64_t now_ms, uint32_t n)
{
	struct window_key k = client();
	struct window_rule r = { .limit = limit, .window_ms = WIN_MS, .count_refused = false };
	struct window_result res;

	for (uint32_t i = 0; i < n; i++) {
		window_check(tab, &k, &r, WIN_MS, now_ms, &res);
		if (res.verdict != WINDOW_ALLOW)
			fail_msg("connection %u of %u under limit %u: not allowed", i + 1, n, limit);
	}
}

/* After `before` connections under limit `from`, the limit becomes `to`
 * in another group size: the count restarts, so the client gets at least
 * `to` and at most to + g - 1 more before a refusal. */
static void check_regroup(uint32_t from, uint32_t before, uint32_t to)
{
	uint32_t got, g = model_g(to);

	if (model_g(from) == g)
		fail_msg("test bug: %u and %u share group size %u", from, to, g);
	connect_n(from, T0, before);
	got = allowed_until_refused(to, T0 + 1, to + g + 5);
	if (got < to || got > to + g - 1)
		fail_msg("limit %u (g %u) -> %u (g %u) after %u connections: %u more "
		    "allowed, want %u..%u (count restarted)", from, model_g(from), to, g,
		    before, got, to, to + g - 1);
}

/* The case: 5 -> 100 must not refuse at connection 56. */
static void test_raise_g1_to_g11(void **state)
{
	(void)state;
	check_regroup(5, 5, 100);
}

/* Cut: 100 -> 5 after 50 connections restarts: exactly 5 more (g = 1). */
static void test_cut_g11_to_g1(void **state)
{
	(void)state;
	check_regroup(100, 50, 5);
}

static void test_raise_g3_to_g11(void **state)
{
	(void)state;
	check_regroup(20, 20, 100);
}

static void test_cut_g11_to_g3(void **state)
{
	(void)state;
	check_regroup(100, 60, 20);
}

static void test_raise_g1_to_g2(void **state)
{
	(void)state;
	check_regroup(10, 10, 11);
}

static void test_cut_g2_to_g1(void **state)
{
	(void)state;
	check_regroup(19, 15, 10);
}

/* The far edge: the largest limit and back. */
static void test_raise_to_max_and_back(void **state)
{
	(void)state;
	check_regroup(3, 3, WINDOW_LIMIT_MAX);
	assert_int_equal(allowed_until_refused(3, T0 + 2, 10), 3);
}

/* Within one group size the count is kept: limit 5 -> 8 (g = 1) after 5
 * gives exactly 3 more; 95 -> 100 (g = 11 both) after 95 stays within the
 * model's bounds for the total, 100..110, and never restarts. */
static void test_same_group_keeps_count(void **state)
{
	uint32_t got;

	(void)state;
	connect_n(5, T0, 5);
	assert_int_equal(allowed_until_refused(5, T0, 3), 0);
	assert_int_equal(allowed_until_refused(8, T0 + 1, 20), 3);

	fresh(NULL);
	assert_int_equal(model_g(95), model_g(100));
	connect_n(95, T0, 95);
	got = allowed_until_refused(100, T0 + 1, 200);
	if (95 + got < 100 || 95 + got > 100 + model_g(100) - 1)
		fail_msg("95 -> 100 (same g): %u more, want a total of 100..110", got);
}

/* Up, down and up again in one window: each move restarts the count;
 * once the window has passed, the client has exactly its limit again. */
static void test_regroup_twice_then_window_passes(void **state)
{
	uint32_t got;

	(void)state;
	connect_n(5, T0, 5);
	got = allowed_until_refused(100, T0 + 1, 120);
	if (got < 100 || got > 110)
		fail_msg("5 -> 100: %u more, want 100..110", got);
	assert_int_equal(allowed_until_refused(5, T0 + 2, 10), 5);
	assert_int_equal(allowed_until_refused(5, T0 + 3, 10), 0);
	assert_int_equal(allowed_until_refused(5, T0 + 2 + WIN_MS, 10), 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_raise_g1_to_g11, fresh),
		cmocka_unit_test_setup(test_cut_g11_to_g1, fresh),
		cmocka_unit_test_setup(test_raise_g3_to_g11, fresh),
		cmocka_unit_test_setup(test_cut_g11_to_g3, fresh),
		cmocka_unit_test_setup(test_raise_g1_to_g2, fresh),
		cmocka_unit_test_setup(test_cut_g2_to_g1, fresh),
		cmocka_unit_test_setup(test_raise_to_max_and_back, fresh),
		cmocka_unit_test_setup(test_same_group_keeps_count, fresh),
		cmocka_unit_test_setup(test_regroup_twice_then_window_passes, fresh),
	};

	return cmocka_run_group_tests(tests, NULL, done);
}
