/*
 * ELF loader (System V gABI, "Program Header" and "Note Section"): copies
 * PT_LOAD segments to their physical addresses and reads the Xen notes
 * that PVH kernels carry.
 */
#include "elf_loader.h"

#include <elf.h>
#include <string.h>

#include "hvm_start_info.h"

/* The fields of Elf32_Phdr and Elf64_Phdr that loading needs. */
struct segment {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

struct elf_view {
	const uint8_t *img;
	size_t len;
	bool is64;
	uint64_t phoff;
	unsigned phnum;
	uint64_t entry;
};

static bool in_file(const struct elf_view *e, uint64_t off, uint64_t size)
{
	return off <= e->len && size <= e->len - off;
}

static int parse_header(struct elf_view *e, struct vmm_error *err)
{
	if (e->len < EI_NIDENT || memcmp(e->img, ELFMAG, SELFMAG))
		return vmm_fail(err, VMM_EXIT_USAGE, "not an ELF file (bad magic)");
	if (e->img[EI_DATA] != ELFDATA2LSB)
		return vmm_fail(err, VMM_EXIT_USAGE, "ELF image is not little-endian");
	e->is64 = e->img[EI_CLASS] == ELFCLASS64;
	if (!e->is64 && e->img[EI_CLASS] != ELFCLASS32)
		return vmm_fail(err, VMM_EXIT_USAGE, "unknown ELF class %u", e->img[EI_CLASS]);
	size_t ehsize = e->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	if (e->len < ehsize)
		return vmm_fail(err, VMM_EXIT_USAGE, "ELF image truncated in its header");

	uint16_t machine, phentsize;
	if (e->is64) {
		const Elf64_Ehdr *h = (const void *)e->img;
		machine = h->e_machine, phentsize = h->e_phentsize;
		e->phoff = h->e_phoff, e->phnum = h->e_phnum, e->entry = h->e_entry;
	} else {
		const Elf32_Ehdr *h = (const void *)e->img;
		machine = h->e_machine, phentsize = h->e_phentsize;
		e->phoff = h->e_phoff, e->phnum = h->e_phnum, e->entry = h->e_entry;
	}
	if (machine != EM_X86_64 && machine != EM_386)
		return vmm_fail(err, VMM_EXIT_USAGE, "ELF image is not for x86 (machine %u)", machine);
	size_t phsize = e->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	if (e->phnum == 0 || phentsize != phsize)
		return vmm_fail(err, VMM_EXIT_USAGE, "ELF image has no usable program headers");
	if (!in_file(e, e->phoff, (uint64_t)e->phnum * phsize))
		return vmm_fail(err, VMM_EXIT_USAGE, "ELF image truncated in its program headers");
	return 0;
}

static struct segment read_segment(const struct elf_view *e, unsigned i)
{
	if (e->is64) {
		Elf64_Phdr p;
		memcpy(&p, e->img + e->phoff + i * sizeof(p), sizeof(p));
		return (struct segment){ p.p_type, p.p_offset, p.p_paddr, p.p_filesz, p.p_memsz };
	}
	Elf32_Phdr p;
	memcpy(&p, e->img + e->phoff + i * sizeof(p), sizeof(p));
	return (struct segment){ p.p_type, p.p_offset, p.p_paddr, p.p_filesz, p.p_memsz };
}

static int load_segment(const struct elf_view *e, const struct segment *s,
			const struct guest_mem *gm, const struct memmap *map,
			struct vmm_error *err)
{
	if (s->filesz > s->memsz || !in_file(e, s->offset, s->filesz))
		return vmm_fail(err, VMM_EXIT_USAGE, "ELF segment at 0x%llx lies outside the file",
				(unsigned long long)s->paddr);
	uint64_t low_end = memmap_low_ram_end(map);
	if (s->paddr < KERNEL_MIN_ADDR || s->paddr >= low_end || s->memsz > low_end - s->paddr)
		return vmm_fail(err, VMM_EXIT_USAGE,
				"ELF segment 0x%llx-0x%llx is not in guest RAM between 1 MiB and 0x%llx",
				(unsigned long long)s->paddr, (unsigned long long)(s->paddr + s->memsz),
				(unsigned long long)low_end);
	uint8_t *dst = guest_mem_ptr(gm, s->paddr, s->memsz);
	if (!dst)
		return vmm_fail(err, VMM_EXIT_USAGE, "ELF segment at 0x%llx is not in guest RAM",
				(unsigned long long)s->paddr);
	memcpy(dst, e->img + s->offset, s->filesz);
	memset(dst + s->filesz, 0, s->memsz - s->filesz);
	return 0;
}

static uint64_t align4(uint64_t v)
{
	return (v + 3) & ~3ull;
}

/*
 * Reads the Xen notes of one PT_NOTE segment: PHYS32_ENTRY (returns true
 * when found) and GUEST_OS, which says whether this is Linux.
 */
static bool read_xen_notes(const struct elf_view *e, const struct segment *s, struct elf_image *out)
{
	if (!in_file(e, s->offset, s->filesz))
		return false;
	const uint8_t *p = e->img + s->offset;
	uint64_t left = s->filesz;

	while (left >= 12) {
		uint32_t namesz, descsz, type;
		memcpy(&namesz, p, 4);
		memcpy(&descsz, p + 4, 4);
		memcpy(&type, p + 8, 4);
		uint64_t name_len = align4(namesz), desc_len = align4(descsz);
		if (name_len > left - 12 || desc_len > left - 12 - name_len)
			return false;
		const uint8_t *name = p + 12, *desc = name + name_len;
		bool xen = namesz == 4 && !memcmp(name, "Xen", 4);
		if (xen && type == XEN_ELFNOTE_GUEST_OS)
			out->linux_kernel = descsz >= 5 && !memcmp(desc, "linux", 5);
		if (xen && type == XEN_ELFNOTE_PHYS32_ENTRY && (descsz == 4 || descsz == 8)) {
			uint64_t v = 0;
			memcpy(&v, desc, descsz);
			out->pvh_entry = (uint32_t)v;
			return v <= UINT32_MAX;
		}
		p += 12 + name_len + desc_len;
		left -= 12 + name_len + desc_len;
	}
	return false;
}

int elf_load(const struct guest_mem *gm, const struct memmap *map, const uint8_t *img, size_t len,
	     struct elf_image *out, struct vmm_error *err)
{
	struct elf_view e = { .img = img, .len = len };
	bool have_load = false;

	if (parse_header(&e, err) < 0)
		return -1;
	*out = (struct elf_image){ .entry = e.entry };
	for (unsigned i = 0; i < e.phnum; i++) {
		struct segment s = read_segment(&e, i);
		if (s.type == PT_NOTE && !out->has_pvh_entry)
			out->has_pvh_entry = read_xen_notes(&e, &s, out);
		if (s.type != PT_LOAD || s.memsz == 0)
			continue;
		if (load_segment(&e, &s, gm, map, err) < 0)
			return -1;
		have_load = true;
		if (s.paddr + s.memsz > out->end)
			out->end = s.paddr + s.memsz;
	}
	if (!have_load)
		return vmm_fail(err, VMM_EXIT_USAGE, "ELF image has no loadable segment");
	return 0;
}

