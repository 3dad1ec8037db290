/*
 * test_policy.c: the connect decision (policy.h), driven with socket
 * addresses and explicit times: no address, exempt, per-client limits,
 * counting keys, modes, stages, reloads.
 */
#include "unit.h"

#include <pthread.h>

#include "config.h"
#include "exempt.h"
#include "policy.h"
#include "window.h"

struct cfgspec {
	unsigned limit, window;
	int v4, v6;
	const char *mode, *stage, *reply;
	bool cr;
	const char *extra;	/* more lines (prefix sections), or NULL */
};

static const struct cfgspec base = {
	3, 60, 24, 64, "enforce", "connect", "Connection rate limit exceeded", true, NULL,
};

/* A real config, through config_load, so that config_free owns it. */
static struct config *mkcfg(const struct cfgspec *s)
{
	static int serial;
	char path[PATH_MAX], name[64], text[2048];
	struct config *c;

	snprintf(name, sizeof(name), "p%d.conf", serial++);
	unit_path(path, sizeof(path), unit_tmp(), name);
	snprintf(text, sizeof(text),
	    "limit = %u\nwindow = %u\nipv4_prefix = %d\nipv6_prefix = %d\n"
	    "mode = \"%s\"\nreply_stage = \"%s\"\nreply_text = \"%s\"\n"
	    "count_refused = %s\nmax_clients = 1000\n%s\n",
	    s->limit, s->window, s->v4, s->v6, s->mode, s->stage, s->reply,
	    s->cr ? "true" : "false", s->extra ? s->extra : "");
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
	struct exempt_value v;

	memset(&v, 0, sizeof(v));
	v.kind = kind;
	v.limit = limit;
	v.window_s = window_s;
	if (!exempt_builder_add(b, &p, plen, &v))
		fail_msg("exempt_builder_add %s/%d", a, plen);
}

/* The map most tests use. */
static struct exempt *mkexempt(void)
{
	struct exempt_builder *b = exempt_builder_new();
	struct exempt *e;

	assert_non_null(b);
	ex_add(b, "192.0.2.0", 28, EXEMPT_OK, 0, 0);
	ex_add(b, "2001:db8:e::", 48, EXEMPT_OK, 0, 0);
	ex_add(b, "203.0.113.0", 24, EXEMPT_LIMIT, 2, 600);
	ex_add(b, "2001:db8:f::", 48, EXEMPT_LIMIT, 3, 7200);
	e = exempt_build(b);
	assert_non_null(e);
	return e;
}

struct fixture {
	struct policy p;
	struct window_table *t;
};

static void fx_init(struct fixture *fx, const struct cfgspec *s, bool with_map,
    size_t max_clients)
{
	struct ruleset *r;

	fx->t = window_create(max_clients, unit_seed());
	assert_non_null(fx->t);
	r = policy_ruleset(mkcfg(s), with_map ? mkexempt() : exempt_empty());
	assert_non_null(r);
	policy_init(&fx->p, fx->t, r);
}

static void fx_free(struct fixture *fx)
{
	policy_destroy(&fx->p);
	window_destroy(fx->t);
}

static const char *kname(enum decision_kind k)
{
	switch (k) {
	case DECIDE_NOADDR: return "NOADDR";
	case DECIDE_EXEMPT: return "EXEMPT";
	case DECIDE_ALLOW: return "ALLOW";
	case DECIDE_UNTRACKED: return "UNTRACKED";
	case DECIDE_REFUSE: return "REFUSE";
	case DECIDE_WOULD_REFUSE: return "WOULD_REFUSE";
	}
	return "?";
}

static struct decision decide(struct fixture *fx, const char *ip, uint64_t now)
{
	struct sockaddr_storage ss;
	struct decision d;

	memset(&d, 0xee, sizeof(d));
	policy_decide(&fx->p, ip ? unit_sockaddr(&ss, ip, 4321) : NULL, now, &d);
	return d;
}

#define expect_kind(fx_, ip_, now_, kind_, count_) do {			\
	struct decision d_ = decide((fx_), (ip_), (now_));		\
	if (d_.kind != (kind_) || d_.count != (uint32_t)(count_))	\
		fail_msg("line %d: %s at %llu: %s count %u, want %s count %u", \
		    __LINE__, (ip_), (unsigned long long)(now_),		\
		    kname(d_.kind), d_.count, kname(kind_), (unsigned)(count_)); \
} while (0)

static void assert_key(const struct decision *d, const char *client,
    const char *key, int plen)
{
	struct addr c = unit_addr(client), k = unit_addr(key);

	assert_addr_equal(&d->client, &c);
	assert_addr_equal(&d->key, &k);
	assert_int_equal(d->key_plen, plen);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_no_address(void **state)
{
	struct fixture fx;
	struct sockaddr_storage ss;
	struct decision d;
	struct window_stats ws;

	(void)state;
	fx_init(&fx, &base, true, 1000);
	policy_decide(&fx.p, NULL, 1000, &d);
	assert_int_equal(d.kind, DECIDE_NOADDR);
	policy_decide(&fx.p, unit_sockaddr_unix(&ss, "/run/x.sock"), 1000, &d);
	assert_int_equal(d.kind, DECIDE_NOADDR);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNSPEC;
	policy_decide(&fx.p, (struct sockaddr *)&ss, 1000, &d);
	assert_int_equal(d.kind, DECIDE_NOADDR);
	window_stats(fx.t, &ws);
	assert_int_equal(ws.used, 0);
	assert_int_equal(atomic_load(&fx.p.n.noaddr), 3);
	fx_free(&fx);
}

static void test_exempt_ok(void **state)
{
	struct fixture fx;
	struct decision d;
	struct window_stats ws;
	struct addr pfx;
	int i;

	(void)state;
	fx_init(&fx, &base, true, 1000);
	for (i = 0; i < 50; i++) {
		d = decide(&fx, "192.0.2.5", 1000 + (uint64_t)i);
		assert_int_equal(d.kind, DECIDE_EXEMPT);
	}
	assert_true(d.matched);
	pfx = unit_addr("192.0.2.0");
	assert_addr_equal(&d.match.prefix, &pfx);
	assert_int_equal(d.match.plen, 28);
	assert_int_equal(d.match.value.kind, EXEMPT_OK);
	pfx = unit_addr("192.0.2.5");
	assert_addr_equal(&d.client, &pfx);

	/* v4-mapped IPv6 is the IPv4 client */
	d = decide(&fx, "::ffff:192.0.2.15", 2000);
	assert_int_equal(d.kind, DECIDE_EXEMPT);
	assert_int_equal(d.match.plen, 28);
	pfx = unit_addr("192.0.2.15");
	assert_addr_equal(&d.client, &pfx);

	d = decide(&fx, "2001:db8:e:1::1", 2000);
	assert_int_equal(d.kind, DECIDE_EXEMPT);
	assert_int_equal(d.match.plen, 48);
	pfx = unit_addr("2001:db8:e::");
	assert_addr_equal(&d.match.prefix, &pfx);

	/* nothing exempt was counted */
	window_stats(fx.t, &ws);
	assert_int_equal(ws.used, 0);
	assert_int_equal(atomic_load(&fx.p.n.exempt), 52);

	/* just outside the /28: counted */
	d = decide(&fx, "192.0.2.16", 3000);
	assert_int_equal(d.kind, DECIDE_ALLOW);
	assert_false(d.matched);
	assert_int_equal(d.count, 1);
	fx_free(&fx);
}

static void test_v4_counting_and_refusal(void **state)
{
	struct fixture fx;
	struct decision d;
	uint64_t t0 = 100000;
	uint32_t i;

	(void)state;
	fx_init(&fx, &base, true, 1000);
	for (i = 1; i <= 3; i++) {
		d = decide(&fx, "198.51.100.7", t0 + i);
		assert_int_equal(d.kind, DECIDE_ALLOW);
		assert_int_equal(d.count, i);
		assert_int_equal(d.limit, 3);
		assert_int_equal(d.window_s, 60);
		assert_false(d.matched);
		assert_key(&d, "198.51.100.7", "198.51.100.0", 24);
	}
	d = decide(&fx, "198.51.100.7", t0 + 4);
	assert_int_equal(d.kind, DECIDE_REFUSE);
	assert_int_equal(d.count, 4);
	assert_int_equal(d.limit, 3);
	assert_int_equal(d.window_s, 60);
	assert_int_equal(d.stage, STAGE_CONNECT);
	assert_key(&d, "198.51.100.7", "198.51.100.0", 24);

	/* another host of the same /24 is the same client */
	d = decide(&fx, "198.51.100.200", t0 + 5);
	assert_int_equal(d.kind, DECIDE_REFUSE);
	assert_int_equal(d.count, 5);
	assert_key(&d, "198.51.100.200", "198.51.100.0", 24);

	/* ... and so is its v4-mapped IPv6 form */
	d = decide(&fx, "::ffff:198.51.100.9", t0 + 6);
	assert_int_equal(d.kind, DECIDE_REFUSE);
	assert_int_equal(d.count, 6);
	assert_key(&d, "198.51.100.9", "198.51.100.0", 24);
	assert_true(addr_is_v4(&d.client));
	assert_true(addr_is_v4(&d.key));

	/* the next /24 is not */
	expect_kind(&fx, "198.51.101.1", t0 + 7, DECIDE_ALLOW, 1);

	/* refused ones count too: at t0 + 60005 only the one at t0 + 6 is
	 * still in the window */
	expect_kind(&fx, "198.51.100.7", t0 + 60005, DECIDE_ALLOW, 2);
	expect_kind(&fx, "198.51.100.7", t0 + 60005, DECIDE_ALLOW, 3);
	expect_kind(&fx, "198.51.100.7", t0 + 60005, DECIDE_REFUSE, 4);
	expect_kind(&fx, "198.51.100.7", t0 + 60006, DECIDE_REFUSE, 4);
	expect_kind(&fx, "198.51.100.7", t0 + 120005, DECIDE_ALLOW, 2);

	assert_int_equal(atomic_load(&fx.p.n.refused), 5);
	fx_free(&fx);
}

static void test_v6_counting(void **state)
{
	struct fixture fx;
	struct decision d;
	uint32_t i;

	(void)state;
	fx_init(&fx, &base, true, 1000);
	for (i = 1; i <= 3; i++) {
		d = decide(&fx, i == 2 ? "2001:db8:1:2::ffff" : "2001:db8:1:2:3:4:5:6",
		    5000 + i);
		assert_int_equal(d.kind, DECIDE_ALLOW);
		assert_int_equal(d.count, i);
		assert_int_equal(d.key_plen, 64);
		assert_false(addr_is_v4(&d.key));
	}
	assert_key(&d, "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::", 64);
	d = decide(&fx, "2001:db8:1:2:ffff:ffff:ffff:ffff", 5010);
	assert_int_equal(d.kind, DECIDE_REFUSE);
	assert_int_equal(d.count, 4);
	assert_key(&d, "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::", 64);
	/* the neighbouring /64 is another client */
	d = decide(&fx, "2001:db8:1:3::1", 5011);
	assert_int_equal(d.kind, DECIDE_ALLOW);
	assert_int_equal(d.count, 1);
	assert_key(&d, "2001:db8:1:3::1", "2001:db8:1:3::", 64);
	fx_free(&fx);
}

static void test_full_length_prefixes(void **state)
{
	struct fixture fx;
	struct cfgspec s = base;
	struct decision d;

	(void)state;
	s.v4 = 32;
	s.v6 = 128;
	fx_init(&fx, &s, false, 1000);
	d = decide(&fx, "198.51.100.7", 1000);
	assert_key(&d, "198.51.100.7", "198.51.100.7", 32);
	d = decide(&fx, "198.51.100.8", 1000);
	assert_int_equal(d.count, 1);
	d = decide(&fx, "2001:db8::1", 1000);
	assert_key(&d, "2001:db8::1", "2001:db8::1", 128);
	d = decide(&fx, "2001:db8::2", 1000);
	assert_int_equal(d.count, 1);
	fx_free(&fx);

	s.v4 = 8;
	s.v6 = 16;
	fx_init(&fx, &s, false, 1000);
	d = decide(&fx, "10.200.100.50", 1000);
	assert_key(&d, "10.200.100.50", "10.0.0.0", 8);
	d = decide(&fx, "2001:db8:ffff::1", 1000);
	assert_key(&d, "2001:db8:ffff::1", "2001::", 16);
	fx_free(&fx);
}

static void test_mode_log(void **state)
{
	struct fixture fx;
	struct cfgspec s = base;
	uint32_t i;

	(void)state;
	s.mode = "log";
	fx_init(&fx, &s, false, 1000);
	for (i = 1; i <= 3; i++)
		expect_kind(&fx, "198.51.100.7", 1000 + i, DECIDE_ALLOW, i);
	expect_kind(&fx, "198.51.100.7", 1010, DECIDE_WOULD_REFUSE, 4);
	expect_kind(&fx, "198.51.100.7", 1011, DECIDE_WOULD_REFUSE, 5);
	assert_int_equal(atomic_load(&fx.p.n.would_refuse), 2);
	assert_int_equal(atomic_load(&fx.p.n.refused), 0);
	fx_free(&fx);
}

/* max_concurrent refusals have their own counters; a refused one leaves
 * accepted, a would-refuse one stays in it. */
static void test_concurrent_totals(void **state)
{
	struct fixture fx;
	struct policy_totals t;

	(void)state;
	fx_init(&fx, &base, false, 1000);
	for (uint32_t i = 1; i <= 3; i++)
		expect_kind(&fx, "198.51.100.8", 1000 + i, DECIDE_ALLOW, i);
	policy_count_concurrent(&fx.p, false);
	policy_count_concurrent(&fx.p, false);
	policy_count_concurrent(&fx.p, true);
	policy_totals(&fx.p, &t);
	assert_int_equal(t.refused_concurrent, 2);
	assert_int_equal(t.would_refuse_concurrent, 1);
	assert_int_equal(t.refused, 0);
	assert_int_equal(t.accepted, 1);
	assert_int_equal(t.seen, 3);
	fx_free(&fx);
}

static void test_count_refused_false(void **state)
{
	struct fixture fx;
	struct cfgspec s = base;

	(void)state;
	s.cr = false;
	s.limit = 1;
	fx_init(&fx, &s, false, 1000);
	expect_kind(&fx, "198.51.100.7", 1000, DECIDE_ALLOW, 1);
	expect_kind(&fx, "198.51.100.7", 60999, DECIDE_REFUSE, 2);
	/* the refusal did not count: the accepted one left at 61000 */
	expect_kind(&fx, "198.51.100.7", 61000, DECIDE_ALLOW, 1);
	fx_free(&fx);
}

static void test_stage_helo(void **state)
{
	struct fixture fx;
	struct cfgspec s = base;
	struct decision d;

	(void)state;
	s.stage = "helo";
	s.limit = 1;
	fx_init(&fx, &s, false, 1000);
	expect_kind(&fx, "198.51.100.7", 1000, DECIDE_ALLOW, 1);
	d = decide(&fx, "198.51.100.7", 1001);
	assert_int_equal(d.kind, DECIDE_REFUSE);
	assert_int_equal(d.stage, STAGE_HELO);
	fx_free(&fx);
}

static void test_per_client_limit(void **state)
{
	struct fixture fx;
	struct decision d;
	struct addr pfx;
	uint64_t t = 1000000;

	(void)state;
	fx_init(&fx, &base, true, 1000);
	/* 203.0.113.0/24: 2 per 600 s, tighter than the config's 3 per 60 s */
	expect_kind(&fx, "203.0.113.9", t, DECIDE_ALLOW, 1);
	d = decide(&fx, "203.0.113.9", t + 1);
	assert_int_equal(d.kind, DECIDE_ALLOW);
	assert_int_equal(d.count, 2);
	assert_int_equal(d.limit, 2);
	assert_int_equal(d.window_s, 600);
	assert_true(d.matched);
	assert_int_equal(d.match.plen, 24);
	assert_int_equal(d.match.value.kind, EXEMPT_LIMIT);
	pfx = unit_addr("203.0.113.0");
	assert_addr_equal(&d.match.prefix, &pfx);
	d = decide(&fx, "203.0.113.9", t + 2);
	assert_int_equal(d.kind, DECIDE_REFUSE);
	assert_int_equal(d.count, 3);
	assert_int_equal(d.limit, 2);
	assert_int_equal(d.window_s, 600);
	/* the entry's window, not the config's 60 s, applies */
	expect_kind(&fx, "203.0.113.9", t + 100000, DECIDE_REFUSE, 4);
	/* the last counted one was at t + 100000 */
	expect_kind(&fx, "203.0.113.9", t + 100000 + 600000, DECIDE_ALLOW, 1);

	/* IPv6: 3 per 7200 s */
	expect_kind(&fx, "2001:db8:f:1::1", t, DECIDE_ALLOW, 1);
	expect_kind(&fx, "2001:db8:f:1::1", t + 1, DECIDE_ALLOW, 2);
	expect_kind(&fx, "2001:db8:f:1::1", t + 2, DECIDE_ALLOW, 3);
	d = decide(&fx, "2001:db8:f:1::1", t + 3600000);
	assert_int_equal(d.kind, DECIDE_REFUSE);
	assert_int_equal(d.count, 4);
	assert_int_equal(d.limit, 3);
	assert_int_equal(d.window_s, 7200);
	assert_int_equal(d.match.plen, 48);
	fx_free(&fx);
}

/*
 * A map entry narrower than the client key (issue: alternating addresses
 * of one /64 between a /128 entry and the rest reset the key's count).
 * The entry is counted at its own prefix under its own rule; the client
 * key is wider than the entry and keeps the global rule for both
 * addresses: one rule, one count, the two together held at 3.
 */
static struct exempt *narrow_map(void)
{
	struct exempt_builder *b = exempt_builder_new();
	struct exempt *e;

	assert_non_null(b);
	ex_add(b, "2001:db8:1:2::25", 128, EXEMPT_LIMIT, 2000, 3600);
	ex_add(b, "192.0.2.25", 32, EXEMPT_LIMIT, 2000, 3600);
	e = exempt_build(b);
	assert_non_null(e);
	return e;
}

static void test_narrow_entry_alternation(void **state)
{
	static const char *const pairs[][2] = {
		{ "2001:db8:1:2::99", "2001:db8:1:2::25" },
		{ "192.0.2.99", "192.0.2.25" },		/* ipv4_prefix 24 */
	};
	struct fixture fx;
	struct decision d;
	uint64_t t = 5000000;

	(void)state;
	for (size_t p = 0; p < 2; p++) {
		unsigned accepted = 0, partner = 0;
		const char *net = p == 0 ? "2001:db8:1:2::" : "192.0.2.0";
		int netlen = p == 0 ? 64 : 24;

		fx.t = window_create(1000, unit_seed());
		assert_non_null(fx.t);
		policy_init(&fx.p, fx.t, policy_ruleset(mkcfg(&base), narrow_map()));
		for (int i = 0; i < 10; i++) {
			d = decide(&fx, pairs[p][0], t++);
			if (d.kind == DECIDE_ALLOW)
				accepted++;
			assert_int_equal(d.limit, 3);
			d = decide(&fx, pairs[p][1], t++);
			if (d.kind == DECIDE_ALLOW) {
				partner++;
				/* the entry's own key stands for it */
				assert_key(&d, pairs[p][1], pairs[p][1], p == 0 ? 128 : 32);
				assert_int_equal(d.limit, 2000);
			} else {
				/* the client key holds it at the global 3 */
				assert_key(&d, pairs[p][1], net, netlen);
				assert_int_equal(d.limit, 3);
			}
		}
		if (accepted + partner != 3)
			fail_msg("%s alternating with %s: accepted %u + %u of 20, "
			    "limit 3 for both", pairs[p][0], pairs[p][1], accepted,
			    partner);
		assert_int_equal(accepted, 2);
		d = decide(&fx, pairs[p][0], t++);
		assert_int_equal(d.kind, DECIDE_REFUSE);
		assert_key(&d, pairs[p][0], net, netlen);
		fx_free(&fx);
	}
}

/* --- a random mix of addresses and entries against an exact oracle ------- */

struct oentry {
	uint8_t b[16];
	int bits;		/* over 128 bits */
	bool ok;
	uint32_t limit, window_s;
};

struct okey {
	uint8_t b[16];
	int bits;
	uint32_t limit, window_ms;
	uint64_t *log;		/* times counted, oldest first */
	size_t n, cap;
};

static void mask128(uint8_t b[16], int bits)
{
	for (int i = 0; i < 16; i++) {
		int keep = bits - 8 * i;
		b[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
}

static bool covers128(const uint8_t p[16], int bits, const uint8_t a[16])
{
	uint8_t m[16];

	memcpy(m, a, 16);
	mask128(m, bits);
	return memcmp(m, p, 16) == 0;
}

#define NOKEYS 128

static unsigned long mixed_exact, mixed_over, mixed_refused, mixed_multi;

/* The oracle's key at b/bits, made under limit/window_ms if new; the
 * promise that makes the rest hold: one rule per counter key. */
static struct okey *okey_at(struct okey *keys, size_t *nkeys, const uint8_t b[16],
    int bits, uint32_t limit, uint32_t window_ms, uint64_t seed)
{
	struct okey *k = NULL;

	for (size_t i = 0; i < *nkeys; i++)
		if (keys[i].bits == bits && memcmp(keys[i].b, b, 16) == 0)
			k = &keys[i];
	if (k == NULL) {
		assert_true(*nkeys < NOKEYS);
		k = &keys[(*nkeys)++];
		memcpy(k->b, b, 16);
		k->bits = bits;
		k->limit = limit;
		k->window_ms = window_ms;
	}
	if (k->limit != limit || k->window_ms != window_ms)
		fail_msg("seed %llu: counter key /%d meets two rules (%u/%u ms, %u/%u ms)",
		    (unsigned long long)seed, bits, k->limit, k->window_ms, limit,
		    window_ms);
	return k;
}

/*
 * The documented promise, computed the slow way (linear scans): the
 * longest entry over the client (OK: exempt); its own key when it is
 * narrower than the client key (v4 /24, v6 /64 here); then the client key
 * and a section (v4 /16, v6 /48), each under the narrowest entry that
 * covers it whole (OK: not counted), else under its own rule.  Each
 * counter key keeps an exact log of what it counted.  With limits up to
 * 10 the table must agree decision by decision, and the key it names;
 * above, it may let a key through at most g - 1 more in a window and never
 * refuse before some key's `limit` (count_refused off there: which keys a
 * refusal counts in then depends on the table's approximate counts).
 */
static void mixed_trace(uint64_t seed, uint32_t lim_lo, uint32_t lim_hi)
{
	static const char *const pfx[] = {
		"2001:db8:1:2::25/128", "2001:db8:1:2::/120", "2001:db8:1:2::/64",
		"2001:db8:1::/48", "2001:db8:1:3:8000::/65", "192.0.2.5/32",
		"192.0.2.0/28", "192.0.2.0/24", "192.0.0.0/16", "192.0.2.128/25",
		"2001:db8::/32", "192.0.0.0/20",
	};
	static const char *const hosts[] = {
		"2001:db8:1:2::25", "2001:db8:1:2::26", "2001:db8:1:2::99",
		"2001:db8:1:2:ffff::1", "2001:db8:1:3::1", "2001:db8:1:3:8000::7",
		"2001:db8:1:3:ffff::1", "2001:db8:9::1", "192.0.2.5", "192.0.2.6",
		"192.0.2.99", "192.0.2.200", "192.0.3.1", "198.51.100.1",
		"192.0.17.1",
	};
	struct oentry ent[sizeof pfx / sizeof pfx[0]];
	struct okey keys[NOKEYS];
	size_t nent = 0, nkeys = 0;
	struct exempt_builder *b = exempt_builder_new();
	struct cfgspec cs = base;
	struct fixture fx;
	uint64_t rng = seed, now = 1000000;
	unsigned over = 0, exact = 0;
	uint32_t sec_limit[2];
	char extra[128];
	bool exact_mode = lim_hi <= WINDOW_SLOTS;

	assert_non_null(b);
	cs.limit = lim_lo + (unsigned)unit_below(&rng, lim_hi - lim_lo + 1);
	cs.window = 5 + (unsigned)unit_below(&rng, 20);
	cs.cr = exact_mode && unit_below(&rng, 2) == 0;
	for (int f = 0; f < 2; f++)
		sec_limit[f] = lim_lo + (uint32_t)unit_below(&rng, lim_hi - lim_lo + 1);
	snprintf(extra, sizeof extra, "prefix ipv4/16 { limit = %u }\n"
	    "prefix ipv6/48 { limit = %u }\n", sec_limit[0], sec_limit[1]);
	cs.extra = extra;
	for (size_t i = 0; i < sizeof pfx / sizeof pfx[0]; i++) {
		char a[64], *slash;
		struct addr pa;

		if (unit_below(&rng, 3) == 0)
			continue;	/* this entry is not in the map this time */
		snprintf(a, sizeof a, "%s", pfx[i]);
		slash = strchr(a, '/');
		*slash = '\0';
		pa = unit_addr(a);
		memcpy(ent[nent].b, pa.b, 16);
		ent[nent].bits = atoi(slash + 1) + (strchr(a, ':') ? 0 : 96);
		ent[nent].ok = unit_below(&rng, 8) == 0;
		ent[nent].limit = lim_lo + (uint32_t)unit_below(&rng, lim_hi - lim_lo + 1);
		ent[nent].window_s = 1 + (uint32_t)unit_below(&rng, 30);
		ex_add(b, a, atoi(slash + 1), ent[nent].ok ? EXEMPT_OK : EXEMPT_LIMIT,
		    ent[nent].limit, ent[nent].window_s);
		nent++;
	}
	fx.t = window_create(1000, unit_seed());
	assert_non_null(fx.t);
	policy_init(&fx.p, fx.t, policy_ruleset(mkcfg(&cs), exempt_build(b)));
	memset(keys, 0, sizeof keys);

	for (int step = 0; step < 20000; step++) {
		const char *h = hosts[unit_below(&rng, sizeof hosts / sizeof hosts[0])];
		struct addr ha = unit_addr(h);
		bool v4 = strchr(h, ':') == NULL;
		const struct oentry *best = NULL;
		/* the config's keys: the client key, then the section */
		int cbits[2] = { v4 ? 96 + cs.v4 : cs.v6, v4 ? 96 + 16 : 48 };
		uint32_t climit[2] = { cs.limit, sec_limit[v4 ? 0 : 1] };
		struct okey *ck[3];
		uint32_t in[3];
		size_t nck = 0, shown = 3;
		bool want_refuse = false, any_over = false;
		uint8_t db[16];
		struct decision d;

		now += unit_below(&rng, 400);
		for (size_t i = 0; i < nent; i++)
			if (covers128(ent[i].b, ent[i].bits, ha.b) &&
			    (best == NULL || ent[i].bits > best->bits))
				best = &ent[i];
		d = decide(&fx, h, now);
		if (best && best->ok) {
			if (d.kind != DECIDE_EXEMPT)
				fail_msg("seed %llu step %d %s: %s, want EXEMPT",
				    (unsigned long long)seed, step, h, kname(d.kind));
			continue;
		}
		if (best && best->bits > cbits[0] && best->bits != cbits[1])
			ck[nck++] = okey_at(keys, &nkeys, best->b, best->bits,
			    best->limit, best->window_s * 1000u, seed);
		for (int c = 0; c < 2; c++) {
			const struct oentry *by = NULL;
			uint8_t kb[16];

			for (size_t i = 0; i < nent; i++)
				if (ent[i].bits <= cbits[c] &&
				    covers128(ent[i].b, ent[i].bits, ha.b) &&
				    (by == NULL || ent[i].bits > by->bits))
					by = &ent[i];
			if (by && by->ok)
				continue;	/* inside an OK entry: not counted */
			memcpy(kb, ha.b, 16);
			mask128(kb, cbits[c]);
			ck[nck++] = okey_at(keys, &nkeys, kb, cbits[c],
			    by ? by->limit : climit[c],
			    by ? by->window_s * 1000u : cs.window * 1000u, seed);
		}
		assert_true(nck >= 1);
		if (nck > 1)
			mixed_multi++;
		for (size_t j = 0; j < nck; j++) {
			in[j] = 0;
			for (size_t i = 0; i < ck[j]->n; i++)
				if (now - ck[j]->log[i] < ck[j]->window_ms)
					in[j]++;
			if (in[j] >= ck[j]->limit)
				want_refuse = true;
		}
		if (d.kind != DECIDE_ALLOW && d.kind != DECIDE_REFUSE)
			fail_msg("seed %llu step %d %s: %s", (unsigned long long)seed, step, h,
			    kname(d.kind));
		/* the key the decision names, among the client's */
		memcpy(db, d.key.b, 16);
		for (size_t j = 0; j < nck; j++)
			if (ck[j]->bits == (v4 ? 96 : 0) + d.key_plen &&
			    memcmp(ck[j]->b, db, 16) == 0)
				shown = j;
		if (shown == 3)
			fail_msg("seed %llu step %d %s: the decision names a key /%d the "
			    "client does not have", (unsigned long long)seed, step, h,
			    d.key_plen);
		if (exact_mode) {
			uint32_t want = d.kind == DECIDE_REFUSE &&
			    in[shown] + 1 > WINDOW_SLOTS + 1 ? WINDOW_SLOTS + 1 : in[shown] + 1;

			if ((d.kind == DECIDE_REFUSE) != want_refuse || d.count != want ||
			    (d.kind == DECIDE_REFUSE && in[shown] < ck[shown]->limit) ||
			    (d.kind == DECIDE_ALLOW && shown != 0))
				fail_msg("seed %llu step %d %s at %llu: %s count %u by key %zu "
				    "of %zu, oracle %s count %u (limit %u/%ums)",
				    (unsigned long long)seed, step, h, (unsigned long long)now,
				    kname(d.kind), d.count, shown, nck,
				    want_refuse ? "REFUSE" : "ALLOW", want, ck[shown]->limit,
				    ck[shown]->window_ms);
			exact++;
		} else {
			/* never refused before some key's `limit`; never more
			 * than g - 1 over in any key */
			if (d.kind == DECIDE_REFUSE && !want_refuse)
				fail_msg("seed %llu step %d %s: refused under every limit",
				    (unsigned long long)seed, step, h);
			for (size_t j = 0; d.kind == DECIDE_ALLOW && j < nck; j++) {
				uint32_t lim = ck[j]->limit;
				uint32_t g = lim <= WINDOW_SLOTS ? 1 :
				    (lim - 1 + WINDOW_SLOTS - 2) / (WINDOW_SLOTS - 1);

				if (in[j] + 1 > lim + g - 1)
					fail_msg("seed %llu step %d %s: allowed %u in a window, "
					    "limit %u, bound %u", (unsigned long long)seed, step,
					    h, in[j] + 1, lim, lim + g - 1);
				if (in[j] + 1 > lim)
					any_over = true;
			}
			over += any_over;
		}
		if (d.kind == DECIDE_REFUSE)
			mixed_refused++;
		for (size_t j = 0; j < nck; j++) {
			struct okey *k = ck[j];

			/* a refusal counts (count_refused) only where refused */
			if (d.kind != DECIDE_ALLOW && !(cs.cr && in[j] >= k->limit))
				continue;
			if (k->n == k->cap) {
				k->cap = k->cap ? 2 * k->cap : 64;
				k->log = realloc(k->log, k->cap * sizeof *k->log);
				assert_non_null(k->log);
			}
			k->log[k->n++] = now;
		}
	}
	for (size_t i = 0; i < nkeys; i++)
		free(keys[i].log);
	fx_free(&fx);
	mixed_over += over;
	mixed_exact += exact;
}

static void test_mixed_entries_oracle(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 40; seed++)
		mixed_trace(seed, 1, WINDOW_SLOTS);
	for (uint64_t seed = 101; seed <= 120; seed++)
		mixed_trace(seed, 11, 60);
	fprintf(stderr, "# mixed entries: %lu decisions checked exactly, %lu refusals, "
	    "%lu over-admissions within the group bound, %lu with several keys\n",
	    mixed_exact, mixed_refused, mixed_over, mixed_multi);
	/* a trace that never refuses, or never has several keys, proves nothing */
	assert_true(mixed_exact > 100000 && mixed_refused > 10000 && mixed_multi > 10000);
}

static void test_max_window(void **state)
{
	struct fixture fx;
	struct cfgspec s = base;

	(void)state;
	fx_init(&fx, &base, true, 1000);
	/* the map's 7200 s entry is the longest window */
	assert_int_equal(policy_max_window_ms(&fx.p), 7200u * 1000u);
	assert_int_equal(fx.p.rules->max_window_ms, 7200u * 1000u);
	fx_free(&fx);

	fx_init(&fx, &base, false, 1000);
	assert_int_equal(policy_max_window_ms(&fx.p), 60u * 1000u);
	fx_free(&fx);

	s.window = 86400;
	fx_init(&fx, &s, true, 1000);
	assert_int_equal(policy_max_window_ms(&fx.p), 86400u * 1000u);
	fx_free(&fx);
}

static void test_untracked(void **state)
{
	struct fixture fx;
	struct cfgspec s = base;
	struct window_stats ws;
	uint32_t i, untracked = 0, allowed = 0;

	(void)state;
	s.limit = 1;
	fx_init(&fx, &s, false, 1);
	window_stats(fx.t, &ws);
	/* every client at its limit after one connection: the table fills */
	for (i = 0; i < ws.capacity + 1; i++) {
		char ip[32];
		struct decision d;

		snprintf(ip, sizeof(ip), "10.%u.%u.1", (i >> 8) & 255, i & 255);
		d = decide(&fx, ip, 1000 + i);
		if (d.kind == DECIDE_UNTRACKED)
			untracked++;
		else if (d.kind == DECIDE_ALLOW && d.count == 1)
			allowed++;
		else
			fail_msg("%s: %s count %u", ip, kname(d.kind), d.count);
	}
	assert_true(untracked >= 1);
	assert_true(allowed <= ws.capacity);
	assert_int_equal(atomic_load(&fx.p.n.untracked), untracked);
	fx_free(&fx);
}

static void test_reload_keeps_counts(void **state)
{
	struct fixture fx;
	struct cfgspec s = base;
	struct ruleset *r, *old;
	struct exempt_builder *b;

	(void)state;
	fx_init(&fx, &base, false, 1000);
	expect_kind(&fx, "198.51.100.7", 1000, DECIDE_ALLOW, 1);
	expect_kind(&fx, "198.51.100.7", 1001, DECIDE_ALLOW, 2);
	expect_kind(&fx, "198.51.100.7", 1002, DECIDE_ALLOW, 3);
	expect_kind(&fx, "198.51.100.7", 1003, DECIDE_REFUSE, 4);

	/* a higher limit: the counts carry on */
	s.limit = 6;
	r = policy_ruleset(mkcfg(&s), exempt_empty());
	assert_non_null(r);
	old = fx.p.rules;
	assert_ptr_equal(policy_swap(&fx.p, r), old);
	policy_ruleset_free(old);
	expect_kind(&fx, "198.51.100.7", 1004, DECIDE_ALLOW, 5);
	expect_kind(&fx, "198.51.100.7", 1005, DECIDE_ALLOW, 6);
	expect_kind(&fx, "198.51.100.7", 1006, DECIDE_REFUSE, 7);

	/* a map that exempts the client: not counted any more */
	b = exempt_builder_new();
	ex_add(b, "198.51.100.0", 24, EXEMPT_OK, 0, 0);
	r = policy_ruleset(mkcfg(&s), exempt_build(b));
	assert_non_null(r);
	policy_ruleset_free(policy_swap(&fx.p, r));
	{
		struct decision d = decide(&fx, "198.51.100.7", 1007);

		assert_int_equal(d.kind, DECIDE_EXEMPT);
	}
	/* and back without the map: the earlier counts are still there */
	r = policy_ruleset(mkcfg(&s), exempt_empty());
	assert_non_null(r);
	policy_ruleset_free(policy_swap(&fx.p, r));
	expect_kind(&fx, "198.51.100.7", 1008, DECIDE_REFUSE, 8);
	fx_free(&fx);
}


/* ---- several keys per client (prefix sections) ------------------------------ */

static const char *const keys3 =
    "prefix ipv4/24 { limit = 5 }\n"
    "prefix ipv6/48 { limit = 4 }\n"
    "prefix ipv6/128 { limit = 2 }\n";

#define expect_key(fx_, ip_, now_, kind_, count_, key_, plen_, limit_) do { \
	struct decision d_ = decide((fx_), (ip_), (now_));		\
	struct addr k_ = unit_addr(key_);				\
	if (d_.kind != (kind_) || d_.count != (uint32_t)(count_) ||	\
	    memcmp(&d_.key, &k_, sizeof k_) != 0 || d_.key_plen != (plen_) || \
	    d_.limit != (uint32_t)(limit_))				\
		fail_msg("line %d: %s: %s count %u key /%d limit %u, want %s " \
		    "count %u key %s/%d limit %u", __LINE__, (ip_),	\
		    kname(d_.kind), d_.count, d_.key_plen, d_.limit,	\
		    kname(kind_), (unsigned)(count_), (key_), (plen_),	\
		    (unsigned)(limit_));					\
} while (0)

static void test_several_keys_v4(void **state)
{
	struct fixture fx;
	struct cfgspec s = base;
	struct decision d;
	uint64_t t0 = 500000;

	(void)state;
	s.v4 = 32;
	s.extra = keys3;
	fx_init(&fx, &s, true, 1000);
	for (int i = 1; i <= 3; i++)
		expect_key(&fx, "198.51.100.1", t0 + i, DECIDE_ALLOW, i, "198.51.100.1", 32, 3);
	/* the /32 refuses; it was the first at t0+1: back at t0+60001 */
	d = decide(&fx, "198.51.100.1", t0 + 10);
	assert_int_equal(d.kind, DECIDE_REFUSE);
	assert_key(&d, "198.51.100.1", "198.51.100.1", 32);
	assert_int_equal(d.count, 4);
	assert_int_equal(d.retry_s, 60);
	assert_true(d.log_line);
	/* the /24 did not count that refusal: two more pass, the next is
	 * the /24's sixth and is refused by it, named in the decision */
	expect_key(&fx, "198.51.100.2", t0 + 20, DECIDE_ALLOW, 1, "198.51.100.2", 32, 3);
	expect_key(&fx, "198.51.100.3", t0 + 30, DECIDE_ALLOW, 1, "198.51.100.3", 32, 3);
	d = decide(&fx, "198.51.100.4", t0 + 40000);
	assert_int_equal(d.kind, DECIDE_REFUSE);
	assert_key(&d, "198.51.100.4", "198.51.100.0", 24);
	assert_int_equal(d.limit, 5);
	assert_int_equal(d.count, 6);
	assert_int_equal(d.retry_s, 21);	/* t0+1 leaves at t0+60001 */
	assert_true(d.log_line);
	/* one line per key per window: the next refusal by the /24 is counted */
	d = decide(&fx, "198.51.100.5", t0 + 40001);
	assert_int_equal(d.kind, DECIDE_REFUSE);
	assert_key(&d, "198.51.100.5", "198.51.100.0", 24);
	assert_false(d.log_line);
	/* another /24 is untouched */
	expect_key(&fx, "198.51.101.1", t0 + 40002, DECIDE_ALLOW, 1, "198.51.101.1", 32, 3);

	/* an OK entry exempts from every key */
	for (int i = 0; i < 10; i++) {
		d = decide(&fx, "192.0.2.5", t0 + 50000 + i);
		assert_int_equal(d.kind, DECIDE_EXEMPT);
	}
	/* an entry with its own limit (203.0.113.0/24: 2 per 600 s) sets
	 * every key inside it: each /32 and the /24 (the section's 5) get 2 */
	expect_key(&fx, "203.0.113.1", t0 + 60001, DECIDE_ALLOW, 1, "203.0.113.1", 32, 2);
	expect_key(&fx, "203.0.113.1", t0 + 60101, DECIDE_ALLOW, 2, "203.0.113.1", 32, 2);
	d = decide(&fx, "203.0.113.2", t0 + 60500);
	assert_int_equal(d.kind, DECIDE_REFUSE);
	assert_key(&d, "203.0.113.2", "203.0.113.0", 24);
	assert_int_equal(d.limit, 2);
	assert_int_equal(d.window_s, 600);
	assert_int_equal(d.retry_s, 600);
	/* both refuse .1 now; the /24 (also counting .2's refusal) holds it
	 * longest, until t0+60101 leaves it at t0+660101: 599.101 s */
	d = decide(&fx, "203.0.113.1", t0 + 61000);
	assert_int_equal(d.kind, DECIDE_REFUSE);
	assert_key(&d, "203.0.113.1", "203.0.113.0", 24);
	assert_int_equal(d.window_s, 600);
	assert_int_equal(d.retry_s, 600);
	fx_free(&fx);
}

static void test_several_keys_v6(void **state)
{
	struct fixture fx;
	struct cfgspec s = base;
	struct decision d;
	uint64_t t0 = 700000;

	(void)state;
	s.v4 = 32;
	s.extra = keys3;	/* /64 at 3 (the global), /48 at 4, /128 at 2 */
	fx_init(&fx, &s, true, 1000);
	expect_key(&fx, "2001:db8:5:1::1", t0 + 1, DECIDE_ALLOW, 1, "2001:db8:5:1::", 64, 3);
	expect_key(&fx, "2001:db8:5:1::1", t0 + 2, DECIDE_ALLOW, 2, "2001:db8:5:1::", 64, 3);
	expect_key(&fx, "2001:db8:5:1::1", t0 + 3, DECIDE_REFUSE, 3, "2001:db8:5:1::1", 128, 2);
	expect_key(&fx, "2001:db8:5:1::2", t0 + 4, DECIDE_ALLOW, 3, "2001:db8:5:1::", 64, 3);
	expect_key(&fx, "2001:db8:5:1::3", t0 + 5, DECIDE_REFUSE, 4, "2001:db8:5:1::", 64, 3);
	expect_key(&fx, "2001:db8:5:2::1", t0 + 6, DECIDE_ALLOW, 1, "2001:db8:5:2::", 64, 3);
	d = decide(&fx, "2001:db8:5:3::1", t0 + 7);
	assert_int_equal(d.kind, DECIDE_REFUSE);
	assert_key(&d, "2001:db8:5:3::1", "2001:db8:5::", 48);
	assert_int_equal(d.limit, 4);
	assert_int_equal(d.count, 5);
	/* the /48 holds t0+1, +2, +4, +6 and this refusal (count_refused):
	 * under 4 once t0+2 has left, at t0+60002: 59.995 s, rounded up */
	assert_int_equal(d.retry_s, 60);
	expect_key(&fx, "2001:db8:5:3::1", t0 + 60001, DECIDE_REFUSE, 5, "2001:db8:5::", 48, 4);
	/* the refusal at t0+60001 counted too: the next free moment is when
	 * t0+4 leaves */
	expect_key(&fx, "2001:db8:5:3::1", t0 + 60004, DECIDE_ALLOW, 1, "2001:db8:5:3::", 64, 3);
	/* the IPv4 /24 section is not an IPv6 key */
	expect_key(&fx, "2001:db8:6::1", t0 + 60002, DECIDE_ALLOW, 1, "2001:db8:6::", 64, 3);
	fx_free(&fx);
}

/* mode log: the same keys, would-refuse, nothing refused */
static void test_several_keys_mode_log(void **state)
{
	struct fixture fx;
	struct cfgspec s = base;
	struct decision d;

	(void)state;
	s.v4 = 32;
	s.mode = "log";
	s.extra = keys3;
	fx_init(&fx, &s, false, 1000);
	for (int h = 1; h <= 5; h++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "198.51.100.%d", h);
		expect_key(&fx, ip, 1000 + h, DECIDE_ALLOW, 1, ip, 32, 3);
	}
	d = decide(&fx, "198.51.100.6", 1010);
	assert_int_equal(d.kind, DECIDE_WOULD_REFUSE);
	assert_key(&d, "198.51.100.6", "198.51.100.0", 24);
	assert_true(d.log_line);
	assert_int_equal(d.retry_s, 60);
	assert_int_equal(atomic_load(&fx.p.n.refused), 0);
	assert_int_equal(atomic_load(&fx.p.n.would_refuse), 1);
	fx_free(&fx);
}

/* The longest window of every key bounds the table's idle test. */
static void test_several_keys_max_window(void **state)
{
	struct fixture fx;
	struct cfgspec s = base;

	(void)state;
	s.extra = "prefix ipv6/48 { window = 9000 }\n";
	fx_init(&fx, &s, true, 1000);
	assert_int_equal(policy_max_window_ms(&fx.p), 9000u * 1000u);
	fx_free(&fx);
}

static void swap_to(struct fixture *fx, const struct cfgspec *s)
{
	struct ruleset *r = policy_ruleset(mkcfg(s), exempt_empty());

	assert_non_null(r);
	policy_ruleset_free(policy_swap(&fx->p, r));
}

/* A reload keeps the counts of every key whose (family, length) is still
 * configured; a new length starts from nothing; a removed one is no
 * longer consulted, and its counts are there again if it comes back
 * within its window. */
static void test_several_keys_reload(void **state)
{
	struct fixture fx;
	struct cfgspec a = base, b = base, c = base;

	(void)state;
	a.v4 = b.v4 = c.v4 = 32;
	a.limit = b.limit = c.limit = 10;
	a.extra = "prefix ipv4/24 { limit = 4 }\n";
	b.extra = "prefix ipv4/24 { limit = 6 }\nprefix ipv4/16 { limit = 2 }\n";
	c.extra = NULL;
	fx_init(&fx, &a, false, 1000);
	for (int h = 1; h <= 4; h++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "198.51.100.%d", h);
		expect_key(&fx, ip, 1000 + h, DECIDE_ALLOW, 1, ip, 32, 10);
	}
	/* refused by the /24 and counted there (count_refused): 5 */
	expect_key(&fx, "198.51.100.9", 1010, DECIDE_REFUSE, 5, "198.51.100.0", 24, 4);

	/* b: the /24 keeps its 5 (limit now 6); the new /16 starts at 0 */
	swap_to(&fx, &b);
	expect_key(&fx, "198.51.100.9", 1020, DECIDE_ALLOW, 1, "198.51.100.9", 32, 10);
	expect_key(&fx, "198.51.100.8", 1021, DECIDE_REFUSE, 7, "198.51.100.0", 24, 6);
	expect_key(&fx, "198.51.7.1", 1022, DECIDE_ALLOW, 1, "198.51.7.1", 32, 10);
	expect_key(&fx, "198.51.7.2", 1023, DECIDE_REFUSE, 3, "198.51.0.0", 16, 2);

	/* c: no sections; only the /32s (.8's refusal was not counted in
	 * its /32, which let it through) */
	swap_to(&fx, &c);
	expect_key(&fx, "198.51.100.8", 1030, DECIDE_ALLOW, 1, "198.51.100.8", 32, 10);
	expect_key(&fx, "198.51.7.3", 1031, DECIDE_ALLOW, 1, "198.51.7.3", 32, 10);

	/* a again: the /24's 7 were kept */
	swap_to(&fx, &a);
	expect_key(&fx, "198.51.100.7", 1040, DECIDE_REFUSE, 8, "198.51.100.0", 24, 4);
	fx_free(&fx);
}

static void test_reply_text(void **state)
{
	struct fixture fx;
	struct cfgspec s = base;
	char buf[64], small[6];

	(void)state;
	s.reply = "50% off, 100% sure";
	fx_init(&fx, &s, false, 1000);
	policy_reply_text(&fx.p, 7, buf, sizeof(buf));
	assert_string_equal(buf, "50%% off, 100%% sure");
	memset(small, 'Z', sizeof(small));
	policy_reply_text(&fx.p, 7, small, 4);
	assert_non_null(memchr(small, '\0', 4));
	assert_int_equal(small[4], 'Z');
	fx_free(&fx);
}

static void test_kind_names(void **state)
{
	static const enum decision_kind kinds[] = {
		DECIDE_NOADDR, DECIDE_EXEMPT, DECIDE_ALLOW, DECIDE_UNTRACKED,
		DECIDE_REFUSE, DECIDE_WOULD_REFUSE,
	};
	size_t i, j;

	(void)state;
	assert_string_equal(policy_kind_name(DECIDE_REFUSE), "refused");
	assert_string_equal(policy_kind_name(DECIDE_ALLOW), "allowed");
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const char *n = policy_kind_name(kinds[i]);

		assert_non_null(n);
		assert_true(n[0] != '\0');
		for (j = 0; j < i; j++)
			assert_string_not_equal(n, policy_kind_name(kinds[j]));
	}
}

/* ---- reloads under load --------------------------------------------------- */

struct racer {
	struct policy *p;
	_Atomic bool *stop;
	uint64_t seed, decisions, bad;
};

static void *race_worker(void *arg)
{
	struct racer *me = arg;
	uint64_t rng = me->seed, now = 1000;

	while (!atomic_load(me->stop)) {
		struct sockaddr_storage ss;
		struct decision d;
		char ip[64];
		uint32_t n = (uint32_t)unit_below(&rng, 4000);

		if (n % 2)
			snprintf(ip, sizeof(ip), "198.51.%u.%u", (n >> 8) & 255, n & 255);
		else
			snprintf(ip, sizeof(ip), "2001:db8:%x::1", n);
		policy_decide(me->p, unit_sockaddr(&ss, ip, 25), now++, &d);
		if (d.kind != DECIDE_ALLOW && d.kind != DECIDE_REFUSE &&
		    d.kind != DECIDE_WOULD_REFUSE && d.kind != DECIDE_EXEMPT &&
		    d.kind != DECIDE_UNTRACKED)
			me->bad++;
		if ((d.kind == DECIDE_REFUSE || d.kind == DECIDE_WOULD_REFUSE) &&
		    d.count <= d.limit)
			me->bad++;
		me->decisions++;
	}
	return NULL;
}

static void test_swap_under_load(void **state)
{
	struct fixture fx;
	struct racer r[3];
	pthread_t tid[3];
	_Atomic bool stop;
	int i, k;

	(void)state;
	atomic_init(&stop, false);
	fx_init(&fx, &base, true, 2000);
	memset(r, 0, sizeof(r));
	for (i = 0; i < 3; i++) {
		r[i].p = &fx.p;
		r[i].stop = &stop;
		r[i].seed = 500 + (uint64_t)i;
		assert_int_equal(pthread_create(&tid[i], NULL, race_worker, &r[i]), 0);
	}
	/* swap and free at once: the header promises nobody still uses
	 * the old rules (ASan/TSan would see it) */
	for (k = 0; k < 60; k++) {
		struct cfgspec s = base;
		struct ruleset *nr;

		s.limit = 1 + (unsigned)k % 7;
		s.mode = k % 2 ? "log" : "enforce";
		nr = policy_ruleset(mkcfg(&s), k % 3 ? mkexempt() : exempt_empty());
		assert_non_null(nr);
		policy_ruleset_free(policy_swap(&fx.p, nr));
	}
	atomic_store(&stop, true);
	for (i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		assert_int_equal(r[i].bad, 0);
	}
	fx_free(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_address),
		cmocka_unit_test(test_exempt_ok),
		cmocka_unit_test(test_v4_counting_and_refusal),
		cmocka_unit_test(test_v6_counting),
		cmocka_unit_test(test_full_length_prefixes),
		cmocka_unit_test(test_mode_log),
		cmocka_unit_test(test_concurrent_totals),
		cmocka_unit_test(test_count_refused_false),
		cmocka_unit_test(test_stage_helo),
		cmocka_unit_test(test_per_client_limit),
		cmocka_unit_test(test_narrow_entry_alternation),
		cmocka_unit_test(test_mixed_entries_oracle),
		cmocka_unit_test(test_max_window),
		cmocka_unit_test(test_untracked),
		cmocka_unit_test(test_reload_keeps_counts),
		cmocka_unit_test(test_several_keys_v4),
		cmocka_unit_test(test_several_keys_v6),
		cmocka_unit_test(test_several_keys_mode_log),
		cmocka_unit_test(test_several_keys_max_window),
		cmocka_unit_test(test_several_keys_reload),
		cmocka_unit_test(test_reply_text),
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_swap_under_load),
	};

	return cmocka_run_group_tests_name("policy", tests, unit_tmp_setup, unit_tmp_teardown);
}
