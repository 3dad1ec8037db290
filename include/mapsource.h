/*
 * mapsource.h: the map's source text, kept in step with the map by
 * ratelimit-map add and delete.
 *
 * The source of MAP.db is the file MAP (the name the tool and makemap are
 * given: "ratelimit-map /etc/mail/ratelimit-exempt < /etc/mail/ratelimit-exempt").
 * Editing it changes only the lines that carry the key: comments, blank
 * lines and every other line stay as they are.
 */
#ifndef MRL_MAPSOURCE_H
#define MRL_MAPSOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "mapentry.h"

/* The source file of the map at map_path ("X.db" -> "X").  False when
 * map_path does not end in ".db" or out is too small. */
bool mapsource_path(const char *map_path, char *out, size_t outlen);

/*
 * Rewrite the source text at path so that it says what the map will say
 * after the edit: add replaces the first line carrying e's key (in any
 * spelling) with "KEY<TAB>VALUE" and drops later ones, or appends that
 * line; delete drops every line carrying the key.  Written like the map:
 * a temporary file beside it with its mode and owner, fsync, rename().
 * Returns the number of lines that carried the key (0: none), or -1 with
 * a reason in err (the file is then unchanged).
 */
int mapsource_edit(const char *path, const struct map_entry *e, bool add,
    char *err, size_t errlen);

#endif
