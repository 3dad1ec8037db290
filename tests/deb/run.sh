#!/bin/sh
# The deb suite: the Debian package (debian/, make deb), built once and
# installed, upgraded, removed and purged in a throwaway root.
#
#   sh tests/deb/run.sh [PATH/TO/milter-ratelimit]   (the argument is unused:
#                                                    the package builds its own)
#
# Outside any namespace: the copy make deb builds (t-tree), the build
# (t-build), its contents against the Makefile's install target
# (t-contents), debian/control against the Makefile (t-control), every
# command the unit runs in Depends or Essential (t-depends), the README
# the examples name (t-docs), the maintainer scripts debhelper wrote (t-scripts),
# lintian (t-lintian).  Then, as root, root.sh in a private mount
# namespace: an overlayfs over / whose upper layer is a tmpfs, chrooted
# into, with its own /proc, /dev and a tmpfs /run; dpkg there writes only
# the upper layer.  There t-install ... t-purge run in order, each one
# behaviour, on the state the one before left.  Last, outside again,
# t-host: the machine's own dpkg database and /etc never saw the package.
#
# Skipped, with the reason, only where dpkg-buildpackage cannot run (not
# installed, or the build dependencies missing).  Budget: 120 s; the
# package is built once with DEB_BUILD_OPTIONS="nocheck parallel=2" (the
# unit suite runs the unit tests) and the upgrade's rebuild reuses the
# built tree (dpkg-buildpackage -nc).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/../lib.sh"

OUTSIDE="tree build contents control depends docs scripts lintian"
INSIDE="install conffiles map enabled service upgrade remove purge premap"
LAST="host"
n=0
for t in $OUTSIDE $INSIDE $LAST; do n=$((n + 1)); done
plan $n
started=$(date +%s)

# skip_all WHY: every check skipped, with the same reason.
skip_all() {
	for t in $OUTSIDE $INSIDE $LAST; do skip "deb/$t" "$1"; done
	echo "# deb suite took $(( $(date +%s) - started )) s"
	exit 0
}
command -v dpkg-buildpackage >/dev/null 2>&1 ||
	skip_all "dpkg-buildpackage not installed (apt-get install dpkg-dev debhelper; make deb installs them)"
if ! o=$(cd "$top" && dpkg-checkbuilddeps 2>&1); then
	skip_all "dpkg-buildpackage cannot run here: $(printf '%s' "$o" | tr '\n' ' ')"
fi

# The machine before: deb/host holds it to this.
HOST_HAD_PKG=no HOST_HAD_USER=no HOST_HAD_FILES=
grep -qx 'Package: milter-ratelimit' /var/lib/dpkg/status && HOST_HAD_PKG=yes
getent passwd milter-ratelimit > /dev/null && HOST_HAD_USER=yes
HOST_HAD_FILES=$(ls -d /etc/milter-ratelimit.conf /etc/mail/ratelimit-exempt.db \
    /usr/lib/sysusers.d/milter-ratelimit.conf 2>/dev/null)

work=$(mktemp -d /tmp/mrl-deb.XXXXXX) || exit 1
chmod 0755 "$work"
cleanup() { [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
export MRL_DEB_TOP="$top" MRL_DEB_WORK="$work" MRL_DEB_HERE="$here"
# What the build and the checks share.
DIST=$work/dist
TREE=$work/build/milter-ratelimit
VERSION=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
DEB=$DIST/milter-ratelimit_${VERSION}_$(dpkg --print-architecture).deb
export DIST TREE VERSION DEB

for t in $OUTSIDE; do
	. "$here/t-$t.sh"
done
if [ "$(id -u)" != 0 ]; then
	for t in $INSIDE; do
		fail "deb/$t" "must run as root (a private mount namespace, overlayfs and chroot)"
	done
elif [ ! -f "$DEB" ]; then
	for t in $INSIDE; do fail "deb/$t" "no package to install (deb/build failed)"; done
else
	unshare -m --propagation private sh "$here/root.sh" $INSIDE
fi
. "$here/t-$LAST.sh"
echo "# deb suite took $(( $(date +%s) - started )) s"
