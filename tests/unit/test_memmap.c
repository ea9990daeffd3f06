/* The memory map: RAM split around the hole, and the e820 table. */
#include <stdlib.h>
#include <string.h>

#include "guest_mem.h"
#include "memmap.h"
#include "suites.h"

static uint64_t ram_in_e820(const struct e820_entry *e, size_t n)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		if (e[i].type == E820_RAM)
			sum += e[i].size;
	return sum;
}

static void check_sorted_disjoint(const struct e820_entry *e, size_t n)
{
	for (size_t i = 1; i < n; i++)
		ck_assert_uint_le(e[i - 1].addr + e[i - 1].size, e[i].addr);
}

START_TEST(test_small_ram)
{
	struct memmap map;
	struct e820_entry e[E820_MAX_ENTRIES];

	memmap_init(&map, 256 * MiB);
	ck_assert_uint_eq(map.nr_ram, 1);
	ck_assert_uint_eq(map.ram[0].gpa, 0);
	ck_assert_uint_eq(map.ram[0].size, 256 * MiB);
	size_t n = memmap_e820(&map, e, E820_MAX_ENTRIES);
	ck_assert_uint_eq(n, 6);
	ck_assert_uint_eq(e[3].addr, RESET_VECTOR_PAGE);
	ck_assert_uint_eq(e[3].type, E820_RESERVED);
	ck_assert_uint_le(RESET_VECTOR_PAGE, RESET_VECTOR_ADDR);
	ck_assert_uint_eq(e[5].addr, PCI_ECAM_BASE);
	ck_assert_uint_eq(e[5].type, E820_RESERVED);
	check_sorted_disjoint(e, n);
	/* RAM minus the legacy hole between 640 KiB and 1 MiB */
	ck_assert_uint_eq(ram_in_e820(e, n), 256 * MiB - (KERNEL_MIN_ADDR - LOW_RAM_END));
	ck_assert_uint_eq(e[2].type, E820_ACPI);
	ck_assert_uint_eq(e[2].addr, ACPI_TABLES_ADDR);
}
END_TEST

START_TEST(test_ram_up_to_the_hole)
{
	struct memmap map;

	memmap_init(&map, MMIO_HOLE_START);
	ck_assert_uint_eq(map.nr_ram, 1);
	ck_assert_uint_eq(memmap_low_ram_end(&map), MMIO_HOLE_START);
}
END_TEST

START_TEST(test_large_ram_splits_around_the_hole)
{
	struct memmap map;
	struct e820_entry e[E820_MAX_ENTRIES];

	memmap_init(&map, 8 * GiB);
	ck_assert_uint_eq(map.nr_ram, 2);
	ck_assert_uint_eq(memmap_low_ram_end(&map), MMIO_HOLE_START);
	ck_assert_uint_eq(map.ram[1].gpa, 4 * GiB);
	ck_assert_uint_eq(map.ram[1].size, 8 * GiB - MMIO_HOLE_START);
	size_t n = memmap_e820(&map, e, E820_MAX_ENTRIES);
	ck_assert_uint_eq(n, 7);
	check_sorted_disjoint(e, n);
	ck_assert_uint_eq(ram_in_e820(e, n), 8 * GiB - (KERNEL_MIN_ADDR - LOW_RAM_END));
	for (size_t i = 0; i < n; i++)   /* no RAM in the hole */
		ck_assert(e[i].type != E820_RAM || e[i].addr + e[i].size <= MMIO_HOLE_START ||
			  e[i].addr >= MMIO_HOLE_END);
}
END_TEST

START_TEST(test_e820_truncates)
{
	struct memmap map;
	struct e820_entry e[2];

	memmap_init(&map, 8 * GiB);
	ck_assert_uint_eq(memmap_e820(&map, e, 2), 2);
}
END_TEST

START_TEST(test_guest_mem_bounds)
{
	uint8_t low[4096], high[4096];
	struct guest_mem gm = { .region = { { 0, sizeof(low), low }, { 1ull << 32, sizeof(high), high } },
				.nr_regions = 2 };
	uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	ck_assert_ptr_eq(guest_mem_ptr(&gm, 0, 4096), low);
	ck_assert_ptr_eq(guest_mem_ptr(&gm, 4095, 1), low + 4095);
	ck_assert_ptr_null(guest_mem_ptr(&gm, 4095, 2));
	ck_assert_ptr_null(guest_mem_ptr(&gm, 4096, 1));
	ck_assert_ptr_eq(guest_mem_ptr(&gm, (1ull << 32) + 8, 8), high + 8);
	ck_assert_ptr_null(guest_mem_ptr(&gm, UINT64_MAX, 2));
	ck_assert_ptr_null(guest_mem_ptr(&gm, 8, UINT64_MAX));
	ck_assert_ptr_null(guest_mem_ptr(&gm, (1ull << 32) - 4, 8));   /* spans the gap */
	ck_assert_int_eq(guest_mem_write(&gm, 100, buf, 8), 0);
	ck_assert_mem_eq(low + 100, buf, 8);
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(guest_mem_read(&gm, 100, buf, 8), 0);
	ck_assert_uint_eq(buf[7], 8);
	ck_assert_int_eq(guest_mem_write(&gm, 4092, buf, 8), -1);
	ck_assert_int_eq(guest_mem_read(&gm, 1ull << 40, buf, 1), -1);
}
END_TEST

Suite *memmap_suite(void)
{
	Suite *s = suite_create("memmap");
	TCase *tc = tcase_create("memmap");

	tcase_add_test(tc, test_small_ram);
	tcase_add_test(tc, test_ram_up_to_the_hole);
	tcase_add_test(tc, test_large_ram_splits_around_the_hole);
	tcase_add_test(tc, test_e820_truncates);
	tcase_add_test(tc, test_guest_mem_bounds);
	suite_add_tcase(s, tc);
	return s;
}
