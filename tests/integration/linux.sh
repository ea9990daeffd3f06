#!/usr/bin/env bash
# Boots Debian's kernel (tools/linux-guest.py) under vmm and checks Linux's
# own drivers from user space:
#   linux.sh vmlinux|bzimage|reboot|pvm      with VMM and SRC set by ctest.
# vmlinux, bzimage: 2 vCPUs online, the RAM given; a virtio-blk disk on PCI
#   (cache=none) and one on virtio-mmio (writeback) each get a file system
#   that is written, remounted and read back, then checked from the host
#   after vmm exits; a NIC behind user-mode NAT takes a DHCP lease and pings
#   the gateway; a NIC on a tap pings the host and echoes 4 MiB over TCP
#   byte for byte; `poweroff -f` ends vmm with status 0. The two modes swap
#   the NICs' transports. Needs hardware-assisted KVM (tools/testvm.py).
# reboot: vmm unpacks the bzImage (--kernel-decompress=vmm); `reboot -f`
#   ends vmm with status 0.
# pvm: only on kvm_pvm hosts, where guest ring 0 is interpreted and user
#   space cannot make system calls: the kernel boots (vmm carrying out what
#   the emulator lacks) and /init starts in user mode.
set -u
mode=$1
: "${VMM:?}" "${SRC:?}"
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
ns=vmmlinux$$
trap 'ip netns del $ns 2>/dev/null; rm -rf "$work"' EXIT
memory_mib=512
limit=${VMM_LINUX_TIMEOUT:-300}

skip() { echo "SKIP: $*"; exit 77; }
fail() {
	echo "FAIL: $*"
	echo "--- stdout (last 60 lines)"; tail -n 60 "$work/out" 2>/dev/null
	echo "--- stderr"; cat "$work/err" 2>/dev/null
	exit 1
}
expect_out() { grep -qF -- "$1" "$work/out" || fail "guest output lacks: $1"; }
pvm_host() { "$VMM" info | grep -q "pvm host: *yes"; }

[ -r /dev/kvm ] && [ -w /dev/kvm ] && "$VMM" info >/dev/null 2>&1 || skip "/dev/kvm is missing or not usable"
"$SRC/tools/linux-guest.py" >"$work/paths" || fail "tools/linux-guest.py could not build the guest"
# shellcheck disable=SC1091
. "$work/paths"
"$SRC/tools/linux-guest.py" --script "$here/linux-guest/userspace.sh" --output "$work/initramfs" ||
	fail "could not add the test script to the initramfs"

# run_linux KERNEL CMDLINE VMM-OPTIONS...: boots (inside $in_ns, if set),
# stops a panicked guest, sets $status.
in_ns=()
run_linux() {
	local kernel=$1 cmdline=$2
	shift 2
	started=$SECONDS
	: >"$work/out"
	timeout "$limit" "${in_ns[@]}" "$VMM" run --kernel "$kernel" --initrd "$work/initramfs" --vcpus 2 \
		--memory ${memory_mib}M --cmdline "console=ttyS0 $cmdline" --stats "$@" </dev/null >"$work/out" 2>"$work/err" &
	local pid=$!
	init_after=
	while kill -0 $pid 2>/dev/null; do
		[ -n "$init_after" ] || ! grep -q "vmm-init: /init is running" "$work/out" || init_after=$((SECONDS - started))
		grep -q -- "---\[ end Kernel panic" "$work/out" && kill -TERM $pid
		sleep 0.5
	done
	wait $pid
	status=$?
	[ "$status" -ne 124 ] || fail "vmm did not stop within $limit s"
}

check_boot() {
	expect_out "smp: Brought up 1 node, 2 CPUs"
	expect_out "vmm-init: /init is running"
	grep -q "insmod .* failed" "$work/out" && fail "a module did not load"
	expect_out "vmm-guest: nproc 2"
	expect_out "vmm-guest: online 0-1"
	# The e820 RAM: everything but the 384 KiB legacy hole at 640 KiB.
	local ram=$((memory_mib * 1024 * 1024 - 0x60000)) memtotal
	expect_out "vmm-guest: e820_ram_bytes $ram"
	memtotal=$(sed -n 's/.*vmm-guest: memtotal_kb \([0-9]*\).*/\1/p' "$work/out")
	[ -n "$memtotal" ] && [ "$memtotal" -gt $((memory_mib * 1024 * 8 / 10)) ] || fail "MemTotal ${memtotal:-?} kB"
}

# The file a guest wrote, read from the image with e2fsprogs after vmm exited.
check_image() {
	local serial=$1 img=$2 want got
	want=$(sed -n "s/.*vmm-guest: $serial data \([0-9a-f]*\).*/\1/p" "$work/out")
	[ -n "$want" ] || fail "the guest did not write its file on $serial"
	e2fsck -fn "$img" >"$work/fsck" 2>&1 || { cat "$work/fsck"; fail "the file system on $serial is not clean"; }
	got=$(debugfs -R "cat /data" "$img" 2>/dev/null | md5sum | cut -d' ' -f1)
	[ "$got" = "$want" ] || fail "$serial: the image holds $got, the guest wrote $want"
}

net_setup() {
	ip netns add $ns || skip "cannot create a network namespace"
	ip netns exec $ns ip link set lo up
	ip netns exec $ns ip tuntap add dev vmmtap0 mode tap
	ip netns exec $ns ip addr add 10.0.3.1/24 dev vmmtap0
	ip netns exec $ns ip link set vmmtap0 up
	ip netns exec $ns python3 "$here/tcp_echo.py" 10.0.3.1 5556 $((64 * 65536)) >"$work/peer" 2>&1 &
	peer=$!
	for _ in $(seq 100); do grep -q listening "$work/peer" && break; sleep 0.1; done
}

userspace() {
	local kernel=$1 user_transport=$2 tap_transport=$3
	truncate -s 64M "$work/pci.img" "$work/mmio.img"
	net_setup
	in_ns=(ip netns exec $ns)
	run_linux "$kernel" "vmm.disk=disk-pci vmm.disk=disk-mmio vmm.net=user vmm.net=tap" \
		--disk "path=$work/pci.img,cache=none,serial=disk-pci" \
		--disk "path=$work/mmio.img,transport=mmio,serial=disk-mmio" \
		--network "user,transport=$user_transport,mac=52:54:00:12:34:01" \
		--network "tap=vmmtap0,transport=$tap_transport,mac=52:54:00:12:34:02"
	wait $peer
	cat "$work/peer" >>"$work/out"
	check_boot
	grep "vmm-guest: FAIL" "$work/out" && fail "a check inside the guest failed"
	expect_out "vmm-guest: user network up"
	expect_out "vmm-guest: tap echo intact"
	local sent
	sent=$(sed -n 's/.*vmm-guest: tap sent \([0-9a-f]*\).*/\1/p' "$work/out")
	expect_out "tcp echo: received $((64 * 65536)) bytes, md5 $sent"
	expect_out "vmm-guest: done"
	expect_out "reboot: Power down"
	[ "$status" -eq 0 ] || fail "vmm exit status $status, expected 0"
	check_image disk-pci "$work/pci.img"
	check_image disk-mmio "$work/mmio.img"
	echo "/init after ${init_after:-?} s; power-off after $((SECONDS - started)) s"
	grep -A40 '^exits by vCPU' "$work/err"
}

case $mode in
vmlinux)
	pvm_host && skip "kvm_pvm host: Linux user space cannot run here (the pvm mode checks what can)"
	userspace "$vmlinux" mmio pci ;;
bzimage)
	pvm_host && skip "kvm_pvm host: Linux user space cannot run here (the pvm mode checks what can)"
	userspace "$bzImage" pci mmio ;;
reboot)
	pvm_host && skip "kvm_pvm host: Linux user space cannot run here (the pvm mode checks what can)"
	run_linux "$bzImage" "vmm.reboot" --kernel-decompress=vmm
	check_boot
	expect_out "reboot: Restarting system"
	[ "$status" -eq 0 ] || fail "vmm exit status $status after reboot -f, expected 0"
	echo "reboot -f ended vmm with status 0 after $((SECONDS - started)) s" ;;
pvm)
	pvm_host || skip "not a kvm_pvm host"
	# cryptomgr.notests and rodata=off skip the crypto self-tests and the W+X
	# page-table audit, tens of minutes when guest ring 0 is interpreted.
	limit=${VMM_LINUX_TIMEOUT:-2400}
	run_linux "$bzImage" "cryptomgr.notests rodata=off"
	expect_out "smp: Brought up 1 node, 2 CPUs"
	expect_out "Run /init as init process"
	# docs/linux-boot.md: SYSCALL from guest user space jumps to the kernel's
	# entry point still in ring 3, so /init dies on its first system call.
	expect_out "RIP: 0033:entry_SYSCALL_64"
	[ "$status" -eq 143 ] || fail "vmm exit status $status, expected 143 (stopped by the test)"
	echo "kvm_pvm host: the kernel booted and /init started in user mode after $((SECONDS - started)) s"
	grep -A40 '^exits by vCPU' "$work/err" ;;
*) echo "usage: linux.sh vmlinux|bzimage|reboot|pvm"; exit 2 ;;
esac
echo "PASS: linux.$mode"
