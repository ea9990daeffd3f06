#!/usr/bin/env python3
"""Writes the hand-made seed inputs the fuzz corpora grew from: a PCI/virtio
session that brings a virtio-blk device up over PCI and reads a sector
(corpus_pci), the smallest kernels each loader path takes (corpus_loaders):
an ELF with a PVH note, and bzImages whose payload is that ELF, gzip'ed and
raw, and e1000 sessions (corpus_e1000): rings up with a frame each way,
TSO and checksums with and without backend offloads, the EEPROM and PHY,
delay timers on the event loop, VLANs, long frames and the I/O window, and
NVMe sessions (corpus_nvme): a controller enabled, queues created and I/O
through PRPs, DSM and Write Zeroes, log pages, asynchronous events and a
reset with I/O in flight; shadow doorbells on and off the event loop; SGLs;
INTx, Interrupt Coalescing, queue errors and a full completion queue, and
fw_cfg sessions (corpus_fw_cfg): the signature and file directory through
the data port, and DMA reads, skips and writes as SeaBIOS issues them. The
corpora in the tree are these plus what libFuzzer found from them,
minimised (docs/testing.md, "Fuzzing").

    make_seeds.py DIR_PCI DIR_LOADERS DIR_E1000 DIR_NVME DIR_FW_CFG
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


# tests/fuzz/fuzz_e1000.c: a mode byte (bit 0 event loop, bit 1 offloading
# backend), then operations: a kind byte (low nibble the operation, bits
# 5:4 the access size) and its operands.
E_MMIO_W, E_MMIO_R, E_IO_W, E_IO_R, E_RAM, E_FRAME, E_LINK, E_COMMAND, E_LOOP = range(9)
E_SIZE4 = 2 << 4
E_MAC = bytes([0x52, 0x54, 0, 0x12, 0x34, 0x56])
E_PEER = bytes([0x52, 0x54, 0, 0xAA, 0xBB, 0xCC])

# 8254x SDM registers and bits.
CTRL, STATUS, EECD, EERD, MDIC, ICR, ITR, IMS = 0x0, 0x8, 0x10, 0x14, 0x20, 0xC0, 0xC4, 0xD0
RCTL, TCTL, RDBAL, RDLEN, RDH, RDT, RDTR = 0x100, 0x400, 0x2800, 0x2808, 0x2810, 0x2818, 0x2820
TDBAL, TDLEN, TDH, TDT, TIDV, GPRC, GPTC = 0x3800, 0x3808, 0x3810, 0x3818, 0x3820, 0x4074, 0x4080
RCTL_EN, RCTL_BAM, RCTL_LPE, RCTL_BSEX, RCTL_SZ_4096 = 1 << 1, 1 << 15, 1 << 5, 1 << 25, 3 << 16
CTRL_RST, CTRL_VME = 1 << 26, 1 << 30
TXD_EOP, TXD_TSE, TXD_RS, TXD_DEXT, TXD_VLE, TXD_IDE = 0x01, 0x04, 0x08, 0x20, 0x40, 0x80
IMS_LINUX = 0x9D                                        # RXT0 | RXDMT0 | RXSEQ | LSC | TXDW
E_TX_RING, E_RX_RING, E_TX_BUF, E_RX_BUF = 0x1000, 0x2000, 0x3000, 0x8000


def e_wr(off, v):
    return struct.pack("<BII", E_MMIO_W | E_SIZE4, off, v & 0xFFFFFFFF)


def e_rd(off):
    return struct.pack("<BI", E_MMIO_R | E_SIZE4, off)


def e_io_wr(off, v):
    return struct.pack("<BBI", E_IO_W | E_SIZE4, off, v & 0xFFFFFFFF)


def e_io_rd(off):
    return struct.pack("<BB", E_IO_R | E_SIZE4, off)


def e_ram(gpa, data):
    data = data + bytes(-len(data) % 16)
    return b"".join(struct.pack("<BI", E_RAM, gpa + i) + data[i:i + 16] for i in range(0, len(data), 16))


def e_frame(frame, header=bytes(12)):
    return struct.pack("<BH", E_FRAME, len(header) + len(frame)) + header + frame


def e_link(up):
    return bytes([E_LINK, 1 if up else 0])


def e_legacy(addr, length, cmd, special=0):
    return struct.pack("<QHBBBBH", addr, length, 0, cmd, 0, 0, special)


def e_data(addr, length, dcmd, popts):
    return struct.pack("<QIBBH", addr, length | 1 << 20 | (dcmd | TXD_DEXT) << 24, 0, popts, 0)


def e_context(ipcss, ipcso, ipcse, tucss, tucso, tucse, paylen, tucmd, hdr_len, mss):
    return struct.pack("<BBHBBHIBBH", ipcss, ipcso, ipcse, tucss, tucso, tucse,
                       paylen | (tucmd | TXD_DEXT) << 24, 0, hdr_len, mss)


def e_rings(rctl=RCTL_BAM, buf_size=0x800):
    """Both rings of 16 descriptors in RAM, receive buffers posted, interrupts as Linux unmasks them."""
    rx = b"".join(struct.pack("<QQ", E_RX_BUF + i * buf_size, 0) for i in range(16))
    return (e_ram(E_RX_RING, rx) +
            e_wr(TDBAL, E_TX_RING) + e_wr(TDLEN, 256) + e_wr(TDH, 0) + e_wr(TDT, 0) + e_wr(TCTL, 0x0103F0FA) +
            e_wr(RDBAL, E_RX_RING) + e_wr(RDLEN, 256) + e_wr(RDH, 0) + e_wr(RDT, 15) +
            e_wr(RCTL, rctl | RCTL_EN) + e_wr(IMS, IMS_LINUX))


def e_tcp4(payload, tso, dst=E_PEER, src=E_MAC):
    """Ethernet, IPv4 and TCP headers as Linux hands them to e1000 (no lengths or checksums for TSO)."""
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 0 if tso else 40 + len(payload), 0x1234, 0x4000, 64, 6, 0,
                     bytes([10, 0, 2, 15]), bytes([10, 0, 2, 2]))
    tcp = struct.pack(">HHIIBBHHH", 40000, 80, 0x01020304, 0, 5 << 4, 0x19, 0xFFFF, 0, 0)
    return dst + src + b"\x08\x00" + ip + tcp + payload


def e1000_seeds():
    ping = E_MAC + E_PEER + b"\x08\x00" + bytes(range(46))
    bring_up = (bytes([0]) + e_ram(E_TX_BUF, ping) + e_ram(E_TX_RING, e_legacy(E_TX_BUF, 60, TXD_EOP | TXD_RS)) +
                e_rings() + e_wr(TDT, 1) + e_frame(ping) + e_rd(ICR) + e_rd(GPRC) + e_rd(GPTC) + e_rd(RDH))

    payload = bytes((i * 7) & 0xFF for i in range(300))
    pkt = e_tcp4(payload, True)
    tso_descs = (e_context(14, 24, 33, 34, 50, 0, 300, 0x01 | 0x02 | TXD_TSE, 54, 100) +
                 e_data(E_TX_BUF, 54, TXD_TSE, 3) + e_data(E_TX_BUF + 54, 130, TXD_TSE, 3) +
                 e_data(E_TX_BUF + 184, 170, TXD_TSE | TXD_EOP | TXD_RS, 3) +
                 e_context(0, 0, 0, 34, 50, 0, 0, 0x01, 0, 0) + e_data(E_TX_BUF, 354, TXD_EOP | TXD_RS, 2))
    tso = e_ram(E_TX_BUF, pkt) + e_ram(E_TX_RING, tso_descs) + e_rings() + e_wr(TDT, 6) + e_rd(ICR)

    eeprom = bytes([0])
    for word in range(3):
        eeprom += e_wr(EERD, word << 8 | 1) + e_rd(EERD)
    eecd = 0x40                                                     # REQ
    eeprom += e_wr(EECD, eecd) + e_rd(EECD)
    eecd |= 0x2                                                     # CS
    eeprom += e_wr(EECD, eecd)
    for bit in [1, 1, 0] + [0] * 6:                                 # READ, address 0
        d = eecd | (4 if bit else 0)
        eeprom += e_wr(EECD, d) + e_wr(EECD, d | 1) + e_wr(EECD, d)
    for _ in range(16):
        eeprom += e_wr(EECD, eecd | 1) + e_rd(EECD) + e_wr(EECD, eecd)
    eeprom += e_wr(EECD, 0)
    for reg in (2, 3, 1, 0x11):                                     # PHY IDs, BMSR, M88 status
        eeprom += e_wr(MDIC, 2 << 26 | 1 << 21 | reg << 16) + e_rd(MDIC)
    eeprom += e_wr(IMS, IMS_LINUX) + e_wr(MDIC, 1 << 26 | 1 << 21 | 0x1340) + e_rd(ICR)
    eeprom += e_wr(MDIC, 2 << 26 | 2 << 21) + e_rd(MDIC) + e_link(False) + e_rd(STATUS) + e_link(True)

    delays = (bytes([1]) + e_ram(E_TX_BUF, ping) +
              e_ram(E_TX_RING, e_legacy(E_TX_BUF, 60, TXD_EOP | TXD_RS | TXD_IDE)) + e_rings() +
              e_wr(RDTR, 1) + e_wr(TIDV, 1) + e_wr(ITR, 1) + e_wr(TDT, 1) + bytes([E_LOOP]) +
              e_frame(ping) + e_frame(ping) + bytes([E_LOOP]) + e_rd(ICR) + bytes([E_LOOP]))

    tagged = E_MAC + E_PEER + b"\x81\x00\x00\x05\x08\x00" + bytes(4990)
    csum_header = struct.pack("<BBHHHHH", 1, 0, 0, 0, 34, 16, 0)    # NEEDS_CSUM at 34 + 16
    vlan = (bytes([0]) + e_io_wr(0, CTRL) + e_io_wr(4, 0x00140241 | CTRL_VME) + e_io_rd(4) +
            e_ram(E_TX_BUF, ping) + e_ram(E_TX_RING, e_legacy(E_TX_BUF, 60, TXD_EOP | TXD_RS | TXD_VLE, 5)) +
            e_rings(RCTL_BAM | RCTL_LPE | RCTL_BSEX | RCTL_SZ_4096, 0x1000) + e_wr(TDT, 1) +
            e_frame(tagged) + e_frame(e_tcp4(payload, False, E_MAC, E_PEER), csum_header) +
            struct.pack("<BH", E_COMMAND, 0x3) + e_frame(ping) + struct.pack("<BH", E_COMMAND, 0x407) +
            e_io_wr(0, CTRL) + e_io_wr(4, CTRL_RST) + e_rd(RCTL))
    return {"seed-bring-up-tx-rx": bring_up, "seed-tso-and-checksum": bytes([0]) + tso,
            "seed-tso-offloaded": bytes([2]) + tso, "seed-eeprom-phy-link": eeprom,
            "seed-delay-timers-on-loop": delays, "seed-vlan-long-frames-io-window": vlan}


# tests/fuzz/fuzz_nvme.c: a mode byte (bit 0 event loop, bit 1 read-only
# disk, bit 2 no write cache, bit 3 completions held, bits 5:4 I/O queue
# pairs less one), then operations: a kind byte (low nibble the operation,
# bits 5:4 the access size) and its operands.
N_BAR_W, N_BAR_R, N_RAM, N_DB, N_COMPLETE, N_REAP, N_BACKEND, N_CONFIG, N_LOOP = range(9)
N_SIZE = {1: 0, 2: 1, 4: 2, 8: 3}
N_CC, N_CSTS, N_INTMS, N_INTMC, N_AQA, N_ASQ, N_ACQ = 0x14, 0x1C, 0x0C, 0x10, 0x24, 0x28, 0x30
N_CC_READY = 1 | 6 << 16 | 4 << 20                      # EN, IOSQES 64 bytes, IOCQES 16 bytes
N_MSIX_CAP, N_MSIX_TABLE = 0x40, 0x2000
# Guest RAM of the target (256 KiB): queues, lists and buffers.
N_ASQ_GPA, N_ACQ_GPA, N_IOCQ_GPA, N_IOSQ_GPA = 0x1000, 0x2000, 0x3000, 0x4000
N_SHADOW_GPA, N_EI_GPA, N_PRP_GPA, N_SGL_GPA, N_ID_GPA, N_DSM_GPA, N_DATA_GPA = (
    0x5000, 0x6000, 0x7000, 0x8000, 0x9000, 0xA000, 0x10000)


def n_wr(off, v, size=4):
    return struct.pack("<BHQ", N_BAR_W | N_SIZE[size] << 4, off, v & (1 << 64) - 1)


def n_rd(off, size=4):
    return struct.pack("<BH", N_BAR_R | N_SIZE[size] << 4, off)


def n_ram(gpa, data):
    return b"".join(struct.pack("<BIB", N_RAM, gpa + i, len(data[i:i + 255])) + data[i:i + 255]
                    for i in range(0, len(data), 255))


def n_db(index, value):
    return struct.pack("<BHI", N_DB, index, value)


def n_config(off, v, size):
    return struct.pack("<BBI", N_CONFIG | N_SIZE[size] << 4, off, v)


def n_sqe(opc, cid, nsid=0, prp1=0, prp2=0, cdw10=0, cdw11=0, cdw12=0, cdw13=0, flags=0):
    return struct.pack("<BBHIQQQQIIIIII", opc, flags, cid, nsid, 0, 0, prp1, prp2, cdw10, cdw11, cdw12, cdw13, 0, 0)


def n_sgl(addr, length, kind):
    return struct.pack("<QI3xB", addr, length, kind << 4)


class NvmeDriver:
    """Builds a session: commands go into the queues in RAM and the doorbells are rung as a driver would."""

    def __init__(self):
        self.ops = b""
        self.sq = {}                                        # qid: [base, size, tail]
        self.cid = 1

    def msix(self, vectors):
        for v in range(vectors):
            e = N_MSIX_TABLE + 16 * v
            self.ops += n_wr(e, 0xFEE00000) + n_wr(e + 4, 0) + n_wr(e + 8, 0x40 + v) + n_wr(e + 12, 0)
        self.ops += n_config(N_MSIX_CAP + 2, 0x8000, 2)

    def enable(self, sq_entries=32, cq_entries=32):
        self.ops += (n_wr(N_AQA, (cq_entries - 1) << 16 | (sq_entries - 1)) + n_wr(N_ASQ, N_ASQ_GPA, 8) +
                     n_wr(N_ACQ, N_ACQ_GPA, 8) + n_wr(N_CC, N_CC_READY) + n_rd(N_CSTS))
        self.sq[0] = [N_ASQ_GPA, sq_entries, 0]

    def put(self, qid, opc, **fields):
        base, size, tail = self.sq[qid]
        self.ops += n_ram(base + 64 * tail, n_sqe(opc, self.cid, **fields))
        self.cid += 1
        self.sq[qid][2] = (tail + 1) % size

    def ring(self, qid):
        self.ops += n_db(2 * qid, self.sq[qid][2])

    def cmd(self, qid, opc, **fields):
        self.put(qid, opc, **fields)
        self.ring(qid)

    def cq_head(self, qid, head):
        self.ops += n_db(2 * qid + 1, head)

    def io_queue(self, qid, sq_entries, cq_entries, vector, sq_gpa, cq_gpa):
        self.cmd(0, 0x05, prp1=cq_gpa, cdw10=(cq_entries - 1) << 16 | qid, cdw11=vector << 16 | 3)
        self.cmd(0, 0x01, prp1=sq_gpa, cdw10=(sq_entries - 1) << 16 | qid, cdw11=qid << 16 | 1)
        self.sq[qid] = [sq_gpa, sq_entries, 0]

    def rw(self, qid, opc, slba, nlb, prp1, prp2=0, cdw12=0, flags=0, ring=True):
        (self.cmd if ring else self.put)(qid, opc, nsid=1, prp1=prp1, prp2=prp2, cdw10=slba,
                                          cdw12=(nlb - 1) | cdw12, flags=flags)


def nvme_seeds():
    # Enabled, two I/O queue pairs on MSI-X, I/O of every kind, logs, events, reset with I/O in flight, shutdown.
    d = NvmeDriver()
    d.msix(3)
    d.enable()
    d.cmd(0, 0x06, prp1=N_ID_GPA, cdw10=1)                          # Identify controller
    d.cmd(0, 0x06, nsid=1, prp1=N_ID_GPA, cdw10=0)                  # namespace
    d.cmd(0, 0x06, prp1=N_ID_GPA, cdw10=2)                          # active namespaces
    d.cmd(0, 0x06, nsid=1, prp1=N_ID_GPA + 0x800, prp2=N_ID_GPA + 0x1000, cdw10=3)
    d.cmd(0, 0x09, cdw10=0x07, cdw11=0x00010001)                    # Number of Queues
    d.cmd(0, 0x0A, cdw10=0x06)                                      # Get Features: write cache
    d.cmd(0, 0x09, cdw10=0x08, cdw11=0x0103)                        # Interrupt Coalescing
    d.io_queue(1, 64, 64, 1, N_IOSQ_GPA, N_IOCQ_GPA)
    d.io_queue(2, 16, 16, 2, N_IOSQ_GPA + 0x1000, N_IOCQ_GPA + 0x400)
    d.cq_head(0, 11)
    data = bytes((i * 7) & 0xFF for i in range(4096))
    d.ops += n_ram(N_DATA_GPA, data)
    d.rw(1, 0x01, 0, 8, N_DATA_GPA)                                 # write a page, PRP1 only
    d.rw(1, 0x02, 0, 8, N_DATA_GPA + 0x1000)
    d.rw(1, 0x01, 8, 16, N_DATA_GPA + 0x200, N_DATA_GPA + 0x3000)   # PRP1 at an offset, PRP2
    d.ops += n_ram(N_PRP_GPA, b"".join(struct.pack("<Q", N_DATA_GPA + 0x4000 + 0x1000 * i) for i in range(8)))
    d.rw(1, 0x02, 16, 64, N_DATA_GPA, N_PRP_GPA)                    # a PRP list
    d.ops += n_ram(N_PRP_GPA + 0xFF0, struct.pack("<QQ", N_DATA_GPA + 0x8000, N_PRP_GPA + 0x800))
    d.ops += n_ram(N_PRP_GPA + 0x800, struct.pack("<QQ", N_DATA_GPA + 0x9000, N_DATA_GPA + 0xA000))
    d.rw(1, 0x02, 64, 32, N_DATA_GPA + 0x100, N_PRP_GPA + 0xFF0)    # a list chained to another
    d.rw(1, 0x01, 8, 1, N_DATA_GPA, cdw12=1 << 30)                  # FUA
    d.cmd(1, 0x00, nsid=1)                                          # Flush
    d.rw(1, 0x08, 32, 8, 0, cdw12=1 << 25)                          # Write Zeroes, deallocate
    d.ops += n_ram(N_DSM_GPA, struct.pack("<IIQIIQ", 0, 4, 40, 0, 1, 100))
    d.cmd(1, 0x09, nsid=1, prp1=N_DSM_GPA, cdw10=1, cdw11=1 << 2)   # Dataset Management, deallocate
    d.rw(1, 0x02, 255, 2, N_DATA_GPA)                               # LBA out of range
    d.rw(2, 0x02, 0, 1, N_DATA_GPA)
    d.cq_head(1, 10)
    d.cq_head(2, 1)
    d.cmd(0, 0x02, nsid=0xFFFFFFFF, prp1=N_ID_GPA, cdw10=0x02 | 127 << 16)   # SMART log
    d.cmd(0, 0x02, prp1=N_ID_GPA, cdw10=0x03 | 127 << 16)           # firmware slots
    d.cmd(0, 0x0C)                                                  # Asynchronous Event Request
    d.ops += n_db(2, 64)                                            # SQ 1 tail beyond the queue
    d.cmd(0, 0x02, prp1=N_ID_GPA, cdw10=0x01 | 15 << 16)            # error log: events unmasked
    d.cmd(0, 0x0C)
    d.ops += n_db(2 * 5, 1)                                         # no such queue
    d.ops += bytes([N_BACKEND, 1])                                  # hold completions
    for i in range(3):
        d.rw(1, 0x02, i, 1, N_DATA_GPA + 0x200 * i)
    d.ops += struct.pack("<BB", N_COMPLETE, 1) + struct.pack("<BB", N_REAP, 1)
    d.ops += n_wr(N_CC, 0)                                          # reset with one in flight
    d.ops += bytes([N_BACKEND, 0])
    d.enable()
    d.io_queue(1, 8, 8, 1, N_IOSQ_GPA, N_IOCQ_GPA)
    d.rw(1, 0x01, 3, 1, N_DATA_GPA)
    d.ops += n_wr(N_CC, N_CC_READY | 1 << 14) + n_rd(N_CSTS)        # normal shutdown
    enable_io = bytes([0x10]) + d.ops

    # Shadow doorbells on the event loop (ioevents), and off it with completions held.
    def shadow_session(mode):
        d = NvmeDriver()
        d.msix(3)
        d.enable()
        d.cmd(0, 0x7C, prp1=N_SHADOW_GPA, prp2=N_EI_GPA)             # Doorbell Buffer Config
        d.io_queue(1, 8, 16, 1, N_IOSQ_GPA, N_IOCQ_GPA)
        for round in range(3):
            for i in range(3):
                d.rw(1, 0x02, i, 1, N_DATA_GPA + 0x200 * i, ring=False)
            d.ops += n_ram(N_SHADOW_GPA + 8, struct.pack("<I", d.sq[1][2]))
            d.ring(1)
            d.ops += bytes([N_LOOP]) + struct.pack("<BB", N_COMPLETE, 2) + struct.pack("<BB", N_REAP, 8)
            d.ops += n_ram(N_SHADOW_GPA + 12, struct.pack("<I", 3 * (round + 1) % 16))
            d.cq_head(1, 3 * (round + 1) % 16)
        d.ops += n_ram(N_SHADOW_GPA + 8, struct.pack("<I", 9))        # a shadow tail outside the queue
        d.ring(1)
        d.ops += bytes([N_LOOP]) + n_config(0x10, 0xE0100000, 4)      # the BAR moves: ioevents follow
        d.ops += n_config(0x04, 0x0004, 2) + n_config(0x04, 0x0006, 2)
        d.ops += n_wr(N_CC, 0)
        return bytes([mode]) + d.ops

    # SGLs: one data block, a Last Segment, a Segment chained to a Last Segment, and bad ones.
    d = NvmeDriver()
    d.msix(2)
    d.enable()
    d.io_queue(1, 16, 16, 1, N_IOSQ_GPA, N_IOCQ_GPA)
    sgl_cmd = lambda opc, slba, nlb, desc: d.cmd(1, opc, nsid=1, prp1=struct.unpack("<Q", desc[:8])[0],
                                                   prp2=struct.unpack("<Q", desc[8:])[0], cdw10=slba,
                                                   cdw12=nlb - 1, flags=1 << 6)
    sgl_cmd(0x01, 0, 2, n_sgl(N_DATA_GPA + 3, 1024, 0))
    d.ops += n_ram(N_SGL_GPA, n_sgl(N_DATA_GPA, 700, 0) + n_sgl(N_DATA_GPA + 0x2005, 300, 0) +
                   n_sgl(N_DATA_GPA + 0x3800, 536, 0))
    sgl_cmd(0x02, 4, 3, n_sgl(N_SGL_GPA, 48, 3))
    d.ops += n_ram(N_SGL_GPA + 0x100, n_sgl(N_DATA_GPA, 1000, 0) + n_sgl(N_DATA_GPA + 0x4000, 24, 0) +
                   n_sgl(N_SGL_GPA + 0x400, 32, 3))
    d.ops += n_ram(N_SGL_GPA + 0x400, n_sgl(N_DATA_GPA + 0x5000, 512, 0) + n_sgl(N_DATA_GPA + 0x6000, 512, 0))
    sgl_cmd(0x01, 8, 4, n_sgl(N_SGL_GPA + 0x100, 48, 2))
    sgl_cmd(0x02, 8, 4, n_sgl(N_SGL_GPA + 0x100, 48, 2))
    sgl_cmd(0x02, 0, 1, n_sgl(N_DATA_GPA, 512, 1))                 # bit bucket: type not taken
    sgl_cmd(0x02, 0, 2, n_sgl(N_DATA_GPA, 1000, 0))                # too short
    d.ops += n_ram(N_DSM_GPA, struct.pack("<IIQ", 0, 8, 16))
    d.cmd(1, 0x09, nsid=1, prp1=N_DSM_GPA, prp2=16, cdw11=1 << 2, flags=1 << 6)          # DSM ranges by SGL
    d.cq_head(1, 7)
    sgl = bytes([0x00]) + d.ops

    # INTx with INTMS/INTMC, queue errors, a 3-entry CQ, wrap, Interrupt Coalescing with held I/O.
    d = NvmeDriver()
    d.enable(4, 4)
    d.ops += n_wr(N_INTMS, 1) + n_wr(N_INTMC, 1)
    d.cmd(0, 0x05, prp1=N_IOCQ_GPA, cdw10=0 << 16 | 1, cdw11=1 << 16 | 3)       # QSIZE 0
    d.cmd(0, 0x01, prp1=N_IOSQ_GPA, cdw10=7 << 16 | 1, cdw11=1 << 16 | 1)       # no CQ 1
    d.cq_head(0, 2)
    d.io_queue(1, 8, 3, 0, N_IOSQ_GPA, N_IOCQ_GPA)
    d.cq_head(0, 0)
    for i in range(6):
        d.rw(1, 0x01, i, 1, N_DATA_GPA, ring=False)
    d.ring(1)
    for head in (2, 1, 0):
        d.cq_head(1, head)
    d.cmd(0, 0x04, cdw10=1)                                         # CQ with an SQ on it
    d.cmd(0, 0x09, cdw10=0x08, cdw11=0xFF03)
    d.cq_head(0, 2)
    d.ops += bytes([N_BACKEND, 1])
    for i in range(2):
        d.rw(1, 0x02, i, 1, N_DATA_GPA)
    d.ops += struct.pack("<BB", N_COMPLETE, 1) + struct.pack("<BB", N_COMPLETE, 1)
    d.cmd(0, 0x00, cdw10=1)                                         # delete SQ 1
    d.cmd(0, 0x04, cdw10=1)
    d.ops += n_wr(N_CC, N_CC_READY | 2 << 14) + n_wr(N_CC, 0)       # abrupt shutdown, reset
    intx = bytes([0x34]) + d.ops
    return {"seed-enable-queues-io": enable_io, "seed-shadow-doorbells-loop": shadow_session(0x01),
            "seed-shadow-doorbells-held": shadow_session(0x08), "seed-sgl": sgl,
            "seed-intx-coalescing-queue-errors": intx}


# tests/fuzz/fuzz_fw_cfg.c: flags, port offset, size code, pad, value; then guest memory.
def f_op(write, offset, size, value=0):
    return struct.pack("<BBBBI", 1 if write else 0, offset, {1: 0, 2: 1, 4: 2}[size], 0, value)


def f_dma(desc):
    """SeaBIOS's outl of the descriptor's address, big-endian, to 0x518."""
    return f_op(True, 8, 4, struct.unpack("<I", struct.pack(">I", desc))[0])


def f_access(control, length, address):
    return struct.pack(">IIQ", control, length, address)


def fw_cfg_seeds():
    ops = 256
    port = b"".join([f_op(True, 0, 2, 0x19)] + [f_op(False, 1, 1)] * 68 + [f_op(False, 4, 4), f_op(False, 8, 4)])
    port += f_op(False, 1, 1) * (ops - len(port) // 8)
    ram = bytearray(0x1000)
    ram[0x100:0x110] = f_access((0x21 << 16) | 0x0A, 64, 0x800)     # select etc/acpi/tables, read
    ram[0x110:0x120] = f_access(0x04, 100, 0)                        # skip
    ram[0x120:0x130] = f_access(0x02, 0x2000, 0x800)                 # read past the end
    ram[0x130:0x140] = f_access((0x20 << 16) | 0x18, 4, 0x800)       # write: an error
    ram[0x140:0x150] = f_access(0x02, 16, 0xFFFFFFF0)                # outside RAM
    dmas = b"".join(f_dma(d) for d in (0x100, 0x110, 0x120, 0x130, 0x140, 0xFFF8))
    dmas += f_op(True, 4, 4, 0x01000000) + f_dma(0x100)              # a high half: 4 GiB up
    dmas += f_op(False, 1, 1) * (ops - len(dmas) // 8)
    return {"seed-directory-by-port": port, "seed-dma-transfers": dmas + bytes(ram)}


def main():
    pci_dir, loaders_dir, e1000_dir, nvme_dir, fw_cfg_dir = sys.argv[1:6]
    for name, data in fw_cfg_seeds().items():
        os.makedirs(fw_cfg_dir, exist_ok=True)
        open(os.path.join(fw_cfg_dir, name), "wb").write(data)
    for d in (pci_dir, loaders_dir, e1000_dir, nvme_dir):
        os.makedirs(d, exist_ok=True)
    open(os.path.join(pci_dir, "seed-bring-up-and-read"), "wb").write(pci_session())
    elf = pvh_elf()
    seeds = {"seed-pvh-elf": elf, "seed-bzimage-gzip": bzimage(gzip.compress(elf)),
             "seed-bzimage-raw": bzimage(elf)}
    for name, data in seeds.items():
        open(os.path.join(loaders_dir, name), "wb").write(data)
    for name, data in e1000_seeds().items():
        open(os.path.join(e1000_dir, name), "wb").write(data)
    for name, data in nvme_seeds().items():
        open(os.path.join(nvme_dir, name), "wb").write(data)


if __name__ == "__main__":
    main()
