/*
 * redis_conn.h: connections to Redis, one per libmilter worker thread.
 *
 * A hiredis context is not thread-safe, so each thread that asks Redis
 * keeps its own (thread-local, pthread_key with a destructor that frees
 * it when libmilter ends the thread).  On connect: AUTH (when a password
 * file is set), SELECT (redis_db other than 0), SCRIPT LOAD (the server
 * computes the SHA1 we then call).  A context that returned any error is
 * freed at once and the next call connects afresh: hiredis leaves a
 * context after an error in no state to be used again, and a reply read
 * late would be paired with the next request.
 *
 * Every call is bounded by redis_timeout_ms from its start, connect and
 * commands together: what is left of it is the connect timeout
 * (redisConnect*WithTimeout) and then each command's socket timeout
 * (redisSetTimeout: SO_RCVTIMEO/SO_SNDTIMEO).
 *
 * Settings change on reload: redis_conn_configure() bumps a generation;
 * a thread whose context was made under an older one drops it before its
 * next call, so no context is ever used with new settings.
 */
#ifndef MRL_REDIS_CONN_H
#define MRL_REDIS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "redis_breaker.h"
#include "window.h"

/* src/redis_window.lua, made a C string by the Makefile. */
extern const char redis_window_script[];

/* Install c's Redis settings (c->redis NULL: off).  True when they
 * differ from those in force (the caller resets the breaker).  Any
 * thread; contexts follow at their next call. */
bool redis_conn_configure(const struct config *c);

/* Is Redis configured now? */
bool redis_conn_enabled(void);

/* The script's reply, checked: what redis_store hands on. */
struct redis_answer {
	int64_t now_ms;
	int refused_by;
	uint32_t retry_ms;
	uint32_t count[WINDOW_KEYS_MAX];
};

/*
 * Run the script for n keys (1..WINDOW_KEYS_MAX, table form) under
 * rules on this thread's connection.  Returns 1 with *a filled; 0 when
 * Redis is off (no call made); -1 on failure with *why and a short detail
 * (for the down line) in detail; -2 likewise when the server answered
 * but refused this call's keys alone (WRONGTYPE: a key of another type
 * at one of them), which says nothing about Redis's health.  *rtt_us:
 * the EVALSHA round trip.
 */
int redis_conn_eval(size_t n, const struct window_key keys[],
    const struct window_rule rules[], struct redis_answer *a, uint64_t *rtt_us,
    enum redis_reason *why, char *detail, size_t dlen);

/* The most keys one redis_conn_del takes: an address's keys under every
 * listener section and a name entry (policyctl.h), in one DEL. */
#define REDIS_DEL_KEYS_MAX 128

/*
 * DEL the n (1..REDIS_DEL_KEYS_MAX) keys (table form, packed as redis_conn_eval packs them) on
 * this thread's connection, for `ratelimit-ctl reset`.  Returns 1 with
 * *deleted the keys that existed; 0 when Redis is off; -1 on failure.
 * Bounded by redis_timeout_ms.  Not counted in the statistics and never
 * the breaker's business: no decision depends on it.
 */
int redis_conn_del(size_t n, const struct window_key keys[], uint64_t *deleted,
    enum redis_reason *why, char *detail, size_t dlen);

#endif
