/* The guest memory map: RAM around the 32-bit hole, and the e820 table every loader hands on. */
#include "memmap.h"

void memmap_init(struct memmap *map, uint64_t ram_size)
{
	uint64_t low = ram_size < MMIO_HOLE_START ? ram_size : MMIO_HOLE_START;

	map->ram[0] = (struct ram_region){ 0, low };
	map->nr_ram = 1;
	if (ram_size > low)
		map->ram[map->nr_ram++] = (struct ram_region){ HIGH_RAM_START, ram_size - low };
}

uint64_t memmap_low_ram_end(const struct memmap *map)
{
	return map->ram[0].size;
}

size_t memmap_e820(const struct memmap *map, struct e820_entry *out, size_t max)
{
	const struct e820_entry entries[] = {
		{ 0, LOW_RAM_END, E820_RAM },
		{ LEGACY_HOLE_START, ACPI_TABLES_ADDR - LEGACY_HOLE_START, E820_RESERVED },
		{ ACPI_TABLES_ADDR, ACPI_TABLES_SIZE, E820_ACPI },
		{ RESET_VECTOR_PAGE, KERNEL_MIN_ADDR - RESET_VECTOR_PAGE, E820_RESERVED },
		{ KERNEL_MIN_ADDR, memmap_low_ram_end(map) - KERNEL_MIN_ADDR, E820_RAM },
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]) && n < max; i++)
		out[n++] = entries[i];
	/* MCFG's ECAM window must be reserved for Linux to use it. */
	if (n < max)
		out[n++] = (struct e820_entry){ PCI_ECAM_BASE, PCI_ECAM_SIZE, E820_RESERVED };
	if (map->nr_ram > 1 && n < max)
		out[n++] = (struct e820_entry){ map->ram[1].gpa, map->ram[1].size, E820_RAM };
	return n;
}

size_t memmap_firmware_e820(const struct memmap *map, struct e820_entry *out, size_t max)
{
	size_t n = 0;

	for (unsigned i = 0; i < map->nr_ram && n < max; i++)
		out[n++] = (struct e820_entry){ map->ram[i].gpa, map->ram[i].size, E820_RAM };
	if (n < max)
		out[n++] = (struct e820_entry){ KVM_IDENTITY_MAP_ADDR, KVM_REAL_MODE_PAGES_SIZE, E820_RESERVED };
	return n;
}
