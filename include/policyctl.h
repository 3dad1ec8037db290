/*
 * policyctl.h: the control socket's questions to the policy, answered
 * under the same rules and keys as a decision (clientkeys.h), without
 * counting a connection.
 *
 * Locking: explain and the rule lookups of top take the policy's read
 * lock for O(keys) work and the table's shard locks one at a time inside
 * it, the order every decision uses (policy lock, then shards).  The
 * table scans of top and of a prefix reset hold no policy lock at all:
 * a reload waiting for the write lock would otherwise hold every decision
 * up behind it (the lock prefers writers).
 *
 * Listener sections apply when explain is given the MTA port the client
 * came in on (as {daemon_port} gives it to a decision); without one it
 * answers for the global rules and the map, as a client on a port
 * without a section is counted.
 * With Redis configured (issue 12) Redis decides, but explain and top
 * still read this daemon's table (which every decision also counts in):
 * `backend` says "redis" then, and the counts are this daemon's share.
 */
#ifndef MRL_POLICYCTL_H
#define MRL_POLICYCTL_H

#include <stdbool.h>
#include <stdint.h>

#include "clientkeys.h"
#include "listener.h"
#include "names.h"
#include "policy.h"

#define POLICYCTL_RULE_STRLEN (NAMES_STRLEN + 96)
#define POLICYCTL_KEY_STRLEN (NAMES_STRLEN + 8)

/* One key the client is counted under, as it stands now. */
struct policyctl_key {
	char key[POLICYCTL_KEY_STRLEN];	/* "192.0.2.1/32", "name example.com" */
	char rule[POLICYCTL_RULE_STRLEN];	/* which rule sets its limit */
	uint32_t count;		/* connections in its window now */
	uint32_t limit;
	uint32_t window_s;
	uint32_t retry_ms;	/* at its limit: until one more would pass; else 0 */
};

enum policyctl_verdict {
	POLICYCTL_ALLOWED,	/* the next connection would be accepted */
	POLICYCTL_REFUSED,	/* it would be refused (mode log: only logged) */
	POLICYCTL_EXEMPT,	/* an OK entry covers the client: never counted */
};

struct policy_explain {
	enum policyctl_verdict verdict;
	bool log_mode;		/* mode "log": a refusal is only logged */
	char client[ADDR_STRLEN];
	char entry[POLICYCTL_RULE_STRLEN];	/* the map entry over the client; "" none */
	char listener[POLICYCTL_RULE_STRLEN];	/* port given: its section, or "none" */
	const char *backend;	/* who decides: "memory", or "redis" (the
				 * counts shown are still this daemon's table) */
	size_t deciding;	/* index in keys[] of the key that decides: the
				 * refusing one holding longest, else the first */
	uint32_t retry_s;	/* refused: whole seconds, rounded up; else 0 */
	size_t nkeys;
	struct policyctl_key keys[CLIENTKEYS_MAX];
};

/* Explain the client's next connection at now_ms; hostname (may be NULL)
 * is taken as verified, so name entries apply as they would to a client
 * whose MTA vouched for that name; port (0: none) is the MTA's port. */
void policy_explain(struct policy *p, const struct addr *client,
    const char *hostname, uint16_t port, uint64_t now_ms,
    struct policy_explain *out);

struct policyctl_top {
	struct policyctl_key k;
	bool known;		/* limit and window are the rule in force for it */
};

/* Up to n (<= POLICYCTL_TOP_MAX) keys with the most connections in their
 * window, heaviest first, into out.  Returns how many. */
#define POLICYCTL_TOP_MAX 1000
size_t policy_top(struct policy *p, uint64_t now_ms, struct policyctl_top *out,
    size_t n);

/* An address's keys under every rule it can be counted under: its own
 * (up to CLIENTKEYS_MAX), a name entry's (one more), each of them again
 * folded with each listener section's port. */
#define POLICYCTL_RESET_KEYS_MAX ((CLIENTKEYS_MAX + 1) * (LISTENER_MAX + 1))

struct policyctl_reset_keys {
	size_t n;
	struct window_key key[POLICYCTL_RESET_KEYS_MAX];
	int nlisteners;				/* sections folded in */
	char name_entry[NAMES_STRLEN];		/* "": no name entry's key */
};

/*
 * The keys `reset ADDRESS [HOSTNAME]` forgets, so that the client's next
 * connection passes whichever listener it comes in on: the keys a
 * decision counts the address under with the global rules, the same
 * folded with each configured listener section's port, and, when
 * hostname (may be NULL) is given and no address entry covers the
 * client, the key of the name entry over that name (taken as verified,
 * as explain takes it), folded likewise.  None for an OK entry.  Takes
 * the policy's read lock.  Returns out->n.
 */
size_t policy_reset_keys(struct policy *p, const struct addr *a,
    const char *hostname, struct policyctl_reset_keys *out);

/*
 * Forget counts: with plen < 0, every key of policy_reset_keys (its own
 * key and aggregates such as a prefix section's /24, which frees that
 * aggregate's other clients too), so its next connection passes; with a
 * prefix length (family terms), every table key inside that prefix
 * (hostname unused).  Unlogged refusals go to fn.  Returns the keys
 * forgotten.
 */
size_t policy_reset(struct policy *p, const struct addr *a, int plen,
    const char *hostname, window_due_fn *fn, void *arg);

/* The keys a decision counts the address under with the global rules
 * (none for an OK entry).  Takes the policy's read lock.  Returns ck->n. */
size_t policy_client_keys(struct policy *p, const struct addr *a,
    struct clientkeys *ck);

#endif
