/*
 * safefile.h: refuse rules that anyone could have written, as sendmail
 * refuses unsafe files.  A file is unsafe when it is writable by others,
 * or its directory is writable by others without the sticky bit (anyone
 * could replace it).
 */
#ifndef MRL_SAFEFILE_H
#define MRL_SAFEFILE_H

#include <stdbool.h>
#include <stddef.h>

/* False, with a reason in err, when path is unsafe.  A file that cannot
 * be examined is not judged here (its reader reports that). */
bool safefile_check(const char *path, char *err, size_t errlen);

/*
 * Open path read-only, and only if it is a regular file: a FIFO (or a
 * device) put where a config or map belongs must not block the caller in
 * open() or read(), which for the control thread would stop reloads,
 * sweeps and the shutdown.  The open itself does not wait (O_NONBLOCK,
 * cleared again once fstat has vouched for the file).  Returns the
 * descriptor (close-on-exec), or -1 with the reason in err (such as
 * "not a regular file (a FIFO)"; the caller names the file).
 */
int safefile_open(const char *path, char *err, size_t errlen);

/*
 * Before root writes through a path (a symlinked map, a map's source): the
 * path with its links followed, checked hop by hop.  Every directory on the
 * way (each prefix of each hop, looked at with lstat) must be a real
 * directory of root's or ours that nobody else may change (unless
 * sticky); a link is followed only from such a directory.  Otherwise
 * another user could swap an entry between our look-ups and have us write,
 * chown or read a file of their choosing.  Returns the final path
 * (malloc'd; it need not exist), or NULL with the reason in err.
 */
char *safefile_resolve_trusted(const char *path, char *err, size_t errlen);

#endif
