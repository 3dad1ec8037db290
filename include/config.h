/*
 * config.h: the configuration, parsed once by libconfuse and turned at once
 * into this immutable struct; nothing else calls cfg_get*.
 */
#ifndef MRL_CONFIG_H
#define MRL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "listener.h"
#include "redis_conf.h"

#define CONFIG_DEFAULT_PATH "/etc/milter-ratelimit.conf"
/* The longest reply_text, counted after each '%' is doubled: libmilter's
 * MAXREPLYLEN.  smfi_setreply() refuses a longer text (it counts the text
 * alone, not the "421 4.3.2 " before it), and the client would get a bare
 * TEMPFAIL instead of our reply. */
#define CONFIG_REPLY_MAX 980
/* In reply_text, the seconds until the client's next connection would be
 * accepted.  Replaced before the '%' are doubled, so sendmail never sees
 * it; at most 5 digits, shorter than itself, so the length check above
 * holds for the text as sent. */
#define CONFIG_REPLY_RETRY "%{retry}"

/* The most keys a client of one family is counted under (window.h). */
#define CONFIG_KEYS_MAX 4

enum reply_stage { STAGE_CONNECT, STAGE_HELO };

/* One key a client is counted under: its address masked to plen (family
 * terms), at most `limit` connections in any `window` seconds. */
struct config_key {
	int plen;
	uint32_t limit;
	uint32_t window;	/* seconds */
	int line;		/* its prefix section's line; 0: the global options */
};
enum run_mode { MODE_ENFORCE, MODE_LOG };

struct config {
	char *path;		/* the file this came from */
	char *socket;		/* libmilter connection spec */
	int socket_line;	/* its line in path; 0: the default */
	uint32_t limit;
	uint32_t window;	/* seconds */
	int ipv4_prefix;	/* 8..32 */
	int ipv6_prefix;	/* 16..128 */
	/* Every key per family, [0] IPv4, [1] IPv6: keys[f][0] is the global
	 * prefix, limit and window; then the prefix sections in file order. */
	struct config_key keys[2][CONFIG_KEYS_MAX];
	int nkeys[2];
	char *exempt_map;	/* NULL when none */
	enum reply_stage reply_stage;
	char *reply_text;	/* as configured */
	char *reply_escaped;	/* '%' doubled, ready for smfi_setreply when
				 * it has no CONFIG_REPLY_RETRY (config_reply_format) */
	enum run_mode mode;
	uint64_t max_clients;
	uint32_t max_concurrent;	/* open sessions per key; 0: off (concurrency.h) */
	bool count_refused;
	uint32_t map_check_interval;	/* seconds, 0 = only on SIGUSR1 */
	char *user;		/* run as this user once the socket is open */
	char *group;		/* NULL: the user's primary group */
	unsigned socket_mode;	/* a unix socket's mode, never world-accessible */
	char *pidfile;		/* NULL when none */
	int log_level;		/* LOG_ERR..LOG_DEBUG */
	int syslog_facility;	/* LOG_MAIL, ... */
	bool allow_world_writable;	/* accept a config or map anyone may write */
	/* listener PORT { ... } sections in file order (listener.h). */
	struct listener_rule listeners[LISTENER_MAX];
	int nlisteners;
	/* Shared counters in Redis (redis_conf.h); redis NULL: local only. */
	char *redis;			/* as configured */
	struct redis_addr redis_addr;	/* parsed, when redis is set */
	char *redis_password_file;	/* NULL when none */
	int redis_password_line;	/* its line in path */
	char *redis_user;		/* from that file; NULL: the default user */
	char *redis_password;		/* from that file; NULL: no AUTH */
	uint32_t redis_db;
	char *redis_key_prefix;		/* never NULL; may be "" */
	uint32_t redis_timeout_ms;	/* connect and command bound */
};

/*
 * Parse and validate path.  On success returns the config; on failure
 * returns NULL and has called report(line) once per error, each line of
 * the form "FILE:LINE: message" (or "FILE: message" when no line applies).
 */
typedef void config_report_fn(const char *line);
struct config *config_load(const char *path, config_report_fn *report);
/* The same from text already in memory (len bytes; path names it in
 * messages).  No file-safety check: that is config_load's. */
struct config *config_parse_text(const char *path, const char *text, size_t len,
    config_report_fn *report);
struct config *config_dup(const struct config *c);	/* NULL when out of memory */
void config_free(struct config *c);

/*
 * The reply text for a client that may come back in retry_s seconds:
 * text with each CONFIG_REPLY_RETRY replaced by the number and every
 * other '%' doubled, into buf (len bytes, NUL included, cut before a
 * piece that does not fit).  Returns the length written.
 */
size_t config_reply_format(const char *text, uint32_t retry_s, char *buf,
    size_t len);

/* Every key for a log line: "ipv4/32:10/60s,ipv4/24:60/60s,ipv6/64:10/60s"
 * (family/length:limit/window), then each listener section
 * ("listener/587:off", listener_format), cut to len. */
#define CONFIG_KEYS_STRLEN 1024
void config_keys_format(const struct config *c, char *buf, size_t len);

const char *config_stage_name(enum reply_stage s);

#endif
