# deb/upgrade: an upgrade to a rebuilt package with a higher version
# (its changelog entry written here, into a copy of the built tree, which
# dpkg-buildpackage -nc reuses) keeps the admin's edited conffile as it is
# (no .dpkg-new, no .dpkg-dist beside it), keeps the map the admin
# changed (postinst builds it only when it is absent) and the unit enabled.
# Sourced by root.sh.
T=deb/upgrade
stop_daemon
_new=$VERSION+debtest1
_tree2=$MRL_DEB_WORK/build2/milter-ratelimit
_why=
# The admin's edits: the config, and the map with its source (ratelimit-map
# add keeps both in step).
sed -i 's/^limit *=.*/limit       = 7  # ours/' "$M/etc/milter-ratelimit.conf"
_sum=$(md5sum < "$M/etc/milter-ratelimit.conf")
_mapid=
if ! inroot ratelimit-map add /etc/mail/ratelimit-exempt 192.0.2.0/24 > "$MRL_DEB_WORK/add.log" 2>&1; then
	_why="ratelimit-map add failed: $(tail -n 2 "$MRL_DEB_WORK/add.log" | tr '\n' ' ')"
fi
# The map as the admin left it: ratelimit-map replaces it by a rename, so
# a rebuild would show as a new inode.
[ -n "$_why" ] || _mapid=$(stat -c '%i %Y' "$M/etc/mail/ratelimit-exempt.db")
if [ -z "$_why" ]; then
	rm -rf "$MRL_DEB_WORK/build2" && mkdir -p "$MRL_DEB_WORK/build2" && cp -a "$TREE" "$_tree2" &&
	{ printf 'milter-ratelimit (%s) unstable; urgency=medium\n\n  * Test upgrade (tests/deb).\n\n -- %s  %s\n\n' \
	    "$_new" "$(dpkg-parsechangelog -l "$TREE/debian/changelog" -S Maintainer)" \
	    "$(date -R)"; cat "$TREE/debian/changelog"; } > "$_tree2/debian/changelog" &&
	(cd "$_tree2" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b -nc) \
	    > "$MRL_DEB_WORK/build2.log" 2>&1 ||
		_why="the rebuild failed: $(tail -n 4 "$MRL_DEB_WORK/build2.log" | tr '\n' ' ')"
fi
_deb2=$MRL_DEB_WORK/build2/milter-ratelimit_${_new}_$(dpkg --print-architecture).deb
if [ -z "$_why" ]; then
	cp "$_deb2" "$M/tmp/" &&
	inroot dpkg -i "/tmp/${_deb2##*/}" < /dev/null > "$MRL_DEB_WORK/upgrade.log" 2>&1 ||
		_why="dpkg -i of $_new failed: $(tail -n 4 "$MRL_DEB_WORK/upgrade.log" | tr '\n' ' ')"
fi
if [ -n "$_why" ]; then
	:
elif [ "$(status)" != "install ok installed $_new" ]; then
	_why="dpkg status is '$(status)', want 'install ok installed $_new'"
elif [ "$(md5sum < "$M/etc/milter-ratelimit.conf")" != "$_sum" ]; then
	_why="the edited /etc/milter-ratelimit.conf was changed: $(grep '^limit' "$M/etc/milter-ratelimit.conf")"
elif _left=$(ls -d "$M"/etc/milter-ratelimit.conf.dpkg-* "$M"/etc/mail/ratelimit-exempt.dpkg-* 2>/dev/null); then
	_why="dpkg left $_left"
elif [ "$(stat -c '%i %Y' "$M/etc/mail/ratelimit-exempt.db")" != "$_mapid" ]; then
	_why="the upgrade rebuilt /etc/mail/ratelimit-exempt.db (postinst builds it only when absent)"
elif ! inroot ratelimit-map -u /etc/mail/ratelimit-exempt 2>&1 | grep -q '^192\.0\.2\.0/24'; then
	_why="the map lost the admin's 192.0.2.0/24 (rebuilt by the upgrade?)"
elif ! grep -q '^192\.0\.2\.0/24' "$M/etc/mail/ratelimit-exempt"; then
	_why="the map source lost the admin's 192.0.2.0/24"
elif [ ! -L "$M/etc/systemd/system/multi-user.target.wants/milter-ratelimit.service" ]; then
	_why="the upgrade removed the enable link"
fi
if [ -n "$_why" ]; then fail "$T" "$_why"; else pass "$T"; fi
