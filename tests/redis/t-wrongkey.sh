# One client's key holding another type (a list another tool wrote
# there) makes the script fail with WRONGTYPE for that client alone: the
# server answered, so Redis is not down.  It used to open the circuit
# breaker, so every other client fell back to its host's table for a
# second, and again each time that client came back.  Now that client's
# table decides, the reason is counted, no "redis down" line is logged,
# and the next client is still counted in Redis.
# checks: 3
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/daemon.sh"
BIN=$1 T=$REDIS_SUITE_TMP
trap 'mrl_stop_all; redis_stop' EXIT
calls() { rcli INFO commandstats | tr -d '\r' | sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),.*/\1/p' | grep . || echo 0; }
if ! redis_start "$T/r" ||
    ! mrl_start "$T/d" "redis = \"unix:$REDIS_SOCK\"" 'redis_timeout_ms = 1000'; then
	for c in wrongkey-answered wrongkey-others wrongkey-counted; do fail "redis/$c" "no redis or no daemon"; done
	exit 0
fi
# The key of 192.0.2.90/32: the prefix, the v4-mapped address, plen 128.
rcli EVAL "return redis.call('RPUSH', 'mrl:' .. string.char(0,0,0,0,0,0,0,0,0,0,255,255,192,0,2,90,128), 'x')" 0 > /dev/null
mt_rr 192.0.2.90 $((LIMIT + 1)) "$T/d" > "$T/bad" 2>&1
c0=$(calls)
mt_rr 192.0.2.91 3 "$T/d" > /dev/null 2>&1
c1=$(calls)
echo "# EVALSHA calls after the client with the list: $c0, after 3 of another: $c1"
if [ "$(count_of ACCEPT "$T/bad")" = "$LIMIT" ] && [ "$(count_of REPLYCODE "$T/bad")" = 1 ]; then
	pass redis/wrongkey-answered
else
	fail redis/wrongkey-answered "$(tr '\n' ' ' < "$T/bad")"
fi
if [ "$c1" = $((c0 + 3)) ] && ! grep -q 'redis down' "$T/d/log"; then
	pass redis/wrongkey-others
else
	fail redis/wrongkey-others "calls $c0 then $c1 (want +3): $(grep 'redis down' "$T/d/log" | head -n 1)"
fi
mrl_signal "$T/d" USR2
if wait_for 5 grep -q "redis=up .*wrong_type:$((LIMIT + 1))" "$T/d/log"; then
	pass redis/wrongkey-counted
else
	fail redis/wrongkey-counted "$(grep 'redis=' "$T/d/log" | tail -n 1)"
fi
