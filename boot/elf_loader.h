/* Loading an ELF kernel image into guest RAM; see elf_loader.c. */
#ifndef BOOT_ELF_LOADER_H
#define BOOT_ELF_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blob.h"
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
int elf_load(const struct guest_mem *gm, const struct memmap *map, const struct boot_blob *file,
	     struct elf_image *out, struct vmm_error *err);

/*
 * The same for an image that arrives a part at a time (a decompressor's
 * output, boot/decompress.h): its program headers must lie in the first
 * ELF_STREAM_HEAD bytes, and its notes are not read (no PVH entry).
 * elf_stream_write() is a decompress_sink; elf_stream_close() with out
 * checks every segment was filled and frees the stream, with NULL it only
 * frees it.
 */
#define ELF_STREAM_HEAD 16384

struct elf_stream;
struct elf_stream *elf_stream_open(const struct guest_mem *gm, const struct memmap *map, struct vmm_error *err);
int elf_stream_write(void *stream, const uint8_t *data, size_t len);
int elf_stream_close(struct elf_stream *st, struct elf_image *out);

#endif
