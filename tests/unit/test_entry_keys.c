/*
 * test_entry_keys.c: a map entry with its own limit and the prefix
 * sections (clientkeys.h).  The entry sets the rule of every key of the
 * client inside its range; wider keys keep theirs; a key takes the rule of
 * the narrowest entry over it whole, so it meets one rule whoever reaches
 * it.  From review B: the entry used to decide alone, and a wide entry
 * meant to be stricter let a /24 through 1270 times a minute instead of 60.
 */
#include "unit.h"

#include "config.h"
#include "exempt.h"
#include "policy.h"
#include "window.h"

struct ent {
	const char *a;
	int plen;
	uint32_t limit, window_s;	/* limit 0: OK */
};

struct run {
	struct policy p;
	struct window_table *t;
	uint64_t now;
};

/* "limit = 10, window = 60, ipv4_prefix = 32" and sections, the entries. */
static void start(struct run *r, const char *sections, const struct ent *e,
    size_t n)
{
	char text[512];
	struct config *c;
	struct exempt_builder *b = exempt_builder_new();

	snprintf(text, sizeof text, "limit = 10\nwindow = 60\nipv4_prefix = 32\n"
	    "max_clients = 10000\n%s\n", sections);
	c = config_parse_text("r.conf", text, strlen(text), unit_config_report);
	assert_non_null(c);
	assert_non_null(b);
	for (size_t i = 0; i < n; i++) {
		struct addr a = unit_addr(e[i].a);
		struct exempt_value v = { .kind = e[i].limit ? EXEMPT_LIMIT : EXEMPT_OK,
		    .limit = e[i].limit, .window_s = e[i].window_s };
		assert_true(exempt_builder_add(b, &a, e[i].plen, &v));
	}
	r->t = window_create(10000, unit_seed());
	assert_non_null(r->t);
	policy_init(&r->p, r->t, policy_ruleset(c, exempt_build(b)));
	r->now = 1000000;
}

static void stop(struct run *r)
{
	policy_destroy(&r->p);
	window_destroy(r->t);
}

static struct decision knock(struct run *r, const char *ip)
{
	struct sockaddr_storage ss;
	struct decision d;

	policy_decide(&r->p, unit_sockaddr(&ss, ip, 25), r->now++, &d);
	return d;
}

/* Hosts .1-.254 of net (e.g. "203.0.113") try 10 times each within a
 * minute; returns how many got through, and in *plen the prefix of the
 * key the last refusal was put down to (0: none): by then the aggregate
 * that holds the net. */
static unsigned spread(struct run *r, const char *net, int *plen)
{
	unsigned allowed = 0;

	*plen = 0;
	for (int h = 1; h < 255; h++)
		for (int k = 0; k < 10; k++) {
			char ip[32];
			struct decision d;

			snprintf(ip, sizeof ip, "%s.%d", net, h);
			d = knock(r, ip);
			allowed += d.kind == DECIDE_ALLOW;
			if (d.kind == DECIDE_REFUSE)
				*plen = d.key_plen;
		}
	return allowed;
}

static size_t used(struct run *r)
{
	struct window_stats st;

	window_stats(r->t, &st);
	return (size_t)st.used;
}

static unsigned spread_with(const char *sections, const struct ent *e, size_t n,
    int *plen, size_t *keys)
{
	struct run r;
	unsigned allowed;

	start(&r, sections, e, n);
	allowed = spread(&r, "203.0.113", plen);
	*keys = used(&r);
	stop(&r);
	return allowed;
}

static const char sec24[] = "prefix ipv4/24 { limit = 60 }";

/* Review B's case: the stricter entry holds the /24 aggregate at 5. */
static void test_stricter_entry_holds_the_aggregate(void **state)
{
	static const struct ent strict = { "203.0.113.0", 24, 5, 60 };
	int plen;
	size_t keys;
	unsigned without = spread_with(sec24, NULL, 0, &plen, &keys), with;

	(void)state;
	assert_int_equal(without, 60);
	assert_int_equal(plen, 24);
	with = spread_with(sec24, &strict, 1, &plen, &keys);
	print_message("/24 in one minute: %u allowed without the entry, %u with "
	    "203.0.113.0/24 5/1m\n", without, with);
	if (with != 5)
		fail_msg("a map entry meant to be stricter let the /24 through %u "
		    "times a minute, want its 5", with);
	assert_int_equal(plen, 24);
	/* the entry's /24 and the section's /24 are one table key: the /32
	 * of .1 and one /24 (the refused hosts made no room, window.h) */
	assert_int_equal(keys, 2);
}

/* A pool raised to 2000/1h: each address and the /24 get 2000 an hour
 * (the /24 within its group bound, window.h), not 10 and 60. */
static void test_raising_entry_raises_both(void **state)
{
	static const struct ent pool = { "203.0.113.0", 24, 2000, 3600 };
	uint32_t g = (2000 - 1 + WINDOW_SLOTS - 2) / (WINDOW_SLOTS - 1);
	struct run r;
	int plen;
	size_t keys;
	unsigned allowed = 0;

	(void)state;
	start(&r, sec24, &pool, 1);
	for (int k = 0; k < 100; k++)
		allowed += knock(&r, "203.0.113.1").kind == DECIDE_ALLOW;
	assert_int_equal(allowed, 100);		/* past the /32's 10 and the /24's 60 */
	stop(&r);
	allowed = spread_with(sec24, &pool, 1, &plen, &keys);
	if (allowed < 2000 || allowed > 2000 + g - 1)
		fail_msg("the pool let %u through, want 2000..%u", allowed, 2000 + g - 1);
	assert_int_equal(plen, 24);
}

/* A /16 section is wider than the entry: it keeps its own 100. */
static void test_wider_section_still_holds(void **state)
{
	static const struct ent pool = { "203.0.113.0", 24, 2000, 3600 };
	uint32_t g = (100 - 1 + WINDOW_SLOTS - 2) / (WINDOW_SLOTS - 1);
	int plen;
	size_t keys;
	unsigned allowed = spread_with("prefix ipv4/24 { limit = 60 }\n"
	    "prefix ipv4/16 { limit = 100 }", &pool, 1, &plen, &keys);

	(void)state;
	if (allowed < 100 || allowed > 100 + g - 1)
		fail_msg("the /16 let %u through, want 100..%u", allowed, 100 + g - 1);
	assert_int_equal(plen, 16);
}

/* A /20 entry between a /24 and a /16 section sets each /24 inside it
 * (one aggregate per /24, not one for the /20); the /16 keeps its 100. */
static void test_entry_between_sections(void **state)
{
	static const struct ent e = { "203.0.112.0", 20, 5, 60 };
	struct run r;
	int plen;

	(void)state;
	start(&r, "prefix ipv4/24 { limit = 60 }\nprefix ipv4/16 { limit = 100 }",
	    &e, 1);
	assert_int_equal(spread(&r, "203.0.113", &plen), 5);
	assert_int_equal(plen, 24);
	assert_int_equal(spread(&r, "203.0.114", &plen), 5);
	assert_int_equal(spread(&r, "203.0.128", &plen), 60);	/* outside: the section */
	assert_int_equal(plen, 24);
	stop(&r);
}

/*
 * Nested entries: a /25 at 100/1m inside a /24 at 5/1m.  The /24 key lies
 * inside the /24 entry only: it has 5/1m for the clients of the /25 too,
 * so alternating clients of both meets one rule and one count.
 */
static void test_nested_entries_one_rule_per_key(void **state)
{
	static const struct ent e[] = {
		{ "203.0.113.0", 24, 5, 60 }, { "203.0.113.128", 25, 100, 60 },
	};
	struct run r;
	unsigned allowed = 0;
	struct decision d;

	(void)state;
	start(&r, sec24, e, 2);
	for (int i = 0; i < 40; i++) {
		d = knock(&r, i % 2 ? "203.0.113.200" : "203.0.113.5");
		allowed += d.kind == DECIDE_ALLOW;
	}
	assert_int_equal(allowed, 5);
	d = knock(&r, "203.0.113.201");
	assert_int_equal(d.kind, DECIDE_REFUSE);
	assert_int_equal(d.key_plen, 24);
	assert_int_equal(d.limit, 5);
	stop(&r);
}

/* An entry narrower than the first key (ipv4_prefix 24) is counted at its
 * own prefix; a section of that length is the same key, one count. */
static void test_narrow_entry_own_key_is_the_section_key(void **state)
{
	static const struct ent e = { "198.51.100.16", 28, 4, 60 };
	struct run r;
	struct config *c;
	struct exempt_builder *b = exempt_builder_new();
	static const char text[] = "limit = 50\nwindow = 60\nipv4_prefix = 24\n"
	    "max_clients = 100\nprefix ipv4/28 { limit = 9 }\n";
	struct addr a = unit_addr(e.a);
	struct exempt_value v = { .kind = EXEMPT_LIMIT, .limit = 4, .window_s = 60 };
	unsigned allowed = 0;
	struct decision d;

	(void)state;
	c = config_parse_text("n.conf", text, sizeof text - 1, unit_config_report);
	assert_non_null(c);
	assert_non_null(b);
	assert_true(exempt_builder_add(b, &a, e.plen, &v));
	r.t = window_create(100, unit_seed());
	assert_non_null(r.t);
	policy_init(&r.p, r.t, policy_ruleset(c, exempt_build(b)));
	r.now = 1000000;
	for (int h = 16; h < 32; h++)
		allowed += knock(&r, h % 2 ? "198.51.100.17" : "198.51.100.30").kind ==
		    DECIDE_ALLOW;
	assert_int_equal(allowed, 4);
	d = knock(&r, "198.51.100.20");
	assert_int_equal(d.kind, DECIDE_REFUSE);
	assert_int_equal(d.key_plen, 28);
	assert_int_equal(d.limit, 4);
	assert_int_equal(used(&r), 2);		/* the /24 and one /28 */
	stop(&r);
}

/* A key inside an OK entry is not counted: a /24 at 5/1m inside an OK
 * /8 with a /16 section.  Clients of the /24 take its /32 and /24. */
static void test_key_inside_ok_entry_not_counted(void **state)
{
	static const struct ent e[] = {
		{ "10.0.0.0", 8, 0, 0 }, { "10.1.2.0", 24, 5, 60 },
	};
	struct run r;
	int plen;

	(void)state;
	start(&r, "prefix ipv4/24 { limit = 60 }\nprefix ipv4/16 { limit = 100 }",
	    e, 2);
	assert_int_equal(spread(&r, "10.1.2", &plen), 5);
	assert_int_equal(plen, 24);
	/* the /32 of .1 and the /24; no /16 (the refused made no room) */
	assert_int_equal(used(&r), 2);
	assert_int_equal(knock(&r, "10.1.3.1").kind, DECIDE_EXEMPT);
	stop(&r);
}

/* A name entry has no prefix: its limit is the named client's own (its
 * first key, counted apart from the address's plain count), and the prefix
 * sections still hold it with its neighbours.  A verified partner given
 * 20/1m gets 20 alone, but its /24 section (6) counts it with the rest. */
static void test_name_entry_keeps_the_sections(void **state)
{
	struct run r;
	struct exempt_builder *b = exempt_builder_new();
	struct exempt_value v = { .kind = EXEMPT_LIMIT, .limit = 20, .window_s = 60 };
	struct config *c;
	const char *text = "limit = 3\nwindow = 60\nipv4_prefix = 32\n"
	    "max_clients = 10000\nprefix ipv4/24 { limit = 6 }\n";
	struct sockaddr_storage ss;
	struct policy_conn pc = { NULL, "mx1.partner.example", "OK", NULL };
	struct decision d;
	unsigned named = 0;

	(void)state;
	c = config_parse_text("r.conf", text, strlen(text), unit_config_report);
	assert_non_null(c);
	assert_non_null(b);
	assert_true(exempt_builder_add_name(b, "partner.example", &v));
	r.t = window_create(10000, unit_seed());
	assert_non_null(r.t);
	policy_init(&r.p, r.t, policy_ruleset(c, exempt_build(b)));
	r.now = 1000000;
	/* Alone in its /24: the named client gets 6 (the section), not 20,
	 * and not 3 (the global per-address limit its name lifted). */
	pc.sa = unit_sockaddr(&ss, "198.51.100.7", 25);
	for (int i = 0; i < 30; i++) {
		policy_decide_conn(&r.p, &pc, r.now++, &d);
		named += d.kind == DECIDE_ALLOW;
	}
	assert_int_equal(named, 6);
	assert_int_equal(d.key_plen, 24);
	/* A neighbour without a name meets the same /24 count: refused. */
	assert_int_equal(knock(&r, "198.51.100.8").kind, DECIDE_REFUSE);
	stop(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stricter_entry_holds_the_aggregate),
		cmocka_unit_test(test_raising_entry_raises_both),
		cmocka_unit_test(test_wider_section_still_holds),
		cmocka_unit_test(test_entry_between_sections),
		cmocka_unit_test(test_nested_entries_one_rule_per_key),
		cmocka_unit_test(test_narrow_entry_own_key_is_the_section_key),
		cmocka_unit_test(test_key_inside_ok_entry_not_counted),
		cmocka_unit_test(test_name_entry_keeps_the_sections),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
