# Refusals Redis decides keep the local table's refusal lines: one line
# per key per window on each host (log level notice), the rest counted
# for the summary, even when the local table alone would have let the
# client in (its count on this host is under the limit).
# checks: 2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/daemon.sh"
BIN=$1 T=$REDIS_SUITE_TMP
trap 'mrl_stop_all; redis_stop' EXIT
redis_start "$T/r" || { fail redis/lines-refused "no redis"; fail redis/lines-one-per-host "no redis"; exit 0; }
for i in 1 2; do
	mrl_start "$T/m$i" "redis = \"unix:$REDIS_SOCK\"" 'redis_timeout_ms = 1000' 'log_level = "notice"' ||
		{ fail redis/lines-refused "daemon $i did not start"; fail redis/lines-one-per-host "-"; exit 0; }
done
n=$((LIMIT * 2 + 4))
mt_rr 192.0.2.90 $n "$T/m1" "$T/m2" > "$T/a" 2>&1
[ "$(count_of REPLYCODE "$T/a")" = $((n - LIMIT)) ] && pass redis/lines-refused ||
	fail redis/lines-refused "$(tr '\n' ' ' < "$T/a")"
l1=$(grep -c 'refused client=192.0.2.90 ' "$T/m1/log")
l2=$(grep -c 'refused client=192.0.2.90 ' "$T/m2/log")
[ "$l1" = 1 ] && [ "$l2" = 1 ] && pass redis/lines-one-per-host ||
	fail redis/lines-one-per-host "refusal lines: $l1 and $l2, want 1 and 1"
