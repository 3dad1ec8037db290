/* clock.h: the one place the daemon reads the time. */
#ifndef MRL_CLOCK_H
#define MRL_CLOCK_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC: never steps when the wall clock does. */
uint64_t clock_now_ms(void);
/* Nanoseconds on CLOCK_MONOTONIC: durations (the metrics histogram). */
uint64_t clock_now_ns(void);
/* Unix time in seconds (CLOCK_REALTIME): timestamps shown to people and
 * to Prometheus, never used to measure a window. */
double clock_wall_s(void);

#endif
