# shellcheck shell=sh
# Accounts for the test daemons, made by appending to /etc/passwd and
# /etc/group, never with useradd/groupadd/usermod: those write the
# machine's shadow files and backups and report to the host (audit
# netlink messages, "new user" lines in auth.log) even when /etc is a
# private copy.  The caller must have bind-mounted private copies over
# /etc/passwd and /etc/group (or over /etc) in a mount namespace of its
# own first (tests/mta/lib.sh mta_accounts, tests/service/run.sh): these
# functions write /etc/passwd and /etc/group as they find them.
# Sourced by sh (dash) and bash alike: POSIX sh, variables _acct_*.

# acct_free_id: a system id (below 1000) no user and no group has.
acct_free_id() {
	for _acct_i in $(seq 999 -1 100); do
		cut -d: -f3 /etc/passwd /etc/group | grep -qx "$_acct_i" || { echo "$_acct_i"; return 0; }
	done
	return 1
}

# acct_group NAME: the group, if the machine has none of that name.
acct_group() {
	getent group "$1" >/dev/null && return 0
	_acct_id=$(acct_free_id) || return 1
	echo "$1:x:$_acct_id:" >> /etc/group
}

# acct_user NAME GROUP HOME: the system user, if the machine has none.
acct_user() {
	getent passwd "$1" >/dev/null && return 0
	_acct_gid=$(getent group "$2" | cut -d: -f3)
	[ -n "$_acct_gid" ] || return 1
	_acct_id=$(acct_free_id) || return 1
	echo "$1:x:$_acct_id:$_acct_gid::$3:/usr/sbin/nologin" >> /etc/passwd
}

# acct_member GROUP USER: USER joins GROUP (as usermod -a -G would).
acct_member() {
	id -nG "$2" | tr ' ' '\n' | grep -qx "$1" && return 0
	_acct_new=$(awk -F: -v OFS=: -v g="$1" -v u="$2" \
	    '$1 == g { $4 = ($4 == "" ? u : $4 "," u) } { print }' /etc/group) || return 1
	printf '%s\n' "$_acct_new" > /etc/group
}
