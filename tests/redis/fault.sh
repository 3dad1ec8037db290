# Helpers of the Redis fault tests (t-fault-*.sh, t-fake-*.sh).  Source it
# after tests/lib.sh and tests/redis/server.sh, with BIN (the daemon) and
# REDIS_SUITE_TMP set.
#
# The daemons count in one private Redis with a short command bound
# (FT_TIMEOUT_MS, 20 ms); tests/redis/rdrive.c plays the MTA from several
# client addresses at once and times every session.  Each client address
# has a limit of its own in the map (fault_map), so a Redis reply handed to
# the wrong request shows as a wrong verdict, not as a lucky one.
#
# fault_setup: build rdrive; exits the test file (after a FAIL) when it
#   cannot.
# fault_map ADDR VALUE ...: the map source, pairs of words ("10.1.0.1"
#   "3/1h"), built into $FT_MAP.db with ratelimit-map before the daemons
#   start.
# daemon_start NAME [CONF-LINE...]: a daemon in $REDIS_SUITE_TMP/NAME
#   counting in $REDIS_SOCK (redis = unix:..., redis_timeout_ms), its
#   log in NAME/log.  0 when its socket is up.
# daemons_kill: SIGKILL every daemon started (the libmilter exit takes up
#   to 5 s after SIGTERM; graceful exit is tested elsewhere).
# drive SOCKS CLIENT...: rdrive run, its output in $FT_OUT and the
#   "total" line's fields in FT_SESSIONS FT_ANSWERED FT_OTHER FT_MAX_MS.
# verdicts_are ADDR:ACCEPTED...: every named client got exactly ACCEPTED
#   accepts in the last drive (and the rest refused); prints what differs.
# log_mark NAME / log_since NAME ERE: count lines matching ERE that the
#   daemon NAME logged since its last log_mark.
# until_up NAME... : drive probe sessions (throwaway addresses) at every
#   daemon until each has logged an up line since its mark; bounded.

FT_TIMEOUT_MS=${FT_TIMEOUT_MS:-20}
# The bound on one session: the Redis timeout plus a generous margin for
# a loaded 2-core machine (a bound, not a speed claim).
FT_MARGIN_MS=${FT_MARGIN_MS:-500}
FT_BOUND_MS=$((FT_TIMEOUT_MS + FT_MARGIN_MS))
# The daemon's one line when it stops using Redis, and when it is back
# (src/redis_store.c).
FT_DOWN_RE=${FT_DOWN_RE:-'redis down: '}
FT_UP_RE=${FT_UP_RE:-'redis up: '}
FT_MAP=$REDIS_SUITE_TMP/map
FT_DAEMONS=
FT_PROBE=0

# report NAME WHY: pass NAME when WHY is empty, else fail it with WHY.
report() {
	if [ -z "$2" ]; then pass "$1"; else fail "$1" "$2"; fi
}

fault_setup() {
	FT_RDRIVE=$REDIS_SUITE_TMP/rdrive
	if ! cc -std=c11 -O2 -Wall -Wextra -I/usr/include/libmilter -o "$FT_RDRIVE" \
	    "$HERE/rdrive.c" -lpthread > "$REDIS_SUITE_TMP/cc.log" 2>&1; then
		fail "redis/${FT_NAME:-fault}-setup" "cannot build rdrive: $(tail -n 3 "$REDIS_SUITE_TMP/cc.log" | tr '\n' ' ')"
		exit 1
	fi
	FT_MAPTOOL=$(dirname "$BIN")/ratelimit-map
}

fault_map() {
	printf '%s %s\n' "$@" > "$FT_MAP.txt"
	"$FT_MAPTOOL" "$FT_MAP" < "$FT_MAP.txt" > "$REDIS_SUITE_TMP/map.log" 2>&1
}

daemon_start() {
	_d=$REDIS_SUITE_TMP/$1; shift
	mkdir -p "$_d"
	rm -f "$_d/status" "$_d/pid"	# left by an earlier run: never waited on
	{
		echo "socket = \"unix:$_d/m.sock\""
		echo "limit = ${FT_LIMIT:-50}"
		echo "window = 3600"
		echo "max_clients = 10000"
		echo 'user = "root"'
		[ -f "$FT_MAP.db" ] && echo "exempt_map = \"$FT_MAP.db\""
		echo "redis = \"unix:$REDIS_SOCK\""
		echo "redis_timeout_ms = $FT_TIMEOUT_MS"
		for _l in "$@"; do echo "$_l"; done
	} > "$_d/conf"
	(
		sh -c 'echo $$ > "$1"; shift; exec "$@"' sh "$_d/pid" \
		    "$BIN" -d -f "$_d/conf" > "$_d/log" 2>&1
		echo $? > "$_d/status"
	) &
	FT_DAEMONS="$FT_DAEMONS $_d"
	FT_DPIDS="${FT_DPIDS:-} $!"
	wait_for 10 sh -c "[ -S '$_d/m.sock' ] || [ -e '$_d/status' ]"
	[ -S "$_d/m.sock" ] && [ ! -e "$_d/status" ]
}

daemons_kill() {
	for _d in $FT_DAEMONS; do
		[ -s "$_d/pid" ] && [ ! -e "$_d/status" ] && kill -KILL "$(cat "$_d/pid")" 2>/dev/null
	done
	# Only the daemons' own subshells: a Redis runs in the background too.
	for _p in ${FT_DPIDS:-}; do wait "$_p" 2>/dev/null; done
	FT_DAEMONS='' FT_DPIDS=''
}

# daemon_alive NAME: the daemon still runs (it did not crash).
daemon_alive() {
	[ ! -e "$REDIS_SUITE_TMP/$1/status" ] && kill -0 "$(cat "$REDIS_SUITE_TMP/$1/pid")" 2>/dev/null
}

sock_of() { echo "$REDIS_SUITE_TMP/$1/m.sock"; }

drive() {
	_socks=$1; shift
	FT_OUT=$REDIS_SUITE_TMP/drive.$$.$(date +%s%N)
	timeout -k 2 60 "$FT_RDRIVE" -T 5000 run "$_socks" "$@" > "$FT_OUT" 2>&1
	_t=$(grep '^total ' "$FT_OUT")
	FT_SESSIONS=$(field sessions "$_t")
	FT_ANSWERED=$(field answered "$_t")
	FT_OTHER=$(field other "$_t")
	FT_MAX_MS=$(field max_ms "$_t")
	[ -n "$_t" ]
}

# field NAME LINE: the value of NAME=... in LINE.
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }

verdicts_are() {
	_bad=
	for _e in "$@"; do
		_a=${_e%:*} _want=${_e##*:}
		_l=$(grep "^client $_a " "$FT_OUT")
		_got=$(field accepted "$_l")
		[ "$_got" = "$_want" ] || _bad="$_bad $_a: accepted ${_got:-?}, want $_want;"
	done
	[ -z "$_bad" ] || { echo "$_bad"; return 1; }
}

# within_bound: the last drive's longest session is within FT_BOUND_MS.
within_bound() {
	awk -v m="${FT_MAX_MS:-999999}" -v b="$FT_BOUND_MS" 'BEGIN { exit !(m + 0 <= b + 0) }'
}

log_mark() {
	_d=$REDIS_SUITE_TMP/$1
	wc -l < "$_d/log" | tr -d ' ' > "$_d/mark"
}

log_since() {
	_d=$REDIS_SUITE_TMP/$1
	tail -n +$(( $(cat "$_d/mark" 2>/dev/null || echo 0) + 1 )) "$_d/log" | grep -Eci "$2"
}

# up_since NAME...: every daemon named has logged an up line since its mark.
up_since() {
	for _n in "$@"; do
		[ "$(log_since "$_n" "$FT_UP_RE")" -ge 1 ] || return 1
	done
}

# probe_all NAME...: one session from a fresh throwaway address at each.
# A fresh address under the default limit must be accepted: a refusal is
# a reply meant for another request (say the refused client's, late),
# noted in FT_PROBE_BAD.
probe_all() {
	for _n in "$@"; do
		FT_PROBE=$((FT_PROBE + 1))
		_pa=10.250.$((FT_PROBE / 250 % 250)).$((FT_PROBE % 250 + 1))
		"$FT_RDRIVE" -T 2000 run "$(sock_of "$_n")" "$_pa:1" > "$REDIS_SUITE_TMP/probe.out" 2>&1
		grep -q "^client $_pa accepted=1 " "$REDIS_SUITE_TMP/probe.out" ||
		    FT_PROBE_BAD="${FT_PROBE_BAD:-} $_pa@$_n:$(grep '^client' "$REDIS_SUITE_TMP/probe.out" | cut -d' ' -f3-)"
	done
	up_since "$@"
}

until_up() {
	wait_for "${FT_UP_BOUND:-10}" probe_all "$@"
}

# --- one fault, five checks ----------------------------------------------------
# fault_map_for F...: the map lines of the clients fault_case F drives: on
# each daemon (1: A, 2: B) four clients 10.F.D.1-4 at limits 2, 3, 4, 5;
# eight shared ones 10.F.3.1-8 at 3 to 10 (eight at once reach more of
# libmilter's workers, so more of their Redis connections).  Distinct limits: a
# reply meant for another client gives a verdict that shows.
fault_map_for() {
	for _f in "$@"; do
		for _k in 1 2 3 4; do
			echo "10.$_f.1.$_k $((_k + 1))/1h"
			echo "10.$_f.2.$_k $((_k + 1))/1h"
		done
		for _k in 1 2 3 4 5 6 7 8; do
			echo "10.$_f.3.$_k $((_k + 2))/1h"
		done
	done
}

# fault_case NAME F INDUCE RESOLVE [outage|noloss]: with daemons A and B
# up and counting in Redis, run INDUCE (a command), drive the fault-phase
# clients, run RESOLVE, wait until both daemons use Redis again, drive the
# shared clients.  Checks, named redis/fault-NAME-*:
#   answered  every session of every phase got an accept or a refusal
#   bound     no session took longer than FT_BOUND_MS
#   decided   (also: every probe from a fresh address was accepted)
#             outage: each daemon held its own clients to their limits (the
#             local table decided); noloss (a fault the daemon mends within
#             the call: NOSCRIPT reloads the script, a dropped connection is
#             made again): the clients, round robin over A and B, were held
#             to their limits in total (Redis decided, no decision lost)
#   log       outage: exactly one down line and one up line from each
#             daemon; noloss: no down line at all
#   shared    after the fault, eight clients round robin over A and B are
#             held to their limits in total: the daemons share again
# INDUCE may leave work in the background (FT_BG, a pid) that the phase
# must overlap; RESOLVE waits for it.  Either sets FT_FAULT_WHY when the
# fault could not be made as meant: "decided" then fails with it.
fault_case() {
	_fn=$1 _f=$2 _induce=$3 _resolve=$4 _kind=${5:-outage}
	_socks=$(sock_of A),$(sock_of B)
	_why_ans='' _why_bound='' _why_dec=''
	log_mark A; log_mark B
	FT_BG=
	eval "$_induce"
	# First into the fault, one session from each daemon for 10.0.3.1,
	# which fault_begin left refused: the call that stalls or fails is
	# this one, so a late reply that reached another request would refuse
	# a fresh client (one accept short) in a later drive.
	drive "$_socks" 10.0.3.1:2
	_r=$(verdicts_are 10.0.3.1:0) || _why_dec="the refused client:$_r"
	[ "$FT_OTHER" = 0 ] || _why_ans="the refused client got no answer ($FT_OTHER)"
	within_bound || _why_bound="the refused client's session took $FT_MAX_MS ms"
	_hot_ms=$FT_MAX_MS
	if [ "$_kind" = noloss ]; then
		drive "$_socks" "10.$_f.1.1:6" "10.$_f.1.2:7" "10.$_f.1.3:8" "10.$_f.1.4:9"
		_r=$(verdicts_are "10.$_f.1.1:2" "10.$_f.1.2:3" "10.$_f.1.3:4" "10.$_f.1.4:5") ||
		    _why_dec="${_why_dec:+$_why_dec; }round robin over A and B:$_r"
	else
		drive "$_socks" "10.$_f.1.1:5@0" "10.$_f.1.2:6@0" "10.$_f.1.3:7@0" "10.$_f.1.4:8@0" \
		    "10.$_f.2.1:5@1" "10.$_f.2.2:6@1" "10.$_f.2.3:7@1" "10.$_f.2.4:8@1"
		_r=$(verdicts_are "10.$_f.1.1:2" "10.$_f.1.2:3" "10.$_f.1.3:4" "10.$_f.1.4:5" \
		    "10.$_f.2.1:2" "10.$_f.2.2:3" "10.$_f.2.3:4" "10.$_f.2.4:5") ||
		    _why_dec="${_why_dec:+$_why_dec; }local table:$_r"
	fi
	[ "$FT_OTHER" = 0 ] && [ "$FT_ANSWERED" = "$FT_SESSIONS" ] ||
	    _why_ans="${_why_ans:+$_why_ans; }during the fault: $FT_ANSWERED of $FT_SESSIONS answered ($(grep -v '^client' "$FT_OUT" | tr '\n' ' '))"
	within_bound || _why_bound="${_why_bound:+$_why_bound; }during the fault: a session took $FT_MAX_MS ms, bound $FT_BOUND_MS"
	_fault_ms=$FT_MAX_MS
	eval "$_resolve"
	[ -z "$FT_BG" ] || wait "$FT_BG" 2>/dev/null
	# A fault that could not be made (INDUCE or RESOLVE set FT_FAULT_WHY)
	# proves nothing: the case fails.
	[ -z "${FT_FAULT_WHY:-}" ] || _why_dec="${_why_dec:+$_why_dec; }$FT_FAULT_WHY"
	FT_FAULT_WHY=''
	FT_PROBE_BAD=''
	if [ "$_kind" = outage ]; then
		until_up A B || _why_up="no up line from both daemons within ${FT_UP_BOUND:-10} s"
	fi
	[ -z "${FT_PROBE_BAD:-}" ] ||
	    _why_dec="${_why_dec:+$_why_dec; }fresh probe clients refused (a reply for another request?):$FT_PROBE_BAD"
	drive "$_socks" "10.$_f.3.1:6" "10.$_f.3.2:7" "10.$_f.3.3:8" "10.$_f.3.4:9" \
	    "10.$_f.3.5:10" "10.$_f.3.6:11" "10.$_f.3.7:12" "10.$_f.3.8:13"
	_r=$(verdicts_are "10.$_f.3.1:3" "10.$_f.3.2:4" "10.$_f.3.3:5" "10.$_f.3.4:6" \
	    "10.$_f.3.5:7" "10.$_f.3.6:8" "10.$_f.3.7:9" "10.$_f.3.8:10")
	_shared_rc=$?
	[ "$FT_OTHER" = 0 ] && [ "$FT_ANSWERED" = "$FT_SESSIONS" ] ||
	    _why_ans="${_why_ans:+$_why_ans; }after: $FT_ANSWERED of $FT_SESSIONS answered"
	within_bound || _why_bound="${_why_bound:+$_why_bound; }after: a session took $FT_MAX_MS ms"

	_n=redis/fault-$_fn
	report "$_n-answered" "$_why_ans"
	report "$_n-bound" "$_why_bound"
	report "$_n-decided" "$_why_dec"
	_dA=$(log_since A "$FT_DOWN_RE") _uA=$(log_since A "$FT_UP_RE")
	_dB=$(log_since B "$FT_DOWN_RE") _uB=$(log_since B "$FT_UP_RE")
	_why_log="down/up lines: A $_dA/$_uA, B $_dB/$_uB${_why_up:+ ($_why_up)}"
	if [ "$_kind" = outage ] && [ "$_dA$_uA$_dB$_uB" = 1111 ]; then
		_why_log=''
	elif [ "$_kind" = noloss ] && [ "$_dA$_dB" = 00 ]; then
		_why_log=''
	fi
	report "$_n-log" "$_why_log"
	[ $_shared_rc = 0 ] || _r="after the fault:$_r"
	[ $_shared_rc != 0 ] || _r=''
	report "$_n-shared" "$_r"
	echo "# fault $_fn: longest session $_hot_ms ms (first), $_fault_ms ms during, $FT_MAX_MS ms after"
	_why_up=
}

# fault_begin NAME [REDIS-ARG...] -- [CONF-LINE...]: the map for faults
# 1..20 (fault_map_for) and 10.0.3.1 at 4, a Redis, daemons A and B on it;
# one check redis/fault-NAME-start: both up, and a client round robin over
# them held to 4 in total (they share) while seven others connect at once
# (several connections open on each daemon before any fault).  Exits the file when that fails (nothing else could
# pass).
fault_begin() {
	_bn=$1; shift
	_rargs=
	while [ $# -gt 0 ] && [ "$1" != -- ]; do _rargs="$_rargs $1"; shift; done
	[ $# -gt 0 ] && shift
	fault_setup
	# shellcheck disable=SC2046
	fault_map $(fault_map_for $(seq 1 20)) 10.0.3.1 4/1h ||
	    { fail "redis/fault-$_bn-start" "ratelimit-map: $(tail -n 3 "$REDIS_SUITE_TMP/map.log")"; exit 1; }
	# shellcheck disable=SC2086
	redis_start "$REDIS_SUITE_TMP/r" $_rargs ||
	    { fail "redis/fault-$_bn-start" "redis-server did not start"; exit 1; }
	daemon_start A "$@" && daemon_start B "$@" ||
	    { fail "redis/fault-$_bn-start" "a daemon did not start: $(tail -n 3 "$REDIS_SUITE_TMP"/[AB]/log | tr '\n' ' ')"; exit 1; }
	# Eight clients at once: several libmilter workers on each daemon
	# open a Redis connection of their own, so a fault finds more than one
	# (each must notice on its own that the old one is gone).
	drive "$(sock_of A),$(sock_of B)" 10.0.3.1:9 10.0.4.1:4 10.0.4.2:4 10.0.4.3:4 \
	    10.0.4.4:4 10.0.4.5:4 10.0.4.6:4 10.0.4.7:4
	if _r=$(verdicts_are 10.0.3.1:4) && [ "$FT_OTHER" = 0 ]; then
		pass "redis/fault-$_bn-start"
	else
		fail "redis/fault-$_bn-start" "before any fault:$_r $(tail -n 2 "$REDIS_SUITE_TMP/A/log" | tr '\n' ' ')"
		exit 1
	fi
}

# --- the fake server (fakeredis.py) ---------------------------------------------
# The USR2 statistics line's count of Redis errors (redis-core's wording).
FT_ERRORS_FIELD=${FT_ERRORS_FIELD:-redis_errors}

# stats_errors NAME: ask daemon NAME for its statistics line (SIGUSR2) and
# print its Redis error count once that line is logged; fails when none
# comes within 5 s.
stats_errors() {
	_d=$REDIS_SUITE_TMP/$1
	_before=$(grep -c "$FT_ERRORS_FIELD=" "$_d/log")
	kill -USR2 "$(cat "$_d/pid")" 2>/dev/null || return 1
	wait_for 5 sh -c "[ \$(grep -c '$FT_ERRORS_FIELD=' '$_d/log') -gt $_before ]" || return 1
	grep "$FT_ERRORS_FIELD=" "$_d/log" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$FT_ERRORS_FIELD=//p"
}

# fake_case MODE: a daemon (limit 3) counting in a fakeredis.py that gives
# every script call the wrong reply MODE; two clients at once.  Checks,
# named redis/fake-MODE-*:
#   asked     the daemon did send the script call (the fake counted it)
#   fallback  every session answered within FT_BOUND_MS, each client held
#             to 3 (the local table decided)
#   alive     the daemon still runs and answers a session afterwards
#   counted   its statistics line counts the error(s)
fake_case() {
	_m=$1 _n=redis/fake-$1
	_fs=$REDIS_SUITE_TMP/fake-$_m.sock
	python3 "$HERE/fakeredis.py" "$_fs" "$_m" "$REDIS_SUITE_TMP/fake-$_m.count" \
	    > "$REDIS_SUITE_TMP/fake-$_m.err" 2>&1 &
	_fpid=$!
	FT_FAKE_PID=$_fpid
	wait_for 5 test -S "$_fs"
	REDIS_SOCK=$_fs FT_LIMIT=3
	if ! daemon_start "F$_m"; then
		for _c in asked fallback alive counted; do
			fail "$_n-$_c" "daemon did not start: $(tail -n 3 "$REDIS_SUITE_TMP/F$_m/log" | tr '\n' ' ')"
		done
		kill -KILL "$_fpid"; wait "$_fpid" 2>/dev/null
		return
	fi
	drive "$(sock_of "F$_m")" 10.0.5.1:6 10.0.5.2:5 10.0.5.3:4
	_why=''
	_r=$(verdicts_are 10.0.5.1:3 10.0.5.2:3 10.0.5.3:3) || _why="verdicts:$_r"
	[ "$FT_OTHER" = 0 ] && [ "$FT_ANSWERED" = "$FT_SESSIONS" ] ||
	    _why="$_why $FT_ANSWERED of $FT_SESSIONS answered"
	within_bound || _why="$_why longest session $FT_MAX_MS ms, bound $FT_BOUND_MS"
	_asked=$(cat "$REDIS_SUITE_TMP/fake-$_m.count" 2>/dev/null)
	report "$_n-asked" "$([ "${_asked:-0}" -ge 1 ] || echo "the fake got no EVALSHA/EVAL")"
	report "$_n-fallback" "$_why"
	_why=''
	drive "$(sock_of "F$_m")" 10.0.5.9:1
	daemon_alive "F$_m" && [ "$FT_ANSWERED" = 1 ] ||
	    _why="daemon gone or silent: $(cat "$REDIS_SUITE_TMP/F$_m/status" 2>/dev/null) $(tail -n 3 "$REDIS_SUITE_TMP/F$_m/log" | tr '\n' ' ')"
	report "$_n-alive" "$_why"
	_e=$(stats_errors "F$_m")
	report "$_n-counted" "$([ "${_e:-0}" -ge 1 ] 2>/dev/null || echo "no $FT_ERRORS_FIELD >= 1 in the statistics line: $(grep -i redis "$REDIS_SUITE_TMP/F$_m/log" | tail -n 2 | tr '\n' ' ')")"
	daemons_kill
	kill -KILL "$_fpid" 2>/dev/null
	wait "$_fpid" 2>/dev/null
	FT_FAKE_PID=''
	return 0
}
