#!/usr/bin/env bash
# Runs a firmware guest (or any PVH ELF kernel) under QEMU with KVM and the
# same machine vmm gives it: COM1 on stdio, isa-debug-exit at 0x501, no
# reboot on reset. The exit status follows the same contract as vmm's.
#   tools/qemu-guest.sh KERNEL [CMDLINE] [VCPUS] [MEMORY_MIB]
set -euo pipefail
if [ $# -lt 1 ]; then
	echo "usage: $0 KERNEL [CMDLINE] [VCPUS] [MEMORY_MIB]" >&2
	exit 2
fi
exec qemu-system-x86_64 -enable-kvm -nodefaults -display none -no-reboot \
	-smp "${3:-1}" -m "${4:-256}" \
	-serial stdio -device isa-debug-exit,iobase=0x501,iosize=1 \
	-kernel "$1" -append "${2:-}"
