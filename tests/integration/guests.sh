#!/usr/bin/env bash
# Integration tests: boot firmware guests under vmm (and one under QEMU) and
# check their output and exit status. One case per ctest test:
#   guests.sh CASE     with VMM and FIRMWARE set by ctest.
# Exit status 77 means SKIP (no usable /dev/kvm, or no QEMU for the QEMU case).
set -u
case_name=$1
: "${VMM:?}" "${FIRMWARE:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; echo "--- stdout"; cat "$work/out" 2>/dev/null; echo "--- stderr"; cat "$work/err" 2>/dev/null; exit 1; }

kvm_usable() { [ -r /dev/kvm ] && [ -w /dev/kvm ] && "$VMM" info >/dev/null 2>&1; }

# Every case but the usage errors needs a working /dev/kvm. Inside the
# nested test machine there is one by construction: without it the machine
# is broken, and that is a failure, not a skip.
need_kvm() {
	kvm_usable && return
	[ "${VMM_TEST_MACHINE_INSIDE:-}" != nested ] || fail "the nested test machine has no usable /dev/kvm (kvm_amd not loaded?)"
	skip "/dev/kvm is missing or not usable by $(id -un)"
}

# run_vmm ARGS...: runs vmm with stdin from /dev/null; sets $status.
run_vmm() {
	timeout 60 "$VMM" run "$@" </dev/null >"$work/out" 2>"$work/err"
	status=$?
}

expect_status() { [ "$status" -eq "$1" ] || fail "exit status $status, expected $1"; }
expect_out() { grep -qF -- "$1" "$work/out" || fail "stdout lacks: $1"; }
expect_err() { grep -qF -- "$1" "$work/err" || fail "stderr lacks: $1"; }

case_demo() {
	need_kvm
	run_vmm --cmdline "hello from the test"
	expect_status 0
	expect_out "vmm demo guest: hello from a PVH guest in long mode"
	expect_out "vcpus: 1"
	expect_out "0000000000100000-000000000fffffff ram"
	expect_out "ram: 261760 KiB"
	expect_out 'cmdline: "hello from the test"'
	expect_out "ring 3: cpl 3, sum 500500"
	expect_out "demo guest done"
	[ ! -s "$work/err" ] || fail "unexpected stderr"
}

case_demo_large_memory() {
	need_kvm
	run_vmm --memory 4G --vcpus 2
	expect_status 0
	expect_out "vcpus: 2"
	expect_out "0000000000100000-00000000bfffffff ram"
	expect_out "0000000100000000-000000013fffffff ram"
	expect_out "ram: 4193920 KiB"
}

case_initrd() {
	need_kvm
	head -c 123457 /dev/urandom >"$work/initrd"
	run_vmm --initrd "$work/initrd"
	expect_status 0
	expect_out "initrd: 123457 bytes at 0x"
}

case_exception() {
	need_kvm
	run_vmm --kernel "$FIRMWARE/exception.elf"
	expect_status 5
	expect_out "EXCEPTION: vector 6 (#UD)"
	if grep -q "still running" "$work/out"; then fail "guest went on after ud2"; fi
}

case_triple_fault() {
	need_kvm
	run_vmm --kernel "$FIRMWARE/triple_fault.elf"
	expect_status 4
	expect_out "about to triple fault"
	expect_err "guest triple fault"
}

# int3 at CPL0 is a #BP with RIP past it, on hardware and, through vmm's
# recovery of the emulation failure, on a PVM host.
case_breakpoint() {
	need_kvm
	run_vmm --kernel "$FIRMWARE/breakpoint.elf"
	expect_status 5
	next=$(sed -n 's/.*the next instruction is at \(0x[0-9a-f]*\).*/\1/p' "$work/out")
	[ -n "$next" ] || fail "no address printed"
	expect_out "EXCEPTION: vector 3 (#BP) error 0x0 rip $next "
	if grep -q "still running" "$work/out"; then fail "guest went on after int3"; fi
	if grep -q "internal error" "$work/err"; then fail "int3 was not recovered"; fi
}

# An instruction the PVM emulator cannot run and vmm does not emulate: a
# clean stop naming it. Hardware just runs it.
case_unemulated() {
	need_kvm
	run_vmm --kernel "$FIRMWARE/unemulated.elf"
	expect_out "about to execute lock cmpxchg16b in ring 0"
	if [ "$status" -eq 4 ]; then
		expect_err "KVM internal error: suberror 1 (instruction emulation failed) at rip 0x"
		grep -qE "instruction bytes at rip: f0 48 0f c7( [0-9a-f]{2})+$" "$work/err" || fail "no instruction bytes"
	else
		expect_status 0
		expect_out "cmpxchg16b swapped: 3 4"
	fi
}

# Instructions vmm carries out for the PVM emulator; hardware runs them.
case_emulation() {
	need_kvm
	run_vmm --kernel "$FIRMWARE/emulation.elf" --stats
	expect_status 0
	expect_out "emulation checks done, 0 failures"
	if "$VMM" info | grep -q "pvm host: *yes"; then
		grep -qE "vcpu0 +[0-9]+ of them emulation failures vmm carried out" "$work/err" ||
			fail "no emulation failures counted on a PVM host"
	fi
}

case_cpuid() {
	need_kvm
	run_vmm --kernel "$FIRMWARE/cpuid.elf" --vcpus 2
	expect_status 0
	expect_out "2 cpus checked, 0 failures"
}

case_smp() {
	need_kvm
	run_vmm --kernel "$FIRMWARE/smp.elf" --vcpus 2
	expect_status 0
	expect_out "cpu 0 online (apic id 0), 2 cpus in the MADT"
	expect_out "cpu 1 online (apic id 1)"
	expect_out "2 of 2 cpus online"
}

# Input goes in only after the guest says it is ready: bytes that reach a
# 16550 before its driver resets the FIFOs are lost, as on real hardware.
case_console_input() {
	need_kvm
	mkfifo "$work/in"
	timeout 60 "$VMM" run --kernel "$FIRMWARE/echo.elf" <"$work/in" >"$work/out" 2>"$work/err" &
	pid=$!
	exec 3>"$work/in"
	for _ in $(seq 100); do grep -q "echo ready" "$work/out" && break; sleep 0.1; done
	printf 'hello\nsecond line\nquit\n' >&3
	exec 3>&-
	wait $pid
	status=$?
	expect_status 0
	expect_out "echo: hello"
	expect_out "echo: second line"
	expect_out "echo done"
}

case_debug_exit() {
	need_kvm
	for v in 0 1 42 127; do
		run_vmm --kernel "$FIRMWARE/exit_code.elf" --cmdline "exit=$v"
		expect_status $(((v << 1) | 1))
		expect_out "debug-exit $v"
	done
}

case_console_modes() {
	need_kvm
	run_vmm --console "file=$work/console.log"
	expect_status 0
	[ ! -s "$work/out" ] || fail "stdout not empty with --console file"
	grep -q "demo guest done" "$work/console.log" || fail "console file lacks the guest output"
	run_vmm --console none
	expect_status 0
	[ ! -s "$work/out" ] || fail "stdout not empty with --console none"
}

case_stats_and_trace() {
	need_kvm
	run_vmm --stats
	expect_status 0
	expect_err "exits by vCPU and reason:"
	grep -qE "vcpu0 +[0-9]+ io$" "$work/err" || fail "no io exit count"
	grep -qE "pio +0x000003f8 serial +[1-9][0-9]* reads +[1-9][0-9]* writes" "$work/err" || fail "no serial counts"
	grep -qE "i8042 +0 reads +1 writes" "$work/err" || fail "no i8042 reset write"
	run_vmm --trace --kernel "$FIRMWARE/exit_code.elf" --cmdline exit=3
	expect_status 7
	grep -qE "^vcpu0 pio-out +0x3f8 +size 1 value 0x64 +serial$" "$work/err" || fail "no traced 'd' to the serial port"
	grep -qE "^vcpu0 pio-out +0x501 +size 1 value 0x3 +debug-exit$" "$work/err" || fail "no traced debug-exit write"
}

# SIGTERM stops the VM cleanly, with every thread started: also with the
# NAT's and the disk workers' threads, which start before the vCPUs.
case_signal_stop() {
	need_kvm
	truncate -s 1M "$work/disk.img"
	for extra in "" "--network user --disk path=$work/disk.img,aio=threads --stats"; do
		mkfifo "$work/in"
		# shellcheck disable=SC2086
		"$VMM" run --kernel "$FIRMWARE/echo.elf" $extra <"$work/in" >"$work/out" 2>"$work/err" &
		pid=$!
		exec 3>"$work/in"
		for _ in $(seq 100); do grep -q "echo ready" "$work/out" && break; sleep 0.1; done
		kill -TERM $pid
		wait $pid
		status=$?
		exec 3>&-
		rm -f "$work/in"
		expect_status 143
		expect_err "stopped by Terminated"
		[ -z "$extra" ] || expect_err "exits by vCPU and reason:"
	done
}

# Each kind of thread runs under its own seccomp allow-list: one that makes
# a call outside it (VMM_SECCOMP_SELFTEST makes it) stops vmm with a line
# naming the thread and the call, status 159; with --seccomp off it goes on.
case_seccomp() {
	need_kvm
	truncate -s 1M "$work/disk.img"
	for kind in main vcpu io nat disk; do
		VMM_SECCOMP_SELFTEST=$kind run_vmm --kernel "$FIRMWARE/echo.elf" --seccomp on --network user \
			--disk "path=$work/disk.img,aio=threads"
		expect_status 159
		expect_err "vmm: seccomp: the $kind thread made system call 135, which it may not"
		[ "$(wc -l <"$work/err")" -eq 1 ] || fail "$kind: more than the one line on stderr"
	done
	VMM_SECCOMP_SELFTEST=vcpu run_vmm --seccomp off
	expect_status 0
	expect_out "demo guest done"
	running_threads_are_confined
}

# Every thread of a running vmm (main, vCPU, I/O, NAT, disk pool) has no
# capabilities left, no_new_privs and a seccomp filter.
running_threads_are_confined() {
	local t n=0
	mkfifo "$work/in"
	"$VMM" run --kernel "$FIRMWARE/echo.elf" --seccomp on --network user --disk "path=$work/disk.img,aio=threads" \
		<"$work/in" >"$work/out" 2>"$work/err" &
	local pid=$!
	exec 3>"$work/in"
	for _ in $(seq 100); do grep -q "echo ready" "$work/out" && break; sleep 0.1; done
	for t in /proc/$pid/task/*; do
		grep -q "^CapEff:[[:space:]]*0000000000000000$" "$t/status" || fail "thread ${t##*/} keeps capabilities"
		grep -q "^NoNewPrivs:[[:space:]]*1$" "$t/status" || fail "thread ${t##*/} lacks no_new_privs"
		grep -q "^Seccomp:[[:space:]]*2$" "$t/status" || fail "thread ${t##*/} has no seccomp filter"
		n=$((n + 1))
	done
	kill -TERM $pid
	wait $pid
	exec 3>&-
	[ "$n" -ge 5 ] || fail "only $n threads seen"
}

# SeaBIOS with a disk it cannot boot: its banner and its boot attempts on
# the serial console, "No bootable device", and the reset 5 s later
# (etc/boot-fail-wait) ends vmm with status 0.
case_firmware_no_disk() {
	need_kvm
	[ -r /usr/share/seabios/bios-256k.bin ] || [ -r /usr/share/qemu/bios-256k.bin ] ||
		fail "SeaBIOS is not installed (tools/install-deps.sh installs seabios)"
	truncate -s 1M "$work/blank.img"
	run_vmm --firmware bios --disk "path=$work/blank.img" --vcpus 2 --stats
	expect_status 0
	expect_out "SeaBIOS (version"
	expect_out "Booting from Hard Disk..."
	expect_out "No bootable device."
	expect_out "Retrying in 5 seconds."
}

# UEFI's variable store and PM registers as OVMF uses them, through a test
# firmware image of ours (firmware/rom/flash_test.S): OVMF itself cannot run
# in the nested test machine (docs/testing.md). Two boots: the first
# programs the store, the second finds what the first wrote, and the file
# holds it in between.
case_firmware_flash() {
	need_kvm
	head -c 16384 /dev/zero | tr '\0' 'Z' >"$work/vars.fd"
	run_vmm --firmware "$FIRMWARE/flash_test.rom" --firmware-vars "$work/vars.fd" --stats
	expect_status 0
	expect_out "flash-test: PM timer at 0xb008 runs"
	expect_out "flash-test: store begins 5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
	expect_out "flash-test: flash detected (status reads 0 after clear)"
	expect_out "flash-test: programmed and read back"
	[ "$(head -c 14 "$work/vars.fd")" = "vmm-flash-kept" ] || fail "the store's file lacks what the guest programmed"
	[ "$(tail -c +17 "$work/vars.fd" | head -c 4080 | tr -d '\377' | wc -c)" -eq 0 ] ||
		fail "the erase left other bytes than 0xff in block 0"
	[ "$(tail -c +4097 "$work/vars.fd" | tr -d Z | wc -c)" -eq 0 ] || fail "the erase reached past block 0"
	run_vmm --firmware "$FIRMWARE/flash_test.rom" --firmware-vars "$work/vars.fd"
	expect_status 0
	expect_out "flash-test: store begins 766d6d2d666c6173682d6b6570740000"
	run_vmm --firmware "$FIRMWARE/flash_test.rom" --firmware-vars "$work/missing.fd"
	expect_status 2
	expect_err "--firmware-vars $work/missing.fd: No such file or directory"
}

case_usage_errors() {
	printf 'not an elf' >"$work/bad.elf"
	: >"$work/empty"
	mkfifo "$work/fifo"
	ln -s "$work/console.log" "$work/link.log"
	truncate -s 1M "$work/disk.img"
	truncate -s 100000 "$work/odd.bin"     # not a multiple of 4 KiB
	truncate -s 17M "$work/huge.bin"       # more than 16 MiB
	# A bzImage cut short of what its header (syssize) promises.
	if [ -n "${SRC:-}" ] && "$SRC/tools/linux-guest.py" >"$work/paths" 2>/dev/null; then
		# shellcheck disable=SC1091
		. "$work/paths"
		head -c 2000000 "$bzImage" >"$work/cut.bzImage"
	fi
	local -a cases=(
		"--vcpus 0"
		"--vcpus 9999"
		"--memory 12Q"
		"--memory 4"
		"--memory 100000G"
		"--bogus"
		"--kernel"
		"--kernel $work/missing.elf"
		"--kernel $work/empty"
		"--kernel $work"
		"--kernel $work/bad.elf"
		"--kernel $work/fifo"
		"--initrd $work/fifo"
		"--initrd $work/missing.img"
		"--disk path=$work/fifo,readonly=on"
		"--disk $work/disk.img --disk path=$work/disk.img"
		"--console tty"
		"--console file=$work/link.log"
		"--network tap=t0,colour=red"
		"--firmware $work/missing.bin"
		"--firmware $work/odd.bin"
		"--firmware $work/huge.bin"
		"--firmware $work/bad.elf"
		"--firmware-vars $work/vars.fd"
		"--firmware bios --firmware-vars $work/vars.fd"
		"--firmware uefi --firmware-vars $work/odd.bin"
		"--firmware uefi --firmware-vars $work/huge.bin"
		"--firmware uefi --firmware-vars $work/fifo"
		"--firmware uefi --firmware-vars $work"
		"--firmware /usr/share/OVMF/OVMF_CODE_4M.fd --firmware-vars $work/missing.fd"
		"--firmware bios --kernel $work/bad.elf"
		"--boot hd"
		"--firmware bios --disk $work/disk.img --boot disk=2"
		"--firmware bios --disk $work/disk.img,transport=mmio"
	)
	[ -f "$work/cut.bzImage" ] && cases+=("--kernel $work/cut.bzImage")
	for args in "${cases[@]}"; do
		# Every one of these is found before /dev/kvm is opened: here it is /dev/null.
		# shellcheck disable=SC2086
		timeout 20 unshare -m sh -c "mount --bind /dev/null /dev/kvm 2>/dev/null; exec \"\$@\"" vmm \
			"$VMM" run $args </dev/null >"$work/out" 2>"$work/err"
		status=$?
		[ "$status" -eq 2 ] || fail "'vmm run $args': exit status $status, expected 2"
		[ "$(wc -l <"$work/err")" -eq 1 ] || fail "'vmm run $args': expected one line on stderr"
		grep -q '^vmm: ' "$work/err" || fail "'vmm run $args': message lacks the vmm: prefix"
		grep -q 'kvm\|KVM' "$work/err" && fail "'vmm run $args': reached /dev/kvm: $(cat "$work/err")"
	done
	timeout 20 "$VMM" run --disk "$work/disk.img" --disk "path=$work/disk.img" </dev/null 2>"$work/err"
	expect_err "the same image as --disk $work/disk.img"
	timeout 20 "$VMM" run --network tap=t0,colour=red </dev/null 2>"$work/err"
	expect_err "--network: unknown or misplaced key 'colour'"
	timeout 20 "$VMM" frobnicate >/dev/null 2>"$work/err"
	[ $? -eq 2 ] || fail "unknown command: expected status 2"
	"$VMM" --help | grep -q "usage: vmm" || fail "vmm --help"
	"$VMM" run --help | grep -q -- "--memory SIZE" || fail "vmm run --help"
	"$VMM" --version | grep -qE "^vmm [0-9]" || fail "vmm --version"
}

case_info() {
	need_kvm
	"$VMM" info >"$work/out" 2>"$work/err" || fail "vmm info failed"
	expect_out "api version:        12"
	expect_out "KVM_CAP_IRQCHIP"
	expect_out "pvm host:"
}

# The virtio-blk guest writes, flushes and reads back; the host checks the image.
#   blk_run TRANSPORT CACHE SEED [MORE DISK OPTIONS]
blk_run() {
	local transport=$1 cache=$2 seed=$3 more=${4:+,$4}
	rm -f "$work/disk.img"
	truncate -s 16M "$work/disk.img"
	run_vmm --kernel "$FIRMWARE/virtio_blk.elf" --vcpus 2 \
		--disk "path=$work/disk.img,cache=$cache,transport=$transport,serial=test-serial-0123$more" \
		--cmdline "transport=$transport seed=$seed sector=64"
	expect_status 0
	expect_out "virtio-blk over $transport"
	expect_out 'serial: "test-serial-0123"'
	expect_out "virtio-blk test passed"
	if [ "$transport" = pci ]; then expect_out "msi-x interrupts:"; fi
	python3 "$(dirname "$0")/blk_pattern.py" "$work/disk.img" "$seed" 64 >>"$work/out" ||
		fail "image content after cache=$cache transport=$transport"
}

case_blk_pci() {
	need_kvm
	for cache in writeback none writethrough directsync unsafe; do blk_run pci $cache 3; done
}

case_blk_mmio() {
	need_kvm
	for cache in writeback none writethrough directsync unsafe; do blk_run mmio $cache 11; done
}

# Disk options at their limits: a path with a comma (QEMU's ,,), the
# thread-pool engine, and more vCPUs (so queues) than io_uring has room for.
case_blk_options() {
	need_kvm
	truncate -s 16M "$work/a,b.img"
	run_vmm --vcpus 129 --disk "path=$work/a,,b.img"
	expect_status 0
	expect_out "demo guest done"
	blk_run pci none 5 aio=threads
	blk_run mmio writethrough 6 aio=threads
}

# SIGKILL, the moment the guest has been told: what it was told is done is
# on the image. With the write cache off (none reports it on, so it is
# flushed too; writethrough and directsync write through) every
# acknowledged write; with writeback every flushed one. (A killed vmm
# leaves the host's page cache behind; that writes reach stable storage
# is what the open flags and the flush tests in unit.block check.)
case_blk_crash() {
	need_kvm
	for mode in none:flushed writethrough:acked directsync:acked writeback:flushed unsafe:flushed; do
		local cache=${mode%%:*} when=${mode#*:}
		rm -f "$work/disk.img"
		truncate -s 16M "$work/disk.img"
		"$VMM" run --kernel "$FIRMWARE/virtio_blk.elf" \
			--disk "path=$work/disk.img,cache=$cache" --cmdline "seed=9 sector=32 crash=$when" \
			</dev/null >"$work/out" 2>"$work/err" &
		local pid=$!
		for _ in $(seq 300); do grep -q "waiting to be killed" "$work/out" && break; sleep 0.1; done
		kill -KILL $pid
		wait $pid
		expect_out "waiting to be killed"
		python3 "$(dirname "$0")/blk_pattern.py" "$work/disk.img" 9 32 >>"$work/out" ||
			fail "cache=$cache: what the guest was told is done ($when) is not on the image"
	done
}

case_blk_readonly() {
	need_kvm
	truncate -s 16M "$work/disk.img"
	run_vmm --kernel "$FIRMWARE/virtio_blk.elf" --disk "path=$work/disk.img,readonly=on"
	expect_status 3
	expect_out "a write did not return OK"
	python3 "$(dirname "$0")/blk_pattern.py" "$work/disk.img" 0 0 0 >/dev/null || fail "a read-only image changed"
}

case_disk_errors() {
	need_kvm
	truncate -s 1000 "$work/odd.img"
	truncate -s 1M "$work/disk.img"
	local -a cases=(
		"--disk path=$work/missing.img"
		"--disk path=$work/odd.img"
		"--disk path=$work/disk.img,cache=fast"
		"--disk path=$work/disk.img,colour=red"
		"--disk path=$work/disk.img,transport=isa"
		"--disk path=$work/disk.img,queues=0"
		"--disk path=$work/disk.img,serial=123456789012345678901"
		"--disk cache=none"
	)
	for args in "${cases[@]}"; do
		# shellcheck disable=SC2086
		timeout 20 "$VMM" run $args </dev/null >"$work/out" 2>"$work/err"
		status=$?
		[ "$status" -eq 2 ] || fail "'vmm run $args': exit status $status, expected 2"
		[ "$(wc -l <"$work/err")" -eq 1 ] || fail "'vmm run $args': expected one line on stderr"
	done
	# A second VMM may not open an image the first one is writing.
	mkfifo "$work/in"
	"$VMM" run --kernel "$FIRMWARE/echo.elf" --disk "$work/disk.img" <"$work/in" >"$work/out1" 2>&1 &
	pid=$!
	exec 3>"$work/in"
	for _ in $(seq 100); do grep -q "echo ready" "$work/out1" && break; sleep 0.1; done
	timeout 20 "$VMM" run --disk "$work/disk.img" </dev/null >"$work/out" 2>"$work/err"
	status=$?
	printf 'quit\n' >&3
	exec 3>&-
	wait $pid
	expect_status 2
	expect_err "in use by another process"
}

# The virtio-net guest on a tap (or a bridge) in a network namespace of our
# own: the host side receives its datagrams, pings it and has it echo
# datagrams. net_setup MODE makes the namespace; net_check RUNNER... runs the
# guest with RUNNER (vmm or QEMU) beside the host side and checks both.
ns=vmmnet$$

# start_peer [ip netns exec NS] ARGS...: net_peer.py in the background, listening when this returns.
start_peer() {
	"$@" >"$work/peer" 2>&1 &
	peer=$!
	for _ in $(seq 100); do grep -q listening "$work/peer" && break; sleep 0.1; done
}

net_setup() {
	ip netns add "$ns" 2>/dev/null || skip "cannot create a network namespace"
	trap 'ip netns del '"$ns"' 2>/dev/null; rm -rf "$work"' EXIT
	ip netns exec "$ns" ip link set lo up
	if [ "$1" = bridge ]; then
		ip netns exec "$ns" ip link add vmmbr0 type bridge
		ip netns exec "$ns" ip addr add 10.0.2.1/24 dev vmmbr0
		ip netns exec "$ns" ip link set vmmbr0 up
	else
		ip netns exec "$ns" ip tuntap add dev vmmtap0 mode tap
		ip netns exec "$ns" ip addr add 10.0.2.1/24 dev vmmtap0
		ip netns exec "$ns" ip link set vmmtap0 up
	fi
}

net_check() {
	start_peer ip netns exec "$ns" python3 "$(dirname "$0")/net_peer.py" 10.0.2.15 10.0.2.1 5555 200 1000 300
	ip netns exec "$ns" timeout 120 "$@" </dev/null >"$work/out" 2>"$work/err"
	status=$?
	# On failure, the namespace's link counters say where frames stopped.
	wait $peer || { cat "$work/peer"; ip netns exec "$ns" ip -s link; fail "the host side of the network test failed"; }
	cat "$work/peer" >>"$work/out"
	expect_status 0
	expect_out "mac 52:54:00:aa:bb:cc ip 10.0.2.15"
	expect_out "received 200 datagrams of 1000 bytes from the guest, all intact"
	expect_out "ping: 20 of 20 answered"
	expect_out "300 datagrams echoed byte for byte"
	expect_out "virtio-net test passed"
}

net_run() {
	local transport=$1
	net_setup tap
	net_check "$VMM" run --kernel "$FIRMWARE/virtio_net.elf" --stats \
		--network "tap=vmmtap0,transport=$transport,mac=52:54:00:aa:bb:cc" \
		--cmdline "ip=10.0.2.15 peer=10.0.2.1 peer_port=5555 count=200 size=1000 transport=$transport"
	expect_out "virtio-net over $transport"
	ip netns exec "$ns" ip link show vmmtap0 >/dev/null || fail "vmm removed a tap it did not create"
}

case_net_bridge() {
	need_kvm
	net_setup bridge
	net_check "$VMM" run --kernel "$FIRMWARE/virtio_net.elf" --stats \
		--network "bridge=vmmbr0,mac=52:54:00:aa:bb:cc,queues=2" \
		--cmdline "ip=10.0.2.15 peer=10.0.2.1 peer_port=5555 count=200 size=1000"
	# The tap vmm made for the bridge went with it.
	[ -z "$(ip netns exec "$ns" ip -o link show master vmmbr0)" ] || fail "a tap is left on the bridge"
	timeout 20 ip netns exec "$ns" "$VMM" run --network bridge=nosuchbr </dev/null >/dev/null 2>"$work/err"
	status=$?
	expect_status 2
	expect_err "no such bridge"
}

# User-mode NAT: the guest takes a DHCP lease from libslirp, reaches a UDP
# echo server on the host's loopback through 10.0.2.2 (and checks what comes
# back), and a hostfwd port on 127.0.0.1 reaches its own echo service. No
# namespace and no privileges needed.
case_net_user() {
	need_kvm
	local port=$((20000 + $$ % 20000)) fwd=$((40000 + $$ % 20000))
	start_peer python3 "$(dirname "$0")/net_peer.py" 127.0.0.1 127.0.0.1 "$port" 100 1000 200 "$fwd" noping echo
	timeout 120 "$VMM" run --kernel "$FIRMWARE/virtio_net.elf" --stats \
		--network "user,mac=52:54:00:aa:bb:cc,hostfwd=udp:127.0.0.1:$fwd-:7" \
		--cmdline "ip=dhcp peer=10.0.2.2 peer_port=$port count=100 size=1000" \
		</dev/null >"$work/out" 2>"$work/err"
	status=$?
	wait $peer || { cat "$work/peer"; fail "the host side of the user network test failed"; }
	cat "$work/peer" >>"$work/out"
	expect_status 0
	expect_out "dhcp lease 10.0.2.15 from 10.0.2.2"
	expect_out "received 100 datagrams of 1000 bytes from the guest, all intact"
	# UDP may lose datagrams through the NAT (libslirp loses about 8 of this
	# burst here, none of them in our queue); what comes back must be intact.
	local good
	good=$(sed -nE 's/^pattern echoes: ([0-9]+) good, 0 bad.*/\1/p' "$work/out" | tr -d '\r')
	[ -n "$good" ] && [ "$good" -ge 75 ] || fail "fewer than 75 of 100 pattern echoes came back intact"

	expect_out "200 datagrams echoed byte for byte"
	expect_out "virtio-net test passed"
}

# Our virtio-net driver against QEMU's virtio-net-pci on the same kind of tap.
case_net_qemu() {
	need_kvm
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed"
	net_setup tap
	net_check "$(dirname "$0")/../../tools/qemu-guest.sh" "$FIRMWARE/virtio_net.elf" \
		"ip=10.0.2.15 peer=10.0.2.1 peer_port=5555 count=200 size=1000" \
		-netdev tap,id=n0,ifname=vmmtap0,script=no,downscript=no \
		-device virtio-net-pci,netdev=n0,disable-legacy=on,mac=52:54:00:aa:bb:cc
}

case_net_tap_pci() {
	need_kvm
	net_run pci
}

case_net_tap_mmio() {
	need_kvm
	net_run mmio
}

# The same guests under QEMU: identical output apart from the memory map,
# and the same debug-exit status.
case_qemu() {
	need_kvm
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed"
	qemu="$(dirname "$0")/../../tools/qemu-guest.sh"
	timeout 120 "$qemu" "$FIRMWARE/demo.elf" "hello from the test" </dev/null >"$work/out" 2>"$work/err"
	status=$?
	expect_status 0
	expect_out "demo guest done"
	qemu_lines=$(grep -vE '^ +[0-9a-f]{16}-|^ram: ' "$work/out" | tr -d '\r')
	run_vmm --cmdline "hello from the test"
	vmm_lines=$(grep -vE '^ +[0-9a-f]{16}-|^ram: ' "$work/out" | tr -d '\r')
	[ "$qemu_lines" = "$vmm_lines" ] || fail "output differs from QEMU's apart from the memory map"
	timeout 120 "$qemu" "$FIRMWARE/smp.elf" "" -smp 2 </dev/null >"$work/out" 2>"$work/err"
	status=$?
	expect_status 0
	expect_out "2 of 2 cpus online"
	timeout 120 "$qemu" "$FIRMWARE/exit_code.elf" "exit=21" </dev/null >"$work/out" 2>"$work/err"
	status=$?
	expect_status 43
	# Our virtio-blk driver against QEMU's device: the check of the driver behind the blk tests.
	truncate -s 16M "$work/disk.img"
	timeout 120 "$qemu" "$FIRMWARE/virtio_blk.elf" "seed=21 sector=8" -drive "if=none,id=d0,file=$work/disk.img,format=raw" \
		-device virtio-blk-pci,drive=d0,disable-legacy=on,serial=qemu-serial </dev/null >"$work/out" 2>"$work/err"
	status=$?
	expect_status 0
	expect_out 'serial: "qemu-serial"'
	expect_out "msi-x interrupts:"
	expect_out "virtio-blk test passed"
	python3 "$(dirname "$0")/blk_pattern.py" "$work/disk.img" 21 8 >/dev/null || fail "image after QEMU"
}

"case_${case_name//-/_}"
echo "PASS: $case_name"
