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
                   "vmm-init:" markers, runs a script, then powers off with
                   `poweroff -f` (or does what the script asked: `reboot -f`
                   when it leaves /tmp/vmm-reboot).

The script is the one named by vmm.script=PATH on the kernel command line,
else /etc/vmm/script.sh if the initramfs has one (see --script), else
/etc/vmm/default.sh, which prints nproc and the memory size.

The paths are printed as NAME=PATH lines. A second run reuses the cache.

Usage: tools/linux-guest.py [--cache DIR] [--kernel-package NAME]
       tools/linux-guest.py --script FILE --output INITRAMFS
           writes an initramfs that is the cached one plus FILE as
           /etc/vmm/script.sh (the kernel unpacks concatenated archives)
       tools/linux-guest.py --script FILE --output INITRAMFS --program iperf3
           the same, with a host program and its shared libraries (the
           benchmarks' iperf3 and fio, from Debian's packages)
Cache default: $VMM_LINUX_CACHE, else ~/.cache/vmm/linux.
"""
import argparse
import gzip
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import lzma
import io

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import debian_kernel as dk  # noqa: E402

# Modules for vmm's devices and what the guest tests use; their
# dependencies are found from .modinfo. crc32c_generic is what ext4 asks
# the crypto API for by name, so no .modinfo names it.
WANTED_MODULES = ["virtio_pci", "virtio_mmio", "virtio_blk", "virtio_net", "e1000", "nvme",
                  "crc32c_generic", "ext4"]

INIT = r"""#!/bin/sh
export PATH=/bin:/sbin
/bin/busybox mkdir -p /proc /sys /dev /tmp /mnt
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "vmm-init: /init is running"
for m in $(cat /etc/modules); do
    insmod "/lib/modules/$m.ko" || echo "vmm-init: insmod $m failed"
done
echo "vmm-init: modules loaded"
script=/etc/vmm/default.sh
[ -f /etc/vmm/script.sh ] && script=/etc/vmm/script.sh
for arg in $(cat /proc/cmdline); do
    case "$arg" in vmm.script=*) script="${arg#vmm.script=}" ;; esac
done
case "$script" in
/dev/*) tr -d '\000' < "$script" > /tmp/script.sh; script=/tmp/script.sh ;;
esac
echo "vmm-init: running $script"
sh "$script"
echo "vmm-init: $script exited with status $?"
if [ -e /tmp/vmm-reboot ]; then reboot -f; fi
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

# What udhcpc runs on a lease: configure the interface, the default route
# and the resolver, as Debian's busybox default script does.
UDHCPC_SCRIPT = r"""#!/bin/sh
case "$1" in
deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    for r in $router; do ip route add default via "$r" dev "$interface"; break; done
    : > /etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
    echo "vmm-dhcp: $interface lease $ip router $router"
    ;;
esac
"""


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


def build(cache, package, out, paths):
    kernel = dk.fetch(cache, package)
    busybox = dk.fetch(cache, "busybox-static")
    os.makedirs(out, exist_ok=True)
    shutil.copyfile(dk.vmlinuz(kernel), paths["bzImage"] + ".tmp")
    with open(paths["vmlinux"] + ".tmp", "wb") as f:
        f.write(decompress_payload(open(paths["bzImage"] + ".tmp", "rb").read()))
    files = dk.module_files(kernel)
    modules = dk.load_order(files, WANTED_MODULES)
    cpio = dk.busybox_initramfs(
        os.path.join(busybox, "bin", "busybox"), INIT, files, modules,
        extra_dirs=["etc/vmm", "usr", "usr/share", "usr/share/udhcpc"],
        extra_files=[("etc/vmm/default.sh", DEFAULT_SCRIPT.encode(), 0o755),
                     ("usr/share/udhcpc/default.script", UDHCPC_SCRIPT.encode(), 0o755)])
    with open(paths["initramfs.cpio.gz"] + ".tmp", "wb") as f:
        f.write(gzip.compress(cpio, compresslevel=6))
    for p in paths.values():
        os.rename(p + ".tmp", p)
    dk.log("linux-guest", f"built {out} ({' '.join(modules)})")


def host_program(cpio, name):
    """A program of the host's Debian packages (iperf3), or a path to one of
    ours (build/disk-iops), with the shared libraries it links, at the same
    paths: the guest runs the host's own build."""
    path = shutil.which(name)
    if not path:
        sys.exit(f"linux-guest: {name} is not installed (tools/install-deps.sh installs it)")
    # A static program (firmware/linux's) has no libraries: ldd says so and fails.
    ldd = subprocess.run(["ldd", path], check=False, capture_output=True, text=True).stdout
    files = [path] + [w for line in ldd.splitlines() for w in line.split() if w.startswith("/")]
    made = set()
    for f in files:
        parts = f.strip("/").split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if d not in made:
                cpio.dir(d)
                made.add(d)
        cpio.file(f.strip("/"), open(os.path.realpath(f), "rb").read(), 0o755)


def with_script(initramfs, script, output, programs=()):
    """The cached initramfs followed by a second archive holding the script
    (and host programs)."""
    extra = dk.Cpio()
    extra.file("etc/vmm/script.sh", open(script, "rb").read(), 0o755)
    for p in programs:
        host_program(extra, p)
    with open(output, "wb") as f:
        f.write(open(initramfs, "rb").read())
        f.write(gzip.compress(extra.finish()))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", default=dk.default_cache())
    ap.add_argument("--kernel-package")
    ap.add_argument("--script", help="add this file as /etc/vmm/script.sh")
    ap.add_argument("--output", help="where --script writes its initramfs")
    ap.add_argument("--program", action="append", default=[],
                    help="with --script: add this host program and its libraries (repeatable)")
    args = ap.parse_args()
    if bool(args.script) != bool(args.output):
        ap.error("--script and --output go together")
    cache = os.path.abspath(args.cache)
    lock = dk.lock_cache(cache)
    package = args.kernel_package or dk.kernel_package()
    # A change to what goes into the guest makes a new directory, not a stale hit.
    recipe = hashlib.sha256(repr((INIT, DEFAULT_SCRIPT, UDHCPC_SCRIPT, WANTED_MODULES)).encode()).hexdigest()
    out = os.path.join(cache, f"{package}-{recipe[:10]}")
    paths = {n: os.path.join(out, n) for n in ("bzImage", "vmlinux", "initramfs.cpio.gz")}
    if not all(os.path.exists(p) for p in paths.values()):
        build(cache, package, out, paths)
    lock.close()
    if args.script:
        with_script(paths["initramfs.cpio.gz"], args.script, args.output, args.program)
        return
    for name, p in paths.items():
        print(f"{name.split('.')[0]}={p}")


if __name__ == "__main__":
    main()
