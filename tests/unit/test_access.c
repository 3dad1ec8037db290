/*
 * test_access.c: sendmail's access keys and times as import-access reads
 * them (access_parse_addr, access_parse_line, access_parse_time), and
 * ConnectionRateWindowSize from a sendmail.cf.  Expected prefixes are
 * built with inet_pton(3), not with the code under test.
 */
#include "unit.h"

#include "access_import.h"

/* The prefix text a key must give, checked via inet_pton. */
static void
expect_prefix(const char *key, const char *addr, int plen)
{
	struct map_entry e;
	char err[300];
	uint8_t want[16] = { 0 };
	int r = access_parse_addr(key, &e, err, sizeof err);

	if (r != 1)
		fail_msg("%s: %d (%s)", key, r, err);
	if (strchr(addr, ':')) {
		assert_int_equal(inet_pton(AF_INET6, addr, want), 1);
	} else {
		want[10] = want[11] = 0xff;
		assert_int_equal(inet_pton(AF_INET, addr, want + 12), 1);
	}
	if (memcmp(e.prefix.b, want, 16) != 0 || e.plen != plen)
		fail_msg("%s: wrong prefix (plen %d, want %s/%d)", key, e.plen, addr, plen);
}

static void
test_v4_octets(void **state)
{
	(void)state;
	expect_prefix("10", "10.0.0.0", 8);
	expect_prefix("10.1", "10.1.0.0", 16);
	expect_prefix("192.0.2", "192.0.2.0", 24);
	expect_prefix("192.0.2.7", "192.0.2.7", 32);
	expect_prefix("0", "0.0.0.0", 8);
	expect_prefix("255.255.255.255", "255.255.255.255", 32);
}

static void
test_v6_groups(void **state)
{
	(void)state;
	expect_prefix("IPv6:2001", "2001::", 16);
	expect_prefix("IPv6:2001:db8", "2001:db8::", 32);
	expect_prefix("ipv6:2001:DB8:5", "2001:db8:5::", 48);
	expect_prefix("IPv6:2001:db8:0:0:0:0:0:1", "2001:db8::1", 128);
	expect_prefix("IPv6:::1", "::1", 128);
	expect_prefix("IPv6:2001:db8::1", "2001:db8::1", 128);
}

static void
test_rejects(void **state)
{
	static const char *const bad[] = {
		"10.300", "10.1.2.3.4", "10..1", "010", "10.", ".10", "10.0.0.0/8",
		"2001:db8::1", "IPv6:", "IPv6:2001:zz", "IPv6:2001:0db8",
		"IPv6:1:2:3:4:5:6:7:8:9", "IPv6:1::2::3", "IPv6:12345",
		"IPv6:0:0:0:0:0:ffff:c000:201", "IPv6::ffff:192.0.2.1",
	};
	struct map_entry e;
	char err[300];

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		if (access_parse_addr(bad[i], &e, err, sizeof err) != -1)
			fail_msg("%s accepted", bad[i]);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(access_parse_addr("localhost", &e, err, sizeof err), 0);
	assert_int_equal(access_parse_addr("mx.example.com", &e, err, sizeof err), 0);
}

static void
test_lines(void **state)
{
	struct access_entry a;
	char err[400];

	(void)state;
	assert_int_equal(access_parse_line("ClientRate:10.1\t5\n", &a, err, sizeof err), 1);
	assert_int_equal(a.kind, ACCESS_RATE);
	assert_int_equal(a.n, 5);
	assert_int_equal(a.e.plen, 16);
	assert_int_equal(access_parse_line("clientrate: \t 10\r\n", &a, err, sizeof err), 1);
	assert_int_equal(a.kind, ACCESS_RATE_DEFAULT);
	assert_int_equal(a.n, 10);
	assert_int_equal(access_parse_line("CLIENTCONN:127 0\n", &a, err, sizeof err), 1);
	assert_int_equal(a.kind, ACCESS_CONN);
	assert_int_equal(access_parse_line("Connect:10 RELAY\n", &a, err, sizeof err), 1);
	assert_int_equal(a.kind, ACCESS_CONNECT);
	assert_int_equal(access_parse_line("Connect:192.0.2 REJECT\n", &a, err, sizeof err), 0);
	assert_int_equal(access_parse_line("GreetPause: 5000\n", &a, err, sizeof err), 0);
	assert_int_equal(access_parse_line("# ClientRate:10 x\n", &a, err, sizeof err), 0);
	assert_int_equal(access_parse_line("  \t\r\n", &a, err, sizeof err), 0);
	assert_int_equal(access_parse_line("reject@ REJECT\n", &a, err, sizeof err), 0);
	assert_int_equal(access_parse_line("ClientRate:localhost 0\n", &a, err, sizeof err), 1);
	assert_int_equal(a.kind, ACCESS_HOSTNAME);
	assert_int_equal(access_parse_line("ClientRate:10.1 9000\n", &a, err, sizeof err), 1);
	assert_int_equal(access_parse_line("ClientRate:10.1 9001\n", &a, err, sizeof err), -1);
	assert_int_equal(access_parse_line("ClientRate:10.1 05\n", &a, err, sizeof err), -1);
	assert_int_equal(access_parse_line("ClientRate:10.1\n", &a, err, sizeof err), -1);
	assert_int_equal(access_parse_line("ClientRate:10.1 5 # x\n", &a, err, sizeof err), -1);
}

static void
test_times(void **state)
{
	static const struct { const char *s; uint32_t want; } ok[] = {
		{ "60", 60 }, { "10m", 600 }, { "1h", 3600 }, { "1h30m", 5400 },
		{ "90s", 90 }, { "1d", 86400 }, { "86400", 86400 }, { "1m30", 90 },
	};
	static const char *const bad[] = { "", "0", "0m", "2d", "86401", "1w", "m", "10x", "-1", "1.5h" };
	uint32_t s;

	(void)state;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		if (!access_parse_time(ok[i].s, &s) || s != ok[i].want)
			fail_msg("%s: want %u", ok[i].s, ok[i].want);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (access_parse_time(bad[i], &s))
			fail_msg("%s accepted as %u", bad[i], s);
}

static void
test_window_from_cf(void **state)
{
	char path[] = "/tmp/test_access.cf.XXXXXX", err[300];
	uint32_t s = 0;
	bool found;
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("# a comment O ConnectionRateWindowSize=1h\nO ConnectionRateThrottle=15\n"
	    "O ConnectionRateWindowSize=10m\n", f);
	fclose(f);
	assert_true(access_window_from_cf(path, &s, &found, err, sizeof err));
	assert_true(found);
	assert_int_equal(s, 600);
	f = fopen(path, "w");
	fputs("O ConnectionRateThrottle=15\n", f);
	fclose(f);
	s = 7;
	assert_true(access_window_from_cf(path, &s, &found, err, sizeof err));
	assert_false(found);
	assert_int_equal(s, 7);
	f = fopen(path, "w");
	fputs("#\nO ConnectionRateWindowSize=forever\n", f);
	fclose(f);
	assert_false(access_window_from_cf(path, &s, &found, err, sizeof err));
	assert_non_null(strstr(err, ":2: "));
	unlink(path);
	assert_false(access_window_from_cf(path, &s, &found, err, sizeof err));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_octets),
		cmocka_unit_test(test_v6_groups),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_window_from_cf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
