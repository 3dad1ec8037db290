/*
 * test_metrics.c: the Prometheus exposition and the histogram, without
 * HTTP: escaping, HELP/TYPE lines, the histogram's buckets (le inclusive,
 * cumulative, +Inf == _count, _sum in seconds), the derived "accepted"
 * never going down, the families other modules add, and metrics_listen.
 */
#include "unit.h"

#include "metrics.h"
#include "metrics_listen.h"

/* The text of b as a string ("" when empty). */
static const char *
text(const struct metrics_buf *b)
{
	return b->p != NULL ? b->p : "";
}

static void
test_label_escaping(void **state)
{
	struct metrics_buf b;

	(void)state;
	metrics_buf_init(&b);
	metrics_sample(&b, "x_total", "who", "a\\b\"c\nd", 7);
	assert_string_equal(text(&b), "x_total{who=\"a\\\\b\\\"c\\nd\"} 7\n");
	metrics_buf_free(&b);
}

static void
test_help_escaping(void **state)
{
	struct metrics_buf b;

	(void)state;
	metrics_buf_init(&b);
	/* HELP escapes \ and newline, not '"'. */
	metrics_family(&b, "x_total", METRICS_COUNTER, "a \"q\" \\ b\nc");
	assert_string_equal(text(&b),
	    "# HELP x_total a \"q\" \\\\ b\\nc\n# TYPE x_total counter\n");
	metrics_buf_free(&b);
	metrics_buf_init(&b);
	metrics_family(&b, "g", METRICS_GAUGE, "h");
	metrics_family(&b, "h", METRICS_HISTOGRAM, "h");
	assert_string_equal(text(&b), "# HELP g h\n# TYPE g gauge\n"
	    "# HELP h h\n# TYPE h histogram\n");
	metrics_buf_free(&b);
}

static void
test_samples(void **state)
{
	struct metrics_buf b;

	(void)state;
	metrics_buf_init(&b);
	metrics_sample(&b, "n", NULL, NULL, UINT64_MAX);
	metrics_sample_double(&b, "t", NULL, NULL, 1796573403.5);
	metrics_sample_double(&b, "z", NULL, NULL, 0);
	assert_string_equal(text(&b), "n 18446744073709551615\nt 1796573403.5\nz 0\n");
	metrics_buf_free(&b);
}

/* A buffer that grows far past its first allocation keeps every byte. */
static void
test_buffer_grows(void **state)
{
	struct metrics_buf b;

	(void)state;
	metrics_buf_init(&b);
	for (int i = 0; i < 5000; i++)
		metrics_printf(&b, "%04d\n", i % 10000);
	assert_false(b.oom);
	assert_int_equal(b.len, 5000 * 5);
	assert_memory_equal(b.p + 4999 * 5, "4999\n", 5);
	assert_int_equal(strlen(b.p), b.len);
	metrics_buf_free(&b);
}

static void
test_histogram_buckets(void **state)
{
	static const uint64_t bounds[] = { 1000, 5000, 1000000 };
	struct metrics_histogram h;
	struct metrics_hist_snap s;
	struct metrics_buf b;

	(void)state;
	metrics_histogram_init(&h, bounds, 3);
	metrics_histogram_observe(&h, 0);		/* le 1e-06 */
	metrics_histogram_observe(&h, 1000);		/* le 1e-06: inclusive */
	metrics_histogram_observe(&h, 1001);		/* le 5e-06 */
	metrics_histogram_observe(&h, 1000000);	/* le 0.001 */
	metrics_histogram_observe(&h, 3000000000u);	/* +Inf only */
	metrics_histogram_snap(&h, &s);
	assert_int_equal(s.bucket[0], 2);
	assert_int_equal(s.bucket[1], 1);
	assert_int_equal(s.bucket[2], 1);
	assert_int_equal(s.bucket[3], 1);
	metrics_buf_init(&b);
	metrics_histogram_write(&b, "d_seconds", &s);
	assert_string_equal(text(&b),
	    "d_seconds_bucket{le=\"1e-06\"} 2\n"
	    "d_seconds_bucket{le=\"5e-06\"} 3\n"
	    "d_seconds_bucket{le=\"0.001\"} 4\n"
	    "d_seconds_bucket{le=\"+Inf\"} 5\n"
	    "d_seconds_sum 3.001002001\n"
	    "d_seconds_count 5\n");
	metrics_buf_free(&b);
}

/* The decision histogram's own buckets: ascending, and an empty one
 * writes zeros with +Inf == _count == 0. */
static void
test_decision_histogram(void **state)
{
	struct metrics_hist_snap s;
	struct metrics_buf b;

	(void)state;
	metrics_decision_init();
	metrics_histogram_snap(&metrics_decision, &s);
	assert_true(s.nbounds >= 8);
	for (size_t i = 1; i < s.nbounds; i++)
		assert_true(s.bound_ns[i - 1] < s.bound_ns[i]);
	metrics_buf_init(&b);
	metrics_histogram_write(&b, "d", &s);
	assert_non_null(strstr(text(&b), "d_bucket{le=\"+Inf\"} 0\nd_sum 0.000000000\nd_count 0\n"));
	metrics_buf_free(&b);
	metrics_histogram_observe(&metrics_decision, 2000);	/* 2 us */
	metrics_histogram_snap(&metrics_decision, &s);
	metrics_buf_init(&b);
	metrics_histogram_write(&b, "d", &s);
	assert_non_null(strstr(text(&b), "d_bucket{le=\"1e-06\"} 0\nd_bucket{le=\"2.5e-06\"} 1\n"));
	assert_non_null(strstr(text(&b), "d_count 1\n"));
	metrics_buf_free(&b);
	metrics_decision_init();
}

/* A whole exposition from a fixed snapshot: every family, in order, and
 * the verdicts adding up to the connections seen. */
static void
test_format_snapshot(void **state)
{
	struct metrics_snapshot s;
	struct metrics_buf b;
	uint64_t prev = 0;

	(void)state;
	memset(&s, 0, sizeof s);
	s.t.allowed = 10;
	s.t.refused = 4;
	s.t.exempt = 3;
	s.t.refused_concurrent = 2;
	s.t.would_refuse = 1;
	s.t.untracked = 5;
	s.t.noaddr = 6;
	s.t.would_refuse_concurrent = 9;
	s.ws.capacity = 1024;
	s.ws.used = 17;
	s.ws.evictions = 8;
	s.ws.expired = 12;
	s.map_entries = 42;
	s.reloads.ok = 3;
	s.reloads.failed = 1;
	s.reloads.last_ok = 1796573403.25;
	s.reloads.last_failed = 1796573000;
	s.start_time = 1796570000;
	metrics_buf_init(&b);
	metrics_format(&b, &s, &prev);
	assert_false(b.oom);
	const char *want[] = {
		"# TYPE milter_ratelimit_connections_total counter\n",
		"milter_ratelimit_connections_total{verdict=\"accepted\"} 8\n",
		"milter_ratelimit_connections_total{verdict=\"refused\"} 4\n",
		"milter_ratelimit_connections_total{verdict=\"refused_concurrent\"} 2\n",
		"milter_ratelimit_connections_total{verdict=\"would_refuse\"} 1\n",
		"milter_ratelimit_connections_total{verdict=\"exempt\"} 3\n",
		"milter_ratelimit_connections_total{verdict=\"untracked\"} 5\n",
		"milter_ratelimit_connections_total{verdict=\"no_address\"} 6\n",
		"milter_ratelimit_would_refuse_concurrent_total 9\n",
		"# TYPE milter_ratelimit_table_capacity gauge\n",
		"milter_ratelimit_table_capacity 1024\n",
		"milter_ratelimit_table_used 17\n",
		"milter_ratelimit_table_evictions_total 8\n",
		"milter_ratelimit_table_expirations_total 12\n",
		"milter_ratelimit_map_entries 42\n",
		"milter_ratelimit_reloads_total{result=\"success\"} 3\n",
		"milter_ratelimit_reloads_total{result=\"failure\"} 1\n",
		"milter_ratelimit_last_reload_success_timestamp_seconds 1796573403.25\n",
		"milter_ratelimit_last_reload_failure_timestamp_seconds 1796573000\n",
		"# TYPE milter_ratelimit_decision_duration_seconds histogram\n",
		"milter_ratelimit_decision_duration_seconds_count 0\n",
		"milter_ratelimit_start_time_seconds 1796570000\n",
		"milter_ratelimit_build_info{version=\"" VERSION "\"} 1\n",
	};
	const char *at = text(&b);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const char *f = strstr(at, want[i]);
		if (f == NULL)
			fail_msg("missing (or out of order): %s\nin:\n%s", want[i], text(&b));
		at = f + strlen(want[i]);
	}
	/* Every line is a comment or a sample; the text ends in a newline. */
	assert_int_equal(b.p[b.len - 1], '\n');
	metrics_buf_free(&b);
	/* 8 + 4 + 2 + 1 + 3 + 5 + 6: every connection once. */
	assert_int_equal(8 + 4 + 2 + 1 + 3 + 5 + 6,
	    s.t.allowed + s.t.refused + s.t.exempt + s.t.would_refuse +
	    s.t.untracked + s.t.noaddr);
}

/* "accepted" is derived from two counters read apart: shown, it never
 * goes down (Prometheus would read that as a restart). */
static void
test_accepted_monotonic(void **state)
{
	struct metrics_snapshot s;
	struct metrics_buf b;
	uint64_t prev = 0;

	(void)state;
	memset(&s, 0, sizeof s);
	s.t.allowed = 10;
	s.t.refused_concurrent = 1;
	metrics_buf_init(&b);
	metrics_format(&b, &s, &prev);
	assert_int_equal(prev, 9);
	metrics_buf_free(&b);
	s.t.refused_concurrent = 3;	/* a concurrency refusal of an untracked client */
	metrics_buf_init(&b);
	metrics_format(&b, &s, &prev);
	assert_non_null(strstr(text(&b), "{verdict=\"accepted\"} 9\n"));
	assert_int_equal(prev, 9);
	metrics_buf_free(&b);
	s.t.allowed = 20;
	metrics_buf_init(&b);
	metrics_format(&b, &s, &prev);
	assert_non_null(strstr(text(&b), "{verdict=\"accepted\"} 17\n"));
	metrics_buf_free(&b);
}

static void
extra_one(struct metrics_buf *b, void *arg)
{
	metrics_family(b, "milter_ratelimit_test_up", METRICS_GAUGE, "test");
	metrics_sample(b, "milter_ratelimit_test_up", NULL, NULL, *(uint64_t *)arg);
}

static void
test_extra_families(void **state)
{
	static uint64_t v = 1;
	struct metrics_buf b;

	(void)state;
	assert_true(metrics_add_families(extra_one, &v));
	metrics_buf_init(&b);
	metrics_format_extra(&b);
	assert_string_equal(text(&b), "# HELP milter_ratelimit_test_up test\n"
	    "# TYPE milter_ratelimit_test_up gauge\nmilter_ratelimit_test_up 1\n");
	metrics_buf_free(&b);
}

static const struct {
	const char *spec;
	const char *shown;	/* NULL: refused */
} listens[] = {
	{ "127.0.0.1:9456",		"127.0.0.1:9456" },
	{ "[::1]:9456",			"[::1]:9456" },
	{ "192.0.2.7:1",		"192.0.2.7:1" },
	{ "[2001:db8::5]:65535",	"[2001:db8::5]:65535" },
	{ "0.0.0.0:9456",		"0.0.0.0:9456" },	/* asked for by address */
	{ "[::]:9456",			"[::]:9456" },
	{ "9456",			NULL },	/* a bare port: every interface */
	{ ":9456",			NULL },
	{ "localhost:9456",		NULL },	/* names are not resolved */
	{ "127.1:9456",			NULL },
	{ "127.0.0.1",			NULL },
	{ "127.0.0.1:",			NULL },
	{ "127.0.0.1:0",		NULL },
	{ "127.0.0.1:65536",		NULL },
	{ "127.0.0.1:09456",		NULL },
	{ "127.0.0.1:+9456",		NULL },
	{ "127.0.0.1:9456 ",		NULL },
	{ "::1:9456",			NULL },	/* IPv6 needs brackets */
	{ "[::1]9456",			NULL },
	{ "[::1]:",			NULL },
	{ "[fe80::1%eth0]:9456",	NULL },
	{ "[127.0.0.1]:9456",		NULL },
	{ "[::1:9456",			NULL },
	{ "",				NULL },
};

static void
test_listen_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof listens / sizeof listens[0]; i++) {
		struct metrics_listen l;
		char err[300] = "", shown[METRICS_LISTEN_STRLEN];
		bool ok = metrics_listen_parse(listens[i].spec, &l, err, sizeof err);

		if (ok != (listens[i].shown != NULL))
			fail_msg("\"%s\": parse %s, want %s (%s)", listens[i].spec,
			    ok ? "ok" : "refused", ok ? "refused" : "ok", err);
		if (!ok) {
			/* The message names the option and the value. */
			assert_non_null(strstr(err, "metrics_listen"));
			continue;
		}
		metrics_listen_format(&l, shown, sizeof shown);
		assert_string_equal(shown, listens[i].shown);
		assert_int_equal(l.salen, l.sa.ss_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	}
}

static void
test_listen_loopback(void **state)
{
	static const struct { const char *spec; bool loop; } cases[] = {
		{ "127.0.0.1:9456", true },
		{ "127.255.0.9:9456", true },
		{ "[::1]:9456", true },
		{ "[::ffff:127.0.0.1]:9456", true },
		{ "128.0.0.1:9456", false },
		{ "0.0.0.0:9456", false },
		{ "192.0.2.1:9456", false },
		{ "[::]:9456", false },
		{ "[::2]:9456", false },
		{ "[::ffff:192.0.2.1]:9456", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct metrics_listen l;
		char err[300];

		assert_true(metrics_listen_parse(cases[i].spec, &l, err, sizeof err));
		if (metrics_listen_is_loopback(&l) != cases[i].loop)
			fail_msg("%s: loopback %d, want %d", cases[i].spec,
			    !cases[i].loop, cases[i].loop);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_help_escaping),
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_buffer_grows),
		cmocka_unit_test(test_histogram_buckets),
		cmocka_unit_test(test_decision_histogram),
		cmocka_unit_test(test_format_snapshot),
		cmocka_unit_test(test_accepted_monotonic),
		cmocka_unit_test(test_extra_families),
		cmocka_unit_test(test_listen_parse),
		cmocka_unit_test(test_listen_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
