# Faults where Redis is there but slow: SIGSTOP (then SIGCONT), DEBUG
# SLEEP and CLIENT PAUSE.  No session waits past the timeout plus a margin;
# the replies Redis sends late, after the daemons gave up on them, are
# never handed to another request (the next drives would show a wrong
# verdict); one down and one up line per outage; sharing resumes.
# checks: 16
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${1:?usage: t-fault-stall.sh PATH/TO/milter-ratelimit}
. "$HERE/../lib.sh"
. "$HERE/server.sh"
FT_NAME=fault-stall
. "$HERE/fault.sh"
trap 'daemons_kill; redis_stop' EXIT

fault_begin stall

fault_case sigstop 3 'kill -STOP "$REDIS_PID"' 'kill -CONT "$REDIS_PID"'

# The server sleeps 0.5 s (redis-cli blocks with it, in the background); the
# fault-phase drive takes well under that.
debug_sleep() {
	rcli DEBUG SLEEP 0.5 > /dev/null 2>&1 &
	FT_BG=$!
	wait_for 2 sh -c "! $REDIS_CLI -s '$REDIS_SOCK' -t 0.05 PING 2>/dev/null | grep -q PONG"
}
fault_case debug-sleep 4 debug_sleep 'wait_for 10 redis_ping'

fault_case client-pause 5 'rcli CLIENT PAUSE 500 ALL > /dev/null' 'rcli CLIENT UNPAUSE > /dev/null'
