/*
 * Fuzz target for fw_cfg (devices/fw_cfg.c): the selector, data and DMA
 * ports with the machine's usual items and files behind them, and DMA
 * descriptors wherever the input puts them. The input is a list of 8-byte
 * port accesses, then guest memory (descriptors and their targets):
 *   op[0]: bit 0 write (else read); op[1] % 12: offset from 0x510;
 *   op[2]: access size 1, 2 or 4 by its low two bits; op[4..7]: value
 * Built as a libFuzzer target with -DVMM_FUZZ=ON, and into a replay
 * program ctest runs over tests/fuzz/corpus_fw_cfg.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fw_cfg.h"
#include "guest_mem.h"

#define RAM_SIZE (64u << 10)
#define OP_BYTES 8
#define MAX_OPS 256

static struct fw_cfg *machine_fw_cfg(const struct guest_mem *gm)
{
	static const uint8_t e820[40] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xa, 0, 0, 0, 0, 0, 1 };
	struct fw_cfg *fc = fw_cfg_create(gm);
	uint8_t tables[5000];

	for (size_t i = 0; i < sizeof(tables); i++)
		tables[i] = (uint8_t)i;
	fw_cfg_add_u16(fc, FW_CFG_NB_CPUS, 2);
	fw_cfg_add_item(fc, 0x8003, "\0\0\0\0", 4);
	fw_cfg_add_file(fc, "etc/e820", e820, sizeof(e820));
	fw_cfg_add_file(fc, "etc/acpi/tables", tables, sizeof(tables));
	fw_cfg_add_file(fc, "etc/sercon-port", "\xf8\x03", 2);
	fw_cfg_add_file(fc, "bootorder", "", 0);
	return fc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *ram = calloc(1, RAM_SIZE);
	struct guest_mem gm = { .nr_regions = 1 };
	size_t nr_ops = size / OP_BYTES < MAX_OPS ? size / OP_BYTES : MAX_OPS;
	size_t ram_bytes = size - nr_ops * OP_BYTES;

	gm.region[0] = (struct guest_mem_region){ 0, RAM_SIZE, ram };
	memcpy(ram, data + nr_ops * OP_BYTES, ram_bytes < RAM_SIZE ? ram_bytes : RAM_SIZE);
	struct fw_cfg *fc = machine_fw_cfg(&gm);
	for (size_t i = 0; fc && i < nr_ops; i++) {
		const uint8_t *op = data + i * OP_BYTES;
		unsigned len = 1u << (op[2] & 3);
		uint8_t value[8];
		if (len > 4)
			len = 4;
		memcpy(value, op + 4, 4);
		if (op[0] & 1)
			fw_cfg_ops.write(fc, op[1] % FW_CFG_PORT_LEN, value, len);
		else
			fw_cfg_ops.read(fc, op[1] % FW_CFG_PORT_LEN, value, len);
	}
	fw_cfg_destroy(fc);
	free(ram);
	return 0;
}
