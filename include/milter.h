/*
 * milter.h: the libmilter glue.  Only this module includes libmilter.
 */
#ifndef MRL_MILTER_H
#define MRL_MILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

/*
 * Register the filter and open the socket named by spec, removing a
 * stale unix socket first.  Returns false, having logged why, on failure.
 */
bool milter_setup(const char *name, const char *spec, struct policy *p);

/* Run libmilter's loop until SIGTERM/SIGHUP/SIGINT; false if it failed. */
bool milter_run(void);

/* The concurrency refusals not logged whose window has passed at now_ms
 * get their summary lines (the control thread, once a second). */
void milter_sweep(uint64_t now_ms);
/* Every concurrency refusal not logged gets its summary line: at exit. */
void milter_drain(void);

#endif
