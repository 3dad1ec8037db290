/*
 * replay.c: random traces through src/redis_window.lua in a private
 * redis-server and through window_check_keys() on a local table, compared
 * decision by decision (issue 12; run by tests/redis/t-equiv.sh).
 *
 *   redis-replay -s SOCKET -f SCRIPT [-S SEED] [-n EVENTS] [-t SECONDS]
 *       [-p PREFIX] [-w MAX_WINDOW_MS] [-v]
 *
 * PREFIX defaults to "replay:SEED:", so that two traces on one server
 * never share a key.  -w (default 2000) draws the windows from 20 ms up
 * to MAX_WINDOW_MS, spread evenly over their logarithm when it is above
 * 2000: windows of hours or a day barely slide in a run of seconds, but
 * they take every width of the script's packed offsets.
 *
 * Why the two can be compared exactly: the script decides at the server's
 * clock and returns the now it used, and the local table is handed that
 * same now.  The short sleeps between events only make windows slide (and
 * Redis expire keys) so that every path is taken; whatever the pace, both
 * sides see the same times.  The local table is fresh and has room for
 * every key of the trace, as the contract assumes (no eviction in Redis).
 *
 * The trace: hosts, each in a net, each net in a block (keys of three
 * prefix lengths, a call counting a host alone or with its net and block,
 * in a random order); a few hot hosts make most of the calls, so keys
 * reach their limits; limits 1..10 and 11..MAX_BIG_LIMIT, windows from
 * 20 ms (some shared by several keys), count_refused switched now and
 * then; a key's limit changes now and then, to another group size or
 * within its own (regrouping).  Each key keeps its window: a changed
 * window is lenient in Redis by design (the script's header says why),
 * not a difference to report.
 *
 * Output: one line per difference (with -v, one per event as well), then
 * a summary.  Exit 0: no difference at limit <= 10 and every difference
 * above within the group bound; 1: otherwise; 2: the run itself failed
 * (Redis unreachable, an error reply, a reply of the wrong shape).
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "window.h"

#define NHOST 24
#define NNET 6
#define NBLOCK 2
#define NKEY (NHOST + NNET + NBLOCK)
#define NHOT 4
#define MAX_BIG_LIMIT 300
#define PREFIX_MAX 64

struct tkey {
	struct window_key k;
	uint32_t limit, window_ms;
};

struct run {
	redisContext *c;
	char sha[41];
	const char *script;
	size_t script_len;
	char prefix[PREFIX_MAX];
	size_t prefix_len;
	uint64_t rng;
	bool verbose;
	uint32_t max_window_ms;
	/* what the trace covered, so a test can tell it was not vacuous */
	unsigned long events, events_le10, events_gt10, refused, refused_cr,
	    regroups, limit_changes, multi, grouped;
	/* differences: at limit <= 10; above; above and beyond the bound */
	unsigned long diff_le10, diff_gt10, beyond;
};

static uint64_t
rnd(struct run *r)
{
	/* xorshift64*: a seeded trace replays the same calls */
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return r->rng * 2685821657736338717ull;
}

static uint32_t
below(struct run *r, uint32_t n)
{
	return (uint32_t)(rnd(r) % n);
}

static uint32_t
group_of(uint32_t limit)
{
	return limit <= WINDOW_SLOTS ? 1 : (limit - 1 + WINDOW_SLOTS - 2) / (WINDOW_SLOTS - 1);
}

static uint64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
sleep_us(uint32_t us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

/* SCRIPT LOAD: the sha every EVALSHA names.  Again after NOSCRIPT. */
static bool
load_script(struct run *r)
{
	redisReply *rep = redisCommand(r->c, "SCRIPT LOAD %b", r->script, r->script_len);

	if (rep == NULL || rep->type != REDIS_REPLY_STRING || rep->len != 40) {
		fprintf(stderr, "redis-replay: SCRIPT LOAD: %s\n",
		    rep ? (rep->str ? rep->str : "reply of the wrong type") : r->c->errstr);
		if (rep)
			freeReplyObject(rep);
		return false;
	}
	memcpy(r->sha, rep->str, 40);
	r->sha[40] = '\0';
	freeReplyObject(rep);
	return true;
}

/* Host h's net: host 0 has net 0 to itself, the others share the rest. */
static uint32_t
net_of(uint32_t h)
{
	return h == 0 ? 0 : 1 + h % (NNET - 1);
}

/* The trace's keys: host h in net net_of(h), net j in block j % NBLOCK;
 * hosts are /128, nets /120, blocks /112, over distinct bytes.  Host 0
 * and its net are twins (same window, same limit: see change_limit):
 * both see the same connections, so when both refuse they tie on
 * retry_ms, and refused_by must name the first in call order. */
static void
make_keys(struct run *r, struct tkey *k)
{
	static const uint32_t common_ms[] = { 20, 100, 500, 2000 };

	for (int i = 0; i < NKEY; i++) {
		memset(&k[i], 0, sizeof k[i]);
		k[i].k.b[0] = 0x20;
		k[i].k.b[1] = 0x01;
		if (i < NHOST) {
			k[i].k.b[13] = (uint8_t)(net_of((uint32_t)i) % NBLOCK);
			k[i].k.b[14] = (uint8_t)net_of((uint32_t)i);
			k[i].k.b[15] = (uint8_t)(i + 1);
			k[i].k.plen = 128;
		} else if (i < NHOST + NNET) {
			k[i].k.b[13] = (uint8_t)((i - NHOST) % NBLOCK);
			k[i].k.b[14] = (uint8_t)(i - NHOST);
			k[i].k.plen = 120;
		} else {
			k[i].k.b[13] = (uint8_t)(i - NHOST - NNET);
			k[i].k.plen = 112;
		}
		/* Windows shared by several keys make the refusing keys of a
		 * call tie on retry_ms now and then (refused_by's tie-break);
		 * the others take any length. */
		if (below(r, 10) < 6)
			k[i].window_ms = common_ms[below(r, sizeof common_ms / sizeof common_ms[0])];
		else if (r->max_window_ms <= 2000)
			k[i].window_ms = 20 + below(r, r->max_window_ms - 19);
		else
			k[i].window_ms = (uint32_t)(20 * pow(r->max_window_ms / 20.0,
			    below(r, 1000001) / 1e6));
		/* Hosts mostly small limits, nets and blocks mostly big ones. */
		if (below(r, 10) < (i < NHOST ? 7u : 3u))
			k[i].limit = 1 + below(r, WINDOW_SLOTS);
		else
			k[i].limit = WINDOW_SLOTS + 1 + below(r, MAX_BIG_LIMIT - WINDOW_SLOTS);
	}
	k[NHOST].window_ms = k[0].window_ms;
	k[NHOST].limit = k[0].limit;
}

/* A new limit for key k: within its group or to another (regrouping),
 * across the line at WINDOW_SLOTS now and then. */
static void
change_limit(struct run *r, struct tkey *k)
{
	uint32_t old = k->limit, g = group_of(old), nl;

	switch (below(r, 3)) {
	case 0:		/* same group: g = 1 below the line, g's range above */
		if (g == 1)
			nl = 1 + below(r, WINDOW_SLOTS);
		else
			nl = (g - 1) * (WINDOW_SLOTS - 1) + 2 + below(r, WINDOW_SLOTS - 1);
		if (group_of(nl) != g)
			nl = old;
		break;
	case 1:
		nl = 1 + below(r, WINDOW_SLOTS);
		break;
	default:
		nl = WINDOW_SLOTS + 1 + below(r, MAX_BIG_LIMIT - WINDOW_SLOTS);
		break;
	}
	r->limit_changes++;
	if (group_of(nl) != g)
		r->regroups++;
	k->limit = nl;
}

/* One call through the script: the reply's now, refused_by, retry_ms and
 * counts.  Returns false when the run cannot go on. */
static bool
call_script(struct run *r, struct tkey *const *keys, size_t n, bool cr,
    uint64_t *now, int *refused_by, uint32_t *retry, uint32_t *count)
{
	char kbuf[WINDOW_KEYS_MAX][PREFIX_MAX + 17], nums[2 * WINDOW_KEYS_MAX][16], nk[4];
	const char *argv[4 + 3 * WINDOW_KEYS_MAX];
	size_t argl[4 + 3 * WINDOW_KEYS_MAX];
	int argc = 0;
	redisReply *rep;

	argv[argc] = "EVALSHA", argl[argc++] = 7;
	argv[argc] = r->sha, argl[argc++] = 40;
	snprintf(nk, sizeof nk, "%zu", n);
	argv[argc] = nk, argl[argc++] = strlen(nk);
	for (size_t i = 0; i < n; i++) {
		memcpy(kbuf[i], r->prefix, r->prefix_len);
		memcpy(kbuf[i] + r->prefix_len, keys[i]->k.b, 16);
		kbuf[i][r->prefix_len + 16] = (char)keys[i]->k.plen;
		argv[argc] = kbuf[i], argl[argc++] = r->prefix_len + 17;
	}
	argv[argc] = cr ? "1" : "0", argl[argc++] = 1;
	for (size_t i = 0; i < n; i++) {
		snprintf(nums[2 * i], sizeof nums[0], "%u", keys[i]->limit);
		snprintf(nums[2 * i + 1], sizeof nums[0], "%u", keys[i]->window_ms);
		argv[argc] = nums[2 * i], argl[argc++] = strlen(nums[2 * i]);
		argv[argc] = nums[2 * i + 1], argl[argc++] = strlen(nums[2 * i + 1]);
	}
	for (int attempt = 0;; attempt++) {
		rep = redisCommandArgv(r->c, argc, argv, argl);
		if (rep == NULL) {
			fprintf(stderr, "redis-replay: EVALSHA: %s\n", r->c->errstr);
			return false;
		}
		if (rep->type == REDIS_REPLY_ERROR && attempt == 0 &&
		    strncmp(rep->str, "NOSCRIPT", 8) == 0) {
			freeReplyObject(rep);
			if (!load_script(r))
				return false;
			continue;
		}
		break;
	}
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 3 + n) {
		fprintf(stderr, "redis-replay: EVALSHA: %s\n",
		    rep->type == REDIS_REPLY_ERROR ? rep->str : "a reply of the wrong shape");
		freeReplyObject(rep);
		return false;
	}
	for (size_t i = 0; i < rep->elements; i++) {
		if (rep->element[i]->type != REDIS_REPLY_INTEGER) {
			fprintf(stderr, "redis-replay: EVALSHA: element %zu not an integer\n", i);
			freeReplyObject(rep);
			return false;
		}
	}
	*now = (uint64_t)rep->element[0]->integer;
	*refused_by = (int)rep->element[1]->integer;
	*retry = (uint32_t)rep->element[2]->integer;
	for (size_t i = 0; i < n; i++)
		count[i] = (uint32_t)rep->element[3 + i]->integer;
	freeReplyObject(rep);
	return true;
}

/* One event: pick a client and its keys, decide through both, compare. */
static bool
event(struct run *r, struct window_table *t, struct tkey *k, bool cr)
{
	struct tkey *keys[3];
	struct window_key wk[3];
	struct window_rule rules[3];
	struct window_multi local;
	uint32_t rcount[3], rretry, maxlimit = 0;
	uint64_t now;
	int rby;
	size_t n = 1 + below(r, 3);
	uint32_t h = below(r, 10) < 7 ? below(r, NHOT) : below(r, NHOST);
	bool differ = false, within = true, big = false;

	keys[0] = &k[h];
	keys[1] = &k[NHOST + net_of(h)];
	keys[2] = &k[NHOST + NNET + net_of(h) % NBLOCK];
	/* Any order: refused_by breaks ties by it. */
	for (size_t i = n; i > 1; i--) {
		size_t j = below(r, (uint32_t)i);
		struct tkey *x = keys[i - 1];
		keys[i - 1] = keys[j];
		keys[j] = x;
	}
	if (!call_script(r, keys, n, cr, &now, &rby, &rretry, rcount))
		return false;
	for (size_t i = 0; i < n; i++) {
		wk[i] = keys[i]->k;
		rules[i] = (struct window_rule){ .limit = keys[i]->limit,
		    .window_ms = keys[i]->window_ms, .count_refused = cr };
		if (maxlimit < keys[i]->limit)
			maxlimit = keys[i]->limit;
	}
	window_check_keys(t, n, wk, rules, r->max_window_ms, now, &local);

	r->events++;
	r->multi += n > 1;
	if (maxlimit <= WINDOW_SLOTS)
		r->events_le10++;
	else
		r->events_gt10++;
	if (local.refused_by >= 0) {
		r->refused++;
		r->refused_cr += cr;
	}
	differ = rby != local.refused_by || rretry != local.retry_ms;
	for (size_t i = 0; i < n; i++) {
		uint32_t a = rcount[i], b = local.r[i].count;
		uint32_t d = a > b ? a - b : b - a;

		if (d != 0)
			differ = true;
		if (d > group_of(keys[i]->limit) - 1)
			within = false;
		big |= b > WINDOW_SLOTS;
	}
	r->grouped += big;
	if (r->verbose || differ) {
		printf("%s event %lu now %llu cr %d n %zu:", differ ? "DIFF" : "same",
		    r->events, (unsigned long long)now, cr, n);
		for (size_t i = 0; i < n; i++)
			printf(" [/%u %u/%ums redis %u local %u]", keys[i]->k.plen,
			    keys[i]->limit, keys[i]->window_ms, rcount[i], local.r[i].count);
		printf(" refused_by redis %d local %d retry redis %u local %u\n",
		    rby, local.refused_by, rretry, local.retry_ms);
	}
	if (differ) {
		if (maxlimit <= WINDOW_SLOTS) {
			r->diff_le10++;
		} else {
			r->diff_gt10++;
			r->beyond += !within;
		}
	}
	return true;
}

static void
usage(void)
{
	fprintf(stderr, "usage: redis-replay -s SOCKET -f SCRIPT [-S SEED] [-n EVENTS]"
	    " [-t SECONDS] [-p PREFIX] [-w MAX_WINDOW_MS] [-v]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *sock = NULL, *script = NULL, *prefix = NULL;
	unsigned long long seed = 1;
	unsigned long max_events = 4000, secs = 10;
	struct timeval tv = { 2, 0 };
	struct run r;
	struct tkey k[NKEY];
	struct window_table *t;
	uint8_t tseed[16] = { 0 };
	uint64_t start, deadline;
	bool cr;
	int ch;

	memset(&r, 0, sizeof r);
	r.max_window_ms = 2000;
	while ((ch = getopt(argc, argv, "s:f:S:n:t:p:w:v")) != -1) {
		switch (ch) {
		case 's': sock = optarg; break;
		case 'f': script = optarg; break;
		case 'S': seed = strtoull(optarg, NULL, 10); break;
		case 'n': max_events = strtoul(optarg, NULL, 10); break;
		case 't': secs = strtoul(optarg, NULL, 10); break;
		case 'p': prefix = optarg; break;
		case 'w': r.max_window_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'v': r.verbose = true; break;
		default: usage();
		}
	}
	if (sock == NULL || script == NULL || (prefix && strlen(prefix) >= PREFIX_MAX) ||
	    max_events == 0 || secs == 0 || secs > 600 ||
	    r.max_window_ms < 20 || r.max_window_ms > WINDOW_MS_MAX)
		usage();
	if ((r.script = slurp(script, &r.script_len)) == NULL) {
		fprintf(stderr, "redis-replay: %s: cannot read\n", script);
		return 2;
	}
	/* The seed in the default prefix: a trace never meets the keys of
	 * an earlier one on the same server (the local table is fresh). */
	if (prefix == NULL)
		snprintf(r.prefix, sizeof r.prefix, "replay:%llu:", seed);
	else
		snprintf(r.prefix, sizeof r.prefix, "%s", prefix);
	r.prefix_len = strlen(r.prefix);
	r.rng = seed * 0x9e3779b97f4a7c15ull + 1;
	r.c = redisConnectUnixWithTimeout(sock, tv);
	if (r.c == NULL || r.c->err) {
		fprintf(stderr, "redis-replay: %s: %s\n", sock, r.c ? r.c->errstr : "no memory");
		return 2;
	}
	redisSetTimeout(r.c, tv);
	if (!load_script(&r))
		return 2;
	memcpy(tseed, &seed, sizeof seed);
	if ((t = window_create(4096, tseed)) == NULL) {
		perror("redis-replay: window_create");
		return 2;
	}
	make_keys(&r, k);
	cr = below(&r, 2);

	start = ms_now();
	deadline = start + secs * 1000;
	while (r.events < max_events && ms_now() < deadline) {
		uint32_t p = below(&r, 1000);

		if (below(&r, 200) == 0)
			cr = !cr;
		if (below(&r, 40) == 0) {
			change_limit(&r, &k[below(&r, 10) < 5 ? below(&r, NHOT) : below(&r, NKEY)]);
			k[NHOST].limit = k[0].limit;	/* the twins (make_keys) */
		}
		if (!event(&r, t, k, cr))
			return 2;
		/* Mostly back to back (limits are reached), now and then a
		 * pause of up to 60 ms (short windows slide, keys expire). */
		if (p < 250)
			sleep_us(below(&r, 2000));
		else if (p < 280)
			sleep_us(5000 + below(&r, 55000));
	}
	printf("replay: seed %llu events %lu (limit <= 10: %lu, above: %lu) calls with"
	    " several keys %lu refused %lu (%lu counted) limit changes %lu regroupings %lu"
	    " counts above 10 %lu in %llu ms\n", seed, r.events, r.events_le10,
	    r.events_gt10, r.multi, r.refused, r.refused_cr, r.limit_changes, r.regroups,
	    r.grouped,
	    (unsigned long long)(ms_now() - start));
	printf("replay: differences at limit <= 10: %lu, above: %lu, beyond the group bound: %lu\n",
	    r.diff_le10, r.diff_gt10, r.beyond);
	window_destroy(t);
	redisFree(r.c);
	free((void *)r.script);
	return r.diff_le10 == 0 && r.beyond == 0 ? 0 : 1;
}
