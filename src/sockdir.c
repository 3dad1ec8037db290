/*
 * sockdir.c: the socket's directory, as the run user will find it.
 */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sockdir.h"
#include "sockspec.h"

#define SEARCH 1
#define WRITE 2

struct who {
	uid_t uid;
	gid_t *groups;		/* primary group included */
	int ngroups;
};

static bool
in_groups(const struct who *w, gid_t g)
{
	for (int i = 0; i < w->ngroups; i++)
		if (w->groups[i] == g)
			return true;
	return false;
}

/* The permission bits that apply to w, as the kernel picks them: owner,
 * else group, else others (never a union of the three). */
static bool
allowed(const struct who *w, const struct stat *st, int want)
{
	mode_t m = st->st_mode, x, wr;

	if (w->uid == 0)
		return true;	/* root searches and writes directories */
	if (st->st_uid == w->uid)
		x = S_IXUSR, wr = S_IWUSR;
	else if (in_groups(w, st->st_gid))
		x = S_IXGRP, wr = S_IWGRP;
	else
		x = S_IXOTH, wr = S_IWOTH;
	return (!(want & SEARCH) || (m & x)) && (!(want & WRITE) || (m & wr));
}

static const char *
owner_text(char *dst, size_t len, const struct stat *st)
{
	struct passwd *pw = getpwuid(st->st_uid);
	struct group *gr = getgrgid(st->st_gid);
	char u[32], g[32];

	snprintf(u, sizeof u, "%ld", (long)st->st_uid);
	snprintf(g, sizeof g, "%ld", (long)st->st_gid);
	snprintf(dst, len, "mode %04o, owner %s:%s", (unsigned)(st->st_mode & 07777),
	    pw ? pw->pw_name : u, gr ? gr->gr_name : g);
	return dst;
}

static bool
load_groups(struct who *w, const char *user, gid_t gid)
{
	int n = 32;

	for (int tries = 0; tries < 8; tries++) {
		gid_t *g = realloc(w->groups, (size_t)n * sizeof *g);
		int want = n;

		if (g == NULL)
			return false;
		w->groups = g;
		if (getgrouplist(user, gid, g, &want) >= 0) {
			w->ngroups = want;
			return true;
		}
		n = want > n ? want : n * 2;
	}
	return false;
}

enum sockdir_verdict
sockdir_check(const char *spec, const char *user, uid_t uid, gid_t gid,
    bool creator_is_root, char *msg, size_t msglen)
{
	char copy[PATH_MAX], real[PATH_MAX], own[128];
	enum sockdir_verdict v = SOCKDIR_OK, fail;
	struct who w = { .uid = uid };
	const char *path = sockspec_unix_path(spec), *dir;
	struct stat st;

	if (path == NULL)
		return SOCKDIR_OK;
	if (snprintf(copy, sizeof copy, "%s", path) >= (int)sizeof copy) {
		snprintf(msg, msglen, "socket path too long: %s", path);
		return SOCKDIR_ERROR;
	}
	dir = dirname(copy);
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		char why[128];
		int e = errno;

		if (stat(dir, &st) == 0)
			e = ENOTDIR;	/* it exists, and is something else */

		if (e == ENOENT || e == ENOTDIR)
			snprintf(why, sizeof why, "%s", e == ENOENT ? "does not exist" :
			    "is not a directory");
		else
			snprintf(why, sizeof why, "cannot be examined (%s)", strerror(e));
		snprintf(msg, msglen, "the socket's directory %s %s: the daemon could "
		    "not create its socket (create it, e.g. install -d -o %s -m 0750 "
		    "%s; under systemd RuntimeDirectory= does)", dir, why, user, dir);
		return SOCKDIR_ERROR;
	}
	if (realpath(dir, real) == NULL) {
		snprintf(msg, msglen, "%s: %s", dir, strerror(errno));
		return SOCKDIR_ERROR;
	}
	if (!load_groups(&w, user, gid)) {
		snprintf(msg, msglen, "cannot list the groups of user %s", user);
		free(w.groups);
		return SOCKDIR_ERROR;
	}
	fail = creator_is_root ? SOCKDIR_WARN : SOCKDIR_ERROR;
	/* "/" and every directory below it, above the socket's: search. */
	for (char *p = real; v == SOCKDIR_OK && *p; p++) {
		char c = p[1];

		if (*p != '/' || (p == real && c == '\0'))
			continue;
		if (p == real)
			c = real[1], real[1] = '\0';	/* "/" itself */
		else
			*p = '\0';
		if (stat(real, &st) == 0 && !allowed(&w, &st, SEARCH)) {
			snprintf(msg, msglen, "user %s cannot reach the socket's "
			    "directory %s: no search permission on %s (%s)", user, dir,
			    real, owner_text(own, sizeof own, &st));
			v = fail;
		}
		if (p == real)
			real[1] = c;
		else
			*p = '/';
	}
	if (v == SOCKDIR_OK && stat(real, &st) == 0 && !allowed(&w, &st, SEARCH | WRITE)) {
		snprintf(msg, msglen, "user %s cannot write to the socket's directory "
		    "%s (%s): %s", user, dir, owner_text(own, sizeof own, &st),
		    creator_is_root ? "the socket will be left behind at exit" :
		    "the daemon could not create its socket");
		v = fail;
	}
	free(w.groups);
	return v;
}
