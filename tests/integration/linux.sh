#!/usr/bin/env bash
# Boots Debian's kernel (tools/linux-guest.py) under vmm and checks Linux's
# own drivers from user space:
#   linux.sh vmlinux|bzimage|reboot|e1000|e1000-1cpu|e1000-qemu|nvme|nvme-qemu|pvm
#   with VMM and SRC set by ctest.
# vmlinux, bzimage: 2 vCPUs online, the RAM given; a virtio-blk disk on PCI
#   (cache=none) and one on virtio-mmio (writeback) each get a file system
#   that is written, remounted and read back, then checked from the host
#   after vmm exits; a NIC behind user-mode NAT takes a DHCP lease and pings
#   the gateway; a NIC on a tap pings the host and echoes 4 MiB over TCP
#   byte for byte; `poweroff -f` ends vmm with status 0. The two modes swap
#   the NICs' transports. Needs hardware-assisted KVM (tools/testvm.py).
# reboot: vmm unpacks the bzImage (--kernel-decompress=vmm); `reboot -f`
#   ends vmm with status 0.
# e1000: the same NAT and tap checks on emulated e1000s (model=e1000), bound
#   to Linux's e1000 driver, with 2 vCPUs; the tap NIC's link goes down and
#   up and then pings and echoes again; a virtio-net NIC on a second tap
#   beside them pings and echoes too. e1000-1cpu: the e1000s alone with one
#   vCPU, the second on a bridge (--network bridge=). e1000-qemu: the e1000 guest, unchanged, under QEMU's e1000 (the
#   test is the device's contract, not our reading of it).
# nvme: one NVMe disk (--disk bus=nvme) and 2 vCPUs, bound to Linux's nvme
#   driver: its serial, size and one I/O queue per vCPU from sysfs; Debian's
#   mkfs.ext4 on it, a file written, remounted and read back, and checked
#   from the host; a second boot deletes a 64 MiB file and runs fstrim, and
#   the image on the host loses those blocks (the deallocation became holes).
#   nvme-qemu: the same guest on QEMU's nvme.
# pvm: only on kvm_pvm hosts, where guest ring 0 is interpreted and user
#   space cannot make system calls: the kernel boots (vmm carrying out what
#   the emulator lacks) and /init starts in user mode.
set -u
mode=$1
: "${VMM:?}" "${SRC:?}"
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
ns=vmmlinux$$
echo_pids=()
trap 'kill "${echo_pids[@]}" 2>/dev/null; ip netns del $ns 2>/dev/null; rm -rf "$work"' EXIT
memory_mib=512
vcpus=2
machine=vmm         # what run_guest runs: vmm or qemu
# A guest gets $limit s in all and is stopped sooner when its console stays
# quiet for $quiet_limit s: a guest that is making progress may be slow (two
# nested machines share 2 cores under ctest -j2, and one CI machine ran
# them 2 to 5 times slower than the same tests here), a stuck one is stuck.
limit=${VMM_LINUX_TIMEOUT:-720}
quiet_limit=${VMM_LINUX_QUIET:-240}

skip() { echo "SKIP: $*"; exit 77; }
fail() {
	echo "FAIL: $*"
	echo "--- stdout (last 60 lines)"; tail -n 60 "$work/out" 2>/dev/null
	echo "--- stderr"; cat "$work/err" 2>/dev/null
	[ ! -s "$work/kvmtrace" ] || { echo "--- KVM, $(cat "$work/kvmtrace.when")"; cat "$work/kvmtrace"; }
	exit 1
}
expect_out() { grep -qF -- "$1" "$work/out" || fail "guest output lacks: $1"; }
# A line ending in $1 (a basic regex): "online 0" must not pass on "online 0-1".
expect_end() { grep -q -- "$1"$'\r*$' "$work/out" || fail "guest output lacks a line ending in: $1"; }
pvm_host() { "$VMM" info | grep -q "pvm host: *yes"; }

if ! { [ -r /dev/kvm ] && [ -w /dev/kvm ] && "$VMM" info >/dev/null 2>&1; }; then
	# The nested test machine has a /dev/kvm by construction: without one it is broken.
	[ "${VMM_TEST_MACHINE_INSIDE:-}" != nested ] || fail "the nested test machine has no usable /dev/kvm (kvm_amd not loaded?)"
	skip "/dev/kvm is missing or not usable"
fi
"$SRC/tools/linux-guest.py" >"$work/paths" || fail "tools/linux-guest.py could not build the guest"
# shellcheck disable=SC1091
. "$work/paths"
# The NVMe guest makes its file system with Debian's mkfs.ext4 (busybox's
# mke2fs makes ext2 only): the host's, with its libraries.
programs=()
case $mode in nvme*)
	mkfs=$(PATH=$PATH:/usr/sbin:/sbin command -v mkfs.ext4) || fail "mkfs.ext4 (e2fsprogs) is not installed"
	programs=(--program "$mkfs") ;;
esac
"$SRC/tools/linux-guest.py" --script "$here/linux-guest/userspace.sh" --output "$work/initramfs" "${programs[@]}" ||
	fail "could not add the test script to the initramfs"

# run_guest COMMAND...: runs a guest (inside $in_ns, if set) with its
# console on stdout, stops it if it panicked, sets $status.
in_ns=()
run_guest() {
	started=$SECONDS
	: >"$work/out"
	# -k: a machine that does not stop on SIGTERM is killed, and the test
	# still ends with its output, before ctest's own limit cuts it short.
	timeout -k 30 "$limit" "${in_ns[@]}" "$@" </dev/null >"$work/out" 2>"$work/err" &
	local pid=$!
	init_after='' traced='' stuck='' silent='' unkillable=''
	local size=0 quiet_since=$SECONDS sampled_quiet=$SECONDS now
	rm -f "$work/kvmtrace"
	while kill -0 $pid 2>/dev/null; do
		[ -n "$init_after" ] || ! grep -q "vmm-init: /init is running" "$work/out" || init_after=$((SECONDS - started))
		grep -q -- "---\[ end Kernel panic" "$work/out" && kill -TERM $pid
		now=$(stat -c %s "$work/out")
		[ "$now" = "$size" ] || { size=$now; quiet_since=$SECONDS sampled_quiet=$SECONDS; }
		# A console quiet for a minute (again), or a guest about to run out
		# of time: what is KVM doing with it?
		if [ $((SECONDS - sampled_quiet)) -ge 60 ]; then
			sampled_quiet=$SECONDS
			sample_kvm "when the console had been quiet for $((SECONDS - quiet_since)) s" && kill -TERM $pid
		elif [ -z "$traced" ] && [ $((SECONDS - started)) -ge $((limit - 10)) ]; then
			traced=1
			sample_kvm "10 s before the limit" && kill -TERM $pid
		fi
		if [ -z "$stuck$silent" ] && [ $((SECONDS - quiet_since)) -ge "$quiet_limit" ]; then
			silent=$((SECONDS - quiet_since))
			kill -TERM $pid
		fi
		# timeout(1) sent SIGKILL 30 s after the limit: a process still
		# there sleeps in the kernel, uninterruptibly, and waiting on it
		# would wait for good.
		if [ $((SECONDS - started)) -ge $((limit + 45)) ]; then
			unkillable=$(process_state $pid)
			break
		fi
		sleep 0.5
	done
	[ -n "$unkillable" ] || wait $pid
	status=$?
	[ -z "$unkillable" ] || fail "$machine did not end on SIGKILL; where it is in the kernel:"$'\n'"$unkillable"
	[ -z "$stuck" ] || fail "$stuck"
	[ -z "$silent" ] || fail "the guest's console was quiet for $silent s: $machine stopped"
	[ "$status" -ne 124 ] || fail "$machine did not stop within $limit s"
	[ "$status" -ne 137 ] || fail "$machine did not stop within $limit s, nor on SIGTERM 30 s later (killed)"
}

# process_state PID: where PID and its children are in the kernel, thread
# by thread.
process_state() {
	local p t
	for p in "$1" $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		echo "pid $p: $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null); $(grep '^State' /proc/"$p"/status 2>/dev/null)"
		for t in /proc/"$p"/task/*; do
			echo "  thread ${t##*/} ($(cat "$t"/comm 2>/dev/null)) waits in $(cat "$t"/wchan 2>/dev/null)"
			sed 's/^/    /' "$t"/stack 2>/dev/null
		done
	done
}

# sample_kvm WHEN: trace_kvm into $work/kvmtrace; succeeds, setting $stuck,
# when the sample shows the page-walk livelock.
sample_kvm() {
	echo "$1" >"$work/kvmtrace.when"
	trace_kvm >"$work/kvmtrace" 2>&1
	stuck=$(page_walk_livelock <"$work/kvmtrace")
}

# trace_kvm: what KVM does for a guest that is about to run out of time,
# from its trace events over 2 s (the exits it handles in the kernel never
# reach vmm's counters): exits by reason, then the first events, which name
# the instructions KVM emulated and the addresses that faulted.
trace_kvm() {
	local t=/sys/kernel/tracing e events="kvm_exit kvm_emulate_insn kvm_page_fault kvm_mmio kvm_pio kvm_msr kvm_inj_exception"
	[ -d $t/events/kvm ] || mount -t tracefs tracefs $t || { echo "no tracefs"; return; }
	echo >$t/trace
	for e in $events; do echo 1 >$t/events/kvm/$e/enable; done
	sleep 2
	for e in $events; do echo 0 >$t/events/kvm/$e/enable; done
	echo "kvm exits in 2 s, by reason:"
	grep -o 'kvm_exit: vcpu [0-9]* reason [A-Za-z_0-9]*' $t/trace | sort | uniq -c | sort -rn
	echo "first events:"
	grep -v '^#' $t/trace | head -n 60
	echo >$t/trace
}

# page_walk_livelock <TRACE: succeeds, saying so, when trace_kvm's sample
# shows a vCPU taking the same nested page fault again and again on its own
# page-table walk (bit 33 of the fault's error code, SVM's exit_info_1:
# PFERR_GUEST_PAGE): the guest's page tables point at a guest-physical
# address with no RAM, and KVM retries the walk forever, with nothing
# reaching vmm. No guest puts page tables in MMIO; docs/testing.md has
# where it comes from. Both events carry it: kvm_exit (reason npf, info1,
# info2) and kvm_page_fault (address, error_code); some samples hold only
# the second.
page_walk_livelock() {
	awk 'function field(name,   i) { for (i = 1; i < NF; i++) if ($i == name) return $(i + 1); return "" }
	# Bit 33 of a hexadecimal number: the ninth digit from the right.
	function bit33(hex,   d) { d = substr(hex, 3); return length(d) >= 9 && index("2367abefABEF", substr(d, length(d) - 8, 1)) }
	/kvm_exit: .* reason npf / { code = field("info1"); gpa = field("info2") }
	/kvm_page_fault: / { code = field("error_code"); gpa = field("address") }
	/kvm_exit: .* reason npf |kvm_page_fault: / {
		if (!bit33(code)) next
		k = "vcpu " field("vcpu") " at rip " field("rip") " takes the same nested page fault again and again walking its own page tables (guest-physical " gpa
		if (++n[k] > best) { best = n[k]; worst = k }
	}
	END {
		if (best < 50) exit 1
		printf "KVM livelock: %s, %d times in 2 s)\n", worst, best
	}'
}

# run_linux KERNEL CMDLINE VMM-OPTIONS...: the guest under vmm, $vcpus vCPUs.
run_linux() {
	local kernel=$1 cmdline=$2
	shift 2
	machine=vmm
	run_guest "$VMM" run --kernel "$kernel" --initrd "$work/initramfs" --vcpus "$vcpus" \
		--memory ${memory_mib}M --cmdline "console=ttyS0 $cmdline" --stats "$@"
}

# run_qemu KERNEL CMDLINE QEMU-OPTIONS...: the same guest under QEMU, with
# the same vCPUs and RAM, no devices but COM1 and those given, and no
# reboot, so `poweroff -f` ends QEMU with status 0 as it ends vmm.
run_qemu() {
	local kernel=$1 cmdline=$2
	shift 2
	machine=qemu
	run_guest qemu-system-x86_64 -enable-kvm -M q35 -cpu host -smp "$vcpus" -m $memory_mib \
		-nodefaults -display none -serial stdio -no-reboot \
		-kernel "$kernel" -initrd "$work/initramfs" -append "console=ttyS0 $cmdline" "$@"
}

# The vCPUs asked for are online (Linux says "1 CPU", "2 CPUs"), the RAM given is there.
check_boot() {
	local cpus="$vcpus CPUs" online="0-$((vcpus - 1))"
	[ "$vcpus" -gt 1 ] || { cpus="1 CPU"; online=0; }
	expect_end "smp: Brought up 1 node, $cpus"
	expect_out "vmm-init: /init is running"
	grep -q "insmod .* failed" "$work/out" && fail "a module did not load"
	expect_end "vmm-guest: nproc $vcpus"
	expect_end "vmm-guest: online $online"
	# The e820 RAM: everything but the 384 KiB legacy hole at 640 KiB. QEMU's
	# firmware reserves pieces of its own, so there only MemTotal is checked.
	local ram=$((memory_mib * 1024 * 1024 - 0x60000)) memtotal
	[ "$machine" = qemu ] || expect_out "vmm-guest: e820_ram_bytes $ram"
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

# The host side of the network tests: a namespace of our own, taps in it,
# and tcp_echo.py servers (one connection each) for the guest's blobs. The
# sizes are userspace.sh's: 64 and 16 blocks of 64 KiB.
big=$((64 * 65536)) small=$((16 * 65536))
net_setup() {
	ip netns add $ns || skip "cannot create a network namespace"
	ip netns exec $ns ip link set lo up
}

# add_tap NAME ADDRESS/LEN
add_tap() {
	ip netns exec $ns ip tuntap add dev "$1" mode tap
	ip netns exec $ns ip addr add "$2" dev "$1"
	ip netns exec $ns ip link set "$1" up
}

# start_echo NAME ADDRESS PORT BYTES: listening when this returns.
start_echo() {
	ip netns exec $ns python3 "$here/tcp_echo.py" "$2" "$3" "$4" >"$work/echo-$1" 2>&1 &
	echo_pids+=($!)
	for _ in $(seq 100); do grep -q listening "$work/echo-$1" && break; sleep 0.1; done
}

# Once the guest is gone, a server still waiting will get nothing more.
stop_echoes() {
	local pid f
	for pid in "${echo_pids[@]}"; do
		for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill "$pid" 2>/dev/null
		wait "$pid"
	done
	echo_pids=()
	for f in "$work"/echo-*; do sed "s/^/${f##*/}: /" "$f"; done >>"$work/out"
}

# check_echo NAME BYTES: the guest got its NAME blob back intact (its own
# cmp), and the host received all of it (tcp_echo.py's MD5 of what came in).
check_echo() {
	local sent
	expect_out "vmm-guest: $1 echo intact"
	sent=$(sed -n "s/.*vmm-guest: $1 sent \([0-9a-f]*\).*/\1/p" "$work/out")
	[ -n "$sent" ] || fail "the guest did not send its $1 blob"
	grep -qF "tcp echo: received $2 bytes, md5 $sent" "$work/echo-$1" ||
		fail "the host did not receive the $1 blob whole: $(tail -n 1 "$work/echo-$1")"
}

# check_driver MAC DRIVER: Linux bound the NIC with that MAC to DRIVER.
check_driver() {
	local got
	got=$(sed -n "s/.*vmm-guest: nic $1 is [^ ]*, driver \([a-z0-9_]*\).*/\1/p" "$work/out")
	[ "$got" = "$2" ] || fail "the NIC with MAC $1 is driven by ${got:-nothing}, expected $2"
}

# What every network run ends with: user space finished, the guest powered
# off and its exit status was 0.
check_end() {
	expect_out "vmm-guest: done"
	expect_out "reboot: Power down"
	[ "$status" -eq 0 ] || fail "$machine exit status $status, expected 0"
}

userspace() {
	local kernel=$1 user_transport=$2 tap_transport=$3
	truncate -s 64M "$work/pci.img" "$work/mmio.img"
	net_setup
	add_tap vmmtap0 10.0.3.1/24
	start_echo tap 10.0.3.1 5556 $big
	in_ns=(ip netns exec "$ns")
	run_linux "$kernel" "vmm.disk=disk-pci vmm.disk=disk-mmio vmm.net=user vmm.net=tap" \
		--disk "path=$work/pci.img,cache=none,serial=disk-pci" \
		--disk "path=$work/mmio.img,transport=mmio,serial=disk-mmio" \
		--network "user,transport=$user_transport,mac=52:54:00:12:34:01" \
		--network "tap=vmmtap0,transport=$tap_transport,mac=52:54:00:12:34:02"
	stop_echoes
	check_boot
	grep "vmm-guest: FAIL" "$work/out" && fail "a check inside the guest failed"
	check_driver 52:54:00:12:34:01 virtio_net
	check_driver 52:54:00:12:34:02 virtio_net
	expect_out "vmm-guest: user network up"
	check_echo tap $big
	check_end
	check_image disk-pci "$work/pci.img"
	check_image disk-mmio "$work/mmio.img"
	echo "/init after ${init_after:-?} s; power-off after $((SECONDS - started)) s"
	grep -A40 '^exits by vCPU' "$work/err"
}

# e1000_test vmm|qemu [side|bridge]: e1000s on user-mode NAT (MAC ..:01) and on
# vmmtap0 (..:02, 10.0.3.x); with side, a virtio-net NIC on vmmtap1 (..:03,
# 10.0.4.x) beside them; with bridge, the second e1000 on a tap vmm adds to
# the bridge vmmbr0 instead. The tap NIC's link goes down and up, then it pings
# and echoes again: the driver resets the device and rebuilds its rings.
e1000_test() {
	local on=$1 side=${2:-} cmdline="vmm.net=user vmm.net=tap vmm.linkcycle" nics=() wire="tap=vmmtap0"
	net_setup
	if [ "$side" = bridge ]; then
		# The host's end is a bridge; vmm adds a tap of its own to it.
		ip netns exec $ns ip link add vmmbr0 type bridge
		ip netns exec $ns ip addr add 10.0.3.1/24 dev vmmbr0
		ip netns exec $ns ip link set vmmbr0 up
		wire="bridge=vmmbr0" side=
	else
		add_tap vmmtap0 10.0.3.1/24
	fi
	start_echo tap 10.0.3.1 5556 $big
	start_echo relink 10.0.3.1 5558 $small
	if [ -n "$side" ]; then
		add_tap vmmtap1 10.0.4.1/24
		start_echo tap2 10.0.4.1 5557 $small
		cmdline+=" vmm.net=tap2"
	fi
	in_ns=(ip netns exec "$ns")
	if [ "$on" = qemu ]; then
		nics=(-netdev "user,id=u0" -device "e1000,netdev=u0,mac=52:54:00:12:34:01"
			-netdev "tap,id=t0,ifname=vmmtap0,script=no,downscript=no" -device "e1000,netdev=t0,mac=52:54:00:12:34:02")
		[ -z "$side" ] || nics+=(-netdev "tap,id=t1,ifname=vmmtap1,script=no,downscript=no"
			-device "virtio-net-pci,netdev=t1,disable-legacy=on,mac=52:54:00:12:34:03")
		run_qemu "$bzImage" "$cmdline" "${nics[@]}"
	else
		nics=(--network "user,model=e1000,mac=52:54:00:12:34:01" --network "$wire,model=e1000,mac=52:54:00:12:34:02")
		[ -z "$side" ] || nics+=(--network "tap=vmmtap1,mac=52:54:00:12:34:03")
		run_linux "$bzImage" "$cmdline" "${nics[@]}"
	fi
	stop_echoes
	check_boot
	grep "vmm-guest: FAIL" "$work/out" && fail "a check inside the guest failed"
	check_driver 52:54:00:12:34:01 e1000
	check_driver 52:54:00:12:34:02 e1000
	expect_out "vmm-guest: user network up"
	check_echo tap $big
	expect_out "vmm-guest: link cycle survived on"
	check_echo relink $small
	if [ -n "$side" ]; then
		check_driver 52:54:00:12:34:03 virtio_net
		check_echo tap2 $small
	fi
	check_end
	echo "$machine, $vcpus vCPUs: /init after ${init_after:-?} s; power-off after $((SECONDS - started)) s"
	[ "$machine" = qemu ] || grep -A40 '^exits by vCPU' "$work/err"
}

# nvme_test vmm|qemu: one NVMe disk, a fresh sparse 256 MiB raw image, and
# nothing else; Linux's nvme driver on it, over two boots (userspace.sh's
# nvme_check). First boot: the controller and namespace as sysfs shows them,
# mkfs.ext4, a 4 MiB file written, remounted and read back, then a 64 MiB
# file synced. Between the boots the host reads the 4 MiB file from the image
# and counts its allocated blocks; the second boot reads the file again,
# deletes the big one and runs fstrim, and the blocks it held must be gone
# from the image: the deallocation reached the host file as holes.
nvme_size=$((256 << 20)) nvme_serial=vmmnvme0
allocated() { echo $(($(stat -c '%b * %B' "$1"))); }
nvme_fail() {
	echo "--- nvme lines of the guest's output"
	grep -ai nvme "$work/out" | grep -v "vmm-guest: dmesg:" | tail -n 40
	fail "$@"
}
nvme_boot() {
	local step=$1 img=$work/nvme.img
	if [ "$machine" = qemu ]; then
		# discard=unmap: QEMU drops discards on the floor without it.
		run_qemu "$bzImage" "vmm.nvme=$step" \
			-drive "file=$img,if=none,id=nvm0,format=raw,discard=unmap" \
			-device "nvme,serial=$nvme_serial,drive=nvm0"
	else
		run_linux "$bzImage" "vmm.nvme=$step" --disk "path=$img,bus=nvme,serial=$nvme_serial"
	fi
	cp "$work/out" "$work/out.$step"
	grep -a "vmm-guest: FAIL" "$work/out" && nvme_fail "a check inside the guest failed ($step boot)"
	expect_end "vmm-guest: nvme $step done"
	check_end
	# What the guest saw, for the log (the driver's messages once).
	grep -a "vmm-guest: nvme" "$work/out" | tr -d '\r'
	[ "$step" = trim ] || grep -a "vmm-guest: dmesg:" "$work/out" | tr -d '\r'
}
# The value of a "vmm-guest: nvme NAME VALUE" line.
nvme_value() { sed -n "s/.*vmm-guest: nvme $1 \([^ ]*\).*/\1/p" "$work/out" | tr -d '\r' | head -n 1; }
nvme_test() {
	local img=$work/nvme.img want got v before after freed total=$SECONDS
	machine=$1
	truncate -s $nvme_size "$img"
	nvme_boot write
	check_boot
	v=$(nvme_value driver)
	[ "$v" = nvme ] || nvme_fail "the NVMe controller is driven by ${v:-nothing}, expected nvme"
	v=$(nvme_value serial)
	[ "$v" = $nvme_serial ] || nvme_fail "the controller's serial is '$v', expected $nvme_serial"
	v=$(nvme_value bytes)
	[ "$v" = $nvme_size ] || nvme_fail "nvme0n1 has ${v:-?} bytes, the image $nvme_size"
	v=$(nvme_value queues)
	[ "$v" = "$vcpus" ] || nvme_fail "nvme0n1 has ${v:-?} hardware queues, expected one per vCPU ($vcpus)"
	want=$(nvme_value data)
	[ -n "$want" ] || nvme_fail "the guest did not write its file"
	e2fsck -fn "$img" >"$work/fsck" 2>&1 || { cat "$work/fsck"; nvme_fail "the file system is not clean after the first boot"; }
	got=$(debugfs -R "cat /data" "$img" 2>/dev/null | md5sum | cut -d' ' -f1)
	[ "$got" = "$want" ] || nvme_fail "the image holds $got in /data, the guest wrote $want"
	before=$(allocated "$img")
	echo "first boot: /init after ${init_after:-?} s; power-off after $((SECONDS - started)) s; image: $((before >> 10)) KiB allocated"
	[ "$before" -ge $((68 << 20)) ] ||
		nvme_fail "the image has only $((before >> 10)) KiB allocated after the guest wrote 4 + 64 MiB: its writes did not reach it"

	nvme_boot trim
	v=$(nvme_value "data again")
	[ "$v" = "$want" ] || nvme_fail "the second boot read ${v:-nothing} from /data, the first wrote $want"
	e2fsck -fn "$img" >"$work/fsck" 2>&1 || { cat "$work/fsck"; nvme_fail "the file system is not clean after fstrim"; }
	got=$(debugfs -R "cat /data" "$img" 2>/dev/null | md5sum | cut -d' ' -f1)
	[ "$got" = "$want" ] || nvme_fail "after fstrim the image holds $got in /data, the guest wrote $want"
	debugfs -R "stat /big" "$img" 2>&1 | grep -q "File not found" || nvme_fail "/big is still in the image's file system"
	after=$(allocated "$img")
	freed=$((before - after))
	echo "second boot: power-off after $((SECONDS - started)) s; image: $((after >> 10)) KiB allocated, $((freed >> 10)) KiB freed by fstrim"
	[ "$freed" -ge $((56 << 20)) ] ||
		nvme_fail "fstrim freed $((freed >> 10)) KiB of the image ($((before >> 10)) KiB before, $((after >> 10)) KiB after), expected most of the 64 MiB file"
	echo "$machine, $vcpus vCPUs, NVMe: both boots in $((SECONDS - total)) s"
	[ "$machine" = qemu ] || grep -A40 '^exits by vCPU' "$work/err"
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
e1000)
	pvm_host && skip "kvm_pvm host: Linux user space cannot run here (the pvm mode checks what can)"
	e1000_test vmm side ;;
e1000-1cpu)
	pvm_host && skip "kvm_pvm host: Linux user space cannot run here (the pvm mode checks what can)"
	vcpus=1
	e1000_test vmm bridge ;;
e1000-qemu)
	pvm_host && skip "kvm_pvm host: Linux user space cannot run here (the pvm mode checks what can)"
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed"
	qemu-system-x86_64 -netdev help 2>/dev/null | grep -qx user || skip "this QEMU has no user-mode network"
	e1000_test qemu side ;;
nvme)
	pvm_host && skip "kvm_pvm host: Linux user space cannot run here (the pvm mode checks what can)"
	nvme_test vmm ;;
nvme-qemu)
	pvm_host && skip "kvm_pvm host: Linux user space cannot run here (the pvm mode checks what can)"
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed"
	qemu-system-x86_64 -device help 2>/dev/null | grep -q '"nvme"' || skip "this QEMU has no NVMe controller"
	nvme_test qemu ;;
pvm)
	pvm_host || skip "not a kvm_pvm host"
	# cryptomgr.notests and rodata=off skip the crypto self-tests and the W+X
	# page-table audit, tens of minutes when guest ring 0 is interpreted.
	limit=${VMM_LINUX_TIMEOUT:-2400} quiet_limit=${VMM_LINUX_QUIET:-2400}
	run_linux "$bzImage" "cryptomgr.notests rodata=off"
	expect_out "smp: Brought up 1 node, 2 CPUs"
	expect_out "Run /init as init process"
	# docs/linux-boot.md: SYSCALL from guest user space jumps to the kernel's
	# entry point still in ring 3, so /init dies on its first system call.
	expect_out "RIP: 0033:entry_SYSCALL_64"
	[ "$status" -eq 143 ] || fail "vmm exit status $status, expected 143 (stopped by the test)"
	echo "kvm_pvm host: the kernel booted and /init started in user mode after $((SECONDS - started)) s"
	grep -A40 '^exits by vCPU' "$work/err" ;;
*) echo "usage: linux.sh vmlinux|bzimage|reboot|e1000|e1000-1cpu|e1000-qemu|nvme|nvme-qemu|pvm"; exit 2 ;;
esac
echo "PASS: linux.$mode"
