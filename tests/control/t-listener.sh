# explain -p PORT: a listener section's own limit and keys (counted apart
# from the global ones), named by its FILE:LINE; a mode "off" listener is
# exempt; without -p the global keys, which the listener's sessions
# never touched.
# checks: 3
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
if ! ctl_start 'listener 587 {' ' limit = 1' '}' 'listener 2525 {' ' mode = "off"' '}'; then
	fail control/listener-start "daemon did not come up: $(oneline "$W/log")"
	exit 1
fi
line=$(grep -n '^}' "$W/conf" | head -n 1 | cut -d: -f1)

T=control/listener-explain-port
# The refused second session counts too (count_refused).
got=$(conns 192.0.2.70 2 587 | tr '\n' ' ')
"$CTL" -s "$W/c.sock" -p 587 explain 192.0.2.70 > "$W/ctl.out" 2> "$W/ctl.err"; rc=$?
if [ "$got" = "ACCEPT REPLYCODE " ] && [ $rc = 1 ] && [ "$(field key)" = "192.0.2.70/32 port 587" ] &&
    [ "$(field count)" = 2 ] && [ "$(field limit)" = 1 ] &&
    [ "$(field rule)" = "listener 587 ($W/conf:$line)" ]; then
	pass $T; else fail $T "milter: $got; rc=$rc $(oneline "$W/ctl.out" 14) $(oneline "$W/ctl.err")"; fi

T=control/listener-explain-global-apart
ctl explain 192.0.2.70
if [ $CTL_RC = 0 ] && [ "$(field count)" = 0 ] && [ "$(field rule)" = "global limit" ]; then
	pass $T; else fail $T "rc=$CTL_RC $(oneline "$W/ctl.out" 12)"; fi

T=control/listener-explain-off
"$CTL" -s "$W/c.sock" --port 2525 explain 192.0.2.70 > "$W/ctl.out" 2>&1; rc=$?
if [ $rc = 2 ] && [ "$(field verdict)" = exempt ] && grep -q '^listener  *listener 2525 (.*) mode off$' "$W/ctl.out"; then
	pass $T; else fail $T "rc=$rc $(oneline "$W/ctl.out" 8)"; fi
