# deb/conffiles: dpkg holds exactly /etc/milter-ratelimit.conf and the map
# source /etc/mail/ratelimit-exempt as conffiles, as installed (their
# checksums match the files).  Sourced by root.sh.
T=deb/conffiles
_cf=$(inroot dpkg-query -W -f='${Conffiles}\n' milter-ratelimit 2>&1)
_paths=$(printf '%s\n' "$_cf" | awk 'NF { print $1 }' | sort | tr '\n' ' ')
_bad=
for _f in /etc/milter-ratelimit.conf /etc/mail/ratelimit-exempt; do
	_want=$(printf '%s\n' "$_cf" | awk -v f="$_f" '$1 == f { print $2 }')
	_have=$(md5sum < "$M$_f" 2>/dev/null | cut -d' ' -f1)
	[ -n "$_want" ] && [ "$_want" = "$_have" ] || _bad="$_bad $_f"
done
if [ "$_paths" != "/etc/mail/ratelimit-exempt /etc/milter-ratelimit.conf " ]; then
	fail "$T" "conffiles are '$_paths', want /etc/mail/ratelimit-exempt /etc/milter-ratelimit.conf"
elif [ -n "$_bad" ]; then
	fail "$T" "installed file differs from dpkg's checksum:$_bad"
else
	pass "$T"
fi
