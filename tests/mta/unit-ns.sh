#!/bin/sh
# Runs a command the way conf/milter-ratelimit.service runs the daemon, as
# far as the file system and the user go: inside a private mount namespace
# (run.sh starts us under `unshare -m --propagation private`) where every
# mount is read-only, as ProtectSystem=strict makes it, except the
# directories the unit names in ReadWritePaths=, then as the unit's user
# with its groups (User=, Group=; systemd sets the supplementary groups of
# the user too).
#
#   unit-ns.sh USER RWDIR... -- COMMAND [ARG...]
#
# An RWDIR that does not exist is skipped, as systemd does with a "-" path.
# Before it runs COMMAND it proves the sandbox is real: root inside it
# cannot create a file beside the first RWDIR.
set -eu
user=$1
shift
rw=
while [ $# -gt 0 ] && [ "$1" != "--" ]; do rw="$rw $1"; shift; done
[ "${1:-}" = "--" ] || { echo "usage: unit-ns.sh USER RWDIR... -- CMD" >&2; exit 64; }
shift
# Every mount but the kernel's API file systems, read-only.  Mount points
# with escaped characters (\040) are left alone; test machines have none
# that matter.
findmnt -rn -o TARGET | while read -r mp; do
	case $mp in /proc|/proc/*|/sys|/sys/*|/dev|/dev/*|*\\*) continue ;; esac
	mount -o remount,bind,ro "$mp" 2>/dev/null || [ "$mp" != / ]
done
for d in $rw; do
	[ -d "$d" ] || continue
	mount --bind "$d" "$d"
	mount -o remount,bind,rw "$d"
done
first=${rw# }
first=${first%% *}
probe=$(dirname "$first")/.unit-ns-probe.$$
if touch "$probe" 2>/dev/null; then
	rm -f "$probe"
	echo "unit-ns: $(dirname "$first") is writable: the sandbox is not read-only" >&2
	exit 70
fi
exec setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"
