/* Booting through firmware: the boot order, fw_cfg and CMOS as SeaBIOS reads them through their ports, loading images. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firmware.h"
#include "machine.h"
#include "suites.h"

/* Three disks as disks_attach() places them after the PIIX3, the third one further on. */
static const struct firmware_disk disks[] = { { 2 }, { 3 }, { 10 } };

static size_t bootorder(const struct boot_config *boot, char *out, size_t size)
{
	struct firmware_setup s = { .boot = boot, .disks = disks, .nr_disks = 3 };

	return firmware_bootorder(&s, out, size);
}

START_TEST(test_bootorder_default)
{
	const struct boot_config boot = { 0 };
	char out[256];
	size_t n = bootorder(&boot, out, sizeof(out));

	ck_assert_uint_eq(n, strlen(out));
	ck_assert_str_eq(out, "/pci@i0cf8/disk@2\n/pci@i0cf8/disk@3\n/pci@i0cf8/disk@a\n");
}
END_TEST

START_TEST(test_bootorder_disk_first)
{
	const struct boot_config boot = { .order = { 2 }, .nr_order = 1 };
	char out[256];
	size_t n = bootorder(&boot, out, sizeof(out));

	ck_assert_uint_eq(n, strlen(out));
	ck_assert_str_eq(out, "/pci@i0cf8/disk@a\n/pci@i0cf8/disk@2\n/pci@i0cf8/disk@3\n");
}
END_TEST

START_TEST(test_bootorder_ignores_repeats_and_strangers)
{
	const struct boot_config boot = { .order = { 1, 1, 7, 3, 0, 1 }, .nr_order = 6 };
	char out[256];
	size_t n = bootorder(&boot, out, sizeof(out));

	ck_assert_uint_eq(n, strlen(out));
	ck_assert_str_eq(out, "/pci@i0cf8/disk@3\n/pci@i0cf8/disk@2\n/pci@i0cf8/disk@a\n");
}
END_TEST

START_TEST(test_bootorder_buffer_too_small)
{
	const struct boot_config boot = { .order = { 2 }, .nr_order = 1 };
	char out[256];
	size_t len = bootorder(&boot, out, sizeof(out));

	ck_assert_uint_eq(len, 3 * strlen("/pci@i0cf8/disk@a\n"));
	ck_assert_uint_eq(bootorder(&boot, out, len + 1), len);   /* the text and its NUL */
	ck_assert_uint_eq(bootorder(&boot, out, len), 0);
	ck_assert_uint_eq(bootorder(&boot, out, 10), 0);          /* not even the first disk */
	ck_assert_uint_eq(bootorder(&boot, out, 0), 0);
}
END_TEST

static struct bus pio;
static struct fw_cfg *fc;
static struct cmos_rtc *rtc;
static uint8_t ram[64 * KiB];
static struct memmap map;
static struct acpi_board board;
static struct acpi_config acpi;

static void fw_cfg_teardown(void)
{
	fw_cfg_destroy(fc);
	fc = NULL;
	cmos_rtc_destroy(rtc);
	rtc = NULL;
	bus_destroy(&pio);
}

/* fw_cfg at its ports, filled as vm.c fills it for the three disks on ram_size of RAM. */
static void fill(uint64_t ram_size, unsigned nr_cpus, const struct boot_config *boot)
{
	static struct guest_mem mem;
	struct vmm_error err = { 0 };

	memmap_init(&map, ram_size);
	machine_acpi_board(&board, true);
	acpi = (struct acpi_config){ .nr_cpus = nr_cpus, .board = &board };
	mem = (struct guest_mem){ .region = { { 0, sizeof(ram), ram } }, .nr_regions = 1 };
	struct firmware_setup s = { .map = &map, .nr_cpus = nr_cpus, .acpi = &acpi, .boot = boot,
				    .disks = disks, .nr_disks = 3, .console_port = 0x3f8 };
	bus_init(&pio, "pio");
	fc = fw_cfg_create(&mem);
	ck_assert_ptr_nonnull(fc);
	ck_assert_int_eq(bus_register(&pio, FW_CFG_PORT_BASE, FW_CFG_PORT_LEN, &fw_cfg_ops, fc, "fw_cfg"), 0);
	ck_assert_int_eq(firmware_fill_fw_cfg(fc, &s, &err), 0);
}

static void select_key(uint16_t key)
{
	bus_write(&pio, FW_CFG_PORT_BASE, (uint8_t *)&key, 2);
}

static void read_data(void *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bus_read(&pio, FW_CFG_PORT_BASE + 1, (uint8_t *)out + i, 1);
}

static uint16_t item16(uint16_t key)
{
	uint8_t v[2];

	select_key(key);
	read_data(v, 2);
	return (uint16_t)(v[0] | v[1] << 8);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	memcpy(&v, p, n);
	return v;
}

/* A file found in the directory and read through the data port; *size its size. */
static const uint8_t *read_file(const char *name, uint32_t *size)
{
	static uint8_t data[ACPI_TABLES_SIZE];
	uint8_t count[4], entry[64];

	select_key(FW_CFG_FILE_DIR);
	read_data(count, 4);
	for (uint32_t i = 0; i < be32(count); i++) {
		read_data(entry, sizeof(entry));
		ck_assert_ptr_nonnull(memchr(entry + 8, 0, FW_CFG_NAME_MAX));
		if (strcmp((const char *)entry + 8, name))
			continue;
		*size = be32(entry);
		ck_assert_uint_le(*size, sizeof(data));
		select_key((uint16_t)(entry[4] << 8 | entry[5]));
		read_data(data, *size);
		return data;
	}
	ck_abort_msg("no fw_cfg file %s", name);
	return NULL;
}

static void check_e820(const uint8_t *e, uint64_t addr, uint64_t size, uint32_t type)
{
	ck_assert_uint_eq(le(e, 8), addr);
	ck_assert_uint_eq(le(e + 8, 8), size);
	ck_assert_uint_eq(le(e + 16, 4), type);
}

START_TEST(test_fw_cfg_items)
{
	const struct boot_config boot = { .menu = true };

	fill(512 * MiB, 3, &boot);
	ck_assert_uint_eq(item16(FW_CFG_NB_CPUS), 3);
	ck_assert_uint_eq(item16(FW_CFG_MAX_CPUS), 3);
	ck_assert_uint_eq(item16(FW_CFG_BOOT_MENU), 1);
}
END_TEST

START_TEST(test_fw_cfg_boot_menu_off)
{
	const struct boot_config boot = { 0 };

	fill(512 * MiB, 1, &boot);
	ck_assert_uint_eq(item16(FW_CFG_BOOT_MENU), 0);
	ck_assert_uint_eq(item16(FW_CFG_NB_CPUS), 1);
}
END_TEST

START_TEST(test_e820_below_3g)
{
	const struct boot_config boot = { 0 };
	uint32_t size;

	fill(512 * MiB, 1, &boot);
	const uint8_t *e = read_file("etc/e820", &size);
	ck_assert_uint_eq(size, 2 * 20);   /* packed entries */
	check_e820(e, 0, 512 * MiB, E820_RAM);
	check_e820(e + 20, 0xfeffc000, 0x4000, E820_RESERVED);
}
END_TEST

START_TEST(test_e820_above_4g)
{
	const struct boot_config boot = { 0 };
	uint32_t size;

	fill(5 * GiB, 1, &boot);
	const uint8_t *e = read_file("etc/e820", &size);
	ck_assert_uint_eq(size, 3 * 20);
	check_e820(e, 0, 3 * GiB, E820_RAM);
	check_e820(e + 20, 4 * GiB, 2 * GiB, E820_RAM);
	check_e820(e + 40, 0xfeffc000, 0x4000, E820_RESERVED);
}
END_TEST

START_TEST(test_fw_cfg_files)
{
	const struct boot_config boot = { .order = { 2 }, .nr_order = 1 };
	const char *order = "/pci@i0cf8/disk@a\n/pci@i0cf8/disk@2\n/pci@i0cf8/disk@3\n";
	uint32_t size;
	const uint8_t *f;

	fill(512 * MiB, 2, &boot);
	f = read_file("etc/sercon-port", &size);
	ck_assert_uint_eq(size, 2);
	ck_assert_uint_eq(le(f, 2), 0x3f8);
	f = read_file("etc/boot-fail-wait", &size);
	ck_assert_uint_eq(size, 4);
	ck_assert_uint_eq(le(f, 4), 5000);   /* ms: docs/cli.md's "resets after 5 s" */
	f = read_file("bootorder", &size);
	ck_assert_uint_eq(size, strlen(order) + 1);
	ck_assert_str_eq((const char *)f, order);
	f = read_file("etc/table-loader", &size);
	ck_assert_uint_gt(size, 0);
	ck_assert_uint_eq(size % 128, 0);
	ck_assert_uint_eq(le(f, 4), 1);      /* ALLOCATE first */
	f = read_file("etc/acpi/rsdp", &size);
	ck_assert_uint_eq(size, 36);
	ck_assert_mem_eq(f, "RSD PTR ", 8);
	f = read_file("etc/acpi/tables", &size);
	ck_assert_uint_gt(size, 36);
	ck_assert_mem_eq(f, "RSD PTR ", 8);
}
END_TEST

/* The CMOS clock at its ports after firmware_fill_cmos(), as SeaBIOS reads it. */
static void fill_cmos(uint64_t ram_size, unsigned nr_cpus)
{
	memmap_init(&map, ram_size);
	bus_init(&pio, "pio");
	rtc = cmos_rtc_create((struct irq_line){ 0 }, NULL, NULL);
	ck_assert_ptr_nonnull(rtc);
	ck_assert_int_eq(bus_register(&pio, CMOS_RTC_PORT_BASE, CMOS_RTC_PORT_LEN, &cmos_rtc_ops, rtc, "cmos-rtc"), 0);
	firmware_fill_cmos(rtc, &map, nr_cpus);
}

static uint8_t cmos(uint8_t index)
{
	uint8_t v;

	bus_write(&pio, CMOS_RTC_PORT_BASE, &index, 1);
	bus_read(&pio, CMOS_RTC_PORT_BASE + 1, &v, 1);
	return v;
}

static unsigned cmos16(uint8_t index)
{
	return cmos(index) | (unsigned)cmos(index + 1) << 8;
}

START_TEST(test_cmos_8m)
{
	fill_cmos(8 * MiB, 1);
	ck_assert_uint_eq(cmos16(0x30), 7 * 1024);
	ck_assert_uint_eq(cmos16(0x34), 0);                /* nothing above 16 MiB */
}
END_TEST

START_TEST(test_cmos_32m)
{
	fill_cmos(32 * MiB, 1);
	ck_assert_uint_eq(cmos16(0x15), 640);
	ck_assert_uint_eq(cmos16(0x17), 31 * 1024);
	ck_assert_uint_eq(cmos16(0x30), 31 * 1024);
	ck_assert_uint_eq(cmos16(0x34), 16 * 16);          /* above 16 MiB, in 64 KiB */
	ck_assert_uint_eq(cmos(0x5b) | cmos(0x5c) | cmos(0x5d), 0);
	ck_assert_uint_eq(cmos(0x5f), 0);
}
END_TEST

START_TEST(test_cmos_512m)
{
	fill_cmos(512 * MiB, 4);
	ck_assert_uint_eq(cmos16(0x15), 640);
	ck_assert_uint_eq(cmos16(0x17), 0xffff);           /* 511 MiB in KiB does not fit */
	ck_assert_uint_eq(cmos16(0x30), 0xffff);
	ck_assert_uint_eq(cmos16(0x34), (512 - 16) * 16);
	ck_assert_uint_eq(cmos(0x5b) | cmos(0x5c) | cmos(0x5d), 0);
	ck_assert_uint_eq(cmos(0x5f), 3);
}
END_TEST

START_TEST(test_cmos_5g)
{
	fill_cmos(5 * GiB, 2);
	ck_assert_uint_eq(cmos16(0x30), 0xffff);
	ck_assert_uint_eq(cmos16(0x34), (3072 - 16) * 16);  /* RAM below the hole: 3 GiB */
	ck_assert_uint_eq(cmos(0x5b), 0x00);                /* 2 GiB above 4 GiB: 0x8000 * 64 KiB */
	ck_assert_uint_eq(cmos(0x5c), 0x80);
	ck_assert_uint_eq(cmos(0x5d), 0x00);
	ck_assert_uint_eq(cmos(0x5f), 1);
}
END_TEST

START_TEST(test_cmos_above_4g_three_bytes)
{
	fill_cmos(3 * GiB + 0x123450000ull, 1);
	ck_assert_uint_eq(cmos(0x5b), 0x45);
	ck_assert_uint_eq(cmos(0x5c), 0x23);
	ck_assert_uint_eq(cmos(0x5d), 0x01);
}
END_TEST

static char dir[] = "/tmp/vmm-firmware-XXXXXX";
static char paths[16][64];
static unsigned nr_paths;

static void files_setup(void)
{
	strcpy(dir, "/tmp/vmm-firmware-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	nr_paths = 0;
}

static void files_teardown(void)
{
	for (unsigned i = 0; i < nr_paths; i++)
		unlink(paths[i]);
	rmdir(dir);
}

/* A file of size bytes in the test's directory: byte i is (i * 7) ^ (i >> 16) up to fill bytes, then a hole. */
static const char *make_file(const char *name, off_t size, size_t fill)
{
	char *path = paths[nr_paths++];
	uint8_t *bytes = malloc(fill + 1);

	snprintf(path, sizeof(paths[0]), "%s/%s", dir, name);
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	for (size_t i = 0; i < fill; i++)
		bytes[i] = (uint8_t)((i * 7) ^ (i >> 16));
	ck_assert_int_eq(write(fd, bytes, fill), (ssize_t)fill);
	ck_assert_int_eq(ftruncate(fd, size), 0);
	close(fd);
	free(bytes);
	return path;
}

static void expect_refused(const char *path)
{
	struct firmware_image img;
	struct vmm_error err = { 0 };

	ck_assert_msg(firmware_load(path, &img, &err) == -1, "%s loaded", path);
	ck_assert_int_eq(err.status, VMM_EXIT_USAGE);
	ck_assert_msg(strstr(err.msg, path), "message '%s' lacks the path", err.msg);
	ck_assert_ptr_null(img.data);
}

START_TEST(test_load_refusals)
{
	char missing[80];

	snprintf(missing, sizeof(missing), "%s/missing.bin", dir);
	expect_refused(missing);
	expect_refused(dir);
	expect_refused(make_file("empty.bin", 0, 0));
	expect_refused(make_file("odd.bin", 96 * KiB + 512, 0));
	expect_refused(make_file("small.bin", 32 * KiB, 0));
	expect_refused(make_file("huge.bin", 16 * MiB + 64 * KiB, 0));   /* sparse */
}
END_TEST

START_TEST(test_load_image)
{
	const char *path = make_file("bios.bin", 128 * KiB, 128 * KiB);
	struct firmware_image img;
	struct vmm_error err = { 0 };

	ck_assert_int_eq(firmware_load(path, &img, &err), 0);
	ck_assert_uint_eq(img.size, 128 * KiB);
	ck_assert_uint_eq(img.gpa, 4 * GiB - 128 * KiB);   /* it ends at 4 GiB, over the reset vector */
	for (size_t i = 0; i < img.size; i++)
		ck_assert_uint_eq(img.data[i], (uint8_t)((i * 7) ^ (i >> 16)));
	firmware_unload(&img);
	ck_assert_ptr_null(img.data);
}
END_TEST

START_TEST(test_load_size_limits)
{
	struct firmware_image img;
	struct vmm_error err = { 0 };

	ck_assert_int_eq(firmware_load(make_file("64k.bin", 64 * KiB, 0), &img, &err), 0);
	ck_assert_uint_eq(img.gpa, 4 * GiB - 64 * KiB);
	firmware_unload(&img);
	ck_assert_int_eq(firmware_load(make_file("16m.bin", 16 * MiB, 0), &img, &err), 0);
	ck_assert_uint_eq(img.gpa, 4 * GiB - 16 * MiB);
	firmware_unload(&img);
	/* OVMF_CODE_4M.fd's size: whole flash sectors, not whole 64 KiB. */
	ck_assert_int_eq(firmware_load(make_file("ovmf.bin", 0x37c000, 0), &img, &err), 0);
	ck_assert_uint_eq(img.gpa, 4 * GiB - 0x37c000);
	firmware_unload(&img);
}
END_TEST

/* A UEFI image of size bytes: a firmware volume header's signature at offset 40. */
static void load_uefi(struct firmware_image *img, size_t size)
{
	struct vmm_error err = { 0 };
	const char *path = make_file("code.fd", (off_t)size, 0);
	int fd = open(path, O_WRONLY);

	ck_assert_int_eq(pwrite(fd, "_FVH", 4, 40), 4);
	close(fd);
	ck_assert_int_eq(firmware_load(path, img, &err), 0);
}

START_TEST(test_uefi_or_bios)
{
	struct firmware_image img;
	struct vmm_error err = { 0 };

	ck_assert_int_eq(firmware_load(make_file("bios.bin", 128 * KiB, 128 * KiB), &img, &err), 0);
	ck_assert(!firmware_is_uefi(&img));
	ck_assert_uint_eq(firmware_pm_base(&img), 0x600);       /* where SeaBIOS puts the PM registers */
	firmware_unload(&img);
	load_uefi(&img, 256 * KiB);
	ck_assert(firmware_is_uefi(&img));
	ck_assert_uint_eq(firmware_pm_base(&img), 0xb000);      /* OVMF's */
	firmware_unload(&img);
}
END_TEST

static void read_host_file(const char *path, uint8_t *buf, size_t len)
{
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, len), (ssize_t)len);
	close(fd);
}

/* A missing store starts as the template; the guest's writes land in the file, never in the template. */
START_TEST(test_vars_from_template)
{
	struct firmware_image code;
	struct firmware_vars v;
	struct vmm_error err = { 0 };
	static uint8_t want[64 * KiB], got[64 * KiB];
	const char *template_path = make_file("template.fd", 64 * KiB, 64 * KiB);
	char *vars = paths[nr_paths++];

	snprintf(vars, sizeof(paths[0]), "%s/vm.fd", dir);
	load_uefi(&code, 256 * KiB);
	ck_assert_int_eq(firmware_vars_open(vars, template_path, &code, &v, &err), 0);
	ck_assert_uint_eq(v.size, 64 * KiB);
	ck_assert_uint_eq(v.gpa, 4 * GiB - 256 * KiB - 64 * KiB);   /* just below the code */
	read_host_file(template_path, want, sizeof(want));
	ck_assert_mem_eq(v.data, want, sizeof(want));
	v.data[100] = 0x42;
	ck_assert_int_eq(firmware_vars_write(&v, 100, v.data + 100, 1), 0);   /* what the flash does */
	firmware_vars_close(&v);
	read_host_file(vars, got, sizeof(got));
	ck_assert_uint_eq(got[100], 0x42);
	read_host_file(template_path, got, sizeof(got));
	ck_assert_mem_eq(got, want, sizeof(want));
	ck_assert_int_eq(firmware_vars_open(vars, template_path, &code, &v, &err), 0);   /* the next boot */
	ck_assert_uint_eq(v.data[100], 0x42);
	firmware_vars_close(&v);
	ck_assert_int_eq(firmware_vars_open(NULL, template_path, &code, &v, &err), 0);   /* one run only */
	ck_assert_int_eq(v.fd, -1);
	v.data[100] = 0x17;
	ck_assert_int_eq(firmware_vars_write(&v, 100, v.data + 100, 1), 0);   /* goes nowhere */
	firmware_vars_close(&v);
	read_host_file(template_path, got, sizeof(got));
	ck_assert_mem_eq(got, want, sizeof(want));
	firmware_unload(&code);
}
END_TEST

static void expect_vars_refused(const char *path, const char *template_path, const struct firmware_image *code,
				const char *why)
{
	struct firmware_vars v;
	struct vmm_error err = { 0 };

	ck_assert_msg(firmware_vars_open(path, template_path, code, &v, &err) == -1, "%s taken", path);
	ck_assert_int_eq(err.status, VMM_EXIT_USAGE);
	ck_assert_msg(strstr(err.msg, why), "message '%s' lacks '%s'", err.msg, why);
	ck_assert_ptr_null(v.data);
}

START_TEST(test_vars_refusals)
{
	struct firmware_image code;
	struct firmware_vars held;
	struct vmm_error err = { 0 };
	char missing[80];
	const char *template_path = make_file("template.fd", 64 * KiB, 0);
	const char *store = make_file("store.fd", 64 * KiB, 0);

	snprintf(missing, sizeof(missing), "%s/missing.fd", dir);
	load_uefi(&code, 256 * KiB);
	expect_vars_refused(missing, NULL, &code, "No such file");             /* and no template to start it */
	ck_assert_int_ne(access(missing, F_OK), 0);
	expect_vars_refused(dir, template_path, &code, "directory");
	expect_vars_refused(make_file("odd.fd", 64 * KiB + 512, 0), NULL, &code, "not a variable store");
	expect_vars_refused(make_file("big.fd", 16 * MiB - 128 * KiB, 0), NULL, &code, "not a variable store");
	expect_vars_refused(make_file("other.fd", 128 * KiB, 0), template_path, &code, "has 65536");
	ck_assert_int_eq(firmware_vars_open(store, template_path, &code, &held, &err), 0);
	expect_vars_refused(store, template_path, &code, "in use by another vmm");
	firmware_vars_close(&held);
	ck_assert_int_eq(firmware_vars_open(store, template_path, &code, &held, &err), 0);
	firmware_vars_close(&held);
	firmware_unload(&code);
}
END_TEST

/* The image's last 128 KiB are what the CPU runs after reset at 0xE0000-0xFFFFF. */
START_TEST(test_copy_low)
{
	static uint8_t low[1 * MiB];
	const struct guest_mem mem = { .region = { { 0, sizeof(low), low } }, .nr_regions = 1 };
	const struct guest_mem too_small = { .region = { { 0, 512 * KiB, low } }, .nr_regions = 1 };
	struct firmware_image img;
	struct vmm_error err = { 0 };

	ck_assert_int_eq(firmware_load(make_file("256k.bin", 256 * KiB, 256 * KiB), &img, &err), 0);
	memset(low, 0xcc, sizeof(low));
	ck_assert_int_eq(firmware_copy_low(&img, &mem, &err), 0);
	ck_assert_mem_eq(low + 0xe0000, img.data + 128 * KiB, 128 * KiB);
	ck_assert_uint_eq(low[0xdffff], 0xcc);
	ck_assert_int_eq(firmware_copy_low(&img, &too_small, &err), -1);
	ck_assert_int_eq(err.status, VMM_EXIT_RUNTIME);
	firmware_unload(&img);
}
END_TEST

START_TEST(test_firmware_path)
{
	static const char *const installed[] = FIRMWARE_BIOS_PATHS;
	struct vmm_error err = { 0 };
	const char *bios = firmware_path("bios", &err);

	ck_assert_str_eq(firmware_path("/x/y", &err), "/x/y");
	const char *uefi = firmware_path("uefi", &err);
	if (uefi)
		ck_assert_str_eq(uefi, FIRMWARE_UEFI_CODE_PATH);
	else
		ck_assert_ptr_nonnull(strstr(err.msg, "package ovmf"));
	if (bios) {
		ck_assert_msg(!strcmp(bios, installed[0]) || !strcmp(bios, installed[1]), "bios is %s", bios);
		ck_assert_int_eq(access(bios, R_OK), 0);
	} else {
		ck_assert_int_eq(err.status, VMM_EXIT_USAGE);
		ck_assert_ptr_nonnull(strstr(err.msg, "seabios"));
	}
}
END_TEST

Suite *firmware_suite(void)
{
	Suite *s = suite_create("firmware");
	TCase *order = tcase_create("bootorder"), *machine = tcase_create("fw_cfg and CMOS");
	TCase *files = tcase_create("images");

	tcase_add_test(order, test_bootorder_default);
	tcase_add_test(order, test_bootorder_disk_first);
	tcase_add_test(order, test_bootorder_ignores_repeats_and_strangers);
	tcase_add_test(order, test_bootorder_buffer_too_small);
	tcase_add_checked_fixture(machine, NULL, fw_cfg_teardown);
	tcase_add_test(machine, test_fw_cfg_items);
	tcase_add_test(machine, test_fw_cfg_boot_menu_off);
	tcase_add_test(machine, test_e820_below_3g);
	tcase_add_test(machine, test_e820_above_4g);
	tcase_add_test(machine, test_fw_cfg_files);
	tcase_add_test(machine, test_cmos_8m);
	tcase_add_test(machine, test_cmos_32m);
	tcase_add_test(machine, test_cmos_512m);
	tcase_add_test(machine, test_cmos_5g);
	tcase_add_test(machine, test_cmos_above_4g_three_bytes);
	tcase_add_checked_fixture(files, files_setup, files_teardown);
	tcase_add_test(files, test_load_refusals);
	tcase_add_test(files, test_load_image);
	tcase_add_test(files, test_load_size_limits);
	tcase_add_test(files, test_uefi_or_bios);
	tcase_add_test(files, test_vars_from_template);
	tcase_add_test(files, test_vars_refusals);
	tcase_add_test(files, test_copy_low);
	tcase_add_test(files, test_firmware_path);
	suite_add_tcase(s, order);
	suite_add_tcase(s, machine);
	suite_add_tcase(s, files);
	return s;
}
