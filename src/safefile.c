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
