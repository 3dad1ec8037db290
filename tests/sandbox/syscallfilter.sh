#!/bin/sh
# The system calls a unit's SystemCallFilter= lines let through, computed
# as systemd does it, with the groups from `systemd-analyze syscall-filter`.
#
#   sh tests/sandbox/syscallfilter.sh UNIT [DROP-IN...]
#
# Prints the kind of filter on the first line ("allow", "deny" or "none":
# no filter), then one system call per line: the allowed ones for "allow",
# the denied ones for "deny".  Exits non-zero, with the reason on stderr,
# when a group is unknown to systemd-analyze.
#
# systemd's rules (systemd.exec(5), "SystemCallFilter="; seccomp-util.c,
# seccomp_parse_syscall_filter): the first line decides the kind, "~"
# making a deny list; an allow list starts with @default.  Each later
# line of the same kind adds its calls to the list, a line of the other
# kind removes them from it, in file order (so "~@privileged" after
# "@system-service" takes @chown away, and a later plain line puts back
# what it names).  An empty assignment resets the filter.  ":ERRNO"
# suffixes do not change whether a call is let through.
set -u
[ $# -ge 1 ] || { echo "usage: syscallfilter.sh UNIT [DROP-IN...]" >&2; exit 64; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# expand WORD...: the system calls the words name, groups expanded through
# every level (a group lists its sub-groups as "@name" lines).
expand() {
	_todo=$* _seen=
	while [ -n "$_todo" ]; do
		# shellcheck disable=SC2086
		set -- $_todo
		_w=${1%%:*}
		shift
		_todo=$*
		case $_w in
		@*)
			case " $_seen " in *" $_w "*) continue ;; esac
			_seen="$_seen $_w"
			_sub=$(systemd-analyze syscall-filter "$_w" < /dev/null 2>&1) || {
				echo "systemd-analyze syscall-filter $_w: $_sub" >&2
				return 1
			}
			# Members are indented; comments start with '#'.
			_sub=$(printf '%s\n' "$_sub" | sed -n 's/^[[:space:]][[:space:]]*\([^#[:space:]][^[:space:]]*\).*/\1/p')
			[ -n "$_sub" ] || { echo "group $_w lists no system call" >&2; return 1; }
			_todo="$_todo $_sub"
			;;
		?*)
			echo "$_w"
			;;
		esac
	done
}

mode=none
: > "$tmp/set"
for f; do
	[ -r "$f" ] || { echo "cannot read $f" >&2; exit 1; }
	sed -n 's/^[[:space:]]*SystemCallFilter=[[:space:]]*//p' "$f"
done > "$tmp/lines"
while IFS= read -r v; do
	v=$(printf '%s' "$v" | sed 's/[[:space:]]*$//')
	if [ -z "$v" ]; then
		mode=none
		: > "$tmp/set"
		continue
	fi
	inv=0
	case $v in '~'*) inv=1; v=${v#\~} ;; esac
	if [ $mode = none ]; then
		if [ $inv = 1 ]; then
			mode=deny
		else
			mode=allow
			expand @default > "$tmp/set" || exit 1
		fi
	fi
	# shellcheck disable=SC2086
	expand $v | sort -u > "$tmp/words" || exit 1
	[ -s "$tmp/words" ] || { echo "SystemCallFilter=$v names nothing" >&2; exit 1; }
	sort -u "$tmp/set" > "$tmp/old"
	if { [ $mode = allow ] && [ $inv = 0 ]; } || { [ $mode = deny ] && [ $inv = 1 ]; }; then
		sort -u "$tmp/old" "$tmp/words" > "$tmp/set"
	else
		comm -23 "$tmp/old" "$tmp/words" > "$tmp/set"
	fi
done < "$tmp/lines"
echo "$mode"
sort -u "$tmp/set"
