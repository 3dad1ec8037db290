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
. "$HERE/../filesuite.sh"
file_suite control CONTROL_SUITE_TMP "$BIN" 60
