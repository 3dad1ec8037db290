/* redis_conn.c: a Redis connection per worker thread (redis_conn.h). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis.h>

#include "clock.h"
#include "redis_conn.h"

/* A copy of the settings, so that a thread connects with values nobody
 * frees under it. */
struct redis_settings {
	bool enabled;
	struct redis_addr addr;
	char user[REDIS_SECRET_MAX + 1];	/* "" : the default user */
	char password[REDIS_SECRET_MAX + 1];	/* "" : no AUTH */
	uint32_t db;
	uint32_t timeout_ms;
	char prefix[REDIS_PREFIX_MAX + 1];
};

static pthread_mutex_t settings_lock = PTHREAD_MUTEX_INITIALIZER;	/* guards settings */
static struct redis_settings settings;
static atomic_uint_fast64_t generation = 1;	/* bumped on each change */
static atomic_bool enabled;

/* One thread's connection; only that thread touches it. */
struct tconn {
	redisContext *c;
	uint64_t gen;			/* settings generation of c and s */
	struct redis_settings s;
	char sha[41];			/* the script's SHA1, as the server said */
};

static pthread_key_t tkey;
static pthread_once_t tonce = PTHREAD_ONCE_INIT;

static void
tconn_free(void *p)
{
	struct tconn *t = p;

	if (t == NULL)
		return;
	if (t->c != NULL)
		redisFree(t->c);
	explicit_bzero(t->s.password, sizeof t->s.password);
	free(t);
}

static void
tkey_make(void)
{
	if (pthread_key_create(&tkey, tconn_free) != 0)
		abort();
}

bool
redis_conn_configure(const struct config *c)
{
	struct redis_settings n;
	bool changed;

	memset(&n, 0, sizeof n);
	if (c != NULL && c->redis != NULL) {
		n.enabled = true;
		n.addr = c->redis_addr;
		if (c->redis_user != NULL)
			snprintf(n.user, sizeof n.user, "%s", c->redis_user);
		if (c->redis_password != NULL)
			snprintf(n.password, sizeof n.password, "%s", c->redis_password);
		n.db = c->redis_db;
		n.timeout_ms = c->redis_timeout_ms;
		snprintf(n.prefix, sizeof n.prefix, "%s", c->redis_key_prefix);
	}
	pthread_mutex_lock(&settings_lock);
	changed = memcmp(&n, &settings, sizeof n) != 0;
	if (changed) {
		settings = n;
		atomic_fetch_add(&generation, 1);
		atomic_store(&enabled, n.enabled);
	}
	pthread_mutex_unlock(&settings_lock);
	explicit_bzero(&n, sizeof n);
	return changed;
}

bool
redis_conn_enabled(void)
{
	return atomic_load_explicit(&enabled, memory_order_relaxed);
}

static void
drop(struct tconn *t)
{
	if (t->c != NULL)
		redisFree(t->c);
	t->c = NULL;
	t->sha[0] = '\0';
}

/* Milliseconds left until deadline, 0 when none. */
static uint64_t
left(uint64_t deadline)
{
	uint64_t now = clock_now_ms();

	return now < deadline ? deadline - now : 0;
}

static struct timeval
tv_ms(uint64_t ms)
{
	struct timeval tv = { .tv_sec = (time_t)(ms / 1000),
	    .tv_usec = (suseconds_t)(ms % 1000) * 1000 };

	return tv;
}

/* A failed context's error as a reason (and its text in detail). */
static enum redis_reason
ctx_reason(const redisContext *c, bool connecting, char *detail, size_t dlen)
{
	int e = errno;

	snprintf(detail, dlen, "%s", c->errstr);
	if (c->err == REDIS_ERR_EOF)
		return REDIS_R_EOF;
	if (c->err == REDIS_ERR_IO) {
		if (e == EAGAIN || e == EWOULDBLOCK || e == ETIMEDOUT || e == EINPROGRESS ||
		    strstr(c->errstr, "timed out") != NULL ||
		    strstr(c->errstr, "temporarily unavailable") != NULL)
			return REDIS_R_TIMEOUT;
		if (e == ECONNRESET || e == EPIPE)
			return REDIS_R_EOF;
		return connecting ? REDIS_R_CONNECT : REDIS_R_OTHER;
	}
	if (c->err == REDIS_ERR_PROTOCOL)
		return REDIS_R_WRONGTYPE;
	return connecting ? REDIS_R_CONNECT : REDIS_R_OTHER;
}

/* An error reply as a reason, by its code (the first word). */
static enum redis_reason
err_reason(const char *s, char *detail, size_t dlen)
{
	static const struct { const char *code; enum redis_reason r; } codes[] = {
		{ "NOAUTH", REDIS_R_AUTH }, { "WRONGPASS", REDIS_R_AUTH },
		{ "NOPERM", REDIS_R_AUTH },
		{ "OOM", REDIS_R_OOM }, { "READONLY", REDIS_R_READONLY },
		{ "BUSY", REDIS_R_BUSY }, { "LOADING", REDIS_R_LOADING },
		{ "MASTERDOWN", REDIS_R_MASTERDOWN }, { "NOSCRIPT", REDIS_R_NOSCRIPT },
		{ "WRONGTYPE", REDIS_R_WRONGTYPE },
	};
	size_t i, w = strcspn(s, " ");

	/* Only the code and a little of the text: a reply is the server's
	 * word, but it goes into our log. */
	snprintf(detail, dlen, "%.60s", s);
	for (char *p = detail; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	for (i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (strlen(codes[i].code) == w && strncmp(s, codes[i].code, w) == 0)
			return codes[i].r;
	return REDIS_R_OTHER;
}

/* What is left of the deadline as the socket's timeout for the next
 * read() or write(); false with *why set when nothing is left. */
static bool
step_timeout(struct tconn *t, uint64_t deadline, enum redis_reason *why,
    char *detail, size_t dlen)
{
	uint64_t ms = left(deadline);

	if (ms == 0) {
		*why = REDIS_R_TIMEOUT;
		snprintf(detail, dlen, "no time left of redis_timeout_ms");
		return false;
	}
	if (redisSetTimeout(t->c, tv_ms(ms)) != REDIS_OK) {
		*why = ctx_reason(t->c, false, detail, dlen);
		return false;
	}
	return true;
}

/*
 * One command within the deadline.  Returns the reply (freed by the
 * caller), or NULL with *why set: a context error (the context must go)
 * or an error reply (the context is still in step, but the caller drops
 * it all the same).  hiredis's socket timeout bounds each read() and
 * write(), not a command: a peer sending its reply a byte at a time
 * would hold redisCommandArgv() for ever.  So the command is written and
 * its reply read here, step by step, each step given only what is left.
 */
static redisReply *
command(struct tconn *t, uint64_t deadline, int argc, const char **argv,
    const size_t *argvlen, enum redis_reason *why, char *detail, size_t dlen)
{
	redisReply *r;
	void *reply = NULL;
	int done = 0;

	if (!step_timeout(t, deadline, why, detail, dlen))
		return NULL;
	if (redisAppendCommandArgv(t->c, argc, argv, argvlen) != REDIS_OK) {
		*why = ctx_reason(t->c, false, detail, dlen);
		return NULL;
	}
	/* The timeout just set covers the first write and the first read:
	 * the usual call costs no more system calls than before. */
	for (bool first = true; !done; first = false) {
		if (!first && !step_timeout(t, deadline, why, detail, dlen))
			return NULL;
		errno = 0;
		if (redisBufferWrite(t->c, &done) != REDIS_OK) {
			*why = ctx_reason(t->c, false, detail, dlen);
			return NULL;
		}
	}
	for (bool first = true;; first = false) {
		if (redisGetReplyFromReader(t->c, &reply) != REDIS_OK) {
			*why = ctx_reason(t->c, false, detail, dlen);
			return NULL;
		}
		if (reply != NULL)
			break;
		if (!first && !step_timeout(t, deadline, why, detail, dlen))
			return NULL;
		errno = 0;
		if (redisBufferRead(t->c) != REDIS_OK) {
			*why = ctx_reason(t->c, false, detail, dlen);
			return NULL;
		}
	}
	r = reply;
	if (r->type == REDIS_REPLY_ERROR) {
		*why = err_reason(r->str != NULL ? r->str : "", detail, dlen);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* SCRIPT LOAD: the server's SHA1 into t->sha. */
static bool
load_script(struct tconn *t, uint64_t deadline, enum redis_reason *why,
    char *detail, size_t dlen)
{
	const char *argv[] = { "SCRIPT", "LOAD", redis_window_script };
	size_t len[] = { 6, 4, strlen(redis_window_script) };
	redisReply *r = command(t, deadline, 3, argv, len, why, detail, dlen);

	if (r == NULL)
		return false;
	if (r->type != REDIS_REPLY_STRING || r->len != 40) {
		freeReplyObject(r);
		*why = REDIS_R_WRONGTYPE;
		snprintf(detail, dlen, "SCRIPT LOAD: not a SHA1");
		return false;
	}
	memcpy(t->sha, r->str, 40);
	t->sha[40] = '\0';
	freeReplyObject(r);
	return true;
}

/* Connect, AUTH, SELECT, SCRIPT LOAD, all before deadline. */
static bool
connect_redis(struct tconn *t, uint64_t deadline, enum redis_reason *why,
    char *detail, size_t dlen)
{
	const struct redis_settings *s = &t->s;
	uint64_t ms = left(deadline);
	redisReply *r;
	char db[16];

	if (ms == 0) {
		*why = REDIS_R_TIMEOUT;
		snprintf(detail, dlen, "no time left to connect");
		return false;
	}
	errno = 0;
	t->c = s->addr.is_unix ?
	    redisConnectUnixWithTimeout(s->addr.path, tv_ms(ms)) :
	    redisConnectWithTimeout(s->addr.host, s->addr.port, tv_ms(ms));
	if (t->c == NULL) {
		*why = REDIS_R_CONNECT;
		snprintf(detail, dlen, "out of memory");
		return false;
	}
	if (t->c->err) {
		*why = ctx_reason(t->c, true, detail, dlen);
		return false;
	}
	if (s->password[0] != '\0') {
		const char *av[] = { "AUTH", s->user, s->password };
		size_t al[] = { 4, strlen(s->user), strlen(s->password) };

		if (s->user[0] != '\0')
			r = command(t, deadline, 3, av, al, why, detail, dlen);
		else {
			av[1] = s->password;
			al[1] = al[2];
			r = command(t, deadline, 2, av, al, why, detail, dlen);
		}
		if (r == NULL) {
			/* An error reply to AUTH may quote its arguments
			 * ("unknown command 'AUTH', with args beginning
			 * with: 'PASSWORD'"): only its code is logged. */
			if (t->c->err == 0) {
				detail[strcspn(detail, " ")] = '\0';
				snprintf(detail + strlen(detail), dlen - strlen(detail),
				    " to AUTH");
				if (*why == REDIS_R_OTHER)
					*why = REDIS_R_AUTH;
			}
			return false;
		}
		freeReplyObject(r);
	}
	if (s->db != 0) {
		const char *av[] = { "SELECT", db };
		size_t al[] = { 6, (size_t)snprintf(db, sizeof db, "%u", s->db) };

		if ((r = command(t, deadline, 2, av, al, why, detail, dlen)) == NULL)
			return false;
		freeReplyObject(r);
	}
	return load_script(t, deadline, why, detail, dlen);
}

/* This thread's connection, with the settings in force; NULL: off. */
static struct tconn *
this_thread(void)
{
	uint64_t gen = atomic_load(&generation);
	struct tconn *t;

	pthread_once(&tonce, tkey_make);
	if ((t = pthread_getspecific(tkey)) == NULL) {
		if ((t = calloc(1, sizeof *t)) == NULL)
			return NULL;
		if (pthread_setspecific(tkey, t) != 0) {
			free(t);
			return NULL;
		}
	}
	if (t->gen != gen) {
		/* Old settings: the context goes before anything is sent. */
		drop(t);
		pthread_mutex_lock(&settings_lock);
		t->s = settings;
		t->gen = atomic_load(&generation);
		pthread_mutex_unlock(&settings_lock);
	}
	return t->s.enabled ? t : NULL;
}

/* The script's reply, checked whole before any of it is used. */
static bool
parse_answer(const redisReply *r, size_t n, struct redis_answer *a)
{
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 + n)
		return false;
	for (size_t i = 0; i < r->elements; i++)
		if (r->element[i] == NULL || r->element[i]->type != REDIS_REPLY_INTEGER)
			return false;
	a->now_ms = r->element[0]->integer;
	if (r->element[1]->integer < -1 || r->element[1]->integer >= (long long)n ||
	    r->element[2]->integer < 0 || r->element[2]->integer > WINDOW_MS_MAX)
		return false;
	a->refused_by = (int)r->element[1]->integer;
	a->retry_ms = (uint32_t)r->element[2]->integer;
	if (a->refused_by >= 0 && a->retry_ms == 0)
		a->retry_ms = 1;
	for (size_t i = 0; i < n; i++) {
		long long c = r->element[3 + i]->integer;

		if (c < 0 || c > UINT32_MAX)
			return false;
		a->count[i] = (uint32_t)c;
	}
	return true;
}

int
redis_conn_eval(size_t n, const struct window_key keys[],
    const struct window_rule rules[], struct redis_answer *a, uint64_t *rtt_us,
    enum redis_reason *why, char *detail, size_t dlen)
{
	char kbuf[WINDOW_KEYS_MAX][REDIS_PREFIX_MAX + 17];
	char num[WINDOW_KEYS_MAX * 2][12];
	const char *argv[3 + WINDOW_KEYS_MAX + 1 + 2 * WINDOW_KEYS_MAX];
	size_t argvlen[sizeof argv / sizeof argv[0]], plen, argc = 0;
	struct tconn *t = this_thread();
	struct timespec ts0, ts1;
	uint64_t deadline;
	bool reused;
	redisReply *r = NULL;
	char nkeys[4];

	if (t == NULL)
		return 0;
	if (n == 0 || n > REDIS_DEL_KEYS_MAX) {
		*why = REDIS_R_OTHER;
		snprintf(detail, dlen, "bad key count");
		return -1;
	}
	deadline = clock_now_ms() + t->s.timeout_ms;
	reused = t->c != NULL;
	if (t->c == NULL && !connect_redis(t, deadline, why, detail, dlen))
		goto fail;

	plen = strlen(t->s.prefix);
	argv[argc] = "EVALSHA"; argvlen[argc++] = 7;
	argv[argc] = t->sha; argvlen[argc++] = 40;
	argv[argc] = nkeys; argvlen[argc++] = (size_t)snprintf(nkeys, sizeof nkeys, "%zu", n);
	for (size_t i = 0; i < n; i++) {
		/* prefix, the 16 address bytes, the prefix length byte */
		memcpy(kbuf[i], t->s.prefix, plen);
		memcpy(kbuf[i] + plen, keys[i].b, 16);
		kbuf[i][plen + 16] = (char)keys[i].plen;
		argv[argc] = kbuf[i]; argvlen[argc++] = plen + 17;
	}
	argv[argc] = rules[0].count_refused ? "1" : "0"; argvlen[argc++] = 1;
	for (size_t i = 0; i < n; i++) {
		argv[argc] = num[2 * i];
		argvlen[argc++] = (size_t)snprintf(num[2 * i], sizeof num[0], "%u",
		    rules[i].limit);
		argv[argc] = num[2 * i + 1];
		argvlen[argc++] = (size_t)snprintf(num[2 * i + 1], sizeof num[0], "%u",
		    rules[i].window_ms);
	}
	clock_gettime(CLOCK_MONOTONIC, &ts0);
	r = command(t, deadline, (int)argc, argv, argvlen, why, detail, dlen);
	if (r == NULL && *why == REDIS_R_EOF && reused) {
		/* A connection kept from an earlier call was closed by the
		 * server meanwhile (its idle `timeout`, a restart, CLIENT
		 * KILL): the request never ran.  One fresh connection, within
		 * the same deadline, before calling Redis down: otherwise
		 * every worker thread's idle connection would take the
		 * breaker down once after each restart. */
		drop(t);
		if (!connect_redis(t, deadline, why, detail, dlen))
			goto fail;
		argv[1] = t->sha;
		clock_gettime(CLOCK_MONOTONIC, &ts0);
		r = command(t, deadline, (int)argc, argv, argvlen, why, detail, dlen);
	}
	if (r == NULL && *why == REDIS_R_NOSCRIPT && t->c != NULL && t->c->err == 0) {
		/* Flushed, restarted or failed over: load it again and retry
		 * this call once; the decision is not lost. */
		if (!load_script(t, deadline, why, detail, dlen))
			goto fail;
		argv[1] = t->sha;
		clock_gettime(CLOCK_MONOTONIC, &ts0);
		r = command(t, deadline, (int)argc, argv, argvlen, why, detail, dlen);
	}
	if (r == NULL)
		goto fail;
	clock_gettime(CLOCK_MONOTONIC, &ts1);
	*rtt_us = (uint64_t)(((int64_t)(ts1.tv_sec - ts0.tv_sec) * 1000000000 +
	    (ts1.tv_nsec - ts0.tv_nsec)) / 1000);
	if (!parse_answer(r, n, a)) {
		*why = REDIS_R_WRONGTYPE;
		snprintf(detail, dlen, "the script's reply has the wrong type or shape");
		freeReplyObject(r);
		goto fail;
	}
	freeReplyObject(r);
	return 1;
fail:
	/* An error reply (the context still sound) naming a key's type:
	 * one client's key, not the server (redis_conn.h). */
	if (r == NULL && *why == REDIS_R_WRONGTYPE && t->c != NULL && t->c->err == 0) {
		drop(t);
		return -2;
	}
	/* Any error: this context is not used again (redis_conn.h). */
	drop(t);
	return -1;
}

int
redis_conn_del(size_t n, const struct window_key keys[], uint64_t *deleted,
    enum redis_reason *why, char *detail, size_t dlen)
{
	char kbuf[REDIS_DEL_KEYS_MAX][REDIS_PREFIX_MAX + 17];
	const char *argv[1 + REDIS_DEL_KEYS_MAX];
	size_t argvlen[sizeof argv / sizeof argv[0]], plen, argc = 0;
	struct tconn *t = this_thread();
	uint64_t deadline;
	redisReply *r;

	if (t == NULL)
		return 0;
	if (n == 0 || n > REDIS_DEL_KEYS_MAX) {
		*why = REDIS_R_OTHER;
		snprintf(detail, dlen, "bad key count");
		return -1;
	}
	deadline = clock_now_ms() + t->s.timeout_ms;
	/* A kept connection the server closed meanwhile: a fresh one. */
	if (t->c != NULL && t->c->err != 0)
		drop(t);
	if (t->c == NULL && !connect_redis(t, deadline, why, detail, dlen))
		goto fail;
	plen = strlen(t->s.prefix);
	argv[argc] = "DEL"; argvlen[argc++] = 3;
	for (size_t i = 0; i < n; i++) {
		/* The same packing as redis_conn_eval's KEYS. */
		memcpy(kbuf[i], t->s.prefix, plen);
		memcpy(kbuf[i] + plen, keys[i].b, 16);
		kbuf[i][plen + 16] = (char)keys[i].plen;
		argv[argc] = kbuf[i]; argvlen[argc++] = plen + 17;
	}
	if ((r = command(t, deadline, (int)argc, argv, argvlen, why, detail, dlen)) == NULL)
		goto fail;
	if (r->type != REDIS_REPLY_INTEGER || r->integer < 0) {
		*why = REDIS_R_WRONGTYPE;
		snprintf(detail, dlen, "DEL's reply is not a count");
		freeReplyObject(r);
		goto fail;
	}
	*deleted = (uint64_t)r->integer;
	freeReplyObject(r);
	return 1;
fail:
	drop(t);
	return -1;
}
