/* The bzImage loader, boot_params and the 64-bit entry's page tables. */
#include <asm/bootparam.h>
#include <elf.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "bzimage.h"
#include "decompress.h"
#include "elf_loader.h"
#include "pvh.h"
#include "long_mode.h"
#include "suites.h"

#define RAM (64 * MiB)
#define SETUP_SECTS 3
#define KERNEL_BYTES 0x3000
#define IMAGE_BYTES ((SETUP_SECTS + 1) * 512 + KERNEL_BYTES)
#define PAYLOAD_OFFSET 0x200
#define ELF_ENTRY 0x1000000u
#define ELF_SEGMENT 0x400
#define PREF_ADDRESS 0x1000000u
#define INIT_SIZE 0x800000u

static struct memmap map;
static struct guest_mem gm;
static uint8_t *ram;
static uint8_t img[IMAGE_BYTES];
static struct vmm_error err;

static void setup(void)
{
	ram = calloc(1, RAM);
	ck_assert_ptr_nonnull(ram);
	memmap_init(&map, RAM);
	gm.region[0] = (struct guest_mem_region){ 0, RAM, ram };
	gm.nr_regions = 1;
	memset(&err, 0, sizeof(err));
}

static void teardown(void)
{
	free(ram);
}

/* img as the loader's file: its first len bytes, in memory. */
static const struct boot_blob *image_file(size_t len)
{
	static struct boot_blob file;

	file = (struct boot_blob){ img, len, -1 };
	return &file;
}

static struct setup_header *hdr(void)
{
	return (struct setup_header *)(img + 0x1f1);
}

/* What a 6.x x86_64 bzImage looks like to a loader. */
static void make_image(void)
{
	memset(img, 0, sizeof(img));
	struct setup_header *h = hdr();
	h->setup_sects = SETUP_SECTS;
	h->boot_flag = 0xaa55;
	h->jump = 0x6aeb;                 /* jmp over the header: it ends at 0x26c */
	h->header = 0x53726448;
	h->version = 0x020f;
	h->loadflags = LOADED_HIGH;
	h->initrd_addr_max = 0x7fffffff;
	h->kernel_alignment = 0x200000;
	h->relocatable_kernel = 1;
	h->xloadflags = XLF_KERNEL_64;
	h->cmdline_size = 2047;
	h->pref_address = PREF_ADDRESS;
	h->init_size = INIT_SIZE;
	h->syssize = KERNEL_BYTES / 16;
	for (size_t i = 0; i < KERNEL_BYTES; i++)
		img[(SETUP_SECTS + 1) * 512 + i] = (uint8_t)(i * 7);
}

START_TEST(test_load_and_boot_params)
{
	struct bzimage k;

	make_image();
	ck_assert(bzimage_detect(img, sizeof(img)));
	ck_assert_int_eq(bzimage_load(&gm, &map, image_file(sizeof(img)), BZIMAGE_DECOMPRESS_GUEST, &k, &err), 0);
	ck_assert_uint_eq(k.load_addr, PREF_ADDRESS);
	ck_assert_uint_eq(k.entry64, PREF_ADDRESS + 0x200);
	ck_assert_uint_eq(k.end, PREF_ADDRESS + INIT_SIZE);
	ck_assert_mem_eq(ram + PREF_ADDRESS, img + (SETUP_SECTS + 1) * 512, KERNEL_BYTES);

	struct linux_boot_info info = { "console=ttyS0 quiet", 0x2000000, 0x123456, 0xe0000 };
	ck_assert_int_eq(bzimage_write_boot_params(&gm, &map, &k, &info, &err), 0);
	const struct boot_params *bp = (const void *)(ram + BOOT_PARAMS_ADDR);
	ck_assert_uint_eq(bp->hdr.header, 0x53726448);
	ck_assert_uint_eq(bp->hdr.version, 0x020f);
	ck_assert_uint_eq(bp->hdr.type_of_loader, 0xff);
	ck_assert_uint_eq(bp->hdr.loadflags, LOADED_HIGH | CAN_USE_HEAP);
	ck_assert_uint_eq(bp->hdr.heap_end_ptr, 0xfe00 - 0x200);
	ck_assert_uint_eq(bp->hdr.cmd_line_ptr, BOOT_CMDLINE_ADDR);
	ck_assert_str_eq((const char *)ram + BOOT_CMDLINE_ADDR, "console=ttyS0 quiet");
	ck_assert_uint_eq(bp->hdr.ramdisk_image, 0x2000000);
	ck_assert_uint_eq(bp->hdr.ramdisk_size, 0x123456);
	ck_assert_uint_eq(bp->ext_ramdisk_image, 0);
	ck_assert_uint_eq(bp->acpi_rsdp_addr, 0xe0000);
	ck_assert_uint_eq(bp->hdr.pref_address, PREF_ADDRESS);

	/* The e820 table is the memory map header's. */
	struct e820_entry want[E820_MAX_ENTRIES];
	size_t n = memmap_e820(&map, want, E820_MAX_ENTRIES);
	ck_assert_uint_eq(bp->e820_entries, n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(bp->e820_table[i].addr, want[i].addr);
		ck_assert_uint_eq(bp->e820_table[i].size, want[i].size);
		ck_assert_uint_eq(bp->e820_table[i].type, want[i].type);
	}
}
END_TEST

START_TEST(test_not_relocatable_loads_at_1m)
{
	struct bzimage k;

	make_image();
	hdr()->relocatable_kernel = 0;
	ck_assert_int_eq(bzimage_load(&gm, &map, image_file(sizeof(img)), BZIMAGE_DECOMPRESS_GUEST, &k, &err), 0);
	ck_assert_uint_eq(k.load_addr, 0x100000);
}
END_TEST

static void expect_refused(size_t len, enum bzimage_decompress how, const char *msg)
{
	struct bzimage k;

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(bzimage_load(&gm, &map, image_file(len), how, &k, &err), -1);
	ck_assert_int_eq(err.status, VMM_EXIT_USAGE);
	ck_assert_msg(strstr(err.msg, msg), "'%s' does not say '%s'", err.msg, msg);
}

START_TEST(test_malformed_images)
{
	make_image();
	expect_refused(0x200, BZIMAGE_DECOMPRESS_GUEST, "not a bzImage");
	expect_refused((SETUP_SECTS + 1) * 512, BZIMAGE_DECOMPRESS_GUEST, "truncated");
	hdr()->header = 0x12345678;
	expect_refused(sizeof(img), BZIMAGE_DECOMPRESS_GUEST, "not a bzImage");
	make_image();
	hdr()->boot_flag = 0;
	expect_refused(sizeof(img), BZIMAGE_DECOMPRESS_GUEST, "boot flag");
	make_image();
	hdr()->version = 0x0209;
	expect_refused(sizeof(img), BZIMAGE_DECOMPRESS_GUEST, "boot protocol 2.09 has no 64-bit entry point");
	make_image();
	hdr()->xloadflags = 0;
	expect_refused(sizeof(img), BZIMAGE_DECOMPRESS_GUEST, "64-bit entry point");
	make_image();
	hdr()->loadflags = 0;
	expect_refused(sizeof(img), BZIMAGE_DECOMPRESS_GUEST, "zImage");
	make_image();
	hdr()->init_size = RAM;
	expect_refused(sizeof(img), BZIMAGE_DECOMPRESS_GUEST, "give more --memory");
	make_image();
	hdr()->setup_sects = 200;
	expect_refused(sizeof(img), BZIMAGE_DECOMPRESS_GUEST, "truncated");
	/* A file cut short inside the kernel: syssize, in 16-byte units, says so. */
	make_image();
	expect_refused(sizeof(img) - 16, BZIMAGE_DECOMPRESS_GUEST, "its header says");
}
END_TEST

START_TEST(test_command_line_limit)
{
	struct bzimage k;
	char line[64];

	make_image();
	hdr()->cmdline_size = 10;
	ck_assert_int_eq(bzimage_load(&gm, &map, image_file(sizeof(img)), BZIMAGE_DECOMPRESS_GUEST, &k, &err), 0);
	memset(line, 'x', sizeof(line));
	line[10] = 0;
	struct linux_boot_info info = { line, 0, 0, 0 };
	ck_assert_int_eq(bzimage_write_boot_params(&gm, &map, &k, &info, &err), 0);
	line[10] = 'x';
	line[11] = 0;
	ck_assert_int_eq(bzimage_write_boot_params(&gm, &map, &k, &info, &err), -1);
	ck_assert_int_eq(err.status, VMM_EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(err.msg, "at most 10"));
}
END_TEST

START_TEST(test_initrd_below_initrd_addr_max)
{
	uint64_t addr;

	ck_assert_int_eq(boot_place_initrd(&map, 0x1800000, 0x1ffffff, 0x10000, &addr, &err), 0);
	ck_assert_uint_eq(addr, 0x2000000 - 0x10000);
	ck_assert_int_eq(boot_place_initrd(&map, 0x1800000, UINT64_MAX, 0x10000, &addr, &err), 0);
	ck_assert_uint_eq(addr, RAM - 0x10000);
	ck_assert_int_eq(boot_place_initrd(&map, 0x1800000, 0x1ffffff, 0x900000, &addr, &err), -1);
}
END_TEST

START_TEST(test_identity_map)
{
	uint64_t e;

	ck_assert_int_eq(long_mode_write_tables(&gm), 0);
	memcpy(&e, ram + BOOT_PAGE_TABLES_ADDR, 8);
	ck_assert_uint_eq(e, (BOOT_PAGE_TABLES_ADDR + 0x1000) | 3);
	for (unsigned gib = 0; gib < 4; gib++) {
		memcpy(&e, ram + BOOT_PAGE_TABLES_ADDR + 0x1000 + gib * 8, 8);
		uint64_t pd = e & ~0xfffull;
		ck_assert_uint_eq(e & 3, 3);
		for (unsigned i = 0; i < 512; i += 511) {
			memcpy(&e, ram + pd + i * 8, 8);
			ck_assert_uint_eq(e, ((uint64_t)gib << 30) + ((uint64_t)i << 21) + 0x83);
		}
	}
	uint64_t gdt[4];
	memcpy(gdt, ram + BOOT_GDT_ADDR, sizeof(gdt));
	ck_assert_uint_eq((gdt[BOOT_CS_SELECTOR / 8] >> 53) & 1, 1);   /* L: 64-bit code */
	ck_assert_uint_eq((gdt[BOOT_DS_SELECTOR / 8] >> 41) & 1, 1);   /* writable data */
}
END_TEST

/* A minimal ELF64 kernel: one PT_LOAD of ELF_SEGMENT patterned bytes at ELF_ENTRY. */
static size_t make_elf(uint8_t *elf)
{
	Elf64_Ehdr *h = (Elf64_Ehdr *)elf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(elf + sizeof(*h));
	size_t data = sizeof(*h) + sizeof(*ph);

	memset(elf, 0, data + ELF_SEGMENT);
	memcpy(h->e_ident, ELFMAG, SELFMAG);
	h->e_ident[EI_CLASS] = ELFCLASS64;
	h->e_ident[EI_DATA] = ELFDATA2LSB;
	h->e_machine = EM_X86_64;
	h->e_entry = ELF_ENTRY;
	h->e_phoff = sizeof(*h);
	h->e_phentsize = sizeof(*ph);
	h->e_phnum = 1;
	*ph = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = data, .p_paddr = ELF_ENTRY,
			    .p_filesz = ELF_SEGMENT, .p_memsz = 2 * ELF_SEGMENT };
	for (size_t i = 0; i < ELF_SEGMENT; i++)
		elf[data + i] = (uint8_t)(i * 13 + 1);
	return data + ELF_SEGMENT;
}

/* Puts a compressed payload in the protected-mode kernel and points the header at it. */
static void set_payload(const uint8_t *payload, size_t len)
{
	ck_assert_uint_le(PAYLOAD_OFFSET + len, KERNEL_BYTES);
	memcpy(img + (SETUP_SECTS + 1) * 512 + PAYLOAD_OFFSET, payload, len);
	hdr()->payload_offset = PAYLOAD_OFFSET;
	hdr()->payload_length = (uint32_t)len;
}

static void expect_elf_loaded(void)
{
	struct bzimage k;
	uint8_t elf[0x1000];

	memset(ram + ELF_ENTRY, 0xaa, 2 * ELF_SEGMENT);
	ck_assert_int_eq(bzimage_load(&gm, &map, image_file(sizeof(img)), BZIMAGE_DECOMPRESS_VMM, &k, &err), 0);
	ck_assert_uint_eq(k.entry64, ELF_ENTRY);
	size_t n = make_elf(elf);
	ck_assert_mem_eq(ram + ELF_ENTRY, elf + n - ELF_SEGMENT, ELF_SEGMENT);
	for (size_t i = ELF_SEGMENT; i < 2 * ELF_SEGMENT; i++)
		ck_assert_uint_eq(ram[ELF_ENTRY + i], 0);   /* .bss zeroed */
	ck_assert_uint_eq(k.end, PREF_ADDRESS + INIT_SIZE);
}

static size_t gzip(const uint8_t *in, size_t len, uint8_t *out, size_t room)
{
	z_stream z = { 0 };

	ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)room;
	ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	size_t n = z.total_out;
	deflateEnd(&z);
	return n;
}

START_TEST(test_vmm_decompresses_gzip_and_xz)
{
	uint8_t elf[0x1000], packed[0x2000];
	size_t n = make_elf(elf);

	make_image();
	set_payload(packed, gzip(elf, n, packed, sizeof(packed)));
	expect_elf_loaded();

	size_t xz_len = 0;
	ck_assert_int_eq(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, elf, n, packed, &xz_len,
						 sizeof(packed)), LZMA_OK);
	set_payload(packed, xz_len);
	expect_elf_loaded();

	/* Corrupt, truncated and unknown payloads: one clear error each. */
	packed[xz_len / 2] ^= 0xff;
	set_payload(packed, xz_len);
	expect_refused(sizeof(img), BZIMAGE_DECOMPRESS_VMM, "xz payload is corrupt");
	set_payload(packed, 20);
	expect_refused(sizeof(img), BZIMAGE_DECOMPRESS_VMM, "xz payload is corrupt");
	set_payload((const uint8_t *)"BZh91AY&SY", 10);
	expect_refused(sizeof(img), BZIMAGE_DECOMPRESS_VMM, "--kernel-decompress=guest");
	hdr()->payload_length = KERNEL_BYTES;
	expect_refused(sizeof(img), BZIMAGE_DECOMPRESS_VMM, "payload lies outside the file");
}
END_TEST

/*
 * A kernel-sized ELF for the streaming loader: segment A (3 MiB and a bit)
 * starts inside the first ELF_STREAM_HEAD bytes and spans several
 * decompression windows; segment B follows it unaligned, with a .bss.
 */
#define BIG_A_OFFSET 0x2000
#define BIG_A_SIZE (3 * MiB + 5)
#define BIG_B_PADDR 0x1800000u
#define BIG_B_FILESZ 70000
#define BIG_B_MEMSZ 200000
#define BIG_ELF_BYTES (BIG_A_OFFSET + BIG_A_SIZE + BIG_B_FILESZ)

static uint8_t big_byte(size_t i)
{
	return (uint8_t)(i * 31 % 251 + 3);
}

static uint8_t *make_big_elf(void)
{
	uint8_t *elf = calloc(1, BIG_ELF_BYTES);
	Elf64_Ehdr *h = (Elf64_Ehdr *)elf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(elf + sizeof(*h));

	ck_assert_ptr_nonnull(elf);
	memcpy(h->e_ident, ELFMAG, SELFMAG);
	h->e_ident[EI_CLASS] = ELFCLASS64;
	h->e_ident[EI_DATA] = ELFDATA2LSB;
	h->e_machine = EM_X86_64;
	h->e_entry = ELF_ENTRY + 0x40;
	h->e_phoff = sizeof(*h);
	h->e_phentsize = sizeof(*ph);
	h->e_phnum = 2;
	ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = BIG_A_OFFSET, .p_paddr = ELF_ENTRY,
			      .p_filesz = BIG_A_SIZE, .p_memsz = BIG_A_SIZE };
	ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = BIG_A_OFFSET + BIG_A_SIZE, .p_paddr = BIG_B_PADDR,
			      .p_filesz = BIG_B_FILESZ, .p_memsz = BIG_B_MEMSZ };
	for (size_t i = BIG_A_OFFSET; i < BIG_ELF_BYTES; i++)
		elf[i] = big_byte(i);
	return elf;
}

/* Decompresses packed into guest RAM through an ELF stream. */
static int stream_load(const uint8_t *packed, size_t len, struct elf_image *out)
{
	struct elf_stream *st = elf_stream_open(&gm, &map, &err);

	ck_assert_ptr_nonnull(st);
	if (decompress(packed, len, elf_stream_write, st, &err) < 0) {
		elf_stream_close(st, NULL);
		return -1;
	}
	return elf_stream_close(st, out);
}

START_TEST(test_stream_spans_windows)
{
	uint8_t *elf = make_big_elf(), *packed = malloc(BIG_ELF_BYTES);
	size_t xz_len = 0, gz_len = gzip(elf, BIG_ELF_BYTES, packed, BIG_ELF_BYTES);
	struct elf_image out;

	ck_assert_uint_gt(BIG_A_SIZE, 2 * DECOMPRESS_WINDOW);
	for (int format = 0; format < 2; format++) {
		memset(ram + ELF_ENTRY, 0xcc, BIG_A_SIZE);
		memset(ram + BIG_B_PADDR, 0xcc, BIG_B_MEMSZ);
		if (format == 1)
			ck_assert_int_eq(lzma_easy_buffer_encode(1, LZMA_CHECK_CRC32, NULL, elf, BIG_ELF_BYTES, packed,
								 &xz_len, BIG_ELF_BYTES), LZMA_OK);
		ck_assert_int_eq(stream_load(packed, format ? xz_len : gz_len, &out), 0);
		ck_assert_uint_eq(out.entry, ELF_ENTRY + 0x40);
		ck_assert_uint_eq(out.end, BIG_B_PADDR + BIG_B_MEMSZ);
		ck_assert_mem_eq(ram + ELF_ENTRY, elf + BIG_A_OFFSET, BIG_A_SIZE);
		ck_assert_mem_eq(ram + BIG_B_PADDR, elf + BIG_A_OFFSET + BIG_A_SIZE, BIG_B_FILESZ);
		for (size_t i = BIG_B_FILESZ; i < BIG_B_MEMSZ; i++)
			ck_assert_uint_eq(ram[BIG_B_PADDR + i], 0);
	}
	free(packed);
	free(elf);
}
END_TEST

START_TEST(test_stream_refusals)
{
	uint8_t *elf = make_big_elf(), *packed = malloc(BIG_ELF_BYTES);
	Elf64_Phdr *ph = (Elf64_Phdr *)(elf + sizeof(Elf64_Ehdr));
	struct elf_image out;

	/* A segment whose bytes the stream never brings. */
	ck_assert_int_eq(stream_load(packed, gzip(elf, BIG_ELF_BYTES - 1, packed, BIG_ELF_BYTES), &out), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "lies outside the file"));
	/* A segment beyond guest RAM: the sink stops the decompressor, and its reason is the error. */
	ph[1].p_paddr = RAM - 4096;
	ck_assert_int_eq(stream_load(packed, gzip(elf, BIG_ELF_BYTES, packed, BIG_ELF_BYTES), &out), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "is not in guest RAM"));
	/* Shorter than its own headers, and not an ELF. */
	ck_assert_int_eq(stream_load(packed, gzip(elf, 100, packed, BIG_ELF_BYTES), &out), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "program headers"));
	memset(elf, 0, 4);
	ck_assert_int_eq(stream_load(packed, gzip(elf, BIG_ELF_BYTES, packed, BIG_ELF_BYTES), &out), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "not an ELF"));
	free(packed);
	free(elf);
}
END_TEST

/* What of the mapping at addr is in this process's memory (/proc/self/smaps Rss), in KiB. */
static long mapped_kib(const void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[256];
	unsigned long lo, hi;
	long kib = -1;
	bool here = false;

	ck_assert_ptr_nonnull(f);
	while (kib < 0 && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			here = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
		else if (here && sscanf(line, "Rss: %ld kB", &kib) != 1)
			kib = -1;
	}
	fclose(f);
	return kib;
}

/*
 * A file given by path: the kernel is read with pread(), the mapping's
 * bulk never touched (the kernel maps a fault's neighbours too, up to
 * 64 KiB of them).
 */
#define FILE_TAIL MiB

START_TEST(test_kernel_read_from_the_file)
{
	struct bzimage k;
	int fd = memfd_create("bzimage", MFD_CLOEXEC);
	size_t len = sizeof(img) + FILE_TAIL;
	uint8_t *tail = malloc(FILE_TAIL), out[16];

	make_image();
	for (size_t i = 0; i < FILE_TAIL; i++)
		tail[i] = big_byte(i);
	ck_assert_int_eq(write(fd, img, sizeof(img)), (ssize_t)sizeof(img));
	ck_assert_int_eq(write(fd, tail, FILE_TAIL), (ssize_t)FILE_TAIL);
	uint8_t *mapped = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	ck_assert_ptr_ne(mapped, MAP_FAILED);
	struct boot_blob file = { mapped, len, fd };
	ck_assert_int_eq(bzimage_load(&gm, &map, &file, BZIMAGE_DECOMPRESS_GUEST, &k, &err), 0);
	ck_assert_mem_eq(ram + PREF_ADDRESS, img + (SETUP_SECTS + 1) * 512, KERNEL_BYTES);
	ck_assert_mem_eq(ram + PREF_ADDRESS + KERNEL_BYTES, tail, FILE_TAIL);
	ck_assert_int_le(mapped_kib(mapped), 64);

	ck_assert_int_eq(boot_blob_copy(&file, len - 16, out, 16), 0);
	ck_assert_mem_eq(out, tail + FILE_TAIL - 16, 16);
	ck_assert_int_eq(boot_blob_copy(&file, len - 15, out, 16), -1);   /* past the end */
	ck_assert_int_eq(ftruncate(fd, 4096), 0);                          /* shrunk under us */
	ck_assert_int_eq(boot_blob_copy(&file, 8192, out, 16), -1);
	ck_assert_int_eq(bzimage_load(&gm, &map, &file, BZIMAGE_DECOMPRESS_GUEST, &k, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot read"));
	munmap(mapped, len);
	close(fd);
	free(tail);
}
END_TEST

Suite *bzimage_suite(void)
{
	Suite *s = suite_create("bzimage");
	TCase *tc = tcase_create("bzimage");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_load_and_boot_params);
	tcase_add_test(tc, test_not_relocatable_loads_at_1m);
	tcase_add_test(tc, test_malformed_images);
	tcase_add_test(tc, test_command_line_limit);
	tcase_add_test(tc, test_initrd_below_initrd_addr_max);
	tcase_add_test(tc, test_identity_map);
	tcase_add_test(tc, test_vmm_decompresses_gzip_and_xz);
	tcase_add_test(tc, test_stream_spans_windows);
	tcase_add_test(tc, test_stream_refusals);
	tcase_add_test(tc, test_kernel_read_from_the_file);
	suite_add_tcase(s, tc);
	return s;
}
