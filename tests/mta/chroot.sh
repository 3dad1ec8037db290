# Postfix as Debian ships it, the milter as the shipped unit runs it, set up
# by the README's own Postfix commands.  Sourced by tests/mta/run.sh (it uses
# its helpers, $W, $PF, $BIN, $HERE); not run alone.
#
# - master.cf: Debian's own smtp line (from the package's master.cf.dist),
#   smtpd chrooted (chroot y) in a private queue directory $W/pfc/spool;
# - the README's "test:postfix-install" block runs as a script with
#   /etc/milter-ratelimit.conf and /var/spool/postfix pointing into $W and
#   stubs for what would touch the machine (make install, systemctl,
#   usermod, postfix reload): its sed writes the milter's config, its
#   postconf -e (the real one, MAIL_CONFIG=$W/pfc/etc) writes main.cf;
# - the unit's ExecStartPre=+ line makes the socket directory, its
#   ReadWritePaths= is the only writable place (unit-ns.sh: every mount
#   read-only, as ProtectSystem=strict), the daemon runs as the unit's
#   user stand-in $SVC_USER, and postfix is a member of its group;
# - clients: the README's "test:postfix-check" loop, and the same over ::1:
#   ten 220s, then 421; another address is still greeted.

PFC_PORT=2527
PFC_LIMIT=10			# the sample config's limit, untouched
SVC_USER=mrlsvc			# stands for milter-ratelimit (User= in the unit)
UNIT=$HERE/../../conf/milter-ratelimit.service
README=$HERE/../../README.md
SAMPLE_CONF=$HERE/../../conf/milter-ratelimit.conf
PF_SNIPPET=$HERE/../../conf/postfix-main.cf
PFC_UP=
PFC_MILTER_PID=

# readme_block NAME: the ```sh block right after "<!-- test:NAME -->".
readme_block() {
	awk -v m="<!-- test:$1 -->" '
	    $0 == m { want = 1; next }
	    want == 1 && /^```sh$/ { want = 2; next }
	    want == 2 && /^```$/ { exit }
	    want == 2 { print }' "$README"
}

# unit_value KEY: the value of KEY= in the unit (first one).
unit_value() { sed -n "s/^$1=//p" "$UNIT" | head -n 1; }

# pfc_local PATH: a path of the real system mapped into this test.
pfc_local() {
	printf '%s\n' "$1" | sed -e "s|/var/spool/postfix|$W/pfc/spool|g" \
	    -e "s|/etc/milter-ratelimit.conf|$W/pfc/milter.conf|g"
}

# svc_user: the unit's user stand-in and its group, postfix a member, in
# the suite's private account files (tests/mta/lib.sh mta_accounts):
# nothing of the machine's changes, nothing is left to remove.
svc_user() {
	acct_group "$SVC_USER" && acct_user "$SVC_USER" "$SVC_USER" /nonexistent &&
	    acct_member "$SVC_USER" postfix
}

pfc_cleanup() {
	pfc_milter_stop
	pfc_postfix_stop
}

pfc_postconf() { MAIL_CONFIG=$W/pfc/etc "$W/bin/postconf" "$@"; }
pfc_postfix() { LD_LIBRARY_PATH=$PF/usr/lib/postfix "$PF/usr/sbin/postfix" -c "$W/pfc/etc" "$@"; }

# --- the README's install block --------------------------------------------

# pfc_block_quiet BLOCK: the block again, every machine-changing command
# stubbed (and nothing recorded); sed and postconf are real.
pfc_block_quiet() {
	(
		make() { :; }; systemctl() { :; }; usermod() { :; }; postfix() { :; }
		milter-ratelimit() { :; }; postconf() { pfc_postconf "$@"; }
		# shellcheck disable=SC1090
		. "$1"
	) > /dev/null 2>&1
}

# Run the block with the machine-changing commands stubbed; each stub
# records its arguments in $W/pfc/calls.  sed and postconf are real.
pfc_readme_install() {
	local block=$W/pfc/readme-install.sh name="postfix chroot: README install block runs"
	readme_block postfix-install > "$block.orig"
	if [ ! -s "$block.orig" ]; then
		fail "$name" "no <!-- test:postfix-install --> sh block in README.md"
		return 1
	fi
	if ! bash -n "$block.orig" 2> "$W/pfc/readme.err"; then
		fail_log "$name" "the block does not parse" "$W/pfc/readme.err"
		return 1
	fi
	pfc_local "$(cat "$block.orig")" > "$block"
	: > "$W/pfc/calls"
	(
		set -e
		calls=$W/pfc/calls
		make() { echo "make $*" >> "$calls"; }
		systemctl() { echo "systemctl $*" >> "$calls"; }
		usermod() { echo "usermod $*" >> "$calls"; }
		postfix() { echo "postfix $*" >> "$calls"; }
		milter-ratelimit() { echo "milter-ratelimit $*" >> "$calls"; }
		postconf() { pfc_postconf "$@"; }
		# shellcheck disable=SC1090
		. "$block"
	) > "$W/pfc/readme.out" 2>&1 || {
		fail_log "$name" "exit status $?" "$W/pfc/readme.out"
		return 1
	}
	pass "$name"
	# What it must have done: the group for postfix, a reload after it.
	name="postfix chroot: README adds postfix to the milter's group, then reloads Postfix"
	if grep -qx "usermod -a -G milter-ratelimit postfix" "$W/pfc/calls" &&
	    grep -qx "postfix reload" "$W/pfc/calls" &&
	    [ "$(grep -n -x 'usermod -a -G milter-ratelimit postfix' "$W/pfc/calls" | cut -d: -f1)" -lt \
	      "$(grep -n -x 'postfix reload' "$W/pfc/calls" | cut -d: -f1)" ]; then
		pass "$name"
	else
		fail "$name" "calls: $(tr '\n' '|' < "$W/pfc/calls")"
	fi
	# Its main.cf line is the shipped snippet's.
	name="postfix chroot: README's smtpd_milters is conf/postfix-main.cf's"
	local want got
	want=$(sed -n 's/^smtpd_milters = //p' "$PF_SNIPPET")
	got=$(pfc_postconf -h smtpd_milters)
	if [ -n "$want" ] && [ "$got" = "$want" ]; then
		pass "$name"
	else
		fail "$name" "main.cf has '$got', conf/postfix-main.cf '$want'"
	fi
	# Run again, and on a main.cf with another milter and other global
	# milter settings: nothing doubled, the other milter kept (after ours),
	# the global settings untouched.
	name="postfix chroot: README block runs twice, keeps other milters and their settings"
	cp "$W/pfc/etc/main.cf" "$W/pfc/main.cf.readme"
	local twice other
	pfc_block_quiet "$block"
	twice=$(pfc_postconf -h smtpd_milters)
	pfc_postconf -e 'smtpd_milters = unix:/opendkim/opendkim.sock' 'milter_default_action = tempfail'
	pfc_block_quiet "$block"
	other="$(pfc_postconf -h smtpd_milters)|$(pfc_postconf -h milter_default_action)"
	cp "$W/pfc/main.cf.readme" "$W/pfc/etc/main.cf"
	if [ "$twice" = "$want" ] && [ "$other" = "$want, unix:/opendkim/opendkim.sock|tempfail" ]; then
		pass "$name"
	else
		fail "$name" "second run: '$twice'; with opendkim: '$other' (want '$want, unix:/opendkim/opendkim.sock|tempfail')"
	fi
}

# --- Postfix, chrooted --------------------------------------------------------

pfc_postfix_ready() {
	[ -s "$W/pfc/spool/pid/master.pid" ] && listening "$PFC_PORT"
}

pfc_postfix_start() {
	local PORT=$PFC_PORT NAME=$PF_NAME d=$W/pfc line
	port_free "$PORT" || { fail "postfix chroot: postfix starts" "port $PORT in use"; return 1; }
	# The harness's main.cf, moved to $d, without its milter lines: the
	# README's postconf -e must supply them.
	subst "$HERE/postfix-main.cf.in" "$d/etc/main.cf.tmp"
	sed -e "s#$W/pf/\(spool\|data\|maillog\)#$W/pfc/\1#g" -e '/^smtpd_milters\|^milter_/d' "$d/etc/main.cf.tmp" > "$d/etc/main.cf"
	rm -f "$d/etc/main.cf.tmp"
	# Debian's own smtp line, on our port; the other services unchanged.
	line=$(grep -E '^smtp +inet .* smtpd$' "$PF/usr/share/postfix/master.cf.dist" | head -n 1)
	if [ -z "$line" ]; then
		fail "postfix chroot: postfix starts" "no smtp inet line in the package's master.cf.dist"
		return 1
	fi
	note "postfix chroot: Debian's line: $line"
	{
		printf '%s\n' "${line/#smtp/$PORT}"
		subst "$HERE/postfix-master.cf.in" /dev/stdout | grep -v "^$PORT "
	} > "$d/etc/master.cf"
	pfc_readme_install || return 1
	# Debian's postfix init copies these into the chroot, so we do too.
	# This smtpd needs none of them (every test passed with none: it looks
	# up no names, smtpd_peername_lookup = no, and logs through postlogd's
	# socket inside the spool); PFC_CHROOT_FILES= reruns that experiment.
	mkdir -p "$d/spool/etc"
	for f in ${PFC_CHROOT_FILES-services hosts resolv.conf localtime nsswitch.conf host.conf}; do
		[ -e "/etc/$f" ] && cp -L "/etc/$f" "$d/spool/etc/$f"
	done
	if ! pfc_postfix check > "$d/check.log" 2>&1; then
		fail_log "postfix chroot: postfix starts" "postfix check failed" "$d/check.log" "$d/maillog"
		return 1
	fi
	PFC_UP=1
	if ! pfc_postfix start > "$d/start.log" 2>&1 || ! wait_for 30 pfc_postfix_ready; then
		fail_log "postfix chroot: postfix starts" "not listening on $PORT after 30 s" "$d/start.log" "$d/maillog"
		return 1
	fi
	pass "postfix chroot: postfix starts with Debian's chrooted smtpd (listening on 127.0.0.1:$PORT and [::1]:$PORT)"
}

pfc_postfix_stop() {
	[ -n "$PFC_UP" ] || return 0
	local mp
	mp=$(tr -d ' ' < "$W/pfc/spool/pid/master.pid" 2>/dev/null)
	pfc_postfix stop > /dev/null 2>&1
	if [ -n "$mp" ] && ! wait_for 15 group_gone "$mp"; then
		kill -KILL -- "-$mp" 2>/dev/null
	fi
	PFC_UP=
}

# --- the milter, as the unit starts it -------------------------------------

# The unit's ExecStartPre=+ command (root, no sandbox), mapped into $W.
pfc_unit_pre() {
	local cmd
	cmd=$(sed -n 's/^ExecStartPre=+//p' "$UNIT" | head -n 1)
	[ -n "$cmd" ] || return 1
	cmd=$(pfc_local "$cmd" | sed "s/chown milter-ratelimit:milter-ratelimit /chown $SVC_USER:$SVC_USER /")
	eval "$cmd"
}

# in_unit CMD...: CMD inside the unit's sandbox, as the service user, with
# the private postconf first on PATH and MAIL_CONFIG naming our Postfix.
# It replaces the calling (sub)shell: every step execs the next, so the
# pid of `(in_unit ...) &` is CMD's own, and stopping it stops CMD.
in_unit() {
	local rw
	rw=$(pfc_local "$(unit_value ReadWritePaths | sed 's/^-//')")
	PATH=$W/bin:$PATH MAIL_CONFIG=$W/pfc/etc \
	    exec unshare -m --propagation private sh "$HERE/unit-ns.sh" "$SVC_USER" "$rw" -- "$@"
}

pfc_sock_or_dead() { [ -S "$PFC_SOCK" ] || dead "$PFC_MILTER_PID"; }

pfc_milter_start() {
	local name="postfix chroot: the unit makes the socket directory" dir st
	PFC_SOCK=$(sed -n 's/^socket *= *"unix:\(.*\)"/\1/p' "$W/pfc/milter.conf")
	dir=$(dirname "$PFC_SOCK")
	# The unit's user: the service user stand-in.
	sed -i "s/^user *=.*/user        = \"$SVC_USER\"/" "$W/pfc/milter.conf"
	# On a sendmail host (no spool) the same command creates nothing.
	if ! (W=$W/nospool-host; pfc_unit_pre) > "$W/pfc/pre-nospool.log" 2>&1 || [ -e "$W/nospool-host" ]; then
		fail_log "postfix chroot: the unit's ExecStartPre= creates nothing without a Postfix spool" \
		    "exit status or $W/nospool-host exists" "$W/pfc/pre-nospool.log"
	else
		pass "postfix chroot: the unit's ExecStartPre= creates nothing without a Postfix spool"
	fi
	if ! pfc_unit_pre > "$W/pfc/pre.log" 2>&1; then
		fail_log "$name" "ExecStartPre=+ failed" "$W/pfc/pre.log"
		return 1
	fi
	st=$(stat -c '%U:%G %a' "$dir" 2>/dev/null)
	if [ "$st" = "$SVC_USER:$SVC_USER 750" ]; then
		pass "$name ($dir, $st)"
	else
		fail "$name" "$dir is '${st:-missing}', want $SVC_USER:$SVC_USER 750"
		return 1
	fi
	# ExecStartPre=milter-ratelimit -n, in the sandbox: OK and no warning.
	name="postfix chroot: -n in the unit's sandbox is silent with the README's setup"
	(in_unit "$BIN" -n -f "$W/pfc/milter.conf") > "$W/pfc/n.log" 2>&1
	st=$?
	if [ $st = 0 ] && [ "$(cat "$W/pfc/n.log")" = "configuration OK" ]; then
		pass "$name"
	else
		fail_log "$name" "exit $st" "$W/pfc/n.log"
	fi
	PFC_MLOG=$W/pfc/milter.log
	(in_unit "$BIN" -d -f "$W/pfc/milter.conf") > "$PFC_MLOG" 2>&1 &
	PFC_MILTER_PID=$!
	wait_for 10 pfc_sock_or_dead
	name="postfix chroot: the milter starts in the unit's sandbox, socket in the spool"
	if [ ! -S "$PFC_SOCK" ] || dead "$PFC_MILTER_PID"; then
		fail_log "$name" "no socket $PFC_SOCK" "$PFC_MLOG"
		return 1
	fi
	# The same file, by device and inode: the link's text names the path
	# from the process's own root, which differs under a chroot.
	if [ "$(stat -L -c %d:%i "/proc/$PFC_MILTER_PID/exe" 2>&1)" != "$(stat -L -c %d:%i "$BIN")" ]; then
		fail "$name" "pid $PFC_MILTER_PID is not the milter: $(readlink "/proc/$PFC_MILTER_PID/exe")"
		return 1
	fi
	st=$(stat -c '%U:%G %a' "$PFC_SOCK")
	if [ "$st" = "$SVC_USER:$SVC_USER 660" ]; then
		pass "$name ($st)"
	else
		fail "$name" "socket is $st, want $SVC_USER:$SVC_USER 660"
	fi
}

pfc_milter_stop() {
	[ -n "$PFC_MILTER_PID" ] || return 0
	kill -TERM "$PFC_MILTER_PID" 2>/dev/null
	wait_for 10 dead "$PFC_MILTER_PID" || kill -KILL "$PFC_MILTER_PID" 2>/dev/null
	wait "$PFC_MILTER_PID" 2>/dev/null
	PFC_MILTER_PID=
}

# --- -n against this Postfix ---------------------------------------------------

# The old README's setup: socket in /run (here: outside the spool).
pfc_n_warns() {
	local name="postfix chroot: -n warns when the socket is outside the chroot" out
	sed "s|^socket *=.*|socket = \"unix:$W/milter/outside.sock\"|" "$W/pfc/milter.conf" > "$W/pfc/outside.conf"
	out=$(PATH=$W/bin:$PATH MAIL_CONFIG=$W/pfc/etc "$BIN" -n -f "$W/pfc/outside.conf" 2>&1)
	if [[ $out == *"configuration OK"* ]] &&
	    [[ $out == *"Postfix: smtpd (master.cf $PFC_PORT/inet) runs chrooted in $W/pfc/spool and cannot reach the milter socket $W/milter/outside.sock"* ]] &&
	    [[ $out == *"smtpd_milters = unix:/milter-ratelimit/milter-ratelimit.sock"* ]]; then
		pass "$name"
	else
		fail "$name" "got: $(printf '%s' "$out" | tr '\n' '|')"
	fi
	# main.cf naming the host path to a chrooted smtpd.
	name="postfix chroot: -n warns when smtpd_milters names the host path"
	cp "$W/pfc/etc/main.cf" "$W/pfc/main.cf.good"
	pfc_postconf -e "smtpd_milters = unix:$PFC_SOCK"
	out=$(PATH=$W/bin:$PATH MAIL_CONFIG=$W/pfc/etc "$BIN" -n -f "$W/pfc/milter.conf" 2>&1)
	cp "$W/pfc/main.cf.good" "$W/pfc/etc/main.cf"
	if [[ $out == *"names no path that reaches the milter socket $PFC_SOCK"* ]] &&
	    [[ $out == *"Fix: smtpd_milters = unix:/milter-ratelimit/milter-ratelimit.sock,"* ]]; then
		pass "$name"
	else
		fail "$name" "got: $(printf '%s' "$out" | tr '\n' '|')"
	fi
}

# A postconf that hangs or fails: a warning, never a hang or a refusal.
pfc_postconf_faults() {
	local fake=$W/fakebin out t0 el name
	mkdir -p "$fake"
	printf '#!/bin/sh\nexec sleep 60\n' > "$fake/postconf"
	chmod 0755 "$fake/postconf"
	name="postfix: -n with a postconf that hangs: warns after 5 s, still OK"
	t0=$(date +%s%N)
	out=$(PATH=$fake:$PATH timeout 20 "$BIN" -n -f "$W/pfc/milter.conf" 2>&1)
	el=$(( ($(date +%s%N) - t0) / 1000000 ))
	if [[ $out == *"cannot check whether Postfix reaches the milter: postconf -xh queue_directory did not finish within 5000 ms"* ]] &&
	    [[ $out == *"configuration OK"* ]] && [ "$el" -lt 8000 ]; then
		pass "$name ($el ms)"
	else
		fail "$name" "after $el ms: $(printf '%s' "$out" | tr '\n' '|')"
	fi
	# One that closes its output and then hangs: the bound holds for the
	# wait for its exit too (a review found 30 s per call).
	printf '#!/bin/sh\nexec >&- 2>&-\nexec sleep 60\n' > "$fake/postconf"
	name="postfix: -n with a postconf that closes its output and hangs: 5 s, still OK"
	t0=$(date +%s%N)
	out=$(PATH=$fake:$PATH timeout 20 "$BIN" -n -f "$W/pfc/milter.conf" 2>&1)
	el=$(( ($(date +%s%N) - t0) / 1000000 ))
	if [[ $out == *"did not finish within 5000 ms"* ]] && [[ $out == *"configuration OK"* ]] &&
	    [ "$el" -lt 8000 ]; then
		pass "$name ($el ms)"
	else
		fail "$name" "after $el ms: $(printf '%s' "$out" | tr '\n' '|')"
	fi
	printf '#!/bin/sh\necho "postconf: fatal: no main.cf" >&2\nexit 1\n' > "$fake/postconf"
	name="postfix: -n with a postconf that fails: warns with its message, still OK"
	out=$(PATH=$fake:$PATH timeout 20 "$BIN" -n -f "$W/pfc/milter.conf" 2>&1)
	if [[ $out == *"postconf -xh queue_directory failed (exit 1): postconf: fatal: no main.cf"* ]] &&
	    [[ $out == *"configuration OK"* ]]; then
		pass "$name"
	else
		fail "$name" "$(printf '%s' "$out" | tr '\n' '|')"
	fi
}

# --- clients ---------------------------------------------------------------------

# readme_check FROM SERVER: the README's check loop, aimed at our port and
# FROM/SERVER; its output in $OUT.
readme_check() {
	local block
	block=$(readme_block postfix-check | sed -e "s|--server 127.0.0.1|--server $2 --port $PFC_PORT --timeout 10|" \
	    -e "s|--local-interface 127.0.0.2|--local-interface $1|")
	OUT=$(bash -c "$block" 2>&1)
}

# check_codes NAME: $OUT is ten 220 greetings, then a 421.
check_codes() {
	local codes want
	codes=$(printf '%s\n' "$OUT" | sed -n 's/^<\(-\|\*\*\) *\([0-9][0-9][0-9]\) .*/\2/p' | tr '\n' ' ')
	want="$(printf '220 %.0s' $(seq 1 "$PFC_LIMIT"))421 "
	if [ "$codes" = "$want" ] &&
	    printf '%s\n' "$OUT" | tail -n 1 | grep -qF "<** 421 $PF_NAME Service unavailable - try again later"; then
		pass "$1"
	else
		fail "$1" "codes '$codes', want '$want'; last: $(printf '%s\n' "$OUT" | tail -n 1)"
	fi
}

pfc_clients() {
	local n
	readme_check 127.0.0.2 127.0.0.1
	note "postfix chroot: README check from 127.0.0.2: $(printf '%s' "$OUT" | tr '\n' '|')"
	check_codes "postfix chroot: README check: 127.0.0.2 gets 10 greetings, the 11th a 421"
	sessions 1 "postfix chroot: 127.0.0.3 still greeted after 127.0.0.2 was refused" 127.0.0.3 127.0.0.1 "$PFC_PORT"
	readme_check ::1 ::1
	check_codes "postfix chroot: the same over IPv6: ::1 gets 10 greetings, the 11th a 421"
	sessions 1 "postfix chroot: 127.0.0.4 still greeted after ::1 was refused" 127.0.0.4 127.0.0.1 "$PFC_PORT"
	# Both refusals in the milter's log, and Postfix reached the milter
	# every time (no "connect to Milter service" warning).
	n=$(grep -cE 'refused client=(127\.0\.0\.2|::1) ' "$PFC_MLOG")
	if [ "$n" = 2 ]; then
		pass "postfix chroot: the milter logs both refusals"
	else
		fail_log "postfix chroot: the milter logs both refusals" "$n refusal lines" "$PFC_MLOG"
	fi
	if grep -q 'connect to Milter service' "$W/pfc/maillog"; then
		fail "postfix chroot: smtpd reaches the milter from its chroot" "$(grep 'connect to Milter' "$W/pfc/maillog" | head -n 2 | tr '\n' '|')"
	else
		pass "postfix chroot: smtpd reaches the milter from its chroot"
	fi
}

# postconf_wrapper: $W/bin/postconf runs the unpacked package's postconf
# with its private libraries: the milter finds it on PATH as it would
# find /usr/sbin/postconf.
postconf_wrapper() {
	mkdir -p "$W/bin"
	cat > "$W/bin/postconf" <<-EOF
	#!/bin/sh
	LD_LIBRARY_PATH=$PF/usr/lib/postfix exec $PF/usr/sbin/postconf "\$@"
	EOF
	chmod 0755 "$W/bin" "$W/bin/postconf"
}

# On Debian postfix.service runs /bin/true; Postfix is postfix@-.service.
pfc_unit_order() {
	local name="postfix chroot: the unit starts before postfix@-.service (Debian's real Postfix unit)"
	if unit_value Before | tr ' ' '\n' | grep -qx 'postfix@-.service'; then pass "$name"
	else fail "$name" "Before=$(unit_value Before)"; fi
}

postfix_chroot_main() {
	pfc_unit_order
	[ -n "$PF" ] || postfix_fetch || return
	postconf_wrapper
	mkdir -m 0755 "$W/pfc" "$W/pfc/etc" "$W/pfc/spool"
	mkdir -m 0700 "$W/pfc/data"
	chown postfix:postfix "$W/pfc/data"
	cp "$SAMPLE_CONF" "$W/pfc/milter.conf"
	svc_user || { fail "postfix chroot: setup" "cannot create user $SVC_USER or add postfix to its group"; return; }
	pfc_postfix_start || return
	pfc_milter_start || return
	pfc_n_warns
	pfc_postconf_faults
	pfc_clients
}
