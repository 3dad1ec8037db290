/*
 * reload.h: loading the rules (config + exemption map) at start, and again
 * on SIGUSR1 or when the map file changes, without losing the last good
 * ones.
 *
 * A reload builds the new rules beside the old ones and swaps them in with
 * policy_swap(); anything that fails to load (missing, corrupt, invalid)
 * is logged with its reason and the rules in force stay.  The counter
 * table is never touched, so counts survive.
 *
 * All of this runs in one thread (main at start, then the control
 * thread): libconfuse's error reporting is not thread-safe.
 */
#ifndef MRL_RELOAD_H
#define MRL_RELOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "policy.h"

/* What tells one version of the map file from another. */
struct map_id {
	bool present;
	int error;		/* errno of stat() when not present */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	/* chmod and chown change only this: a map refused for its mode
	 * must be tried again once the admin has fixed the mode. */
	struct timespec ctime;
};

struct reloader {
	const char *config_path;
	struct policy *policy;
	struct map_id map;	/* the map version in force */
	uint64_t reloads;	/* successful reloads of config or map */
	uint64_t failures;	/* attempts that kept the old rules */
	bool map_missing_logged;	/* say "map is gone" once, not every check */
};

/*
 * The outcome of reloads, for ratelimit-ctl and the metrics (any thread
 * may read it; reload_status() copies it under its own mutex).  ok and
 * failed count what struct reloader's reloads and failures count (SIGUSR1,
 * ratelimit-ctl reload and map-change reloads alike); last_ok is the wall
 * clock of the last good load, the start's included.
 */
#define RELOAD_TEXT_MAX 1024
struct reload_status {
	uint64_t ok;		/* loads that installed new rules */
	uint64_t failed;	/* attempts that kept the rules in force */
	time_t last_ok;		/* wall clock; the start counts */
	time_t last_failed;	/* wall clock; 0: never */
	char summary[RELOAD_TEXT_MAX];	/* the rules in force, as logged */
	char error[RELOAD_TEXT_MAX];	/* the last failure's lines ("\n" between) */
};
void reload_status(struct reload_status *out);

/*
 * Asking the control thread for a reload and waiting for its outcome
 * (ratelimit-ctl reload).  reload_request() takes a ticket and wakes the
 * control thread (SIGUSR1 to the process); reload_done() says whether a
 * reload that began after the ticket was taken has finished.  The control
 * thread takes the ticket (reload_ticket_take) before it reads any file
 * and hands it back (reload_ticket_done) once the outcome is recorded.
 */
uint64_t reload_request(void);
bool reload_done(uint64_t ticket, bool *ok);
uint64_t reload_ticket_take(void);
void reload_ticket_done(uint64_t ticket, bool ok);

/*
 * Load config and map from scratch, for start-up and -n.  Errors go to
 * report (FILE:LINE: message).  strict: a map entry that is skipped
 * (bad key or value) is an error too.  Start-up, -n and reloads all pass
 * false: one rule, so that -n never refuses a map the daemon runs with.
 * Returns NULL on error.
 */
struct ruleset *reload_initial(const char *config_path, bool strict,
    struct map_id *id, void (*report)(const char *line));

/* The rules' one-line summary ("limit=10 window=60s keys=... entries=N"),
 * as the reload line logs it and ratelimit-ctl reload prints it. */
void reload_summary(const struct ruleset *rs, char *buf, size_t len);
/* At start, once the first rules are in force: the record's last_ok. */
void reload_started(const struct ruleset *rs);

/* SIGUSR1: re-read the config file and the map it names.  False when
 * the rules in force stay (the reasons are in reload_status). */
bool reload_all(struct reloader *r);

/* Every map_check_interval: reload the map if its file changed. */
void reload_check_map(struct reloader *r);

#endif
