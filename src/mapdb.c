/*
 * mapdb.c: Berkeley DB map files, read and written as makemap does.
 */
#include <ctype.h>
#include <db.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mapdb.h"
#include "safefile.h"

bool
mapdb_push(struct map_entries *m, const struct map_entry *e)
{
	if (m->n == m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 256;
		struct map_entry *ne = realloc(m->e, ncap * sizeof *ne);
		if (ne == NULL)
			return false;
		m->e = ne;
		m->cap = ncap;
	}
	m->e[m->n++] = *e;
	return true;
}

void
mapdb_clear(struct map_entries *m)
{
	for (size_t i = 0; i < m->n; i++)
		mapentry_free(&m->e[i]);
	free(m->e);
	memset(m, 0, sizeof *m);
}

static int
cmp_entries(const void *a, const void *b)
{
	return mapentry_cmp(a, b);
}

void
mapdb_sort(struct map_entries *m)
{
	if (m->n > 1)
		qsort(m->e, m->n, sizeof *m->e, cmp_entries);
}

long
mapdb_find(const struct map_entries *m, const struct map_entry *e)
{
	for (size_t i = 0; i < m->n; i++)
		if (mapentry_same_key(&m->e[i], e))
			return (long)i;
	return -1;
}

/* Copy a DB datum into a C string: drop one trailing NUL (makemap -N)
 * and surrounding white space.  False when it does not fit or holds a NUL
 * inside. */
static bool
datum_string(char *dst, size_t dstlen, const DBT *d)
{
	const char *p = d->data;
	size_t n = d->size;

	if (n > 0 && p[n - 1] == '\0')
		n--;
	while (n > 0 && isspace((unsigned char)*p))
		p++, n--;
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		n--;
	if (n >= dstlen || memchr(p, '\0', n) != NULL)
		return false;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return true;
}

/* A printable prefix of a datum that is not a string, for messages. */
static void
datum_shown(char *dst, size_t dstlen, const DBT *d)
{
	size_t n = d->size < dstlen - 1 ? d->size : dstlen - 1;

	for (size_t i = 0; i < n; i++) {
		char c = ((const char *)d->data)[i];
		dst[i] = isprint((unsigned char)c) ? c : '?';
	}
	dst[n] = '\0';
}

static void
quiet(DB *db)
{
	/* Berkeley DB would print diagnostics of its own on stderr; every
	 * failure is reported by our callers, with the file name. */
	db->set_errcall(db, NULL);
	db->set_errfile(db, NULL);
}

/*
 * Berkeley DB reads a hash map cut short at a page boundary as a smaller,
 * valid map: a truncated copy would silently drop exemptions.  The header
 * page records how many pages the map has; the file must hold them all.
 */
static bool
whole_file(DB *db, DBTYPE t, const char *path, char *err, size_t errlen)
{
	unsigned long long pages, pagesize;
	struct stat st;
	void *sp = NULL;
	int fd;

	if (db->fd(db, &fd) != 0 || fstat(fd, &st) != 0 ||
	    db->stat(db, NULL, &sp, DB_FAST_STAT) != 0 || sp == NULL) {
		free(sp);
		return true;	/* cannot tell; the reads below will say */
	}
	if (t == DB_HASH) {
		pages = ((DB_HASH_STAT *)sp)->hash_pagecnt;
		pagesize = ((DB_HASH_STAT *)sp)->hash_pagesize;
	} else {
		pages = ((DB_BTREE_STAT *)sp)->bt_pagecnt;
		pagesize = ((DB_BTREE_STAT *)sp)->bt_pagesize;
	}
	free(sp);
	if ((unsigned long long)st.st_size < pages * pagesize) {
		snprintf(err, errlen, "%s: truncated map: %lld bytes, its header "
		    "says %llu pages of %llu", path, (long long)st.st_size, pages,
		    pagesize);
		return false;
	}
	return true;
}

/* Order by key, then by value, so that which of two spellings of one key
 * survives does not depend on the map's internal order. */
static int
cmp_key_value(const void *a, const void *b)
{
	const struct map_entry *x = a, *y = b;
	int c = mapentry_cmp(x, y);

	if (c != 0)
		return c;
	if (x->value.kind != y->value.kind)
		return x->value.kind < y->value.kind ? -1 : 1;
	if (x->value.limit != y->value.limit)
		return x->value.limit < y->value.limit ? -1 : 1;
	return (x->value.window_s > y->value.window_s) - (x->value.window_s < y->value.window_s);
}

/*
 * makemap keys are text, so one prefix can be stored twice ("192.0.2.44"
 * and "192.0.2.44/32").  Keep one (OK before limits, then the smaller
 * limit) and report the others as skipped.
 */
static void
drop_duplicates(struct map_entries *m, const char *path, mapdb_warn_fn *warn)
{
	size_t w = 0;

	if (m->n < 2)
		return;
	qsort(m->e, m->n, sizeof *m->e, cmp_key_value);
	for (size_t i = 0; i < m->n; i++) {
		if (w > 0 && mapentry_cmp(&m->e[w - 1], &m->e[i]) == 0) {
			char key[MAPENTRY_KEY_STRLEN], kept[MAPENTRY_VALUE_STRLEN],
			    dropped[MAPENTRY_VALUE_STRLEN], why[160];

			mapentry_format_key(key, sizeof key, &m->e[i]);
			mapentry_format_value(kept, sizeof kept, &m->e[w - 1].value);
			mapentry_format_value(dropped, sizeof dropped, &m->e[i].value);
			snprintf(why, sizeof why, "the same key is in the map twice, "
			    "spelled differently; keeping %s, ignoring %s", kept, dropped);
			warn(path, key, why);
			mapentry_free(&m->e[i]);
			continue;
		}
		m->e[w++] = m->e[i];
	}
	m->n = w;
}

bool
mapdb_read(const char *path, struct map_entries *out, enum mapdb_type *type,
    mapdb_warn_fn *warn, char *err, size_t errlen)
{
	char notreg[256], byfd[64];
	const char *name = path;
	DB *db = NULL;
	DBC *cur = NULL;
	DBTYPE t;
	DBT k, v;
	int ret, fd;

	/*
	 * Berkeley DB opens by name and would block in open() on a FIFO.
	 * Open the file ourselves (it must be a regular one), then have
	 * Berkeley DB open that same file through /proc, so nothing swapped
	 * in under the name meanwhile is read.  Without /proc, the name.
	 */
	if ((fd = safefile_open(path, notreg, sizeof notreg)) < 0) {
		snprintf(err, errlen, "%s: cannot open map: %s", path, notreg);
		return false;
	}
	snprintf(byfd, sizeof byfd, "/proc/self/fd/%d", fd);
	if (access(byfd, R_OK) == 0)
		name = byfd;
	if ((ret = db_create(&db, NULL, 0)) != 0) {
		snprintf(err, errlen, "%s: %s", path, db_strerror(ret));
		close(fd);
		return false;
	}
	quiet(db);
	ret = db->open(db, NULL, name, NULL, DB_UNKNOWN, DB_RDONLY, 0);
	close(fd);	/* Berkeley DB holds a descriptor of its own */
	if (ret != 0) {
		snprintf(err, errlen, "%s: cannot open map: %s", path,
		    ret == EINVAL ? "not a Berkeley DB hash or btree file" :
		    db_strerror(ret));
		goto fail;
	}
	if ((ret = db->get_type(db, &t)) != 0) {
		snprintf(err, errlen, "%s: %s", path, db_strerror(ret));
		goto fail;
	}
	if (type)
		*type = t == DB_BTREE ? MAPDB_BTREE : MAPDB_HASH;
	if (!whole_file(db, t, path, err, errlen))
		goto fail;
	if ((ret = db->cursor(db, NULL, &cur, 0)) != 0) {
		snprintf(err, errlen, "%s: %s", path, db_strerror(ret));
		goto fail;
	}
	memset(&k, 0, sizeof k);
	memset(&v, 0, sizeof v);
	while ((ret = cur->get(cur, &k, &v, DB_NEXT)) == 0) {
		char key[MAPENTRY_KEY_STRLEN + 8], val[256], why[300];
		struct map_entry me;

		if (!datum_string(key, sizeof key, &k)) {
			datum_shown(key, sizeof key, &k);
			warn(path, key, "not an address, prefix or name");
			continue;
		}
		if (!mapentry_parse_key(key, &me, why, sizeof why)) {
			warn(path, key, why);
			continue;
		}
		if (!datum_string(val, sizeof val, &v)) {
			warn(path, key, "value too long or not text");
			mapentry_free(&me);
			continue;
		}
		if (!mapentry_parse_value(val, &me.value, why, sizeof why)) {
			warn(path, key, why);
			mapentry_free(&me);
			continue;
		}
		if (!mapdb_push(out, &me)) {
			mapentry_free(&me);
			snprintf(err, errlen, "%s: out of memory", path);
			goto fail;
		}
	}
	if (ret != DB_NOTFOUND) {
		snprintf(err, errlen, "%s: reading map: %s", path, db_strerror(ret));
		goto fail;
	}
	cur->close(cur);
	db->close(db, 0);
	drop_duplicates(out, path, warn);
	return true;
fail:
	if (cur)
		cur->close(cur);
	if (db)
		db->close(db, 0);
	return false;
}

/*
 * Berkeley DB loses the reason a write failed: a full disk comes back from
 * DB->put as ENOMEM ("Cannot allocate memory"), because the cache could
 * not write a page out to make room.  Its I/O goes through functions we
 * may replace; these do the same I/O and remember the errno of the last
 * failure, so the error we report is the real one.  Only ratelimit-map
 * writes maps, from one thread; the variable is per thread regardless.
 */
static _Thread_local int io_errno;

static ssize_t
record_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	ssize_t r = pwrite(fd, buf, n, off);

	if (r < 0)
		io_errno = errno;
	return r;
}

static ssize_t
record_write(int fd, const void *buf, size_t n)
{
	ssize_t r = write(fd, buf, n);

	if (r < 0)
		io_errno = errno;
	return r;
}

static int
record_fsync(int fd)
{
	int r = fsync(fd);

	if (r < 0)
		io_errno = errno;
	return r;
}

/* The reason for a Berkeley DB failure: the system's, when a write or
 * sync failed underneath it. */
static const char *
db_reason(int ret)
{
	return io_errno != 0 ? strerror(io_errno) : db_strerror(ret);
}

static bool
put_all(DB *db, const struct map_entries *m, char *err, size_t errlen,
    const char *path)
{
	for (size_t i = 0; i < m->n; i++) {
		char key[MAPENTRY_KEY_STRLEN], val[MAPENTRY_VALUE_STRLEN];
		DBT k, v;
		int ret;

		mapentry_format_key(key, sizeof key, &m->e[i]);
		mapentry_format_value(val, sizeof val, &m->e[i].value);
		memset(&k, 0, sizeof k);
		memset(&v, 0, sizeof v);
		k.data = key;
		k.size = (u_int32_t)strlen(key);	/* no NUL, as makemap */
		v.data = val;
		v.size = (u_int32_t)strlen(val);
		if ((ret = db->put(db, NULL, &k, &v, 0)) != 0) {
			snprintf(err, errlen, "%s: writing %s: %s", path, key,
			    db_reason(ret));
			return false;
		}
	}
	return true;
}

/* fsync the directory that holds path, so the rename itself is durable. */
static bool
sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, ok;

	if (copy == NULL)
		return false;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
	free(copy);
	if (fd < 0)
		return false;
	ok = fsync(fd) == 0;
	close(fd);
	return ok;
}

char *
mapdb_resolve(const char *path, char *err, size_t errlen)
{
	char *real, target[4096];
	struct stat st;
	ssize_t n;
	int e;

	if (lstat(path, &st) != 0 || !S_ISLNK(st.st_mode)) {
		if ((real = strdup(path)) == NULL)
			snprintf(err, errlen, "out of memory");
		return real;
	}
	/* The link's target may lie in someone else's tree. */
	if ((real = safefile_resolve_trusted(path, err, errlen)) == NULL)
		return NULL;
	if (access(real, F_OK) == 0)
		return real;
	e = errno;
	free(real);
	n = readlink(path, target, sizeof target - 1);
	target[n > 0 ? n : 0] = '\0';
	snprintf(err, errlen, "%s: a symbolic link to %s, which cannot be reached: %s",
	    path, n > 0 ? target : "?", strerror(e));
	return NULL;
}

/* A symbolic link or a non-regular file at path is not ours to replace. */
static bool
replaceable(const char *path, struct stat *old, bool *have_old, char *err,
    size_t errlen)
{
	*have_old = false;
	if (lstat(path, old) != 0) {
		if (errno == ENOENT)
			return true;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	if (S_ISLNK(old->st_mode)) {
		snprintf(err, errlen, "%s: a symbolic link; refusing to replace it "
		    "(write to the file it leads to)", path);
		return false;
	}
	if (!S_ISREG(old->st_mode)) {
		snprintf(err, errlen, "%s: not a regular file (%s); refusing to "
		    "replace it", path, S_ISFIFO(old->st_mode) ? "a FIFO" :
		    S_ISDIR(old->st_mode) ? "a directory" : "a device or socket");
		return false;
	}
	*have_old = true;
	return true;
}

bool
mapdb_write(const char *path, enum mapdb_type type, const struct map_entries *m,
    char *err, size_t errlen)
{
	char tmp[4096];
	struct stat old;
	bool have_old;
	DB *db = NULL;
	int fd = -1, ret;
	mode_t um;

	if (!replaceable(path, &old, &have_old, err, errlen))
		return false;
	db_env_set_func_pwrite(record_pwrite);
	db_env_set_func_write(record_write);
	db_env_set_func_fsync(record_fsync);
	io_errno = 0;
	/* The temporary file sits beside the map so rename() is atomic. */
	if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp) {
		snprintf(err, errlen, "%s: path too long", path);
		return false;
	}
	if ((fd = mkstemp(tmp)) < 0) {
		snprintf(err, errlen, "%s: cannot create a temporary file: %s", tmp,
		    strerror(errno));
		return false;
	}
	um = umask(0);
	umask(um);
	if (have_old) {
		if (fchmod(fd, old.st_mode & 07777) != 0 ||
		    (fchown(fd, old.st_uid, old.st_gid) != 0 && geteuid() == 0)) {
			snprintf(err, errlen, "%s: cannot give the new map the old one's "
			    "mode and owner: %s", tmp, strerror(errno));
			goto fail;
		}
	} else if (fchmod(fd, 0644 & ~um) != 0) {
		snprintf(err, errlen, "%s: chmod: %s", tmp, strerror(errno));
		goto fail;
	}
	/* Berkeley DB initialises an existing empty file given DB_CREATE. */
	if ((ret = db_create(&db, NULL, 0)) != 0 ||
	    (quiet(db), ret = db->open(db, NULL, tmp, NULL,
	    type == MAPDB_BTREE ? DB_BTREE : DB_HASH, DB_CREATE, 0)) != 0) {
		snprintf(err, errlen, "%s: %s", tmp, db_reason(ret));
		goto fail;
	}
	if (!put_all(db, m, err, errlen, tmp))
		goto fail;
	ret = db->close(db, 0);
	db = NULL;
	if (ret != 0) {
		snprintf(err, errlen, "%s: closing: %s", tmp, db_reason(ret));
		goto fail;
	}
	if (fsync(fd) != 0) {
		snprintf(err, errlen, "%s: fsync: %s", tmp, strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: cannot replace: %s", path, strerror(errno));
		goto fail;
	}
	if (!sync_dir(path)) {
		snprintf(err, errlen, "%s: written, but syncing its directory failed: %s",
		    path, strerror(errno));
		return false;
	}
	return true;
fail:
	if (db)
		db->close(db, 0);
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return false;
}

int
mapdb_lock(const char *path, char *err, size_t errlen)
{
	char *copy = strdup(path);
	const char *dir;
	int fd;

	if (copy == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	dir = dirname(copy);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		free(copy);
		return -1;
	}
	if (flock(fd, LOCK_EX) != 0) {
		snprintf(err, errlen, "%s: cannot lock: %s", dir, strerror(errno));
		close(fd);
		fd = -1;
	}
	free(copy);
	return fd;
}

void
mapdb_unlock(int fd)
{
	if (fd >= 0)
		close(fd);	/* releases the flock */
}
