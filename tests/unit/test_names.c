/*
 * test_names.c: name keys of the map (names.h, mapentry.h), the client's
 * verified name, the suffix index against a brute-force oracle, and the
 * precedence of address and name entries in the connect decision.
 */
#include "unit.h"

#include <fcntl.h>

#include "config.h"
#include "exempt.h"
#include "mapentry.h"
#include "names.h"
#include "log.h"
#include "policy.h"
#include "report.h"
#include "window.h"

/* ---- map keys ------------------------------------------------------------- */

static void key_ok(const char *in, const char *want)
{
	char out[NAMES_STRLEN], err[300];

	if (!names_is_name_key(in))
		fail_msg("\"%s\" not taken as a name", in);
	if (!names_parse_key(in, out, err, sizeof(err)))
		fail_msg("\"%s\" refused: %s", in, err);
	if (strcmp(out, want) != 0)
		fail_msg("\"%s\" -> \"%s\", want \"%s\"", in, out, want);
}

static void key_bad(const char *in, const char *want_in_err)
{
	char out[NAMES_STRLEN], err[300] = "";

	if (names_parse_key(in, out, err, sizeof(err)))
		fail_msg("\"%s\" accepted as \"%s\"", in, out);
	if (strstr(err, want_in_err) == NULL)
		fail_msg("\"%s\": error \"%s\" lacks \"%s\"", in, err, want_in_err);
}

static void test_parse_key(void **state)
{
	char l63[64], l64[65], long253[300], long254[300];

	(void)state;
	key_ok("partner.example", "partner.example");
	key_ok("MX1.Partner.Example", "mx1.partner.example");
	key_ok("mx1.partner.example.", "mx1.partner.example");
	key_ok("xn--bcher-kva.example", "xn--bcher-kva.example");
	key_ok("a-b.c-d.example", "a-b.c-d.example");
	key_ok("1.2.3.example", "1.2.3.example");
	key_ok("123.example4", "123.example4");

	key_bad(".partner.example", "leading dot");
	key_bad("partner..example", "empty label");
	key_bad("partner.example..", "empty label");
	key_bad("partner", "single label");
	key_bad("partner.", "single label");
	key_bad("under_score.example", "'_' is not allowed");
	key_bad("sp ace.example", "' ' is not allowed");
	key_bad("b\xc3\xbc" "cher.example", "xn--");
	key_bad("tab\t.example", "not allowed");
	key_bad("-lead.example", "hyphen");
	key_bad("trail-.example", "hyphen");
	key_bad("partner.example-", "hyphen");
	key_bad("x.123", "neither an address nor a name");

	memset(l63, 'a', 63);
	l63[63] = '\0';
	memset(l64, 'a', 64);
	l64[64] = '\0';
	snprintf(long253, sizeof(long253), "%s.%s.%s.%.61s", l63, l63, l63, l63);
	assert_int_equal(strlen(long253), 253);
	key_ok(long253, long253);
	snprintf(long254, sizeof(long254), "%s.%s.%s.%.62s", l63, l63, l63, l63);
	key_bad(long254, "longer than 253");
	{
		char k[100];
		snprintf(k, sizeof(k), "%s.example", l64);
		key_bad(k, "longer than 63");
		snprintf(k, sizeof(k), "%s.example", l63);
		key_ok(k, k);
	}

	/* What the map reads as an address, not a name. */
	assert_false(names_is_name_key("192.0.2.1"));
	assert_false(names_is_name_key("192.0.2"));
	assert_false(names_is_name_key("2001:db8::1"));
	assert_false(names_is_name_key("10.0.0.0/8"));
	assert_false(names_is_name_key("feed::/16"));
	assert_true(names_is_name_key("feed.example"));
}

static void test_mapentry_names(void **state)
{
	struct map_entry a, b, c;
	char err[300], key[MAPENTRY_KEY_STRLEN];

	(void)state;
	assert_int_equal(mapentry_parse_line("Partner.Example.\tok\n", &a, err,
	    sizeof(err)), 1);
	assert_non_null(a.name);
	assert_int_equal(a.plen, -1);
	assert_int_equal(a.value.kind, EXEMPT_OK);
	mapentry_format_key(key, sizeof(key), &a);
	assert_string_equal(key, "partner.example");

	assert_int_equal(mapentry_parse_line("partner.example 10/1h", &b, err,
	    sizeof(err)), 1);
	assert_true(mapentry_same_key(&a, &b));
	assert_int_equal(mapentry_cmp(&a, &b), 0);

	/* An address and a name never share a key; addresses sort first,
	 * even ::/0, whose bytes and length a name's zeroed fields resemble. */
	assert_int_equal(mapentry_parse_line("::/0 OK", &c, err, sizeof(err)), 1);
	assert_null(c.name);
	assert_false(mapentry_same_key(&a, &c));
	assert_true(mapentry_cmp(&c, &a) < 0);
	assert_true(mapentry_cmp(&a, &c) > 0);

	/* A bad value frees the name it parsed (ASan would say). */
	assert_int_equal(mapentry_parse_line("other.example 0/1h", &c, err,
	    sizeof(err)), -1);
	assert_int_equal(mapentry_parse_line("bad_name.example OK", &c, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "'_'"));
	mapentry_free(&a);
	mapentry_free(&b);
	assert_null(a.name);
}

/* ---- the client's name -------------------------------------------------- */

static void verified_is(const char *host, const char *resolve,
    enum names_status want, const char *want_name)
{
	char out[NAMES_STRLEN];
	enum names_status st;

	memset(out, 'x', sizeof(out));
	st = names_verified(host, resolve, out);
	if (st != want)
		fail_msg("host \"%s\" resolve %s: status %d, want %d", host ? host : "NULL",
		    resolve ? resolve : "NULL", (int)st, (int)want);
	if (want == NAMES_VERIFIED && strcmp(out, want_name) != 0)
		fail_msg("host \"%s\": name \"%s\", want \"%s\"", host, out, want_name);
}

static void test_verified(void **state)
{
	(void)state;
	/* What both MTAs send for a forward-confirmed name. */
	verified_is("mx1.partner.example", "OK", NAMES_VERIFIED, "mx1.partner.example");
	verified_is("MX1.Partner.Example.", "OK", NAMES_VERIFIED, "mx1.partner.example");
	/* sendmail: a PTR name that does not resolve back is still passed
	 * as the hostname, with {client_resolve} FORGED. */
	verified_is("mx1.partner.example", "FORGED", NAMES_UNVERIFIED, NULL);
	verified_is("mx1.partner.example", "TEMP", NAMES_UNVERIFIED, NULL);
	verified_is("mx1.partner.example", "FAIL", NAMES_UNVERIFIED, NULL);
	verified_is("mx1.partner.example", "ok", NAMES_UNVERIFIED, NULL);
	verified_is("mx1.partner.example", "", NAMES_UNVERIFIED, NULL);
	/* The macro not sent (an MTA that ignored our list): no name. */
	verified_is("mx1.partner.example", NULL, NAMES_UNVERIFIED, NULL);
	/* Literals: sendmail IPv4 and IPv6, Postfix IPv6 (no tag). */
	verified_is("[192.0.2.1]", "OK", NAMES_NONE, NULL);
	verified_is("[IPv6:2001:db8::1]", "OK", NAMES_NONE, NULL);
	verified_is("[2001:db8::1]", "OK", NAMES_NONE, NULL);
	verified_is("", "OK", NAMES_NONE, NULL);
	verified_is(NULL, "OK", NAMES_NONE, NULL);
	/* Not host names at all. */
	verified_is("localhost", "OK", NAMES_INVALID, NULL);
	verified_is("192.0.2.1", "OK", NAMES_INVALID, NULL);
	verified_is("evil\n.example", "OK", NAMES_INVALID, NULL);
	verified_is("a%n.example", "OK", NAMES_INVALID, NULL);
	verified_is("mx1.partner.example]", "OK", NAMES_INVALID, NULL);
	{
		char big[400];
		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		for (size_t i = 60; i < sizeof(big) - 1; i += 61)
			big[i] = '.';
		verified_is(big, "OK", NAMES_INVALID, NULL);
	}
}

/* ---- the index ------------------------------------------------------------ */

/* The oracle: the longest entry equal to name or a parent domain of it. */
static long oracle(char names[][NAMES_STRLEN], size_t n, const char *name)
{
	long best = -1;
	size_t bestlen = 0, nl = strlen(name);

	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]);
		bool covers = l == nl ? strcmp(names[i], name) == 0 :
		    l < nl && name[nl - l - 1] == '.' && strcmp(name + nl - l, names[i]) == 0;
		if (covers && (best < 0 || l > bestlen)) {
			/* The first of duplicates wins, as in the index. */
			best = (long)i;
			bestlen = l;
		}
	}
	return best;
}

static void test_index_oracle(void **state)
{
	static const char *labels[] = { "a", "b", "mx", "partner", "example", "org", "x-y" };
	static char names[40][NAMES_STRLEN];
	const char *ptrs[40];
	uint32_t values[40];
	uint64_t rng = 11;

	(void)state;
	for (int round = 0; round < 200; round++) {
		size_t n = (size_t)unit_below(&rng, 40);
		struct names_index *x;

		for (size_t i = 0; i < n; i++) {
			int k = 2 + (int)unit_below(&rng, 3);
			names[i][0] = '\0';
			for (int j = 0; j < k; j++) {
				if (j)
					strcat(names[i], ".");
				strcat(names[i], labels[unit_below(&rng, 7)]);
			}
			ptrs[i] = names[i];
			values[i] = (uint32_t)i + 1;
		}
		x = names_index_build(ptrs, values, sizeof(values[0]), n);
		assert_non_null(x);
		for (int q = 0; q < 60; q++) {
			char name[NAMES_STRLEN] = "";
			int k = 1 + (int)unit_below(&rng, 5);
			uint32_t got = 0;
			const char *hit;
			long want;

			for (int j = 0; j < k; j++) {
				if (j)
					strcat(name, ".");
				strcat(name, labels[unit_below(&rng, 7)]);
			}
			want = oracle(names, n, name);
			hit = names_index_lookup(x, name, &got);
			if (want < 0) {
				if (hit != NULL)
					fail_msg("round %d: %s matched %s, want none", round, name, hit);
				continue;
			}
			if (hit == NULL || strcmp(hit, names[want]) != 0)
				fail_msg("round %d: %s matched %s, want %s", round, name,
				    hit ? hit : "none", names[want]);
			/* The value of the first entry with that name. */
			for (size_t i = 0; i < n; i++)
				if (strcmp(names[i], names[want]) == 0) {
					assert_int_equal(got, values[i]);
					break;
				}
		}
		names_index_free(x);
	}
}

static void test_index_edges(void **state)
{
	const char *n[] = { "partner.example", "mx1.partner.example", "example.org" };
	uint32_t v[] = { 1, 2, 3 }, got;
	struct names_index *x;

	(void)state;
	x = names_index_build(n, v, sizeof(v[0]), 3);
	assert_non_null(x);
	assert_int_equal(names_index_count(x), 3);
	assert_string_equal(names_index_lookup(x, "a.b.mx1.partner.example", &got),
	    "mx1.partner.example");
	assert_int_equal(got, 2);
	assert_string_equal(names_index_lookup(x, "mx2.partner.example", &got),
	    "partner.example");
	/* Label boundaries only: "xpartner.example" is not under it. */
	assert_null(names_index_lookup(x, "xpartner.example", NULL));
	assert_null(names_index_lookup(x, "example", NULL));
	assert_null(names_index_lookup(x, "org", NULL));
	assert_null(names_index_lookup(x, "partner.example.net", NULL));
	names_index_free(x);

	/* An empty index finds nothing. */
	x = names_index_build(NULL, NULL, sizeof(v[0]), 0);
	assert_non_null(x);
	assert_null(names_index_lookup(x, "partner.example", NULL));
	names_index_free(x);
}

/* ---- precedence in the decision ------------------------------------------ */

struct fixture {
	struct policy p;
	struct window_table *t;
};

/* Limit 3 per 60 s, ipv4 /32, ipv6 /64, and the map:
 *   192.0.2.0/24      5/1m   (an address entry with its own limit)
 *   192.0.2.9         OK
 *   partner.example   OK
 *   mx1.partner.example 2/1m
 *   slow.example      4/1m */
static void fx_init(struct fixture *fx)
{
	char path[PATH_MAX];
	struct exempt_builder *b = exempt_builder_new();
	struct exempt_value ok = { .kind = EXEMPT_OK };
	struct exempt_value l5 = { .kind = EXEMPT_LIMIT, .limit = 5, .window_s = 60 };
	struct exempt_value l2 = { .kind = EXEMPT_LIMIT, .limit = 2, .window_s = 60 };
	struct exempt_value l4 = { .kind = EXEMPT_LIMIT, .limit = 4, .window_s = 60 };
	struct addr net = unit_addr("192.0.2.0"), host = unit_addr("192.0.2.9");
	struct config *c;

	unit_path(path, sizeof(path), unit_tmp(), "n.conf");
	unit_write_file(path, "limit = 3\nwindow = 60\nipv4_prefix = 32\n"
	    "ipv6_prefix = 64\nmax_clients = 1000\n");
	c = config_load(path, unit_config_report);
	assert_non_null(c);
	assert_non_null(b);
	assert_true(exempt_builder_add(b, &net, 24, &l5));
	assert_true(exempt_builder_add(b, &host, 32, &ok));
	assert_true(exempt_builder_add_name(b, "partner.example", &ok));
	assert_true(exempt_builder_add_name(b, "mx1.partner.example", &l2));
	assert_true(exempt_builder_add_name(b, "slow.example", &l4));
	fx->t = window_create(1000, unit_seed());
	assert_non_null(fx->t);
	policy_init(&fx->p, fx->t, policy_ruleset(c, exempt_build(b)));
}

static void fx_free(struct fixture *fx)
{
	policy_destroy(&fx->p);
	window_destroy(fx->t);
}

static struct decision decide(struct fixture *fx, const char *ip,
    const char *host, const char *resolve, uint64_t now)
{
	struct sockaddr_storage ss;
	struct policy_conn c = { unit_sockaddr(&ss, ip, 25), host, resolve, NULL };
	struct decision d;

	memset(&d, 0xee, sizeof(d));
	policy_decide_conn(&fx->p, &c, now, &d);
	return d;
}

/* n connections from ip named host at now; the kinds, as letters. */
static void run(struct fixture *fx, const char *ip, const char *host,
    const char *resolve, int n, uint64_t now, const char *want)
{
	char got[64] = "";

	for (int i = 0; i < n; i++) {
		struct decision d = decide(fx, ip, host, resolve, now + (uint64_t)i);
		strcat(got, d.kind == DECIDE_EXEMPT ? "E" : d.kind == DECIDE_ALLOW ? "A" :
		    d.kind == DECIDE_REFUSE ? "R" : "?");
	}
	if (strcmp(got, want) != 0)
		fail_msg("%s %s (%s): got %s, want %s", ip, host ? host : "-",
		    resolve ? resolve : "-", got, want);
}

static void test_precedence(void **state)
{
	struct fixture fx;
	struct decision d;

	(void)state;
	fx_init(&fx);
	/* A verified name under partner.example: exempt, whatever the count. */
	run(&fx, "198.51.100.1", "mx2.partner.example", "OK", 6, 1000, "EEEEEE");
	d = decide(&fx, "198.51.100.1", "MX2.partner.example.", "OK", 2000);
	assert_int_equal(d.kind, DECIDE_EXEMPT);
	assert_true(d.by_name);
	assert_string_equal(d.entry_name, "partner.example");
	/* The longest name wins: mx1's own limit of 2. */
	run(&fx, "198.51.100.2", "a.mx1.partner.example", "OK", 3, 1000, "AAR");
	d = decide(&fx, "198.51.100.2", "mx1.partner.example", "OK", 1500);
	assert_string_equal(d.entry_name, "mx1.partner.example");
	assert_int_equal(d.limit, 2);
	/* An address entry comes first: 192.0.2.0/24 5/1m over partner's OK,
	 * and 192.0.2.9 OK over mx1's limit. */
	run(&fx, "192.0.2.1", "mx2.partner.example", "OK", 6, 1000, "AAAAAR");
	d = decide(&fx, "192.0.2.1", "mx2.partner.example", "OK", 1500);
	assert_false(d.by_name);
	run(&fx, "192.0.2.9", "mx1.partner.example", "OK", 4, 1000, "EEEE");
	/* Not verified, or no name: the global rule (limit 3). */
	run(&fx, "198.51.100.3", "mx2.partner.example", "FORGED", 4, 1000, "AAAR");
	run(&fx, "198.51.100.4", "mx2.partner.example", NULL, 4, 1000, "AAAR");
	run(&fx, "198.51.100.5", "[198.51.100.5]", "OK", 4, 1000, "AAAR");
	run(&fx, "2001:db8::5", "[IPv6:2001:db8::5]", "OK", 4, 1000, "AAAR");
	run(&fx, "2001:db8:1::5", "[2001:db8:1::5]", "OK", 4, 1000, "AAAR");
	run(&fx, "2001:db8:2::5", "mx2.partner.example", "OK", 4, 1000, "EEEE");
	d = decide(&fx, "198.51.100.3", "mx2.partner.example", "FORGED", 1500);
	assert_int_equal(d.name_status, NAMES_UNVERIFIED);
	fx_free(&fx);
}

/* The same client key under a name's limit and under the global rule
 * keeps two counts: switching between them restarts neither. */
static void test_counted_apart(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx);
	/* slow.example: 4 per minute; the global rule: 3. */
	run(&fx, "198.51.100.7", "h.slow.example", "OK", 2, 1000, "AA");
	run(&fx, "198.51.100.7", "h.slow.example", "FORGED", 3, 2000, "AAA");
	run(&fx, "198.51.100.7", "h.slow.example", "OK", 3, 3000, "AAR");
	run(&fx, "198.51.100.7", NULL, NULL, 1, 4000, "R");
	/* Another host under the same entry has its own count. */
	run(&fx, "198.51.100.8", "h.slow.example", "OK", 4, 5000, "AAAA");
	fx_free(&fx);
}

/* What fn logs, through stderr into buf. */
static void captured(char *buf, size_t len, void (*fn)(void *), void *arg)
{
	char path[PATH_MAX];
	int fd, saved;
	FILE *f;
	size_t n;

	unit_path(path, sizeof(path), unit_tmp(), "log.txt");
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	dup2(fd, 2);
	close(fd);
	fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

struct dues {
	struct window_due due[8];
	size_t n;
};

static void keep_due(const struct window_due *due, void *arg)
{
	struct dues *d = arg;

	if (d->n < 8)
		d->due[d->n++] = *due;
}

static void log_dues(void *arg)
{
	struct dues *d = arg;

	for (size_t i = 0; i < d->n; i++)
		report_due(&d->due[i], NULL);
}

/* A client refused under a name entry's limit: its unlogged refusals
 * come back from the table under the name-entry key, and the summary
 * line says so rather than printing the hash as an address. */
static void test_summary_of_name_key(void **state)
{
	struct fixture fx;
	struct dues d = { .n = 0 };
	char buf[2048];

	(void)state;
	log_init("test", 1, 0);
	log_setlevel(LOG_LEVEL_INFO);
	fx_init(&fx);
	/* mx1.limited: 2 per minute; 3 more are refused, 2 of them unlogged. */
	run(&fx, "198.51.100.9", "mx1.partner.example", "OK", 5, 1000, "AARRR");
	policy_sweep(&fx.p, 1000 + 61000, 1024, keep_due, &d);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.due[0].key.plen, NAMES_KEY_PLEN);
	assert_int_equal(d.due[0].suppressed, 2);
	captured(buf, sizeof(buf), log_dues, &d);
	if (strstr(buf, "refused-summary key=name-entry suppressed=2") == NULL)
		fail_msg("summary line: %s", buf);
	fx_free(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_key),
		cmocka_unit_test(test_mapentry_names),
		cmocka_unit_test(test_verified),
		cmocka_unit_test(test_index_oracle),
		cmocka_unit_test(test_index_edges),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_counted_apart),
		cmocka_unit_test(test_summary_of_name_key),
	};

	return cmocka_run_group_tests_name("names", tests, unit_tmp_setup, unit_tmp_teardown);
}
