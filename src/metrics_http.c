/*
 * metrics_http.c: libmicrohttpd glue for /metrics, and nothing else.
 *
 * One internal polling thread (epoll on Linux, MHD_USE_AUTO): no
 * select(), whose FD_SETSIZE a daemon with 16384 descriptors would
 * overrun.  Bounded: at most METRICS_CONN_MAX connections (per address
 * METRICS_CONN_PER_IP), a request's headers in METRICS_CONN_MEMORY bytes,
 * an idle connection closed after METRICS_TIMEOUT_S.  Only GET (and HEAD)
 * of /metrics; any other path is 404, any other method 405.
 *
 * Since one thread handles every request, the handler's statics need no
 * lock.  The handler takes no lock a milter thread could wait on while it
 * formats (metrics.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "clock.h"
#include "log.h"
#include "metrics_http.h"
#include "metrics_listen.h"

#define METRICS_CONN_MAX	16
#define METRICS_CONN_PER_IP	8
#define METRICS_CONN_MEMORY	(32 * 1024)
#define METRICS_TIMEOUT_S	10
#define METRICS_BACKLOG		16
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

static int listen_fd = -1;		/* bound at start, handed to MHD */
static char listen_name[METRICS_LISTEN_STRLEN];
static struct MHD_Daemon *mhd;
static const struct metrics_source *source;	/* set before the thread starts */

bool
metrics_http_bind(const char *spec, char *err, size_t errlen)
{
	struct metrics_listen l;
	int fd, on = 1;

	if (!metrics_listen_parse(spec, &l, err, errlen))
		return false;
	metrics_listen_format(&l, listen_name, sizeof listen_name);
	fd = socket(l.sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "metrics_listen %s: socket: %s", listen_name,
		    strerror(errno));
		return false;
	}
	/* A restart must not wait for the last run's TIME_WAIT; an IPv6
	 * address means that address only, never the IPv4 ones as well. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
	    (l.sa.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0) ||
	    bind(fd, (struct sockaddr *)&l.sa, l.salen) != 0 ||
	    listen(fd, METRICS_BACKLOG) != 0) {
		snprintf(err, errlen, "metrics_listen %s: cannot listen: %s%s",
		    listen_name, strerror(errno), errno == EACCES ?
		    " (a port below 1024 needs root at start)" : "");
		close(fd);
		return false;
	}
	listen_fd = fd;
	return true;
}

/* libmicrohttpd's own messages (a connection limit reached, an accept
 * error): at most one line per 10 s, with the count of those not shown,
 * so that a client hammering the port cannot flood the log. */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	static uint64_t last_ms, dropped;	/* the MHD thread's only */
	uint64_t now = clock_now_ms();
	char msg[256];

	(void)cls;
	if (last_ms != 0 && now - last_ms < 10000) {
		dropped++;
		return;
	}
	vsnprintf(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\r\n")] = '\0';
	log_warnx("metrics %s: %s (%llu earlier messages not shown)", listen_name,
	    msg, (unsigned long long)dropped);
	last_ms = now;
	dropped = 0;
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *text,
    const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text,
	    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
serve_metrics(struct MHD_Connection *c)
{
	static uint64_t prev_accepted;	/* the MHD thread's only */
	struct metrics_snapshot s;
	struct metrics_buf b;
	struct MHD_Response *r;
	enum MHD_Result ret;

	metrics_gather(source, &s);
	/* From here on no lock of the milter's is held. */
	metrics_buf_init(&b);
	metrics_format(&b, &s, &prev_accepted);
	metrics_format_extra(&b);
	if (b.oom || b.p == NULL) {
		metrics_buf_free(&b);
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", NULL);
	}
	r = MHD_create_response_from_buffer(b.len, b.p, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		metrics_buf_free(&b);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, METRICS_CONTENT_TYPE);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* Answered at the first call, before any request body is read: nothing
 * here takes a body, so none is ever buffered. */
static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size,
    void **con_cls)
{
	(void)cls; (void)version; (void)upload_data; (void)upload_data_size;
	(void)con_cls;
	if (strcmp(url, "/metrics") != 0)
		return reply(c, MHD_HTTP_NOT_FOUND, "not found; try /metrics\n", NULL);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n",
		    "GET, HEAD");
	return serve_metrics(c);
}

bool
metrics_http_start(const struct metrics_source *src)
{
	if (listen_fd < 0)
		return true;	/* metrics off */
	source = src;
	mhd = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG,
	    0, NULL, NULL, handle, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, listen_fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_CONN_MAX,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)METRICS_CONN_PER_IP,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_CONN_MEMORY,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_TIMEOUT_S,
	    MHD_OPTION_END);
	if (mhd == NULL) {
		log_warnx("metrics %s: cannot start the HTTP server", listen_name);
		return false;
	}
	log_info("metrics: serving http://%s/metrics", listen_name);
	return true;
}

void
metrics_http_stop(void)
{
	/* MHD closes the listening socket it was given. */
	if (mhd != NULL)
		MHD_stop_daemon(mhd);
	else if (listen_fd >= 0)
		close(listen_fd);
	mhd = NULL;
	listen_fd = -1;
}
