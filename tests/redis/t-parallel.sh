# Many MTA threads at once: four clients run in parallel, each
# round-robin over two daemons, while both daemons reload (SIGUSR1) and
# log their statistics (SIGUSR2).  Each worker thread has its own Redis
# connection: every client still gets exactly `limit` in total (and the
# TSan build, make tsan, watches the threads).
# checks: 2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/daemon.sh"
BIN=$1 T=$REDIS_SUITE_TMP
trap 'mrl_stop_all; redis_stop' EXIT
redis_start "$T/r" || { fail redis/parallel-limit "no redis"; fail redis/parallel-answered "-"; exit 0; }
for i in 1 2; do
	mrl_start "$T/m$i" "redis = \"unix:$REDIS_SOCK\"" 'redis_timeout_ms = 1000' 'log_level = "info"' ||
		{ fail redis/parallel-limit "daemon $i did not start"; fail redis/parallel-answered "-"; exit 0; }
done
n=$((LIMIT * 4))
pids=
for c in 1 2 3 4; do
	mt_rr "192.0.2.$((110 + c))" $n "$T/m1" "$T/m2" > "$T/c$c" 2>&1 &
	pids="$pids $!"
done
for s in USR1 USR2 USR1; do
	mrl_signal "$T/m1" $s; mrl_signal "$T/m2" $s
done
for p in $pids; do wait "$p"; done
bad= short=
for c in 1 2 3 4; do
	[ "$(count_of ACCEPT "$T/c$c")" = "$LIMIT" ] || bad="$bad client$c:$(count_of ACCEPT "$T/c$c")"
	[ "$(grep -cxE 'ACCEPT|REPLYCODE' "$T/c$c")" = "$n" ] || short="$short client$c:$(tail -n 1 "$T/c$c")"
done
[ -z "$bad" ] && pass redis/parallel-limit || fail redis/parallel-limit "accepted, want $LIMIT each:$bad"
[ -z "$short" ] && pass redis/parallel-answered || fail redis/parallel-answered "not every session answered:$short"
