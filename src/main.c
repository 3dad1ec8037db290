/*
 * milter-ratelimit: refuse SMTP clients that connect too often.
 *
 * main() in the order a careful daemon starts: options, logging, config
 * and map (fatal when missing or bad; -n stops here), the counter table,
 * signals blocked before any thread exists, the pid file locked (another
 * instance: refuse), the metrics port bound (when on), the socket created
 * as root with its owner and mode (a live one: refuse), detach (not under
 * systemd), our pid written, root given up for good, our control thread
 * and the metrics thread, then libmilter's loop until a signal ends it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <syslog.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "control.h"
#include "daemon.h"
#include "log.h"
#include "maint.h"
#include "metrics.h"
#include "metrics_http.h"
#include "metrics_listen.h"
#include "metrics_redis.h"
#include "milter.h"
#include "notify.h"
#include "pidfile.h"
#include "postfixcheck.h"
#include "policy.h"
#include "privs.h"
#include "sockfile.h"
#include "sockspec.h"
#include "redis_store.h"
#include "reload.h"
#include "report.h"
#include "sockdir.h"
#include "window.h"

#define PROGNAME "milter-ratelimit"

static int to_stderr;		/* -d or -n: messages on stderr */

/* -h and --help: the usage on stdout, exit 0 (asked for); a bad command
 * line: the synopsis on stderr, exit 64. */
static void __attribute__((noreturn))
usage(FILE *out, int status)
{
	fprintf(out, "usage: %s [-dhnV] [-f file]\n", PROGNAME);
	if (status == 0)
		fprintf(out,
		    "  -d            stay in the foreground, log to stderr\n"
		    "  -f file       configuration file (default %s)\n"
		    "  -n            check the configuration and the map, then exit\n"
		    "  -h, --help    print this help and exit\n"
		    "  -V, --version print the version and exit\n"
		    "See milter-ratelimit(8) and milter-ratelimit.conf(5).\n",
		    CONFIG_DEFAULT_PATH);
	exit(status);
}

/* Config errors go to stderr always (an admin running -n or starting by
 * hand sees them) and to syslog too when we log there. */
static void
report_config(const char *line)
{
	fprintf(stderr, "%s\n", line);
	if (!to_stderr)
		log_warnx("%s", line);
}

static struct window_table *
make_table(const struct config *cfg)
{
	uint8_t seed[16];
	struct window_table *t;

	/* A fresh secret per start: nobody can aim addresses at one chain. */
	if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed)
		fatal("getrandom");
	if ((t = window_create(cfg->max_clients, seed)) == NULL)
		fatal("cannot allocate the table for %llu clients",
		    (unsigned long long)cfg->max_clients);
	return t;
}

static char *socket_spec;	/* fixed at start */
static struct sockfile sock = { .fd = -1, .dirfd = -1 };	/* a unix socket we created */
static struct pidfile pidf = { .fd = -1 };			/* held and locked by us */

/* A start that fails after the socket or pid file exists leaves neither;
 * what another instance holds was never ours and stays. */
static void __attribute__((noreturn))
abandon(int status)
{
	control_stop();
	sockfile_remove(&sock);
	pidfile_remove(&pidf);
	exit(status);
}

/*
 * Prometheus metrics (metrics_http.h), off unless metrics_listen is set.
 * The port is bound here, before the fork and while we may be root: a
 * port below 1024 needs root (the shipped unit starts unprivileged, and
 * the default 9456 needs none), and a port in use stops the start with
 * its reason instead of a daemon without metrics.  The server's thread
 * starts only once root is given up and our signals are blocked: it never
 * answers a request as root.  A reload keeps the address (reload.c).
 */
static void
metrics_bind(const struct config *cfg)
{
	char err[512];

	metrics_decision_init();
	/* Redis's families are shown, configured or not (a reload may
	 * turn it on). */
	if (!metrics_redis_register())
		log_warnx("metrics: no room for the Redis families");
	if (cfg->metrics_listen == NULL)
		return;
	if (!metrics_http_bind(cfg->metrics_listen, err, sizeof err)) {
		log_warnx("%s", err);
		abandon(EX_OSERR);
	}
}

/* Who we will run as; checked before anything is created (and by -n). */
static bool
lookup_user(const struct config *cfg, struct privs *pv)
{
	char err[512], line[600];

	if (privs_lookup(cfg->user, cfg->group ? cfg->group : "", pv, err, sizeof err))
		return true;
	snprintf(line, sizeof line, "%s: %s", cfg->path, err);
	report_config(line);
	return false;
}

/* "FILE:LINE" of the socket option ("FILE" for the default): every -n
 * message about the socket names where to fix it. */
static const char *
socket_where(const struct config *cfg, char *buf, size_t len)
{
	if (cfg->socket_line > 0)
		snprintf(buf, len, "%s:%d", cfg->path, cfg->socket_line);
	else
		snprintf(buf, len, "%s", cfg->path);
	return buf;
}

/* -n: the socket's directory, as the run user will find it.  Started as
 * root, root creates the socket: what only the user lacks is a warning. */
static bool
check_socket_dir(const struct config *cfg, const struct privs *pv)
{
	char msg[1024], line[1400], where[256];
	enum sockdir_verdict v;

	v = sockdir_check(cfg->socket, pv->name, pv->uid, pv->gid, geteuid() == 0,
	    msg, sizeof msg);
	if (v == SOCKDIR_OK)
		return true;
	snprintf(line, sizeof line, "%s: %s%s", socket_where(cfg, where, sizeof where),
	    v == SOCKDIR_WARN ? "warning: " : "", msg);
	report_config(line);
	return v == SOCKDIR_WARN;
}

/*
 * -n: an inet socket that other hosts are to reach.  The shipped unit
 * lets only localhost through (IPAddressDeny=any, IPAddressAllow=
 * localhost): a warning, since a drop-in may already open it, or the
 * daemon may not run under that unit.  A host that resolves to nothing
 * would stop the start: an error.
 */
static bool
check_socket_reach(const struct config *cfg)
{
	struct sockspec ss;
	char msg[512], line[1600], where[256];

	if (!sockspec_parse(cfg->socket, &ss, msg, sizeof msg)) {
		snprintf(line, sizeof line, "%s: %s", socket_where(cfg, where, sizeof where), msg);
		report_config(line);
		return false;
	}
	switch (sockspec_reach(cfg->socket, &ss, msg, sizeof msg)) {
	case SOCKSPEC_LOCAL:
		return true;
	case SOCKSPEC_REMOTE:
		snprintf(line, sizeof line, "%s: warning: %s; under the shipped systemd "
		    "unit (IPAddressDeny=any, IPAddressAllow=localhost) no other host "
		    "gets through: allow the MTA's address in a drop-in (systemctl edit "
		    "milter-ratelimit: [Service] IPAddressAllow=ADDRESS); see "
		    "milter-ratelimit(8)", socket_where(cfg, where, sizeof where), msg);
		report_config(line);
		return true;
	case SOCKSPEC_UNRESOLVED:
		break;
	}
	snprintf(line, sizeof line, "%s: %s", socket_where(cfg, where, sizeof where), msg);
	report_config(line);
	return false;
}

/*
 * -n: a metrics_listen that other hosts are to reach.  The shipped unit
 * lets only localhost through: a warning, as for the milter socket (a
 * drop-in may already allow the Prometheus server).  The value itself
 * was checked with the config.
 */
static void
check_metrics_reach(const struct config *cfg)
{
	struct metrics_listen l;
	char err[300], line[1024];

	if (cfg->metrics_listen == NULL ||
	    !metrics_listen_parse(cfg->metrics_listen, &l, err, sizeof err) ||
	    metrics_listen_is_loopback(&l))
		return;
	snprintf(line, sizeof line, "%s: warning: metrics_listen = \"%s\" is reached from "
	    "other hosts; under the shipped systemd unit (IPAddressDeny=any, "
	    "IPAddressAllow=localhost) none gets through: allow the Prometheus "
	    "server's address in a drop-in (systemctl edit milter-ratelimit: "
	    "[Service] IPAddressAllow=ADDRESS), and keep everyone else out; see "
	    "milter-ratelimit(8)", cfg->path, cfg->metrics_listen);
	report_config(line);
}

/*
 * Refuse to start while another instance runs on this configuration: its
 * pid file lock (when there is a pid file) is taken first, before the
 * socket is touched; the socket check in sockfile_create catches one
 * without a pid file.
 */
static void
lock_pidfile(const char *path)
{
	char err[512];

	switch (pidfile_lock(&pidf, path, err, sizeof err)) {
	case PIDFILE_OK:
		return;
	case PIDFILE_BUSY:
		log_warnx("%s", err);
		exit(EX_TEMPFAIL);
	case PIDFILE_ERROR:
		log_warnx("%s", err);
		exit(EX_CANTCREAT);
	}
}

/*
 * Open the milter socket.  A unix socket is created by sockfile.c with
 * its owner (when root) and mode, and handed to libmilter as "fd:N";
 * inet sockets are libmilter's own.
 */
static void
open_socket(const struct config *cfg, const struct privs *pv, struct policy *pol)
{
	const char *path = sockspec_unix_path(socket_spec);
	bool root = geteuid() == 0;
	char err[512], spec[32];
	struct stat dirst;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;

	if (path == NULL) {
		if (!milter_setup(PROGNAME, socket_spec, pol))
			abandon(EX_OSERR);
		return;
	}
	/* Root gives the socket user and group.  Started unprivileged
	 * (systemd's User=), a process may still give its socket any group
	 * it belongs to (SupplementaryGroups=): `group` must be one. */
	if (root) {
		uid = pv->uid;
		gid = pv->socket_gid;
	} else if (pv->socket_gid != getegid()) {
		if (!privs_member(pv->socket_gid)) {
			log_warnx("cannot give socket %s the group \"%s\" (gid %ld): this "
			    "process (uid %ld) is not a member of it; add the group to "
			    "the service's groups (systemd: SupplementaryGroups=%s) or "
			    "start as root", path, cfg->group ? cfg->group : "",
			    (long)pv->socket_gid, (long)geteuid(), cfg->group ? cfg->group : "");
			abandon(EX_OSERR);
		}
		gid = pv->socket_gid;
	}
	switch (sockfile_create(&sock, path, uid, gid, (mode_t)cfg->socket_mode, &dirst,
	    err, sizeof err)) {
	case SOCKFILE_OK:
		break;
	case SOCKFILE_LIVE:
		log_warnx("%s", err);
		abandon(EX_TEMPFAIL);
	case SOCKFILE_ERROR:
		log_warnx("%s", err);
		abandon(EX_OSERR);
	}
	/* Started as root for another user: a directory that user may
	 * write is one where it could swap the socket or plant links. */
	if (root && !pv->is_root && privs_can_write(pv, &dirst))
		log_warnx("socket directory %s is writable by user %s: a process "
		    "running as that user can replace the socket or plant links in "
		    "it; make it root-owned (e.g. 0755 root:root)", sock.dir, pv->name);
	snprintf(spec, sizeof spec, "fd:%d", sock.fd);
	if (!milter_setup(PROGNAME, spec, pol))
		abandon(EX_OSERR);
}

/*
 * -n with redis set, notes and warnings only:
 * - a prefix section, a listener section or a map entry with its own
 *   limit makes a call carry several keys, which a Redis Cluster may keep
 *   in different slots; on a single Redis (what Debian ships) it is fine;
 * - a Redis on another host: the shipped unit lets the daemon reach only
 *   localhost (IPAddressDeny=any, IPAddressAllow=localhost), and every
 *   connection would then fall back to the local table.
 */
static void
check_redis(const struct ruleset *rs)
{
	const struct config *c = rs->cfg;
	const struct redis_addr *a = &c->redis_addr;
	char line[900];

	if (c->redis == NULL)
		return;
	if (c->nkeys[0] > 1 || c->nkeys[1] > 1 || c->nlisteners > 0 ||
	    exempt_max_window_s(rs->exempt) > 0) {	/* an entry with its own limit */
		snprintf(line, sizeof line, "%s: note: with prefix sections, listener "
		    "sections or map entries with their own limit a client is counted "
		    "under several Redis keys in one call: that needs a single Redis "
		    "server, not a Redis Cluster", c->path);
		report_config(line);
	}
	if (!a->is_unix && strncmp(a->host, "127.", 4) != 0 &&
	    strcmp(a->host, "::1") != 0) {
		snprintf(line, sizeof line, "%s: warning: redis = \"%s\" is not on this "
		    "host; under the shipped systemd unit (IPAddressDeny=any, "
		    "IPAddressAllow=localhost) the daemon cannot reach it and the local "
		    "table alone decides: allow it in a drop-in (systemctl edit "
		    "milter-ratelimit: [Service] IPAddressAllow=%s)", c->path, c->redis,
		    a->host);
		report_config(line);
	}
}

/* Root is given up for good; the socket already has its owner. */
static void
become_user(struct privs *pv)
{
	char err[512];

	if (!privs_drop(pv, err, sizeof err)) {
		log_warnx("%s", err);
		abandon(EX_OSERR);
	}
	if (geteuid() == 0 && !pv->is_root) {
		log_warnx("still root; refusing to run (set user = \"root\" to allow it)");
		abandon(EX_OSERR);
	}
}

/*
 * Started as root, the password file was read as root; each reload reads
 * it as the run user.  One only root may read (0600 root) would then
 * fail every reload, map changes included: read it again now, as the run
 * user, and refuse to start if that fails (exit 78).
 */
static void
recheck_redis_password(const struct config *c)
{
	char err[512], *user, *pw;

	if (c->redis_password_file == NULL)
		return;
	if (!redis_conf_read_password(c->redis_password_file, &user, &pw, err,
	    sizeof err)) {
		log_warnx("%s:%d: redis_password_file: %s (read as user %s, as "
		    "every reload reads it)", c->path, c->redis_password_line, err,
		    c->user);
		abandon(EX_CONFIG);
	}
	redis_conf_free_secret(user);
	redis_conf_free_secret(pw);
}

int
main(int argc, char *argv[])
{
	const char *path = CONFIG_DEFAULT_PATH;
	int check_only = 0, foreground = 0, ch;
	struct reloader reloader = { 0 };
	struct ruleset *rules;
	char keys[CONFIG_KEYS_STRLEN];
	static struct policy pol;	/* outlives main(): see the end */
	static struct metrics_source metrics_src;	/* read by the metrics thread */
	struct privs pv;
	char err[512];
	bool ok;

	static const struct option longopts[] = {
		{ "help",	no_argument,	NULL,	'h' },
		{ "version",	no_argument,	NULL,	'V' },
		{ NULL,		0,		NULL,	0 },
	};

	while ((ch = getopt_long(argc, argv, "df:hnV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': foreground = to_stderr = 1; break;
		case 'f': path = optarg; break;
		case 'h': usage(stdout, 0);
		case 'n': check_only = to_stderr = 1; break;
		case 'V': printf("%s %s\n", PROGNAME, VERSION); return 0;
		default: usage(stderr, EX_USAGE);
		}
	}
	if (optind != argc)
		usage(stderr, EX_USAGE);
	/* Under systemd (Type=notify) stay in the foreground, log to syslog. */
	if (notify_wanted())
		foreground = 1;

	log_init(PROGNAME, to_stderr, LOG_MAIL);

	/*
	 * -n judges the map as a reload does: an entry the daemon skips (with
	 * a warning) is a warning here too, not an error.  Were -n stricter,
	 * a map the running daemon accepted would stop the next start
	 * (ExecStartPre), and the milter would be gone after a reboot.
	 */
	rules = reload_initial(path, false, &reloader.map, report_config);
	if (rules == NULL)
		return EX_CONFIG;
	if (!lookup_user(rules->cfg, &pv)) {
		policy_ruleset_free(rules);
		return EX_CONFIG;
	}
	if (check_only && (!check_socket_dir(rules->cfg, &pv) ||
	    !check_socket_reach(rules->cfg))) {
		privs_free(&pv);
		policy_ruleset_free(rules);
		return EX_CONFIG;
	}
	/* Redis: what its settings need besides (notes, warnings). */
	if (check_only)
		check_redis(rules);
	if (check_only)
		check_metrics_reach(rules->cfg);
	/* Warnings only: a Postfix that cannot reach the socket. */
	postfixcheck_run(rules->cfg->socket, postfixcheck_log);
	if (check_only) {
		printf("configuration OK\n");
		privs_free(&pv);
		policy_ruleset_free(rules);
		return 0;
	}
	/* The facility is fixed at start; the level follows reloads. */
	log_init(PROGNAME, to_stderr, rules->cfg->syslog_facility);
	log_setlevel((enum log_level)rules->cfg->log_level);
	if (rules->cfg->exempt_map)
		log_info("exemption map %s: %zu entries", rules->cfg->exempt_map,
		    exempt_count(rules->exempt));

	policy_init(&pol, make_table(rules->cfg), rules);
	/* Redis, when set, from the first connection on (redis_store.h). */
	redis_store_configure(rules->cfg);
	reloader.config_path = path;
	reloader.policy = &pol;
	/* Socket and pid file are fixed at start; reloads never change them. */
	if ((socket_spec = strdup(rules->cfg->socket)) == NULL)
		fatal("strdup");

	daemon_block_signals();
	/* Another instance on this config holds the lock: stop before the
	 * socket is touched. */
	if (rules->cfg->pidfile)
		lock_pidfile(rules->cfg->pidfile);
	/* A taken metrics port stops the start before the milter socket
	 * is touched; a second instance has been stopped by the lock. */
	metrics_bind(rules->cfg);
	/* Nobody may reach the socket before it has its owner and mode. */
	mode_t um = umask(0077);
	open_socket(rules->cfg, &pv, &pol);
	if ((ch = control_open(rules->cfg, &pv)) != 0)
		abandon(ch);
	umask(um);
	if (!foreground && !daemon_detach())
		abandon(EX_OSERR);
	/* The lock came along: the child shares the open file description. */
	if (pidf.fd >= 0 && !pidfile_write(&pidf, err, sizeof err)) {
		log_warnx("%s", err);
		abandon(EX_CANTCREAT);
	}
	become_user(&pv);
	privs_free(&pv);
	recheck_redis_password(rules->cfg);
	/* Before the control thread exists: a reload may free `rules`. */
	config_keys_format(rules->cfg, keys, sizeof keys);
	log_notice("started %s: socket=%s limit=%u window=%us ipv4_prefix=%d "
	    "ipv6_prefix=%d keys=%s stage=%s mode=%s max_clients=%llu (%zu bytes) exempt=%zu "
	    "user=%s", VERSION, socket_spec, rules->cfg->limit, rules->cfg->window,
	    rules->cfg->ipv4_prefix, rules->cfg->ipv6_prefix, keys,
	    config_stage_name(rules->cfg->reply_stage),
	    rules->cfg->mode == MODE_LOG ? "log" : "enforce",
	    (unsigned long long)rules->cfg->max_clients, window_memory(pol.table),
	    exempt_count(rules->exempt), rules->cfg->user);
	reload_started(rules);
	if (!maint_start(&reloader) || !control_start(&pol))
		abandon(EX_OSERR);
	metrics_src.policy = &pol;
	metrics_src.start_time = clock_wall_s();
	if (!metrics_http_start(&metrics_src))
		abandon(EX_OSERR);
	notify_send("READY=1");

	ok = milter_run();

	notify_send("STOPPING=1");
	control_stop();
	metrics_http_stop();
	maint_stop();
	/* Refusals not logged yet get their summary lines: none is lost. */
	window_drain(pol.table, report_due, NULL);
	milter_drain();
	sockfile_remove(&sock);
	pidfile_remove(&pidf);
	log_notice("stopped");
	/*
	 * The policy and table stay allocated: libmilter does
	 * not join its worker threads when smfi_main() returns, and one may
	 * still be deciding.  exit() reclaims them.
	 */
	return ok ? 0 : 1;
}
