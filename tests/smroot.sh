# shellcheck shell=sh
# sendmail (and rsyslogd) from Debian's packages unpacked into a private
# root (tests/pkgroot.sh), never installed: installing sendmail-bin would
# remove Postfix, enable sendmail at boot and edit /etc/hosts.allow.
#
#   PKG_CACHE=$TOP/tests/.cache
#   . tests/pkgroot.sh
#   . tests/smroot.sh
#   smroot_unpack ROOT LOG [rsyslog]
#
# ROOT receives sendmail-bin, sendmail-base and sendmail-cf (with "rsyslog",
# the rsyslog package too).  Then, in ROOT:
#   $(smroot_sendmail ROOT)  the daemon   (usr/libexec/sendmail/sendmail)
#   ROOT/usr/sbin            makemap (a wrapper, see below), for PATH
#   $(smroot_cf ROOT)        the cf macros: include($(smroot_cf ROOT)/m4/cf.m4)
#   $(smroot_rsyslogd ROOT)  rsyslogd, and smroot_rsyslog_modules ROOT its
#                            module directory (rsyslogd -M)
# Debian's OSTYPE(debian), DOMAIN(debian-mta) and a HACK include
# /usr/share/sendmail/cf/debian/autoconf.m4 by absolute path; that path
# does not exist on a machine without sendmail-cf.  The unpacked root is
# ours and thrown away with the work directory, so those .m4 files are
# rewritten to include ROOT's copy.  Debian's own sendmail.mc is left as
# shipped (tests/mta/debian.sh compares it with the lines it expects).
# POSIX sh: sourced by sh and bash scripts alike.

smroot_unpack() {
	_sr_root=$1 _sr_log=$2
	_sr_pkgs="sendmail-bin sendmail-base sendmail-cf"
	[ "${3:-}" = rsyslog ] && _sr_pkgs="$_sr_pkgs rsyslog"
	# shellcheck disable=SC2086
	pkgroot_unpack "$_sr_root" "$_sr_log" $_sr_pkgs || return 1
	_sr_cf=$_sr_root/usr/share/sendmail/cf
	grep -rl --include='*.m4' /usr/share/sendmail/ "$_sr_cf" 2>/dev/null |
	    while read -r _sr_f; do
		sed -i "s|/usr/share/sendmail/|$_sr_root/usr/share/sendmail/|g" "$_sr_f" || exit 1
	    done || { echo "smroot: re-rooting the cf macros failed" >> "$_sr_log"; return 1; }
	[ -x "$(smroot_sendmail "$_sr_root")" ] && [ -x "$_sr_root/usr/libexec/sendmail/makemap" ] ||
	    { echo "smroot: no sendmail or makemap in $_sr_root" >> "$_sr_log"; return 1; }
	# makemap reads /etc/mail/sendmail.cf (for TrustedUser, the owner it
	# gives a new map) and refuses to run without one; the postinst would
	# have made it.  ROOT/usr/sbin/makemap, a symlink in the package,
	# becomes a wrapper that names ROOT's own, empty one with -C (so the
	# map is root's, 0640, as with Debian's stock sendmail.cf).
	mkdir -p "$_sr_root/etc/mail" &&
	    echo "# empty: makemap needs a sendmail.cf (tests/smroot.sh)" > "$_sr_root/etc/mail/sendmail.cf" &&
	    rm -f "$_sr_root/usr/sbin/makemap" &&
	    printf '#!/bin/sh\nexec "%s" -C "%s" "$@"\n' "$_sr_root/usr/libexec/sendmail/makemap" \
	        "$_sr_root/etc/mail/sendmail.cf" > "$_sr_root/usr/sbin/makemap" &&
	    chmod 0755 "$_sr_root/usr/sbin/makemap" ||
	    { echo "smroot: cannot write the makemap wrapper" >> "$_sr_log"; return 1; }
}

smroot_sendmail() { echo "$1/usr/libexec/sendmail/sendmail"; }
smroot_cf() { echo "$1/usr/share/sendmail/cf"; }
smroot_rsyslogd() { echo "$1/usr/sbin/rsyslogd"; }
# The multiarch directory (usr/lib/x86_64-linux-gnu/rsyslog on amd64).
smroot_rsyslog_modules() {
	for _sr_d in "$1"/usr/lib/*/rsyslog; do [ -f "$_sr_d/imuxsock.so" ] && { echo "$_sr_d"; return 0; }; done
	return 1
}

# smroot_path ROOT LOG: makemap and the other sendmail tools first on PATH
# (exported, for child scripts too), from the packages unpacked into ROOT.
smroot_path() {
	smroot_unpack "$1" "$2" || return 1
	PATH=$1/usr/sbin:$PATH
	export PATH
}
