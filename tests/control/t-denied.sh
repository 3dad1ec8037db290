# Who may ask: the CLI run as nobody cannot reach the socket as created
# (0660, root and control_group); with the socket opened to everyone the
# daemon itself refuses nobody by SO_PEERCRED ("ERR denied", exit 4) and
# logs the uid and pid; with control_group nobody's own group, nobody is
# served.
# checks: 4
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ]; then
	for t in socket-mode peercred-denied denied-logged group-member; do
		skip control/denied-$t "needs root (setpriv to nobody)"
	done
	exit 0
fi
NOBODY_UID=$(id -u nobody) NOBODY_GROUP=$(id -gn nobody)
# nobody may not reach the build tree: a copy of the CLI beside the test.
mkdir -m 0755 "$W/bin" && cp "$CTL" "$W/bin/ratelimit-ctl" && chmod 0755 "$W/bin/ratelimit-ctl"
as_nobody() {
	setpriv --reuid="$NOBODY_UID" --regid="$(id -g nobody)" --clear-groups \
	    "$W/bin/ratelimit-ctl" -s "$W/c.sock" "$@" > "$W/nb.out" 2> "$W/nb.err"
}
if ! ctl_start; then
	fail control/denied-start "daemon did not come up: $(oneline "$W/log")"
	exit 1
fi

T=control/denied-socket-mode
mode=$(stat -c '%a %U %G' "$W/c.sock")
as_nobody stats; rc=$?
if [ "$mode" = "660 root root" ] && [ $rc = 3 ] && grep -q 'Permission denied' "$W/nb.err"; then
	pass $T; else fail $T "socket $mode; nobody rc=$rc: $(oneline "$W/nb.err")"; fi

T=control/denied-peercred
chmod 0666 "$W/c.sock"
as_nobody stats; rc=$?
if [ $rc = 4 ] && grep -q 'refused the request: denied' "$W/nb.err" && [ ! -s "$W/nb.out" ]; then
	pass $T; else fail $T "rc=$rc: $(oneline "$W/nb.err") $(oneline "$W/nb.out")"; fi

T=control/denied-logged
if wait_for 5 grep -q "control: denied uid=$NOBODY_UID pid=[0-9][0-9]*" "$W/log"; then
	pass $T; else fail $T "no denied line: $(oneline "$W/log")"; fi
ctl_stop

T=control/denied-group-member
rm -f "$W/c.sock"
if ! ctl_start "control_group = \"$NOBODY_GROUP\""; then
	fail $T "daemon did not come up: $(oneline "$W/log")"
	exit 1
fi
mode=$(stat -c '%a %U %G' "$W/c.sock")
as_nobody stats; rc=$?
if [ "$mode" = "660 root $NOBODY_GROUP" ] && [ $rc = 0 ] && grep -q '^connections' "$W/nb.out"; then
	pass $T; else fail $T "socket $mode; rc=$rc $(oneline "$W/nb.err")"; fi
