#!/bin/sh
# The sandbox suite: the shipped systemd unit (conf/milter-ratelimit.service)
# held against the real daemon, on a machine whose PID 1 need not be systemd.
#
#   sh tests/sandbox/run.sh PATH/TO/milter-ratelimit
#
# syscalls: the unit's SystemCallFilter= lines are turned into the set of
# system calls systemd would let through (syscallfilter.sh, from
# `systemd-analyze syscall-filter`), and the daemon is run under `strace -f`
# as the unit runs it: started unprivileged (User=, SupplementaryGroups=)
# with `group` naming a supplementary group, NOTIFY_SOCKET set (foreground,
# syslog), systemd's PATH, a /dev/log that takes its lines (a private
# mount namespace; sink.c listens on it and on NOTIFY_SOCKET).  It goes through what the unit makes it do:
# ExecStartPre's -n, the start, milter sessions, ExecReload's ratelimit-ctl reload, kill -USR1,
# SIGUSR2, SIGTERM.  Every system call any of those processes made must be
# in the set; a missing one is what the unit would answer with EPERM
# (SystemCallErrorNumber=EPERM).
#
# Runs as root: setpriv puts the daemon in the unprivileged identity.  It
# uses the existing users nobody and a group of the base system (mail), and
# creates none: no lock needed.
set -u
BIN=${1:?usage: tests/sandbox/run.sh PATH/TO/milter-ratelimit}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/../lib.sh"
plan 2

UNIT=${SANDBOX_UNIT:-$top/conf/milter-ratelimit.service}
STOP_BOUND=15	# the unit's TimeoutStopSec=
# systemd's PATH for services (the daemon looks for postconf through it).
SYSTEMD_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin

work=$(mktemp -d "${TMPDIR:-/tmp}/milter-ratelimit-sandbox.XXXXXX") || exit 1
chmod 0755 "$work"
# The daemon is exec'd as nobody, who may not reach the tree (a clone
# under /root is 0700): it runs from a copy in the work directory.
mkdir -m 0755 "$work/bin" && cp "$BIN" "$work/bin/milter-ratelimit" || exit 1
cp "$(dirname "$BIN")/ratelimit-ctl" "$work/bin/ratelimit-ctl" || exit 1
DBIN=$work/bin/milter-ratelimit
dpid=
sinks=
cleanup() {
	[ -n "$dpid" ] && kill -KILL "$dpid" 2>/dev/null
	for _p in $sinks; do kill -TERM "$_p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

oneline() { printf '%s' "$1" | tr '\n\t' '  ' | cut -c1-600; }

T=sandbox/unit-syscall-filter-allows-what-the-daemon-uses

if [ "$(id -u)" != 0 ]; then
	fail "$T" "must run as root (setpriv puts the daemon in an unprivileged identity)"
	exit 1
fi
for tool in strace systemd-analyze miltertest setpriv timeout unshare cc curl ss; do
	command -v $tool >/dev/null 2>&1 || {
		fail "$T" "$tool not found (apt-get install strace systemd miltertest util-linux)"
		exit 1
	}
done
RUID=$(id -u nobody) RGID=$(id -g nobody)
SGROUP=mail
SGID=$(getent group $SGROUP | cut -d: -f3)
[ -n "$SGID" ] || { fail "$T" "no group $SGROUP"; exit 1; }
RMAP=$(dirname "$BIN")/ratelimit-map

# --- the filter the unit asks for -------------------------------------------------

if ! sh "$here/syscallfilter.sh" "$UNIT" > "$work/filter" 2> "$work/filter.err"; then
	fail "$T" "cannot compute the unit's filter: $(oneline "$(cat "$work/filter.err")")"
	exit 1
fi
fmode=$(head -n 1 "$work/filter")
tail -n +2 "$work/filter" | sort -u > "$work/filter.set"
# A filter that cannot be right makes the test mean nothing.
if [ "$fmode" != allow ] || ! grep -qx read "$work/filter.set" ||
    [ "$(wc -l < "$work/filter.set")" -lt 100 ]; then
	fail "$T" "computed filter '$fmode' with $(wc -l < "$work/filter.set") calls, no read: not the unit's allow list"
	exit 1
fi

# --- the daemon, traced, as the unit runs it ----------------------------------------

# The socket directory as RuntimeDirectory= makes it: the user's, 0750.
# strace writes its traces as the user: a directory of the user's.
mkdir -p "$work/run" "$work/trace"
chown "$RUID" "$work/run" "$work/trace"
chmod 0750 "$work/run"
printf '192.0.2.9 OK\n' > "$work/exempt"
if ! "$RMAP" "$work/exempt" < "$work/exempt" > "$work/rmap.out" 2>&1; then
	fail "$T" "ratelimit-map: $(oneline "$(cat "$work/rmap.out")")"
	exit 1
fi
chmod 0644 "$work/exempt.db"
# Metrics on (tests/metrics): libmicrohttpd's thread (epoll, eventfd,
# accept4, ...) is traced with the rest, and scraped below.  A free
# loopback port: nothing listens on it now.
mport=
for _i in 1 2 3 4 5 6 7 8 9 10; do
	_p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ))
	ss -Htln "sport = :$_p" | grep -q . || { mport=$_p; break; }
done
[ -n "$mport" ] || { fail "$T" "no free loopback port for metrics_listen"; exit 1; }
cat > "$work/conf" <<EOF
socket = "unix:$work/run/m.sock"
user = "nobody"
group = "$SGROUP"
socket_mode = "0660"
control_socket = "$work/run/control.sock"
limit = 1
exempt_map = "$work/exempt.db"
metrics_listen = "127.0.0.1:$mport"
EOF
chmod 0644 "$work/conf"

# The journal's /dev/log and systemd's NOTIFY_SOCKET: datagram sinks
# (sink.c) whose output shows what the daemon logged and reported.  The
# daemon sees the first as /dev/log in a private mount namespace
# (tests/service/syslog-ns.sh), so syslog(3) really sends, as under the
# unit, and nothing of the host's is touched.
mkdir -p "$work/ns"
if ! cc -std=gnu11 -O1 -o "$work/sink" "$here/sink.c" > "$work/sink.err" 2>&1; then
	fail "$T" "cannot build sink.c: $(oneline "$(cat "$work/sink.err")")"
	exit 1
fi
"$work/sink" "$work/log.sock" > "$work/syslog" 2>&1 &
sinks=$!
"$work/sink" "$work/notify" > "$work/notified" 2>&1 &
sinks="$sinks $!"
sinks_up() { [ -S "$work/log.sock" ] && [ -S "$work/notify" ]; }
wait_for 5 sinks_up || { fail "$T" "the sinks made no sockets: $(oneline "$(cat "$work/syslog" "$work/notified")")"; exit 1; }

# as_unit BOUND TRACE CMD...: CMD as User=nobody, SupplementaryGroups=mail,
# no capabilities, systemd's environment and /dev/log, traced into
# trace/TRACE, killed after BOUND seconds.
as_unit() {
	_b=$1 _t=$2; shift 2
	timeout -k 2 "$_b" unshare -m --propagation private \
	    sh "$top/tests/service/syslog-ns.sh" "$work/ns" "$work/log.sock" \
	    setpriv --reuid="$RUID" --regid="$RGID" --groups="$SGID" --inh-caps=-all \
	    env -i PATH=$SYSTEMD_PATH NOTIFY_SOCKET="$work/notify" \
	    strace -f -qq -o "$work/trace/$_t" "$@"
}
logged() { [ "$(grep -c -- "$1" "$work/syslog")" -ge "${2:-1}" ]; }

why=
# ExecStartPre=
out=$(as_unit 30 pre "$DBIN" -n -f "$work/conf" 2>&1) ||
	why="$why -n failed: $(oneline "$out");"
# ExecStart=
( as_unit 300 main "$DBIN" -f "$work/conf" > "$work/out" 2>&1; echo $? > "$work/status" ) &
ready() { grep -qx 'READY=1' "$work/notified"; }
exited() { [ -e "$work/status" ]; }
wait_for 10 ready
if ! ready; then
	why="$why no READY=1 within 10 s (status $(cat "$work/status" 2>/dev/null)): $(oneline "$(cat "$work/out")") $(oneline "$(tail -n 3 "$work/syslog")");"
else
	dpid=$(sed -n 's/^\([0-9][0-9]*\) \{1,\}execve(.*milter-ratelimit".*= 0$/\1/p' "$work/trace/main" | head -n 1)
	sg=$(stat -c %G "$work/run/m.sock" 2>&1)
	[ "$sg" = "$SGROUP" ] || why="$why socket group '$sg', want $SGROUP (the fchown path did not run);"
	logged "milter-ratelimit\\[$dpid\\]: started " || why="$why no 'started' line reached /dev/log;"
	mt_seq() {
		timeout -k 2 30 miltertest -D sock="unix:$work/run/m.sock" -D mode=seq \
		    -D steps="$1" -s "$top/tests/service/mt.lua" 2>&1
	}
	o=$(mt_seq "192.0.2.1=A 192.0.2.1=R 192.0.2.9=A unspec=A 2001:db8::1=A") ||
		why="$why sessions before the reload: $(oneline "$o");"
	# ExecReload= (ratelimit-ctl reload, as the unit's user; it waits
	# for the outcome) and the signal it stands for.
	o=$(as_unit 40 reload "$work/bin/ratelimit-ctl" -f "$work/conf" reload 2>&1)
	case $o in OK\ *) ;; *) why="$why ratelimit-ctl reload: $(oneline "$o");" ;; esac
	as_unit 10 kill /bin/kill -USR1 "$dpid" || why="$why kill -USR1 $dpid failed;"
	wait_for 10 logged 'reloaded configuration' 2 ||
		why="$why no second 'reloaded configuration' within 10 s of SIGUSR1: $(oneline "$(tail -n 2 "$work/syslog")");"
	o=$(mt_seq "192.0.2.2=A 192.0.2.2=R 192.0.2.9=A") ||
		why="$why sessions after the reload: $(oneline "$o");"
	kill -USR2 "$dpid"
	wait_for 10 logged ' stats connections=' || why="$why no stats line after SIGUSR2;"
	# A scrape, a 404 and a 405: the metrics thread's every path.
	m=$(curl -sS --max-time 5 "http://127.0.0.1:$mport/metrics" 2>&1)
	printf '%s\n' "$m" | grep -q '^milter_ratelimit_connections_total{verdict="refused"} 2$' ||
		why="$why /metrics under the unit's identity: $(oneline "$(printf '%s' "$m" | head -n 3)");"
	curl -sS --max-time 5 -o /dev/null "http://127.0.0.1:$mport/x" 2>/dev/null
	curl -sS --max-time 5 -o /dev/null -X POST -d x "http://127.0.0.1:$mport/metrics" 2>/dev/null
	kill -TERM "$dpid"
	wait_for $STOP_BOUND exited
	st=$(cat "$work/status" 2>/dev/null)
	[ "$st" = 0 ] || why="$why exit status '$st' after SIGTERM, want 0: $(oneline "$(cat "$work/out")");"
	logged ': stopped$' || why="$why no 'stopped' line;"
	grep -qx 'STOPPING=1' "$work/notified" || why="$why no STOPPING=1;"
fi

# --- every call made, against the filter ------------------------------------------

# strace -f lines: "PID name(...", "PID <... name resumed>..." (the PID
# padded to five columns: one space or more), and signal and exit lines,
# which name no call.
cat "$work"/trace/* | sed -n -e 's/^[0-9][0-9]* \{1,\}<\.\.\. \([a-z0-9_]*\) resumed>.*/\1/p' \
    -e 's/^[0-9][0-9]* \{1,\}\([a-z0-9_]*\)(.*/\1/p' | sort -u > "$work/used"
grep -qx fchownat "$work/used" || why="$why no fchownat in the trace (the socket's group was not set through it);"
comm -23 "$work/used" "$work/filter.set" > "$work/missing"
info_used=$(wc -l < "$work/used")
echo "# $info_used distinct system calls made; unit allows $(wc -l < "$work/filter.set")" >&2
if [ -s "$work/missing" ]; then
	why="$why not allowed by the unit's SystemCallFilter=: $(tr '\n' ' ' < "$work/missing");"
fi
[ -z "$why" ] && pass "$T" || fail "$T" "$why"

# --- the documented network drop-in --------------------------------------------------
#
# The drop-in of milter-ratelimit(8) and the README, beside the unit as
# systemctl edit puts it beside the installed one, verifies clean; a bad
# address in the same place is reported, so the drop-in is really read.
T=sandbox/unit-network-dropin-verifies
u=$work/verify
mkdir -p "$u/milter-ratelimit.service.d"
sed "s|/usr/sbin/|$(cd "$(dirname "$BIN")" && pwd)/|g" "$UNIT" > "$u/milter-ratelimit.service"
# The drop-in exactly as the docs print it (between the markers).
awk '/^<!-- dropin:network -->$/ { m = 1; next }
    m == 1 && /^```/ { m = 2; next }
    m == 2 && /^```/ { exit }
    m == 2 { print }' "$top/README.md" > "$u/milter-ratelimit.service.d/override.conf"
verify() { timeout -k 2 30 systemd-analyze verify --man=no "$u/milter-ratelimit.service" 2>&1; }
if ! grep -q '^IPAddressAllow=' "$u/milter-ratelimit.service.d/override.conf"; then
	fail "$T" "no IPAddressAllow= drop-in after <!-- dropin:network --> in README.md: '$(oneline "$(cat "$u/milter-ratelimit.service.d/override.conf")")'"
elif ! out=$(verify) || [ -n "$out" ]; then
	fail "$T" "systemd-analyze verify with the README's drop-in: $(oneline "$out")"
else
	printf '[Service]\nIPAddressAllow=192.0.2.300\n' > "$u/milter-ratelimit.service.d/override.conf"
	out=$(verify)
	if printf '%s' "$out" | grep -q 'override.conf:2:.*192.0.2.300'; then
		pass "$T"
	else
		fail "$T" "a bad address in the drop-in went unnoticed (is the drop-in read?): $(oneline "$out")"
	fi
fi

[ "${FAILED:-0}" = 0 ]
