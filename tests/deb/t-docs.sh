# deb/docs: a document the package's own files send the admin to is in the
# package: the sendmail.mc and Postfix examples and the packaged config
# say "the README" (its sendmail section, its Postfix install), so the
# README must be in /usr/share/doc/milter-ratelimit (compressed or not),
# not only in the source tree an apt user never sees.  And each man page
# the unit's Documentation= names is in the package.  Sourced by run.sh.
T=deb/docs
_x=$MRL_DEB_WORK/docs-x
_why=
rm -rf "$_x"
if [ ! -f "$DEB" ]; then
	_why="no package (deb/build failed)"
elif ! dpkg-deb -x "$DEB" "$_x" 2> "$MRL_DEB_WORK/docs.log"; then
	_why="dpkg-deb -x failed: $(tr '\n' ' ' < "$MRL_DEB_WORK/docs.log")"
else
	_doc=$_x/usr/share/doc/milter-ratelimit
	_refs=$(grep -rl 'README' "$_x/etc" "$_doc" 2>/dev/null | sed "s|^$_x||" | tr '\n' ' ')
	if [ -z "$_refs" ]; then
		_why="no packaged file names the README (this check looks at nothing)"
	elif [ ! -f "$_doc/README.md" ] && [ ! -f "$_doc/README.md.gz" ]; then
		_why="$_refs send the admin to the README; the package has no /usr/share/doc/milter-ratelimit/README.md"
	fi
	for _m in $(sed -n 's/^Documentation=//p' "$_x/lib/systemd/system/milter-ratelimit.service"); do
		case $_m in
		man:*'('[0-9]')')
			_n=${_m#man:}; _s=${_n##*(}; _s=${_s%)}; _n=${_n%(*}
			[ -f "$_x/usr/share/man/man$_s/$_n.$_s.gz" ] ||
				_why="$_why the unit's Documentation=$_m is not in the package;" ;;
		esac
	done
fi
if [ -n "$_why" ]; then fail "$T" "$_why"; else pass "$T"; fi
