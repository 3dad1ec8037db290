/*
 * metrics_listen.h: the address the metrics endpoint listens on, from the
 * option metrics_listen ("127.0.0.1:9456", "[::1]:9456").
 *
 * An IP literal and a port, nothing else: no host name (resolving one at
 * start would make the bound address depend on DNS), no bare port (that
 * would mean every interface, which must be asked for by name: 0.0.0.0 or
 * [::]).  Pure: no socket is made here, so config.c validates with it.
 */
#ifndef MRL_METRICS_LISTEN_H
#define MRL_METRICS_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct metrics_listen {
	struct sockaddr_storage sa;	/* AF_INET or AF_INET6, port set */
	socklen_t salen;
};

/*
 * Parse spec.  Returns true and fills out; false with the reason in err
 * (a sentence naming the value, without FILE:LINE: the caller adds it).
 */
bool metrics_listen_parse(const char *spec, struct metrics_listen *out,
    char *err, size_t errlen);

/* Whether l is a loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104):
 * anything else is reached from other hosts, which the shipped unit's
 * IPAddressAllow=localhost drops. */
bool metrics_listen_is_loopback(const struct metrics_listen *l);

/* out as "127.0.0.1:9456" or "[::1]:9456", for log lines. */
#define METRICS_LISTEN_STRLEN 64
void metrics_listen_format(const struct metrics_listen *l, char *buf, size_t len);

#endif
