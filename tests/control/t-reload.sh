# reload: a broken config prints its FILE:LINE and exits 1, the old rules
# stay in force (the milter keeps refusing at the old limit); a good one
# prints OK and the new rules' summary, and they apply at once.
# checks: 4
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
if ! ctl_start; then
	fail control/reload-start "daemon did not come up: $(oneline "$W/log")"
	exit 1
fi
cp "$W/conf" "$W/conf.good"

T=control/reload-broken-fileline
{ cat "$W/conf.good"; echo 'limit = 5'; echo 'window = "soon"'; } > "$W/conf"
ctl reload
line=$(grep -n '^window = "soon"' "$W/conf" | cut -d: -f1)
if [ $CTL_RC = 1 ] && grep -q "^$W/conf:$line: " "$W/ctl.err" && grep -q 'reload failed' "$W/ctl.err"; then
	pass $T; else fail $T "rc=$CTL_RC, want 1 and $W/conf:$line: $(oneline "$W/ctl.err")"; fi

T=control/reload-broken-old-rules-stay
got=$(conns 192.0.2.40 4 | tr '\n' ' ')
if [ "$got" = "ACCEPT ACCEPT ACCEPT REPLYCODE " ]; then pass $T; else
	fail $T "limit 3 should still hold: $got"; fi

T=control/reload-good-ok
{ cat "$W/conf.good"; echo 'limit = 5'; } > "$W/conf"
ctl reload
if [ $CTL_RC = 0 ] && grep -q '^OK limit=5 window=60s keys=ipv4/32:5/60s' "$W/ctl.out"; then
	pass $T; else fail $T "rc=$CTL_RC: $(oneline "$W/ctl.out") $(oneline "$W/ctl.err")"; fi

T=control/reload-good-applies
got=$(conns 192.0.2.41 6 | tr '\n' ' ')
"$CTL" -s "$W/c.sock" --json stats > "$W/json"
if [ "$got" = "ACCEPT ACCEPT ACCEPT ACCEPT ACCEPT REPLYCODE " ] &&
    grep -q '"reloads":1,"reload_failures":1,' "$W/json"; then pass $T; else
	fail $T "limit 5: $got; stats: $(cat "$W/json")"; fi
