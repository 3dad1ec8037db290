#!/bin/bash
# A real sendmail configured from Debian's own sendmail.mc and access, before
# and after the README's migration ("sendmail: take over from its own rate
# control").
#
#   tests/mta/debian.sh PATH/TO/milter-ratelimit     (run by tests/mta/run.sh)
#
# Debian ships FEATURE(ratecontrol, nodelay, terminate) with
# ConnectionRateWindowSize 10m and "ClientRate: 10" in access: sendmail
# refuses a client's 11th connection in 10 minutes in check_relay, before
# any milter is asked.
#   before: the milter installed as the README's install did (filter added,
#           sendmail untouched); 203.0.113.20 is exempt in our map, yet its
#           11th connection gets sendmail's own 421 4.3.2: the trap is real.
#   after:  the README's migration code block, run as written with private
#           paths; 203.0.113.20 is never refused (15 sessions), the imported
#           ClientRate:203.0.113.50 3 holds (the milter refuses the 4th),
#           sendmail's default became the milter's limit (203.0.113.60: 10
#           per 600 s), and sendmail logs no check_relay rate refusal.
#
# The files come from the packages, unpacked (never installed) into the
# work directory's root by tests/mta/lib.sh:
#   ROOT/usr/share/sendmail/cf/debian/sendmail.mc  (sendmail-cf)
#   ROOT/usr/share/sendmail/examples/db/access     (sendmail-base; /etc/mail/access)
# and are copied into the work directory; /etc/mail is never written.  What
# was changed, and only that, to run privately:
#   sendmail.mc: MAIL_SETTINGS_DIR (access, local-host-names...) points to
#     the work directory; cf.m4 is the unpacked root's; the
#     dialup.m4/provider.m4 includes to empty private
#     copies; pid file, status file, host status directory, control socket,
#     queue and dead.letter are private; ALIAS_FILE is empty.  The
#     ratecontrol, conncontrol, greet_pause, access_db and DAEMON_OPTIONS
#     lines are Debian's, ports included: a private network namespace has
#     its own ports 25 and 587.
#   access: Debian's lines unchanged, plus two of the test's own:
#     "ClientRate:203.0.113.50 3" (an admin's per-client limit, for the
#     import) and "GreetPause:203.0.113 0" (spares each session the 5 s
#     greeting pause of "GreetPause: 5000"; not rate control, and the
#     migration leaves greet_pause alone).
# Clients need addresses outside 127/8 (Debian's "ClientRate:127 0" exempts
# all of loopback), so the test runs in a private network namespace whose
# lo also carries 203.0.113.20, .50 and .60, and a private mount namespace
# (its accounts, tests/mta/lib.sh).  sendmail is started by lib.sh's code
# (private mount namespace, hosts file, rsyslogd).  makemap is the unpacked
# package's.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u +m

BIN=${1:?usage: tests/mta/debian.sh PATH/TO/milter-ratelimit}
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)

if [ -z "${MRL_DEBIAN_NETNS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "FAIL: debian: setup: must run as root"; exit 1; }
	exec env MRL_DEBIAN_NETNS=1 unshare -n -m --propagation private bash "$0" "$@"
fi

# run.sh's functions and cleanup trap, not its main.
# shellcheck source=tests/mta/run.sh
MTA_LIB=1 . "$HERE/run.sh" "$BIN"

SM_PORT=25
SM_WHERE="127.0.0.1:25"
DEB_MC=
DEB_ACCESS=
RMAP=$(dirname "$(readlink -f "$BIN")")/ratelimit-map
EXEMPT=203.0.113.20 PERCLIENT=203.0.113.50 DEFAULT=203.0.113.60
T="debian"

# Debian's sendmail listens on IPv4 only (its IPv6 lines are commented out).
listening() { [[ $(ss -Hltn "sport = :$1") == *"127.0.0.1:$1 "* ]]; }

net_setup() {
	ip link set lo up && ip addr add "$EXEMPT/32" dev lo && ip addr add "$PERCLIENT/32" dev lo &&
	    ip addr add "$DEFAULT/32" dev lo
}

# deb_files: Debian's sendmail.mc and access, adapted as the header says.
deb_files() {
	local d=$W/sm
	DEB_MC=$SM_ROOT/usr/share/sendmail/cf/debian/sendmail.mc
	DEB_ACCESS=$SM_ROOT/usr/share/sendmail/examples/db/access
	for f in "$DEB_MC" "$DEB_ACCESS"; do
		[ -r "$f" ] || { fail "$T: setup" "$f missing from the unpacked sendmail-cf, sendmail-base"; return 1; }
	done
	mkdir -p -m 0755 "$d/etc/m4"
	mkdir -m 0700 "$d/queue" "$d/host_status"
	: > "$d/etc/m4/dialup.m4"
	: > "$d/etc/m4/provider.m4"
	: > "$d/etc/local-host-names"
	: > "$d/etc/trusted-users"
	cat > "$d/private.m4" <<-EOF
	dnl --- milter-ratelimit test: private paths; nothing else differs from Debian
	define(\`confPID_FILE', \`$d/sendmail.pid')dnl
	define(\`STATUS_FILE', \`$d/statistics')dnl
	define(\`confHOST_STATUS_DIRECTORY', \`$d/host_status')dnl
	define(\`confCONTROL_SOCKET_NAME', \`$d/smcontrol')dnl
	define(\`QUEUE_DIR', \`$d/queue')dnl
	define(\`confDEAD_LETTER_DROP', \`$d/dead.letter')dnl
	define(\`ALIAS_FILE', \`')dnl
	EOF
	sed -e "s|^include(\`/usr/share/sendmail/cf/m4/cf.m4')dnl|define(\`MAIL_SETTINGS_DIR', \`$d/etc/')dnl\\ninclude(\`$(smroot_cf "$SM_ROOT")/m4/cf.m4')dnl|" \
	    -e "s#^include(\`/etc/mail/m4/\\(dialup\\|provider\\).m4')dnl#include(\`$d/etc/m4/\\1.m4')dnl#" \
	    -e "/^DOMAIN(\`debian-mta')dnl/r $d/private.m4" "$DEB_MC" > "$d/sendmail.mc"
	{ cat "$DEB_ACCESS"
	  echo "# milter-ratelimit test: an admin's per-client limit, and no greeting pause for the test clients"
	  echo "ClientRate:$PERCLIENT	3"
	  echo "GreetPause:203.0.113	0"
	} > "$d/etc/access"
	# Debian's lines must all be there, as shipped.
	local l miss=
	for l in "FEATURE(\`ratecontrol', \`nodelay', \`terminate')dnl" \
	    "FEATURE(\`conncontrol', \`nodelay', \`terminate')dnl" \
	    "define(\`confCONNECTION_RATE_WINDOW_SIZE',\`10m')dnl" "MAILER_DEFINITIONS"; do
		grep -qxF -- "$l" "$d/sendmail.mc" || miss="$miss [$l]"
	done
	for l in 'ClientRate:				10' 'ClientRate:127			0' 'ClientConn:127			0' 'GreetPause:				5000'; do
		grep -qxF -- "$l" "$d/etc/access" || miss="$miss [$l]"
	done
	[ -z "$miss" ] || { fail "$T: setup" "Debian's files lack:$miss"; return 1; }
	# Every include is the work directory's (the machine may have no
	# /etc/mail and no /usr/share/sendmail; if it has, they are not ours).
	local outside
	outside=$(grep -n "include(\`/" "$d/sendmail.mc" | grep -vF -e "include(\`$W/" | tr '\n' ' ')
	[ -z "$outside" ] || { fail "$T: setup" "sendmail.mc includes files outside $W: $outside"; return 1; }
	if ! (cd "$d/etc" && "$SM_ROOT/usr/sbin/makemap" hash access < access) 2> "$d/makemap.err"; then
		fail_log "$T: setup" "makemap hash access failed" "$d/makemap.err"
		return 1
	fi
	# The installed snippet (the package and make install put conf/sendmail.mc
	# in DOCDIR/examples), with the test's socket.
	mkdir -p "$W/doc/examples"
	sed "s|unix:/run/milter-ratelimit/milter-ratelimit.sock|unix:$SOCK|" "$TOP/conf/sendmail.mc" > "$W/doc/examples/sendmail.mc"
}

# sm_cf: m4 the private sendmail.mc (as make -C /etc/mail would).
sm_cf() {
	local d=$W/sm
	if ! m4 "$d/sendmail.mc" > "$d/sendmail.cf" 2> "$d/m4.err" || [ -s "$d/m4.err" ]; then
		fail_log "$T: $1: m4 sendmail.mc" "m4 failed or warned" "$d/m4.err"
		return 1
	fi
}

# --- the milter, installed as the README's install leaves it ------------------

CONF=
deb_milter_start() {
	MLOG=$W/milter-debian.log
	rm -f "$SOCK"
	"$BIN" -d -f "$CONF" >> "$MLOG" 2>&1 &
	MILTER_PID=$!
	wait_for 10 sock_or_dead
	if [ ! -S "$SOCK" ] || dead "$MILTER_PID"; then
		fail_log "$T: milter starts" "no socket $SOCK" "$MLOG"
		return 1
	fi
}

# The sample config and map source, as make install puts them, with the
# test's socket and user; our map exempts 203.0.113.20.
deb_milter_files() {
	mkdir -m 0755 "$W/src"
	CONF=$W/milter-ratelimit.conf
	sed -e "s|^socket *=.*|socket = \"unix:$SOCK\"|" -e 's|^user *=.*|user = "nobody"|' \
	    -e "s|^exempt_map *=.*|exempt_map = \"$W/src/ratelimit-exempt.db\"|" \
	    "$TOP/conf/milter-ratelimit.conf" > "$CONF"
	{ cat "$TOP/conf/ratelimit-exempt"; echo "$EXEMPT OK"; } > "$W/src/ratelimit-exempt"
	"$RMAP" "$W/src/ratelimit-exempt" < "$W/src/ratelimit-exempt" 2> "$W/rmap.err" ||
		{ fail_log "$T: setup" "building the map" "$W/rmap.err"; return 1; }
}

# --- clients -----------------------------------------------------------------

# nsessions N FROM: N sessions that must all be greeted; the number that
# were, in $GOT (stops at the first that is not).
nsessions() {
	local i
	GOT=0
	for i in $(seq 1 "$1"); do
		session "$2" 127.0.0.1 "$SM_PORT" || return 1
		GOT=$i
	done
}

mark_logs() { SM_MARK=$(wc -l < "$W/sm/maillog" 2>/dev/null || echo 0); }
sm_new() { tail -n +"$((SM_MARK + 1))" "$W/sm/maillog" 2>/dev/null; }
sm_has() { sm_new | grep -qE -- "$1"; }

SM_REFUSAL="421 4.3.2 Connection rate limit exceeded."
# sendmail's own words at connect ($j is whatever it made of the hosts file).
MILTER_REFUSAL="421 4.7.0 * closing connection"

before() {
	local name="$T before: exempt $EXEMPT gets sendmail's own '$SM_REFUSAL' on its 11th connection (the trap is real)"
	mark_logs
	if ! nsessions 10 "$EXEMPT"; then
		fail "$name" "session $((GOT + 1)) of the first 10 refused: $(server_lines)"
		return
	fi
	probe "$EXEMPT" 127.0.0.1 "$SM_PORT" "EHLO client.mrl.test" "QUIT"
	note "$T before: 11th from $EXEMPT: $(flat)"
	if transcript_is "S: $SM_REFUSAL" "EOF"; then
		pass "$name"
	else
		fail "$name" "saw: $(flat)"
	fi
	if wait_for 5 sm_has "ruleset=check_relay.*$SM_REFUSAL"; then
		pass "$T before: sendmail logs its check_relay rate refusal"
	else
		fail "$T before: sendmail logs its check_relay rate refusal" "log: $(sm_new | tail -n 5 | tr '\n' '|')"
	fi
	grep -qF "refused client=$EXEMPT " "$MLOG" &&
		fail "$T before: the milter never refused $EXEMPT" "it did: $(grep -F "client=$EXEMPT " "$MLOG" | tr '\n' '|')" ||
		pass "$T before: the milter never refused $EXEMPT (exempt in our map)"
}

# migrate: the README's migration code block, with private paths, twice.
migrate() {
	local blk=$W/migrate.sh out
	awk '/^### sendmail: take over from its own rate control/ { s = 1 }
	     s == 1 && /^```sh$/ { s = 2; next }
	     s == 2 && /^```$/ { exit }
	     s == 2 { print }' "$TOP/README.md" > "$blk.orig"
	[ -s "$blk.orig" ] || { fail "$T: the README's migration block" "not found in README.md"; return 1; }
	sed -e "s|/etc/mail/sendmail\\.cf|$W/sm/sendmail.cf|g" \
	    -e "s|/etc/mail/sendmail\\.mc|$W/sm/sendmail.mc|g" \
	    -e "s|/etc/mail/access|$W/sm/etc/access|g" \
	    -e "s|/etc/mail/ratelimit-exempt|$W/src/ratelimit-exempt|g" \
	    -e "s|/etc/milter-ratelimit\\.conf|$CONF|g" \
	    -e "s|/usr/share/doc/milter-ratelimit|$W/doc|g" \
	    -e "s|^milter-ratelimit -n|\"\$BIN\" -n -f \"\$CONF\"|" \
	    -e "s|systemctl reload milter-ratelimit|kill -USR1 \$MILTER_PID|" \
	    -e "s|^make -C /etc/mail && systemctl restart sendmail|m4 $W/sm/sendmail.mc > $W/sm/sendmail.cf|" \
	    "$blk.orig" > "$blk"
	# Nothing of the machine's may be left to touch.
	if sed 's/#.*//' "$blk" | grep -nE "(^|[[:space:]=\"'|])(/etc/|/usr/)|systemctl|make -C" > "$W/left.txt"; then
		fail_log "$T: the README's migration block runs privately" "unreplaced system paths" "$W/left.txt"
		return 1
	fi
	local i ok=1
	for i in 1 2; do
		out=$(BIN=$BIN CONF=$CONF MILTER_PID=$MILTER_PID RMAP_DIR=$(dirname "$RMAP") \
		    PATH="$(dirname "$RMAP"):$PATH" bash -e "$blk" 2>&1)
		local st=$?
		printf '%s\n' "$out" > "$W/migrate-$i.out"
		if [ $st != 0 ] || ! printf '%s' "$out" | grep -qx 'OK: the milter decides'; then
			fail_log "$T: the README's migration block runs (pass $i)" "exit $st" "$W/migrate-$i.out"
			ok=0
		fi
	done
	[ $ok = 1 ] && pass "$T: the README's migration block runs, twice, and its check says 'OK: the milter decides'"
	# Twice changed nothing twice.
	local why=
	[ "$(grep -c 'import-access' "$W/src/ratelimit-exempt")" = 1 ] || why="$why the import was appended $(grep -c 'import-access' "$W/src/ratelimit-exempt") times;"
	[ "$(grep -c "^INPUT_MAIL_FILTER(\`ratelimit'" "$W/sm/sendmail.mc")" = 1 ] || why="$why the filter is in sendmail.mc $(grep -c "^INPUT_MAIL_FILTER(\`ratelimit'" "$W/sm/sendmail.mc") times;"
	[ "$(grep -c '^Xratelimit' "$W/sm/sendmail.cf")" = 1 ] || why="$why sendmail.cf has $(grep -c '^Xratelimit' "$W/sm/sendmail.cf") Xratelimit lines;"
	grep -qx "dnl FEATURE(\`ratecontrol', \`nodelay', \`terminate')dnl" "$W/sm/sendmail.mc" || why="$why ratecontrol not commented out;"
	grep -qx "FEATURE(\`conncontrol', \`nodelay', \`terminate')dnl" "$W/sm/sendmail.mc" || why="$why conncontrol changed;"
	grep -q '^R.*ClientConn' "$W/sm/sendmail.cf" || why="$why conncontrol's rules are gone from sendmail.cf;"
	grep -qx "$(printf '%s\t%s' "$PERCLIENT" 3/10m)" "$W/src/ratelimit-exempt" || why="$why no '$PERCLIENT 3/10m' imported;"
	[ -z "$why" ] && pass "$T: a second run adds nothing; conncontrol stays; the per-client entry is imported" ||
		fail "$T: a second run adds nothing; conncontrol stays; the per-client entry is imported" "$why"
	[ $ok = 1 ]
}

after() {
	mark_logs
	if nsessions 15 "$EXEMPT"; then
		pass "$T after: exempt $EXEMPT never refused in 15 sessions"
	else
		fail "$T after: exempt $EXEMPT never refused in 15 sessions" "session $((GOT + 1)): $(server_lines)"
	fi
	local name="$T after: the imported ClientRate:$PERCLIENT 3 holds: 3 sessions, then the milter's 421"
	if nsessions 3 "$PERCLIENT"; then
		probe "$PERCLIENT" 127.0.0.1 "$SM_PORT" "EHLO client.mrl.test" "QUIT"
		note "$T after: 4th from $PERCLIENT: $(flat)"
		if transcript_is "S: $MILTER_REFUSAL" "EOF" &&
		    wait_for 5 grep -qF "refused client=$PERCLIENT key=$PERCLIENT/32 count=4 limit=3 window=600s" "$MLOG"; then
			pass "$name"
		else
			fail "$name" "saw: $(flat); milter log: $(grep -F "client=$PERCLIENT " "$MLOG" | tr '\n' '|')"
		fi
	else
		fail "$name" "session $((GOT + 1)) of 3: $(server_lines)"
	fi
	name="$T after: sendmail's default (ClientRate: 10 per 10m) is the milter's limit"
	if nsessions 10 "$DEFAULT"; then
		probe "$DEFAULT" 127.0.0.1 "$SM_PORT" "EHLO client.mrl.test" "QUIT"
		if transcript_is "S: $MILTER_REFUSAL" "EOF" &&
		    wait_for 5 grep -qF "refused client=$DEFAULT key=$DEFAULT/32 count=11 limit=10 window=600s" "$MLOG"; then
			pass "$name"
		else
			fail "$name" "saw: $(flat); milter log: $(grep -F "client=$DEFAULT " "$MLOG" | tr '\n' '|')"
		fi
	else
		fail "$name" "session $((GOT + 1)) of 10: $(server_lines)"
	fi
	# The log daemon writes asynchronously: the milter's refusals above
	# show sendmail's lines for them, then none may be a rate refusal.
	wait_for 5 sm_has "Milter: connect: host=\\[$DEFAULT\\]"
	if sm_has "Milter: connect: host=\\[$DEFAULT\\]" &&
	    ! sm_has 'ruleset=check_relay' && ! sm_has 'Connection rate limit exceeded'; then
		pass "$T after: sendmail logs no check_relay rate refusal"
	else
		fail "$T after: sendmail logs no check_relay rate refusal" "$(sm_new | grep -E 'check_relay|rate limit|Milter: connect' | tail -n 5 | tr '\n' '|')"
	fi
}

deb_main() {
	local t0=$SECONDS
	net_setup || { fail "$T: setup" "cannot add 203.0.113.x to lo in the private network namespace"; return; }
	setup || return
	# Debian's sendmail.cf names "O TrustedUser=smmta" and sendmail will not
	# start while that user is unknown; sendmail-base's postinst would have
	# made it.  Here it exists only in this mount namespace (lib.sh).
	acct_group smmta && acct_user smmta smmta /var/lib/sendmail ||
		{ fail "$T: setup" "cannot make the account smmta in the private namespace"; return; }
	deb_files || return
	deb_milter_files || return
	sendmail_ns_files
	# The README's install: the filter added before the mailers; sendmail
	# otherwise as Debian ships it.
	sed -i "/^MAILER_DEFINITIONS/e cat $W/doc/examples/sendmail.mc" "$W/sm/sendmail.mc"
	sm_cf before || return
	grep -q ClientRate "$W/sm/sendmail.cf" ||
		{ fail "$T: setup" "Debian's sendmail.cf has no ClientRate rules"; return; }
	deb_milter_start || return
	sendmail_launch "$T before: sendmail (Debian's sendmail.mc and access) starts" || return
	before
	sendmail_stop
	migrate || return
	# The migration's reload (SIGUSR1) is in force before any client comes.
	if wait_for 10 grep -q 'reloaded configuration.* limit=10 window=600s' "$MLOG"; then
		pass "$T: the milter reloaded with sendmail's default limit and window"
	else
		fail_log "$T: the milter reloaded with sendmail's default limit and window" "no reload line" "$MLOG"
	fi
	sendmail_launch "$T after: sendmail starts after the migration" || return
	after
	sendmail_stop
	milter_stop "$T"
	note "debian test took $((SECONDS - t0)) s"
}

deb_main
