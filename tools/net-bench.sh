#!/usr/bin/env bash
# virtio-net throughput with the firmware guest driving the queues from
# ring 3, on a tap in a private network namespace, under vmm and under QEMU
# (same guest, same tap): guest to host (the guest sends COUNT UDP
# datagrams; frames are counted at the tap) and host to guest (the host sends
# COUNT datagrams to the guest's discard port; the guest counts what
# arrives), for 60-byte and 1514-byte frames. Exits to user space per frame
# come from perf's kvm:kvm_userspace_exit for both VMMs; all exits, those
# KVM handles itself included, from KVM's own counters (vmm --stats).
#   tools/net-bench.sh [COUNT]    (as root; RUNNERS="vmm qemu" by default)
set -euo pipefail
count=${1:-200000}
top=$(cd "$(dirname "$0")/.." && pwd)
guest=$top/build/firmware/virtio_net.elf
ns=vmmbench$$
work=$(mktemp -d)
trap 'ip netns del $ns 2>/dev/null; rm -rf "$work"' EXIT
ip netns add $ns
ip netns exec $ns ip link set lo up
ip netns exec $ns ip tuntap add dev vmmtap0 mode tap
ip netns exec $ns ip addr add 10.0.2.1/24 dev vmmtap0
ip netns exec $ns ip link set vmmtap0 up
mac=52:54:00:aa:bb:cc

run_guest() {   # RUNNER CMDLINE: console in $work/guest, exits in $work/perf
	local -a cmd
	if [ "$1" = vmm ]; then
		cmd=("$top/build/vmm" run --kernel "$guest" --stats --network "tap=vmmtap0,mac=$mac" --cmdline "$2")
	else
		cmd=("$top/tools/qemu-guest.sh" "$guest" "$2" -netdev tap,id=n0,ifname=vmmtap0,script=no,downscript=no
		     -device "virtio-net-pci,netdev=n0,disable-legacy=on,mac=$mac")
	fi
	ip netns exec $ns perf stat -x, -e kvm:kvm_userspace_exit -o "$work/perf" -- "${cmd[@]}" \
		</dev/null >"$work/guest" 2>&1
}

exits_per() {   # FRAMES: "user-space exits/frame all exits/frame"
	local all
	all=$(awk -v n="$1" '/^  vcpu0 exits/ && n > 0 {printf "%.3f", $3 / n}' "$work/guest")
	awk -F, -v n="$1" -v all="${all:--}" '/kvm_userspace_exit/ && n > 0 {printf "%.3f / %s", $1 / n, all}' \
		"$work/perf"
}

printf '%-5s %-13s %-6s %10s %10s %s\n' runner direction frame frames/s Mbit/s "exits per frame: to user space / all"
for runner in ${RUNNERS:-vmm qemu}; do
	[ "$runner" = qemu ] && ! command -v qemu-system-x86_64 >/dev/null && continue
	for size in 18 1472; do
		frame=$((size + 42))
		ip netns exec $ns python3 "$top/tools/net_bench.py" tx vmmtap0 10.0.2.15 "$count" >"$work/host" &
		host=$!
		run_guest "$runner" "ip=10.0.2.15 peer=10.0.2.1 peer_port=9 count=$count size=$size"
		wait $host
		read -r fps _ mbit _ sent _ <"$work/host"
		sent=${sent#(}
		printf '%-5s %-13s %-6s %10s %10s %s\n' "$runner" guest-to-host "$frame" "$fps" "$mbit" \
			"$(exits_per "$sent")"

		ip netns exec $ns python3 "$top/tools/net_bench.py" rx 10.0.2.15 "$count" "$size" >"$work/host" &
		host=$!
		run_guest "$runner" "ip=10.0.2.15"
		wait $host
		secs=$(awk '{print $4}' "$work/host")
		got=$(sed -nE 's/.* ([0-9]+) discarded.*/\1/p' "$work/guest")
		printf '%-5s %-13s %-6s %10s %10s %s\n' "$runner" host-to-guest "$frame" \
			"$(awk -v g="$got" -v s="$secs" 'BEGIN {printf "%.0f", g / s}')" \
			"$(awk -v g="$got" -v s="$secs" -v f="$frame" 'BEGIN {printf "%.1f", g * f * 8 / s / 1e6}')" \
			"$(exits_per "$got") ($got of $count arrived)"
	done
done
