/*
 * test_config.c: config.h, loading, defaults, validation and error lines.
 *
 * Every file is written into a fresh temporary directory; every error is
 * expected as exactly one report line "FILE:LINE: message" naming the line
 * that is wrong.
 */
#include "unit.h"

#include <confuse.h>

#include "config.h"

#define MAXREP 16
static struct {
	int n;
	char line[MAXREP][1024];
} rep;

static void report_cb(const char *line)
{
	if (rep.n < MAXREP)
		snprintf(rep.line[rep.n], sizeof(rep.line[0]), "%s", line ? line : "(null)");
	rep.n++;
}

/* Write content to NAME in the temp dir and load it. */
static struct config *load_text(const char *name, const char *content,
    char *path, size_t pathlen)
{
	unit_path(path, pathlen, unit_tmp(), name);
	unit_write_file(path, content);
	memset(&rep, 0, sizeof(rep));
	return config_load(path, report_cb);
}

static const char *const sample_socket = "unix:/run/milter-ratelimit/milter-ratelimit.sock";

static void assert_defaults(const struct config *c, const char *path)
{
	assert_non_null(c);
	assert_string_equal(c->path, path);
	assert_string_equal(c->socket, sample_socket);
	assert_int_equal(c->limit, 10);
	assert_int_equal(c->window, 60);
	assert_int_equal(c->ipv4_prefix, 32);
	assert_int_equal(c->ipv6_prefix, 64);
	assert_null(c->exempt_map);
	assert_int_equal(c->reply_stage, STAGE_CONNECT);
	assert_string_equal(c->reply_text, "Connection rate limit exceeded");
	assert_string_equal(c->reply_escaped, "Connection rate limit exceeded");
	assert_int_equal(c->mode, MODE_ENFORCE);
	assert_int_equal(c->max_clients, 1000000);
	assert_int_equal(c->max_concurrent, 0);	/* off */
	assert_true(c->count_refused);
}

static void test_sample_config(void **state)
{
	char top[PATH_MAX], path[PATH_MAX];
	struct config *c;

	(void)state;
	unit_topdir(top, sizeof(top));
	unit_path(path, sizeof(path), top, "conf/milter-ratelimit.conf");
	memset(&rep, 0, sizeof(rep));
	c = config_load(path, report_cb);
	if (c == NULL)
		fail_msg("%s did not load: %d reports, first: %s", path, rep.n,
		    rep.line[0]);
	assert_int_equal(rep.n, 0);
	assert_defaults(c, path);
	config_free(c);
}

static void test_empty_file_gives_defaults(void **state)
{
	char path[PATH_MAX];
	struct config *c;

	(void)state;
	c = load_text("empty.conf", "", path, sizeof(path));
	assert_int_equal(rep.n, 0);
	assert_defaults(c, path);
	config_free(c);

	c = load_text("comments.conf", "# nothing here\n\n   # still nothing\n",
	    path, sizeof(path));
	assert_int_equal(rep.n, 0);
	assert_defaults(c, path);
	config_free(c);
}

static void test_values_at_the_bounds(void **state)
{
	char path[PATH_MAX], text[2048], long_text[CONFIG_REPLY_MAX + 1];
	struct config *c;

	(void)state;
	memset(long_text, 'x', CONFIG_REPLY_MAX);
	long_text[CONFIG_REPLY_MAX] = '\0';
	snprintf(text, sizeof(text),
	    "socket = \"inet:8890@127.0.0.1\"\n"
	    "limit = 1\n"
	    "window = 1\n"
	    "ipv4_prefix = 32\n"
	    "ipv6_prefix = 128\n"
	    "exempt_map = \"/etc/mail/ratelimit-exempt.db\"\n"
	    "reply_stage = \"helo\"\n"
	    "reply_text = \"%s\"\n"
	    "mode = \"log\"\n"
	    "max_clients = 100000000\n"
	    "max_concurrent = 100000\n"
	    "count_refused = false\n", long_text);
	c = load_text("low.conf", text, path, sizeof(path));
	if (c == NULL)
		fail_msg("low.conf: %s", rep.line[0]);
	assert_int_equal(rep.n, 0);
	assert_string_equal(c->socket, "inet:8890@127.0.0.1");
	assert_int_equal(c->limit, 1);
	assert_int_equal(c->window, 1);
	assert_int_equal(c->ipv4_prefix, 32);
	assert_int_equal(c->ipv6_prefix, 128);
	assert_string_equal(c->exempt_map, "/etc/mail/ratelimit-exempt.db");
	assert_int_equal(c->reply_stage, STAGE_HELO);
	assert_string_equal(c->reply_text, long_text);
	assert_int_equal(c->mode, MODE_LOG);
	assert_int_equal(c->max_clients, 100000000);
	assert_int_equal(c->max_concurrent, 100000);
	assert_false(c->count_refused);
	config_free(c);

	c = load_text("high.conf",
	    "limit = 9000\n"
	    "window = 86400\n"
	    "ipv4_prefix = 8\n"
	    "ipv6_prefix = 16\n"
	    "max_clients = 100\n"
	    "max_concurrent = 1\n"
	    "reply_stage = \"connect\"\n"
	    "mode = \"enforce\"\n"
	    "count_refused = true\n", path, sizeof(path));
	if (c == NULL)
		fail_msg("high.conf: %s", rep.line[0]);
	assert_int_equal(rep.n, 0);
	assert_int_equal(c->limit, 9000);
	assert_int_equal(c->window, 86400);
	assert_int_equal(c->ipv4_prefix, 8);
	assert_int_equal(c->ipv6_prefix, 16);
	assert_int_equal(c->max_clients, 100);
	assert_int_equal(c->max_concurrent, 1);
	assert_int_equal(c->reply_stage, STAGE_CONNECT);
	assert_int_equal(c->mode, MODE_ENFORCE);
	assert_true(c->count_refused);
	config_free(c);
}

/*
 * One bad line in an otherwise good file: NULL, and exactly one report
 * "FILE:LINE: message" naming that line.
 */
static int expect_bad_at(const char *what, const char *content, int line)
{
	char path[PATH_MAX], prefix[PATH_MAX + 32];
	struct config *c;
	size_t pl;

	c = load_text("bad.conf", content, path, sizeof(path));
	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	pl = strlen(prefix);
	if (c != NULL) {
		print_error("%s: loaded, want an error at line %d\n", what, line);
		config_free(c);
		return 1;
	}
	if (rep.n != 1) {
		print_error("%s: %d report lines, want 1 (first: \"%s\")\n", what,
		    rep.n, rep.n > 0 ? rep.line[0] : "");
		return 1;
	}
	if (strncmp(rep.line[0], prefix, pl) != 0 || rep.line[0][pl] == '\0') {
		print_error("%s: report \"%s\", want \"%s...\"\n", what, rep.line[0],
		    prefix);
		return 1;
	}
	if (strchr(rep.line[0], '\n') != NULL) {
		print_error("%s: report is not one line: \"%s\"\n", what, rep.line[0]);
		return 1;
	}
	return 0;
}

/* The bad line third of four, among good ones. */
static int expect_bad_third(const char *what, const char *line)
{
	char text[4096];

	snprintf(text, sizeof(text),
	    "socket = \"unix:/x\"\nlimit = 5\n%s\nwindow = 30\n", line);
	return expect_bad_at(what, text, 3);
}

/* control_socket: the default (line 0: best effort), a named path (its
 * line), "" (off); control_group: "" is the daemon's, a name is kept. */
static void test_control_options(void **state)
{
	char path[PATH_MAX];
	struct config *c;

	(void)state;
	c = load_text("ctl1.conf", "limit = 5\n", path, sizeof path);
	assert_non_null(c);
	assert_string_equal(c->control_socket, CONFIG_CONTROL_SOCKET);
	assert_int_equal(c->control_socket_line, 0);
	assert_null(c->control_group);
	config_free(c);
	c = load_text("ctl2.conf", "limit = 5\n\ncontrol_socket = \"/tmp/x/c.sock\"\n"
	    "control_group = \"root\"\n", path, sizeof path);
	assert_non_null(c);
	assert_string_equal(c->control_socket, "/tmp/x/c.sock");
	assert_int_equal(c->control_socket_line, 3);
	assert_string_equal(c->control_group, "root");
	{
		struct config *d = config_dup(c);

		assert_non_null(d);
		assert_string_equal(d->control_socket, "/tmp/x/c.sock");
		assert_string_equal(d->control_group, "root");
		config_free(d);
	}
	config_free(c);
	c = load_text("ctl3.conf", "control_socket = \"\"\n", path, sizeof path);
	assert_non_null(c);
	assert_null(c->control_socket);
	config_free(c);
}

static void test_bad_values(void **state)
{
	static const struct {
		const char *what, *line;
	} cases[] = {
		{ "unknown option", "bogus = 1" },
		{ "limit 0", "limit = 0" },
		{ "limit 9001", "limit = 9001" },	/* man page: 1 to 9000 */
		{ "limit 100001", "limit = 100001" },
		{ "limit -1", "limit = -1" },
		{ "limit not a number", "limit = abc" },
		{ "window 0", "window = 0" },
		{ "window 86401", "window = 86401" },
		{ "window -60", "window = -60" },
		{ "ipv4_prefix 7", "ipv4_prefix = 7" },
		{ "ipv4_prefix 33", "ipv4_prefix = 33" },
		{ "ipv6_prefix 15", "ipv6_prefix = 15" },
		{ "ipv6_prefix 129", "ipv6_prefix = 129" },
		{ "reply_stage ehlo", "reply_stage = \"ehlo\"" },
		{ "reply_stage empty", "reply_stage = \"\"" },
		{ "mode off", "mode = \"off\"" },
		{ "mode empty", "mode = \"\"" },
		{ "reply_text newline", "reply_text = \"two\\nlines\"" },
		{ "reply_text CR", "reply_text = \"two\\rlines\"" },
		{ "reply_text tab", "reply_text = \"a\\tb\"" },
		{ "reply_text non-ASCII", "reply_text = \"caf\xc3\xa9\"" },
		{ "max_clients 99", "max_clients = 99" },
		{ "max_clients 100000001", "max_clients = 100000001" },
		{ "max_clients -1", "max_clients = -1" },
		{ "max_concurrent 100001", "max_concurrent = 100001" },
		{ "max_concurrent -1", "max_concurrent = -1" },
		{ "count_refused maybe", "count_refused = maybe" },
		{ "metrics_listen host name", "metrics_listen = \"localhost:9456\"" },
		{ "metrics_listen bare port", "metrics_listen = \"9456\"" },
		{ "metrics_listen IPv6 unbracketed", "metrics_listen = \"::1:9456\"" },
		{ "metrics_listen port 0", "metrics_listen = \"127.0.0.1:0\"" },
		{ "syntax error", "limit = = 5" },
		{ "control_socket relative", "control_socket = \"run/c.sock\"" },
		{ "control_socket a directory", "control_socket = \"/run/x/\"" },
		{ "control_socket too long", "control_socket = \"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"" },
		{ "control_group unknown", "control_group = \"no-such-group-mrl\"" },
	};
	char text[4096];
	size_t i;
	int nbad = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* the bad line third of four */
		nbad += expect_bad_third(cases[i].what, cases[i].line);
		/* and first, and last with no newline after it */
		snprintf(text, sizeof(text), "%s\nlimit = 5\n", cases[i].line);
		nbad += expect_bad_at(cases[i].what, text, 1);
		snprintf(text, sizeof(text), "limit = 5\n\n\n\nwindow = 30\n%s",
		    cases[i].line);
		nbad += expect_bad_at(cases[i].what, text, 6);
	}
	assert_int_equal(nbad, 0);
}

/* The same after comment lines and trailing comments, as every real
 * config has them (the sample has 20 comment lines before `limit`). */
static void test_bad_line_after_comments(void **state)
{
	static const char *const bad[] = {
		"bogus = 1", "limit = 0", "window = 86401", "mode = \"off\"",
		"limit = = 5",
	};
	char text[4096];
	size_t i;
	int nbad = 0;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "# a comment\nlimit = 5\n%s\n", bad[i]);
		nbad += expect_bad_at(bad[i], text, 3);
		snprintf(text, sizeof(text), "limit = 5   # five\n%s\n", bad[i]);
		nbad += expect_bad_at(bad[i], text, 2);
		snprintf(text, sizeof(text), "# a comment\nlimit = 5   # five\n"
		    "\n# another\n%s\nwindow = 30\n", bad[i]);
		nbad += expect_bad_at(bad[i], text, 5);
	}
	assert_int_equal(nbad, 0);
}

/*
 * The comment stripper must read text as libconfuse 3.3's lexer does: "//"
 * and "/" "*" open a comment only where a token starts, not inside an
 * unquoted string (a URL, a path with "//"); '#' opens one anywhere
 * outside quotes.  Each value is parsed twice, by libconfuse itself and by
 * config_parse_text, and must come out the same.
 */
static void quiet_cfg(cfg_t *cfg, const char *fmt, va_list ap)
{
	(void)cfg;
	(void)fmt;
	(void)ap;
}

static void test_comments_as_libconfuse(void **state)
{
	static const char *const values[] = {
		"http://status.example.net/x",
		"/a//b.db",
		"/var//lib///x.db   // a comment",
		"/a/b.db // comment",
		"/a/b.db# comment",
		"/a/b.db # comment",
		"/a/b.db /* comment */",
		"/a/b.db/* not a comment: '*' is no part of a word",
		"x*//y",
		"a//",
		"'/q//r'//c",
		"\"p//q\"// c",
		"\"p/*q*/\"",
		"$x//y",
		"a+//b",
		"https://x.example/?a=b",
	};
	cfg_opt_t opts[] = {
		CFG_STR("exempt_map", "", CFGF_NONE),
		CFG_INT("limit", 10, CFGF_NONE),
		CFG_END()
	};
	int nbad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char text[512];
		struct config *c;
		cfg_t *cfg;
		bool lc_ok;
		char lc_map[256] = "";
		long lc_limit = 0;

		snprintf(text, sizeof(text), "exempt_map = %s\nlimit = 7\n", values[i]);
		cfg = cfg_init(opts, CFGF_NONE);
		assert_non_null(cfg);
		cfg_set_error_function(cfg, quiet_cfg);
		lc_ok = cfg_parse_buf(cfg, text) == CFG_SUCCESS;
		if (lc_ok) {
			snprintf(lc_map, sizeof(lc_map), "%s", cfg_getstr(cfg, "exempt_map"));
			lc_limit = cfg_getint(cfg, "limit");
		}
		cfg_free(cfg);

		memset(&rep, 0, sizeof(rep));
		c = config_parse_text("t.conf", text, strlen(text), report_cb);
		if (lc_ok != (c != NULL)) {
			print_error("[%s]: libconfuse %s, config_parse_text %s (%s)\n",
			    values[i], lc_ok ? "accepts" : "refuses",
			    c ? "accepts" : "refuses", rep.n ? rep.line[0] : "");
			nbad++;
		} else if (c != NULL &&
		    (strcmp(c->exempt_map ? c->exempt_map : "", lc_map) != 0 ||
		    (long)c->limit != lc_limit)) {
			print_error("[%s]: libconfuse reads \"%s\" and %ld, "
			    "config_parse_text \"%s\" and %u\n", values[i], lc_map,
			    lc_limit, c->exempt_map ? c->exempt_map : "", c->limit);
			nbad++;
		}
		config_free(c);
	}
	assert_int_equal(nbad, 0);
}

/*
 * The same over random text made of the characters that matter to the
 * lexer: whenever libconfuse itself accepts a file, config_parse_text must
 * accept it too and read the same values.  (The other way round is no
 * oracle: libconfuse refuses a comment where a value should be, which the
 * stripper has blanked.)
 */
static void test_comments_as_libconfuse_random(void **state)
{
	static const char alphabet[] = "ab/*#\"' \t\n=+,x/*";
	cfg_opt_t opts[] = {
		CFG_STR("exempt_map", "", CFGF_NONE),
		CFG_INT("limit", 10, CFGF_NONE),
		CFG_END()
	};
	uint64_t rng = 0x5eed;
	int nbad = 0, accepted = 0;

	(void)state;
	for (int i = 0; i < 20000 && nbad < 5; i++) {
		char value[16], text[128];
		size_t len = 1 + unit_below(&rng, sizeof(value) - 1);
		struct config *c;
		cfg_t *cfg;
		char lc_map[64];
		long lc_limit;

		for (size_t j = 0; j < len; j++)
			value[j] = alphabet[unit_below(&rng, sizeof(alphabet) - 1)];
		value[len] = '\0';
		snprintf(text, sizeof(text), "exempt_map = /m%s\nlimit = 7\n", value);
		cfg = cfg_init(opts, CFGF_NONE);
		assert_non_null(cfg);
		cfg_set_error_function(cfg, quiet_cfg);
		if (cfg_parse_buf(cfg, text) != CFG_SUCCESS) {
			cfg_free(cfg);
			continue;
		}
		snprintf(lc_map, sizeof(lc_map), "%s", cfg_getstr(cfg, "exempt_map"));
		lc_limit = cfg_getint(cfg, "limit");
		cfg_free(cfg);
		accepted++;
		memset(&rep, 0, sizeof(rep));
		c = config_parse_text("t.conf", text, strlen(text), report_cb);
		if (c == NULL || strcmp(c->exempt_map ? c->exempt_map : "", lc_map) != 0 ||
		    (long)c->limit != lc_limit) {
			print_error("[%s]: libconfuse reads \"%s\" and %ld; "
			    "config_parse_text: %s \"%s\"\n", text, lc_map, lc_limit,
			    c ? "reads" : "refuses", c ? (c->exempt_map ? c->exempt_map : "")
			    : (rep.n ? rep.line[0] : ""));
			nbad++;
		}
		config_free(c);
	}
	/* The generator must reach accepted files often enough to mean much. */
	assert_true(accepted > 1000);
	assert_int_equal(nbad, 0);
}

/* The values of the issue, by name, and line numbers still right after
 * each kind of comment. */
static void test_slashes_in_unquoted_values(void **state)
{
	char path[PATH_MAX];
	struct config *c;

	(void)state;
	c = load_text("url.conf",
	    "reply_text = http://status.example.net/x\n"
	    "exempt_map = /a//b.db\n", path, sizeof(path));
	if (c == NULL)
		fail_msg("did not load: %s", rep.line[0]);
	assert_string_equal(c->reply_text, "http://status.example.net/x");
	assert_string_equal(c->exempt_map, "/a//b.db");
	config_free(c);

	assert_int_equal(expect_bad_at("after //",
	    "// one\nlimit = 5 // five\nexempt_map = /x//y.db // z\nbogus = 1\n", 4), 0);
	assert_int_equal(expect_bad_at("after /* */",
	    "/* one\ntwo */ limit = 5 /* five\n\n*/\nbogus = 1\n", 5), 0);
}

static void test_reply_text_too_long(void **state)
{
	char text[2048], long_text[CONFIG_REPLY_MAX + 2];

	(void)state;
	memset(long_text, 'y', CONFIG_REPLY_MAX + 1);
	long_text[CONFIG_REPLY_MAX + 1] = '\0';
	snprintf(text, sizeof(text), "limit = 5\nreply_text = \"%s\"\n", long_text);
	assert_int_equal(expect_bad_at("reply_text one too long", text, 2), 0);
}

/*
 * libmilter's smfi_setreply() refuses a text longer than 980 characters
 * (MAXREPLYLEN, the text alone), counted as it is sent: with each '%'
 * doubled.  The numbers are libmilter's, written out, not CONFIG_REPLY_MAX.
 */
static void test_reply_text_libmilter_limit(void **state)
{
	static const struct {
		const char *what;
		size_t plain, percent;	/* 'x' then '%' characters */
		bool ok;
	} cases[] = {
		{ "980 plain", 980, 0, true },
		{ "490 percent (980 sent)", 0, 490, true },
		{ "940 plain + 20 percent (980 sent)", 940, 20, true },
		{ "981 plain", 981, 0, false },
		{ "1 plain + 490 percent (981 sent)", 1, 490, false },
		{ "491 percent (982 sent)", 0, 491, false },
		{ "450 plain + 450 percent (1350 sent)", 450, 450, false },
	};
	char text[4096], value[2048], path[PATH_MAX];
	int nbad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *c;
		size_t n = cases[i].plain + cases[i].percent;

		memset(value, 'x', cases[i].plain);
		memset(value + cases[i].plain, '%', cases[i].percent);
		value[n] = '\0';
		snprintf(text, sizeof(text), "limit = 5\nreply_text = \"%s\"\n", value);
		if (!cases[i].ok) {
			nbad += expect_bad_at(cases[i].what, text, 2);
			if (rep.n == 1 && strstr(rep.line[0], "980") == NULL) {
				print_error("%s: report \"%s\" does not name the limit\n",
				    cases[i].what, rep.line[0]);
				nbad++;
			}
			continue;
		}
		c = load_text("reply.conf", text, path, sizeof(path));
		if (c == NULL) {
			print_error("%s: refused: %s\n", cases[i].what, rep.line[0]);
			nbad++;
			continue;
		}
		if (strlen(c->reply_escaped) != cases[i].plain + 2 * cases[i].percent) {
			print_error("%s: %zu characters sent\n", cases[i].what,
			    strlen(c->reply_escaped));
			nbad++;
		}
		config_free(c);
	}
	assert_int_equal(nbad, 0);
}

static void test_missing_file(void **state)
{
	char path[PATH_MAX], want[PATH_MAX + 256];
	struct config *c;

	(void)state;
	unit_path(path, sizeof(path), unit_tmp(), "does-not-exist.conf");
	memset(&rep, 0, sizeof(rep));
	c = config_load(path, report_cb);
	assert_null(c);
	assert_int_equal(rep.n, 1);
	/* "FILE: message", no line number, with the reason */
	snprintf(want, sizeof(want), "%s: ", path);
	if (strncmp(rep.line[0], want, strlen(want)) != 0)
		fail_msg("report \"%s\", want \"%s...\"", rep.line[0], want);
	if (strstr(rep.line[0], strerror(ENOENT)) == NULL)
		fail_msg("report \"%s\" does not say \"%s\"", rep.line[0],
		    strerror(ENOENT));
}

static void test_reply_escaped(void **state)
{
	static const struct {
		const char *conf, *text, *escaped;
	} cases[] = {
		{ "50% off", "50% off", "50%% off" },
		{ "%", "%", "%%" },
		{ "100%%", "100%%", "100%%%%" },
		{ "%s%d%n", "%s%d%n", "%%s%%d%%n" },
		{ "no percent here", "no percent here", "no percent here" },
		{ "ends with %", "ends with %", "ends with %%" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[PATH_MAX], text[256];
		struct config *c;

		snprintf(text, sizeof(text), "reply_text = \"%s\"\n", cases[i].conf);
		c = load_text("esc.conf", text, path, sizeof(path));
		if (c == NULL)
			fail_msg("\"%s\" did not load: %s", cases[i].conf, rep.line[0]);
		assert_string_equal(c->reply_text, cases[i].text);
		assert_string_equal(c->reply_escaped, cases[i].escaped);
		config_free(c);
	}
}

static void test_stage_names(void **state)
{
	(void)state;
	assert_string_equal(config_stage_name(STAGE_CONNECT), "connect");
	assert_string_equal(config_stage_name(STAGE_HELO), "helo");
}

static void test_dup(void **state)
{
	char path[PATH_MAX];
	struct config *c, *d;

	(void)state;
	c = load_text("dup.conf",
	    "limit = 7\nwindow = 90\nexempt_map = \"/x.db\"\n"
	    "reply_text = \"go 100% away\"\nreply_stage = \"helo\"\n"
	    "mode = \"log\"\ncount_refused = false\nmax_clients = 5000\n"
	    "metrics_listen = \"[::1]:9456\"\n",
	    path, sizeof(path));
	assert_non_null(c);
	d = config_dup(c);
	assert_non_null(d);
	assert_string_equal(d->path, c->path);
	assert_string_equal(d->socket, c->socket);
	assert_int_equal(d->limit, 7);
	assert_int_equal(d->window, 90);
	assert_int_equal(d->ipv4_prefix, c->ipv4_prefix);
	assert_int_equal(d->ipv6_prefix, c->ipv6_prefix);
	assert_string_equal(d->exempt_map, "/x.db");
	assert_int_equal(d->reply_stage, STAGE_HELO);
	assert_string_equal(d->reply_text, "go 100% away");
	assert_string_equal(d->reply_escaped, "go 100%% away");
	assert_int_equal(d->mode, MODE_LOG);
	assert_int_equal(d->max_clients, 5000);
	assert_false(d->count_refused);
	assert_int_equal(d->map_check_interval, c->map_check_interval);
	assert_string_equal(d->metrics_listen, "[::1]:9456");
	assert_ptr_not_equal(d->metrics_listen, c->metrics_listen);
	/* a deep copy: the original can go first */
	assert_ptr_not_equal(d->reply_text, c->reply_text);
	assert_ptr_not_equal(d->socket, c->socket);
	config_free(c);
	assert_string_equal(d->reply_escaped, "go 100%% away");
	assert_string_equal(d->exempt_map, "/x.db");
	config_free(d);

	/* and with no map */
	c = load_text("dup2.conf", "", path, sizeof(path));
	assert_non_null(c);
	d = config_dup(c);
	assert_non_null(d);
	assert_null(d->exempt_map);
	assert_null(d->metrics_listen);	/* metrics off by default */
	config_free(c);
	config_free(d);
}


static void assert_key_eq(const struct config_key *k, int plen, uint32_t limit,
    uint32_t window)
{
	if (k->plen != plen || k->limit != limit || k->window != window)
		fail_msg("key /%d %u per %u s, want /%d %u per %u s", k->plen,
		    k->limit, k->window, plen, limit, window);
}

/* Prefix sections: keys after the global one, in file order; limit and
 * window default to the global ones wherever those are set in the file. */
static void test_prefix_sections(void **state)
{
	char path[PATH_MAX];
	struct config *c, *d;

	(void)state;
	c = load_text("none.conf", "limit = 7\n", path, sizeof(path));
	assert_non_null(c);
	assert_int_equal(c->nkeys[0], 1);
	assert_int_equal(c->nkeys[1], 1);
	assert_key_eq(&c->keys[0][0], 32, 7, 60);
	assert_key_eq(&c->keys[1][0], 64, 7, 60);
	config_free(c);

	c = load_text("keys.conf",
	    "limit = 10\n"
	    "# a comment before the sections\n"
	    "prefix ipv4/24 { limit = 60 }\n"
	    "prefix ipv6/48 {\n"
	    "  limit = 100  # trailing\n"
	    "  window = 120\n"
	    "}\n"
	    "prefix ipv6/128 { }\n"
	    "prefix ipv4/16 { limit = 5 }   # shorter and lower: allowed\n"
	    "window = 90\n"
	    "ipv6_prefix = 56\n", path, sizeof(path));
	if (c == NULL)
		fail_msg("did not load: %s", rep.n ? rep.line[0] : "");
	assert_int_equal(c->nkeys[0], 3);
	assert_key_eq(&c->keys[0][0], 32, 10, 90);
	assert_key_eq(&c->keys[0][1], 24, 60, 90);
	assert_key_eq(&c->keys[0][2], 16, 5, 90);
	assert_int_equal(c->nkeys[1], 3);
	assert_key_eq(&c->keys[1][0], 56, 10, 90);
	assert_key_eq(&c->keys[1][1], 48, 100, 120);
	assert_key_eq(&c->keys[1][2], 128, 10, 90);
	d = config_dup(c);
	assert_non_null(d);
	assert_int_equal(d->nkeys[1], 3);
	assert_key_eq(&d->keys[1][1], 48, 100, 120);
	config_free(d);
	config_free(c);

	/* four keys per family at most: the global one and three sections */
	c = load_text("four.conf",
	    "prefix ipv6/48 { }\nprefix ipv6/56 { }\nprefix ipv6/128 { }\n",
	    path, sizeof(path));
	assert_non_null(c);
	assert_int_equal(c->nkeys[1], 4);
	config_free(c);
}

static void test_prefix_errors(void **state)
{
	static const struct {
		const char *what, *line;
	} cases[] = {
		{ "ipv4 length 33", "prefix ipv4/33 { }" },
		{ "ipv4 length 7", "prefix ipv4/7 { limit = 3 }" },
		{ "ipv6 length 15", "prefix ipv6/15 { }" },
		{ "ipv6 length 129", "prefix ipv6/129 { }" },
		{ "no length", "prefix ipv4 { }" },
		{ "empty length", "prefix ipv4/ { }" },
		{ "length not a number", "prefix ipv4/24x { }" },
		{ "huge length", "prefix ipv4/99999999999999999999 { }" },
		{ "no family", "prefix 24 { }" },
		{ "other family", "prefix ipv5/24 { }" },
		{ "no title", "prefix { }" },
		{ "same as ipv4_prefix", "prefix ipv4/32 { }" },
		{ "same as ipv6_prefix", "prefix ipv6/64 { }" },
		{ "limit 0", "prefix ipv4/24 { limit = 0 }" },
		{ "limit 9001", "prefix ipv4/24 { limit = 9001 }" },
		{ "window 0", "prefix ipv6/48 { window = 0 }" },
		{ "window 86401", "prefix ipv6/48 { window = 86401 }" },
		{ "unknown option", "prefix ipv6/48 { length = 48 }" },
	};
	char text[4096];
	size_t i;
	int nbad = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		nbad += expect_bad_third(cases[i].what, cases[i].line);
		snprintf(text, sizeof(text), "# c\n# c\nlimit = 5\n\n%s", cases[i].line);
		nbad += expect_bad_at(cases[i].what, text, 5);
	}
	/* the second of two sections of one length, whatever its spelling */
	nbad += expect_bad_at("same title twice",
	    "prefix ipv4/24 { }\n# c\nprefix ipv4/24 { }\n", 3);
	nbad += expect_bad_at("same length twice",
	    "prefix ipv4/24 { }\n# c\nprefix ipv4/024 { limit = 3 }\n", 3);
	nbad += expect_bad_at("same length as a later ipv6_prefix",
	    "prefix ipv6/48 { }\nipv6_prefix = 48\n", 1);
	nbad += expect_bad_at("five ipv6 keys",
	    "prefix ipv6/48 { }\nprefix ipv6/56 { }\nprefix ipv6/128 { }\n"
	    "prefix ipv6/96 { }\n", 4);
	/* a section over several lines is named by its closing brace, the
	 * line libconfuse has reached when it can judge the section */
	nbad += expect_bad_at("several lines",
	    "prefix ipv4/40 {\n  limit = 3\n}\n", 3);
	assert_int_equal(nbad, 0);
}

/* %{retry} becomes the seconds; every other '%' is doubled. */
static void test_reply_format(void **state)
{
	static const struct {
		const char *text;
		uint32_t retry;
		const char *want;
	} cases[] = {
		{ "try again in %{retry} seconds", 42, "try again in 42 seconds" },
		{ "100% over, %{retry}s%", 7, "100%% over, 7s%%" },
		{ "%{retry}%{retry}", 5, "55" },
		{ "%{retry}", 86400, "86400" },
		{ "%{retr} %{RETRY} %{retry", 3, "%%{retr} %%{RETRY} %%{retry" },
		/* a '%' before the placeholder is a '%' of its own */
		{ "%%{retry}", 9, "%%9" },
		{ "plain", 1, "plain" },
	};
	char buf[128], small[8];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = config_reply_format(cases[i].text, cases[i].retry, buf, sizeof(buf));
		if (strcmp(buf, cases[i].want) != 0 || n != strlen(cases[i].want))
			fail_msg("\"%s\" with %u: \"%s\" (%zu), want \"%s\"", cases[i].text,
			    cases[i].retry, buf, n, cases[i].want);
	}
	/* cut before a piece that does not fit: never half of "%%" */
	memset(small, 'Z', sizeof(small));
	n = config_reply_format("abcd%e", 1, small, 6);
	assert_string_equal(small, "abcd");
	assert_int_equal(n, 4);
	assert_int_equal(small[6], 'Z');
	n = config_reply_format("ab %{retry}", 12345, small, 7);
	assert_string_equal(small, "ab ");
	assert_int_equal(config_reply_format("x", 1, small, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_options),
		cmocka_unit_test(test_sample_config),
		cmocka_unit_test(test_empty_file_gives_defaults),
		cmocka_unit_test(test_values_at_the_bounds),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_bad_line_after_comments),
		cmocka_unit_test(test_comments_as_libconfuse),
		cmocka_unit_test(test_comments_as_libconfuse_random),
		cmocka_unit_test(test_slashes_in_unquoted_values),
		cmocka_unit_test(test_reply_text_too_long),
		cmocka_unit_test(test_reply_text_libmilter_limit),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_reply_escaped),
		cmocka_unit_test(test_stage_names),
		cmocka_unit_test(test_dup),
		cmocka_unit_test(test_prefix_sections),
		cmocka_unit_test(test_prefix_errors),
		cmocka_unit_test(test_reply_format),
	};

	return cmocka_run_group_tests_name("config", tests, unit_tmp_setup, unit_tmp_teardown);
}
