# A connection the server closed while it sat idle (Redis's `timeout`; a
# restart or CLIENT KILL look the same) is replaced within the same call:
# the next session is still decided by Redis, no fallback, no down line.
# checks: 2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/daemon.sh"
BIN=$1 T=$REDIS_SUITE_TMP
trap 'mrl_stop_all; redis_stop' EXIT
evalsha_calls() { rcli INFO commandstats | tr -d '\r' | sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),.*/\1/p' | grep . || echo 0; }
# clients other than the redis-cli asking
others() { [ "$(rcli CLIENT LIST | grep -vc 'cmd=client')" = "$1" ]; }
redis_start "$T/r" || { fail redis/idle-decided "no redis"; fail redis/idle-no-down "no redis"; exit 0; }
mrl_start "$T/m" "redis = \"unix:$REDIS_SOCK\"" 'redis_timeout_ms = 1000' ||
	{ fail redis/idle-decided "daemon did not start"; fail redis/idle-no-down "-"; exit 0; }
mt_rr 192.0.2.80 2 "$T/m" > /dev/null 2>&1
rcli CONFIG SET timeout 1 > /dev/null
# The server drops the daemon's idle connection(s) within a few seconds.
wait_for 10 others 0 || fail redis/idle-decided "the server kept the idle connection"
rcli CONFIG SET timeout 0 > /dev/null
before=$(evalsha_calls)
mt_rr 192.0.2.81 1 "$T/m" > "$T/a" 2>&1
after=$(evalsha_calls)
[ "$after" = $((before + 1)) ] && [ "$(count_of ACCEPT "$T/a")" = 1 ] && pass redis/idle-decided ||
	fail redis/idle-decided "EVALSHA $before -> $after: $(tr '\n' ' ' < "$T/a") $(grep redis "$T/m/log" | tail -n 2 | tr '\n' ' ')"
! grep -q 'redis down' "$T/m/log" && pass redis/idle-no-down ||
	fail redis/idle-no-down "$(grep 'redis down' "$T/m/log")"
