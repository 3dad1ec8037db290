/* safefile.c: world-writable files and directories; opening only
 * regular files. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safefile.h"

bool
safefile_check(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *copy;
	bool ok = true;

	if (stat(path, &st) != 0)
		return true;
	if (st.st_mode & S_IWOTH) {
		snprintf(err, errlen, "%s is writable by everyone (mode %04o); "
		    "refusing it: anyone could change the rules (chmod o-w %s, "
		    "or set allow_world_writable = true)", path,
		    (unsigned)(st.st_mode & 07777), path);
		return false;
	}
	if ((copy = strdup(path)) == NULL)
		return true;
	const char *dir = dirname(copy);
	if (stat(dir, &st) == 0 && (st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)) {
		snprintf(err, errlen, "%s is in %s, which everyone may write to "
		    "without the sticky bit: anyone could replace it; refusing it "
		    "(or set allow_world_writable = true)", path, dir);
		ok = false;
	}
	free(copy);
	return ok;
}

static const char *
file_kind(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "of an unknown type";
}

int
safefile_open(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd, fl, e;

	/* Judge by name first, so that a device is not even opened... */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file (%s)",
		    file_kind(st.st_mode));
		errno = EINVAL;
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	/* ...then by what was opened: the name may have changed since. */
	if (fstat(fd, &st) != 0) {
		e = errno;
		snprintf(err, errlen, "%s", strerror(e));
	} else if (!S_ISREG(st.st_mode)) {
		e = EINVAL;
		snprintf(err, errlen, "not a regular file (%s)",
		    file_kind(st.st_mode));
	} else if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		e = errno;
		snprintf(err, errlen, "%s", strerror(e));
	} else
		return fd;
	close(fd);
	errno = e;
	return -1;
}

/* Every directory above the absolute path p (lexically: each prefix,
 * looked at with lstat, so a link anywhere but the last component is
 * refused) is a real directory of root's or ours that nobody else may
 * change.  Needs p absolute. */
static bool
prefixes_trusted(const char *p, const char *shown, char *err, size_t errlen)
{
	char dir[4096];
	struct stat st;
	char *slash;

	if (snprintf(dir, sizeof dir, "%s", p) >= (int)sizeof dir) {
		snprintf(err, errlen, "%s: path too long", shown);
		return false;
	}
	while ((slash = strrchr(dir, '/')) != NULL) {
		slash[slash == dir ? 1 : 0] = '\0';	/* "/x" -> "/", "/x/y" -> "/x" */
		if (lstat(dir, &st) != 0) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			return false;
		}
		if (S_ISLNK(st.st_mode)) {
			snprintf(err, errlen, "%s: %s on its way is a symbolic link to a "
			    "directory; name the real directory (refusing to write through "
			    "links it does not vouch for)", shown, dir);
			return false;
		}
		if (!S_ISDIR(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
		    ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))) {
			snprintf(err, errlen, "%s: directory %s (owner uid %ld, mode %04o) "
			    "can be changed by another user, who could swap a file or link "
			    "in it while it is written; refusing", shown, dir,
			    (long)st.st_uid, (unsigned)(st.st_mode & 07777));
			return false;
		}
		if (strcmp(dir, "/") == 0)
			break;
	}
	return true;
}

char *
safefile_resolve_trusted(const char *path, char *err, size_t errlen)
{
	char cur[4096], next[4096], target[4096], *real;
	struct stat st;
	ssize_t n;

	if (path[0] == '/') {
		if (snprintf(cur, sizeof cur, "%s", path) >= (int)sizeof cur)
			goto toolong;
	} else {
		char cwd[4096];
		if (getcwd(cwd, sizeof cwd) == NULL ||
		    snprintf(cur, sizeof cur, "%s/%s", cwd, path) >= (int)sizeof cur)
			goto toolong;
	}
	/* Each hop: its directories trusted; a link is followed only from a
	 * trusted directory (nobody else can replace it there). */
	for (int hops = 0; ; hops++) {
		if (!prefixes_trusted(cur, path, err, errlen))
			return NULL;
		if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode))
			break;
		if (hops == 8) {
			snprintf(err, errlen, "%s: too many symbolic links", path);
			return NULL;
		}
		if ((n = readlink(cur, target, sizeof target - 1)) < 0) {
			snprintf(err, errlen, "%s: %s", cur, strerror(errno));
			return NULL;
		}
		target[n] = '\0';
		if (target[0] == '/') {
			snprintf(next, sizeof next, "%s", target);
		} else {
			char *slash = strrchr(cur, '/');
			if (snprintf(next, sizeof next, "%.*s/%s", (int)(slash - cur), cur,
			    target) >= (int)sizeof next)
				goto toolong;
		}
		memcpy(cur, next, sizeof cur);
	}
	if ((real = realpath(cur, NULL)) == NULL &&
	    (real = strdup(cur)) == NULL)
		snprintf(err, errlen, "out of memory");
	return real;
toolong:
	snprintf(err, errlen, "%s: path too long", path);
	return NULL;
}
