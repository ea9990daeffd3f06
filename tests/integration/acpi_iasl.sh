#!/usr/bin/env bash
# Disassembles the ACPI tables vmm builds (tools/acpi_dump) with ACPICA's
# iasl and compiles the DSDT back: both must pass without errors or
# warnings. Machine shapes: 1 CPU without devices, 2 CPUs with 8
# virtio-mmio devices. Exit status 77 means SKIP (no iasl).
set -u
dump=$1
command -v iasl >/dev/null || { echo "SKIP: iasl (acpica-tools) is not installed"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

check() {
	local dir=$work/$1-$2
	mkdir -p "$dir"
	"$dump" "$dir" "$1" "$2" || { echo "FAIL: acpi_dump $1 $2"; exit 1; }
	for t in DSDT FACP APIC MCFG XSDT; do
		[ -s "$dir/$t.dat" ] || { echo "FAIL: no $t table"; exit 1; }
		(cd "$dir" && iasl -d "$t.dat") >"$dir/$t.log" 2>&1 || { cat "$dir/$t.log"; echo "FAIL: iasl -d $t"; exit 1; }
	done
	(cd "$dir" && iasl -tc DSDT.dsl) >"$dir/compile.log" 2>&1 || { cat "$dir/compile.log"; echo "FAIL: iasl DSDT.dsl"; exit 1; }
	grep -qE "Compilation successful. 0 Errors, 0 Warnings" "$dir/compile.log" ||
		{ cat "$dir/compile.log"; echo "FAIL: DSDT recompiles with warnings"; exit 1; }
	grep -c LNRO0005 "$dir/DSDT.dsl" | grep -qx "$2" || { echo "FAIL: $2 virtio-mmio devices expected"; exit 1; }
	grep -q "Processor Local APIC" "$dir/APIC.dsl" || { echo "FAIL: MADT without local APICs"; exit 1; }
	[ "$(grep -c 'Subtable Type : 00 \[Processor Local APIC\]' "$dir/APIC.dsl")" -eq "$1" ] ||
		{ echo "FAIL: MADT should have $1 local APICs"; exit 1; }
	grep -q "Hardware Reduced (V5) : 1" "$dir/FACP.dsl" || { echo "FAIL: FADT not hardware-reduced"; exit 1; }
}

check 1 0
check 2 8
echo "ACPI tables pass iasl"
