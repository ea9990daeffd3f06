#!/usr/bin/env python3
"""Checks a disk image after firmware/guests/virtio_blk.c ran on it: the
sectors it wrote hold its pattern, and every other byte is still zero.

    blk_pattern.py IMAGE SEED FIRST_SECTOR [SECTORS]
"""
import sys

SECTOR = 512


def expected(sector, seed):
    return bytes((sector * 7 + i * 13 + seed) & 0xFF for i in range(SECTOR))


def main():
    path, seed, first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 128
    with open(path, "rb") as f:
        image = f.read()
    for sector in range(len(image) // SECTOR):
        got = image[sector * SECTOR:(sector + 1) * SECTOR]
        want = expected(sector, seed) if first <= sector < first + count else bytes(SECTOR)
        if got != want:
            print(f"FAIL: sector {sector} of {path} is not what the guest wrote")
            return 1
    print(f"image ok: sectors {first}-{first + count - 1} hold the pattern, the rest is zero")
    return 0


if __name__ == "__main__":
    sys.exit(main())
