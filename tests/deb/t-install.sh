# deb/install: dpkg -i installs the package in the throwaway root and it
# made the system user and group milter-ratelimit (systemd-sysusers): a
# system uid, the group of the same name as its primary group, no home,
# no login shell.  Sourced by root.sh.
T=deb/install
_uid="" _gid=""
if ! inroot dpkg -i "/tmp/${DEB##*/}" < /dev/null > "$MRL_DEB_WORK/install.log" 2>&1; then
	fail "$T" "dpkg -i failed: $(tail -n 4 "$MRL_DEB_WORK/install.log" | tr '\n' ' ')"
elif [ "$(status)" != "install ok installed $VERSION" ]; then
	fail "$T" "dpkg status is '$(status)', want 'install ok installed $VERSION'"
elif ! _pw=$(inroot getent passwd milter-ratelimit); then
	fail "$T" "no user milter-ratelimit after the install"
elif ! _gr=$(inroot getent group milter-ratelimit); then
	fail "$T" "no group milter-ratelimit after the install"
else
	_uid=$(echo "$_pw" | cut -d: -f3) _pgid=$(echo "$_pw" | cut -d: -f4)
	_gid=$(echo "$_gr" | cut -d: -f3)
	_home=$(echo "$_pw" | cut -d: -f6) _shell=$(echo "$_pw" | cut -d: -f7)
	if [ "$_uid" -ge 1000 ] || [ "$_uid" -eq 0 ]; then
		fail "$T" "uid $_uid is not a system uid (1..999)"
	elif [ "$_pgid" != "$_gid" ]; then
		fail "$T" "primary group $_pgid is not milter-ratelimit ($_gid)"
	elif [ "$_home" != /nonexistent ] || [ -e "$M$_home" ]; then
		fail "$T" "home $_home: want /nonexistent, not created"
	elif [ "$_shell" != /usr/sbin/nologin ]; then
		fail "$T" "login shell $_shell, want /usr/sbin/nologin"
	else
		pass "$T"
	fi
fi
