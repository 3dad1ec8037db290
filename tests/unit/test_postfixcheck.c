/*
 * test_postfixcheck.c: the Postfix reachability check on postconf output
 * as Postfix 3.7 prints it (postconf -M, -Px, -xh), no postconf needed.
 */
#include "unit.h"
#include "postfixcheck.h"

#define SPOOL "/var/spool/postfix"
#define IN_SPOOL SPOOL "/milter-ratelimit/milter-ratelimit.sock"
#define IN_RUN "/run/milter-ratelimit/milter-ratelimit.sock"

/* Debian's stock master.cf lines that matter: smtpd chrooted. */
#define DEBIAN_SMTP "smtp       inet  n       -       y       -       -       smtpd\n" \
	"pickup     unix  n       -       y       60      1       pickup\n" \
	"qmgr       unix  n       -       n       300     1       qmgr\n"
#define PLAIN_SMTP "smtp       inet  n       -       -       -       -       smtpd\n" \
	"qmgr       unix  n       -       n       300     1       qmgr\n"

static char seen[8][4096];
static int nseen;

static void
collect(const char *line)
{
	if (nseen < 8)
		snprintf(seen[nseen], sizeof seen[0], "%s", line);
	nseen++;
}

static int
run(const char *sock, const char *milters, const char *master, const char *over)
{
	nseen = 0;
	memset(seen, 0, sizeof seen);
	return postfixcheck_analyze(sock, SPOOL, milters, master, over, collect);
}

/* The case: Debian's chroot, the README's old /run socket. */
static void
test_chrooted_socket_outside_spool(void **state)
{
	(void)state;
	assert_int_equal(run(IN_RUN, "unix:" IN_RUN, DEBIAN_SMTP, ""), 1);
	assert_int_equal(nseen, 1);
	assert_non_null(strstr(seen[0], "master.cf smtp/inet"));
	assert_non_null(strstr(seen[0], "runs chrooted in " SPOOL));
	assert_non_null(strstr(seen[0], IN_RUN));
	/* The fix is named. */
	assert_non_null(strstr(seen[0], "socket = \"unix:" IN_SPOOL "\""));
	assert_non_null(strstr(seen[0], "smtpd_milters = unix:/milter-ratelimit/milter-ratelimit.sock"));
}

/* The README's Postfix setup: silent. */
static void
test_chrooted_right(void **state)
{
	(void)state;
	assert_int_equal(run(IN_SPOOL, "unix:/milter-ratelimit/milter-ratelimit.sock",
	    DEBIAN_SMTP, ""), 0);
	/* Relative to the queue directory, and with settings in braces. */
	assert_int_equal(run(IN_SPOOL, "unix:milter-ratelimit/milter-ratelimit.sock",
	    DEBIAN_SMTP, ""), 0);
	assert_int_equal(run(IN_SPOOL, "inet:127.0.0.1:8891, { unix:/milter-ratelimit//"
	    "./milter-ratelimit.sock, connect_timeout=4s }", DEBIAN_SMTP, ""), 0);
	assert_int_equal(nseen, 0);
}

/* Socket in the spool, but main.cf gives the host path to a chrooted smtpd. */
static void
test_chrooted_host_path(void **state)
{
	(void)state;
	assert_int_equal(run(IN_SPOOL, "unix:" IN_SPOOL, DEBIAN_SMTP, ""), 1);
	assert_non_null(strstr(seen[0], "smtpd_milters for master.cf smtp/inet (from main.cf"));
	assert_non_null(strstr(seen[0], "Fix: smtpd_milters = unix:/milter-ratelimit/milter-ratelimit.sock,"));
}

/* Without a chroot ("-" is n since Postfix 3.0) the host path is right. */
static void
test_plain(void **state)
{
	(void)state;
	assert_int_equal(run(IN_RUN, "unix:" IN_RUN, PLAIN_SMTP, ""), 0);
	assert_int_equal(run(IN_SPOOL, "unix:" IN_SPOOL, PLAIN_SMTP, ""), 0);
	assert_int_equal(run(IN_SPOOL, "unix:milter-ratelimit/milter-ratelimit.sock", PLAIN_SMTP, ""), 0);
	/* The chroot-relative name does not work without the chroot. */
	assert_int_equal(run(IN_SPOOL, "unix:/milter-ratelimit/milter-ratelimit.sock", PLAIN_SMTP, ""), 1);
	assert_non_null(strstr(seen[0], "Fix: smtpd_milters = unix:" IN_SPOOL ","));
}

/* Nothing configured at all: Postfix does not ask us. */
static void
test_no_milters(void **state)
{
	(void)state;
	assert_int_equal(run(IN_RUN, "", PLAIN_SMTP, ""), 1);
	assert_non_null(strstr(seen[0], "(from main.cf: \"\")"));
	assert_int_equal(run(IN_RUN, "inet:127.0.0.1:8891", PLAIN_SMTP, ""), 1);
	assert_int_equal(run(IN_RUN, "local:" IN_RUN, PLAIN_SMTP, ""), 1);
}

/* Per-service -o smtpd_milters: checked; set to nothing: a choice. */
static void
test_overrides(void **state)
{
	const char *master = PLAIN_SMTP
	    "submission inet  n       -       y       -       -       smtpd -o smtpd_milters=unix:/run/x.sock\n"
	    "127.0.0.1:10025 inet n  -       n       -       -       smtpd -o smtpd_milters=\n";
	const char *over = "submission/inet/smtpd_milters = unix:/milter-ratelimit/milter-ratelimit.sock\n"
	    "submission/inet/syslog_name = postfix/submission\n"
	    "127.0.0.1:10025/inet/smtpd_milters =\n";

	(void)state;
	/* smtp uses main.cf (host path); submission is chrooted, its -o right. */
	assert_int_equal(run(IN_SPOOL, "unix:" IN_SPOOL, master, over), 0);
	over = "submission/inet/smtpd_milters = unix:/run/x.sock\n"
	    "127.0.0.1:10025/inet/smtpd_milters =\n";
	assert_int_equal(run(IN_SPOOL, "unix:" IN_SPOOL, master, over), 1);
	assert_non_null(strstr(seen[0], "master.cf submission/inet (from its master.cf -o: \"unix:/run/x.sock\")"));
}

/* postscreen in front: the smtpd behind it is a "pass" service. */
static void
test_postscreen(void **state)
{
	const char *master =
	    "smtp       inet  n       -       y       -       1       postscreen\n"
	    "smtpd      pass  -       -       y       -       -       smtpd\n"
	    "dnsblog    unix  -       -       y       -       0       dnsblog\n";

	(void)state;
	assert_int_equal(run(IN_RUN, "unix:" IN_RUN, master, ""), 1);
	assert_non_null(strstr(seen[0], "master.cf smtpd/pass"));
	assert_null(strstr(seen[0], "smtp/inet"));
	assert_int_equal(run(IN_SPOOL, "unix:/milter-ratelimit/milter-ratelimit.sock", master, ""), 0);
}

/* Two chrooted services: one warning naming both. */
static void
test_two_chrooted(void **state)
{
	const char *master = DEBIAN_SMTP
	    "submission inet  n       -       y       -       -       smtpd\n";

	(void)state;
	assert_int_equal(run(IN_RUN, "unix:" IN_RUN, master, ""), 1);
	assert_non_null(strstr(seen[0], "master.cf smtp/inet, submission/inet"));
}

/* No smtpd at all, or lines that are not services: nothing to say. */
static void
test_nothing_to_check(void **state)
{
	(void)state;
	assert_int_equal(run(IN_RUN, "", "qmgr unix n - n 300 1 qmgr\n", ""), 0);
	assert_int_equal(run(IN_RUN, "", "", ""), 0);
	assert_int_equal(run(IN_RUN, "", "garbage\n  \n", ""), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chrooted_socket_outside_spool),
		cmocka_unit_test(test_chrooted_right),
		cmocka_unit_test(test_chrooted_host_path),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_no_milters),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_postscreen),
		cmocka_unit_test(test_two_chrooted),
		cmocka_unit_test(test_nothing_to_check),
	};

	return cmocka_run_group_tests_name("postfixcheck", tests, NULL, NULL);
}
