# A server that breaks the stream itself: bytes that are no RESP, half a
# reply then a close, a bulk string or array header far beyond any memory:
# an error, the local table decides, no crash, no wait past the timeout
# (fault.sh fake_case).
# checks: 16
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${1:?usage: t-fake-stream.sh PATH/TO/milter-ratelimit}
. "$HERE/../lib.sh"
FT_NAME=fake-stream
. "$HERE/fault.sh"
trap 'daemons_kill; [ -z "${FT_FAKE_PID:-}" ] || kill -KILL "$FT_FAKE_PID" 2>/dev/null' EXIT
fault_setup
for mode in garbage half hugebulk hugearray; do
	fake_case $mode
done
