/*
 * mapdb.h: the exemption map as a Berkeley DB file, read and written the
 * way makemap(8) does (keys lower case without a trailing NUL, values as
 * text), so that sendmail's makemap and ratelimit-map read each other's
 * maps.
 */
#ifndef MRL_MAPDB_H
#define MRL_MAPDB_H

#include <stdbool.h>
#include <stddef.h>

#include "mapentry.h"

enum mapdb_type { MAPDB_HASH, MAPDB_BTREE };

struct map_entries {
	struct map_entry *e;
	size_t n, cap;
};

/* Append e; m then owns e's name.  False: no memory (e still the caller's). */
bool mapdb_push(struct map_entries *m, const struct map_entry *e);
void mapdb_clear(struct map_entries *m);	/* frees the entries' names too */
/* Sort for dumping (mapentry_cmp). */
void mapdb_sort(struct map_entries *m);
/* Index of the entry with e's key, or -1. */
long mapdb_find(const struct map_entries *m, const struct map_entry *e);

/*
 * Read every entry of the map at path (hash or btree) into out.  An entry
 * whose key or value does not parse is passed to warn and skipped.  type,
 * when not NULL, receives the map's type.  False with a reason in err when
 * the file cannot be opened or read.
 */
typedef void mapdb_warn_fn(const char *path, const char *key, const char *reason);
bool mapdb_read(const char *path, struct map_entries *out, enum mapdb_type *type,
    mapdb_warn_fn *warn, char *err, size_t errlen);

/*
 * The file to write when asked to write path: path itself, or, when path
 * is a symbolic link, the file it leads to (resolved once, with
 * realpath), so that the link stays and its target gets the new map, as
 * an admin who links maps into a shared tree expects.  NULL with a reason
 * in err for a link that leads nowhere.  The result is malloc'ed.
 */
char *mapdb_resolve(const char *path, char *err, size_t errlen);

/*
 * Replace the map at path with the entries in m, atomically: a temporary
 * file in the same directory, the old map's mode and owner (0644 for a new
 * one, less the umask), fsync, rename(), fsync of the directory.  A reader
 * sees the old map or the new one, never a mix; on failure the old map is
 * left untouched.  The caller holds the directory lock (mapdb_lock).
 * path must have gone through mapdb_resolve: a symbolic link, or anything
 * but a regular file, at path is refused rather than replaced.
 */
bool mapdb_write(const char *path, enum mapdb_type type,
    const struct map_entries *m, char *err, size_t errlen);

/*
 * Serialise writers of maps in path's directory: an exclusive flock(2) on
 * the directory itself, so no lock file is left lying about.  Returns the
 * descriptor to pass to mapdb_unlock, or -1 with a reason in err.
 */
int mapdb_lock(const char *path, char *err, size_t errlen);
void mapdb_unlock(int fd);

#endif
