/*
 * names.c: name keys of the exemption map, the client's verified name,
 * and the suffix index that matches one against the other.
 *
 * The index is an open-addressing hash table of the canonical entry
 * names, built once per map load and then only read (no lock).  A lookup
 * hashes the client's name, then each suffix that starts after a dot,
 * longest first, and stops at the first hit: at most 127 probes for the
 * longest legal name, whatever the size of the map.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "names.h"
#include "siphash.h"

bool
names_is_name_key(const char *s)
{
	if (strpbrk(s, ":/") != NULL)
		return false;
	return s[strspn(s, "0123456789.")] != '\0';
}

/* Check a name of n characters (no trailing dot) and copy it lower case
 * into out.  False with a reason in err (err may be NULL). */
static bool
check_name(const char *s, size_t n, char *out, char *err, size_t errlen)
{
	size_t label = 0, labels = 1;
	bool digits = true;

	if (n == 0) {
		if (err)
			snprintf(err, errlen, "empty name");
		return false;
	}
	if (n > NAMES_MAX) {
		if (err)
			snprintf(err, errlen, "name longer than %d characters", NAMES_MAX);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80) {
			if (err)
				snprintf(err, errlen, "\"%.*s\": not ASCII; write an "
				    "international name in its xn-- (IDNA) form", (int)n, s);
			return false;
		}
		if (c == '.') {
			if (label == 0) {
				if (err)
					snprintf(err, errlen, "\"%.*s\": %s", (int)n, s, i == 0 ?
					    "a leading dot (write partner.example: a name "
					    "entry covers the name and every name under it)" :
					    "an empty label (two dots)");
				return false;
			}
			if (s[i - 1] == '-')
				goto hyphen;
			label = 0;
			labels++;
			digits = true;
			out[i] = '.';
			continue;
		}
		if (!isalnum(c) && c != '-') {
			if (err)
				snprintf(err, errlen, "\"%.*s\": '%s%c' is not allowed in a "
				    "host name (letters, digits, hyphens and dots)", (int)n, s,
				    isprint(c) ? "" : "\\", isprint(c) ? c : '?');
			return false;
		}
		if (c == '-' && label == 0)
			goto hyphen;
		if (++label > 63) {
			if (err)
				snprintf(err, errlen, "\"%.*s\": a label longer than 63 "
				    "characters", (int)n, s);
			return false;
		}
		if (!isdigit(c))
			digits = false;
		out[i] = (char)tolower(c);
	}
	if (s[n - 1] == '-')
		goto hyphen;
	if (labels < 2) {
		if (err)
			snprintf(err, errlen, "\"%.*s\": a single label would cover a "
			    "whole top-level domain; give at least two labels "
			    "(partner.example)", (int)n, s);
		return false;
	}
	if (digits) {
		if (err)
			snprintf(err, errlen, "\"%.*s\": neither an address nor a name "
			    "(the last label of a name is not all digits)", (int)n, s);
		return false;
	}
	out[n] = '\0';
	return true;
hyphen:
	if (err)
		snprintf(err, errlen, "\"%.*s\": a label starts or ends with a hyphen",
		    (int)n, s);
	return false;
}

bool
names_parse_key(const char *s, char out[NAMES_STRLEN], char *err, size_t errlen)
{
	size_t n = strlen(s);

	/* One trailing dot (a fully qualified name) is the same name. */
	if (n > 1 && s[n - 1] == '.' && s[n - 2] != '.')
		n--;
	if (n > NAMES_MAX) {
		snprintf(err, errlen, "\"%.40s...\": name longer than %d characters",
		    s, NAMES_MAX);
		return false;
	}
	return check_name(s, n, out, err, errlen);
}

enum names_status
names_verified(const char *hostname, const char *resolve, char out[NAMES_STRLEN])
{
	size_t n;

	/* sendmail's "[192.0.2.1]" and "[IPv6:2001:db8::1]", Postfix's
	 * "[2001:db8::1]": the MTA has no name it trusts. */
	if (hostname == NULL || hostname[0] == '\0' || hostname[0] == '[')
		return NAMES_NONE;
	n = strnlen(hostname, NAMES_MAX + 2);
	if (n > 1 && hostname[n - 1] == '.' && hostname[n - 2] != '.')
		n--;
	if (n > NAMES_MAX || !check_name(hostname, n, out, NULL, 0)) {
		out[0] = '\0';
		return NAMES_INVALID;
	}
	/*
	 * The hostname argument alone is not proof.  Both real MTAs pass a
	 * FORGED PTR name as a literal (tests/mta/names.sh), but an MTA (or a
	 * version, or a TEMP lookup) that passes the name with anything but OK
	 * must not exempt anybody.  Both MTAs say OK only for a name that
	 * resolves forward to the client's address (Postfix also for the NAME
	 * of an authorized XCLIENT), so only OK counts; an MTA that did not
	 * send the macro gets no name.
	 */
	if (resolve == NULL || strcmp(resolve, "OK") != 0) {
		out[0] = '\0';
		return NAMES_UNVERIFIED;
	}
	return NAMES_VERIFIED;
}

/* --- the index ------------------------------------------------------------ */

struct names_index {
	uint8_t seed[16];
	size_t n;		/* names held */
	size_t mask;		/* slots - 1; slots a power of two >= 2n */
	uint32_t *slot;		/* 1 + index into name/values; 0 = empty */
	char **name;
	unsigned char *values;
	size_t vsize;
};

static uint64_t
hash_name(const struct names_index *x, const char *s, size_t n)
{
	return siphash13(x->seed, s, n);
}

/* The slot for s[0..n): its entry's index, or -1. */
static long
find(const struct names_index *x, const char *s, size_t n)
{
	size_t i = (size_t)hash_name(x, s, n) & x->mask;

	/* The table is at most half full: an empty slot ends every probe. */
	for (;;) {
		uint32_t v = x->slot[i];
		if (v == 0)
			return -1;
		if (strncmp(x->name[v - 1], s, n) == 0 && x->name[v - 1][n] == '\0')
			return (long)v - 1;
		i = (i + 1) & x->mask;
	}
}

struct names_index *
names_index_build(const char *const *names, const void *values, size_t vsize,
    size_t n)
{
	struct names_index *x = calloc(1, sizeof *x);
	size_t slots = 16;

	if (x == NULL)
		return NULL;
	if (getrandom(x->seed, sizeof x->seed, GRND_NONBLOCK) != sizeof x->seed)
		memset(x->seed, 0x5a, sizeof x->seed);	/* fixed: the keys are the admin's */
	while (slots < 2 * n)
		slots *= 2;
	x->mask = slots - 1;
	x->vsize = vsize;
	x->slot = calloc(slots, sizeof *x->slot);
	x->name = calloc(n ? n : 1, sizeof *x->name);
	x->values = calloc(n ? n : 1, vsize ? vsize : 1);
	if (x->slot == NULL || x->name == NULL || x->values == NULL)
		goto fail;
	for (size_t k = 0; k < n; k++) {
		size_t len = strlen(names[k]), i;

		if (find(x, names[k], len) >= 0)
			continue;	/* the first of duplicates stays */
		if ((x->name[x->n] = strdup(names[k])) == NULL)
			goto fail;
		memcpy(x->values + x->n * vsize, (const unsigned char *)values + k * vsize,
		    vsize);
		i = (size_t)hash_name(x, names[k], len) & x->mask;
		while (x->slot[i] != 0)
			i = (i + 1) & x->mask;
		x->slot[i] = (uint32_t)(x->n + 1);
		x->n++;
	}
	return x;
fail:
	names_index_free(x);
	return NULL;
}

void
names_index_free(struct names_index *x)
{
	if (x == NULL)
		return;
	for (size_t i = 0; x->name && i < x->n; i++)
		free(x->name[i]);
	free(x->name);
	free(x->slot);
	free(x->values);
	free(x);
}

size_t
names_index_count(const struct names_index *x)
{
	return x->n;
}

size_t
names_index_memory(const struct names_index *x)
{
	size_t m = sizeof *x + (x->mask + 1) * sizeof *x->slot +
	    x->n * (sizeof *x->name + x->vsize);

	for (size_t i = 0; i < x->n; i++)
		m += strlen(x->name[i]) + 1;
	return m;
}

const char *
names_index_lookup(const struct names_index *x, const char *name, void *value)
{
	const char *s = name;
	size_t n = strlen(name);
	long at;

	if (x == NULL || x->n == 0)
		return NULL;
	/* The name, then each parent domain: longest first. */
	for (;;) {
		if ((at = find(x, s, n)) >= 0) {
			if (value)
				memcpy(value, x->values + (size_t)at * x->vsize, x->vsize);
			return x->name[at];
		}
		const char *dot = memchr(s, '.', n);
		if (dot == NULL)
			return NULL;
		n -= (size_t)(dot + 1 - s);
		s = dot + 1;
	}
}

void
names_window_key(uint8_t b[16], uint8_t *plen, const char *entry)
{
	/* Fixed keys: the result only has to be distinct per (entry,
	 * client key); the table hashes it again with its secret seed. */
	static const uint8_t k1[16] = "names-window-k1", k2[16] = "names-window-k2";
	unsigned char buf[17 + NAMES_STRLEN];
	size_t n = strnlen(entry, NAMES_MAX);
	uint64_t h1, h2;

	memcpy(buf, b, 16);
	buf[16] = *plen;
	memcpy(buf + 17, entry, n);
	h1 = siphash13(k1, buf, 17 + n);
	h2 = siphash13(k2, buf, 17 + n);
	memcpy(b, &h1, 8);
	memcpy(b + 8, &h2, 8);
	*plen = NAMES_KEY_PLEN;
}
