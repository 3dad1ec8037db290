#!/usr/bin/perl
# Hold one SMTP session open, as a client that stalls mid-session, for the
# max_concurrent tests (tests/mta/concurrent.sh).
#
#   hold-smtp.pl LOCAL_ADDR SERVER_ADDR PORT STATEFILE MAXSECS
#
# Connects from LOCAL_ADDR, reads the greeting; on 220 sends EHLO and reads
# its reply.  Then writes one line to STATEFILE (by rename, so a reader
# never sees half of it): "held" when greeted and EHLO got 250, else
# "refused LINE" / "failed WHY".  It then holds the session, sending
# nothing, until killed (the test kills it: the MTA sees the client vanish
# mid-session) or MAXSECS pass; it never sends QUIT.  Every read is bounded
# (10 s).
use strict;
use warnings;
use IO::Socket::IP;

@ARGV == 5 or die "usage: $0 LOCAL_ADDR SERVER_ADDR PORT STATEFILE MAXSECS\n";
my ($local, $server, $port, $state, $max) = @ARGV;

sub done {
	my ($line) = @_;
	open(my $f, '>', "$state.tmp") or die "$state.tmp: $!\n";
	print $f "$line\n";
	close($f);
	rename("$state.tmp", $state) or die "rename $state: $!\n";
}

# One reply (possibly multi-line): its last line, or undef at EOF/timeout.
sub reply {
	my ($s) = @_;
	my $last;
	eval {
		local $SIG{ALRM} = sub { die "timeout\n" };
		alarm 10;
		while (my $l = <$s>) {
			$l =~ s/\r?\n\z//;
			$last = $l;
			last if $l =~ /^\d{3}(?: |\z)/;
		}
		alarm 0;
	};
	return $last;
}

my $s = IO::Socket::IP->new(LocalHost => $local, PeerHost => $server,
    PeerPort => $port, Proto => 'tcp', Timeout => 10);
if (!$s) { done("failed connect: $@"); exit 2 }
my $g = reply($s);
if (!defined $g || $g !~ /^220/) { done("refused " . ($g // 'EOF')); exit 0 }
print $s "EHLO client.mrl.test\r\n";
my $e = reply($s);
if (!defined $e || $e !~ /^250/) { done("refused EHLO " . ($e // 'EOF')); exit 0 }
done("held");
sleep 1 for 1 .. $max;	# bounded; the test kills us long before
exit 0;
