#!/bin/sh
# A snapshot of what `make check` must leave alone, for tests/machine/run.sh.
#
#   sh tests/machine/snap.sh DIR
#
# DIR/packages   the installed packages, "NAME VERSION" a line
# DIR/enabled    the enable links: systemd's (in a .wants or .requires
#                directory under /etc/systemd/system or /etc/systemd/user,
#                with their targets) and the rc start links (/etc/rc?.d/S*),
#                as tests/deps.sh tells them (a mask or an alias enables
#                nothing; DIR/etc has them all)
# DIR/hosts.allow  the sha256 of /etc/hosts.allow, or "absent"
# DIR/hosts.allow.rules  its lines other than comments and blank ones
#                (only when it exists)
# DIR/policy-rc.d  the sha256 of /usr/sbin/policy-rc.d, or "absent"
# DIR/procs      the processes: "PID<TAB>START<TAB>PPID<TAB>COMM<TAB>ARGS"
#                (START: its start time in clock ticks since boot, so that
#                PID and START name one process)
# DIR/etc        every path under /etc: type, mode, owner, and for all but
#                directories the size (a directory's size grows with the
#                entries it once held) and a symlink's target; a regular
#                file's sha256 too.  "PATH<TAB>what", sorted.
# DIR/when       when it was taken
# The Makefile's check target takes one before and one after the deps
# step.  Run as root, it reads every file under /etc; others get
# "unreadable" in place of a checksum.
set -eu
D=${1:?usage: tests/machine/snap.sh DIR}
rm -rf "$D"
mkdir -p "$D"
export LC_ALL=C
dpkg-query -W -f='${db:Status-Status} ${binary:Package} ${Version}\n' | awk '$1 == "installed" { print $2, $3 }' |
    sort > "$D/packages"
{
	find /etc/systemd/system /etc/systemd/user -type l \( -path '*.wants/*' -o -path '*.requires/*' \) \
	    -printf '%p -> %l\n' 2>/dev/null || :
	ls -d /etc/rc?.d/S* 2>/dev/null || :
} | sort > "$D/enabled"
if [ -e /etc/hosts.allow ]; then
	sha256sum < /etc/hosts.allow | cut -d' ' -f1 > "$D/hosts.allow"
	grep -v '^[[:space:]]*\(#\|$\)' /etc/hosts.allow > "$D/hosts.allow.rules" || :
else
	echo absent > "$D/hosts.allow"
fi
if [ -e /usr/sbin/policy-rc.d ]; then
	sha256sum < /usr/sbin/policy-rc.d | cut -d' ' -f1 > "$D/policy-rc.d"
else
	echo absent > "$D/policy-rc.d"
fi
# procs: one line per process; one that ends while we read is skipped.
procs() {
	for _p in /proc/[0-9]*; do
		_st=$(cat "$_p/stat" 2>/dev/null) || continue
		_comm=$(cat "$_p/comm" 2>/dev/null) || continue
		_args=$(tr '\0\t\n' '   ' < "$_p/cmdline" 2>/dev/null) || continue
		# After the comm in parentheses: state ppid ... starttime (the 20th).
		set -- ${_st##*) }
		[ $# -ge 20 ] || continue
		printf '%s\t%s\t%s\t%s\t%s\n' "${_p#/proc/}" "${20}" "$2" "$_comm" "$_args"
	done
}
procs | sort > "$D/procs"
{
	find /etc -type d -printf '%p\t%y %m %u:%g\n' 2>/dev/null || :
	find /etc ! -type d -printf '%p\t%y %m %u:%g %s %l\n' 2>/dev/null || :
	find /etc -type f -readable -exec sha256sum {} + 2>/dev/null |
	    sed 's/^\([0-9a-f]*\)  \(.*\)$/\2\tsha256 \1/' || :
	find /etc -type f ! -readable -printf '%p\tunreadable\n' 2>/dev/null || :
} | sort > "$D/etc"
date -u '+%Y-%m-%d %H:%M:%S UTC' > "$D/when"
