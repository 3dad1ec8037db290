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
 * otherwise: no libmilter, no clock (`now` is an argument).
 *
 * Refusal lines.  As for the rate limit (window.h), a refused key gets
 * at most one line per `window`: the key's slot keeps a mark (when its
 * line was written) and counts the refusals after it (suppressed).  The
 * count goes out on the key's next line (suppressed=N), or, once the
 * window has passed, from conc_sweep() for a summary line, or from
 * conc_drain() at exit: per key the lines' counts add up to its
 * refusals.  A slot is kept, though its last session has ended, while
 * its mark's window runs or a count waits: so a key cannot get a second
 * line in a window by closing its sessions.  Such slots count against
 * the table's bound; only a key at its limit gets a mark, and the sweep
 * frees the slot when the window has passed.  With log_all (log level
 * debug), and after conc_drain(), every refusal gets its line.
 */
#ifndef MRL_CONCURRENCY_H
#define MRL_CONCURRENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* The default bound: distinct keys with a session open or a refusal
 * mark kept.  A full shard evicts its oldest mark with nothing pending
 * (evict_mark), so clients that came and went cannot fill it; keys with
 * sessions open are capped by the MTA's own process limits. */
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

/* What one acquire applies. */
struct conc_rule {
	uint32_t limit;		/* >= 1 */
	bool force;		/* mode log: count a key at its limit all the same */
	bool log_all;		/* every refusal gets its line (log level debug) */
	uint32_t window_ms;	/* one refusal line per key per window_ms */
};

struct conc_outcome {
	uint32_t open;		/* sessions open for k (this one if counted) */
	bool log;		/* CONC_OVER only: write this refusal's line */
	uint32_t suppressed;	/* with log: earlier refusals never logged */
};

/* A key whose refusals since its last line were not logged. */
struct conc_due {
	struct conc_key key;
	uint64_t suppressed;
	bool would;		/* counted under mode log */
};
typedef void conc_due_fn(const struct conc_due *due, void *arg);

/*
 * Count one more session of k at now_ms when fewer than rule->limit
 * (>= 1) are open.  out->open gets the number of sessions open for k,
 * this one included when counted.  With rule->force (mode "log"), a key
 * at its limit is counted all the same and the result is CONC_OVER: the
 * caller logs and must release it.  On CONC_OVER, out->log says whether
 * this refusal gets its line (see "Refusal lines").  Takes k's shard lock.
 */
enum conc_result conc_acquire_at(struct conc_table *t, const struct conc_key *k,
    const struct conc_rule *rule, uint64_t now_ms, struct conc_outcome *out);


/* One session of k ended: false (and nothing changed) when k holds no
 * count, a caller's bug.  The key's slot is freed at zero.  Takes k's
 * shard lock. */
bool conc_release(struct conc_table *t, const struct conc_key *k);

/* Call fn for every key whose mark's window has passed with refusals
 * not logged, clear them, and free the slots of keys with no session
 * left.  Once a second from the control thread; O(1) when no key is
 * marked.  Takes each shard lock in turn; fn runs with no lock held. */
void conc_sweep(struct conc_table *t, uint64_t now_ms, conc_due_fn *fn,
    void *arg);

/* Call fn for every key with refusals not logged, window passed or not,
 * and clear them; later refusals all get their lines: at exit, so that no
 * count is lost. */
void conc_drain(struct conc_table *t, conc_due_fn *fn, void *arg);

/* Sessions open for k now (0 when absent). */
uint32_t conc_open(struct conc_table *t, const struct conc_key *k);
/* Keys held now (with a session open or a mark kept), summed over
 * shards (each under its lock). */
size_t conc_keys(struct conc_table *t);

#endif
