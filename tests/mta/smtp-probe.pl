#!/usr/bin/perl
# A tiny SMTP client that says exactly what it is told, for what swaks
# cannot do: skip HELO, and prove the server hung up after a 421.
#
#   smtp-probe.pl LOCAL_ADDR SERVER_ADDR PORT [COMMAND...]
#
# Connects from LOCAL_ADDR, prints every server line as "S: line" and every
# command as "C: command", sends the commands one by one (each after the
# previous reply), and prints "EOF" when the server closes.  After a 421
# reply it sends nothing more; after a 421 or 221 it waits for the close.  Every read is
# bounded (10 s); a timeout prints "TIMEOUT" and exits 2.
use strict;
use warnings;
use IO::Socket::IP;

@ARGV >= 3 or die "usage: $0 LOCAL_ADDR SERVER_ADDR PORT [COMMAND...]\n";
my ($local, $server, $port, @cmds) = @ARGV;
$| = 1;

my $s = IO::Socket::IP->new(
	LocalHost => $local,
	PeerHost  => $server,
	PeerPort  => $port,
	Proto     => 'tcp',
	Timeout   => 10,
) or do { print "CONNECT-FAILED: $@\n"; exit 2 };

# Read one (possibly multi-line) reply; returns its code, or undef at EOF.
sub reply {
	my $code;
	while (1) {
		my $line = eval {
			local $SIG{ALRM} = sub { die "timeout\n" };
			alarm 10;
			my $l = <$s>;
			alarm 0;
			$l;
		};
		if ($@) { print "TIMEOUT\n"; exit 2 }
		if (!defined $line) { print "EOF\n"; return undef }
		$line =~ s/\r?\n\z//;
		print "S: $line\n";
		return $1 if $line =~ /^(\d{3})(?: |\z)/;
	}
}

my $code = reply();
exit 0 unless defined $code;
for my $c (@cmds) {
	last if $code eq '421';
	print "C: $c\n";
	print $s "$c\r\n";
	$code = reply();
	exit 0 unless defined $code;
}
# After 421 (or our QUIT's 221) the server must close: show that it did.
if ($code eq '421' || $code eq '221') {
	my $more = reply();
	print "NO-EOF-AFTER-$code\n" if defined $more;
}
exit 0;
