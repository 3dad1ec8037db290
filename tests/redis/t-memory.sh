# Redis memory per client key (MEMORY USAGE) stays at 120 bytes with a
# prefix of 0, 4 and 13 bytes (the longest redis_key_prefix allows) and a
# 17-byte client key, for a key whose ring is full (ten slots: the largest
# value a window makes), for windows of a minute and of a day.  (A 16-byte
# prefix would cost 136 above 65.5 s: src/redis_window.lua says why.)
# The figures are printed for the bench table.
# checks: 4
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/script.sh"
trap 'redis_stop' EXIT
if ! redis_start "$REDIS_SUITE_TMP/r"; then
	for c in memory-prefix-0 memory-prefix-4 memory-prefix-13 memory-prefix-13-day; do
		fail "redis/$c" "redis_start failed"
	done
	exit 0
fi

# A 17-byte client key after PREFIX; text, since only lengths matter here.
key17=2001db80000000000

# usage PREFIX LIMIT WINDOW_MS: fill one key's ring, print MEMORY USAGE.
# Twelve counted calls (count_refused on) leave ten slots, every one in
# the window; calls with three keys run first, as the daemon's would.
usage() {
	_k="$1$key17"
	rcli DEL "$_k" "${_k}x" "${_k}y" > /dev/null
	for _i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		rwin 3 "$_k" "${_k}x" "${_k}y" 1 "$2" "$3" "$2" "$3" "$2" "$3" > /dev/null
	done
	rcli MEMORY USAGE "$_k"
}

# fig PREFIX LIMIT WINDOW_MS: usage, with the figure on a comment line
# (stderr, which run.sh shows with the rest).
fig() {
	_u=$(usage "$1" "$2" "$3")
	echo "# MEMORY USAGE prefix ${#1} limit $2 window $3 ms: $_u bytes ($(rcli STRLEN "$1$key17")-byte value)" >&2
	echo "$_u"
}
p4=abc: p13=site01234567:
a0=$(fig "" 10 60000); b0=$(fig "" 10 86400000); c0=$(fig "" 9000 86400000)
a4=$(fig $p4 10 60000); b4=$(fig $p4 10 86400000); c4=$(fig $p4 9000 86400000)
a13=$(fig $p13 10 60000); b13=$(fig $p13 10 86400000); c13=$(fig $p13 9000 86400000)
le() { [ -n "$1" ] && [ "$1" -le "$2" ]; }
if le "$a0" 120 && le "$b0" 120 && le "$c0" 120; then
	pass redis/memory-prefix-0
else
	fail redis/memory-prefix-0 "$a0 / $b0 / $c0 bytes, want <= 120"
fi
if le "$a4" 120 && le "$b4" 120 && le "$c4" 120; then
	pass redis/memory-prefix-4
else
	fail redis/memory-prefix-4 "$a4 / $b4 / $c4 bytes, want <= 120"
fi
if le "$a13" 120; then
	pass redis/memory-prefix-13
else
	fail redis/memory-prefix-13 "$a13 bytes at a 60 s window, want <= 120"
fi
if le "$b13" 120 && le "$c13" 120; then
	pass redis/memory-prefix-13-day
else
	fail redis/memory-prefix-13-day "$b13 / $c13 bytes at a one-day window, want <= 120"
fi
