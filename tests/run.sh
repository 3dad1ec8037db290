#!/bin/sh
# Run the test suites and print one closing line
# "N passed, N failed" (", N skipped" added when something was skipped).
#
#   tests/run.sh BUILD_DIR [SUITE[@BUILD_DIR]]...
#   suites: runner deps unit build milter map reload service sandbox faults
#   mta redis control bench fuzz machine
#   (default: all but fuzz, in BUILD_DIR); any NAME with a tests/NAME/run.sh
#
# Every suite prints "PLAN: SUITE N" first (tests/lib.sh `plan`), then one
# line per check: "PASS: name", "FAIL: name: why" or "SKIP: name: why"
# (the cmocka unit tests print TAP, which is turned into the same).
# A suite fails, with a FAIL line naming it, when it exits non-zero
# without a FAIL of its own, prints no plan, or reports more or fewer
# checks than it planned: a suite that dies half way cannot pass.  Every
# tests/unit/test_*.c must have its binary in BUILD_DIR/tests.
set -u
B=${1:?usage: tests/run.sh BUILD_DIR [suite...]}
shift
suites=${*:-runner unit build milter map reload service sandbox faults mta}
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp)
one=$out.one
trap 'rm -f "$out" "$one" "$out.rc" "$out.f1" "$out.f2" "$out.f1.rc" "$out.f2.rc"' EXIT

# dir_of BUILD_DIR: the build directory, relative ones from the top.
dir_of() { case $1 in /*) echo "$1" ;; *) echo "$top/$1" ;; esac; }

# note_fail LABEL WHY: a failure the runner itself found.
note_fail() { echo "FAIL: $1: $2" | tee -a "$out"; }

# count FILE ERE: lines of FILE matching ERE (0 when none).
count() { grep -c -E "$2" "$1"; }

# verify LABEL FILE RC: hold the output FILE of one suite run to its plan
# and its exit status RC; one FAIL line naming the suite says what broke.
verify() {
	_l=$1 _f=$2 _rc=$3
	_ran=$(count "$_f" '^(PASS|FAIL|SKIP): ')
	_failed=$(count "$_f" '^FAIL: ')
	_plans=$(count "$_f" '^PLAN: ')
	_plan=$(sed -n 's/^PLAN: [^ ]* \([0-9][0-9]*\)$/\1/p' "$_f" | head -n 1)
	_why=
	if [ "$_plans" = 0 ] || [ -z "$_plan" ]; then
		_why="printed no plan (PLAN: SUITE N) before its $_ran checks"
	elif [ "$_plans" != 1 ]; then
		_why="printed $_plans plans, want one"
	elif [ "$_ran" != "$_plan" ]; then
		_why="reported $_ran checks, planned $_plan"
	fi
	if [ "$_rc" != 0 ] && { [ "$_failed" = 0 ] || [ -n "$_why" ]; }; then
		_why="${_why:+$_why; }exited with status $_rc"
	fi
	[ -z "$_why" ] || note_fail "$_l" "$_why"
}

# run_suite LABEL CMD...: run CMD, show and keep its output, verify it.
run_suite() {
	_label=$1; shift
	{ "$@" 2>&1; echo $? > "$out.rc"; } | tee "$one"
	cat "$one" >> "$out"
	verify "$_label" "$one" "$(cat "$out.rc")"
}

# unit_suite LABEL BUILD: every tests/unit/test_*.c has a binary; each
# binary's TAP stream ("1..N", "ok", "not ok") is held to its own plan.
unit_suite() {
	_label=$1 _b=$2
	_found=0
	for _src in "$top"/tests/unit/test_*.c; do
		[ -e "$_src" ] || continue
		_found=1
		_name=$(basename "$_src" .c)
		_t=$(dir_of "$_b")/tests/$_name
		if [ ! -x "$_t" ]; then
			note_fail "$_label/$_name" "no binary $_t for $_src (make units)"
			continue
		fi
		{ CMOCKA_MESSAGE_OUTPUT=TAP "$_t" 2>&1; echo $? > "$out.rc"; } |
		    sed -e "s/^ok [0-9]* - \(.*\) # SKIP\(.*\)$/SKIP: $_name\/\1:\2/" \
		    -e "s/^ok [0-9]* - /PASS: $_name\//" \
		    -e "s/^not ok [0-9]* - /FAIL: $_name\//" \
		    -e "s/^1\.\.\([0-9]*\)$/PLAN: $_name \1/" > "$one"
		cat "$one" | tee -a "$out"
		# A crash (a sanitizer abort, say) ends the TAP stream early.
		verify "$_label/$_name" "$one" "$(cat "$out.rc")"
	done
	[ $_found = 1 ] || note_fail "$_label" "no tests/unit/test_*.c in $top"
}

for spec in $suites; do
	s=${spec%%@*}
	b=$B
	[ "$s" = "$spec" ] || b=${spec#*@}
	echo "=== suite: $s ($b)"
	t0=$(date +%s)
	case $s in
	unit)
		unit_suite "$spec" "$b"
		;;
	bench)
		# Counts only (replies add up, bounds hold), never timing.
		run_suite "$spec" sh "$top/bench/smoke.sh" "$(dir_of "$b")/milter-ratelimit"
		;;
	fuzz)
		# Every target for FUZZ_TIME seconds (30 in make check, to keep CI
		# under its 20 minutes; `make fuzz` runs 60), two at a time;
		# each half is held to its own plan.
		ft=${FUZZ_TIME:-30}
		sh "$top/fuzz/build.sh" "$top/build-fuzz" > /dev/null 2>&1
		{ sh "$top/fuzz/run.sh" "$ft" config map addr control > "$out.f1" 2>&1; echo $? > "$out.f1.rc"; } &
		sh "$top/fuzz/run.sh" "$ft" value exempt decide access names > "$out.f2" 2>&1
		echo $? > "$out.f2.rc"
		wait
		for h in f1 f2; do
			cat "$out.$h" | tee -a "$out"
			verify "$spec ($h)" "$out.$h" "$(cat "$out.$h.rc")"
			rm -f "$out.$h" "$out.$h.rc"
		done
		;;
	*)
		if [ -f "$top/tests/$s/run.sh" ]; then
			run_suite "$spec" sh "$top/tests/$s/run.sh" "$(dir_of "$b")/milter-ratelimit"
		else
			note_fail "$spec" "unknown suite (no tests/$s/run.sh)"
		fi
		;;
	esac
	# Where CI's 20 minutes go: every suite's wall time, in the log.
	echo "# time: $spec $(( $(date +%s) - t0 )) s"
done

passed=$(count "$out" '^PASS: ')
failed=$(count "$out" '^FAIL: ')
skipped=$(count "$out" '^SKIP: ')
echo
grep '^SKIP: ' "$out" || true
grep '^FAIL: ' "$out" || true
if [ "$skipped" = 0 ]; then
	echo "$passed passed, $failed failed"
else
	echo "$passed passed, $failed failed, $skipped skipped"
fi
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
