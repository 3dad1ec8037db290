# AUTH and the way down and up.  A Redis with requirepass: the password
# file's password (and, as "USER PASSWORD", an ACL user) gets the daemon
# counted in Redis.  A wrong password: every session still answered, the
# local table decides (its limit holds), and exactly one "redis down" line
# names the reason (auth: WRONGPASS).  Redis stopped under a working
# daemon: sessions answered at once by the local table, one down line;
# Redis back: one "redis up" line, and Redis counts again.
# checks: 7
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/daemon.sh"
BIN=$1 T=$REDIS_SUITE_TMP
trap 'mrl_stop_all; redis_stop' EXIT
evalsha_calls() { rcli -a pw1 --no-auth-warning INFO commandstats | tr -d '\r' | sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),.*/\1/p' | grep . || echo 0; }
redis_start "$T/r" --requirepass pw1 ||
	{ for c in password acl wrong-answered wrong-one-line down-answered down-one-line up; do fail redis/auth-$c "no redis"; done; exit 0; }
rcli -a pw1 --no-auth-warning ACL SETUSER mrl on '>pw2' '~*' '+@all' > /dev/null
umask 077
echo pw1 > "$T/pw-good"; echo 'mrl pw2' > "$T/pw-acl"; echo wrong > "$T/pw-bad"
common="redis = \"unix:$REDIS_SOCK\""
mrl_start "$T/good" "$common" "redis_password_file = \"$T/pw-good\"" 'redis_timeout_ms = 1000' &&
mrl_start "$T/acl" "$common" "redis_password_file = \"$T/pw-acl\"" 'redis_timeout_ms = 1000' &&
mrl_start "$T/bad" "$common" "redis_password_file = \"$T/pw-bad\"" 'redis_timeout_ms = 1000' ||
	{ for c in password acl wrong-answered wrong-one-line down-answered down-one-line up; do fail redis/auth-$c "a daemon did not start"; done; exit 0; }

# Two daemons, one Redis: with AUTH they share, so the limit holds in total.
mt_rr 192.0.2.40 $((LIMIT + 2)) "$T/good" "$T/acl" > "$T/share" 2>&1
calls=$(evalsha_calls)
[ "$(count_of ACCEPT "$T/share")" = "$LIMIT" ] && [ "$calls" = $((LIMIT + 2)) ] &&
	pass redis/auth-password || fail redis/auth-password "accepted $(count_of ACCEPT "$T/share"), EVALSHA calls $calls: $(tr '\n' ' ' < "$T/share")"
grep -q 'AUTH as an ACL user' "$T/acl/log" && ! grep -q 'redis down' "$T/acl/log" &&
	pass redis/auth-acl || fail redis/auth-acl "$(grep redis "$T/acl/log" | tail -n 3 | tr '\n' ' ')"

# A wrong password: answered by the local table (limit holds), one line.
mt_rr 192.0.2.41 $((LIMIT + 3)) "$T/bad" > "$T/wrong" 2>&1
[ "$(count_of ACCEPT "$T/wrong")" = "$LIMIT" ] && [ "$(count_of REPLYCODE "$T/wrong")" = 3 ] &&
	pass redis/auth-wrong-answered || fail redis/auth-wrong-answered "$(tr '\n' ' ' < "$T/wrong")"
n=$(grep -c 'redis down: reason=auth (WRONGPASS' "$T/bad/log")
[ "$n" = 1 ] && [ "$(grep -c 'redis down' "$T/bad/log")" = 1 ] && pass redis/auth-wrong-one-line ||
	fail redis/auth-wrong-one-line "$n WRONGPASS lines: $(grep redis "$T/bad/log" | tail -n 3 | tr '\n' ' ')"

# Redis stopped: every session answered, fast, by the local table.
redis_stop
start=$(date +%s%N)
mt_rr 192.0.2.42 $((LIMIT + 2)) "$T/good" > "$T/down" 2>&1
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$(count_of ACCEPT "$T/down")" = "$LIMIT" ] && [ "$(wc -l < "$T/down")" = $((LIMIT + 2)) ] &&
	pass redis/auth-down-answered || fail redis/auth-down-answered "in $ms ms: $(tr '\n' ' ' < "$T/down")"
[ "$(grep -c 'redis down' "$T/good/log")" = 1 ] && pass redis/auth-down-one-line ||
	fail redis/auth-down-one-line "$(grep 'redis down' "$T/good/log" | tr '\n' ' ')"

# Back: the breaker's probe (1 s back-off) finds it; one line up.
redis_restart --requirepass pw1 || fail redis/auth-up "redis did not restart"
i=0
knock() { i=$((i + 1)); mt_rr "192.0.2.$((100 + i))" 1 "$T/good" > /dev/null 2>&1; grep -q 'redis up' "$T/good/log"; }
if wait_for 10 knock && [ "$(grep -c 'redis up' "$T/good/log")" = 1 ] &&
    [ "$(evalsha_calls)" -ge 1 ]; then
	pass redis/auth-up
else
	fail redis/auth-up "$(grep redis "$T/good/log" | tail -n 3 | tr '\n' ' ')"
fi
