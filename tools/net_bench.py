#!/usr/bin/env python3
"""Host side of tools/net-bench.sh, run inside the benchmark's namespace.

    net_bench.py tx IFNAME GUEST COUNT   the guest sends COUNT frames: time them at the tap
    net_bench.py rx GUEST COUNT SIZE     send COUNT datagrams to the guest's discard port

Both end by sending "quit" to the guest's echo port.
"""
import socket
import sys
import time


def counters(ifname):
    base = f"/sys/class/net/{ifname}/statistics/"
    with open(base + "rx_packets") as p, open(base + "rx_bytes") as b:
        return int(p.read()), int(b.read())


def quit_guest(guest):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(3):
        s.sendto(b"quit", (guest, 7))
        time.sleep(0.05)


def tx(ifname, guest, count):
    start = counters(ifname)[0]
    deadline = time.monotonic() + 60
    while counters(ifname)[0] == start:
        if time.monotonic() > deadline:
            print("tx: no frames from the guest")
            return 1
        time.sleep(0.0005)
    t0, (p0, b0) = time.monotonic(), counters(ifname)
    last, t1 = p0, t0
    while last - start < count:
        time.sleep(0.0005)
        p, _ = counters(ifname)
        if p != last:
            last, t1 = p, time.monotonic()
        elif time.monotonic() - t1 > 2:
            break
    p1, b1 = counters(ifname)
    secs = t1 - t0
    print(f"{(p1 - p0) / secs:.0f} frames/s {(b1 - b0) * 8 / secs / 1e6:.1f} Mbit/s ({p1 - p0} frames)")
    quit_guest(guest)
    return 0


def rx(guest, count, size):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.2)
    deadline = time.monotonic() + 60
    while True:   # the guest is up once it echoes
        s.sendto(b"up?", (guest, 7))
        try:
            if s.recv(16) == b"up?":
                break
        except socket.timeout:
            if time.monotonic() > deadline:
                print("rx: the guest never answered")
                return 1
    data = bytes(size)
    t0 = time.monotonic()
    for _ in range(count):
        s.sendto(data, (guest, 9))
    secs = time.monotonic() - t0
    time.sleep(0.5)
    quit_guest(guest)
    print(f"sent {count} in {secs:.3f} s")
    return 0


def main():
    if sys.argv[1] == "tx":
        return tx(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    return rx(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))


if __name__ == "__main__":
    sys.exit(main())
