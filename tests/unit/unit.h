/*
 * unit.h: what every cmocka unit test shares.
 *
 * Helpers are static inline so that a test file which does not use one
 * builds without warnings.  Nothing here uses the code under test, so a
 * helper cannot hide a bug in it: addresses are built with inet_pton(3),
 * not addr_parse().
 */
#ifndef MRL_UNIT_H
#define MRL_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"

/* The fixed hash seed every table in the tests uses. */
static inline const uint8_t *unit_seed(void)
{
	static const uint8_t seed[16] = {
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
		0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
	};
	return seed;
}

/* --- a small deterministic PRNG (splitmix64) ------------------------------ */

static inline uint64_t unit_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0.  The modulo bias is irrelevant here. */
static inline uint64_t unit_below(uint64_t *state, uint64_t n)
{
	return unit_rand(state) % n;
}

/* Uniform in [0, 1). */
static inline double unit_unit(uint64_t *state)
{
	return (double)(unit_rand(state) >> 11) / 9007199254740992.0;
}

/* --- addresses, built without the code under test ------------------------- */

static inline bool unit_is_mapped(const uint8_t b[16])
{
	static const uint8_t pfx[12] = { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff };

	return memcmp(b, pfx, sizeof(pfx)) == 0;
}

/* "a.b.c.d" (stored as ::ffff:a.b.c.d) or an IPv6 literal; fails the test
 * when inet_pton does not take it. */
static inline struct addr unit_addr(const char *s)
{
	struct addr a;
	struct in_addr v4;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, s, &v4) == 1) {
		a.b[10] = 0xff;
		a.b[11] = 0xff;
		memcpy(&a.b[12], &v4, 4);
	} else if (inet_pton(AF_INET6, s, a.b) != 1) {
		fail_msg("unit_addr: bad literal \"%s\"", s);
	}
	return a;
}

static inline bool unit_addr_eq(const struct addr *x, const struct addr *y)
{
	return memcmp(x->b, y->b, 16) == 0;
}

/* Hex dump for failure messages. */
static inline const char *unit_hex16(const uint8_t b[16], char buf[40])
{
	static const char hx[] = "0123456789abcdef";
	int i, o = 0;

	for (i = 0; i < 16; i++) {
		buf[o++] = hx[b[i] >> 4];
		buf[o++] = hx[b[i] & 15];
		if (i % 2 == 1 && i < 15)
			buf[o++] = ':';
	}
	buf[o] = '\0';
	return buf;
}

#define assert_addr_equal(x, y) do {					\
	char hx_[40], hy_[40];						\
	if (!unit_addr_eq((x), (y)))					\
		fail_msg("address %s != %s", unit_hex16((x)->b, hx_),	\
		    unit_hex16((y)->b, hy_));				\
} while (0)

/* Fill a sockaddr_storage from a literal; AF_INET6 for anything with ':'. */
static inline const struct sockaddr *unit_sockaddr(struct sockaddr_storage *ss,
    const char *s, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(s, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, s, &s6->sin6_addr) != 1)
			fail_msg("unit_sockaddr: bad literal \"%s\"", s);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		if (inet_pton(AF_INET, s, &s4->sin_addr) != 1)
			fail_msg("unit_sockaddr: bad literal \"%s\"", s);
	}
	return (const struct sockaddr *)ss;
}

static inline const struct sockaddr *unit_sockaddr_unix(struct sockaddr_storage *ss,
    const char *path)
{
	struct sockaddr_un *su = (struct sockaddr_un *)ss;

	memset(ss, 0, sizeof(*ss));
	su->sun_family = AF_UNIX;
	snprintf(su->sun_path, sizeof(su->sun_path), "%s", path);
	return (const struct sockaddr *)ss;
}

/* --- temporary files --------------------------------------------------- */

/* A fresh directory under $TMPDIR (or /tmp); the path goes into buf. */
static inline void unit_tmpdir(char *buf, size_t len)
{
	const char *base = getenv("TMPDIR");

	if (base == NULL || *base == '\0')
		base = "/tmp";
	if ((size_t)snprintf(buf, len, "%s/mrl-unit.XXXXXX", base) >= len)
		fail_msg("unit_tmpdir: path too long");
	if (mkdtemp(buf) == NULL)
		fail_msg("mkdtemp %s: %s", buf, strerror(errno));
}

/* Remove a directory made by unit_tmpdir and the plain files in it. */
static inline void unit_rmtree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[PATH_MAX];

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strlen(dir) + 1 + strlen(de->d_name) + 1 > sizeof(p))
			continue;
		strcpy(p, dir);
		strcat(p, "/");
		strcat(p, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static inline void unit_path(char *buf, size_t len, const char *dir,
    const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);

	if (dl + 1 + nl + 1 > len)
		fail_msg("unit_path: path too long");
	memcpy(buf, dir, dl);
	buf[dl] = '/';
	memcpy(buf + dl + 1, name, nl + 1);
}

static inline void unit_write_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");
	size_t n = strlen(content);

	if (f == NULL)
		fail_msg("fopen %s: %s", path, strerror(errno));
	if (fwrite(content, 1, n, f) != n || fclose(f) != 0)
		fail_msg("write %s: %s", path, strerror(errno));
}

/* The top of the source tree: the test runs as TOP/BUILD/tests/test_x. */
static inline void unit_topdir(char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int up;

	if (n <= 0)
		fail_msg("readlink /proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';
	for (up = 0; up < 3; up++) {
		char *slash = strrchr(exe, '/');

		if (slash == NULL)
			fail_msg("unit_topdir: odd path %s", exe);
		*slash = '\0';
	}
	if ((size_t)snprintf(buf, len, "%s", exe) >= len)
		fail_msg("unit_topdir: path too long");
}

#endif
