/*
 * concurrency.c: the open-session counts behind max_concurrent.
 *
 * CONC_SHARDS shards, each an open-addressing array with linear probing
 * and backward-shift deletion (no tombstones, so a table that churns
 * keys never fills with dead slots).  Each shard holds at most 3/4 of its
 * slots, so a probe always ends.  The shard and the start slot come from
 * SipHash with a secret seed: a client cannot aim its keys at one shard.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "concurrency.h"
#include "siphash.h"

#define CONC_SHARDS 16u
#define CONC_DUE_BATCH 32	/* dues gathered under a lock, logged after */

struct conc_slot {
	struct conc_key key;
	bool marked;		/* a refusal line was written at mark_ms */
	bool would;		/* the last refusal was under mode log */
	uint32_t open;		/* sessions open now */
	uint32_t suppressed;	/* refusals since the mark, not logged */
	uint32_t window_ms;	/* the mark's window */
	uint64_t mark_ms;
};

/* A slot holds a key while a session is open or a mark is kept. */
static bool
slot_used(const struct conc_slot *s)
{
	return s->open != 0 || s->marked;
}

struct conc_shard {
	pthread_mutex_t lock;	/* guards slots[], used and marked */
	struct conc_slot *slots;
	size_t used;
	size_t marked;		/* slots with a mark: the sweep skips none-marked shards */
	char pad[64];		/* keep shard locks off one cache line */
};

struct conc_table {
	uint8_t seed[16];
	size_t nslots;		/* per shard, a power of two */
	size_t max_used;	/* per shard */
	atomic_bool drained;	/* after conc_drain(): every refusal logged */
	struct conc_shard shard[CONC_SHARDS];
};

static uint64_t
conc_hash(const struct conc_table *t, const struct conc_key *k)
{
	uint8_t buf[17];

	memcpy(buf, k->a.b, 16);
	buf[16] = k->plen;
	return siphash13(t->seed, buf, sizeof buf);
}

struct conc_table *
conc_create(size_t max_keys, const uint8_t seed[16])
{
	struct conc_table *t;
	size_t per, n = 4;

	if (max_keys == 0)
		max_keys = 1;
	per = (max_keys + CONC_SHARDS - 1) / CONC_SHARDS;
	while (n * 3 / 4 < per)
		n *= 2;
	if ((t = calloc(1, sizeof *t)) == NULL)
		return NULL;
	memcpy(t->seed, seed, 16);
	t->nslots = n;
	t->max_used = per;
	for (size_t s = 0; s < CONC_SHARDS; s++) {
		pthread_mutex_init(&t->shard[s].lock, NULL);
		t->shard[s].slots = calloc(n, sizeof *t->shard[s].slots);
		if (t->shard[s].slots == NULL) {
			conc_destroy(t);
			return NULL;
		}
	}
	return t;
}

void
conc_destroy(struct conc_table *t)
{
	if (t == NULL)
		return;
	for (size_t s = 0; s < CONC_SHARDS; s++) {
		free(t->shard[s].slots);
		pthread_mutex_destroy(&t->shard[s].lock);
	}
	free(t);
}

void
conc_key_make(struct conc_key *k, const struct addr *client, int plen)
{
	int p = addr_is_v4(client) ? plen + 96 : plen;

	memset(k, 0, sizeof *k);
	k->a = *client;
	addr_mask(&k->a, plen);	/* family terms */
	k->plen = (uint8_t)p;
}

static bool
key_eq(const struct conc_key *a, const struct conc_key *b)
{
	return a->plen == b->plen && memcmp(a->a.b, b->a.b, 16) == 0;
}

/* The slot holding k, or the free slot ending its probe.  Needs the
 * shard lock.  Ends: a shard is never full (max_used < nslots). */
static size_t
find(const struct conc_table *t, const struct conc_shard *sh,
    const struct conc_key *k, uint64_t h)
{
	size_t mask = t->nslots - 1, i = (size_t)(h >> 8) & mask;

	while (slot_used(&sh->slots[i]) && !key_eq(&sh->slots[i].key, k))
		i = (i + 1) & mask;
	return i;
}

/* Free slot i and shift back the entries whose probe passed over it.
 * Needs the shard lock. */
static void
remove_at(struct conc_table *t, struct conc_shard *sh, size_t i)
{
	size_t mask = t->nslots - 1, j = i;

	if (sh->slots[i].marked)
		sh->marked--;
	memset(&sh->slots[i], 0, sizeof sh->slots[i]);
	sh->used--;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!slot_used(&sh->slots[j]))
			return;
		home = (size_t)(conc_hash(t, &sh->slots[j].key) >> 8) & mask;
		/* j may move to i when its home is not in (i, j] (cyclic). */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		sh->slots[i] = sh->slots[j];
		memset(&sh->slots[j], 0, sizeof sh->slots[j]);
		i = j;
	}
}

/*
 * Free the oldest slot held only by a mark with no count pending: its one
 * line is written, so nothing is lost but the promise of no second line
 * within its window.  Needs the shard lock.  False: every slot has a
 * session open or a count to log.
 */
static bool
evict_mark(struct conc_table *t, struct conc_shard *sh)
{
	size_t best = t->nslots;

	for (size_t i = 0; i < t->nslots; i++) {
		const struct conc_slot *x = &sh->slots[i];

		if (x->open == 0 && x->marked && x->suppressed == 0 &&
		    (best == t->nslots || x->mark_ms < sh->slots[best].mark_ms))
			best = i;
	}
	if (best == t->nslots)
		return false;
	remove_at(t, sh, best);
	return true;
}

/* A refusal of slot x at now: its line now, or counted for later.
 * Needs the shard lock. */
static void
mark_refusal(struct conc_table *t, struct conc_shard *sh, struct conc_slot *x,
    const struct conc_rule *rule, uint64_t now, struct conc_outcome *out)
{
	bool in_window = x->marked && now < x->mark_ms + x->window_ms;

	x->would = rule->force;
	if (in_window && !rule->log_all && !atomic_load(&t->drained)) {
		if (x->suppressed < UINT32_MAX)
			x->suppressed++;
		return;
	}
	out->log = true;
	out->suppressed = x->suppressed;
	x->suppressed = 0;
	/* Every line logged: no mark needed (nor a slot kept for one). */
	if (rule->log_all || atomic_load(&t->drained))
		return;
	if (!x->marked)
		sh->marked++;
	x->marked = true;
	x->mark_ms = now;
	x->window_ms = rule->window_ms;
}

enum conc_result
conc_acquire_at(struct conc_table *t, const struct conc_key *k,
    const struct conc_rule *rule, uint64_t now_ms, struct conc_outcome *out)
{
	uint64_t h = conc_hash(t, k);
	struct conc_shard *sh = &t->shard[h % CONC_SHARDS];
	struct conc_slot *x;
	enum conc_result r;
	size_t i;

	out->open = 0;
	out->log = false;
	out->suppressed = 0;
	pthread_mutex_lock(&sh->lock);
	i = find(t, sh, k, h);
	x = &sh->slots[i];
	if (!slot_used(x)) {
		if (sh->used >= t->max_used) {
			/* A slot kept only for a logged refusal (nothing open,
			 * nothing pending) gives way: clients that came and went
			 * must not fill the table and switch the limit off for
			 * everyone (review).  Otherwise fail open. */
			if (!evict_mark(t, sh)) {
				r = CONC_FULL;
				goto out;
			}
			i = find(t, sh, k, h);
			x = &sh->slots[i];
		}
		x->key = *k;
		sh->used++;
	}
	if (x->open >= rule->limit && !rule->force) {
		out->open = x->open;
		mark_refusal(t, sh, x, rule, now_ms, out);
		r = CONC_OVER;
		goto out;
	}
	r = x->open >= rule->limit ? CONC_OVER : CONC_COUNTED;
	if (x->open < UINT32_MAX)
		x->open++;
	out->open = x->open;
	if (r == CONC_OVER)
		mark_refusal(t, sh, x, rule, now_ms, out);
out:
	pthread_mutex_unlock(&sh->lock);
	return r;
}

bool
conc_release(struct conc_table *t, const struct conc_key *k)
{
	uint64_t h = conc_hash(t, k);
	struct conc_shard *sh = &t->shard[h % CONC_SHARDS];
	bool ok = false;
	size_t i;

	pthread_mutex_lock(&sh->lock);
	i = find(t, sh, k, h);
	if (sh->slots[i].open != 0) {
		ok = true;
		/* A slot with a mark stays until the sweep: its window runs
		 * or a count waits to be logged. */
		if (--sh->slots[i].open == 0 && !sh->slots[i].marked)
			remove_at(t, sh, i);
	}
	pthread_mutex_unlock(&sh->lock);
	return ok;
}

/*
 * Gather up to CONC_DUE_BATCH dues of shard sh into due: the marks whose
 * window has passed at now (every pending count with all), freeing the
 * slots left with nothing.  Needs the shard lock.  Returns the number
 * gathered; *more: stopped for want of room, call again.
 */
static size_t
shard_dues(struct conc_table *t, struct conc_shard *sh, uint64_t now, bool all,
    struct conc_due *due, bool *more)
{
	size_t n = 0, i = 0;

	*more = false;
	while (i < t->nslots && sh->marked > 0) {
		struct conc_slot *x = &sh->slots[i];
		bool passed = x->marked && now >= x->mark_ms + x->window_ms;

		if (!x->marked || (!passed && !(all && x->suppressed > 0))) {
			i++;
			continue;
		}
		if (x->suppressed > 0) {
			if (n == CONC_DUE_BATCH) {
				*more = true;
				break;
			}
			due[n].key = x->key;
			due[n].suppressed = x->suppressed;
			due[n].would = x->would;
			n++;
			x->suppressed = 0;
		}
		if (!passed) {
			i++;
			continue;
		}
		x->marked = false;
		sh->marked--;
		if (x->open == 0)
			remove_at(t, sh, i);	/* slot i may hold another now: look again */
		else
			i++;
	}
	return n;
}

static void
dues(struct conc_table *t, uint64_t now, bool all, conc_due_fn *fn, void *arg)
{
	struct conc_due due[CONC_DUE_BATCH];

	for (size_t s = 0; s < CONC_SHARDS; s++) {
		struct conc_shard *sh = &t->shard[s];
		bool more = true;

		/* Bounded: each round clears a full batch of counts. */
		while (more) {
			size_t n;

			pthread_mutex_lock(&sh->lock);
			n = shard_dues(t, sh, now, all, due, &more);
			pthread_mutex_unlock(&sh->lock);
			for (size_t j = 0; j < n; j++)
				fn(&due[j], arg);
		}
	}
}

void
conc_sweep(struct conc_table *t, uint64_t now_ms, conc_due_fn *fn, void *arg)
{
	dues(t, now_ms, false, fn, arg);
}

void
conc_drain(struct conc_table *t, conc_due_fn *fn, void *arg)
{
	atomic_store(&t->drained, true);
	dues(t, 0, true, fn, arg);
}

uint32_t
conc_open(struct conc_table *t, const struct conc_key *k)
{
	uint64_t h = conc_hash(t, k);
	struct conc_shard *sh = &t->shard[h % CONC_SHARDS];
	uint32_t n;

	pthread_mutex_lock(&sh->lock);
	n = sh->slots[find(t, sh, k, h)].open;
	pthread_mutex_unlock(&sh->lock);
	return n;
}

size_t
conc_keys(struct conc_table *t)
{
	size_t n = 0;

	for (size_t s = 0; s < CONC_SHARDS; s++) {
		pthread_mutex_lock(&t->shard[s].lock);
		n += t->shard[s].used;
		pthread_mutex_unlock(&t->shard[s].lock);
	}
	return n;
}
