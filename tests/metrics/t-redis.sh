# With Redis configured, its state and round trips join the metrics
# (issue 13): milter_ratelimit_redis_up is 1 while Redis answers, each
# counted connection is one round trip and one observation of the
# round-trip histogram (whose _count equals its +Inf bucket), and with
# Redis stopped the next connection is a fallback, an error by reason,
# and redis_up goes to 0.  promtool accepts the exposition.  Without
# Redis the gauges say so (configured 0) and no round trip is counted.
# checks: 3
BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/lib.sh"
. "$HERE/../redis/server.sh"
T=$METRICS_SUITE_TMP
trap 'mrl_kill r; mrl_kill n; redis_stop' EXIT
val() { printf '%s\n' "$1" | awk -v n="$2" '$1 == n { print $2 }'; }

if ! redis_start "$T/redis"; then
	fail metrics/redis-up-round-trips "redis-server did not start"
	fail metrics/redis-down-fallback "-"; fail metrics/redis-off-gauges "-"; exit 0
fi
if ! mrl_start_metrics r "redis = \"unix:$REDIS_SOCK\"" 'redis_timeout_ms = 1000'; then
	fail metrics/redis-up-round-trips "daemon did not start: $(tail -n 3 "$T/r/log" | tr '\n' ' ')"
	fail metrics/redis-down-fallback "-"; fail metrics/redis-off-gauges "-"; exit 0
fi
U=http://127.0.0.1:$MPORT/metrics
mt_seq r "192.0.2.1=A 192.0.2.1=A 192.0.2.1=R" > "$T/mt1" 2>&1
m=$(scrape "$U")
printf '%s\n' "$m" > "$T/scrape1"
why=
[ "$(val "$m" milter_ratelimit_redis_configured)" = 1 ] || why="$why configured not 1;"
[ "$(val "$m" milter_ratelimit_redis_up)" = 1 ] || why="$why up not 1;"
[ "$(val "$m" milter_ratelimit_redis_round_trips_total)" = 3 ] || why="$why round trips not 3;"
[ "$(val "$m" milter_ratelimit_redis_roundtrip_seconds_count)" = 3 ] || why="$why rtt count not 3;"
[ "$(val "$m" 'milter_ratelimit_redis_roundtrip_seconds_bucket{le="+Inf"}')" = 3 ] ||
	why="$why rtt +Inf bucket not 3;"
pc=$(printf '%s\n' "$m" | promtool check metrics 2>&1) || why="$why promtool: $pc;"
[ -z "$why" ] && pass metrics/redis-up-round-trips ||
	fail metrics/redis-up-round-trips "$why (scrape in $T/scrape1)"

redis_stop
mt_seq r "192.0.2.7=A" > "$T/mt2" 2>&1
m=$(scrape "$U")
printf '%s\n' "$m" > "$T/scrape2"
why=
[ "$(val "$m" milter_ratelimit_redis_up)" = 0 ] || why="$why up not 0;"
[ "$(val "$m" milter_ratelimit_redis_fallbacks_total)" = 1 ] || why="$why fallbacks not 1;"
e=$(printf '%s\n' "$m" | awk '$1 ~ /^milter_ratelimit_redis_errors_total\{reason="/ { s += $2 } END { print s + 0 }')
[ "$e" = 1 ] || why="$why errors by reason sum to $e, not 1;"
[ "$(val "$m" milter_ratelimit_redis_round_trips_total)" = 3 ] || why="$why round trips moved;"
[ -z "$why" ] && pass metrics/redis-down-fallback ||
	fail metrics/redis-down-fallback "$why (scrape in $T/scrape2)"

why=
if ! mrl_start_metrics n; then
	why="daemon without redis did not start"
else
	mt_seq n "192.0.2.1=A" > "$T/mt3" 2>&1
	m=$(scrape "http://127.0.0.1:$MPORT/metrics")
	[ "$(val "$m" milter_ratelimit_redis_configured)" = 0 ] || why="$why configured not 0;"
	[ "$(val "$m" milter_ratelimit_redis_up)" = 0 ] || why="$why up not 0;"
	[ "$(val "$m" milter_ratelimit_redis_round_trips_total)" = 0 ] || why="$why round trips not 0;"
fi
[ -z "$why" ] && pass metrics/redis-off-gauges || fail metrics/redis-off-gauges "$why"
