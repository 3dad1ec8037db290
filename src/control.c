/*
 * control.c: the control socket's thread (see control.h for the model,
 * control_proto.h for the protocol).
 */
#define _GNU_SOURCE	/* accept4, struct ucred */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "control.h"
#include "control_proto.h"
#include "log.h"
#include "policyctl.h"
#include "reload.h"
#include "report.h"
#include "sockfile.h"
#include "stats.h"

#define ANSWER_MAX (512 * 1024)	/* TOP 1000 fits many times over */

enum client_state { C_FREE, C_READ, C_RELOAD, C_WRITE };

struct client {
	enum client_state st;
	int fd;
	pid_t pid;
	uid_t uid;
	uint64_t deadline;	/* ms: the current bound (read, reload, write) */
	char in[CONTROL_LINE_MAX + 2];	/* the line, its "\r", one byte more */
	size_t inlen;
	uint64_t ticket;	/* C_RELOAD */
	char *out;
	size_t outlen, outoff, outcap;
	bool oom;
};

static struct sockfile sock = { .fd = -1, .dirfd = -1 };
static gid_t ctl_gid;
static struct policy *pol;
static pthread_t thread;
static bool running;
static int wake[2] = { -1, -1 };	/* control_stop writes here */
static struct client clients[CONTROL_CLIENTS];
/* Out of descriptors: the listener stays readable and accept() fails
 * at once; it is left alone until then (ms), not spun on. */
static uint64_t accept_pause_until;

/* --- answers ----------------------------------------------------------- */

static void put(struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Append to c's answer; past ANSWER_MAX or out of memory the answer is
 * replaced by an error (c->oom). */
static void
put(struct client *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(c->out ? c->out + c->outlen : NULL,
		    c->out ? c->outcap - c->outlen : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			c->oom = true;
			return;
		}
		if (c->out != NULL && (size_t)n < c->outcap - c->outlen) {
			c->outlen += (size_t)n;
			return;
		}
		size_t want = c->outcap ? c->outcap * 2 : 4096;
		while (want < c->outlen + (size_t)n + 1)
			want *= 2;
		char *p = want <= ANSWER_MAX ? realloc(c->out, want) : NULL;
		if (p == NULL) {
			c->oom = true;
			return;
		}
		c->out = p;
		c->outcap = want;
	}
}

static void
answer_reset(struct client *c)
{
	c->outlen = c->outoff = 0;
	c->oom = false;
}

static void
error_answer(struct client *c, const char *why)
{
	answer_reset(c);
	put(c, "ERR %s\n", why);
}

static void
key_lines(struct client *c, const struct policyctl_key *k)
{
	put(c, "key=%s\nrule=%s\ncount=%u\nlimit=%u\nwindow=%u\nretry=%u\nretry_ms=%u\n",
	    k->key, k->rule, k->count, k->limit, k->window_s,
	    (k->retry_ms + 999u) / 1000u, k->retry_ms);
}

static void
do_explain(struct client *c, const struct control_req *rq)
{
	struct policy_explain e;
	static const char *const verdicts[] = { "allowed", "refused", "exempt" };

	policy_explain(pol, &rq->addr, rq->has_host ? rq->host : NULL,
	    clock_now_ms(), &e);
	put(c, "OK\nclient=%s\nverdict=%s\nmode=%s\nbackend=%s\n", e.client,
	    verdicts[e.verdict], e.log_mode ? "log" : "enforce", e.backend);
	if (e.entry[0])
		put(c, "entry=%s\n", e.entry);
	if (e.verdict != POLICYCTL_EXEMPT) {
		const struct policyctl_key *k = &e.keys[e.deciding];

		put(c, "key=%s\nrule=%s\ncount=%u\nlimit=%u\nwindow=%u\n",
		    k->key, k->rule, k->count, k->limit, k->window_s);
	}
	put(c, "retry=%u\n", e.retry_s);
	for (size_t i = 0; i < e.nkeys; i++) {
		put(c, "-\n");
		key_lines(c, &e.keys[i]);
	}
	put(c, ".\n");
}

static void
do_top(struct client *c, const struct control_req *rq)
{
	struct policyctl_top *rows = calloc(rq->top_n, sizeof *rows);
	size_t n;

	if (rows == NULL) {
		error_answer(c, "out of memory");
		return;
	}
	n = policy_top(pol, clock_now_ms(), rows, rq->top_n);
	put(c, "OK\n");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			put(c, "-\n");
		key_lines(c, &rows[i].k);
	}
	put(c, ".\n");
	free(rows);
}

static void
do_reset(struct client *c, const struct control_req *rq)
{
	char what[ADDR_STRLEN];
	size_t n;

	if (rq->plen >= 0)
		addr_format_prefix(what, sizeof what, &rq->addr, rq->plen);
	else
		addr_format(what, sizeof what, &rq->addr);
	n = policy_reset(pol, &rq->addr, rq->plen, report_due, NULL);
	log_notice("control: reset %s by uid=%ld pid=%ld: %zu keys forgotten", what,
	    (long)c->uid, (long)c->pid, n);
	put(c, "OK\nreset=%s\nforgotten=%zu\n.\n", what, n);
}

static void
do_stats(struct client *c)
{
	char line[1024], *w, *save = NULL;

	stats_format(pol, clock_now_ms(), line, sizeof line);
	put(c, "OK\n");
	for (w = strtok_r(line, " ", &save); w; w = strtok_r(NULL, " ", &save))
		put(c, "%s\n", w);
	put(c, ".\n");
}

/* The reload asked for by c has finished: its outcome. */
static void
reload_answer(struct client *c, bool ok)
{
	struct reload_status st;
	char *line, *save = NULL;

	reload_status(&st);
	put(c, "OK\nresult=%s\n", ok ? "ok" : "failed");
	if (ok) {
		put(c, "summary=%s\n", st.summary);
	} else {
		for (line = strtok_r(st.error, "\n", &save); line;
		    line = strtok_r(NULL, "\n", &save))
			put(c, "error=%s\n", line);
	}
	put(c, "reloads=%llu\nreload_failures=%llu\n.\n",
	    (unsigned long long)st.ok, (unsigned long long)st.failed);
}

/* A whole request line has come: answer it (or start a reload). */
static void
serve(struct client *c, size_t len)
{
	struct control_req rq;
	char err[256];

	answer_reset(c);
	if (!control_parse(c->in, len, &rq, err, sizeof err)) {
		error_answer(c, err);
		return;
	}
	switch (rq.cmd) {
	case CONTROL_EXPLAIN:
		do_explain(c, &rq);
		break;
	case CONTROL_TOP:
		do_top(c, &rq);
		break;
	case CONTROL_RESET:
		do_reset(c, &rq);
		break;
	case CONTROL_STATS:
		do_stats(c);
		break;
	case CONTROL_RELOAD:
		log_notice("control: reload asked by uid=%ld pid=%ld", (long)c->uid,
		    (long)c->pid);
		c->ticket = reload_request();
		c->st = C_RELOAD;
		c->deadline = clock_now_ms() + CONTROL_RELOAD_MS;
		return;
	}
	if (c->oom)
		error_answer(c, "answer too large or out of memory");
}

/* --- clients -------------------------------------------------------------- */

static void
client_close(struct client *c)
{
	char junk[4096];

	if (c->fd >= 0) {
		/* Unread input makes the close a reset, and Linux then
		 * gives the peer ECONNRESET in place of EOF: take what is
		 * there (bounded, never waiting) first. */
		for (int i = 0; i < 16 && recv(c->fd, junk, sizeof junk, MSG_DONTWAIT) > 0; i++)
			;
		close(c->fd);
	}
	free(c->out);
	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->st = C_FREE;
}

static void
start_write(struct client *c)
{
	c->st = C_WRITE;
	c->deadline = clock_now_ms() + CONTROL_WRITE_MS;
}

/* Is uid (with gid as its process's group) in control_group? */
static bool
member(uid_t uid, gid_t gid)
{
	struct passwd pw, *pr = NULL;
	char buf[4096];
	gid_t groups[256];
	int n = (int)(sizeof groups / sizeof groups[0]);

	if (gid == ctl_gid)
		return true;
	if (getpwuid_r(uid, &pw, buf, sizeof buf, &pr) != 0 || pr == NULL)
		return false;
	if (pw.pw_gid == ctl_gid)
		return true;
	/* More than 256 groups: the first 256 are looked at. */
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
		n = (int)(sizeof groups / sizeof groups[0]);
	for (int i = 0; i < n; i++)
		if (groups[i] == ctl_gid)
			return true;
	return false;
}

static void
client_accept(int lfd)
{
	struct ucred cr;
	socklen_t crlen = sizeof cr;
	struct client *c = NULL;
	int fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			accept_pause_until = clock_now_ms() + 100;
		return;		/* else EAGAIN, or a client gone already */
	}
	for (size_t i = 0; i < CONTROL_CLIENTS; i++)
		if (clients[i].st == C_FREE) {
			c = &clients[i];
			break;
		}
	if (c == NULL) {
		/* Full: one line if the buffer takes it, never a wait. */
		(void)send(fd, "ERR busy\n", 9, MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
		return;
	}
	memset(c, 0, sizeof *c);
	c->fd = fd;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) != 0) {
		log_warn("control: SO_PEERCRED");
		client_close(c);
		return;
	}
	c->uid = cr.uid;
	c->pid = cr.pid;
	if (cr.uid != 0 && cr.uid != geteuid() && !member(cr.uid, cr.gid)) {
		log_warnx("control: denied uid=%ld pid=%ld (not root, nor in the "
		    "control group)", (long)cr.uid, (long)cr.pid);
		error_answer(c, "denied");
		start_write(c);
		return;
	}
	c->st = C_READ;
	c->deadline = clock_now_ms() + CONTROL_READ_MS;
}

static void
client_read(struct client *c)
{
	ssize_t n;
	char *nl;

	n = read(c->fd, c->in + c->inlen, sizeof c->in - c->inlen);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		/* Gone before a whole line (or EOF right after a partial
		 * one): nothing to answer. */
		client_close(c);
		return;
	}
	if (n < 0)
		return;
	c->inlen += (size_t)n;
	if ((nl = memchr(c->in, '\n', c->inlen)) != NULL) {
		serve(c, (size_t)(nl - c->in));
		if (c->st == C_READ)
			start_write(c);
		return;
	}
	if (c->inlen == sizeof c->in) {
		error_answer(c, "request too long (at most 512 bytes)");
		start_write(c);
	}
}

static void
client_write(struct client *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			client_close(c);
			return;
		}
		c->outoff += (size_t)n;
	}
	client_close(c);
}

/* Past its bound: a slow reader gets an error line if it fits, then
 * the close; a slow writer is just closed. */
static void
client_expire(struct client *c, uint64_t now)
{
	bool ok;

	if (c->st == C_RELOAD) {
		if (reload_done(c->ticket, &ok)) {
			reload_answer(c, ok);
			if (c->oom)
				error_answer(c, "out of memory");
			start_write(c);
		} else if (now >= c->deadline) {
			error_answer(c, "reload still running after 30 s; see the log");
			start_write(c);
		}
		return;
	}
	if (now < c->deadline)
		return;
	if (c->st == C_READ)
		(void)send(c->fd, "ERR timeout: no request line within 2 s\n", 40,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
	client_close(c);
}

static void *
control_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd pfd[CONTROL_CLIENTS + 2];
		struct client *who[CONTROL_CLIENTS + 2];
		uint64_t now = clock_now_ms(), next = now + 1000;
		int n = 0, timeout;
		bool reloading = false;

		pfd[n] = (struct pollfd){ .fd = wake[0], .events = POLLIN };
		who[n++] = NULL;
		pfd[n] = (struct pollfd){ .fd = sock.fd,
		    .events = now < accept_pause_until ? 0 : POLLIN };
		who[n++] = NULL;
		if (now < accept_pause_until && accept_pause_until < next)
			next = accept_pause_until;
		for (size_t i = 0; i < CONTROL_CLIENTS; i++) {
			struct client *c = &clients[i];

			if (c->st == C_FREE)
				continue;
			if (c->deadline < next)
				next = c->deadline;
			if (c->st == C_RELOAD) {
				reloading = true;
				continue;
			}
			pfd[n] = (struct pollfd){ .fd = c->fd,
			    .events = c->st == C_READ ? POLLIN : POLLOUT };
			who[n++] = c;
		}
		timeout = next > now ? (int)(next - now) : 0;
		/* A reload's outcome is looked for every 50 ms. */
		if (reloading && timeout > 50)
			timeout = 50;
		if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR) {
			log_warn("control: poll");
			continue;
		}
		if (pfd[0].revents)
			break;
		for (int i = 2; i < n; i++) {
			struct client *c = who[i];

			if (pfd[i].revents == 0 || c->st == C_FREE)
				continue;
			if (c->st == C_READ)
				client_read(c);
			else if (c->st == C_WRITE)
				client_write(c);
		}
		if (pfd[1].revents & POLLIN)
			client_accept(sock.fd);
		now = clock_now_ms();
		for (size_t i = 0; i < CONTROL_CLIENTS; i++)
			if (clients[i].st != C_FREE)
				client_expire(&clients[i], now);
	}
	for (size_t i = 0; i < CONTROL_CLIENTS; i++)
		if (clients[i].st != C_FREE)
			client_close(&clients[i]);
	return NULL;
}

/* --- start and stop --------------------------------------------------- */

int
control_open(const struct config *cfg, const struct privs *pv)
{
	const char *path = cfg->control_socket;
	bool named = cfg->control_socket_line > 0;
	uid_t uid = (uid_t)-1;
	struct stat dirst;
	struct group *gr;
	char err[512];
	gid_t gid;

	if (path == NULL) {
		log_info("control socket off (control_socket = \"\")");
		return 0;
	}
	gid = pv->gid;
	if (cfg->control_group != NULL) {
		if ((gr = getgrnam(cfg->control_group)) == NULL) {
			log_warnx("control_group \"%s\" does not exist", cfg->control_group);
			return 78;	/* EX_CONFIG */
		}
		gid = gr->gr_gid;
	}
	ctl_gid = gid;
	if (geteuid() == 0) {
		uid = 0;
	} else if (gid == getegid()) {
		gid = (gid_t)-1;
	} else if (!privs_member(gid)) {
		snprintf(err, sizeof err, "cannot give control socket %s the group %ld: "
		    "this process is not a member of it", path, (long)gid);
		goto failed;
	}
	switch (sockfile_create(&sock, path, uid, gid, 0660, &dirst, err, sizeof err)) {
	case SOCKFILE_OK:
		for (size_t i = 0; i < CONTROL_CLIENTS; i++)
			clients[i].fd = -1;
		/* The milter's own listening socket came from libmilter's
		 * listen(); this one we accept from, without blocking. */
		if (fcntl(sock.fd, F_SETFL, fcntl(sock.fd, F_GETFL) | O_NONBLOCK) != 0)
			log_warn("control socket: O_NONBLOCK");
		return 0;
	case SOCKFILE_LIVE:
		if (named) {
			log_warnx("control %s", err);
			return 75;	/* EX_TEMPFAIL: another instance */
		}
		break;
	case SOCKFILE_ERROR:
		break;
	}
failed:
	if (named) {
		log_warnx("control_socket %s: %s", path, err);
		return 71;	/* EX_OSERR */
	}
	/* The default path: the milter matters more than its control. */
	log_warnx("control socket %s: %s; running without it (ratelimit-ctl cannot "
	    "reach this daemon; set control_socket)", path, err);
	return 0;
}

bool
control_start(struct policy *p)
{
	int e;

	if (sock.fd < 0)
		return true;
	pol = p;
	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		log_warn("control: pipe");
		return false;
	}
	if ((e = pthread_create(&thread, NULL, control_main, NULL)) != 0) {
		errno = e;
		log_warn("cannot start the control socket's thread");
		return false;
	}
	running = true;
	return true;
}

void
control_stop(void)
{
	if (running) {
		if (write(wake[1], "x", 1) < 0)
			log_warn("control: wake");
		pthread_join(thread, NULL);
		running = false;
	}
	if (sock.fd >= 0) {
		int fd = sock.fd;

		sockfile_remove(&sock);	/* leaves the descriptor */
		close(fd);
	}
}
