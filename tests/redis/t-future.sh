# A value whose newest slot lies far ahead of the server's clock is no
# history, not a clock: only a writer other than the script (another
# tool, a bad restore) makes one, since the script's own stored times run
# ahead of TIME only by a clock step back within a window.  Read as a
# clock, such a value moved the call's now to the year 2100 for every key
# of the client, wrote that time into all of them with an expiry of
# decades, and so refused the client for good: a refusal caused by
# garbage.  Here the value is a well-formed one (g 1, one pending, one
# slot) at t0 = 2^42 - 1000 ms; the client must be counted afresh, its
# second key too, and neither key may keep an expiry beyond its window.
# checks: 3
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/script.sh"
trap 'redis_stop' EXIT
if ! redis_start "$REDIS_SUITE_TMP/r"; then
	for c in future-fresh future-otherkey future-ttl; do fail "redis/$c" "redis_start failed"; done
	exit 0
fi

# t0 = 2^42 - 1000 (ms, year 2109), g 1, pending 1 (gp 0), no other slot.
rcli EVAL "local t0 = 2^42 - 1000
local v = struct.pack('>I6HI2I2I2I2I2I2I2I2I2', t0 * 64, 0,
    65535, 65535, 65535, 65535, 65535, 65535, 65535, 65535, 65535)
return redis.call('SET', KEYS[1], v)" 1 f:a > /dev/null

# Limit 2: a client read at the stored time would be refused on its
# second call (two in the window); counted afresh it is allowed twice.
r1=$(rwin_field 2 2 f:a f:b 0 2 60000 2 60000)
r2=$(rwin_field 2 2 f:a f:b 0 2 60000 2 60000)
cb=$(rwin_field 5 2 f:a f:b 0 2 60000 2 60000)
now=$(rwin_field 1 1 f:c 0 2 60000)
echo "# refused_by of two calls: $r1 $r2; f:b count at the third: $cb"
if [ "$r1" = -1 ] && [ "$r2" = -1 ]; then
	pass redis/future-fresh
else
	fail redis/future-fresh "refused_by $r1, $r2: want -1 -1 (the far-future value is no history)"
fi
# The third call refuses (limit 2), so f:b holds exactly the two earlier
# counted connections: count 3 reported.
if [ "$cb" = 3 ]; then
	pass redis/future-otherkey
else
	fail redis/future-otherkey "f:b count $cb, want 3"
fi
pa=$(rcli PTTL f:a); pb=$(rcli PTTL f:b)
echo "# PTTL f:a $pa, f:b $pb (now $now)"
if [ -n "$pa" ] && [ -n "$pb" ] && [ "$pa" -gt 0 ] && [ "$pa" -le 60000 ] &&
    [ "$pb" -gt 0 ] && [ "$pb" -le 60000 ]; then
	pass redis/future-ttl
else
	fail redis/future-ttl "PTTL f:a $pa, f:b $pb: want 1..60000 (the window)"
fi
