# Two daemons on one Redis: a client that round-robins its connections
# over both is held to exactly `limit` in total (each daemon alone would
# let it have `limit`), and another client is unaffected.  Both count in
# redis_db 3 under redis_key_prefix "site1:" (SELECT, the prefix): the keys
# are there, none in db 0, each with an expiry.
# checks: 3
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/daemon.sh"
BIN=$1 T=$REDIS_SUITE_TMP
trap 'mrl_stop_all; redis_stop' EXIT
redis_start "$T/r" || { for c in limit other db-prefix; do fail redis/share2-$c "no redis"; done; exit 0; }
for i in 1 2; do
	mrl_start "$T/m$i" "redis = \"unix:$REDIS_SOCK\"" 'redis_timeout_ms = 1000' \
	    'redis_db = 3' 'redis_key_prefix = "site1:"' ||
		{ fail redis/share2-limit "daemon $i did not start: $(tail -n 3 "$T/m$i/log")"; fail redis/share2-other "-"; fail redis/share2-db-prefix "-"; exit 0; }
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
n3=$(rcli -n 3 --scan --pattern 'site1:*' | wc -l)
n0=$(rcli -n 0 DBSIZE)
# the keys are binary (NUL bytes): their smallest PTTL, read inside Redis
ttl=$(rcli -n 3 EVAL "local m = -3 for _, k in ipairs(redis.call('KEYS', 'site1:*')) do
    local t = redis.call('PTTL', k) if m == -3 or t < m then m = t end end return m" 0)
[ "$n3" = 2 ] && [ "$n0" = 0 ] && [ "$ttl" -gt 0 ] && [ "$ttl" -le 60000 ] && pass redis/share2-db-prefix ||
	fail redis/share2-db-prefix "db 3 site1:* keys: $n3 (want 2), db 0 keys: $n0, PTTL $ttl"
