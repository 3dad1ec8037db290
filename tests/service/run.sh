#!/bin/sh
# The service suite: the daemon as a production service.  Privileges and
# the socket, the pid file, the signals, the statistics, the throttled
# refusal log under a flood, syslog, the fail2ban filter against the
# daemon's own lines, and the systemd unit.
#
#   sh tests/service/run.sh PATH/TO/milter-ratelimit
#
# Runs as root (it starts daemons that drop to a test user).  ratelimit-map
# is taken from the daemon's directory.  Prints one line per test,
# "PASS: service/NAME" or "FAIL: service/NAME: why", and a few "# ..."
# lines on stderr with measured numbers.
#
# The test user mrltest and group mrltestg, when missing, exist only in the
# suite's private copy of /etc (tests/accounts.sh).  Every daemon has a
# private directory with its config, its log (-d: stderr) and a socket
# directory owned by the test user, so that it can remove its socket and
# pid file once it has given up root (the daemon warns about that
# directory; one daemon, rootdir, has a root-owned one instead).  libmilter takes up to ~6 s to leave
# its accept loop after SIGTERM or SIGHUP (and SIGINT), so daemons are
# stopped as soon as their tests are done and reaped together at the end:
# the stops overlap and the suite pays the delay about once.  Every wait is
# bounded and polls; nothing sleeps blindly for readiness.
set -u
BIN=${1:?usage: tests/service/run.sh PATH/TO/milter-ratelimit}
RMAP=$(dirname "$BIN")/ratelimit-map
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/../lib.sh"

# The suite runs in a private mount namespace over a copy of /etc, where
# its test user and group are appended to the copy's /etc/passwd and
# /etc/group (tests/accounts.sh): the machine's /etc is never written and
# no useradd/groupadd runs (they would report to the host: audit, auth.log).
# We are inside when our mount namespace is not the one we left
# (MRL_SERVICE_NS) and /etc is the copy (MRL_PRIVATE_ETC): a value of
# either inherited from elsewhere proves nothing.
_ns=$(readlink /proc/self/ns/mnt)
# same_file A B: A and B are one file (device and inode).
same_file() { [ "$(stat -Lc %d:%i "$1" 2>&1)" = "$(stat -Lc %d:%i "$2" 2>&1)" ]; }
if [ "$(id -u)" = 0 ] && ! { [ -n "${MRL_SERVICE_NS:-}" ] && [ "$MRL_SERVICE_NS" != "$_ns" ] &&
    [ -n "${MRL_PRIVATE_ETC:-}" ] && same_file /etc/passwd "$MRL_PRIVATE_ETC/passwd"; }; then
	_etc=$(mktemp -d "${TMPDIR:-/tmp}/milter-ratelimit-etc.XXXXXX") || exit 1
	if cp -a /etc "$_etc/etc"; then
		MRL_SERVICE_NS=$_ns MRL_PRIVATE_ETC=$_etc/etc unshare -m --propagation private sh -c \
		    'mount --bind "$MRL_PRIVATE_ETC" /etc && exec sh "$@"' sh "$0" "$@"
		_rc=$?
	else
		echo "FAIL: service/setup: cannot copy /etc to $_etc"
		_rc=1
	fi
	rm -rf "$_etc"
	exit $_rc
fi
plan 63

TUSER=mrltest
TGROUP=mrltestg
STOP_BOUND=10	# seconds a daemon may take to exit after a stop signal
MT_BOUND=30	# seconds for one miltertest run
FLOOD_KEYS=50
FLOOD_PER=40
FLOOD_LIMIT=3
FLOOD_WINDOW=600	# aged on the daemon's clock, moved by the test (tests/lib.sh)

# Configs and maps are re-read after the drop to the test user.
umask 022
work=$(mktemp -d "${TMPDIR:-/tmp}/milter-ratelimit-service.XXXXXX") || exit 1
chmod 0755 "$work"
daemons=	# directories of daemons started with start_daemon
start_env=	# VAR=VALUE words start_daemon puts in the daemon's environment
start_wrap=	# a command start_daemon runs the daemon under (setpriv ...)
rsyslog_pid=

cleanup() {
	for _d in $daemons; do
		[ -s "$_d/pid" ] && [ ! -e "$_d/status" ] && kill -KILL "$(cat "$_d/pid")" 2>/dev/null
	done
	# The detached syslog daemon: its pid is in its pid file.
	if [ -s "$work/syslog/run/m.pid" ]; then
		_p=$(cat "$work/syslog/run/m.pid")
		[ -n "$_p" ] && kill -KILL "$_p" 2>/dev/null
	fi
	[ -n "$rsyslog_pid" ] && kill -TERM "$rsyslog_pid" 2>/dev/null
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

oneline() { printf '%s' "$1" | tr '\n\t' '  ' | cut -c1-600; }
tail_of() { [ -f "$1" ] && oneline "$(tail -n "${2:-5}" "$1")"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
info() { echo "# $*" >&2; }

# --- set-up -------------------------------------------------------------------

if [ "$(id -u)" != 0 ]; then
	fail "service/setup" "must run as root (it starts daemons that drop to $TUSER)"
	exit 1
fi
# rsyslogd and fail2ban-regex run from packages unpacked under $work/pkg
# (tests/pkgbin.sh), never installed ones.
PKG_CACHE=${PKG_CACHE:-$top/tests/.cache}
. "$top/tests/pkgroot.sh"
. "$top/tests/smroot.sh"
. "$top/tests/pkgbin.sh"
if ! { pkgbin_rsyslogd "$work/pkg" "$work/pkg.log" && pkgbin_fail2ban "$work/pkg" "$work/pkg.log"; }; then
	fail "service/setup" "unpacking rsyslog and fail2ban: $(tail_of "$work/pkg.log")"
	exit 1
fi
# systemd-analyze verify runs `man SECTION NAME` for the unit's
# Documentation= pages: mandoc's man (mman) serves, so man-db (and its
# timer) need not be installed.
pkgbin_wrap "$work/pkg" man 'exec mman "$@"'
PATH=$work/pkg/bin:$PATH
for tool in miltertest timeout unshare rsyslogd fail2ban-regex python3 systemd-analyze mman \
    getent stat setpriv cc; do
	command -v $tool >/dev/null 2>&1 || {
		fail "service/setup" "$tool not found (make deps-test)"
		exit 1
	}
done
fakeclock_lib >/dev/null || {
	fail "service/setup" "libfaketime not found (apt-get install libfaketime)"
	exit 1
}
for b in "$BIN" "$RMAP"; do
	[ -x "$b" ] || { fail "service/setup" "no executable $b"; exit 1; }
done
# Some daemons are exec'd unprivileged (setpriv), and the tree may be out
# of their reach (a clone under /root is 0700): both programs run from
# copies in the work directory.
mkdir -m 0755 "$work/bin" && cp "$BIN" "$RMAP" "$work/bin/" ||
	{ fail "service/setup" "cannot copy the programs into $work/bin"; exit 1; }
BIN=$work/bin/$(basename "$BIN")
RMAP=$work/bin/$(basename "$RMAP")
# The accounts, in the private /etc only.  The account tools are shims
# that refuse: nothing in the suite may reach for them.
mkdir -p "$work/noacct"
for tool in useradd groupadd usermod userdel groupdel adduser addgroup deluser delgroup; do
	printf '#!/bin/sh\necho "service suite: %s refused (tests/accounts.sh)" >&2\nexit 1\n' \
	    "$tool" > "$work/noacct/$tool"
	chmod 0755 "$work/noacct/$tool"
done
PATH=$work/noacct:$PATH
. "$top/tests/accounts.sh"
if ! same_file /etc/passwd "${MRL_PRIVATE_ETC:-/nonexistent}/passwd" ||
    [ "$_ns" = "${MRL_SERVICE_NS:-}" ]; then
	fail "service/private-etc" "/etc is not the private copy in a namespace of our own"
	exit 1
fi
if acct_group "$TGROUP" && acct_group "$TUSER" && acct_user "$TUSER" "$TUSER" /nonexistent; then
	pass "service/private-etc"
else
	fail "service/private-etc" "cannot add $TUSER, $TGROUP to the private /etc/passwd, /etc/group"
	exit 1
fi
T_UID=$(id -u "$TUSER") T_GID=$(id -g "$TUSER")
T_GROUPS=$(id -G "$TUSER")
G_GID=$(getent group "$TGROUP" | cut -d: -f3)
T_GNAME=$(id -gn "$TUSER")

# --- daemons ------------------------------------------------------------------

# mkdaemon NAME OWNER [CONFIG-LINE...]: $work/NAME with a socket directory
# run/ owned by OWNER (mode 0750) and a config naming the socket
# run/m.sock, a small table, then the given lines.  Sets $d.
mkdaemon() {
	d=$work/$1
	mkdir -p "$d/run"
	chown "$2:root" "$d/run"
	chmod 0750 "$d/run"
	shift 2
	{
		echo "socket = \"unix:$d/run/m.sock\""
		echo "max_clients = 1000"
		for _l in "$@"; do echo "$_l"; done
	} > "$d/conf"
}

# start_daemon NAME: start the daemon of $work/NAME in the foreground (-d),
# its output in log, its pid in pid and, once it exits, its status in
# status.  Waits (bounded) until it has logged "started" with its socket
# in place, or has exited.  Returns 1 unless it is up.  FAKE=1: on a clock
# of its own, $work/NAME/clock (tests/lib.sh).
start_daemon() {
	_d=$work/$1
	_env=
	[ -z "${FAKE:-}" ] || _env=$(fakeclock_env "$_d/clock")
	(
		# shellcheck disable=SC2086
		sh -c 'echo $$ > "$1"; shift; exec "$@"' sh "$_d/pid" \
		    $start_wrap env -u NOTIFY_SOCKET $_env $start_env "$BIN" -d -f "$_d/conf" > "$_d/log" 2>&1
		_rc=$?
		now_ms > "$_d/exit_ms"
		echo $_rc > "$_d/status"
	) &
	daemons="$daemons $_d"
	wait_for 10 up "$_d"
	is_up "$_d"
}
up() { is_up "$1" || [ -e "$1/status" ]; }
is_up() { [ -S "$1/run/m.sock" ] && [ ! -e "$1/status" ] && grep -q ' started ' "$1/log"; }
exited() { [ -e "$1/status" ]; }

# second_start NAME: start a second daemon on NAME's config (bounded: a
# second daemon that runs is killed after 10 s).  Sets sec_rc, sec_out,
# and the socket's inode before (sec_ino0) and after (sec_ino).
second_start() {
	sec_ino0=$(stat -c %i "$work/$1/run/m.sock" 2>/dev/null)
	sec_out=$(timeout -k 1 10 env -u NOTIFY_SOCKET "$BIN" -d -f "$work/$1/conf" 2>&1)
	sec_rc=$?
	sec_ino=$(stat -c %i "$work/$1/run/m.sock" 2>/dev/null)
}

why_down() {
	if [ -e "$1/status" ]; then
		echo "daemon exited $(cat "$1/status"): $(tail_of "$1/log")"
	else
		echo "not up within 10 s: $(tail_of "$1/log")"
	fi
}

# stop NAME SIGNAL: send it and note when (stop_ms) for the reaping.
stop() {
	_d=$work/$1
	now_ms > "$_d/stop_ms"
	[ -s "$_d/pid" ] && [ ! -e "$_d/status" ] && kill -"$2" "$(cat "$_d/pid")" 2>/dev/null
	return 0
}

# log_n NAME ERE: lines of NAME's log matching ERE.
log_n() { grep -Ec -- "$2" "$work/$1/log"; }
log_ge() { [ "$(log_n "$1" "$2")" -ge "$3" ]; }

# mt NAME MODE VAR=VALUE...: run mt.lua (bounded) against NAME's daemon;
# output in $mt_out, status in $mt_rc.
mt() {
	_s=$work/$1/run/m.sock _mode=$2
	shift 2
	_n=$#
	for _v in "$@"; do set -- "$@" -D "$_v"; done
	shift $_n
	mt_out=$(timeout -k 2 $MT_BOUND miltertest -D sock="unix:$_s" -D mode="$_mode" \
	    "$@" -s "$here/mt.lua" 2>&1)
	mt_rc=$?
}
seq_ok() { mt "$1" seq "steps=$2"; [ $mt_rc = 0 ]; }
mtfail() {
	_w="miltertest exited $mt_rc: $(oneline "$mt_out")"
	[ $mt_rc = 124 ] && _w="miltertest timed out after $MT_BOUND s"
	is_up "$work/$1" || _w="$_w; $(why_down "$work/$1")"
	echo "$_w"
}
rep() { _i=0; while [ $_i -lt "$3" ]; do printf '%s=%s ' "$1" "$2"; _i=$((_i + 1)); done; }

# status_line PID FIELD: the values of FIELD (Uid, Gid, Groups, CapEff...)
# in /proc/PID/status, separated by single spaces.
status_line() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s ' \t' '  ' | sed 's/ *$//'
}

# field LINE NAME: the value of NAME=VALUE in a key=value log line.
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }

# --- start everything that runs for a while -------------------------------------

# 1: dropped to the test user, with a group for the socket.
mkdaemon priv $TUSER "user = \"$TUSER\"" "group = \"$TGROUP\"" 'socket_mode = "0640"' \
    "pidfile = \"$work/priv/run/m.pid\"" 'limit = 3'
start_daemon priv
# 1: the same with group "" (the user's own) and the default socket_mode.
mkdaemon privdef $TUSER "user = \"$TUSER\"" "pidfile = \"$work/privdef/run/m.pid\""
start_daemon privdef
# 2: user = "root" stays root.
mkdaemon root root 'user = "root"'
start_daemon root
# 5: stopped by SIGHUP, by SIGINT.
for s in hup int; do
	mkdaemon $s $TUSER "user = \"$TUSER\"" "pidfile = \"$work/$s/run/m.pid\""
	start_daemon $s
done
# 6, 7, 8, and the helo stage and log mode for the fail2ban lines.
mkdaemon usr1 $TUSER "user = \"$TUSER\"" 'limit = 5' 'window = 60'
start_daemon usr1
mkdir -p "$work/stats"
printf '%s\n' '192.0.2.71 OK' > "$work/stats/exempt"
timeout -k 1 10 "$RMAP" "$work/stats/exempt" < "$work/stats/exempt" > "$work/stats/rmap.out" 2>&1
chmod 0644 "$work/stats/exempt.db" 2>/dev/null
mkdaemon stats $TUSER "user = \"$TUSER\"" 'limit = 3' 'window = 60' \
    "exempt_map = \"$work/stats/exempt.db\""
start_daemon stats
mkdaemon flood $TUSER "user = \"$TUSER\"" "limit = $FLOOD_LIMIT" "window = $FLOOD_WINDOW"
FAKE=1 start_daemon flood
mkdaemon flooddebug $TUSER "user = \"$TUSER\"" "limit = $FLOOD_LIMIT" 'window = 60' \
    'log_level = "debug"'
start_daemon flooddebug
mkdaemon helo $TUSER "user = \"$TUSER\"" 'limit = 1' 'reply_stage = "helo"'
start_daemon helo
mkdaemon logmode $TUSER "user = \"$TUSER\"" 'limit = 1' 'mode = "log"'
start_daemon logmode

# 12: the socket's owner and mode without following links, one instance
# per configuration.  gap: an LD_PRELOAD shim (plant.c) puts a symlink to
# a root-owned file at the socket path right before every chown, chmod
# and rename the daemon makes, as a user who can write the directory
# could.  prelink: such a link is there before the start.
secret=$work/secret
printf 'root only\n' > "$secret"
chmod 0600 "$secret"
secret_before=$(stat -c '%U:%G %a %s %i' "$secret")
plant_ok=
if cc -shared -fPIC -o "$work/plant.so" "$here/plant.c" -ldl > "$work/plant.out" 2>&1; then
	plant_ok=1
	mkdaemon gap $TUSER "user = \"$TUSER\"" "group = \"$TGROUP\"" 'socket_mode = "0660"'
	start_env="LD_PRELOAD=$work/plant.so MRL_PLANT_PATH=$work/gap/run/m.sock MRL_PLANT_TARGET=$secret"
	start_daemon gap
	start_env=
fi
mkdaemon prelink $TUSER "user = \"$TUSER\"" "group = \"$TGROUP\"" 'socket_mode = "0660"'
ln -s "$secret" "$work/prelink/run/m.sock"
start_daemon prelink
# rootdir: the socket directory stays root's; the daemon, once mrltest,
# cannot remove its socket or pid file there at stop.
mkdaemon rootdir root "user = \"$TUSER\"" "pidfile = \"$work/rootdir/run/m.pid\""
start_daemon rootdir
# solo: no pid file; only its live socket tells a second start to stop.
mkdaemon solo $TUSER "user = \"$TUSER\""
start_daemon solo
# stale: killed with SIGKILL, it leaves a socket and a pid file behind.
mkdaemon stale $TUSER "user = \"$TUSER\"" "pidfile = \"$work/stale/run/m.pid\""
start_daemon stale

# 13: started unprivileged, as systemd's User= and SupplementaryGroups= do:
# the socket gets `group` when the process is in it (ugroup), and the
# start fails clearly when it is not (ugroupno).
mkdaemon ugroup $TUSER "user = \"$TUSER\"" "group = \"$TGROUP\"" 'socket_mode = "0660"'
mkdaemon ugroupno $TUSER "user = \"$TUSER\"" "group = \"$TGROUP\"" 'socket_mode = "0660"'
start_wrap="setpriv --reuid=$T_UID --regid=$T_GID --groups=$G_GID --inh-caps=-all"
start_daemon ugroup
start_wrap=

# 5: the stop signals go out at once; the results are read at the end.
for s in hup int; do
	if is_up "$work/$s"; then
		stop $s "$(echo $s | tr a-z A-Z)"
	fi
done

# --- 8: the flood (first: its suppressed counts are summed after a window) ----------

K=$FLOOD_KEYS M=$FLOOD_PER L=$FLOOD_LIMIT
R=$((K * (M - L)))
flood_t0=
for D in flood flooddebug; do
	if ! is_up "$work/$D"; then
		fail "service/$D-run" "$(why_down "$work/$D")"
		continue
	fi
	t0=$(now_ms)
	[ $D = flood ] && flood_t0=$t0
	mt $D flood keys=$K per=$M limit=$L
	el=$(( $(now_ms) - t0 ))
	if [ $mt_rc = 0 ] && [ "$mt_out" = "ok sessions=$((K * M)) accepted=$((K * L)) refused=$R" ]; then
		pass "service/$D-run"
	else
		fail "service/$D-run" "$(mtfail $D)"
	fi
	info "$D: $K keys x $M sessions in $el ms: $(oneline "$mt_out")"
	kill -USR2 "$(cat "$work/$D/pid")"
	wait_for 5 log_ge $D ' stats connections=' 1
done

# flood, log_level info: one refusal line per key, each the 4th connection.
f=$work/flood/log
if [ -n "$flood_t0" ]; then
	n=$(grep -Ec '(^|: )refused client=' "$f")
	n4=$(grep -Ec "(^|: )refused client=\\S+ key=\\S+ count=$((L + 1)) limit=$L window=${FLOOD_WINDOW}s stage=connect " "$f")
	nk=$(grep -E '(^|: )refused client=' "$f" | sed 's/.* client=\([^ ]*\) .*/\1/' | sort -u | wc -l)
	n6=$(grep -Ec '(^|: )refused client=2001:db8:f:' "$f")
	if [ "$n" = $K ] && [ "$n4" = $K ] && [ "$nk" = $K ] && [ "$n6" = $((K - K / 2)) ]; then
		pass "service/flood-one-line-per-key"
	else
		fail "service/flood-one-line-per-key" "want $K 'refused client=' lines, all count=$((L + 1)), $K distinct clients, $((K - K / 2)) IPv6: got $n lines, $n4 with count=$((L + 1)), $nk clients, $n6 IPv6"
	fi
	s=$(grep -E ' stats connections=' "$f" | tail -n 1)
	if [ "$(field "$s" connections)" = $((K * M)) ] && [ "$(field "$s" accepted)" = $((K * L)) ] &&
	    [ "$(field "$s" refused)" = $R ] && [ "$(field "$s" exempt)" = 0 ]; then
		pass "service/flood-stats"
	else
		fail "service/flood-stats" "want connections=$((K * M)) accepted=$((K * L)) refused=$R exempt=0 in '$s'"
	fi
	info "flood (info): $n refused lines for $R refusals; $(oneline "$s")"
fi

# flood, log_level debug: every refusal has its line.  A key's count=
# starts at limit + 1 and never goes down (the table keeps ten connection
# times per key, so for a small limit it stops growing at 11: the decision
# needs no more).
f=$work/flooddebug/log
if is_up "$work/flooddebug" || [ -e "$work/flooddebug/status" ]; then
	n=$(grep -Ec '(^|: )refused client=' "$f")
	nmin=$(grep -Ec "(^|: )refused client=\\S+ key=\\S+ count=$((L + 1)) " "$f")
	order=$(grep -E '(^|: )refused client=' "$f" |
	    sed 's/.* client=\([^ ]*\) .* count=\([0-9]*\) .*/\1 \2/' | awk -v first=$((L + 1)) -v max=$M '
		!($1 in last) { if ($2 != first) bad++ }
		($1 in last) && ($2 < last[$1] || $2 > max) { bad++ }
		{ last[$1] = $2; n[$1]++ }
		END { k = 0; for (c in n) { k++; if (n[c] != max - first + 1) bad++ }
		      print k " keys, " bad + 0 " bad" }')
	nsup=$(grep -Ec 'suppressed=|refused-summary' "$f")
	s=$(grep -E ' stats connections=' "$f" | tail -n 1)
	if [ "$n" = $R ] && [ "$nmin" = $K ] && [ "$order" = "$K keys, 0 bad" ] && [ "$nsup" = 0 ] &&
	    [ "$(field "$s" refused)" = $R ]; then
		pass "service/flood-debug-every-refusal"
	else
		fail "service/flood-debug-every-refusal" "want $R refusal lines, $((M - L)) per key, $K with count=$((L + 1)), counts never falling, no suppressed=, stats refused=$R: got $n lines, $nmin with count=$((L + 1)), $order, $nsup suppressed, '$s'"
	fi
	info "flood (debug): $n refused lines for $R refusals; highest count= logged: $(sed -n 's/.* refused client=.* count=\([0-9]*\) .*/\1/p' "$f" | sort -n | tail -n 1)"
	stop flooddebug TERM
fi

# --- 1: privileges --------------------------------------------------------------

D=priv
d=$work/$D
if is_up "$d"; then
	pid=$(cat "$d/pid")
	u=$(status_line "$pid" Uid) g=$(status_line "$pid" Gid)
	gs=$(status_line "$pid" Groups)
	[ "$u" = "$T_UID $T_UID $T_UID $T_UID" ] && pass "service/privs-uid" ||
		fail "service/privs-uid" "Uid: '$u', want $TUSER's uid $T_UID four times (real, effective, saved, fs)"
	[ "$g" = "$T_GID $T_GID $T_GID $T_GID" ] && pass "service/privs-gid" ||
		fail "service/privs-gid" "Gid: '$g', want $TUSER's own gid $T_GID ($T_GNAME) four times; group = \"$TGROUP\" (gid $G_GID) is for the socket only"
	bad=
	for x in $gs; do
		case " $T_GROUPS " in *" $x "*) ;; *) bad="$bad $x" ;; esac
	done
	case " $gs " in *" 0 "*) bad="$bad 0(root)" ;; esac
	[ -z "$bad" ] && pass "service/privs-groups" ||
		fail "service/privs-groups" "Groups: '$gs' has$bad, not among $TUSER's groups ($T_GROUPS)"
	ce=$(status_line "$pid" CapEff) cp_=$(status_line "$pid" CapPrm)
	[ "$ce" = 0000000000000000 ] && [ "$cp_" = 0000000000000000 ] && pass "service/privs-no-capabilities" ||
		fail "service/privs-no-capabilities" "CapEff $ce CapPrm $cp_, want none"
	st=$(stat -c '%U %G %a %F' "$d/run/m.sock")
	[ "$st" = "$TUSER $TGROUP 640 socket" ] && pass "service/privs-socket-owner-mode" ||
		fail "service/privs-socket-owner-mode" "socket is '$st', want '$TUSER $TGROUP 640 socket'"
	pf=$(cat "$d/run/m.pid" 2>/dev/null)
	[ "$pf" = "$pid" ] && [ "$(wc -l < "$d/run/m.pid")" = 1 ] && pass "service/privs-pidfile" ||
		fail "service/privs-pidfile" "pid file holds '$pf', want '$pid' on one line"
	seq_ok $D "$(rep 192.0.2.5 A 3) 192.0.2.5=R" && pass "service/privs-serves" ||
		fail "service/privs-serves" "$(mtfail $D)"
	# 12: a second start on the same config: refused, the first untouched.
	second_start $D
	if [ "$sec_rc" = 75 ] && printf '%s' "$sec_out" | grep -q "pid file $d/run/m.pid is locked by running process $pid" &&
	    [ "$sec_ino" = "$sec_ino0" ] && [ "$(cat "$d/run/m.pid" 2>/dev/null)" = "$pid" ] &&
	    seq_ok $D "192.0.2.6=A"; then
		pass "service/second-start-refused"
	else
		fail "service/second-start-refused" "exit $sec_rc (want 75) '$(oneline "$sec_out")' (want 'pid file ... is locked by running process $pid'); socket inode $sec_ino0 -> $sec_ino; pid file '$(cat "$d/run/m.pid" 2>/dev/null)' (want $pid); first serves: $(seq_ok $D "192.0.2.7=A" && echo yes || mtfail $D)"
	fi
	# -n is not a start: it checks and says so while the daemon runs.
	out=$(timeout -k 1 10 "$BIN" -n -f "$d/conf" 2>&1); rc=$?
	[ $rc = 0 ] && [ "$out" = "configuration OK" ] && pass "service/check-while-running" ||
		fail "service/check-while-running" "-n exited $rc: $(oneline "$out")"
	stop $D TERM
else
	fail "service/privs-uid" "$(why_down "$d")"
fi

D=privdef
d=$work/$D
if is_up "$d"; then
	pid=$(cat "$d/pid")
	u=$(status_line "$pid" Uid) g=$(status_line "$pid" Gid) gs=$(status_line "$pid" Groups)
	st=$(stat -c '%U %G %a' "$d/run/m.sock")
	if [ "$u" = "$T_UID $T_UID $T_UID $T_UID" ] && [ "$g" = "$T_GID $T_GID $T_GID $T_GID" ] &&
	    [ "$gs" = "$T_GID" ] && [ "$st" = "$TUSER $T_GNAME 660" ]; then
		pass "service/privs-default-group"
	else
		fail "service/privs-default-group" "group \"\": Uid '$u' Gid '$g' Groups '$gs' socket '$st'; want uid $T_UID, gid $T_GID x4, groups $T_GID, socket '$TUSER $T_GNAME 660'"
	fi
	stop $D TERM
else
	fail "service/privs-default-group" "$(why_down "$d")"
fi

# --- 2: root only when asked; missing user or group -------------------------------

D=root
if is_up "$work/$D"; then
	u=$(status_line "$(cat "$work/$D/pid")" Uid)
	[ "$u" = "0 0 0 0" ] && pass "service/user-root-stays-root" ||
		fail "service/user-root-stays-root" "Uid '$u', want 0 0 0 0"
	stop $D TERM
else
	fail "service/user-root-stays-root" "$(why_down "$work/$D")"
fi

# start_fails NAME: start, wait (bounded) for the exit; sets $st (status).
start_fails() {
	start_daemon "$1"
	wait_for 10 exited "$work/$1"
	st=$(cat "$work/$1/status" 2>/dev/null || echo running)
	[ "$st" = running ] && stop "$1" KILL
}

# The default user: "milter-ratelimit" is normally missing on a test
# machine; if this one has it, the daemon must run as it instead.
mkdaemon defuser $TUSER "pidfile = \"$work/defuser/run/m.pid\""
if getent passwd milter-ratelimit >/dev/null; then
	start_daemon defuser
	if is_up "$work/defuser"; then
		u=$(status_line "$(cat "$work/defuser/pid")" Uid)
		want=$(id -u milter-ratelimit)
		[ "$u" = "$want $want $want $want" ] && pass "service/default-user" ||
			fail "service/default-user" "user milter-ratelimit exists here: Uid '$u', want $want"
		stop defuser TERM
	else
		fail "service/default-user" "$(why_down "$work/defuser")"
	fi
else
	start_fails defuser
	if [ "$st" != 0 ] && [ "$st" != running ] &&
	    grep -q 'user "milter-ratelimit" does not exist' "$work/defuser/log"; then
		pass "service/default-user-missing"
	else
		fail "service/default-user-missing" "status $st, want non-zero with 'user \"milter-ratelimit\" does not exist': $(tail_of "$work/defuser/log")"
	fi
fi

mkdaemon nouser root 'user = "mrl-no-such-user"' "pidfile = \"$work/nouser/run/m.pid\""
start_fails nouser
if [ "$st" != 0 ] && [ "$st" != running ] && grep -q 'mrl-no-such-user' "$work/nouser/log"; then
	pass "service/missing-user"
else
	fail "service/missing-user" "status $st, want non-zero naming mrl-no-such-user: $(tail_of "$work/nouser/log")"
fi
mkdaemon nogroup $TUSER "user = \"$TUSER\"" 'group = "mrl-no-such-group"' \
    "pidfile = \"$work/nogroup/run/m.pid\""
start_fails nogroup
if [ "$st" != 0 ] && [ "$st" != running ] && grep -q 'group "mrl-no-such-group" does not exist' "$work/nogroup/log"; then
	pass "service/missing-group"
else
	fail "service/missing-group" "status $st, want non-zero with 'group \"mrl-no-such-group\" does not exist': $(tail_of "$work/nogroup/log")"
fi

# --- 4: the pid file is never written through a symlink ---------------------------

D=pidlink
mkdaemon $D $TUSER "user = \"$TUSER\"" "pidfile = \"$work/$D/run/m.pid\""
printf 'precious\n' > "$work/$D/target"
ln -s "$work/$D/target" "$work/$D/run/m.pid"
before=$(stat -c '%i %s %Y' "$work/$D/target")
start_fails $D
after=$(stat -c '%i %s %Y' "$work/$D/target")
if [ "$st" != 0 ] && [ "$st" != running ] && grep -q 'symbolic link' "$work/$D/log" &&
    [ "$(cat "$work/$D/target")" = precious ] && [ "$before" = "$after" ] && [ -L "$work/$D/run/m.pid" ]; then
	pass "service/pidfile-symlink-refused"
else
	fail "service/pidfile-symlink-refused" "status $st (want non-zero, 'symbolic link'), target '$(cat "$work/$D/target")' ($before -> $after): $(tail_of "$work/$D/log")"
fi
D=pidlink2
mkdaemon $D $TUSER "user = \"$TUSER\"" "pidfile = \"$work/$D/run/m.pid\""
ln -s "$work/$D/created" "$work/$D/run/m.pid"
start_fails $D
if [ "$st" != 0 ] && [ "$st" != running ] && [ ! -e "$work/$D/created" ] && grep -q 'symbolic link' "$work/$D/log"; then
	pass "service/pidfile-dangling-symlink-refused"
else
	fail "service/pidfile-dangling-symlink-refused" "status $st, target $( [ -e "$work/$D/created" ] && echo created || echo absent): $(tail_of "$work/$D/log")"
fi

# A start that fails leaves nothing behind: no socket, no pid file (the
# symlinks above excepted).
left=
for D in nouser nogroup pidlink pidlink2; do
	for x in "$work/$D/run/m.sock" "$work/$D/run/m.pid"; do
		[ -e "$x" ] && [ ! -L "$x" ] && left="$left $D/run/${x##*/}"
	done
done
[ -z "$left" ] && pass "service/failed-start-leaves-nothing" ||
	fail "service/failed-start-leaves-nothing" "left behind:$left"

# --- 12: the socket is never given away through a link; one instance -------------

same_secret() { [ "$(stat -c '%U:%G %a %s %i' "$secret")" = "$secret_before" ] && [ "$(cat "$secret")" = "root only" ]; }
# owned_socket NAME: NAME's socket is a socket of $TUSER:$TGROUP, 0660.
owned_socket() { [ "$(stat -c '%U %G %a %F' "$work/$1/run/m.sock" 2>/dev/null)" = "$TUSER $TGROUP 660 socket" ]; }

if [ -z "$plant_ok" ]; then
	fail "service/socket-symlink-planted-in-gap" "cannot build the shim: $(tail_of "$work/plant.out")"
elif same_secret && is_up "$work/gap" && owned_socket gap && [ ! -L "$work/gap/run/m.sock" ] &&
    seq_ok gap "192.0.2.20=A"; then
	pass "service/socket-symlink-planted-in-gap"
else
	fail "service/socket-symlink-planted-in-gap" "target $secret_before -> $(stat -c '%U:%G %a %s %i' "$secret") '$(cat "$secret")'; socket '$(stat -c '%U %G %a %F' "$work/gap/run/m.sock" 2>&1)'; $(is_up "$work/gap" && echo up || why_down "$work/gap")"
fi
is_up "$work/gap" && stop gap TERM
if same_secret && is_up "$work/prelink" && owned_socket prelink &&
    grep -q "socket path $work/prelink/run/m.sock is a symbolic link; replacing the link" "$work/prelink/log" &&
    seq_ok prelink "192.0.2.21=A"; then
	pass "service/socket-symlink-planted-before-start"
else
	fail "service/socket-symlink-planted-before-start" "target $secret_before -> $(stat -c '%U:%G %a %s %i' "$secret"); socket '$(stat -c '%U %G %a %F' "$work/prelink/run/m.sock" 2>&1)'; $(is_up "$work/prelink" && echo up || why_down "$work/prelink")"
fi
is_up "$work/prelink" && stop prelink TERM

# A directory anyone may write (no sticky bit) is refused; nothing is left.
D=wwdir
mkdaemon $D $TUSER "user = \"$TUSER\""
chmod 0777 "$work/$D/run"
start_fails $D
left=$(ls -A "$work/$D/run")
if [ "$st" = 71 ] && grep -q "socket directory $work/$D/run is writable by everyone (mode 0777) without the sticky bit" "$work/$D/log" &&
    [ -z "$left" ]; then
	pass "service/socket-dir-world-writable-refused"
else
	fail "service/socket-dir-world-writable-refused" "status $st (want 71 and 'socket directory ... writable by everyone'), left '$left': $(tail_of "$work/$D/log")"
fi
# A directory the run user may write: started, with a warning naming it.
if grep -q "socket directory $work/priv/run is writable by user $TUSER: " "$work/priv/log" &&
    ! grep -q 'socket directory .* is writable' "$work/rootdir/log"; then
	pass "service/socket-dir-writable-by-user-warned"
else
	fail "service/socket-dir-writable-by-user-warned" "want the warning for $work/priv/run (owned by $TUSER) and none for the root-owned $work/rootdir/run: $(grep -h 'socket directory' "$work/priv/log" "$work/rootdir/log" | head -n 2 | tr '\n' ' ')"
fi

# Without a pid file the live socket alone refuses a second start.
D=solo
if is_up "$work/$D"; then
	second_start $D
	if [ "$sec_rc" = 75 ] && printf '%s' "$sec_out" | grep -q "socket $work/$D/run/m.sock is in use" &&
	    [ "$sec_ino" = "$sec_ino0" ] && seq_ok $D "192.0.2.22=A"; then
		pass "service/second-start-refused-no-pidfile"
	else
		fail "service/second-start-refused-no-pidfile" "exit $sec_rc (want 75) '$(oneline "$sec_out")' (want 'socket ... is in use'); socket inode $sec_ino0 -> $sec_ino; $(is_up "$work/$D" && echo "first up" || why_down "$work/$D")"
	fi
	# A pid file with a pid that no lock backs (an instance that took no
	# lock): the refused start leaves it as it was.
	printf '4242\n' > "$work/$D/other.pid"
	{ cat "$work/$D/conf"; echo "pidfile = \"$work/$D/other.pid\""; } > "$work/$D/conf2"
	out=$(timeout -k 1 10 env -u NOTIFY_SOCKET "$BIN" -d -f "$work/$D/conf2" 2>&1); rc=$?
	if [ $rc = 75 ] && [ "$(cat "$work/$D/other.pid" 2>/dev/null)" = 4242 ]; then
		pass "service/refused-start-keeps-unlocked-pidfile"
	else
		fail "service/refused-start-keeps-unlocked-pidfile" "exit $rc (want 75), pid file '$(cat "$work/$D/other.pid" 2>/dev/null)' (want 4242): $(oneline "$out")"
	fi
	stop $D TERM
else
	fail "service/second-start-refused-no-pidfile" "$(why_down "$work/$D")"
fi

# A daemon killed with SIGKILL leaves its socket and pid file; the next
# start on the same config (stale2: same socket and pid file) replaces both.
D=stale
if is_up "$work/$D"; then
	kill -KILL "$(cat "$work/$D/pid")"
	wait_for 10 exited "$work/$D"
	mkdir -p "$work/stale2"
	cp "$work/$D/conf" "$work/stale2/conf"
	ln -s "$work/$D/run" "$work/stale2/run"
	if [ -S "$work/$D/run/m.sock" ] && [ -s "$work/$D/run/m.pid" ]; then
		start_daemon stale2
		if is_up "$work/stale2" && [ "$(cat "$work/$D/run/m.pid")" = "$(cat "$work/stale2/pid")" ] &&
		    grep -q "replacing stale socket $work/$D/run/m.sock" "$work/stale2/log" &&
		    seq_ok stale2 "192.0.2.23=A"; then
			pass "service/stale-socket-and-pidfile-replaced"
		else
			fail "service/stale-socket-and-pidfile-replaced" "pid file '$(cat "$work/$D/run/m.pid")' (want $(cat "$work/stale2/pid")): $(is_up "$work/stale2" && tail_of "$work/stale2/log" || why_down "$work/stale2")"
		fi
		stop stale2 TERM
	else
		fail "service/stale-socket-and-pidfile-replaced" "SIGKILL left no socket or pid file to test with: $(ls -l "$work/$D/run" | oneline "$(cat)")"
	fi
else
	fail "service/stale-socket-and-pidfile-replaced" "$(why_down "$work/$D")"
fi

# The root-owned directory: served; at stop nothing alarming, the socket
# stays (mrltest cannot remove it), the pid file is left empty; the next
# start replaces the socket.
D=rootdir
if is_up "$work/$D" && seq_ok $D "192.0.2.24=A"; then
	stop $D TERM
	wait_for $STOP_BOUND exited "$work/$D"
	mkdir -p "$work/rootdir2"
	cp "$work/$D/conf" "$work/rootdir2/conf"
	ln -s "$work/$D/run" "$work/rootdir2/run"
	if [ "$(cat "$work/$D/status" 2>/dev/null)" = 0 ] && ! grep -Eqi 'cannot|warn|error|denied' "$work/$D/log" &&
	    [ ! -s "$work/$D/run/m.pid" ] && start_daemon rootdir2 && seq_ok rootdir2 "192.0.2.25=A"; then
		pass "service/root-owned-socket-dir"
	else
		fail "service/root-owned-socket-dir" "status $(cat "$work/$D/status" 2>/dev/null) (want 0), pid file '$(cat "$work/$D/run/m.pid" 2>/dev/null)' (want empty or gone), log: $(tail_of "$work/$D/log" 3); restart: $(is_up "$work/rootdir2" && echo up || why_down "$work/rootdir2")"
	fi
	stop rootdir2 TERM
else
	fail "service/root-owned-socket-dir" "$(is_up "$work/$D" && mtfail $D || why_down "$work/$D")"
fi

# --- 13: an unprivileged start gives the socket `group` if it may ------------------

D=ugroup
if is_up "$work/$D" && owned_socket $D && [ "$(status_line "$(cat "$work/$D/pid")" Uid)" = "$T_UID $T_UID $T_UID $T_UID" ] &&
    seq_ok $D "192.0.2.26=A"; then
	pass "service/unprivileged-socket-group"
else
	fail "service/unprivileged-socket-group" "socket '$(stat -c '%U %G %a %F' "$work/$D/run/m.sock" 2>&1)', want '$TUSER $TGROUP 660 socket'; $(is_up "$work/$D" && echo up || why_down "$work/$D")"
fi
is_up "$work/$D" && stop $D TERM
D=ugroupno
start_wrap="setpriv --reuid=$T_UID --regid=$T_GID --clear-groups --inh-caps=-all"
start_fails $D
start_wrap=
if [ "$st" = 71 ] && grep -q "cannot give socket $work/$D/run/m.sock the group \"$TGROUP\" (gid $G_GID): this process (uid $T_UID) is not a member of it" "$work/$D/log" &&
    [ -z "$(ls -A "$work/$D/run")" ]; then
	pass "service/unprivileged-socket-group-not-member"
else
	fail "service/unprivileged-socket-group-not-member" "status $st (want 71, 'cannot give socket ... the group'), left '$(ls -A "$work/$D/run")': $(tail_of "$work/$D/log")"
fi

# --- 3: socket_mode checked by -n ---------------------------------------------------

cli=$work/cli
mkdir -p "$cli"
i=0
for m in 0666 0604 0777 0001 0007 abc 0860 01660 ''; do
	i=$((i + 1))
	f=$cli/bad$i.conf
	printf '%s\n' "socket = \"unix:$cli/m.sock\"" '' "socket_mode = \"$m\"" '' > "$f"
	out=$(timeout -k 1 5 "$BIN" -n -f "$f" 2>&1); rc=$?
	if [ $rc = 78 ] && printf '%s\n' "$out" | grep -Fq "$f:3: "; then
		pass "service/socket-mode-rejected: \"$m\""
	else
		fail "service/socket-mode-rejected: \"$m\"" "exit $rc (want 78), want '$f:3: ...': $(oneline "$out")"
	fi
done
for m in 0660 0640 0600 660; do
	f=$cli/good.conf
	printf '%s\n' "socket = \"unix:$cli/m.sock\"" "socket_mode = \"$m\"" 'user = "root"' > "$f"
	out=$(timeout -k 1 5 "$BIN" -n -f "$f" 2>&1); rc=$?
	[ $rc = 0 ] && pass "service/socket-mode-accepted: \"$m\"" ||
		fail "service/socket-mode-accepted: \"$m\"" "exit $rc: $(oneline "$out")"
done

# --- 6: SIGUSR1 applies a new limit and keeps the counts ----------------------------

D=usr1
d=$work/$D
if is_up "$d"; then
	c=192.0.2.61
	if seq_ok $D "$c=A"; then
		sed 's/^limit = 5$/limit = 2/' "$d/conf" > "$d/conf.new" && mv "$d/conf.new" "$d/conf"
		n0=$(log_n $D 'reloaded configuration')
		kill -USR1 "$(cat "$d/pid")"
		wait_for 5 log_ge $D 'reloaded configuration.* limit=2 ' $((n0 + 1))
		if ! log_ge $D 'reloaded configuration.* limit=2 ' $((n0 + 1)); then
			fail "service/sigusr1-new-limit-keeps-counts" "no 'reloaded configuration ... limit=2' within 5 s: $(tail_of "$d/log")"
		elif seq_ok $D "$c=A $c=R $c=R 192.0.2.62=A 192.0.2.62=A 192.0.2.62=R"; then
			pass "service/sigusr1-new-limit-keeps-counts"
		else
			fail "service/sigusr1-new-limit-keeps-counts" "1 connection before, limit 5 -> 2: want exactly 1 more: $(mtfail $D)"
		fi
	else
		fail "service/sigusr1-new-limit-keeps-counts" "before the reload: $(mtfail $D)"
	fi
	stop $D TERM
else
	fail "service/sigusr1-new-limit-keeps-counts" "$(why_down "$d")"
fi

# --- 7: SIGUSR2 logs one line of exact statistics ------------------------------------

D=stats
d=$work/$D
if is_up "$d"; then
	a=192.0.2.70 b=2001:db8:70::1 e=192.0.2.71
	if seq_ok $D "$(rep $a A 3) $(rep $a R 2) $(rep $b A 3) $b=R $e=A $e=A unspec=A"; then
		kill -USR2 "$(cat "$d/pid")"
		wait_for 5 log_ge $D ' stats connections=' 1
		l=$(grep -E ' stats connections=' "$d/log" | tail -n 1)
		why=
		for x in connections=12 accepted=9 exempt=2 refused=3 would_refuse=0 untracked=0 \
		    no_address=1 table_used=2 table_capacity= reloads=0 reload_failures=0 uptime=; do
			case " $l" in *" $x"*) ;; *) why="$why $x" ;; esac
		done
		[ -n "$l" ] && [ -z "$why" ] && [ "$(log_n $D ' stats ')" = 1 ] && pass "service/sigusr2-stats" ||
			fail "service/sigusr2-stats" "$(log_n $D ' stats ') stats lines (want 1); want$why in '$l'"
	else
		fail "service/sigusr2-stats" "$(mtfail $D); $(cat "$d/rmap.out" 2>/dev/null)"
	fi
	stop $D TERM
else
	fail "service/sigusr2-stats" "$(why_down "$d"); $(cat "$d/rmap.out" 2>/dev/null)"
fi

# --- lines for fail2ban: a refusal in the helo stage, a dry-run refusal ---------------

if is_up "$work/helo"; then
	seq_ok helo "192.0.2.80=A 192.0.2.80=C 2001:db8:80::5=A 2001:db8:80::5=C" ||
		fail "service/fail2ban-setup" "helo stage: $(mtfail helo)"
	stop helo TERM
else
	fail "service/fail2ban-setup" "helo stage: $(why_down "$work/helo")"
fi
if is_up "$work/logmode"; then
	seq_ok logmode "192.0.2.81=A 192.0.2.81=A 2001:db8:81::5=A 2001:db8:81::5=A" ||
		fail "service/fail2ban-setup" "log mode: $(mtfail logmode)"
	stop logmode TERM
else
	fail "service/fail2ban-setup" "log mode: $(why_down "$work/logmode")"
fi

# --- 9: syslog through a private rsyslogd ------------------------------------------
#
# There may be no /dev/log (or the machine's own logger is behind it): our
# rsyslogd listens on a socket of its own, and the daemon runs in a private
# mount namespace whose /dev/log is a symlink to it (syslog-ns.sh).  The
# daemon runs without -d: it detaches, and its pid file names the child.

S=$work/syslog
mkdir -p "$S/ns"
mkdaemon syslog $TUSER "user = \"$TUSER\"" "pidfile = \"$S/run/m.pid\"" 'limit = 3' \
    'syslog_facility = "local3"'
cat > "$S/rsyslog.conf" <<EOF
global(workDirectory="$S")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$S/log.sock" RateLimit.Interval="0")
template(name="fac" type="string" string="%syslogfacility-text%.%syslogseverity-text% %syslogtag%%msg%\\n")
*.* action(type="omfile" file="$S/messages" template="fac")
*.* action(type="omfile" file="$S/traditional" template="RSYSLOG_TraditionalFileFormat")
EOF
rsyslogd -n -f "$S/rsyslog.conf" -i "$S/rsyslogd.pid" > "$S/rsyslogd.out" 2>&1 &
rsyslog_pid=$!
sock_there() { [ -S "$S/log.sock" ]; }
wait_for 5 sock_there
syslog_pid=
if ! sock_there; then
	fail "service/syslog-setup" "rsyslogd made no $S/log.sock within 5 s: $(tail_of "$S/rsyslogd.out")"
else
	t0=$(now_ms)
	timeout -k 1 10 env -u NOTIFY_SOCKET unshare -m --propagation private \
	    sh "$here/syslog-ns.sh" "$S/ns" "$S/log.sock" "$BIN" -f "$S/conf" > "$S/out" 2>&1
	prc=$?
	syslog_up() { [ -S "$S/run/m.sock" ] && grep -q ' started ' "$S/messages" 2>/dev/null; }
	wait_for 10 syslog_up
	syslog_pid=$(cat "$S/run/m.pid" 2>/dev/null)
	if [ $prc != 0 ] || ! syslog_up || [ -z "$syslog_pid" ]; then
		fail "service/syslog-setup" "start exited $prc, pid file '$syslog_pid': $(oneline "$(cat "$S/out")"); log: $(tail_of "$S/messages")"
		syslog_pid=
	else
		# Detached: a child in its own session, nothing on the terminal.
		sid=$(ps -o sid= -p "$syslog_pid" | tr -d ' ')
		if [ "$sid" = "$syslog_pid" ] && [ ! -s "$S/out" ] &&
		    [ "$(status_line "$syslog_pid" Uid)" = "$T_UID $T_UID $T_UID $T_UID" ]; then
			pass "service/detach-without-d"
		else
			fail "service/detach-without-d" "pid $syslog_pid: session $sid (want its own), uid '$(status_line "$syslog_pid" Uid)', output '$(oneline "$(cat "$S/out")")'"
		fi
		# 12: the pid file's lock came along to the detached child.
		second_start syslog
		if [ "$sec_rc" = 75 ] && printf '%s' "$sec_out" | grep -q "pid file $S/run/m.pid is locked by running process $syslog_pid" &&
		    [ "$sec_ino" = "$sec_ino0" ]; then
			pass "service/second-start-refused-detached"
		else
			fail "service/second-start-refused-detached" "exit $sec_rc (want 75) '$(oneline "$sec_out")', want 'pid file ... is locked by running process $syslog_pid'; socket inode $sec_ino0 -> $sec_ino"
		fi
		seq_ok syslog "$(rep 192.0.2.90 A 3) 192.0.2.90=R $(rep 2001:db8:90::1 A 3) 2001:db8:90::1=R" ||
			fail "service/syslog-facility" "$(mtfail syslog)"
		kill -USR2 "$syslog_pid"
		stats_there() { grep -q ' stats connections=' "$S/messages"; }
		wait_for 5 stats_there
		kill -TERM "$syslog_pid"
		now_ms > "$S/stop_ms"
	fi
fi

# --- 11: the systemd unit -----------------------------------------------------------

stage=$work/stage
if ! out=$(timeout -k 5 120 make -s -C "$top" install DESTDIR="$stage" PREFIX=/usr 2>&1); then
	fail "service/systemd-verify" "make install DESTDIR=$stage failed: $(oneline "$(printf '%s' "$out" | tail -n 5)")"
	fail "service/systemd-security" "no staged unit"
else
	unit=$work/unit/milter-ratelimit.service
	mkdir -p "$work/unit"
	sed "s|/usr/sbin/|$stage/usr/sbin/|g" "$stage/usr/lib/systemd/system/milter-ratelimit.service" > "$unit"
	out=$(MANPATH=$stage/usr/share/man timeout -k 2 30 systemd-analyze verify "$unit" 2>&1); rc=$?
	if [ $rc = 0 ] && [ -z "$out" ]; then
		pass "service/systemd-verify"
	else
		fail "service/systemd-verify" "exit $rc, want 0 and no output: $(oneline "$out")"
	fi
	out=$(timeout -k 2 30 systemd-analyze security --offline=yes "$unit" 2>&1); rc=$?
	score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9]*\.[0-9]\).*/\1/p' | head -n 1)
	info "systemd-analyze security --offline=yes: overall exposure ${score:-?}"
	if [ -z "$score" ]; then
		fail "service/systemd-security" "exit $rc, no 'Overall exposure level' line: $(oneline "$(printf '%s' "$out" | tail -n 3)")"
	elif [ "$(echo "$score" | tr -d .)" -le 20 ]; then
		pass "service/systemd-security"
	else
		fail "service/systemd-security" "overall exposure $score, want <= 2.0: $(printf '%s\n' "$out" | grep -a '✗' | sed 's/  */ /g' | head -n 8 | tr '\n' ';')"
	fi
fi

# --- 8 (cont.): the suppressed refusals are summed up after the window --------------
#
# Every refusal of the flood (log_level info) is in a line: the first of each
# key's window as "refused ... " (plus suppressed=N, if a window before had
# more), the rest summed in "refused-summary key=... suppressed=N" once the
# window is over (checked every second), or earlier when the log slot is
# needed.  Wait for the sum to reach the number of refusals.

# refusals_logged: refused lines + every suppressed=N.
refusals_logged() {
	grep -E '(^|: )refused(-summary)? ' "$work/flood/log" | awk '
	    / refused client=/ { n++ }
	    { for (i = 1; i <= NF; i++) if ($i ~ /^suppressed=/) { sub(/^suppressed=/, "", $i); n += $i } }
	    END { print n + 0 }'
}
sum_complete() { [ "$(refusals_logged)" -ge "$1" ]; }
if [ -n "$flood_t0" ]; then
	# Every key's summary is due a window after its first refusal, at the
	# next sweep: move the daemon's clock a window on and wake its
	# control thread (SIGUSR2), which sweeps.
	fakeclock_set "$work/flood/clock" $((FLOOD_WINDOW + 1))
	kill -USR2 "$(cat "$work/flood/pid")"
	wait_for 5 sum_complete $R
	got=$(refusals_logged)
	ns=$(grep -Ec 'refused-summary ' "$work/flood/log")
	n36=$(grep -Ec "refused-summary key=\\S+ suppressed=$((M - L - 1))( |$)" "$work/flood/log")
	el=$(( $(now_ms) - flood_t0 ))
	nr=$(grep -Ec '(^|: )refused client=' "$work/flood/log")
	if [ "$got" = $R ] && [ "$ns" = $K ] && [ "$n36" = $K ] && [ "$nr" = $K ]; then
		pass "service/flood-suppressed-sum"
	else
		fail "service/flood-suppressed-sum" "refused lines + suppressed sums = $got, want $R; $nr refused lines (want $K); $ns summary lines ($n36 with suppressed=$((M - L - 1))), want $K, ${el} ms after the flood: $(tail_of "$work/flood/log" 3)"
	fi
	info "flood (info): $K refused lines + $ns refused-summary lines, sum $got of $R, ${el} ms after the flood began"
	stop flood TERM
fi

# --- 9 (cont.): what reached syslog ------------------------------------------------

if [ -n "$syslog_pid" ]; then
	gone() { ! kill -0 "$syslog_pid" 2>/dev/null; }
	wait_for $STOP_BOUND gone
	p="local3\\.notice milter-ratelimit\\[$syslog_pid\\]: "
	why=
	for re in "${p}started " "${p}refused client=192\\.0\\.2\\.90 key=192\\.0\\.2\\.90/32 count=4 " \
	    "${p}refused client=2001:db8:90::1 key=2001:db8:90::/64 count=4 " \
	    "${p}stats connections=8 accepted=6 exempt=0 refused=2 " "${p}stopped\$"; do
		grep -Eq -- "$re" "$S/messages" || why="$why [$re]"
	done
	# Every line the daemon sent went to local3, none elsewhere.
	other=$(grep -v '^local3\.' "$S/messages" | grep 'milter-ratelimit' | head -n 2)
	if [ -z "$why" ] && [ -z "$other" ]; then
		pass "service/syslog-facility"
	else
		fail "service/syslog-facility" "no line matching$why; other facility: '$(oneline "$other")'; log: $(tail_of "$S/messages" 4)"
	fi
	if gone && [ ! -e "$S/run/m.sock" ] && [ ! -e "$S/run/m.pid" ]; then
		pass "service/detached-stop"
	else
		gone || kill -KILL "$syslog_pid" 2>/dev/null
		fail "service/detached-stop" "after SIGTERM: $(gone && echo exited || echo "still running after $STOP_BOUND s (killed)"), socket $( [ -e "$S/run/m.sock" ] && echo left || echo removed), pid file $( [ -e "$S/run/m.pid" ] && echo left || echo removed)"
	fi
fi

# --- reaping: 1 and 5 -------------------------------------------------------------

for D in $daemons; do
	[ -e "$D/status" ] || [ -e "$D/stop_ms" ] || stop "${D##*/}" TERM
done
all_down() {
	for _d in $daemons; do [ -e "$_d/status" ] || return 1; done
}
wait_for $((STOP_BOUND + 2)) all_down

# stopped NAME TEST SIGNAL: NAME exited 0 within the bound after SIGNAL,
# socket and pid file (if it had one) gone.
stopped() {
	_d=$work/$1
	if [ ! -e "$_d/status" ]; then
		kill -KILL "$(cat "$_d/pid")" 2>/dev/null
		fail "service/$2" "still running $STOP_BOUND s after SIG$3 (killed): $(tail_of "$_d/log" 3)"
		return
	fi
	_el='?'
	[ -s "$_d/stop_ms" ] && [ -s "$_d/exit_ms" ] && _el=$(( $(cat "$_d/exit_ms") - $(cat "$_d/stop_ms") ))
	_why=
	[ "$(cat "$_d/status")" = 0 ] || _why="$_why exit status $(cat "$_d/status");"
	[ -e "$_d/run/m.sock" ] && _why="$_why socket left behind;"
	[ -e "$_d/run/m.pid" ] && _why="$_why pid file left behind;"
	grep -q ': stopped$' "$_d/log" || _why="$_why no 'stopped' line;"
	[ -z "$_why" ] && pass "service/$2" || fail "service/$2" "after SIG$3:$_why $(tail_of "$_d/log" 3)"
	info "$2: exited $_el ms after SIG$3"
}
stopped priv sigterm-stops-cleanly TERM
stopped hup sighup-stops-cleanly HUP
stopped int sigint-stops-cleanly INT

bad=
for _d in $daemons; do
	_n=${_d##*/}
	grep -Eq 'Sanitizer|runtime error:' "$_d/log" && bad="$bad $_n: $(grep -E -m1 'Sanitizer|runtime error:' "$_d/log");"
	case $_n in nouser|nogroup|pidlink|pidlink2|defuser|priv|hup|int|wwdir|stale|rootdir|rootdir2|ugroupno) continue ;; esac
	if [ ! -e "$_d/status" ]; then
		kill -KILL "$(cat "$_d/pid")" 2>/dev/null
		bad="$bad $_n: still running after SIGTERM (killed);"
	elif [ "$(cat "$_d/status")" != 0 ]; then
		bad="$bad $_n: exit $(cat "$_d/status"): $(tail_of "$_d/log" 2);"
	elif [ -e "$_d/run/m.sock" ]; then
		bad="$bad $_n: socket left behind;"
	fi
done
[ -z "$bad" ] && pass "service/all-stop-cleanly" || fail "service/all-stop-cleanly" "$bad"

# --- 10: fail2ban against the daemon's own lines -----------------------------------

# The daemon's -d lines, "milter-ratelimit[PID]: ...", as syslog writes
# them: timestamp and host name first.
f2b=$work/f2b
mkdir -p "$f2b/filter.d"
cp "$top/conf/fail2ban/filter.d/milter-ratelimit.conf" "$f2b/filter.d/"
cp "$work/pkg/root/etc/fail2ban/filter.d/common.conf" "$f2b/filter.d/"
ts=$(LC_ALL=C date '+%b %e %H:%M:%S')
for D in flood flooddebug helo logmode stats priv; do
	grep -E '^milter-ratelimit\[[0-9]+\]: ' "$work/$D/log"
done | sed "s/^/$ts mx /" > "$f2b/stderr.log"
[ -s "$S/traditional" ] && cp "$S/traditional" "$f2b/syslog.log" || : > "$f2b/syslog.log"

# f2b_check NAME LOG: run the filter over LOG; every "refused client=" line
# (and nothing else) must match, with the line's client key as the IP.
f2b_check() {
	_name=$1 _log=$2
	_lines=$(wc -l < "$_log")
	_want=$(grep -Ec '(^|: )refused client=' "$_log")
	# The failure id is the client key; fail2ban writes a /32 (IPv4) or
	# /128 (IPv6) key as the plain address.
	grep -E '(^|: )refused client=' "$_log" | sed -e 's/.* refused client=[^ ]* key=\([^ ]*\) .*/\1/' \
	    -e 's|^\([0-9.]*\)/32$|\1|' -e 's|^\([0-9a-f:]*\)/128$|\1|' > "$_log.want"
	_out=$(timeout -k 2 60 fail2ban-regex "$_log" "$f2b/filter.d/milter-ratelimit.conf" 2>&1)
	_rc=$?
	_sum=$(printf '%s\n' "$_out" | sed -n 's/^Lines: \([0-9]*\) lines, \([0-9]*\) ignored, \([0-9]*\) matched.*/\1 \2 \3/p')
	timeout -k 2 60 fail2ban-regex -o ip "$_log" "$f2b/filter.d/milter-ratelimit.conf" > "$_log.ips" 2>&1
	if [ $_rc != 0 ] || [ "$_sum" != "$_lines 0 $_want" ]; then
		fail "service/$_name" "want 'Lines: $_lines lines, 0 ignored, $_want matched', got '$_sum' (exit $_rc): $(oneline "$(printf '%s' "$_out" | grep -A3 -i 'missed\|error' | head -n 8)")"
	elif ! cmp -s "$_log.want" "$_log.ips"; then
		fail "service/$_name" "addresses differ (want < > got): $(oneline "$(diff "$_log.want" "$_log.ips" | head -n 6)")"
	else
		pass "service/$_name"
	fi
	info "$_name: $_lines lines, $_want refusal lines matched"
}
# The sample must hold each kind of line for the test to mean anything.
why=
for re in 'refused client=[0-9.]+ .*stage=connect' 'refused client=[0-9a-f:]+:[0-9a-f:]* .*stage=connect' \
    'refused client=[0-9.]+ .*stage=helo' 'refused client=[0-9a-f:]+:[0-9a-f:]* .*stage=helo' \
    'would-refuse client=' 'refused-summary key=' ': started ' ': stats connections=' ': stopped$' \
    ': allowed client='; do
	grep -Eq -- "$re" "$f2b/stderr.log" || why="$why [$re]"
done
[ -z "$why" ] && pass "service/fail2ban-sample-complete" ||
	fail "service/fail2ban-sample-complete" "no line matching$why among the daemons' lines"
f2b_check fail2ban-stderr-lines "$f2b/stderr.log"
if [ -s "$f2b/syslog.log" ] && grep -q 'refused client=' "$f2b/syslog.log"; then
	f2b_check fail2ban-syslog-lines "$f2b/syslog.log"
else
	fail "service/fail2ban-syslog-lines" "no refusal line in the syslog file $S/traditional"
fi

# fail2ban counts the client KEY once per window in which it was refused:
# an IPv6 client rotating through its /64 and an IPv4 client, each refused
# in three windows (the daemon's clock moved on between them), give three
# failures each under their key, and no other line matches.
mkdaemon f2bkey $TUSER "user = \"$TUSER\"" 'limit = 2' 'window = 60'
if FAKE=1 start_daemon f2bkey; then
	why=
	for w in 1 2 3; do
		steps="192.0.2.77=A 192.0.2.77=A 192.0.2.77=R 192.0.2.77=R"
		steps="$steps 2001:db8:77::${w}1=A 2001:db8:77::${w}2=A 2001:db8:77::${w}3=R 2001:db8:77::${w}4=R"
		seq_ok f2bkey "$steps" || why="$why window $w: $(mtfail f2bkey);"
		fakeclock_set "$work/f2bkey/clock" $((61 * w))
	done
	stop f2bkey TERM
	f2bkey_down() { [ -e "$work/f2bkey/status" ]; }
	wait_for $STOP_BOUND f2bkey_down
	grep -E '^milter-ratelimit\[[0-9]+\]: ' "$work/f2bkey/log" | sed "s/^/$ts mx /" > "$f2b/keys.log"
	timeout -k 2 60 fail2ban-regex -o ip "$f2b/keys.log" "$f2b/filter.d/milter-ratelimit.conf" \
	    2>&1 | sort | uniq -c | awk '{ print $2 "=" $1 }' | tr '\n' ' ' > "$f2b/keys.ids"
	ids=$(cat "$f2b/keys.ids")
	[ "$ids" = "192.0.2.77=3 2001:db8:77::/64=3 " ] ||
		why="$why fail2ban's failures by id: '$ids' (want 192.0.2.77=3 2001:db8:77::/64=3); $(grep -c 'refused client=' "$f2b/keys.log") refused lines, $(grep -c 'refused-summary' "$f2b/keys.log") summaries;"
	[ -z "$why" ] && pass "service/fail2ban-counts-key-per-window" ||
		fail "service/fail2ban-counts-key-per-window" "$why"
	info "fail2ban-counts-key-per-window: $ids"
else
	fail "service/fail2ban-counts-key-per-window" "$(tail_of "$work/f2bkey/log")"
fi

[ "${FAILED:-0}" = 0 ]
