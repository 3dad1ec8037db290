/*
 * test_listener.c: listener sections (listener.h): parsing, FILE:LINE
 * errors, and the decisions they make, driven with {daemon_port} values
 * and explicit times.
 */
#include "unit.h"

#include "clientkeys.h"
#include "config.h"
#include "exempt.h"
#include "listener.h"
#include "policy.h"
#include "window.h"

#define MAXREP 16
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

static char tmpdir[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	unit_tmpdir(tmpdir, sizeof(tmpdir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unit_rmtree(tmpdir);
	return 0;
}

static struct config *load(const char *text, char *path, size_t len)
{
	static int serial;
	char name[32];

	snprintf(name, sizeof(name), "l%d.conf", serial++);
	unit_path(path, len, tmpdir, name);
	unit_write_file(path, text);
	memset(&rep, 0, sizeof(rep));
	return config_load(path, report_cb);
}

/* One report line "PATH:LINE: ..." and no config. */
static int expect_bad_at(const char *what, const char *text, int line)
{
	char path[PATH_MAX], prefix[PATH_MAX + 32];
	struct config *c = load(text, path, sizeof(path));

	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	if (c != NULL) {
		print_error("%s: loaded, want an error at line %d\n", what, line);
		config_free(c);
		return 1;
	}
	if (rep.n != 1 || strncmp(rep.line[0], prefix, strlen(prefix)) != 0) {
		print_error("%s: %d report lines, first \"%s\", want one \"%s...\"\n",
		    what, rep.n, rep.n ? rep.line[0] : "", prefix);
		return 1;
	}
	return 0;
}

static void test_parse(void **state)
{
	char path[PATH_MAX];
	struct config *c, *d;

	(void)state;
	c = load("limit = 7\nwindow = 90\n"
	    "listener 587 { mode = \"off\" }\n"
	    "listener 2525 { limit = 30  window = 3600 }\n"
	    "listener 465 { mode = \"log\"  limit = 4 }\n"
	    "listener 26 { mode = \"enforce\" }\n", path, sizeof(path));
	assert_non_null(c);
	assert_int_equal(c->nlisteners, 4);
	assert_int_equal(c->listeners[0].port, 587);
	assert_int_equal(c->listeners[0].mode, LISTENER_OFF);
	assert_int_equal(c->listeners[0].line, 3);
	assert_int_equal(c->listeners[1].port, 2525);
	assert_int_equal(c->listeners[1].mode, LISTENER_GLOBAL);
	assert_int_equal(c->listeners[1].limit, 30);
	assert_int_equal(c->listeners[1].window, 3600);
	assert_int_equal(c->listeners[2].mode, LISTENER_LOG);
	assert_int_equal(c->listeners[2].limit, 4);
	assert_int_equal(c->listeners[2].window, 90);	/* the global one */
	assert_int_equal(c->listeners[3].mode, LISTENER_ENFORCE);
	assert_int_equal(c->listeners[3].limit, 7);
	{
		char keys[CONFIG_KEYS_STRLEN], small[40];

		config_keys_format(c, keys, sizeof(keys));
		assert_string_equal(keys, "ipv4/32:7/90s,ipv6/64:7/90s,"
		    "listener/587:off,listener/2525:30/3600s,"
		    "listener/465:log:4/90s,listener/26:enforce:7/90s");
		/* cut, never overrun */
		config_keys_format(c, small, sizeof(small));
		assert_true(strlen(small) < sizeof(small));
		assert_memory_equal(small, keys, strlen(small));
	}
	d = config_dup(c);
	assert_non_null(d);
	assert_int_equal(d->nlisteners, 4);
	assert_int_equal(d->listeners[1].limit, 30);
	config_free(d);
	config_free(c);
	c = load("limit = 7\n", path, sizeof(path));
	assert_non_null(c);
	assert_int_equal(c->nlisteners, 0);
	config_free(c);
}

static void test_errors(void **state)
{
	static const struct {
		const char *what, *line;
	} cases[] = {
		{ "port 0", "listener 0 { }" },
		{ "port 65536", "listener 65536 { }" },
		{ "huge port", "listener 99999999999999999999 { }" },
		{ "a name", "listener MSA { }" },
		{ "a quoted name", "listener \"MTA-v4\" { }" },
		{ "port and junk", "listener 587x { }" },
		{ "negative", "listener -1 { }" },
		{ "no title", "listener { }" },
		{ "bad mode", "listener 587 { mode = \"of\" }" },
		{ "empty mode", "listener 587 { mode = \"\" }" },
		{ "limit 0", "listener 587 { limit = 0 }" },
		{ "window 86401", "listener 587 { window = 86401 }" },
		{ "unknown option", "listener 587 { port = 587 }" },
	};
	char text[1024];
	int nbad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "limit = 5\n# c\n%s\nwindow = 30\n",
		    cases[i].line);
		nbad += expect_bad_at(cases[i].what, text, 3);
	}
	nbad += expect_bad_at("same port twice",
	    "listener 587 { }\n# c\nlistener 587 { limit = 3 }\n", 3);
	nbad += expect_bad_at("same port, other spelling",
	    "listener 587 { }\n# c\nlistener 0587 { limit = 3 }\n", 3);
	text[0] = '\0';
	for (int i = 0; i <= LISTENER_MAX; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
		    "listener %d { }\n", 1000 + i);
	nbad += expect_bad_at("too many", text, LISTENER_MAX + 1);
	assert_int_equal(nbad, 0);
}

static void test_port_values(void **state)
{
	(void)state;
	assert_int_equal(listener_port("25"), 25);
	assert_int_equal(listener_port("65535"), 65535);
	assert_int_equal(listener_port("1"), 1);
	assert_int_equal(listener_port("0"), 0);
	assert_int_equal(listener_port("65536"), 0);
	assert_int_equal(listener_port(""), 0);
	assert_int_equal(listener_port(NULL), 0);
	assert_int_equal(listener_port(" 25"), 0);
	assert_int_equal(listener_port("25 "), 0);
	assert_int_equal(listener_port("MSA"), 0);
}

/* ---- decisions ---------------------------------------------------------- */

struct fixture {
	struct policy p;
	struct window_table *t;
};

static struct config *mkcfg(const char *extra)
{
	char path[PATH_MAX], text[1024];
	struct config *c;

	snprintf(text, sizeof(text), "limit = 3\nwindow = 60\nmax_clients = 1000\n%s\n",
	    extra);
	c = load(text, path, sizeof(path));
	if (c == NULL)
		fail_msg("config did not load (%s):\n%s", rep.n ? rep.line[0] : "", text);
	return c;
}

static void fx_init(struct fixture *fx, const char *extra)
{
	fx->t = window_create(1000, unit_seed());
	assert_non_null(fx->t);
	policy_init(&fx->p, fx->t, policy_ruleset(mkcfg(extra), exempt_empty()));
}

static void fx_reload(struct fixture *fx, const char *extra)
{
	policy_ruleset_free(policy_swap(&fx->p,
	    policy_ruleset(mkcfg(extra), exempt_empty())));
}

static void fx_free(struct fixture *fx)
{
	policy_destroy(&fx->p);
	window_destroy(fx->t);
}

static struct decision decide(struct fixture *fx, const char *ip,
    const char *port, uint64_t now)
{
	struct sockaddr_storage ss;
	struct policy_conn c = { .sa = unit_sockaddr(&ss, ip, 4321), .port = port };
	struct decision d;

	policy_decide_conn(&fx->p, &c, now, &d);
	return d;
}

#define expect(fx_, ip_, port_, now_, kind_, count_) do {		\
	struct decision d_ = decide((fx_), (ip_), (port_), (now_));	\
	if (d_.kind != (kind_) || d_.count != (uint32_t)(count_))	\
		fail_msg("line %d: %s port %s at %llu: %s count %u, want %s count %u", \
		    __LINE__, (ip_), (port_) ? (port_) : "(none)",	\
		    (unsigned long long)(now_), policy_kind_name(d_.kind), \
		    d_.count, policy_kind_name(kind_), (unsigned)(count_)); \
} while (0)

static const char *const two =
    "listener 587 { mode = \"off\" }\nlistener 2525 { limit = 5  window = 30 }\n"
    "listener 465 { mode = \"log\" }\n";

/* off: never counted, never refused, and no table slot. */
static void test_off(void **state)
{
	struct fixture fx;
	struct window_stats ws;

	(void)state;
	fx_init(&fx, two);
	for (uint64_t i = 0; i < 20; i++) {
		struct decision d = decide(&fx, "198.51.100.7", "587", 1000 + i);

		assert_int_equal(d.kind, DECIDE_EXEMPT);
		assert_int_equal(d.listener_port, 587);
		assert_false(d.matched);
	}
	window_stats(fx.t, &ws);
	assert_int_equal(ws.used, 0);
	/* the same client on port 25 (no section): the global limit */
	expect(&fx, "198.51.100.7", "25", 2000, DECIDE_ALLOW, 1);
	expect(&fx, "198.51.100.7", "25", 2001, DECIDE_ALLOW, 2);
	expect(&fx, "198.51.100.7", "25", 2002, DECIDE_ALLOW, 3);
	expect(&fx, "198.51.100.7", "25", 2003, DECIDE_REFUSE, 4);
	/* and 587 still lets it through */
	expect(&fx, "198.51.100.7", "587", 2004, DECIDE_EXEMPT, 0);
	fx_free(&fx);
}

/* A listener's own limit and window, counted apart from port 25. */
static void test_own_limit_apart(void **state)
{
	struct fixture fx;
	struct decision d;

	(void)state;
	fx_init(&fx, two);
	for (uint32_t i = 1; i <= 5; i++)
		expect(&fx, "203.0.113.9", "2525", 1000 + i, DECIDE_ALLOW, i);
	d = decide(&fx, "203.0.113.9", "2525", 1010);
	assert_int_equal(d.kind, DECIDE_REFUSE);
	assert_int_equal(d.limit, 5);
	assert_int_equal(d.window_s, 30);
	assert_int_equal(d.listener_port, 2525);
	/* the key shown is the client's, not the hash */
	assert_int_equal(d.key_plen, 32);
	/* 2525 ate nothing of port 25's allowance, nor of a port without a
	 * section, and the reverse */
	expect(&fx, "203.0.113.9", "25", 1011, DECIDE_ALLOW, 1);
	expect(&fx, "203.0.113.9", "24", 1012, DECIDE_ALLOW, 2);
	expect(&fx, "203.0.113.9", NULL, 1013, DECIDE_ALLOW, 3);
	expect(&fx, "203.0.113.9", "25", 1014, DECIDE_REFUSE, 4);
	/* the 30 s window: 2525 lets it in again once the window has passed
	 * (refused connections count too, the last at 1010 ms) */
	expect(&fx, "203.0.113.9", "2525", 1010 + 30000, DECIDE_ALLOW, 1);
	fx_free(&fx);
}

/* mode "log" on one listener: would-refuse there, enforce elsewhere. */
static void test_log_mode(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx, two);
	for (uint32_t i = 1; i <= 3; i++)
		expect(&fx, "192.0.2.77", "465", 1000 + i, DECIDE_ALLOW, i);
	expect(&fx, "192.0.2.77", "465", 1004, DECIDE_WOULD_REFUSE, 4);
	for (uint32_t i = 1; i <= 3; i++)
		expect(&fx, "192.0.2.77", "25", 1010 + i, DECIDE_ALLOW, i);
	expect(&fx, "192.0.2.77", "25", 1014, DECIDE_REFUSE, 4);
	fx_free(&fx);
}

/* max_concurrent follows the listener's mode, as the rate limit does: a
 * listener in mode log only logs its concurrency refusals, one in mode
 * enforce under a global mode log enforces them (review C). */
static void test_concurrency_follows_listener_mode(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx, "max_concurrent = 2\nlistener 465 { mode = \"log\" }\n");
	assert_true(decide(&fx, "192.0.2.90", "465", 1000).log_mode);
	assert_false(decide(&fx, "192.0.2.90", "25", 1001).log_mode);
	fx_free(&fx);
	fx_init(&fx, "max_concurrent = 2\nmode = \"log\"\n"
	    "listener 25 { mode = \"enforce\" }\n");
	assert_false(decide(&fx, "192.0.2.91", "25", 1000).log_mode);
	assert_true(decide(&fx, "192.0.2.91", "587", 1001).log_mode);
	fx_free(&fx);
}

/* An unusable {daemon_port}: the global rules, and counted with them. */
static void test_missing_or_bad_macro(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx, two);
	expect(&fx, "192.0.2.8", NULL, 1000, DECIDE_ALLOW, 1);
	expect(&fx, "192.0.2.8", "", 1001, DECIDE_ALLOW, 2);
	expect(&fx, "192.0.2.8", "587x", 1002, DECIDE_ALLOW, 3);
	expect(&fx, "192.0.2.8", "25", 1003, DECIDE_REFUSE, 4);
	fx_free(&fx);
}

/* IPv6 and prefix sections: the listener's keys all count apart. */
static void test_prefix_sections(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx, "prefix ipv4/24 { limit = 4 }\nlistener 2525 { limit = 10 }\n");
	/* four addresses of one /24 on 2525: the /24 key (limit 4) refuses
	 * the fifth, on 2525 only */
	for (uint32_t i = 1; i <= 4; i++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "198.51.100.%u", i);
		expect(&fx, ip, "2525", 1000 + i, DECIDE_ALLOW, 1);
	}
	expect(&fx, "198.51.100.9", "2525", 1010, DECIDE_REFUSE, 5);
	expect(&fx, "198.51.100.9", "25", 1011, DECIDE_ALLOW, 1);
	expect(&fx, "2001:db8::1", "2525", 1012, DECIDE_ALLOW, 1);
	expect(&fx, "2001:db8::1", "25", 1013, DECIDE_ALLOW, 1);
	fx_free(&fx);
}

/* Reload keeps counts, and sections come and go without harm. */
static void test_reload(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx, two);
	for (uint32_t i = 1; i <= 5; i++)
		expect(&fx, "203.0.113.50", "2525", 1000 + i, DECIDE_ALLOW, i);
	fx_reload(&fx, "listener 2525 { limit = 6  window = 30 }\n");
	expect(&fx, "203.0.113.50", "2525", 1010, DECIDE_ALLOW, 6);
	expect(&fx, "203.0.113.50", "2525", 1011, DECIDE_REFUSE, 7);
	/* turned off by a reload: accepted at once */
	fx_reload(&fx, "listener 2525 { mode = \"off\" }\n");
	expect(&fx, "203.0.113.50", "2525", 1012, DECIDE_EXEMPT, 0);
	/* back: the earlier count is still there */
	fx_reload(&fx, "listener 2525 { limit = 6  window = 30 }\n");
	expect(&fx, "203.0.113.50", "2525", 1013, DECIDE_REFUSE, 8);
	/* the section gone: the global count, which 2525 never touched */
	fx_reload(&fx, "");
	expect(&fx, "203.0.113.50", "2525", 1014, DECIDE_ALLOW, 1);
	fx_free(&fx);
}

/* The sweep keeps a listener's keys for its own, longer window. */
static void test_max_window(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx, "listener 587 { window = 7200 }\n");
	assert_int_equal(policy_max_window_ms(&fx.p), 7200u * 1000u);
	fx_free(&fx);
}

/*
 * clientkeys_build_keys over one family's keys with a listener's limit on
 * keys[0] (what policy.c does per connection, without copying the whole
 * config) gives exactly the keys clientkeys_build gives for a config that
 * has those values itself: every key, rule and prefix, both families.
 */
static void test_build_keys_same_as_config(void **state)
{
	const char *ips[] = { "192.0.2.77", "2001:db8:1:2::9" };
	char path[PATH_MAX];
	struct config *c, *want;
	struct window_rule base = { .count_refused = true };

	(void)state;
	c = load("limit = 3\nwindow = 60\nmax_clients = 1000\n"
	    "prefix ipv4/24 { limit = 40 window = 90 }\nprefix ipv6/48 { limit = 50 window = 90 }\n", path, sizeof(path));
	want = load("limit = 5\nwindow = 30\nmax_clients = 1000\n"
	    "prefix ipv4/24 { limit = 40 window = 90 }\nprefix ipv6/48 { limit = 50 window = 90 }\n", path, sizeof(path));
	assert_non_null(c);
	assert_non_null(want);
	for (int f = 0; f < 2; f++) {
		struct addr a = unit_addr(ips[f]);
		struct config_key k[CONFIG_KEYS_MAX];
		struct clientkeys got, exp;

		memcpy(k, c->keys[f], sizeof k);
		k[0].limit = 5;
		k[0].window = 30;
		memset(&got, 0, sizeof got);
		memset(&exp, 0, sizeof exp);
		clientkeys_build_keys(k, c->nkeys[f], NULL, &a, NULL, &base, &got);
		clientkeys_build(want, NULL, &a, NULL, &base, &exp);
		assert_int_equal(got.n, 2);
		assert_int_equal(got.n, exp.n);
		assert_int_equal(got.rule[0].limit, 5);
		assert_int_equal(got.rule[0].window_ms, 30000);
		assert_memory_equal(&got, &exp, sizeof got);
	}
	config_free(c);
	config_free(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_build_keys_same_as_config),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_port_values),
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_own_limit_apart),
		cmocka_unit_test(test_log_mode),
		cmocka_unit_test(test_concurrency_follows_listener_mode),
		cmocka_unit_test(test_missing_or_bad_macro),
		cmocka_unit_test(test_prefix_sections),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_max_window),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
