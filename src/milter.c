/*
 * milter.c: libmilter glue, and nothing else.
 *
 * Only CONNECT decides.  An allowed, exempt or unknown client gets
 * SMFIS_ACCEPT, which makes both sendmail and Postfix close the milter
 * session at once.  A refused client gets, in the "connect" stage, 421
 * 4.3.2 and SMFIS_TEMPFAIL (the MTA shows its own 421 and hangs up); in
 * the "helo" stage SMFIS_CONTINUE, a mark in the context, and the 421
 * 4.3.2 reply at HELO/EHLO, or at MAIL for a client that skipped HELO, so
 * that the client reads our text (FACTS: the MTAs drop it at connect).
 *
 * With max_concurrent on, a client that is let in is counted under its
 * concurrency key and gets SMFIS_CONTINUE instead, so that the milter
 * stays in the session until the MTA ends it: libmilter calls xxfi_close
 * once per session, also when the MTA drops the milter connection
 * (mi_engine: "close must always be called"), and close gives the count
 * back.  The next session of a key at its limit gets 421 at connect.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "clock.h"
#include "concurrency.h"
#include "log.h"
#include "metrics.h"
#include "milter.h"
#include "report.h"

static struct policy *policy;	/* set once before smfi_main(); has its own locks */
static struct conc_table *conc;	/* open sessions per key; its own shard locks */

/*
 * A session's private data (smfi_setpriv), only for a session that needs
 * one: refused in the helo stage, or counted under max_concurrent.
 * Allocated at connect, freed in xxfi_close, which also gives back
 * exactly the count recorded here, once.
 */
struct session {
	long retry;		/* >= 0: refused in the helo stage, the seconds
				 * until the client's next connection would be
				 * accepted, as found at connect; -1: not */
	bool counted;		/* holds one count of `key` in conc */
	struct conc_key key;
};

static struct session *
session_new(SMFICTX *ctx)
{
	struct session *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	s->retry = -1;
	if (smfi_setpriv(ctx, s) != MI_SUCCESS) {
		free(s);
		return NULL;
	}
	return s;
}

/* Give back what the session counted and free its data; the session
 * then has none.  Idempotent. */
static void
session_end(SMFICTX *ctx)
{
	struct session *s = smfi_getpriv(ctx);

	if (s == NULL)
		return;
	if (s->counted && !conc_release(conc, &s->key))
		log_warnx("bug: a session released a concurrency count it did not hold");
	smfi_setpriv(ctx, NULL);
	free(s);
}

/* The retry seconds a session was marked with, or -1: not refused. */
static long
marked_retry(SMFICTX *ctx)
{
	struct session *s = smfi_getpriv(ctx);

	return s == NULL ? -1 : s->retry;
}

/* What HELO and MAIL answer a session that is not refused: a counted one
 * stays (SMFIS_CONTINUE) so that its count is given back at the end of
 * the SMTP session, not when the MTA would drop an accepted milter. */
static sfsistat
not_refused(SMFICTX *ctx)
{
	struct session *s = smfi_getpriv(ctx);

	return s != NULL && s->counted ? SMFIS_CONTINUE : SMFIS_ACCEPT;
}

static sfsistat
refuse(SMFICTX *ctx, uint32_t retry_s)
{
	char text[2 * CONFIG_REPLY_MAX + 1];

	/* The text was validated at config load; %{retry} is filled in and
	 * every other '%' doubled here. */
	policy_reply_text(policy, retry_s, text, sizeof text);
	if (smfi_setreply(ctx, "421", "4.3.2", text) != MI_SUCCESS)
		log_warnx("smfi_setreply failed; the MTA sends its own 421 text");
	return SMFIS_TEMPFAIL;
}

/*
 * The connect macros we need.  Neither MTA sends {client_resolve} at
 * connect by default, and a name is only trusted when it says OK
 * (names.h: the hostname alone proves nothing).
 * sendmail and Postfix replace this milter's connect list with ours
 * (Postfix also empties its lists for the other stages, which we do not
 * use), so it also names what sendmail sends by default (j, _), for anyone
 * debugging with the MTA's macro logs.  {client_ptr}, the unverified PTR
 * name, is deliberately not asked for.  {daemon_port} picks the
 * listener section (listener.h); sendmail has it, Postfix from 3.2.
 */
#define CONNECT_MACROS "j _ {client_resolve} {daemon_port}"

/*
 * Registered only to ask for CONNECT_MACROS.  libmilter hands us in *pf1
 * the protocol flags it would send without this callback (SMFIP_NO* for
 * every NULL callback), plus SMFIP_SKIP when the MTA offers it; we keep
 * them exactly, minus SMFIP_SKIP, so every stage we do not use stays
 * negotiated away and no "no reply" flag (SMFIP_NR_CONN) is ever set.
 * Actions stay 0 as in xxfi_flags: we never modify a message.
 */
static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)f0; (void)f1; (void)f2; (void)f3;
	*pf0 = 0;
	*pf1 &= ~(unsigned long)SMFIP_SKIP;
	/* HELO and MAIL stay negotiated in, even when max_concurrent keeps
	 * a counted session open with replies at connect: the flags hold for
	 * the whole milter connection, and a reload to reply_stage "helo"
	 * between this and CONNECT would otherwise mark a refused client for
	 * a HELO that never comes and let it in (review C).  A counted
	 * session pays one round trip per HELO and MAIL for it. */
	*pf2 = *pf3 = 0;
	if (smfi_setsymlist(ctx, SMFIM_CONNECT, CONNECT_MACROS) != MI_SUCCESS)
		log_warnx("smfi_setsymlist failed: client names will not count");
	return SMFIS_CONTINUE;
}

/*
 * max_concurrent for a client let in by the rate limit: count it under
 * its key, or refuse it at connect when the key is at its limit (mode
 * log: count it all the same and log).  A table without room, or no
 * memory for the session, lets the client in uncounted: the limit fails
 * open, it never refuses by mistake.
 */
static sfsistat
concurrency_check(SMFICTX *ctx, const struct decision *d, uint64_t now)
{
	char client[ADDR_STRLEN], key[ADDR_STRLEN], more[32] = "";
	struct conc_rule rule = {
		.limit = d->max_concurrent,
		.force = d->log_mode,
		.log_all = log_getlevel() >= LOG_LEVEL_DEBUG,
		.window_ms = d->conc_window_s * 1000u,
	};
	struct conc_outcome o;
	struct conc_key k;
	struct session *s;
	enum conc_result r;

	conc_key_make(&k, &d->client, d->conc_plen);
	r = conc_acquire_at(conc, &k, &rule, now, &o);
	if (r == CONC_FULL) {
		log_debug("concurrency table full: client not counted");
		return SMFIS_ACCEPT;
	}
	if (r == CONC_OVER) {
		policy_count_concurrent(policy, d->log_mode);
		/* One line per key per window (concurrency.h); open counts
		 * this session only when mode log counted it. */
		if (o.log) {
			addr_format(client, sizeof client, &d->client);
			addr_format_prefix(key, sizeof key, &k.a, d->conc_plen);
			if (o.suppressed > 0)
				snprintf(more, sizeof more, " suppressed=%u", o.suppressed);
			log_notice("%s client=%s key=%s concurrent=%u max_concurrent=%u%s",
			    d->log_mode ? "would-refuse-concurrent" : "refused-concurrent",
			    client, key, d->log_mode ? o.open - 1 : o.open,
			    d->max_concurrent, more);
		}
		if (!d->log_mode) {
			if (smfi_setreply(ctx, "421", "4.3.2",
			    "Too many concurrent connections") != MI_SUCCESS)
				log_warnx("smfi_setreply failed; the MTA sends its own 421 text");
			return SMFIS_TEMPFAIL;
		}
	}
	if ((s = session_new(ctx)) == NULL) {
		conc_release(conc, &k);
		log_warnx("out of memory: client not counted for max_concurrent");
		return SMFIS_ACCEPT;
	}
	s->counted = true;
	s->key = k;
	return SMFIS_CONTINUE;
}

static sfsistat
connect_decide(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr, uint64_t now)
{
	struct policy_conn c = {
		.sa = hostaddr,
		.hostname = hostname,
		.resolve = smfi_getsymval(ctx, "{client_resolve}"),
		.port = smfi_getsymval(ctx, "{daemon_port}"),
	};
	struct decision d;
	struct session *s;

	/* Defensive: a session has no data yet at CONNECT (close ends every
	 * session, also before SMFIC_QUIT_NC's next one, and libmilter's
	 * state machine ignores a second CONNECT: seen with miltertest); were
	 * that ever to change, nothing leaks. */
	session_end(ctx);
	/* What the MTA said about the client's name, for whoever checks an
	 * MTA's name verification (tests/mta/names.sh); untrusted text. */
	if (log_getlevel() >= LOG_LEVEL_DEBUG) {
		char h[256], r[64];
		log_escape(h, sizeof h, hostname != NULL ? hostname : "(null)");
		log_escape(r, sizeof r, c.resolve != NULL ? c.resolve : "(unset)");
		log_debug("connect host=%s client_resolve=%s", h, r);
	}
	policy_decide_conn(policy, &c, now, &d);
	report_decision(&d, hostname);
	if (d.kind != DECIDE_REFUSE) {
		/* Exempt and address-less clients are never counted. */
		if (d.max_concurrent == 0 || d.kind == DECIDE_EXEMPT ||
		    d.kind == DECIDE_NOADDR)
			return SMFIS_ACCEPT;
		return concurrency_check(ctx, &d, now);
	}
	/* At connect the MTA sends its own text (FACTS §3): the retry
	 * seconds reach only the MTA's log.  Without memory for the mark,
	 * the refusal comes at connect too. */
	if (d.stage == STAGE_CONNECT || (s = session_new(ctx)) == NULL)
		return refuse(ctx, d.retry_s);
	s->retry = d.retry_s;
	return SMFIS_CONTINUE;
}

/*
 * CONNECT, timed for the metrics' decision histogram: the whole callback
 * (rules lock, map lookup, table check, concurrency count, reply text) is
 * what this milter adds to an SMTP connection's start, which is what an
 * admin asks about; libmilter's own protocol work is not ours to show.
 */
static sfsistat
mlfi_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	uint64_t t0 = clock_now_ns();
	/* The decision's `now` (ms) from the same reading: one clock read
	 * fewer per connection (about 90 ns each on the test machines). */
	sfsistat r = connect_decide(ctx, hostname, hostaddr, t0 / 1000000u);

	metrics_histogram_observe(&metrics_decision, clock_now_ns() - t0);
	return r;
}

/* Only a client refused in the helo stage, or counted, gets this far. */
static sfsistat
mlfi_helo(SMFICTX *ctx, char *helohost)
{
	long retry = marked_retry(ctx);

	(void)helohost;
	if (retry < 0)
		return not_refused(ctx);
	return refuse(ctx, (uint32_t)retry);
}

/* A client that skipped HELO meets the same refusal at MAIL. */
static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	long retry = marked_retry(ctx);

	(void)argv;
	if (retry < 0)
		return not_refused(ctx);
	return refuse(ctx, (uint32_t)retry);
}

/*
 * Once per session, however it ends (QUIT, the MTA dropping the milter
 * connection, an abort): give back what this session counted, free its
 * data.  Sessions answered SMFIS_ACCEPT at connect come here too, with no
 * data: nothing to do.
 */
static sfsistat
mlfi_close(SMFICTX *ctx)
{
	session_end(ctx);
	return SMFIS_CONTINUE;
}

static struct smfiDesc filter = {
	.xxfi_name	= "milter-ratelimit",
	.xxfi_version	= SMFI_VERSION,
	.xxfi_flags	= 0,		/* we never modify a message */
	.xxfi_connect	= mlfi_connect,
	.xxfi_helo	= mlfi_helo,	/* reply_stage "helo" */
	.xxfi_envfrom	= mlfi_envfrom,	/* reply_stage "helo", no HELO sent */
	.xxfi_envrcpt	= NULL,
	.xxfi_header	= NULL,
	.xxfi_eoh	= NULL,
	.xxfi_body	= NULL,
	.xxfi_eom	= NULL,
	.xxfi_abort	= NULL,
	.xxfi_close	= mlfi_close,	/* frees the session, gives back its count */
	.xxfi_unknown	= NULL,
	.xxfi_data	= NULL,
	.xxfi_negotiate	= mlfi_negotiate,	/* connect macros; libmilter's flags kept */
};

bool
milter_setup(const char *name, const char *spec, struct policy *p)
{
	uint8_t seed[16];

	policy = p;
	/* Made even when max_concurrent is off: a reload may turn it on.
	 * calloc'd slots cost no memory until used. */
	if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed ||
	    (conc = conc_create(CONC_KEYS_DEFAULT, seed)) == NULL) {
		log_warnx("cannot set up the concurrency table");
		return false;
	}
	filter.xxfi_name = (char *)name;
	if (smfi_setconn((char *)spec) != MI_SUCCESS) {
		log_warnx("invalid socket \"%s\"", spec);
		return false;
	}
	if (smfi_register(filter) != MI_SUCCESS) {
		log_warnx("smfi_register failed");
		return false;
	}
	/* true: remove a stale unix socket left by a previous run. */
	if (smfi_opensocket(true) != MI_SUCCESS) {
		log_warnx("cannot open milter socket \"%s\" (does its directory exist, "
		    "is the port free?)", spec);
		return false;
	}
	return true;
}

void
milter_sweep(uint64_t now_ms)
{
	if (conc != NULL)
		conc_sweep(conc, now_ms, report_conc_due, NULL);
}

void
milter_drain(void)
{
	if (conc != NULL)
		conc_drain(conc, report_conc_due, NULL);
}

bool
milter_run(void)
{
	return smfi_main() == MI_SUCCESS;
}
