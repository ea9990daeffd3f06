#!/usr/bin/env python3
"""Builds a Linux test guest from Debian's packages, without compiling a kernel.

Downloads linux-image-<version>-amd64-unsigned and busybox-static with
apt-get into a cache directory outside the source tree, then writes there:

  bzImage          the kernel as Debian ships it
  vmlinux          the ELF kernel decompressed from the bzImage's payload
                   (for the PVH entry)
  initramfs.cpio.gz
                   busybox, the modules vmm's devices need, and an /init
                   that loads them, mounts proc, sys and dev, prints
                   "vmm-init:" markers, runs the script named by
                   vmm.script=PATH on the kernel command line (default:
                   /etc/vmm/default.sh, which prints nproc and the memory
                   size), then powers off with `poweroff -f`.

The paths are printed as NAME=PATH lines. A second run reuses the cache.

Usage: tools/linux-guest.py [--cache DIR] [--kernel-package NAME]
Cache default: $VMM_LINUX_CACHE, else ~/.cache/vmm/linux.
"""
import argparse
import fcntl
import gzip
import io
import lzma
import os
import re
import shutil
import struct
import subprocess
import sys

# Modules for vmm's devices; their dependencies are found from .modinfo.
WANTED_MODULES = ["virtio_pci", "virtio_mmio", "virtio_blk", "virtio_net", "e1000", "nvme"]

INIT = r"""#!/bin/sh
export PATH=/bin:/sbin
/bin/busybox mkdir -p /proc /sys /dev /tmp /mnt
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "vmm-init: /init is running"
for m in $(cat /etc/vmm/modules); do
    insmod "/lib/modules/$m.ko" || echo "vmm-init: insmod $m failed"
done
echo "vmm-init: modules loaded"
script=/etc/vmm/default.sh
for arg in $(cat /proc/cmdline); do
    case "$arg" in vmm.script=*) script="${arg#vmm.script=}" ;; esac
done
case "$script" in
/dev/*) tr -d '\000' < "$script" > /tmp/script.sh; script=/tmp/script.sh ;;
esac
echo "vmm-init: running $script"
sh "$script"
echo "vmm-init: $script exited with status $?"
poweroff -f
"""

DEFAULT_SCRIPT = r"""ram=0
for d in /sys/firmware/memmap/*; do
    [ "$(cat "$d/type")" = "System RAM" ] || continue
    ram=$((ram + $(cat "$d/end") - $(cat "$d/start") + 1))
done
echo "vmm-guest: nproc $(nproc)"
echo "vmm-guest: memtotal_kb $(awk '/^MemTotal/ {print $2}' /proc/meminfo)"
echo "vmm-guest: e820_ram_bytes $ram"
"""


def log(msg):
    print(f"linux-guest: {msg}", file=sys.stderr)


def run(cmd, cwd=None):
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def kernel_package():
    out = subprocess.run(["apt-cache", "depends", "linux-image-amd64"], check=True,
                         capture_output=True, text=True).stdout
    m = re.search(r"Depends: (linux-image-[0-9][^\s]*-amd64)\b", out)
    if not m:
        sys.exit("linux-guest: cannot tell which kernel linux-image-amd64 points at "
                 "(is apt-get update done?)")
    return m.group(1) + "-unsigned"


def download(cache, package):
    """apt-get download into cache; returns the .deb's path."""
    debs = [f for f in os.listdir(cache) if f.startswith(package + "_") and f.endswith("_amd64.deb")]
    if debs:
        return os.path.join(cache, debs[0])
    log(f"downloading {package}")
    # The cache may be a directory apt's sandbox user cannot write.
    cmd = ["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", package]
    if subprocess.run(cmd, cwd=cache, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        run(cmd, cwd=cache)
    return download(cache, package)


def extract(deb, into):
    if not os.path.isdir(into):
        shutil.rmtree(into + ".tmp", ignore_errors=True)
        os.makedirs(into + ".tmp")
        run(["dpkg-deb", "-x", deb, into + ".tmp"])
        os.rename(into + ".tmp", into)
    return into


def decompress_payload(bzimage):
    """The ELF vmlinux inside a bzImage (boot protocol 2.08+: payload_offset/length)."""
    setup_sects = bzimage[0x1f1] or 4
    version, = struct.unpack_from("<H", bzimage, 0x206)
    if bzimage[0x202:0x206] != b"HdrS" or version < 0x208:
        sys.exit("linux-guest: the kernel has no payload fields (boot protocol < 2.08)")
    offset, length = struct.unpack_from("<II", bzimage, 0x248)
    start = (setup_sects + 1) * 512 + offset
    payload = bzimage[start:start + length]
    if payload.startswith(b"\xfd7zXZ"):
        return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(payload)
    if payload.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=io.BytesIO(payload)).read()
    if payload.startswith(b"\x28\xb5\x2f\xfd"):
        return subprocess.run(["zstd", "-dc"], input=payload, check=True, capture_output=True).stdout
    sys.exit(f"linux-guest: unknown payload compression {payload[:4].hex()}")


def elf_section(data, name):
    """The bytes of one section of an ELF64 file, or b""."""
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    def header(i):
        return struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
    strtab = header(shstrndx)
    for i in range(shnum):
        sh_name, _, _, _, off, size = header(i)
        at = strtab[4] + sh_name
        if data[at:data.index(b"\0", at)] == name:
            return data[off:off + size]
    return b""


def module_depends(path):
    info = elf_section(open(path, "rb").read(), b".modinfo")
    for field in info.split(b"\0"):
        if field.startswith(b"depends="):
            return [d for d in field[8:].decode().split(",") if d]
    return []


def module_files(moddir):
    files = {}
    for root, _, names in os.walk(moddir):
        for n in names:
            if n.endswith(".ko"):
                files[n[:-3].replace("-", "_")] = os.path.join(root, n)
    return files


def load_order(files, wanted):
    """Dependencies first, each module once."""
    order = []
    def visit(name):
        key = name.replace("-", "_")
        if key in order:
            return
        if key not in files:
            sys.exit(f"linux-guest: module {name} is not in the kernel package")
        for dep in module_depends(files[key]):
            visit(dep)
        order.append(key)
    for w in wanted:
        visit(w)
    return order


class Cpio:
    """A newc-format archive (the initramfs format, Documentation/driver-api/early-userspace)."""

    def __init__(self):
        self.out = io.BytesIO()
        self.ino = 1

    def _entry(self, name, mode, data=b""):
        name_b = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0]
        self.ino += 1
        self.out.write(b"070701" + b"".join(b"%08X" % f for f in fields))
        self.out.write(name_b)
        self.out.write(b"\0" * (-(110 + len(name_b)) % 4))
        self.out.write(data)
        self.out.write(b"\0" * (-len(data) % 4))

    def dir(self, name):
        self._entry(name, 0o040755)

    def file(self, name, data, mode=0o644):
        self._entry(name, 0o100000 | mode, data)

    def symlink(self, name, target):
        self._entry(name, 0o120777, target.encode())

    def finish(self):
        self._entry("TRAILER!!!", 0)
        return self.out.getvalue()


def build_initramfs(busybox, modules, files):
    c = Cpio()
    for d in ["bin", "sbin", "etc", "etc/vmm", "lib", "lib/modules", "proc", "sys", "dev", "tmp", "mnt"]:
        c.dir(d)
    c.file("bin/busybox", open(busybox, "rb").read(), 0o755)
    c.symlink("bin/sh", "busybox")
    c.file("init", INIT.encode(), 0o755)
    c.file("etc/vmm/default.sh", DEFAULT_SCRIPT.encode(), 0o755)
    c.file("etc/vmm/modules", "\n".join(modules).encode() + b"\n")
    for m in modules:
        c.file(f"lib/modules/{m}.ko", open(files[m], "rb").read())
    return gzip.compress(c.finish(), compresslevel=6)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", default=os.environ.get("VMM_LINUX_CACHE",
                                                      os.path.expanduser("~/.cache/vmm/linux")))
    ap.add_argument("--kernel-package")
    args = ap.parse_args()
    cache = os.path.abspath(args.cache)
    os.makedirs(cache, exist_ok=True)
    # Tests run in parallel: one builds, the others wait and reuse.
    lock = open(os.path.join(cache, ".lock"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    package = args.kernel_package or kernel_package()
    out = os.path.join(cache, package)
    paths = {n: os.path.join(out, n) for n in ("bzImage", "vmlinux", "initramfs.cpio.gz")}
    if not all(os.path.exists(p) for p in paths.values()):
        kernel = extract(download(cache, package), os.path.join(cache, "extract", package))
        busybox = extract(download(cache, "busybox-static"), os.path.join(cache, "extract", "busybox-static"))
        vmlinuz = [f for f in os.listdir(os.path.join(kernel, "boot")) if f.startswith("vmlinuz-")][0]
        os.makedirs(out, exist_ok=True)
        shutil.copyfile(os.path.join(kernel, "boot", vmlinuz), paths["bzImage"] + ".tmp")
        with open(paths["vmlinux"] + ".tmp", "wb") as f:
            f.write(decompress_payload(open(paths["bzImage"] + ".tmp", "rb").read()))
        files = module_files(os.path.join(kernel, "lib", "modules"))
        modules = load_order(files, WANTED_MODULES)
        with open(paths["initramfs.cpio.gz"] + ".tmp", "wb") as f:
            f.write(build_initramfs(os.path.join(busybox, "bin", "busybox"), modules, files))
        for p in paths.values():
            os.rename(p + ".tmp", p)
        log(f"built {out} ({' '.join(modules)})")
    for name, p in paths.items():
        print(f"{name.split('.')[0]}={p}")


if __name__ == "__main__":
    main()
