/*
 * log.c: syslog or stderr, one line per call.
 *
 * The destination is set once at start, before any thread exists; the
 * level may change on reload.  syslog(3) and a single fprintf to an
 * unbuffered stderr are each safe to call from several threads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static const char *log_ident = "milter-ratelimit";
static int log_stderr = 1;
/* Set by the one thread that loads configs; read by all (a stale read
 * only lets one line more or less through). */
static _Atomic enum log_level log_max = LOG_LEVEL_INFO;

void
log_init(const char *ident, int to_stderr, int facility)
{
	log_ident = ident;
	log_stderr = to_stderr;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
	setvbuf(stderr, NULL, _IONBF, 0);
}

void
log_setlevel(enum log_level max)
{
	log_max = max;
}

enum log_level
log_getlevel(void)
{
	return log_max;
}

static void
vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char msg[2048];

	if (pri > (int)log_max)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (log_stderr)
		fprintf(stderr, "%s[%ld]: %s%s%s\n", log_ident, (long)getpid(),
		    msg, suffix ? ": " : "", suffix ? suffix : "");
	else
		syslog(pri, "%s%s%s", msg, suffix ? ": " : "",
		    suffix ? suffix : "");
}

#define LOG_FN(name, pri)						\
void									\
name(const char *fmt, ...)						\
{									\
	va_list ap;							\
	va_start(ap, fmt);						\
	vlog(pri, fmt, ap, NULL);					\
	va_end(ap);							\
}

LOG_FN(log_warnx, LOG_WARNING)
LOG_FN(log_notice, LOG_NOTICE)
LOG_FN(log_info, LOG_INFO)
LOG_FN(log_debug, LOG_DEBUG)

void
log_warn(const char *fmt, ...)
{
	char err[256];
	va_list ap;

	strerror_r(errno, err, sizeof err);
	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, err);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	char err[256];
	va_list ap;

	strerror_r(errno, err, sizeof err);
	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap, err);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

void
log_escape(char *dst, size_t dstlen, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (dstlen == 0)
		return;
	for (; src && *src; src++) {
		unsigned char c = (unsigned char)*src;
		int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c && strchr(".-_[]:/", c));
		size_t need = plain ? 1 : 4;

		if (o + need + 4 > dstlen) {	/* room for "..." and NUL */
			if (o + 4 <= dstlen)
				memcpy(dst + o, "...", 3), o += 3;
			break;
		}
		if (plain) {
			dst[o++] = (char)c;
		} else {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
}
