/*
 * listener.h: per-listener rules, keyed by the MTA's {daemon_port}.
 *
 * `listener PORT { mode = "off"|"log"|"enforce"  limit = N  window = N }`
 * in the config gives the connections an MTA accepted on its port PORT
 * rules of their own.  {daemon_port} is the portable key: sendmail and
 * Postfix 3.2+ both have it, and the milter asks for it at connect
 * (milter.c, smfi_setsymlist), so neither MTA needs configuring.
 *
 * A listener with a section counts apart: every key of the client is
 * folded with the port (listener_window_key), so 587 traffic never eats
 * the client's port-25 allowance, and no counter is ever read under two
 * rules.  A connection on a port without a section, or without the
 * macro, is counted under the global rules, shared with every other port
 * without a section.  Pure, apart from listener_warn_missing (one atomic).
 */
#ifndef MRL_LISTENER_H
#define MRL_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <confuse.h>

/* At most this many listener sections. */
#define LISTENER_MAX 16

/* Table keys folded with a port have this 128-bit prefix length, which
 * no client key (IPv4 97..128, IPv6 16..128) nor a name key (1) has. */
#define LISTENER_KEY_PLEN 2

enum listener_mode {
	LISTENER_GLOBAL,	/* no mode in the section: the global mode */
	LISTENER_ENFORCE,
	LISTENER_LOG,
	LISTENER_OFF,		/* accepted, never counted */
};

struct listener_rule {
	uint16_t port;
	enum listener_mode mode;
	uint32_t limit;		/* the listener's first key (the global prefix) */
	uint32_t window;	/* seconds */
	int line;		/* its section's line */
};

/* The section's options, for config.c's table. */
extern cfg_opt_t listener_cfg_options[];

/* libconfuse validator for one `listener` section (its title). */
int listener_cfg_validate(cfg_t *cfg, cfg_opt_t *opt);

/*
 * Every listener section of cfg into out (LISTENER_MAX), in file order;
 * limit and window default to the global ones.  A port given twice
 * ("587" and "0587") or more than LISTENER_MAX sections are reported as
 * "PATH:LINE: ..." through report.  Returns false after reporting.
 */
bool listener_cfg_load(cfg_t *cfg, const char *path, uint32_t limit,
    uint32_t window, struct listener_rule *out, int *n,
    void (*report)(const char *line));

/* A decimal port, 1..65535, alone: the title or the macro's value.
 * Returns 0 for anything else. */
uint16_t listener_port(const char *s);

/* The rule for a port (listener_port of {daemon_port}), or NULL. */
const struct listener_rule *listener_find(const struct listener_rule *l,
    int n, uint16_t port);

/* Fold port into a table key (16 bytes, 128-bit prefix length): a keyed
 * hash of both, with prefix length LISTENER_KEY_PLEN. */
void listener_window_key(uint8_t b[16], uint8_t *plen, uint16_t port);

/* Log, once per process, that listener sections exist but the MTA sent
 * no {daemon_port}.  Lock-free. */
void listener_warn_missing(void);

const char *listener_mode_name(enum listener_mode m);

/* sep then the rule for a log line, into buf (len > 0): "listener/587:off",
 * "listener/2525:30/3600s", "listener/465:log:10/60s" (a mode only when
 * the section sets one).  Returns the length written, < len. */
size_t listener_format(const struct listener_rule *r, const char *sep,
    char *buf, size_t len);

#endif
