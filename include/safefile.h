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

#endif
