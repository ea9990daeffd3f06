"""What the benchmarks (nic-bench.py, disk-bench.py) share: KVM's own per-VM
counters in debugfs, the same for vmm and QEMU, and the VMM process's CPU
time, so that a figure per frame or per I/O means the same under both."""
import glob
import os
import statistics
import subprocess
import sys

COUNTERS = ["exits", "io_exits", "mmio_exits", "irq_injections", "halt_exits"]


def progress(line):
    print(line, file=sys.stderr, flush=True)


def kvm_dir(pid):
    """KVM's debugfs directory for the VM of process pid, or None."""
    if not os.path.ismount("/sys/kernel/debug"):
        subprocess.run(["mount", "-t", "debugfs", "none", "/sys/kernel/debug"], capture_output=True)
    dirs = glob.glob(f"/sys/kernel/debug/kvm/{pid}-*")
    return dirs[0] if dirs else None


def kvm_snapshot(pid, kdir):
    """KVM's counters and the process's CPU seconds (user + system)."""
    c = {k: int(open(os.path.join(kdir, k)).read()) for k in COUNTERS}
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    c["cpu_s"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return c


def where():
    return "nested test machine (QEMU TCG, emulated AMD-V)" if os.environ.get("VMM_TEST_MACHINE_INSIDE") \
        else "this host's hardware-assisted KVM"


def median_range(vals):
    return (statistics.median(vals), min(vals), max(vals)) if vals else None
