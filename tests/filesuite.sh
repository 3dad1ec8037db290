# A suite of one-behaviour files (tests/redis, tests/control,
# tests/metrics).  Source it after tests/lib.sh, then call
#
#   file_suite NAME TMPVAR BIN [BOUND]
#
# Every tests/NAME/t-*.sh, in name order, says how many checks it reports
# in a header line "# checks: N"; the plan is their sum, so a file that
# dies half way fails the suite (tests/run.sh holds it to the plan).  Each
# file runs as `sh t-X.sh BIN` with the environment variable TMPVAR set to
# a scratch directory of its own (0755, so checks run as nobody reach it),
# removed unless a check failed or MRL_KEEP_LOGS is set, and is stopped
# after BOUND seconds (default 120): a hung file cannot hang CI.
file_suite() {
	_fs_name=$1 _fs_var=$2 _fs_bin=$3 _fs_bound=${4:-120}
	_fs_dir=$(cd "$(dirname "$0")" && pwd)
	_fs_start=$(date +%s)
	_fs_n=0
	for _fs_t in "$_fs_dir"/t-*.sh; do
		[ -e "$_fs_t" ] || continue
		_fs_c=$(sed -n 's/^# checks: \([0-9][0-9]*\)$/\1/p' "$_fs_t" | head -n 1)
		_fs_n=$((_fs_n + ${_fs_c:-0}))
	done
	PLAN_NAME=$_fs_name plan $_fs_n
	for _fs_t in "$_fs_dir"/t-*.sh; do
		[ -e "$_fs_t" ] || continue
		_fs_f=$(basename "$_fs_t" .sh)
		_fs_tmp=$(mktemp -d "${TMPDIR:-/tmp}/mrl-$_fs_name-$_fs_f.XXXXXX")
		chmod 0755 "$_fs_tmp"
		env "$_fs_var=$_fs_tmp" timeout -k 5 "$_fs_bound" sh "$_fs_t" "$_fs_bin" \
		    > "$_fs_tmp/out" 2>&1
		_fs_rc=$?
		cat "$_fs_tmp/out"
		if grep -q '^FAIL: ' "$_fs_tmp/out" || [ $_fs_rc != 0 ] || [ -n "${MRL_KEEP_LOGS:-}" ]; then
			echo "# $_fs_f: rc=$_fs_rc, work directory kept: $_fs_tmp"
		else
			rm -rf "$_fs_tmp"
		fi
	done
	echo "# $_fs_name suite took $(( $(date +%s) - _fs_start )) s"
}
