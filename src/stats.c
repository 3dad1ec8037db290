/* stats.c: the statistics line (see stats.h). */
#include <stdatomic.h>
#include <stdio.h>

#include "reload.h"
#include "stats.h"

static _Atomic uint64_t started_ms;

void
stats_started(uint64_t now_ms)
{
	atomic_store(&started_ms, now_ms);
}

void
stats_format(struct policy *p, uint64_t now_ms, char *buf, size_t len)
{
	struct policy_totals n;
	struct window_stats ws;
	struct reload_status rs;

	/* The Redis backend (issue 12) adds its state here, after the
	 * table's figures, as more key=value pairs: ratelimit-ctl stats and
	 * --json print whatever pairs the line holds. */
	policy_totals(p, &n);
	window_stats(p->table, &ws);
	reload_status(&rs);
	snprintf(buf, len, "connections=%llu accepted=%llu exempt=%llu refused=%llu "
	    "would_refuse=%llu refused_concurrent=%llu would_refuse_concurrent=%llu "
	    "untracked=%llu no_address=%llu table_used=%llu "
	    "table_capacity=%llu evictions=%llu expired=%llu reloads=%llu "
	    "reload_failures=%llu uptime=%llus",
	    (unsigned long long)n.seen, (unsigned long long)n.accepted,
	    (unsigned long long)n.exempt, (unsigned long long)n.refused,
	    (unsigned long long)n.would_refuse,
	    (unsigned long long)n.refused_concurrent,
	    (unsigned long long)n.would_refuse_concurrent,
	    (unsigned long long)n.untracked,
	    (unsigned long long)n.noaddr,
	    (unsigned long long)ws.used, (unsigned long long)ws.capacity,
	    (unsigned long long)ws.evictions, (unsigned long long)ws.expired,
	    (unsigned long long)rs.ok, (unsigned long long)rs.failed,
	    (unsigned long long)((now_ms - atomic_load(&started_ms)) / 1000));
}
