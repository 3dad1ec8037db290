/* safefile.c: world-writable files and directories. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
