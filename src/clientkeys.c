/* clientkeys.c: the keys a client is counted under (see clientkeys.h). */
#include <string.h>

#include "clientkeys.h"

_Static_assert(CONFIG_KEYS_MAX <= WINDOW_KEYS_MAX,
    "the table must take every key of a family in one check");

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
clientkeys_build(const struct config *cfg, const struct addr *client,
    const struct exempt_match *entry, const struct window_rule *base,
    struct clientkeys *out)
{
	int fam = addr_is_v4(client) ? 0 : 1;
	const struct config_key *first = &cfg->keys[fam][0];

	out->n = 0;
	if (entry != NULL) {
		/*
		 * The counter key.  Normally the family's first key.  A map
		 * entry narrower than that key is counted at its own prefix:
		 * its rule then always meets the same count, and the rest of
		 * the client key keeps a count of its own under its own rule.
		 * Counting both under the client key would let one key meet
		 * two rules, and alternating between them (two group sizes)
		 * restarted its count at every switch: a limit bypass.  With
		 * this choice every counter key is always read under one rule
		 * (for a given ruleset): an entry wider than the client key
		 * covers the whole key, so all its addresses that no narrower
		 * entry takes match the same entry.  No other key of the
		 * config is read under an entry's rule either: a client an
		 * entry covers is counted under no prefix section, and a key
		 * of a section is only ever reached by clients no entry with
		 * a limit covers.
		 */
		if (entry->plen > first->plen)
			put(out, &entry->prefix, entry->plen, entry->value.limit,
			    entry->value.window_s, base);
		else
			put(out, client, first->plen, entry->value.limit,
			    entry->value.window_s, base);
		return;
	}
	for (int i = 0; i < cfg->nkeys[fam]; i++) {
		const struct config_key *k = &cfg->keys[fam][i];

		put(out, client, k->plen, k->limit, k->window, base);
	}
}
