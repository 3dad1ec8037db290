/*
 * redis_store.h: the counter store policy asks when Redis is set.
 *
 * One function: count these n keys under these rules, now, in Redis, and
 * give back the same struct window_multi the local table gives.  Policy
 * stays the decider: it has already counted the connection in the local
 * table (which so stays warm), and takes Redis's verdict when Redis
 * answered, its own otherwise (a fallback).  Behind this: the per-thread
 * connections (redis_conn.h), the circuit breaker (redis_breaker.h), the
 * one line down and one line up, and the counts for the statistics.
 * Thread-safe; no lock of the caller's is needed (and none should be
 * held: a call may wait up to redis_timeout_ms).
 */
#ifndef MRL_REDIS_STORE_H
#define MRL_REDIS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "redis_breaker.h"
#include "window.h"

enum redis_store_result {
	REDIS_STORE_OFF,	/* no Redis configured: the local table decides */
	REDIS_STORE_ANSWERED,	/* out holds Redis's decision */
	REDIS_STORE_FALLBACK,	/* Redis down, failed or timed out: local decides */
};

/* Start-up and every reload (one thread): take c's Redis settings.  New
 * ones close the breaker and are used from the next connection on. */
void redis_store_configure(const struct config *c);

/* Count and decide in Redis (see above).  now_ms is the caller's
 * monotonic clock, for the breaker only: Redis decides on its own clock. */
enum redis_store_result redis_store_count(size_t n, const struct window_key keys[],
    const struct window_rule rules[], uint64_t now_ms, struct window_multi *out);

/* For the statistics line and anything later (control socket, metrics). */
struct redis_stats {
	bool configured;
	bool up;			/* configured and the breaker closed */
	uint64_t round_trips;		/* script calls answered */
	uint64_t errors;		/* failed calls, every reason */
	uint64_t reasons[REDIS_R_COUNT];	/* errors by reason */
	uint64_t timeouts;		/* = reasons[REDIS_R_TIMEOUT] */
	uint64_t fallbacks;		/* decisions the local table made instead */
	uint64_t rtt_p50_us, rtt_p99_us;	/* round trip, bucket upper bounds */
};
void redis_stats(struct redis_stats *out);

/* The statistics as "redis=up redis_round_trips=N ..." for the USR2 line. */
void redis_stats_format(char *buf, size_t len);

#endif
