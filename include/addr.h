/*
 * addr.h: client addresses and the keys the rate table counts them under.
 *
 * Every address is held as 16 bytes in IPv6 form; IPv4 is the IPv4-mapped
 * form ::ffff:a.b.c.d, so one code path serves both families and an
 * IPv4-mapped IPv6 peer is the same client as its plain IPv4 self.
 * Prefix lengths are always given in the family's own terms (0..32 for
 * IPv4, 0..128 for IPv6).
 */
#ifndef MRL_ADDR_H
#define MRL_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct addr {
	uint8_t b[16];		/* network order; IPv4 as ::ffff:a.b.c.d */
};

/* Long enough for "ffff:...:ffff/128" and a NUL. */
#define ADDR_STRLEN 64

bool addr_is_v4(const struct addr *a);

/*
 * From a socket address as libmilter hands it over.  Returns false for
 * NULL, AF_UNIX and every family but AF_INET and AF_INET6.
 */
bool addr_from_sockaddr(struct addr *out, const struct sockaddr *sa);

/* Parse a literal address (no prefix).  Returns false on anything else. */
bool addr_parse(struct addr *out, const char *s);

/*
 * Parse "ADDR" or "ADDR/LEN".  Without "/LEN" the prefix is the whole
 * address (32 or 128).  On failure returns false and, when err is not NULL,
 * writes a one-line reason (e.g. "host bits set after /24: 0.0.0.5").
 * Host bits set beyond the prefix are an error, not silently cleared.
 */
bool addr_parse_prefix(struct addr *out, int *plen, const char *s,
    char *err, size_t errlen);

/* Clear every bit after the first plen bits (family terms). */
void addr_mask(struct addr *a, int plen);

/* Format "a.b.c.d" or an RFC 5952 IPv6 string. */
void addr_format(char *dst, size_t dstlen, const struct addr *a);

/* Format "ADDR/LEN" in family terms. */
void addr_format_prefix(char *dst, size_t dstlen, const struct addr *a, int plen);

#endif
