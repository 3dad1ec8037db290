# Bad Redis settings are refused by -n with FILE:LINE and exit 78
# (EX_CONFIG), as every other option: a URL that is no URL or names a
# host, a prefix too long or with a space, a timeout or db out of range,
# a password file anyone may read.  A good one passes; with prefix
# sections -n adds the note that several keys need a single Redis, and
# a Redis on another host gets the warning that the unit blocks it.
# checks: 9
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
BIN=$1 T=$REDIS_SUITE_TMP
pw=$T/pw
printf 'secret\n' > "$pw"
chmod 0600 "$pw"
printf 'secret\n' > "$T/pw-world"
chmod 0644 "$T/pw-world"

# bad NAME LINE EXPECT-TEXT: a config whose line 3 is LINE.
bad() {
	_c=$T/$1.conf
	printf '%s\n' "socket = \"unix:$T/m.sock\"" 'user = "root"' "$2" 'limit = 5' > "$_c"
	"$BIN" -n -f "$_c" > "$T/$1.out" 2>&1
	_rc=$?
	if [ $_rc = 78 ] && grep -q "^$_c:3: .*$3" "$T/$1.out"; then
		pass redis/config-$1
	else
		fail redis/config-$1 "exit $_rc, want 78 and \"$_c:3: ...$3\": $(tr '\n' ' ' < "$T/$1.out")"
	fi
}
bad url-scheme 'redis = "redis://127.0.0.1:6379"' 'expected "unix:/PATH"'
bad url-name 'redis = "tcp:redis.example:6379"' 'is not an IPv4 address'
bad prefix 'redis_key_prefix = "has space"' 'redis_key_prefix contains a space'
bad prefix-long 'redis_key_prefix = "0123456789abcX"' 'at most 13'
bad timeout 'redis_timeout_ms = 0' 'redis_timeout_ms = 0 is out of range (1..5000)'
bad db 'redis_db = -1' 'redis_db = -1 is out of range'
bad password-world "redis_password_file = \"$T/pw-world\"" 'readable or writable by everyone'
c=$T/good.conf
printf '%s\n' "socket = \"unix:$T/m.sock\"" 'user = "root"' 'redis = "tcp:[::1]:6379"' \
    "redis_password_file = \"$pw\"" 'redis_db = 2' 'redis_key_prefix = "site1:"' \
    'redis_timeout_ms = 20' 'prefix ipv4/24 { limit = 50 }' > "$c"
if "$BIN" -n -f "$c" > "$T/good.out" 2>&1 && grep -q 'note: .*single Redis' "$T/good.out"; then
	pass redis/config-good
else
	fail redis/config-good "exit $?: $(tr '\n' ' ' < "$T/good.out")"
fi
c=$T/remote.conf
printf '%s\n' "socket = \"unix:$T/m.sock\"" 'user = "root"' 'redis = "tcp:10.0.0.5:6379"' > "$c"
if "$BIN" -n -f "$c" > "$T/remote.out" 2>&1 && grep -q "warning: redis = .* IPAddressAllow=10.0.0.5" "$T/remote.out" &&
    ! grep -q 'note:' "$T/remote.out"; then
	pass redis/config-remote
else
	fail redis/config-remote "exit $?: $(tr '\n' ' ' < "$T/remote.out")"
fi
