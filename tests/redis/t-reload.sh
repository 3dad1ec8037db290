# Reload (SIGUSR1) adds Redis, then removes it.  Two daemons start local
# only: a round-robin client gets `limit` from each.  Redis added to both
# configs and reloaded: the next client is held to `limit` in total.
# redis_db changed and reloaded: the next client's key is in the new
# database (no connection made with the old settings is used again).
# Removed again: no more calls reach Redis.
# checks: 4
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/daemon.sh"
BIN=$1 T=$REDIS_SUITE_TMP
trap 'mrl_stop_all; redis_stop' EXIT
evalsha_calls() { rcli INFO commandstats | tr -d '\r' | sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),.*/\1/p' | grep . || echo 0; }
redis_start "$T/r" || { for c in local added changed removed; do fail redis/reload-$c "no redis"; done; exit 0; }
# A generous bound: sanitizer builds are slow (redis_timeout_ms has no
# effect until redis is set).
mrl_start "$T/m1" 'redis_timeout_ms = 1000' && mrl_start "$T/m2" 'redis_timeout_ms = 1000' ||
	{ for c in local added changed removed; do fail redis/reload-$c "a daemon did not start"; done; exit 0; }
mt_rr 192.0.2.60 $((LIMIT * 2 + 2)) "$T/m1" "$T/m2" > "$T/local" 2>&1
[ "$(count_of ACCEPT "$T/local")" = $((LIMIT * 2)) ] && pass redis/reload-local ||
	fail redis/reload-local "accepted $(count_of ACCEPT "$T/local"), want $((LIMIT * 2))"

# reload_to TEXT WANT: append TEXT to both configs (or rewrite without the
# redis lines when TEXT is empty), USR1, wait for WANT in both logs.
reload_to() {
	for d in "$T/m1" "$T/m2"; do
		if [ -n "$1" ]; then echo "$1" >> "$d/conf"; else sed -i '/^redis/d' "$d/conf"; fi
		mrl_signal "$d" USR1
	done
	wait_for 10 sh -c "grep -q '$2' '$T/m1/log' && grep -q '$2' '$T/m2/log'"
}
if reload_to "redis = \"unix:$REDIS_SOCK\"" 'redis: counting in'; then
	mt_rr 192.0.2.61 $((LIMIT * 2 + 2)) "$T/m1" "$T/m2" > "$T/added" 2>&1
	[ "$(count_of ACCEPT "$T/added")" = "$LIMIT" ] && pass redis/reload-added ||
		fail redis/reload-added "accepted $(count_of ACCEPT "$T/added"), want $LIMIT"
else
	fail redis/reload-added "no 'redis: counting in' after USR1: $(tail -n 3 "$T/m1/log" | tr '\n' ' ')"
fi
if reload_to 'redis_db = 4' 'redis: counting in .*(db 4,'; then
	mt_rr 192.0.2.63 4 "$T/m1" "$T/m2" > "$T/changed" 2>&1
	n4=$(rcli -n 4 DBSIZE)
	[ "$n4" = 1 ] && [ "$(count_of ACCEPT "$T/changed")" = "$LIMIT" ] && pass redis/reload-changed ||
		fail redis/reload-changed "db 4 has $n4 keys (want 1); accepted $(count_of ACCEPT "$T/changed")"
else
	fail redis/reload-changed "no 'counting in ... db 4' after USR1: $(tail -n 3 "$T/m1/log" | tr '\n' ' ')"
fi
if reload_to "" 'redis: off'; then
	before=$(evalsha_calls)
	mt_rr 192.0.2.62 $((LIMIT * 2 + 2)) "$T/m1" "$T/m2" > "$T/removed" 2>&1
	after=$(evalsha_calls)
	[ "$(count_of ACCEPT "$T/removed")" = $((LIMIT * 2)) ] && [ "$after" = "$before" ] &&
		pass redis/reload-removed ||
		fail redis/reload-removed "accepted $(count_of ACCEPT "$T/removed"), EVALSHA $before -> $after"
else
	fail redis/reload-removed "no 'redis: off' after USR1: $(tail -n 3 "$T/m1/log" | tr '\n' ' ')"
fi
