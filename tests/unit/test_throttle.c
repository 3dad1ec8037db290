/*
 * test_throttle.c: one refusal log line per key per window (throttle.h).
 *
 * The slot a key lands in depends on the hash seed, so a collision between
 * two keys happens in a real run only now and then.  Here the table is
 * tiny: with one slot every pair of keys collides, always; with a fixed
 * seed and a table as large as the keys are few, the non-colliding paths
 * are checked by the counts they must give.  Time is an argument.
 */
#include "unit.h"

#include "throttle.h"

#define WIN 60000u
#define T0 5000000u

/* The throttle of the running test, freed by the next setup or at the end
 * (cmocka runs no teardown after a failed assertion). */
static struct throttle *th;

static int one_slot(void **state)
{
	(void)state;
	throttle_destroy(th);
	th = throttle_create(1, unit_seed());
	return th == NULL ? -1 : 0;
}

static int done(void **state)
{
	(void)state;
	throttle_destroy(th);
	th = NULL;
	return 0;
}

static struct window_key key(uint8_t last, uint8_t plen)
{
	struct window_key k;

	memset(&k, 0, sizeof k);
	k.b[10] = 0xff;
	k.b[11] = 0xff;
	k.b[12] = 192;
	k.b[14] = 2;
	k.b[15] = last;
	k.plen = plen;
	return k;
}

static bool same(const struct window_key *a, const struct window_key *b)
{
	return a->plen == b->plen && memcmp(a->b, b->b, 16) == 0;
}

/* One refusal; returns whether a line is due, with its counts. */
static bool refuse(const struct window_key *k, uint32_t win, uint64_t now,
    uint32_t *supp, struct throttle_due *ev)
{
	return throttle_refusal(th, k, win, now, supp, ev);
}

/* First refusal: a line; the rest of the window: counted, no line; the
 * first after the window: a line saying how many were held back. */
static void test_one_line_per_window(void **state)
{
	struct window_key a = key(1, 128);
	struct throttle_due ev;
	uint32_t supp = 99;

	(void)state;
	assert_true(refuse(&a, WIN, T0, &supp, &ev));
	assert_int_equal(supp, 0);
	assert_int_equal(ev.suppressed, 0);
	for (uint32_t i = 1; i <= 7; i++) {
		assert_false(refuse(&a, WIN, T0 + i * 1000, &supp, &ev));
		assert_int_equal(ev.suppressed, 0);
	}
	/* One millisecond short of the window: still held back. */
	assert_false(refuse(&a, WIN, T0 + WIN - 1, &supp, &ev));
	assert_true(refuse(&a, WIN, T0 + WIN, &supp, &ev));
	assert_int_equal(supp, 8);
	/* The count starts again from that line. */
	assert_false(refuse(&a, WIN, T0 + WIN + 1, &supp, &ev));
	assert_true(refuse(&a, WIN, T0 + 2 * WIN, &supp, &ev));
	assert_int_equal(supp, 1);
}

/* Two keys in one slot: the newcomer takes it and logs; the old key's
 * held-back count comes back as evicted, to be logged at once. */
static void test_collision_hands_back_pending(void **state)
{
	struct window_key a = key(1, 128), b = key(2, 128);
	struct throttle_due ev;
	uint32_t supp;

	(void)state;
	assert_true(refuse(&a, WIN, T0, &supp, &ev));
	assert_false(refuse(&a, WIN, T0 + 1, &supp, &ev));
	assert_false(refuse(&a, WIN, T0 + 2, &supp, &ev));

	assert_true(refuse(&b, WIN, T0 + 3, &supp, &ev));
	assert_int_equal(supp, 0);
	assert_int_equal(ev.suppressed, 2);
	assert_true(same(&ev.key, &a));

	/* a comes back: a line at once (its slot was taken), and b had
	 * nothing held back, so nothing is handed back. */
	assert_true(refuse(&a, WIN, T0 + 4, &supp, &ev));
	assert_int_equal(supp, 0);
	assert_int_equal(ev.suppressed, 0);
	assert_int_equal(ev.key.plen, 0);
	/* Nothing was lost: a's 2 were handed back, b's none; no flush due. */
	{
		struct throttle_due out[2];
		assert_int_equal(throttle_flush(th, T0 + 4 + WIN, out, 2), 0);
	}
}

/* The same bytes under another prefix length are another client. */
static void test_plen_is_part_of_the_key(void **state)
{
	struct window_key a32 = key(0, 128), a24 = key(0, 120);
	struct throttle_due ev;
	uint32_t supp;

	(void)state;
	assert_true(refuse(&a32, WIN, T0, &supp, &ev));
	assert_false(refuse(&a32, WIN, T0 + 1, &supp, &ev));
	assert_true(refuse(&a24, WIN, T0 + 2, &supp, &ev));
	assert_int_equal(ev.suppressed, 1);
	assert_true(same(&ev.key, &a32));
}

/* flush: nothing before the window has passed; after it, the key with its
 * count, once; the summary counts as that window's line. */
static void test_flush_after_window(void **state)
{
	struct window_key a = key(1, 128);
	struct throttle_due ev, out[4];
	uint32_t supp;

	(void)state;
	assert_true(refuse(&a, WIN, T0, &supp, &ev));
	assert_false(refuse(&a, WIN, T0 + 10, &supp, &ev));
	assert_false(refuse(&a, WIN, T0 + 20, &supp, &ev));
	assert_int_equal(throttle_flush(th, T0 + WIN - 1, out, 4), 0);
	assert_int_equal(throttle_flush(th, T0 + WIN, out, 4), 1);
	assert_true(same(&out[0].key, &a));
	assert_int_equal(out[0].suppressed, 2);
	assert_int_equal(throttle_flush(th, T0 + 3 * WIN, out, 4), 0);
	/* A refusal right after the summary is held back: the summary was
	 * this window's line. */
	assert_false(refuse(&a, WIN, T0 + WIN + 1, &supp, &ev));
	assert_true(refuse(&a, WIN, T0 + 2 * WIN, &supp, &ev));
	assert_int_equal(supp, 1);
}

/* A key with nothing held back is never flushed. */
static void test_flush_skips_quiet_keys(void **state)
{
	struct window_key a = key(1, 128);
	struct throttle_due ev, out[1];
	uint32_t supp;

	(void)state;
	assert_true(refuse(&a, WIN, T0, &supp, &ev));
	assert_int_equal(throttle_flush(th, T0 + 5 * WIN, out, 1), 0);
}

/* Each key keeps the window of its own rule: a 1 s per-entry window lets
 * the next line out after 1 s, not after the global minute. */
static void test_window_per_key(void **state)
{
	struct window_key a = key(1, 128);
	struct throttle_due ev;
	uint32_t supp;

	(void)state;
	assert_true(refuse(&a, 1000, T0, &supp, &ev));
	assert_false(refuse(&a, 1000, T0 + 999, &supp, &ev));
	assert_true(refuse(&a, 1000, T0 + 1000, &supp, &ev));
	assert_int_equal(supp, 1);
}

/* Many keys, a table with room for them (fixed seed): every key's counts
 * add up, whatever slots they share; a collision hands its count back,
 * so logged + handed back + flushed = every refusal. */
static void test_counts_add_up_fixed_seed(void **state)
{
	enum { KEYS = 40, ROUNDS = 25, SLOTS = 64 };
	struct throttle_due ev, out[SLOTS];
	uint64_t lines = 0, held = 0, now = T0;
	uint64_t rng = 42;
	uint32_t supp;
	size_t n;

	(void)state;
	throttle_destroy(th);
	assert_non_null(th = throttle_create(SLOTS, unit_seed()));
	for (int r = 0; r < ROUNDS * KEYS; r++) {
		struct window_key k = key((uint8_t)unit_below(&rng, KEYS), 128);

		now += unit_below(&rng, 200);
		if (refuse(&k, WIN, now, &supp, &ev))
			lines++;
		held += supp + ev.suppressed;
	}
	while ((n = throttle_flush(th, now + WIN, out, SLOTS)) > 0)
		for (size_t i = 0; i < n; i++)
			held += out[i].suppressed;
	assert_int_equal(lines + held, (uint64_t)ROUNDS * KEYS);
}

/* flush returns at most max per call, and the next call goes on where the
 * last stopped. */
static void test_flush_bounded_and_resumes(void **state)
{
	enum { SLOTS = 16 };
	struct throttle_due ev, out[SLOTS];
	uint32_t supp, total = 0, calls = 0;
	size_t n;

	(void)state;
	throttle_destroy(th);
	assert_non_null(th = throttle_create(SLOTS, unit_seed()));
	for (uint8_t i = 1; i <= 40; i++) {
		struct window_key k = key(i, 128);
		refuse(&k, WIN, T0, &supp, &ev);
		refuse(&k, WIN, T0 + 1, &supp, &ev);
	}
	while ((n = throttle_flush(th, T0 + WIN + 1, out, 1)) > 0 && calls < 100) {
		assert_int_equal(n, 1);
		assert_int_equal(out[0].suppressed, 1);
		total++;
		calls++;
	}
	/* Every occupied slot (at most 16, at least 1) held one refusal back. */
	assert_true(total >= 1 && total <= SLOTS);
	assert_int_equal(throttle_flush(th, T0 + WIN + 1, out, SLOTS), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_one_line_per_window, one_slot),
		cmocka_unit_test_setup(test_collision_hands_back_pending, one_slot),
		cmocka_unit_test_setup(test_plen_is_part_of_the_key, one_slot),
		cmocka_unit_test_setup(test_flush_after_window, one_slot),
		cmocka_unit_test_setup(test_flush_skips_quiet_keys, one_slot),
		cmocka_unit_test_setup(test_window_per_key, one_slot),
		cmocka_unit_test_setup(test_counts_add_up_fixed_seed, one_slot),
		cmocka_unit_test_setup(test_flush_bounded_and_resumes, one_slot),
	};

	return cmocka_run_group_tests(tests, NULL, done);
}
