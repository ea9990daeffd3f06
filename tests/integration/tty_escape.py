#!/usr/bin/env python3
"""Console on a terminal: vmm runs in a pseudo-terminal, the guest echoes a
line typed there, Ctrl-] stops the VM with status 0, and the terminal is
back in its original (cooked) mode afterwards.

    tty_escape.py VMM ECHO_GUEST      exit 77 = SKIP (no usable /dev/kvm)
"""
import os
import pty
import select
import subprocess
import sys
import termios
import time


def read_until(fd, needle, deadline):
    seen = b""
    while needle not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise SystemExit(f"FAIL: no {needle!r} on the terminal; saw {seen!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                raise SystemExit(f"FAIL: terminal closed before {needle!r}; saw {seen!r}")
            seen += chunk
    return seen


def main():
    vmm, guest = sys.argv[1], sys.argv[2]
    if subprocess.run([vmm, "info"], capture_output=True).returncode != 0:
        if os.environ.get("VMM_TEST_MACHINE_INSIDE") == "nested":
            print("FAIL: the nested test machine has no usable /dev/kvm (kvm_amd not loaded?)")
            return 1
        print("SKIP: vmm info cannot use /dev/kvm")
        return 77
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    proc = subprocess.Popen([vmm, "run", "--kernel", guest], stdin=slave, stdout=slave,
                            stderr=subprocess.PIPE, close_fds=True)
    deadline = time.monotonic() + 60
    read_until(master, b"echo ready", deadline)
    raw = termios.tcgetattr(slave)
    if raw[3] & (termios.ICANON | termios.ECHO):
        raise SystemExit("FAIL: the terminal is not in raw mode while the guest runs")
    os.write(master, b"typed\r")
    read_until(master, b"echo: typed", deadline)
    os.write(master, b"\x1d")
    try:
        status = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise SystemExit("FAIL: Ctrl-] did not stop the VM")
    if status != 0:
        raise SystemExit(f"FAIL: exit status {status} after Ctrl-], expected 0; "
                         f"stderr {proc.stderr.read()!r}")
    if termios.tcgetattr(slave) != before:
        raise SystemExit("FAIL: the terminal was not restored")
    print("PASS: tty escape")
    return 0


if __name__ == "__main__":
    sys.exit(main())
