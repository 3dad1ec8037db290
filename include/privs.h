/*
 * privs.h: the socket's owner and mode, and giving up root.
 *
 * The order is milter-regex's: open the socket as root, give it its owner,
 * group and mode, then initgroups(), setgid(), setuid(), and check that
 * setuid(0) now fails.
 */
#ifndef MRL_PRIVS_H
#define MRL_PRIVS_H

#include <stdbool.h>
#include <sys/types.h>

struct privs {
	uid_t uid;
	gid_t gid;		/* the user's own group: the daemon runs as it */
	gid_t socket_gid;	/* `group`, or the user's own group */
	char *name;
	bool is_root;	/* the configured user is root: no change */
};

/* Look up user, and group for the socket ("" = the user's own group).
 * False with a reason in err when either does not exist. */
bool privs_lookup(const char *user, const char *group, struct privs *out,
    char *err, size_t errlen);

/* Give a unix socket (spec "unix:PATH" or "local:PATH") the owner
 * (user, socket_gid) and mode; other specs are left alone.  Only root may
 * chown: when not root, only the mode is set. */
bool privs_socket(const char *spec, const struct privs *p, unsigned mode,
    char *err, size_t errlen);

/* Drop to p's user, its own group and its supplementary groups (no-op
 * when already that user, or p->is_root).  `group` plays no part: it
 * only opens the socket to the MTA.  False, with a reason, if anything
 * fails or root can still be regained. */
bool privs_drop(const struct privs *p, char *err, size_t errlen);

void privs_free(struct privs *p);

#endif
