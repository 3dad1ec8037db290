/* clock.h: the one place the daemon reads the time. */
#ifndef MRL_CLOCK_H
#define MRL_CLOCK_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC: never steps when the wall clock does. */
uint64_t clock_now_ms(void);

#endif
