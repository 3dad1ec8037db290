/* clientkeys.c: the keys a client is counted under (see clientkeys.h). */
#include <string.h>

#include "clientkeys.h"

_Static_assert(CLIENTKEYS_MAX <= WINDOW_KEYS_MAX,
    "the table must take every key of a client in one check");

/* Key i: addr masked to plen (family terms), under limit per window_s. */
static void
put(struct clientkeys *out, const struct addr *a, int plen, uint32_t limit,
    uint32_t window_s, const struct window_rule *base)
{
	size_t i = out->n++;

	out->prefix[i] = *a;
	addr_mask(&out->prefix[i], plen);
	out->plen[i] = plen;
	memcpy(out->key[i].b, out->prefix[i].b, sizeof out->key[i].b);
	/* Keys carry 128-bit prefix lengths so that an IPv4 /24 and an IPv6
	 * /24 can never be the same key. */
	out->key[i].plen = (uint8_t)(addr_is_v4(a) ? plen + 96 : plen);
	out->rule[i] = *base;
	out->rule[i].limit = limit;
	out->rule[i].window_ms = window_s * 1000u;
}

void
clientkeys_build(const struct config *cfg, const struct exempt *map,
    const struct addr *client, const struct exempt_match *entry,
    const struct window_rule *base, struct clientkeys *out)
{
	int fam = addr_is_v4(client) ? 0 : 1;

	clientkeys_build_keys(cfg->keys[fam], cfg->nkeys[fam], map, client,
	    entry, base, out);
}

void
clientkeys_build_keys(const struct config_key *keys, int nkeys,
    const struct exempt *map, const struct addr *client,
    const struct exempt_match *entry, const struct window_rule *base,
    struct clientkeys *out)
{
	bool own = entry != NULL && entry->plen > keys[0].plen;

	out->n = 0;
	/* An entry narrower than the first key: its own key, named first
	 * (it stands for the client in an allowed decision), unless a
	 * section has its length: that key is the same one, met below. */
	for (int i = 0; own && i < nkeys; i++)
		if (keys[i].plen == entry->plen)
			own = false;
	if (own)
		put(out, &entry->prefix, entry->plen, entry->value.limit,
		    entry->value.window_s, base);
	for (int i = 0; i < nkeys; i++) {
		const struct config_key *k = &keys[i];
		struct exempt_match wide;
		const struct exempt_match *by = NULL;

		/* The narrowest entry over the whole key: the client's own
		 * when the key lies inside it, else one further out. */
		if (entry != NULL && entry->plen <= k->plen)
			by = entry;
		else if (entry != NULL &&
		    exempt_lookup_covering(map, client, k->plen, &wide))
			by = &wide;
		if (by == NULL)
			put(out, client, k->plen, k->limit, k->window, base);
		else if (by->value.kind == EXEMPT_LIMIT)
			put(out, client, k->plen, by->value.limit,
			    by->value.window_s, base);
		/* else inside an OK entry: not counted */
	}
}
