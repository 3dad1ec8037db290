# reset: the refused client's next connection is accepted; a prefix
# reset forgets every key inside it and none outside; the daemon logs who
# asked (uid and pid).
# checks: 4
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
if ! ctl_start; then
	fail control/reset-start "daemon did not come up: $(oneline "$W/log")"
	exit 1
fi

T=control/reset-address-next-accepted
got=$(conns 192.0.2.20 4 | tr '\n' ' ')
ctl reset 192.0.2.20
rc=$CTL_RC forgot=$(field forgotten)
after=$(conns 192.0.2.20 1 | tr '\n' ' ')
if [ "$got" = "ACCEPT ACCEPT ACCEPT REPLYCODE " ] && [ $rc = 0 ] && [ "$forgot" = 1 ] &&
    [ "$after" = "ACCEPT " ]; then
	pass $T
else
	fail $T "before: $got; reset rc=$rc forgotten=$forgot; after: $after"
fi

T=control/reset-logged-with-peer
if grep -q "control: reset 192.0.2.20 by uid=$(id -u) pid=[0-9][0-9]*: 1 keys forgotten" "$W/log"; then
	pass $T; else fail $T "no reset line: $(oneline "$W/log")"; fi

T=control/reset-prefix
conns 192.0.2.21 3 > /dev/null
conns 192.0.2.22 3 > /dev/null
conns 192.0.3.1 3 > /dev/null
conns 2001:db8:5:1::1 3 > /dev/null
ctl reset 192.0.2.0/24
rc=$CTL_RC forgot=$(field forgotten)
a=$(conns 192.0.2.21 1; conns 192.0.2.22 1; conns 192.0.3.1 1; conns 2001:db8:5:1::1 1)
a=$(echo $a)
if [ $rc = 0 ] && [ "$forgot" = 3 ] && [ "$a" = "ACCEPT ACCEPT REPLYCODE REPLYCODE" ]; then
	pass $T; else fail $T "rc=$rc forgotten=$forgot (want 3: .20, .21, .22); after: $a"; fi

T=control/reset-bad-prefix
ctl reset 192.0.2.1/24
if [ $CTL_RC = 64 ] && grep -q 'host bits' "$W/ctl.err"; then pass $T; else
	fail $T "rc=$CTL_RC $(oneline "$W/ctl.err")"; fi
