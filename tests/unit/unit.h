/*
 * unit.h: what every cmocka unit test shares.
 *
 * Helpers are static inline so that a test file which does not use one
 * builds without warnings.  Nothing here stands in for the code under
 * test, so a helper cannot hide a bug in it: addresses are built with
 * inet_pton(3), not addr_parse(); window keys byte by byte; the window
 * fixture only creates and frees the table.
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
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "window.h"

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

/* The temporary directory of a test binary whose group setup and teardown
 * are unit_tmp_setup and unit_tmp_teardown; its path is unit_tmp(). */
static inline char *unit_tmp(void)
{
	static char dir[PATH_MAX];

	return dir;
}

static inline int unit_tmp_setup(void **state)
{
	(void)state;
	unit_tmpdir(unit_tmp(), PATH_MAX);
	return 0;
}

static inline int unit_tmp_teardown(void **state)
{
	(void)state;
	unit_rmtree(unit_tmp());
	return 0;
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

/* --- config ------------------------------------------------------------ */

/* A config report callback for tests that expect a good config: the lines
 * go to the test's output, to explain the failure that follows. */
static inline void unit_config_report(const char *line)
{
	print_error("config: %s\n", line);
}

/* --- the window table ---------------------------------------------------- */

/* a.b.c.d as a 32-bit number, for unit_v4key(). */
#define UNIT_IP(a, b, c, d) \
	(((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))

/* The table a test binary works on: made by unit_mktable(), freed by
 * unit_table_cleanup() (the tests' teardown, so also after a failure). */
static struct window_table *unit_tab;

static inline int unit_table_cleanup(void **state)
{
	(void)state;
	window_destroy(unit_tab);
	unit_tab = NULL;
	return 0;
}

/* A fresh unit_tab of n entries, the one before freed. */
static inline struct window_table *unit_mktable(size_t n)
{
	window_destroy(unit_tab);
	unit_tab = window_create(n, unit_seed());
	if (unit_tab == NULL)
		fail_msg("window_create(%zu): %s", n, strerror(errno));
	return unit_tab;
}

/* ip/plen as a table key (IPv4-mapped, 128-bit plen). */
static inline struct window_key unit_v4key(uint32_t ip, int plen)
{
	struct window_key k;
	uint32_t m = plen == 0 ? 0 : 0xffffffffu << (32 - plen);

	memset(&k, 0, sizeof k);
	k.b[10] = k.b[11] = 0xff;
	ip &= m;
	k.b[12] = (uint8_t)(ip >> 24);
	k.b[13] = (uint8_t)(ip >> 16);
	k.b[14] = (uint8_t)(ip >> 8);
	k.b[15] = (uint8_t)ip;
	k.plen = (uint8_t)(plen + 96);
	return k;
}

/* limit per window_ms, count_refused cr; log_all and would off. */
static inline struct window_rule unit_rule(uint32_t limit, uint32_t window_ms,
    bool cr)
{
	struct window_rule r = { limit, window_ms, cr, false, false };

	return r;
}

/* The monotonic clock in ms, for the tests that race real threads. */
static inline uint64_t unit_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#endif
