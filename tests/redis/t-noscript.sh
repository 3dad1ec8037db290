# NOSCRIPT (SCRIPT FLUSH; a restart or failover look the same): the
# daemon loads the script again and retries that call once, so the
# decision is still Redis's and no down line is written.  A client at
# its limit in total, though under it on each host, stays refused.
# checks: 2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/daemon.sh"
BIN=$1 T=$REDIS_SUITE_TMP
trap 'mrl_stop_all; redis_stop' EXIT
redis_start "$T/r" || { fail redis/noscript-decided "no redis"; fail redis/noscript-no-down "-"; exit 0; }
for i in 1 2; do
	mrl_start "$T/m$i" "redis = \"unix:$REDIS_SOCK\"" 'redis_timeout_ms = 1000' ||
		{ fail redis/noscript-decided "daemon $i did not start"; fail redis/noscript-no-down "-"; exit 0; }
done
mt_rr 192.0.2.95 "$LIMIT" "$T/m1" "$T/m2" > "$T/a" 2>&1
rcli SCRIPT FLUSH > /dev/null
mt_rr 192.0.2.95 2 "$T/m1" "$T/m2" > "$T/b" 2>&1
[ "$(count_of ACCEPT "$T/a")" = "$LIMIT" ] && [ "$(count_of REPLYCODE "$T/b")" = 2 ] &&
	pass redis/noscript-decided ||
	fail redis/noscript-decided "before: $(tr '\n' ' ' < "$T/a"); after SCRIPT FLUSH: $(tr '\n' ' ' < "$T/b")"
! grep -q 'redis down' "$T/m1/log" "$T/m2/log" && pass redis/noscript-no-down ||
	fail redis/noscript-no-down "$(grep -h 'redis down' "$T/m1/log" "$T/m2/log" | tr '\n' ' ')"
