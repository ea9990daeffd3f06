#!/usr/bin/env bash
# vmm bench --quick (tools/bench.py, one second per workload): every device
# and the boot figures come back with numbers, and the JSON and the chart
# have their shape. With VMM set by ctest.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

status=0
"$VMM" bench --quick --json "$work/bench.json" --plot "$work/bench.png" || status=$?
[ -s "$work/bench.json" ] || fail "vmm bench wrote no JSON (status $status)"
python3 - "$work/bench.json" <<'PY' || fail "the JSON does not hold what every device should measure"
import json, sys
d = json.load(open(sys.argv[1]))
storage = ["randread-4k-qd1", "randread-4k-qd16", "randread-4k-qd32", "randwrite-4k-qd1", "randwrite-4k-qd32", "read-128k", "write-128k"]
network = ["tcp-rx", "tcp-tx", "udp-rx", "tcp-rr"]
want = {"virtio-blk": storage, "nvme": storage, "virtio-net": network, "e1000": network}
bad = []
for key in ("where", "seconds", "runs", "summary"):
    if key not in d:
        bad.append(f"no '{key}'")
runs = d.get("runs", [])
for device, workloads in want.items():
    got = [r for r in runs if r["device"] == device and r["hypervisor"] == "vmm"]
    if not got or got[0].get("error"):
        bad.append(f"{device}: {got[0]['error'][:300] if got else 'no run'}")
        continue
    for w in workloads:
        f = got[0]["workloads"].get(w)
        if not f or not f["rate"] > 0 or not f["ops"] > 0 or "exits" not in f["exits_per_op"] \
                or f["cpu_us_per_op"] <= 0 or f["interrupts_per_op"] < 0:
            bad.append(f"{device} {w}: {f}")
        elif w in storage and not 0 < f["p50_us"] <= f["p99_us"]:
            bad.append(f"{device} {w}: latency percentiles {f['p50_us']} {f['p99_us']}")
boot = [r for r in runs if r["device"] == "boot" and r["hypervisor"] == "vmm"]
b = boot[0]["workloads"].get("boot", {}) if boot else {}
if not b or not 0 < (b.get("first_instruction_ms") or 0) < b["init_ms"] < b["poweroff_ms"] or not b["vmm_memory_kib"] > 0:
    bad.append(f"boot: {b}")
for line in bad:
    print("  " + line)
print(f"checked {len(runs)} runs in the {d.get('where')}: {'all measured' if not bad else f'{len(bad)} problems'}")
sys.exit(1 if bad else 0)
PY
[ "$status" -eq 0 ] || fail "vmm bench exited with status $status"
head -c 8 "$work/bench.png" | od -An -c | grep -q "P   N   G" || fail "the chart is not a PNG"
echo "PASS: bench.quick"
