/*
 * throttle.h: at most one refusal log line per client key per window.
 *
 * Under a flood, a refused client may knock thousands of times a minute;
 * one line per key per window is what an admin (or fail2ban) needs.  The
 * refusals in between are counted and reported on the key's next line as
 * suppressed=N, or by throttle_flush() once its window has passed.
 *
 * A fixed, direct-mapped table (no allocation after create): when two keys
 * meet in one slot the newcomer takes it and the old key's pending count is
 * handed back to be logged at once, so nothing is lost, at worst said early.
 */
#ifndef MRL_THROTTLE_H
#define MRL_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "window.h"

struct throttle;

/* A key whose suppressed refusals are due to be logged. */
struct throttle_due {
	struct window_key key;
	uint32_t suppressed;
};

struct throttle *throttle_create(size_t slots, const uint8_t seed[16]);
void throttle_destroy(struct throttle *t);

/*
 * A refusal of key at now_ms under a window of window_ms.  Returns true
 * when a line is to be written now, with *suppressed set to the refusals of
 * this key not logged since its previous line.  *evicted is filled (and
 * evicted->suppressed > 0) when another key's pending count was displaced.
 * Takes the throttle's lock; O(1).
 */
bool throttle_refusal(struct throttle *t, const struct window_key *key,
    uint32_t window_ms, uint64_t now_ms, uint32_t *suppressed,
    struct throttle_due *evicted);

/*
 * Collect up to max keys whose window has passed with refusals still
 * unlogged, clearing them.  Returns how many were written to out.
 */
size_t throttle_flush(struct throttle *t, uint64_t now_ms,
    struct throttle_due *out, size_t max);

#endif
