/*
 * sockfile.c: create the milter's unix socket with no path lookup that
 * another user can redirect.
 *
 * Why this design: chown(path) and chmod(path) after the socket exists
 * follow a symlink that anyone able to write the socket's directory can
 * put there in the meantime (a root-owned file became the run user's).
 * fchown/fchmod on the socket's descriptor do not help: they change the
 * socket's sockfs inode, not the filesystem node that connect() checks
 * (checked on Linux 6.x).  lchown plus an lstat check would still leave a
 * window between bind and the check.  So the socket is born where nobody
 * else can reach it: a fresh 0700 directory beside the final path, bound
 * by a relative name after fchdir into it (no sun_path length cost), its
 * mode set by the umask at bind, its owner set there with
 * AT_SYMLINK_NOFOLLOW, and only then renamed over the final name.
 * rename() replaces whatever entry is at the name (a stale socket, a
 * planted symlink) without following it.  The listening descriptor then
 * goes to libmilter as "fd:N" (Debian's libmilter; it listens on it with
 * its backlog and never unlinks a path for it).
 */
#define _GNU_SOURCE	/* O_PATH */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "sockfile.h"

#define SOCK_TMPNAME "sock"	/* the socket's name inside the private directory */
#define MKDIR_TRIES 8

/* connect() or bind() `name`, relative to directory dirfd.  fchdir and
 * back: the only way to use a relative sun_path; no other thread runs. */
static int
at_dir(int dirfd, int sock, const char *name, bool do_bind)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int cwd, rc, saved;

	if (strlen(name) >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, name, strlen(name) + 1);
	if ((cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	if (fchdir(dirfd) != 0) {
		saved = errno;
		close(cwd);
		errno = saved;
		return -1;
	}
	rc = do_bind ? bind(sock, (struct sockaddr *)&sa, sizeof sa) :
	    connect(sock, (struct sockaddr *)&sa, sizeof sa);
	saved = errno;
	if (fchdir(cwd) != 0)
		fatal("cannot return to the working directory");
	close(cwd);
	errno = saved;
	return rc;
}

/*
 * What is at the final name now.  A socket is probed: a process that
 * accepts (or whose backlog is full) is a live milter; ECONNREFUSED means
 * nobody listens, a stale socket.
 */
static enum sockfile_result
check_existing(struct sockfile *sf, const char *path, char *err, size_t errlen)
{
	struct stat st;
	int s, rc, e;

	if (fstatat(sf->dirfd, sf->name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return SOCKFILE_OK;
		snprintf(err, errlen, "socket %s: %s", path, strerror(errno));
		return SOCKFILE_ERROR;
	}
	if (S_ISLNK(st.st_mode)) {
		log_warnx("socket path %s is a symbolic link; replacing the link "
		    "(its target is not touched)", path);
		return SOCKFILE_OK;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "socket path %s exists and is not a socket; "
		    "refusing to replace it", path);
		return SOCKFILE_ERROR;
	}
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return SOCKFILE_ERROR;
	}
	rc = at_dir(sf->dirfd, s, sf->name, false);
	e = errno;
	close(s);
	if (rc == 0 || e == EAGAIN) {
		snprintf(err, errlen, "socket %s is in use: a running milter answers "
		    "on it (another milter-ratelimit on this configuration?); "
		    "refusing to start", path);
		return SOCKFILE_LIVE;
	}
	if (e == ECONNREFUSED || e == ENOENT) {
		log_info("replacing stale socket %s (nothing listens on it)", path);
		return SOCKFILE_OK;
	}
	snprintf(err, errlen, "cannot tell whether socket %s is in use: %s; "
	    "remove it if no milter runs on it", path, strerror(e));
	return SOCKFILE_ERROR;
}

/* A new 0700 directory in dirfd with a random name; its name in out. */
static int
make_private_dir(int dirfd, char *out, size_t outlen)
{
	unsigned long long r;
	int fd;
	struct stat st;

	for (int i = 0; i < MKDIR_TRIES; i++) {
		if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
			return -1;
		snprintf(out, outlen, ".milter-ratelimit.%016llx", r);
		if (mkdirat(dirfd, out, 0700) == 0)
			break;
		if (errno != EEXIST || i == MKDIR_TRIES - 1)
			return -1;
	}
	/* Whoever can write dirfd could have swapped our directory for a
	 * link or one of theirs since: only ours, private, is used. */
	if ((fd = openat(dirfd, out, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 0077) != 0) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

static bool
split_path(struct sockfile *sf, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		sf->dir = strdup(".");
		sf->name = strdup(path);
	} else {
		sf->dir = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
		sf->name = strdup(slash + 1);
	}
	return sf->dir && sf->name;
}

static void
sockfile_clear(struct sockfile *sf)
{
	if (sf->fd >= 0)
		close(sf->fd);
	if (sf->dirfd >= 0)
		close(sf->dirfd);
	free(sf->dir);
	free(sf->name);
	sf->fd = sf->dirfd = -1;
	sf->dir = sf->name = NULL;
}

enum sockfile_result
sockfile_create(struct sockfile *sf, const char *path, uid_t uid, gid_t gid,
    mode_t mode, struct stat *dirst, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	enum sockfile_result res = SOCKFILE_ERROR;
	char tmpname[64] = "";
	int tmpfd = -1;
	mode_t um;
	struct stat st;

	memset(sf, 0, sizeof *sf);
	sf->fd = sf->dirfd = -1;
	/* An MTA connects by the whole path: it must fit in sun_path. */
	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "socket path %s is too long (%zu bytes, at most %zu)",
		    path, strlen(path), sizeof sa.sun_path - 1);
		return SOCKFILE_ERROR;
	}
	if (!split_path(sf, path)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (*sf->name == '\0' || strcmp(sf->name, ".") == 0 || strcmp(sf->name, "..") == 0) {
		snprintf(err, errlen, "socket path %s names no file", path);
		goto out;
	}
	if ((sf->dirfd = open(sf->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fstat(sf->dirfd, dirst) != 0) {
		snprintf(err, errlen, "socket directory %s: %s", sf->dir, strerror(errno));
		goto out;
	}
	if ((dirst->st_mode & S_IWOTH) && !(dirst->st_mode & S_ISVTX)) {
		snprintf(err, errlen, "socket directory %s is writable by everyone (mode %04o) "
		    "without the sticky bit: anyone could replace the socket; refusing it",
		    sf->dir, (unsigned)(dirst->st_mode & 07777));
		goto out;
	}
	if ((res = check_existing(sf, path, err, errlen)) != SOCKFILE_OK)
		goto out;
	res = SOCKFILE_ERROR;

	if ((tmpfd = make_private_dir(sf->dirfd, tmpname, sizeof tmpname)) < 0) {
		snprintf(err, errlen, "cannot make a private directory in %s: %s",
		    sf->dir, strerror(errno));
		goto out;
	}
	if ((sf->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto out;
	}
	/* Born with its mode: the umask takes the bits the mode lacks. */
	um = umask(~mode & 0777);
	if (at_dir(tmpfd, sf->fd, SOCK_TMPNAME, true) != 0) {
		umask(um);
		snprintf(err, errlen, "bind %s: %s", path, strerror(errno));
		goto out;
	}
	umask(um);
	/* Listening before it appears at the final name: an MTA never finds
	 * a socket that refuses it.  libmilter listens again with its backlog. */
	if (listen(sf->fd, SOMAXCONN) != 0 ||
	    fstatat(tmpfd, SOCK_TMPNAME, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "socket %s: %s", path, strerror(errno));
		goto out;
	}
	sf->dev = st.st_dev;
	sf->ino = st.st_ino;
	/* Nobody else can enter the private directory: these name our node. */
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    fchownat(tmpfd, SOCK_TMPNAME, uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
		/* Unprivileged, a member of the group: only a seccomp filter
		 * says no (~@privileged holds the chown calls; the shipped
		 * unit puts fchownat back, a unit of the admin's may not). */
		snprintf(err, errlen, "cannot give socket %s its owner: %s%s", path,
		    strerror(errno), errno == EPERM && geteuid() != 0 ?
		    " (under systemd, allow it with SystemCallFilter=fchownat after "
		    "any SystemCallFilter=~ line)" : "");
		goto out;
	}
	if (fchmodat(tmpfd, SOCK_TMPNAME, mode, 0) != 0) {
		snprintf(err, errlen, "cannot give socket %s its mode: %s", path, strerror(errno));
		goto out;
	}
	if (renameat(tmpfd, SOCK_TMPNAME, sf->dirfd, sf->name) != 0) {
		snprintf(err, errlen, "cannot move socket into place at %s: %s", path,
		    strerror(errno));
		goto out;
	}
	res = SOCKFILE_OK;
out:
	if (tmpfd >= 0) {
		unlinkat(tmpfd, SOCK_TMPNAME, 0);	/* still there only on failure */
		close(tmpfd);
	}
	if (*tmpname && unlinkat(sf->dirfd, tmpname, AT_REMOVEDIR) != 0)
		log_warn("cannot remove %s/%s", sf->dir, tmpname);
	if (res != SOCKFILE_OK)
		sockfile_clear(sf);
	return res;
}

void
sockfile_remove(struct sockfile *sf)
{
	struct stat st;

	if (sf->dirfd < 0)
		return;
	if (fstatat(sf->dirfd, sf->name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		/* A root-owned 0750 directory: root given up, we cannot look. */
		if (errno == EACCES)
			log_debug("socket %s/%s left in place (directory not searchable "
			    "by this user); the next start replaces it", sf->dir, sf->name);
		else if (errno != ENOENT)
			log_warn("socket %s/%s", sf->dir, sf->name);
	} else if (st.st_dev != sf->dev || st.st_ino != sf->ino) {
		log_warnx("socket %s/%s is no longer the one this process created; "
		    "leaving it", sf->dir, sf->name);
	} else if (unlinkat(sf->dirfd, sf->name, 0) != 0) {
		/* Root-owned directory, root given up: expected, and harmless. */
		if (errno == EACCES || errno == EPERM)
			log_debug("socket %s/%s left in place (directory not writable by "
			    "this user); the next start replaces it", sf->dir, sf->name);
		else
			log_warn("cannot remove socket %s/%s", sf->dir, sf->name);
	}
	/* The listening descriptor is libmilter's now: not closed here. */
	sf->fd = -1;
	sockfile_clear(sf);
}
