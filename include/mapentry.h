/*
 * mapentry.h: one entry of the exemption map, as text and as data.
 *
 * Shared by the daemon's map loader and ratelimit-map, so that the two can
 * never disagree on what a key or a value means.
 *
 *   key:    an IPv4 or IPv6 address, or a CIDR prefix (host bits clear),
 *           or a host or domain name ("partner.example" covers the name
 *           and every name under it; names.h)
 *   value:  OK          exempt: never counted, never refused
 *           N/DURATION  this entry's own limit: N connections (1..9000)
 *                       per DURATION (1s..1d): "100/60", "500/1h", "20/10m"
 */
#ifndef MRL_MAPENTRY_H
#define MRL_MAPENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "exempt.h"
#include "names.h"

#define MAPENTRY_VALUE_STRLEN 32
/* Long enough for any key, address or name, and a NUL. */
#define MAPENTRY_KEY_STRLEN NAMES_STRLEN

/*
 * An address entry has name NULL; a name entry has its canonical name in
 * name (malloc'ed, owned by the entry: mapentry_free) and plen -1.
 * Entries are copied by value: a copy shares the name, and exactly one of
 * the copies is freed.
 */
struct map_entry {
	struct addr prefix;
	int plen;			/* family terms; -1 for a name */
	char *name;			/* NULL for an address or prefix */
	struct exempt_value value;
};

/* Parse a key.  False with a reason naming the problem (for host bits:
 * which network was meant).  A name key allocates out->name. */
bool mapentry_parse_key(const char *s, struct map_entry *out, char *err,
    size_t errlen);

/* Free what a parsed entry holds (its name); e stays a valid, empty key. */
void mapentry_free(struct map_entry *e);

/* Do a and b have the same key (the values aside)? */
bool mapentry_same_key(const struct map_entry *a, const struct map_entry *b);

/* Parse a value (surrounding white space is not allowed here).  False
 * with a reason, e.g. "limit 0 is out of range (1..9000)". */
bool mapentry_parse_value(const char *s, struct exempt_value *out, char *err,
    size_t errlen);

/* The canonical key: "192.0.2.7", "192.0.2.0/24", "2001:db8::/32" (no
 * "/32" or "/128" for a single address; lower case). */
void mapentry_format_key(char *dst, size_t dstlen, const struct map_entry *e);

/* Order for dumps: IPv4 before IPv6, then by address, then wider first;
 * names after every address, in byte order. */
int mapentry_cmp(const struct map_entry *a, const struct map_entry *b);

/* "60", "90s", "10m", "1h", "1d" -> seconds in 1..86400.  False when not. */
/* A map or access source line as key and value (leading blanks skipped,
 * the value's trailing blanks and CR dropped).  False for a blank line or
 * a comment. */
bool mapentry_split_line(const char *line, const char **k, size_t *kn,
    const char **v, size_t *vn);

/* The n characters at s as a number: digits only, no sign, no leading
 * zeros, at most max.  (Also sendmail's access keys and values.) */
bool mapentry_parse_number(const char *s, size_t n, uint32_t max, uint32_t *out);
bool mapentry_parse_duration(const char *s, uint32_t *seconds);

/* Canonical text of a value: "OK" or "N/DURATION" in the largest whole
 * unit ("500/1h", "20/10m", "7/45"). */
void mapentry_format_value(char *dst, size_t dstlen, const struct exempt_value *v);

/*
 * Parse one line of map source text into out.  Returns 1 for an entry
 * (a name entry's name is then the caller's: mapentry_free), 0 for a
 * blank or comment line, -1 for an error with a reason in err.
 * Syntax, as makemap reads it: KEY, white space, VALUE; '#' at the start
 * of a line (after white space) makes a comment.
 */
int mapentry_parse_line(const char *line, struct map_entry *out, char *err,
    size_t errlen);

#endif
