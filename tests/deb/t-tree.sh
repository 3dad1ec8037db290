# deb/tree: make deb's script, run in a git checkout with uncommitted junk
# in it, builds from the files git tracks only: an untracked
# debian/milter-ratelimit.dirs (which dh_installdirs would act on, putting
# a directory in the package) and a scratch source never reach the tree
# dpkg-buildpackage builds; an uncommitted edit to a tracked file does,
# and is named.  A clone of this checkout's HEAD gets the junk, and this
# checkout's debian/build.sh builds it; a stand-in
# dpkg-buildpackage first in PATH lists the tree it was given (no real
# build: deb/build does one).  Skipped where the checkout is not git's.
# Sourced by run.sh.
T=deb/tree
_c=$MRL_DEB_WORK/tree-clone
_bin=$MRL_DEB_WORK/tree-bin
_why=
if ! git -C "$MRL_DEB_TOP" rev-parse --verify -q HEAD > /dev/null 2>&1; then
	skip "$T" "$MRL_DEB_TOP is not a git checkout"
else
	rm -rf "$_c" "$_bin" && mkdir -p "$_bin" &&
	git clone -q "$MRL_DEB_TOP" "$_c" > "$MRL_DEB_WORK/tree.log" 2>&1 ||
		_why="git clone failed: $(tail -n 2 "$MRL_DEB_WORK/tree.log" | tr '\n' ' ')"
	if [ -z "$_why" ]; then
		# The stand-in: the tree's files, and a .deb where the real one goes.
		printf '#!/bin/sh\nfind . -type f | sort > "%s"\n: > ../milter-ratelimit_0_all.deb\n' \
		    "$MRL_DEB_WORK/tree.list" > "$_bin/dpkg-buildpackage"
		chmod 0755 "$_bin/dpkg-buildpackage"
		echo 'var/lib/junk' > "$_c/debian/milter-ratelimit.dirs"
		echo 'int junk;' > "$_c/src/junk.c"
		echo '# an uncommitted edit' >> "$_c/debian/rules"
		# As root, the clone is another user's, as with `sudo make deb` in
		# one's own checkout: git then refuses the repository ("dubious
		# ownership") unless told it is safe, and a refusal must not
		# mean the whole tree, junk and all, is built.
		[ "$(id -u)" != 0 ] || chown -R 65534:65534 "$_c"
		(cd "$_c" && PATH="$_bin:$PATH" sh "$MRL_DEB_TOP/debian/build.sh" . build-deb dist) \
		    > "$MRL_DEB_WORK/tree.log" 2>&1 ||
			_why="debian/build.sh failed: $(tail -n 3 "$MRL_DEB_WORK/tree.log" | tr '\n' ' ')"
	fi
	if [ -n "$_why" ]; then
		:
	elif ! grep -qx './src/main.c' "$MRL_DEB_WORK/tree.list" ||
	    ! grep -qx './debian/rules' "$MRL_DEB_WORK/tree.list"; then
		_why="the tree built lacks src/main.c or debian/rules: $(head -n 5 "$MRL_DEB_WORK/tree.list" | tr '\n' ' ')"
	elif _j=$(grep -x -e './debian/milter-ratelimit.dirs' -e './src/junk.c' -e './\.git/.*' \
	    "$MRL_DEB_WORK/tree.list"); then
		_why="untracked files reached the tree built: $(printf '%s' "$_j" | tr '\n' ' ')"
	elif ! tail -n 1 "$_c/build-deb/milter-ratelimit/debian/rules" | grep -qx '# an uncommitted edit'; then
		_why="the uncommitted edit to debian/rules did not reach the tree built"
	elif ! grep -q 'uncommitted changes built in: .*debian/rules' "$MRL_DEB_WORK/tree.log"; then
		_why="the edit was not named: $(tr '\n' ' ' < "$MRL_DEB_WORK/tree.log")"
	fi
	if [ -n "$_why" ]; then fail "$T" "$_why"; else pass "$T"; fi
fi
