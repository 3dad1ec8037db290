#!/bin/sh
# The map suite, part 5: milter-ratelimit -n checks the socket's directory
# for the run user (user = "nobody" here): it must exist (a start would
# fail with exit 71), the user must be able to search every directory
# above it, and to write and search it (the daemon creates the socket
# there when not started as root, as under systemd, and removes it at
# exit).  Run as root, root creates the socket, so what only the user
# lacks is a warning.
#
#   sh tests/map/sockdir.sh PATH/TO/milter-ratelimit
#
# Needs root (chown, setpriv to nobody).  Every command is bounded.
set -u
BIN=${1:?usage: tests/map/sockdir.sh PATH/TO/milter-ratelimit}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"

[ "$(id -u)" = 0 ] || { fail "map/sockdir: setup" "must run as root"; exit 1; }
command -v setpriv >/dev/null 2>&1 || { fail "map/sockdir: setup" "no setpriv (util-linux)"; exit 1; }
BIN=$(readlink -f "$BIN")
ng=$(id -gn nobody)

# Under /run: every directory above is searchable by everyone.
work=$(mktemp -d /run/mrl-sockdir.XXXXXX) || exit 1
chmod 0755 "$work"
cleanup() { [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

oneline() { printf '%s' "$1" | tr '\n\t' '  ' | cut -c1-600; }
# check AS SOCKETDIR: -n as root or as nobody; $out, $rc.
check() {
	printf '%s\n' "socket = \"unix:$2/m.sock\"" 'user = "nobody"' > "$work/c.conf"
	chmod 0644 "$work/c.conf"
	if [ "$1" = root ]; then
		out=$(timeout -k 1 10 "$BIN" -n -f "$work/c.conf" 2>&1); rc=$?
	else
		out=$(timeout -k 1 10 setpriv --reuid=nobody --regid="$ng" --init-groups \
		    "$BIN" -n -f "$work/c.conf" 2>&1); rc=$?
	fi
}
# expect NAME AS DIR RC ERE: -n exits RC and its output matches ERE.
expect() {
	check "$2" "$3"
	if [ $rc = "$4" ] && printf '%s' "$out" | grep -Eq -- "$5"; then
		pass "map/sockdir: $1"
	else
		fail "map/sockdir: $1" "exit $rc (want $4, output matching /$5/): $(oneline "$out")"
	fi
}

mkdir -m 0755 "$work/rootdir"
mkdir -m 0750 "$work/own" && chown nobody "$work/own"
mkdir -m 0770 "$work/grp" && chgrp "$ng" "$work/grp"
# Group bits decide for a member, never the others bits (0707).
mkdir -m 0707 "$work/others" && chgrp "$ng" "$work/others"
mkdir -m 0700 "$work/closed" && mkdir -m 0777 "$work/closed/in"
touch "$work/file"

expect 'missing directory is an error (root)' root "$work/none" 78 "$work/none does not exist"
expect 'missing directory is an error (user)' nobody "$work/none" 78 "$work/none does not exist"
expect 'a file, not a directory, is an error' root "$work/file" 78 "$work/file is not a directory"
expect 'user-owned 0750 directory is fine (user)' nobody "$work/own" 0 '^configuration OK$'
expect 'user-owned 0750 directory is fine (root)' root "$work/own" 0 '^configuration OK$'
expect 'group-writable directory is fine (root)' root "$work/grp" 0 '^configuration OK$'
expect 'group-writable directory is fine (user)' nobody "$work/grp" 0 '^configuration OK$'
expect 'root-owned 0755 directory: error for the user' nobody "$work/rootdir" 78 'cannot write to the socket.s directory'
expect 'root-owned 0755 directory: warning for root' root "$work/rootdir" 0 'warning: user nobody cannot write.*left behind at exit'
expect 'group bits decide, not others (0707)' nobody "$work/others" 78 'cannot write'
# (As the user, the directory cannot even be examined: the kernel says so.)
expect 'a directory above it that the user cannot search (user)' nobody "$work/closed/in" 78 "$work/closed/in cannot be examined \\(Permission denied\\)"
expect 'a directory above it that the user cannot search (root)' root "$work/closed/in" 0 "warning: .*no search permission on $work/closed "

# The verdict matches a real start as the user: the start fails where -n
# said so, and works where -n said OK.
# start_as_user DIR: the daemon as nobody; "up" once its socket exists,
# else its exit status.  Stopped with SIGTERM (bounded).
sock_or_dead() { [ -S "$1" ] || ! kill -0 "$2" 2>/dev/null; }
start_as_user() {
	printf '%s\n' "socket = \"unix:$1/m.sock\"" 'user = "nobody"' > "$work/s.conf"
	setpriv --reuid=nobody --regid="$ng" --init-groups "$BIN" -d -f "$work/s.conf" \
	    > "$work/s.log" 2>&1 &
	_p=$!
	wait_for 10 sock_or_dead "$1/m.sock" $_p
	if [ -S "$1/m.sock" ] && kill -0 $_p 2>/dev/null; then
		echo up
		kill -TERM $_p
		wait_for 10 sh -c "! kill -0 $_p 2>/dev/null" || kill -KILL $_p
		wait $_p 2>/dev/null
	else
		wait $_p
		echo $?
	fi
}
why=
r=$(start_as_user "$work/rootdir"); [ "$r" = 71 ] || why="$why rootdir: start gave '$r' (want exit 71);"
r=$(start_as_user "$work/own"); [ "$r" = up ] || why="$why own: start gave '$r' (want up): $(oneline "$(cat "$work/s.log")");"
[ -z "$why" ] && pass "map/sockdir: the start agrees with -n" || fail "map/sockdir: the start agrees with -n" "$why"

# Not a unix socket: nothing to check.
printf '%s\n' 'socket = "inet:12345@127.0.0.1"' 'user = "nobody"' > "$work/c.conf"
out=$(timeout -k 1 10 "$BIN" -n -f "$work/c.conf" 2>&1); rc=$?
[ $rc = 0 ] && [ "$out" = "configuration OK" ] && pass "map/sockdir: inet socket not checked" ||
	fail "map/sockdir: inet socket not checked" "exit $rc: $(oneline "$out")"

[ "${FAILED:-0}" = 0 ]
