# Shell helpers shared by the milter and mta suites.  Source it.
#
# pass NAME / fail NAME WHY: report one test.
# wait_for SECONDS CMD...: poll CMD every 0.05 s until it succeeds or the
#   bound passes; never a blind sleep.

pass() { echo "PASS: $1"; }
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
