#!/bin/sh
# The machine suite, last in `make check`: the machine is as it was.
# The Makefile's check target snapshots it (tests/machine/snap.sh) before
# the deps step (BUILD_DIR/machine/before) and after it
# (BUILD_DIR/machine/deps); this suite takes a third snapshot now, after
# every other suite, and checks that
#  - the deps step removed no package and enabled no unit or init script;
#  - /etc/hosts.allow is as before the deps step;
#  - the suites installed or removed no package and changed nothing
#    under /etc (every changed path is named).
# A package's own install may change /etc (that is the deps step's part
# and is not held against it); nothing after it may.
#
#   sh tests/machine/run.sh BUILD_DIR/milter-ratelimit
#
# Without the snapshots (the suite run alone) every check is skipped.
set -u
BIN=${1:?usage: tests/machine/run.sh BUILD_DIR/milter-ratelimit}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
plan 6
export LC_ALL=C

S=$(cd "$(dirname "$BIN")" && pwd)/machine
NAMES="deps-removed-no-package deps-enabled-nothing hosts-allow-unchanged
    suites-changed-no-package suites-enabled-nothing suites-left-etc-alone"
if [ ! -s "$S/before/packages" ] || [ ! -s "$S/deps/etc" ]; then
	for n in $NAMES; do
		skip "machine/$n" "no snapshots in $S (make check takes them around the deps step)"
	done
	exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/milter-ratelimit-machine.XXXXXX") || exit 1
cleanup() { [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
if ! sh "$here/snap.sh" "$work/now" 2> "$work/snap.err"; then
	for n in $NAMES; do fail "machine/$n" "snapshot failed: $(head -c 300 "$work/snap.err")"; done
	exit 1
fi
echo "# snapshots: before deps $(cat "$S/before/when"), after deps $(cat "$S/deps/when"), now $(cat "$work/now/when")" >&2

# names FILE: FILE's lines on one line, at most 20 of them and a count.
names() {
	_n=$(wc -l < "$1")
	echo "$(head -n 20 "$1" | tr '\n' ' ')$([ "$_n" -le 20 ] || echo "... ($_n in all)")"
}
# only_in A B: the lines of A that B lacks.
only_in() { LC_ALL=C comm -23 "$1" "$2"; }

only_in "$S/before/packages" "$S/deps/packages" > "$work/removed"
[ -s "$work/removed" ] && fail "machine/deps-removed-no-package" "the deps step removed: $(names "$work/removed")" ||
	pass "machine/deps-removed-no-package"

only_in "$S/deps/enabled" "$S/before/enabled" > "$work/enabled"
[ -s "$work/enabled" ] && fail "machine/deps-enabled-nothing" "the deps step left enabled: $(names "$work/enabled")" ||
	pass "machine/deps-enabled-nothing"

b=$(cat "$S/before/hosts.allow") d=$(cat "$S/deps/hosts.allow") n=$(cat "$work/now/hosts.allow")
if [ "$b" = "$d" ] && [ "$d" = "$n" ]; then
	pass "machine/hosts-allow-unchanged"
elif [ "$b" = absent ] && [ "$d" = "$n" ]; then
	# libwrap0's install writes its commented template where there was
	# none: a package's own install, and it allows nothing.
	if grep -v '^[[:space:]]*\(#\|$\)' /etc/hosts.allow > "$work/allow"; then
		fail "machine/hosts-allow-unchanged" "/etc/hosts.allow made by the deps step has rules: $(names "$work/allow")"
	else
		pass "machine/hosts-allow-unchanged"
	fi
else
	fail "machine/hosts-allow-unchanged" "sha256 before deps $b, after deps $d, now $n"
fi

only_in "$S/deps/packages" "$work/now/packages" | sed 's/^/removed /' > "$work/pk"
only_in "$work/now/packages" "$S/deps/packages" | sed 's/^/installed /' >> "$work/pk"
[ -s "$work/pk" ] && fail "machine/suites-changed-no-package" "after the deps step: $(names "$work/pk")" ||
	pass "machine/suites-changed-no-package"

only_in "$work/now/enabled" "$S/deps/enabled" > "$work/en"
[ -s "$work/en" ] && fail "machine/suites-enabled-nothing" "the suites enabled: $(names "$work/en")" ||
	pass "machine/suites-enabled-nothing"

# Every path whose lines differ: added, removed or changed.
LC_ALL=C comm -3 "$S/deps/etc" "$work/now/etc" | sed 's/^\t//' | cut -f1 | sort -u > "$work/paths"
cut -f1 "$S/deps/etc" | sort -u > "$work/had"
cut -f1 "$work/now/etc" | sort -u > "$work/has"
only_in "$work/paths" "$work/had" | sed 's/^/added /' > "$work/etc"
only_in "$work/paths" "$work/has" | sed 's/^/removed /' >> "$work/etc"
LC_ALL=C comm -12 "$work/had" "$work/has" | LC_ALL=C comm -12 - "$work/paths" | sed 's/^/changed /' >> "$work/etc"
[ -s "$work/etc" ] && fail "machine/suites-left-etc-alone" "since the deps step: $(names "$work/etc")" ||
	pass "machine/suites-left-etc-alone"

[ "${FAILED:-0}" = 0 ]
