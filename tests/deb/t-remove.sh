# deb/remove: dpkg -r removes the programs and keeps the configuration:
# both conffiles as the admin left them, the map, the user.  Sourced by
# root.sh.
T=deb/remove
_why=
if ! inroot dpkg -r milter-ratelimit < /dev/null > "$MRL_DEB_WORK/remove.log" 2>&1; then
	_why="dpkg -r failed: $(tail -n 4 "$MRL_DEB_WORK/remove.log" | tr '\n' ' ')"
elif ! status | grep -q '^deinstall ok config-files'; then
	_why="dpkg status is '$(status)', want deinstall ok config-files"
else
	for _f in /usr/sbin/milter-ratelimit /usr/sbin/ratelimit-map /lib/systemd/system/milter-ratelimit.service; do
		[ ! -e "$M$_f" ] || _why="$_why $_f is still there;"
	done
	grep -q '^limit *= 7  # ours' "$M/etc/milter-ratelimit.conf" 2>/dev/null ||
		_why="$_why /etc/milter-ratelimit.conf is gone or not the admin's;"
	grep -q '^192\.0\.2\.0/24' "$M/etc/mail/ratelimit-exempt" 2>/dev/null ||
		_why="$_why /etc/mail/ratelimit-exempt is gone or not the admin's;"
	[ -f "$M/etc/mail/ratelimit-exempt.db" ] || _why="$_why the map is gone;"
	inroot getent passwd milter-ratelimit > /dev/null || _why="$_why the user is gone;"
fi
if [ -n "$_why" ]; then fail "$T" "$_why"; else pass "$T"; fi
