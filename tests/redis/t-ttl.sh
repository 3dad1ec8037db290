# A counted key expires with its window (PX on every write), so Redis
# holds no idle client; a refused connection that is not counted writes
# nothing, so it does not keep the key alive; one that is counted
# (count_refused) does.
# checks: 4
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/script.sh"
trap 'redis_stop' EXIT
if ! redis_start "$REDIS_SUITE_TMP/r"; then
	for c in ttl-window ttl-day ttl-gone ttl-refused; do fail "redis/$c" "redis_start failed"; done
	exit 0
fi

pttl() { rcli PTTL "$1"; }
# in_range V LO HI
in_range() { [ -n "$1" ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

rwin 1 t:win 0 5 3000 > /dev/null
p=$(pttl t:win)
echo "# PTTL after a counted call, window 3000 ms: $p"
if in_range "$p" 2000 3000; then pass redis/ttl-window; else fail redis/ttl-window "PTTL $p, want 2000..3000"; fi

rwin 1 t:day 0 9000 86400000 > /dev/null
p=$(pttl t:day)
if in_range "$p" 86390000 86400000; then pass redis/ttl-day; else fail redis/ttl-day "PTTL $p, want just under 86400000"; fi

rwin 1 t:short 0 5 200 > /dev/null
if [ "$(rcli EXISTS t:short)" = 1 ] && wait_for 5 sh -c "[ \"\$($REDIS_CLI -s '$REDIS_SOCK' EXISTS t:short)\" = 0 ]"; then
	pass redis/ttl-gone
else
	fail redis/ttl-gone "a key of a 200 ms window still there after 5 s (PTTL $(pttl t:short))"
fi

# limit 1, window 60 s: the first call is counted; once its PTTL has
# visibly run down, a refused call without count_refused leaves value and
# PTTL alone; a refused call with count_refused is counted and renews it.
rwin 1 t:ref 0 1 60000 > /dev/null
v1=$(rcli GET t:ref | od -An -tx1 | tr -d ' \n')
wait_for 5 sh -c "[ \"\$($REDIS_CLI -s '$REDIS_SOCK' PTTL t:ref)\" -le 59900 ]"
by=$(rwin_field 2 1 t:ref 0 1 60000)
p2=$(pttl t:ref)
v2=$(rcli GET t:ref | od -An -tx1 | tr -d ' \n')
by3=$(rwin_field 2 1 t:ref 1 1 60000)
p3=$(pttl t:ref)
v3=$(rcli GET t:ref | od -An -tx1 | tr -d ' \n')
echo "# refused: uncounted PTTL $p2, counted PTTL $p3"
if [ "$by" = 0 ] && [ "$v2" = "$v1" ] && in_range "$p2" 1 59900 &&
    [ "$by3" = 0 ] && [ "$v3" != "$v1" ] && in_range "$p3" 59901 60000; then
	pass redis/ttl-refused
else
	fail redis/ttl-refused "refused_by $by/$by3, value kept: $([ "$v2" = "$v1" ] && echo yes || echo no), PTTL $p2 then $p3"
fi
