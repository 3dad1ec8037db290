# deb/scripts: what dpkg will do with the service where systemd is PID 1,
# which the throwaway root (PID 1 is not systemd there) cannot show: the
# maintainer scripts debhelper wrote start the unit on install, restart it
# after an upgrade (compat 13's default, not stop-before-unpack), stop it
# on removal, and make the user with systemd-sysusers.  Sourced by run.sh.
T=deb/scripts
_c=$MRL_DEB_WORK/control
rm -rf "$_c"
if [ ! -f "$DEB" ] || ! dpkg-deb -e "$DEB" "$_c" 2>/dev/null; then
	fail "$T" "no package, or dpkg-deb -e failed"
else
	_why=
	grep -q "deb-systemd-helper enable 'milter-ratelimit.service'" "$_c/postinst" ||
		_why="$_why postinst does not enable the unit;"
	grep -q '_dh_action=restart' "$_c/postinst" && grep -q '_dh_action=start' "$_c/postinst" &&
	    grep -q "deb-systemd-invoke \$_dh_action 'milter-ratelimit.service'" "$_c/postinst" ||
		_why="$_why postinst does not start it on install and restart it on upgrade;"
	grep -q 'systemd-sysusers .*milter-ratelimit.conf' "$_c/postinst" ||
		_why="$_why postinst does not run systemd-sysusers;"
	# Stopped in prerm on remove only: on upgrade the new postinst restarts.
	grep -q '"$1" = remove' "$_c/prerm" &&
	    grep -q "deb-systemd-invoke stop 'milter-ratelimit.service'" "$_c/prerm" ||
		_why="$_why prerm does not stop the unit on remove;"
	# Not stopped before an upgrade's unpack (that would be a longer outage).
	[ ! -e "$_c/preinst" ] || ! grep -q 'deb-systemd-invoke stop' "$_c/preinst" ||
		_why="$_why preinst stops the unit before an upgrade;"
	grep -q "deb-systemd-helper purge 'milter-ratelimit.service'" "$_c/postrm" ||
		_why="$_why postrm does not forget the unit's state on purge;"
	if [ -n "$_why" ]; then fail "$T" "$_why"; else pass "$T"; fi
fi
