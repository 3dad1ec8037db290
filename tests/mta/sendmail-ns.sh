#!/bin/sh
# Runs inside the private mount namespace that run.sh made for sendmail
# (unshare -m --propagation private): nothing mounted here is seen outside,
# and it all goes away with the last process.
#
#   sendmail-ns.sh WORKDIR
#
# - /etc/hosts gives the machine a dotted name (sendmail sleeps 60 s at
#   start when it cannot qualify its own name) and nsswitch says
#   "hosts: files" (sendmail reverse-resolves every client; DNS timeouts
#   stall sessions).
# - /dev becomes a small tmpfs holding only the nodes sendmail and rsyslogd
#   use, so our rsyslogd can own /dev/log without creating it on the host.
# Then rsyslogd starts in the background and sendmail replaces this shell:
# both stay in the process group run.sh made with setsid.
set -eu
W=$1
mount --bind "$W/sm/hosts" /etc/hosts
mount --bind "$W/sm/nsswitch.conf" /etc/nsswitch.conf
mkdir -p "$W/sm/hostdev"
mount --rbind /dev "$W/sm/hostdev"
mount -t tmpfs -o mode=0755,size=1m mrl-dev /dev
for n in null zero full random urandom tty; do
	[ -e "$W/sm/hostdev/$n" ] || continue
	: > "/dev/$n"
	mount --bind "$W/sm/hostdev/$n" "/dev/$n"
done
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
umount -l "$W/sm/hostdev"
rsyslogd -n -f "$W/sm/rsyslog.conf" -i "$W/sm/rsyslogd.pid" &
# Bounded wait for /dev/log: sendmail's first log lines must not be lost.
i=0
while [ ! -S /dev/log ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
[ -S /dev/log ] || { echo "sendmail-ns: rsyslogd made no /dev/log" >&2; exit 1; }
exec sendmail -bD -C"$W/sm/sendmail.cf"
