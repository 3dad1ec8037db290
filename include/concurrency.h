/*
 * concurrency.h: open SMTP sessions per client key (max_concurrent).
 *
 * A bounded hash of key -> number of sessions open now.  A session is
 * counted once, at connect, under one key: the client's address masked
 * to the first key of its family (ipv4_prefix / ipv6_prefix); exempt and
 * address-less clients are never counted.  The caller keeps what it
 * counted (the session's private data) and gives exactly that back once,
 * when the session ends, so a count can neither leak nor go negative:
 * conc_release() of a key that holds nothing is refused and reported.
 *
 * The table lives in memory only, outside the reloadable rules: counts
 * survive SIGUSR1, and a restart starts from zero (a restart can lose a
 * count, never keep a stale one).  Sharded: one mutex per shard, held for
 * O(1) work (a short probe); no I/O or allocation under it.  Pure
 * otherwise: no libmilter, no clock.
 */
#ifndef MRL_CONCURRENCY_H
#define MRL_CONCURRENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* The default bound: distinct keys with a session open at once.  Far
 * above what an MTA runs (sendmail and Postfix cap their processes). */
#define CONC_KEYS_DEFAULT 65536u

struct conc_key {
	struct addr a;		/* already masked to plen */
	uint8_t plen;		/* 128-bit terms */
};

enum conc_result {
	CONC_COUNTED,	/* counted: release it when the session ends */
	CONC_OVER,	/* at its limit: not counted (unless force) */
	CONC_FULL,	/* no room for a new key: not counted */
};

struct conc_table;

/* A table for at most max_keys keys (>= 1); NULL when out of memory. */
struct conc_table *conc_create(size_t max_keys, const uint8_t seed[16]);
void conc_destroy(struct conc_table *t);

/* The key of a client address under a family prefix length (family terms:
 * 8..32 for IPv4, 16..128 for IPv6). */
void conc_key_make(struct conc_key *k, const struct addr *client, int plen);

/*
 * Count one more session of k when fewer than limit (>= 1) are open.
 * *open gets the number of sessions open for k, this one included when
 * counted.  With force (mode "log"), a key at its limit is counted all the
 * same and the result is CONC_OVER: the caller logs and must release it.
 * Takes k's shard lock.
 */
enum conc_result conc_acquire(struct conc_table *t, const struct conc_key *k,
    uint32_t limit, bool force, uint32_t *open);

/* One session of k ended: false (and nothing changed) when k holds no
 * count, a caller's bug.  The key's slot is freed at zero.  Takes k's
 * shard lock. */
bool conc_release(struct conc_table *t, const struct conc_key *k);

/* Sessions open for k now (0 when absent). */
uint32_t conc_open(struct conc_table *t, const struct conc_key *k);
/* Keys held now, summed over shards (each under its lock). */
size_t conc_keys(struct conc_table *t);

#endif
