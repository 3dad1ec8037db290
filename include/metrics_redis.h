/*
 * metrics_redis.h: the Redis backend's families in /metrics (issue 13:
 * "when the Redis backend lands, its state and round-trip times join
 * them").  The figures are redis_store.c's own (redis_stats), the same as
 * the USR2 line's, so the two never disagree; the round-trip histogram is
 * observed by redis_store.c on every answered call (lock-free).
 */
#ifndef MRL_METRICS_REDIS_H
#define MRL_METRICS_REDIS_H

#include "metrics.h"

/* Observed by redis_store.c: the EVALSHA round trip, in ns. */
extern struct metrics_histogram metrics_redis_rtt;

/* Set the histogram's buckets and add the families (metrics_add_families):
 * once, at start, before metrics_http_start().  False when the list is full. */
bool metrics_redis_register(void);

#endif
