# Daemons for the Redis tests.  Source it (after tests/lib.sh and
# server.sh).
#
# mrl_start DIR [CONFIG-LINE...]: write DIR/conf (socket DIR/m.sock,
#   limit $LIMIT, window 60, user root, log level debug, then the lines),
#   start BIN -d on it with its output in DIR/log and its pid in DIR/pid;
#   waits (bounded) for the socket.  MRL_ENV: an environment prefix for
#   env(1) (libfaketime).  Returns 1 when it did not come up.
# mrl_stop_all: SIGKILL every daemon started (nothing here tests the
#   graceful exit: tests/milter does).  A sanitizer build's report in a
#   daemon's log (ASan, UBSan, TSan) is a FAIL line of its own, which
#   breaks the plan too: the suite fails.  Not for a daemon under
#   libfaketime: its preloaded clock and thread wrappers come before
#   TSan's and make it report libmilter's own locks (seen: double lock
#   in mi_pool_controller, races in mi_rd_cmd), none of ours.
# mt_rr ADDR N DIR...: N sessions from ADDR, round-robin over the daemons'
#   sockets, one reply name per line on stdout (ACCEPT, REPLYCODE, ...).
# count_of WORD FILE: how many lines of FILE are exactly WORD.
LIMIT=${LIMIT:-3}
_mrl_daemons=
_here_d=$(cd "$(dirname "$0")" && pwd)

mrl_start() {
	_d=$1; shift
	mkdir -p "$_d"
	case ${MRL_ENV:-} in *faketime*) : > "$_d/faketime" ;; esac
	{
		echo "socket = \"unix:$_d/m.sock\""
		echo "limit = $LIMIT"
		echo "window = 60"
		echo "max_clients = 10000"
		echo 'user = "root"'
		echo 'log_level = "debug"'
		for _l in "$@"; do echo "$_l"; done
	} > "$_d/conf"
	# shellcheck disable=SC2086
	sh -c 'echo $$ > "$1"; shift; exec "$@"' sh "$_d/pid" \
	    env ${MRL_ENV:-} "$BIN" -d -f "$_d/conf" > "$_d/log" 2>&1 &
	_mrl_daemons="$_mrl_daemons $_d"
	wait_for 10 test -S "$_d/m.sock"
}

mrl_stop_all() {
	for _d in $_mrl_daemons; do
		[ -s "$_d/pid" ] && kill -KILL "$(cat "$_d/pid")" 2>/dev/null
		[ ! -e "$_d/faketime" ] &&
		    grep -Eq 'ERROR: AddressSanitizer|WARNING: ThreadSanitizer|runtime error:' "$_d/log" &&
		    fail "redis/sanitizer-$(basename "$_d")" "$(grep -Em 1 'ERROR: AddressSanitizer|WARNING: ThreadSanitizer|runtime error:' "$_d/log")"
	done
	_mrl_daemons=
	return 0
}

mt_rr() {
	_addr=$1 _n=$2; shift 2
	_socks=
	for _d in "$@"; do _socks="$_socks${_socks:+,}unix:$_d/m.sock"; done
	timeout -k 2 30 miltertest -D socks="$_socks" -D addr="$_addr" -D n="$_n" \
	    -D lib="$_here_d/../mtlib.lua" -s "$_here_d/rr.lua"
}

count_of() { grep -cx "$1" "$2"; }

# kill_hup_free PID SIG: send SIG to a daemon (reload: USR1, stats: USR2).
mrl_signal() { kill "-$2" "$(cat "$1/pid")"; }
