/*
 * exempt.c: the exemption set: build, load from Berkeley DB, look up.
 *
 * Build.  Prefixes either nest or are disjoint.  Sorted by start address
 * and then by length (wider first), one pass with a stack of the prefixes
 * that enclose the current point cuts the address space into disjoint
 * ranges, each labelled with the innermost (longest) prefix over it.
 * Lookup is then one binary search, whatever the nesting depth.  Each
 * prefix also keeps the index of the one that immediately encloses it
 * (the stack below it when it is pushed), so the entries over a point
 * can be walked outwards (exempt_lookup_covering).
 *
 * IPv4 and IPv6 are kept apart (IPv4 ranges in 32 bits, IPv6 in 128), so
 * an IPv4 entry can never cover an IPv6 address or the reverse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exempt.h"
#include "mapdb.h"
#include "mapentry.h"
#include "names.h"

typedef unsigned __int128 u128;

#define NO_PARENT UINT32_MAX

struct prefix {
	u128 lo, hi;
	int v4;
	int plen;
	size_t seq;		/* order of addition: the first of duplicates wins */
	struct addr addr;
	struct exempt_value value;
};

struct exempt_builder {
	struct prefix *p;
	size_t n, cap;
	char **names;		/* name entries, copied */
	struct exempt_value *nvalues;
	size_t nn, ncap;
};

struct range4 {
	uint32_t lo, hi;
	uint32_t m;		/* index into matches */
};

struct range6 {
	u128 lo, hi;
	uint32_t m;
};

struct exempt {
	struct range4 *r4;
	size_t n4;
	struct range6 *r6;
	size_t n6;
	struct exempt_match *match;
	uint32_t *parent;	/* per match: the enclosing match, or NO_PARENT */
	size_t nmatch;
	struct names_index *names;	/* name entries */
	uint32_t max_window_s;
};

static u128
to_u128(const uint8_t b[16])
{
	u128 v = 0;

	for (int i = 0; i < 16; i++)
		v = (v << 8) | b[i];
	return v;
}

struct exempt_builder *
exempt_builder_new(void)
{
	return calloc(1, sizeof(struct exempt_builder));
}

void
exempt_builder_free(struct exempt_builder *b)
{
	if (b) {
		for (size_t i = 0; i < b->nn; i++)
			free(b->names[i]);
		free(b->names);
		free(b->nvalues);
		free(b->p);
		free(b);
	}
}

bool
exempt_builder_add_name(struct exempt_builder *b, const char *name,
    const struct exempt_value *v)
{
	if (b->nn == b->ncap) {
		size_t ncap = b->ncap ? b->ncap * 2 : 16;
		char **nn = realloc(b->names, ncap * sizeof *nn);
		if (nn == NULL)
			return false;
		b->names = nn;
		struct exempt_value *nv = realloc(b->nvalues, ncap * sizeof *nv);
		if (nv == NULL)
			return false;
		b->nvalues = nv;
		b->ncap = ncap;
	}
	if ((b->names[b->nn] = strdup(name)) == NULL)
		return false;
	b->nvalues[b->nn++] = *v;
	return true;
}

bool
exempt_builder_add(struct exempt_builder *b, const struct addr *prefix,
    int plen, const struct exempt_value *v)
{
	struct prefix *p;
	int v4 = addr_is_v4(prefix);
	int bits = v4 ? plen + 96 : plen;
	u128 lo = to_u128(prefix->b);
	u128 span = bits == 0 ? ~(u128)0 : (((u128)1 << (128 - bits)) - 1);

	if (b->n == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 64;
		struct prefix *np = realloc(b->p, ncap * sizeof *np);
		if (np == NULL)
			return false;
		b->p = np;
		b->cap = ncap;
	}
	if (bits == 128)
		span = 0;
	p = &b->p[b->n++];
	p->lo = lo;
	p->hi = lo | span;
	p->v4 = v4;
	p->plen = plen;
	p->seq = b->n - 1;
	p->addr = *prefix;
	p->value = *v;
	return true;
}

static int
prefix_cmp(const void *a, const void *b)
{
	const struct prefix *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->plen != y->plen)
		return x->plen - y->plen;	/* wider first */
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct sweep {
	u128 *lo, *hi;
	uint32_t *m;
	size_t n, cap;
	int failed;
};

static void
emit(struct sweep *s, u128 lo, u128 hi, uint32_t m)
{
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		u128 *nl = realloc(s->lo, ncap * sizeof *nl);
		if (nl) s->lo = nl;
		u128 *nh = realloc(s->hi, ncap * sizeof *nh);
		if (nh) s->hi = nh;
		uint32_t *nm = realloc(s->m, ncap * sizeof *nm);
		if (nm) s->m = nm;
		if (!nl || !nh || !nm) {
			s->failed = 1;
			return;
		}
		s->cap = ncap;
	}
	s->lo[s->n] = lo;
	s->hi[s->n] = hi;
	s->m[s->n] = m;
	s->n++;
}

/*
 * Cut the sorted, deduplicated prefixes p[0..n) (one family) into
 * disjoint ranges.  first_match is the index the first prefix has in the
 * match table.  `cursor` is the first address not yet emitted; `done`
 * says the cursor has run past the top of the address space.  parent
 * (indexed like the match table) gets each prefix's enclosing one: once
 * the prefixes that end before p[i] are closed, the stack's top encloses
 * p[i], since prefixes nest or are disjoint.
 */
static void
cut_ranges(const struct prefix *p, size_t n, uint32_t first_match,
    uint32_t *parent, struct sweep *out)
{
	size_t *stack = malloc((n ? n : 1) * sizeof *stack);
	size_t depth = 0;
	u128 cursor = 0;
	int done = 0;

	if (stack == NULL) {
		out->failed = 1;
		return;
	}
	for (size_t i = 0; i <= n; i++) {
		/* Close every open prefix that ends before p[i] starts (all
		 * of them at the end). */
		while (depth > 0 && (i == n || p[stack[depth - 1]].hi < p[i].lo)) {
			const struct prefix *top = &p[stack[--depth]];
			if (!done && cursor <= top->hi)
				emit(out, cursor, top->hi, first_match + (uint32_t)stack[depth]);
			if (top->hi == ~(u128)0)
				done = 1;
			else if (!done && cursor <= top->hi)
				cursor = top->hi + 1;
		}
		if (i == n)
			break;
		if (depth > 0 && cursor < p[i].lo)
			emit(out, cursor, p[i].lo - 1, first_match + (uint32_t)stack[depth - 1]);
		parent[first_match + i] = depth > 0 ?
		    first_match + (uint32_t)stack[depth - 1] : NO_PARENT;
		stack[depth++] = i;
		cursor = p[i].lo;
		done = 0;
	}
	free(stack);
}

struct exempt *
exempt_build(struct exempt_builder *b)
{
	struct exempt *e = calloc(1, sizeof *e);
	struct sweep sw4 = { 0 }, sw6 = { 0 };
	size_t n4 = 0, w = 0;

	if (e == NULL)
		goto fail;
	/* IPv4 first, then IPv6, each sorted; of duplicates the first added
	 * sorts first and is kept. */
	for (size_t i = 0; i < b->n; i++)
		if (b->p[i].v4) {
			struct prefix t = b->p[i];
			b->p[i] = b->p[n4];
			b->p[n4++] = t;
		}
	if (b->n > 0) {		/* b->p is NULL for an empty map */
		qsort(b->p, n4, sizeof *b->p, prefix_cmp);
		qsort(b->p + n4, b->n - n4, sizeof *b->p, prefix_cmp);
	}
	for (size_t i = 0; i < b->n; i++) {
		if (w > 0 && b->p[w - 1].lo == b->p[i].lo &&
		    b->p[w - 1].plen == b->p[i].plen && b->p[w - 1].v4 == b->p[i].v4)
			continue;
		b->p[w++] = b->p[i];
	}
	/* Recount the IPv4 part after dropping duplicates. */
	n4 = 0;
	while (n4 < w && b->p[n4].v4)
		n4++;
	b->n = w;

	e->nmatch = w;
	e->match = calloc(w ? w : 1, sizeof *e->match);
	e->parent = calloc(w ? w : 1, sizeof *e->parent);
	if (e->match == NULL || e->parent == NULL)
		goto fail;
	for (size_t i = 0; i < w; i++) {
		if (b->p[i].value.kind == EXEMPT_LIMIT &&
		    b->p[i].value.window_s > e->max_window_s)
			e->max_window_s = b->p[i].value.window_s;
		e->match[i].prefix = b->p[i].addr;
		e->match[i].plen = b->p[i].plen;
		e->match[i].value = b->p[i].value;
	}
	for (size_t i = 0; i < b->nn; i++)
		if (b->nvalues[i].kind == EXEMPT_LIMIT &&
		    b->nvalues[i].window_s > e->max_window_s)
			e->max_window_s = b->nvalues[i].window_s;
	e->names = names_index_build((const char *const *)b->names, b->nvalues,
	    sizeof *b->nvalues, b->nn);
	if (e->names == NULL)
		goto fail;
	cut_ranges(b->p, n4, 0, e->parent, &sw4);
	/* b->p is NULL for an empty map: no arithmetic on it. */
	cut_ranges(b->p ? b->p + n4 : NULL, w - n4, (uint32_t)n4, e->parent, &sw6);
	if (sw4.failed || sw6.failed)
		goto fail;

	e->n4 = sw4.n;
	e->r4 = calloc(sw4.n ? sw4.n : 1, sizeof *e->r4);
	e->n6 = sw6.n;
	e->r6 = calloc(sw6.n ? sw6.n : 1, sizeof *e->r6);
	if (e->r4 == NULL || e->r6 == NULL)
		goto fail;
	for (size_t i = 0; i < sw4.n; i++) {
		e->r4[i].lo = (uint32_t)sw4.lo[i];
		e->r4[i].hi = (uint32_t)sw4.hi[i];
		e->r4[i].m = sw4.m[i];
	}
	for (size_t i = 0; i < sw6.n; i++) {
		e->r6[i].lo = sw6.lo[i];
		e->r6[i].hi = sw6.hi[i];
		e->r6[i].m = sw6.m[i];
	}
	free(sw4.lo); free(sw4.hi); free(sw4.m);
	free(sw6.lo); free(sw6.hi); free(sw6.m);
	exempt_builder_free(b);
	return e;
fail:
	free(sw4.lo); free(sw4.hi); free(sw4.m);
	free(sw6.lo); free(sw6.hi); free(sw6.m);
	exempt_free(e);
	exempt_builder_free(b);
	return NULL;
}

struct exempt *
exempt_empty(void)
{
	struct exempt_builder *b = exempt_builder_new();

	return b ? exempt_build(b) : NULL;
}

/* The index of the longest prefix over a, or NO_PARENT when none is. */
static uint32_t
find(const struct exempt *e, const struct addr *a)
{
	size_t lo = 0, hi;

	if (addr_is_v4(a)) {
		uint32_t x = (uint32_t)a->b[12] << 24 | (uint32_t)a->b[13] << 16 |
		    (uint32_t)a->b[14] << 8 | a->b[15];
		/* Find the last range whose start is <= x. */
		hi = e->n4;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (e->r4[mid].lo <= x)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == 0 || e->r4[lo - 1].hi < x)
			return NO_PARENT;
		return e->r4[lo - 1].m;
	} else {
		u128 x = to_u128(a->b);
		hi = e->n6;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (e->r6[mid].lo <= x)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == 0 || e->r6[lo - 1].hi < x)
			return NO_PARENT;
		return e->r6[lo - 1].m;
	}
}

bool
exempt_lookup(const struct exempt *e, const struct addr *a,
    struct exempt_match *out)
{
	uint32_t m = find(e, a);

	if (m == NO_PARENT)
		return false;
	if (out)
		*out = e->match[m];
	return true;
}

bool
exempt_lookup_covering(const struct exempt *e, const struct addr *a,
    int plen, struct exempt_match *out)
{
	uint32_t m = find(e, a);

	/* Outwards from the innermost entry over a: the first no longer
	 * than plen covers all of a's /plen. */
	while (m != NO_PARENT && e->match[m].plen > plen)
		m = e->parent[m];
	if (m == NO_PARENT)
		return false;
	if (out)
		*out = e->match[m];
	return true;
}

const char *
exempt_lookup_name(const struct exempt *e, const char *name,
    struct exempt_value *out)
{
	return names_index_lookup(e->names, name, out);
}

bool
exempt_has_names(const struct exempt *e)
{
	return e->names != NULL && names_index_count(e->names) > 0;
}

size_t
exempt_count(const struct exempt *e)
{
	return e->nmatch + (e->names ? names_index_count(e->names) : 0);
}

uint32_t
exempt_max_window_s(const struct exempt *e)
{
	return e->max_window_s;
}

size_t
exempt_memory(const struct exempt *e)
{
	return sizeof *e + e->n4 * sizeof *e->r4 + e->n6 * sizeof *e->r6 +
	    e->nmatch * (sizeof *e->match + sizeof *e->parent) +
	    (e->names ? names_index_memory(e->names) : 0);
}

void
exempt_free(struct exempt *e)
{
	if (e == NULL)
		return;
	free(e->r4);
	free(e->r6);
	free(e->match);
	names_index_free(e->names);
	free(e->parent);
	free(e);
}

bool
exempt_parse_value(const char *s, struct exempt_value *out, char *err,
    size_t errlen)
{
	return mapentry_parse_value(s, out, err, errlen);
}

struct exempt *
exempt_load_db(const char *path, exempt_warn_fn *warn, char *err,
    size_t errlen)
{
	struct map_entries m = { 0 };
	struct exempt_builder *b;
	struct exempt *e = NULL;

	if (!mapdb_read(path, &m, NULL, warn, err, errlen))
		goto out;
	if ((b = exempt_builder_new()) == NULL)
		goto oom;
	for (size_t i = 0; i < m.n; i++)
		if (m.e[i].name != NULL ?
		    !exempt_builder_add_name(b, m.e[i].name, &m.e[i].value) :
		    !exempt_builder_add(b, &m.e[i].prefix, m.e[i].plen, &m.e[i].value)) {
			exempt_builder_free(b);
			goto oom;
		}
	if ((e = exempt_build(b)) == NULL)
		goto oom;
	goto out;
oom:
	snprintf(err, errlen, "%s: out of memory", path);
out:
	mapdb_clear(&m);
	return e;
}
