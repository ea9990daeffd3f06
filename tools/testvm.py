#!/usr/bin/env python3
"""The test machine: a hardware-assisted /dev/kvm on any host.

Guest tests need KVM with VT-x or AMD-V. Where the host has none (no
/dev/kvm, or kvm_pvm, where guest ring 0 is interpreted and Linux user space
cannot run), they run inside a nested machine instead: Debian's own kernel
under `qemu-system-x86_64 -accel tcg -cpu max`, whose emulated CPU offers
AMD-V, with kvm-amd loaded. That machine sees the host's files through 9p
(read-only, under a writable overlay kept on a scratch disk), so the vmm it
runs is the one just built, with the host's libraries, QEMU, Python and the
test scripts; nothing is copied into an image. Only a small initramfs is
built (Debian's kernel modules and busybox, fetched with apt-get into the
cache of tools/linux-guest.py).

  testvm.py where                 where guest tests would run: host or nested
  testvm.py exec [--] CMD...      run CMD on hardware-assisted KVM: on the host
                                  if it has one, else in the nested machine
  testvm.py run [--] CMD...       run CMD in the nested machine
  testvm.py shell                 an interactive shell in the nested machine
                                  (Ctrl-A X leaves it)
  testvm.py image                 build the nested machine's kernel and
                                  initramfs (cached) and print their paths

CMD runs with the caller's working directory and environment, and its exit
status is testvm's. Inside, $TMPDIR is a real ext4 file system (O_DIRECT
works there) and /tmp and everything else are the host's files under an
overlay that vanishes with the machine. VMM_TEST_MACHINE=host|nested forces
exec's choice; VMM_TESTVM_CPUS and VMM_TESTVM_MEMORY (MiB) size the machine and
VMM_TESTVM_QEMU_ARGS adds QEMU options (say, a -monitor to look inside).
VMM_TESTVM_TIMEOUT (s) bounds a command run in the nested machine, a second
run included (exec on a host with its own VT-x/AMD-V runs it there, unbounded): the
machine stops a command that runs past it, first printing what its processes
(and any the kernel holds in uninterruptible sleep) are doing, and testvm
prints the nested kernel's reports of blocked tasks; ctest sets it 30 s short of each
test's own limit, which would cut the test off with no word. Should the
nested kernel itself crash, the whole machine freeze (QEMU's emulated AMD-V
is not flawless; a freeze is a heartbeat that stops for FREEZE_SECONDS) or stop
without the command's status (a reset, which ends QEMU under -no-reboot), or a
command fail after vmm reported a guest triple fault (which guests of vmm and of
QEMU both meet here now and then) or after the test found KVM looping on a
guest's page-table walk (another face of it), testvm says so, shows where its vCPUs were,
and runs the command once more; a second failure stands.
Exit status 77 (SKIP) only when neither a hardware-assisted /dev/kvm nor
QEMU is there.
"""
import argparse
import ctypes
import gzip
import hashlib
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import debian_kernel as dk  # noqa: E402

TOOL = "testvm"
QEMU = os.environ.get("VMM_TESTVM_QEMU", "qemu-system-x86_64")
SKIP = 77
FREEZE_SECONDS = 60
# What a run of the machine takes beside the command: its boot, power-off and
# QEMU's exit, with room to spare (about 5 s here).
BOOT_SECONDS = 30
# What the machine's /init says when the command ran past VMM_TESTVM_TIMEOUT.
OVERTIME = b"testvm: the command ran past its limit"
# How the nested kernel reports a task blocked in the kernel: its hung-task
# detector (after 120 s), a netdev that cannot go, and SysRq-W.
BLOCKED_TASK = (b"INFO: task ", b"unregister_netdevice: waiting", b"sysrq: Show Blocked State")

# 9p and overlay for the host's files, ext4 for the scratch disk, kvm-amd,
# and what the network tests build inside (taps, bridges, veth pairs).
WANTED_MODULES = ["virtio_pci", "virtio_blk", "9pnet_virtio", "9p", "overlay", "crc32c_generic", "ext4",
                  "kvm_amd", "tun", "bridge", "veth"]

INIT = r"""#!/bin/sh
export PATH=/bin:/sbin
/bin/busybox mkdir -p /proc /sys /dev
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /etc/modules); do
    insmod "/lib/modules/$m.ko" || echo "testvm: insmod $m failed"
done
# stat_field N PID: field N of /proc/PID/stat after the command name (1 the
# state, 4 the session).
stat_field() { sed 's/.*) //' "/proc/$2/stat" 2>/dev/null | cut -d' ' -f"$1"; }
session() { stat_field 4 "$1"; }
# tasks SESSION: what each process of the command's session, and each one
# the kernel holds in uninterruptible sleep, is doing: its state, where it
# waits in the kernel, its command line and its kernel stack.
tasks() {
    local d state
    for d in /proc/[0-9]*; do
        state=$(stat_field 1 "${d#/proc/}")
        [ "$(session "${d#/proc/}")" = "$1" ] || [ "$state" = D ] || continue
        echo "pid ${d#/proc/} state $state in $(cat "$d/wchan" 2>/dev/null): $(tr '\0' ' ' <"$d/cmdline" 2>/dev/null)"
        sed 's/^/    /' "$d/stack" 2>/dev/null
    done
}
# overtime SECONDS PID: once the command has run SECONDS, says so, shows what
# it is doing (and has the kernel log its blocked tasks), and kills its
# session (timeout(1) puts what it runs in a process group of its own).
overtime() {
    local s d
    sleep "$1"
    s=$(session "$2")
    [ "$s" = "$2" ] || return   # gone, or (not seen) not a session leader
    echo "testvm: the command ran past its limit of $1 s (VMM_TESTVM_TIMEOUT); its processes:"
    tasks "$s"
    echo w >/proc/sysrq-trigger
    for d in /proc/[0-9]*; do
        [ "$(session "${d#/proc/}")" != "$s" ] || kill -KILL "${d#/proc/}" 2>/dev/null
    done
}
for arg in $(cat /proc/cmdline); do
    case "$arg" in testvm.*=*) key=${arg%%=*}; eval "${key#testvm.}=\${arg#*=}" ;; esac
done
mkdir -p /host /scratch /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,cache=loose,msize=512000,ro hostroot /host || echo "testvm: no host root"
# noinit_itable: the scratch disk is made with lazy_itable_init=1 (mkfs writes no inode
# tables), and ext4lazyinit would otherwise spend the machine's first minutes zeroing
# 512 MiB of them, in the background, on the disk the tests and benchmarks use.
mount -t ext4 -o noinit_itable /dev/vda /scratch || echo "testvm: no scratch disk"
mkdir -p /scratch/upper /scratch/work /scratch/tmp
chmod 1777 /scratch/tmp
mount -t overlay overlay -o lowerdir=/host,upperdir=/scratch/upper,workdir=/scratch/work /newroot ||
    echo "testvm: no overlay"
mkdir -p /newroot/scratch
mount --bind /scratch/tmp /newroot/scratch
mount -t proc proc /newroot/proc
mount -t sysfs sysfs /newroot/sys
mount -t devtmpfs devtmpfs /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /newroot/dev/pts
ln -sf pts/ptmx /newroot/dev/ptmx
mount -t tmpfs tmpfs /newroot/dev/shm
mount -t tmpfs tmpfs /newroot/run
cp "/host$script" /newroot/run/testvm.sh
ip link set lo up
# One VM held for the machine's life: KVM turns its preempt-notifier static
# key on with the first VM and off with the last, and QEMU 7.2's TCG can keep
# running the int3 of that text_poke (the call site crosses a page in
# finish_task_switch), freezing this machine. A VM always open keeps it on.
chroot /newroot /usr/bin/python3 -c 'import fcntl, os, signal
fcntl.ioctl(os.open("/dev/kvm", os.O_RDWR), 0xAE01, 0)
signal.pause()' &
(while :; do echo; sleep 5; done) >/dev/ttyS2 &   # the heartbeat
exec 3<>/dev/ttyS0   # held open: a tty's size is forgotten on its last close
stty -F /dev/ttyS0 -onlcr cols "${cols:-80}" rows "${rows:-24}"
[ -n "$tty" ] && stty -F /dev/ttyS0 onlcr
setsid -c chroot /newroot /bin/sh /run/testvm.sh </dev/ttyS0 >/dev/ttyS0 2>&1 &
command=$!
[ -z "$timeout" ] || overtime "$timeout" "$command" >/dev/ttyS0 2>&1 &
wait "$command"
status=$?
# On a line of its own: the command's last line may lack its newline (a console cut off).
[ -n "$tty" ] || printf '\ntestvm-exit-%s %s\n' "$nonce" "$status" >/dev/ttyS0
poweroff -f
"""


def host_kvm():
    """"hardware", "pvm" or "none": what the host's /dev/kvm is."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "none"
    if os.path.exists("/sys/module/kvm_pvm"):
        return "pvm"
    return "hardware"


def where():
    """("host"|"nested", why)."""
    forced = os.environ.get("VMM_TEST_MACHINE", "auto")
    kvm = host_kvm()
    if forced == "host":
        return "host", "VMM_TEST_MACHINE=host"
    if forced == "nested":
        return "nested", "VMM_TEST_MACHINE=nested"
    if forced != "auto":
        sys.exit(f"{TOOL}: VMM_TEST_MACHINE={forced}: expected auto, host or nested")
    if kvm == "hardware":
        return "host", "the host's /dev/kvm is hardware-assisted"
    why = "the host has kvm_pvm, no VT-x/AMD-V" if kvm == "pvm" else "the host has no usable /dev/kvm"
    return "nested", why


def image():
    """(bzImage, initramfs) of the nested machine, built once into the cache."""
    cache = os.path.abspath(dk.default_cache())
    lock = dk.lock_cache(cache)
    package = dk.kernel_package()
    recipe = hashlib.sha256(repr((INIT, WANTED_MODULES)).encode()).hexdigest()[:10]
    out = os.path.join(cache, f"testvm-{package}-{recipe}")
    initramfs = os.path.join(out, "initramfs.cpio.gz")
    kernel = dk.fetch(cache, package)
    if not os.path.exists(initramfs):
        busybox = dk.fetch(cache, "busybox-static")
        files = dk.module_files(kernel)
        modules = dk.load_order(files, WANTED_MODULES)
        cpio = dk.busybox_initramfs(os.path.join(busybox, "bin", "busybox"), INIT, files, modules)
        os.makedirs(out, exist_ok=True)
        with open(initramfs + ".tmp", "wb") as f:
            f.write(gzip.compress(cpio, compresslevel=6))
        os.rename(initramfs + ".tmp", initramfs)
        dk.log(TOOL, f"built {out} ({' '.join(modules)})")
    lock.close()
    return dk.vmlinuz(kernel), initramfs


def prepare_linux_guest():
    """The Linux guest that tests boot inside has to be in the cache first:
    the nested machine has no network to fetch it."""
    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.run([os.path.join(here, "linux-guest.py")], check=True, stdout=subprocess.DEVNULL)


def run_script(path, cmd):
    """The shell script the nested machine runs: the caller's directory,
    environment and command."""
    lines = ["cd " + shlex.quote(os.getcwd()) + " || exit 1"]
    for k, v in os.environ.items():
        if k.isidentifier() and k not in ("PWD", "OLDPWD", "SHLVL", "_", "TMPDIR"):
            lines.append(f"export {k}={shlex.quote(v)}")
    lines.append("export TMPDIR=/scratch VMM_TEST_MACHINE_INSIDE=nested")
    lines.append("exec " + " ".join(shlex.quote(c) for c in cmd))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def die_with_parent():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: no QEMU outlives a killed test


def qemu_command(kernel, initramfs, scratch, append):
    cpus = os.environ.get("VMM_TESTVM_CPUS", "2")
    memory = os.environ.get("VMM_TESTVM_MEMORY", "6144")
    return [QEMU, "-accel", os.environ.get("VMM_TESTVM_ACCEL", "tcg,thread=multi"), "-cpu", "max", "-smp", cpus, "-m", memory,
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-kernel", kernel, "-initrd", initramfs, "-append", append,
            "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
            "-drive", f"file={scratch},if=virtio,format=raw,cache=unsafe,discard=unmap",
            *shlex.split(os.environ.get("VMM_TESTVM_QEMU_ARGS", ""))]


def make_scratch(path):
    """A sparse ext4 disk for the overlay's upper layer and $TMPDIR."""
    with open(path, "wb") as f:
        f.truncate(32 << 30)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-E",
                    "lazy_itable_init=1,nodiscard", path], check=True)


# What the nested machine's own kernel says when it, not the test, broke.
# QEMU's emulation of AMD-V has been seen to corrupt the nested kernel's GS
# base on a VM exit about once in a few hundred guest runs under load.
NESTED_CRASH = (b"BUG:", b"Oops:", b"general protection fault", b"Kernel panic", b"soft lockup")
# What vmm says when its guest triple-faults. In this machine guests of both
# vmm and QEMU triple-fault now and then at no particular point (about once
# in 30 Linux boots, docs/testing.md), another face of the same emulator; a
# test that fails with it is run once more, and a second failure stands.
GUEST_TRIPLE_FAULT = b"guest triple fault (KVM_EXIT_SHUTDOWN)"
# What tests/integration/linux.sh says when a quiet guest's vCPU takes the
# same nested page fault again and again on its own page-table walk (its
# tables seem to point where it has no RAM: 4 GiB above a page of its own
# tables, a stray bit 32, in the cases seen), another face of what makes
# guests triple-fault here (docs/testing.md).
GUEST_WALK_LIVELOCK = b"KVM livelock: "
GUEST_BREAKS = {GUEST_TRIPLE_FAULT: "a guest triple fault", GUEST_WALK_LIVELOCK: "KVM looping on a guest's page-table walk"}


def run_nested(cmd, interactive=False):
    if not shutil.which(QEMU):
        print(f"{TOOL}: SKIP: no hardware-assisted /dev/kvm here and no {QEMU} for the nested "
              "test machine (install qemu-system-x86)")
        return SKIP
    try:
        kernel, initramfs = image()
        prepare_linux_guest()
    except (SystemExit, subprocess.CalledProcessError) as e:
        print(f"{TOOL}: cannot build the nested test machine: {e}")
        return 1
    if interactive:
        return boot(kernel, initramfs, cmd, interactive=True)
    deadline = time.monotonic() + float(os.environ["VMM_TESTVM_TIMEOUT"]) if os.environ.get("VMM_TESTVM_TIMEOUT") else None
    status, broke = boot(kernel, initramfs, cmd, deadline=deadline)
    if broke and deadline and deadline - time.monotonic() < BOOT_SECONDS + 60:
        print(f"{TOOL}: {broke}\n{TOOL}: too little of VMM_TESTVM_TIMEOUT is left to run the test once more")
        return 1
    if broke:
        print(f"{TOOL}: {broke}\n{TOOL}: running the test once more", flush=True)
        status, broke = boot(kernel, initramfs, cmd, deadline=deadline)
        if broke:
            print(f"{TOOL}: again: {broke}")
            status = 1
    return status


def boot(kernel, initramfs, cmd, interactive=False, deadline=None):
    """One run of the nested machine: (status, what broke if the machine itself did).
    With a deadline (time.monotonic()), the machine stops the command BOOT_SECONDS
    before it, to leave time for the machine's own boot and power-off."""
    nonce = secrets.token_hex(8)
    with tempfile.TemporaryDirectory(prefix="testvm.") as tmp:
        script = os.path.join(tmp, "run.sh")
        run_script(script, cmd)
        scratch = os.path.join(tmp, "scratch.img")
        make_scratch(scratch)
        kernel_log = os.path.join(tmp, "kernel.log")
        size = shutil.get_terminal_size() if interactive else os.terminal_size((80, 24))
        # The command talks on ttyS0; the nested kernel logs to ttyS1, apart.
        append = (f"console=ttyS1 panic=-1 panic_on_oops=1 mitigations=off testvm.script={script} "
                  f"testvm.nonce={nonce} testvm.cols={size.columns} testvm.rows={size.lines}")
        if deadline:
            append += f" testvm.timeout={max(60, int(deadline - time.monotonic() - BOOT_SECONDS))}"
        heartbeat = os.path.join(tmp, "heartbeat")
        monitor = os.path.join(tmp, "monitor.sock")
        qemu = qemu_command(kernel, initramfs, scratch, append + (" testvm.tty=1" if interactive else ""))
        qemu += ["-monitor", f"unix:{monitor},server=on,wait=off"]
        if interactive:
            print(f"{TOOL}: the nested machine's kernel log goes to {kernel_log}; Ctrl-A X leaves", flush=True)
            return subprocess.run(qemu + ["-serial", "mon:stdio", "-serial", f"file:{kernel_log}",
                                          "-serial", "null"]).returncode
        proc = subprocess.Popen(qemu + ["-serial", "stdio", "-serial", f"file:{kernel_log}",
                                        "-serial", f"file:{heartbeat}"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, preexec_fn=die_with_parent)
        watchdog = Watchdog(proc, heartbeat, monitor)
        status, guest_broke, overtime = relay(proc, nonce)
        watchdog.stop()
        log = open(kernel_log, "rb").read().replace(b"\r", b"")
        if overtime:
            print(f"{TOOL}: the nested machine's kernel log from its first report of a blocked task "
                  f"(hung-task warnings, SysRq-W):\n{blocked_reports(log)}")
            return status, None
        if watchdog.frozen:
            return 1, (f"the nested machine froze (no heartbeat for {FREEZE_SECONDS} s), the emulated AMD-V, "
                       f"not the test; its vCPUs were at\n"
                       f"{watchdog.frozen}its kernel's last words:\n{log[-3000:].decode(errors='replace')}")
        crashed = any(m in log for m in NESTED_CRASH)
        if crashed and status != 0:
            return status, f"the nested machine's kernel crashed under the test (the emulated AMD-V, not the " \
                f"test). Its log:\n" + \
                log[-6000:].decode(errors="replace")
        if status is None:
            # Under -no-reboot a reset of the machine (its own kernel triple-faulting) ends QEMU
            # quietly; it once did so in the kernel's PCI scan, before the command had started.
            return 1, (f"the nested machine stopped without reporting the command's status (QEMU's exit "
                       f"status {proc.returncode}), the emulator, not the test; its kernel's last words:\n"
                       f"{log[-3000:].decode(errors='replace')}")
        if guest_broke and status != 0:
            return status, (f"the test failed after {guest_broke}; in this machine that is most likely "
                            "its emulated AMD-V (docs/testing.md)")
        return status, None


def blocked_reports(log):
    """The kernel log from its first report of a blocked task on, at most its last 8000 bytes."""
    first = min((i for i in (log.find(m) for m in BLOCKED_TASK) if i >= 0), default=len(log))
    return log[first:][-8000:].decode(errors="replace")


class Watchdog:
    """Kills QEMU when the nested machine's heartbeat (a line every 5 s on its
    third serial port) stops, after asking the monitor where its vCPUs are."""

    def __init__(self, qemu, heartbeat, monitor):
        self.qemu, self.heartbeat, self.monitor = qemu, heartbeat, monitor
        self.frozen = None
        self.done = threading.Event()
        threading.Thread(target=self.watch, daemon=True).start()

    def beats(self):
        try:
            return os.path.getsize(self.heartbeat)
        except OSError:
            return 0

    def watch(self):
        last, since = self.beats(), time.monotonic()
        while not self.done.wait(5):
            now = self.beats()
            if now != last:
                last, since = now, time.monotonic()
            elif last and time.monotonic() - since > FREEZE_SECONDS:
                self.frozen = self.registers() or "(the monitor did not answer)\n"
                self.qemu.kill()
                return

    def registers(self):
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(5)
                s.connect(self.monitor)
                s.sendall(b"info registers -a\n")
                out = b""
                while out.count(b"(qemu)") < 2:
                    out += s.recv(65536)
        except OSError:
            return None
        return "".join(line + "\n" for line in out.decode(errors="replace").splitlines()
                       if line.startswith(("CPU#", "RIP=")))

    def stop(self):
        self.done.set()


def relay(qemu, nonce):
    """Passes the command's output on; the status it reports (or None), how a guest broke
    on the way (GUEST_BREAKS), if one did, and whether the command ran out of time."""
    marker = f"testvm-exit-{nonce} ".encode()
    status, guest_broke, overtime = None, None, False
    for line in qemu.stdout:
        line = line.replace(b"\r", b"")
        if line.startswith(marker):
            status = int(line[len(marker):])
            continue
        guest_broke = guest_broke or next((what for mark, what in GUEST_BREAKS.items() if mark in line), None)
        overtime = overtime or line.startswith(OVERTIME)
        sys.stdout.buffer.write(line)
        sys.stdout.buffer.flush()
    qemu.wait()
    return status, guest_broke, overtime


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["where", "exec", "run", "shell", "image"])
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if args.action == "where":
        machine, why = where()
        print(f"{machine} ({why})")
        return 0
    if args.action == "image":
        kernel, initramfs = image()
        print(f"kernel={kernel}\ninitramfs={initramfs}")
        return 0
    if args.action == "shell":
        return run_nested([os.environ.get("SHELL", "/bin/bash"), "-i"], interactive=True)
    if not cmd:
        ap.error("no command")
    if args.action == "run":
        return run_nested(cmd)
    machine, why = where()
    print(f"{TOOL}: test machine: {machine} ({why})", flush=True)
    if machine == "host":
        os.execvp(cmd[0], cmd)
    return run_nested(cmd)


if __name__ == "__main__":
    sys.exit(main())
