#!/bin/sh
# The map suite: ratelimit-map(8) on its own (no daemon), plus
# milter-ratelimit -n on maps, and interoperation with sendmail's makemap.
#
#   sh tests/map/run.sh PATH/TO/milter-ratelimit
#
# ratelimit-map is taken from the same directory as the daemon, so that a
# sanitizer build (build-asan/) tests its own pair of binaries.
# Prints one line per test, "PASS: map/NAME" or "FAIL: map/NAME: why".
# Every command runs under timeout; nothing sleeps.
set -u
BIN=${1:?usage: tests/map/run.sh PATH/TO/milter-ratelimit}
RMAP=$(dirname "$BIN")/ratelimit-map
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
plan 152

# A private 0755 directory (makemap refuses group/world-writable ones), by
# its physical path: error messages name the file stdin was redirected
# from as the kernel resolves it.
work=$(mktemp -d "${TMPDIR:-/tmp}/ratelimit-map-tests.XXXXXX") || exit 1
chmod 0755 "$work"
work=$(cd "$work" && pwd -P)
cleanup() { [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

oneline() { printf '%s' "$1" | tr '\n\t' '  ' | cut -c1-600; }

# sendmail's makemap from an unpacked sendmail-bin (tests/pkgbin.sh), never
# an installed one; access.sh and agree.sh inherit PATH.
top=$(cd "$here/../.." && pwd)
export PKG_CACHE=${PKG_CACHE:-$top/tests/.cache}
. "$top/tests/pkgroot.sh"
. "$top/tests/smroot.sh"
. "$top/tests/pkgbin.sh"
pkgbin_makemap "$work/pkg" "$work/pkg.log" ||
	{ fail "map/setup" "unpacking sendmail-bin: $(oneline "$(tail -n 5 "$work/pkg.log")")"; exit 1; }
export PATH="$work/pkg/bin:$PATH"
for tool in makemap db5.3_dump timeout cmp stat strace; do
	command -v $tool >/dev/null 2>&1 || {
		fail "map/setup" "$tool not found (make deps-test)"
		exit 1
	}
done
for b in "$BIN" "$RMAP"; do
	[ -x "$b" ] || { fail "map/setup" "no executable $b"; exit 1; }
done

# rmap ARGS...: run ratelimit-map (bounded) with the caller's stdin;
# stdout in $out, stderr in $err, status in $rc.
rmap() {
	timeout -k 1 10 "$RMAP" "$@" > "$work/.out" 2> "$work/.err"
	rc=$?
	out=$(cat "$work/.out")
	err=$(cat "$work/.err")
}

# rmap_pipe FILE ARGS...: the same with FILE piped in (stdin is a pipe).
rmap_pipe() {
	_f=$1; shift
	cat "$_f" | timeout -k 1 10 "$RMAP" "$@" > "$work/.out" 2> "$work/.err"
	rc=$?
	out=$(cat "$work/.out")
	err=$(cat "$work/.err")
}

# dump MAP: the map's -u output on stdout (sorted as the tool sorts it).
dump() { timeout -k 1 10 "$RMAP" -u "$1" 2>/dev/null; }

# listing DIR: the names in DIR, one a line (temp files would show here).
listing() { ls -A "$1"; }

# --- text parsing errors ------------------------------------------------------

d=$work/errors
mkdir "$d"
printf '%s\n' '192.0.2.200 OK' '2001:db8:ff::/48 5/1h' > "$d/good.txt"
rmap "$d/m" < "$d/good.txt"
[ $rc = 0 ] || fail "map/setup" "building the reference map: exit $rc: $(oneline "$err")"
cp -p "$d/m.db" "$d/m.db.orig"
before=$(listing "$d")

# bad_case NAME BADLINE [ERE...]: a file whose line 3 is BADLINE (a
# comment, a good line before; a good line after) must fail with 65 and an
# error line "FILE:3: ..." matching every ERE, both when redirected from
# the file (FILE = its absolute path) and when piped (FILE = stdin); the
# existing map stays byte-identical and no file is left behind.
n=0
bad_case() {
	_name=$1 _line=$2; shift 2
	n=$((n + 1))
	_f=$d/bad$n.txt
	printf '%s\n' '# line 1 is a comment' '192.0.2.1 OK' "$_line" '192.0.2.3 OK' > "$_f"
	_why=
	for _how in file pipe; do
		if [ $_how = file ]; then
			rmap "$d/m" < "$_f"
			_pre="$_f:3: "
		else
			rmap_pipe "$_f" "$d/m"
			_pre="stdin:3: "
		fi
		_l=$(printf '%s\n' "$err" | grep -F -- "$_pre" | head -n 1)
		if [ $rc != 65 ]; then
			_why="$_why [$_how] exit $rc, want 65;"
		fi
		if [ -z "$_l" ]; then
			_why="$_why [$_how] no line starting '$_pre' in: $(oneline "$err");"
		else
			case $_l in
			"$_pre"*) ;;
			*) _why="$_why [$_how] '$_pre' not at the start of: $_l;" ;;
			esac
			for _re in "$@"; do
				printf '%s' "$_l" | grep -Eq -- "$_re" ||
					_why="$_why [$_how] message lacks /$_re/: $_l;"
			done
			_c=$(printf '%s\n' "$err" | grep -c -E '^(stdin|/[^:]*):[0-9]+: ')
			[ "$_c" = 1 ] || _why="$_why [$_how] want exactly 1 FILE:LINE error, got $_c: $(oneline "$err");"
		fi
		cmp -s "$d/m.db" "$d/m.db.orig" || _why="$_why [$_how] the map changed;"
		[ "$(listing "$d" | grep -v "^bad$n\.txt\$")" = "$before" ] ||
			_why="$_why [$_how] files left behind: $(oneline "$(listing "$d")");"
	done
	if [ -z "$_why" ]; then pass "map/error: $_name"; else fail "map/error: $_name" "$_why"; fi
	rm -f "$_f"
}

bad_case 'bad address' '1.2.3.400 OK' '"?1\.2\.3\.400"?' 'address'
bad_case 'neither an address nor a name' 'mx_example.com OK' 'mx_example\.com' "'_' is not allowed"
# Name keys: letters, digits, hyphens and dots, as host names are.
bad_case 'name: leading dot' '.partner.example OK' 'leading dot' 'covers the name and every name under it'
bad_case 'name: one label' 'partner OK' 'single label'
bad_case 'name: not ASCII (IDN)' "$(printf 'b\303\274cher.example OK')" 'xn--'
bad_case 'name: label of 64' "$(printf '%64s' '' | tr ' ' a).example OK" 'longer than 63'
bad_case 'name: over 253' "$(printf '%63s.%63s.%63s.%62s' '' '' '' '' | tr ' ' a) OK" 'longer than 253'
bad_case 'name: hyphen at a label end' 'mx-.partner.example OK' 'hyphen'
bad_case 'name: empty label' 'mx..partner.example OK' 'empty label'
bad_case 'name: last label all digits' 'mx.partner.123 OK' 'neither an address nor a name'
bad_case 'name: no value' 'MX.Example.' 'MX\.Example\.: missing value'
bad_case 'ipv4 prefix > 32' '10.0.0.0/33 OK' '33'
bad_case 'ipv6 prefix > 128' '2001:db8::/129 OK' '129'
bad_case 'ipv4 host bits' '10.0.0.1/8 OK' '0\.0\.0\.1 lies outside the prefix' \
    'the network is 10\.0\.0\.0/8'
bad_case 'ipv4 host bits /24' '192.0.2.77/24 OK' '0\.0\.0\.77 lies outside the prefix' \
    'the network is 192\.0\.2\.0/24'
bad_case 'ipv6 host bits' '2001:db8::1/64 OK' '(::1|0:0:0:0:0:0:0:1) lies outside the prefix' \
    'the network is 2001:db8::/64'
bad_case 'missing value' '192.0.2.9' 'missing value'
bad_case 'missing value, trailing blanks' '192.0.2.9   ' 'missing value'
bad_case 'two-word value' '192.0.2.9 OK # our relay' 'one word'
bad_case 'bad value' '192.0.2.9 YES' 'YES'
bad_case 'limit 0' '192.0.2.9 0/60' '0/60'
# The limit's range is 1..9000 (ratelimit-map(8)).
bad_case 'limit 9001' '192.0.2.9 9001/60' '9001'
bad_case 'limit 10000' '192.0.2.9 10000/60' '10000'
bad_case 'limit not a number' '192.0.2.9 x/60' 'x/60'
bad_case 'duration 0' '192.0.2.9 5/0' '5/0'
bad_case 'duration 86401' '192.0.2.9 5/86401' '5/86401'
bad_case 'duration 2d' '192.0.2.9 5/2d' '5/2d'
bad_case 'duration 25h' '192.0.2.9 5/25h' '5/25h'
bad_case 'duration bad unit' '192.0.2.9 5/5w' '5/5w'
bad_case 'duration missing' '192.0.2.9 5/' '5/'
bad_case 'duplicate key' '192.0.2.1 5/60' 'duplicate' '192\.0\.2\.1'
bad_case 'duplicate key, /32 spelling' '192.0.2.1/32 OK' 'duplicate' '192\.0\.2\.1'
# The over-long line is followed by a good one, so the numbering after it
# is checked too (exactly one error, on line 3).
bad_case 'over-long line' "192.0.2.9 OK $(head -c 5000 /dev/zero | tr '\0' 'x')" 'long'

# An IPv6 key written two ways is one key.
printf '%s\n' '# v6' '2001:db8::1 OK' '2001:DB8:0:0::1/128 5/60' > "$d/dup6.txt"
rmap "$d/m" < "$d/dup6.txt"
if [ $rc = 65 ] && printf '%s' "$err" | grep -Fq "$d/dup6.txt:3: " &&
    cmp -s "$d/m.db" "$d/m.db.orig"; then
	pass "map/error: duplicate ipv6 key, other spelling"
else
	fail "map/error: duplicate ipv6 key, other spelling" "exit $rc (want 65 naming line 3, map unchanged): $(oneline "$err")"
fi

# Several errors in one file: each reported with its own line; a good line
# between them, and a long line that must not shift the numbering.
{
	echo '# several errors'            # 1
	echo '192.0.2.1 OK'                # 2
	echo '10.0.0.1/8 OK'               # 3  host bits
	echo ''                            # 4
	echo "192.0.2.2 OK $(head -c 5000 /dev/zero | tr '\0' 'y')"   # 5 too long
	echo '192.0.2.3 0/60'              # 6  limit 0
	echo '192.0.2.4 OK'                # 7
	echo '192.0.2.1 5/60'              # 8  duplicate
	echo '2001:db8::/129 OK'           # 9  prefix
	printf '192.0.2.5 5/2d'            # 10 bad duration, no final newline
} > "$d/many.txt"
rmap "$d/m" < "$d/many.txt"
got=$(printf '%s\n' "$err" | sed -n "s|^$d/many\.txt:\([0-9]*\): .*|\1|p" | tr '\n' ' ')
if [ $rc = 65 ] && [ "$got" = "3 5 6 8 9 10 " ] && cmp -s "$d/m.db" "$d/m.db.orig"; then
	pass "map/error: several errors, each with its line"
else
	fail "map/error: several errors, each with its line" "exit $rc, error lines '$got' (want '3 5 6 8 9 10 '): $(oneline "$err")"
fi

# A NUL byte is reported as such on its own line; the line after it is
# still read (its error reported) and the numbering stays right.
{
	echo '# a NUL on line 3'           # 1
	echo '192.0.2.1 OK'                # 2
	printf '192.0.2.2\000 OK\n'         # 3  NUL
	echo '10.0.0.1/8 OK'               # 4  host bits
	echo '192.0.2.4 OK'                # 5
	printf '\000\n'                     # 6  NUL alone
	echo '192.0.2.7 0/60'              # 7  limit 0
} > "$d/nul.txt"
rmap "$d/m" < "$d/nul.txt"
got=$(printf '%s\n' "$err" | sed -n "s|^$d/nul\.txt:\([0-9]*\): .*|\1|p" | tr '\n' ' ')
nuls=$(printf '%s\n' "$err" | grep -c ": NUL byte\$")
long=$(printf '%s\n' "$err" | grep -c 'longer than')
if [ $rc = 65 ] && [ "$got" = "3 4 6 7 " ] && [ "$nuls" = 2 ] && [ "$long" = 0 ] &&
    printf '%s\n' "$err" | grep -Fqx "$d/nul.txt:3: NUL byte" &&
    cmp -s "$d/m.db" "$d/m.db.orig"; then
	pass "map/error: NUL byte, each line numbered"
else
	fail "map/error: NUL byte, each line numbered" "exit $rc, error lines '$got' (want '3 4 6 7 ', lines 3 and 6 'NUL byte'): $(oneline "$err")"
fi

# -r: a later duplicate replaces the earlier (in either spelling).
printf '%s\n' '192.0.2.1 OK' '198.51.100.0/24 OK' '192.0.2.1/32 5/60' '198.51.100.0/24 7/1h' > "$d/r.txt"
rmap -r "$d/r" < "$d/r.txt"
want=$(printf '192.0.2.1\t5/1m\n198.51.100.0/24\t7/1h')
got=$(dump "$d/r")
[ $rc = 0 ] && [ "$got" = "$want" ] && pass "map/replace-with-r" ||
	fail "map/replace-with-r" "exit $rc, dump '$(oneline "$got")', want '$(oneline "$want")': $(oneline "$err")"

# --- values, canonical dump, sorting, round trip ---------------------------------

d=$work/values
mkdir "$d"
# Every accepted spelling, keys in no particular order.
cat > "$d/in.txt" <<'EOF'
# accepted values and durations
2001:db8::/32           OK
2001:db8::1             20/10m
10.0.0.0/16             100/60
10.0.0.0/8              ok
10.0.0.5                500/1h
	192.0.2.1	1/1s
9.9.9.9                 9000/1d
8.8.8.8                 5/86400
2001:db8:0:1::/64       7/90
::/0                    Ok

0.0.0.0/0               3/60
192.0.2.0/24            OK
203.0.113.0/25          2/7200
203.0.113.128/25        40/1440m
EOF
want=$(printf '%s\t%s\n' \
    0.0.0.0/0 3/1m 8.8.8.8 5/1d 9.9.9.9 9000/1d 10.0.0.0/8 OK 10.0.0.0/16 100/1m \
    10.0.0.5 500/1h 192.0.2.0/24 OK 192.0.2.1 1/1 203.0.113.0/25 2/2h \
    203.0.113.128/25 40/1d ::/0 OK 2001:db8::/32 OK 2001:db8::1 20/10m \
    2001:db8:0:1::/64 7/90)
rmap "$d/v" < "$d/in.txt"
got=$(dump "$d/v")
if [ $rc = 0 ] && [ -z "$err" ]; then
	pass "map/accepts-values"
else
	fail "map/accepts-values" "exit $rc, want 0 and no message: $(oneline "$err")"
fi
[ "$got" = "$want" ] && pass "map/dump-canonical-sorted" ||
	fail "map/dump-canonical-sorted" "got '$(oneline "$got")' want '$(oneline "$want")'"

dump "$d/v" > "$d/dump1.txt"
rmap "$d/v2" < "$d/dump1.txt"
dump "$d/v2" > "$d/dump2.txt"
if [ $rc = 0 ] && [ -s "$d/dump1.txt" ] && cmp -s "$d/dump1.txt" "$d/dump2.txt"; then
	pass "map/dump-round-trip"
else
	fail "map/dump-round-trip" "exit $rc; $(oneline "$(diff "$d/dump1.txt" "$d/dump2.txt")") $(oneline "$err")"
fi

rmap -u "$d/absent"
[ $rc = 66 ] && pass "map/dump-missing-map" || fail "map/dump-missing-map" "exit $rc, want 66: $(oneline "$err")"

# --- atomic replace: inode, mode, owner, failures -----------------------------------

d=$work/atomic
mkdir "$d"
ino() { stat -c %i "$1"; }
printf '%s\n' '192.0.2.1 OK' > "$d/a.txt"
printf '%s\n' '192.0.2.1 OK' '192.0.2.2 5/60' > "$d/b.txt"
rmap "$d/m" < "$d/a.txt"
i0=$(ino "$d/m.db")
chmod 0640 "$d/m.db"
chown nobody:nogroup "$d/m.db"
prev=$i0 why=
for step in "build" "build-same" "add" "add-replace" "delete"; do
	case $step in
	build) rmap "$d/m" < "$d/b.txt" ;;
	build-same) rmap "$d/m" < "$d/b.txt" ;;
	add) rmap add "$d/m" 198.51.100.0/24 ;;
	add-replace) rmap add "$d/m" 198.51.100.0/24 9/1h ;;
	delete) rmap delete "$d/m" 192.0.2.2 ;;
	esac
	i=$(ino "$d/m.db")
	[ $rc = 0 ] || why="$why $step: exit $rc: $(oneline "$err");"
	# The filesystem may hand a freed inode number out again, so compare
	# with the map just replaced, which is still in use during the write.
	[ "$i" != "$prev" ] || why="$why $step: inode $i unchanged;"
	prev=$i
	m=$(stat -c '%a %U %G' "$d/m.db")
	[ "$m" = "640 nobody nogroup" ] || mwhy="${mwhy:-} $step: '$m';"
done
[ -z "$why" ] && pass "map/atomic-new-inode-each-write" || fail "map/atomic-new-inode-each-write" "$why"
[ -z "${mwhy:-}" ] && pass "map/atomic-keeps-mode-owner" ||
	fail "map/atomic-keeps-mode-owner" "want '640 nobody nogroup' after every write:$mwhy"
want=$(printf '192.0.2.1\tOK\n198.51.100.0/24\t9/1h')
[ "$(dump "$d/m")" = "$want" ] && pass "map/atomic-content-after-edits" ||
	fail "map/atomic-content-after-edits" "got '$(oneline "$(dump "$d/m")")' want '$(oneline "$want")'"

# Durable replace, read from the system calls (strace): the temporary
# file is fsync'ed after its last write and its mode and owner are set
# (fdatasync would not carry those), before the rename; the directory is
# fsync'ed after the rename, or a crash can bring the old map back.
# durable_order TRACE: "ok", or what is missing.
durable_order() {
	awk '
	function fdof(line) { sub(/.*= /, "", line); return line + 0 }
	function arg1(line,  a) { a = line; sub(/^[^"]*"/, "", a); sub(/".*/, "", a); return a }
	{ sub(/^[0-9]+ +/, "") }
	/^openat\(/ && /= [0-9]+$/ {
		fd = fdof($0); path[fd] = arg1($0); isdir[fd] = /O_DIRECTORY/; next }
	/^close\(/ { sub(/^close\(/, ""); delete path[$0 + 0]; next }
	/^(rename|renameat|renameat2)\(/ && /= 0$/ && !renamed {
		renamed = NR; tmp = arg1($0); next }
	{ call = $0; sub(/\(.*/, "", call); a = $0; sub(/^[^(]*\(/, "", a); fd = a + 0 }
	(call == "pwrite64" || call == "write" || call == "fchmod" || call == "fchown") && !renamed {
		lastmod[path[fd]] = NR; next }
	call == "fsync" && !renamed { fsynced[path[fd]] = NR; next }
	call == "fsync" && renamed && isdir[fd] { dirsync = NR }
	END {
		if (!renamed) { print "no rename"; exit }
		if (!(tmp in fsynced)) { print "no fsync of " tmp " before the rename"; exit }
		if (fsynced[tmp] < lastmod[tmp]) { print "a write, chmod or chown of " tmp " after its fsync"; exit }
		if (!dirsync) { print "no fsync of the directory after the rename"; exit }
		print "ok"
	}' "$1"
}
why=
for step in build add delete; do
	case $step in
	build) set -- "$d/m" ;;
	add) set -- add "$d/m" 203.0.113.0/24 2/10m ;;
	delete) set -- delete "$d/m" 203.0.113.0/24 ;;
	esac
	# LeakSanitizer cannot run under ptrace; the other runs check leaks.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	    timeout -k 1 20 strace -f -qq -o "$d/trace" \
	    -e trace=openat,close,write,pwrite64,fchmod,fchown,fsync,fdatasync,rename,renameat,renameat2 \
	    "$RMAP" "$@" < "$d/b.txt" > /dev/null 2> "$d/trace.err"
	r=$?
	o=$(durable_order "$d/trace")
	[ $r = 0 ] && [ "$o" = ok ] || why="$why $step: exit $r, $o $(oneline "$(cat "$d/trace.err")");"
done
[ -z "$why" ] && pass "map/durable-fsync-rename-fsync-dir" ||
	fail "map/durable-fsync-rename-fsync-dir" "$why"

# A failed build (bad text): same bytes, same inode, nothing left behind.
cp -p "$d/m.db" "$d/orig"
ib=$(ino "$d/m.db")
ls_before=$(listing "$d")
printf '%s\n' '192.0.2.1 OK' 'garbage' > "$d/bad.txt"
rmap "$d/m" < "$d/bad.txt"
ls_after=$(listing "$d" | grep -vx bad.txt)
if [ $rc = 65 ] && cmp -s "$d/m.db" "$d/orig" && [ "$(ino "$d/m.db")" = "$ib" ] &&
    [ "$ls_after" = "$ls_before" ]; then
	pass "map/atomic-failed-build-untouched"
else
	fail "map/atomic-failed-build-untouched" "exit $rc (want 65), cmp $(cmp "$d/m.db" "$d/orig" 2>&1), dir: $(oneline "$ls_after")"
fi
rm -f "$d/bad.txt"

# A failed write (the file size limit hit while the temp map is written,
# SIGXFSZ ignored so write() fails with EFBIG): exit 73, the old map is
# byte-identical and the temporary file is removed.
awk 'BEGIN { for (i = 0; i < 3000; i++) printf "10.%d.%d.1 OK\n", int(i / 256), i % 256 }' > "$d/big.txt"
ls_before=$(listing "$d")
sh -c 'trap "" XFSZ; ulimit -f 8; exec timeout -k 1 10 "$0" "$1" < "$2"' "$RMAP" "$d/m" "$d/big.txt" \
    > "$work/.out" 2> "$work/.err"
rc=$? err=$(cat "$work/.err")
ls_after=$(listing "$d")
if [ $rc = 73 ] && cmp -s "$d/m.db" "$d/orig" && [ "$ls_after" = "$ls_before" ]; then
	pass "map/atomic-failed-write-untouched"
else
	fail "map/atomic-failed-write-untouched" "exit $rc (want 73), cmp: $(cmp "$d/m.db" "$d/orig" 2>&1), dir before: $(oneline "$ls_before") after: $(oneline "$ls_after"); $(oneline "$err")"
fi

# --- a map that is a symbolic link: written through to its target -----------------

# Admins link maps into a shared tree: the link stays, the file it leads
# to gets the new map (beside it, atomically, with its mode and owner).
d=$work/symlink
mkdir -p "$d/shared" "$d/etc"
printf '%s\n' '192.0.2.1 OK' > "$d/a.txt"
printf '%s\n' '192.0.2.1 OK' '192.0.2.2 5/60' '198.51.100.0/24 OK' > "$d/b.txt"
rmap "$d/shared/real" < "$d/a.txt"
chmod 0640 "$d/shared/real.db"
chown nobody:nogroup "$d/shared/real.db"
ln -s ../shared/real.db "$d/etc/m.db"
ln -s "$d/etc/m.db" "$d/etc/chain.db"	# a link to the link
why=
for step in add build delete add-chain; do
	case $step in
	add) rmap add "$d/etc/m" 198.51.100.0/24 ;;
	build) rmap "$d/etc/m" < "$d/b.txt" ;;
	delete) rmap delete "$d/etc/m" 192.0.2.2 ;;
	add-chain) rmap add "$d/etc/chain" 203.0.113.0/24 7/1h ;;
	esac
	[ $rc = 0 ] || why="$why $step: exit $rc: $(oneline "$err");"
	[ -L "$d/etc/m.db" ] && [ "$(readlink "$d/etc/m.db")" = ../shared/real.db ] ||
		why="$why $step: etc/m.db is no longer the link ($(ls -l "$d/etc/m.db" | cut -c1-60));"
	[ -L "$d/etc/chain.db" ] || why="$why $step: etc/chain.db is no longer a link;"
	[ -f "$d/shared/real.db" ] && [ ! -L "$d/shared/real.db" ] ||
		why="$why $step: the target is gone;"
	m=$(stat -c '%a %U %G' "$d/shared/real.db")
	[ "$m" = "640 nobody nogroup" ] || why="$why $step: target mode/owner '$m';"
	left=$(listing "$d/shared" | grep -vx real.db; listing "$d/etc" | grep -vx -e m.db -e chain.db)
	[ -z "$left" ] || why="$why $step: files left: $(oneline "$left");"
done
want=$(printf '192.0.2.1\tOK\n198.51.100.0/24\tOK\n203.0.113.0/24\t7/1h')
got=$(dump "$d/shared/real")
[ "$got" = "$want" ] || why="$why target holds '$(oneline "$got")', want '$(oneline "$want")';"
[ -z "$why" ] && pass "map/symlink-written-through" || fail "map/symlink-written-through" "$why"

# A link that leads nowhere: refused, naming it, and left as it is.
ln -s ../shared/absent.db "$d/etc/dangling.db"
rmap add "$d/etc/dangling" 192.0.2.9
if [ $rc != 0 ] && printf '%s' "$err" | grep -Fq "$d/etc/dangling.db" &&
    [ -L "$d/etc/dangling.db" ] && [ ! -e "$d/shared/absent.db" ] &&
    [ -z "$(listing "$d/etc" | grep -vx -e m.db -e chain.db -e dangling.db)" ]; then
	pass "map/symlink-dangling-refused"
else
	fail "map/symlink-dangling-refused" "exit $rc (want non-zero naming the link, link kept): $(oneline "$err"); $(ls -l "$d/etc" | tr '\n' ' ')"
fi

# Root writes through a link only where nobody else can swap what it
# leads to (a review: a link into a directory another user owns let that
# user plant a second link and have root overwrite any file).  Refused,
# naming the directory; the file the planted link leads to is untouched.
mkdir -p "$d/foreign" "$d/guarded"
chown nobody "$d/foreign"
printf 'not a map\n' > "$d/guarded/secret"
chmod 0600 "$d/guarded/secret"
ln -s "$d/guarded/secret" "$d/foreign/m.db"
ln -s "$d/foreign/m.db" "$d/etc/foreign.db"
printf '127.0.0.1\tOK\n' > "$d/foreign.txt"
rmap_pipe "$d/foreign.txt" "$d/etc/foreign"
f1_rc=$rc f1_err=$err
# The same for a map's source file that lives in such a directory (add
# and delete rewrite it by name).
printf '192.0.2.1\tOK\n' > "$d/foreign/src"
chown nobody "$d/foreign/src"
ln -s "$d/foreign/src" "$d/etc/fsrc"
printf '192.0.2.1\tOK\n' | timeout -k 1 10 "$RMAP" "$d/etc/fsrc" 2>/dev/null
rmap add "$d/etc/fsrc" 192.0.2.2
if [ "$f1_rc" != 0 ] && printf '%s' "$f1_err" | grep -Fq "directory $d/foreign" &&
    [ "$(cat "$d/guarded/secret")" = "not a map" ] &&
    [ $rc != 0 ] && printf '%s' "$err" | grep -Fq "directory $d/foreign" &&
    [ "$(cat "$d/foreign/src")" = "$(printf '192.0.2.1\tOK')" ]; then
	pass "map/symlink-into-foreign-directory-refused"
else
	fail "map/symlink-into-foreign-directory-refused" "map: exit $f1_rc: $(oneline "$f1_err"); secret: $(oneline "$(cat "$d/guarded/secret")"); source add: exit $rc: $(oneline "$err"); source: $(oneline "$(cat "$d/foreign/src")")"
fi

# --- a FIFO where the map should be: a clear error, never a hang -------------------

d=$work/fifo
mkdir "$d"
mkfifo "$d/f.db"
printf '%s\n' '192.0.2.1 OK' > "$d/a.txt"
why=
for step in dump test add delete build; do
	case $step in
	dump) rmap -u "$d/f" ;;
	test) rmap test "$d/f" 192.0.2.1 ;;
	add) rmap add "$d/f" 192.0.2.1 ;;
	delete) rmap delete "$d/f" 192.0.2.1 ;;
	build) rmap "$d/f" < "$d/a.txt" ;;
	esac
	case $rc in
	0|124|137) why="$why $step: exit $rc (124/137: hung);" ;;
	esac
	printf '%s' "$err" | grep -Fq "$d/f.db" && printf '%s' "$err" | grep -q 'not a regular file (a FIFO)' ||
		why="$why $step: message lacks '$d/f.db ... not a regular file (a FIFO)': $(oneline "$err");"
	[ -p "$d/f.db" ] || why="$why $step: the FIFO was replaced;"
done
[ -z "$(listing "$d" | grep -vx -e f.db -e a.txt)" ] || why="$why files left: $(oneline "$(listing "$d")");"
[ -z "$why" ] && pass "map/fifo-refused" || fail "map/fifo-refused" "$why"

# milter-ratelimit -n with a FIFO as the map: exit 78 naming it, at once.
mkfifo "$d/g.db"
printf '%s\n' "socket = \"unix:$d/m.sock\"" "exempt_map = \"$d/g.db\"" 'user = "root"' > "$d/c.conf"
cout=$(timeout -k 1 10 "$BIN" -n -f "$d/c.conf" 2>&1); crc=$?
[ $crc = 78 ] && printf '%s' "$cout" | grep -Fq "$d/g.db: cannot open map: not a regular file (a FIFO)" &&
	pass "map/check-fifo-map" ||
	fail "map/check-fifo-map" "exit $crc (want 78, 124/137 = hung), want '$d/g.db: cannot open map: not a regular file (a FIFO)': $(oneline "$cout")"

# --- a full file system: the real reason, the old map intact ---------------------

# A 64 KiB tmpfs, mounted in a private mount namespace (nothing outside
# sees it), that a 20000-entry map cannot fit in.  Berkeley DB turns the
# failed page writes into ENOMEM; the tool must say what happened.  Then
# the disk filled to the last block and an add: the same.
d=$work/enospc
mkdir "$d" "$d/mnt"
printf '%s\n' '192.0.2.1 OK' > "$d/small.txt"
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "10.%d.%d.1 OK\n", int(i / 256), i % 256 }' > "$d/big.txt"
timeout -k 1 60 unshare -m --propagation private sh -c '
	d=$1 rmap=$2
	mount -t tmpfs -o size=64k tmpfs "$d/mnt" || exit 99
	"$rmap" "$d/mnt/m" < "$d/small.txt" || exit 98
	cp "$d/mnt/m.db" "$d/before.db"
	"$rmap" "$d/mnt/m" < "$d/big.txt" 2> "$d/err.build"; echo $? > "$d/rc.build"
	cmp -s "$d/mnt/m.db" "$d/before.db" && echo same > "$d/cmp.build"
	ls -A "$d/mnt" > "$d/ls.build"
	head -c 1048576 /dev/zero > "$d/mnt/filler" 2>/dev/null
	"$rmap" add "$d/mnt/m" 192.0.2.2 2> "$d/err.add"; echo $? > "$d/rc.add"
	cmp -s "$d/mnt/m.db" "$d/before.db" && echo same > "$d/cmp.add"
	ls -A "$d/mnt" > "$d/ls.add"
	"$rmap" -u "$d/mnt/m" > "$d/dump" 2>&1
' sh "$d" "$RMAP" > "$d/ns.out" 2>&1
nrc=$?
if [ $nrc != 0 ]; then
	fail "map/enospc-reported" "could not set up the tmpfs in a private namespace (unshare -m, mount -t tmpfs; exit $nrc): $(oneline "$(cat "$d/ns.out")")"
else
	why=
	for step in build add; do
		e=$(cat "$d/err.$step" 2>/dev/null)
		[ "$(cat "$d/rc.$step" 2>/dev/null)" = 73 ] || why="$why $step: exit $(cat "$d/rc.$step" 2>/dev/null), want 73;"
		printf '%s' "$e" | grep -q 'No space left on device' ||
			why="$why $step: no 'No space left on device' in: $(oneline "$e");"
		printf '%s' "$e" | grep -q 'Cannot allocate memory' &&
			why="$why $step: says 'Cannot allocate memory';"
		[ -s "$d/cmp.$step" ] || why="$why $step: the old map changed;"
		[ "$(cat "$d/ls.$step")" = "$(printf 'm.db')" ] || [ "$(cat "$d/ls.$step")" = "$(printf 'filler\nm.db')" ] ||
			why="$why $step: files left: $(oneline "$(cat "$d/ls.$step")");"
	done
	[ "$(cat "$d/dump")" = "$(printf '192.0.2.1\tOK')" ] || why="$why dump afterwards: $(oneline "$(cat "$d/dump")");"
	[ -z "$why" ] && pass "map/enospc-reported" || fail "map/enospc-reported" "$why"
fi

# --- add, delete, test ------------------------------------------------------------

d=$work/edit
mkdir "$d"
printf '%s\n' '10.0.0.0/8 OK' '10.1.0.0/16 5/60' '10.1.2.3 7/1h' '2001:db8::/32 OK' \
    '2001:db8:1::/48 3/60' > "$d/in.txt"
rmap "$d/m" < "$d/in.txt"

rmap add "$d/m" 203.0.113.0/24
dump "$d/m" | grep -qx "$(printf '203.0.113.0/24\tOK')" && [ $rc = 0 ] &&
	pass "map/add-default-ok" || fail "map/add-default-ok" "exit $rc; dump: $(oneline "$(dump "$d/m")")"

rmap add "$d/m" 203.0.113.0/24 50/3600
got=$(dump "$d/m" | grep '^203\.0\.113\.')
[ $rc = 0 ] && [ "$got" = "$(printf '203.0.113.0/24\t50/1h')" ] &&
	pass "map/add-replaces-value" || fail "map/add-replaces-value" "exit $rc; lines: $(oneline "$got")"

rmap add "$d/m" 10.1.2.3/32 OK
got=$(dump "$d/m" | grep '^10\.1\.2\.3')
[ $rc = 0 ] && [ "$got" = "$(printf '10.1.2.3\tOK')" ] &&
	pass "map/add-replaces-other-spelling" || fail "map/add-replaces-other-spelling" "exit $rc; lines: $(oneline "$got")"

rmap delete "$d/m" 203.0.113.0/24
[ $rc = 0 ] && ! dump "$d/m" | grep -q '^203\.0\.113\.' && [ "$(dump "$d/m" | wc -l)" = 5 ] &&
	pass "map/delete-removes" || fail "map/delete-removes" "exit $rc; dump: $(oneline "$(dump "$d/m")")"

cp -p "$d/m.db" "$d/orig"
i=$(ino "$d/m.db")
rmap delete "$d/m" 203.0.113.0/24
[ $rc = 1 ] && cmp -s "$d/m.db" "$d/orig" && [ "$(ino "$d/m.db")" = "$i" ] &&
	pass "map/delete-missing-key" || fail "map/delete-missing-key" "exit $rc (want 1, map unchanged): $(oneline "$err")"

rmap add "$d/m" 10.0.0.1/8
[ $rc = 65 ] && cmp -s "$d/m.db" "$d/orig" && pass "map/add-bad-key" ||
	fail "map/add-bad-key" "exit $rc (want 65, map unchanged): $(oneline "$err")"
rmap add "$d/m" 192.0.2.1 5/2d
[ $rc = 65 ] && cmp -s "$d/m.db" "$d/orig" && pass "map/add-bad-value" ||
	fail "map/add-bad-value" "exit $rc (want 65, map unchanged): $(oneline "$err")"

# test ADDRESS: the longest prefix decides.
why=
for c in '10.1.2.3 10.1.2.3 OK' '10.1.9.9 10.1.0.0/16 5/1m' '10.200.0.1 10.0.0.0/8 OK' \
    '2001:db8:1::9 2001:db8:1::/48 3/1m' '2001:db8:2::9 2001:db8::/32 OK'; do
	set -- $c
	rmap test "$d/m" "$1"
	first=$(printf '%s\n' "$out" | head -n 1 | cut -f1,2)
	[ $rc = 0 ] && [ "$first" = "$(printf '%s\t%s' "$2" "$3")" ] ||
		why="$why $1: exit $rc, got '$(oneline "$out")' want '$2 $3';"
done
[ -z "$why" ] && pass "map/test-longest-prefix" || fail "map/test-longest-prefix" "$why"

why=
for a in 11.0.0.1 192.0.2.1 2001:db9::1; do
	rmap test "$d/m" "$a"
	[ $rc = 1 ] || why="$why $a: exit $rc (want 1): $(oneline "$out $err");"
done
[ -z "$why" ] && pass "map/test-no-match" || fail "map/test-no-match" "$why"

why=
for a in mx_example.com 10.0.0.0/8 ''; do
	rmap test "$d/m" "$a"
	[ $rc = 65 ] || why="$why '$a': exit $rc (want 65);"
done
[ -z "$why" ] && pass "map/test-not-an-address" || fail "map/test-not-an-address" "$why"

# --- name entries ------------------------------------------------------------

nd=$work/names
mkdir "$nd"
printf '%s\n' '# names and addresses together' 'Partner.Example. OK' 'mx1.partner.example 2/1m' \
    '192.0.2.0/24 5/1m' 'example.org 100/1h' '2001:db8::/32 OK' > "$nd/n.txt"
rmap "$nd/n" < "$nd/n.txt"
want=$(printf '%s\n' '192.0.2.0/24	5/1m' '2001:db8::/32	OK' 'example.org	100/1h' \
    'mx1.partner.example	2/1m' 'partner.example	OK')
got=$(dump "$nd/n")
[ $rc = 0 ] && [ "$got" = "$want" ] && pass "map/names-build-dump" ||
	fail "map/names-build-dump" "exit $rc: $(oneline "$err"); dump '$(oneline "$got")', want '$(oneline "$want")'"

# Lower case, no trailing dot: the same key twice is a duplicate.
printf '%s\n' 'partner.example OK' 'PARTNER.example. 5/1m' > "$nd/dup.txt"
rmap "$nd/dupmap" < "$nd/dup.txt"
[ $rc = 65 ] && printf '%s' "$err" | grep -q "dup.txt:2: duplicate key partner.example, first on line 1" &&
	pass "map/names-duplicate-spelling" || fail "map/names-duplicate-spelling" "exit $rc (want 65): $(oneline "$err")"

# test NAME: the longest entry over the name (label boundaries only);
# test ADDRESS NAME: an address entry comes first.
why=
for c in 'mx1.partner.example mx1.partner.example 2/1m' 'a.b.mx1.partner.example mx1.partner.example 2/1m' \
    'MX2.Partner.Example. partner.example OK' 'partner.example partner.example OK' \
    'www.example.org example.org 100/1h'; do
	set -- $c
	rmap test "$nd/n" "$1"
	first=$(printf '%s\n' "$out" | head -n 1 | cut -f1,2)
	[ $rc = 0 ] && [ "$first" = "$(printf '%s\t%s' "$2" "$3")" ] ||
		why="$why $1: exit $rc, got '$(oneline "$out")' want '$2 $3';"
done
for c in '192.0.2.7 mx1.partner.example 192.0.2.0/24 5/1m' '198.51.100.7 mx1.partner.example mx1.partner.example 2/1m' \
    '2001:db8::7 x.example.org 2001:db8::/32 OK'; do
	set -- $c
	rmap test "$nd/n" "$1" "$2"
	first=$(printf '%s\n' "$out" | head -n 1 | cut -f1,2)
	[ $rc = 0 ] && [ "$first" = "$(printf '%s\t%s' "$3" "$4")" ] ||
		why="$why $1 $2: exit $rc, got '$(oneline "$out")' want '$3 $4';"
done
for a in xpartner.example example.net partner.example.net; do
	rmap test "$nd/n" "$a"
	[ $rc = 1 ] || why="$why $a: exit $rc (want 1, no entry): $(oneline "$out $err");"
done
rmap test "$nd/n" 198.51.100.7 '[198.51.100.7]'
[ $rc = 65 ] || why="$why a bracketed literal as the name: exit $rc (want 65);"
[ -z "$why" ] && pass "map/names-test" || fail "map/names-test" "$why"

# add and delete keep the source text in step, for names as for addresses.
cp "$nd/n.txt" "$nd/s"
rmap "$nd/s" < "$nd/s"
rmap add "$nd/s" New.Partner.Example 7/1m
rmap add "$nd/s" partner.example. 3/1m
rmap delete "$nd/s" example.org
want=$(printf '%s\n' '192.0.2.0/24	5/1m' '2001:db8::/32	OK' 'mx1.partner.example	2/1m' \
    'new.partner.example	7/1m' 'partner.example	3/1m')
got=$(dump "$nd/s")
rebuilt=$(timeout 10 "$RMAP" "$nd/r" < "$nd/s" 2>&1 && dump "$nd/r")
[ "$got" = "$want" ] && [ "$rebuilt" = "$want" ] && ! grep -q 'example\.org' "$nd/s" &&
	pass "map/names-add-delete-source" ||
	fail "map/names-add-delete-source" "dump '$(oneline "$got")', rebuilt '$(oneline "$rebuilt")', want '$(oneline "$want")'; source: $(oneline "$(cat "$nd/s")")"

# makemap writes name keys as it writes any key (lower case, no NUL): the
# tool and the daemon read them.
printf '%s\n' 'Partner.Example OK' 'mx1.partner.example 2/1m' > "$nd/mm.txt"
(cd "$nd" && timeout 10 makemap hash "$nd/mm" < "$nd/mm.txt") 2>"$nd/mm.err"
got=$(dump "$nd/mm")
printf '%s\n' "socket = \"unix:$nd/m.sock\"" "exempt_map = \"$nd/mm.db\"" 'user = "root"' > "$nd/mm.conf"
cout=$(timeout -k 1 10 "$BIN" -n -f "$nd/mm.conf" 2>&1); crc=$?
[ "$got" = "$(printf '%s\n' 'mx1.partner.example	2/1m' 'partner.example	OK')" ] && [ $crc = 0 ] &&
	! printf '%s' "$cout" | grep -q skipping &&
	pass "map/names-makemap" || fail "map/names-makemap" "dump '$(oneline "$got")', -n exit $crc: $(oneline "$cout") $(oneline "$(cat "$nd/mm.err")")"

rmap add "$d/new" 192.0.2.9 4/1m
[ $rc = 0 ] && [ -f "$d/new.db" ] && [ "$(dump "$d/new")" = "$(printf '192.0.2.9\t4/1m')" ] &&
	pass "map/add-creates-map" || fail "map/add-creates-map" "exit $rc: $(oneline "$err"); dump: $(oneline "$(dump "$d/new")")"

rmap add "$d/new.db" 192.0.2.10
[ $rc = 0 ] && [ ! -e "$d/new.db.db" ] && [ "$(dump "$d/new" | wc -l)" = 2 ] &&
	pass "map/name-with-.db-suffix" || fail "map/name-with-.db-suffix" "exit $rc: $(oneline "$err")"

# The type of map survives add and delete.
dbtype() { db5.3_dump -p "$1" 2>/dev/null | sed -n 's/^type=//p'; }
rmap -t btree "$d/bt" < "$d/in.txt"
t1=$(dbtype "$d/bt.db")
rmap add "$d/bt" 192.0.2.50
t2=$(dbtype "$d/bt.db")
rmap delete "$d/bt" 10.0.0.0/8
t3=$(dbtype "$d/bt.db")
n=$(dump "$d/bt" | wc -l)
[ "$t1 $t2 $t3 $n" = "btree btree btree 5" ] && pass "map/btree-stays-btree" ||
	fail "map/btree-stays-btree" "types after build/add/delete: '$t1 $t2 $t3' (want btree x3), $n entries (want 5)"
t=$(dbtype "$d/m.db")
[ "$t" = hash ] && pass "map/default-type-hash" || fail "map/default-type-hash" "type '$t'"

# --- concurrency -------------------------------------------------------------------

d=$work/conc
mkdir "$d"
printf '%s\n' '192.0.2.1 OK' '192.0.2.2 OK' > "$d/in.txt"
rmap "$d/m" < "$d/in.txt"
writer() {	# writer NET: 200 adds of NET.X.Y; failures go to $d/fail.NET
	_i=0
	while [ $_i -lt 200 ]; do
		timeout -k 1 10 "$RMAP" add "$d/m" "$1.$((_i / 100)).$((_i % 100))" 2>>"$d/fail.$1" ||
			echo "add $1.$((_i / 100)).$((_i % 100)) failed" >> "$d/fail.$1"
		_i=$((_i + 1))
	done
}
writer 10.1 & p1=$!
writer 10.2 & p2=$!
wait $p1 $p2
got=$(dump "$d/m" | wc -l)
n1=$(dump "$d/m" | grep -c '^10\.1\.')
n2=$(dump "$d/m" | grep -c '^10\.2\.')
# (No source file beside this map: each add says so, which is no failure.)
fails=$(cat "$d"/fail.* 2>/dev/null | grep -v ': note: no source file ')
if [ "$got" = 402 ] && [ "$n1" = 200 ] && [ "$n2" = 200 ] && [ -z "$fails" ]; then
	pass "map/concurrent-adds-lose-nothing"
else
	fail "map/concurrent-adds-lose-nothing" "$got entries (want 402: 200 + 200 + 2), 10.1: $n1, 10.2: $n2; $(oneline "$fails")"
fi
left=$(listing "$d" | grep -v -x -e m.db -e in.txt -e 'fail\..*')
[ -z "$left" ] && pass "map/concurrent-no-temp-files" || fail "map/concurrent-no-temp-files" "$(oneline "$left")"

# --- interoperation with sendmail's makemap ---------------------------------------

d=$work/makemap
mkdir -m 0755 "$d"
cat > "$d/in.txt" <<'EOF'
# keys as an admin types them; makemap lowercases keys
192.0.2.25          OK
2001:DB8:5::/48     OK
198.51.100.0/24     2000/1h
10.0.0.0/8          100/60
2001:db8::1         5/86400
EOF
want=$(printf '%s\t%s\n' 10.0.0.0/8 100/1m 192.0.2.25 OK 198.51.100.0/24 2000/1h \
    2001:db8::1 5/1d 2001:db8:5::/48 OK)

mm() { (cd "$d" && timeout -k 1 10 makemap "$@") 2> "$work/.mmerr"; }
if mm hash "$d/mk" < "$d/in.txt"; then
	got=$(dump "$d/mk")
	[ "$got" = "$want" ] && pass "map/reads-makemap-hash" ||
		fail "map/reads-makemap-hash" "got '$(oneline "$got")' want '$(oneline "$want")'"
else
	fail "map/reads-makemap-hash" "makemap failed: $(oneline "$(cat "$work/.mmerr")")"
fi
if mm -N hash "$d/mkn" < "$d/in.txt"; then
	db5.3_dump -p "$d/mkn.db" | grep -q '192\.0\.2\.25\\00' ||
		fail "map/reads-makemap-N" "setup: makemap -N wrote no NUL-terminated key"
	got=$(dump "$d/mkn")
	[ "$got" = "$want" ] && pass "map/reads-makemap-N" ||
		fail "map/reads-makemap-N" "got '$(oneline "$got")' want '$(oneline "$want")'"
else
	fail "map/reads-makemap-N" "makemap -N failed: $(oneline "$(cat "$work/.mmerr")")"
fi
if mm btree "$d/mkb" < "$d/in.txt"; then
	got=$(dump "$d/mkb")
	[ "$got" = "$want" ] && pass "map/reads-makemap-btree" ||
		fail "map/reads-makemap-btree" "got '$(oneline "$got")' want '$(oneline "$want")'"
else
	fail "map/reads-makemap-btree" "makemap btree failed: $(oneline "$(cat "$work/.mmerr")")"
fi

rmap "$d/ours" < "$d/in.txt"
if [ $rc = 0 ] && mm -u hash "$d/ours" > "$d/mk-u.txt"; then
	# Compared as files, byte for byte: a NUL would vanish in a variable.
	LC_ALL=C sort "$d/mk-u.txt" > "$d/mk-u.sorted"
	printf '%s\n' "$want" | LC_ALL=C sort > "$d/want.sorted"
	cmp -s "$d/mk-u.sorted" "$d/want.sorted" && pass "map/makemap-dumps-ours" ||
		fail "map/makemap-dumps-ours" "makemap -u: '$(oneline "$(od -c "$d/mk-u.sorted" | head -n 4)")' want '$(oneline "$want")'"
else
	fail "map/makemap-dumps-ours" "build exit $rc; makemap -u: $(oneline "$(cat "$work/.mmerr")")"
fi
# Lookups by makemap's own key format: makemap -u shows no NUL and keys in
# lower case, so sendmail-side tools find the entries ratelimit-map wrote.
k=$(db5.3_dump -p "$d/ours.db" | grep -c '\\00')
[ "$k" = 0 ] && pass "map/no-nul-in-keys" || fail "map/no-nul-in-keys" "$k data lines hold a NUL"

# add and delete on a map makemap built keep it readable by both.
rmap add "$d/mk" 203.0.113.7 3/1m
if [ $rc = 0 ] && mm -u hash "$d/mk" > "$d/mk-u2.txt" &&
    grep -qx "$(printf '203.0.113.7\t3/1m')" "$d/mk-u2.txt" && [ "$(wc -l < "$d/mk-u2.txt")" = 6 ]; then
	pass "map/add-to-makemap-map"
else
	fail "map/add-to-makemap-map" "exit $rc: $(oneline "$err"); makemap -u: $(oneline "$(cat "$d/mk-u2.txt" 2>/dev/null)")"
fi

# One key in two spellings ("1.2.3.4" and "1.2.3.4/32") is two DB keys to
# makemap, which checks nothing.  The daemon can use only one of the two
# values: -n must warn naming the key (as a reload does), and -u must
# print the one entry it keeps, name the one it skips, count it and exit 65
# (ratelimit-map(8)).
printf '%s\n' '192.0.2.44 OK' '192.0.2.44/32 5/60' > "$d/alias.txt"
if mm hash "$d/alias" < "$d/alias.txt"; then
	printf '%s\n' "socket = \"unix:$d/m.sock\"" "exempt_map = \"$d/alias.db\"" 'user = "root"' > "$d/alias.conf"
	cout=$(timeout -k 1 10 "$BIN" -n -f "$d/alias.conf" 2>&1); crc=$?
	rmap -u "$d/alias"
	why=
	# -n judges as a reload does: the key is skipped with a warning.
	[ $crc = 0 ] && printf '%s' "$cout" | grep -q 'skipping key "192\.0\.2\.44"' ||
		why="$why milter-ratelimit -n: exit $crc (want 0 with a warning naming 192.0.2.44): $(oneline "$cout");"
	[ $rc = 65 ] && [ "$out" = "$(printf '192.0.2.44\tOK')" ] &&
	    printf '%s\n' "$err" | grep -q 'skipping key "192\.0\.2\.44"' &&
	    printf '%s\n' "$err" | grep -Fq "$d/alias.db: 1 invalid entries skipped" ||
		why="$why -u: exit $rc (want 65), output '$(oneline "$out")' (want the kept entry only), stderr (want the key and '1 invalid entries skipped'): $(oneline "$err");"
	[ -z "$why" ] && pass "map/makemap-key-in-two-spellings" || fail "map/makemap-key-in-two-spellings" "$why"
else
	fail "map/makemap-key-in-two-spellings" "makemap failed: $(oneline "$(cat "$work/.mmerr")")"
fi

# add and delete on a map with entries the tool cannot read (a key in two
# spellings, a value that does not parse): rewriting would drop them
# silently, so the edit is refused (65) and the map is left as it was,
# byte for byte, every entry still there for makemap.
printf '%s\n' '192.0.2.44 OK' '192.0.2.44/32 5/60' '192.0.2.46 bogus' '192.0.2.45 OK' > "$d/unread.txt"
if mm hash "$d/unread" < "$d/unread.txt"; then
	cp -p "$d/unread.db" "$d/unread.orig"
	why=
	for op in "add 203.0.113.1" "add 192.0.2.45 3/60" "delete 192.0.2.45"; do
		# shellcheck disable=SC2086
		set -- $op
		rmap "$1" "$d/unread" "$2" ${3:-}
		[ $rc = 65 ] && cmp -s "$d/unread.db" "$d/unread.orig" &&
		    printf '%s\n' "$err" | grep -q 'cannot read' ||
			why="$why $op: exit $rc (want 65, map unchanged: $(cmp "$d/unread.db" "$d/unread.orig" 2>&1 || echo changed)): $(oneline "$err");"
	done
	n=$(mm -u hash "$d/unread" | grep -c .)
	[ "$n" = 4 ] || why="$why makemap -u lists $n entries, want 4;"
	[ -z "$why" ] && pass "map/edit-keeps-unreadable-entries" ||
		fail "map/edit-keeps-unreadable-entries" "$why"
else
	fail "map/edit-keeps-unreadable-entries" "makemap failed: $(oneline "$(cat "$work/.mmerr")")"
fi

# --- truncated maps ----------------------------------------------------------------

# A hash map cut at a page boundary (4096-byte pages) must not read as a
# valid smaller map: -u and -n must fail (66 and 78), not drop entries.
d=$work/trunc
mkdir "$d"
awk 'BEGIN { for (i = 0; i < 2000; i++) printf "10.%d.%d.1 OK\n", int(i / 256), i % 256 }' > "$d/in.txt"
rmap "$d/full" < "$d/in.txt"
sz=$(stat -c %s "$d/full.db")
why=
for cut in $((sz / 2 / 4096 * 4096)) $((sz - 4096)) $((sz / 2)); do
	head -c $cut "$d/full.db" > "$d/t.db"
	rmap -u "$d/t"
	n=$(printf '%s' "$out" | grep -c .)
	[ $rc = 66 ] || why="$why cut at $cut of $sz bytes: -u exit $rc with $n of 2000 entries (want 66);"
done
[ -z "$why" ] && pass "map/dump-truncated-map-fails" || fail "map/dump-truncated-map-fails" "$why"
head -c $((sz / 2 / 4096 * 4096)) "$d/full.db" > "$d/t.db"
printf '%s\n' "socket = \"unix:$d/m.sock\"" "exempt_map = \"$d/t.db\"" 'user = "root"' > "$d/c.conf"
cout=$(timeout -k 1 10 "$BIN" -n -f "$d/c.conf" 2>&1); crc=$?
[ $crc = 78 ] && printf '%s' "$cout" | grep -Fq "$d/t.db" && pass "map/check-truncated-map-fails" ||
	fail "map/check-truncated-map-fails" "milter-ratelimit -n on a map cut at $((sz / 2 / 4096 * 4096)) of $sz bytes: exit $crc (want 78 naming it): $(oneline "$cout")"

# --- text with CRLF line ends ----------------------------------------------------

# Values already tolerate a trailing CR; a blank line of a CRLF file is
# still a blank line, and a comment stays a comment.
d=$work/crlf
mkdir "$d"
printf '# exempt relays\r\n192.0.2.1 OK\r\n\r\n192.0.2.2\t5/60\r\n' > "$d/in.txt"
rmap "$d/m" < "$d/in.txt"
got=$(dump "$d/m")
[ $rc = 0 ] && [ "$got" = "$(printf '192.0.2.1\tOK\n192.0.2.2\t5/1m')" ] &&
	pass "map/crlf-text" || fail "map/crlf-text" "exit $rc (want 0): $(oneline "$err"); dump: $(oneline "$got")"

# --- usage errors -------------------------------------------------------------------

d=$work/usage
mkdir "$d"
why=
for args in '' '-t dbm m' '-t' 'add' 'add m' 'delete m' 'test m' '-x m' 'm extra' '-u' 'test m 1.2.3.4 a.example extra'; do
	(cd "$d" && timeout -k 1 10 "$RMAP" $args < /dev/null > /dev/null 2>&1)
	rc=$?
	[ $rc = 64 ] || why="$why '$args': exit $rc;"
done
[ -z "$(listing "$d")" ] || why="$why files were created: $(oneline "$(listing "$d")");"
[ -z "$why" ] && pass "map/usage-errors" || fail "map/usage-errors" "want 64:$why"

# --- milter-ratelimit -n on maps ----------------------------------------------------

d=$work/check
mkdir -m 0755 "$d"
printf '%s\n' '192.0.2.25 OK' '198.51.100.0/24 BOGUS' > "$d/inv.txt"
printf '%s\n' '192.0.2.25 OK' '198.51.100.0/24 20/1h' '2001:db8::/32 5/60' > "$d/val.txt"
conf() { printf '%s\n' "socket = \"unix:$d/m.sock\"" "exempt_map = \"$1\"" 'user = "root"' > "$d/c.conf"; }
if mm hash "$d/inv" < "$d/inv.txt"; then
	conf "$d/inv.db"
	out=$(timeout -k 1 10 "$BIN" -n -f "$d/c.conf" 2>&1); rc=$?
	# Skipped with a warning, as the running daemon skips it at reload
	# (tests/map/agree.sh): -n must not fail the next start over it.
	if [ $rc = 0 ] && printf '%s' "$out" | grep -q 'skipping key "198\.51\.100\.0/24"' &&
	    printf '%s' "$out" | grep -q 'configuration OK'; then
		pass "map/check-invalid-entry"
	else
		fail "map/check-invalid-entry" "exit $rc (want 0 with a warning naming 198.51.100.0/24): $(oneline "$out")"
	fi
else
	fail "map/check-invalid-entry" "makemap failed: $(oneline "$(cat "$work/.mmerr")")"
fi
rmap "$d/val" < "$d/val.txt"
conf "$d/val.db"
out=$(timeout -k 1 10 "$BIN" -n -f "$d/c.conf" 2>&1); rc=$?
[ $rc = 0 ] && printf '%s' "$out" | grep -q 'configuration OK' && [ ! -e "$d/m.sock" ] &&
	pass "map/check-valid-per-client" || fail "map/check-valid-per-client" "exit $rc: $(oneline "$out")"
conf "$d/missing.db"
out=$(timeout -k 1 10 "$BIN" -n -f "$d/c.conf" 2>&1); rc=$?
[ $rc = 78 ] && printf '%s' "$out" | grep -Fq "$d/missing.db" &&
	pass "map/check-missing-map" || fail "map/check-missing-map" "exit $rc (want 78 naming the map): $(oneline "$out")"

# The command line: -h/--help on stdout with exit 0, -V/--version, and a
# usage error on stderr with exit 64.
version=$(sed -n 's/^VERSION *:*= *//p' "$here/../../Makefile" 2>/dev/null)
why=
for opt in -h --help; do
	rmap $opt < /dev/null
	[ $rc = 0 ] && [ -z "$err" ] && printf '%s\n' "$out" | grep -q '^usage: ratelimit-map ' ||
		why="$why [$opt: exit $rc, stdout '$(oneline "$out")', stderr '$(oneline "$err")']"
done
[ -z "$why" ] && pass "map/cli-help" || fail "map/cli-help" "want exit 0 and the usage on stdout only:$why"
why=
for opt in -V --version; do
	rmap $opt < /dev/null
	[ -n "$version" ] && [ $rc = 0 ] && [ "$out" = "ratelimit-map $version" ] && [ -z "$err" ] ||
		why="$why [$opt: exit $rc, stdout '$(oneline "$out")', stderr '$(oneline "$err")']"
done
[ -z "$why" ] && pass "map/cli-version" || fail "map/cli-version" "want exit 0 and 'ratelimit-map $version':$why"
why=
for opt in -Z --no-such-option ''; do
	# shellcheck disable=SC2086
	rmap $opt < /dev/null
	[ $rc = 64 ] && [ -z "$out" ] && printf '%s\n' "$err" | grep -q '^usage: ratelimit-map ' ||
		why="$why ['$opt': exit $rc, stdout '$(oneline "$out")', stderr '$(oneline "$err")']"
done
[ -z "$why" ] && pass "map/cli-usage-error" || fail "map/cli-usage-error" "want exit 64 and the usage on stderr only:$why"

# import-access (sendmail's ClientRate: entries) has its own file.
sh "$here/access.sh" "$BIN" || FAILED=$((${FAILED:-0} + 1))
# add/delete and the map's source file.
sh "$here/source.sh" "$BIN" || FAILED=$((${FAILED:-0} + 1))
# One rule for invalid entries: reload and -n agree.
sh "$here/agree.sh" "$BIN" || FAILED=$((${FAILED:-0} + 1))
# -n and the socket's directory.
sh "$here/sockdir.sh" "$BIN" || FAILED=$((${FAILED:-0} + 1))

[ "${FAILED:-0}" = 0 ]
