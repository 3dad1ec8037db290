/*
 * pidfile.h: the pid file, locked for the life of the process.
 *
 * The lock (flock, exclusive) is what tells a second start on the same
 * configuration that one runs already: taken before the socket is
 * touched, kept by holding the descriptor open, and carried across the
 * fork to the background (the child shares the open file description).
 * A pid file left by a dead process is not locked: it is reused.  The
 * file is never opened through a symlink.
 */
#ifndef MRL_PIDFILE_H
#define MRL_PIDFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct pidfile {
	int fd;			/* open and locked; -1 when none */
	char *path;
	dev_t dev;		/* the file we locked, to know it at removal */
	ino_t ino;
	bool written;		/* it holds our pid (else: maybe another's) */
};

enum pidfile_result {
	PIDFILE_OK,
	PIDFILE_BUSY,		/* another process holds the lock */
	PIDFILE_ERROR,
};

/* Open (creating it 0644, not truncating it) and lock path.  BUSY or
 * ERROR: err says why (BUSY names the holder's pid if the file has it). */
enum pidfile_result pidfile_lock(struct pidfile *pf, const char *path,
    char *err, size_t errlen);

/* Write getpid() into the locked file (call after detaching). */
bool pidfile_write(struct pidfile *pf, char *err, size_t errlen);

/* At stop: remove the file if it is still the one we locked; if its
 * directory does not let us (root given up), empty it instead.  Then
 * release the lock.  Before pidfile_write, only an empty file is removed:
 * a pid in it is not ours (an instance that took no lock). */
void pidfile_remove(struct pidfile *pf);

#endif
