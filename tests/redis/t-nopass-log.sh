# The password never reaches the log, not even through the server's
# words: an error reply is logged (its first 60 bytes), and a server that
# does not know AUTH (renamed away with rename-command, or a proxy that
# lacks it) answers "ERR unknown command 'AUTH', with args beginning
# with: 'PASSWORD'": logged as it came, the password's first bytes were in
# the "redis down" line.  The line must still say why (auth's reason).
# checks: 2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/daemon.sh"
BIN=$1 T=$REDIS_SUITE_TMP
trap 'mrl_stop_all; redis_stop' EXIT
if ! redis_start "$T/r" --rename-command AUTH '""'; then
	for c in nopass-log nopass-reason; do fail "redis/$c" "no redis"; done
	exit 0
fi
umask 077
echo 'Xq7sEcReT' > "$T/pw"
mrl_start "$T/d" "redis = \"unix:$REDIS_SOCK\"" "redis_password_file = \"$T/pw\"" \
    'redis_timeout_ms = 1000' ||
	{ for c in nopass-log nopass-reason; do fail "redis/$c" "daemon did not start"; done; exit 0; }
mt_rr 192.0.2.61 2 "$T/d" > "$T/sess" 2>&1
wait_for 5 grep -q 'redis down' "$T/d/log"
echo "# $(grep 'redis down' "$T/d/log" | head -n 1)"
if grep -q 'Xq7' "$T/d/log"; then
	fail redis/nopass-log "the log holds the password's start: $(grep Xq7 "$T/d/log" | head -n 1)"
else
	pass redis/nopass-log
fi
if grep -q 'redis down: reason=' "$T/d/log"; then
	pass redis/nopass-reason
else
	fail redis/nopass-reason "no redis down line: $(grep redis "$T/d/log" | tail -n 2 | tr '\n' ' ')"
fi
