/* pidfile.c: the pid file and its lock. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pidfile.h"

#define LOCK_TRIES 5

/* The pid written in an open pid file, or 0. */
static long
read_pid(int fd)
{
	char buf[32] = "";
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);

	return n > 0 ? strtol(buf, NULL, 10) : 0;
}

enum pidfile_result
pidfile_lock(struct pidfile *pf, const char *path, char *err, size_t errlen)
{
	struct stat fst, pst;
	long holder;
	int fd;

	pf->fd = -1;
	pf->path = NULL;
	for (int i = 0; i < LOCK_TRIES; i++) {
		/* No O_TRUNC: the file may be another live instance's. */
		fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0) {
			snprintf(err, errlen, "pid file %s: %s", path,
			    errno == ELOOP ? "is a symbolic link; refusing to follow it" :
			    strerror(errno));
			return PIDFILE_ERROR;
		}
		if (fstat(fd, &fst) != 0 || !S_ISREG(fst.st_mode)) {
			snprintf(err, errlen, "pid file %s: not a regular file", path);
			close(fd);
			return PIDFILE_ERROR;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			if (errno == EWOULDBLOCK) {
				holder = read_pid(fd);
				if (holder > 0)
					snprintf(err, errlen, "pid file %s is locked by running "
					    "process %ld: another milter-ratelimit runs on this "
					    "configuration; refusing to start", path, holder);
				else
					snprintf(err, errlen, "pid file %s is locked by another "
					    "process: another milter-ratelimit runs on this "
					    "configuration; refusing to start", path);
				close(fd);
				return PIDFILE_BUSY;
			}
			snprintf(err, errlen, "pid file %s: flock: %s", path, strerror(errno));
			close(fd);
			return PIDFILE_ERROR;
		}
		/* The holder before us may have removed the file between our
		 * open and our lock: then ours is an orphan; lock the new one. */
		if (lstat(path, &pst) == 0 && pst.st_dev == fst.st_dev &&
		    pst.st_ino == fst.st_ino) {
			if ((pf->path = strdup(path)) == NULL) {
				snprintf(err, errlen, "out of memory");
				close(fd);
				return PIDFILE_ERROR;
			}
			pf->fd = fd;
			pf->dev = fst.st_dev;
			pf->ino = fst.st_ino;
			pf->written = false;
			return PIDFILE_OK;
		}
		close(fd);
	}
	snprintf(err, errlen, "pid file %s keeps being replaced; refusing to start", path);
	return PIDFILE_ERROR;
}

bool
pidfile_write(struct pidfile *pf, char *err, size_t errlen)
{
	char buf[32];
	int n;

	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(pf->fd, 0) != 0 || pwrite(pf->fd, buf, (size_t)n, 0) != n) {
		snprintf(err, errlen, "pid file %s: %s", pf->path, strerror(errno));
		return false;
	}
	pf->written = true;
	return true;
}

void
pidfile_remove(struct pidfile *pf)
{
	struct stat st;

	if (pf->fd < 0)
		return;
	if (!pf->written && (fstat(pf->fd, &st) != 0 || st.st_size != 0))
		goto out;
	/* Emptied first: a directory that root owns may not let us remove
	 * it (root given up), and a stale pid must not outlive us.  Then
	 * removed while the lock is held, so that no newcomer locks this
	 * inode and believes it is the pid file (it checks the path after). */
	if (ftruncate(pf->fd, 0) != 0) {
		/* still removed below if we may; the lock goes with us */
	}
	if (lstat(pf->path, &st) == 0 && st.st_dev == pf->dev && st.st_ino == pf->ino)
		(void)unlink(pf->path);
out:
	close(pf->fd);
	pf->fd = -1;
	free(pf->path);
	pf->path = NULL;
}
