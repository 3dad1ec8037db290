/*
 * control_proto.h: the control socket's line protocol (milter-ratelimit(8),
 * CONTROL SOCKET), apart from sockets so that a unit test and a fuzz
 * target can drive it.
 *
 * A request is one line of at most CONTROL_LINE_MAX bytes before its
 * "\n": a command word (any case) and its arguments, separated by
 * spaces; printable ASCII only.
 *
 *   EXPLAIN ADDRESS [HOSTNAME] [port=N]
 *   TOP [N]                 N in 1..CONTROL_TOP_MAX, default 10
 *   RESET ADDRESS [HOSTNAME] | RESET PREFIX
 *   RELOAD
 *   STATS
 *
 * The answer is "ERR reason" (one line), or "OK", then lines
 * "name=value", records separated by a line "-", then a line ".".  The
 * daemon closes the connection after one answer.
 */
#ifndef MRL_CONTROL_PROTO_H
#define MRL_CONTROL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "names.h"

#define CONTROL_LINE_MAX 512
#define CONTROL_TOP_MAX 1000
#define CONTROL_TOP_DEFAULT 10

enum control_cmd {
	CONTROL_EXPLAIN,
	CONTROL_TOP,
	CONTROL_RESET,
	CONTROL_RELOAD,
	CONTROL_STATS,
};

struct control_req {
	enum control_cmd cmd;
	struct addr addr;		/* EXPLAIN, RESET */
	int plen;			/* RESET: a prefix's length (family
					 * terms); -1: an address */
	bool has_host;			/* EXPLAIN, RESET with a HOSTNAME */
	char host[NAMES_STRLEN];
	uint16_t port;			/* EXPLAIN port=N: the MTA port
					 * (listener sections); 0: none */
	unsigned top_n;			/* TOP */
};

/*
 * Parse one request line (len bytes, without its "\n"; it may hold any
 * byte).  False with a one-line reason in err (printable, for "ERR ...").
 */
bool control_parse(const char *line, size_t len, struct control_req *out,
    char *err, size_t errlen);

/* The command's name, for logs ("explain", ...). */
const char *control_cmd_name(enum control_cmd c);

#endif
