/* redis_breaker.c: the circuit breaker in front of Redis (redis_breaker.h). */
#include "redis_breaker.h"

void
redis_breaker_init(struct redis_breaker *b)
{
	pthread_mutex_init(&b->lock, NULL);
	b->down = b->probing = false;
	b->retry_at = b->since = 0;
	b->backoff = 0;
	for (int i = 0; i < REDIS_R_COUNT; i++)
		atomic_init(&b->reasons[i], 0);
}

void
redis_breaker_reset(struct redis_breaker *b)
{
	pthread_mutex_lock(&b->lock);
	b->down = b->probing = false;
	b->backoff = 0;
	pthread_mutex_unlock(&b->lock);
}

enum redis_gate
redis_breaker_enter(struct redis_breaker *b, uint64_t now)
{
	enum redis_gate g = REDIS_GATE_PASS;

	pthread_mutex_lock(&b->lock);
	if (b->down) {
		if (!b->probing && now >= b->retry_at) {
			b->probing = true;
			g = REDIS_GATE_PROBE;
		} else {
			g = REDIS_GATE_SKIP;
		}
	}
	pthread_mutex_unlock(&b->lock);
	return g;
}

bool
redis_breaker_ok(struct redis_breaker *b, enum redis_gate g, uint64_t now,
    uint64_t *down_ms)
{
	bool up = false;

	/* Only the probe closes: a call that passed before the breaker
	 * opened and succeeded late says nothing about Redis now. */
	if (g != REDIS_GATE_PROBE)
		return false;
	pthread_mutex_lock(&b->lock);
	b->probing = false;
	if (b->down) {
		b->down = false;
		b->backoff = 0;
		*down_ms = now - b->since;
		up = true;
	}
	pthread_mutex_unlock(&b->lock);
	return up;
}

void
redis_breaker_count(struct redis_breaker *b, enum redis_reason reason)
{
	if ((unsigned)reason >= REDIS_R_COUNT)
		reason = REDIS_R_OTHER;
	atomic_fetch_add_explicit(&b->reasons[reason], 1, memory_order_relaxed);
}

bool
redis_breaker_fail(struct redis_breaker *b, enum redis_gate g,
    enum redis_reason reason, uint64_t now, uint32_t *next_ms)
{
	bool went_down = false;

	if ((unsigned)reason >= REDIS_R_COUNT)
		reason = REDIS_R_OTHER;
	atomic_fetch_add_explicit(&b->reasons[reason], 1, memory_order_relaxed);
	pthread_mutex_lock(&b->lock);
	if (g == REDIS_GATE_PROBE) {
		b->probing = false;
		if (b->down) {
			b->backoff = b->backoff >= REDIS_BACKOFF_MAX_MS / 2 ?
			    REDIS_BACKOFF_MAX_MS : b->backoff * 2;
			b->retry_at = now + b->backoff;
		}
	} else if (!b->down) {
		b->down = true;
		b->since = now;
		b->backoff = REDIS_BACKOFF_MIN_MS;
		b->retry_at = now + b->backoff;
		went_down = true;
	}
	*next_ms = b->backoff;
	pthread_mutex_unlock(&b->lock);
	return went_down;
}

bool
redis_breaker_is_down(struct redis_breaker *b)
{
	bool d;

	pthread_mutex_lock(&b->lock);
	d = b->down;
	pthread_mutex_unlock(&b->lock);
	return d;
}

const char *
redis_reason_name(enum redis_reason r)
{
	static const char *const names[REDIS_R_COUNT] = {
		[REDIS_R_TIMEOUT] = "timeout",
		[REDIS_R_CONNECT] = "connect",
		[REDIS_R_EOF] = "eof",
		[REDIS_R_AUTH] = "auth",
		[REDIS_R_OOM] = "oom",
		[REDIS_R_READONLY] = "readonly",
		[REDIS_R_BUSY] = "busy",
		[REDIS_R_LOADING] = "loading",
		[REDIS_R_MASTERDOWN] = "masterdown",
		[REDIS_R_NOSCRIPT] = "noscript",
		[REDIS_R_WRONGTYPE] = "wrong_type",
		[REDIS_R_OTHER] = "other",
	};

	return (unsigned)r < REDIS_R_COUNT ? names[r] : "other";
}
