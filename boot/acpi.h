/*
 * ACPI tables for the guest (ACPI 6.5, chapter 5): RSDP, XSDT, the MADT
 * that lists the processors and the IOAPIC, and the MCFG that announces
 * the PCI ECAM window.
 */
#ifndef BOOT_ACPI_H
#define BOOT_ACPI_H

#include <stddef.h>
#include <stdint.h>

struct acpi_config {
	unsigned nr_cpus;       /* local APIC IDs 0 .. nr_cpus - 1 */
	uint64_t base;          /* guest physical address of buf[0] */
};

/* Builds the tables into buf; returns the bytes used, or 0 if buf is too small.
 * The RSDP is at the start of buf. */
size_t acpi_build(uint8_t *buf, size_t size, const struct acpi_config *cfg);

#endif
