/*
 * Writes the ACPI tables vmm builds for a given machine shape to files,
 * one per table (DSDT.dat, FACP.dat, ...), for `iasl -d` and for reading.
 * Usage: acpi_dump DIR [NR_CPUS [NR_VIRTIO_MMIO_DEVICES]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi.h"
#include "acpi_tables.h"
#include "machine.h"
#include "memmap.h"

static uint8_t tables[ACPI_TABLES_SIZE];

static int write_table(const char *dir, const struct acpi_header *h)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%.4s.dat", dir, h->signature);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(h, h->length, 1, f) != 1 || fclose(f) != 0) {
		fprintf(stderr, "acpi_dump: cannot write %s\n", path);
		return -1;
	}
	return 0;
}

static const struct acpi_header *at(uint64_t gpa)
{
	return (const struct acpi_header *)(tables + (gpa - ACPI_TABLES_ADDR));
}

int main(int argc, char **argv)
{
	struct acpi_mmio_device mmio[8];
	unsigned nr_mmio = argc > 3 ? (unsigned)atoi(argv[3]) : 0;

	if (argc < 2 || nr_mmio > 8) {
		fprintf(stderr, "usage: acpi_dump DIR [NR_CPUS [NR_VIRTIO_MMIO_DEVICES (at most 8)]]\n");
		return 2;
	}
	for (unsigned i = 0; i < nr_mmio; i++)
		mmio[i] = (struct acpi_mmio_device){ PLATFORM_MMIO_BASE + i * 0x1000ull, 0x1000, 5 + i };
	struct acpi_board board;
	machine_acpi_board(&board, false);
	struct acpi_config cfg = { argc > 2 ? (unsigned)atoi(argv[2]) : 1, ACPI_TABLES_ADDR, &board, mmio, nr_mmio };
	if (acpi_build(tables, sizeof(tables), &cfg) == 0) {
		fprintf(stderr, "acpi_dump: the tables do not fit\n");
		return 1;
	}
	const struct acpi_rsdp *rsdp = (const void *)tables;
	const struct acpi_header *xsdt = at(rsdp->xsdt_address);
	const struct acpi_fadt *fadt = NULL;
	int ret = write_table(argv[1], xsdt);
	for (uint32_t off = sizeof(*xsdt); ret == 0 && off < xsdt->length; off += 8) {
		uint64_t gpa;
		memcpy(&gpa, (const uint8_t *)xsdt + off, 8);
		if (!memcmp(at(gpa)->signature, "FACP", 4))
			fadt = (const void *)at(gpa);
		ret = write_table(argv[1], at(gpa));
	}
	if (ret == 0 && fadt)
		ret = write_table(argv[1], at(fadt->x_dsdt));
	return ret ? 1 : 0;
}
