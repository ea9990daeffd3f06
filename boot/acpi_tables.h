/*
 * ACPI table layouts (ACPI 6.5, 5.2.5 RSDP and 5.2.6 the system description
 * table header), shared by the table builder and the firmware that reads them.
 */
#ifndef BOOT_ACPI_TABLES_H
#define BOOT_ACPI_TABLES_H

#include <stdint.h>

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;         /* revision 2 and later */
	uint64_t xsdt_address;
	uint8_t extended_checksum;
	uint8_t reserved[3];
} __attribute__((packed));

#define ACPI_RSDP_V1_LENGTH 20
#define MADT_TYPE_LOCAL_APIC 0
#define MADT_TYPE_IO_APIC 1
#define MADT_TYPE_OVERRIDE 2
#define MADT_LAPIC_ENABLED 1

#endif
