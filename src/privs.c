/* privs.c: socket ownership and dropping root. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privs.h"

bool
privs_lookup(const char *user, const char *group, struct privs *out,
    char *err, size_t errlen)
{
	struct passwd *pw;
	struct group *gr;

	memset(out, 0, sizeof *out);
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "user \"%s\" does not exist%s", user,
		    errno ? "" : " (create it, e.g. useradd --system milter-ratelimit)");
		return false;
	}
	out->uid = pw->pw_uid;
	out->gid = out->socket_gid = pw->pw_gid;
	out->is_root = pw->pw_uid == 0;
	if (group && *group) {
		if ((gr = getgrnam(group)) == NULL) {
			snprintf(err, errlen, "group \"%s\" does not exist", group);
			return false;
		}
		out->socket_gid = gr->gr_gid;
	}
	if ((out->name = strdup(user)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	return true;
}

void
privs_free(struct privs *p)
{
	free(p->name);
	p->name = NULL;
}

bool
privs_socket(const char *spec, const struct privs *p, unsigned mode,
    char *err, size_t errlen)
{
	const char *path = NULL;

	if (strncmp(spec, "unix:", 5) == 0)
		path = spec + 5;
	else if (strncmp(spec, "local:", 6) == 0)
		path = spec + 6;
	if (path == NULL)
		return true;
	if (geteuid() == 0 && chown(path, p->uid, p->socket_gid) != 0) {
		snprintf(err, errlen, "chown %s: %s", path, strerror(errno));
		return false;
	}
	if (chmod(path, (mode_t)mode) != 0) {
		snprintf(err, errlen, "chmod %s: %s", path, strerror(errno));
		return false;
	}
	return true;
}

bool
privs_drop(const struct privs *p, char *err, size_t errlen)
{
	if (p->is_root || (geteuid() == p->uid && getegid() == p->gid))
		return true;
	if (geteuid() != 0) {
		snprintf(err, errlen, "running as uid %ld, cannot become user %s",
		    (long)geteuid(), p->name);
		return false;
	}
	/* Supplementary groups first, while we still may: setgroups needs root. */
	if (initgroups(p->name, p->gid) != 0 || setgid(p->gid) != 0 ||
	    setuid(p->uid) != 0) {
		snprintf(err, errlen, "cannot become %s: %s", p->name, strerror(errno));
		return false;
	}
	if (setuid(0) == 0 || seteuid(0) == 0) {
		snprintf(err, errlen, "could regain root after dropping to %s", p->name);
		return false;
	}
	return true;
}
