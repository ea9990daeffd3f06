/* fw_cfg driven through its ports as SeaBIOS drives it: items, the file directory, DMA. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_guest.h"
#include "fw_cfg.h"
#include "suites.h"

#define DESC_GPA 0x2000
#define BUF_GPA 0x10000

static struct fake_guest g;
static struct fw_cfg *fc;

static void setup(void)
{
	fake_guest_init(&g, 8);
	fc = fw_cfg_create(&g.mem);
	ck_assert_ptr_nonnull(fc);
}

static void teardown(void)
{
	fw_cfg_destroy(fc);
	fake_guest_free(&g);
}

static void select_key(uint16_t key)
{
	uint8_t v[2] = { (uint8_t)key, (uint8_t)(key >> 8) };

	fw_cfg_ops.write(fc, 0, v, 2);
}

static uint8_t data_byte(void)
{
	uint8_t v = 0xaa;

	fw_cfg_ops.read(fc, 1, &v, 1);
	return v;
}

static void read_data(void *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((uint8_t *)out)[i] = data_byte();
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* An FWCfgDmaAccess at DESC_GPA, started with SeaBIOS's one outl of the low half at 0x518. */
static uint32_t dma(uint32_t control, uint32_t len, uint64_t gpa)
{
	uint8_t *d = fake_ptr(&g, DESC_GPA), reg[4];

	put_be32(d, control);
	put_be32(d + 4, len);
	put_be32(d + 8, (uint32_t)(gpa >> 32));
	put_be32(d + 12, (uint32_t)gpa);
	put_be32(reg, DESC_GPA);
	fw_cfg_ops.write(fc, 8, reg, 4);
	return be32(d);
}

START_TEST(test_signature_and_id)
{
	char sig[4];
	uint8_t id[4];

	select_key(FW_CFG_SIGNATURE);
	read_data(sig, 4);
	ck_assert_mem_eq(sig, "QEMU", 4);
	ck_assert_uint_eq(data_byte(), 0);   /* past the end */
	select_key(FW_CFG_ID);
	read_data(id, 4);
	ck_assert_uint_eq(id[0], 3);          /* traditional interface and DMA */
	select_key(FW_CFG_SIGNATURE);         /* selecting rewinds */
	ck_assert_uint_eq(data_byte(), 'Q');
	ck_assert_uint_eq(data_byte(), 'E');
	uint8_t dma_reg[8];
	fw_cfg_ops.read(fc, 4, dma_reg, 4);
	fw_cfg_ops.read(fc, 8, dma_reg + 4, 4);
	ck_assert_mem_eq(dma_reg, "QEMU CFG", 8);
}
END_TEST

START_TEST(test_file_directory)
{
	uint8_t e820[20] = { 1, 2, 3 }, dir[4 + 2 * 64];

	ck_assert_int_eq(fw_cfg_add_file(fc, "etc/e820", e820, sizeof(e820)), 0);
	ck_assert_int_eq(fw_cfg_add_file(fc, "bootorder", "/pci@i0cf8/*@1\n", 16), 0);
	select_key(FW_CFG_FILE_DIR);
	read_data(dir, sizeof(dir));
	ck_assert_uint_eq(be32(dir), 2);
	ck_assert_uint_eq(be32(dir + 4), 20);
	ck_assert_uint_eq(dir[8] << 8 | dir[9], FW_CFG_FILE_FIRST);
	ck_assert_str_eq((char *)dir + 12, "etc/e820");
	ck_assert_uint_eq(be32(dir + 68), 16);
	ck_assert_uint_eq(dir[72] << 8 | dir[73], FW_CFG_FILE_FIRST + 1);
	ck_assert_str_eq((char *)dir + 76, "bootorder");
	select_key(FW_CFG_FILE_FIRST);
	ck_assert_uint_eq(data_byte(), 1);
	select_key(FW_CFG_FILE_FIRST + 1);
	ck_assert_uint_eq(data_byte(), '/');
}
END_TEST

START_TEST(test_refusals)
{
	char name[FW_CFG_NAME_MAX + 1];

	ck_assert_int_eq(fw_cfg_add_file(fc, "etc/sercon-port", "\xf8\x03", 2), 0);
	ck_assert_int_eq(fw_cfg_add_file(fc, "etc/sercon-port", "\xf8\x03", 2), -1);   /* twice */
	ck_assert_int_eq(fw_cfg_add_file(fc, "", "", 0), -1);
	memset(name, 'a', FW_CFG_NAME_MAX);
	name[FW_CFG_NAME_MAX] = 0;
	ck_assert_int_eq(fw_cfg_add_file(fc, name, "", 0), -1);                        /* no room for the NUL */
	name[FW_CFG_NAME_MAX - 1] = 0;
	ck_assert_int_eq(fw_cfg_add_file(fc, name, "", 0), 0);
	for (int i = 2; i < FW_CFG_FILE_SLOTS; i++) {
		char n[16];
		snprintf(n, sizeof(n), "f%d", i);
		ck_assert_int_eq(fw_cfg_add_file(fc, n, "x", 1), 0);
	}
	ck_assert_int_eq(fw_cfg_add_file(fc, "one-too-many", "x", 1), -1);
	ck_assert_int_eq(fw_cfg_add_item(fc, FW_CFG_FILE_FIRST, "x", 1), -1);          /* a file's key */
	ck_assert_int_eq(fw_cfg_add_item(fc, FW_CFG_FILE_DIR, "x", 1), -1);
	ck_assert_int_eq(fw_cfg_add_item(fc, FW_CFG_SIGNATURE, "XXXX", 4), -1);
	ck_assert_int_eq(fw_cfg_add_item(fc, 0x4000 | FW_CFG_NB_CPUS, "x", 1), -1);
	ck_assert_int_eq(fw_cfg_add_u16(fc, FW_CFG_NB_CPUS, 2), 0);
}
END_TEST

/* Keys with nothing behind them read as zeros; bit 15 picks the architecture's items; bit 14 is ignored. */
START_TEST(test_keys)
{
	ck_assert_int_eq(fw_cfg_add_item(fc, 0x8003, "\x07", 1), 0);
	ck_assert_int_eq(fw_cfg_add_u16(fc, FW_CFG_NB_CPUS, 0x0102), 0);
	select_key(0x8003);
	ck_assert_uint_eq(data_byte(), 7);
	select_key(0x0003);
	ck_assert_uint_eq(data_byte(), 0);
	select_key(0x4000 | FW_CFG_NB_CPUS);
	ck_assert_uint_eq(data_byte(), 2);
	ck_assert_uint_eq(data_byte(), 1);
	select_key(0x3fff);
	ck_assert_uint_eq(data_byte(), 0);
	select_key(0xffff);
	ck_assert_uint_eq(data_byte(), 0);
	uint8_t wide[2] = { 0x55, 0x55 }, narrow = FW_CFG_NB_CPUS;
	fw_cfg_ops.read(fc, 1, wide, 2);   /* the data port is 8 bits wide */
	ck_assert_uint_eq(wide[0], 0xff);
	fw_cfg_ops.write(fc, 0, &narrow, 1);   /* and the selector 16 */
	ck_assert_uint_eq(data_byte(), 0);
}
END_TEST

START_TEST(test_dma_read_select_skip)
{
	uint8_t blob[300];

	for (int i = 0; i < 300; i++)
		blob[i] = (uint8_t)(i ^ 0x5a);
	ck_assert_int_eq(fw_cfg_add_file(fc, "etc/acpi/tables", blob, sizeof(blob)), 0);
	uint8_t *buf = fake_ptr(&g, BUF_GPA);

	ck_assert_uint_eq(dma((FW_CFG_FILE_FIRST << 16) | 0x08 | 0x02, 100, BUF_GPA), 0);
	ck_assert_mem_eq(buf, blob, 100);
	ck_assert_uint_eq(dma(0x04, 50, 0), 0);                         /* skip 50 */
	ck_assert_uint_eq(data_byte(), blob[150]);                      /* one offset for DMA and the port */
	memset(buf, 0xcc, 400);
	ck_assert_uint_eq(dma(0x02, 400, BUF_GPA), 0);                 /* past the end: zeros */
	ck_assert_mem_eq(buf, blob + 151, 149);
	for (int i = 149; i < 400; i++)
		ck_assert_uint_eq(buf[i], 0);
	ck_assert_uint_eq(dma(0x02, 10, BUF_GPA), 0);                  /* at the end: all zeros */
	ck_assert_uint_eq(buf[0], 0);
	ck_assert_uint_eq(dma((0x1234u << 16) | 0x08 | 0x02, 4, BUF_GPA), 0);   /* no such key */
	ck_assert_uint_eq(buf[0], 0);
	ck_assert_uint_eq(dma((FW_CFG_SIGNATURE << 16) | 0x08, 0, 0), 0);      /* select only */
	ck_assert_uint_eq(data_byte(), 'Q');
}
END_TEST

START_TEST(test_dma_errors)
{
	uint8_t reg[4];

	/* Writes: every item is read-only. */
	ck_assert_uint_eq(dma((FW_CFG_SIGNATURE << 16) | 0x08 | 0x10, 4, BUF_GPA), 0x01);
	/* A destination running out of guest RAM: nothing is copied. */
	ck_assert_uint_eq(dma((FW_CFG_SIGNATURE << 16) | 0x08 | 0x02, 8, FAKE_RAM_SIZE - 4), 0x01);
	ck_assert_uint_eq(dma(0x02, 0xffffffffu, BUF_GPA), 0x01);
	ck_assert_uint_eq(dma(0x02, 4, UINT64_MAX - 1), 0x01);
	/* The read did not happen: the offset did not move. */
	ck_assert_uint_eq(data_byte(), 'Q');
	/* A descriptor outside RAM, given with a high half: dropped, the register rearmed. */
	put_be32(reg, 1);
	fw_cfg_ops.write(fc, 4, reg, 4);
	put_be32(reg, DESC_GPA);
	put_be32(fake_ptr(&g, DESC_GPA), 0x02);
	fw_cfg_ops.write(fc, 8, reg, 4);
	ck_assert_uint_eq(be32(fake_ptr(&g, DESC_GPA)), 0x02);         /* untouched: it was at 4 GiB + */
	ck_assert_uint_eq(dma((FW_CFG_SIGNATURE << 16) | 0x08, 0, 0), 0);   /* the high half is gone */
	put_be32(reg, FAKE_RAM_SIZE - 8);                               /* a descriptor running out of RAM */
	fw_cfg_ops.write(fc, 8, reg, 4);
}
END_TEST

Suite *fw_cfg_suite(void)
{
	Suite *s = suite_create("fw_cfg");
	TCase *tc = tcase_create("fw_cfg");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_signature_and_id);
	tcase_add_test(tc, test_file_directory);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_dma_read_select_skip);
	tcase_add_test(tc, test_dma_errors);
	suite_add_tcase(s, tc);
	return s;
}
