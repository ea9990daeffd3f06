/*
 * The PVH start-of-day structures (xen/include/public/arch-x86/hvm/start_info.h),
 * shared by the loader (boot/pvh.c) and the firmware that reads them.
 */
#ifndef BOOT_HVM_START_INFO_H
#define BOOT_HVM_START_INFO_H

#include <stdint.h>

#define XEN_ELFNOTE_GUEST_OS     6
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC 0x336ec578

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;       /* version 1 and later */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

#endif
