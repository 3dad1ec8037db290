# deb/build: make deb's script builds the package from a copy of the tree
# and leaves the .deb, .buildinfo and .changes in DIST, nothing beside
# the checkout.  Sourced by run.sh.
T=deb/build
_t0=$(date +%s)
# What dpkg-buildpackage would have left beside the tree it built.
_beside() { ls -d "$MRL_DEB_TOP"/../milter-ratelimit*_*.deb "$MRL_DEB_TOP"/../milter-ratelimit*_*.changes \
    "$MRL_DEB_TOP"/../milter-ratelimit*_*.buildinfo 2>/dev/null; }
_ls_before=$(_beside)
if ! DEB_BUILD_OPTIONS="nocheck parallel=2" sh "$MRL_DEB_TOP/debian/build.sh" "$MRL_DEB_TOP" \
    "$MRL_DEB_WORK/build" "$DIST" > "$MRL_DEB_WORK/build.log" 2>&1; then
	fail "$T" "debian/build.sh failed: $(tail -n 5 "$MRL_DEB_WORK/build.log" | tr '\n' ' ')"
elif [ ! -f "$DEB" ] || [ ! -f "${DEB%.deb}.buildinfo" ] || [ ! -f "${DEB%.deb}.changes" ]; then
	fail "$T" "want $DEB with its .buildinfo and .changes; DIST has: $(ls "$DIST" | tr '\n' ' ')"
elif [ "$(_beside)" != "$_ls_before" ]; then
	fail "$T" "the build wrote beside the checkout, in $(cd "$MRL_DEB_TOP/.." && pwd)"
elif [ "$(dpkg-deb -f "$DEB" Package Version | tr '\n' ' ')" != "Package: milter-ratelimit Version: $VERSION " ]; then
	fail "$T" "wrong control fields: $(dpkg-deb -f "$DEB" Package Version | tr '\n' ' ')"
else
	pass "$T"
fi
echo "# deb/build: $(( $(date +%s) - _t0 )) s"
