/*
 * test_redis_breaker.c: the circuit breaker (redis_breaker.h) on a clock
 * the test moves: closed until a failure, one probe per interval while
 * the others skip, the back-off doubling from 1 s to a 60 s cap, closed
 * again by a good probe; one transition reported each way; every
 * failure counted by its reason.
 */
#include "unit.h"

#include "redis_breaker.h"

static void test_closed_until_failure(void **state)
{
	struct redis_breaker b;
	uint32_t next = 0;
	uint64_t down = 0;

	(void)state;
	redis_breaker_init(&b);
	for (int i = 0; i < 100; i++)
		assert_int_equal(redis_breaker_enter(&b, 1000 + i), REDIS_GATE_PASS);
	/* a pass that succeeds reports nothing */
	assert_false(redis_breaker_ok(&b, REDIS_GATE_PASS, 1100, &down));
	assert_false(redis_breaker_is_down(&b));
	/* the first failure opens it, once */
	assert_true(redis_breaker_fail(&b, REDIS_GATE_PASS, REDIS_R_TIMEOUT, 2000, &next));
	assert_int_equal(next, 1000);
	assert_true(redis_breaker_is_down(&b));
	/* calls in flight that fail too: counted, no second transition */
	assert_false(redis_breaker_fail(&b, REDIS_GATE_PASS, REDIS_R_TIMEOUT, 2001, &next));
	assert_false(redis_breaker_fail(&b, REDIS_GATE_PASS, REDIS_R_EOF, 2002, &next));
	assert_int_equal(atomic_load(&b.reasons[REDIS_R_TIMEOUT]), 2);
	assert_int_equal(atomic_load(&b.reasons[REDIS_R_EOF]), 1);
	/* a late success of a pass does not close it */
	assert_false(redis_breaker_ok(&b, REDIS_GATE_PASS, 2003, &down));
	assert_true(redis_breaker_is_down(&b));
}

static void test_one_probe_per_interval(void **state)
{
	struct redis_breaker b;
	uint32_t next = 0;
	uint64_t now = 10000, down = 0;
	/* the back-off after each failed probe: 1 s doubling, 60 s cap */
	static const uint32_t want[] = { 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000 };

	(void)state;
	redis_breaker_init(&b);
	assert_true(redis_breaker_fail(&b, REDIS_GATE_PASS, REDIS_R_CONNECT, now, &next));
	assert_int_equal(next, 1000);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		uint64_t at = now + next;

		/* before the interval: everyone skips */
		assert_int_equal(redis_breaker_enter(&b, at - 1), REDIS_GATE_SKIP);
		/* at it: one probe, the others still skip */
		assert_int_equal(redis_breaker_enter(&b, at), REDIS_GATE_PROBE);
		assert_int_equal(redis_breaker_enter(&b, at), REDIS_GATE_SKIP);
		assert_int_equal(redis_breaker_enter(&b, at + 100000), REDIS_GATE_SKIP);
		now = at + 3;	/* the probe took 3 ms and failed */
		assert_false(redis_breaker_fail(&b, REDIS_GATE_PROBE, REDIS_R_CONNECT, now, &next));
		assert_int_equal(next, want[i]);
	}
	/* a good probe closes it, once, and says for how long it was down */
	assert_int_equal(redis_breaker_enter(&b, now + next), REDIS_GATE_PROBE);
	assert_true(redis_breaker_ok(&b, REDIS_GATE_PROBE, now + next + 1, &down));
	assert_int_equal(down, now + next + 1 - 10000);
	assert_false(redis_breaker_is_down(&b));
	assert_int_equal(redis_breaker_enter(&b, now + next + 2), REDIS_GATE_PASS);
	assert_int_equal(atomic_load(&b.reasons[REDIS_R_CONNECT]), 9);
	/* down again: the back-off starts over at 1 s */
	assert_true(redis_breaker_fail(&b, REDIS_GATE_PASS, REDIS_R_OOM, now + next + 5, &next));
	assert_int_equal(next, 1000);
}

static void test_reset(void **state)
{
	struct redis_breaker b;
	uint32_t next;

	(void)state;
	redis_breaker_init(&b);
	redis_breaker_fail(&b, REDIS_GATE_PASS, REDIS_R_AUTH, 0, &next);
	assert_int_equal(redis_breaker_enter(&b, 5), REDIS_GATE_SKIP);
	redis_breaker_reset(&b);
	assert_int_equal(redis_breaker_enter(&b, 6), REDIS_GATE_PASS);
	assert_int_equal(atomic_load(&b.reasons[REDIS_R_AUTH]), 1);
}

static void test_reason_names(void **state)
{
	(void)state;
	assert_string_equal(redis_reason_name(REDIS_R_TIMEOUT), "timeout");
	assert_string_equal(redis_reason_name(REDIS_R_AUTH), "auth");
	assert_string_equal(redis_reason_name(REDIS_R_WRONGTYPE), "wrong_type");
	assert_string_equal(redis_reason_name(REDIS_R_COUNT), "other");
	for (int i = 0; i < REDIS_R_COUNT; i++)
		assert_non_null(redis_reason_name((enum redis_reason)i));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_closed_until_failure),
		cmocka_unit_test(test_one_probe_per_interval),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_reason_names),
	};

	return cmocka_run_group_tests_name("redis_breaker", tests, NULL, NULL);
}
