/*
 * privs.h: who the daemon runs as, and giving up root.
 *
 * The order is milter-regex's: open the socket as root with its owner,
 * group and mode (sockfile.h), then initgroups(), setgid(), setuid(), and
 * check that setuid(0) now fails.
 */
#ifndef MRL_PRIVS_H
#define MRL_PRIVS_H

#include <stdbool.h>
#include <sys/stat.h>
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

/* Whether p's user (with its own and supplementary groups) may write
 * a file or directory of status st.  Always true for root. */
bool privs_can_write(const struct privs *p, const struct stat *st);

/* Whether this process has gid as its effective or a supplementary
 * group: then it may give a file it owns that group, without root. */
bool privs_member(gid_t gid);

/* Drop to p's user, its own group and its supplementary groups (no-op
 * when already that user, or p->is_root).  `group` plays no part: it
 * only opens the socket to the MTA.  False, with a reason, if anything
 * fails or root can still be regained. */
bool privs_drop(const struct privs *p, char *err, size_t errlen);

void privs_free(struct privs *p);

#endif
