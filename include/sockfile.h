/*
 * sockfile.h: the milter's unix socket, created at its path with its
 * owner and mode already set, and removed at stop only if it is still
 * ours.
 *
 * The socket is bound inside a private 0700 directory made beside the
 * final path, given its owner there, and renamed over the final name:
 * rename replaces a symlink planted at that name, never follows it, so no
 * root-privileged step looks a path up that another user can redirect.
 * The listening descriptor is handed to libmilter as "fd:N".
 */
#ifndef MRL_SOCKFILE_H
#define MRL_SOCKFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

struct sockfile {
	int fd;			/* the listening socket; -1 when none */
	int dirfd;		/* the socket's directory, open for the process's life */
	char *dir;		/* its name, for messages */
	char *name;		/* the socket's name in it */
	dev_t dev;		/* the node we put there, to know it at stop */
	ino_t ino;
};

enum sockfile_result {
	SOCKFILE_OK,
	SOCKFILE_LIVE,		/* a process answers on the path: another instance */
	SOCKFILE_ERROR,
};


/*
 * Create a listening unix socket at path, owned by uid:gid ((uid_t)-1 or
 * (gid_t)-1: leave that one as created) with the given mode.  What is at
 * the path already: nothing, a stale socket (no process answers: it is
 * replaced), or a symbolic link (replaced, its target untouched) is fine;
 * a socket some process answers on gives SOCKFILE_LIVE and changes
 * nothing; anything else is an error.  A directory writable by everyone
 * without the sticky bit is refused.  *dirst receives the directory's
 * status, for the caller's own checks.  Call while no other thread
 * exists: it changes the working directory for a moment (and restores
 * it) and the umask.  On failure err says why and nothing is left behind.
 */
enum sockfile_result sockfile_create(struct sockfile *sf, const char *path,
    uid_t uid, gid_t gid, mode_t mode, struct stat *dirst, char *err, size_t errlen);

/*
 * At stop: remove the socket if the path still holds the one we created.
 * A directory we may no longer write (root-owned, and root given up) keeps
 * it, quietly: a stale socket is replaced at the next start.  Closes the
 * descriptors.
 */
void sockfile_remove(struct sockfile *sf);

#endif
