#!/bin/sh
# Packaging checks: install/uninstall under DESTDIR and PREFIX, an
# existing config survives install, man pages lint clean.
# Usage: tests/build/run.sh BINARY (the binary is not used; make builds).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
plan 11
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

out=$(make -s -C "$top" install DESTDIR="$stage" PREFIX=/usr 2>&1)
for f in usr/sbin/milter-ratelimit usr/sbin/ratelimit-map \
    usr/share/man/man8/milter-ratelimit.8 usr/share/man/man8/ratelimit-map.8 \
    usr/share/man/man5/milter-ratelimit.conf.5 etc/milter-ratelimit.conf \
    etc/mail/ratelimit-exempt; do
	if [ -f "$stage/$f" ]; then pass "install puts $f"; else fail "install puts $f" "missing; make said: $out"; fi
done
check "installed binary runs" "$stage/usr/sbin/milter-ratelimit" -V

echo 'limit = 3  # the admin edited this' > "$stage/etc/milter-ratelimit.conf"
make -s -C "$top" install DESTDIR="$stage" PREFIX=/usr >/dev/null 2>&1
if grep -q 'admin edited' "$stage/etc/milter-ratelimit.conf"; then
	pass "install keeps an existing config"
else
	fail "install keeps an existing config" "it was overwritten"
fi

make -s -C "$top" uninstall DESTDIR="$stage" PREFIX=/usr >/dev/null 2>&1
left=$(cd "$stage" && find . -type f | sort | tr '\n' ' ')
if [ "$left" = "./etc/milter-ratelimit.conf " ]; then
	pass "uninstall removes what install put, keeps the edited config"
else
	fail "uninstall removes what install put, keeps the edited config" "left: $left"
fi

check "man pages are clean under mandoc -Tlint" mandoc -Tlint -W warning \
	"$top"/man/*.[58]
