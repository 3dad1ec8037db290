# deb/service: the installed unit's own lines start the daemon with the
# packaged config and it answers on the packaged socket.  PID 1 is not
# systemd here, so this does what systemd would: the RuntimeDirectory=
# (mode RuntimeDirectoryMode=, owned by User=/Group=), each ExecStartPre=
# ("+": as root; else as the user), then ExecStart= as User=/Group= with
# the unit's UMask= and NOTIFY_SOCKET set (Type=notify: the daemon stays
# in the foreground), every command line read from the installed unit.
# Then miltertest (t-service.lua) on the socket the packaged config names.
# Sourced by root.sh; deb/upgrade stops the daemon (the new postinst would
# restart it under systemd).
T=deb/service
_unit=$M/lib/systemd/system/milter-ratelimit.service
_key() { sed -n "s/^$1=//p" "$_unit"; }
_user=$(_key User) _group=$(_key Group) _rtdir=$(_key RuntimeDirectory)
_rtmode=$(_key RuntimeDirectoryMode) _umask=$(_key UMask)
_start=$(_key ExecStart)
_sock=$(sed -n 's/^socket *= *"unix:\(.*\)"$/\1/p' "$M/etc/milter-ratelimit.conf")
# as_user CMDLINE: CMDLINE (a unit command line) as the unit's user.  The
# shell that calls it becomes it (exec): call it in a subshell, or in the
# background, where $! is then the daemon's own pid.
as_user() {
	exec chroot "$M" setpriv --reuid="$_user" --regid="$_group" --clear-groups \
	    env -i PATH=$SYSTEMD_PATH NOTIFY_SOCKET=/run/mrl-deb-notify \
	    sh -c "umask $_umask; exec $1"
}
_why=
if [ -z "$_user" ] || [ -z "$_start" ] || [ -z "$_rtdir" ]; then
	_why="the unit has no User=, ExecStart= or RuntimeDirectory="
elif [ "$(sed -n 's/^user *= *"\(.*\)".*/\1/p' "$M/etc/milter-ratelimit.conf")" != "$_user" ]; then
	_why="the packaged config's user is not the unit's User=$_user"
elif [ "$_sock" != "/run/$_rtdir/milter-ratelimit.sock" ]; then
	_why="the packaged socket $_sock is not in the unit's RuntimeDirectory /run/$_rtdir"
else
	case " $_start " in
	*" -f "*) case " $_start " in *" -f /etc/milter-ratelimit.conf "*) ;;
		*) _why="ExecStart=$_start names another config" ;; esac ;;
	esac
fi
if [ -z "$_why" ]; then
	install -d -m "${_rtmode:-0755}" "$M/run/$_rtdir" &&
	    chroot "$M" chown "$_user:$_group" "/run/$_rtdir" || _why="cannot make /run/$_rtdir"
fi
if [ -z "$_why" ]; then
	# ExecStartPre= lines in order; "+" ones run as root, unsandboxed.
	sed -n 's/^ExecStartPre=//p' "$_unit" > "$MRL_DEB_WORK/pre"
	while IFS= read -r _pre; do
		case $_pre in
		+*) inroot sh -c "exec ${_pre#+}" > "$MRL_DEB_WORK/pre.log" 2>&1 ;;
		*) (as_user "$_pre") > "$MRL_DEB_WORK/pre.log" 2>&1 ;;
		esac || { _why="ExecStartPre=$_pre failed: $(tail -n 3 "$MRL_DEB_WORK/pre.log" | tr '\n' ' ')"; break; }
	done < "$MRL_DEB_WORK/pre"
fi
if [ -z "$_why" ]; then
	as_user "$_start" > "$MRL_DEB_WORK/daemon.log" 2>&1 &
	dpid=$!
	if ! wait_for 10 test -S "$M$_sock"; then
		_why="ExecStart=$_start made no socket $_sock: $(tail -n 3 "$MRL_DEB_WORK/daemon.log" | tr '\n' ' ')"
	# The real, effective, saved and file uids (/proc/PID itself is root's
	# for a process that made itself non-dumpable).
	elif [ "$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "/proc/$dpid/status")" != \
	    "$(_u=$(inroot id -u "$_user"); echo "$_u $_u $_u $_u")" ]; then
		_why="the daemon's uids are $(awk '$1 == "Uid:"' "/proc/$dpid/status"), want $_user's"
	elif ! _o=$(miltertest -D sock="unix:$M$_sock" -s "$MRL_DEB_HERE/t-service.lua" 2>&1); then
		_why="miltertest: $(printf '%s' "$_o" | tail -n 3 | tr '\n' ' ')"
	fi
fi
if [ -n "$_why" ]; then fail "$T" "$_why"; else pass "$T"; fi
