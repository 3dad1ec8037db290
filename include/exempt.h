/*
 * exempt.h: the exemption set, an immutable longest-prefix-match structure.
 *
 * Built once from a Berkeley DB map (or, in tests, entry by entry), then
 * only read: lookups take no lock and touch no Berkeley DB.  Prefixes are
 * flattened at build time into sorted, disjoint address ranges, each
 * carrying the value of the longest prefix that covers it, so a lookup is
 * one binary search whatever the nesting.
 */
#ifndef MRL_EXEMPT_H
#define MRL_EXEMPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* What a map entry says about the addresses under it. */
enum exempt_kind {
	EXEMPT_OK = 1,		/* never counted, never refused */
	EXEMPT_LIMIT = 2,	/* counted against its own limit and window */
};

struct exempt_value {
	enum exempt_kind kind;
	uint32_t limit;		/* EXEMPT_LIMIT: connections per window */
	uint32_t window_s;	/* EXEMPT_LIMIT: seconds */
};

/* One matching entry, as a lookup reports it. */
struct exempt_match {
	struct addr prefix;
	int plen;		/* family terms */
	struct exempt_value value;
};

struct exempt_builder;
struct exempt;

struct exempt_builder *exempt_builder_new(void);
/* Add prefix/plen (family terms; host bits must be clear).  A prefix
 * added twice keeps the value added first.  False only when out of memory. */
bool exempt_builder_add(struct exempt_builder *b, const struct addr *prefix,
    int plen, const struct exempt_value *v);
/* Add a name entry (canonical, names.h): it covers that name and every
 * name under it.  A name added twice keeps the value added first.  False
 * only when out of memory. */
bool exempt_builder_add_name(struct exempt_builder *b, const char *name,
    const struct exempt_value *v);
/* Consumes the builder.  Returns NULL only when memory runs out. */
struct exempt *exempt_build(struct exempt_builder *b);
void exempt_builder_free(struct exempt_builder *b);

/*
 * Load a Berkeley DB map (hash or btree, as makemap or ratelimit-map wrote
 * it).  Keys are addresses, CIDR prefixes or names; a trailing NUL (makemap -N)
 * is accepted.  An entry that is not an address or prefix, or whose value
 * is not understood, is reported through warn(file, key, reason) and
 * skipped.  Returns NULL with a reason in err when the map cannot be
 * opened or read.
 */
typedef void exempt_warn_fn(const char *path, const char *key,
    const char *reason);
struct exempt *exempt_load_db(const char *path, exempt_warn_fn *warn,
    char *err, size_t errlen);

/* An empty set (no map configured). */
struct exempt *exempt_empty(void);

/* Longest-prefix match.  Returns false when no entry covers a. */
bool exempt_lookup(const struct exempt *e, const struct addr *a,
    struct exempt_match *out);

/* The name entry that covers name (canonical, verified: names.h), the
 * longest first; its value in *out.  Returns the entry's name, which
 * lives as long as e, or NULL.  O(labels of name). */
const char *exempt_lookup_name(const struct exempt *e, const char *name,
    struct exempt_value *out);
bool exempt_has_names(const struct exempt *e);

/* The longest entry that covers all of a's /plen (family terms): the
 * longest over a that is no longer than plen.  False when none does. */
bool exempt_lookup_covering(const struct exempt *e, const struct addr *a,
    int plen, struct exempt_match *out);

size_t exempt_count(const struct exempt *e);	/* entries loaded, names too */
uint32_t exempt_max_window_s(const struct exempt *e);	/* longest entry window, 0 if none */
size_t exempt_memory(const struct exempt *e);
void exempt_free(struct exempt *e);

/* Parse a map value ("OK", case-insensitive, or N/DURATION; see
 * mapentry.h).  False with a reason. */
bool exempt_parse_value(const char *s, struct exempt_value *out,
    char *err, size_t errlen);

#endif
