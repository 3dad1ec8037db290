/*
 * access_import.c: sendmail's ClientRate: entries (access source text) as
 * exemption map lines.  See access_import.h for what maps to what.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "access_import.h"
#include "mapentry.h"
#include "window.h"

#define ACCESS_LINE_MAX 4096
#define DAY 86400u

bool
access_parse_time(const char *s, uint32_t *seconds)
{
	uint64_t total = 0;

	if (*s == '\0')
		return false;
	while (*s) {
		uint64_t v = 0, unit = 1;

		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s)) {
			v = v * 10 + (uint64_t)(*s++ - '0');
			if (v > DAY * 7)
				return false;
		}
		switch (*s) {
		case '\0': break;
		case 's': unit = 1; s++; break;
		case 'm': unit = 60; s++; break;
		case 'h': unit = 3600; s++; break;
		case 'd': unit = DAY; s++; break;
		case 'w': unit = DAY * 7; s++; break;
		default: return false;
		}
		total += v * unit;
		if (total > DAY)
			return false;
	}
	if (total == 0)
		return false;
	*seconds = (uint32_t)total;
	return true;
}

/* IPv4: "10", "10.1", "10.1.2", "10.1.2.3". */
static int
parse_v4(const char *s, struct map_entry *out, char *err, size_t errlen)
{
	uint32_t octet;
	int n = 0;

	memset(out, 0, sizeof *out);
	out->prefix.b[10] = out->prefix.b[11] = 0xff;
	for (const char *p = s;; ) {
		char part[8];
		size_t len = strcspn(p, ".");

		if (len == 0 || len >= sizeof part || n == 4) {
			snprintf(err, errlen, "\"%.60s\" is not an IPv4 address of 1 to 4 "
			    "octets", s);
			return -1;
		}
		memcpy(part, p, len);
		part[len] = '\0';
		if (!mapentry_parse_number(part, strlen(part), 255, &octet)) {
			snprintf(err, errlen, "\"%.60s\": octet \"%s\" is not 0..255 "
			    "without leading zeros (sendmail writes client addresses "
			    "without them, so this key never matches)", s, part);
			return -1;
		}
		out->prefix.b[12 + n++] = (uint8_t)octet;
		p += len;
		if (*p == '\0')
			break;
		p++;
	}
	out->plen = 8 * n;
	return 1;
}

/* IPv6, after "IPv6:": a full address with "::", or 1 to 8 groups. */
static int
parse_v6(const char *s, struct map_entry *out, char *err, size_t errlen)
{
	int n = 0;

	memset(out, 0, sizeof *out);
	if (strstr(s, "::") != NULL) {
		if (!addr_parse(&out->prefix, s) || addr_is_v4(&out->prefix) ||
		    strchr(s, '.') != NULL) {
			snprintf(err, errlen, "\"IPv6:%.60s\" is not an IPv6 address", s);
			return -1;
		}
		out->plen = 128;
		return 1;
	}
	for (const char *p = s;; ) {
		size_t len = strcspn(p, ":");
		unsigned v = 0;

		if (len == 0 || len > 4 || n == 8) {
			snprintf(err, errlen, "\"IPv6:%.60s\" is not 1 to 8 groups of 1 to 4 "
			    "hex digits", s);
			return -1;
		}
		if (len > 1 && p[0] == '0') {
			snprintf(err, errlen, "\"IPv6:%.60s\": group \"%.*s\" has a leading "
			    "zero (sendmail writes client addresses without them, so "
			    "this key never matches)", s, (int)len, p);
			return -1;
		}
		for (size_t i = 0; i < len; i++) {
			if (!isxdigit((unsigned char)p[i])) {
				snprintf(err, errlen, "\"IPv6:%.60s\": \"%.*s\" is not a group "
				    "of hex digits", s, (int)len, p);
				return -1;
			}
			v = v * 16 + (unsigned)(isdigit((unsigned char)p[i]) ? p[i] - '0' :
			    tolower((unsigned char)p[i]) - 'a' + 10);
		}
		out->prefix.b[2 * n] = (uint8_t)(v >> 8);
		out->prefix.b[2 * n + 1] = (uint8_t)v;
		n++;
		p += len;
		if (*p == '\0')
			break;
		p++;
	}
	out->plen = 16 * n;
	/* ::ffff:0:0/96 is how we hold IPv4: keep the families apart. */
	if (n >= 6 && addr_is_v4(&out->prefix)) {
		snprintf(err, errlen, "\"IPv6:%.60s\" is an IPv4-mapped address: write "
		    "the IPv4 address", s);
		return -1;
	}
	return 1;
}

int
access_parse_addr(const char *s, struct map_entry *out, char *err,
    size_t errlen)
{
	if (strncasecmp(s, "IPv6:", 5) == 0)
		return parse_v6(s + 5, out, err, errlen);
	if (strchr(s, '/') != NULL) {
		snprintf(err, errlen, "\"%.60s\": sendmail's access keys have no /LEN; "
		    "they end on whole octets (\"10.1\") or groups (\"IPv6:2001:db8\")", s);
		return -1;
	}
	if (strchr(s, ':') != NULL) {
		snprintf(err, errlen, "\"%.60s\": an IPv6 key needs sendmail's \"IPv6:\" "
		    "tag; as written it never matches", s);
		return -1;
	}
	if (s[strspn(s, "0123456789.")] != '\0')
		return 0;	/* a host or domain name */
	return parse_v4(s, out, err, errlen);
}

static bool
tag_is(const char *key, size_t taglen, const char *tag)
{
	return strlen(tag) == taglen && strncasecmp(key, tag, taglen) == 0;
}

int
access_parse_line(const char *line, struct access_entry *out, char *err,
    size_t errlen)
{
	const char *k, *v, *colon;
	size_t kn, vn, taglen;
	int r;

	memset(out, 0, sizeof *out);
	if (!mapentry_split_line(line, &k, &kn, &v, &vn))
		return 0;
	if ((colon = memchr(k, ':', kn)) == NULL)
		return 0;	/* untagged: not rate control */
	taglen = (size_t)(colon - k);
	if (taglen >= sizeof out->tag)
		return 0;	/* no tag of ours is that long */
	if (tag_is(k, taglen, "ClientRate"))
		out->kind = ACCESS_RATE;
	else if (tag_is(k, taglen, "ClientConn"))
		out->kind = ACCESS_CONN;
	else if (tag_is(k, taglen, "Connect"))
		out->kind = ACCESS_CONNECT;
	else
		return 0;
	memcpy(out->tag, k, taglen);
	out->tag[taglen] = '\0';
	kn -= taglen + 1;
	if (kn >= sizeof out->key) {
		snprintf(err, errlen, "%s: key too long", out->tag);
		return -1;
	}
	memcpy(out->key, colon + 1, kn);
	out->key[kn] = '\0';
	if (vn >= sizeof out->value) {
		snprintf(err, errlen, "%s:%s: value too long", out->tag, out->key);
		return -1;
	}
	memcpy(out->value, v, vn);
	out->value[vn] = '\0';

	if (out->kind == ACCESS_CONNECT) {
		/* Only what opens the door matters here; the rest (REJECT,
		 * error texts, names) is sendmail's business alone. */
		if (strcasecmp(out->value, "RELAY") != 0 && strcasecmp(out->value, "OK") != 0)
			return 0;
		if (kn == 0 || access_parse_addr(out->key, &out->e, err, errlen) != 1)
			return 0;
		out->has_addr = true;
		return 1;
	}
	if (vn == 0) {
		snprintf(err, errlen, "%s:%s: missing value (a number of connections)",
		    out->tag, out->key);
		return -1;
	}
	if (!mapentry_parse_number(out->value, strlen(out->value), UINT32_MAX, &out->n)) {
		snprintf(err, errlen, "%s:%s: value \"%s\" is not a whole number of "
		    "connections", out->tag, out->key, out->value);
		return -1;
	}
	if (out->kind == ACCESS_RATE && out->n > WINDOW_LIMIT_MAX) {
		snprintf(err, errlen, "%s:%s %u: over the map's largest limit, %u per "
		    "window", out->tag, out->key, out->n, (unsigned)WINDOW_LIMIT_MAX);
		return -1;
	}
	if (kn == 0) {
		if (out->kind == ACCESS_RATE)
			out->kind = ACCESS_RATE_DEFAULT;
		return 1;
	}
	r = access_parse_addr(out->key, &out->e, err, errlen);
	if (r < 0) {
		char why[200];
		snprintf(why, sizeof why, "%s", err);
		snprintf(err, errlen, "%s:%s", out->tag, why);
		return -1;
	}
	if (r == 0) {
		if (out->kind == ACCESS_RATE)
			out->kind = ACCESS_HOSTNAME;
		return 1;
	}
	out->has_addr = true;
	return 1;
}

bool
access_window_from_cf(const char *path, uint32_t *seconds, bool *found,
    char *err, size_t errlen)
{
	static const char opt[] = "ConnectionRateWindowSize";
	char line[ACCESS_LINE_MAX + 2];
	int lineno = 0;
	FILE *f;

	*found = false;
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		char *p = line, *v;
		size_t n;

		lineno++;
		if (*p++ != 'O' || (*p != ' ' && *p != '\t'))
			continue;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, opt, sizeof opt - 1) != 0)
			continue;
		p += sizeof opt - 1;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=')
			continue;
		for (v = p + 1; *v == ' ' || *v == '\t'; v++)
			;
		n = strcspn(v, "\r\n");
		while (n > 0 && isspace((unsigned char)v[n - 1]))
			n--;
		v[n] = '\0';
		if (!access_parse_time(v, seconds)) {
			snprintf(err, errlen, "%s:%d: %s=%.40s: not a time of 1s..1d (the "
			    "map's longest window)", path, lineno, opt, v);
			fclose(f);
			return false;
		}
		*found = true;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
		fclose(f);
		return false;
	}
	fclose(f);
	return true;
}

struct lined_access {
	struct access_entry a;
	int line;
};

/* The earlier ClientRate line with the same prefix (or default), or NULL. */
static const struct lined_access *
earlier(const struct lined_access *v, size_t n, const struct access_entry *a)
{
	for (size_t i = 0; i < n; i++) {
		const struct access_entry *b = &v[i].a;
		if (b->kind != a->kind)
			continue;
		if (a->kind == ACCESS_RATE_DEFAULT || (a->kind == ACCESS_RATE &&
		    b->e.plen == a->e.plen && memcmp(b->e.prefix.b, a->e.prefix.b, 16) == 0))
			return &v[i];
	}
	return NULL;
}

/* The entry of have with e's key, or NULL. */
static const struct map_entry *
have_key(const struct map_entries *have, const struct map_entry *e)
{
	for (size_t i = 0; have != NULL && i < have->n; i++)
		if (have->e[i].plen == e->plen &&
		    memcmp(have->e[i].prefix.b, e->prefix.b, 16) == 0)
			return &have->e[i];
	return NULL;
}

static bool
emit_rate(FILE *out, FILE *notes, const char *name, const struct lined_access *l,
    uint32_t window_s, const struct map_entries *have, const char *have_name)
{
	char key[ADDR_STRLEN], val[MAPENTRY_VALUE_STRLEN], had[MAPENTRY_VALUE_STRLEN];
	struct exempt_value ev = { 0 };
	const struct map_entry *dup;

	if (l->a.n == 0) {
		ev.kind = EXEMPT_OK;
	} else {
		ev.kind = EXEMPT_LIMIT;
		ev.limit = l->a.n;
		ev.window_s = window_s;
	}
	mapentry_format_key(key, sizeof key, &l->a.e);
	mapentry_format_value(val, sizeof val, &ev);
	if ((dup = have_key(have, &l->a.e)) != NULL) {
		mapentry_format_value(had, sizeof had, &dup->value);
		fprintf(out, "# %s:%d: %s:%s %s: %s is already in %s (as %s); not "
		    "repeated:\n# %s\t%s\n", name, l->line, l->a.tag, l->a.key,
		    l->a.value, key, have_name, had, key, val);
		fprintf(notes, "%s:%d: note: %s is already in %s (as %s); %s:%s %s "
		    "left as a comment\n", name, l->line, key, have_name, had, l->a.tag,
		    l->a.key, l->a.value);
		return false;
	}
	fprintf(out, "# %s:%d: %s:%s %s\n%s\t%s\n", name, l->line, l->a.tag, l->a.key,
	    l->a.value, key, val);
	return true;
}

static bool
imported(const struct lined_access *v, size_t n, const struct map_entry *e)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].a.kind == ACCESS_RATE && v[i].a.e.plen == e->plen &&
		    memcmp(v[i].a.e.prefix.b, e->prefix.b, 16) == 0)
			return true;
	return false;
}

static void
emit_others(FILE *out, FILE *notes, const char *name, const struct lined_access *v,
    size_t n, const struct lined_access *l)
{
	char key[ADDR_STRLEN];

	switch (l->a.kind) {
	case ACCESS_CONN:
		fprintf(out, "# %s:%d: %s:%s %s: not imported: a limit on concurrent "
		    "connections, which FEATURE(conncontrol) keeps enforcing\n", name,
		    l->line, l->a.tag, l->a.key, l->a.value);
		fprintf(notes, "%s:%d: note: %s:%s %s not imported (concurrent "
		    "connections: sendmail's conncontrol)\n", name, l->line, l->a.tag,
		    l->a.key, l->a.value);
		break;
	case ACCESS_HOSTNAME:
		fprintf(out, "# %s:%d: %s:%s %s: not imported: a name; write a name "
		    "entry by hand if its verified name should be exempt\n", name,
		    l->line, l->a.tag, l->a.key, l->a.value);
		fprintf(notes, "%s:%d: note: %s:%s not imported: not an address\n", name,
		    l->line, l->a.tag, l->a.key);
		break;
	case ACCESS_CONNECT:
		mapentry_format_key(key, sizeof key, &l->a.e);
		fprintf(out, "# %s:%d: %s:%s %s: sendmail trusts these clients, but that "
		    "does not exempt them from rate limits.\n", name, l->line, l->a.tag,
		    l->a.key, l->a.value);
		if (imported(v, n, &l->a.e))
			fprintf(out, "#   (%s has its own ClientRate entry)\n", key);
		else
			fprintf(out, "#   To exempt them here too, uncomment:\n# %s\tOK\n", key);
		fprintf(notes, "%s:%d: note: %s:%s %s listed as a comment, not imported\n",
		    name, l->line, l->a.tag, l->a.key, l->a.value);
		break;
	default:
		break;
	}
}

int
access_import(FILE *in, const char *name, uint32_t window_s,
    const char *window_from, const struct map_entries *have,
    const char *have_name, FILE *out, FILE *notes, FILE *errs)
{
	char line[ACCESS_LINE_MAX + 2], err[400];
	struct lined_access *v = NULL;
	const struct lined_access *def = NULL;
	size_t n = 0, cap = 0, rates = 0;
	int lineno = 0, errors = 0;

	while (fgets(line, sizeof line, in) != NULL) {
		const struct lined_access *first;
		struct access_entry a;
		int r;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(in)) {
			fprintf(errs, "%s:%d: line longer than %d characters\n", name,
			    lineno, ACCESS_LINE_MAX);
			errors++;
			for (int c; (c = getc(in)) != EOF && c != '\n'; )
				;
			continue;
		}
		if ((r = access_parse_line(line, &a, err, sizeof err)) == 0)
			continue;
		if (r < 0) {
			fprintf(errs, "%s:%d: %s\n", name, lineno, err);
			errors++;
			continue;
		}
		if ((first = earlier(v, n, &a)) != NULL) {
			fprintf(errs, "%s:%d: duplicate key %s:%s, first on line %d\n",
			    name, lineno, a.tag, a.key, first->line);
			errors++;
			continue;
		}
		if (n == cap) {
			struct lined_access *nv;
			cap = cap ? cap * 2 : 64;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL) {
				fprintf(errs, "%s: out of memory\n", name);
				free(v);
				return errors + 1;
			}
			v = nv;
		}
		v[n].a = a;
		v[n++].line = lineno;
	}
	if (ferror(in)) {
		fprintf(errs, "%s: read error: %s\n", name, strerror(errno));
		errors++;
	}
	if (errors > 0) {
		free(v);
		return errors;
	}

	fprintf(out, "# milter-ratelimit map lines from sendmail's %s\n"
	    "# (ratelimit-map import-access).  ClientRate: N is N connections per\n"
	    "# ConnectionRateWindowSize: %u s here (%s).\n", name, window_s, window_from);
	for (size_t i = 0; i < n; i++)
		if (v[i].a.kind == ACCESS_RATE_DEFAULT)
			def = &v[i];
	if (def != NULL && def->a.n > 0) {
		fprintf(out, "#\n# %s:%d: %s: %s is sendmail's limit for every other "
		    "client.\n# The map has no default entry: set it in "
		    "milter-ratelimit.conf:\n#   limit  = %u\n#   window = %u\n", name,
		    def->line, def->a.tag, def->a.value, def->a.n, window_s);
		fprintf(notes, "%s:%d: note: the default %s: %s goes in "
		    "milter-ratelimit.conf: limit = %u, window = %u\n", name, def->line,
		    def->a.tag, def->a.value, def->a.n, window_s);
	} else if (def != NULL) {
		fprintf(out, "#\n# %s:%d: %s: 0: sendmail limited nobody else; the "
		    "milter always has a limit\n# (milter-ratelimit.conf: limit, window; "
		    "mode = \"log\" for a dry run).\n", name, def->line, def->a.tag);
		fprintf(notes, "%s:%d: note: the default %s: 0 (unlimited) has no "
		    "equivalent; set limit and window in milter-ratelimit.conf\n", name,
		    def->line, def->a.tag);
	} else {
		fprintf(out, "#\n# No default ClientRate: entry: sendmail limited only "
		    "the clients below.\n");
		fprintf(notes, "%s: note: no default ClientRate: entry; the milter's "
		    "limit and window (milter-ratelimit.conf) apply to everyone else\n",
		    name);
	}
	fprintf(out, "#\n");
	for (size_t i = 0; i < n; i++) {
		if (v[i].a.kind == ACCESS_RATE) {
			if (emit_rate(out, notes, name, &v[i], window_s, have, have_name))
				rates++;
		} else if (v[i].a.kind != ACCESS_RATE_DEFAULT) {
			emit_others(out, notes, name, v, n, &v[i]);
		}
	}
	fprintf(notes, "%s: %zu ClientRate entr%s imported, window %u s (%s)\n", name,
	    rates, rates == 1 ? "y" : "ies", window_s, window_from);
	free(v);
	return 0;
}
