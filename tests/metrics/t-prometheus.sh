# A real Prometheus scrapes the daemon and, through its query API, shows
# exactly the connections miltertest made: 3 accepted, 2 refused (limit
# 2), 4 exempt (a map entry), and the decision histogram counted all 9.
# promtool accepts the exposition as served.
# checks: 5
BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/lib.sh"
T=$METRICS_SUITE_TMP
trap 'prom_stop; mrl_kill d' EXIT

RMAP=$(dirname "$BIN")/ratelimit-map
printf '192.0.2.9 OK\n' > "$T/exempt"
"$RMAP" "$T/exempt" < "$T/exempt" > "$T/rmap.out" 2>&1 || {
	fail metrics/prometheus-setup "ratelimit-map: $(cat "$T/rmap.out")"; exit 1; }
chmod 0644 "$T/exempt.db"
if ! mrl_start_metrics d "exempt_map = \"$T/exempt.db\""; then
	fail metrics/prometheus-setup "daemon did not start: $(tail -n 3 "$T/d/log" | tr '\n' ' ')"
	exit 1
fi
o=$(mt_seq d "192.0.2.1=A 192.0.2.1=A 192.0.2.1=R 192.0.2.9=A 192.0.2.9=A 192.0.2.2=A 192.0.2.1=R 192.0.2.9=A 192.0.2.9=A") || {
	fail metrics/prometheus-setup "miltertest: $o"; exit 1; }

# The exposition as served, checked by Prometheus's own linter.
T_M=metrics/promtool-check-metrics
if ! scrape "http://127.0.0.1:$MPORT/metrics" > "$T/exposition"; then
	fail $T_M "GET /metrics failed"
elif ! out=$(promtool check metrics < "$T/exposition" 2>&1); then
	fail $T_M "promtool check metrics: $(printf '%s' "$out" | head -n 5 | tr '\n' ' ')"
elif ! grep -q '^milter_ratelimit_connections_total{verdict="accepted"} 3$' "$T/exposition"; then
	fail $T_M "the exposition lacks accepted 3: $(grep connections_total "$T/exposition" | tr '\n' ' ')"
else
	pass $T_M
fi
ct=$($CURL -o /dev/null -w '%{content_type}' "http://127.0.0.1:$MPORT/metrics")
case $ct in
"text/plain; version=0.0.4; charset=utf-8") pass metrics/content-type-0.0.4 ;;
*) fail metrics/content-type-0.0.4 "Content-Type '$ct'" ;;
esac

if ! prom_start "$T/prom" "127.0.0.1:$MPORT"; then
	fail metrics/prometheus-reads-counts "Prometheus did not start: $(tail -n 3 "$T/prom/log" | tr '\n' ' ')"
	fail metrics/prometheus-reads-histogram "no Prometheus"
	fail metrics/prometheus-target-up "no Prometheus"
	exit 1
fi
# Bounded polling: the first scrape comes within a second or two.
counts() {
	[ "$(prom_value 'milter_ratelimit_connections_total{verdict="accepted"}')" = 3 ] &&
	[ "$(prom_value 'milter_ratelimit_connections_total{verdict="refused"}')" = 2 ] &&
	[ "$(prom_value 'milter_ratelimit_connections_total{verdict="exempt"}')" = 4 ]
}
if wait_for 15 counts; then
	pass metrics/prometheus-reads-counts
else
	fail metrics/prometheus-reads-counts "after 15 s Prometheus has: $(prom_query 'milter_ratelimit_connections_total' | cut -c1-700)"
fi
hist() { [ "$(prom_value 'milter_ratelimit_decision_duration_seconds_count')" = 9 ] &&
	[ "$(prom_value 'milter_ratelimit_decision_duration_seconds_bucket{le="+Inf"}')" = 9 ]; }
if wait_for 5 hist; then
	pass metrics/prometheus-reads-histogram
else
	fail metrics/prometheus-reads-histogram "$(prom_query 'milter_ratelimit_decision_duration_seconds_count' | cut -c1-400)"
fi
up() { [ "$(prom_value 'up{job="milter-ratelimit"}')" = 1 ] &&
	[ "$(prom_value 'milter_ratelimit_build_info')" = 1 ]; }
if wait_for 5 up; then
	pass metrics/prometheus-target-up
else
	fail metrics/prometheus-target-up "$($CURL "$PROM_URL/api/v1/targets" | cut -c1-500)"
fi
