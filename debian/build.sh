#!/bin/sh
# make deb: build the Debian package from a copy of the tree.
#
#   sh debian/build.sh SRC WORK DIST
#
# dpkg-buildpackage writes the .deb, .buildinfo and .changes into the
# parent of the tree it builds: building the checkout in place would
# write beside it, outside the project.  So the tree (without build
# output, VCS data or test caches) is copied to WORK/milter-ratelimit and
# built there (from a git checkout: the files git tracks only); the
# results are moved to DIST (created), replacing the package files of
# earlier builds.  WORK and DIST are relative to SRC or absolute.
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
# A git checkout: only the files git tracks (as they are in the work
# tree), so what the package is built from is the commit plus any edits
# to its files, named below; an untracked file (a stray
# debian/milter-ratelimit.dirs or .install, which debhelper would act on,
# a scratch source) never gets in.  Elsewhere (a release tarball): the
# whole tree but the excluded directories.
# safe.directory: `sudo make deb` in one's own clone runs git as root on
# another user's repository, which git refuses ("dubious ownership")
# unless told; make has already run that tree's Makefile as root, so
# trusting its .git adds nothing.
git_src() { git -c safe.directory="$(pwd -P)" -C "$src" "$@"; }
if [ "$(git_src rev-parse --show-toplevel 2>/dev/null)" = "$(pwd -P)" ]; then
	junk=$(git_src ls-files --others --exclude-standard | tr '\n' ' ')
	[ -z "$junk" ] || echo "debian/build.sh: left out, not tracked by git: $junk" >&2
	edits=$(git_src diff --name-only HEAD -- | tr '\n' ' ')
	[ -z "$edits" ] || echo "debian/build.sh: warning: uncommitted changes built in: $edits" >&2
	# --ignore-failed-read: a tracked file deleted in the work tree stays out.
	git_src ls-files -z --cached |
	    tar -c --null --no-recursion --ignore-failed-read -T - -f - | tar -x -C "$tree"
else
	tar -c "$@" -f - . | tar -x -C "$tree"
fi
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
