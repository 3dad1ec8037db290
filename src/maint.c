/*
 * maint.c: the maintenance thread.
 *
 * Expiry is lazy on access (an idle entry is reused when a shard needs
 * room) plus this bounded background sweep, which keeps the occupancy
 * figure honest and the entries' 32-bit timestamps from wrapping.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "maint.h"

#define SWEEP_BUDGET 1024	/* entries per shard per second */

static pthread_t thread;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;	/* guards stopping */
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static bool stopping, running;

static void *
maint_main(void *arg)
{
	const struct policy *p = arg;
	struct timespec until;

	pthread_mutex_lock(&lock);
	while (!stopping) {
		pthread_mutex_unlock(&lock);
		window_sweep(p->table, policy_max_window_ms(p), clock_now_ms(),
		    SWEEP_BUDGET);
		pthread_mutex_lock(&lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		while (!stopping &&
		    pthread_cond_timedwait(&wake, &lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

bool
maint_start(const struct policy *p)
{
	int e = pthread_create(&thread, NULL, maint_main, (void *)p);

	if (e != 0) {
		errno = e;
		log_warn("cannot start the maintenance thread");
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
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
	running = false;
}
