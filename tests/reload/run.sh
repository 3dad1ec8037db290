#!/bin/sh
# The reload suite: the running daemon picks up map edits and config
# changes without losing its counters, survives broken maps and configs,
# reports statistics, stops on SIGHUP, and reloads safely under load.
#
#   sh tests/reload/run.sh PATH/TO/milter-ratelimit
#
# ratelimit-map is taken from the same directory as the daemon.  Prints one
# line per test, "PASS: reload/NAME" or "FAIL: reload/NAME: why".  Each
# group of tests has a daemon of its own (private directory, unix socket,
# config, map, log), driven by tests/reload/mt.lua through miltertest.
# Every wait is bounded; readiness is polled, never slept for.  Time that
# must pass (a window, map checks) passes on the daemon's own clock, moved
# by the test (libfaketime, tests/lib.sh); the only sleeps pace the map
# rewrites of the load test.
set -u
BIN=${1:?usage: tests/reload/run.sh PATH/TO/milter-ratelimit}
RMAP=$(dirname "$BIN")/ratelimit-map
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
plan 44

work=$(mktemp -d "${TMPDIR:-/tmp}/milter-ratelimit-reload.XXXXXX") || exit 1
chmod 0755 "$work"
daemons=
loaders=

cleanup() {
	for _p in $loaders; do kill -KILL "$_p" 2>/dev/null; done
	for _d in $daemons; do
		[ -s "$_d/pid" ] && [ ! -e "$_d/status" ] && kill -KILL "$(cat "$_d/pid")" 2>/dev/null
	done
	[ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

oneline() { printf '%s' "$1" | tr '\n\t' '  ' | cut -c1-600; }
tail_of() { [ -f "$1" ] && oneline "$(tail -n "${2:-5}" "$1")"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

for tool in miltertest timeout; do
	command -v $tool >/dev/null 2>&1 || {
		fail "reload/setup" "$tool not found (apt-get install miltertest coreutils)"
		exit 1
	}
done
fakeclock_lib >/dev/null || {
	fail "reload/setup" "libfaketime not found (apt-get install libfaketime)"
	exit 1
}
for b in "$BIN" "$RMAP"; do
	[ -x "$b" ] || { fail "reload/setup" "no executable $b"; exit 1; }
done

# --- daemons ------------------------------------------------------------------

# start_daemon NAME [CONFIG-LINE...]: write $work/NAME/conf (socket, user,
# max_clients, then the given lines), start the daemon in the foreground
# with its output in $work/NAME/log, its pid in pid and, once it exits,
# its status in status.  Waits (bounded) for the socket.  Returns 1 when
# it did not come up.
start_daemon() {
	_d=$work/$1; shift
	mkdir -p "$_d"
	{
		echo "socket = \"unix:$_d/m.sock\""
		echo "user = \"$(id -un)\""	# stay who we are: nothing to drop to
		echo "max_clients = 1000"
		for _l in "$@"; do echo "$_l"; done
	} > "$_d/conf"
	# FAKE=1: on a clock of its own, $work/NAME/clock (tests/lib.sh).
	_env=
	[ -z "${FAKE:-}" ] || _env=$(fakeclock_env "$_d/clock")
	(
		# shellcheck disable=SC2086
		sh -c 'echo $$ > "$1"; shift; exec "$@"' sh "$_d/pid" \
		    env $_env "$BIN" -d -f "$_d/conf" > "$_d/log" 2>&1
		echo $? > "$_d/status"
	) &
	daemons="$daemons $_d"
	wait_for 10 up "$_d"
	[ -S "$_d/m.sock" ] && [ ! -e "$_d/status" ]
}
up() { [ -S "$1/m.sock" ] || [ -e "$1/status" ]; }
alive() { [ -s "$1/pid" ] && [ ! -e "$1/status" ] && kill -0 "$(cat "$1/pid")" 2>/dev/null; }

why_down() {
	if [ -e "$1/status" ]; then
		echo "daemon exited $(cat "$1/status"): $(tail_of "$1/log")"
	else
		echo "no socket $1/m.sock within 10 s: $(tail_of "$1/log")"
	fi
}

# log_ge NAME ERE N: NAME's log has at least N lines matching ERE.
log_ge() { [ "$(grep -Ec -- "$2" "$work/$1/log")" -ge "$3" ]; }
log_n() { grep -Ec -- "$2" "$work/$1/log"; }

# mt NAME MODE VAR=VALUE...: run mt.lua (bounded) against NAME's daemon;
# output in $mt_out, status in $mt_rc.
mt() {
	_d=$work/$1 _mode=$2; shift 2
	_n=$#
	for _v in "$@"; do set -- "$@" -D "$_v"; done
	shift $_n
	mt_out=$(timeout -k 2 30 miltertest -D sock="unix:$_d/m.sock" -D mode="$_mode" \
	    "$@" -s "$here/mt.lua" 2>&1)
	mt_rc=$?
}

# seq NAME "ADDR=WANT ...": the sessions must be answered as listed.
seq_ok() { mt "$1" seq "steps=$2"; [ $mt_rc = 0 ]; }

# rep ADDR WANT N: "ADDR=WANT" N times (for steps).
rep() { _i=0; while [ $_i -lt "$3" ]; do printf '%s=%s ' "$1" "$2"; _i=$((_i + 1)); done; }

# mtfail NAME: the reason an mt call failed, for a FAIL message.
mtfail() {
	_w="miltertest exited $mt_rc: $(oneline "$mt_out")"
	alive "$work/$1" || _w="$_w; $(why_down "$work/$1")"
	echo "$_w"
}

# build_map MAP LINE...: build MAP.db with ratelimit-map from the lines.
build_map() {
	_m=$1; shift
	printf '%s\n' "$@" | timeout -k 1 10 "$RMAP" "$_m" 2>> "$work/rmap.err"
}

# --- names: a name entry added to the running daemon's map ---------------------------
# A verified client (its hostname, {client_resolve} OK) under the new entry
# is exempt at the next map check; a FORGED one stays counted.

D=names
mkdir -p "$work/$D"
map=$work/$D/exempt
build_map "$map" '198.51.100.1 OK'
if start_daemon $D 'limit = 3' 'window = 60' 'map_check_interval = 2' \
    "exempt_map = \"$map.db\""; then
	c=192.0.2.20 f=192.0.2.21
	ok="host=mx1.partner.example resolve=OK"
	if mt $D seq "steps=$(rep $c A 3) $c=R" $ok && [ $mt_rc = 0 ]; then
		timeout -k 1 10 "$RMAP" add "$map" partner.example 2>> "$work/rmap.err"
		mt $D poll addr=$c want=A tries=300 gap=0.02 $ok
		[ $mt_rc = 0 ] && pass "reload/name-add-picked-up" ||
			fail "reload/name-add-picked-up" "$(mtfail $D)"
		mt $D seq "steps=$(rep $c A 6)" $ok
		[ $mt_rc = 0 ] && pass "reload/name-add-exempts" ||
			fail "reload/name-add-exempts" "$(mtfail $D)"
		mt $D seq "steps=$(rep $f A 3) $f=R" host=mx1.partner.example resolve=FORGED
		[ $mt_rc = 0 ] && pass "reload/name-forged-still-counted" ||
			fail "reload/name-forged-still-counted" "$(mtfail $D)"
	else
		why="before the edit: $(mtfail $D)"
		fail "reload/name-add-picked-up" "$why"
		fail "reload/name-add-exempts" "$why"
		fail "reload/name-forged-still-counted" "$why"
	fi
else
	for t in name-add-picked-up name-add-exempts name-forged-still-counted; do
		fail "reload/$t" "$(why_down "$work/$D")"
	done
fi

# --- 6 (started first, checked last): SIGHUP stops the daemon ------------------------

if start_daemon hup 'limit = 3'; then
	hup_pid=$(cat "$work/hup/pid")
	hup_t0=$(now_ms)
	kill -HUP "$hup_pid"
else
	fail "reload/sighup-stops" "$(why_down "$work/hup")"
	hup_pid=
fi

# --- 1: a map edit is picked up without a restart; counts survive -----------------

D=pickup
mkdir -p "$work/$D"
map=$work/$D/exempt
build_map "$map" '198.51.100.1 OK'
if start_daemon $D 'limit = 3' 'window = 60' 'map_check_interval = 2' \
    "exempt_map = \"$map.db\""; then
	pid0=$(cat "$work/$D/pid")
	c=192.0.2.10
	if seq_ok $D "$(rep $c A 3) $c=R"; then
		timeout -k 1 10 "$RMAP" add "$map" $c 2>> "$work/rmap.err"
		t0=$(now_ms)
		mt $D poll addr=$c want=A tries=300 gap=0.02
		el=$(( $(now_ms) - t0 ))
		if [ $mt_rc = 0 ] && [ $el -le 3000 ] && alive "$work/$D" &&
		    [ "$(cat "$work/$D/pid")" = "$pid0" ] && [ "$(log_n $D ' started ')" = 1 ]; then
			pass "reload/map-add-picked-up"
		else
			fail "reload/map-add-picked-up" "accepted after ${el} ms (bound 3000), $(mtfail $D), pid $pid0 -> $(cat "$work/$D/pid")"
		fi
		# Exempt now: never counted, never refused.
		seq_ok $D "$(rep $c A 6)" && pass "reload/map-add-exempts" ||
			fail "reload/map-add-exempts" "$(mtfail $D)"

		# Delete: wait for the daemon to load the new map (its log),
		# not for the client, whose count must have survived both
		# reloads: refused at once, without 3 new accepts.
		n0=$(log_n $D 'reloaded map')
		timeout -k 1 10 "$RMAP" delete "$map" $c 2>> "$work/rmap.err"
		t0=$(now_ms)
		wait_for 3 log_ge $D 'reloaded map' $((n0 + 1))
		el=$(( $(now_ms) - t0 ))
		if ! log_ge $D 'reloaded map' $((n0 + 1)) || [ $el -gt 3000 ]; then
			fail "reload/map-delete-counts-survive" "no 'reloaded map' line within 3 s of the delete (${el} ms): $(tail_of "$work/$D/log")"
		elif seq_ok $D "$c=R $c=R"; then
			pass "reload/map-delete-counts-survive"
		else
			fail "reload/map-delete-counts-survive" "after the delete, want refused at once (the earlier refusals still count): $(mtfail $D)"
		fi
	else
		fail "reload/map-add-picked-up" "before the add: $(mtfail $D)"
	fi
else
	fail "reload/map-add-picked-up" "$(why_down "$work/$D")"
fi

# --- 2: per-client limits from the map ------------------------------------------------

D=perclient
mkdir -p "$work/$D"
map=$work/$D/exempt
# The entries' windows differ from the global 60 s (and from each other),
# so a per-entry window that were ignored shows in the refusal lines.
build_map "$map" '192.0.2.20 3/10m' '198.51.100.0/24 5/2h' '2001:db8:20::/48 2/30'
# Refusals do not count here, so each window holds only the accepted ones.
if FAKE=1 start_daemon $D 'limit = 10' 'window = 60' 'count_refused = false' \
    "exempt_map = \"$map.db\""; then
	why=
	seq_ok $D "$(rep 192.0.2.20 A 3) $(rep 192.0.2.20 R 2)" ||
		why="$why 192.0.2.20 (3/10m): $(mtfail $D);"
	seq_ok $D "$(rep 198.51.100.7 A 5) 198.51.100.7=R" ||
		why="$why 198.51.100.7 (entry 5/2h): $(mtfail $D);"
	# Counting stays per client address inside the entry.
	seq_ok $D "$(rep 198.51.100.8 A 5) 198.51.100.8=R" ||
		why="$why 198.51.100.8 (same entry, own count): $(mtfail $D);"
	seq_ok $D "$(rep 2001:db8:20::1 A 2) 2001:db8:20::1=R" ||
		why="$why 2001:db8:20::1 (2/30): $(mtfail $D);"
	seq_ok $D "$(rep 192.0.2.21 A 10) 192.0.2.21=R" ||
		why="$why 192.0.2.21 (no entry, global 10): $(mtfail $D);"
	[ -z "$why" ] && pass "reload/per-client-limits" || fail "reload/per-client-limits" "$why"
	why=
	for re in 'refused client=192\.0\.2\.20 .*limit=3 window=600s' \
	    'refused client=198\.51\.100\.7 .*limit=5 window=7200s' \
	    'refused client=2001:db8:20::1 .*limit=2 window=30s' \
	    'refused client=192\.0\.2\.21 .*limit=10 window=60s'; do
		grep -Eq "$re" "$work/$D/log" || why="$why [$re]"
	done
	[ -z "$why" ] && pass "reload/per-client-limit-logged" ||
		fail "reload/per-client-limit-logged" "no refusal line matching$why: $(tail_of "$work/$D/log")"

	# Each window ages on its own, on the daemon's clock: 61 s on, the
	# global minute and the entry's 30 s have passed, not 10 minutes or
	# 2 hours; 601 s on, the 10 minutes too; 7201 s on, the 2 hours.
	why=
	fakeclock_set "$work/$D/clock" 61
	seq_ok $D "$(rep 192.0.2.21 A 10) 192.0.2.21=R $(rep 2001:db8:20::1 A 2) 2001:db8:20::1=R 192.0.2.20=R 198.51.100.7=R" ||
		why="$why 61 s on: $(mtfail $D);"
	fakeclock_set "$work/$D/clock" 601
	seq_ok $D "$(rep 192.0.2.20 A 3) 192.0.2.20=R 198.51.100.7=R" ||
		why="$why 601 s on: $(mtfail $D);"
	fakeclock_set "$work/$D/clock" 7201
	seq_ok $D "$(rep 198.51.100.7 A 5) 198.51.100.7=R" ||
		why="$why 7201 s on: $(mtfail $D);"
	[ -z "$why" ] && pass "reload/per-client-windows-age-apart" ||
		fail "reload/per-client-windows-age-apart" "$why"
else
	fail "reload/per-client-limits" "$(why_down "$work/$D")"
fi

# --- 3: broken, truncated and missing maps keep the rules in force -------------------

D=broken
mkdir -p "$work/$D"
map=$work/$D/exempt
build_map "$map" '192.0.2.30 OK'
# A real map of several pages without 192.0.2.30, to truncate.
awk 'BEGIN { for (i = 0; i < 2000; i++) printf "10.%d.%d.1 OK\n", int(i / 256), i % 256 }' |
	timeout -k 1 10 "$RMAP" "$work/$D/big" 2>> "$work/rmap.err"
if FAKE=1 start_daemon $D 'limit = 2' 'window = 60' 'map_check_interval = 1' \
    "exempt_map = \"$map.db\""; then
	c=192.0.2.30
	seq_ok $D "$(rep $c A 4)" || fail "reload/broken-setup" "$(mtfail $D)"

	# corrupt CASE: rename FILE over the map, wait for the failure to be
	# logged (naming the map), check the old exemption still holds.
	corrupt() {
		_case=$1 _src=$2
		_n0=$(log_n $D "$map\\.db: not loaded")
		_r0=$(log_n $D 'reloaded map')
		cp "$_src" "$work/$D/exempt.db.new" && mv -f "$work/$D/exempt.db.new" "$map.db"
		wait_for 3 log_ge $D "$map\\.db: not loaded" $((_n0 + 1))
		if log_ge $D 'reloaded map' $((_r0 + 1)); then
			fail "reload/corrupt-map-$_case" "the broken file ($(stat -c %s "$_src") bytes) was loaded as a map: $(grep 'reloaded map' "$work/$D/log" | tail -n 1)"
		elif ! log_ge $D "$map\\.db: not loaded" $((_n0 + 1)); then
			fail "reload/corrupt-map-$_case" "no '$map.db: not loaded' line within 3 s: $(tail_of "$work/$D/log")"
		elif ! seq_ok $D "$(rep $c A 4)"; then
			fail "reload/corrupt-map-$_case" "old exemption lost: $(mtfail $D)"
		elif ! alive "$work/$D"; then
			fail "reload/corrupt-map-$_case" "$(why_down "$work/$D")"
		else
			pass "reload/corrupt-map-$_case"
		fi
	}
	head -c 16384 /dev/urandom > "$work/$D/random"
	corrupt random-bytes "$work/$D/random"
	sz=$(stat -c %s "$work/$D/big.db")
	head -c $((sz / 2)) "$work/$D/big.db" > "$work/$D/truncated"
	corrupt truncated "$work/$D/truncated"
	head -c 0 /dev/null > "$work/$D/empty"
	corrupt empty-file "$work/$D/empty"
	# Cut at a page boundary (4096-byte pages): every page left is whole.
	# Last of the cases: should it load, the exemption of .30 is gone.
	head -c $((sz / 2 / 4096 * 4096)) "$work/$D/big.db" > "$work/$D/truncated-page"
	corrupt truncated-at-page-boundary "$work/$D/truncated-page"
	# passes R: let R passes of the control thread go by on the daemon's
	# clock, each 2 s on and woken by SIGUSR2 (map_check_interval = 1); a
	# pass's stats line shows it began, the next one's that its map check
	# is done.  Prints how many passes were seen.
	clock_s=0
	passes() {
		_r=0 _seen=0
		while [ $_r -lt "$1" ]; do
			_r=$((_r + 1)) clock_s=$((clock_s + 2))
			fakeclock_set "$work/$D/clock" $clock_s
			_n=$(log_n $D ' stats connections=')
			kill -USR2 "$(cat "$work/$D/pid")"
			wait_for 3 log_ge $D ' stats connections=' $((_n + 1)) && _seen=$((_seen + 1))
		done
		echo $_seen
	}
	# The last broken file stays in place: it is not tried, nor logged,
	# again at every check.
	n0=$(log_n $D "$map\\.db: not loaded")
	seen=$(passes 4)
	n=$(log_n $D "$map\\.db: not loaded")
	[ "$n" = "$n0" ] && [ "$seen" = 4 ] && pass "reload/corrupt-map-logged-once" ||
		fail "reload/corrupt-map-logged-once" "$((n - n0)) more 'not loaded' lines over 8 s of the daemon's clock ($seen of 4 passes seen), want none"
	# The error line itself names the map and a reason.
	grep -Fq "$map.db: cannot open map" "$work/$D/log" &&
		pass "reload/corrupt-map-error-names-map" ||
		fail "reload/corrupt-map-error-names-map" "no '$map.db: cannot open map' line: $(tail_of "$work/$D/log")"

	# A good map afterwards is picked up: .31 exempt, .30 no longer: counted
	# from zero (an exempt client is never counted; a broken map loaded by
	# mistake has failed its own test above): limit 2, so A A R.
	n0=$(log_n $D 'reloaded map')
	build_map "$map" '192.0.2.31 OK'
	wait_for 3 log_ge $D 'reloaded map' $((n0 + 1))
	if ! log_ge $D 'reloaded map' $((n0 + 1)); then
		fail "reload/good-map-after-corrupt" "no 'reloaded map' line within 3 s: $(tail_of "$work/$D/log")"
	elif seq_ok $D "$(rep 192.0.2.31 A 4) $c=A $c=A $c=R"; then
		pass "reload/good-map-after-corrupt"
	else
		fail "reload/good-map-after-corrupt" "$(mtfail $D)"
	fi

	# The map file removed: the rules in force stay, logged once.
	rm -f "$map.db"
	re="$map\\.db: No such file or directory"
	wait_for 3 log_ge $D "$re" 1
	if ! log_ge $D "$re" 1; then
		fail "reload/missing-map-keeps-rules" "no '$map.db: No such file or directory' line within 3 s: $(tail_of "$work/$D/log")"
	elif seq_ok $D "$(rep 192.0.2.31 A 4)"; then
		pass "reload/missing-map-keeps-rules"
	else
		fail "reload/missing-map-keeps-rules" "$(mtfail $D)"
	fi
	# Map checks go by on the daemon's clock: still one line.
	seen=$(passes 4)
	n=$(log_n $D "$re")
	[ "$n" = 1 ] && [ "$seen" = 4 ] && pass "reload/missing-map-logged-once" ||
		fail "reload/missing-map-logged-once" "$n lines matching '$re' after 8 s of the daemon's clock ($seen of 4 passes seen), want 1"

	# And it comes back.
	n0=$(log_n $D 'reloaded map')
	build_map "$map" '192.0.2.32 OK'
	wait_for 3 log_ge $D 'reloaded map' $((n0 + 1))
	if ! log_ge $D 'reloaded map' $((n0 + 1)); then
		fail "reload/map-back-after-missing" "no 'reloaded map' line within 3 s: $(tail_of "$work/$D/log" 3)"
	elif seq_ok $D "$(rep 192.0.2.32 A 4) $(rep 192.0.2.31 A 2) 192.0.2.31=R"; then
		pass "reload/map-back-after-missing"
	else
		fail "reload/map-back-after-missing" "$(mtfail $D)"
	fi
else
	fail "reload/broken-setup" "$(why_down "$work/$D")"
fi

# --- 3b: a map refused for its mode is taken once the admin fixes the mode ----------

# The refusal tells the admin to chmod the map; chmod changes neither
# inode, size nor mtime, only the change time, so that must count.
D=perm
mkdir -p "$work/$D"
map=$work/$D/exempt
build_map "$map" '192.0.2.60 OK'
if start_daemon $D 'limit = 2' 'window = 60' 'map_check_interval = 1' \
    "exempt_map = \"$map.db\""; then
	seq_ok $D "$(rep 192.0.2.60 A 3)" || fail "reload/perm-setup" "$(mtfail $D)"
	build_map "$work/$D/new" '192.0.2.61 OK'
	chmod 0646 "$work/$D/new.db"
	n0=$(log_n $D 'reloaded map')
	mv -f "$work/$D/new.db" "$map.db"
	re="$map\\.db is writable by everyone"
	wait_for 3 log_ge $D "$re" 1
	if ! log_ge $D "$re" 1; then
		fail "reload/perm-refused" "no '$map.db is writable by everyone' line within 3 s: $(tail_of "$work/$D/log")"
	elif log_ge $D 'reloaded map' $((n0 + 1)); then
		fail "reload/perm-refused" "the world-writable map was loaded: $(tail_of "$work/$D/log")"
	elif ! seq_ok $D "$(rep 192.0.2.60 A 3)"; then
		fail "reload/perm-refused" "old exemption of 192.0.2.60 lost: $(mtfail $D)"
	else
		pass "reload/perm-refused"
	fi
	# The chmod alone: picked up by the periodic check, no SIGUSR1.
	chmod 0644 "$map.db"
	t0=$(now_ms)
	wait_for 3 log_ge $D 'reloaded map' $((n0 + 1))
	el=$(( $(now_ms) - t0 ))
	if ! log_ge $D 'reloaded map' $((n0 + 1)); then
		fail "reload/perm-fixed-picked-up" "no 'reloaded map' line within 3 s of chmod 0644 (map_check_interval = 1): $(tail_of "$work/$D/log")"
	elif ! seq_ok $D "$(rep 192.0.2.61 A 4)"; then
		fail "reload/perm-fixed-picked-up" "192.0.2.61 not exempt after the reload: $(mtfail $D)"
	else
		pass "reload/perm-fixed-picked-up"
		echo "# perm: map picked up ${el} ms after chmod" >&2
	fi
else
	fail "reload/perm-setup" "$(why_down "$work/$D")"
fi

# --- 3c: a FIFO at the map or config path never blocks the control thread ---------

# open() of a FIFO waits for a writer: the reload, the sweeps and the
# shutdown would all hang behind it.  Each must be refused with its name,
# the rules in force kept, the daemon answering and stopping on SIGTERM.
D=fifo
mkdir -p "$work/$D"
map=$work/$D/exempt
build_map "$map" '192.0.2.70 OK'
if start_daemon $D 'limit = 2' 'window = 60' 'map_check_interval = 1' \
    "exempt_map = \"$map.db\""; then
	d=$work/$D
	pid0=$(cat "$d/pid")
	seq_ok $D "$(rep 192.0.2.70 A 3)" || fail "reload/fifo-setup" "$(mtfail $D)"
	for what in map config; do
		if [ $what = map ]; then f=$map.db c=192.0.2.71; else f=$d/conf c=192.0.2.72; fi
		cp -p "$f" "$d/keep"
		rm -f "$d/new" && mkfifo "$d/new" && mv -f "$d/new" "$f"
		n0=$(log_n $D 'reload failed')
		kill -USR1 "$pid0"
		re="$f: .*not a regular file \\(a FIFO\\)"
		wait_for 3 log_ge $D 'reload failed' $((n0 + 1))
		if ! log_ge $D "$re" 1 || ! log_ge $D 'reload failed' $((n0 + 1)); then
			fail "reload/fifo-$what-refused" "no '$f: ... not a regular file (a FIFO)' and 'reload failed' lines within 3 s of SIGUSR1: $(tail_of "$d/log")"
		elif ! seq_ok $D "$(rep 192.0.2.70 A 3) $c=A $c=A $c=R"; then
			fail "reload/fifo-$what-refused" "the rules in force changed or the daemon does not answer: $(mtfail $D)"
		else
			pass "reload/fifo-$what-refused"
		fi
		mv -f "$d/keep" "$f"
		# Put back, the next SIGUSR1 loads it (the thread is not stuck).
		n0=$(log_n $D 'reloaded configuration')
		kill -USR1 "$pid0"
		wait_for 3 log_ge $D 'reloaded configuration' $((n0 + 1))
		log_ge $D 'reloaded configuration' $((n0 + 1)) &&
			pass "reload/fifo-$what-then-reload" ||
			fail "reload/fifo-$what-then-reload" "no 'reloaded configuration' within 3 s once the $what was back: $(tail_of "$d/log")"
		# Leave the FIFO in place for the shutdown check.
		[ $what = config ] && rm -f "$d/new" && mkfifo "$d/new" && mv -f "$d/new" "$map.db"
	done
	# The periodic check meets the FIFO too (map_check_interval = 1);
	# then SIGUSR1 and SIGTERM together: it must still stop in time.
	n0=$(log_n $D 'reload failed')
	kill -USR1 "$pid0"
	wait_for 3 log_ge $D 'reload failed' $((n0 + 1))
	t0=$(now_ms)
	kill -TERM "$pid0"
	fifo_gone() { [ -e "$d/status" ]; }
	wait_for 8 fifo_gone
	el=$(( $(now_ms) - t0 ))
	if ! fifo_gone; then
		kill -KILL "$pid0" 2>/dev/null
		fail "reload/fifo-sigterm-stops" "still running ${el} ms after SIGTERM (killed): $(tail_of "$d/log")"
	elif [ "$(cat "$d/status")" != 0 ]; then
		fail "reload/fifo-sigterm-stops" "exit status $(cat "$d/status"), want 0: $(tail_of "$d/log")"
	else
		pass "reload/fifo-sigterm-stops"
		echo "# fifo: stopped ${el} ms after SIGTERM" >&2
	fi
else
	fail "reload/fifo-setup" "$(why_down "$work/$D")"
fi

# --- 4: SIGUSR1 re-reads the configuration; counts carry over ------------------------

D=usr1
if start_daemon $D 'limit = 10' 'window = 60'; then
	d=$work/$D
	pid0=$(cat "$d/pid")
	c=192.0.2.40
	seq_ok $D "$c=A $c=A" || fail "reload/sigusr1-setup" "$(mtfail $D)"
	sed 's/^limit = 10$/limit = 3/' "$d/conf" > "$d/conf.new" && mv "$d/conf.new" "$d/conf"
	n0=$(log_n $D 'reloaded configuration')
	kill -USR1 "$pid0"
	wait_for 3 log_ge $D 'reloaded configuration' $((n0 + 1))
	if ! log_ge $D 'reloaded configuration.*limit=3 ' $((n0 + 1)); then
		fail "reload/sigusr1-new-limit" "no 'reloaded configuration ... limit=3' line within 3 s: $(tail_of "$d/log")"
	elif seq_ok $D "$c=A $c=R $(rep 192.0.2.41 A 3) 192.0.2.41=R"; then
		pass "reload/sigusr1-new-limit"
	else
		fail "reload/sigusr1-new-limit" "2 connections before, limit 10 -> 3: want exactly 1 more: $(mtfail $D)"
	fi

	# A broken config: the reload fails, the old one stays.
	cp "$d/conf" "$d/conf.good"
	{
		cat "$d/conf.good"
		echo '# a typo follows'
		echo 'limit = 7'
		echo 'no_such_option = 1'
	} > "$d/conf.new" && mv "$d/conf.new" "$d/conf"
	bad=$(grep -n '^no_such_option' "$d/conf" | cut -d: -f1)
	n0=$(log_n $D 'reload failed')
	kill -USR1 "$pid0"
	wait_for 3 log_ge $D 'reload failed' $((n0 + 1))
	if ! log_ge $D 'reload failed' $((n0 + 1)); then
		fail "reload/sigusr1-broken-config-kept" "no 'reload failed' line within 3 s: $(tail_of "$d/log")"
	elif ! seq_ok $D "$(rep 192.0.2.42 A 3) 192.0.2.42=R $c=R"; then
		fail "reload/sigusr1-broken-config-kept" "limit 3 should stay: $(mtfail $D)"
	else
		pass "reload/sigusr1-broken-config-kept"
	fi
	grep -Fq "$d/conf:$bad:" "$d/log" && pass "reload/sigusr1-broken-config-names-line" ||
		fail "reload/sigusr1-broken-config-names-line" "no '$d/conf:$bad:' in the log: $(tail_of "$d/log" 4)"
	alive "$d" && [ "$(cat "$d/pid")" = "$pid0" ] && pass "reload/sigusr1-same-process" ||
		fail "reload/sigusr1-same-process" "$(why_down "$d")"
	mv "$d/conf.good" "$d/conf"
else
	fail "reload/sigusr1-setup" "$(why_down "$work/$D")"
fi

# --- 4b: SIGUSR1 moves a limit to another group size, up and down ---------------
# Up to a limit of 10 a slot holds one connection; above, a group of
# g = ceil((limit - 1) / 9).  A change of group size restarts the client's
# count (milter-ratelimit(8): lenient for one window, never stricter):
# 5 -> 100 gives 100 to 110 more, not the 50-odd that the old slots read
# with g = 11 would give; 100 -> 5 gives exactly 5 more, not none.

D=regroup
if start_daemon $D 'limit = 5' 'window = 600'; then
	d=$work/$D
	c=192.0.2.45
	# set_limit N: rewrite the limit, SIGUSR1, wait for the reload line.
	set_limit() {
		sed "s/^limit = .*/limit = $1/" "$d/conf" > "$d/conf.new" && mv "$d/conf.new" "$d/conf"
		_re="reloaded configuration.*limit=$1 "
		_n0=$(log_n $D "$_re")
		kill -USR1 "$(cat "$d/pid")"
		wait_for 3 log_ge $D "$_re" $((_n0 + 1))
		log_ge $D "$_re" $((_n0 + 1))
	}
	if ! seq_ok $D "$(rep $c A 5) $c=R"; then
		fail "reload/sigusr1-regroup-up" "limit 5 before the reload: $(mtfail $D)"
	elif ! set_limit 100; then
		fail "reload/sigusr1-regroup-up" "no 'reloaded configuration ... limit=100' within 3 s: $(tail_of "$d/log")"
	elif seq_ok $D "$(rep $c A 100) $(rep $c AR 10) $c=R"; then
		pass "reload/sigusr1-regroup-up"
	else
		fail "reload/sigusr1-regroup-up" "limit 5 -> 100 (g 1 -> 11): want 100 to 110 more, then refused: $(mtfail $D)"
	fi
	if ! set_limit 5; then
		fail "reload/sigusr1-regroup-down" "no 'reloaded configuration ... limit=5' within 3 s: $(tail_of "$d/log")"
	elif seq_ok $D "$(rep $c A 5) $c=R $c=R"; then
		pass "reload/sigusr1-regroup-down"
	else
		fail "reload/sigusr1-regroup-down" "limit 100 -> 5 (g 11 -> 1) after 100-odd: want exactly 5 more: $(mtfail $D)"
	fi
else
	fail "reload/sigusr1-regroup-up" "$(why_down "$work/$D")"
	fail "reload/sigusr1-regroup-down" "not run"
fi

# --- 4c: SIGUSR1 keeps the counts of every key whose (family, length) stays --------
# IPv4 /32 at 10 and a /24 at 4.  After a reload the /24 (now 6) carries
# its count on, a new /16 starts from nothing; a reload without the
# sections consults the /32s only; the /24's counts are there again when
# it comes back within its window.  A config with a duplicate length
# fails to load, names its line, and leaves the keys in force.

D=prefixes
if start_daemon $D 'limit = 10' 'window = 60' 'prefix ipv4/24 { limit = 4 }'; then
	d=$work/$D
	# set_sections LINE...: the conf's prefix lines replaced, SIGUSR1,
	# wait for the reload line naming the keys ($keys).
	set_sections() {
		grep -v '^prefix ' "$d/conf" > "$d/conf.new"
		for _l in "$@"; do echo "$_l" >> "$d/conf.new"; done
		mv "$d/conf.new" "$d/conf"
		_re="reloaded configuration.* keys=$keys "
		_n0=$(log_n $D "$_re")
		kill -USR1 "$(cat "$d/pid")"
		wait_for 3 log_ge $D "$_re" $((_n0 + 1))
		log_ge $D "$_re" $((_n0 + 1))
	}
	# 4 from four /32s fill the /24; the fifth is refused (and counted
	# there: count_refused)
	if ! seq_ok $D "192.0.2.50=A 192.0.2.51=A 192.0.2.52=A 192.0.2.53=A 192.0.2.54=R"; then
		fail "reload/prefix-keys-kept" "before the reload: $(mtfail $D)"
		fail "reload/prefix-keys-new-length" "not run"
	else
		keys='ipv4/32:10/60s,ipv4/24:6/60s,ipv4/16:3/60s,ipv6/64:10/60s'
		if ! set_sections 'prefix ipv4/24 { limit = 6 }' 'prefix ipv4/16 { limit = 3 }'; then
			fail "reload/prefix-keys-kept" "no reload line with keys=$keys within 3 s: $(tail_of "$d/log")"
			fail "reload/prefix-keys-new-length" "not run"
		else
			# the /24 had 5: one more, then refused
			seq_ok $D "192.0.2.55=A 192.0.2.56=R" && pass "reload/prefix-keys-kept" ||
				fail "reload/prefix-keys-kept" "/24 at 5 of 4 -> limit 6: want exactly 1 more: $(mtfail $D)"
			# the /16 counts from the reload: 192.0.2.55 and two more
			seq_ok $D "192.0.9.1=A 192.0.9.2=A 192.0.9.3=R" && pass "reload/prefix-keys-new-length" ||
				fail "reload/prefix-keys-new-length" "a new /16 at 3 counted from the reload: $(mtfail $D)"
		fi
	fi
	keys='ipv4/32:10/60s,ipv6/64:10/60s'
	if ! set_sections; then
		fail "reload/prefix-keys-removed-and-back" "no reload line with keys=$keys within 3 s: $(tail_of "$d/log")"
	elif ! seq_ok $D "192.0.2.57=A 192.0.9.4=A"; then
		fail "reload/prefix-keys-removed-and-back" "without sections only the /32s count: $(mtfail $D)"
	else
		keys='ipv4/32:10/60s,ipv4/24:6/60s,ipv6/64:10/60s'
		if ! set_sections 'prefix ipv4/24 { limit = 6 }'; then
			fail "reload/prefix-keys-removed-and-back" "no reload line with keys=$keys within 3 s: $(tail_of "$d/log")"
		elif seq_ok $D "192.0.2.58=R"; then
			pass "reload/prefix-keys-removed-and-back"
		else
			fail "reload/prefix-keys-removed-and-back" "the /24's counts (7 of 6) should be back: $(mtfail $D)"
		fi
	fi
	# a duplicate length: refused, its line named, the /24 still holds
	cp "$d/conf" "$d/conf.good"
	{ cat "$d/conf.good"; echo '# again'; echo 'prefix ipv4/024 { limit = 100 }'; } > "$d/conf.new"
	mv "$d/conf.new" "$d/conf"
	bad=$(grep -n '^prefix ipv4/024' "$d/conf" | cut -d: -f1)
	n0=$(log_n $D 'reload failed')
	kill -USR1 "$(cat "$d/pid")"
	wait_for 3 log_ge $D 'reload failed' $((n0 + 1))
	if ! log_ge $D 'reload failed' $((n0 + 1)); then
		fail "reload/prefix-bad-config-kept" "no 'reload failed' line within 3 s: $(tail_of "$d/log")"
	elif ! grep -Fq "$d/conf:$bad: prefix ipv4/024: that length is already counted" "$d/log"; then
		fail "reload/prefix-bad-config-kept" "no '$d/conf:$bad: ... already counted' in the log: $(tail_of "$d/log" 4)"
	elif seq_ok $D "192.0.2.59=R"; then
		pass "reload/prefix-bad-config-kept"
	else
		fail "reload/prefix-bad-config-kept" "the /24 at 6 should still refuse: $(mtfail $D)"
	fi
	mv "$d/conf.good" "$d/conf"
else
	for t in kept new-length removed-and-back bad-config-kept; do
		fail "reload/prefix-keys-$t" "$(why_down "$work/$D")"
	done
fi

# --- 5: SIGUSR2 logs the statistics ------------------------------------------------

D=stats
mkdir -p "$work/$D"
map=$work/$D/exempt
build_map "$map" '192.0.2.51 OK'
if start_daemon $D 'limit = 3' 'window = 60' "exempt_map = \"$map.db\""; then
	if seq_ok $D "$(rep 192.0.2.50 A 3) $(rep 192.0.2.50 R 2) $(rep 192.0.2.51 A 2) unspec=A"; then
		kill -USR2 "$(cat "$work/$D/pid")"
		wait_for 3 log_ge $D 'stats connections=' 1
		l=$(grep -E 'stats connections=' "$work/$D/log" | tail -n 1)
		why=
		for f in connections=8 accepted=6 exempt=2 refused=2 no_address=1 table_used=1 \
		    reloads=0 reload_failures=0; do
			case " $l " in *" $f "*) ;; *) why="$why $f;" ;; esac
		done
		[ -n "$l" ] && [ -z "$why" ] && pass "reload/sigusr2-stats" ||
			fail "reload/sigusr2-stats" "want$why in: '$l'"
	else
		fail "reload/sigusr2-stats" "$(mtfail $D)"
	fi
else
	fail "reload/sigusr2-stats" "$(why_down "$work/$D")"
fi

# --- 7: reloads under load ----------------------------------------------------------

D=load
mkdir -p "$work/$D"
d=$work/$D
map=$d/exempt
# Two contents, both exempting 192.0.2.0/24, with 1000 filler entries each;
# 10.50.0.0/16 is exempt in A and limited to 2/60 in B.
awk 'BEGIN { print "192.0.2.0/24 OK"; print "10.50.0.0/16 OK";
    for (i = 0; i < 1000; i++) printf "172.16.%d.%d OK\n", int(i / 256), i % 256 }' > "$d/a.txt"
awk 'BEGIN { print "192.0.2.0/24 OK"; print "10.50.0.0/16 2/60";
    for (i = 0; i < 1000; i++) printf "172.17.%d.%d 5/1h\n", int(i / 256), i % 256 }' > "$d/b.txt"
timeout -k 1 10 "$RMAP" "$map" < "$d/a.txt" 2>> "$work/rmap.err"
if start_daemon $D 'limit = 1' 'window = 60' 'map_check_interval = 1' \
    "exempt_map = \"$map.db\""; then
	pid0=$(cat "$d/pid")
	n0m=$(log_n $D 'reloaded map')
	n0c=$(log_n $D 'reloaded configuration')
	# Client 1: always exempt (limit 1 would refuse its 2nd session at
	# once if an exemption ever lapsed).  Client 2: the alternating net,
	# plus an always-exempt address.
	steps2=
	i=0
	while [ $i -lt 40 ]; do steps2="$steps2 10.50.$i.$((i + 1))=AR"; i=$((i + 1)); done
	steps2="$steps2 192.0.2.99=A"
	lp1='' lp2=''
	for k in 1 2; do
		if [ $k = 1 ]; then s="192.0.2.1=A 192.0.2.2=A"; else s=$steps2; fi
		timeout -k 2 40 miltertest -D sock="unix:$d/m.sock" -D mode=load -D "steps=$s" \
		    -D stop="$d/stop" -D max=200000 -D secs=20 -s "$here/mt.lua" \
		    > "$d/load$k.out" 2>&1 &
		if [ $k = 1 ]; then lp1=$!; else lp2=$!; fi
		loaders="$loaders $!"
	done
	t0=$(now_ms)
	w=0 werr=0
	while [ $w -lt 50 ]; do
		if [ $((w % 2)) = 0 ]; then f=$d/b.txt; else f=$d/a.txt; fi
		timeout -k 1 10 "$RMAP" "$map" < "$f" 2>> "$work/rmap.err" || werr=$((werr + 1))
		w=$((w + 1))
		# The first 25 rewrites are found by the periodic check; each
		# of the last 25 is followed by a full reload by signal (which
		# restarts the check interval).
		[ $w -gt 25 ] && kill -USR1 "$pid0" 2>/dev/null
		# Pacing: 25 rewrites over ~4 s (several periodic checks),
		# then 25 over ~2.5 s.
		if [ $w -le 25 ]; then sleep 0.15; else sleep 0.08; fi
	done
	: > "$d/stop"
	wait $lp1; r1=$?
	wait $lp2; r2=$?
	loaders=
	el=$(( $(now_ms) - t0 ))
	nm=$(( $(log_n $D 'reloaded map') - n0m ))
	nc=$(( $(log_n $D 'reloaded configuration') - n0c ))
	o1=$(cat "$d/load1.out") o2=$(cat "$d/load2.out")
	if [ $r1 = 0 ] && [ $r2 = 0 ] && [ $werr = 0 ] && [ $nm -ge 2 ] && [ $nc -ge 10 ]; then
		pass "reload/under-load-no-session-fails"
	else
		fail "reload/under-load-no-session-fails" "client 1 exit $r1: $(oneline "$o1"); client 2 exit $r2: $(oneline "$o2"); $werr failed rewrites; $nm map reloads (want >= 2), $nc by signal (want >= 10) in ${el} ms"
	fi
	# Client 2's summary line must be there and show both answers.
	acc2=$(printf '%s\n' "$o2" | sed -n 's/^ok sessions=[0-9]* accepted=\([0-9]*\) refused=[0-9]*$/\1/p')
	ref2=$(printf '%s\n' "$o2" | sed -n 's/^ok sessions=[0-9]* accepted=[0-9]* refused=\([0-9]*\)$/\1/p')
	if [ -z "$acc2" ] || [ -z "$ref2" ]; then
		fail "reload/under-load-both-maps-seen" "no 'ok sessions=N accepted=N refused=N' line from client 2: $(oneline "$o2")"
	elif [ "$ref2" = 0 ]; then
		fail "reload/under-load-both-maps-seen" "client 2 was never refused: map B never in force? $(oneline "$o2")"
	elif [ "$acc2" = 0 ]; then
		fail "reload/under-load-both-maps-seen" "client 2 was never accepted: $(oneline "$o2")"
	else
		pass "reload/under-load-both-maps-seen"
	fi
	if alive "$d" && [ "$(cat "$d/pid")" = "$pid0" ] && seq_ok $D "192.0.2.1=A 203.0.113.70=A 203.0.113.70=R"; then
		pass "reload/under-load-still-answers"
	else
		fail "reload/under-load-still-answers" "$(mtfail $D)"
	fi
	echo "# load: $(oneline "$o1") / $(oneline "$o2"); $nm map reloads, $nc by signal in ${el} ms" >&2
else
	fail "reload/under-load-no-session-fails" "$(why_down "$d")"
fi

# --- 6 (checked): SIGHUP stopped the daemon -----------------------------------------

if [ -n "$hup_pid" ]; then
	hup_gone() { [ -e "$work/hup/status" ]; }
	wait_for 8 hup_gone
	el=$(( $(now_ms) - hup_t0 ))
	if ! hup_gone; then
		kill -KILL "$hup_pid" 2>/dev/null
		fail "reload/sighup-stops" "still running ${el} ms after SIGHUP (killed): $(tail_of "$work/hup/log")"
	elif [ -e "$work/hup/m.sock" ]; then
		fail "reload/sighup-stops" "exited $(cat "$work/hup/status") but left its socket behind"
	elif [ "$(cat "$work/hup/status")" != 0 ]; then
		fail "reload/sighup-stops" "exit status $(cat "$work/hup/status"), want 0: $(tail_of "$work/hup/log")"
	else
		pass "reload/sighup-stops"
	fi
fi

# --- shutdown and sanitizer reports -------------------------------------------------

for _d in $daemons; do
	[ -s "$_d/pid" ] && [ ! -e "$_d/status" ] && kill -TERM "$(cat "$_d/pid")" 2>/dev/null
done
all_down() {
	for _d in $daemons; do [ -e "$_d/status" ] || [ ! -s "$_d/pid" ] || return 1; done
}
wait_for 8 all_down
bad=
for _d in $daemons; do
	_n=${_d##*/}
	if [ ! -s "$_d/pid" ]; then
		:
	elif [ ! -e "$_d/status" ]; then
		kill -KILL "$(cat "$_d/pid")" 2>/dev/null
		bad="$bad $_n: still running 8 s after SIGTERM (killed);"
	elif [ "$(cat "$_d/status")" != 0 ]; then
		bad="$bad $_n: exit $(cat "$_d/status"): $(tail_of "$_d/log" 3);"
	fi
done
[ -z "$bad" ] && pass "reload/sigterm-exit" || fail "reload/sigterm-exit" "$bad"

case $BIN in
*build-asan*)
	rep_=
	for _d in $daemons; do
		rep_=$rep_$(grep -E -m1 'AddressSanitizer|LeakSanitizer|runtime error' "$_d/log" 2>/dev/null)
	done
	[ -z "$rep_" ] && pass "reload/no-sanitizer-reports" ||
		fail "reload/no-sanitizer-reports" "$(oneline "$rep_")"
	;;
*) skip "reload/no-sanitizer-reports" "not a sanitizer build ($BIN)" ;;
esac

# Settings fixed at start: a reload that changes the user, the group or the
# pid file says it takes a restart and keeps them, so a change the next
# start would refuse (exit 78 from -n in the unit) is seen now, not at boot;
# the rest of the reload applies.
D=fixedstart
if start_daemon $D 'limit = 5'; then
	d=$work/$D
	_n0=$(log_n $D 'reloaded configuration.*limit=6 ')
	sed -e 's/^limit = .*/limit = 6/' -e 's/^user = .*/user = "no-such-user-mrl"/' "$d/conf" > "$d/conf.new"
	printf '%s\n' 'group = "no-such-group-mrl"' "pidfile = \"$d/nodir/m.pid\"" >> "$d/conf.new"
	mv "$d/conf.new" "$d/conf"
	kill -USR1 "$(cat "$d/pid")"
	wait_for 5 log_ge $D 'reloaded configuration.*limit=6 ' $((_n0 + 1))
	why=
	for o in user group pidfile; do
		log_ge $D "$o changed; it takes a restart, keeping" 1 || why="$why no '$o changed; it takes a restart' line;"
	done
	log_ge $D 'reloaded configuration.*limit=6 ' $((_n0 + 1)) || why="$why the rest (limit=6) not applied;"
	alive "$d" || why="$why $(why_down "$d");"
	[ -z "$why" ] && pass "reload/fixed-at-start-settings-kept" ||
		fail "reload/fixed-at-start-settings-kept" "$why $(tail_of "$d/log" 4)"
	kill -TERM "$(cat "$d/pid")" 2>/dev/null
else
	fail "reload/fixed-at-start-settings-kept" "$(why_down "$work/$D")"
fi

[ "${FAILED:-0}" = 0 ]
