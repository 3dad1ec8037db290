#!/bin/sh
# The runner suite: tests/run.sh itself, on fake suites in a scratch tree.
# A runner that misses a suite dying half way would report every other
# suite's silence as success, so this suite runs first.
#
#   sh tests/runner/run.sh [PATH/TO/milter-ratelimit]   (the binary is unused)
#
# Each case copies tests/run.sh and tests/lib.sh into a fresh tree with
# one fake suite (or fake unit tests), runs the runner on it and checks
# its exit status, the FAIL line naming the suite, and the closing line.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/../lib.sh"
plan 15

work=$(mktemp -d "${TMPDIR:-/tmp}/milter-ratelimit-runner.XXXXXX") || exit 1
cleanup() { [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

oneline() { printf '%s' "$1" | tr '\n\t' '  ' | cut -c1-600; }

# tree NAME: a scratch tree $work/NAME with the real runner and lib.sh,
# an empty build directory b/tests and no unit tests.
tree() {
	_t=$work/$1
	mkdir -p "$_t/tests/unit" "$_t/b/tests"
	cp "$top/tests/run.sh" "$top/tests/lib.sh" "$_t/tests/"
	echo "$_t"
}

# suite TREE NAME: the fake suite TREE/tests/NAME/run.sh, from stdin
# (after the lines every real suite starts with).
suite() {
	mkdir -p "$1/tests/$2"
	{
		echo 'set -u'
		echo '. "$(dirname "$0")/../lib.sh"'
		cat
	} > "$1/tests/$2/run.sh"
}

# runner TREE SUITE...: run the copied runner; output in $out, status $rc.
runner() {
	_t=$1; shift
	out=$(cd "$_t" && timeout -k 1 30 sh tests/run.sh b "$@" 2>&1)
	rc=$?
	last=$(printf '%s\n' "$out" | tail -n 1)
}

# expect NAME WANT-RC FAIL-ERE CLOSING: the last runner call exited
# WANT-RC ("nonzero" for any failure), printed a FAIL line matching
# FAIL-ERE (none wanted when empty), and ended on exactly CLOSING.
expect() {
	_n=$1 _want=$2 _re=$3 _close=$4
	_why=
	case $_want in
	nonzero) [ $rc != 0 ] || _why="$_why exit 0, want non-zero;" ;;
	*) [ $rc = "$_want" ] || _why="$_why exit $rc, want $_want;" ;;
	esac
	if [ -n "$_re" ]; then
		printf '%s\n' "$out" | grep -Eq -- "$_re" || _why="$_why no line matching '$_re';"
	else
		! printf '%s\n' "$out" | grep -q '^FAIL: ' || _why="$_why unexpected FAIL line;"
	fi
	[ "$last" = "$_close" ] || _why="$_why closing line '$last', want '$_close';"
	if [ -z "$_why" ]; then
		pass "runner/$_n"
	else
		fail "runner/$_n" "$_why output: $(oneline "$out")"
	fi
}

# --- shell suites -------------------------------------------------------------

t=$(tree ok)
suite "$t" good <<'EOF'
plan 3
pass good/one
pass good/two
skip good/three "not on this machine"
EOF
runner "$t" good
expect complete-suite-passes 0 '' '2 passed, 0 failed, 1 skipped'

# The issue's case: an unset variable half way through a `set -u` suite.
t=$(tree die)
suite "$t" dies <<'EOF'
plan 4
pass dies/one
echo "$no_such_variable"
pass dies/two
pass dies/three
pass dies/four
EOF
runner "$t" dies
expect suite-dying-half-way-fails nonzero '^FAIL: dies: reported 1 checks, planned 4; exited with status 2' '1 passed, 1 failed'

# A suite that returns before its last checks, with status 0.
t=$(tree short)
suite "$t" short <<'EOF'
plan 3
pass short/one
exit 0
pass short/two
pass short/three
EOF
runner "$t" short
expect suite-skipping-its-end-fails nonzero '^FAIL: short: reported 1 checks, planned 3$' '1 passed, 1 failed'

t=$(tree more)
suite "$t" more <<'EOF'
plan 1
pass more/one
pass more/two
EOF
runner "$t" more
expect suite-running-more-than-planned-fails nonzero '^FAIL: more: reported 2 checks, planned 1' '2 passed, 1 failed'

t=$(tree noplan)
suite "$t" noplan <<'EOF'
pass noplan/one
EOF
runner "$t" noplan
expect suite-without-plan-fails nonzero '^FAIL: noplan: printed no plan' '1 passed, 1 failed'

t=$(tree twoplans)
suite "$t" twice <<'EOF'
plan 1
plan 1
pass twice/one
EOF
runner "$t" twice
expect suite-with-two-plans-fails nonzero '^FAIL: twice: printed 2 plans' '1 passed, 1 failed'

# Every check passed, yet the suite says it failed.
t=$(tree status)
suite "$t" status <<'EOF'
plan 1
pass status/one
exit 3
EOF
runner "$t" status
expect suite-exiting-non-zero-fails nonzero '^FAIL: status: exited with status 3' '1 passed, 1 failed'

# One bad suite among good ones is named, and the good ones still count.
t=$(tree mixed)
suite "$t" alpha <<'EOF'
plan 1
pass alpha/one
EOF
suite "$t" beta <<'EOF'
plan 2
pass beta/one
kill -KILL $$
pass beta/two
EOF
runner "$t" alpha beta
expect bad-suite-among-good-is-named nonzero '^FAIL: beta: reported 1 checks, planned 2; exited with status 137' '2 passed, 1 failed'

runner "$t" alpha no-such-suite
expect unknown-suite-fails nonzero '^FAIL: no-such-suite: unknown suite' '1 passed, 1 failed'

# --- unit tests ------------------------------------------------------------------

# fake_unit TREE NAME SCRIPT: tests/unit/NAME.c and, when SCRIPT is not
# empty, its "binary" b/tests/NAME printing TAP as cmocka does.
fake_unit() {
	: > "$1/tests/unit/$2.c"
	[ -n "$3" ] || return 0
	printf '#!/bin/sh\n%s\n' "$3" > "$1/b/tests/$2"
	chmod +x "$1/b/tests/$2"
}
TAP_OK='echo 1..2; echo "ok 1 - first"; echo "ok 2 - second"'

t=$(tree unitok)
fake_unit "$t" test_a "$TAP_OK"
fake_unit "$t" test_b "$TAP_OK"
runner "$t" unit
expect unit-binaries-pass 0 '' '4 passed, 0 failed'

t=$(tree unitmissing)
fake_unit "$t" test_a "$TAP_OK"
fake_unit "$t" test_b ''
runner "$t" unit
expect unit-missing-binary-fails nonzero '^FAIL: unit/test_b: no binary .*/b/tests/test_b' '2 passed, 1 failed'

# A crash (a sanitizer abort) after the first test: the TAP stream ends early.
t=$(tree unitcrash)
fake_unit "$t" test_a 'echo 1..3; echo "ok 1 - first"; exit 134'
runner "$t" unit
expect unit-crash-half-way-fails nonzero '^FAIL: unit/test_a: reported 1 checks, planned 3; exited with status 134' '1 passed, 1 failed'

# A failed cmocka test exits non-zero: one FAIL, no second one from the runner.
t=$(tree unitfail)
fake_unit "$t" test_a 'echo 1..2; echo "ok 1 - first"; echo "not ok 2 - second"; exit 1'
runner "$t" unit
expect unit-failed-test-counted-once nonzero '^FAIL: test_a/second' '1 passed, 1 failed'

# --- the real suites ---------------------------------------------------------------

# Every suite the runner knows declares its plan (a suite without one fails
# at run time; this names it without running it).  A suite of
# one-behaviour files declares it through file_suite (tests/filesuite.sh),
# whose files must each say their checks.
missing=
for f in "$top"/tests/*/run.sh "$top/bench/smoke.sh" "$top/fuzz/run.sh"; do
	if grep -Eq '^[[:space:]]*file_suite [a-z]' "$f"; then
		for t in "$(dirname "$f")"/t-*.sh; do
			[ -e "$t" ] || { missing="$missing $f(no t-*.sh)"; break; }
			grep -Eq '^# checks: [0-9]+$' "$t" || missing="$missing $t"
		done
		continue
	fi
	grep -Eq '^[[:space:]]*(plan [0-9$]|echo "PLAN: )' "$f" || missing="$missing $f"
done
[ -z "$missing" ] && pass "runner/every-suite-declares-a-plan" ||
	fail "runner/every-suite-declares-a-plan" "no plan line in:$missing"

# The closing line is what CI reads: alone on its line, in that form.
t=$(tree closing)
suite "$t" good <<'EOF'
plan 1
pass good/one
EOF
runner "$t" good
if printf '%s\n' "$last" | grep -Eq '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' &&
    [ $rc = 0 ]; then
	pass "runner/closing-line-format"
else
	fail "runner/closing-line-format" "exit $rc, last line '$last'"
fi

[ "${FAILED:-0}" = 0 ]
