# Three daemons on one Redis, one of them over TCP loopback: a client
# (IPv4, then IPv6) that round-robins over all three is held to exactly
# `limit` in total; another client is unaffected.
# checks: 3
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/daemon.sh"
BIN=$1 T=$REDIS_SUITE_TMP
trap 'mrl_stop_all; redis_stop' EXIT
redis_start "$T/r" || { for c in v4 v6 other; do fail redis/share3-$c "no redis"; done; exit 0; }
mrl_start "$T/m1" "redis = \"unix:$REDIS_SOCK\"" 'redis_timeout_ms = 1000' &&
mrl_start "$T/m2" "redis = \"unix:$REDIS_SOCK\"" 'redis_timeout_ms = 1000' &&
mrl_start "$T/m3" "redis = \"tcp:127.0.0.1:$REDIS_PORT\"" 'redis_timeout_ms = 1000' ||
	{ for c in v4 v6 other; do fail redis/share3-$c "a daemon did not start"; done; exit 0; }
total=$((LIMIT * 3 + 3))
for c in v4:192.0.2.30 v6:2001:db8:30::1 other:192.0.2.31; do
	name=${c%%:*} addr=${c#*:}
	n=$total
	[ "$name" = other ] && n=$LIMIT
	mt_rr "$addr" "$n" "$T/m1" "$T/m2" "$T/m3" > "$T/$name" 2> "$T/$name.err"
	a=$(count_of ACCEPT "$T/$name")
	if [ "$a" = "$LIMIT" ] && [ "$(wc -l < "$T/$name")" = "$n" ]; then
		pass redis/share3-$name
	else
		fail redis/share3-$name "$addr: accepted $a of $n, want $LIMIT: $(tr '\n' ' ' < "$T/$name") $(cat "$T/$name.err")"
	fi
done
