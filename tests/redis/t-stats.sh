# The USR2 statistics line carries the Redis fields: up or down, round
# trips (one per counted connection), errors by reason, timeouts,
# fallbacks, round-trip p50/p99.  With Redis stopped, a connection is a
# fallback and the line says down.
# checks: 2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/daemon.sh"
BIN=$1 T=$REDIS_SUITE_TMP
trap 'mrl_stop_all; redis_stop' EXIT
redis_start "$T/r" || { fail redis/stats-up "no redis"; fail redis/stats-down "no redis"; exit 0; }
mrl_start "$T/m" "redis = \"unix:$REDIS_SOCK\"" 'redis_timeout_ms = 1000' ||
	{ fail redis/stats-up "daemon did not start"; fail redis/stats-down "-"; exit 0; }
mt_rr 192.0.2.70 4 "$T/m" > /dev/null 2>&1
# stats_line N: the Nth stats line, once written.
stats_line() { wait_for 10 sh -c "[ \$(grep -c ' stats connections=' '$T/m/log') -ge $1 ]" &&
	grep ' stats connections=' "$T/m/log" | sed -n "${1}p"; }
mrl_signal "$T/m" USR2
l=$(stats_line 1)
case $l in
*" redis=up redis_round_trips=4 redis_errors=0 redis_timeouts=0 redis_fallbacks=0 redis_rtt_p50_us="[1-9]*" redis_rtt_p99_us="[1-9]*" redis_error_reasons=timeout:0,connect:0,eof:0,auth:0,oom:0,readonly:0,busy:0,loading:0,masterdown:0,noscript:0,wrong_type:0,other:0")
	pass redis/stats-up ;;
*) fail redis/stats-up "line: $l" ;;
esac
redis_stop
mt_rr 192.0.2.71 1 "$T/m" > /dev/null 2>&1
mrl_signal "$T/m" USR2
l=$(stats_line 2)
case $l in
*" redis=down redis_round_trips=4 redis_errors=1 "*" redis_fallbacks=1 "*)
	pass redis/stats-down ;;
*) fail redis/stats-down "line: $l" ;;
esac
