#!/bin/sh
# Install the Debian packages named on the command line that are missing.
# Installing sendmail starts the system's sendmail unless policy-rc.d says
# no, and its install step sleeps 60 s when the hostname has no dot: we
# install under a policy-rc.d that refuses and, in a private mount
# namespace, a hosts file that gives the machine a dotted name.
set -eu
missing=
for p in "$@"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing; run as root or install them" >&2
	exit 1
fi
echo "deps.sh: installing$missing"
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
# apt needs lists: on a fresh machine there may be none yet.
[ -n "$(ls /var/lib/apt/lists/ 2>/dev/null | grep -v -e lock -e partial)" ] || apt-get update -q
hosts=$(mktemp)
printf '127.0.0.1 localhost\n127.0.1.1 %s.localdomain %s\n::1 localhost ip6-localhost\n' \
	"$(hostname)" "$(hostname)" > "$hosts"
DEBIAN_FRONTEND=noninteractive unshare -m --propagation private sh -c \
	'mount --bind "$1" /etc/hosts && shift && apt-get install -y -q --no-install-recommends "$@"' \
	sh "$hosts" $missing
rm -f "$hosts"
