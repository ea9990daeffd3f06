#!/usr/bin/env bash
# virtio-blk device benchmark beside fio: 4 KiB random reads at queue depth
# 1 and 32 on the same file, O_DIRECT for both (cache=none in vmm). The two
# alternate for ROUNDS rounds and the medians are compared, because the
# storage under a virtual machine drifts by tens of percent from one run to
# the next.
#   tools/blk-bench.sh [FILE] [SECONDS] [ROUNDS]    (needs fio: apt-get install fio)
# FILE (default /tmp/vmm-bench.img) is created with 1 GiB of random data if
# it does not exist: data really written keeps the file system from
# answering with zeroes it never stored.
set -euo pipefail
file=${1:-/tmp/vmm-bench.img}
secs=${2:-5}
rounds=${3:-5}
bench=$(dirname "$0")/../build/blk_bench
[ -x "$bench" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 2; }
command -v fio >/dev/null || { echo "fio is not installed (apt-get install fio)" >&2; exit 2; }
[ -f "$file" ] || dd if=/dev/urandom of="$file" bs=1M count=1024 status=none

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

for qd in 1 32; do
	: >/tmp/blk-bench.vmm
	: >/tmp/blk-bench.fio
	for _ in $(seq "$rounds"); do
		"$bench" "$file" "$qd" "$secs" 4096 none | tee -a /tmp/blk-bench.log |
			sed -E 's/.*: ([0-9]+) IOPS, [0-9.]+ MiB\/s, ([0-9.]+) kicks\/request, ([0-9.]+) interrupts.*/\1 \2 \3/' \
			>>/tmp/blk-bench.vmm
		fio --name=randread --filename="$file" --ioengine=io_uring --rw=randread --bs=4k \
			--iodepth="$qd" --direct=1 --runtime="$secs" --time_based --output-format=terse \
			--terse-version=3 | awk -F';' '{print $8}' >>/tmp/blk-bench.fio
	done
	vmm=$(cut -d' ' -f1 /tmp/blk-bench.vmm | median)
	kicks=$(cut -d' ' -f2 /tmp/blk-bench.vmm | median)
	irqs=$(cut -d' ' -f3 /tmp/blk-bench.vmm | median)
	fio=$(median </tmp/blk-bench.fio)
	printf 'qd %-2s  vmm %7s IOPS (%s kicks, %s interrupts per request)  fio %7s IOPS  vmm/fio %s\n' \
		"$qd" "$vmm" "$kicks" "$irqs" "$fio" "$(awk -v a="$vmm" -v b="$fio" 'BEGIN {printf "%.0f%%", 100 * a / b}')"
	echo "  vmm runs: $(cut -d' ' -f1 /tmp/blk-bench.vmm | tr '\n' ' ')  fio runs: $(tr '\n' ' ' </tmp/blk-bench.fio)"
done
