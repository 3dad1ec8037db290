/*
 * test_redis_config.c: the Redis options (config.h, redis_conf.h): the
 * defaults, every accepted form, every refusal with FILE:LINE, and the
 * password file (its two forms, its safety checks).
 */
#include "unit.h"

#include "config.h"
#include "redis_conf.h"

#define MAXREP 8
static struct {
	int n;
	char line[MAXREP][1024];
} rep;

static void report_cb(const char *line)
{
	if (rep.n < MAXREP)
		snprintf(rep.line[rep.n], sizeof(rep.line[0]), "%s", line);
	rep.n++;
}

static struct config *load(const char *content, char *path, size_t len)
{
	unit_path(path, len, unit_tmp(), "r.conf");
	unit_write_file(path, content);
	memset(&rep, 0, sizeof(rep));
	return config_load(path, report_cb);
}

static void test_defaults(void **state)
{
	char path[PATH_MAX];
	struct config *c = load("limit = 5\n", path, sizeof path);

	(void)state;
	assert_non_null(c);
	assert_null(c->redis);
	assert_null(c->redis_password_file);
	assert_null(c->redis_password);
	assert_string_equal(c->redis_key_prefix, "mrl:");
	assert_int_equal(c->redis_db, 0);
	assert_int_equal(c->redis_timeout_ms, 5);
	config_free(c);
}

static void test_forms(void **state)
{
	static const struct { const char *v; bool is_unix; const char *where; int port; } ok[] = {
		{ "unix:/run/redis/redis.sock", true, "/run/redis/redis.sock", 0 },
		{ "tcp:10.0.0.5:6379", false, "10.0.0.5", 6379 },
		{ "tcp:[::1]:1", false, "::1", 1 },
		{ "tcp:[2001:db8::5]:65535", false, "2001:db8::5", 65535 },
	};
	char path[PATH_MAX], text[256];

	(void)state;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		snprintf(text, sizeof text, "redis = \"%s\"\nredis_db = 15\n"
		    "redis_key_prefix = \"\"\nredis_timeout_ms = 5000\n", ok[i].v);
		struct config *c = load(text, path, sizeof path);

		assert_non_null(c);
		assert_string_equal(c->redis, ok[i].v);
		assert_int_equal(c->redis_addr.is_unix, ok[i].is_unix);
		assert_string_equal(ok[i].is_unix ? c->redis_addr.path : c->redis_addr.host,
		    ok[i].where);
		assert_int_equal(c->redis_addr.port, ok[i].port);
		assert_int_equal(c->redis_db, 15);
		assert_string_equal(c->redis_key_prefix, "");
		assert_int_equal(c->redis_timeout_ms, 5000);
		struct config *d = config_dup(c);
		assert_non_null(d);
		assert_string_equal(d->redis, c->redis);
		assert_string_equal(d->redis_key_prefix, "");
		config_free(d);
		config_free(c);
	}
}

static void test_refused(void **state)
{
	static const struct { const char *line; const char *msg; } bad[] = {
		{ "redis = \"redis://10.0.0.5\"", "expected \"unix:/PATH\"" },
		{ "redis = \"unix:run/redis.sock\"", "must be absolute" },
		{ "redis = \"tcp:10.0.0.5\"", "expected \"tcp:IPv4:PORT\"" },
		{ "redis = \"tcp:10.0.0.5:0\"", "the port must be 1..65535" },
		{ "redis = \"tcp:10.0.0.5:65536\"", "the port must be 1..65535" },
		{ "redis = \"tcp:10.0.0.5:63x\"", "the port must be 1..65535" },
		{ "redis = \"tcp:redis.example:6379\"", "is not an IPv4 address" },
		{ "redis = \"tcp:::1:6379\"", "is not an IPv4 address" },
		{ "redis = \"tcp:[10.0.0.5]:6379\"", "is not an IPv6 address" },
		{ "redis = \"tcp:[::1:6379\"", "expected \"tcp:IPv4:PORT\"" },
		{ "redis_key_prefix = \"a b\"", "contains a space" },
		{ "redis_key_prefix = \"0123456789abcd\"", "at most 13" },
		{ "redis_timeout_ms = 0", "out of range (1..5000)" },
		{ "redis_timeout_ms = 5001", "out of range (1..5000)" },
		{ "redis_db = -1", "out of range (0..65535)" },
	};
	char path[PATH_MAX], text[256], want[PATH_MAX + 8];

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "limit = 5\n\n%s\n", bad[i].line);
		assert_null(load(text, path, sizeof path));
		snprintf(want, sizeof want, "%s:3: ", path);
		if (rep.n < 1 || strncmp(rep.line[0], want, strlen(want)) != 0 ||
		    strstr(rep.line[0], bad[i].msg) == NULL)
			fail_msg("%s: got %d lines, first \"%s\", want \"%s...%s\"",
			    bad[i].line, rep.n, rep.n ? rep.line[0] : "", want, bad[i].msg);
	}
}

/* write a password file with mode, and load a config naming it on line 2 */
static struct config *with_password(const char *content, mode_t mode, char *path,
    size_t len)
{
	char pw[PATH_MAX], text[PATH_MAX + 64];

	unit_path(pw, sizeof pw, unit_tmp(), "pw");
	unlink(pw);
	unit_write_file(pw, content);
	assert_int_equal(chmod(pw, mode), 0);
	snprintf(text, sizeof text, "redis = \"unix:/r.sock\"\nredis_password_file = \"%s\"\n", pw);
	return load(text, path, len);
}

static void test_password_file(void **state)
{
	char path[PATH_MAX], want[PATH_MAX + 40];
	struct config *c;

	(void)state;
	c = with_password("s3cret\n", 0600, path, sizeof path);
	assert_non_null(c);
	assert_null(c->redis_user);
	assert_string_equal(c->redis_password, "s3cret");
	config_free(c);
	c = with_password("mrl pass word\r\n", 0640, path, sizeof path);
	assert_null(c);		/* two spaces: neither form */
	c = with_password("mrl s3cret\r\n", 0640, path, sizeof path);
	assert_non_null(c);
	assert_string_equal(c->redis_user, "mrl");
	assert_string_equal(c->redis_password, "s3cret");
	struct config *d = config_dup(c);
	assert_string_equal(d->redis_password, "s3cret");
	config_free(d);
	config_free(c);
	c = with_password("s3cret", 0600, path, sizeof path);	/* no newline */
	assert_non_null(c);
	assert_string_equal(c->redis_password, "s3cret");
	config_free(c);

	static const struct { const char *content; mode_t mode; const char *msg; } bad[] = {
		{ "s3cret\n", 0644, "readable or writable by everyone" },
		{ "s3cret\n", 0602, "writable by everyone" },
		{ "", 0600, "empty" },
		{ "\n", 0600, "empty" },
		{ "a\nb\n", 0600, "more than one line" },
		{ " s3cret\n", 0600, "expected \"PASSWORD\" or \"USER PASSWORD\"" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_null(with_password(bad[i].content, bad[i].mode, path, sizeof path));
		snprintf(want, sizeof want, "%s:2: redis_password_file: ", path);
		if (rep.n != 1 || strncmp(rep.line[0], want, strlen(want)) != 0 ||
		    strstr(rep.line[0], bad[i].msg) == NULL)
			fail_msg("case %zu: got %d lines, \"%s\", want \"%s...%s\"", i,
			    rep.n, rep.n ? rep.line[0] : "", want, bad[i].msg);
	}
	/* in a directory anyone may write to (no sticky bit): anyone could
	 * swap it */
	char open_dir[PATH_MAX], pw[PATH_MAX], text0[2 * PATH_MAX];
	unit_path(open_dir, sizeof open_dir, unit_tmp(), "open");
	mkdir(open_dir, 0700);
	assert_int_equal(chmod(open_dir, 0777), 0);
	unit_path(pw, sizeof pw, open_dir, "pw");
	unit_write_file(pw, "s3cret\n");
	assert_int_equal(chmod(pw, 0600), 0);
	snprintf(text0, sizeof text0, "redis_password_file = \"%s\"\n", pw);
	assert_null(load(text0, path, sizeof path));
	assert_non_null(strstr(rep.line[0], "which everyone may write to"));
	/* not a regular file */
	char dir[PATH_MAX], text[PATH_MAX + 64];
	unit_path(dir, sizeof dir, unit_tmp(), "pwdir");
	mkdir(dir, 0700);
	snprintf(text, sizeof text, "redis_password_file = \"%s\"\n", dir);
	assert_null(load(text, path, sizeof path));
	assert_non_null(strstr(rep.line[0], "not a regular file"));
}

/* The daemon keeps REDIS_SECRET_MAX bytes of each (redis_conn.c): a
 * longer password or user was accepted here and cut there, so AUTH sent
 * another password and Redis was never used.  Refused instead. */
static void test_password_length(void **state)
{
	static char big[2 * REDIS_SECRET_MAX + 8];
	char path[PATH_MAX], want[PATH_MAX + 40];
	struct config *c;

	(void)state;
	memset(big, 'p', REDIS_SECRET_MAX);
	big[REDIS_SECRET_MAX] = '\n';
	big[REDIS_SECRET_MAX + 1] = '\0';
	c = with_password(big, 0600, path, sizeof path);
	assert_non_null(c);
	assert_int_equal(strlen(c->redis_password), REDIS_SECRET_MAX);
	config_free(c);

	memset(big, 'p', REDIS_SECRET_MAX + 1);
	big[REDIS_SECRET_MAX + 1] = '\n';
	big[REDIS_SECRET_MAX + 2] = '\0';
	assert_null(with_password(big, 0600, path, sizeof path));
	snprintf(want, sizeof want, "%s:2: redis_password_file: ", path);
	assert_int_equal(rep.n, 1);
	assert_int_equal(strncmp(rep.line[0], want, strlen(want)), 0);
	assert_non_null(strstr(rep.line[0], "longer than 512 bytes"));

	/* a user one byte too long, a short password */
	memset(big, 'u', REDIS_SECRET_MAX + 1);
	snprintf(big + REDIS_SECRET_MAX + 1, sizeof big - REDIS_SECRET_MAX - 1, " pw\n");
	assert_null(with_password(big, 0600, path, sizeof path));
	assert_int_equal(rep.n, 1);
	assert_non_null(strstr(rep.line[0], "longer than 512 bytes"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_password_file),
		cmocka_unit_test(test_password_length),
	};

	return cmocka_run_group_tests_name("redis_config", tests, unit_tmp_setup,
	    unit_tmp_teardown);
}
