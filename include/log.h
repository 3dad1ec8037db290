/*
 * log.h: the daemon's one way to say something.
 *
 * Modelled on OpenSMTPD's log.c: syslog(LOG_MAIL) by default, stderr under -d,
 * printf-style with format checking.  Safe to call from any thread.
 */
#ifndef MRL_LOG_H
#define MRL_LOG_H

#include <stdarg.h>
#include <stddef.h>

#define MRL_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Levels, as syslog(3) orders them. */
enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_NOTICE = 5,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

/* ident: program name; to_stderr: log to stderr instead of syslog. */
void log_init(const char *ident, int to_stderr, int facility);
void log_setlevel(enum log_level max);
enum log_level log_getlevel(void);

void log_warn(const char *fmt, ...) MRL_PRINTF(1, 2);	/* appends strerror(errno) */
void log_warnx(const char *fmt, ...) MRL_PRINTF(1, 2);
void log_notice(const char *fmt, ...) MRL_PRINTF(1, 2);
void log_info(const char *fmt, ...) MRL_PRINTF(1, 2);
void log_debug(const char *fmt, ...) MRL_PRINTF(1, 2);
void fatal(const char *fmt, ...) MRL_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) MRL_PRINTF(1, 2) __attribute__((noreturn));

/*
 * Copy untrusted text (a PTR name from the MTA) into dst so that it cannot
 * forge a log line or break key=value parsing: anything but letters, digits
 * and ".-_[]:/" becomes \xNN.  Always NUL-terminates; truncates with "...".
 */
void log_escape(char *dst, size_t dstlen, const char *src);

#endif
