#!/usr/bin/env bash
# Boots the disk image tools/disk-image.py makes through standard firmware,
# under vmm and under QEMU (the reference vmm is held to).
#   disk_image.sh vmm-bios|vmm-bios-nvme|vmm-uefi|vmm-uefi-nvme|qemu-bios|qemu-bios-nvme|qemu-uefi
#   with SRC (and VMM for vmm-*) set by ctest
# vmm-bios, vmm-bios-nvme: `vmm run --firmware bios` with Debian's SeaBIOS,
#   the disk on virtio-blk or NVMe; the same checks as QEMU's below.
# vmm-uefi, vmm-uefi-nvme: `vmm run --firmware uefi` with Debian's OVMF and
#   --firmware-vars, a file vmm makes from OVMF's template on the first
#   boot; the checks of qemu-uefi.
# qemu-bios: Debian's SeaBIOS (QEMU's -M pc) from a virtio-blk disk: GRUB's
#   menu on the serial console, Linux mounts the root partition and writes
#   to it, `poweroff -f` ends QEMU with status 0, and the image, read on the
#   host, holds the boot's record. qemu-bios-nvme: the same from an NVMe
#   disk. qemu-uefi: Debian's OVMF (OVMF_CODE_4M.fd read-only, a copy of
#   OVMF_VARS_4M.fd for this VM) on -M q35 from virtio-blk: GRUB for EFI,
#   Linux writes a UEFI variable, and a second boot finds it in the
#   variable store.
set -u
mode=$1
: "${SRC:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
limit=${VMM_DISK_TIMEOUT:-240}

fail() {
	echo "FAIL: $*"
	echo "--- console (last 40 lines)"; tail -n 40 "$work/console" 2>/dev/null | tr -d '\033'
	exit 1
}
expect() { grep -qF -- "$1" "$work/console" || fail "console lacks: $1"; }

[ -r /dev/kvm ] || fail "no /dev/kvm: this test runs on hardware-assisted KVM (tools/testvm.py)"
case "$mode" in
*-uefi*)
	if [ "${VMM_TEST_MACHINE_INSIDE:-}" = nested ]; then
		echo "SKIP: OVMF cannot run in the nested test machine: the outer QEMU's AMD-V emulation aborts on" \
			"OVMF's CR8 writes (docs/testing.md); this test needs a host with VT-x/AMD-V"
		exit 77
	fi ;;
esac
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 is missing (tools/install-deps.sh)"
"$SRC/tools/disk-image.py" --output "$work/disk.img" || fail "tools/disk-image.py could not build the image"

case "$mode" in
vmm-bios)       firmware=(--firmware bios); disk=(--disk "path=$work/disk.img") ;;
vmm-bios-nvme)  firmware=(--firmware bios); disk=(--disk "path=$work/disk.img,bus=nvme,serial=vmmdisk") ;;
vmm-uefi)       firmware=(--firmware uefi --firmware-vars "$work/vars.fd"); disk=(--disk "path=$work/disk.img") ;;
vmm-uefi-nvme)
	firmware=(--firmware uefi --firmware-vars "$work/vars.fd")
	disk=(--disk "path=$work/disk.img,bus=nvme,serial=vmmdisk") ;;
qemu-bios)      firmware=(-M pc); disk=(-device virtio-blk-pci,drive=d0) ;;
qemu-bios-nvme) firmware=(-M pc); disk=(-device nvme,drive=d0,serial=vmmdisk) ;;
qemu-uefi)
	"$SRC/tools/disk-image.py" --ovmf >"$work/ovmf" || fail "cannot fetch Debian's ovmf package"
	. "$work/ovmf"
	cp "$ovmf_vars" "$work/vars.fd"
	firmware=(-M q35 -drive "if=pflash,format=raw,readonly=on,file=$ovmf_code"
		  -drive "if=pflash,format=raw,file=$work/vars.fd")
	disk=(-device virtio-blk-pci,drive=d0) ;;
*) fail "unknown mode $mode" ;;
esac

run_vmm() {
	rm -f "$work/console"
	timeout "$limit" "${VMM:?}" run "${firmware[@]}" --vcpus 2 --memory 512 --console "file=$work/console" \
		"${disk[@]}"
}

run_qemu() {
	rm -f "$work/console"
	timeout "$limit" qemu-system-x86_64 -enable-kvm -cpu host -smp 2 -m 512 -nodefaults -display none \
		-no-reboot -serial "file:$work/console" "${firmware[@]}" \
		-drive "file=$work/disk.img,format=raw,if=none,id=d0" "${disk[@]}"
}

run_guest() {
	case "$mode" in
	vmm-*) run_vmm ;;
	*) run_qemu ;;
	esac
}

boot() {
	local start=$SECONDS status
	run_guest
	status=$?
	# With -no-reboot a guest's triple fault ends QEMU with status 0 too, its console cut
	# short: in the nested test machine its emulated AMD-V does that now and then
	# (docs/testing.md). Such a boot is made once more; a second one stands.
	if [ "$status" -eq 0 ] && ! grep -qF "vmm-disk: done" "$work/console"; then
		echo "boot $1: QEMU ended before the guest's power-off (a reset: with -no-reboot, a triple fault); once more"
		run_guest
		status=$?
	fi
	[ "$status" -eq 0 ] || fail "$mode ended with status $status (124: no power-off within $limit s)"
	echo "boot $1: $((SECONDS - start)) s"
	expect "GNU GRUB"
	expect "vmm-init: /init is running"
	expect "vmm-disk: root /dev/"
	expect "vmm-disk: done"
}

uefi=false
case "$mode" in *-uefi*) uefi=true ;; esac
boot 1
if $uefi; then
	expect "vmm-disk: GRUB efi"
	expect "vmm-disk: efi variable written"
	boot 2
	expect "vmm-disk: efi variable found: written-by-the-guest"
else
	expect "vmm-disk: GRUB pc"
fi
grep -a "vmm-disk: root" "$work/console" | head -n 1

# The root file system, read on the host: one line per boot in /var/boots.
start=$(python3 -c "import struct; d = open('$work/disk.img', 'rb').read(512); \
print(struct.unpack_from('<I', d, 446 + 16 + 8)[0] * 512)")
dd if="$work/disk.img" of="$work/root.img" bs=1M iflag=skip_bytes skip="$start" status=none
e2fsck -fn "$work/root.img" >/dev/null 2>&1 || fail "the root file system is not clean after power-off"
boots=$(debugfs -R "cat /var/boots" "$work/root.img" 2>/dev/null | grep -c '^booted ')
want=1
$uefi && want=2
[ "$boots" -eq "$want" ] || fail "the image records $boots boots, not $want"
echo "PASS: disk.$mode"
