/*
 * clientkeys.h: the keys a client is counted under, and their rules.
 *
 * Without a map entry of its own, a client is counted under every key of
 * its family (config.h: the global prefix, limit and window, then each
 * prefix section), each with its own rule; it is refused when any key is
 * over.  A map entry with its own limit (N/DURATION) sets the rule of the
 * keys that lie inside its range (key prefix no shorter than the entry's:
 * the per-address key, and any section at least as narrow); a key wider
 * than the entry keeps its own rule.  So an entry never loosens an
 * aggregate the admin did not name, and an entry the size of a section's
 * key raises or lowers that aggregate as well as each address.  An entry
 * narrower than the family's first key is counted, besides, at its own
 * prefix under its own rule.
 *
 * One rule per key.  Entries nest: a /25 entry inside a /24 entry.  A key
 * takes the rule of the narrowest entry that covers it whole (an OK entry:
 * the key is not counted), whichever client reaches it, else its own; so
 * the /24 key has the /24 entry's rule for the clients of the /25 as for
 * the rest.  Were a key's rule to follow each client's own entry, one key
 * would meet two rules, and alternating clients between them (two group
 * sizes, window.h) would restart its count at every switch: a limit
 * bypass.  An entry's own key is only reached by the clients of that
 * entry, or is a config key of the same length: one table key, one count.
 * Pure: no lock, no table.
 */
#ifndef MRL_CLIENTKEYS_H
#define MRL_CLIENTKEYS_H

#include <stddef.h>

#include "addr.h"
#include "config.h"
#include "exempt.h"
#include "window.h"

/* The config's keys and an entry's own. */
#define CLIENTKEYS_MAX (CONFIG_KEYS_MAX + 1)

struct clientkeys {
	size_t n;				/* 1..CLIENTKEYS_MAX */
	struct window_key key[CLIENTKEYS_MAX];	/* table form: 128-bit plen */
	struct window_rule rule[CLIENTKEYS_MAX];
	struct addr prefix[CLIENTKEYS_MAX];	/* the key as an address ... */
	int plen[CLIENTKEYS_MAX];		/* ... and its length, family terms */
};

/*
 * The keys of client under cfg and map.  entry is the longest entry of map
 * over the client, one with its own limit, or NULL when none covers it
 * (an OK entry is the caller's: the client is not counted at all).  base
 * carries what every rule shares (count_refused, log_all, would); limits
 * and windows come from the keys.  At least one key.
 */
void clientkeys_build(const struct config *cfg, const struct exempt *map,
    const struct addr *client, const struct exempt_match *entry,
    const struct window_rule *base, struct clientkeys *out);

/* The same from one family's keys (keys[0] the global prefix, nkeys >= 1),
 * for a caller that puts its own limit on keys[0] (a listener section)
 * without copying the whole config per connection. */
void clientkeys_build_keys(const struct config_key *keys, int nkeys,
    const struct exempt *map, const struct addr *client,
    const struct exempt_match *entry, const struct window_rule *base,
    struct clientkeys *out);

#endif
