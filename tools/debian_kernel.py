"""Debian's kernel and busybox as building blocks for guests, without compiling.

Shared by tools/linux-guest.py (the Linux test guest that runs under vmm) and
tools/testvm.py (the nested test machine that runs vmm). Packages are fetched
with `apt-get download` into a cache outside the source tree; nothing here is
ever committed.
"""
import fcntl
import io
import os
import re
import shutil
import subprocess
import struct
import sys


def log(tool, msg):
    print(f"{tool}: {msg}", file=sys.stderr)


def default_cache():
    return os.environ.get("VMM_LINUX_CACHE", os.path.expanduser("~/.cache/vmm/linux"))


def lock_cache(cache):
    """Parallel tests share the cache: one builds, the others wait and reuse."""
    os.makedirs(cache, exist_ok=True)
    lock = open(os.path.join(cache, ".lock"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    return lock


def run(cmd, cwd=None):
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def kernel_package():
    """The unsigned image package that linux-image-amd64 points at."""
    out = subprocess.run(["apt-cache", "depends", "linux-image-amd64"],
                         capture_output=True, text=True).stdout
    m = re.search(r"Depends: (linux-image-[0-9][^\s]*-amd64)\b", out)
    if not m:
        sys.exit("debian-kernel: cannot tell which kernel linux-image-amd64 points at "
                 "(apt-get update not done, or no Debian package lists)")
    return m.group(1) + "-unsigned"


def download(cache, package):
    """apt-get download into cache; returns the .deb's path."""
    debs = [f for f in os.listdir(cache) if f.startswith(package + "_") and f.endswith(("_amd64.deb", "_all.deb"))]
    if debs:
        return os.path.join(cache, debs[0])
    log("debian-kernel", f"downloading {package}")
    # The cache may be a directory apt's sandbox user cannot write.
    cmd = ["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", package]
    if subprocess.run(cmd, cwd=cache, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if subprocess.run(cmd, cwd=cache, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode != 0:
            sys.exit(f"debian-kernel: apt-get download {package} failed (no Debian mirror reachable?)")
    return download(cache, package)


def extract(deb, into):
    if not os.path.isdir(into):
        shutil.rmtree(into + ".tmp", ignore_errors=True)
        os.makedirs(into + ".tmp")
        run(["dpkg-deb", "-x", deb, into + ".tmp"])
        os.rename(into + ".tmp", into)
    return into


def fetch(cache, package):
    """The package's files, downloaded and unpacked once."""
    return extract(download(cache, package), os.path.join(cache, "extract", package))


def vmlinuz(kernel_tree):
    boot = os.path.join(kernel_tree, "boot")
    return os.path.join(boot, [f for f in os.listdir(boot) if f.startswith("vmlinuz-")][0])


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


def module_files(kernel_tree):
    """Module name (dashes as underscores) -> .ko path."""
    files = {}
    for root, _, names in os.walk(os.path.join(kernel_tree, "lib", "modules")):
        for n in names:
            if n.endswith(".ko"):
                files[n[:-3].replace("-", "_")] = os.path.join(root, n)
    return files


def load_order(files, wanted):
    """The wanted modules and their dependencies, dependencies first, each once."""
    order = []

    def visit(name):
        key = name.replace("-", "_")
        if key in order:
            return
        if key not in files:
            sys.exit(f"debian-kernel: module {name} is not in the kernel package")
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


def busybox_initramfs(busybox, init, files, modules, extra_dirs=(), extra_files=()):
    """A cpio with busybox as /bin/sh, an /init, the modules (in load order,
    listed in /etc/modules) and extra (name, data, mode) files."""
    c = Cpio()
    for d in ["bin", "sbin", "etc", "lib", "lib/modules", "proc", "sys", "dev", "tmp", "mnt", *extra_dirs]:
        c.dir(d)
    c.file("bin/busybox", open(busybox, "rb").read(), 0o755)
    c.symlink("bin/sh", "busybox")
    c.file("init", init.encode(), 0o755)
    c.file("etc/modules", "\n".join(modules).encode() + b"\n")
    for m in modules:
        c.file(f"lib/modules/{m}.ko", open(files[m], "rb").read())
    for name, data, mode in extra_files:
        c.file(name, data, mode)
    return c.finish()
