/*
 * fuzz_control.c: the control socket's request parser (control_parse,
 * control_proto.h), fed any bytes, as a hostile local client may send.
 *
 * Checked: a failure gives a terminated, printable reason (it goes back
 * to the client as "ERR reason"); a request with a byte that is not
 * printable ASCII, or longer than CONTROL_LINE_MAX, never parses; a parsed
 * request is within its bounds (TOP 1..CONTROL_TOP_MAX, a prefix length
 * within its family, a host name of letters, digits, '-', '.', '_'); and
 * written back out canonically it parses to the same request.
 */
#include "fuzz.h"
#include "control_proto.h"

static bool
same(const struct control_req *a, const struct control_req *b)
{
	return a->cmd == b->cmd && memcmp(a->addr.b, b->addr.b, 16) == 0 &&
	    a->plen == b->plen && a->has_host == b->has_host && a->port == b->port &&
	    strcmp(a->host, b->host) == 0 && a->top_n == b->top_n;
}

/* The request in canonical form. */
static size_t
canon(const struct control_req *rq, char *buf, size_t len)
{
	char a[ADDR_STRLEN];

	switch (rq->cmd) {
	case CONTROL_EXPLAIN:
		addr_format(a, sizeof a, &rq->addr);
		if (rq->port)
			return (size_t)snprintf(buf, len, "EXPLAIN %s%s%s port=%u", a,
			    rq->has_host ? " " : "", rq->has_host ? rq->host : "", rq->port);
		return (size_t)snprintf(buf, len, "EXPLAIN %s%s%s", a,
		    rq->has_host ? " " : "", rq->has_host ? rq->host : "");
	case CONTROL_TOP:
		return (size_t)snprintf(buf, len, "TOP %u", rq->top_n);
	case CONTROL_RESET:
		if (rq->plen >= 0)
			addr_format_prefix(a, sizeof a, &rq->addr, rq->plen);
		else
			addr_format(a, sizeof a, &rq->addr);
		return (size_t)snprintf(buf, len, "RESET %s%s%s", a,
		    rq->has_host ? " " : "", rq->has_host ? rq->host : "");
	case CONTROL_RELOAD:
		return (size_t)snprintf(buf, len, "RELOAD");
	case CONTROL_STATS:
		return (size_t)snprintf(buf, len, "STATS");
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_req rq, back;
	char err[256], line[CONTROL_LINE_MAX + 64];
	bool ok, printable = true;
	size_t n = size;

	memset(err, 0x5a, sizeof err);
	ok = control_parse((const char *)data, size, &rq, err, sizeof err);
	if (n > 0 && data[n - 1] == '\r')
		n--;
	for (size_t i = 0; i < n; i++)
		printable &= data[i] >= 0x20 && data[i] <= 0x7e;
	if (!ok) {
		CHECK(memchr(err, '\0', sizeof err) != NULL && err[0] != '\0',
		    "failure without a terminated reason");
		for (const char *p = err; *p; p++)
			CHECK(*p >= 0x20 && *p <= 0x7e, "reason has byte 0x%02x",
			    (unsigned char)*p);
		return 0;
	}
	CHECK(printable, "a request with a non-printable byte parsed");
	CHECK(n <= CONTROL_LINE_MAX, "a request of %zu bytes parsed", n);
	if (rq.cmd == CONTROL_TOP)
		CHECK(rq.top_n >= 1 && rq.top_n <= CONTROL_TOP_MAX, "TOP %u", rq.top_n);
	if (rq.cmd == CONTROL_RESET && rq.plen >= 0)
		CHECK(rq.plen <= (addr_is_v4(&rq.addr) ? 32 : 128), "plen %d", rq.plen);
	if (rq.has_host) {
		/* EXPLAIN ADDRESS HOSTNAME, RESET ADDRESS HOSTNAME (not a prefix). */
		CHECK(rq.cmd == CONTROL_EXPLAIN ||
		    (rq.cmd == CONTROL_RESET && rq.plen < 0),
		    "a host outside EXPLAIN and RESET ADDRESS");
		CHECK(strspn(rq.host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-._") == strlen(rq.host) && rq.host[0] != '\0',
		    "host \"%s\"", rq.host);
	}
	n = canon(&rq, line, sizeof line);
	CHECK(n < sizeof line, "canonical form too long");
	CHECK(control_parse(line, n, &back, err, sizeof err),
	    "canonical \"%s\" does not parse: %s", line, err);
	CHECK(same(&rq, &back), "canonical \"%s\" parses to another request", line);
	return 0;
}
