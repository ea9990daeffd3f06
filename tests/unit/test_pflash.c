/* The variable store's flash through the MMIO bus, as OVMF's QemuFlash.c drives it. */
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "pflash.h"
#include "suites.h"

#define BASE 0xffc00000ull
#define SIZE (4 * PFLASH_BLOCK_SIZE)

static struct bus mmio;
static uint8_t *array;
static struct pflash *flash;
static bool direct;
static unsigned mapping_changes;
static uint8_t file[SIZE];        /* the backing: what reached "the file" */
static unsigned backing_writes;
static bool backing_fails;

static void record_direct(void *ctx, bool on)
{
	(void)ctx;
	direct = on;
	mapping_changes++;
}

static int write_file(void *ctx, uint64_t offset, const uint8_t *data, size_t len)
{
	(void)ctx;
	ck_assert_uint_le(offset + len, SIZE);
	backing_writes++;
	if (backing_fails)
		return -1;
	memcpy(file + offset, data, len);
	return 0;
}

static void make_flash(bool readonly)
{
	flash = pflash_create(array, SIZE, readonly, (struct pflash_mapping){ record_direct, NULL },
			      (struct pflash_backing){ write_file, NULL });
	ck_assert_ptr_nonnull(flash);
	ck_assert_int_eq(bus_register(&mmio, BASE, SIZE, &pflash_ops, flash, "pflash"), 0);
}

static void setup(void)
{
	bus_init(&mmio, "mmio");
	array = malloc(SIZE);
	for (unsigned i = 0; i < SIZE; i++)
		array[i] = (uint8_t)(i * 7 + 1);
	memcpy(file, array, SIZE);
	direct = false;
	mapping_changes = 0;
	backing_writes = 0;
	backing_fails = false;
	make_flash(false);
}

static void teardown(void)
{
	bus_destroy(&mmio);
	pflash_destroy(flash);
	free(array);
}

static uint8_t rd(uint64_t off)
{
	uint8_t v;

	bus_read(&mmio, BASE + off, &v, 1);
	return v;
}

static void wr(uint64_t off, uint8_t v)
{
	bus_write(&mmio, BASE + off, &v, 1);
}

START_TEST(test_starts_reading_its_array_directly)
{
	ck_assert(direct);
	ck_assert_uint_eq(mapping_changes, 1);
	ck_assert_uint_eq(rd(0), array[0]);
	ck_assert_uint_eq(rd(SIZE - 1), array[SIZE - 1]);
	ck_assert_uint_eq(mapping_changes, 1);
}
END_TEST

/* QemuFlashDetected(): "clear status" leaves the array readable (not RAM), "read status" reads 0 (not ROM). */
START_TEST(test_ovmf_finds_flash)
{
	uint8_t original = rd(0x100);

	wr(0x100, 0x50);
	ck_assert_uint_ne(rd(0x100), 0x50);
	ck_assert_uint_eq(rd(0x100), original);
	ck_assert(direct);
	wr(0x100, 0x70);
	ck_assert(!direct);
	ck_assert_uint_eq(rd(0x100), 0x00);
	ck_assert_uint_eq(rd(0x2345), 0x00);                     /* the status, wherever it is read */
	wr(0x100, 0xff);
	ck_assert(direct);
	ck_assert_uint_eq(rd(0x100), original);
}
END_TEST

/* QemuFlashWrite(): 0x10 and the byte, for each byte; then read array. */
START_TEST(test_byte_program)
{
	array[0x1000] = 0xff;
	array[0x1001] = 0xff;
	wr(0x1000, 0x10);
	ck_assert(!direct);
	ck_assert_uint_eq(rd(0x1000), 0x80);                     /* waiting for the byte: the status */
	wr(0x1000, 0x5a);
	ck_assert_uint_eq(array[0x1000], 0x5a);
	ck_assert_uint_eq(rd(0x1000), 0x80);                     /* done: ready */
	wr(0x1001, 0x40);
	wr(0x1001, 0xa5);
	ck_assert_uint_eq(array[0x1001], 0xa5);
	wr(0x1001, 0xff);
	ck_assert(direct);
	ck_assert_uint_eq(rd(0x1001), 0xa5);
	struct pflash_stats st;
	pflash_get_stats(flash, &st);
	ck_assert_uint_eq(st.programs, 2);
}
END_TEST

/* NOR: programming only clears bits; an erase sets a whole block and nothing else. */
START_TEST(test_program_clears_bits_erase_sets_block)
{
	array[0x10] = 0x0f;
	wr(0x10, 0x10);
	wr(0x10, 0xf3);
	ck_assert_uint_eq(array[0x10], 0x03);
	uint8_t before = array[PFLASH_BLOCK_SIZE], last = array[PFLASH_BLOCK_SIZE - 1];
	wr(2 * PFLASH_BLOCK_SIZE + 0x123, 0x20);
	wr(2 * PFLASH_BLOCK_SIZE + 0x456, 0xd0);                 /* any address in the block */
	ck_assert_uint_eq(rd(0), 0x80);
	wr(0, 0xff);
	for (unsigned i = 0; i < PFLASH_BLOCK_SIZE; i++)
		ck_assert_uint_eq(array[2 * PFLASH_BLOCK_SIZE + i], 0xff);
	ck_assert_uint_eq(array[PFLASH_BLOCK_SIZE], before);     /* the neighbours keep theirs */
	ck_assert_uint_eq(array[PFLASH_BLOCK_SIZE - 1], last);
	ck_assert_uint_ne(array[3 * PFLASH_BLOCK_SIZE], 0xff);
	ck_assert_uint_eq(array[0x10], 0x03);
}
END_TEST

START_TEST(test_erase_without_confirm_is_a_sequence_error)
{
	uint8_t kept = array[0];

	wr(0, 0x20);
	wr(0, 0xff);                                             /* not 0xD0 */
	ck_assert_uint_eq(rd(0), 0xb0);                          /* ready, erase and program error */
	ck_assert_uint_eq(array[0], kept);
	wr(0, 0x50);                                             /* clear status */
	wr(0, 0x70);
	ck_assert_uint_eq(rd(0), 0x00);
	struct pflash_stats st;
	pflash_get_stats(flash, &st);
	ck_assert_uint_eq(st.erases, 0);
	ck_assert_uint_eq(st.refused, 1);
}
END_TEST

START_TEST(test_readonly_flash_refuses)
{
	teardown();
	setup();
	bus_unregister(&mmio, BASE);
	pflash_destroy(flash);
	make_flash(true);
	uint8_t kept = array[0x20];
	wr(0x20, 0x10);
	wr(0x20, 0x00);
	ck_assert_uint_eq(rd(0x20), 0x90);                       /* ready, program error */
	ck_assert_uint_eq(array[0x20], kept);
	wr(0, 0x50);
	wr(0, 0x20);
	wr(0, 0xd0);
	ck_assert_uint_eq(rd(0), 0xa0);                          /* ready, erase error */
	ck_assert_uint_ne(array[1], 0xff);
}
END_TEST

START_TEST(test_identifier_and_query)
{
	wr(0, 0x90);
	ck_assert_uint_eq(rd(0), 0x89);                          /* Intel */
	ck_assert_uint_eq(rd(1), 0x18);
	ck_assert_uint_eq(rd(PFLASH_BLOCK_SIZE + 2), 0);         /* block not locked */
	wr(0, 0x98);
	ck_assert_uint_eq(rd(0x10), 'Q');
	ck_assert_uint_eq(rd(0x11), 'R');
	ck_assert_uint_eq(rd(0x12), 'Y');
	ck_assert_uint_eq(rd(0x13), 1);                          /* Intel/Sharp command set */
	ck_assert_uint_eq(rd(0x27), 14);                         /* 16 KiB */
	ck_assert_uint_eq(rd(0x2c), 1);
	ck_assert_uint_eq(rd(0x2d) | rd(0x2e) << 8, 3);          /* 4 blocks */
	ck_assert_uint_eq(rd(0x2f) | rd(0x30) << 8, PFLASH_BLOCK_SIZE / 256);
	ck_assert_uint_eq(rd(0x1000), 0);
	wr(0, 0xff);
	ck_assert(direct);
}
END_TEST

/* Lock setup and its second cycle succeed: blocks are never locked. */
START_TEST(test_lock_commands_do_nothing)
{
	uint8_t kept = array[0];

	wr(0, 0x60);
	wr(0, 0x01);
	ck_assert_uint_eq(rd(0), 0x80);
	wr(0, 0x60);
	wr(0, 0xd0);
	ck_assert_uint_eq(rd(0), 0x80);
	wr(0, 0xff);
	ck_assert_uint_eq(rd(0), kept);
}
END_TEST

START_TEST(test_wide_program_and_bounds)
{
	uint32_t zero = 0, v;

	wr(0x200, 0x10);
	bus_write(&mmio, BASE + 0x200, (uint8_t *)&zero, 4);
	ck_assert(!memcmp(array + 0x200, &zero, 4));
	wr(0, 0xe8);                                             /* write to buffer: not here, back to the array */
	ck_assert(direct);
	bus_read(&mmio, BASE + SIZE - 2, (uint8_t *)&v, 4);     /* its last two bytes, then nothing */
	ck_assert_uint_eq(v, 0xffffu << 16 | array[SIZE - 1] << 8 | array[SIZE - 2]);
	wr(SIZE - 1, 0x10);
	bus_write(&mmio, BASE + SIZE - 1, (uint8_t *)&zero, 2);  /* straddles the end: ignored */
	ck_assert_uint_ne(array[SIZE - 1], 0);
	ck_assert_ptr_null(pflash_create(array, SIZE + 1, false, (struct pflash_mapping){ record_direct, NULL },
					 (struct pflash_backing){ 0 }));
	ck_assert_ptr_null(pflash_create(array, 0, false, (struct pflash_mapping){ record_direct, NULL },
					 (struct pflash_backing){ 0 }));
}
END_TEST

/* Every change reaches the file as it is made: the byte programmed, the block erased. */
START_TEST(test_changes_reach_the_backing)
{
	wr(0x30, 0x10);
	wr(0x30, 0x00);
	ck_assert_uint_eq(backing_writes, 1);
	ck_assert_uint_eq(file[0x30], 0);
	wr(PFLASH_BLOCK_SIZE + 9, 0x20);
	wr(PFLASH_BLOCK_SIZE + 9, 0xd0);
	ck_assert_uint_eq(backing_writes, 2);
	for (unsigned i = 0; i < PFLASH_BLOCK_SIZE; i++)
		ck_assert_uint_eq(file[PFLASH_BLOCK_SIZE + i], 0xff);
	ck_assert_mem_eq(file, array, SIZE);
	wr(0, 0x70);                                             /* reads and mode changes write nothing */
	rd(0);
	wr(0, 0xff);
	ck_assert_uint_eq(backing_writes, 2);
}
END_TEST

/* A file that takes no writes (a full disk): the change is undone and the command fails. */
START_TEST(test_backing_failure_is_a_flash_error)
{
	uint8_t kept = array[0x40], block[PFLASH_BLOCK_SIZE];

	backing_fails = true;
	wr(0x40, 0x10);
	wr(0x40, 0x00);
	ck_assert_uint_eq(rd(0x40), 0x90);                       /* ready, program error */
	ck_assert_uint_eq(array[0x40], kept);
	wr(0, 0x50);
	memcpy(block, array, PFLASH_BLOCK_SIZE);
	wr(0x10, 0x20);
	wr(0x10, 0xd0);
	ck_assert_uint_eq(rd(0x10), 0xa0);                       /* ready, erase error */
	ck_assert_mem_eq(array, block, PFLASH_BLOCK_SIZE);
	struct pflash_stats st;
	pflash_get_stats(flash, &st);
	ck_assert_uint_eq(st.programs + st.erases, 0);
	ck_assert_uint_eq(st.refused, 2);
	backing_fails = false;
	wr(0, 0x50);
	wr(0x40, 0x10);
	wr(0x40, 0x00);
	ck_assert_uint_eq(rd(0x40), 0x80);
	ck_assert_uint_eq(file[0x40], 0);
}
END_TEST

Suite *pflash_suite(void)
{
	Suite *s = suite_create("pflash");
	TCase *tc = tcase_create("pflash");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_starts_reading_its_array_directly);
	tcase_add_test(tc, test_ovmf_finds_flash);
	tcase_add_test(tc, test_byte_program);
	tcase_add_test(tc, test_program_clears_bits_erase_sets_block);
	tcase_add_test(tc, test_erase_without_confirm_is_a_sequence_error);
	tcase_add_test(tc, test_readonly_flash_refuses);
	tcase_add_test(tc, test_identifier_and_query);
	tcase_add_test(tc, test_lock_commands_do_nothing);
	tcase_add_test(tc, test_wide_program_and_bounds);
	tcase_add_test(tc, test_changes_reach_the_backing);
	tcase_add_test(tc, test_backing_failure_is_a_flash_error);
	suite_add_tcase(s, tc);
	return s;
}
