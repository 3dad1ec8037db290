# tests/mta/concurrent.sh: max_concurrent behind a real sendmail and a real
# Postfix.  Sourced by tests/mta/run.sh (its functions and variables: W,
# milter_start, probe, transcript_is, expect...); conc_phase runs once per
# MTA, on a fresh milter with max_concurrent = 2 (limit raised out of the
# way, replies at connect):
#   127.0.0.31  two SMTP sessions held open mid-session (after EHLO) by
#               hold-smtp.pl: the third gets the MTA's 421 at connect and is
#               disconnected; killing one holder (the client vanishes, no
#               QUIT) gives its count back: a new session is greeted; after
#               killing all, two are held again and the third refused: no
#               count leaked, none lost.
#   127.0.0.32  another key: greeted while .31 is full.
# The milter logs "refused-concurrent client=127.0.0.31 ... concurrent=2".
# Every wait is bounded; the holders are killed by their own pids.

CONC_MAX=2
CONC_FROM=127.0.0.31
CONC_HOLDERS=

# conc_hold PORT N: start N holders from CONC_FROM (pids in CONC_HOLDERS)
# and wait (bounded) until each says what happened.  Succeeds when all N
# hold a session.
conc_hold() {
	local port=$1 n=$2 i f
	for i in $(seq 1 "$n"); do
		f=$W/conc-hold-$RANDOM-$i
		perl "$MTA_DIR/hold-smtp.pl" "$CONC_FROM" 127.0.0.1 "$port" "$f" 60 &
		CONC_HOLDERS="$CONC_HOLDERS $!:$f"
	done
	# Not wait_for: conc_hold itself runs under wait_for (its bound
	# variables are global).  At most 300 x 50 ms per holder.
	for i in $CONC_HOLDERS; do
		f=0
		while [ ! -s "${i#*:}" ] && [ $f -lt 300 ]; do sleep 0.05; f=$((f + 1)); done
	done
	for i in $CONC_HOLDERS; do
		[ "$(cat "${i#*:}" 2>/dev/null)" = held ] || return 1
	done
}

# conc_hold_fresh PORT N: conc_hold, the holders killed again when not
# all of them got in (for wait_for: the close of a session that just ended
# may still be on its way to the milter).
conc_hold_fresh() { conc_hold "$@" && return 0; conc_kill; return 1; }

conc_states() { local i; for i in $CONC_HOLDERS; do printf '%s;' "$(cat "${i#*:}" 2>/dev/null)"; done; }

# conc_kill [N]: SIGKILL the first N holders (all by default), reaped.
conc_kill() {
	local n=${1:-999} i keep=
	for i in $CONC_HOLDERS; do
		if [ "$n" -gt 0 ]; then
			kill -KILL "${i%%:*}" 2>/dev/null
			wait "${i%%:*}" 2>/dev/null
			n=$((n - 1))
		else
			keep="$keep $i"
		fi
	done
	CONC_HOLDERS=$keep
}

# A session from CONC_FROM greeted with 220 (then QUIT).
conc_greeted() {
	probe "$CONC_FROM" 127.0.0.1 "$1" "QUIT"
	transcript_is "S: 220 *" "C: QUIT" "S: 221 *" "EOF"
}

conc_refused() {
	probe "$CONC_FROM" 127.0.0.1 "$1" "EHLO client.mrl.test" "QUIT"
	refused_transcript "EHLO client.mrl.test"
}

conc_phase() {
	local mta=$1 port=$2 tag="$1 concurrent" name
	MILTER_EXTRA="limit = 1000
max_concurrent = $CONC_MAX"
	milter_start "$mta" connect || { MILTER_EXTRA=; return; }
	MILTER_EXTRA=
	expect "$mta" connect
	name="$tag: $CONC_MAX sessions from $CONC_FROM held open"
	if conc_hold "$port" "$CONC_MAX"; then pass "$name"
	else fail_log "$name" "holders: $(conc_states)" "$MLOG"; fi
	name="$tag: session $((CONC_MAX + 1)) from $CONC_FROM gets '$REFUSAL' and is disconnected"
	if conc_refused "$port"; then pass "$name"; else fail "$name" "saw: $(flat)"; fi
	name="$tag: 127.0.0.32 greeted while $CONC_FROM is full"
	probe 127.0.0.32 127.0.0.1 "$port" "QUIT"
	if transcript_is "S: 220 *" "C: QUIT" "S: 221 *" "EOF"; then pass "$name"; else fail "$name" "saw: $(flat)"; fi
	name="$tag: a holder killed mid-session gives its count back"
	conc_kill 1
	if wait_for 20 conc_greeted "$port"; then pass "$name"
	else fail_log "$name" "still refused 20 s after the kill: $(flat)" "$MLOG"; fi
	name="$tag: after killing all, $CONC_MAX held again and the next refused (no count leaked)"
	conc_kill
	# A session that just ended may still be on its way to the milter's
	# close: retry (bounded) until all the holders get in.  A leaked
	# count would keep one out for good.
	if wait_for 20 conc_hold_fresh "$port" "$CONC_MAX" && conc_refused "$port"; then pass "$name"
	else fail "$name" "holders: $(conc_states) probe: $(flat)"; fi
	conc_kill
	name="$tag: milter logs refused-concurrent for $CONC_FROM"
	if grep -qE "refused-concurrent client=$CONC_FROM key=$CONC_FROM/32 concurrent=$CONC_MAX max_concurrent=$CONC_MAX( |$)" "$MLOG"; then
		pass "$name"
	else
		fail_log "$name" "no such line" "$MLOG"
	fi
	milter_stop
}
