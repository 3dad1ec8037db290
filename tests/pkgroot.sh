# Debian packages unpacked into a private root, never installed: the test
# MTAs (sendmail, Postfix), rsyslogd and fail2ban run from such roots so
# that `make check` changes nothing the machine's own mail system owns
# (Debian's sendmail-bin and postfix conflict: installing one removes the
# other; rsyslog and fail2ban would be enabled at boot).
# Their libraries are ordinary packages, installed by tests/deps.sh.
#
#   . tests/pkgroot.sh
#   pkgroot_unpack ROOT LOG PKG...
#
# Each .deb is downloaded once into $PKG_CACHE (tests/.cache, git-ignored)
# and kept between runs; ROOT receives `dpkg -x` of each.
# Returns non-zero, with the reason in LOG, when a package cannot be had.
# POSIX sh: sourced by sh and bash scripts alike.

# The caller sets PKG_CACHE (the suites use $TOP/tests/.cache).
: "${PKG_CACHE:?tests/pkgroot.sh: set PKG_CACHE before sourcing}"

# pkgroot_cached PKG: the newest-sorting cached .deb of PKG, if any.
pkgroot_cached() {
	_pr_last=
	for _pr_f in "$PKG_CACHE/$1"_*.deb; do [ -f "$_pr_f" ] && _pr_last=$_pr_f; done
	echo "$_pr_last"
}

# pkgroot_fetch LOG PKG: make sure PKG's .deb is in the cache.
pkgroot_fetch() {
	[ -n "$(pkgroot_cached "$2")" ] && return 0
	mkdir -p "$PKG_CACHE" || return 1
	# Into a scratch directory first: an interrupted download must not
	# look like a cached package.  No lists yet on a fresh machine:
	# update once and retry.
	_pr_tmp=$PKG_CACHE/partial.$$
	rm -rf "$_pr_tmp" && mkdir -p "$_pr_tmp" || return 1
	{ (cd "$_pr_tmp" && apt-get download "$2") ||
		{ apt-get update -q && (cd "$_pr_tmp" && apt-get download "$2"); }
	} >> "$1" 2>&1
	mv "$_pr_tmp/$2"_*.deb "$PKG_CACHE"/ 2>> "$1"
	rm -rf "$_pr_tmp"
	[ -n "$(pkgroot_cached "$2")" ] || { echo "pkgroot: apt-get download $2 failed" >> "$1"; return 1; }
}

pkgroot_unpack() {
	_pr_root=$1 _pr_log=$2
	shift 2
	mkdir -p "$_pr_root" || return 1
	for _pr_p in "$@"; do
		pkgroot_fetch "$_pr_log" "$_pr_p" || return 1
		_pr_deb=$(pkgroot_cached "$_pr_p")
		dpkg -x "$_pr_deb" "$_pr_root" 2>> "$_pr_log" ||
			{ echo "pkgroot: dpkg -x $_pr_deb failed" >> "$_pr_log"; return 1; }
		echo "pkgroot: $(basename "$_pr_deb")" >> "$_pr_log"
	done
}
