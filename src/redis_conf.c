/* redis_conf.c: Redis settings parsed and read (see redis_conf.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "redis_conf.h"
#include "safefile.h"

/* "PORT" to 1..65535, digits only. */
static bool
parse_port(const char *s, int *port)
{
	long v = 0;
	const char *p;

	for (p = s; *p >= '0' && *p <= '9' && v <= 65535; p++)
		v = v * 10 + (*p - '0');
	if (p == s || *p != '\0' || v < 1 || v > 65535)
		return false;
	*port = (int)v;
	return true;
}

bool
redis_conf_parse_addr(const char *v, struct redis_addr *out, char *err,
    size_t errlen)
{
	struct in6_addr a6;
	struct in_addr a4;
	const char *host, *colon;
	size_t hlen;

	memset(out, 0, sizeof *out);
	if (strncmp(v, "unix:", 5) == 0) {
		const char *path = v + 5;

		if (path[0] != '/') {
			snprintf(err, errlen, "redis = \"%.80s\": the socket path must be "
			    "absolute (unix:/run/redis/redis.sock)", v);
			return false;
		}
		if (strlen(path) >= sizeof out->path) {
			snprintf(err, errlen, "redis = \"%.80s\": the socket path is longer "
			    "than %zu bytes", v, sizeof out->path - 1);
			return false;
		}
		out->is_unix = true;
		strcpy(out->path, path);
		return true;
	}
	if (strncmp(v, "tcp:", 4) != 0) {
		snprintf(err, errlen, "redis = \"%.80s\": expected \"unix:/PATH\", "
		    "\"tcp:IPv4:PORT\" or \"tcp:[IPv6]:PORT\"", v);
		return false;
	}
	host = v + 4;
	if (host[0] == '[') {
		const char *close = strchr(host, ']');

		if (close == NULL || close[1] != ':')
			goto bad_tcp;
		host++;
		hlen = (size_t)(close - host);
		colon = close + 1;
	} else {
		if ((colon = strrchr(host, ':')) == NULL)
			goto bad_tcp;
		hlen = (size_t)(colon - host);
	}
	if (hlen == 0 || hlen >= sizeof out->host)
		goto bad_tcp;
	memcpy(out->host, host, hlen);
	out->host[hlen] = '\0';
	if (!parse_port(colon + 1, &out->port)) {
		snprintf(err, errlen, "redis = \"%.80s\": the port must be 1..65535", v);
		return false;
	}
	if (host[-1] == '[' ? inet_pton(AF_INET6, out->host, &a6) != 1 :
	    inet_pton(AF_INET, out->host, &a4) != 1) {
		snprintf(err, errlen, "redis = \"%.80s\": \"%s\" is not an IP%s address "
		    "(names are not resolved: a DNS lookup would stall the milter)",
		    v, out->host, host[-1] == '[' ? "v6" : "v4");
		return false;
	}
	return true;
bad_tcp:
	snprintf(err, errlen, "redis = \"%.80s\": expected \"tcp:IPv4:PORT\" or "
	    "\"tcp:[IPv6]:PORT\"", v);
	return false;
}

bool
redis_conf_check_prefix(const char *v, char *err, size_t errlen)
{
	size_t n = strlen(v);

	if (n > REDIS_PREFIX_MAX) {
		snprintf(err, errlen, "redis_key_prefix is %zu bytes long; at most %d",
		    n, REDIS_PREFIX_MAX);
		return false;
	}
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			snprintf(err, errlen, "redis_key_prefix contains a space, "
			    "control or non-ASCII byte 0x%02x", (unsigned char)*p);
			return false;
		}
	return true;
}

void
redis_conf_free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

bool
redis_conf_read_password(const char *path, char **user, char **password,
    char *err, size_t errlen)
{
	char buf[2 * REDIS_SECRET_MAX + 4], why[256], *sep, *end;
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd;

	*user = *password = NULL;
	if ((fd = safefile_open(path, why, sizeof why)) < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, why);
		return false;
	}
	if (fstat(fd, &st) != 0 || (st.st_mode & (S_IROTH | S_IWOTH))) {
		snprintf(err, errlen, "%s is readable or writable by everyone (mode "
		    "%04o); refusing it (chmod o-rw %s)", path,
		    (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return false;
	}
	while (len < sizeof buf - 1 &&
	    (n = read(fd, buf + len, sizeof buf - 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
			close(fd);
			explicit_bzero(buf, sizeof buf);
			return false;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	/* One line: the newline ends it; anything after it is refused. */
	if ((end = strchr(buf, '\n')) != NULL) {
		if (end[1] != '\0') {
			snprintf(err, errlen, "%s: more than one line (expected "
			    "\"PASSWORD\" or \"USER PASSWORD\")", path);
			goto fail;
		}
		if (end > buf && end[-1] == '\r')
			end--;
		*end = '\0';
	}
	len = strlen(buf);
	if (len == 0 || len != strcspn(buf, "\r") || len >= sizeof buf - 2) {
		snprintf(err, errlen, "%s: %s", path, len == 0 ? "empty" :
		    "too long or has a stray CR or NUL");
		goto fail;
	}
	if ((sep = strpbrk(buf, " \t")) != NULL) {
		*sep = '\0';
		if (sep == buf || sep[1] == '\0' || strpbrk(sep + 1, " \t") != NULL) {
			snprintf(err, errlen, "%s: expected \"PASSWORD\" or \"USER "
			    "PASSWORD\" (one space between them)", path);
			goto fail;
		}
	}
	/* The daemon keeps this much of each (redis_conn.c): a longer one
	 * would be cut there and AUTH would send another password. */
	if (strlen(sep != NULL ? sep + 1 : buf) > REDIS_SECRET_MAX ||
	    (sep != NULL && strlen(buf) > REDIS_SECRET_MAX)) {
		snprintf(err, errlen, "%s: the %s is longer than %d bytes", path,
		    sep != NULL && strlen(buf) > REDIS_SECRET_MAX ? "user" : "password",
		    REDIS_SECRET_MAX);
		goto fail;
	}
	if (sep != NULL) {
		*user = strdup(buf);
		*password = strdup(sep + 1);
	} else {
		*password = strdup(buf);
	}
	if (*password == NULL || (sep != NULL && *user == NULL)) {
		snprintf(err, errlen, "out of memory");
		redis_conf_free_secret(*user);
		redis_conf_free_secret(*password);
		*user = *password = NULL;
		goto fail;
	}
	explicit_bzero(buf, sizeof buf);
	return true;
fail:
	explicit_bzero(buf, sizeof buf);
	return false;
}
