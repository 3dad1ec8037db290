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
 * Load config and map from scratch, for start-up and -n.  Errors go to
 * report (FILE:LINE: message).  strict: a map entry that is skipped
 * (bad key or value) is an error too.  Start-up, -n and reloads all pass
 * false: one rule, so that -n never refuses a map the daemon runs with.
 * Returns NULL on error.
 */
struct ruleset *reload_initial(const char *config_path, bool strict,
    struct map_id *id, void (*report)(const char *line));

/* SIGUSR1: re-read the config file and the map it names. */
void reload_all(struct reloader *r);

/* Every map_check_interval: reload the map if its file changed. */
void reload_check_map(struct reloader *r);

#endif
