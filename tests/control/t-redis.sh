# With Redis configured, Redis decides: explain says backend=redis (its
# counts are the local table's, which the daemon keeps warm), and reset
# forgets the key in Redis too, so the refused client's next connection
# is accepted (before, Redis still counted it and refused).  A prefix
# reset cannot reach Redis's keys and says so (redis=not-reset).
# checks: 3
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../redis/server.sh"
trap 'ctl_stop; redis_stop' EXIT
if ! redis_start "$W/redis"; then
	fail control/redis-reset-next-accepted "redis-server did not start"
	fail control/redis-explain-backend "-"; fail control/redis-reset-prefix-says "-"; exit 0
fi
if ! ctl_start "redis = \"unix:$REDIS_SOCK\"" 'redis_timeout_ms = 1000'; then
	fail control/redis-reset-next-accepted "daemon did not come up: $(oneline "$W/log")"
	fail control/redis-explain-backend "-"; fail control/redis-reset-prefix-says "-"; exit 0
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
