/*
 * maint.h: the control thread, our one thread beside libmilter's.
 *
 * It waits for SIGUSR1 (reload config and map) and SIGUSR2 (log a
 * statistics line) with a timeout; every second it sweeps idle clients out of the table (a bounded amount
 * of work per shard), and every map_check_interval seconds it reloads the
 * map if its file changed.  The signals must be blocked in every thread
 * (daemon_block_signals) before any thread starts.
 */
#ifndef MRL_MAINT_H
#define MRL_MAINT_H

#include <stdbool.h>

#include "reload.h"

bool maint_start(struct reloader *r);
/* Returns within about a second. */
void maint_stop(void);

#endif
