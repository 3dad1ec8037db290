/*
 * report.h: what the daemon says about its decisions.
 *
 * One refusal line per client key per window, in a stable key=value form a
 * fail2ban filter can match:
 *
 *   refused client=203.0.113.7 key=203.0.113.7/32 count=11 limit=10
 *     window=60s stage=connect [entry=PREFIX] host=NAME [suppressed=N]
 *
 * Refusals in between are summed into the key's next line (suppressed=N),
 * or into a `refused-summary key=... suppressed=N` line once the window has
 * passed.  At log_level debug every refusal gets its line.  Allowed,
 * exempt and untracked clients are logged at debug level.
 */
#ifndef MRL_REPORT_H
#define MRL_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

/* The throttle's memory is fixed here: slots for this many keys. */
bool report_init(size_t slots);
void report_free(void);

/* Log d (hostname is the MTA's untrusted PTR text).  Thread-safe. */
void report_decision(const struct decision *d, const char *hostname,
    uint64_t now_ms);

/* Write the summaries that are due; called once a second. */
void report_flush(uint64_t now_ms);

#endif
