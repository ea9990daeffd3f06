#!/usr/bin/env python3
"""The host side of the virtio-net test guest (firmware/guests/virtio_net.c),
run inside the test's network namespace: receives the guest's pattern
datagrams and checks every byte, pings the guest, sends it datagrams of many
sizes and checks every echo, then tells it to quit.

    net_peer.py GUEST_IP LOCAL_IP PORT COUNT SIZE ECHOES
"""
import os
import socket
import subprocess
import sys

SO_RCVBUFFORCE = 33  # Linux; Python does not name it


def pattern(seq, size):
    return seq.to_bytes(4, "big") + bytes((seq * 7 + i) & 0xFF for i in range(4, size))


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def receive_pattern(sock, count, size):
    got = {}
    sock.settimeout(60)
    while len(got) < count:
        try:
            data, _ = sock.recvfrom(65535)
        except socket.timeout:
            fail(f"got {len(got)} of {count} pattern datagrams from the guest")
        got[int.from_bytes(data[:4], "big")] = data
    for seq, data in got.items():
        if data != pattern(seq, size):
            fail(f"pattern datagram {seq} differs")
    print(f"received {count} datagrams of {size} bytes from the guest, all intact")


def echo(guest, count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    for i in range(count):
        size = 1 + (i * 97) % 1472
        data = os.urandom(size)
        s.sendto(data, (guest, 7))
        try:
            back, _ = s.recvfrom(65535)
        except socket.timeout:
            fail(f"no echo for datagram {i} ({size} bytes)")
        if back != data:
            fail(f"echo of datagram {i} differs")
    print(f"{count} datagrams echoed byte for byte")
    s.sendto(b"quit", (guest, 7))


def main():
    guest, local, port, count, size, echoes = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:7])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # The guest sends as fast as it can; room for all of it (root may force this).
    sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
    sock.bind((local, port))
    print("listening", flush=True)
    receive_pattern(sock, count, size)
    ping = subprocess.run(["ping", "-c", "20", "-i", "0.05", "-W", "5", guest], capture_output=True, text=True)
    if ping.returncode != 0 or " 0% packet loss" not in ping.stdout:
        fail(f"ping: {ping.stdout.strip().splitlines()[-2:] if ping.stdout else ping.stderr}")
    print("ping: 20 of 20 answered")
    echo(guest, echoes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
