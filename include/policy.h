/*
 * policy.h: the connect decision, apart from libmilter.
 *
 * milter.c turns a decision into SMFIS_* codes and replies; this module
 * decides, from a socket address and the time, which it is.  Keeping it
 * free of libmilter lets unit tests and fuzzers drive it directly.
 */
#ifndef MRL_POLICY_H
#define MRL_POLICY_H

#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "config.h"
#include "exempt.h"
#include "window.h"

struct policy {
	const struct config *cfg;
	const struct exempt *exempt;
	struct window_table *table;
};

enum decision_kind {
	DECIDE_NOADDR,		/* no IP address (NULL, AF_UNIX, other): accept */
	DECIDE_EXEMPT,		/* an exemption entry covers it: accept, not counted */
	DECIDE_ALLOW,		/* under its limit: accept */
	DECIDE_UNTRACKED,	/* table full: accept, not counted */
	DECIDE_REFUSE,		/* over its limit, mode enforce: refuse */
	DECIDE_WOULD_REFUSE,	/* over its limit, mode log: accept, log */
};

struct decision {
	enum decision_kind kind;
	struct addr client;
	struct addr key;	/* client masked to its prefix */
	int key_plen;		/* family terms */
	uint32_t count;		/* connections in the window, this one included */
	uint32_t limit;
	uint32_t window_s;
	struct exempt_match match;	/* valid for DECIDE_EXEMPT */
};

/* The longest window any rule can apply, for the table's idle test. */
uint32_t policy_max_window_ms(const struct policy *p);

/* Decide for a connection from sa at now_ms; sa may be NULL. */
void policy_decide(const struct policy *p, const struct sockaddr *sa,
    uint64_t now_ms, struct decision *d);

/* "refused", "allowed", ... for logs. */
const char *policy_kind_name(enum decision_kind k);

#endif
