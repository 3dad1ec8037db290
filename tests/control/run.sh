#!/bin/sh
# The control suite: the control socket and ratelimit-ctl (issue 13)
# against the real daemon, driven by miltertest.
#
#   sh tests/control/run.sh PATH/TO/milter-ratelimit
#
# One behaviour per file: every tests/control/t-*.sh, in name order.  Each
# file says how many checks it reports in a header line "# checks: N";
# the plan is their sum (tests/run.sh holds the suite to it).  Each runs
# as `sh t-NAME.sh PATH/TO/milter-ratelimit` with CONTROL_SUITE_TMP a
# scratch directory of its own (0755: the nobody checks reach it),
# removed unless a check failed or MRL_KEEP_LOGS is set.  ratelimit-ctl
# is taken from beside the daemon.  Daemons run on the fake clock
# (tests/lib.sh fakeclock_*): nothing sleeps for time to pass.
set -u
BIN=${1:?usage: tests/control/run.sh PATH/TO/milter-ratelimit}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
PLAN_NAME=control
start=$(date +%s)

n=0
for t in "$HERE"/t-*.sh; do
	[ -e "$t" ] || continue
	c=$(sed -n 's/^# checks: \([0-9][0-9]*\)$/\1/p' "$t" | head -n 1)
	n=$((n + ${c:-0}))
done
plan $n

for t in "$HERE"/t-*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/mrl-control-$name.XXXXXX")
	chmod 0755 "$tmp"
	out=$tmp/out
	CONTROL_SUITE_TMP=$tmp timeout -k 5 60 sh "$t" "$BIN" > "$out" 2>&1
	rc=$?
	cat "$out"
	if grep -q '^FAIL: ' "$out" || [ $rc != 0 ] || [ -n "${MRL_KEEP_LOGS:-}" ]; then
		echo "# $name: rc=$rc, work directory kept: $tmp"
	else
		rm -rf "$tmp"
	fi
done
echo "# control suite took $(( $(date +%s) - start )) s"
