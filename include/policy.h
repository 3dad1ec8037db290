/*
 * policy.h: the connect decision, apart from libmilter, and the rules it
 * is made under.
 *
 * milter.c turns a decision into SMFIS_* codes and replies; this module
 * decides, from a socket address and the time, which it is.  Keeping it
 * free of libmilter lets unit tests and fuzzers drive it directly.
 *
 * The rules (config and exemption map) are swapped whole on reload.  A
 * decision reads them under a read lock held for O(1) work; a swap takes
 * the write lock only to exchange one pointer, so once policy_swap()
 * returns no decision can still be using the old rules, and the caller
 * frees them.  The counter table is not part of the rules: counts survive
 * every reload.
 */
#ifndef MRL_POLICY_H
#define MRL_POLICY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "config.h"
#include "exempt.h"
#include "names.h"
#include "window.h"

struct ruleset {
	struct config *cfg;
	struct exempt *exempt;
	uint32_t max_window_ms;	/* the longest window any rule applies */
};

/* Counters for the statistics line; relaxed atomics, no lock.  One per
 * kind of decision, so a connection costs one atomic add; the totals are
 * derived (policy_totals). */
struct policy_counters {
	atomic_uint_fast64_t allowed, exempt, refused, would_refuse, untracked,
	    noaddr, refused_concurrent, would_refuse_concurrent;
};

/* allowed and untracked count the rate limit's decisions; a connection
 * it let through and max_concurrent refused is also in refused_concurrent
 * and not in accepted: seen = accepted + refused + refused_concurrent.
 * would_refuse_concurrent (mode log) is a part of accepted. */
struct policy_totals {
	uint64_t seen, accepted, allowed, exempt, refused, would_refuse,
	    untracked, noaddr, refused_concurrent, would_refuse_concurrent;
};

struct policy {
	pthread_rwlock_t lock;		/* guards `rules` (the pointer) */
	struct ruleset *rules;
	struct window_table *table;	/* has its own shard locks */
	struct policy_counters n;
};

enum decision_kind {
	DECIDE_NOADDR,		/* no IP address (NULL, AF_UNIX, other): accept */
	DECIDE_EXEMPT,		/* an OK entry covers it: accept, not counted */
	DECIDE_ALLOW,		/* under its limit: accept */
	DECIDE_UNTRACKED,	/* table full: accept, not counted */
	DECIDE_REFUSE,		/* over its limit, mode enforce: refuse */
	DECIDE_WOULD_REFUSE,	/* over its limit, mode log: accept, log */
};

struct decision {
	enum decision_kind kind;
	enum reply_stage stage;	/* where a refusal is to be answered */
	struct addr client;
	struct addr key;	/* client masked to its prefix: the key that
				 * refused (window.h, "Several keys"), else the first */
	int key_plen;		/* family terms */
	uint32_t count;		/* connections in the window, this one included */
	bool log_line;		/* a refusal to be logged: its key's line for this window */
	uint32_t suppressed;	/* with log_line: the key's earlier refusals never logged */
	uint32_t limit;
	uint32_t window_s;
	uint32_t retry_s;	/* refused: seconds until every refusing key would
				 * let the next connection through, >= 1 */
	bool matched;		/* a map entry covers the client */
	struct exempt_match match;	/* that entry (OK or its own limit) */
	/* A name entry decided (no address entry covers the client): its
	 * value is match.value, its key entry_name; match.prefix is unset. */
	bool by_name;
	char entry_name[NAMES_STRLEN];
	enum names_status name_status;	/* the client's name, when the map has names */
	/* The listener section that applied (listener.h); 0: none.  Its
	 * keys count apart from the global ones; mode "off": DECIDE_EXEMPT
	 * with matched false. */
	uint16_t listener_port;
	/* max_concurrent as in force for this decision (0: off), the prefix
	 * length of the client's concurrency key (the first key of its
	 * family: ipv4_prefix or ipv6_prefix, family terms), and mode log.
	 * conc_window_s: the global `window`, the span of one refusal line
	 * per key (concurrency.h). */
	uint32_t max_concurrent;
	uint32_t conc_window_s;
	int conc_plen;
	bool log_mode;
};

/* What the MTA told us at connect (names.h: which of it counts). */
struct policy_conn {
	const struct sockaddr *sa;	/* may be NULL */
	const char *hostname;		/* connect hostname; may be NULL */
	const char *resolve;		/* {client_resolve}; NULL when not sent */
	const char *port;		/* {daemon_port}; NULL when not sent */
};

/* Build a ruleset from a loaded config and map (takes both). */
struct ruleset *policy_ruleset(struct config *cfg, struct exempt *ex);
void policy_ruleset_free(struct ruleset *r);

/* Takes the ruleset; the table stays the caller's. */
void policy_init(struct policy *p, struct window_table *t, struct ruleset *r);
/* Install r; returns the old rules, no longer in use by anyone. */
struct ruleset *policy_swap(struct policy *p, struct ruleset *r);
/* Free the rules (not the table). */
void policy_destroy(struct policy *p);

/*
 * Decide for a connection at now_ms.  A listener section with mode "off"
 * accepts first.  Then precedence: the longest address entry that covers
 * the client; else the longest name entry over its verified name; else
 * the configured limit, the listener's own for its first key when its
 * section sets one.
 */
void policy_decide_conn(struct policy *p, const struct policy_conn *c,
    uint64_t now_ms, struct decision *d);
/* The same with the address alone (no name): sa may be NULL. */
void policy_decide(struct policy *p, const struct sockaddr *sa,
    uint64_t now_ms, struct decision *d);

/* The reply text in force for a client that may come back in retry_s
 * seconds, '%' doubled, copied into buf (config_reply_format). */
void policy_reply_text(struct policy *p, uint32_t retry_s, char *buf, size_t len);


/* The longest window in force, for the table's sweep. */
uint32_t policy_max_window_ms(struct policy *p);

/* The table's sweep: reclaim idle keys and hand the refusal counts that
 * are due to fn (window.h); the control thread calls it once a second. */
void policy_sweep(struct policy *p, uint64_t now_ms, size_t budget,
    window_due_fn *fn, void *arg);

/* A snapshot of the counters, with seen and accepted summed from them. */
void policy_totals(struct policy *p, struct policy_totals *t);
/* Count a max_concurrent refusal (would: mode log only logged). */
void policy_count_concurrent(struct policy *p, bool would);

/* "refused", "allowed", ... for logs. */
const char *policy_kind_name(enum decision_kind k);

#endif
