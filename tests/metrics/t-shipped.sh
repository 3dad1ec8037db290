# The shipped Prometheus files (conf/prometheus/): promtool accepts the
# alert rules and the scrape config, the alerts fire and stay quiet as
# tests/metrics/rules-test.yml says (promtool test rules), and every
# metric they name is one the daemon serves (a misspelt name would make
# an alert that never fires).
# checks: 4
BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/lib.sh"
T=$METRICS_SUITE_TMP
trap 'mrl_kill d' EXIT
RULES=$TOP/conf/prometheus/milter-ratelimit.rules.yml
CONF=$TOP/conf/prometheus/prometheus.yml

if out=$(promtool check rules "$RULES" 2>&1) && printf '%s' "$out" | grep -q 'SUCCESS: 2 rules found'; then
	pass metrics/promtool-check-rules
else
	fail metrics/promtool-check-rules "$(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
fi

# check config reads the rule files it names, relative to itself.
if out=$(promtool check config "$CONF" 2>&1); then
	pass metrics/promtool-check-config
else
	fail metrics/promtool-check-config "$(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
fi

sed "s|RULES|$RULES|" "$HERE/rules-test.yml" > "$T/rules-test.yml"
if out=$(promtool test rules "$T/rules-test.yml" 2>&1); then
	pass metrics/promtool-test-rules
else
	fail metrics/promtool-test-rules "$(printf '%s' "$out" | grep -v '^ *$' | head -n 8 | tr '\n' ' ' | cut -c1-700)"
fi

T_N=metrics/rules-name-served-metrics
if ! mrl_start_metrics d; then
	fail $T_N "daemon did not start: $(tail -n 3 "$T/d/log" | tr '\n' ' ')"
elif ! scrape "http://127.0.0.1:$MPORT/metrics" > "$T/exposition"; then
	fail $T_N "GET /metrics failed"
else
	grep -o 'milter_ratelimit_[a-z_]*' "$RULES" "$CONF" | cut -d: -f2 | sort -u > "$T/named"
	sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' "$T/exposition" | sort -u > "$T/served"
	missing=$(comm -23 "$T/named" "$T/served" | tr '\n' ' ')
	if [ ! -s "$T/named" ]; then
		fail $T_N "no milter_ratelimit_ metric named in the shipped files"
	elif [ -n "$missing" ]; then
		fail $T_N "named but not served: $missing"
	else
		pass $T_N
	fi
fi
