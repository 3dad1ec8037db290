# Metrics are off by default: a daemon whose config does not set
# metrics_listen (the shipped sample's options, socket and user aside)
# listens on no TCP port at all.  The same probe on a daemon with
# metrics_listen set finds its port, so the probe can see a listener.
# checks: 1
BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/lib.sh"
T=$METRICS_SUITE_TMP
trap 'mrl_kill off; mrl_kill on' EXIT
NAME=metrics/off-by-default-nothing-listens

# tcp_listeners PID: the TCP ports PID listens on, one per line.
tcp_listeners() { ss -Hltnp | grep "pid=$1," | awk '{ print $4 }'; }

# The sample config's own lines, with what a test must change replaced.
grep -v -E '^[[:space:]]*(socket|user|pidfile|exempt_map)[[:space:]]*=' \
    "$TOP/conf/milter-ratelimit.conf" > "$T/sample"
if grep -q -E '^[[:space:]]*metrics_listen' "$T/sample"; then
	fail $NAME "the sample config sets metrics_listen"
	exit 0
fi
if ! mrl_start off "$(cat "$T/sample")"; then
	fail $NAME "daemon did not start: $(tail -n 3 "$T/off/log" | tr '\n' ' ')"
	exit 0
fi
if ! mrl_start_metrics on; then
	fail $NAME "the metrics daemon did not start: $(tail -n 3 "$T/on/log" | tr '\n' ' ')"
	exit 0
fi
off=$(tcp_listeners "$(cat "$T/off/pid")")
on=$(tcp_listeners "$(cat "$T/on/pid")")
if [ -n "$off" ]; then
	fail $NAME "the default daemon listens on: $(echo $off)"
elif [ "$on" != "127.0.0.1:$MPORT" ]; then
	fail $NAME "the probe does not see the metrics daemon's 127.0.0.1:$MPORT (saw '$(echo $on)')"
elif grep -q ': metrics: serving' "$T/off/log"; then
	fail $NAME "the default daemon logged a metrics server: $(grep ': metrics: ' "$T/off/log")"
else
	pass $NAME
fi
