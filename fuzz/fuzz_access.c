/*
 * fuzz_access.c: sendmail access source text, as ratelimit-map
 * import-access reads it (access_parse_line, access_import), and
 * sendmail time values (access_parse_time).
 *
 * The input is an access file.  Checked:
 *   - each line (as fgets hands it over) gives 1, 0 or -1; an error has a
 *     terminated, non-empty reason; an address key has a prefix length of
 *     whole octets (IPv4) or groups (IPv6) or a full address, no host bits,
 *     and its canonical text parses back to the same prefix;
 *   - a ClientRate entry's number is at most 9000;
 *   - access_import of the whole file either reports errors and writes
 *     nothing, or writes lines that ratelimit-map reads back: every line
 *     is a comment or an entry (mapentry_parse_line), and no key twice;
 *   - the first line, as a time, is 1..86400 seconds when accepted.
 */
#include "access_import.h"
#include "fuzz.h"
#include "mapentry.h"

static void
check_line(const char *line)
{
	struct access_entry a;
	struct map_entry back;
	char err[400], key[ADDR_STRLEN];
	int r;

	sentinel_fill(err, sizeof err);
	r = access_parse_line(line, &a, err, sizeof err);
	CHECK(r >= -1 && r <= 1, "access_parse_line gave %d", r);
	if (r < 0) {
		CHECK(terminated_within(err, sizeof err) && err[0] != '\0', "empty reason");
		return;
	}
	if (r == 0 || !a.has_addr)
		return;
	if (a.kind == ACCESS_RATE)
		CHECK(a.n <= 9000, "ClientRate %u over 9000", a.n);
	if (addr_is_v4(&a.e.prefix))
		CHECK(a.e.plen % 8 == 0 && a.e.plen >= 8 && a.e.plen <= 32, "v4 plen %d", a.e.plen);
	else
		CHECK(a.e.plen % 16 == 0 && a.e.plen >= 16 && a.e.plen <= 128, "v6 plen %d", a.e.plen);
	CHECK(host_bits_clear(&a.e.prefix, a.e.plen), "host bits after /%d", a.e.plen);
	mapentry_format_key(key, sizeof key, &a.e);
	CHECK(mapentry_parse_key(key, &back, err, sizeof err), "canonical key %s: %s", key, err);
	CHECK(back.plen == a.e.plen && same_addr(&back.prefix, &a.e.prefix),
	    "canonical key %s parses to another prefix", key);
}

static void
check_import(const uint8_t *data, size_t size)
{
	char *out = NULL, *line, *save = NULL;
	size_t outlen = 0, n = 0;
	struct map_entry seen[256];
	FILE *in, *o, *sink;
	int errors;

	if ((in = fmemopen((void *)data, size ? size : 1, "r")) == NULL)
		return;
	if (size == 0)
		(void)fgetc(in);	/* fmemopen wants a non-empty buffer */
	o = open_memstream(&out, &outlen);
	sink = fopen("/dev/null", "w");
	CHECK(o != NULL && sink != NULL, "streams");
	errors = access_import(in, "fuzz", 600, "fuzz", NULL, NULL, o, sink, sink);
	fclose(in);
	fclose(sink);
	fclose(o);
	CHECK(errors >= 0, "errors %d", errors);
	if (errors > 0) {
		CHECK(outlen == 0, "%zu bytes written despite %d errors", outlen, errors);
		free(out);
		return;
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct map_entry e;
		char err[256];
		int r = mapentry_parse_line(line, &e, err, sizeof err);

		CHECK(r >= 0, "import wrote a line ratelimit-map refuses: \"%.80s\": %s", line, err);
		if (r == 0)
			continue;
		for (size_t i = 0; i < n; i++)
			CHECK(!(seen[i].plen == e.plen && same_addr(&seen[i].prefix, &e.prefix)),
			    "import wrote a key twice: \"%.80s\"", line);
		if (n < sizeof seen / sizeof seen[0])
			seen[n++] = e;
	}
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = cstring(data, size), *p = text, *nl;
	uint32_t secs;

	/* Lines as fgets gives them (up to and including '\n'). */
	while (*p) {
		char saved;

		nl = strchr(p, '\n');
		if (nl) {
			saved = nl[1];
			nl[1] = '\0';
		}
		check_line(p);
		if (!nl)
			break;
		nl[1] = saved;
		p = nl + 1;
	}
	nl = strchr(text, '\n');
	if (nl)
		*nl = '\0';
	if (access_parse_time(text, &secs))
		CHECK(secs >= 1 && secs <= 86400, "time \"%.40s\" is %u s", text, secs);
	check_import(data, size);
	free(text);
	return 0;
}
