# A server that answers the counter script with a reply of the wrong type
# (a bulk string, an array too short or too long, nil, an error, strings or
# arrays for integers): the daemon counts an error, the local table
# decides, and the daemon neither crashes nor stalls (fault.sh fake_case).
# checks: 32
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${1:?usage: t-fake-replies.sh PATH/TO/milter-ratelimit}
. "$HERE/../lib.sh"
FT_NAME=fake-replies
. "$HERE/fault.sh"
trap 'daemons_kill; [ -z "${FT_FAKE_PID:-}" ] || kill -KILL "$FT_FAKE_PID" 2>/dev/null' EXIT
fault_setup
for mode in bulk short long nil nilarray error strings nested; do
	fake_case $mode
done
