/*
 * metrics_redis.c: the Redis families (metrics_redis.h).  Written at
 * every scrape, configured or not, so that a dashboard sees 0 rather than
 * a missing series after a reload turns Redis off.
 */
#include "metrics_redis.h"
#include "redis_store.h"

#define P METRICS_PREFIX

struct metrics_histogram metrics_redis_rtt;

static void
redis_families(struct metrics_buf *b, void *arg)
{
	struct redis_stats s;
	struct metrics_hist_snap h;

	(void)arg;
	redis_stats(&s);
	metrics_family(b, P "redis_configured", METRICS_GAUGE,
	    "1 when a redis server is set (the shared counter store), 0 when off.");
	metrics_sample(b, P "redis_configured", NULL, NULL, s.configured ? 1 : 0);
	metrics_family(b, P "redis_up", METRICS_GAUGE,
	    "1 while Redis decides (configured, breaker closed), 0 otherwise.");
	metrics_sample(b, P "redis_up", NULL, NULL, s.up ? 1 : 0);
	metrics_family(b, P "redis_round_trips_total", METRICS_COUNTER,
	    "Script calls Redis answered.");
	metrics_sample(b, P "redis_round_trips_total", NULL, NULL, s.round_trips);
	metrics_family(b, P "redis_fallbacks_total", METRICS_COUNTER,
	    "Decisions the local table made because Redis did not answer.");
	metrics_sample(b, P "redis_fallbacks_total", NULL, NULL, s.fallbacks);
	metrics_family(b, P "redis_errors_total", METRICS_COUNTER,
	    "Failed Redis calls, by reason.");
	for (int i = 0; i < REDIS_R_COUNT; i++)
		metrics_sample(b, P "redis_errors_total", "reason",
		    redis_reason_name((enum redis_reason)i), s.reasons[i]);
	metrics_family(b, P "redis_roundtrip_seconds", METRICS_HISTOGRAM,
	    "Round trip of the counting script (EVALSHA), answered calls only.");
	metrics_histogram_snap(&metrics_redis_rtt, &h);
	metrics_histogram_write(b, P "redis_roundtrip_seconds", &h);
}

bool
metrics_redis_register(void)
{
	static const uint64_t us = 1000;
	/* A loopback or LAN round trip is 50-500 us; the top buckets catch
	 * a slow server up to the largest redis_timeout_ms. */
	static const uint64_t bounds[] = {
		50 * us, 100 * us, 250 * us, 500 * us, 1000 * us, 2500 * us,
		5000 * us, 10000 * us, 25000 * us, 50000 * us, 100000 * us,
		250000 * us, 1000000 * us,
	};

	metrics_histogram_init(&metrics_redis_rtt, bounds, sizeof bounds / sizeof bounds[0]);
	return metrics_add_families(redis_families, NULL);
}
