/*
 * reload.c: build new rules beside the old, swap, free the old.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "redis_store.h"
#include "reload.h"
#include "safefile.h"

static unsigned skipped;	/* map entries skipped during the current load */
static void (*map_report)(const char *line);

static void
report_log(const char *line)
{
	log_warnx("%s", line);
}

static void
warn_key(const char *path, const char *key, const char *reason)
{
	char shown[128], line[512];

	skipped++;
	log_escape(shown, sizeof shown, key);
	snprintf(line, sizeof line, "%s: skipping key \"%s\": %s", path, shown, reason);
	map_report(line);
}

static void
map_identify(const char *path, struct map_id *id)
{
	struct stat st;

	memset(id, 0, sizeof *id);
	if (path == NULL)
		return;
	if (stat(path, &st) != 0) {
		id->error = errno;
		return;
	}
	id->present = true;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtime = st.st_mtim;
	id->ctime = st.st_ctim;
}

static bool
map_same(const struct map_id *a, const struct map_id *b)
{
	return a->present == b->present && a->dev == b->dev && a->ino == b->ino &&
	    a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec &&
	    a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/*
 * Load the map cfg names.  The identity is taken before reading, so a
 * change made while we read is seen by the next check.
 */
static struct exempt *
load_map(const struct config *cfg, bool strict, struct map_id *id,
    void (*report)(const char *line))
{
	char err[512];
	struct exempt *e;

	map_identify(cfg->exempt_map, id);
	if (cfg->exempt_map == NULL)
		return exempt_empty();
	if (!cfg->allow_world_writable &&
	    !safefile_check(cfg->exempt_map, err, sizeof err)) {
		report(err);
		return NULL;
	}
	skipped = 0;
	map_report = report;
	e = exempt_load_db(cfg->exempt_map, warn_key, err, sizeof err);
	if (e == NULL) {
		report(err);
		return NULL;
	}
	if (strict && skipped > 0) {
		snprintf(err, sizeof err, "%s: %u invalid entries", cfg->exempt_map, skipped);
		report(err);
		exempt_free(e);
		return NULL;
	}
	return e;
}

struct ruleset *
reload_initial(const char *config_path, bool strict, struct map_id *id,
    void (*report)(const char *line))
{
	struct config *cfg;
	struct exempt *ex;
	struct ruleset *r;

	if ((cfg = config_load(config_path, report)) == NULL)
		return NULL;
	if ((ex = load_map(cfg, strict, id, report)) == NULL) {
		config_free(cfg);
		return NULL;
	}
	if ((r = policy_ruleset(cfg, ex)) == NULL) {
		report("out of memory");
		config_free(cfg);
		exempt_free(ex);
	}
	return r;
}

static void
install(struct reloader *r, struct ruleset *rs, const struct map_id *id,
    const char *what)
{
	struct ruleset *old = policy_swap(r->policy, rs);
	char keys[CONFIG_KEYS_STRLEN];

	log_setlevel((enum log_level)rs->cfg->log_level);
	/* New Redis settings from the next connection on; contexts made
	 * with the old ones are dropped before use (redis_conn.h). */
	redis_store_configure(rs->cfg);
	policy_ruleset_free(old);
	r->map = *id;
	r->map_missing_logged = false;
	r->reloads++;
	config_keys_format(rs->cfg, keys, sizeof keys);
	log_notice("reloaded %s: limit=%u window=%us keys=%s stage=%s mode=%s map=%s entries=%zu",
	    what, rs->cfg->limit, rs->cfg->window, keys,
	    config_stage_name(rs->cfg->reply_stage),
	    rs->cfg->mode == MODE_LOG ? "log" : "enforce",
	    rs->cfg->exempt_map ? rs->cfg->exempt_map : "none",
	    exempt_count(rs->exempt));
}

/* The rules in force.  Only this thread swaps them, so reading the
 * pointer without the lock is safe here. */
static const struct config *
current_config(struct reloader *r)
{
	return r->policy->rules->cfg;
}

/* A string setting fixed at start (NULL: unset): when the new config
 * changes it, say that it takes a restart and keep the one in force. */
static void
keep_fixed(struct reloader *r, const char *name, char **newv, const char *cur)
{
	char *keep = NULL;

	if ((*newv == NULL && cur == NULL) ||
	    (*newv != NULL && cur != NULL && strcmp(*newv, cur) == 0))
		return;
	log_warnx("%s: %s changed; it takes a restart, keeping %s",
	    r->config_path, name, cur ? cur : "none");
	if (cur != NULL && (keep = strdup(cur)) == NULL)
		return;		/* out of memory: the new value stays in the rules */
	free(*newv);
	*newv = keep;
}

void
reload_all(struct reloader *r)
{
	const struct config *cur = current_config(r);
	struct ruleset *rs;
	struct map_id id;

	log_info("SIGUSR1: reloading %s", r->config_path);
	if ((rs = reload_initial(r->config_path, false, &id, report_log)) == NULL) {
		r->failures++;
		log_warnx("reload failed; the configuration and map in force stay");
		return;
	}
	/* Settings fixed at start: say so, and keep the rules truthful.  A
	 * changed user, group or pid file would otherwise be accepted now and
	 * only judged at the next start (a boot), by -n in the unit's
	 * ExecStartPre: say at once that it takes a restart. */
	keep_fixed(r, "socket", &rs->cfg->socket, cur->socket);
	keep_fixed(r, "user", &rs->cfg->user, cur->user);
	keep_fixed(r, "group", &rs->cfg->group, cur->group);
	keep_fixed(r, "pidfile", &rs->cfg->pidfile, cur->pidfile);
	if (rs->cfg->socket_mode != cur->socket_mode) {
		log_warnx("%s: socket_mode changed; it takes a restart, keeping %04o",
		    r->config_path, cur->socket_mode);
		rs->cfg->socket_mode = cur->socket_mode;
	}
	if (rs->cfg->syslog_facility != cur->syslog_facility) {
		log_warnx("%s: syslog_facility changed; it takes a restart",
		    r->config_path);
		rs->cfg->syslog_facility = cur->syslog_facility;
	}
	if (rs->cfg->max_clients != cur->max_clients) {
		log_warnx("%s: max_clients changed; it takes a restart, keeping %llu",
		    r->config_path, (unsigned long long)cur->max_clients);
		rs->cfg->max_clients = cur->max_clients;
	}
	install(r, rs, &id, "configuration and map");
}

void
reload_check_map(struct reloader *r)
{
	const struct config *cur = current_config(r);
	struct ruleset *rs;
	struct exempt *ex;
	struct config *cfg;
	struct map_id id;

	if (cur->exempt_map == NULL)
		return;
	map_identify(cur->exempt_map, &id);
	if (map_same(&id, &r->map))
		return;
	if (!id.present) {
		/* One line and one failure per disappearance, not per check. */
		if (!r->map_missing_logged) {
			log_warnx("%s: %s; keeping the %zu entries in force",
			    cur->exempt_map, strerror(id.error),
			    exempt_count(r->policy->rules->exempt));
			r->failures++;
		}
		r->map_missing_logged = true;
		return;
	}
	if ((ex = load_map(cur, false, &id, report_log)) == NULL) {
		r->map = id;	/* don't retry this same broken file every tick */
		r->failures++;
		log_warnx("%s: not loaded; keeping the %zu entries in force",
		    cur->exempt_map, exempt_count(r->policy->rules->exempt));
		return;
	}
	if ((cfg = config_dup(cur)) == NULL ||
	    (rs = policy_ruleset(cfg, ex)) == NULL) {
		log_warnx("out of memory; keeping the map in force");
		config_free(cfg);
		exempt_free(ex);
		return;
	}
	install(r, rs, &id, "map");
}
