# shellcheck shell=sh
# Accounts for the test daemons, made by appending to /etc/passwd and
# /etc/group, never with useradd/groupadd/usermod: those write the
# machine's shadow files and backups and report to the host (audit
# netlink messages, "new user" lines in auth.log) even when /etc is a
# private copy.  The caller must have bind-mounted private copies over
# /etc/passwd and /etc/group (or over /etc) in a mount namespace of its
# own first (tests/mta/lib.sh mta_accounts, tests/service/run.sh): these
# functions write /etc/passwd and /etc/group as they find them.
# Sourced by sh (dash) and bash alike.

# acct_free_id: a system id (below 1000) no user and no group has.
acct_free_id() {
	local i
	for i in $(seq 999 -1 100); do
		cut -d: -f3 /etc/passwd /etc/group | grep -qx "$i" || { echo "$i"; return 0; }
	done
	return 1
}

# acct_group NAME: the group, if the machine has none of that name.
acct_group() {
	local id
	getent group "$1" >/dev/null && return 0
	id=$(acct_free_id) || return 1
	echo "$1:x:$id:" >> /etc/group
}

# acct_user NAME GROUP HOME: the system user, if the machine has none.
acct_user() {
	local id gid
	getent passwd "$1" >/dev/null && return 0
	gid=$(getent group "$2" | cut -d: -f3)
	[ -n "$gid" ] || return 1
	id=$(acct_free_id) || return 1
	echo "$1:x:$id:$gid::$3:/usr/sbin/nologin" >> /etc/passwd
}

# acct_member GROUP USER: USER joins GROUP (as usermod -a -G would).
acct_member() {
	local new
	id -nG "$2" | tr ' ' '\n' | grep -qx "$1" && return 0
	new=$(awk -F: -v OFS=: -v g="$1" -v u="$2" \
	    '$1 == g { $4 = ($4 == "" ? u : $4 "," u) } { print }' /etc/group) || return 1
	printf '%s\n' "$new" > /etc/group
}
