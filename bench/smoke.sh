#!/bin/sh
# Smoke run of every benchmark, for `make check`: seconds, not minutes.
# Asserts counts (replies add up, no errors, documented bounds), never
# timing.  Prints "PASS: bench/NAME" or "FAIL: bench/NAME: why" per check,
# as tests/run.sh counts them.
#
#   sh bench/smoke.sh PATH/TO/milter-ratelimit
#
# The benchmark binaries are looked for in bench/ beside the daemon
# (BUILD_DIR/bench/, `make bench-build`).  The sendmail check needs root.
set -u
BIN=${1:?usage: bench/smoke.sh PATH/TO/milter-ratelimit}
HERE=$(cd "$(dirname "$0")" && pwd)
B=$(cd "$(dirname "$BIN")" && pwd)
BB=$B/bench
W=$(mktemp -d /run/mrl-bench-smoke.XXXXXX 2>/dev/null || mktemp -d)
chmod 0755 "$W"
PIDS=
FAILED=0

pass() { echo "PASS: bench/$1"; }
fail() { echo "FAIL: bench/$1: $2"; FAILED=$((FAILED + 1)); }
# The checks below, for tests/run.sh to hold the run to (tests/lib.sh plan).
echo "PLAN: bench 12"

cleanup() {
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ "$FAILED" = 0 ] && rm -rf "$W" || echo "# smoke logs kept in $W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# field NAME LINE: the value of NAME=... in a RESULT line.
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }

wait_sock() {
	i=0
	while [ ! -S "$1" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	[ -S "$1" ]
}

for b in loadgen baseline tablebench accuracy exemptbench smtpload; do
	[ -x "$BB/$b" ] || { fail "build" "no $BB/$b (make bench-build)"; exit 1; }
done
pass "build: every benchmark binary is there"

# --- loadgen against both milters ------------------------------------------

cat > "$W/mrl.conf" <<EOC
socket = "unix:$W/mrl.sock"
limit = 10
window = 60
max_clients = 100000
user = "root"
EOC
"$BIN" -d -f "$W/mrl.conf" 2> "$W/mrl.log" &
PIDS="$PIDS $!"
"$BB/baseline" "unix:$W/base.sock" 2> "$W/base.log" &
PIDS="$PIDS $!"
if ! wait_sock "$W/mrl.sock" || ! wait_sock "$W/base.sock"; then
	fail "milters start" "$(cat "$W/mrl.log" "$W/base.log" | tr '\n' ' ')"
	exit 1
fi

# lg NAME SOCK EXPECT LOADGEN-ARGS...: EXPECT is "key=value ..." that the
# RESULT line must hold, besides errors=0.
lg() {
	name=$1 sock=$2 want=$3
	shift 3
	out=$(timeout 60 "$BB/loadgen" -s "unix:$W/$sock.sock" -T 5000 -t 30 "$@" 2>&1 | sed -n 's/^RESULT //p')
	[ -n "$out" ] || { fail "$name" "loadgen printed no RESULT"; return; }
	bad=
	for kv in errors=0 $want; do
		k=${kv%%=*} v=${kv#*=}
		[ "$(field "$k" "$out")" = "$v" ] || bad="$bad $k=$(field "$k" "$out") (want $v)"
	done
	if [ -z "$bad" ]; then pass "$name"; else fail "$name" "$bad; $out"; fi
}

lg "loadgen: baseline accepts 2000 sessions from 2000 addresses, 2 clients" base \
    "sessions=2000 accept=2000" -c 2 -n 2000 -a seq:2000
lg "loadgen: milter-ratelimit accepts 1000 distinct addresses, 4 clients" mrl \
    "sessions=1000 accept=1000 replycode=0" -c 4 -n 1000 -a seq:1000
lg "loadgen: one hot address: 10 accepted, 90 refused with a reply code" mrl \
    "sessions=100 accept=10 replycode=90" -c 2 -n 100 -a one -o 500000
lg "loadgen: one hot IPv6 address (per /64): 10 accepted, 20 refused" mrl \
    "sessions=30 accept=10 replycode=20" -c 1 -n 30 -a one -6 -o 77
out=$(timeout 60 "$BB/loadgen" -s "unix:$W/mrl.sock" -c 2 -n 600 -a hot:100000:0.2 -o 1000000 -S 7 -q | sed -n 's/^RESULT //p')
hot=$(field hot "$out")
if [ "$(field errors "$out")" = 0 ] && [ "$(field hot_accept "$out")" = 10 ] &&
    [ "$(field accept "$out")" = $((600 - hot + 10)) ] &&
    [ "$(field replycode "$out")" = $((hot - 10)) ] && [ "$hot" -gt 10 ]; then
	pass "loadgen: a heavy client among many: only its excess refused"
else
	fail "loadgen: a heavy client among many: only its excess refused" "$out"
fi

# --- the in-process benchmarks ---------------------------------------------

# run NAME CMD...: exit 0 is a pass; the output's tail is the reason.
run() {
	name=$1
	shift
	if out=$(timeout 60 "$@" 2>&1); then
		pass "$name"
	else
		fail "$name" "$(printf '%s\n' "$out" | grep -v '^RESULT' | tail -n 4 | tr '\n' ' ')"
	fi
	LAST=$out
}

run "tablebench: keys tracked, the flood keeps RSS flat and never evicts a client at its limit" \
    "$BB/tablebench" -k 20000 -m 100000 -r 1 -s 300000 -f 100000
m=$(printf '%s\n' "$LAST" | sed -n 's/^RESULT memory //p')
if [ "$(field used "$m")" = 20000 ] && [ "$(field untracked "$m")" = 0 ]; then
	pass "tablebench: 20000 keys all tracked"
else
	fail "tablebench: 20000 keys all tracked" "$m"
fi
run "accuracy: exact at limit <= 10, within the group bound above, no early refusal" \
    "$BB/accuracy" -e 20000 -a 50 -l 5,10,100 -r 0.9,1.1 -A 1,10,11,100,1000
run "exemptbench: a 5000-entry map built by ratelimit-map loads whole, lookups right" \
    "$BB/exemptbench" -m "$B/ratelimit-map" -d "$W" -n 5000 -l 20000
e=$(printf '%s\n' "$LAST" | sed -n 's/^RESULT exempt //p')
if [ "$(field loaded "$e")" = 5000 ] && [ "$(field wrong "$e")" = 0 ] && [ "$(field found "$e")" -ge 10000 ]; then
	pass "exemptbench: 5000 loaded, every covered address found"
else
	fail "exemptbench: 5000 loaded, every covered address found" "$e"
fi

# --- through a real sendmail ------------------------------------------------

if [ "$(id -u)" != 0 ]; then
	fail "sendmail" "needs root (a private mount namespace for sendmail)"
else
	out=$(timeout 120 bash "$HERE/sendmail.sh" "$B" 1 300 16 milter 2>&1)
	c=$(printf '%s\n' "$out" | sed -n 's/^COMPARE //p')
	if [ -n "$c" ] && [ "$(field heavy_ok "$c")" = 5 ] && [ "$(field innocent_refused "$c")" = 0 ] &&
	    [ "$(field innocent_ok "$c")" = 300 ] && [ "$(field errors "$c")" = 0 ]; then
		pass "sendmail: 300 clients + a heavy one (15): the milter lets exactly 5 of the heavy through, refuses no innocent"
	else
		fail "sendmail: 300 clients + a heavy one (15): the milter lets exactly 5 of the heavy through, refuses no innocent" \
		    "${c:-$(printf '%s\n' "$out" | tail -n 5 | tr '\n' ' ')}"
	fi
fi
