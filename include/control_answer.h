/*
 * control_answer.h: the control socket's answers (control_proto.h gives
 * their form), built into a buffer the control thread then writes without
 * blocking.  No socket and no lock of its own: the work is policyctl.h's
 * (and its locking).
 */
#ifndef MRL_CONTROL_ANSWER_H
#define MRL_CONTROL_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "control_proto.h"
#include "policy.h"

/* An answer being built: past 512 KiB or out of memory, oom is set and
 * the answer becomes an ERR line. */
struct control_buf {
	char *out;
	size_t len, cap;
	bool oom;
};

void control_put(struct control_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void control_buf_reset(struct control_buf *b);
void control_buf_free(struct control_buf *b);

/* "ERR why", in place of whatever b held. */
void control_answer_error(struct control_buf *b, const char *why);

/* The answer to rq (not RELOAD) from p; uid and pid name who asked, for
 * the log line of a RESET. */
void control_answer(struct control_buf *b, struct policy *p,
    const struct control_req *rq, uid_t uid, pid_t pid);

/* The outcome of the reload a client waited for (reload_status()). */
void control_answer_reload(struct control_buf *b, bool ok);

#endif
