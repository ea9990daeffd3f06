#!/usr/bin/env bash
# Builds vmm twice, with ASan + UBSan and with warnings as errors: the unit
# tests, the fuzz corpora and a disk and a NIC guest under the sanitizers,
# then every ctest test but linux.pvm (label pvm-boot: twenty minutes of
# interpreted ring 0 on kvm_pvm hosts) and the runs on QEMU's own devices
# (label qemu-reference: linux.e1000-qemu, linux.nvme-qemu; QEMU's e1000 has
# stalled there once), which run apart. This is the README's test
# command and what CI runs. Guest tests run on hardware-assisted KVM: the
# host's, or the nested test machine's (tools/testvm.py, docs/testing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

cmake -S . -B build-asan -DVMM_WERROR=ON -DVMM_SANITIZE=ON
cmake --build build-asan -j"$jobs"
ctest --test-dir build-asan --output-on-failure -j"$jobs" -R "^(unit|fuzz)\.|^guest\.(blk-pci|net-tap-pci)$"

cmake -S . -B build -DVMM_WERROR=ON
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs" -LE "pvm-boot|qemu-reference"
