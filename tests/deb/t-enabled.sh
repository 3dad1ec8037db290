# deb/enabled: the install enabled the unit as systemctl enable would (the
# WantedBy= link deb-systemd-helper made, with no systemd running).
# Sourced by root.sh.
T=deb/enabled
_l=/etc/systemd/system/multi-user.target.wants/milter-ratelimit.service
if [ ! -f "$M/lib/systemd/system/milter-ratelimit.service" ]; then
	fail "$T" "no /lib/systemd/system/milter-ratelimit.service"
elif [ ! -L "$M$_l" ]; then
	fail "$T" "no enable link $_l"
elif [ "$(readlink "$M$_l")" != /lib/systemd/system/milter-ratelimit.service ]; then
	fail "$T" "$_l points to $(readlink "$M$_l")"
else
	pass "$T"
fi
