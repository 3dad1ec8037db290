/*
 * mapentry.c: keys and values of the exemption map, as text.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mapentry.h"
#include "window.h"

#define DURATION_MAX (WINDOW_MS_MAX / 1000)

bool
mapentry_parse_key(const char *s, struct map_entry *out, char *err,
    size_t errlen)
{
	char name[NAMES_STRLEN];

	memset(&out->prefix, 0, sizeof out->prefix);
	out->name = NULL;
	if (!names_is_name_key(s))
		return addr_parse_prefix(&out->prefix, &out->plen, s, err, errlen);
	if (!names_parse_key(s, name, err, errlen))
		return false;
	if ((out->name = strdup(name)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	out->plen = -1;
	return true;
}

void
mapentry_free(struct map_entry *e)
{
	free(e->name);
	e->name = NULL;
}

bool
mapentry_same_key(const struct map_entry *a, const struct map_entry *b)
{
	if (a->name != NULL || b->name != NULL)
		return a->name != NULL && b->name != NULL && strcmp(a->name, b->name) == 0;
	return a->plen == b->plen && memcmp(a->prefix.b, b->prefix.b, 16) == 0;
}

void
mapentry_format_key(char *dst, size_t dstlen, const struct map_entry *e)
{
	if (e->name != NULL)
		snprintf(dst, dstlen, "%s", e->name);
	else if (e->plen == (addr_is_v4(&e->prefix) ? 32 : 128))
		addr_format(dst, dstlen, &e->prefix);
	else
		addr_format_prefix(dst, dstlen, &e->prefix, e->plen);
}

int
mapentry_cmp(const struct map_entry *a, const struct map_entry *b)
{
	int a4 = addr_is_v4(&a->prefix), b4 = addr_is_v4(&b->prefix), c;

	if (a->name != NULL || b->name != NULL) {
		if (a->name == NULL || b->name == NULL)
			return a->name == NULL ? -1 : 1;
		return strcmp(a->name, b->name);
	}
	if (a4 != b4)
		return a4 ? -1 : 1;
	if ((c = memcmp(a->prefix.b, b->prefix.b, 16)) != 0)
		return c;
	return (a->plen > b->plen) - (a->plen < b->plen);
}

bool
mapentry_parse_number(const char *s, size_t n, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (n == 0 || (s[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > max)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

bool
mapentry_parse_duration(const char *s, uint32_t *seconds)
{
	size_t n = strlen(s);
	uint32_t unit = 1, v;

	if (n > 0 && !isdigit((unsigned char)s[n - 1])) {
		switch (s[n - 1]) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		default: return false;
		}
		n--;
	}
	if (!mapentry_parse_number(s, n, DURATION_MAX, &v) || v == 0 ||
	    (uint64_t)v * unit > DURATION_MAX)
		return false;
	*seconds = v * unit;
	return true;
}

bool
mapentry_parse_value(const char *s, struct exempt_value *out, char *err,
    size_t errlen)
{
	const char *slash;
	uint32_t n;

	memset(out, 0, sizeof *out);
	if (strcasecmp(s, "OK") == 0) {
		out->kind = EXEMPT_OK;
		return true;
	}
	if ((slash = strchr(s, '/')) == NULL) {
		snprintf(err, errlen, "bad value \"%.40s\": expected OK or N/DURATION "
		    "(e.g. 100/60, 500/1h)", s);
		return false;
	}
	if (!mapentry_parse_number(s, (size_t)(slash - s), UINT32_MAX, &n)) {
		snprintf(err, errlen, "bad value \"%.40s\": the limit before '/' must "
		    "be a whole number", s);
		return false;
	}
	if (n < 1 || n > WINDOW_LIMIT_MAX) {
		snprintf(err, errlen, "bad value \"%.40s\": limit %u is out of range "
		    "(1..%u)", s, n, (unsigned)WINDOW_LIMIT_MAX);
		return false;
	}
	if (!mapentry_parse_duration(slash + 1, &out->window_s)) {
		snprintf(err, errlen, "bad value \"%.40s\": duration must be 1s..1d, "
		    "as N, Ns, Nm, Nh or Nd", s);
		return false;
	}
	out->kind = EXEMPT_LIMIT;
	out->limit = n;
	return true;
}

void
mapentry_format_value(char *dst, size_t dstlen, const struct exempt_value *v)
{
	uint32_t w = v->window_s;

	if (v->kind == EXEMPT_OK)
		snprintf(dst, dstlen, "OK");
	else if (w % 86400 == 0)
		snprintf(dst, dstlen, "%u/%ud", v->limit, w / 86400);
	else if (w % 3600 == 0)
		snprintf(dst, dstlen, "%u/%uh", v->limit, w / 3600);
	else if (w % 60 == 0)
		snprintf(dst, dstlen, "%u/%um", v->limit, w / 60);
	else
		snprintf(dst, dstlen, "%u/%u", v->limit, w);
}

bool
mapentry_split_line(const char *line, const char **k, size_t *kn,
    const char **v, size_t *vn)
{
	const char *p = line;

	while (*p == ' ' || *p == '\t')
		p++;
	/* Blank (a CRLF file's blank line too) or a comment. */
	if (p[strspn(p, " \t\r\n")] == '\0' || *p == '#')
		return false;
	for (*k = p; *p && !isspace((unsigned char)*p); p++)
		;
	*kn = (size_t)(p - *k);
	while (*p == ' ' || *p == '\t')
		p++;
	*v = p;
	*vn = strcspn(*v, "\r\n");
	while (*vn > 0 && isspace((unsigned char)(*v)[*vn - 1]))
		(*vn)--;
	return true;
}

int
mapentry_parse_line(const char *line, struct map_entry *out, char *err,
    size_t errlen)
{
	char key[MAPENTRY_KEY_STRLEN], value[128];
	const char *k, *v;
	size_t kn, vn;

	if (!mapentry_split_line(line, &k, &kn, &v, &vn))
		return 0;
	if (kn >= sizeof key) {
		snprintf(err, errlen, "key too long (a name has at most %d characters)",
		    NAMES_MAX);
		return -1;
	}
	memcpy(key, k, kn);
	key[kn] = '\0';
	if (vn == 0) {
		snprintf(err, errlen, "%s: missing value (OK or N/DURATION)", key);
		return -1;
	}
	if (vn >= sizeof value || memchr(v, ' ', vn) || memchr(v, '\t', vn)) {
		snprintf(err, errlen, "%s: the value must be one word (OK or N/DURATION); "
		    "comments go on lines of their own", key);
		return -1;
	}
	memcpy(value, v, vn);
	value[vn] = '\0';
	if (!mapentry_parse_key(key, out, err, errlen))
		return -1;
	if (!mapentry_parse_value(value, &out->value, err, errlen)) {
		mapentry_free(out);
		return -1;
	}
	return 1;
}
