/*
 * sockdir.h: can the run user use the directory its unix socket lives in?
 *
 * milter-ratelimit -n asks this before a start does: a missing directory
 * made the start fail with exit 71 after -n had said "configuration OK".
 * The answer is computed for the run user (its uid, primary group and
 * supplementary groups, looked up by name) from the modes and owners of
 * the directory and every directory above it, not for the process asking:
 * -n usually runs as root, the daemon as the user.  POSIX ACLs are not
 * consulted.
 */
#ifndef MRL_SOCKDIR_H
#define MRL_SOCKDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum sockdir_verdict {
	SOCKDIR_OK = 0,
	SOCKDIR_WARN = 1,	/* usable for the start, msg says what will not work */
	SOCKDIR_ERROR = 2,	/* the start would fail; msg says why */
};

/*
 * Check the directory of a "unix:PATH" or "local:PATH" socket spec (any
 * other spec is OK).  The directory must exist.  user (uid, gid) must be
 * able to search every directory above it and to write and search the
 * directory itself: it creates the socket there when the daemon is not
 * started as root, and removes it at exit.  creator_is_root: the daemon
 * will be started as root (the socket is created by root), so what only
 * the user lacks is a warning, not an error.
 */
enum sockdir_verdict sockdir_check(const char *spec, const char *user,
    uid_t uid, gid_t gid, bool creator_is_root, char *msg, size_t msglen);

#endif
