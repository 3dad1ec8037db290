#!/bin/sh
# The throwaway root of the deb suite, run by run.sh as root inside
# `unshare -m --propagation private`: nothing mounted here is seen outside,
# and everything goes when the namespace's last process ends.
#
#   root.sh CHECK...      (install conffiles map enabled service upgrade remove purge premap)
#
# / is mounted again as the lower layer of an overlayfs whose upper layer
# (and work directory) live on a tmpfs of this namespace: the merged tree M
# is this machine's own system, and every write there (dpkg's database,
# /etc, /var) lands in the upper layer only.  M gets its own /proc, the
# machine's /dev, and tmpfs /run and /tmp (no /run/systemd/system: the
# maintainer scripts start and stop nothing; the service is started by
# t-service the way the unit would).  Each t-CHECK.sh is sourced in turn
# and prints one PASS or FAIL; later ones work on what earlier ones left.
set -u
here=$MRL_DEB_HERE
. "$here/../lib.sh"

R=$MRL_DEB_WORK/root
M=$R/merged
UPPER=$R/upper
SYSTEMD_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# inroot CMD...: CMD in the throwaway root, as root, with a clean environment.
inroot() { chroot "$M" env -i PATH=$SYSTEMD_PATH LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
# status: dpkg's status of the package in the throwaway root.
status() { inroot dpkg-query -W -f='${Status} ${Version}' milter-ratelimit 2>/dev/null; }
# upper_list: what the upper layer holds (changes against the machine),
# files and links (whiteouts, the deletions, show as character devices).
upper_list() { (cd "$UPPER" && find . -mindepth 1 ! -type d | sed 's,^\.,,' | sort); }

dpid=
stop_daemon() {
	[ -n "$dpid" ] || return 0
	kill -TERM "$dpid" 2>/dev/null
	# libmilter needs up to 5 s to leave its accept loop (the unit allows 15).
	wait_for 15 sh -c "! kill -0 $dpid" || kill -KILL "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	dpid=
}
trap 'stop_daemon' EXIT
trap 'exit 130' INT TERM

setup() {
	mkdir -p "$R" &&
	mount -t tmpfs -o mode=0755 mrl-deb "$R" &&
	mkdir "$UPPER" "$R/work" "$M" &&
	mount -t overlay mrl-deb -o "lowerdir=/,upperdir=$UPPER,workdir=$R/work" "$M" &&
	mount -t proc proc "$M/proc" &&
	mount --rbind /dev "$M/dev" &&
	mount -t tmpfs -o mode=0755 tmpfs "$M/run" &&
	mount -t tmpfs -o mode=1777 tmpfs "$M/tmp" || return 1
	# A machine that never had the package: whatever of it this one has
	# (a make install, an installed package) is taken away in the copy.
	if status | grep -q 'ok installed\|config-files'; then
		inroot dpkg --purge milter-ratelimit > /dev/null 2>&1 || return 1
	fi
	if inroot getent passwd milter-ratelimit > /dev/null; then
		inroot userdel milter-ratelimit || return 1
	fi
	if inroot getent group milter-ratelimit > /dev/null; then
		inroot groupdel milter-ratelimit || return 1
	fi
	rm -rf "$M/etc/milter-ratelimit.conf" "$M/etc/mail/ratelimit-exempt" \
	    "$M/etc/mail/ratelimit-exempt.db" "$M/usr/sbin/milter-ratelimit" \
	    "$M/usr/sbin/ratelimit-map" "$M/lib/systemd/system/milter-ratelimit.service" \
	    "$M/etc/systemd/system/multi-user.target.wants/milter-ratelimit.service"
	# A Postfix host's spool, where the unit's ExecStartPre= makes the
	# socket directory (on the baseline below: not the package's).
	[ -d "$M/var/spool/postfix" ] || mkdir -p "$M/var/spool/postfix"
	cp "$DEB" "$M/tmp/" || return 1
}
if ! setup > "$MRL_DEB_WORK/setup.log" 2>&1; then
	for t in "$@"; do
		fail "deb/$t" "the throwaway root could not be set up: $(tail -n 3 "$MRL_DEB_WORK/setup.log" | tr '\n' ' ')"
	done
	exit 1
fi
upper_list > "$MRL_DEB_WORK/upper.before"

for t in "$@"; do
	. "$here/t-$t.sh"
done
stop_daemon
