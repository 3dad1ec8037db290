# A peer whose process holds control_group as a supplementary group (a
# systemd unit's SupplementaryGroups=, sg, setpriv --groups) is served,
# though /etc/group does not list its user: the socket's 0660 mode let it
# connect, and the daemon checks the peer's groups as the kernel gave
# them (SO_PEERGROUPS), not only those the user database names.  The same
# user without that group cannot connect at all (the mode).
# checks: 2
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ]; then
	skip control/supgroup-served "needs root (setpriv to nobody)"
	skip control/supgroup-without-refused "needs root"
	exit 0
fi
GRP=adm
if ! getent group $GRP > /dev/null || id -nG nobody | tr ' ' '\n' | grep -qx $GRP; then
	fail control/supgroup-served "group $GRP missing, or nobody in it: pick another"
	fail control/supgroup-without-refused "-"; exit 0
fi
mkdir -m 0755 "$W/bin" && cp "$CTL" "$W/bin/ratelimit-ctl" && chmod 0755 "$W/bin/ratelimit-ctl"
as_nobody() {
	_g=$1; shift
	setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" $_g \
	    "$W/bin/ratelimit-ctl" -s "$W/c.sock" "$@" > "$W/nb.out" 2> "$W/nb.err"
}
if ! ctl_start "control_group = \"$GRP\""; then
	fail control/supgroup-served "daemon did not come up: $(oneline "$W/log")"
	fail control/supgroup-without-refused "-"; exit 0
fi
T=control/supgroup-served
as_nobody --groups=$GRP stats; rc=$?
if [ $rc = 0 ] && grep -q '^connections' "$W/nb.out"; then pass $T; else
	fail $T "rc=$rc $(oneline "$W/nb.err")"; fi
T=control/supgroup-without-refused
as_nobody --clear-groups stats; rc=$?
if [ $rc = 3 ] && grep -q 'Permission denied' "$W/nb.err"; then pass $T; else
	fail $T "rc=$rc $(oneline "$W/nb.err")"; fi
