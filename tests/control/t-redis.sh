# With Redis configured, Redis decides: explain says backend=redis (its
# counts are the local table's, which the daemon keeps warm), and reset
# forgets the key in Redis too, so the refused client's next connection
# is accepted (before, Redis still counted it and refused).  A prefix
# reset cannot reach Redis's keys and says so (redis=not-reset).  With
# Redis stalled (SIGSTOP) a reset waits redis_timeout_ms (the 5 s
# maximum) and says redis=failed; ratelimit-ctl waits long enough for
# that answer.
# checks: 4
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../redis/server.sh"
trap 'ctl_stop; redis_stop' EXIT
if ! redis_start "$W/redis"; then
	fail control/redis-reset-next-accepted "redis-server did not start"
	fail control/redis-explain-backend "-"; fail control/redis-reset-prefix-says "-"
	fail control/redis-reset-stalled-says-failed "-"; exit 0
fi
if ! ctl_start "redis = \"unix:$REDIS_SOCK\"" 'redis_timeout_ms = 5000'; then
	fail control/redis-reset-next-accepted "daemon did not come up: $(oneline "$W/log")"
	fail control/redis-explain-backend "-"; fail control/redis-reset-prefix-says "-"
	fail control/redis-reset-stalled-says-failed "-"; exit 0
fi

T=control/redis-explain-backend
got=$(conns 192.0.2.40 4 | tr '\n' ' ')
ctl explain 192.0.2.40
b=$(field backend)
if [ "$got" = "ACCEPT ACCEPT ACCEPT REPLYCODE " ] && [ "$b" = redis ]; then pass $T; else
	fail $T "sessions: $got; backend '$b'"; fi

T=control/redis-reset-next-accepted
ctl reset 192.0.2.40
rc=$CTL_RC rr=$(field redis)
after=$(conns 192.0.2.40 1 | tr '\n' ' ')
if [ $rc = 0 ] && [ "$rr" = reset ] && [ "$after" = "ACCEPT " ]; then pass $T; else
	fail $T "reset rc=$rc redis='$rr'; after: $after; $(oneline "$W/ctl.out")"; fi

T=control/redis-reset-prefix-says
conns 192.0.2.41 4 > /dev/null
ctl reset 192.0.2.0/24
rc=$CTL_RC rr=$(field redis)
if [ $rc = 0 ] && [ "$rr" = not-reset ]; then pass $T; else
	fail $T "reset rc=$rc redis='$rr'; $(oneline "$W/ctl.out")"; fi

T=control/redis-reset-stalled-says-failed
kill -STOP "$REDIS_PID"
ctl reset 192.0.2.41
rc=$CTL_RC rr=$(field redis)
kill -CONT "$REDIS_PID"
if [ $rc = 0 ] && [ "$rr" = failed ] && grep -q '^redis_detail  *timeout' "$W/ctl.out"; then
	pass $T; else fail $T "reset rc=$rc redis='$rr'; $(oneline "$W/ctl.out") $(oneline "$W/ctl.err")"; fi
