#!/bin/sh
# The Redis suite: milter-ratelimit counting in a shared Redis (issue 12).
#
#   tests/redis/run.sh PATH/TO/milter-ratelimit
#
# One behaviour per file: every tests/redis/t-*.sh, in name order.  Each
# file says how many checks it reports in a header line "# checks: N";
# the plan is their sum, so a file that dies half way fails the suite
# (tests/run.sh holds it to the plan).  Each file is run as
#   sh t-NAME.sh PATH/TO/milter-ratelimit
# with REDIS_SUITE_TMP set to a scratch directory of its own (removed
# unless a check failed or MRL_KEEP_LOGS is set).  Every redis-server is
# started by the tests themselves (tests/redis/server.sh) on a private
# unix socket and a loopback port, never the machine's own.
set -u
BIN=${1:?usage: tests/redis/run.sh PATH/TO/milter-ratelimit}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/../filesuite.sh"
file_suite redis REDIS_SUITE_TMP "$BIN"
