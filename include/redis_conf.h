/*
 * redis_conf.h: the Redis settings of the configuration, parsed and read.
 *
 * `redis` names the server: "unix:/absolute/path", "tcp:IPv4:PORT" or
 * "tcp:[IPv6]:PORT".  IP literals only: a host name would be resolved by
 * getaddrinfo() inside hiredis's connect, that is inside a libmilter
 * callback, and a slow DNS would stall mail far past redis_timeout_ms.
 *
 * The password file holds one line: "PASSWORD" (AUTH PASSWORD, the
 * default user) or "USER PASSWORD" (AUTH USER PASSWORD, a Redis 6+ ACL
 * user), split at the first space or tab; a trailing newline (LF or
 * CRLF) is dropped.  It must be a regular file nobody but its owner and
 * group may read: it is read at start and at every reload, after the
 * daemon has given up root, so it must be readable by the run user's
 * group (0640 root:milter-ratelimit).  Pure: no connection, no lock.
 */
#ifndef MRL_REDIS_CONF_H
#define MRL_REDIS_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REDIS_PATH_MAX 108	/* sun_path */
#define REDIS_HOST_MAX 46	/* INET6_ADDRSTRLEN */
#define REDIS_PREFIX_MAX 13
#define REDIS_SECRET_MAX 512	/* user or password, bytes */
#define REDIS_DEFAULT_PREFIX "mrl:"
#define REDIS_TIMEOUT_DEFAULT_MS 5
#define REDIS_TIMEOUT_MAX_MS 5000

struct redis_addr {
	bool is_unix;
	char path[REDIS_PATH_MAX];	/* is_unix */
	char host[REDIS_HOST_MAX];	/* else: an IP literal, no brackets */
	int port;			/* 1..65535 */
};

/* Parse a `redis` value (not empty).  False with the reason in err. */
bool redis_conf_parse_addr(const char *v, struct redis_addr *out, char *err,
    size_t errlen);

/* A key prefix: 0..REDIS_PREFIX_MAX bytes of printable ASCII without
 * space.  False with the reason in err. */
bool redis_conf_check_prefix(const char *v, char *err, size_t errlen);

/*
 * Read the password file at path: a regular file, not readable by
 * others (nor writable), opened without following it into a FIFO or
 * device (safefile.h).  On success *user (NULL for the default user) and
 * *password are malloc'd; free them with redis_conf_free_secret().  False
 * with the reason in err.
 */
bool redis_conf_read_password(const char *path, char **user, char **password,
    char *err, size_t errlen);

/* Wipe and free a secret (NULL is fine). */
void redis_conf_free_secret(char *s);

#endif
