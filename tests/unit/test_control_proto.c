/*
 * test_control_proto.c: the control socket's request parser
 * (control_proto.h): every command, its bounds, and hostile bytes.
 */
#include "unit.h"

#include "control_proto.h"

static bool parse(const char *s, struct control_req *rq, char *err, size_t len)
{
	return control_parse(s, strlen(s), rq, err, len);
}

static void test_explain(void **state)
{
	struct control_req rq;
	char err[256];
	struct addr want;

	(void)state;
	assert_true(parse("EXPLAIN 192.0.2.1", &rq, err, sizeof err));
	assert_int_equal(rq.cmd, CONTROL_EXPLAIN);
	assert_false(rq.has_host);
	want = unit_addr("192.0.2.1");
	assert_true(unit_addr_eq(&rq.addr, &want));
	assert_true(parse("explain   2001:db8::1   mx.example.org\r", &rq, err, sizeof err));
	assert_true(rq.has_host);
	assert_string_equal(rq.host, "mx.example.org");
	want = unit_addr("2001:db8::1");
	assert_true(unit_addr_eq(&rq.addr, &want));
	assert_int_equal(rq.port, 0);
	assert_true(parse("EXPLAIN 192.0.2.1 port=587", &rq, err, sizeof err));
	assert_false(rq.has_host);
	assert_int_equal(rq.port, 587);
	assert_true(parse("EXPLAIN 192.0.2.1 mx.example.org PORT=25", &rq, err, sizeof err));
	assert_true(rq.has_host);
	assert_int_equal(rq.port, 25);
	assert_false(parse("EXPLAIN 192.0.2.1 port=0", &rq, err, sizeof err));
	assert_false(parse("EXPLAIN 192.0.2.1 port=65536", &rq, err, sizeof err));
	assert_false(parse("EXPLAIN 192.0.2.1 port=587 port=25", &rq, err, sizeof err));
	assert_false(parse("EXPLAIN 192.0.2.1 port=587 mx.example.org", &rq, err, sizeof err));
	assert_false(parse("EXPLAIN", &rq, err, sizeof err));
	assert_non_null(strstr(err, "usage"));
	assert_false(parse("EXPLAIN 192.0.2.0/24", &rq, err, sizeof err));
	assert_false(parse("EXPLAIN 192.0.2.1 a b", &rq, err, sizeof err));
	assert_false(parse("EXPLAIN 192.0.2.1 bad%name", &rq, err, sizeof err));
	assert_false(parse("EXPLAIN example.com", &rq, err, sizeof err));
}

static void test_top(void **state)
{
	struct control_req rq;
	char err[256];

	(void)state;
	assert_true(parse("TOP", &rq, err, sizeof err));
	assert_int_equal(rq.cmd, CONTROL_TOP);
	assert_int_equal(rq.top_n, CONTROL_TOP_DEFAULT);
	assert_true(parse("top 1000", &rq, err, sizeof err));
	assert_int_equal(rq.top_n, 1000);
	assert_true(parse("Top 1", &rq, err, sizeof err));
	assert_int_equal(rq.top_n, 1);
	assert_false(parse("TOP 0", &rq, err, sizeof err));
	assert_false(parse("TOP 1001", &rq, err, sizeof err));
	assert_false(parse("TOP 99999999999999999999", &rq, err, sizeof err));
	assert_false(parse("TOP -1", &rq, err, sizeof err));
	assert_false(parse("TOP 5x", &rq, err, sizeof err));
	assert_false(parse("TOP 5 6", &rq, err, sizeof err));
}

static void test_reset(void **state)
{
	struct control_req rq;
	char err[256];

	(void)state;
	assert_true(parse("RESET 192.0.2.1", &rq, err, sizeof err));
	assert_int_equal(rq.cmd, CONTROL_RESET);
	assert_int_equal(rq.plen, -1);
	assert_true(parse("RESET 192.0.2.0/24", &rq, err, sizeof err));
	assert_int_equal(rq.plen, 24);
	assert_true(parse("RESET 2001:db8::/64", &rq, err, sizeof err));
	assert_int_equal(rq.plen, 64);
	/* Host bits past the prefix: an error, not a silent mask. */
	assert_false(parse("RESET 192.0.2.5/24", &rq, err, sizeof err));
	assert_false(parse("RESET", &rq, err, sizeof err));
	assert_false(parse("RESET 192.0.2.1 192.0.2.2", &rq, err, sizeof err));
	/* A verified name's entry key too (issue 13 follow-up). */
	assert_true(parse("RESET 192.0.2.1 mx1.example.net", &rq, err, sizeof err));
	assert_int_equal(rq.plen, -1);
	assert_true(rq.has_host);
	assert_string_equal(rq.host, "mx1.example.net");
	assert_false(parse("RESET 192.0.2.0/24 mx1.example.net", &rq, err, sizeof err));
	assert_false(parse("RESET 192.0.2.1 mx1.example.net x", &rq, err, sizeof err));
	assert_false(parse("RESET 192.0.2.1 bad/name", &rq, err, sizeof err));
}

static void test_simple(void **state)
{
	struct control_req rq;
	char err[256];

	(void)state;
	assert_true(parse("RELOAD", &rq, err, sizeof err));
	assert_int_equal(rq.cmd, CONTROL_RELOAD);
	assert_true(parse("stats", &rq, err, sizeof err));
	assert_int_equal(rq.cmd, CONTROL_STATS);
	assert_false(parse("RELOAD now", &rq, err, sizeof err));
	assert_false(parse("STATS x", &rq, err, sizeof err));
	assert_false(parse("SHUTDOWN", &rq, err, sizeof err));
	assert_non_null(strstr(err, "unknown command"));
	assert_false(parse("", &rq, err, sizeof err));
	assert_false(parse("    ", &rq, err, sizeof err));
}

/* NUL, control bytes, 8-bit bytes, tabs, and a line past the bound: each
 * an error with a printable reason. */
static void test_hostile(void **state)
{
	struct control_req rq;
	char err[256], big[CONTROL_LINE_MAX + 10];
	static const char nul[] = "STATS\0junk";
	static const char bin[] = "EXPLAIN 192.0.2.1 \xff\xfe";

	(void)state;
	assert_false(control_parse(nul, sizeof nul - 1, &rq, err, sizeof err));
	assert_non_null(strstr(err, "0x00"));
	assert_false(control_parse(bin, sizeof bin - 1, &rq, err, sizeof err));
	assert_false(parse("STATS\tx", &rq, err, sizeof err));
	assert_false(parse("STATS\x1b[2J", &rq, err, sizeof err));
	memset(big, ' ', sizeof big);
	memcpy(big, "STATS", 5);
	assert_true(control_parse(big, CONTROL_LINE_MAX, &rq, err, sizeof err));
	assert_false(control_parse(big, CONTROL_LINE_MAX + 1, &rq, err, sizeof err));
	assert_non_null(strstr(err, "too long"));
	for (const char *p = err; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
	/* Many words: refused, never read past the buffer. */
	assert_false(parse("A B C D E F G H", &rq, err, sizeof err));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_top),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests_name("control_proto", tests, NULL, NULL);
}
