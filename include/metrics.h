/*
 * metrics.h: the Prometheus exposition (text format 0.0.4) and the
 * decision-time histogram.
 *
 * Rendering is split in two so that no lock a milter thread could wait on
 * is held while text is formatted: metrics_gather() takes a snapshot (the
 * counters are relaxed atomics; the table's figures are read shard by
 * shard under each shard's lock, O(1) each, as SIGUSR2 does; the map's
 * size under the rules' read lock, O(1); the reload record under
 * reload.c's status lock, which no milter thread takes), then metrics_format() writes the
 * text from the snapshot alone, with no lock at all.
 *
 * Other modules add families of their own (the Redis backend: its state
 * and round-trip times) with metrics_add_families(): each function is
 * called at every scrape, after ours, with no lock of ours held, and
 * writes whole families with metrics_family() / metrics_sample() /
 * metrics_histogram_write().  For Redis, in the spirit of the names here:
 * a gauge milter_ratelimit_redis_up (1 connected, 0 not), a counter
 * milter_ratelimit_redis_errors_total{kind}, and a histogram
 * milter_ratelimit_redis_roundtrip_seconds observed with
 * metrics_histogram_observe() from the threads that talk to Redis (its
 * own struct metrics_histogram, lock-free).  Register before
 * metrics_http_start(): the list is read without a lock afterwards.
 */
#ifndef MRL_METRICS_H
#define MRL_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "window.h"

#define METRICS_PREFIX "milter_ratelimit_"

/* A growing text buffer; oom set once an allocation failed (the text is
 * then incomplete and is not served). */
struct metrics_buf {
	char *p;
	size_t len, cap;
	bool oom;
};

void metrics_buf_init(struct metrics_buf *b);
void metrics_buf_free(struct metrics_buf *b);
void metrics_printf(struct metrics_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

enum metrics_type { METRICS_COUNTER, METRICS_GAUGE, METRICS_HISTOGRAM };

/* "# HELP name help" (help escaped: \ and newline) and "# TYPE name type". */
void metrics_family(struct metrics_buf *b, const char *name,
    enum metrics_type type, const char *help);
/* A label value escaped as the format says: \ " and newline. */
void metrics_label_value(struct metrics_buf *b, const char *v);
/* One sample "name{label="value"} v" (label NULL: no label set), v an
 * integer (counters and gauges of counts). */
void metrics_sample(struct metrics_buf *b, const char *name, const char *label,
    const char *value, uint64_t v);
/* The same with a floating value (seconds, timestamps). */
void metrics_sample_double(struct metrics_buf *b, const char *name,
    const char *label, const char *value, double v);

/*
 * A histogram of durations with fixed buckets.  observe is lock-free: one
 * relaxed atomic add to its bucket, one to the sum (nanoseconds); the
 * count is the sum of the buckets, read at render, so that _count and the
 * +Inf bucket always agree.  Buckets are upper bounds in nanoseconds,
 * inclusive ("le"), ascending; the +Inf bucket is implicit.
 */
#define METRICS_HIST_MAX 24
struct metrics_histogram {
	size_t nbounds;
	uint64_t bound_ns[METRICS_HIST_MAX];
	atomic_uint_fast64_t bucket[METRICS_HIST_MAX + 1];	/* [nbounds]: +Inf */
	atomic_uint_fast64_t sum_ns;
};

/* A plain copy, for formatting without the atomics. */
struct metrics_hist_snap {
	size_t nbounds;
	uint64_t bound_ns[METRICS_HIST_MAX];
	uint64_t bucket[METRICS_HIST_MAX + 1];	/* not cumulative */
	uint64_t sum_ns;
};

/* bounds: n ascending upper bounds in ns (n <= METRICS_HIST_MAX). */
void metrics_histogram_init(struct metrics_histogram *h, const uint64_t *bounds,
    size_t n);
void metrics_histogram_observe(struct metrics_histogram *h, uint64_t ns);
void metrics_histogram_snap(const struct metrics_histogram *h,
    struct metrics_hist_snap *s);
/* The family's samples (_bucket cumulative with le in seconds, _sum in
 * seconds, _count); the HELP and TYPE lines are the caller's. */
void metrics_histogram_write(struct metrics_buf *b, const char *name,
    const struct metrics_hist_snap *s);

/* The connect decision's time, observed by milter.c. */
extern struct metrics_histogram metrics_decision;
void metrics_decision_init(void);

/* Reloads as reload.c counts them (reload_status; start-up not
 * counted). */
struct metrics_reloads {
	uint64_t ok, failed;
	double last_ok;		/* Unix time of the last good load (start-up
				 * included); 0: unknown */
	double last_failed;	/* Unix time of the last failed one; 0: never */
};

/* What one scrape shows, gathered at once. */
struct metrics_snapshot {
	struct policy_totals t;
	struct window_stats ws;
	uint64_t map_entries;
	struct metrics_reloads reloads;
	double start_time;	/* Unix time the daemon started */
	struct metrics_hist_snap decision;
};

/* Where metrics_gather() reads from; set once at start. */
struct metrics_source {
	struct policy *policy;
	double start_time;
};

/* Takes the locks named at the top, one at a time, for O(1) each, and
 * reload.c's status lock to copy its record. */
void metrics_gather(const struct metrics_source *src, struct metrics_snapshot *s);
/* No lock.  prev_accepted: the last "accepted" value shown (in and out),
 * so that the derived counter never goes down (see metrics.c). */
void metrics_format(struct metrics_buf *b, const struct metrics_snapshot *s,
    uint64_t *prev_accepted);

typedef void metrics_families_fn(struct metrics_buf *b, void *arg);
/* Register fn (at start, before the endpoint runs); false when full. */
bool metrics_add_families(metrics_families_fn *fn, void *arg);
/* Every registered fn, in order (metrics_http.c, at each scrape). */
void metrics_format_extra(struct metrics_buf *b);

#endif
