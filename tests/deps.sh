#!/bin/sh
# Install the Debian packages named on the command line that are missing,
# and change nothing else about the machine:
#  - nothing is removed: apt's plan is simulated first (apt-get -s) and,
#    when it would remove a package (sendmail-bin and postfix conflict,
#    for one), we stop with the names and install nothing; the install
#    itself runs with --no-remove as well;
#  - nothing is started: a policy-rc.d that refuses every start is in
#    place during the install (unless the machine has its own);
#  - nothing is left enabled: every systemd enable link (under
#    /etc/systemd/system and /etc/systemd/user) and every rc start link
#    (/etc/rc?.d/S*) the install created is undone (the links removed, as
#    `systemctl disable` does; `update-rc.d NAME disable` for init
#    scripts, which a later upgrade of the package respects);
#  - an existing configuration file is kept (--force-confold).
# The test MTAs, rsyslogd and fail2ban are never installed: the suites run
# them from unpacked packages (tests/pkgroot.sh, tests/pkgbin.sh).
#
#   sh tests/deps.sh PKG...
#   DEPS_ADMINDIR=DIR sh tests/deps.sh PKG...
#
# With DEPS_ADMINDIR, nothing is installed: the packages are checked
# against the dpkg database DIR (DIR/status, as `dpkg --admindir`) and
# apt's plan for them is only simulated, with the same refusal when it
# would remove anything (tests/deps/run.sh uses it on made-up systems).
# Exit 0 when everything is there or was installed; 1 otherwise.
set -eu
admindir=${DEPS_ADMINDIR:-}
missing=
for p in "$@"; do
	dpkg-query ${admindir:+--admindir="$admindir"} -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q '^install ok installed$' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ -z "$admindir" ] && [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing; run as root or install them" >&2
	exit 1
fi
# apt needs lists: on a fresh machine there may be none yet.
if [ -z "$(ls /var/lib/apt/lists/ 2>/dev/null | grep -v -e lock -e partial)" ]; then
	[ -z "$admindir" ] || { echo "deps.sh: no apt lists (apt-get update)" >&2; exit 1; }
	apt-get update -q
fi

# apt's plan, simulated: what it would install and what it would remove.
plan=$(apt-get -s -q ${admindir:+-o Dir::State::status="$admindir/status"} \
    install --no-install-recommends $missing 2>&1) || {
	printf '%s\n' "$plan" >&2
	echo "deps.sh: apt cannot install$missing (above); nothing installed" >&2
	exit 1
}
removed=$(printf '%s\n' "$plan" | sed -n 's/^\(Remv\|Purg\) \([^ ]*\).*/\2/p' | sort -u | tr '\n' ' ')
if [ -n "$removed" ]; then
	echo "deps.sh: installing$missing would REMOVE: $removed" >&2
	echo "deps.sh: nothing installed; this machine's packages stay as they are." >&2
	echo "deps.sh: install the others by hand, or run the tests on a machine without $removed" >&2
	exit 1
fi
if [ -n "$admindir" ]; then
	echo "deps.sh: would install (simulated on $admindir):" \
	    $(printf '%s\n' "$plan" | sed -n 's/^Inst \([^ ]*\).*/\1/p')
	exit 0
fi

echo "deps.sh: installing$missing"
# links LIST-FILE: the enable links there are now, one per line.
links() {
	{
		find /etc/systemd/system /etc/systemd/user -type l 2>/dev/null
		ls -d /etc/rc?.d/S* 2>/dev/null || :
	} | sort > "$1"
}
tmp=$(mktemp -d)
policy=
cleanup() {
	[ -z "$policy" ] || rm -f /usr/sbin/policy-rc.d
	rm -rf "$tmp"
}
trap cleanup EXIT
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	policy=1
fi
links "$tmp/links.before"
find /etc/systemd/system /etc/systemd/user -type d 2>/dev/null | sort > "$tmp/dirs.before"
# A dotted host name for the install (some packages' scripts stall on a
# bare one), in a private mount namespace: /etc/hosts itself is untouched
# (and not created where there is none).
printf '127.0.0.1 localhost\n127.0.1.1 %s.localdomain %s\n::1 localhost ip6-localhost\n' \
	"$(hostname)" "$(hostname)" > "$tmp/hosts"
DEBIAN_FRONTEND=noninteractive unshare -m --propagation private sh -c \
	'{ [ ! -e /etc/hosts ] || mount --bind "$1" /etc/hosts; } && shift && apt-get install -y -q --no-remove \
	    --no-install-recommends -o Dpkg::Options::=--force-confdef \
	    -o Dpkg::Options::=--force-confold "$@"' \
	sh "$tmp/hosts" $missing
links "$tmp/links.after"

# Undo every enable link the install made.
comm -13 "$tmp/links.before" "$tmp/links.after" > "$tmp/links.new"
while read -r l; do
	case $l in
	/etc/rc?.d/S*)
		n=$(basename "$l" | sed 's/^S[0-9]*//')
		echo "deps.sh: not enabling the init script $n (update-rc.d $n disable)"
		update-rc.d "$n" disable < /dev/null > /dev/null 2>&1 || rm -f "$l"
		;;
	*)
		echo "deps.sh: not enabling $l"
		rm -f "$l"
		# The .wants directory too, when the install made it.
		d=${l%/*}
		grep -qxF "$d" "$tmp/dirs.before" || rmdir "$d" 2>/dev/null || :
		;;
	esac
done < "$tmp/links.new"
links "$tmp/links.final"
left=$(comm -13 "$tmp/links.before" "$tmp/links.final" | tr '\n' ' ')
[ -z "$left" ] || { echo "deps.sh: still enabled after the install: $left" >&2; exit 1; }
