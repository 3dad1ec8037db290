/*
 * fuzz_exempt.c: the exemption set (exempt_builder_add, exempt_build,
 * exempt_lookup) from binary-coded prefixes, for denser nesting than map
 * text reaches quickly.  Every lookup is checked against a brute-force
 * longest-prefix match (lpm.h).
 *
 * Input: records of
 *   flags   bit 0: IPv6; bit 1: value OK; bit 2: start from the previous
 *           record's address and change one byte of it (nesting and
 *           neighbours)
 *   plen    taken modulo the family's length + 1
 *   value   2 bytes limit, 2 bytes window (not for OK)
 *   address 4 or 16 bytes, or (bit 2) a position byte and an xor byte
 * The address is masked to plen (the builder wants host bits clear).
 * A last short record uses zeros for what is missing.
 */
#include "fuzz.h"
#include "lpm.h"

#define MAX_ENTRIES 96	/* the oracle is quadratic */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct map_entry list[MAX_ENTRIES];
	struct reader r = { data, size };
	size_t n = 0;

	while (r.n > 0 && n < MAX_ENTRIES) {
		struct map_entry *e = &list[n];
		uint8_t flags = take8(&r), plen = take8(&r);
		bool v6 = flags & 1;

		memset(e, 0, sizeof *e);
		if (flags & 2) {
			e->value.kind = EXEMPT_OK;
		} else {
			e->value.kind = EXEMPT_LIMIT;
			e->value.limit = 1 + take16(&r) % 9000;
			e->value.window_s = 1 + (uint32_t)take16(&r) * 2 % 86400;
		}
		if ((flags & 4) && n > 0 && addr_is_v4(&list[n - 1].prefix) == !v6) {
			uint8_t pos = take8(&r), x = take8(&r);

			e->prefix = list[n - 1].prefix;
			e->prefix.b[v6 ? pos % 16 : 12 + pos % 4] ^= x;
		} else if (v6) {
			take_bytes(&r, e->prefix.b, 16);
			/* Bytes that happen to be IPv4-mapped make an IPv4 entry. */
		} else {
			uint8_t v4[4];

			take_bytes(&r, v4, 4);
			memset(e->prefix.b, 0, 10);
			e->prefix.b[10] = e->prefix.b[11] = 0xff;
			memcpy(e->prefix.b + 12, v4, 4);
		}
		e->plen = plen % (family_max(&e->prefix) + 1);
		addr_mask(&e->prefix, e->plen);
		n++;
	}
	lpm_check_all(list, n);
	return 0;
}
