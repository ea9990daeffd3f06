#include <string.h>

#include "acpi.h"
#include "memmap.h"
#include "suites.h"

#define BASE 0xe0000

static uint8_t buf[0x20000];

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

static const uint8_t *madt_of(unsigned nr_cpus)
{
	struct acpi_config cfg = { .nr_cpus = nr_cpus, .base = BASE };

	memset(buf, 0xee, sizeof(buf));
	ck_assert_uint_gt(acpi_build(buf, sizeof(buf), &cfg), 0);
	ck_assert_mem_eq(buf, "RSD PTR ", 8);
	ck_assert_uint_eq(buf[15], 2);                 /* revision: ACPI 2.0+ */
	ck_assert_uint_eq(sum(buf, 20), 0);
	ck_assert_uint_eq(u32(buf + 20), 36);
	ck_assert_uint_eq(sum(buf, 36), 0);
	const uint8_t *xsdt = at(u64(buf + 24));
	ck_assert_mem_eq(xsdt, "XSDT", 4);
	ck_assert_uint_eq(sum(xsdt, u32(xsdt + 4)), 0);
	ck_assert_uint_eq(u32(xsdt + 4), 36 + 2 * 8);   /* MADT and MCFG */
	const uint8_t *mcfg = at(u64(xsdt + 44));
	ck_assert_mem_eq(mcfg, "MCFG", 4);
	ck_assert_uint_eq(u32(mcfg + 4), 36 + 8 + 16);
	ck_assert_uint_eq(sum(mcfg, u32(mcfg + 4)), 0);
	ck_assert_uint_eq(u64(mcfg + 44), PCI_ECAM_BASE);
	ck_assert_uint_eq(mcfg[54], 0);                 /* buses 0 ... */
	ck_assert_uint_eq(mcfg[55], 255);               /* ... to 255 */
	const uint8_t *madt = at(u64(xsdt + 36));
	ck_assert_mem_eq(madt, "APIC", 4);
	ck_assert_uint_eq(sum(madt, u32(madt + 4)), 0);
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

START_TEST(test_buffer_too_small)
{
	struct acpi_config cfg = { .nr_cpus = 254, .base = BASE };

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
	tcase_add_test(tc, test_buffer_too_small);
	suite_add_tcase(s, tc);
	return s;
}
