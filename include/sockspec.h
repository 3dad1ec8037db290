/*
 * sockspec.h: the milter socket spec (`socket` in the config), read as
 * libmilter reads it, so that -n and a reload catch what only the start
 * would have found.
 *
 *   unix:PATH, local:PATH    a unix socket; also :PATH and a bare PATH
 *   inet:PORT[@HOST]         IPv4; no HOST binds every interface
 *   inet6:PORT[@HOST]        IPv6
 *   fd:N                     a descriptor handed over (Debian's libmilter)
 *
 * The prefixes are read case-insensitively (UNIX:, Inet:), as libmilter
 * does.  PATH must be absolute and end in a file name.
 * PORT is a number (1-65535) or a tcp service name; HOST an address
 * (optionally in brackets) or a name.
 */
#ifndef MRL_SOCKSPEC_H
#define MRL_SOCKSPEC_H

#include <stdbool.h>
#include <stddef.h>

enum sockspec_kind { SOCKSPEC_UNIX, SOCKSPEC_INET, SOCKSPEC_INET6, SOCKSPEC_FD };

struct sockspec {
	enum sockspec_kind kind;
	char host[256];		/* inet, inet6: "" when none (every interface) */
	const char *path;	/* unix: the socket's path, inside the spec parsed */
};

/* Parse spec; on failure write why (naming the spec) to err. */
bool sockspec_parse(const char *spec, struct sockspec *out, char *err, size_t errlen);

/* The path of a unix socket spec (pointing into spec), NULL for any other
 * spec or a bad one: the one reading of "unix:" for sockfile and sockdir. */
const char *sockspec_unix_path(const char *spec);

enum sockspec_reach {
	SOCKSPEC_LOCAL,		/* unix, fd, or loopback addresses only */
	SOCKSPEC_REMOTE,	/* listens on an address other hosts reach; msg says which */
	SOCKSPEC_UNRESOLVED,	/* HOST resolves to nothing; msg says why */
};

/*
 * Who can reach an inet/inet6 socket: HOST resolved (names through the
 * resolver, as libmilter does at start).  REMOTE means a systemd unit
 * with IPAddressAllow=localhost drops the MTA's packets.
 */
enum sockspec_reach sockspec_reach(const char *spec, const struct sockspec *s,
    char *msg, size_t msglen);

#endif
