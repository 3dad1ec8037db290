# shellcheck shell=bash
# The one home of the test MTAs: a real sendmail (with a private rsyslogd)
# and a real Postfix on loopback, each from Debian's packages unpacked into
# a private root, never installed (tests/pkgroot.sh, tests/smroot.sh).
# Sourced (bash) by tests/mta/run.sh (and through it debian.sh, chroot.sh)
# and by tests/faults/run.sh for its mta group.  See tests/mta/run.sh for
# why each step is as it is (FACTS §7).
#
# The caller sets, before use:
#   W        work directory under /run, mode 0755: sendmail refuses a milter
#            socket below a world-writable directory such as /tmp
#   SOCK     the milter's unix socket (in a 0755 directory under W)
#   SM_PORT, PF_PORT, SM_NAME, PF_NAME
#   MTA_TAG  prefix of the check names ("" or "faults/mta/")
#   MTA_START_CHECKS  1: a start that works is a PASS line too (the mta
#            suite counts it; the faults suite does not)
# and calls mta_private_ns first thing, mta_accounts once W exists, and
# mta_etc_check at the end (one check).
# It gets sendmail_start/_launch/_stop, postfix_start/_stop (each prints a
# FAIL line itself when it cannot start and returns 1), probe, flat.
#
# Nothing here changes the machine: the packages are unpacked under W, the
# accounts Postfix needs exist only in the suite's own mount namespace, and
# every daemon is stopped (by process group) at the end.

MTA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=${TOP:-$(cd "$MTA_DIR/../.." && pwd)}
PKG_CACHE=$TOP/tests/.cache
# shellcheck source=tests/pkgroot.sh
. "$TOP/tests/pkgroot.sh"
# shellcheck source=tests/smroot.sh
. "$TOP/tests/smroot.sh"

SM_ROOT=
SM_PID=
PF=
PF_UP=

# --- a mount namespace of the suite's own ---------------------------------------

# mta_private_ns SCRIPT [ARG...]: run SCRIPT (bash) again inside a private
# mount namespace, unless this process already is in one made for it;
# returns only there.  MRL_MTA_NS holds the namespace we left, so a child
# knows it is inside one (and a stale value from elsewhere proves nothing).
mta_private_ns() {
	local here
	here=$(readlink /proc/self/ns/mnt)
	[ -n "${MRL_MTA_NS:-}" ] && [ "$MRL_MTA_NS" != "$here" ] && return 0
	exec env MRL_MTA_NS="$here" unshare -m --propagation private bash "$@"
}

# --- accounts ------------------------------------------------------------------------

# mta_accounts: the accounts the tests run daemons as (postfix, postdrop),
# created only inside this mount namespace: copies of /etc/passwd and
# /etc/group are bind-mounted over the originals and the missing entries
# appended to the copies.  useradd would change the machine's files for
# good (and their "-" backups even if we deleted the user again); here
# the machine's /etc is never written and nothing is left to undo, even
# after a kill -9.  An account the machine has (a Postfix host's postfix)
# is used as it is.  The files are edited in place (never renamed over):
# a bind mount holds the inode.
mta_accounts() {
	[ -f "$W/accounts/passwd" ] && return 0
	mkdir -m 0755 "$W/accounts" || return 1
	cp -p /etc/passwd /etc/group "$W/accounts/" || return 1
	mount --bind "$W/accounts/passwd" /etc/passwd || return 1
	mount --bind "$W/accounts/group" /etc/group || return 1
	acct_group postfix && acct_user postfix postfix /var/spool/postfix && acct_group postdrop
}

# mta_accounts_release: the machine's own /etc/passwd and /etc/group
# visible again in this namespace (after the last daemon is stopped).
mta_accounts_release() {
	[ -f "$W/accounts/passwd" ] || return 0
	umount /etc/group && umount /etc/passwd
}

# What the suites must leave exactly as they found it: the account files
# and their backups, the host and service switch files, tcpd's
# hosts.allow, every MTA's and rsyslog's configuration, and what is
# enabled at boot.  (Not all of /etc: a package installed meanwhile by
# someone else would change ld.so.cache.)
MTA_ETC="/etc/passwd /etc/passwd- /etc/group /etc/group- /etc/shadow /etc/shadow-
 /etc/gshadow /etc/gshadow- /etc/hosts /etc/hosts.allow /etc/hosts.deny /etc/nsswitch.conf
 /etc/mail /etc/postfix /etc/rsyslog.conf /etc/rsyslog.d /etc/systemd/system /etc/init.d
 /etc/rc0.d /etc/rc1.d /etc/rc2.d /etc/rc3.d /etc/rc4.d /etc/rc5.d /etc/rc6.d /etc/rcS.d"

# mta_etc_state: names, modes, owners, sizes, mtimes and contents of
# $MTA_ETC (a path that does not exist is simply absent from it).
mta_etc_state() {
	# shellcheck disable=SC2086
	{ find $MTA_ETC -xdev -printf '%p %m %u %g %s %T@\n' 2>/dev/null
	  find $MTA_ETC -xdev -type f -exec sha256sum {} + 2>/dev/null; } | sort
}

# mta_etc_check NAME BEFORE: the check that $MTA_ETC is as BEFORE (an
# mta_etc_state taken before the suite's first change) once the private
# account files are out of the way.
mta_etc_check() {
	local after why=
	mta_accounts_release || why="cannot unmount the private account files; "
	after=$(mta_etc_state)
	if [ -z "$why" ] && [ "$after" = "$2" ]; then
		pass "$1"
	else
		fail "$1" "$why$(diff <(printf '%s\n' "$2") <(printf '%s\n' "$after") | grep '^[<>]' | head -n 6 | tr '\n' '|')"
	fi
}

# acct_group, acct_user, acct_member: tests/accounts.sh.
# shellcheck source=tests/accounts.sh
. "$TOP/tests/accounts.sh"

# --- small helpers ----------------------------------------------------------------

mta_alive() {
	kill -0 "$1" 2>/dev/null || return 1
	! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}
mta_dead() { ! mta_alive "$1"; }
group_gone() { ! pgrep -g "$1" >/dev/null; }
port_free() { [ -z "$(ss -Hltn "sport = :$1")" ]; }
# listening PORT: both loopback listeners are up.
listening() {
	local l
	l=$(ss -Hltn "sport = :$1")
	[[ $l == *"127.0.0.1:$1 "* && $l == *"[::1]:$1 "* ]]
}

# mta_started NAME: a start that worked; a check only where the suite
# counts it.
mta_started() { [ "${MTA_START_CHECKS:-}" = 1 ] && pass "$1"; return 0; }

# fail_log NAME WHY FILE...: a FAIL, then the tail of each log, indented.
fail_log() {
	local f
	fail "$1" "$2"
	shift 2
	for f in "$@"; do
		[ -s "$f" ] || continue
		echo "#   --- tail of $f"
		tail -n 15 "$f" | sed 's/^/#   /'
	done
}

# subst IN OUT: fill in the @NAME@ placeholders of a template (PORT and
# NAME are the caller's locals).
subst() {
	sed -e "s|@W@|$W|g" -e "s|@PF@|$PF|g" -e "s|@SOCK@|$SOCK|g" \
	    -e "s|@PORT@|$PORT|g" -e "s|@NAME@|$NAME|g" -e "s|@SMCF@|$(smroot_cf "$SM_ROOT")|g" "$1" > "$2"
}

# --- sendmail --------------------------------------------------------------------

# sendmail_root NAME: sendmail and rsyslog unpacked once into $W/root;
# NAME is the check that fails when they cannot be had.
sendmail_root() {
	[ -n "$SM_ROOT" ] && return 0
	local log=$W/root.log
	if ! smroot_unpack "$W/root" "$log" rsyslog; then
		fail_log "$1" "cannot unpack sendmail and rsyslog (tests/smroot.sh)" "$log"
		return 1
	fi
	SM_ROOT=$W/root
	mta_libs "$1" "$(smroot_sendmail "$SM_ROOT")" "$(smroot_rsyslogd "$SM_ROOT")" \
	    "$(smroot_rsyslog_modules "$SM_ROOT")/imuxsock.so" || { SM_ROOT=; return 1; }
	echo "# sendmail and rsyslog: $(sed -n 's/^pkgroot: //p' "$log" | tr '\n' ' ')"
}

# mta_libs NAME FILE...: every shared library of FILE is on the machine
# (tests/deps.sh installs them; the packages themselves are not).
mta_libs() {
	local name=$1 missing
	shift
	missing=$(LD_LIBRARY_PATH=${MTA_LD_PATH:-} ldd "$@" 2>&1 | grep 'not found' | sort -u | tr '\n' ' ')
	[ -z "$missing" ] || { fail "$name" "missing shared libraries: $missing"; return 1; }
}

# sendmail_ns_files: what sendmail-ns.sh mounts and runs (hosts, nsswitch,
# rsyslog.conf) in $W/sm.
sendmail_ns_files() {
	local PORT=$SM_PORT NAME=$SM_NAME d=$W/sm
	mkdir -p "$d" && chmod 0755 "$d"
	printf '127.0.0.1 localhost\n127.0.1.1 %s %s\n::1 localhost ip6-localhost ip6-loopback\n' \
		"$NAME" "$(hostname)" > "$d/hosts"
	printf '%s: files\n' passwd group shadow hosts networks protocols services > "$d/nsswitch.conf"
	subst "$MTA_DIR/rsyslog.conf.in" "$d/rsyslog.conf"
}

sendmail_ready_or_dead() { listening "$SM_PORT" || mta_dead "$SM_PID"; }

# sendmail_start: the test sendmail (sendmail.mc.in) on $SM_PORT.
sendmail_start() {
	local PORT=$SM_PORT NAME=$SM_NAME d=$W/sm name="${MTA_TAG}sendmail starts"
	port_free "$PORT" || { fail "$name" "port $PORT in use: $(ss -Hltnp "sport = :$PORT" | tr '\n' ' ')"; return 1; }
	sendmail_root "$name" || return 1
	sendmail_ns_files
	mkdir -m 0700 "$d/queue"
	subst "$MTA_DIR/sendmail.mc.in" "$d/sendmail.mc"
	if ! m4 "$d/sendmail.mc" > "$d/sendmail.cf" 2> "$d/m4.err" || [ -s "$d/m4.err" ]; then
		fail_log "$name" "m4 sendmail.mc failed" "$d/m4.err"
		return 1
	fi
	sendmail_launch "$name"
}

# sendmail_launch NAME: run $W/sm/sendmail.cf in its private mount
# namespace and wait until it listens; NAME is the check that reports it.
sendmail_launch() {
	local PORT=$SM_PORT d=$W/sm
	local where=${SM_WHERE:-127.0.0.1:$PORT and [::1]:$PORT}
	sendmail_root "$1" || return 1
	# setsid: sendmail, its per-connection children and rsyslogd share one
	# process group we can stop as a whole.  (Without job control a
	# background job is no group leader, so setsid does not fork and $! is
	# the new session's and process group's id.)
	setsid unshare -m --propagation private sh "$MTA_DIR/sendmail-ns.sh" "$d" "$SM_ROOT" > "$d/stderr" 2>&1 &
	SM_PID=$!
	wait_for 30 sendmail_ready_or_dead
	if ! listening "$PORT" || mta_dead "$SM_PID"; then
		fail_log "$1" "not listening on $where after 30 s" "$d/stderr" "$d/maillog"
		return 1
	fi
	mta_started "$1 (listening on $where)"
}

# The whole process group (sendmail, its children, rsyslogd), even when
# sendmail itself has already died.
sendmail_stop() {
	[ -n "$SM_PID" ] || return 0
	kill -TERM -- "-$SM_PID" 2>/dev/null
	wait_for 10 group_gone "$SM_PID" || kill -KILL -- "-$SM_PID" 2>/dev/null
	wait "$SM_PID" 2>/dev/null
	SM_PID=
}

# --- Postfix -------------------------------------------------------------------------

# postfix_fetch: the package unpacked into $W/pf/root for this run (the
# .deb is kept in tests/.cache between runs).
postfix_fetch() {
	local log=$W/pf/fetch.log name="${MTA_TAG}postfix starts"
	mkdir -p "$W/pf" && chmod 0755 "$W/pf"
	if ! pkgroot_unpack "$W/pf/root" "$log" postfix; then
		fail_log "$name" "cannot unpack postfix (tests/pkgroot.sh)" "$log"
		return 1
	fi
	PF=$W/pf/root
	echo "# postfix: $(sed -n 's/^pkgroot: //p' "$log")"
	# Its libraries need packages a sendmail machine may lack (libicu72...).
	MTA_LD_PATH=$PF/usr/lib/postfix mta_libs "$name" "$PF/usr/lib/postfix/sbin/smtpd" "$PF/usr/sbin/postfix"
}

# postfix_users: mail_owner and setgid_group must exist (mta_accounts made
# them, in this namespace only).
postfix_users() { getent passwd postfix >/dev/null && getent group postdrop >/dev/null; }

postfix() { LD_LIBRARY_PATH=$PF/usr/lib/postfix "$PF/usr/sbin/postfix" -c "$W/pf/etc" "$@"; }

postfix_ready_or_dead() {
	[ -s "$W/pf/spool/pid/master.pid" ] || return 1
	listening "$PF_PORT" && return 0
	mta_dead "$(tr -d ' ' < "$W/pf/spool/pid/master.pid")"
}

postfix_start() {
	local PORT=$PF_PORT NAME=$PF_NAME d=$W/pf name="${MTA_TAG}postfix starts"
	port_free "$PORT" || { fail "$name" "port $PORT in use: $(ss -Hltnp "sport = :$PORT" | tr '\n' ' ')"; return 1; }
	postfix_users || { fail "$name" "no user postfix / group postdrop (mta_accounts)"; return 1; }
	[ -n "$PF" ] || postfix_fetch || return 1
	mkdir -m 0755 "$d/etc" "$d/spool"
	mkdir -m 0700 "$d/data"
	chown postfix:postfix "$d/data"
	subst "$MTA_DIR/postfix-main.cf.in" "$d/etc/main.cf"
	subst "$MTA_DIR/postfix-master.cf.in" "$d/etc/master.cf"
	# Debian's postinst writes this list of dynamic map types; hash and the
	# other built-in types need none.  It also makes postqueue and postdrop
	# set-gid postdrop; we never submit locally, but postfix check warns.
	: > "$PF/etc/postfix/dynamicmaps.cf"
	chgrp postdrop "$PF/usr/sbin/postqueue" "$PF/usr/sbin/postdrop"
	chmod 2755 "$PF/usr/sbin/postqueue" "$PF/usr/sbin/postdrop"
	if ! postfix check > "$d/check.log" 2>&1; then
		fail_log "$name" "postfix check failed" "$d/check.log" "$d/maillog"
		return 1
	fi
	PF_UP=1
	if ! postfix start > "$d/start.log" 2>&1; then
		fail_log "$name" "postfix start failed" "$d/start.log" "$d/maillog"
		return 1
	fi
	wait_for 30 postfix_ready_or_dead
	if ! listening "$PORT"; then
		fail_log "$name" "not listening on 127.0.0.1:$PORT and [::1]:$PORT after 30 s" "$d/start.log" "$d/maillog"
		return 1
	fi
	mta_started "$name (listening on 127.0.0.1:$PORT and [::1]:$PORT)"
}

# postfix stop, then make sure master and every child of it is gone: they
# all share master's process group (master calls setsid).
postfix_stop() {
	[ -n "$PF_UP" ] || return 0
	local mp
	mp=$(tr -d ' ' < "$W/pf/spool/pid/master.pid" 2>/dev/null)
	postfix stop > /dev/null 2>&1
	if [ -n "$mp" ] && ! wait_for 15 group_gone "$mp"; then
		kill -KILL -- "-$mp" 2>/dev/null
	fi
	PF_UP=
}

# --- SMTP clients --------------------------------------------------------------------

# probe FROM SERVER PORT CMD...: the exact-transcript client; output in $OUT.
probe() { OUT=$(perl "$MTA_DIR/smtp-probe.pl" "$@" 2>&1); }
flat() { printf '%s' "$OUT" | tr '\n' '|'; }

# codes: the final reply codes of $OUT, one per exchange ("220 250 250 221"),
# "EOF" where the server hung up.
codes() {
	printf '%s\n' "$OUT" | awk '
		/^S: [0-9][0-9][0-9]( |$)/ { c = substr($0, 4, 3) }
		/^C: / { printf "%s ", c; c = "" }
		/^(EOF|TIMEOUT|CONNECT-FAILED)/ { if (c != "") printf "%s ", c; c = ""; printf "%s ", $1 }
		END { if (c != "") printf "%s ", c }' | sed 's/ $//'
}
