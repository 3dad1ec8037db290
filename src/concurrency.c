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
#include <stdlib.h>
#include <string.h>

#include "concurrency.h"
#include "siphash.h"

#define CONC_SHARDS 16u

struct conc_slot {
	struct conc_key key;
	uint32_t open;		/* 0: the slot is free */
};

struct conc_shard {
	pthread_mutex_t lock;	/* guards slots[] and used */
	struct conc_slot *slots;
	size_t used;
	char pad[64];		/* keep shard locks off one cache line */
};

struct conc_table {
	uint8_t seed[16];
	size_t nslots;		/* per shard, a power of two */
	size_t max_used;	/* per shard */
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

	while (sh->slots[i].open != 0 && !key_eq(&sh->slots[i].key, k))
		i = (i + 1) & mask;
	return i;
}

/* Free slot i and shift back the entries whose probe passed over it.
 * Needs the shard lock. */
static void
remove_at(struct conc_table *t, struct conc_shard *sh, size_t i)
{
	size_t mask = t->nslots - 1, j = i;

	sh->slots[i].open = 0;	/* already 0 when a count reached it */
	sh->used--;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (sh->slots[j].open == 0)
			return;
		home = (size_t)(conc_hash(t, &sh->slots[j].key) >> 8) & mask;
		/* j may move to i when its home is not in (i, j] (cyclic). */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		sh->slots[i] = sh->slots[j];
		sh->slots[j].open = 0;
		i = j;
	}
}

enum conc_result
conc_acquire(struct conc_table *t, const struct conc_key *k, uint32_t limit,
    bool force, uint32_t *open)
{
	uint64_t h = conc_hash(t, k);
	struct conc_shard *sh = &t->shard[h % CONC_SHARDS];
	enum conc_result r;
	size_t i;

	pthread_mutex_lock(&sh->lock);
	i = find(t, sh, k, h);
	if (sh->slots[i].open == 0) {
		if (sh->used >= t->max_used) {
			*open = 0;
			r = CONC_FULL;
			goto out;
		}
		sh->slots[i].key = *k;
		sh->used++;
	}
	if (sh->slots[i].open >= limit && !force) {
		*open = sh->slots[i].open;
		r = CONC_OVER;
		goto out;
	}
	r = sh->slots[i].open >= limit ? CONC_OVER : CONC_COUNTED;
	if (sh->slots[i].open < UINT32_MAX)
		sh->slots[i].open++;
	*open = sh->slots[i].open;
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
		if (--sh->slots[i].open == 0)
			remove_at(t, sh, i);
	}
	pthread_mutex_unlock(&sh->lock);
	return ok;
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
