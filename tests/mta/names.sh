#!/bin/bash
# Name entries and prefix sections through a real sendmail and a real
# Postfix (issue 11), on loopback.
#
#   tests/mta/names.sh PATH/TO/milter-ratelimit     (run by tests/mta/run.sh)
#
# names:  map "partner.example OK", limit 3 per 60 s, reply_stage connect.
#   127.0.8.1  PTR mx1.partner.example, whose A is 127.0.8.1 (verified):
#              7 sessions, never refused; the milter logs entry=partner.example
#   127.0.8.2  PTR mx2.partner.example, whose A is 127.0.8.3 (forged):
#              3 sessions, refused at its 4th, key 127.0.8.2/32, no entry
#   127.0.8.4  no PTR at all: the same as the forged one
#   and the host name and {client_resolve} each MTA handed the milter
#   (its debug line "connect host=... client_resolve=...") are as recorded
#   below, for each client.
# botnet: ipv4_prefix = 32, limit = 3, prefix ipv4/24 { limit = 6 }, no map.
#   127.0.9.1 .. .6 one session each are greeted; .7 and .8 (each at its
#   first session, far under its /32 limit) are refused, and the milter's
#   line for .7 names key=127.0.9.0/24 count=7 limit=6.
#
# Both MTAs resolve client names from one private hosts file: this script
# runs in a mount namespace of its own where /etc/hosts, /etc/nsswitch.conf
# ("hosts: files", no DNS) and /etc/host.conf are bind-mounted copies.
# host.conf says "multi off": with glibc's default (every line with the
# name), the forward lookup of mx2.partner.example would also find the
# 127.0.8.2 line that gives its PTR, and no name could be forged with a
# hosts file.  With it, a reverse lookup answers from the first line with
# the address, a forward one from the first line with the name.  sendmail
# (tests/mta/sendmail-ns.sh) gets the same lines in its own copy of the
# hosts file and inherits our host.conf; Postfix (not chrooted here: it
# reads our /etc) runs with smtpd_peername_lookup = yes, which the suite's
# main.cf turns off.  No private network namespace: with only lo up
# there, getaddrinfo with AI_ADDRCONFIG finds no address for any name
# (loopback does not count); 127.0.8.x and 127.0.9.x are on the machine's
# lo anyway, and run.sh has stopped its MTAs before it runs us.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u +m

BIN=${1:?usage: tests/mta/names.sh PATH/TO/milter-ratelimit}
HERE=$(cd "$(dirname "$0")" && pwd)

if [ -z "${MRL_NAMES_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "FAIL: names: setup: must run as root"; exit 1; }
	exec env MRL_NAMES_NS=1 unshare -m --propagation private bash "$0" "$@"
fi

# run.sh's functions and cleanup trap, not its main.
# shellcheck source=tests/mta/run.sh
MTA_LIB=1 . "$HERE/run.sh" "$BIN"

RMAP=$(dirname "$(readlink -f "$BIN")")/ratelimit-map
VERIFIED=127.0.8.1 FORGED=127.0.8.2 FORGED_A=127.0.8.3 NOPTR=127.0.8.4
PARTNER_HOSTS="$VERIFIED mx1.partner.example
$FORGED_A mx2.partner.example
$FORGED mx2.partner.example"

# --- name resolution: one private hosts file for both MTAs ------------------

# sendmail's hosts file is lib.sh's (its own dotted name) plus our lines.
eval "lib_$(declare -f sendmail_ns_files)"
sendmail_ns_files() {
	lib_sendmail_ns_files && printf '%s\n' "$PARTNER_HOSTS" >> "$W/sm/hosts"
}

# Postfix: the suite's main.cf, but smtpd looks client names up.
eval "lib_$(declare -f subst)"
subst() {
	lib_subst "$@" || return
	case $2 in
	*/main.cf) sed -i 's/^smtpd_peername_lookup = no$/smtpd_peername_lookup = yes/' "$2" &&
	           grep -qx 'smtpd_peername_lookup = yes' "$2" ;;
	esac
}

# ns_setup: hosts, nsswitch.conf and host.conf of our own in our mount
# namespace (the machine's are untouched).
ns_setup() {
	local d=$W/ns
	mkdir -m 0755 "$d" || return 1
	{ printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n'
	  printf '%s\n' "$PARTNER_HOSTS"; } > "$d/hosts"
	printf '%s: files\n' passwd group shadow hosts networks protocols services > "$d/nsswitch.conf"
	printf 'multi off\n' > "$d/host.conf"
	chmod 0644 "$d"/* &&
	mount --bind "$d/hosts" /etc/hosts &&
	mount --bind "$d/nsswitch.conf" /etc/nsswitch.conf &&
	mount --bind "$d/host.conf" /etc/host.conf
}

# resolver_check: the lookups the MTAs will make give what the test needs
# (otherwise every later check would fail for the wrong reason).
resolver_check() {
	local got want
	got=$(getent hosts "$VERIFIED" "$FORGED" "$NOPTR" | awk '{print $1, $2}' | tr '\n' ' ')
	got="$got/ $(getent ahostsv4 mx1.partner.example mx2.partner.example | awk '$2 == "STREAM" {print $1, $3}' | tr '\n' ' ')"
	want="$VERIFIED mx1.partner.example $FORGED mx2.partner.example / $VERIFIED mx1.partner.example $FORGED_A mx2.partner.example "
	if [ "$got" = "$want" ]; then
		pass "names: the private hosts file: $FORGED's PTR name resolves to $FORGED_A only"
	else
		fail "names: the private hosts file: $FORGED's PTR name resolves to $FORGED_A only" "got '$got', want '$want'"
		return 1
	fi
}

# --- the milter --------------------------------------------------------------

# milter_conf PHASE: run.sh's milter_start calls this (its STAGE is our
# phase); log_level debug for the connect host/{client_resolve} lines.
milter_conf() {
	{ cat <<-EOF
	socket      = "unix:$SOCK"
	limit       = $LIMIT
	window      = $WINDOW
	reply_stage = "connect"
	mode        = "enforce"
	max_clients = 10000
	user        = "nobody"
	group       = "postfix"
	socket_mode = "0660"
	log_level   = "debug"
	EOF
	  case $1 in
	  names)  echo "exempt_map  = \"$W/names.db\"" ;;
	  botnet) printf 'ipv4_prefix = 32\nprefix ipv4/24 { limit = 6 }\n' ;;
	  esac; } > "$W/milter-$1.conf"
}

names_map() {
	printf 'partner.example OK\n' > "$W/names"
	# ratelimit-map reads names and writes names.db.
	# shellcheck disable=SC2094
	"$RMAP" "$W/names" < "$W/names" 2> "$W/rmap.err" ||
		{ fail_log "names: setup: ratelimit-map builds the map" "it failed" "$W/rmap.err"; return 1; }
}

# --- checks ------------------------------------------------------------------

# refused TAG FROM PORT WHAT: FROM's next connection gets the MTA's 421 at
# connect and is closed.
refused() {
	local name="$1: $4 is refused at connect"
	probe "$2" 127.0.0.1 "$3" "EHLO client.mrl.test" "QUIT"
	if refused_transcript "EHLO client.mrl.test"; then pass "$name"
	else fail "$name" "saw: $(flat)"; fi
}

# log_has TAG NAME FIXED-STRING N: exactly N lines of the milter's log hold it.
log_has() {
	local n
	n=$(grep -cF -- "$3" "$MLOG")
	if [ "$n" = "$4" ]; then pass "$1: $2"
	else fail "$1: $2" "$n lines with '$3', want $4: $(grep -F -- "$3" "$MLOG" | head -n 3 | tr '\n' '|')"; fi
}

# macros MTA: what the MTA handed the milter at connect for each of our
# clients, one "ADDRESS host=... client_resolve=..." per client, the
# milter's debug lines in order (each connect line is followed by the
# decision line naming the client).
macros() {
	awk -v want="$VERIFIED $FORGED $NOPTR" '
		/ connect host=/ { h = $0; sub(/.* connect /, "", h); next }
		/ client=/ { c = $0; sub(/.* client=/, "", c); sub(/ .*/, "", c)
		             if (h != "" && index(" " want " ", " " c " ") && !(c in seen)) { seen[c] = h }
		             h = "" }
		END { n = split(want, w, " "); for (i = 1; i <= n; i++) printf "%s %s; ", w[i], seen[w[i]] }' "$MLOG"
}

# The connect host name and {client_resolve} each MTA sent, seen here
# (sendmail 8.17.1.9, Postfix 3.7.11, milter debug log).
want_macros() {
	case $1 in
	sendmail) echo "$VERIFIED host=mx1.partner.example client_resolve=OK; $FORGED host=[$FORGED] client_resolve=FORGED; $NOPTR host=[$NOPTR] client_resolve=FAIL; " ;;
	postfix)  echo "$VERIFIED host=mx1.partner.example client_resolve=OK; $FORGED host=[$FORGED] client_resolve=FORGED; $NOPTR host=[$NOPTR] client_resolve=FAIL; " ;;
	esac
}

names_phase() {
	local mta=$1 port=$2 tag="$1 names" got
	milter_start "$mta" names || return
	expect "$mta" connect
	sessions 7 "$tag: verified mx1.partner.example ($VERIFIED) never refused in 7 sessions" "$VERIFIED" 127.0.0.1 "$port"
	sessions "$LIMIT" "$tag: forged mx2.partner.example ($FORGED) gets $LIMIT sessions" "$FORGED" 127.0.0.1 "$port" &&
	    refused "$tag" "$FORGED" "$port" "forged mx2.partner.example ($FORGED), 4th connection,"
	sessions "$LIMIT" "$tag: $NOPTR (no PTR) gets $LIMIT sessions" "$NOPTR" 127.0.0.1 "$port" &&
	    refused "$tag" "$NOPTR" "$port" "$NOPTR (no PTR), 4th connection,"
	log_has "$tag" "milter logs 'exempt client=$VERIFIED entry=partner.example host=mx1.partner.example' for each session" \
	    "exempt client=$VERIFIED entry=partner.example host=mx1.partner.example" 7
	log_has "$tag" "milter logs one refusal of $FORGED by its address key, no name entry" \
	    "refused client=$FORGED key=$FORGED/32 count=4 limit=$LIMIT window=${WINDOW}s stage=connect retry=" 1
	if grep -F "client=$FORGED " "$MLOG" | grep -qF 'entry='; then
		fail "$tag: no name entry ever applied to $FORGED" "$(grep -F "client=$FORGED " "$MLOG" | grep -F 'entry=' | head -n 2 | tr '\n' '|')"
	else
		pass "$tag: no name entry ever applied to $FORGED"
	fi
	got=$(macros)
	note "$tag: the MTA sent: $got"
	if [ "$got" = "$(want_macros "$mta")" ]; then pass "$tag: host name and {client_resolve} as recorded for $mta"
	else fail "$tag: host name and {client_resolve} as recorded for $mta" "got '$got', want '$(want_macros "$mta")'"; fi
	milter_stop "$tag"
}

botnet_phase() {
	local mta=$1 port=$2 tag="$1 botnet" i
	milter_start "$mta" botnet || return
	expect "$mta" connect
	local ok=0
	for i in 1 2 3 4 5 6; do
		session "127.0.9.$i" 127.0.0.1 "$port" || break
		ok=$i
	done
	if [ "$ok" = 6 ]; then
		pass "$tag: 127.0.9.1 to .6, one session each, all greeted"
	else
		fail "$tag: 127.0.9.1 to .6, one session each, all greeted" "127.0.9.$i: $(server_lines)"
	fi
	refused "$tag" 127.0.9.7 "$port" "127.0.9.7 (7th address of the /24, its own 1st session)"
	refused "$tag" 127.0.9.8 "$port" "127.0.9.8 (8th address of the /24, its own 1st session)"
	log_has "$tag" "milter logs the refusal of 127.0.9.7 by key=127.0.9.0/24" \
	    "refused client=127.0.9.7 key=127.0.9.0/24 count=7 limit=6 window=${WINDOW}s stage=connect" 1
	milter_stop "$tag"
}

names_main() {
	local t0=$SECONDS
	setup || return
	ns_setup || { fail "names: setup" "cannot mount the private hosts, nsswitch.conf, host.conf"; return; }
	resolver_check || return
	names_map || return
	if sendmail_start; then
		names_phase sendmail "$SM_PORT"
		botnet_phase sendmail "$SM_PORT"
	fi
	sendmail_stop
	if postfix_start; then
		names_phase postfix "$PF_PORT"
		botnet_phase postfix "$PF_PORT"
	fi
	postfix_stop
	note "names test took $((SECONDS - t0)) s"
}

names_main
