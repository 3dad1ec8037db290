#!/bin/sh
# Packaging checks: install/uninstall under DESTDIR and PREFIX, an
# existing config survives install, man pages lint clean, a build with
# dpkg-buildflags' CPPFLAGS/CFLAGS/LDFLAGS keeps them and ours.
# Usage: tests/build/run.sh BINARY (the binary is not used; make builds).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
plan 22
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

out=$(make -s -C "$top" install DESTDIR="$stage" PREFIX=/usr 2>&1)
for f in usr/sbin/milter-ratelimit usr/sbin/ratelimit-map usr/sbin/ratelimit-ctl \
    usr/share/man/man8/ratelimit-ctl.8 \
    usr/share/man/man8/milter-ratelimit.8 usr/share/man/man8/ratelimit-map.8 \
    usr/share/man/man5/milter-ratelimit.conf.5 etc/milter-ratelimit.conf \
    etc/mail/ratelimit-exempt; do
	if [ -f "$stage/$f" ]; then pass "install puts $f"; else fail "install puts $f" "missing; make said: $out"; fi
done
check "installed binary runs" "$stage/usr/sbin/milter-ratelimit" -V

echo 'limit = 3  # the admin edited this' > "$stage/etc/milter-ratelimit.conf"
make -s -C "$top" install DESTDIR="$stage" PREFIX=/usr >/dev/null 2>&1
if grep -q 'admin edited' "$stage/etc/milter-ratelimit.conf"; then
	pass "install keeps an existing config"
else
	fail "install keeps an existing config" "it was overwritten"
fi

make -s -C "$top" uninstall DESTDIR="$stage" PREFIX=/usr >/dev/null 2>&1
left=$(cd "$stage" && find . -type f | sort | tr '\n' ' ')
if [ "$left" = "./etc/milter-ratelimit.conf " ]; then
	pass "uninstall removes what install put, keeps the edited config"
else
	fail "uninstall removes what install put, keeps the edited config" "left: $left"
fi

check "man pages are clean under mandoc -Tlint" mandoc -Tlint -W warning \
	"$top"/man/*.[58]

# make run, as a newcomer runs it with the project cloned under /root:
# root's 0700 home above the checkout, the daemon dropping to nobody.  A
# stop (SIGTERM to the daemon) must end cleanly: make exits 0, nothing
# says "cannot remove", no socket is left in ./run, and ./run stays root's.
T=build/make-run-ends-clean
if [ "$(id -u)" != 0 ]; then
	skip "$T" "needs root (make run drops to nobody only when started as root)"
else
	home=$stage/roothome
	mkdir -m 0700 "$home"
	co=$home/milter-ratelimit
	mkdir "$co"
	# The checkout, and the build this suite was given as an up-to-date
	# build/ (mtimes kept: make only copies the binaries).
	cp -a "$top/Makefile" "$top/src" "$top/include" "$top/conf" "$top/man" \
	    "$top/tests" "$top/bench" "$co"/
	cp -a "$(dirname "$1")" "$co/build"
	( cd "$co" && timeout -k 5 120 make run > "$home/out" 2>&1; echo $? > "$home/status" ) &
	run_up() { [ -S "$co/run/milter-ratelimit.sock" ] && grep -q ' started ' "$home/out"; }
	run_exited() { [ -e "$home/status" ]; }
	wait_for 90 run_up
	dpid=$(sed -n 's/^milter-ratelimit\[\([0-9]*\)\]: started .*/\1/p' "$home/out" | head -n 1)
	if ! run_up || [ -z "$dpid" ]; then
		fail "$T" "not up within 90 s (status $(cat "$home/status" 2>/dev/null)): $(tail -n 5 "$home/out" | tr '\n' ' ')"
	else
		kill -TERM "$dpid"
		wait_for 20 run_exited
		why=
		st=$(cat "$home/status" 2>/dev/null)
		[ "$st" = 0 ] || why="$why make run exited '$st' (want 0);"
		grep -q 'cannot remove' "$home/out" && why="$why it said: $(grep 'cannot remove' "$home/out" | head -n 1);"
		grep -q ': stopped$' "$home/out" || why="$why no 'stopped' line;"
		[ -e "$co/run/milter-ratelimit.sock" ] && why="$why the socket is left in ./run;"
		[ "$(stat -c %U:%a "$co/run")" = root:755 ] || why="$why ./run is $(stat -c %U:%a "$co/run"), want root:755;"
		[ -z "$why" ] && pass "$T" || fail "$T" "$why $(tail -n 3 "$home/out" | tr '\n' ' ')"
	fi
	run_exited || kill -TERM "$dpid" 2>/dev/null
	wait
fi

# A checkout whose path carries shell and sed syntax: make run pasted it
# into a sed script (GNU sed's e flag ran a command as root; & corrupted
# the config) and into the recipe's shell.  It must be written, escaped,
# as a libconfuse string: the daemon comes up on the socket inside it and
# no command ran.  Then a ./run that is a symlink to another user's
# directory, and a ./run that is another user's directory: root must
# refuse both before writing anything there.
# make_run DIR: make run in DIR, bounded, in the background;
# $DIR.out, $DIR.status.
make_run() {
	( cd "$1" && timeout -k 5 120 make run > "$1.out" 2>&1; echo $? > "$1.status" ) &
}
# stop_make_run DIR: stop a daemon make run may have started there.
stop_make_run() {
	_p=$(sed -n 's/^milter-ratelimit\[\([0-9]*\)\]: started .*/\1/p' "$1.out" | head -n 1)
	[ -n "$_p" ] && [ ! -e "$1.status" ] && kill -TERM "$_p" 2>/dev/null
	_e() { [ -e "$1.status" ]; }
	wait_for 30 _e "$1"
}
stage_checkout() {
	mkdir -p "$1"
	cp -a "$top/Makefile" "$top/src" "$top/include" "$top/conf" "$top/man" \
	    "$top/tests" "$top/bench" "$1"/
	cp -a "$build_dir" "$1/build"
}
build_dir=$(dirname "$1")
T=build/make-run-path-is-data
if [ "$(id -u)" != 0 ]; then
	skip "$T" "needs root (the injection ran as root)"
else
	# Short: the socket's path must fit in sun_path.  The commands run,
	# if they run, in the checkout (make's directory).
	co="$stage/i/a\";touch P;#|e;#/R&D \"q\\b'x'\$(touch Q)"
	stage_checkout "$co"
	make_run "$co"
	inj_up() { [ -S "$co/run/milter-ratelimit.sock" ] || [ -e "$co.status" ]; }
	wait_for 90 inj_up
	why=
	[ -S "$co/run/milter-ratelimit.sock" ] || why="$why no socket in the checkout's ./run (status $(cat "$co.status" 2>/dev/null));"
	[ -e "$co/P" ] || [ -e "$co/Q" ] && why="$why the path ran a command;"
	stop_make_run "$co"
	[ "$(cat "$co.status" 2>/dev/null)" = 0 ] || why="$why make run exited '$(cat "$co.status" 2>/dev/null)' (want 0);"
	[ -z "$why" ] && pass "$T" || fail "$T" "$why $(tail -n 3 "$co.out" | tr '\n' ' ')"
fi

for kind in symlink foreign; do
	T=build/make-run-refuses-$kind-run
	if [ "$(id -u)" != 0 ]; then
		skip "$T" "needs root"
		continue
	fi
	co=$stage/$kind/co
	victim=$stage/$kind/victim
	stage_checkout "$co"
	mkdir -m 1777 "$victim"
	chown nobody "$victim"
	if [ $kind = symlink ]; then ln -s "$victim" "$co/run"; else mkdir "$co/run"; chown nobody "$co/run"; dir=$co/run; fi
	[ $kind = symlink ] && dir=$victim
	make_run "$co"
	ex() { [ -e "$co.status" ]; }
	wait_for 60 ex
	stop_make_run "$co"
	why=
	st=$(cat "$co.status" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != 0 ] || why="$why make run exited '$st' (want a refusal);"
	[ "$(stat -c %U "$dir")" = nobody ] || why="$why $dir became $(stat -c %U:%a "$dir");"
	[ -e "$dir/milter-ratelimit.conf" ] && why="$why a config was written into $dir;"
	grep -q "make run: ./run is" "$co.out" || why="$why no clear refusal;"
	[ -z "$why" ] && pass "$T" || fail "$T" "$why $(tail -n 3 "$co.out" | tr '\n' ' ')"
done

# make check runs check-deps first, which writes $(B)/machine: a build
# directory that exists without its tests/ must still get the unit tests
# built (a fresh clone on CI: every link failed with "cannot open output
# file build/tests/test_addr").
bd=$stage/b-machine-first
mkdir -p "$bd/machine"
if out=$(make -C "$top" -j2 B="$bd" units 2>&1) && [ -x "$bd/tests/test_addr" ]; then
	pass "build/units-build-when-build-dir-exists"
else
	fail "build/units-build-when-build-dir-exists" "$(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
fi

# A Debian package build passes dpkg-buildflags' values: CPPFLAGS carries
# -D_FORTIFY_SOURCE=2, LDFLAGS -Wl,-z,relro.  Every compile line must have
# the first, every link line the second, and the user's CFLAGS must not
# drop the flags the build needs (-std, -pthread, pkg-config's cflags).
# A scratch build directory: the tree's own build stays as it is.
bf=$stage/buildflags
if ! command -v dpkg-buildflags >/dev/null 2>&1; then
	for n in cppflags-on-every-compile ldflags-on-every-link needed-flags-kept fortified-binary; do
		fail "build/dpkg-buildflags-$n" "dpkg-buildflags not found (apt-get install dpkg-dev)"
	done
else
	cpp=$(dpkg-buildflags --get CPPFLAGS) cfl=$(dpkg-buildflags --get CFLAGS)
	ldf=$(dpkg-buildflags --get LDFLAGS)
	pc=$(pkg-config --cflags milter libconfuse 2>/dev/null)
	out=$(make -C "$top" B="$bf" CPPFLAGS="$cpp" CFLAGS="$cfl" LDFLAGS="$ldf" WERROR=1 \
	    binaries units 2>&1)
	brc=$?
	cc_lines=$(printf '%s\n' "$out" | grep -E '^[^ ]*(cc|gcc|clang)(-[0-9]+)? ')
	# A compile line names a .c file (the unit tests compile and link in
	# one); a link line has -o and no -c.
	compiles=$(printf '%s\n' "$cc_lines" | grep -cE '\.c( |$)')
	links=$(printf '%s\n' "$cc_lines" | grep -v -- ' -c ' | grep -c -- ' -o ')
	# Debian's flags, ours and pkg-config's on each line of a kind.
	lacking() {
		printf '%s\n' "$cc_lines" | grep -E -- "$1" | while IFS= read -r _l; do
			for _f in $2; do
				case " $_l " in *" $_f "*) ;; *) echo "$_f missing from: $(echo "$_l" | cut -c1-160)" ;; esac
			done
		done | head -n 3
	}
	nsrc=$(ls "$top"/src/*.c | wc -l)
	if [ $brc != 0 ] || [ "$compiles" -lt "$nsrc" ]; then
		why="make with dpkg-buildflags exited $brc after $compiles compile lines (want >= $nsrc): $(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
		for n in cppflags-on-every-compile ldflags-on-every-link needed-flags-kept fortified-binary; do
			fail "build/dpkg-buildflags-$n" "$why"
		done
	else
		m=$(lacking '\.c( |$)' "$cpp")
		[ -z "$m" ] && pass "build/dpkg-buildflags-cppflags-on-every-compile" ||
			fail "build/dpkg-buildflags-cppflags-on-every-compile" "$compiles compile lines; $(echo "$m" | tr '\n' ' ')"
		m=$(printf '%s\n' "$cc_lines" | grep -v -- ' -c ' | grep -- ' -o ' | while IFS= read -r _l; do
			for _f in $ldf -pthread; do
				case " $_l " in *" $_f "*) ;; *) echo "$_f missing from: $(echo "$_l" | cut -c1-160)" ;; esac
			done
		done | head -n 3)
		[ "$links" -ge 2 ] && [ -z "$m" ] && pass "build/dpkg-buildflags-ldflags-on-every-link" ||
			fail "build/dpkg-buildflags-ldflags-on-every-link" "$links link lines; $(echo "$m" | tr '\n' ' ')"
		m=$(lacking '\.c( |$)' "-std=gnu11 -pthread -Wall -Wextra -Werror $pc $cfl")
		[ -z "$m" ] && pass "build/dpkg-buildflags-needed-flags-kept" ||
			fail "build/dpkg-buildflags-needed-flags-kept" "$(echo "$m" | tr '\n' ' ')"
		# _FORTIFY_SOURCE took effect: the checking variants of the
		# string and stdio calls are linked (__stack_chk_fail comes from
		# -fstack-protector, not from fortify).
		n=$(nm -D "$bf/milter-ratelimit" 2>/dev/null | grep '__[a-z_]*_chk' | grep -vc stack_chk)
		[ "$n" -gt 0 ] && pass "build/dpkg-buildflags-fortified-binary" ||
			fail "build/dpkg-buildflags-fortified-binary" "no __*_chk symbol in $bf/milter-ratelimit (nm -D)"
	fi
fi
