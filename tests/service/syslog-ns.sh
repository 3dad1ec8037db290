#!/bin/sh
# Runs inside a private mount namespace that run.sh made with
# `unshare -m --propagation private`: nothing mounted here is seen outside,
# and it all goes away with the last process in the namespace.
#
#   syslog-ns.sh DIR SOCKET COMMAND...
#
# /dev becomes a small tmpfs holding null, zero, random and urandom from
# the real /dev and a symlink /dev/log -> SOCKET (the private rsyslogd's
# imuxsock socket), so that syslog(3) in COMMAND reaches our rsyslogd and
# nothing on the host (there may be no /dev/log at all, or the machine's
# own logger) is touched.  DIR holds the empty files the device nodes are
# parked on while the tmpfs goes over /dev.  Then COMMAND replaces this
# shell.
set -eu
D=$1 S=$2
shift 2
nodes="null zero random urandom"
for n in $nodes; do
	: > "$D/$n"
	mount --bind "/dev/$n" "$D/$n"
done
mount -t tmpfs -o mode=0755,size=64k mrl-service-dev /dev
for n in $nodes; do
	: > "/dev/$n"
	mount --bind "$D/$n" "/dev/$n"
	umount "$D/$n"
done
ln -s "$S" /dev/log
exec "$@"
