#!/bin/sh
# The metrics suite: the Prometheus endpoint, read back by a real Prometheus (issue 13).
#
#   tests/metrics/run.sh PATH/TO/milter-ratelimit
#
# One behaviour per file: every tests/metrics/t-*.sh, in name order.  Each
# file says how many checks it reports in a header line "# checks: N";
# the plan is their sum, so a file that dies half way fails the suite
# (tests/run.sh holds it to the plan).  Each file is run as
#   sh t-NAME.sh PATH/TO/milter-ratelimit
# with METRICS_SUITE_TMP set to a scratch directory of its own (removed
# unless a check failed or MRL_KEEP_LOGS is set).  Every daemon and
# Prometheus is started by the tests themselves (tests/metrics/lib.sh) on
# private sockets and loopback ports; the machine's Prometheus service is never used.
set -u
BIN=${1:?usage: tests/metrics/run.sh PATH/TO/milter-ratelimit}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/../filesuite.sh"
file_suite metrics METRICS_SUITE_TMP "$BIN"
