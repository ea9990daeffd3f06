/*
 * ACPI tables for the guest (ACPI 6.5, chapter 5): RSDP, XSDT, the MADT
 * that lists the processors and the IOAPIC, and the MCFG that announces
 * the PCI ECAM window.
 */
#ifndef BOOT_ACPI_H
#define BOOT_ACPI_H

#include <stddef.h>
#include <stdint.h>

/* A virtio-mmio device, described in the DSDT as LNRO0005. */
struct acpi_mmio_device {
	uint64_t base;
	uint32_t size;
	uint32_t gsi;
};

struct acpi_config {
	unsigned nr_cpus;       /* local APIC IDs 0 .. nr_cpus - 1 */
	uint64_t base;          /* guest physical address of buf[0] */
	const struct acpi_mmio_device *mmio_devices;
	unsigned nr_mmio_devices;
};

/* Builds the tables into buf; returns the bytes used, or 0 if buf is too small.
 * The RSDP is at the start of buf. */
size_t acpi_build(uint8_t *buf, size_t size, const struct acpi_config *cfg);

#endif
