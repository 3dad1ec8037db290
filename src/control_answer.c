/*
 * control_answer.c: the control socket's answers (control_proto.h gives
 * their form), built into a bounded buffer; no socket here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "control_answer.h"
#include "log.h"
#include "policyctl.h"
#include "redis_conn.h"
#include "reload.h"
#include "report.h"
#include "stats.h"

#define ANSWER_MAX (512 * 1024)	/* TOP 1000 fits many times over */

/* Append to c's answer; past ANSWER_MAX or out of memory the answer is
 * replaced by an error (c->oom). */
void
control_put(struct control_buf *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(c->out ? c->out + c->len : NULL,
		    c->out ? c->cap - c->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			c->oom = true;
			return;
		}
		if (c->out != NULL && (size_t)n < c->cap - c->len) {
			c->len += (size_t)n;
			return;
		}
		size_t want = c->cap ? c->cap * 2 : 4096;
		while (want < c->len + (size_t)n + 1)
			want *= 2;
		char *p = want <= ANSWER_MAX ? realloc(c->out, want) : NULL;
		if (p == NULL) {
			c->oom = true;
			return;
		}
		c->out = p;
		c->cap = want;
	}
}

void
control_buf_reset(struct control_buf *c)
{
	c->len = 0;
	c->oom = false;
}

void
control_answer_error(struct control_buf *c, const char *why)
{
	control_buf_reset(c);
	control_put(c, "ERR %s\n", why);
}

static void
key_lines(struct control_buf *c, const struct policyctl_key *k)
{
	control_put(c, "key=%s\nrule=%s\ncount=%u\nlimit=%u\nwindow=%u\nretry=%u\nretry_ms=%u\n",
	    k->key, k->rule, k->count, k->limit, k->window_s,
	    (k->retry_ms + 999u) / 1000u, k->retry_ms);
}

static void
do_explain(struct control_buf *c, struct policy *pol, const struct control_req *rq)
{
	struct policy_explain e;
	static const char *const verdicts[] = { "allowed", "refused", "exempt" };

	policy_explain(pol, &rq->addr, rq->has_host ? rq->host : NULL, rq->port,
	    clock_now_ms(), &e);
	control_put(c, "OK\nclient=%s\nverdict=%s\nmode=%s\nbackend=%s\n", e.client,
	    verdicts[e.verdict], e.log_mode ? "log" : "enforce", e.backend);
	if (e.listener[0])
		control_put(c, "listener=%s\n", e.listener);
	if (e.entry[0])
		control_put(c, "entry=%s\n", e.entry);
	if (e.verdict != POLICYCTL_EXEMPT) {
		const struct policyctl_key *k = &e.keys[e.deciding];

		control_put(c, "key=%s\nrule=%s\ncount=%u\nlimit=%u\nwindow=%u\n",
		    k->key, k->rule, k->count, k->limit, k->window_s);
	}
	control_put(c, "retry=%u\n", e.retry_s);
	for (size_t i = 0; i < e.nkeys; i++) {
		control_put(c, "-\n");
		key_lines(c, &e.keys[i]);
	}
	control_put(c, ".\n");
}

static void
do_top(struct control_buf *c, struct policy *pol, const struct control_req *rq)
{
	struct policyctl_top *rows = calloc(rq->top_n, sizeof *rows);
	size_t n;

	if (rows == NULL) {
		control_answer_error(c, "out of memory");
		return;
	}
	n = policy_top(pol, clock_now_ms(), rows, rq->top_n);
	control_put(c, "OK\n");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			control_put(c, "-\n");
		key_lines(c, &rows[i].k);
	}
	control_put(c, ".\n");
	free(rows);
}

/*
 * With Redis on, Redis decides: forgetting the local table alone would
 * leave the client refused.  An address's keys are deleted there too
 * (DEL of the keys a decision sends; bounded by redis_timeout_ms, on this
 * thread only).  A prefix's keys cannot be listed without a SCAN of the
 * whole shared keyspace, so a prefix reset says it did not reach Redis.
 * out: "" (Redis off), "reset", or "not-reset" or "failed" and a line
 * redis_detail=WHY.
 */
static void
redis_reset(const struct control_req *rq, struct policy *pol, char *out, size_t len)
{
	struct policyctl_reset_keys *rk;
	enum redis_reason why = REDIS_R_OTHER;
	char detail[128] = "";
	uint64_t gone = 0;
	int rc;

	out[0] = '\0';
	if (!redis_conn_enabled())
		return;
	if (rq->plen >= 0) {
		snprintf(out, len, "not-reset\nredis_detail=a prefix: Redis keeps "
		    "counting its addresses; reset each address");
		return;
	}
	if ((rk = malloc(sizeof *rk)) == NULL) {
		snprintf(out, len, "failed\nredis_detail=out of memory; Redis still counts it");
		return;
	}
	/* Every key, listener sections' and a name entry's too, in one DEL
	 * (one round trip within redis_timeout_ms). */
	if (policy_reset_keys(pol, &rq->addr, rq->has_host ? rq->host : NULL, rk) == 0) {
		free(rk);
		snprintf(out, len, "reset");
		return;
	}
	rc = redis_conn_del(rk->n, rk->key, &gone, &why, detail, sizeof detail);
	free(rk);
	if (rc > 0)
		snprintf(out, len, "reset");
	else if (rc == 0)
		out[0] = '\0';	/* turned off by a reload meanwhile */
	else
		snprintf(out, len, "failed\nredis_detail=%s: %s; Redis still counts it",
		    redis_reason_name(why), detail);
}

static void
do_reset(struct control_buf *c, struct policy *pol, const struct control_req *rq,
    uid_t uid, pid_t pid)
{
	char what[ADDR_STRLEN], redis[192];
	size_t n;

	if (rq->plen >= 0)
		addr_format_prefix(what, sizeof what, &rq->addr, rq->plen);
	else
		addr_format(what, sizeof what, &rq->addr);
	n = policy_reset(pol, &rq->addr, rq->plen, rq->has_host ? rq->host : NULL,
	    report_due, NULL);
	redis_reset(rq, pol, redis, sizeof redis);
	log_notice("control: reset %s by uid=%ld pid=%ld: %zu keys forgotten%s%.*s", what,
	    (long)uid, (long)pid, n, redis[0] ? ", redis=" : "",
	    (int)strcspn(redis, "\n"), redis);
	control_put(c, "OK\nreset=%s\nforgotten=%zu\n", what, n);
	if (redis[0])
		control_put(c, "redis=%s\n", redis);
	control_put(c, ".\n");
}

static void
do_stats(struct control_buf *c, struct policy *pol)
{
	char line[2048], *w, *save = NULL;

	stats_format(pol, clock_now_ms(), line, sizeof line);
	control_put(c, "OK\n");
	for (w = strtok_r(line, " ", &save); w; w = strtok_r(NULL, " ", &save))
		control_put(c, "%s\n", w);
	control_put(c, ".\n");
}

void
control_answer_reload(struct control_buf *c, bool ok)
{
	struct reload_status st;
	char *line, *save = NULL;

	reload_status(&st);
	control_put(c, "OK\nresult=%s\n", ok ? "ok" : "failed");
	if (ok) {
		control_put(c, "summary=%s\n", st.summary);
	} else {
		for (line = strtok_r(st.error, "\n", &save); line;
		    line = strtok_r(NULL, "\n", &save))
			control_put(c, "error=%s\n", line);
	}
	control_put(c, "reloads=%llu\nreload_failures=%llu\n.\n",
	    (unsigned long long)st.ok, (unsigned long long)st.failed);
}

void
control_answer(struct control_buf *c, struct policy *pol,
    const struct control_req *rq, uid_t uid, pid_t pid)
{
	control_buf_reset(c);
	switch (rq->cmd) {
	case CONTROL_EXPLAIN:
		do_explain(c, pol, rq);
		break;
	case CONTROL_TOP:
		do_top(c, pol, rq);
		break;
	case CONTROL_RESET:
		do_reset(c, pol, rq, uid, pid);
		break;
	case CONTROL_STATS:
		do_stats(c, pol);
		break;
	case CONTROL_RELOAD:
		control_answer_error(c, "RELOAD is answered by control_answer_reload");
		return;
	}
	if (c->oom)
		control_answer_error(c, "answer too large or out of memory");
}

void
control_buf_free(struct control_buf *c)
{
	free(c->out);
	memset(c, 0, sizeof *c);
}
