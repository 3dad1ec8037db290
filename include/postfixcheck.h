/*
 * postfixcheck.h: does the local Postfix reach this milter's socket?
 *
 * Debian runs smtpd chrooted in the queue directory, so a socket in /run is
 * invisible to it, and with milter_default_action = accept mail then passes
 * unfiltered without a word.  At -n and at start we ask Postfix (postconf,
 * run without a shell, bounded in time) how it sees things and warn, naming
 * the fix.  Warnings only: never a reason to refuse to start.  Silent when
 * postconf is not on PATH (a sendmail host).
 */
#ifndef MRL_POSTFIXCHECK_H
#define MRL_POSTFIXCHECK_H

#include <stddef.h>

/* Bound on one postconf run, and on what we read from it. */
#define POSTFIXCHECK_TIMEOUT_MS	5000
#define POSTFIXCHECK_MAX_OUTPUT	(1024 * 1024)

/* Called once per warning with one line of text. */
typedef void postfixcheck_warn_fn(const char *line);

/*
 * What Postfix says, as postconf prints it:
 *   queue_dir     postconf -xh queue_directory (made canonical by the caller)
 *   main_milters  postconf -xh smtpd_milters
 *   master        postconf -M   (one service per line)
 *   overrides     postconf -Px  ("service/type/param = value" lines)
 * socket_path is the milter's unix socket as the milter opens it, made
 * canonical by the caller.  Pure: reads no file, runs nothing.
 * Returns the number of warnings given.
 */
int postfixcheck_analyze(const char *socket_path, const char *queue_dir,
    const char *main_milters, const char *master, const char *overrides,
    postfixcheck_warn_fn *warn);

/*
 * The whole check for a libmilter socket spec: only unix: and local:
 * sockets are checked.  Runs postconf three times (honouring MAIL_CONFIG
 * from the environment, as postconf itself does).  Returns the number of
 * warnings given (0 when postconf is absent).
 */
int postfixcheck_run(const char *socket_spec, postfixcheck_warn_fn *warn);

/* A postfixcheck_warn_fn that logs with log_warnx. */
void postfixcheck_log(const char *line);

#endif
