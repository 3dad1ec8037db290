#!/bin/bash
# milter-ratelimit against sendmail's own rate control, through a real
# sendmail on loopback.
#
#   bench/sendmail.sh BUILD_DIR RUNS "LOADS" [THREADS] [WHICH]
#     e.g. bench/sendmail.sh build-bench 5 "10000 20000" 24
#     WHICH: "ratecontrol milter" (default) or one of them
#
# Two sendmail set-ups, each started afresh (empty counters) for every
# load of every run, and taken in turn (ratecontrol, milter, ratecontrol,
# ...):
#   ratecontrol  FEATURE(`delay_checks'), FEATURE(`ratecontrol', `nodelay',
#                `terminate'), access db "ClientRate: 5",
#                ConnectionRateWindowSize 60s; no milter
#   milter       no rate control; milter-ratelimit with limit 5, window 60
# Load (bench/smtpload): LOAD distinct clients 127.A.B.C connecting once
# each, with the heavy client 127.254.254.254 connecting 15 times spread
# evenly among them, all inside one 60 s window.  Exact counting lets 5 of
# the heavy client's 15 through and refuses no innocent client.
#
# Prints smtpload's lines, a line "COMPARE mta=... load=... run=...
# heavy_ok=... innocent_refused=... ..." per load, and a summary.  Exits 1
# when something could not run (sendmail or the milter did not start, a
# client saw an error).  Needs root (mount namespace).  Readiness is
# waited for on the listening socket (ss), never by connecting to it.
# sendmail, makemap and rsyslogd come from Debian's packages unpacked into
# the work directory (tests/smroot.sh), never installed; each sendmail runs
# in a mount namespace of its own (tests/mta/sendmail-ns.sh).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u +m

B=${1:?usage: bench/sendmail.sh BUILD_DIR RUNS LOADS [THREADS] [WHICH]}
RUNS=${2:-1}
LOADS=${3:-10000}
THREADS=${4:-24}
WHICH=${5:-ratecontrol milter}
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
PKG_CACHE=$TOP/tests/.cache
# shellcheck source=tests/pkgroot.sh
. "$TOP/tests/pkgroot.sh"
# shellcheck source=tests/smroot.sh
. "$TOP/tests/smroot.sh"
B=$(cd "$B" && pwd)
BIN=$B/milter-ratelimit
LOAD=$B/bench/smtpload
PORT_RC=2625
PORT_ML=2626
NAME=sendmail.bench.test
HEAVY=15

W=
ROOT=
SM_PID=
MILTER_PID=
status=0

note() { echo "# $*"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
wait_for() {
	local bound=$1 end
	shift
	end=$(( $(now_ms) + bound * 1000 ))
	while [ "$(now_ms)" -lt $end ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	"$@" >/dev/null 2>&1
}
alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
dead() { ! alive "$1"; }
group_gone() { ! pgrep -g "$1" >/dev/null; }
listening() { [[ $(ss -Hltn "sport = :$1") == *"127.0.0.1:$1 "* ]]; }
port_free() { [ -z "$(ss -Hltn "sport = :$1")" ]; }

cleanup() {
	sendmail_stop
	milter_stop
	[ -n "$W" ] || return
	if [ $status = 0 ] && [ -z "${MRL_KEEP_LOGS:-}" ]; then rm -rf "$W"; else note "logs kept in $W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- the milter -------------------------------------------------------------

milter_start() {
	local d=$W/milter
	rm -f "$d/m.sock"
	cat > "$d/conf" <<-EOF
	socket = "unix:$d/m.sock"
	limit = 5
	window = 60
	max_clients = 1000000
	user = "root"
	EOF
	"$BIN" -d -f "$d/conf" >> "$d/log" 2>&1 &
	MILTER_PID=$!
	wait_for 10 test -S "$d/m.sock"
	[ -S "$d/m.sock" ] && alive "$MILTER_PID"
}

milter_stop() {
	[ -n "$MILTER_PID" ] || return 0
	kill -TERM "$MILTER_PID" 2>/dev/null
	wait_for 10 dead "$MILTER_PID" || kill -KILL "$MILTER_PID" 2>/dev/null
	wait "$MILTER_PID" 2>/dev/null
	MILTER_PID=
}

# --- sendmail ---------------------------------------------------------------

# sendmail_conf KIND PORT DIR: the .mc, the access db, hosts, syslog.
sendmail_conf() {
	local kind=$1 port=$2 d=$3
	mkdir -p "$d/queue"
	chmod 0700 "$d/queue"
	printf '127.0.0.1 localhost\n127.0.1.1 %s %s\n::1 localhost ip6-localhost\n' \
		"$NAME" "$(hostname)" > "$d/hosts"
	printf '%s: files\n' passwd group shadow hosts networks protocols services > "$d/nsswitch.conf"
	cat > "$d/rsyslog.conf" <<-EOF
	global(workDirectory="$d")
	module(load="imuxsock" SysSock.Name="/dev/log" SysSock.RateLimit.Interval="0")
	*.* action(type="omfile" file="$d/maillog")
	EOF
	{
		echo "include(\`$(smroot_cf "$ROOT")/m4/cf.m4')dnl"
		echo "VERSIONID(\`milter-ratelimit bench $kind')dnl"
		echo "OSTYPE(\`linux')dnl"
		echo "define(\`confDOMAIN_NAME', \`$NAME')dnl"
		echo "define(\`QUEUE_DIR', \`$d/queue')dnl"
		echo "define(\`confPID_FILE', \`$d/sendmail.pid')dnl"
		echo "define(\`STATUS_FILE', \`$d/statistics')dnl"
		echo "define(\`ALIAS_FILE', \`')dnl"
		echo "define(\`confDELIVERY_MODE', \`queueonly')dnl"
		echo "define(\`confMAX_DAEMON_CHILDREN', \`0')dnl"
		echo "define(\`confCONNECTION_RATE_THROTTLE', \`0')dnl"
		echo "define(\`confREFUSE_LA', \`999')dnl"
		echo "define(\`confQUEUE_LA', \`999')dnl"
		echo "define(\`confTO_IDENT', \`0')dnl"
		echo "define(\`confDONT_PROBE_INTERFACES', \`True')dnl"
		echo "define(\`confLOG_LEVEL', \`9')dnl"
		echo "define(\`confMILTER_LOG_LEVEL', \`9')dnl"
		echo "FEATURE(\`no_default_msa')dnl"
		echo "FEATURE(\`accept_unresolvable_domains')dnl"
		echo "DAEMON_OPTIONS(\`Port=$port, Addr=127.0.0.1, Name=MTA-v4, Family=inet, Listen=1024')dnl"
		if [ "$kind" = ratecontrol ]; then
			echo "define(\`confCONNECTION_RATE_WINDOW_SIZE', \`60s')dnl"
			echo "FEATURE(\`access_db', \`hash -T<TMPF> -o $d/access')dnl"
			echo "FEATURE(\`delay_checks')dnl"
			echo "FEATURE(\`ratecontrol', \`nodelay', \`terminate')dnl"
		else
			echo "INPUT_MAIL_FILTER(\`ratelimit', \`S=unix:$W/milter/m.sock, T=S:4s;R:4s;E:10s')dnl"
		fi
		echo "MAILER(\`local')dnl"
		echo "MAILER(\`smtp')dnl"
	} > "$d/sendmail.mc"
	if [ "$kind" = ratecontrol ]; then
		printf 'ClientRate:\t5\n' > "$d/access"
		"$ROOT/usr/sbin/makemap" hash "$d/access" < "$d/access" 2> "$d/makemap.err" || return 1
	fi
	# m4 exits 0 on a misplaced FEATURE (nodelay without delay_checks):
	# any output on stderr is an error.
	m4 "$d/sendmail.mc" > "$d/sendmail.cf" 2> "$d/m4.err" && [ ! -s "$d/m4.err" ]
}

sendmail_start() {
	local kind=$1 port=$2 d=$W/$1-$3
	mkdir -p "$d"
	port_free "$port" || { note "port $port in use"; return 1; }
	sendmail_conf "$kind" "$port" "$d" || { note "$kind: sendmail config failed: $(cat "$d/m4.err" "$d/makemap.err" 2>/dev/null)"; return 1; }
	setsid unshare -m --propagation private sh "$TOP/tests/mta/sendmail-ns.sh" "$d" "$ROOT" > "$d/stderr" 2>&1 &
	SM_PID=$!
	wait_for 30 listening "$port"
	listening "$port" && alive "$SM_PID" && return 0
	note "$kind: sendmail did not start: $(tail -n 5 "$d/stderr" "$d/maillog" 2>/dev/null | tr '\n' ' ')"
	return 1
}

sendmail_stop() {
	[ -n "$SM_PID" ] || return 0
	kill -TERM -- "-$SM_PID" 2>/dev/null
	wait_for 15 group_gone "$SM_PID" || kill -KILL -- "-$SM_PID" 2>/dev/null
	wait "$SM_PID" 2>/dev/null
	SM_PID=
}

# --- the runs ---------------------------------------------------------------

# one KIND LOAD RUN: a fresh sendmail (and milter), the load, the verdict.
one() {
	local kind=$1 n=$2 run=$3 port out res
	[ "$kind" = ratecontrol ] && port=$PORT_RC || port=$PORT_ML
	if [ "$kind" = milter ] && ! milter_start; then
		note "milter did not start: $(tail -n 5 "$W/milter/log" | tr '\n' ' ')"
		status=1
		return 1
	fi
	if ! sendmail_start "$kind" "$port" "$n-$run"; then
		status=1
		milter_stop
		return 1
	fi
	out=$("$LOAD" -p "$port" -n "$n" -H $HEAVY -c "$THREADS" -t 120 2>&1)
	[ $? = 0 ] || status=1
	printf '%s\n' "$out" | sed "s/^/[$kind $n #$run] /"
	res=$(printf '%s\n' "$out" | sed -n 's/^RESULT //p')
	echo "COMPARE mta=$kind load=$n run=$run $res" | tee -a "$W/compare"
	sendmail_stop
	milter_stop
}

main() {
	[ "$(id -u)" = 0 ] || { echo "bench/sendmail.sh: needs root (mount namespace)"; status=1; return; }
	[ -x "$BIN" ] && [ -x "$LOAD" ] || { echo "bench/sendmail.sh: build $BIN and $LOAD first"; status=1; return; }
	W=$(mktemp -d /run/mrl-bench-sm.XXXXXX)
	chmod 0755 "$W"
	mkdir -m 0755 "$W/milter"
	ROOT=$W/root
	if ! smroot_unpack "$ROOT" "$W/root.log" rsyslog; then
		echo "bench/sendmail.sh: cannot unpack sendmail and rsyslog: $(tail -n 3 "$W/root.log" | tr '\n' ' ')"
		status=1
		return
	fi
	note "$(sed -n 's/^pkgroot: sendmail-bin_\(.*\)_[^_]*\.deb$/sendmail \1/p' "$W/root.log"); $RUNS run(s), loads: $LOADS, $THREADS client threads"
	local run n kind
	for run in $(seq 1 "$RUNS"); do
		for n in $LOADS; do
			for kind in $WHICH; do
				one "$kind" "$n" "$run"
			done
		done
	done
}

# Summary: per set-up and load, what the heavy client got and how many
# innocent clients were refused, run by run.
summary() {
	[ -s "$W/compare" ] || return 0
	awk '
	{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		k = v["mta"] " " v["load"]
		if (!(k in seen)) { seen[k] = 1; order[++n] = k }
		heavy[k] = heavy[k] " " v["heavy_ok"]
		inn[k] = inn[k] " " v["innocent_refused"]
		rate[k] = rate[k] " " int(v["rate"])
		secs[k] = secs[k] " " int(v["seconds"] + 0.5)
		if (v["seconds"] > 60) late++
	}
	END {
		print ""
		print "summary: heavy client (15 connections; exact counting admits 5) and innocent clients refused, per run"
		for (i = 1; i <= n; i++) {
			split(order[i], p, " ")
			printf "  %-12s %6d clients: heavy admitted:%s; innocent refused:%s; connections/s:%s; seconds:%s\n", p[1], p[2], heavy[order[i]], inn[order[i]], rate[order[i]], secs[order[i]]
		}
		if (late)
			print "  NOTE: " late " load(s) took longer than the 60 s window: exact counting would then admit more than 5"
	}' "$W/compare"
}

main
summary
exit $status
