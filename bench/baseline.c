/*
 * baseline.c: the protocol's own ceiling.  A milter built from the same
 * libmilter as milter-ratelimit, registering only the connect callback,
 * which accepts everyone.  Whatever milter-ratelimit costs beyond this is
 * its own work (policy, table, logging); the rest is libmilter and the
 * socket.
 *
 *   baseline SPEC        e.g. baseline unix:/run/x/baseline.sock
 *
 * Runs in the foreground until SIGTERM (libmilter's signal thread stops
 * smfi_main()).  Same socket options as the daemon: libmilter's defaults,
 * and a stale unix socket is removed at start.
 */
#include <stdio.h>
#include <stdlib.h>

#include <libmilter/mfapi.h>

static sfsistat
bl_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	(void)ctx;
	(void)hostname;
	(void)hostaddr;
	return SMFIS_ACCEPT;
}

static struct smfiDesc desc = {
	.xxfi_name = "bench-baseline",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = 0,
	.xxfi_connect = bl_connect,
};

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: baseline SPEC\n");
		return 2;
	}
	if (smfi_setconn(argv[1]) != MI_SUCCESS ||
	    smfi_register(desc) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "baseline: cannot listen on %s\n", argv[1]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
