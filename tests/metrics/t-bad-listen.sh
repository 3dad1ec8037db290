# A bad metrics_listen is a configuration error naming FILE:LINE, exit 78
# (EX_CONFIG), for -n and for a start: a host name, a bare port (every
# interface), IPv6 without brackets, a port out of range, a zone index.
# A good one passes -n (beyond loopback with the unit's drop-in warning).  A port already taken stops the start with the
# reason (exit 71, EX_OSERR), not a daemon without its metrics.
# checks: 3
BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/lib.sh"
T=$METRICS_SUITE_TMP
trap 'mrl_kill d; mrl_kill busy' EXIT

why=
n=0
for v in 'localhost:9456' '9456' '::1:9456' '127.0.0.1:0' '127.0.0.1:65536' \
    '[fe80::1%lo]:9456' '127.0.0.1' '[::1]:x'; do
	n=$((n + 1))
	c=$T/bad$n.conf
	printf 'socket = "unix:%s/s.sock"\nuser = "root"\n# a comment\n\nmetrics_listen = "%s"\n' \
	    "$T" "$v" > "$c"
	"$BIN" -n -f "$c" > "$T/out$n" 2>&1
	rc=$?
	[ $rc = 78 ] || why="$why '$v': -n exit $rc, want 78;"
	grep -q "^$c:5: metrics_listen = " "$T/out$n" ||
		why="$why '$v': no '$c:5: metrics_listen' in: $(head -n 2 "$T/out$n" | tr '\n' ' ');"
done
# The start refuses it the same way.
"$BIN" -d -f "$T/bad1.conf" > "$T/start.out" 2>&1
rc=$?
[ $rc = 78 ] && grep -q "^$T/bad1.conf:5: " "$T/start.out" ||
	why="$why a start with a bad value: exit $rc: $(head -n 2 "$T/start.out" | tr '\n' ' ');"
[ -z "$why" ] && pass metrics/bad-listen-file-line-exit-78 || fail metrics/bad-listen-file-line-exit-78 "$why"

# Good values pass -n; one beyond loopback gets the drop-in warning
# (the shipped unit would drop the Prometheus server's packets).
why=
for v in '127.0.0.1:9456=' '[::1]:9456=' '0.0.0.0:9456=W' '[2001:db8::1]:65535=W' \
    '192.0.2.7:9456=W'; do
	w=${v##*=} v=${v%=*}
	printf 'socket = "unix:%s/s.sock"\nuser = "root"\nmetrics_listen = "%s"\n' "$T" "$v" > "$T/good.conf"
	out=$("$BIN" -n -f "$T/good.conf" 2>&1) || why="$why '$v': $out;"
	if printf '%s' "$out" | grep -q "^$T/good.conf: warning: metrics_listen = \"$(printf '%s' "$v" | sed 's/[][]/\\&/g')\" is reached from other hosts.*IPAddressAllow="; then
		[ "$w" = W ] || why="$why '$v': a loopback address got the drop-in warning;"
	else
		[ "$w" != W ] || why="$why '$v': no drop-in warning: $out;"
	fi
done
[ -z "$why" ] && pass metrics/good-listen-accepted || fail metrics/good-listen-accepted "$why"

# A port in use: the daemon does not start, and says why.
T_B=metrics/listen-port-taken-stops-start
if ! mrl_start_metrics busy; then
	fail $T_B "the first daemon did not start: $(tail -n 3 "$T/busy/log" | tr '\n' ' ')"
else
	# Its exit, not its socket, is what to wait for: a daemon that
	# made its socket might still be about to fail.
	mrl_start d "metrics_listen = \"127.0.0.1:$MPORT\""
	wait_for 10 test -e "$T/d/status"
	if [ ! -e "$T/d/status" ]; then
		fail $T_B "a second daemon runs on the taken port $MPORT"
	elif [ -e "$T/d/m.sock" ]; then
		fail $T_B "the failed start left its milter socket $T/d/m.sock"
	elif [ "$(cat "$T/d/status" 2>/dev/null)" != 71 ] ||
	    ! grep -q "metrics_listen 127.0.0.1:$MPORT: cannot listen: Address already in use" "$T/d/log"; then
		fail $T_B "exit '$(cat "$T/d/status" 2>/dev/null)', want 71 with the reason: $(tail -n 2 "$T/d/log" | tr '\n' ' ')"
	else
		pass $T_B
	fi
fi
