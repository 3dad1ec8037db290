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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "control.h"
#include "control_answer.h"
#include "control_proto.h"
#include "log.h"
#include "reload.h"
#include "sockfile.h"


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
	struct control_buf ans;	/* the answer ... */
	size_t outoff;		/* ... and how much of it is written */
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

/* A whole request line has come: answer it (or start a reload). */
static void
serve(struct client *c, size_t len)
{
	struct control_req rq;
	char err[256];

	if (!control_parse(c->in, len, &rq, err, sizeof err)) {
		control_answer_error(&c->ans, err);
		return;
	}
	if (rq.cmd == CONTROL_RELOAD) {
		log_notice("control: reload asked by uid=%ld pid=%ld", (long)c->uid,
		    (long)c->pid);
		c->ticket = reload_request();
		c->st = C_RELOAD;
		c->deadline = clock_now_ms() + CONTROL_RELOAD_MS;
		return;
	}
	control_answer(&c->ans, pol, &rq, c->uid, c->pid);
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
	control_buf_free(&c->ans);
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

/*
 * Does the peer's process hold control_group among its supplementary
 * groups, as the kernel saw them at connect (SO_PEERGROUPS, Linux 4.13)?
 * These are what let it through the socket's 0660 mode: a unit's
 * SupplementaryGroups=, sg or setpriv give them without /etc/group
 * naming the user, which member() alone would refuse.
 */
static bool
peer_groups_have(int fd, gid_t want)
{
	gid_t small[64], *g = small;
	socklen_t len = sizeof small;
	bool found = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) != 0) {
		if (errno != ERANGE || len == 0 || (g = malloc(len)) == NULL)
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) != 0) {
			free(g);
			return false;
		}
	}
	for (size_t i = 0; i < len / sizeof *g; i++)
		if (g[i] == want)
			found = true;
	if (g != small)
		free(g);
	return found;
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
	if (cr.uid != 0 && cr.uid != geteuid() && !member(cr.uid, cr.gid) &&
	    !peer_groups_have(fd, ctl_gid)) {
		log_warnx("control: denied uid=%ld pid=%ld (not root, nor in the "
		    "control group)", (long)cr.uid, (long)cr.pid);
		control_answer_error(&c->ans, "denied");
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
		control_answer_error(&c->ans, "request too long (at most 512 bytes)");
		start_write(c);
	}
}

static void
client_write(struct client *c)
{
	while (c->outoff < c->ans.len) {
		ssize_t n = send(c->fd, c->ans.out + c->outoff, c->ans.len - c->outoff,
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
			control_answer_reload(&c->ans, ok);
			start_write(c);
		} else if (now >= c->deadline) {
			control_answer_error(&c->ans, "reload still running after 30 s; see the log");
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
	/* The default path without its directory (a start outside the
	 * systemd unit, which makes /run/milter-ratelimit): expected, so
	 * an info line, not a warning. */
	if (!named) {
		char dir[sizeof ((struct sockaddr_un *)0)->sun_path];
		const char *slash = strrchr(path, '/');
		struct stat st;

		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
		if (stat(dir, &st) != 0 && errno == ENOENT) {
			log_info("no control socket: %s does not exist (ratelimit-ctl "
			    "needs it, or control_socket set)", dir);
			return 0;
		}
	}
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
