# The counter script (src/redis_window.lua) from the shell.  Source it
# after tests/lib.sh and tests/redis/server.sh, with HERE set to tests/redis.
#
# rwin NKEYS KEY... COUNT_REFUSED LIMIT WINDOW_MS ...: EVAL the script on
#   the private server; prints the reply one element a line, an error
#   reply as "(error) ..." (redis-cli --no-raw), so a test can tell them
#   apart.
# rwin_field N ARGS...: element N (1-based) of that reply, "error" for an
#   error reply.

REDIS_SCRIPT=${REDIS_SCRIPT:-$(cd "$HERE/../.." && pwd)/src/redis_window.lua}

rwin() { rcli --no-raw EVAL "$(cat "$REDIS_SCRIPT")" "$@"; }

rwin_field() {
	_n=$1; shift
	_r=$(rwin "$@")
	case $_r in
	'(error)'*) echo error ;;
	*) printf '%s\n' "$_r" | sed -n "${_n}s/^ *[0-9]*) (integer) //p" ;;
	esac
}
