# deb/lintian: lintian on the built .deb reports no error and no warning
# (debian/*.lintian-overrides hold the few tags wrong about this package,
# each with its reason).  Its run time is printed.  Sourced by run.sh.
T=deb/lintian
_t0=$(date +%s)
if ! command -v lintian >/dev/null 2>&1; then
	fail "$T" "lintian not installed (apt-get install lintian; make deb installs it)"
elif [ ! -f "$DEB" ]; then
	fail "$T" "no package (deb/build failed)"
elif ! lintian --fail-on error,warning --no-tag-display-limit "$DEB" > "$MRL_DEB_WORK/lintian.log" 2>&1; then
	if grep -qE '^[EW]: ' "$MRL_DEB_WORK/lintian.log"; then
		fail "$T" "$(grep -E '^[EW]: ' "$MRL_DEB_WORK/lintian.log" | head -n 5 | tr '\n' ' ')"
	else
		fail "$T" "lintian failed: $(tail -n 2 "$MRL_DEB_WORK/lintian.log" | tr '\n' ' ')"
	fi
elif grep -qE '^[EW]: ' "$MRL_DEB_WORK/lintian.log"; then
	fail "$T" "$(grep -E '^[EW]: ' "$MRL_DEB_WORK/lintian.log" | head -n 5 | tr '\n' ' ')"
else
	pass "$T"
fi
echo "# deb/lintian: $(( $(date +%s) - _t0 )) s"
