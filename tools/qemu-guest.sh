#!/usr/bin/env bash
# Runs a firmware guest (or any PVH ELF kernel) under QEMU with KVM and the
# same machine vmm gives it: COM1 on stdio, isa-debug-exit at 0x501, no
# reboot on reset. The exit status follows the same contract as vmm's.
#   tools/qemu-guest.sh KERNEL [CMDLINE [QEMU OPTIONS...]]
# e.g. a disk: tools/qemu-guest.sh build/firmware/virtio_blk.elf "seed=1" \
#        -drive if=none,id=d0,file=disk.img,format=raw -device virtio-blk-pci,drive=d0,disable-legacy=on
set -euo pipefail
if [ $# -lt 1 ]; then
	echo "usage: $0 KERNEL [CMDLINE [QEMU OPTIONS...]]" >&2
	exit 2
fi
kernel=$1
cmdline=${2:-}
shift $(($# < 2 ? $# : 2))
exec qemu-system-x86_64 -enable-kvm -nodefaults -display none -no-reboot -m 256 \
	-serial stdio -device isa-debug-exit,iobase=0x501,iosize=1 \
	-kernel "$kernel" -append "$cmdline" "$@"
