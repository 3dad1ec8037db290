/*
 * policy.c: from a client address and the time to a decision.
 *
 * Order matters and is cheap first: no address -> accept; exemption
 * lookup (lock-free, immutable set) -> accept; only then the window table
 * (one shard lock).  Exempt clients never take a table slot.
 */
#include <string.h>

#include "policy.h"

uint32_t
policy_max_window_ms(const struct policy *p)
{
	return p->cfg->window * 1000u;
}

void
policy_decide(const struct policy *p, const struct sockaddr *sa,
    uint64_t now_ms, struct decision *d)
{
	const struct config *cfg = p->cfg;
	struct window_rule rule;
	struct window_result r;
	struct window_key k;

	memset(d, 0, sizeof *d);
	if (!addr_from_sockaddr(&d->client, sa)) {
		d->kind = DECIDE_NOADDR;
		return;
	}
	d->limit = cfg->limit;
	d->window_s = cfg->window;
	if (exempt_lookup(p->exempt, &d->client, &d->match)) {
		d->kind = DECIDE_EXEMPT;
		return;
	}

	d->key = d->client;
	d->key_plen = addr_is_v4(&d->client) ? cfg->ipv4_prefix : cfg->ipv6_prefix;
	addr_mask(&d->key, d->key_plen);
	memcpy(k.b, d->key.b, sizeof k.b);
	/* Keys carry 128-bit prefix lengths so that an IPv4 /24 and an IPv6
	 * /24 can never be the same key. */
	k.plen = (uint8_t)(addr_is_v4(&d->client) ? d->key_plen + 96 : d->key_plen);

	rule.limit = cfg->limit;
	rule.window_ms = cfg->window * 1000u;
	rule.count_refused = cfg->count_refused;
	window_check(p->table, &k, &rule, policy_max_window_ms(p), now_ms, &r);
	d->count = r.count;

	switch (r.verdict) {
	case WINDOW_ALLOW:
		d->kind = DECIDE_ALLOW;
		break;
	case WINDOW_UNTRACKED:
		d->kind = DECIDE_UNTRACKED;
		break;
	case WINDOW_REFUSE:
		d->kind = cfg->mode == MODE_LOG ? DECIDE_WOULD_REFUSE : DECIDE_REFUSE;
		break;
	}
}

const char *
policy_kind_name(enum decision_kind k)
{
	switch (k) {
	case DECIDE_NOADDR:		return "no-address";
	case DECIDE_EXEMPT:		return "exempt";
	case DECIDE_ALLOW:		return "allowed";
	case DECIDE_UNTRACKED:		return "untracked";
	case DECIDE_REFUSE:		return "refused";
	case DECIDE_WOULD_REFUSE:	return "would-refuse";
	}
	return "?";
}
