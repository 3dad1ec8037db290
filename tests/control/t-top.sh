# top: the heaviest keys, in order, with count, limit and retry; N bounds
# the listing; --json gives the same rows.
# checks: 3
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
if ! ctl_start 'limit = 20'; then
	fail control/top-start "daemon did not come up: $(oneline "$W/log")"
	exit 1
fi
conns 192.0.2.31 2 > /dev/null
conns 192.0.2.32 7 > /dev/null
conns 192.0.2.33 4 > /dev/null
conns 2001:db8:9::1 5 > /dev/null
conns 192.0.2.34 1 > /dev/null

T=control/top-order
ctl top
keys=$(awk 'NR > 1 { print $1 ":" $2 }' "$W/ctl.out" | tr '\n' ' ')
if [ $CTL_RC = 0 ] && [ "$keys" = "192.0.2.32/32:7 2001:db8:9::/64:5 192.0.2.33/32:4 192.0.2.31/32:2 192.0.2.34/32:1 " ] &&
    head -n 1 "$W/ctl.out" | grep -q '^KEY  *COUNT  *LIMIT  *WINDOW  *RETRY  *RULE$'; then
	pass $T; else fail $T "rc=$CTL_RC: $(oneline "$W/ctl.out" 8)"; fi

T=control/top-n
ctl top 2
keys=$(awk 'NR > 1 { print $1 }' "$W/ctl.out" | tr '\n' ' ')
if [ "$keys" = "192.0.2.32/32 2001:db8:9::/64 " ]; then pass $T; else fail $T "top 2: $keys"; fi

T=control/top-json
"$CTL" -s "$W/c.sock" --json top 1 > "$W/json" 2>&1
if grep -qx '\[{"key":"192.0.2.32/32","rule":"global limit","count":7,"limit":20,"window":60,"retry":0,"retry_ms":0}\]' "$W/json"; then
	pass $T; else fail $T "$(cat "$W/json")"; fi
