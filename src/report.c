/* report.c: decision log lines, one per key per window (see report.h). */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"
#include "report.h"
#include "throttle.h"

#define FLUSH_BATCH 64

static struct throttle *throttle;	/* has its own lock */

bool
report_init(size_t slots)
{
	uint8_t seed[16];

	if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed)
		return false;
	return (throttle = throttle_create(slots, seed)) != NULL;
}

void
report_free(void)
{
	throttle_destroy(throttle);
	throttle = NULL;
}

/* A table key (128-bit prefix length) as text in family terms. */
static void
format_key(char *dst, size_t len, const struct window_key *k)
{
	struct addr a;

	memcpy(a.b, k->b, 16);
	addr_format_prefix(dst, len, &a, addr_is_v4(&a) ? k->plen - 96 : k->plen);
}

static void
log_due(const struct throttle_due *d, const char *why)
{
	char key[ADDR_STRLEN];

	format_key(key, sizeof key, &d->key);
	log_notice("refused-summary key=%s suppressed=%u%s", key, d->suppressed, why);
}

static void
report_refusal(const struct decision *d, const char *hostname, uint64_t now_ms)
{
	char client[ADDR_STRLEN], key[ADDR_STRLEN], host[256], more[32] = "";
	char entry[ADDR_STRLEN + 8] = "";
	struct throttle_due evicted;
	struct window_key k;
	uint32_t suppressed;

	memcpy(k.b, d->key.b, 16);
	k.plen = (uint8_t)(addr_is_v4(&d->key) ? d->key_plen + 96 : d->key_plen);
	/* At log_level debug the admin asked for every line. */
	if (log_getlevel() >= LOG_LEVEL_DEBUG) {
		suppressed = 0;
		evicted.suppressed = 0;
	} else if (!throttle_refusal(throttle, &k, d->window_s * 1000u, now_ms,
	    &suppressed, &evicted)) {
		return;
	}
	if (evicted.suppressed > 0)
		log_due(&evicted, " (early: its log slot was needed)");

	addr_format(client, sizeof client, &d->client);
	addr_format_prefix(key, sizeof key, &d->key, d->key_plen);
	log_escape(host, sizeof host, hostname);
	if (d->matched) {
		strcpy(entry, " entry=");
		addr_format_prefix(entry + 7, sizeof entry - 7, &d->match.prefix,
		    d->match.plen);
	}
	if (suppressed > 0)
		snprintf(more, sizeof more, " suppressed=%u", suppressed);
	log_notice("%s client=%s key=%s count=%u limit=%u window=%us stage=%s%s host=%s%s",
	    policy_kind_name(d->kind), client, key, d->count, d->limit,
	    d->window_s, config_stage_name(d->stage), entry, host, more);
}

void
report_decision(const struct decision *d, const char *hostname, uint64_t now_ms)
{
	char client[ADDR_STRLEN], key[ADDR_STRLEN];

	if (d->kind == DECIDE_REFUSE || d->kind == DECIDE_WOULD_REFUSE) {
		report_refusal(d, hostname, now_ms);
		return;
	}
	/* The rest is debug only: format nothing on the hot path otherwise. */
	if (log_getlevel() < LOG_LEVEL_DEBUG)
		return;
	switch (d->kind) {
	case DECIDE_REFUSE:
	case DECIDE_WOULD_REFUSE:
		return;
	case DECIDE_NOADDR:
		log_debug("no client address (local or unknown family): accepted");
		return;
	case DECIDE_EXEMPT:
		addr_format(client, sizeof client, &d->client);
		addr_format_prefix(key, sizeof key, &d->match.prefix, d->match.plen);
		log_debug("exempt client=%s entry=%s", client, key);
		return;
	case DECIDE_ALLOW:
	case DECIDE_UNTRACKED:
		addr_format(client, sizeof client, &d->client);
		addr_format_prefix(key, sizeof key, &d->key, d->key_plen);
		log_debug("%s client=%s key=%s count=%u limit=%u window=%us",
		    policy_kind_name(d->kind), client, key, d->count, d->limit,
		    d->window_s);
		return;
	}
}

void
report_flush(uint64_t now_ms)
{
	struct throttle_due due[FLUSH_BATCH];
	size_t n;

	/* Log outside the throttle's lock, a batch at a time. */
	do {
		n = throttle_flush(throttle, now_ms, due, FLUSH_BATCH);
		for (size_t i = 0; i < n; i++)
			log_due(&due[i], "");
	} while (n == FLUSH_BATCH);
}
