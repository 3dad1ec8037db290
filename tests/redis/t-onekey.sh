# The script touches only the keys it is given (KEYS), so a call with one
# key runs on a Redis Cluster too and leaves nothing else behind: after a
# call with n = 1 the db holds exactly that key; calls through a user
# whose ACL allows only keys under the prefix succeed (Redis checks every
# key a script's commands name against the caller's ACL); and the only
# commands run are GET, SET and TIME.
# checks: 3
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/server.sh"
. "$HERE/script.sh"
trap 'redis_stop' EXIT
if ! redis_start "$REDIS_SUITE_TMP/r"; then
	for c in onekey-dbsize onekey-acl onekey-commands; do fail "redis/$c" "redis_start failed"; done
	exit 0
fi

rcli CONFIG RESETSTAT > /dev/null
# A refused call and a counted one too: every path of the script.
for cr in 0 0 1 1; do rwin 1 p:client1 $cr 1 60000 > /dev/null; done
n=$(rcli DBSIZE)
keys=$(rcli --scan | tr '\n' ' ')
if [ "$n" = 1 ] && [ "$keys" = "p:client1 " ]; then
	pass redis/onekey-dbsize
else
	fail redis/onekey-dbsize "DBSIZE $n, keys: $keys"
fi

# A user that may run scripts and GET/SET/TIME on p:* only.  The check
# itself is shown to bite: a key outside the prefix is refused (NOPERM).
rcli ACL SETUSER onlyp on nopass resetkeys '~p:*' -@all +eval +evalsha +get +set +time > /dev/null
as_user() { "$REDIS_CLI" -s "$REDIS_SOCK" --user onlyp --pass x --no-raw "$@" 2>/dev/null; }
script=$(cat "$REDIS_SCRIPT")
r1=$(as_user EVAL "$script" 1 p:client2 0 5 60000)
r3=$(as_user EVAL "$script" 3 p:a p:b p:c 1 5 60000 2 1000 300 2000)
bad=$(as_user EVAL "$script" 1 q:other 0 5 60000)
case "$r1$r3" in
*'(error)'*) ok=no ;;
*) ok=yes ;;
esac
case $bad in
*NOPERM*|*'No permissions'*) bites=yes ;;
*) bites=no ;;
esac
if [ $ok = yes ] && [ $bites = yes ] && [ "$(rcli DBSIZE)" = 5 ]; then
	pass redis/onekey-acl
else
	fail redis/onekey-acl "calls under p:* ok: $ok; a key outside refused: $bites ($bad); DBSIZE $(rcli DBSIZE)"
fi

# INFO commandstats: nothing but the script, GET, SET and TIME ran (and
# what the test itself sent: CONFIG, DBSIZE, SCAN, ACL, AUTH, INFO).
cmds=$(rcli INFO commandstats | sed -n 's/^cmdstat_\([^:]*\):.*/\1/p' | sort | tr '\n' ' ')
other=$(echo "$cmds" | tr ' ' '\n' | grep -vxE 'eval|evalsha|get|set|time|config\|resetstat|dbsize|scan|acl\|setuser|auth|info|' | tr '\n' ' ')
if [ -z "$other" ] && echo "$cmds" | grep -qw get && echo "$cmds" | grep -qw set && echo "$cmds" | grep -qw time; then
	pass redis/onekey-commands
else
	fail redis/onekey-commands "commands run: $cmds (unexpected: $other)"
fi
