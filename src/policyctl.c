/*
 * policyctl.c: explain, top and reset for the control socket (see
 * policyctl.h).  The keys and their rules are the decision's own
 * (clientkeys_build); only the naming of the rules is added here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policyctl.h"
#include "redis_conn.h"

/* "map entry 192.0.2.0/24 (5/60s)" or "map entry 192.0.2.0/24 (OK)". */
static void
entry_text(char *buf, size_t len, const struct exempt_match *m)
{
	char pfx[ADDR_STRLEN];

	addr_format_prefix(pfx, sizeof pfx, &m->prefix, m->plen);
	if (m->value.kind == EXEMPT_OK)
		snprintf(buf, len, "map entry %s (OK)", pfx);
	else
		snprintf(buf, len, "map entry %s (%u/%us)", pfx, m->value.limit,
		    m->value.window_s);
}

/* The config key of family fam with prefix length plen, or NULL. */
static const struct config_key *
config_key_of(const struct config *cfg, int fam, int plen)
{
	for (int i = 0; i < cfg->nkeys[fam]; i++)
		if (cfg->keys[fam][i].plen == plen)
			return &cfg->keys[fam][i];
	return NULL;
}

/* "global limit" or "prefix ipv4/24 (FILE:LINE)". */
static void
config_rule_text(char *buf, size_t len, const struct config *cfg, int fam,
    const struct config_key *k)
{
	if (k->line == 0)
		snprintf(buf, len, "global limit");
	else
		snprintf(buf, len, "prefix %s/%d (%s:%d)", fam ? "ipv6" : "ipv4",
		    k->plen, cfg->path, k->line);
}

/*
 * The rule of a key of length plen (family terms) over client: what
 * clientkeys_build gives it, named.  entry is the client's own entry
 * (LIMIT), or NULL.  Needs p->lock held for reading.
 */
static void
rule_text(char *buf, size_t len, const struct ruleset *rs, const struct addr *client,
    int plen, const struct exempt_match *entry)
{
	int fam = addr_is_v4(client) ? 0 : 1;
	const struct config_key *k;
	struct exempt_match wide;

	if (entry != NULL && entry->plen <= plen) {
		entry_text(buf, len, entry);
		return;
	}
	if (entry != NULL && exempt_lookup_covering(rs->exempt, client, plen, &wide)) {
		entry_text(buf, len, &wide);
		return;
	}
	if ((k = config_key_of(rs->cfg, fam, plen)) != NULL)
		config_rule_text(buf, len, rs->cfg, fam, k);
	else
		snprintf(buf, len, "unknown");
}

/* Needs p->lock held for reading. */
static void
explain_locked(struct policy *p, const struct ruleset *rs, const struct addr *client,
    const char *hostname, uint16_t port, uint64_t now_ms, struct policy_explain *out)
{
	const struct config *cfg = rs->cfg;
	const struct listener_rule *l = NULL;
	struct config lcfg;
	char lname[64] = "";
	struct exempt_match m;
	struct window_rule base;
	struct clientkeys ck;
	char name[NAMES_STRLEN], entry_name[NAMES_STRLEN] = "";
	bool matched = false, by_name = false;
	uint32_t best = 0;

	out->log_mode = cfg->mode == MODE_LOG;
	/* The listener's section first, as a decision takes it
	 * (policy.c, decide_locked). */
	if (port != 0) {
		l = listener_find(cfg->listeners, cfg->nlisteners, port);
		if (l == NULL) {
			snprintf(out->listener, sizeof out->listener, "none");
		} else {
			snprintf(lname, sizeof lname, "listener %u (%s:%d)", l->port,
			    cfg->path, l->line);
			snprintf(out->listener, sizeof out->listener, "%s mode %s", lname,
			    l->mode == LISTENER_GLOBAL ? "global" : listener_mode_name(l->mode));
			if (l->mode == LISTENER_OFF) {
				out->verdict = POLICYCTL_EXEMPT;
				return;
			}
			if (l->mode != LISTENER_GLOBAL)
				out->log_mode = l->mode == LISTENER_LOG;
			/* Its limit and window are its first key's. */
			lcfg = *cfg;
			for (int f = 0; f < 2; f++) {
				lcfg.keys[f][0].limit = l->limit;
				lcfg.keys[f][0].window = l->window;
			}
			cfg = &lcfg;
		}
	}
	memset(&m, 0, sizeof m);
	if (exempt_lookup(rs->exempt, client, &m)) {
		matched = true;
		entry_text(out->entry, sizeof out->entry, &m);
	} else if (hostname != NULL && exempt_has_names(rs->exempt) &&
	    names_verified(hostname, "OK", name) == NAMES_VERIFIED) {
		const char *e = exempt_lookup_name(rs->exempt, name, &m.value);

		if (e != NULL) {
			matched = by_name = true;
			snprintf(entry_name, sizeof entry_name, "%s", e);
			if (m.value.kind == EXEMPT_OK)
				snprintf(out->entry, sizeof out->entry,
				    "map entry %s (OK)", e);
			else
				snprintf(out->entry, sizeof out->entry,
				    "map entry %s (%u/%us)", e, m.value.limit,
				    m.value.window_s);
		}
	}
	if (matched && m.value.kind == EXEMPT_OK) {
		out->verdict = POLICYCTL_EXEMPT;
		return;
	}
	memset(&base, 0, sizeof base);
	base.limit = cfg->limit;
	base.window_ms = cfg->window * 1000u;
	base.count_refused = cfg->count_refused;
	clientkeys_build(cfg, rs->exempt, client, matched && !by_name ? &m : NULL,
	    &base, &ck);
	if (by_name) {
		ck.rule[0].limit = m.value.limit;
		ck.rule[0].window_ms = m.value.window_s * 1000u;
		names_window_key(ck.key[0].b, &ck.key[0].plen, entry_name);
	}
	/* A listener's keys count apart (the port folded in). */
	for (size_t i = 0; l != NULL && i < ck.n; i++)
		listener_window_key(ck.key[i].b, &ck.key[i].plen, l->port);
	out->nkeys = ck.n;
	for (size_t i = 0; i < ck.n; i++) {
		struct policyctl_key *k = &out->keys[i];
		struct window_peek pk;

		if (by_name && i == 0) {
			snprintf(k->key, sizeof k->key, "name %s", entry_name);
			snprintf(k->rule, sizeof k->rule, "%s", out->entry);
		} else {
			addr_format_prefix(k->key, sizeof k->key, &ck.prefix[i], ck.plen[i]);
			rule_text(k->rule, sizeof k->rule, rs, client, ck.plen[i],
			    matched && !by_name ? &m : NULL);
			if (l != NULL && strcmp(k->rule, "global limit") == 0)
				snprintf(k->rule, sizeof k->rule, "%s", lname);
		}
		if (l != NULL) {
			size_t o = strlen(k->key);

			snprintf(k->key + o, sizeof k->key - o, " port %u", l->port);
		}
		window_peek(p->table, &ck.key[i], &ck.rule[i], now_ms, &pk);
		k->count = pk.count;
		k->limit = ck.rule[i].limit;
		k->window_s = ck.rule[i].window_ms / 1000u;
		k->retry_ms = pk.retry_ms;
		/* The decision puts a refusal down to the key that holds
		 * the client longest, the first such (window.h). */
		if (pk.retry_ms > best) {
			best = pk.retry_ms;
			out->deciding = i;
		}
	}
	if (best > 0) {
		out->verdict = POLICYCTL_REFUSED;
		out->retry_s = (best + 999u) / 1000u;
	}
}

void
policy_explain(struct policy *p, const struct addr *client, const char *hostname,
    uint16_t port, uint64_t now_ms, struct policy_explain *out)
{
	memset(out, 0, sizeof *out);
	/* With Redis, Redis decides; the counts below are still this
	 * daemon's table (kept warm by every decision), which is Redis's
	 * only when no other daemon shares it. */
	out->backend = redis_conn_enabled() ? "redis" : "memory";
	addr_format(out->client, sizeof out->client, client);
	pthread_rwlock_rdlock(&p->lock);
	explain_locked(p, p->rules, client, hostname, port, now_ms, out);
	pthread_rwlock_unlock(&p->lock);
}

/* The rule in force for a table key, found as the decision would give it
 * (clientkeys.h: the narrowest entry covering the whole key, else the
 * config key of that length).  False when none is (a key left over from
 * rules a reload replaced, or a hashed name or listener key).  Needs
 * p->lock held for reading. */
static bool
key_rule(const struct ruleset *rs, const struct window_key *wk, struct addr *a,
    int *plen, struct window_rule *r, char *rule, size_t len)
{
	struct exempt_match m;
	const struct config_key *ck;
	int fam;

	memcpy(a->b, wk->b, 16);
	if (wk->plen <= LISTENER_KEY_PLEN)
		return false;
	fam = addr_is_v4(a) ? 0 : 1;
	*plen = fam == 0 ? wk->plen - 96 : wk->plen;
	memset(r, 0, sizeof *r);
	if (exempt_lookup_covering(rs->exempt, a, *plen, &m)) {
		if (m.value.kind == EXEMPT_OK)
			return false;
		r->limit = m.value.limit;
		r->window_ms = m.value.window_s * 1000u;
		entry_text(rule, len, &m);
		return true;
	}
	if ((ck = config_key_of(rs->cfg, fam, *plen)) == NULL)
		return false;
	r->limit = ck->limit;
	r->window_ms = ck->window * 1000u;
	config_rule_text(rule, len, rs->cfg, fam, ck);
	return true;
}

static int
top_cmp(const void *a, const void *b)
{
	const struct policyctl_top *x = a, *y = b;

	if (x->k.count != y->k.count)
		return x->k.count > y->k.count ? -1 : 1;
	return strcmp(x->k.key, y->k.key);
}

size_t
policy_top(struct policy *p, uint64_t now_ms, struct policyctl_top *out, size_t n)
{
	struct window_top_entry *top;
	size_t got, kept = 0;
	uint32_t maxw;

	if (n > POLICYCTL_TOP_MAX)
		n = POLICYCTL_TOP_MAX;
	if (n == 0 || (top = calloc(n, sizeof *top)) == NULL)
		return 0;
	/* The scan holds no policy lock (policyctl.h says why). */
	maxw = policy_max_window_ms(p);
	got = window_top(p->table, maxw, now_ms, top, n);

	pthread_rwlock_rdlock(&p->lock);
	for (size_t i = 0; i < got; i++) {
		struct policyctl_top *o = &out[kept];
		struct window_rule r;
		struct window_peek pk;
		struct addr a = { { 0 } };
		int plen = 0;

		memset(o, 0, sizeof *o);
		if (top[i].key.plen == LISTENER_KEY_PLEN || top[i].key.plen == NAMES_KEY_PLEN) {
			/* A hash of the client key and a port or an entry
			 * name: the client cannot be named from it. */
			snprintf(o->k.key, sizeof o->k.key, "%s",
			    top[i].key.plen == NAMES_KEY_PLEN ? "(name-entry)" : "(listener)");
			snprintf(o->k.rule, sizeof o->k.rule, "unknown");
			o->k.count = top[i].count;
			kept++;
			continue;
		}
		o->known = key_rule(p->rules, &top[i].key, &a, &plen, &r,
		    o->k.rule, sizeof o->k.rule);
		addr_format_prefix(o->k.key, sizeof o->k.key, &a, plen);
		if (!o->known) {
			snprintf(o->k.rule, sizeof o->k.rule, "unknown");
			o->k.count = top[i].count;
			kept++;
			continue;
		}
		window_peek(p->table, &top[i].key, &r, now_ms, &pk);
		if (pk.count == 0)
			continue;	/* left its own (shorter) window */
		o->k.count = pk.count;
		o->k.limit = r.limit;
		o->k.window_s = r.window_ms / 1000u;
		o->k.retry_ms = pk.retry_ms;
		kept++;
	}
	pthread_rwlock_unlock(&p->lock);
	free(top);
	/* Counted over each key's own window now: sort again. */
	qsort(out, kept, sizeof *out, top_cmp);
	return kept;
}

size_t
policy_client_keys(struct policy *p, const struct addr *a, struct clientkeys *ck)
{
	struct window_rule base;
	struct exempt_match m;

	memset(&base, 0, sizeof base);
	base.limit = 1;
	base.window_ms = 1000;
	pthread_rwlock_rdlock(&p->lock);
	{
		const struct ruleset *rs = p->rules;
		bool matched = exempt_lookup(rs->exempt, a, &m);

		if (matched && m.value.kind == EXEMPT_OK)
			ck->n = 0;
		else
			clientkeys_build(rs->cfg, rs->exempt, a, matched ? &m : NULL,
			    &base, ck);
	}
	pthread_rwlock_unlock(&p->lock);
	return ck->n;
}

/* control_answer.c deletes them all in Redis in one DEL. */
_Static_assert(POLICYCTL_RESET_KEYS_MAX <= REDIS_DEL_KEYS_MAX,
    "an address's reset keys must fit one redis_conn_del");

/* Append the n keys of ck to out, then, once per listener section, the
 * same keys folded with its port.  Needs p->lock held for reading. */
static void
reset_add(const struct config *cfg, const struct window_key *keys, size_t n,
    struct policyctl_reset_keys *out)
{
	for (size_t i = 0; i < n && out->n < POLICYCTL_RESET_KEYS_MAX; i++)
		out->key[out->n++] = keys[i];
	/* Every section, whatever its mode: a section a reload turned off
	 * may be turned on again with its counts still there. */
	for (int l = 0; l < cfg->nlisteners; l++)
		for (size_t i = 0; i < n && out->n < POLICYCTL_RESET_KEYS_MAX; i++) {
			struct window_key k = keys[i];

			listener_window_key(k.b, &k.plen, cfg->listeners[l].port);
			out->key[out->n++] = k;
		}
}

size_t
policy_reset_keys(struct policy *p, const struct addr *a, const char *hostname,
    struct policyctl_reset_keys *out)
{
	struct window_rule base;
	struct exempt_match m;
	struct clientkeys ck;
	char name[NAMES_STRLEN];

	memset(out, 0, sizeof *out);
	memset(&base, 0, sizeof base);
	base.limit = 1;
	base.window_ms = 1000;
	pthread_rwlock_rdlock(&p->lock);
	{
		const struct ruleset *rs = p->rules;
		const struct config *cfg = rs->cfg;
		bool matched = exempt_lookup(rs->exempt, a, &m);

		out->nlisteners = cfg->nlisteners;
		if (!(matched && m.value.kind == EXEMPT_OK)) {
			/* A listener's section changes limits only, never
			 * which keys (policy.c, decide_keys). */
			clientkeys_build(cfg, rs->exempt, a, matched ? &m : NULL,
			    &base, &ck);
			reset_add(cfg, ck.key, ck.n, out);
		}
		/* A name entry is looked up only for a client no address
		 * entry covers (policy.c, decide_by_name): its key is the
		 * client's first key hashed with the entry's name. */
		memset(&m, 0, sizeof m);
		if (!matched && hostname != NULL && exempt_has_names(rs->exempt) &&
		    names_verified(hostname, "OK", name) == NAMES_VERIFIED) {
			const char *e = exempt_lookup_name(rs->exempt, name, &m.value);

			if (e != NULL && m.value.kind != EXEMPT_OK) {
				struct window_key nk = ck.key[0];

				snprintf(out->name_entry, sizeof out->name_entry, "%s", e);
				names_window_key(nk.b, &nk.plen, e);
				reset_add(cfg, &nk, 1, out);
			}
		}
	}
	pthread_rwlock_unlock(&p->lock);
	return out->n;
}

size_t
policy_reset(struct policy *p, const struct addr *a, int plen,
    const char *hostname, window_due_fn *fn, void *arg)
{
	struct window_key wk;
	struct policyctl_reset_keys *rk;
	size_t n = 0;

	if (plen >= 0) {
		struct addr masked = *a;

		addr_mask(&masked, plen);
		memcpy(wk.b, masked.b, 16);
		wk.plen = (uint8_t)(addr_is_v4(a) ? plen + 96 : plen);
		/* A scan of every shard: no policy lock (policyctl.h). */
		return window_forget_prefix(p->table, &wk, fn, arg);
	}
	/* About 2 KB: not on a control thread's stack. */
	if ((rk = malloc(sizeof *rk)) == NULL)
		return 0;
	policy_reset_keys(p, a, hostname, rk);
	for (size_t i = 0; i < rk->n; i++)
		n += window_forget(p->table, &rk->key[i], fn, arg);
	free(rk);
	return n;
}
