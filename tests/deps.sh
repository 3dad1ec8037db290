#!/bin/sh
# Install the Debian packages named on the command line that are missing,
# and change nothing else about the machine:
#  - nothing is removed: apt's plan is simulated first (apt-get -s) and,
#    when it would remove a package (sendmail-bin and postfix conflict,
#    for one), we stop with the names and install nothing; the install
#    itself runs with --no-remove as well;
#  - nothing is started or restarted: a policy-rc.d that refuses every
#    start is in place during the install (unless the machine has its
#    own), and needrestart is suspended (NEEDRESTART_SUSPEND);
#  - upgrades are named: installing a package may upgrade an installed
#    library, as `apt-get install` does; each is printed, old -> new,
#    before the install;
#  - nothing is left enabled: the systemd enable links (in a .wants or
#    .requires directory under /etc/systemd/system or /etc/systemd/user)
#    and rc start links (/etc/rc?.d/S*) the install made for the units and
#    init scripts of the packages it newly installed are undone (the links
#    removed, as `systemctl disable` does; `update-rc.d NAME disable` for
#    init scripts, which a later upgrade of the package respects); masks,
#    aliases and links to anything else are left alone;
#  - all of that holds when the install fails half way or deps.sh gets
#    SIGHUP, SIGINT or SIGTERM: the cleanup runs, and the exit status is
#    apt-get's, or 128 + the signal's number;
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
# Upgrades of installed packages are not refused: a fresh image is older
# than the archive, and installing a -dev package upgrades its library
# as `apt-get install` does.  They are named, old -> new, before anything
# happens ("Inst NAME [OLD] (NEW ...)" in apt's plan).
upgrades=$(printf '%s\n' "$plan" | sed -n 's/^Inst \([^ ]*\) \[\([^]]*\)\] (\([^ ]*\) .*/\1 \2 -> \3/p')
# The packages this run installs anew ("Inst NAME (NEW ...)"): only what
# they ship is undone below.
fresh=$(printf '%s\n' "$plan" | sed -n 's/^Inst \([^ []*\) (.*/\1/p')
if [ -n "$admindir" ]; then
	echo "deps.sh: would install (simulated on $admindir):" \
	    $(printf '%s\n' "$plan" | sed -n 's/^Inst \([^ ]*\).*/\1/p')
	[ -z "$upgrades" ] || printf 'deps.sh: would upgrade %s\n' "$upgrades"
	exit 0
fi

echo "deps.sh: installing$missing"
[ -z "$upgrades" ] || printf 'deps.sh: upgrading %s\n' "$upgrades"
# links LIST-FILE: the enable links there are now, one per line: systemd's
# (in a .wants or .requires directory) and the rc start links.  Masks
# (-> /dev/null) and aliases are not enable links.
links() {
	{
		find /etc/systemd/system /etc/systemd/user -type l \
		    \( -path '*.wants/*' -o -path '*.requires/*' \) 2>/dev/null || :
		ls -d /etc/rc?.d/S* 2>/dev/null || :
	} | sort > "$1"
}
# unit_path PATH: PATH without a leading /usr, so that /lib/systemd/...
# and /usr/lib/systemd/... (merged /usr) compare equal.
unit_path() { printf '%s\n' "$1" | sed 's,^/usr/,/,'; }

# undo: remove the enable links the install made for what it newly
# installed, and only those: a new link in a .wants/.requires directory
# pointing at a unit file a newly installed package ships (never a link
# to /dev/null), and the S links of an init script one ships.  Anything
# else new (an admin's link made meanwhile, a mask, an alias) stays.
undo() {
	links "$tmp/links.after"
	comm -13 "$tmp/links.before" "$tmp/links.after" > "$tmp/links.new"
	[ -s "$tmp/links.new" ] || return 0
	: > "$tmp/shipped"
	for p in $fresh; do
		dpkg -L "$p" 2>/dev/null | while read -r f; do unit_path "$f"; done >> "$tmp/shipped" || :
	done
	: > "$tmp/undone"
	while read -r l; do
		case $l in
		/etc/rc?.d/S*)
			n=$(basename "$l" | sed 's/^S[0-9]*//')
			grep -qxF "/etc/init.d/$n" "$tmp/shipped" || continue
			echo "deps.sh: not enabling the init script $n (update-rc.d $n disable)"
			update-rc.d "$n" disable < /dev/null > /dev/null 2>&1 || rm -f "$l"
			;;
		*)
			t=$(readlink "$l") || continue
			[ "$t" != /dev/null ] || continue
			case $t in
			/*) ;;
			*) t=${l%/*}/$t ;;
			esac
			grep -qxF "$(unit_path "$t")" "$tmp/shipped" || continue
			echo "deps.sh: not enabling $l"
			rm -f "$l"
			# The .wants directory too, when the install made it.
			d=${l%/*}
			grep -qxF "$d" "$tmp/dirs.before" || rmdir "$d" 2>/dev/null || :
			;;
		esac
		echo "$l" >> "$tmp/undone"
	done < "$tmp/links.new"
	left=
	while read -r l; do
		[ ! -e "$l" ] && [ ! -L "$l" ] || left="$left $l"
	done < "$tmp/undone"
	[ -z "$left" ] || { echo "deps.sh: still enabled after the install:$left" >&2; return 1; }
}

tmp=$(mktemp -d)
policy=
undo_due=
# One cleanup, however deps.sh ends: a failed install, an error, or a
# signal (dash runs no EXIT trap on a signal it has no trap for, and a
# trapped one would otherwise end with status 0): the policy-rc.d we put
# there goes, the enable links are undone, and a signal ends in a
# non-zero status.
cleanup() {
	rc=$?
	set +e
	trap '' HUP INT TERM
	if [ -n "$undo_due" ]; then
		undo || [ $rc != 0 ] || rc=1
	fi
	[ -z "$policy" ] || rm -f /usr/sbin/policy-rc.d
	rm -rf "$tmp"
	exit $rc
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
if [ ! -e /usr/sbin/policy-rc.d ]; then
	policy=1
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
fi
links "$tmp/links.before"
find /etc/systemd/system /etc/systemd/user -type d 2>/dev/null | sort > "$tmp/dirs.before"
undo_due=1
# A dotted host name for the install (some packages' scripts stall on a
# bare one), in a private mount namespace: /etc/hosts itself is untouched
# (and not created where there is none).  needrestart (when installed)
# restarts nothing: NEEDRESTART_SUSPEND.
printf '127.0.0.1 localhost\n127.0.1.1 %s.localdomain %s\n::1 localhost ip6-localhost\n' \
	"$(hostname)" "$(hostname)" > "$tmp/hosts"
st=0
DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 unshare -m --propagation private sh -c \
	'{ [ ! -e /etc/hosts ] || mount --bind "$1" /etc/hosts; } && shift && apt-get install -y -q --no-remove \
	    --no-install-recommends -o Dpkg::Options::=--force-confdef \
	    -o Dpkg::Options::=--force-confold "$@"' \
	sh "$tmp/hosts" $missing || st=$?
[ $st = 0 ] || echo "deps.sh: apt-get install failed (status $st); undoing its enable links" >&2
exit $st
