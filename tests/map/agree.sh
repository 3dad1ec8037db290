#!/bin/sh
# The map suite, part 4: one rule for invalid map entries.  The running
# daemon (reload) and milter-ratelimit -n (the unit's ExecStartPre) must
# give the same verdict on the same map: a map the daemon accepts at
# reload must never make the next start fail.
#
#   sh tests/map/agree.sh PATH/TO/milter-ratelimit
#
# Run by tests/map/run.sh.  Starts the daemon in the foreground (-d) on a
# private unix socket; every wait is bounded (wait_for), nothing sleeps.
set -u
BIN=${1:?usage: tests/map/agree.sh PATH/TO/milter-ratelimit}
RMAP=$(dirname "$BIN")/ratelimit-map
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/ratelimit-agree-tests.XXXXXX") || exit 1
chmod 0755 "$work"
work=$(cd "$work" && pwd -P)
PID=
stop() {
	[ -n "$PID" ] || return 0
	kill -TERM "$PID" 2>/dev/null
	wait_for 10 dead "$PID" || kill -KILL "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	PID=
}
cleanup() { stop; [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

oneline() { printf '%s' "$1" | tr '\n\t' '  ' | cut -c1-600; }
dead() { ! kill -0 "$1" 2>/dev/null; }
up() { [ -S "$SOCK" ] || dead "$PID"; }
# log_has ERE: the daemon's log has a line matching ERE.
log_has() { grep -Eq -- "$1" "$LOG"; }

# start TAG: the daemon on $CONF; its stderr in $LOG.  Succeeds when the
# socket appears while it runs.
start() {
	LOG=$work/$1.log
	rm -f "$SOCK"
	"$BIN" -d -f "$CONF" > "$LOG" 2>&1 &
	PID=$!
	wait_for 10 up
	[ -S "$SOCK" ] && ! dead "$PID"
}

d=$work/a
mkdir -m 0755 "$d" "$d/run"
SOCK=$d/run/m.sock
MAP=$d/exempt
CONF=$d/c.conf
printf '%s\n' "socket = \"unix:$SOCK\"" "exempt_map = \"$MAP.db\"" 'user = "root"' \
    'map_check_interval = 1' > "$CONF"
printf '%s\n' '192.0.2.25 OK' | timeout 10 "$RMAP" "$MAP" 2>/dev/null

# --- a key the daemon skips: both skip, with a warning -------------------------------

name="map/agree: a key the daemon skips at reload is a warning for -n, and the next start works"
if start first; then
	# makemap, as an admin would: it accepts any key, ours or not
	# ('_' is in no host name).
	printf '%s\n' '192.0.2.25 OK' 'partner_x.example OK' '198.51.100.0/24 5/1h' > "$d/bad.txt"
	(cd "$d" && timeout 10 makemap hash "$d/new" < "$d/bad.txt") 2>/dev/null
	mv "$d/new.db" "$MAP.db"
	wait_for 10 log_has 'reloaded map.* entries=2'
	why=
	log_has 'reloaded map.* entries=2' || why="$why the daemon did not reload the map: $(oneline "$(tail -n 5 "$LOG")");"
	log_has 'skipping key "partner_x\.example"' || why="$why the daemon did not warn about partner_x.example;"
	cout=$(timeout -k 1 10 "$BIN" -n -f "$CONF" 2>&1); crc=$?
	[ $crc = 0 ] || why="$why -n exit $crc (want 0, as the daemon accepted the map): $(oneline "$cout");"
	printf '%s' "$cout" | grep -q 'skipping key "partner_x\.example"' || why="$why -n printed no warning: $(oneline "$cout");"
	stop
	if start second; then
		log_has 'skipping key "partner_x\.example"' || why="$why the restarted daemon did not warn;"
		stop
	else
		why="$why the next start failed: $(oneline "$(cat "$LOG")");"
		stop
	fi
	[ -z "$why" ] && pass "$name" || fail "$name" "$why"
else
	fail "$name" "the daemon did not start: $(oneline "$(cat "$LOG")")"
	stop
fi

# --- a map the daemon refuses at reload: -n refuses it too ---------------------------

name="map/agree: a map the daemon refuses at reload fails -n too"
printf '%s\n' '192.0.2.25 OK' | timeout 10 "$RMAP" "$MAP" 2>/dev/null
if start third; then
	head -c 3000 /dev/urandom > "$d/junk.db"
	mv "$d/junk.db" "$MAP.db"
	wait_for 10 log_has 'not loaded'
	why=
	log_has 'not loaded' || why="$why the daemon did not refuse the map: $(oneline "$(tail -n 5 "$LOG")");"
	cout=$(timeout -k 1 10 "$BIN" -n -f "$CONF" 2>&1); crc=$?
	[ $crc = 78 ] || why="$why -n exit $crc (want 78): $(oneline "$cout");"
	stop
	[ -z "$why" ] && pass "$name" || fail "$name" "$why"
else
	fail "$name" "the daemon did not start: $(oneline "$(cat "$LOG")")"
	stop
fi

[ "${FAILED:-0}" = 0 ]
