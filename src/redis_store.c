/* redis_store.c: the Redis counter store policy asks (redis_store.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "metrics_redis.h"
#include "redis_conn.h"
#include "redis_store.h"

static struct redis_breaker breaker;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static pthread_mutex_t server_lock = PTHREAD_MUTEX_INITIALIZER;	/* guards server */
static char server[160];	/* the `redis` value in force, for the log lines */

static atomic_uint_fast64_t round_trips, fallbacks;

/*
 * Round-trip latency: fixed log-scale buckets, four per power of two of
 * microseconds, counted with relaxed atomics (no lock on the hot path).
 * Bucket 0: under 1 us; bucket 1 + 4*o + s: [2^o + s*2^o/4, that + 2^o/4).
 */
#define RTT_BUCKETS (1 + 4 * 32)
static atomic_uint_fast64_t rtt[RTT_BUCKETS];

static void
init_once(void)
{
	redis_breaker_init(&breaker);
}

static unsigned
rtt_bucket(uint64_t us)
{
	unsigned o = 0;

	if (us == 0)
		return 0;
	if (us >= (1ull << 32))
		return RTT_BUCKETS - 1;
	while ((us >> (o + 1)) != 0)
		o++;
	/* the two bits below the leading one */
	/* the two bits below the leading one (below 4 us: one bucket per octave) */
	return 1 + 4 * o + (unsigned)(o >= 2 ? (us >> (o - 2)) & 3 : 0);
}

/* The bucket's upper bound, in us. */
static uint64_t
rtt_upper(unsigned b)
{
	unsigned o, s;

	if (b == 0)
		return 1;
	o = (b - 1) / 4;
	s = (b - 1) % 4;
	if (o < 2)
		return 1ull << (o + 1);
	return (1ull << o) + (((uint64_t)(s + 1) << o) >> 2);
}

static uint64_t
rtt_percentile(const uint64_t *h, uint64_t total, unsigned pct)
{
	uint64_t want = (total * pct + 99) / 100, seen = 0;

	if (total == 0)
		return 0;
	for (unsigned b = 0; b < RTT_BUCKETS; b++) {
		seen += h[b];
		if (seen >= want)
			return rtt_upper(b);
	}
	return rtt_upper(RTT_BUCKETS - 1);
}

void
redis_store_configure(const struct config *c)
{
	pthread_once(&once, init_once);
	if (!redis_conn_configure(c))
		return;
	redis_breaker_reset(&breaker);
	pthread_mutex_lock(&server_lock);
	snprintf(server, sizeof server, "%s", c != NULL && c->redis ? c->redis : "");
	pthread_mutex_unlock(&server_lock);
	if (c != NULL && c->redis != NULL)
		log_notice("redis: counting in %s (db %u, prefix \"%s\", timeout %u ms%s)",
		    c->redis, c->redis_db, c->redis_key_prefix, c->redis_timeout_ms,
		    c->redis_password ? c->redis_user ? ", AUTH as an ACL user" :
		    ", AUTH" : "");
	else
		log_notice("redis: off; the local table alone counts");
}

static void
server_name(char *buf, size_t len)
{
	pthread_mutex_lock(&server_lock);
	snprintf(buf, len, "%s", server);
	pthread_mutex_unlock(&server_lock);
}

enum redis_store_result
redis_store_count(size_t n, const struct window_key keys[],
    const struct window_rule rules[], uint64_t now_ms, struct window_multi *out)
{
	struct redis_answer a;
	enum redis_reason why = REDIS_R_OTHER;
	enum redis_gate g;
	char detail[128] = "", srv[160];
	uint64_t us = 0, down_ms;
	uint32_t next;
	int rc;

	if (!redis_conn_enabled())
		return REDIS_STORE_OFF;
	pthread_once(&once, init_once);
	if ((g = redis_breaker_enter(&breaker, now_ms)) == REDIS_GATE_SKIP) {
		atomic_fetch_add_explicit(&fallbacks, 1, memory_order_relaxed);
		return REDIS_STORE_FALLBACK;
	}
	rc = redis_conn_eval(n, keys, rules, &a, &us, &why, detail, sizeof detail);
	if (rc == 0) {
		/* Turned off by a reload since the check above. */
		if (g == REDIS_GATE_PROBE)
			redis_breaker_ok(&breaker, g, now_ms, &down_ms);
		return REDIS_STORE_OFF;
	}
	if (rc == -2) {
		/* Redis answered, refusing one client's key (another type
		 * there): that client's table decides; Redis stays up for the
		 * others, and a probe that got this far found it up. */
		atomic_fetch_add_explicit(&fallbacks, 1, memory_order_relaxed);
		redis_breaker_count(&breaker, why);
		if (redis_breaker_ok(&breaker, g, now_ms, &down_ms)) {
			server_name(srv, sizeof srv);
			log_notice("redis up: server=%s, back after %llu s down; Redis "
			    "decides again", srv, (unsigned long long)(down_ms / 1000));
		}
		log_debug("redis: %s (%s); the local table decided for this client",
		    redis_reason_name(why), detail);
		return REDIS_STORE_FALLBACK;
	}
	if (rc < 0) {
		atomic_fetch_add_explicit(&fallbacks, 1, memory_order_relaxed);
		if (redis_breaker_fail(&breaker, g, why, now_ms, &next)) {
			server_name(srv, sizeof srv);
			log_warnx("redis down: reason=%s (%s) server=%s; the local table "
			    "decides, next try in %u s", redis_reason_name(why), detail,
			    srv, next / 1000);
		} else {
			log_debug("redis: %s (%s); the local table decided",
			    redis_reason_name(why), detail);
		}
		return REDIS_STORE_FALLBACK;
	}
	atomic_fetch_add_explicit(&round_trips, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&rtt[rtt_bucket(us)], 1, memory_order_relaxed);
	metrics_histogram_observe(&metrics_redis_rtt, us * 1000u);
	if (redis_breaker_ok(&breaker, g, now_ms, &down_ms)) {
		server_name(srv, sizeof srv);
		log_notice("redis up: server=%s, back after %llu s down; Redis decides again",
		    srv, (unsigned long long)(down_ms / 1000));
	}
	memset(out, 0, sizeof *out);
	out->refused_by = a.refused_by;
	out->retry_ms = a.refused_by >= 0 ? a.retry_ms : 0;
	for (size_t i = 0; i < n; i++) {
		out->r[i].count = a.count[i];
		/* count includes this connection: over the limit refuses */
		out->r[i].verdict = a.count[i] > rules[i].limit ?
		    WINDOW_REFUSE : WINDOW_ALLOW;
	}
	return REDIS_STORE_ANSWERED;
}

void
redis_stats(struct redis_stats *out)
{
	uint64_t h[RTT_BUCKETS], total = 0;

	pthread_once(&once, init_once);
	memset(out, 0, sizeof *out);
	out->configured = redis_conn_enabled();
	out->up = out->configured && !redis_breaker_is_down(&breaker);
	out->round_trips = atomic_load(&round_trips);
	out->fallbacks = atomic_load(&fallbacks);
	for (int i = 0; i < REDIS_R_COUNT; i++) {
		out->reasons[i] = atomic_load(&breaker.reasons[i]);
		out->errors += out->reasons[i];
	}
	out->timeouts = out->reasons[REDIS_R_TIMEOUT];
	for (unsigned b = 0; b < RTT_BUCKETS; b++)
		total += h[b] = atomic_load_explicit(&rtt[b], memory_order_relaxed);
	out->rtt_p50_us = rtt_percentile(h, total, 50);
	out->rtt_p99_us = rtt_percentile(h, total, 99);
}

void
redis_stats_format(char *buf, size_t len)
{
	struct redis_stats s;
	size_t o;
	int k;

	redis_stats(&s);
	k = snprintf(buf, len, "redis=%s redis_round_trips=%llu redis_errors=%llu "
	    "redis_timeouts=%llu redis_fallbacks=%llu redis_rtt_p50_us=%llu "
	    "redis_rtt_p99_us=%llu redis_error_reasons=",
	    !s.configured ? "off" : s.up ? "up" : "down",
	    (unsigned long long)s.round_trips, (unsigned long long)s.errors,
	    (unsigned long long)s.timeouts, (unsigned long long)s.fallbacks,
	    (unsigned long long)s.rtt_p50_us, (unsigned long long)s.rtt_p99_us);
	if (k < 0 || (size_t)k >= len)
		return;
	o = (size_t)k;
	for (int i = 0; i < REDIS_R_COUNT && o < len; i++) {
		k = snprintf(buf + o, len - o, "%s%s:%llu", i ? "," : "",
		    redis_reason_name((enum redis_reason)i),
		    (unsigned long long)s.reasons[i]);
		if (k < 0)
			return;
		o += (size_t)k;
	}
}
