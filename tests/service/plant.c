/*
 * plant.c: an LD_PRELOAD shim that plays the attacker who wins every race
 * against the daemon's socket set-up.
 *
 * Right before each call that gives a file its owner or mode, or moves
 * one (chown, lchown, fchownat, chmod, fchmodat, rename, renameat), it
 * puts a symbolic link at $MRL_PLANT_PATH (the socket's final path)
 * pointing to $MRL_PLANT_TARGET, replacing whatever is there, exactly as
 * a user who can write the socket's directory could at that moment.
 * Then it makes the real call.  A daemon that follows the link changes
 * the target; one that never looks the path up does not.
 *
 *   cc -shared -fPIC -o plant.so plant.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void
plant(void)
{
	const char *path = getenv("MRL_PLANT_PATH");
	const char *target = getenv("MRL_PLANT_TARGET");
	char tmp[4096];
	int (*real_rename)(const char *, const char *);

	if (path == NULL || target == NULL)
		return;
	snprintf(tmp, sizeof tmp, "%s.plant", path);
	unlink(tmp);
	if (symlink(target, tmp) != 0)
		return;
	real_rename = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
	if (real_rename == NULL || real_rename(tmp, path) != 0)
		unlink(tmp);
}

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

int
chown(const char *p, uid_t u, gid_t g)
{
	plant();
	return REAL("chown", int (*)(const char *, uid_t, gid_t))(p, u, g);
}

int
lchown(const char *p, uid_t u, gid_t g)
{
	plant();
	return REAL("lchown", int (*)(const char *, uid_t, gid_t))(p, u, g);
}

int
fchownat(int d, const char *p, uid_t u, gid_t g, int f)
{
	plant();
	return REAL("fchownat", int (*)(int, const char *, uid_t, gid_t, int))(d, p, u, g, f);
}

int
chmod(const char *p, mode_t m)
{
	plant();
	return REAL("chmod", int (*)(const char *, mode_t))(p, m);
}

int
fchmodat(int d, const char *p, mode_t m, int f)
{
	plant();
	return REAL("fchmodat", int (*)(int, const char *, mode_t, int))(d, p, m, f);
}

int
rename(const char *a, const char *b)
{
	plant();
	return REAL("rename", int (*)(const char *, const char *))(a, b);
}

int
renameat(int da, const char *a, int db, const char *b)
{
	plant();
	return REAL("renameat", int (*)(int, const char *, int, const char *))(da, a, db, b);
}
