# Faults where Redis is gone: redis-server SIGKILLed under load, then
# started again empty (its script cache too: the NOSCRIPT path), and a
# plain restart.  Every session is answered within the timeout plus a
# margin, the local table decides meanwhile, one down and one up line per
# outage, and the two daemons share again afterwards (fault.sh).
# checks: 11
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${1:?usage: t-fault-dead.sh PATH/TO/milter-ratelimit}
. "$HERE/../lib.sh"
. "$HERE/server.sh"
FT_NAME=fault-dead
. "$HERE/fault.sh"
trap 'daemons_kill; redis_stop' EXIT

fault_begin dead

# SIGKILL while the clients are mid-stream: the kill lands among sessions
# in flight (the drive runs in the background until the kill is done).
evalsha_seen() { rcli INFO commandstats 2>/dev/null | grep -q '^cmdstat_evalsha:'; }
kill_under_load() {
	"$FT_RDRIVE" run "$(sock_of A),$(sock_of B)" 10.99.0.1:200 10.99.0.2:200 > /dev/null 2>&1 &
	_load=$!
	wait_for 5 evalsha_seen || FT_FAULT_WHY="no EVALSHA reached Redis before the kill"
	kill -KILL "$REDIS_PID"
	wait "$REDIS_PID" 2>/dev/null
	wait "$_load"
}
# Started again on the same socket and port: empty, no script loaded.
start_again() {
	rm -f "$REDIS_SOCK"
	_redis_keep_port=1
	# shellcheck disable=SC2086
	redis_start "$REDIS_DIR" $REDIS_ARGS
	_redis_keep_port=0
}
fault_case kill 1 kill_under_load start_again

fault_case restart 2 'redis_stop' start_again
