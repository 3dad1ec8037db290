/*
 * lpm.h: a brute-force longest-prefix match over a list of map entries,
 * the oracle the exemption set (exempt.c) is checked against.
 *
 * The rules, from exempt.h: IPv4 entries cover only IPv4 addresses and
 * IPv6 entries only IPv6 ones; the longest covering prefix wins; of a
 * prefix added twice the first one's value counts.
 */
#ifndef MRL_FUZZ_LPM_H
#define MRL_FUZZ_LPM_H

#include "exempt.h"
#include "fuzz.h"
#include "mapentry.h"

static inline bool
lpm_covers(const struct map_entry *e, const struct addr *a)
{
	return addr_is_v4(&e->prefix) == addr_is_v4(a) &&
	    same_leading_bits(&e->prefix, a, e->plen);
}

/* Index of the entry that should answer for a, or -1. */
static inline long
lpm_find(const struct map_entry *e, size_t n, const struct addr *a)
{
	long best = -1;

	for (size_t i = 0; i < n; i++)
		if (lpm_covers(&e[i], a) && (best < 0 || e[i].plen > e[best].plen))
			best = (long)i;
	return best;
}

/* Index of the entry that covers all of a's /within (family terms): the
 * longest over a no longer than within, or -1. */
static inline long
lpm_find_within(const struct map_entry *e, size_t n, const struct addr *a,
    int within)
{
	long best = -1;

	for (size_t i = 0; i < n; i++)
		if (e[i].plen <= within && lpm_covers(&e[i], a) &&
		    (best < 0 || e[i].plen > e[best].plen))
			best = (long)i;
	return best;
}

static inline bool
lpm_same_key(const struct map_entry *a, const struct map_entry *b)
{
	return a->plen == b->plen && same_addr(&a->prefix, &b->prefix);
}

/* Check one lookup of ex (built from e[0..n) in order) against the list. */
static inline void
lpm_check(const struct exempt *ex, const struct map_entry *e, size_t n,
    const struct addr *a)
{
	struct exempt_match m;
	long want = lpm_find(e, n, a);
	bool got;
	char text[ADDR_STRLEN];

	memset(&m, 0x5a, sizeof m);
	got = exempt_lookup(ex, a, &m);
	addr_format(text, sizeof text, a);
	CHECK(got == (want >= 0), "lookup of %s: found %d, expected %d", text, got, want >= 0);
	if (!got)
		return;
	CHECK(same_addr(&m.prefix, &e[want].prefix) && m.plen == e[want].plen,
	    "lookup of %s: got an entry /%d, expected entry %ld (/%d)", text, m.plen,
	    want, e[want].plen);
	CHECK(m.value.kind == e[want].value.kind && m.value.limit == e[want].value.limit &&
	    m.value.window_s == e[want].value.window_s,
	    "lookup of %s: the value is not the first added for that prefix", text);
	CHECK(exempt_lookup(ex, a, NULL), "lookup of %s with out == NULL", text);

	/* exempt_lookup_covering, at a length the address picks */
	int within = a->b[15] % (addr_is_v4(a) ? 33 : 129);
	want = lpm_find_within(e, n, a, within);
	memset(&m, 0x5a, sizeof m);
	got = exempt_lookup_covering(ex, a, within, &m);
	CHECK(got == (want >= 0), "covering /%d of %s: found %d, expected %d", within,
	    text, got, want >= 0);
	if (got)
		CHECK(same_addr(&m.prefix, &e[want].prefix) && m.plen == e[want].plen,
		    "covering /%d of %s: got an entry /%d, expected entry %ld (/%d)",
		    within, text, m.plen, want, e[want].plen);
}

/* a + delta (delta -1 or +1) within its family; false when it would leave
 * the family's address space. */
static inline bool
lpm_step(struct addr *a, int delta)
{
	int lo = addr_is_v4(a) ? 12 : 0;

	for (int i = 15; i >= lo; i--) {
		if (delta > 0 ? a->b[i]++ != 0xff : a->b[i]-- != 0x00)
			return true;
	}
	return false;	/* wrapped: undo is not needed, the caller drops it */
}

/* The last address of e's prefix. */
static inline struct addr
lpm_last(const struct map_entry *e)
{
	struct addr a = e->prefix;
	int bits = addr_is_v4(&a) ? e->plen + 96 : e->plen;

	for (int i = bits; i < 128; i++)
		a.b[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	return a;
}

/*
 * Build the set from e[0..n) and check: count, longest window, and a
 * lookup at each prefix's first and last address and just outside them.
 */
static inline void
lpm_check_all(const struct map_entry *e, size_t n)
{
	struct exempt_builder *b = exempt_builder_new();
	struct exempt *ex;
	size_t distinct = 0;
	uint32_t maxw = 0;

	CHECK(b != NULL, "exempt_builder_new");
	for (size_t i = 0; i < n; i++) {
		bool first = true;

		CHECK(exempt_builder_add(b, &e[i].prefix, e[i].plen, &e[i].value),
		    "exempt_builder_add");
		for (size_t j = 0; j < i && first; j++)
			if (lpm_same_key(&e[j], &e[i]))
				first = false;
		if (first) {
			distinct++;
			if (e[i].value.kind == EXEMPT_LIMIT && e[i].value.window_s > maxw)
				maxw = e[i].value.window_s;
		}
	}
	ex = exempt_build(b);
	CHECK(ex != NULL, "exempt_build");
	CHECK(exempt_count(ex) == distinct, "exempt_count %zu, expected %zu",
	    exempt_count(ex), distinct);
	CHECK(exempt_max_window_s(ex) == maxw, "exempt_max_window_s %u, expected %u",
	    exempt_max_window_s(ex), maxw);
	(void)exempt_memory(ex);
	for (size_t i = 0; i < n; i++) {
		struct addr a = e[i].prefix, z = lpm_last(&e[i]);

		lpm_check(ex, e, n, &a);
		lpm_check(ex, e, n, &z);
		if (lpm_step(&a, -1))
			lpm_check(ex, e, n, &a);
		if (lpm_step(&z, +1))
			lpm_check(ex, e, n, &z);
	}
	/* The ends of both address spaces. */
	{
		static const struct addr ends[] = {
			{ { 0 } },
			{ { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
			{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0 } },
			{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
		};
		for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
			lpm_check(ex, e, n, &ends[i]);
	}
	exempt_free(ex);
}

#endif
