/*
 * maint.c: the control thread: signals, sweeps, map checks.
 *
 * Expiry is lazy on access (an idle entry is reused when a shard needs
 * room) plus the bounded background sweep here, which keeps the occupancy
 * figure honest and the entries' 32-bit timestamps from wrapping.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "maint.h"
#include "milter.h"
#include "redis_store.h"
#include "report.h"

#define SWEEP_BUDGET 1024	/* entries per shard per second */

static pthread_t thread;
static atomic_bool stopping;
static bool running;

/* The map check interval in force (the config may change it). */
static uint32_t
check_interval(struct reloader *r)
{
	uint32_t s;

	pthread_rwlock_rdlock(&r->policy->lock);
	s = r->policy->rules->cfg->map_check_interval;
	pthread_rwlock_unlock(&r->policy->lock);
	return s;
}

static uint64_t started_ms;

/* SIGUSR2: one line an admin (or a monitoring script) can read. */
static void
log_stats(struct reloader *r)
{
	struct policy_totals n;
	struct window_stats ws;
	char redis[512];

	policy_totals(r->policy, &n);
	redis_stats_format(redis, sizeof redis);
	window_stats(r->policy->table, &ws);
	log_notice("stats connections=%llu accepted=%llu exempt=%llu refused=%llu "
	    "would_refuse=%llu refused_concurrent=%llu would_refuse_concurrent=%llu "
	    "untracked=%llu no_address=%llu table_used=%llu "
	    "table_capacity=%llu evictions=%llu expired=%llu reloads=%llu "
	    "reload_failures=%llu uptime=%llus %s",
	    (unsigned long long)n.seen, (unsigned long long)n.accepted,
	    (unsigned long long)n.exempt, (unsigned long long)n.refused,
	    (unsigned long long)n.would_refuse,
	    (unsigned long long)n.refused_concurrent,
	    (unsigned long long)n.would_refuse_concurrent,
	    (unsigned long long)n.untracked,
	    (unsigned long long)n.noaddr,
	    (unsigned long long)ws.used, (unsigned long long)ws.capacity,
	    (unsigned long long)ws.evictions, (unsigned long long)ws.expired,
	    (unsigned long long)r->reloads, (unsigned long long)r->failures,
	    (unsigned long long)((clock_now_ms() - started_ms) / 1000), redis);
}

static void *
maint_main(void *arg)
{
	struct reloader *r = arg;
	uint64_t now = clock_now_ms(), last_sweep = now, last_check = now;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	while (!atomic_load(&stopping)) {
		uint32_t every = check_interval(r);
		uint64_t next = last_sweep + 1000;
		struct timespec wait;
		int sig;

		/* Wake for the next sweep or map check, whichever is first,
		 * so a changed map is seen within map_check_interval. */
		if (every > 0 && last_check + every * 1000ull < next)
			next = last_check + every * 1000ull;
		now = clock_now_ms();
		wait.tv_sec = next > now ? (time_t)((next - now) / 1000) : 0;
		wait.tv_nsec = next > now ? (long)((next - now) % 1000) * 1000000L : 0;
		sig = sigtimedwait(&set, NULL, &wait);
		now = clock_now_ms();

		if (sig == SIGUSR1) {
			reload_all(r);
			last_check = now;
		} else if (sig == SIGUSR2) {
			log_stats(r);
		}
		if (now - last_sweep >= 1000) {
			policy_sweep(r->policy, now, SWEEP_BUDGET, report_due, NULL);
			milter_sweep(now);
			last_sweep = now;
		}
		if (every > 0 && now - last_check >= every * 1000ull) {
			reload_check_map(r);
			last_check = now;
		}
	}
	return NULL;
}

bool
maint_start(struct reloader *r)
{
	int e;

	started_ms = clock_now_ms();
	e = pthread_create(&thread, NULL, maint_main, r);

	if (e != 0) {
		errno = e;
		log_warn("cannot start the control thread");
		return false;
	}
	running = true;
	return true;
}

void
maint_stop(void)
{
	if (!running)
		return;
	atomic_store(&stopping, true);
	pthread_join(thread, NULL);
	running = false;
}
