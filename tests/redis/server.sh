# A private redis-server for one test.  Source it (after tests/lib.sh).
#
# redis_start DIR [ARG...]: start redis-server (Debian's, Redis 7) with its
#   data, socket and log in DIR (created 0700): unix socket DIR/redis.sock,
#   a free loopback port, no persistence, and ARG... added to its command
#   line (--requirepass x, --maxmemory 1mb, ...).  Sets REDIS_DIR,
#   REDIS_SOCK, REDIS_PORT and REDIS_PID; waits (bounded) until it answers
#   PING.  Fails loudly when it cannot start: a test that needs Redis never
#   skips.
# rcli ARG...: redis-cli on that socket (add -a/--user yourself).
# redis_stop: SIGTERM, wait for the exit (bounded), then SIGKILL.
# redis_restart [ARG...]: stop, then start again on the same socket and port.
#
# The port: a random one in 20000..59999 not in use (ss), tried up to 20
# times; redis-server exits when another process wins the race, and the
# next port is tried.

REDIS_SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
REDIS_CLI=${REDIS_CLI:-/usr/bin/redis-cli}

rcli() { "$REDIS_CLI" -s "$REDIS_SOCK" "$@"; }

redis_ping() { [ "$("$REDIS_CLI" -s "$REDIS_SOCK" ${REDIS_AUTH:-} PING 2>/dev/null)" = PONG ]; }

redis_start() {
	REDIS_DIR=$1; shift
	REDIS_ARGS="$*"
	mkdir -p "$REDIS_DIR" && chmod 0700 "$REDIS_DIR" || return 1
	REDIS_SOCK=$REDIS_DIR/redis.sock
	if [ ! -x "$REDIS_SERVER" ]; then
		echo "redis_start: $REDIS_SERVER not found (Debian: redis-server, in TEST_DEPS)" >&2
		return 1
	fi
	_tries=0
	while [ $_tries -lt 20 ]; do
		_tries=$((_tries + 1))
		if [ -z "${REDIS_PORT:-}" ] || [ "${_redis_keep_port:-0}" = 0 ]; then
			REDIS_PORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ))
			ss -Htln "sport = :$REDIS_PORT" | grep -q . && continue
		fi
		# shellcheck disable=SC2086
		"$REDIS_SERVER" --bind 127.0.0.1 --port "$REDIS_PORT" \
		    --unixsocket "$REDIS_SOCK" --unixsocketperm 770 \
		    --dir "$REDIS_DIR" --save '' --appendonly no \
		    --logfile "$REDIS_DIR/redis.log" --pidfile "$REDIS_DIR/redis.pid" \
		    --daemonize no --protected-mode yes --enable-debug-command local \
		    $REDIS_ARGS > "$REDIS_DIR/stdout" 2>&1 &
		REDIS_PID=$!
		if wait_for 10 redis_up; then
			return 0
		fi
		kill -9 "$REDIS_PID" 2>/dev/null
		wait "$REDIS_PID" 2>/dev/null
		[ "${_redis_keep_port:-0}" = 0 ] || break
	done
	echo "redis_start: redis-server did not start; its log:" >&2
	tail -n 5 "$REDIS_DIR/redis.log" >&2
	return 1
}

# Up: the process lives and the socket answers (PING, or NOAUTH with
# --requirepass: it answers either way).
redis_up() {
	kill -0 "$REDIS_PID" 2>/dev/null && [ -S "$REDIS_SOCK" ] &&
	    "$REDIS_CLI" -s "$REDIS_SOCK" PING 2>&1 | grep -Eq 'PONG|NOAUTH'
}

redis_stop() {
	[ -n "${REDIS_PID:-}" ] || return 0
	kill -CONT "$REDIS_PID" 2>/dev/null
	kill -TERM "$REDIS_PID" 2>/dev/null
	if ! wait_for 10 sh -c "! kill -0 $REDIS_PID"; then
		kill -KILL "$REDIS_PID" 2>/dev/null
	fi
	wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=
}

redis_restart() {
	redis_stop
	rm -f "$REDIS_SOCK"
	_redis_keep_port=1
	# shellcheck disable=SC2086
	redis_start "$REDIS_DIR" ${*:-$REDIS_ARGS}
	_rc=$?
	_redis_keep_port=0
	return $_rc
}
