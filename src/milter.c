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
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "clock.h"
#include "log.h"
#include "milter.h"
#include "report.h"

static struct policy *policy;	/* set once before smfi_main(); has its own locks */

/* The per-session mark for a refused client in the helo stage: a pointer
 * to refused_marks[retry_s], the seconds until the client's next
 * connection would be accepted, as found at connect.  Only its address
 * matters: nothing is allocated per session, so there is nothing to free
 * in xxfi_close.  retry_s never exceeds the longest window (one day). */
#define RETRY_MAX (WINDOW_MS_MAX / 1000u)
static char refused_marks[RETRY_MAX + 1];

/* The retry seconds a session was marked with, or -1: not refused. */
static long
marked_retry(SMFICTX *ctx)
{
	char *m = smfi_getpriv(ctx);

	/* Nothing but mlfi_connect sets a session's private pointer. */
	if (m == NULL)
		return -1;
	return m - refused_marks;
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
 * (names.h: sendmail passes even a FORGED PTR name as the hostname).
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
	*pf2 = *pf3 = 0;
	if (smfi_setsymlist(ctx, SMFIM_CONNECT, CONNECT_MACROS) != MI_SUCCESS)
		log_warnx("smfi_setsymlist failed: client names will not count");
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	uint64_t now = clock_now_ms();
	struct policy_conn c = {
		.sa = hostaddr,
		.hostname = hostname,
		.resolve = smfi_getsymval(ctx, "{client_resolve}"),
		.port = smfi_getsymval(ctx, "{daemon_port}"),
	};
	struct decision d;

	policy_decide_conn(policy, &c, now, &d);
	report_decision(&d, hostname);
	if (d.kind != DECIDE_REFUSE)
		return SMFIS_ACCEPT;
	/* At connect the MTA sends its own text (FACTS §3): the retry
	 * seconds reach only the MTA's log. */
	if (d.stage == STAGE_CONNECT)
		return refuse(ctx, d.retry_s);
	smfi_setpriv(ctx, &refused_marks[d.retry_s < RETRY_MAX ? d.retry_s : RETRY_MAX]);
	return SMFIS_CONTINUE;
}

/* Only a client refused in the helo stage gets this far. */
static sfsistat
mlfi_helo(SMFICTX *ctx, char *helohost)
{
	long retry = marked_retry(ctx);

	(void)helohost;
	if (retry < 0)
		return SMFIS_ACCEPT;
	return refuse(ctx, (uint32_t)retry);
}

/* A client that skipped HELO meets the same refusal at MAIL. */
static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	long retry = marked_retry(ctx);

	(void)argv;
	if (retry < 0)
		return SMFIS_ACCEPT;
	return refuse(ctx, (uint32_t)retry);
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
	.xxfi_close	= NULL,		/* no per-session memory */
	.xxfi_unknown	= NULL,
	.xxfi_data	= NULL,
	.xxfi_negotiate	= mlfi_negotiate,	/* connect macros; libmilter's flags kept */
};

bool
milter_setup(const char *name, const char *spec, struct policy *p)
{
	policy = p;
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

bool
milter_run(void)
{
	return smfi_main() == MI_SUCCESS;
}
