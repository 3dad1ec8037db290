/*
 * control.h: the control socket (ratelimit-ctl), a unix socket of mode
 * 0660, owned by root (or the daemon's user when started unprivileged)
 * and control_group, served by one thread of its own.
 *
 * Why a thread of its own, and why it cannot stall the milter: it shares
 * with the milter threads only what a decision shares with another (the
 * policy's read lock, the table's shard locks, one at a time, for
 * O(shard) work at most: policyctl.h), never waits for a milter thread
 * and is never waited for by one.  Its clients are bounded: at most
 * CONTROL_CLIENTS at once (one more is closed at once), a request line of
 * CONTROL_LINE_MAX bytes within CONTROL_READ_MS, an answer written
 * without blocking within CONTROL_WRITE_MS; past any bound the client
 * gets an "ERR" line when it can take one, and is closed.  A reload asked
 * for here runs in the maintenance thread as SIGUSR1's does (libconfuse
 * is not thread-safe); the client waits for its outcome, the control
 * thread does not.
 *
 * Who may ask: SO_PEERCRED on every connection; root, the daemon's own
 * user, or a user whose primary or supplementary groups (getgrouplist)
 * include control_group.  Anyone else gets "ERR denied", one log line
 * with uid and pid, and a close.
 */
#ifndef MRL_CONTROL_H
#define MRL_CONTROL_H

#include <stdbool.h>

#include "config.h"
#include "policy.h"
#include "privs.h"

#define CONTROL_CLIENTS 8
#define CONTROL_READ_MS 2000
#define CONTROL_WRITE_MS 2000
#define CONTROL_RELOAD_MS 30000

/*
 * Create the socket, before any thread exists and before root is given
 * up (sockfile.h: safe against links, stale and live sockets).  Returns
 * 0, or the exit status the start must fail with: a control_socket the
 * admin named must open; the default one is best effort (a warning).
 */
int control_open(const struct config *cfg, const struct privs *pv);

/* Start the thread (after privileges are dropped).  False on failure. */
bool control_start(struct policy *p);

/* Stop the thread (within about a second) and remove the socket. */
void control_stop(void);

#endif
