/*
 * Finds the processors in the ACPI MADT (ACPI 6.5, sections 5.2.5 RSDP,
 * 5.2.8 XSDT, 5.2.12 MADT). The RSDP comes from hvm_start_info or, as on a
 * PC, from a scan of the BIOS area.
 */
#include "acpi_tables.h"
#include "fw.h"

static bool checksum_ok(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t sum = 0;
	while (n--)
		sum += *b++;
	return sum == 0;
}

static const struct acpi_rsdp *find_rsdp(void)
{
	if (boot_info.rsdp)
		return (const void *)(uintptr_t)boot_info.rsdp;
	for (uintptr_t a = 0xe0000; a < 0x100000; a += 16) {
		const struct acpi_rsdp *r = (const void *)a;
		if (!memcmp(r->signature, "RSD PTR ", 8) && checksum_ok(r, ACPI_RSDP_V1_LENGTH))
			return r;
	}
	return NULL;
}

static const struct acpi_header *find_table(const char *sig)
{
	const struct acpi_rsdp *rsdp = find_rsdp();
	if (!rsdp)
		return NULL;
	bool wide = rsdp->revision >= 2 && rsdp->xsdt_address;
	const struct acpi_header *root = (const void *)(uintptr_t)(wide ? rsdp->xsdt_address : rsdp->rsdt_address);
	size_t entry_size = wide ? 8 : 4;
	size_t n = (root->length - sizeof(*root)) / entry_size;
	const uint8_t *entries = (const uint8_t *)(root + 1);

	for (size_t i = 0; i < n; i++) {
		uint64_t a = 0;
		memcpy(&a, entries + i * entry_size, entry_size);
		const struct acpi_header *t = (const void *)(uintptr_t)a;
		if (!memcmp(t->signature, sig, 4) && checksum_ok(t, t->length))
			return t;
	}
	return NULL;
}

int acpi_cpu_apic_ids(uint8_t *ids, int max)
{
	const struct acpi_header *madt = find_table("APIC");
	int n = 0;

	if (!madt)
		return 0;
	const uint8_t *p = (const uint8_t *)madt + sizeof(*madt) + 8;
	const uint8_t *end = (const uint8_t *)madt + madt->length;
	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		if (p[0] == MADT_TYPE_LOCAL_APIC && p[1] >= 8 && (p[4] & MADT_LAPIC_ENABLED) && n < max)
			ids[n++] = p[3];
		p += p[1];
	}
	return n;
}
