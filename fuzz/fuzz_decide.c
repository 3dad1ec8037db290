/*
 * fuzz_decide.c: the connect decision, the daemon's internal entry point:
 * policy_decide(policy, hostaddr, now, &d) then report_decision(&d,
 * hostname), as mlfi_connect calls them, fed arbitrary socket
 * addresses (NULL, AF_INET, AF_INET6, IPv4-mapped, AF_UNIX, any other
 * family) and arbitrary hostname bytes, on a fake clock the input moves,
 * with the maintenance thread's once-a-second sweep emulated.
 *
 * The rules are fixed, made at start through the real parsers: four
 * configs from config_parse_text, one exemption map from
 * mapentry_parse_line (OK entries, per-entry limits, nesting, IPv6).
 * The table (window_create(1000, seed), or a 4-key one that fills up),
 * with the refusal-line marks it keeps, is made afresh for every input, so
 * that a finding reproduces from its input alone.  At every log level the
 * refusal lines and summaries must account for every refusal, none twice
 * (window_drain at the end, as the daemon at exit).
 *
 * Log lines go to an in-memory stream in place of stdio's stderr (fd 2 is
 * untouched, so sanitizer reports still show) at level debug or info, so
 * report_decision's formatting always runs, and every line is checked:
 * one line per decision as the level says, printable ASCII only, the
 * refusal line's fields equal to the decision, and its host= field a
 * faithful escape of the hostname (log_escape): no log injection.
 *
 * The decision is checked too: no address for NULL and other families;
 * the client is the socket's address; the map match is the brute-force
 * longest-prefix match (lpm.h); the keys are the client masked to each
 * configured prefix, each under the rule of the narrowest entry over it
 * whole (none under an OK one), and a narrower entry's own prefix
 * (clientkeys.h); the decision names one of them with its rule; counts
 * agree with the verdict; and, for keys with limits of at most
 * WINDOW_SLOTS on the big table, the counts are the exact number of
 * counted connections in the window (a model kept here).
 *
 * Input: byte 0 picks the config (bits 0-1) and the table (bit 2); two
 * bytes give the starting clock in seconds; then records, each
 *   op        bits 0-2 address kind, 3-4 clock step kind, 5 log level
 *             debug (else info), 6-7 repeat 1, 2, 3 or 12 times
 *   step      0, 1 or 2 bytes: ms, seconds, seconds % 43200
 *   address   as the kind needs (see make_sockaddr)
 *   hostlen   255: hostname NULL; 254: the rest of the input; else N
 *   hostname  N bytes (a NUL inside ends it, as it would in C)
 */
#define _GNU_SOURCE	/* memmem */
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz.h"
#include "config.h"
#include "exempt.h"
#include "log.h"
#include "lpm.h"
#include "mapentry.h"
#include "policy.h"
#include "report.h"
#include "window.h"

#define MAX_RECORDS 64

static const char *const config_text[4] = {
	/* The defaults of the sample config: 10 per minute, /32 and /64. */
	"limit = 10\nwindow = 60\n",
	"limit = 1\nwindow = 1\nipv4_prefix = 24\nipv6_prefix = 48\n"
	"mode = \"log\"\nreply_stage = \"helo\"\ncount_refused = false\n"
	"reply_text = \"Too many connections, 100%\"\n",
	"limit = 3\nwindow = 86400\nipv4_prefix = 8\nipv6_prefix = 16\n"
	"count_refused = false\n",
	"limit = 9000\nwindow = 10\nipv4_prefix = 30\nipv6_prefix = 128\n"
	"mode = \"log\"\n",
};

static const char map_text[] =
	"127.0.0.1 OK\n"
	"::1 OK\n"
	"# a comment\n"
	"192.0.2.0/24 2/10s\n"
	"192.0.2.128/25 OK\n"
	"192.0.2.200 5/1m\n"
	"10.0.0.0/8 50/1h\n"
	"198.51.100.0/24 1/1d\n"
	"203.0.113.0/28 1/5s\n"
	"2001:db8::/32 3/1h\n"
	"2001:db8:1::/48 OK\n"
	"2001:db8:1:2::/64 4/30\n";

static const uint8_t v4_bases[8][4] = {
	{ 127, 0, 0, 1 }, { 192, 0, 2, 0 }, { 192, 0, 2, 128 }, { 192, 0, 2, 200 },
	{ 10, 0, 0, 0 }, { 198, 51, 100, 0 }, { 203, 0, 113, 0 }, { 1, 2, 3, 4 },
};

static const uint8_t v6_bases[6][16] = {
	{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
	{ 0x20, 0x01, 0x0d, 0xb8 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 1 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2 },
	{ 0xfe, 0x80 },
	{ 0 },
};

static struct config *configs[4];
static struct ruleset *rules[4];
static struct map_entry map[32];
static size_t map_n;
static FILE *quiet;		/* stdio's stderr between inputs */

static void
config_error(const char *line)
{
	dprintf(2, "fuzz_decide: fixed config: %s\n", line);
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *p = map_text;
	char err[256];

	(void)argc;
	(void)argv;
	while (*p) {
		char line[128];
		size_t n = strcspn(p, "\n") + 1;
		struct map_entry e;

		memcpy(line, p, n);
		line[n] = '\0';
		p += n;
		int r = mapentry_parse_line(line, &e, err, sizeof err);
		CHECK(r >= 0, "fixed map: %s", err);
		if (r == 1)
			map[map_n++] = e;
	}
	for (int i = 0; i < 4; i++) {
		struct exempt_builder *b = exempt_builder_new();
		struct exempt *ex;

		configs[i] = config_parse_text("fuzz.conf", config_text[i],
		    strlen(config_text[i]), config_error);
		CHECK(b != NULL, "exempt_builder_new");
		for (size_t j = 0; j < map_n; j++)
			CHECK(exempt_builder_add(b, &map[j].prefix, map[j].plen, &map[j].value),
			    "exempt_builder_add");
		CHECK((ex = exempt_build(b)) != NULL, "exempt_build");
		/* The ruleset takes its own copy: configs[i] stays ours. */
		CHECK((rules[i] = policy_ruleset(config_dup(configs[i]), ex)) != NULL,
		    "policy_ruleset");
	}
	log_init("fuzz", 1, 0);
	/* stdio's stderr only: libFuzzer keeps its own FILE, the sanitizers
	 * write to fd 2. */
	CHECK((quiet = fopen("/dev/null", "w")) != NULL, "/dev/null");
	stderr = quiet;
	return 0;
}

/* --- the socket address ------------------------------------------------ */

struct sa_buf {
	struct sockaddr *sa;	/* NULL: no address */
	int family;		/* what the decision should see: AF_INET, AF_INET6, 0 */
	struct addr want;	/* the client, for AF_INET and AF_INET6 */
};

/* Exactly as many bytes as the family's sockaddr (or as given, never less
 * than a struct sockaddr: libmilter hands over a union of them all), so
 * that ASan catches a read past what the caller handed over. */
static void *
sa_alloc(size_t n)
{
	void *p = calloc(1, n);

	CHECK(p != NULL, "calloc");
	return p;
}

static void
make_sockaddr(struct reader *r, unsigned kind, struct sa_buf *out)
{
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	uint8_t b[16];

	memset(out, 0, sizeof *out);
	switch (kind) {
	case 0:		/* no address at all (libmilter: unknown family) */
		return;
	case 1:		/* IPv4 */
	case 2:		/* IPv4 near a map entry */
		if (kind == 1) {
			take_bytes(r, b, 4);
		} else {
			memcpy(b, v4_bases[take8(r) % 8], 4);
			b[3] ^= take8(r);
		}
		sin = sa_alloc(sizeof *sin);
		sin->sin_family = AF_INET;
		sin->sin_port = htons(25);
		memcpy(&sin->sin_addr, b, 4);
		out->sa = (struct sockaddr *)sin;
		out->family = AF_INET;
		memset(out->want.b, 0, 10);
		out->want.b[10] = out->want.b[11] = 0xff;
		memcpy(out->want.b + 12, b, 4);
		return;
	case 3:		/* IPv6 */
	case 4:		/* IPv4-mapped IPv6: the same client as plain IPv4 */
	case 5:		/* IPv6 near a map entry */
		if (kind == 3) {
			take_bytes(r, b, 16);
		} else if (kind == 4) {
			memset(b, 0, 10);
			b[10] = b[11] = 0xff;
			take_bytes(r, b + 12, 4);
		} else {
			memcpy(b, v6_bases[take8(r) % 6], 16);
			b[15] ^= take8(r);
			b[7] ^= take8(r);
		}
		sin6 = sa_alloc(sizeof *sin6);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(25);
		memcpy(&sin6->sin6_addr, b, 16);
		out->sa = (struct sockaddr *)sin6;
		out->family = AF_INET6;
		memcpy(out->want.b, b, 16);
		return;
	case 6: {	/* a local socket: a path, no address */
		size_t n = take8(r), len = offsetof(struct sockaddr_un, sun_path) + n + 1;
		uint8_t *raw = sa_alloc(len < sizeof(struct sockaddr) ? sizeof(struct sockaddr) : len);
		sa_family_t fam = AF_UNIX;

		memcpy(raw, &fam, sizeof fam);
		take_bytes(r, raw + offsetof(struct sockaddr_un, sun_path), n);
		out->sa = (struct sockaddr *)raw;
		return;
	}
	default: {	/* any family at all, any length from a struct sockaddr on */
		uint16_t fam = take16(r);
		size_t n = sizeof(struct sockaddr) + take8(r) % 64;
		uint8_t *raw;

		if (fam == AF_INET && n < sizeof(struct sockaddr_in))
			n = sizeof(struct sockaddr_in);
		if (fam == AF_INET6 && n < sizeof(struct sockaddr_in6))
			n = sizeof(struct sockaddr_in6);
		raw = sa_alloc(n);
		take_bytes(r, raw + sizeof(sa_family_t), n - sizeof(sa_family_t));
		memcpy(raw, &fam, sizeof fam);
		out->sa = (struct sockaddr *)raw;
		if (fam == AF_INET) {
			out->family = AF_INET;
			memset(out->want.b, 0, 10);
			out->want.b[10] = out->want.b[11] = 0xff;
			memcpy(out->want.b + 12, &((struct sockaddr_in *)raw)->sin_addr, 4);
		} else if (fam == AF_INET6) {
			out->family = AF_INET6;
			memcpy(out->want.b, &((struct sockaddr_in6 *)raw)->sin6_addr, 16);
		}
		return;
	}
	}
}

/* --- the count model ---------------------------------------------------- */

struct model_key {
	struct addr key;
	int plen;
	bool off;		/* a limit above WINDOW_SLOTS touched it */
	size_t n;		/* counted connections, newest last */
	uint64_t t[WINDOW_SLOTS];
};

/* A key the client should be counted under, and its rule. */
struct fkey {
	struct addr key;
	int plen;
	uint32_t limit, window_s;
};

static struct model_key model[MAX_RECORDS * WINDOW_KEYS_MAX];
static size_t model_n;

static struct model_key *
model_find(const struct addr *key, int plen)
{
	for (size_t i = 0; i < model_n; i++)
		if (model[i].plen == plen && same_addr(&model[i].key, key))
			return &model[i];
	CHECK(model_n < sizeof model / sizeof model[0], "model full");
	memset(&model[model_n], 0, sizeof model[0]);
	model[model_n].key = *key;
	model[model_n].plen = plen;
	return &model[model_n++];
}

/* --- the log ------------------------------------------------------------ */

static char *log_buf;
static size_t log_len, log_seen;
static char log_prefix[32];

/* The lines written since the last call, each checked for form. */
static size_t
new_lines(const char **first, size_t *first_len)
{
	size_t lines = 0;

	fflush(stderr);
	*first = log_buf + log_seen;
	*first_len = 0;
	for (size_t i = log_seen; i < log_len; i++) {
		unsigned char c = (unsigned char)log_buf[i];

		if (c == '\n') {
			lines++;
			continue;
		}
		CHECK(c >= 0x20 && c < 0x7f, "log byte 0x%02x in \"%.*s\"", c,
		    (int)(log_len - log_seen), log_buf + log_seen);
	}
	CHECK(log_len == log_seen || log_buf[log_len - 1] == '\n', "log line not ended");
	for (size_t i = log_seen; i < log_len; ) {
		size_t n = strcspn(log_buf + i, "\n");

		CHECK(strncmp(log_buf + i, log_prefix, strlen(log_prefix)) == 0,
		    "log line without its prefix: \"%.*s\"", (int)n, log_buf + i);
		i += n + 1;
	}
	if (lines > 0)
		*first_len = strcspn(*first, "\n");
	log_seen = log_len;
	return lines;
}

static bool
plain_host_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c && strchr(".-_[]:/", c));
}

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode the host= field; false when it is not in the escaped form. */
static bool
unescape(const char *s, size_t n, char *out, size_t *outn)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int v;

		if (plain_host_char(c)) {
			out[o++] = (char)c;
			continue;
		}
		if (c != '\\' || i + 3 >= n || s[i + 1] != 'x' ||
		    hexval(s[i + 2]) < 0 || hexval(s[i + 3]) < 0)
			return false;
		v = hexval(s[i + 2]) << 4 | hexval(s[i + 3]);
		if (v == 0 || plain_host_char((unsigned char)v))
			return false;
		out[o++] = (char)v;
		i += 3;
	}
	*outn = o;
	return true;
}

static void
check_host_field(const char *field, size_t n, const char *hostname)
{
	const char *h = hostname ? hostname : "";
	size_t hn = strlen(h), dn;
	char dec[300];

	CHECK(n <= 255, "host= field of %zu bytes", n);
	CHECK(unescape(field, n, dec, &dn), "host= field not escaped: \"%.*s\"", (int)n, field);
	if (dn == hn && memcmp(dec, h, hn) == 0)
		return;
	/* Cut short: the escaped start of the name, then "...". */
	CHECK(n >= 3 && memcmp(field + n - 3, "...", 3) == 0,
	    "host= field \"%.*s\" is not the hostname", (int)n, field);
	CHECK(unescape(field, n - 3, dec, &dn) && dn < hn && memcmp(dec, h, dn) == 0,
	    "host= field \"%.*s\" is not a start of the hostname", (int)n, field);
	CHECK(n >= 240, "host= field cut short at %zu bytes", n);
}

static void
check_refusal_line(const char *line, size_t len, const struct decision *d,
    const char *hostname)
{
	char client[ADDR_STRLEN], key[ADDR_STRLEN], entry[ADDR_STRLEN + 8] = "";
	char want[512];
	const char *p, *end = line + len, *host;
	size_t wn;

	addr_format(client, sizeof client, &d->client);
	addr_format_prefix(key, sizeof key, &d->key, d->key_plen);
	if (d->matched) {
		strcpy(entry, " entry=");
		addr_format_prefix(entry + 7, sizeof entry - 7, &d->match.prefix, d->match.plen);
	}
	wn = (size_t)snprintf(want, sizeof want,
	    "%s%s client=%s key=%s count=%u limit=%u window=%us stage=%s retry=%us%s host=",
	    log_prefix, policy_kind_name(d->kind), client, key, d->count, d->limit,
	    d->window_s, config_stage_name(d->stage), d->retry_s, entry);
	CHECK(len >= wn && memcmp(line, want, wn) == 0, "refusal line \"%.*s\", expected \"%s...\"",
	    (int)len, line, want);
	host = line + wn;
	p = memchr(host, ' ', (size_t)(end - host));
	if (p != NULL) {
		unsigned long n;
		char tail[32];

		CHECK(sscanf(p, " suppressed=%lu%31s", &n, tail) == 1 && n > 0,
		    "refusal line ends \"%.*s\"", (int)(end - p), p);
		CHECK(p + snprintf(tail, sizeof tail, " suppressed=%lu", n) == end,
		    "refusal line ends \"%.*s\"", (int)(end - p), p);
	} else {
		p = end;
	}
	check_host_field(host, (size_t)(p - host), hostname);
}

/* "refused-summary key=PREFIX suppressed=N", from the table's sweep and
 * drain; returns the sum of N. */
static unsigned long
check_summary_lines(const char *p, size_t lines)
{
	unsigned long total = 0;

	for (size_t i = 0; i < lines; i++) {
		size_t n = strcspn(p, "\n");
		const char *s = p + strlen(log_prefix);
		char key[ADDR_STRLEN], tail[80];
		unsigned long sup;
		struct addr a;
		int plen, used = 0;

		/* mode log's summaries say so */
		if (strncmp(s, "would-refuse-summary ", 21) == 0)
			s += 21;
		else if (strncmp(s, "refused-summary ", 16) == 0)
			s += 16;
		CHECK(sscanf(s, "key=%63s suppressed=%lu%n", key, &sup,
		    &used) == 2 && sup > 0 && used > 0, "summary line \"%.*s\"", (int)n, p);
		snprintf(tail, sizeof tail, "%.*s", (int)(p + n - (s + used)), s + used);
		CHECK(tail[0] == '\0', "summary line \"%.*s\"", (int)n, p);
		CHECK(addr_parse_prefix(&a, &plen, key, NULL, 0), "summary key \"%s\"", key);
		total += sup;
		p += n + 1;
	}
	return total;
}

/* N of a refusal line's " suppressed=N", or 0. */
static unsigned long
line_suppressed(const char *line, size_t len)
{
	const char *q = memmem(line, len, " suppressed=", 12);

	return q ? strtoul(q + 12, NULL, 10) : 0;
}

/* --- the decision -------------------------------------------------------- */

static void
check_decision(const struct decision *d, const struct sa_buf *sa,
    const struct config *cfg, struct fkey keys[WINDOW_KEYS_MAX], size_t *nk,
    size_t *shown)
{
	long m;

	CHECK(d->stage == cfg->reply_stage, "stage");
	if (sa->family == 0) {
		CHECK(d->kind == DECIDE_NOADDR, "no address, yet %s", policy_kind_name(d->kind));
		return;
	}
	CHECK(d->kind != DECIDE_NOADDR, "an address, yet no-address");
	CHECK(same_addr(&d->client, &sa->want), "the client is not the socket's address");

	m = lpm_find(map, map_n, &d->client);
	CHECK(d->matched == (m >= 0), "matched %d, the map says %d", d->matched, m >= 0);
	if (m >= 0)
		CHECK(same_addr(&d->match.prefix, &map[m].prefix) && d->match.plen == map[m].plen &&
		    d->match.value.kind == map[m].value.kind, "the wrong map entry");
	if (m >= 0 && map[m].value.kind == EXEMPT_OK) {
		CHECK(d->kind == DECIDE_EXEMPT, "an OK entry, yet %s", policy_kind_name(d->kind));
		return;
	}
	CHECK(d->kind != DECIDE_EXEMPT, "exempt without an OK entry");

	/* The keys, the slow way (clientkeys.h): an entry narrower than the
	 * first key counts at its own prefix; each configured key takes the
	 * rule of the narrowest entry over it whole (OK: not counted). */
	int fam = addr_is_v4(&d->client) ? 0 : 1;
	bool own = m >= 0 && map[m].plen > cfg->keys[fam][0].plen;

	*nk = 0;
	for (int i = 0; own && i < cfg->nkeys[fam]; i++)
		if (cfg->keys[fam][i].plen == map[m].plen)
			own = false;
	if (own)
		keys[(*nk)++] = (struct fkey){ map[m].prefix, map[m].plen,
		    map[m].value.limit, map[m].value.window_s };
	for (int i = 0; i < cfg->nkeys[fam]; i++) {
		const struct config_key *ck = &cfg->keys[fam][i];
		long w = lpm_find_within(map, map_n, &d->client, ck->plen);
		struct fkey k = { d->client, ck->plen, ck->limit, ck->window };

		if (w >= 0 && map[w].value.kind == EXEMPT_OK)
			continue;
		if (w >= 0) {
			k.limit = map[w].value.limit;
			k.window_s = map[w].value.window_s;
		}
		addr_mask(&k.key, k.plen);
		keys[(*nk)++] = k;
	}
	CHECK(*nk >= 1, "no key");
	*shown = *nk;
	for (size_t j = 0; j < *nk; j++)
		if (d->key_plen == keys[j].plen && same_addr(&d->key, &keys[j].key))
			*shown = j;
	CHECK(*shown < *nk, "the key is not one of the client's");
	CHECK(host_bits_clear(&d->key, d->key_plen), "host bits in the key");
	CHECK(d->limit == keys[*shown].limit && d->window_s == keys[*shown].window_s,
	    "not the key's rule");
	CHECK(d->kind != DECIDE_ALLOW || *shown == 0, "allowed, yet not the first key");

	switch (d->kind) {
	case DECIDE_ALLOW:
		CHECK(d->count >= 1 && d->count <= d->limit, "allowed at %u of %u", d->count, d->limit);
		break;
	case DECIDE_UNTRACKED:
		CHECK(d->count == 1, "untracked, count %u", d->count);
		break;
	case DECIDE_REFUSE:
	case DECIDE_WOULD_REFUSE:
		CHECK(d->count > d->limit, "refused at %u of %u", d->count, d->limit);
		CHECK((d->kind == DECIDE_WOULD_REFUSE) == (cfg->mode == MODE_LOG),
		    "%s in mode %d", policy_kind_name(d->kind), cfg->mode);
		break;
	default:
		CHECK(0, "kind %d", d->kind);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t seed[16] = "milter-ratelimit";
	struct reader r = { data, size };
	uint8_t setup = take8(&r);
	const struct config *cfg = configs[setup & 3];
	struct window_table *table = window_create(setup & 4 ? 4 : 1000, seed);
	bool big = !(setup & 4);
	uint64_t now = 1000 * (uint64_t)take16(&r), last_sweep = now;
	uint64_t tally[6] = { 0 }, seen = 0;
	/* Per run: refusals, and what the lines account for (one each plus
	 * every suppressed=N); equal at the end, at every log level. */
	unsigned long refusals = 0, accounted = 0;
	struct policy p;
	FILE *mem;
	char reply[CONFIG_REPLY_MAX * 2 + 1];

	CHECK(table != NULL, "window_create");
	policy_init(&p, table, rules[setup & 3]);
	CHECK(policy_max_window_ms(&p) >= cfg->window * 1000u, "max window");
	policy_reply_text(&p, 7, reply, sizeof reply);
	CHECK(strcmp(reply, cfg->reply_escaped) == 0, "reply text");
	model_n = 0;

	log_seen = log_len = 0;
	CHECK((mem = open_memstream(&log_buf, &log_len)) != NULL, "open_memstream");
	stderr = mem;
	snprintf(log_prefix, sizeof log_prefix, "fuzz[%ld]: ", (long)getpid());

	for (int rec = 0; rec < MAX_RECORDS && r.n > 0; rec++) {
		uint8_t op = take8(&r);
		unsigned repeat = (op >> 6) == 3 ? 12 : 1 + (op >> 6);
		struct sa_buf sa;
		char *host = NULL;
		size_t hlen;

		switch ((op >> 3) & 3) {
		case 1: now += take8(&r); break;
		case 2: now += 1000u * take8(&r); break;
		case 3: now += 1000u * (take16(&r) % 43200u); break;
		}
		make_sockaddr(&r, op & 7, &sa);
		hlen = take8(&r);
		if (hlen != 255) {
			if (hlen == 254 || hlen > r.n)
				hlen = r.n;
			host = cstring(r.p, hlen);
			r.p += hlen;
			r.n -= hlen;
		}
		log_setlevel(op & 0x20 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);

		for (unsigned i = 0; i < repeat; i++) {
			struct decision d;
			const char *line;
			size_t len, lines, nk, shown = 0;
			struct fkey keys[WINDOW_KEYS_MAX];

			/* The maintenance thread, once a second. */
			if (now - last_sweep >= 1000) {
				policy_sweep(&p, now, 1024, report_due, NULL);
				lines = new_lines(&line, &len);
				accounted += check_summary_lines(line, lines);
				last_sweep = now;
			}

			memset(&d, 0x5a, sizeof d);
			policy_decide(&p, sa.sa, now, &d);
			seen++;
			tally[d.kind]++;
			nk = 0;
			check_decision(&d, &sa, cfg, keys, &nk, &shown);

			/* The exact counts, where the table keeps them exactly:
			 * every key when let through; with count_refused a
			 * refusal only in the keys that refused it. */
			if (big && (d.kind == DECIDE_ALLOW || d.kind == DECIDE_REFUSE ||
			    d.kind == DECIDE_WOULD_REFUSE)) {
				struct model_key *mk[WINDOW_KEYS_MAX];
				uint32_t before[WINDOW_KEYS_MAX];
				bool any_off = false, exact_refuse = false;

				for (size_t j = 0; j < nk; j++) {
					mk[j] = model_find(&keys[j].key, keys[j].plen);
					if (keys[j].limit > WINDOW_SLOTS)
						mk[j]->off = true;
					any_off |= mk[j]->off;
					before[j] = 0;
					for (size_t i = 0; i < mk[j]->n; i++)
						before[j] += now - mk[j]->t[i] <
						    keys[j].window_s * 1000ull;
					if (!mk[j]->off && before[j] >= keys[j].limit)
						exact_refuse = true;
				}
				CHECK(!(exact_refuse && d.kind == DECIDE_ALLOW),
				    "allowed with a key at its limit");
				CHECK(any_off || (d.kind == DECIDE_ALLOW) == !exact_refuse,
				    "%s, the model %s", policy_kind_name(d.kind),
				    exact_refuse ? "refused" : "allowed");
				CHECK(mk[shown]->off || d.count == before[shown] + 1,
				    "count %u, the model %u", d.count, before[shown] + 1);
				for (size_t j = 0; j < nk; j++) {
					if (mk[j]->off || !(d.kind == DECIDE_ALLOW ||
					    (cfg->count_refused && before[j] >= keys[j].limit)))
						continue;
					if (mk[j]->n == WINDOW_SLOTS) {
						memmove(mk[j]->t, mk[j]->t + 1,
						    sizeof mk[j]->t - sizeof mk[j]->t[0]);
						mk[j]->n--;
					}
					mk[j]->t[mk[j]->n++] = now;
				}
			}

			report_decision(&d, host);
			lines = new_lines(&line, &len);
			switch (d.kind) {
			case DECIDE_REFUSE:
			case DECIDE_WOULD_REFUSE:
				refusals++;
				if (op & 0x20)
					CHECK(d.log_line, "a refusal at debug without its line");
				CHECK(lines == (d.log_line ? 1u : 0u),
				    "%zu lines for a refusal (log_line %d)", lines, d.log_line);
				if (lines > 0) {
					check_refusal_line(line, len, &d, host);
					accounted += 1 + line_suppressed(line, len);
				}
				break;
			default:
				CHECK(lines == ((op & 0x20) ? 1u : 0u), "%zu lines for %s", lines,
				    policy_kind_name(d.kind));
			}
		}
		free(host);
		free(sa.sa);
	}

	/* At exit every unlogged refusal gets its summary: the lines account
	 * for every refusal, none twice. */
	window_drain(table, report_due, NULL);
	{
		const char *line;
		size_t len, lines = new_lines(&line, &len);
		accounted += check_summary_lines(line, lines);
	}
	CHECK(accounted == refusals, "lines account for %lu refusals of %lu",
	    accounted, refusals);

	/* The statistics add up. */
	struct policy_totals tot;
	policy_totals(&p, &tot);
	CHECK(tot.seen == seen, "seen");
	CHECK(atomic_load(&p.n.allowed) == tally[DECIDE_ALLOW], "allowed");
	CHECK(atomic_load(&p.n.noaddr) == tally[DECIDE_NOADDR] &&
	    atomic_load(&p.n.exempt) == tally[DECIDE_EXEMPT] &&
	    atomic_load(&p.n.untracked) == tally[DECIDE_UNTRACKED] &&
	    atomic_load(&p.n.refused) == tally[DECIDE_REFUSE] &&
	    atomic_load(&p.n.would_refuse) == tally[DECIDE_WOULD_REFUSE], "counters");
	if (big) {
		struct window_stats st;

		window_stats(table, &st);
		CHECK(st.evictions == 0 && st.untracked == 0, "the big table evicted");
	}

	stderr = quiet;
	fclose(mem);
	free(log_buf);
	log_buf = NULL;
	pthread_rwlock_destroy(&p.lock);
	window_destroy(table);
	return 0;
}
