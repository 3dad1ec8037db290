# deb/purge: dpkg -P removes the config (both conffiles), the map built
# from them, the service's directories (the socket directory the unit
# made in Postfix's spool, /run's), the unit's enable link and dpkg's
# memory of it.  What is left, against the throwaway root's state before
# the install (its overlay's upper layer), is only what policy allows:
# the system user and group (Debian leaves them: files they own may
# remain elsewhere; with them the shadow files' backups and lock), and the
# records of dpkg (its status, log, locks) and of man-db's trigger.
# Anything else is listed.  Sourced by root.sh.
T=deb/purge
_why=
if ! inroot dpkg -P milter-ratelimit < /dev/null > "$MRL_DEB_WORK/purge.log" 2>&1; then
	_why="dpkg -P failed: $(tail -n 4 "$MRL_DEB_WORK/purge.log" | tr '\n' ' ')"
elif status | grep -q 'installed\|config-files'; then
	_why="dpkg status is still '$(status)'"
else
	for _f in /etc/milter-ratelimit.conf /etc/mail/ratelimit-exempt /etc/mail/ratelimit-exempt.db \
	    /var/spool/postfix/milter-ratelimit /run/milter-ratelimit /usr/lib/sysusers.d/milter-ratelimit.conf \
	    /etc/systemd/system/multi-user.target.wants/milter-ratelimit.service; do
		[ ! -e "$M$_f" ] && [ ! -L "$M$_f" ] || _why="$_why $_f is still there;"
	done
	# Left in the upper layer since the install (whiteouts: deletions of
	# the machine's own files, none allowed).
	upper_list > "$MRL_DEB_WORK/upper.after"
	comm -13 "$MRL_DEB_WORK/upper.before" "$MRL_DEB_WORK/upper.after" > "$MRL_DEB_WORK/upper.new"
	echo "# deb/purge: left since the install: $(tr '\n' ' ' < "$MRL_DEB_WORK/upper.new")"
	_odd=$(grep -v -x -E \
	    -e '/etc/(passwd|group|shadow|gshadow)-?' -e '/etc/\.pwd\.lock' \
	    -e '/var/lib/dpkg/(status|status-old|available|lock|lock-frontend|triggers/Lock|triggers/Unincorp)' \
	    -e '/var/log/dpkg\.log' \
	    -e '/var/cache/man/.*' \
	    "$MRL_DEB_WORK/upper.new" | tr '\n' ' ')
	[ -z "$_odd" ] || _why="$_why left behind: $_odd;"
	inroot getent passwd milter-ratelimit > /dev/null || _why="$_why the user was removed (policy: keep it);"
fi
if [ -n "$_why" ]; then fail "$T" "$_why"; else pass "$T"; fi
