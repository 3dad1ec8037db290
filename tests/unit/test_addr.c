/*
 * test_addr.c: addr.h, parsing, masking, socket addresses and formatting.
 *
 * The oracles are libc's inet_pton/inet_ntop and a bit-by-bit mask, never
 * the code under test.
 */
#include "unit.h"

#include "addr.h"

/* ::ffff:a.b.c.d */
static struct addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct addr x;

	memset(&x, 0, sizeof(x));
	x.b[10] = 0xff;
	x.b[11] = 0xff;
	x.b[12] = a;
	x.b[13] = b;
	x.b[14] = c;
	x.b[15] = d;
	return x;
}

static struct addr v6(const char *s)
{
	struct addr x;

	if (inet_pton(AF_INET6, s, x.b) != 1)
		fail_msg("bad test literal %s", s);
	return x;
}

/* ---- addr_parse -------------------------------------------------------- */

static void test_parse_v4(void **state)
{
	static const struct {
		const char *s;
		uint8_t b[4];
	} cases[] = {
		{ "192.0.2.1", { 192, 0, 2, 1 } },
		{ "0.0.0.0", { 0, 0, 0, 0 } },
		{ "255.255.255.255", { 255, 255, 255, 255 } },
		{ "10.1.2.3", { 10, 1, 2, 3 } },
		{ "127.0.0.1", { 127, 0, 0, 1 } },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addr got, want;

		memset(&got, 0xa5, sizeof(got));
		want = v4(cases[i].b[0], cases[i].b[1], cases[i].b[2], cases[i].b[3]);
		if (!addr_parse(&got, cases[i].s))
			fail_msg("addr_parse(\"%s\") failed", cases[i].s);
		assert_addr_equal(&got, &want);
		assert_true(addr_is_v4(&got));
	}
}

static void test_parse_v6(void **state)
{
	static const char *const ok[] = {
		"2001:db8::1",
		"::",
		"::1",
		"1::",
		"fe80::",
		"1:2::7:8",
		"2001:0db8:0000:0000:0000:0000:0000:0001",
		"2001:DB8::A",
		"2001:Db8:AbCd:EF01:2345:6789:aBcD:eF01",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		"1:2:3:4:5:6:7:8",
		"1:0:0:0:0:0:0:8",
		"::2:3:4:5:6:7:8",
		"1:2:3:4:5:6:7::",
		"::192.0.2.1",		/* IPv4-compatible, deprecated: v6 */
		"64:ff9b::192.0.2.1",	/* NAT64 well-known prefix: v6 */
		"::fffe:192.0.2.1",
		"::ffff:0:192.0.2.1",	/* SIIT IPv4-translated: v6 */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct addr got, want = v6(ok[i]);

		memset(&got, 0x5a, sizeof(got));
		if (!addr_parse(&got, ok[i]))
			fail_msg("addr_parse(\"%s\") failed", ok[i]);
		assert_addr_equal(&got, &want);
		if (addr_is_v4(&got))
			fail_msg("addr_is_v4(\"%s\") is true", ok[i]);
	}
}

static void test_parse_v4_mapped(void **state)
{
	static const char *const mapped[] = {
		"::ffff:192.0.2.1",
		"::FFFF:192.0.2.1",
		"::ffff:c000:201",
		"0:0:0:0:0:ffff:192.0.2.1",
		"0000:0000:0000:0000:0000:FFFF:C000:0201",
	};
	struct addr plain, got;
	size_t i;

	(void)state;
	assert_true(addr_parse(&plain, "192.0.2.1"));
	for (i = 0; i < sizeof(mapped) / sizeof(mapped[0]); i++) {
		if (!addr_parse(&got, mapped[i]))
			fail_msg("addr_parse(\"%s\") failed", mapped[i]);
		assert_addr_equal(&got, &plain);
		if (!addr_is_v4(&got))
			fail_msg("addr_is_v4(\"%s\") is false", mapped[i]);
	}
}

static void test_is_v4(void **state)
{
	struct addr a;

	(void)state;
	a = v4(0, 0, 0, 0);
	assert_true(addr_is_v4(&a));
	a = v4(255, 255, 255, 255);
	assert_true(addr_is_v4(&a));
	a = v6("::");
	assert_false(addr_is_v4(&a));
	a = v6("::ffff:0:0");
	assert_true(addr_is_v4(&a));
	a = v6("::fffe:0:0");
	assert_false(addr_is_v4(&a));
	a = v6("::1:ffff:0:0");
	assert_false(addr_is_v4(&a));
	a = v6("1::ffff:0:0");
	assert_false(addr_is_v4(&a));
	a = v6("::7fff:0:0");
	assert_false(addr_is_v4(&a));
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"", " ", "garbage", "localhost", "1.2.3", "1.2.3.4.5",
		"256.0.0.1", "1.2.3.256", "1.2.3.-1", "1..3.4", ".1.2.3",
		"1.2.3.", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4x", "1.2.3.4\n",
		"1.2.3.4/32", "1.2.3.4/", "0x1.2.3.4", "1 .2.3.4",
		"::1 ", " ::1", "::1/128", "2001:db8::/32", "2001:db8::1::",
		"1::2::3", ":::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7",
		"12345::", "g::1", "::ffff:1.2.3", "::ffff:256.1.1.1",
		"1:2:3:4:5:6:7:1.2.3.4", "fe80::1%eth0", ":1", "1:",
		"[::1]", "2001:db8::1x",
	};
	size_t i;
	int nbad = 0;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct addr a;

		if (addr_parse(&a, bad[i])) {
			print_error("addr_parse(\"%s\") accepted it\n", bad[i]);
			nbad++;
		}
	}
	assert_int_equal(nbad, 0);
}

/* ---- addr_parse_prefix ------------------------------------------------- */

static void test_prefix_ok(void **state)
{
	static const struct {
		const char *s;
		const char *addr;	/* inet_pton form, v4 dotted */
		int plen;
	} cases[] = {
		{ "10.0.0.0/8", "10.0.0.0", 8 },
		{ "192.0.2.1", "192.0.2.1", 32 },
		{ "192.0.2.1/32", "192.0.2.1", 32 },
		{ "192.0.2.0/24", "192.0.2.0", 24 },
		{ "192.0.2.4/31", "192.0.2.4", 31 },
		{ "0.0.0.0/0", "0.0.0.0", 0 },
		{ "128.0.0.0/1", "128.0.0.0", 1 },
		{ "::/0", "::", 0 },
		{ "::1", "::1", 128 },
		{ "::1/128", "::1", 128 },
		{ "2001:db8::/32", "2001:db8::", 32 },
		{ "2001:DB8::/32", "2001:db8::", 32 },
		{ "2001:db8:1:2::/64", "2001:db8:1:2::", 64 },
		{ "2001:db8::/127", "2001:db8::", 127 },
		{ "2001:db8:ab00::/40", "2001:db8:ab00::", 40 },
		{ "8000::/1", "8000::", 1 },
		{ "::ffff:192.0.2.1", "192.0.2.1", 32 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addr got, want = unit_addr(cases[i].addr);
		char err[128] = "";
		int plen = -7;

		if (!addr_parse_prefix(&got, &plen, cases[i].s, err, sizeof(err)))
			fail_msg("addr_parse_prefix(\"%s\") failed: %s", cases[i].s, err);
		assert_addr_equal(&got, &want);
		if (plen != cases[i].plen)
			fail_msg("\"%s\": plen %d, want %d", cases[i].s, plen, cases[i].plen);
	}
}

static void test_prefix_rejects(void **state)
{
	static const char *const bad[] = {
		"", "/", "/24", "1.2.3.4/", "1.2.3.4/33", "1.2.3.4/64",
		"::/129", "::/200", "1.2.3.4/-1", "1.2.3.4/+8", "1.2.3.4/8x",
		"1.2.3.4/ 8", "1.2.3.4 /8", " 1.2.3.4/8", "1.2.3.4/8 ",
		"1.2.3.4/8/8", "10.0.0.0/0x8", "10.0.0.0/8\n", "garbage/8",
		"1.2.3/24", "10.0.0.0//8", "10.0.0.0/8.0", "::/", "::/ 64",
		"2001:db8::/32 ", "2001:db8:::/48",
		"10.0.0.0/4294967304",		/* 2^32 + 8: must not wrap to 8 */
		"::/4294967424",		/* 2^32 + 128 */
		"10.0.0.0/99999999999999999999",
		"10.0.0.0/-4294967288",
	};
	size_t i;
	int nbad = 0;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct addr a;
		char err[256];
		int plen = -7;

		memset(err, 0, sizeof(err));
		if (addr_parse_prefix(&a, &plen, bad[i], err, sizeof(err))) {
			print_error("addr_parse_prefix(\"%s\") accepted it (plen %d)\n",
			    bad[i], plen);
			nbad++;
		} else if (err[0] == '\0') {
			print_error("addr_parse_prefix(\"%s\"): empty reason\n", bad[i]);
			nbad++;
		} else if (strchr(err, '\n') != NULL) {
			/* the reason ends up in a log line: one line only */
			print_error("addr_parse_prefix(\"%s\"): reason is not one line: "
			    "\"%s\"\n", bad[i], err);
			nbad++;
		}
	}
	assert_int_equal(nbad, 0);
}

/*
 * The header does not say whether a prefix length may carry a leading zero;
 * what it must never do is read one as octal ("010" is ten, not eight).
 */
static void test_prefix_leading_zero_not_octal(void **state)
{
	struct addr a;
	char err[128];
	int plen = -7;

	(void)state;
	if (addr_parse_prefix(&a, &plen, "10.0.0.0/010", err, sizeof(err)))
		assert_int_equal(plen, 10);
	plen = -7;
	if (addr_parse_prefix(&a, &plen, "2001:db8::/032", err, sizeof(err)))
		assert_int_equal(plen, 32);
	plen = -7;
	if (addr_parse_prefix(&a, &plen, "10.0.0.0/08", err, sizeof(err)))
		assert_int_equal(plen, 8);
}

static void test_prefix_host_bits(void **state)
{
	static const char *const bad[] = {
		"10.0.0.5/24", "10.0.0.1/8", "0.0.0.1/0", "192.0.2.5/31",
		"2001:db8::1/64", "::1/127", "::1/0", "2001:db8:1::/32",
		"172.16.0.1/12", "128.0.0.0/0",
	};
	size_t i;
	int nbad = 0;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct addr a;
		char err[256] = "";
		int plen = -7;

		if (addr_parse_prefix(&a, &plen, bad[i], err, sizeof(err))) {
			print_error("addr_parse_prefix(\"%s\") accepted host bits\n",
			    bad[i]);
			nbad++;
		} else if (strstr(err, "host bits") == NULL) {
			print_error("addr_parse_prefix(\"%s\"): reason \"%s\" does "
			    "not mention host bits\n", bad[i], err);
			nbad++;
		}
	}
	assert_int_equal(nbad, 0);
}

static void test_prefix_err_null_and_short(void **state)
{
	struct addr a;
	int plen;
	char err[16];

	(void)state;
	/* err may be NULL */
	assert_false(addr_parse_prefix(&a, &plen, "10.0.0.5/24", NULL, 0));
	assert_false(addr_parse_prefix(&a, &plen, "junk", NULL, 0));
	assert_true(addr_parse_prefix(&a, &plen, "10.0.0.0/24", NULL, 0));
	assert_int_equal(plen, 24);

	/* a short buffer is never overrun and always terminated */
	memset(err, 'Z', sizeof(err));
	assert_false(addr_parse_prefix(&a, &plen, "10.0.0.5/24", err, 8));
	assert_non_null(memchr(err, '\0', 8));
	assert_int_equal(err[8], 'Z');
	assert_int_equal(err[15], 'Z');
}

/* ---- addr_mask --------------------------------------------------------- */

/* Clear every bit from `from` (0..128, address-wide) on. */
static void ref_clear_from(uint8_t b[16], int from)
{
	int i;

	for (i = from; i < 128; i++)
		b[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
}

static void test_mask_v4_fixed(void **state)
{
	static const struct {
		int plen;
		const char *want;
	} cases[] = {
		{ 0, "0.0.0.0" }, { 1, "128.0.0.0" }, { 8, "192.0.0.0" },
		{ 16, "192.168.0.0" }, { 24, "192.168.37.0" },
		{ 25, "192.168.37.128" }, { 31, "192.168.37.200" },
		{ 32, "192.168.37.201" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addr a = unit_addr("192.168.37.201");
		struct addr want = unit_addr(cases[i].want);

		addr_mask(&a, cases[i].plen);
		assert_addr_equal(&a, &want);
		/* masking in family terms keeps the ::ffff: part: still IPv4 */
		assert_true(addr_is_v4(&a));
	}
}

static void test_mask_v6_fixed(void **state)
{
	static const struct {
		int plen;
		const char *want;
	} cases[] = {
		{ 0, "::" }, { 1, "8000::" }, { 48, "ffff:ffff:ffff::" },
		{ 64, "ffff:ffff:ffff:ffff::" },
		{ 127, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe" },
		{ 128, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
		{ 95, "ffff:ffff:ffff:ffff:ffff:fffe::" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addr a = unit_addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
		struct addr want = unit_addr(cases[i].want);

		addr_mask(&a, cases[i].plen);
		assert_addr_equal(&a, &want);
	}
}

static void test_mask_every_length(void **state)
{
	uint64_t rng = 42;
	int round, plen, i;

	(void)state;
	for (round = 0; round < 50; round++) {
		struct addr r4, r6;

		for (i = 0; i < 16; i++)
			r6.b[i] = (uint8_t)unit_rand(&rng);
		if (unit_is_mapped(r6.b))
			r6.b[0] = 1;
		r4 = r6;
		memset(r4.b, 0, 10);
		r4.b[10] = r4.b[11] = 0xff;

		for (plen = 0; plen <= 32; plen++) {
			struct addr a = r4, want = r4;

			ref_clear_from(want.b, 96 + plen);
			addr_mask(&a, plen);
			if (!unit_addr_eq(&a, &want))
				fail_msg("v4 mask /%d wrong", plen);
		}
		for (plen = 0; plen <= 128; plen++) {
			struct addr a = r6, want = r6;

			ref_clear_from(want.b, plen);
			addr_mask(&a, plen);
			if (!unit_addr_eq(&a, &want))
				fail_msg("v6 mask /%d wrong", plen);
		}
	}
}

/* ---- addr_from_sockaddr ------------------------------------------------ */

static void test_from_sockaddr(void **state)
{
	struct sockaddr_storage ss;
	struct addr got, want;

	(void)state;
	want = unit_addr("192.0.2.7");
	memset(&got, 0, sizeof(got));
	assert_true(addr_from_sockaddr(&got, unit_sockaddr(&ss, "192.0.2.7", 25)));
	assert_addr_equal(&got, &want);
	assert_true(addr_is_v4(&got));

	/* the port does not matter */
	memset(&got, 0, sizeof(got));
	assert_true(addr_from_sockaddr(&got, unit_sockaddr(&ss, "192.0.2.7", 61000)));
	assert_addr_equal(&got, &want);

	want = unit_addr("2001:db8::7");
	assert_true(addr_from_sockaddr(&got, unit_sockaddr(&ss, "2001:db8::7", 25)));
	assert_addr_equal(&got, &want);
	assert_false(addr_is_v4(&got));

	/* IPv6 with a scope id and flow info: only the address counts */
	unit_sockaddr(&ss, "fe80::1", 25);
	((struct sockaddr_in6 *)&ss)->sin6_scope_id = 3;
	((struct sockaddr_in6 *)&ss)->sin6_flowinfo = htonl(0x12345);
	want = unit_addr("fe80::1");
	assert_true(addr_from_sockaddr(&got, (struct sockaddr *)&ss));
	assert_addr_equal(&got, &want);

	/* v4-mapped IPv6 is its IPv4 self */
	want = unit_addr("198.51.100.9");
	assert_true(addr_from_sockaddr(&got, unit_sockaddr(&ss, "::ffff:198.51.100.9", 25)));
	assert_addr_equal(&got, &want);
	assert_true(addr_is_v4(&got));
}

static void test_from_sockaddr_rejects(void **state)
{
	struct sockaddr_storage ss;
	struct addr got;

	(void)state;
	assert_false(addr_from_sockaddr(&got, NULL));
	assert_false(addr_from_sockaddr(&got, unit_sockaddr_unix(&ss, "/run/x.sock")));
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNSPEC;
	assert_false(addr_from_sockaddr(&got, (struct sockaddr *)&ss));
	ss.ss_family = AF_APPLETALK;
	assert_false(addr_from_sockaddr(&got, (struct sockaddr *)&ss));
	ss.ss_family = AF_NETLINK;
	assert_false(addr_from_sockaddr(&got, (struct sockaddr *)&ss));
}

/* ---- formatting -------------------------------------------------------- */

static void test_format_fixed(void **state)
{
	static const struct {
		const char *in;		/* inet_pton form (v4 dotted) */
		const char *want;
	} cases[] = {
		{ "192.0.2.1", "192.0.2.1" },
		{ "0.0.0.0", "0.0.0.0" },
		{ "255.255.255.255", "255.255.255.255" },
		{ "::ffff:10.0.0.1", "10.0.0.1" },
		{ "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1" },
		{ "::", "::" },
		{ "::1", "::1" },
		{ "1::", "1::" },
		{ "fe80::", "fe80::" },
		{ "2001:DB8::A", "2001:db8::a" },
		/* RFC 5952 4.2.2: a single zero group is not compressed */
		{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },
		/* 4.2.3: the longest run is compressed */
		{ "2001:0:0:1:0:0:0:1", "2001:0:0:1::1" },
		/* ... and of equal runs, the first */
		{ "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },
		{ "1:0:0:2:0:0:3:4", "1::2:0:0:3:4" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
		{ "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1",
		  "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1" },
		{ "1:0:0:0:0:0:0:0", "1::" },
		{ "0:0:0:0:0:0:0:2", "::2" },
		{ "0:1:0:0:0:0:0:0", "0:1::" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addr a = unit_addr(cases[i].in);
		char buf[ADDR_STRLEN];

		memset(buf, 'Z', sizeof(buf));
		addr_format(buf, sizeof(buf), &a);
		assert_string_equal(buf, cases[i].want);
	}
}

static void test_format_prefix(void **state)
{
	static const struct {
		const char *in;
		int plen;
		const char *want;
	} cases[] = {
		{ "10.0.0.0", 8, "10.0.0.0/8" },
		{ "0.0.0.0", 0, "0.0.0.0/0" },
		{ "192.0.2.1", 32, "192.0.2.1/32" },
		{ "::", 0, "::/0" },
		{ "2001:db8::", 32, "2001:db8::/32" },
		{ "::1", 128, "::1/128" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 128,
		  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addr a = unit_addr(cases[i].in);
		char buf[ADDR_STRLEN];

		addr_format_prefix(buf, sizeof(buf), &a, cases[i].plen);
		assert_string_equal(buf, cases[i].want);
	}
	/* the longest form fits ADDR_STRLEN */
	assert_true(strlen("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128") < ADDR_STRLEN);
}

static void test_format_respects_dstlen(void **state)
{
	struct addr a = unit_addr("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff");
	char buf[32];

	(void)state;
	memset(buf, 'Z', sizeof(buf));
	addr_format(buf, 8, &a);
	assert_non_null(memchr(buf, '\0', 8));
	assert_int_equal(buf[8], 'Z');
	assert_int_equal(buf[31], 'Z');

	memset(buf, 'Z', sizeof(buf));
	addr_format_prefix(buf, 10, &a, 128);
	assert_non_null(memchr(buf, '\0', 10));
	assert_int_equal(buf[10], 'Z');
}

/* A random address with zero runs, so that compression gets exercised. */
static struct addr random_addr(uint64_t *rng)
{
	struct addr a;
	int g;

	if (unit_below(rng, 4) == 0) {
		uint32_t x = (uint32_t)unit_rand(rng);

		return v4((uint8_t)(x >> 24), (uint8_t)(x >> 16), (uint8_t)(x >> 8),
		    (uint8_t)x);
	}
	for (g = 0; g < 8; g++) {
		uint16_t w;

		switch (unit_below(rng, 5)) {
		case 0: case 1: w = 0; break;
		case 2: w = (uint16_t)unit_below(rng, 16); break;
		default: w = (uint16_t)unit_rand(rng); break;
		}
		a.b[2 * g] = (uint8_t)(w >> 8);
		a.b[2 * g + 1] = (uint8_t)w;
	}
	return a;
}

static void test_format_roundtrip_random(void **state)
{
	uint64_t rng = 7;
	int i;

	(void)state;
	for (i = 0; i < 5000; i++) {
		struct addr a = random_addr(&rng), back, pfx;
		char s[ADDR_STRLEN], ref[INET6_ADDRSTRLEN], hx[40];
		int plen, got_plen;

		addr_format(s, sizeof(s), &a);
		if (!addr_parse(&back, s))
			fail_msg("addr_parse(addr_format(%s)) = \"%s\" failed",
			    unit_hex16(a.b, hx), s);
		if (!unit_addr_eq(&a, &back))
			fail_msg("round trip of %s through \"%s\" changed it",
			    unit_hex16(a.b, hx), s);

		/* libc as the RFC 5952 oracle: for IPv4, and for IPv6 where
		 * glibc does not switch to its "::a.b.c.d" mixed notation */
		if (unit_is_mapped(a.b)) {
			inet_ntop(AF_INET, &a.b[12], ref, sizeof(ref));
			assert_string_equal(s, ref);
		} else if (a.b[0] | a.b[1] | a.b[2] | a.b[3] | a.b[4] | a.b[5] |
		    a.b[6] | a.b[7] | a.b[8] | a.b[9]) {
			inet_ntop(AF_INET6, a.b, ref, sizeof(ref));
			assert_string_equal(s, ref);
		}

		/* prefix round trip */
		plen = (int)unit_below(&rng, unit_is_mapped(a.b) ? 33 : 129);
		pfx = a;
		addr_mask(&pfx, plen);
		addr_format_prefix(s, sizeof(s), &pfx, plen);
		if (!addr_parse_prefix(&back, &got_plen, s, NULL, 0))
			fail_msg("addr_parse_prefix(\"%s\") failed", s);
		if (!unit_addr_eq(&pfx, &back) || got_plen != plen)
			fail_msg("prefix round trip through \"%s\" gave /%d", s, got_plen);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_v4),
		cmocka_unit_test(test_parse_v6),
		cmocka_unit_test(test_parse_v4_mapped),
		cmocka_unit_test(test_is_v4),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_prefix_ok),
		cmocka_unit_test(test_prefix_rejects),
		cmocka_unit_test(test_prefix_leading_zero_not_octal),
		cmocka_unit_test(test_prefix_host_bits),
		cmocka_unit_test(test_prefix_err_null_and_short),
		cmocka_unit_test(test_mask_v4_fixed),
		cmocka_unit_test(test_mask_v6_fixed),
		cmocka_unit_test(test_mask_every_length),
		cmocka_unit_test(test_from_sockaddr),
		cmocka_unit_test(test_from_sockaddr_rejects),
		cmocka_unit_test(test_format_fixed),
		cmocka_unit_test(test_format_prefix),
		cmocka_unit_test(test_format_respects_dstlen),
		cmocka_unit_test(test_format_roundtrip_random),
	};

	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
