/*
 * ELF loader (System V gABI, "Program Header" and "Note Section"): copies
 * PT_LOAD segments to their physical addresses and reads the Xen notes
 * that PVH kernels carry.
 */
#include "elf_loader.h"

#include <elf.h>
#include <stdlib.h>
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

/*
 * Checks where a PT_LOAD segment goes, clears the part the file does not
 * fill (.bss), and returns the segment's place in guest RAM; NULL with err
 * set if it does not fit.
 */
static uint8_t *place_segment(const struct segment *s, const struct guest_mem *gm, const struct memmap *map,
			      struct vmm_error *err)
{
	uint64_t low_end = memmap_low_ram_end(map);

	if (s->filesz > s->memsz || s->offset > UINT64_MAX - s->filesz) {
		vmm_fail(err, VMM_EXIT_USAGE, "ELF segment at 0x%llx lies outside the file", (unsigned long long)s->paddr);
		return NULL;
	}
	if (s->paddr < KERNEL_MIN_ADDR || s->paddr >= low_end || s->memsz > low_end - s->paddr) {
		vmm_fail(err, VMM_EXIT_USAGE, "ELF segment 0x%llx-0x%llx is not in guest RAM between 1 MiB and 0x%llx",
			 (unsigned long long)s->paddr, (unsigned long long)(s->paddr + s->memsz),
			 (unsigned long long)low_end);
		return NULL;
	}
	uint8_t *dst = guest_mem_ptr(gm, s->paddr, s->memsz);
	if (!dst) {
		vmm_fail(err, VMM_EXIT_USAGE, "ELF segment at 0x%llx is not in guest RAM", (unsigned long long)s->paddr);
		return NULL;
	}
	memset(dst + s->filesz, 0, s->memsz - s->filesz);
	return dst;
}

static bool is_loadable(const struct segment *s)
{
	return s->type == PT_LOAD && s->memsz != 0;
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

int elf_load(const struct guest_mem *gm, const struct memmap *map, const struct boot_blob *file,
	     struct elf_image *out, struct vmm_error *err)
{
	struct elf_view e = { .img = file->data, .len = file->len };
	bool have_load = false;

	if (parse_header(&e, err) < 0)
		return -1;
	*out = (struct elf_image){ .entry = e.entry };
	for (unsigned i = 0; i < e.phnum; i++) {
		struct segment s = read_segment(&e, i);
		if (s.type == PT_NOTE && !out->has_pvh_entry)
			out->has_pvh_entry = read_xen_notes(&e, &s, out);
		if (!is_loadable(&s))
			continue;
		uint8_t *dst = place_segment(&s, gm, map, err);
		if (!dst)
			return -1;
		if (!in_file(&e, s.offset, s.filesz) || boot_blob_copy(file, s.offset, dst, s.filesz) < 0)
			return vmm_fail(err, VMM_EXIT_USAGE, "ELF segment at 0x%llx lies outside the file",
					(unsigned long long)s.paddr);
		have_load = true;
		if (s.paddr + s.memsz > out->end)
			out->end = s.paddr + s.memsz;
	}
	if (!have_load)
		return vmm_fail(err, VMM_EXIT_USAGE, "ELF image has no loadable segment");
	return 0;
}

/* An ELF image arriving in order, a part at a time, from the decompressor. */
struct elf_stream {
	const struct guest_mem *gm;
	const struct memmap *map;
	struct vmm_error *err;
	uint8_t head[ELF_STREAM_HEAD];   /* the first bytes, with the headers */
	size_t head_len;
	struct elf_view view;            /* over head, once placed */
	bool placed;                     /* segments checked, their .bss cleared */
	uint64_t pos;                    /* the file offset of the next byte */
	uint64_t end;                    /* first byte above the segments */
};

struct elf_stream *elf_stream_open(const struct guest_mem *gm, const struct memmap *map, struct vmm_error *err)
{
	struct elf_stream *st = calloc(1, sizeof(*st));

	if (!st) {
		vmm_fail(err, VMM_EXIT_RUNTIME, "no memory to load the kernel");
		return NULL;
	}
	st->gm = gm;
	st->map = map;
	st->err = err;
	return st;
}

/* The bytes at the stream's position that belong to segments, to their places. */
static void stream_copy(struct elf_stream *st, const uint8_t *data, size_t len)
{
	for (unsigned i = 0; i < st->view.phnum; i++) {
		struct segment s = read_segment(&st->view, i);
		uint64_t lo = s.offset > st->pos ? s.offset : st->pos;
		uint64_t hi = s.offset + s.filesz < st->pos + len ? s.offset + s.filesz : st->pos + len;
		if (is_loadable(&s) && lo < hi)
			memcpy(guest_mem_ptr(st->gm, s.paddr + (lo - s.offset), hi - lo), data + (lo - st->pos),
			       hi - lo);
	}
	st->pos += len;
}

/* The headers are in: every segment is checked and its .bss cleared before data is copied. */
static int stream_place(struct elf_stream *st)
{
	st->view = (struct elf_view){ .img = st->head, .len = st->head_len };
	if (parse_header(&st->view, st->err) < 0)
		return -1;
	for (unsigned i = 0; i < st->view.phnum; i++) {
		struct segment s = read_segment(&st->view, i);
		if (!is_loadable(&s))
			continue;
		if (!place_segment(&s, st->gm, st->map, st->err))
			return -1;
		if (s.paddr + s.memsz > st->end)
			st->end = s.paddr + s.memsz;
	}
	if (st->end == 0)
		return vmm_fail(st->err, VMM_EXIT_USAGE, "ELF image has no loadable segment");
	st->placed = true;
	stream_copy(st, st->head, st->head_len);
	return 0;
}

int elf_stream_write(void *ctx, const uint8_t *data, size_t len)
{
	struct elf_stream *st = ctx;

	if (!st->placed) {
		size_t n = len < ELF_STREAM_HEAD - st->head_len ? len : ELF_STREAM_HEAD - st->head_len;
		memcpy(st->head + st->head_len, data, n);
		st->head_len += n;
		data += n;
		len -= n;
		if (st->head_len < ELF_STREAM_HEAD)
			return 0;
		if (stream_place(st) < 0)
			return -1;
	}
	stream_copy(st, data, len);
	return 0;
}

/* Every segment's bytes came: none lies beyond the end of the stream. */
static int stream_complete(struct elf_stream *st, struct elf_image *out)
{
	if (!st->placed && stream_place(st) < 0)
		return -1;
	for (unsigned i = 0; i < st->view.phnum; i++) {
		struct segment s = read_segment(&st->view, i);
		if (is_loadable(&s) && s.offset + s.filesz > st->pos)
			return vmm_fail(st->err, VMM_EXIT_USAGE, "ELF segment at 0x%llx lies outside the file",
					(unsigned long long)s.paddr);
	}
	*out = (struct elf_image){ .entry = st->view.entry, .end = st->end };
	return 0;
}

int elf_stream_close(struct elf_stream *st, struct elf_image *out)
{
	int ret = out ? stream_complete(st, out) : -1;

	free(st);
	return ret;
}
