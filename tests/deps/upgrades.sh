#!/bin/sh
# Upgrades apt makes to install what is missing (a -dev package pulling a
# newer library onto an older image) are not refused but named, old ->
# new, before the install; the install runs with needrestart suspended
# (NEEDRESTART_SUSPEND=1) and a policy-rc.d refusing every (re)start.
#
#   sh tests/deps/upgrades.sh TOP   (root; --names lists the checks)
set -u
top=${1:?usage: tests/deps/upgrades.sh TOP}
NAMES="upgrades-named-before-install install-restarts-nothing"
. "$top/tests/deps/ns.sh"
deps_start "$0" "$@"

cat > "$FAKE/plan" <<PLAN
Inst libmrl-deps1 [2.36-9] (2.36-9+deb12u4 Debian:12.8/stable [amd64]) []
Inst $PKG (1 Debian:12 [amd64])
Conf libmrl-deps1 (2.36-9+deb12u4 Debian:12.8/stable [amd64])
PLAN
cat > "$FAKE/install" <<'INST'
echo "fake install now" >&2
echo "NEEDRESTART_SUSPEND=${NEEDRESTART_SUSPEND:-}" > "$FAKE/env"
/usr/sbin/policy-rc.d mrl-deps-test restart; echo "policy-rc.d restart: $?" >> "$FAKE/env"
INST
deps_run
out=$(oneline "$(cat "$W/out")")
up=$(grep -n 'libmrl-deps1 2.36-9 -> 2.36-9+deb12u4' "$W/out" | cut -d: -f1 | head -n 1)
inst=$(grep -n 'fake install now' "$W/out" | cut -d: -f1)
if [ "$rc" = 0 ] && [ -n "$up" ] && [ -n "$inst" ] && [ "$up" -lt "$inst" ]; then
	pass "deps/upgrades-named-before-install"
else
	fail "deps/upgrades-named-before-install" "exit $rc, want 0 and 'libmrl-deps1 2.36-9 -> 2.36-9+deb12u4' before the install: $out"
fi
env_=$(cat "$FAKE/env" 2>/dev/null | tr '\n' ';')
if [ "$env_" = "NEEDRESTART_SUSPEND=1;policy-rc.d restart: 101;" ]; then
	pass "deps/install-restarts-nothing"
else
	fail "deps/install-restarts-nothing" "the install saw '$env_', want NEEDRESTART_SUSPEND=1 and policy-rc.d 101"
fi
[ "${FAILED:-0}" = 0 ]
