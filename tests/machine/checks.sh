#!/bin/sh
# The machine suite's checks, on three snapshots (tests/machine/snap.sh):
#
#   sh tests/machine/checks.sh PREFIX BEFORE DEPS NOW RUNNER TOP
#
# BEFORE and DEPS were taken before and after the deps step, NOW after
# every suite.  RUNNER is the pid of the process that ran the suites (its
# descendants in NOW are not leftovers); TOP the source tree.  Prints one
# PASS/FAIL line per check, named PREFIX/NAME, and "#" notes; the names,
# one a line, with --names.  tests/machine/run.sh runs it on the real
# snapshots and, first, on made-up ones that each check must fail.
#  - deps-removed-no-package: every package before the deps step is still
#    installed (a version change is noted, "#": installing a library's
#    -dev package may upgrade the library, as apt-get install does);
#  - deps-enabled-nothing: no new enable link after the deps step;
#  - hosts-allow-unchanged: /etc/hosts.allow as before (or libwrap0's
#    rule-less template where there was none);
#  - policy-rc-d-unchanged: /usr/sbin/policy-rc.d as before the deps step,
#    after it and at the end (deps.sh's own is gone);
#  - suites-changed-no-package: no package installed, removed, upgraded
#    or downgraded after the deps step;
#  - suites-enabled-nothing: no new enable link after the deps step;
#  - suites-left-etc-alone: nothing under /etc changed after the deps step;
#  - suites-left-no-process: no process started after the deps step is
#    still running, outside RUNNER's tree and kernel threads, that is a
#    daemon the suites start (an MTA, rsyslogd, milter-ratelimit,
#    miltertest, fail2ban, redis, valgrind) or names TOP.
set -u
NAMES="deps-removed-no-package deps-enabled-nothing hosts-allow-unchanged policy-rc-d-unchanged
suites-changed-no-package suites-enabled-nothing suites-left-etc-alone suites-left-no-process"
[ "${1:-}" = --names ] && { printf '%s\n' $NAMES; exit 0; }
P=$1 B=$2 D=$3 N=$4 RUNNER=$5 TOP=$6
. "$TOP/tests/lib.sh"
export LC_ALL=C
w=$(mktemp -d "${TMPDIR:-/tmp}/milter-ratelimit-machine-checks.XXXXXX") || exit 1
trap 'rm -rf "$w"' EXIT

# names FILE: FILE's lines on one line, at most 20 of them and a count.
names() {
	_n=$(wc -l < "$1")
	echo "$(head -n 20 "$1" | tr '\n' ' ')$([ "$_n" -le 20 ] || echo "... ($_n in all)")"
}
# only_in A B: the lines of A that B lacks.
only_in() { comm -23 "$1" "$2"; }
# verdict NAME FILE WHAT: FAIL naming FILE's lines when it has any.
verdict() {
	if [ -s "$2" ]; then fail "$P/$1" "$3: $(names "$2")"; else pass "$P/$1"; fi
}
# pkgdiff A B OUT: the package changes from snapshot A to B, one a line:
# "removed NAME VER", "installed NAME VER", "changed NAME OLD -> NEW".
pkgdiff() {
	awk 'NR == FNR { a[$1] = $2; next }
	    { b[$1] = $2 }
	    END {
		for (n in a) if (!(n in b)) print "removed " n " " a[n]
		for (n in b) if (!(n in a)) print "installed " n " " b[n]
		    else if (a[n] != b[n]) print "changed " n " " a[n] " -> " b[n]
	    }' "$1" "$2" | sort > "$3"
}

pkgdiff "$B/packages" "$D/packages" "$w/dp"
grep '^removed ' "$w/dp" > "$w/removed"
verdict deps-removed-no-package "$w/removed" "the deps step removed"
grep '^changed ' "$w/dp" > "$w/up"
[ ! -s "$w/up" ] || echo "# the deps step upgraded (as apt-get install does): $(names "$w/up")"

only_in "$D/enabled" "$B/enabled" > "$w/enabled"
verdict deps-enabled-nothing "$w/enabled" "the deps step left enabled"

b=$(cat "$B/hosts.allow") d=$(cat "$D/hosts.allow") n=$(cat "$N/hosts.allow")
if [ "$b" = "$d" ] && [ "$d" = "$n" ]; then
	pass "$P/hosts-allow-unchanged"
elif [ "$b" = absent ] && [ "$d" = "$n" ] && [ -f "$N/hosts.allow.rules" ]; then
	# libwrap0's install writes its commented template where there was
	# none: a package's own install, and it allows nothing.
	if [ -s "$N/hosts.allow.rules" ]; then
		fail "$P/hosts-allow-unchanged" "/etc/hosts.allow made by the deps step has rules: $(names "$N/hosts.allow.rules")"
	else
		pass "$P/hosts-allow-unchanged"
	fi
else
	fail "$P/hosts-allow-unchanged" "sha256 before deps $b, after deps $d, now $n"
fi

b=$(cat "$B/policy-rc.d") d=$(cat "$D/policy-rc.d") n=$(cat "$N/policy-rc.d")
if [ "$b" = "$d" ] && [ "$d" = "$n" ]; then
	pass "$P/policy-rc-d-unchanged"
else
	fail "$P/policy-rc-d-unchanged" "/usr/sbin/policy-rc.d sha256 before deps $b, after deps $d, now $n"
fi

pkgdiff "$D/packages" "$N/packages" "$w/sp"
verdict suites-changed-no-package "$w/sp" "after the deps step"

only_in "$N/enabled" "$D/enabled" > "$w/en"
verdict suites-enabled-nothing "$w/en" "the suites enabled"

# Every path whose lines differ: added, removed or changed.
comm -3 "$D/etc" "$N/etc" | sed 's/^\t//' | cut -f1 | sort -u > "$w/paths"
cut -f1 "$D/etc" | sort -u > "$w/had"
cut -f1 "$N/etc" | sort -u > "$w/has"
only_in "$w/paths" "$w/had" | sed 's/^/added /' > "$w/etc"
only_in "$w/paths" "$w/has" | sed 's/^/removed /' >> "$w/etc"
comm -12 "$w/had" "$w/has" | comm -12 - "$w/paths" | sed 's/^/changed /' >> "$w/etc"
verdict suites-left-etc-alone "$w/etc" "since the deps step"

# New processes: in NOW, not in DEPS (same pid and start time), neither a
# kernel thread (kthreadd, 2, and its children) nor in RUNNER's tree.
# One that another source tree's test run owns (its command line, or an
# ancestor's, names that tree's tests/*.sh or build*/milter-ratelimit or
# ratelimit-map: another engineer's suite on a shared machine) is noted,
# not held against this run.
awk -F '\t' -v runner="$RUNNER" -v top="$TOP" '
    # tree_of ARGS: the source tree ARGS names a script or binary of, or "".
    function tree_of(args,    n, i, w, t) {
	n = split(args, w, " ")
	for (i = 1; i <= n; i++) {
		if (w[i] !~ /^\//) continue
		if (match(w[i], /\/tests\/[^ ]*\.sh$/) || match(w[i], /\/build[^\/]*\/(milter-ratelimit|ratelimit-map)$/))
			return substr(w[i], 1, RSTART - 1)
	}
	return ""
    }
    NR == FNR { old[$1 "\t" $2] = 1; next }
    { pp[$1] = $3; args[$1] = $5; line[$1] = $0; key[$1] = $1 "\t" $2 }
    END {
	for (p in line) {
		if (key[p] in old || p == 2 || pp[p] == 2) continue
		mine = 0; foreign = 0
		q = p
		for (k = 0; k < 1000 && q != "" && q != 0; k++) {
			if (q == runner) { mine = 1; break }
			t = tree_of(args[q])
			if (t != "" && t != top) foreign = 1
			q = pp[q]
		}
		if (mine) continue
		print (foreign ? "other" : "new") "\t" line[p]
	}
    }' "$D/procs" "$N/procs" | sort -k2n > "$w/newprocs"
awk -F '\t' -v top="$TOP" '$1 == "new" &&
    ($5 ~ /^(sendmail.*|smmta|master|qmgr|pickup|smtpd|smtp|cleanup|trivial-rewrite|postdrop|postfix.*|rsyslogd|milter-ratelimi.*|ratelimit-map|miltertest|fail2ban.*|redis-server|redis-check.*|memcheck-.*|valgrind.*)$/ ||
    (top != "" && index($6, top))) { print "pid " $2 " " $5 " (" substr($6, 1, 80) ")" }
' "$w/newprocs" > "$w/left"
verdict suites-left-no-process "$w/left" "still running"
others=$(grep -c '^new' "$w/newprocs")
foreign=$(grep -c '^other' "$w/newprocs")
[ "$others$foreign" = 00 ] ||
	echo "# since the deps step: $others other new process(es) outside the runner, $foreign of other source trees' test runs"
[ "${FAILED:-0}" = 0 ]
