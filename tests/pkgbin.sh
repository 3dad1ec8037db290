# Commands the suites take from Debian packages unpacked into a private
# root (tests/pkgroot.sh), never from an installed package: sendmail's
# makemap, rsyslogd and fail2ban-regex.  Installing sendmail-bin would
# remove an admin's Postfix; rsyslog and fail2ban would be enabled at boot.
#
#   PKG_CACHE=$top/tests/.cache; . tests/pkgroot.sh; . tests/smroot.sh; . tests/pkgbin.sh
#   pkgbin_makemap DIR LOG && pkgbin_rsyslogd DIR LOG && pkgbin_fail2ban DIR LOG
#   PATH=DIR/bin:$PATH
#
# Each function unpacks its package into DIR/root and writes a wrapper
# DIR/bin/NAME that runs the unpacked command with what it needs to find
# its own files there; the suites then call makemap, rsyslogd and
# fail2ban-regex by name.  Their shared libraries (and m4, python3) are
# ordinary packages installed by tests/deps.sh (Makefile TEST_DEPS).
# Returns non-zero, with the reason in LOG, when a package cannot be had.
# POSIX sh.

# pkgbin_wrap DIR NAME LINE...: DIR/bin/NAME, a script of the given lines.
pkgbin_wrap() {
	_pb_f=$1/bin/$2
	shift 2
	mkdir -p "${_pb_f%/*}" || return 1
	{ echo '#!/bin/sh'; printf '%s\n' "$@"; } > "$_pb_f" && chmod 0755 "$_pb_f"
}

# pkgbin_makemap DIR LOG: makemap, as tests/smroot.sh unpacks it (a wrapper
# that hands it an empty sendmail.cf: without one it exits 66).
pkgbin_makemap() {
	smroot_unpack "$1/root" "$2" || return 1
	mkdir -p "$1/bin" && ln -sf "$1/root/usr/sbin/makemap" "$1/bin/makemap"
}

# pkgbin_rsyslogd DIR LOG: rsyslogd, loading its modules (imuxsock...)
# from the unpacked tree (-M).
pkgbin_rsyslogd() {
	pkgroot_unpack "$1/root" "$2" rsyslog || return 1
	_pb_m=$(smroot_rsyslog_modules "$1/root") ||
	    { echo "pkgbin: no rsyslog modules in $1/root" >> "$2"; return 1; }
	pkgbin_wrap "$1" rsyslogd "exec '$1/root/usr/sbin/rsyslogd' -M '$_pb_m' \"\$@\""
}

# pkgbin_fail2ban DIR LOG: fail2ban-regex, a Python program: its modules
# come from the unpacked dist-packages, its configuration (common.conf,
# paths-*.conf) from the unpacked etc/fail2ban, never /etc/fail2ban.
pkgbin_fail2ban() {
	pkgroot_unpack "$1/root" "$2" fail2ban || return 1
	pkgbin_wrap "$1" fail2ban-regex \
	    "PYTHONPATH='$1/root/usr/lib/python3/dist-packages' exec python3 '$1/root/usr/bin/fail2ban-regex' --config '$1/root/etc/fail2ban' \"\$@\""
}
