/*
 * control_proto.c: parsing a control request (see control_proto.h).
 * Pure: no socket, no lock, no allocation.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "control_proto.h"
#include "listener.h"

#define WORDS_MAX 4

/* Split line into at most WORDS_MAX words at runs of spaces.  Returns the
 * count, or -1 when there are more. */
static int
split(char *line, char *w[WORDS_MAX])
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return n;
		if (n == WORDS_MAX)
			return -1;
		w[n++] = p;
		while (*p != ' ' && *p != '\0')
			p++;
		if (*p == ' ')
			*p++ = '\0';
	}
}

/* A hostname as an admin types it: letters, digits, '-', '.', '_' (the
 * name check proper is names.c's, where the map is matched). */
static bool
host_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAMES_MAX + 1)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' || *s == '_'))
			return false;
	return true;
}

bool
control_parse(const char *line, size_t len, struct control_req *out,
    char *err, size_t errlen)
{
	char buf[CONTROL_LINE_MAX + 1], *w[WORDS_MAX], why[128];
	int n;

	memset(out, 0, sizeof *out);
	out->plen = -1;
	if (len > 0 && line[len - 1] == '\r')
		len--;		/* a telnet or socat user's CRLF */
	if (len > CONTROL_LINE_MAX) {
		snprintf(err, errlen, "request too long (at most %d bytes)", CONTROL_LINE_MAX);
		return false;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e) {
			snprintf(err, errlen, "request holds a byte that is not "
			    "printable ASCII (0x%02x at %zu)", (unsigned char)line[i], i);
			return false;
		}
	memcpy(buf, line, len);
	buf[len] = '\0';
	if ((n = split(buf, w)) <= 0) {
		snprintf(err, errlen, "%s", n == 0 ? "empty request" : "too many words");
		return false;
	}
	if (strcasecmp(w[0], "EXPLAIN") == 0) {
		out->cmd = CONTROL_EXPLAIN;
		if (n < 2) {
			snprintf(err, errlen, "usage: EXPLAIN ADDRESS [HOSTNAME] [port=N]");
			return false;
		}
		if (!addr_parse(&out->addr, w[1])) {
			snprintf(err, errlen, "EXPLAIN: not an IP address: %.64s", w[1]);
			return false;
		}
		for (int i = 2; i < n; i++) {
			if (strncasecmp(w[i], "port=", 5) == 0 && out->port == 0) {
				if ((out->port = listener_port(w[i] + 5)) == 0) {
					snprintf(err, errlen, "EXPLAIN: port must be 1..65535: %.64s", w[i]);
					return false;
				}
			} else if (!out->has_host && out->port == 0 && host_ok(w[i])) {
				out->has_host = true;
				snprintf(out->host, sizeof out->host, "%s", w[i]);
			} else {
				snprintf(err, errlen, "EXPLAIN: not a host name: %.64s "
				    "(usage: EXPLAIN ADDRESS [HOSTNAME] [port=N])", w[i]);
				return false;
			}
		}
		return true;
	}
	if (strcasecmp(w[0], "TOP") == 0) {
		unsigned long v = 0;

		out->cmd = CONTROL_TOP;
		out->top_n = CONTROL_TOP_DEFAULT;
		if (n > 2) {
			snprintf(err, errlen, "usage: TOP [N]");
			return false;
		}
		if (n == 2) {
			const char *p = w[1];

			for (; *p >= '0' && *p <= '9' && v <= CONTROL_TOP_MAX; p++)
				v = v * 10 + (unsigned long)(*p - '0');
			if (p == w[1] || *p != '\0' || v < 1 || v > CONTROL_TOP_MAX) {
				snprintf(err, errlen, "TOP: N must be 1..%d", CONTROL_TOP_MAX);
				return false;
			}
			out->top_n = (unsigned)v;
		}
		return true;
	}
	if (strcasecmp(w[0], "RESET") == 0) {
		int plen;

		out->cmd = CONTROL_RESET;
		if (n != 2 && n != 3) {
			snprintf(err, errlen, "usage: RESET ADDRESS [HOSTNAME] | RESET PREFIX");
			return false;
		}
		if (!addr_parse_prefix(&out->addr, &plen, w[1], why, sizeof why)) {
			snprintf(err, errlen, "RESET: %s", why);
			return false;
		}
		out->plen = strchr(w[1], '/') ? plen : -1;
		/* A name entry's key is one client's: no name with a prefix. */
		if (n == 3) {
			struct addr second;

			/* Two addresses is a typo, not a client and its name. */
			if (out->plen >= 0 || !host_ok(w[2]) || addr_parse(&second, w[2])) {
				snprintf(err, errlen, "RESET: %s: %.64s (usage: RESET "
				    "ADDRESS [HOSTNAME] | RESET PREFIX)", out->plen >= 0 ?
				    "no host name with a prefix" : "not a host name", w[2]);
				return false;
			}
			out->has_host = true;
			snprintf(out->host, sizeof out->host, "%s", w[2]);
		}
		return true;
	}
	if (strcasecmp(w[0], "RELOAD") == 0 || strcasecmp(w[0], "STATS") == 0) {
		out->cmd = strcasecmp(w[0], "RELOAD") == 0 ? CONTROL_RELOAD : CONTROL_STATS;
		if (n != 1) {
			snprintf(err, errlen, "%s takes no argument", control_cmd_name(out->cmd));
			return false;
		}
		return true;
	}
	snprintf(err, errlen, "unknown command \"%.32s\" (EXPLAIN, TOP, RESET, "
	    "RELOAD, STATS)", w[0]);
	return false;
}

const char *
control_cmd_name(enum control_cmd c)
{
	switch (c) {
	case CONTROL_EXPLAIN:	return "explain";
	case CONTROL_TOP:	return "top";
	case CONTROL_RESET:	return "reset";
	case CONTROL_RELOAD:	return "reload";
	case CONTROL_STATS:	return "stats";
	}
	return "?";
}
