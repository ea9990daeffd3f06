#!/usr/bin/env bash
# Installs what building and testing vmm needs on Debian 12 (run as root).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
	build-essential cmake pkg-config check liburing-dev libslirp-dev libglib2.0-dev \
	liblzma-dev zlib1g-dev libzstd-dev python3 qemu-system-x86 iproute2 iputils-ping acpica-tools e2fsprogs
