/*
 * ratelimit-map: build, dump and edit milter-ratelimit's exemption map,
 * in the manner of makemap(8).
 *
 *   ratelimit-map [-r] [-t hash|btree] MAP < TEXT   build MAP.db from text
 *   ratelimit-map -u MAP                            dump as text, sorted
 *   ratelimit-map add MAP KEY [VALUE]               add or change one entry
 *   ratelimit-map delete MAP KEY                    remove one entry
 *   ratelimit-map test MAP ADDRESS                  which entry applies
 *
 * Every change is validated in full before the map is touched, written to
 * a temporary file beside the map and renamed over it under a lock on the
 * map's directory: the daemon sees the old map or the new, never a mix,
 * and two writers never lose each other's entries.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "exempt.h"
#include "mapdb.h"
#include "mapentry.h"

#define PROG "ratelimit-map"
#define LINE_MAX_LEN 4096

static int warnings;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: %s [-r] [-t hash|btree] MAP < TEXT\n"
	    "       %s -u MAP\n"
	    "       %s add MAP KEY [VALUE]\n"
	    "       %s delete MAP KEY\n"
	    "       %s test MAP ADDRESS\n", PROG, PROG, PROG, PROG, PROG);
	exit(EX_USAGE);
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
		if ((notes = realloc(notes, notes_cap * sizeof *notes)) == NULL) {
			fprintf(stderr, "%s: out of memory\n", PROG);
			exit(EX_OSERR);
		}
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
				char key[ADDR_STRLEN];
				mapentry_format_key(key, sizeof key, &v[i + 1].e);
				note(v[i + 1].line, "%s:%d: duplicate key %s, first on line "
				    "%d (use -r to let the later line replace the earlier)",
				    name, v[i + 1].line, key, v[i].line);
				errors++;
			}
			continue;	/* keep the last of a run */
		}
		if (!mapdb_push(m, &v[i].e)) {
			fprintf(stderr, "%s: out of memory\n", PROG);
			exit(EX_OSERR);
		}
	}
	return errors;
}

/* Read map text from f.  Reports every error as NAME:LINE: message;
 * returns the number of errors. */
static int
read_text(FILE *f, const char *name, bool replace, struct map_entries *m)
{
	char line[LINE_MAX_LEN + 2], err[256];
	int lineno = 0, errors = 0;
	struct lined *v = NULL;
	size_t n = 0, cap = 0;

	while (fgets(line, sizeof line, f) != NULL) {
		struct map_entry e;
		int r;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			note(lineno, "%s:%d: line longer than %d characters",
			    name, lineno, LINE_MAX_LEN);
			errors++;
			int c;
			while ((c = getc(f)) != EOF && c != '\n')
				;
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
			if ((v = realloc(v, cap * sizeof *v)) == NULL) {
				fprintf(stderr, "%s: out of memory\n", PROG);
				exit(EX_OSERR);
			}
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
	char *path = map_path(arg);
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
	if ((lock = mapdb_lock(path, err, sizeof err)) < 0) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		rc = EX_CANTCREAT;
	} else {
		rc = write_locked_map(path, type, &m);
		mapdb_unlock(lock);
	}
	mapdb_clear(&m);
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
	char *path = map_path(arg), err[512], key[ADDR_STRLEN];
	struct map_entry e;
	int lock, rc = 0;
	long at;

	if (!mapentry_parse_key(keytext, &e, err, sizeof err) ||
	    (add && !mapentry_parse_value(valtext, &e.value, err, sizeof err))) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		free(path);
		return EX_DATAERR;
	}
	mapentry_format_key(key, sizeof key, &e);
	if ((lock = mapdb_lock(path, err, sizeof err)) < 0) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		free(path);
		return EX_CANTCREAT;
	}
	if (access(path, F_OK) == 0 || !add) {
		if (!mapdb_read(path, &m, &type, warn_entry, err, sizeof err)) {
			fprintf(stderr, "%s: %s\n", PROG, err);
			rc = EX_NOINPUT;
			goto out;
		}
		if (warnings) {
			/* Rewriting would silently drop those entries. */
			fprintf(stderr, "%s: %s has entries it cannot read; fix them "
			    "first (the map is unchanged)\n", PROG, path);
			rc = EX_DATAERR;
			goto out;
		}
	}
	at = mapdb_find(&m, &e);
	if (add) {
		if (at >= 0)
			m.e[at] = e;
		else if (!mapdb_push(&m, &e)) {
			fprintf(stderr, "%s: out of memory\n", PROG);
			rc = EX_OSERR;
			goto out;
		}
	} else {
		if (at < 0) {
			fprintf(stderr, "%s: %s: no entry %s (the map is unchanged)\n",
			    PROG, path, key);
			rc = 1;
			goto out;
		}
		m.e[at] = m.e[--m.n];
	}
	mapdb_sort(&m);
	rc = write_locked_map(path, type, &m);
out:
	mapdb_unlock(lock);
	mapdb_clear(&m);
	free(path);
	return rc;
}

static int
cmd_test(const char *arg, const char *address)
{
	char *path = map_path(arg), err[512], key[ADDR_STRLEN];
	char val[MAPENTRY_VALUE_STRLEN];
	struct exempt_match match;
	struct map_entry e;
	struct exempt *ex;
	struct addr a;
	int rc;

	if (!addr_parse(&a, address)) {
		fprintf(stderr, "%s: not an IPv4 or IPv6 address: \"%s\"\n", PROG, address);
		free(path);
		return EX_DATAERR;
	}
	if ((ex = exempt_load_db(path, warn_entry, err, sizeof err)) == NULL) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		free(path);
		return EX_NOINPUT;
	}
	if (exempt_lookup(ex, &a, &match)) {
		e.prefix = match.prefix;
		e.plen = match.plen;
		e.value = match.value;
		mapentry_format_key(key, sizeof key, &e);
		mapentry_format_value(val, sizeof val, &e.value);
		if (e.value.kind == EXEMPT_OK)
			printf("%s\t%s\texempt: never counted, never refused\n", key, val);
		else
			printf("%s\t%s\tlimit %u connections per %u seconds\n", key, val,
			    e.value.limit, e.value.window_s);
		rc = 0;
	} else {
		printf("%s: no entry; the configured limit applies\n", address);
		rc = 1;
	}
	exempt_free(ex);
	free(path);
	return rc;
}

int
main(int argc, char *argv[])
{
	enum mapdb_type type = MAPDB_HASH;
	bool replace = false, dump = false;
	int ch;

	while ((ch = getopt(argc, argv, "rt:u")) != -1) {
		switch (ch) {
		case 'r': replace = true; break;
		case 'u': dump = true; break;
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

	if (dump)
		return argc == 1 ? cmd_dump(argv[0]) : (usage(), 0);
	if (argc >= 1 && strcmp(argv[0], "add") == 0 && (argc == 3 || argc == 4))
		return cmd_edit(argv[1], argv[2], argc == 4 ? argv[3] : "OK", true);
	if (argc >= 1 && strcmp(argv[0], "delete") == 0 && argc == 3)
		return cmd_edit(argv[1], argv[2], NULL, false);
	if (argc >= 1 && strcmp(argv[0], "test") == 0 && argc == 3)
		return cmd_test(argv[1], argv[2]);
	if (argc == 1 && strcmp(argv[0], "add") != 0 && strcmp(argv[0], "delete") != 0 &&
	    strcmp(argv[0], "test") != 0)
		return cmd_build(argv[0], replace, type);
	usage();
	return EX_USAGE;
}
