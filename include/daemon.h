/* daemon.h: process plumbing: signals and detaching from the terminal. */
#ifndef MRL_DAEMON_H
#define MRL_DAEMON_H

#include <stdbool.h>

/*
 * Block the signals libmilter's signal thread and our own threads wait
 * for (HUP, TERM, INT, USR1, USR2) in the calling thread, so that every
 * thread created afterwards inherits the mask.  Call before any thread.
 */
void daemon_block_signals(void);

/* Fork into the background, new session, stdio on /dev/null.  Call
 * before any thread exists (libmilter starts none before smfi_main). */
bool daemon_detach(void);

#endif
