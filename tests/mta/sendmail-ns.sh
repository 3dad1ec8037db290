#!/bin/sh
# Runs inside the private mount namespace made for one test sendmail
# (unshare -m --propagation private): nothing mounted here is seen outside,
# and it all goes away with the last process.  Used by tests/mta/lib.sh
# and bench/sendmail.sh.
#
#   sendmail-ns.sh DIR ROOT
#
# DIR holds hosts, nsswitch.conf, rsyslog.conf and sendmail.cf; ROOT is the
# unpacked sendmail and rsyslog packages (tests/smroot.sh): both daemons
# run from there, nothing is installed.
# - /etc/hosts gives the machine a dotted name (sendmail sleeps 60 s at
#   start when it cannot qualify its own name) and nsswitch says
#   "hosts: files" (sendmail reverse-resolves every client; DNS timeouts
#   stall sessions).
# - /dev becomes a small tmpfs holding only the nodes sendmail and rsyslogd
#   use, so our rsyslogd can own /dev/log without creating it on the host.
# Then rsyslogd starts in the background and sendmail replaces this shell:
# both stay in the process group the caller made with setsid.
set -eu
D=$1
R=$2
mods=
for m in "$R"/usr/lib/*/rsyslog; do [ -f "$m/imuxsock.so" ] && mods=$m; done
[ -n "$mods" ] || { echo "sendmail-ns: no rsyslog modules under $R/usr/lib" >&2; exit 1; }
mount --bind "$D/hosts" /etc/hosts
mount --bind "$D/nsswitch.conf" /etc/nsswitch.conf
mkdir -p "$D/hostdev"
mount --rbind /dev "$D/hostdev"
mount -t tmpfs -o mode=0755,size=1m mrl-dev /dev
for n in null zero full random urandom tty; do
	[ -e "$D/hostdev/$n" ] || continue
	: > "/dev/$n"
	mount --bind "$D/hostdev/$n" "/dev/$n"
done
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
umount -l "$D/hostdev"
"$R/usr/sbin/rsyslogd" -n -M "$mods" -f "$D/rsyslog.conf" -i "$D/rsyslogd.pid" &
# Bounded wait for /dev/log: sendmail's first log lines must not be lost.
i=0
while [ ! -S /dev/log ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
[ -S /dev/log ] || { echo "sendmail-ns: rsyslogd made no /dev/log" >&2; exit 1; }
exec "$R/usr/libexec/sendmail/sendmail" -bD -C"$D/sendmail.cf"
