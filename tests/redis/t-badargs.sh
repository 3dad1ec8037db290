# A call the contract does not allow gets an error reply and writes
# nothing: wrong argument counts, no key or more than five, count_refused
# other than 0/1, a limit or window out of range or not plain decimal, a
# key named twice, a key holding another type.  The server lives on.  A
# string the script never wrote (another layout, a cut value, one whose
# group holds more than its size) is no history: counted afresh, no error.
# checks: 4
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/script.sh"
trap 'redis_stop' EXIT
if ! redis_start "$REDIS_SUITE_TMP/r"; then
	for c in badargs-error badargs-nowrite badargs-alive badargs-foreign; do fail "redis/$c" "redis_start failed"; done
	exit 0
fi

# One key already counted, and one of another type: neither may change.
rwin 1 b:seen 0 5 60000 > /dev/null
rcli RPUSH b:list x > /dev/null
before=$(rcli GET b:seen | od -An -tx1 | tr -d ' \n')
pttl_before=$(rcli PTTL b:seen)

# Each line: the arguments after EVAL SCRIPT.
cat > "$REDIS_SUITE_TMP/cases" <<'CASES'
1 b:seen 0 5
1 b:seen 0 5 60000 7
1 b:seen 5 60000
1 b:seen 0 0 60000
1 b:seen 0 9001 60000
1 b:seen 0 5 0
1 b:seen 0 5 86400001
1 b:seen 2 5 60000
1 b:seen 0 1e3 60000
1 b:seen 0 05 60000
1 b:seen 0 -5 60000
1 b:seen 0 5 0x100
1 b:seen 0 5.5 60000
0 0 5 60000
6 b:1 b:2 b:3 b:4 b:5 b:6 0 5 1 5 1 5 1 5 1 5 1 5 1
2 b:seen b:seen 0 5 60000 5 60000
2 b:new b:seen 0 0 60000 5 60000
1 b:list 0 5 60000
CASES
errs=0 bad=
while read -r line; do
	# shellcheck disable=SC2086
	r=$(rwin $line)
	case $r in
	'(error)'*) errs=$((errs + 1)) ;;
	*) bad="$bad [$line] -> $(echo $r)" ;;
	esac
done < "$REDIS_SUITE_TMP/cases"
total=$(wc -l < "$REDIS_SUITE_TMP/cases")
if [ $errs = "$total" ]; then
	pass redis/badargs-error
else
	fail redis/badargs-error "$((total - errs)) of $total bad calls got no error:$bad"
fi

after=$(rcli GET b:seen | od -An -tx1 | tr -d ' \n')
pttl_after=$(rcli PTTL b:seen)
keys=$(rcli --scan | sort | tr '\n' ' ')
if [ "$after" = "$before" ] && [ "$keys" = "b:list b:seen " ] && [ "$(rcli LRANGE b:list 0 -1)" = x ] &&
    [ "$pttl_after" -le "$pttl_before" ]; then
	pass redis/badargs-nowrite
else
	fail redis/badargs-nowrite "keys now: $keys; b:seen kept: $([ "$after" = "$before" ] && echo yes || echo no), PTTL $pttl_before -> $pttl_after"
fi

if [ "$(rcli PING)" = PONG ] && kill -0 "$REDIS_PID" && [ "$(rwin_field 4 1 b:fresh 0 5 60000)" = 1 ]; then
	pass redis/badargs-alive
else
	fail redis/badargs-alive "the server or the script no longer answers"
fi

# Foreign values: a short text, a value of ours cut to 20 bytes, and one
# of the right length whose pending count exceeds its group size of 1
# (byte 8 holds the low 8 bits of (g - 1) * 1024 + pending - 1: all ones
# there means 256 connections in a group of 1).  Each is counted as a
# first connection (count 1) and rewritten in the script's own layout
# (26 bytes at a 60 s window).
rcli SET b:text hello > /dev/null
for k in b:cut b:pend; do
	rwin 1 $k 0 5 60000 > /dev/null
	rwin 1 $k 0 5 60000 > /dev/null
done
rcli EVAL "return redis.call('SET', KEYS[1], string.sub(redis.call('GET', KEYS[1]), 1, 20))" 1 b:cut > /dev/null
rcli EVAL "local v = redis.call('GET', KEYS[1])
return redis.call('SET', KEYS[1], v:sub(1, 7) .. string.char(255) .. v:sub(9))" 1 b:pend > /dev/null
res=
for k in b:text b:cut b:pend; do
	res="$res $k:$(rwin_field 4 1 $k 0 5 60000)/$(rcli STRLEN $k)"
done
if [ "$res" = " b:text:1/26 b:cut:1/26 b:pend:1/26" ]; then
	pass redis/badargs-foreign
else
	fail redis/badargs-foreign "count/length per key:$res (want 1/26 each)"
fi
