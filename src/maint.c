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
#include "report.h"
#include "stats.h"

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

/* SIGUSR2: one line an admin (or a monitoring script) can read. */
static void
log_stats(struct reloader *r)
{
	char line[1024];

	stats_format(r->policy, clock_now_ms(), line, sizeof line);
	log_notice("stats %s", line);
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
			/* Taken before any file is read: a ratelimit-ctl
			 * reload waiting for it sees this load's outcome. */
			uint64_t ticket = reload_ticket_take();

			reload_ticket_done(ticket, reload_all(r));
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

	stats_started(clock_now_ms());
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
