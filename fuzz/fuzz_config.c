/*
 * fuzz_config.c: the configuration file, through libconfuse and our
 * validation (config_parse_text).
 *
 * The input is the text of a config file.  Checked:
 *   - a failure reports at least one line, a success none;
 *   - every reported line is "PATH:LINE: message" or "PATH: message",
 *     one line of bounded length without control characters, LINE within
 *     the text;
 *   - an accepted config holds only values in the documented ranges, a
 *     reply_text of printable ASCII with reply_escaped its '%' doubled, a
 *     socket_mode closed to others, non-empty socket and user;
 *   - config_dup copies it exactly.
 */
#include <syslog.h>

#include "fuzz.h"
#include "config.h"
#include "window.h"

#define PATH "fuzz.conf"

static size_t reports;
static long max_line;	/* lines in the text, +1 for the end */

static void
report(const char *line)
{
	size_t plen = strlen(PATH);

	reports++;
	CHECK(line != NULL, "report(NULL)");
	CHECK(strlen(line) < 1200, "report line of %zu bytes", strlen(line));
	for (const char *p = line; *p; p++)
		CHECK((unsigned char)*p >= 0x20 && *p != 0x7f,
		    "report line with control character 0x%02x: \"%s\"", (unsigned char)*p, line);
	CHECK(strncmp(line, PATH, plen) == 0 && line[plen] == ':',
	    "report line without the path: \"%s\"", line);
	if (line[plen + 1] != ' ') {
		char *end;
		long n = strtol(line + plen + 1, &end, 10);

		CHECK(end != line + plen + 1 && *end == ':', "bad line number: \"%s\"", line);
		CHECK(n >= 1 && n <= max_line, "line %ld of a %ld-line text: \"%s\"", n,
		    max_line, line);
	}
}

static bool
streq_or_null(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void
check_config(const struct config *c)
{
	struct config *d;
	const char *p, *q;

	CHECK(strcmp(c->path, PATH) == 0, "path");
	CHECK(c->socket && *c->socket, "empty socket");
	CHECK(c->user && *c->user, "empty user");
	CHECK(c->limit >= 1 && c->limit <= WINDOW_LIMIT_MAX, "limit %u", c->limit);
	CHECK(c->window >= 1 && c->window <= 86400, "window %u", c->window);
	CHECK(c->ipv4_prefix >= 8 && c->ipv4_prefix <= 32, "ipv4_prefix %d", c->ipv4_prefix);
	CHECK(c->ipv6_prefix >= 16 && c->ipv6_prefix <= 128, "ipv6_prefix %d", c->ipv6_prefix);
	CHECK(c->max_clients >= 100 && c->max_clients <= 100000000, "max_clients");
	CHECK(c->map_check_interval <= 3600, "map_check_interval %u", c->map_check_interval);
	CHECK(c->exempt_map == NULL || *c->exempt_map, "exempt_map \"\" not NULL");
	CHECK(c->group == NULL || *c->group, "group \"\" not NULL");
	CHECK(c->pidfile == NULL || *c->pidfile, "pidfile \"\" not NULL");
	CHECK(c->reply_stage == STAGE_CONNECT || c->reply_stage == STAGE_HELO, "stage");
	CHECK(c->mode == MODE_ENFORCE || c->mode == MODE_LOG, "mode");
	CHECK(c->log_level >= LOG_ERR && c->log_level <= LOG_DEBUG, "log_level %d", c->log_level);
	CHECK(c->syslog_facility == LOG_MAIL || c->syslog_facility == LOG_DAEMON ||
	    c->syslog_facility == LOG_USER ||
	    (c->syslog_facility >= LOG_LOCAL0 && c->syslog_facility <= LOG_LOCAL7),
	    "syslog_facility %d", c->syslog_facility);
	CHECK(c->socket_mode <= 0777 && (c->socket_mode & 07) == 0,
	    "socket_mode %o", c->socket_mode);

	/* libmilter refuses a reply text longer than this as sent. */
	CHECK(c->reply_text && *c->reply_text && c->reply_escaped &&
	    strlen(c->reply_escaped) <= CONFIG_REPLY_MAX, "reply_text length");
	for (p = c->reply_text; *p; p++)
		CHECK(*p >= 0x20 && *p <= 0x7e, "reply_text byte 0x%02x", (unsigned char)*p);
	for (p = c->reply_text, q = c->reply_escaped; *p; p++) {
		CHECK(*q++ == *p, "reply_escaped differs");
		if (*p == '%')
			CHECK(*q++ == '%', "reply_escaped: '%%' not doubled");
	}
	CHECK(*q == '\0', "reply_escaped longer");

	d = config_dup(c);
	CHECK(d != NULL, "config_dup");
	CHECK(strcmp(d->path, c->path) == 0 && strcmp(d->socket, c->socket) == 0 &&
	    streq_or_null(d->exempt_map, c->exempt_map) &&
	    strcmp(d->reply_text, c->reply_text) == 0 &&
	    strcmp(d->reply_escaped, c->reply_escaped) == 0 &&
	    strcmp(d->user, c->user) == 0 && streq_or_null(d->group, c->group) &&
	    streq_or_null(d->pidfile, c->pidfile) && d->limit == c->limit &&
	    d->window == c->window && d->ipv4_prefix == c->ipv4_prefix &&
	    d->ipv6_prefix == c->ipv6_prefix && d->reply_stage == c->reply_stage &&
	    d->mode == c->mode && d->max_clients == c->max_clients &&
	    d->count_refused == c->count_refused &&
	    d->map_check_interval == c->map_check_interval &&
	    d->socket_mode == c->socket_mode && d->log_level == c->log_level &&
	    d->syslog_facility == c->syslog_facility &&
	    d->allow_world_writable == c->allow_world_writable, "config_dup differs");
	(void)config_stage_name(c->reply_stage);
	config_free(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c;

	/* The text is handed over as it is, not NUL-terminated: the parser
	 * must keep to len. */
	max_line = 1;
	for (size_t i = 0; i < size; i++)
		max_line += data[i] == '\n';
	reports = 0;
	c = config_parse_text(PATH, (const char *)data, size, report);
	if (c == NULL) {
		CHECK(reports > 0, "rejected without a report");
	} else {
		CHECK(reports == 0, "accepted, yet %zu report(s)", reports);
		check_config(c);
		config_free(c);
	}
	return 0;
}
