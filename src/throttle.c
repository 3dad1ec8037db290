/* throttle.c: one refusal line per key per window (see throttle.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "siphash.h"
#include "throttle.h"

struct slot {
	uint8_t key[16];
	uint8_t plen;		/* 0: empty */
	uint32_t window_ms;	/* of the last logged refusal */
	uint32_t suppressed;
	uint64_t logged_ms;	/* when the last line was written */
};

struct throttle {
	pthread_mutex_t lock;	/* guards slots and cursor */
	struct slot *slots;
	size_t n;
	size_t cursor;		/* where throttle_flush resumes */
	uint8_t seed[16];
};

struct throttle *
throttle_create(size_t slots, const uint8_t seed[16])
{
	struct throttle *t = calloc(1, sizeof *t);

	if (t == NULL || (t->slots = calloc(slots, sizeof *t->slots)) == NULL) {
		free(t);
		return NULL;
	}
	t->n = slots;
	memcpy(t->seed, seed, 16);
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

void
throttle_destroy(struct throttle *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->slots);
	free(t);
}

static bool
same_key(const struct slot *s, const struct window_key *k)
{
	return s->plen == k->plen && memcmp(s->key, k->b, 16) == 0;
}

static void
due_from(struct throttle_due *d, const struct slot *s)
{
	memcpy(d->key.b, s->key, 16);
	d->key.plen = s->plen;
	d->suppressed = s->suppressed;
}

bool
throttle_refusal(struct throttle *t, const struct window_key *key,
    uint32_t window_ms, uint64_t now_ms, uint32_t *suppressed,
    struct throttle_due *evicted)
{
	uint8_t buf[17];
	struct slot *s;
	bool log_now;

	memcpy(buf, key->b, 16);
	buf[16] = key->plen;
	s = &t->slots[siphash13(t->seed, buf, sizeof buf) % t->n];
	memset(evicted, 0, sizeof *evicted);
	*suppressed = 0;

	pthread_mutex_lock(&t->lock);
	if (s->plen != 0 && same_key(s, key) && now_ms - s->logged_ms < s->window_ms) {
		s->suppressed++;
		log_now = false;
	} else {
		if (s->plen != 0 && same_key(s, key))
			*suppressed = s->suppressed;
		else if (s->plen != 0 && s->suppressed > 0)
			due_from(evicted, s);
		memcpy(s->key, key->b, 16);
		s->plen = key->plen;
		s->window_ms = window_ms;
		s->suppressed = 0;
		s->logged_ms = now_ms;
		log_now = true;
	}
	pthread_mutex_unlock(&t->lock);
	return log_now;
}

size_t
throttle_flush(struct throttle *t, uint64_t now_ms, struct throttle_due *out,
    size_t max)
{
	size_t found = 0;

	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->n && found < max; i++) {
		struct slot *s = &t->slots[t->cursor];

		if (s->plen != 0 && s->suppressed > 0 &&
		    now_ms - s->logged_ms >= s->window_ms) {
			due_from(&out[found++], s);
			s->suppressed = 0;
			s->logged_ms = now_ms;	/* the summary is this window's line */
		}
		t->cursor = (t->cursor + 1) % t->n;
	}
	pthread_mutex_unlock(&t->lock);
	return found;
}
