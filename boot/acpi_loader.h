/*
 * QEMU's ACPI table loader script ("etc/table-loader" in fw_cfg), with which
 * SeaBIOS and OVMF place vmm's tables: allocate the two files, patch each
 * address field with where they went, fix the checksums; see acpi_loader.c.
 */
#ifndef BOOT_ACPI_LOADER_H
#define BOOT_ACPI_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "acpi.h"

#define ACPI_LOADER_TABLES_FILE "etc/acpi/tables"
#define ACPI_LOADER_RSDP_FILE "etc/acpi/rsdp"
#define ACPI_LOADER_ENTRY_SIZE 128
#define ACPI_LOADER_FILE_MAX 56

enum acpi_loader_command {
	ACPI_LOADER_ALLOCATE = 1,
	ACPI_LOADER_ADD_POINTER = 2,
	ACPI_LOADER_ADD_CHECKSUM = 3,
};

enum acpi_loader_zone {
	ACPI_LOADER_ZONE_HIGH = 1,   /* RAM the firmware reserves below its end */
	ACPI_LOADER_ZONE_FSEG = 2,   /* the BIOS's F segment, where an OS looks for the RSDP */
};

/* The most commands a layout can need: two allocations, the pointers, the checksums. */
#define ACPI_LOADER_MAX_ENTRIES (2 + ACPI_MAX_POINTERS + ACPI_MAX_TABLES + 2)

/*
 * The script for tables built by acpi_build_relocatable() with this layout:
 * the tables file is the whole buffer, the RSDP file its first bytes.
 * Returns the bytes written (a multiple of 128), or 0 if out is too small.
 */
size_t acpi_loader_build(const struct acpi_layout *layout, uint8_t *out, size_t size);

#endif
