#!/bin/sh
# Run the test suites and print one closing line "N passed, N failed".
#
#   tests/run.sh BUILD_DIR [unit] [build] [milter] [mta]    (default: all)
#
# Every suite prints one line per test: "PASS: name" or "FAIL: name: why"
# (cmocka's "[       OK ]" / "[  FAILED  ]" lines count the same way).
# A suite that cannot start what it needs prints a FAIL; nothing is skipped.
set -u
B=${1:?usage: tests/run.sh BUILD_DIR [suite...]}
shift
suites=${*:-unit build milter mta}
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0

for s in $suites; do
	echo "=== suite: $s"
	case $s in
	unit)
		found=0
		for t in "$B"/tests/test_*; do
			[ -x "$t" ] || continue
			found=1
			"$t" 2>&1 | tee -a "$out" || status=1
		done
		[ $found = 1 ] || { echo "FAIL: unit: no test binaries in $B/tests" | tee -a "$out"; status=1; }
		;;
	build|milter|mta)
		sh "$top/tests/$s/run.sh" "$top/$B/milter-ratelimit" 2>&1 | tee -a "$out"
		;;
	*)
		echo "FAIL: unknown suite $s" | tee -a "$out"
		;;
	esac
done

passed=$(grep -c -E '^(PASS: |\[       OK \])' "$out")
failed=$(grep -c -E '^(FAIL: |\[  FAILED  \] [^ ]+$|\[  ERROR   \])' "$out")
echo
grep -E '^(FAIL: |\[  FAILED  \] [^ ]+$)' "$out" || true
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ] && [ $status = 0 ]
