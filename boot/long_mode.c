/* Identity-mapped long mode for the 64-bit entry (Intel SDM vol. 3A, 4.5). */
#include "long_mode.h"

#include "memmap.h"
#include "x86.h"

/* Code: present, DPL 0, execute/read, L=1. Data: present, read/write, 4 GiB. */
static const uint64_t gdt[BOOT_GDT_ENTRIES] = {
	0, 0, 0x00af9b000000ffffull, 0x00cf93000000ffffull,
};

int long_mode_write_tables(const struct guest_mem *gm)
{
	const uint64_t pml4 = BOOT_PAGE_TABLES_ADDR, pdpt = pml4 + X86_PAGE_SIZE, pd = pdpt + X86_PAGE_SIZE;
	const unsigned nr_pds = (unsigned)(BOOT_IDENTITY_MAP_SIZE >> 30);
	uint64_t entry = pdpt | X86_PTE_PRESENT | X86_PTE_WRITABLE;

	if (guest_mem_write(gm, BOOT_GDT_ADDR, gdt, sizeof(gdt)) < 0 || guest_mem_write(gm, pml4, &entry, 8) < 0)
		return -1;
	for (unsigned i = 0; i < nr_pds; i++) {
		entry = (pd + i * X86_PAGE_SIZE) | X86_PTE_PRESENT | X86_PTE_WRITABLE;
		if (guest_mem_write(gm, pdpt + i * 8ull, &entry, 8) < 0)
			return -1;
	}
	for (uint64_t i = 0; i < nr_pds * X86_PTES_PER_TABLE; i++) {
		entry = (i << 21) | X86_PTE_PRESENT | X86_PTE_WRITABLE | X86_PTE_LARGE;
		if (guest_mem_write(gm, pd + i * 8, &entry, 8) < 0)
			return -1;
	}
	return 0;
}
