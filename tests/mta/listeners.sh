# Listener sections (listener PORT { ... }) behind a real sendmail and a
# real Postfix, each with two listeners on loopback: the usual test port
# (SM_PORT, PF_PORT: an MTA port) and a submission-like one (LS_SUB_SM,
# LS_SUB_PF) that the milter's config turns off:
#   listener SUB { mode = "off" }
# Neither MTA is told to send {daemon_port}: the milter asks for it in
# negotiation (sendmail takes the milter's connect macro list in place of
# its own; Postfix 3.2+ has the macro).  Per MTA, one client 127.0.0.31:
#   6 sessions on SUB, all greeted (off: never counted);
#   LIMIT sessions on the MTA port, greeted (SUB ate none of its allowance);
#   the next one on the MTA port refused (421, the MTA's own text);
#   SUB still greets it;
#   the milter log names the port of the off sessions (debug lines) and
#   never says the macro is missing.
# sendmail: a second DAEMON_OPTIONS with Name=MSA; Postfix: a second smtpd
# line in master.cf.  Sourced by tests/mta/run.sh (its helpers, $W, $BIN,
# $SOCK, $LIMIT); not run alone.  16 plan lines.

LS_SUB_SM=2585
LS_SUB_PF=2586
LS_FROM=127.0.0.31

# ls_milter_start MTA SUB: a fresh milter (empty counts), SUB turned off.
ls_milter_start() {
	MLOG=$W/milter-$1-listeners.log
	milter_conf connect
	cat >> "$W/milter-connect.conf" <<-EOF
	log_level   = "debug"
	listener $2 { mode = "off" }
	EOF
	rm -f "$SOCK"
	"$BIN" -d -f "$W/milter-connect.conf" > "$MLOG" 2>&1 &
	MILTER_PID=$!
	wait_for 10 sock_or_dead
	if [ ! -S "$SOCK" ] || dead "$MILTER_PID"; then
		fail_log "$1 listeners: milter starts" "no socket $SOCK" "$MLOG"
		milter_stop
		return 1
	fi
	pass "$1 listeners: milter starts with listener $2 off"
}

# ls_has_log ERE: the milter's log has a line matching ERE.
ls_has_log() { grep -Eq -- "$1" "$MLOG"; }

# ls_clients MTA PORT SUB: the checks above (6 plan lines).
ls_clients() {
	local mta=$1 port=$2 sub=$3 tag="$1 listeners"
	sessions 6 "$tag: $LS_FROM gets 6 sessions on the off listener $sub" \
	    "$LS_FROM" 127.0.0.1 "$sub"
	sessions "$LIMIT" "$tag: $LS_FROM then gets $LIMIT sessions on $port" \
	    "$LS_FROM" 127.0.0.1 "$port"
	expect "$mta" connect
	probe "$LS_FROM" 127.0.0.1 "$port" "EHLO client.mrl.test" "QUIT"
	note "$tag: connection $((LIMIT + 1)) on $port: $(flat)"
	if refused_transcript "EHLO client.mrl.test"; then
		pass "$tag: $LS_FROM connection $((LIMIT + 1)) on $port gets '$REFUSAL'"
	else
		fail "$tag: $LS_FROM connection $((LIMIT + 1)) on $port gets '$REFUSAL'" "saw: $(flat)"
	fi
	sessions 2 "$tag: $LS_FROM is still greeted on the off listener $sub" \
	    "$LS_FROM" 127.0.0.1 "$sub"
	local name="$tag: the milter got {daemon_port} ($sub for the off sessions), never missed it"
	if wait_for 5 ls_has_log "exempt client=$LS_FROM listener=$sub \\(mode off\\)" &&
	    ls_has_log "refused client=$LS_FROM key=$LS_FROM/32 count=$((LIMIT + 1)) " &&
	    ! ls_has_log "sent no usable \\{daemon_port\\}"; then
		pass "$name"
	else
		fail_log "$name" "milter log lacks the lines" "$MLOG"
	fi
}

# ls_listening4 PORT: 127.0.0.1:PORT is up (lib.sh's listening wants ::1 too).
ls_listening4() { [[ $(ss -Hltn "sport = :$1") == *"127.0.0.1:$1 "* ]]; }
ls_sm_ready() { ls_listening4 "$LS_SUB_SM" || mta_dead "$SM_PID"; }

# listeners_sendmail: sendmail with a second daemon, Name=MSA, on
# LS_SUB_SM (127.0.0.1 only).
listeners_sendmail() {
	local PORT=$SM_PORT NAME=$SM_NAME d=$W/sm name="sendmail listeners: sendmail starts with two listeners"
	sendmail_root "$name" || return
	subst "$MTA_DIR/sendmail.mc.in" "$d/sendmail.mc"
	sed -i "/^INPUT_MAIL_FILTER/i DAEMON_OPTIONS(\`Port=$LS_SUB_SM, Addr=127.0.0.1, Name=MSA, Family=inet, Listen=1024')dnl" "$d/sendmail.mc"
	if ! m4 "$d/sendmail.mc" > "$d/sendmail.cf" 2> "$d/m4.err" || [ -s "$d/m4.err" ]; then
		fail_log "$name" "m4 sendmail.mc failed" "$d/m4.err"
		return
	fi
	SM_WHERE="127.0.0.1:$SM_PORT, 127.0.0.1:$LS_SUB_SM" MTA_START_CHECKS='' sendmail_launch "$name" || return
	if wait_for 10 ls_sm_ready && ls_listening4 "$LS_SUB_SM"; then pass "$name"
	else fail_log "$name" "not listening on $LS_SUB_SM" "$d/stderr" "$d/maillog"; return; fi
	ls_milter_start sendmail "$LS_SUB_SM" || return
	ls_clients sendmail "$SM_PORT" "$LS_SUB_SM"
	milter_stop "sendmail listeners"
}

ls_pf_ready() { listening "$PF_PORT" && ls_listening4 "$LS_SUB_PF"; }

# listeners_postfix: Postfix (stopped) restarted with a second smtpd
# service on LS_SUB_PF.
listeners_postfix() {
	# shellcheck disable=SC2034  # PORT, NAME: read by subst
	local PORT=$PF_PORT NAME=$PF_NAME d=$W/pf name="postfix listeners: postfix starts with two listeners"
	[ -n "$PF" ] || { fail "$name" "no unpacked postfix"; return; }
	subst "$MTA_DIR/postfix-master.cf.in" "$d/etc/master.cf"
	printf '%s\n' "$LS_SUB_PF    inet  n       -       n       -       -       smtpd" >> "$d/etc/master.cf"
	# shellcheck disable=SC2034  # read by lib.sh's postfix_stop
	PF_UP=1
	if ! postfix start > "$d/start-listeners.log" 2>&1; then
		fail_log "$name" "postfix start failed" "$d/start-listeners.log" "$d/maillog"
		return
	fi
	if wait_for 30 ls_pf_ready; then pass "$name"
	else fail_log "$name" "not listening on $PF_PORT and $LS_SUB_PF" "$d/start-listeners.log" "$d/maillog"; return; fi
	ls_milter_start postfix "$LS_SUB_PF" || return
	ls_clients postfix "$PF_PORT" "$LS_SUB_PF"
	milter_stop "postfix listeners"
}
