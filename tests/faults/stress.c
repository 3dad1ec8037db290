/*
 * stress.c: the decision path against live rule swaps, for ThreadSanitizer.
 *
 *   faults-stress [SECONDS [MAX_DECISIONS_PER_THREAD]]   (default 2 s, 2,000,000)
 *
 * Four threads decide for random clients (policy_decide, then
 * report_decision, as mlfi_connect does) while one thread swaps whole
 * rulesets in a loop (configs from config_parse_text, exemption sets from
 * exempt_builder, policy_swap, the old rules freed at once, the log level
 * set, as reload.c's install() does) and one plays the control thread
 * (policy_sweep with report_due, window_stats, policy_reply_text).  The
 * table is tiny (max_clients 256) so that entries are evicted and reused
 * all the time.
 *
 * Besides what TSan reports, every decision is checked against the rules:
 *   - 198.51.100.0/24 is exempt in every ruleset: it must always be
 *     DECIDE_EXEMPT (a decision never sees a half-installed ruleset);
 *   - a counted decision not covered by a map entry must carry the limit,
 *     window, prefix length, stage and mode of one and the same variant
 *     (never a mix of two rulesets);
 *   - the reply text read by policy_reply_text is one variant's, whole;
 *   - the policy's counters add up to the decisions made.
 * Prints one summary line; exits 0 when all held, 1 otherwise.  Run it
 * with TSAN_OPTIONS="halt_on_error=1 exitcode=66": a data race ends it
 * with status 66.
 *
 * tests/faults/run.sh builds it itself (group tsan).  By hand, against the
 * core objects of a TSan build (make B=build-tsan CFLAGS="-O1 -g
 * -fsanitize=thread" LDFLAGS=-fsanitize=thread binaries):
 *   cc -O1 -g -fsanitize=thread -std=gnu11 -Iinclude -o build-tsan/faults-stress \
 *       tests/faults/stress.c $(CORE_OBJ with build-tsan/) \
 *       $(pkg-config --libs milter libconfuse) -ldb -lpthread -lm
 *   TSAN_OPTIONS="halt_on_error=1 exitcode=66" build-tsan/faults-stress 2
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "clock.h"
#include "config.h"
#include "exempt.h"
#include "log.h"
#include "policy.h"
#include "report.h"
#include "window.h"

#define DECIDERS 4

struct variant {
	unsigned limit, window;
	int v4, v6;
	const char *mode, *stage, *text, *escaped;
	bool count_refused;
};

/* Each variant differs from the others in every field a decision shows. */
static const struct variant variants[] = {
	{ 3, 60, 32, 64, "enforce", "connect", "variant zero", "variant zero", true },
	{ 20, 10, 24, 48, "log", "helo", "variant one 100%", "variant one 100%%", true },
	{ 100, 3600, 28, 56, "enforce", "helo", "variant two", "variant two", false },
	{ 1, 1, 16, 128, "log", "connect", "variant three", "variant three", true },
};
#define NVARIANTS (sizeof variants / sizeof variants[0])

static struct policy pol;
static struct window_table *table;
static atomic_bool stop;
static atomic_ulong decisions, swaps, sweeps, failures;
static unsigned long max_per_thread = 2000000;
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static char first_failure[512];

static void
failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
failed(const char *fmt, ...)
{
	va_list ap;

	atomic_fetch_add(&failures, 1);
	pthread_mutex_lock(&fail_lock);
	if (first_failure[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(first_failure, sizeof first_failure, fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&fail_lock);
	atomic_store(&stop, true);
}

static uint64_t
xs(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void
report_config(const char *line)
{
	failed("config_parse_text: %s", line);
}

static struct config *
make_config(const struct variant *v)
{
	char text[1024];
	int n;

	n = snprintf(text, sizeof text,
	    "socket = \"unix:/nonexistent/stress.sock\"\n"
	    "limit = %u\nwindow = %u\nipv4_prefix = %d\nipv6_prefix = %d\n"
	    "mode = \"%s\"\nreply_stage = \"%s\"\nreply_text = \"%s\"\n"
	    "count_refused = %s\nmax_clients = 256\nlog_level = \"warning\"\n",
	    v->limit, v->window, v->v4, v->v6, v->mode, v->stage, v->text,
	    v->count_refused ? "true" : "false");
	return config_parse_text("stress.conf", text, (size_t)n, report_config);
}

static void
add(struct exempt_builder *b, const char *a, int plen, enum exempt_kind k,
    uint32_t limit, uint32_t window_s)
{
	struct exempt_value v = { .kind = k, .limit = limit, .window_s = window_s };
	struct addr p;

	if (!addr_parse(&p, a)) {
		failed("addr_parse %s", a);
		return;
	}
	addr_mask(&p, plen);
	if (!exempt_builder_add(b, &p, plen, &v))
		failed("exempt_builder_add: out of memory");
}

/* 198.51.100.0/24 OK always; the rest random, inside 10.0.0.0/8 and
 * 2001:db8::/32, some OK, some with their own limit. */
static struct exempt *
make_exempt(uint64_t *rng)
{
	struct exempt_builder *b = exempt_builder_new();
	char a[64];
	int n = 1 + (int)(xs(rng) % 64);

	if (b == NULL) {
		failed("exempt_builder_new: out of memory");
		return NULL;
	}
	add(b, "198.51.100.0", 24, EXEMPT_OK, 0, 0);
	for (int i = 0; i < n; i++) {
		uint64_t r = xs(rng);
		bool ok = r & 1;
		uint32_t lim = 1 + (uint32_t)(r >> 8) % 9000, win = 1 + (uint32_t)(r >> 24) % 86400;
		if (r & 2) {
			snprintf(a, sizeof a, "10.%u.%u.%u", (unsigned)(r >> 32) & 255,
			    (unsigned)(r >> 40) & 255, (unsigned)(r >> 48) & 255);
			add(b, a, 8 + (int)((r >> 56) % 25), ok ? EXEMPT_OK : EXEMPT_LIMIT, lim, win);
		} else {
			snprintf(a, sizeof a, "2001:db8:%x:%x::", (unsigned)(r >> 32) & 0xffff,
			    (unsigned)(r >> 48) & 0xffff);
			add(b, a, 32 + (int)((r >> 56) % 97), ok ? EXEMPT_OK : EXEMPT_LIMIT, lim, win);
		}
	}
	return exempt_build(b);
}

static void *
swapper(void *arg)
{
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	unsigned long i = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		const struct variant *v = &variants[i++ % NVARIANTS];
		struct config *c = make_config(v);
		struct exempt *e = make_exempt(&rng);
		struct ruleset *rs, *old;

		if (c == NULL || e == NULL || (rs = policy_ruleset(c, e)) == NULL) {
			failed("building ruleset %lu failed", i);
			config_free(c);
			exempt_free(e);
			break;
		}
		old = policy_swap(&pol, rs);
		log_setlevel((enum log_level)c->log_level);
		policy_ruleset_free(old);
		atomic_fetch_add(&swaps, 1);
	}
	return NULL;
}

static void *
maintainer(void *arg)
{
	char text[2 * CONFIG_REPLY_MAX + 1];
	struct window_stats ws;

	(void)arg;
	while (!atomic_load(&stop)) {
		uint64_t now = clock_now_ms();
		bool known = false;

		policy_sweep(&pol, now, 64, report_due, NULL);
		window_stats(table, &ws);
		if (ws.used > ws.capacity)
			failed("table_used %llu > capacity %llu",
			    (unsigned long long)ws.used, (unsigned long long)ws.capacity);
		policy_reply_text(&pol, 7, text, sizeof text);
		for (size_t k = 0; k < NVARIANTS; k++)
			known |= strcmp(text, variants[k].escaped) == 0;
		if (!known)
			failed("reply text \"%s\" is no variant's", text);
		atomic_fetch_add(&sweeps, 1);
		sched_yield();
	}
	return NULL;
}

static const char *
kind_name(enum decision_kind k)
{
	return policy_kind_name(k);
}

/* The decision d for a client outside every map entry matches one variant. */
static void
check_counted(const struct decision *d, bool v4, const char *ip)
{
	for (size_t k = 0; k < NVARIANTS; k++) {
		const struct variant *v = &variants[k];
		bool enforce = strcmp(v->mode, "enforce") == 0;
		enum reply_stage st = strcmp(v->stage, "helo") == 0 ? STAGE_HELO : STAGE_CONNECT;

		if (d->limit != v->limit || d->window_s != v->window ||
		    d->key_plen != (v4 ? v->v4 : v->v6) || d->stage != st)
			continue;
		if ((d->kind == DECIDE_REFUSE && !enforce) ||
		    (d->kind == DECIDE_WOULD_REFUSE && enforce))
			continue;
		return;
	}
	failed("%s: %s limit=%u window=%us plen=%d stage=%d: a mix of rulesets",
	    ip, kind_name(d->kind), d->limit, d->window_s, d->key_plen, (int)d->stage);
}

static void *
decider(void *arg)
{
	uint64_t rng = 0x2545f4914f6cdd1dull * ((uintptr_t)arg + 1);
	unsigned long n = 0;
	char ip[INET6_ADDRSTRLEN];

	while (!atomic_load(&stop) && n < max_per_thread) {
		struct sockaddr_storage ss;
		struct decision d;
		uint64_t r = xs(&rng), now = clock_now_ms();
		unsigned pick = (unsigned)(r % 100);
		bool v4 = true, exempt = false;

		memset(&ss, 0, sizeof ss);
		if (pick < 30) {		/* a few hot clients: limits hit */
			snprintf(ip, sizeof ip, "192.0.2.%u", (unsigned)(r >> 8) % 16);
		} else if (pick < 40) {		/* always exempt */
			snprintf(ip, sizeof ip, "198.51.100.%u", (unsigned)(r >> 8) & 255);
			exempt = true;
		} else if (pick < 55) {		/* IPv6, some in map entries */
			snprintf(ip, sizeof ip, "2001:db8:%x:%x::%x", (unsigned)(r >> 8) & 3,
			    (unsigned)(r >> 16) & 0xffff, (unsigned)(r >> 32) & 0xffff);
			v4 = false;
		} else if (pick < 57) {		/* no address at all */
			ip[0] = '\0';
		} else {			/* many one-shot clients: churn */
			snprintf(ip, sizeof ip, "10.%u.%u.%u", (unsigned)(r >> 8) & 255,
			    (unsigned)(r >> 16) & 255, (unsigned)(r >> 24) & 255);
		}
		if (ip[0] == '\0') {
			policy_decide(&pol, NULL, now, &d);
		} else if (v4) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
			s4->sin_family = AF_INET;
			s4->sin_port = htons(25);
			inet_pton(AF_INET, ip, &s4->sin_addr);
			policy_decide(&pol, (struct sockaddr *)&ss, now, &d);
		} else {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(25);
			inet_pton(AF_INET6, ip, &s6->sin6_addr);
			policy_decide(&pol, (struct sockaddr *)&ss, now, &d);
		}
		report_decision(&d, "stress.example");
		n++;

		if (ip[0] == '\0') {
			if (d.kind != DECIDE_NOADDR)
				failed("no address: %s, want no-address", kind_name(d.kind));
		} else if (exempt) {
			if (d.kind != DECIDE_EXEMPT)
				failed("%s: %s, want exempt in every ruleset", ip, kind_name(d.kind));
		} else if (d.kind == DECIDE_EXEMPT || d.kind == DECIDE_NOADDR) {
			if (!d.matched && d.kind == DECIDE_EXEMPT)
				failed("%s: exempt without a map entry", ip);
			if (d.kind == DECIDE_NOADDR)
				failed("%s: no-address for an address", ip);
		} else {
			if (d.count < 1)
				failed("%s: count %u", ip, d.count);
			if (!d.matched)
				check_counted(&d, v4, ip);
		}
	}
	atomic_fetch_add(&decisions, n);
	return NULL;
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	pthread_t sw, mt, dt[DECIDERS];
	uint8_t seed[16] = "faults-stress-16";
	struct ruleset *rs;
	uint64_t t0, seen;
	uint64_t rng = 1;

	if (argc > 2)
		max_per_thread = strtoul(argv[2], NULL, 10);
	log_init("faults-stress", 1, 0);
	log_setlevel(LOG_LEVEL_WARNING);
	if ((table = window_create(256, seed)) == NULL) {
		fprintf(stderr, "faults-stress: cannot set up\n");
		return 1;
	}
	{
		struct config *c = make_config(&variants[0]);
		struct exempt *e = make_exempt(&rng);
		rs = c && e ? policy_ruleset(c, e) : NULL;
	}
	if (rs == NULL) {
		fprintf(stderr, "faults-stress: first ruleset: %s\n", first_failure);
		return 1;
	}
	policy_init(&pol, table, rs);

	t0 = clock_now_ms();
	pthread_create(&sw, NULL, swapper, NULL);
	pthread_create(&mt, NULL, maintainer, NULL);
	for (uintptr_t i = 0; i < DECIDERS; i++)
		pthread_create(&dt[i], NULL, decider, (void *)i);
	/* Bounded: the time given, or every decider done with its count. */
	for (;;) {
		struct timespec ts = { 0, 20 * 1000000L };
		nanosleep(&ts, NULL);
		if (atomic_load(&stop) || clock_now_ms() - t0 >= (uint64_t)(secs * 1000))
			break;
		if (atomic_load(&decisions) >= max_per_thread * DECIDERS)
			break;
	}
	atomic_store(&stop, true);
	for (int i = 0; i < DECIDERS; i++)
		pthread_join(dt[i], NULL);
	pthread_join(sw, NULL);
	pthread_join(mt, NULL);

	struct policy_totals tot;
	policy_totals(&pol, &tot);
	seen = tot.seen;
	if (seen != atomic_load(&decisions))
		failed("policy counted %llu decisions, the threads made %lu",
		    (unsigned long long)seen, atomic_load(&decisions));
	if (atomic_load(&swaps) < 10 || atomic_load(&decisions) < 1000)
		failed("too little happened: %lu swaps, %lu decisions",
		    atomic_load(&swaps), atomic_load(&decisions));

	printf("faults-stress: %lu decisions by %d threads, %lu ruleset swaps, %lu "
	    "sweeps in %llu ms; refused=%llu would_refuse=%llu exempt=%llu "
	    "untracked=%llu; %lu failures%s%s\n",
	    atomic_load(&decisions), DECIDERS, atomic_load(&swaps),
	    atomic_load(&sweeps), (unsigned long long)(clock_now_ms() - t0),
	    (unsigned long long)atomic_load(&pol.n.refused),
	    (unsigned long long)atomic_load(&pol.n.would_refuse),
	    (unsigned long long)atomic_load(&pol.n.exempt),
	    (unsigned long long)atomic_load(&pol.n.untracked),
	    atomic_load(&failures), first_failure[0] ? ": " : "", first_failure);

	policy_destroy(&pol);
	window_destroy(table);
	return atomic_load(&failures) == 0 ? 0 : 1;
}
