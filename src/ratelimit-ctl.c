/*
 * ratelimit-ctl: ask a running milter-ratelimit (its control socket) why
 * a client is refused, who the heaviest clients are, to forget a client's
 * counts, to reload and wait for the outcome, and for its statistics.
 *
 * Plain aligned text by default, JSON with --json.  Exit status: explain
 * 0 allowed, 1 would be refused, 2 exempt; reload 1 failed (the rules in
 * force stay); 3 the daemon could not be reached or answered out of
 * protocol; 4 the daemon refused the request (ERR: denied, bad request);
 * 64 usage; 78 the config file (-f) is bad.  See ratelimit-ctl(8).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "control_proto.h"

#define PROGNAME "ratelimit-ctl"
#define EXIT_UNREACHABLE 3
#define EXIT_REFUSED_REQ 4
#define ANSWER_MAX (1024 * 1024)
#define IO_TIMEOUT_S 5
#define RELOAD_TIMEOUT_S 35	/* the daemon's own bound is 30 s */
#define RESET_TIMEOUT_S 11	/* with Redis, a DEL of up to redis_timeout_ms (5 s) */

struct field {
	char *name, *value;
};
struct record {
	struct field *f;
	size_t n;
};
struct answer {
	struct record *r;
	size_t n;
};

static void __attribute__((noreturn))
usage(FILE *out, int status)
{
	fprintf(out, "usage: %s [-j] [-p port] [-s socket | -f config [-P pid]] command [argument ...]\n", PROGNAME);
	if (status == 0)
		fprintf(out,
		    "commands:\n"
		    "  explain ADDRESS [HOSTNAME]  key, rule, count, seconds until accepted\n"
		    "  top [N]                     the N heaviest keys (default 10)\n"
		    "  reset ADDRESS [HOSTNAME]    forget every count of a client (all listeners)\n"
		    "  reset PREFIX                forget the counts inside a prefix\n"
		    "  reload                      reload config and map, print the outcome\n"
		    "  stats                       the statistics SIGUSR2 logs\n"
		    "options:\n"
		    "  -f config     read control_socket from this file\n"
		    "  -P pid        reload: when -f's control_socket is \"\" (off),\n"
		    "                check the config and send SIGUSR1 to pid\n"
		    "  -j, --json    JSON output\n"
		    "  -p port       explain: the MTA port the client came in on\n"
		    "                (listener sections)\n"
		    "  -s socket     the control socket (default %s)\n"
		    "  -h, --help    this help;  -V, --version  the version\n"
		    "See ratelimit-ctl(8).\n", CONFIG_CONTROL_SOCKET);
	exit(status);
}

static void
config_error(const char *line)
{
	fprintf(stderr, "%s: %s\n", PROGNAME, line);
}

/*
 * A reload without a control socket (control_socket = ""), for the unit's
 * ExecReload: otherwise `systemctl reload` could never succeed on such a
 * host.  The config has just parsed (config_load: its FILE:LINE errors
 * and EX_CONFIG otherwise), so SIGUSR1 as before the control socket; the
 * map and the daemon's own outcome are only in its log, and we say so.
 */
static void __attribute__((noreturn))
reload_by_signal(const char *path, const char *pidarg)
{
	char *end;
	long pid;

	errno = 0;
	pid = strtol(pidarg, &end, 10);
	if (errno != 0 || end == pidarg || *end != '\0' || pid <= 1) {
		fprintf(stderr, "%s: -P: not a process id: %s\n", PROGNAME, pidarg);
		exit(EX_USAGE);
	}
	if (kill((pid_t)pid, SIGUSR1) != 0) {
		fprintf(stderr, "%s: cannot signal process %ld: %s\n", PROGNAME, pid,
		    strerror(errno));
		exit(EXIT_UNREACHABLE);
	}
	printf("OK signalled: %s parses; SIGUSR1 sent to %ld (control_socket is "
	    "\"\": the map and the outcome are only in the daemon's log)\n", path, pid);
	exit(fflush(stdout) == 0 ? 0 : EXIT_UNREACHABLE);
}

/* The socket named by config file path: its control_socket.  pidarg:
 * -P, for a reload when the socket is off. */
static char *
socket_from_config(const char *path, const char *pidarg, enum control_cmd cmd)
{
	struct config *c = config_load(path, config_error);
	char *s;

	if (c == NULL)
		exit(EX_CONFIG);
	if (c->control_socket == NULL && pidarg != NULL && cmd == CONTROL_RELOAD) {
		config_free(c);
		reload_by_signal(path, pidarg);
	}
	if (c->control_socket == NULL) {
		fprintf(stderr, "%s: %s: control_socket is \"\" (off): the daemon "
		    "has no control socket\n", PROGNAME, path);
		exit(EX_CONFIG);
	}
	if ((s = strdup(c->control_socket)) == NULL) {
		perror(PROGNAME);
		exit(EX_OSERR);
	}
	config_free(c);
	return s;
}

/* Send the request line; read the whole answer (the daemon closes). */
static char *
ask(const char *path, const char *line, int timeout_s, size_t *len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_s };
	size_t cap = 65536, n = 0, l = strlen(line);
	char *buf;
	int fd;

	if (strlen(path) >= sizeof sa.sun_path) {
		fprintf(stderr, "%s: socket path too long: %s\n", PROGNAME, path);
		exit(EXIT_UNREACHABLE);
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		fprintf(stderr, "%s: cannot connect to %s: %s%s\n", PROGNAME, path,
		    strerror(errno), errno == EACCES ? " (root or a member of "
		    "control_group may)" : errno == ENOENT ? " (is milter-ratelimit "
		    "running, with this control_socket?)" : "");
		exit(EXIT_UNREACHABLE);
	}
	for (size_t o = 0; o < l;) {
		ssize_t w = send(fd, line + o, l - o, MSG_NOSIGNAL);

		/* The daemon may have answered (ERR denied) and closed
		 * before reading: its answer is still there to read. */
		if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
			break;
		if (w < 0) {
			fprintf(stderr, "%s: %s: %s\n", PROGNAME, path, strerror(errno));
			exit(EXIT_UNREACHABLE);
		}
		o += (size_t)w;
	}
	if ((buf = malloc(cap + 1)) == NULL) {
		perror(PROGNAME);
		exit(EX_OSERR);
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *p;

			if (cap >= ANSWER_MAX || (p = realloc(buf, cap * 2 + 1)) == NULL) {
				fprintf(stderr, "%s: answer too large\n", PROGNAME);
				exit(EXIT_UNREACHABLE);
			}
			buf = p;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		/* Linux tells a unix socket's peer ECONNRESET, not EOF, when
		 * the daemon closes with our request unread (ERR denied). */
		if (r == 0 || (r < 0 && errno == ECONNRESET && n > 0))
			break;
		if (r < 0) {
			fprintf(stderr, "%s: %s: %s\n", PROGNAME, path,
			    errno == EAGAIN ? "no answer in time" : strerror(errno));
			exit(EXIT_UNREACHABLE);
		}
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void
oom(void)
{
	perror(PROGNAME);
	exit(EX_OSERR);
}

/* "OK", name=value lines, "-" between records, "." at the end. */
static void
parse_answer(char *text, size_t len, struct answer *a)
{
	char *line = text, *nl;
	bool ended = false;

	memset(a, 0, sizeof *a);
	if (memchr(text, '\0', len) != NULL)
		goto bad;
	if (strncmp(text, "ERR ", 4) == 0) {
		if ((nl = strchr(text, '\n')) != NULL)
			*nl = '\0';
		fprintf(stderr, "%s: the daemon refused the request: %s\n", PROGNAME, text + 4);
		exit(EXIT_REFUSED_REQ);
	}
	if (strncmp(text, "OK\n", 3) != 0)
		goto bad;
	line = text + 3;
	while (*line && (nl = strchr(line, '\n')) != NULL) {
		*nl = '\0';
		if (strcmp(line, ".") == 0) {
			ended = true;
			break;
		}
		if (a->n == 0 || strcmp(line, "-") == 0) {
			struct record *r = realloc(a->r, (a->n + 1) * sizeof *r);

			if (r == NULL)
				oom();
			a->r = r;
			memset(&a->r[a->n++], 0, sizeof *r);
		}
		if (strcmp(line, "-") != 0) {
			struct record *r = &a->r[a->n - 1];
			char *eq = strchr(line, '=');
			struct field *f;

			if (eq == NULL)
				goto bad;
			if ((f = realloc(r->f, (r->n + 1) * sizeof *f)) == NULL)
				oom();
			r->f = f;
			*eq = '\0';
			r->f[r->n].name = line;
			r->f[r->n++].value = eq + 1;
		}
		line = nl + 1;
	}
	if (ended)
		return;
bad:
	fprintf(stderr, "%s: the daemon's answer is not in the protocol "
	    "(milter-ratelimit(8), CONTROL SOCKET)\n", PROGNAME);
	exit(EXIT_UNREACHABLE);
}

static void
answer_free(struct answer *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->r[i].f);
	free(a->r);
	memset(a, 0, sizeof *a);
}

static const char *
get(const struct record *r, const char *name)
{
	for (size_t i = 0; r != NULL && i < r->n; i++)
		if (strcmp(r->f[i].name, name) == 0)
			return r->f[i].value;
	return NULL;
}

/* --- JSON ------------------------------------------------------------- */

static void
json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void
json_value(const char *v)
{
	size_t n = strlen(v), d = strspn(v, "0123456789");

	if (n > 0 && n == d && n <= 15 && (v[0] != '0' || n == 1))
		fputs(v, stdout);
	else
		json_string(v);
}

/* A record's members; a name given several times (reload's error lines)
 * becomes an array, as "error" always does. */
static void
json_fields(const struct record *r)
{
	bool first = true;

	for (size_t i = 0; i < r->n; i++) {
		size_t k, same = 0;

		for (k = 0; k < i && strcmp(r->f[k].name, r->f[i].name) != 0; k++)
			;
		if (k < i)
			continue;	/* printed with the first of its name */
		for (k = i; k < r->n; k++)
			same += strcmp(r->f[k].name, r->f[i].name) == 0;
		printf("%s", first ? "" : ",");
		first = false;
		json_string(r->f[i].name);
		putchar(':');
		if (same == 1 && strcmp(r->f[i].name, "error") != 0) {
			json_value(r->f[i].value);
			continue;
		}
		putchar('[');
		for (k = i, same = 0; k < r->n; k++)
			if (strcmp(r->f[k].name, r->f[i].name) == 0) {
				printf("%s", same++ ? "," : "");
				json_value(r->f[k].value);
			}
		putchar(']');
	}
}

static void
json_record(const struct record *r)
{
	putchar('{');
	json_fields(r);
	putchar('}');
}

static void
json_records(const struct answer *a, size_t from)
{
	putchar('[');
	for (size_t i = from; i < a->n; i++) {
		if (i > from)
			putchar(',');
		json_record(&a->r[i]);
	}
	putchar(']');
}

/* --- text ------------------------------------------------------------- */

static void
text_record(const struct record *r)
{
	size_t w = 0;

	for (size_t i = 0; i < r->n; i++)
		if (strlen(r->f[i].name) > w)
			w = strlen(r->f[i].name);
	for (size_t i = 0; i < r->n; i++)
		printf("%-*s  %s\n", (int)w, r->f[i].name, r->f[i].value);
}

/* Is column `name` numbers (right-aligned)? */
static bool
numeric(const char *name)
{
	return strcmp(name, "key") != 0 && strcmp(name, "rule") != 0;
}

static void
cell(size_t c, size_t nc, int width, bool num, const char *v)
{
	if (c == nc - 1 && !num)
		printf("%s%s\n", c ? "  " : "", v);	/* no trailing blanks */
	else
		printf("%s%*s%s", c ? "  " : "", num ? width : -width, v,
		    c == nc - 1 ? "\n" : "");
}

/* Records from..n as a table: one column per name of the first record
 * ("retry_ms" left to --json), "rule" (free text) last, numbers
 * right-aligned, a header of the names in capitals. */
static void
text_table(const struct answer *a, size_t from)
{
	const struct record *h;
	size_t order[16], nc = 0;
	int w[16];

	if (from >= a->n)
		return;
	h = &a->r[from];
	for (size_t i = 0; i < h->n && nc < 15; i++)
		if (strcmp(h->f[i].name, "rule") != 0 && strcmp(h->f[i].name, "retry_ms") != 0)
			order[nc++] = i;
	for (size_t i = 0; i < h->n && nc < 16; i++)
		if (strcmp(h->f[i].name, "rule") == 0)
			order[nc++] = i;
	for (size_t c = 0; c < nc; c++) {
		w[c] = (int)strlen(h->f[order[c]].name);
		for (size_t i = from; i < a->n; i++) {
			const char *v = get(&a->r[i], h->f[order[c]].name);
			if (v && (int)strlen(v) > w[c])
				w[c] = (int)strlen(v);
		}
	}
	for (size_t c = 0; c < nc; c++) {
		const char *name = h->f[order[c]].name;
		char up[32];
		size_t k;

		for (k = 0; k < sizeof up - 1 && name[k]; k++)
			up[k] = (char)(name[k] >= 'a' && name[k] <= 'z' ? name[k] - 32 : name[k]);
		up[k] = '\0';
		cell(c, nc, w[c], numeric(name), up);
	}
	for (size_t i = from; i < a->n; i++)
		for (size_t c = 0; c < nc; c++) {
			const char *name = h->f[order[c]].name, *v = get(&a->r[i], name);

			cell(c, nc, w[c], numeric(name), v ? v : "-");
		}
}

/* --- main ------------------------------------------------------------- */

/* The request line for argv (command and its arguments), checked here
 * first so that a typo gets the usage, not a round trip. */
static void
request_line(int argc, char **argv, const char *port, char *line, size_t len,
    enum control_cmd *cmd)
{
	struct control_req rq;
	char err[256];
	size_t o = 0;

	for (int i = 0; i < argc; i++) {
		int n = snprintf(line + o, len - o, "%s%s", i ? " " : "", argv[i]);

		if (n < 0 || (size_t)n >= len - o) {
			fprintf(stderr, "%s: request too long\n", PROGNAME);
			exit(EX_USAGE);
		}
		o += (size_t)n;
	}
	if (port != NULL) {
		int n = snprintf(line + o, len - o, " port=%s", port);

		if (n < 0 || (size_t)n >= len - o || strcasecmp(argv[0], "explain") != 0) {
			fprintf(stderr, "%s: -p goes with explain\n", PROGNAME);
			exit(EX_USAGE);
		}
		o += (size_t)n;
	}
	if (!control_parse(line, o, &rq, err, sizeof err)) {
		fprintf(stderr, "%s: %s\n", PROGNAME, err);
		usage(stderr, EX_USAGE);
	}
	*cmd = rq.cmd;
	snprintf(line + o, len - o, "\n");
}

int
main(int argc, char *argv[])
{
	const char *sock = NULL, *config = NULL, *port = NULL, *pidarg = NULL, *verdict;
	char line[CONTROL_LINE_MAX + 2], *text;
	enum control_cmd cmd;
	struct answer a;
	bool json = false;
	size_t len;
	int ch, status = 0;
	char *sock_owned = NULL;

	static const struct option longopts[] = {
		{ "help",	no_argument,		NULL,	'h' },
		{ "json",	no_argument,		NULL,	'j' },
		{ "port",	required_argument,	NULL,	'p' },
		{ "version",	no_argument,		NULL,	'V' },
		{ NULL,		0,			NULL,	0 },
	};

	/* "+": options end at the command (an argument may start with '-'
	 * only by mistake, and is then the daemon's to refuse). */
	while ((ch = getopt_long(argc, argv, "+f:hjp:P:s:V", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': config = optarg; break;
		case 'h': usage(stdout, 0);
		case 'j': json = true; break;
		case 'p': port = optarg; break;
		case 'P': pidarg = optarg; break;
		case 's': sock = optarg; break;
		case 'V': printf("%s %s\n", PROGNAME, VERSION); return 0;
		default: usage(stderr, EX_USAGE);
		}
	}
	if (optind == argc)
		usage(stderr, EX_USAGE);
	/* --json after the command, as scripts tend to write it. */
	if (strcmp(argv[argc - 1], "--json") == 0 || strcmp(argv[argc - 1], "-j") == 0) {
		json = true;
		argc--;
	}
	request_line(argc - optind, argv + optind, port, line, sizeof line, &cmd);
	if (sock == NULL && config != NULL)
		sock = sock_owned = socket_from_config(config, pidarg, cmd);
	if (sock == NULL)
		sock = CONFIG_CONTROL_SOCKET;

	text = ask(sock, line, cmd == CONTROL_RELOAD ? RELOAD_TIMEOUT_S :
	    cmd == CONTROL_RESET ? RESET_TIMEOUT_S : IO_TIMEOUT_S, &len);
	parse_answer(text, len, &a);

	if (json) {
		if (cmd == CONTROL_TOP) {
			json_records(&a, 0);
		} else {
			putchar('{');
			if (a.n > 0)
				json_fields(&a.r[0]);
			/* explain: the summary, its keys inside it. */
			if (cmd == CONTROL_EXPLAIN) {
				printf("%s\"keys\":", a.n > 0 && a.r[0].n > 0 ? "," : "");
				json_records(&a, 1);
			}
			putchar('}');
		}
		putchar('\n');
	} else if (cmd == CONTROL_TOP) {
		text_table(&a, 0);
	} else if (cmd == CONTROL_RELOAD) {
		const char *res = a.n ? get(&a.r[0], "result") : NULL;

		if (res != NULL && strcmp(res, "ok") == 0) {
			printf("OK %s\n", get(&a.r[0], "summary") ? get(&a.r[0], "summary") : "");
		} else {
			for (size_t i = 0; a.n && i < a.r[0].n; i++)
				if (strcmp(a.r[0].f[i].name, "error") == 0)
					fprintf(stderr, "%s\n", a.r[0].f[i].value);
			fprintf(stderr, "%s: reload failed; the configuration and map in "
			    "force stay\n", PROGNAME);
		}
	} else if (a.n > 0) {
		text_record(&a.r[0]);
		if (cmd == CONTROL_EXPLAIN && a.n > 1) {
			printf("\n");
			text_table(&a, 1);
		}
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: writing the output: %s\n", PROGNAME, strerror(errno));
		status = EXIT_UNREACHABLE;
	} else if (cmd == CONTROL_RELOAD) {
		const char *res = a.n ? get(&a.r[0], "result") : NULL;

		status = res != NULL && strcmp(res, "ok") == 0 ? 0 : 1;
	} else if (cmd == CONTROL_EXPLAIN) {
		verdict = a.n ? get(&a.r[0], "verdict") : NULL;
		if (verdict == NULL) {
			fprintf(stderr, "%s: the answer has no verdict\n", PROGNAME);
			status = EXIT_UNREACHABLE;
		} else {
			status = strcmp(verdict, "exempt") == 0 ? 2 :
			    strcmp(verdict, "refused") == 0 ? 1 : 0;
		}
	}
	answer_free(&a);
	free(text);
	if (sock_owned != NULL)
		free(sock_owned);
	return status;
}
