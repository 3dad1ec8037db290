# explain after miltertest connections: the key, the rule, the count and
# the seconds until the next connection is accepted, for IPv4, IPv6 (its
# /64 key), an exempt entry and a map entry with its own limit; explain
# itself counts nothing.  The fake clock moves time; the real time that
# passes meanwhile is measured and bounds the milliseconds asked for.
# checks: 10
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
MAP=$W/exempt
printf '%s\n' '192.0.2.7 OK' '198.51.100.0/24 5/2m' > "$MAP.txt"
"$(dirname "$BIN")/ratelimit-map" "$MAP.db" < "$MAP.txt" 2> "$W/map.err" ||
	echo "# ratelimit-map: $(oneline "$W/map.err")"
if ! ctl_start "exempt_map = \"$MAP.db\""; then
	fail control/explain-start "daemon did not come up: $(oneline "$W/log")"
	exit 1
fi
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# IPv4: three connections reach the limit of 3; the fourth would wait
# until the first leaves the 60 s window.
T=control/explain-ipv4-count-rule-retry
t0=$(now_ms)
got=$(conns 192.0.2.10 3 | tr '\n' ' ')
fakeclock_set "$W/clock" 20
ctl explain 192.0.2.10
"$CTL" -s "$W/c.sock" --json explain 192.0.2.10 > "$W/json" 2>&1
t1=$(now_ms)
# The table's figure: 60 s after the first connection, 20 s of it moved
# by the clock and between 0 and t1 - t0 ms really passed.
keyms=$(sed -n 's/.*"key":"192.0.2.10\/32","rule":"global limit","count":3,"limit":3,"window":60,"retry":\([0-9]*\),"retry_ms":\([0-9]*\)}.*/\1 \2/p' "$W/json")
lo=$((40000 - (t1 - t0))); s=${keyms% *}; ms=${keyms#* }
if [ "$got" != "ACCEPT ACCEPT ACCEPT " ]; then
	fail $T "connections got: $got $(cat "$W/mt.err")"
elif [ $CTL_RC != 1 ] || [ "$(field verdict)" != refused ] || [ "$(field key)" != 192.0.2.10/32 ] ||
    [ "$(field rule)" != "global limit" ] || [ "$(field count)" != 3 ] || [ "$(field limit)" != 3 ]; then
	fail $T "rc=$CTL_RC: $(oneline "$W/ctl.out" 12)"
elif [ -z "$keyms" ] || [ "$ms" -gt 40000 ] || [ "$ms" -lt "$lo" ] ||
    [ "$s" != $(( (ms + 999) / 1000 )) ] || [ "$(field retry)" -lt "$s" ] ||
    [ "$(field retry)" -gt 40 ]; then
	fail $T "retry=$(field retry) retry_ms=$ms, want $lo..40000 ms: $(cat "$W/json")"
else
	pass $T
fi

T=control/explain-does-not-count
for i in 1 2 3 4 5; do ctl explain 192.0.2.10; done
if [ "$(field count)" = 3 ]; then pass $T; else fail $T "count now $(field count)"; fi

# At the exact moment the first connection leaves the window the next
# one is accepted: move the clock past it and ask again.
T=control/explain-ipv4-allowed-after-window
fakeclock_set "$W/clock" 61
ctl explain 192.0.2.10
if [ $CTL_RC = 0 ] && [ "$(field verdict)" = allowed ] && [ "$(field count)" = 0 ] &&
    [ "$(field retry)" = 0 ]; then pass $T; else fail $T "rc=$CTL_RC $(oneline "$W/ctl.out" 12)"; fi

T=control/explain-ipv4-refusal-matches-milter
got=$(conns 192.0.2.11 4 | tr '\n' ' ')
ctl explain 192.0.2.11
if [ "$got" = "ACCEPT ACCEPT ACCEPT REPLYCODE " ] && [ "$(field count)" = 4 ] && [ $CTL_RC = 1 ]; then
	pass $T
else
	fail $T "milter: $got; explain rc=$CTL_RC count=$(field count)"
fi

# IPv6: counted per /64; another address of the same /64 is the same key.
T=control/explain-ipv6-64-key
got=$(conns 2001:db8:1:2::5 3 | tr '\n' ' ')
ctl explain 2001:db8:1:2::ffff
if [ "$got" = "ACCEPT ACCEPT ACCEPT " ] && [ $CTL_RC = 1 ] &&
    [ "$(field key)" = 2001:db8:1:2::/64 ] && [ "$(field count)" = 3 ] &&
    [ "$(field client)" = 2001:db8:1:2::ffff ]; then
	pass $T
else
	fail $T "milter: $got; rc=$CTL_RC $(oneline "$W/ctl.out" 12)"
fi
T=control/explain-ipv6-other-64
ctl explain 2001:db8:1:3::5
if [ $CTL_RC = 0 ] && [ "$(field count)" = 0 ] && [ "$(field key)" = 2001:db8:1:3::/64 ]; then
	pass $T; else fail $T "rc=$CTL_RC $(oneline "$W/ctl.out" 12)"; fi

# An OK entry: exempt (exit 2), its entry named, never counted.
T=control/explain-exempt
conns 192.0.2.7 5 > /dev/null
ctl explain 192.0.2.7
if [ $CTL_RC = 2 ] && [ "$(field verdict)" = exempt ] &&
    [ "$(field entry)" = "map entry 192.0.2.7/32 (OK)" ] && ! grep -q '^count' "$W/ctl.out"; then
	pass $T; else fail $T "rc=$CTL_RC $(oneline "$W/ctl.out" 12)"; fi

# A map entry with its own limit (5 per 2 minutes) for a /24.
T=control/explain-map-entry-limit
t0=$(now_ms)
got=$(conns 198.51.100.9 5 | tr '\n' ' ')
ctl explain 198.51.100.9
t1=$(now_ms)
if [ "$got" = "ACCEPT ACCEPT ACCEPT ACCEPT ACCEPT " ] && [ $CTL_RC = 1 ] &&
    [ "$(field count)" = 5 ] && [ "$(field limit)" = 5 ] && [ "$(field window)" = 120 ] &&
    [ "$(field rule)" = "map entry 198.51.100.0/24 (5/120s)" ] &&
    [ "$(field retry)" -le 120 ] && [ "$(field retry)" -ge $(( 120 - (t1 - t0) / 1000 - 1 )) ]; then
	pass $T
else
	fail $T "milter: $got; rc=$CTL_RC $(oneline "$W/ctl.out" 14)"
fi
T=control/explain-map-entry-neighbour
ctl explain 198.51.100.10
if [ $CTL_RC = 0 ] && [ "$(field count)" = 0 ] && [ "$(field rule)" = "map entry 198.51.100.0/24 (5/120s)" ]; then
	pass $T; else fail $T "rc=$CTL_RC $(oneline "$W/ctl.out" 12)"; fi

T=control/explain-bad-address
ctl explain 192.0.2.300
if [ $CTL_RC = 64 ] && grep -q 'not an IP address' "$W/ctl.err"; then pass $T; else
	fail $T "rc=$CTL_RC $(oneline "$W/ctl.err")"; fi
