/*
 * What the Linux 64-bit boot protocol (Documentation/arch/x86/boot.rst,
 * "64-bit Boot Protocol") asks of the loader: paging on with the kernel,
 * boot_params and command line identity-mapped, and a GDT with flat
 * __BOOT_CS (0x10) and __BOOT_DS (0x18) descriptors.
 */
#ifndef BOOT_LONG_MODE_H
#define BOOT_LONG_MODE_H

#include "guest_mem.h"

#define BOOT_CS_SELECTOR 0x10
#define BOOT_DS_SELECTOR 0x18
#define BOOT_GDT_ENTRIES 4
#define BOOT_IDENTITY_MAP_SIZE (4ull << 30)

/*
 * Writes the GDT at BOOT_GDT_ADDR and page tables at BOOT_PAGE_TABLES_ADDR
 * (CR3) that identity-map the first 4 GiB with 2 MiB pages: everything a
 * loader places, RAM below the hole and the MMIO above it.
 */
int long_mode_write_tables(const struct guest_mem *gm);

#endif
