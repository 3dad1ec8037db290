/*
 * fuzz_map.c: the map source text ratelimit-map reads (mapentry_parse_line),
 * then the exemption set the daemon would build from it.
 *
 * The input is a map file; each line (with its newline, as fgets hands it
 * to ratelimit-map) goes through mapentry_parse_line.  Checked:
 *   - a line of white space only, or a comment, is 0; an error is -1 with
 *     a terminated, non-empty reason; an entry is 1;
 *   - an entry has a valid prefix (no host bits) and a valid value, and
 *     its canonical text (mapentry_format_key, mapentry_format_value)
 *     parses back, on a line of its own, to the same entry;
 *   - the entries, deduplicated as ratelimit-map -r does (mapdb_find,
 *     mapdb_push) and sorted (mapdb_sort), are strictly ordered by
 *     mapentry_cmp, which is antisymmetric;
 *   - the exemption set built from them answers every lookup as a
 *     brute-force longest-prefix match over the list does (lpm.h).
 */
#include <ctype.h>

#include "fuzz.h"
#include "lpm.h"
#include "mapdb.h"
#include "mapentry.h"
#include "names.h"

#define MAX_ENTRIES 256

static bool
same_entry(const struct map_entry *a, const struct map_entry *b)
{
	return mapentry_same_key(a, b) && a->value.kind == b->value.kind &&
	    a->value.limit == b->value.limit && a->value.window_s == b->value.window_s;
}

static void
check_entry(const struct map_entry *e, unsigned variant)
{
	char key[MAPENTRY_KEY_STRLEN], val[MAPENTRY_VALUE_STRLEN], line[400], err[400];
	static const char *const forms[] = {
		"%s %s\n", "%s\t%s", "  %s \t %s \r\n", "\t%s\t\t%s\t\n",
	};
	struct map_entry back;
	int r;

	if (e->name != NULL) {
		char again[NAMES_STRLEN];
		CHECK(e->plen == -1, "a name entry with plen %d", e->plen);
		CHECK(names_parse_key(e->name, again, err, sizeof err) &&
		    strcmp(again, e->name) == 0, "name \"%s\" not canonical", e->name);
	} else {
		CHECK(e->plen >= 0 && e->plen <= family_max(&e->prefix), "plen %d", e->plen);
		CHECK(host_bits_clear(&e->prefix, e->plen), "an entry with host bits");
	}
	if (e->value.kind == EXEMPT_OK)
		CHECK(e->value.limit == 0 && e->value.window_s == 0, "OK with a limit");
	else
		CHECK(e->value.kind == EXEMPT_LIMIT && e->value.limit >= 1 &&
		    e->value.limit <= 9000 && e->value.window_s >= 1 &&
		    e->value.window_s <= 86400, "value %d %u/%u", e->value.kind,
		    e->value.limit, e->value.window_s);

	mapentry_format_key(key, sizeof key, e);
	mapentry_format_value(val, sizeof val, &e->value);
	snprintf(line, sizeof line, forms[variant % 4], key, val);
	memset(&back, 0, sizeof back);
	r = mapentry_parse_line(line, &back, err, sizeof err);
	CHECK(r == 1, "canonical line \"%s %s\" gives %d: %s", key, val, r, r < 0 ? err : "");
	CHECK(same_entry(&back, e), "canonical line \"%s %s\" parses to another entry", key, val);
	mapentry_free(&back);
}

/* Blank for makemap's purposes: nothing but white space, or a comment. */
static bool
blank_line(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return *s == '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct map_entry list[MAX_ENTRIES];
	struct map_entries m = { 0 };
	char *text = cstring(data, size), *line, err[400];
	size_t n = 0, lineno = 0;

	/* Lines as fgets gives them: up to and including '\n'; a NUL byte
	 * ends what the parser sees of a line. */
	for (line = text; line < text + size; lineno++) {
		char *nl = memchr(line, '\n', (size_t)(text + size - line));
		char *end = nl ? nl + 1 : text + size;
		char save = *end;
		struct map_entry e;
		int r;

		*end = '\0';
		memset(&e, 0x5a, sizeof e);
		sentinel_fill(err, sizeof err);
		r = mapentry_parse_line(line, &e, err, sizeof err);
		CHECK(r >= -1 && r <= 1, "mapentry_parse_line returned %d", r);
		if (blank_line(line))
			CHECK(r == 0, "line %zu is white space only, yet %d: %s", lineno + 1, r,
			    r < 0 ? err : "");
		if (r < 0)
			CHECK(terminated_within(err, sizeof err) && err[0] != '\0',
			    "line %zu: an error without a terminated reason", lineno + 1);
		if (r == 1) {
			long dup;

			check_entry(&e, (unsigned)lineno);
			/* The prefix oracle is for addresses (fuzz_names has names). */
			if (n < MAX_ENTRIES && e.name == NULL)
				list[n++] = e;
			/* ratelimit-map -r: a later line replaces the earlier. */
			if ((dup = mapdb_find(&m, &e)) >= 0) {
				mapentry_free(&m.e[dup]);
				m.e[dup] = e;
			} else
				CHECK(mapdb_push(&m, &e), "mapdb_push");
		}
		*end = save;
		line = end;
	}

	mapdb_sort(&m);
	for (size_t i = 0; i + 1 < m.n; i++) {
		int c = mapentry_cmp(&m.e[i], &m.e[i + 1]);
		CHECK(c < 0, "sorted entries %zu and %zu compare %d", i, i + 1, c);
		CHECK(mapentry_cmp(&m.e[i + 1], &m.e[i]) > 0, "mapentry_cmp not antisymmetric");
	}
	for (size_t i = 0; i < m.n; i++)
		CHECK(mapdb_find(&m, &m.e[i]) == (long)i, "mapdb_find after sort");
	mapdb_clear(&m);

	lpm_check_all(list, n);
	free(text);
	return 0;
}
