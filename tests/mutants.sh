#!/bin/sh
# Mutation check, on demand (make mutants; not part of make check or CI).
#
#   sh tests/mutants.sh [-n] [NAME...]
#
# Copies the tree (tracked and new files, as they are now) to a scratch
# directory, builds it once, then for each mutant of tests/mutants.list
# (or only those NAMEd): puts the mutated text in its file, rebuilds, runs
# the suites the list names with tests/run.sh, and puts the file back.
# A mutant is killed when the run fails.  It survives when every suite
# passes: a promise of the code that no test holds.  It is stale when its
# text no longer occurs exactly once in the file: fix the list.  -n only
# checks that every mutant applies (no build, no tests).
#
# Prints one line per mutant and "mutants: N killed, N survived, N stale,
# N did not build (of N)"; exits 1 when any survived or is stale.  The
# scratch tree and every run's output stay in $MUTANTS_KEEP (default: a
# new /tmp/mrl-mutants.XXXXXX, removed unless something survived).
# Some suites (service) need root and the heavy lock: make mutants takes it.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
list=${MUTANTS_LIST:-$top/tests/mutants.list}
dry=
[ "${1:-}" = -n ] && { dry=1; shift; }
only=" $* "

work=${MUTANTS_KEEP:-$(mktemp -d /tmp/mrl-mutants.XXXXXX)} || exit 1
# The service suite starts daemons as unprivileged users: they must reach
# the scratch tree's binaries (mktemp makes it 0700).
chmod 0755 "$work"
mkdir -p "$work/tree" "$work/logs" "$work/orig"
tree=$work/tree

# The tree as it is now, committed or not, without build output.  The
# unpacked packages' cache (git-ignored) stays the real tree's: the suites
# find it through PKG_CACHE rather than download again per mutant.
export PKG_CACHE="${PKG_CACHE:-$top/tests/.cache}"
(cd "$top" && git ls-files -z --cached --others --exclude-standard) |
    (cd "$top" && xargs -0 cp --parents -t "$tree" 2>/dev/null)
if [ ! -f "$tree/Makefile" ]; then
	echo "mutants: could not copy the tree to $tree" >&2
	exit 2
fi

if [ -z "$dry" ]; then
	echo "mutants: building the unmutated tree in $tree"
	if ! make -s -C "$tree" -j2 all units > "$work/logs/build.log" 2>&1; then
		echo "mutants: the unmutated tree does not build: $work/logs/build.log" >&2
		exit 2
	fi
	# Every suite the list names must pass unmutated, or every mutant
	# would look killed.
	all=$(awk -v only="$only" '
	    /^mutant / { sel = (only ~ /^ *$/) || index(only, " " $2 " ") }
	    /^suites / && sel { for (i = 2; i <= NF; i++) print $i }' "$list" | sort -u | tr '\n' ' ')
	echo "mutants: the unmutated tree against: $all"
	# shellcheck disable=SC2086
	if ! (cd "$tree" && sh tests/run.sh build $all) > "$work/logs/baseline.log" 2>&1; then
		echo "mutants: the unmutated tree fails its suites: $work/logs/baseline.log" >&2
		tail -n 5 "$work/logs/baseline.log" >&2
		exit 2
	fi
fi

# apply FILE FROM TO: replace the one occurrence of FROM (\n, \t escapes)
# in FILE by TO.  Exit 3 when FROM occurs other than once.
apply() {
	perl -e '
		my ($file, $from, $to) = @ARGV;
		for ($from, $to) { s/\\n/\n/g; s/\\t/\t/g; }
		local $/;
		open(my $in, "<", $file) or die "$file: $!\n";
		my $text = <$in>;
		close $in;
		my $n = () = $text =~ /\Q$from\E/g;
		if ($n != 1) { print "$n\n"; exit 3; }
		$text =~ s/\Q$from\E/$to/;
		open(my $out, ">", $file) or die "$file: $!\n";
		print $out $text;
		close $out or die "$file: $!\n";
	' "$@"
}

killed=0 survived=0 stale=0 broken=0 total=0
surv_names='' stale_names=''

# run_mutant: the fields of one block are in name file suites from to.
run_mutant() {
	case $only in "  ") ;; *" $name "*) ;; *) return ;; esac
	total=$((total + 1))
	f=$tree/$file
	if [ ! -f "$f" ]; then
		echo "STALE: $name: no file $file"
		stale=$((stale + 1)) stale_names="$stale_names $name"
		return
	fi
	[ -f "$work/orig/$file" ] || { mkdir -p "$(dirname "$work/orig/$file")"; cp "$f" "$work/orig/$file"; }
	if ! n=$(apply "$f" "$from" "$to"); then
		echo "STALE: $name: its text occurs ${n:-?} times in $file, want once"
		stale=$((stale + 1)) stale_names="$stale_names $name"
		cp "$work/orig/$file" "$f"
		return
	fi
	if [ -n "$dry" ]; then
		echo "applies: $name"
	elif ! make -s -C "$tree" -j2 all units > "$work/logs/$name.build" 2>&1; then
		echo "NOBUILD: $name: see $work/logs/$name.build"
		broken=$((broken + 1))
	else
		t0=$(date +%s)
		# shellcheck disable=SC2086
		(cd "$tree" && sh tests/run.sh build $suites) > "$work/logs/$name.log" 2>&1
		rc=$?
		el=$(( $(date +%s) - t0 ))
		if [ $rc != 0 ]; then
			by=$(grep -m 1 '^FAIL: ' "$work/logs/$name.log" | cut -c7-120)
			echo "killed: $name (${el} s; $suites): $by"
			killed=$((killed + 1))
		else
			echo "SURVIVED: $name ($suites passed: $(tail -n 1 "$work/logs/$name.log"))"
			survived=$((survived + 1)) surv_names="$surv_names $name"
		fi
	fi
	# Back to the original, with a new mtime so make rebuilds it.
	cp "$work/orig/$file" "$f"
	touch "$f"
}

name='' file='' suites='' from='' to=''
# A block ends at the next "mutant" line or at the end of the list.
while IFS= read -r line || [ -n "$line" ]; do
	case $line in
	'#'*|'') continue ;;
	mutant\ *)
		[ -n "$name" ] && run_mutant
		name=${line#mutant} file='' suites='' from='' to=''
		name=$(echo $name)
		;;
	file\ *) file=$(echo ${line#file}) ;;
	suites\ *) suites=$(echo ${line#suites}) ;;
	from\ *) from=${line#from}; from=${from#"${from%%[! ]*}"} ;;
	to\ *) to=${line#to}; to=${to#"${to%%[! ]*}"} ;;
	*) echo "mutants: bad line in $list: $line" >&2; exit 2 ;;
	esac
done < "$list"
[ -n "$name" ] && run_mutant

echo
[ -n "$surv_names" ] && echo "survived:$surv_names"
[ -n "$stale_names" ] && echo "stale:$stale_names"
echo "mutants: $killed killed, $survived survived, $stale stale, $broken did not build (of $total)"
if [ "$survived" = 0 ] && [ "$stale" = 0 ] && [ -z "${MUTANTS_KEEP:-}" ]; then
	rm -rf "$work"
else
	echo "mutants: logs and the scratch tree in $work"
fi
[ "$survived" = 0 ] && [ "$stale" = 0 ]
