/*
 * mapsource.c: edit the map's source text line by line, atomically.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mapsource.h"
#include "safefile.h"

bool
mapsource_path(const char *map_path, char *out, size_t outlen)
{
	size_t n = strlen(map_path);

	if (n < 4 || strcmp(map_path + n - 3, ".db") != 0 || n - 3 >= outlen)
		return false;
	memcpy(out, map_path, n - 3);
	out[n - 3] = '\0';
	return true;
}

/* Does this source line carry e's key?  Comments, blank and invalid
 * lines never do (the caller has validated the file). */
static bool
carries(const char *line, const struct map_entry *e)
{
	struct map_entry x;
	char err[300];
	bool same;

	if (mapentry_parse_line(line, &x, err, sizeof err) != 1)
		return false;
	same = mapentry_same_key(&x, e);
	mapentry_free(&x);
	return same;
}

/* Copy in to out with the edit applied.  Returns the lines that carried
 * the key, or -1 on a read or write error. */
static int
rewrite(FILE *in, FILE *out, const struct map_entry *e, bool add,
    const char *newline)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int hits = 0;
	bool ends_in_nl = true;

	while ((len = getline(&line, &cap, in)) > 0) {
		ends_in_nl = line[len - 1] == '\n';
		if (carries(line, e)) {
			if (add && hits == 0 && fputs(newline, out) == EOF)
				hits = -1;
			if (hits >= 0)
				hits++;
			continue;
		}
		if (fwrite(line, 1, (size_t)len, out) != (size_t)len)
			hits = -1;
		if (hits < 0)
			break;
	}
	if (hits >= 0 && ferror(in))
		hits = -1;
	if (hits == 0 && add) {
		if ((!ends_in_nl && fputc('\n', out) == EOF) || fputs(newline, out) == EOF)
			hits = -1;
	}
	free(line);
	return hits;
}

/* The rename is durable once the directory is flushed (best effort: the
 * edit itself is already in place). */
static void
sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd;

	if (copy == NULL)
		return;
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(copy);
}

int
mapsource_edit(const char *path, const struct map_entry *e, bool add,
    char *err, size_t errlen)
{
	char real[PATH_MAX], tmp[PATH_MAX + 16];
	char newline[MAPENTRY_KEY_STRLEN + MAPENTRY_VALUE_STRLEN + 4];
	char key[MAPENTRY_KEY_STRLEN], val[MAPENTRY_VALUE_STRLEN];
	FILE *in = NULL, *out = NULL;
	struct stat st;
	int fd = -1, hits;
	bool made = false;

	/* A symlinked source is edited where it lives, and only where nobody
	 * else can swap it while it is looked up by name below. */
	{
		char *r = safefile_resolve_trusted(path, err, errlen);
		if (r == NULL)
			return -1;
		snprintf(real, sizeof real, "%s", r);
		free(r);
	}
	if (stat(real, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	mapentry_format_key(key, sizeof key, e);
	mapentry_format_value(val, sizeof val, &e->value);
	snprintf(newline, sizeof newline, "%s\t%s\n", key, val);
	if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", real) >= (int)sizeof tmp) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if ((in = fopen(real, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((fd = mkstemp(tmp)) >= 0)
		made = true;
	if (fd < 0 ||
	    fchmod(fd, st.st_mode & 07777) != 0 ||
	    (fchown(fd, st.st_uid, st.st_gid) != 0 && geteuid() == 0) ||
	    (out = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: cannot write a temporary copy: %s", tmp,
		    strerror(errno));
		goto fail;
	}
	fd = -1;	/* out owns it */
	if ((hits = rewrite(in, out, e, add, newline)) < 0 || fflush(out) != 0 ||
	    fsync(fileno(out)) != 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno ? errno : EIO));
		goto fail;
	}
	fclose(in);
	in = NULL;
	if (fclose(out) != 0) {
		out = NULL;
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	out = NULL;
	if (rename(tmp, real) != 0) {
		snprintf(err, errlen, "%s: cannot replace: %s", real, strerror(errno));
		goto fail;
	}
	sync_dir(real);
	return hits;
fail:
	if (in)
		fclose(in);
	if (out)
		fclose(out);
	if (fd >= 0)
		close(fd);
	if (made)
		unlink(tmp);
	return -1;
}
