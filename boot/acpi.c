/*
 * ACPI table builder (ACPI 6.5: 5.2.5 RSDP, 5.2.6 table header, 5.2.8 XSDT,
 * 5.2.12 MADT; MCFG from the PCI Firmware Specification 3.2, 4.1.2). Tables are laid out one after another, 16-byte aligned,
 * after the RSDP; every table gets its checksum last.
 */
#include "acpi.h"

#include <string.h>

#include "acpi_tables.h"
#include "memmap.h"

#define ACPI_OEM_ID "VMM   "
#define ACPI_OEM_TABLE_ID "VMMTABLE"
#define ACPI_CREATOR_ID 0x204d4d56   /* "VMM " */

struct madt_local_apic {
	uint8_t type, length, processor_uid, apic_id;
	uint32_t flags;
} __attribute__((packed));

struct madt_io_apic {
	uint8_t type, length, io_apic_id, reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));

struct madt_override {
	uint8_t type, length, bus, source;
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));

#define MADT_PCAT_COMPAT 1

struct builder {
	uint8_t *buf;
	size_t size, used;
	uint64_t base;
};

static uint8_t checksum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t sum = 0;
	while (n--)
		sum += *b++;
	return (uint8_t)-sum;
}

/* Reserves n bytes at a 16-byte boundary; NULL when the buffer is full. */
static void *reserve(struct builder *b, size_t n)
{
	size_t at = (b->used + 15) & ~(size_t)15;
	if (at > b->size || n > b->size - at)
		return NULL;
	b->used = at + n;
	memset(b->buf + at, 0, n);
	return b->buf + at;
}

static uint64_t gpa_of(const struct builder *b, const void *p)
{
	return b->base + (uint64_t)((const uint8_t *)p - b->buf);
}

static void header_init(struct acpi_header *h, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	h->creator_id = ACPI_CREATOR_ID;
	h->creator_revision = 1;
}

static void table_finish(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = checksum(h, h->length);
}

static struct acpi_header *build_madt(struct builder *b, unsigned nr_cpus)
{
	size_t len = sizeof(struct acpi_header) + 8 + nr_cpus * sizeof(struct madt_local_apic) +
		     sizeof(struct madt_io_apic) + sizeof(struct madt_override);
	uint8_t *t = reserve(b, len);
	if (!t)
		return NULL;
	header_init((struct acpi_header *)t, "APIC", (uint32_t)len, 5);
	uint32_t lapic = LAPIC_BASE, flags = MADT_PCAT_COMPAT;
	memcpy(t + sizeof(struct acpi_header), &lapic, 4);
	memcpy(t + sizeof(struct acpi_header) + 4, &flags, 4);
	uint8_t *p = t + sizeof(struct acpi_header) + 8;
	for (unsigned i = 0; i < nr_cpus; i++, p += sizeof(struct madt_local_apic)) {
		struct madt_local_apic e = { MADT_TYPE_LOCAL_APIC, sizeof(e), (uint8_t)i, (uint8_t)i,
					     MADT_LAPIC_ENABLED };
		memcpy(p, &e, sizeof(e));
	}
	struct madt_io_apic io = { MADT_TYPE_IO_APIC, sizeof(io), 0, 0, IOAPIC_BASE, 0 };
	memcpy(p, &io, sizeof(io));
	p += sizeof(io);
	/* ISA IRQ 0 (the PIT) is wired to IOAPIC pin 2, as on every PC. */
	struct madt_override irq0 = { MADT_TYPE_OVERRIDE, sizeof(irq0), 0, 0, 2, 0 };
	memcpy(p, &irq0, sizeof(irq0));
	table_finish((struct acpi_header *)t);
	return (struct acpi_header *)t;
}

/* The ECAM window: bus 0-255 of segment 0. */
static struct acpi_header *build_mcfg(struct builder *b)
{
	struct {
		uint64_t base;
		uint16_t segment;
		uint8_t start_bus, end_bus;
		uint32_t reserved;
	} __attribute__((packed)) alloc = { PCI_ECAM_BASE, 0, 0, (uint8_t)(PCI_ECAM_SIZE / MiB - 1), 0 };
	size_t len = sizeof(struct acpi_header) + 8 + sizeof(alloc);
	uint8_t *t = reserve(b, len);

	if (!t)
		return NULL;
	header_init((struct acpi_header *)t, "MCFG", (uint32_t)len, 1);
	memcpy(t + sizeof(struct acpi_header) + 8, &alloc, sizeof(alloc));
	table_finish((struct acpi_header *)t);
	return (struct acpi_header *)t;
}

size_t acpi_build(uint8_t *buf, size_t size, const struct acpi_config *cfg)
{
	struct builder b = { buf, size, 0, cfg->base };
	struct acpi_rsdp *rsdp = reserve(&b, sizeof(*rsdp));
	struct acpi_header *madt = rsdp ? build_madt(&b, cfg->nr_cpus) : NULL;
	struct acpi_header *mcfg = madt ? build_mcfg(&b) : NULL;
	const struct acpi_header *tables[] = { madt, mcfg };
	size_t nr_tables = sizeof(tables) / sizeof(tables[0]);
	uint8_t *xsdt = mcfg ? reserve(&b, sizeof(struct acpi_header) + 8 * nr_tables) : NULL;

	if (!xsdt)
		return 0;
	header_init((struct acpi_header *)xsdt, "XSDT", (uint32_t)(sizeof(struct acpi_header) + 8 * nr_tables), 1);
	for (size_t i = 0; i < nr_tables; i++) {
		uint64_t a = gpa_of(&b, tables[i]);
		memcpy(xsdt + sizeof(struct acpi_header) + 8 * i, &a, 8);
	}
	table_finish((struct acpi_header *)xsdt);

	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, ACPI_OEM_ID, 6);
	rsdp->revision = 2;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_address = gpa_of(&b, xsdt);
	rsdp->checksum = checksum(rsdp, ACPI_RSDP_V1_LENGTH);
	rsdp->extended_checksum = checksum(rsdp, sizeof(*rsdp));
	return b.used;
}
