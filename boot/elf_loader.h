/* Loading an ELF kernel image into guest RAM; see elf_loader.c. */
#ifndef BOOT_ELF_LOADER_H
#define BOOT_ELF_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "guest_mem.h"
#include "memmap.h"

struct elf_image {
	uint64_t entry;          /* e_entry */
	uint64_t end;            /* first byte above the loaded segments */
	bool has_pvh_entry;
	uint32_t pvh_entry;      /* XEN_ELFNOTE_PHYS32_ENTRY */
	bool linux_kernel;       /* the image says it is Linux (Xen GUEST_OS note) */
};

/* Loads an ELF32 or ELF64 image's segments into guest RAM at and above 1 MiB. */
int elf_load(const struct guest_mem *gm, const struct memmap *map, const uint8_t *img, size_t len,
	     struct elf_image *out, struct vmm_error *err);

#endif
