#!/bin/sh
# make deb: build the Debian package from a copy of the tree.
#
#   sh debian/build.sh SRC WORK DIST
#
# dpkg-buildpackage writes the .deb, .buildinfo and .changes into the
# parent of the tree it builds: building the checkout in place would
# write beside it, outside the project.  So the tree (without build
# output, VCS data or test caches) is copied to WORK/milter-ratelimit and
# built there; the results are moved to DIST (created), replacing the
# package files of earlier builds.  WORK and DIST are relative to SRC or absolute.
# dpkg-buildpackage -us -uc -b: binary only, nothing signed; no root
# needed (Rules-Requires-Root: no), DEB_BUILD_OPTIONS passed on.
set -eu
src=$(cd "${1:?usage: debian/build.sh SRC WORK DIST}" && pwd)
work=${2:?usage: debian/build.sh SRC WORK DIST}
dist=${3:?usage: debian/build.sh SRC WORK DIST}
cd "$src"
mkdir -p "$work" "$dist"
work=$(cd "$work" && pwd)
dist=$(cd "$dist" && pwd)
tree=$work/milter-ratelimit
rm -rf "$tree"
rm -f "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes
mkdir "$tree"
# Left out: build directories (build, build-*), the package's own
# output, the runtime directory of make run, the test caches.
set -- --exclude-vcs --exclude=./build --exclude='./build-*' --exclude=./dist \
    --exclude=./run --exclude=./tests/.cache --exclude=./tests/mta/.cache
case $work in "$src"/*) set -- "$@" --exclude="./${work#"$src"/}" ;; esac
case $dist in "$src"/*) set -- "$@" --exclude="./${dist#"$src"/}" ;; esac
tar -c "$@" -f - . | tar -x -C "$tree"
(cd "$tree" && dpkg-buildpackage -us -uc -b)
# Only this build's files in DIST: an older version left there would
# make `apt install ./dist/milter-ratelimit_*.deb` name two versions.
rm -f "$dist"/milter-ratelimit*_*.deb "$dist"/milter-ratelimit*_*.buildinfo \
    "$dist"/milter-ratelimit*_*.changes
n=0
for f in "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes; do
	[ -e "$f" ] || continue
	mv -f "$f" "$dist"/
	echo "debian/build.sh: $dist/${f##*/}"
	n=$((n + 1))
done
[ $n -gt 0 ] || { echo "debian/build.sh: dpkg-buildpackage left no .deb in $work" >&2; exit 1; }
