# tests/control/lib.sh: a daemon on a private directory, its control
# socket, the fake clock, and miltertest sessions.  Source it from a
# t-*.sh after tests/lib.sh; $1 of the test is the daemon's path.
#
# ctl_start [CONFIG-LINE...]: start the daemon in $W (socket m.sock,
#   control socket c.sock, limit 3 per 60 s, the given lines), on the fake
#   clock $W/clock; returns 1 when it does not come up.
# ctl ARGS...: ratelimit-ctl -s $W/c.sock ARGS; its output in $W/ctl.out,
#   its stderr in $W/ctl.err, its status in $CTL_RC.
# conns ADDR N [PORT [HOST]]: N milter sessions from ADDR (on MTA port
#   PORT: {daemon_port}, "" for none; as the verified name HOST); prints
#   one reply name per session (ACCEPT, REPLYCODE...).
# field NAME: the value of NAME in the first record of $W/ctl.out
#   (text output: "name  value").
BIN=$1
CTL=$(dirname "$BIN")/ratelimit-ctl
W=$CONTROL_SUITE_TMP
HERE=$(cd "$(dirname "$0")" && pwd)
DPID=

# SIGKILL: libmilter takes up to 5 s to leave its loop after SIGTERM
# (FACTS 1), which six files would pay in turn; the clean stop is the
# milter suite's to test.  Waited for, so no daemon outlives its test.
ctl_stop() {
	if [ -n "$DPID" ]; then
		kill -KILL "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
		DPID=
	fi
}
trap ctl_stop EXIT

ctl_start() {
	{
		echo "socket = \"unix:$W/m.sock\""
		echo "control_socket = \"$W/c.sock\""
		echo "limit = 3"
		echo "window = 60"
		echo "max_clients = 10000"
		echo 'user = "root"'
		for _l in "$@"; do echo "$_l"; done
	} > "$W/conf"
	env $(fakeclock_env "$W/clock") "$BIN" -d -f "$W/conf" > "$W/log" 2>&1 &
	DPID=$!
	wait_for 10 test -S "$W/c.sock" -a -S "$W/m.sock"
}

ctl() {
	"$CTL" -s "$W/c.sock" "$@" > "$W/ctl.out" 2> "$W/ctl.err"
	CTL_RC=$?
}

field() {
	sed -n "s/^$1  *//p" "$W/ctl.out" | head -n 1
}

conns() {
	timeout -k 2 20 miltertest -D sock="unix:$W/m.sock" -D addr="$1" -D n="$2" \
	    ${3:+-D port="$3"} ${4:+-D host="$4"} -s "$HERE/conns.lua" 2> "$W/mt.err"
}

# oneline FILE: a file's last lines on one line, for FAIL messages.
oneline() { tail -n "${2:-4}" "$1" 2>/dev/null | tr '\n' ' ' | cut -c1-400; }
