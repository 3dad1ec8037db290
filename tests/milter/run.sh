#!/bin/sh
# The milter suite: the real daemon driven over its socket by miltertest.
#
#   sh tests/milter/run.sh PATH/TO/milter-ratelimit
#
# Prints one line per test, "PASS: milter/NAME" or "FAIL: milter/NAME: why".
# Each t-NAME.lua runs against a fresh daemon of its own (private directory,
# unix socket, config, log); the log checks read those logs afterwards; the
# cli tests run the binary with -n, -V and bad options.  Daemons get SIGTERM
# as soon as their script is done and are reaped together at the end, so
# libmilter's up-to-5 s shutdown is paid once, not per daemon.
# Every step is bounded in time; nothing sleeps blindly.
set -u
BIN=${1:?usage: tests/milter/run.sh PATH/TO/milter-ratelimit}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
plan 110

LIMIT=3
MT_BOUND=30	# seconds for one miltertest script
work=$(mktemp -d "${TMPDIR:-/tmp}/milter-ratelimit-tests.XXXXXX")
daemons=

cleanup() {
	for _d in $daemons; do
		[ -s "$_d/pid" ] && [ ! -e "$_d/status" ] && kill -KILL "$(cat "$_d/pid")" 2>/dev/null
	done
	[ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# oneline TEXT: squeeze text into one line for a FAIL message.
oneline() { printf '%s' "$1" | tr '\n' ' ' | cut -c1-600; }

# tail_of FILE [N]: the last N lines of FILE on one line.
tail_of() { [ -f "$1" ] && oneline "$(tail -n "${2:-5}" "$1")"; }

# sendmail's makemap from an unpacked sendmail-bin (tests/pkgbin.sh).
top=$(cd "$here/../.." && pwd)
PKG_CACHE=${PKG_CACHE:-$top/tests/.cache}
. "$top/tests/pkgroot.sh"
. "$top/tests/smroot.sh"
. "$top/tests/pkgbin.sh"
pkgbin_makemap "$work/pkg" "$work/pkg.log" ||
	{ fail "milter/setup" "unpacking sendmail-bin: $(tail_of "$work/pkg.log")"; exit 1; }
PATH=$work/pkg/bin:$PATH
for tool in miltertest makemap timeout; do
	command -v $tool >/dev/null 2>&1 || {
		fail "milter/setup" "$tool not found (make deps-test)"
		exit 1
	}
done
[ -x "$BIN" ] || { fail "milter/setup" "no executable $BIN"; exit 1; }

# --- daemons ----------------------------------------------------------------

# start_daemon NAME [CONFIG-LINE...]: write $work/NAME/conf (socket, limit,
# window, max_clients, then the given lines), start the daemon in the
# foreground with its output in $work/NAME/log, its pid in pid and, once it
# exits, its status in status.  Waits (bounded) for the socket.  Returns 1
# when the daemon did not come up; the caller reports it.
start_daemon() {
	_d=$work/$1; shift
	mkdir -p "$_d"
	{
		echo "socket = \"unix:$_d/m.sock\""
		echo "limit = $LIMIT"
		echo "window = 60"
		echo "max_clients = 10000"
		# These tests run as root; the daemon refuses to stay root unless
		# told to (the privilege drop itself is tested in tests/service).
		echo 'user = "root"'
		# Every refusal line, unthrottled: the counts are asserted.
		echo 'log_level = "debug"'
		for _l in "$@"; do echo "$_l"; done
	} > "$_d/conf"
	# The inner sh records its pid and becomes the daemon (exec); the
	# subshell outlives it to record the exit status.
	(
		sh -c 'echo $$ > "$1"; shift; exec "$@"' sh "$_d/pid" \
		    "$BIN" -d -f "$_d/conf" > "$_d/log" 2>&1
		echo $? > "$_d/status"
	) &
	daemons="$daemons $_d"
	wait_for 10 up "$_d"
	[ -S "$_d/m.sock" ] && [ ! -e "$_d/status" ]
}
up() { [ -S "$1/m.sock" ] || [ -e "$1/status" ]; }

# why_down DIR: why a daemon is not serving, for a FAIL message.
why_down() {
	if [ -e "$1/status" ]; then
		echo "daemon exited $(cat "$1/status") at start: $(tail_of "$1/log")"
	else
		echo "no socket $1/m.sock within 10 s: $(tail_of "$1/log")"
	fi
}

# stop_daemon DIR: SIGTERM; reaped by the sigterm-exit test at the end.
stop_daemon() {
	[ -s "$1/pid" ] && [ ! -e "$1/status" ] && kill -TERM "$(cat "$1/pid")" 2>/dev/null
	return 0
}

# run_lua NAME SCRIPT DIR: run tests/milter/SCRIPT against the daemon in DIR.
run_lua() {
	_name=$1 _script=$2 _d=$3
	timeout -k 2 $MT_BOUND miltertest ${MT_OPTS:-} -D sock="unix:$_d/m.sock" -D limit=$LIMIT \
	    -D lib="$here/common.lua" -s "$here/$_script" > "$_d/mt.out" 2>&1
	_rc=$?
	if [ $_rc = 0 ]; then
		pass "milter/$_name"
		return
	fi
	case $_rc in
	124|137) _why="miltertest timed out after ${MT_BOUND} s" ;;
	*) _why="miltertest exited $_rc" ;;
	esac
	[ -s "$_d/mt.out" ] && _why="$_why: $(tail_of "$_d/mt.out" 8)" ||
		_why="$_why with no message (a Lua error outside pcall?)"
	[ -e "$_d/status" ] && _why="$_why; daemon exited $(cat "$_d/status"): $(tail_of "$_d/log")"
	fail "milter/$_name" "$_why"
}

# scenario NAME SCRIPT [CONFIG-LINE...]: a fresh daemon, one script, SIGTERM.
scenario() {
	_n=$1 _s=$2; shift 2
	if start_daemon "$_n" "$@"; then
		run_lua "$_n" "$_s" "$work/$_n"
	else
		fail "milter/$_n" "$(why_down "$work/$_n")"
	fi
	stop_daemon "$work/$_n"
}

# --- the miltertest scenarios --------------------------------------------------

mkdir -p "$work/map"
printf '%s\n' '192.0.2.7 OK' '198.51.100.0/24 OK' '2001:db8:1::/48 OK' '2001:db8::5 OK' \
    > "$work/map/exempt"
timeout 10 makemap hash "$work/map/exempt" < "$work/map/exempt" 2>"$work/map/err" ||
	fail "milter/setup" "makemap: $(tail_of "$work/map/err")"

scenario limit t-limit.lua
scenario limit-count-refused-false t-limit.lua 'count_refused = false'
scenario other-client t-other-client.lua
# The socket forms libmilter takes besides "unix:": a bare path, an empty
# prefix, an upper-case prefix.  The daemon must create the socket at the
# path libmilter would (start_daemon waits for $work/NAME/m.sock).
scenario socket-bare-path t-other-client.lua "socket = \"$work/socket-bare-path/m.sock\""
scenario socket-empty-prefix t-other-client.lua "socket = \":$work/socket-empty-prefix/m.sock\""
scenario socket-upper-prefix t-other-client.lua "socket = \"UNIX:$work/socket-upper-prefix/m.sock\""
scenario prefix-default t-prefix-default.lua
scenario prefix-config t-prefix-config.lua 'ipv4_prefix = 24' 'ipv6_prefix = 48'
scenario mapped t-mapped.lua
scenario exempt t-exempt.lua "exempt_map = \"$work/map/exempt.db\""
scenario no-address t-no-address.lua
scenario helo-stage t-helo.lua 'reply_stage = "helo"'
scenario log-mode t-log-mode.lua 'mode = "log"'
scenario hostile-host t-hostile-host.lua
scenario prefix-keys t-prefix-keys.lua 'prefix ipv4/24 { limit = 6 }' \
    'prefix ipv6/128 { limit = 2 }' 'prefix ipv6/48 { limit = 5 }'
printf '%s\n' '203.0.113.0/24 2/1m' '192.0.2.0/24 9/1h' > "$work/map/entries"
timeout 10 makemap hash "$work/map/entries" < "$work/map/entries" 2>"$work/map/err" ||
	fail "milter/setup" "makemap: $(tail_of "$work/map/err")"
scenario entry-keys t-entry-keys.lua "exempt_map = \"$work/map/entries.db\"" \
    'prefix ipv4/24 { limit = 6 }' 'prefix ipv4/16 { limit = 10 }'
# -vv: miltertest traces the length of each packet it reads.
RETRY_TEXT='Come back in %{retry} seconds, 100% sure'
MT_OPTS=-vv scenario retry t-retry.lua 'reply_stage = "helo"' "reply_text = \"$RETRY_TEXT\""

# Name entries (the map built by ratelimit-map, beside the daemon).
RMAP=$(dirname "$BIN")/ratelimit-map
printf '%s\n' 'partner.example OK' 'mx1.limited.example 2/1m' '192.0.2.64/28 2/1m' \
    > "$work/map/names"
timeout 10 "$RMAP" "$work/map/names" < "$work/map/names" 2>"$work/map/err" ||
	fail "milter/setup" "ratelimit-map: $(tail_of "$work/map/err")"
scenario names t-names.lua "exempt_map = \"$work/map/names.db\""

# Listener sections, keyed by {daemon_port}.
scenario listeners t-listeners.lua 'listener 587 { mode = "off" }' \
    'listener 2525 { limit = 5 }'
# max_concurrent: sessions held open, the next refused, counts given back
# on QUIT and on an abrupt close.  The rate limit is set out of the way.
MT_OPTS="-D max=2" scenario concurrent t-concurrent.lua 'limit = 1000' 'max_concurrent = 2'
MT_OPTS="-D max=2 -D stage=helo" scenario concurrent-helo t-concurrent.lua 'limit = 1000' \
    'max_concurrent = 2' 'reply_stage = "helo"'
MT_OPTS="-D case=log" scenario concurrent-log-mode t-concurrent-more.lua 'limit = 1000' \
    'max_concurrent = 2' 'mode = "log"'
MT_OPTS="-D case=reload -D dir=$work/concurrent-reload" scenario concurrent-reload \
    t-concurrent-more.lua 'limit = 1000' 'max_concurrent = 2'
# A client at its limit that keeps knocking: at log level notice one
# refused-concurrent line per key per window, the rest summed up.
MT_OPTS="-D case=hammer -D dir=$work/concurrent-hammer" scenario concurrent-hammer \
    t-concurrent-more.lua 'limit = 1000' 'max_concurrent = 2' 'log_level = "notice"'
MT_OPTS="-D max=1 -D same4=192.0.2.99" scenario concurrent-prefix t-concurrent.lua 'limit = 1000' \
    'max_concurrent = 1' 'ipv4_prefix = 24'

# Negotiation, as an MTA sees it: the daemon asks for the connect macros
# it needs ({client_resolve}), and keeps every stage it has no callback
# for negotiated away and no "no reply" flag set (SMFIP_NR_CONN would
# suppress the CONNECT reply; SMFIP_SKIP is not needed).
nd=$work/negotiate
if start_daemon negotiate; then
	if out=$(timeout -k 1 8 perl "$here/negotiate.pl" "$nd/m.sock" 2>&1); then
		# mfdef.h: NORCPT 0x8 NOBODY 0x10 NOHDRS 0x20 NOEOH 0x40
		# NOUNKNOWN 0x100 NODATA 0x200 (no callbacks for those stages).
		want_p=$(printf '0x%x' $((0x8 | 0x10 | 0x20 | 0x40 | 0x100 | 0x200)))
		want="$(printf 'version=6 actions=0x0 protocol=%s\nmacros 0=j _ {client_resolve} {daemon_port}' "$want_p")"
		[ "$out" = "$want" ] && pass "milter/negotiate-macros-and-flags" ||
			fail "milter/negotiate-macros-and-flags" "got '$(oneline "$out")', want '$(oneline "$want")'"
	else
		fail "milter/negotiate-macros-and-flags" "negotiate.pl: $(oneline "$out")"
	fi
else
	fail "milter/negotiate-macros-and-flags" "$(why_down "$nd")"
fi
stop_daemon "$nd"

# With max_concurrent on and replies at connect, a counted session stays
# open, and HELO and MAIL (0x2, 0x4) stay negotiated in: the flags hold
# for the whole milter connection, and a reload to reply_stage "helo"
# before CONNECT must still find a HELO to refuse at (review C).
nd=$work/negotiate-concurrent
if start_daemon negotiate-concurrent 'max_concurrent = 5'; then
	if out=$(timeout -k 1 8 perl "$here/negotiate.pl" "$nd/m.sock" 2>&1); then
		want_p=$(printf '0x%x' $((0x8 | 0x10 | 0x20 | 0x40 | 0x100 | 0x200)))
		want="$(printf 'version=6 actions=0x0 protocol=%s\nmacros 0=j _ {client_resolve} {daemon_port}' "$want_p")"
		[ "$out" = "$want" ] && pass "milter/negotiate-concurrent" ||
			fail "milter/negotiate-concurrent" "got '$(oneline "$out")', want '$(oneline "$want")'"
	else
		fail "milter/negotiate-concurrent" "negotiate.pl: $(oneline "$out")"
	fi
else
	fail "milter/negotiate-concurrent" "$(why_down "$nd")"
fi
stop_daemon "$nd"

# The longest reply_text libmilter passes on: 980 characters as sent, each
# '%' doubled (940 letters and 20 '%').  A refused client must get
# SMFIR_REPLYCODE (421 with our text), not a bare SMFIR_TEMPFAIL.
# rtext LETTERS PERCENTS: such a text.
rtext() { printf "%${1}s" '' | tr ' ' x; printf "%${2}s" '' | tr ' ' '%'; }
scenario reply-longest t-limit.lua "reply_text = \"$(rtext 940 20)\""
scenario reply-longest-helo t-helo.lua 'reply_stage = "helo"' \
    "reply_text = \"$(rtext 940 20)\""

# --- what the daemons logged ---------------------------------------------------

# log_has NAME ERE: a line of NAME's log matches ERE.
log_has() { grep -Eq -- "$2" "$work/$1/log"; }

# expect_lines TEST LOG ERE...: every ERE matches a line of LOG's log.
expect_lines() {
	_t=$1 _log=$2; shift 2
	_miss=
	for _re in "$@"; do
		log_has "$_log" "$_re" || _miss="$_miss [$_re]"
	done
	if [ -z "$_miss" ]; then
		pass "milter/$_t"
	else
		fail "milter/$_t" "no line matching$_miss in $_log log: $(tail_of "$work/$_log/log" 4)"
	fi
}

# counts LOG CLIENT: the count= fields of CLIENT's refusal lines, in order.
counts() {
	grep -E "(^|[^-])refused client=$2 " "$work/$1/log" |
		sed -n 's/.* count=\([0-9]*\) .*/\1/p' | tr '\n' ' ' | sed 's/ $//'
}

# A refusal on a listener with a section names it; a missing
# {daemon_port} is said once, not per connection.
expect_lines refusal-log-listener listeners \
    "(^|[ :])refused client=192\.0\.2\.20 key=192\.0\.2\.20/32 count=6 limit=5 window=60s stage=connect retry=[0-9]+s listener=2525 "
n=$(grep -c 'sent no usable {daemon_port}' "$work/listeners/log")
[ "$n" = 1 ] && pass "milter/listener-missing-macro-once" ||
	fail "milter/listener-missing-macro-once" "$n lines about the missing macro, want 1"

# The entry's limit is the /24's; the /16 section keeps its own.
expect_lines refusal-log-entry-keys entry-keys \
    "(^|[ :])refused client=203\.0\.113\.3 key=203\.0\.113\.0/24 count=3 limit=2 window=60s " \
    "(^|[ :])refused client=192\.0\.2\.3 key=192\.0\.2\.0/24 count=10 limit=9 window=3600s " \
    "(^|[ :])refused client=192\.0\.3\.2 key=192\.0\.0\.0/16 count=11 limit=10 window=60s "

e=' limit=3 window=60s stage='
expect_lines refusal-log limit \
    "(^|[ :])refused client=192\.0\.2\.10 key=192\.0\.2\.10/32 count=4${e}connect( |$)" \
    "(^|[ :])refused client=2001:db8:10::1 key=2001:db8:10::/64 count=4${e}connect( |$)"
expect_lines refusal-log-prefix prefix-config \
    "(^|[ :])refused client=192\.0\.2\.3 key=192\.0\.2\.0/24 count=4${e}connect( |$)" \
    "(^|[ :])refused client=2001:db8:40:abcd::1 key=2001:db8:40::/48 count=4${e}connect( |$)"
expect_lines refusal-log-mapped mapped \
    "(^|[ :])refused client=(::ffff:)?192\.0\.2\.41 key=192\.0\.2\.41/32 count=5${e}connect( |$)"
expect_lines refusal-log-helo helo-stage \
    "(^|[ :])refused client=192\.0\.2\.60 key=192\.0\.2\.60/32 count=4${e}helo( |$)" \
    "(^|[ :])refused client=2001:db8:60::1 key=2001:db8:60::/64 count=4${e}helo( |$)"
expect_lines refusal-log-prefix-keys prefix-keys \
    "(^|[ :])refused client=127\.0\.5\.7 key=127\.0\.5\.0/24 count=7 limit=6 window=60s stage=connect retry=(59|60)s " \
    "(^|[ :])refused client=127\.0\.7\.1 key=127\.0\.7\.1/32 count=4${e}connect retry=(59|60)s " \
    "(^|[ :])refused client=2001:db8:70:1::1 key=2001:db8:70:1::1/128 count=3 limit=2 " \
    "(^|[ :])refused client=2001:db8:70:1::3 key=2001:db8:70:1::/64 count=4 limit=3 " \
    "(^|[ :])refused client=2001:db8:70:4::1 key=2001:db8:70::/48 count=6 limit=5 "
expect_lines names-log names \
    "exempt client=192\.0\.2\.110 entry=partner\.example host=mx1\.partner\.example( |$)" \
    "exempt client=2001:db8:110::1 entry=partner\.example host=MX2\.Partner\.Example\.( |$)" \
    "(^|[ :])refused client=192\.0\.2\.117 key=192\.0\.2\.117/32 count=3 limit=2 window=60s stage=connect retry=[0-9]+s entry=mx1\.limited\.example host=a\.mx1\.limited\.example( |$)" \
    "(^|[ :])refused client=192\.0\.2\.111 key=192\.0\.2\.111/32 count=4${e}connect retry=[0-9]+s host=mx1\.partner\.example( |$)" \
    "(^|[ :])refused client=192\.0\.2\.65 key=192\.0\.2\.65/32 count=3 limit=2 window=60s stage=connect retry=[0-9]+s entry=192\.0\.2\.64/28 host=mx1\.partner\.example( |$)"
expect_lines log-mode-would-refuse log-mode \
    "would-refuse client=192\.0\.2\.70 " "would-refuse client=2001:db8:70::1 "

expect_lines concurrent-log concurrent \
    "(^|[ :])refused-concurrent client=192\.0\.2\.150 key=192\.0\.2\.150/32 concurrent=2 max_concurrent=2( |$)" \
    "(^|[ :])refused-concurrent client=2001:db8:150::2 key=2001:db8:150::/64 concurrent=2 max_concurrent=2( |$)"
expect_lines concurrent-log-mode-line concurrent-log-mode \
    "(^|[ :])would-refuse-concurrent client=192\.0\.2\.160 key=192\.0\.2\.160/32 concurrent=2 max_concurrent=2( |$)" \
    "(^|[ :])would-refuse-concurrent client=192\.0\.2\.160 key=192\.0\.2\.160/32 concurrent=3 max_concurrent=2( |$)"
expect_lines concurrent-log-prefix concurrent-prefix \
    "(^|[ :])refused-concurrent client=192\.0\.2\.99 key=192\.0\.2\.0/24 concurrent=1 max_concurrent=1( |$)"

# Six refusals of one key in one window at log level notice: one line
# (the first, nothing suppressed before it); the stats line counts all six.
hl=$work/concurrent-hammer/log
n=$(grep -Ec '(^|[ :])refused-concurrent client=192\.0\.2\.180 ' "$hl")
if [ "$n" = 1 ] && log_has concurrent-hammer \
    "(^|[ :])refused-concurrent client=192\.0\.2\.180 key=192\.0\.2\.180/32 concurrent=2 max_concurrent=2\$"; then
	pass "milter/concurrent-hammer-one-line"
else
	fail "milter/concurrent-hammer-one-line" "$n refused-concurrent lines, want 1 without suppressed=: $(tail_of "$hl" 4)"
fi
expect_lines concurrent-stats concurrent-hammer \
    " stats connections=8 accepted=2 exempt=0 refused=0 would_refuse=0 refused_concurrent=6 would_refuse_concurrent=0 "

# %{retry} at HELO: the refusal line says retry=59 or 60 s (all four
# connections within a second, window 60), and the 421 packet miltertest
# read carries "421 4.3.2 " and the text with two digits in place of the
# placeholder and its '%' doubled, and a NUL: the length proves both.
rt=$(printf '%s' "$RETRY_TEXT" | sed -e 's/%{retry}/60/' -e 's/%/%%/g')
want_len=$(( ${#rt} + 11 ))
if ! log_has retry "(^|[ :])refused client=192\.0\.2\.90 .* stage=helo retry=(59|60)s "; then
	fail "milter/retry-text" "no refusal line with retry=59s or 60s: $(tail_of "$work/retry/log" 3)"
elif grep -q "cmd y, len $want_len\$" "$work/retry/mt.out"; then
	pass "milter/retry-text"
else
	fail "milter/retry-text" "no 421 reply of $want_len bytes in miltertest's trace: $(grep 'cmd y' "$work/retry/mt.out" | tr '\n' ' ')"
fi

# libmilter took the longest text every time: no "smfi_setreply failed".
for _l in reply-longest reply-longest-helo; do
	if _o=$(grep -F 'smfi_setreply failed' "$work/$_l/log"); then
		fail "milter/$_l-no-setreply-failure" "$(oneline "$_o")"
	elif ! grep -Eq '(^|[^-])refused client=' "$work/$_l/log"; then
		fail "milter/$_l-no-setreply-failure" "no refusal logged: $(tail_of "$work/$_l/log")"
	else
		pass "milter/$_l-no-setreply-failure"
	fi
done

# In log mode nothing is refused; the exempt and unspec clients never are.
for _l in log-mode exempt no-address; do
	case $_l in
	exempt) _re='refused client=(::ffff:)?(192\.0\.2\.7|198\.51\.100\.[0-9]+|2001:db8:1:[0-9a-f:]*|2001:db8::5) ' ;;
	*) _re='(^|[^-])refused client=' ;;
	esac
	if _o=$(grep -E "$_re" "$work/$_l/log"); then
		fail "milter/$_l-no-refusal" "$(oneline "$_o")"
	else
		pass "milter/$_l-no-refusal"
	fi
done

# The hostile host name: if logged at all, it shows up only inside the two
# real refusal lines (and, escaped, in the debug "connect host=" lines);
# the forged line never starts a line of its own, and no raw control
# character reaches the log.
h=$work/hostile-host/log
n=$(grep -v '^milter-ratelimit\[[0-9]*\]: connect host=' "$h" | grep -c '203\.0\.113\.9')
if { [ "$n" = 0 ] || { [ "$n" = 2 ] &&
    [ "$(grep -Ec '(^|[ :])refused client=(192\.0\.2\.80|2001:db8:80::1) .*203\.0\.113\.9' "$h")" = 2 ]; }; } &&
    [ "$(grep -Ec '(^|[ :])refused client=' "$h")" = 2 ] &&
    ! grep -q '^milter-ratelimit\[1\]' "$h" && ! grep -q '[[:cntrl:]]' "$h"; then
	pass "milter/log-escapes-host"
else
	fail "milter/log-escapes-host" "want the forged text only inside the 2 real refusal lines, escaped: $(tail_of "$h" 4)"
fi

# count_refused: with true, each refusal counts (4 5 6 for limit 3); with
# false the count stays where it was.
c=$(counts limit 192.0.2.10)
[ "$c" = "4 5 6" ] && pass "milter/count-refused-true" ||
	fail "milter/count-refused-true" "refusal counts for 192.0.2.10 are '$c', want '4 5 6'"
c=$(counts limit-count-refused-false 192.0.2.10)
set -- $c
if [ $# = 3 ] && [ "$1" = "$2" ] && [ "$2" = "$3" ]; then
	pass "milter/count-refused-false"
else
	fail "milter/count-refused-false" "refusal counts for 192.0.2.10 are '$c', want three equal"
fi

# --- command line (no miltertest) ---------------------------------------------

cli=$work/cli
mkdir -p "$cli"
good="socket = \"unix:$cli/m.sock\""

# cli_run ARGS...: run the binary (bounded), output in $out, status in $rc.
cli_run() { out=$(timeout -k 1 5 "$BIN" "$@" 2>&1); rc=$?; }

printf '%s\n' "$good" 'limit = 3' 'window = 60' 'ipv4_prefix = 24' 'ipv6_prefix = 48' \
    'reply_stage = "helo"' 'mode = "log"' 'max_clients = 10000' 'count_refused = false' 'user = "root"' \
    > "$cli/good.conf"
cli_run -n -f "$cli/good.conf"
if [ $rc = 0 ] && printf '%s' "$out" | grep -q 'configuration OK' && [ ! -e "$cli/m.sock" ]; then
	pass "milter/cli-check-good"
else
	fail "milter/cli-check-good" "exit $rc, socket $( [ -e "$cli/m.sock" ] && echo created || echo absent), output: $(oneline "$out")"
fi

# Each bad line goes on line 3 of a file that sets nothing else but the
# socket (so no later line can override it) and has no comments.
i=0
for bad in 'no_such_option = 1' 'limit = 0' 'limit = 9001' 'limit = 100001' 'window = 0' 'window = 86401' \
    'ipv4_prefix = 7' 'ipv4_prefix = 33' 'ipv6_prefix = 15' 'ipv6_prefix = 129' \
    'reply_stage = "data"' 'mode = "dry"' 'max_clients = 99' 'limit = "ten"' \
    'prefix ipv4/33 { }' 'prefix ipv6/64 { }' 'prefix ipv4/24 { limit = 0 }'; do
	i=$((i + 1))
	f=$cli/bad$i.conf
	printf '%s\n' "$good" '' "$bad" '' > "$f"
	cli_run -n -f "$f"
	if [ $rc = 78 ] && printf '%s\n' "$out" | grep -Fq "$f:3: "; then
		pass "milter/cli-check-bad: $bad"
	else
		fail "milter/cli-check-bad: $bad" "exit $rc (want 78), want '$f:3: ...', output: $(oneline "$out")"
	fi
done

# One character past libmilter's 980 (as sent, '%' doubled) is refused
# when the file is read, naming the line.
i=0
for t in "941 20" "1 490" "0 491"; do
	i=$((i + 1))
	set -- $t
	f=$cli/reply$i.conf
	printf '%s\n' "$good" 'user = "root"' "reply_text = \"$(rtext $1 $2)\"" > "$f"
	cli_run -n -f "$f"
	if [ $rc = 78 ] && printf '%s\n' "$out" | grep -Fq "$f:3: " &&
	    printf '%s\n' "$out" | grep -q 'at most 980'; then
		pass "milter/cli-check-reply-too-long: $1 letters, $2 %"
	else
		fail "milter/cli-check-reply-too-long: $1 letters, $2 %" "exit $rc (want 78), want '$f:3: ... at most 980', output: $(oneline "$out")"
	fi
done

# The other side of each edge is accepted: limit 1..9000 (9000 keeps a
# slot's group within the table entry's counters), window 1..86400,
# prefixes 8..32 and 16..128, max_clients from 100.
why=
for edge in 'limit = 1' 'limit = 9000' 'window = 1' 'window = 86400' 'ipv4_prefix = 8' \
    'ipv4_prefix = 32' 'ipv6_prefix = 16' 'ipv6_prefix = 128' 'max_clients = 100'; do
	printf '%s\n' "$good" "$edge" 'user = "root"' > "$cli/edge.conf"
	cli_run -n -f "$cli/edge.conf"
	[ $rc = 0 ] || why="$why [$edge: exit $rc: $(oneline "$out")]"
done
[ -z "$why" ] && pass "milter/cli-check-edges-accepted" ||
	fail "milter/cli-check-edges-accepted" "refused:$why"

# The sample config (socket moved) passes -n; with its limit line made
# bad, the error names that line although comments come before it.
sample=$here/../../conf/milter-ratelimit.conf
# The sample runs as user milter-ratelimit, which -n checks exists: first
# with a user this machine has, then as shipped.
sed -e "s|^socket .*|$good|" -e 's|^user .*|user = "root"|' "$sample" > "$cli/sample.conf"
cli_run -n -f "$cli/sample.conf"
if [ $rc = 0 ] && printf '%s' "$out" | grep -q 'configuration OK'; then
	pass "milter/cli-check-sample-config"
else
	fail "milter/cli-check-sample-config" "exit $rc, output: $(oneline "$out")"
fi
sed -e "s|^socket .*|$good|" "$sample" > "$cli/sample-user.conf"
cli_run -n -f "$cli/sample-user.conf"
if getent passwd milter-ratelimit >/dev/null; then
	want_rc=0 want_out='configuration OK'
else
	want_rc=78 want_out='user "milter-ratelimit" does not exist'
fi
if [ $rc = $want_rc ] && printf '%s' "$out" | grep -Fq "$want_out"; then
	pass "milter/cli-check-sample-user"
else
	fail "milter/cli-check-sample-user" "exit $rc (want $want_rc, '$want_out'), output: $(oneline "$out")"
fi
n=$(grep -n '^limit ' "$cli/sample.conf" | cut -d: -f1)
sed 's|^limit .*|limit = 0|' "$cli/sample.conf" > "$cli/sample-bad.conf"
cli_run -n -f "$cli/sample-bad.conf"
if [ -n "$n" ] && [ $rc = 78 ] && printf '%s\n' "$out" | grep -Fq "$cli/sample-bad.conf:$n: "; then
	pass "milter/cli-check-line-after-comments"
else
	fail "milter/cli-check-line-after-comments" "exit $rc (want 78), want 'sample-bad.conf:$n: ...', output: $(oneline "$out")"
fi

# The socket spec is read as libmilter reads it: a bad one fails -n
# (exit 78, naming its line) instead of the start.
for spec in 'bogus:xyz' 'unix:relative/m.sock' 'inet:0@127.0.0.1' 'inet:70000@127.0.0.1' \
    'inet:no-such-service-mrl@127.0.0.1' 'inet:10025@' 'inet6:' 'fd:x' 'unix:/' 'UNIX:/run/'; do
	f=$cli/spec.conf
	printf '%s\n' 'user = "root"' '' "socket = \"$spec\"" '' > "$f"
	cli_run -n -f "$f"
	if [ $rc = 78 ] && printf '%s\n' "$out" | grep -Fq "$f:3: socket \"$spec\": "; then
		pass "milter/cli-check-socket-spec-bad: $spec"
	else
		fail "milter/cli-check-socket-spec-bad: $spec" "exit $rc (want 78), want '$f:3: socket \"$spec\": ...', output: $(oneline "$out")"
	fi
done
# Good specs on loopback pass without a word; inet sockets other hosts
# would reach get the warning about the unit's IPAddressAllow=localhost.
why=
# libmilter compares the prefix case-insensitively and takes a bare path
# or an empty prefix as a unix socket: so do we.
for spec in "unix:$cli/m.sock" "local:$cli/m.sock" 'inet:10025@127.0.0.1' 'inet:10025@127.0.0.2' \
    'inet:smtp@localhost' 'inet6:10025@::1' 'inet6:10025@[::1]' 'fd:3' \
    "UNIX:$cli/m.sock" "Local:$cli/m.sock" "$cli/m.sock" ":$cli/m.sock" 'Inet:8899@127.0.0.1' \
    'INET6:10025@::1' 'FD:3'; do
	printf '%s\n' 'user = "root"' "socket = \"$spec\"" > "$cli/spec.conf"
	cli_run -n -f "$cli/spec.conf"
	[ $rc = 0 ] && [ "$out" = "configuration OK" ] || why="$why [$spec: exit $rc: $(oneline "$out")]"
done
[ -z "$why" ] && pass "milter/cli-check-socket-spec-good" ||
	fail "milter/cli-check-socket-spec-good" "want exit 0 and only 'configuration OK':$why"
# The Postfix check reads the socket spec with the same parser: a bare
# path is checked too.  A stand-in postconf (Postfix is not installed
# here) reports a chrooted smtpd, which cannot reach a socket outside
# its spool: -n must warn, as it does for unix:PATH.
mkdir -p "$cli/pcbin"
cat > "$cli/pcbin/postconf" <<'PC'
#!/bin/sh
case "$*" in
"-xh queue_directory") echo /var/spool/postfix ;;
"-xh smtpd_milters") echo "unix:$MRL_PC_SOCK" ;;
"-M") echo 'smtp       inet  n       -       y       -       -       smtpd' ;;
esac
exit 0
PC
chmod 0755 "$cli/pcbin/postconf"
why=
for spec in "unix:$cli/m.sock" "$cli/m.sock" "UNIX:$cli/m.sock"; do
	printf '%s\n' 'user = "root"' "socket = \"$spec\"" > "$cli/spec.conf"
	out=$(PATH="$cli/pcbin:$PATH" MRL_PC_SOCK="$cli/m.sock" timeout -k 1 5 "$BIN" -n -f "$cli/spec.conf" 2>&1)
	rc=$?
	[ $rc = 0 ] && printf '%s\n' "$out" | grep -q 'runs chrooted in /var/spool/postfix' ||
		why="$why [$spec: exit $rc: $(oneline "$out")]"
done
[ -z "$why" ] && pass "milter/cli-check-postfix-reads-every-unix-form" ||
	fail "milter/cli-check-postfix-reads-every-unix-form" "want the chroot warning for each:$why"

# Every socket error names FILE:LINE: a host with no address of the
# family (numeric: no resolver), and a missing directory, the latter in
# each unix form (sockdir reads the spec as sockspec does).
for spec in 'inet6:10025@192.0.2.5=has no IPv6 address' "$cli/none/m.sock=$cli/none does not exist" \
    "UNIX:$cli/none/m.sock=$cli/none does not exist" ":$cli/none/m.sock=$cli/none does not exist"; do
	want=${spec#*=} spec=${spec%%=*}
	f=$cli/spec.conf
	printf '%s\n' 'user = "root"' '' "socket = \"$spec\"" '' > "$f"
	cli_run -n -f "$f"
	if [ $rc = 78 ] && printf '%s\n' "$out" | grep -F "$f:3: " | grep -Fq "$want"; then
		pass "milter/cli-check-socket-error-names-line: $spec"
	else
		fail "milter/cli-check-socket-error-names-line: $spec" "exit $rc (want 78), want '$f:3: ...$want...', output: $(oneline "$out")"
	fi
done
for spec in 'inet:10025@192.0.2.5=192.0.2.5' 'inet6:10025@[2001:db8::5]=2001:db8::5' \
    'inet:10025=every interface'; do
	where=${spec#*=} spec=${spec%%=*}
	printf '%s\n' 'user = "root"' "socket = \"$spec\"" > "$cli/spec.conf"
	cli_run -n -f "$cli/spec.conf"
	if [ $rc = 0 ] && printf '%s\n' "$out" | grep -q 'configuration OK' &&
	    printf '%s\n' "$out" | grep -F "$cli/spec.conf:2: warning: socket \"$spec\"" |
	    grep -F "$where" | grep -Fq 'IPAddressAllow='; then
		pass "milter/cli-check-inet-beyond-loopback-warns: $spec"
	else
		fail "milter/cli-check-inet-beyond-loopback-warns: $spec" "want exit 0, 'configuration OK' and a warning naming $where and IPAddressAllow=; exit $rc, output: $(oneline "$out")"
	fi
done

cli_run -n -f "$cli/missing.conf"
if [ $rc != 0 ] && printf '%s' "$out" | grep -Fq "$cli/missing.conf"; then
	pass "milter/cli-missing-config"
else
	fail "milter/cli-missing-config" "exit $rc (want non-zero, naming the file), output: $(oneline "$out")"
fi

# A FIFO (or a directory) where the config should be: a clear error and
# exit 78 at once, not a start that waits for a writer.
mkfifo "$cli/fifo.conf"
mkdir "$cli/dir.conf"
for f in fifo.conf:FIFO dir.conf:directory; do
	cli_run -n -f "$cli/${f%%:*}"
	if [ $rc = 78 ] && printf '%s' "$out" | grep -Fq "$cli/${f%%:*}: cannot read: not a regular file (a ${f#*:})"; then
		pass "milter/cli-check-config-not-regular: ${f#*:}"
	else
		fail "milter/cli-check-config-not-regular: ${f#*:}" "exit $rc (want 78; 124/137: hung), want '$cli/${f%%:*}: cannot read: not a regular file (a ${f#*:})', output: $(oneline "$out")"
	fi
done

# cli_split ARGS...: the same, stdout in $out and stderr in $err apart.
cli_split() {
	timeout -k 1 5 "$BIN" "$@" > "$cli/.out" 2> "$cli/.err"; rc=$?
	out=$(cat "$cli/.out") err=$(cat "$cli/.err")
}

# A usage error: the usage on stderr, nothing on stdout, exit 64.
for opt in -Z '-f' 'extra-argument' '--no-such-option'; do
	cli_split $opt
	[ $rc = 64 ] && [ -z "$out" ] && printf '%s\n' "$err" | grep -q '^usage: milter-ratelimit ' &&
		pass "milter/cli-usage: $opt" ||
		fail "milter/cli-usage: $opt" "exit $rc, want 64 and the usage on stderr only; stdout '$(oneline "$out")', stderr '$(oneline "$err")'"
done

# Asked for, the usage goes to stdout and the exit is 0.
for opt in -h --help; do
	cli_split $opt
	[ $rc = 0 ] && [ -z "$err" ] && printf '%s\n' "$out" | grep -q '^usage: milter-ratelimit ' &&
	    printf '%s\n' "$out" | grep -q -- '--version' &&
		pass "milter/cli-help: $opt" ||
		fail "milter/cli-help: $opt" "exit $rc, want 0 and the usage on stdout only; stdout '$(oneline "$out")', stderr '$(oneline "$err")'"
done

# -V and --version print exactly "milter-ratelimit VERSION", VERSION as
# the Makefile has it.
version=$(sed -n 's/^VERSION *:*= *//p' "$here/../../Makefile" 2>/dev/null)
for opt in -V --version; do
	cli_split $opt
	if [ -z "$version" ]; then
		fail "milter/cli-version: $opt" "cannot read VERSION from $here/../../Makefile"
	elif [ $rc = 0 ] && [ "$out" = "milter-ratelimit $version" ] && [ -z "$err" ]; then
		pass "milter/cli-version: $opt"
	else
		fail "milter/cli-version: $opt" "exit $rc, want 0 and 'milter-ratelimit $version', stdout '$(oneline "$out")', stderr '$(oneline "$err")'"
	fi
done

# --- shutdown -----------------------------------------------------------------

# Every daemon got SIGTERM when its script ended: each must exit 0 within
# 8 s of it (libmilter checks for the stop every 5 s) and leave no sanitizer
# report in its log.
all_down() {
	for _d in $daemons; do [ -e "$_d/status" ] || [ ! -s "$_d/pid" ] || return 1; done
}
wait_for 8 all_down
bad=
for _d in $daemons; do
	_n=${_d##*/}
	if [ ! -s "$_d/pid" ]; then
		:
	elif [ ! -e "$_d/status" ]; then
		kill -KILL "$(cat "$_d/pid")" 2>/dev/null
		bad="$bad $_n: still running 8 s after SIGTERM (killed);"
	elif [ "$(cat "$_d/status")" != 0 ]; then
		bad="$bad $_n: exit $(cat "$_d/status"): $(tail_of "$_d/log" 3);"
	elif grep -Eq 'Sanitizer|runtime error:' "$_d/log"; then
		bad="$bad $_n: $(grep -E -m1 'Sanitizer|runtime error:' "$_d/log");"
	fi
done
[ -z "$bad" ] && pass "milter/sigterm-exit" || fail "milter/sigterm-exit" "$bad"

# The hammering client's five refusals never logged were summed up at
# exit (its window, 60 s, had not passed), once.
n=$(grep -Ec 'refused-concurrent-summary ' "$hl")
if [ "$n" = 1 ] && log_has concurrent-hammer \
    "(^|[ :])refused-concurrent-summary key=192\.0\.2\.180/32 suppressed=5\$"; then
	pass "milter/concurrent-hammer-summary-at-exit"
else
	fail "milter/concurrent-hammer-summary-at-exit" "$n summary lines, want 1 with suppressed=5: $(tail_of "$hl" 4)"
fi

[ "${FAILED:-0}" = 0 ]
