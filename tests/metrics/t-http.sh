# The HTTP side: GET and HEAD of /metrics only (another path 404, another
# method 405 with Allow), an IPv6 listen address serves, and clients that
# open many connections and never finish a request (one with a 100 KiB
# header) neither stall the milter nor the endpoint for good: once they
# go, /metrics answers again.
# checks: 4
BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/lib.sh"
T=$METRICS_SUITE_TMP
trap 'rm -f "$T/flag"; mrl_kill d; mrl_kill v6' EXIT

if ! mrl_start_metrics d; then
	fail metrics/http-setup "daemon did not start: $(tail -n 3 "$T/d/log" | tr '\n' ' ')"
	exit 1
fi
U=http://127.0.0.1:$MPORT
code() { $CURL -o /dev/null -w '%{http_code}' "$@"; }

why=
[ "$(code "$U/metrics")" = 200 ] || why="$why GET /metrics not 200;"
[ "$(code -I "$U/metrics")" = 200 ] || why="$why HEAD /metrics not 200;"
for p in / /metrics/ /metricsx /other '/metrics/../x'; do
	c=$(code --path-as-is "$U$p")
	[ "$c" = 404 ] || why="$why GET $p: $c, want 404;"
done
[ -z "$why" ] && pass metrics/http-get-metrics-only || fail metrics/http-get-metrics-only "$why"

why=
for m in POST PUT DELETE OPTIONS; do
	c=$(code -X $m -d x "$U/metrics")
	[ "$c" = 405 ] || why="$why $m /metrics: $c, want 405;"
done
allow=$($CURL -o /dev/null -D - -X POST -d x "$U/metrics" | tr -d '\r' | sed -n 's/^[Aa]llow: //p')
[ "$allow" = "GET, HEAD" ] || why="$why Allow: '$allow';"
[ -z "$why" ] && pass metrics/http-other-methods-405 || fail metrics/http-other-methods-405 "$why"

T6=metrics/http-ipv6-listen
n=0
ok=
while [ $n -lt 5 ] && [ -z "$ok" ]; do
	n=$((n + 1))
	P6=$(free_port)
	if mrl_start v6 "metrics_listen = \"[::1]:$P6\""; then
		ok=1
	elif ! grep -q 'Address already in use' "$T/v6/log"; then
		break
	fi
done
if [ -z "$ok" ]; then
	fail $T6 "daemon on [::1] did not start: $(tail -n 3 "$T/v6/log" | tr '\n' ' ')"
elif ! $CURL -g "http://[::1]:$P6/metrics" | grep -q '^milter_ratelimit_build_info{'; then
	fail $T6 "no exposition at http://[::1]:$P6/metrics"
elif ss -Hltn "sport = :$P6" | grep -q -v '\[::1\]'; then
	fail $T6 "listens beyond [::1]: $(ss -Hltn "sport = :$P6" | tr '\n' ' ')"
else
	pass $T6
fi

T_H=metrics/http-hostile-clients-bounded
: > "$T/flag"
python3 "$HERE/hold.py" 127.0.0.1 "$MPORT" 40 "$T/flag" > "$T/hold.out" 2>&1 &
hp=$!
wait_for 10 grep -q '^held' "$T/hold.out"
why=
# The milter answers while they hold the endpoint.
o=$(mt_seq d "192.0.2.1=A 192.0.2.1=A 192.0.2.1=R") || why="$why the milter stalled: $o;"
rm -f "$T/flag"
wait "$hp"
served() { $CURL "$U/metrics" | grep -q '^milter_ratelimit_connections_total{verdict="refused"} 1$'; }
wait_for 10 served || why="$why /metrics does not answer (refused 1) once they left: $($CURL "$U/metrics" 2>&1 | head -n 3 | tr '\n' ' ');"
[ -d "/proc/$(cat "$T/d/pid")" ] || why="$why the daemon died;"
[ -z "$why" ] && pass "$T_H" || fail "$T_H" "$why ($(cat "$T/hold.out"))"
