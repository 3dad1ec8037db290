/*
 * stats.h: the statistics line, as SIGUSR2 logs it and ratelimit-ctl
 * stats prints it: space-separated key=value pairs.
 */
#ifndef MRL_STATS_H
#define MRL_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/* When the daemon started (clock_now_ms), for uptime. */
void stats_started(uint64_t now_ms);

/* "connections=N accepted=N ... uptime=Ns" into buf.  Any thread: the
 * counters are atomics, the table is read shard by shard, the reload
 * counts come from reload_status(). */
void stats_format(struct policy *p, uint64_t now_ms, char *buf, size_t len);

#endif
