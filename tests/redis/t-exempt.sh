# Clients the daemon decides alone never reach Redis: an exempt client
# (map OK entry), a listener with mode "off" and a connection without an
# address leave INFO commandstats' EVALSHA calls unchanged; a counted
# client adds one call per connection (so the count is the right one).
# checks: 4
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/daemon.sh"
BIN=$1 T=$REDIS_SUITE_TMP
trap 'mrl_stop_all; redis_stop' EXIT
evalsha_calls() { rcli INFO commandstats | tr -d '\r' | sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),.*/\1/p' | grep . || echo 0; }
redis_start "$T/r" || { for c in ok off noaddr counted; do fail redis/exempt-$c "no redis"; done; exit 0; }
mkdir -p "$T/map"
printf '%s\n' '192.0.2.7 OK' '2001:db8:7::/48 OK' > "$T/map/src"
"$(dirname "$BIN")/ratelimit-map" "$T/map/exempt.db" < "$T/map/src" 2> "$T/map/err" ||
	fail redis/exempt-ok "ratelimit-map: $(cat "$T/map/err")"
mrl_start "$T/m" "redis = \"unix:$REDIS_SOCK\"" 'redis_timeout_ms = 1000' \
    "exempt_map = \"$T/map/exempt.db\"" 'listener 587 { mode = "off" }' ||
	{ for c in ok off noaddr counted; do fail redis/exempt-$c "daemon did not start"; done; exit 0; }
before=$(evalsha_calls)
mt_rr 192.0.2.7 5 "$T/m" > "$T/ok" 2>&1
mt_rr 2001:db8:7::9 5 "$T/m" >> "$T/ok" 2>&1
after=$(evalsha_calls)
[ "$(count_of ACCEPT "$T/ok")" = 10 ] && [ "$after" = "$before" ] && pass redis/exempt-ok ||
	fail redis/exempt-ok "EVALSHA calls $before -> $after; replies: $(tr '\n' ' ' < "$T/ok")"
# {daemon_port} 587: the listener section with mode off.
timeout -k 2 30 miltertest -D sock="unix:$T/m/m.sock" -D lib="$HERE/../mtlib.lua" -s "$HERE/off.lua" > "$T/off" 2>&1
after2=$(evalsha_calls)
[ "$(count_of ACCEPT "$T/off")" = 5 ] && [ "$after2" = "$after" ] && pass redis/exempt-off ||
	fail redis/exempt-off "EVALSHA calls $after -> $after2; $(tr '\n' ' ' < "$T/off")"
mt_rr unspec 3 "$T/m" > "$T/noaddr" 2>&1
after3=$(evalsha_calls)
[ "$(count_of ACCEPT "$T/noaddr")" = 3 ] && [ "$after3" = "$after2" ] && pass redis/exempt-noaddr ||
	fail redis/exempt-noaddr "EVALSHA calls $after2 -> $after3; $(tr '\n' ' ' < "$T/noaddr")"
mt_rr 192.0.2.8 2 "$T/m" > "$T/counted" 2>&1
after4=$(evalsha_calls)
[ "$after4" = $((after3 + 2)) ] && pass redis/exempt-counted ||
	fail redis/exempt-counted "a counted client: EVALSHA calls $after3 -> $after4, want +2"
