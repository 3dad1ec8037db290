/*
 * fuzz_names.c: name keys of the map and the client names they are
 * matched against (names.h), through to the connect decision.
 *
 * The input is text: lines up to a line "--" are map keys, the lines
 * after it are clients, "HOSTNAME<TAB>RESOLVE" (RESOLVE absent: the
 * macro was not sent).  Checked:
 *   - a key either parses (names_parse_key) to a canonical name (lower
 *     case, no trailing dot, at most 253 characters, two labels or more)
 *     that parses back to itself, or fails with a terminated reason;
 *     mapentry_parse_key agrees for keys read as names, and its
 *     canonical text is the same;
 *   - a client name counts (NAMES_VERIFIED) only with RESOLVE "OK" and a
 *     hostname that is not a bracketed literal, and then it is canonical;
 *   - the index answers every lookup (the client's name and each of its
 *     parent domains) as a brute-force longest-suffix search over the
 *     accepted keys does, the first of duplicates winning;
 *   - the decision for a client outside every address entry is made by
 *     the name entry the oracle names, if the name counts, and by none
 *     otherwise; inside the address entry the address entry decides;
 *     report_decision writes its line without crashing.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "fuzz.h"
#include "config.h"
#include "exempt.h"
#include "log.h"
#include "mapentry.h"
#include "names.h"
#include "policy.h"
#include "report.h"
#include "window.h"

#define MAX_KEYS 64

static struct config *cfg;
static struct window_table *table;
static FILE *quiet;

static void
config_error(const char *line)
{
	dprintf(2, "fuzz_names: fixed config: %s\n", line);
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char text[] = "limit = 2\nwindow = 60\n";
	static const uint8_t seed[16] = "fuzz-names-seed";

	(void)argc;
	(void)argv;
	cfg = config_parse_text("fuzz.conf", text, strlen(text), config_error);
	CHECK(cfg != NULL, "config");
	CHECK((table = window_create(1000, seed)) != NULL, "window_create");
	log_init("fuzz", 1, 0);
	CHECK((quiet = fopen("/dev/null", "w")) != NULL, "/dev/null");
	stderr = quiet;
	return 0;
}

static void
check_key(const char *k)
{
	char out[NAMES_STRLEN], again[NAMES_STRLEN], err[400], key[MAPENTRY_KEY_STRLEN];
	struct map_entry e;
	bool ok, eok;

	sentinel_fill(err, sizeof err);
	ok = names_parse_key(k, out, err, sizeof err);
	if (!ok) {
		CHECK(terminated_within(err, sizeof err) && err[0] != '\0',
		    "\"%.60s\": no reason", k);
	} else {
		size_t n = strlen(out);

		CHECK(n >= 3 && n <= NAMES_MAX, "\"%.60s\": canonical length %zu", k, n);
		CHECK(out[n - 1] != '.' && strchr(out, '.') != NULL,
		    "\"%.60s\": canonical \"%s\"", k, out);
		for (size_t i = 0; i < n; i++)
			CHECK(!(out[i] >= 'A' && out[i] <= 'Z'), "upper case in \"%s\"", out);
		CHECK(names_is_name_key(out), "\"%s\" not read as a name", out);
		CHECK(names_parse_key(out, again, err, sizeof err) &&
		    strcmp(again, out) == 0, "\"%s\" does not parse back", out);
	}
	if (!names_is_name_key(k))
		return;
	eok = mapentry_parse_key(k, &e, err, sizeof err);
	CHECK(eok == ok, "\"%.60s\": mapentry_parse_key %d, names_parse_key %d", k, eok, ok);
	if (eok) {
		CHECK(e.name != NULL && e.plen == -1, "a name entry without its name");
		mapentry_format_key(key, sizeof key, &e);
		CHECK(strcmp(key, out) == 0, "format \"%s\" vs \"%s\"", key, out);
		mapentry_free(&e);
	}
}

/* The oracle: the first accepted key of the greatest length that is the
 * name or a parent domain of it; -1 for none. */
static long
oracle(char keys[][NAMES_STRLEN], size_t n, const char *name)
{
	size_t nl = strlen(name), bestlen = 0;
	long best = -1;

	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(keys[i]);
		bool covers = (l == nl && strcmp(keys[i], name) == 0) ||
		    (l < nl && name[nl - l - 1] == '.' && strcmp(name + nl - l, keys[i]) == 0);
		if (covers && l > bestlen) {
			best = (long)i;
			bestlen = l;
		}
	}
	return best;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char keys[MAX_KEYS][NAMES_STRLEN];
	const char *ptrs[MAX_KEYS];
	struct exempt_value vals[MAX_KEYS];
	char *text = cstring(data, size), *save = NULL, *line;
	struct exempt_builder *b = exempt_builder_new();
	struct names_index *x;
	struct exempt *ex;
	struct policy p;
	size_t n = 0;
	bool clients = false;
	struct addr net;

	CHECK(b != NULL, "exempt_builder_new");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char err[400];

		if (!clients) {
			if (strcmp(line, "--") == 0) {
				clients = true;
				break;
			}
			check_key(line);
			if (n < MAX_KEYS && names_parse_key(line, keys[n], err, sizeof err)) {
				memset(&vals[n], 0, sizeof vals[n]);
				/* Odd keys exempt, even ones a limit of their own. */
				vals[n].kind = n % 2 ? EXEMPT_OK : EXEMPT_LIMIT;
				vals[n].limit = vals[n].kind == EXEMPT_LIMIT ? 1 + (uint32_t)n : 0;
				vals[n].window_s = vals[n].kind == EXEMPT_LIMIT ? 60 : 0;
				ptrs[n] = keys[n];
				CHECK(exempt_builder_add_name(b, keys[n], &vals[n]), "add_name");
				n++;
			}
		}
	}
	x = names_index_build(ptrs, vals, sizeof vals[0], n);
	CHECK(x != NULL, "names_index_build");
	memset(net.b, 0, sizeof net.b);
	net.b[10] = net.b[11] = 0xff;
	net.b[12] = 192;
	net.b[14] = 2;
	{
		struct exempt_value ok = { .kind = EXEMPT_OK };
		CHECK(exempt_builder_add(b, &net, 24, &ok), "exempt_builder_add");
	}
	CHECK((ex = exempt_build(b)) != NULL, "exempt_build");
	CHECK(exempt_count(ex) == names_index_count(x) + 1, "exempt_count");
	/* The ruleset takes a copy of the config: cfg stays ours. */
	policy_init(&p, table, policy_ruleset(config_dup(cfg), ex));
	CHECK(p.rules != NULL && p.rules->cfg != NULL, "policy_ruleset");

	for (; clients && (line = strtok_r(NULL, "\n", &save)) != NULL; ) {
		char name[NAMES_STRLEN], *tab = strchr(line, '\t');
		const char *resolve = NULL;
		enum names_status st;
		struct sockaddr_in sin;
		struct policy_conn c;
		struct decision d;
		long want;

		if (tab) {
			*tab = '\0';
			resolve = tab + 1;
		}
		memset(name, 0x5a, sizeof name);
		st = names_verified(line, resolve, name);
		if (line[0] == '[' || line[0] == '\0')
			CHECK(st == NAMES_NONE, "\"%.60s\": status %d for a literal", line, (int)st);
		if (st == NAMES_VERIFIED) {
			char again[NAMES_STRLEN], err[400];
			CHECK(resolve != NULL && strcmp(resolve, "OK") == 0,
			    "verified without OK: \"%.60s\"", line);
			CHECK(names_parse_key(name, again, err, sizeof err) &&
			    strcmp(again, name) == 0, "verified name \"%s\" not canonical", name);
		}

		/* The index, for the name and each parent. */
		if (st == NAMES_VERIFIED) {
			for (const char *s = name; s; s = strchr(s, '.') ? strchr(s, '.') + 1 : NULL) {
				struct exempt_value v;
				const char *hit = names_index_lookup(x, s, &v);
				want = oracle(keys, n, s);
				CHECK((hit != NULL) == (want >= 0), "lookup %s: %s, want %s", s,
				    hit ? hit : "none", want >= 0 ? keys[want] : "none");
				if (hit) {
					CHECK(strcmp(hit, keys[want]) == 0, "lookup %s: %s, want %s",
					    s, hit, keys[want]);
					CHECK(v.kind == vals[want].kind && v.limit == vals[want].limit,
					    "lookup %s: not the first value", s);
				}
			}
		}

		/* The decision, outside and inside the address entry. */
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(0xc6336401);	/* 198.51.100.1 */
		c.sa = (struct sockaddr *)&sin;
		c.hostname = line;
		c.resolve = resolve;
		c.port = NULL;	/* no listener sections in this config */
		policy_decide_conn(&p, &c, 1000, &d);
		want = st == NAMES_VERIFIED ? oracle(keys, n, name) : -1;
		CHECK(d.by_name == (want >= 0), "\"%.60s\": by_name %d, want %d", line,
		    d.by_name, want >= 0);
		if (d.by_name) {
			CHECK(strcmp(d.entry_name, keys[want]) == 0, "entry %s, want %s",
			    d.entry_name, keys[want]);
			CHECK((d.kind == DECIDE_EXEMPT) == (vals[want].kind == EXEMPT_OK),
			    "kind %d for %s", (int)d.kind, keys[want]);
		}
		report_decision(&d, line);
		sin.sin_addr.s_addr = htonl(0xc0000201);	/* 192.0.2.1 */
		policy_decide_conn(&p, &c, 1000, &d);
		CHECK(!d.by_name && d.kind == DECIDE_EXEMPT, "the address entry did not decide");
		report_decision(&d, line);
	}
	policy_destroy(&p);
	names_index_free(x);
	free(text);
	return 0;
}
