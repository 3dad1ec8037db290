#!/bin/sh
# The deps suite: tests/deps.sh, with the real TEST_DEPS list (make
# print-deps) and the real apt, on made-up machines where the other MTA
# is installed.  Nothing is installed: deps.sh runs in simulate mode
# (DEPS_ADMINDIR) against a dpkg database of our own making.
#
#   sh tests/deps/run.sh [PATH/TO/milter-ratelimit]   (the binary is unused)
#
# The machines: a fresh Debian (its required packages and apt, as apt would
# install them on an empty system) plus Postfix, or plus Debian's sendmail
# (sendmail, sendmail-bin, sendmail-base, sendmail-cf), each with what it
# depends on.  Their status files are built from `apt-cache show` of the
# exact versions apt picks.  Needs apt lists (apt-get update), no root.
#
# Then what deps.sh does around a real install, with a fake apt-get, one
# behaviour per file, each in a private mount namespace of its own (root;
# skipped otherwise; tests/deps/ns.sh): NS_TESTS below.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/../lib.sh"
# signal.sh: SIGHUP, SIGINT, SIGTERM during the install clean up, exit non-zero
# failed-install.sh: a failed apt-get install still has its enable links undone
# links.sh: only the new packages' enable links are undone (not masks, aliases, others')
# upgrades.sh: upgrades named before the install; needrestart suspended
NS_TESTS="signal failed-install links upgrades"
ns_n=0
for t in $NS_TESTS; do
	ns_n=$((ns_n + $(sh "$here/$t.sh" "$top" --names | wc -w)))
done
plan $((5 + ns_n))

# The namespace tests first: they need no apt lists.
for t in $NS_TESTS; do
	if [ "$(id -u)" = 0 ]; then
		timeout -k 5 300 sh "$here/$t.sh" "$top"
	else
		for n in $(sh "$here/$t.sh" "$top" --names); do
			skip "deps/$n" "needs root (a private mount namespace)"
		done
	fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/milter-ratelimit-deps.XXXXXX") || exit 1
cleanup() { [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

oneline() { printf '%s' "$1" | tr '\n\t' '  ' | cut -c1-600; }
NAMES="postfix-host-removes-nothing sendmail-host-removes-nothing postfix-host-refuses-sendmail-bin
    sendmail-host-refuses-postfix plan-installs-no-mta-syslog-fail2ban"
fail_all() { for _n in $NAMES; do fail "deps/$_n" "$1"; done; exit 1; }

TEST_DEPS=$(make -s -C "$top" print-deps 2>/dev/null | sed -n 's/^TEST_DEPS //p')
[ -n "$TEST_DEPS" ] || fail_all "make print-deps gave no TEST_DEPS"
[ -n "$(ls /var/lib/apt/lists/ 2>/dev/null | grep -v -e lock -e partial)" ] ||
	fail_all "no apt lists (apt-get update)"

# status_add ADMINDIR PKG...: apt's plan for installing PKG... on the
# machine ADMINDIR describes, applied to ADMINDIR/status: every package it
# would install (or upgrade) gets the stanza of the version apt picked,
# marked installed.
status_add() {
	_a=$1; shift
	apt-get -s -q -o Dir::State::status="$_a/status" install --no-install-recommends "$@" \
	    > "$_a/plan" 2>&1 || { echo "apt-get -s install $*: $(oneline "$(tail -n 3 "$_a/plan")")"; return 1; }
	sed -n 's/^Inst \([^ ]*\) \(\[[^]]*\] \)\{0,1\}(\([^ ]*\) .*/\1=\3/p' "$_a/plan" > "$_a/picked"
	[ -s "$_a/picked" ] || { echo "apt plans no install for $*"; return 1; }
	# One stanza per package=version (the first list that has it), with
	# the fields of an installed package only.
	apt-cache show $(cat "$_a/picked") 2>/dev/null | awk -v RS= -v ORS='\n\n' '
	    { n = $0; sub(/\n.*/, "", n) }
	    !seen[n]++ {
		out = ""
		k = split($0, l, "\n")
		for (i = 1; i <= k; i++) {
			if (l[i] ~ /^(Filename|Size|MD5sum|SHA1|SHA256|Description-md5|Tag):/) { skip = 1; continue }
			if (l[i] ~ /^[^ ]/) skip = 0
			if (skip) continue
			out = out l[i] "\n"
			if (i == 1) out = out "Status: install ok installed\n"
		}
		printf "%s\n", out
	    }' > "$_a/new"
	[ "$(grep -c '^Package: ' "$_a/new")" = "$(wc -l < "$_a/picked")" ] ||
		{ echo "apt-cache show gave $(grep -c '^Package: ' "$_a/new") stanzas for $(wc -l < "$_a/picked") packages"; return 1; }
	# Upgraded packages lose their old stanza.
	sed 's/=.*//' "$_a/picked" | sort -u > "$_a/names"
	awk -v RS= -v ORS='\n\n' 'NR == FNR { up[$0] = 1; next }
	    { n = $2 } !(n in up)' FS='\n' "$_a/names" FS=' ' "$_a/status" > "$_a/status.new"
	cat "$_a/new" >> "$_a/status.new" && mv "$_a/status.new" "$_a/status"
}

# machine NAME PKG...: $work/NAME, a dpkg database of the fresh machine
# plus PKG... installed.
machine() {
	_m=$work/$1; shift
	mkdir -p "$_m/updates" "$_m/info"
	cp "$work/fresh/status" "$_m/status"
	status_add "$_m" "$@" || return 1
	for _p in "$@"; do
		dpkg-query --admindir="$_m" -W -f='${Status}\n' "$_p" 2>/dev/null | grep -q '^install ok installed$' ||
			{ echo "$_p not installed in the made-up $_m"; return 1; }
	done
}

# The fresh machine: Debian's required packages (as this machine names
# them) and apt, installed on an empty system.
mkdir -p "$work/fresh/updates" "$work/fresh/info"
: > "$work/fresh/status"
required=$(dpkg-query -W -f='${Package} ${Priority}\n' | awk '$2 == "required" { print $1 }')
why=$(status_add "$work/fresh" $required apt) || fail_all "fresh machine: $why"
why=$(machine postfix postfix) || fail_all "postfix machine: $why"
why=$(machine sendmail sendmail sendmail-bin sendmail-base sendmail-cf) || fail_all "sendmail machine: $why"

# deps NAME MACHINE PKG...: tests/deps.sh PKG... simulated on MACHINE;
# output in $work/NAME.out, status in $rc.
deps() {
	_n=$1 _m=$2; shift 2
	DEPS_ADMINDIR=$work/$_m timeout -k 5 120 sh "$top/tests/deps.sh" "$@" > "$work/$_n.out" 2>&1
	rc=$?
	out=$(cat "$work/$_n.out")
}

# removes_nothing NAME MACHINE: the real list on MACHINE installs
# something, removes nothing, exits 0.
removes_nothing() {
	deps "$1" "$2" $TEST_DEPS
	_why=
	[ $rc = 0 ] || _why="$_why exit $rc, want 0;"
	! printf '%s\n' "$out" | grep -q 'REMOVE' || _why="$_why refused:;"
	# The check must have had work to do: a fresh machine lacks most.
	_inst=$(printf '%s\n' "$out" | sed -n 's/^deps.sh: would install (simulated on [^)]*)://p' | wc -w)
	[ "$_inst" -gt 20 ] || _why="$_why simulated $_inst installs, want > 20;"
	if [ -z "$_why" ]; then
		pass "deps/$1"
	else
		fail "deps/$1" "$_why $(oneline "$out")"
	fi
}
removes_nothing postfix-host-removes-nothing postfix
removes_nothing sendmail-host-removes-nothing sendmail

# refuses NAME MACHINE VICTIM EXTRA: the list plus EXTRA would remove
# VICTIM: deps.sh stops, non-zero, naming it.
refuses() {
	deps "$1" "$2" $TEST_DEPS "$4"
	if [ $rc != 0 ] && printf '%s\n' "$out" | grep -q "would REMOVE: .*\\b$3\\b" &&
	    ! printf '%s\n' "$out" | grep -q '^deps.sh: would install'; then
		pass "deps/$1"
	else
		fail "deps/$1" "exit $rc, want non-zero and 'would REMOVE: ... $3': $(oneline "$out")"
	fi
}
refuses postfix-host-refuses-sendmail-bin postfix postfix sendmail-bin
refuses sendmail-host-refuses-postfix sendmail sendmail-bin postfix

# What the real list brings in on the fresh machine: no MTA, no syslog
# daemon, no fail2ban, not even as a dependency.
deps fresh-plan fresh $TEST_DEPS
plan_line=$(sed -n 's/^deps.sh: would install (simulated on [^)]*)://p' "$work/fresh-plan.out")
bad=$(printf '%s\n' $plan_line | grep -E '^(sendmail.*|postfix.*|exim4.*|nullmailer|msmtp-mta|opensmtpd|courier-mta|dma|rsyslog|syslog-ng.*|inetutils-syslogd|busybox-syslogd|fail2ban)$' | tr '\n' ' ')
if [ $rc != 0 ] || [ -z "$plan_line" ]; then
	fail "deps/plan-installs-no-mta-syslog-fail2ban" "exit $rc, no plan: $(oneline "$out")"
elif [ -n "$bad" ]; then
	fail "deps/plan-installs-no-mta-syslog-fail2ban" "TEST_DEPS brings in: $bad"
else
	pass "deps/plan-installs-no-mta-syslog-fail2ban"
fi

[ "${FAILED:-0}" = 0 ]
