/*
 * loadgen.c: a milter-protocol load generator that plays the MTA the way
 * sendmail does for each SMTP connection:
 *
 *   connect to the milter socket (unix:PATH, inet:PORT@HOST, inet6:PORT@HOST)
 *   SMFIC_OPTNEG   version 6, every action, every protocol step; read the
 *                  milter's OPTNEG reply
 *   SMFIC_MACRO    for 'C': j, _, {daemon_name}, {if_name}, {if_addr}
 *   SMFIC_CONNECT  "[addr]" as hostname, family '4' or '6', port, address
 *   read the reply (SMFIR_ACCEPT, SMFIR_REPLYCODE, SMFIR_TEMPFAIL, ...)
 *   SMFIC_QUIT, close
 *
 * Each command is one write, as sendmail's milter_write() makes it.  The
 * wire format (a 4-byte big-endian length that counts the command byte,
 * the command byte, then its data) and the constants are libmilter's
 * documented protocol (<libmilter/mfdef.h>).
 *
 *   loadgen -s SPEC [-c THREADS] [-n SESSIONS] [-t SECONDS] [-a PATTERN]
 *           [-6] [-o OFFSET] [-S SEED] [-T TIMEOUT_MS] [-q]
 *
 *   PATTERN  uniform:N      N distinct addresses, each session picks one
 *            seq:N          N distinct addresses in turn (each once per N)
 *            zipf:N:S       N addresses, rank k with weight 1/k^S
 *            hot:N:F        one hot address takes fraction F, the rest
 *                           uniform over N others
 *            one            a single address
 *   IPv4 addresses are 10.0.0.0 + OFFSET + i (scrambled order), IPv6 ones
 *   differ in their /64: 2001:db8:HHHH:LLLL::1.
 *
 * Stops after SESSIONS sessions or SECONDS seconds, whichever comes first
 * (both default to bounds: 100000 sessions, 60 s).  Every read and write
 * has TIMEOUT_MS (default 10 s); a session that fails anywhere is counted
 * as an error by kind and not retried.  Prints a human summary and one
 * machine line beginning "RESULT " with key=value pairs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <libmilter/mfdef.h>

#include "bench.h"

#define MAX_THREADS 256
#define MAX_REPLY (64 * 1024)		/* libmilter's default data limit */
#define MAX_PACKETS_PER_REPLY 32	/* SMFIR_PROGRESS tolerated this often */

enum pattern { PAT_UNIFORM, PAT_SEQ, PAT_ZIPF, PAT_HOT, PAT_ONE };

enum err_kind { E_CONNECT, E_WRITE, E_READ, E_TIMEOUT, E_EOF, E_PROTO, E_KINDS };
static const char *err_name[E_KINDS] = {
	"connect", "write", "read", "timeout", "eof", "protocol",
};

static struct {
	const char *spec;
	int family;			/* AF_UNIX, AF_INET, AF_INET6 */
	struct sockaddr_storage sa;
	socklen_t salen;
	int threads;
	uint64_t sessions;
	double seconds;
	enum pattern pat;
	uint64_t n;			/* distinct addresses (not the hot one) */
	double zipf_s;
	double hot_frac;
	bool v6;
	uint64_t offset;
	uint64_t seed;
	int timeout_ms;
	bool quiet;
	double *zipf_cdf;
} opt = {
	.threads = 1, .sessions = 100000, .seconds = 60, .pat = PAT_UNIFORM,
	.n = 1000, .offset = 0, .seed = 1, .timeout_ms = 10000,
};

static atomic_uint_fast64_t claimed;	/* sessions handed out */
static atomic_uint_fast64_t seq_next;	/* the seq pattern's cursor */
static uint64_t deadline_ns;

struct conn {
	int fd;
	unsigned char buf[MAX_REPLY + 8];
	size_t have;
};

struct worker {
	pthread_t tid;
	int id;
	uint64_t rng;
	uint64_t done, errors;
	uint64_t err[E_KINDS];
	uint64_t reply[256];		/* by reply command byte */
	uint64_t hot_sessions;
	uint64_t hot_reply[256];
	struct hist session;		/* connect() to close(), ns */
	struct hist decide;		/* CONNECT written to its reply read, ns */
	struct conn conn;
};

static void
die(const char *fmt, const char *arg)
{
	fprintf(stderr, "loadgen: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(2);
}

/* --- the socket spec ----------------------------------------------------- */

static void
parse_spec(const char *spec)
{
	const char *rest;

	opt.spec = spec;
	memset(&opt.sa, 0, sizeof opt.sa);
	if ((rest = strchr(spec, ':')) == NULL)
		die("bad socket spec %s (unix:PATH, inet:PORT@HOST, inet6:PORT@HOST)", spec);
	rest++;
	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)&opt.sa;
		if (strlen(rest) >= sizeof un->sun_path)
			die("socket path too long: %s", rest);
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, rest);
		opt.family = AF_UNIX;
		opt.salen = sizeof *un;
	} else if (strncmp(spec, "inet:", 5) == 0 || strncmp(spec, "inet6:", 6) == 0) {
		int fam = spec[4] == '6' ? AF_INET6 : AF_INET;

		char port[16], host[256];
		const char *at = strchr(rest, '@');
		struct addrinfo hints = { 0 }, *ai;

		if (at == NULL || (size_t)(at - rest) >= sizeof port ||
		    strlen(at + 1) >= sizeof host)
			die("bad inet spec %s (inet:PORT@HOST)", spec);
		memcpy(port, rest, (size_t)(at - rest));
		port[at - rest] = 0;
		strcpy(host, at + 1);
		hints.ai_family = fam;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV;
		if (getaddrinfo(host, port, &hints, &ai) != 0)
			die("cannot resolve %s", spec);
		memcpy(&opt.sa, ai->ai_addr, ai->ai_addrlen);
		opt.salen = ai->ai_addrlen;
		opt.family = fam;
		freeaddrinfo(ai);
	} else {
		die("bad socket spec %s", spec);
	}
}

/* --- addresses ---------------------------------------------------------------- */

/* Address number i (the hot one is number n) as text. */
static void
client_addr(uint64_t i, char *buf, size_t len)
{
	uint64_t v = i + opt.offset;

	if (!opt.v6) {
		/* 10/8 holds 2^24 (main() checks OFFSET + N + 1 fits).  The
		 * milter hashes keys with SipHash: plain order is fine. */
		uint32_t x = (uint32_t)(v & 0xffffff);
		snprintf(buf, len, "10.%u.%u.%u", (x >> 16) & 255, (x >> 8) & 255, x & 255);
	} else {
		uint32_t hi = (uint32_t)(v >> 16), lo = (uint32_t)(v & 0xffff);
		snprintf(buf, len, "2001:db8:%x:%x::1", hi & 0xffff, lo);
	}
}

static void
zipf_setup(void)
{
	double sum = 0;

	opt.zipf_cdf = malloc(opt.n * sizeof *opt.zipf_cdf);
	if (opt.zipf_cdf == NULL)
		die("out of memory for %s", "zipf table");
	for (uint64_t k = 0; k < opt.n; k++) {
		sum += 1.0 / pow((double)(k + 1), opt.zipf_s);
		opt.zipf_cdf[k] = sum;
	}
	for (uint64_t k = 0; k < opt.n; k++)
		opt.zipf_cdf[k] /= sum;
}

/* The address number for the next session; *hot says it is the hot one. */
static uint64_t
pick(struct worker *w, bool *hot)
{
	*hot = false;
	switch (opt.pat) {
	case PAT_UNIFORM:
		return rand_below(&w->rng, opt.n);
	case PAT_SEQ:
		return atomic_fetch_add(&seq_next, 1) % opt.n;
	case PAT_ZIPF: {
		double u = rand_unit(&w->rng);
		uint64_t lo = 0, hi = opt.n - 1;
		while (lo < hi) {
			uint64_t mid = lo + (hi - lo) / 2;
			if (opt.zipf_cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		/* Spread ranks over the address space. */
		return (lo * 2654435761u) % opt.n;
	}
	case PAT_HOT:
		if (rand_unit(&w->rng) < opt.hot_frac) {
			*hot = true;
			return opt.n;
		}
		return rand_below(&w->rng, opt.n);
	case PAT_ONE:
		*hot = true;
		return 0;
	}
	return 0;
}

/* --- the wire ---------------------------------------------------------------- */

static void
put32(unsigned char *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static uint32_t
get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

static int
errkind(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK ? E_TIMEOUT : -1;
}

/* One command: length, command byte, data, in one write.  0 or E_*. */
static int
send_cmd(struct conn *c, char cmd, const void *data, size_t len)
{
	unsigned char pkt[1024];
	size_t n = 5 + len, off = 0;

	if (n > sizeof pkt)
		return E_PROTO;
	put32(pkt, (uint32_t)(len + 1));
	pkt[4] = (unsigned char)cmd;
	if (len)
		memcpy(pkt + 5, data, len);
	for (int tries = 0; off < n && tries < 16; tries++) {
		ssize_t w = send(c->fd, pkt + off, n - off, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errkind(errno) >= 0 ? E_TIMEOUT : E_WRITE;
		}
		off += (size_t)w;
	}
	return off == n ? 0 : E_WRITE;
}

/*
 * Read one packet: *cmd gets its command byte, *data and *len its data (valid
 * until the next read).  0 or E_*.
 */
static int
read_pkt(struct conn *c, char *cmd, const unsigned char **data, size_t *len)
{
	uint32_t plen = 0;

	for (int tries = 0; tries < 64; tries++) {
		if (c->have >= 4) {
			plen = get32(c->buf);
			if (plen == 0 || plen > MAX_REPLY)
				return E_PROTO;
			if (c->have >= 4 + plen)
				break;
		}
		ssize_t r = recv(c->fd, c->buf + c->have, sizeof c->buf - c->have, 0);
		if (r == 0)
			return E_EOF;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errkind(errno) >= 0 ? E_TIMEOUT : E_READ;
		}
		c->have += (size_t)r;
	}
	if (c->have < 4 || c->have < 4 + plen)
		return E_READ;
	*cmd = (char)c->buf[4];
	*data = c->buf + 5;
	*len = plen - 1;
	return 0;
}

/* Drop the packet read_pkt returned. */
static void
consume(struct conn *c)
{
	uint32_t plen = get32(c->buf);

	memmove(c->buf, c->buf + 4 + plen, c->have - 4 - plen);
	c->have -= 4 + plen;
}

/* Append "name\0value\0". */
static size_t
put_macro(unsigned char *p, size_t off, size_t cap, const char *name,
    const char *value)
{
	size_t a = strlen(name) + 1, b = strlen(value) + 1;

	if (off + a + b > cap)
		return off;
	memcpy(p + off, name, a);
	memcpy(p + off + a, value, b);
	return off + a + b;
}

/*
 * One session as sendmail plays it.  Returns 0 and the connect reply's
 * command byte in *reply, or an E_* kind.
 */
static int
session(struct worker *w, uint64_t addrno, char *reply, uint64_t *decide_ns)
{
	struct conn *c = &w->conn;
	char addr[64], host[80], under[128], cmd;
	unsigned char data[512];
	const unsigned char *rd;
	size_t rlen, off;
	struct timeval tv;
	uint16_t port;
	int rc = 0;

	c->have = 0;
	client_addr(addrno, addr, sizeof addr);

	c->fd = socket(opt.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return E_CONNECT;
	tv.tv_sec = opt.timeout_ms / 1000;
	tv.tv_usec = (opt.timeout_ms % 1000) * 1000;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(c->fd, (struct sockaddr *)&opt.sa, opt.salen) != 0) {
		rc = errno == EAGAIN || errno == EINPROGRESS ? E_TIMEOUT : E_CONNECT;
		goto out;
	}

	/* Option negotiation: what sendmail 8.17 offers. */
	put32(data, SMFI_PROT_VERSION);
	put32(data + 4, SMFI_CURR_ACTS);
	put32(data + 8, SMFI_CURR_PROT);
	if ((rc = send_cmd(c, SMFIC_OPTNEG, data, MILTER_OPTLEN)) != 0)
		goto out;
	if ((rc = read_pkt(c, &cmd, &rd, &rlen)) != 0)
		goto out;
	if (cmd != SMFIC_OPTNEG || rlen < MILTER_OPTLEN || get32(rd) < 2) {
		rc = E_PROTO;
		goto out;
	}
	/* The milter lists what it does not want; CONNECT must stay on and
	 * must be answered. */
	if (get32(rd + 8) & (SMFIP_NOCONNECT | SMFIP_NR_CONN)) {
		rc = E_PROTO;
		goto out;
	}
	consume(c);

	/* The connect macros, sendmail's default confMILTER_MACROS_CONNECT. */
	snprintf(host, sizeof host, opt.v6 ? "[IPv6:%s]" : "[%s]", addr);
	snprintf(under, sizeof under, "%s (may be forged)", host);
	data[0] = SMFIC_CONNECT;
	off = 1;
	off = put_macro(data, off, sizeof data, "j", "mx.bench.test");
	off = put_macro(data, off, sizeof data, "_", under);
	off = put_macro(data, off, sizeof data, "{daemon_name}", opt.v6 ? "MTA-v6" : "MTA-v4");
	off = put_macro(data, off, sizeof data, "{if_name}", "localhost");
	off = put_macro(data, off, sizeof data, "{if_addr}", opt.v6 ? "::1" : "127.0.0.1");
	if ((rc = send_cmd(c, SMFIC_MACRO, data, off)) != 0)
		goto out;

	/* CONNECT: hostname, family, port (network order), address. */
	off = strlen(host) + 1;
	memcpy(data, host, off);
	data[off++] = opt.v6 ? SMFIA_INET6 : SMFIA_INET;
	port = htons((uint16_t)(1024 + addrno % 60000));
	memcpy(data + off, &port, 2);
	off += 2;
	memcpy(data + off, addr, strlen(addr) + 1);
	off += strlen(addr) + 1;
	uint64_t t0 = now_ns();
	if ((rc = send_cmd(c, SMFIC_CONNECT, data, off)) != 0)
		goto out;
	for (int k = 0; ; k++) {
		if (k == MAX_PACKETS_PER_REPLY) {
			rc = E_PROTO;
			goto out;
		}
		if ((rc = read_pkt(c, &cmd, &rd, &rlen)) != 0)
			goto out;
		if (cmd != SMFIR_PROGRESS)
			break;
		consume(c);
	}
	*decide_ns = now_ns() - t0;
	switch (cmd) {
	case SMFIR_ACCEPT: case SMFIR_CONTINUE: case SMFIR_REJECT:
	case SMFIR_TEMPFAIL: case SMFIR_DISCARD: case SMFIR_SHUTDOWN:
	case SMFIR_CONN_FAIL: case SMFIR_SKIP:
		break;
	case SMFIR_REPLYCODE:
		/* "NNN x.y.z text\0": a 3-digit code first. */
		if (rlen < 4 || rd[0] < '2' || rd[0] > '5') {
			rc = E_PROTO;
			goto out;
		}
		break;
	default:
		rc = E_PROTO;
		goto out;
	}
	*reply = cmd;
	consume(c);
	/* sendmail's milter_quit_filter(): QUIT, then close without reading. */
	rc = send_cmd(c, SMFIC_QUIT, NULL, 0);
out:
	close(c->fd);
	return rc;
}

static void *
run(void *arg)
{
	struct worker *w = arg;

	for (;;) {
		uint64_t i = atomic_fetch_add(&claimed, 1);
		uint64_t t0, dec = 0;
		char reply = 0;
		bool hot;
		int rc;

		if (i >= opt.sessions)
			break;
		t0 = now_ns();
		if (t0 >= deadline_ns)
			break;
		uint64_t a = pick(w, &hot);
		rc = session(w, a, &reply, &dec);
		if (rc != 0) {
			w->errors++;
			w->err[rc]++;
			continue;
		}
		hist_add(&w->session, now_ns() - t0);
		hist_add(&w->decide, dec);
		w->done++;
		w->reply[(unsigned char)reply]++;
		if (hot) {
			w->hot_sessions++;
			w->hot_reply[(unsigned char)reply]++;
		}
	}
	return NULL;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen -s SPEC [-c THREADS] [-n SESSIONS] [-t SECONDS]\n"
	    "               [-a uniform:N|seq:N|zipf:N:S|hot:N:F|one] [-6]\n"
	    "               [-o OFFSET] [-S SEED] [-T TIMEOUT_MS] [-q]\n");
	exit(2);
}

static void
parse_pattern(const char *s)
{
	char *end;

	if (strncmp(s, "uniform:", 8) == 0) {
		opt.pat = PAT_UNIFORM;
		opt.n = strtoull(s + 8, &end, 10);
	} else if (strncmp(s, "seq:", 4) == 0) {
		opt.pat = PAT_SEQ;
		opt.n = strtoull(s + 4, &end, 10);
	} else if (strncmp(s, "zipf:", 5) == 0) {
		opt.pat = PAT_ZIPF;
		opt.n = strtoull(s + 5, &end, 10);
		if (*end != ':')
			die("bad pattern %s", s);
		opt.zipf_s = strtod(end + 1, &end);
	} else if (strncmp(s, "hot:", 4) == 0) {
		opt.pat = PAT_HOT;
		opt.n = strtoull(s + 4, &end, 10);
		if (*end != ':')
			die("bad pattern %s", s);
		opt.hot_frac = strtod(end + 1, &end);
		if (opt.hot_frac < 0 || opt.hot_frac > 1)
			die("hot fraction out of 0..1: %s", s);
	} else if (strcmp(s, "one") == 0) {
		opt.pat = PAT_ONE;
		opt.n = 1;
		end = (char *)s + 3;
	} else {
		die("bad pattern %s", s);
	}
	if (*end != 0 || opt.n == 0 || opt.n > (1ull << 24))
		die("bad pattern %s (N in 1..16777216)", s);
}

static const char *
reply_name(int c)
{
	switch (c) {
	case SMFIR_ACCEPT: return "accept";
	case SMFIR_CONTINUE: return "continue";
	case SMFIR_REPLYCODE: return "replycode";
	case SMFIR_TEMPFAIL: return "tempfail";
	case SMFIR_REJECT: return "reject";
	case SMFIR_DISCARD: return "discard";
	case SMFIR_SHUTDOWN: return "shutdown";
	case SMFIR_CONN_FAIL: return "connfail";
	case SMFIR_SKIP: return "skip";
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	static struct worker w[MAX_THREADS];
	static struct hist sess, dec;
	uint64_t reply[256] = { 0 }, hot_reply[256] = { 0 }, err[E_KINDS] = { 0 };
	uint64_t done = 0, errors = 0, hot = 0, t0, t1;
	int ch;

	while ((ch = getopt(argc, argv, "s:c:n:t:a:6o:S:T:q")) != -1) {
		switch (ch) {
		case 's': parse_spec(optarg); break;
		case 'c': opt.threads = atoi(optarg); break;
		case 'n': opt.sessions = strtoull(optarg, NULL, 10); break;
		case 't': opt.seconds = strtod(optarg, NULL); break;
		case 'a': parse_pattern(optarg); break;
		case '6': opt.v6 = true; break;
		case 'o': opt.offset = strtoull(optarg, NULL, 10); break;
		case 'S': opt.seed = strtoull(optarg, NULL, 10); break;
		case 'T': opt.timeout_ms = atoi(optarg); break;
		case 'q': opt.quiet = true; break;
		default: usage();
		}
	}
	if (opt.spec == NULL || optind != argc)
		usage();
	if (opt.threads < 1 || opt.threads > MAX_THREADS)
		die("threads out of 1..256: %s", "-c");
	if (opt.seconds <= 0 || opt.seconds > 3600)
		die("seconds out of (0, 3600]: %s", "-t");
	if (opt.timeout_ms < 1 || opt.timeout_ms > 600000)
		die("timeout out of 1..600000 ms: %s", "-T");
	if (!opt.v6 && opt.offset + opt.n + 1 > (1ull << 24))
		die("IPv4 addresses are 10/8: OFFSET + N must stay below 2^24 (%s)", "-o");
	if (opt.pat == PAT_ZIPF)
		zipf_setup();

	t0 = now_ns();
	deadline_ns = t0 + (uint64_t)(opt.seconds * 1e9);
	for (int i = 0; i < opt.threads; i++) {
		w[i].id = i;
		w[i].rng = opt.seed * 0x100000001b3ull + (uint64_t)i;
		if (pthread_create(&w[i].tid, NULL, run, &w[i]) != 0)
			die("pthread_create failed%s", "");
	}
	for (int i = 0; i < opt.threads; i++)
		pthread_join(w[i].tid, NULL);
	t1 = now_ns();

	for (int i = 0; i < opt.threads; i++) {
		done += w[i].done;
		errors += w[i].errors;
		hot += w[i].hot_sessions;
		for (int k = 0; k < 256; k++) {
			reply[k] += w[i].reply[k];
			hot_reply[k] += w[i].hot_reply[k];
		}
		for (int k = 0; k < E_KINDS; k++)
			err[k] += w[i].err[k];
		hist_merge(&sess, &w[i].session);
		hist_merge(&dec, &w[i].decide);
	}
	double secs = (double)(t1 - t0) / 1e9;
	double rate = (double)done / secs;

	if (!opt.quiet) {
		printf("loadgen: %s, %d thread(s), %s, %.2f s\n", opt.spec,
		    opt.threads, opt.v6 ? "IPv6" : "IPv4", secs);
		printf("  sessions %llu ok, %llu errors: %.0f sessions/s\n",
		    (unsigned long long)done, (unsigned long long)errors, rate);
		printf("  session latency  p50 %.1f us  p99 %.1f us  p99.9 %.1f us  max %.1f us\n",
		    hist_quantile(&sess, .5) / 1e3, hist_quantile(&sess, .99) / 1e3,
		    hist_quantile(&sess, .999) / 1e3, (double)sess.max / 1e3);
		printf("  connect reply    p50 %.1f us  p99 %.1f us  p99.9 %.1f us\n",
		    hist_quantile(&dec, .5) / 1e3, hist_quantile(&dec, .99) / 1e3,
		    hist_quantile(&dec, .999) / 1e3);
		printf("  replies:");
		for (int k = 0; k < 256; k++)
			if (reply[k])
				printf(" %s=%llu", reply_name(k) ? reply_name(k) : "?",
				    (unsigned long long)reply[k]);
		printf("\n");
		if (opt.pat == PAT_HOT || opt.pat == PAT_ONE) {
			printf("  hot address: %llu sessions:", (unsigned long long)hot);
			for (int k = 0; k < 256; k++)
				if (hot_reply[k])
					printf(" %s=%llu", reply_name(k) ? reply_name(k) : "?", (unsigned long long)hot_reply[k]);
			printf("\n");
		}
		if (errors) {
			printf("  errors:");
			for (int k = 0; k < E_KINDS; k++)
				if (err[k])
					printf(" %s=%llu", err_name[k], (unsigned long long)err[k]);
			printf("\n");
		}
	}
	printf("RESULT sessions=%llu errors=%llu seconds=%.3f rate=%.1f "
	    "p50_us=%.2f p99_us=%.2f p999_us=%.2f max_us=%.1f "
	    "dec_p50_us=%.2f dec_p99_us=%.2f",
	    (unsigned long long)done, (unsigned long long)errors, secs, rate,
	    hist_quantile(&sess, .5) / 1e3, hist_quantile(&sess, .99) / 1e3,
	    hist_quantile(&sess, .999) / 1e3, (double)sess.max / 1e3,
	    hist_quantile(&dec, .5) / 1e3, hist_quantile(&dec, .99) / 1e3);
	for (int k = 0; k < 256; k++)
		if (reply_name(k))
			printf(" %s=%llu", reply_name(k), (unsigned long long)reply[k]);
	printf(" hot=%llu hot_accept=%llu hot_refused=%llu",
	    (unsigned long long)hot, (unsigned long long)hot_reply[SMFIR_ACCEPT],
	    (unsigned long long)(hot - hot_reply[SMFIR_ACCEPT]));
	for (int k = 0; k < E_KINDS; k++)
		printf(" err_%s=%llu", err_name[k], (unsigned long long)err[k]);
	printf("\n");
	free(opt.zipf_cdf);
	return errors ? 1 : 0;
}
