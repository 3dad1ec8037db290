# control_socket = "" must not make a reload impossible: the unit's
# ExecReload passes -P $MAINPID, and ratelimit-ctl then checks the
# config and sends SIGUSR1 (exit 0, the daemon reloads); a broken config
# gives its FILE:LINE and a non-zero exit, and no signal is sent.
# checks: 3
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
{
	echo "socket = \"unix:$W/m.sock\""
	echo 'control_socket = ""'
	echo "limit = 3"
	echo 'user = "root"'
} > "$W/conf"
"$BIN" -d -f "$W/conf" > "$W/log" 2>&1 &
DPID=$!
if ! wait_for 10 test -S "$W/m.sock"; then
	fail control/reload-nosocket-signals "daemon did not come up: $(oneline "$W/log")"
	fail control/reload-nosocket-bad-config "-"; fail control/reload-nosocket-unit "-"; exit 0
fi
reloads() { grep -c 'reload' "$W/log"; }

T=control/reload-nosocket-signals
"$CTL" -f "$W/conf" -P "$DPID" reload > "$W/ctl.out" 2> "$W/ctl.err"
rc=$?
if [ $rc = 0 ] && grep -q '^OK signalled' "$W/ctl.out" &&
    wait_for 10 grep -q 'reloaded' "$W/log"; then
	pass $T; else fail $T "rc=$rc $(oneline "$W/ctl.out") $(oneline "$W/ctl.err"); log: $(oneline "$W/log")"; fi

T=control/reload-nosocket-bad-config
before=$(reloads)
cp "$W/conf" "$W/conf.good"
echo 'limit = x' >> "$W/conf"
"$CTL" -f "$W/conf" -P "$DPID" reload > "$W/ctl.out" 2> "$W/ctl.err"
rc=$?
after=$(reloads)
if [ $rc = 78 ] && grep -q "$W/conf:5" "$W/ctl.err" && [ "$before" = "$after" ] &&
    kill -0 "$DPID" 2>/dev/null; then
	pass $T; else fail $T "rc=$rc err: $(oneline "$W/ctl.err"); reload lines $before -> $after"; fi

T=control/reload-nosocket-unit
u=$(sed -n 's/^ExecReload=//p' "$(dirname "$0")/../../conf/milter-ratelimit.service")
case $u in
*" -P \$MAINPID "*reload) pass $T ;;
*) fail $T "ExecReload=$u" ;;
esac
