# milter-ratelimit: plain GNU make, no autotools.
#
#   make            build the daemon
#   make run        install build deps (apt-get), build, run on the sample config
#   make check      install test deps (apt-get), build, run every test
#   make sanitize   ASan+UBSan build in build-asan/, then its unit and milter tests
#   make tsan       TSan build in build-tsan/, then its unit tests
#   make fuzz       libFuzzer targets (clang) in build-fuzz/, FUZZ_TIME s each
#   make mutants    mutation check (tests/mutants.list), on demand
#   make bench      benchmarks (bench/RESULTS.md); make bench-quick: < 2 min
#   make install / uninstall   honour DESTDIR and PREFIX
#   make deb        the Debian package (debian/), into dist/

VERSION   := 0.1.0
PREFIX    ?= /usr/local
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
DOCDIR    ?= $(PREFIX)/share/doc/milter-ratelimit
# sendmail.mc and Postfix lines, the fail2ban filter and jail: files to
# copy, where Debian puts them (the package has the same layout).
EXAMPLEDIR ?= $(DOCDIR)/examples
UNITDIR   ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
RUNUSER   ?= milter-ratelimit

CC        ?= cc
PKGS      := milter libconfuse
PKGS      += hiredis
WARN      := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
             -Wpointer-arith -Wformat=2 -Wno-format-nonliteral
# CPPFLAGS, CFLAGS and LDFLAGS are honoured as given (environment or
# command line: a Debian build passes dpkg-buildflags', whose CPPFLAGS
# carry -D_FORTIFY_SOURCE=2).  What the build needs is appended to the
# user's CFLAGS, so no value of theirs can drop it.
CFLAGS    ?= -O2 -g
override CFLAGS += -std=gnu11 -pthread $(WARN) -Iinclude -DVERSION=\"$(VERSION)\" \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
override LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ldb -lpthread -lm
# CI builds with WERROR=1.
ifeq ($(WERROR),1)
override CFLAGS += -Werror
endif

B         ?= build
CORE_SRC  := src/addr.c src/window.c src/exempt.c src/config.c src/log.c \
             src/policy.c src/siphash.c src/clock.c src/mapentry.c src/mapdb.c src/reload.c \
             src/names.c \
             src/report.c src/privs.c src/pidfile.c src/sockfile.c src/sockspec.c src/notify.c src/safefile.c
# sendmail migration: access import, map source editing, socket directory check.
CORE_SRC  += src/access_import.c src/mapsource.c src/sockdir.c
# Postfix configuration check (warnings at -n and start).
CORE_SRC  += src/postfixcheck.c
# Several keys per client (prefix sections).
CORE_SRC  += src/clientkeys.c
# Per-listener rules ({daemon_port}).
CORE_SRC  += src/listener.c
# Open sessions per client (max_concurrent).
CORE_SRC  += src/concurrency.c
# Shared counters in Redis (issue 12): hiredis, and the server-side
# script src/redis_window.lua built in as a C string (src/lua2c.awk).
CORE_SRC  += src/redis_conf.c src/redis_breaker.c src/redis_conn.c src/redis_store.c
# The control socket (ratelimit-ctl): explain, top, reset.
CORE_SRC  += src/policyctl.c src/stats.c src/control_proto.c
DAEMON_SRC := src/main.c src/milter.c src/daemon.c src/maint.c src/control.c src/control_answer.c
# Prometheus metrics: the exposition and the address in the core (unit
# tests), the HTTP server (libmicrohttpd) in the daemon only.
CORE_SRC  += src/metrics.c src/metrics_listen.c
# Redis's state and round trips in /metrics.
CORE_SRC  += src/metrics_redis.c
DAEMON_SRC += src/metrics_http.c
# "=", not ":=": read at link time, after make check has installed the
# -dev package (a fresh machine has none when the Makefile is parsed).
MHD_LIBS   = $(shell pkg-config --libs libmicrohttpd 2>/dev/null)
CORE_OBJ  := $(CORE_SRC:src/%.c=$(B)/%.o)
CORE_OBJ  += $(B)/redis_script.o
DAEMON_OBJ := $(DAEMON_SRC:src/%.c=$(B)/%.o)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

BUILD_DEPS := build-essential pkg-config libmilter-dev libdb-dev libconfuse-dev
# Redis (issue 12): hiredis, for the daemon and the script's replay test.
BUILD_DEPS += libhiredis-dev
# Prometheus metrics: the HTTP server; the test suite's Prometheus and curl.
BUILD_DEPS += libmicrohttpd-dev
# No MTA, rsyslog or fail2ban here: the suites run them from packages
# unpacked under the work tree (tests/pkgroot.sh); installing sendmail-bin
# would remove an admin's Postfix.  Listed instead: the plain libraries
# those unpacked binaries load (sendmail-bin, rsyslog, postfix), m4 for
# sendmail's .mc files and python3 for fail2ban-regex.  tests/deps.sh
# removes nothing and leaves nothing enabled.  netbase: /etc/services, for
# the port names libmilter accepts (inet:smtp@...); a minimal system lacks it.
MTA_LIBS   := libldap-2.5-0 liblockfile1 libnsl2 libsasl2-2 libssl3 libwrap0 \
              libestr0 libfastjson4 liblognorm5 libsystemd0 libuuid1 libzstd1 \
              zlib1g libicu72
TEST_DEPS  := $(BUILD_DEPS) libcmocka-dev miltertest swaks libio-socket-inet6-perl netbase \
              m4 python3 iproute2 mandoc db5.3-util procps util-linux systemd \
              valgrind clang libclang-rt-14-dev strace libfaketime redis-server $(MTA_LIBS)
# The Debian package (make deb, tests/deb): debhelper 13 with dpkg-dev,
# cmocka for the unit tests the package build runs, lintian to check the
# result.  No fakeroot: debian/control says Rules-Requires-Root: no.
DEB_DEPS   := debhelper dpkg-dev libcmocka-dev lintian
TEST_DEPS  += $(filter-out $(TEST_DEPS),$(DEB_DEPS))
TEST_DEPS  += prometheus curl

.PHONY: all run check check-deps unit binaries units deps-build deps-test print-deps \
        sanitize tsan fuzz install uninstall clean lint mutants

all: milter-ratelimit ratelimit-map ratelimit-ctl

milter-ratelimit ratelimit-map ratelimit-ctl: %: $(B)/%
	cp $< $@

$(B)/milter-ratelimit: $(DAEMON_OBJ) $(CORE_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(MHD_LIBS)

$(B)/ratelimit-map: $(B)/ratelimit-map.o $(CORE_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The control socket's client (ratelimit-ctl(8)).
$(B)/ratelimit-ctl: $(B)/ratelimit-ctl.o $(CORE_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/%.o: src/%.c $(wildcard include/*.h) | $(B)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/redis_script.c: src/redis_window.lua src/lua2c.awk | $(B)
	awk -f src/lua2c.awk src/redis_window.lua > $@.tmp && mv $@.tmp $@

$(B)/redis_script.o: $(B)/redis_script.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# Each directory its own target: check-deps makes $(B)/machine first, and
# an existing $(B) must not stand for $(B)/tests.
$(B) $(B)/tests:
	mkdir -p $@

$(B)/tests/%: tests/unit/%.c tests/unit/unit.h $(CORE_OBJ) | $(B)/tests
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -Itests/unit -o $@ $< $(CORE_OBJ) $(LDLIBS) -lcmocka

include bench/Makefile.inc

# Redis (issue 12): src/redis_window.lua replayed against the local table
# (tests/redis/t-equiv.sh); built with the unit tests, every build dir.
REDIS_REPLAY := $(B)/tests/redis-replay
$(REDIS_REPLAY): tests/redis/replay.c $(CORE_OBJ) | $(B)/tests
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(CORE_OBJ) $(LDLIBS) -lhiredis
units check: $(REDIS_REPLAY)

# --- the two commands of the quick start ---------------------------------

deps-build:
	@sh tests/deps.sh $(BUILD_DEPS)

deps-test:
	@sh tests/deps.sh $(TEST_DEPS)

# The lists, for tests/deps/run.sh and anyone who wants to know.
print-deps:
	@echo BUILD_DEPS $(BUILD_DEPS)
	@echo TEST_DEPS $(TEST_DEPS)
	@echo DEB_DEPS $(DEB_DEPS)

# The sample config, with the socket in ./run/ and, since the quick start
# has no milter-ratelimit user yet, the daemon dropping to nobody.  ./run
# stays root's: a directory the run user may write would let it swap the
# socket.  The daemon, once nobody, cannot remove its socket there at stop:
# this recipe's shell, still root, removes it once the daemon has stopped
# cleanly (exit 0: the socket was its own; any other exit, such as 75 for
# another instance running, leaves the socket alone), so a first run ends
# with a clean ./run.  The trap keeps the shell alive through Ctrl-C
# (SIGINT reaches the whole process group; the daemon stops on it), and
# is reset to the default in the daemon.
RUN_SOCK := run/milter-ratelimit.sock
#
# The checkout's path reaches the config only through the environment
# (MRL_RUN_TOP, read by awk's ENVIRON) and the recipe's shell only as
# "$$MRL_RUN_TOP": pasted into a sed script or a shell line, a path such
# as /tmp/a";touch /tmp/x;# ran commands as root (GNU sed's e flag) and
# one with & corrupted the config.  In the config it is a libconfuse
# quoted string: " and \ are escaped; control characters and "$${"
# (environment substitution, refused by the daemon) make it refuse.
# A ./run that is a symlink, not a directory, or (as root) not root's is
# refused: root would otherwise write into wherever the link points.
run: export MRL_RUN_TOP := $(CURDIR)
run: export MRL_RUN_USER := $(if $(filter 0,$(shell id -u)),nobody,$(shell id -un))
run: deps-build all
	@case "$$MRL_RUN_TOP" in *[[:cntrl:]]*|*'$${'*) \
	    echo "make run: the checkout's path has a control character or \"\$${\" (which the config cannot hold); move the checkout" >&2; exit 1;; esac
	@if [ -L run ] || { [ -e run ] && [ ! -d run ]; }; then \
	    echo "make run: ./run is a symbolic link or not a directory; remove it first" >&2; exit 1; fi
	@[ -d run ] || mkdir run
	@if [ "$$(id -u)" = 0 ] && [ "$$(stat -c %u run)" != 0 ]; then \
	    echo "make run: ./run is owned by $$(stat -c %U run), not root; remove it first" >&2; exit 1; fi
	chmod 0755 run
	awk 'function q(s,  r, i, c) { r = ""; for (i = 1; i <= length(s); i++) { \
	    c = substr(s, i, 1); if (c == "\\" || c == "\"") r = r "\\"; r = r c } return r } \
	    /^socket *=/ { print "socket = \"" q("unix:" ENVIRON["MRL_RUN_TOP"] "/$(RUN_SOCK)") "\""; next } \
	    /^user *=/ { print "user = \"" q(ENVIRON["MRL_RUN_USER"]) "\""; next } { print }' \
	    conf/milter-ratelimit.conf > run/milter-ratelimit.conf
	@echo "./milter-ratelimit -d -f run/milter-ratelimit.conf"
	@trap : INT TERM; \
	./milter-ratelimit -d -f run/milter-ratelimit.conf; st=$$?; \
	if [ $$st = 0 ] && [ -S $(RUN_SOCK) ]; then rm -f $(RUN_SOCK); fi; exit $$st

# Everything, once: the normal build, then the ASan+UBSan build of the
# daemon and the tool under the suites that drive them hardest.
ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
TSAN_FLAGS := -O1 -g -fsanitize=thread

# The machine suite, last, holds the deps step and every suite to leaving
# the machine as it was: it compares snapshots taken around the deps step
# (check-deps) with one of its own (tests/machine/).
check: check-deps all $(UNIT_BIN) bench-build
	$(MAKE) B=build-asan CFLAGS="$(ASAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" binaries units
	sh tests/run.sh $(B) runner deps unit build milter map reload service sandbox faults mta redis deb control metrics bench \
	    unit@build-asan milter@build-asan reload@build-asan redis@build-asan control@build-asan fuzz machine

check-deps:
	@sh tests/machine/snap.sh $(B)/machine/before
	@sh tests/deps.sh $(TEST_DEPS)
	@sh tests/machine/snap.sh $(B)/machine/deps

unit: all $(UNIT_BIN)
	sh tests/run.sh $(B) unit

binaries: $(B)/milter-ratelimit $(B)/ratelimit-map $(B)/ratelimit-ctl
units: $(UNIT_BIN)

# On demand, not in CI: every mutant of tests/mutants.list, one at a time in
# a scratch copy, against the suites that should kill it (tests/mutants.sh).
# It runs the service suite (root) and loads the machine: take the lock
# the heavy suites share.
HEAVY_LOCK ?= /tmp/mrl-heavy.lock
mutants:
	flock $(HEAVY_LOCK) sh tests/mutants.sh

# --- sanitizers ------------------------------------------------------------

sanitize:
	$(MAKE) B=build-asan CFLAGS="$(ASAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" binaries units
	sh tests/run.sh build-asan unit milter map reload redis control metrics

FUZZ_TIME ?= 60
FUZZ_DEPS := $(BUILD_DEPS) clang libclang-rt-14-dev

fuzz:
	@sh tests/deps.sh $(FUZZ_DEPS)
	sh fuzz/run.sh $(FUZZ_TIME)

# The Redis suite too: its connections are per worker thread (issue 12).
tsan:
	$(MAKE) B=build-tsan CFLAGS="$(TSAN_FLAGS)" LDFLAGS="-fsanitize=thread" binaries units
	sh tests/run.sh build-tsan unit redis

lint:
	mandoc -Tlint -W warning man/*.[58]
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	    -Iinclude --suppress=missingIncludeSystem src

# --- install ---------------------------------------------------------------

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(SYSCONFDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(EXAMPLEDIR)/fail2ban
	install -m 0755 milter-ratelimit $(DESTDIR)$(SBINDIR)/milter-ratelimit
	install -m 0755 ratelimit-map $(DESTDIR)$(SBINDIR)/ratelimit-map
	install -m 0755 ratelimit-ctl $(DESTDIR)$(SBINDIR)/ratelimit-ctl
	install -m 0644 man/ratelimit-ctl.8 $(DESTDIR)$(MANDIR)/man8/ratelimit-ctl.8
	install -m 0644 man/milter-ratelimit.8 $(DESTDIR)$(MANDIR)/man8/milter-ratelimit.8
	install -m 0644 man/ratelimit-map.8 $(DESTDIR)$(MANDIR)/man8/ratelimit-map.8
	install -m 0644 man/milter-ratelimit.conf.5 $(DESTDIR)$(MANDIR)/man5/milter-ratelimit.conf.5
	sed 's|/usr/sbin/|$(SBINDIR)/|g' conf/milter-ratelimit.service \
	    > $(DESTDIR)$(UNITDIR)/milter-ratelimit.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/milter-ratelimit.service
	install -m 0644 conf/sendmail.mc conf/postfix-main.cf $(DESTDIR)$(EXAMPLEDIR)/
	@# The examples and the sample config refer the admin to the README.
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -d $(DESTDIR)$(EXAMPLEDIR)/fail2ban/filter.d $(DESTDIR)$(EXAMPLEDIR)/fail2ban/jail.d
	install -m 0644 conf/fail2ban/filter.d/milter-ratelimit.conf $(DESTDIR)$(EXAMPLEDIR)/fail2ban/filter.d/milter-ratelimit.conf
	install -m 0644 conf/fail2ban/jail.d/milter-ratelimit.conf $(DESTDIR)$(EXAMPLEDIR)/fail2ban/jail.d/milter-ratelimit.conf
	install -d $(DESTDIR)$(EXAMPLEDIR)/prometheus
	install -m 0644 conf/prometheus/prometheus.yml conf/prometheus/milter-ratelimit.rules.yml $(DESTDIR)$(EXAMPLEDIR)/prometheus/
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/milter-ratelimit.conf ]; then \
	    echo "keeping existing $(DESTDIR)$(SYSCONFDIR)/milter-ratelimit.conf"; \
	else \
	    install -m 0644 conf/milter-ratelimit.conf $(DESTDIR)$(SYSCONFDIR)/milter-ratelimit.conf; \
	fi
	install -d $(DESTDIR)$(SYSCONFDIR)/mail
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/mail/ratelimit-exempt ]; then \
	    echo "keeping existing $(DESTDIR)$(SYSCONFDIR)/mail/ratelimit-exempt"; \
	else \
	    install -m 0644 conf/ratelimit-exempt $(DESTDIR)$(SYSCONFDIR)/mail/ratelimit-exempt; \
	fi
	@# On the real system (no DESTDIR), as a package's postinst would:
	@# the unprivileged user the daemon runs as.
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && ! getent passwd $(RUNUSER) >/dev/null; then \
	    echo "creating system user $(RUNUSER)"; \
	    useradd --system --user-group --no-create-home --home-dir /nonexistent \
	        --shell /usr/sbin/nologin $(RUNUSER); \
	fi

# The config is removed only when it is still the sample: an admin's edits stay.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/milter-ratelimit $(DESTDIR)$(SBINDIR)/ratelimit-map \
	    $(DESTDIR)$(SBINDIR)/ratelimit-ctl $(DESTDIR)$(MANDIR)/man8/ratelimit-ctl.8 \
	    $(DESTDIR)$(MANDIR)/man8/milter-ratelimit.8 $(DESTDIR)$(MANDIR)/man8/ratelimit-map.8 \
	    $(DESTDIR)$(MANDIR)/man5/milter-ratelimit.conf.5 \
	    $(DESTDIR)$(UNITDIR)/milter-ratelimit.service
	rm -rf $(DESTDIR)$(DOCDIR)
	@for f in milter-ratelimit.conf:milter-ratelimit.conf ratelimit-exempt:mail/ratelimit-exempt; do \
	    src=conf/$${f%%:*}; dst=$(DESTDIR)$(SYSCONFDIR)/$${f#*:}; \
	    if cmp -s $$src $$dst; then rm -f $$dst; \
	    elif [ -e $$dst ]; then echo "keeping modified $$dst"; fi; \
	done

clean:
	rm -rf build build-asan build-tsan build-fuzz build-bench milter-ratelimit ratelimit-map ratelimit-ctl run
	rm -rf $(DEB_OUT) $(DEB_DIST)
	@# What a dpkg-buildpackage run in the checkout itself leaves (make deb
	@# builds in $(DEB_OUT)); dh clean removes the same.
	rm -rf debian/.debhelper debian/milter-ratelimit debian/files debian/*.substvars \
	    debian/debhelper-build-stamp debian/*.debhelper.log

# --- the Debian package ------------------------------------------------------

# dpkg-buildpackage writes its results beside the source tree, in the
# parent directory: it builds a copy under $(DEB_OUT) (no build output,
# no VCS data), and the .deb, .buildinfo and .changes go to $(DEB_DIST).
# Root or not (Rules-Requires-Root: no).  DEB_BUILD_OPTIONS is passed on
# (nocheck skips the unit tests).
# Set with := (a command line may override them, the environment may not):
# make clean removes them, and must never remove a directory named by a
# variable that happened to be in the environment.
DEB_OUT   := build-deb
DEB_DIST  := dist
.PHONY: deb
deb:
	@sh tests/deps.sh $(BUILD_DEPS) $(DEB_DEPS)
	sh debian/build.sh . $(DEB_OUT) $(DEB_DIST)
