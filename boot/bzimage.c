/*
 * bzImage loader (Documentation/arch/x86/boot.rst: "The Real-Mode Kernel
 * Header", "Details of Header Fields", "64-bit Boot Protocol"). The file
 * is: boot sector and setup code ((setup_sects + 1) * 512 bytes, with the
 * setup header at 0x1f1), then the protected-mode kernel, whose 64-bit
 * entry point is 0x200 bytes in.
 */
#include "bzimage.h"

#include <asm/bootparam.h>
#include <stddef.h>
#include <string.h>

#include "decompress.h"
#include "elf_loader.h"

#define SETUP_HEADER_OFFSET offsetof(struct boot_params, hdr)   /* 0x1f1 */
#define HDRS_MAGIC 0x53726448u       /* "HdrS" */
#define BOOT_FLAG 0xaa55
#define DEFAULT_SETUP_SECTS 4
#define ENTRY64_OFFSET 0x200
#define LOADER_TYPE_UNDEFINED 0xff
#define SETUP_HEAP_END 0xfe00        /* what boot.rst suggests for a modern loader */
#define KERNEL_DEFAULT_LOAD 0x100000ull

static const struct setup_header *header_of(const uint8_t *img)
{
	return (const struct setup_header *)(img + SETUP_HEADER_OFFSET);
}

/* The header's own length: it ends where the jump at 0x200 lands. */
static size_t header_length(const uint8_t *img)
{
	return 0x202 + img[0x201] - SETUP_HEADER_OFFSET;
}

/* The part of the header both the image and struct setup_header know. */
static size_t header_copy_length(const uint8_t *img)
{
	size_t n = header_length(img);
	return n < sizeof(struct setup_header) ? n : sizeof(struct setup_header);
}

bool bzimage_detect(const uint8_t *img, size_t len)
{
	uint32_t magic;

	if (len < SETUP_HEADER_OFFSET + sizeof(struct setup_header))
		return false;
	memcpy(&magic, img + SETUP_HEADER_OFFSET + offsetof(struct setup_header, header), 4);
	return magic == HDRS_MAGIC;
}

static int check_header(const uint8_t *img, size_t len, struct vmm_error *err)
{
	struct setup_header h;

	if (!bzimage_detect(img, len))
		return vmm_fail(err, VMM_EXIT_USAGE, "not a bzImage (no HdrS signature)");
	memcpy(&h, header_of(img), sizeof(h));
	if (h.boot_flag != BOOT_FLAG)
		return vmm_fail(err, VMM_EXIT_USAGE, "bzImage has a bad boot flag 0x%04x", h.boot_flag);
	if (h.version < BZIMAGE_MIN_PROTOCOL || !(h.xloadflags & XLF_KERNEL_64))
		return vmm_fail(err, VMM_EXIT_USAGE,
				"bzImage boot protocol %u.%02u has no 64-bit entry point (vmm needs 2.12 or later "
				"with XLF_KERNEL_64)", h.version >> 8, h.version & 0xff);
	if (!(h.loadflags & LOADED_HIGH))
		return vmm_fail(err, VMM_EXIT_USAGE, "zImage kernels (loaded below 1 MiB) are not supported");
	if (header_length(img) < offsetof(struct setup_header, handover_offset) ||
	    SETUP_HEADER_OFFSET + header_length(img) > len)
		return vmm_fail(err, VMM_EXIT_USAGE, "bzImage setup header is truncated");
	return 0;
}

static int parse(const struct memmap *map, const uint8_t *img, size_t len, struct bzimage *out,
		 struct vmm_error *err)
{
	struct setup_header h;

	if (check_header(img, len, err) < 0)
		return -1;
	memcpy(&h, header_of(img), sizeof(h));
	size_t setup_bytes = ((size_t)(h.setup_sects ? h.setup_sects : DEFAULT_SETUP_SECTS) + 1) * 512;
	if (setup_bytes >= len)
		return vmm_fail(err, VMM_EXIT_USAGE, "bzImage is truncated: no protected-mode kernel after %zu "
				"bytes of setup code", setup_bytes);
	size_t kernel_bytes = len - setup_bytes;
	/* syssize: the protected-mode kernel's size in 16-byte paragraphs. */
	if ((uint64_t)h.syssize * 16 > kernel_bytes)
		return vmm_fail(err, VMM_EXIT_USAGE, "bzImage is truncated: its header says %llu bytes of kernel, "
				"the file has %zu", (unsigned long long)h.syssize * 16, kernel_bytes);
	uint64_t load = h.relocatable_kernel ? h.pref_address : KERNEL_DEFAULT_LOAD;
	uint64_t footprint = h.init_size > kernel_bytes ? h.init_size : kernel_bytes;
	uint64_t low_end = memmap_low_ram_end(map);

	if (load < KERNEL_MIN_ADDR || load >= low_end || footprint > low_end - load)
		return vmm_fail(err, VMM_EXIT_USAGE,
				"bzImage needs 0x%llx-0x%llx, beyond guest RAM (0x%llx): give more --memory",
				(unsigned long long)load, (unsigned long long)(load + footprint),
				(unsigned long long)low_end);
	if (h.payload_offset > kernel_bytes || h.payload_length > kernel_bytes - h.payload_offset)
		return vmm_fail(err, VMM_EXIT_USAGE, "bzImage payload lies outside the file");
	*out = (struct bzimage){
		.img = img, .len = len, .protocol = h.version, .load_addr = load,
		.entry64 = load + ENTRY64_OFFSET, .end = load + footprint,
		.initrd_addr_max = h.initrd_addr_max,
		.cmdline_size = h.cmdline_size,
		.kernel_offset = setup_bytes, .kernel_len = kernel_bytes,
		.payload = img + setup_bytes + h.payload_offset, .payload_len = h.payload_length,
	};
	return 0;
}

/* The ELF kernel goes from the decompressor to its segments' places, a window at a time. */
static int load_decompressed(const struct guest_mem *gm, const struct memmap *map, struct bzimage *k,
			     struct vmm_error *err)
{
	struct elf_image image;
	struct elf_stream *elf = elf_stream_open(gm, map, err);

	if (!elf)
		return -1;
	if (decompress(k->payload, k->payload_len, elf_stream_write, elf, err) < 0) {
		elf_stream_close(elf, NULL);
		return -1;
	}
	if (elf_stream_close(elf, &image) < 0)
		return -1;
	k->entry64 = image.entry;
	if (image.end > k->end)
		k->end = image.end;
	return 0;
}

int bzimage_load(const struct guest_mem *gm, const struct memmap *map, const struct boot_blob *file,
		 enum bzimage_decompress how, struct bzimage *out, struct vmm_error *err)
{
	if (parse(map, file->data, file->len, out, err) < 0)
		return -1;
	if (how == BZIMAGE_DECOMPRESS_VMM)
		return load_decompressed(gm, map, out, err);
	uint8_t *dst = guest_mem_ptr(gm, out->load_addr, out->kernel_len);
	if (!dst)
		return vmm_fail(err, VMM_EXIT_USAGE, "bzImage does not fit in guest RAM");
	if (boot_blob_copy(file, out->kernel_offset, dst, out->kernel_len) < 0)
		return vmm_fail(err, VMM_EXIT_USAGE, "bzImage: cannot read its kernel from the file");
	return 0;
}

static unsigned fill_e820(const struct memmap *map, struct boot_params *bp)
{
	struct e820_entry e820[E820_MAX_ENTRIES];
	size_t n = memmap_e820(map, e820, E820_MAX_ENTRIES);

	for (size_t i = 0; i < n; i++)
		bp->e820_table[i] = (struct boot_e820_entry){ e820[i].addr, e820[i].size, e820[i].type };
	return (unsigned)n;
}

int bzimage_write_boot_params(const struct guest_mem *gm, const struct memmap *map, const struct bzimage *k,
			      const struct linux_boot_info *info, struct vmm_error *err)
{
	struct boot_params bp;
	size_t cmdline_len = strlen(info->cmdline);

	if (cmdline_len > k->cmdline_size || cmdline_len >= BOOT_CMDLINE_MAX)
		return vmm_fail(err, VMM_EXIT_USAGE, "command line is %zu bytes; this kernel takes at most %u",
				cmdline_len, k->cmdline_size < BOOT_CMDLINE_MAX ? k->cmdline_size
										: (unsigned)BOOT_CMDLINE_MAX - 1);
	memset(&bp, 0, sizeof(bp));
	memcpy(&bp.hdr, header_of(k->img), header_copy_length(k->img));
	bp.hdr.type_of_loader = LOADER_TYPE_UNDEFINED;
	bp.hdr.loadflags |= CAN_USE_HEAP;
	bp.hdr.heap_end_ptr = SETUP_HEAP_END - 0x200;
	bp.hdr.code32_start = (uint32_t)k->load_addr;
	bp.hdr.cmd_line_ptr = (uint32_t)BOOT_CMDLINE_ADDR;
	bp.hdr.ramdisk_image = (uint32_t)info->initrd_addr;
	bp.hdr.ramdisk_size = (uint32_t)info->initrd_size;
	bp.ext_ramdisk_image = (uint32_t)(info->initrd_addr >> 32);
	bp.ext_ramdisk_size = (uint32_t)(info->initrd_size >> 32);
	bp.acpi_rsdp_addr = info->rsdp_addr;
	bp.e820_entries = (uint8_t)fill_e820(map, &bp);
	if (guest_mem_write(gm, BOOT_PARAMS_ADDR, &bp, sizeof(bp)) < 0 ||
	    guest_mem_write(gm, BOOT_CMDLINE_ADDR, info->cmdline, cmdline_len + 1) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "boot data does not fit in guest RAM");
	return 0;
}
