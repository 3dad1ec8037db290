# What the metrics tests share.  Source it after tests/lib.sh, with BIN
# (the daemon) and METRICS_SUITE_TMP (the test's scratch directory) set.
#
# free_port: a random loopback TCP port in 20000..59999 that nothing
#   listens on now (ss).  A race with another process is possible; the
#   callers that bind retry with another port.
# mrl_start NAME [CONFIG-LINE...]: write DIR=$METRICS_SUITE_TMP/NAME/conf
#   (a private unix socket, limit 2, root allowed, then the lines), start
#   the daemon in the foreground (log in DIR/log, pid in DIR/pid, exit
#   status in DIR/status), wait (bounded) for its socket; 1 if it did not
#   come up.
# mrl_kill NAME: SIGKILL (libmilter takes up to 5 s to stop on SIGTERM;
#   these tests assert nothing about the exit).
# mt_seq NAME "ADDR=WANT ...": milter sessions, tests/service/mt.lua.
# scrape URL: the body of GET URL (curl, bounded).
# prom_start CONFIG-DIR TARGET: a private Prometheus (/usr/bin/prometheus,
#   never the system service) on a free loopback port, scraping TARGET
#   every second, its data in CONFIG-DIR/data; sets PROM_URL and PROM_PID.
# prom_query EXPR: the query API's answer (JSON) for EXPR.
# prom_value EXPR: the one value EXPR has now ("" when none).
# prom_stop: SIGTERM, bounded wait, SIGKILL.

TOP=$(cd "$(dirname "$0")/../.." 2>/dev/null && pwd)
CURL="curl -sS --max-time 5"

free_port() {
	_n=0
	while [ $_n -lt 50 ]; do
		_n=$((_n + 1))
		_p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ))
		ss -Htln "sport = :$_p" | grep -q . || { echo "$_p"; return 0; }
	done
	return 1
}

mrl_start() {
	_d=$METRICS_SUITE_TMP/$1; shift
	mkdir -p "$_d"
	rm -f "$_d/status" "$_d/pid"
	{
		echo "socket = \"unix:$_d/m.sock\""
		echo "limit = 2"
		echo "window = 600"
		echo "max_clients = 10000"
		echo 'user = "root"'
		for _l in "$@"; do echo "$_l"; done
	} > "$_d/conf"
	(
		sh -c 'echo $$ > "$1"; shift; exec "$@"' sh "$_d/pid" \
		    "$BIN" -d -f "$_d/conf" > "$_d/log" 2>&1
		echo $? > "$_d/status"
	) &
	wait_for 10 _mrl_up "$_d"
	[ -S "$_d/m.sock" ] && [ ! -e "$_d/status" ]
}
_mrl_up() { [ -S "$1/m.sock" ] || [ -e "$1/status" ]; }

mrl_kill() {
	_d=$METRICS_SUITE_TMP/$1
	[ -s "$_d/pid" ] && [ ! -e "$_d/status" ] && kill -KILL "$(cat "$_d/pid")" 2>/dev/null
	wait_for 5 test -e "$_d/status"
	return 0
}

mt_seq() {
	timeout -k 2 30 miltertest -D sock="unix:$METRICS_SUITE_TMP/$1/m.sock" -D mode=seq \
	    -D steps="$2" -s "$TOP/tests/service/mt.lua" 2>&1
}

scrape() { $CURL "$1"; }

prom_start() {
	_pd=$1 _target=$2
	mkdir -p "$_pd/data"
	cat > "$_pd/prometheus.yml" <<EOP
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: milter-ratelimit
    static_configs:
      - targets: ['$_target']
EOP
	_n=0
	while [ $_n -lt 5 ]; do
		_n=$((_n + 1))
		PROM_PORT=$(free_port) || return 1
		PROM_URL=http://127.0.0.1:$PROM_PORT
		/usr/bin/prometheus --config.file="$_pd/prometheus.yml" \
		    --storage.tsdb.path="$_pd/data" \
		    --web.listen-address="127.0.0.1:$PROM_PORT" \
		    --log.level=warn > "$_pd/log" 2>&1 &
		PROM_PID=$!
		wait_for 20 _prom_ready && return 0
		kill -KILL "$PROM_PID" 2>/dev/null
		wait "$PROM_PID" 2>/dev/null
	done
	return 1
}
_prom_ready() {
	kill -0 "$PROM_PID" 2>/dev/null && $CURL -o /dev/null -f "$PROM_URL/-/ready"
}

prom_query() {
	$CURL -G --data-urlencode "query=$1" "$PROM_URL/api/v1/query"
}

# The value of a one-sample vector answer: the last quoted string of
# "value":[TIME,"V"].
prom_value() {
	prom_query "$1" | python3 -c '
import json, sys
r = json.load(sys.stdin)
v = r.get("data", {}).get("result", [])
print(v[0]["value"][1] if len(v) == 1 else "")'
}

prom_stop() {
	[ -n "${PROM_PID:-}" ] || return 0
	kill -TERM "$PROM_PID" 2>/dev/null
	wait_for 10 sh -c "! kill -0 $PROM_PID 2>/dev/null" || kill -KILL "$PROM_PID" 2>/dev/null
	wait "$PROM_PID" 2>/dev/null
	PROM_PID=
}

# mrl_start_metrics NAME [CONFIG-LINE...]: mrl_start with metrics_listen
#   on 127.0.0.1 and a free port (MPORT); another port is tried when the
#   chosen one was taken in the meantime.
mrl_start_metrics() {
	_name=$1; shift
	_n=0
	while [ $_n -lt 5 ]; do
		_n=$((_n + 1))
		MPORT=$(free_port) || return 1
		mrl_start "$_name" "metrics_listen = \"127.0.0.1:$MPORT\"" "$@" && return 0
		grep -q 'Address already in use' "$METRICS_SUITE_TMP/$_name/log" || return 1
	done
	return 1
}
