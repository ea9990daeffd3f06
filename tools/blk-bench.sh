#!/usr/bin/env bash
# virtio-blk device benchmark beside fio: 4 KiB random reads at queue depth
# 1 and 32 on the same file, O_DIRECT for both (cache=none in vmm).
#   tools/blk-bench.sh [FILE] [SECONDS]      (needs fio: apt-get install fio)
# FILE (default /tmp/vmm-bench.img) is created with 1 GiB of random data if
# it does not exist; reading data that was really written keeps the file
# system from answering with zeroes it never stored.
set -euo pipefail
file=${1:-/tmp/vmm-bench.img}
secs=${2:-10}
bench=$(dirname "$0")/../build/blk_bench
[ -x "$bench" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 2; }
command -v fio >/dev/null || { echo "fio is not installed (apt-get install fio)" >&2; exit 2; }
[ -f "$file" ] || dd if=/dev/urandom of="$file" bs=1M count=1024 status=none
for qd in 1 32; do
	vmm=$("$bench" "$file" "$qd" "$secs" 4096 none)
	fio_iops=$(fio --name=randread --filename="$file" --ioengine=io_uring --rw=randread --bs=4k \
		--iodepth="$qd" --direct=1 --runtime="$secs" --time_based --output-format=terse --terse-version=3 |
		awk -F';' '{print $8}')
	vmm_iops=$(echo "$vmm" | sed -E 's/.*: ([0-9]+) IOPS.*/\1/')
	echo "$vmm"
	echo "qd $qd fio: $fio_iops IOPS; vmm/fio = $(awk -v a="$vmm_iops" -v b="$fio_iops" 'BEGIN {printf "%.1f%%", 100 * a / b}')"
done
