# deb/premap: a map the admin had before the package (from make install:
# /etc/mail/ratelimit-exempt.db made by hand) is the admin's: the install
# does not rebuild it and a purge leaves it, byte for byte, while the map
# postinst built itself (deb/purge) goes.  On the root deb/purge left
# (no package); the admin's map is then removed again.  Sourced by root.sh.
T=deb/premap
_db=/etc/mail/ratelimit-exempt.db
_why=
mkdir -p "$M/etc/mail" && printf 'the admin own map, not a real one\n' > "$M$_db" ||
	_why="cannot make $_db in the throwaway root"
_sum=$(md5sum < "$M$_db")
if [ -n "$_why" ]; then
	:
elif ! inroot dpkg -i --force-confold "/tmp/${DEB##*/}" < /dev/null > "$MRL_DEB_WORK/premap.log" 2>&1; then
	_why="dpkg -i failed: $(tail -n 4 "$MRL_DEB_WORK/premap.log" | tr '\n' ' ')"
elif [ "$(md5sum < "$M$_db")" != "$_sum" ]; then
	_why="the install rebuilt the admin's $_db"
elif ! inroot dpkg -P milter-ratelimit < /dev/null >> "$MRL_DEB_WORK/premap.log" 2>&1; then
	_why="dpkg -P failed: $(tail -n 4 "$MRL_DEB_WORK/premap.log" | tr '\n' ' ')"
elif [ ! -f "$M$_db" ]; then
	_why="the purge removed the admin's $_db, which the package never built"
elif [ "$(md5sum < "$M$_db")" != "$_sum" ]; then
	_why="the purge changed the admin's $_db"
fi
rm -f "$M$_db"
if [ -n "$_why" ]; then fail "$T" "$_why"; else pass "$T"; fi
