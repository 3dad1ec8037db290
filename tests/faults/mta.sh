# mta.sh: a real sendmail and a real Postfix on loopback, for the faults
# suite.  Sourced by tests/faults/run.sh (bash).  The functions are those of
# tests/mta/run.sh (which runs its own tests when sourced, so they are
# copied here), and the templates and helpers are that suite's own files,
# read from tests/mta/: sendmail.mc.in, postfix-main.cf.in,
# postfix-master.cf.in, rsyslog.conf.in, sendmail-ns.sh, smtp-probe.pl.
# See tests/mta/run.sh for why each step is as it is (FACTS §7).
#
# The caller sets, before use:
#   W        work directory under /run (sendmail refuses a milter socket
#            below a world-writable directory such as /tmp), mode 0755
#   SOCK     the milter's unix socket (in a 0755 directory under W)
#   SM_PORT, PF_PORT, SM_NAME, PF_NAME
#   MTA_DIR  tests/mta
#   CACHE    where the Postfix .deb is kept between runs (tests/mta/.cache)
# and gets sendmail_start/_stop, postfix_start/_stop (each prints a FAIL
# line itself when it cannot start and returns 1), probe, codes.

SM_PID=
PF=
PF_UP=

m_alive() {
	kill -0 "$1" 2>/dev/null || return 1
	! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}
m_dead() { ! m_alive "$1"; }
group_gone() { ! pgrep -g "$1" >/dev/null; }
port_free() { [ -z "$(ss -Hltn "sport = :$1")" ]; }
listening() {
	local l
	l=$(ss -Hltn "sport = :$1")
	[[ $l == *"127.0.0.1:$1 "* && $l == *"[::1]:$1 "* ]]
}

# fail_log NAME WHY FILE...: a FAIL, then the tail of each log.
fail_log() {
	fail "$1" "$2"
	shift 2
	local f
	for f in "$@"; do
		[ -s "$f" ] || continue
		echo "#   --- tail of $f"
		tail -n 15 "$f" | sed 's/^/#   /'
	done
}

subst() {
	sed -e "s|@W@|$W|g" -e "s|@PF@|$PF|g" -e "s|@SOCK@|$SOCK|g" \
	    -e "s|@PORT@|$PORT|g" -e "s|@NAME@|$NAME|g" "$1" > "$2"
}

sendmail_ready_or_dead() { listening "$SM_PORT" || m_dead "$SM_PID"; }

sendmail_start() {
	local PORT=$SM_PORT NAME=$SM_NAME d=$W/sm
	port_free "$PORT" || { fail "faults/mta/sendmail starts" "port $PORT in use: $(ss -Hltnp "sport = :$PORT" | tr '\n' ' ')"; return 1; }
	mkdir -p "$d" && chmod 0755 "$d"
	mkdir -m 0700 "$d/queue"
	printf '127.0.0.1 localhost\n127.0.1.1 %s %s\n::1 localhost ip6-localhost ip6-loopback\n' \
		"$NAME" "$(hostname)" > "$d/hosts"
	printf '%s: files\n' passwd group shadow hosts networks protocols services > "$d/nsswitch.conf"
	subst "$MTA_DIR/sendmail.mc.in" "$d/sendmail.mc"
	subst "$MTA_DIR/rsyslog.conf.in" "$d/rsyslog.conf"
	if ! m4 "$d/sendmail.mc" > "$d/sendmail.cf" 2> "$d/m4.err" || [ -s "$d/m4.err" ]; then
		fail_log "faults/mta/sendmail starts" "m4 sendmail.mc failed" "$d/m4.err"
		return 1
	fi
	setsid unshare -m --propagation private sh "$MTA_DIR/sendmail-ns.sh" "$W" > "$d/stderr" 2>&1 &
	SM_PID=$!
	wait_for 30 sendmail_ready_or_dead
	if ! listening "$PORT" || m_dead "$SM_PID"; then
		fail_log "faults/mta/sendmail starts" "not listening on 127.0.0.1:$PORT and [::1]:$PORT after 30 s" "$d/stderr" "$d/maillog"
		return 1
	fi
}

sendmail_stop() {
	[ -n "$SM_PID" ] || return 0
	kill -TERM -- "-$SM_PID" 2>/dev/null
	wait_for 10 group_gone "$SM_PID" || kill -KILL -- "-$SM_PID" 2>/dev/null
	wait "$SM_PID" 2>/dev/null
	SM_PID=
}

cached_deb() {
	local f last=
	for f in "$@"; do [ -f "$f" ] && last=$f; done
	echo "$last"
}

# The Postfix .deb, downloaded once into CACHE (tests/mta/.cache, shared
# with the mta suite and git-ignored), unpacked into $W/pf/root.
postfix_fetch() {
	local deb log=$W/pf/fetch.log
	mkdir -p "$CACHE"
	deb=$(cached_deb "$CACHE"/postfix_*.deb)
	if [ -z "$deb" ]; then
		local tmp=$CACHE/partial
		rm -rf "$tmp" && mkdir -p "$tmp"
		(cd "$tmp" && apt-get download postfix) > "$log" 2>&1 ||
			{ apt-get update -q && (cd "$tmp" && apt-get download postfix); } >> "$log" 2>&1
		mv "$tmp"/postfix_*.deb "$CACHE"/ 2>> "$log"
		rm -rf "$tmp"
		deb=$(cached_deb "$CACHE"/postfix_*.deb)
	fi
	[ -n "$deb" ] || { fail_log "faults/mta/postfix starts" "apt-get download postfix failed" "$log"; return 1; }
	PF=$W/pf/root
	dpkg -x "$deb" "$PF" 2>> "$log" || { fail_log "faults/mta/postfix starts" "dpkg -x $deb failed" "$log"; return 1; }
	local missing
	missing=$(LD_LIBRARY_PATH=$PF/usr/lib/postfix ldd "$PF/usr/lib/postfix/sbin/smtpd" "$PF/usr/sbin/postfix" 2>&1 | grep 'not found' | sort -u | tr '\n' ' ')
	[ -z "$missing" ] || { fail "faults/mta/postfix starts" "missing shared libraries: $missing"; return 1; }
}

postfix_users() {
	getent group postfix >/dev/null || groupadd --system postfix || return 1
	getent passwd postfix >/dev/null ||
		useradd --system --gid postfix --home-dir /var/spool/postfix --no-create-home \
			--shell /usr/sbin/nologin postfix || return 1
	getent group postdrop >/dev/null || groupadd --system postdrop
}

postfix() { LD_LIBRARY_PATH=$PF/usr/lib/postfix "$PF/usr/sbin/postfix" -c "$W/pf/etc" "$@"; }

postfix_ready_or_dead() {
	[ -s "$W/pf/spool/pid/master.pid" ] || return 1
	listening "$PF_PORT" && return 0
	m_dead "$(tr -d ' ' < "$W/pf/spool/pid/master.pid")"
}

postfix_start() {
	local PORT=$PF_PORT NAME=$PF_NAME d=$W/pf
	port_free "$PORT" || { fail "faults/mta/postfix starts" "port $PORT in use: $(ss -Hltnp "sport = :$PORT" | tr '\n' ' ')"; return 1; }
	postfix_users || { fail "faults/mta/postfix starts" "cannot create user postfix / groups postfix, postdrop"; return 1; }
	mkdir -p "$d" && chmod 0755 "$d"
	postfix_fetch || return 1
	mkdir -m 0755 "$d/etc" "$d/spool"
	mkdir -m 0700 "$d/data"
	chown postfix:postfix "$d/data"
	subst "$MTA_DIR/postfix-main.cf.in" "$d/etc/main.cf"
	subst "$MTA_DIR/postfix-master.cf.in" "$d/etc/master.cf"
	: > "$PF/etc/postfix/dynamicmaps.cf"
	chgrp postdrop "$PF/usr/sbin/postqueue" "$PF/usr/sbin/postdrop"
	chmod 2755 "$PF/usr/sbin/postqueue" "$PF/usr/sbin/postdrop"
	if ! postfix check > "$d/check.log" 2>&1; then
		fail_log "faults/mta/postfix starts" "postfix check failed" "$d/check.log" "$d/maillog"
		return 1
	fi
	PF_UP=1
	if ! postfix start > "$d/start.log" 2>&1; then
		fail_log "faults/mta/postfix starts" "postfix start failed" "$d/start.log" "$d/maillog"
		return 1
	fi
	wait_for 30 postfix_ready_or_dead
	if ! listening "$PORT"; then
		fail_log "faults/mta/postfix starts" "not listening on 127.0.0.1:$PORT and [::1]:$PORT after 30 s" "$d/start.log" "$d/maillog"
		return 1
	fi
}

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

# probe FROM SERVER PORT CMD...: the exact-transcript client; output in $OUT.
probe() { OUT=$(perl "$MTA_DIR/smtp-probe.pl" "$@" 2>&1); }

# codes: the final reply codes of $OUT, one per exchange ("220 250 250 221"),
# "EOF" where the server hung up.
codes() {
	printf '%s\n' "$OUT" | awk '
		/^S: [0-9][0-9][0-9]( |$)/ { c = substr($0, 4, 3) }
		/^C: / { printf "%s ", c; c = "" }
		/^(EOF|TIMEOUT|CONNECT-FAILED)/ { if (c != "") printf "%s ", c; c = ""; printf "%s ", $1 }
		END { if (c != "") printf "%s ", c }' | sed 's/ $//'
}
flat() { printf '%s' "$OUT" | tr '\n' '|'; }
