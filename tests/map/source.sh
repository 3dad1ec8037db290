#!/bin/sh
# The map suite, part 3: add and delete keep the map's source file (MAP.db
# is built from MAP) in step, so that rebuilding from the source, as the
# README does, never undoes them; a map that differs from its source is
# refused.
#
#   sh tests/map/source.sh PATH/TO/milter-ratelimit
#
# Run by tests/map/run.sh.  Prints "PASS: map/source: NAME" or
# "FAIL: map/source: NAME: why".  Every command runs under timeout.
set -u
BIN=${1:?usage: tests/map/source.sh PATH/TO/milter-ratelimit}
BIN=$(readlink -f "$BIN")
RMAP=$(dirname "$BIN")/ratelimit-map
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/ratelimit-source-tests.XXXXXX") || exit 1
chmod 0755 "$work"
work=$(cd "$work" && pwd -P)
# Nothing a command might create lands in the caller's directory.
cd "$work" || exit 1
cleanup() { [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

oneline() { printf '%s' "$1" | tr '\n\t' '  ' | cut -c1-600; }
rmap() {
	timeout -k 1 10 "$RMAP" "$@" > "$work/.out" 2> "$work/.err"
	rc=$?
	out=$(cat "$work/.out")
	err=$(cat "$work/.err")
}
dump() { timeout -k 1 10 "$RMAP" -u "$1" 2>/dev/null; }
# rebuild SRC: the README's build command, from the source.
rebuild() { timeout -k 1 10 "$RMAP" "$1" < "$1" > /dev/null 2>&1; }

d=$work/s
mkdir "$d"
S=$d/ratelimit-exempt
cat > "$S" <<'EOF'
# our relays: never limited
192.0.2.25/32     OK
2001:db8:5::/48   OK

# a provider's pool
198.51.100.0/24   2000/1h
EOF
chmod 0640 "$S"
rebuild "$S" || fail "map/source: setup" "building from the source failed"

# add (map named with .db), then the README's rebuild from the source:
# the addition must survive.
rmap add "$S.db" 203.0.113.0/24
rebuild "$S"
if [ $rc = 0 ] && dump "$S" | grep -qx "$(printf '203.0.113.0/24\tOK')" &&
    grep -qx "$(printf '203.0.113.0/24\tOK')" "$S"; then
	pass "map/source: add then a rebuild from the source keeps the addition"
else
	fail "map/source: add then a rebuild from the source keeps the addition" "exit $rc: $(oneline "$err"); map: $(oneline "$(dump "$S")"); source: $(oneline "$(cat "$S")")"
fi

# Comments, blank lines, the other lines and the file's mode stay.
why=
for l in '# our relays: never limited' '' '# a provider'"'"'s pool' '2001:db8:5::/48   OK' '198.51.100.0/24   2000/1h'; do
	grep -qxF -- "$l" "$S" || why="$why line '$l' lost;"
done
[ "$(stat -c %a "$S")" = 640 ] || why="$why mode $(stat -c %a "$S") (want 640);"
[ -z "$(ls -A "$d" | grep -v -x -e ratelimit-exempt -e ratelimit-exempt.db)" ] || why="$why files left: $(oneline "$(ls -A "$d")");"
[ -z "$why" ] && pass "map/source: add keeps the source's other lines and mode" ||
	fail "map/source: add keeps the source's other lines and mode" "$why source: $(oneline "$(cat "$S")")"

# add of a key the source spells differently (192.0.2.25/32 vs 192.0.2.25),
# map named without .db: the line is replaced, not doubled.
rmap add "$S" 192.0.2.25 5/1h
rebuild "$S"; brc=$?
n=$(grep -c '^192\.0\.2\.25' "$S")
if [ $rc = 0 ] && [ $brc = 0 ] && [ "$n" = 1 ] && dump "$S" | grep -qx "$(printf '192.0.2.25\t5/1h')"; then
	pass "map/source: add changes the key's line in the source"
else
	fail "map/source: add changes the key's line in the source" "exit $rc, rebuild $brc, $n lines for the key: $(oneline "$err"); source: $(oneline "$(cat "$S")")"
fi

# delete, then the rebuild: the entry stays gone.
rmap delete "$S.db" 198.51.100.0/24
rebuild "$S"
if [ $rc = 0 ] && ! dump "$S" | grep -q '^198\.51\.100\.' && ! grep -q '^198\.51\.100\.' "$S" &&
    grep -qxF "# a provider's pool" "$S"; then
	pass "map/source: delete then a rebuild from the source keeps it deleted"
else
	fail "map/source: delete then a rebuild from the source keeps it deleted" "exit $rc: $(oneline "$err"); map: $(oneline "$(dump "$S")"); source: $(oneline "$(cat "$S")")"
fi

# A source without a final newline gets the new line on a line of its own.
printf '192.0.2.1 OK' > "$d/nonl"
rebuild "$d/nonl"
rmap add "$d/nonl" 192.0.2.2 3/1m
rebuild "$d/nonl"; brc=$?
[ $rc = 0 ] && [ $brc = 0 ] && [ "$(dump "$d/nonl" | wc -l)" = 2 ] &&
	pass "map/source: add to a source without a final newline" ||
	fail "map/source: add to a source without a final newline" "exit $rc, rebuild $brc: $(oneline "$(cat "$d/nonl")")"

# --- refusals: nothing changes ----------------------------------------------

# snapshot / unchanged: the source and the map, byte for byte.
snapshot() { cp -p "$S" "$work/src.orig"; cp -p "$S.db" "$work/map.orig"; }
unchanged() { cmp -s "$S" "$work/src.orig" && cmp -s "$S.db" "$work/map.orig"; }

# The source was edited by hand and not rebuilt: add must not write a map
# that the next rebuild would contradict, nor a source the map lacks.
printf '10.9.0.0/16 OK\n' >> "$S"
snapshot
rmap add "$S.db" 203.0.113.77
if [ $rc = 65 ] && unchanged && printf '%s' "$err" | grep -q 'differ' &&
    printf '%s' "$err" | grep -Fq '10.9.0.0/16 OK' && printf '%s' "$err" | grep -Fq 'only in the source'; then
	pass "map/source: add refuses a map that differs from its source"
else
	fail "map/source: add refuses a map that differs from its source" "exit $rc (want 65, both unchanged, naming 10.9.0.0/16): $(oneline "$err")"
fi
rebuild "$S"

# The map has an entry the source lacks (as an older add left it): delete
# refuses too, naming it.
cp "$S" "$work/src.keep"
printf '10.8.0.0/16 OK\n' >> "$S"; rebuild "$S"; cp "$work/src.keep" "$S"
snapshot
rmap delete "$S" 10.9.0.0/16
if [ $rc = 65 ] && unchanged && printf '%s' "$err" | grep -Fq '10.8.0.0/16 OK" is only in the map'; then
	pass "map/source: delete refuses a map that differs from its source"
else
	fail "map/source: delete refuses a map that differs from its source" "exit $rc (want 65, both unchanged): $(oneline "$err")"
fi
rebuild "$S"

# A source with an error: refused with its FILE:LINE, nothing changed.
cp "$S" "$work/src.keep"
printf 'not-an-address OK\n' >> "$S"
snapshot
rmap add "$S" 203.0.113.78
lines=$(wc -l < "$S")
if [ $rc = 65 ] && unchanged && printf '%s' "$err" | grep -Fq "$S:$lines: "; then
	pass "map/source: a source with errors is refused with FILE:LINE"
else
	fail "map/source: a source with errors is refused with FILE:LINE" "exit $rc (want 65 naming $S:$lines): $(oneline "$err")"
fi
cp "$work/src.keep" "$S"

# delete of a key neither has: 1, nothing changed.
snapshot
rmap delete "$S" 203.0.113.99
[ $rc = 1 ] && unchanged && pass "map/source: delete of a missing key changes nothing" ||
	fail "map/source: delete of a missing key changes nothing" "exit $rc (want 1): $(oneline "$err")"

# --- a symlinked source is edited where it lives --------------------------------

mkdir "$d/real"
printf '192.0.2.1 OK\n' > "$d/real/exempt"
ln -s "$d/real/exempt" "$d/linked"
rebuild "$d/linked"
rmap add "$d/linked" 192.0.2.3
if [ $rc = 0 ] && [ -L "$d/linked" ] && grep -q '^192\.0\.2\.3' "$d/real/exempt" &&
    [ "$(dump "$d/linked" | wc -l)" = 2 ]; then
	pass "map/source: a symlinked source is edited through the link"
else
	fail "map/source: a symlinked source is edited through the link" "exit $rc: $(oneline "$err"); $(ls -l "$d/linked")"
fi

# --- no source file: the map alone, and a note says so ---------------------------

printf '192.0.2.1 OK\n' | timeout 10 "$RMAP" "$d/alone" 2>/dev/null
rmap add "$d/alone" 192.0.2.5
[ $rc = 0 ] && [ ! -e "$d/alone" ] && printf '%s' "$err" | grep -Fq "no source file $d/alone" &&
	[ "$(dump "$d/alone" | wc -l)" = 2 ] &&
	pass "map/source: without a source file only the map changes, with a note" ||
	fail "map/source: without a source file only the map changes, with a note" "exit $rc: $(oneline "$err")"

[ "${FAILED:-0}" = 0 ]
