# deb/control: debian/control's Build-Depends name every package of the
# Makefile's BUILD_DEPS (but build-essential, which Debian implies), and
# the package's version is the Makefile's VERSION.  A library added to
# BUILD_DEPS and not to debian/control fails here, not on a user's
# machine.  Sourced by run.sh.
T=deb/control
_deps=$(make -s -C "$MRL_DEB_TOP" print-deps | sed -n 's/^BUILD_DEPS //p')
_bd=$(sed -n '/^Build-Depends:/,/^[^ #]/p' "$MRL_DEB_TOP/debian/control" | grep -v '^#' |
    sed -e 's/^Build-Depends://' -e '/^[A-Z][A-Za-z-]*:/d' | tr ',' '\n' |
    sed -e 's/[[(<].*//' -e 's/[[:space:]]//g' | grep -v '^$')
_mk_version=$(sed -n 's/^VERSION *:= *//p' "$MRL_DEB_TOP/Makefile")
_missing=
for _p in $_deps; do
	[ "$_p" = build-essential ] && continue
	printf '%s\n' "$_bd" | grep -qxF "$_p" || _missing="$_missing $_p"
done
if [ -z "$_deps" ]; then
	fail "$T" "make print-deps gave no BUILD_DEPS"
elif [ -n "$_missing" ]; then
	fail "$T" "BUILD_DEPS has$_missing, debian/control's Build-Depends does not"
elif [ "${VERSION%%[-+~]*}" != "$_mk_version" ]; then
	fail "$T" "debian/changelog's version $VERSION is not the Makefile's $_mk_version"
else
	pass "$T"
fi
