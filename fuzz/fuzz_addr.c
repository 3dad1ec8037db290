/*
 * fuzz_addr.c: address and CIDR parsing (addr_parse, addr_parse_prefix,
 * mapentry_parse_key), masking and formatting.
 *
 * The input is the text of an address or prefix, as a map key or a
 * ratelimit-map argument gives it.  Checked:
 *   - every parse and format stays in bounds (ASan, UBSan);
 *   - a parsed address formats to text that parses back to the same bytes,
 *     and formatting is canonical (format(parse(format(a))) == format(a));
 *   - a parsed prefix has no host bits, a length in 0..32 or 0..128, and
 *     formats (addr_format_prefix, mapentry_format_key) to text that
 *     parses back to the same prefix;
 *   - a failed parse writes a terminated reason, also into a tiny buffer,
 *     and gives the same answer whatever the error buffer;
 *   - masking to every length leaves no host bits, keeps the leading bits
 *     and the family, and is idempotent;
 *   - the first 16 bytes, taken as a raw address, format and parse back.
 */
#include "fuzz.h"
#include "mapentry.h"
#include "names.h"

static void
check_format_roundtrip(const struct addr *a, const char *what)
{
	char text[ADDR_STRLEN], again[ADDR_STRLEN];
	struct addr back;

	sentinel_fill(text, sizeof text);
	addr_format(text, sizeof text, a);
	CHECK(terminated_within(text, sizeof text), "%s: addr_format unterminated", what);
	CHECK(addr_parse(&back, text), "%s: \"%s\" does not parse back", what, text);
	CHECK(same_addr(&back, a), "%s: \"%s\" parses back to another address", what, text);
	addr_format(again, sizeof again, &back);
	CHECK(strcmp(text, again) == 0, "%s: format not canonical: \"%s\" vs \"%s\"",
	    what, text, again);
	for (size_t i = 0; text[i]; i++)
		CHECK(!(text[i] >= 'A' && text[i] <= 'Z'), "%s: upper case in \"%s\"", what, text);
}

static void
check_prefix_roundtrip(const struct addr *a, int plen, const char *what)
{
	char text[ADDR_STRLEN], err[256];
	struct addr back;
	struct map_entry e, e2;
	int blen = -1;

	sentinel_fill(text, sizeof text);
	addr_format_prefix(text, sizeof text, a, plen);
	CHECK(terminated_within(text, sizeof text), "%s: addr_format_prefix unterminated", what);
	CHECK(addr_parse_prefix(&back, &blen, text, err, sizeof err),
	    "%s: \"%s\" does not parse back: %s", what, text, err);
	CHECK(same_addr(&back, a) && blen == plen,
	    "%s: \"%s\" parses back to another prefix (/%d)", what, text, blen);

	/* The map's canonical key: no /32 or /128 for a single address. */
	memset(&e, 0, sizeof e);
	e.prefix = *a;
	e.plen = plen;
	sentinel_fill(text, sizeof text);
	mapentry_format_key(text, sizeof text, &e);
	CHECK(terminated_within(text, sizeof text), "%s: mapentry_format_key unterminated", what);
	CHECK((strchr(text, '/') == NULL) == (plen == family_max(a)),
	    "%s: key \"%s\" for /%d", what, text, plen);
	CHECK(mapentry_parse_key(text, &e2, err, sizeof err),
	    "%s: key \"%s\" does not parse back: %s", what, text, err);
	CHECK(same_addr(&e2.prefix, a) && e2.plen == plen,
	    "%s: key \"%s\" parses back to another prefix", what, text);
	CHECK(mapentry_cmp(&e, &e2) == 0, "%s: mapentry_cmp of equal keys", what);
}

/* Every length is masked; the slower round trip is done for the length
 * the input picks and the two ends. */
static void
check_masks(const struct addr *a, int pick)
{
	int max = family_max(a);

	for (int plen = 0; plen <= max; plen++) {
		struct addr m = *a, m2;

		addr_mask(&m, plen);
		CHECK(addr_is_v4(&m) == addr_is_v4(a), "mask /%d changed the family", plen);
		CHECK(host_bits_clear(&m, plen), "mask /%d left host bits", plen);
		CHECK(same_leading_bits(&m, a, plen), "mask /%d changed network bits", plen);
		m2 = m;
		addr_mask(&m2, plen);
		CHECK(same_addr(&m, &m2), "mask /%d not idempotent", plen);
		if (plen == pick || plen == 0 || plen == max)
			check_prefix_roundtrip(&m, plen, "masked");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = cstring(data, size);
	char err[256], tiny[8];
	struct addr a, p, p2, p3;
	int plen = -7, plen2 = -7, plen3 = -7;
	bool ok, ok2, ok3;
	struct map_entry e;

	/* A literal address. */
	if (addr_parse(&a, s)) {
		check_format_roundtrip(&a, "addr_parse");
		check_masks(&a, size ? data[size - 1] % 129 : 0);
	}

	/* "ADDR" or "ADDR/LEN", with three kinds of error buffer. */
	sentinel_fill(err, sizeof err);
	ok = addr_parse_prefix(&p, &plen, s, err, sizeof err);
	ok2 = addr_parse_prefix(&p2, &plen2, s, NULL, 0);
	sentinel_fill(tiny, sizeof tiny);
	ok3 = addr_parse_prefix(&p3, &plen3, s, tiny, 1 + (size ? data[0] % (sizeof tiny) : 0));
	CHECK(ok == ok2 && ok == ok3, "answer depends on the error buffer");
	if (ok) {
		CHECK(plen == plen2 && plen == plen3 && same_addr(&p, &p2) && same_addr(&p, &p3),
		    "result depends on the error buffer");
		CHECK(plen >= 0 && plen <= family_max(&p), "prefix length %d", plen);
		CHECK(host_bits_clear(&p, plen), "accepted a prefix with host bits");
		CHECK(strchr(s, '/') != NULL || plen == family_max(&p),
		    "no /LEN, yet length %d", plen);
		check_format_roundtrip(&p, "addr_parse_prefix");
		check_prefix_roundtrip(&p, plen, "addr_parse_prefix");
	} else {
		CHECK(terminated_within(err, sizeof err) && err[0] != '\0',
		    "failure without a terminated reason");
		CHECK(terminated_within(tiny, sizeof tiny), "tiny error buffer overrun");
	}

	/* mapentry_parse_key is addr_parse_prefix under another name, for
	 * every key not read as a name (names.h; fuzz_names has the rest). */
	if (!names_is_name_key(s)) {
		CHECK(mapentry_parse_key(s, &e, err, sizeof err) == ok,
		    "mapentry_parse_key disagrees");
		if (ok)
			CHECK(e.name == NULL && same_addr(&e.prefix, &p) && e.plen == plen,
			    "mapentry_parse_key result");
	} else {
		CHECK(!ok, "\"%.60s\" is an address yet read as a name", s);
		if (mapentry_parse_key(s, &e, err, sizeof err))
			mapentry_free(&e);
	}

	/* The raw bytes as an address: whatever they are, they format. */
	if (size >= 16) {
		struct addr raw;
		char text[ADDR_STRLEN];
		int rl = size > 16 ? (int)(int8_t)data[16] : 0;

		memcpy(raw.b, data, 16);
		check_format_roundtrip(&raw, "raw");
		/* Any length, even a nonsense one, formats within bounds. */
		addr_format_prefix(text, sizeof text, &raw, rl);
		CHECK(terminated_within(text, sizeof text), "raw prefix unterminated");
		if (rl >= 0 && rl <= family_max(&raw)) {
			addr_mask(&raw, rl);
			CHECK(host_bits_clear(&raw, rl), "raw mask /%d left host bits", rl);
			check_prefix_roundtrip(&raw, rl, "raw masked");
		}
	}
	free(s);
	return 0;
}
