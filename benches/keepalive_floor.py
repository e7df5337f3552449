#!/usr/bin/env python3
# python3 benches/keepalive_floor.py STREAMS SECS SENDS_PER_S  (e.g. 9000 15 9000; ulimit -n >= 2 x STREAMS + 20)
# The kernel floor of a ping on loopback: one send of 3 bytes per socket, N sockets held
# by a process that never reads, paced to PER_S sends per second; the sender's CPU time.
import os, socket, sys, time, resource
N = int(sys.argv[1]); SECS = float(sys.argv[2]); PER_S = int(sys.argv[3])
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(4096)
port = srv.getsockname()[1]
pid = os.fork()
if pid == 0:
    held = []
    for _ in range(N):
        s = socket.create_connection(("127.0.0.1", port)); held.append(s)
    time.sleep(SECS + 30); os._exit(0)
conns = []
while len(conns) < N:
    c, _ = srv.accept(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1); conns.append(c)
time.sleep(1)
r0 = resource.getrusage(resource.RUSAGE_SELF); t0 = time.monotonic(); sent = 0
batch = max(1, PER_S // 20)
while time.monotonic() - t0 < SECS:
    for _ in range(batch):
        conns[sent % N].send(b":\n\n"); sent += 1
    time.sleep(max(0, t0 + sent / PER_S - time.monotonic()))
r1 = resource.getrusage(resource.RUSAGE_SELF)
u = r1.ru_utime - r0.ru_utime; s = r1.ru_stime - r0.ru_stime
print(f"sends={sent} user_us_per_send={u*1e6/sent:.2f} sys_us_per_send={s*1e6/sent:.2f} load={open('/proc/loadavg').read().split()[:3]}")
os.kill(pid, 9)
