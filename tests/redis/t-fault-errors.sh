# Faults where Redis answers with an error or drops the link: SCRIPT FLUSH
# (NOSCRIPT: the script is loaded again and the call retried, no decision
# lost, no outage), CLIENT KILL of the daemons' connections (connected
# again within the call: no outage either), a replica
# (READONLY), a wrong password (requirepass changed) and a full memory
# (maxmemory 1, noeviction: OOM).  fault.sh says what each case checks.
# checks: 26
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${1:?usage: t-fault-errors.sh PATH/TO/milter-ratelimit}
. "$HERE/../lib.sh"
. "$HERE/server.sh"
FT_NAME=fault-errors
. "$HERE/fault.sh"
R2_PID=
trap 'daemons_kill; redis_stop; [ -z "$R2_PID" ] || kill -KILL "$R2_PID" 2>/dev/null' EXIT

PW=fault-pw-1
printf '%s\n' "$PW" > "$REDIS_SUITE_TMP/pw"
chmod 0600 "$REDIS_SUITE_TMP/pw"
REDIS_AUTH="-a $PW --no-auth-warning"
fault_begin errors --requirepass "$PW" -- "redis_password_file = \"$REDIS_SUITE_TMP/pw\""
acli() { rcli -a "$PW" --no-auth-warning "$@"; }

fault_case script-flush 6 'acli SCRIPT FLUSH > /dev/null' : noloss

# The daemons' connections dropped while Redis stays up: the first call on
# each finds it closed and connects again within the same call (no
# outage, Redis keeps deciding).
fault_case client-kill 7 'acli CLIENT KILL TYPE normal > /dev/null' : noloss

# Another private Redis to follow; this one turns replica (READONLY).
replica_on() {
	_p1=$REDIS_PORT _d1=$REDIS_DIR _s1=$REDIS_SOCK _pid1=$REDIS_PID _a1=$REDIS_ARGS
	REDIS_PORT=
	redis_start "$REDIS_SUITE_TMP/r2" --requirepass "$PW"
	_p2=$REDIS_PORT R2_PID=$REDIS_PID
	REDIS_PORT=$_p1 REDIS_DIR=$_d1 REDIS_SOCK=$_s1 REDIS_PID=$_pid1 REDIS_ARGS=$_a1
	acli CONFIG SET masterauth "$PW" > /dev/null
	acli REPLICAOF 127.0.0.1 "$_p2" > /dev/null
	wait_for 10 replica_linked || FT_FAULT_WHY="the replica never linked to its master"
}
replica_linked() { acli INFO replication | grep -q 'master_link_status:up'; }
replica_off() {
	acli REPLICAOF NO ONE > /dev/null
	kill -KILL "$R2_PID" 2>/dev/null
	wait "$R2_PID" 2>/dev/null
	R2_PID=
}
fault_case readonly 8 replica_on replica_off

# A new password: the daemons' connections are dropped and they come back
# with the old one (WRONGPASS), which Redis's ACL LOG counts; the
# fault lasts until both daemons' probes (1 s after the drop) have been
# refused; the old password restored ends it.
wrong_password() {
	acli ACL LOG RESET > /dev/null
	acli CONFIG SET requirepass fault-pw-2 > /dev/null
	rcli -a fault-pw-2 --no-auth-warning CLIENT KILL TYPE normal > /dev/null
}
auth_refused() {
	probe_all A B
	# ACL LOG: one entry per kind of refusal, with its count.
	[ "$(rcli -a fault-pw-2 --no-auth-warning ACL LOG |
	    awk 'p == "count" { n += $0 } { p = $0 } END { print n + 0 }')" -ge 2 ]
}
password_back() {
	wait_for 10 auth_refused || FT_FAULT_WHY="Redis refused no AUTH from both daemons"
	rcli -a fault-pw-2 --no-auth-warning CONFIG SET requirepass "$PW" > /dev/null
}
fault_case wrongpass 9 wrong_password password_back

fault_case oom 10 'acli CONFIG SET maxmemory-policy noeviction > /dev/null; acli CONFIG SET maxmemory 1 > /dev/null' \
    'acli CONFIG SET maxmemory 0 > /dev/null'
