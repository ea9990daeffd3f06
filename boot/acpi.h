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

#define ACPI_MAX_PCI_SLOTS 32

/* Where the machine's fixed devices are: the tables describe, vmm decides (vmm/machine.c). */
struct acpi_board {
	uint16_t com1_port, com1_ports;
	uint32_t com1_gsi;
	uint16_t reset_port;          /* FADT reset register: writing reset_value resets */
	uint8_t reset_value;
	uint16_t sleep_port;          /* sleep control; sleep status is the next port */
	uint8_t s5_sleep_type;
	uint16_t pci_config_port;     /* 8 ports: address and data */
	unsigned pci_slots;
	uint32_t pci_slot_gsi[ACPI_MAX_PCI_SLOTS];   /* INTA of each slot on bus 0 */
};

struct acpi_config {
	unsigned nr_cpus;       /* local APIC IDs 0 .. nr_cpus - 1 */
	uint64_t base;          /* guest physical address of buf[0] */
	const struct acpi_board *board;
	const struct acpi_mmio_device *mmio_devices;
	unsigned nr_mmio_devices;
};

/* Builds the tables into buf; returns the bytes used, or 0 if buf is too small.
 * The RSDP is at the start of buf. */
size_t acpi_build(uint8_t *buf, size_t size, const struct acpi_config *cfg);

#endif
