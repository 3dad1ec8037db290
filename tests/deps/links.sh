#!/bin/sh
# What deps.sh undoes after the install, and what it leaves: only the
# enable links (in a .wants/.requires directory) to the unit files of the
# packages it newly installed, and the S links of their init scripts.
# Made during the (fake) install, next to those:
#  - a mask (-> /dev/null): removing it would unmask the unit;
#  - an alias of a new package's unit, outside any .wants directory;
#  - an admin's own link in a .wants directory, to another unit;
#  - an enable link to the unit of a package that was only upgraded;
#  - the S link of an init script no new package ships.
#
#   sh tests/deps/links.sh TOP   (root; --names lists the checks)
set -u
top=${1:?usage: tests/deps/links.sh TOP}
NAMES="undo-removes-new-package-links undo-keeps-masks undo-keeps-aliases
    undo-keeps-foreign-links undo-rc-only-new-scripts"
. "$top/tests/deps/ns.sh"
deps_start "$0" "$@"

S=/etc/systemd/system
# Two new packages and one upgraded one.
cat > "$FAKE/plan" <<PLAN
Inst libmrl-deps-up [1.0-1] (1.0-2 Debian:12 [amd64])
Inst $PKG (1 Debian:12 [amd64])
Inst mrl-deps-test-two (1 Debian:12 [amd64])
PLAN
printf '%s\n' /lib/systemd/system/mrl-deps-test.service /etc/init.d/mrl-deps-test > "$FAKE/$PKG.list"
printf '%s\n' /lib/systemd/system/mrl-deps-two.service > "$FAKE/mrl-deps-test-two.list"
printf '%s\n' /lib/systemd/system/mrl-deps-up.service > "$FAKE/libmrl-deps-up.list"
rm -rf "$S/mrl-deps.target.wants" "$S/mrl-deps-test.service" "$S/mrl-deps-alias.service"
rm -f /etc/rc?.d/S??mrl-deps-*
cat > "$FAKE/install" <<INST
set -e
ln -s /lib/systemd/system/mrl-deps-test.service $S/multi-user.target.wants/
mkdir $S/mrl-deps.target.wants
# merged /usr: the link names /usr/lib, the package lists /lib
ln -s /usr/lib/systemd/system/mrl-deps-two.service $S/mrl-deps.target.wants/
ln -s /dev/null $S/mrl-deps-test.service
ln -s /dev/null $S/multi-user.target.wants/mrl-deps-masked.service
ln -s /lib/systemd/system/mrl-deps-test.service $S/mrl-deps-alias.service
ln -s /lib/systemd/system/cron.service $S/multi-user.target.wants/mrl-deps-admin.service
ln -s /lib/systemd/system/mrl-deps-up.service $S/multi-user.target.wants/
ln -s ../init.d/mrl-deps-test /etc/rc2.d/S01mrl-deps-test
ln -s ../init.d/mrl-deps-other /etc/rc2.d/S01mrl-deps-other
INST
deps_run
out=$(oneline "$(cat "$W/out")")
[ "$rc" = 0 ] || out="exit $rc: $out"

# verdict NAME WHY
verdict() { if [ -z "$2" ]; then pass "deps/$1"; else fail "deps/$1" "$2 ($out)"; fi; }
w=
[ ! -L $S/multi-user.target.wants/mrl-deps-test.service ] || w="$w multi-user.target.wants/mrl-deps-test.service left;"
[ ! -L $S/mrl-deps.target.wants/mrl-deps-two.service ] || w="$w mrl-deps.target.wants/mrl-deps-two.service (/usr/lib) left;"
[ ! -d $S/mrl-deps.target.wants ] || w="$w the .wants directory the install made left;"
verdict undo-removes-new-package-links "$w"
w=
[ "$(readlink $S/mrl-deps-test.service)" = /dev/null ] || w="$w mask $S/mrl-deps-test.service removed;"
[ "$(readlink $S/multi-user.target.wants/mrl-deps-masked.service)" = /dev/null ] ||
	w="$w link to /dev/null in multi-user.target.wants removed;"
verdict undo-keeps-masks "$w"
w=
[ -L $S/mrl-deps-alias.service ] || w="alias $S/mrl-deps-alias.service removed"
verdict undo-keeps-aliases "$w"
w=
[ -L $S/multi-user.target.wants/mrl-deps-admin.service ] || w="$w admin's link to cron.service removed;"
[ -L $S/multi-user.target.wants/mrl-deps-up.service ] || w="$w link to the upgraded package's unit removed;"
verdict undo-keeps-foreign-links "$w"
w=
[ ! -L /etc/rc2.d/S01mrl-deps-test ] || w="$w S01mrl-deps-test left;"
[ -L /etc/rc2.d/S01mrl-deps-other ] || w="$w S01mrl-deps-other removed;"
calls=$(cat "$FAKE/update-rc.d.log" 2>/dev/null | tr '\n' ';')
[ "$calls" = "mrl-deps-test disable;" ] || w="$w update-rc.d calls: '$calls', want 'mrl-deps-test disable';"
verdict undo-rc-only-new-scripts "$w"
[ "${FAILED:-0}" = 0 ]
