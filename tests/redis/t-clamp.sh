# Time never runs backwards for a key: the server's clock (TIME) can be
# stepped back, and a call then works at the newest slot time stored in
# its keys, as window.c works at its shard's latest time.  Redis has no
# clock to move, so the key's stored time is moved ahead instead, by 5 s
# (slot 1's time t0 is the top 42 bits of the value's first six bytes,
# the other slots offsets from it: adding 5000 * 64 moves them all).  The
# reply's now_ms must then be that time, not TIME; the key's slots still
# count; and its expiry covers the window from the moved time, so the key
# outlives its newest slot.
# checks: 3
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/script.sh"
trap 'redis_stop' EXIT
if ! redis_start "$REDIS_SUITE_TMP/r"; then
	for c in clamp-now clamp-count clamp-ttl; do fail "redis/$c" "redis_start failed"; done
	exit 0
fi

# Two counted connections at a 60 s window, limit 5.
rwin 1 c:k 0 5 60000 > /dev/null
t1=$(rwin_field 1 1 c:k 0 5 60000)
# t0 += 5000 ms: the first six bytes hold t0 * 64 and 6 more bits.
rcli EVAL "local v = redis.call('GET', KEYS[1])
local x = 0
for i = 1, 6 do x = x * 256 + v:byte(i) end
x = x + 5000 * 64
local b = {}
for i = 6, 1, -1 do b[i] = x % 256; x = (x - b[i]) / 256 end
return redis.call('SET', KEYS[1], string.char(unpack(b)) .. v:sub(7), 'KEEPTTL')" 1 c:k > /dev/null
r=$(rwin 1 c:k 0 5 60000)
now=$(printf '%s\n' "$r" | sed -n '1s/^ *1) (integer) //p')
count=$(printf '%s\n' "$r" | sed -n '4s/^ *4) (integer) //p')
time=$(rcli TIME | head -n 1)
p=$(rcli PTTL c:k)
echo "# stored times moved 5000 ms ahead of $t1: reply now $now (server clock: $time s), count $count, PTTL $p"
# The moved slot 1 is at t1 + 5000; the reply's now is exactly that while
# the server's clock is behind it (the call ran well within 5 s of t1).
if [ -n "$now" ] && [ "$now" = $((t1 + 5000)) ]; then
	pass redis/clamp-now
else
	fail redis/clamp-now "now_ms $now, want $((t1 + 5000)) (the key's newest slot)"
fi
if [ "$count" = 3 ]; then
	pass redis/clamp-count
else
	fail redis/clamp-count "count $count, want 3 (two earlier connections in the window)"
fi
if [ -n "$p" ] && [ "$p" -gt 60000 ] && [ "$p" -le 65000 ]; then
	pass redis/clamp-ttl
else
	fail redis/clamp-ttl "PTTL $p, want 60001..65000 (the window from the moved time)"
fi
