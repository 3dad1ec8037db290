/*
 * test_policyctl.c: explain, top and reset (policyctl.h) held to the
 * decision itself.  The oracle is policy_decide: at any moment, explain's
 * verdict and retry must be what the next decision at that same moment
 * says, for random traffic over prefix sections and map entries (OK and
 * N/DURATION, nested), IPv4 and IPv6; and explain never changes a count.
 * Time is an argument; nothing sleeps.
 */
#include "unit.h"

#include "config.h"
#include "exempt.h"
#include "policy.h"
#include "policyctl.h"
#include "window.h"

static struct config *mkcfg(const char *text)
{
	static int serial;
	char path[PATH_MAX], name[64];
	struct config *c;

	snprintf(name, sizeof name, "pc%d.conf", serial++);
	unit_path(path, sizeof path, unit_tmp(), name);
	unit_write_file(path, text);
	c = config_load(path, unit_config_report);
	if (c == NULL)
		fail_msg("config did not load:\n%s", text);
	return c;
}

static void ex_add(struct exempt_builder *b, const char *a, int plen,
    enum exempt_kind kind, uint32_t limit, uint32_t window_s)
{
	struct addr p = unit_addr(a);
	struct exempt_value v = { kind, limit, window_s };

	if (!exempt_builder_add(b, &p, plen, &v))
		fail_msg("exempt_builder_add %s/%d", a, plen);
}

static struct exempt *mkmap(void)
{
	struct exempt_builder *b = exempt_builder_new();

	assert_non_null(b);
	ex_add(b, "192.0.2.0", 28, EXEMPT_OK, 0, 0);
	ex_add(b, "203.0.113.0", 24, EXEMPT_LIMIT, 4, 30);
	ex_add(b, "203.0.113.128", 25, EXEMPT_LIMIT, 2, 90);
	ex_add(b, "2001:db8:f::", 48, EXEMPT_LIMIT, 3, 120);
	return exempt_build(b);
}

struct fixture {
	struct policy p;
	struct window_table *t;
};

static void fx_init_cr(struct fixture *fx, bool count_refused)
{
	fx->t = window_create(10000, unit_seed());
	assert_non_null(fx->t);
	policy_init(&fx->p, fx->t, policy_ruleset(mkcfg(count_refused ?
	    "limit = 3\nwindow = 60\nmax_clients = 10000\n"
	    "prefix ipv4/24 {\n limit = 7\n window = 40\n}\n"
	    "prefix ipv6/48 {\n limit = 6\n}\n" :
	    "limit = 3\nwindow = 60\nmax_clients = 10000\ncount_refused = false\n"
	    "prefix ipv4/24 {\n limit = 7\n window = 40\n}\n"
	    "prefix ipv6/48 {\n limit = 6\n}\n"), mkmap()));
}

static void fx_init(struct fixture *fx)
{
	fx_init_cr(fx, true);
}

static void fx_free(struct fixture *fx)
{
	policy_destroy(&fx->p);
	window_destroy(fx->t);
}

static const char *const pool[] = {
	"198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.101.9",
	"192.0.2.5", "203.0.113.7", "203.0.113.200", "203.0.113.201",
	"2001:db8:1:1::1", "2001:db8:1:2::1", "2001:db8:1:1::99",
	"2001:db8:f:1::1", "2001:db8:f:2::1",
};
#define NPOOL (sizeof pool / sizeof pool[0])

/*
 * Random traffic; before every decision, explain must foretell it.  With
 * count_refused false a refusal changes nothing, so the wait explain
 * gives is checked to the millisecond: refused one millisecond before
 * it ends, accepted when it has.  With count_refused true the refusal
 * itself is counted and lengthens the wait: the decision's retry is then
 * at least explain's (explain answers for a client that waits quietly).
 */
static void foretell(bool count_refused)
{
	struct fixture fx;
	uint64_t rng = 42, now = 1000;
	int checked = 0;

	fx_init_cr(&fx, count_refused);
	for (int step = 0; step < 20000; step++) {
		const char *ip = pool[unit_below(&rng, NPOOL)];
		struct addr a = unit_addr(ip);
		struct sockaddr_storage ss;
		struct policy_explain e, e2;
		struct decision d;
		uint32_t wait = 0;

		now += unit_below(&rng, 4000);
		policy_explain(&fx.p, &a, NULL, 0, now, &e);
		policy_explain(&fx.p, &a, NULL, 0, now, &e2);
		/* Explaining counts nothing: the same answer twice. */
		assert_int_equal(e.verdict, e2.verdict);
		for (size_t i = 0; i < e.nkeys; i++) {
			assert_int_equal(e.keys[i].count, e2.keys[i].count);
			if (e.keys[i].retry_ms > wait)
				wait = e.keys[i].retry_ms;
		}
		policy_decide(&fx.p, unit_sockaddr(&ss, ip, 25), now, &d);
		switch (e.verdict) {
		case POLICYCTL_EXEMPT:
			assert_int_equal(d.kind, DECIDE_EXEMPT);
			break;
		case POLICYCTL_ALLOWED:
			if (d.kind != DECIDE_ALLOW)
				fail_msg("step %d %s: explain allowed, decision %s", step, ip,
				    policy_kind_name(d.kind));
			break;
		case POLICYCTL_REFUSED:
			if (d.kind != DECIDE_REFUSE)
				fail_msg("step %d %s: explain refused (retry %u), decision %s",
				    step, ip, e.retry_s, policy_kind_name(d.kind));
			assert_int_equal(e.retry_s, (wait + 999) / 1000);
			if (!count_refused) {
				char k[ADDR_STRLEN];

				assert_int_equal(e.retry_s, d.retry_s);
				/* The deciding key is the one the refusal is put to. */
				addr_format_prefix(k, sizeof k, &d.key, d.key_plen);
				assert_string_equal(e.keys[e.deciding].key, k);
				assert_int_equal(e.keys[e.deciding].count + 1, d.count);
				policy_decide(&fx.p, unit_sockaddr(&ss, ip, 25), now + wait - 1, &d);
				if (d.kind != DECIDE_REFUSE)
					fail_msg("step %d %s: %s 1 ms before the %u ms explain gave",
					    step, ip, policy_kind_name(d.kind), wait);
				policy_decide(&fx.p, unit_sockaddr(&ss, ip, 25), now + wait, &d);
				if (d.kind != DECIDE_ALLOW)
					fail_msg("step %d %s: %s after the %u ms explain gave",
					    step, ip, policy_kind_name(d.kind), wait);
				now += wait;
			} else {
				assert_true(d.retry_s >= e.retry_s);
			}
			checked++;
			break;
		}
	}
	assert_true(checked > 100);
	fx_free(&fx);
}

static void test_explain_foretells_decision(void **state)
{
	(void)state;
	foretell(false);
	foretell(true);
}

/* Rules are named: global, a section by FILE:LINE, an entry by its text. */
static void test_explain_rule_names(void **state)
{
	struct fixture fx;
	struct policy_explain e;
	struct addr a;

	(void)state;
	fx_init(&fx);
	a = unit_addr("198.51.100.1");
	policy_explain(&fx.p, &a, NULL, 0, 0, &e);
	assert_int_equal(e.nkeys, 2);
	assert_string_equal(e.keys[0].key, "198.51.100.1/32");
	assert_string_equal(e.keys[0].rule, "global limit");
	assert_string_equal(e.keys[1].key, "198.51.100.0/24");
	assert_non_null(strstr(e.keys[1].rule, "prefix ipv4/24 ("));
	assert_non_null(strstr(e.keys[1].rule, ".conf:7)"));
	assert_int_equal(e.keys[1].limit, 7);
	assert_int_equal(e.keys[1].window_s, 40);
	a = unit_addr("203.0.113.200");
	policy_explain(&fx.p, &a, NULL, 0, 0, &e);
	assert_string_equal(e.entry, "map entry 203.0.113.128/25 (2/90s)");
	assert_string_equal(e.keys[0].rule, "map entry 203.0.113.128/25 (2/90s)");
	/* The /24 key takes the /24 entry's rule, the narrowest over it whole. */
	assert_string_equal(e.keys[e.nkeys - 1].key, "203.0.113.0/24");
	assert_string_equal(e.keys[e.nkeys - 1].rule, "map entry 203.0.113.0/24 (4/30s)");
	a = unit_addr("192.0.2.5");
	policy_explain(&fx.p, &a, NULL, 0, 0, &e);
	assert_int_equal(e.verdict, POLICYCTL_EXEMPT);
	assert_string_equal(e.entry, "map entry 192.0.2.0/28 (OK)");
	assert_int_equal(e.nkeys, 0);
	fx_free(&fx);
}

/* top: heaviest first, each with its own rule; reset: the address's
 * keys, then a prefix's. */
static void test_top_and_reset(void **state)
{
	struct fixture fx;
	struct policyctl_top rows[10];
	struct sockaddr_storage ss;
	struct policy_explain e;
	struct decision d;
	struct addr a;
	size_t n;

	(void)state;
	fx_init(&fx);
	for (int i = 0; i < 2; i++)
		policy_decide(&fx.p, unit_sockaddr(&ss, "198.51.100.1", 25), 100, &d);
	policy_decide(&fx.p, unit_sockaddr(&ss, "198.51.100.2", 25), 100, &d);
	for (int i = 0; i < 3; i++)
		policy_decide(&fx.p, unit_sockaddr(&ss, "2001:db8:1:1::1", 25), 100, &d);
	n = policy_top(&fx.p, 200, rows, 10);
	/* 198.51.100.0/24: 3, 2001:db8:1:1::/64: 3, 2001:db8:1::/48: 3,
	 * 198.51.100.1/32: 2, 198.51.100.2/32: 1 */
	assert_int_equal(n, 5);
	assert_int_equal(rows[0].k.count, 3);
	assert_int_equal(rows[2].k.count, 3);
	assert_string_equal(rows[3].k.key, "198.51.100.1/32");
	assert_int_equal(rows[3].k.count, 2);
	assert_int_equal(rows[3].k.limit, 3);
	assert_true(rows[3].known);
	assert_string_equal(rows[4].k.key, "198.51.100.2/32");
	assert_int_equal(policy_top(&fx.p, 200, rows, 1), 1);

	a = unit_addr("198.51.100.1");
	assert_int_equal(policy_reset(&fx.p, &a, -1, NULL, NULL, NULL), 2);	/* /32 and /24 */
	policy_explain(&fx.p, &a, NULL, 0, 300, &e);
	assert_int_equal(e.keys[0].count, 0);
	assert_int_equal(e.keys[1].count, 0);
	a = unit_addr("2001:db8:1::");
	assert_int_equal(policy_reset(&fx.p, &a, 48, NULL, NULL, NULL), 2);	/* /64 and /48 */
	assert_int_equal(policy_top(&fx.p, 300, rows, 10), 1);	/* .2/32 alone */
	assert_string_equal(rows[0].k.key, "198.51.100.2/32");
	fx_free(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_explain_foretells_decision),
		cmocka_unit_test(test_explain_rule_names),
		cmocka_unit_test(test_top_and_reset),
	};
	return cmocka_run_group_tests_name("policyctl", tests, unit_tmp_setup, unit_tmp_teardown);
}
