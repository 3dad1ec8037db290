# A value's offsets are as wide as its window needs: 2 bytes up to 65535
# ms, 3 up to 16777215 ms, 4 above (26, 35 and 44-byte values).  A slot
# that falls further behind slot 1 than its width can say is stored as
# "no slot" (all ones, which every window of that width has passed): it
# never counts again and the ring stays readable.  Traces of seconds never
# reach 65 s offsets, so the test makes one: a key's second slot is moved
# back to 65534 ms behind the first, and a new connection must push it to
# the third place as "no slot".
# checks: 2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/script.sh"
trap 'redis_stop' EXIT
if ! redis_start "$REDIS_SUITE_TMP/r"; then
	for c in saturate-width saturate-old-slot; do fail "redis/$c" "redis_start failed"; done
	exit 0
fi

lens=
for w in 1000 65535 65536 16777215 16777216 86400000; do
	rwin 1 s:w$w 0 5 $w > /dev/null
	lens="$lens $w:$(rcli STRLEN s:w$w)"
done
if [ "$lens" = " 1000:26 65535:26 65536:35 16777215:35 16777216:44 86400000:44" ]; then
	pass redis/saturate-width
else
	fail redis/saturate-width "window:bytes$lens"
fi

# Window 65535 ms, limit 10.  Two connections; slot 2's offset (bytes
# 9-10) becomes 65534; once the server's clock has moved on by 20 ms, a
# third connection makes that slot 65534 + 20 ms behind the new slot 1:
# beyond two bytes, so it must be stored as ff ff (bytes 11-12), and a
# fourth connection counts 3 (slots 1 and 2 and itself).
rwin 1 s:old 0 10 65535 > /dev/null
rwin 1 s:old 0 10 65535 > /dev/null
rcli EVAL "local v = redis.call('GET', KEYS[1])
return redis.call('SET', KEYS[1], v:sub(1, 8) .. string.char(255, 254) .. v:sub(11), 'KEEPTTL')" 1 s:old > /dev/null
wait_for 5 sh -c "[ \"\$($REDIS_CLI -s '$REDIS_SOCK' PTTL s:old)\" -le 65515 ]"
c3=$(rwin_field 4 1 s:old 0 10 65535)
d3=$(rcli EVAL "return string.format('%02x%02x', redis.call('GET', KEYS[1]):byte(11, 12))" 1 s:old)
c4=$(rwin_field 4 1 s:old 0 10 65535)
echo "# moved slot: third call counts $c3, its bytes 11-12 $d3, fourth call counts $c4"
if [ "$c3" = 2 ] && [ "$d3" = ffff ] && [ "$c4" = 3 ]; then
	pass redis/saturate-old-slot
else
	fail redis/saturate-old-slot "counts $c3 and $c4 (want 2 and 3), bytes 11-12 '$d3' (want ffff)"
fi
