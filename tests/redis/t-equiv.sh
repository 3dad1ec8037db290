# The script decides as the local table does: seeded random traces go
# through src/redis_window.lua on a private redis-server and through
# window_check_keys() at the same now (the reply's), decision by decision
# (tests/redis/replay.c says what a trace holds).  Three traces: a fixed
# seed and one from the clock (printed, so that a failure can be replayed:
# build/tests/redis-replay -s SOCKET -f src/redis_window.lua -S SEED -v),
# windows of 20..2000 ms; and a shorter one with windows up to a day, for
# every width of the script's packed offsets.
# checks: 4
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/script.sh"
BIN=${1:?usage: t-equiv.sh PATH/TO/milter-ratelimit}
REPLAY=$(dirname "$BIN")/tests/redis-replay
trap 'redis_stop' EXIT

if [ ! -x "$REPLAY" ]; then
	for c in equiv-ran equiv-limit-le10 equiv-limit-gt10 equiv-covered; do
		fail "redis/$c" "no $REPLAY (make units)"
	done
	exit 0
fi
if ! redis_start "$REDIS_SUITE_TMP/r"; then
	for c in equiv-ran equiv-limit-le10 equiv-limit-gt10 equiv-covered; do
		fail "redis/$c" "redis_start failed"
	done
	exit 0
fi

# Each trace: at most 2500 events and 6 s (about 4 s here).
clock_seed=$(date +%s)
ran=0 le10=0 gt10=0 beyond=0 events=0 small=0 big=0 multi=0 refused=0 counted=0 regroup=0 grouped=0
for run in 12:2500:2000 "$clock_seed:2500:2000" 13:1500:86400000; do
	seed=${run%%:*} n_ev=${run#*:} wmax=${run##*:} n_ev=${n_ev%%:*}
	out=$REDIS_SUITE_TMP/replay.$seed
	"$REPLAY" -s "$REDIS_SOCK" -f "$REDIS_SCRIPT" -S "$seed" -n "$n_ev" -t 6 -w "$wmax" > "$out" 2>&1
	rc=$?
	grep -E '^(DIFF|replay:)' "$out" | head -n 20
	grep -q '^redis-replay: ' "$out" && grep '^redis-replay: ' "$out"
	[ $rc -le 1 ] && ran=$((ran + 1))
	# replay: seed S events E (limit <= 10: A, above: B) calls with several
	# keys M refused R (C counted) limit changes L regroupings G counts
	# above 10 K in T ms
	# shellcheck disable=SC2046
	set -- $(sed -n 's/^replay: seed [0-9]* events \([0-9]*\) (limit <= 10: \([0-9]*\), above: \([0-9]*\)) calls with several keys \([0-9]*\) refused \([0-9]*\) (\([0-9]*\) counted) limit changes [0-9]* regroupings \([0-9]*\) counts above 10 \([0-9]*\) in [0-9]* ms$/\1 \2 \3 \4 \5 \6 \7 \8/p' "$out")
	if [ $# = 8 ]; then
		events=$((events + $1)) small=$((small + $2)) big=$((big + $3))
		multi=$((multi + $4)) refused=$((refused + $5)) counted=$((counted + $6))
		regroup=$((regroup + $7)) grouped=$((grouped + $8))
	fi
	# shellcheck disable=SC2046
	set -- $(sed -n 's/^replay: differences at limit <= 10: \([0-9]*\), above: \([0-9]*\), beyond the group bound: \([0-9]*\)$/\1 \2 \3/p' "$out")
	if [ $# = 3 ]; then
		le10=$((le10 + $1)) gt10=$((gt10 + $2)) beyond=$((beyond + $3))
	else
		le10=$((le10 + 1))
	fi
done

if [ $ran = 3 ]; then
	pass redis/equiv-ran
else
	fail redis/equiv-ran "a replay could not run to its end (error above)"
fi
if [ $le10 = 0 ] && [ $ran = 3 ]; then
	pass redis/equiv-limit-le10
else
	fail redis/equiv-limit-le10 "$le10 differences at limit <= 10 (want 0)"
fi
# Above 10 both count in groups of the same size: 0 is expected too; the
# group bound (a count off by at most g - 1) is the documented promise.
echo "# equivalence: $events events ($small at limit <= 10, $big above), differences $le10 and $gt10, $beyond beyond the bound"
if [ $beyond = 0 ] && [ $ran = 3 ]; then
	pass redis/equiv-limit-gt10
else
	fail redis/equiv-limit-gt10 "$beyond differences beyond the group bound (of $gt10)"
fi
# Not a vacuous pass: both limit classes, several keys, refusals counted
# and not, regroupings, and counts past ten slots (groups filled) were
# all exercised.
if [ $small -ge 500 ] && [ $big -ge 500 ] && [ $multi -ge 500 ] &&
    [ $counted -ge 100 ] && [ $((refused - counted)) -ge 100 ] && [ $regroup -ge 10 ] &&
    [ $grouped -ge 100 ]; then
	pass redis/equiv-covered
else
	fail redis/equiv-covered "events $events small $small big $big multi $multi refused $refused counted $counted regroupings $regroup counts above 10 $grouped"
fi
