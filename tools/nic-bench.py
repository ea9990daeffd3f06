#!/usr/bin/env python3
"""NIC benchmark: Linux's own drivers on vmm's and QEMU's NICs, side by side.

Boots Debian's kernel (tools/linux-guest.py, with Debian's iperf3 added)
with one NIC on a tap in a network namespace of its own, once per device
model and hypervisor, alternating run by run, and drives it from the host:

  tcp-rx    TCP stream host -> guest (iperf3)
  tcp-tx    TCP stream guest -> host (iperf3 -R)
  udp-rx    64-byte frames host -> guest, as fast as iperf3 sends them
  udp-tx    64-byte frames guest -> host
  ping      request/response latency (ping -i 0.01)

For each it reports the rate and, from KVM's own per-VM counters in debugfs
(the same for vmm and QEMU), VM exits, exits to user space (port I/O and
MMIO) and injected interrupts per frame crossing the tap (for TCP streams,
per 1448-byte segment moved), and the VMM process's CPU time per frame. Needs hardware-assisted KVM: run it as
`tools/testvm.py exec -- tools/nic-bench.py ...`.

  nic-bench.py [--vmm build/vmm] [--models e1000,virtio] [--vs-qemu]
               [--runs N] [--seconds S] [--json FILE]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from bench_common import COUNTERS, kvm_dir, kvm_snapshot, median_range, progress, where

HERE = os.path.dirname(os.path.abspath(__file__))
NS, TAP = "vmmbench", "vmmbench0"
HOST_IP, GUEST_IP, MAC = "10.0.5.1", "10.0.5.15", "52:54:00:12:35:01"
MSS = 1448   # TCP payload of a 1514-byte frame with timestamps

GUEST_SCRIPT = f"""
export PATH=/usr/bin:$PATH
i=$(for n in /sys/class/net/*; do [ "$(cat $n/address)" = "{MAC}" ] && echo ${{n##*/}}; done)
ip addr add {GUEST_IP}/24 dev $i
ip link set $i up
iperf3 -s -D
echo "vmm-bench: ready on $i ($(basename $(readlink /sys/class/net/$i/device/driver)))"
nc -l -p 5999 >/dev/null
"""


def sh(*cmd, check=True, timeout=None):
    try:
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=timeout).stdout
    except subprocess.TimeoutExpired as e:
        progress(f"nic-bench: {' '.join(cmd[:6])}... did not finish in {timeout} s")
        return e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")


def in_ns(*cmd):
    return ["ip", "netns", "exec", NS, *cmd]


def setup_namespace():
    subprocess.run(["ip", "netns", "del", NS], capture_output=True)
    sh("ip", "netns", "add", NS)
    sh(*in_ns("ip", "link", "set", "lo", "up"))
    sh(*in_ns("ip", "tuntap", "add", "dev", TAP, "mode", "tap"))
    sh(*in_ns("ip", "addr", "add", f"{HOST_IP}/24", "dev", TAP))
    sh(*in_ns("ip", "link", "set", TAP, "up"))


def guest_files(work):
    paths = dict(line.split("=", 1) for line in sh(os.path.join(HERE, "linux-guest.py")).split())
    script = os.path.join(work, "bench.sh")
    with open(script, "w") as f:
        f.write(GUEST_SCRIPT)
    initramfs = os.path.join(work, "initramfs")
    sh(os.path.join(HERE, "linux-guest.py"), "--script", script, "--output", initramfs, "--program", "iperf3")
    return paths["bzImage"], initramfs


def command(hv, model, vmm, kernel, initramfs, console, extra=()):
    cmdline = "console=ttyS0 quiet"
    if hv == "vmm":
        return [vmm, "run", "--kernel", kernel, "--initrd", initramfs, "--vcpus", "2", "--memory", "512M",
                "--cmdline", cmdline, "--console", f"file={console}",
                "--network", f"tap={TAP},model={model},mac={MAC}", *extra]
    device = "e1000" if model == "e1000" else "virtio-net-pci,disable-legacy=on"
    return ["qemu-system-x86_64", "-enable-kvm", "-M", "q35", "-cpu", "host", "-smp", "2", "-m", "512",
            "-nodefaults", "-display", "none", "-no-reboot", "-serial", f"file:{console}",
            "-kernel", kernel, "-initrd", initramfs, "-append", cmdline,
            "-netdev", f"tap,id=t0,ifname={TAP},script=no,downscript=no,vhost=off",
            "-device", f"{device},netdev=t0,mac={MAC}"]


def snapshot(pid, kdir):
    c = kvm_snapshot(pid, kdir)
    for d in ("rx", "tx"):
        c[f"tap_{d}"] = int(sh(*in_ns("cat", f"/sys/class/net/{TAP}/statistics/{d}_packets")))
    c["t"] = time.monotonic()
    return c


def iperf(seconds, *args):
    out = sh(*in_ns("iperf3", "-c", GUEST_IP, "-t", str(seconds), "-J", "--connect-timeout", "5000", *args),
             check=False, timeout=seconds + 30)
    return json.loads(out) if out.strip().startswith("{") else {}


def workload(name, seconds):
    """Runs one workload; (rate, unit, extra figures)."""
    if name in ("tcp-rx", "tcp-tx"):
        j = iperf(seconds, *([] if name == "tcp-rx" else ["-R"]))
        s = j.get("end", {}).get("sum_received", {})
        return s.get("bits_per_second", 0) / 1e9, "Gbit/s", {"segments": s.get("bytes", 0) // MSS}
    if name in ("udp-rx", "udp-tx"):
        j = iperf(seconds, "-u", "-b", "0", "-l", "18", *([] if name == "udp-rx" else ["-R"]))
        s = j.get("end", {}).get("sum", {})
        got = s.get("packets", 0) - s.get("lost_packets", 0)
        return got / max(s.get("seconds", seconds), 1e-9) / 1e3, "k frames/s", {"lost_percent": s.get("lost_percent")}
    out = sh(*in_ns("ping", "-c", str(seconds * 100), "-i", "0.01", "-q", GUEST_IP), check=False,
             timeout=seconds * 10 + 30)
    rtt = [line for line in out.splitlines() if "min/avg/max" in line]
    avg = float(rtt[0].split("=")[1].split("/")[1]) if rtt else 0.0
    return avg, "ms rtt", {}


def wait_ready(console, proc, limit=300):
    end = time.monotonic() + limit
    while time.monotonic() < end and proc.poll() is None:
        if os.path.exists(console) and "vmm-bench: ready" in open(console, errors="replace").read():
            ok = subprocess.run(in_ns("ping", "-c", "1", "-W", "1", GUEST_IP), capture_output=True).returncode == 0
            if ok:
                return True
        time.sleep(0.5)
    return False


def one_run(hv, model, args, kernel, initramfs, work):
    console = os.path.join(work, f"console-{hv}-{model}")
    if os.path.exists(console):
        os.unlink(console)
    proc = subprocess.Popen(in_ns(*command(hv, model, args.vmm, kernel, initramfs, console, args.vmm_arg)),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    result = {"hypervisor": hv, "model": model, "workloads": {}}
    try:
        if not wait_ready(console, proc):
            raise RuntimeError(f"{hv} {model}: the guest did not come up; console:\n" +
                               (open(console, errors="replace").read()[-2000:] if os.path.exists(console) else ""))
        kdir = kvm_dir(proc.pid)
        if not kdir:
            raise RuntimeError(f"{hv}: no KVM debugfs directory for pid {proc.pid}")
        for w in args.workloads:
            if proc.poll() is not None:
                raise RuntimeError(f"{hv} {model} stopped (status {proc.returncode}): {proc.stderr.read()[-2000:]}")
            before = snapshot(proc.pid, kdir)
            rate, unit, extra = workload(w, args.seconds)
            if proc.poll() is not None:
                raise RuntimeError(f"{hv} {model} stopped during {w} (status {proc.returncode}): "
                                   f"{proc.stderr.read()[-2000:]}\nconsole:\n" +
                                   open(console, errors="replace").read()[-3000:])
            after = snapshot(proc.pid, kdir)
            d = {k: after[k] - before[k] for k in before}
            # A TCP stream counts in full-size segments: the tap sees one frame
            # per TSO/GSO burst where a device hands those on, one per segment elsewhere.
            frames = max(extra.get("segments") or d["tap_rx"] + d["tap_tx"], 1)
            result["workloads"][w] = {
                "rate": rate, "unit": unit, "frames": frames, **extra,
                **{f"{k}_per_frame": d[k] / frames for k in COUNTERS},
                "cpu_us_per_frame": d["cpu_s"] * 1e6 / frames, "seconds": d["t"]}
            progress(f"{hv:4} {model:6} {w:7} {rate:9.3f} {unit:11} {d['exits'] / frames:6.2f} exits/frame")
    finally:
        subprocess.run(in_ns("sh", "-c", f"echo stop | nc -w 2 {GUEST_IP} 5999"), capture_output=True)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return result


def median(runs, hv, model, w, key):
    return median_range([r["workloads"][w][key] for r in runs if r["hypervisor"] == hv and r["model"] == model
                         and w in r["workloads"]])


def table(runs, args, configs):
    print(f"{'workload':8} {'hypervisor':10} {'model':7} {'rate (median, range)':>32} "
          f"{'exits':>7} {'user':>6} {'irqs':>6} {'cpu us':>7}  per frame")
    for w in args.workloads:
        for hv, model in configs:
            m = median(runs, hv, model, w, "rate")
            if not m:
                continue
            unit = next(r["workloads"][w]["unit"] for r in runs if r["hypervisor"] == hv and w in r["workloads"])
            e = median(runs, hv, model, w, "exits_per_frame")[0]
            user = median(runs, hv, model, w, "io_exits_per_frame")[0] + \
                median(runs, hv, model, w, "mmio_exits_per_frame")[0]
            irq = median(runs, hv, model, w, "irq_injections_per_frame")[0]
            cpu = median(runs, hv, model, w, "cpu_us_per_frame")[0]
            print(f"{w:8} {hv:10} {model:7} {m[0]:10.3f} ({m[1]:.3f}-{m[2]:.3f}) {unit:11} "
                  f"{e:7.2f} {user:6.2f} {irq:6.2f} {cpu:7.1f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vmm", default=os.path.join(HERE, "..", "build", "vmm"))
    ap.add_argument("--models", default="e1000,virtio")
    ap.add_argument("--vs-qemu", action="store_true")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--workloads", default="tcp-rx,tcp-tx,udp-rx,udp-tx,ping")
    ap.add_argument("--vmm-arg", action="append", default=[], help="an extra option for vmm run")
    ap.add_argument("--json", help="write every run's figures as JSON to this file, or - for stdout")
    args = ap.parse_args()
    args.workloads = args.workloads.split(",")
    configs = [(hv, m) for m in args.models.split(",") for hv in (["vmm", "qemu"] if args.vs_qemu else ["vmm"])]
    setup_namespace()
    runs = []
    with tempfile.TemporaryDirectory(prefix="nic-bench.") as work:
        kernel, initramfs = guest_files(work)
        for _ in range(args.runs):
            for hv, model in configs:
                runs.append(one_run(hv, model, args, kernel, initramfs, work))
    subprocess.run(["ip", "netns", "del", NS], capture_output=True)
    print(f"NIC benchmark on {where()}; {args.runs} run(s) of {args.seconds} s per workload; "
          "per frame: all VM exits, exits to user space, injected interrupts, VMM CPU")
    table(runs, args, configs)
    if args.json == "-":
        print(json.dumps({"where": where(), "runs": runs}))
    elif args.json:
        with open(args.json, "w") as f:
            json.dump({"where": where(), "runs": runs}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
