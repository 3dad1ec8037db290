/*
 * metrics.c: the Prometheus text exposition (format 0.0.4) and the
 * decision-time histogram.  No libmicrohttpd here (metrics_http.c serves
 * the text), so unit tests drive the formatter and the histogram alone.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "reload.h"

#define P METRICS_PREFIX

void
metrics_buf_init(struct metrics_buf *b)
{
	memset(b, 0, sizeof *b);
}

void
metrics_buf_free(struct metrics_buf *b)
{
	free(b->p);
	metrics_buf_init(b);
}

/* Room for n more bytes and a NUL. */
static bool
reserve(struct metrics_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->oom)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	for (cap = b->cap ? b->cap : 4096; cap < b->len + n + 1; cap *= 2)
		;
	if ((p = realloc(b->p, cap)) == NULL) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static void
put(struct metrics_buf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
metrics_printf(struct metrics_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* HELP text: backslash and line feed escaped; label values also '"'. */
static void
escaped(struct metrics_buf *b, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			put(b, "\\\\", 2);
		else if (*s == '\n')
			put(b, "\\n", 2);
		else if (quote && *s == '"')
			put(b, "\\\"", 2);
		else
			put(b, s, 1);
	}
}

void
metrics_label_value(struct metrics_buf *b, const char *v)
{
	escaped(b, v, true);
}

static const char *
type_name(enum metrics_type t)
{
	switch (t) {
	case METRICS_COUNTER:	return "counter";
	case METRICS_GAUGE:	return "gauge";
	case METRICS_HISTOGRAM:	return "histogram";
	}
	return "untyped";
}

void
metrics_family(struct metrics_buf *b, const char *name, enum metrics_type type,
    const char *help)
{
	metrics_printf(b, "# HELP %s ", name);
	escaped(b, help, false);
	metrics_printf(b, "\n# TYPE %s %s\n", name, type_name(type));
}

static void
sample_head(struct metrics_buf *b, const char *name, const char *label,
    const char *value)
{
	put(b, name, strlen(name));
	if (label == NULL)
		return;
	metrics_printf(b, "{%s=\"", label);
	metrics_label_value(b, value);
	put(b, "\"}", 2);
}

void
metrics_sample(struct metrics_buf *b, const char *name, const char *label,
    const char *value, uint64_t v)
{
	sample_head(b, name, label, value);
	metrics_printf(b, " %llu\n", (unsigned long long)v);
}

void
metrics_sample_double(struct metrics_buf *b, const char *name,
    const char *label, const char *value, double v)
{
	sample_head(b, name, label, value);
	/* Enough digits for a Unix time to the microsecond. */
	metrics_printf(b, " %.17g\n", v);
}

/* --- the histogram ---------------------------------------------------------- */

void
metrics_histogram_init(struct metrics_histogram *h, const uint64_t *bounds,
    size_t n)
{
	if (n > METRICS_HIST_MAX)
		n = METRICS_HIST_MAX;
	h->nbounds = n;
	for (size_t i = 0; i < n; i++)
		h->bound_ns[i] = bounds[i];
	for (size_t i = 0; i <= METRICS_HIST_MAX; i++)
		atomic_init(&h->bucket[i], 0);
	atomic_init(&h->sum_ns, 0);
}

/* Lock-free: the first bucket whose bound is >= ns ("le" is inclusive),
 * else +Inf.  A linear scan of a dozen bounds costs less than the two
 * atomic adds. */
void
metrics_histogram_observe(struct metrics_histogram *h, uint64_t ns)
{
	size_t i = 0;

	while (i < h->nbounds && ns > h->bound_ns[i])
		i++;
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
}

void
metrics_histogram_snap(const struct metrics_histogram *h,
    struct metrics_hist_snap *s)
{
	s->nbounds = h->nbounds;
	memcpy(s->bound_ns, h->bound_ns, sizeof s->bound_ns);
	for (size_t i = 0; i <= h->nbounds; i++)
		s->bucket[i] = atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
	s->sum_ns = atomic_load_explicit(&h->sum_ns, memory_order_relaxed);
}

void
metrics_histogram_write(struct metrics_buf *b, const char *name,
    const struct metrics_hist_snap *s)
{
	uint64_t cum = 0;
	char le[32];

	for (size_t i = 0; i < s->nbounds; i++) {
		cum += s->bucket[i];
		snprintf(le, sizeof le, "%.15g", (double)s->bound_ns[i] / 1e9);
		metrics_printf(b, "%s_bucket{le=\"%s\"} %llu\n", name, le,
		    (unsigned long long)cum);
	}
	cum += s->bucket[s->nbounds];
	metrics_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
	metrics_printf(b, "%s_sum %.9f\n", name, (double)s->sum_ns / 1e9);
	metrics_printf(b, "%s_count %llu\n", name, (unsigned long long)cum);
}

/*
 * The connect decision: a table check costs 0.2-0.3 us, a whole callback
 * a few us; the upper buckets catch lock waits (a reload's swap, a shard
 * under load) and a stalled thread.
 */
struct metrics_histogram metrics_decision;

void
metrics_decision_init(void)
{
	static const uint64_t us = 1000;
	static const uint64_t b[] = {
		1 * us, 2500, 5 * us, 10 * us, 25 * us, 50 * us, 100 * us,
		250 * us, 500 * us, 1000 * us, 2500 * us, 10000 * us,
		100000 * us, 1000000 * us,
	};

	metrics_histogram_init(&metrics_decision, b, sizeof b / sizeof b[0]);
}

/* --- gathering and formatting ----------------------------------------------- */

void
metrics_gather(const struct metrics_source *src, struct metrics_snapshot *s)
{
	struct policy *p = src->policy;
	struct reload_status rs;

	memset(s, 0, sizeof *s);
	policy_totals(p, &s->t);
	window_stats(p->table, &s->ws);
	/* The map may be swapped and freed once the lock is gone: read its
	 * size under it. */
	pthread_rwlock_rdlock(&p->lock);
	s->map_entries = exempt_count(p->rules->exempt);
	pthread_rwlock_unlock(&p->lock);
	reload_status(&rs);
	s->reloads.ok = rs.ok;
	s->reloads.failed = rs.failed;
	s->reloads.last_ok = (double)rs.last_ok;
	s->reloads.last_failed = (double)rs.last_failed;
	s->start_time = src->start_time;
	metrics_histogram_snap(&metrics_decision, &s->decision);
}

/*
 * The verdicts split every connection once, so that sum() over them is
 * the number of connections decided:
 *   accepted        under its limit and let in (policy's "allowed" less
 *                   those that max_concurrent then refused)
 *   refused         over its limit, refused (mode enforce)
 *   refused_concurrent  refused by max_concurrent (mode enforce)
 *   would_refuse    over its limit, let in (mode log)
 *   exempt          an OK entry or a listener in mode off
 *   untracked       let in uncounted: the table had no room
 *   no_address      no IP address (local, unknown family)
 * A client let in untracked and then refused by max_concurrent (a full
 * table and a client at its concurrency limit at once) shows as one
 * refused_concurrent and one accepted fewer, and "accepted" is read from
 * two counters apart: prev keeps it from ever going down, which
 * Prometheus would take for a restart.
 */
void
metrics_format(struct metrics_buf *b, const struct metrics_snapshot *s,
    uint64_t *prev_accepted)
{
	const struct policy_totals *t = &s->t;
	uint64_t accepted = t->allowed > t->refused_concurrent ?
	    t->allowed - t->refused_concurrent : 0;

	if (accepted < *prev_accepted)
		accepted = *prev_accepted;
	*prev_accepted = accepted;

	metrics_family(b, P "connections_total", METRICS_COUNTER,
	    "Connections decided at CONNECT, by verdict (each connection once).");
	metrics_sample(b, P "connections_total", "verdict", "accepted", accepted);
	metrics_sample(b, P "connections_total", "verdict", "refused", t->refused);
	metrics_sample(b, P "connections_total", "verdict", "refused_concurrent",
	    t->refused_concurrent);
	metrics_sample(b, P "connections_total", "verdict", "would_refuse",
	    t->would_refuse);
	metrics_sample(b, P "connections_total", "verdict", "exempt", t->exempt);
	metrics_sample(b, P "connections_total", "verdict", "untracked", t->untracked);
	metrics_sample(b, P "connections_total", "verdict", "no_address", t->noaddr);

	metrics_family(b, P "would_refuse_concurrent_total", METRICS_COUNTER,
	    "Connections let in (mode log) that max_concurrent would have refused; "
	    "also counted in connections_total.");
	metrics_sample(b, P "would_refuse_concurrent_total", NULL, NULL,
	    t->would_refuse_concurrent);

	metrics_family(b, P "table_capacity", METRICS_GAUGE,
	    "Client keys the counter table can hold (max_clients, fixed at start).");
	metrics_sample(b, P "table_capacity", NULL, NULL, s->ws.capacity);
	metrics_family(b, P "table_used", METRICS_GAUGE,
	    "Client keys the counter table holds now.");
	metrics_sample(b, P "table_used", NULL, NULL, s->ws.used);
	metrics_family(b, P "table_evictions_total", METRICS_COUNTER,
	    "Client keys dropped from a full table to make room for another.");
	metrics_sample(b, P "table_evictions_total", NULL, NULL, s->ws.evictions);
	metrics_family(b, P "table_expirations_total", METRICS_COUNTER,
	    "Idle client keys reclaimed (their windows had passed).");
	metrics_sample(b, P "table_expirations_total", NULL, NULL, s->ws.expired);

	metrics_family(b, P "map_entries", METRICS_GAUGE,
	    "Entries of the exemption map in force (addresses and names).");
	metrics_sample(b, P "map_entries", NULL, NULL, s->map_entries);

	metrics_family(b, P "reloads_total", METRICS_COUNTER,
	    "Reloads of the configuration or the map, by result (start-up not counted).");
	metrics_sample(b, P "reloads_total", "result", "success", s->reloads.ok);
	metrics_sample(b, P "reloads_total", "result", "failure", s->reloads.failed);
	metrics_family(b, P "last_reload_success_timestamp_seconds", METRICS_GAUGE,
	    "Unix time of the last successful load of the rules (start-up included).");
	metrics_sample_double(b, P "last_reload_success_timestamp_seconds", NULL, NULL,
	    s->reloads.last_ok);
	metrics_family(b, P "last_reload_failure_timestamp_seconds", METRICS_GAUGE,
	    "Unix time of the last failed reload (the rules in force stayed); 0: none.");
	metrics_sample_double(b, P "last_reload_failure_timestamp_seconds", NULL, NULL,
	    s->reloads.last_failed);

	metrics_family(b, P "decision_duration_seconds", METRICS_HISTOGRAM,
	    "Time the milter spent answering CONNECT (decision, counting, reply).");
	metrics_histogram_write(b, P "decision_duration_seconds", &s->decision);

	metrics_family(b, P "start_time_seconds", METRICS_GAUGE,
	    "Unix time the daemon started.");
	metrics_sample_double(b, P "start_time_seconds", NULL, NULL, s->start_time);

	metrics_family(b, P "build_info", METRICS_GAUGE,
	    "Always 1; the version as a label.");
	metrics_sample(b, P "build_info", "version", VERSION, 1);
}

/* --- other modules' families ------------------------------------------------- */

#define EXTRA_MAX 8
static struct { metrics_families_fn *fn; void *arg; } extra[EXTRA_MAX];
static size_t nextra;	/* set before the endpoint's thread starts, then read only */

bool
metrics_add_families(metrics_families_fn *fn, void *arg)
{
	if (nextra == EXTRA_MAX)
		return false;
	extra[nextra].fn = fn;
	extra[nextra].arg = arg;
	nextra++;
	return true;
}

void
metrics_format_extra(struct metrics_buf *b)
{
	for (size_t i = 0; i < nextra; i++)
		extra[i].fn(b, extra[i].arg);
}
