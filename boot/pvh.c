/*
 * PVH loader: an ELF image with a PVH entry note (boot/elf_loader.c), and
 * the hvm_start_info it is given; the start-of-day state is set by
 * vmm/vcpu.c.
 */
#include "pvh.h"

#include <string.h>

int pvh_load_elf(const struct guest_mem *gm, const struct memmap *map, const struct boot_blob *file,
		 struct pvh_image *out, struct vmm_error *err)
{
	struct elf_image elf;

	if (elf_load(gm, map, file, &elf, err) < 0)
		return -1;
	if (!elf.has_pvh_entry)
		return vmm_fail(err, VMM_EXIT_USAGE,
				"ELF image has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): not a PVH kernel");
	*out = (struct pvh_image){ elf.pvh_entry, elf.end, elf.linux_kernel };
	return 0;
}

int boot_place_initrd(const struct memmap *map, uint64_t kernel_end, uint64_t max_addr, uint64_t size,
		      uint64_t *addr, struct vmm_error *err)
{
	uint64_t top = memmap_low_ram_end(map);

	if (max_addr < UINT64_MAX && max_addr + 1 < top)
		top = max_addr + 1;
	top &= ~0xfffull;
	uint64_t floor = (kernel_end + 0xfff) & ~0xfffull;

	if (size > top || ((top - size) & ~0xfffull) < floor)
		return vmm_fail(err, VMM_EXIT_USAGE,
				"initrd of %llu bytes does not fit in guest RAM above the kernel",
				(unsigned long long)size);
	*addr = (top - size) & ~0xfffull;
	return 0;
}

int pvh_write_start_info(const struct guest_mem *gm, const struct memmap *map,
			 const struct pvh_boot_params *p, struct vmm_error *err)
{
	struct e820_entry e820[E820_MAX_ENTRIES];
	struct hvm_memmap_entry mm[E820_MAX_ENTRIES];
	size_t n = memmap_e820(map, e820, E820_MAX_ENTRIES);
	size_t cmdline_len = strlen(p->cmdline) + 1;
	uint64_t modlist = BOOT_START_INFO_ADDR + sizeof(struct hvm_start_info);

	if (cmdline_len > BOOT_CMDLINE_MAX)
		return vmm_fail(err, VMM_EXIT_USAGE, "command line is %zu bytes; the limit is %llu",
				cmdline_len - 1, BOOT_CMDLINE_MAX - 1);
	for (size_t i = 0; i < n; i++)
		mm[i] = (struct hvm_memmap_entry){ e820[i].addr, e820[i].size, e820[i].type, 0 };

	struct hvm_start_info si = {
		.magic = HVM_START_MAGIC,
		.version = 1,
		.nr_modules = p->initrd_size ? 1 : 0,
		.modlist_paddr = p->initrd_size ? modlist : 0,
		.cmdline_paddr = BOOT_CMDLINE_ADDR,
		.rsdp_paddr = p->rsdp_addr,
		.memmap_paddr = BOOT_MEMMAP_ADDR,
		.memmap_entries = (uint32_t)n,
	};
	struct hvm_modlist_entry mod = { .paddr = p->initrd_addr, .size = p->initrd_size };

	if (guest_mem_write(gm, BOOT_START_INFO_ADDR, &si, sizeof(si)) < 0 ||
	    guest_mem_write(gm, modlist, &mod, sizeof(mod)) < 0 ||
	    guest_mem_write(gm, BOOT_MEMMAP_ADDR, mm, n * sizeof(mm[0])) < 0 ||
	    guest_mem_write(gm, BOOT_CMDLINE_ADDR, p->cmdline, cmdline_len) < 0)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "boot data does not fit in guest RAM");
	return 0;
}
