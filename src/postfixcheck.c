/*
 * postfixcheck.c: warn when the local Postfix cannot reach our socket.
 *
 * Two mistakes leave a Postfix host unprotected without any error: smtpd
 * runs chrooted in the queue directory (Debian's master.cf) while the
 * socket lives outside it, or smtpd_milters names a path that is not this
 * socket as smtpd sees it (inside the chroot, "unix:/x/y.sock" means
 * QUEUE_DIR/x/y.sock; a relative path is relative to the queue directory,
 * where every Postfix daemon works, chrooted or not).  We ask postconf,
 * the one tool that reads master.cf and main.cf as Postfix does, and
 * compare.  It runs without a shell, its output is bounded in size and
 * time, and if it is not on PATH we say nothing.
 */
#define _GNU_SOURCE	/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "postfixcheck.h"
#include "sockspec.h"

extern char **environ;

#define LINE_MAX_WARN 4096

/* --- paths ------------------------------------------------------------------ */

/*
 * Lexical clean-up of an absolute path into out: "//", "/./" and "x/.."
 * go, no trailing '/'.  Returns false when it does not fit or is relative.
 */
static bool
norm_path(const char *in, char *out, size_t outlen)
{
	size_t len = 0;
	const char *p = in;

	if (in[0] != '/' || outlen < 2)
		return false;
	while (*p) {
		const char *seg;
		size_t n;

		while (*p == '/')
			p++;
		seg = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - seg);
		if (n == 0 || (n == 1 && seg[0] == '.'))
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			while (len > 0 && out[len] != '/')
				len--;
			continue;
		}
		if (len + 1 + n >= outlen)
			return false;
		out[len++] = '/';
		memcpy(out + len, seg, n);
		len += n;
		out[len] = '\0';
	}
	if (len == 0)
		out[len++] = '/';
	out[len] = '\0';
	return true;
}

/* dir + "/" + rel, cleaned up. */
static bool
join_path(const char *dir, const char *rel, char *out, size_t outlen)
{
	char tmp[PATH_MAX * 2];

	if ((size_t)snprintf(tmp, sizeof tmp, "%s/%s", dir, rel) >= sizeof tmp)
		return false;
	return norm_path(tmp, out, outlen);
}

/* Is path inside dir (or dir itself)?  Both already clean. */
static bool
path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/*
 * The path as the kernel resolves it: symlinks in its directory followed
 * when that directory exists (the socket itself may not exist yet), else
 * only cleaned up.
 */
static bool
canonical(const char *path, char *out, size_t outlen)
{
	char clean[PATH_MAX], dir[PATH_MAX], real[PATH_MAX];
	char *slash;

	if (!norm_path(path, clean, sizeof clean))
		return false;
	memcpy(dir, clean, sizeof dir);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		goto plain;
	*slash = '\0';
	if (realpath(dir, real) == NULL)
		goto plain;
	return join_path(real, slash + 1, out, outlen);
plain:
	if (strlen(clean) >= outlen)
		return false;
	memcpy(out, clean, strlen(clean) + 1);
	return true;
}

/* --- what postconf prints ---------------------------------------------------- */

/*
 * The next milter of an smtpd_milters list into spec: entries are
 * separated by commas or white space; "{ spec, name=value ... }" carries
 * per-milter settings, and only its first word is the milter.  Returns
 * false at the end of the list.
 */
static bool
next_milter(const char **pp, char *spec, size_t speclen)
{
	const char *p = *pp, *s, *end;
	size_t n;

	p += strspn(p, ", \t\r\n");
	if (*p == '\0')
		return false;
	if (*p == '{') {
		const char *close = strchr(p, '}');

		end = close ? close : p + strlen(p);
		s = p + 1;
		s += strspn(s, ", \t\r\n");
		n = strcspn(s, ", \t\r\n}");
		if (s + n > end)
			n = (size_t)(end - s);
		*pp = close ? close + 1 : end;
	} else {
		s = p;
		n = strcspn(s, ", \t\r\n");
		*pp = s + n;
	}
	if (n >= speclen)
		n = speclen - 1;
	memcpy(spec, s, n);
	spec[n] = '\0';
	return true;
}

/*
 * Where smtpd opens the milter spec (a "unix:" one), as a clean host path:
 * a relative path is relative to the queue directory; an absolute one is
 * inside it when smtpd is chrooted.
 */
static bool
milter_host_path(const char *spec, bool chrooted, const char *queue_dir,
    char *out, size_t outlen)
{
	const char *path;

	if (strncmp(spec, "unix:", 5) != 0)
		return false;
	path = spec + 5;
	if (*path == '\0')
		return false;
	if (path[0] != '/' || chrooted)
		return join_path(queue_dir, path, out, outlen);
	return norm_path(path, out, outlen);
}

/* Does one of the list's milters reach socket_path for this smtpd? */
static bool
milters_reach(const char *list, bool chrooted, const char *queue_dir,
    const char *socket_path)
{
	char spec[PATH_MAX + 16], host[PATH_MAX];
	const char *p = list;

	while (next_milter(&p, spec, sizeof spec))
		if (milter_host_path(spec, chrooted, queue_dir, host, sizeof host) &&
		    strcmp(host, socket_path) == 0)
			return true;
	return false;
}

/* One master.cf service, as postconf -M prints it. */
struct service {
	char name[520];		/* "smtp/inet" */
	bool chrooted;
	bool smtpd;		/* its command is smtpd */
};

/*
 * Fields of a postconf -M line: service type private unpriv chroot wakeup
 * maxproc command [args].  Chroot "y" only: "-" means "n" since Postfix 3.0.
 */
static bool
parse_service(const char *line, struct service *sv)
{
	char f[8][256];
	const char *p = line;
	int i;

	for (i = 0; i < 8; i++) {
		size_t n;

		p += strspn(p, " \t");
		n = strcspn(p, " \t\r\n");
		if (n == 0 || n >= sizeof f[i])
			return false;
		memcpy(f[i], p, n);
		f[i][n] = '\0';
		p += n;
	}
	snprintf(sv->name, sizeof sv->name, "%s/%s", f[0], f[1]);
	sv->chrooted = strcmp(f[4], "y") == 0;
	/* The command may be given as a path; its last component counts. */
	{
		const char *cmd = strrchr(f[7], '/');

		sv->smtpd = strcmp(cmd ? cmd + 1 : f[7], "smtpd") == 0 &&
		    (strcmp(f[1], "inet") == 0 || strcmp(f[1], "pass") == 0 ||
		     strcmp(f[1], "unix") == 0);
	}
	return true;
}

/*
 * The -o smtpd_milters= of a service from postconf -Px output, into *val
 * (a pointer into overrides, len bytes).  Returns false when it has none.
 */
static bool
find_override(const char *overrides, const char *service, const char **val,
    size_t *len)
{
	char key[300];
	size_t klen;
	const char *p = overrides;

	klen = (size_t)snprintf(key, sizeof key, "%s/smtpd_milters =", service);
	if (klen >= sizeof key)
		return false;
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);

		if (n >= klen && strncmp(p, key, klen) == 0) {
			*val = p + klen;
			*len = n - klen;
			while (*len > 0 && (**val == ' ' || **val == '\t')) {
				(*val)++;
				(*len)--;
			}
			return true;
		}
		p = eol ? eol + 1 : NULL;
	}
	return false;
}

/* How smtpd should name the socket, for the fix we suggest. */
static void
suggested_milter(const char *socket_path, bool chrooted, const char *queue_dir,
    char *out, size_t outlen)
{
	size_t n = strlen(queue_dir);

	if (chrooted && path_under(socket_path, queue_dir) &&
	    strcmp(queue_dir, "/") != 0)
		snprintf(out, outlen, "unix:%s", socket_path + n);
	else
		snprintf(out, outlen, "unix:%s", socket_path);
}

/* The next line of text into buf (cut to size); false at the end. */
static bool
next_line(const char **pp, char *buf, size_t buflen)
{
	const char *p = *pp, *eol;
	size_t n;

	if (p == NULL || *p == '\0')
		return false;
	eol = strchr(p, '\n');
	n = eol ? (size_t)(eol - p) : strlen(p);
	*pp = eol ? eol + 1 : p + n;
	if (n >= buflen)
		n = buflen - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return true;
}

int
postfixcheck_analyze(const char *socket_path, const char *queue_dir,
    const char *main_milters, const char *master, const char *overrides,
    postfixcheck_warn_fn *warn)
{
	char line[LINE_MAX_WARN], chrooted_names[512] = "", one[1024];
	char fix[PATH_MAX + 8], list[2048];
	const char *p;
	struct service sv;
	int warnings = 0;

	/* 1. A chrooted smtpd cannot see a socket outside its chroot. */
	for (p = master; next_line(&p, one, sizeof one);) {
		if (!parse_service(one, &sv) || !sv.smtpd || !sv.chrooted ||
		    path_under(socket_path, queue_dir))
			continue;
		if (strlen(chrooted_names) + strlen(sv.name) + 3 >= sizeof chrooted_names)
			continue;
		if (*chrooted_names)
			strcat(chrooted_names, ", ");
		strcat(chrooted_names, sv.name);
	}
	if (*chrooted_names) {
		snprintf(line, sizeof line,
		    "Postfix: smtpd (master.cf %.500s) runs chrooted in %.600s and cannot "
		    "reach the milter socket %.600s: mail passes unfiltered. Fix: put the "
		    "socket inside the spool: socket = \"unix:%.600s/milter-ratelimit/"
		    "milter-ratelimit.sock\" in the milter's config, smtpd_milters = "
		    "unix:/milter-ratelimit/milter-ratelimit.sock in main.cf, then "
		    "restart the milter and run postfix reload",
		    chrooted_names, queue_dir, socket_path,
		    strcmp(queue_dir, "/") == 0 ? "" : queue_dir);
		warn(line);
		warnings++;
	}

	/*
	 * 2. Each smtpd must name this socket as it sees it, in main.cf or in
	 * its own -o smtpd_milters.  An override set to nothing is a choice
	 * (a re-injection port, say), not a mistake.  A chrooted smtpd that
	 * cannot see the socket at all was reported above.
	 */
	for (p = master; next_line(&p, one, sizeof one);) {
		const char *from = "main.cf", *ov;
		size_t ovlen;

		if (!parse_service(one, &sv) || !sv.smtpd)
			continue;
		if (sv.chrooted && !path_under(socket_path, queue_dir))
			continue;
		if (find_override(overrides, sv.name, &ov, &ovlen)) {
			if (ovlen == 0)
				continue;
			if (ovlen >= sizeof list)
				ovlen = sizeof list - 1;
			memcpy(list, ov, ovlen);
			list[ovlen] = '\0';
			from = "its master.cf -o";
		} else {
			snprintf(list, sizeof list, "%s", main_milters);
		}
		if (milters_reach(list, sv.chrooted, queue_dir, socket_path))
			continue;
		suggested_milter(socket_path, sv.chrooted, queue_dir, fix, sizeof fix);
		snprintf(line, sizeof line,
		    "Postfix: smtpd_milters for master.cf %.300s (from %s: \"%.600s\") "
		    "names no path that reaches the milter socket %.600s%s%.600s: Postfix "
		    "does not consult this milter. Fix: smtpd_milters = %.600s, then "
		    "postfix reload",
		    sv.name, from, list, socket_path,
		    sv.chrooted ? ", seen from smtpd's chroot " : "",
		    sv.chrooted ? queue_dir : "", fix);
		warn(line);
		warnings++;
	}
	return warnings;
}

/* --- running postconf -------------------------------------------------------- */

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Append what fd has to *buf (bounded); false at EOF or error. */
static bool
drain(int fd, char **buf, size_t *len, size_t cap)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof chunk);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	if (*len + (size_t)n > cap)
		n = (ssize_t)(cap - *len);	/* the rest is dropped */
	if (n > 0) {
		char *nb = realloc(*buf, *len + (size_t)n + 1);

		if (nb == NULL)
			return false;
		*buf = nb;
		memcpy(*buf + *len, chunk, (size_t)n);
		*len += (size_t)n;
		(*buf)[*len] = '\0';
	}
	return true;
}

enum postconf_result { PC_OK, PC_ABSENT, PC_FAILED };

/*
 * Run postconf with args (no shell; found on PATH; environment passed on,
 * so MAIL_CONFIG is honoured), its stdin /dev/null.  On PC_OK *out holds
 * its stdout (NUL-terminated, caller frees).  On PC_FAILED, why says why.
 * Bounded by POSTFIXCHECK_TIMEOUT_MS: a postconf that hangs is killed.
 */
static enum postconf_result
run_postconf(char *const args[], char **out, char *why, size_t whylen)
{
	int opipe[2] = { -1, -1 }, epipe[2] = { -1, -1 }, status, rc;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	char *obuf = NULL, *ebuf = NULL;
	size_t olen = 0, elen = 0;
	bool oopen = true, eopen = true, timed_out = false;
	long deadline = now_ms() + POSTFIXCHECK_TIMEOUT_MS;
	pid_t pid;

	*out = NULL;
	if (pipe2(opipe, O_CLOEXEC) != 0 || pipe2(epipe, O_CLOEXEC) != 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		if (opipe[0] >= 0) {
			close(opipe[0]);
			close(opipe[1]);
		}
		return PC_FAILED;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, opipe[1], 1);
	posix_spawn_file_actions_adddup2(&fa, epipe[1], 2);
	/* Its own process group: a timeout kills whatever it started too. */
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&attr, 0);
	rc = posix_spawnp(&pid, "postconf", &fa, &attr, args, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(opipe[1]);
	close(epipe[1]);
	if (rc != 0) {
		close(opipe[0]);
		close(epipe[0]);
		if (rc == ENOENT)
			return PC_ABSENT;
		snprintf(why, whylen, "cannot run postconf: %s", strerror(rc));
		return PC_FAILED;
	}
	while (oopen || eopen) {
		struct pollfd pf[2] = {
			{ .fd = oopen ? opipe[0] : -1, .events = POLLIN },
			{ .fd = eopen ? epipe[0] : -1, .events = POLLIN },
		};
		long left = deadline - now_ms();

		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (poll(pf, 2, (int)left) < 0 && errno != EINTR)
			break;
		if (oopen && (pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
			oopen = drain(opipe[0], &obuf, &olen, POSTFIXCHECK_MAX_OUTPUT);
		if (eopen && (pf[1].revents & (POLLIN | POLLHUP | POLLERR)))
			eopen = drain(epipe[0], &ebuf, &elen, 4096);
	}
	close(opipe[0]);
	close(epipe[0]);
	if (timed_out || oopen || eopen)
		kill(-pid, SIGKILL);
	/* A postconf that closed its pipes may still not exit: the bound
	 * holds for the wait too (a review found a 30 s wait per call). */
	for (;;) {
		pid_t w = waitpid(pid, &status, timed_out ? 0 : WNOHANG);

		if (w == pid || (w < 0 && errno != EINTR))
			break;
		if (w == 0 && now_ms() >= deadline) {
			timed_out = true;
			kill(-pid, SIGKILL);
			continue;
		}
		if (w == 0) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	if (timed_out) {
		snprintf(why, whylen, "postconf %s%s%s did not finish within %d ms",
		    args[1], args[2] ? " " : "", args[2] ? args[2] : "",
		    POSTFIXCHECK_TIMEOUT_MS);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* postconf's first line of complaint, if any. */
		size_t n = ebuf ? strcspn(ebuf, "\n") : 0;

		snprintf(why, whylen, "postconf %s%s%s failed (%s %d)%s%.*s", args[1],
		    args[2] ? " " : "", args[2] ? args[2] : "",
		    WIFEXITED(status) ? "exit" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
		    n ? ": " : "", (int)(n > 300 ? 300 : n), ebuf ? ebuf : "");
	} else {
		free(ebuf);
		*out = obuf ? obuf : strdup("");
		return *out ? PC_OK : PC_FAILED;
	}
	free(ebuf);
	free(obuf);
	return PC_FAILED;
}

/* The value of a "postconf -xh NAME" run, without its newline. */
static void
chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

int
postfixcheck_run(const char *socket_spec, postfixcheck_warn_fn *warn)
{
	static char *const q_args[] = { "postconf", "-xh", "queue_directory", NULL };
	static char *const m_args[] = { "postconf", "-xh", "smtpd_milters", NULL };
	static char *const master_args[] = { "postconf", "-M", NULL };
	static char *const over_args[] = { "postconf", "-Px", NULL };
	char *qd = NULL, *milters = NULL, *master = NULL, *over = NULL;
	char why[512], line[LINE_MAX_WARN], sock[PATH_MAX], queue[PATH_MAX];
	const char *path = sockspec_unix_path(socket_spec);	/* any unix form */
	enum postconf_result r;
	int warnings = 0;

	/* Postfix names inet milters by host and port: nothing to compare. */
	if (path == NULL || path[0] != '/')
		return 0;
	r = run_postconf(q_args, &qd, why, sizeof why);
	if (r == PC_ABSENT)
		return 0;	/* no Postfix here */
	if (r == PC_OK)
		r = run_postconf(m_args, &milters, why, sizeof why);
	if (r == PC_OK)
		r = run_postconf(master_args, &master, why, sizeof why);
	if (r == PC_OK)
		r = run_postconf(over_args, &over, why, sizeof why);
	if (r != PC_OK) {
		snprintf(line, sizeof line, "Postfix: cannot check whether Postfix "
		    "reaches the milter: %s", why);
		warn(line);
		warnings++;
		goto out;
	}
	chomp(qd);
	chomp(milters);
	if (qd[0] != '/' || !canonical(path, sock, sizeof sock) ||
	    (realpath(qd, queue) == NULL && !norm_path(qd, queue, sizeof queue)))
		goto out;
	warnings = postfixcheck_analyze(sock, queue, milters, master, over, warn);
out:
	free(qd);
	free(milters);
	free(master);
	free(over);
	return warnings;
}

void
postfixcheck_log(const char *line)
{
	log_warnx("%s", line);
}
