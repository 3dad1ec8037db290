/*
 * test_review_policy.c: review B, a map entry with its own limit and the
 * prefix sections.  Documented: such an entry decides alone.  This shows
 * what that does to a /24 held by a section when the entry is wide.
 */
#include "unit.h"

#include "config.h"
#include "exempt.h"
#include "policy.h"
#include "window.h"

static void report(const char *line)
{
	print_error("config: %s\n", line);
}

static unsigned run(bool with_entry)
{
	static const char text[] =
	    "limit = 10\nwindow = 60\nipv4_prefix = 32\nmax_clients = 10000\n"
	    "prefix ipv4/24 { limit = 60 }\n";
	struct config *c = config_parse_text("r.conf", text, strlen(text), report);
	struct exempt_builder *b = exempt_builder_new();
	struct window_table *t = window_create(10000, unit_seed());
	struct policy p;
	unsigned allowed = 0;

	assert_non_null(c);
	assert_non_null(b);
	assert_non_null(t);
	if (with_entry) {	/* meant to hold this /24 tighter: 5 a minute */
		struct addr a = unit_addr("203.0.113.0");
		struct exempt_value v = { .kind = EXEMPT_LIMIT, .limit = 5, .window_s = 60 };
		assert_true(exempt_builder_add(b, &a, 24, &v));
	}
	policy_init(&p, t, policy_ruleset(c, exempt_build(b)));
	for (int h = 1; h < 255; h++)
		for (int k = 0; k < 10; k++) {
			char ip[32];
			struct sockaddr_storage ss;
			struct decision d;

			snprintf(ip, sizeof ip, "203.0.113.%d", h);
			policy_decide(&p, unit_sockaddr(&ss, ip, 25), 1000000 + h * 10 + k, &d);
			allowed += d.kind == DECIDE_ALLOW;
		}
	policy_destroy(&p);
	window_destroy(t);
	return allowed;
}

static void test_wide_entry_drops_the_aggregate(void **state)
{
	unsigned without = run(false), with = run(true);

	(void)state;
	print_message("/24 in one minute: %u allowed without the entry, %u with "
	    "203.0.113.0/24 5/1m\n", without, with);
	if (with > without)
		fail_msg("a map entry meant to be stricter let the /24 through %u "
		    "times a minute instead of %u", with, without);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wide_entry_drops_the_aggregate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
