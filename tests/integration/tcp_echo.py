#!/usr/bin/env python3
"""The host side of the Linux guest's tap test: accepts one TCP connection,
echoes SIZE bytes back as they arrive, prints the MD5 of what it received,
then closes.   tcp_echo.py ADDRESS PORT SIZE
"""
import hashlib
import socket
import sys


def main():
    address, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((address, port))
    srv.listen(1)
    srv.settimeout(600)
    print("listening", flush=True)
    conn, _ = srv.accept()
    conn.settimeout(120)
    digest, got = hashlib.md5(), 0
    while got < size:
        data = conn.recv(65536)
        if not data:
            break
        digest.update(data)
        conn.sendall(data)
        got += len(data)
    conn.close()
    print(f"tcp echo: received {got} bytes, md5 {digest.hexdigest()}")
    return 0 if got == size else 1


if __name__ == "__main__":
    sys.exit(main())
