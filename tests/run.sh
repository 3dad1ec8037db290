#!/bin/sh
# Run the test suites and print one closing line "N passed, N failed".
#
#   tests/run.sh BUILD_DIR [SUITE[@BUILD_DIR]]...
#   suites: unit build milter map reload service faults mta bench fuzz
#   (default: all but fuzz, in BUILD_DIR)
#
# Every suite prints one line per test: "PASS: name" or "FAIL: name: why"
# (the cmocka unit tests print TAP, which is turned into the same).
# A suite that cannot start what it needs prints a FAIL; nothing is skipped.
set -u
B=${1:?usage: tests/run.sh BUILD_DIR [suite...]}
shift
suites=${*:-unit build milter map reload service faults mta}
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp)
trap 'rm -f "$out" "$out.rc" "$out.one"' EXIT
status=0

# A suite may name its own build: "reload@build-asan".
for spec in $suites; do
	s=${spec%%@*}
	b=$B
	[ "$s" = "$spec" ] || b=${spec#*@}
	echo "=== suite: $s ($b)"
	case $s in
	unit)
		found=0
		for t in "$b"/tests/test_*; do
			[ -x "$t" ] || continue
			found=1
			# cmocka's TAP output, turned into our PASS/FAIL lines.
			name=$(basename "$t")
			{ CMOCKA_MESSAGE_OUTPUT=TAP "$t" 2>&1; echo $? > "$out.rc"; } |
			    sed -e "s/^ok [0-9]* - /PASS: $name\//" \
			    -e "s/^not ok [0-9]* - /FAIL: $name\//" > "$out.one"
			cat "$out.one" | tee -a "$out"
			# A crash (a sanitizer abort, say) ends the TAP stream early.
			plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$out.one")
			ran=$(grep -c -E '^(PASS|FAIL): ' "$out.one")
			if [ "$(cat "$out.rc")" != 0 ] && ! grep -q '^FAIL: ' "$out.one" ||
			    [ "${plan:-x}" != "$ran" ]; then
				echo "FAIL: $name: exited with status $(cat "$out.rc") after $ran of ${plan:-?} tests" | tee -a "$out"
			fi
		done
		[ $found = 1 ] || { echo "FAIL: unit: no test binaries in $b/tests" | tee -a "$out"; status=1; }
		;;
	build|milter|map|reload|service|faults|mta)
		sh "$top/tests/$s/run.sh" "$top/$b/milter-ratelimit" 2>&1 | tee -a "$out"
		;;
	bench)
		# Counts only (replies add up, bounds hold), never timing.
		sh "$top/bench/smoke.sh" "$top/$b/milter-ratelimit" 2>&1 | tee -a "$out"
		;;
	fuzz)
		# Every target for FUZZ_TIME seconds (60 in CI), two at a time.
		ft=${FUZZ_TIME:-60}
		sh "$top/fuzz/build.sh" "$top/build-fuzz" > /dev/null 2>&1
		sh "$top/fuzz/run.sh" "$ft" config map addr > "$out.f1" 2>&1 &
		sh "$top/fuzz/run.sh" "$ft" value exempt decide access > "$out.f2" 2>&1
		wait
		cat "$out.f1" "$out.f2" | tee -a "$out"
		rm -f "$out.f1" "$out.f2"
		;;
	*)
		echo "FAIL: unknown suite $s" | tee -a "$out"
		;;
	esac
done

passed=$(grep -c '^PASS: ' "$out")
failed=$(grep -c '^FAIL: ' "$out")
echo
grep '^FAIL: ' "$out" || true
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ] && [ $status = 0 ]
