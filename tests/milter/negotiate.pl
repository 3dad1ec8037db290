#!/usr/bin/perl
# negotiate.pl SOCKET: play an MTA's option negotiation against the milter
# at the unix socket SOCKET, offering every action and protocol flag of
# protocol version 6, and print what it answers:
#   version=V actions=0xA protocol=0xP
#   macros STAGE=LIST        (one line per macro list it asked for)
# Exits 1 on a protocol error, with the reason on stderr; 5 s bound.
use strict;
use warnings;
use Socket;

my $path = shift or die "usage: negotiate.pl SOCKET\n";
$SIG{ALRM} = sub { die "no answer within 5 s\n" };
alarm 5;
socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!\n";
connect($s, sockaddr_un($path)) or die "connect $path: $!\n";
# SMFIC_OPTNEG: version 6, actions 0x1ff, protocol 0x1fffff.
my $body = 'O' . pack('NNN', 6, 0x1ff, 0x1fffff);
syswrite($s, pack('N', length $body) . $body) == 4 + length $body or die "write: $!\n";

sub readn {
	my ($n) = @_;
	my $buf = '';
	while (length $buf < $n) {
		my $r = sysread($s, $buf, $n - length $buf, length $buf);
		die "read: " . (defined $r ? "EOF" : $!) . "\n" unless $r;
	}
	return $buf;
}
my $len = unpack('N', readn(4));
die "reply length $len\n" if $len < 13 || $len > 65536;
my $reply = readn($len);
die "reply command '" . substr($reply, 0, 1) . "', want 'O'\n" if substr($reply, 0, 1) ne 'O';
my ($v, $a, $p) = unpack('NNN', substr($reply, 1, 12));
printf "version=%d actions=0x%x protocol=0x%x\n", $v, $a, $p;
my $rest = substr($reply, 13);
while (length $rest >= 4) {
	my $stage = unpack('N', substr($rest, 0, 4));
	my $end = index($rest, "\0", 4);
	die "macro list without NUL\n" if $end < 0;
	printf "macros %d=%s\n", $stage, substr($rest, 4, $end - 4);
	$rest = substr($rest, $end + 1);
}
die "trailing bytes\n" if length $rest;
close $s;
