#!/usr/bin/env python3
"""A fake Redis on a unix socket that answers the counter script wrongly.

    fakeredis.py SOCKET MODE COUNTFILE

It speaks enough RESP for a client to connect (AUTH, SELECT, PING, CLIENT,
SCRIPT LOAD, anything else +OK) and answers every EVALSHA and EVAL with the
reply MODE names, never a good one:

    bulk      a bulk string where an array of integers belongs
    short     an array of integers one element short of { now, refused_by,
              retry, count }
    long      an array far too long (100 integers)
    nil       a nil bulk string
    nilarray  a nil array
    error     an error reply of a kind Redis never sends (-ERR fake)
    strings   an array of the right length whose elements are bulk strings
    nested    an array whose elements are arrays
    garbage   bytes that are no RESP at all
    half      the first half of a good reply, then the connection is closed
    hugebulk  a bulk string header of 2^40 bytes, then nothing
    hugearray an array header of 2^31 elements, then nothing

Every EVALSHA/EVAL received is counted: COUNTFILE holds the number (so the
test knows the daemon did ask).  The process runs until SIGTERM/SIGKILL.
"""
import hashlib
import os
import socket
import sys
import threading

MODES = {
    "bulk": b"$5\r\nhello\r\n",
    "short": b"*3\r\n:1700000000000\r\n:-1\r\n:0\r\n",
    "long": b"*100\r\n" + b":1\r\n" * 100,
    "nil": b"$-1\r\n",
    "nilarray": b"*-1\r\n",
    "error": b"-ERR fake reply of a kind Redis never sends\r\n",
    "strings": b"*4\r\n$13\r\n1700000000000\r\n$2\r\n-1\r\n$1\r\n0\r\n$1\r\n1\r\n",
    "nested": b"*4\r\n*1\r\n:1\r\n*1\r\n:1\r\n*1\r\n:1\r\n*1\r\n:1\r\n",
    "garbage": b"\x00\xff\xfe garbage \x01\x02\r\n",
    "half": b"*4\r\n:17000000",
    "hugebulk": b"$1099511627776\r\n",
    "hugearray": b"*2147483648\r\n",
}

lock = threading.Lock()
evals = 0


def count(path):
    global evals
    with lock:
        evals += 1
        tmp = path + ".new"
        with open(tmp, "w") as f:
            f.write("%d\n" % evals)
        os.replace(tmp, path)


def read_command(f):
    """One RESP multi-bulk command as a list of bytes, or None at EOF."""
    line = f.readline()
    if not line:
        return None
    if not line.startswith(b"*"):
        return line.split()  # an inline command
    n = int(line[1:])
    args = []
    for _ in range(n):
        hdr = f.readline()
        if not hdr.startswith(b"$"):
            return None
        size = int(hdr[1:])
        data = f.read(size + 2)
        if len(data) < size + 2:
            return None
        args.append(data[:size])
    return args


def bulk(b):
    return b"$%d\r\n%s\r\n" % (len(b), b)


def serve(conn, mode, countfile):
    f = conn.makefile("rb")
    try:
        while True:
            cmd = read_command(f)
            if cmd is None:
                return
            if not cmd:
                continue
            name = cmd[0].upper()
            if name in (b"EVALSHA", b"EVAL"):
                count(countfile)
                conn.sendall(MODES[mode])
                if mode == "half":
                    return
            elif name == b"PING":
                conn.sendall(b"+PONG\r\n")
            elif name == b"SCRIPT" and len(cmd) > 2 and cmd[1].upper() == b"LOAD":
                conn.sendall(bulk(hashlib.sha1(cmd[2]).hexdigest().encode()))
            elif name == b"SCRIPT" and len(cmd) > 1 and cmd[1].upper() == b"EXISTS":
                conn.sendall(b"*%d\r\n" % (len(cmd) - 2) + b":1\r\n" * (len(cmd) - 2))
            else:
                conn.sendall(b"+OK\r\n")
    except (OSError, ValueError):
        return
    finally:
        conn.close()


def main():
    if len(sys.argv) != 4 or sys.argv[2] not in MODES:
        sys.stderr.write("usage: fakeredis.py SOCKET MODE COUNTFILE\n  modes: %s\n"
                         % " ".join(sorted(MODES)))
        return 2
    path, mode, countfile = sys.argv[1:]
    with open(countfile, "w") as f:
        f.write("0\n")
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    os.chmod(path, 0o770)
    srv.listen(64)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, mode, countfile), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
