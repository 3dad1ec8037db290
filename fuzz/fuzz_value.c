/*
 * fuzz_value.c: the map's value syntax (mapentry_parse_value,
 * exempt_parse_value) and DURATION (mapentry_parse_duration).
 *
 * The input is the text of a value.  Checked against a reference parser
 * written here from mapentry.h's grammar:
 *   value     OK (any case) | N "/" DURATION
 *   N         1..9000, digits only, no sign, no leading zero
 *   DURATION  digits (no leading zero) with an optional unit s, m, h or d;
 *             1 s .. 1 d
 * and: a parsed value formats (mapentry_format_value) to canonical text
 * that parses back to the same value; a failure gives a terminated reason;
 * any value, even out of range, formats within MAPENTRY_VALUE_STRLEN.
 */
#include <strings.h>

#include "fuzz.h"
#include "exempt.h"
#include "mapentry.h"
#include "window.h"

/* Digits only, no leading zero; saturates well above every limit. */
static bool
ref_number(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || (s[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v < 1000000000000ull)
			v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

static bool
ref_duration(const char *s, uint32_t *seconds)
{
	size_t n = strlen(s);
	uint64_t unit = 1, v;

	if (n > 0) {
		switch (s[n - 1]) {
		case 's': unit = 1; n--; break;
		case 'm': unit = 60; n--; break;
		case 'h': unit = 3600; n--; break;
		case 'd': unit = 86400; n--; break;
		}
	}
	if (!ref_number(s, n, &v) || v == 0 || v * unit > 86400)
		return false;
	*seconds = (uint32_t)(v * unit);
	return true;
}

static bool
ref_value(const char *s, struct exempt_value *out)
{
	const char *slash = strchr(s, '/');
	uint64_t n;

	memset(out, 0, sizeof *out);
	if ((s[0] == 'o' || s[0] == 'O') && (s[1] == 'k' || s[1] == 'K') && s[2] == '\0') {
		out->kind = EXEMPT_OK;
		return true;
	}
	if (slash == NULL || !ref_number(s, (size_t)(slash - s), &n) ||
	    n < 1 || n > WINDOW_LIMIT_MAX || !ref_duration(slash + 1, &out->window_s))
		return false;
	out->kind = EXEMPT_LIMIT;
	out->limit = (uint32_t)n;
	return true;
}

static bool
same_value(const struct exempt_value *a, const struct exempt_value *b)
{
	return a->kind == b->kind && a->limit == b->limit && a->window_s == b->window_s;
}

/* Canonical text, then back. */
static void
check_value_roundtrip(const struct exempt_value *v, const char *what)
{
	char text[MAPENTRY_VALUE_STRLEN], again[MAPENTRY_VALUE_STRLEN], err[256];
	struct exempt_value back;

	sentinel_fill(text, sizeof text);
	mapentry_format_value(text, sizeof text, v);
	CHECK(terminated_within(text, sizeof text), "%s: format unterminated", what);
	CHECK(mapentry_parse_value(text, &back, err, sizeof err),
	    "%s: \"%s\" does not parse back: %s", what, text, err);
	CHECK(same_value(&back, v), "%s: \"%s\" parses back to another value (%u/%u)",
	    what, text, back.limit, back.window_s);
	mapentry_format_value(again, sizeof again, &back);
	CHECK(strcmp(text, again) == 0, "%s: not canonical: \"%s\" vs \"%s\"", what, text, again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = cstring(data, size);
	char err[256];
	struct exempt_value v, rv, ev;
	uint32_t secs = 0, rsecs = 0;
	bool ok, rok, dok, rdok;

	sentinel_fill(err, sizeof err);
	ok = mapentry_parse_value(s, &v, err, sizeof err);
	rok = ref_value(s, &rv);
	CHECK(ok == rok, "mapentry_parse_value says %d, the grammar %d", ok, rok);
	if (ok) {
		CHECK(same_value(&v, &rv), "value %d %u/%u, the grammar %d %u/%u",
		    v.kind, v.limit, v.window_s, rv.kind, rv.limit, rv.window_s);
		check_value_roundtrip(&v, "parsed");
		if (v.kind == EXEMPT_OK)
			CHECK(strcasecmp(s, "ok") == 0, "OK from \"%s\"", s);
	} else {
		CHECK(terminated_within(err, sizeof err) && err[0] != '\0',
		    "failure without a terminated reason");
	}
	CHECK(exempt_parse_value(s, &ev, err, sizeof err) == ok, "exempt_parse_value disagrees");
	if (ok)
		CHECK(same_value(&ev, &v), "exempt_parse_value result");

	dok = mapentry_parse_duration(s, &secs);
	rdok = ref_duration(s, &rsecs);
	CHECK(dok == rdok, "mapentry_parse_duration says %d, the grammar %d", dok, rdok);
	if (dok) {
		struct exempt_value d = { EXEMPT_LIMIT, 1, secs };

		CHECK(secs == rsecs, "duration %u, the grammar %u", secs, rsecs);
		CHECK(secs >= 1 && secs <= 86400, "duration %u", secs);
		check_value_roundtrip(&d, "duration");
	}

	/* Any value in the struct formats within bounds; a valid one
	 * round-trips. */
	if (size >= 8) {
		struct exempt_value raw = { (data[0] & 1) ? EXEMPT_OK : EXEMPT_LIMIT,
		    (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
		    (uint32_t)data[2] << 8 | data[3],
		    (uint32_t)data[4] << 24 | (uint32_t)data[5] << 16 |
		    (uint32_t)data[6] << 8 | data[7] };
		char text[MAPENTRY_VALUE_STRLEN];

		sentinel_fill(text, sizeof text);
		mapentry_format_value(text, sizeof text, &raw);
		CHECK(terminated_within(text, sizeof text), "raw value unterminated");
		CHECK(strlen(text) < sizeof text - 1, "raw value \"%s\" may be cut short", text);
		if (raw.kind == EXEMPT_OK) {
			raw.limit = raw.window_s = 0;
			check_value_roundtrip(&raw, "raw");
		} else {
			raw.limit = 1 + raw.limit % WINDOW_LIMIT_MAX;
			raw.window_s = 1 + raw.window_s % 86400;
			check_value_roundtrip(&raw, "raw");
		}
	}
	free(s);
	return 0;
}
