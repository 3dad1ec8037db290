/*
 * window.h: the sliding-window connection counter table.
 *
 * A fixed-size table of client keys, sized once at start from max_clients,
 * sharded, each shard under its own mutex.  It knows nothing of libmilter,
 * sockets or the clock: every call takes `now` in milliseconds from the
 * caller, so tests drive time exactly.
 *
 * Time across threads.  Callers read their clocks before they take a shard
 * lock, so they can arrive out of order: a `now` a moment older than a
 * slot that another thread has just stored.  Each shard keeps the latest
 * `now` it has been given and moves an older reading up to it, so within a
 * shard time never runs backwards and no entry ever looks older than it is
 * (an entry "from the future" would otherwise look idle for 49 days and be
 * swept or evicted at its limit).  We chose this over reading the clock
 * under the lock because it keeps the clock out of the critical section
 * and `now` an argument.  A caller whose reading is behind the shard's by
 * more than a moment (a test replaying two scenarios in one table) is
 * counted at the shard's time: give such scenarios tables of their own.
 * The reverse holds too: one reading far ahead (not possible with
 * CLOCK_MONOTONIC, as the daemon reads it) would hold the shard's time
 * there until real time catches up.
 *
 * How a window is counted.  Each entry keeps a ring of WINDOW_SLOTS
 * timestamps.  While limit <= WINDOW_SLOTS the ring holds the time of each
 * of the last counted connections and the count over the last `window` is
 * exact (to the millisecond).  For a larger limit each slot stands for a
 * group of g = ceil((limit - 1) / (WINDOW_SLOTS - 1)) connections and
 * records when the group began; a group that began before the window is
 * not counted at all, so the count can fall short by up to g - 1 and never
 * exceeds the truth: a client can get up to g - 1 connections more than
 * `limit` in a window (about limit / 9), never fewer than `limit`.  (The
 * newest group may hold a single connection, so the other nine must cover
 * the rest of the limit: hence limit - 1 over WINDOW_SLOTS - 1.)
 *
 * A reload that changes a client's group size (its limit moves to another
 * multiple of WINDOW_SLOTS) restarts that client's count: lenient for one
 * window, never stricter.  Limits up to WINDOW_SLOTS all use g = 1, so
 * changing among them keeps the counts exactly.
 *
 * Refusal lines.  A refused key gets one log line per window, however
 * often it knocks: the entry's mark says when that line was written, and
 * later refusals inside that window only count up.  The count is handed
 * out on the key's next line (suppressed=N) or, once the window has
 * passed, by window_sweep() for a summary line, and by window_drain() at
 * exit.  The marks live beside the entries under the shard locks, so the
 * bound holds for every tracked key whatever their number (no second
 * table whose slots two keys could fight over), costs no global lock,
 * and nothing is lost: per key, the lines' counts add up to its
 * refusals.  An entry with unlogged refusals is not evicted, and the
 * sweep keeps an entry while the window of its last line runs.  The one
 * way to get a second line in a window: an entry evicted (table full,
 * never while at its limit or with unlogged refusals) and refused again
 * within the same window starts a new mark.  With rule.log_all (log level
 * debug) and after window_drain() every refusal gets its line and carries
 * what was counted before, so the counts add up at every level.
 *
 * Several keys.  A client may be counted under several keys at once (its
 * /32 and its /24, each with its own rule): window_check_keys() decides
 * for all of them as one step.  It takes every shard lock the keys need
 * (in ascending shard order, so two such checks never deadlock), reads
 * every key, and only then writes: a connection that every key lets
 * through is counted in every key; a refused one is counted (with
 * count_refused) only in the keys that refused it.  Counting it in a key
 * that let it through would let one noisy /32, refused already, push
 * its whole /24 over the /24's limit and refuse its neighbours for
 * connections that were never served; count_refused is there to keep the
 * knocking client itself held, and the refusing keys do that.  No key is
 * written before all are read, so a refusal leaves no count behind in
 * the keys that did not refuse, and the check of a key never sees a
 * half-made decision of another thread.  The refusal is put down to one
 * key, the one that holds the client longest (the first such in the
 * caller's order): only that key's refusal line and mark (below) move,
 * so per key the lines still add up to the refusals put down to it.
 *
 * When the table is full, an idle entry (nothing within max_window) is
 * reused first; otherwise the least recently seen of a random sample that
 * is not at its limit is evicted.  An entry at or over its limit is never
 * evicted; a new client that finds no room is let through untracked and
 * counted in the stats.  A refused connection makes no room, and no key
 * of a check is evicted by the check itself (every key is looked up
 * before room is made for any).
 */
#ifndef MRL_WINDOW_H
#define MRL_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WINDOW_SLOTS 10
#define WINDOW_LIMIT_MAX 9000		/* keeps g <= 1000, the entry's 10-bit counters */
#define WINDOW_MS_MAX (86400u * 1000u)	/* one day */

struct window_table;

/* A client key: a masked address (struct addr form) and its prefix length,
 * 1..128, counted over all 128 bits (an IPv4 /32 is 128).
 * Two keys with the same bytes but another plen are different clients. */
struct window_key {
	uint8_t b[16];
	uint8_t plen;
};

/* The rule applied to one decision; may differ from call to call. */
struct window_rule {
	uint32_t limit;		/* 1..WINDOW_LIMIT_MAX */
	uint32_t window_ms;	/* 1..WINDOW_MS_MAX */
	bool count_refused;	/* a refused connection counts as well */
	bool log_all;		/* every refusal gets its line (log level debug) */
	bool would;		/* refusals are only logged (mode log): summaries say so */
};

enum window_verdict {
	WINDOW_ALLOW,		/* under the limit; counted */
	WINDOW_REFUSE,		/* over the limit */
	WINDOW_UNTRACKED,	/* no room in the table: let through, not counted */
};

struct window_result {
	enum window_verdict verdict;
	uint32_t count;		/* connections in the window, this one included */
	bool log;		/* REFUSE only: write this refusal's line */
	uint32_t suppressed;	/* with log: earlier refusals never logged */
};

/* The most keys one check may take (window_check_keys): a client's
 * CONFIG_KEYS_MAX and a map entry's own (clientkeys.h). */
#define WINDOW_KEYS_MAX 5

struct window_multi {
	struct window_result r[WINDOW_KEYS_MAX];	/* per key; log/suppressed
							 * only at refused_by */
	int refused_by;		/* the key the refusal is put down to; -1: none */
	uint32_t retry_ms;	/* refused: until every refusing key would let
				 * one more connection through (>= 1) */
};

/* A key whose refusals since its last line were not logged; or, with
 * key.plen 0, `keys` keys whose entries had to be reclaimed before the
 * control thread's sweep could name them (it had not run for a day). */
struct window_due {
	struct window_key key;
	uint64_t keys;
	uint64_t suppressed;
	bool would;		/* counted under mode log */
};
typedef void window_due_fn(const struct window_due *due, void *arg);

struct window_stats {
	uint64_t capacity;	/* entries, fixed at create */
	uint64_t used;		/* entries holding a client */
	uint64_t evictions;	/* clients dropped to make room */
	uint64_t untracked;	/* clients let through for want of room */
	uint64_t expired;	/* idle clients reclaimed */
};

/*
 * Create a table for max_clients keys (>= 1).  seed keys the hash; pass
 * random bytes in production and a fixed seed in tests.  Returns NULL with
 * errno set when memory cannot be had.  All memory is allocated here.
 */
struct window_table *window_create(size_t max_clients, const uint8_t seed[16]);
void window_destroy(struct window_table *t);

/* Bytes of memory the table holds (for the README figure and benchmarks). */
size_t window_memory(const struct window_table *t);

/*
 * Count one connection from key at now_ms and decide.  max_window_ms is the
 * longest window any rule may apply (it tells idle entries from live ones).
 * Takes and releases the key's shard lock; O(1) work under it.
 */
void window_check(struct window_table *t, const struct window_key *key,
    const struct window_rule *rule, uint32_t max_window_ms, uint64_t now_ms,
    struct window_result *out);

/*
 * The same for n keys (1..WINDOW_KEYS_MAX, all distinct) at once, rule
 * i for key i: see "Several keys" above.  Takes the keys' shard locks
 * together, in ascending order; O(n) work under them.  The connection is
 * refused when out->refused_by >= 0.
 */
void window_check_keys(struct window_table *t, size_t n,
    const struct window_key keys[], const struct window_rule rules[],
    uint32_t max_window_ms, uint64_t now_ms, struct window_multi *out);

/*
 * A refusal decided outside the table (Redis) for key: whether it gets
 * its line (out->log, out->suppressed), by the key's mark as for the
 * table's own refusals.  Counts nothing.  Takes the key's shard lock.
 */
void window_mark_refusal(struct window_table *t, const struct window_key *key,
    const struct window_rule *rule, uint64_t now_ms, struct window_result *out);

/*
 * Visit up to budget entries per shard, reclaiming those idle for
 * max_window_ms and forgetting the timestamps of live ones that have left
 * every window, and calling fn for every key whose window has passed
 * with refusals not logged (fn runs with no lock held; with fn NULL such
 * keys keep their counts and their entries).  Called once a
 * second by the maintenance thread; it keeps the entries' 32-bit
 * millisecond timestamps from ever wrapping (49 days).  Returns the
 * number reclaimed.
 */
size_t window_sweep(struct window_table *t, uint32_t max_window_ms,
    uint64_t now_ms, size_t budget, window_due_fn *fn, void *arg);

/* Call fn for every key with refusals not logged, window passed or not,
 * and clear them: at exit, so that no count is lost.  Takes each shard
 * lock in turn; fn runs with no lock held. */
void window_drain(struct window_table *t, window_due_fn *fn, void *arg);

/* A consistent-enough snapshot: each shard is read under its own lock. */
void window_stats(struct window_table *t, struct window_stats *out);

#endif
