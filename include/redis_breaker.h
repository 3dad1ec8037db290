/*
 * redis_breaker.h: the circuit breaker in front of Redis.
 *
 * Closed (Redis up): every connection asks Redis.  The first failure
 * opens it (Redis down): nobody asks, the local table decides at once,
 * until the back-off has passed; then exactly one caller probes (the
 * others still fall back at once).  A failed probe doubles the back-off,
 * from 1 s to a 60 s cap; a good one closes the breaker.  So a dead or
 * stalled Redis costs at most one timeout per interval, and only to the
 * one session that probes.  The transitions are returned to the caller,
 * which writes one line down and one line up, never one per connection.
 *
 * Time is an argument (milliseconds, any monotonic origin): the unit
 * tests drive it.  Thread-safe: one mutex guards the state, held for O(1)
 * work; the counts are relaxed atomics.
 */
#ifndef MRL_REDIS_BREAKER_H
#define MRL_REDIS_BREAKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define REDIS_BACKOFF_MIN_MS 1000u
#define REDIS_BACKOFF_MAX_MS 60000u

/* Why a call failed; each is counted. */
enum redis_reason {
	REDIS_R_TIMEOUT,	/* connect or reply not within redis_timeout_ms */
	REDIS_R_CONNECT,	/* connection refused, no such socket, ... */
	REDIS_R_EOF,		/* the server closed the connection */
	REDIS_R_AUTH,		/* NOAUTH or WRONGPASS */
	REDIS_R_OOM,		/* maxmemory reached with noeviction */
	REDIS_R_READONLY,	/* a replica (after a failover) */
	REDIS_R_BUSY,		/* a script runs too long */
	REDIS_R_LOADING,	/* the server loads its data */
	REDIS_R_MASTERDOWN,	/* a replica that lost its master */
	REDIS_R_NOSCRIPT,	/* still no script after loading it again */
	REDIS_R_WRONGTYPE,	/* a reply of the wrong type or shape */
	REDIS_R_OTHER,
	REDIS_R_COUNT
};

enum redis_gate {
	REDIS_GATE_PASS,	/* closed: ask Redis */
	REDIS_GATE_PROBE,	/* open, and this caller probes */
	REDIS_GATE_SKIP,	/* open: fall back at once */
};

struct redis_breaker {
	pthread_mutex_t lock;	/* guards down, probing, retry_at, backoff, since */
	bool down;
	bool probing;		/* a caller holds the probe */
	uint64_t retry_at;	/* down: when the next probe may start */
	uint32_t backoff;	/* down: the interval in force, ms */
	uint64_t since;		/* down: when it went down */
	atomic_uint_fast64_t reasons[REDIS_R_COUNT];
};

void redis_breaker_init(struct redis_breaker *b);
/* Closed again, the probe released (new settings deserve a fresh try);
 * the counts stay. */
void redis_breaker_reset(struct redis_breaker *b);

/* May this caller ask Redis at now?  A PROBE must be answered with
 * redis_breaker_ok or redis_breaker_fail, whatever happens. */
enum redis_gate redis_breaker_enter(struct redis_breaker *b, uint64_t now);

/* A call that passed the gate succeeded.  True when it closed the
 * breaker (a probe): log the line up; *down_ms says for how long. */
bool redis_breaker_ok(struct redis_breaker *b, enum redis_gate g, uint64_t now,
    uint64_t *down_ms);

/* A failure of one call that says nothing about Redis (counted only). */
void redis_breaker_count(struct redis_breaker *b, enum redis_reason reason);

/* A call failed for reason (counted).  True when it opened the breaker:
 * log the line down; *next_ms is the back-off now in force. */
bool redis_breaker_fail(struct redis_breaker *b, enum redis_gate g,
    enum redis_reason reason, uint64_t now, uint32_t *next_ms);

bool redis_breaker_is_down(struct redis_breaker *b);

/* "timeout", "connect", ... */
const char *redis_reason_name(enum redis_reason r);

#endif
