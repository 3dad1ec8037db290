# deb/map: the install built /etc/mail/ratelimit-exempt.db from the sample
# source (root's, 0644: the service user reads it), and the packaged config
# names that map.  Sourced by root.sh.
T=deb/map
_db=/etc/mail/ratelimit-exempt.db
if [ ! -f "$M$_db" ]; then
	fail "$T" "no $_db after the install"
elif [ "$(stat -c '%U:%G %a' "$M$_db")" != "root:root 644" ]; then
	fail "$T" "$_db is $(stat -c '%U:%G %a' "$M$_db"), want root:root 644"
elif ! _dump=$(inroot ratelimit-map -u /etc/mail/ratelimit-exempt 2>&1) ||
    ! printf '%s\n' "$_dump" | grep -q '^127\.0\.0\.1' ||
    ! printf '%s\n' "$_dump" | grep -q '^::1'; then
	fail "$T" "the map does not hold the sample's 127.0.0.1 and ::1: $(printf '%s' "$_dump" | tr '\n' ' ')"
elif ! grep -qx "exempt_map *= *\"$_db\"" "$M/etc/milter-ratelimit.conf"; then
	fail "$T" "the packaged config does not name $_db: $(grep exempt_map "$M/etc/milter-ratelimit.conf" | tr '\n' ' ')"
else
	pass "$T"
fi
