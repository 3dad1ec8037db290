#!/bin/bash
# End-to-end tests: milter-ratelimit behind a real sendmail and a real
# Postfix, on loopback only.
#
#   tests/mta/run.sh PATH/TO/milter-ratelimit
#
# For each MTA, and for each reply_stage (connect, helo), a fresh milter
# (empty counters) runs with limit=3, window=60 and these clients, each
# address used by one test only so counts don't mix:
#   127.0.0.11  3 sessions pass, the 4th gets a 421 and is disconnected
#   127.0.0.12  still greeted after .11 was refused
#   127.0.0.20  exempt by an exact map entry: 6 sessions, never refused
#   127.0.3.7   exempt by a CIDR map entry (127.0.3.0/24): same
#   ::1         limited like .11 (key ::/64), through swaks over IPv6
#   127.0.0.14  helo stage only: skips HELO; the 4th gets 421 at MAIL FROM
# and the milter's log must show each refusal (client, key, count) and none
# for the others.  Then tests/mta/debian.sh (Debian's own sendmail.mc) and
# tests/mta/names.sh (name entries, a /24 section) in namespaces of their own.
#
# sendmail, rsyslogd and Postfix are Debian's packages unpacked into private
# roots (tests/pkgroot.sh), never installed: sendmail-bin and postfix
# conflict, and an installed sendmail or rsyslog would be enabled at boot.
# sendmail runs in a mount namespace of its own (dotted host name, hosts
# from files, its own /dev/log for a private rsyslogd); Postfix from its own
# config directory.  The start-up code lives in tests/mta/lib.sh, shared
# with the faults suite.  The whole suite runs in a private mount namespace
# where the accounts Postfix needs are added to bind-mounted copies of
# /etc/passwd and /etc/group (lib.sh mta_accounts): the machine's /etc is
# never written.
#
# Prints "PASS: name" / "FAIL: name: why" per test (tests/lib.sh); extra
# lines start with "#".  The work directory (configs, every log) is removed
# unless a test failed or MRL_KEEP_LOGS is set.  Needs root (namespaces,
# mounts).
# Readiness is never probed by connecting to an SMTP port: the milter would
# count the probe.  We wait on listening sockets (ss), pid files and the
# milter's socket file instead, always with a bound.

# tests/run.sh runs us with sh; we need bash (arrays, [[ ]]).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u +m

BIN=${1:?usage: tests/mta/run.sh PATH/TO/milter-ratelimit}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$HERE/../lib.sh"
# shellcheck source=tests/mta/lib.sh
. "$HERE/lib.sh"
# Everything from here on in a mount namespace of our own (for the
# accounts); debian.sh, sourcing us, is already inside ours.
[ "$(id -u)" = 0 ] && mta_private_ns "$0" "$@"
MTA_START_CHECKS=1
MTA_TAG=
# debian.sh sources this file for its functions: its own plan, not ours.
if [ -z "${MTA_LIB:-}" ]; then
	plan 163
fi
# The chrooted Postfix, as Debian ships it (postfix_chroot_main).
# shellcheck source=tests/mta/chroot.sh
. "$HERE/chroot.sh"
# Two listeners per MTA, one of them off (listener sections).
# shellcheck source=tests/mta/listeners.sh
. "$HERE/listeners.sh"
# max_concurrent through both MTAs (conc_phase).
# shellcheck source=tests/mta/concurrent.sh
. "$HERE/concurrent.sh"

SM_PORT=2525
PF_PORT=2526
SM_NAME=sendmail.mrl.test
PF_NAME=postfix.mrl.test
LIMIT=3
WINDOW=60
TEXT="Connection rate limit exceeded"

W=
SOCK=
MILTER_PID=

note() { echo "# $*"; }

# alive PID: running, not a zombie.
alive() { mta_alive "$1"; }
dead() { mta_dead "$1"; }
cleanup() {
	conc_kill
	milter_stop
	sendmail_stop
	postfix_stop
	pfc_cleanup
	[ -n "$W" ] || return
	if [ "${FAILED:-0}" = 0 ] && [ -z "${MRL_KEEP_LOGS:-}" ]; then rm -rf "$W"; else note "logs kept in $W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- work directory, exempt map ----------------------------------------

setup() {
	[ "$(id -u)" = 0 ] || { fail "setup" "must run as root (namespaces, mounts, users)"; return 1; }
	[ -x "$BIN" ] || { fail "setup" "no milter binary at $BIN"; return 1; }
	BIN=$(readlink -f "$BIN")
	# Under /run, not /tmp or /var/tmp: sendmail refuses a milter socket
	# below any world-writable directory ("unsafe: World writable
	# directory"), sticky bit or not.  0755 all the way down so Postfix's
	# unprivileged smtpd can reach the socket.
	W=$(mktemp -d /run/mrl-mta.XXXXXX) || { fail "setup" "mktemp -d /run/mrl-mta.XXXXXX"; return 1; }
	chmod 0755 "$W"
	mkdir -m 0755 "$W/milter" "$W/sm" "$W/pf"
	SOCK=$W/milter/milter-ratelimit.sock
	mta_accounts || { fail "setup" "cannot make the accounts postfix, postdrop in the private namespace"; return 1; }
	sendmail_root "setup" || return 1
	printf '127.0.0.20 OK\n127.0.3.0/24 OK\n' > "$W/exempt"
	# makemap reads exempt and writes exempt.db.
	# shellcheck disable=SC2094
	if ! "$SM_ROOT/usr/sbin/makemap" hash "$W/exempt" < "$W/exempt" 2> "$W/makemap.err"; then
		fail_log "setup: makemap hash builds the exempt map" "makemap failed" "$W/makemap.err"
		return 1
	fi
}

# --- the milter ----------------------------------------------------------

# milter_conf STAGE: a config for one phase.
milter_conf() {
	cat > "$W/milter-$1.conf" <<-EOF
	socket      = "unix:$SOCK"
	limit       = $LIMIT
	window      = $WINDOW
	exempt_map  = "$W/exempt.db"
	reply_stage = "$1"
	reply_text  = "$TEXT"
	mode        = "enforce"
	max_clients = 10000
	user        = "nobody"
	group       = "postfix"
	socket_mode = "0660"
	${MILTER_EXTRA:-}
	EOF
}

sock_or_dead() { [ -S "$SOCK" ] || dead "$MILTER_PID"; }

# milter_start TAG STAGE: a fresh milter (empty counters) in the foreground
# (-d), its stderr in $MLOG.
milter_start() {
	MLOG=$W/milter-$1-$2.log
	milter_conf "$2"
	rm -f "$SOCK"
	"$BIN" -d -f "$W/milter-$2.conf" > "$MLOG" 2>&1 &
	MILTER_PID=$!
	wait_for 10 sock_or_dead
	if [ ! -S "$SOCK" ] || dead "$MILTER_PID"; then
		fail_log "$1 $2: milter starts" "no socket $SOCK (pid $MILTER_PID $(alive "$MILTER_PID" && echo running || echo exited))" "$MLOG"
		milter_stop
		return 1
	fi
	# connect(2) on a unix socket needs write permission, and Postfix's
	# smtpd runs as user postfix: the config gives the socket to group
	# postfix, 0660, and the milter runs as nobody (sendmail connects as
	# root).  The daemon does that itself, before it serves anyone.
	_own=$(stat -c '%U:%G %a' "$SOCK")
	if [ "$_own" != "nobody:postfix 660" ]; then
		fail "$1 $2: milter starts" "socket is $_own, want nobody:postfix 660"
		return 1
	fi
	pass "$1 $2: milter starts"
}

# milter_stop [TAG]: SIGTERM, bounded wait (libmilter notices within ~5 s).
# With TAG, that it stopped cleanly is a test.
milter_stop() {
	[ -n "$MILTER_PID" ] || return 0
	if dead "$MILTER_PID"; then
		wait "$MILTER_PID" 2>/dev/null; _st=$?
		[ -n "${1:-}" ] && fail_log "$1: milter still running at the end" "it exited (status $_st)" "$MLOG"
		MILTER_PID=
		return
	fi
	kill -TERM "$MILTER_PID" 2>/dev/null
	if wait_for 10 dead "$MILTER_PID"; then
		wait "$MILTER_PID" 2>/dev/null; _st=$?
		if [ -n "${1:-}" ]; then
			if [ $_st = 0 ]; then pass "$1: milter exits 0 on SIGTERM"
			else fail_log "$1: milter exits 0 on SIGTERM" "exit status $_st" "$MLOG"; fi
		fi
	else
		kill -KILL "$MILTER_PID" 2>/dev/null
		wait "$MILTER_PID" 2>/dev/null
		[ -n "${1:-}" ] && fail_log "$1: milter exits 0 on SIGTERM" "still running after 10 s; killed" "$MLOG"
	fi
	MILTER_PID=
}

# --- SMTP clients --------------------------------------------------------

# session FROM SERVER PORT: one swaks session up to EHLO, then QUIT.
# Output in $OUT.  Succeeds if it was greeted with 220 and EHLO got 250.
session() {
	OUT=$(swaks --server "$2" --port "$3" --local-interface "$1" \
		--helo client.mrl.test --from a@client.mrl.test --to b@mrl.test \
		--quit-after EHLO --timeout 10 2>&1)
	local st=$?
	[ $st = 0 ] && [[ $OUT == *"<-  220 "* ]] && [[ $OUT == *"<-  250"* ]]
}

# sessions N TEST FROM SERVER PORT: N sessions must all pass.
sessions() {
	local n=$1 name=$2 i
	for i in $(seq 1 "$n"); do
		if ! session "$3" "$4" "$5"; then
			fail "$name" "session $i of $n: $(server_lines)"
			return 1
		fi
	done
	pass "$name"
}

# server_lines: what the server said in $OUT (swaks marks them <- / <**).
server_lines() { printf '%s\n' "$OUT" | grep -E '^ *<(-|\*\*) ' | sed 's/^ *//' | tr '\n' '|'; }


# transcript_is PATTERN...: $OUT has exactly these lines (bash globs).
transcript_is() {
	local -a lines
	mapfile -t lines <<< "$OUT"
	[ ${#lines[@]} = $# ] || return 1
	local i=0 p
	for p in "$@"; do
		# shellcheck disable=SC2053
		[[ ${lines[$i]} == $p ]] || return 1
		i=$((i + 1))
	done
}

# --- the tests -----------------------------------------------------------

# expect MTA STAGE: REFUSAL, the line the 4th client sees (verbatim), and
# REFUSED_AT, the command it sees it after ("" = instead of the greeting).
expect() {
	case $1-$2 in
	sendmail-connect) REFUSAL="421 4.7.0 $SM_NAME closing connection"; REFUSED_AT= ;;
	postfix-connect)  REFUSAL="421 $PF_NAME Service unavailable - try again later"; REFUSED_AT= ;;
	*-helo)           REFUSAL="421 4.3.2 $TEXT"; REFUSED_AT="EHLO client.mrl.test" ;;
	esac
}

# refused_transcript FIRSTCMD: $OUT is the refused connection, exactly
# (FIRSTCMD: the command sent after the greeting).
refused_transcript() {
	if [ -z "$REFUSED_AT" ]; then
		transcript_is "S: $REFUSAL" "EOF"
	else
		transcript_is "S: 220 *" "C: $1" "S: $REFUSAL" "EOF"
	fi
}

t_limit() {
	local tag=$1 port=$2 from=127.0.0.11
	sessions "$LIMIT" "$tag: $from gets $LIMIT sessions" "$from" 127.0.0.1 "$port" || return
	probe "$from" 127.0.0.1 "$port" "EHLO client.mrl.test" "QUIT"
	note "$tag: 4th connection from $from: $(flat)"
	if refused_transcript "EHLO client.mrl.test"; then
		pass "$tag: $from 4th connection gets '$REFUSAL' and is disconnected"
	else
		fail "$tag: $from 4th connection gets '$REFUSAL' and is disconnected" "saw: $(flat)"
	fi
}

t_other() {
	local tag=$1 port=$2
	sessions 1 "$tag: 127.0.0.12 still greeted after 127.0.0.11 was refused" 127.0.0.12 127.0.0.1 "$port"
}

t_exempt() {
	local tag=$1 port=$2
	sessions 6 "$tag: exempt 127.0.0.20 (exact entry) never refused in 6 sessions" 127.0.0.20 127.0.0.1 "$port"
	sessions 6 "$tag: exempt 127.0.3.7 (127.0.3.0/24 entry) never refused in 6 sessions" 127.0.3.7 127.0.0.1 "$port"
}

t_ipv6() {
	local tag=$1 port=$2
	sessions "$LIMIT" "$tag: ::1 gets $LIMIT sessions" ::1 ::1 "$port" || return
	# The 4th through swaks too: what a stock client prints.
	session ::1 ::1 "$port"
	note "$tag: 4th connection from ::1 (swaks): $(server_lines)"
	if printf '%s\n' "$OUT" | sed 's/^ *//' | grep -qFx "<** $REFUSAL"; then
		pass "$tag: ::1 4th connection gets '$REFUSAL'"
	else
		fail "$tag: ::1 4th connection gets '$REFUSAL'" "swaks saw: $(server_lines)"
	fi
}

# A client that never says HELO: with reply_stage helo the refusal comes
# as the reply to MAIL FROM.
t_nohelo() {
	local tag=$1 port=$2 from=127.0.0.14 i mail="MAIL FROM:<a@client.mrl.test>"
	for i in $(seq 1 "$LIMIT"); do
		probe "$from" 127.0.0.1 "$port" "$mail" "QUIT"
		if ! transcript_is "S: 220 *" "C: $mail" "S: 250 *" "C: QUIT" "S: 221 *" "EOF"; then
			fail "$tag: $from without HELO gets $LIMIT sessions" "session $i: $(flat)"
			return
		fi
	done
	pass "$tag: $from without HELO gets $LIMIT sessions"
	probe "$from" 127.0.0.1 "$port" "$mail" "QUIT"
	note "$tag: 4th connection from $from, no HELO: $(flat)"
	if transcript_is "S: 220 *" "C: $mail" "S: 421 4.3.2 $TEXT" "EOF"; then
		pass "$tag: $from without HELO: 4th gets '421 4.3.2 $TEXT' at MAIL FROM and is disconnected"
	else
		fail "$tag: $from without HELO: 4th gets '421 4.3.2 $TEXT' at MAIL FROM and is disconnected" "saw: $(flat)"
	fi
}

# t_log TAG STAGE CLIENT KEY: exactly one refusal line for CLIENT, count 4.
t_log() {
	local want="refused client=$3 key=$4 count=$((LIMIT + 1)) limit=$LIMIT window=${WINDOW}s stage=$2"
	local n
	n=$(grep -cF "refused client=$3 " "$MLOG")
	if [ "$n" = 1 ] && grep -qF "$want" "$MLOG"; then
		pass "$1: milter logs '$want'"
	else
		fail "$1: milter logs '$want'" "$n refusal lines for $3: $(grep -F "client=$3 " "$MLOG" | tr '\n' '|')"
	fi
}

t_nolog() {
	local tag=$1 c bad=
	for c in 127.0.0.12 127.0.0.20 127.0.3.7; do
		grep -qF "refused client=$c " "$MLOG" && bad="$bad $c"
	done
	if [ -z "$bad" ]; then pass "$tag: milter logs no refusal for 127.0.0.12 and the exempt clients"
	else fail "$tag: milter logs no refusal for 127.0.0.12 and the exempt clients" "refused:$bad"; fi
}

# phase MTA PORT STAGE: one fresh milter, every test.
phase() {
	local mta=$1 port=$2 stage=$3 tag="$1 $3"
	milter_start "$mta" "$stage" || return
	log_mark "$mta"
	expect "$mta" "$stage"
	t_limit "$tag" "$port"
	t_other "$tag" "$port"
	t_exempt "$tag" "$port"
	t_ipv6 "$tag" "$port"
	[ "$stage" = helo ] && t_nohelo "$tag" "$port"
	t_log "$tag" "$stage" 127.0.0.11 127.0.0.11/32
	t_log "$tag" "$stage" ::1 ::/64
	[ "$stage" = helo ] && t_log "$tag" "$stage" 127.0.0.14 127.0.0.14/32
	t_nolog "$tag"
	mta_log_check "$mta" "$stage"
	milter_stop "$tag"
}

# The MTA's log file, and its line count when the phase began: a phase
# looks only at its own lines.
mta_log() { case $1 in sendmail) echo "$W/sm/maillog" ;; postfix) echo "$W/pf/maillog" ;; esac; }
log_mark() { LOG_MARK=$(wc -l < "$(mta_log "$1")" 2>/dev/null || echo 0); }
new_log() { tail -n +"$((LOG_MARK + 1))" "$(mta_log "$1")" 2>/dev/null; }

# mta_refusals MTA: the MTA's lines about a milter refusal in this phase.
mta_refusals() {
	case $1 in
	sendmail) new_log "$1" | grep -E 'Milter: (connect: .*, shutdown|.*reject=)' ;;
	postfix)  new_log "$1" | grep -F 'milter-reject: ' ;;
	esac
}

# mta_log_has MTA N ERE...: N refusal lines in this phase, matching the EREs.
mta_log_has() {
	local mta=$1 n=$2 r lines
	shift 2
	lines=$(mta_refusals "$mta")
	[ "$(printf '%s' "$lines" | grep -c .)" = "$n" ] || return 1
	for r in "$@"; do printf '%s\n' "$lines" | grep -qE "$r" || return 1; done
}

# mta_log_check MTA STAGE: the MTA logged each refusal the milter asked for
# (and only those): sendmail names the client only at connect; Postfix
# logs our reply text even where the client sees its own 421.
mta_log_check() {
	local mta=$1 stage=$2 t="421 4\.3\.2 $TEXT" name="$1 $2: the MTA logs the milter's refusals, and no others"
	local -a want
	local n=2
	# sendmail's HELO refusal line does not name the client: one pattern
	# for both EHLO refusals (127.0.0.11 and ::1), plus the MAIL one.
	[ "$mta-$stage" = sendmail-helo ] || [ "$mta-$stage" = postfix-helo ] && n=3
	case $mta-$stage in
	sendmail-connect) want=('Milter: connect: host=\[127\.0\.0\.11\], addr=127\.0\.0\.11, shutdown$'
	                        'Milter: connect: host=[^,]*, addr=IPv6:0:0:0:0:0:0:0:1, shutdown$') ;;
	sendmail-helo)    want=("Milter: helo=client\\.mrl\\.test, reject=$t\$"
	                        "Milter: from=<a@client\\.mrl\\.test>, reject=$t\$") ;;
	postfix-connect)  want=("milter-reject: CONNECT from unknown\\[127\\.0\\.0\\.11\\]: $t; proto=SMTP\$"
	                        "milter-reject: CONNECT from unknown\\[::1\\]: $t; proto=SMTP\$") ;;
	postfix-helo)     want=("milter-reject: EHLO from unknown\\[127\\.0\\.0\\.11\\]: $t;"
	                        "milter-reject: EHLO from unknown\\[::1\\]: $t;"
	                        "milter-reject: MAIL from unknown\\[127\\.0\\.0\\.14\\]: $t;") ;;
	esac
	# The log daemons write asynchronously: give them a bounded moment.
	if wait_for 5 mta_log_has "$mta" "$n" "${want[@]}"; then
		pass "$name"
	else
		fail "$name" "want $n lines matching: ${want[*]}; got: $(mta_refusals "$mta" | tr '\n' '|')"
	fi
	note "$mta $stage: MTA log: $(mta_refusals "$mta" | sed 's/^.*\(Milter: \|milter-reject: \)/\1/' | tr '\n' '|')"
}

# -n with this (non-chrooted) Postfix and the socket in /run-like $W:
# nothing to warn about.  The milter finds postconf on PATH.
postfix_n_silent() {
	local out name="postfix: -n is silent when smtpd (no chroot) reaches the socket"
	postconf_wrapper
	milter_conf connect
	out=$(PATH=$W/bin:$PATH MAIL_CONFIG=$W/pf/etc "$BIN" -n -f "$W/milter-connect.conf" 2>&1)
	# Other warnings (the run user cannot write the root-owned socket
	# directory: the socket stays at exit) are not Postfix's business.
	if [ "$(printf '%s\n' "$out" | tail -n 1)" = "configuration OK" ] &&
	    ! printf '%s\n' "$out" | grep -Eiq 'postfix|smtpd|postconf'; then pass "$name"
	else fail "$name" "got: $(printf '%s' "$out" | tr '\n' '|')"; fi
}

main() {
	local t0=$SECONDS etc
	etc=$(mta_etc_state)
	setup || return
	if sendmail_start; then
		phase sendmail "$SM_PORT" connect
		phase sendmail "$SM_PORT" helo
		conc_phase sendmail "$SM_PORT"
	fi
	sendmail_stop
	listeners_sendmail
	sendmail_stop
	if postfix_start; then
		postfix_n_silent
		phase postfix "$PF_PORT" connect
		phase postfix "$PF_PORT" helo
		conc_phase postfix "$PF_PORT"
	fi
	postfix_stop
	[ -n "$PF" ] && listeners_postfix
	postfix_stop
	postfix_chroot_main
	pfc_cleanup
	# Debian's own sendmail.mc and access, before and after the README's
	# migration (its own work directory and network namespace).
	bash "$HERE/debian.sh" "$BIN"
	# Name entries and a /24 section, both MTAs resolving from a private
	# hosts file (its own mount namespace).
	bash "$HERE/names.sh" "$BIN"
	mta_etc_check "the suite leaves /etc as it found it (accounts, hosts, hosts.allow, mail, rsyslog, boot)" "$etc"
	note "mta suite took $((SECONDS - t0)) s"
}

# tests/mta/debian.sh sources this file for its functions (MTA_LIB=1).
[ -n "${MTA_LIB:-}" ] || main
