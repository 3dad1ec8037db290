/* report.c: decision log lines, one per key per window (see report.h). */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "report.h"

/* A table key (128-bit prefix length) as text in family terms. */
static void
format_key(char *dst, size_t len, const struct window_key *k)
{
	struct addr a;

	memcpy(a.b, k->b, 16);
	addr_format_prefix(dst, len, &a, addr_is_v4(&a) ? k->plen - 96 : k->plen);
}

void
report_due(const struct window_due *due, void *arg)
{
	char key[ADDR_STRLEN];

	(void)arg;
	if (due->key.plen == 0) {
		log_notice("%s keys=%llu suppressed=%llu (their entries were reclaimed "
		    "before the sweep could name them)",
		    due->would ? "would-refuse-summary" : "refused-summary",
		    (unsigned long long)due->keys, (unsigned long long)due->suppressed);
		return;
	}
	if (due->key.plen == LISTENER_KEY_PLEN) {
		/* Counted on a listener with a section: the key is a hash of
		 * the client key and the port; its refusal lines named both. */
		log_notice("%s key=listener suppressed=%llu",
		    due->would ? "would-refuse-summary" : "refused-summary",
		    (unsigned long long)due->suppressed);
		return;
	}
	if (due->key.plen == NAMES_KEY_PLEN) {
		/* A client counted under a name entry's limit: the key is a
		 * hash; its refusal lines named the client and the entry. */
		log_notice("%s key=name-entry suppressed=%llu",
		    due->would ? "would-refuse-summary" : "refused-summary",
		    (unsigned long long)due->suppressed);
		return;
	}
	format_key(key, sizeof key, &due->key);
	log_notice("%s key=%s suppressed=%llu",
	    due->would ? "would-refuse-summary" : "refused-summary", key,
	    (unsigned long long)due->suppressed);
}

void
report_conc_due(const struct conc_due *due, void *arg)
{
	char key[ADDR_STRLEN];
	struct addr a = due->key.a;

	(void)arg;
	addr_format_prefix(key, sizeof key, &a,
	    addr_is_v4(&a) ? due->key.plen - 96 : due->key.plen);
	log_notice("%s key=%s suppressed=%llu",
	    due->would ? "would-refuse-concurrent-summary" :
	    "refused-concurrent-summary", key,
	    (unsigned long long)due->suppressed);
}

static void
report_refusal(const struct decision *d, const char *hostname)
{
	char client[ADDR_STRLEN], key[ADDR_STRLEN], host[256], more[32] = "";
	char entry[NAMES_STRLEN + 8] = "", port[24] = "";

	/* The table decides (one line per key per window; every one at
	 * log level debug). */
	if (!d->log_line)
		return;
	addr_format(client, sizeof client, &d->client);
	addr_format_prefix(key, sizeof key, &d->key, d->key_plen);
	log_escape(host, sizeof host, hostname);
	if (d->by_name) {
		snprintf(entry, sizeof entry, " entry=%s", d->entry_name);
	} else if (d->matched) {
		strcpy(entry, " entry=");
		addr_format_prefix(entry + 7, sizeof entry - 7, &d->match.prefix,
		    d->match.plen);
	}
	if (d->suppressed > 0)
		snprintf(more, sizeof more, " suppressed=%u", d->suppressed);
	if (d->listener_port != 0)
		snprintf(port, sizeof port, " listener=%u", d->listener_port);
	log_notice("%s client=%s key=%s count=%u limit=%u window=%us stage=%s retry=%us%s%s host=%s%s",
	    policy_kind_name(d->kind), client, key, d->count, d->limit,
	    d->window_s, config_stage_name(d->stage), d->retry_s, entry, port,
	    host, more);
}

void
report_decision(const struct decision *d, const char *hostname)
{
	char client[ADDR_STRLEN], key[ADDR_STRLEN], host[256];

	if (d->kind == DECIDE_REFUSE || d->kind == DECIDE_WOULD_REFUSE) {
		report_refusal(d, hostname);
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
		if (!d->matched) {	/* a listener with mode "off" */
			log_debug("exempt client=%s listener=%u (mode off)",
			    client, d->listener_port);
			return;
		}
		if (d->by_name) {
			log_escape(host, sizeof host, hostname);
			log_debug("exempt client=%s entry=%s host=%s", client,
			    d->entry_name, host);
			return;
		}
		addr_format_prefix(key, sizeof key, &d->match.prefix, d->match.plen);
		log_debug("exempt client=%s entry=%s", client, key);
		return;
	case DECIDE_ALLOW:
	case DECIDE_UNTRACKED:
		addr_format(client, sizeof client, &d->client);
		addr_format_prefix(key, sizeof key, &d->key, d->key_plen);
		log_debug("%s client=%s key=%s count=%u limit=%u window=%us%s%s",
		    policy_kind_name(d->kind), client, key, d->count, d->limit,
		    d->window_s, d->by_name ? " entry=" : "",
		    d->by_name ? d->entry_name : "");
		return;
	}
}
