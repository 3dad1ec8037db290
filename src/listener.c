/* listener.c: per-listener rules (see listener.h). */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "listener.h"
#include "log.h"
#include "siphash.h"

cfg_opt_t listener_cfg_options[] = {
	CFG_STR("mode",		"",	CFGF_NODEFAULT),
	CFG_INT("limit",	0,	CFGF_NODEFAULT),
	CFG_INT("window",	0,	CFGF_NODEFAULT),
	CFG_END()
};

static const char *const mode_names[] = { "", "enforce", "log", "off" };

uint16_t
listener_port(const char *s)
{
	long v = 0;
	const char *p;

	if (s == NULL)
		return 0;
	for (p = s; *p >= '0' && *p <= '9' && v <= 65535; p++)
		v = v * 10 + (*p - '0');
	if (p == s || *p != '\0' || v < 1 || v > 65535)
		return 0;
	return (uint16_t)v;
}

static enum listener_mode
mode_of(const char *s)
{
	for (int i = LISTENER_ENFORCE; i <= LISTENER_OFF; i++)
		if (strcmp(s, mode_names[i]) == 0)
			return (enum listener_mode)i;
	return LISTENER_GLOBAL;
}

/* As soon as the section's closing brace is read, so libconfuse names
 * that line: the title and the mode. */
int
listener_cfg_validate(cfg_t *cfg, cfg_opt_t *opt)
{
	cfg_t *sec = cfg_opt_getnsec(opt, cfg_opt_size(opt) - 1);
	const char *t = cfg_title(sec);

	(void)cfg;
	if (listener_port(t) == 0) {
		cfg_error(sec, "listener %.40s: expected a port number 1..65535 "
		    "(the MTA's {daemon_port})", t ? t : "");
		return -1;
	}
	if (cfg_size(sec, "mode") && mode_of(cfg_getstr(sec, "mode")) == LISTENER_GLOBAL) {
		cfg_error(sec, "listener %s: mode = \"%.40s\": expected one of "
		    "\"enforce\", \"log\", \"off\"", t, cfg_getstr(sec, "mode"));
		return -1;
	}
	return 0;
}

bool
listener_cfg_load(cfg_t *cfg, const char *path, uint32_t limit,
    uint32_t window, struct listener_rule *out, int *n,
    void (*report)(const char *line))
{
	unsigned count = cfg_size(cfg, "listener");
	char msg[600];
	bool ok = true;

	*n = 0;
	for (unsigned i = 0; i < count; i++) {
		cfg_t *sec = cfg_getnsec(cfg, "listener", i);
		struct listener_rule r;
		bool dup = false;

		r.port = listener_port(cfg_title(sec));
		if (r.port == 0)	/* listener_cfg_validate saw to it */
			continue;
		r.mode = cfg_size(sec, "mode") ? mode_of(cfg_getstr(sec, "mode"))
		    : LISTENER_GLOBAL;
		r.limit = cfg_size(sec, "limit") ? (uint32_t)cfg_getint(sec, "limit") : limit;
		r.window = cfg_size(sec, "window") ? (uint32_t)cfg_getint(sec, "window") : window;
		r.line = sec->line;
		for (int j = 0; j < *n; j++)
			if (out[j].port == r.port) {
				/* libconfuse only sees equal titles ("587" twice). */
				snprintf(msg, sizeof msg, "%s:%d: listener %s: port %u "
				    "already has a section (line %d)", path, r.line,
				    cfg_title(sec), r.port, out[j].line);
				report(msg);
				dup = true;
				ok = false;
			}
		if (dup)
			continue;
		if (*n == LISTENER_MAX) {
			snprintf(msg, sizeof msg, "%s:%d: listener %s: at most %d "
			    "listener sections", path, r.line, cfg_title(sec), LISTENER_MAX);
			report(msg);
			ok = false;
			continue;
		}
		out[(*n)++] = r;
	}
	return ok;
}

const struct listener_rule *
listener_find(const struct listener_rule *l, int n, uint16_t port)
{
	for (int i = 0; i < n; i++)
		if (l[i].port == port)
			return &l[i];
	return NULL;
}

void
listener_window_key(uint8_t b[16], uint8_t *plen, uint16_t port)
{
	/* Fixed keys, as names_window_key: the result only has to be
	 * distinct per (client key, port); the table hashes it again with
	 * its secret seed. */
	static const uint8_t k1[16] = "listener-key-k1", k2[16] = "listener-key-k2";
	unsigned char buf[19];
	uint64_t h1, h2;

	memcpy(buf, b, 16);
	buf[16] = *plen;
	buf[17] = (unsigned char)(port >> 8);
	buf[18] = (unsigned char)port;
	h1 = siphash13(k1, buf, sizeof buf);
	h2 = siphash13(k2, buf, sizeof buf);
	memcpy(b, &h1, 8);
	memcpy(b + 8, &h2, 8);
	*plen = LISTENER_KEY_PLEN;
}

void
listener_warn_missing(void)
{
	static atomic_bool said;

	/* Once: a line per connection would flood the log.  A plain load
	 * first, so that after the line no connection writes the shared
	 * flag's cache line. */
	if (!atomic_load_explicit(&said, memory_order_relaxed) &&
	    !atomic_exchange(&said, true))
		log_warnx("listener sections are configured but the MTA sent no "
		    "usable {daemon_port}: the global rules apply (Postfix needs 3.2 or "
		    "later); logged once");
}

const char *
listener_mode_name(enum listener_mode m)
{
	return m == LISTENER_GLOBAL ? "global" : mode_names[m];
}

size_t
listener_format(const struct listener_rule *r, const char *sep, char *buf,
    size_t len)
{
	int n;

	if (r->mode == LISTENER_OFF)
		n = snprintf(buf, len, "%slistener/%u:off", sep, r->port);
	else
		n = snprintf(buf, len, "%slistener/%u:%s%s%u/%us", sep, r->port,
		    r->mode == LISTENER_GLOBAL ? "" : mode_names[r->mode],
		    r->mode == LISTENER_GLOBAL ? "" : ":", r->limit, r->window);
	if (n < 0)
		return 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}
