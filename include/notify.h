/* notify.h: systemd's readiness protocol (sd_notify), without libsystemd. */
#ifndef MRL_NOTIFY_H
#define MRL_NOTIFY_H

#include <stdbool.h>

/* True when started by systemd with Type=notify (NOTIFY_SOCKET is set). */
bool notify_wanted(void);
/* Send one datagram such as "READY=1" or "STOPPING=1"; errors ignored. */
void notify_send(const char *state);

#endif
