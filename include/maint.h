/*
 * maint.h: the maintenance thread: once a second it sweeps idle clients
 * out of the window table (a bounded amount of work per shard per pass).
 */
#ifndef MRL_MAINT_H
#define MRL_MAINT_H

#include <stdbool.h>

#include "policy.h"

bool maint_start(const struct policy *p);
void maint_stop(void);

#endif
