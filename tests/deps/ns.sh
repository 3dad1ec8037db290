# shellcheck shell=sh
# A made-up machine for running the real tests/deps.sh with a fake apt:
# sourced by the deps suite's namespace tests (signal.sh, failed-install.sh,
# links.sh, upgrades.sh).  Each runs as root in a private mount namespace
# (deps_ns re-executes it there), where
#  - /usr/sbin is an empty tmpfs: the policy-rc.d deps.sh writes lands
#    there (and the machine's own, if any, is out of sight);
#  - /etc/systemd, /etc/init.d and /etc/rc?.d are copies: links made and
#    removed there are the copies';
#  - apt-get, dpkg and update-rc.d come first in PATH and are fakes:
#    `apt-get -s` prints $FAKE/plan, `apt-get install` runs $FAKE/install
#    (sh) and exits with its status, `dpkg -L PKG` prints $FAKE/PKG.list,
#    `update-rc.d NAME disable` records NAME in $FAKE/update-rc.d.log and
#    removes /etc/rc?.d/S??NAME.
# Nothing of the machine is touched, and no real apt-get ever runs.
#
# The caller sets top (the source tree) and NAMES (its checks), sources
# this file (which brings tests/lib.sh) and calls deps_start "$0" "$@".
# DEPS_SH (default $top/tests/deps.sh) is the deps.sh under test.

. "${top:?}/tests/lib.sh"

# deps_start SCRIPT TOP [--names]: what every namespace test does first.
# With --names, print $NAMES and exit: no root, no namespace (run.sh
# counts its plan so).  Else run SCRIPT again in its namespace (deps_ns),
# make the machine (deps_setup; if that fails, every check of $NAMES
# fails) and remove $W on exit.
deps_start() {
	[ "${3:-}" = --names ] && { echo $NAMES; exit 0; }
	deps_ns "$@"
	deps_setup || {
		for _n in $NAMES; do fail "deps/$_n" "namespace set-up failed"; done
		exit 1
	}
	trap 'rm -rf "$W"' EXIT
}

# deps_ns SCRIPT [ARG...]: run SCRIPT again in a private mount namespace,
# unless this process is already in the one made for it (MRL_DEPS_NS holds
# the namespace we left: a stale value from elsewhere proves nothing).
deps_ns() {
	_here=$(readlink /proc/self/ns/mnt)
	[ -n "${MRL_DEPS_NS:-}" ] && [ "$MRL_DEPS_NS" != "$_here" ] && return 0
	exec env MRL_DEPS_NS="$_here" unshare -m --propagation private sh "$@"
}

# deps_setup: the mounts and fakes above; $W is the work directory.
deps_setup() {
	DEPS_SH=${DEPS_SH:-$top/tests/deps.sh}
	W=$(mktemp -d "${TMPDIR:-/tmp}/milter-ratelimit-depsns.XXXXXX") || return 1
	FAKE=$W/fake
	mkdir -p "$FAKE/bin" "$W/etc" || return 1
	export FAKE
	mount -t tmpfs tmpfs /usr/sbin || return 1
	for _d in /etc/systemd /etc/init.d /etc/rc0.d /etc/rc1.d /etc/rc2.d /etc/rc3.d \
	    /etc/rc4.d /etc/rc5.d /etc/rc6.d /etc/rcS.d; do
		_c=$W/etc/${_d#/etc/}
		mkdir -p "$_c" "$_d" || return 1
		cp -a "$_d/." "$_c/" && mount --bind "$_c" "$_d" || return 1
	done
	mkdir -p /etc/systemd/system/multi-user.target.wants
	cat > "$FAKE/bin/apt-get" <<'FAKEEOF'
#!/bin/sh
case " $* " in
*" -s "*) cat "$FAKE/plan"; exit 0 ;;
*" update "*) exit 0 ;;
*" install "*) sh "$FAKE/install"; exit $? ;;
esac
echo "fake apt-get: unexpected $*" >&2
exit 100
FAKEEOF
	cat > "$FAKE/bin/dpkg" <<'FAKEEOF'
#!/bin/sh
[ "$1" = -L ] && [ -f "$FAKE/$2.list" ] && exec cat "$FAKE/$2.list"
echo "dpkg-query: package '$2' is not installed" >&2
exit 1
FAKEEOF
	cat > "$FAKE/bin/update-rc.d" <<'FAKEEOF'
#!/bin/sh
echo "$*" >> "$FAKE/update-rc.d.log"
[ "$2" = disable ] && rm -f /etc/rc?.d/S[0-9][0-9]"$1"
FAKEEOF
	chmod 755 "$FAKE/bin/"*
	PATH=$FAKE/bin:$PATH
	export PATH
	# The package deps.sh is asked for: never installed anywhere.
	PKG=mrl-deps-test-nope
	printf 'Inst %s (1 Debian:12 [amd64])\n' "$PKG" > "$FAKE/plan"
	: > "$FAKE/install"
}

# deps_run [ENV=VALUE...]: deps.sh $PKG, output in $W/out, status in $rc.
# shellcheck disable=SC2034
deps_run() {
	env "$@" timeout -k 5 60 sh "$DEPS_SH" "$PKG" > "$W/out" 2>&1
	rc=$?
}

oneline() { printf '%s' "$1" | tr '\n\t' '  ' | cut -c1-500; }
