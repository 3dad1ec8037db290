/*
 * metrics_listen.c: "IPv4:PORT" or "[IPv6]:PORT" to a socket address.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "metrics_listen.h"

/* "1".."65535", digits only: no sign, no spaces, no leading zero (a
 * leading zero reads as octal to some tools; refuse the doubt). */
static bool
parse_port(const char *s, in_port_t *port)
{
	unsigned long v = 0;

	if (*s == '\0' || *s == '0')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return false;
	}
	*port = htons((in_port_t)v);
	return true;
}

bool
metrics_listen_parse(const char *spec, struct metrics_listen *out,
    char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *port;
	size_t hlen;
	in_port_t p;

	memset(out, 0, sizeof *out);
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (close == NULL || close[1] != ':') {
			snprintf(err, errlen, "metrics_listen = \"%.80s\": expected "
			    "[IPV6-ADDRESS]:PORT, e.g. \"[::1]:9456\"", spec);
			return false;
		}
		hlen = (size_t)(close - spec - 1);
		port = close + 2;
		if (hlen >= sizeof host) {
			snprintf(err, errlen, "metrics_listen = \"%.80s\": not an IPv6 address", spec);
			return false;
		}
		memcpy(host, spec + 1, hlen);
		host[hlen] = '\0';
		if (strchr(host, '%') != NULL) {
			snprintf(err, errlen, "metrics_listen = \"%.80s\": a zone index "
			    "(%%IFACE) is not supported; give a global or loopback address", spec);
			return false;
		}
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->sa;
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) {
			snprintf(err, errlen, "metrics_listen = \"%.80s\": \"%s\" is not "
			    "an IPv6 address", spec, host);
			return false;
		}
		if (!parse_port(port, &p))
			goto badport;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = p;
		out->salen = sizeof *s6;
		return true;
	}
	colon = strrchr(spec, ':');
	if (colon == NULL || strchr(spec, ':') != colon) {
		snprintf(err, errlen, "metrics_listen = \"%.80s\": expected "
		    "IPV4-ADDRESS:PORT or [IPV6-ADDRESS]:PORT, e.g. \"127.0.0.1:9456\"%s",
		    spec, colon != NULL ? " (an IPv6 address goes in brackets)" : "");
		return false;
	}
	hlen = (size_t)(colon - spec);
	port = colon + 1;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&out->sa;
	if (hlen >= sizeof host) {
		snprintf(err, errlen, "metrics_listen = \"%.80s\": not an IP address", spec);
		return false;
	}
	memcpy(host, spec, hlen);
	host[hlen] = '\0';
	/* inet_pton takes the dotted quad only: no "127.1", no names. */
	if (inet_pton(AF_INET, host, &s4->sin_addr) != 1) {
		snprintf(err, errlen, "metrics_listen = \"%.80s\": \"%s\" is not an "
		    "IPv4 address (a host name is not accepted: give the address)",
		    spec, host);
		return false;
	}
	if (!parse_port(port, &p))
		goto badport;
	s4->sin_family = AF_INET;
	s4->sin_port = p;
	out->salen = sizeof *s4;
	return true;
badport:
	snprintf(err, errlen, "metrics_listen = \"%.80s\": the port must be a "
	    "number 1..65535", spec);
	memset(out, 0, sizeof *out);
	return false;
}

bool
metrics_listen_is_loopback(const struct metrics_listen *l)
{
	if (l->sa.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&l->sa;
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (l->sa.ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)&l->sa)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) ||
		    (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

void
metrics_listen_format(const struct metrics_listen *l, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (l->sa.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&l->sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&l->sa;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	}
}
