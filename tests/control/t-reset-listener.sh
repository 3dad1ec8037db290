# reset ADDRESS lets the refused client's next connection through
# whichever listener it comes in on: the keys a listener section counts
# it under (the port folded in) are forgotten too; with HOSTNAME, the
# name entry's key for that verified name too (through a listener as
# well); a host name goes with an address only.  With Redis configured
# the same keys go in Redis's one DEL (before, the client stayed refused
# through the listener, locally and in Redis).
# checks: 6
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../redis/server.sh"
trap 'ctl_stop; redis_stop' EXIT
MAP=$W/names
printf '%s\n' 'mx1.limited.example 1/1m' > "$MAP.txt"
"$(dirname "$BIN")/ratelimit-map" "$MAP.db" < "$MAP.txt" 2> "$W/map.err" ||
	echo "# ratelimit-map: $(oneline "$W/map.err")"
if ! ctl_start "exempt_map = \"$MAP.db\"" 'listener 587 {' ' limit = 1' '}'; then
	fail control/reset-listener-start "daemon did not come up: $(oneline "$W/log")"
	exit 1
fi

# after ADDR PORT HOST [RESET-ARG]: two sessions (the second refused), a
# reset, one more session; sets got, rc, forgot, after.
after() {
	got=$(conns "$1" 2 "$2" "$3" | tr '\n' ' ')
	ctl reset "$1" ${4:-}
	rc=$CTL_RC forgot=$(field forgotten) rr=$(field redis)
	after=$(conns "$1" 1 "$2" "$3" | tr '\n' ' ')
}

T=control/reset-listener-next-accepted
after 192.0.2.80 587 ""
if [ "$got" = "ACCEPT REPLYCODE " ] && [ $rc = 0 ] && [ "$forgot" = 1 ] &&
    [ "$after" = "ACCEPT " ]; then pass $T; else
	fail $T "before: $got; reset rc=$rc forgotten=$forgot; after: $after $(oneline "$W/ctl.err")"; fi

T=control/reset-name-entry-next-accepted
after 192.0.2.81 "" mx1.limited.example mx1.limited.example
if [ "$got" = "ACCEPT REPLYCODE " ] && [ $rc = 0 ] && [ "$forgot" = 1 ] &&
    [ "$after" = "ACCEPT " ]; then pass $T; else
	fail $T "before: $got; reset rc=$rc forgotten=$forgot; after: $after $(oneline "$W/ctl.err")"; fi

T=control/reset-name-entry-listener-next-accepted
after 192.0.2.82 587 mx1.limited.example mx1.limited.example
if [ "$got" = "ACCEPT REPLYCODE " ] && [ $rc = 0 ] && [ "$forgot" = 1 ] &&
    [ "$after" = "ACCEPT " ]; then pass $T; else
	fail $T "before: $got; reset rc=$rc forgotten=$forgot; after: $after $(oneline "$W/ctl.err")"; fi

T=control/reset-prefix-no-host
ctl reset 192.0.2.0/24 mx1.limited.example
if [ $CTL_RC != 0 ] && grep -q 'no host name with a prefix' "$W/ctl.err"; then pass $T; else
	fail $T "rc=$CTL_RC $(oneline "$W/ctl.err")"; fi

# The same with Redis deciding.
ctl_stop
rm -f "$W/c.sock" "$W/m.sock"
T=control/reset-listener-redis
T2=control/reset-name-entry-listener-redis
if ! redis_start "$W/redis"; then
	fail $T "redis-server did not start"; fail $T2 "-"; exit 0
fi
if ! ctl_start "exempt_map = \"$MAP.db\"" 'listener 587 {' ' limit = 1' '}' \
    "redis = \"unix:$REDIS_SOCK\"" 'redis_timeout_ms = 2000'; then
	fail $T "daemon did not come up: $(oneline "$W/log")"; fail $T2 "-"; exit 0
fi
after 192.0.2.90 587 ""
if [ "$got" = "ACCEPT REPLYCODE " ] && [ $rc = 0 ] && [ "$rr" = reset ] &&
    [ "$after" = "ACCEPT " ]; then pass $T; else
	fail $T "before: $got; reset rc=$rc redis='$rr'; after: $after $(oneline "$W/ctl.out")"; fi

after 192.0.2.91 587 mx1.limited.example mx1.limited.example
if [ "$got" = "ACCEPT REPLYCODE " ] && [ $rc = 0 ] && [ "$rr" = reset ] &&
    [ "$after" = "ACCEPT " ]; then pass $T2; else
	fail $T2 "before: $got; reset rc=$rc redis='$rr'; after: $after $(oneline "$W/ctl.out")"; fi
