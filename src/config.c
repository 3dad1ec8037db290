/*
 * config.c: one libconfuse option table, validated ranges, FILE:LINE
 * errors, and the parsed tree turned at once into an immutable struct.
 *
 * Not thread-safe: libconfuse's error callback has no user pointer, so the
 * report function travels in a static.  Only main() and the reload path
 * (one thread) parse configs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <confuse.h>

#include "config.h"
#include "sockspec.h"
#include "safefile.h"
#include "window.h"

#define CONFIG_FILE_MAX (1024 * 1024)
#define DEFAULT_SOCKET "unix:/run/milter-ratelimit/milter-ratelimit.sock"

/* prefix ipv4/24 { limit = N  window = N }: one more key a client of
 * that family is counted under, its address masked to that length.  The
 * title carries family and length, so that libconfuse (which merges
 * sections of one title) keeps every section apart.  limit and window
 * default to the global ones (resolved once the whole file is read). */
static cfg_opt_t prefix_options[] = {
	CFG_INT("limit",	0,		CFGF_NODEFAULT),
	CFG_INT("window",	0,		CFGF_NODEFAULT),
	CFG_END()
};

static cfg_opt_t options[] = {
	CFG_STR("socket",	DEFAULT_SOCKET,	CFGF_NONE),
	CFG_INT("limit",	10,		CFGF_NONE),
	CFG_INT("window",	60,		CFGF_NONE),
	CFG_INT("ipv4_prefix",	32,		CFGF_NONE),
	CFG_INT("ipv6_prefix",	64,		CFGF_NONE),
	CFG_STR("exempt_map",	"",		CFGF_NONE),
	CFG_STR("reply_stage",	"connect",	CFGF_NONE),
	CFG_STR("reply_text",	"Connection rate limit exceeded", CFGF_NONE),
	CFG_STR("mode",		"enforce",	CFGF_NONE),
	CFG_INT("max_clients",	1000000,	CFGF_NONE),
	CFG_INT("max_concurrent", 0,		CFGF_NONE),	/* 0: off */
	CFG_BOOL("count_refused", cfg_true,	CFGF_NONE),
	CFG_INT("map_check_interval", 5,	CFGF_NONE),
	CFG_STR("user",		"milter-ratelimit", CFGF_NONE),
	CFG_STR("group",	"",		CFGF_NONE),
	CFG_STR("socket_mode",	"0660",		CFGF_NONE),
	CFG_STR("pidfile",	"",		CFGF_NONE),
	CFG_STR("log_level",	"info",		CFGF_NONE),
	CFG_STR("syslog_facility", "mail",	CFGF_NONE),
	CFG_BOOL("allow_world_writable", cfg_false, CFGF_NONE),
	/* Shared counters in Redis (redis_conf.h, redis_store.h). */
	CFG_STR("redis",	"",		CFGF_NONE),
	CFG_STR("redis_password_file", "",	CFGF_NONE),
	CFG_INT("redis_db",	0,		CFGF_NONE),
	CFG_STR("redis_key_prefix", REDIS_DEFAULT_PREFIX, CFGF_NONE),
	CFG_INT("redis_timeout_ms", REDIS_TIMEOUT_DEFAULT_MS, CFGF_NONE),
	CFG_SEC("prefix",	prefix_options,	CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_SEC("listener",	listener_cfg_options, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_END()
};

struct int_range {
	const char *name;
	long min, max;
};

static const struct int_range int_ranges[] = {
	{ "limit",	 1,	WINDOW_LIMIT_MAX },
	{ "window",	 1,	WINDOW_MS_MAX / 1000 },
	{ "ipv4_prefix", 8,	32 },
	{ "ipv6_prefix", 16,	128 },
	{ "max_clients", 100,	100000000 },
	{ "max_concurrent", 0,	100000 },
	{ "map_check_interval", 0, 3600 },
	{ "redis_db",	 0,	65535 },
	{ "redis_timeout_ms", 1, REDIS_TIMEOUT_MAX_MS },
};

static config_report_fn *report_to;
static const char *report_path;	/* libconfuse calls a parsed buffer "[buf]" */
static int errors;
static int socket_line;		/* where `socket` was last set; 0: its default */
static int redis_pwline;	/* where redis_password_file was last set */

static void
error_fn(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[1024], line[1200];

	vsnprintf(msg, sizeof msg, fmt, ap);
	/* A value quoted in a message may span lines (a quoted string can):
	 * one report is one line, without control characters. */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (cfg && cfg->line > 0)
		snprintf(line, sizeof line, "%s:%d: %s", report_path, cfg->line, msg);
	else
		snprintf(line, sizeof line, "%s: %s", report_path, msg);
	errors++;
	report_to(line);
}

static int
validate_int(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, cfg_opt_size(opt) - 1);

	for (size_t i = 0; i < sizeof int_ranges / sizeof int_ranges[0]; i++) {
		const struct int_range *r = &int_ranges[i];
		if (strcmp(r->name, opt->name) != 0)
			continue;
		if (v < r->min || v > r->max) {
			cfg_error(cfg, "%s = %ld is out of range (%ld..%ld)",
			    r->name, v, r->min, r->max);
			return -1;
		}
	}
	return 0;
}

struct choice {
	const char *option;
	const char *const *names;
	const int *values;
};

static const char *const stage_names[] = { "connect", "helo", NULL };
static const int stage_values[] = { STAGE_CONNECT, STAGE_HELO };
static const char *const mode_names[] = { "enforce", "log", NULL };
static const int mode_values[] = { MODE_ENFORCE, MODE_LOG };
static const char *const level_names[] = { "error", "warning", "notice", "info",
    "debug", NULL };
static const int level_values[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO,
    LOG_DEBUG };
static const char *const facility_names[] = { "mail", "daemon", "user", "local0",
    "local1", "local2", "local3", "local4", "local5", "local6", "local7", NULL };
static const int facility_values[] = { LOG_MAIL, LOG_DAEMON, LOG_USER, LOG_LOCAL0,
    LOG_LOCAL1, LOG_LOCAL2, LOG_LOCAL3, LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6,
    LOG_LOCAL7 };

static const struct choice choices[] = {
	{ "reply_stage",	stage_names,	stage_values },
	{ "mode",		mode_names,	mode_values },
	{ "log_level",		level_names,	level_values },
	{ "syslog_facility",	facility_names,	facility_values },
};

/* The value of a choice option; the validator has vouched for it. */
static int
choice_value(cfg_t *cfg, const char *option)
{
	const char *v = cfg_getstr(cfg, option);

	for (size_t i = 0; i < sizeof choices / sizeof choices[0]; i++) {
		if (strcmp(choices[i].option, option) != 0)
			continue;
		for (size_t j = 0; choices[i].names[j]; j++)
			if (strcmp(choices[i].names[j], v) == 0)
				return choices[i].values[j];
	}
	return 0;
}

static int
validate_choice(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1);
	char list[160] = "";

	for (size_t i = 0; i < sizeof choices / sizeof choices[0]; i++) {
		if (strcmp(choices[i].option, opt->name) != 0)
			continue;
		for (size_t j = 0; choices[i].names[j]; j++) {
			if (strcmp(choices[i].names[j], v) == 0)
				return 0;
			snprintf(list + strlen(list), sizeof list - strlen(list),
			    "%s\"%s\"", j ? ", " : "", choices[i].names[j]);
		}
		cfg_error(cfg, "%s = \"%.40s\": expected one of %s", opt->name, v, list);
		return -1;
	}
	return 0;
}

/* "0660": octal, at most 0777, and never open to everyone: the socket's
 * permissions are the only thing between a local user and claiming any
 * client address. */
static int
validate_mode(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1);
	char *end;
	long m;

	errno = 0;
	m = strtol(v, &end, 8);
	if (*v == '\0' || *end != '\0' || errno || m < 0 || m > 0777) {
		cfg_error(cfg, "socket_mode = \"%.20s\": expected an octal mode such as \"0660\"", v);
		return -1;
	}
	if (m & 0007) {
		cfg_error(cfg, "socket_mode = \"%.20s\": the socket must not be open to "
		    "other users (anyone who can connect can claim any client address)", v);
		return -1;
	}
	return 0;
}

/* The socket spec as libmilter reads it: a typo here (socket =
 * "bogus:xyz") failed only at start, after -n had said OK. */
static int
validate_socket(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1);
	struct sockspec ss;
	char err[300];

	socket_line = cfg->line;
	if (*v == '\0')
		return 0;	/* "socket is empty", reported after the parse */
	if (!sockspec_parse(v, &ss, err, sizeof err)) {
		cfg_error(cfg, "%s", err);
		return -1;
	}
	return 0;
}

/* The text goes into an SMTP reply line: printable ASCII, bounded by what
 * smfi_setreply() takes once each '%' is doubled. */
static int
validate_reply(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1);
	size_t n = strlen(v), escaped = n;

	if (n == 0) {
		cfg_error(cfg, "reply_text is empty");
		return -1;
	}
	for (const char *p = v; *p; p++)
		escaped += *p == '%';
	if (escaped > CONFIG_REPLY_MAX) {
		cfg_error(cfg, "reply_text is %zu characters long once each '%%' is "
		    "doubled (%zu as written); libmilter takes at most %d",
		    escaped, n, CONFIG_REPLY_MAX);
		return -1;
	}
	for (const char *p = v; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\r' || c == '\n') {
			cfg_error(cfg, "reply_text contains a line break (CR or LF)");
			return -1;
		}
		if (c < 0x20 || c > 0x7e) {
			cfg_error(cfg, "reply_text contains a non-printable or non-ASCII byte 0x%02x", c);
			return -1;
		}
	}
	return 0;
}

/* redis and redis_key_prefix (redis_conf.h); "" is local only. */
static int
validate_redis(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1);
	struct redis_addr a;
	char err[300];

	if (*v == '\0')
		return 0;
	if (!redis_conf_parse_addr(v, &a, err, sizeof err)) {
		cfg_error(cfg, "%s", err);
		return -1;
	}
	return 0;
}

static int
validate_redis_prefix(cfg_t *cfg, cfg_opt_t *opt)
{
	char err[160];

	if (!redis_conf_check_prefix(cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1),
	    err, sizeof err)) {
		cfg_error(cfg, "%s", err);
		return -1;
	}
	return 0;
}

/* Only where it is set: the file is read once the whole config is. */
static int
validate_redis_pwfile(cfg_t *cfg, cfg_opt_t *opt)
{
	(void)opt;
	redis_pwline = cfg->line;
	return 0;
}

static void report_line(config_report_fn *report, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * A prefix section's title: "ipv4/LEN" (8..32) or "ipv6/LEN" (16..128).
 * Returns the family (0 ipv4, 1 ipv6) and the length, or -1 with the
 * reason in err.
 */
static int
prefix_title(const char *title, int *plen, char *err, size_t errlen)
{
	int fam, lo, hi;
	const char *p;
	long v = 0;

	if (title == NULL)
		title = "";
	if (strncmp(title, "ipv4/", 5) == 0)
		fam = 0, lo = 8, hi = 32;
	else if (strncmp(title, "ipv6/", 5) == 0)
		fam = 1, lo = 16, hi = 128;
	else {
		snprintf(err, errlen, "prefix %.40s: expected prefix ipv4/LENGTH { ... } "
		    "or prefix ipv6/LENGTH { ... }", title);
		return -1;
	}
	for (p = title + 5; *p >= '0' && *p <= '9' && v < 1000; p++)
		v = v * 10 + (*p - '0');
	if (p == title + 5 || *p != '\0' || v < lo || v > hi) {
		snprintf(err, errlen, "prefix %.40s: the length must be %d..%d",
		    title, lo, hi);
		return -1;
	}
	*plen = (int)v;
	return fam;
}

/* One prefix section, as soon as its closing brace is read (libconfuse
 * then names that line): what it can tell alone.  The duplicates need the
 * whole file (config_keys). */
static int
validate_prefix(cfg_t *cfg, cfg_opt_t *opt)
{
	cfg_t *sec = cfg_opt_getnsec(opt, cfg_opt_size(opt) - 1);
	char err[160];
	int plen;

	(void)cfg;
	if (prefix_title(cfg_title(sec), &plen, err, sizeof err) < 0) {
		cfg_error(sec, "%s", err);
		return -1;
	}
	return 0;
}

/*
 * The keys of each family: the global ipv4_prefix/ipv6_prefix with the
 * global limit and window first, then the prefix sections in file order.
 * Two keys of one family with the same length are an error (FILE:LINE of
 * the later one); so are more than CONFIG_KEYS_MAX.  A shorter prefix
 * with a lower limit than a longer one is allowed: the shorter key then
 * refuses first, which is what its limit says.  Returns false after
 * reporting.
 */
static bool
config_keys(struct config *c, cfg_t *cfg, const char *path,
    config_report_fn *report)
{
	unsigned n = cfg_size(cfg, "prefix");
	bool ok = true;

	c->nkeys[0] = c->nkeys[1] = 1;
	c->keys[0][0] = (struct config_key){ c->ipv4_prefix, c->limit, c->window, 0 };
	c->keys[1][0] = (struct config_key){ c->ipv6_prefix, c->limit, c->window, 0 };
	for (unsigned i = 0; i < n; i++) {
		cfg_t *sec = cfg_getnsec(cfg, "prefix", i);
		struct config_key k;
		char err[160];
		int fam = prefix_title(cfg_title(sec), &k.plen, err, sizeof err);

		if (fam < 0)	/* validate_prefix saw to it */
			continue;
		k.limit = cfg_size(sec, "limit") ? (uint32_t)cfg_getint(sec, "limit") : c->limit;
		k.window = cfg_size(sec, "window") ? (uint32_t)cfg_getint(sec, "window") : c->window;
		k.line = sec->line;
		for (int j = 0; j < c->nkeys[fam]; j++) {
			const struct config_key *o = &c->keys[fam][j];

			if (o->plen != k.plen)
				continue;
			if (o->line > 0)
				report_line(report, "%s:%d: prefix %s: that length is already "
				    "counted (line %d)", path, k.line, cfg_title(sec),
				    o->line);
			else
				report_line(report, "%s:%d: prefix %s: that length is already "
				    "counted (%s = %d)", path, k.line, cfg_title(sec),
				    fam == 0 ? "ipv4_prefix" : "ipv6_prefix", k.plen);
			ok = false;
			goto next;
		}
		if (c->nkeys[fam] == CONFIG_KEYS_MAX) {
			report_line(report, "%s:%d: prefix %s: at most %d keys per family "
			    "(%s and %d prefix sections)", path, k.line, cfg_title(sec),
			    CONFIG_KEYS_MAX, fam == 0 ? "ipv4_prefix" : "ipv6_prefix",
			    CONFIG_KEYS_MAX - 1);
			ok = false;
			continue;
		}
		c->keys[fam][c->nkeys[fam]++] = k;
next:		;
	}
	return ok;
}

static char *
dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

/* '%' is special to sendmail's reply formatting: write it as "%%". */
static char *
escape_percent(const char *s)
{
	size_t n = 0;
	char *out, *o;

	for (const char *p = s; *p; p++)
		n += *p == '%' ? 2 : 1;
	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	for (o = out; *s; s++) {
		*o++ = *s;
		if (*s == '%')
			*o++ = '%';
	}
	*o = '\0';
	return out;
}

/*
 * Debian's libconfuse 3.3 counts each comment line two lines too many, so
 * every error after a comment named the wrong line.  We hand it the file
 * with comments blanked out (newlines kept, quoted strings untouched), so
 * its line numbers are the file's.  The comment forms are libconfuse's own,
 * where its lexer sees them: '#' to the end of the line anywhere outside
 * quotes ('#' cannot be part of an unquoted string); '//' to the end of
 * the line and '/' '*' ... '*' '/' only where a token starts.  Inside an
 * unquoted string a '/' is just a character: "http://x" and "/a//b.db"
 * are whole values (flex takes the longest match, and the string goes on).
 */
static char *
strip_comments(const char *in, size_t n)
{
	char *out = malloc(n + 1), quote = 0;
	size_t o = 0;
	bool word = false;	/* in an unquoted string */

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		const char *env = NULL;

		/* libconfuse reads ${VAR} (up to the first '}', quotes and
		 * line breaks included) as one environment variable, in a
		 * double-quoted string or where an unquoted one would start:
		 * copy it whole, or a quote inside would be taken for one. */
		if (c == '$' && i + 1 < n && in[i + 1] == '{' &&
		    (quote == '"' || (!quote && !word)))
			env = memchr(in + i + 2, '}', n - i - 2);
		if (env != NULL) {
			size_t end = (size_t)(env - in);

			memcpy(out + o, in + i, end - i + 1);
			o += end - i + 1;
			i = end;
			word = false;
		} else if (quote) {
			out[o++] = c;
			if (c == '\\' && i + 1 < n)
				out[o++] = in[++i];
			else if (c == quote)
				quote = 0;
		} else if (c == '"' || c == '\'') {
			quote = c;
			out[o++] = c;
			word = false;
		} else if (c == '#' ||
		    (!word && c == '/' && i + 1 < n && in[i + 1] == '/')) {
			while (i + 1 < n && in[i + 1] != '\n')
				i++;
			word = false;
		} else if (!word && c == '/' && i + 1 < n && in[i + 1] == '*') {
			for (i += 2; i < n && !(in[i] == '*' && i + 1 < n && in[i + 1] == '/'); i++)
				if (in[i] == '\n')
					out[o++] = '\n';
			i++;	/* past the closing '/' */
			word = false;
		} else {
			out[o++] = c;
			word = strchr(" \t\n\r={}()+,*", c) == NULL;
		}
	}
	out[o] = '\0';
	return out;
}

/* The whole file; NULL with "PATH: reason" in err on failure.  Only a
 * regular file is read: a FIFO would block the reload thread. */
static char *
read_config_text(const char *path, size_t *len, char *err, size_t errlen)
{
	char *buf, why[256];
	FILE *f;
	int fd;

	if ((fd = safefile_open(path, why, sizeof why)) < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, why);
		return NULL;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if ((buf = malloc(CONFIG_FILE_MAX + 1)) == NULL)
		snprintf(err, errlen, "%s: out of memory", path);
	else {
		*len = fread(buf, 1, CONFIG_FILE_MAX + 1, f);
		if (ferror(f) || *len > CONFIG_FILE_MAX) {
			snprintf(err, errlen, "%s: cannot read: %s", path,
			    ferror(f) ? strerror(EIO) : "larger than 1 MiB");
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static void
report_line(config_report_fn *report, const char *fmt, ...)
{
	char line[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	report(line);
}

struct config *
config_load(const char *path, config_report_fn *report)
{
	struct config *c;
	char *raw, err[512];
	size_t len = 0;

	if ((raw = read_config_text(path, &len, err, sizeof err)) == NULL) {
		report(err);
		return NULL;
	}
	c = config_parse_text(path, raw, len, report);
	free(raw);
	if (c != NULL && !c->allow_world_writable &&
	    !safefile_check(path, err, sizeof err)) {
		report(err);
		config_free(c);
		c = NULL;
	}
	/* The Redis password: read here, with the file safety checks, at
	 * start and at each reload (redis_conf.h). */
	if (c != NULL && c->redis_password_file != NULL &&
	    ((!c->allow_world_writable &&
	    !safefile_check(c->redis_password_file, err, sizeof err)) ||
	    !redis_conf_read_password(c->redis_password_file, &c->redis_user,
	    &c->redis_password, err, sizeof err))) {
		report_line(report, "%s:%d: redis_password_file: %s", path,
		    c->redis_password_line, err);
		config_free(c);
		c = NULL;
	}
	return c;
}

struct config *
config_parse_text(const char *path, const char *raw, size_t len,
    config_report_fn *report)
{
	struct config *c = NULL;
	char *text;
	cfg_t *cfg;
	int ret;

	if (memchr(raw, '\0', len) != NULL) {
		report_line(report, "%s: contains a NUL byte; not a configuration file", path);
		return NULL;
	}
	if ((text = strip_comments(raw, len)) == NULL) {
		report_line(report, "%s: out of memory", path);
		return NULL;
	}
	/* libconfuse would replace ${VAR} by the daemon's environment: the
	 * rules would then depend on how the daemon was started. */
	const char *env = strstr(text, "${");
	if (env != NULL) {
		int line = 1;
		for (const char *p = text; p < env; p++)
			line += *p == '\n';
		report_line(report, "%s:%d: \"${\" (environment substitution) is not "
		    "supported: write the value itself", path, line);
		free(text);
		return NULL;
	}
	if ((cfg = cfg_init(options, CFGF_NONE)) == NULL) {
		report_line(report, "%s: out of memory", path);
		free(text);
		return NULL;
	}
	report_to = report;
	report_path = path;
	errors = 0;
	socket_line = 0;
	redis_pwline = 0;
	cfg_set_error_function(cfg, error_fn);
	for (size_t i = 0; i < sizeof int_ranges / sizeof int_ranges[0]; i++)
		cfg_set_validate_func(cfg, int_ranges[i].name, validate_int);
	for (size_t i = 0; i < sizeof choices / sizeof choices[0]; i++)
		cfg_set_validate_func(cfg, choices[i].option, validate_choice);
	cfg_set_validate_func(cfg, "socket_mode", validate_mode);
	cfg_set_validate_func(cfg, "socket", validate_socket);
	cfg_set_validate_func(cfg, "reply_text", validate_reply);
	cfg_set_validate_func(cfg, "prefix", validate_prefix);
	cfg_set_validate_func(cfg, "prefix|limit", validate_int);
	cfg_set_validate_func(cfg, "prefix|window", validate_int);
	cfg_set_validate_func(cfg, "listener", listener_cfg_validate);
	cfg_set_validate_func(cfg, "listener|limit", validate_int);
	cfg_set_validate_func(cfg, "listener|window", validate_int);
	cfg_set_validate_func(cfg, "redis", validate_redis);
	cfg_set_validate_func(cfg, "redis_key_prefix", validate_redis_prefix);
	cfg_set_validate_func(cfg, "redis_password_file", validate_redis_pwfile);

	ret = cfg_parse_buf(cfg, text);
	if (ret != CFG_SUCCESS) {
		if (errors == 0)
			report_line(report, "%s: %s", path, ret == CFG_FILE_ERROR ?
			    strerror(errno) : "cannot parse");
		goto out;
	}

	if ((c = calloc(1, sizeof *c)) == NULL)
		goto oom;
	c->path = strdup(path);
	c->socket = strdup(cfg_getstr(cfg, "socket"));
	c->socket_line = socket_line;
	c->limit = (uint32_t)cfg_getint(cfg, "limit");
	c->window = (uint32_t)cfg_getint(cfg, "window");
	c->ipv4_prefix = (int)cfg_getint(cfg, "ipv4_prefix");
	c->ipv6_prefix = (int)cfg_getint(cfg, "ipv6_prefix");
	c->exempt_map = dup_or_null(cfg_getstr(cfg, "exempt_map"));
	c->reply_stage = (enum reply_stage)choice_value(cfg, "reply_stage");
	c->reply_text = strdup(cfg_getstr(cfg, "reply_text"));
	c->reply_escaped = escape_percent(c->reply_text ? c->reply_text : "");
	c->mode = (enum run_mode)choice_value(cfg, "mode");
	c->max_clients = (uint64_t)cfg_getint(cfg, "max_clients");
	c->max_concurrent = (uint32_t)cfg_getint(cfg, "max_concurrent");
	c->count_refused = cfg_getbool(cfg, "count_refused") == cfg_true;
	c->map_check_interval = (uint32_t)cfg_getint(cfg, "map_check_interval");
	c->user = strdup(cfg_getstr(cfg, "user"));
	c->group = dup_or_null(cfg_getstr(cfg, "group"));
	c->socket_mode = (unsigned)strtol(cfg_getstr(cfg, "socket_mode"), NULL, 8);
	c->pidfile = dup_or_null(cfg_getstr(cfg, "pidfile"));
	c->log_level = choice_value(cfg, "log_level");
	c->syslog_facility = choice_value(cfg, "syslog_facility");
	c->allow_world_writable = cfg_getbool(cfg, "allow_world_writable") == cfg_true;
	c->redis = dup_or_null(cfg_getstr(cfg, "redis"));
	c->redis_password_file = dup_or_null(cfg_getstr(cfg, "redis_password_file"));
	c->redis_password_line = redis_pwline;
	c->redis_db = (uint32_t)cfg_getint(cfg, "redis_db");
	c->redis_key_prefix = strdup(cfg_getstr(cfg, "redis_key_prefix"));
	c->redis_timeout_ms = (uint32_t)cfg_getint(cfg, "redis_timeout_ms");
	if (c->redis != NULL) {
		char rerr[300];	/* validate_redis has vouched for it */

		(void)redis_conf_parse_addr(c->redis, &c->redis_addr, rerr, sizeof rerr);
	}
	if (!c->path || !c->socket || !c->reply_text || !c->reply_escaped || !c->user ||
	    !c->redis_key_prefix)
		goto oom;
	if (!config_keys(c, cfg, path, report) |
	    !listener_cfg_load(cfg, path, c->limit, c->window, c->listeners,
	    &c->nlisteners, report)) {
		config_free(c);
		c = NULL;
	} else if (*c->socket == '\0' || *c->user == '\0') {
		report_line(report, "%s: %s is empty", path, *c->user ? "socket" : "user");
		config_free(c);
		c = NULL;
	}
	goto out;
oom:
	report_line(report, "%s: out of memory", path);
	config_free(c);
	c = NULL;
out:
	cfg_free(cfg);
	free(text);
	return c;
}

struct config *
config_dup(const struct config *c)
{
	struct config *d = malloc(sizeof *d);

	if (d == NULL)
		return NULL;
	*d = *c;
	d->path = strdup(c->path);
	d->socket = strdup(c->socket);
	d->exempt_map = c->exempt_map ? strdup(c->exempt_map) : NULL;
	d->reply_text = strdup(c->reply_text);
	d->reply_escaped = strdup(c->reply_escaped);
	d->user = strdup(c->user);
	d->group = c->group ? strdup(c->group) : NULL;
	d->pidfile = c->pidfile ? strdup(c->pidfile) : NULL;
	d->redis = c->redis ? strdup(c->redis) : NULL;
	d->redis_password_file = c->redis_password_file ?
	    strdup(c->redis_password_file) : NULL;
	d->redis_user = c->redis_user ? strdup(c->redis_user) : NULL;
	d->redis_password = c->redis_password ? strdup(c->redis_password) : NULL;
	d->redis_key_prefix = strdup(c->redis_key_prefix);
	if ((c->redis && !d->redis) ||
	    (c->redis_password_file && !d->redis_password_file) ||
	    (c->redis_user && !d->redis_user) ||
	    (c->redis_password && !d->redis_password) || !d->redis_key_prefix) {
		config_free(d);
		return NULL;
	}
	if (!d->path || !d->socket || (c->exempt_map && !d->exempt_map) ||
	    !d->reply_text || !d->reply_escaped || !d->user ||
	    (c->group && !d->group) || (c->pidfile && !d->pidfile)) {
		config_free(d);
		return NULL;
	}
	return d;
}

void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->socket);
	free(c->exempt_map);
	free(c->reply_text);
	free(c->reply_escaped);
	free(c->user);
	free(c->group);
	free(c->pidfile);
	free(c->redis);
	free(c->redis_password_file);
	redis_conf_free_secret(c->redis_user);
	redis_conf_free_secret(c->redis_password);
	free(c->redis_key_prefix);
	free(c);
}

void
config_keys_format(const struct config *c, char *buf, size_t len)
{
	size_t o = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (int f = 0; f < 2; f++)
		for (int i = 0; i < c->nkeys[f] && o < len; i++) {
			const struct config_key *k = &c->keys[f][i];
			int n = snprintf(buf + o, len - o, "%s%s/%d:%u/%us",
			    o ? "," : "", f ? "ipv6" : "ipv4", k->plen, k->limit, k->window);

			if (n < 0)
				return;
			o += (size_t)n;
		}
	for (int i = 0; i < c->nlisteners && o < len; i++)
		o += listener_format(&c->listeners[i], o ? "," : "", buf + o, len - o);
}

size_t
config_reply_format(const char *text, uint32_t retry_s, char *buf, size_t len)
{
	size_t o = 0, plen = sizeof CONFIG_REPLY_RETRY - 1;
	char num[16];

	if (len == 0)
		return 0;
	for (const char *p = text; *p; p++) {
		const char *add = p;
		size_t n = 1;

		if (strncmp(p, CONFIG_REPLY_RETRY, plen) == 0) {
			n = (size_t)snprintf(num, sizeof num, "%u", retry_s);
			add = num;
			p += plen - 1;
		} else if (*p == '%') {
			add = "%%";	/* sendmail's reply formatting */
			n = 2;
		}
		/* Whole pieces only: never half of a "%%". */
		if (o + n >= len)
			break;
		memcpy(buf + o, add, n);
		o += n;
	}
	buf[o] = '\0';
	return o;
}

const char *
config_stage_name(enum reply_stage s)
{
	return s == STAGE_HELO ? "helo" : "connect";
}
