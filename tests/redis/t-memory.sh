# Redis memory per client key (MEMORY USAGE) stays at 120 bytes with a
# prefix of 0, 4 and 16 bytes and a 17-byte client key, for a key whose
# ring is full (ten slots: the largest value a window makes).  With a
# 16-byte prefix that holds for windows up to 65.5 s; a longer window
# costs 136 (src/redis_window.lua says why); shorter prefixes hold 120 for
# every window.  The figures are printed for the lead's table.
# checks: 4
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/script.sh"
trap 'redis_stop' EXIT
if ! redis_start "$REDIS_SUITE_TMP/r"; then
	for c in memory-prefix-0 memory-prefix-4 memory-prefix-16 memory-prefix-16-day; do
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
p4=abc: p16=site0123456789a:
a0=$(fig "" 10 60000); b0=$(fig "" 10 86400000); c0=$(fig "" 9000 86400000)
a4=$(fig $p4 10 60000); b4=$(fig $p4 10 86400000); c4=$(fig $p4 9000 86400000)
a16=$(fig $p16 10 60000); b16=$(fig $p16 10 86400000); c16=$(fig $p16 9000 86400000)
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
if le "$a16" 120; then
	pass redis/memory-prefix-16
else
	fail redis/memory-prefix-16 "$a16 bytes at a 60 s window, want <= 120"
fi
if le "$b16" 136 && le "$c16" 136; then
	pass redis/memory-prefix-16-day
else
	fail redis/memory-prefix-16-day "$b16 / $c16 bytes at a one-day window, want <= 136"
fi
