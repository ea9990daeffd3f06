/*
 * Fuzz target for the loaders: the input is a kernel image (a bzImage,
 * with its payload unpacked by vmm or left to the guest, or an ELF with a
 * PVH note), whose last 4 KiB or less also serve as an initrd. It goes
 * through boot_load_kernel() and boot_finish() into 32 MiB of guest RAM,
 * as `vmm run --kernel` would: header checks, segment placement, payload
 * decompression (gzip, xz, zstd), initrd placement, boot_params or
 * hvm_start_info, the command line and the ACPI tables.
 * Built as a libFuzzer target with -DVMM_FUZZ=ON, and into a replay
 * program ctest runs over tests/fuzz/corpus_loaders.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"

#define RAM_SIZE (32u << 20)

static const struct acpi_board board = {
	.com1_port = 0x3f8, .com1_ports = 8, .com1_gsi = 4, .reset_port = 0x64, .reset_value = 0xfe,
	.sleep_port = 0x600, .s5_sleep_type = 5, .pci_config_port = 0xcf8, .pci_slots = 1,
	.pci_ecam = true, .pci_mmio_base = 0xc0000000, .pci_mmio_end = 0xe0000000, .pci_slot_gsi = { 16 },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static struct guest_mem mem;
	static struct memmap map;
	const struct acpi_mmio_device mmio = { PLATFORM_MMIO_BASE, 0x200, 5 };
	struct acpi_config acpi = { 1, ACPI_TABLES_ADDR, &board, &mmio, 1 };
	size_t initrd_len = size < 4096 ? size : 4096;
	struct boot_kernel k;
	struct boot_entry entry;
	struct vmm_error err;

	if (!ram) {
		ram = calloc(1, RAM_SIZE);
		memmap_init(&map, RAM_SIZE);
		mem.region[0] = (struct guest_mem_region){ 0, RAM_SIZE, ram };
		mem.nr_regions = 1;
	}
	for (int how = BZIMAGE_DECOMPRESS_GUEST; how <= BZIMAGE_DECOMPRESS_VMM; how++) {
		struct boot_request req = {
			.mem = &mem, .map = &map, .kernel = { data, size, -1 },
			.initrd = { data + size - initrd_len, initrd_len, -1 },
			.cmdline = "console=ttyS0", .decompress = (enum bzimage_decompress)how,
			.linux_cmdline = "extra", .acpi = &acpi, .kernel_name = "fuzz", .initrd_name = "fuzz",
		};
		if (boot_load_kernel(&req, &k, &err) == 0)
			boot_finish(&req, &k, &entry, &err);
	}
	return 0;
}
