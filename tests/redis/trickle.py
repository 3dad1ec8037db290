#!/usr/bin/env python3
# A fake Redis on a unix socket that answers SCRIPT LOAD at once and
# EVALSHA with a well-formed "allowed" reply sent one byte every GAP ms:
# each read the client makes gets a byte before its timeout, so only a
# deadline over the whole reply bounds the wait.
#   trickle.py SOCKET GAP_MS
# Serves one connection at a time, until killed; prints "ready" once
# listening.  Bounded: at most 200 connections, then it exits.
import os, socket, sys, time

path, gap = sys.argv[1], int(sys.argv[2]) / 1000.0
try:
    os.unlink(path)
except FileNotFoundError:
    pass
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(16)
print("ready", flush=True)


def read_command(f):
    """One RESP array of bulk strings, as a list of bytes; None at EOF."""
    line = f.readline()
    if not line.startswith(b"*"):
        return None
    args = []
    for _ in range(int(line[1:])):
        n = int(f.readline()[1:])
        args.append(f.read(n + 2)[:n])
    return args


for _ in range(200):
    conn, _ = srv.accept()
    f = conn.makefile("rb")
    try:
        while True:
            cmd = read_command(f)
            if cmd is None:
                break
            name = cmd[0].upper()
            if name == b"SCRIPT":
                conn.sendall(b"$40\r\n" + b"0" * 40 + b"\r\n")
            elif name == b"EVALSHA":
                reply = b"*%d\r\n:1\r\n:-1\r\n:0\r\n" % (3 + int(cmd[2]))
                reply += b":1\r\n" * int(cmd[2])
                for i in range(len(reply)):
                    conn.sendall(reply[i:i + 1])
                    time.sleep(gap)
            else:
                conn.sendall(b"+OK\r\n")
    except (BrokenPipeError, ConnectionResetError, ValueError):
        pass
    conn.close()
