/*
 * access_import.h: sendmail's rate-control entries (the access map's
 * source text, /etc/mail/access) turned into exemption map lines.
 *
 * sendmail's FEATURE(ratecontrol) reads "ClientRate:ADDR N" from the access
 * map: at most N connections per ConnectionRateWindowSize from ADDR, where
 * ADDR is an IPv4 address cut at an octet ("10.1" = 10.1.0.0/16) or
 * "IPv6:" and colon groups ("IPv6:2001:db8" = 2001:db8::/32); N = 0 means
 * unlimited, and an empty ADDR is the default for everybody else.  The
 * import maps these to "PREFIX N/WINDOW" and "PREFIX OK"; the default
 * becomes the config's limit/window (the map has no default entry).
 * ClientConn: (concurrent connections) and Connect: are reported, never
 * turned into map entries.
 *
 * Pure text in, text out: no Berkeley DB, no globals (fuzzed).
 */
#ifndef MRL_ACCESS_IMPORT_H
#define MRL_ACCESS_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mapdb.h"
#include "mapentry.h"

enum access_kind {
	ACCESS_RATE = 1,	/* ClientRate:ADDR N */
	ACCESS_RATE_DEFAULT,	/* ClientRate: N (empty ADDR) */
	ACCESS_CONN,		/* ClientConn:... N */
	ACCESS_CONNECT,		/* Connect:ADDR VALUE */
	ACCESS_HOSTNAME,	/* ClientRate:NAME N, a name, not an address */
};

#define ACCESS_KEY_MAX 96
#define ACCESS_VALUE_MAX 64

/* One rate-control line of an access file. */
struct access_entry {
	enum access_kind kind;
	bool has_addr;			/* e holds the key's prefix */
	struct map_entry e;		/* prefix, plen (value unset) */
	uint32_t n;			/* ClientRate/ClientConn number */
	char tag[16];			/* "ClientRate", as written */
	char key[ACCESS_KEY_MAX];	/* the part after the tag, as written */
	char value[ACCESS_VALUE_MAX];	/* the value, as written */
};

/*
 * Parse one line of access source text (as makemap reads it: KEY, white
 * space, VALUE; '#' first on a line makes a comment; tags are
 * case-insensitive).  Returns 1 for a rate-control entry (ClientRate:,
 * ClientConn:, Connect:), 0 for a blank line, a comment or any other
 * entry (GreetPause:, Spam:, From:...), -1 with a reason in err.
 */
int access_parse_line(const char *line, struct access_entry *out, char *err,
    size_t errlen);

/*
 * sendmail's address key, the part after "ClientRate:" or "Connect:": an
 * IPv4 address of 1 to 4 octets ("10", "10.1", "192.0.2.7") or "IPv6:"
 * and 1 to 8 colon groups or a full address with "::".  The prefix covers
 * what sendmail's lookup, which strips octets and groups from the end of
 * the client's address, would match.  Returns 1 for an address, 0 for
 * something that is not meant as one (a host name), -1 for a malformed
 * address with a reason in err.
 */
int access_parse_addr(const char *s, struct map_entry *out, char *err,
    size_t errlen);

/* sendmail's time value ("600", "10m", "1h30m"; s m h d w, plain = s)
 * -> seconds.  False when malformed or over 1d (the map's longest). */
bool access_parse_time(const char *s, uint32_t *seconds);

/*
 * ConnectionRateWindowSize from a sendmail.cf ("O
 * ConnectionRateWindowSize=10m").  *found is false (and *seconds left
 * alone) when the file does not set it: sendmail then uses 60 s.  False
 * with a reason in err when the file cannot be read or the value is bad
 * (err names FILE:LINE).
 */
bool access_window_from_cf(const char *path, uint32_t *seconds, bool *found,
    char *err, size_t errlen);

/*
 * Read the access text from in (named name in messages), write map source
 * lines and explanatory comments on out, notes on notes ("NAME:LINE: note:
 * ..."), errors on errs ("NAME:LINE: message").  window_s is the
 * ClientRate window; window_from says where it came from (for the header
 * comment).  have, when not NULL, holds the entries already in the map
 * source have_name: a key found there is printed as a comment, not
 * repeated (a repeated key would fail the build).  Returns the number of
 * errors; on any error nothing is written on out.
 */
int access_import(FILE *in, const char *name, uint32_t window_s,
    const char *window_from, const struct map_entries *have,
    const char *have_name, FILE *out, FILE *notes, FILE *errs);

#endif
