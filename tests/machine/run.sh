#!/bin/sh
# The machine suite, last in `make check`: the machine is as it was.
# The Makefile's check target snapshots it (tests/machine/snap.sh) before
# the deps step (BUILD_DIR/machine/before) and after it
# (BUILD_DIR/machine/deps); this suite takes a third snapshot now, after
# every other suite, and holds the three to tests/machine/checks.sh:
# the deps step removed no package (its upgrades are noted) and enabled
# nothing, /etc/hosts.allow and /usr/sbin/policy-rc.d are as before it,
# and the suites changed no package (not even a version), enabled
# nothing, changed nothing under /etc and left no daemon running.
# A package's own install may change /etc (that is the deps step's part
# and is not held against it); nothing after it may.
#
# First, a self-test: checks.sh on made-up snapshots, each with one
# thing wrong, must fail that check (and a clean set must pass them all).
#
#   sh tests/machine/run.sh BUILD_DIR/milter-ratelimit
#
# Without the real snapshots (the suite run alone) their checks are skipped.
set -u
BIN=${1:?usage: tests/machine/run.sh BUILD_DIR/milter-ratelimit}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/../lib.sh"
export LC_ALL=C
NAMES=$(sh "$here/checks.sh" --names)
# The self-test's cases: NAME, the check it must fail (or "none": all pass).
CASES="clean:none deps-removed:deps-removed-no-package deps-enabled:deps-enabled-nothing
    hosts-allow:hosts-allow-unchanged policy-rc-d-left:policy-rc-d-unchanged
    suites-upgraded:suites-changed-no-package suites-removed:suites-changed-no-package
    suites-enabled:suites-enabled-nothing suites-etc:suites-left-etc-alone
    suites-process:suites-left-no-process suites-daemon:suites-left-no-process"
plan $(( $(echo $NAMES | wc -w) + $(echo $CASES | wc -w) + 1 ))

work=$(mktemp -d "${TMPDIR:-/tmp}/milter-ratelimit-machine.XXXXXX") || exit 1
cleanup() { [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the self-test --------------------------------------------------------------

# fake DIR: a made-up snapshot, the same every time.
fake() {
	mkdir -p "$1"
	printf 'libc6 2.36-9\nlibmilter1.0.1 8.17.1.9-2\nmiltertest 8.17.1.9-2\n' > "$1/packages"
	printf '/etc/rc2.d/S01dbus\n/etc/systemd/system/multi-user.target.wants/cron.service -> /lib/systemd/system/cron.service\n' > "$1/enabled"
	echo absent > "$1/hosts.allow"
	echo 1111 > "$1/policy-rc.d"
	printf '/etc\td 755 root:root\n/etc/passwd\tf 644 root:root 900 \n/etc/passwd\tsha256 aaaa\n' > "$1/etc"
	printf '1\t21\t0\tinit\t/sbin/init\n2\t21\t0\tkthreadd\t\n500\t900\t1\tcron\t/usr/sbin/cron -f\n' > "$1/procs"
	echo "made up" > "$1/when"
}
# selftest CASE CHECK: checks.sh on the made-up snapshots CASE edits must
# fail CHECK and only it ("none": fail nothing).
selftest() {
	_c=$work/self/$1
	fake "$_c/before"; fake "$_c/deps"; fake "$_c/now"
	# the runner of the suites, and a process of its own (not a leftover);
	# another source tree's suite and its daemon (not this run's)
	printf '7000\t5000\t1\tsh\tsh tests/run.sh build\n7001\t5001\t7000\tsleep\tsleep 1 %s\n' "$top" >> "$_c/now/procs"
	printf '9000\t5000\t1\tsh\tsh /work/other/tests/reload/run.sh /work/other/build/milter-ratelimit\n' >> "$_c/now/procs"
	printf '9001\t5001\t9000\tmilter-ratelimi\t/work/other/build/milter-ratelimit -d -f /tmp/x/conf\n' >> "$_c/now/procs"
	sort -o "$_c/now/procs" "$_c/now/procs"
	case $1 in
	deps-removed) sed -i '/^miltertest /d' "$_c/deps/packages" "$_c/now/packages" ;;
	deps-enabled) echo "/etc/rc2.d/S01rsyslog" >> "$_c/deps/enabled"; echo "/etc/rc2.d/S01rsyslog" >> "$_c/now/enabled" ;;
	hosts-allow) echo bbbb > "$_c/now/hosts.allow" ;;
	policy-rc-d-left) echo 2222 > "$_c/deps/policy-rc.d"; echo 2222 > "$_c/now/policy-rc.d" ;;
	suites-upgraded) sed -i 's/^libc6 .*/libc6 2.36-9+deb12u4/' "$_c/now/packages" ;;
	suites-removed) sed -i '/^libmilter1.0.1 /d' "$_c/now/packages" ;;
	suites-enabled) echo "/etc/systemd/system/multi-user.target.wants/mrl.service -> /lib/systemd/system/mrl.service" >> "$_c/now/enabled" ;;
	suites-etc) sed -i 's/sha256 aaaa/sha256 cccc/' "$_c/now/etc" ;;
	suites-process) printf '8000\t6000\t1\trsyslogd\t/tmp/x/usr/sbin/rsyslogd -f /tmp/x/rsyslog.conf\n' >> "$_c/now/procs" ;;
	suites-daemon) printf '8001\t6000\t1\tmilter-ratelimi\t%s/build/milter-ratelimit -f /tmp/x/conf\n' "$top" >> "$_c/now/procs" ;;
	esac
	for _f in "$_c"/*/*; do sort -o "$_f" "$_f"; done
	sh "$here/checks.sh" m "$_c/before" "$_c/deps" "$_c/now" 7000 "$top" > "$_c/out" 2>&1
	_failed=$(sed -n 's,^FAIL: m/\([^:]*\):.*,\1,p' "$_c/out" | tr '\n' ' ')
	_passed=$(grep -c '^PASS: ' "$_c/out")
	_n=$(echo $NAMES | wc -w)
	if [ "$2" = none ] && [ -z "$_failed" ] && [ "$_passed" = "$_n" ]; then
		pass "machine/selftest-$1"
	elif [ "$2" != none ] && [ "$_failed" = "$2 " ] && [ "$_passed" = $((_n - 1)) ]; then
		pass "machine/selftest-$1"
	else
		fail "machine/selftest-$1" "want FAIL of ${2}, got FAIL of '${_failed}' and $_passed PASS: $(head -c 400 "$_c/out" | tr '\n' ' ')"
	fi
}
for c in $CASES; do selftest "${c%%:*}" "${c#*:}"; done
# An upgrade by the deps step is noted, not failed.
_c=$work/self/deps-upgraded
fake "$_c/before"; fake "$_c/deps"; fake "$_c/now"
sed -i 's/^libc6 .*/libc6 2.36-9+deb12u4/' "$_c/deps/packages" "$_c/now/packages"
sh "$here/checks.sh" m "$_c/before" "$_c/deps" "$_c/now" 7000 "$top" > "$_c/out" 2>&1
if ! grep -q '^FAIL' "$_c/out" && grep -q '^# the deps step upgraded.*changed libc6 2.36-9 -> 2.36-9+deb12u4' "$_c/out"; then
	pass "machine/selftest-deps-upgrade-noted"
else
	fail "machine/selftest-deps-upgrade-noted" "$(head -c 400 "$_c/out" | tr '\n' ' ')"
fi

# --- the machine ----------------------------------------------------------------

S=$(cd "$(dirname "$BIN")" && pwd)/machine
if [ ! -s "$S/before/packages" ] || [ ! -s "$S/deps/etc" ]; then
	for n in $NAMES; do
		skip "machine/$n" "no snapshots in $S (make check takes them around the deps step)"
	done
	exit $((${FAILED:-0} > 0))
fi
if ! sh "$here/snap.sh" "$work/now" 2> "$work/snap.err"; then
	for n in $NAMES; do fail "machine/$n" "snapshot failed: $(head -c 300 "$work/snap.err")"; done
	exit 1
fi
echo "# snapshots: before deps $(cat "$S/before/when"), after deps $(cat "$S/deps/when"), now $(cat "$work/now/when")" >&2
# The runner: the nearest ancestor running tests/run.sh (its tree is ours),
# else our parent.
runner=$PPID
p=$$
for _ in $(seq 1 50); do
	p=$(awk '{ sub(/.*\) /, ""); print $2 }' "/proc/$p/stat" 2>/dev/null) || break
	case $p in ''|0|1) break ;; esac
	if tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q 'tests/run\.sh'; then runner=$p; fi
done
sh "$here/checks.sh" machine "$S/before" "$S/deps" "$work/now" "$runner" "$top" || FAILED=$((${FAILED:-0} + 1))
[ "${FAILED:-0}" = 0 ]
