/* sockspec.c: the milter socket spec, checked before libmilter sees it. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "sockspec.h"

static bool
all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* "PORT[@HOST]" of an inet or inet6 spec. */
static bool
parse_inet(const char *spec, const char *rest, struct sockspec *out, char *err,
    size_t errlen)
{
	const char *at = strchr(rest, '@');
	size_t plen = at ? (size_t)(at - rest) : strlen(rest);
	char port[64];
	const char *host;
	size_t hlen;

	if (plen == 0 || plen >= sizeof port) {
		snprintf(err, errlen, "socket \"%.80s\": expected PORT@HOST after \"%.*s\"",
		    spec, (int)(rest - spec), spec);
		return false;
	}
	memcpy(port, rest, plen);
	port[plen] = '\0';
	if (all_digits(port, plen)) {
		long p = strtol(port, NULL, 10);
		if (plen > 5 || p < 1 || p > 65535) {
			snprintf(err, errlen, "socket \"%.80s\": port %s is out of range (1-65535)",
			    spec, port);
			return false;
		}
	} else if (getservbyname(port, "tcp") == NULL) {
		snprintf(err, errlen, "socket \"%.80s\": port \"%s\" is neither a number "
		    "nor a tcp service name", spec, port);
		return false;
	}
	if (at == NULL)
		return true;
	host = at + 1;
	hlen = strlen(host);
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']')
		host++, hlen -= 2;
	if (hlen == 0 || hlen >= sizeof out->host) {
		snprintf(err, errlen, "socket \"%.80s\": %s host after '@'", spec,
		    hlen ? "too long a" : "no");
		return false;
	}
	memcpy(out->host, host, hlen);
	out->host[hlen] = '\0';
	return true;
}

/*
 * libmilter 8.17 (mi_milteropen in libmilter/listener.c) splits the spec
 * at its first ':' and compares what comes before it with strcasecmp:
 * "unix", "local", "inet", "inet6", and in Debian's build "fd" (seen:
 * "FD:3" opens).  An empty prefix (":/path"), or no ':' at all ("/path"),
 * is a unix socket named by the rest.  We take the same forms; only the
 * unix path is held to more: absolute (the daemon is not to depend on its
 * working directory) and ending in a file name ("unix:/" binds nothing).
 */
bool
sockspec_parse(const char *spec, struct sockspec *out, char *err, size_t errlen)
{
	static const struct {
		const char *prefix;
		enum sockspec_kind kind;
	} kinds[] = {
		{ "", SOCKSPEC_UNIX }, { "unix", SOCKSPEC_UNIX }, { "local", SOCKSPEC_UNIX },
		{ "inet", SOCKSPEC_INET }, { "inet6", SOCKSPEC_INET6 }, { "fd", SOCKSPEC_FD },
	};
	const char *colon = strchr(spec, ':');
	const char *rest = colon ? colon + 1 : spec;
	size_t plen = colon ? (size_t)(colon - spec) : 0, i, n;
	const char *base;

	memset(out, 0, sizeof *out);
	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strlen(kinds[i].prefix) == plen &&
		    strncasecmp(spec, kinds[i].prefix, plen) == 0)
			break;
	if (i == sizeof kinds / sizeof kinds[0] || *spec == '\0') {
		snprintf(err, errlen, "socket \"%.80s\": expected unix:/PATH, local:/PATH, "
		    "/PATH, inet:PORT@HOST, inet6:PORT@HOST or fd:N", spec);
		return false;
	}
	out->kind = kinds[i].kind;
	switch (out->kind) {
	case SOCKSPEC_UNIX:
		if (*rest != '/') {
			snprintf(err, errlen, "socket \"%.80s\": expected an absolute "
			    "path%s%.*s%s", spec, colon ? " after \"" : "", (int)(plen + 1),
			    spec, colon ? "\"" : "");
			return false;
		}
		base = strrchr(rest, '/') + 1;
		if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
			snprintf(err, errlen, "socket \"%.80s\": the path names no socket "
			    "file (it ends in \"/%s\")", spec, base);
			return false;
		}
		out->path = rest;
		return true;
	case SOCKSPEC_FD:
		n = strlen(rest);
		if (!all_digits(rest, n) || n > 6) {
			snprintf(err, errlen, "socket \"%.80s\": expected a descriptor "
			    "number after \"%.*s\"", spec, (int)(plen + 1), spec);
			return false;
		}
		return true;
	case SOCKSPEC_INET:
	case SOCKSPEC_INET6:
		return parse_inet(spec, rest, out, err, errlen);
	}
	return false;
}

const char *
sockspec_unix_path(const char *spec)
{
	struct sockspec s;
	char err[8];

	if (!sockspec_parse(spec, &s, err, sizeof err) || s.kind != SOCKSPEC_UNIX)
		return NULL;
	return s.path;
}

/* 127.0.0.0/8, ::1, and IPv4-mapped 127.0.0.0/8: what IPAddressAllow=localhost lets in. */
static bool
is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

enum sockspec_reach
sockspec_reach(const char *spec, const struct sockspec *s, char *msg, size_t msglen)
{
	struct addrinfo hints, *res, *ai;
	char addr[INET6_ADDRSTRLEN];
	int rc;

	*msg = '\0';
	if (s->kind != SOCKSPEC_INET && s->kind != SOCKSPEC_INET6)
		return SOCKSPEC_LOCAL;
	if (s->host[0] == '\0') {
		snprintf(msg, msglen, "socket \"%.80s\" names no host: it listens on every "
		    "interface", spec);
		return SOCKSPEC_REMOTE;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = s->kind == SOCKSPEC_INET ? AF_INET : AF_INET6;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(s->host, NULL, &hints, &res)) != 0) {
		snprintf(msg, msglen, "socket \"%.80s\": host \"%s\" has no %s address: %s",
		    spec, s->host, s->kind == SOCKSPEC_INET ? "IPv4" : "IPv6", gai_strerror(rc));
		return SOCKSPEC_UNRESOLVED;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		const void *a = ai->ai_family == AF_INET ?
		    (const void *)&((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr :
		    (const void *)&((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr;
		if (is_loopback(ai->ai_addr))
			continue;
		if (inet_ntop(ai->ai_family, a, addr, sizeof addr) == NULL)
			snprintf(addr, sizeof addr, "?");
		snprintf(msg, msglen, "socket \"%.80s\" listens on %s, which is not a "
		    "loopback address", spec, addr);
		freeaddrinfo(res);
		return SOCKSPEC_REMOTE;
	}
	freeaddrinfo(res);
	return SOCKSPEC_LOCAL;
}
