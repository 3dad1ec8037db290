#!/bin/sh
# Run the fuzz targets: fuzz/run.sh [TIME_SECONDS [TARGET...]]
#
# Builds them (fuzz/build.sh), then runs each TARGET (default: all, one
# after another) for TIME_SECONDS (default 60) on a scratch copy of its
# seed corpus fuzz/corpus/TARGET/, so the committed corpus stays as it is.
# TIME_SECONDS 0 runs each committed input once and stops: the regression
# check.  Prints one line per target, as tests/run.sh counts them:
#
#   PASS: fuzz/TARGET: N execs in T s
#   FAIL: fuzz/TARGET: <what was found> (input: PATH)
#
# and exits non-zero when anything was found.  A finding's input and log
# are kept in BUILD_DIR/findings/TARGET/; reproduce with
#   BUILD_DIR/fuzz-TARGET PATH
#
#   FUZZ_BUILD   the build directory (default build-fuzz)
#   FUZZ_FLAGS   more libFuzzer flags, e.g. -jobs=2 or -seed=1
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
T=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-config map addr value exempt decide access names control}
B=${FUZZ_BUILD:-build-fuzz}

case $T in
''|*[!0-9]*) echo "usage: fuzz/run.sh [TIME_SECONDS [TARGET...]]" >&2; exit 2 ;;
esac
# One check per target, as tests/run.sh holds the run to (see tests/lib.sh).
set -- $targets
echo "PLAN: fuzz $#"
mkdir -p "$B"
if ! sh fuzz/build.sh "$B" > "$B/build.log" 2>&1; then
	cat "$B/build.log" >&2
	echo "FAIL: fuzz/build: fuzz/build.sh failed (is clang with libFuzzer installed? clang, libclang-rt-14-dev)"
	exit 1
fi

status=0
for t in $targets; do
	bin=$B/fuzz-$t
	if [ ! -x "$bin" ] || [ ! -d "fuzz/corpus/$t" ]; then
		echo "FAIL: fuzz/$t: no such target ($bin, fuzz/corpus/$t)"
		status=1
		continue
	fi
	work=$(mktemp -d)
	mkdir "$work/corpus" "$work/artifacts"
	cp fuzz/corpus/"$t"/* "$work/corpus/" 2>/dev/null
	maxlen=4096
	[ "$t" = config ] && maxlen=16384
	dict=
	[ -f "fuzz/dict/$t.dict" ] && dict="-dict=fuzz/dict/$t.dict"
	if [ "$T" = 0 ]; then
		limit="-runs=0"
	else
		limit="-max_total_time=$T"
	fi
	# shellcheck disable=SC2086
	"$bin" $limit -max_len=$maxlen -timeout=25 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$work/artifacts/" $dict \
	    ${FUZZ_FLAGS:-} "$work/corpus" > "$work/log" 2>&1
	rc=$?
	# shellcheck disable=SC2012 # libFuzzer's own names: crash-HEX, leak-HEX...
	art=$(ls "$work/artifacts" | head -n 1)
	if [ $rc = 0 ] && [ -z "$art" ]; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
		secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$work/log" | tail -n 1)
		printf 'PASS: fuzz/%s: %s execs in %s s\n' "$t" "${execs:-?}" "${secs:-?}"
	else
		status=1
		keep=$B/findings/$t
		mkdir -p "$keep"
		input=
		if [ -n "$art" ]; then
			cp "$work/artifacts/$art" "$keep/$art"
			input=$keep/$art
			cp "$work/log" "$keep/$art.log"
		else
			cp "$work/log" "$keep/run-$$.log"
		fi
		# Our own check's message first, then the sanitizer's summary.
		why=$(grep -m 1 '^FUZZ CHECK FAILED: ' "$work/log" | sed 's/^FUZZ CHECK FAILED: //')
		[ -n "$why" ] || why=$(grep -m 1 'runtime error: ' "$work/log" | sed 's/^[^ ]*: runtime error: /runtime error: /')
		[ -n "$why" ] || why=$(grep -m 1 '^SUMMARY: ' "$work/log" | sed 's/^SUMMARY: //')
		[ -n "$why" ] || why=$(grep -m 1 'ERROR: ' "$work/log" | sed 's/^.*ERROR: //')
		[ -n "$why" ] || why="exit status $rc"
		why=$(printf '%s' "$why" | tr -d '\000-\037' | cut -c 1-300)
		printf 'FAIL: fuzz/%s: %s%s\n' "$t" "$why" "${input:+ (input: $input)}"
	fi
	rm -rf "$work"
done
exit $status
