/*
 * The PVH boot ABI (xen docs/misc/pvh.pandoc): loading an ELF image that
 * carries XEN_ELFNOTE_PHYS32_ENTRY, and the hvm_start_info it is given.
 */
#ifndef BOOT_PVH_H
#define BOOT_PVH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf_loader.h"
#include "error.h"
#include "guest_mem.h"
#include "hvm_start_info.h"
#include "memmap.h"

struct pvh_image {
	uint32_t entry;        /* 32-bit physical entry point */
	uint64_t end;          /* first byte above the loaded segments */
	bool linux_kernel;     /* the image says it is Linux (Xen GUEST_OS note) */
};

/* Loads an ELF32 or ELF64 PVH image into guest RAM at and above 1 MiB. */
int pvh_load_elf(const struct guest_mem *gm, const struct memmap *map, const struct boot_blob *file,
		 struct pvh_image *out, struct vmm_error *err);

struct pvh_boot_params {
	const char *cmdline;
	uint64_t initrd_addr, initrd_size;   /* size 0: no initrd */
	uint64_t rsdp_addr;
};

/* Writes hvm_start_info, the memory map and the command line. */
int pvh_write_start_info(const struct guest_mem *gm, const struct memmap *map,
			 const struct pvh_boot_params *p, struct vmm_error *err);

/*
 * Picks the highest page-aligned address for an initrd above kernel_end in
 * low RAM whose last byte is at or below max_addr.
 */
int boot_place_initrd(const struct memmap *map, uint64_t kernel_end, uint64_t max_addr, uint64_t size,
		      uint64_t *addr, struct vmm_error *err);

#endif
