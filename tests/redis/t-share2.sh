# Two daemons on one Redis: a client that round-robins its connections
# over both is held to exactly `limit` in total (each daemon alone would
# let it have `limit`), and another client is unaffected.
# checks: 2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/daemon.sh"
BIN=$1 T=$REDIS_SUITE_TMP
trap 'mrl_stop_all; redis_stop' EXIT
redis_start "$T/r" || { fail redis/share2-limit "no redis"; fail redis/share2-other "no redis"; exit 0; }
for i in 1 2; do
	mrl_start "$T/m$i" "redis = \"unix:$REDIS_SOCK\"" 'redis_timeout_ms = 1000' ||
		{ fail redis/share2-limit "daemon $i did not start: $(tail -n 3 "$T/m$i/log")"; exit 0; }
done
mt_rr 192.0.2.20 $((LIMIT * 2 + 2)) "$T/m1" "$T/m2" > "$T/rr1" 2> "$T/rr1.err"
a=$(count_of ACCEPT "$T/rr1")
if [ "$a" = "$LIMIT" ] && [ "$(count_of REPLYCODE "$T/rr1")" = $((LIMIT + 2)) ]; then
	pass redis/share2-limit
else
	fail redis/share2-limit "accepted $a of $((LIMIT * 2 + 2)), want $LIMIT: $(tr '\n' ' ' < "$T/rr1") $(cat "$T/rr1.err")"
fi
mt_rr 192.0.2.21 "$LIMIT" "$T/m1" "$T/m2" > "$T/rr2" 2> "$T/rr2.err"
a=$(count_of ACCEPT "$T/rr2")
[ "$a" = "$LIMIT" ] && pass redis/share2-other ||
	fail redis/share2-other "another client: accepted $a of $LIMIT: $(cat "$T/rr2.err")"
