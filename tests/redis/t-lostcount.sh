# Redis lost a client's count (restarted without persistence, FLUSHDB, a
# failover to a replica that had not got it yet, or the client's
# connections fell back to the local table while Redis was down): the
# local table, which counted every connection of this host all along,
# still has the client over its limit on this host alone.  That client
# stays refused: Redis's lower count must not let it in again.  A client
# under its limit everywhere is still let in after the flush.
# checks: 2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/daemon.sh"
BIN=$1 T=$REDIS_SUITE_TMP
trap 'mrl_stop_all; redis_stop' EXIT
redis_start "$T/r" || { fail redis/lostcount-refused "no redis"; fail redis/lostcount-others "-"; exit 0; }
mrl_start "$T/m" "redis = \"unix:$REDIS_SOCK\"" 'redis_timeout_ms = 1000' ||
	{ fail redis/lostcount-refused "daemon did not start"; fail redis/lostcount-others "-"; exit 0; }
mt_rr 192.0.2.96 $((LIMIT + 1)) "$T/m" > "$T/a" 2>&1
mt_rr 192.0.2.97 1 "$T/m" > /dev/null 2>&1
rcli FLUSHDB > /dev/null
mt_rr 192.0.2.96 2 "$T/m" > "$T/b" 2>&1
mt_rr 192.0.2.97 1 "$T/m" > "$T/c" 2>&1
[ "$(count_of ACCEPT "$T/a")" = "$LIMIT" ] && [ "$(count_of REPLYCODE "$T/a")" = 1 ] &&
	[ "$(count_of REPLYCODE "$T/b")" = 2 ] && pass redis/lostcount-refused ||
	fail redis/lostcount-refused "before the flush: $(tr '\n' ' ' < "$T/a"); after: $(tr '\n' ' ' < "$T/b")"
[ "$(count_of ACCEPT "$T/c")" = 1 ] && ! grep -q 'redis down' "$T/m/log" &&
	pass redis/lostcount-others ||
	fail redis/lostcount-others "$(tr '\n' ' ' < "$T/c") $(grep -h 'redis down' "$T/m/log" | tr '\n' ' ')"
