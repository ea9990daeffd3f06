/* The PVH ELF loader and hvm_start_info, and initrd placement. */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "pvh.h"
#include "suites.h"

#define RAM (16 * MiB)
#define ENTRY 0x100040u

static struct memmap map;
static struct guest_mem gm;
static uint8_t *ram;

static void setup(void)
{
	ram = calloc(1, RAM);
	ck_assert_ptr_nonnull(ram);
	memmap_init(&map, RAM);
	gm.region[0] = (struct guest_mem_region){ 0, RAM, ram };
	gm.nr_regions = 1;
}

static void teardown(void)
{
	free(ram);
}

/* An image: header, program headers, a 64-byte payload, then the note. */
struct image_spec {
	bool is64;
	uint64_t paddr, filesz, memsz;
	bool with_note;
	const char *note_name;
	uint32_t note_type;
};

static const struct image_spec good64 = { true, 0x100000, 64, 4096, true, "Xen", XEN_ELFNOTE_PHYS32_ENTRY };

#define PAYLOAD_OFF 0x100
#define NOTE_OFF 0x200
#define IMAGE_SIZE 0x220

static void put_note(uint8_t *img, const struct image_spec *s)
{
	uint32_t hdr[3] = { 4, 4, s->note_type };
	uint32_t entry = ENTRY;

	memcpy(img + NOTE_OFF, hdr, sizeof(hdr));
	memcpy(img + NOTE_OFF + 12, s->note_name, 4);
	memcpy(img + NOTE_OFF + 16, &entry, 4);
}

static void build64(uint8_t *img, const struct image_spec *s)
{
	Elf64_Ehdr *h = (Elf64_Ehdr *)img;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof(*h));

	h->e_machine = EM_X86_64;
	h->e_phoff = sizeof(*h);
	h->e_phentsize = sizeof(*ph);
	h->e_phnum = s->with_note ? 2 : 1;
	ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = PAYLOAD_OFF, .p_paddr = s->paddr,
			      .p_filesz = s->filesz, .p_memsz = s->memsz };
	ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = NOTE_OFF, .p_filesz = 20 };
}

static void build32(uint8_t *img, const struct image_spec *s)
{
	Elf32_Ehdr *h = (Elf32_Ehdr *)img;
	Elf32_Phdr *ph = (Elf32_Phdr *)(img + sizeof(*h));

	h->e_machine = EM_386;
	h->e_phoff = sizeof(*h);
	h->e_phentsize = sizeof(*ph);
	h->e_phnum = s->with_note ? 2 : 1;
	ph[0] = (Elf32_Phdr){ .p_type = PT_LOAD, .p_offset = PAYLOAD_OFF, .p_paddr = (uint32_t)s->paddr,
			      .p_filesz = (uint32_t)s->filesz, .p_memsz = (uint32_t)s->memsz };
	ph[1] = (Elf32_Phdr){ .p_type = PT_NOTE, .p_offset = NOTE_OFF, .p_filesz = 20 };
}

static void build(uint8_t *img, const struct image_spec *s)
{
	memset(img, 0, IMAGE_SIZE);
	memcpy(img, ELFMAG, SELFMAG);
	img[EI_CLASS] = s->is64 ? ELFCLASS64 : ELFCLASS32;
	img[EI_DATA] = ELFDATA2LSB;
	img[EI_VERSION] = EV_CURRENT;
	if (s->is64)
		build64(img, s);
	else
		build32(img, s);
	for (int i = 0; i < 64; i++)
		img[PAYLOAD_OFF + i] = (uint8_t)(i + 1);
	if (s->with_note)
		put_note(img, s);
}

static void expect_refused(const uint8_t *img, size_t len, const char *fragment)
{
	struct pvh_image out;
	struct vmm_error err = { 0 };

	ck_assert_int_eq(pvh_load_elf(&gm, &map, &(struct boot_blob){ img, len, -1 }, &out, &err), -1);
	ck_assert_int_eq(err.status, VMM_EXIT_USAGE);
	ck_assert_msg(strstr(err.msg, fragment), "message '%s' lacks '%s'", err.msg, fragment);
}

static void check_loaded(const struct pvh_image *out)
{
	ck_assert_uint_eq(out->entry, ENTRY);
	ck_assert_uint_eq(out->end, 0x100000 + 4096);
	for (int i = 0; i < 64; i++)
		ck_assert_uint_eq(ram[0x100000 + i], i + 1);
	for (int i = 64; i < 4096; i++)
		ck_assert_uint_eq(ram[0x100000 + i], 0);
}

START_TEST(test_load_elf64)
{
	uint8_t img[IMAGE_SIZE];
	struct pvh_image out;
	struct vmm_error err = { 0 };

	build(img, &good64);
	memset(ram + 0x100000, 0xcc, 8192);   /* .bss must be zeroed */
	ck_assert_int_eq(pvh_load_elf(&gm, &map, &(struct boot_blob){ img, sizeof(img), -1 }, &out, &err), 0);
	check_loaded(&out);
}
END_TEST

START_TEST(test_load_elf32)
{
	uint8_t img[IMAGE_SIZE];
	struct image_spec s = good64;
	struct pvh_image out;
	struct vmm_error err = { 0 };

	s.is64 = false;
	build(img, &s);
	ck_assert_int_eq(pvh_load_elf(&gm, &map, &(struct boot_blob){ img, sizeof(img), -1 }, &out, &err), 0);
	check_loaded(&out);
}
END_TEST

START_TEST(test_malformed_headers)
{
	uint8_t img[IMAGE_SIZE];

	build(img, &good64);
	img[1] = 'X';
	expect_refused(img, sizeof(img), "bad magic");
	build(img, &good64);
	expect_refused(img, 10, "bad magic");
	expect_refused(img, 40, "truncated in its header");
	expect_refused(img, sizeof(Elf64_Ehdr) + 10, "truncated in its program headers");
	img[EI_CLASS] = 7;
	expect_refused(img, sizeof(img), "unknown ELF class");
	build(img, &good64);
	((Elf64_Ehdr *)img)->e_machine = EM_AARCH64;
	expect_refused(img, sizeof(img), "not for x86");
	build(img, &good64);
	((Elf64_Ehdr *)img)->e_phoff = UINT64_MAX - 8;
	expect_refused(img, sizeof(img), "truncated in its program headers");
	build(img, &good64);
	((Elf64_Ehdr *)img)->e_phentsize = 12;
	expect_refused(img, sizeof(img), "no usable program headers");
}
END_TEST

START_TEST(test_bad_segments)
{
	uint8_t img[IMAGE_SIZE];
	struct image_spec s = good64;

	s.paddr = 0x8000;
	build(img, &s);
	expect_refused(img, sizeof(img), "between 1 MiB");
	s = good64;
	s.paddr = RAM - 2048;
	build(img, &s);
	expect_refused(img, sizeof(img), "not in guest RAM");
	s = good64;
	s.paddr = UINT64_MAX - 100;
	build(img, &s);
	expect_refused(img, sizeof(img), "not in guest RAM");
	s = good64;
	s.filesz = 8192;
	build(img, &s);
	expect_refused(img, sizeof(img), "outside the file");
	s = good64;
	s.memsz = 16;
	build(img, &s);
	expect_refused(img, sizeof(img), "outside the file");
	s = good64;
	s.filesz = UINT64_MAX;
	s.memsz = UINT64_MAX;
	build(img, &s);
	expect_refused(img, sizeof(img), "outside the file");
}
END_TEST

START_TEST(test_missing_entry_note)
{
	uint8_t img[IMAGE_SIZE];
	struct image_spec s = good64;

	s.with_note = false;
	build(img, &s);
	expect_refused(img, sizeof(img), "no PVH entry note");
	s = good64;
	s.note_name = "Lnx";
	build(img, &s);
	expect_refused(img, sizeof(img), "no PVH entry note");
	s = good64;
	s.note_type = 1;
	build(img, &s);
	expect_refused(img, sizeof(img), "no PVH entry note");
	build(img, &good64);
	uint32_t huge = 0xfffffff0;   /* namesz running off the segment */
	memcpy(img + NOTE_OFF, &huge, 4);
	expect_refused(img, sizeof(img), "no PVH entry note");
	build(img, &good64);
	expect_refused(img, NOTE_OFF + 8, "no PVH entry note");   /* note cut off by the file end */
}
END_TEST

START_TEST(test_start_info)
{
	struct pvh_boot_params bp = { .cmdline = "console=ttyS0 x", .initrd_addr = 0x800000,
				      .initrd_size = 1234, .rsdp_addr = ACPI_TABLES_ADDR };
	struct vmm_error err = { 0 };
	struct hvm_start_info si;
	struct hvm_modlist_entry mod;
	struct hvm_memmap_entry mm[8];

	ck_assert_int_eq(pvh_write_start_info(&gm, &map, &bp, &err), 0);
	memcpy(&si, ram + BOOT_START_INFO_ADDR, sizeof(si));
	ck_assert_uint_eq(si.magic, HVM_START_MAGIC);
	ck_assert_uint_eq(si.version, 1);
	ck_assert_uint_eq(si.nr_modules, 1);
	ck_assert_str_eq((char *)ram + si.cmdline_paddr, "console=ttyS0 x");
	ck_assert_uint_eq(si.rsdp_paddr, ACPI_TABLES_ADDR);
	memcpy(&mod, ram + si.modlist_paddr, sizeof(mod));
	ck_assert_uint_eq(mod.paddr, 0x800000);
	ck_assert_uint_eq(mod.size, 1234);
	ck_assert_uint_eq(si.memmap_entries, 6);
	memcpy(mm, ram + si.memmap_paddr, si.memmap_entries * sizeof(mm[0]));
	ck_assert_uint_eq(mm[4].addr, 1 * MiB);
	ck_assert_uint_eq(mm[4].addr + mm[4].size, RAM);
	ck_assert_uint_eq(mm[4].type, E820_RAM);
}
END_TEST

START_TEST(test_cmdline_too_long)
{
	char *long_line = malloc(BOOT_CMDLINE_MAX + 1);
	struct pvh_boot_params bp = { .cmdline = long_line };
	struct vmm_error err = { 0 };

	memset(long_line, 'a', BOOT_CMDLINE_MAX);
	long_line[BOOT_CMDLINE_MAX] = 0;
	ck_assert_int_eq(pvh_write_start_info(&gm, &map, &bp, &err), -1);
	ck_assert_int_eq(err.status, VMM_EXIT_USAGE);
	long_line[BOOT_CMDLINE_MAX - 1] = 0;
	ck_assert_int_eq(pvh_write_start_info(&gm, &map, &bp, &err), 0);
	free(long_line);
}
END_TEST

START_TEST(test_initrd_placement)
{
	struct vmm_error err = { 0 };
	uint64_t addr;

	ck_assert_int_eq(boot_place_initrd(&map, 0x200000, UINT64_MAX, 5000, &addr, &err), 0);
	ck_assert_uint_eq(addr % 4096, 0);
	ck_assert_uint_ge(addr, 0x200000);
	ck_assert_uint_le(addr + 5000, RAM);
	ck_assert_uint_gt(addr + 4096 + 5000, RAM);   /* as high as it goes */
	ck_assert_int_eq(boot_place_initrd(&map, 0x200000, UINT64_MAX, RAM, &addr, &err), -1);
	ck_assert_int_eq(boot_place_initrd(&map, 0x200000, UINT64_MAX, RAM - 0x200000 + 1, &addr, &err), -1);
	ck_assert_int_eq(boot_place_initrd(&map, 0x200000, UINT64_MAX, RAM - 0x200000, &addr, &err), 0);
	ck_assert_uint_eq(addr, 0x200000);
}
END_TEST

Suite *pvh_suite(void)
{
	Suite *s = suite_create("pvh");
	TCase *tc = tcase_create("pvh");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_load_elf64);
	tcase_add_test(tc, test_load_elf32);
	tcase_add_test(tc, test_malformed_headers);
	tcase_add_test(tc, test_bad_segments);
	tcase_add_test(tc, test_missing_entry_note);
	tcase_add_test(tc, test_start_info);
	tcase_add_test(tc, test_cmdline_too_long);
	tcase_add_test(tc, test_initrd_placement);
	suite_add_tcase(s, tc);
	return s;
}
