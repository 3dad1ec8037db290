# Reloads in the metrics: a good SIGUSR1 reload counts a success and moves
# the last-success time (the start already set it), a broken config
# counts a failure and sets the last-failure time while the rules and
# the success time stay; a reload that changes metrics_listen says it
# takes a restart and the endpoint stays where it was.
# checks: 2
BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/lib.sh"
T=$METRICS_SUITE_TMP
trap 'mrl_kill d' EXIT

if ! mrl_start_metrics d; then
	fail metrics/reload-setup "daemon did not start: $(tail -n 3 "$T/d/log" | tr '\n' ' ')"
	exit 1
fi
pid=$(cat "$T/d/pid")
U=http://127.0.0.1:$MPORT/metrics
# metric NAME: its value in a fresh scrape ("" when absent).
metric() { scrape "$U" | awk -v n="$1" '$1 == n { print $2 }'; }
is() { [ "$(metric "$1")" = "$2" ]; }
cp "$T/d/conf" "$T/good.conf"

T_C=metrics/reload-counts-and-times
why=
t0=$(metric milter_ratelimit_last_reload_success_timestamp_seconds)
now=$(date +%s)
# The start is the first good load: within a minute of now.
[ -n "$t0" ] && [ "${t0%.*}" -gt $((now - 60)) ] && [ "${t0%.*}" -le "$now" ] ||
	why="$why last success '$t0' at start, now $now;"
is 'milter_ratelimit_reloads_total{result="success"}' 0 || why="$why success not 0 at start;"
is milter_ratelimit_last_reload_failure_timestamp_seconds 0 || why="$why failure time not 0 at start;"
# A good reload, one second on, so that its time is later than the start's.
wait_for 3 test "$(date +%s)" -gt "${t0%.*}"
kill -USR1 "$pid"
wait_for 10 is 'milter_ratelimit_reloads_total{result="success"}' 1 ||
	why="$why success not 1 after a good reload: $(metric 'milter_ratelimit_reloads_total{result="success"}');"
t1=$(metric milter_ratelimit_last_reload_success_timestamp_seconds)
[ -n "$t1" ] && [ "${t1%.*}" -gt "${t0%.*}" ] || why="$why last success $t0 -> $t1 after a good reload;"
# A broken one: limit out of range.
printf 'limit = 0\n' >> "$T/d/conf"
kill -USR1 "$pid"
wait_for 10 is 'milter_ratelimit_reloads_total{result="failure"}' 1 ||
	why="$why failure not 1 after a bad reload: $(metric 'milter_ratelimit_reloads_total{result="failure"}');"
tf=$(metric milter_ratelimit_last_reload_failure_timestamp_seconds)
[ -n "$tf" ] && [ "${tf%.*}" -ge "${t1%.*}" ] || why="$why failure time '$tf' after the bad reload (success $t1);"
is milter_ratelimit_last_reload_success_timestamp_seconds "$t1" || why="$why the bad reload moved the success time;"
is 'milter_ratelimit_reloads_total{result="success"}' 1 || why="$why the bad reload counted a success;"
[ -z "$why" ] && pass $T_C || fail $T_C "$why"

T_L=metrics/reload-keeps-metrics-listen
other=$(free_port)
sed "s/^metrics_listen = .*/metrics_listen = \"127.0.0.1:$other\"/" "$T/good.conf" > "$T/d/conf"
kill -USR1 "$pid"
changed() { grep -q "metrics_listen changed; it takes a restart, keeping 127.0.0.1:$MPORT" "$T/d/log"; }
if ! wait_for 10 changed; then
	fail $T_L "no 'takes a restart' line: $(tail -n 3 "$T/d/log" | tr '\n' ' ')"
elif ! is 'milter_ratelimit_reloads_total{result="success"}' 2; then
	fail $T_L "the reload did not succeed otherwise: $(metric 'milter_ratelimit_reloads_total{result="success"}')"
elif ss -Hltn "sport = :$other" | grep -q .; then
	fail $T_L "something listens on the new port $other"
else
	pass $T_L
fi
