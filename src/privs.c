/* privs.c: who the daemon runs as, and dropping root. */
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
privs_can_write(const struct privs *p, const struct stat *st)
{
	gid_t *groups;
	int n = 64;
	bool member = false;

	if (p->is_root)
		return true;
	/* The kernel's order: owner bits, else group bits, else other bits. */
	if (st->st_uid == p->uid)
		return (st->st_mode & S_IWUSR) != 0;
	if (st->st_gid == p->gid)
		member = true;
	else if ((groups = calloc((size_t)n, sizeof *groups)) != NULL) {
		if (getgrouplist(p->name, p->gid, groups, &n) < 0) {
			free(groups);
			groups = calloc((size_t)n, sizeof *groups);
			if (groups && getgrouplist(p->name, p->gid, groups, &n) < 0)
				n = 0;
		}
		for (int i = 0; groups && i < n; i++)
			if (groups[i] == st->st_gid)
				member = true;
		free(groups);
	}
	if (member)
		return (st->st_mode & S_IWGRP) != 0;
	return (st->st_mode & S_IWOTH) != 0;
}

bool
privs_member(gid_t gid)
{
	gid_t *groups;
	bool found = false;
	int n;

	if (getegid() == gid)
		return true;
	if ((n = getgroups(0, NULL)) <= 0 ||
	    (groups = calloc((size_t)n, sizeof *groups)) == NULL)
		return false;
	n = getgroups(n, groups);
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			found = true;
	free(groups);
	return found;
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
