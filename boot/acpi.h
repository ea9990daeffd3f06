/*
 * ACPI tables for the guest (ACPI 6.5, chapter 5): RSDP, XSDT, the MADT
 * that lists the processors and the IOAPIC, and the MCFG that announces
 * the PCI ECAM window. Built at a guest address for a kernel vmm loads, or
 * relocatable for firmware, which places them itself (boot/acpi_loader.h).
 */
#ifndef BOOT_ACPI_H
#define BOOT_ACPI_H

#include <stdbool.h>
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
	uint16_t sleep_port;          /* hardware-reduced: sleep control; sleep status is the next port */
	uint16_t pm_port;             /* else: PM1 event (4 ports), control (+4, 2) and timer (+8, 4); 0: none */
	uint8_t s5_sleep_type;
	uint16_t pci_config_port;     /* 8 ports: address and data */
	bool pci_ecam;                /* PCI Express host with ECAM and MCFG; else conventional PCI */
	uint64_t pci_mmio_base, pci_mmio_end;   /* the 32-bit BAR window */
	uint16_t rtc_port;            /* CMOS RTC (2 ports); 0: none */
	uint32_t rtc_gsi;
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

#define ACPI_MAX_POINTERS 16
#define ACPI_MAX_TABLES 8

/* An address field in the tables: size bytes at offset hold an offset into buf. */
struct acpi_pointer {
	uint32_t offset;
	uint8_t size;
	bool in_rsdp;            /* the field is in the RSDP (offset from its start) */
};

struct acpi_extent {
	uint32_t offset, length;
};

/* Where the tables and their address fields are, for whoever moves them. */
struct acpi_layout {
	struct acpi_extent rsdp;
	struct acpi_extent tables[ACPI_MAX_TABLES];   /* each with its checksum at +9 */
	unsigned nr_tables;
	struct acpi_pointer pointers[ACPI_MAX_POINTERS];
	unsigned nr_pointers;
};

/* As acpi_build() with cfg->base 0, so that every address is an offset into
 * buf, and says where those addresses and the tables are. */
size_t acpi_build_relocatable(uint8_t *buf, size_t size, const struct acpi_config *cfg,
			      struct acpi_layout *layout);

#endif
