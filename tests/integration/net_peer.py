#!/usr/bin/env python3
"""The host side of the virtio-net test guest (firmware/guests/virtio_net.c):
receives the guest's pattern datagrams and checks every byte, pings the
guest, sends it datagrams of many sizes and checks every echo, then tells it
to quit. Behind user-mode NAT the guest is reached through a hostfwd port on
127.0.0.1 and cannot be pinged.

    net_peer.py GUEST_IP LOCAL_IP PORT COUNT SIZE ECHOES [ECHO_PORT [noping [echo]]]

With "echo" the pattern datagrams are also sent back to where they came from
(a UDP echo server), and the guest checks them.
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


def receive_pattern(sock, count, size, echo_back):
    got = {}
    sock.settimeout(60)
    while len(got) < count:
        try:
            data, sender = sock.recvfrom(65535)
        except socket.timeout:
            fail(f"got {len(got)} of {count} pattern datagrams from the guest")
        got[int.from_bytes(data[:4], "big")] = data
        if echo_back:
            sock.sendto(data, sender)
    for seq, data in got.items():
        if data != pattern(seq, size):
            fail(f"pattern datagram {seq} differs")
    print(f"received {count} datagrams of {size} bytes from the guest, all intact")


def echo(guest, port, count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    for i in range(count):
        size = 1 + (i * 97) % 1472
        data = os.urandom(size)
        s.sendto(data, (guest, port))
        try:
            back, _ = s.recvfrom(65535)
        except socket.timeout:
            fail(f"no echo for datagram {i} ({size} bytes)")
        if back != data:
            fail(f"echo of datagram {i} differs")
    print(f"{count} datagrams echoed byte for byte")
    s.sendto(b"quit", (guest, port))


def main():
    guest, local, port, count, size, echoes = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:7])
    echo_port = int(sys.argv[7]) if len(sys.argv) > 7 else 7
    ping = len(sys.argv) <= 8
    echo_back = len(sys.argv) > 9 and sys.argv[9] == "echo"
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # The guest sends as fast as it can; room for all of it (root may force this).
    sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
    sock.bind((local, port))
    print("listening", flush=True)
    receive_pattern(sock, count, size, echo_back)
    if ping:
        out = subprocess.run(["ping", "-c", "20", "-i", "0.05", "-W", "5", guest], capture_output=True, text=True)
        if out.returncode != 0 or " 0% packet loss" not in out.stdout:
            fail(f"ping: {out.stdout.strip().splitlines()[-2:] if out.stdout else out.stderr}")
        print("ping: 20 of 20 answered")
    echo(guest, echo_port, echoes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
