#!/usr/bin/env python3
"""A bootable Debian disk image, made from Debian's packages without an
installer, for booting through firmware (SeaBIOS or OVMF) as an installed
system boots.

    tools/disk-image.py --output disk.img [--size MiB]
    tools/disk-image.py --fetch     only fetches what building needs, and OVMF, into
                                    the cache (the nested test machine has no network)
    tools/disk-image.py --ovmf      prints ovmf_code=PATH ovmf_vars=PATH: Debian's
                                    OVMF, fetched into the cache (the variable store
                                    is a template: copy it per VM)

The image has an MBR partition table (what both firmwares boot): partition
1 is an EFI system partition (FAT, GRUB for x86_64-efi as
/EFI/BOOT/BOOTX64.EFI, the path firmware boots without NVRAM entries),
partition 2 the root file system (ext4, label vmmroot) with Debian's
kernel, the test guest's initramfs (tools/linux-guest.py) and GRUB's
configuration; GRUB for i386-pc sits in the gap before partition 1, with
its boot sector in the MBR, as grub-install puts it. GRUB's menu and Linux
talk on the serial console (COM1, 115200). The initramfs mounts the root
partition, reports what it found and writes a file there, then powers off.

Packages (grub-pc-bin, grub-efi-amd64-bin, grub-common, dosfstools, mtools)
are fetched with apt-get download into the cache of tools/linux-guest.py
and unpacked there; nothing is installed and nothing is committed. Building
needs no root and no loop device: mkfs.ext4 -d fills the root file system
from a directory at its offset in the image, mtools fills the FAT one.
"""
import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import debian_kernel as dk  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = "disk-image"
SECTOR = 512
ESP_START_MIB, ESP_MIB = 1, 32
DISK_SIGNATURE = 0x766d6d31          # "vmm1": root=PARTUUID=766d6d31-02
ROOT_PARTUUID = f"{DISK_SIGNATURE:08x}-02"
GRUB_MODULES = ["part_msdos", "ext2", "fat", "normal", "linux", "serial", "terminal", "echo", "test",
                "search", "search_label", "configfile", "sleep", "halt", "reboot"]
BIOS_MODULES = ["biosdisk"]
# grub-core/boot/i386/pc/boot.S and setup.c: where the boot sector keeps what grub-bios-setup fills.
BOOT_KERNEL_SECTOR = 0x5c
BOOT_DRIVE = 0x64
BOOT_DRIVE_CHECK = 0x66
BOOT_CODE_BYTES = 440                # then the disk signature and the partition table
BLOCKLIST_BYTES = 12                 # u64 start, u16 sectors, u16 segment, at the end of diskboot
KERNEL_SEGMENT = 0x820

GRUB_CFG = """serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=1
echo "vmm-disk: GRUB $grub_platform"
menuentry "Debian (vmm disk image)" {
    search --no-floppy --label --set=root vmmroot
    linux /boot/vmlinuz console=ttyS0 root=PARTUUID=%s vmm.disk=1
    initrd /boot/initrd.img
}
"""

# Run by the initramfs (tools/linux-guest.py's init) as /etc/vmm/script.sh.
DISK_SCRIPT = r"""root=$(findfs LABEL=vmmroot 2>/dev/null)
for i in 1 2 3 4 5 6 7 8 9 10; do
    [ -n "$root" ] && break
    sleep 1
    root=$(findfs LABEL=vmmroot 2>/dev/null)
done
[ -n "$root" ] || { echo "vmm-disk: no root partition"; exit 1; }
mount -t ext4 "$root" /mnt || { echo "vmm-disk: cannot mount $root"; exit 1; }
echo "vmm-disk: root $root mounted: $(cat /mnt/etc/vmm-disk)"
echo "booted $(cat /proc/sys/kernel/random/boot_id)" >> /mnt/var/boots
echo "vmm-disk: boots recorded: $(wc -l < /mnt/var/boots)"
if [ -d /sys/firmware/efi ]; then
    echo "vmm-disk: booted through UEFI"
    insmod /mnt/lib/modules/efivarfs.ko
    mount -t efivarfs efivarfs /sys/firmware/efi/efivars || echo "vmm-disk: no efivarfs"
    var=/sys/firmware/efi/efivars/VmmDiskTest-6c6b7b46-1c3f-4b3e-9d2b-766d6d310001
    if [ -e "$var" ]; then
        echo "vmm-disk: efi variable found: $(tail -c +5 "$var")"
    else
        printf '\007\000\000\000written-by-the-guest' > "$var" && echo "vmm-disk: efi variable written"
    fi
fi
umount /mnt
echo "vmm-disk: done"
"""


def run(*cmd, **kw):
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, **kw)
    if r.returncode:
        sys.exit(f"{TOOL}: {' '.join(cmd[:3])}... failed: {r.stderr.strip()[-500:]}")
    return r.stdout


def packages(cache):
    return {p: dk.fetch(cache, p) for p in ("grub-common", "grub-pc-bin", "grub-efi-amd64-bin", "dosfstools",
                                            "mtools")}


def grub_image(pkgs, platform, prefix, out):
    tool = os.path.join(pkgs["grub-common"], "usr", "bin", "grub-mkimage")
    lib = {"i386-pc": pkgs["grub-pc-bin"], "x86_64-efi": pkgs["grub-efi-amd64-bin"]}[platform]
    modules = GRUB_MODULES + (BIOS_MODULES if platform == "i386-pc" else [])
    run(tool, "-O", platform, "-d", os.path.join(lib, "usr", "lib", "grub", platform), "-p", prefix, "-o", out,
        *modules)
    return os.path.join(lib, "usr", "lib", "grub", platform)


def mbr(size_sectors):
    """Partition table: the ESP, then the root partition to the end of the disk."""
    esp_start, esp_len = ESP_START_MIB * 2048, ESP_MIB * 2048
    root_start = esp_start + esp_len
    entries = [(0x00, 0xef, esp_start, esp_len), (0x80, 0x83, root_start, size_sectors - root_start)]
    table = b"".join(struct.pack("<B3sB3sII", flag, b"\xfe\xff\xff", kind, b"\xfe\xff\xff", start, length)
                     for flag, kind, start, length in entries)
    return struct.pack("<I", DISK_SIGNATURE) + b"\0\0" + table + bytes(32) + b"\x55\xaa", root_start


def install_bios_grub(image, grub_dir, core_path):
    """What grub-bios-setup does for a core image embedded after the MBR: the boot sector loads
    sector 1 (diskboot), whose blocklist loads the rest of core.img from sector 2 on."""
    boot = bytearray(open(os.path.join(grub_dir, "boot.img"), "rb").read())
    core = bytearray(open(core_path, "rb").read())
    sectors = (len(core) + SECTOR - 1) // SECTOR
    if sectors + 1 > ESP_START_MIB * 2048:
        sys.exit(f"{TOOL}: core.img ({len(core)} bytes) does not fit before the first partition")
    struct.pack_into("<Q", boot, BOOT_KERNEL_SECTOR, 1)
    boot[BOOT_DRIVE] = 0xff                                # the drive the BIOS booted from
    struct.pack_into("<H", boot, BOOT_DRIVE_CHECK, 0x9090)  # a hard disk: no floppy probe
    struct.pack_into("<QHH", core, SECTOR - BLOCKLIST_BYTES, 2, sectors - 1, KERNEL_SEGMENT)
    with open(image, "r+b") as f:
        f.write(boot[:BOOT_CODE_BYTES])
        f.seek(SECTOR)
        f.write(core)


def esp(pkgs, efi_path, out):
    mkfs = os.path.join(pkgs["dosfstools"], "sbin", "mkfs.fat")
    mtools = os.path.join(pkgs["mtools"], "usr", "bin")
    with open(out, "wb") as f:
        f.truncate(ESP_MIB << 20)
    run(mkfs, "-n", "VMMESP", out)   # FAT16 at this size, which every firmware reads
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    for d in ("::/EFI", "::/EFI/BOOT"):
        run(os.path.join(mtools, "mmd"), "-i", out, d, env=env)
    run(os.path.join(mtools, "mcopy"), "-i", out, efi_path, "::/EFI/BOOT/BOOTX64.EFI", env=env)


def root_tree(tree, guest, initrd, kernel):
    """The root file system: the kernel, initramfs and GRUB's configuration, and efivarfs (a module
    in Debian's kernel, loaded from here to write a UEFI variable)."""
    for d in ("boot/grub", "etc", "var", "mnt", "lib/modules"):
        os.makedirs(os.path.join(tree, d), exist_ok=True)
    modules = os.path.join(kernel, "lib", "modules")
    version = os.listdir(modules)[0]
    shutil.copyfile(os.path.join(modules, version, "kernel", "fs", "efivarfs", "efivarfs.ko"),
                    os.path.join(tree, "lib", "modules", "efivarfs.ko"))
    shutil.copyfile(guest["bzImage"], os.path.join(tree, "boot", "vmlinuz"))
    shutil.copyfile(initrd, os.path.join(tree, "boot", "initrd.img"))
    open(os.path.join(tree, "boot", "grub", "grub.cfg"), "w").write(GRUB_CFG % ROOT_PARTUUID)
    open(os.path.join(tree, "etc", "vmm-disk"), "w").write("vmm disk image, Debian kernel, made by "
                                                            "tools/disk-image.py\n")
    open(os.path.join(tree, "var", "boots"), "w").close()


def build(output, size_mib, cache):
    lock = dk.lock_cache(cache)
    pkgs = packages(cache)
    kernel = dk.fetch(cache, dk.kernel_package())
    lock.close()
    guest = dict(line.split("=", 1) for line in run(os.path.join(HERE, "linux-guest.py")).split())
    with tempfile.TemporaryDirectory(prefix="disk-image.") as work:
        script = os.path.join(work, "disk.sh")
        open(script, "w").write(DISK_SCRIPT)
        initrd = os.path.join(work, "initrd.img")
        run(os.path.join(HERE, "linux-guest.py"), "--script", script, "--output", initrd)
        tree = os.path.join(work, "root")
        root_tree(tree, guest, initrd, kernel)
        core, efi = os.path.join(work, "core.img"), os.path.join(work, "BOOTX64.EFI")
        grub_dir = grub_image(pkgs, "i386-pc", "(hd0,msdos2)/boot/grub", core)
        grub_image(pkgs, "x86_64-efi", "(hd0,msdos2)/boot/grub", efi)
        esp_img = os.path.join(work, "esp.img")
        esp(pkgs, efi, esp_img)
        size = size_mib << 20
        table, root_start = mbr(size // SECTOR)
        tmp = output + ".tmp"
        with open(tmp, "wb") as f:
            f.truncate(size)
            f.seek(BOOT_CODE_BYTES)
            f.write(table)
            f.seek(ESP_START_MIB << 20)
            f.write(open(esp_img, "rb").read())
        root_bytes = size - root_start * SECTOR
        run("mkfs.ext4", "-q", "-F", "-L", "vmmroot", "-d", tree, "-E", f"offset={root_start * SECTOR}", tmp,
            f"{root_bytes // 1024}k")
        install_bios_grub(tmp, grub_dir, core)
        os.rename(tmp, output)
    dk.log(TOOL, f"built {output} ({size_mib} MiB: ESP {ESP_MIB} MiB, root partition PARTUUID={ROOT_PARTUUID})")


def fetch_all(cache):
    lock = dk.lock_cache(cache)
    packages(cache)
    dk.fetch(cache, dk.kernel_package())
    dk.fetch(cache, "ovmf")
    lock.close()
    run(os.path.join(HERE, "linux-guest.py"))


def ovmf(cache):
    lock = dk.lock_cache(cache)
    tree = os.path.join(dk.fetch(cache, "ovmf"), "usr", "share", "OVMF")
    lock.close()
    print(f"ovmf_code={os.path.join(tree, 'OVMF_CODE_4M.fd')}")
    print(f"ovmf_vars={os.path.join(tree, 'OVMF_VARS_4M.fd')}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--output")
    ap.add_argument("--fetch", action="store_true")
    ap.add_argument("--ovmf", action="store_true")
    ap.add_argument("--size", type=int, default=128, help="MiB (at least 64)")
    ap.add_argument("--cache", default=dk.default_cache())
    args = ap.parse_args()
    if args.fetch:
        return fetch_all(os.path.abspath(args.cache))
    if args.ovmf:
        return ovmf(os.path.abspath(args.cache))
    if not args.output:
        ap.error("--output is required")
    if args.size < 64:
        ap.error("--size is at least 64 (MiB)")
    build(os.path.abspath(args.output), args.size, os.path.abspath(args.cache))


if __name__ == "__main__":
    main()
