#!/bin/sh
# Build the libFuzzer targets: fuzz/build.sh [BUILD_DIR]   (default build-fuzz)
#
# Every src/*.c but the daemon's and the tool's own (main.c, milter.c,
# daemon.c, maint.c, control.c, ratelimit-map.c, ratelimit-ctl.c) is compiled once with coverage
# instrumentation and ASan+UBSan into BUILD_DIR/obj/, then each
# fuzz/fuzz_NAME.c is linked with libFuzzer into BUILD_DIR/fuzz-NAME.
# Only what changed is rebuilt.  Needs clang with libFuzzer: on Debian 12,
# the packages clang and libclang-rt-14-dev.
#
#   FUZZ_CC      the compiler (default clang)
#   FUZZ_CFLAGS  added to the compile flags
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
B=${1:-build-fuzz}
CC=${FUZZ_CC:-clang}
mkdir -p "$B/obj"

# Two builds at once (two run.sh started together) take turns.
exec 9>"$B/.lock"
flock 9

SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
CFLAGS="-std=gnu11 -g -O1 -fno-omit-frame-pointer $SAN -Iinclude \
 -I/usr/include/libmilter -I/usr/include/hiredis -DVERSION=\"fuzz\" -Wall -Wextra -Wno-unused-parameter \
 ${FUZZ_CFLAGS:-}"
LIBS="-lconfuse -ldb -lhiredis -lpthread -lm"

# Flags changed since the last build: start over.
if [ "$(cat "$B/.flags" 2>/dev/null)" != "$CC $CFLAGS $LIBS" ]; then
	rm -f "$B"/obj/*.o "$B"/fuzz-*
	printf '%s\n' "$CC $CFLAGS $LIBS" > "$B/.flags"
fi

# out is up to date when it is newer than every file named after it.
fresh() {
	out=$1
	shift
	[ -e "$out" ] || return 1
	for f in "$@"; do
		# shellcheck disable=SC3013 # dash and bash both have -nt
		[ "$out" -nt "$f" ] || return 1
	done
}

headers=$(ls include/*.h)
objs=
for src in src/*.c; do
	case ${src#src/} in
	main.c|milter.c|daemon.c|maint.c|control.c|control_answer.c|metrics_http.c|ratelimit-map.c|ratelimit-ctl.c) continue ;;
	esac
	obj=$B/obj/$(basename "$src" .c).o
	objs="$objs $obj"
	# shellcheck disable=SC2086
	fresh "$obj" "$src" $headers && continue
	echo "CC $src"
	# shellcheck disable=SC2086
	$CC $CFLAGS -fsanitize=fuzzer-no-link -c -o "$obj" "$src"
done

# The Redis script, as the Makefile builds it in (redis_conn.h).
obj=$B/obj/redis_script.o
objs="$objs $obj"
if ! fresh "$obj" src/redis_window.lua src/lua2c.awk; then
	awk -f src/lua2c.awk src/redis_window.lua > "$B/obj/redis_script.c"
	$CC $CFLAGS -fsanitize=fuzzer-no-link -c -o "$obj" "$B/obj/redis_script.c"
fi

for t in fuzz/fuzz_*.c; do
	name=$(basename "$t" .c)
	bin=$B/fuzz-${name#fuzz_}
	# shellcheck disable=SC2086
	fresh "$bin" "$t" fuzz/*.h $headers $objs && continue
	echo "LD $bin"
	# shellcheck disable=SC2086
	$CC $CFLAGS -Ifuzz -fsanitize=fuzzer -o "$bin" "$t" $objs $LIBS
done
