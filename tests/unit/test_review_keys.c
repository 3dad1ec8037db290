/*
 * test_review_keys.c: review B proofs for window_check_keys() when the
 * table is full, keys in the order clientkeys_build() gives them (the
 * global /32 first, the /24 section after).
 */
#include "unit.h"

#include "window.h"

#define MIN_MS 60000u
#define HOUR_MS 3600000u

static struct window_table *tab;

static int cleanup(void **state)
{
	(void)state;
	window_destroy(tab);
	tab = NULL;
	return 0;
}

static struct window_key v4key(uint32_t ip, int plen)
{
	struct window_key k;
	uint32_t m = plen == 0 ? 0 : 0xffffffffu << (32 - plen);

	memset(&k, 0, sizeof k);
	k.b[10] = k.b[11] = 0xff;
	ip &= m;
	k.b[12] = (uint8_t)(ip >> 24);
	k.b[13] = (uint8_t)(ip >> 16);
	k.b[14] = (uint8_t)(ip >> 8);
	k.b[15] = (uint8_t)ip;
	k.plen = (uint8_t)(plen + 96);
	return k;
}

static struct window_rule rule(uint32_t limit, uint32_t window_ms, bool cr)
{
	struct window_rule r = { limit, window_ms, cr, false, false };
	return r;
}

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))

/* Fill the table with idle-free, not-full /32s of innocent clients. */
static uint32_t fill(uint64_t t)
{
	struct window_stats s;
	uint32_t cap;

	window_stats(tab, &s);
	cap = (uint32_t)(s.capacity - s.used);
	for (uint32_t i = 0; i < cap; i++) {
		struct window_key k = v4key(IP(10, 100, i >> 8, i & 255), 32);
		struct window_rule r = rule(WINDOW_LIMIT_MAX, HOUR_MS, true);
		struct window_result res;

		window_check(tab, &k, &r, HOUR_MS, t + i, &res);
	}
	return cap;
}

/*
 * A /24 at 5 of its 6 in a full table, the oldest entry there.  A fresh
 * /32 of it connects: keys {/32, /24}, as clientkeys_build orders them.
 * Making room for the /32 must not evict the /24 the same check reads
 * next: the /24 must count this connection as its 6th.  Tried over 200
 * tables of 100 entries (max_clients' floor) with different seeds.
 */
static void test_later_key_not_evicted(void **state)
{
	uint64_t t = 3000000;
	uint32_t net = IP(10, 200, 0, 0), lost = 0;

	(void)state;
	for (int round = 0; round < 200; round++) {
		uint8_t seed[16];
		struct window_multi m;

		memcpy(seed, unit_seed(), 16);
		seed[0] = (uint8_t)round;
		seed[1] = (uint8_t)(round >> 8);
		tab = window_create(100, seed);
		assert_non_null(tab);
		for (int c = 0; c < 5; c++) {
			struct window_key k = v4key(net, 24);
			struct window_rule r = rule(6, HOUR_MS, false);
			struct window_result res;
			window_check(tab, &k, &r, HOUR_MS, t + (uint64_t)c, &res);
		}
		fill(t + 10);
		{
			struct window_key k[2] = { v4key(net | 7, 32), v4key(net, 24) };
			struct window_rule r[2] = { rule(10, HOUR_MS, false),
			    rule(6, HOUR_MS, false) };
			window_check_keys(tab, 2, k, r, HOUR_MS, t + 1000, &m);
		}
		if (m.r[1].count != 6)
			lost++;
		window_destroy(tab);
		tab = NULL;
	}
	if (lost > 0)
		fail_msg("in %u of 200 tables the /24 (5 of 6) lost its count to "
		    "the eviction its own /32 made room with", lost);
}

/*
 * A /24 at its limit; its fresh /32s keep knocking and are refused by
 * the /24.  A refused connection is counted nowhere new (window.h), so
 * it must not make room either: no innocent entry may be evicted for it.
 */
static void test_refused_knock_evicts_nobody(void **state)
{
	uint64_t t = 3000000;
	uint32_t net = IP(10, 201, 0, 0);
	struct window_stats s0, s1;
	struct window_multi m;

	(void)state;
	tab = window_create(64, unit_seed());
	assert_non_null(tab);
	{	/* the /24 at its limit (1), first */
		struct window_key k = v4key(net, 24);
		struct window_rule r = rule(1, HOUR_MS, false);
		struct window_result res;
		window_check(tab, &k, &r, HOUR_MS, t, &res);
	}
	fill(t + 10);
	window_stats(tab, &s0);
	for (uint32_t i = 1; i <= 200; i++) {
		struct window_key k[2] = { v4key(net | i, 32), v4key(net, 24) };
		struct window_rule r[2] = { rule(10, HOUR_MS, false),
		    rule(1, HOUR_MS, false) };

		window_check_keys(tab, 2, k, r, HOUR_MS, t + 100000 + i, &m);
		if (m.refused_by != 1)
			fail_msg("knock %u: not refused by the /24 (refused_by %d)",
			    i, m.refused_by);
	}
	window_stats(tab, &s1);
	if (s1.evictions != s0.evictions)
		fail_msg("200 refused knocks evicted %llu innocent entries",
		    (unsigned long long)(s1.evictions - s0.evictions));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_later_key_not_evicted, cleanup),
		cmocka_unit_test_teardown(test_refused_knock_evicts_nobody, cleanup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
