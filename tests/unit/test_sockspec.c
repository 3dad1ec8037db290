/*
 * test_sockspec.c: the socket spec as libmilter reads it, table-driven;
 * who can reach an inet socket, for numeric hosts only (no resolver, no
 * network: "localhost" is the one name, from /etc/hosts).
 */
#include "unit.h"

#include "sockspec.h"

static const struct {
	const char *spec;
	bool ok;
	enum sockspec_kind kind;
	const char *host;
} parses[] = {
	{ "unix:/run/m.sock",		true,	SOCKSPEC_UNIX,	"" },
	{ "local:/run/m.sock",		true,	SOCKSPEC_UNIX,	"" },
	{ "inet:10025@127.0.0.1",	true,	SOCKSPEC_INET,	"127.0.0.1" },
	{ "inet:10025@[127.0.0.1]",	true,	SOCKSPEC_INET,	"127.0.0.1" },
	{ "inet:10025",			true,	SOCKSPEC_INET,	"" },
	{ "inet:65535@localhost",	true,	SOCKSPEC_INET,	"localhost" },
	{ "inet:smtp@localhost",	true,	SOCKSPEC_INET,	"localhost" },
	{ "inet6:10025@::1",		true,	SOCKSPEC_INET6,	"::1" },
	{ "inet6:10025@[2001:db8::5]",	true,	SOCKSPEC_INET6,	"2001:db8::5" },
	{ "fd:3",			true,	SOCKSPEC_FD,	"" },
	/* libmilter's strcasecmp on the prefix; a bare path and an empty
	 * prefix are unix sockets (mi_milteropen, libmilter 8.17). */
	{ "UNIX:/run/m.sock",		true,	SOCKSPEC_UNIX,	"" },
	{ "Local:/run/m.sock",		true,	SOCKSPEC_UNIX,	"" },
	{ "/run/m.sock",		true,	SOCKSPEC_UNIX,	"" },
	{ ":/run/m.sock",		true,	SOCKSPEC_UNIX,	"" },
	{ "INET:10025@127.0.0.1",	true,	SOCKSPEC_INET,	"127.0.0.1" },
	{ "Inet:8899@127.0.0.1",	true,	SOCKSPEC_INET,	"127.0.0.1" },
	{ "INET6:10025@::1",		true,	SOCKSPEC_INET6,	"::1" },
	{ "FD:3",			true,	SOCKSPEC_FD,	"" },
	{ "bogus:xyz",			false,	0,		NULL },
	{ "bogus:/run/m.sock",		false,	0,		NULL },
	{ "unix:/",			false,	0,		NULL },
	{ "unix:/run/",			false,	0,		NULL },
	{ "unix:/run/.",		false,	0,		NULL },
	{ "unix:/run/..",		false,	0,		NULL },
	{ "/",				false,	0,		NULL },
	{ ":",				false,	0,		NULL },
	{ ":run/m.sock",		false,	0,		NULL },
	{ "run/m.sock",			false,	0,		NULL },
	{ "/run/a:b.sock",		false,	0,		NULL },
	{ "unixx:/run/m.sock",		false,	0,		NULL },
	{ "",				false,	0,		NULL },
	{ "unix:",			false,	0,		NULL },
	{ "unix:run/m.sock",		false,	0,		NULL },
	{ "inet:",			false,	0,		NULL },
	{ "inet:@127.0.0.1",		false,	0,		NULL },
	{ "inet:0@127.0.0.1",		false,	0,		NULL },
	{ "inet:65536@127.0.0.1",	false,	0,		NULL },
	{ "inet:000010025@127.0.0.1",	false,	0,		NULL },
	{ "inet:no-such-service-mrl@127.0.0.1", false, 0,	NULL },
	{ "inet:10025@",		false,	0,		NULL },
	{ "inet:10025@[]",		false,	0,		NULL },
	{ "fd:",			false,	0,		NULL },
	{ "fd:3x",			false,	0,		NULL },
};

static void
test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof parses / sizeof parses[0]; i++) {
		struct sockspec s;
		char err[300] = "";
		bool ok = sockspec_parse(parses[i].spec, &s, err, sizeof err);

		if (ok != parses[i].ok)
			fail_msg("\"%s\": parsed %s, want %s (%s)", parses[i].spec,
			    ok ? "ok" : "bad", parses[i].ok ? "ok" : "bad", err);
		if (!ok) {
			/* The error names the spec. */
			if (strstr(err, parses[i].spec) == NULL)
				fail_msg("\"%s\": error '%s' does not name it", parses[i].spec, err);
			continue;
		}
		assert_int_equal(s.kind, parses[i].kind);
		assert_string_equal(s.host, parses[i].host);
	}
}

/* The path sockfile creates and sockdir checks: the one libmilter would
 * bind, everything after the first ':' (or the whole bare path). */
static const struct {
	const char *spec;
	const char *path;	/* NULL: not a unix socket (or a bad spec) */
} paths[] = {
	{ "unix:/run/m.sock",		"/run/m.sock" },
	{ "UNIX:/p",			"/p" },
	{ "LOCAL:/run/m.sock",		"/run/m.sock" },
	{ "/tmp/x.sock",		"/tmp/x.sock" },
	{ ":/tmp/x.sock",		"/tmp/x.sock" },
	{ "unix:/run/a:b.sock",		"/run/a:b.sock" },
	{ "unix:/",			NULL },
	{ "inet:10025@127.0.0.1",	NULL },
	{ "fd:3",			NULL },
	{ "bogus:/run/m.sock",		NULL },
};

static void
test_unix_path(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		const char *p = sockspec_unix_path(paths[i].spec);

		if (paths[i].path == NULL ? p != NULL : p == NULL || strcmp(p, paths[i].path) != 0)
			fail_msg("\"%s\": path \"%s\", want \"%s\"", paths[i].spec,
			    p ? p : "(none)", paths[i].path ? paths[i].path : "(none)");
	}
}

static const struct {
	const char *spec;
	enum sockspec_reach want;
	const char *names;	/* in the message, for REMOTE */
} reaches[] = {
	{ "unix:/run/m.sock",		SOCKSPEC_LOCAL,		NULL },
	{ "fd:3",			SOCKSPEC_LOCAL,		NULL },
	{ "inet:10025@127.0.0.1",	SOCKSPEC_LOCAL,		NULL },
	{ "inet:10025@127.255.0.9",	SOCKSPEC_LOCAL,		NULL },
	{ "inet:10025@localhost",	SOCKSPEC_LOCAL,		NULL },
	{ "inet6:10025@::1",		SOCKSPEC_LOCAL,		NULL },
	{ "inet6:10025@::ffff:127.0.0.1", SOCKSPEC_LOCAL,	NULL },
	{ "inet:10025@128.0.0.1",	SOCKSPEC_REMOTE,	"128.0.0.1" },
	{ "inet:10025@126.255.255.255",	SOCKSPEC_REMOTE,	"126.255.255.255" },
	{ "inet:10025@0.0.0.0",		SOCKSPEC_REMOTE,	"0.0.0.0" },
	{ "inet:10025@192.0.2.5",	SOCKSPEC_REMOTE,	"192.0.2.5" },
	{ "inet:10025",			SOCKSPEC_REMOTE,	"every interface" },
	{ "inet6:10025@2001:db8::5",	SOCKSPEC_REMOTE,	"2001:db8::5" },
	{ "inet6:10025@::",		SOCKSPEC_REMOTE,	"::" },
	{ "inet6:10025@::ffff:192.0.2.5", SOCKSPEC_REMOTE,	"192.0.2.5" },
	/* An IPv4 address has no IPv6 form for libmilter's inet6. */
	{ "inet6:10025@192.0.2.5",	SOCKSPEC_UNRESOLVED,	NULL },
	{ "inet:10025@2001:db8::5",	SOCKSPEC_UNRESOLVED,	NULL },
};

static void
test_reach(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof reaches / sizeof reaches[0]; i++) {
		struct sockspec s;
		char err[300], msg[512];
		enum sockspec_reach r;

		if (!sockspec_parse(reaches[i].spec, &s, err, sizeof err))
			fail_msg("\"%s\": %s", reaches[i].spec, err);
		r = sockspec_reach(reaches[i].spec, &s, msg, sizeof msg);
		if (r != reaches[i].want)
			fail_msg("\"%s\": reach %d, want %d (%s)", reaches[i].spec, r,
			    reaches[i].want, msg);
		if (reaches[i].names && strstr(msg, reaches[i].names) == NULL)
			fail_msg("\"%s\": message '%s' does not name %s", reaches[i].spec,
			    msg, reaches[i].names);
		if (r == SOCKSPEC_LOCAL && *msg != '\0')
			fail_msg("\"%s\": loopback, yet a message '%s'", reaches[i].spec, msg);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_unix_path),
		cmocka_unit_test(test_reach),
	};

	return cmocka_run_group_tests_name("sockspec", tests, NULL, NULL);
}
