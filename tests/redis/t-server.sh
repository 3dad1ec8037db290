# The harness itself: a private redis-server starts on its own socket and
# port, answers, and stops; the machine's own Redis is never involved.
# checks: 3
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
trap 'redis_stop' EXIT
if redis_start "$REDIS_SUITE_TMP/r"; then
	pass redis/server-starts
else
	fail redis/server-starts "redis_start failed"
fi
check redis/server-private-socket sh -c "[ \"\$($REDIS_CLI -s '$REDIS_SOCK' CONFIG GET unixsocket | tail -n 1)\" = '$REDIS_SOCK' ]"
redis_stop
if [ -S "$REDIS_SOCK" ] && "$REDIS_CLI" -s "$REDIS_SOCK" PING >/dev/null 2>&1; then
	fail redis/server-stops "still answering after redis_stop"
else
	pass redis/server-stops
fi
