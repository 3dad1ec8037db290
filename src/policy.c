/*
 * policy.c: from a client address and the time to a decision.
 *
 * Order matters and is cheap first: no address -> accept; map lookup
 * (lock-free, immutable set: the address, then the verified name) ->
 * accept if OK; only then the window table (one shard lock).  Exempt
 * clients never take a table slot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clientkeys.h"
#include "listener.h"
#include "log.h"
#include "policy.h"
#include "redis_store.h"

struct ruleset *
policy_ruleset(struct config *cfg, struct exempt *ex)
{
	struct ruleset *r = calloc(1, sizeof *r);
	uint32_t w;

	if (r == NULL)
		return NULL;
	r->cfg = cfg;
	r->exempt = ex;
	w = exempt_max_window_s(ex);
	for (int i = 0; i < cfg->nlisteners; i++)
		if (w < cfg->listeners[i].window)
			w = cfg->listeners[i].window;
	for (int f = 0; f < 2; f++)
		for (int i = 0; i < cfg->nkeys[f]; i++)
			if (w < cfg->keys[f][i].window)
				w = cfg->keys[f][i].window;
	r->max_window_ms = w * 1000u;
	return r;
}

void
policy_ruleset_free(struct ruleset *r)
{
	if (r == NULL)
		return;
	config_free(r->cfg);
	exempt_free(r->exempt);
	free(r);
}

void
policy_init(struct policy *p, struct window_table *t, struct ruleset *r)
{
	pthread_rwlockattr_t a;

	memset(p, 0, sizeof *p);
	/* A reload must not wait behind an endless stream of readers. */
	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&p->lock, &a);
	pthread_rwlockattr_destroy(&a);
	p->table = t;
	p->rules = r;
}

struct ruleset *
policy_swap(struct policy *p, struct ruleset *r)
{
	struct ruleset *old;

	pthread_rwlock_wrlock(&p->lock);
	old = p->rules;
	p->rules = r;
	pthread_rwlock_unlock(&p->lock);
	return old;
}

void
policy_destroy(struct policy *p)
{
	policy_ruleset_free(p->rules);
	p->rules = NULL;
	pthread_rwlock_destroy(&p->lock);
}

#define COUNT(p, field) atomic_fetch_add_explicit(&(p)->n.field, 1, memory_order_relaxed)

/*
 * d from one decision over the client's keys ck: the local table's or
 * Redis's (window.h "Several keys": the same struct either way).  d names
 * one key: the one the refusal is put down to, or else the first key
 * without room (untracked), or else the first key.  No lock needed.
 */
static void
decide_fill(const struct clientkeys *ck, const struct window_multi *m,
    struct decision *d)
{
	size_t shown = 0;

	if (m->refused_by >= 0) {
		shown = (size_t)m->refused_by;
		d->kind = d->log_mode ? DECIDE_WOULD_REFUSE : DECIDE_REFUSE;
		/* Whole seconds, rounded up: never "come back in 0 s". */
		d->retry_s = (m->retry_ms + 999u) / 1000u;
	} else {
		d->kind = DECIDE_ALLOW;
		d->retry_s = 0;
		for (size_t i = 0; i < ck->n; i++)
			if (m->r[i].verdict == WINDOW_UNTRACKED) {
				d->kind = DECIDE_UNTRACKED;
				shown = i;
				break;
			}
	}
	d->key = ck->prefix[shown];
	d->key_plen = ck->plen[shown];
	d->limit = ck->rule[shown].limit;
	d->window_s = ck->rule[shown].window_ms / 1000u;
	d->count = m->r[shown].count;
	d->log_line = m->r[shown].log;
	d->suppressed = m->r[shown].suppressed;
}

/*
 * The table's side of a decision: every key the client is counted under
 * (clientkeys.h), checked as one step (window.h, "Several keys"),
 * built and decided in the caller's *ck and *m, which the shared store
 * reads next (policy_decide_conn): no copy on the connect path.  Needs
 * p->lock held for reading.
 */
static void
decide_keys(struct policy *p, const struct ruleset *rs, uint64_t now_ms,
    const struct window_rule *base, const struct listener_rule *l,
    struct decision *d, struct clientkeys *ck, struct window_multi *m)
{
	const struct config *cfg = rs->cfg;
	int fam = addr_is_v4(&d->client) ? 0 : 1, nkeys = cfg->nkeys[fam];
	const struct config_key *keys = cfg->keys[fam];
	struct config_key lkeys[CONFIG_KEYS_MAX];

	/* A listener's limit and window are its first key's (the global
	 * prefix) in place of the global ones; a map entry over the client
	 * still sets the keys inside it, as everywhere.  Only the client's
	 * family's keys are copied (a whole struct config is ~870 bytes, per
	 * connection on a listener's port). */
	if (l != NULL) {
		memcpy(lkeys, keys, (size_t)nkeys * sizeof lkeys[0]);
		lkeys[0].limit = l->limit;
		lkeys[0].window = l->window;
		keys = lkeys;
	}

	/* A name entry has no prefix: its rule is put on the client's first
	 * key only, which then counts apart, so that no counter is ever read
	 * under two rules (names.h); the prefix sections keep their own. */
	clientkeys_build_keys(keys, nkeys, rs->exempt, &d->client,
	    d->matched && !d->by_name ? &d->match : NULL, base, ck);
	if (d->by_name) {
		ck->rule[0].limit = d->match.value.limit;
		ck->rule[0].window_ms = d->match.value.window_s * 1000u;
		names_window_key(ck->key[0].b, &ck->key[0].plen, d->entry_name);
	}
	/* Every key of a listener with a section counts apart (listener.h):
	 * the port folded in, so one counter is only read under one rule. */
	for (size_t i = 0; l != NULL && i < ck->n; i++)
		listener_window_key(ck->key[i].b, &ck->key[i].plen, l->port);
	window_check_keys(p->table, ck->n, ck->key, ck->rule, rs->max_window_ms,
	    now_ms, m);
	decide_fill(ck, m, d);
}

/*
 * Redis answered for a connection the table has counted too: its
 * verdict decides (redis_store.h).  The refusal line still follows the
 * table's mark for the key Redis put the refusal down to (one line per
 * key per window): the mark the table set when it refused by the same
 * key, else one set now.  No lock needed (the table takes its own).
 */
static void
decide_shared(struct policy *p, const struct clientkeys *ck,
    const struct window_multi *local, struct window_multi *rm, uint64_t now_ms,
    struct decision *d)
{
	if (rm->refused_by >= 0) {
		size_t i = (size_t)rm->refused_by;

		if (local->refused_by == rm->refused_by) {
			rm->r[i].log = local->r[i].log;
			rm->r[i].suppressed = local->r[i].suppressed;
		} else {
			window_mark_refusal(p->table, &ck->key[i], &ck->rule[i],
			    now_ms, &rm->r[i]);
		}
	}
	decide_fill(ck, rm, d);
}

/*
 * No address entry covers the client: the longest name entry over its
 * verified name, if any (names.c says when a name counts).  Needs
 * p->lock held for reading; O(labels).
 */
static bool
decide_by_name(const struct ruleset *rs, const struct policy_conn *c,
    struct decision *d)
{
	char name[NAMES_STRLEN];
	const char *entry;

	/* A map without names costs nothing more. */
	if (!exempt_has_names(rs->exempt))
		return false;
	d->name_status = names_verified(c->hostname, c->resolve, name);
	if (d->name_status != NAMES_VERIFIED)
		return false;
	if ((entry = exempt_lookup_name(rs->exempt, name, &d->match.value)) == NULL)
		return false;
	/* A copy: the rules may be swapped and freed once the lock is gone. */
	snprintf(d->entry_name, sizeof d->entry_name, "%s", entry);
	d->matched = d->by_name = true;
	return true;
}

/* Needs p->lock held for reading.  True when the table counted the
 * connection (its keys in *ck, the table's decision in *m). */
static bool
decide_locked(struct policy *p, const struct ruleset *rs,
    const struct policy_conn *c, uint64_t now_ms, struct decision *d,
    struct clientkeys *ck, struct window_multi *m)
{
	const struct config *cfg = rs->cfg;
	const struct listener_rule *l = NULL;
	struct window_rule rule;

	d->stage = cfg->reply_stage;
	d->max_concurrent = cfg->max_concurrent;
	d->conc_window_s = cfg->window;
	if (!addr_from_sockaddr(&d->client, c->sa)) {
		d->kind = DECIDE_NOADDR;
		return false;
	}
	d->conc_plen = addr_is_v4(&d->client) ? cfg->ipv4_prefix : cfg->ipv6_prefix;
	if (cfg->nlisteners > 0) {
		/* Missing, or not a port (empty, a name): the global rules,
		 * and the admin is told once, as conf.5 says. */
		uint16_t port = listener_port(c->port);	/* 0: NULL or not a port */

		if (port == 0)
			listener_warn_missing();
		else if ((l = listener_find(cfg->listeners, cfg->nlisteners,
		    port)) != NULL)
			d->listener_port = l->port;
	}
	if (l != NULL && l->mode == LISTENER_OFF) {
		d->kind = DECIDE_EXEMPT;
		return false;
	}
	rule.limit = cfg->limit;		/* clientkeys_build sets them per key */
	rule.window_ms = cfg->window * 1000u;
	rule.count_refused = cfg->count_refused;
	/* Whose refusals get a line is the table's call (window.h); at
	 * debug every one does, and a dry run's summaries say so. */
	rule.log_all = log_getlevel() >= LOG_LEVEL_DEBUG;
	rule.would = cfg->mode == MODE_LOG;
	if (l != NULL && l->mode != LISTENER_GLOBAL)
		rule.would = l->mode == LISTENER_LOG;
	/* max_concurrent follows the same mode as the rate limit: a listener
	 * in mode log only logs its concurrency refusals too (review C). */
	d->log_mode = rule.would;
	if (exempt_lookup(rs->exempt, &d->client, &d->match)) {
		d->matched = true;
		if (d->match.value.kind == EXEMPT_OK) {
			d->kind = DECIDE_EXEMPT;
			return false;
		}
	} else if (decide_by_name(rs, c, d)) {
		if (d->match.value.kind == EXEMPT_OK) {
			d->kind = DECIDE_EXEMPT;
			return false;
		}
	}
	decide_keys(p, rs, now_ms, &rule, l, d, ck, m);
	return true;
}

void
policy_decide(struct policy *p, const struct sockaddr *sa, uint64_t now_ms,
    struct decision *d)
{
	struct policy_conn c = { .sa = sa };

	policy_decide_conn(p, &c, now_ms, d);
}

void
policy_decide_conn(struct policy *p, const struct policy_conn *c,
    uint64_t now_ms, struct decision *d)
{
	struct clientkeys ck;
	struct window_multi m, rm;
	bool counted;

	memset(d, 0, sizeof *d);
	pthread_rwlock_rdlock(&p->lock);
	counted = decide_locked(p, p->rules, c, now_ms, d, &ck, &m);
	pthread_rwlock_unlock(&p->lock);
	/* The shared store, outside the lock: a round trip (or a timeout)
	 * must not hold up a reload.  Exempt, address-less and listener-off
	 * clients never get here: they cost Redis nothing.  Without an
	 * answer the table's decision above stands (a fallback).  So does
	 * the table's refusal: it counted this host's connections alone,
	 * every one of which Redis counts too, unless Redis lost them (a
	 * restart without persistence, a flush, a failover, an outage this
	 * host fell back through); Redis's lower count then must not let in
	 * a client that is past its limit here. */
	if (counted &&
	    redis_store_count(ck.n, ck.key, ck.rule, now_ms, &rm) == REDIS_STORE_ANSWERED &&
	    (m.refused_by < 0 || rm.refused_by >= 0))
		decide_shared(p, &ck, &m, &rm, now_ms, d);

	switch (d->kind) {
	case DECIDE_NOADDR:	  COUNT(p, noaddr); break;
	case DECIDE_EXEMPT:	  COUNT(p, exempt); break;
	case DECIDE_ALLOW:	  COUNT(p, allowed); break;
	case DECIDE_UNTRACKED:	  COUNT(p, untracked); break;
	case DECIDE_REFUSE:	  COUNT(p, refused); break;
	case DECIDE_WOULD_REFUSE: COUNT(p, would_refuse); break;
	}
}

void
policy_totals(struct policy *p, struct policy_totals *t)
{
	t->allowed = atomic_load(&p->n.allowed);
	t->exempt = atomic_load(&p->n.exempt);
	t->refused = atomic_load(&p->n.refused);
	t->would_refuse = atomic_load(&p->n.would_refuse);
	t->untracked = atomic_load(&p->n.untracked);
	t->noaddr = atomic_load(&p->n.noaddr);
	t->refused_concurrent = atomic_load(&p->n.refused_concurrent);
	t->would_refuse_concurrent = atomic_load(&p->n.would_refuse_concurrent);
	t->accepted = t->allowed + t->exempt + t->would_refuse + t->untracked +
	    t->noaddr;
	/* Read apart, a refusal may show before its allowed: clamp. */
	t->accepted = t->accepted > t->refused_concurrent ?
	    t->accepted - t->refused_concurrent : 0;
	t->seen = t->accepted + t->refused + t->refused_concurrent;
}

void
policy_count_concurrent(struct policy *p, bool would)
{
	if (would)
		COUNT(p, would_refuse_concurrent);
	else
		COUNT(p, refused_concurrent);
}

void
policy_reply_text(struct policy *p, uint32_t retry_s, char *buf, size_t len)
{
	pthread_rwlock_rdlock(&p->lock);
	config_reply_format(p->rules->cfg->reply_text, retry_s, buf, len);
	pthread_rwlock_unlock(&p->lock);
}


uint32_t
policy_max_window_ms(struct policy *p)
{
	uint32_t w;

	pthread_rwlock_rdlock(&p->lock);
	w = p->rules->max_window_ms;
	pthread_rwlock_unlock(&p->lock);
	return w;
}

void
policy_sweep(struct policy *p, uint64_t now_ms, size_t budget,
    window_due_fn *fn, void *arg)
{
	window_sweep(p->table, policy_max_window_ms(p), now_ms, budget, fn, arg);
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
