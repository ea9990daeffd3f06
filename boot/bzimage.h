/*
 * bzImage loader: the Linux x86 boot protocol (Documentation/arch/x86/
 * boot.rst), entered through its 64-bit entry point. The real-mode setup
 * code is never run: vmm fills boot_params itself, as a boot loader using
 * the 64-bit protocol does.
 */
#ifndef BOOT_BZIMAGE_H
#define BOOT_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "blob.h"
#include "error.h"
#include "guest_mem.h"
#include "memmap.h"

#define BZIMAGE_MIN_PROTOCOL 0x020c   /* 2.12: xloadflags says whether a 64-bit entry exists */

/* True if img carries the "HdrS" setup-header signature. */
bool bzimage_detect(const uint8_t *img, size_t len);

/* Who unpacks the compressed kernel inside the bzImage. */
enum bzimage_decompress {
	BZIMAGE_DECOMPRESS_GUEST,   /* the bzImage's own decompressor, at the 64-bit entry */
	BZIMAGE_DECOMPRESS_VMM,     /* vmm, from payload_offset/length; entry at the ELF's e_entry */
};

struct bzimage {
	const uint8_t *img;          /* the file, for its setup header */
	size_t len;
	uint16_t protocol;
	uint64_t load_addr;          /* where the protected-mode kernel goes */
	uint64_t entry64;            /* load_addr + 0x200, or the decompressed kernel's entry */
	uint64_t end;                /* load_addr + init_size: the kernel's footprint */
	uint64_t initrd_addr_max;    /* highest byte an initrd may occupy */
	uint32_t cmdline_size;       /* longest command line, without the NUL */
	size_t kernel_offset;        /* the protected-mode kernel, in the file */
	size_t kernel_len;
	const uint8_t *payload;      /* the compressed ELF kernel inside it */
	size_t payload_len;
};

/*
 * Checks the header and loads the kernel: the protected-mode part as it is
 * (the guest decompresses it), or the ELF kernel vmm decompressed from the
 * payload, at the physical addresses its program headers give.
 */
int bzimage_load(const struct guest_mem *gm, const struct memmap *map, const struct boot_blob *file,
		 enum bzimage_decompress how, struct bzimage *out, struct vmm_error *err);

struct linux_boot_info {
	const char *cmdline;
	uint64_t initrd_addr, initrd_size;   /* size 0: no initrd */
	uint64_t rsdp_addr;
};

/*
 * Writes boot_params (the "zero page") at BOOT_PARAMS_ADDR: the image's
 * setup header with the loader's fields filled in, the e820 map, and the
 * command line at BOOT_CMDLINE_ADDR.
 */
int bzimage_write_boot_params(const struct guest_mem *gm, const struct memmap *map, const struct bzimage *k,
			      const struct linux_boot_info *info, struct vmm_error *err);

#endif
