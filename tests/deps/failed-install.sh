#!/bin/sh
# An `apt-get install` that fails half way (a package's postinst fails
# after another's unit was enabled): deps.sh still undoes the enable link
# and removes its policy-rc.d, and exits with apt-get's status.
#
#   sh tests/deps/failed-install.sh TOP   (root; --names lists the checks)
set -u
top=${1:?usage: tests/deps/failed-install.sh TOP}
NAMES="failed-install-undoes-links"
. "$top/tests/deps/ns.sh"
deps_start "$0" "$@"

printf '%s\n' /lib/systemd/system/mrl-deps-test.service > "$FAKE/$PKG.list"
cat > "$FAKE/install" <<'INST'
ln -s /lib/systemd/system/mrl-deps-test.service /etc/systemd/system/multi-user.target.wants/
echo "E: Sub-process /usr/bin/dpkg returned an error code (1)" >&2
exit 100
INST
link=/etc/systemd/system/multi-user.target.wants/mrl-deps-test.service
deps_run
why=
[ "$rc" = 100 ] || why="$why exit $rc, want apt-get's 100;"
[ ! -L "$link" ] || why="$why enable link left: $link;"
[ ! -e /usr/sbin/policy-rc.d ] || why="$why policy-rc.d left;"
if [ -z "$why" ]; then pass "deps/$NAMES"; else fail "deps/$NAMES" "$why $(oneline "$(cat "$W/out")")"; fi
[ "${FAILED:-0}" = 0 ]
