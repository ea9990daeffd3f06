/* ACPI tables: checksums, lengths, the MADT per vCPU, FADT registers, DSDT devices and AML encodings. */
#include <string.h>

#include "acpi.h"
#include "acpi_tables.h"
#include "aml.h"
#include "memmap.h"
#include "suites.h"

#define BASE 0xe0000

static uint8_t buf[0x20000];

/* A PC's fixed devices, as vmm/machine.c describes them. */
static const struct acpi_board board = {
	.com1_port = 0x3f8, .com1_ports = 8, .com1_gsi = 4, .reset_port = 0x64, .reset_value = 0xfe,
	.sleep_port = 0x600, .s5_sleep_type = 5, .pci_config_port = 0xcf8, .pci_slots = 32,
	.pci_ecam = true, .pci_mmio_base = 0xc0000000, .pci_mmio_end = 0xe0000000,
	.pci_slot_gsi = { 16, 17, 18, 19, 20, 21, 22, 23, 16, 17, 18, 19, 20, 21, 22, 23,
			  16, 17, 18, 19, 20, 21, 22, 23, 16, 17, 18, 19, 20, 21, 22, 23 },
};

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s += *p++;
	return s;
}

static const uint8_t *at(uint64_t gpa)
{
	ck_assert_uint_ge(gpa, BASE);
	ck_assert_uint_lt(gpa, BASE + sizeof(buf));
	return buf + (gpa - BASE);
}

static uint32_t u32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t u64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* A table the XSDT lists, by signature; checks its checksum. */
static const uint8_t *find_table(const char *sig)
{
	const uint8_t *xsdt = at(u64(buf + 24));

	for (uint32_t off = 36; off < u32(xsdt + 4); off += 8) {
		const uint8_t *t = at(u64(xsdt + off));
		if (!memcmp(t, sig, 4)) {
			ck_assert_uint_eq(sum(t, u32(t + 4)), 0);
			return t;
		}
	}
	ck_abort_msg("no %s table", sig);
	return NULL;
}

static void build(const struct acpi_config *cfg)
{
	memset(buf, 0xee, sizeof(buf));
	ck_assert_uint_gt(acpi_build(buf, sizeof(buf), cfg), 0);
}

static const uint8_t *madt_of(unsigned nr_cpus)
{
	struct acpi_config cfg = { .nr_cpus = nr_cpus, .base = BASE, .board = &board };

	build(&cfg);
	ck_assert_mem_eq(buf, "RSD PTR ", 8);
	ck_assert_uint_eq(buf[15], 2);                 /* revision: ACPI 2.0+ */
	ck_assert_uint_eq(sum(buf, 20), 0);
	ck_assert_uint_eq(u32(buf + 20), 36);
	ck_assert_uint_eq(sum(buf, 36), 0);
	const uint8_t *xsdt = at(u64(buf + 24));
	ck_assert_mem_eq(xsdt, "XSDT", 4);
	ck_assert_uint_eq(sum(xsdt, u32(xsdt + 4)), 0);
	ck_assert_uint_eq(u32(xsdt + 4), 36 + 3 * 8);   /* FADT, MADT and MCFG */
	const uint8_t *mcfg = find_table("MCFG");
	ck_assert_uint_eq(u32(mcfg + 4), 36 + 8 + 16);
	ck_assert_uint_eq(u64(mcfg + 44), PCI_ECAM_BASE);
	ck_assert_uint_eq(mcfg[54], 0);                 /* buses 0 ... */
	ck_assert_uint_eq(mcfg[55], 255);               /* ... to 255 */
	const uint8_t *madt = find_table("APIC");
	ck_assert_uint_eq(u32(madt + 36), LAPIC_BASE);
	return madt;
}

static void check_madt(unsigned nr_cpus)
{
	const uint8_t *madt = madt_of(nr_cpus);
	const uint8_t *p = madt + 44, *end = madt + u32(madt + 4);
	unsigned lapics = 0, ioapics = 0, overrides = 0;

	for (; p < end; p += p[1]) {
		ck_assert_uint_ge(p[1], 2);
		switch (p[0]) {
		case 0:
			ck_assert_uint_eq(p[1], 8);
			ck_assert_uint_eq(p[3], lapics);          /* APIC ID = vCPU index */
			ck_assert_uint_eq(u32(p + 4) & 1, 1);     /* enabled */
			lapics++;
			break;
		case 1:
			ck_assert_uint_eq(u32(p + 4), IOAPIC_BASE);
			ioapics++;
			break;
		case 2:
			ck_assert_uint_eq(p[3], 0);               /* IRQ 0 ... */
			ck_assert_uint_eq(u32(p + 4), 2);         /* ... is GSI 2 */
			overrides++;
			break;
		default:
			ck_abort_msg("unexpected MADT entry type %u", p[0]);
		}
	}
	ck_assert_ptr_eq(p, end);
	ck_assert_uint_eq(lapics, nr_cpus);
	ck_assert_uint_eq(ioapics, 1);
	ck_assert_uint_eq(overrides, 1);
}

START_TEST(test_madt_one_cpu)
{
	check_madt(1);
}
END_TEST

START_TEST(test_madt_many_cpus)
{
	check_madt(2);
	check_madt(64);
	check_madt(254);
}
END_TEST

START_TEST(test_fadt_hardware_reduced)
{
	struct acpi_config cfg = { .nr_cpus = 2, .base = BASE, .board = &board };
	struct acpi_fadt f;

	build(&cfg);
	memcpy(&f, find_table("FACP"), sizeof(f));
	ck_assert_uint_eq(f.header.length, 276);
	ck_assert_uint_eq(f.header.revision, 6);
	ck_assert_uint_eq(f.flags & FADT_HW_REDUCED_ACPI, FADT_HW_REDUCED_ACPI);
	ck_assert_uint_eq(f.flags & FADT_RESET_REG_SUP, FADT_RESET_REG_SUP);
	ck_assert_uint_eq(f.reset_reg.space_id, ACPI_GAS_SYSTEM_IO);
	ck_assert_uint_eq(f.reset_reg.address, 0x64);
	ck_assert_uint_eq(f.reset_value, 0xfe);
	ck_assert_uint_eq(f.sleep_control_reg.address, 0x600);
	ck_assert_uint_eq(f.sleep_status_reg.address, 0x601);
	ck_assert_uint_eq(f.iapc_boot_arch & 2, 0);      /* no 8042 keyboard */
	ck_assert_uint_eq(f.iapc_boot_arch & 8, 0);      /* MSI works */
	ck_assert_uint_eq(f.x_dsdt, f.dsdt);
	const uint8_t *dsdt = at(f.x_dsdt);
	ck_assert_mem_eq(dsdt, "DSDT", 4);
	ck_assert_uint_eq(sum(dsdt, u32(dsdt + 4)), 0);
}
END_TEST

static bool contains(const uint8_t *p, size_t n, const void *what, size_t len)
{
	for (size_t i = 0; i + len <= n; i++)
		if (!memcmp(p + i, what, len))
			return true;
	return false;
}

static size_t count(const uint8_t *p, size_t n, const void *what, size_t len)
{
	size_t c = 0;
	for (size_t i = 0; i + len <= n; i++)
		c += !memcmp(p + i, what, len);
	return c;
}

START_TEST(test_dsdt_devices)
{
	const struct acpi_mmio_device mmio[3] = {
		{ 0xf0000000, 0x200, 5 }, { 0xf0000200, 0x200, 6 }, { 0xf0000400, 0x200, 7 },
	};
	struct acpi_config cfg = { .nr_cpus = 1, .base = BASE, .board = &board, .mmio_devices = mmio,
				   .nr_mmio_devices = 3 };
	struct acpi_fadt f;

	build(&cfg);
	memcpy(&f, find_table("FACP"), sizeof(f));
	const uint8_t *dsdt = at(f.x_dsdt);
	size_t len = u32(dsdt + 4);
	const uint8_t s5[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12 };   /* Name(\_S5_, Package */
	const uint8_t io_com1[] = { 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08 };
	const uint8_t mem_vr02[] = { 0x86, 0x09, 0x00, 0x01, 0x00, 0x04, 0x00, 0xf0, 0x00, 0x02, 0x00, 0x00 };
	const uint8_t irq7[] = { 0x89, 0x06, 0x00, 0x01, 0x01, 0x07, 0x00, 0x00, 0x00 };   /* level, high */

	ck_assert(contains(dsdt, len, s5, sizeof(s5)));
	ck_assert(contains(dsdt, len, "COM1", 4));
	ck_assert(contains(dsdt, len, io_com1, sizeof(io_com1)));
	ck_assert(contains(dsdt, len, "PCI0", 4));
	ck_assert(contains(dsdt, len, "_PRT", 4));
	ck_assert_uint_eq(count(dsdt, len, "LNRO0005", 8), 3);
	ck_assert(contains(dsdt, len, mem_vr02, sizeof(mem_vr02)));
	ck_assert(contains(dsdt, len, irq7, sizeof(irq7)));
}
END_TEST

START_TEST(test_aml_package_lengths)
{
	static uint8_t out[0x20000];
	struct aml a = { out, sizeof(out), 0, false };

	size_t small = aml_buffer(&a);   /* 1-byte PkgLength: < 64 bytes */
	aml_bytes(&a, "abc", 3);
	aml_end(&a, small);
	ck_assert_uint_eq(a.len, 1 + 1 + 5 + 3);
	ck_assert_uint_eq(out[1], 1 + 5 + 3);
	ck_assert_uint_eq(out[3], 3);    /* the buffer size after the DWordPrefix */

	a.len = 0;
	size_t two = aml_scope(&a, "\\_SB");   /* 2-byte PkgLength */
	for (int i = 0; i < 100; i++)
		aml_integer(&a, 0);
	aml_end(&a, two);
	size_t total = 5 + 100 + 2;     /* PkgLength counts itself, not the opcode */
	ck_assert_uint_eq(a.len, 1 + total);
	ck_assert_uint_eq(out[1], 0x40 | (total & 0xf));
	ck_assert_uint_eq(out[2], total >> 4);

	a.len = 0;
	size_t three = aml_package(&a, 0);   /* 3-byte PkgLength: >= 4096 bytes */
	for (int i = 0; i < 5000; i++)
		aml_integer(&a, 1);
	aml_end(&a, three);
	total = 3 + 1 + 5000;
	ck_assert_uint_eq(out[1], 0x80 | (total & 0xf));
	ck_assert_uint_eq(out[2], (total >> 4) & 0xff);
	ck_assert_uint_eq(out[3], total >> 12);
	ck_assert(!a.overflow);
}
END_TEST

START_TEST(test_aml_names_and_integers)
{
	uint8_t out[64];
	struct aml a = { out, sizeof(out), 0, false };

	aml_name_string(&a, "\\_SB.PCI0");
	ck_assert_mem_eq(out, "\\\x2e_SB_PCI0", 10);
	a.len = 0;
	aml_name_string(&a, "A.B.C");
	ck_assert_mem_eq(out, "\x2f\x03" "A___B___C___", 14);
	a.len = 0;
	aml_integer(&a, 0x12345678abull);
	ck_assert_uint_eq(out[0], 0x0e);
	ck_assert_uint_eq(a.len, 9);
	a.len = 0;
	aml_eisaid(&a, "PNP0A08");
	const uint8_t pnp0a08[] = { 0x0c, 0x41, 0xd0, 0x0a, 0x08 };
	ck_assert_mem_eq(out, pnp0a08, sizeof(pnp0a08));
	a.len = 0;
	for (int i = 0; i < 20; i++)
		aml_string(&a, "overflowing");
	ck_assert(a.overflow);
	ck_assert_uint_le(a.len, sizeof(out));
}
END_TEST

START_TEST(test_buffer_too_small)
{
	struct acpi_config cfg = { .nr_cpus = 254, .base = BASE, .board = &board };

	ck_assert_uint_eq(acpi_build(buf, 100, &cfg), 0);
	ck_assert_uint_eq(acpi_build(buf, 36, &cfg), 0);
}
END_TEST

Suite *acpi_suite(void)
{
	Suite *s = suite_create("acpi");
	TCase *tc = tcase_create("acpi");

	tcase_add_test(tc, test_madt_one_cpu);
	tcase_add_test(tc, test_madt_many_cpus);
	tcase_add_test(tc, test_fadt_hardware_reduced);
	tcase_add_test(tc, test_dsdt_devices);
	tcase_add_test(tc, test_aml_package_lengths);
	tcase_add_test(tc, test_aml_names_and_integers);
	tcase_add_test(tc, test_buffer_too_small);
	suite_add_tcase(s, tc);
	return s;
}
