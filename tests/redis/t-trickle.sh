# redis_timeout_ms bounds the whole call, not each read: a server that
# sends its reply a byte at a time, each byte within the timeout (a
# stalled or hostile peer; here a fake server, trickle.py), must not hold
# a session longer than the timeout.  hiredis's socket timeout is per
# read(): the 21-byte reply at 150 ms a byte held the session 3 s at
# redis_timeout_ms = 300.  The session must be answered (by the local
# table) within the timeout plus a margin, and the call count as a
# timeout.
# checks: 2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/daemon.sh"
BIN=$1 T=$REDIS_SUITE_TMP
fake=
trap 'mrl_stop_all; [ -n "$fake" ] && kill "$fake" 2>/dev/null' EXIT
python3 "$HERE/trickle.py" "$T/fake.sock" 150 > "$T/fake.out" 2>&1 &
fake=$!
if ! wait_for 10 grep -q ready "$T/fake.out" ||
    ! mrl_start "$T/d" "redis = \"unix:$T/fake.sock\"" 'redis_timeout_ms = 300'; then
	for c in trickle-bounded trickle-timeout; do fail "redis/$c" "fake server or daemon did not start"; done
	exit 0
fi
start=$(date +%s%N)
mt_rr 192.0.2.60 1 "$T/d" > "$T/sess" 2>&1
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "# one session against a trickling server: $ms ms, $(tr '\n' ' ' < "$T/sess")"
# 300 ms of timeout, plus miltertest's own start and a loaded machine.
if [ "$(count_of ACCEPT "$T/sess")" = 1 ] && [ "$ms" -lt 1500 ]; then
	pass redis/trickle-bounded
else
	fail redis/trickle-bounded "$ms ms (want < 1500: timeout 300 ms), replies: $(tr '\n' ' ' < "$T/sess")"
fi
if wait_for 5 grep -q 'redis down: reason=timeout' "$T/d/log"; then
	pass redis/trickle-timeout
else
	fail redis/trickle-timeout "$(grep redis "$T/d/log" | tail -n 3 | tr '\n' ' ')"
fi
