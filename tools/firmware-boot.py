#!/usr/bin/env python3
"""Boot a disk image through SeaBIOS under vmm and under QEMU, and time it.

The image is tools/disk-image.py's (GRUB, Debian's kernel, an init that
mounts the root partition and powers off). Each round boots it once under
`vmm run --firmware bios` and once under `qemu-system-x86_64 -M pc` with
the same SeaBIOS, the disk on virtio-blk (or --bus nvme), alternating, and
records from the VMM's start:

  first instruction  KVM's first exit for the VM (debugfs)
  SeaBIOS            its banner on the serial console
  GRUB menu          "GNU GRUB" on the console
  kernel             GRUB's "Booting `...'": the firmware's and GRUB's part ends
  /init              the initramfs's first line
  power-off          the VMM process's end

and KVM's VM exits up to the kernel (the firmware's and GRUB's) and in all.
Where the host has no hardware-assisted KVM the rounds run in the nested
test machine (tools/testvm.py).

  firmware-boot.py [--rounds N] [--bus virtio|nvme] [--vmm build/vmm] [--json FILE]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402

MARKS = [("seabios", "SeaBIOS (version"), ("grub", "GNU GRUB"), ("kernel", "Booting `"),
         ("init", "vmm-init: /init is running")]
LIMIT_S = 400


def commands(args, image, console, work):
    # QEMU's SeaBIOS draws its console on COM1 too, as vmm's does: the same bytes through the same UART.
    sercon = os.path.join(work, "sercon-port")
    with open(sercon, "wb") as f:
        f.write((0x3f8).to_bytes(2, "little"))
    vmm_disk = f"path={image}" + (",bus=nvme,serial=vmmdisk" if args.bus == "nvme" else "")
    qemu_dev = "nvme,drive=d0,serial=vmmdisk" if args.bus == "nvme" else "virtio-blk-pci,drive=d0"
    return {
        "vmm": [args.vmm, "run", "--firmware", "bios", "--vcpus", "2", "--memory", "512",
                "--console", f"file={console}", "--disk", vmm_disk],
        "qemu-pc": ["qemu-system-x86_64", "-enable-kvm", "-M", "pc", "-cpu", "host", "-smp", "2", "-m", "512",
                    "-nodefaults", "-display", "none", "-no-reboot", "-serial", f"file:{console}",
                    "-fw_cfg", f"name=etc/sercon-port,file={sercon}",
                    "-drive", f"file={image},format=raw,if=none,id=d0", "-device", qemu_dev],
    }


def one_boot(cmd, console):
    g = bench.Guest(cmd, console)
    run = {"first_instruction_ms": None}
    try:
        first = g.first_instruction()
        run["first_instruction_ms"] = first * 1e3 if first else None
        for name, marker in MARKS:
            run[f"{name}_ms"] = g.expect(marker, LIMIT_S) * 1e3
            if name == "kernel" and g.kdir:
                run["firmware_exits"] = bench.snapshot(g.proc.pid, g.kdir)["exits"]
        last = bench.snapshot(g.proc.pid, g.kdir) if g.kdir else {}
        run["poweroff_ms"] = g.finish(LIMIT_S) * 1e3
        run["exits"] = last.get("exits")
        text = bench.console_text(console)
        if "vmm-disk: done" not in text or g.proc.returncode != 0:
            raise RuntimeError(f"status {g.proc.returncode}; console ends:\n{text[-1500:]}\n{g.stderr()}")
    except (RuntimeError, OSError, KeyError) as e:
        run["error"] = str(e)[-2000:]
    finally:
        g.finish()
    return run


def measure(args):
    work = tempfile.mkdtemp(prefix="firmware-boot-")
    image = os.path.join(work, "disk.img")
    subprocess.run([os.path.join(HERE, "disk-image.py"), "--output", image], check=True, stdin=subprocess.DEVNULL)
    runs = []
    for r in range(args.rounds):
        for hv, cmd in commands(args, image, os.path.join(work, "console"), work).items():
            run = one_boot(cmd, os.path.join(work, "console"))
            if run.get("error"):   # the nested machine's emulated AMD-V now and then faults a guest
                bench.progress(f"firmware-boot: {hv} round {r + 1}: {run['error'][:300]}; once more")
                run = one_boot(cmd, os.path.join(work, "console"))
            run.update(hypervisor=hv, round=r + 1, bus=args.bus)
            bench.progress(f"firmware-boot: {hv} round {r + 1}: " +
                           ", ".join(f"{k} {v:.0f}" for k, v in run.items() if isinstance(v, float)))
            runs.append(run)
    return {"machine": bench.machine_description(), "bus": args.bus, "runs": runs}


FIELDS = ["first_instruction_ms", "seabios_ms", "grub_ms", "kernel_ms", "init_ms", "poweroff_ms",
          "firmware_exits", "exits"]


def report(result):
    print(f"\nfirmware boot, disk on {result['bus']}: medians (min-max) of "
          f"{max(r['round'] for r in result['runs'])} rounds")
    print(f"{'':22}" + "".join(f"{hv:>24}" for hv in ("vmm", "qemu-pc")) + f"{'vmm/qemu':>10}")
    for f in FIELDS:
        cells, meds = [], []
        for hv in ("vmm", "qemu-pc"):
            vals = [r[f] for r in result["runs"] if r["hypervisor"] == hv and r.get(f) is not None
                    and not r.get("error")]
            m = statistics.median(vals) if vals else None
            meds.append(m)
            cells.append(f"{m:.0f} ({min(vals):.0f}-{max(vals):.0f})" if vals else "-")
        ratio = f"{meds[0] / meds[1]:.2f}x" if meds[0] and meds[1] else "-"
        print(f"{f:22}" + "".join(f"{c:>24}" for c in cells) + f"{ratio:>10}")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bus", choices=["virtio", "nvme"], default="virtio")
    ap.add_argument("--vmm", default=os.path.join(HERE, "..", "build", "vmm"))
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    args.vmm = os.path.abspath(args.vmm)
    if not bench.has_hardware_kvm():
        bench.progress("firmware-boot: no hardware-assisted KVM here: the rounds run in the nested test machine")
        cmd = [os.path.join(HERE, "testvm.py"), "exec", "--", sys.executable, os.path.abspath(__file__),
               "--rounds", str(args.rounds), "--bus", args.bus, "--vmm", args.vmm, "--json", "-"]
        out = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
        start = out.stdout.find("{")
        if out.returncode != 0 or start < 0:
            sys.exit(f"firmware-boot: the nested round failed (status {out.returncode})")
        result = json.loads(out.stdout[start:])
    else:
        result = measure(args)
    if args.json == "-":
        print(json.dumps(result))
        return
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    report(result)


if __name__ == "__main__":
    main(sys.argv[1:])
