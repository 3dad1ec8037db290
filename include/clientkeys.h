/*
 * clientkeys.h: the keys a client is counted under, and their rules.
 *
 * Without a map entry of its own, a client is counted under every key of
 * its family (config.h: the global prefix, limit and window, then each
 * prefix section), each with its own rule; it is refused when any key is
 * over.  A map entry with its own limit (N/DURATION) decides alone: the
 * client is counted under that one key (the family's first prefix, or the
 * entry's own prefix when it is narrower) with the entry's rule, and the
 * prefix sections do not apply.  The entry is the admin's word on this
 * client, as an OK entry is: a relay given 2000/1h must not still be held
 * at its /24's 60 a minute.  Pure: no lock, no table.
 */
#ifndef MRL_CLIENTKEYS_H
#define MRL_CLIENTKEYS_H

#include <stddef.h>

#include "addr.h"
#include "config.h"
#include "exempt.h"
#include "window.h"

struct clientkeys {
	size_t n;				/* 1..CONFIG_KEYS_MAX */
	struct window_key key[CONFIG_KEYS_MAX];	/* table form: 128-bit plen */
	struct window_rule rule[CONFIG_KEYS_MAX];
	struct addr prefix[CONFIG_KEYS_MAX];	/* the key as an address ... */
	int plen[CONFIG_KEYS_MAX];		/* ... and its length, family terms */
};

/*
 * The keys of client under cfg.  entry is the map entry with its own
 * limit that covers the client, or NULL.  base carries what every rule
 * shares (count_refused, log_all, would); limits and windows come from
 * the keys.
 */
void clientkeys_build(const struct config *cfg, const struct addr *client,
    const struct exempt_match *entry, const struct window_rule *base,
    struct clientkeys *out);

#endif
