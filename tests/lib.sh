# Shell helpers shared by the suites.  Source it.
#
# plan N: the suite will report exactly N checks; call it once, first,
#   before anything can fail.  tests/run.sh fails a suite that prints no
#   plan, or reports more or fewer checks than it planned.
# pass NAME / fail NAME WHY: report one check.
# skip NAME WHY: a check this build or machine cannot run (a sanitizer
#   build skipping valgrind): it counts toward the plan and is reported.
# wait_for SECONDS CMD...: poll CMD every 0.05 s until it succeeds or the
#   bound passes; never a blind sleep.

plan() { echo "PLAN: ${PLAN_NAME:-$(basename "$(cd "$(dirname "$0")" && pwd)")} $1"; }
pass() { echo "PASS: $1"; }
skip() { echo "SKIP: $1: $2"; }
fail() { echo "FAIL: $1: $2"; FAILED=$((${FAILED:-0} + 1)); }

wait_for() {
	_bound=$1; shift
	_end=$(( $(date +%s%N) / 1000000 + _bound * 1000 ))
	while [ $(( $(date +%s%N) / 1000000 )) -lt $_end ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	"$@" >/dev/null 2>&1
}

# check NAME CMD...: pass if CMD succeeds, fail with its output otherwise.
check() {
	_name=$1; shift
	if _o=$("$@" 2>&1); then pass "$_name"; else fail "$_name" "$(printf '%s' "$_o" | tail -n 3 | tr '\n' ' ')"; fi
}

# --- a clock the test moves ---------------------------------------------------
# The daemon reads CLOCK_MONOTONIC (src/clock.c).  Started under
# `env $(fakeclock_env FILE)`, it runs with libfaketime preloaded, which
# adds the offset written in FILE to every clock it reads, in every thread,
# re-reading FILE at each call (FAKETIME_NO_CACHE): a window of ten minutes
# is aged by writing "+600", with no waiting.  Debian: libfaketime.
#
# fakeclock_lib: the library's path, empty when it is not installed.
# fakeclock_env FILE: the environment, for env(1), of a daemon on FILE's
#   clock; FILE is set to "+0".
# fakeclock_set FILE SECONDS: the daemon's clocks run SECONDS ahead from now on.
fakeclock_lib() {
	for _f in /usr/lib/*/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1; do
		[ -f "$_f" ] && { echo "$_f"; return 0; }
	done
	return 1
}
fakeclock_env() {
	fakeclock_set "$1" 0
	# NO_FAKE_STAT: libfaketime also shifts the times stat(2) returns, so
	# an unchanged map would look changed at every move of the clock.
	# An ASan runtime must otherwise come first among the libraries.
	echo "LD_PRELOAD=$(fakeclock_lib) FAKETIME_TIMESTAMP_FILE=$1 FAKETIME_NO_CACHE=1" \
	    "NO_FAKE_STAT=1 ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
}
fakeclock_set() {
	echo "+$2" > "$1.new" && chmod 0644 "$1.new" && mv -f "$1.new" "$1"
}
