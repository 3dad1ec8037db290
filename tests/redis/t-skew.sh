# Clock skew: one daemon's clocks run ten minutes ahead (libfaketime,
# tests/lib.sh fakeclock_*), the other's do not.  Counting on the Redis
# server's clock, both still hold a client that alternates between them
# to `limit` in total; and after the skewed one has counted, the other's
# connections are still inside the same window.
# checks: 2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/daemon.sh"
BIN=$1 T=$REDIS_SUITE_TMP
trap 'mrl_stop_all; redis_stop' EXIT
if [ -z "$(fakeclock_lib)" ]; then
	fail redis/skew-limit "libfaketime not installed (TEST_DEPS)"
	fail redis/skew-fast-first "libfaketime not installed"
	exit 0
fi
redis_start "$T/r" || { fail redis/skew-limit "no redis"; fail redis/skew-fast-first "no redis"; exit 0; }
common="redis = \"unix:$REDIS_SOCK\""
mrl_start "$T/slow" "$common" 'redis_timeout_ms = 1000' ||
	{ fail redis/skew-limit "daemon did not start"; fail redis/skew-fast-first "-"; exit 0; }
MRL_ENV=$(fakeclock_env "$T/clock") mrl_start "$T/fast" "$common" 'redis_timeout_ms = 1000' ||
	{ fail redis/skew-limit "skewed daemon did not start: $(tail -n 3 "$T/fast/log")"; fail redis/skew-fast-first "-"; exit 0; }
fakeclock_set "$T/clock" 600
mt_rr 192.0.2.50 $((LIMIT * 2 + 2)) "$T/slow" "$T/fast" > "$T/a" 2>&1
[ "$(count_of ACCEPT "$T/a")" = "$LIMIT" ] && pass redis/skew-limit ||
	fail redis/skew-limit "accepted $(count_of ACCEPT "$T/a"): $(tr '\n' ' ' < "$T/a")"
# The skewed daemon first, then the other: its count is not "from the
# future" to the other one.
mt_rr 192.0.2.51 $((LIMIT * 2 + 2)) "$T/fast" "$T/slow" > "$T/b" 2>&1
[ "$(count_of ACCEPT "$T/b")" = "$LIMIT" ] && pass redis/skew-fast-first ||
	fail redis/skew-fast-first "accepted $(count_of ACCEPT "$T/b"): $(tr '\n' ' ' < "$T/b")"
