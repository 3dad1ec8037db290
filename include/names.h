/*
 * names.h: host and domain names as exemption map keys, and the client's
 * verified name they are matched against.
 *
 * A map key such as "partner.example" covers that name and every name
 * under it ("mx1.partner.example"), as in sendmail's access db; of several
 * entries over one name the longest wins.  Keys are kept in canonical
 * form: lower case, no trailing dot, letters, digits and hyphens in labels
 * of 1..63 characters, at most 253 in all, at least two labels, the last
 * not all digits (so that no name can be read as an address).
 *
 * The client's name comes from the MTA: the connect hostname, which is a
 * bracketed address literal when the MTA has no name for the client, and
 * the {client_resolve} macro.  A name counts only when {client_resolve} is
 * "OK", so the hostname alone proves nothing (see names_verified).  Seen
 * (tests/mta/names.sh): sendmail 8.17.1.9 and Postfix 3.7.11 both pass a
 * FORGED PTR name as an address literal; only sendmail's own log shows it.
 *
 * Lookup cost is O(labels of the client's name), whatever the number of
 * entries: one hash probe per suffix at a label boundary.
 */
#ifndef MRL_NAMES_H
#define MRL_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NAMES_MAX 253		/* characters, without a trailing dot */
#define NAMES_STRLEN (NAMES_MAX + 3)	/* a name, a trailing dot, a NUL */

/*
 * Window keys carry a prefix length of 1..128; a client key is never
 * shorter than /16 (IPv6) or /8 (IPv4, 104 in 128-bit terms).  Counters
 * kept under a name entry's own limit use this length, so they can never
 * be a client key's counter (see names_window_key).
 */
#define NAMES_KEY_PLEN 1

/* Is s to be read as a name (true) or as an address or prefix (false)?
 * Addresses hold ':' or '/', or only digits and dots. */
bool names_is_name_key(const char *s);

/*
 * Parse a map key as a name into out (canonical form, NAMES_STRLEN
 * bytes).  False with a reason in err: non-ASCII bytes (IDN must be
 * written in its xn-- form), a character other than a letter, digit,
 * hyphen or dot, an empty label, a label over 63 or a name over 253
 * characters, a label that starts or ends with a hyphen, a leading dot, a
 * single label, a last label of digits only.
 */
bool names_parse_key(const char *s, char out[NAMES_STRLEN], char *err,
    size_t errlen);

/* Why a client has, or has not, a name that entries may match. */
enum names_status {
	NAMES_NONE,		/* no name: NULL, empty or a [literal] */
	NAMES_VERIFIED,		/* a name, and {client_resolve} is OK */
	NAMES_UNVERIFIED,	/* a name, but {client_resolve} is not OK or absent */
	NAMES_INVALID,		/* hostname is not a valid host name */
};

/*
 * The client's verified name, from the connect hostname and the
 * {client_resolve} macro (either may be NULL), canonical in out.  Only
 * NAMES_VERIFIED fills out.  {client_ptr}, the unverified PTR name, is
 * never an input.
 */
enum names_status names_verified(const char *hostname, const char *resolve,
    char out[NAMES_STRLEN]);

/* The immutable index of name entries; values are opaque to it. */
struct names_index;

/*
 * Build an index over n names (canonical, as names_parse_key wrote them)
 * carrying n values of vsize bytes each (copied).  Of a name given twice
 * the first is kept.  NULL when memory runs out.
 */
struct names_index *names_index_build(const char *const *names,
    const void *values, size_t vsize, size_t n);
void names_index_free(struct names_index *x);
size_t names_index_count(const struct names_index *x);
size_t names_index_memory(const struct names_index *x);

/*
 * The longest entry that covers name (canonical): name itself or the
 * nearest parent domain.  On a match returns the entry's name (it lives as
 * long as the index) and, when value is not NULL, copies its value.
 * NULL when none covers it.
 */
const char *names_index_lookup(const struct names_index *x, const char *name,
    void *value);

/*
 * Turn a client key (16 bytes and a 128-bit prefix length) into the
 * counter key for that client under the name entry `entry`: a keyed hash
 * of both, with prefix length NAMES_KEY_PLEN.  Each (entry, client key)
 * pair has its own counter, read only under that entry's rule.
 */
void names_window_key(uint8_t b[16], uint8_t *plen, const char *entry);

#endif
