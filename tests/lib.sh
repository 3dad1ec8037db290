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
