# deb/contents: the package holds every file the Makefile's install
# target installs (with Debian's paths, as debian/rules passes them; man
# pages and the README compressed by dh_compress), so a program or man
# page added to the install target comes along with no change under
# debian/; and besides those only what debhelper adds.  Sourced by run.sh.
T=deb/contents
_stage=$MRL_DEB_WORK/stage
if [ ! -f "$DEB" ]; then
	fail "$T" "no package (deb/build failed)"
elif ! make -s -C "$TREE" install DESTDIR="$_stage" PREFIX=/usr SYSCONFDIR=/etc \
    UNITDIR=/lib/systemd/system \
    > "$MRL_DEB_WORK/stage.log" 2>&1; then
	fail "$T" "make install in the built tree failed: $(tail -n 3 "$MRL_DEB_WORK/stage.log" | tr '\n' ' ')"
else
	(cd "$_stage" && find . ! -type d | sed -e 's,^\.,,' \
	    -e 's,^\(/usr/share/man/.*\)$,\1.gz,' \
	    -e 's,^\(/usr/share/doc/milter-ratelimit/README\.md\)$,\1.gz,') | sort > "$MRL_DEB_WORK/want"
	dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { print $6 }' | sed 's,^\.,,' | sort > "$MRL_DEB_WORK/got"
	# debhelper's own: the copyright, the changelog, the sysusers.d file.
	printf '%s\n' /usr/share/doc/milter-ratelimit/copyright \
	    /usr/share/doc/milter-ratelimit/changelog.gz \
	    /usr/lib/sysusers.d/milter-ratelimit.conf > "$MRL_DEB_WORK/added"
	_missing=$(comm -23 "$MRL_DEB_WORK/want" "$MRL_DEB_WORK/got" | tr '\n' ' ')
	_extra=$(comm -13 "$MRL_DEB_WORK/want" "$MRL_DEB_WORK/got" | grep -vxF -f "$MRL_DEB_WORK/added" | tr '\n' ' ')
	if ! grep -qx /usr/sbin/milter-ratelimit "$MRL_DEB_WORK/want"; then
		fail "$T" "make install staged no /usr/sbin/milter-ratelimit: $(tr '\n' ' ' < "$MRL_DEB_WORK/want")"
	elif [ -n "$_missing" ] || [ -n "$_extra" ]; then
		fail "$T" "installed by make install, not in the package: ${_missing:-none}; in the package only: ${_extra:-none}"
	else
		pass "$T"
	fi
fi
