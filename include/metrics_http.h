/*
 * metrics_http.h: the /metrics endpoint, served by libmicrohttpd in one
 * internal polling thread of its own.
 *
 * Two steps, so that the port is bound while the daemon may still be root
 * and the thread runs only once root is given up:
 *   metrics_http_bind()   at start, before detaching and before the
 *                         privilege drop: the listening socket, on exactly
 *                         the configured address (a port below 1024 then
 *                         works when started as root; >= 1024 needs no
 *                         root at all, as under the shipped unit)
 *   metrics_http_start()  after the drop, after signals are blocked: the
 *                         thread (it inherits the blocked signals)
 *   metrics_http_stop()   at exit
 */
#ifndef MRL_METRICS_HTTP_H
#define MRL_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "metrics.h"

/* Bind and listen on spec (metrics_listen.h).  false: err says why. */
bool metrics_http_bind(const char *spec, char *err, size_t errlen);
/* Serve from src (kept; it must outlive the endpoint).  false: logged. */
bool metrics_http_start(const struct metrics_source *src);
void metrics_http_stop(void);

#endif
