# hold.py HOST PORT N FLAG: open N connections to HOST:PORT, send each
# half a request line (and one a 100 KiB header), write "held K" (the
# connections that got through) on stdout, then hold them until the file
# FLAG is gone (at most 20 s), and close them.  For t-http.sh.
import os, socket, sys, time

host, port, n, flag = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
held = []
for i in range(n):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect((host, port))
        if i == 0:
            s.sendall(b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * 100000)
        else:
            s.sendall(b"GET /metr")
        held.append(s)
    except OSError:
        s.close()
print("held %d" % len(held), flush=True)
end = time.time() + 20
while os.path.exists(flag) and time.time() < end:
    time.sleep(0.05)
for s in held:
    s.close()
