#!/bin/sh
# Runs inside the private mount namespace bench/sendmail.sh made for one
# sendmail (unshare -m --propagation private); the same recipe as
# tests/mta/sendmail-ns.sh, for a directory of its own:
#
#   sendmail-ns.sh DIR      (DIR holds hosts, nsswitch.conf, rsyslog.conf, sendmail.cf)
#
# /etc/hosts gives the machine a dotted name (no 60 s sleep at start) and
# nsswitch says "hosts: files" (no DNS stalls on the reverse lookup of each
# client); /dev becomes a small tmpfs so that our rsyslogd owns /dev/log.
set -eu
D=$1
mount --bind "$D/hosts" /etc/hosts
mount --bind "$D/nsswitch.conf" /etc/nsswitch.conf
mkdir -p "$D/hostdev"
mount --rbind /dev "$D/hostdev"
mount -t tmpfs -o mode=0755,size=1m mrl-bench-dev /dev
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
rsyslogd -n -f "$D/rsyslog.conf" -i "$D/rsyslogd.pid" &
i=0
while [ ! -S /dev/log ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
[ -S /dev/log ] || { echo "sendmail-ns: rsyslogd made no /dev/log" >&2; exit 1; }
exec sendmail -bD -C"$D/sendmail.cf"
