#!/usr/bin/env bash
# Installs what building and testing vmm needs on Debian 12. Needs root
# only when something is missing: with everything installed it says so and
# succeeds for any user (the README's quick start runs it either way).
set -euo pipefail
packages=(build-essential cmake pkg-config check liburing-dev libslirp-dev libglib2.0-dev
	liblzma-dev zlib1g-dev libzstd-dev python3 qemu-system-x86 iproute2 iputils-ping acpica-tools e2fsprogs
	iperf3 gnuplot-nox seabios ovmf)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: everything vmm needs is installed"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing ${missing[*]}; run tools/install-deps.sh as root" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
