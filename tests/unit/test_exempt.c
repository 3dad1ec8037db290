/*
 * test_exempt.c: the exemption set (exempt.h): builder, longest-prefix
 * match against a brute-force oracle, Berkeley DB maps written here with
 * libdb as makemap(8) writes them, and map values.
 */
#include "unit.h"

#include <db.h>

#include "addr.h"
#include "exempt.h"

/* A per-client-limit value whose fields tag which entry matched. */
static struct exempt_value val(uint32_t tag)
{
	struct exempt_value v;

	memset(&v, 0, sizeof(v));
	v.kind = EXEMPT_LIMIT;
	v.limit = tag;
	v.window_s = tag + 60;
	return v;
}

static void add(struct exempt_builder *b, const char *addr, int plen, uint32_t tag)
{
	struct addr a = unit_addr(addr);
	struct exempt_value v = val(tag);

	if (!exempt_builder_add(b, &a, plen, &v))
		fail_msg("exempt_builder_add(%s/%d) refused it", addr, plen);
}

/* Look addr up; want_tag 0 means "no match". */
static void lookup_is(const struct exempt *e, const char *addr, uint32_t want_tag,
    const char *want_prefix, int want_plen)
{
	struct addr a = unit_addr(addr);
	struct exempt_match m;
	bool hit;

	memset(&m, 0xee, sizeof(m));
	hit = exempt_lookup(e, &a, &m);
	if (want_tag == 0) {
		if (hit)
			fail_msg("%s matched (plen %d, tag %u), want no match", addr,
			    m.plen, m.value.limit);
		return;
	}
	if (!hit)
		fail_msg("%s: no match, want %s/%d", addr, want_prefix, want_plen);
	if (m.plen != want_plen || m.value.limit != want_tag ||
	    m.value.kind != EXEMPT_LIMIT || m.value.window_s != want_tag + 60) {
		fail_msg("%s: matched plen %d tag %u kind %d, want %s/%d tag %u",
		    addr, m.plen, m.value.limit, (int)m.value.kind, want_prefix,
		    want_plen, want_tag);
	}
	{
		struct addr wp = unit_addr(want_prefix);

		assert_addr_equal(&m.prefix, &wp);
	}
}

static struct exempt *build(struct exempt_builder *b)
{
	struct exempt *e = exempt_build(b);

	assert_non_null(e);
	return e;
}

/* ---- builder and lookup ----------------------------------------------------- */

static void check_nested(const struct exempt *e)
{
	lookup_is(e, "10.1.2.3", 3, "10.1.2.3", 32);
	lookup_is(e, "10.1.2.4", 2, "10.1.0.0", 16);
	lookup_is(e, "10.1.2.2", 2, "10.1.0.0", 16);
	lookup_is(e, "10.1.0.0", 2, "10.1.0.0", 16);
	lookup_is(e, "10.1.255.255", 2, "10.1.0.0", 16);
	lookup_is(e, "10.0.255.255", 1, "10.0.0.0", 8);
	lookup_is(e, "10.2.0.0", 1, "10.0.0.0", 8);
	lookup_is(e, "10.0.0.0", 1, "10.0.0.0", 8);
	lookup_is(e, "10.255.255.255", 1, "10.0.0.0", 8);
	lookup_is(e, "9.255.255.255", 0, NULL, 0);
	lookup_is(e, "11.0.0.0", 0, NULL, 0);
	lookup_is(e, "0.0.0.0", 0, NULL, 0);
	lookup_is(e, "255.255.255.255", 0, NULL, 0);
	/* the same bits as IPv6 are another family */
	lookup_is(e, "::a01:203", 0, NULL, 0);
	lookup_is(e, "a01:203::", 0, NULL, 0);
	assert_int_equal(exempt_count(e), 3);
}

static void test_nested_longest_wins(void **state)
{
	static const int orders[][3] = {
		{ 0, 1, 2 }, { 2, 1, 0 }, { 1, 0, 2 }, { 2, 0, 1 },
	};
	static const struct { const char *a; int plen; } ent[] = {
		{ "10.0.0.0", 8 }, { "10.1.0.0", 16 }, { "10.1.2.3", 32 },
	};
	size_t o;

	(void)state;
	for (o = 0; o < sizeof(orders) / sizeof(orders[0]); o++) {
		struct exempt_builder *b = exempt_builder_new();
		struct exempt *e;
		int i;

		assert_non_null(b);
		for (i = 0; i < 3; i++) {
			int j = orders[o][i];

			add(b, ent[j].a, ent[j].plen, (uint32_t)j + 1);
		}
		e = build(b);
		check_nested(e);
		exempt_free(e);
	}
}

static void test_nested_v6(void **state)
{
	struct exempt_builder *b = exempt_builder_new();
	struct exempt *e;

	(void)state;
	add(b, "2001:db8::", 32, 1);
	add(b, "2001:db8:1::", 48, 2);
	add(b, "2001:db8:1:2::", 64, 3);
	add(b, "2001:db8:1:2::5", 128, 4);
	e = build(b);
	lookup_is(e, "2001:db8:1:2::5", 4, "2001:db8:1:2::5", 128);
	lookup_is(e, "2001:db8:1:2::6", 3, "2001:db8:1:2::", 64);
	lookup_is(e, "2001:db8:1:2::4", 3, "2001:db8:1:2::", 64);
	lookup_is(e, "2001:db8:1:3::", 2, "2001:db8:1::", 48);
	lookup_is(e, "2001:db8:1:ffff:ffff:ffff:ffff:ffff", 2, "2001:db8:1::", 48);
	lookup_is(e, "2001:db8:2::", 1, "2001:db8::", 32);
	lookup_is(e, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 1, "2001:db8::", 32);
	lookup_is(e, "2001:db9::", 0, NULL, 0);
	lookup_is(e, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", 0, NULL, 0);
	lookup_is(e, "32.1.13.184", 0, NULL, 0);	/* 2001:0db8 as IPv4 */
	assert_int_equal(exempt_count(e), 4);
	exempt_free(e);
}

static void test_adjacent_and_disjoint(void **state)
{
	struct exempt_builder *b = exempt_builder_new();
	struct exempt *e;

	(void)state;
	add(b, "10.0.0.0", 24, 1);
	add(b, "10.0.1.0", 24, 2);
	add(b, "192.0.2.0", 24, 3);
	add(b, "198.51.100.0", 24, 4);
	add(b, "198.51.101.0", 32, 5);
	e = build(b);
	lookup_is(e, "9.255.255.255", 0, NULL, 0);
	lookup_is(e, "10.0.0.0", 1, "10.0.0.0", 24);
	lookup_is(e, "10.0.0.255", 1, "10.0.0.0", 24);
	lookup_is(e, "10.0.1.0", 2, "10.0.1.0", 24);
	lookup_is(e, "10.0.1.255", 2, "10.0.1.0", 24);
	lookup_is(e, "10.0.2.0", 0, NULL, 0);
	lookup_is(e, "192.0.1.255", 0, NULL, 0);
	lookup_is(e, "192.0.2.128", 3, "192.0.2.0", 24);
	lookup_is(e, "192.0.3.0", 0, NULL, 0);
	lookup_is(e, "198.51.100.255", 4, "198.51.100.0", 24);
	lookup_is(e, "198.51.101.0", 5, "198.51.101.0", 32);
	lookup_is(e, "198.51.101.1", 0, NULL, 0);
	assert_int_equal(exempt_count(e), 5);
	exempt_free(e);
}

static void test_default_routes_and_families(void **state)
{
	struct exempt_builder *b;
	struct exempt *e;

	(void)state;
	/* 0.0.0.0/0 covers every IPv4 address and no IPv6 one */
	b = exempt_builder_new();
	add(b, "0.0.0.0", 0, 1);
	e = build(b);
	lookup_is(e, "0.0.0.0", 1, "0.0.0.0", 0);
	lookup_is(e, "1.2.3.4", 1, "0.0.0.0", 0);
	lookup_is(e, "255.255.255.255", 1, "0.0.0.0", 0);
	lookup_is(e, "::ffff:1.2.3.4", 1, "0.0.0.0", 0);
	lookup_is(e, "::", 0, NULL, 0);
	lookup_is(e, "::1", 0, NULL, 0);
	lookup_is(e, "::1.2.3.4", 0, NULL, 0);
	lookup_is(e, "::fffe:ffff:ffff", 0, NULL, 0);
	lookup_is(e, "::1:0:0:0", 0, NULL, 0);
	lookup_is(e, "2001:db8::1", 0, NULL, 0);
	lookup_is(e, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0, NULL, 0);
	exempt_free(e);

	/* ::/0 covers every IPv6 address and no IPv4 one, though in the
	 * 16-byte form ::ffff:0:0/96 lies inside it */
	b = exempt_builder_new();
	add(b, "::", 0, 2);
	e = build(b);
	lookup_is(e, "::", 2, "::", 0);
	lookup_is(e, "::1", 2, "::", 0);
	lookup_is(e, "::fffe:ffff:ffff", 2, "::", 0);
	lookup_is(e, "::1:0:0:0", 2, "::", 0);
	lookup_is(e, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 2, "::", 0);
	lookup_is(e, "0.0.0.0", 0, NULL, 0);
	lookup_is(e, "1.2.3.4", 0, NULL, 0);
	lookup_is(e, "255.255.255.255", 0, NULL, 0);
	exempt_free(e);

	/* IPv6 prefixes whose bytes span the v4-mapped block still match
	 * only IPv6 */
	b = exempt_builder_new();
	add(b, "::", 80, 3);
	add(b, "::fffe:0:0", 95, 4);
	add(b, "192.0.2.0", 24, 5);
	e = build(b);
	lookup_is(e, "::1", 3, "::", 80);
	lookup_is(e, "::fffe:1:2", 4, "::fffe:0:0", 95);
	lookup_is(e, "1.2.3.4", 0, NULL, 0);
	lookup_is(e, "192.0.2.9", 5, "192.0.2.0", 24);
	lookup_is(e, "255.255.255.255", 0, NULL, 0);
	assert_int_equal(exempt_count(e), 3);
	exempt_free(e);

	/* both default routes together */
	b = exempt_builder_new();
	add(b, "0.0.0.0", 0, 1);
	add(b, "::", 0, 2);
	add(b, "10.0.0.0", 8, 6);
	e = build(b);
	lookup_is(e, "1.2.3.4", 1, "0.0.0.0", 0);
	lookup_is(e, "10.9.9.9", 6, "10.0.0.0", 8);
	lookup_is(e, "::1", 2, "::", 0);
	lookup_is(e, "a00::", 2, "::", 0);
	assert_int_equal(exempt_count(e), 3);
	exempt_free(e);
}

/* A prefix added twice keeps the value added first (and add succeeds). */
static void test_duplicates(void **state)
{
	struct exempt_builder *b = exempt_builder_new();
	struct exempt *e;
	struct addr a = unit_addr("10.0.0.0");
	struct exempt_value v1 = val(1), v2 = val(2), ok;

	(void)state;
	memset(&ok, 0, sizeof(ok));
	ok.kind = EXEMPT_OK;
	assert_true(exempt_builder_add(b, &a, 8, &v1));
	assert_true(exempt_builder_add(b, &a, 8, &v2));
	assert_true(exempt_builder_add(b, &a, 8, &ok));
	/* same bytes, other length: not a duplicate */
	assert_true(exempt_builder_add(b, &a, 16, &v2));
	a = unit_addr("::");
	assert_true(exempt_builder_add(b, &a, 0, &v1));
	assert_true(exempt_builder_add(b, &a, 0, &v2));
	e = build(b);
	lookup_is(e, "10.1.0.0", 1, "10.0.0.0", 8);	/* the first value kept */
	lookup_is(e, "10.0.1.0", 2, "10.0.0.0", 16);
	lookup_is(e, "::5", 1, "::", 0);
	assert_int_equal(exempt_count(e), 3);
	exempt_free(e);
}

static void test_max_window(void **state)
{
	struct exempt_builder *b = exempt_builder_new();
	struct exempt *e;
	struct addr a;
	struct exempt_value ok, l1, l2;

	(void)state;
	memset(&ok, 0, sizeof(ok));
	ok.kind = EXEMPT_OK;
	l1 = ok;
	l1.kind = EXEMPT_LIMIT;
	l1.limit = 5;
	l1.window_s = 600;
	l2 = l1;
	l2.window_s = 7200;

	e = exempt_empty();
	assert_int_equal(exempt_max_window_s(e), 0);
	exempt_free(e);

	/* OK entries have no window */
	a = unit_addr("10.0.0.0");
	assert_true(exempt_builder_add(b, &a, 8, &ok));
	e = build(b);
	assert_int_equal(exempt_max_window_s(e), 0);
	exempt_free(e);

	b = exempt_builder_new();
	assert_true(exempt_builder_add(b, &a, 8, &ok));
	a = unit_addr("2001:db8::");
	assert_true(exempt_builder_add(b, &a, 32, &l2));
	a = unit_addr("192.0.2.0");
	assert_true(exempt_builder_add(b, &a, 24, &l1));
	e = build(b);
	assert_int_equal(exempt_max_window_s(e), 7200);
	exempt_free(e);

	/* a duplicate's value is dropped, and so is its window */
	b = exempt_builder_new();
	a = unit_addr("192.0.2.0");
	assert_true(exempt_builder_add(b, &a, 24, &l1));
	assert_true(exempt_builder_add(b, &a, 24, &l2));
	e = build(b);
	assert_int_equal(exempt_max_window_s(e), 600);
	exempt_free(e);
}

static void test_empty_sets(void **state)
{
	struct exempt *e = exempt_empty();
	struct exempt_builder *b;
	static const char *const probes[] = {
		"0.0.0.0", "10.0.0.1", "255.255.255.255", "::", "::1", "2001:db8::1",
	};
	size_t i;

	(void)state;
	assert_non_null(e);
	assert_int_equal(exempt_count(e), 0);
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		lookup_is(e, probes[i], 0, NULL, 0);
	exempt_free(e);

	b = exempt_builder_new();
	e = build(b);
	assert_int_equal(exempt_count(e), 0);
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		lookup_is(e, probes[i], 0, NULL, 0);
	exempt_free(e);

	/* a builder may be dropped unbuilt (no leak under ASan) */
	b = exempt_builder_new();
	add(b, "10.0.0.0", 8, 1);
	add(b, "::1", 128, 2);
	exempt_builder_free(b);
}

/* ---- random sets against a brute-force LPM ---------------------------------- */

struct rentry {
	struct addr p;
	int plen;		/* family terms */
	bool v4;
	uint32_t tag;
};

/* Does prefix e cover a?  Families never mix. */
static bool covers(const struct rentry *e, bool a_v4, const struct addr *a)
{
	int bits, full, rest;

	if (e->v4 != a_v4)
		return false;
	bits = (e->v4 ? 96 : 0) + e->plen;
	full = bits / 8;
	rest = bits % 8;
	if (memcmp(e->p.b, a->b, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((e->p.b[full] ^ a->b[full]) & (0xff00 >> rest) & 0xff) == 0;
}

static void clear_from(uint8_t b[16], int from)
{
	int i;

	for (i = from; i < 128; i++)
		b[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
}

/* Random prefixes clustered under a few roots so that they nest. */
static struct rentry random_prefix(uint64_t *rng)
{
	static const char *const roots[] = {
		"10.0.0.0", "10.1.0.0", "192.0.2.0", "0.0.0.0", "128.0.0.0",
		"2001:db8::", "2001:db8:1::", "fe80::", "::", "ffff::",
	};
	struct rentry e;
	const char *root = roots[unit_below(rng, sizeof(roots) / sizeof(roots[0]))];
	int i, lo;

	memset(&e, 0, sizeof(e));
	e.p = unit_addr(root);
	e.v4 = unit_is_mapped(e.p.b);
	if (e.v4) {
		lo = root[0] == '1' && root[1] == '0' ? 8 : 0;
		e.plen = lo + (int)unit_below(rng, (uint64_t)(33 - lo));
		for (i = 12; i < 16; i++)
			e.p.b[i] |= (uint8_t)unit_rand(rng);
		/* keep it in the root's neighbourhood */
		if (root[0] == '1' && root[1] == '0') {
			e.p.b[12] = 10;
			if (root[3] == '1' && unit_below(rng, 2))
				e.p.b[13] = 1;
		}
		clear_from(e.p.b, 96 + e.plen);
	} else {
		e.plen = (int)unit_below(rng, 129);
		if (strcmp(root, "::") == 0 && e.plen > 80)
			e.plen = (int)unit_below(rng, 81);	/* never v4-mapped */
		for (i = 4; i < 16; i++)
			if (unit_below(rng, 3) == 0)
				e.p.b[i] = (uint8_t)unit_rand(rng);
		if (strcmp(root, "::") == 0)
			memset(e.p.b, 0, 10);
		clear_from(e.p.b, e.plen);
		if (unit_is_mapped(e.p.b))
			e.p.b[9] = 1;	/* not expressible as IPv6; nudge */
		clear_from(e.p.b, e.plen);
		if (unit_is_mapped(e.p.b))
			e.plen = 0, memset(e.p.b, 0, 16);
	}
	return e;
}

static struct addr random_probe(uint64_t *rng, const struct rentry *set, size_t n)
{
	struct addr a;
	int i;

	if (n > 0 && unit_below(rng, 4) != 0) {
		const struct rentry *e = &set[unit_below(rng, n)];
		int off = e->v4 ? 96 : 0, bit;

		a = e->p;
		switch (unit_below(rng, 4)) {
		case 0:		/* first address of the prefix */
			break;
		case 1:		/* last address */
			for (bit = off + e->plen; bit < 128; bit++)
				a.b[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
			break;
		default:	/* anywhere inside, or a flipped bit just outside */
			for (bit = off + e->plen; bit < 128; bit++)
				if (unit_below(rng, 2))
					a.b[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
			if (e->plen > 0 && unit_below(rng, 3) == 0) {
				bit = off + e->plen - 1 - (int)unit_below(rng, 3);
				if (bit >= off)
					a.b[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
			}
			break;
		}
		return a;
	}
	for (i = 0; i < 16; i++)
		a.b[i] = (uint8_t)unit_rand(rng);
	if (unit_below(rng, 2)) {
		memset(a.b, 0, 10);
		a.b[10] = a.b[11] = 0xff;
	} else if (unit_is_mapped(a.b)) {
		a.b[0] = 0x20;
	}
	return a;
}

static void test_random_against_brute_force(void **state)
{
	uint64_t seed;
	unsigned long covering_checked = 0;

	(void)state;
	for (seed = 1; seed <= 6; seed++) {
		uint64_t rng = seed * 7777;
		size_t n = seed == 1 ? 40 : 200 * (size_t)seed, kept = 0, q, i;
		struct rentry *set = calloc(n, sizeof(*set));
		struct exempt_builder *b = exempt_builder_new();
		struct exempt *e;

		assert_non_null(set);
		for (i = 0; i < n; i++) {
			struct rentry r = random_prefix(&rng);
			bool dup = false;
			struct exempt_value v;
			size_t j;

			for (j = 0; j < kept; j++)
				if (set[j].plen == r.plen && set[j].v4 == r.v4 &&
				    unit_addr_eq(&set[j].p, &r.p))
					dup = true;
			/* a duplicate carries another tag: the first must stay */
			r.tag = (uint32_t)(dup ? 60000 + i : kept + 1);
			v = val(r.tag);
			if (!exempt_builder_add(b, &r.p, r.plen, &v))
				fail_msg("seed %llu: add #%zu (%s) failed",
				    (unsigned long long)seed, i,
				    dup ? "duplicate" : "new prefix");
			if (!dup)
				set[kept++] = r;
		}
		e = build(b);
		assert_int_equal(exempt_count(e), kept);

		for (q = 0; q < 3000; q++) {
			struct addr a = random_probe(&rng, set, kept);
			bool a_v4 = unit_is_mapped(a.b), hit;
			const struct rentry *best = NULL;
			struct exempt_match m;
			char hx[40];

			for (i = 0; i < kept; i++)
				if (covers(&set[i], a_v4, &a) &&
				    (best == NULL || set[i].plen > best->plen))
					best = &set[i];
			memset(&m, 0xee, sizeof(m));
			hit = exempt_lookup(e, &a, &m);
			if (hit != (best != NULL))
				fail_msg("seed %llu query %s: lookup %d, brute force %d",
				    (unsigned long long)seed, unit_hex16(a.b, hx), hit,
				    best != NULL);
			if (best != NULL && (m.plen != best->plen ||
			    m.value.limit != best->tag ||
			    !unit_addr_eq(&m.prefix, &best->p)))
				fail_msg("seed %llu query %s: matched /%d tag %u, want "
				    "/%d tag %u", (unsigned long long)seed,
				    unit_hex16(a.b, hx), m.plen, m.value.limit,
				    best->plen, best->tag);
			/* exempt_lookup_covering: the longest no longer than
			 * a random length (family terms) */
			{
				int within = (int)unit_below(&rng, a_v4 ? 33 : 129);

				best = NULL;
				for (i = 0; i < kept; i++)
					if (set[i].plen <= within && covers(&set[i], a_v4, &a) &&
					    (best == NULL || set[i].plen > best->plen))
						best = &set[i];
				memset(&m, 0xee, sizeof(m));
				hit = exempt_lookup_covering(e, &a, within, &m);
				if (hit != (best != NULL) || (best != NULL &&
				    (m.plen != best->plen || m.value.limit != best->tag ||
				    !unit_addr_eq(&m.prefix, &best->p))))
					fail_msg("seed %llu query %s within /%d: covering %d /%d, "
					    "brute force %d /%d", (unsigned long long)seed,
					    unit_hex16(a.b, hx), within, hit, hit ? m.plen : -1,
					    best != NULL, best ? best->plen : -1);
				covering_checked += best != NULL;
			}
		}
		exempt_free(e);
		free(set);
	}
	/* a walk that never finds an outer entry proves nothing */
	assert_true(covering_checked > 1000);
}

/* ---- exempt_parse_value ------------------------------------------------------ */

static void test_parse_value(void **state)
{
	static const char *const ok[] = { "OK", "ok", "Ok", "oK" };
	static const struct {
		const char *s;
		uint32_t limit, window_s;
	} lim[] = {
		{ "10/60", 10, 60 }, { "100/60", 100, 60 }, { "500/1h", 500, 3600 },
		{ "20/10m", 20, 600 }, { "1/1d", 1, 86400 }, { "7/45", 7, 45 },
		{ "5/90s", 5, 90 }, { "9000/1", 9000, 1 }, { "1/86400", 1, 86400 },
		{ "3/1s", 3, 1 }, { "3/1440m", 3, 86400 }, { "3/24h", 3, 86400 },
	};
	static const char *const bad[] = {
		"", "O", "OKAY", "OK ", " OK", "OK\n", "REJECT", "RELAY", "DISCARD",
		"NO", "10", "0", "limit=5", "ok ok",
		"0/60", "9001/60", "10001/60", "-1/60", "10/0", "10/86401", "10/2d", "10/25h",
		"10/1441m", "10/", "/60", "/", "10/60x", "10/60 ", " 10/60",
		"10 /60", "10/ 60", "10/1.5h", "10//60", "10/60/60", "1e3/60",
		"0x10/60", "10/h", "4294967306/60", "10/4294967356",
	};
	size_t i;
	int nbad = 0;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct exempt_value v;
		char err[128] = "";

		memset(&v, 0xee, sizeof(v));
		if (!exempt_parse_value(ok[i], &v, err, sizeof(err)))
			fail_msg("exempt_parse_value(\"%s\") failed: %s", ok[i], err);
		assert_int_equal(v.kind, EXEMPT_OK);
	}
	for (i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
		struct exempt_value v;
		char err[128] = "";

		memset(&v, 0xee, sizeof(v));
		if (!exempt_parse_value(lim[i].s, &v, err, sizeof(err))) {
			print_error("exempt_parse_value(\"%s\") failed: %s\n",
			    lim[i].s, err);
			nbad++;
		} else if (v.kind != EXEMPT_LIMIT || v.limit != lim[i].limit ||
		    v.window_s != lim[i].window_s) {
			print_error("exempt_parse_value(\"%s\"): kind %d %u/%u, want "
			    "LIMIT %u/%u\n", lim[i].s, (int)v.kind, v.limit,
			    v.window_s, lim[i].limit, lim[i].window_s);
			nbad++;
		}
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct exempt_value v;
		char err[128] = "";

		if (exempt_parse_value(bad[i], &v, err, sizeof(err))) {
			print_error("exempt_parse_value(\"%s\") accepted it\n", bad[i]);
			nbad++;
		} else if (err[0] == '\0') {
			print_error("exempt_parse_value(\"%s\"): empty reason\n", bad[i]);
			nbad++;
		}
	}
	assert_int_equal(nbad, 0);
}

/* ---- exempt_load_db --------------------------------------------------------- */

struct kv {
	const char *k, *v;
};

/* Write a map as makemap does: keys and values without a NUL, or with
 * one (makemap -N). */
static void make_db(const char *path, DBTYPE type, const struct kv *kvs, size_t n,
    bool with_nul)
{
	DB *db;
	size_t i;
	int r;

	assert_int_equal(db_create(&db, NULL, 0), 0);
	r = db->open(db, NULL, path, NULL, type, DB_CREATE | DB_EXCL, 0644);
	if (r != 0)
		fail_msg("DB->open %s: %s", path, db_strerror(r));
	for (i = 0; i < n; i++) {
		DBT key, data;

		memset(&key, 0, sizeof(key));
		memset(&data, 0, sizeof(data));
		key.data = (void *)(uintptr_t)kvs[i].k;
		key.size = (u_int32_t)(strlen(kvs[i].k) + (with_nul ? 1 : 0));
		data.data = (void *)(uintptr_t)kvs[i].v;
		data.size = (u_int32_t)(strlen(kvs[i].v) + (with_nul ? 1 : 0));
		r = db->put(db, NULL, &key, &data, 0);
		if (r != 0)
			fail_msg("DB->put %s: %s", kvs[i].k, db_strerror(r));
	}
	assert_int_equal(db->close(db, 0), 0);
}

#define MAXWARN 32
static struct {
	int n;
	char path[PATH_MAX];
	char key[MAXWARN][128];
	char reason[MAXWARN][256];
} warns;

static void warn_cb(const char *path, const char *key, const char *reason)
{
	if (warns.n < MAXWARN) {
		snprintf(warns.path, sizeof(warns.path), "%s", path ? path : "(null)");
		snprintf(warns.key[warns.n], sizeof(warns.key[0]), "%s",
		    key ? key : "(null)");
		snprintf(warns.reason[warns.n], sizeof(warns.reason[0]), "%s",
		    reason ? reason : "");
	}
	warns.n++;
}

static bool warned_about(const char *key)
{
	int i;

	for (i = 0; i < warns.n && i < MAXWARN; i++)
		if (strcmp(warns.key[i], key) == 0)
			return true;
	return false;
}

static const struct kv good_map[] = {
	{ "10.0.0.0/8", "OK" },
	{ "192.0.2.1", "OK" },
	{ "2001:db8::/32", "OK" },
	{ "2001:db8:1::/48", "ok" },
	{ "198.51.100.0/24", "Ok" },
	{ "::ffff:203.0.113.7", "OK" },
	{ "2001:db8:ff::1", "OK" },
	{ "192.0.2.128/25", "100/1h" },
	{ "2001:db8:77::/48", "20/10m" },
};
#define NGOOD (sizeof(good_map) / sizeof(good_map[0]))

static void check_good(const struct exempt *e)
{
	struct exempt_match m;
	struct addr a;

	a = unit_addr("10.5.5.5");
	assert_true(exempt_lookup(e, &a, &m));
	assert_int_equal(m.plen, 8);
	assert_int_equal(m.value.kind, EXEMPT_OK);
	a = unit_addr("192.0.2.1");
	assert_true(exempt_lookup(e, &a, &m));
	assert_int_equal(m.plen, 32);
	a = unit_addr("192.0.2.2");
	assert_false(exempt_lookup(e, &a, &m));
	a = unit_addr("2001:db8:1::5");
	assert_true(exempt_lookup(e, &a, &m));
	assert_int_equal(m.plen, 48);
	a = unit_addr("2001:db8:2::");
	assert_true(exempt_lookup(e, &a, &m));
	assert_int_equal(m.plen, 32);
	a = unit_addr("2001:db8:ff::1");
	assert_true(exempt_lookup(e, &a, &m));
	assert_int_equal(m.plen, 128);
	a = unit_addr("198.51.100.77");
	assert_true(exempt_lookup(e, &a, &m));
	assert_int_equal(m.plen, 24);
	a = unit_addr("203.0.113.7");
	assert_true(exempt_lookup(e, &a, &m));
	assert_int_equal(m.plen, 32);
	a = unit_addr("203.0.113.8");
	assert_false(exempt_lookup(e, &a, &m));
	a = unit_addr("2001:db9::");
	assert_false(exempt_lookup(e, &a, &m));
	a = unit_addr("192.0.2.200");
	assert_true(exempt_lookup(e, &a, &m));
	assert_int_equal(m.plen, 25);
	assert_int_equal(m.value.kind, EXEMPT_LIMIT);
	assert_int_equal(m.value.limit, 100);
	assert_int_equal(m.value.window_s, 3600);
	a = unit_addr("2001:db8:77:1::1");
	assert_true(exempt_lookup(e, &a, &m));
	assert_int_equal(m.plen, 48);
	assert_int_equal(m.value.kind, EXEMPT_LIMIT);
	assert_int_equal(m.value.limit, 20);
	assert_int_equal(m.value.window_s, 600);
	assert_int_equal(exempt_max_window_s(e), 3600);
}

static void load_good(DBTYPE type, bool with_nul)
{
	char dir[PATH_MAX], path[PATH_MAX], err[256] = "";
	struct exempt *e;

	unit_tmpdir(dir, sizeof(dir));
	unit_path(path, sizeof(path), dir, "exempt.db");
	make_db(path, type, good_map, NGOOD, with_nul);
	memset(&warns, 0, sizeof(warns));
	e = exempt_load_db(path, warn_cb, err, sizeof(err));
	if (e == NULL)
		fail_msg("exempt_load_db(%s type %d nul %d): %s", path, (int)type,
		    with_nul, err);
	if (warns.n != 0)
		fail_msg("type %d nul %d: %d warnings, first \"%s\": %s", (int)type,
		    with_nul, warns.n, warns.key[0], warns.reason[0]);
	assert_int_equal(exempt_count(e), NGOOD);
	check_good(e);
	exempt_free(e);
	unit_rmtree(dir);
}

static void test_load_db_hash(void **state)
{
	(void)state;
	load_good(DB_HASH, false);
}

static void test_load_db_btree(void **state)
{
	(void)state;
	load_good(DB_BTREE, false);
}

static void test_load_db_trailing_nul(void **state)
{
	(void)state;
	load_good(DB_HASH, true);
	load_good(DB_BTREE, true);
}

static void test_load_db_bad_entries(void **state)
{
	static const struct kv map[] = {
		{ "10.0.0.0/8", "OK" },
		{ "notanip", "OK" },
		{ "1.2.3.4/33", "OK" },
		{ "172.16.0.1/12", "OK" },	/* host bits */
		{ "2001:db8::1/64", "OK" },	/* host bits */
		{ "192.0.2.99", "REJECT" },	/* value not understood */
		{ "192.0.2.100", "" },
		{ "192.0.2.101", "0/60" },	/* limit out of range */
		{ "192.0.2.102", "10/2d" },	/* window out of range */
		{ "2001:db8:5::/48", "OK" },
	};
	char dir[PATH_MAX], path[PATH_MAX], err[256] = "";
	struct exempt *e;
	struct exempt_match m;
	struct addr a;
	int i;

	(void)state;
	unit_tmpdir(dir, sizeof(dir));
	unit_path(path, sizeof(path), dir, "bad.db");
	make_db(path, DB_HASH, map, sizeof(map) / sizeof(map[0]), false);
	memset(&warns, 0, sizeof(warns));
	e = exempt_load_db(path, warn_cb, err, sizeof(err));
	if (e == NULL)
		fail_msg("exempt_load_db: %s", err);
	assert_int_equal(warns.n, 8);
	assert_string_equal(warns.path, path);
	assert_true(warned_about("notanip"));
	assert_true(warned_about("1.2.3.4/33"));
	assert_true(warned_about("172.16.0.1/12"));
	assert_true(warned_about("2001:db8::1/64"));
	assert_true(warned_about("192.0.2.99"));
	assert_true(warned_about("192.0.2.100"));
	assert_true(warned_about("192.0.2.101"));
	assert_true(warned_about("192.0.2.102"));
	for (i = 0; i < warns.n; i++)
		if (warns.reason[i][0] == '\0')
			fail_msg("warning for %s has no reason", warns.key[i]);
	assert_int_equal(exempt_count(e), 2);
	/* the bad ones were skipped, not half-loaded */
	a = unit_addr("172.16.0.1");
	assert_false(exempt_lookup(e, &a, &m));
	a = unit_addr("172.16.5.5");
	assert_false(exempt_lookup(e, &a, &m));
	a = unit_addr("2001:db8::1");
	assert_false(exempt_lookup(e, &a, &m));
	a = unit_addr("192.0.2.99");
	assert_false(exempt_lookup(e, &a, &m));
	a = unit_addr("192.0.2.100");
	assert_false(exempt_lookup(e, &a, &m));
	a = unit_addr("192.0.2.101");
	assert_false(exempt_lookup(e, &a, &m));
	a = unit_addr("192.0.2.102");
	assert_false(exempt_lookup(e, &a, &m));
	a = unit_addr("10.0.0.1");
	assert_true(exempt_lookup(e, &a, &m));
	a = unit_addr("2001:db8:5::9");
	assert_true(exempt_lookup(e, &a, &m));
	exempt_free(e);
	unit_rmtree(dir);
}

static void test_load_db_empty(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX], err[256] = "";
	struct exempt *e;
	struct exempt_match m;
	struct addr a = unit_addr("10.0.0.1");

	(void)state;
	unit_tmpdir(dir, sizeof(dir));
	unit_path(path, sizeof(path), dir, "empty.db");
	make_db(path, DB_HASH, NULL, 0, false);
	memset(&warns, 0, sizeof(warns));
	e = exempt_load_db(path, warn_cb, err, sizeof(err));
	if (e == NULL)
		fail_msg("exempt_load_db(empty): %s", err);
	assert_int_equal(exempt_count(e), 0);
	assert_false(exempt_lookup(e, &a, &m));
	assert_int_equal(warns.n, 0);
	exempt_free(e);
	unit_rmtree(dir);
}

static void test_load_db_unreadable(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX], err[256];
	char garbage[8192];
	struct exempt *e;
	size_t i;

	(void)state;
	unit_tmpdir(dir, sizeof(dir));

	/* missing */
	unit_path(path, sizeof(path), dir, "missing.db");
	memset(err, 0, sizeof(err));
	memset(&warns, 0, sizeof(warns));
	e = exempt_load_db(path, warn_cb, err, sizeof(err));
	assert_null(e);
	assert_true(err[0] != '\0');

	/* not a Berkeley DB file */
	for (i = 0; i + 1 < sizeof(garbage); i++)
		garbage[i] = "this is not a berkeley db\n"[i % 26];
	garbage[sizeof(garbage) - 1] = '\0';
	unit_path(path, sizeof(path), dir, "garbage.db");
	unit_write_file(path, garbage);
	memset(err, 0, sizeof(err));
	e = exempt_load_db(path, warn_cb, err, sizeof(err));
	assert_null(e);
	assert_true(err[0] != '\0');

	/* an empty file */
	unit_path(path, sizeof(path), dir, "zero.db");
	unit_write_file(path, "");
	memset(err, 0, sizeof(err));
	e = exempt_load_db(path, warn_cb, err, sizeof(err));
	assert_null(e);
	assert_true(err[0] != '\0');

	/* a directory */
	memset(err, 0, sizeof(err));
	e = exempt_load_db(dir, warn_cb, err, sizeof(err));
	assert_null(e);
	assert_true(err[0] != '\0');
	unit_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_longest_wins),
		cmocka_unit_test(test_nested_v6),
		cmocka_unit_test(test_adjacent_and_disjoint),
		cmocka_unit_test(test_default_routes_and_families),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_max_window),
		cmocka_unit_test(test_empty_sets),
		cmocka_unit_test(test_random_against_brute_force),
		cmocka_unit_test(test_parse_value),
		cmocka_unit_test(test_load_db_hash),
		cmocka_unit_test(test_load_db_btree),
		cmocka_unit_test(test_load_db_trailing_nul),
		cmocka_unit_test(test_load_db_bad_entries),
		cmocka_unit_test(test_load_db_empty),
		cmocka_unit_test(test_load_db_unreadable),
	};

	return cmocka_run_group_tests_name("exempt", tests, NULL, NULL);
}
