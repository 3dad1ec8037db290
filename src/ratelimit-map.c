/*
 * ratelimit-map: build, dump and edit milter-ratelimit's exemption map,
 * in the manner of makemap(8).
 *
 *   ratelimit-map [-r] [-t hash|btree] MAP < TEXT   build MAP.db from text
 *   ratelimit-map -u MAP                            dump as text, sorted
 *   ratelimit-map add MAP KEY [VALUE]               add or change one entry
 *   ratelimit-map delete MAP KEY                    remove one entry
 *   ratelimit-map test MAP ADDRESS [NAME]           which entry applies
 *   ratelimit-map test MAP NAME                     (a name: as if verified)
 *   ratelimit-map import-access [-w TIME | -C CF] [-m SOURCE] ACCESS
 *                                  sendmail's ClientRate: entries as map text
 *
 * Every change is validated in full before the map is touched, written to
 * a temporary file beside the map and renamed over it under a lock on the
 * map's directory: the daemon sees the old map or the new, never a mix,
 * and two writers never lose each other's entries.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "access_import.h"
#include "exempt.h"
#include "mapdb.h"
#include "mapentry.h"
#include "mapsource.h"

#define PROG "ratelimit-map"
#define LINE_MAX_LEN 4096

static int warnings;

/* -h and --help: on stdout, exit 0; a bad command line: stderr, exit 64. */
static void __attribute__((noreturn))
usage_to(FILE *out, int status)
{
	fprintf(out,
	    "usage: %s [-r] [-t hash|btree] MAP < TEXT\n"
	    "       %s -u MAP\n"
	    "       %s add MAP KEY [VALUE]\n"
	    "       %s delete MAP KEY\n"
	    "       %s test MAP ADDRESS [NAME] | test MAP NAME\n"
	    "       %s import-access [-w TIME | -C sendmail.cf] [-m SOURCE] ACCESS\n"
	    "       %s -h | --help | -V | --version\n",
	    PROG, PROG, PROG, PROG, PROG, PROG, PROG);
	if (status == 0)
		fprintf(out, "See ratelimit-map(8).\n");
	exit(status);
}

static void __attribute__((noreturn))
usage(void)
{
	usage_to(stderr, EX_USAGE);
}

/* MAP names MAP.db, unless it already ends in ".db". */
static char *
map_path(const char *arg)
{
	size_t n = strlen(arg);
	char *p;

	if (n >= 3 && strcmp(arg + n - 3, ".db") == 0)
		return strdup(arg);
	if ((p = malloc(n + 4)) != NULL)
		snprintf(p, n + 4, "%s.db", arg);
	return p;
}

static void
warn_entry(const char *path, const char *key, const char *reason)
{
	warnings++;
	fprintf(stderr, "%s: %s: skipping key \"%s\": %s\n", PROG, path, key, reason);
}

/* The name of standard input for messages: the file it was redirected
 * from, when it was, so that errors read FILE:LINE. */
static void
stdin_name(char *dst, size_t len)
{
	ssize_t n = readlink("/proc/self/fd/0", dst, len - 1);

	if (n > 0 && dst[0] == '/') {
		dst[n] = '\0';
		return;
	}
	snprintf(dst, len, "stdin");
}

/* Errors are collected and printed in line order at the end: duplicates
 * are only found once every line is read. */
struct note {
	int line;
	char *text;
};
static struct note *notes;
static size_t nnotes, notes_cap;

static void
note(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
note(int line, const char *fmt, ...)
{
	char buf[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (nnotes == notes_cap) {
		notes_cap = notes_cap ? notes_cap * 2 : 64;
		void *p = realloc(notes, notes_cap * sizeof *notes);
		if (p == NULL) {
			fprintf(stderr, "%s: out of memory\n", PROG);
			exit(EX_OSERR);
		}
		notes = p;
	}
	notes[nnotes].line = line;
	if ((notes[nnotes++].text = strdup(buf)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		exit(EX_OSERR);
	}
}

static int
cmp_note(const void *a, const void *b)
{
	const struct note *x = a, *y = b;

	return (x->line > y->line) - (x->line < y->line);
}

static void
print_notes(void)
{
	if (nnotes > 1)
		qsort(notes, nnotes, sizeof *notes, cmp_note);
	for (size_t i = 0; i < nnotes; i++) {
		fprintf(stderr, "%s\n", notes[i].text);
		free(notes[i].text);
	}
	free(notes);
	notes = NULL;
	nnotes = notes_cap = 0;
}

/* An entry and the line it came from, for duplicate reports. */
struct lined {
	struct map_entry e;
	int line;
};

static int
cmp_lined(const void *a, const void *b)
{
	const struct lined *x = a, *y = b;
	int c = mapentry_cmp(&x->e, &y->e);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/*
 * Duplicates are found by sorting once, not by searching per line (a
 * million-line map took hours that way).  Without replace, every repeat
 * is an error naming both lines; with it, the last line wins.
 */
static int
dedupe(struct lined *v, size_t n, const char *name, bool replace,
    struct map_entries *m)
{
	int errors = 0;

	if (n > 1)
		qsort(v, n, sizeof *v, cmp_lined);
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && mapentry_cmp(&v[i].e, &v[i + 1].e) == 0) {
			if (!replace) {
				char key[MAPENTRY_KEY_STRLEN];
				mapentry_format_key(key, sizeof key, &v[i + 1].e);
				note(v[i + 1].line, "%s:%d: duplicate key %s, first on line "
				    "%d (use -r to let the later line replace the earlier)",
				    name, v[i + 1].line, key, v[i].line);
				errors++;
			}
			mapentry_free(&v[i].e);
			continue;	/* keep the last of a run */
		}
		if (!mapdb_push(m, &v[i].e)) {
			fprintf(stderr, "%s: out of memory\n", PROG);
			exit(EX_OSERR);
		}
	}
	return errors;
}

/*
 * One line of f into buf (at most LINE_MAX_LEN characters kept, the
 * newline dropped, NUL-terminated).  The whole line is always consumed, so
 * line numbers stay right whatever it holds.  False at the end of input.
 * *too_long: it had more characters; *nul: it held a NUL byte (which no
 * C string can carry: fgets would have cut the line there).
 */
static bool
read_line(FILE *f, char *buf, bool *too_long, bool *nul)
{
	size_t n = 0;
	int c;

	*too_long = *nul = false;
	while ((c = getc_unlocked(f)) != EOF && c != '\n') {
		if (c == '\0')
			*nul = true;
		else if (n < LINE_MAX_LEN)
			buf[n++] = (char)c;
		else
			*too_long = true;
	}
	buf[n] = '\0';
	return c != EOF || n > 0 || *too_long || *nul;
}

/*
 * Read the map at path for an edit.  0, or the exit status: unreadable
 * (EX_NOINPUT), or holding entries the tool cannot read, which a rewrite
 * would silently drop (EX_DATAERR); the message is printed.
 */
static int
read_whole_map(const char *path, struct map_entries *m, enum mapdb_type *type)
{
	char err[512];

	if (!mapdb_read(path, m, type, warn_entry, err, sizeof err)) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		return EX_NOINPUT;
	}
	if (warnings) {
		fprintf(stderr, "%s: %s has entries it cannot read; fix them "
		    "first (the map is unchanged)\n", PROG, path);
		return EX_DATAERR;
	}
	return 0;
}

/* Read map text from f.  Reports every error as NAME:LINE: message;
 * returns the number of errors. */
static int
read_text(FILE *f, const char *name, bool replace, struct map_entries *m)
{
	char line[LINE_MAX_LEN + 1], err[400];
	int lineno = 0, errors = 0;
	struct lined *v = NULL;
	size_t n = 0, cap = 0;
	bool too_long, nul;

	while (read_line(f, line, &too_long, &nul)) {
		struct map_entry e;
		int r;

		lineno++;
		if (nul) {
			note(lineno, "%s:%d: NUL byte", name, lineno);
			errors++;
			continue;
		}
		if (too_long) {
			note(lineno, "%s:%d: line longer than %d characters",
			    name, lineno, LINE_MAX_LEN);
			errors++;
			continue;
		}
		if ((r = mapentry_parse_line(line, &e, err, sizeof err)) == 0)
			continue;
		if (r < 0) {
			note(lineno, "%s:%d: %s", name, lineno, err);
			errors++;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			void *p = realloc(v, cap * sizeof *v);
			if (p == NULL) {
				fprintf(stderr, "%s: out of memory\n", PROG);
				exit(EX_OSERR);
			}
			v = p;
		}
		v[n].e = e;
		v[n++].line = lineno;
	}
	if (ferror(f)) {
		note(INT_MAX, "%s: read error: %s", name, strerror(errno));
		errors++;
	}
	errors += dedupe(v, n, name, replace, m);
	free(v);
	print_notes();
	return errors;
}

/* Write m over path under the directory lock. */
static int
write_locked_map(const char *path, enum mapdb_type type, struct map_entries *m)
{
	char err[512];

	if (!mapdb_write(path, type, m, err, sizeof err)) {
		fprintf(stderr, "%s: %s (the map is unchanged)\n", PROG, err);
		return EX_CANTCREAT;
	}
	return 0;
}

static int
cmd_build(const char *arg, bool replace, enum mapdb_type type)
{
	struct map_entries m = { 0 };
	char name[PATH_MAX], err[512];
	char *path = map_path(arg), *real = NULL;
	int errors, lock, rc;

	stdin_name(name, sizeof name);
	errors = read_text(stdin, name, replace, &m);
	if (errors > 0) {
		fprintf(stderr, "%s: %d error%s; %s left untouched\n", PROG, errors,
		    errors == 1 ? "" : "s", path);
		mapdb_clear(&m);
		free(path);
		return EX_DATAERR;
	}
	mapdb_sort(&m);
	if ((real = mapdb_resolve(path, err, sizeof err)) == NULL) {
		fprintf(stderr, "%s: %s (the map is unchanged)\n", PROG, err);
		rc = EX_CANTCREAT;
	} else if ((lock = mapdb_lock(real, err, sizeof err)) < 0) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		rc = EX_CANTCREAT;
	} else {
		rc = write_locked_map(real, type, &m);
		mapdb_unlock(lock);
	}
	mapdb_clear(&m);
	free(real);
	free(path);
	return rc;
}

static int
cmd_dump(const char *arg)
{
	struct map_entries m = { 0 };
	char *path = map_path(arg), err[512];

	if (!mapdb_read(path, &m, NULL, warn_entry, err, sizeof err)) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		free(path);
		return EX_NOINPUT;
	}
	mapdb_sort(&m);
	for (size_t i = 0; i < m.n; i++) {
		char key[ADDR_STRLEN], val[MAPENTRY_VALUE_STRLEN];
		mapentry_format_key(key, sizeof key, &m.e[i]);
		mapentry_format_value(val, sizeof val, &m.e[i].value);
		printf("%s\t%s\n", key, val);
	}
	mapdb_clear(&m);
	/* The text above is then not the whole map: say so, as -n does. */
	if (warnings)
		fprintf(stderr, "%s: %s: %u invalid entries skipped; the output "
		    "is not the whole map\n", PROG, path, (unsigned)warnings);
	free(path);
	return warnings ? EX_DATAERR : 0;
}

/* add and delete: read, change, write, all under the directory lock. */
static int
cmd_edit(const char *arg, const char *keytext, const char *valtext, bool add)
{
	struct map_entries m = { 0 };
	enum mapdb_type type = MAPDB_HASH;
	char *path = map_path(arg), *real, err[512], key[MAPENTRY_KEY_STRLEN];
	struct map_entry e = { .name = NULL };
	int lock, rc = 0;
	long at;

	if (!mapentry_parse_key(keytext, &e, err, sizeof err) ||
	    (add && !mapentry_parse_value(valtext, &e.value, err, sizeof err))) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		mapentry_free(&e);
		free(path);
		return EX_DATAERR;
	}
	mapentry_format_key(key, sizeof key, &e);
	/* Through a symbolic link: edit the file it leads to, keep the link. */
	if ((real = mapdb_resolve(path, err, sizeof err)) == NULL) {
		fprintf(stderr, "%s: %s (the map is unchanged)\n", PROG, err);
		mapentry_free(&e);
		free(path);
		return EX_CANTCREAT;
	}
	free(path);
	path = real;
	if ((lock = mapdb_lock(path, err, sizeof err)) < 0) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		mapentry_free(&e);
		free(path);
		return EX_CANTCREAT;
	}
	if (access(path, F_OK) == 0 || !add) {
		if ((rc = read_whole_map(path, &m, &type)) != 0)
			goto out;
	}
	at = mapdb_find(&m, &e);
	if (add) {
		if (at >= 0) {
			mapentry_free(&m.e[at]);
			m.e[at] = e;
		} else if (!mapdb_push(&m, &e)) {
			fprintf(stderr, "%s: out of memory\n", PROG);
			rc = EX_OSERR;
			goto out;
		}
		e.name = NULL;	/* the map's now */
	} else {
		if (at < 0) {
			fprintf(stderr, "%s: %s: no entry %s (the map is unchanged)\n",
			    PROG, path, key);
			rc = 1;
			goto out;
		}
		mapentry_free(&m.e[at]);
		m.e[at] = m.e[--m.n];
	}
	mapdb_sort(&m);
	rc = write_locked_map(path, type, &m);
out:
	mapentry_free(&e);
	mapdb_unlock(lock);
	mapdb_clear(&m);
	free(path);
	return rc;
}

/* What an entry means, for test. */
static void
print_applies(const char *key, const struct exempt_value *v, const char *how)
{
	char val[MAPENTRY_VALUE_STRLEN];

	mapentry_format_value(val, sizeof val, v);
	if (v->kind == EXEMPT_OK)
		printf("%s\t%s\texempt: never counted, never refused%s\n", key, val, how);
	else
		printf("%s\t%s\tlimit %u connections per %u seconds%s\n", key, val,
		    v->limit, v->window_s, how);
}

/*
 * test MAP ADDRESS [NAME] | test MAP NAME: the entry the daemon would
 * apply, with its precedence: an address entry, then a name entry over
 * the client's name (taken as verified by the MTA), then none.
 */
static int
cmd_test(const char *arg, const char *first, const char *second)
{
	char *path = map_path(arg), err[512], key[MAPENTRY_KEY_STRLEN];
	char name[NAMES_STRLEN];
	const char *address = NULL, *nametext = NULL, *entry;
	struct exempt_value value;
	struct exempt_match match;
	struct map_entry e;
	struct exempt *ex;
	struct addr a;
	int rc;

	if (second != NULL) {
		address = first;
		nametext = second;
	} else if (names_is_name_key(first)) {
		nametext = first;
	} else {
		address = first;
	}
	if (address != NULL && !addr_parse(&a, address)) {
		fprintf(stderr, "%s: not an IPv4 or IPv6 address: \"%s\"\n", PROG, address);
		free(path);
		return EX_DATAERR;
	}
	if (nametext != NULL && !names_parse_key(nametext, name, err, sizeof err)) {
		fprintf(stderr, "%s: not a host name: %s\n", PROG, err);
		free(path);
		return EX_DATAERR;
	}
	if ((ex = exempt_load_db(path, warn_entry, err, sizeof err)) == NULL) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		free(path);
		return EX_NOINPUT;
	}
	rc = 0;
	if (address != NULL && exempt_lookup(ex, &a, &match)) {
		e.prefix = match.prefix;
		e.plen = match.plen;
		e.name = NULL;
		mapentry_format_key(key, sizeof key, &e);
		print_applies(key, &match.value, nametext != NULL ?
		    " (an address entry comes before any name entry)" : "");
	} else if (nametext != NULL &&
	    (entry = exempt_lookup_name(ex, name, &value)) != NULL) {
		print_applies(entry, &value, " (when the MTA has verified the "
		    "client's name)");
	} else {
		printf("%s%s%s: no entry; the configured limit applies\n",
		    address ? address : "", address && nametext ? " " : "",
		    nametext ? name : "");
		rc = 1;
	}
	exempt_free(ex);
	free(path);
	return rc;
}

/* One entry as "KEY VALUE", for messages. */
static void
entry_text(char *dst, size_t len, const struct map_entry *e)
{
	char key[MAPENTRY_KEY_STRLEN], val[MAPENTRY_VALUE_STRLEN];

	mapentry_format_key(key, sizeof key, e);
	mapentry_format_value(val, sizeof val, &e->value);
	snprintf(dst, len, "%s %s", key, val);
}

/* Do two sorted entry lists say the same?  If not, the first difference
 * goes in what. */
static bool
same_entries(const struct map_entries *map, const struct map_entries *src,
    char *what, size_t len)
{
	char a[MAPENTRY_KEY_STRLEN + MAPENTRY_VALUE_STRLEN + 2], b[sizeof a];
	size_t i = 0, j = 0;

	while (i < map->n || j < src->n) {
		int c = i == map->n ? 1 : j == src->n ? -1 :
		    mapentry_cmp(&map->e[i], &src->e[j]);
		if (c == 0) {
			entry_text(a, sizeof a, &map->e[i]);
			entry_text(b, sizeof b, &src->e[j]);
			if (strcmp(a, b) != 0) {
				snprintf(what, len, "the map has \"%s\", the source \"%s\"", a, b);
				return false;
			}
			i++, j++;
		} else if (c < 0) {
			entry_text(a, sizeof a, &map->e[i]);
			snprintf(what, len, "\"%s\" is only in the map", a);
			return false;
		} else {
			entry_text(b, sizeof b, &src->e[j]);
			snprintf(what, len, "\"%s\" is only in the source", b);
			return false;
		}
	}
	return true;
}

/*
 * add and delete on a map that has a source file (MAP.db's source is MAP,
 * the file it is built from): the two must say the same before the edit,
 * and both get it, the source first.  So rebuilding from the source never
 * undoes an add or a delete, and a map that has drifted from its source is
 * refused with the first difference rather than drifting further.  A map
 * without a source file is edited alone, with a note saying so.
 */
static int
cmd_edit_synced(const char *arg, const char *keytext, const char *valtext, bool add)
{
	struct map_entries m = { 0 }, s = { 0 };
	enum mapdb_type type = MAPDB_HASH;
	char *path = map_path(arg), src[PATH_MAX], err[512], what[700];
	char key[MAPENTRY_KEY_STRLEN];
	struct map_entry e = { .name = NULL };
	int lock, rc, hits;
	long at;
	FILE *f;

	if (path == NULL || !mapsource_path(path, src, sizeof src) ||
	    (access(src, F_OK) != 0 && errno == ENOENT)) {
		rc = cmd_edit(arg, keytext, valtext, add);
		if (rc == 0 && path != NULL)
			fprintf(stderr, "%s: note: no source file %.*s; only the map "
			    "was changed\n", PROG, (int)strlen(path) - 3, path);
		free(path);
		return rc;
	}
	if (!mapentry_parse_key(keytext, &e, err, sizeof err) ||
	    (add && !mapentry_parse_value(valtext, &e.value, err, sizeof err))) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		mapentry_free(&e);
		free(path);
		return EX_DATAERR;
	}
	mapentry_format_key(key, sizeof key, &e);
	if ((lock = mapdb_lock(path, err, sizeof err)) < 0) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		mapentry_free(&e);
		free(path);
		return EX_CANTCREAT;
	}
	if ((f = fopen(src, "r")) == NULL) {
		fprintf(stderr, "%s: %s: %s\n", PROG, src, strerror(errno));
		rc = EX_NOINPUT;
		goto out;
	}
	rc = read_text(f, src, true, &s);
	fclose(f);
	if (rc > 0) {
		fprintf(stderr, "%s: the source %s has errors; fix them first (the "
		    "source and the map are unchanged)\n", PROG, src);
		rc = EX_DATAERR;
		goto out;
	}
	if (access(path, F_OK) == 0) {
		if ((rc = read_whole_map(path, &m, &type)) != 0)
			goto out;
	}
	mapdb_sort(&m);
	mapdb_sort(&s);
	if (!same_entries(&m, &s, what, sizeof what)) {
		fprintf(stderr, "%s: %s and its source %s differ: %s.  Nothing was "
		    "changed: rebuilding from the source would undo what only the map "
		    "has.  Make them agree first: put the map's entries in the source "
		    "(ratelimit-map -u %s shows them) or rebuild the map "
		    "(ratelimit-map %s < %s), then repeat the %s\n", PROG, path, src,
		    what, path, src, src, add ? "add" : "delete");
		rc = EX_DATAERR;
		goto out;
	}
	at = mapdb_find(&m, &e);
	if (!add && at < 0) {
		fprintf(stderr, "%s: %s: no entry %s (the map is unchanged)\n", PROG,
		    path, key);
		rc = 1;
		goto out;
	}
	if ((hits = mapsource_edit(src, &e, add, err, sizeof err)) < 0) {
		fprintf(stderr, "%s: %s (the source and the map are unchanged)\n", PROG, err);
		rc = EX_CANTCREAT;
		goto out;
	}
	if (add && at >= 0) {
		mapentry_free(&m.e[at]);
		m.e[at] = e;
		e.name = NULL;
	} else if (add && !mapdb_push(&m, &e)) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		rc = EX_OSERR;
		goto out;
	} else if (add) {
		e.name = NULL;	/* the map's now */
	} else {
		mapentry_free(&m.e[at]);
		m.e[at] = m.e[--m.n];
	}
	mapdb_sort(&m);
	if ((rc = write_locked_map(path, type, &m)) != 0)
		fprintf(stderr, "%s: %s has the change but %s does not: rebuild it "
		    "with ratelimit-map %s < %s\n", PROG, src, path, src, src);
out:
	mapentry_free(&e);
	mapdb_unlock(lock);
	mapdb_clear(&m);
	mapdb_clear(&s);
	free(path);
	return rc;
}

/*
 * import-access: sendmail's rate-control entries from the access source
 * text, as map source lines on stdout.  The window is -w, or sendmail.cf's
 * ConnectionRateWindowSize (-C), or sendmail's default of 60 s.
 */
static int
cmd_import(const char *src, const char *window_arg, const char *cf,
    const char *mapsrc)
{
	struct map_entries have = { 0 };
	char from[PATH_MAX + 64], err[600];
	uint32_t window_s = 60;
	bool found;
	FILE *f;
	int errors;

	if (window_arg != NULL) {
		if (!access_parse_time(window_arg, &window_s)) {
			fprintf(stderr, "%s: -w %s: not a time of 1s..1d (e.g. 600, 10m)\n",
			    PROG, window_arg);
			return EX_USAGE;
		}
		snprintf(from, sizeof from, "-w %s", window_arg);
	} else if (cf != NULL) {
		if (!access_window_from_cf(cf, &window_s, &found, err, sizeof err)) {
			fprintf(stderr, "%s: %s\n", PROG, err);
			return access(cf, R_OK) == 0 ? EX_DATAERR : EX_NOINPUT;
		}
		if (found)
			snprintf(from, sizeof from, "ConnectionRateWindowSize in %s", cf);
		else
			snprintf(from, sizeof from, "%s does not set ConnectionRateWindowSize: "
			    "sendmail's default", cf);
	} else {
		snprintf(from, sizeof from, "sendmail's default; no -C or -w given");
	}
	/* -m: the map source the lines are for; keys it has are not repeated. */
	if (mapsrc != NULL) {
		if ((f = fopen(mapsrc, "r")) == NULL) {
			fprintf(stderr, "%s: %s: %s\n", PROG, mapsrc, strerror(errno));
			return EX_NOINPUT;
		}
		errors = read_text(f, mapsrc, true, &have);
		fclose(f);
		if (errors > 0) {
			fprintf(stderr, "%s: fix %s first; nothing imported\n", PROG, mapsrc);
			mapdb_clear(&have);
			return EX_DATAERR;
		}
	}
	if (strcmp(src, "-") == 0) {
		f = stdin;
		src = "stdin";
	} else if ((f = fopen(src, "r")) == NULL) {
		fprintf(stderr, "%s: %s: %s\n", PROG, src, strerror(errno));
		mapdb_clear(&have);
		return EX_NOINPUT;
	}
	errors = access_import(f, src, window_s, from, mapsrc ? &have : NULL, mapsrc,
	    stdout, stderr, stderr);
	mapdb_clear(&have);
	if (f != stdin)
		fclose(f);
	if (errors > 0) {
		fprintf(stderr, "%s: %d error%s in %s; nothing imported\n", PROG, errors,
		    errors == 1 ? "" : "s", src);
		return EX_DATAERR;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: writing the map lines: %s\n", PROG, strerror(errno));
		return EX_IOERR;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	enum mapdb_type type = MAPDB_HASH;
	bool replace = false, dump = false;
	const char *window_arg = NULL, *cf = NULL, *mapsrc = NULL;
	int ch;

	static const struct option longopts[] = {
		{ "help",	no_argument,	NULL,	'h' },
		{ "version",	no_argument,	NULL,	'V' },
		{ NULL,		0,		NULL,	0 },
	};

	while ((ch = getopt_long(argc, argv, "C:hm:rt:uVw:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h': usage_to(stdout, 0);
		case 'V': printf("%s %s\n", PROG, VERSION); return 0;
		case 'r': replace = true; break;
		case 'u': dump = true; break;
		case 'C': cf = optarg; break;
		case 'w': window_arg = optarg; break;
		case 'm': mapsrc = optarg; break;
		case 't':
			if (strcmp(optarg, "hash") == 0)
				type = MAPDB_HASH;
			else if (strcmp(optarg, "btree") == 0)
				type = MAPDB_BTREE;
			else {
				fprintf(stderr, "%s: -t: unknown map type \"%s\" "
				    "(hash or btree)\n", PROG, optarg);
				return EX_USAGE;
			}
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;

	if (argc >= 1 && strcmp(argv[0], "import-access") == 0)
		return argc == 2 && !(window_arg && cf) && !dump && !replace ?
		    cmd_import(argv[1], window_arg, cf, mapsrc) : (usage(), 0);
	if (window_arg || cf || mapsrc)
		usage();
	if (dump)
		return argc == 1 ? cmd_dump(argv[0]) : (usage(), 0);
	if (argc >= 1 && strcmp(argv[0], "add") == 0 && (argc == 3 || argc == 4))
		return cmd_edit_synced(argv[1], argv[2], argc == 4 ? argv[3] : "OK", true);
	if (argc >= 1 && strcmp(argv[0], "delete") == 0 && argc == 3)
		return cmd_edit_synced(argv[1], argv[2], NULL, false);
	if (argc >= 1 && strcmp(argv[0], "test") == 0 && (argc == 3 || argc == 4))
		return cmd_test(argv[1], argv[2], argc == 4 ? argv[3] : NULL);
	if (argc == 1 && strcmp(argv[0], "add") != 0 && strcmp(argv[0], "delete") != 0 &&
	    strcmp(argv[0], "test") != 0)
		return cmd_build(argv[0], replace, type);
	usage();
	return EX_USAGE;
}
