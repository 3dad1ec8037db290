#!/bin/sh
# The map suite, part 2: ratelimit-map import-access, sendmail's
# ClientRate: entries (access source text) turned into map lines.
#
#   sh tests/map/access.sh PATH/TO/milter-ratelimit
#
# Run by tests/map/run.sh.  Prints "PASS: map/import: NAME" or
# "FAIL: map/import: NAME: why".  Every command runs under timeout.
set -u
BIN=${1:?usage: tests/map/access.sh PATH/TO/milter-ratelimit}
BIN=$(readlink -f "$BIN")
RMAP=$(dirname "$BIN")/ratelimit-map
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/ratelimit-import-tests.XXXXXX") || exit 1
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
entries() { printf '%s\n' "$out" | grep -v '^#' | grep .; }
mm() { (cd "$work" && timeout -k 1 10 makemap "$@") 2> "$work/.mmerr"; }

# --- every key form sendmail's ratecontrol accepts ---------------------------

d=$work/forms
mkdir "$d"
# Tabs and spaces between key and value, tags in any case, comments
# (indented too), blank lines, CRLF, and the entries that are not rate
# control at all (GreetPause:, Spam:, untagged).
printf '%s\n' \
    '# sendmail access, every ClientRate: key form' \
    'ClientRate:10.1	5' \
    'ClientRate:127		0' \
    'ClientRate:192.0.2 3' \
    'ClientRate:198.51.100.7    2' \
    'clientrate:203.0.113.9 	7' \
    'CLIENTRATE:IPv6:2001:db8	4' \
    'ClientRate:ipv6:2001:DB8:5 0' \
    'ClientRate:IPv6:::1	0' \
    'ClientRate:IPv6:2001:db8:0:0:0:0:0:1 9' \
    '# a comment' \
    '' \
    'ClientRate:	 	10' \
    'ClientConn:127 0' \
    'ClientConn: 10' \
    'Connect:10 RELAY' \
    'Connect:127 RELAY' \
    'Connect:192.0.2 REJECT' \
    'GreetPause: 5000' \
    'Spam:abuse@ FRIEND' \
    'reject@ REJECT' > "$d/access"
printf 'ClientRate:172.16 8\r\n' >> "$d/access"
want=$(printf '%s\t%s\n' 10.1.0.0/16 5/10m 127.0.0.0/8 OK 192.0.2.0/24 3/10m \
    198.51.100.7 2/10m 203.0.113.9 7/10m 2001:db8::/32 4/10m 2001:db8:5::/48 OK \
    ::1 OK 2001:db8::1 9/10m 172.16.0.0/16 8/10m)
rmap import-access -w 10m "$d/access"
got=$(entries)
[ $rc = 0 ] && [ "$got" = "$want" ] && pass "map/import: every ClientRate key form" ||
	fail "map/import: every ClientRate key form" "exit $rc; got '$(oneline "$got")' want '$(oneline "$want")'; $(oneline "$err")"

# The default goes to the config (as a comment and a note), never the map.
printf '%s\n' "$out" | grep -qx '#   limit  = 10' && printf '%s\n' "$out" | grep -qx '#   window = 600' &&
    printf '%s\n' "$err" | grep -Fq "$d/access:13: note: the default ClientRate: 10 goes in milter-ratelimit.conf: limit = 10, window = 600" &&
	pass "map/import: default ClientRate is the config's limit and window" ||
	fail "map/import: default ClientRate is the config's limit and window" "$(oneline "$out") / $(oneline "$err")"

# ClientConn: reported as not imported; Connect: RELAY listed as a comment,
# never as an entry; Connect: REJECT and the rest ignored.
why=
printf '%s\n' "$err" | grep -Fq "$d/access:14: note: ClientConn:127 0 not imported" || why="$why no note for line 14;"
printf '%s\n' "$err" | grep -Fq "$d/access:15: note: ClientConn: 10 not imported" || why="$why no note for line 15;"
printf '%s\n' "$out" | grep -qx "$(printf '# 10.0.0.0/8\tOK')" || why="$why Connect:10 RELAY not suggested as a comment;"
printf '%s\n' "$err" | grep -Fq "$d/access:16: note: Connect:10 RELAY listed as a comment" || why="$why no note for Connect:10;"
printf '%s\n' "$out" | grep -q '192\.0\.2\.0/24.*REJECT\|GreetPause\|FRIEND' && why="$why unrelated entries in the output;"
[ -z "$why" ] && pass "map/import: ClientConn and Connect reported, not imported" ||
	fail "map/import: ClientConn and Connect reported, not imported" "$why $(oneline "$err")"

# Round trip: sendmail's own makemap takes the access text; our map takes
# the import (both ratelimit-map and makemap builds), and -u dumps it back.
if mm hash "$d/access.map" < "$d/access"; then
	pass "map/import: makemap accepts the access text"
else
	fail "map/import: makemap accepts the access text" "$(oneline "$(cat "$work/.mmerr")")"
fi
printf '%s\n' "$out" > "$d/imported"
rmap "$d/ours" < "$d/imported"
sorted_want=$(printf '%s\n' "$want" | timeout 10 "$RMAP" "$d/ref" && timeout 10 "$RMAP" -u "$d/ref")
got=$(timeout 10 "$RMAP" -u "$d/ours")
mmok=0
mm hash "$d/theirs" < "$d/imported" && mmok=1
got2=$(timeout 10 "$RMAP" -u "$d/theirs" 2>&1)
printf '%s\n' "socket = \"unix:$d/m.sock\"" "exempt_map = \"$d/theirs.db\"" 'user = "root"' > "$d/c.conf"
cout=$(timeout -k 1 10 "$BIN" -n -f "$d/c.conf" 2>&1); crc=$?
if [ $rc = 0 ] && [ -n "$got" ] && [ "$got" = "$sorted_want" ] && [ $mmok = 1 ] &&
    [ "$got2" = "$sorted_want" ] && [ $crc = 0 ] && ! printf '%s' "$cout" | grep -q skipping; then
	pass "map/import: round trip through ratelimit-map, makemap and the daemon"
else
	fail "map/import: round trip through ratelimit-map, makemap and the daemon" "build exit $rc, makemap $mmok, -n exit $crc: ours '$(oneline "$got")' makemap '$(oneline "$got2")' want '$(oneline "$sorted_want")'; $(oneline "$err $cout")"
fi

# --- the window: -w, -C sendmail.cf, sendmail's default ----------------------

printf '%s\n' 'ClientRate:10.1 5' > "$d/one"
printf '%s\n' '# sendmail.cf' 'O ConnectionRateThrottle=15' 'O ConnectionRateWindowSize=10m' 'O Timeout.ident=5s' > "$d/sendmail.cf"
printf '%s\n' '# no window here' 'O ConnectionRateThrottle=15' > "$d/nowin.cf"
printf '%s\n' '#' 'O ConnectionRateWindowSize=2d' > "$d/badwin.cf"
why=
rmap import-access -C "$d/sendmail.cf" "$d/one"
[ $rc = 0 ] && [ "$(entries)" = "$(printf '10.1.0.0/16\t5/10m')" ] || why="$why -C: exit $rc '$(oneline "$out")';"
rmap import-access -C "$d/nowin.cf" "$d/one"
[ $rc = 0 ] && [ "$(entries)" = "$(printf '10.1.0.0/16\t5/1m')" ] || why="$why -C without the option (60 s): exit $rc '$(oneline "$out")';"
rmap import-access "$d/one"
[ $rc = 0 ] && [ "$(entries)" = "$(printf '10.1.0.0/16\t5/1m')" ] || why="$why no option (60 s): exit $rc '$(oneline "$out")';"
rmap import-access -w 1h30m "$d/one"
[ $rc = 0 ] && [ "$(entries)" = "$(printf '10.1.0.0/16\t5/90m')" ] || why="$why -w 1h30m: exit $rc '$(oneline "$out")';"
rmap import-access -C "$d/badwin.cf" "$d/one"
[ $rc = 65 ] && printf '%s' "$err" | grep -Fq "$d/badwin.cf:2: " && [ -z "$out" ] || why="$why -C bad value: exit $rc (want 65 naming line 2): $(oneline "$err");"
rmap import-access -C "$d/absent.cf" "$d/one"
[ $rc = 66 ] || why="$why -C missing file: exit $rc (want 66);"
rmap import-access "$d/absent"
[ $rc = 66 ] || why="$why missing access file: exit $rc (want 66);"
for args in "-w 0 $d/one" "-w 2d $d/one" "-w 10x $d/one" "-w 10m -C $d/sendmail.cf $d/one" "" \
    "-u $d/one" "$d/one extra"; do
	# shellcheck disable=SC2086
	rmap import-access $args
	[ $rc = 64 ] || why="$why 'import-access $args': exit $rc (want 64);"
done
rmap -w 10m "$d/m" < "$d/one"
[ $rc = 64 ] || why="$why -w outside import-access: exit $rc (want 64);"
[ -z "$why" ] && pass "map/import: window from -w, -C sendmail.cf or 60 s; usage errors" ||
	fail "map/import: window from -w, -C sendmail.cf or 60 s; usage errors" "$why"

# -m SOURCE: keys the map source already has are left as comments, so the
# import can be appended to it and the source still builds (no -r).
printf '%s\n' '# sample' '127.0.0.1 OK' '::1 OK' > "$d/src"
printf '%s\n' 'ClientRate:127 0' 'ClientRate:IPv6:::1 0' 'ClientRate:198.51.100.7 4' > "$d/acc"
rmap import-access -w 10m -m "$d/src" "$d/acc"
printf '%s\n' "$out" >> "$d/src"
brc=0
timeout 10 "$RMAP" "$d/src" < "$d/src" > /dev/null 2> "$work/.berr" || brc=$?
got=$(timeout 10 "$RMAP" -u "$d/src" 2>&1)
want=$(printf '%s\t%s\n' 127.0.0.0/8 OK 127.0.0.1 OK 198.51.100.7 4/10m ::1 OK)
if [ $rc = 0 ] && [ $brc = 0 ] && [ "$got" = "$want" ] &&
    printf '%s' "$err" | grep -Fq "note: ::1 is already in $d/src (as OK)"; then
	pass "map/import: -m leaves keys the map source has as comments"
else
	fail "map/import: -m leaves keys the map source has as comments" "exit $rc, build $brc ($(oneline "$(cat "$work/.berr")")): got '$(oneline "$got")' want '$(oneline "$want")'; $(oneline "$err")"
fi
printf '%s\n' 'bogus OK' > "$d/badsrc"
rmap import-access -w 10m -m "$d/badsrc" "$d/acc"
[ $rc = 65 ] && [ -z "$out" ] && printf '%s' "$err" | grep -Fq "$d/badsrc:1: " &&
	pass "map/import: -m with a broken map source is refused" ||
	fail "map/import: -m with a broken map source is refused" "exit $rc: $(oneline "$err")"
rmap -m "$d/src" "$d/x" < "$d/src"
[ $rc = 64 ] && pass "map/import: -m only with import-access" || fail "map/import: -m only with import-access" "exit $rc"

# Standard input as "-": errors name "stdin".
printf '%s\n' '#' 'ClientRate:10.300 5' | timeout 10 "$RMAP" import-access - > "$work/.out" 2> "$work/.err"
rc=$?
[ $rc = 65 ] && grep -q '^stdin:2: ' "$work/.err" && pass "map/import: from standard input" ||
	fail "map/import: from standard input" "exit $rc: $(oneline "$(cat "$work/.err")")"

# --- errors: FILE:LINE, exit 65, nothing on stdout ---------------------------

# bad_case NAME BADLINE ERE: line 3 of a file is BADLINE.
n=0
bad_case() {
	n=$((n + 1))
	_f=$d/bad$n
	printf '%s\n' '# a comment' 'ClientRate:10.1 5' "$2" 'ClientRate: 10' > "$_f"
	rmap import-access -w 60 "$_f"
	_l=$(printf '%s\n' "$err" | grep -F -- "$_f:3: " | head -n 1)
	_c=$(printf '%s\n' "$err" | grep -c -E "^$_f:[0-9]+: " | tr -d ' ')
	_cn=$(printf '%s\n' "$err" | grep -c -E "^$_f:[0-9]+: note:" | tr -d ' ')
	if [ $rc = 65 ] && [ -n "$_l" ] && [ -z "$out" ] && [ "$_c" = 1 ] && [ "$_cn" = 0 ] &&
	    printf '%s' "$_l" | grep -Eq -- "$3"; then
		pass "map/import: error: $1"
	else
		fail "map/import: error: $1" "exit $rc (want 65, one '$_f:3:' line matching /$3/, no output): $(oneline "$err") / $(oneline "$out")"
	fi
}
bad_case 'octet over 255' 'ClientRate:10.300 5' '10\.300.*"300"'
bad_case 'five octets' 'ClientRate:10.1.2.3.4 5' '1 to 4 octets'
bad_case 'empty octet' 'ClientRate:10..1 5' '1 to 4 octets'
bad_case 'octet with a leading zero' 'ClientRate:010 5' 'leading zero'
bad_case 'value not a number' 'ClientRate:192.0.2 x' '"x" is not a whole number'
bad_case 'negative value' 'ClientRate:192.0.2 -5' 'not a whole number'
bad_case 'value with a comment' 'ClientRate:192.0.2 5 # ours' 'not a whole number'
bad_case 'missing value' 'ClientRate:192.0.2' 'missing value'
bad_case 'value over 9000' 'ClientRate:192.0.2 9001' '9001.*9000'
bad_case 'CIDR length' 'ClientRate:10.0.0.0/8 5' 'no /LEN'
bad_case 'IPv6 without the tag' 'ClientRate:2001:db8::1 5' 'IPv6:'
bad_case 'IPv6 bad group' 'ClientRate:IPv6:2001:zz 5' 'zz'
bad_case 'IPv6 leading zero' 'ClientRate:IPv6:2001:0db8 5' 'leading zero'
bad_case 'IPv6 nine groups' 'ClientRate:IPv6:1:2:3:4:5:6:7:8:9 5' '1 to 8 groups'
bad_case 'IPv6 empty' 'ClientRate:IPv6: 5' 'groups'
bad_case 'IPv6 bad compressed' 'ClientRate:IPv6:1::2::3 5' 'not an IPv6 address'
bad_case 'IPv4-mapped IPv6' 'ClientRate:IPv6:0:0:0:0:0:ffff:c000:201 5' 'IPv4-mapped'
bad_case 'duplicate key' 'ClientRate:10.1 6' 'duplicate key ClientRate:10\.1, first on line 2'
bad_case 'duplicate key, other case' 'clientrate:10.1 6' 'duplicate.*first on line 2'
printf '%s\n' '#' 'ClientRate:	3' 'ClientRate:10.1 5' 'clientrate: 10' > "$d/dupdef"
rmap import-access -w 60 "$d/dupdef"
[ $rc = 65 ] && [ -z "$out" ] && printf '%s' "$err" | grep -Fq "$d/dupdef:4: duplicate key clientrate:, first on line 2" &&
	pass "map/import: error: duplicate default" ||
	fail "map/import: error: duplicate default" "exit $rc: $(oneline "$err")"
bad_case 'over-long line' "ClientRate:10.2 $(head -c 5000 /dev/zero | tr '\0' '1')" 'longer than'

# Several errors, each with its own line, in line order.
printf '%s\n' 'ClientRate:10.300 5' 'ClientRate:10.1 5' 'ClientRate:10.1 x' 'Connect:10 RELAY' 'ClientRate:IPv6:g 1' > "$d/many"
rmap import-access -w 60 "$d/many"
got=$(printf '%s\n' "$err" | sed -n "s|^$d/many:\([0-9]*\): .*|\1|p" | tr '\n' ' ')
[ $rc = 65 ] && [ "$got" = "1 3 5 " ] && [ -z "$out" ] && pass "map/import: several errors, each with its line" ||
	fail "map/import: several errors, each with its line" "exit $rc, lines '$got' (want '1 3 5 '): $(oneline "$err")"

# A host name in ClientRate: is valid access syntax but no address: noted,
# not imported, not an error.
printf '%s\n' 'ClientRate:localhost 0' 'ClientRate:10.1 5' > "$d/name"
rmap import-access -w 60 "$d/name"
[ $rc = 0 ] && [ "$(entries)" = "$(printf '10.1.0.0/16\t5/1m')" ] &&
    printf '%s' "$err" | grep -Fq "$d/name:1: note: ClientRate:localhost not imported" &&
	pass "map/import: host name noted, not imported" ||
	fail "map/import: host name noted, not imported" "exit $rc: $(oneline "$out") / $(oneline "$err")"

[ "${FAILED:-0}" = 0 ]
