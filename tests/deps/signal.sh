#!/bin/sh
# deps.sh stopped by SIGHUP, SIGINT or SIGTERM during the install (a
# closed terminal, ^C, a CI timeout): the policy-rc.d it put in place is
# gone, the enable link the install had made is undone, and it exits
# 128 + the signal's number.  dash runs no EXIT trap on a signal without
# a trap of its own, and an INT trap alone ends in status 0.
#
#   sh tests/deps/signal.sh TOP   (root; --names lists the checks)
set -u
top=${1:?usage: tests/deps/signal.sh TOP}
NAMES="signal-hup-cleans-up signal-int-cleans-up signal-term-cleans-up"
. "$top/tests/deps/ns.sh"
deps_start "$0" "$@"

printf '%s\n' /lib/systemd/system/mrl-deps-test.service > "$FAKE/$PKG.list"
# The install: an enable link for the new package's unit, a mark that
# it got there, then a wait the signal cuts short.
cat > "$FAKE/install" <<'INST'
ln -s /lib/systemd/system/mrl-deps-test.service /etc/systemd/system/multi-user.target.wants/
cp /usr/sbin/policy-rc.d "$FAKE/policy.during"
: > "$FAKE/installing"
exec sleep 30
INST
link=/etc/systemd/system/multi-user.target.wants/mrl-deps-test.service

# one NAME SIG STATUS
one() {
	rm -f "$FAKE/installing" "$FAKE/policy.during" "$link" /usr/sbin/policy-rc.d
	# Its own process group, as a terminal's job would be, with SIGINT not
	# ignored (a background job of a script has it ignored).
	env --default-signal=INT setsid sh "$DEPS_SH" "$PKG" > "$W/out" 2>&1 &
	_p=$!
	if ! wait_for 20 test -e "$FAKE/installing"; then
		kill -KILL "-$_p" 2>/dev/null
		wait "$_p"
		fail "deps/$1" "the fake install never started: $(oneline "$(cat "$W/out")")"
		return
	fi
	kill -"$2" "-$_p"
	wait "$_p"
	_rc=$?
	_why=
	[ "$_rc" = "$3" ] || _why="$_why exit $_rc, want $3;"
	grep -q 'exit 101' "$FAKE/policy.during" 2>/dev/null || _why="$_why no refusing policy-rc.d during the install;"
	[ ! -e /usr/sbin/policy-rc.d ] || _why="$_why policy-rc.d left: $(oneline "$(cat /usr/sbin/policy-rc.d)");"
	[ ! -L "$link" ] || _why="$_why enable link left: $link;"
	if [ -z "$_why" ]; then pass "deps/$1"; else fail "deps/$1" "$_why $(oneline "$(cat "$W/out")")"; fi
}
one signal-hup-cleans-up HUP 129
one signal-int-cleans-up INT 130
one signal-term-cleans-up TERM 143
[ "${FAILED:-0}" = 0 ]
