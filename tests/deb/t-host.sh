# deb/host: the machine itself never saw the package: its dpkg database
# lists it no more than before the suite, and its /etc has no file of it.
# Sourced by run.sh, outside the namespace.  MRL_DEB_HOST (empty: /) is
# the root it looks at, for holding the check itself to a made-up machine.
T=deb/host
_h=${MRL_DEB_HOST:-}
_why=
if grep -qx 'Package: milter-ratelimit' "$_h/var/lib/dpkg/status" && [ "$HOST_HAD_PKG" = no ]; then
	_why="/var/lib/dpkg/status lists milter-ratelimit"
fi
for _f in /etc/milter-ratelimit.conf /etc/mail/ratelimit-exempt.db /usr/lib/sysusers.d/milter-ratelimit.conf; do
	if [ -e "$_h$_f" ] && ! printf '%s\n' "$HOST_HAD_FILES" | grep -qxF "$_f"; then
		_why="$_why $_f appeared on the machine;"
	fi
done
if getent passwd milter-ratelimit > /dev/null && [ "$HOST_HAD_USER" = no ]; then
	_why="$_why the machine has a user milter-ratelimit now;"
fi
if [ -n "$_why" ]; then fail "$T" "$_why"; else pass "$T"; fi
