# Hostile control clients never stall the milter: a partial line, a huge
# line, binary bytes, 50 clients at once and one that never reads, while
# miltertest sessions keep being answered in bounded time; each hostile
# client gets an error line or a close; the socket serves afterwards.
# checks: 7
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
if ! ctl_start; then
	fail control/hostile-start "daemon did not come up: $(oneline "$W/log")"
	exit 1
fi
# hostile.py opens the clients, runs the miltertest sessions while they
# are held, moves the fake clock past the request bound (no sleeping),
# and prints one "name result" line per client.
MT_CMD="timeout -k 2 20 miltertest -D sock=unix:$W/m.sock -D addr=192.0.2.60 -D n=3 -s $HERE/conns.lua" \
    timeout -k 2 30 python3 - "$W/c.sock" "$W/clock" > "$W/res" 2> "$W/py.err" <<'PY'
import os, socket, subprocess, sys, time
path, clock = sys.argv[1], sys.argv[2]

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    return s

def answer(s, bound=5.0):
    # Everything until the daemon closes, within bound seconds.
    s.settimeout(bound)
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except (ConnectionResetError, socket.timeout) as e:
        data += b"<%s>" % type(e).__name__.encode()
    return data

partial = conn(); partial.sendall(b"STATS")           # no newline, ever
slow = conn(); slow.sendall(b"TOP 1000\n")            # never reads
huge = conn()
try:
    huge.sendall(b"A" * 100000 + b"\n")
except OSError:
    pass
print("huge", answer(huge)[:60].decode(errors="replace").split("\n")[0])
binary = conn(); binary.sendall(b"STATS\x00\xff\x1b\n")
print("binary", answer(binary)[:60].decode(errors="replace").split("\n")[0])

flood = []
for i in range(50):
    try:
        flood.append(conn())
    except OSError as e:
        print("flood-connect-error", e)
t0 = time.monotonic()
mt = subprocess.run(os.environ["MT_CMD"].split(), capture_output=True, timeout=25)
print("milter", round(time.monotonic() - t0, 3), mt.returncode,
      mt.stdout.decode().replace("\n", ","))
busy = closed = other = 0
for s in flood:
    a = answer(s, 3.0)
    if a.startswith(b"ERR busy"):
        busy += 1
    elif a.startswith(b"ERR timeout") or a == b"":
        closed += 1
    else:
        other += 1
print("flood busy=%d timedout=%d other=%d" % (busy, closed, other))
# Past the 2 s request bound on the daemon's (fake) clock.
with open(clock + ".new", "w") as f:
    f.write("+30\n")
os.rename(clock + ".new", clock)
print("partial", answer(partial).decode(errors="replace").split("\n")[0])
print("slow", "open" if slow.fileno() >= 0 else "closed")
ok = conn(); ok.sendall(b"STATS\n")
print("after", answer(ok).decode().split("\n")[0])
PY
rc=$?
[ $rc = 0 ] || echo "# hostile.py rc=$rc: $(oneline "$W/py.err" 6)"
res() { sed -n "s/^$1 //p" "$W/res" | head -n 1; }

T=control/hostile-huge-line
case $(res huge) in "ERR request too long"*) pass $T ;; *) fail $T "got: $(res huge)" ;; esac
T=control/hostile-binary
case $(res binary) in "ERR request holds a byte"*) pass $T ;; *) fail $T "got: $(res binary)" ;; esac
T=control/hostile-milter-answers
set -- $(res milter)
# Three sessions within 3 s (each is ~0.1 ms unloaded) while 50 control
# clients knock and two hold their slots.
if [ $# = 3 ] && [ "$2" = 0 ] && [ "$3" = "ACCEPT,ACCEPT,ACCEPT," ] &&
    awk -v t="$1" 'BEGIN { exit !(t < 3) }'; then pass $T; else fail $T "milter: $*"; fi
T=control/hostile-flood-bounded
set -- $(res flood)
b=${1#busy=}; o=${3#other=}
if [ "$o" = 0 ] && [ "${b:-0}" -ge 40 ]; then pass $T; else fail $T "flood: $*"; fi
T=control/hostile-partial-line-timeout
case $(res partial) in "ERR timeout"*) pass $T ;; *) fail $T "got: $(res partial)" ;; esac
T=control/hostile-serves-after
if [ "$(res after)" = OK ]; then pass $T; else fail $T "STATS after: $(res after); $(oneline "$W/res" 9)"; fi
T=control/hostile-daemon-alive
if kill -0 "$DPID" 2>/dev/null && [ "$(conns 192.0.2.61 1)" = ACCEPT ]; then pass $T; else
	fail $T "daemon gone: $(oneline "$W/log")"; fi
