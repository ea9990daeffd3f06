/*
 * What a PC's firmware finds when vmm is the machine, as QEMU's pc machine
 * gives it (hw/i386/x86.c, hw/i386/fw_cfg.c, hw/i386/pc.c): the image at
 * the top of 4 GiB and its last 128 KiB below 1 MiB, UEFI's variable store
 * below it (hw/i386/pc_sysfw.c: the second pflash unit under the first),
 * the fw_cfg files SeaBIOS and OVMF read (docs/specs/fw_cfg.rst), and the
 * CMOS bytes they fall back on. The ACPI tables are vmm's own, placed by
 * the firmware with QEMU's table loader script (boot/acpi_loader.c).
 */
#include "firmware.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acpi_loader.h"
#include "acpi_pm.h"

#define FIRMWARE_MIN_SIZE (64 * KiB)
#define FIRMWARE_SIZE_UNIT (4 * KiB)     /* QEMU's flash sector */
#define FV_SIGNATURE_OFFSET 40           /* EFI_FIRMWARE_VOLUME_HEADER's "_FVH" (PI spec, vol. 3, 3.2.1) */
/* SeaBIOS reboots this long after finding nothing to boot, and vmm stops then (QEMU default: never). */
#define BOOT_FAIL_WAIT_MS 5000u
#define E820_ENTRY_BYTES 20

const char *firmware_path(const char *spec, struct vmm_error *err)
{
	static const char *const bios[] = FIRMWARE_BIOS_PATHS;

	if (!strcmp(spec, "uefi")) {
		if (access(FIRMWARE_UEFI_CODE_PATH, R_OK) == 0)
			return FIRMWARE_UEFI_CODE_PATH;
		vmm_fail(err, VMM_EXIT_USAGE, "--firmware uefi: OVMF is not installed (%s; Debian package ovmf)",
			 FIRMWARE_UEFI_CODE_PATH);
		return NULL;
	}
	if (strcmp(spec, "bios"))
		return spec;
	for (size_t i = 0; i < sizeof(bios) / sizeof(bios[0]); i++)
		if (access(bios[i], R_OK) == 0)
			return bios[i];
	vmm_fail(err, VMM_EXIT_USAGE, "--firmware bios: SeaBIOS is not installed (%s; Debian package seabios)",
		 bios[0]);
	return NULL;
}

static int read_all(int fd, uint8_t *dst, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = pread(fd, dst + done, len - done, (off_t)done);
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

int firmware_load(const char *path, struct firmware_image *img, struct vmm_error *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	memset(img, 0, sizeof(*img));
	if (fd < 0)
		return vmm_fail(err, VMM_EXIT_USAGE, "--firmware %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)FIRMWARE_MIN_SIZE ||
	    st.st_size > (off_t)FIRMWARE_MAX_SIZE || st.st_size % FIRMWARE_SIZE_UNIT) {
		close(fd);
		return vmm_fail(err, VMM_EXIT_USAGE, "--firmware %s: not a firmware image (a regular file of "
				"64 KiB to 16 MiB, a multiple of 4 KiB)", path);
	}
	size_t size = (size_t)st.st_size;
	uint8_t *data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int r = data == MAP_FAILED ? -errno : read_all(fd, data, size);
	close(fd);
	if (r < 0) {
		if (data != MAP_FAILED)
			munmap(data, size);
		return vmm_fail(err, VMM_EXIT_USAGE, "--firmware %s: %s", path, strerror(-r));
	}
	*img = (struct firmware_image){ data, size, FIRMWARE_END - size };
	return 0;
}

void firmware_unload(struct firmware_image *img)
{
	if (img->data)
		munmap(img->data, img->size);
	memset(img, 0, sizeof(*img));
}

bool firmware_is_uefi(const struct firmware_image *img)
{
	return img->size >= FV_SIGNATURE_OFFSET + 4 && !memcmp(img->data + FV_SIGNATURE_OFFSET, "_FVH", 4);
}

uint16_t firmware_pm_base(const struct firmware_image *img)
{
	return firmware_is_uefi(img) ? FIRMWARE_OVMF_PM_BASE : ACPI_PM_PORT;
}

/* Fills a store vmm has just made (dst, locked) with the template's bytes; -errno on failure. */
static int copy_template(int dst, const char *template_path)
{
	int src = open(template_path, O_RDONLY | O_CLOEXEC);
	uint8_t buf[64 * KiB];
	int r = src < 0 ? -errno : 0;

	for (off_t done = 0; r == 0;) {
		ssize_t n = pread(src, buf, sizeof(buf), done);
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		ssize_t w = pwrite(dst, buf, (size_t)n, done);
		if (w != n)
			r = w < 0 ? -errno : -ENOSPC;
		done += n;
	}
	if (src >= 0)
		close(src);
	return r;
}

/*
 * The VM's store, locked; a missing one is made from the template (when
 * there is one) under the lock, so no other vmm sees it half written.
 */
static int open_vars_file(const char *path, const char *template_path, struct vmm_error *err)
{
	bool made = false;
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0 && errno == ENOENT && template_path) {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		made = fd >= 0;
		if (fd < 0 && errno == EEXIST)
			fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	}
	if (fd < 0)
		return vmm_fail(err, VMM_EXIT_USAGE, "--firmware-vars %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return vmm_fail(err, VMM_EXIT_USAGE, "--firmware-vars %s: in use by another vmm", path);
	}
	int r = made ? copy_template(fd, template_path) : 0;
	if (r < 0) {
		unlink(path);
		close(fd);
		return vmm_fail(err, VMM_EXIT_USAGE, "--firmware-vars %s: cannot make it from the template %s: %s", path,
				template_path, strerror(-r));
	}
	return fd;
}

/* A store's size: whole flash blocks, room below the code, and the template's if there is one. */
static int check_vars_size(const char *what, off_t size, const char *template_path, const struct firmware_image *code,
			   struct vmm_error *err)
{
	struct stat st;

	if (size < (off_t)FIRMWARE_SIZE_UNIT || size % FIRMWARE_SIZE_UNIT || (uint64_t)size > FIRMWARE_MAX_SIZE - code->size)
		return vmm_fail(err, VMM_EXIT_USAGE, "%s: not a variable store (a multiple of 4 KiB, at most %llu KiB "
				"beside the code)", what, (unsigned long long)((FIRMWARE_MAX_SIZE - code->size) / KiB));
	if (template_path && stat(template_path, &st) == 0 && st.st_size != size)
		return vmm_fail(err, VMM_EXIT_USAGE, "%s: %lld bytes, but this firmware's store (%s) has %lld", what,
				(long long)size, template_path, (long long)st.st_size);
	return 0;
}

/* The store's bytes in memory of their own: the flash changes them there and writes them to the file. */
static int read_store(int fd, const char *what, size_t size, struct firmware_vars *v, struct vmm_error *err)
{
	uint8_t *data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (data == MAP_FAILED)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "%s: cannot allocate %zu KiB: %s", what, (size_t)(size / KiB),
				strerror(errno));
	int r = read_all(fd, data, size);
	if (r < 0) {
		munmap(data, size);
		return vmm_fail(err, VMM_EXIT_USAGE, "%s: %s", what, strerror(-r));
	}
	v->data = data;
	v->size = size;
	return 0;
}

int firmware_vars_open(const char *path, const char *template_path, const struct firmware_image *code,
		       struct firmware_vars *v, struct vmm_error *err)
{
	char what[PATH_MAX + 64];
	int fd = path ? open_vars_file(path, template_path, err) : open(template_path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	snprintf(what, sizeof(what), path ? "--firmware-vars %s" : "--firmware uefi: the variable store template %s",
		 path ? path : template_path);
	*v = (struct firmware_vars){ .fd = -1 };
	if (fd < 0)
		return path ? -1 : vmm_fail(err, VMM_EXIT_USAGE, "%s: %s", what, strerror(errno));
	int r = fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ? vmm_fail(err, VMM_EXIT_USAGE, "%s: not a regular file", what)
		: check_vars_size(what, st.st_size, template_path, code, err);
	if (r == 0)
		r = read_store(fd, what, (size_t)st.st_size, v, err);
	if (r < 0 || !path) {
		close(fd);
		fd = -1;
	}
	v->fd = fd;
	v->gpa = code->gpa - v->size;
	return r;
}

int firmware_vars_write(void *ctx, uint64_t offset, const uint8_t *data, size_t len)
{
	const struct firmware_vars *v = ctx;

	if (v->fd < 0)
		return 0;
	return pwrite(v->fd, data, len, (off_t)offset) == (ssize_t)len ? 0 : -1;
}

void firmware_vars_close(struct firmware_vars *v)
{
	/* What the guest programmed is in the page cache (firmware_vars_write()); now on the disk. */
	if (v->fd >= 0 && fdatasync(v->fd) < 0)
		fprintf(stderr, "vmm: the variable store could not be written out: %s\n", strerror(errno));
	if (v->data)
		munmap(v->data, v->size);
	if (v->fd >= 0)
		close(v->fd);
	*v = (struct firmware_vars){ .fd = -1 };
}

int firmware_copy_low(const struct firmware_image *img, const struct guest_mem *mem, struct vmm_error *err)
{
	size_t len = img->size < FIRMWARE_LOW_SIZE ? img->size : FIRMWARE_LOW_SIZE;
	uint8_t *low = guest_mem_ptr(mem, 1 * MiB - len, len);

	if (!low)
		return vmm_fail(err, VMM_EXIT_RUNTIME, "no RAM below 1 MiB for the firmware");
	memcpy(low, img->data + img->size - len, len);
	return 0;
}

/* etc/e820: packed 20-byte entries (hw/i386/e820_memory_layout.h), not the C struct's 24. */
static int add_e820(struct fw_cfg *fc, const struct memmap *map)
{
	struct e820_entry e[E820_MAX_ENTRIES];
	uint8_t bytes[E820_MAX_ENTRIES * E820_ENTRY_BYTES];
	size_t n = memmap_firmware_e820(map, e, E820_MAX_ENTRIES);

	for (size_t i = 0; i < n; i++) {
		memcpy(bytes + i * E820_ENTRY_BYTES, &e[i].addr, 8);
		memcpy(bytes + i * E820_ENTRY_BYTES + 8, &e[i].size, 8);
		memcpy(bytes + i * E820_ENTRY_BYTES + 16, &e[i].type, 4);
	}
	return fw_cfg_add_file(fc, "etc/e820", bytes, (uint32_t)(n * E820_ENTRY_BYTES));
}

static int add_acpi(struct fw_cfg *fc, const struct acpi_config *acpi)
{
	static uint8_t tables[ACPI_TABLES_SIZE];
	static uint8_t script[ACPI_LOADER_MAX_ENTRIES * ACPI_LOADER_ENTRY_SIZE];
	struct acpi_layout layout;
	size_t len = acpi_build_relocatable(tables, sizeof(tables), acpi, &layout);
	size_t script_len = len ? acpi_loader_build(&layout, script, sizeof(script)) : 0;

	if (!script_len)
		return -1;
	if (fw_cfg_add_file(fc, ACPI_LOADER_RSDP_FILE, tables, layout.rsdp.length) < 0 ||
	    fw_cfg_add_file(fc, ACPI_LOADER_TABLES_FILE, tables, (uint32_t)len) < 0)
		return -1;
	return fw_cfg_add_file(fc, "etc/table-loader", script, (uint32_t)script_len);
}

static size_t append_disk(char *out, size_t size, size_t used, const struct firmware_disk *d)
{
	/* SeaBIOS gives a PCI disk the priority of the first line starting with /pci@i0cf8/, a name, @SLOT (src/boot.c). */
	int n = snprintf(out + used, size - used, "/pci@i0cf8/disk@%x\n", d->pci_slot);
	return n < 0 || (size_t)n >= size - used ? 0 : used + (size_t)n;
}

size_t firmware_bootorder(const struct firmware_setup *s, char *out, size_t size)
{
	bool listed[VMM_MAX_DISKS] = { 0 };
	size_t used = 0;

	if (size)
		out[0] = 0;
	for (unsigned i = 0; i < s->boot->nr_order && used < size; i++) {
		unsigned d = s->boot->order[i];
		if (d < s->nr_disks && !listed[d] && (used = append_disk(out, size, used, &s->disks[d])) == 0)
			return 0;
		if (d < s->nr_disks)
			listed[d] = true;
	}
	for (unsigned d = 0; d < s->nr_disks; d++)
		if (!listed[d] && (used = append_disk(out, size, used, &s->disks[d])) == 0)
			return 0;
	return used;
}

static int add_u32_file(struct fw_cfg *fc, const char *name, uint32_t v)
{
	return fw_cfg_add_file(fc, name, &v, sizeof(v));
}

int firmware_fill_fw_cfg(struct fw_cfg *fc, const struct firmware_setup *s, struct vmm_error *err)
{
	char bootorder[VMM_MAX_DISKS * 32 + 1];
	size_t bootorder_len = firmware_bootorder(s, bootorder, sizeof(bootorder));
	uint16_t port = s->console_port;

	if (fw_cfg_add_u16(fc, FW_CFG_NB_CPUS, (uint16_t)s->nr_cpus) < 0 ||
	    fw_cfg_add_u16(fc, FW_CFG_MAX_CPUS, (uint16_t)s->nr_cpus) < 0 ||
	    fw_cfg_add_u16(fc, FW_CFG_BOOT_MENU, s->boot->menu) < 0 || add_e820(fc, s->map) < 0 ||
	    add_acpi(fc, s->acpi) < 0 || fw_cfg_add_file(fc, "etc/sercon-port", &port, sizeof(port)) < 0 ||
	    add_u32_file(fc, "etc/boot-fail-wait", BOOT_FAIL_WAIT_MS) < 0 ||
	    (bootorder_len && fw_cfg_add_file(fc, "bootorder", bootorder, (uint32_t)bootorder_len + 1) < 0))
		return vmm_fail(err, VMM_EXIT_RUNTIME, "cannot fill the firmware's fw_cfg files");
	return 0;
}

static void set_cmos16(struct cmos_rtc *rtc, unsigned index, uint64_t v)
{
	if (v > 0xffff)
		v = 0xffff;
	cmos_rtc_set_nvram(rtc, index, (uint8_t)v);
	cmos_rtc_set_nvram(rtc, index + 1, (uint8_t)(v >> 8));
}

void firmware_fill_cmos(struct cmos_rtc *rtc, const struct memmap *map, unsigned nr_cpus)
{
	uint64_t low = memmap_low_ram_end(map);
	uint64_t high = map->nr_ram > 1 ? map->ram[1].size : 0;

	set_cmos16(rtc, 0x15, LOW_RAM_END / KiB);                       /* base memory, KiB */
	set_cmos16(rtc, 0x17, (low - 1 * MiB) / KiB);                    /* extended memory, KiB */
	set_cmos16(rtc, 0x30, (low - 1 * MiB) / KiB);
	set_cmos16(rtc, 0x34, low > 16 * MiB ? (low - 16 * MiB) / (64 * KiB) : 0);
	cmos_rtc_set_nvram(rtc, 0x5b, (uint8_t)(high >> 16));           /* above 4 GiB, 64 KiB units */
	cmos_rtc_set_nvram(rtc, 0x5c, (uint8_t)(high >> 24));
	cmos_rtc_set_nvram(rtc, 0x5d, (uint8_t)(high >> 32));
	cmos_rtc_set_nvram(rtc, 0x5f, (uint8_t)(nr_cpus - 1));
}
