#!/usr/bin/env python3
"""Disk benchmark: Linux's own drivers on vmm's and QEMU's virtio-blk and NVMe.

Boots Debian's kernel (tools/linux-guest.py) with one disk on the same raw
image, once per device and hypervisor, alternating run by run. In the guest,
firmware/linux/disk_iops.c (build/disk-iops, static) reads random 4 KiB
blocks with O_DIRECT through io_uring at each queue depth. The host takes
KVM's own per-VM counters from debugfs around each job (the same counters
for vmm and QEMU) and reports, beside IOPS and latency, VM exits, exits to
user space (port I/O and MMIO) and injected interrupts per I/O. Both VMMs
use the host page cache (cache=writeback) so the figures are the devices'
cost, not the storage's. Needs hardware-assisted KVM: run it as
`tools/testvm.py exec -- tools/disk-bench.py ...`.

  disk-bench.py [--vmm build/vmm] [--models virtio,nvme] [--vs-qemu]
                [--depths 1,16] [--runs N] [--seconds S] [--json FILE|-]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

from bench_common import COUNTERS, kvm_dir, kvm_snapshot, median_range, progress, where

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGE_MIB = 256
RESULT = re.compile(r"disk-iops: \S+ qd (\d+) \w+: (\d+) ios in ([\d.]+) s, (\d+) iops, ([\d.]+) us")


def sh(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def guest_script(depths, seconds, iops):
    jobs = "\n".join(f"echo 'vmm-bench: begin {qd}'; sleep 1; {iops} $dev {qd} {seconds} read; "
                     f"echo 'vmm-bench: end {qd}'" for qd in depths)
    return f"""
dev=$(ls /dev/nvme0n1 /dev/vda 2>/dev/null | head -n 1)
echo "vmm-bench: ready on $dev"
{jobs}
echo "vmm-bench: done"
"""


def guest_files(work, args):
    paths = dict(line.split("=", 1) for line in sh(os.path.join(HERE, "linux-guest.py")).split())
    iops = os.path.realpath(args.iops)
    script = os.path.join(work, "bench.sh")
    with open(script, "w") as f:
        f.write(guest_script(args.depths, args.seconds, iops))
    initramfs = os.path.join(work, "initramfs")
    sh(os.path.join(HERE, "linux-guest.py"), "--script", script, "--output", initramfs, "--program", iops)
    return paths["bzImage"], initramfs


def make_image(path):
    # Data really written: a file system answers holes without reading anything.
    with open(path, "wb") as f:
        for _ in range(IMAGE_MIB):
            f.write(os.urandom(1 << 20))


def command(hv, model, args, kernel, initramfs, image, console):
    cmdline = "console=ttyS0 quiet"
    if hv == "vmm":
        return [args.vmm, "run", "--kernel", kernel, "--initrd", initramfs, "--vcpus", "2", "--memory", "512M",
                "--cmdline", cmdline, "--console", f"file={console}",
                "--disk", f"path={image},bus={model},cache=writeback,serial=bench", *args.vmm_arg]
    device = "nvme,serial=bench" if model == "nvme" else "virtio-blk-pci,disable-legacy=on"
    return ["qemu-system-x86_64", "-enable-kvm", "-M", "q35", "-cpu", "host", "-smp", "2", "-m", "512",
            "-nodefaults", "-display", "none", "-no-reboot", "-serial", f"file:{console}",
            "-kernel", kernel, "-initrd", initramfs, "-append", cmdline,
            "-drive", f"file={image},format=raw,if=none,id=d0,cache=writeback,aio=io_uring",
            "-device", f"{device},drive=d0"]


def console_text(console):
    return open(console, errors="replace").read() if os.path.exists(console) else ""


def wait_for(console, proc, marker, limit):
    end = time.monotonic() + limit
    while time.monotonic() < end and proc.poll() is None:
        if marker in console_text(console):
            return True
        time.sleep(0.02)
    return False


def one_run(hv, model, args, kernel, initramfs, image, work):
    console = os.path.join(work, f"console-{hv}-{model}")
    if os.path.exists(console):
        os.unlink(console)
    proc = subprocess.Popen(command(hv, model, args, kernel, initramfs, image, console),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    result = {"hypervisor": hv, "model": model, "depths": {}}
    try:
        if not wait_for(console, proc, "vmm-bench: ready", 300):
            raise RuntimeError(f"{hv} {model}: the guest did not come up; console:\n{console_text(console)[-3000:]}")
        kdir = kvm_dir(proc.pid)
        if not kdir:
            raise RuntimeError(f"{hv}: no KVM debugfs directory for pid {proc.pid}")
        for qd in args.depths:
            if not wait_for(console, proc, f"vmm-bench: begin {qd}", 60):
                raise RuntimeError(f"{hv} {model}: no job at qd {qd}; console:\n{console_text(console)[-3000:]}")
            before = kvm_snapshot(proc.pid, kdir)
            if not wait_for(console, proc, f"vmm-bench: end {qd}", args.seconds * 10 + 60):
                raise RuntimeError(f"{hv} {model} qd {qd} did not finish; console:\n{console_text(console)[-3000:]}")
            after = kvm_snapshot(proc.pid, kdir)
            found = [m for m in RESULT.finditer(console_text(console)) if int(m.group(1)) == qd]
            if not found:
                raise RuntimeError(f"{hv} {model} qd {qd}: no result; console:\n{console_text(console)[-3000:]}")
            ios, iops, lat = int(found[-1].group(2)), float(found[-1].group(4)), float(found[-1].group(5))
            d = {k: after[k] - before[k] for k in before}
            result["depths"][qd] = {"iops": iops, "latency_us": lat, "ios": ios,
                                    **{f"{k}_per_io": d[k] / max(ios, 1) for k in COUNTERS},
                                    "cpu_us_per_io": d["cpu_s"] * 1e6 / max(ios, 1)}
            progress(f"{hv:4} {model:6} qd {qd:<3} {iops:9.0f} IOPS {lat:8.1f} us "
                     f"{d['exits'] / max(ios, 1):6.2f} exits/IO")
        wait_for(console, proc, "vmm-bench: done", 30)
    finally:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return result


def median(runs, hv, model, qd, key):
    return median_range([r["depths"][qd][key] for r in runs if r["hypervisor"] == hv and r["model"] == model
                         and qd in r["depths"]])


def table(runs, args, configs):
    print(f"{'qd':>3} {'hypervisor':10} {'model':7} {'IOPS (median, range)':>26} {'lat us':>8} "
          f"{'exits':>7} {'user':>6} {'irqs':>6} {'cpu us':>7}  per I/O")
    for qd in args.depths:
        for hv, model in configs:
            m = median(runs, hv, model, qd, "iops")
            if not m:
                continue
            lat = median(runs, hv, model, qd, "latency_us")[0]
            e = median(runs, hv, model, qd, "exits_per_io")[0]
            user = median(runs, hv, model, qd, "io_exits_per_io")[0] + median(runs, hv, model, qd,
                                                                                "mmio_exits_per_io")[0]
            irq = median(runs, hv, model, qd, "irq_injections_per_io")[0]
            cpu = median(runs, hv, model, qd, "cpu_us_per_io")[0]
            print(f"{qd:>3} {hv:10} {model:7} {m[0]:9.0f} ({m[1]:.0f}-{m[2]:.0f}) {lat:8.1f} "
                  f"{e:7.3f} {user:6.3f} {irq:6.3f} {cpu:7.1f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vmm", default=os.path.join(HERE, "..", "build", "vmm"))
    ap.add_argument("--iops", default=os.path.join(HERE, "..", "build", "disk-iops"))
    ap.add_argument("--models", default="virtio,nvme")
    ap.add_argument("--vs-qemu", action="store_true")
    ap.add_argument("--depths", default="1,16")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--vmm-arg", action="append", default=[], help="an extra option for vmm run")
    ap.add_argument("--json", help="write every run's figures as JSON to this file, or - for stdout")
    args = ap.parse_args()
    args.depths = [int(d) for d in args.depths.split(",")]
    configs = [(hv, m) for m in args.models.split(",") for hv in (["vmm", "qemu"] if args.vs_qemu else ["vmm"])]
    runs = []
    with tempfile.TemporaryDirectory(prefix="disk-bench.") as work:
        kernel, initramfs = guest_files(work, args)
        image = os.path.join(work, "disk.img")
        make_image(image)
        for _ in range(args.runs):
            for hv, model in configs:
                runs.append(one_run(hv, model, args, kernel, initramfs, image, work))
    print(f"Disk benchmark on {where()}; {args.runs} run(s) of {args.seconds} s per queue depth, 4 KiB random "
          "reads, O_DIRECT in the guest, cache=writeback; per I/O: all VM exits, exits to user space, "
          "injected interrupts, VMM CPU")
    table(runs, args, configs)
    if args.json == "-":
        print(json.dumps({"where": where(), "runs": runs}))
    elif args.json:
        with open(args.json, "w") as f:
            json.dump({"where": where(), "runs": runs}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
