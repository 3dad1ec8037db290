/* pidfile.h: write and remove the pid file, never through a symlink. */
#ifndef MRL_PIDFILE_H
#define MRL_PIDFILE_H

#include <stdbool.h>
#include <stddef.h>

/* Write getpid() to path (O_NOFOLLOW: a symlink there is an error). */
bool pidfile_write(const char *path, char *err, size_t errlen);
/* Remove it, if it still holds our pid. */
void pidfile_remove(const char *path);

#endif
