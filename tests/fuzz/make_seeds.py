#!/usr/bin/env python3
"""Writes the hand-made seed inputs the fuzz corpora grew from: a PCI/virtio
session that brings a virtio-blk device up over PCI and reads a sector
(corpus_pci), and the smallest kernels each loader path takes (corpus_loaders):
an ELF with a PVH note, and bzImages whose payload is that ELF, gzip'ed and
raw. The corpora in the tree are these plus what libFuzzer found from them,
minimised (docs/testing.md, "Fuzzing").

    make_seeds.py DIR_PCI DIR_LOADERS
"""
import gzip
import os
import struct
import sys

# tests/fuzz/fuzz_pci.c: kind, size code, flags, pad, where, value.
CONFIG, ECAM, BAR, MMIO, COMPLETE = range(5)


def op(kind, size, write, where, value=0):
    code = {1: 0, 2: 1, 4: 2, 8: 3}[size]
    return struct.pack("<BBBBII", kind, code, 1 if write else 0, 0, where, value & 0xFFFFFFFF)


def pci_session():
    common = 0x0000
    ops = [
        op(CONFIG, 4, True, 0x04, 0x6),                     # memory decode and bus master on
        op(BAR, 1, True, common + 0x14, 0x3),                # ACKNOWLEDGE | DRIVER
        op(BAR, 4, True, common + 0x08, 1), op(BAR, 4, True, common + 0x0C, 1),   # VERSION_1
        op(BAR, 4, True, common + 0x08, 0),
        op(BAR, 4, True, common + 0x0C, (1 << 28) | (1 << 29) | (1 << 9)),
        op(BAR, 1, True, common + 0x14, 0xB),                # FEATURES_OK
        op(BAR, 2, True, common + 0x16, 0), op(BAR, 2, True, common + 0x18, 16),
        op(BAR, 4, True, common + 0x20, 0x1000), op(BAR, 4, True, common + 0x28, 0x2000),
        op(BAR, 4, True, common + 0x30, 0x3000), op(BAR, 2, True, common + 0x1C, 1),
        op(BAR, 1, True, common + 0x14, 0xF),                # DRIVER_OK
        op(BAR, 2, True, 0x3000, 0),                         # kick queue 0
        op(BAR, 1, False, 0x1000),                           # ISR
        op(COMPLETE, 1, True, 0),
        op(BAR, 2, True, common + 0x3A, 1),                  # queue_reset
        op(CONFIG, 4, True, 0x24, 0x12345),                  # move the BAR
        op(BAR, 1, True, common + 0x14, 0),                  # device reset
    ]
    ram = bytearray(0x7000)
    struct.pack_into("<QIHH", ram, 0x1000, 0x4000, 16, 1, 1)           # header, NEXT
    struct.pack_into("<QIHH", ram, 0x1010, 0x5000, 512, 3, 2)          # data, WRITE | NEXT
    struct.pack_into("<QIHH", ram, 0x1020, 0x6000, 1, 2, 0)            # status, WRITE
    struct.pack_into("<HHH", ram, 0x2000, 0, 1, 0)                     # avail: idx 1, ring[0] = 0
    struct.pack_into("<IIQ", ram, 0x4000, 0, 0, 0)                     # read sector 0
    return bytes([len(ops)]) + b"".join(ops) + bytes(ram)


def pvh_elf():
    """ELF64 with one PT_LOAD at 1 MiB and a PT_NOTE holding XEN_ELFNOTE_PHYS32_ENTRY."""
    code = b"\xf4" * 16
    note = struct.pack("<III", 4, 4, 18) + b"Xen\0" + struct.pack("<I", 0x100000)
    ehsize, phsize = 64, 56
    code_off = ehsize + 2 * phsize
    note_off = code_off + len(code)
    eh = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    eh += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0x100000, ehsize, 0, 0, ehsize, phsize, 2, 64, 0, 0)
    load = struct.pack("<IIQQQQQQ", 1, 7, code_off, 0x100000, 0x100000, len(code), len(code), 0x1000)
    pnote = struct.pack("<IIQQQQQQ", 4, 4, note_off, 0, 0, len(note), len(note), 4)
    return eh + load + pnote + code + note


def bzimage(payload):
    """Setup sectors with a 2.15 header, then the protected-mode kernel holding payload."""
    setup_sects = 1
    kernel = bytes(64) + payload
    img = bytearray((setup_sects + 1) * 512 + len(kernel))
    img[0x1F1] = setup_sects
    struct.pack_into("<I", img, 0x1F4, (len(kernel) + 15) // 16)        # syssize
    struct.pack_into("<H", img, 0x1FE, 0xAA55)
    img[0x200:0x202] = bytes([0xEB, 0x6A])                              # jump past the header
    img[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", img, 0x206, 0x020F)
    img[0x211] = 0x01                                                   # LOADED_HIGH
    struct.pack_into("<I", img, 0x21C, 0x7FFFFFFF)                      # initrd_addr_max
    img[0x234] = 1                                                      # relocatable
    struct.pack_into("<H", img, 0x236, 0x3)                             # XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G
    struct.pack_into("<I", img, 0x238, 2048)                            # cmdline_size
    struct.pack_into("<II", img, 0x248, 64, len(payload))               # payload_offset, length
    struct.pack_into("<Q", img, 0x258, 0x1000000)                       # pref_address
    struct.pack_into("<I", img, 0x260, 0x100000)                        # init_size
    img[(setup_sects + 1) * 512:] = kernel
    return bytes(img)


def main():
    pci_dir, loaders_dir = sys.argv[1], sys.argv[2]
    os.makedirs(pci_dir, exist_ok=True)
    os.makedirs(loaders_dir, exist_ok=True)
    open(os.path.join(pci_dir, "seed-bring-up-and-read"), "wb").write(pci_session())
    elf = pvh_elf()
    seeds = {"seed-pvh-elf": elf, "seed-bzimage-gzip": bzimage(gzip.compress(elf)),
             "seed-bzimage-raw": bzimage(elf)}
    for name, data in seeds.items():
        open(os.path.join(loaders_dir, name), "wb").write(data)


if __name__ == "__main__":
    main()
