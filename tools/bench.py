#!/usr/bin/env python3
"""vmm bench: paravirtual against emulated devices, and vmm against QEMU,
measured side by side with Debian's kernel and Linux's own drivers.

Each run boots the guest (tools/linux-guest.py: Debian's kernel, busybox,
iperf3, and build/disk-iops from firmware/linux) once per device, under
vmm and with --vs-qemu under qemu-system-x86_64 -enable-kvm with the
equivalent device, alternating, and runs:

  virtio-blk, nvme   4 KiB random reads at QD1, QD16 and QD32, 4 KiB random
                     writes at QD1 and QD32, 128 KiB sequential reads and
                     writes at QD4, O_DIRECT in the guest, on one image of
                     random bytes (cache=none where the image's file system
                     takes O_DIRECT, else writeback)
  virtio-net, e1000  TCP streams host -> guest and guest -> host (iperf3),
                     64-byte UDP host -> guest, and TCP request/response
                     latency (one byte each way), over a tap in a network
                     namespace
  boot               no devices: the guest's first instruction (KVM's first
                     exit), /init, power-off; the VMM's memory beyond guest
                     RAM (peak RSS minus the guest RAM mapping's). QEMU as
                     -M q35 and -M microvm.

For every figure: VM exits per operation by reason and injected interrupts
(KVM's per-VM counters in debugfs: the same for both VMMs), the VMM
process's CPU per operation, latency p50/p99. Medians over --runs with the
range. Where the host has no hardware-assisted KVM the runs happen in the
nested test machine (tools/testvm.py) and the output says so.

  bench.py [--devices virtio-blk,nvme,virtio-net,e1000,boot] [--vs-qemu]
           [--runs N] [--seconds S] [--quick] [--json FILE|-] [--plot FILE.png]
           [--markdown FILE.md] [--vmm build/vmm]
  bench.py --report FILE.json [--plot FILE.png] [--markdown FILE.md]
"""
import argparse
import glob
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REASONS = ["exits", "io_exits", "mmio_exits", "halt_exits", "irq_exits", "irq_window_exits", "insn_emulation",
           "signal_exits", "hypercalls", "irq_injections"]
DEVICES = ["virtio-blk", "nvme", "virtio-net", "e1000", "boot"]
STORAGE = [  # name, mode, block bytes, queue depth
    ("randread-4k-qd1", "randread", 4096, 1), ("randread-4k-qd16", "randread", 4096, 16),
    ("randread-4k-qd32", "randread", 4096, 32),
    ("randwrite-4k-qd1", "randwrite", 4096, 1), ("randwrite-4k-qd32", "randwrite", 4096, 32),
    ("read-128k", "read", 131072, 4), ("write-128k", "write", 131072, 4)]
STORAGE_NAMES = [w[0] for w in STORAGE]
NETWORK = ["tcp-rx", "tcp-tx", "udp-rx", "tcp-rr"]
NS, TAP = "vmmbench", "vmmbench0"
HOST_IP, GUEST_IP, MAC = "10.0.5.1", "10.0.5.15", "52:54:00:12:35:01"
MSS = 1448           # TCP payload of a 1514-byte frame with timestamps
IMAGE_MIB = 256
MEMORY_MIB = 512
IOPS_LINE = re.compile(r"disk-iops: \S+ qd (\d+) (\w+) (\d+): (\d+) ios in ([\d.]+) s, (\d+) iops, ([\d.]+) us mean "
                       r"latency, ([\d.]+) us p50, ([\d.]+) us p99")

GUEST_PREAMBLE = """
export PATH=/usr/bin:$PATH
"""
NET_SCRIPT = f"""
i=$(for n in /sys/class/net/*; do [ "$(cat $n/address)" = "{MAC}" ] && echo ${{n##*/}}; done)
ip addr add {GUEST_IP}/24 dev $i
ip link set $i up
iperf3 -s -D
nc -ll -p 5001 -e cat &
echo "vmm-bench: ready"
nc -l -p 5999 >/dev/null
"""
BOOT_SCRIPT = """
echo "vmm-bench: booted"
"""


def progress(line):
    print(line, file=sys.stderr, flush=True)


def sh(*cmd, check=True, timeout=None):
    """A command's output. Its stdin is /dev/null: inside the nested machine this script's
    stdin is a console that never ends, and a program reading it (gnuplot) would wait forever."""
    try:
        return subprocess.run(cmd, check=check, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout).stdout
    except subprocess.TimeoutExpired as e:
        progress(f"bench: {' '.join(cmd[:6])}... did not finish in {timeout} s")
        return e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")


def status(*cmd):
    """A command's exit status, its output dropped."""
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True).returncode


def in_ns(*cmd):
    return ["ip", "netns", "exec", NS, *cmd]


# ---- The guests ----

def storage_script(jobs, seconds, iops):
    lines = ["dev=$(ls /dev/nvme0n1 /dev/vda 2>/dev/null | head -n 1)", 'echo "vmm-bench: ready"']
    for name, mode, bs, qd in jobs:
        lines.append(f"echo 'vmm-bench: begin {name}'; sleep 1; {iops} $dev {qd} {seconds} {mode} {bs}; "
                     f"echo 'vmm-bench: end {name}'")
    return "\n".join(lines) + "\n"


def initramfs(work, kind, args):
    """An initramfs whose script runs the benchmark of kind (storage, network or boot)."""
    script = os.path.join(work, f"{kind}.sh")
    iops = os.path.realpath(args.iops)
    body = {"storage": lambda: storage_script(args.storage, args.seconds, iops),
            "network": lambda: NET_SCRIPT, "boot": lambda: BOOT_SCRIPT}[kind]()
    with open(script, "w") as f:
        f.write(GUEST_PREAMBLE + body)
    out = os.path.join(work, f"{kind}.cpio.gz")
    programs = {"storage": ["--program", iops], "network": ["--program", "iperf3"], "boot": []}[kind]
    sh(os.path.join(HERE, "linux-guest.py"), "--script", script, "--output", out, *programs)
    return out


def make_image(path):
    # Data really written: a file system answers holes without reading anything. And on the
    # disk before the first run: left to writeback, 256 MiB of dirty pages go out (and
    # O_DIRECT reads of them wait for it) under whichever VMM runs first.
    with open(path, "wb") as f:
        for _ in range(IMAGE_MIB):
            f.write(os.urandom(1 << 20))
        f.flush()
        os.fsync(f.fileno())
        # And out of the page cache: an O_DIRECT write must drop the cached pages it covers,
        # which only the first VMM to write a range would pay for.
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def takes_o_direct(path):
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_DIRECT))
        return True
    except OSError:
        return False


# ---- Command lines: the same guest under both VMMs ----

def vmm_command(args, kernel, initrd, console, device, image, cache):
    cmd = [args.vmm, "run", "--kernel", kernel, "--initrd", initrd, "--vcpus", "2", "--memory", f"{MEMORY_MIB}M",
           "--cmdline", "console=ttyS0 quiet", "--console", f"file={console}", *args.vmm_arg]
    if device in ("virtio-blk", "nvme"):
        bus = "nvme" if device == "nvme" else "virtio"
        cmd += ["--disk", f"path={image},bus={bus},cache={cache},serial=bench"]
    elif device in ("virtio-net", "e1000"):
        model = "e1000" if device == "e1000" else "virtio"
        # --stats: the device's frame counters on stderr at exit, for a run that fails.
        cmd += ["--network", f"tap={TAP},model={model},mac={MAC}", "--stats"]
    return cmd


def qemu_command(kernel, initrd, console, device, image, cache, machine="q35"):
    cmd = ["qemu-system-x86_64", "-enable-kvm", "-M", machine, "-cpu", "host", "-smp", "2", "-m", str(MEMORY_MIB),
           "-nodefaults", "-display", "none", "-no-reboot", "-serial", f"file:{console}",
           "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0 quiet"]
    if device in ("virtio-blk", "nvme"):
        dev = "nvme,serial=bench" if device == "nvme" else "virtio-blk-pci,disable-legacy=on"
        cmd += ["-drive", f"file={image},format=raw,if=none,id=d0,cache={cache},aio=io_uring",
                "-device", f"{dev},drive=d0"]
    elif device in ("virtio-net", "e1000"):
        dev = "e1000" if device == "e1000" else "virtio-net-pci,disable-legacy=on"
        cmd += ["-netdev", f"tap,id=t0,ifname={TAP},script=no,downscript=no,vhost=off",
                "-device", f"{dev},netdev=t0,mac={MAC}"]
    return cmd


# ---- What KVM and /proc say about a VMM ----

def kvm_dir(pid, wait=0.0):
    if not os.path.ismount("/sys/kernel/debug"):
        status("mount", "-t", "debugfs", "none", "/sys/kernel/debug")
    end = time.monotonic() + wait
    while True:
        dirs = glob.glob(f"/sys/kernel/debug/kvm/{pid}-*")
        if dirs or time.monotonic() >= end:
            return dirs[0] if dirs else None
        time.sleep(0.001)


def snapshot(pid, kdir):
    c = {}
    for k in REASONS:
        p = os.path.join(kdir, k)
        if os.path.exists(p):
            c[k] = int(open(p).read())
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    c["cpu_s"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    c["t"] = time.monotonic()
    return c


def per_op(before, after, ops):
    ops = max(ops, 1)
    d = {k: after[k] - before[k] for k in before if k in after}
    return {"exits_per_op": {k: d[k] / ops for k in REASONS if k in d and k != "irq_injections"},
            "interrupts_per_op": d.get("irq_injections", 0) / ops,
            "cpu_us_per_op": d["cpu_s"] * 1e6 / ops}


def memory(pid):
    """(peak RSS, RSS now, what the guest RAM mapping holds now), in KiB (/proc/PID/status, smaps)."""
    guest, size = 0, None
    for line in open(f"/proc/{pid}/smaps"):
        if line.startswith("Size:"):
            size = int(line.split()[1])
        elif line.startswith("Rss:") and size is not None and size >= MEMORY_MIB * 1024:
            guest += int(line.split()[1])
            size = None
    vm = {line.split(":")[0]: line.split()[1] for line in open(f"/proc/{pid}/status") if line.startswith("Vm")}
    if int(vm["VmRSS"]) < guest:
        # Read after smaps: the VMM let its guest RAM go in between, as it does when it exits.
        raise ValueError("the VMM's memory shrank while it was read")
    return int(vm["VmHWM"]), int(vm["VmRSS"]), guest


# ---- One boot ----

def console_text(console):
    return open(console, errors="replace").read() if os.path.exists(console) else ""


def wait_for(console, proc, marker, limit):
    end = time.monotonic() + limit
    while time.monotonic() < end and proc.poll() is None:
        if marker in console_text(console):
            return True
        time.sleep(0.02)
    return False


class Guest:
    def __init__(self, cmd, console):
        self.console = console
        if os.path.exists(console):
            os.unlink(console)
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.kdir = kvm_dir(self.proc.pid, wait=30)

    def first_instruction(self):
        """Seconds from start to KVM's first exit: the guest ran its first instructions."""
        while self.proc.poll() is None and self.kdir:
            if int(open(os.path.join(self.kdir, "exits")).read()) > 0:
                return time.monotonic() - self.started
            time.sleep(0.0005)
        return None

    def expect(self, marker, limit):
        if not wait_for(self.console, self.proc, marker, limit):
            raise RuntimeError(f"no '{marker}' within {limit} s (status {self.proc.poll()}); console:\n"
                               f"{console_text(self.console)[-3000:]}\nstderr:\n{self.stderr()}")
        return time.monotonic() - self.started

    def stderr(self, tail=2000):
        if self.proc.poll() is None:
            return ""
        return self.proc.stderr.read()[-tail:]

    def finish(self, limit=60):
        try:
            self.proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            try:
                # A process stuck in the kernel (the nested machine's QEMU once was) may outlive
                # SIGKILL for a while: the run goes on without it rather than wait for ever.
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                progress(f"bench: pid {self.proc.pid} did not end 30 s after SIGKILL; going on")
        return time.monotonic() - self.started


def storage_run(g, args):
    out = {}
    g.expect("vmm-bench: ready", 300)
    for name, _, bs, qd in args.storage:
        g.expect(f"vmm-bench: begin {name}", 120)
        before = snapshot(g.proc.pid, g.kdir)
        g.expect(f"vmm-bench: end {name}", args.seconds * 10 + 120)
        after = snapshot(g.proc.pid, g.kdir)
        found = [m for m in IOPS_LINE.finditer(console_text(g.console)) if int(m.group(3)) == bs and
                 int(m.group(1)) == qd and m.group(2) == dict((s[0], s[1]) for s in args.storage)[name]]
        if not found:
            raise RuntimeError(f"{name}: no result; console:\n{console_text(g.console)[-3000:]}")
        m = found[-1]
        ios = int(m.group(4))
        out[name] = {"rate": float(m.group(6)), "unit": "IOPS", "ops": ios,
                     "mib_per_s": float(m.group(6)) * bs / (1 << 20), "latency_us": float(m.group(7)),
                     "p50_us": float(m.group(8)), "p99_us": float(m.group(9)), **per_op(before, after, ios)}
        progress(f"  {name:17} {out[name]['rate']:9.0f} IOPS {out[name]['exits_per_op']['exits']:6.2f} exits/op")
    return out


def tap_counter(name):
    """One of the tap's statistics (rx_packets, tx_dropped, ...), from inside the namespace."""
    return int(sh(*in_ns("cat", f"/sys/class/net/{TAP}/statistics/{name}")))


def tap_frames():
    return sum(tap_counter(f"{d}_packets") for d in ("rx", "tx"))


def tcp_rr(seconds):
    """One-byte request/response over TCP to the guest's echo server: (round trips, latencies in us)."""
    lat = []
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(5)
    s.connect((GUEST_IP, 5001))
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.monotonic()
        s.sendall(b"x")
        if s.recv(1) != b"x":
            break
        lat.append((time.monotonic() - t) * 1e6)
    s.close()
    return lat


def in_namespace_rr(seconds):
    """tcp_rr() run inside the namespace (the tap's address is only reachable there)."""
    code = (f"import json,sys; sys.path.insert(0, {HERE!r}); import importlib.util as u; "
            f"s = u.spec_from_file_location('b', {os.path.join(HERE, 'bench.py')!r}); m = u.module_from_spec(s); "
            f"s.loader.exec_module(m); print(json.dumps(m.tcp_rr({seconds})))")
    out = sh(*in_ns(sys.executable, "-c", code), check=False, timeout=seconds + 30)
    return json.loads(out) if out.strip().startswith("[") else []


def iperf(seconds, *extra):
    """iperf3's JSON report; a server still closing the previous test says it is busy, so try again."""
    error = "no output"
    for _ in range(3):
        out = sh(*in_ns("iperf3", "-c", GUEST_IP, "-t", str(seconds), "-J", "--connect-timeout", "5000", *extra),
                 check=False, timeout=seconds + 30)
        report = json.loads(out) if out.strip().startswith("{") else {}
        if "end" in report and not report.get("error"):
            return report
        error = report.get("error", error)
        time.sleep(1)
    raise RuntimeError(f"iperf3 {' '.join(extra)}: {error}")


def network_workload(name, seconds):
    """(rate, unit, operations, extra figures)."""
    if name in ("tcp-rx", "tcp-tx"):
        s = iperf(seconds, *([] if name == "tcp-rx" else ["-R"])).get("end", {}).get("sum_received", {})
        return s.get("bits_per_second", 0) / 1e9, "Gbit/s", s.get("bytes", 0) // MSS, {}
    if name == "udp-rx":
        s = iperf(seconds, "-u", "-b", "0", "-l", "18").get("end", {}).get("sum", {})
        got = s.get("packets", 0) - s.get("lost_packets", 0)
        return got / max(s.get("seconds", seconds), 1e-9) / 1e3, "k packets/s", got, {"lost_percent": s.get("lost_percent")}
    lat = sorted(in_namespace_rr(seconds))
    if not lat:
        raise RuntimeError("tcp-rr: no round trip with the guest's echo server")
    return statistics.mean(lat), "us", len(lat), {"p50_us": lat[len(lat) // 2], "p99_us": lat[int(len(lat) * 0.99)]}


def network_run(g, args):
    out = {}
    g.expect("vmm-bench: ready", 300)
    end = time.monotonic() + 30
    while status(*in_ns("ping", "-c", "1", "-W", "1", GUEST_IP)):
        if time.monotonic() > end or g.proc.poll() is not None:
            raise RuntimeError("the guest's NIC does not answer ping")
    try:
        for w in args.network:
            before, frames0 = snapshot(g.proc.pid, g.kdir), tap_frames()
            rate, unit, ops, extra = network_workload(w, args.seconds)
            after, frames = snapshot(g.proc.pid, g.kdir), tap_frames() - frames0
            ops = ops or frames
            out[w] = {"rate": rate, "unit": unit, "ops": ops, "tap_frames": frames, **extra, **per_op(before, after, ops)}
            progress(f"  {w:17} {rate:9.3f} {unit:11} {out[w]['exits_per_op']['exits']:6.2f} exits/op")
    finally:
        # The guest's script waits for this to end; it then powers off.
        status(*in_ns(sys.executable, "-c", f"import socket; socket.create_connection(({GUEST_IP!r}, 5999), 5)"
                                            ".sendall(b'stop')"))
    return out


def boot_run(g):
    first = g.first_instruction()
    init = g.expect("vmm-init: /init is running", 300)
    beyond = now = None
    # The guest powers off by itself: memory is sampled until then. The guest's pages only
    # grow while it runs, so the last sample counts: peak RSS minus the guest pages touched
    # (which includes the kernel and initrd files while they are read in), and the RSS then
    # minus the same. A VMM unmapping guest RAM as it exits shrinks the guest's share; the
    # samples from then on say nothing of the guest and are dropped.
    guest_max = 0
    while g.proc.poll() is None:
        try:
            hwm, rss, guest = memory(g.proc.pid)
        except (OSError, StopIteration, KeyError, ValueError):   # the process ended between the reads
            break
        if guest < guest_max:
            break
        guest_max, beyond, now = guest, hwm - guest, rss - guest
        time.sleep(0.02)
    if beyond is None:
        raise RuntimeError("the VMM ended before its memory could be read")
    return {"boot": {"first_instruction_ms": first * 1e3 if first else None, "init_ms": init * 1e3,
                     "poweroff_ms": g.finish() * 1e3, "vmm_memory_kib": beyond, "vmm_memory_now_kib": now}}


def one_run(hv, device, args, files, work, machine="q35"):
    """A run, and a second one if the first failed (the nested machine's emulated AMD-V now and then
    triple-faults a guest); the first failure stays in the run as retried_after."""
    run = one_attempt(hv, device, args, files, work, machine)
    if run.get("error"):
        progress(f"bench: trying {run['hypervisor']} {device} once more")
        first = run["error"]
        run = one_attempt(hv, device, args, files, work, machine)
        run["retried_after"] = first
    return run


def error_text(e, tail):
    """The error's first line (what failed), then the last tail characters of the console after it."""
    what, _, console = str(e).partition("\n")
    return what + ("\n" + console[-tail:] if console else "")


def one_attempt(hv, device, args, files, work, machine):
    kernel, initrds, image, cache = files
    console = os.path.join(work, f"console-{hv}-{device}")
    kind = "storage" if device in ("virtio-blk", "nvme") else "network" if device in ("virtio-net", "e1000") else "boot"
    if hv == "vmm":
        cmd = vmm_command(args, kernel, initrds[kind], console, device, image, cache)
    else:
        cmd = qemu_command(kernel, initrds[kind], console, device, image, cache, machine)
    cmd = in_ns(*cmd) if kind == "network" else cmd
    name = hv if hv == "vmm" or kind != "boot" else f"qemu-{machine}"
    progress(f"{name} {device}")
    g = Guest(cmd, console)
    run = {"hypervisor": name, "device": device, "cache": cache if kind == "storage" else None, "workloads": {}}
    try:
        if kind == "boot":
            run["workloads"] = boot_run(g)
        else:
            run["workloads"] = storage_run(g, args) if kind == "storage" else network_run(g, args)
    except (RuntimeError, OSError, ValueError) as e:
        # The other runs go on; the run says what went wrong, and bench ends with status 1.
        run["error"] = error_text(e, 4000)
        progress(f"bench: {name} {device}: {error_text(e, 1500)}")
        if kind == "network":
            run["error"] += "\n" + network_state(g)
    finally:
        g.finish()
    if kind == "network" and run.get("error") and hv == "vmm":
        # Where the vCPUs stopped and what the NIC counted (--stats): a guest that no longer
        # answers may be stuck in a vCPU, not in the device.
        stats = g.stderr(6000).partition("exits by vCPU")
        run["error"] += (f"\nvmm's exit status {g.proc.returncode}; its --stats: "
                         f"{stats[1] + stats[2] if stats[1] else '(none printed)'}")
    return run


def network_state(g):
    """What the host sees of a network run that failed, while the guest still runs: the tap's
    counters, the host's neighbour entry for the guest, a ping, the console's last warnings."""
    try:
        counters = " ".join(f"{d}_{c} {tap_counter(f'{d}_{c}')}" for d in ("rx", "tx") for c in ("packets", "dropped", "errors"))
        neighbour = sh(*in_ns("ip", "neigh", "show", "dev", TAP), check=False, timeout=10).strip()
        ping = "answers" if status(*in_ns("ping", "-c", "2", "-W", "1", GUEST_IP)) == 0 else "does not answer"
    except (OSError, subprocess.SubprocessError, RuntimeError, ValueError) as e:
        return f"network state: could not be read ({e})"
    console = console_text(g.console)[-1500:].strip()
    return (f"network state: tap {counters}; neighbour {neighbour or '(none)'}; the guest {ping} ping now; "
            f"console:\n{console or '(nothing)'}")


# ---- Reports ----

def medians(runs, hv, device, workload, key):
    vals = [r["workloads"][workload][key] for r in runs if r["hypervisor"] == hv and r["device"] == device
            and workload in r["workloads"] and r["workloads"][workload].get(key) is not None]
    return (statistics.median(vals), min(vals), max(vals)) if vals else None


def exits_median(runs, hv, device, workload, reason="exits"):
    vals = [r["workloads"][workload]["exits_per_op"].get(reason, 0) for r in runs
            if r["hypervisor"] == hv and r["device"] == device and workload in r["workloads"]]
    return statistics.median(vals) if vals else None


def passes(runs):
    """Each run with its pass, the k-th run of its VMM and device: the runs of one pass ran side by
    side (in one boot of the nested machine, or in one turn of the alternation)."""
    seen, out = {}, []
    for r in runs:
        k = (r["hypervisor"], r["device"])
        out.append((seen.get(k, 0), r))
        seen[k] = seen.get(k, 0) + 1
    return out


def paired_ratio(runs, device, workload, key, other, higher_is_better=True):
    """vmm against other pass by pass: the median and range of the passes' ratios. The nested
    machine's speed drifts from boot to boot by more than the VMMs differ, and a pass shares it."""
    by_pass = {}
    for n, r in passes(runs):
        if r["device"] == device and r["workloads"].get(workload, {}).get(key):
            by_pass.setdefault(n, {})[r["hypervisor"]] = r["workloads"][workload][key]
    xs = [p["vmm"] / p[other] if higher_is_better else p[other] / p["vmm"]
          for p in by_pass.values() if "vmm" in p and other in p]
    return (statistics.median(xs), min(xs), max(xs)) if xs else None


def summarize(runs):
    rows = []
    for key in sorted({(r["hypervisor"], r["device"], w) for r in runs for w in r["workloads"]},
                      key=lambda k: (DEVICES.index(k[1]), k[2], k[0])):
        hv, device, w = key
        if device == "boot":
            row = {k: medians(runs, hv, device, w, k) for k in
                   ("first_instruction_ms", "init_ms", "poweroff_ms", "vmm_memory_kib", "vmm_memory_now_kib")}
            if hv == "vmm":
                row["init_vs"] = {m: paired_ratio(runs, device, w, "init_ms", f"qemu-{m}", False)
                                  for m in ("q35", "microvm")}
        else:
            unit = next(r["workloads"][w]["unit"] for r in runs if r["device"] == device and w in r["workloads"])
            row = {"rate": medians(runs, hv, device, w, "rate"), "unit": unit,
                   "p50_us": medians(runs, hv, device, w, "p50_us"), "p99_us": medians(runs, hv, device, w, "p99_us"),
                   "exits": exits_median(runs, hv, device, w),
                   "user_exits": (exits_median(runs, hv, device, w, "io_exits") or 0) +
                   (exits_median(runs, hv, device, w, "mmio_exits") or 0),
                   "interrupts": medians(runs, hv, device, w, "interrupts_per_op"),
                   "cpu_us": medians(runs, hv, device, w, "cpu_us_per_op"),
                   "vs_qemu": paired_ratio(runs, device, w, "rate", "qemu", unit != "us") if hv == "vmm" else None}
        rows.append({"hypervisor": hv, "device": device, "workload": w, **row})
    return rows


RATE_FORMAT = {"IOPS": ".0f", "Gbit/s": ".3f", "k packets/s": ".1f", "us": ".0f"}


def fmt(m, spec=".0f"):
    return "-" if not m else f"{m[0]:{spec}}" if m[1] == m[2] else f"{m[0]:{spec}} ({m[1]:{spec}}-{m[2]:{spec}})"


def print_table(rows):
    print(f"{'device':10} {'workload':17} {'hypervisor':11} {'rate (median, range)':>28} {'unit':11} "
          f"{'p50 us':>8} {'p99 us':>8} {'exits':>7} {'user':>6} {'irqs':>6} {'cpu us':>7}  per op")
    for r in rows:
        if r["device"] == "boot":
            continue
        p50, p99 = r["p50_us"], r["p99_us"]
        print(f"{r['device']:10} {r['workload']:17} {r['hypervisor']:11} {fmt(r['rate'], RATE_FORMAT.get(r['unit'], '.3g')):>28} {r['unit']:11} "
              f"{(f'{p50[0]:.0f}' if p50 else '-'):>8} {(f'{p99[0]:.0f}' if p99 else '-'):>8} "
              f"{r['exits']:7.3f} {r['user_exits']:6.3f} {r['interrupts'][0]:6.3f} {r['cpu_us'][0]:7.1f}")
    boots = [r for r in rows if r["device"] == "boot"]
    if boots:
        print(f"\n{'boot':10} {'hypervisor':12} {'first instruction ms':>22} {'/init ms':>18} {'power-off ms':>18} "
              f"{'KiB beyond guest RAM: peak':>28} {'at power-off':>14}")
        for r in boots:
            print(f"{'':10} {r['hypervisor']:12} {fmt(r['first_instruction_ms']):>22} {fmt(r['init_ms']):>18} "
                  f"{fmt(r['poweroff_ms']):>18} {fmt(r['vmm_memory_kib']):>28} {fmt(r['vmm_memory_now_kib']):>14}")


def plot(rows, path):
    """One bar chart per workload: devices side by side, vmm against QEMU (gnuplot)."""
    if not shutil.which("gnuplot"):
        progress("bench: --plot needs gnuplot (apt-get install gnuplot-nox); no chart written")
        return False
    work = tempfile.mkdtemp(prefix="bench-plot.")
    charts = []
    for w in sorted({r["workload"] for r in rows if r["device"] != "boot"}):
        devices = [d for d in DEVICES if any(r["device"] == d and r["workload"] == w for r in rows)]
        hvs = sorted({r["hypervisor"] for r in rows if r["workload"] == w})
        data = os.path.join(work, f"{w}.dat")
        with open(data, "w") as f:
            f.write("device " + " ".join(hvs) + "\n")
            for d in devices:
                vals = [next((r["rate"][0] for r in rows if r["device"] == d and r["workload"] == w and
                              r["hypervisor"] == hv and r["rate"]), 0) for hv in hvs]
                f.write(d + " " + " ".join(f"{v:.6g}" for v in vals) + "\n")
        unit = next(r["unit"] for r in rows if r["workload"] == w)
        charts.append((w, unit, data, len(hvs)))
    boots = [r for r in rows if r["device"] == "boot"]
    if boots:
        data = os.path.join(work, "boot.dat")
        with open(data, "w") as f:
            f.write("hypervisor first /init power-off\n")
            for r in boots:
                f.write(r["hypervisor"] + " " + " ".join(f"{(r[k] or (0,))[0]:.1f}" for k in
                                                         ("first_instruction_ms", "init_ms", "poweroff_ms")) + "\n")
        charts.append(("boot", "ms", data, 3))
    cols = 2
    lines = [f"set terminal pngcairo size 1200,{360 * ((len(charts) + cols - 1) // cols)} font ',9'"
             if status("gnuplot", "-e", "set terminal pngcairo") == 0 else
             f"set terminal png size 1200,{360 * ((len(charts) + cols - 1) // cols)}",
             f"set output '{path}'", f"set multiplot layout {(len(charts) + cols - 1) // cols},{cols}",
             "set style data histograms", "set style histogram cluster gap 1", "set style fill solid 0.8 border -1",
             "set key top left", "set yrange [0:*]", "set grid ytics"]
    for w, unit, data, n in charts:
        lines.append(f"set title '{w}'; set ylabel '{unit}'")
        lines.append("plot " + ", ".join(f"'{data}' using {i + 2}:xtic(1) title columnheader({i + 2})"
                                         for i in range(n)))
    lines.append("unset multiplot")
    script = os.path.join(work, "plot.gp")
    with open(script, "w") as f:
        f.write("\n".join(lines) + "\n")
    r = subprocess.run(["gnuplot", script], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if r.returncode:
        progress(f"bench: gnuplot failed: {r.stderr.strip()[-500:]}")
    return r.returncode == 0


def fmt_ratio(m):
    return "" if not m else f"{m[0]:.2f}x" if m[1] == m[2] else f"{m[0]:.2f}x ({m[1]:.2f}-{m[2]:.2f})"


def rate_of(rows, hv, device, workload):
    r = next((r for r in rows if (r["hypervisor"], r["device"], r["workload"]) == (hv, device, workload)), None)
    return r


def runs_made(result):
    """Runs per device and VMM that the JSON holds (rounds lost to the nested machine are not)."""
    counts = {}
    for r in result["runs"]:
        counts[(r["hypervisor"], r["device"])] = counts.get((r["hypervisor"], r["device"]), 0) + 1
    return max(counts.values(), default=0)


def markdown(result, rows):
    """docs/benchmarks.md's figures: a table per device, vmm beside QEMU, the boot table and the goals."""
    out = [f"Measured {result.get('date', '?')} on the {result['where']}: {result.get('machine', '?')}. "
           f"{runs_made(result)} run(s) of {result['seconds']} s per workload and VMM, alternating; "
           f"medians, the range in brackets; vmm / QEMU is the median of the passes' ratios (a pass: the two "
           "VMMs side by side, in one boot of the nested machine when it is one), their range in brackets; "
           f"disks cache={result['cache']}. Per operation: VM exits "
           "(all KVM counted; those that reached the VMM), injected interrupts, the VMM process's CPU.", ""]
    retried = [r for r in result["runs"] if r.get("retried_after")]
    failed = [r for r in result["runs"] if r.get("error")]
    for label, runs, key in (("Runs tried a second time", retried, "retried_after"), ("Runs that failed", failed, "error")):
        if runs:
            out += [f"{label}: " + "; ".join(f"{r['hypervisor']} {r['device']} (round {r.get('round', 1)}: "
                                            f"{first_line(r[key])})" for r in runs) + ".", ""]
    if result.get("failed_rounds"):
        lost = ", ".join(map(str, result["failed_rounds"]))
        made_up = result.get("runs_per_config", 0) >= result.get("rounds_asked", 0)
        out += [f"Rounds lost to the nested machine: {lost}" + (" (spare rounds took their place)." if made_up
                                                                else "."), ""]
    for device in DEVICES[:4]:
        workloads = [w for w in (STORAGE_NAMES if device in ("virtio-blk", "nvme") else NETWORK)
                     if any(r["device"] == device and r["workload"] == w for r in rows)]
        if not workloads:
            continue
        out += [f"#### {device}", "", "| workload | VMM | rate | vmm / QEMU | p50 / p99 us | exits | to VMM | "
                "interrupts | CPU us |", "|---|---|---|---|---|---|---|---|---|"]
        for w in workloads:
            for hv in ("vmm", "qemu"):
                r = rate_of(rows, hv, device, w)
                if not r or not r["rate"]:
                    continue
                shown = fmt_ratio(r["vs_qemu"]) if hv == "vmm" else ""
                lat = f"{r['p50_us'][0]:.0f} / {r['p99_us'][0]:.0f}" if r["p50_us"] and r["p99_us"] else "-"
                out.append(f"| {w} | {hv} | {fmt(r['rate'], RATE_FORMAT.get(r['unit'], '.3g'))} {r['unit']} | {shown} | {lat} | "
                           f"{r['exits']:.3f} | {r['user_exits']:.3f} | {r['interrupts'][0]:.3f} | {r['cpu_us'][0]:.0f} |")
        out.append("")
    boots = [r for r in rows if r["device"] == "boot"]
    if boots:
        out += ["#### boot", "", "| VMM | first instruction ms | /init ms | power-off ms | "
                "KiB beyond guest RAM, peak | at power-off |", "|---|---|---|---|---|---|"]
        for r in boots:
            out.append(f"| {r['hypervisor']} | {fmt(r['first_instruction_ms'])} | {fmt(r['init_ms'])} | "
                       f"{fmt(r['poweroff_ms'])} | {fmt(r['vmm_memory_kib'])} | {fmt(r['vmm_memory_now_kib'])} |")
        out.append("")
    out += ["#### Goals", "", "| goal | measured | met |", "|---|---|---|"]
    out += [f"| {g} | {m} | {'yes' if ok else 'no'} |" for g, m, ok in goals(rows)]
    return "\n".join(out) + "\n"


def first_line(error):
    """What went wrong, without the console that follows it."""
    lines = error.strip().splitlines()
    crash = next((line for line in lines if line.startswith("vmm: ")), None)
    return (lines[0] if lines else "?")[:160] + (f"; {crash}" if crash else "")


def goals(rows):
    """(goal, what this run measured, met) for the goals of docs/benchmarks.md."""
    found = []
    slower = []
    for r in rows:
        if r["device"] == "boot" or not r.get("vs_qemu"):
            continue
        x = r["vs_qemu"][0]
        slower += [(x, f"{r['device']} {r['workload']}")] if x < 1 else []
        found.append(x)
    if found:
        worst = min(slower) if slower else None
        found_text = f"{len(found) - len(slower)} of {len(found)} at or above 1.0x" + \
            (f"; below: {', '.join(f'{n} {x:.2f}x' for x, n in sorted(slower))}" if slower else "")
        found = [("vmm ≥ 1.0x QEMU on every device workload", found_text, worst is None)]
    vmm_boot = rate_of(rows, "vmm", "boot", "boot")
    for machine in ("q35", "microvm"):
        q = rate_of(rows, f"qemu-{machine}", "boot", "boot")
        if vmm_boot and vmm_boot["init_vs"][machine]:
            x = vmm_boot["init_vs"][machine][0]
            found.append((f"boot to /init ≥ 1.5x QEMU ({machine})", f"{x:.2f}x", x >= 1.5))
        for key, when in (("vmm_memory_kib", "peak"), ("vmm_memory_now_kib", "at power-off")):
            if vmm_boot and q and vmm_boot[key] and q[key]:
                x = vmm_boot[key][0] / q[key][0]
                found.append((f"memory beyond guest RAM ≤ 1/10 of QEMU's ({machine}, {when})",
                              f"{vmm_boot[key][0]:.0f} KiB against {q[key][0]:.0f}: {x:.2f}x", x <= 0.1))
    for device, workload, limit in (("virtio-blk", "randread-4k-qd32", 0.05), ("nvme", "randread-4k-qd16", 0.2)):
        r = rate_of(rows, "vmm", device, workload)
        if r:
            found.append((f"{device} exits per I/O ≤ {limit} ({workload})",
                          f"{r['exits']:.3f} (to the VMM {r['user_exits']:.3f})", r["exits"] <= limit))
    return found


# ---- Where to run ----

def has_hardware_kvm():
    return sh(os.path.join(HERE, "testvm.py"), "where", check=False).startswith("host")


# Rounds lost to the nested machine are made up by this many more at most, so that a run
# gets its --runs rounds when the machine breaks once or twice (it did in most full runs).
SPARE_ROUNDS = 2


def run_nested(argv, rounds, keep=None):
    """Runs this script in the nested test machine, one boot of it per round so that the emulator
    failing (testvm.py tries a round twice) costs a round, made up by a spare one while they last,
    and returns the rounds' JSON merged. With keep (a path), the rounds made so far are written
    there after each one: a run cut short still has them for --report."""
    cleaned, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a in ("--json", "--plot", "--markdown"):
            skip = True
            continue
        if a.startswith(("--json=", "--plot=", "--markdown=")):
            continue
        cleaned.append(a)
    merged, failed, made = None, [], 0
    for n in range(rounds + SPARE_ROUNDS):
        if made == rounds:
            break
        spare = f" ({len(failed)} lost so far)" if failed else ""
        progress(f"bench: round {n + 1}, {made + 1} of {rounds}{spare}")
        found = nested_round([*cleaned, "--runs", "1"])
        if not found:
            failed.append(n + 1)
            continue
        made += 1
        for run in found["runs"]:
            run["round"] = n + 1
        if merged is None:
            merged = found
        else:
            merged["runs"] += found["runs"]
        merged.update(failed_rounds=failed, runs_per_config=made, rounds_asked=rounds,
                      command=" ".join(["vmm bench", *argv]))
        if keep:
            write_json(keep, merged)
    if merged is None:
        sys.exit("bench: every round in the nested test machine failed")
    return merged


def write_json(path, result):
    with open(path, "w") as f:
        json.dump(result, f, indent=1)


# A round whose progress stops this long is given up. The nested machine has lost
# wake-ups (a task blocked for good in flush_work() with both CPUs idle), and a
# process blocked so stops the inner run where its own time limits cannot.
ROUND_SILENCE_SECONDS = 900


def nested_round(argv):
    cmd = [os.path.join(HERE, "testvm.py"), "exec", "--", sys.executable, os.path.abspath(__file__), "--inside",
           "--json", "-", *argv]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, start_new_session=True)
    last_line = [time.monotonic()]
    done = threading.Event()

    def watch():
        while not done.wait(10):
            if time.monotonic() - last_line[0] > ROUND_SILENCE_SECONDS:
                progress(f"bench: no progress from the nested test machine for {ROUND_SILENCE_SECONDS} s; "
                         "giving the round up")
                os.killpg(proc.pid, signal.SIGKILL)
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    found = None
    # The nested machine's console carries the inner run's progress and, last, its JSON.
    for line in proc.stdout:
        last_line[0] = time.monotonic()
        if line.startswith("{"):
            found = line
        else:
            sys.stderr.write(line)
    proc.wait()
    done.set()
    if not found:
        progress(f"bench: the round in the nested test machine failed (status {proc.returncode})")
        return None
    return json.loads(found)


def run_here(args):
    configs = [(hv, d) for d in args.devices for hv in (["vmm", "qemu"] if args.vs_qemu else ["vmm"])]
    runs = []
    with tempfile.TemporaryDirectory(prefix="vmm-bench.") as work:
        paths = dict(line.split("=", 1) for line in sh(os.path.join(HERE, "linux-guest.py")).split())
        kinds = {"storage" if d in ("virtio-blk", "nvme") else "network" if d in ("virtio-net", "e1000") else "boot"
                 for d in args.devices}
        initrds = {k: initramfs(work, k, args) for k in kinds}
        image = os.path.join(work, "disk.img")
        cache = "writeback"
        if "storage" in kinds:
            make_image(image)
            cache = "none" if takes_o_direct(image) else "writeback"
        if "network" in kinds:
            setup_namespace()
        try:
            for _ in range(args.runs):
                for hv, d in configs:
                    if d == "boot" and hv == "qemu":
                        for machine in ("q35", "microvm"):
                            runs.append(one_run(hv, d, args, (paths["bzImage"], initrds, image, cache), work, machine))
                    else:
                        runs.append(one_run(hv, d, args, (paths["bzImage"], initrds, image, cache), work))
        finally:
            status("ip", "netns", "del", NS)
    where = "nested test machine (QEMU TCG, emulated AMD-V)" if os.environ.get("VMM_TEST_MACHINE_INSIDE") \
        else "this host's hardware-assisted KVM"
    return {"where": where, "date": time.strftime("%Y-%m-%d"), "machine": machine_description(), "seconds": args.seconds,
            "runs_per_config": args.runs, "cache": cache, "runs": runs}


def machine_description():
    """What the figures were measured on: CPUs, memory, kernel, QEMU."""
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    mem = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    qemu = sh("qemu-system-x86_64", "--version", check=False).split("\n")[0] if shutil.which("qemu-system-x86_64") \
        else "no QEMU"
    return f"{os.cpu_count()} x {cpu}, {mem >> 20} GiB, Linux {os.uname().release}, {qemu}"


def setup_namespace():
    status("ip", "netns", "del", NS)
    sh("ip", "netns", "add", NS)
    sh(*in_ns("ip", "link", "set", "lo", "up"))
    sh(*in_ns("ip", "tuntap", "add", "dev", TAP, "mode", "tap"))
    sh(*in_ns("ip", "addr", "add", f"{HOST_IP}/24", "dev", TAP))
    sh(*in_ns("ip", "link", "set", TAP, "up"))


def parse(argv):
    ap = argparse.ArgumentParser(prog="vmm bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vmm", default=os.path.join(HERE, "..", "build", "vmm"))
    ap.add_argument("--iops", default=None, help="the guest's disk-iops (default: beside the vmm binary)")
    ap.add_argument("--devices", default=",".join(DEVICES))
    ap.add_argument("--vs-qemu", action="store_true")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="1 s per workload, for a smoke test")
    ap.add_argument("--vmm-arg", action="append", default=[], help="an extra option for vmm run")
    ap.add_argument("--json", help="every run's figures as JSON to this file, or - for stdout")
    ap.add_argument("--plot", help="a PNG chart of the medians (gnuplot)")
    ap.add_argument("--markdown", help="the medians, ratios and goals as Markdown tables (docs/benchmarks.md)")
    ap.add_argument("--report", metavar="FILE.json", help="no runs: report the runs of an earlier --json FILE")
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.vmm = os.path.realpath(args.vmm)
    args.iops = args.iops or os.path.join(os.path.dirname(args.vmm), "disk-iops")
    args.devices = [d for d in args.devices.split(",") if d]
    bad = [d for d in args.devices if d not in DEVICES]
    if bad or args.runs < 1 or args.seconds < 1:
        ap.error(f"devices are {', '.join(DEVICES)}; --runs and --seconds at least 1"
                 + (f" (not {', '.join(bad)})" if bad else ""))
    if args.quick:
        args.seconds = 1
    args.storage = STORAGE
    args.network = NETWORK
    return args


def measure(args, argv):
    if not os.access(args.vmm, os.X_OK) or not os.access(args.iops, os.X_OK):
        sys.exit(f"bench: {args.vmm} or {args.iops} is missing: build first (cmake --build build)")
    inside = args.inside or os.environ.get("VMM_TEST_MACHINE_INSIDE")
    keep = args.json if args.json and args.json != "-" else None
    result = run_here(args) if inside or has_hardware_kvm() else run_nested(argv, args.runs, keep)
    result["command"] = " ".join(["vmm bench", *argv])
    return result


def load_report(path):
    try:
        with open(path) as f:
            result = json.load(f)
        if not isinstance(result.get("runs"), list):
            raise ValueError("no runs")
        return result
    except (OSError, ValueError) as e:
        sys.exit(f"bench: {path}: not a vmm bench JSON file ({e})")


def main(argv):
    args = parse(argv)
    result = load_report(args.report) if args.report else measure(args, argv)
    rows = summarize(result["runs"])
    result["summary"] = rows
    if args.inside:
        print(json.dumps(result))   # for the run outside, which reports
        return 0
    print(f"vmm bench on {result['where']}; {runs_made(result)} run(s) of {result['seconds']} s per "
          f"workload; disks cache={result['cache']}; per op: VM exits (all; to user space), injected interrupts, "
          "VMM CPU")
    print_table(rows)
    if args.json == "-":
        print(json.dumps(result))
    elif args.json:
        write_json(args.json, result)
    failed = [f"{r['hypervisor']} {r['device']}" for r in result["runs"] if r.get("error")]
    if result.get("runs_per_config", 0) < result.get("rounds_asked", 0):
        failed += [f"round {n} (the nested machine failed twice)" for n in result.get("failed_rounds", [])]
    if failed:
        progress(f"bench: runs that failed: {', '.join(failed)}")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(result, rows))
    if args.plot and not plot(rows, args.plot):
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
