/*
 * window.c: the sliding-window counter table (see window.h for the model).
 *
 * Layout.  The table is split into 2^k shards, each a fixed array of
 * 64-byte entries under one mutex.  A shard's hash chains live inside its
 * entries: entry i holds the head of bucket i (bhead) and the link of the
 * chain it belongs to (next), both 16-bit indices, so there is no separate
 * bucket array and no pointer anywhere: 64 bytes per client (plus its
 * 12-byte log mark, below), all of it
 * allocated at create time.  A shard therefore holds at most 65534
 * entries; big tables get more shards.
 *
 * Log marks.  Beside each entry, in a parallel array of 12-byte marks
 * under the same shard lock, the table keeps when the key's last refusal
 * line was written and how many refusals it has not logged since (see
 * window.h, "Refusal lines").  The entry itself has no spare bit; a
 * parallel array keeps the 64-byte entry and its cache line as they are.
 * An entry with unlogged refusals is never evicted and never released
 * before the control thread's sweep has handed its count out.
 *
 * Time.  Every caller reads its clock before it takes the shard lock, so
 * two threads can reach the lock in the other order than they read their
 * clocks: a `now` a moment older than a slot another thread just stored.
 * Computed modulo 2^32, such a slot's age would be near 2^32 and the
 * entry would look idle, so the sweep would release a client at its limit
 * and eviction would take it.  Each shard therefore keeps the latest time
 * any caller brought to it (shard.clock, under the shard lock) and a
 * caller with an older reading is moved up to it (shard_now): inside a
 * shard time never runs backwards, no slot is ever newer than the `now`
 * it is compared with, and every age is a true, non-negative age.  Reading
 * the clock under the lock instead would work too, but would put a system
 * call inside the critical section and take `now` away from the caller,
 * which the tests need to drive time exactly.
 *
 * Slots hold the low 32 bits of the caller's millisecond clock and
 * ages are computed modulo 2^32, which is right while an age is below
 * 2^32 - WINDOW_MS_MAX (48 days).  window_sweep() visits every entry every
 * minute or so and forgets slots that have left every window, and a shard
 * that has not been swept for a day is swept inline before use, so no
 * stored slot lives long enough to wrap.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "siphash.h"
#include "window.h"

#define NIL 0xffffu
#define SHARD_CAP_MAX 65534u
#define SHARDS_MIN_ENTRIES 1024u	/* a smaller table is one shard */
#define SHARDS_DEFAULT 64u		/* contention on 2 threads: p99 5-8 us at 16 */
#define EVICT_SAMPLES 8
#define SWEEP_STALE_MS (86400u * 1000u)

struct entry {
	uint32_t slot[WINDOW_SLOTS];	/* group start times, slot[0] newest */
	uint8_t key[16];
	uint16_t next;			/* chain link, or free-list link */
	uint16_t bhead;			/* head of bucket <this index> */
	uint32_t plen_m1:7;		/* key prefix length - 1 (family terms, 8..128) */
	uint32_t nrec:4;		/* slots in use; 0 = a free entry */
	uint32_t full:1;		/* at its limit at the last check */
	uint32_t pending:10;		/* connections in the newest group, 1..g */
	uint32_t gsize_m1:10;		/* group size g - 1 the slots were kept with */
};

_Static_assert(sizeof(struct entry) == 64, "an entry must stay 64 bytes");
_Static_assert((WINDOW_LIMIT_MAX - 1 + WINDOW_SLOTS - 2) / (WINDOW_SLOTS - 1) <= 1023,
    "g must fit gsize_m1 and pending");

/* The refusal-line state of entry i, at lm[i] of its shard. */
struct logmark {
	uint32_t logged;	/* low 32 bits of when the last line was written */
	uint32_t window_ms;	/* MARK_WINDOW: that line's window, 0 when no line's
				 * window runs; MARK_WOULD: the refusals are mode log's */
	uint32_t suppressed;	/* refusals since that line, not yet logged */
};
#define MARK_WINDOW 0x7fffffffu
#define MARK_WOULD 0x80000000u

struct shard {
	pthread_mutex_t lock;	/* guards every field below, the entries and marks */
	struct entry *e;
	struct logmark *lm;
	uint32_t cap;
	uint32_t used;
	uint16_t free_head;
	uint32_t sweep_pos;	/* where the next sweep resumes */
	uint64_t swept_ms;	/* when a sweep last passed over everything */
	uint64_t clock;		/* the latest now_ms any caller brought here */
	uint64_t rng;		/* xorshift state for eviction sampling */
	uint64_t evictions, untracked, expired;
	/* Unlogged refusals of entries the inline sweep had to reclaim
	 * before the control thread could name them, by kind (0 refused,
	 * 1 would-refuse): handed out by the next window_sweep(). */
	uint64_t orphan_keys[2], orphan_refusals[2];
	bool final;		/* drained at exit: log every refusal from now on */
} __attribute__((aligned(64)));

struct window_table {
	uint8_t seed[16];
	unsigned shard_bits;
	uint32_t nshards;
	struct shard *shards;
	struct entry *pool;	/* one allocation for every shard's entries */
	struct logmark *marks;	/* and one for their marks */
	size_t pool_bytes, mark_bytes;
};

/* One connection in the newest group plus nine full groups reach the
 * limit, so a full ring always refuses (see window.h). */
static uint32_t
group_size(uint32_t limit)
{
	if (limit <= WINDOW_SLOTS)
		return 1;
	return (limit - 1 + WINDOW_SLOTS - 2) / (WINDOW_SLOTS - 1);
}

static uint64_t
key_hash(const struct window_table *t, const struct window_key *k)
{
	uint8_t buf[17];

	memcpy(buf, k->b, 16);
	buf[16] = k->plen;
	return siphash13(t->seed, buf, sizeof buf);
}

static struct shard *
shard_of(struct window_table *t, uint64_t h)
{
	return &t->shards[t->shard_bits ? h >> (64 - t->shard_bits) : 0];
}

static uint32_t
bucket_of(const struct shard *s, uint64_t h)
{
	return (uint32_t)(((h & 0xffffffffu) * (uint64_t)s->cap) >> 32);
}

/*
 * Entries per shard for a table of `total` spread over n shards.  Hashing
 * does not fill shards evenly: each gets total/n on average, give or take
 * sqrt(total/n).  Three standard deviations of slack let the table hold
 * max_clients keys before a shard is full, but for the odd few (a shard
 * short of room evicts within itself); at a million keys, 2.4% more
 * entries.
 */
static uint32_t
shard_entries(size_t total, uint32_t n)
{
	double m = (double)(total + n - 1) / n;

	return n == 1 ? (uint32_t)total : (uint32_t)(m + 3 * sqrt(m) + 1);
}

struct window_table *
window_create(size_t max_clients, const uint8_t seed[16])
{
	struct window_table *t;
	uint32_t nshards = SHARDS_DEFAULT, per;
	unsigned bits = 6;

	if (max_clients == 0 || max_clients > (size_t)SHARD_CAP_MAX << 16) {
		errno = EINVAL;
		return NULL;
	}
	while (nshards > 1 && max_clients / nshards < SHARDS_MIN_ENTRIES)
		nshards >>= 1, bits--;
	while (shard_entries(max_clients, nshards) > SHARD_CAP_MAX)
		nshards <<= 1, bits++;
	per = shard_entries(max_clients, nshards);

	if ((t = calloc(1, sizeof *t)) == NULL)
		return NULL;
	memcpy(t->seed, seed, 16);
	t->shard_bits = bits;
	t->nshards = nshards;
	t->pool_bytes = (size_t)per * nshards * sizeof(struct entry);
	t->mark_bytes = (size_t)per * nshards * sizeof(struct logmark);
	if (posix_memalign((void **)&t->shards, 64, nshards * sizeof *t->shards) != 0 ||
	    posix_memalign((void **)&t->pool, 64, t->pool_bytes) != 0 ||
	    (t->marks = calloc(1, t->mark_bytes)) == NULL) {
		free(t->pool);
		free(t->shards);
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	memset(t->shards, 0, nshards * sizeof *t->shards);
	memset(t->pool, 0, t->pool_bytes);
	for (uint32_t i = 0; i < nshards; i++) {
		struct shard *s = &t->shards[i];
		pthread_mutex_init(&s->lock, NULL);
		s->e = t->pool + (size_t)i * per;
		s->lm = t->marks + (size_t)i * per;
		s->cap = per;
		for (uint32_t j = 0; j < per; j++) {
			s->e[j].bhead = NIL;
			s->e[j].next = j + 1 < per ? (uint16_t)(j + 1) : NIL;
		}
		s->free_head = 0;
		s->rng = siphash13(seed, &i, sizeof i) | 1;
	}
	return t;
}

void
window_destroy(struct window_table *t)
{
	if (t == NULL)
		return;
	for (uint32_t i = 0; i < t->nshards; i++)
		pthread_mutex_destroy(&t->shards[i].lock);
	free(t->marks);
	free(t->pool);
	free(t->shards);
	free(t);
}

size_t
window_memory(const struct window_table *t)
{
	return sizeof *t + t->nshards * sizeof *t->shards + t->pool_bytes +
	    t->mark_bytes;
}

/*
 * The time a caller works with inside shard s: its own reading, or the
 * shard's latest if that is newer (see "Time" at the top).  Needs s->lock.
 */
static uint64_t
shard_now(struct shard *s, uint64_t now_ms)
{
	if (now_ms < s->clock)
		return s->clock;
	s->clock = now_ms;
	return now_ms;
}

/* Age of a slot, modulo 2^32 (see the top of this file).  Callers pass a
 * now from shard_now(), never older than any slot of the shard. */
static inline uint32_t
age(uint32_t now, uint32_t then)
{
	return now - then;
}

/* Unlink entry i from its bucket and put it on the free list.  Needs s->lock. */
static void
entry_release(struct window_table *t, struct shard *s, uint16_t i)
{
	struct entry *x = &s->e[i];
	struct window_key k;
	uint16_t *link;

	memcpy(k.b, x->key, 16);
	k.plen = (uint8_t)(x->plen_m1 + 1);
	link = &s->e[bucket_of(s, key_hash(t, &k))].bhead;
	while (*link != i && *link != NIL)
		link = &s->e[*link].next;
	if (*link == i)
		*link = x->next;
	x->nrec = 0;
	x->full = 0;
	memset(&s->lm[i], 0, sizeof s->lm[i]);
	x->next = s->free_head;
	s->free_head = i;
	s->used--;
}

/*
 * Forget x's slots that are older than max_window: the count never looks
 * at them again.  Returns true when nothing is left (the entry is idle).
 * Needs s->lock.
 */
static bool
entry_trim(struct entry *x, uint32_t now, uint32_t max_window_ms)
{
	unsigned n = 0;

	while (n < x->nrec && age(now, x->slot[n]) < max_window_ms)
		n++;
	x->nrec = n;
	return n == 0;
}

static uint64_t
xorshift(uint64_t *st)
{
	uint64_t x = *st;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *st = x;
}

/*
 * Make room when the free list is empty: release an idle entry from a
 * random sample, or else the least recently seen sampled entry that is not
 * at its limit, onto the free list.  Leaves the free list empty when every
 * sampled entry must be kept.  Entries in keep[] are never taken.
 * Needs s->lock.
 */
static void
evict_one(struct window_table *t, struct shard *s, uint32_t now,
    uint32_t max_window_ms, const uint16_t *keep, size_t nkeep)
{
	uint16_t best = NIL;
	uint32_t best_age = 0;

	for (int k = 0; k < EVICT_SAMPLES; k++) {
		uint16_t i = (uint16_t)(xorshift(&s->rng) % s->cap);
		struct entry *x = &s->e[i];
		uint32_t a;

		/* Unlogged refusals wait for the sweep to hand them out:
		 * an eviction never forces a line, nor loses a count. */
		bool kept = false;

		if (x->nrec == 0 || s->lm[i].suppressed > 0)
			continue;
		/* Another key of the same check holds it (window_check_keys). */
		for (size_t j = 0; j < nkeep; j++)
			kept |= keep[j] == i;
		if (kept)
			continue;
		a = age(now, x->slot[0]);
		if (a >= max_window_ms) {	/* idle: free to take */
			entry_release(t, s, i);
			s->expired++;
			return;
		}
		if (x->full)
			continue;
		if (best == NIL || a > best_age)
			best = i, best_age = a;
	}
	if (best != NIL) {
		entry_release(t, s, best);
		s->evictions++;
	}
}

/* Put the unlogged refusals of mark m (entry x) into due[*due_n]. */
static void
due_put(struct window_due *d, const struct entry *x, const struct logmark *m)
{
	memcpy(d->key.b, x->key, 16);
	d->key.plen = (uint8_t)(x->plen_m1 + 1);
	d->keys = 1;
	d->suppressed = m->suppressed;
	d->would = (m->window_ms & MARK_WOULD) != 0;
}

/*
 * The refusal-line side of a sweep for entry i.  While the window of the
 * key's last line runs, the entry is kept (releasing it would let the key
 * log again within that window).  Once it has passed, the unlogged
 * refusals go to due, or stay in the mark when there is no room or no due
 * (the key's next line then carries them).  Returns true when the entry
 * may be released: no line's window running, nothing unlogged.  Needs
 * s->lock.
 */
static bool
mark_sweep(struct shard *s, uint16_t i, uint32_t now, struct window_due *due,
    size_t due_max, size_t *due_n)
{
	struct logmark *m = &s->lm[i];

	if (m->window_ms & MARK_WINDOW) {
		if (age(now, m->logged) < (m->window_ms & MARK_WINDOW))
			return false;
		m->window_ms &= MARK_WOULD;
	}
	if (m->suppressed == 0) {
		m->window_ms = 0;
		return true;
	}
	if (due == NULL || *due_n == due_max)
		return false;
	due_put(&due[(*due_n)++], &s->e[i], m);
	memset(m, 0, sizeof *m);
	return true;
}

/*
 * The inline sweep has no due to hand counts to (the control thread has
 * not swept this shard for a day).  An idle entry whose only reason to
 * stay is an unlogged count would otherwise be kept forever and, with
 * eviction skipping it, fill the table: reclaim it and park its count in
 * the shard for the next window_sweep().  Needs s->lock.
 */
static bool
mark_orphan(struct shard *s, uint16_t i, uint32_t now, uint32_t max_window_ms)
{
	struct logmark *m = &s->lm[i];
	struct entry *x = &s->e[i];
	int kind = (m->window_ms & MARK_WOULD) != 0;

	if ((m->window_ms & MARK_WINDOW) || m->suppressed == 0 ||
	    age(now, x->slot[0]) < max_window_ms)
		return false;
	s->orphan_keys[kind]++;
	s->orphan_refusals[kind] += m->suppressed;
	memset(m, 0, sizeof *m);
	return true;
}

/*
 * Visit up to budget entries from the shard's cursor, handing out due
 * refusal counts into due (NULL: keep them for the control thread's
 * sweep).  Stops early when due is full.  Returns the entries visited;
 * *freed counts those released.  Needs s->lock.
 */
static size_t
shard_sweep(struct window_table *t, struct shard *s, uint32_t max_window_ms,
    uint64_t now_ms, size_t budget, struct window_due *due, size_t due_max,
    size_t *due_n, size_t *freed)
{
	uint32_t now = (uint32_t)now_ms;
	size_t n;

	for (n = 0; n < budget && n < s->cap; n++) {
		uint16_t i = (uint16_t)s->sweep_pos;
		struct entry *x = &s->e[i];

		if (x->nrec != 0) {
			bool clear;

			if (due && *due_n == due_max)
				break;
			clear = mark_sweep(s, i, now, due, due_max, due_n);
			if (!clear && due == NULL)
				clear = mark_orphan(s, i, now, max_window_ms);
			if (clear && entry_trim(x, now, max_window_ms)) {
				entry_release(t, s, i);
				s->expired++;
				(*freed)++;
			}
		}
		if (++s->sweep_pos == s->cap) {
			s->sweep_pos = 0;
			s->swept_ms = now_ms;
		}
	}
	return n;
}

static struct entry *
lookup(struct shard *s, uint32_t b, const struct window_key *k)
{
	for (uint16_t i = s->e[b].bhead; i != NIL; i = s->e[i].next) {
		struct entry *x = &s->e[i];
		if (x->plen_m1 + 1u == k->plen && memcmp(x->key, k->b, 16) == 0)
			return x;
	}
	return NULL;
}

/* The lock order for several keys: ascending shard index, each shard once.
 * Every other path (sweep, drain, stats) holds one shard lock at a time,
 * so no cycle can form. */
static size_t
lock_order(struct window_table *t, const struct shard *const *sh, size_t n,
    uint32_t idx[])
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t v = (uint32_t)(sh[i] - t->shards), j;
		bool dup = false;

		for (j = 0; j < m; j++)
			dup |= idx[j] == v;
		if (dup)
			continue;
		for (j = (uint32_t)m; j > 0 && idx[j - 1] > v; j--)
			idx[j] = idx[j - 1];
		idx[j] = v;
		m++;
	}
	return m;
}

/* One key of a check: where it lives and what it found.  Filled under
 * its shard's lock. */
struct pick {
	struct shard *s;
	uint64_t h;
	struct entry *x;	/* NULL: no room (untracked) */
	uint32_t now;		/* the shard's time, low 32 bits */
	uint32_t g;
	uint32_t count;		/* connections in the window before this one */
	bool stale_g;		/* kept with another group size: unreadable */
	bool untracked;		/* no room for it */
	bool refuse;
};

/* Find key's entry in p->s; p->x NULL when it has none.  Needs
 * p->s->lock. */
static void
pick_lookup(struct pick *p, const struct window_key *key)
{
	p->stale_g = false;
	if ((p->x = lookup(p->s, bucket_of(p->s, p->h), key)) != NULL)
		p->stale_g = p->x->gsize_m1 != p->g - 1;
}

/* Make an entry for key, which has none in p->s.  all[0..n) are every
 * key of this check: making room must not take an entry any of them
 * holds, found or made, whatever its place in the caller's order.
 * Leaves p->x NULL when there is no room.  Needs p->s->lock. */
static void
pick_insert(struct window_table *t, struct pick *p, const struct window_key *key,
    uint32_t max_window_ms, const struct pick *all, size_t n)
{
	struct shard *s = p->s;
	uint32_t b = bucket_of(s, p->h);
	uint16_t i;

	if (s->free_head == NIL) {
		uint16_t keep[WINDOW_KEYS_MAX];
		size_t nk = 0;

		for (size_t j = 0; j < n; j++)
			if (all[j].s == s && all[j].x != NULL)
				keep[nk++] = (uint16_t)(all[j].x - s->e);
		evict_one(t, s, p->now, max_window_ms, keep, nk);
	}
	if ((i = s->free_head) == NIL) {
		s->untracked++;
		return;
	}
	s->free_head = s->e[i].next;
	p->x = &s->e[i];
	memcpy(p->x->key, key->b, 16);
	p->x->plen_m1 = key->plen - 1u;
	p->x->nrec = 0;
	p->x->full = 0;
	p->x->gsize_m1 = p->g - 1;
	p->x->next = s->e[b].bhead;
	s->e[b].bhead = i;
	s->used++;
}

/* Store this connection in x.  Needs the shard lock. */
static void
entry_count(struct entry *x, uint32_t now, uint32_t g, const struct window_rule *rule)
{
	if (x->nrec && x->pending < g && age(now, x->slot[0]) < rule->window_ms) {
		x->pending++;
	} else {
		memmove(&x->slot[1], &x->slot[0],
		    (WINDOW_SLOTS - 1) * sizeof x->slot[0]);
		x->slot[0] = now;
		x->pending = 1;
		if (x->nrec < WINDOW_SLOTS)
			x->nrec++;
	}
}

/*
 * Milliseconds until x's count in the window falls below the limit, so
 * that one more connection would be let through: drop the oldest groups
 * in the window until the rest is under the limit; the wait is until the
 * last one dropped leaves the window.  0 when it is under already.  Needs
 * the shard lock.
 */
static uint32_t
entry_wait(const struct entry *x, uint32_t now, uint32_t g,
    const struct window_rule *rule)
{
	uint32_t total = 0;
	unsigned m = 0;

	while (m < x->nrec && age(now, x->slot[m]) < rule->window_ms) {
		total += m == 0 ? x->pending : g;
		m++;
	}
	while (m > 0 && total >= rule->limit) {
		m--;
		total -= m == 0 ? x->pending : g;
		if (total < rule->limit)
			return rule->window_ms - age(now, x->slot[m]);
	}
	return 0;
}

/* The refusal-line side of a refusal (window.h, "Refusal lines"): one
 * line per key per window.  Needs the shard lock. */
static void
mark_refusal(struct shard *s, struct entry *x, uint32_t now,
    const struct window_rule *rule, struct window_result *out)
{
	struct logmark *m = &s->lm[x - s->e];
	bool running = (m->window_ms & MARK_WINDOW) != 0 &&
	    age(now, m->logged) < rule->window_ms;

	/* Every refusal gets its line when the caller asks (log level
	 * debug) or the table has been drained (exit): then nothing may
	 * stay behind uncounted. */
	if (!running || rule->log_all || s->final) {
		out->log = true;
		out->suppressed = m->suppressed;
		m->logged = now;
		m->window_ms = rule->window_ms | (rule->would ? MARK_WOULD : 0);
		m->suppressed = 0;
	} else if (m->suppressed < UINT32_MAX) {
		m->suppressed++;
	}
}

/*
 * Several keys, one decision (window.h, "Several keys").  Why it is safe
 * against threads: every shard any of the keys lives in is locked, in
 * ascending shard order, before the first key is read, and stays locked
 * until the last one is written.  Two checks that share a key therefore
 * run one after the other in full, as with one key: the second reads
 * every count the first stored, so no interleaving can let a connection
 * past a key whose limit another connection has just reached.  Checks
 * with no key in common share no lock they both need at once, or take
 * the shared ones in the same order: no deadlock.  The cost is up to n
 * locks held for O(n) work; n is at most WINDOW_KEYS_MAX.
 */
void
window_check_keys(struct window_table *t, size_t n, const struct window_key keys[],
    const struct window_rule rules[], uint32_t max_window_ms, uint64_t now_ms,
    struct window_multi *out)
{
	struct pick p[WINDOW_KEYS_MAX];
	const struct shard *sh[WINDOW_KEYS_MAX];
	uint32_t order[WINDOW_KEYS_MAX], best_wait = 0;
	size_t nlock;
	bool any = false;

	if (n > WINDOW_KEYS_MAX)
		n = WINDOW_KEYS_MAX;
	memset(out, 0, sizeof *out);
	out->refused_by = -1;
	for (size_t i = 0; i < n; i++) {
		if (max_window_ms < rules[i].window_ms)
			max_window_ms = rules[i].window_ms;
		p[i].h = key_hash(t, &keys[i]);
		p[i].s = shard_of(t, p[i].h);
		p[i].g = group_size(rules[i].limit);
		sh[i] = p[i].s;
	}
	nlock = lock_order(t, sh, n, order);
	for (size_t j = 0; j < nlock; j++) {
		struct shard *s = &t->shards[order[j]];
		uint64_t sn;

		pthread_mutex_lock(&s->lock);
		sn = shard_now(s, now_ms);
		if ((int64_t)(sn - s->swept_ms) > (int64_t)SWEEP_STALE_MS) {
			size_t nd = 0, freed = 0;
			shard_sweep(t, s, max_window_ms, sn, s->cap, NULL, 0, &nd, &freed);
		}
	}

	/* Read every key before any is written.  A key with no entry has
	 * counted nothing and cannot refuse, so the found entries decide. */
	for (size_t i = 0; i < n; i++) {
		struct entry *x;

		p[i].now = (uint32_t)shard_now(p[i].s, now_ms);
		pick_lookup(&p[i], &keys[i]);
		p[i].untracked = false;
		p[i].count = 0;
		p[i].refuse = false;
		if ((x = p[i].x) == NULL || p[i].stale_g)
			continue;
		/* The connections before this one that are in the window:
		 * the newest group by its exact size, older ones by g each,
		 * and none of a group that began before the window. */
		for (unsigned k = 0; k < x->nrec; k++) {
			if (age(p[i].now, x->slot[k]) >= rules[i].window_ms)
				break;
			p[i].count += k == 0 ? x->pending : p[i].g;
		}
		p[i].refuse = p[i].count >= rules[i].limit;
		any |= p[i].refuse;
	}
	/* Only a connection let through is counted in a new key: a refused
	 * one makes no room, so it evicts no one.  Room is made only once
	 * every key's entry is found, so that no eviction takes an entry of
	 * this check (a /24 after the /32 that needed the room). */
	for (size_t i = 0; i < n && !any; i++) {
		if (p[i].x != NULL)
			continue;
		/* Found now only if the caller broke "all distinct": share
		 * the entry rather than make a twin of it. */
		if ((p[i].x = lookup(p[i].s, bucket_of(p[i].s, p[i].h), &keys[i])) != NULL)
			continue;
		pick_insert(t, &p[i], &keys[i], max_window_ms, p, n);
		p[i].untracked = p[i].x == NULL;
	}

	/* Then write: a connection let through counts in every key; a
	 * refused one only in the keys that refused it, and only with
	 * count_refused (window.h says why). */
	for (size_t i = 0; i < n; i++) {
		struct window_result *r = &out->r[i];
		struct entry *x = p[i].x;

		if (x == NULL) {
			/* No room; or, refused, not looked for (counts nothing) */
			r->verdict = p[i].untracked ? WINDOW_UNTRACKED : WINDOW_ALLOW;
			r->count = 1;
			continue;
		}
		r->verdict = p[i].refuse ? WINDOW_REFUSE : WINDOW_ALLOW;
		r->count = p[i].count + 1;
		if (!any || (p[i].refuse && rules[i].count_refused)) {
			if (p[i].stale_g) {
				/* Slots kept with another group size cannot be
				 * read with this one: start afresh (lenient,
				 * see window.h). */
				x->nrec = 0;
				x->gsize_m1 = p[i].g - 1;
			}
			entry_count(x, p[i].now, p[i].g, &rules[i]);
			x->full = r->count >= rules[i].limit;
		} else {
			x->full = p[i].refuse;
		}
		if (p[i].refuse) {
			uint32_t w = entry_wait(x, p[i].now, p[i].g, &rules[i]);

			/* At least a millisecond: the key refuses now. */
			if (w == 0)
				w = 1;
			if (out->refused_by < 0 || w > best_wait) {
				out->refused_by = (int)i;
				best_wait = w;
			}
		}
	}
	out->retry_ms = best_wait;
	if (out->refused_by >= 0) {
		struct pick *q = &p[out->refused_by];

		mark_refusal(q->s, q->x, q->now, &rules[out->refused_by],
		    &out->r[out->refused_by]);
	}
	for (size_t j = nlock; j > 0; j--)
		pthread_mutex_unlock(&t->shards[order[j - 1]].lock);
}

void
window_check(struct window_table *t, const struct window_key *key,
    const struct window_rule *rule, uint32_t max_window_ms, uint64_t now_ms,
    struct window_result *out)
{
	struct window_multi m;

	window_check_keys(t, 1, key, rule, max_window_ms, now_ms, &m);
	*out = m.r[0];
}

/*
 * A refusal decided elsewhere (the shared Redis store, redis_store.h) for
 * a key this table also counts: the key's refusal line is decided here,
 * by its mark, as for the table's own refusals (one line per key per
 * window).  A key with no entry has nowhere to keep a mark: its refusal
 * gets its line.  Takes the key's shard lock; O(1) under it.
 */
void
window_mark_refusal(struct window_table *t, const struct window_key *key,
    const struct window_rule *rule, uint64_t now_ms, struct window_result *out)
{
	uint64_t h = key_hash(t, key);
	struct shard *s = shard_of(t, h);
	struct entry *x;
	uint32_t now;

	out->log = false;
	out->suppressed = 0;
	pthread_mutex_lock(&s->lock);
	now = (uint32_t)shard_now(s, now_ms);
	if ((x = lookup(s, bucket_of(s, h), key)) != NULL)
		mark_refusal(s, x, now, rule, out);
	else
		out->log = true;
	pthread_mutex_unlock(&s->lock);
}

#define DUE_BATCH 64	/* due counts handed out per hold of a shard lock */

/* The shard's parked counts (mark_orphan) as up to two dues with no key,
 * into an empty due.  Returns how many.  Needs s->lock. */
static size_t
orphans_out(struct shard *s, struct window_due *due)
{
	size_t n = 0;

	for (int kind = 0; kind < 2; kind++) {
		if (s->orphan_keys[kind] == 0)
			continue;
		memset(&due[n], 0, sizeof due[n]);
		due[n].keys = s->orphan_keys[kind];
		due[n].suppressed = s->orphan_refusals[kind];
		due[n].would = kind == 1;
		s->orphan_keys[kind] = s->orphan_refusals[kind] = 0;
		n++;
	}
	return n;
}

size_t
window_sweep(struct window_table *t, uint32_t max_window_ms, uint64_t now_ms,
    size_t budget, window_due_fn *fn, void *arg)
{
	size_t freed = 0;

	for (uint32_t i = 0; i < t->nshards; i++) {
		struct shard *s = &t->shards[i];
		size_t left = budget < s->cap ? budget : s->cap;

		while (left > 0) {
			struct window_due due[DUE_BATCH];
			size_t nd = 0, visited;

			/* Without fn, unlogged refusals stay where they are. */
			pthread_mutex_lock(&s->lock);
			if (fn)
				nd = orphans_out(s, due);
			visited = shard_sweep(t, s, max_window_ms, shard_now(s, now_ms),
			    left, fn ? due : NULL, DUE_BATCH, &nd, &freed);
			pthread_mutex_unlock(&s->lock);
			/* The lines are written with no lock held. */
			for (size_t k = 0; k < nd; k++)
				fn(&due[k], arg);
			if (visited == 0)
				break;
			left -= visited;
		}
	}
	return freed;
}

void
window_drain(struct window_table *t, window_due_fn *fn, void *arg)
{
	for (uint32_t i = 0; i < t->nshards; i++) {
		struct shard *s = &t->shards[i];
		uint32_t j = 0;

		while (j < s->cap) {
			struct window_due due[DUE_BATCH];
			size_t nd = 0;

			pthread_mutex_lock(&s->lock);
			/* From now on every refusal here gets its own line:
			 * workers libmilter has not joined may still decide. */
			s->final = true;
			if (j == 0)
				nd = orphans_out(s, due);
			for (; j < s->cap && nd < DUE_BATCH; j++) {
				struct logmark *m = &s->lm[j];
				if (s->e[j].nrec == 0 || m->suppressed == 0)
					continue;
				due_put(&due[nd++], &s->e[j], m);
				m->suppressed = 0;
			}
			pthread_mutex_unlock(&s->lock);
			for (size_t k = 0; k < nd; k++)
				fn(&due[k], arg);
		}
	}
}

void
window_stats(struct window_table *t, struct window_stats *out)
{
	memset(out, 0, sizeof *out);
	for (uint32_t i = 0; i < t->nshards; i++) {
		struct shard *s = &t->shards[i];
		pthread_mutex_lock(&s->lock);
		out->capacity += s->cap;
		out->used += s->used;
		out->evictions += s->evictions;
		out->untracked += s->untracked;
		out->expired += s->expired;
		pthread_mutex_unlock(&s->lock);
	}
}
