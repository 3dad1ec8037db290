# deb/depends: every program the installed unit runs (the first word of
# each Exec*= line, its "+-@!:" prefixes taken off) is the package's own,
# or comes from an Essential package, or from a package the .deb's Depends
# names (any alternative of a "|" group).  ${shlibs:Depends} covers the
# libraries the binaries link, not the commands the unit calls: /bin/kill
# (ExecReload=) is procps's, which Debian 12 does not install everywhere
# (not Essential; the debian:12 image has none), and `systemctl reload`
# would fail there.  Looked up in this machine's dpkg database (usr-merge:
# /bin/X and /usr/bin/X are tried both).  Sourced by run.sh.
T=deb/depends
_x=$MRL_DEB_WORK/depends-x
_why=
rm -rf "$_x"
if [ ! -f "$DEB" ]; then
	_why="no package (deb/build failed)"
elif ! dpkg-deb -x "$DEB" "$_x" 2> "$MRL_DEB_WORK/depends.log"; then
	_why="dpkg-deb -x failed: $(tr '\n' ' ' < "$MRL_DEB_WORK/depends.log")"
elif [ ! -f "$_x/lib/systemd/system/milter-ratelimit.service" ]; then
	_why="no lib/systemd/system/milter-ratelimit.service in the package"
fi
# _owner PATH: the packages that own PATH (or its usr-merged twin), one a line.
_owner() {
	for _p in "$1" "/usr$1" "${1#/usr}"; do
		case $_p in /*) ;; *) continue ;; esac
		dpkg-query -S "$_p" 2>/dev/null | grep -v '^diversion ' |
		    sed -n "s|^\(.*\): $_p\$|\1|p" | tr ',' '\n' | sed 's/[[:space:]]//g; s/:.*//'
	done | sort -u | grep -v '^$'
}
if [ -z "$_why" ]; then
	# The Depends' package names, alternatives and all, one a line.
	_deps=$(dpkg-deb -f "$DEB" Depends | tr ',|' '\n\n' | sed 's/[[(].*//; s/[[:space:]]//g' | grep -v '^$')
	_cmds=$(sed -n 's/^Exec[A-Za-z]*=[-+@!:]*\([^[:space:]]*\).*/\1/p' \
	    "$_x/lib/systemd/system/milter-ratelimit.service" | sort -u)
	[ -n "$_cmds" ] || _why="the unit has no Exec*= line"
	for _c in $_cmds; do
		[ -e "$_x$_c" ] && continue
		_own=$(_owner "$_c")
		if [ -z "$_own" ]; then
			_why="$_why $_c: no package of this machine owns it;"
			continue
		fi
		_ok=
		for _p in $_own; do
			[ "$(dpkg-query -W -f='${Essential}' "$_p" 2>/dev/null)" = yes ] && _ok=1
			printf '%s\n' "$_deps" | grep -qxF "$_p" && _ok=1
		done
		[ -n "$_ok" ] || _why="$_why $_c is $(echo $_own)'s, neither Essential nor in Depends;"
	done
fi
if [ -n "$_why" ]; then fail "$T" "$_why"; else pass "$T"; fi
