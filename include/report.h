/*
 * report.h: what the daemon says about its decisions.
 *
 * One refusal line per client key per window, in a stable key=value form a
 * fail2ban filter can match:
 *
 *   refused client=203.0.113.7 key=203.0.113.7/32 count=11 limit=10
 *     window=60s stage=connect retry=42s [entry=PREFIX] host=NAME [suppressed=N]
 *
 * key is the key that refused (of several, the one that holds the client
 * longest: window.h, "Several keys"); retry the seconds until the client's
 * next connection would pass every key (reply_text's %{retry}).
 *
 * Refusals in between are summed into the key's next line (suppressed=N),
 * or into a `refused-summary key=... suppressed=N` line once the window has
 * passed (or at exit).  Which refusal gets the line is decided by the
 * counter table, under its shard lock (window.h, "Refusal lines"): this
 * module only writes.  At log_level debug every refusal gets its line.
 * Allowed, exempt and untracked clients are logged at debug level.
 */
#ifndef MRL_REPORT_H
#define MRL_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "concurrency.h"
#include "policy.h"

/* Log d (hostname is the MTA's untrusted PTR text).  Thread-safe. */
void report_decision(const struct decision *d, const char *hostname);

/* A refused-summary line for a key's unlogged refusals: the window_due_fn
 * the table's sweep and drain call. */
void report_due(const struct window_due *due, void *arg);

/* A max_concurrent key's refusals not logged: a summary line
 * (conc_due_fn; concurrency.h). */
void report_conc_due(const struct conc_due *due, void *arg);

#endif
