/* ACPI tables placed by QEMU's table loader script, run as SeaBIOS's romfile_loader.c runs it, then read as an OS reads them. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "acpi.h"
#include "acpi_loader.h"
#include "acpi_tables.h"
#include "memmap.h"
#include "suites.h"

/* Where the firmware allocates from: high RAM below its end, and the F segment. */
#define HIGH_GPA 0x1fff0000u
#define HIGH_FREE (HIGH_GPA + 0x10)   /* not 64-byte aligned: the script's alignment has to be honoured */
#define FSEG_GPA 0xf0000u
#define FSEG_FREE 0xf5a04u            /* nor 16-byte aligned, where an OS looks for the RSDP */
#define RSDP_GPA 0xf5a10u
#define NR_CPUS 2

struct area {
	uint64_t gpa;
	uint8_t *mem;
	size_t size;
	uint64_t next;   /* the first free byte */
};

/* A fw_cfg file as the script names it, and where ALLOCATE put it. */
struct file {
	const char *name;
	size_t size;
	uint8_t *placed;
	uint64_t gpa;
};

static uint8_t high_mem[0x30000], fseg_mem[0x10000];
static struct area areas[2];   /* by zone - 1 */
static uint8_t tables[ACPI_TABLES_SIZE];
static size_t tables_len;
static struct acpi_layout layout;
static uint8_t script[ACPI_LOADER_MAX_ENTRIES * ACPI_LOADER_ENTRY_SIZE];
static size_t script_len;
static struct file files[2];

static struct acpi_board board_of(bool firmware)
{
	struct acpi_board b = {
		.com1_port = 0x3f8, .com1_ports = 8, .com1_gsi = 4, .reset_port = 0x64, .reset_value = 0xfe,
		.sleep_port = 0x600, .s5_sleep_type = 5, .pci_config_port = 0xcf8, .pci_slots = 32, .rtc_gsi = 8,
	};

	/* What vmm/machine.c's machine_acpi_board() says with firmware and without. */
	if (firmware) {
		b.pm_port = 0x600;
		b.rtc_port = 0x70;
		b.pci_mmio_base = FIRMWARE_PCI_MMIO_BASE;
		b.pci_mmio_end = FIRMWARE_PCI_MMIO_END;
	} else {
		b.pci_ecam = true;
		b.pci_mmio_base = PCI_MMIO_BASE;
		b.pci_mmio_end = PCI_MMIO_BASE + PCI_MMIO_SIZE;
	}
	for (unsigned slot = 0; slot < 32; slot++)
		b.pci_slot_gsi[slot] = 16 + slot % 8;
	return b;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static uint32_t u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static struct file *find_file(const uint8_t *name)
{
	ck_assert_msg(memchr(name, 0, ACPI_LOADER_FILE_MAX), "a file name without its NUL");
	for (int i = 0; i < 2; i++)
		if (!strcmp((const char *)name, files[i].name))
			return &files[i];
	ck_abort_msg("no fw_cfg file '%s'", name);
	return NULL;
}

/* A file the script has allocated already: naming one before is an error. */
static struct file *allocated(const uint8_t *name)
{
	struct file *f = find_file(name);

	ck_assert_msg(f->placed, "%s named before its ALLOCATE", f->name);
	return f;
}

static void run_allocate(const uint8_t *e)
{
	struct file *f = find_file(e + 4);
	uint32_t align = u32(e + 60);
	uint8_t zone = e[64];

	ck_assert_msg(zone == ACPI_LOADER_ZONE_HIGH || zone == ACPI_LOADER_ZONE_FSEG, "zone %u", zone);
	ck_assert_msg(align && !(align & (align - 1)), "alignment %u", align);
	ck_assert_msg(!f->placed, "%s allocated twice", f->name);
	struct area *a = &areas[zone - 1];
	uint64_t gpa = (a->next + align - 1) & ~(uint64_t)(align - 1);
	ck_assert_uint_le(gpa + f->size, a->gpa + a->size);
	f->gpa = gpa;
	f->placed = a->mem + (gpa - a->gpa);
	memcpy(f->placed, tables, f->size);   /* both files start at the tables' first byte */
	a->next = gpa + f->size;
}

static void run_add_pointer(const uint8_t *e)
{
	struct file *dest = allocated(e + 4), *src = allocated(e + 60);
	uint32_t offset = u32(e + 116);
	uint8_t size = e[120];
	uint64_t v = 0;

	ck_assert_msg(size == 1 || size == 2 || size == 4 || size == 8, "pointer size %u", size);
	ck_assert_uint_le((uint64_t)offset + size, dest->size);
	memcpy(&v, dest->placed + offset, size);
	v += src->gpa;
	ck_assert_msg(size == 8 || v >> (8 * size) == 0, "the address does not fit %u bytes", size);
	memcpy(dest->placed + offset, &v, size);
}

static void run_add_checksum(const uint8_t *e)
{
	struct file *f = allocated(e + 4);
	uint32_t offset = u32(e + 60), start = u32(e + 64), length = u32(e + 68);

	ck_assert_uint_lt(offset, f->size);
	ck_assert_uint_le((uint64_t)start + length, f->size);
	f->placed[offset] -= sum(f->placed + start, length);
}

/* A checksum fixed before a pointer in its range is patched would be wrong again: pointers come first. */
static void run_script(void)
{
	bool checksummed = false;

	ck_assert_uint_eq(script_len % ACPI_LOADER_ENTRY_SIZE, 0);
	for (size_t off = 0; off < script_len; off += ACPI_LOADER_ENTRY_SIZE) {
		const uint8_t *e = script + off;
		switch (u32(e)) {
		case ACPI_LOADER_ALLOCATE:
			run_allocate(e);
			break;
		case ACPI_LOADER_ADD_POINTER:
			ck_assert_msg(!checksummed, "ADD_POINTER after an ADD_CHECKSUM at %zu", off);
			run_add_pointer(e);
			break;
		case ACPI_LOADER_ADD_CHECKSUM:
			checksummed = true;
			run_add_checksum(e);
			break;
		default:
			ck_abort_msg("command %u at %zu", u32(e), off);
		}
	}
}

/* The tables and the script as firmware_fill_fw_cfg() hands them over, then the script run. */
static void load(const struct acpi_board *board)
{
	struct acpi_config cfg = { .nr_cpus = NR_CPUS, .board = board };

	memset(high_mem, 0, sizeof(high_mem));
	memset(fseg_mem, 0, sizeof(fseg_mem));
	areas[0] = (struct area){ HIGH_GPA, high_mem, sizeof(high_mem), HIGH_FREE };
	areas[1] = (struct area){ FSEG_GPA, fseg_mem, sizeof(fseg_mem), FSEG_FREE };
	tables_len = acpi_build_relocatable(tables, sizeof(tables), &cfg, &layout);
	ck_assert_uint_gt(tables_len, 0);
	files[0] = (struct file){ .name = ACPI_LOADER_TABLES_FILE, .size = tables_len };
	files[1] = (struct file){ .name = ACPI_LOADER_RSDP_FILE, .size = layout.rsdp.length };
	script_len = acpi_loader_build(&layout, script, sizeof(script));
	ck_assert_uint_gt(script_len, 0);
	run_script();
}

static void load_firmware_tables(void)
{
	struct acpi_board board = board_of(true);

	load(&board);
}

/* len bytes at gpa, which must be in the placed tables file. */
static const uint8_t *in_tables(uint64_t gpa, size_t len)
{
	const struct file *t = &files[0];

	ck_assert_msg(gpa >= t->gpa && gpa + len <= t->gpa + t->size, "0x%llx is not in the tables",
		      (unsigned long long)gpa);
	return t->placed + (gpa - t->gpa);
}

static const uint8_t *table_at(uint64_t gpa, const char *sig)
{
	const uint8_t *t = in_tables(gpa, sizeof(struct acpi_header));

	ck_assert_mem_eq(t, sig, 4);
	in_tables(gpa, u32(t + 4));
	ck_assert_msg(sum(t, u32(t + 4)) == 0, "%s: bad checksum", sig);
	return t;
}

/* An OS's search: "RSD PTR " on a 16-byte boundary with a good checksum, in the BIOS area. */
static const uint8_t *find_rsdp(void)
{
	for (size_t off = 0; off + sizeof(struct acpi_rsdp) <= sizeof(fseg_mem); off += 16)
		if (!memcmp(fseg_mem + off, "RSD PTR ", 8) && sum(fseg_mem + off, ACPI_RSDP_V1_LENGTH) == 0)
			return fseg_mem + off;
	ck_abort_msg("no RSDP in the F segment");
	return NULL;
}

static const uint8_t *xsdt(void)
{
	return table_at(u64(find_rsdp() + 24), "XSDT");
}

/* The table the XSDT lists with this signature, checked; NULL if none. */
static const uint8_t *find_table(const char *sig)
{
	const uint8_t *x = xsdt();

	for (uint32_t off = sizeof(struct acpi_header); off < u32(x + 4); off += 8) {
		const uint8_t *t = in_tables(u64(x + off), sizeof(struct acpi_header));
		if (!memcmp(t, sig, 4))
			return table_at(u64(x + off), sig);
	}
	return NULL;
}

static struct acpi_fadt fadt(void)
{
	struct acpi_fadt f;
	const uint8_t *t = find_table("FACP");

	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(u32(t + 4), sizeof(f));
	memcpy(&f, t, sizeof(f));
	return f;
}

static bool contains(const uint8_t *p, size_t n, const void *what, size_t len)
{
	for (size_t i = 0; i + len <= n; i++)
		if (!memcmp(p + i, what, len))
			return true;
	return false;
}

static const uint8_t *madt_override(const uint8_t *madt, uint8_t irq)
{
	for (const uint8_t *p = madt + sizeof(struct acpi_header) + 8; p < madt + u32(madt + 4); p += p[1]) {
		ck_assert_uint_ge(p[1], 2);
		if (p[0] == MADT_TYPE_OVERRIDE && p[3] == irq)
			return p;
	}
	return NULL;
}

START_TEST(test_script_commands)
{
	unsigned allocates = 0, pointers = 0, table_sums = 0;

	load_firmware_tables();
	for (size_t off = 0; off < script_len; off += ACPI_LOADER_ENTRY_SIZE) {
		const uint8_t *e = script + off;
		uint32_t cmd = u32(e);
		if (cmd == ACPI_LOADER_ALLOCATE) {
			ck_assert_uint_eq(off, allocates++ * ACPI_LOADER_ENTRY_SIZE);   /* both before anything else */
		} else if (cmd == ACPI_LOADER_ADD_POINTER) {
			pointers++;
		} else if (!strcmp((const char *)e + 4, ACPI_LOADER_TABLES_FILE)) {
			/* A table's checksum covers the whole table, from its header. */
			uint32_t start = u32(e + 64);
			ck_assert_uint_eq(u32(e + 60), start + 9);
			ck_assert_uint_eq(u32(e + 68), u32(tables + start + 4));
			table_sums++;
		}
	}
	ck_assert_uint_eq(allocates, 2);
	ck_assert_uint_eq(pointers, layout.nr_pointers);
	ck_assert_uint_eq(table_sums, 4);   /* DSDT, FACP, APIC, XSDT; the FACS has none */
	/* The RSDP's two checksums last, the 20-byte one first: the 36-byte one covers it. */
	const uint8_t *v1 = script + script_len - 2 * ACPI_LOADER_ENTRY_SIZE, *v2 = v1 + ACPI_LOADER_ENTRY_SIZE;
	ck_assert_str_eq((const char *)v1 + 4, ACPI_LOADER_RSDP_FILE);
	ck_assert_uint_eq(u32(v1 + 60), 8);
	ck_assert_uint_eq(u32(v1 + 68), 20);
	ck_assert_uint_eq(u32(v2 + 60), 32);
	ck_assert_uint_eq(u32(v2 + 68), 36);
}
END_TEST

struct pointer_field {
	const char *file;
	uint32_t offset;
	uint8_t size;
	bool patched;
};

/* Every address field is patched once, to the tables' address, with its own width. */
START_TEST(test_pointer_fields)
{
	struct pointer_field want[8];
	unsigned n = 0;

	load_firmware_tables();
	uint32_t x = (uint32_t)u64(tables + 24);   /* the unplaced tables: addresses are offsets */
	want[n++] = (struct pointer_field){ ACPI_LOADER_RSDP_FILE, 24, 8, false };
	for (uint32_t off = x + sizeof(struct acpi_header); off < x + u32(tables + x + 4); off += 8) {
		uint32_t t = (uint32_t)u64(tables + off);
		want[n++] = (struct pointer_field){ ACPI_LOADER_TABLES_FILE, off, 8, false };
		if (memcmp(tables + t, "FACP", 4))
			continue;
		want[n++] = (struct pointer_field){ ACPI_LOADER_TABLES_FILE, t + offsetof(struct acpi_fadt, firmware_ctrl), 4,
						    false };
		want[n++] = (struct pointer_field){ ACPI_LOADER_TABLES_FILE, t + offsetof(struct acpi_fadt, dsdt), 4, false };
		want[n++] = (struct pointer_field){ ACPI_LOADER_TABLES_FILE, t + offsetof(struct acpi_fadt, x_dsdt), 8, false };
	}
	for (size_t off = 0; off < script_len; off += ACPI_LOADER_ENTRY_SIZE) {
		const uint8_t *e = script + off;
		if (u32(e) != ACPI_LOADER_ADD_POINTER)
			continue;
		ck_assert_str_eq((const char *)e + 60, ACPI_LOADER_TABLES_FILE);
		unsigned i = 0;
		while (i < n && (strcmp((const char *)e + 4, want[i].file) || u32(e + 116) != want[i].offset))
			i++;
		ck_assert_msg(i < n, "a pointer at %s+%u", e + 4, u32(e + 116));
		ck_assert_msg(!want[i].patched, "%s+%u patched twice", want[i].file, want[i].offset);
		ck_assert_uint_eq(e[120], want[i].size);
		want[i].patched = true;
	}
	for (unsigned i = 0; i < n; i++)
		ck_assert_msg(want[i].patched, "%s+%u not patched", want[i].file, want[i].offset);
}
END_TEST

START_TEST(test_rsdp_in_the_f_segment)
{
	load_firmware_tables();
	const uint8_t *rsdp = find_rsdp();

	ck_assert_ptr_eq(rsdp, fseg_mem + (RSDP_GPA - FSEG_GPA));
	ck_assert_uint_eq(rsdp[15], 2);
	ck_assert_uint_eq(u32(rsdp + 20), 36);
	ck_assert_uint_eq(sum(rsdp, 36), 0);
	ck_assert_uint_eq(files[0].gpa % 64, 0);
	ck_assert_ptr_eq(xsdt(), in_tables(u64(rsdp + 24), 36));
}
END_TEST

START_TEST(test_xsdt_lists_fadt_and_madt)
{
	load_firmware_tables();
	const uint8_t *x = xsdt();

	ck_assert_uint_eq(u32(x + 4), sizeof(struct acpi_header) + 2 * 8);
	ck_assert_ptr_nonnull(find_table("FACP"));
	ck_assert_ptr_nonnull(find_table("APIC"));
	ck_assert_ptr_null(find_table("MCFG"));   /* no ECAM on the i440FX */
}
END_TEST

START_TEST(test_fadt_fixed_hardware)
{
	load_firmware_tables();
	struct acpi_fadt f = fadt();

	ck_assert_uint_eq(f.dsdt, f.x_dsdt);
	table_at(f.x_dsdt, "DSDT");
	ck_assert_uint_eq(f.flags & FADT_HW_REDUCED_ACPI, 0);
	ck_assert_uint_eq(f.smi_cmd, 0);          /* in ACPI mode from reset, as acpi_pm.c is */
	ck_assert_uint_eq(f.sci_int, 9);
	ck_assert_uint_eq(f.pm1a_evt_blk, 0x600);
	ck_assert_uint_eq(f.pm1a_cnt_blk, 0x604);
	ck_assert_uint_eq(f.pm_tmr_blk, 0x608);
	ck_assert_uint_eq(f.pm1_evt_len, 4);
	ck_assert_uint_eq(f.pm1_cnt_len, 2);
	ck_assert_uint_eq(f.pm_tmr_len, 4);
	ck_assert_uint_eq(f.x_pm1a_evt_blk.address, 0x600);
	ck_assert_uint_eq(f.x_pm1a_cnt_blk.address, 0x604);
	ck_assert_uint_eq(f.x_pm1a_cnt_blk.bit_width, 16);
	ck_assert_uint_eq(f.x_pm_tmr_blk.address, 0x608);
	ck_assert_uint_eq(f.x_pm_tmr_blk.bit_width, 32);
	ck_assert_uint_eq(f.flags & (1u << 8), 0);   /* TMR_VAL_EXT clear: a 24-bit timer, as acpi_pm.c's */
	ck_assert_uint_eq(f.iapc_boot_arch & IAPC_CMOS_RTC_NOT_PRESENT, 0);
}
END_TEST

START_TEST(test_facs_placed_aligned)
{
	load_firmware_tables();
	struct acpi_fadt f = fadt();

	ck_assert_uint_eq(f.x_firmware_ctrl, 0);  /* only one of the two may be set */
	ck_assert_uint_eq(f.firmware_ctrl % 64, 0);
	const uint8_t *facs = in_tables(f.firmware_ctrl, sizeof(struct acpi_facs));
	ck_assert_mem_eq(facs, "FACS", 4);
	ck_assert_uint_eq(u32(facs + 4), 64);
}
END_TEST

START_TEST(test_dsdt_rtc_pci_and_s5)
{
	load_firmware_tables();
	struct acpi_fadt f = fadt();
	const uint8_t *dsdt = table_at(f.x_dsdt, "DSDT");
	size_t len = u32(dsdt + 4);
	const uint8_t pnp0b00[] = { 0x0c, 0x41, 0xd0, 0x0b, 0x00 }, pnp0a03[] = { 0x0c, 0x41, 0xd0, 0x0a, 0x03 };
	const uint8_t pnp0a08[] = { 0x0c, 0x41, 0xd0, 0x0a, 0x08 };
	const uint8_t io_rtc[] = { 0x47, 0x01, 0x70, 0x00, 0x70, 0x00, 0x01, 0x02 };
	/* Name(\_S5, Package(2) { 5, 5 }): the SLP_TYP acpi_pm.c powers off on. */
	const uint8_t s5[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a, 0x05, 0x0a, 0x05 };

	ck_assert(contains(dsdt, len, pnp0b00, sizeof(pnp0b00)));
	ck_assert(contains(dsdt, len, io_rtc, sizeof(io_rtc)));
	ck_assert(contains(dsdt, len, pnp0a03, sizeof(pnp0a03)));
	ck_assert(!contains(dsdt, len, pnp0a08, sizeof(pnp0a08)));
	ck_assert(contains(dsdt, len, "PCI0", 4));
	ck_assert(contains(dsdt, len, s5, sizeof(s5)));
}
END_TEST

START_TEST(test_madt_sci_override)
{
	load_firmware_tables();
	const uint8_t *madt = find_table("APIC");
	const uint8_t *sci = madt_override(madt, 9), *pit = madt_override(madt, 0);

	ck_assert_uint_eq(u32(madt + 40) & 1, 1);   /* PCAT_COMPAT: there are 8259s to mask */
	ck_assert_ptr_nonnull(sci);
	ck_assert_uint_eq(sci[1], 10);
	ck_assert_uint_eq(sci[2], 0);               /* ISA */
	ck_assert_uint_eq(u32(sci + 4), 9);
	ck_assert_uint_eq(sci[8] | sci[9] << 8, 0x000d);   /* level, active high */
	ck_assert_ptr_nonnull(pit);
	ck_assert_uint_eq(u32(pit + 4), 2);
}
END_TEST

/* Placed and patched, the tables are byte for byte what acpi_build() makes at that address. */
START_TEST(test_same_as_built_in_place)
{
	static uint8_t in_place[ACPI_TABLES_SIZE];
	struct acpi_board board = board_of(true);

	load(&board);
	struct acpi_config cfg = { .nr_cpus = NR_CPUS, .base = files[0].gpa, .board = &board };
	ck_assert_uint_eq(acpi_build(in_place, sizeof(in_place), &cfg), tables_len);
	ck_assert_mem_eq(find_rsdp(), in_place, sizeof(struct acpi_rsdp));
	ck_assert_mem_eq(files[0].placed + sizeof(struct acpi_rsdp), in_place + sizeof(struct acpi_rsdp),
			 tables_len - sizeof(struct acpi_rsdp));
}
END_TEST

START_TEST(test_script_buffer_too_small)
{
	uint8_t out[sizeof(script)];

	load_firmware_tables();
	ck_assert_uint_eq(acpi_loader_build(&layout, out, script_len), script_len);
	ck_assert_uint_eq(acpi_loader_build(&layout, out, script_len - 1), 0);
	ck_assert_uint_eq(acpi_loader_build(&layout, out, ACPI_LOADER_ENTRY_SIZE), 0);
	ck_assert_uint_eq(acpi_loader_build(&layout, out, 0), 0);
}
END_TEST

/* vmm's own machine, placed the same way: hardware-reduced, with MCFG, no FACS, no SCI override. */
START_TEST(test_hardware_reduced_build)
{
	struct acpi_board board = board_of(false);

	load(&board);
	struct acpi_fadt f = fadt();
	ck_assert_uint_eq(u32(xsdt() + 4), sizeof(struct acpi_header) + 3 * 8);
	ck_assert_ptr_nonnull(find_table("MCFG"));
	ck_assert_uint_eq(f.flags & FADT_HW_REDUCED_ACPI, FADT_HW_REDUCED_ACPI);
	ck_assert_uint_eq(f.firmware_ctrl, 0);
	ck_assert_uint_eq(f.x_firmware_ctrl, 0);
	ck_assert_uint_eq(f.pm1a_evt_blk, 0);
	ck_assert_uint_eq(f.sleep_control_reg.address, 0x600);
	ck_assert_uint_eq(f.iapc_boot_arch & IAPC_CMOS_RTC_NOT_PRESENT, IAPC_CMOS_RTC_NOT_PRESENT);
	ck_assert_ptr_null(madt_override(find_table("APIC"), 9));
}
END_TEST

Suite *acpi_loader_suite(void)
{
	Suite *s = suite_create("acpi_loader");
	TCase *tc = tcase_create("acpi_loader");

	tcase_add_test(tc, test_script_commands);
	tcase_add_test(tc, test_pointer_fields);
	tcase_add_test(tc, test_rsdp_in_the_f_segment);
	tcase_add_test(tc, test_xsdt_lists_fadt_and_madt);
	tcase_add_test(tc, test_fadt_fixed_hardware);
	tcase_add_test(tc, test_facs_placed_aligned);
	tcase_add_test(tc, test_dsdt_rtc_pci_and_s5);
	tcase_add_test(tc, test_madt_sci_override);
	tcase_add_test(tc, test_same_as_built_in_place);
	tcase_add_test(tc, test_script_buffer_too_small);
	tcase_add_test(tc, test_hardware_reduced_build);
	suite_add_tcase(s, tc);
	return s;
}
